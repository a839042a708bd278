-- What each daemon cycle did (daemon/cycles.ts), so every daemon process, leading or standing by, tells the same
-- truth: when the last cycle ended, the backlog it left, and the heal requests of the last hour (the budget is per
-- rolling hour of the ventas clock, whoever led). A cycle that failed is kept too (`error`): its heal requests were
-- spent all the same. Only the last two days are kept.
CREATE TABLE IF NOT EXISTS daemon_cycles (
  id bigserial PRIMARY KEY,
  owner text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  heal_requests integer NOT NULL,
  -- null when the cycle failed before it knew
  backlog integer,
  day_states jsonb,
  error text
);
CREATE INDEX IF NOT EXISTS daemon_cycles_ended_idx ON daemon_cycles (ended_at);

-- Each store's own sync (daemon/store-syncs.ts), from the sync tick's per-store results: its last success, and since
-- when (and why) it fails, so a store goes stale on its own and not with its whole time zone.
CREATE TABLE IF NOT EXISTS daemon_store_syncs (
  store_id varchar(50) PRIMARY KEY,
  last_success_at timestamptz,
  failing_since timestamptz,
  error text
);
