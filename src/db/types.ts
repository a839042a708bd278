/**
 * The one small database interface the whole tool uses. Two implementations: `pg` (a real PostgreSQL, when
 * DATABASE_URL is set) and PGlite (embedded, under ./.ventas/). SQL must stay portable between PostgreSQL 15 and
 * PGlite's embedded 18.
 *
 * Value conventions, identical on both backends (so callers never branch on the backend):
 *   int2/int4/int8 -> number    numeric -> string (exact)    date -> 'YYYY-MM-DD'
 *   timestamp -> 'YYYY-MM-DD HH:MM:SS[.ffffff]' (as stored, no zone)    timestamptz -> Date
 *   json/jsonb -> parsed value    arrays -> JS arrays of the above
 */
export interface QueryResult<R> {
  rows: R[];
  /** Rows affected (INSERT/UPDATE/DELETE) or returned (SELECT). */
  rowCount: number;
}

/** COPY text in pieces, ready now or arriving. */
export type CopySource = Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * `COPY table (columns) FROM STDIN` in PostgreSQL's text format: `text` holds whole rows (tab-separated values,
   * each row ending in a newline, `\N` for null), in pieces of any number of rows. Returns the rows copied.
   * PostgreSQL sends the pieces as they come (an async source streams: the server takes rows while more are being
   * made); PGlite reads them all first.
   */
  copyFrom(table: string, columns: readonly string[], text: CopySource): Promise<number>;
}

/** One step on a kept session (see Db.keepSession); `again` on a connection that replaces a lost one. */
export type SessionStep = (session: Pick<Queryable, 'query'>, again: boolean) => Promise<void>;

export interface KeptSession {
  /** Runs the teardown and gives the connection up (PostgreSQL); nothing is set up again after it. */
  release(): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Session state that lasts while the Db is open (the liveness lock, see liveness.ts). PostgreSQL: `setup` runs on
   * a connection of its own, out of the pool, and again on a new one whenever that one is lost, until released or
   * closed. PGlite: on its one session, once. Rejects when the first setup fails.
   */
  keepSession(options: { name: string; setup: SessionStep; teardown: SessionStep }): Promise<KeptSession>;
  close(): Promise<void>;
}
