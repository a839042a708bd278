import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from '../catalogue/stores.ts';
import { liveness } from '../db/liveness.ts';
import { COMMAND_PATIENCE_MS, watchDatabase, type DatabaseEvent, type DatabaseWatch } from '../db/reconnect.ts';
import type { Db } from '../db/types.ts';
import { fetchWindow, loadAnswer, recordFailure, silentDays } from '../extract/index.ts';
import { DAY_END, DAY_START, isWholeDays, planWindows, type KlkClient, type KlkWindow } from '../klk/index.ts';
import { hoursWithSales } from '../load/ventas.ts';
import { databaseLostDuring, isDatabaseLost } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { mapPool, roundRobin } from '../shared/pool.ts';
import { addMinutes, type Interval, type LocalDateTime } from './interval.ts';
import { acquireLeases, releaseLeases, renewLeases } from './leases.ts';
import {
  closeAbandonedRuns,
  emptyStoreResult,
  finishRun,
  leaseHolder,
  startRun,
  type RunStatus,
  type RunType,
  type StoreResult,
} from './runs.ts';

export interface EtlJob {
  type: RunType;
  /** Each store with the intervals to load for it (already clamped to its life). */
  targets: ReadonlyArray<{ store: Store; intervals: readonly Interval[] }>;
  chunkDays: number;
  dryRun?: boolean;
  /** Delete rows KLK no longer has, for whole days whose answer was verified complete. */
  mirror?: boolean;
  /** After loading, re-fetch the empty opening hours of the last six (incremental runs). */
  gapRecovery?: { now: LocalDateTime } | null;
  /** The command line, kept in the run history. */
  command?: string;
}

export interface EtlDeps {
  db: Db;
  klk: KlkClient;
  logger: Logger;
  /** Requests in flight per KLK (the client enforces it; tasks overlap loading with fetching). */
  concurrency: number;
  leaseTtlMs?: number;
  /** How long to wait for a store held by another run before skipping it. */
  leaseWaitMs?: number;
  onProgress?: (progress: EtlProgress) => void;
  /** Aborted (Ctrl-C): no request is started any more, those in flight finish; the run ends `interrupted`. */
  stop?: AbortSignal;
  /** Aborted (a second Ctrl-C): requests in flight are cut; their windows are left for the resume command too. */
  signal?: AbortSignal;
  /** How long the run waits in all for a lost database before it stops with exit 3 (default 10 s). */
  databasePatienceMs?: number;
  /** The database was lost (the run waits for it up to its patience), or answers again. */
  onDatabase?: (event: DatabaseEvent) => void;
}

/** A run's dependencies, with the watch that waits out a lost database for all its tasks at once. */
type RunDeps = EtlDeps & { database: DatabaseWatch };

export interface EtlProgress {
  requestsDone: number;
  requestsTotal: number;
  lines: number;
}

export interface EtlSummary {
  runId: number | null;
  type: RunType;
  status: RunStatus;
  dryRun: boolean;
  durationMs: number;
  stores: Record<string, StoreResult>;
  totals: {
    storesOk: number;
    storesFailed: number;
    storesSkipped: number;
    storesInterrupted: number;
    requests: number;
    extracted: number;
    inserted: number;
    updated: number;
    unchanged: number;
    deleted: number;
    duplicates: number;
    quarantined: number;
  };
}

interface Task {
  store: Store;
  window: KlkWindow;
}

const GAP_CHECK_HOURS = 6;

