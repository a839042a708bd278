import { AsyncLocalStorage } from 'node:async_hooks';
import { types } from 'pg';

/**
 * What both backends share so that values look the same whichever one runs (see types.ts): the parsers for
 * results, the normalisation of parameters and the guard against re-entering the database from inside one of its
 * own transactions.
 */

type Parser = (text: string) => unknown;

const identity: Parser = (text) => text;
const number: Parser = (text) => Number(text);
// pg's own parsers, used only as functions: nothing is registered globally.
const pgParser = types.getTypeParser as (oid: number) => Parser;
const parseTimestamptz = pgParser(1184);
const parseTextArray = pgParser(1009) as (text: string) => unknown[];

const scalarParsers: Record<number, Parser> = {
  16: (text) => text === 't', // bool
  20: number, // int8: counts and ids stay below 2^53
  21: number, // int2
  23: number, // int4
  700: number, // float4
  701: number, // float8
  1700: identity, // numeric: exact, as text
  1082: identity, // date: 'YYYY-MM-DD'
  1114: identity, // timestamp: naive local time, as stored
  1184: parseTimestamptz, // timestamptz: an instant
  1186: identity, // interval
  114: (text) => JSON.parse(text), // json
  3802: (text) => JSON.parse(text), // jsonb
};

/** Array type oid -> element type oid. */
const arrayElements: Record<number, number> = {
  1000: 16,
  1016: 20,
  1005: 21,
  1007: 23,
  1021: 700,
  1022: 701,
  1231: 1700,
  1182: 1082,
  1115: 1114,
  1185: 1184,
  1187: 1186,
  199: 114,
  3807: 3802,
};

function mapNested(values: unknown[], parse: Parser): unknown[] {
  return values.map((v) => (v === null ? null : Array.isArray(v) ? mapNested(v, parse) : parse(v as string)));
}

/** Text-format parsers by type oid, given to both drivers (text arrays and unknown types stay strings). */
export const parsers: Readonly<Record<number, Parser>> = {
  ...scalarParsers,
  ...Object.fromEntries(
    Object.entries(arrayElements).map(([arrayOid, elementOid]) => {
      const parseElement = scalarParsers[elementOid] as Parser;
      return [Number(arrayOid), (text: string) => mapNested(parseTextArray(text), parseElement)];
    }),
  ),
  // pg's default for these already yields strings; PGlite's own array parser is replaced so both agree.
  1009: parseTextArray,
  1015: parseTextArray,
  1014: parseTextArray,
};

function quoteElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value instanceof Date) text = value.toISOString();
  else if (value instanceof Uint8Array) text = `\\x${Buffer.from(value).toString('hex')}`;
  // Objects and nested arrays go as JSON (json/jsonb elements); multi-dimensional arrays are not supported.
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** A PostgreSQL array literal ('{"a","b",NULL}'): every element quoted, so no value can read as NULL or split. */
export function toArrayLiteral(values: ReadonlyArray<unknown>): string {
  return `{${values.map(quoteElement).join(',')}}`;
}

/**
 * One parameter as both drivers receive it. pg and PGlite disagree on Dates (local offset vs UTC), arrays
 * (different escaping) and objects (JSON vs toString), so those are turned into text here, the same way for both.
 */
export function toParam(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return toArrayLiteral(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) return JSON.stringify(value);
  return value;
}

interface TransactionScope {
  owner: object;
  open: boolean;
}

const transactionScope = new AsyncLocalStorage<TransactionScope>();

/** Runs a transaction body marked as inside `owner`'s transaction until it settles. */
export async function inTransactionScope<T>(owner: object, fn: () => Promise<T>): Promise<T> {
  const scope: TransactionScope = { owner, open: true };
  try {
    return await transactionScope.run(scope, fn);
  } finally {
    scope.open = false;
  }
}

/**
 * `db.query` or `db.transaction` from inside `db`'s own open transaction waits for that transaction on PGlite
 * (one connection) forever, and on pg silently runs outside it: both are bugs, so both backends throw.
 */
export function assertOutsideTransaction(owner: object): void {
  const scope = transactionScope.getStore();
  if (scope?.open && scope.owner === owner) {
    throw new Error(
      'consulta a la base con db.query/db.transaction dentro de una transacción abierta de la misma base: use tx.query',
    );
  }
}

/** A name SQL reads as it is, without quotes. */
export const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** The COPY statement both backends run; table and columns are the tool's own names, checked rather than quoted. */
export function copyStatement(table: string, columns: readonly string[], source: 'STDIN' | `'${string}'`): string {
  for (const name of [table, ...columns]) {
    if (!PLAIN_IDENTIFIER.test(name)) throw new Error(`COPY: nombre no admitido ${JSON.stringify(name)}`);
  }
  return `COPY ${table} (${columns.join(', ')}) FROM ${source}`;
}
