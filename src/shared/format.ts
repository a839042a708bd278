/** Numbers as the users read them (es-VE: 1.234.567). */
export function int(n: number): string {
  return Math.round(n).toLocaleString('es-VE');
}

export function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
