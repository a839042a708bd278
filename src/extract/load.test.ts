import { beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { KlkError, type AnswerInfo, type KlkWindow } from '../klk/index.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { fetchWindow, type WindowAnswer, type WindowFailure } from './fetch.ts';
import { loadAnswer, recordFailure } from './load.ts';
import { fakeKlk } from '../../test/support/fake-klk.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const day = { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' };
const lines = (n: number) => Array.from({ length: n }, (_, i) => klkLine({ linea: i + 1 }));

async function answer(window: KlkWindow, answered: unknown[], info: Partial<AnswerInfo> = {}): Promise<WindowAnswer> {
  const result = await fetchWindow(
    fakeKlk(() => ({ lines: answered, info: { attempts: 2, durationMs: 40, ...info } })),
    florAmarillo,
    window,
  );
  if (!result.ok) throw new Error('se esperaba una respuesta');
  return result;
}

describeEachBackend('loadAnswer and recordFailure', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  const requests = async () =>
    (
      await db.query(
        `SELECT run_id, store_id, to_char(day_from, 'YYYY-MM-DD') AS day_from, to_char(day_to, 'YYYY-MM-DD') AS day_to, hora_desde, hora_hasta,
                outcome, lines, duration_ms, load_ms IS NOT NULL AS load_timed, attempts, error
           FROM klk_requests ORDER BY id`,
      )
    ).rows;
  const count = async (table: string) =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

  it('loads the answer and records its request in one commit', async () => {
    const counts = await loadAnswer(
      db,
      await answer(day, [...lines(3), klkLine({ linea: 9 }, 'OTRO')], { proven: true }),
      { runId: 7, mirror: false },
    );
    expect(counts).toEqual({ inserted: 3, updated: 0, unchanged: 0, deleted: 0, quarantined: 1 });
    expect(await count('ventas')).toBe(3);
    expect(await requests()).toEqual([
      {
        run_id: 7,
        store_id: florAmarillo.id,
        day_from: '2026-01-12',
        day_to: '2026-01-12',
        hora_desde: null,
        hora_hasta: null,
        outcome: 'ok',
        lines: 4,
        duration_ms: 40,
        load_timed: true,
        attempts: 2,
        error: null,
      },
    ]);
    // A whole day: KLK's count becomes the day's reference.
    const { rows } = await db.query(`SELECT klk_lines, klk_rejected FROM store_days WHERE store_id = $1`, [
      florAmarillo.id,
    ]);
    expect(rows).toEqual([{ klk_lines: 3, klk_rejected: 1 }]);
  });

  it('records an answer without lines as empty, and an hour window with its hours and no reference for the day', async () => {
    await loadAnswer(db, await answer({ ...day, horaDesde: '08:00:00', horaHasta: '08:59:59' }, [], { proven: true }), {
      runId: null,
      mirror: false,
    });
    expect(await requests()).toMatchObject([
      { outcome: 'empty', lines: 0, hora_desde: '08:00:00', hora_hasta: '08:59:59' },
    ]);
    const { rows } = await db.query(`SELECT klk_lines FROM store_days WHERE store_id = $1`, [florAmarillo.id]);
    expect(rows).toEqual([{ klk_lines: null }]);
  });

  it("runs the caller's step inside the same transaction: what it throws undoes the load and the request", async () => {
    const seen: unknown[] = [];
    const load = loadAnswer(db, await answer(day, lines(2)), {
      runId: null,
      mirror: false,
      within: async (tx, counts) => {
        seen.push(counts, (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM ventas')).rows[0]!.n);
        throw new Error('el bloque pasó a otro proceso');
      },
    });
    await expect(load).rejects.toThrow('el bloque pasó a otro proceso');
    // The step saw the load, before the request was recorded; none of it stayed.
    expect(seen).toEqual([{ inserted: 2, updated: 0, unchanged: 0, deleted: 0, quarantined: 0 }, 2]);
    expect([await count('ventas'), await count('klk_requests'), await count('store_days')]).toEqual([0, 0, 0]);
  });

  it('mirrors (deletes what KLK no longer has) only on an answer that proved itself whole and complete', async () => {
    await loadAnswer(db, await answer(day, lines(3), { proven: true }), { runId: null, mirror: false });
    const two = lines(2);
    // Announced 2, sent 2, but no meta echoing the request: proves nothing, deletes nothing.
    expect(
      await loadAnswer(db, await answer(day, two, { proven: false, totalRegistros: 2 }), { runId: null, mirror: true }),
    ).toMatchObject({ deleted: 0 });
    // Proven, but fewer lines arrived than announced.
    expect(
      await loadAnswer(db, await answer(day, two, { proven: true, totalRegistros: 3 }), { runId: null, mirror: true }),
    ).toMatchObject({ deleted: 0 });
    // Not asked to mirror.
    expect(
      await loadAnswer(db, await answer(day, two, { proven: true, totalRegistros: 2 }), { runId: null, mirror: false }),
    ).toMatchObject({ deleted: 0 });
    expect(await count('ventas')).toBe(3);
    expect(
      await loadAnswer(db, await answer(day, two, { proven: true, totalRegistros: 2 }), { runId: null, mirror: true }),
    ).toMatchObject({ deleted: 1 });
    expect(await count('ventas')).toBe(2);
  });

  it('records a failed request with its outcome, attempts and error, and loads nothing', async () => {
    const window = { fechaDesde: '2026-01-10', fechaHasta: '2026-01-12' };
    const fail = async (error: KlkError, w: KlkWindow = window) =>
      (await fetchWindow(
        fakeKlk(() => Promise.reject(error)),
        florAmarillo,
        w,
      )) as WindowFailure;
    await recordFailure(db, await fail(new KlkError('timeout', 'KLK: tiempo agotado', 1)), 3);
    await recordFailure(
      db,
      await fail(new KlkError('http', 'KLK: HTTP 503', 4, 503), {
        ...day,
        horaDesde: '10:00:00',
        horaHasta: '10:59:59',
      }),
      null,
    );
    expect(await requests()).toEqual([
      {
        run_id: 3,
        store_id: florAmarillo.id,
        day_from: '2026-01-10',
        day_to: '2026-01-12',
        hora_desde: null,
        hora_hasta: null,
        outcome: 'timeout',
        lines: 0,
        duration_ms: expect.any(Number),
        load_timed: false,
        attempts: 1,
        error: 'KLK: tiempo agotado',
      },
      {
        run_id: null,
        store_id: florAmarillo.id,
        day_from: '2026-01-12',
        day_to: '2026-01-12',
        hora_desde: '10:00:00',
        hora_hasta: '10:59:59',
        outcome: 'failed',
        lines: 0,
        duration_ms: expect.any(Number),
        load_timed: false,
        attempts: 4,
        error: 'KLK: HTTP 503',
      },
    ]);
    expect(await count('ventas')).toBe(0);
  });
});
