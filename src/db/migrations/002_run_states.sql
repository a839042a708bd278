-- A run stopped by a signal is `interrupted` (resumable); one a person stopped for good is `cancelled`.
ALTER TABLE backfills DROP CONSTRAINT IF EXISTS backfills_status_check;
ALTER TABLE backfills ADD CONSTRAINT backfills_status_check
  CHECK (status IN ('running', 'complete', 'partial', 'failed', 'interrupted', 'cancelled'));
ALTER TABLE etl_runs DROP CONSTRAINT IF EXISTS etl_runs_status_check;
ALTER TABLE etl_runs ADD CONSTRAINT etl_runs_status_check
  CHECK (status IN ('running', 'success', 'partial', 'failed', 'skipped', 'interrupted', 'cancelled'));
