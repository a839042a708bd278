/**
 * The backfill planner: turns the gaps of a window into phases of `ventas etl` invocations that
 * request exactly the missing and partial store-days, in chunks sized to each store's volume, with their cost.
 * Pure: no database, no network. The caller maps the coverage report to `PlanInput`.
 */
import { addDays, daysBetween, eachDay, isValidDate, type IsoDate } from '../shared/dates.ts';
import type { CostModel, TimingModelKind } from './timing.ts';
import { KLK_DEFAULTS } from '../klk/defaults.ts';

export type Priority = 'ALTA' | 'MEDIA' | 'BAJA' | 'OK';

export interface PlanStoreInput {
  id: string;
  name: string;
  priority: Priority;
  isNew: boolean;
  coveragePct: number;
  missingDays: number;
  partialDays: number;
  /** Observed lines per day (median of the window's complete days); null when the window has none. */
  linesPerDay: number | null;
  /** Lines per day over the store's whole history, used when the window has no complete day; null = never sold. */
  historyLinesPerDay: number | null;
  /** Exactly the store-days to fetch. */
  targets: Array<{ day: IsoDate; state: 'missing' | 'partial' }>;
  /** Closed or empty days in the window: never requested, never merged across. */
  unavailable: IsoDate[];
  /** Rejected days (every line KLK sent was quarantined): not requested again, so never merged across either. */
  rejected?: IsoDate[];
}

export interface PlanInput {
  /** The window the gaps were computed on. */
  from: IsoDate;
  to: IsoDate;
  stores: PlanStoreInput[];
  commonGaps: Array<{ from: IsoDate; to: IsoDate; stores: string[] }>;
  /** No request should return more lines than this (default 30,000). */
  lineBudget: number;
  /** Lines per day assumed for a store with no volume in the window nor in its history. */
  defaultLinesPerDay: number;
  /**
   * Cost of one request, baseSeconds + secondsPer1000Lines x lines / 1000, and of loading its answer (`load`), as
   * `fitCostModel` makes them from the recorded requests.
   */
  timing: CostModel;
  /** Requests in flight per KLK. */
  concurrency: number;
}

export const DEFAULT_LINE_BUDGET = 30_000;
export const DEFAULT_LINES_PER_DAY = 12_000;
export const DEFAULT_TIMING = { baseSeconds: 4, secondsPer1000Lines: 2.5 } as const;
/**
 * Loading an answer before any load was timed: a transaction and the day summaries, plus the rows at the bench's
 * PostgreSQL rate (about 68,000 lines/s).
 */
export const DEFAULT_LOAD_TIMING = { baseSeconds: 0.02, secondsPer1000Lines: 0.015 } as const;
export const DEFAULT_CONCURRENCY = KLK_DEFAULTS.concurrency;

/** One `ventas etl` invocation: its stores over one window of whole days, cut in chunks of `chunkDays`. */
export interface PlanStep {
  stores: string[];
  /** `YYYY-MM-DD 00:00`, the form of `--fecha-desde`. */
  from: string;
  /** `YYYY-MM-DD 23:59`, the form of `--fecha-hasta` (inclusive to the end of that minute: the whole day). */
  to: string;
  chunkDays: number;
  storeDays: number;
  requests: number;
  /**
   * Its requests on `concurrency` slots, each taking the first free one in order: what the step costs alone (one
   * `ventas etl` invocation), never less than its longest request.
   */
  estimatedSeconds: number;
}

export type PhaseNumber = 1 | 2 | 3;

export interface PlanPhase {
  phase: PhaseNumber;
  title: string;
  steps: PlanStep[];
}

export interface PlanTotals {
  requests: number;
  /** Store-days requested (targets plus the present days deliberately re-read by merging). */
  storeDays: number;
  /** Store-days to fetch: missing plus partial. */
  missingStoreDays: number;
  /** storeDays / missingStoreDays, two decimals; 1 when there is nothing to fetch (nothing is over-fetched). */
  overFetchRatio: number;
  /**
   * How `ventas backfill` runs the plan: every step's requests together on `concurrency` slots, in the ledger's
   * order, each taking the first free slot; never less than the longest request nor the work over the slots.
   */
  estimatedSeconds: number;
  /** The cost model the estimates were made with. */
  estimate: PlanEstimate;
}

export interface PlanEstimate {
  model: TimingModelKind;
  /** Recorded requests the model was made from. */
  samples: number;
  baseSeconds: number;
  secondsPer1000Lines: number;
  /** Loading an answer: loadBaseSeconds + loadSecondsPer1000Lines x lines / 1000. */
  loadBaseSeconds: number;
  loadSecondsPer1000Lines: number;
  /** Requests in flight per KLK the schedule assumes. */
  concurrency: number;
}

