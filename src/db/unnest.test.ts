import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import type { Db } from './types.ts';
import { unnest } from './unnest.ts';

const nastyTexts = [
  'a"b',
  'back\\slash',
  'trailing\\',
  'comma,here',
  '{braces}',
  '}{',
  'NULL',
  'null',
  '',
  '  spaced  ',
  "it's",
  'ñandú 🚀 中文 ∑',
  'line\nbreak\ttab\rreturn',
  '\\"',
  '"',
  'x'.repeat(5000),
];

describe('unnest', () => {
  it('builds one typed array parameter per column, numbered from firstParam', () => {
    const { sql, params } = unnest(
      [
        ['name', 'text'],
        ['amount', 'numeric(18,4)'],
        ['Odd Name', 'timestamp'],
      ],
      [
        ['a', null],
        ['1.5', 2],
        ['2026-01-01 00:00:00', undefined],
      ],
      3,
    );
    expect(sql).toBe(
      'SELECT * FROM unnest($3::text[], $4::numeric(18,4)[], $5::timestamp[]) AS t(name, amount, "Odd Name")',
    );
    expect(params).toEqual(['{"a",NULL}', '{"1.5","2"}', '{"2026-01-01 00:00:00",NULL}']);
  });

  it('rejects columns of different lengths, a missing array and odd type names', () => {
    expect(() =>
      unnest(
        [
          ['a', 'text'],
          ['b', 'text'],
        ],
        [['x'], []],
      ),
    ).toThrow(/b/);
    expect(() => unnest([['a', 'text']], [])).toThrow();
    expect(() => unnest([['a', 'text); DROP TABLE ventas; --']], [['x']])).toThrow(/tipo/);
  });
});

describeEachBackend('unnest load', (open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open({ migrate: false });
  });
  afterAll(() => db?.close());

  it('loads nasty strings, exact numerics, timestamps, json and nulls unchanged', async () => {
    await db.exec(
      `CREATE TABLE nasty (i int, t text, n numeric(18,4), ts timestamp, tstz timestamptz, d date, j jsonb, b boolean, v varchar(10))`,
    );
    const n = nastyTexts.length;
    const texts = [...nastyTexts, null];
    const numerics = [
      '12345678901234.5678',
      '-0.0001',
      0.5,
      7,
      '1e3',
      ...Array.from({ length: n - 5 }, (_, i) => `${i}.25`),
      null,
    ];
    const storedNumerics = [
      '12345678901234.5678',
      '-0.0001',
      '0.5000',
      '7.0000',
      '1000.0000',
      ...Array.from({ length: n - 5 }, (_, i) => `${i}.2500`),
      null,
    ];
    const timestamps = [
      ...Array.from({ length: n }, (_, i) => `2026-01-25 23:59:${String(i % 60).padStart(2, '0')}.123456`),
      null,
    ];
    const instants = [...Array.from({ length: n }, (_, i) => new Date(Date.UTC(2026, 0, 25, 4, i))), null];
    const days = [...Array.from({ length: n }, (_, i) => `2026-01-${String(i + 1).padStart(2, '0')}`), null];
    // Strings for json columns are JSON text; other values are sent as their JSON.
    const jsons = [
      { quote: 'a"b', nested: ['{x}', null] },
      [1, 'two'],
      JSON.stringify('plain "string"'),
      3,
      ...Array.from({ length: n - 4 }, () => ({})),
      null,
    ];
    const storedJsons = [jsons[0], jsons[1], 'plain "string"', 3, ...jsons.slice(4)];
    const bools = [...Array.from({ length: n }, (_, i) => i % 2 === 0), null];
    const shorts = [...Array.from({ length: n }, (_, i) => `v,"${i}"`), null];
    const ids = texts.map((_, i) => i);
    const source = unnest(
      [
        ['i', 'int'],
        ['t', 'text'],
        ['n', 'numeric'],
        ['ts', 'timestamp'],
        ['tstz', 'timestamptz'],
        ['d', 'date'],
        ['j', 'jsonb'],
        ['b', 'boolean'],
        ['v', 'varchar(10)'],
      ],
      [ids, texts, numerics, timestamps, instants, days, jsons, bools, shorts],
    );
    const inserted = await db.query(`INSERT INTO nasty ${source.sql}`, source.params);
    expect(inserted.rowCount).toBe(n + 1);

    const { rows } = await db.query('SELECT * FROM nasty ORDER BY i');
    expect(rows).toEqual(
      ids.map((i) => ({
        i,
        t: texts[i],
        n: storedNumerics[i],
        ts: timestamps[i],
        tstz: instants[i],
        d: days[i],
        j: storedJsons[i],
        b: bools[i],
        v: shorts[i],
      })),
    );
  });

  it('takes its parameters after the caller’s own (firstParam)', async () => {
    const source = unnest([['x', 'text']], [['a', 'b']], 2);
    const { rows } = await db.query(`SELECT $1::text AS tag, t.x FROM (${source.sql}) AS t ORDER BY x`, [
      'tag',
      ...source.params,
    ]);
    expect(rows).toEqual([
      { tag: 'tag', x: 'a' },
      { tag: 'tag', x: 'b' },
    ]);
  });

  it('loads 100k rows in one statement with exact totals', async () => {
    const count = 100_000;
    const keys = Array.from({ length: count }, (_, i) => `F${i}_L${i % 7}`);
    const amounts = Array.from({ length: count }, (_, i) => `${i}.${String(i % 10_000).padStart(4, '0')}`);
    const stores = Array.from({ length: count }, (_, i) =>
      i % 13 === 0 ? null : `tienda_${String(i % 20).padStart(2, '0')}`,
    );
    await db.exec('CREATE TABLE bulk (k text PRIMARY KEY, amount numeric(18,4), store text)');
    const source = unnest(
      [
        ['k', 'text'],
        ['amount', 'numeric'],
        ['store', 'text'],
      ],
      [keys, amounts, stores],
    );
    expect((await db.query(`INSERT INTO bulk ${source.sql}`, source.params)).rowCount).toBe(count);
    const expectedTotal = amounts.reduce((sum, a) => sum + BigInt(a.replace('.', '')), 0n);
    const { rows } = await db.query<{ n: number; total: string; nulls: number; last: string }>(
      `SELECT count(*) AS n, sum(amount) AS total, count(*) FILTER (WHERE store IS NULL) AS nulls,
              (SELECT amount FROM bulk WHERE k = $1) AS last
       FROM bulk`,
      [keys[count - 1]],
    );
    const whole = expectedTotal / 10_000n;
    const fraction = String(expectedTotal % 10_000n).padStart(4, '0');
    expect(rows[0]).toEqual({
      n: count,
      total: `${whole}.${fraction}`,
      nulls: Math.ceil(count / 13),
      last: amounts[count - 1],
    });
  });
});
