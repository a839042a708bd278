/**
 * The daemon's Prometheus metrics (prom-client), in a registry of its own: never the global default one, so two
 * servers in one process (tests) do not collide. What the daemon records goes through the small functions below;
 * `GET /metrics` (src/web/routes/daemon.ts) writes the registry out. No label names a day: a label per day would
 * grow without end; days are in the API and the page.
 *
 *   ventas_last_sync_success_timestamp_seconds{store}  gauge      last successful sync of the store (absent: none yet)
 *   ventas_store_days{state}                          gauge      store-days of the checked window by state
 *   ventas_heal_backlog_store_days                    gauge      store-days waiting to be healed
 *   ventas_incidents_open{kind}                       gauge      open incidents by kind
 *   ventas_klk_requests_total{outcome}                counter    KLK HTTP attempts: `ok` or the failure's kind
 *   ventas_klk_request_duration_seconds               histogram  successful KLK attempts, request to end of body
 *   ventas_rows_loaded_total                          counter    rows written to `ventas`
 *   ventas_daemon_cycle_timestamp_seconds             gauge      end of the last daemon cycle
 * plus prom-client's process and Node.js defaults (process_*, nodejs_*).
 *
 * Timestamps are Unix seconds on the ventas clock (`now()`, which honours VENTAS_CLOCK) unless an instant is given.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DayState } from '../coverage/states.ts';
import type { KlkErrorKind, KlkEvent } from '../klk/index.ts';
import { now } from '../shared/clock.ts';
import { INCIDENT_KINDS, type IncidentKind } from './status.ts';

export const DAY_STATES: readonly DayState[] = [
  'closed',
  'empty',
  'missing',
  'partial',
  'rejected',
  'future',
  'complete',
];

/** Every way a KLK attempt ends: all of them exist from the start at 0, so `rate()` sees the first failure. */
export const KLK_OUTCOMES = [
  'ok',
  'http',
  'timeout',
  'network',
  'error-payload',
  'truncated',
  'invalid-json',
  'invalid-answer',
  'meta-mismatch',
] as const satisfies readonly ('ok' | KlkErrorKind)[];
export type KlkOutcome = (typeof KLK_OUTCOMES)[number];

/** From a quick answer to the client's 120 s timeout (KLK_DEFAULTS). */
const KLK_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface DaemonMetrics {
  readonly registry: Registry;
  /** A successful sync of `store`, at `at` (default: now on the ventas clock). */
  recordSync(store: string, at?: Date): void;
  /** The checked window's store-days by state; a state not given is 0. */
  setStoreDays(countsByState: Partial<Record<DayState, number>>): void;
  /** Store-days waiting to be healed. */
  setBacklog(storeDays: number): void;
  /** Open incidents by kind; a kind not given is 0. */
  setIncidentsOpen(countsByKind: Partial<Record<IncidentKind, number>>): void;
  /** One KLK HTTP attempt and how it ended; `seconds` (its duration) goes to the histogram when given. */
  observeKlkRequest(outcome: KlkOutcome, seconds?: number): void;
  /** The KLK client's `onEvent`: each attempt counted by outcome, successful ones timed. */
  onKlkEvent(event: KlkEvent): void;
  /** Rows written to `ventas`. */
  addRowsLoaded(rows: number): void;
  /** A daemon cycle ended, at `at` (default: now on the ventas clock). */
  markCycle(at?: Date): void;
}

const seconds = (at: Date) => at.getTime() / 1000;

export interface DaemonMetricsOptions {
  /** prom-client's process and Node.js metrics (default true). */
  processMetrics?: boolean;
}

export function createDaemonMetrics(options: DaemonMetricsOptions = {}): DaemonMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const lastSync = new Gauge({
    name: 'ventas_last_sync_success_timestamp_seconds',
    help: 'Última sincronización correcta de la tienda (segundos Unix)',
    labelNames: ['store'] as const,
    registers,
  });
  const storeDays = new Gauge({
    name: 'ventas_store_days',
    help: 'Días-tienda de la ventana revisada, por estado',
    labelNames: ['state'] as const,
    registers,
  });
  const backlog = new Gauge({
    name: 'ventas_heal_backlog_store_days',
    help: 'Días-tienda pendientes de reparar',
    registers,
  });
  const incidents = new Gauge({
    name: 'ventas_incidents_open',
    help: 'Incidentes abiertos, por tipo',
    labelNames: ['kind'] as const,
    registers,
  });
  const klkRequests = new Counter({
    name: 'ventas_klk_requests_total',
    help: 'Peticiones HTTP a KLK, por resultado (ok o el tipo de fallo)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const klkDuration = new Histogram({
    name: 'ventas_klk_request_duration_seconds',
    help: 'Duración de las peticiones correctas a KLK, del envío al final del cuerpo (segundos)',
    buckets: KLK_DURATION_BUCKETS,
    registers,
  });
  const rowsLoaded = new Counter({
    name: 'ventas_rows_loaded_total',
    help: 'Filas escritas en la tabla ventas',
    registers,
  });
  const cycle = new Gauge({
    name: 'ventas_daemon_cycle_timestamp_seconds',
    help: 'Fin del último ciclo del daemon (segundos Unix)',
    registers,
  });

  // Every label value known from the start, at 0: a series that appears only when it first moves hides that move.
  for (const state of DAY_STATES) storeDays.set({ state }, 0);
  for (const kind of INCIDENT_KINDS) incidents.set({ kind }, 0);
  for (const outcome of KLK_OUTCOMES) klkRequests.inc({ outcome }, 0);

  const observeKlkRequest = (outcome: KlkOutcome, duration?: number) => {
    klkRequests.inc({ outcome });
    if (duration !== undefined) klkDuration.observe(duration);
  };

  return {
    registry,
    recordSync: (store, at = now()) => lastSync.set({ store }, seconds(at)),
    setStoreDays: (counts) => {
      for (const state of DAY_STATES) storeDays.set({ state }, counts[state] ?? 0);
    },
    setBacklog: (storeDays) => backlog.set(storeDays),
    setIncidentsOpen: (counts) => {
      for (const kind of INCIDENT_KINDS) incidents.set({ kind }, counts[kind] ?? 0);
    },
    observeKlkRequest,
    onKlkEvent: (event) => {
      if (event.type === 'succeeded') observeKlkRequest('ok', event.durationMs / 1000);
      else observeKlkRequest(event.kind);
    },
    addRowsLoaded: (rows) => rowsLoaded.inc(rows),
    markCycle: (at = now()) => cycle.set(seconds(at)),
  };
}
