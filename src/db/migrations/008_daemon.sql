-- `ventas daemon`'s own state. Per tick (`sync@America/Caracas`, `recovery@...`, daemon/ticks.ts): the due time it
-- last ran for, so a tick is due once whoever leads and whatever restarts; `owner` (a liveness owner, db/liveness.ts)
-- ran it, so a run whose process is gone reads as interrupted and may be taken again.
CREATE TABLE IF NOT EXISTS daemon_ticks (
  name text PRIMARY KEY,
  last_due_at timestamptz NOT NULL,
  owner text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'success', 'failed')),
  run_started_at timestamptz NOT NULL,
  run_finished_at timestamptz,
  error text
);

-- Which daemon schedules (daemon/leadership.ts): one row, a lease renewed by its holder (a liveness owner), taken
-- over when it runs out or the holder's process is gone.
CREATE TABLE IF NOT EXISTS daemon_leader (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  holder text NOT NULL,
  since timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
