/**
 * Incidents and their alert deliveries in the database: the one module whose SQL names `incidents` and
 * `alert_deliveries`. A decision (rules.ts) is applied in one transaction: opening is an insert that does nothing
 * when the same (kind, store) is open already, a reminder or a resolution changes only an incident still in the
 * state the decision saw, and each alert issued queues one delivery per channel in that same transaction. Applying
 * the same decision twice, or after a restart, changes nothing and queues nothing more. Times are passed in (the
 * `ventas` clock), never the database's now().
 */
import { unnest } from '../db/unnest.ts';
import type { Db, Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import type { Decision, IncidentKind, IncidentState, OpenIncident } from './rules.ts';

export const ALERT_CHANNELS = ['webhook', 'slack', 'email'] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];
export type AlertEvent = 'opened' | 'reminder' | 'resolved';

export interface Incident extends OpenIncident {
  alertsSent: number;
  resolvedAt: Date | null;
  resolvedAlertedAt: Date | null;
}

/** The incident as an alert tells it (the webhook's `incident`), fixed when the alert is issued. */
export interface IncidentSnapshot {
  id: number;
  kind: IncidentKind;
  store: string | null;
  dates: IsoDate[];
  openedAt: string;
  resolvedAt: string | null;
  summary: string;
}

export interface Delivery {
  id: number;
  incidentId: number;
  /** The incident's alert this delivers: 1 the opening, then the reminders, the last the resolution. */
  alertNo: number;
  event: AlertEvent;
  channel: AlertChannel;
  incident: IncidentSnapshot;
  createdAt: Date;
  /** Attempts so far, the one under way included. */
  attempts: number;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  gaveUpAt: Date | null;
  lastError: string | null;
}

export interface AppliedDecision {
  opened: Incident[];
  reminded: Incident[];
  resolved: Incident[];
  refreshed: number;
  /** Deliveries queued (alerts issued x channels). */
  queued: number;
}

const INCIDENT_COLUMNS = `id, kind, store_id, dates, summary, details, opened_at, alerts_sent, last_alerted_at,
  resolved_at, resolved_alerted_at`;

interface IncidentRow {
  id: number;
  kind: IncidentKind;
  store_id: string | null;
  dates: IsoDate[];
  summary: string;
  details: Record<string, unknown>;
  opened_at: Date;
  alerts_sent: number;
  last_alerted_at: Date | null;
  resolved_at: Date | null;
  resolved_alerted_at: Date | null;
}

function incident(row: IncidentRow): Incident {
  return {
    id: row.id,
    kind: row.kind,
    store: row.store_id,
    dates: row.dates,
    summary: row.summary,
    details: row.details,
    openedAt: row.opened_at,
    alertsSent: row.alerts_sent,
    lastAlertedAt: row.last_alerted_at,
    resolvedAt: row.resolved_at,
    resolvedAlertedAt: row.resolved_alerted_at,
  };
}

export function snapshot(i: Incident): IncidentSnapshot {
  return {
    id: i.id,
    kind: i.kind,
    store: i.store,
    dates: i.dates,
    openedAt: i.openedAt.toISOString(),
    resolvedAt: i.resolvedAt?.toISOString() ?? null,
    summary: i.summary,
  };
}

/** The open incidents and when KLK last came back: what rules.decide needs besides the observations. */
export async function readIncidentState(db: Queryable): Promise<IncidentState> {
  const { rows } = await db.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE resolved_at IS NULL ORDER BY id`,
  );
  const { rows: back } = await db.query<{ at: Date | null }>(
    `SELECT max(resolved_at) AS at FROM incidents WHERE kind = 'klk_unreachable'`,
  );
  return { open: rows.map(incident), klkBackAt: back[0]?.at ?? null };
}

/** The open incidents first (oldest first), then the latest resolved ones, up to `limit` in all. */
export async function listIncidents(db: Queryable, options: { limit?: number } = {}): Promise<Incident[]> {
  const { rows } = await db.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents
     ORDER BY resolved_at IS NULL DESC, CASE WHEN resolved_at IS NULL THEN opened_at END, resolved_at DESC, id DESC
     LIMIT $1`,
    [options.limit ?? 100],
  );
  return rows.map(incident);
}

