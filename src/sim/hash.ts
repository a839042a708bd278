/**
 * Stateless integer hashing (murmur3 mixing): every value of the simulated world is a hash of its coordinates, so any
 * store-day, invoice or line can be produced alone, in any order, with the same result.
 */

/** murmur3's finaliser: spreads every input bit over the 32 output bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds one more integer into a hash (murmur3's block step, then the finaliser). */
export function combine(h: number, value: number): number {
  let k = Math.imul(value | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let x = h ^ k;
  x = (x << 13) | (x >>> 19);
  x = (Math.imul(x, 5) + 0xe6546b64) | 0;
  return fmix32(x);
}

/** A string as a 32-bit hash (FNV-1a, then mixed). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** An independent uniform number in [0, 1) drawn from a hash; `salt` picks which one. */
export function unit(h: number, salt: number): number {
  return combine(h, salt) / 4294967296;
}