/** Where a store's volume for sizing chunks came from: the window's complete days, its whole history, or the default. */
export type VolumeSource = 'window' | 'history' | 'default';

/** What the renderers say about each store that has something to fetch. */
export interface PlanStore {
  id: string;
  name: string;
  priority: Priority;
  isNew: boolean;
  coveragePct: number;
  missingDays: number;
  partialDays: number;
  /** The volume the chunks were sized with, and whether it was observed (in the window or its history) or assumed. */
  linesPerDay: number;
  linesPerDayObserved: boolean;
  linesPerDaySource: VolumeSource;
  /** Largest chunk under the line budget. */
  chunkDays: number;
}

export interface Plan {
  from: IsoDate;
  to: IsoDate;
  /** Phases in order, those without steps omitted. */
  phases: PlanPhase[];
  totals: PlanTotals;
  /** Stores with targets, in priority order (phase 3 order after the ALTA ones). */
  stores: PlanStore[];
  /** Closed or empty store-days of the window: known and deliberately not requested. */
  unavailableStoreDays: number;
  settings: Pick<PlanInput, 'lineBudget' | 'timing' | 'concurrency'>;
}

/** One whole-day chunk of the executor's ledger: one KLK request. */
export interface PlanChunk {
  storeId: string;
  dayFrom: IsoDate;
  dayTo: IsoDate;
}

/** The part of a step that fixes its requests: what `planChunks` needs (a plan read back from JSON has it too). */
export type StepWindow = Pick<PlanStep, 'stores' | 'from' | 'to' | 'chunkDays'>;

const STEP_FROM_TIME = '00:00';
const STEP_TO_TIME = '23:59';

/** Chunks a store may take per request without its lines exceeding the budget (at least one day). */
export function chunkDaysFor(lineBudget: number, linesPerDay: number): number {
  return Math.max(1, Math.floor(lineBudget / linesPerDay));
}

/** Requests `ventas etl` makes for `days` whole days cut in consecutive chunks of `chunkDays` from the start. */
export function requestsFor(days: number, chunkDays: number): number {
  return Math.ceil(days / chunkDays);
}

/** The days of a step's window. */
export function stepDays(step: Pick<PlanStep, 'from' | 'to'>): { dayFrom: IsoDate; dayTo: IsoDate; days: number } {
  const dayFrom = step.from.slice(0, 10);
  const dayTo = step.to.slice(0, 10);
  return { dayFrom, dayTo, days: daysBetween(dayFrom, dayTo) + 1 };
}

/** The plan cut into the exact whole-day chunks `ventas etl` requests: per step, per store, from the window start. */
export function planChunks(plan: { phases: ReadonlyArray<{ steps: readonly StepWindow[] }> }): PlanChunk[] {
  const chunks: PlanChunk[] = [];
  for (const phase of plan.phases) {
    for (const step of phase.steps) {
      const { dayFrom, dayTo } = stepDays(step);
      for (const storeId of step.stores) {
        for (let day = dayFrom; day <= dayTo; day = addDays(day, step.chunkDays)) {
          const end = addDays(day, step.chunkDays - 1);
          chunks.push({ storeId, dayFrom: day, dayTo: end < dayTo ? end : dayTo });
        }
      }
    }
  }
  return chunks;
}

// ------------------------------------------------------------------------------------------------------ building

interface StoreModel {
  input: PlanStoreInput;
  /** Position in priority order: ALTA, MEDIA, BAJA, OK; new stores first, then lowest coverage. */
  rank: number;
  linesPerDay: number;
  linesPerDaySource: VolumeSource;
  chunkDays: number;
  targets: Set<IsoDate>;
  unavailable: Set<IsoDate>;
  /** Days a merged request must not span: the unavailable and the rejected ones. */
  barriers: Set<IsoDate>;
}

interface DayRange {
  from: IsoDate;
  to: IsoDate;
}

/** One store's window inside a phase, before stores with the same window and chunk size are grouped. */
interface StoreWindow extends DayRange {
  store: StoreModel;
  chunkDays: number;
}

const PRIORITY_ORDER: Record<Priority, number> = { ALTA: 0, MEDIA: 1, BAJA: 2, OK: 3 };

function comparePriority(a: PlanStoreInput, b: PlanStoreInput): number {
  return (
    PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] ||
    Number(b.isNew) - Number(a.isNew) ||
    a.coveragePct - b.coveragePct ||
    b.missingDays + b.partialDays - (a.missingDays + a.partialDays) ||
    a.id.localeCompare(b.id)
  );
}

