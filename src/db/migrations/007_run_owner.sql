-- The process running an ETL run (its lease owner, see db/liveness.ts): a run left `running` whose owner is gone
-- reads `interrupted` at once, even after another run took its stores. Null for runs recorded before.
ALTER TABLE etl_runs ADD COLUMN IF NOT EXISTS owner text;
