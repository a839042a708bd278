import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from '../catalogue/stores.ts';
import { eachDay, isValidDate, localDateTime } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { ByteWriter } from './bytes.ts';
import { combine } from './hash.ts';
import {
  dayQuery,
  parseClock,
  StoreDay,
  storeBySucursal,
  truthDays,
  type DayQuery,
  type LineFilter,
} from './generator.ts';
import { parseSettings, type SimOptions } from './options.ts';

/** Counters of `POST /ventas` since start (or the last reset). */
export interface SimStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
}

export interface SimServer {
  server: Server;
  stats(): SimStats;
  resetStats(): void;
}

const COMMA = 44;
const MAX_BODY_BYTES = 1 << 20;
const FAILURE_BODIES: Record<number, string> = {
  500: 'Internal Server Error',
  502: '<html><body><h1>502 Bad Gateway</h1></body></html>',
  503: 'Service Unavailable',
};
const ERROR_PAYLOADS = [
  'Execution Timeout Expired. The timeout period elapsed prior to completion of the operation.',
  'Transaction (Process ID 87) was deadlocked on lock resources with another process.',
  'A network-related or instance-specific error occurred while establishing a connection to SQL Server.',
];

class BadRequest extends Error {}

interface VentasRequest {
  store: Store;
  sucursal: string;
  fechaDesde: string;
  fechaHasta: string;
  filter: LineFilter;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${key} debe ser un texto`);
  return value;
}

function parseVentasRequest(options: SimOptions, text: string): VentasRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest('el cuerpo no es JSON válido');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('el cuerpo debe ser un objeto JSON');
  }
  const b = body as Record<string, unknown>;
  const sucursal = optionalString(b, 'sucursal');
  if (!sucursal) throw new BadRequest('falta sucursal');
  const store = storeBySucursal(options, sucursal);
  if (!store) throw new BadRequest(`sucursal desconocida: ${sucursal}`);
  const fechaDesde = optionalString(b, 'fecha_desde');
  const fechaHasta = optionalString(b, 'fecha_hasta');
  for (const [key, value] of [
    ['fecha_desde', fechaDesde],
    ['fecha_hasta', fechaHasta],
  ] as const) {
    if (value === undefined) throw new BadRequest(`falta ${key}`);
    if (!isValidDate(value)) throw new BadRequest(`${key} inválida: ${value}; se espera YYYY-MM-DD`);
  }
  if (fechaDesde! > fechaHasta!) throw new BadRequest('fecha_desde es posterior a fecha_hasta');
  const horaDesde = optionalString(b, 'hora_desde');
  const horaHasta = optionalString(b, 'hora_hasta');
  for (const [key, value] of [
    ['hora_desde', horaDesde],
    ['hora_hasta', horaHasta],
  ] as const) {
    if (value !== undefined && parseClock(value) === null) {
      throw new BadRequest(`${key} inválida: ${value}; se espera HH:MM o HH:MM:SS`);
    }
  }
  const almacen = optionalString(b, 'almacen');
  const codArticulo = optionalString(b, 'CodArticulo');
  return {
    store,
    sucursal,
    fechaDesde: fechaDesde!,
    fechaHasta: fechaHasta!,
    filter: { horaDesde, horaHasta, almacen, codArticulo },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new BadRequest('cuerpo demasiado grande'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Waits `ms`, or until the client goes away. */
async function sleep(ms: number, res: ServerResponse): Promise<void> {
  if (ms <= 0) return;
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.once('close', onClose);
  await delay(ms, undefined, { signal: gone.signal }).catch(() => undefined);
  res.off('close', onClose);
}

/** Writes a chunk, waiting while the socket is full; false once the client has gone. */
async function send(res: ServerResponse, chunk: string | Buffer): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
  return !res.destroyed;
}

/** Whether a line is sent twice in this answer (salted per request, so the count and the body agree). */
function duplicated(lineHash: number, salt: number, rate: number): boolean {
  return rate > 0 && combine(lineHash, salt) / 4294967296 < rate;
}

function countLines(
  options: SimOptions,
  r: VentasRequest,
  query: DayQuery,
  nowLocal: string,
  salt: number,
  dupRate: number,
): number {
  let total = 0;
  for (const date of eachDay(r.fechaDesde, r.fechaHasta)) {
    const day = new StoreDay(options, r.store, date).setClock(nowLocal);
    for (const inv of day.invoices) {
      if (!day.invoiceVisible(inv, query)) continue;
      for (let linea = 1; linea <= inv.lineCount; linea++) {
        const lh = day.lineHash(inv, linea);
        if (day.lineSelected(lh, query)) total += duplicated(lh, salt, dupRate) ? 2 : 1;
      }
    }
  }
  return total;
}

/**
 * Streams the answer's lines in chunks of about 1 MB. With `cutAt >= 0` the body stops half-way through line
 * number `cutAt` (truncated) and the response ends; returns whether every line was sent.
 */
async function streamLines(
  res: ServerResponse,
  options: SimOptions,
  r: VentasRequest,
  query: DayQuery,
  nowLocal: string,
  salt: number,
  dupRate: number,
  cutAt: number,
): Promise<boolean> {
  const w = new ByteWriter();
  let emitted = 0;
  for (const date of eachDay(r.fechaDesde, r.fechaHasta)) {
    const day = new StoreDay(options, r.store, date).setClock(nowLocal);
    for (const inv of day.invoices) {
      if (!day.invoiceVisible(inv, query)) continue;
      const values = day.invoiceValues(inv);
      for (const line of values.lines) {
        if (!day.lineSelected(line.hash, query)) continue;
        for (let copies = duplicated(line.hash, salt, dupRate) ? 2 : 1; copies > 0; copies--) {
          if (w.full && !(await send(res, w.take()))) return false;
          if (emitted > 0) w.byte(COMMA);
          const start = w.pos;
          day.writeLine(w, values, line);
          if (emitted === cutAt) {
            const chunk = w.take();
            if (!res.destroyed) res.end(chunk.subarray(0, start + Math.ceil((chunk.length - start) / 2)));
            return false;
          }
          emitted++;
        }
      }
    }
  }
  return w.pos === 0 || send(res, w.take());
}

/**
 * The last replayed files (two: a run may alternate between a large and a small saved answer), each kept while it is
 * unchanged: a saved answer of hundreds of MB is read once, not per request.
 */
const REPLAY_CACHE_FILES = 2;
const replayCache = new Map<string, { mtimeMs: number; size: number; body: Buffer }>();

async function replayBody(path: string): Promise<Buffer> {
  const { mtimeMs, size } = await stat(path);
  let cached = replayCache.get(path);
  if (cached?.mtimeMs !== mtimeMs || cached.size !== size) cached = { mtimeMs, size, body: await readFile(path) };
  // Most recently used last: the first key is the one to drop.
  replayCache.delete(path);
  replayCache.set(path, cached);
  if (replayCache.size > REPLAY_CACHE_FILES) replayCache.delete(replayCache.keys().next().value!);
  return cached.body;
}

async function handleVentas(req: IncomingMessage, res: ServerResponse, options: SimOptions): Promise<void> {
  // Snapshot the settings: a change at runtime applies to the next request, never half-way through one.
  const o: SimOptions = { ...options };
  const text = await readBody(req);
  if (o.replay) {
    await sleep(o.latencyMs[0], res);
    const body = await replayBody(o.replay);
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
    return;
  }
  const r = parseVentasRequest(o, text);
  const query = dayQuery(o, r.filter);
  const nowLocal = localDateTime(r.store.timeZone, query.now);
  const salt = (Math.random() * 4294967296) >>> 0;
  const total = countLines(o, r, query, nowLocal, salt, o.duplicateRate);

  if (o.maxLines !== null && total > o.maxLines) {
    // Too big for KLK: it hangs, then the gateway gives up.
    await sleep(o.hangMs, res);
    if (!res.destroyed) res.writeHead(504, { 'content-type': 'text/plain' }).end('504 Gateway Time-out');
    return;
  }
  await sleep(o.latencyMs[0] + (o.latencyMs[1] * total) / 1000, res);
  if (res.destroyed) return;
  if (Math.random() < o.failRate) {
    const status = [500, 502, 503][Math.floor(Math.random() * 3)]!;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(FAILURE_BODIES[status]);
    return;
  }
  if (Math.random() < o.errorPayloadRate) {
    sendJson(res, 200, { error: ERROR_PAYLOADS[Math.floor(Math.random() * ERROR_PAYLOADS.length)] });
    return;
  }
  const bareList = Math.random() < o.listRate;
  const cutAt = Math.random() < o.truncateRate ? Math.floor(Math.random() * total) : -1;
  const meta = {
    sucursal_codigo: r.sucursal,
    fecha_desde: r.fechaDesde,
    fecha_hasta: r.fechaHasta,
    hora_desde: r.filter.horaDesde ?? '00:00:00',
    hora_hasta: r.filter.horaHasta ?? '23:59:59',
    CodArticulo: r.filter.codArticulo ?? '',
    almacen: r.filter.almacen ?? '',
    total_registros: total,
    fecha_generacion: new Date().toISOString(),
  };
  const opening = bareList ? '[' : `{"meta":${JSON.stringify(meta)},"ventas":[`;
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  if (total === 0 && cutAt === 0) {
    res.end(opening.slice(0, Math.ceil(opening.length / 2)));
    return;
  }
  if (!(await send(res, opening))) return;
  if (await streamLines(res, o, r, query, nowLocal, salt, o.duplicateRate, cutAt)) res.end(bareList ? ']' : ']}');
}

function handleDays(url: URL, res: ServerResponse, options: SimOptions): void {
  const p = url.searchParams;
  const sucursal = p.get('sucursal') ?? '';
  const desde = p.get('desde') ?? '';
  const hasta = p.get('hasta') ?? '';
  if (!storeBySucursal(options, sucursal)) throw new BadRequest(`sucursal desconocida: ${sucursal}`);
  if (!isValidDate(desde) || !isValidDate(hasta) || desde > hasta) {
    throw new BadRequest('desde y hasta deben ser fechas YYYY-MM-DD con desde <= hasta');
  }
  sendJson(res, 200, truthDays(options, sucursal, desde, hasta, p.get('almacen') || undefined));
}

/** The current seed, scale, faults and clock (the store catalogue left out). */
function settingsView(options: SimOptions): Record<string, unknown> {
  const { stores: _stores, closedDays: _closedDays, ...view } = options;
  return { ...view, now: options.now?.toISOString() ?? null };
}

/** The HTTP simulator over mutable options: faults and clock changes apply to the next request. */
export function createSimServer(options: SimOptions): SimServer {
  const stats: SimStats = { requests: 0, inFlight: 0, maxInFlight: 0 };
  // Requests still running stay counted in flight: the counter must never go negative.
  const resetStats = () => Object.assign(stats, { requests: 0, maxInFlight: stats.inFlight });
  const timeZone = () => options.stores?.[0]?.timeZone ?? 'America/Caracas';

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const route = `${req.method} ${url.pathname}`;
    let work: Promise<void>;
    if (route === 'POST /ventas') {
      stats.requests++;
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      res.once('close', () => void stats.inFlight--);
      work = handleVentas(req, res, options);
    } else if (route === 'GET /__sim/days') {
      work = Promise.resolve().then(() => handleDays(url, res, options));
    } else if (route === 'GET /__sim/stats') {
      work = Promise.resolve(sendJson(res, 200, stats));
    } else if (route === 'POST /__sim/stats/reset') {
      resetStats();
      work = Promise.resolve(sendJson(res, 200, stats));
    } else if (route === 'GET /__sim/faults') {
      work = Promise.resolve(sendJson(res, 200, settingsView(options)));
    } else if (route === 'POST /__sim/faults') {
      work = readBody(req).then((text) => {
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch {
          throw new BadRequest('el cuerpo no es JSON válido');
        }
        Object.assign(options, parseSettings(raw, timeZone()));
        sendJson(res, 200, settingsView(options));
      });
    } else {
      work = Promise.resolve(sendJson(res, 404, { error: `ruta desconocida: ${route}` }));
    }
    work.catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const bad = error instanceof BadRequest || error instanceof UsageError;
      sendJson(res, bad ? 400 : 500, { error: (error as Error).message });
    });
  });
  return {
    server,
    stats: () => ({ ...stats }),
    resetStats: () => void resetStats(),
  };
}
