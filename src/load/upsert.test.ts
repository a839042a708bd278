import { beforeEach, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { computeCoverage } from '../coverage/compute.ts';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { AnswerBatch } from './batch.ts';
import { loadBatch, type LoadOptions } from './upsert.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const window = { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' };
const amounts = (values: Record<string, unknown>) => ({
  financiero: [{ ...(klkLine().financiero as object[])[0], ...values }],
});

function batchOf(lines: Array<Record<string, unknown>>): AnswerBatch {
  const batch = new AnswerBatch(florAmarillo, window);
  for (const line of lines) batch.add(line);
  return batch;
}

const twelveLines = () => Array.from({ length: 12 }, (_, i) => klkLine({ linea: i + 1 }));

describeEachBackend('loadBatch', (open, backend) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  const load = (batch: AnswerBatch, options: Partial<LoadOptions> = {}) =>
    db.transaction((tx) => loadBatch(tx, batch, { runId: null, wholeDays: true, proven: true, ...options }));

  it('inserts, then leaves unchanged rows untouched: no new version, no row lock', async () => {
    expect(await load(batchOf(twelveLines()))).toMatchObject({ inserted: 12, updated: 0, unchanged: 0 });
    const before = await db.query<{ k: string; xmin: string; created: string }>(
      `SELECT numero_factura AS k, xmin::text AS xmin, fecha_creacion::text AS created FROM ventas ORDER BY 1`,
    );
    expect(await load(batchOf(twelveLines()))).toMatchObject({ inserted: 0, updated: 0, unchanged: 12 });
    const after = await db.query(
      `SELECT numero_factura AS k, xmin::text AS xmin, fecha_creacion::text AS created FROM ventas ORDER BY 1`,
    );
    expect(after.rows).toEqual(before.rows);
    const locked = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ventas WHERE xmax::text <> '0'`);
    expect(locked.rows[0]!.n).toBe(0);
  });

  it('compares values as the table stores them, and rewrites only what changed, keeping fecha_creacion', async () => {
    const lines = twelveLines().map((l) => ({ ...l, ...amounts({ venta_total_usd: 1.23456 }) }));
    await load(batchOf(lines));
    expect(await load(batchOf(lines))).toMatchObject({ inserted: 0, updated: 0, unchanged: 12 });
    const created = await db.query<{ c: string }>(
      `SELECT fecha_creacion::text AS c FROM ventas WHERE numero_factura = 'C10-01-00008064_L3'`,
    );
    lines[2] = { ...lines[2], ...amounts({ venta_total_usd: 9.5 }) };
    expect(await load(batchOf(lines))).toMatchObject({ inserted: 0, updated: 1, unchanged: 11 });
    const row = await db.query<{ v: string; c: string }>(
      `SELECT venta_total::text AS v, fecha_creacion::text AS c FROM ventas WHERE numero_factura = 'C10-01-00008064_L3'`,
    );
    expect(row.rows[0]).toEqual({ v: '9.5000', c: created.rows[0]!.c });
    const summary = await db.query<{ lines: number; total: string }>(
      `SELECT lines, total_usd::text AS total FROM store_days`,
    );
    expect(summary.rows).toEqual([{ lines: 12, total: '23.0806' }]);
  });

  it('updates a key already stamped on another day when loading a day that has no rows yet', async () => {
    await load(batchOf([klkLine()]));
    const nextDay = new AnswerBatch(florAmarillo, { fechaDesde: '2026-01-13', fechaHasta: '2026-01-13' });
    nextDay.add(klkLine({ fecha: '2026-01-13' }));
    nextDay.add(klkLine({ fecha: '2026-01-13', linea: 2 }));
    expect(await load(nextDay)).toMatchObject({ inserted: 1, updated: 1, unchanged: 0 });
    const { rows } = await db.query<{ k: string; d: string }>(
      `SELECT numero_factura AS k, fecha_venta::date::text AS d FROM ventas ORDER BY 1`,
    );
    expect(rows).toEqual([
      { k: 'C10-01-00008064_L1', d: '2026-01-13' },
      { k: 'C10-01-00008064_L2', d: '2026-01-13' },
    ]);
    // The day the row left is summarised again: KLK's reference for it stays, its own count drops.
    const summary = await db.query(`SELECT day::text, lines, klk_lines FROM store_days ORDER BY day`);
    expect(summary.rows).toEqual([
      { day: '2026-01-12', lines: 0, klk_lines: 1 },
      { day: '2026-01-13', lines: 2, klk_lines: 2 },
    ]);
  });

  it('quarantines bad lines with their reason and the whole line, and loads the rest', async () => {
    const bad = klkLine({ linea: 3, fecha: 'ayer' });
    const other = klkLine({ linea: 4 }, 'TFAMA-PPF');
    expect(
      await db.transaction((tx) =>
        loadBatch(tx, batchOf([klkLine(), bad, other]), { runId: null, wholeDays: true, proven: true }),
      ),
    ).toMatchObject({
      inserted: 1,
      quarantined: 2,
    });
    const { rows } = await db.query(
      `SELECT store_id, numero_factura, linea, reason, line FROM quarantine ORDER BY linea`,
    );
    expect(rows).toEqual([
      {
        store_id: 'tienda_11',
        numero_factura: 'C10-01-00008064',
        linea: '3',
        reason: 'fecha: fecha no interpretable (se espera YYYY-MM-DD)',
        line: bad,
      },
      {
        store_id: 'tienda_11',
        numero_factura: 'C10-01-00008064',
        linea: '4',
        reason: 'otro almacén: TFAMA-PPF (la tienda vende por TFAMA)',
        line: other,
      },
    ]);
  });

  it('--mirror deletes what KLK no longer sends, but never the row of a line it sent and the batch rejected', async () => {
    await load(batchOf(twelveLines()));
    const lines = twelveLines();
    lines[2] = { ...lines[2], ...amounts({ venta_total_usd: 'mucho' }) };
    const counts = await load(batchOf(lines.slice(0, 10)), { mirror: true });
    expect(counts).toMatchObject({ deleted: 2, quarantined: 1 });
    const { rows } = await db.query<{ k: string }>(`SELECT numero_factura AS k FROM ventas ORDER BY 1`);
    expect(rows.map((r) => r.k)).toEqual(
      twelveLines()
        .slice(0, 10)
        .map((l) => `C10-01-00008064_L${l.linea}`)
        .sort(),
    );
  });

  it('--mirror deletes nothing when a rejected line had no readable key', async () => {
    await load(batchOf(twelveLines()));
    const counts = await load(batchOf([...twelveLines().slice(0, 6), { linea: 7 }]), { mirror: true });
    expect(counts).toMatchObject({ deleted: 0, quarantined: 1 });
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ventas`)).rows).toEqual([{ n: 12 }]);
  });

  // PGlite has one connection: its transactions never overlap, so only PostgreSQL can show the lock at work.
  if (backend === 'postgres')
    it('lets one load of a store at a time recompute its days, so neither summary misses the other', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let firstLoaded!: () => void;
      const loaded = new Promise<void>((resolve) => (firstLoaded = resolve));
      const first = db.transaction(async (tx) => {
        await loadBatch(tx, batchOf(twelveLines()), { runId: null, wholeDays: false, proven: true });
        firstLoaded();
        await gate;
      });
      await loaded;
      const others = batchOf(twelveLines().map((l) => ({ ...l, numero_factura: 'C10-01-00009999' })));
      const second = db.transaction((tx) => loadBatch(tx, others, { runId: null, wholeDays: false, proven: true }));
      // The second load waits on the store's lock while the first holds it open.
      const waitingForLock = async () =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
          )
        ).rows[0]!.n;
      await expect.poll(waitingForLock, { timeout: 10_000, interval: 10 }).toBe(1);
      release();
      await Promise.all([first, second]);
      expect((await db.query(`SELECT lines FROM store_days`)).rows).toEqual([{ lines: 24 }]);
    });

  it('writes texts byte for byte, quotes, backslashes, tabs, line breaks, commas and braces included', async () => {
    const name = 'PISO "A", {1} \\ fin\tcol\nlínea\r\\N \\.';
    const line = klkLine({ cantidad: [{ ...(klkLine().cantidad as object[])[0], nombre_almacen: name }] });
    await load(batchOf([line]));
    const { rows } = await db.query<{ n: string }>(`SELECT almacen_nombre AS n FROM ventas`);
    expect(rows).toEqual([{ n: name }]);
  });

  it('loads several answers in one transaction, each on its own', async () => {
    const nextDay = new AnswerBatch(florAmarillo, { fechaDesde: '2026-01-13', fechaHasta: '2026-01-13' });
    nextDay.add(klkLine({ fecha: '2026-01-13', numero_factura: 'C10-01-00009999' }));
    const counts = await db.transaction(async (tx) => [
      await loadBatch(tx, batchOf(twelveLines()), { runId: null, wholeDays: true, proven: true }),
      await loadBatch(tx, nextDay, { runId: null, wholeDays: true, proven: true }),
    ]);
    expect(counts.map((c) => c.inserted)).toEqual([12, 1]);
    const { rows } = await db.query<{ day: string; lines: number }>(
      `SELECT day::text, lines FROM store_days ORDER BY day`,
    );
    expect(rows).toEqual([
      { day: '2026-01-12', lines: 12 },
      { day: '2026-01-13', lines: 1 },
    ]);
  });

  it('writes nothing when a first load fails, and says why', async () => {
    await db.exec(`ALTER TABLE ventas ADD CONSTRAINT no_big_sales CHECK (venta_total < 1000)`);
    const lines = twelveLines();
    lines[5] = { ...lines[5], ...amounts({ venta_total_usd: 5000 }) };
    await expect(load(batchOf(lines))).rejects.toThrow(/no_big_sales/);
    const { rows } = await db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM ventas) + (SELECT count(*) FROM store_days) AS n`,
    );
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('writes nothing when the merge fails', async () => {
    await load(batchOf(twelveLines()));
    await db.exec(`ALTER TABLE ventas ADD CONSTRAINT no_big_sales CHECK (venta_total < 1000)`);
    const lines = twelveLines();
    lines[5] = { ...lines[5], ...amounts({ venta_total_usd: 5000 }) };
    lines.push(klkLine({ linea: 13 }));
    await expect(load(batchOf(lines))).rejects.toThrow(/no_big_sales/);
    const { rows } = await db.query<{ n: number; big: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE venta_total >= 1000)::int AS big FROM ventas`,
    );
    expect(rows).toEqual([{ n: 12, big: 0 }]);
  });
});

