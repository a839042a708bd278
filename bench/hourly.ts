/**
 * The hourly sync: `ventas etl --todas` as cron runs it every hour (incremental: the last 30 minutes plus 60 of
 * overlap, then the check of the last 6 hours), for the 19 stores against the simulator with KLK's recorded
 * timings scaled down as for the backfill. The day is loaded up to the hour before first, so each run is a real
 * incremental one; three consecutive hours are run, each in its own process. Wall time (spawn to exit) against the
 * lower bound of its requests: the slowest store's requests one after the other, or all of them over the per-KLK
 * limit, whichever is longer; and the share of the wall time that is not the ETL (process start-up and exit).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSimulator } from '../src/sim/index.ts';
import type { Latency } from './backfill.ts';
import { connect, emptyDatabase, progress, ROOT, runNode } from './lib.ts';

export const HOURLY_DATABASE = 'ventas_bench_hourly';
const KLK_LIMIT = 3;
/** A Friday after the seed's window; the runs at 15:00, 16:00 and 17:00 (Caracas), the day loaded up to 14:00. */
const DAY = '2026-05-29';
const LOADED_UNTIL = '13:59';
const HOURS = ['15:00', '16:00', '17:00'];
/** The wall time may exceed the lower bound by this share. */
export const HOURLY_MAX_OVER = 0.15;

export interface HourlyRun {
  now: string;
  wallSeconds: number;
  etlSeconds: number;
  requests: number;
  lines: number;
  inserted: number;
  lowerBoundSeconds: number;
  /** The same bound with the requests' measured durations instead of the latency model's. */
  measuredBoundSeconds: number;
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

export async function benchHourly(
  sim: RunningSimulator,
  serverUrl: string,
  storeCount: number,
  latency: Latency,
): Promise<HourlyResult> {
  sim.options.replay = null;
  sim.options.latencyMs = [0, 0];
  const url = await emptyDatabase(serverUrl, HOURLY_DATABASE);
  progress(`sincronización horaria: se carga ${DAY} hasta las ${LOADED_UNTIL} (${storeCount} tiendas, sin latencia)`);
  await etl(url, sim.url, ['--fecha-desde', `${DAY} 00:00`, '--fecha-hasta', `${DAY} ${LOADED_UNTIL}`]);
  sim.options.latencyMs = [latency.baseMs, latency.perThousandMs];
  const runs: HourlyRun[] = [];
  try {
    for (const hour of HOURS) {
      const now = `${DAY} ${hour}`;
      const { child, summary, wallSeconds, etlMs } = await etl(url, sim.url, ['--now', now]);
      const client = await connect(url);
      let requests: Array<{ store_id: string; lines: number; duration_ms: number }>;
      try {
        requests = (
          await client.query<{ store_id: string; lines: number; duration_ms: number }>(
            `SELECT store_id, lines, duration_ms FROM klk_requests WHERE run_id = $1 AND outcome IN ('ok', 'empty')`,
            [summary.runId],
          )
        ).rows;
      } finally {
        await client.end();
      }
      const perStore = new Map<string, number>();
      for (const r of requests) perStore.set(r.store_id, (perStore.get(r.store_id) ?? 0) + requestMs(latency, r.lines));
      const [slowestId, slowestMs] = [...perStore].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
      const totalMs = requests.reduce((n, r) => n + requestMs(latency, r.lines), 0);
      const measured = new Map<string, number>();
      for (const r of requests) measured.set(r.store_id, (measured.get(r.store_id) ?? 0) + r.duration_ms);
      const measuredBoundMs = Math.max(
        ...measured.values(),
        requests.reduce((n, r) => n + r.duration_ms, 0) / KLK_LIMIT,
      );
      const run: HourlyRun = {
        now,
        wallSeconds,
        etlSeconds: etlMs / 1000,
        requests: requests.length,
        lines: summary.extracted,
        inserted: summary.inserted,
        lowerBoundSeconds: Math.max(slowestMs, totalMs / KLK_LIMIT) / 1000,
        measuredBoundSeconds: measuredBoundMs / 1000,
        slowestStore: { id: slowestId, seconds: slowestMs / 1000 },
        maxRssBytes: child.maxRssBytes,
      };
      runs.push(run);
      progress(
        `sincronización horaria ${now}: ${wallSeconds.toFixed(2)} s de reloj (ETL ${run.etlSeconds.toFixed(2)} s), ` +
          `cota inferior ${run.lowerBoundSeconds.toFixed(2)} s, ${run.requests} peticiones, ${run.lines} líneas`,
      );
    }
  } finally {
    sim.options.latencyMs = [0, 0];
  }
  return { latency, stores: storeCount, day: DAY, runs };
}
