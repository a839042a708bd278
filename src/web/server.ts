/**
 * `ventas serve`: the dashboard page and its JSON API on node:http, reading and acting through the same modules as
 * the command line (coverage, plan, backfill). Routes (spec section 8):
 *   GET  /api/health                 {"status":"ok","database":"postgres|pglite"}
 *   GET  /api/coverage?from&to&stores the heatmap: per store one state letter per day, lines and USD per day
 *   GET  /api/gaps?from&to&stores     the JSON of spec section 4
 *   GET  /api/plan?from&to&stores     the JSON of spec section 5
 *   POST /api/backfill {from,to,stores?} 202 {"runId"}; 409 while one runs
 *   GET  /api/runs?limit              ETL runs and backfills, newest first
 *   GET  /api/runs/ID                 the backfill's section 6 summary, or {"status":"running",...progress}
 *   GET  /api/runs/ID/events          server-sent events: progress, breaker, done
 *   POST /api/runs/ID/cancel          200 {"runId","status":"cancelled"}; ID a backfill (12) or an ETL run (etl-7)
 *   POST /api/runs/ID/resume          202 {"runId"}: the backfill resumed here; 409 when it cannot be
 * Unknown runs are 404; a run whose state does not allow the change is 409, with the reason.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../catalogue/config.ts';
import { computeCoverage, toJson } from '../coverage/index.ts';
import { ping } from '../db/index.ts';
import type { Db } from '../db/types.ts';
import { planForReport } from '../plan/from-coverage.ts';
import { toPlanJson } from '../plan/index.ts';
import { UnreachableError, UsageError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { assertBindAllowed, bearerMatches, cookieValue, hostHeaderAllowed, isLoopbackHost, sameOrigin, sameSecret, TOKEN_COOKIE, tokenCookie } from './access.ts';
import { toHeatmap } from './heatmap.ts';
import { cancelRun } from '../runs/cancel.ts';
import { runDetail } from '../runs/detail.ts';
import { RunStateError, UnknownRunError } from '../runs/errors.ts';
import { isFinished, listRuns, readBackfillState, type BackfillState } from '../runs/history.ts';
import { formatRunRef, parseRunRef } from '../runs/ref.ts';
import { checkQuery, HttpError, parseLimit, parseRunId, windowFromBody, windowFromQuery, type WindowDefaults } from './params.ts';
import { BackfillRunner, type RunEvent } from './runner.ts';

export interface DashboardOptions {
  db: Db;
  config: Config;
  /** The KLK the backfill button fetches from. */
  klkUrl: string;
  logger: Logger;
  host: string;
  /** 0 takes a free port. */
  port: number;
  /** VENTAS_API_TOKEN: required on state-changing requests when set, and to bind beyond loopback. */
  token?: string;
  /** The page's initial window; what is absent follows the CLI's defaults (yesterday and the 89 days before). */
  window?: WindowDefaults;
  /** Requests in flight to KLK during a backfill and in the plan's estimate (default: the config's). */
  concurrency?: number;
}

export interface RunningDashboard {
  /** `http://HOST:PORT`. */
  url: string;
  port: number;
  /** Stops the running backfill (resumable), ends open event streams, and stops listening. The db stays open. */
  close(): Promise<void>;
}

/** The page: three static files, read once. */
const PUBLIC = new URL('./public/', import.meta.url);
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

const MAX_BODY_BYTES = 16 * 1024;
const HEARTBEAT_MS = 15_000;
/** How often a backfill run by another process is read from the ledger for its events. */
const POLL_MS = 1_000;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  // A JSON content type also keeps plain cross-site form posts out: browsers must ask first (CORS), and we never agree.
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'el cuerpo debe ser JSON (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `el cuerpo supera ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'el cuerpo no es JSON válido: se espera {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "stores": [...]}');
  }
}

function sseEvent(res: ServerResponse, event: RunEvent): void {
  // A poll or a run event can land just after the client left.
  if (!res.writableEnded) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
}

