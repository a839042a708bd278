import { beforeEach, expect, it } from 'vitest';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { refreshStoreDays } from './store-days.ts';

describeEachBackend('refreshStoreDays', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    await db.exec(`
      INSERT INTO ventas (numero_factura, fecha_venta, ubicacion_id, venta_total) VALUES
        ('A_L1', '2026-01-12 08:00:00', 'tienda_11', 1.5), ('A_L2', '2026-01-12 23:59:59.999999', 'tienda_11', 2.25),
        ('B_L1', '2026-01-13 00:00:00', 'tienda_11', 4), ('C_L1', '2026-01-12 09:00:00', 'tienda_07', 100)`);
    return () => db.close();
  });

  const days = async () =>
    (
      await db.query(
        `SELECT day::text, lines, total_usd::text AS total, klk_lines, klk_total_usd::text AS klk_total,
                whole_day_extracted_at IS NOT NULL AS whole, extracted_at IS NOT NULL AS extracted, last_run_id AS run
         FROM store_days ORDER BY day`,
      )
    ).rows;

  it("counts each day's own rows, and records KLK's whole-day figures, 0 for a day KLK had nothing of", async () => {
    const klk = new Map([['2026-01-12', { lines: 3, totalUsdE4: 50_000 }]]);
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: ['2026-01-12', '2026-01-13', '2026-01-14'],
      klk,
      proven: true,
      extraction: { runId: 7 },
    });
    expect(await days()).toEqual([
      {
        day: '2026-01-12',
        lines: 2,
        total: '3.7500',
        klk_lines: 3,
        klk_total: '5.0000',
        whole: true,
        extracted: true,
        run: 7,
      },
      {
        day: '2026-01-13',
        lines: 1,
        total: '4.0000',
        klk_lines: 0,
        klk_total: '0.0000',
        whole: true,
        extracted: true,
        run: 7,
      },
      {
        day: '2026-01-14',
        lines: 0,
        total: '0.0000',
        klk_lines: 0,
        klk_total: '0.0000',
        whole: true,
        extracted: true,
        run: 7,
      },
    ]);
  });

  it('keeps the reference of a day extracted only in part, and a check leaves the extraction stamps alone', async () => {
    const klk = new Map([['2026-01-12', { lines: 2, totalUsdE4: 37_500 }]]);
    await refreshStoreDays(db, { storeId: 'tienda_11', days: ['2026-01-12'], klk, extraction: { runId: 1 } });
    await refreshStoreDays(db, { storeId: 'tienda_11', days: ['2026-01-12'], klk: null, extraction: { runId: 2 } });
    expect(await days()).toEqual([
      {
        day: '2026-01-12',
        lines: 2,
        total: '3.7500',
        klk_lines: 2,
        klk_total: '3.7500',
        whole: true,
        extracted: true,
        run: 2,
      },
    ]);
    const checked = new Map([['2026-01-12', { lines: 9, totalUsdE4: 90_000 }]]);
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: ['2026-01-12', '2026-01-13'],
      klk: checked,
      proven: true,
      extraction: null,
    });
    expect(await days()).toEqual([
      {
        day: '2026-01-12',
        lines: 2,
        total: '3.7500',
        klk_lines: 9,
        klk_total: '9.0000',
        whole: true,
        extracted: true,
        run: 2,
      },
      {
        day: '2026-01-13',
        lines: 1,
        total: '4.0000',
        klk_lines: 0,
        klk_total: '0.0000',
        whole: true,
        extracted: false,
        run: null,
      },
    ]);
  });

  const evidence = async () =>
    (
      await db.query(
        `SELECT day::text, klk_lines, to_char(empty_since AT TIME ZONE 'UTC', 'HH24:MI') AS since,
                to_char(empty_seen_at AT TIME ZONE 'UTC', 'HH24:MI') AS seen, to_char(unproven_empty_at AT TIME ZONE 'UTC', 'HH24:MI') AS unproven
         FROM store_days ORDER BY day`,
      )
    ).rows;
  const at = (hhmm: string) => new Date(`2026-01-15T${hhmm}:00Z`);

  it('keeps the first and the latest proven 0-line answer of a run, which an answer with lines ends', async () => {
    const day = ['2026-01-14'];
    const none = new Map();
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: day,
      klk: none,
      proven: true,
      answeredAt: at('04:00'),
      extraction: { runId: 1 },
    });
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: day,
      klk: none,
      proven: true,
      answeredAt: at('11:00'),
      extraction: { runId: 2 },
    });
    expect(await evidence()).toEqual([
      { day: '2026-01-14', klk_lines: 0, since: '04:00', seen: '11:00', unproven: null },
    ]);
    // An hour window and an answer that proves nothing leave the run as it was.
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: day,
      klk: null,
      proven: false,
      answeredAt: at('12:00'),
      extraction: { runId: 3 },
    });
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: day,
      klk: none,
      proven: false,
      answeredAt: at('13:00'),
      extraction: { runId: 4 },
    });
    expect(await evidence()).toEqual([
      { day: '2026-01-14', klk_lines: 0, since: '04:00', seen: '11:00', unproven: '13:00' },
    ]);
    // Lines end it (and the unproven answer before them no longer matters); a new run starts from scratch.
    const sold = new Map([['2026-01-14', { lines: 4, totalUsdE4: 10_000 }]]);
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: day,
      klk: sold,
      proven: false,
      answeredAt: at('14:00'),
      extraction: { runId: 5 },
    });
    expect(await evidence()).toEqual([{ day: '2026-01-14', klk_lines: 4, since: null, seen: null, unproven: null }]);
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: day,
      klk: none,
      proven: true,
      answeredAt: at('15:00'),
      extraction: null,
    });
    expect(await evidence()).toEqual([
      { day: '2026-01-14', klk_lines: 0, since: '15:00', seen: '15:00', unproven: null },
    ]);
  });

  it('never takes an unproven answer without lines as KLK\u2019s 0, nor an answer whose proof is not stated', async () => {
    const none = new Map();
    await refreshStoreDays(db, {
      storeId: 'tienda_11',
      days: ['2026-01-14'],
      klk: none,
      proven: false,
      answeredAt: at('04:00'),
      extraction: { runId: 1 },
    });
    await refreshStoreDays(db, { storeId: 'tienda_11', days: ['2026-01-15'], klk: none, extraction: { runId: 1 } });
    expect(await evidence()).toEqual([
      { day: '2026-01-14', klk_lines: null, since: null, seen: null, unproven: '04:00' },
      { day: '2026-01-15', klk_lines: null, since: null, seen: null, unproven: expect.any(String) },
    ]);
  });
});
