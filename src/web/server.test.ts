import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackfill } from '../backfill/ledger.ts';
import { runBackfill } from '../backfill/run.ts';
import { parseConfig } from '../catalogue/config.ts';
import { computeCoverage, toJson } from '../coverage/index.ts';
import type { Db } from '../db/types.ts';
import { createKlkClient } from '../klk/index.ts';
import { planForReport } from '../backfill/evidence.ts';
import { toPlanJson } from '../plan/index.ts';
import { eachDay } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { truth } from '../../test/support/truth.ts';
import { startDashboard, type RunningDashboard } from './server.ts';
import { earlyHours, loadThroughEtl, wholeDays as wholeDay } from '../../test/support/etl.ts';

const config = parseConfig({});
const store = (id: string) => config.stores.find((s) => s.id === id)!;
const FROM = '2025-12-29';
const TO = '2026-01-11';
const STORES = ['tienda_01', 'tienda_03', 'tienda_04'];
/** The known history: every day loaded whole except these holes (2026-01-01 is a closed day of the chain). */
const MISSING: Record<string, string[]> = {
  tienda_01: ['2026-01-05', '2026-01-06'],
  tienda_03: ['2026-01-08'],
  tienda_04: [],
};
const PARTIAL: Record<string, string[]> = { tienda_01: [], tienda_03: [], tienda_04: ['2026-01-07'] };

function expectedStates(id: string): string {
  return eachDay(FROM, TO)
    .map((d) => (d === '2026-01-01' ? 'x' : MISSING[id]!.includes(d) ? 'm' : PARTIAL[id]!.includes(d) ? 'p' : 'c'))
    .join('');
}

/** Loads the known history through the ETL itself: whole days, and the partial day only from 08:00 to 09:59. */
async function loadHistory(db: Db, sim: RunningSimulator): Promise<void> {
  const wholeDays = (id: string) =>
    eachDay(FROM, TO)
      .filter((d) => !MISSING[id]!.includes(d) && !PARTIAL[id]!.includes(d))
      .map((d) => wholeDay(d));
  await loadThroughEtl(
    db,
    sim.url,
    STORES.map((id) => ({ store: store(id), intervals: [...wholeDays(id), ...PARTIAL[id]!.map(earlyHours)] })),
    { attempts: 2, command: 'historia de prueba' },
  );
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a server-sent event stream to its end (the server ends it after `done`). */
async function readEvents(url: string): Promise<SseEvent[]> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: SseEvent[] = [];
  let buffer = '';
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  }
  return events;
}

