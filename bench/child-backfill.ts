/**
 * A benchmarked child process (its peak RSS is read by the parent): fills the holes of the seed's situation for some
 * stores, either as `ventas backfill` does (`ours`) or the seed's way (`seed`: its script's commands one after
 * another, as its tool ran them: three stores at a time, each store's chunks one after another). Prints one JSON
 * line with the time taken.
 *
 *   node --import tsx bench/child-backfill.ts ours|seed DATABASE_URL KLK_URL tienda_01,tienda_02
 */
import { loadConfig } from '../src/catalogue/index.ts';
import { runBackfill } from '../src/backfill/run.ts';
import { openDb } from '../src/db/index.ts';
import { SEED_FROM, SEED_TO } from '../src/demo/seed-situation.ts';
import { createKlkClient } from '../src/klk/index.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { mapPool } from '../src/shared/pool.ts';
import { runEtl } from '../src/sync/etl.ts';
import { seedSteps } from './seed-way.ts';

/** The per-KLK limit of requests in flight, the default of `ventas backfill` and `ventas etl`. */
const KLK_LIMIT = 3;

const [mode, databaseUrl, klkUrl, storeList] = process.argv.slice(2);
if ((mode !== 'ours' && mode !== 'seed') || !databaseUrl || !klkUrl || !storeList) {
  throw new Error('uso: child-backfill.ts ours|seed DATABASE_URL KLK_URL tienda_01,tienda_02');
}
const config = loadConfig(undefined);
const ids = storeList.split(',');
const stores = config.stores.filter((s) => ids.includes(s.id));
const db = await openDb({ databaseUrl });
try {
  const started = performance.now();
  if (mode === 'ours') {
    const klk = createKlkClient({ baseUrl: klkUrl, concurrency: KLK_LIMIT });
    const outcome = await runBackfill(
      { db, config, klk, logger: silentLogger },
      { from: SEED_FROM, to: SEED_TO, stores, concurrency: KLK_LIMIT },
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({ seconds, summary: outcome.summary, planTotals: outcome.plan?.totals ?? null }));
  } else {
    let requests = 0;
    let lines = 0;
    for (const step of seedSteps(stores)) {
      // One client per store with one request in flight: the old tool fetched a store's chunks in sequence.
      await mapPool(step.targets, KLK_LIMIT, async (target) => {
        const summary = await runEtl(
          { db, klk: createKlkClient({ baseUrl: klkUrl, concurrency: 1 }), logger: silentLogger, concurrency: 1 },
          { type: 'manual', targets: [target], chunkDays: step.chunkDays, command: `bench: ${step.label}` },
        );
        if (summary.status !== 'success') throw new Error(`${step.label} ${target.store.id}: ${summary.status}`);
        requests += summary.totals.requests;
        lines += summary.totals.extracted;
      });
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(JSON.stringify({ seconds, requests, lines }));
  }
} finally {
  await db.close();
}
