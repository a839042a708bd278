import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import type { Db } from '../db/types.ts';
import { silentLogger } from '../shared/logger.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { fakeDaemon, type FakeDaemon } from '../../test/support/daemon.ts';
import { staleCycleReason } from './routes/daemon.ts';
import { startDashboard, type DashboardOptions, type RunningDashboard } from './server.ts';

const config = parseConfig({});
/** Never asked: no test here starts a backfill. */
const KLK_URL = 'http://127.0.0.1:9';
/** The ventas clock, stopped: every `now()` is this instant. */
const NOW = '2026-01-26T10:00:00.000Z';
const minutesBefore = (minutes: number) => new Date(Date.parse(NOW) - minutes * 60_000).toISOString();
const DAEMON_PATHS = ['/livez', '/readyz', '/metrics', '/api/daemon', '/api/incidents'];

async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The database, with a switch that makes every query fail as a server gone away would. */
function switchableDb(db: Db): { db: Db; down(error: Error | null): void } {
  let failure: Error | null = null;
  return {
    db: {
      kind: db.kind,
      query: (sql, params) => (failure ? Promise.reject(failure) : db.query(sql, params)),
      exec: (sql) => db.exec(sql),
      copyFrom: (table, columns, text) => db.copyFrom(table, columns, text),
      transaction: (fn) => db.transaction(fn),
      keepSession: (options) => db.keepSession(options),
      close: () => db.close(),
    },
    down: (error) => (failure = error),
  };
}

describe('staleCycleReason', () => {
  const at = new Date(NOW);
  it('is ready up to, not including, two sync intervals after the last cycle', () => {
    expect(staleCycleReason({ lastCycleEndedAt: minutesBefore(119.99), syncEveryMinutes: 60 }, at)).toBeNull();
    expect(staleCycleReason({ lastCycleEndedAt: minutesBefore(120), syncEveryMinutes: 60 }, at)).toBe(
      `el último ciclo del daemon terminó hace 120 min 0 s (${minutesBefore(120)}): más de 120 minutos, ` +
        'dos intervalos de sincronización',
    );
    expect(staleCycleReason({ lastCycleEndedAt: minutesBefore(120), syncEveryMinutes: 61 }, at)).toBeNull();
  });

  it('is not ready before the first cycle, nor with an end it cannot read', () => {
    expect(staleCycleReason({ lastCycleEndedAt: null, syncEveryMinutes: 60 }, at)).toBe(
      'ningún ciclo del daemon ha terminado todavía',
    );
    expect(staleCycleReason({ lastCycleEndedAt: 'ayer', syncEveryMinutes: 60 }, at)).toBe(
      'fin del último ciclo ilegible: "ayer"',
    );
  });
});