function createDashboardHandler(options: DashboardOptions) {
  const { db, config, logger } = options;
  const concurrency = options.concurrency ?? config.concurrency;
  const defaults = options.window ?? {};
  const runner = new BackfillRunner({ db, config, klkUrl: options.klkUrl, concurrency, logger });
  const loopback = isLoopbackHost(options.host);
  const streams = new Set<ServerResponse>();
  const pages = Object.fromEntries(Object.entries(STATIC).map(([path, s]) => [path, { type: s.type, body: readFileSync(new URL(s.file, PUBLIC)) }]));

  async function plan(query: URLSearchParams) {
    const window = windowFromQuery(query, config, defaults);
    const report = await computeCoverage(db, config, window);
    return toPlanJson(await planForReport(db, report, { config, concurrency }), 'npx ventas');
  }

  async function runState(id: number): Promise<BackfillState> {
    const live = runner.current();
    if (live?.id === id) return { status: 'running', ...live.progress };
    const state = await readBackfillState(db, id);
    if (!state) throw new HttpError(404, `no existe el backfill #${id}`);
    return state;
  }

  /** Progress as it happens for the backfill running here; polled from the ledger for one run by another process. */
  async function streamEvents(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
    const first = await runState(id);
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    const cleanups: Array<() => void> = [() => streams.delete(res)];
    const end = () => {
      cleanups.forEach((c) => c());
      res.end();
    };
    req.on('close', () => cleanups.forEach((c) => c()));
    const heartbeat = setInterval(() => res.write(': sigue\n\n'), HEARTBEAT_MS);
    cleanups.push(() => clearInterval(heartbeat));

    if (isFinished(first)) {
      sseEvent(res, { type: 'done', data: first });
      return end();
    }
    sseEvent(res, { type: 'progress', data: first });
    const unsubscribe = runner.subscribe(id, (event) => {
      sseEvent(res, event);
      if (event.type === 'done') end();
    });
    if (unsubscribe) {
      cleanups.push(unsubscribe);
      return;
    }
    let last = JSON.stringify(first);
    let polling = false;
    const poll = setInterval(async () => {
      if (polling) return;
      polling = true;
      try {
        const state = await runState(id);
        if (isFinished(state)) {
          sseEvent(res, { type: 'done', data: state });
          return end();
        }
        if (JSON.stringify(state) !== last) sseEvent(res, { type: 'progress', data: state });
        last = JSON.stringify(state);
      } catch (error) {
        logger.warn({ err: error, backfillId: id }, 'no se pudo leer el progreso del backfill');
      } finally {
        polling = false;
      }
    }, POLL_MS);
    cleanups.push(() => clearInterval(poll));
  }

  /**
   * Any request for data or a change: with a token set, the bearer token or the page's cookie (sales figures are
   * business secrets on a LAN), and never from another site's page. Only the health probe and the page's own files
   * stay open.
   */
  function allow(req: IncomingMessage, res: ServerResponse): void {
    if (options.token) {
      const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE);
      const granted = bearerMatches(req.headers.authorization, options.token) || (cookie !== undefined && sameSecret(cookie, options.token));
      if (!granted) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="ventas"');
        // Missing and wrong are different mistakes: each is named as what it is.
        throw new HttpError(
          401,
          req.headers.authorization || cookie !== undefined
            ? 'token incorrecto: envíe Authorization: Bearer <VENTAS_API_TOKEN> con el token con que se inició el servidor'
            : 'falta el token: envíe Authorization: Bearer <VENTAS_API_TOKEN>',
        );
      }
    }
    if (!sameOrigin(req.headers.origin, req.headers.host)) throw new HttpError(403, 'petición desde otro origen rechazada');
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const only = (allowed: 'GET' | 'POST') => {
      if (method !== allowed) {
        res.setHeader('Allow', allowed);
        throw new HttpError(405, `método ${method} no admitido en ${path}: use ${allowed}`);
      }
    };
    const page = pages[path === '/index.html' ? '/' : path];
    if (page) {
      only('GET');
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': page.type, 'Cache-Control': 'no-cache' });
      return void res.end(page.body);
    }
    if (path === '/api/health') {
      only('GET');
      checkQuery(url.searchParams, []);
      try {
        await ping(db);
      } catch (error) {
        return sendJson(res, 503, { status: 'error', database: db.kind, error: `la base de datos no responde: ${(error as Error).message}` });
      }
      return sendJson(res, 200, { status: 'ok', database: db.kind });
    }
    if (path === '/api/session') {
      // The page trades the token a person typed for an HttpOnly cookie, so it never sits where a script can read it.
      only('POST');
      if (!sameOrigin(req.headers.origin, req.headers.host)) throw new HttpError(403, 'petición desde otro origen rechazada');
      const body = await readJsonBody(req);
      const given = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
      if (!options.token) return sendJson(res, 200, { required: false });
      if (typeof given !== 'string' || !sameSecret(given, options.token)) throw new HttpError(401, 'token incorrecto');
      res.setHeader('Set-Cookie', tokenCookie(options.token));
      return sendJson(res, 200, { required: true });
    }
    if (path.startsWith('/api/')) allow(req, res);
    if (path === '/api/coverage' || path === '/api/gaps') {
      only('GET');
      const window = windowFromQuery(url.searchParams, config, defaults);
      const report = await computeCoverage(db, config, window);
      return sendJson(res, 200, path === '/api/gaps' ? toJson(report) : toHeatmap(report, config.stores));
    }
    if (path === '/api/plan') {
      only('GET');
      return sendJson(res, 200, await plan(url.searchParams));
    }
    if (path === '/api/backfill') {
      only('POST');
      checkQuery(url.searchParams, []);
      const window = windowFromBody(await readJsonBody(req), config);
      const runId = await runner.start(window);
      return sendJson(res, 202, { runId });
    }
    if (path === '/api/runs') {
      only('GET');
      return sendJson(res, 200, { runs: await listRuns(db, parseLimit(url.searchParams)) });
    }
    const change = /^\/api\/runs\/([^/]+)\/(cancel|resume)$/.exec(path);
    if (change) {
      only('POST');
      checkQuery(url.searchParams, []);
      const ref = parseRunRef(change[1]!);
      if (change[2] === 'cancel') {
        await cancelRun(db, ref);
        return sendJson(res, 200, { runId: ref.kind === 'backfill' ? ref.id : formatRunRef(ref), status: 'cancelled' });
      }
      if (ref.kind === 'etl') {
        const run = await runDetail(db, ref);
        throw new RunStateError(`la ejecución ${run.ref} no se puede reanudar: es una ejecución del ETL; solo se reanudan backfills`);
      }
      return sendJson(res, 202, { runId: await runner.resume(ref.id) });
    }
    const run = /^\/api\/runs\/([^/]+)(\/events)?$/.exec(path);
    if (run) {
      only('GET');
      checkQuery(url.searchParams, []);
      const id = parseRunId(run[1]!);
      if (run[2]) return streamEvents(req, res, id);
      return sendJson(res, 200, await runState(id));
    }
    throw new HttpError(404, `no existe ${path}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!hostHeaderAllowed(req.headers.host, loopback)) throw new HttpError(403, 'nombre de host no permitido: use 127.0.0.1 o localhost');
      const url = new URL(req.url ?? '/', 'http://localhost');
      await route(req, res, url);
    } catch (error) {
      if (res.headersSent) {
        logger.error({ err: error }, 'error tras empezar la respuesta');
        return void res.end();
      }
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      if (error instanceof UnknownRunError) return sendJson(res, 404, { error: error.message });
      if (error instanceof RunStateError) return sendJson(res, 409, { error: error.message });
      if (error instanceof UsageError) return sendJson(res, 400, { error: error.message });
      if (error instanceof UnreachableError) return sendJson(res, 503, { error: error.message });
      logger.error({ err: error, url: req.url }, 'error del tablero');
      return sendJson(res, 500, { error: `error interno: ${(error as Error).message}` });
    }
  }

  return {
    handle,
    /** Stops the backfill and ends the event streams (each gets no more events; EventSource will find the server gone). */
    async shutdown(): Promise<void> {
      await runner.stop();
      for (const res of streams) res.end();
    },
  };
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
      if (error.code === 'EADDRINUSE') reject(new UsageError(`el puerto ${port} ya está en uso en ${host}: elija otro con --port`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new UsageError(`no se puede escuchar en ${host}: ${error.message}`));
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
  assertBindAllowed(options.host, options.token);
  const dashboard = createDashboardHandler(options);
  const server = createServer((req, res) => void dashboard.handle(req, res));
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
