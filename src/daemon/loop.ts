/**
 * `ventas daemon`'s long-running loop: a cycle (cycle.ts) every `daemon.syncEveryMinutes` of the ventas clock while this
 * process leads (leader.ts), and what its HTTP server tells about it (status.ts providers).
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../catalogue/config.ts';
import type { Db } from '../db/types.ts';
import { listIncidents, snapshot } from '../incidents/store.ts';
import type { CycleSummary } from './cycle.ts';
import { healRequestsInHour, lastCycle } from './cycles.ts';
import type { Leader } from './leader.ts';
import { readLeadership } from './leadership.ts';
import type { DaemonMetrics } from './metrics.ts';
import { daemonTicks, nextDue } from './schedule.ts';
import type { DaemonProviders } from './status.ts';
import { readTicks } from './ticks.ts';

/** A standby's work that ended by itself is started again after this pause. */
export const STANDBY_RETRY_MS = 30_000;

/** Longest single wait: a stopped clock (speed 0) or a far due time is looked at again after this. */
const MAX_WAIT_MS = 60 * 60_000;

/**
 * Real milliseconds until the next cycle: `syncEveryMinutes` of the ventas clock after the last one started, or the
 * next due tick if sooner, at the clock's `speed` (a stopped clock never gets there). `cycleSeconds` overrides it.
 */
export function waitMs(config: Config, lastStart: Date, at: Date, speed: number, cycleSeconds?: number): number {
  if (cycleSeconds !== undefined) return cycleSeconds * 1000;
  let next = lastStart.getTime() + config.daemon.syncEveryMinutes * 60_000;
  for (const tick of daemonTicks(config.daemon, config.stores)) {
    const due = nextDue(tick, at)?.getTime();
    if (due !== undefined && due < next) next = due;
  }
  if (speed <= 0) return MAX_WAIT_MS;
  return Math.min(MAX_WAIT_MS, Math.max(0, Math.ceil((next - at.getTime()) / speed)));
}

export interface LoopDeps {
  db: Db;
  config: Config;
  leader: Leader;
  now: () => Date;
  /** The clock's speed (1 for the system clock, 0 stopped). */
  speed: number;
  cycleSeconds?: number;
  /** One cycle; `stop` asks it to start nothing more, `signal` cuts requests in flight. */
  cycle: (signals: { stop: AbortSignal; signal: AbortSignal }) => Promise<CycleSummary>;
  onCycle: (summary: CycleSummary) => void;
  onError: (error: unknown) => void;
  /**
   * What the process does when it runs no cycle (on PostgreSQL: the queued heal chunks, anyone's): all along while
   * it stands by, and between cycles while it leads. `stop` is aborted when that time is over or the daemon stops
   * (take no more work, finish what is in hand); `signal` hands what is in hand back.
   */
  work?: (signals: { stop: AbortSignal; signal: AbortSignal }) => Promise<void>;
  /** The pause before a standby's work that ended by itself starts again (STANDBY_RETRY_MS). */
  standbyRetryMs?: number;
}

/** What the loop knows, for the status provider. */
export interface LoopState {
  last: CycleSummary | null;
}

/**
 * Runs cycles until `stop` is aborted: then the cycle in flight is let finish, and `signal` (aborted by the caller
 * after its grace) cuts it. A process not leading waits for the lead to change.
 */
export async function runLoop(deps: LoopDeps, state: LoopState, stop: AbortSignal, signal: AbortSignal): Promise<void> {
  const { leader } = deps;
  while (!stop.aborted) {
    if (!leader.isLeader) {
      if (deps.work) await standBy(deps, stop, signal);
      else await once(leader, 'change', { signal: stop }).catch(() => {});
      continue;
    }
    const startedAt = deps.now();
    try {
      state.last = await deps.cycle({ stop, signal });
      deps.onCycle(state.last);
    } catch (error) {
      if (stop.aborted) break;
      deps.onError(error);
    }
    if (stop.aborted) break;
    const wait = waitMs(deps.config, startedAt, deps.now(), deps.speed, deps.cycleSeconds);
    const until = deps.now().getTime() + wait * deps.speed;
    await pause(deps, wait, stop, signal);
    // A timer may end a moment early, seconds of a fast clock: a cycle begun before its tick is due would find none
    // and leave it a whole interval. The rest is waited out.
    if (deps.speed > 0 && deps.cycleSeconds === undefined && wait < MAX_WAIT_MS)
      while (!stop.aborted && deps.now().getTime() < until)
        await sleep(Math.ceil((until - deps.now().getTime()) / deps.speed), undefined, { signal: stop }).catch(
          () => {},
        );
  }
}

