/** Numbers as the users read them (es-VE: 1.234.567). */
export function int(n: number): string {
  return Math.round(n).toLocaleString('es-VE');
}

/** A duration: tenths under a minute, whole seconds after (rounded first, so never "1 min 60 s" or "60.0 s"). */
export function seconds(ms: number): string {
  if (Math.round(ms / 100) < 600) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  return `${Math.floor(total / 60)} min ${total % 60} s`;
}

/** A count with its noun in the right number: "1 bloque", "2 bloques". */
export function count(n: number, one: string, many: string): string {
  return `${int(n)} ${n === 1 ? one : many}`;
}
