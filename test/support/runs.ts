import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queryable } from '../../src/db/types.ts';
import { leaseHolder } from '../../src/sync/runs.ts';

const totals = (expected: number, missing: number, partial: number) => ({
  expectedStoreDays: expected,
  missingStoreDays: missing,
  partialStoreDays: partial,
});

/** A summary as concludeBackfill writes it (the JSON summary's fields but `runId`). */
function summary(
  status: string,
  chunks: { total: number; done: number; failed: number },
  storeDays: number,
  lines: number,
  before: unknown,
  after: unknown,
) {
  return {
    status,
    chunks,
    storeDays,
    rowsInserted: lines,
    rowsUpdated: 0,
    rowsDeleted: 0,
    duplicatesInSource: 0,
    quarantined: 0,
    seconds: 1,
    before,
    after,
  };
}

/** A pid that belonged to a process of this host that has exited: a lease it holds is a dead holder's. */
export function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** An owner that names no liveness lock (a ventas of before, on another host): its leases count until they expire. */
export const OTHER_HOST_OWNER = 'otra-maquina:4242:abcd1234';

/** The owner name of a process of `host` that died: the liveness lock it names is held by nobody. */
export function goneOwner(host = hostname()): string {
  return `${host}:${deadPid()}:L${randomInt(1, 2 ** 31)}:dead0001`;
}

export interface SeededRuns {
  complete: number;
  partial: number;
  busy: number;
  dead: number;
  etlDone: number;
  etlDead: number;
  etlLive: number;
}

interface ChunkSeed {
  store: string;
  from: string;
  to: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  attempts?: number;
  lines?: number;
  error?: string;
  owner?: string;
}

async function backfill(
  db: Queryable,
  b: {
    status: string;
    hoursAgo: number;
    tookSeconds: number | null;
    from: string;
    to: string;
    stores: string[];
    summary?: unknown;
    chunks: ChunkSeed[];
  },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO backfills (status, created_at, finished_at, params, summary)
     VALUES ($1, now() - $2 * interval '1 hour', now() - $2 * interval '1 hour' + $3 * interval '1 second', $4, $5) RETURNING id`,
    [
      b.status,
      b.hoursAgo,
      b.tookSeconds,
      JSON.stringify({
        from: b.from,
        to: b.to,
        stores: b.stores,
        mirror: false,
        concurrency: 3,
        before: totals(b.stores.length * 2, b.stores.length * 2, 0),
      }),
      b.summary === undefined ? null : JSON.stringify(b.summary),
    ],
  );
  const id = rows[0]!.id;
  for (const c of b.chunks) {
    const done = c.state === 'done';
    await db.query(
      `INSERT INTO backfill_chunks (backfill_id, store_id, day_from, day_to, state, attempts, lines, rows_inserted, rows_updated,
         rows_deleted, duplicates, quarantined, error, lease_owner, lease_until, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $8, $8, $8, $9, $10, CASE WHEN $10::text IS NULL THEN NULL ELSE now() + interval '1 hour' END,
         now() - interval '1 hour')`,
      [
        id,
        c.store,
        c.from,
        c.to,
        c.state,
        c.attempts ?? (c.state === 'pending' ? 0 : 1),
        done ? (c.lines ?? 0) : null,
        done ? 0 : null,
        c.error ?? null,
        c.owner ?? null,
      ],
    );
  }
  return id;
}

async function etlRun(
  db: Queryable,
  r: {
    type: string;
    status: string;
    minutesAgo: number;
    tookSeconds: number | null;
    from: string | null;
    to: string | null;
    stores: string[];
    lines?: number;
    command?: string;
    storeResults?: unknown;
  },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO etl_runs (run_type, status, started_at, finished_at, window_from, window_to, stores, lines_extracted, rows_inserted,
       store_results, command)
     VALUES ($1, $2, now() - $3 * interval '1 minute', now() - $3 * interval '1 minute' + $4 * interval '1 second', $5, $6, $7, $8, $8, $9, $10)
     RETURNING id`,
    [
      r.type,
      r.status,
      r.minutesAgo,
      r.tookSeconds,
      r.from,
      r.to,
      r.stores,
      r.lines ?? 0,
      JSON.stringify(r.storeResults ?? {}),
      r.command ?? null,
    ],
  );
  return rows[0]!.id;
}

/**
 * One run of every kind, started at known moments (newest first: etlLive, etlDead, dead, busy, partial, complete,
 * etlDone) so their order and durations are known:
 * - complete: backfill done (tienda_01, 2026-01-01..02), 30 s.
 * - partial: tienda_01 and tienda_02, 2026-01-05..06, one chunk done (1.633 lines), one failed, one pending; 75,4 s.
 * - busy: `running`, its chunk under a live lease of another host.
 * - dead: `running`, its chunk's lease held by a process of this host that exited (interrupted), 4 stores.
 * - etlDone: a manual ETL of 2026-01-25 over 19 stores, success, 12,3 s, 45.210 lines.
 * - etlDead: a scheduled ETL left `running` with no lease on its store (interrupted).
 * - etlLive: a recovery ETL `running` with its store under lease.
 */
