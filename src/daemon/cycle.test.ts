import { describe, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { failedRecoveryDays, healNotBefore, healSelection, insideHours, recoveryFailed, staleStores } from './cycle.ts';
import { daemonTicks } from './schedule.ts';

describe('the heal selection', () => {
  const heal = { maxRequestsPerHour: 3, bigAboveStoreDays: 5, bigWindow: '22:00-06:00' };
  const backlog = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('takes the newest store-days up to the budget, one request each', () => {
    expect(healSelection(backlog(5), heal, '2026-01-15 10:30:00')).toEqual({ take: [0, 1, 2], deferred: false });
    expect(healSelection(backlog(2), heal, '2026-01-15 10:30:00')).toEqual({ take: [0, 1], deferred: false });
    expect(healSelection(backlog(2), { ...heal, maxRequestsPerHour: 0 }, '2026-01-15 10:30:00').take).toEqual([]);
  });

  it('takes no more than the budget left this hour', () => {
    expect(healSelection(backlog(5), heal, '2026-01-15 10:30:00', 1).take).toEqual([0]);
    expect(healSelection(backlog(5), heal, '2026-01-15 10:30:00', 0).take).toEqual([]);
    expect(healSelection(backlog(5), heal, '2026-01-15 10:30:00', -2).take).toEqual([]);
  });

  it('leaves a big backlog for its window, across midnight', () => {
    expect(healSelection(backlog(6), heal, '2026-01-15 10:30:00')).toEqual({ take: [], deferred: true });
    expect(healSelection(backlog(6), heal, '2026-01-15 21:59:00').deferred).toBe(true);
    expect(healSelection(backlog(6), heal, '2026-01-15 22:00:00')).toEqual({ take: [0, 1, 2], deferred: false });
    expect(healSelection(backlog(6), heal, '2026-01-16 05:59:00').deferred).toBe(false);
    expect(healSelection(backlog(6), heal, '2026-01-16 06:00:00').deferred).toBe(true);
  });

  it('reads hour ranges as the config does', () => {
    expect(insideHours('06:00-23:00', '06:00')).toBe(true);
    expect(insideHours('06:00-23:00', '23:00')).toBe(false);
    expect(insideHours('06:00-23:00', '05:59')).toBe(false);
    expect(insideHours('00:00-00:00', '12:00')).toBe(true);
  });
});

describe('when a store-day is worth a request', () => {
  it('at once, unless it waits for the second empty answer that alone can prove it', () => {
    expect(healNotBefore({ unprovenEmpty: null })).toBe(0);
    expect(
      healNotBefore({
        unprovenEmpty: {
          reason: 'no-proof',
          since: '2026-01-13T12:00:00.000Z',
          confirmFrom: null,
          confirmFromLocal: null,
        },
      }),
    ).toBe(0);
    const waiting = {
      reason: 'needs-second-answer' as const,
      since: '2026-01-13T12:00:00.000Z',
      confirmFrom: '2026-01-13T18:00:00.000Z',
      confirmFromLocal: '2026-01-13 14:00',
    };
    expect(healNotBefore({ unprovenEmpty: waiting })).toBe(Date.parse('2026-01-13T18:00:00.000Z'));
  });
});

// Two stores in Caracas (UTC-4), one in Bogotá (UTC-5); syncs every 60 min from 06:00 to 23:00, recovery at 03:00.
const STORES = [...DEFAULT_STORES.slice(0, 2), { ...DEFAULT_STORES[2]!, id: 'tienda_bog', timeZone: 'America/Bogota' }];
const config = parseConfig({ stores: STORES });
const ticks = daemonTicks(config.daemon, STORES);
const caracas = (local: string) => new Date(`${local}-04:00`);
const [A, B, BOG] = STORES.map((s) => s.id) as [string, string, string];

describe('stale stores', () => {
  it('goes by each store’s own last success: one failing goes stale alone, since its last success', () => {
    const now = caracas('2026-01-15T12:10:00');
    const syncs = [
      { store: A, lastSuccessAt: caracas('2026-01-15T12:00:00') },
      { store: B, lastSuccessAt: caracas('2026-01-15T09:00:00') },
      { store: BOG, lastSuccessAt: caracas('2026-01-15T12:00:00') },
    ];
    expect(staleStores(ticks, syncs, config, now)).toEqual([{ store: B, since: caracas('2026-01-15T09:00:00') }]);
  });

  it('counts from the start of its hours, never the night before, and says nothing outside its hours', () => {
    const yesterday = caracas('2026-01-14T22:00:00');
    const syncs = [
      { store: A, lastSuccessAt: yesterday },
      { store: B, lastSuccessAt: null },
    ];
    // Caracas opens at 06:00, Bogotá at 06:00 its time (07:00 in Caracas): a store never synced is stale from there.
    expect(staleStores(ticks, syncs, config, caracas('2026-01-15T07:30:00'))).toEqual([
      { store: A, since: caracas('2026-01-15T06:00:00') },
      { store: B, since: caracas('2026-01-15T06:00:00') },
      { store: BOG, since: caracas('2026-01-15T07:00:00') },
    ]);
    expect(staleStores(ticks, syncs, config, caracas('2026-01-15T05:30:00'))).toEqual([]);
  });

  it('leaves out a store not open yet or closed for good: nothing syncs it, so it is never stale', () => {
    const lives = parseConfig({
      stores: [{ ...STORES[0]!, closedOn: '2026-01-10' }, { ...STORES[1]!, openedOn: '2026-01-20' }, STORES[2]!],
    });
    const syncs = [
      { store: A, lastSuccessAt: caracas('2026-01-10T22:00:00') },
      { store: B, lastSuccessAt: null },
      { store: BOG, lastSuccessAt: caracas('2026-01-15T12:00:00') },
    ];
    expect(staleStores(ticks, syncs, lives, caracas('2026-01-15T12:10:00'))).toEqual([]);
    // On its opening day the new store counts like any other.
    expect(staleStores(ticks, syncs, lives, caracas('2026-01-20T09:10:00')).map((s) => s.store)).toEqual([B, BOG]);
  });
});

describe('the nightly recovery that failed or did not run', () => {
  const recovery = (
    lastDueAt: Date,
    status: 'running' | 'success' | 'failed',
    error: string | null = null,
    name = 'recovery@America/Caracas',
  ) => ({
    name,
    lastDueAt,
    status,
    error,
  });
  const bogota = recovery(new Date('2026-01-15T08:00:00Z'), 'success', null, 'recovery@America/Bogota');

  it('did not run: its due time passed more than one sync interval ago and nothing claimed it', () => {
    const lastNight = recovery(caracas('2026-01-14T03:00:00'), 'success');
    const records = [lastNight, bogota] as const;
    // 03:00 due; within the interval it may still be about to run.
    expect(recoveryFailed(ticks, records, config, caracas('2026-01-15T03:59:00'))).toBeNull();
    expect(recoveryFailed(ticks, records, config, caracas('2026-01-15T04:01:00'))).toEqual({
      day: '2026-01-14',
      ran: false,
      stores: [A, B],
      error: null,
    });
    // Never any record at all: the same.
    expect(recoveryFailed(ticks, [bogota], config, caracas('2026-01-15T10:00:00'))).toMatchObject({ ran: false });
    // Claimed (running, or done): it ran.
    const claimed = recovery(caracas('2026-01-15T03:00:00'), 'running');
    expect(recoveryFailed(ticks, [claimed, bogota], config, caracas('2026-01-15T10:00:00'))).toBeNull();
    const done = recovery(caracas('2026-01-15T03:00:00'), 'success');
    expect(recoveryFailed(ticks, [done, bogota], config, caracas('2026-01-15T10:00:00'))).toBeNull();
  });

  it('ran and failed: its night and error, until the next due time goes unclaimed or succeeds', () => {
    const failed = recovery(caracas('2026-01-15T03:00:00'), 'failed', 'KLK: HTTP 503');
    expect(recoveryFailed(ticks, [failed, bogota], config, caracas('2026-01-15T10:00:00'))).toEqual({
      day: '2026-01-14',
      ran: true,
      stores: [A, B],
      error: 'KLK: HTTP 503',
    });
    expect(recoveryFailed(ticks, [failed, bogota], config, caracas('2026-01-16T03:30:00'))).toMatchObject({
      day: '2026-01-14',
      ran: true,
    });
    expect(recoveryFailed(ticks, [failed, bogota], config, caracas('2026-01-16T04:30:00'))).toMatchObject({
      day: '2026-01-15',
      ran: false,
    });
  });

  it("a failed run's night, for each store of its zone, is the heal's to check", () => {
    const failed = recovery(caracas('2026-01-15T03:00:00'), 'failed', 'KLK: HTTP 503');
    expect([...failedRecoveryDays(ticks, [failed, bogota], config)].sort()).toEqual([
      `${A} 2026-01-14`,
      `${B} 2026-01-14`,
    ]);
    const done = recovery(caracas('2026-01-15T03:00:00'), 'success');
    expect(failedRecoveryDays(ticks, [done, bogota], config).size).toBe(0);
    expect(failedRecoveryDays(ticks, [bogota], config).size).toBe(0);
  });
});