/** One ETL run: every store's windows fetched, validated and loaded, with leases, history and per-store outcome. */
export async function runEtl(deps: EtlDeps, job: EtlJob): Promise<EtlSummary> {
  const started = performance.now();
  const { db, logger } = deps;
  const dryRun = job.dryRun ?? false;
  const results: Record<string, StoreResult> = Object.fromEntries(
    job.targets.map((t) => [t.store.id, emptyStoreResult()]),
  );
  const storeIds = job.targets.map((t) => t.store.id);
  const ttlMs = deps.leaseTtlMs ?? 120_000;

  const intervals = job.targets.flatMap((t) => t.intervals);
  const window = intervals.length
    ? {
        from: intervals.map((i) => i.from).sort()[0]!,
        to: intervals
          .map((i) => i.to)
          .sort()
          .at(-1)!,
      }
    : null;
  let runId: number | null = null;
  let holder = '';
  if (!dryRun) {
    // Recorded with the process that runs it (alive as long as that is), so a killed run reads interrupted at once.
    const owner = (await liveness(db)).owner();
    runId = await startRun(db, { type: job.type, window, stores: storeIds, command: job.command, owner });
    holder = leaseHolder(runId, owner);
  }
  const log = logger.child({ runId, type: job.type });
  const run: RunDeps = {
    ...deps,
    database: watchDatabase(db, {
      logger: log,
      patienceMs: deps.databasePatienceMs ?? COMMAND_PATIENCE_MS,
      onEvent: deps.onDatabase,
    }),
  };
  log.info({ stores: storeIds, window, chunkDays: job.chunkDays, dryRun }, 'inicio de la ejecución');

  const held = dryRun
    ? storeIds
    : await acquireWithWait(db, storeIds, holder, ttlMs, deps.leaseWaitMs ?? 30_000, deps.stop, runId);
  for (const id of storeIds) {
    if (!held.includes(id)) {
      results[id]!.status = 'skipped';
      results[id]!.errors.push('otra ejecución tiene la tienda en curso');
      results[id]!.failedWindows.push(...job.targets.find((t) => t.store.id === id)!.intervals);
    }
  }
  const renewal = dryRun
    ? null
    : setInterval(() => void renewLeases(db, held, holder, ttlMs).catch(() => {}), ttlMs / 3);

  let fatal: unknown = null;
  try {
    const targets = job.targets.filter((t) => held.includes(t.store.id));
    // Round-robin across stores, so every store advances and one slow store does not hold the tail.
    await runTasks(
      run,
      job,
      runId,
      results,
      roundRobin(targets.map((t) => t.intervals.flatMap((i) => tasksFor(t.store, i, job.chunkDays)))),
    );
    if (job.gapRecovery && !deps.stop?.aborted) {
      const { now } = job.gapRecovery;
      const recovered = targets.map((t) => t.store).filter((s) => results[s.id]!.status === 'success');
      const recovery = await run.database.retry(() => gapRecoveryTasks(db, recovered, now), deps.signal);
      if (recovery.length > 0) {
        log.info({ requests: recovery.length }, 'recuperación de horas vacías recientes');
        await runTasks(run, job, runId, results, recovery);
      }
    }
  } catch (error) {
    fatal = error;
  } finally {
    if (renewal) clearInterval(renewal);
    if (!dryRun) await releaseLeases(db, held, holder).catch(() => {});
  }

  const summary = summarize(runId, job.type, dryRun, performance.now() - started, results);
  if (fatal) summary.status = 'failed';
  if (runId !== null) {
    // A database lost right at the end is waited for too (an UPDATE: made twice, the same); one already given up on
    // is not, and the run then reads interrupted (its leases are held by a process that is gone).
    const error = fatal ? String((fatal as Error).message) : null;
    await run.database.retry(() => finishRun(db, runId, summary.status, results, error), deps.signal).catch(() => {});
  }
  log.info({ status: summary.status, totals: summary.totals, durationMs: summary.durationMs }, 'fin de la ejecución');
  // Loads are upserts: the same command, for the same window and stores, completes what the lost database cut short.
  if (isDatabaseLost(fatal) && runId !== null && window) {
    throw databaseLostDuring(fatal, `la ejecución etl-${runId}`, `repítala con: ${rerunCommand(storeIds, window)}`);
  }
  if (fatal) throw fatal;
  return summary;
}

/**
 * The command that loads these stores over this window again, as resumeCommands writes its own: what resumes a run
 * that died before it could say what it left (the load is idempotent, so what it had done is only confirmed).
 */
export function rerunCommand(storeIds: readonly string[], window: Interval): string {
  return `ventas etl --tiendas ${storeIds.join(' ')} --fecha-desde "${window.from.slice(0, 16)}" --fecha-hasta "${window.to.slice(0, 16)}"`;
}

async function acquireWithWait(
  db: Db,
  storeIds: string[],
  holder: string,
  ttlMs: number,
  waitMs: number,
  stop: AbortSignal | undefined,
  runId: number | null,
): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  // A holder whose process is gone (kill -9, a crash, a lost database, on any host) gives its stores up at once,
  // not after its lease, and its run, which it could not close, is recorded as interrupted.
  const acquire = async (ids: string[]) => {
    const held = await acquireLeases(db, ids, holder, ttlMs);
    await closeAbandonedRuns(db, held, runId);
    return held;
  };
  let held = await acquire(storeIds);
  while (held.length < storeIds.length && Date.now() < deadline && !stop?.aborted) {
    await delay(Math.min(1_000, Math.max(0, deadline - Date.now())));
    held = [...new Set([...held, ...(await acquire(storeIds.filter((id) => !held.includes(id))))])];
  }
  return held;
}