/** A raw request, for headers fetch will not let a caller set (Host). */
function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describeEachBackend('dashboard API', (open, backend) => {
  let db: Db;
  let sim: RunningSimulator;
  let dashboard: RunningDashboard;
  let base: string;
  const windowQuery = `from=${FROM}&to=${TO}&stores=${STORES.join(',')}`;
  const window = { from: FROM, to: TO, stores: STORES.map(store) };

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
    db = await open();
    await loadHistory(db, sim);
    dashboard = await startDashboard({
      db,
      config,
      klkUrl: sim.url,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      window: { from: FROM, to: TO, stores: STORES.join(',') },
    });
    base = dashboard.url;
  });
  afterAll(async () => {
    await dashboard?.close();
    await db?.close();
    await sim?.close();
  });

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const post = async (body: unknown, headers: Record<string, string> = {}, url = base) => {
    const res = await fetch(`${url}/api/backfill`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers health with the database in use, and serves the page with a strict content policy', async () => {
    expect(await get('/api/health')).toEqual({ status: 200, body: { status: 'ok', database: backend, daemon: false } });
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('Ejecutar backfill');
    for (const asset of ['/app.js', '/style.css']) expect((await fetch(`${base}${asset}`)).status).toBe(200);
  });

  it('gives the gaps as the JSON of `ventas gaps --format json`, the same report as the CLI', async () => {
    const { status, body } = await get(`/api/gaps?${windowQuery}`);
    expect(status).toBe(200);
    expect(body).toEqual(JSON.parse(JSON.stringify(toJson(await computeCoverage(db, config, window)))));
    expect(Object.keys(body)).toEqual(['from', 'to', 'stores', 'patterns', 'totals']);
    const stores = body.stores as Array<{ store: string; missing: string[]; partial: string[] }>;
    for (const id of STORES) {
      const s = stores.find((x) => x.store === id)!;
      expect([s.missing, s.partial]).toEqual([MISSING[id], PARTIAL[id]]);
    }
    expect(body.totals).toEqual({
      expectedStoreDays: 39,
      missingStoreDays: 3,
      partialStoreDays: 1,
      rejectedStoreDays: 0,
      futureStoreDays: 0,
    });
  });

  it('gives the heatmap of the server window by default: one state per day, with lines and USD per day', async () => {
    const { status, body } = await get('/api/coverage');
    expect(status).toBe(200);
    expect([body.from, body.to, body.days]).toEqual([FROM, TO, 14]);
    const stores = body.stores as Array<{ store: string; states: string; lines: number[]; totalUsd: number[] }>;
    expect(stores.map((s) => s.store)).toEqual(STORES);
    for (const s of stores) {
      expect(s.states).toBe(expectedStates(s.store));
      const days = eachDay(FROM, TO);
      for (const t of truth(sim.options, store(s.store), FROM, TO)) {
        const i = days.indexOf(t.day);
        if (s.states[i] !== 'c') continue;
        expect([s.lines[i], s.totalUsd[i]]).toEqual([t.lines, Math.round(Number(t.usd) * 100) / 100]);
      }
    }
    expect((body.catalogue as unknown[]).length).toBe(config.stores.length);
  });

  it('gives the plan as the JSON of `ventas plan --format json`, the same plan as the CLI', async () => {
    const { status, body } = await get(`/api/plan?${windowQuery}`);
    expect(status).toBe(200);
    const report = await computeCoverage(db, config, window);
    const expected = toPlanJson(await planForReport(db, report, { config }), 'npx ventas');
    expect(body).toEqual(JSON.parse(JSON.stringify(expected)));
    expect((body.totals as { missingStoreDays: number }).missingStoreDays).toBe(4);
  });

  it.each([
    ['/api/gaps?from=2026-02-30', /^from inválida: "2026-02-30"\. Se espera una fecha YYYY-MM-DD existente/],
    ['/api/gaps?from=2026-01-11&to=2026-01-01', /^from \(2026-01-11\) es posterior a to \(2026-01-01\)/],
    ['/api/coverage?stores=tienda_14', /^tienda desconocida: tienda_14\. Tiendas válidas: tienda_01/],
    ['/api/plan?desde=2026-01-01', /^parámetro desconocido: desde\. Parámetros válidos: from, to, stores/],
    ['/api/gaps?from=2026-01-01&from=2026-01-02', /^el parámetro from aparece más de una vez/],
    ['/api/runs?limit=0', /^limit inválido: "0"/],
    ['/api/runs/abc', /^identificador de backfill inválido: "abc"/],
  ])('rejects %s with 400 and a message', async (path, message) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body.error).toMatch(message);
  });

  it('rejects bad backfill bodies with 400, other media with 415, and unknown routes and runs with 404/405', async () => {
    expect(await post('{no es json')).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^el cuerpo no es JSON válido/) },
    });
    expect(await post({})).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^from es obligatorio/) },
    });
    expect(await post({ from: FROM, to: TO, stores: 'tienda_01' })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^stores debe ser una lista/) },
    });
    expect(await post({ from: FROM, to: TO, stores: [] })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^lista de tiendas vacía/) },
    });
    // A window of centuries is refused at once instead of computed (it once took the server down).
    for (const path of [
      '/api/coverage?from=0100-01-01&to=9999-12-31',
      '/api/gaps?from=1000-01-01&to=2025-12-31',
      '/api/plan?from=1000-01-01&to=2025-12-31',
    ]) {
      expect(await get(path)).toMatchObject({
        status: 400,
        body: { error: expect.stringMatching(/^la ventana del .* el máximo es 1\.096 \(maxWindowDays/) },
      });
    }
    expect(await post({ from: FROM, to: TO, extra: 1 })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^campo desconocido: extra/) },
    });
    expect(await post({ from: TO, to: FROM })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/es posterior a to/) },
    });
    const form = await fetch(`${base}/api/backfill`, { method: 'POST', body: 'from=2026-01-01' });
    expect(form.status).toBe(415);
    expect((await get('/api/backfill')).status).toBe(405);
    expect(await get('/api/nada')).toEqual({ status: 404, body: { error: 'no existe /api/nada' } });
    expect(await get('/api/runs/999')).toEqual({ status: 404, body: { error: 'no existe el backfill #999' } });
  });

  it('refuses a foreign Host name (DNS rebinding) and a cross-site POST with 403', async () => {
    const foreignHost = await rawRequest(`${base}/api/health`, { headers: { Host: 'ataque.example:80' } });
    expect(foreignHost.status).toBe(403);
    const crossSite = await post({ from: FROM, to: TO }, { Origin: 'http://ataque.example' });
    expect(crossSite.status).toBe(403);
  });

  it('runs a backfill: 202 with its id, 409 for a second one, progress events, then the backfill summary and no holes', async () => {
    // Slow answers keep the first backfill running while the second is asked for.
    sim.options.latencyMs = [600, 0];
    const started = await post({ from: FROM, to: TO, stores: STORES });
    expect(started.status).toBe(202);
    const runId = started.body.runId as number;
    expect(Number.isInteger(runId)).toBe(true);
    const second = await post({ from: FROM, to: TO, stores: STORES });
    expect(second).toMatchObject({
      status: 409,
      body: { error: expect.stringMatching(/^ya hay un backfill en curso/) },
    });
    expect((await get(`/api/runs/${runId}`)).body).toMatchObject({ status: 'running', storeDays: expect.any(Number) });

    const events = await readEvents(`${base}/api/runs/${runId}/events`);
    sim.options.latencyMs = [0, 0];
    expect(events[0]!.event).toBe('progress');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
    const last = events.filter((e) => e.event === 'progress').at(-1)!.data as {
      storeDaysDone: number;
      storeDays: number;
      lines: number;
    };
    expect(last.storeDaysDone).toBe(last.storeDays);
    expect(last.lines).toBeGreaterThan(0);
    expect(Object.keys(done.data)).toEqual([
      'runId',
      'status',
      'chunks',
      'storeDays',
      'rowsInserted',
      'rowsUpdated',
      'rowsDeleted',
      'duplicatesInSource',
      'quarantined',
      'seconds',
      'before',
      'after',
    ]);
    expect(done.data).toMatchObject({
      runId,
      status: 'complete',
      storeDays: 4,
      before: { expectedStoreDays: 39, missingStoreDays: 3, partialStoreDays: 1 },
      after: { expectedStoreDays: 39, missingStoreDays: 0, partialStoreDays: 0 },
    });

    expect((await get(`/api/runs/${runId}`)).body).toEqual(done.data);
    // A finished run's stream gives its summary at once.
    expect(await readEvents(`${base}/api/runs/${runId}/events`)).toEqual([done]);
    const coverage = await get('/api/coverage');
    for (const s of coverage.body.stores as Array<{ store: string; states: string }>)
      expect(s.states).toBe(expectedStates(s.store).replace(/[mp]/g, 'c'));

    const runs = (await get('/api/runs')).body.runs as Array<Record<string, unknown>>;
    expect(runs[0]).toMatchObject({
      kind: 'backfill',
      id: runId,
      status: 'complete',
      from: FROM,
      to: TO,
      stores: STORES,
      storeDays: 4,
      errors: [],
    });
    expect(runs[1]).toMatchObject({
      kind: 'etl',
      type: 'manual',
      status: 'success',
      command: 'historia de prueba',
      errors: [],
    });
    expect(runs).toHaveLength(2);
  });

  it('follows a backfill run by another process through the ledger, to its summary', async () => {
    sim.options.latencyMs = [1_500, 0];
    try {
      let announce: (id: number) => void = () => {};
      const known = new Promise<number>((resolve) => (announce = resolve));
      const elsewhere = runBackfill(
        {
          db,
          config,
          klk: createKlkClient({ baseUrl: sim.url, attempts: 2 }),
          logger: silentLogger,
          onStart: ({ backfillId }) => announce(backfillId),
        },
        { from: '2026-01-02', to: '2026-01-11', stores: [store('tienda_06')], concurrency: 3 },
      );
      const id = await known;
      const events = await readEvents(`${base}/api/runs/${id}/events`);
      await elsewhere;
      expect(events[0]).toMatchObject({ event: 'progress', data: { status: 'running', storeDaysDone: 0 } });
      expect(events.at(-1)).toMatchObject({
        event: 'done',
        data: { status: 'complete', after: { missingStoreDays: 0 } },
      });
    } finally {
      sim.options.latencyMs = [0, 0];
    }
  });

  it('stopping the server mid-backfill leaves it resumable, and the history says how to finish it', async () => {
    const stopping = await startDashboard({
      db,
      config,
      klkUrl: sim.url,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
    });
    sim.options.latencyMs = [5_000, 0];
    let runId: number;
    try {
      const started = await post({ from: '2026-01-02', to: '2026-01-11', stores: ['tienda_05'] }, {}, stopping.url);
      expect(started.status).toBe(202);
      runId = started.body.runId as number;
      await stopping.close();
    } finally {
      sim.options.latencyMs = [0, 0];
    }
    // Stopped, not failed: its run ends `interrupted`, as after a Ctrl-C.
    expect((await get(`/api/runs/${runId}`)).body).toMatchObject({
      runId,
      status: 'interrupted',
      chunks: { done: 0 },
      after: { missingStoreDays: 10 },
    });
    const runs = (await get('/api/runs')).body.runs as Array<Record<string, unknown>>;
    expect(runs[0]).toMatchObject({
      kind: 'backfill',
      id: runId,
      status: 'interrupted',
      command: `npx ventas backfill --resume ${runId}`,
      resumable: true,
    });
  });

  it('resumes and cancels runs: POST /api/runs/ID/resume 202 with its events, /cancel 200; 404 unknown, 409 saying why', async () => {
    const change = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}/api/runs/${path}`, { method: 'POST', headers });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // Two backfills left as a stopped process leaves them.
    const interrupted = async (storeId: string) => {
      const id = await createBackfill(
        db,
        {
          from: '2026-01-09',
          to: '2026-01-10',
          stores: [storeId],
          mirror: false,
          concurrency: 3,
          before: { expectedStoreDays: 2, missingStoreDays: 2, partialStoreDays: 0 },
        },
        [{ storeId, dayFrom: '2026-01-09', dayTo: '2026-01-10' }],
      );
      await db.query(
        `UPDATE backfills SET status = 'interrupted', created_at = now() - interval '1 hour' WHERE id = $1`,
        [id],
      );
      return id;
    };
    const toResume = await interrupted('tienda_07');
    const toCancel = await interrupted('tienda_08');

    expect(await change(`${toResume}/resume`)).toEqual({ status: 202, body: { runId: toResume } });
    const events = await readEvents(`${base}/api/runs/${toResume}/events`);
    expect(events.at(-1)).toMatchObject({
      event: 'done',
      data: { status: 'complete', chunks: { total: 1, done: 1 }, after: { missingStoreDays: 0 } },
    });
    expect(await change(`${toResume}/resume`)).toEqual({
      status: 409,
      body: {
        error: `el backfill #${toResume} no se puede reanudar: ya terminó completo (no queda nada que reanudar)`,
      },
    });
    expect(await change(`${toResume}/cancel`)).toEqual({
      status: 409,
      body: { error: `el backfill #${toResume} no se puede cancelar: ya terminó (completo)` },
    });

    expect(await change(`${toCancel}/cancel`)).toEqual({ status: 200, body: { runId: toCancel, status: 'cancelled' } });
    expect((await get(`/api/runs/${toCancel}`)).body).toMatchObject({
      status: 'cancelled',
      storeDays: 2,
      storeDaysDone: 0,
    });
    expect((await change(`${toCancel}/resume`)).status).toBe(409);
    const listed = (await get('/api/runs')).body.runs as Array<Record<string, unknown>>;
    expect(listed.find((r) => r.kind === 'backfill' && r.id === toCancel)).toMatchObject({
      status: 'cancelled',
      resumable: false,
      cancellable: false,
      command: null,
    });

    const etl = listed.find((r) => r.kind === 'etl')!;
    expect(await change(`etl-${etl.id}/cancel`)).toEqual({
      status: 409,
      body: { error: `la ejecución etl-${etl.id} no se puede cancelar: ya terminó (estado: éxito)` },
    });
    expect((await change(`etl-${etl.id}/resume`)).status).toBe(409);
    expect(await change('999/cancel')).toEqual({ status: 404, body: { error: 'no existe el backfill #999' } });
    expect(await change('999/resume')).toEqual({ status: 404, body: { error: 'no existe el backfill #999' } });
    expect(await change('etl-999/cancel')).toEqual({ status: 404, body: { error: 'no existe la ejecución etl-999' } });
    expect((await change('abc/cancel')).body.error).toMatch(/^identificador de ejecución inválido: "abc"/);
    expect((await get(`/api/runs/${toCancel}/cancel`)).status).toBe(405);
    expect((await change(`${toCancel}/cancel`, { Origin: 'http://ataque.example' })).status).toBe(403);
  });

  it('refuses at start a VENTAS_API_TOKEN no client could send as a bearer', async () => {
    for (const token of ['con espacio', 'secreto!', 'a#b', 'ñandú']) {
      await expect(
        startDashboard({ db, config, klkUrl: sim.url, logger: silentLogger, host: '127.0.0.1', port: 0, token }),
      ).rejects.toThrow(/^VENTAS_API_TOKEN solo puede tener letras, dígitos y - \. _ ~ \+ \/ \(y = al final\)/);
    }
    const fine = await startDashboard({
      db,
      config,
      klkUrl: sim.url,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      token: 'aZ09-._~+/==',
    });
    try {
      const health = await fetch(`${fine.url}/api/gaps?from=${FROM}&to=${TO}`, {
        headers: { Authorization: 'Bearer aZ09-._~+/==' },
      });
      expect(health.status).toBe(200);
    } finally {
      await fine.close();
    }
  });

  it('with VENTAS_API_TOKEN set, a POST without the bearer token gets 401 and only the health probe and the page stay open', async () => {
    const guarded = await startDashboard({
      db,
      config,
      klkUrl: sim.url,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      token: 'secreto-123',
    });
    try {
      const none = await post({ from: FROM, to: TO }, {}, guarded.url);
      expect(none.status).toBe(401);
      expect(none.body.error).toMatch(/^falta el token/);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const wrong = await post({ from: FROM, to: TO }, { Authorization: 'Bearer otro' }, guarded.url);
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toMatch(/^token incorrecto/);
      // The right token passes the door; this body is then refused for what it is.
      expect((await post({}, { Authorization: 'Bearer secreto-123' }, guarded.url)).status).toBe(400);
      for (const change of ['cancel', 'resume']) {
        const res = await fetch(`${guarded.url}/api/runs/999/${change}`, { method: 'POST' });
        expect(res.status).toBe(401);
        const authorized = await fetch(`${guarded.url}/api/runs/999/${change}`, {
          method: 'POST',
          headers: { Authorization: 'Bearer secreto-123' },
        });
        expect(authorized.status).toBe(404);
      }
      expect((await fetch(`${guarded.url}/api/health`)).status).toBe(200);
      expect((await fetch(`${guarded.url}/`)).status).toBe(200);

      // Reads need it too: sales figures are business secrets on a LAN.
      const reads = [
        `/api/gaps?from=${FROM}&to=${TO}`,
        `/api/coverage?from=${FROM}&to=${TO}`,
        `/api/plan?from=${FROM}&to=${TO}`,
        '/api/runs',
        '/api/runs/1',
      ];
      for (const path of reads) {
        const res = await fetch(`${guarded.url}${path}`);
        expect(res.status, path).toBe(401);
        expect(((await res.json()) as { error: string }).error).toMatch(/^falta el token/);
        expect(
          (await fetch(`${guarded.url}${path}`, { headers: { Authorization: 'Bearer secreto-123' } })).status,
          path,
        ).not.toBe(401);
      }
      // The page trades the typed token for an HttpOnly, SameSite=Strict cookie, which then opens reads and writes.
      const session = (token: string, headers: Record<string, string> = {}) =>
        fetch(`${guarded.url}/api/session`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: JSON.stringify({ token }),
        });
      const refused = await session('otro');
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: string }).error).toBe('token incorrecto');
      expect(refused.headers.get('set-cookie')).toBeNull();
      expect((await session('secreto-123', { Origin: 'http://ataque.example' })).status).toBe(403);
      const granted = await session('secreto-123');
      expect(granted.status).toBe(200);
      const cookie = granted.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^ventas_token=secreto-123; HttpOnly; SameSite=Strict; Path=\/$/);
      const withCookie = { Cookie: cookie.split(';')[0]! };
      expect((await fetch(`${guarded.url}/api/runs`, { headers: withCookie })).status).toBe(200);
      expect((await post({}, withCookie, guarded.url)).status).toBe(400);
      const badCookie = await fetch(`${guarded.url}/api/runs`, { headers: { Cookie: 'ventas_token=otro' } });
      expect(((await badCookie.json()) as { error: string }).error).toMatch(/^token incorrecto/);
      // Reads check Origin too: another site's page cannot read the figures with the user's cookie.
      expect(
        (await fetch(`${guarded.url}/api/runs`, { headers: { ...withCookie, Origin: 'http://ataque.example' } }))
          .status,
      ).toBe(403);
    } finally {
      await guarded.close();
    }
  });

  it('closing the server ends an open event stream cleanly: the client reads what was sent, then the end', async () => {
    // A backfill left running by another process: its stream polls the ledger and would never end by itself.
    const id = await createBackfill(
      db,
      {
        from: '2026-01-09',
        to: '2026-01-10',
        stores: ['tienda_09'],
        mirror: false,
        concurrency: 3,
        before: { expectedStoreDays: 2, missingStoreDays: 2, partialStoreDays: 0 },
      },
      [{ storeId: 'tienda_09', dayFrom: '2026-01-09', dayTo: '2026-01-10' }],
    );
    const closing = await startDashboard({
      db,
      config,
      klkUrl: sim.url,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      // The response's headers mean the stream is open and known to the server.
      const res = await fetch(`${closing.url}/api/runs/${id}/events`);
      await closing.close();
      expect(await res.text()).toMatch(/^retry: 2000\n\nevent: progress\ndata: \{"status":"running",[^\n]*\n\n$/);
    } finally {
      await db.query(`UPDATE backfills SET status = 'interrupted' WHERE id = $1`, [id]);
    }
  });
});

