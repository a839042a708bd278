import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { KlkError } from '../klk/index.ts';
import { UnreachableError } from '../shared/errors.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { fetchWindow, silentDays, type WindowAnswer, type WindowFailure } from './fetch.ts';
import { fakeKlk } from '../../test/support/fake-klk.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const oneDay = { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' };
const threeDays = { fechaDesde: '2026-01-10', fechaHasta: '2026-01-12' };

function watch() {
  const seen: string[] = [];
  return { seen, requestSent: () => void seen.push('sent'), answered: () => void seen.push('answered') };
}

const failing = (error: unknown) => fakeKlk(() => Promise.reject(error));

async function failure(error: unknown, window = threeDays): Promise<WindowFailure> {
  const result = await fetchWindow(failing(error), florAmarillo, window);
  if (result.ok) throw new Error('se esperaba un fallo');
  return result;
}

describe('fetchWindow', () => {
  it("asks for the store's window and collects the answer into a batch, timing its load from when it arrived", async () => {
    const klk = fakeKlk(() => ({
      lines: [klkLine({ linea: 1 }), klkLine({ linea: 1 }), klkLine({ linea: 2 })],
      info: { attempts: 2, proven: true },
    }));
    const w = watch();
    const before = performance.now();
    const result = await fetchWindow(klk, florAmarillo, oneDay, { watch: w });
    expect(result.ok).toBe(true);
    const answer = result as WindowAnswer;
    expect([answer.batch.size, answer.batch.duplicates, answer.batch.received]).toEqual([2, 1, 3]);
    expect(answer.info).toMatchObject({ attempts: 2, proven: true });
    expect([answer.store, answer.window]).toEqual([florAmarillo, oneDay]);
    expect(answer.receivedAt).toBeGreaterThanOrEqual(before);
    expect(klk.calls[0]!.request).toEqual({
      sucursal: florAmarillo.sucursal,
      almacen: florAmarillo.almacen,
      window: oneDay,
    });
    expect(w.seen).toEqual(['sent', 'answered']);
  });

  it('tells the watch KLK answered once its status line is in, while a long body is still arriving', async () => {
    const w = watch();
    const klk = fakeKlk((_request, options) => {
      options.onResponse?.();
      w.seen.push('body');
      return { lines: [] };
    });
    await fetchWindow(klk, florAmarillo, oneDay, { watch: w });
    expect(w.seen).toEqual(['sent', 'answered', 'body', 'answered']);
  });

  it('retries timeouts of a one-day window only (a longer one is halved instead), unless told otherwise, with the attempts asked', async () => {
    const klk = fakeKlk(() => ({ lines: [] }));
    const signal = new AbortController().signal;
    await fetchWindow(klk, florAmarillo, oneDay, { attempts: 1, signal });
    await fetchWindow(klk, florAmarillo, threeDays);
    await fetchWindow(klk, florAmarillo, threeDays, { retryTimeouts: true });
    expect(klk.calls.map((c) => c.options)).toEqual([
      { retryTimeouts: true, attempts: 1, signal },
      { retryTimeouts: false, attempts: undefined, signal: undefined },
      { retryTimeouts: true, attempts: undefined, signal: undefined },
    ]);
  });

  it('gives a multi-day timeout as its two halves, with its attempts and how long it took', async () => {
    const w = watch();
    const result = await fetchWindow(
      failing(new KlkError('timeout', 'KLK: tiempo agotado', 1)),
      florAmarillo,
      threeDays,
      { watch: w },
    );
    expect(result).toMatchObject({
      ok: false,
      window: threeDays,
      outcome: 'timeout',
      halves: [
        { fechaDesde: '2026-01-10', fechaHasta: '2026-01-11' },
        { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' },
      ],
      unreachable: false,
      answered: false,
      attempts: 1,
      message: 'KLK: tiempo agotado',
    });
    expect((result as WindowFailure).durationMs).toBeGreaterThanOrEqual(0);
    // Nothing came back: the first-answer watch is not told KLK is there.
    expect(w.seen).toEqual(['sent']);
  });

  it('keeps the hour window in the halves, and gives none for a single day, which cannot be split', async () => {
    const hours = { ...threeDays, horaDesde: '08:00:00', horaHasta: '09:59:59' };
    expect((await failure(new KlkError('timeout', 't', 1), hours)).halves).toEqual([
      { ...hours, fechaHasta: '2026-01-11' },
      { ...hours, fechaDesde: '2026-01-12' },
    ]);
    expect(await failure(new KlkError('timeout', 't', 4), oneDay)).toMatchObject({
      outcome: 'timeout',
      halves: null,
      attempts: 4,
    });
  });

  it('tells a KLK that is not there (no connection) from one that answers with an error', async () => {
    expect(await failure(new KlkError('network', 'KLK: conexión rechazada', 4))).toMatchObject({
      outcome: 'failed',
      halves: null,
      unreachable: true,
      answered: false,
      attempts: 4,
    });
    const w = watch();
    const result = await fetchWindow(failing(new KlkError('http', 'KLK: HTTP 503', 3, 503)), florAmarillo, threeDays, {
      watch: w,
    });
    expect(result).toMatchObject({
      ok: false,
      outcome: 'failed',
      halves: null,
      unreachable: false,
      answered: true,
      attempts: 3,
      message: 'KLK: HTTP 503',
    });
    expect(w.seen).toEqual(['sent', 'answered']);
    expect(await failure(new KlkError('invalid-answer', 'KLK: respuesta inválida', 1))).toMatchObject({
      unreachable: false,
      answered: true,
    });
  });

  it('reports any other error of the request as one failed attempt', async () => {
    expect(await failure(new TypeError('inesperado'))).toMatchObject({
      outcome: 'failed',
      halves: null,
      unreachable: false,
      answered: false,
      attempts: 1,
      message: 'inesperado',
    });
  });

  it("throws the caller's abort and a lost database instead of reporting them as KLK's", async () => {
    const controller = new AbortController();
    const klk = fakeKlk(() => {
      controller.abort(new Error('detenido'));
      throw new KlkError('http', 'KLK: HTTP 500', 1, 500);
    });
    const w = watch();
    await expect(fetchWindow(klk, florAmarillo, oneDay, { signal: controller.signal, watch: w })).rejects.toThrow(
      'KLK: HTTP 500',
    );
    // KLK did answer: the watch hears it even though the request is not reported.
    expect(w.seen).toEqual(['sent', 'answered']);
    const lost = new UnreachableError('sin base de datos', 'database');
    await expect(fetchWindow(failing(lost), florAmarillo, oneDay)).rejects.toBe(lost);
  });
});

describe('silentDays', () => {
  const answer = async (proven: boolean, lines: unknown[]) =>
    (await fetchWindow(
      fakeKlk(() => ({ lines, info: { proven } })),
      florAmarillo,
      threeDays,
    )) as WindowAnswer;

  it('lists the days an unproven answer has no line of, kept or rejected', async () => {
    const lines = [klkLine({ fecha: '2026-01-10' }), klkLine({ fecha: '2026-01-11' }, 'OTRO')];
    expect(silentDays(await answer(false, lines))).toEqual(['2026-01-12']);
    expect(silentDays(await answer(false, []))).toEqual(['2026-01-10', '2026-01-11', '2026-01-12']);
  });

  it('lists none for an answer that proved itself whole: its days without lines are empty', async () => {
    expect(silentDays(await answer(true, []))).toEqual([]);
  });
});