/** Applies a decision in one transaction, queuing one delivery per channel for each alert issued. */
export async function applyDecision(
  db: Db,
  decision: Decision,
  channels: readonly AlertChannel[],
): Promise<AppliedDecision> {
  const { now } = decision;
  return db.transaction(async (tx) => {
    let refreshed = 0;
    if (decision.refresh.length > 0) {
      const source = unnest(
        [
          ['id', 'bigint'],
          ['dates', 'jsonb'],
          ['summary', 'text'],
          ['details', 'jsonb'],
        ],
        [
          decision.refresh.map((r) => r.id),
          decision.refresh.map((r) => JSON.stringify(r.dates)),
          decision.refresh.map((r) => r.summary),
          decision.refresh.map((r) => JSON.stringify(r.details)),
        ],
      );
      ({ rowCount: refreshed } = await tx.query(
        `UPDATE incidents i
         SET dates = ARRAY(SELECT jsonb_array_elements_text(t.dates))::date[], summary = t.summary, details = t.details
         FROM (${source.sql}) t WHERE i.id = t.id AND i.resolved_at IS NULL`,
        source.params,
      ));
    }

    let opened: Incident[] = [];
    if (decision.open.length > 0) {
      const source = unnest(
        [
          ['kind', 'text'],
          ['store_id', 'text'],
          ['dates', 'jsonb'],
          ['summary', 'text'],
          ['details', 'jsonb'],
        ],
        [
          decision.open.map((o) => o.kind),
          decision.open.map((o) => o.store),
          decision.open.map((o) => JSON.stringify(o.dates)),
          decision.open.map((o) => o.summary),
          decision.open.map((o) => JSON.stringify(o.details)),
        ],
        2,
      );
      const { rows } = await tx.query<IncidentRow>(
        `INSERT INTO incidents (kind, store_id, dates, summary, details, opened_at, alerts_sent, last_alerted_at)
         SELECT t.kind, t.store_id, ARRAY(SELECT jsonb_array_elements_text(t.dates))::date[], t.summary, t.details,
                $1, 1, $1
         FROM (${source.sql}) t
         ON CONFLICT (kind, (coalesce(store_id, ''))) WHERE resolved_at IS NULL DO NOTHING
         RETURNING ${INCIDENT_COLUMNS}`,
        [now, ...source.params],
      );
      opened = rows.map(incident);
    }

    let reminded: Incident[] = [];
    if (decision.remind.length > 0) {
      const { rows } = await tx.query<IncidentRow>(
        `UPDATE incidents SET alerts_sent = alerts_sent + 1, last_alerted_at = $2
         WHERE id = ANY($1::bigint[]) AND resolved_at IS NULL AND (last_alerted_at IS NULL OR last_alerted_at <= $3)
         RETURNING ${INCIDENT_COLUMNS}`,
        [decision.remind, now, decision.remindAlertedBefore],
      );
      reminded = rows.map(incident);
    }

    let resolved: Incident[] = [];
    if (decision.resolve.length > 0) {
      const source = unnest(
        [
          ['id', 'bigint'],
          ['summary', 'text'],
        ],
        [decision.resolve.map((r) => r.id), decision.resolve.map((r) => r.summary)],
        2,
      );
      const { rows } = await tx.query<IncidentRow>(
        `UPDATE incidents i
         SET resolved_at = $1, resolved_alerted_at = $1, last_alerted_at = $1, alerts_sent = i.alerts_sent + 1,
             summary = t.summary
         FROM (${source.sql}) t WHERE i.id = t.id AND i.resolved_at IS NULL
         RETURNING i.*`,
        [now, ...source.params],
      );
      resolved = rows.map(incident);
    }

    const alerts = [
      ...opened.map((i) => ['opened', i] as const),
      ...reminded.map((i) => ['reminder', i] as const),
      ...resolved.map((i) => ['resolved', i] as const),
    ];
    const queued = await enqueue(tx, now, alerts, channels);
    return {
      opened: sortById(opened),
      reminded: sortById(reminded),
      resolved: sortById(resolved),
      refreshed,
      queued,
    };
  });
}

const sortById = (list: Incident[]) => list.sort((a, b) => a.id - b.id);