export async function seedRuns(db: Queryable): Promise<SeededRuns> {
  const all19 = Array.from({ length: 20 }, (_, i) => `tienda_${String(i + 1).padStart(2, '0')}`).filter(
    (s) => s !== 'tienda_14',
  );
  const etlDone = await etlRun(db, {
    type: 'manual',
    status: 'success',
    minutesAgo: 360,
    tookSeconds: 12.3,
    from: '2026-01-25 00:00:00',
    to: '2026-01-25 23:59:59',
    stores: all19,
    lines: 45_210,
    command: 'ventas etl --todas --fecha-desde 2026-01-25',
    storeResults: {
      tienda_01: { status: 'success', requests: 1, extracted: 2_400, inserted: 2_400, updated: 0, errors: [] },
    },
  });
  const complete = await backfill(db, {
    status: 'complete',
    hoursAgo: 5,
    tookSeconds: 30,
    from: '2026-01-01',
    to: '2026-01-02',
    stores: ['tienda_01'],
    summary: summary('complete', { total: 1, done: 1, failed: 0 }, 2, 1_400, totals(2, 2, 0), totals(2, 0, 0)),
    chunks: [{ store: 'tienda_01', from: '2026-01-01', to: '2026-01-02', state: 'done', lines: 1_400 }],
  });
  const partial = await backfill(db, {
    status: 'partial',
    hoursAgo: 4,
    tookSeconds: 75.4,
    from: '2026-01-05',
    to: '2026-01-06',
    stores: ['tienda_01', 'tienda_02'],
    summary: summary('partial', { total: 3, done: 1, failed: 1 }, 4, 1_633, totals(4, 4, 0), totals(4, 2, 0)),
    chunks: [
      { store: 'tienda_01', from: '2026-01-05', to: '2026-01-06', state: 'done', lines: 1_633 },
      {
        store: 'tienda_02',
        from: '2026-01-05',
        to: '2026-01-05',
        state: 'failed',
        attempts: 8,
        error: 'KLK respondió HTTP 500',
      },
      { store: 'tienda_02', from: '2026-01-06', to: '2026-01-06', state: 'pending' },
    ],
  });
  const busy = await backfill(db, {
    status: 'running',
    hoursAgo: 3,
    tookSeconds: null,
    from: '2026-01-07',
    to: '2026-01-08',
    stores: ['tienda_03'],
    chunks: [{ store: 'tienda_03', from: '2026-01-07', to: '2026-01-08', state: 'running', owner: OTHER_HOST_OWNER }],
  });
  const dead = await backfill(db, {
    status: 'running',
    hoursAgo: 2,
    tookSeconds: null,
    from: '2026-01-09',
    to: '2026-01-10',
    stores: ['tienda_04', 'tienda_05', 'tienda_06', 'tienda_07'],
    chunks: [
      { store: 'tienda_04', from: '2026-01-09', to: '2026-01-10', state: 'done', lines: 900 },
      { store: 'tienda_05', from: '2026-01-09', to: '2026-01-10', state: 'running', owner: goneOwner() },
      { store: 'tienda_06', from: '2026-01-09', to: '2026-01-10', state: 'pending' },
      { store: 'tienda_07', from: '2026-01-09', to: '2026-01-10', state: 'pending' },
    ],
  });
  const etlDead = await etlRun(db, {
    type: 'scheduled',
    status: 'running',
    minutesAgo: 90,
    tookSeconds: null,
    from: '2026-01-26 00:00:00',
    to: '2026-01-26 10:59:59',
    stores: ['tienda_08'],
  });
  const etlLive = await etlRun(db, {
    type: 'recovery',
    status: 'running',
    minutesAgo: 1,
    tookSeconds: null,
    from: '2026-01-25 00:00:00',
    to: '2026-01-25 23:59:59',
    stores: ['tienda_09'],
  });
  await db.query(
    `INSERT INTO store_leases (store_id, holder, expires_at) VALUES ('tienda_09', $1, now() + interval '1 hour')`,
    [leaseHolder(etlLive, OTHER_HOST_OWNER)],
  );
  // A backfill's own execution record: the backfill's entry stands for it in the list.
  await etlRun(db, {
    type: 'backfill',
    status: 'partial',
    minutesAgo: 240,
    tookSeconds: 75.4,
    from: '2026-01-05 00:00:00',
    to: '2026-01-06 23:59:59',
    stores: ['tienda_01', 'tienda_02'],
    command: `backfill #${partial}`,
  });
  return { complete, partial, busy, dead, etlDone, etlDead, etlLive };
}
