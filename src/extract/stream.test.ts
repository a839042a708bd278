import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { KlkError, type AnswerInfo, type KlkClient, type KlkWindow } from '../klk/index.ts';
import { createKlkClient, type LineCollector } from '../klk/client.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { klkStats } from '../../test/support/fake-klk.ts';
import { AnswerBatch } from '../load/batch.ts';
import { StreamedLoad } from '../load/stream.ts';
import { fetchWindow, type WindowAnswer } from './fetch.ts';
import { loadAnswer } from './load.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const day = { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' };

/** Enough lines for several pieces of rows (a piece is 64 KiB and more): the load starts before the answer ends. */
const MANY = 2_000;
const lines = (n: number, overrides: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => klkLine({ linea: i + 1, ...overrides }));

/**
 * A KLK client whose attempts hand their lines over a few at a time, giving the event loop a turn in between as a
 * body arriving from the network does; an attempt with `fail` throws it after its lines (a body found bad at its end).
 */
function arrivingKlk(
  attempts: Array<{ lines: unknown[]; fail?: KlkError }>,
  onTurn?: (handed: number) => Promise<void>,
): KlkClient {
  return {
    async fetchVentas<C extends LineCollector>(_request: unknown, newCollector: () => C) {
      for (const attempt of attempts) {
        const collector = newCollector();
        for (let i = 0; i < attempt.lines.length; i++) {
          collector.add(attempt.lines[i], true);
          if (i % 100 === 99) {
            await nextTurn();
            await onTurn?.(i + 1);
          }
        }
        if (attempt.fail) {
          if (attempt === attempts.at(-1)) throw attempt.fail;
          continue;
        }
        const info: AnswerInfo = {
          meta: null,
          proven: true,
          lines: attempt.lines.length,
          totalRegistros: attempt.lines.length,
          attempts: attempts.indexOf(attempt) + 1,
          durationMs: 5,
          elapsedMs: 6,
          bytes: 0,
        };
        return { collector, info };
      }
      throw new Error('sin intentos');
    },
    stats: () => klkStats(),
  };
}

/** A KLK on HTTP that sends these bodies, one per request, in pieces as a network does. */
async function httpKlk(bodies: string[]): Promise<{ url: string; close(): Promise<void> }> {
  let served = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = Buffer.from(bodies[Math.min(served++, bodies.length - 1)]!);
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let at = 0; at < body.length; at += 16_384) res.write(body.subarray(at, at + 16_384));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describeEachBackend('an answer loaded as it arrives', (open, backend) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });
  const count = async (sql: string, params: unknown[] = []) => (await db.query<{ n: number }>(sql, params)).rows[0]!.n;
  const fetchInto = async (klk: KlkClient, window: KlkWindow = day) => {
    const result = await fetchWindow(klk, florAmarillo, window, { streamInto: db });
    return result;
  };
  const load = async (klk: KlkClient, window: KlkWindow = day) => {
    const result = await fetchInto(klk, window);
    if (!result.ok) throw new Error(result.message);
    return { answer: result, counts: await loadAnswer(db, result, { runId: null, mirror: false }) };
  };

  it('loads a big answer whole, in one commit with its request; on PostgreSQL its rows went in while it arrived', async () => {
    let copiedWhileArriving = 0;
    const watchCopy = async () => {
      if (backend !== 'postgres' || copiedWhileArriving > 0) return;
      copiedWhileArriving = await count(
        `SELECT coalesce(max(tuples_processed), 0)::int AS n FROM pg_stat_progress_copy WHERE relid = 'ventas'::regclass`,
      );
    };
    const { answer, counts } = await load(arrivingKlk([{ lines: lines(MANY) }], watchCopy));
    expect(counts).toEqual({ inserted: MANY, updated: 0, unchanged: 0, deleted: 0, quarantined: 0 });
    expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(MANY);
    expect(await count(`SELECT lines AS n FROM klk_requests`)).toBe(MANY);
    expect(await count(`SELECT klk_lines AS n FROM store_days`)).toBe(MANY);
    if (backend === 'postgres') {
      expect(answer.streamed?.started).toBe(true);
      expect(copiedWhileArriving).toBeGreaterThan(0);
    } else {
      expect(answer.streamed).toBeNull();
    }
  });

  it('leaves nothing loaded when the answer turns out bad at its end, and holds no lock after it', async () => {
    const bad = new KlkError('invalid-json', 'KLK: JSON inválido al final', 4);
    const result = await fetchInto(arrivingKlk([{ lines: lines(MANY), fail: bad }]));
    expect(result).toMatchObject({ ok: false, message: bad.message });
    expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(0);
    // The store's lock went with the rolled-back transaction: the next load of the store goes through.
    expect((await load(arrivingKlk([{ lines: lines(10) }]))).counts.inserted).toBe(10);
  });

  it("rolls back a failed attempt's rows: only the attempt that succeeded is loaded, once", async () => {
    const { counts } = await load(
      arrivingKlk([
        { lines: lines(MANY, { fecha: '2026-01-12' }), fail: new KlkError('truncated', 'cortada', 1) },
        { lines: lines(MANY - 500) },
      ]),
    );
    expect(counts.inserted).toBe(MANY - 500);
    expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(MANY - 500);
  });

  it('merges a re-load through the staging table without rewriting an unchanged row, and updates a changed one', async () => {
    await load(arrivingKlk([{ lines: lines(MANY) }]));
    const versions = async () =>
      (await db.query<{ v: string }>(`SELECT string_agg(xmin::text, ',' ORDER BY numero_factura) AS v FROM ventas`))
        .rows[0]!.v;
    const before = await versions();
    const again = await load(arrivingKlk([{ lines: lines(MANY) }]));
    expect(again.counts).toEqual({ inserted: 0, updated: 0, unchanged: MANY, deleted: 0, quarantined: 0 });
    expect(await versions()).toBe(before);
    const changed = lines(MANY);
    changed[7] = klkLine({ linea: 8, hora: '11:00:00' });
    const third = await load(arrivingKlk([{ lines: changed }]));
    expect(third.counts).toMatchObject({ inserted: 0, updated: 1, unchanged: MANY - 1 });
  });

  it('merges instead when a key of the answer is already on another day: straight in is undone, nothing doubled', async () => {
    const otherDay = { fechaDesde: '2026-01-11', fechaHasta: '2026-01-11' };
    await load(arrivingKlk([{ lines: [klkLine({ linea: 1500, fecha: '2026-01-11' })] }]), otherDay);
    const { counts } = await load(arrivingKlk([{ lines: lines(MANY) }]));
    expect(counts).toMatchObject({ inserted: MANY - 1, updated: 1, unchanged: 0 });
    expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(MANY);
    // The day the line left is recounted.
    expect(await count(`SELECT lines AS n FROM store_days WHERE day = '2026-01-11'`)).toBe(0);
  });

  it('loads from the rows in hand when made again after its streamed load failed', async () => {
    const result = await fetchInto(arrivingKlk([{ lines: lines(MANY) }]));
    if (!result.ok) throw new Error(result.message);
    const answer: WindowAnswer = result;
    const fail = loadAnswer(db, answer, {
      runId: null,
      mirror: false,
      within: () => Promise.reject(new Error('perdida')),
    });
    await expect(fail).rejects.toThrow('perdida');
    expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(0);
    expect(await loadAnswer(db, answer, { runId: null, mirror: false })).toMatchObject({ inserted: MANY });
    expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(MANY);
  });

  it('through the real client: a body bad at its very end loads nothing, and its retry loads once', async () => {
    const good = JSON.stringify(lines(MANY));
    // Valid lines all the way, then content after the list: only the last bytes make it invalid.
    const bad = `${good} x`;
    const klk = await httpKlk([bad, bad, good]);
    try {
      const client = createKlkClient({ baseUrl: klk.url, backoffMs: 1, maxBackoffMs: 1 });
      const failed = await fetchWindow(client, florAmarillo, day, { streamInto: db, attempts: 1 });
      expect(failed).toMatchObject({ ok: false, message: expect.stringContaining('contenido después del final') });
      expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(0);
      // Asked again: the first answer is bad again, the retry good.
      const result = await fetchWindow(client, florAmarillo, day, { streamInto: db, attempts: 2 });
      if (!result.ok) throw new Error(result.message);
      expect(result.info.attempts).toBe(2);
      expect(result.streamed?.started ?? false).toBe(backend === 'postgres');
      expect(await loadAnswer(db, result, { runId: null, mirror: false })).toMatchObject({ inserted: MANY });
      expect(await count('SELECT count(*)::int AS n FROM ventas')).toBe(MANY);
    } finally {
      await klk.close();
    }
  });
});

