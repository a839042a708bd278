import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, Pool, types, type ClientBase, type CustomTypesConfig, type QueryResult as PgResult } from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { UnreachableError, UsageError } from '../shared/errors.ts';
import { env } from '../shared/env.ts';
import { assertOutsideTransaction, copyStatement, inTransactionScope, parsers, toParam } from './conventions.ts';
import type { CopySource, Db, KeptSession, QueryResult, Queryable, SessionStep } from './types.ts';

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Every connection's transactions read-only: the server refuses any write. */
  readOnly?: boolean;
}

interface Target {
  user: string;
  host: string;
  port: string;
  database: string;
}

function parseTarget(url: string): Target {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'postgres:' && parsed?.protocol !== 'postgresql:') {
    // The URL itself is not echoed: it may carry a password.
    throw new UsageError(
      'DATABASE_URL no es una URL de PostgreSQL válida; use postgres://usuario:clave@host:5432/base',
    );
  }
  const query = parsed.searchParams;
  const user = decodeURIComponent(parsed.username) || query.get('user') || env().PGUSER || 'postgres';
  return {
    user,
    host: decodeURIComponent(parsed.hostname) || query.get('host') || 'localhost',
    port: parsed.port || query.get('port') || '5432',
    database: decodeURIComponent(parsed.pathname.slice(1)) || user,
  };
}

/** The URL without its password or options, for messages and logs: postgres://user@host:5432/db. */
export function redactDatabaseUrl(url: string): string {
  const t = parseTarget(url);
  return `postgres://${t.user}@${t.host}:${t.port}/${t.database}`;
}

type Failure = 'refused' | 'unknown-host' | 'auth' | 'no-database' | 'timeout' | 'no-ssl' | 'lost';

const lostCodes = new Set([
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errors?: unknown[] } | undefined;
  if (typeof e?.code === 'string') return e.code;
  // Node reports a failed connection to every address of a host as one AggregateError.
  return Array.isArray(e?.errors) ? errorCode(e.errors[0]) : undefined;
}

/** Why the database cannot be used now, or undefined when the error is about the statement itself. */
function failureOf(error: unknown): Failure | undefined {
  const code = errorCode(error) ?? '';
  const message = error instanceof Error ? error.message : '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown-host';
  if (code === '28P01' || code === '28000') return 'auth';
  if (code === '3D000') return 'no-database';
  if (code === 'ETIMEDOUT' || /connection timeout|timeout expired/i.test(message)) return 'timeout';
  if (/server does not support SSL/i.test(message)) return 'no-ssl';
  if (lostCodes.has(code) || code.startsWith('08') || /^Connection terminated|not queryable/.test(message))
    return 'lost';
  return undefined;
}

/** True for errors meaning "the database cannot be reached", not "the query is wrong". */
export function isUnreachable(error: unknown): boolean {
  return error instanceof UnreachableError || failureOf(error) !== undefined;
}

function reason(failure: Failure, target: Target, error: unknown): string {
  switch (failure) {
    case 'refused':
      return 'conexión rechazada';
    case 'unknown-host':
      return `host desconocido (${target.host})`;
    case 'auth':
      return `autenticación rechazada para el usuario ${target.user}`;
    case 'no-database':
      return `la base de datos ${target.database} no existe`;
    case 'timeout':
      return 'tiempo de espera agotado';
    case 'no-ssl':
      return 'el servidor no acepta conexiones SSL y DATABASE_URL las exige (sslmode); quite sslmode o active SSL en el servidor';
    case 'lost':
      return `conexión perdida (${(error as Error).message})`;
  }
}

function mapError(error: unknown, target: Target): unknown {
  const failure = error instanceof UnreachableError ? undefined : failureOf(error);
  if (failure === undefined) return error;
  const where = `PostgreSQL en ${target.host}:${target.port}/${target.database}`;
  const why = reason(failure, target, error);
  return new UnreachableError(
    `${where} no está disponible: ${why}. Revise DATABASE_URL y que el servidor esté en marcha.`,
    'database',
    {
      cause: error,
      detail: `${where}: ${why}`,
    },
  );
}

