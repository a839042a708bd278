/**
 * `ventas daemon` as it is meant to run, on a simulated clock shared with the simulator (`VENTAS_CLOCK`, hours in a
 * fraction of a second): started with an empty table and left for three simulated days with a KLK outage in the
 * middle, it ends with every store-day of its lookback up to yesterday equal to the simulator, one incident opened
 * and resolved on a signed webhook, its probes and metrics answering, and SIGTERM ending it with exit 0. Then the same
 * with two daemons and the leader killed with SIGKILL (and started again) during the outage.
 */
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { now } from '../shared/clock.ts';
import { DEFAULT_OPTIONS, startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, spawnCli, type CliPlace } from '../../test/support/cli.ts';
import { until, watch, type Watched } from '../../test/support/child.ts';
import { deadPort } from '../../test/support/klk.ts';
import { httpSink, type HttpSink } from '../../test/support/sinks.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
const SECRET = 'el-secreto-del-receptor-de-la-historia';
const SEED = 21;
const SCALE = 0.003;
/** Simulated milliseconds per real one: an hour in a quarter of a second. */
const SPEED = 14_400;
const CONCURRENCY = 2;
const LOOKBACK_DAYS = 3;
const at = (local: string) => new Date(`${local}:00-04:00`);

interface Status {
  isLeader: boolean;
  lastCycleEndedAt: string | null;
  lastRecovery: string | null;
  budget: { maxRequestsPerHour: number; usedThisHour: number };
}

