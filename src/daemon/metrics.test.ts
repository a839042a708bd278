import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDaemonMetrics, DAY_STATES, KLK_OUTCOMES, type DaemonMetrics } from './metrics.ts';
import { INCIDENT_KINDS } from './status.ts';

const NAMES = {
  ventas_last_sync_success_timestamp_seconds: 'gauge',
  ventas_store_days: 'gauge',
  ventas_heal_backlog_store_days: 'gauge',
  ventas_incidents_open: 'gauge',
  ventas_klk_requests_total: 'counter',
  ventas_klk_request_duration_seconds: 'histogram',
  ventas_rows_loaded_total: 'counter',
  ventas_daemon_cycle_timestamp_seconds: 'gauge',
} as const;

/**
 * The samples of one metric by their labels as JSON (`{}` when none); a histogram's keyed by suffix too
 * (`_bucket{"le":0.5}`, `_count{}`).
 */
async function samples(metrics: DaemonMetrics, name: string): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no está ${name}`);
  return Object.fromEntries(
    (await metric.get()).values.map((v) => [
      `${((v as { metricName?: string }).metricName ?? name).slice(name.length)}${JSON.stringify(v.labels)}`,
      v.value,
    ]),
  );
}

const sample = async (metrics: DaemonMetrics, name: string, labels: Record<string, string | number> = {}) =>
  (await samples(metrics, name))[JSON.stringify(labels)];

describe('the daemon metrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('registers exactly the eight names, with their types, in a registry of their own beside the process defaults', async () => {
    const metrics = createDaemonMetrics();
    const all = await metrics.registry.getMetricsAsJSON();
    const ours = Object.fromEntries(all.filter((m) => m.name.startsWith('ventas_')).map((m) => [m.name, m.type]));
    expect(ours).toEqual(NAMES);
    for (const m of all.filter((m) => m.name.startsWith('ventas_'))) expect(m.help).not.toBe('');
    const names = all.map((m) => m.name);
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('process_resident_memory_bytes');
    expect(names).toContain('nodejs_eventloop_lag_seconds');
    // Not the global registry: a second daemon in the process (tests, two servers) must not collide.
    expect(globalRegistry.getSingleMetric('ventas_store_days')).toBeUndefined();
    const other = createDaemonMetrics();
    metrics.setBacklog(7);
    expect(await sample(metrics, 'ventas_heal_backlog_store_days')).toBe(7);
    expect(await sample(other, 'ventas_heal_backlog_store_days')).toBe(0);
  });

  it('leaves the process defaults out when asked', async () => {
    const names = (await createDaemonMetrics({ processMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.sort()).toEqual(Object.keys(NAMES).sort());
  });

  it('starts every state, kind and outcome at 0, and no store before its first sync', async () => {
    const metrics = createDaemonMetrics({ processMetrics: false });
    expect(await samples(metrics, 'ventas_store_days')).toEqual(
      Object.fromEntries(DAY_STATES.map((state) => [JSON.stringify({ state }), 0])),
    );
    expect(await samples(metrics, 'ventas_incidents_open')).toEqual(
      Object.fromEntries(INCIDENT_KINDS.map((kind) => [JSON.stringify({ kind }), 0])),
    );
    expect(await samples(metrics, 'ventas_klk_requests_total')).toEqual(
      Object.fromEntries(KLK_OUTCOMES.map((outcome) => [JSON.stringify({ outcome }), 0])),
    );
    expect(await samples(metrics, 'ventas_last_sync_success_timestamp_seconds')).toEqual({});
  });

  it('records syncs and cycles in Unix seconds: the instant given, else now on the ventas clock', async () => {
    vi.stubEnv('VENTAS_CLOCK', '2026-01-26T10:00:00Z,0,0'); // stopped at this instant
    const metrics = createDaemonMetrics({ processMetrics: false });
    metrics.recordSync('tienda_01', new Date('2026-01-26T09:30:00.500Z'));
    metrics.recordSync('tienda_02');
    metrics.markCycle();
    expect(await samples(metrics, 'ventas_last_sync_success_timestamp_seconds')).toEqual({
      '{"store":"tienda_01"}': Date.parse('2026-01-26T09:30:00.500Z') / 1000,
      '{"store":"tienda_02"}': Date.parse('2026-01-26T10:00:00Z') / 1000,
    });
    expect(await sample(metrics, 'ventas_daemon_cycle_timestamp_seconds')).toBe(1769421600);
    metrics.markCycle(new Date('2026-01-26T10:05:00Z'));
    expect(await sample(metrics, 'ventas_daemon_cycle_timestamp_seconds')).toBe(1769421900);
  });

  it('replaces the counts by state and by kind whole: what is not given is back to 0', async () => {
    const metrics = createDaemonMetrics({ processMetrics: false });
    metrics.setStoreDays({ missing: 3, complete: 10 });
    metrics.setStoreDays({ complete: 11, partial: 2 });
    const states = await samples(metrics, 'ventas_store_days');
    expect(states['{"state":"missing"}']).toBe(0);
    expect(states['{"state":"complete"}']).toBe(11);
    expect(states['{"state":"partial"}']).toBe(2);
    metrics.setIncidentsOpen({ klk_unreachable: 1, quarantine: 2 });
    metrics.setIncidentsOpen({ quarantine: 1 });
    const kinds = await samples(metrics, 'ventas_incidents_open');
    expect(kinds['{"kind":"klk_unreachable"}']).toBe(0);
    expect(kinds['{"kind":"quarantine"}']).toBe(1);
  });

  it('counts KLK attempts by outcome and times the successful ones in the histogram', async () => {
    const metrics = createDaemonMetrics({ processMetrics: false });
    metrics.observeKlkRequest('ok', 0.3);
    metrics.observeKlkRequest('timeout');
    const request = { sucursal: '01', window: { fechaDesde: '2026-01-26', fechaHasta: '2026-01-26' } };
    metrics.onKlkEvent({ type: 'succeeded', request, attempts: 2, lines: 10, bytes: 100, durationMs: 2_000 });
    metrics.onKlkEvent({
      type: 'attempt-failed',
      request,
      attempt: 1,
      kind: 'http',
      status: 503,
      message: 'HTTP 503',
      retryInMs: 100,
    });
    const outcomes = await samples(metrics, 'ventas_klk_requests_total');
    expect(outcomes['{"outcome":"ok"}']).toBe(2);
    expect(outcomes['{"outcome":"timeout"}']).toBe(1);
    expect(outcomes['{"outcome":"http"}']).toBe(1);
    expect(outcomes['{"outcome":"network"}']).toBe(0);
    const histogram = await samples(metrics, 'ventas_klk_request_duration_seconds');
    expect(histogram['_count{}']).toBe(2);
    expect(histogram['_sum{}']).toBeCloseTo(2.3);
    expect(histogram['_bucket{"le":0.25}']).toBe(0);
    expect(histogram['_bucket{"le":0.5}']).toBe(1);
    expect(histogram['_bucket{"le":2.5}']).toBe(2);
    expect(histogram['_bucket{"le":"+Inf"}']).toBe(2);
  });

  it('adds rows loaded, and refuses to take any away', async () => {
    const metrics = createDaemonMetrics({ processMetrics: false });
    metrics.addRowsLoaded(100);
    metrics.addRowsLoaded(23);
    expect(await sample(metrics, 'ventas_rows_loaded_total')).toBe(123);
    expect(() => metrics.addRowsLoaded(-1)).toThrow();
    expect(await sample(metrics, 'ventas_rows_loaded_total')).toBe(123);
  });

  it('has no label per day: only store, state, kind, outcome and the buckets, and no date among the values', async () => {
    const metrics = createDaemonMetrics({ processMetrics: false });
    for (const store of ['tienda_01', 'tienda_02']) metrics.recordSync(store, new Date('2026-01-26T10:00:00Z'));
    metrics.setStoreDays({ missing: 1 });
    metrics.setIncidentsOpen({ store_stale: 1 });
    metrics.observeKlkRequest('ok', 1);
    metrics.addRowsLoaded(5);
    metrics.setBacklog(1);
    metrics.markCycle(new Date('2026-01-26T10:00:00Z'));
    const text = await metrics.registry.metrics();
    const labels = [...text.matchAll(/^ventas_\w+\{([^}]*)\}/gm)].flatMap((m) =>
      m[1]!.split(',').map((pair) => pair.split('=') as [string, string]),
    );
    expect(labels.length).toBeGreaterThan(0);
    expect(new Set(labels.map(([name]) => name))).toEqual(new Set(['store', 'state', 'kind', 'outcome', 'le']));
    for (const [, value] of labels) expect(value).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });
});
