/**
 * `ventas daemon` as it is meant to run, on a simulated clock shared with the simulator (`VENTAS_CLOCK`, three hours
 * in a second): killed with SIGKILL mid-cycle and started again, it loses nothing and leaves nothing open; started
 * with an empty table and left for three simulated days with a KLK outage in the middle, it ends with every store-day
 * of its lookback up to yesterday equal to the simulator, one incident opened and resolved on a signed webhook, its
 * probes and metrics answering, and SIGTERM ending it with exit 0; the same with two daemons and the leader killed
 * during the outage. What the daemon does is paced by its own progress (its log, /api/daemon, the webhook), never by
 * sleeps.
 */
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { now } from '../shared/clock.ts';
import { addDays, localDateTime } from '../shared/dates.ts';
import { DEFAULT_OPTIONS, startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachCliBackend, startCli, type CliPlace } from '../../test/support/cli.ts';
import { until, watch, type Watched } from '../../test/support/child.ts';
import { deadPort } from '../../test/support/klk.ts';
import { httpSink, type HttpSink } from '../../test/support/sinks.ts';
import { expectTableEqualsKlk } from '../../test/support/truth.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
const SECRET = 'el-secreto-del-receptor-de-la-historia';
const SEED = 21;
const SCALE = 0.003;
/** Simulated milliseconds per real one: three hours in a second. */
const SPEED = 10_800;
const CONCURRENCY = 2;
const LOOKBACK_DAYS = 3;
const at = (local: string) => new Date(`${local}:00-04:00`);
/** Stopped after the 5th's recovery: the lookback up to yesterday is the 2nd to the 4th. */
const LAST_WINDOW = { from: '2026-03-02', to: '2026-03-04' };

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
        // A sync every three hours: three simulated days are a few dozen ETL runs.
        daemon: { syncEveryMinutes: 180, leaseSeconds: 5 },
        heal: { lookbackDays: LOOKBACK_DAYS, maxRequestsPerHour: 4 },
        // A cycle on a loaded machine can take simulated hours: staleness and reminders are left to the scenarios
        // on a stepped clock (src/daemon/scenarios.test.ts), here they would only measure the machine.
        alerts: { staleAfterMinutes: 720, repeatMinutes: 720, webhook: { url: `${sink.url}/hook`, secret: SECRET } },
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
      await startCli(['daemon', '--port', String(port), '--klk-url', `http://127.0.0.1:${simPort}`], {
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
   * The latest cycle (its start, Caracas `YYYY-MM-DDTHH:MM`) whose nightly recovery succeeded, in any daemon's log. A
   * cycle started at or after a recovery's due time can only have run that one or a later one; the time a recovery
   * ended (/api/daemon's lastRecovery) says less: the one before, run late, can end after the next one is due.
   */
  const lastRecoveryCycle = () =>
    running
      .flatMap((d) => [...d.stdout().matchAll(/^Ciclo (\d{4}-\d\d-\d\d) (\d\d:\d\d): [^·\n]*recuperación éxito/gm)])
      .map((m) => `${m[1]}T${m[2]}`)
      .sort()
      .at(-1) ?? null;
  /**
   * Until a daemon has run the nightly recovery due at (or after) `recovery` and the one at `url` has then ended a
   * cycle at or after `cycle` (Caracas times). Its progress, not the clock, paces the story: a loaded machine makes
   * cycles long in simulated hours.
   */
  const progressed = async (url: string, recovery: string, cycle: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await status(url);
      const ranRecovery = (lastRecoveryCycle() ?? '') >= recovery;
      if (ranRecovery && s.lastCycleEndedAt !== null && new Date(s.lastCycleEndedAt) >= at(cycle)) return;
      if (Date.now() > deadline) throw new Error(`el daemon no llegó a ${cycle}: ${JSON.stringify(s)}`);
      // Each look is a request the daemon answers from its database: a few a second are enough, more cost CPU.
      await delay(200);
    }
  };
  /**
   * Until a morning (03:00 to 12:00) of the second day or later whose nightly recovery a daemon has run (a cycle
   * started that day from 03:00 on says so), so that the next recovery is far: on a loaded machine one cycle can take
   * simulated hours. Returns the clock then.
   */
  const quietMorning = async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const t = clockNow();
      const local = localDateTime('America/Caracas', t);
      const hour = Number(local.slice(11, 13));
      const ran = new RegExp(
        `^Ciclo ${local.slice(0, 10)} (0[3-9]|1\\d|2[0-3]):\\d\\d: [^·\\n]*recuperación éxito`,
        'm',
      );
      if (t >= at('2026-03-03T03:00') && hour >= 3 && hour < 12 && running.some((d) => ran.test(d.stdout()))) return t;
      if (Date.now() > deadline) throw new Error('ningún daemon hizo la recuperación de una mañana a tiempo');
      await delay(20);
    }
  };
  /**
   * The webhook's alerts, each checked against its signature, as `event kind`, in order. Delivery is at least once: a
   * leader killed between the receiver's answer and recording it leaves the alert to be sent again, with the same
   * `X-Ventas-Delivery` id for the receiver to drop; a repeat must be that same alert, and counts once here.
   */
  const deliveries = () => {
    const seen = new Map<string, { alert: string; incident: number; openedAt: string; sentAt: string }>();
    for (const r of sink.received) {
      const expected = `sha256=${createHmac('sha256', SECRET).update(r.body, 'utf8').digest('hex')}`;
      expect(r.headers['x-ventas-signature'], 'firma del webhook').toBe(expected);
      const body = JSON.parse(r.body) as {
        event: string;
        incident: { id: number; kind: string; openedAt: string };
        sentAt: string;
      };
      const alert = { alert: `${body.event} ${body.incident.kind}`, incident: body.incident.id };
      const id = String(r.headers['x-ventas-delivery']);
      const { alert: before, incident } = seen.get(id) ?? alert;
      expect({ alert: before, incident }, `la entrega ${id} repetida`).toEqual(alert);
      if (!seen.has(id)) seen.set(id, { ...alert, openedAt: body.incident.openedAt, sentAt: body.sentAt });
    }
    return [...seen.values()];
  };
  const alerts = () => deliveries().map((d) => d.alert);
  const toldByIncident = () => {
    const byIncident = new Map<number, ReturnType<typeof deliveries>>();
    for (const d of deliveries()) byIncident.set(d.incident, [...(byIncident.get(d.incident) ?? []), d]);
    return [...byIncident.values()];
  };
  /**
   * Until every incident told opened is told resolved too: an alert is delivered after the cycle that raised it,
   * so a recovery that ran late may have its incident's resolution still on its way when the cycle is over.
   */
  const settled = () =>
    until(
      () => toldByIncident().every((told) => told.at(-1)!.alert.startsWith('incident.resolved ')),
      'el aviso de cada incidente resuelto',
      60_000,
    ).catch(
      () => {}, // what is missing is then named by expectToldOnce
    );
  /**
   * No storm: each incident told once when it opened and once when it resolved, and of `kind` exactly `times`
   * incidents. A cycle on a loaded machine can take simulated hours, so a recovery may run late and say so, or a store
   * go stale while a daemon restarts: such an incident must be resolved too, and may have been reminded of only as
   * its rule says, once per `repeatMinutes` (720) it stayed open.
   */
  const expectToldOnce = async (kind: string, times: number) => {
    await settled();
    const told = toldByIncident();
    for (const events of told) {
      const of = events[0]!.alert.split(' ')[1];
      const reminders = events.slice(1, -1);
      expect(events.map((e) => e.alert)).toEqual([
        `incident.opened ${of}`,
        ...reminders.map(() => `incident.reminder ${of}`),
        `incident.resolved ${of}`,
      ]);
      reminders.forEach((r, k) =>
        expect(Date.parse(r.sentAt) - Date.parse(r.openedAt), `recordatorio ${k + 1} de ${of}`).toBeGreaterThanOrEqual(
          (k + 1) * 720 * 60_000,
        ),
      );
    }
    expect(told.filter((events) => events[0]!.alert.endsWith(` ${kind}`))).toHaveLength(times);
  };
  const outage = ['incident.opened klk_unreachable', 'incident.resolved klk_unreachable'];

  /** What the three days must leave: checked once every daemon has stopped (PGlite opens to one process). */
  const expectComplete = async (window: { from: string; to: string }, resolved: string[]) => {
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    const db = await place.open();
    try {
      await expectTableEqualsKlk(db, { ...DEFAULT_OPTIONS, seed: SEED, scale: SCALE }, STORES, window);
      const { rows } = await db.query<{ kind: string; open: boolean }>(
        'SELECT kind, resolved_at IS NULL AS open FROM incidents ORDER BY id',
      );
      expect(rows.filter((r) => r.open)).toEqual([]);
      for (const kind of resolved) expect(rows.filter((r) => r.kind === kind)).toHaveLength(1);
    } finally {
      await db.close();
    }
  };

  /**
   * Three days with KLK down on the second from just after its nightly recovery (so the outage is the one cause of
   * trouble) until six simulated hours have passed and its alert is in; `onOpened` runs once that alert is in,
   * `onResolved` once the alert of its end is.
   */
  const threeDays = async (
    url: () => string,
    hooks: { onOpened?: () => Promise<void>; onResolved?: () => Promise<void> } = {},
  ) => {
    const downAt = await quietMorning();
    await stopSim();
    const told = (alert: string) => () => alerts().includes(alert);
    await until(told(outage[0]!), 'el aviso de KLK caído', 60_000);
    await hooks.onOpened?.();
    await clockPast(new Date(downAt.getTime() + 6 * 3_600_000));
    await startSim();
    await until(told(outage[1]!), 'el aviso de KLK de vuelta', 60_000);
    await hooks.onResolved?.();
    // Past the 5th's recovery, and a cycle after it.
    await progressed(url(), '2026-03-05T03:00', '2026-03-05T04:00');
    // One cause, one alert: nothing else was told.
    await expectToldOnce('klk_unreachable', 1);
    expect((await fetch(`${url()}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url()}/metrics`)).text();
    expect(metrics).toMatch(/^ventas_incidents_open\{kind="klk_unreachable"\} 0$/m);
    expect(metrics).toMatch(/^ventas_heal_backlog_store_days 0$/m);
    expect(metrics).toMatch(/^ventas_daemon_cycle_timestamp_seconds \d/m);
    const s = await status(url());
    expect(s.budget.usedThisHour).toBeLessThanOrEqual(s.budget.maxRequestsPerHour);
  };

  it('one daemon killed with SIGKILL mid-cycle and started again: nothing lost, no incident left open, SIGTERM exits 0', async () => {
    const first = await startDaemon();
    await first.daemon.printed(/Ciclo /);
    // Killed as its next cycle asks KLK (the sync or the heal under way).
    const asked = sim!.stats().requests;
    await until(() => sim!.stats().requests > asked, 'otra petición a KLK', 60_000);
    first.daemon.child.kill('SIGKILL');
    expect(await first.daemon.exit).toBeNull();
    const second = await startDaemon();
    // The next day's recovery, and a cycle after it.
    const day = addDays(localDateTime('America/Caracas', clockNow()).slice(0, 10), 1);
    await progressed(second.url, `${day}T03:00`, `${day}T04:00`);
    await expectToldOnce('klk_unreachable', 0);
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    second.daemon.child.kill('SIGTERM');
    expect(await second.daemon.exit).toBe(0);
    await stopSim();
    await expectComplete({ from: addDays(day, -LOOKBACK_DAYS), to: addDays(day, -1) }, []);
  }, 180_000);

  // These stories take a minute of a loaded machine: they run where TEST_DATABASE_URL gives PostgreSQL (CI), the
  // two daemons only there anyway (one process at a time opens a PGlite folder).
  if (backend.name === 'postgres')
    it('one daemon from an empty table, KLK down six hours: complete, one incident told and resolved, SIGTERM exits 0', async () => {
      const { daemon, url } = await startDaemon();
      expect(daemon.stderr()).toContain('Reloj simulado');
      await threeDays(() => url);
      daemon.child.kill('SIGTERM');
      expect(await daemon.exit).toBe(0);
      await stopSim();
      await expectComplete(LAST_WINDOW, ['klk_unreachable']);
    }, 180_000);

  if (backend.name === 'postgres')
    it('two daemons, the leader killed with SIGKILL during the outage and started again: the same end', async () => {
      const a = await startDaemon();
      const b = await startDaemon();
      await until(() => /Este proceso dirige/.test(a.daemon.stdout() + b.daemon.stdout()), 'un líder', 10_000);
      const [leader, standby] = (await status(a.url)).isLeader ? [a, b] : [b, a];
      let leading = leader;
      let restarted: typeof a | null = null;
      await threeDays(() => leading.url, {
        // The leader dies while KLK is down; the other must take over (within two leases) to tell KLK is back.
        onOpened: async () => {
          leader.daemon.child.kill('SIGKILL');
          expect(await leader.daemon.exit).toBeNull();
          leading = standby;
        },
        // The killed one started again: it stands by.
        onResolved: async () => {
          restarted = await startDaemon();
          await restarted.daemon.printed(/Otro proceso dirige/);
        },
      });
      expect((await status(standby.url)).isLeader).toBe(true);
      for (const d of [standby, restarted!]) d.daemon.child.kill('SIGTERM');
      expect(await Promise.all([standby.daemon.exit, restarted!.daemon.exit])).toEqual([0, 0]);
      await stopSim();
      await expectComplete(LAST_WINDOW, ['klk_unreachable']);
    }, 180_000);
});
