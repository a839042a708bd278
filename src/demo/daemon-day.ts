/**
 * The demo's last act (`ventas demo --daemon`): the daemon's own cycle and loop (daemon/cycle.ts, daemon/loop.ts)
 * run one simulated day on the demo's database and simulator, both on one `VENTAS_CLOCK`, while KLK goes down for
 * some hours. Its alerts go to a webhook receiver in this process; at the end the lookback is reconciled with KLK.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signature, SIGNATURE_HEADER, type WebhookPayload } from '../alerts/message.ts';
import type { Config } from '../catalogue/config.ts';
import { runCycle, type CycleSummary } from '../daemon/cycle.ts';
import { processLeader } from '../daemon/leader.ts';
import { loopProviders, runLoop, type LoopState } from '../daemon/loop.ts';
import { createDaemonMetrics } from '../daemon/metrics.ts';
import type { Db } from '../db/types.ts';
import { openKlk } from '../klk/open.ts';
import { tableDays } from '../load/ventas.ts';
import { now, type SimulatedClock } from '../shared/clock.ts';
import { addDays, localDateTime, type IsoDate } from '../shared/dates.ts';
import { env, withEnv } from '../shared/env.ts';
import type { Logger } from '../shared/logger.ts';
import { parseSimNow, startSimulator, truthDays, type RunningSimulator } from '../sim/index.ts';
import { reconcile, type ReconcileResult } from '../verify/reconcile.ts';
import { startDashboard, type RunningDashboard } from '../web/server.ts';
import { SEED_TO } from './seed-situation.ts';

/**
 * The daemon's day: three days after the seed's window, so what nobody loaded since the backfill (the two days
 * between) is there for its nightly recovery and its heal.
 */
export const DAEMON_DAY: IsoDate = addDays(SEED_TO, 3);

/** The script, in the chain's local time: the daemon starts, KLK goes down and comes back, the night recovery runs. */
export const SCRIPT = {
  start: `${DAEMON_DAY} 06:30`,
  klkDown: `${DAEMON_DAY} 09:30`,
  klkUp: `${DAEMON_DAY} 14:30`,
  /** The cycle that starts at or after this (the nightly recovery of the outage's day) is the last. */
  lastCycle: `${addDays(DAEMON_DAY, 1)} 03:00`,
} as const;

/**
 * Simulated milliseconds per real one while a cycle works: a minute a second, so the day's story does not hang on how
 * fast this machine runs a cycle (at the day's pace a slow cycle would take hours and skip the next ones).
 */
export const CYCLE_SPEED = 60;

/** How often (real ms) KLK's scripted state is checked against the clock. */
const SCRIPT_CHECK_MS = 25;

/** A shared secret for the demo's own receiver: it checks every alert's signature as a real receiver would. */
const WEBHOOK_SECRET = 'ventas-demo-webhook-secret';

export type DaemonDayEvent =
  | { type: 'klk'; at: Date; reachable: boolean }
  | {
      type: 'cycle';
      summary: CycleSummary;
      /** Lines of the outage's day: in the table, and sold so far according to KLK. */
      day: { table: number; klk: number };
    }
  | { type: 'alert'; payload: WebhookPayload; signed: boolean }
  | { type: 'error'; error: unknown };

export interface DaemonDayOptions {
  /** Real seconds a simulated hour lasts. */
  hourSeconds: number;
  concurrency: number;
  /** The dashboard's port (0: a free one). */
  port: number;
  /**
   * Given, the dashboard stays open after the day, its clock stopped where the day ended, until this resolves
   * (`ventas demo --daemon --serve`: Ctrl+C).
   */
  keepPage?: (url: string) => Promise<void>;
  /** The day is over and verified (before `keepPage`). */
  onDone(result: DaemonDayResult): void;
  onStart(info: { clock: SimulatedClock; url: string; zone: string }): void;
  onEvent(event: DaemonDayEvent): void;
}

export interface DaemonDayResult {
  opened: number;
  resolved: number;
  /** Incidents still open after the last cycle. */
  open: number;
  window: { from: IsoDate; to: IsoDate };
  verification: ReconcileResult;
  /** The simulator as it ends the day (restarted after the outage: close this one). */
  sim: RunningSimulator;
}

