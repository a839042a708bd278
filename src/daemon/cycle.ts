/**
 * One daemon cycle (`ventas daemon --once`, and each turn of the long-running loop): the ticks due now (sync first,
 * then the nightly recovery), coverage of the lookback, healing of the backlog within a request budget, incidents
 * decided from what the cycle saw, and the alerts due. Its dependencies are passed in, so tests and the CLI run the
 * same cycle on a simulated clock.
 */
import { Cron } from 'croner';
import type { Config, HealConfig } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import { createAlertSender } from '../alerts/channels.ts';
import { deliverDue, type DeliveryReport } from '../alerts/deliver.ts';
import { computeCoverage } from '../coverage/compute.ts';
import type { DayCell, DayState } from '../coverage/states.ts';
import type { Db } from '../db/types.ts';
import { liveness } from '../db/liveness.ts';
import { decide, type Observed } from '../incidents/rules.ts';
import { applyDecision, readIncidentState, type AppliedDecision } from '../incidents/store.ts';
import type { KlkClient } from '../klk/index.ts';
import { addDays, localDateTime, type IsoDate } from '../shared/dates.ts';
import type { Logger } from '../shared/logger.ts';
import { runEtl, type EtlSummary } from '../sync/etl.ts';
import { clampToStoreLife, incrementalInterval, type Interval } from '../sync/interval.ts';
import type { RunType } from '../sync/runs.ts';
import type { DaemonMetrics } from './metrics.ts';
import { healStoreDaysInFlight } from '../backfill/ledger.ts';
import { healRequestsInHour, recordCycle } from './cycles.ts';
import { budgetedKlk, type BudgetedKlk } from './heal-budget.ts';
import { readStoreSyncs, recordStoreSyncs, type StoreSync } from './store-syncs.ts';
import { attemptsOf, clearHealAttempts, readHealAttempts, recordHealAttempts, type StoreDay } from './heal-attempts.ts';
import { daemonTicks, latestDue, tickState, type Tick } from './schedule.ts';
import { claimTick, failTick, finishTick, readTicks, type TickClaim, type TickRecord } from './ticks.ts';

export interface CycleDeps {
  db: Db;
  config: Config;
  /** A KLK client for a part of the cycle (`sync`, `recovery`, `heal`): each its own, with its own concurrency. */
  openKlk: (purpose: 'sync' | 'recovery' | 'heal') => KlkClient;
  /** The ventas clock (clock.ts now(), simulated time included). */
  now: () => Date;
  logger: Logger;
  metrics?: DaemonMetrics;
  /** The command recorded with each ETL run of the cycle. */
  command?: string;
  /** Aborted (shutting down): the cycle's ETL runs start no more requests and end `interrupted` (runEtl's `stop`). */
  stop?: AbortSignal;
  /** Aborted (the shutdown's grace ran out): requests in flight are cut too (runEtl's `signal`). */
  signal?: AbortSignal;
  /**
   * On PostgreSQL: the heal's store-days go to the ledger as a queued backfill that every daemon's worker runs.
   * Without it (PGlite, `--once`) this process heals them itself.
   */
  healQueue?: HealQueue;
}

/** What became of the store-days a heal posted, from the ledger, once it stopped following them. */
export interface HealRun {
  /** Requests made for them (a chunk's tries). */
  requests: number;
  rows: number;
  /** `running` when some are still queued or in hand: whoever is free finishes them. */
  status: EtlSummary['status'];
  /** The store-days whose chunk was tried at least once. */
  tried: StoreDay[];
}

export interface HealQueue {
  /**
   * Posts the store-days as one queued backfill, one chunk each, and follows it until none is pending or running,
   * `stop` is aborted, or its time bound passes; `signal` cuts the work this process has in hand.
   */
  run(
    storeDays: ReadonlyArray<{ store: Store; day: IsoDate }>,
    signals: { stop?: AbortSignal; signal?: AbortSignal },
  ): Promise<HealRun>;
}

export interface TickOutcome {
  name: string;
  kind: 'sync' | 'recovery';
  dueAt: Date;
  /** Another process claimed this due time first: nothing ran here. */
  claimed: boolean;
  status: EtlSummary['status'] | null;
  rows: number;
  requests: number;
  /** KLK stopped answering during the tick: every store that failed found it unreachable (klkStoppedAnswering). */
  unreachable: boolean;
  error: string | null;
}

