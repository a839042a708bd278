/* global document, window, fetch, EventSource, URLSearchParams, sessionStorage, history */
// The dashboard page: reads /api/coverage, /api/plan and /api/runs, draws them, and runs the backfill through
// POST /api/backfill with live progress from /api/runs/ID/events. No framework, no build step.

const STATES = {
  c: { name: 'completo', legend: 'Completo' },
  p: { name: 'parcial', legend: 'Parcial' },
  m: { name: 'faltante', legend: 'Faltante' },
  e: { name: 'vacío', legend: 'Vacío (KLK sin ventas)' },
  x: { name: 'cerrado', legend: 'Cerrado' },
};
const RUN_TYPES = { backfill: 'Backfill', scheduled: 'ETL programado', manual: 'ETL manual', recovery: 'ETL de recuperación' };
const RUN_STATUS = {
  running: 'en curso',
  interrupted: 'interrumpido',
  complete: 'completo',
  partial: 'parcial',
  failed: 'fallido',
  success: 'éxito',
  skipped: 'omitido',
};
const MONTHS = ['Ene', 'Feb', 'Mar', 'Abr', 'May', 'Jun', 'Jul', 'Ago', 'Sep', 'Oct', 'Nov', 'Dic'];
const DAY_MS = 86_400_000;
/** While a backfill runs the map is redrawn at most this often, so it fills in as the chunks land. */
const LIVE_REFRESH_MS = 3_000;