export function buildPlan(input: PlanInput): Plan {
  validate(input);
  const models = [...input.stores].sort(comparePriority).map((store, rank): StoreModel => {
    const { linesPerDay, source } = volumeOf(store, input.defaultLinesPerDay);
    return {
      input: store,
      rank,
      linesPerDay,
      linesPerDaySource: source,
      chunkDays: chunkDaysFor(input.lineBudget, linesPerDay),
      targets: new Set(store.targets.map((t) => t.day)),
      unavailable: new Set(store.unavailable),
      barriers: new Set([...store.unavailable, ...(store.rejected ?? [])]),
    };
  });
  const byId = new Map(models.map((m) => [m.input.id, m]));
  const claimed = new Map(models.map((m) => [m.input.id, new Set<IsoDate>()]));
  const take = (model: StoreModel, days: IsoDate[]): StoreWindow[] => {
    const mine = claimed.get(model.input.id)!;
    days.forEach((d) => mine.add(d));
    return storeWindows(model, days, input.timing);
  };

  // Phase 1: each common gap, for every store it hits, that store's targets inside the gap.
  const phase1: StoreWindow[] = [];
  const gapsUsed: DayRange[] = [];
  for (const gap of input.commonGaps) {
    const before = phase1.length;
    for (const id of new Set(gap.stores)) {
      const model = byId.get(id);
      if (!model) continue;
      const mine = claimed.get(id)!;
      const days = [...model.targets].filter((d) => d >= gap.from && d <= gap.to && !mine.has(d)).sort();
      phase1.push(...take(model, days));
    }
    if (phase1.length > before) gapsUsed.push(gap);
  }

  // Phases 2 and 3: what each store still needs, ALTA stores alone, the rest in batches.
  const phase2: StoreWindow[] = [];
  const phase3: StoreWindow[] = [];
  for (const model of models) {
    const mine = claimed.get(model.input.id)!;
    const days = [...model.targets].filter((d) => !mine.has(d)).sort();
    (model.input.priority === 'ALTA' ? phase2 : phase3).push(...take(model, days));
  }

  // Each step is a group of windows (one window per store), in the plan's order.
  const phaseSteps = [
    { phase: 1 as const, title: phase1Title(gapsUsed, phase1), groups: groupWindows(phase1, 'byDate') },
    { phase: 2 as const, title: 'Backfill por Tienda (Prioridad ALTA)', groups: soloWindows(phase2) },
    {
      phase: 3 as const,
      title: 'Gaps Menores (Prioridad MEDIA y BAJA, por lotes)',
      groups: groupWindows(phase3, 'byStore'),
    },
  ].filter((p) => p.groups.length > 0);
  const phases: PlanPhase[] = phaseSteps.map((p) => ({
    phase: p.phase,
    title: p.title,
    steps: p.groups.map((g) => makeStep(g, input)),
  }));

  const steps = phases.flatMap((p) => p.steps);
  const storeDays = sum(steps.map((s) => s.storeDays));
  const missingStoreDays = sum(models.map((m) => m.targets.size));
  // The ledger holds the chunks in step order (planChunks) and the backfill claims them in that order.
  const allRequests = phaseSteps.flatMap((p) =>
    p.groups.flatMap((g) => g.flatMap((w) => requestSeconds(w, input.timing))),
  );
  return {
    from: input.from,
    to: input.to,
    phases,
    totals: {
      requests: sum(steps.map((s) => s.requests)),
      storeDays,
      missingStoreDays,
      overFetchRatio: missingStoreDays === 0 ? 1 : Math.round((storeDays / missingStoreDays) * 100) / 100,
      estimatedSeconds: Math.round(makespan(allRequests, input.concurrency)),
      estimate: {
        model: input.timing.model,
        samples: input.timing.samples,
        baseSeconds: input.timing.baseSeconds,
        secondsPer1000Lines: input.timing.secondsPer1000Lines,
        loadBaseSeconds: input.timing.load.baseSeconds,
        loadSecondsPer1000Lines: input.timing.load.secondsPer1000Lines,
        concurrency: input.concurrency,
      },
    },
    stores: models
      .filter((m) => m.targets.size > 0)
      .map((m) => ({
        id: m.input.id,
        name: m.input.name,
        priority: m.input.priority,
        isNew: m.input.isNew,
        coveragePct: m.input.coveragePct,
        missingDays: m.input.missingDays,
        partialDays: m.input.partialDays,
        linesPerDay: m.linesPerDay,
        linesPerDayObserved: m.linesPerDaySource !== 'default',
        linesPerDaySource: m.linesPerDaySource,
        chunkDays: m.chunkDays,
      })),
    unavailableStoreDays: sum(
      models.map((m) => [...m.unavailable].filter((d) => d >= input.from && d <= input.to).length),
    ),
    settings: { lineBudget: input.lineBudget, timing: { ...input.timing }, concurrency: input.concurrency },
  };
}