export interface HealOutcome {
  /** Store-days waiting before the heal (older than heal.graceMinutes). */
  backlogBefore: number;
  /** Store-days taken this cycle: newest first, at most `budget` (one request each). */
  attempted: number;
  /**
   * KLK requests the heal could send this cycle: heal.maxRequestsPerHour less what the cycles of the last hour sent
   * (whoever led them), retries included.
   */
  budget: number;
  /** KLK requests the heal sent (HTTP attempts, retries included). */
  requests: number;
  rows: number;
  status: EtlSummary['status'] | null;
  backlogAfter: number;
  /** The backlog is above heal.bigAboveStoreDays and the time is outside heal.bigWindow: it waits for the window. */
  deferred: boolean;
  bigAboveStoreDays: number;
  bigWindow: string;
  /** Store-days still incomplete after heal.maxAttempts: no longer tried, an incident says so. */
  exhausted: number;
  maxAttempts: number;
}

export interface CycleSummary {
  startedAt: Date;
  endedAt: Date;
  ticks: TickOutcome[];
  heal: HealOutcome;
  /** The checked window (lookback up to yesterday, in the chain's zone). */
  window: { from: IsoDate; to: IsoDate };
  storeDays: Partial<Record<DayState, number>>;
  incidents: { opened: number; reminded: number; resolved: number; open: number };
  deliveries: DeliveryReport;
}

/** A store-day the heal may take: incomplete and past its grace. */
interface BacklogDay {
  store: Store;
  day: IsoDate;
  /** Not to be asked before this instant (ms): KLK's second empty answer proves nothing earlier. */
  notBefore: number;
}

/**
 * When a store-day of the backlog is worth a request: at once, except a day KLK answered empty once on a weekday the
 * store usually sells, which only a second empty answer from `confirmFrom` on can prove (asking sooner spends the
 * budget and an attempt on an answer that cannot settle it).
 */
export function healNotBefore(cell: Pick<DayCell, 'unprovenEmpty'>): number {
  const waiting = cell.unprovenEmpty?.reason === 'needs-second-answer' ? cell.unprovenEmpty.confirmFrom : null;
  return waiting ? Date.parse(waiting) : 0;
}

const rowsOf = (s: EtlSummary) => s.totals.inserted + s.totals.updated;

/** KLK did not answer any of the run's stores (every one failed unreachable). */
function allUnreachable(s: EtlSummary): boolean {
  const results = Object.values(s.stores);
  return results.length > 0 && results.every((r) => r.status === 'failed' && r.unreachable);
}

/**
 * KLK stopped answering during the run: some store failed and every store that failed found KLK unreachable. Those
 * that answered did so before it went down (an outage that starts halfway through a sync); counting the run as
 * unreachable lets `klk_unreachable` open for the outage instead of one `store_stale` per store it starved.
 */
function klkStoppedAnswering(s: EtlSummary): boolean {
  const failed = Object.values(s.stores).filter((r) => r.status === 'failed');
  return failed.length > 0 && failed.every((r) => r.unreachable);
}

/**
 * One cycle, recorded in daemon_cycles (cycles.ts) for every daemon process to read; a cycle that fails is recorded
 * too, with why, since the heal requests it sent count against the hour all the same.
 */
export async function runCycle(deps: CycleDeps): Promise<CycleSummary> {
  const startedAt = deps.now();
  const spending: HealSpending = { klk: null };
  try {
    return await cycle(deps, startedAt, spending);
  } catch (error) {
    // Best effort (the database may be what failed): the cycle's own error is the one that surfaces.
    await liveness(deps.db)
      .then((l) =>
        recordCycle(deps.db, {
          owner: l.owner(),
          startedAt,
          endedAt: deps.now(),
          healRequests: spending.klk?.spent() ?? spending.queued ?? 0,
          backlog: null,
          storeDays: null,
          error: (error as Error).message ?? String(error),
        }),
      )
      .catch(() => {});
    throw error;
  }
}

