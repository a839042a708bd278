// @ts-check
/* global document, window, fetch, EventSource, URLSearchParams, history, BroadcastChannel */
// The dashboard page: reads /api/coverage, /api/plan and /api/runs, draws them, and runs the backfill through
// POST /api/backfill (after showing the plan's size) with live progress from /api/runs/ID/events. Other tabs hear
// of runs through a BroadcastChannel, and a light poll of /api/runs notices runs started anywhere else (the CLI, a
// schedule). No framework, no build step: the types below are JSDoc, checked by `npm run typecheck`.

/**
 * The API's answers as the page reads them; the server writes them in src/web/heatmap.ts (coverage),
 * src/plan/json.ts (plan), src/runs/history.ts (runs, a backfill's state) and src/web/runner.ts (its events).
 * @typedef {{ expectedStoreDays: number, missingStoreDays: number, partialStoreDays: number }} CoverageTotals
 * @typedef {{
 *   store: string, name: string, priority: string, coveragePct: number, expectedDays: number, daysWithData: number,
 *   missingDays: number, partialDays: number, isNew: boolean, firstSale: string | null,
 *   states: string, lines: number[], totalUsd: number[], rejected?: number[], rejectedLines?: number[],
 * }} HeatmapStore
 * @typedef {{ from: string, to: string, stores: string[], days: number, expectedStores: number }} CommonGap
 * @typedef {{
 *   from: string, to: string, days: number, timeZone: string, stores: HeatmapStore[],
 *   patterns: { commonGaps: CommonGap[], closedDays: string[] }, totals: CoverageTotals,
 *   catalogue: Array<{ store: string, name: string }>,
 * }} Coverage
 * @typedef {{ requests: number, storeDays: number, missingStoreDays: number, overFetchRatio: number, estimatedSeconds: number }} PlanTotals
 * @typedef {{ stores: string[], from: string, to: string, storeDays: number, requests: number, estimatedSeconds: number }} PlanStep
 * @typedef {{ from: string, to: string, phases: Array<{ phase: number, title: string, steps: PlanStep[] }>, totals: PlanTotals }} Plan
 * @typedef {{
 *   kind: 'backfill' | 'etl', id: number, ref: string, type: string, status: string, startedAt: string,
 *   finishedAt: string | null, from: string | null, to: string | null, stores: string[], storeDays: number | null,
 *   lines: number, rowsInserted: number, errors: string[], command: string | null, resumable: boolean, cancellable: boolean,
 * }} Run
 * @typedef {{ total: number, done: number, failed: number }} Chunks
 * @typedef {{
 *   storeDaysDone: number, storeDays: number, chunks: Chunks, lines: number,
 *   linesPerSecond: number | null, etaSeconds: number | null,
 * }} Progress
 * A backfill's end (`done`): its summary, or where it stopped when it could not record one (no `before`).
 * @typedef {{ status: string, chunks: Chunks, before?: undefined }} BackfillStopped
 * @typedef {{
 *   status: string, chunks: Chunks, rowsInserted: number, seconds: number, before: CoverageTotals, after: CoverageTotals,
 * }} BackfillSummary
 * @typedef {BackfillStopped | BackfillSummary} BackfillEnd
 * A message between the page's tabs: a backfill started, or a run finished (`runId` a cancelled run's ref).
 * @typedef {{ type: 'started', runId: number } | { type: 'finished', runId: number | string }} TabMessage
 * @typedef {Error & { status?: number }} ApiError
 * `ventas daemon`'s status and incidents (src/web/routes/daemon.ts), and why a store-day is not complete
 * (src/daemon/explain.ts).
 * @typedef {{
 *   leader: { holder: string, since: string } | null, isLeader: boolean, lastSync: string | null,
 *   nextSync: string | null, lastRecovery: string | null, nextRecovery: string | null, backlog: number,
 *   budget: { maxRequestsPerHour: number, usedThisHour: number, left: number }, lastCycleEndedAt: string | null,
 *   syncEveryMinutes: number,
 * }} DaemonStatus
 * @typedef {{
 *   id: number, kind: string, store: string | null, dates: string[], openedAt: string, resolvedAt: string | null,
 *   summary: string,
 * }} Incident
 * @typedef {{
 *   at: string, outcome: string, lines: number, error: string | null, dayFrom: string, dayTo: string,
 *   horaDesde: string | null, horaHasta: string | null,
 *   run: { id: number, type: string, status: string, command: string | null } | null,
 * }} LastAttempt
 * @typedef {{
 *   store: string, name: string, day: string, state: string, lines: number, klkLines: number | null,
 *   rejectedLines: number, lastAttempt: LastAttempt | null,
 *   healAttempts: { count: number, max: number, lastAt: string } | null,
 *   next: { reason: string, at: string | null, summary: string, command: string | null }, daemon: boolean,
 * }} StoreDayWhy
 */

/**
 * The page's elements whose type matters, by id, as index.html has them; any other id is an HTMLElement.
 * @typedef {{
 *   from: HTMLInputElement, to: HTMLInputElement, 'login-token': HTMLInputElement, filters: HTMLFormElement,
 *   login: HTMLFormElement, 'store-picker': HTMLDetailsElement, summary: HTMLTableElement, runs: HTMLTableElement,
 *   run: HTMLButtonElement, confirm: HTMLDialogElement,
 * }} Elements
 */
/**
 * @template {string} Id
 * @typedef {Id extends keyof Elements ? Elements[Id] : HTMLElement} ElementOf
 */

/**
 * The day states (src/coverage/states.ts) by their letter in /api/coverage, in the legend's order.
 * @type {Record<string, { name: string, legend: string }>}
 */
const STATES = {
  c: { name: 'completo', legend: 'Completo' },
  p: { name: 'parcial', legend: 'Parcial' },
  m: { name: 'faltante', legend: 'Faltante' },
  r: { name: 'rechazado', legend: 'Rechazado' },
  e: { name: 'vacío', legend: 'Vacío' },
  x: { name: 'cerrado', legend: 'Cerrado' },
  f: { name: 'futuro', legend: 'Futuro' },
};
const UNKNOWN_STATE = { name: 'desconocido', legend: 'Desconocido' };
/** @type {Record<string, string>} */
const RUN_TYPES = {
  backfill: 'Backfill',
  scheduled: 'ETL programado',
  manual: 'ETL manual',
  recovery: 'ETL de recuperación',
};
/** @type {Record<string, string>} */
const RUN_STATUS = {
  running: 'en curso',
  interrupted: 'interrumpido',
  cancelled: 'cancelado',
  complete: 'completo',
  partial: 'parcial',
  failed: 'fallido',
  success: 'éxito',
  skipped: 'omitido',
};
/** Incident kinds (src/daemon/status.ts) as people name them. */
/** @type {Record<string, string>} */
const INCIDENT_KINDS = {
  klk_unreachable: 'KLK no responde',
  store_stale: 'Tienda sin sincronizar',
  recovery_failed: 'Recuperación nocturna fallida',
  heal_exhausted: 'Recuperación agotada',
  quarantine: 'Líneas en cuarentena',
};
/** The day states by their JSON name (src/coverage/states.ts). */
/** @type {Record<string, string>} */
const STATE_NAMES = {
  complete: 'completo',
  partial: 'parcial',
  missing: 'faltante',
  rejected: 'rechazado',
  empty: 'vacío',
  closed: 'cerrado',
  future: 'futuro',
};
/** @type {Record<string, string>} */
const REQUEST_OUTCOMES = {
  ok: 'KLK respondió',
  empty: 'KLK respondió sin líneas',
  failed: 'falló',
  timeout: 'se agotó el tiempo de espera',
};
const MONTHS = ['Ene', 'Feb', 'Mar', 'Abr', 'May', 'Jun', 'Jul', 'Ago', 'Sep', 'Oct', 'Nov', 'Dic'];
const DAY_MS = 86_400_000;
/** While a backfill runs the map is redrawn at most this often, so it fills in as the chunks land. */
const LIVE_REFRESH_MS = 3_000;
/** How often an open page asks whether a run started or ended elsewhere (only while it is visible). */
const RUNS_POLL_MS = 10_000;
/** How often an open page reads the daemon's status and incidents (only while visible, and only under the daemon). */
const DAEMON_POLL_MS = 30_000;
/** Windows longer than this draw narrower cells. */
const DENSE_DAYS = 120;

