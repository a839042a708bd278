import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { UnreachableError } from '../shared/errors.ts';
import { assertOutsideTransaction, copyStatement, inTransactionScope, parsers, toParam } from './conventions.ts';
import type { CopySource, Db, KeptSession, QueryResult, Queryable, SessionStep } from './types.ts';

type Target = Pick<PGlite, 'query' | 'exec'> | Transaction;

// Given on every call, so they win over PGlite's own (its array parsers are installed after start-up).
const options = { parsers };

function toResult<R>(result: Results<unknown> | undefined): QueryResult<R> {
  const rows = (result?.rows ?? []) as R[];
  // PGlite's rowCount is the command tag's count (absent for DDL), as pg's; affectedRows is 0 for a SELECT.
  return { rows, rowCount: (result as { rowCount?: number } | undefined)?.rowCount ?? rows.length };
}

/** With parameters, the extended protocol (one statement); without, the simple one (a script), as pg does. */
async function run<R>(target: Target, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  if (params && params.length > 0) return toResult<R>(await target.query(sql, params.map(toParam), options));
  const results = await target.exec(sql, options);
  return toResult<R>(results[results.length - 1]);
}

/** PGlite reads COPY data from a Blob it exposes as the file /dev/blob: an arriving source is read whole first. */
async function copy(target: Target, table: string, columns: readonly string[], text: CopySource): Promise<number> {
  const result = await target.query(copyStatement(table, columns, "'/dev/blob'"), [], {
    ...options,
    blob: new Blob(await readAll(text)),
  });
  return (result as { affectedRows?: number }).affectedRows ?? 0;
}

async function readAll(text: CopySource): Promise<Array<string | Uint8Array>> {
  const pieces: Array<string | Uint8Array> = [];
  for await (const piece of text) pieces.push(piece);
  return pieces;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Data folders this process has open: a lock file naming our own pid is ours only if listed here. */
const heldHere = new Set<string>();

/**
 * PGlite is one PostgreSQL backend with no shared memory: two processes on one folder would both write it and
 * corrupt it (or both run initdb into it). A pid file beside the folder (PGDATA itself must stay PostgreSQL's)
 * keeps a second opener out; a file left by a dead process, or by an earlier process that had our pid (a
 * restarted container), is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = `${dataDir}.lock`;
  const mine = String(process.pid);
  if (heldHere.has(dataDir)) {
    throw new UnreachableError(`la base embebida ${dataDir} ya está abierta en este proceso`, 'database');
  }
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lockFile, mine, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      const live = Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder);
      if (attempt > 0 || live) {
        throw new UnreachableError(
          `la base embebida ${dataDir} está en uso por otro proceso (pid ${holder}): espere a que termine, ` +
            'o use DATABASE_URL con un PostgreSQL para trabajar desde varios procesos a la vez.',
          'database',
        );
      }
      unlinkSync(lockFile);
    }
  }
  heldHere.add(dataDir);
  return () => {
    heldHere.delete(dataDir);
    try {
      if (readFileSync(lockFile, 'utf8').trim() === mine) unlinkSync(lockFile);
    } catch {
      // already gone
    }
  };
}

/**
 * The embedded database. One connection: PGlite runs one query at a time and a transaction holds the queue until
 * it ends, so a query from another task waits for the commit (never joins the transaction).
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;

  constructor(
    private readonly pglite: PGlite,
    private readonly unlock: () => void,
  ) {}

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    assertOutsideTransaction(this);
    return run<R>(this.pglite, sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql);
  }

  async copyFrom(table: string, columns: readonly string[], text: CopySource): Promise<number> {
    assertOutsideTransaction(this);
    return copy(this.pglite, table, columns, text);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    assertOutsideTransaction(this);
    return this.pglite.transaction((tx) =>
      inTransactionScope(this, () =>
        fn({
          query: <R>(sql: string, params?: readonly unknown[]) => run<R>(tx, sql, params),
          exec: async (sql: string) => {
            await run(tx, sql);
          },
          copyFrom: (table, columns, text) => copy(tx, table, columns, text),
        }),
      ),
    );
  }

  /** Its one session lasts as long as it is open: set up once; release() runs the teardown there. */
  async keepSession({
    setup,
    teardown,
  }: {
    name: string;
    setup: SessionStep;
    teardown: SessionStep;
  }): Promise<KeptSession> {
    const session = { query: <R>(sql: string, params?: readonly unknown[]) => this.query<R>(sql, params) };
    await setup(session, false);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await teardown(session, false).catch(() => undefined);
      },
    };
  }

  /** The whole database as a tarball, to start other instances from (the test harness's migrated template). */
  async dump(): Promise<Blob> {
    // Every commit's WAL in the files first: in memory commits do not wait for it (NOTHING_DURABLE).
    await this.pglite.exec('CHECKPOINT');
    return this.pglite.dumpDataDir('none');
  }

  async close(): Promise<void> {
    try {
      await this.pglite.close();
    } finally {
      this.unlock();
    }
  }
}

/**
 * An embedded database lives in the user's folder: PostgreSQL's default keeps up to 1 GB of WAL segments around,
 * more than the demo's own data. Recycling beyond 64 MB costs a few more checkpoints on big loads.
 */
const SMALL_WAL = ['-c', 'max_wal_size=64MB', '-c', 'min_wal_size=32MB'];

/**
 * PGlite's shared_buffers default, 128 MB, lives in its WebAssembly heap and is all touched at start: it grows the
 * heap past its 128 MB minimum and adds about 130 MB to every command's resident memory, even `ventas gaps`. 32 MB
 * fits in the minimum heap; a 200,000-row load measured no slower.
 */
const SMALL_BUFFERS = ['-c', 'shared_buffers=32MB'];

/**
 * In memory nothing outlives the process, so nothing is worth making durable: no flushes, no commit waits, no full
 * page images after each checkpoint (a fifth less work on a write-heavy load).
 */
const NOTHING_DURABLE = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];

/** PGlite in `dataDir` (created with its parents), or in memory for `memory://`, optionally from a dump. */
export async function openPglite(dataDir: string, { loadDataDir }: { loadDataDir?: Blob } = {}): Promise<PgliteDb> {
  const inMemory = dataDir.startsWith('memory://');
  const where = inMemory ? dataDir : resolve(dataDir);
  let unlock = () => {};
  if (!inMemory) {
    mkdirSync(dirname(where), { recursive: true });
    unlock = lockDataDir(where);
    mkdirSync(where, { recursive: true });
  }
  try {
    const pglite = await PGlite.create(where, {
      loadDataDir,
      startParams: [...PGlite.defaultStartParams, ...SMALL_WAL, ...SMALL_BUFFERS, ...(inMemory ? NOTHING_DURABLE : [])],
    });
    return new PgliteDb(pglite, unlock);
  } catch (error) {
    unlock();
    throw new UnreachableError(`no se pudo abrir la base embebida ${where}: ${(error as Error).message}`, 'database', {
      cause: error,
    });
  }
}