/** The heal's budgeted KLK client once the heal started: what it spent counts even if the cycle then fails. */
interface HealSpending {
  klk: BudgetedKlk | null;
  /** The queued heal's requests (PostgreSQL), once the cycle stopped following it. */
  queued?: number;
}

async function cycle(deps: CycleDeps, startedAt: Date, spending: HealSpending): Promise<CycleSummary> {
  const { db, config, logger } = deps;
  const stores = config.stores;
  const byId = new Map(stores.map((s) => [s.id, s]));
  const chainZone = stores[0]?.timeZone ?? 'America/Caracas';
  const owner = (await liveness(db)).owner();

  const etl = (
    purpose: 'sync' | 'recovery' | 'heal',
    type: RunType,
    targets: EtlTarget[],
    gapNow?: string,
    klk: KlkClient = deps.openKlk(purpose),
  ) =>
    runEtl(
      { db, klk, logger, concurrency: config.concurrency, stop: deps.stop, signal: deps.signal },
      {
        type,
        targets,
        chunkDays: 1,
        gapRecovery: gapNow ? { now: gapNow } : null,
        command: deps.command ?? 'ventas daemon --once',
      },
    );

  // 1. The ticks due now: every sync before any recovery, so the hour's sales come first.
  const ticks = daemonTicks(config.daemon, stores);
  const records = new Map((await readTicks(db)).map((r) => [r.name, r]));
  const outcomes: TickOutcome[] = [];
  for (const kind of ['sync', 'recovery'] as const) {
    for (const tick of ticks.filter((t) => t.kind === kind)) {
      const record = records.get(tick.name);
      const { dueAt } = tickState(tick, record && !record.interrupted ? record.lastDueAt : null, deps.now());
      // An interrupted run of the latest due time is taken again: claimTick allows it only when its owner is gone.
      const retake = record?.interrupted ? tickState(tick, null, deps.now()).dueAt : null;
      const due = dueAt ?? (retake && record && retake.getTime() === record.lastDueAt.getTime() ? retake : null);
      if (!due) continue;
      // Shutting down: no new tick is claimed; the next start runs what is due then.
      if (deps.stop?.aborted) break;
      outcomes.push(await runTick(tick, due));
    }
  }

  async function runTick(tick: Tick, dueAt: Date): Promise<TickOutcome> {
    const claim: TickClaim = { name: tick.name, dueAt, owner, at: deps.now() };
    const outcome: TickOutcome = {
      name: tick.name,
      kind: tick.kind,
      dueAt,
      claimed: false,
      status: null,
      rows: 0,
      requests: 0,
      unreachable: false,
      error: null,
    };
    if (!(await claimTick(db, claim))) return outcome;
    outcome.claimed = true;
    const local = localDateTime(tick.timeZone, claim.at);
    const owed = tick.kind === 'recovery' ? owedDay(tick, dueAt, config) : null;
    const interval: Interval = owed
      ? { from: `${owed} 00:00:00`, to: `${owed} 23:59:59` }
      : incrementalInterval(local, config.daemon.syncEveryMinutes);
    const targets = targetsOf(
      tick.stores.flatMap((id) => byId.get(id) ?? []),
      interval,
    );
    try {
      const summary = await etl(
        tick.kind,
        tick.kind === 'sync' ? 'scheduled' : 'recovery',
        targets,
        tick.kind === 'sync' ? local : undefined,
      );
      outcome.status = summary.status;
      outcome.rows = rowsOf(summary);
      outcome.requests = summary.totals.requests;
      outcome.unreachable = klkStoppedAnswering(summary);
      deps.metrics?.addRowsLoaded(outcome.rows);
      const end = { ...claim, at: deps.now() };
      // Stopped by a shutdown: the claim stays `running`, so once this process is gone the tick reads interrupted
      // and the next start runs the same due time again. Not a failure: no incident, no alert.
      if (summary.status === 'interrupted' && deps.stop?.aborted) {
        outcome.error = 'interrumpida por la parada del daemon';
        return outcome;
      }
      // Each store's own result: one store failing does not make the rest of its zone stale.
      if (tick.kind === 'sync')
        await recordStoreSyncs(
          db,
          Object.entries(summary.stores)
            .filter(([, r]) => r.status !== 'interrupted')
            .map(([store, r]) => ({
              store,
              ok: r.status === 'success',
              error: r.errors[0] ?? r.status,
            })),
          { startedAt: claim.at, at: end.at },
        );
      if (summary.status === 'success') {
        await finishTick(db, end);
      } else {
        const failed = Object.entries(summary.stores).filter(([, r]) => r.status !== 'success');
        outcome.error = failed
          .map(([id, r]) => `${id}: ${r.errors[0] ?? r.status}`)
          .slice(0, 5)
          .join('; ');
        await failTick(db, end, outcome.error || summary.status, { unreachable: outcome.unreachable });
      }
    } catch (error) {
      outcome.error = (error as Error).message;
      await failTick(db, { ...claim, at: deps.now() }, outcome.error);
      throw error;
    }
    return outcome;
  }

  // Each store's last successful sync, whoever ran it: the metric and the staleness read the same record.
  const storeSyncs = await readStoreSyncs(db);
  for (const s of storeSyncs) if (s.lastSuccessAt) deps.metrics?.recordSync(s.store, s.lastSuccessAt);

  // 2. Coverage of the lookback, up to yesterday in the chain's zone.
  const nowAt = deps.now();
  const today = localDateTime(chainZone, nowAt).slice(0, 10);
  const window = { from: addDays(today, -config.heal.lookbackDays), to: addDays(today, -1) };
  // A day whose nightly recovery failed and that no whole-day answer has checked since: its syncs may have left it
  // short without it reading partial (half the usual is not partial), and no later recovery asks it again.
  const unrecovered = failedRecoveryDays(ticks, await readTicks(db), config);
  const backlogOf = async () => {
    const report = await computeCoverage(db, config, { ...window, now: deps.now() });
    const backlog: BacklogDay[] = [];
    const counts: Partial<Record<DayState, number>> = {};
    const quarantined: Observed['quarantined'][number][] = [];
    for (const store of stores) {
      for (const cell of report.days[store.id] ?? []) {
        counts[cell.state] = (counts[cell.state] ?? 0) + 1;
        if (cell.rejectedLines > 0) quarantined.push({ store: store.id, day: cell.day, lines: cell.rejectedLines });
        const heal =
          cell.state === 'missing' ||
          cell.state === 'partial' ||
          (cell.state === 'rejected' && cell.sourceChanged) ||
          (cell.state === 'complete' && cell.klkLines === null && unrecovered.has(`${store.id} ${cell.day}`));
        if (heal && pastGrace(store, cell.day, deps.now(), config.heal.graceMinutes))
          backlog.push({ store, day: cell.day, notBefore: healNotBefore(cell) });
      }
    }
    // Newest first; within a day, in catalogue order.
    backlog.sort((a, b) => (a.day === b.day ? 0 : a.day < b.day ? 1 : -1));
    return { backlog, counts, quarantined };
  };
  const before = await backlogOf();

  // 3. Heal, newest first: each store-day is one whole-day request (chunkDays 1), the budget caps them. The budget is
  // per rolling hour of the ventas clock: what the cycles of the last hour sent, whoever led them, is spent.
  const budget = Math.max(0, config.heal.maxRequestsPerHour - (await healRequestsInHour(db, nowAt)));
  // A store-day tried heal.maxAttempts times is given up (heal_exhausted) until it is complete.
  const attemptsBefore = await readHealAttempts(db, window);
  // A store-day an earlier cycle posted and nobody has run yet is not posted again: its chunk is still to come.
  const inFlight = new Set((await healStoreDaysInFlight(db)).map((s) => `${s.store} ${s.day}`));
  const triable = (b: BacklogDay) =>
    attemptsOf(attemptsBefore, { store: b.store.id, day: b.day }) < config.heal.maxAttempts &&
    b.notBefore <= nowAt.getTime() &&
    !inFlight.has(`${b.store.id} ${b.day}`);
  // Shutting down: the heal starts nothing (the next start takes the backlog as it finds it).
  const { take: selected, deferred } = healSelection(
    before.backlog.filter(triable),
    config.heal,
    localDateTime(chainZone, nowAt),
    budget,
  );
  const taken = deps.stop?.aborted ? [] : selected;
  const heal: HealOutcome = {
    backlogBefore: before.backlog.length,
    attempted: taken.length,
    budget,
    requests: 0,
    rows: 0,
    status: null,
    backlogAfter: before.backlog.length,
    deferred,
    bigAboveStoreDays: config.heal.bigAboveStoreDays,
    bigWindow: config.heal.bigWindow,
    exhausted: 0,
    maxAttempts: config.heal.maxAttempts,
  };
  let after = before;
  if (taken.length > 0 && deps.healQueue) {
    const run = await deps.healQueue.run(taken, { stop: deps.stop, signal: deps.signal });
    spending.queued = run.requests;
    heal.requests = run.requests;
    heal.rows = run.rows;
    heal.status = run.status;
    deps.metrics?.addRowsLoaded(heal.rows);
    // While the sync finds KLK silent, that is its own incident: the heal's tries spend no store-day's attempts.
    if (!klkDownSince(await readTicks(db))) await recordHealAttempts(db, run.tried, deps.now());
    after = await backlogOf();
    heal.backlogAfter = after.backlog.length;
  } else if (taken.length > 0) {
    const perStore = new Map<Store, Interval[]>();
    for (const { store, day } of taken)
      perStore.set(store, [...(perStore.get(store) ?? []), { from: `${day} 00:00:00`, to: `${day} 23:59:59` }]);
    // Retries come out of the same budget: whatever fails, no more than `budget` requests leave this cycle.
    const klk = budgetedKlk(deps.openKlk('heal'), {
      requests: budget,
      calls: taken.length,
      attempts: config.klk.attempts,
    });
    spending.klk = klk;
    const summary = await etl(
      'heal',
      'manual',
      [...perStore].map(([store, intervals]) => ({ store, intervals: intervals.reverse() })),
      undefined,
      klk,
    );
    heal.requests = klk.spent();
    heal.rows = rowsOf(summary);
    heal.status = summary.status;
    deps.metrics?.addRowsLoaded(heal.rows);
    // KLK not answering at all is its own incident: it spends no store-day's attempts.
    if (!allUnreachable(summary))
      await recordHealAttempts(
        db,
        taken.map((b) => ({ store: b.store.id, day: b.day })),
        deps.now(),
      );
    after = await backlogOf();
    heal.backlogAfter = after.backlog.length;
  }
  const waiting = after.backlog.map((b) => ({ store: b.store.id, day: b.day }));
  await clearHealAttempts(db, window, waiting);
  const attemptsAfter = await readHealAttempts(db, window);
  const exhausted = new Map<string, { dates: IsoDate[]; attempts: number }>();
  for (const s of waiting) {
    const attempts = attemptsOf(attemptsAfter, s);
    if (attempts < config.heal.maxAttempts) continue;
    const entry = exhausted.get(s.store) ?? { dates: [], attempts };
    entry.dates.push(s.day);
    entry.attempts = Math.max(entry.attempts, attempts);
    exhausted.set(s.store, entry);
  }
  heal.exhausted = [...exhausted.values()].reduce((n, e) => n + e.dates.length, 0);
  deps.metrics?.setStoreDays(after.counts);
  deps.metrics?.setBacklog(after.backlog.length);

  // 4. Incidents from what the ticks' records say now, then the alerts due.
  const at = deps.now();
  const current = await readTicks(db);
  const observed: Observed = {
    // Only the sync says whether KLK is back: a heal that answers between two failed syncs must not flap it.
    klkUnreachableSince: klkDownSince(current),
    staleStores: staleStores(ticks, storeSyncs, config, at),
    recoveryFailed: recoveryFailed(ticks, current, config, at),
    healExhausted: [...exhausted].map(([store, e]) => ({ store, dates: e.dates.sort(), attempts: e.attempts })),
    quarantined: after.quarantined,
  };
  // A cycle cut short by a shutdown saw only part of the world (a tick it did not start is no failed recovery): it
  // decides nothing and sends nothing; the next start does both.
  let deliveries: DeliveryReport = { delivered: 0, retrying: 0, gaveUp: 0, error: null };
  let applied: Pick<AppliedDecision, 'opened' | 'reminded' | 'resolved'> = { opened: [], reminded: [], resolved: [] };
  if (!deps.stop?.aborted) {
    const state = await readIncidentState(db);
    const decision = decide(observed, state, { now: at, alerts: config.alerts, stores, timeZone: chainZone });
    const sender = createAlertSender(config.alerts, { timeZone: chainZone });
    try {
      applied = await applyDecision(db, decision, sender.channels);
      deliveries = await deliverDue(db, sender, { now: deps.now, logger });
    } finally {
      sender.close();
    }
  }
  const open = (await readIncidentState(db)).open;
  const openByKind: Record<string, number> = {};
  for (const i of open) openByKind[i.kind] = (openByKind[i.kind] ?? 0) + 1;
  deps.metrics?.setIncidentsOpen(openByKind);

  const endedAt = deps.now();
  await recordCycle(db, {
    owner,
    startedAt,
    endedAt,
    healRequests: heal.requests,
    backlog: heal.backlogAfter,
    storeDays: after.counts,
    error: null,
  });
  deps.metrics?.markCycle(endedAt);
  return {
    startedAt,
    endedAt,
    ticks: outcomes,
    heal,
    window,
    storeDays: after.counts,
    incidents: {
      opened: applied.opened.length,
      reminded: applied.reminded.length,
      resolved: applied.resolved.length,
      open: open.length,
    },
    deliveries,
  };
}