/**
 * Until the next cycle: the leader works meanwhile (chunks a cycle left queued run here too when no other daemon
 * is there), or just waits. Work that ends sooner leaves it waiting; the chunks in hand when the time is up are
 * finished first.
 */
async function pause(deps: LoopDeps, ms: number, stop: AbortSignal, signal: AbortSignal): Promise<void> {
  if (!deps.work) {
    await sleep(ms, undefined, { signal: stop }).catch(() => {});
    return;
  }
  const over = new AbortController();
  const until = AbortSignal.any([stop, over.signal]);
  const timer = sleep(ms, undefined, { signal: until }).then(
    () => over.abort(),
    () => {},
  );
  try {
    await deps.work({ stop: until, signal });
  } catch (error) {
    if (!until.aborted) deps.onError(error);
  }
  await timer;
  over.abort();
}

/** Runs the standby's work until this process leads or stops; work that ends by itself leaves it waiting for that. */
async function standBy(deps: LoopDeps, stop: AbortSignal, signal: AbortSignal): Promise<void> {
  const { leader } = deps;
  const leading = new AbortController();
  const onChange = () => {
    if (leader.isLeader) leading.abort();
  };
  leader.on('change', onChange);
  try {
    onChange();
    const until = AbortSignal.any([stop, leading.signal]);
    try {
      await deps.work!({ stop: until, signal });
    } catch (error) {
      if (!until.aborted) deps.onError(error);
    }
    // Work that ended by itself (its database gone at start, say) is tried again after a pause, not left until the
    // lead changes: a standby that runs no chunks would still read ready.
    if (!until.aborted)
      await sleep(deps.standbyRetryMs ?? STANDBY_RETRY_MS, undefined, { signal: until }).catch(() => {});
  } finally {
    leader.off('change', onChange);
  }
}

/**
 * The providers of `/api/daemon`, `/api/incidents`, `/readyz` and `/metrics`. What the cycles did comes from the
 * database (cycles.ts), whoever ran them: a standby tells the leader's last cycle, backlog and budget, and is ready
 * while the leader cycles. (`_state`, the loop's own, is this process's alone; the shared record says more.)
 */
export function loopProviders(
  deps: Pick<LoopDeps, 'db' | 'config' | 'leader' | 'now'>,
  _state: LoopState,
  metrics: DaemonMetrics,
): DaemonProviders {
  const { db, config, leader } = deps;
  return {
    metrics,
    incidents: { list: async () => (await listIncidents(db)).map(snapshot) },
    status: {
      async status() {
        const at = deps.now();
        const ticks = daemonTicks(config.daemon, config.stores);
        const records = await readTicks(db);
        const latest = (kind: 'sync' | 'recovery') => {
          const times = records
            .filter((r) => ticks.some((t) => t.name === r.name && t.kind === kind) && r.lastSuccessAt)
            .map((r) => r.lastSuccessAt!.getTime());
          return times.length ? new Date(Math.max(...times)).toISOString() : null;
        };
        const next = (kind: 'sync' | 'recovery') => {
          const times = ticks.filter((t) => t.kind === kind).flatMap((t) => nextDue(t, at)?.getTime() ?? []);
          return times.length ? new Date(Math.min(...times)).toISOString() : null;
        };
        const lead = await readLeadership(db);
        const max = config.heal.maxRequestsPerHour;
        // The heal's requests in the rolling hour, as the next cycle's budget counts them.
        const used = await healRequestsInHour(db, at);
        const last = await lastCycle(db);
        return {
          leader: lead ? { holder: lead.holder, since: lead.since.toISOString() } : null,
          isLeader: leader.isLeader,
          lastSync: latest('sync'),
          nextSync: next('sync'),
          lastRecovery: latest('recovery'),
          nextRecovery: next('recovery'),
          backlog: last?.backlog ?? 0,
          budget: { maxRequestsPerHour: max, usedThisHour: used, left: Math.max(0, max - used) },
          lastCycleEndedAt: last?.endedAt.toISOString() ?? null,
          syncEveryMinutes: config.daemon.syncEveryMinutes,
        };
      },
    },
  };
}