describeEachBackend('loadBatch: a whole day whose every line is quarantined', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });
  const config = parseConfig({});
  const otherWarehouse = (linea: number, overrides: Record<string, unknown> = {}) =>
    klkLine({ linea, ...overrides }, 'TFAMA-PPF');
  const loadWhole = (lines: Array<Record<string, unknown>>) =>
    db.transaction((tx) => loadBatch(tx, batchOf(lines), { runId: null, wholeDays: true, proven: true }));
  const day = async () =>
    (
      await db.query<{
        lines: number;
        klk_lines: number;
        klk_rejected: number;
        fingerprint: string | null;
        changed: boolean;
      }>(
        `SELECT lines, klk_lines, klk_rejected, klk_rejected_fingerprint AS fingerprint,
                rejected_source_changed_at IS NOT NULL AS changed
           FROM store_days WHERE store_id = 'tienda_11' AND day = '2026-01-12'`,
      )
    ).rows[0]!;
  const cell = async () =>
    (
      await computeCoverage(db, config, {
        from: '2026-01-12',
        to: '2026-01-12',
        stores: [florAmarillo],
        now: new Date('2026-02-01T12:00:00Z'),
      })
    ).days['tienda_11']![0]!;

  it('is recorded as rejected, with its count and fingerprint, and its lines are quarantined under the day', async () => {
    expect(await loadWhole([1, 2, 3].map((l) => otherWarehouse(l)))).toMatchObject({ inserted: 0, quarantined: 3 });
    expect(await day()).toMatchObject({ lines: 0, klk_lines: 0, klk_rejected: 3, changed: false });
    expect((await day()).fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(await cell()).toMatchObject({ state: 'rejected', lines: 0, rejectedLines: 3, sourceChanged: false });
    const { rows } = await db.query(`SELECT store_id, day::text, linea FROM quarantine ORDER BY linea`);
    expect(rows).toEqual(['1', '2', '3'].map((linea) => ({ store_id: 'tienda_11', day: '2026-01-12', linea })));
  });

  it('stays rejected while KLK sends the same lines, flags a change of its lines once, and is re-classified when they load', async () => {
    const lines = [1, 2, 3].map((l) => otherWarehouse(l));
    await loadWhole(lines);
    const first = (await day()).fingerprint;
    await loadWhole([lines[2]!, lines[0]!, lines[1]!]);
    expect(await day()).toMatchObject({ klk_rejected: 3, fingerprint: first, changed: false });

    await loadWhole([...lines, otherWarehouse(4)]);
    expect(await day()).toMatchObject({ klk_rejected: 4, changed: true });
    expect((await day()).fingerprint).not.toBe(first);
    expect(await cell()).toMatchObject({ state: 'rejected', rejectedLines: 4, sourceChanged: true });

    await loadWhole([...lines, otherWarehouse(4)]); // the one more fetch finds the same lines: nothing new
    expect(await day()).toMatchObject({ klk_rejected: 4, changed: false });

    await loadWhole([klkLine({ linea: 1 }), klkLine({ linea: 2 }), otherWarehouse(3)]); // KLK fixed two of them
    expect(await day()).toMatchObject({ lines: 2, klk_lines: 2, klk_rejected: 1, changed: false });
    expect(await cell()).toMatchObject({ state: 'complete', lines: 2, rejectedLines: 1 });
  });

  it("is empty, not rejected, when KLK sends no line at all, and a partial-hour load keeps the day's reference", async () => {
    await loadWhole([]);
    expect(await day()).toMatchObject({ klk_lines: 0, klk_rejected: 0, fingerprint: null });
    expect((await cell()).state).toBe('empty');
    await loadWhole([otherWarehouse(1)]);
    const hours = new AnswerBatch(florAmarillo, { ...window, horaDesde: '10:00:00', horaHasta: '10:59:59' });
    hours.add(otherWarehouse(2));
    await db.transaction((tx) => loadBatch(tx, hours, { runId: null, wholeDays: false, proven: true }));
    expect(await day()).toMatchObject({ klk_lines: 0, klk_rejected: 1 });
    expect((await cell()).state).toBe('rejected');
  });
});