/** Minutes since midnight of `HH:MM`. */
const minuteOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether local `HH:MM` is inside `HH:MM-HH:MM` (a range whose end is before its start crosses midnight). */
export function insideHours(hours: string, hhmm: string): boolean {
  const [from, to] = hours.split('-').map(minuteOf) as [number, number];
  const t = minuteOf(hhmm);
  if (from === to) return true;
  return from < to ? t >= from && t < to : t >= from || t < to;
}

/**
 * What the heal takes of the backlog (newest first) at local time `local` (`YYYY-MM-DD HH:MM...`): up to the
 * request budget left this hour (`budget`, by default the whole `maxRequestsPerHour`), one request per store-day; a
 * backlog above `bigAboveStoreDays` only inside `bigWindow`.
 */
export function healSelection<T>(
  backlog: readonly T[],
  heal: Pick<HealConfig, 'maxRequestsPerHour' | 'bigAboveStoreDays' | 'bigWindow'>,
  local: string,
  budget: number = heal.maxRequestsPerHour,
): { take: T[]; deferred: boolean } {
  const deferred = backlog.length > heal.bigAboveStoreDays && !insideHours(heal.bigWindow, local.slice(11, 16));
  return { take: deferred ? [] : backlog.slice(0, Math.max(0, budget)), deferred };
}

