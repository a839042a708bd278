import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { readCoverageInput } from './read.ts';
import { buildCoverage } from './report.ts';
import { inputFor } from '../../test/fixtures/seed.ts';

const FROM = '2025-10-28';
const TO = '2026-01-25';

describeEachBackend('readCoverageInput', (open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open();
    // store, day, lines, total_usd, klk_lines
    const rows: Array<[string, string, number, string, number | null, number?, boolean?]> = [
      ['tienda_01', '2025-09-01', 100, '250.0000', null], // first sale ever, long before the baseline
      ['tienda_01', '2025-09-22', 9000, '22500.0000', null], // from - 36 days: not read
      ['tienda_01', '2025-09-23', 9100, '22750.0000', null], // from - 35 days: the first day read
      ['tienda_01', '2025-10-28', 9000, '12345.6789', 9000],
      ['tienda_01', '2025-10-29', 0, '0', 0], // KLK answered the day empty: not a sale
      ['tienda_01', '2025-10-30', 0, '0', 0, 12, true], // KLK's 12 lines all quarantined, other ones than before
      ['tienda_01', '2026-01-25', 5, '1.5000', null],
      ['tienda_01', '2026-01-26', 10, '3.0000', null], // after --to: not read, but the last sale ever
      ['tienda_02', '2025-11-02', 0, '0', 0], // only an empty day: never sold
      ['tienda_03', '2025-11-02', 8000, '1.0000', null], // not asked for
    ];
    for (const [storeId, day, lines, usd, klkLines, rejected = null, changed = false] of rows) {
      await db.query(
        `INSERT INTO store_days (store_id, day, lines, total_usd, klk_lines, klk_rejected, rejected_source_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END)`,
        [storeId, day, lines, usd, klkLines, rejected, changed],
      );
    }
    // The evidence of an empty day, and of an answer that proved nothing (whatever the session's time zone).
    await db.exec(`SET TIME ZONE 'America/Caracas'`);
    await db.query(
      `UPDATE store_days SET empty_since = '2025-10-30 06:00:00-04', empty_seen_at = '2025-10-30 13:30:00.25-04'
        WHERE store_id = 'tienda_01' AND day = '2025-10-29'`,
    );
    await db.query(`UPDATE store_days SET unproven_empty_at = '2025-11-03 00:00:00Z' WHERE store_id = 'tienda_02'`);
    await db.exec('RESET TIME ZONE');
  });
  afterAll(() => db.close());

  it('reads store_days from 35 days before --from to --to, and the first and last sale ever', async () => {
    const input = await readCoverageInput(db, {
      from: FROM,
      to: TO,
      storeIds: ['tienda_01', 'tienda_02', 'tienda_04'],
    });
    const noEvidence = { emptySince: null, emptySeenAt: null, unprovenEmptyAt: null };
    const none = { klkRejected: null, rejectedSourceChanged: false, ...noEvidence };
    expect(input.rows).toEqual([
      { storeId: 'tienda_01', day: '2025-09-23', lines: 9100, totalUsd: 22750, klkLines: null, ...none },
      { storeId: 'tienda_01', day: '2025-10-28', lines: 9000, totalUsd: 12345.6789, klkLines: 9000, ...none },
      { storeId: 'tienda_01', day: '2025-10-29', lines: 0, totalUsd: 0, klkLines: 0, ...none, emptySince: '2025-10-30T10:00:00.000Z', emptySeenAt: '2025-10-30T17:30:00.250Z' },
      { storeId: 'tienda_01', day: '2025-10-30', lines: 0, totalUsd: 0, klkLines: 0, klkRejected: 12, rejectedSourceChanged: true, ...noEvidence },
      { storeId: 'tienda_01', day: '2026-01-25', lines: 5, totalUsd: 1.5, klkLines: null, ...none },
      { storeId: 'tienda_02', day: '2025-11-02', lines: 0, totalUsd: 0, klkLines: 0, ...none, unprovenEmptyAt: '2025-11-03T00:00:00.000Z' },
    ]);
    expect(input.firstSales).toEqual({ tienda_01: '2025-09-01', tienda_02: null, tienda_04: null });
    expect(input.lastSales).toEqual({ tienda_01: '2026-01-26', tienda_02: null, tienda_04: null });
  });

  it('feeds buildCoverage: empty days are not expected, rejected ones are, the rest without rows are missing', async () => {
    const stores = DEFAULT_STORES.filter((s) => s.id === 'tienda_01' || s.id === 'tienda_02');
    const input = await readCoverageInput(db, { from: FROM, to: TO, storeIds: stores.map((s) => s.id) });
    const report = buildCoverage(inputFor(input.rows, { stores, from: FROM, to: TO, ...input }));
    const byId = Object.fromEntries(report.stores.map((s) => [s.store, s]));
    expect(byId['tienda_01']).toMatchObject({ expectedDays: 87, daysWithData: 2, partial: ['2026-01-25'], rejected: ['2025-10-30'] });
    expect(report.days['tienda_01']!.find((c) => c.day === '2025-10-30')).toMatchObject({ rejectedLines: 12, sourceChanged: true });
    expect(byId['tienda_02']).toMatchObject({ expectedDays: 87, daysWithData: 0, firstSale: null, isNew: false });
  });

  it('answers an empty store list with nothing', async () => {
    expect(await readCoverageInput(db, { from: FROM, to: TO, storeIds: [] })).toEqual({
      rows: [],
      firstSales: {},
      lastSales: {},
    });
  });
});
