import pg from 'pg';
import { UnreachableError } from '../shared/errors.ts';
import type { Db, Queryable, QueryResult } from './types.ts';

/** The value conventions of types.ts, set on this pool only (pg's global parsers stay untouched). */
const arrayOf = (element: (v: string) => unknown) => (value: string) =>
  (pg.types as unknown as { arrayParser: { create(v: string, t: (e: string | null) => unknown): { parse(): unknown[] } } }).arrayParser
    .create(value, (e) => (e === null ? null : element(e)))
    .parse();
const asIs = (value: string) => value;
const PARSERS: Record<number, (value: string) => unknown> = {
  20: Number, // int8
  1016: arrayOf(Number), // int8[]
  1082: asIs, // date
  1182: arrayOf(asIs), // date[]
  1114: asIs, // timestamp without time zone: never reinterpreted in the machine's zone
  1115: arrayOf(asIs), // timestamp[]
};

const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    PARSERS[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Codes and errors meaning "the database cannot be reached", not "the query is wrong". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '28P01', '28000', '3D000', '57P03']);

function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(DATABASE_URL ilegible)';
  }
}

export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const result = await client.query(sql, params as unknown[]);
      return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

/** A real PostgreSQL through a pool; connection problems become UnreachableError (exit 3), password never shown. */
export async function openPostgres(url: string, options: { poolSize?: number } = {}): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types: typeParsers, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const target = describeTarget(url);
  const unreachable = (error: unknown) =>
    new UnreachableError(`no se puede conectar a la base de datos ${target}: ${(error as Error).message}`, 'database', { cause: error });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw unreachable(error);
  }
  const base = wrap(pool);
  return {
    kind: 'postgres',
    async query(sql, params) {
      try {
        return await base.query(sql, params);
      } catch (error) {
        throw isUnreachable(error) ? unreachable(error) : error;
      }
    },
    async exec(sql) {
      try {
        await base.exec(sql);
      } catch (error) {
        throw isUnreachable(error) ? unreachable(error) : error;
      }
    },
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw unreachable(error);
      }
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw isUnreachable(error) ? unreachable(error) : error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