type EtlTarget = { store: Store; intervals: Interval[] };

function targetsOf(stores: readonly Store[], interval: Interval): EtlTarget[] {
  return stores.flatMap((store) => {
    const clamped = clampToStoreLife(store, interval);
    return clamped ? [{ store, intervals: [clamped] }] : [];
  });
}

/** A day's grace is over `graceMinutes` after its local midnight ends it. */
function pastGrace(store: Store, day: IsoDate, now: Date, graceMinutes: number): boolean {
  const local = localDateTime(store.timeZone, now);
  const next = addDays(day, 1);
  if (local.slice(0, 10) > next) return true;
  if (local.slice(0, 10) < next) return false;
  const [h, m] = local.slice(11, 16).split(':').map(Number);
  return h! * 60 + m! >= graceMinutes;
}

/** Since when KLK has not answered the sync: only when every sync tick that ran says so. */
function klkDownSince(records: readonly TickRecord[]): Date | null {
  const syncs = records.filter((r) => r.name.startsWith('sync@'));
  if (syncs.length === 0 || syncs.some((r) => !r.unreachableSince)) return null;
  return new Date(Math.min(...syncs.map((r) => r.unreachableSince!.getTime())));
}

/**
 * The stores inside their sync hours whose own last successful sync is older than one interval; `since` is that
 * success, or the start of today's hours when later (the night does not count). Each store by its own results
 * (store-syncs.ts): one that fails while the rest of its zone syncs is stale alone.
 */
