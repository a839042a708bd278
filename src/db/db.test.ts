import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { toArrayLiteral, toParam } from './conventions.ts';
import type { Db } from './types.ts';

const nasty = [
  'a"b',
  'back\\slash',
  'comma,here',
  '{braces}',
  'NULL',
  '',
  '  spaced  ',
  "it's",
  'ñandú 🚀 中文',
  'line\nbreak\ttab',
  '\\"',
];

describe('toArrayLiteral', () => {
  it('quotes every element and escapes quotes and backslashes', () => {
    expect(toArrayLiteral(['a"b', 'c\\d', null, 'NULL', 1.5, undefined])).toBe(
      '{"a\\"b","c\\\\d",NULL,"NULL","1.5",NULL}',
    );
    expect(toArrayLiteral([])).toBe('{}');
  });

  it('sends Dates as UTC instants and objects as JSON', () => {
    expect(toParam(new Date('2026-01-25T14:00:00.000Z'))).toBe('2026-01-25T14:00:00.000Z');
    expect(toParam({ a: [1] })).toBe('{"a":[1]}');
    expect(toParam([{ a: 1 }])).toBe('{"{\\"a\\":1}"}');
    expect(toParam(10n)).toBe('10');
    expect(toParam(undefined)).toBe(null);
  });
});

describeEachBackend('db values', (open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open({ migrate: false });
  });
  afterAll(() => db?.close());

  it('follows the value conventions of types.ts for every type', async () => {
    const { rows } = await db.query(
      `SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740991::int8 AS i8, count(*) AS cnt,
              12345678901234.5678::numeric(18,4) AS num, 0.10::numeric AS num_scale,
              '2026-01-25'::date AS d, '2026-01-25 23:59:59.999999'::timestamp AS ts, '2026-01-25 10:00:00'::timestamp AS ts0,
              '2026-01-25 10:00:00.5-04'::timestamptz AS tstz, '{"a":[1,"x"],"b":null}'::jsonb AS jb, '[1,2]'::json AS js,
              true AS b, 1.5::float8 AS f8, 'texto'::varchar AS vc,
              NULL::int8 AS null_i8, NULL::numeric AS null_num, NULL::date AS null_d, NULL::timestamptz AS null_tstz`,
    );
    expect(rows[0]).toEqual({
      i2: 1,
      i4: 2,
      i8: 9007199254740991,
      cnt: 1,
      num: '12345678901234.5678',
      num_scale: '0.10',
      d: '2026-01-25',
      ts: '2026-01-25 23:59:59.999999',
      ts0: '2026-01-25 10:00:00',
      tstz: new Date('2026-01-25T14:00:00.500Z'),
      jb: { a: [1, 'x'], b: null },
      js: [1, 2],
      b: true,
      f8: 1.5,
      vc: 'texto',
      null_i8: null,
      null_num: null,
      null_d: null,
      null_tstz: null,
    });
  });

  it('returns arrays as JS arrays of the same conventions', async () => {
    const { rows } = await db.query(
      `SELECT ARRAY[1, NULL, 3]::int8[] AS i8s, ARRAY['1.10', NULL, '-0.0001']::numeric[] AS nums,
              ARRAY['2026-01-01'::date, NULL] AS ds, ARRAY['2026-01-01 08:00:00'::timestamp] AS tss,
              ARRAY['2026-01-01 08:00:00+00'::timestamptz] AS tstzs, ARRAY['{"a":1}'::jsonb] AS jbs,
              $1::text[] AS texts, ARRAY[]::int4[] AS empty`,
      [[...nasty, null]],
    );
    expect(rows[0]).toEqual({
      i8s: [1, null, 3],
      nums: ['1.10', null, '-0.0001'],
      ds: ['2026-01-01', null],
      tss: ['2026-01-01 08:00:00'],
      tstzs: [new Date('2026-01-01T08:00:00Z')],
      jbs: [{ a: 1 }],
      texts: [...nasty, null],
      empty: [],
    });
  });

  it('sends parameters the same way on both backends', async () => {
    const instant = new Date('2026-01-25T14:00:00.123Z');
    const { rows } = await db.query(
      `SELECT $1::timestamptz AS tstz, $2::numeric AS num, $3::jsonb AS jb, $4::int8 AS big, $5::text AS nothing,
              $6::text = ANY($7::text[]) AS found, $8::text AS s`,
      [instant, '0.0001', { k: ['v', 1] }, 10n, undefined, 'it\'s, "quoted"', ['x', 'it\'s, "quoted"'], 'ñ'],
    );
    expect(rows[0]).toEqual({
      tstz: instant,
      num: '0.0001',
      jb: { k: ['v', 1] },
      big: 10,
      nothing: null,
      found: true,
      s: 'ñ',
    });
  });

  it('counts affected rows for writes and returned rows for reads', async () => {
    await db.exec('CREATE TABLE counted (id int PRIMARY KEY, v text)');
    expect(
      (await db.query('INSERT INTO counted VALUES ($1, $2), ($3, $4), ($5, $6)', [1, 'a', 2, 'b', 3, 'c'])).rowCount,
    ).toBe(3);
    expect((await db.query(`UPDATE counted SET v = 'z' WHERE id >= $1`, [2])).rowCount).toBe(2);
    expect((await db.query('SELECT * FROM counted')).rowCount).toBe(3);
    expect((await db.query('DELETE FROM counted WHERE id = $1 RETURNING id', [1])).rowCount).toBe(1);
    expect((await db.query('SELECT * FROM counted WHERE id = $1', [99])).rowCount).toBe(0);
    expect((await db.query('CREATE INDEX counted_v ON counted (v)')).rowCount).toBe(0);
  });

  it('runs scripts of several statements, through exec and through a parameterless query', async () => {
    await db.exec(`CREATE TABLE script (n int); INSERT INTO script VALUES (1); INSERT INTO script VALUES (2);`);
    const { rows } = await db.query<{ total: number }>(
      'INSERT INTO script VALUES (3); SELECT sum(n)::int AS total FROM script',
    );
    expect(rows).toEqual([{ total: 6 }]);
  });
});

