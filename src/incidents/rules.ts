/**
 * When an incident opens, is told again and resolves by itself: from what one daemon cycle observed, the incidents
 * open now and the clock, the changes to make (applied by store.ts). Pure: no database, no network, no clock.
 *
 * - One open incident per (kind, store); chain-wide ones (`klk_unreachable`, `recovery_failed`) have no store.
 * - An incident opens when its condition holds (KLK and stale stores only after their thresholds) and resolves as
 *   soon as the condition is no longer observed; while open it is told again every `repeatMinutes`.
 * - One cause, one alert: every store syncs through the one KLK, so while `klk_unreachable` is open (or opens in
 *   this cycle) no store opens `store_stale`, a `store_stale` opened before it holds its reminders, and the time
 *   KLK was down does not count against a store afterwards: after KLK answers again a store must stay without a
 *   successful sync for `staleAfterMinutes` more before it opens `store_stale` of its own.
 */
import type { AlertsConfig } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import type { IsoDate } from '../shared/dates.ts';
import { summaries } from './summaries.ts';

export const INCIDENT_KINDS = [
  'klk_unreachable',
  'store_stale',
  'recovery_failed',
  'heal_exhausted',
  'quarantine',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** What one cycle observed. Lists may be empty; a store absent from a list is fine on that count. */
export interface Observed {
  /** Since when KLK has not answered (the first failure after its last answer); null while it answers. */
  klkUnreachableSince: Date | null;
  /**
   * Stores inside their sync hours whose last successful sync is older than one sync interval, with `since`: that
   * last success, or the start of today's sync hours when later (the night does not count).
   */
  staleStores: ReadonlyArray<{ store: string; since: Date }>;
  /** The last nightly recovery, when it did not run or did not succeed; null when it did. */
  recoveryFailed: { day: IsoDate; ran: boolean; stores?: readonly string[]; error?: string | null } | null;
  /** Store-days the healing gave up on after `attempts` (heal.maxAttempts) and that are still incomplete. */
  healExhausted: ReadonlyArray<{ store: string; dates: readonly IsoDate[]; attempts: number }>;
  /** Lines in quarantine (rejected), per store-day. */
  quarantined: ReadonlyArray<{ store: string; day: IsoDate; lines: number }>;
}

/** An incident still open, as store.ts reads it. */
export interface OpenIncident {
  id: number;
  kind: IncidentKind;
  store: string | null;
  dates: IsoDate[];
  summary: string;
  details: Record<string, unknown>;
  openedAt: Date;
  lastAlertedAt: Date | null;
}

export interface IncidentState {
  open: OpenIncident[];
  /** When the last `klk_unreachable` resolved (KLK answered again); null if never. */
  klkBackAt: Date | null;
}

/** What an incident says: its store-days, its summary (Spanish) and the facts behind it. */
export interface IncidentContent {
  dates: IsoDate[];
  summary: string;
  details: Record<string, unknown>;
}

export interface IncidentDraft extends IncidentContent {
  kind: IncidentKind;
  store: string | null;
}

export interface Decision {
  now: Date;
  /** To open, unless one of the same (kind, store) is open already. */
  open: IncidentDraft[];
  /** Open incidents whose content changed (durations grow, days come and go): updated without an alert. */
  refresh: Array<IncidentContent & { id: number }>;
  /** Open incidents due a reminder: the ones last alerted at or before `remindAlertedBefore`. */
  remind: number[];
  remindAlertedBefore: Date;
  /** Open incidents whose condition is gone, with what their resolution says. */
  resolve: Array<{ id: number; summary: string }>;
}

export interface DecideOptions {
  now: Date;
  alerts: Pick<AlertsConfig, 'klkDownMinutes' | 'staleAfterMinutes' | 'repeatMinutes'>;
  /** For store names and time zones in the summaries; a store missing here is named by its id. */
  stores?: ReadonlyArray<Pick<Store, 'id' | 'name' | 'timeZone'>>;
  /** The chain's time zone, for chain-wide incidents (default: the first store's, else America/Caracas). */
  timeZone?: string;
}

const MINUTE = 60_000;
const key = (kind: IncidentKind, store: string | null) => `${kind}\u0000${store ?? ''}`;
const iso = (d: Date) => d.toISOString();

export function decide(observed: Observed, state: IncidentState, options: DecideOptions): Decision {
  const { now, alerts } = options;
  const stores = new Map((options.stores ?? []).map((s) => [s.id, s]));
  const chainZone = options.timeZone ?? options.stores?.[0]?.timeZone ?? 'America/Caracas';
  const zoneOf = (store: string) => stores.get(store)?.timeZone ?? chainZone;
  const label = (store: string) => {
    const name = stores.get(store)?.name;
    return name ? `${store} (${name})` : store;
  };
  const open = new Map(state.open.map((i) => [key(i.kind, i.store), i]));
  const ageMinutes = (since: Date) => (now.getTime() - since.getTime()) / MINUTE;

  /** What holds now, by (kind, store). */
  const holding = new Map<string, IncidentDraft>();
  const hold = (draft: IncidentDraft) => holding.set(key(draft.kind, draft.store), draft);

  const klkSince = observed.klkUnreachableSince;
  const klkOpen = open.has(key('klk_unreachable', null));
  if (klkSince && (klkOpen || ageMinutes(klkSince) >= alerts.klkDownMinutes)) {
    hold({
      kind: 'klk_unreachable',
      store: null,
      dates: [],
      summary: summaries.klkDown(klkSince, now, chainZone),
      details: { since: iso(klkSince) },
    });
  }
  const klkDown = holding.has(key('klk_unreachable', null));
  // KLK answering again in this very cycle is a comeback too.
  const klkBackAt = klkOpen && !klkDown ? now : state.klkBackAt;

  const stale = new Map<string, Date>();
  for (const { store, since } of observed.staleStores) {
    const earlier = stale.get(store);
    stale.set(store, earlier && earlier < since ? earlier : since);
  }
  for (const [store, since] of stale) {
    const already = open.has(key('store_stale', store));
    // KLK's outage is the one cause: it starves every store, and its time does not count against them.
    const counted = klkBackAt && klkBackAt > since ? klkBackAt : since;
    if (already || (!klkDown && ageMinutes(counted) >= alerts.staleAfterMinutes)) {
      hold({
        kind: 'store_stale',
        store,
        dates: [],
        summary: summaries.storeStale(label(store), since, now, zoneOf(store)),
        details: { since: iso(since) },
      });
    }
  }

  const recovery = observed.recoveryFailed;
  if (recovery) {
    const failedStores = [...new Set(recovery.stores ?? [])].sort();
    hold({
      kind: 'recovery_failed',
      store: null,
      dates: [recovery.day],
      summary: summaries.recoveryFailed(recovery.day, recovery.ran, failedStores, recovery.error ?? null),
      details: { day: recovery.day, ran: recovery.ran, stores: failedStores, error: recovery.error ?? null },
    });
  }

  const exhausted = new Map<string, { dates: Set<IsoDate>; attempts: number }>();
  for (const { store, dates, attempts } of observed.healExhausted) {
    const entry = exhausted.get(store) ?? { dates: new Set(), attempts };
    for (const d of dates) entry.dates.add(d);
    entry.attempts = Math.max(entry.attempts, attempts);
    exhausted.set(store, entry);
  }
  for (const [store, { dates, attempts }] of exhausted) {
    if (dates.size === 0) continue;
    const days = [...dates].sort();
    hold({
      kind: 'heal_exhausted',
      store,
      dates: days,
      summary: summaries.healExhausted(label(store), days, attempts),
      details: { attempts },
    });
  }

  const quarantined = new Map<string, Record<IsoDate, number>>();
  for (const { store, day, lines } of observed.quarantined) {
    if (lines <= 0) continue;
    const days = quarantined.get(store) ?? {};
    days[day] = (days[day] ?? 0) + lines;
    quarantined.set(store, days);
  }
  for (const [store, lines] of quarantined) {
    const days = Object.keys(lines).sort();
    hold({
      kind: 'quarantine',
      store,
      dates: days,
      summary: summaries.quarantine(label(store), lines),
      details: { lines: Object.fromEntries(days.map((d) => [d, lines[d]!])) },
    });
  }

  const remindAlertedBefore = new Date(now.getTime() - alerts.repeatMinutes * MINUTE);
  const decision: Decision = { now, open: [], refresh: [], remind: [], remindAlertedBefore, resolve: [] };
  for (const [k, draft] of holding) {
    const incident = open.get(k);
    if (!incident) {
      decision.open.push(draft);
      continue;
    }
    if (!sameContent(incident, draft)) {
      decision.refresh.push({ id: incident.id, dates: draft.dates, summary: draft.summary, details: draft.details });
    }
    const held = draft.kind === 'store_stale' && klkDown;
    if (!held && (incident.lastAlertedAt === null || incident.lastAlertedAt <= remindAlertedBefore)) {
      decision.remind.push(incident.id);
    }
  }
  for (const [k, incident] of open) {
    if (holding.has(k)) continue;
    decision.resolve.push({ id: incident.id, summary: resolution(incident, now, label, zoneOf, chainZone) });
  }
  return decision;
}

function sameContent(a: IncidentContent, b: IncidentContent): boolean {
  return (
    a.summary === b.summary &&
    JSON.stringify(a.dates) === JSON.stringify(b.dates) &&
    stableJson(a.details) === stableJson(b.details)
  );
}

/** JSON with keys sorted at every level: jsonb hands objects back with its own key order. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/** What an incident says once its condition is gone. */
function resolution(
  incident: OpenIncident,
  now: Date,
  label: (store: string) => string,
  zoneOf: (store: string) => string,
  chainZone: string,
): string {
  const since = typeof incident.details.since === 'string' ? new Date(incident.details.since) : incident.openedAt;
  const store = incident.store ?? '';
  switch (incident.kind) {
    case 'klk_unreachable':
      return summaries.klkBack(since, now, chainZone);
    case 'store_stale':
      return summaries.storeSynced(label(store), since, now, zoneOf(store));
    case 'recovery_failed':
      return summaries.recoveryBack(String(incident.details.day ?? incident.dates[0]), incident.details.ran !== false);
    case 'heal_exhausted':
      return summaries.healDone(label(store));
    case 'quarantine':
      return summaries.quarantineEmpty(label(store));
  }
}