const int = new Intl.NumberFormat('es-VE', { maximumFractionDigits: 0 });
const money = new Intl.NumberFormat('es-VE', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const oneDecimal = new Intl.NumberFormat('es-VE', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat('es-VE', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const $ = (id) => document.getElementById(id);
const esc = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** What the page shows: the applied filters and the last answers. `stores` empty means all. */
const view = { from: '', to: '', stores: [], coverage: null, plan: null, running: null, lastLiveRefresh: 0 };

async function api(path, options) {
  const res = await fetch(path, options);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(body.error || `HTTP ${res.status}`);
    error.status = res.status;
    throw error;
  }
  return body;
}

function windowQuery() {
  const q = new URLSearchParams();
  if (view.from) q.set('from', view.from);
  if (view.to) q.set('to', view.to);
  if (view.stores.length > 0) q.set('stores', view.stores.join(','));
  return q.toString();
}

function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message || '';
}

function dayAt(from, i) {
  return new Date(Date.parse(`${from}T00:00:00Z`) + i * DAY_MS).toISOString().slice(0, 10);
}

/** `~45 s`, `~12 min`, `~1 h 5 min`, as the terminal writes estimates. */
function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `~${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `~${minutes} min`;
  return `~${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

function elapsed(ms) {
  return ms < 60_000 ? `${oneDecimal.format(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function coverageOf(withData, expected) {
  return expected === 0 ? 100 : Math.round((withData * 1000) / expected) / 10;
}

// ------------------------------------------------------------------------------------------------ loading

async function loadCoverage() {
  const coverage = await api(`/api/coverage?${windowQuery()}`);
  view.coverage = coverage;
  view.from = coverage.from;
  view.to = coverage.to;
  renderTotals();
  renderLegend();
  renderHeatmap();
  renderSummary();
  renderPatterns();
}

async function load() {
  showError(null);
  // The address names the window asked for at once, so it can be shared or reloaded while the data arrives.
  history.replaceState(null, '', `?${windowQuery()}`);
  try {
    const [, plan] = await Promise.all([loadCoverage(), api(`/api/plan?${windowQuery()}`)]);
    view.plan = plan;
    renderPlan();
    renderFilters();
  } catch (error) {
    showError(error.message);
  }
}

async function loadRuns() {
  try {
    const { runs } = await api('/api/runs');
    renderRuns(runs);
    return runs;
  } catch (error) {
    showError(error.message);
    return [];
  }
}

async function loadHealth() {
  try {
    const health = await api('/api/health');
    $('health').textContent = health.database === 'pglite' ? 'base embebida (PGlite)' : 'PostgreSQL';
  } catch (error) {
    $('health').textContent = `sin conexión: ${error.message}`;
  }
}

// ------------------------------------------------------------------------------------------------ filters

function renderFilters() {
  $('from').value = view.from;
  $('to').value = view.to;
  const chosen = new Set(view.stores);
  $('store-list').innerHTML = view.coverage.catalogue
    .map(
      (s) =>
        `<label><input type="checkbox" value="${esc(s.store)}"${chosen.size === 0 || chosen.has(s.store) ? ' checked' : ''}> ${esc(s.store)} <span class="hint">${esc(s.name)}</span></label>`,
    )
    .join('');
  updateStoreSummary();
}

function checkedStores() {
  return [...$('store-list').querySelectorAll('input:checked')].map((input) => input.value);
}

function updateStoreSummary() {
  const checked = checkedStores().length;
  const total = view.coverage?.catalogue.length ?? 0;
  $('store-summary').textContent = checked === total ? 'Tiendas: todas' : `Tiendas: ${checked} de ${total}`;
}

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

function renderTotals() {
  const t = view.coverage.totals;
  const withData = t.expectedStoreDays - t.missingStoreDays;
  const pct = coverageOf(withData, t.expectedStoreDays);
  const cards = [
    ['', int.format(t.expectedStoreDays), 'Días-tienda esperados'],
    ['', int.format(withData), 'Con datos'],
    [t.missingStoreDays > 0 ? 'missing' : 'ok', int.format(t.missingStoreDays), 'Faltantes'],
    [t.partialStoreDays > 0 ? 'partial' : 'ok', int.format(t.partialStoreDays), 'Parciales'],
    [t.missingStoreDays + t.partialStoreDays > 0 ? '' : 'ok', `${oneDecimal.format(pct)} %`, `Cobertura del ${view.coverage.from} al ${view.coverage.to}`],
  ];
  $('totals').innerHTML = cards
    .map(([cls, value, label]) => `<div class="card ${cls}"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div></div>`)
    .join('');
}

function renderLegend() {
  const counts = { c: 0, p: 0, m: 0, e: 0, x: 0 };
  for (const s of view.coverage.stores) for (const code of s.states) counts[code]++;
  $('legend').innerHTML = Object.entries(STATES)
    .map(([code, st]) => `<li><span class="swatch s-${code}"></span>${esc(st.legend)} <strong>${int.format(counts[code])}</strong></li>`)
    .join('');
}

function renderHeatmap() {
  const { stores, from, days } = view.coverage;
  const el = $('heatmap');
  const rows = ['<div></div><div class="hm-axis" id="hm-axis"></div>'];
  stores.forEach((s, r) => {
    let cells = '';
    for (let i = 0; i < s.states.length; i++) cells += `<i class="c s-${s.states[i]}" data-i="${i}"></i>`;
    rows.push(
      `<div class="hm-label" title="${esc(`${s.store} ${s.name}`)}"><span class="id">${esc(s.store)}</span> <span class="name">${esc(s.name)}</span></div>` +
        `<div class="hm-cells" data-r="${r}">${cells}</div>`,
    );
  });
  el.classList.toggle('dense', days > 120);
  el.style.setProperty('--days', String(days));
  el.innerHTML = rows.join('');
  renderAxis(from, days);
}

/** Month starts along the top, positioned as a share of the width so they line up with the cells at any size. */
function renderAxis(from, days) {
  const axis = $('hm-axis');
  for (let i = 0; i < days; i++) {
    const day = dayAt(from, i);
    const monthStart = day.endsWith('-01');
    // The window's first day is labelled too unless a month starts within the next week.
    if (!monthStart && !(i === 0 && days - i > 7 && ![...Array(7).keys()].some((k) => dayAt(from, k).endsWith('-01')))) continue;
    const label = document.createElement('span');
    const month = MONTHS[Number(day.slice(5, 7)) - 1];
    label.textContent = monthStart ? `${month}${day.slice(5, 7) === '01' || i < 7 ? ` ${day.slice(0, 4)}` : ''}` : `${Number(day.slice(8))} ${month} ${day.slice(0, 4)}`;
    label.style.left = `${(i / days) * 100}%`;
    axis.append(label);
  }
}

function cellTooltip(target) {
  const cell = target.closest('.c');
  if (!cell) return null;
  const s = view.coverage.stores[Number(cell.parentElement.dataset.r)];
  const i = Number(cell.dataset.i);
  const day = dayAt(view.coverage.from, i);
  return `${s.store} ${s.name} · ${day} · ${STATES[s.states[i]].name} · ${int.format(s.lines[i])} líneas · ${money.format(s.totalUsd[i])} USD`;
}

function onHeatmapHover(event) {
  const tip = $('tooltip');
  const text = cellTooltip(event.target);
  if (!text) {
    tip.hidden = true;
    return;
  }
  tip.textContent = text;
  tip.hidden = false;
  const x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
  tip.style.left = `${Math.max(8, x)}px`;
  tip.style.top = `${event.clientY + 16}px`;
}

function renderSummary() {
  const { stores, totals } = view.coverage;
  const sorted = [...stores].sort((a, b) => a.coveragePct - b.coveragePct || a.store.localeCompare(b.store));
  $('summary').tBodies[0].innerHTML = sorted
    .map(
      (s) => `<tr>
        <td>${esc(s.store)}</td>
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
  const withData = totals.expectedStoreDays - totals.missingStoreDays;
  $('summary').tFoot.innerHTML = `<tr><td>Total</td><td>${stores.length} tiendas</td>
    <td class="num">${int.format(totals.expectedStoreDays)}</td><td class="num">${int.format(withData)}</td>
    <td class="num">${int.format(totals.missingStoreDays)}</td><td class="num">${int.format(totals.partialStoreDays)}</td>
    <td class="num">${oneDecimal.format(coverageOf(withData, totals.expectedStoreDays))} %</td><td></td></tr>`;
}

function listEs(items) {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} y ${items.at(-1)}`;
}

function renderPatterns() {
  const { patterns, stores, from } = view.coverage;
  const lines = [
    ...patterns.commonGaps.map(
      (g) => `Hueco común del ${g.from} al ${g.to}: ${g.days} días faltantes en ${g.stores.length} de ${g.expectedStores} tiendas`,
    ),
    ...(patterns.closedDays.length > 0 ? [`Días cerrados de la cadena: ${listEs(patterns.closedDays)} (no se esperan ventas)`] : []),
    ...stores.flatMap((s) => {
      const empty = [...s.states].flatMap((code, i) => (code === 'e' ? [dayAt(from, i)] : []));
      return empty.length > 0 ? [`${s.store}: KLK no tuvo ventas el ${listEs(empty)} (no se esperan ventas)`] : [];
    }),
    ...stores
      .filter((s) => s.isNew)
      .map((s) => `Tienda nueva: ${s.store} (${s.name}), ${s.firstSale ? `primera venta ${s.firstSale}` : 'sin ventas registradas'}`),
  ];
  $('patterns').innerHTML = (lines.length > 0 ? lines : ['Ninguno']).map((l) => `<li>${esc(l)}</li>`).join('');
}

// ------------------------------------------------------------------------------------------------ plan and backfill

function renderPlan() {
  const plan = view.plan;
  const t = plan.totals;
  const empty = plan.phases.length === 0;
  $('plan-summary').textContent = empty
    ? 'Nada que recuperar: todos los días esperados están completos.'
    : `${int.format(t.requests)} peticiones, ${int.format(t.storeDays)} días-tienda pedidos para ${int.format(t.missingStoreDays)} faltantes o parciales (x${twoDecimals.format(t.overFetchRatio)}), ${duration(t.estimatedSeconds)} con el backfill en paralelo.`;
  $('plan-phases').innerHTML = plan.phases
    .map((phase) => {
      const days = phase.steps.reduce((n, s) => n + s.storeDays, 0);
      const seconds = phase.steps.reduce((n, s) => n + s.estimatedSeconds, 0);
      const steps = phase.steps
        .map((s) => {
          const stores = s.stores.length > 4 ? `${s.stores.slice(0, 4).join(' ')} (+${s.stores.length - 4})` : s.stores.join(' ');
          return `<tr><td>${esc(s.from.slice(0, 10))}</td><td>${esc(s.to.slice(0, 10))}</td><td title="${esc(s.stores.join(' '))}">${esc(stores)}</td>
            <td class="num">${int.format(s.storeDays)}</td><td class="num">${int.format(s.requests)}</td><td class="num">${duration(s.estimatedSeconds)}</td></tr>`;
        })
        .join('');
      return `<details class="phase"><summary>Fase ${phase.phase}: ${esc(phase.title)} · ${phase.steps.length} pasos · ${int.format(days)} días-tienda · ${duration(seconds)}</summary>
        <table class="table"><thead><tr><th>Desde</th><th>Hasta</th><th>Tiendas</th><th class="num">Días-tienda</th><th class="num">Peticiones</th><th class="num">Estimado</th></tr></thead>
        <tbody>${steps}</tbody></table></details>`;
    })
    .join('');
  $('run').disabled = empty || view.running !== null;
}

function runMessage(text) {
  $('run-message').textContent = text;
}

function showProgress(p) {
  const share = p.storeDays > 0 ? p.storeDaysDone / p.storeDays : 0;
  $('progress-fill').style.width = `${(share * 100).toFixed(1)}%`;
  const parts = [
    `${int.format(p.storeDaysDone)} / ${int.format(p.storeDays)} días-tienda`,
    `${int.format(p.lines)} líneas`,
    p.linesPerSecond === null ? null : `${int.format(p.linesPerSecond)} líneas/s`,
    p.etaSeconds === null ? null : `ETA ${duration(p.etaSeconds)}`,
    p.chunks.failed > 0 ? `${int.format(p.chunks.failed)} bloques fallidos` : null,
  ];
  $('progress-text').textContent = parts.filter(Boolean).join(' · ');
  if (Date.now() - view.lastLiveRefresh > LIVE_REFRESH_MS) {
    view.lastLiveRefresh = Date.now();
    loadCoverage().catch(() => {});
  }
}

function finishedMessage(id, s) {
  if (!s.before) return `Backfill #${id} ${RUN_STATUS[s.status] ?? s.status}: npx ventas backfill --resume lo termina.`;
  const status = s.status === 'complete' ? 'completo' : RUN_STATUS[s.status] ?? s.status;
  const failed = s.chunks.failed > 0 ? ` Quedan ${int.format(s.chunks.failed)} bloques fallidos: npx ventas backfill --resume los reintenta.` : '';
  return (
    `Backfill #${id} ${status}: ${int.format(s.chunks.done)} de ${int.format(s.chunks.total)} bloques, ` +
    `${int.format(s.rowsInserted)} filas nuevas en ${oneDecimal.format(s.seconds)} s. ` +
    `Faltantes ${int.format(s.before.missingStoreDays)} → ${int.format(s.after.missingStoreDays)}, ` +
    `parciales ${int.format(s.before.partialStoreDays)} → ${int.format(s.after.partialStoreDays)}.${failed}`
  );
}

/** Follows a backfill's events until its `done`, then reloads everything. */
function follow(id) {
  view.running = id;
  $('run').disabled = true;
  $('progress').hidden = false;
  $('breaker').hidden = true;
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
    if (summary.status === 'complete') $('progress-fill').style.width = '100%';
    $('breaker').hidden = true;
    view.running = null;
    runMessage(finishedMessage(id, summary));
    await load();
    await loadRuns();
  });
}

