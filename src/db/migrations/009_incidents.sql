-- Incidents the daemon opens, reminds of and resolves by itself (src/incidents/). Kept in a table so a restart
-- neither forgets an open incident nor opens it, or alerts of it, a second time. Times are the `ventas` clock's.
CREATE TABLE IF NOT EXISTS incidents (
  id bigserial PRIMARY KEY,
  kind varchar(20) NOT NULL
    CHECK (kind IN ('klk_unreachable', 'store_stale', 'recovery_failed', 'heal_exhausted', 'quarantine')),
  -- null: the whole chain (KLK down, the nightly recovery)
  store_id varchar(50),
  -- the store-days concerned (none for KLK down or a stale store)
  dates date[] NOT NULL DEFAULT '{}',
  -- in Spanish, as the alert says it; refreshed while open, the resolution's once resolved
  summary text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',
  opened_at timestamptz NOT NULL,
  -- alerts issued: the opening, each reminder, the resolution (each one delivery per channel)
  alerts_sent integer NOT NULL DEFAULT 0,
  last_alerted_at timestamptz,
  resolved_at timestamptz,
  resolved_alerted_at timestamptz
);
-- One open incident per (kind, store): opening is an insert that does nothing when one is already open.
CREATE UNIQUE INDEX IF NOT EXISTS incidents_open_key ON incidents (kind, (coalesce(store_id, ''))) WHERE resolved_at IS NULL;
CREATE INDEX IF NOT EXISTS incidents_opened_idx ON incidents (opened_at DESC);

-- The outbox: one row per alert and channel, written in the transaction that opens, reminds of or resolves the
-- incident, and marked once delivered. A failed delivery waits for `next_attempt_at`; a restart picks up what is
-- pending, and `(incident_id, alert_no, channel)` keeps the same alert from being queued twice.
CREATE TABLE IF NOT EXISTS alert_deliveries (
  id bigserial PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  -- the incident's alert this delivers: 1 the opening, then each reminder, the last the resolution
  alert_no integer NOT NULL,
  event varchar(10) NOT NULL CHECK (event IN ('opened', 'reminder', 'resolved')),
  channel varchar(10) NOT NULL CHECK (channel IN ('webhook', 'slack', 'email')),
  -- the incident as it was when the alert was issued (what the message says, however late it goes out)
  incident jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  delivered_at timestamptz,
  -- given up after retrying for too long: the incident's next alert carries the news
  gave_up_at timestamptz,
  last_error text,
  UNIQUE (incident_id, alert_no, channel)
);
CREATE INDEX IF NOT EXISTS alert_deliveries_due_idx ON alert_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL AND gave_up_at IS NULL;
