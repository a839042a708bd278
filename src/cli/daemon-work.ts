import type { Config } from '../catalogue/config.ts';
import type { HealQueue } from '../daemon/cycle.ts';
import type { Db } from '../db/types.ts';
import type { KlkClient } from '../klk/index.ts';
import { openKlk } from '../klk/open.ts';
import type { Logger } from '../shared/logger.ts';
import { createHealQueue } from '../worker/heal.ts';
import { createKlkSlots, withSharedLimit } from '../worker/klk-slots.ts';
import { openChunkQueue } from '../worker/queue.ts';
import { runWorker } from '../worker/worker.ts';
import { describeEvent } from './worker.ts';

/** How long a chunk stays a daemon's without renewal (the same default as `ventas worker`). */
const LEASE_MS = 120_000;

/** The longest a cycle follows its heal: the ticks come first, so it never holds the next cycle back for long. */
const MAX_HEAL_WAIT_MS = 10 * 60_000;

/**
 * What a daemon on PostgreSQL shares with the others: the job queue (pg-boss, loaded only here), the per-KLK slots,
 * and its worker, run while it stands by and, as leader, while its cycle follows the heal it posted.
 */
export interface DaemonWork {
  healQueue: HealQueue;
  /** This process's worker until `stop` (finishes the chunks in hand) or `signal` (hands them back). */
  work: (signals: { stop: AbortSignal; signal: AbortSignal }) => Promise<void>;
  /** A KLK client whose every request takes one of the per-KLK slots shared by every daemon and worker. */
  shared: (klk: KlkClient) => KlkClient;
  close: () => Promise<void>;
}

export async function openDaemonWork(options: {
  databaseUrl: string;
  db: Db;
  config: Config;
  baseUrl: string;
  logger: Logger;
  /** Real ms of one sync interval of the ventas clock (Infinity for a stopped clock). */
  intervalMs: number;
  say: (line: string) => void;
  warn: (line: string) => void;
}): Promise<DaemonWork> {
  const { databaseUrl, db, config, baseUrl, logger } = options;
  const concurrency = config.concurrency;
  const slots = createKlkSlots({ databaseUrl, baseUrl, connections: concurrency });
  const queue = await openChunkQueue({ databaseUrl, supervise: true, logger }).catch(async (error: unknown) => {
    await slots.close();
    throw error;
  });
  // One HTTP request per try of a chunk, the ledger retrying: a heal chunk's tries are the requests its budget counts.
  const klk = openKlk({ ...config, klk: { ...config.klk, attempts: 1 } }, { baseUrl, concurrency, logger });
  const work = async (signals: { stop: AbortSignal; signal: AbortSignal }) => {
    await runWorker(
      {
        db,
        queue,
        config,
        klk,
        slots,
        logger,
        concurrency,
        leaseMs: LEASE_MS,
        onEvent: (event) => (event.type.startsWith('database') ? options.warn : options.say)(describeEvent(event)),
      },
      { stop: signals.stop, abort: signals.signal },
    );
  };
  return {
    healQueue: createHealQueue({
      db,
      config,
      queue,
      // Whole milliseconds: AbortSignal.timeout takes no fraction (a simulated clock's interval can be one).
      waitMs: Math.ceil(Math.min(MAX_HEAL_WAIT_MS, options.intervalMs / 2)),
      work: ({ stop, abort }) => work({ stop, signal: abort }),
    }),
    work,
    shared: (client) => withSharedLimit(client, slots, concurrency),
    async close() {
      await queue.stop();
      await slots.close();
    },
  };
}
