/**
 * The hourly sync: `ventas etl --todas` as cron runs it every hour (incremental: the last 30 minutes plus 60 of
 * overlap, then the check of the last 6 hours), for the 19 stores against the simulator with KLK's recorded
 * timings scaled down (by BENCH_HOURLY_LATENCY_FACTOR, see run.ts). The day is loaded up to the hour before first, so
 * each run is a real incremental one; three consecutive hours are run, each in its own process. The run's time
 * against the lower bound of its requests (see bound.ts: the slowest store's requests one after the other, or all of
 * them packed into the per-KLK limit), computed twice: from the latency model, and from what the simulator takes to
 * serve those same requests, sent again after the run by a client that only reads them, three at a time (the
 * simulator's own work, on the bench's machine, is in it: the model leaves it out, and the ETL cannot go below it);
 * and the share of the wall time that is not the ETL (process start-up and exit).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../src/catalogue/stores.ts';
import type { RunningSimulator } from '../src/sim/index.ts';
import type { Latency } from './backfill.ts';
import { requestsLowerBound } from './bound.ts';
import { connect, emptyDatabase, progress, ROOT, runNode } from './lib.ts';

export const HOURLY_DATABASE = 'ventas_bench_hourly';
const KLK_LIMIT = 3;
/** A Friday after the seed's window; the runs at 15:00, 16:00 and 17:00 (Caracas), the day loaded up to 14:00. */
const DAY = '2026-05-29';
const LOADED_UNTIL = '13:59';
const HOURS = ['15:00', '16:00', '17:00'];
/** The ETL's time may exceed the lower bound of the requests it waited on by this share. */
export const HOURLY_MAX_OVER = 0.15;

export interface HourlyRun {
  now: string;
  wallSeconds: number;
  etlSeconds: number;
  requests: number;
  lines: number;
  inserted: number;
  lowerBoundSeconds: number;
  /**
   * The same bound with what the simulator takes to serve the same requests (sent again, only read); measured for the
   * median run (by wall time), the one the figures show, null for the others.
   */
  servedBoundSeconds: number | null;
  slowestStore: { id: string; seconds: number };
  maxRssBytes: number | null;
}

export interface HourlyResult {
  latency: Latency;
  stores: number;
  day: string;
  runs: HourlyRun[];
}

const requestMs = (latency: Latency, lines: number) => latency.baseMs + (latency.perThousandMs * lines) / 1000;

function etlMsFromLog(logDir: string): number | null {
  for (const name of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, name), 'utf8').trim().split('\n').reverse()) {
      try {
        const entry = JSON.parse(line) as { msg?: string; durationMs?: number };
        if (entry.msg === 'fin de la ejecución' && typeof entry.durationMs === 'number') return entry.durationMs;
      } catch {
        // not a log line
      }
    }
  }
  return null;
}