describeEachBackend('db transactions', (open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open({ migrate: false });
    await db.exec('CREATE TABLE items (name text PRIMARY KEY)');
  });
  afterAll(() => db?.close());

  const names = async () =>
    (await db.query<{ name: string }>('SELECT name FROM items ORDER BY name')).rows.map((r) => r.name);

  it('commits when the function resolves and returns its value', async () => {
    await db.exec('TRUNCATE items');
    const result = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1)', ['a']);
      await tx.exec(`INSERT INTO items VALUES ('b'); INSERT INTO items VALUES ('c')`);
      return (await tx.query('SELECT count(*) AS n FROM items')).rows[0];
    });
    expect(result).toEqual({ n: 3 });
    expect(await names()).toEqual(['a', 'b', 'c']);
  });

  it('rolls back when the function throws, and rethrows the same error', async () => {
    await db.exec('TRUNCATE items');
    const boom = new Error('boom');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1)', ['lost']);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await names()).toEqual([]);
  });

  it('does not commit a transaction whose failed statement was caught inside it', async () => {
    await db.exec('TRUNCATE items');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1)', ['x']);
        await tx.query('INSERT INTO items VALUES ($1)', ['x']).catch(() => undefined);
      }),
    ).rejects.toThrow();
    expect(await names()).toEqual([]);
  });

  it('refuses tx.query once the transaction is over', async () => {
    let leaked: { query: (sql: string) => Promise<unknown> } | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.query('SELECT 1')).rejects.toThrow();
  });

  it('keeps a query from another task out of an open transaction (it waits or runs apart, never joins)', async () => {
    await db.exec('TRUNCATE items');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const transaction = db.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES ($1)', ['in-tx']);
      entered();
      await gate;
      throw new Error('rollback');
    });
    await inside;
    const outside = db.query('INSERT INTO items VALUES ($1)', ['outside']);
    release();
    await expect(transaction).rejects.toThrow('rollback');
    await outside;
    expect(await names()).toEqual(['outside']);
  });

  it('runs many concurrent transactions without losing an update', async () => {
    await db.exec(
      'CREATE TABLE IF NOT EXISTS counter (id int PRIMARY KEY, n int NOT NULL); TRUNCATE counter; INSERT INTO counter VALUES (1, 0)',
    );
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter WHERE id = 1 FOR UPDATE');
          await tx.query('UPDATE counter SET n = $1 WHERE id = 1', [rows[0]!.n + 1]);
        }),
      ),
    );
    expect((await db.query('SELECT n FROM counter')).rows).toEqual([{ n: 20 }]);
  });

  it('rejects db.query and db.transaction from inside its own transaction instead of hanging', async () => {
    await db.exec('TRUNCATE items');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO items VALUES ($1)', ['kept-out']);
        await db.query('SELECT 1');
      }),
    ).rejects.toThrow(/tx\.query/);
    await expect(db.transaction(() => db.transaction(async () => 1))).rejects.toThrow(/tx\.query/);
    expect(await names()).toEqual([]);
  });
});

describeEachBackend('db COPY', (open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open({ migrate: false });
    await db.exec('CREATE TABLE copied (name text, amount numeric(18,4), at timestamp)');
  });
  afterAll(() => db?.close());

  const copyEscape = (s: string) =>
    s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

  it('copies rows in pieces, escapes and nulls included, and counts them', async () => {
    await db.exec('TRUNCATE copied');
    const rows = nasty.map((name, i) => `${copyEscape(name)}\t${i}.12345\t2026-01-25 10:00:0${i % 10}.1234567\n`);
    const copied = await db.transaction((tx) =>
      tx.copyFrom(
        'copied',
        ['name', 'amount', 'at'],
        [rows.slice(0, 4).join(''), rows.slice(4).join(''), '\\N\t\\N\t\\N\n'],
      ),
    );
    expect(copied).toBe(nasty.length + 1);
    const { rows: back } = await db.query<{ name: string | null; amount: string | null }>(
      'SELECT name, amount FROM copied ORDER BY amount NULLS LAST',
    );
    expect(back.map((r) => r.name)).toEqual([...nasty, null]);
    expect(back[1]!.amount).toBe('1.1235');
  });

  it('copies outside a transaction too', async () => {
    await db.exec('TRUNCATE copied');
    expect(await db.copyFrom('copied', ['name'], ['solo\n'])).toBe(1);
    expect((await db.query('SELECT name FROM copied')).rows).toEqual([{ name: 'solo' }]);
  });

  it('fails on a bad value, writes nothing, and leaves the database usable', async () => {
    await db.exec('TRUNCATE copied');
    await expect(
      db.transaction((tx) => tx.copyFrom('copied', ['name', 'amount'], ['a\t1\n', 'b\tno-es-numero\n'])),
    ).rejects.toThrow(/numeric/);
    await expect(db.copyFrom('copied', ['name', 'amount'], ['c\tx\n'])).rejects.toThrow(/numeric/);
    expect((await db.query('SELECT count(*)::int AS n FROM copied')).rows).toEqual([{ n: 0 }]);
    expect(await db.copyFrom('copied', ['name'], ['d\n'])).toBe(1);
  });

  it('refuses names it would have to quote', async () => {
    await expect(db.copyFrom('copied; DROP TABLE copied', ['name'], [])).rejects.toThrow(/no admitido/);
  });
});