const int = new Intl.NumberFormat('es-VE', { maximumFractionDigits: 0 });
const money = new Intl.NumberFormat('es-VE', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const oneDecimal = new Intl.NumberFormat('es-VE', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat('es-VE', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * One of the page's elements (index.html always has it).
 * @template {string} Id
 * @param {Id} id
 */
const $ = (id) => /** @type {ElementOf<Id>} */ (/** @type {unknown} */ (document.getElementById(id)));
/** @type {Record<string, string>} */
const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** @param {unknown} value */
const esc = (value) => String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
/** @param {number} n @param {string} one @param {string} many */
const plural = (n, one, many) => `${int.format(n)} ${n === 1 ? one : many}`;

/**
 * What the page shows: the applied filters and the last answers. `stores` empty means all. `running` is the
 * backfill this page follows; `settled` the runs whose end this page has already redrawn for.
 * @type {{
 *   from: string, to: string, stores: string[], coverage: Coverage | null, plan: Plan | null, running: number | null,
 *   lastLiveRefresh: number, runsSignature: string | null, settled: Set<number | string>, active: { r: number, i: number },
 *   daemon: boolean, detail: string | null,
 * }}
 */
const view = {
  from: '',
  to: '',
  stores: [],
  coverage: null,
  plan: null,
  running: null,
  lastLiveRefresh: 0,
  runsSignature: null,
  settled: new Set(),
  /** The heatmap cell that takes the Tab stop (roving tabindex): row and day index. */
  active: { r: 0, i: 0 },
  /** This server runs `ventas daemon` (its /api/health says so): the daemon's panel and incidents are shown. */
  daemon: false,
  /** The store-day whose detail is shown or asked for last (`store/day`): a slower earlier answer is dropped. */
  detail: null,
};

/**
 * What the caller knows is there: the coverage once drawn, a cell of the drawn grid (TypeScript's `!`).
 * @template T
 * @param {T | null | undefined} value
 */
const known = (value) => /** @type {T} */ (value);

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('ventas-runs') : null;

/**
 * The answer's JSON; an ApiError with the server's message and the HTTP status when it is not a success.
 * @param {string} path
 * @param {RequestInit} [options]
 * @returns {Promise<unknown>}
 */
async function api(path, options) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => ({}));
  // With VENTAS_API_TOKEN set, reading needs it too: the page asks once and the server keeps it in a cookie.
  if (res.status === 401 && path !== '/api/session') askForLogin();
  if (!res.ok) {
    /** @type {ApiError} */
    const error = new Error(body.error || `HTTP ${res.status}`);
    error.status = res.status;
    throw error;
  }
  return body;
}

/** @param {unknown} error a failed api() or fetch(): an Error */
const messageOf = (error) => /** @type {ApiError} */ (error).message;
/** @param {unknown} error */
const statusOf = (error) => /** @type {ApiError} */ (error).status;

function windowQuery() {
  const q = new URLSearchParams();
  if (view.from) q.set('from', view.from);
  if (view.to) q.set('to', view.to);
  if (view.stores.length > 0) q.set('stores', view.stores.join(','));
  return q.toString();
}

/** @param {string | null} message */
function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message || '';
}

/** @param {string} from @param {number} i */
function dayAt(from, i) {
  return new Date(Date.parse(`${from}T00:00:00Z`) + i * DAY_MS).toISOString().slice(0, 10);
}

/**
 * `~45 s`, `~12 min`, `~1 h 5 min`, as the terminal writes estimates.
 * @param {number} seconds
 */
