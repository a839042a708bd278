/**
 * The daemon's cycle over simulated days against the simulator: each scenario steps the ventas clock (the cycle's
 * `now` and the simulator's, one instant) as the long-running loop would, breaks something on the way, and then
 * checks what spec section 11 promises: every store-day up to yesterday equals the simulator's truth, each incident
 * opened once and resolved once with its reminders on schedule (told on a webhook whose signature the receiver
 * checks), no more requests in flight than the per-KLK limit, and the heal's budget held over every rolling hour.
 */
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseConfig, type Config } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { listIncidents, type Incident } from '../incidents/store.ts';
import type { KlkClient } from '../klk/index.ts';
import { openKlk } from '../klk/open.ts';
import { localDateTime } from '../shared/dates.ts';
import { silentLogger } from '../shared/logger.ts';
import { secondWarehouse, startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { deadPort } from '../../test/support/klk.ts';
import { httpSink, type HttpSink } from '../../test/support/sinks.ts';
import { expectTableEqualsKlk, tableDays, truth, type DayFigures } from '../../test/support/truth.ts';
import { runCycle, type CycleSummary } from './cycle.ts';
import { waitMs } from './loop.ts';
import { daemonTicks, nextDue } from './schedule.ts';
import { readTicks } from './ticks.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
const SECRET = 'el-secreto-del-receptor-de-pruebas';
const HOUR = 60 * 60_000;
/** Caracas has no daylight saving: local wall time is UTC-4 all year. */
const at = (local: string) => new Date(`${local}:00-04:00`);
const localOf = (t: Date) => localDateTime('America/Caracas', t).slice(0, 16);

interface Alert {
  event: string;
  kind: string;
  store: string | null;
  sentAt: string;
}

/** One simulated daemon: a database, the simulator, a webhook receiver, and the cycles run so far. */
class Scenario {
  readonly cycles: Array<{ at: Date; summary: CycleSummary }> = [];
  /** Where the cycle's KLK clients point: the simulator, or a dead port while KLK is down. */
  klkUrl: string;
  /** A store whose requests find KLK unreachable at an instant (an outage that starts halfway through a sync). */
  unreachableFor: (sucursal: string, now: Date) => boolean = () => false;
  /** A request the simulator should answer wrong (all lines of another warehouse), for a store and instant. */
  wrongWarehouse: (sucursal: string, now: Date) => boolean = () => false;
  readonly config: Config;

  private constructor(
    readonly db: Db,
    readonly sim: RunningSimulator,
    readonly sink: HttpSink,
    readonly dead: string,
    config: Record<string, unknown>,
  ) {
    this.klkUrl = sim.url;
    this.config = parseConfig({
      stores: STORES,
      concurrency: 2,
      klk: { attempts: 1 },
      ...config,
      heal: { lookbackDays: 5, maxRequestsPerHour: 4, ...(config.heal as object) },
      alerts: {
        repeatMinutes: 120,
        ...(config.alerts as object),
        webhook: { url: `${sink.url}/hook`, secret: SECRET },
      },
    });
  }

  static async start(db: Db, options: { seed: number; scale?: number; config?: Record<string, unknown> }) {
    const sim = await startSimulator({ seed: options.seed, scale: options.scale ?? 0.003 });
    const sink = await httpSink();
    const dead = `http://127.0.0.1:${await deadPort()}`;
    return new Scenario(db, sim, sink, dead, options.config ?? {});
  }

  async close(): Promise<void> {
    await this.sink.close();
    await this.sim.close();
  }

  /** Down: KLK refuses connections (what the daemon reads as unreachable); up: the simulator answers. */
  klk(up: boolean): void {
    this.klkUrl = up ? this.sim.url : this.dead;
  }

  private client(now: Date): KlkClient {
    const open = (baseUrl: string) =>
      openKlk(this.config, { baseUrl, concurrency: this.config.concurrency, logger: silentLogger });
    const klk = open(this.klkUrl);
    const down = open(this.dead);
    return {
      stats: () => klk.stats(),
      fetchVentas: (request, newCollector, options) =>
        (this.unreachableFor(request.sucursal, now) ? down : klk).fetchVentas(
          this.wrongWarehouse(request.sucursal, now)
            ? { ...request, almacen: secondWarehouse(STORES.find((s) => s.sucursal === request.sucursal)!.almacen) }
            : request,
          newCollector,
          options,
        ),
    };
  }

  /** One cycle at `t`, on the simulator's clock too. */
  async cycle(t: Date): Promise<CycleSummary> {
    this.sim.options.now = t;
    const summary = await runCycle({
      db: this.db,
      config: this.config,
      openKlk: () => this.client(t),
      now: () => t,
      logger: silentLogger,
      command: 'ventas daemon',
    });
    this.cycles.push({ at: t, summary });
    return summary;
  }

  /**
   * Cycles from `from` (included) to `to` (excluded) when the long-running loop would run them (loop.ts waitMs: every
   * hour at most, a cycle taking no time), `before` called ahead of each to break or mend something at that instant.
   * While `down` no cycle runs (the daemon is not running); it starts again at its end. Where `hourly` says no, only
   * the due ticks get a cycle (hours in which nothing happens, skipped to keep a simulated week short).
   */
  async run(
    from: Date,
    to: Date,
    hooks: { before?: (t: Date) => unknown; down?: { from: Date; to: Date }; hourly?: (t: Date) => boolean } = {},
  ) {
    const { down } = hooks;
    const ticks = daemonTicks(this.config.daemon, this.config.stores);
    const next = (t: Date) =>
      hooks.hourly && !hooks.hourly(t)
        ? new Date(Math.min(...ticks.map((tick) => nextDue(tick, t)!.getTime())))
        : new Date(t.getTime() + waitMs(this.config, t, t, 1));
    for (let t = from; t < to; t = next(t)) {
      if (down && t >= down.from && t < down.to) t = down.to;
      await hooks.before?.(t);
      await this.cycle(t);
    }
  }

  /** The cycle run at `local` (Caracas time). */
  at(local: string): CycleSummary {
    const found = this.cycles.find((c) => localOf(c.at) === local.replace('T', ' '));
    if (!found) throw new Error(`no hubo ciclo a las ${local}`);
    return found.summary;
  }

  /** The webhook's alerts so far, each checked against its signature (HMAC-SHA256 of the raw body). */
  alerts(): Alert[] {
    return this.sink.received.map((r) => {
      const expected = `sha256=${createHmac('sha256', SECRET).update(r.body, 'utf8').digest('hex')}`;
      expect(r.headers['x-ventas-signature'], 'firma del webhook').toBe(expected);
      const body = JSON.parse(r.body) as {
        event: string;
        incident: { kind: string; store: string | null };
        sentAt: string;
      };
      return { event: body.event, kind: body.incident.kind, store: body.incident.store, sentAt: body.sentAt };
    });
  }

  async incidents(): Promise<Incident[]> {
    return (await listIncidents(this.db)).sort((a, b) => a.id - b.id);
  }

  /** What spec section 11 promises after any scenario. */
  async expectHealthy(end: Date, open = 0): Promise<void> {
    // Every store-day of the lookback up to yesterday is what KLK sold, lines and dollars.
    const last = this.cycles.at(-1)!.summary;
    expect(last.storeDays).toEqual({ complete: STORES.length * this.config.heal.lookbackDays });
    await expectTableEqualsKlk(this.db, this.sim.options, STORES, last.window);
    expect(localOf(end).slice(0, 10) > last.window.to).toBe(true);
    // Never more requests at once than the per-KLK limit.
    expect(this.sim.stats().maxInFlight).toBeGreaterThan(0);
    expect(this.sim.stats().maxInFlight).toBeLessThanOrEqual(this.config.concurrency);
    // The heal's budget over every rolling hour (cycles within the hour before each one, it included).
    const budget = this.config.heal.maxRequestsPerHour;
    for (const { at: t } of this.cycles) {
      const hour = this.cycles.filter((c) => c.at <= t && c.at.getTime() > t.getTime() - HOUR);
      expect(
        hour.reduce((n, c) => n + c.summary.heal.requests, 0),
        `presupuesto en la hora hasta ${localOf(t)}`,
      ).toBeLessThanOrEqual(budget);
    }
    // Every alert issued was delivered, and nothing is left open (but what the scenario says).
    expect(last.incidents.open).toBe(open);
    expect(this.alerts().length).toBe((await this.incidents()).reduce((n, i) => n + i.alertsSent, 0));
  }
}

/** Alerts of one incident kind (and store), as `event@local time`. */
const told = (alerts: Alert[], kind: string, store: string | null = null) =>
  alerts.filter((a) => a.kind === kind && a.store === store).map((a) => `${a.event}@${localOf(new Date(a.sentAt))}`);

describeEachBackend('the daemon over simulated days', (open) => {
  let db: Db;
  let scenario: Scenario | undefined;
  beforeEach(async () => {
    db = await open();
  });
  afterEach(async () => {
    await scenario?.close();
    scenario = undefined;
    await db.close();
  });

  it('a week from an empty table, KLK down six hours in the middle: one incident, reminded on schedule, resolved once', async () => {
    // A sync every six hours, and a cycle every hour only around the outage, keep a simulated week to a few
    // dozen cycles.
    const config = { daemon: { syncEveryMinutes: 360 }, heal: { lookbackDays: 3 } };
    scenario = await Scenario.start(db, { seed: 11, config });
    const s = scenario;
    const outage = { from: at('2026-02-04T10:00'), to: at('2026-02-04T16:00') };
    await s.run(at('2026-02-02T00:00'), at('2026-02-09T00:30'), {
      before: (t) => s.klk(!(t >= outage.from && t < outage.to)),
      hourly: (t) => localOf(t) >= '2026-02-04 09:00' && localOf(t) < '2026-02-04 19:00',
    });
    await s.expectHealthy(at('2026-02-09T00:00'));

    // The 12:00 sync finds KLK down: the 13:00 cycle opens the incident (down over 15 minutes), reminds every 120
    // minutes, and the first sync after it (18:00), answered, resolves it; nothing else was opened.
    const incidents = await s.incidents();
    expect(incidents.map((i) => [i.kind, i.store, localOf(i.openedAt), localOf(i.resolvedAt!)])).toEqual([
      ['klk_unreachable', null, '2026-02-04 13:00', '2026-02-04 18:00'],
    ]);
    expect(told(s.alerts(), 'klk_unreachable')).toEqual([
      'incident.opened@2026-02-04 13:00',
      'incident.reminder@2026-02-04 15:00',
      'incident.reminder@2026-02-04 17:00',
      'incident.resolved@2026-02-04 18:00',
    ]);
    const ticks = await readTicks(db);
    expect(ticks.map((r) => [r.name, r.status, r.unreachableSince])).toEqual([
      ['recovery@America/Caracas', 'success', null],
      ['sync@America/Caracas', 'success', null],
    ]);
  });

  it('a store whose answers are all rejected for a day: the day reads rejected, quarantine opens, and the recovery that gets good lines heals it', async () => {
    scenario = await Scenario.start(db, { seed: 12, scale: 0.01, config: { heal: { lookbackDays: 2 } } });
    const s = scenario;
    const [bad] = STORES;
    // From the 04:00 cycle of the 11th to 02:30 of the 12th, KLK sends for this store only another warehouse's lines.
    const wrong = { from: at('2026-02-11T04:00'), to: at('2026-02-12T02:30') };
    s.wrongWarehouse = (sucursal, t) => sucursal === bad!.sucursal && t >= wrong.from && t < wrong.to;
    await s.run(at('2026-02-11T00:00'), at('2026-02-12T05:00'));
    await s.expectHealthy(at('2026-02-12T05:00'));

    // The heal asks the 11th whole once its grace is over (02:00): every line is quarantined, the day reads rejected.
    expect(s.at('2026-02-12T02:00').storeDays).toMatchObject({ rejected: 1 });
    expect(s.at('2026-02-12T02:00').heal.attempted).toBeGreaterThanOrEqual(1);
    // The 03:00 recovery asks it again, KLK's lines are good: complete.
    expect(s.at('2026-02-12T03:00').ticks.map((t) => [t.kind, t.status])).toContainEqual(['recovery', 'success']);
    expect(s.at('2026-02-12T03:00').storeDays).toEqual({ complete: 4 });
    const incidents = await s.incidents();
    expect(incidents.map((i) => [i.kind, i.store, i.dates])).toEqual([['quarantine', bad!.id, ['2026-02-11']]]);
    expect(told(s.alerts(), 'quarantine', bad!.id)).toEqual([
      `incident.opened@${localOf(incidents[0]!.openedAt)}`,
      'incident.resolved@2026-02-12 03:00',
    ]);
  });

  it('KLK going down halfway through a sync: one klk_unreachable from that sync on, and no store goes stale', async () => {
    scenario = await Scenario.start(db, { seed: 17, config: { heal: { lookbackDays: 2 } } });
    const s = scenario;
    const [first, second] = STORES;
    // The 10:00 sync: the first store answered, then KLK went; the 11:00 sync finds it down for all; back at 12:00.
    s.unreachableFor = (sucursal, t) =>
      (localOf(t) === '2026-02-24 10:00' && sucursal !== first!.sucursal) || localOf(t) === '2026-02-24 11:00';
    await s.run(at('2026-02-24T06:00'), at('2026-02-25T04:00'));
    await s.expectHealthy(at('2026-02-25T04:00'));

    expect(s.at('2026-02-24T10:00').ticks.map((t) => [t.status, t.unreachable])).toEqual([['partial', true]]);
    // Down since the 10:00 sync: over 15 minutes at the 11:00 cycle, resolved by the 12:00 sync. The second store,
    // last synced at 09:00, is starved by the outage and opens nothing of its own.
    const incidents = await s.incidents();
    expect(incidents.map((i) => [i.kind, i.store, localOf(i.openedAt), localOf(i.resolvedAt!)])).toEqual([
      ['klk_unreachable', null, '2026-02-24 11:00', '2026-02-24 12:00'],
    ]);
    expect(told(s.alerts(), 'klk_unreachable')).toEqual([
      'incident.opened@2026-02-24 11:00',
      'incident.resolved@2026-02-24 12:00',
    ]);
    expect(told(s.alerts(), 'store_stale', second!.id)).toEqual([]);
  });

  it('a partial day (its syncs failing from 10:00 to 20:00) is completed by the nightly recovery; each store goes stale once', async () => {
    scenario = await Scenario.start(db, { seed: 13, config: { heal: { lookbackDays: 2 } } });
    const s = scenario;
    const [first] = STORES;
    // KLK answers, but with errors (HTTP 5xx): not unreachable, so the stores themselves go stale.
    const failing = { from: at('2026-02-17T09:30'), to: at('2026-02-17T20:30') };
    let before: DayFigures[] = [];
    await s.run(at('2026-02-17T06:00'), at('2026-02-18T04:00'), {
      before: async (t) => {
        s.sim.options.failRate = t >= failing.from && t < failing.to ? 1 : 0;
        if (localOf(t) === '2026-02-18 03:00') before = await tableDays(db, first!.id, '2026-02-17', '2026-02-17');
      },
    });
    await s.expectHealthy(at('2026-02-18T04:00'));

    // Only the morning and the evening of the 17th came with the syncs; the 03:00 recovery brought the rest.
    const [truthDay] = truth(s.sim.options, first!, '2026-02-17', '2026-02-17');
    expect(before[0]!.lines).toBeGreaterThan(0);
    expect(before[0]!.lines).toBeLessThan(truthDay!.lines);
    expect(s.at('2026-02-18T03:00').ticks.map((t) => [t.kind, t.status])).toEqual([['recovery', 'success']]);
    // Last sync at 09:00: stale past 150 minutes (the 12:00 cycle), reminded every 120, resolved by the 21:00 sync.
    const incidents = await s.incidents();
    expect(incidents.map((i) => [i.kind, i.store, localOf(i.openedAt), localOf(i.resolvedAt!)])).toEqual(
      STORES.map((st) => ['store_stale', st.id, '2026-02-17 12:00', '2026-02-17 21:00']),
    );
    for (const st of STORES)
      expect(told(s.alerts(), 'store_stale', st.id)).toEqual([
        'incident.opened@2026-02-17 12:00',
        'incident.reminder@2026-02-17 14:00',
        'incident.reminder@2026-02-17 16:00',
        'incident.reminder@2026-02-17 18:00',
        'incident.reminder@2026-02-17 20:00',
        'incident.resolved@2026-02-17 21:00',
      ]);
  });

  it('a missed nightly recovery runs once when the daemon is back; failing, it opens recovery_failed until the next night', async () => {
    // Syncs every two hours up to 22:00 (three-hour windows) cover each whole day.
    const daemon = { syncEveryMinutes: 120, syncHours: '06:00-22:00' };
    const config = { daemon, heal: { lookbackDays: 2 }, alerts: { repeatMinutes: 360 } };
    scenario = await Scenario.start(db, { seed: 14, config });
    const s = scenario;
    // The daemon is down from 00:30 to 06:40 of the 25th; when it is back KLK answers it with errors, once.
    const down = { from: at('2026-02-25T00:30'), to: at('2026-02-25T06:40') };
    await s.run(at('2026-02-24T06:00'), at('2026-02-26T04:00'), {
      down,
      before: (t) => void (s.sim.options.failRate = t.getTime() === down.to.getTime() ? 1 : 0),
    });
    await s.expectHealthy(at('2026-02-26T04:00'));

    // Back at 06:40: the 06:00 sync and the 03:00 recovery run once each (no pile-up), and fail.
    expect(s.at('2026-02-25T06:40').ticks.map((t) => [t.kind, localOf(t.dueAt), t.status])).toEqual([
      ['sync', '2026-02-25 06:00', 'failed'],
      ['recovery', '2026-02-25 03:00', 'failed'],
    ]);
    const recoveries = s.cycles.filter((c) => c.summary.ticks.some((t) => t.kind === 'recovery'));
    // (the first, at 06:00 of the 24th, is the start's own missed tick).
    expect(recoveries.map((c) => localOf(c.at))).toEqual(['2026-02-24 06:00', '2026-02-25 06:40', '2026-02-26 03:00']);
    // Told once, reminded at the first cycle 360 minutes after the last alert (cycles keep to the ticks' hours),
    // resolved by the next night's recovery.
    const incidents = await s.incidents();
    expect(incidents.map((i) => [i.kind, i.store, localOf(i.openedAt), localOf(i.resolvedAt!)])).toEqual([
      ['recovery_failed', null, '2026-02-25 06:40', '2026-02-26 03:00'],
    ]);
    expect(told(s.alerts(), 'recovery_failed')).toEqual([
      'incident.opened@2026-02-25 06:40',
      'incident.reminder@2026-02-25 13:00',
      'incident.reminder@2026-02-25 19:00',
      'incident.reminder@2026-02-26 01:00',
      'incident.resolved@2026-02-26 03:00',
    ]);
  });

  it('a nightly recovery that runs late, past the next midnight, recovers the day it owed', async () => {
    scenario = await Scenario.start(db, { seed: 16, config: { heal: { lookbackDays: 2 } } });
    const s = scenario;
    // Down from 02:00 of the 20th to 00:30 of the 21st: the 20th's 03:00 recovery (owed the 19th) runs at 00:30.
    const down = { from: at('2026-02-20T02:00'), to: at('2026-02-21T00:30') };
    await s.run(at('2026-02-19T06:00'), at('2026-02-21T01:00'), { down });
    expect(s.at('2026-02-21T00:30').ticks.map((t) => [t.kind, localOf(t.dueAt), t.status])).toContainEqual([
      'recovery',
      '2026-02-20 03:00',
      'success',
    ]);
    const { rows } = await db.query<{ from: string; to: string }>(
      `SELECT window_from::text AS from, window_to::text AS to FROM etl_runs WHERE run_type = 'recovery' ORDER BY id`,
    );
    expect(rows.at(-1)).toEqual({ from: '2026-02-19 00:00:00', to: '2026-02-19 23:59:59' });
  });

  it('a day the syncs left short (the daemon started at 20:00) whose nightly recovery fails is healed all the same', async () => {
    scenario = await Scenario.start(db, { seed: 15, config: { heal: { lookbackDays: 2 } } });
    const s = scenario;
    // KLK answers the 03:00 recovery with errors; everything else, well.
    await s.run(at('2026-02-24T20:00'), at('2026-02-25T06:00'), {
      before: (t) => void (s.sim.options.failRate = localOf(t) === '2026-02-25 03:00' ? 1 : 0),
    });
    expect(s.at('2026-02-25T03:00').ticks.map((t) => [t.kind, t.status])).toEqual([['recovery', 'failed']]);
    // Not partial (half the usual or more came), but nothing whole checked it: the heal asks it at the next cycle.
    expect(s.at('2026-02-25T04:00').heal).toMatchObject({ backlogBefore: 2, attempted: 2, backlogAfter: 0 });
    // The failed recovery stays told until the next one succeeds.
    await s.expectHealthy(at('2026-02-25T06:00'), 1);
    expect((await s.incidents()).map((i) => [i.kind, i.resolvedAt])).toEqual([['recovery_failed', null]]);
    expect(told(s.alerts(), 'recovery_failed')).toEqual([
      'incident.opened@2026-02-25 03:00',
      'incident.reminder@2026-02-25 05:00',
    ]);
  });
});