describeEachCliBackend('ventas daemon over three simulated days', (backend) => {
  let place: CliPlace;
  let sink: HttpSink;
  let sim: RunningSimulator | null = null;
  let simPort: number;
  let clock: string;
  /** The most requests in flight the simulator saw, over all its restarts (its `/__sim/stats`). */
  let maxInFlight = 0;
  const running: Watched[] = [];

  /** The ventas clock the daemons and the simulator share. */
  const clockNow = () => now({ VENTAS_CLOCK: clock });

  const startSim = async () => {
    sim = await startSimulator({ seed: SEED, scale: SCALE, port: simPort });
    // The simulator reads the shared clock on each request, as a `klk-sim` process started with VENTAS_CLOCK would.
    Object.defineProperty(sim.options, 'now', { get: clockNow, enumerable: true, configurable: true });
  };
  /** KLK goes away: the port refuses connections (what the daemon reads as unreachable). */
  const stopSim = async () => {
    const stats = (await (await fetch(`${sim!.url}/__sim/stats`)).json()) as { maxInFlight: number };
    maxInFlight = Math.max(maxInFlight, stats.maxInFlight);
    await sim!.close();
    sim = null;
  };

  beforeEach(async () => {
    place = await backend.place();
    sink = await httpSink();
    simPort = await deadPort();
    // Monday 2 March 2026, 00:00 in Caracas, from now on (the daemon's first cycle comes when it is up).
    clock = `2026-03-02T00:00:00-04:00,${Date.now()},${SPEED}`;
    maxInFlight = 0;
    await startSim();
    writeFileSync(
      join(place.cwd, 'ventas.config.json'),
      JSON.stringify({
        stores: STORES,
        concurrency: CONCURRENCY,
        klk: { attempts: 1 },
        // A sync every six hours: three simulated days are a few dozen ETL runs.
        daemon: { syncEveryMinutes: 360, leaseSeconds: 5 },
        heal: { lookbackDays: LOOKBACK_DAYS, maxRequestsPerHour: 4 },
        alerts: { webhook: { url: `${sink.url}/hook`, secret: SECRET } },
      }),
    );
  });
  afterEach(async () => {
    for (const d of running.splice(0))
      if (d.child.exitCode === null && d.child.signalCode === null) {
        d.child.kill('SIGKILL');
        await d.exit;
      }
    if (sim) await sim.close();
    await sink.close();
    await place.cleanup();
  });

  const startDaemon = async () => {
    const port = await deadPort();
    const daemon = watch(
      spawnCli(['daemon', '--port', String(port), '--klk-url', `http://127.0.0.1:${simPort}`], {
        cwd: place.cwd,
        env: { ...place.env, VENTAS_CLOCK: clock, VENTAS_CONFIG: join(place.cwd, 'ventas.config.json') },
      }),
    );
    running.push(daemon);
    await daemon.printed(/Sirve en http/);
    return { daemon, url: `http://127.0.0.1:${port}` };
  };
  const status = async (url: string) => (await (await fetch(`${url}/api/daemon`)).json()) as Status;
  /** Until the shared clock reads `t`. */
  const clockPast = (t: Date) => until(() => clockNow() >= t, `el reloj en ${t.toISOString()}`, 60_000);
  /**
   * Until the daemon at `url` has run the nightly recovery of (or after) `recovery` and then ended a cycle at or after
   * `cycle` (Caracas times). Its progress, not the clock, paces the story: a loaded machine makes cycles long in
   * simulated hours.
   */
  const progressed = async (url: string, recovery: string, cycle: string) => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const s = await status(url);
      const done = (value: string | null, local: string) => value !== null && new Date(value) >= at(local);
      if (done(s.lastRecovery, recovery) && done(s.lastCycleEndedAt, cycle)) return;
      if (Date.now() > deadline) throw new Error(`el daemon no llegó a ${cycle}: ${JSON.stringify(s)}`);
      await delay(20);
    }
  };
  /** The webhook's alerts, each checked against its signature, as `event kind`. */
  const alerts = () =>
    sink.received.map((r) => {
      const expected = `sha256=${createHmac('sha256', SECRET).update(r.body, 'utf8').digest('hex')}`;
      expect(r.headers['x-ventas-signature'], 'firma del webhook').toBe(expected);
      const body = JSON.parse(r.body) as { event: string; incident: { kind: string } };
      return `${body.event} ${body.incident.kind}`;
    });
  const outage = ['incident.opened klk_unreachable', 'incident.resolved klk_unreachable'];

  /** What the three days must leave: checked once every daemon has stopped (PGlite opens to one process). */
  const expectComplete = async () => {
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    const db = await place.open();
    try {
      // Stopped after the 5th's recovery: the lookback up to yesterday is the 2nd to the 4th.
      await expectTableEqualsKlk(
        db,
        { ...DEFAULT_OPTIONS, seed: SEED, scale: SCALE, now: at('2026-03-05T12:00') },
        STORES,
        { from: '2026-03-02', to: '2026-03-04' },
      );
      const { rows } = await db.query<{ kind: string; open: boolean }>(
        'SELECT kind, resolved_at IS NULL AS open FROM incidents ORDER BY id',
      );
      expect(rows).toEqual([{ kind: 'klk_unreachable', open: false }]);
    } finally {
      await db.close();
    }
  };

  /**
   * Three days, KLK down six simulated hours on the second, once that day's recovery is done (so the outage is the
   * one cause of trouble); `onOpened` runs once the outage's alert is in.
   */
  const threeDays = async (url: () => string, onOpened?: () => Promise<void>) => {
    await progressed(url(), '2026-03-03T03:00', '2026-03-03T06:00');
    const downAt = clockNow();
    await stopSim();
    await until(() => alerts().includes(outage[0]!), 'el aviso de KLK caído', 60_000);
    await onOpened?.();
    await clockPast(new Date(downAt.getTime() + 6 * 3_600_000));
    await startSim();
    await until(() => alerts().length === 2, 'el aviso de KLK de vuelta', 60_000);
    // Past the 5th's recovery, and a cycle after it.
    await progressed(url(), '2026-03-05T03:00', '2026-03-05T04:00');
    expect(alerts()).toEqual(outage);
    expect((await fetch(`${url()}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url()}/metrics`)).text();
    expect(metrics).toMatch(/^ventas_incidents_open\{kind="klk_unreachable"\} 0$/m);
    expect(metrics).toMatch(/^ventas_heal_backlog_store_days 0$/m);
    expect(metrics).toMatch(/^ventas_daemon_cycle_timestamp_seconds \d/m);
    const s = await status(url());
    expect(s.budget.usedThisHour).toBeLessThanOrEqual(s.budget.maxRequestsPerHour);
  };

  it('one daemon from an empty table, KLK down six hours: complete, one incident told and resolved, SIGTERM exits 0', async () => {
    const { daemon, url } = await startDaemon();
    expect(daemon.stderr()).toContain('Reloj simulado');
    await threeDays(() => url);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exit).toBe(0);
    await stopSim();
    await expectComplete();
  });

  // One process at a time opens a PGlite folder: two daemons only meet on PostgreSQL.
  if (backend.name === 'postgres')
    it('two daemons, the leader killed with SIGKILL during the outage and started again: the same end', async () => {
      const a = await startDaemon();
      const b = await startDaemon();
      await until(() => /Este proceso dirige/.test(a.daemon.stdout() + b.daemon.stdout()), 'un líder', 10_000);
      let [leader, standby] = (await status(a.url)).isLeader ? [a, b] : [b, a];
      await threeDays(
        () => standby!.url,
        async () => {
          leader!.daemon.child.kill('SIGKILL');
          expect(await leader!.daemon.exit).toBeNull();
          await standby!.daemon.printed(/Este proceso dirige/);
          // The killed one back: it stands by.
          leader = await startDaemon();
          await leader.daemon.printed(/Otro proceso dirige|queda en espera/);
        },
      );
      for (const d of [leader!, standby!]) d.daemon.child.kill('SIGTERM');
      expect(await Promise.all([leader!.daemon.exit, standby!.daemon.exit])).toEqual([0, 0]);
      await stopSim();
      await expectComplete();
    });
});