function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `~${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `~${minutes} min`;
  return `~${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

/** @param {number} ms */
function elapsed(ms) {
  return ms < 60_000
    ? `${oneDecimal.format(ms / 1000)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** @param {number} withData @param {number} expected */
function coverageOf(withData, expected) {
  return expected === 0 ? 100 : Math.round((withData * 1000) / expected) / 10;
}

// ------------------------------------------------------------------------------------------------ times and zones

/** The stores' zone (their days, ETL windows and the history are read in it), else the browser's. */
function timeZone() {
  return view.coverage?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * `Caracas` from `America/Caracas`.
 * @param {string} zone
 */
function zoneCity(zone) {
  return known(zone.split('/').at(-1)).replaceAll('_', ' ');
}

/**
 * `UTC−4`, `UTC+5:30`, `UTC` for the zone at that instant.
 * @param {string} zone
 * @param {Date} instant
 */
function utcOffset(zone, instant) {
  const name = known(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      .formatToParts(instant)
      .find((p) => p.type === 'timeZoneName'),
  ).value;
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(name);
  if (!m) return 'UTC';
  return `UTC${m[1] === '-' ? '−' : '+'}${Number(m[2])}${m[3] === '00' ? '' : `:${m[3]}`}`;
}

/**
 * `2026-01-26 14:05:07` in the zone.
 * @param {string} zone
 * @param {Date} instant
 */
function wallTime(zone, instant) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/**
 * An instant as `<time>`: `2026-01-26 14:05:07 UTC−4`, the zone's name on hover.
 * @param {string} iso
 */
function timeHtml(iso) {
  const instant = new Date(iso);
  const zone = timeZone();
  return `<time datetime="${esc(instant.toISOString())}" title="hora de ${esc(zoneCity(zone))}">${esc(wallTime(zone, instant))} ${esc(utcOffset(zone, instant))}</time>`;
}

/**
 * The offset of a store-local wall time (`YYYY-MM-DD HH:MM[:SS]`) such as an ETL window's edge.
 * @param {string} local
 */
function wallTimeOffset(local) {
  const asUtc = new Date(`${local.slice(0, 10)}T${local.slice(11, 19).padEnd(8, ':00')}Z`);
  return utcOffset(timeZone(), Number.isNaN(asUtc.getTime()) ? new Date() : asUtc);
}

function zoneLabel(instant = new Date()) {
  return `hora de ${zoneCity(timeZone())}, ${utcOffset(timeZone(), instant)}`;
}

// ------------------------------------------------------------------------------------------------ loading

async function loadCoverage() {
  const coverage = /** @type {Coverage} */ (await api(`/api/coverage?${windowQuery()}`));
  view.coverage = coverage;
  view.from = coverage.from;
  view.to = coverage.to;
  renderTotals();
  renderLegend();
  renderHeatmap();
  renderSummary();
  renderPatterns();
  const now = new Date();
  $('updated').textContent = `Datos leídos a las ${wallTime(timeZone(), now).slice(11)} (${zoneLabel(now)}).`;
}

async function load() {
  showError(null);
  // The address names the window asked for at once, so it can be shared or reloaded while the data arrives.
  history.replaceState(null, '', `?${windowQuery()}`);
  try {
    const [, plan] = await Promise.all([loadCoverage(), api(`/api/plan?${windowQuery()}`)]);
    view.plan = /** @type {Plan} */ (plan);
    renderPlan();
    renderFilters();
  } catch (error) {
    showError(messageOf(error));
  }
}

/** @returns {Promise<Run[]>} */
async function loadRuns() {
  try {
    const { runs } = /** @type {{ runs: Run[] }} */ (await api('/api/runs'));
    view.runsSignature = runsSignature(runs);
    renderRuns(runs);
    return runs;
  } catch (error) {
    showError(messageOf(error));
    return [];
  }
}

async function loadHealth() {
  try {
    const health = /** @type {{ database: string, daemon?: boolean }} */ (await api('/api/health'));
    $('health').textContent = health.database === 'pglite' ? 'base embebida (PGlite)' : 'PostgreSQL';
    view.daemon = health.daemon === true;
  } catch (error) {
    $('health').textContent = `sin conexión: ${messageOf(error)}`;
  }
}

// ------------------------------------------------------------------------------------------------ filters

function renderFilters() {
  $('from').value = view.from;
  $('to').value = view.to;
  const chosen = new Set(view.stores);
  $('store-list').innerHTML = known(view.coverage)
    .catalogue.map(
      (s) =>
        `<label><input type="checkbox" value="${esc(s.store)}"${chosen.size === 0 || chosen.has(s.store) ? ' checked' : ''}> ${esc(s.store)} <span class="hint">${esc(s.name)}</span></label>`,
    )
    .join('');
  updateStoreSummary();
}

function checkedStores() {
  /** @type {NodeListOf<HTMLInputElement>} */
  const checked = $('store-list').querySelectorAll('input:checked');
  return [...checked].map((input) => input.value);
}

function updateStoreSummary() {
  const checked = checkedStores().length;
  const total = view.coverage?.catalogue.length ?? 0;
  $('store-summary').textContent = checked === total ? 'Tiendas: todas' : `Tiendas: ${checked} de ${total}`;
}

/** @param {SubmitEvent} event */
function applyFilters(event) {
  event.preventDefault();
  // Before a first good answer there is no store list to read: the stores asked for stay.
  if (view.coverage) {
    const stores = checkedStores();
    if (stores.length === 0) return showError('Elija al menos una tienda.');
    view.stores = stores.length === view.coverage.catalogue.length ? [] : stores;
  }
  view.from = $('from').value;
  view.to = $('to').value;
  $('store-picker').open = false;
  load();
}

// ------------------------------------------------------------------------------------------------ coverage

/** @param {string} code */
function stateOf(code) {
  return STATES[code] ?? UNKNOWN_STATE;
}

/**
 * A day's quarantined lines, under whichever name the answer gives them.
 * @param {HeatmapStore} store
 * @param {number} i
 */
function rejectedLinesOf(store, i) {
  return (store.rejected ?? store.rejectedLines)?.[i] ?? 0;
}

function stateCounts() {
  const counts = Object.fromEntries(Object.keys(STATES).map((code) => [code, 0]));
  for (const s of known(view.coverage).stores)
    for (const code of s.states) if (code in counts) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

function renderTotals() {
  const { totals: t, stores, from, to } = known(view.coverage);
  // complete + partial, as the coverage report counts "with data" (a rejected day is expected and has none).
  const withData = stores.reduce((n, s) => n + s.daysWithData, 0);
  const pct = coverageOf(withData, t.expectedStoreDays);
  const rejected = stateCounts().r ?? 0;
  const cards = [
    ['', int.format(t.expectedStoreDays), 'Días-tienda esperados'],
    ['', int.format(withData), 'Con datos'],
    [t.missingStoreDays > 0 ? 'missing' : 'ok', int.format(t.missingStoreDays), 'Faltantes'],
    [t.partialStoreDays > 0 ? 'partial' : 'ok', int.format(t.partialStoreDays), 'Parciales'],
    ...(rejected > 0 ? [['missing', int.format(rejected), 'Rechazados']] : []),
    [withData < t.expectedStoreDays ? '' : 'ok', `${oneDecimal.format(pct)} %`, `Cobertura del ${from} al ${to}`],
  ];
  $('totals').innerHTML = cards
    .map(
      ([cls, value, label]) =>
        `<div class="card ${cls}"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div></div>`,
    )
    .join('');
}

function renderLegend() {
  const counts = stateCounts();
  $('legend').innerHTML = Object.entries(STATES)
    .map(
      ([code, st]) =>
        `<li data-state="${code}"><span class="swatch s-${code}" aria-hidden="true"></span>${esc(st.legend)} <strong>${int.format(counts[code] ?? 0)}</strong></li>`,
    )
    .join('');
}

/** @param {number} r @param {number} i */
function cellText(r, i) {
  const { stores, from } = known(view.coverage);
  const s = known(stores[r]);
  const rejected = rejectedLinesOf(s, i);
  return [
    `${s.store} ${s.name}`,
    dayAt(from, i),
    stateOf(known(s.states[i])).name,
    plural(known(s.lines[i]), 'línea', 'líneas'),
    `${money.format(known(s.totalUsd[i]))} USD`,
    ...(rejected > 0 ? [plural(rejected, 'línea rechazada', 'líneas rechazadas')] : []),
  ].join(' · ');
}

/** What identifies the drawn grid: the same key means the cells can be updated in place (focus stays put). */
function heatmapKey() {
  const { from, days, stores } = known(view.coverage);
  return `${from}|${days}|${stores.map((s) => s.store).join(',')}`;
}

function renderHeatmap() {
  const { stores, from, days } = known(view.coverage);
  const el = $('heatmap');
  view.active = { r: Math.min(view.active.r, stores.length - 1), i: Math.min(view.active.i, days - 1) };
  if (el.dataset.key === heatmapKey()) return updateHeatmap();
  const focused = el.contains(document.activeElement);
  const rows = [`<div class="hm-axis" aria-hidden="true"><div class="hm-corner"></div>${axisLabels(from, days)}</div>`];
  stores.forEach((s, r) => {
    let cells = '';
    for (let i = 0; i < days; i++) {
      const stop = r === view.active.r && i === view.active.i ? '0' : '-1';
      cells += `<i class="c s-${esc(s.states[i])}" role="gridcell" tabindex="${stop}" data-i="${i}" aria-label="${esc(cellText(r, i))}"></i>`;
    }
    rows.push(
      `<div class="hm-row" role="row" data-r="${r}"><div class="hm-label" role="rowheader" title="${esc(`${s.store} ${s.name}`)}"><span class="id">${esc(s.store)}</span> <span class="name">${esc(s.name)}</span></div>${cells}</div>`,
    );
  });
  el.classList.toggle('dense', days > DENSE_DAYS);
  el.style.setProperty('--days', String(days));
  el.setAttribute('aria-rowcount', String(stores.length));
  el.setAttribute('aria-colcount', String(days + 1));
  el.innerHTML = rows.join('');
  // Placed through the CSSOM: the page's CSP refuses inline style attributes.
  /** @type {NodeListOf<HTMLElement>} */
  const labels = el.querySelectorAll('.hm-axis span');
  for (const label of labels) label.style.gridColumn = `${Number(label.dataset.i) + 2} / span ${label.dataset.span}`;
  el.dataset.key = heatmapKey();
  if (focused) cellAt(view.active.r, view.active.i)?.focus();
  else hideTooltip();
}

/** New states on the same grid (a live refresh): classes and labels change, the focused cell and tooltip stay. */
function updateHeatmap() {
  const { stores } = known(view.coverage);
  stores.forEach((s, r) => {
    const row = known(rowAt(r));
    for (let i = 0; i < s.states.length; i++) {
      const cell = known(row.children[i + 1]);
      const cls = `c s-${s.states[i]}`;
      if (cell.className !== cls) cell.className = cls;
      const label = cellText(r, i);
      if (cell.getAttribute('aria-label') !== label) cell.setAttribute('aria-label', label);
    }
  });
  const tip = $('tooltip');
  if (!tip.hidden && tip.dataset.cell) {
    const [r, i] = /** @type {[number, number]} */ (tip.dataset.cell.split(':').map(Number));
    if (r < stores.length) tip.textContent = cellText(r, i);
  }
}

/**
 * Month starts along the top, each label spanning the days up to the next one so labels never overlap. The
 * window's first day is labelled too unless a month starts within its first week.
 * @param {string} from
 * @param {number} days
 */
function axisLabels(from, days) {
  /** @type {number[]} */
  const starts = [];
  for (let i = 0; i < days; i++) {
    const day = dayAt(from, i);
    if (
      day.endsWith('-01') ||
      (i === 0 && ![...Array(Math.min(7, days)).keys()].some((k) => dayAt(from, k).endsWith('-01')))
    )
      starts.push(i);
  }
  return starts
    .map((i, k) => {
      const day = dayAt(from, i);
      const month = MONTHS[Number(day.slice(5, 7)) - 1];
      const text = day.endsWith('-01')
        ? `${month}${day.slice(5, 7) === '01' || i < 7 ? ` ${day.slice(0, 4)}` : ''}`
        : `${Number(day.slice(8))} ${month} ${day.slice(0, 4)}`;
      const span = (starts[k + 1] ?? days) - i;
      return `<span data-i="${i}" data-span="${span}">${esc(text)}</span>`;
    })
    .join('');
}

/**
 * @param {number} r
 * @returns {HTMLElement | null}
 */
function rowAt(r) {
  return $('heatmap').querySelector(`.hm-row[data-r="${r}"]`);
}

/**
 * @param {number} r
 * @param {number} i
 */
function cellAt(r, i) {
  return /** @type {HTMLElement | null} */ (rowAt(r)?.children[i + 1] ?? null);
}

/** @param {HTMLElement} cell */
function cellPosition(cell) {
  return { r: Number(known(cell.parentElement).dataset.r), i: Number(cell.dataset.i) };
}

/**
 * Moves the grid's single Tab stop to the cell.
 * @param {HTMLElement} cell
 */
function setActiveCell(cell) {
  const { r, i } = cellPosition(cell);
  if (r === view.active.r && i === view.active.i && cell.tabIndex === 0) return;
  const previous = cellAt(view.active.r, view.active.i);
  if (previous) previous.tabIndex = -1;
  cell.tabIndex = 0;
  view.active = { r, i };
}

/**
 * @param {HTMLElement} cell
 * @param {{ x: number, y: number }} [at] the pointer, when it is over the cell
 */
function showTooltip(cell, at) {
  const { r, i } = cellPosition(cell);
  const tip = $('tooltip');
  tip.textContent = cellText(r, i);
  tip.dataset.cell = `${r}:${i}`;
  tip.dataset.anchor = at ? 'pointer' : 'cell';
  tip.hidden = false;
  placeTooltip(cell, at);
}

/**
 * Below the pointer, or below the cell (above it near the bottom of the screen), always inside the viewport.
 * @param {HTMLElement} cell
 * @param {{ x: number, y: number }} [at]
 */
function placeTooltip(cell, at) {
  const tip = $('tooltip');
  const box = cell.getBoundingClientRect();
  const x = at ? at.x : box.left + box.width / 2;
  const below = at ? at.y + 16 : box.bottom + 6;
  const above = (at ? at.y - 8 : box.top - 6) - tip.offsetHeight;
  const left = Math.min(Math.max(8, x - (at ? -14 : tip.offsetWidth / 2)), window.innerWidth - tip.offsetWidth - 8);
  tip.style.left = `${Math.max(8, left)}px`;
  tip.style.top = `${below + tip.offsetHeight > window.innerHeight - 8 && above > 8 ? above : below}px`;
}

function hideTooltip() {
  const tip = $('tooltip');
  tip.hidden = true;
  delete tip.dataset.cell;
}

/** @returns {HTMLElement | null} */
function focusedCell() {
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  return active?.classList?.contains('c') && $('heatmap').contains(active) ? active : null;
}

/**
 * The element an event happened on: the page listens on elements only.
 * @param {Event} event
 */
const targetOf = (event) => /** @type {Element} */ (event.target);

/** @param {MouseEvent} event */
function onHeatmapHover(event) {
  const cell = /** @type {HTMLElement | null | undefined} */ (targetOf(event).closest?.('.c'));
  if (cell) return showTooltip(cell, { x: event.clientX, y: event.clientY });
  const focused = focusedCell();
  if (focused) showTooltip(focused);
  else hideTooltip();
}

function onHeatmapLeave() {
  const focused = focusedCell();
  if (focused) showTooltip(focused);
  else hideTooltip();
}

/** @param {FocusEvent} event */
function onHeatmapFocus(event) {
  /** @type {HTMLElement | null} */
  const cell = targetOf(event).closest('.c');
  if (!cell) return;
  setActiveCell(cell);
  showTooltip(cell);
}

/** @param {FocusEvent} event */
function onHeatmapBlur(event) {
  if (!event.relatedTarget || !$('heatmap').contains(/** @type {Node} */ (event.relatedTarget))) hideTooltip();
}

/**
 * Arrows move a day or a store; Home/End the first or last day (with Ctrl, of the first or last store); PageUp/PageDown a week.
 * @param {KeyboardEvent} event
 */
function onHeatmapKey(event) {
  /** @type {HTMLElement | null} */
  const cell = targetOf(event).closest('.c');
  if (!cell) return;
  if (event.key === 'Escape') return hideTooltip();
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    const { r, i } = cellPosition(cell);
    return showDayDetail(r, i);
  }
  const rows = known(view.coverage).stores.length;
  const days = known(view.coverage).days;
  let { r, i } = cellPosition(cell);
  switch (event.key) {
    case 'ArrowLeft':
      i--;
      break;
    case 'ArrowRight':
      i++;
      break;
    case 'ArrowUp':
      r--;
      break;
    case 'ArrowDown':
      r++;
      break;
    case 'PageUp':
      i -= 7;
      break;
    case 'PageDown':
      i += 7;
      break;
    case 'Home':
      i = 0;
      if (event.ctrlKey) r = 0;
      break;
    case 'End':
      i = days - 1;
      if (event.ctrlKey) r = rows - 1;
      break;
    default:
      return;
  }
  event.preventDefault();
  const next = known(cellAt(Math.min(Math.max(r, 0), rows - 1), Math.min(Math.max(i, 0), days - 1)));
  setActiveCell(next);
  next.focus({ preventScroll: true });
  reveal(next);
}

/**
 * Scrolls the cell into sight: clear of the fixed store names sideways, inside the window up and down.
 * @param {HTMLElement} cell
 */
function reveal(cell) {
  const scroller = $('hm-scroll');
  const box = cell.getBoundingClientRect();
  const port = scroller.getBoundingClientRect();
  // The first day sits one column gap right of the names.
  const clear = known(known(cell.parentElement).firstElementChild).getBoundingClientRect().right + 1;
  if (box.left < clear) scroller.scrollLeft -= clear - box.left;
  else if (box.right > port.right) scroller.scrollLeft += box.right - port.right;
  if (box.top < 0) window.scrollBy(0, box.top - 8);
  else if (box.bottom > window.innerHeight) window.scrollBy(0, box.bottom - window.innerHeight + 8);
  showTooltip(cell);
}

/**
 * A tap focuses the cell (and so shows its tooltip) on browsers that do not focus on touch.
 * @param {MouseEvent} event
 */
function onHeatmapClick(event) {
  /** @type {HTMLElement | null} */
  const cell = targetOf(event).closest('.c');
  if (!cell) return;
  if (document.activeElement !== cell) cell.focus();
  const { r, i } = cellPosition(cell);
  showDayDetail(r, i);
}

function onScroll() {
  const tip = $('tooltip');
  if (tip.hidden) return;
  const focused = focusedCell();
  if (tip.dataset.anchor === 'cell' && focused) placeTooltip(focused);
  else hideTooltip();
}

function renderSummary() {
  const { stores, totals } = known(view.coverage);
  const sorted = [...stores].sort((a, b) => a.coveragePct - b.coveragePct || a.store.localeCompare(b.store));
  known($('summary').tBodies[0]).innerHTML = sorted
    .map(
      (s) => `<tr>
        <th scope="row">${esc(s.store)}</th>
        <td>${esc(s.name)}${s.isNew ? '<span class="new">nueva</span>' : ''}</td>
        <td class="num">${int.format(s.expectedDays)}</td>
        <td class="num">${int.format(s.daysWithData)}</td>
        <td class="num">${int.format(s.missingDays)}</td>
        <td class="num">${int.format(s.partialDays)}</td>
        <td class="num">${oneDecimal.format(s.coveragePct)} %</td>
        <td><span class="badge p-${esc(s.priority)}">${esc(s.priority)}</span></td>
      </tr>`,
    )
    .join('');
  const withData = stores.reduce((n, s) => n + s.daysWithData, 0);
  known($('summary').tFoot).innerHTML =
    `<tr><th scope="row">Total</th><td>${plural(stores.length, 'tienda', 'tiendas')}</td>
    <td class="num">${int.format(totals.expectedStoreDays)}</td><td class="num">${int.format(withData)}</td>
    <td class="num">${int.format(totals.missingStoreDays)}</td><td class="num">${int.format(totals.partialStoreDays)}</td>
    <td class="num">${oneDecimal.format(coverageOf(withData, totals.expectedStoreDays))} %</td><td></td></tr>`;
}

/** @param {string[]} items */
function listEs(items) {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} y ${items.at(-1)}`;
}

function renderPatterns() {
  const { patterns, stores, from } = known(view.coverage);
  const lines = [
    ...patterns.commonGaps.map(
      (g) =>
        `Hueco común del ${g.from} al ${g.to}: ${g.days} días faltantes en ${g.stores.length} de ${g.expectedStores} tiendas`,
    ),
    ...(patterns.closedDays.length > 0
      ? [`Días cerrados de la cadena: ${listEs(patterns.closedDays)} (no se esperan ventas)`]
      : []),
    ...stores.flatMap((s) => {
      const empty = [...s.states].flatMap((code, i) => (code === 'e' ? [dayAt(from, i)] : []));
      return empty.length > 0 ? [`${s.store}: KLK no tuvo ventas el ${listEs(empty)} (no se esperan ventas)`] : [];
    }),
    ...stores
      .filter((s) => s.isNew)
      .map(
        (s) =>
          `Tienda nueva: ${s.store} (${s.name}), ${s.firstSale ? `primera venta ${s.firstSale}` : 'sin ventas registradas'}`,
      ),
  ];
  $('patterns').innerHTML = (lines.length > 0 ? lines : ['Ninguno']).map((l) => `<li>${esc(l)}</li>`).join('');
}

// ------------------------------------------------------------------------------------------------ plan and backfill

/** @param {PlanTotals} t */
function planSizeText(t) {
  return `${plural(t.requests, 'petición', 'peticiones')}, ${int.format(t.storeDays)} días-tienda pedidos para ${int.format(t.missingStoreDays)} faltantes o parciales (x${twoDecimals.format(t.overFetchRatio)}), ${duration(t.estimatedSeconds)} con el backfill en paralelo.`;
}

function renderPlan() {
  const plan = known(view.plan);
  const empty = plan.phases.length === 0;
  // Rejected days are not complete, but the plan leaves them alone until KLK's lines change.
  $('plan-summary').textContent = empty
    ? 'Nada que recuperar: ningún día esperado falta ni está parcial.'
    : planSizeText(plan.totals);
  $('plan-phases').innerHTML = plan.phases
    .map((phase) => {
      const days = phase.steps.reduce((n, s) => n + s.storeDays, 0);
      const seconds = phase.steps.reduce((n, s) => n + s.estimatedSeconds, 0);
      const steps = phase.steps
        .map((s) => {
          const stores =
            s.stores.length > 4 ? `${s.stores.slice(0, 4).join(' ')} (+${s.stores.length - 4})` : s.stores.join(' ');
          return `<tr><td>${esc(s.from.slice(0, 10))}</td><td>${esc(s.to.slice(0, 10))}</td><td title="${esc(s.stores.join(' '))}">${esc(stores)}</td>
            <td class="num">${int.format(s.storeDays)}</td><td class="num">${int.format(s.requests)}</td><td class="num">${duration(s.estimatedSeconds)}</td></tr>`;
        })
        .join('');
      return `<details class="phase"><summary>Fase ${phase.phase}: ${esc(phase.title)} · ${plural(phase.steps.length, 'paso', 'pasos')} · ${int.format(days)} días-tienda · ${duration(seconds)}</summary>
        <div class="table-scroll"><table class="table"><thead><tr><th scope="col">Desde</th><th scope="col">Hasta</th><th scope="col">Tiendas</th><th scope="col" class="num">Días-tienda</th><th scope="col" class="num">Peticiones</th><th scope="col" class="num">Estimado</th></tr></thead>
        <tbody>${steps}</tbody></table></div></details>`;
    })
    .join('');
  $('run').disabled = empty || view.running !== null;
}

/** @param {string} text */
function runMessage(text) {
  $('run-message').textContent = text;
}

/** @param {Progress} p */
function showProgress(p) {
  const bar = $('progress-bar');
  const share = p.storeDays > 0 ? p.storeDaysDone / p.storeDays : 0;
  $('progress-fill').style.width = `${(share * 100).toFixed(1)}%`;
  if (p.storeDays > 0) {
    bar.setAttribute('aria-valuemax', String(p.storeDays));
    bar.setAttribute('aria-valuenow', String(p.storeDaysDone));
    bar.setAttribute(
      'aria-valuetext',
      `${int.format(p.storeDaysDone)} de ${int.format(p.storeDays)} días-tienda (${Math.floor(share * 100)} %)`,
    );
  } else {
    // Not sized yet: an indeterminate bar has no value.
    bar.removeAttribute('aria-valuenow');
    bar.setAttribute('aria-valuetext', 'preparando el backfill');
  }
  const parts = [
    `${int.format(p.storeDaysDone)} / ${int.format(p.storeDays)} días-tienda`,
    plural(p.lines, 'línea', 'líneas'),
    p.linesPerSecond === null ? null : `${int.format(p.linesPerSecond)} líneas/s`,
    p.etaSeconds === null ? null : `ETA ${duration(p.etaSeconds)}`,
    p.chunks.failed > 0 ? plural(p.chunks.failed, 'bloque fallido', 'bloques fallidos') : null,
  ];
  $('progress-text').textContent = parts.filter(Boolean).join(' · ');
  if (Date.now() - view.lastLiveRefresh > LIVE_REFRESH_MS) {
    view.lastLiveRefresh = Date.now();
    loadCoverage().catch(() => {});
  }
}

/** A complete run's bar is full, whatever the last progress event said. */
function fillProgressBar() {
  const bar = $('progress-bar');
  $('progress-fill').style.width = '100%';
  const max = bar.getAttribute('aria-valuemax');
  if (max) {
    bar.setAttribute('aria-valuenow', max);
    bar.setAttribute('aria-valuetext', `${int.format(Number(max))} de ${int.format(Number(max))} días-tienda (100 %)`);
  }
}

/** @param {number} id @param {BackfillEnd} s */
function finishedMessage(id, s) {
  if (!s.before) return `Backfill #${id} ${RUN_STATUS[s.status] ?? s.status}: npx ventas backfill --resume lo termina.`;
  const status = s.status === 'complete' ? 'completo' : (RUN_STATUS[s.status] ?? s.status);
  const failed =
    s.chunks.failed > 0
      ? ` Quedan ${plural(s.chunks.failed, 'bloque fallido', 'bloques fallidos')}: npx ventas backfill --resume los reintenta.`
      : '';
  return (
    `Backfill #${id} ${status}: ${int.format(s.chunks.done)} de ${int.format(s.chunks.total)} bloques, ` +
    `${plural(s.rowsInserted, 'fila nueva', 'filas nuevas')} en ${oneDecimal.format(s.seconds)} s. ` +
    `Faltantes ${int.format(s.before.missingStoreDays)} → ${int.format(s.after.missingStoreDays)}, ` +
    `parciales ${int.format(s.before.partialStoreDays)} → ${int.format(s.after.partialStoreDays)}.${failed}`
  );
}

/**
 * Follows a backfill's events until its `done`, then reloads everything and tells the other tabs.
 * @param {number} id
 */
function follow(id) {
  if (view.running === id) return;
  view.running = id;
  $('run').disabled = true;
  $('progress').hidden = false;
  $('breaker').hidden = true;
  $('progress-fill').style.width = '0%';
  $('progress-bar').removeAttribute('aria-valuenow');
  runMessage(`Backfill #${id} en curso…`);
  const events = new EventSource(`/api/runs/${id}/events`);
  events.addEventListener('progress', (e) => showProgress(JSON.parse(e.data)));
  events.addEventListener('breaker', (e) => {
    const b = JSON.parse(e.data);
    $('breaker').hidden = b.state !== 'open';
    $('breaker').textContent = b.message;
  });
  events.addEventListener('done', async (e) => {
    events.close();
    const summary = JSON.parse(e.data);
    if (summary.status === 'complete') fillProgressBar();
    $('breaker').hidden = true;
    view.running = null;
    view.settled.add(id);
    runMessage(finishedMessage(id, summary));
    channel?.postMessage({ type: 'finished', runId: id });
    await load();
    await loadRuns();
  });
}

/** Shows the plan's size from a fresh GET /api/plan and asks; only a confirmation posts the backfill. */
async function confirmBackfill() {
  $('run').disabled = true;
  runMessage('Calculando el plan…');
  /** @type {Plan} */
  let plan;
  try {
    plan = /** @type {Plan} */ (await api(`/api/plan?${windowQuery()}`));
  } catch (error) {
    $('run').disabled = view.running !== null;
    return runMessage(messageOf(error));
  }
  view.plan = plan;
  renderPlan();
  if (plan.phases.length === 0) return runMessage('Nada que recuperar: no se envió nada.');
  runMessage('');
  const t = plan.totals;
  const stores =
    view.stores.length === 0
      ? `todas las tiendas (${view.coverage?.stores.length ?? ''})`
      : plural(view.stores.length, 'tienda', 'tiendas');
  $('confirm-window').textContent = `Del ${plan.from} al ${plan.to}, ${stores}.`;
  $('confirm-size').innerHTML = [
    ['Peticiones a KLK', int.format(t.requests)],
    [
      'Días-tienda pedidos',
      `${int.format(t.storeDays)} (para ${int.format(t.missingStoreDays)} faltantes o parciales, x${twoDecimals.format(t.overFetchRatio)})`,
    ],
    ['Tiempo estimado', `${duration(t.estimatedSeconds)} con el backfill en paralelo`],
  ]
    .map(([term, value]) => `<div><dt>${esc(term)}</dt><dd>${esc(value)}</dd></div>`)
    .join('');
  const dialog = $('confirm');
  dialog.returnValue = '';
  dialog.showModal();
}

function onConfirmClosed() {
  if ($('confirm').returnValue === 'run') return startBackfill();
  runMessage('Backfill cancelado: no se envió nada.');
  $('run').disabled = view.running !== null || (view.plan?.phases.length ?? 0) === 0;
  if (!$('run').disabled) $('run').focus();
}

/**
 * A POST that changes something (the token, when one is asked for, travels in the page's HttpOnly cookie).
 * @param {string} path
 * @param {object} [body]
 */
async function post(path, body) {
  return api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

/**
 * A 401: the login form is shown (by api()); true when it was that.
 * @param {unknown} error
 */
function askForToken(error) {
  if (statusOf(error) !== 401) return false;
  runMessage('Este tablero pide el token (VENTAS_API_TOKEN): escríbalo arriba y pulse de nuevo.');
  return true;
}

function askForLogin() {
  const form = $('login');
  if (!form.hidden) return;
  form.hidden = false;
  $('login-token').focus();
}

/**
 * Trades the typed token for the server's HttpOnly cookie, then loads what the 401s held back.
 * @param {SubmitEvent} event
 */
async function login(event) {
  event.preventDefault();
  $('login-message').textContent = '';
  try {
    await api('/api/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: $('login-token').value }),
    });
  } catch (error) {
    $('login-message').textContent = messageOf(error);
    $('login-token').select();
    return;
  }
  $('login-token').value = '';
  $('login').hidden = true;
  await load();
  await loadRuns();
  if (view.daemon) await loadDaemon();
}

async function startBackfill() {
  /** @type {{ from: string, to: string, stores?: string[] }} */
  const body = { from: view.from, to: view.to };
  if (view.stores.length > 0) body.stores = view.stores;
  $('run').disabled = true;
  runMessage('Planificando y preparando el backfill…');
  try {
    const { runId } = /** @type {{ runId: number }} */ (await post('/api/backfill', body));
    follow(runId);
    channel?.postMessage({ type: 'started', runId });
    loadRuns();
  } catch (error) {
    $('run').disabled = false;
    if (askForToken(error)) {
      // said
    } else if (statusOf(error) === 409) {
      runMessage(messageOf(error));
      const runs = await loadRuns();
      const running = runs.find((r) => r.kind === 'backfill' && r.status === 'running');
      if (running) follow(running.id);
    } else {
      runMessage(messageOf(error));
    }
  }
}

// ------------------------------------------------------------------------------------------------ other tabs and runs elsewhere

/** @param {Run[]} runs */
function runsSignature(runs) {
  return runs.map((r) => `${r.kind}${r.id}:${r.status}`).join(',');
}

/**
 * Another tab started or finished a backfill.
 * @param {MessageEvent<TabMessage | null>} event
 */
function onChannelMessage({ data }) {
  if (data?.type === 'started' && view.running === null) {
    follow(data.runId);
    loadRuns();
  } else if (data?.type === 'finished' && view.running !== data.runId && !view.settled.has(data.runId)) {
    view.settled.add(data.runId);
    load().then(loadRuns);
  }
}

/** A run started or ended anywhere (the CLI, the daemon, a tab of another browser): follow it or redraw. */
async function pollRuns() {
  if (document.hidden) return;
  /** @type {Run[]} */
  let runs;
  try {
    ({ runs } = /** @type {{ runs: Run[] }} */ (await api('/api/runs')));
  } catch {
    return; // The next poll or a reload shows the error; a blip should not cover the page.
  }
  const signature = runsSignature(runs);
  if (signature === view.runsSignature) return;
  view.runsSignature = signature;
  renderRuns(runs);
  const running = runs.find((r) => r.kind === 'backfill' && r.status === 'running');
  if (running && view.running === null) return follow(running.id);
  if (view.running === null) await load();
}

// ------------------------------------------------------------------------------------------------ daemon and incidents

/**
 * An instant as timeHtml writes it, or what stands for its absence.
 * @param {string | null} iso
 * @param {string} absent
 */
function timeOr(iso, absent) {
  return iso ? timeHtml(iso) : esc(absent);
}

/**
 * `<div><dt>…</dt><dd>…</dd></div>` for a fact list; `html` is already escaped.
 * @param {string} term
 * @param {string} html
 * @param {string} [key] names the fact for tests and styles
 */
function fact(term, html, key = '') {
  return `<div${key ? ` data-fact="${esc(key)}"` : ''}><dt>${esc(term)}</dt><dd>${html}</dd></div>`;
}

/** Reads the daemon's status and incidents; a 404 means this server has no daemon after all. */
async function loadDaemon() {
  try {
    const [status, { incidents }] = await Promise.all([
      /** @type {Promise<DaemonStatus>} */ (api('/api/daemon')),
      /** @type {Promise<{ incidents: Incident[] }>} */ (api('/api/incidents')),
    ]);
    $('daemon-area').hidden = false;
    $('daemon-error').textContent = '';
    renderDaemon(status);
    renderIncidents(incidents);
  } catch (error) {
    if (statusOf(error) === 404) {
      view.daemon = false;
      $('daemon-area').hidden = true;
    } else if (!$('daemon-area').hidden) {
      // The last figures stay, with why they are not refreshed.
      $('daemon-error').textContent = `No se pudo leer el estado del daemon: ${messageOf(error)}`;
    }
  }
}

function pollDaemon() {
  if (view.daemon && !document.hidden) loadDaemon();
}

/**
 * Who this process is to the daemon, in words (the badge's text says it, not only its colour).
 * @param {DaemonStatus} s
 */
function daemonRole(s) {
  if (s.isLeader) return { cls: 'st-success', text: 'Lidera este proceso' };
  if (s.leader) return { cls: 'st-cancelled', text: 'En espera: lidera otro proceso' };
  return { cls: 'st-failed', text: 'Sin líder' };
}

/** @param {DaemonStatus} s */
function renderDaemon(s) {
  const role = daemonRole(s);
  $('daemon-state').innerHTML = `<span class="badge ${role.cls}">${esc(role.text)}</span>`;
  const leader = s.leader
    ? `${esc(s.leader.holder)}${s.isLeader ? ' (este proceso)' : ''}, desde ${timeHtml(s.leader.since)}`
    : 'ninguno: nadie sincroniza ni recupera ahora';
  const b = s.budget;
  $('daemon-facts').innerHTML = [
    fact('Líder', leader, 'leader'),
    fact('Última sincronización', timeOr(s.lastSync, 'ninguna todavía'), 'last-sync'),
    fact('Próxima sincronización', timeOr(s.nextSync, 'sin programar'), 'next-sync'),
    fact('Última recuperación nocturna', timeOr(s.lastRecovery, 'ninguna todavía'), 'last-recovery'),
    fact('Próxima recuperación nocturna', timeOr(s.nextRecovery, 'sin programar'), 'next-recovery'),
    fact('Pendientes de recuperar', esc(plural(s.backlog, 'día-tienda', 'días-tienda')), 'backlog'),
    fact(
      'Presupuesto de esta hora',
      esc(
        `${int.format(b.usedThisHour)} de ${plural(b.maxRequestsPerHour, 'petición', 'peticiones')} usadas · quedan ${int.format(b.left)}`,
      ),
      'budget',
    ),
    fact('Fin del último ciclo', timeOr(s.lastCycleEndedAt, 'ninguno todavía'), 'last-cycle'),
  ].join('');
}

/**
 * `2026-01-05`, `2026-01-05 y 2026-01-07`, `del 2026-01-05 al 2026-01-20 (9 días)`.
 * @param {string[]} dates oldest first
 */
function incidentDates(dates) {
  if (dates.length <= 3) return listEs(dates);
  return `del ${dates[0]} al ${dates.at(-1)} (${plural(dates.length, 'día', 'días')})`;
}

/** @param {Incident} i */
function incidentHtml(i) {
  const open = i.resolvedAt === null;
  const where = [i.store ?? 'toda la cadena', ...(i.dates.length > 0 ? [incidentDates(i.dates)] : [])].join(' · ');
  const when = open
    ? `abierto desde ${timeHtml(i.openedAt)}`
    : `abierto ${timeHtml(i.openedAt)}, resuelto ${timeHtml(i.resolvedAt ?? '')}`;
  return `<li class="incident" data-kind="${esc(i.kind)}" data-id="${i.id}">
    <div class="incident-head"><span class="badge ${open ? 'st-failed' : 'st-cancelled'}">${open ? 'abierto' : 'resuelto'}</span>
    <strong>${esc(INCIDENT_KINDS[i.kind] ?? i.kind)}</strong> <span class="incident-where">${esc(where)}</span></div>
    <p class="incident-summary">${esc(i.summary)}</p>
    <p class="hint when">#${i.id} · ${when}</p>
  </li>`;
}

/** @param {Incident[]} incidents newest first */
function renderIncidents(incidents) {
  const open = incidents.filter((i) => i.resolvedAt === null);
  const resolved = incidents.filter((i) => i.resolvedAt !== null);
  $('incidents-title').textContent = open.length > 0 ? `Incidentes abiertos: ${int.format(open.length)}` : 'Incidentes';
  $('incidents-open').innerHTML =
    open.length > 0 ? open.map(incidentHtml).join('') : '<li class="hint">Ningún incidente abierto.</li>';
  $('incidents-resolved-box').hidden = resolved.length === 0;
  $('incidents-resolved-summary').textContent = `Resueltos recientemente (${int.format(resolved.length)})`;
  $('incidents-resolved').innerHTML = resolved.map(incidentHtml).join('');
}

// ------------------------------------------------------------------------------------------------ why a store-day is not complete

/**
 * Asks the server why the cell's store-day is not complete and shows it under the map.
 * @param {number} r
 * @param {number} i
 */
async function showDayDetail(r, i) {
  const { stores, from } = known(view.coverage);
  const s = known(stores[r]);
  const day = dayAt(from, i);
  const key = `${s.store}/${day}`;
  view.detail = key;
  const box = $('day-detail');
  box.hidden = false;
  $('day-detail-title').textContent = `${s.store} ${s.name} · ${day}`;
  $('day-detail-facts').innerHTML = fact('Estado', esc(`${stateOf(known(s.states[i])).name} · leyendo…`));
  try {
    const why = /** @type {StoreDayWhy} */ (
      await api(`/api/store-days/${encodeURIComponent(s.store)}/${encodeURIComponent(day)}`)
    );
    if (view.detail === key) renderDayDetail(why);
  } catch (error) {
    if (view.detail === key) $('day-detail-facts').innerHTML = fact('Error', esc(messageOf(error)));
  }
}

/** @param {LastAttempt} a */
function attemptHtml(a) {
  const span =
    a.horaDesde && a.horaHasta
      ? `de ${a.horaDesde.slice(0, 5)} a ${a.horaHasta.slice(0, 5)}`
      : a.dayFrom === a.dayTo
        ? 'el día entero'
        : `del ${a.dayFrom} al ${a.dayTo}`;
  const outcome =
    a.outcome === 'ok'
      ? `KLK respondió ${plural(a.lines, 'línea', 'líneas')}`
      : (REQUEST_OUTCOMES[a.outcome] ?? a.outcome);
  const run = a.run
    ? `${RUN_TYPES[a.run.type] ?? a.run.type} #${a.run.id}${a.run.command ? ` (${a.run.command})` : ''}, ${RUN_STATUS[a.run.status] ?? a.run.status}`
    : 'fuera de una ejecución registrada';
  return `${timeHtml(a.at)} · ${esc(`${span}: ${outcome}`)}<br><span class="hint">${esc(run)}</span>`;
}

/** @param {StoreDayWhy} w */
function renderDayDetail(w) {
  const a = w.lastAttempt;
  const lines =
    w.klkLines === null
      ? plural(w.lines, 'línea', 'líneas')
      : `${plural(w.lines, 'línea', 'líneas')} (KLK informó ${int.format(w.klkLines)})`;
  const rejected = w.rejectedLines > 0 ? ` · ${plural(w.rejectedLines, 'línea rechazada', 'líneas rechazadas')}` : '';
  const failed = a && (a.outcome === 'failed' || a.outcome === 'timeout');
  const next = `${w.next.at ? `${timeHtml(w.next.at)} · ` : ''}${esc(w.next.summary)}`;
  $('day-detail-facts').innerHTML = [
    fact('Estado', esc(`${STATE_NAMES[w.state] ?? w.state} · ${lines}${rejected}`), 'state'),
    fact('Último intento', a ? attemptHtml(a) : 'ninguno registrado', 'last-attempt'),
    ...(failed
      ? [fact('Error', `<span class="error-text">${esc(a.error ?? REQUEST_OUTCOMES[a.outcome])}</span>`, 'error')]
      : []),
    ...(w.healAttempts
      ? [
          fact(
            'Intentos del daemon',
            `${esc(`${int.format(w.healAttempts.count)} de ${int.format(w.healAttempts.max)}`)}, el último ${timeHtml(w.healAttempts.lastAt)}`,
            'heal-attempts',
          ),
        ]
      : []),
    fact(w.next.reason === 'none' ? 'Qué falta' : 'Próximo intento', next, 'next'),
    ...(w.next.command ? [fact('A mano', `<code>${esc(w.next.command)}</code>`, 'command')] : []),
  ].join('');
}

function hideDayDetail() {
  view.detail = null;
  $('day-detail').hidden = true;
}

// ------------------------------------------------------------------------------------------------ history

/** @param {Run} r */
function runWindow(r) {
  if (!r.from) return '—';
  if (r.kind === 'backfill') return esc(`${r.from} a ${r.to}`);
  // ETL windows are the stores' local wall times.
  const from = r.from.slice(0, 16);
  const to = known(r.to).slice(0, 16);
  const [fromZone, toZone] = [wallTimeOffset(r.from), wallTimeOffset(known(r.to))];
  return esc(fromZone === toZone ? `${from} a ${to} ${toZone}` : `${from} ${fromZone} a ${to} ${toZone}`);
}

/** @param {Run[]} runs */
function renderRuns(runs) {
  $('runs-started').textContent = `Inicio (hora de ${zoneCity(timeZone())})`;
  const body = known($('runs').tBodies[0]);
  if (runs.length === 0) {
    body.innerHTML =
      '<tr role="row"><td role="cell" colspan="12" class="hint">Sin ejecuciones registradas todavía.</td></tr>';
    return;
  }
  /** @param {string} label @param {string} html */
  const cell = (label, html, cls = '') =>
    `<td role="cell" data-label="${esc(label)}"${cls ? ` class="${cls}"` : ''}>${html}</td>`;
  body.innerHTML = runs
    .map((r) => {
      const took = r.finishedAt ? elapsed(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : '—';
      const stores = r.stores.length > 3 ? plural(r.stores.length, 'tienda', 'tiendas') : r.stores.join(', ');
      const errors =
        r.errors.length > 0 ? `${esc(r.errors[0])}${r.errors.length > 1 ? ` (+${r.errors.length - 1})` : ''}` : '';
      const buttons = [
        r.resumable
          ? `<button type="button" class="small" data-action="resume" data-ref="${esc(r.ref)}">Reanudar</button>`
          : '',
        r.cancellable
          ? `<button type="button" class="small secondary" data-action="cancel" data-ref="${esc(r.ref)}">Cancelar</button>`
          : '',
      ].join(' ');
      const resume = `${buttons}${r.kind === 'backfill' && r.command ? ` <code>${esc(r.command)}</code>` : ''}`;
      return `<tr role="row" data-kind="${esc(r.kind)}" data-id="${r.id}" data-status="${esc(r.status)}">
        ${cell('#', String(r.id))}
        ${cell('Tipo', esc(RUN_TYPES[r.type] ?? r.type))}
        ${cell('Estado', `<span class="badge st-${esc(r.status)}">${esc(RUN_STATUS[r.status] ?? r.status)}</span>`)}
        ${cell('Inicio', timeHtml(r.startedAt), 'when')}
        ${cell('Duración', took, 'num')}
        ${cell('Ventana', runWindow(r))}
        ${cell('Tiendas', `<span title="${esc(r.stores.join(' '))}">${esc(stores)}</span>`)}
        ${cell('Días-tienda', r.storeDays === null ? '' : int.format(r.storeDays), 'num')}
        ${cell('Líneas', int.format(r.lines), 'num')}
        ${cell('Filas nuevas', int.format(r.rowsInserted), 'num')}
        ${cell('Errores', `<span title="${esc(r.errors.join('\n'))}">${errors}</span>`, 'errors')}
        ${cell('Acciones', resume, 'row-actions')}
      </tr>`;
    })
    .join('');
}

/**
 * The history's Reanudar and Cancelar buttons: a cancel is asked first, as it cannot be undone.
 * @param {MouseEvent} event
 */
async function onRunAction(event) {
  /** @type {HTMLButtonElement | null} */
  const button = targetOf(event).closest('button[data-action]');
  if (!button) return;
  // Both are on every button renderRuns writes.
  const { action, ref } = /** @type {{ action: string, ref: string }} */ (button.dataset);
  if (action === 'cancel' && !window.confirm(`¿Cancelar la ejecución ${ref}? Lo que quede pendiente no se ejecutará.`))
    return;
  button.disabled = true;
  try {
    if (action === 'resume') {
      const { runId } = /** @type {{ runId: number }} */ (await post(`/api/runs/${encodeURIComponent(ref)}/resume`));
      runMessage(`Reanudando el backfill #${runId}…`);
      follow(runId);
      channel?.postMessage({ type: 'started', runId });
    } else {
      await post(`/api/runs/${encodeURIComponent(ref)}/cancel`);
      runMessage(`Ejecución ${ref} cancelada: lo pendiente ya no se ejecutará.`);
      channel?.postMessage({ type: 'finished', runId: ref });
    }
  } catch (error) {
    if (!askForToken(error)) runMessage(messageOf(error));
  } finally {
    button.disabled = false;
    await loadRuns();
  }
}

// ------------------------------------------------------------------------------------------------ start

function start() {
  const params = new URLSearchParams(window.location.search);
  view.from = params.get('from') ?? '';
  view.to = params.get('to') ?? '';
  view.stores = (params.get('stores') ?? '').split(',').filter(Boolean);
  $('from').value = view.from;
  $('to').value = view.to;
  $('filters').addEventListener('submit', applyFilters);
  $('login').addEventListener('submit', login);
  $('store-list').addEventListener('change', updateStoreSummary);
  $('stores-all').addEventListener('click', () => {
    $('store-list')
      .querySelectorAll('input')
      .forEach((input) => (input.checked = true));
    updateStoreSummary();
  });
  $('stores-none').addEventListener('click', () => {
    $('store-list')
      .querySelectorAll('input')
      .forEach((input) => (input.checked = false));
    updateStoreSummary();
  });
  $('runs').addEventListener('click', onRunAction);
  const map = $('heatmap');
  map.addEventListener('mousemove', onHeatmapHover);
  map.addEventListener('mouseleave', onHeatmapLeave);
  map.addEventListener('focusin', onHeatmapFocus);
  map.addEventListener('focusout', onHeatmapBlur);
  map.addEventListener('keydown', onHeatmapKey);
  map.addEventListener('click', onHeatmapClick);
  document.addEventListener('scroll', onScroll, { capture: true, passive: true });
  window.addEventListener('resize', onScroll);
  $('run').addEventListener('click', confirmBackfill);
  $('day-detail-close').addEventListener('click', () => {
    hideDayDetail();
    cellAt(view.active.r, view.active.i)?.focus();
  });
  $('confirm').addEventListener('close', onConfirmClosed);
  channel?.addEventListener('message', onChannelMessage);
  window.setInterval(pollRuns, RUNS_POLL_MS);
  window.setInterval(pollDaemon, DAEMON_POLL_MS);
  document.addEventListener('visibilitychange', pollRuns);
  document.addEventListener('visibilitychange', pollDaemon);
  const health = loadHealth();
  load().then(async () => {
    // After the coverage: its stores' zone is the one the daemon's times are written in.
    await health;
    if (view.daemon) await loadDaemon();
    const runs = await loadRuns();
    const running = runs.find((r) => r.kind === 'backfill' && r.status === 'running');
    if (running) follow(running.id);
  });
}

start();