async function etl(url: string, klkUrl: string, args: string[]) {
  const logDir = mkdtempSync(join(tmpdir(), 'ventas-bench-log-'));
  try {
    const started = performance.now();
    const child = await runNode(
      join(ROOT, 'bin/ventas'),
      ['etl', '--todas', ...args, '--klk-url', klkUrl, '--format', 'json'],
      {
        env: { DATABASE_URL: url, LOG_DIR: logDir, LOG_LEVEL: 'info' },
      },
    );
    const wallSeconds = (performance.now() - started) / 1000;
    if (child.code !== 0)
      throw new Error(
        `ventas etl terminó con código ${child.code}: ${child.stderr.slice(-2000)}${child.stdout.slice(-2000)}`,
      );
    const summary = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      runId: number;
      seconds: number;
      extracted: number;
      inserted: number;
    };
    return { child, summary, wallSeconds, etlMs: etlMsFromLog(logDir) ?? summary.seconds * 1000 };
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

interface LoggedRequest {
  store_id: string;
  lines: number;
  day_from: string;
  day_to: string;
  hora_desde: string | null;
  hora_hasta: string | null;
}

/** Each store's request durations, in the order the requests were made. */
function byStore(
  requests: readonly LoggedRequest[],
  duration: (r: LoggedRequest, i: number) => number,
): Map<string, number[]> {
  const map = new Map<string, number[]>();
  requests.forEach((r, i) => map.set(r.store_id, [...(map.get(r.store_id) ?? []), duration(r, i)]));
  return map;
}

/** What the simulator takes to serve each request again (POST to the whole body read), `KLK_LIMIT` at a time. */
async function servedMs(sim: RunningSimulator, stores: readonly Store[], requests: LoggedRequest[]): Promise<number[]> {
  const ms = new Array<number>(requests.length);
  let next = 0;
  const client = async () => {
    for (let i = next++; i < requests.length; i = next++) {
      const r = requests[i]!;
      const store = stores.find((s) => s.id === r.store_id)!;
      const body = {
        sucursal: store.sucursal,
        almacen: store.almacen,
        fecha_desde: r.day_from,
        fecha_hasta: r.day_to,
        ...(r.hora_desde !== null && { hora_desde: r.hora_desde }),
        ...(r.hora_hasta !== null && { hora_hasta: r.hora_hasta }),
      };
      const started = performance.now();
      const response = await fetch(`${sim.url}/ventas`, { method: 'POST', body: JSON.stringify(body) });
      await response.arrayBuffer();
      ms[i] = performance.now() - started;
      if (!response.ok) throw new Error(`el simulador respondió ${response.status} a ${JSON.stringify(body)}`);
    }
  };
  await Promise.all(Array.from({ length: KLK_LIMIT }, client));
  return ms;
}

export async function benchHourly(
  sim: RunningSimulator,
  serverUrl: string,
  stores: readonly Store[],
  latency: Latency,
): Promise<HourlyResult> {
  const storeCount = stores.length;
  sim.options.replay = null;
  sim.options.latencyMs = [0, 0];
  const url = await emptyDatabase(serverUrl, HOURLY_DATABASE);
  progress(`sincronización horaria: se carga ${DAY} hasta las ${LOADED_UNTIL} (${storeCount} tiendas, sin latencia)`);
  await etl(url, sim.url, ['--fecha-desde', `${DAY} 00:00`, '--fecha-hasta', `${DAY} ${LOADED_UNTIL}`]);
  sim.options.latencyMs = [latency.baseMs, latency.perThousandMs];
  const runs: HourlyRun[] = [];
  // Each run's requests.
  const requestsOf: LoggedRequest[][] = [];
  try {
    for (const hour of HOURS) {
      const now = `${DAY} ${hour}`;
      const { child, summary, wallSeconds, etlMs } = await etl(url, sim.url, ['--now', now]);
      const client = await connect(url);
      let requests: LoggedRequest[];
      try {
        requests = (
          await client.query<LoggedRequest>(
            `SELECT store_id, lines, day_from::text, day_to::text, hora_desde, hora_hasta
             FROM klk_requests WHERE run_id = $1 AND outcome IN ('ok', 'empty') ORDER BY id`,
            [summary.runId],
          )
        ).rows;
      } finally {
        await client.end();
      }
      requestsOf.push(requests);
      const modelled = byStore(requests, (r) => requestMs(latency, r.lines));
      const [slowestId, slowestMs] = [...modelled]
        .map(([id, ds]) => [id, ds.reduce((n, d) => n + d, 0)] as const)
        .sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
      const run: HourlyRun = {
        now,
        wallSeconds,
        etlSeconds: etlMs / 1000,
        requests: requests.length,
        lines: summary.extracted,
        inserted: summary.inserted,
        lowerBoundSeconds: requestsLowerBound(modelled, KLK_LIMIT) / 1000,
        servedBoundSeconds: null,
        slowestStore: { id: slowestId, seconds: slowestMs / 1000 },
        maxRssBytes: child.maxRssBytes,
      };
      runs.push(run);
      progress(
        `sincronización horaria ${now}: ${wallSeconds.toFixed(2)} s de reloj (ETL ${run.etlSeconds.toFixed(2)} s), ` +
          `cota inferior ${run.lowerBoundSeconds.toFixed(2)} s, ${run.requests} peticiones, ${run.lines} líneas`,
      );
    }
    // The median run's requests sent again, as the ETL sent them (the same latency), by a client that only reads.
    const median = [...runs.keys()].sort((a, b) => runs[a]!.wallSeconds - runs[b]!.wallSeconds)[
      Math.floor(runs.length / 2)
    ]!;
    const served = await servedMs(sim, stores, requestsOf[median]!);
    runs[median]!.servedBoundSeconds =
      requestsLowerBound(
        byStore(requestsOf[median]!, (_, i) => served[i]!),
        KLK_LIMIT,
      ) / 1000;
    progress(
      `sincronización horaria ${runs[median]!.now}: cota con lo que el simulador tarda en servir sus peticiones ${runs[median]!.servedBoundSeconds!.toFixed(2)} s`,
    );
  } finally {
    sim.options.latencyMs = [0, 0];
  }
  return { latency, stores: storeCount, day: DAY, runs };
}