async function startBackfill() {
  const token = $('token').value.trim() || sessionStorage.getItem('ventas.token') || '';
  const body = { from: view.from, to: view.to };
  if (view.stores.length > 0) body.stores = view.stores;
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  $('run').disabled = true;
  runMessage('Planificando y preparando el backfill…');
  try {
    const { runId } = await api('/api/backfill', { method: 'POST', headers, body: JSON.stringify(body) });
    if (token) sessionStorage.setItem('ventas.token', token);
    follow(runId);
    loadRuns();
  } catch (error) {
    $('run').disabled = false;
    if (error.status === 401) {
      sessionStorage.removeItem('ventas.token');
      $('token-field').hidden = false;
      $('token').focus();
      runMessage('Este tablero pide el token (VENTAS_API_TOKEN) para ejecutar: escríbalo y pulse de nuevo.');
    } else if (error.status === 409) {
      runMessage(error.message);
      const runs = await loadRuns();
      const running = runs.find((r) => r.kind === 'backfill' && r.status === 'running');
      if (running) follow(running.id);
    } else {
      runMessage(error.message);
    }
  }
}

// ------------------------------------------------------------------------------------------------ history

function renderRuns(runs) {
  const body = $('runs').tBodies[0];
  if (runs.length === 0) {
    body.innerHTML = '<tr><td colspan="11" class="hint">Sin ejecuciones registradas todavía.</td></tr>';
    return;
  }
  body.innerHTML = runs
    .map((r) => {
      const took = r.finishedAt ? elapsed(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : '—';
      const window = r.from ? (r.kind === 'backfill' ? `${r.from} a ${r.to}` : `${r.from.slice(0, 16)} a ${r.to.slice(0, 16)}`) : '—';
      const stores = r.stores.length > 3 ? `${r.stores.length} tiendas` : r.stores.join(', ');
      const errors = r.errors.length > 0 ? `${esc(r.errors[0])}${r.errors.length > 1 ? ` (+${r.errors.length - 1})` : ''}` : '';
      const hint = r.kind === 'backfill' && r.command ? `<div class="hint">${esc(r.command)}</div>` : '';
      return `<tr data-kind="${esc(r.kind)}" data-status="${esc(r.status)}">
        <td>${r.id}</td>
        <td>${esc(RUN_TYPES[r.type] ?? r.type)}</td>
        <td><span class="badge st-${esc(r.status)}">${esc(RUN_STATUS[r.status] ?? r.status)}</span></td>
        <td>${esc(new Date(r.startedAt).toLocaleString('es-VE', { dateStyle: 'short', timeStyle: 'medium' }))}</td>
        <td class="num">${took}</td>
        <td>${esc(window)}</td>
        <td title="${esc(r.stores.join(' '))}">${esc(stores)}</td>
        <td class="num">${r.storeDays === null ? '' : int.format(r.storeDays)}</td>
        <td class="num">${int.format(r.lines)}</td>
        <td class="num">${int.format(r.rowsInserted)}</td>
        <td class="errors" title="${esc(r.errors.join('\n'))}">${errors}${hint}</td>
      </tr>`;
    })
    .join('');
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
  $('store-list').addEventListener('change', updateStoreSummary);
  $('stores-all').addEventListener('click', () => {
    $('store-list').querySelectorAll('input').forEach((input) => (input.checked = true));
    updateStoreSummary();
  });
  $('stores-none').addEventListener('click', () => {
    $('store-list').querySelectorAll('input').forEach((input) => (input.checked = false));
    updateStoreSummary();
  });
  $('heatmap').addEventListener('mousemove', onHeatmapHover);
  $('heatmap').addEventListener('mouseleave', () => ($('tooltip').hidden = true));
  $('run').addEventListener('click', startBackfill);
  loadHealth();
  load().then(async () => {
    const runs = await loadRuns();
    const running = runs.find((r) => r.kind === 'backfill' && r.status === 'running');
    if (running) follow(running.id);
  });
}

start();