function tasksFor(store: Store, interval: Interval, chunkDays: number): Task[] {
  return planWindows(interval.from, interval.to, chunkDays).map((window) => ({ store, window }));
}

async function runTasks(
  deps: RunDeps,
  job: EtlJob,
  runId: number | null,
  results: Record<string, StoreResult>,
  tasks: Task[],
) {
  const progress: EtlProgress = { requestsDone: 0, requestsTotal: tasks.length, lines: 0 };
  deps.onProgress?.(progress);
  // Twice the KLK limit in tasks: while one answer is being written, another request already waits for KLK.
  await mapPool(tasks, deps.concurrency * 2, async (task) => {
    const dealtWith = await fetchAndLoad(deps, job, runId, results[task.store.id]!, task.store, task.window, progress);
    if (!dealtWith) return;
    progress.requestsDone++;
    deps.onProgress?.(progress);
  });
}

/** One window fetched and loaded (or failed, reported): true; false when the run was stopped before it was done. */
async function fetchAndLoad(
  deps: RunDeps,
  job: EtlJob,
  runId: number | null,
  result: StoreResult,
  store: Store,
  window: KlkWindow,
  progress: EtlProgress,
): Promise<boolean> {
  const { db, klk, logger, database } = deps;
  if (deps.stop?.aborted) return interrupted(result, window);
  // Loaded as it arrives, unless it is only read.
  const streamInto = job.dryRun ? undefined : db;
  const answer = await fetchWindow(klk, store, window, { signal: deps.signal, streamInto }).catch((error: unknown) => {
    if (deps.signal?.aborted) return null;
    throw error;
  });
  if (!answer) return interrupted(result, window);
  if (!answer.ok) {
    if (!job.dryRun) await database.retry(() => recordFailure(db, answer, runId), deps.signal);
    // A multi-day request that times out is split rather than retried whole.
    if (answer.halves) {
      logger.warn({ store: store.id, window }, 'tiempo agotado: se divide la petición');
      for (const half of answer.halves) await fetchAndLoad(deps, job, runId, result, store, half, progress);
      return true;
    }
    result.unreachable = answer.unreachable && (result.status !== 'failed' || result.unreachable);
    if (result.status !== 'interrupted') result.status = 'failed';
    result.errors.push(`${describeWindow(window)}: ${answer.message}`);
    result.failedWindows.push(windowInterval(window));
    logger.error({ store: store.id, window, err: answer.message }, 'petición fallida');
    return true;
  }

  const { batch } = answer;
  result.requests++;
  result.extracted += batch.received;
  result.duplicates += batch.duplicates;
  progress.lines += batch.received;
  if (job.dryRun) {
    result.quarantined += batch.rejected;
    result.unchanged += batch.size;
    return true;
  }
  // The request is recorded with its load, as the backfill does: one commit, both or neither. A database lost under
  // it is waited for and the whole load made again (an upsert: the answer in hand loads the same twice).
  const counts = await database.retry(
    () => loadAnswer(db, answer, { runId, mirror: Boolean(job.mirror) }),
    deps.signal,
  );
  if (isWholeDays(window)) {
    const silent = silentDays(answer);
    if (silent.length > 0) result.unprovenEmptyDays = [...(result.unprovenEmptyDays ?? []), ...silent].sort();
  }
  result.inserted += counts.inserted;
  result.updated += counts.updated;
  result.unchanged += counts.unchanged;
  result.deleted += counts.deleted;
  result.quarantined += counts.quarantined;
  logger.info(
    { store: store.id, window, lines: batch.received, ...counts, duplicates: batch.duplicates },
    'ventana cargada',
  );
  return true;
}

/** A window the run was stopped before loading: left, with the store, for the command that resumes. False: not done. */
function interrupted(result: StoreResult, window: KlkWindow): false {
  // Unfinished is what the store is, whatever else failed in it: its resume command carries both.
  result.status = 'interrupted';
  result.failedWindows.push(windowInterval(window));
  return false;
}