export function staleStores(
  ticks: readonly Tick[],
  syncs: readonly Pick<StoreSync, 'store' | 'lastSuccessAt'>[],
  config: Pick<Config, 'daemon'> & { stores?: readonly Store[] },
  now: Date,
): Array<{ store: string; since: Date }> {
  const byId = new Map((config.stores ?? []).map((s) => [s.id, s]));
  const [startsAt, endsAt] = config.daemon.syncHours.split('-') as [string, string];
  const [h, m] = startsAt.split(':').map(Number);
  const [eh, em] = endsAt.split(':').map(Number);
  const span = ((eh! * 60 + em! - (h! * 60 + m!) + 1_440) % 1_440 || 1_440) * 60_000;
  const lastSuccess = new Map(syncs.map((s) => [s.store, s.lastSuccessAt]));
  const found: Array<{ store: string; since: Date }> = [];
  for (const tick of ticks.filter((t) => t.kind === 'sync')) {
    const opened = new Cron(`${m} ${h} * * *`, { timezone: tick.timeZone, paused: true })
      .previousRuns(1, new Date(now.getTime() + 1))
      .find((d) => d <= now);
    if (!opened || now.getTime() - opened.getTime() > span) continue;
    const today = localDateTime(tick.timeZone, now).slice(0, 10);
    for (const store of tick.stores) {
      // A store not open yet, or closed for good, is not synced (targetsOf): it cannot go stale.
      const life = byId.get(store);
      if ((life?.openedOn && today < life.openedOn) || (life?.closedOn && today > life.closedOn)) continue;
      const last = lastSuccess.get(store) ?? null;
      if (last && now.getTime() - last.getTime() <= config.daemon.syncEveryMinutes * 60_000) continue;
      found.push({ store, since: last && last > opened ? last : opened });
    }
  }
  return found;
}

