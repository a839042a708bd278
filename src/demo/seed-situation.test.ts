import { describe, expect, it } from 'vitest';
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES } from '../catalogue/stores.ts';
import { eachDay } from '../shared/dates.ts';
import { seedSituation } from './seed-situation.ts';

describe('the seed situation', () => {
  const situation = seedSituation(DEFAULT_STORES, DEFAULT_CLOSED_DAYS);
  const of = (id: string) => situation.find((s) => s.storeId === id)!;

  it('reproduces the missing days of the seed table, the common gap for all but FLOR AMARILLO on its one day', () => {
    expect(of('tienda_11').present).toEqual(['2026-01-25']);
    expect(of('tienda_11').missing).toHaveLength(87);
    expect(of('tienda_07').missing).toHaveLength(55);
    expect(of('tienda_01').missing).toHaveLength(18);
    for (const s of situation) {
      for (const d of eachDay('2026-01-10', '2026-01-24')) expect(s.missing).toContain(d);
    }
  });

  it('never has PARAISO before it opened nor any store on 25-Dec or 1-Jan', () => {
    const paraiso = of('tienda_18');
    const all = [...paraiso.present, ...paraiso.missing, ...paraiso.partial];
    expect(all.every((d) => d >= '2025-12-06')).toBe(true);
    for (const s of situation) {
      expect([...s.present, ...s.missing, ...s.partial]).not.toContain('2025-12-25');
      expect([...s.present, ...s.missing, ...s.partial]).not.toContain('2026-01-01');
    }
  });

  it('is the same every time and partitions each store’s expected days', () => {
    expect(seedSituation(DEFAULT_STORES, DEFAULT_CLOSED_DAYS)).toEqual(situation);
    for (const s of situation) {
      const all = [...s.present, ...s.missing, ...s.partial];
      expect(new Set(all).size).toBe(all.length);
    }
    expect(situation.reduce((n, s) => n + s.partial.length, 0)).toBe(5);
  });
});