async function enqueue(
  tx: Queryable,
  now: Date,
  alerts: ReadonlyArray<readonly [AlertEvent, Incident]>,
  channels: readonly AlertChannel[],
): Promise<number> {
  const rows = alerts.flatMap(([event, i]) => channels.map((channel) => ({ event, i, channel })));
  if (rows.length === 0) return 0;
  const source = unnest(
    [
      ['incident_id', 'bigint'],
      ['alert_no', 'integer'],
      ['event', 'text'],
      ['channel', 'text'],
      ['incident', 'jsonb'],
    ],
    [
      rows.map((r) => r.i.id),
      rows.map((r) => r.i.alertsSent),
      rows.map((r) => r.event),
      rows.map((r) => r.channel),
      rows.map((r) => JSON.stringify(snapshot(r.i))),
    ],
    2,
  );
  const { rowCount } = await tx.query(
    `INSERT INTO alert_deliveries (incident_id, alert_no, event, channel, incident, created_at, next_attempt_at)
     SELECT t.incident_id, t.alert_no, t.event, t.channel, t.incident, $1, $1 FROM (${source.sql}) t
     ON CONFLICT (incident_id, alert_no, channel) DO NOTHING`,
    [now, ...source.params],
  );
  return rowCount;
}

const DELIVERY_COLUMNS = `id, incident_id, alert_no, event, channel, incident, created_at, attempts, next_attempt_at,
  delivered_at, gave_up_at, last_error`;

interface DeliveryRow {
  id: number;
  incident_id: number;
  alert_no: number;
  event: AlertEvent;
  channel: AlertChannel;
  incident: IncidentSnapshot;
  created_at: Date;
  attempts: number;
  next_attempt_at: Date;
  delivered_at: Date | null;
  gave_up_at: Date | null;
  last_error: string | null;
}

function delivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    incidentId: row.incident_id,
    alertNo: row.alert_no,
    event: row.event,
    channel: row.channel,
    incident: row.incident,
    createdAt: row.created_at,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    gaveUpAt: row.gave_up_at,
    lastError: row.last_error,
  };
}

/**
 * Takes the deliveries due at `now` on these channels, oldest first: each one's attempt is counted and it is held
 * until `now + leaseMs` (a process that dies while sending leaves it to be tried again then). A delivery waits
 * while an earlier alert of its incident on its channel is pending, so no channel hears of a resolution before the
 * opening. Two processes never take the same delivery.
 */
export async function claimDeliveries(
  db: Queryable,
  options: { now: Date; channels: readonly AlertChannel[]; limit: number; leaseMs: number },
): Promise<Delivery[]> {
  if (options.channels.length === 0 || options.limit <= 0) return [];
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE alert_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $2
     WHERE d.id IN (
       SELECT p.id FROM alert_deliveries p
       WHERE p.delivered_at IS NULL AND p.gave_up_at IS NULL AND p.next_attempt_at <= $1 AND p.channel = ANY($3::text[])
         AND NOT EXISTS (
           SELECT 1 FROM alert_deliveries e
           WHERE e.incident_id = p.incident_id AND e.channel = p.channel AND e.alert_no < p.alert_no
             AND e.delivered_at IS NULL AND e.gave_up_at IS NULL)
       ORDER BY p.next_attempt_at, p.id
       LIMIT $4
       FOR UPDATE SKIP LOCKED)
     RETURNING d.*`,
    [options.now, new Date(options.now.getTime() + options.leaseMs), options.channels, options.limit],
  );
  return rows.map(delivery).sort((a, b) => a.id - b.id);
}

export async function recordDelivered(db: Queryable, id: number, at: Date): Promise<void> {
  await db.query(`UPDATE alert_deliveries SET delivered_at = $2, last_error = NULL WHERE id = $1`, [id, at]);
}

/** A failed attempt: tried again at `retryAt`, or given up at `at` when `retryAt` is null. */
export async function recordFailure(
  db: Queryable,
  id: number,
  failure: { at: Date; error: string; retryAt: Date | null },
): Promise<void> {
  await db.query(
    `UPDATE alert_deliveries
     SET last_error = $2, next_attempt_at = coalesce($3::timestamptz, next_attempt_at),
         gave_up_at = CASE WHEN $3::timestamptz IS NULL THEN $4::timestamptz END
     WHERE id = $1 AND delivered_at IS NULL`,
    [id, failure.error, failure.retryAt, failure.at],
  );
}

/** Deliveries, oldest first: of one incident, or all. */
export async function listDeliveries(db: Queryable, options: { incidentId?: number } = {}): Promise<Delivery[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE $1::bigint IS NULL OR incident_id = $1 ORDER BY id`,
    [options.incidentId ?? null],
  );
  return rows.map(delivery);
}
