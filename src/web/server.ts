/**
 * `ventas serve`: the dashboard page and its JSON API (a Hono app, app.ts, on node:http), reading and acting through
 * the same modules as the command line (coverage, plan, backfill). Routes, in routes/:
 *   GET  /  /app.js  /style.css       the page (pages.ts)
 *   GET  /api/health                 {"status":"ok","database":"postgres|pglite","daemon":false}, open without token (health.ts)
 *   POST /api/session {token}         sets the HttpOnly token cookie the page uses (session.ts)
 *   GET  /api/coverage?from&to&stores the heatmap: per store one state letter per day, lines and USD per day (coverage.ts)
 *   GET  /api/gaps?from&to&stores     the JSON of `ventas gaps --format json`
 *   GET  /api/plan?from&to&stores     the JSON of `ventas plan --format json`
 *   POST /api/backfill {from,to,stores?} 202 {"runId"}; 409 while one runs (runs.ts)
 *   GET  /api/runs?limit              ETL runs and backfills, newest first
 *   GET  /api/runs/ID                 the backfill's summary (`ventas backfill --format json`), or {"status":"running",...progress}
 *   GET  /api/runs/ID/events          server-sent events: progress, breaker, done (events.ts)
 *   POST /api/runs/ID/cancel          200 {"runId","status":"cancelled"}; ID a backfill (12) or an ETL run (etl-7)
 *   POST /api/runs/ID/resume          202 {"runId"}: the backfill resumed here; 409 when it cannot be
 *   GET  /api/store-days/STORE/DAY   why the store-day is not complete: last attempt, error, next try (store-days.ts)
 * Unknown runs are 404; a run whose state does not allow the change is 409, with the reason. Who may ask: access.ts.
 * Given the daemon's providers (`ventas daemon`), also /livez, /readyz, /metrics, /api/daemon and /api/incidents
 * (routes/daemon.ts); without them (`ventas serve`) those paths are 404.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Config } from '../catalogue/config.ts';
import type { DaemonProviders } from '../daemon/status.ts';
import type { Db } from '../db/types.ts';
import { UsageError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { assertBindAllowed, assertTokenUsable } from './access.ts';
import { createDashboardApp } from './app.ts';
import type { WindowDefaults } from './params.ts';

export interface DashboardOptions {
  db: Db;
  config: Config;
  /** The KLK the backfill button fetches from. */
  klkUrl: string;
  logger: Logger;
  host: string;
  /** 0 takes a free port. */
  port: number;
  /**
   * VENTAS_API_TOKEN: required on every API request (and /metrics) but the health probes when set, and to bind beyond
   * loopback.
   */
  token?: string;
  /** The page's initial window; what is absent follows the CLI's defaults (yesterday and the 89 days before). */
  window?: WindowDefaults;
  /** Requests in flight to KLK during a backfill and in the plan's estimate (default: the config's). */
  concurrency?: number;
  /** `ventas daemon`'s status, incidents and metrics: given, the daemon's routes are served too. */
  daemon?: DaemonProviders;
}

export interface RunningDashboard {
  /** `http://HOST:PORT`. */
  url: string;
  port: number;
  /** Stops the running backfill (resumable), ends open event streams, and stops listening. The db stays open. */
  close(): Promise<void>;
}

/**
 * Bad input (exit 2) when `port` cannot be listened on at `host`, found out before any work that would need it (the
 * demo first spends seconds recreating its situation). Port 0 is always free.
 */
export async function assertCanListen(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, port, host);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(new UsageError(`el puerto ${port} ya está en uso en ${host}: elija otro con --port`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
        reject(new UsageError(`no se puede escuchar en ${host}: ${error.message}`));
      else reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Starts the dashboard; refuses (UsageError) to bind beyond loopback without a token. */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  assertTokenUsable(options.token);
  assertBindAllowed(options.host, options.token);
  const dashboard = createDashboardApp(options);
  // A request without Host (HTTP/1.0) gets the bound host for its URL; the Host check still sees none and refuses it.
  const server = createAdaptorServer({ fetch: dashboard.app.fetch, hostname: options.host }) as Server;
  await listen(server, options.port, options.host);
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      await dashboard.shutdown();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM (Ctrl+C, a service manager's stop). */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
