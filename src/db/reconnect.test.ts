import { describe, expect, it, vi } from 'vitest';
import { UnreachableError, UsageError } from '../shared/errors.ts';
import { backoffDelay, DatabaseWatch } from './reconnect.ts';

const lost = (detail = 'PostgreSQL en h:5432/db: conexión rechazada') =>
  new UnreachableError(`${detail}. Revise DATABASE_URL`, 'database', { detail });

/** A database that refuses `downFor` pings and then answers; counts every ping. */
function flakyDb(downFor: number) {
  let pings = 0;
  return {
    pings: () => pings,
    query: vi.fn(async () => {
      pings++;
      if (pings <= downFor) throw lost();
      return { rows: [], rowCount: 1 };
    }),
  };
}

const fast = { firstDelayMs: 1, maxDelayMs: 4 };

describe('backoffDelay', () => {
  it('doubles from the first pause up to the cap, each jittered between half and all of it', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(30_000, 1_000 * 2 ** attempt);
      for (let i = 0; i < 20; i++) {
        const d = backoffDelay(attempt, 1_000, 30_000);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    // Jittered: workers that lost the database together do not all look again at the same instant.
    expect(new Set(Array.from({ length: 20 }, () => backoffDelay(3, 1_000, 30_000))).size).toBeGreaterThan(1);
  });
});

describe('DatabaseWatch', () => {
  it('one outage is waited for once by every task that sees it: told once when lost and once when back', async () => {
    const db = flakyDb(3);
    const onLost = vi.fn();
    const onBack = vi.fn();
    const watch = new DatabaseWatch(db, { patienceMs: 5_000, ...fast, onLost, onBack });
    const answers = await Promise.all([watch.back(lost()), watch.back(lost()), watch.back(lost())]);
    expect(answers).toEqual([true, true, true]);
    expect(db.pings()).toBe(4);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(onBack).toHaveBeenCalledTimes(1);
    expect(watch.lost).toBeNull();
  });

  it('retry runs the work again once the database answers; an error about the work itself is not waited for', async () => {
    const watch = new DatabaseWatch(flakyDb(1), { patienceMs: 5_000, ...fast });
    let calls = 0;
    const value = await watch.retry(async () => {
      if (++calls === 1) throw lost();
      return 'cargado';
    });
    expect({ value, calls }).toEqual({ value: 'cargado', calls: 2 });
    const bad = new UsageError('consulta mala');
    await expect(watch.retry(() => Promise.reject(bad))).rejects.toBe(bad);
  });

  it('gives up once its patience is spent, says for how long, and then gives up at once for the rest of the run', async () => {
    const db = flakyDb(Infinity);
    // Pauses of 1 to 4 ms in a patience of 300 ms: many looks, even on a busy machine (30 ms once allowed only one).
    const watch = new DatabaseWatch(db, { patienceMs: 300, ...fast });
    expect(await watch.back(lost())).toBe(false);
    expect(watch.lost).toBeInstanceOf(UnreachableError);
    expect(watch.lost!.detail).toMatch(
      /^PostgreSQL en h:5432\/db: conexión rechazada; sin respuesta durante \d+(,\d)? s$/,
    );
    const pings = db.pings();
    expect(pings).toBeGreaterThan(1);
    await expect(watch.retry(() => Promise.reject(lost()))).rejects.toBe(watch.lost);
    expect(db.pings()).toBe(pings);
  });

  it('a server that never answers is still lost: the wait gives up at its patience with the last thing the database said', async () => {
    const silent = { query: vi.fn(() => new Promise<never>(() => undefined)) };
    const watch = new DatabaseWatch(silent, { patienceMs: 40, firstDelayMs: 5, maxDelayMs: 10 });
    expect(await watch.back(lost('PostgreSQL en h:5432/db: conexión perdida (read ECONNRESET)'))).toBe(false);
    expect(silent.query).toHaveBeenCalled();
    expect(watch.lost!.detail).toMatch(
      /^PostgreSQL en h:5432\/db: conexión perdida \(read ECONNRESET\); sin respuesta durante /,
    );
  });

  it("a caller's abort ends its own wait; the watch's signal ends every wait", async () => {
    const stop = new AbortController();
    const caller = new AbortController();
    const watch = new DatabaseWatch(flakyDb(Infinity), { patienceMs: Infinity, ...fast, signal: stop.signal });
    const mine = watch.back(lost(), caller.signal);
    const theirs = watch.back(lost());
    caller.abort();
    expect(await mine).toBe(false);
    stop.abort();
    expect(await theirs).toBe(false);
    expect(await watch.back(lost())).toBe(false);
  });
});