/**
 * The recent-gap check: opening hours of the last six with no rows are fetched again, and a store with no rows at
 * all in them (a total outage, which an hour-by-hour scan of existing rows never sees) is fetched whole.
 */
async function gapRecoveryTasks(db: Db, stores: Store[], now: LocalDateTime): Promise<Task[]> {
  const currentHour = `${now.slice(0, 13)}:00:00`;
  const hours = Array.from({ length: GAP_CHECK_HOURS }, (_, i) => addMinutes(currentHour, -60 * (GAP_CHECK_HOURS - i)));
  const tasks: Task[] = [];
  const withSales = await hoursWithSales(
    db,
    stores.map((s) => s.id),
    hours[0]!,
    currentHour,
  );
  for (const store of stores) {
    const open = hours.filter((h) => withinOpeningHours(store, h));
    if (open.length === 0) continue;
    const seen = withSales.get(store.id) ?? new Set();
    const empty = open.filter((h) => !seen.has(h));
    if (empty.length === open.length) {
      tasks.push(...tasksFor(store, { from: hours[0]!, to: now }, 1));
      continue;
    }
    for (const h of empty) {
      tasks.push({
        store,
        window: {
          fechaDesde: h.slice(0, 10),
          fechaHasta: h.slice(0, 10),
          horaDesde: h.slice(11),
          horaHasta: `${h.slice(11, 13)}:59:59`,
        },
      });
    }
  }
  return tasks;
}

function withinOpeningHours(store: Store, hourStart: LocalDateTime): boolean {
  const hhmm = hourStart.slice(11, 16);
  const closes = store.closes === '00:00' ? '24:00' : store.closes;
  return hhmm >= `${store.opens.slice(0, 2)}:00` && hhmm < closes;
}

function windowInterval(w: KlkWindow): Interval {
  return { from: `${w.fechaDesde} ${w.horaDesde ?? DAY_START}`, to: `${w.fechaHasta} ${w.horaHasta ?? DAY_END}` };
}

function describeWindow(w: KlkWindow): string {
  const i = windowInterval(w);
  return `${i.from.slice(0, 16)} a ${i.to.slice(0, 16)}`;
}

function summarize(
  runId: number | null,
  type: RunType,
  dryRun: boolean,
  durationMs: number,
  stores: Record<string, StoreResult>,
): EtlSummary {
  const all = Object.values(stores);
  const sum = (key: keyof StoreResult) => all.reduce((n, r) => n + (r[key] as number), 0);
  const totals = {
    storesOk: all.filter((r) => r.status === 'success').length,
    storesFailed: all.filter((r) => r.status === 'failed').length,
    storesSkipped: all.filter((r) => r.status === 'skipped').length,
    storesInterrupted: all.filter((r) => r.status === 'interrupted').length,
    requests: sum('requests'),
    extracted: sum('extracted'),
    inserted: sum('inserted'),
    updated: sum('updated'),
    unchanged: sum('unchanged'),
    deleted: sum('deleted'),
    duplicates: sum('duplicates'),
    quarantined: sum('quarantined'),
  };
  const status: RunStatus =
    totals.storesInterrupted > 0
      ? 'interrupted'
      : all.length > 0 && totals.storesSkipped === all.length
        ? 'skipped'
        : totals.storesOk === all.length
          ? 'success'
          : totals.storesOk === 0
            ? 'failed'
            : 'partial';
  return { runId, type, status, dryRun, durationMs: Math.round(durationMs), stores, totals };
}

/** The commands that load exactly what failed, grouped by identical window. */
export function resumeCommands(summary: Pick<EtlSummary, 'stores'>): string[] {
  const byWindow = new Map<string, string[]>();
  for (const [id, r] of Object.entries(summary.stores)) {
    if (r.status === 'success') continue;
    const windows = r.failedWindows?.length ? r.failedWindows : null;
    if (!windows) continue;
    const from = windows.map((w) => w.from).sort()[0]!;
    const to = windows
      .map((w) => w.to)
      .sort()
      .at(-1)!;
    const key = `--fecha-desde "${from.slice(0, 16)}" --fecha-hasta "${to.slice(0, 16)}"`;
    byWindow.set(key, [...(byWindow.get(key) ?? []), id]);
  }
  return [...byWindow].map(([window, ids]) => `ventas etl --tiendas ${ids.join(' ')} ${window}`);
}
