import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KlkLine, TruthDay } from './generator.ts';
import { DEFAULT_OPTIONS, generateDay, startSimulator, type RunningSimulator } from './index.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const clock = (line: KlkLine) => line.hora.slice(0, 8);
/** The USD total of lines in integer ten-thousandths, as numeric(18,4) would add them. */
const usd4 = (lines: KlkLine[]) =>
  lines.reduce((sum, l) => sum + Math.round(l.financiero[0].venta_total_usd * 10_000), 0);

interface Answer {
  status: number;
  text: string;
  json?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the answer's shape is what is under test
}

async function post(sim: RunningSimulator, body: unknown, path = '/ventas'): Promise<Answer> {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

async function days(sim: RunningSimulator, query: string): Promise<TruthDay[]> {
  const res = await fetch(`${sim.url}/__sim/days?${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as TruthDay[];
}

const day12 = { sucursal: 'SUC012', fecha_desde: '2026-01-12', fecha_hasta: '2026-01-12' };

describe('simulator HTTP', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 1, scale: 0.05, now: NOW });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    // Faults off between tests, as a fresh simulator would have them.
    const { seed: _seed, scale: _scale, host: _host, port: _port, ...faults } = DEFAULT_OPTIONS;
    Object.assign(sim.options, faults, { now: NOW });
  });

  it('answers with meta and ventas, the same bytes for the same seed and other bytes for another', async () => {
    const twin = await startSimulator({ seed: 1, scale: 0.05, now: NOW });
    const other = await startSimulator({ seed: 2, scale: 0.05, now: NOW });
    try {
      const body = { ...day12, fecha_hasta: '2026-01-13' };
      const strip = (text: string) => text.replace(/"fecha_generacion":"[^"]*"/, '');
      const a = await post(sim, body);
      expect(a.status).toBe(200);
      expect(a.json.meta).toEqual({
        sucursal_codigo: 'SUC012',
        fecha_desde: '2026-01-12',
        fecha_hasta: '2026-01-13',
        hora_desde: '00:00:00',
        hora_hasta: '23:59:59',
        CodArticulo: '',
        almacen: '',
        total_registros: a.json.ventas.length,
        fecha_generacion: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
      expect(a.json.ventas.length).toBeGreaterThan(0);
      expect(strip((await post(twin, body)).text)).toBe(strip(a.text));
      expect(strip((await post(other, body)).text)).not.toBe(strip(a.text));
      expect(a.json.ventas).toEqual([
        ...generateDay(sim.options, 'SUC012', '2026-01-12'),
        ...generateDay(sim.options, 'SUC012', '2026-01-13'),
      ]);
    } finally {
      await twin.close();
      await other.close();
    }
  });

  it('applies the hour window to each date of the range', async () => {
    const range = { sucursal: 'SUC012', fecha_desde: '2026-01-10', fecha_hasta: '2026-01-12' };
    const inverted = await post(sim, { ...range, hora_desde: '12:00', hora_hasta: '08:00' });
    expect(inverted.json.ventas).toEqual([]);
    expect(inverted.json.meta.total_registros).toBe(0);

    const morning = await post(sim, { ...range, hora_desde: '08:00', hora_hasta: '12:00' });
    const lines: KlkLine[] = morning.json.ventas;
    expect(lines.every((l) => clock(l) >= '08:00:00' && clock(l) <= '12:00:00')).toBe(true);
    expect(new Set(lines.map((l) => l.fecha))).toEqual(new Set(['2026-01-10', '2026-01-11', '2026-01-12']));
    const whole = (await post(sim, range)).json.ventas as KlkLine[];
    expect(lines).toEqual(whole.filter((l) => clock(l) >= '08:00:00' && clock(l) <= '12:00:00'));
    expect(morning.json.meta.hora_desde).toBe('08:00');
  });

  it('ends an HH:MM hora_hasta at HH:MM:00 and an HH:MM:SS one at that second', async () => {
    const whole = (await post(sim, day12)).json.ventas as KlkLine[];
    const late = whole.find((l) => clock(l) > '12:00:00' && !clock(l).endsWith(':00'))!;
    const minute = clock(late).slice(0, 5);
    const toMinute = (await post(sim, { ...day12, hora_hasta: minute })).json.ventas as KlkLine[];
    expect(toMinute.every((l) => clock(l) <= `${minute}:00`)).toBe(true);
    expect(toMinute.some((l) => l.numero_factura === late.numero_factura)).toBe(false);
    const toSecond = (await post(sim, { ...day12, hora_hasta: clock(late) })).json.ventas as KlkLine[];
    expect(toSecond.some((l) => l.numero_factura === late.numero_factura)).toBe(true);
  });

  it('filters by warehouse: sales floor and second warehouse add up to the whole', async () => {
    const whole = (await post(sim, day12)).json.ventas as KlkLine[];
    const floor = await post(sim, { ...day12, almacen: 'TFAMA' });
    const second = await post(sim, { ...day12, almacen: 'TFAMA-PPF' });
    expect(floor.json.meta.almacen).toBe('TFAMA');
    expect(floor.json.ventas.every((l: KlkLine) => l.cantidad[0].codigo_almacen === 'TFAMA')).toBe(true);
    expect(second.json.ventas.every((l: KlkLine) => l.cantidad[0].codigo_almacen === 'TFAMA-PPF')).toBe(true);
    expect(second.json.ventas.length).toBeGreaterThan(0);
    expect(floor.json.ventas.length + second.json.ventas.length).toBe(whole.length);
    expect((await post(sim, { ...day12, almacen: 'NOEXISTE' })).json.ventas).toEqual([]);
  });

  it('filters by CodArticulo', async () => {
    const whole = (await post(sim, day12)).json.ventas as KlkLine[];
    const code = whole[0]!.producto[0].codigo_producto;
    const answer = await post(sim, { ...day12, CodArticulo: code });
    expect(answer.json.meta.CodArticulo).toBe(code);
    expect(answer.json.ventas).toEqual(whole.filter((l) => l.producto[0].codigo_producto === code));
  });

  it('reports in /__sim/days exactly the distinct lines served, per store and day', async () => {
    for (const sucursal of ['SUC012', 'SUC001', 'SUC002']) {
      for (const almacen of [undefined, sucursal === 'SUC012' ? 'TFAMA' : undefined]) {
        const range = { sucursal, fecha_desde: '2026-01-11', fecha_hasta: '2026-01-13' };
        const served = (await post(sim, { ...range, ...(almacen ? { almacen } : {}) })).json.ventas as KlkLine[];
        const query = `sucursal=${sucursal}&desde=2026-01-11&hasta=2026-01-13`;
        const truth = await days(sim, almacen ? `${query}&almacen=${almacen}` : query);
        expect(truth.map((d) => d.fecha)).toEqual(['2026-01-11', '2026-01-12', '2026-01-13']);
        for (const d of truth) {
          const ofDay = served.filter((l) => l.fecha === d.fecha);
          expect(d.lineas).toBe(ofDay.length);
          expect(Math.round(d.venta_total_usd * 10_000)).toBe(usd4(ofDay));
        }
      }
    }
  });

  it('has no lines on closed days nor before a store opened', async () => {
    const closed = await post(sim, { sucursal: 'SUC001', fecha_desde: '2025-12-25', fecha_hasta: '2025-12-25' });
    expect(closed.json.ventas).toEqual([]);
    const newYear = await post(sim, { sucursal: 'SUC001', fecha_desde: '2026-01-01', fecha_hasta: '2026-01-01' });
    expect(newYear.json.ventas).toEqual([]);
    const paraiso = await post(sim, { sucursal: 'SUC004', fecha_desde: '2025-12-01', fecha_hasta: '2025-12-06' });
    expect(new Set(paraiso.json.ventas.map((l: KlkLine) => l.fecha))).toEqual(new Set(['2025-12-06']));
    const truth = await days(sim, 'sucursal=SUC004&desde=2025-12-04&hasta=2025-12-06');
    expect(truth.map((d) => d.lineas > 0)).toEqual([false, false, true]);
  });

  it('follows the sim clock, changeable at runtime', async () => {
    sim.options.now = new Date('2026-01-12T18:00:00Z'); // 14:00 in Caracas
    const today = (await post(sim, { ...day12, fecha_hasta: '2026-01-13' })).json.ventas as KlkLine[];
    expect(today.length).toBeGreaterThan(0);
    expect(today.every((l) => l.fecha === '2026-01-12' && clock(l) <= '14:00:00')).toBe(true);
    const set = await post(sim, { now: '2026-01-12 16:00' }, '/__sim/faults');
    expect(set.status).toBe(200);
    expect(set.json.now).toBe('2026-01-12T20:00:00.000Z');
    const later = (await post(sim, day12)).json.ventas as KlkLine[];
    expect(later.length).toBeGreaterThan(today.length);
    expect((await days(sim, 'sucursal=SUC012&desde=2026-01-12&hasta=2026-01-12'))[0]!.lineas).toBe(later.length);
  });

  it('answers bad requests with 400 and an error', async () => {
    const bad = [
      '{"sucursal": "SUC012", ',
      '[]',
      { fecha_desde: '2026-01-12', fecha_hasta: '2026-01-12' },
      { ...day12, sucursal: 'SUC999' },
      { ...day12, fecha_desde: '2026-02-30' },
      { ...day12, fecha_hasta: undefined },
      { ...day12, fecha_desde: '2026-01-13' },
      { ...day12, hora_desde: '25:00' },
      { ...day12, hora_hasta: '8:00' },
      { ...day12, almacen: 7 },
    ];
    for (const body of bad) {
      const answer = await post(sim, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(typeof answer.json.error).toBe('string');
    }
    for (const query of [
      'sucursal=SUC999&desde=2026-01-12&hasta=2026-01-12',
      'sucursal=SUC012&desde=2026-01-13&hasta=2026-01-12',
      'sucursal=SUC012&desde=2026-01-12',
    ]) {
      expect((await fetch(`${sim.url}/__sim/days?${query}`)).status).toBe(400);
    }
    expect((await post(sim, { failRate: 2 }, '/__sim/faults')).status).toBe(400);
    expect((await post(sim, { nope: 1 }, '/__sim/faults')).status).toBe(400);
    expect(sim.options.failRate).toBe(0);
  });

  it('agrees with itself at scale 1: total_registros = ventas = /__sim/days lineas', async () => {
    const big = await startSimulator({ seed: 1, scale: 1, now: NOW });
    try {
      const answer = await post(big, { ...day12, almacen: 'TFAMA' });
      const [truth] = await days(big, 'sucursal=SUC012&desde=2026-01-12&hasta=2026-01-12&almacen=TFAMA');
      expect(answer.json.meta.total_registros).toBe(answer.json.ventas.length);
      expect(answer.json.ventas.length).toBe(truth!.lineas);
      expect(truth!.lineas).toBeGreaterThanOrEqual(6000);
      expect(truth!.lineas).toBeLessThanOrEqual(16000);
      expect(Math.round(truth!.venta_total_usd * 10_000)).toBe(usd4(answer.json.ventas));
    } finally {
      await big.close();
    }
  });
});

describe('simulator faults', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, scale: 0.02, now: NOW });
  });
  afterAll(() => sim.close());
  beforeEach(() => {
    const { seed: _seed, scale: _scale, host: _host, port: _port, ...faults } = DEFAULT_OPTIONS;
    Object.assign(sim.options, faults);
    sim.resetStats();
  });
  const distinct = (lines: KlkLine[]) => new Set(lines.map((l) => `${l.numero_factura}/${l.linea}`)).size;

  it('duplicates lines, counted in total_registros but not in the truth', async () => {
    sim.options.duplicateRate = 0.3;
    const answer = await post(sim, day12);
    const [truth] = await days(sim, 'sucursal=SUC012&desde=2026-01-12&hasta=2026-01-12');
    expect(answer.json.meta.total_registros).toBe(answer.json.ventas.length);
    expect(distinct(answer.json.ventas)).toBe(truth!.lineas);
    expect(answer.json.ventas.length).toBeGreaterThan(truth!.lineas);
  });

  it('fails with 500, 502 or 503 and a short body', async () => {
    sim.options.failRate = 1;
    const answer = await post(sim, day12);
    expect([500, 502, 503]).toContain(answer.status);
    expect(answer.text.length).toBeLessThan(200);
  });

  it('answers HTTP 200 with an error payload', async () => {
    sim.options.errorPayloadRate = 1;
    const answer = await post(sim, day12);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json)).toEqual(['error']);
    expect(answer.json.error.length).toBeGreaterThan(0);
  });

  it('cuts the body mid-way with status 200', async () => {
    const whole = await post(sim, day12);
    sim.options.truncateRate = 1;
    const cut = await post(sim, day12);
    expect(cut.status).toBe(200);
    expect(cut.json).toBeUndefined();
    expect(cut.text.startsWith('{"meta":')).toBe(true);
    expect(cut.text.length).toBeLessThan(whole.text.length);
    const empty = await post(sim, { ...day12, hora_desde: '12:00', hora_hasta: '08:00' });
    expect(empty.status).toBe(200);
    expect(empty.json).toBeUndefined();
  });

  it('answers a bare list of lines', async () => {
    const whole = await post(sim, day12);
    sim.options.listRate = 1;
    const list = await post(sim, day12);
    expect(Array.isArray(list.json)).toBe(true);
    expect(list.json).toEqual(whole.json.ventas);
  });

  it('waits BASE ms plus PER ms per 1,000 lines before answering', async () => {
    const lines = (await post(sim, day12)).json.ventas.length as number;
    sim.options.latencyMs = [150, 200_000 / lines]; // 150 ms + 200 ms for this answer
    const started = performance.now();
    expect((await post(sim, day12)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(340);
  });

  it('hangs answers bigger than --max-lines, then fails with 504', async () => {
    sim.options.maxLines = 5;
    sim.options.hangMs = 200;
    const started = performance.now();
    const big = await post(sim, day12);
    expect(big.status).toBe(504);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    const small = await post(sim, { ...day12, hora_desde: '07:00', hora_hasta: '07:00:01' });
    expect(small.status).toBe(200);
    expect(small.json.ventas.length).toBeLessThanOrEqual(5);
  });

  it('frees a hanging request when the client gives up', async () => {
    sim.options.maxLines = 5;
    sim.options.hangMs = 60_000;
    const controller = new AbortController();
    const body = JSON.stringify(day12);
    const pending = fetch(`${sim.url}/ventas`, { method: 'POST', body, signal: controller.signal });
    while (sim.stats().inFlight === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(pending).rejects.toThrow();
    while (sim.stats().inFlight > 0) await new Promise((r) => setTimeout(r, 10));
    expect(sim.stats()).toEqual({ requests: 1, inFlight: 0, maxInFlight: 1 });
  });

  it('replays a saved body verbatim', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'klk-sim-')), 'answer.json');
    writeFileSync(file, '{"meta":{"total_registros":2},"ventas":[1,2]} ruido final\n');
    const set = await post(sim, { replay: file }, '/__sim/faults');
    expect(set.status).toBe(200);
    const answer = await post(sim, { anything: true });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"meta":{"total_registros":2},"ventas":[1,2]} ruido final\n');
    // Read once and kept, but a file rewritten since is served as it is now.
    writeFileSync(file, '{"meta":{"total_registros":3},"ventas":[1,2,3]}');
    expect((await post(sim, { anything: true })).text).toBe('{"meta":{"total_registros":3},"ventas":[1,2,3]}');
    // Two files taken in turns (both kept): each request gets the file set for it.
    const other = join(mkdtempSync(join(tmpdir(), 'klk-sim-')), 'other.json');
    writeFileSync(other, '{"meta":{"total_registros":0},"ventas":[]}');
    for (const [path, text] of [
      [other, '{"meta":{"total_registros":0},"ventas":[]}'],
      [file, '{"meta":{"total_registros":3},"ventas":[1,2,3]}'],
      [other, '{"meta":{"total_registros":0},"ventas":[]}'],
    ]) {
      expect((await post(sim, { replay: path }, '/__sim/faults')).status).toBe(200);
      expect((await post(sim, { anything: true })).text).toBe(text);
    }
    expect((await post(sim, { replay: join(tmpdir(), 'no-existe-klk.json') }, '/__sim/faults')).status).toBe(400);
  });

  it('voids invoices at runtime: their lines vanish from answers and truth', async () => {
    const before = (await post(sim, day12)).json.ventas as KlkLine[];
    expect((await post(sim, { voidRate: 0.4 }, '/__sim/faults')).status).toBe(200);
    const after = (await post(sim, day12)).json.ventas as KlkLine[];
    const [truth] = await days(sim, 'sucursal=SUC012&desde=2026-01-12&hasta=2026-01-12');
    expect(after.length).toBeLessThan(before.length);
    expect(truth!.lineas).toBe(after.length);
    const kept = new Set(after.map((l) => l.numero_factura));
    expect(after).toEqual(before.filter((l) => kept.has(l.numero_factura)));
  });

  it('counts requests and concurrency in /__sim/stats, and resets them', async () => {
    sim.options.latencyMs = [300, 0];
    const answers = await Promise.all([post(sim, day12), post(sim, day12), post(sim, day12)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await fetch(`${sim.url}/__sim/days?sucursal=SUC012&desde=2026-01-12&hasta=2026-01-12`);
    const stats = await (await fetch(`${sim.url}/__sim/stats`)).json();
    expect(stats).toEqual({ requests: 3, inFlight: 0, maxInFlight: 3 });
    expect((await post(sim, {}, '/__sim/stats/reset')).json).toEqual({ requests: 0, inFlight: 0, maxInFlight: 0 });
    expect(sim.stats()).toEqual({ requests: 0, inFlight: 0, maxInFlight: 0 });
  });
});
