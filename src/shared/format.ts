/** Numbers as the users read them (es-VE: 1.234.567, 1.633; never 1633). */
export function int(n: number): string {
  return Math.round(n).toLocaleString('es-VE', { useGrouping: 'always' });
}

/** A number with a fixed count of decimals, in Spanish (1.234,5). */
export function decimal(n: number, digits = 1): string {
  return n.toLocaleString('es-VE', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: 'always',
  });
}

/**
 * A count and its noun, agreeing: `count(1, 'petición', 'peticiones')` is "1 petición", `count(1633, ...)`
 * "1.633 peticiones", and 0 takes the plural, as in Spanish.
 */
export function count(n: number, singular: string, plural: string): string {
  return `${int(n)} ${Math.round(n) === 1 ? singular : plural}`;
}

/** A duration: tenths under a minute, whole seconds after (rounded first, so never "1 min 60 s" or "60,0 s"). */
export function seconds(ms: number): string {
  if (Math.round(ms / 100) < 600) return `${decimal(ms / 1000)} s`;
  const total = Math.round(ms / 1000);
  return `${int(Math.floor(total / 60))} min ${total % 60} s`;
}