describe('startDashboard', () => {
  it('refuses to listen beyond loopback without a token', async () => {
    const attempt = startDashboard({
      db: {} as Db,
      config,
      klkUrl: 'http://127.0.0.1:7002',
      logger: silentLogger,
      host: '0.0.0.0',
      port: 0,
    });
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/no se sirve en 0\.0\.0\.0 sin VENTAS_API_TOKEN/);
  });

  it('answers HEAD with 405 like any method a route does not take, and refuses a body over 16 KiB with 413', async () => {
    // Refused before any database work: no database is needed.
    const dashboard = await startDashboard({
      db: {} as Db,
      config,
      klkUrl: 'http://127.0.0.1:7002',
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      for (const [path, allow] of [
        ['/', 'GET'],
        ['/api/runs/1/events', 'GET'],
        ['/api/backfill', 'POST'],
      ] as const) {
        const head = await fetch(`${dashboard.url}${path}`, { method: 'HEAD' });
        expect([head.status, head.headers.get('allow')], path).toEqual([405, allow]);
        // Error answers carry the page's content policy too.
        expect(head.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      }
      const big = JSON.stringify({ from: '2026-01-01', to: '2026-01-02', pad: 'x'.repeat(20_000) });
      const declared = await fetch(`${dashboard.url}/api/backfill`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: big,
      });
      expect([declared.status, await declared.json()]).toEqual([413, { error: 'el cuerpo supera 16384 bytes' }]);
      // Sent in chunks, without a length: counted as it comes.
      const chunked = await fetch(`${dashboard.url}/api/backfill`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: new Blob([big]).stream(),
        duplex: 'half',
      } as RequestInit);
      expect([chunked.status, await chunked.json()]).toEqual([413, { error: 'el cuerpo supera 16384 bytes' }]);
    } finally {
      await dashboard.close();
    }
  });
});
