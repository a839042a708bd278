import { describe, expect, it } from 'vitest';
import { ByteWriter } from './bytes.ts';

describe('ByteWriter', () => {
  it('writes fixed-point integers as the same JSON numbers String() gives', () => {
    const w = new ByteWriter(1 << 16);
    const samples = [0, 1, 5, 10, 99, 100, 101, 1230, 10_000, 12_345_678, 987_654_321_012, -1, -50, -10_000, -123_456];
    for (let i = 0; i < 2000; i++) samples.push(Math.round((Math.random() - 0.3) * 10 ** (1 + (i % 12))));
    for (const [decimals, scale] of [
      [2, 100],
      [3, 1000],
      [4, 10_000],
    ] as const) {
      for (const v of samples) {
        w.fixed(v, decimals, scale);
        expect(w.take().toString(), `${v} / ${scale}`).toBe(String(v / scale));
      }
    }
  });

  it('writes integers, fixed-width digits and fragments, and hands chunks over', () => {
    const w = new ByteWriter(1 << 14);
    w.uint(0);
    w.byte(44);
    w.uint(1_234_567);
    w.byte(44);
    w.digits(42, 7);
    w.bytes(Buffer.from(',"MAÑONGO"'));
    expect(w.take().toString('utf8')).toBe('0,1234567,0000042,"MAÑONGO"');
    expect(w.pos).toBe(0);
    expect(w.full).toBe(false);
    w.pos = w.buf.length - 100;
    expect(w.full).toBe(true);
  });
});