/**
 * KLK that can go down for real: its port closed, so requests meet a refused connection (what the client calls
 * unreachable), and opened again on the same port and with the same options.
 */
class SwitchableKlk {
  private reachable = true;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    public sim: RunningSimulator,
    private readonly onChange: (reachable: boolean) => void,
  ) {}

  /** Brings KLK to the state it should have at `reachable`, after any change still under way. */
  set(reachable: boolean): Promise<void> {
    // A change that failed is not left in the way of the next one (the caller of that one was told).
    this.chain = this.chain
      .catch(() => undefined)
      .then(async () => {
        if (reachable === this.reachable) return;
        if (reachable) this.sim = await startSimulator({ ...this.sim.options, port: this.sim.port });
        else await this.sim.close();
        this.reachable = reachable;
        this.onChange(reachable);
      });
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    if (this.reachable) await this.sim.close();
  }
}

/** A webhook receiver (the alert's destination in the demo): each POST parsed, its signature checked. */
async function webhookReceiver(
  onAlert: (payload: WebhookPayload, signed: boolean) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const signed = req.headers[SIGNATURE_HEADER.toLowerCase()] === signature(body, WEBHOOK_SECRET);
        onAlert(JSON.parse(body) as WebhookPayload, signed);
        res.writeHead(200).end('ok');
      } catch {
        res.writeHead(400).end('bad');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alertas`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Runs the day: the daemon as `ventas daemon` runs it (leader, loop, cycle, incidents, alerts, dashboard with its
 * providers) on a simulated clock of `hourSeconds` per hour that the simulator shares, KLK unreachable from
 * `SCRIPT.klkDown` to `SCRIPT.klkUp`; then the lookback of the last cycle reconciled with KLK.
 */
export async function runDaemonDay(
  db: Db,
  sim: RunningSimulator,
  baseConfig: Config,
  logger: Logger,
  options: DaemonDayOptions,
): Promise<DaemonDayResult> {
  const zone = baseConfig.stores[0]?.timeZone ?? 'America/Caracas';
  const at = (local: string) => parseSimNow(local, zone).getTime();
  const clock: SimulatedClock = {
    start: new Date(at(SCRIPT.start)),
    epochMs: Date.now(),
    speed: 3_600 / options.hourSeconds,
  };
  const events = options.onEvent;
  const receiver = await webhookReceiver((payload, signed) => events({ type: 'alert', payload, signed }));
  // Only the demo's receiver hears the alerts (never a channel of a config file), and one attempt per request: the
  // client's backoff is in real seconds, which on this clock would be hours of a down KLK per cycle.
  const config: Config = {
    ...baseConfig,
    klk: { ...baseConfig.klk, attempts: 1 },
    alerts: {
      ...baseConfig.alerts,
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET },
      slack: undefined,
      email: undefined,
    },
  };
  // KLK's latency is in real milliseconds too: on this clock it would be minutes per request.
  sim.options.latencyMs = [0, 0];
  const klk = new SwitchableKlk(sim, (reachable) => events({ type: 'klk', at: now(), reachable }));
  const baseUrl = sim.url;
  const metrics = createDaemonMetrics({ processMetrics: false });
  const open = (concurrency: number) =>
    openKlk(config, { baseUrl, concurrency, logger, onEvent: (e) => metrics.onKlkEvent(e) });
  let dashboard: RunningDashboard | null = null;
  let watcher: NodeJS.Timeout | undefined;
  // Every `now()` of this process reads the simulated clock from here on: the daemon's and the simulator's. It runs at
  // the day's speed between cycles and at CYCLE_SPEED during them, each change a new VENTAS_CLOCK from the instant
  // it is made (so the time never jumps).
  const dayEnv = { ...env(), VENTAS_CLOCK: clock };
  const pace = (speed: number) => {
    dayEnv.VENTAS_CLOCK = { start: now(), epochMs: Date.now(), speed };
  };
  try {
    return await withEnv(dayEnv, async () => {
      const leader = await processLeader(db, {
        leaseMs: config.daemon.leaseSeconds * 1000,
        onError: (error) => logger.warn({ err: error }, 'leadership round failed'),
      });
      const state: LoopState = { last: null };
      const deps = { db, config, leader, now };
      dashboard = await startDashboard({
        db,
        config,
        klkUrl: baseUrl,
        logger,
        host: '127.0.0.1',
        port: options.port,
        window: {},
        daemon: loopProviders(deps, state, metrics),
      });
      options.onStart({ clock, url: dashboard.url, zone });

      // KLK's state as the script has it at an instant: watched on the clock, and checked again before each cycle.
      const scripted = (t: number) => !(t >= at(SCRIPT.klkDown) && t < at(SCRIPT.klkUp));
      watcher = setInterval(
        () => void klk.set(scripted(now().getTime())).catch((error) => events({ type: 'error', error })),
        SCRIPT_CHECK_MS,
      );

      const stopping = new AbortController();
      const totals = { opened: 0, resolved: 0, open: 0 };
      let window = { from: DAEMON_DAY, to: DAEMON_DAY };
      await leader.start();
      try {
        await runLoop(
          {
            ...deps,
            speed: clock.speed,
            cycle: async ({ stop, signal }) => {
              const startedAt = now().getTime();
              await klk.set(scripted(startedAt));
              pace(CYCLE_SPEED);
              let summary: CycleSummary;
              let day: { table: number; klk: number };
              try {
                summary = await runCycle({
                  db,
                  config,
                  openKlk: () => open(config.concurrency),
                  now,
                  logger,
                  metrics,
                  command: 'ventas demo --daemon',
                  stop,
                  signal,
                });
                day = await dayLines(db, klk.sim, config);
              } finally {
                pace(clock.speed);
              }
              totals.opened += summary.incidents.opened;
              totals.resolved += summary.incidents.resolved;
              totals.open = summary.incidents.open;
              window = summary.window;
              events({ type: 'cycle', summary, day });
              if (startedAt >= at(SCRIPT.lastCycle)) stopping.abort();
              return summary;
            },
            onCycle: () => undefined,
            onError: (error) => events({ type: 'error', error }),
          },
          state,
          stopping.signal,
          new AbortController().signal,
        );
      } finally {
        await leader.release();
      }
      clearInterval(watcher);
      await klk.set(true);

      const verification = await reconcile(
        { db, klk: open(options.concurrency), config, concurrency: options.concurrency, logger },
        { ...window, storeIds: config.stores.map((s) => s.id) },
      );
      const result = { ...totals, window, verification, sim: klk.sim };
      options.onDone(result);
      const page = dashboard;
      if (options.keepPage) {
        const stopped: SimulatedClock = { start: now(), epochMs: Date.now(), speed: 0 };
        await withEnv({ ...env(), VENTAS_CLOCK: stopped }, () => options.keepPage!(page.url));
      }
      await page.close();
      dashboard = null;
      return result;
    });
  } catch (error) {
    clearInterval(watcher);
    await (dashboard as RunningDashboard | null)?.close().catch(() => undefined);
    await klk.close().catch(() => undefined);
    throw error;
  } finally {
    await receiver.close();
  }
}

/** The outage's day: lines in the table and lines KLK has sold so far (its truth, up to the simulated now). */
async function dayLines(db: Db, sim: RunningSimulator, config: Config): Promise<{ table: number; klk: number }> {
  let table = 0;
  let klk = 0;
  for (const store of config.stores) {
    table += (await tableDays(db, store.id, DAEMON_DAY, DAEMON_DAY)).get(DAEMON_DAY)?.lines ?? 0;
    klk += truthDays(sim.options, store.sucursal, DAEMON_DAY, DAEMON_DAY, store.almacen)[0]?.lineas ?? 0;
  }
  return { table, klk };
}

/** `HH:MM` of an instant on the chain's clock. */
export function hhmm(zone: string, at: Date): string {
  return localDateTime(zone, at).slice(11, 16);
}
