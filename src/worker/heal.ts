import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import { chunkProgress, createBackfill, ledgerTotals, unfinishedChunkIds } from '../backfill/ledger.ts';
import { computeCoverage } from '../coverage/compute.ts';
import type { HealQueue, HealRun } from '../daemon/cycle.ts';
import type { Db } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import { startRun } from '../sync/runs.ts';
import type { ChunkQueue } from './queue.ts';

export interface HealQueueDeps {
  db: Db;
  config: Config;
  queue: ChunkQueue;
  /** How long a cycle follows its heal at most (real ms); what is left then stays queued for whoever is free. */
  waitMs: number;
  /** This process's worker, run while the cycle follows its heal: `stop` ends its taking, `abort` hands back. */
  work?: (signals: { stop: AbortSignal; abort: AbortSignal }) => Promise<unknown>;
  /** Between looks at the ledger. */
  pollMs?: number;
}

/**
 * The daemon's heal on PostgreSQL: the store-days the cycle took (newest first, within its budget) become one queued
 * backfill in the ledger, one chunk per store-day, run by the worker of every daemon (the standbys all along, the
 * leader while it follows it), under the per-KLK limit they share. The cycle follows it until its chunks are done,
 * its time bound passes or the daemon stops; chunks left then stay in the ledger and on the queue, and whoever is
 * free runs them (the next cycles do not post their store-days again meanwhile).
 */
export function createHealQueue(deps: HealQueueDeps): HealQueue {
  const { db, config, queue } = deps;
  return {
    async run(storeDays, signals) {
      const { backfillId } = await post(storeDays);
      const followed = new AbortController();
      const until = AbortSignal.any([
        followed.signal,
        AbortSignal.timeout(deps.waitMs),
        ...(signals.stop ? [signals.stop] : []),
      ]);
      const abort = signals.signal ?? new AbortController().signal;
      const working = deps.work?.({ stop: until, abort }).catch(() => undefined);
      try {
        for (;;) {
          const totals = await ledgerTotals(db, backfillId);
          if (totals.pending + totals.running === 0) break;
          const waited = await delay(deps.pollMs ?? 500, true, { signal: until }).catch(() => false);
          if (!waited) break;
        }
      } finally {
        followed.abort();
        await working;
      }
      return outcome(backfillId);
    },
  };

  async function post(storeDays: ReadonlyArray<{ store: Store; day: IsoDate }>) {
    const days = storeDays.map((s) => s.day).sort();
    const stores = [...new Set(storeDays.map((s) => s.store))];
    const scope = { from: days[0]!, to: days.at(-1)!, stores };
    const before = await computeCoverage(db, config, scope);
    return db.transaction(async (tx) => {
      const backfillId = await createBackfill(
        tx,
        {
          from: scope.from,
          to: scope.to,
          stores: stores.map((s) => s.id),
          mirror: false,
          concurrency: config.concurrency,
          before: before.totals,
          origin: 'heal',
          // One request per store-day and cycle, as the budget counts them: a failed one waits for the next cycle.
          maxAttempts: 1,
        },
        storeDays.map((s) => ({ storeId: s.store.id, dayFrom: s.day, dayTo: s.day })),
      );
      const runId = await startRun(tx, {
        type: 'backfill',
        window: { from: `${scope.from} 00:00:00`, to: `${scope.to} 23:59:59` },
        stores: stores.map((s) => s.id),
        command: `backfill #${backfillId} en cola (reparación del daemon)`,
      });
      const chunkIds = await unfinishedChunkIds(tx, backfillId);
      await queue.enqueue(
        tx,
        chunkIds.map((chunkId) => ({ backfillId, chunkId, runId })),
      );
      return { backfillId, runId };
    });
  }

  async function outcome(backfillId: number): Promise<HealRun> {
    const chunks = await chunkProgress(db, backfillId);
    const done = chunks.filter((c) => c.state === 'done').length;
    const left = chunks.some((c) => c.state === 'pending' || c.state === 'running');
    return {
      requests: chunks.reduce((n, c) => n + c.attempts, 0),
      rows: chunks.reduce((n, c) => n + c.rows, 0),
      status: left ? 'running' : done === chunks.length ? 'success' : done > 0 ? 'partial' : 'failed',
      tried: chunks.filter((c) => c.attempts > 0).map((c) => ({ store: c.storeId, day: c.dayFrom })),
    };
  }
}