/**
 * A store's windows for some of its target days: runs of consecutive days, two neighbouring runs merged only when
 * the requests saved are worth more than the present days re-read between them. Never across an unavailable or a
 * rejected day, nor a target handled elsewhere (that would request it twice).
 */
function storeWindows(model: StoreModel, sortedDays: readonly IsoDate[], timing: PlanInput['timing']): StoreWindow[] {
  const runs: DayRange[] = [];
  for (const day of sortedDays) {
    const last = runs.at(-1);
    if (last && addDays(last.to, 1) === day) last.to = day;
    else runs.push({ from: day, to: day });
  }
  const merged: DayRange[] = [];
  const secondsPerPresentDay = (model.linesPerDay / 1000) * timing.secondsPer1000Lines;
  for (const run of runs) {
    const current = merged.at(-1);
    if (current) {
      const between = eachDay(addDays(current.to, 1), addDays(run.from, -1));
      const onlyPresentDays = between.every((d) => !model.barriers.has(d) && !model.targets.has(d));
      const saved =
        requestsFor(length(current), model.chunkDays) +
        requestsFor(length(run), model.chunkDays) -
        requestsFor(length({ from: current.from, to: run.to }), model.chunkDays);
      if (onlyPresentDays && saved * timing.baseSeconds > between.length * secondsPerPresentDay) {
        current.to = run.to;
        continue;
      }
    }
    merged.push({ ...run });
  }
  // A chunk as long as the window is the same request whatever the store's limit: stores then group together.
  return merged.map((r) => ({ ...r, store: model, chunkDays: Math.min(model.chunkDays, length(r)) }));
}

function length(range: DayRange): number {
  return daysBetween(range.from, range.to) + 1;
}

/** The volume a store's chunks are sized with: the window's complete days, else its whole history, else the default. */
function volumeOf(store: PlanStoreInput, defaultLinesPerDay: number): { linesPerDay: number; source: VolumeSource } {
  if (store.linesPerDay !== null) return { linesPerDay: store.linesPerDay, source: 'window' };
  if (store.historyLinesPerDay !== null) return { linesPerDay: store.historyLinesPerDay, source: 'history' };
  return { linesPerDay: defaultLinesPerDay, source: 'default' };
}

/** A request of the plan: seconds of KLK's answer, then seconds loading it. */
export interface RequestCost {
  fetch: number;
  load: number;
}

/** Each request of a store's window, in order (chunks of `chunkDays` from the start), from its lines. */
function requestSeconds(w: StoreWindow, timing: PlanInput['timing']): RequestCost[] {
  const days = length(w);
  return Array.from({ length: requestsFor(days, w.chunkDays) }, (_, i) => {
    const thousands = (Math.min(w.chunkDays, days - i * w.chunkDays) * w.store.linesPerDay) / 1000;
    return {
      fetch: timing.baseSeconds + thousands * timing.secondsPer1000Lines,
      load: timing.load.baseSeconds + thousands * timing.load.secondsPer1000Lines,
    };
  });
}

/**
 * When the last of `requests` is loaded, run as the backfill and `ventas etl` run them: 2 x `slots` workers take
 * them in order; each waits for one of the `slots` requests in flight per KLK (first come, first served), holds it
 * while KLK answers, then loads the answer without it, so loading overlaps other requests. Never less than the
 * longest request nor than the request time over the slots.
 */
export function makespan(requests: readonly RequestCost[], slots: number): number {
  const inFlight = Array.from({ length: slots }, () => 0);
  const workers = Array.from({ length: 2 * slots }, () => 0);
  let end = 0;
  for (const request of requests) {
    const worker = firstFree(workers);
    const slot = firstFree(inFlight);
    const answered = Math.max(workers[worker]!, inFlight[slot]!) + request.fetch;
    inFlight[slot] = answered;
    workers[worker] = answered + request.load;
    end = Math.max(end, workers[worker]!);
  }
  return end;
}

function firstFree(freeAt: readonly number[]): number {
  let first = 0;
  for (let i = 1; i < freeAt.length; i++) if (freeAt[i]! < freeAt[first]!) first = i;
  return first;
}

