/**
 * `GET /api/store-days/STORE/DAY` on both servers: `ventas serve` says how to fetch the day by hand, `ventas daemon`
 * when its next cycle takes it or why it does not; both show the request that last touched the day and its error.
 */
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import { recordHealAttempts } from '../daemon/heal-attempts.ts';
import type { Db } from '../db/types.ts';
import { silentLogger } from '../shared/logger.ts';
import { emptyStoreResult, finishRun, recordRequest, startRun } from '../sync/runs.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { fakeDaemon, type FakeDaemon } from '../../test/support/daemon.ts';
import { startDashboard, type RunningDashboard } from './server.ts';

const config = parseConfig({});
const KLK_URL = 'http://127.0.0.1:9';
/** 10:00 in Caracas: the 25th is over and past its grace. */
const NOW = '2026-01-26T14:00:00.000Z';
const DAY = '2026-01-25';
const COMMAND = `npx ventas backfill --from ${DAY} --to ${DAY} --stores tienda_07`;

async function getJson(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describeEachBackend('GET /api/store-days/STORE/DAY', (open, backend) => {
  let db: Db;
  let daemon: FakeDaemon;
  let serve: RunningDashboard;
  let withDaemon: RunningDashboard;
  let healRun: number;
  const start = (providers?: FakeDaemon) =>
    startDashboard({
      db,
      config,
      klkUrl: KLK_URL,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      daemon: providers,
    });

  beforeAll(async () => {
    db = await open();
    daemon = fakeDaemon({
      leader: { holder: 'host-a:4242', since: '2026-01-26T06:00:00.000Z' },
      isLeader: true,
      nextSync: '2026-01-26T15:00:00.000Z',
      lastCycleEndedAt: '2026-01-26T13:30:00.000Z',
      backlog: 7,
      budget: { maxRequestsPerHour: 60, usedThisHour: 20, left: 40 },
    });
    serve = await start();
    withDaemon = await start(daemon);
    // The hourly sync touched the day's last hours and got them; the daemon's heal then asked the whole day and failed.
    const sync = await startRun(db, {
      type: 'scheduled',
      window: { from: `${DAY} 22:00:00`, to: `${DAY} 23:59:59` },
      stores: ['tienda_07'],
      command: 'ventas daemon',
    });
    await recordRequest(db, {
      runId: sync,
      storeId: 'tienda_07',
      dayFrom: DAY,
      dayTo: DAY,
      horaDesde: '22:00:00',
      horaHasta: '23:59:59',
      outcome: 'empty',
      lines: 0,
      durationMs: 120,
      attempts: 1,
    });
    await finishRun(db, sync, 'success', { tienda_07: emptyStoreResult() }, null);
    healRun = await startRun(db, {
      type: 'manual',
      window: { from: `${DAY} 00:00:00`, to: `${DAY} 23:59:59` },
      stores: ['tienda_07'],
      command: 'ventas daemon',
    });
    await recordRequest(db, {
      runId: healRun,
      storeId: 'tienda_07',
      dayFrom: DAY,
      dayTo: DAY,
      outcome: 'failed',
      lines: 0,
      durationMs: 30_000,
      attempts: 4,
      error: 'HTTP 502 de KLK',
    });
    await finishRun(db, healRun, 'failed', { tienda_07: { ...emptyStoreResult(), status: 'failed' } }, null);
    // Another store's request and another day's do not count.
    await recordRequest(db, {
      runId: null,
      storeId: 'tienda_06',
      dayFrom: DAY,
      dayTo: DAY,
      outcome: 'ok',
      lines: 9,
      durationMs: 1,
      attempts: 1,
    });
    await recordRequest(db, {
      runId: null,
      storeId: 'tienda_07',
      dayFrom: '2026-01-24',
      dayTo: '2026-01-24',
      outcome: 'ok',
      lines: 9,
      durationMs: 1,
      attempts: 1,
    });
    await recordHealAttempts(db, [{ store: 'tienda_07', day: DAY }], new Date('2026-01-26T13:00:00.000Z'));
    await recordHealAttempts(db, [{ store: 'tienda_07', day: DAY }], new Date('2026-01-26T13:30:00.000Z'));
  });
  afterAll(async () => {
    await serve?.close();
    await withDaemon?.close();
    await db?.close();
  });
  afterEach(() => vi.unstubAllEnvs());

  const lastAttempt = () => ({
    at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    outcome: 'failed',
    lines: 0,
    error: 'HTTP 502 de KLK',
    dayFrom: DAY,
    dayTo: DAY,
    horaDesde: null,
    horaHasta: null,
    run: { id: healRun, type: 'manual', status: 'failed', command: 'ventas daemon' },
  });

  it(`under serve (${backend}) gives the last attempt, its error, the daemon's attempts and the command to run by hand`, async () => {
    vi.stubEnv('VENTAS_CLOCK', `${NOW},0,0`);
    expect(await getJson(`${serve.url}/api/store-days/tienda_07/${DAY}`)).toEqual({
      status: 200,
      body: {
        store: 'tienda_07',
        name: 'CENTRO',
        day: DAY,
        timeZone: 'America/Caracas',
        state: 'missing',
        lines: 0,
        klkLines: null,
        rejectedLines: 0,
        lastAttempt: lastAttempt(),
        healAttempts: { count: 2, max: 5, lastAt: '2026-01-26T13:30:00.000Z' },
        next: {
          reason: 'manual',
          at: null,
          summary: 'Este tablero no corre el daemon: recupérelo a mano.',
          command: COMMAND,
        },
        daemon: false,
      },
    });
    // A day nothing touched: no attempt, no error.
    const untouched = await getJson(`${serve.url}/api/store-days/tienda_07/2026-01-20`);
    expect(untouched.body).toMatchObject({ state: 'missing', lastAttempt: null, healAttempts: null });
    // The partial request of the 24th is that day's.
    expect((await getJson(`${serve.url}/api/store-days/tienda_07/2026-01-24`)).body.lastAttempt).toMatchObject({
      outcome: 'ok',
      lines: 9,
      run: null,
    });
  });

  it(`under the daemon (${backend}) says when its next cycle takes the day, or that it gave the day up`, async () => {
    vi.stubEnv('VENTAS_CLOCK', `${NOW},0,0`);
    expect((await getJson(`${withDaemon.url}/api/health`)).body).toEqual({
      status: 'ok',
      database: backend,
      daemon: true,
    });
    const { body } = await getJson(`${withDaemon.url}/api/store-days/tienda_07/${DAY}`);
    expect(body).toMatchObject({ state: 'missing', lastAttempt: lastAttempt(), daemon: true });
    expect(body.next).toEqual({
      reason: 'next-cycle',
      at: '2026-01-26T14:30:00.000Z',
      summary:
        'En el próximo ciclo del daemon, dentro del presupuesto (quedan 40 de 60 peticiones esta hora); ' +
        '7 días-tienda en cola, los más recientes primero.',
      command: null,
    });

    for (let i = 0; i < 3; i++)
      await recordHealAttempts(db, [{ store: 'tienda_07', day: DAY }], new Date('2026-01-26T13:45:00.000Z'));
    const incident = daemon.incidents.open({
      kind: 'heal_exhausted',
      store: 'tienda_07',
      dates: [DAY],
      openedAt: '2026-01-26T13:46:00.000Z',
      summary: 'tienda_07 sigue incompleta tras 5 intentos',
    });
    const given = await getJson(`${withDaemon.url}/api/store-days/tienda_07/${DAY}`);
    expect(given.body.healAttempts).toEqual({ count: 5, max: 5, lastAt: '2026-01-26T13:45:00.000Z' });
    expect(given.body.next).toEqual({
      reason: 'exhausted',
      at: null,
      summary: `El daemon lo dejó tras 5 intentos (máximo 5): incidente #${incident.id} (recuperación agotada). Puede intentarse a mano.`,
      command: COMMAND,
    });
  });

  it(`(${backend}) refuses an unknown store, an impossible date, any query parameter and any method but GET`, async () => {
    expect(await getJson(`${serve.url}/api/store-days/tienda_99/${DAY}`)).toEqual({
      status: 400,
      body: { error: `tienda desconocida: "tienda_99". Tiendas válidas: ${config.stores.map((s) => s.id).join(', ')}` },
    });
    expect(await getJson(`${serve.url}/api/store-days/tienda_07/2026-02-30`)).toEqual({
      status: 400,
      body: { error: 'fecha inválida: "2026-02-30" (se espera YYYY-MM-DD, p. ej. 2025-10-28)' },
    });
    expect((await getJson(`${serve.url}/api/store-days/tienda_07/${DAY}?x=1`)).status).toBe(400);
    expect((await fetch(`${serve.url}/api/store-days/tienda_07/${DAY}`, { method: 'POST' })).status).toBe(405);
  });
});