describeEachBackend('the daemon routes', (open, backend) => {
  let real: Db;
  let probed: ReturnType<typeof switchableDb>;
  let daemon: FakeDaemon;
  let dashboard: RunningDashboard;
  const start = (options: Partial<DashboardOptions> = {}) =>
    startDashboard({
      db: probed.db,
      config,
      klkUrl: KLK_URL,
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      daemon,
      ...options,
    });

  beforeAll(async () => {
    real = await open();
    probed = switchableDb(real);
    daemon = fakeDaemon();
    dashboard = await start();
  });
  afterAll(async () => {
    await dashboard?.close();
    await real?.close();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    probed.down(null);
    daemon.status.failure = null;
  });

  it('/livez answers 200 while the process runs, database down or not; GET only', async () => {
    expect(await getJson(`${dashboard.url}/livez`)).toEqual({ status: 200, body: { status: 'ok' } });
    probed.down(new Error('conexión rechazada'));
    expect(await getJson(`${dashboard.url}/livez`)).toEqual({ status: 200, body: { status: 'ok' } });
    const post = await fetch(`${dashboard.url}/livez`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });

  it('/readyz is ready while the last cycle ended less than two sync intervals ago on the ventas clock', async () => {
    vi.stubEnv('VENTAS_CLOCK', `${NOW},0,0`);
    daemon.status.set({ lastCycleEndedAt: null, syncEveryMinutes: 60 });
    expect(await getJson(`${dashboard.url}/readyz`)).toEqual({
      status: 503,
      body: { status: 'not-ready', reason: 'ningún ciclo del daemon ha terminado todavía' },
    });
    // Two hours before the simulated now: far in the past on the system clock, so this also proves which clock counts.
    daemon.status.set({ lastCycleEndedAt: minutesBefore(119.5) });
    expect(await getJson(`${dashboard.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
    daemon.status.set({ lastCycleEndedAt: minutesBefore(125) });
    expect(await getJson(`${dashboard.url}/readyz`)).toEqual({
      status: 503,
      body: {
        status: 'not-ready',
        reason:
          `el último ciclo del daemon terminó hace 125 min 0 s (${minutesBefore(125)}): más de 120 minutos, ` +
          'dos intervalos de sincronización',
      },
    });
    // The interval is the daemon's own: every 90 minutes, 125 minutes is within two.
    daemon.status.set({ syncEveryMinutes: 90 });
    expect((await getJson(`${dashboard.url}/readyz`)).status).toBe(200);
  });

  it('/readyz is 503 with the reason when the database does not answer, before anything else', async () => {
    vi.stubEnv('VENTAS_CLOCK', `${NOW},0,0`);
    daemon.status.set({ lastCycleEndedAt: minutesBefore(1), syncEveryMinutes: 60 });
    expect((await getJson(`${dashboard.url}/readyz`)).status).toBe(200);
    probed.down(new Error('conexión rechazada'));
    expect(await getJson(`${dashboard.url}/readyz`)).toEqual({
      status: 503,
      body: { status: 'not-ready', reason: 'la base de datos no responde: conexión rechazada' },
    });
    daemon.status.set({ lastCycleEndedAt: null });
    expect((await getJson(`${dashboard.url}/readyz`)).body.reason).toBe(
      'la base de datos no responde: conexión rechazada',
    );
    probed.down(null);
    expect((await getJson(`${dashboard.url}/readyz`)).body.reason).toBe('ningún ciclo del daemon ha terminado todavía');
  });

  it('/readyz is 503 when the daemon cannot tell its state', async () => {
    daemon.status.failure = new Error('tabla daemon_state ilegible');
    expect(await getJson(`${dashboard.url}/readyz`)).toEqual({
      status: 503,
      body: { status: 'not-ready', reason: 'no se pudo leer el estado del daemon: tabla daemon_state ilegible' },
    });
  });

  it('/api/daemon gives the status as the contract has it, nothing more', async () => {
    const status = {
      leader: { holder: 'host-a:4242', since: '2026-01-26T06:00:00.000Z' },
      isLeader: true,
      lastSync: '2026-01-26T09:00:00.000Z',
      nextSync: '2026-01-26T10:00:00.000Z',
      lastRecovery: '2026-01-26T07:00:00.000Z',
      nextRecovery: '2026-01-27T07:00:00.000Z',
      backlog: 12,
      budget: { maxRequestsPerHour: 60, usedThisHour: 15, left: 45 },
      lastCycleEndedAt: '2026-01-26T09:02:00.000Z',
      syncEveryMinutes: 60,
    };
    daemon.status.set({ ...status, internal: 'no debe salir' } as typeof status);
    expect(await getJson(`${dashboard.url}/api/daemon`)).toEqual({ status: 200, body: status });
    daemon.status.set({ leader: null, isLeader: false });
    expect((await getJson(`${dashboard.url}/api/daemon`)).body).toMatchObject({ leader: null, isLeader: false });
    daemon.status.failure = new Error('sin estado');
    expect(await getJson(`${dashboard.url}/api/daemon`)).toEqual({
      status: 500,
      body: { error: 'error interno: sin estado' },
    });
    expect((await getJson(`${dashboard.url}/api/daemon?x=1`)).status).toBe(400);
  });

  it('/api/incidents lists the open and the recently resolved ones, newest first', async () => {
    const stale = daemon.incidents.open({
      kind: 'store_stale',
      store: 'tienda_03',
      dates: ['2026-01-26'],
      openedAt: '2026-01-26T08:30:00.000Z',
      summary: 'tienda_03 sin sincronización correcta desde las 06:00',
    });
    const down = daemon.incidents.open({
      kind: 'klk_unreachable',
      store: null,
      dates: [],
      openedAt: '2026-01-26T09:10:00.000Z',
      summary: 'KLK no responde desde las 05:10',
    });
    daemon.incidents.resolve(stale.id, '2026-01-26T09:00:00.000Z');
    expect(await getJson(`${dashboard.url}/api/incidents`)).toEqual({
      status: 200,
      body: {
        incidents: [
          { ...down, resolvedAt: null },
          { ...stale, resolvedAt: '2026-01-26T09:00:00.000Z' },
        ],
      },
    });
  });

  it('/metrics gives every metric in Prometheus text, with what was recorded, the process defaults, and no day label', async () => {
    daemon.metrics.recordSync('tienda_01', new Date(NOW));
    daemon.metrics.setStoreDays({ complete: 30, missing: 4, partial: 1 });
    daemon.metrics.setBacklog(5);
    daemon.metrics.setIncidentsOpen({ store_stale: 1 });
    daemon.metrics.observeKlkRequest('ok', 0.4);
    daemon.metrics.observeKlkRequest('timeout');
    daemon.metrics.addRowsLoaded(1234);
    daemon.metrics.markCycle(new Date(NOW));
    const res = await fetch(`${dashboard.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const seconds = Date.parse(NOW) / 1000;
    for (const line of [
      `ventas_last_sync_success_timestamp_seconds{store="tienda_01"} ${seconds}`,
      'ventas_store_days{state="missing"} 4',
      'ventas_store_days{state="rejected"} 0',
      'ventas_heal_backlog_store_days 5',
      'ventas_incidents_open{kind="store_stale"} 1',
      'ventas_klk_requests_total{outcome="ok"} 1',
      'ventas_klk_requests_total{outcome="timeout"} 1',
      'ventas_klk_request_duration_seconds_bucket{le="0.5"} 1',
      'ventas_klk_request_duration_seconds_count 1',
      'ventas_rows_loaded_total 1234',
      `ventas_daemon_cycle_timestamp_seconds ${seconds}`,
    ])
      expect(text.split('\n')).toContain(line);
    expect(text).toMatch(/^# TYPE ventas_klk_request_duration_seconds histogram$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).not.toMatch(/^ventas_\w+\{[^}]*\d{4}-\d{2}-\d{2}/m);
    expect((await fetch(`${dashboard.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('with VENTAS_API_TOKEN set, the probes stay open and /metrics, /api/daemon and /api/incidents need it', async () => {
    const guarded = await start({ token: 'secreto-123' });
    try {
      vi.stubEnv('VENTAS_CLOCK', `${NOW},0,0`);
      daemon.status.set({ lastCycleEndedAt: minutesBefore(1), syncEveryMinutes: 60 });
      expect(await getJson(`${guarded.url}/livez`)).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await getJson(`${guarded.url}/readyz`)).toEqual({ status: 200, body: { status: 'ready' } });
      for (const path of ['/metrics', '/api/daemon', '/api/incidents']) {
        const none = await fetch(`${guarded.url}${path}`);
        expect(none.status, path).toBe(401);
        expect(none.headers.get('www-authenticate'), path).toMatch(/^Bearer/);
        expect(((await none.json()) as { error: string }).error, path).toMatch(/^falta el token/);
        const wrong = await fetch(`${guarded.url}${path}`, { headers: { Authorization: 'Bearer otro' } });
        expect(wrong.status, path).toBe(401);
        expect(((await wrong.json()) as { error: string }).error, path).toMatch(/^token incorrecto/);
        // As Prometheus sends it (bearer), and as the page does (its cookie).
        const bearer = { Authorization: 'Bearer secreto-123' };
        expect((await fetch(`${guarded.url}${path}`, { headers: bearer })).status, path).toBe(200);
        expect((await fetch(`${guarded.url}${path}`, { headers: { Cookie: 'ventas_token=secreto-123' } })).status).toBe(
          200,
        );
        // Never read from another site's page with the user's cookie.
        const foreign = { Cookie: 'ventas_token=secreto-123', Origin: 'http://ataque.example' };
        expect((await fetch(`${guarded.url}${path}`, { headers: foreign })).status, path).toBe(403);
      }
      const scraped = await fetch(`${guarded.url}/metrics`, { headers: { Authorization: 'Bearer secreto-123' } });
      expect(await scraped.text()).toMatch(/^ventas_heal_backlog_store_days /m);
    } finally {
      await guarded.close();
    }
  });

  it('without the daemon providers (`ventas serve`), none of these paths exists', async () => {
    const serve = await start({ daemon: undefined });
    const guarded = await start({ daemon: undefined, token: 'secreto-123' });
    try {
      for (const path of DAEMON_PATHS) {
        expect(await getJson(`${serve.url}${path}`), path).toEqual({
          status: 404,
          body: { error: `no existe ${path}` },
        });
      }
      // With a token, what is outside /api is still simply not there; under /api the token is asked first, as ever.
      for (const path of ['/livez', '/readyz', '/metrics'])
        expect((await fetch(`${guarded.url}${path}`)).status, path).toBe(404);
      for (const path of ['/api/daemon', '/api/incidents']) {
        const res = await fetch(`${guarded.url}${path}`, { headers: { Authorization: 'Bearer secreto-123' } });
        expect(res.status, path).toBe(404);
      }
      expect((await getJson(`${serve.url}/api/health`)).body).toEqual({
        status: 'ok',
        database: backend,
        daemon: false,
      });
    } finally {
      await serve.close();
      await guarded.close();
    }
  });
});