/**
 * What a pg client of our own (the queue's, the KLK slots') failed with, as the Db would say it: UnreachableError
 * when the server cannot be used, the error itself otherwise.
 */
export function databaseError(error: unknown, url: string): unknown {
  return mapError(error, parseTarget(url));
}

/** The conventions of types.ts on this pool only: pg's global parsers stay untouched for any other user of pg. */
const typeConfig = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    (format !== 'binary' && parsers[oid]) || types.getTypeParser(oid, format as 'text'),
} as CustomTypesConfig;

function toResult<R>(result: PgResult | PgResult[]): QueryResult<R> {
  // Several statements in one parameterless query come back as one result each: the last one answers.
  const last = (Array.isArray(result) ? result[result.length - 1] : result) as PgResult | undefined;
  const rows = (last?.rows ?? []) as R[];
  return { rows, rowCount: last?.rowCount ?? rows.length };
}

/** With parameters, the extended protocol (one statement); without, the simple one (a script), as on PGlite. */
async function run<R>(client: ClientBase | Pool, sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  const result = params && params.length > 0 ? await client.query(sql, params.map(toParam)) : await client.query(sql);
  return toResult<R>(result as PgResult | PgResult[]);
}

/** COPY FROM STDIN through pg-copy-streams: the rows stream to the server as they are handed over. */
async function copy(client: ClientBase, table: string, columns: readonly string[], text: CopySource): Promise<number> {
  const stream = client.query(copyFromStdin(copyStatement(table, columns, 'STDIN')));
  await pipeline(Readable.from(text, { objectMode: false }), stream);
  return stream.rowCount;
}