function makeStep(windows: readonly StoreWindow[], input: PlanInput): PlanStep {
  const first = windows[0]!;
  const days = length(first);
  const requests = sum(windows.map((w) => requestsFor(days, w.chunkDays)));
  return {
    stores: windows.map((w) => w.store.input.id),
    from: `${first.from} ${STEP_FROM_TIME}`,
    to: `${first.to} ${STEP_TO_TIME}`,
    chunkDays: first.chunkDays,
    storeDays: windows.length * days,
    requests,
    estimatedSeconds: Math.round(
      makespan(
        windows.flatMap((w) => requestSeconds(w, input.timing)),
        input.concurrency,
      ),
    ),
  };
}

/** Phase 2: every store on its own, in priority order, its windows by date. */
function soloWindows(windows: readonly StoreWindow[]): StoreWindow[][] {
  return [...windows].sort((a, b) => a.store.rank - b.store.rank || a.from.localeCompare(b.from)).map((w) => [w]);
}

/**
 * Stores with the same window and chunk size share one step (one invocation), members in priority order. Phase 1
 * reads by date; phase 3 follows its best store's priority, then date.
 */
function groupWindows(windows: readonly StoreWindow[], order: 'byDate' | 'byStore'): StoreWindow[][] {
  const groups = new Map<string, StoreWindow[]>();
  for (const w of windows) {
    const key = `${w.from}|${w.to}|${w.chunkDays}`;
    const group = groups.get(key);
    if (group) group.push(w);
    else groups.set(key, [w]);
  }
  const sorted = [...groups.values()].map((g) => g.sort((a, b) => a.store.rank - b.store.rank));
  const byDate = (a: StoreWindow[], b: StoreWindow[]) =>
    a[0]!.from.localeCompare(b[0]!.from) || b[0]!.to.localeCompare(a[0]!.to);
  const byStore = (a: StoreWindow[], b: StoreWindow[]) => a[0]!.store.rank - b[0]!.store.rank;
  sorted.sort((a, b) =>
    order === 'byDate'
      ? byDate(a, b) || byStore(a, b) || a[0]!.chunkDays - b[0]!.chunkDays
      : byStore(a, b) || byDate(a, b) || a[0]!.chunkDays - b[0]!.chunkDays,
  );
  return sorted;
}

function phase1Title(gaps: readonly DayRange[], windows: readonly StoreWindow[]): string {
  const stores = new Set(windows.map((w) => w.store.input.id)).size;
  const ranges = gaps.map((g) => `${g.from} a ${g.to}`).join(', ');
  return `${gaps.length === 1 ? 'Gap Comun' : 'Gaps Comunes'} (${ranges}) - ${stores} ${stores === 1 ? 'tienda' : 'tiendas'}`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Inconsistent input is a bug of the caller: fail loudly rather than plan a wrong backfill. */
function validate(input: PlanInput): void {
  const fail = (why: string): never => {
    throw new Error(`entrada del plan inconsistente: ${why}`);
  };
  if (!isValidDate(input.from) || !isValidDate(input.to) || input.from > input.to)
    fail(`ventana ${input.from}..${input.to}`);
  const positive = {
    lineBudget: input.lineBudget,
    defaultLinesPerDay: input.defaultLinesPerDay,
    concurrency: input.concurrency,
  };
  for (const [name, value] of Object.entries(positive))
    if (!(value > 0)) fail(`${name} debe ser mayor que 0 (${value})`);
  if (!Number.isInteger(input.concurrency)) fail(`concurrency debe ser entero (${input.concurrency})`);
  if (!(input.timing.baseSeconds >= 0) || !(input.timing.secondsPer1000Lines >= 0))
    fail('los tiempos no pueden ser negativos');
  const ids = new Set<string>();
  for (const store of input.stores) {
    if (ids.has(store.id)) fail(`tienda repetida ${store.id}`);
    ids.add(store.id);
    if (store.linesPerDay !== null && !(store.linesPerDay > 0)) fail(`${store.id}: linesPerDay ${store.linesPerDay}`);
    const unavailable = new Set(store.unavailable);
    const seen = new Set<IsoDate>();
    for (const { day } of store.targets) {
      if (!isValidDate(day) || day < input.from || day > input.to) fail(`${store.id}: día ${day} fuera de la ventana`);
      if (unavailable.has(day)) fail(`${store.id}: el día ${day} es a la vez objetivo y cerrado o vacío`);
      if (seen.has(day)) fail(`${store.id}: día ${day} repetido`);
      seen.add(day);
    }
  }
}
