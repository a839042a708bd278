import type { Store } from '../../src/catalogue/stores.ts';
import type { Db } from '../../src/db/types.ts';
import { createKlkClient } from '../../src/klk/index.ts';
import { silentLogger } from '../../src/shared/logger.ts';
import { runEtl, type EtlSummary } from '../../src/sync/etl.ts';
import type { Interval } from '../../src/sync/interval.ts';

/** Whole days `from`..`to` as an ETL interval. */
export function wholeDays(from: string, to: string = from): Interval {
  return { from: `${from} 00:00:00`, to: `${to} 23:59:59` };
}

/** The first two opening hours of a day: what makes a day partial. */
export function earlyHours(day: string): Interval {
  return { from: `${day} 08:00:00`, to: `${day} 09:59:59` };
}

/**
 * Loads what a test needs through the ETL itself (KLK at `klkUrl`, usually the simulator), so the table, the
 * per-day summary and the request history are exactly what a real run leaves. Throws unless every store loaded.
 */
export async function loadThroughEtl(
  db: Db,
  klkUrl: string,
  targets: ReadonlyArray<{ store: Store; intervals: readonly Interval[] }>,
  options: { chunkDays?: number; concurrency?: number; attempts?: number; command?: string } = {},
): Promise<EtlSummary> {
  const concurrency = options.concurrency ?? 3;
  const summary = await runEtl(
    {
      db,
      klk: createKlkClient({ baseUrl: klkUrl, backoffMs: 5, concurrency, attempts: options.attempts }),
      logger: silentLogger,
      concurrency,
      leaseWaitMs: 0,
    },
    { type: 'manual', targets, chunkDays: options.chunkDays ?? 1, command: options.command },
  );
  if (summary.status !== 'success') {
    const errors = Object.entries(summary.stores).flatMap(([id, r]) => r.errors.map((e) => `${id}: ${e}`));
    throw new Error(`la carga de prueba terminó ${summary.status}: ${errors.join('; ')}`);
  }
  return summary;
}