describeEachBackend('a re-load merged a slice at a time', (open, backend) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  /** The answer as fetchWindow gives it, its rows streamed (PostgreSQL) in slices of `sliceBytes`. */
  const arrived = async (answered: unknown[], sliceBytes: number): Promise<WindowAnswer> => {
    const batch = new AnswerBatch(florAmarillo, day);
    const streamed =
      backend === 'postgres' ? new StreamedLoad(db, florAmarillo.id, day.fechaDesde, day.fechaHasta, sliceBytes) : null;
    if (streamed) batch.streamTo(streamed);
    for (let i = 0; i < answered.length; i++) {
      batch.add(answered[i], true);
      if (i % 100 === 99) await nextTurn();
    }
    batch.endStream();
    const info: AnswerInfo = {
      meta: null,
      proven: true,
      lines: answered.length,
      totalRegistros: answered.length,
      attempts: 1,
      durationMs: 5,
      elapsedMs: 6,
      bytes: 0,
    };
    return { ok: true, store: florAmarillo, window: day, batch, info, receivedAt: performance.now(), streamed };
  };

  it('counts, updates and recounts days as one merge would', async () => {
    await loadAnswer(
      db,
      await arrived(
        lines(MANY).filter((_, i) => i % 4 !== 3),
        1 << 30,
      ),
      { runId: null, mirror: false },
    );
    // A line dated the day before, to be moved onto the answer's day.
    const otherDay = { fechaDesde: '2026-01-11', fechaHasta: '2026-01-11' };
    const klk = arrivingKlk([{ lines: [klkLine({ linea: MANY + 1, fecha: '2026-01-11' })] }]);
    const before = await fetchWindow(klk, florAmarillo, otherDay, { streamInto: db });
    if (!before.ok) throw new Error(before.message);
    await loadAnswer(db, before, { runId: null, mirror: false });

    const again = lines(MANY + 1);
    // Every fourth line is new, two change, one moves onto the day: in every slice.
    again[10] = klkLine({ linea: 11, hora: '11:00:00' });
    again[1200] = klkLine({ linea: 1201, hora: '12:00:00' });
    const answer = await arrived(again, 64 << 10);
    const counts = await loadAnswer(db, answer, { runId: null, mirror: false });
    expect(counts).toEqual({ inserted: 500, updated: 3, unchanged: MANY - 500 - 2, deleted: 0, quarantined: 0 });
    const { rows } = await db.query<{ day: string; lines: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, lines FROM store_days ORDER BY day`,
    );
    expect(rows).toEqual([
      { day: '2026-01-11', lines: 0 },
      { day: '2026-01-12', lines: MANY + 1 },
    ]);
  });
});