/**
 * The day a nightly recovery due at `dueAt` recovers: the night before its due date, even when it runs late, past
 * the next midnight (a daemon down until then); from the date it ran it would ask a day too late.
 */
function owedDay(tick: Tick, dueAt: Date, config: Pick<Config, 'daemon'>): IsoDate {
  return addDays(localDateTime(tick.timeZone, dueAt).slice(0, 10), -config.daemon.recoveryDays);
}

/** The store-days (`store day`) of the nightly recoveries whose last run failed. */
export function failedRecoveryDays(
  ticks: readonly Tick[],
  records: readonly Pick<TickRecord, 'name' | 'lastDueAt' | 'status'>[],
  config: Pick<Config, 'daemon'>,
): Set<string> {
  const days = new Set<string>();
  for (const tick of ticks.filter((t) => t.kind === 'recovery')) {
    const record = records.find((r) => r.name === tick.name);
    if (record?.status !== 'failed') continue;
    const day = owedDay(tick, record.lastDueAt, config);
    for (const store of tick.stores) days.add(`${store} ${day}`);
  }
  return days;
}

/**
 * The last nightly recovery, when it did not run or did not succeed. Did not run: its latest due time passed more
 * than one sync interval ago and no run claimed it. A leader cycles at least once per interval and claims a due
 * tick first thing (the loop wakes at the due time itself), so a due time unclaimed an interval later was missed,
 * not merely about to run; sooner, the previous night's outcome still stands.
 */
export function recoveryFailed(
  ticks: readonly Tick[],
  records: readonly Pick<TickRecord, 'name' | 'lastDueAt' | 'status' | 'error'>[],
  config: Pick<Config, 'daemon'>,
  now: Date,
): Observed['recoveryFailed'] {
  const night = (tick: Tick, dueAt: Date) => owedDay(tick, dueAt, config);
  for (const tick of ticks.filter((t) => t.kind === 'recovery')) {
    const record = records.find((r) => r.name === tick.name);
    const due = latestDue(tick, now);
    const missed =
      due !== null &&
      now.getTime() - due.getTime() > config.daemon.syncEveryMinutes * 60_000 &&
      (!record || record.lastDueAt < due);
    if (missed) return { day: night(tick, due), ran: false, stores: tick.stores, error: null };
    if (record?.status !== 'failed') continue;
    return { day: night(tick, record.lastDueAt), ran: true, stores: tick.stores, error: record.error };
  }
  return null;
}