/** After a kept session's connection is lost: the first try at a new one, doubling up to the last. */
const KEPT_RETRY_MS = { first: 1_000, max: 30_000 };

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  /** Releases every kept session: run by close(). */
  private readonly kept = new Set<() => Promise<void>>();

  constructor(
    private readonly pool: Pool,
    private readonly target: Target,
    private readonly url: string,
  ) {}

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    assertOutsideTransaction(this);
    try {
      return await run<R>(this.pool, sql, params);
    } catch (error) {
      throw mapError(error, this.target);
    }
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql);
  }

  async copyFrom(table: string, columns: readonly string[], text: CopySource): Promise<number> {
    assertOutsideTransaction(this);
    const client = await this.pool.connect().catch((error: unknown) => {
      throw mapError(error, this.target);
    });
    const unguard = guard(client);
    let broken: Error | undefined;
    try {
      return await copy(client, table, columns, text);
    } catch (error) {
      broken = error as Error;
      throw mapError(error, this.target);
    } finally {
      // A connection whose COPY failed half-way is not reused.
      unguard();
      client.release(broken);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    assertOutsideTransaction(this);
    const client = await this.pool.connect().catch((error: unknown) => {
      throw mapError(error, this.target);
    });
    const unguard = guard(client);
    let closed = false;
    let broken: Error | undefined;
    const tx: Queryable = {
      query: async <R>(sql: string, params?: readonly unknown[]) => {
        if (closed) throw new Error('la transacción ya terminó: tx.query fuera de su función');
        return run<R>(client, sql, params);
      },
      exec: async (sql: string) => {
        await tx.query(sql);
      },
      copyFrom: async (table, columns, text) => {
        if (closed) throw new Error('la transacción ya terminó: tx.copyFrom fuera de su función');
        return copy(client, table, columns, text);
      },
    };
    try {
      await client.query('BEGIN');
      const result = await inTransactionScope(this, () => fn(tx));
      const commit = await client.query('COMMIT');
      // PostgreSQL answers the COMMIT of a transaction aborted by an earlier error with a silent ROLLBACK.
      if (commit.command === 'ROLLBACK')
        throw new Error('la transacción se deshizo: una consulta dentro de ella falló');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw mapError(error, this.target);
    } finally {
      closed = true;
      // A connection that could not even roll back is discarded, not handed to the next caller.
      unguard();
      client.release(broken);
    }
  }

  async keepSession({
    name,
    setup,
    teardown,
  }: {
    name: string;
    setup: SessionStep;
    teardown: SessionStep;
  }): Promise<KeptSession> {
    let client: Client | undefined;
    let released = false;
    let retry: NodeJS.Timeout | undefined;
    const session = (c: Client) => ({ query: <R>(sql: string, params?: readonly unknown[]) => run<R>(c, sql, params) });
    const connect = async (again: boolean) => {
      const c = new Client({
        connectionString: this.url,
        application_name: name,
        keepAlive: true,
        connectionTimeoutMillis: 10_000,
        types: typeConfig,
      });
      // Its loss is seen through 'end'; an 'error' event must not end the process.
      c.on('error', () => undefined);
      try {
        await c.connect();
        await setup(session(c), again);
      } catch (error) {
        await c.end().catch(() => undefined);
        throw error;
      }
      if (released) return void (await c.end().catch(() => undefined));
      client = c;
      c.once('end', () => {
        client = undefined;
        if (!released) reconnect(KEPT_RETRY_MS.first);
      });
    };
    // Lost (the server restarted, the network failed): set up again on a new connection, until that works.
    const reconnect = (waitMs: number) => {
      retry = setTimeout(() => {
        connect(true).catch(() => reconnect(Math.min(waitMs * 2, KEPT_RETRY_MS.max)));
      }, waitMs);
      retry.unref();
    };
    try {
      await connect(false);
    } catch (error) {
      throw mapError(error, this.target);
    }
    const release = async () => {
      if (released) return;
      released = true;
      this.kept.delete(release);
      clearTimeout(retry);
      const c = client;
      if (!c) return;
      await teardown(session(c), false).catch(() => undefined);
      await c.end().catch(() => undefined);
    };
    this.kept.add(release);
    return { release };
  }

  async close(): Promise<void> {
    await Promise.all([...this.kept].map((release) => release()));
    await this.pool.end();
  }
}

/**
 * A client checked out of the pool has no 'error' listener of pg-pool's: a server that goes away while it is held
 * would emit an unhandled 'error' and end the process. The failure reaches its caller through the query that fails,
 * so the event itself only needs a listener. Returns what removes it before the client goes back.
 */
export function guard(client: {
  on(event: 'error', fn: (error: Error) => void): unknown;
  off(event: 'error', fn: (error: Error) => void): unknown;
}): () => void {
  const ignore = () => undefined;
  client.on('error', ignore);
  return () => void client.off('error', ignore);
}

/** A pg pool on `url`; UnreachableError (exit 3, password never shown) when the server cannot be used. */
export async function openPostgres(
  url: string,
  { poolSize = 10, readOnly = false }: PostgresOptions = {},
): Promise<Db> {
  const target = parseTarget(url);
  const base = { connectionString: url, application_name: 'ventas' };
  // One bounded attempt first. The pool itself has no connect timeout: pg-pool applies it to waiting for a busy
  // pool too, and a backfill with more tasks than connections waits by design.
  const probe = new Client({ ...base, connectionTimeoutMillis: 10_000 });
  guard(probe);
  try {
    await probe.connect();
  } catch (error) {
    throw mapError(error, target);
  } finally {
    await probe.end().catch(() => undefined);
  }
  const pool = new Pool({
    ...base,
    max: poolSize,
    types: typeConfig,
    // Timestamps are returned as text, so their text form must be ISO whatever the server's default DateStyle.
    onConnect: async (client) => {
      await client.query('SET DateStyle TO ISO');
      if (readOnly) await client.query('SET default_transaction_read_only = on');
    },
  });
  // An idle connection dropped by the server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return new PostgresDb(pool, target, url);
}
