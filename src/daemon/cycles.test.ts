import { beforeEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { fakeKlk } from '../../test/support/fake-klk.ts';
import { deadPort } from '../../test/support/klk.ts';
import { parseConfig } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { listIncidents } from '../incidents/store.ts';
import { createKlkClient, KlkError, type KlkClient, type KlkRequest } from '../klk/index.ts';
import { now as clockNow } from '../shared/clock.ts';
import { silentLogger } from '../shared/logger.ts';
import { probeRoutes, staleCycleReason } from '../web/routes/daemon.ts';
import { runCycle, type CycleSummary } from './cycle.ts';
import { healRequestsInHour, lastCycle, recordCycle } from './cycles.ts';
import type { Leader } from './leader.ts';
import { loopProviders } from './loop.ts';
import { createDaemonMetrics, type DaemonMetrics } from './metrics.ts';
import { readStoreSyncs, recordStoreSyncs } from './store-syncs.ts';

/**
 * The daemon's shared record: what each cycle did and each store's own sync, in the database, so every daemon
 * process tells the same truth, the heal budget holds per rolling hour whoever leads, and a store goes stale alone.
 */

const STORES = DEFAULT_STORES.slice(0, 2);
const [A, B] = STORES as [(typeof STORES)[number], (typeof STORES)[number]];
const caracas = (local: string) => new Date(`${local}-04:00`);
const minutes = (n: number) => n * 60_000;

/** KLK answering every request with no lines (a day stays missing), or failing the stores `fails` says. */
const answering = (fails: (request: KlkRequest) => KlkError | null = () => null) =>
  fakeKlk((request) => {
    const error = fails(request);
    if (error) throw error;
    return { lines: [] };
  });

const leader = (isLeader: boolean) => ({ isLeader }) as unknown as Leader;

describeEachBackend('the daemon’s shared record', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  /** One cycle at `at` (a stopped clock), KLK's clients per purpose from `klk`. */
  const cycleAt = (
    config: ReturnType<typeof parseConfig>,
    at: Date,
    klk: (purpose: 'sync' | 'recovery' | 'heal') => KlkClient,
    metrics?: DaemonMetrics,
  ): Promise<CycleSummary> =>
    runCycle({ db, config, openKlk: klk, now: () => at, logger: silentLogger, command: 'prueba', metrics });

  it('keeps two days of cycles, tells the last one that ended well and the heal requests of the rolling hour', async () => {
    const cycle = (endedAt: Date, healRequests: number, error: string | null = null) =>
      recordCycle(db, {
        owner: 'p1',
        startedAt: new Date(endedAt.getTime() - minutes(2)),
        endedAt,
        healRequests,
        backlog: error ? null : 7,
        storeDays: error ? null : { complete: 3, missing: 7 },
        error,
      });
    await cycle(caracas('2026-01-12T10:00:00'), 9);
    await cycle(caracas('2026-01-15T09:00:00'), 4);
    await cycle(caracas('2026-01-15T09:40:00'), 5);
    await cycle(caracas('2026-01-15T10:00:00'), 3, 'la base de datos no responde');
    expect(await lastCycle(db)).toEqual({
      owner: 'p1',
      startedAt: caracas('2026-01-15T09:38:00'),
      endedAt: caracas('2026-01-15T09:40:00'),
      healRequests: 5,
      backlog: 7,
      storeDays: { complete: 3, missing: 7 },
      error: null,
    });
    // A failed cycle's requests count as well; one that ended exactly an hour before no longer does.
    expect(await healRequestsInHour(db, caracas('2026-01-15T10:00:00'))).toBe(8);
    expect(await healRequestsInHour(db, caracas('2026-01-15T10:39:00'))).toBe(8);
    expect(await healRequestsInHour(db, caracas('2026-01-15T10:40:00'))).toBe(3);
    // The one from three days before was deleted by the later records.
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM daemon_cycles');
    expect(rows[0]!.n).toBe(3);
  });

  it('keeps each store’s last success, and since when and why it fails', async () => {
    const at = (local: string) => ({ startedAt: caracas(local), at: caracas(local.replace(':00:', ':01:')) });
    await recordStoreSyncs(
      db,
      [
        { store: A.id, ok: true },
        { store: B.id, ok: true },
      ],
      at('2026-01-15T09:00:00'),
    );
    await recordStoreSyncs(
      db,
      [
        { store: A.id, ok: true },
        { store: B.id, ok: false, error: 'HTTP 500' },
      ],
      at('2026-01-15T10:00:00'),
    );
    await recordStoreSyncs(db, [{ store: B.id, ok: false, error: 'HTTP 503' }], at('2026-01-15T11:00:00'));
    expect(await readStoreSyncs(db)).toEqual([
      { store: A.id, lastSuccessAt: caracas('2026-01-15T10:01:00'), failingSince: null, error: null },
      {
        store: B.id,
        lastSuccessAt: caracas('2026-01-15T09:01:00'),
        failingSince: caracas('2026-01-15T10:00:00'),
        error: 'HTTP 503',
      },
    ]);
    await recordStoreSyncs(db, [{ store: B.id, ok: true }], at('2026-01-15T12:00:00'));
    expect((await readStoreSyncs(db))[1]).toEqual({
      store: B.id,
      lastSuccessAt: caracas('2026-01-15T12:01:00'),
      failingSince: null,
      error: null,
    });
  });

  it('a cycle every 20 minutes: the heal sends no more than maxRequestsPerHour in any rolling hour, retries included', async () => {
    // KLK refuses the heal's requests, which the client would try 4 times each: 2 stores x 2 days of backlog and a
    // budget of 7 leave 3 attempts for retries in the first cycle, and none for the next two.
    const config = parseConfig({
      stores: STORES,
      klk: { attempts: 4 },
      heal: { lookbackDays: 2, maxRequestsPerHour: 7, maxAttempts: 100 },
    });
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const healClients: KlkClient[] = [];
    const klk = (purpose: 'sync' | 'recovery' | 'heal') => {
      if (purpose !== 'heal') return answering();
      const client = createKlkClient({ baseUrl: dead, attempts: 4, backoffMs: 1, maxBackoffMs: 2 });
      healClients.push(client);
      return client;
    };
    let current = caracas('2026-01-15T10:00:00');
    const providers = loopProviders(
      { db, config, leader: leader(true), now: () => current },
      { last: null },
      createDaemonMetrics({ processMetrics: false }),
    );
    const cycles: Array<{ at: Date; sent: number; recorded: number; budget: number }> = [];
    for (let i = 0; i < 7; i++) {
      current = new Date(caracas('2026-01-15T10:00:00').getTime() + minutes(20 * i));
      const clients = healClients.length;
      const summary = await cycleAt(config, current, klk);
      const sent = healClients.slice(clients).reduce((n, c) => n + c.stats().requests, 0);
      cycles.push({ at: current, sent, recorded: summary.heal.requests, budget: summary.heal.budget });
      const status = await providers.status.status();
      expect(status.budget.usedThisHour).toBe(
        cycles.filter((c) => c.at.getTime() > current.getTime() - minutes(60)).reduce((n, c) => n + c.sent, 0),
      );
    }
    // What the heal sent is what it recorded; the budget is spent at 10:00 and again an hour later.
    expect(cycles.map((c) => c.sent)).toEqual([7, 0, 0, 7, 0, 0, 7]);
    expect(cycles.map((c) => c.recorded)).toEqual(cycles.map((c) => c.sent));
    expect(cycles.map((c) => c.budget)).toEqual([7, 0, 0, 7, 0, 0, 7]);
    // Any three cycles in a row lie within one hour: together within the budget.
    for (let i = 0; i + 3 <= cycles.length; i++)
      expect(cycles.slice(i, i + 3).reduce((n, c) => n + c.sent, 0)).toBeLessThanOrEqual(7);
    const status = await providers.status.status();
    expect(status.budget).toEqual({ maxRequestsPerHour: 7, usedThisHour: 7, left: 0 });
    expect(status.backlog).toBe(4);
  });

  it('a store whose own sync fails goes stale alone; KLK down for all opens no store_stale', async () => {
    const config = parseConfig({ stores: STORES, heal: { lookbackDays: 1, maxRequestsPerHour: 0 } });
    // B's requests fail (KLK answers 500 for it), A's succeed: only B goes stale, after 150 min inside its hours.
    // (the nightly recovery answers for both: only the sync tells here)
    const bFails = (purpose: 'sync' | 'recovery' | 'heal') =>
      answering((r) =>
        purpose === 'sync' && r.sucursal === B.sucursal && r.almacen === B.almacen
          ? new KlkError('http', 'HTTP 500', 1, 500)
          : null,
      );
    const metrics = createDaemonMetrics({ processMetrics: false });
    for (const local of ['06:00', '07:00', '08:00', '09:00']) {
      const summary = await cycleAt(config, caracas(`2026-01-15T${local}:00`), bFails, metrics);
      expect([local, summary.incidents.open]).toEqual([local, local === '09:00' ? 1 : 0]);
    }
    // The metric of each store's last successful sync: A's, none for B.
    const gauge = await metrics.registry.getSingleMetric('ventas_last_sync_success_timestamp_seconds')!.get();
    expect(gauge.values.map((v) => [v.labels.store, v.value])).toEqual([
      [A.id, caracas('2026-01-15T09:00:00').getTime() / 1000],
    ]);
    const incidents = await listIncidents(db);
    expect(incidents.map((i) => [i.kind, i.store, i.details])).toEqual([
      ['store_stale', B.id, { since: caracas('2026-01-15T06:00:00').toISOString() }],
    ]);
    const syncs = await readStoreSyncs(db);
    expect(syncs.map((s) => [s.store, s.lastSuccessAt, s.failingSince])).toEqual([
      [A.id, caracas('2026-01-15T09:00:00'), null],
      [B.id, null, caracas('2026-01-15T06:00:00')],
    ]);
    expect(syncs[1]!.error).toContain('HTTP 500');
    // B syncs again at 10:00: resolved.
    expect((await cycleAt(config, caracas('2026-01-15T10:00:00'), () => answering())).incidents).toMatchObject({
      resolved: 1,
      open: 0,
    });

    // The next day KLK answers no store at all from 06:00: one cause, one alert, however long it lasts.
    const down = () => answering(() => new KlkError('network', 'no se pudo conectar con KLK', 1));
    for (const local of ['06:00', '07:00', '08:00', '09:00', '10:00'])
      await cycleAt(config, caracas(`2026-01-16T${local}:00`), down);
    const open = (await listIncidents(db)).filter((i) => i.resolvedAt === null);
    // (the night's recovery failed too, for the same KLK: that incident is the recovery's, not a store's)
    expect(open.map((i) => [i.kind, i.store])).toEqual([
      ['recovery_failed', null],
      ['klk_unreachable', null],
    ]);
  });

  it('a standby reports the leader’s last cycle, backlog and budget, and is ready while the leader cycles', async () => {
    const config = parseConfig({ stores: STORES, heal: { lookbackDays: 1, maxRequestsPerHour: 5 } });
    // The web's readiness reads the ventas clock: the leader cycles on it too.
    const summary = await runCycle({
      db,
      config,
      openKlk: () => answering(),
      now: clockNow,
      logger: silentLogger,
      command: 'prueba',
    });
    const metrics = createDaemonMetrics({ processMetrics: false });
    const leading = loopProviders({ db, config, leader: leader(true), now: clockNow }, { last: summary }, metrics);
    const standby = loopProviders({ db, config, leader: leader(false), now: clockNow }, { last: null }, metrics);
    const [l, s] = [await leading.status.status(), await standby.status.status()];
    expect([l.isLeader, s.isLeader]).toEqual([true, false]);
    expect(s.lastCycleEndedAt).toBe(summary.endedAt.toISOString());
    expect(s.backlog).toBe(summary.heal.backlogAfter);
    expect(s.budget).toEqual({
      maxRequestsPerHour: 5,
      usedThisHour: summary.heal.requests,
      left: 5 - summary.heal.requests,
    });
    expect({ ...s, isLeader: true }).toEqual(l);
    const ready = await probeRoutes(db, standby).request('/readyz');
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);

    // Two intervals later without another cycle it would not be: readiness follows the shared record.
    const later = new Date(clockNow().getTime() + minutes(2 * 60 + 1));
    expect(staleCycleReason(s, later)).toMatch(/^el último ciclo del daemon terminó hace .*dos intervalos/);
  });
});
