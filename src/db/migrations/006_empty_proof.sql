-- "0 sales" must be proven (a failure that looks like an empty day is how the old system lost weeks). A day is
-- empty only on whole-day answers whose `meta` echoes the request with `total_registros` 0; on a weekday the store
-- usually sells, only once a second such answer came at least 6 hours after the first. These columns keep that
-- evidence, in the `ventas` clock's time: the first and the latest of the proven 0-line answers in a row (any
-- answer with lines clears both), and the latest whole-day answer without `meta` that had no line for the day
-- (it proves nothing: the day keeps its state, and the report says why).
ALTER TABLE store_days ADD COLUMN IF NOT EXISTS empty_since timestamptz;
ALTER TABLE store_days ADD COLUMN IF NOT EXISTS empty_seen_at timestamptz;
ALTER TABLE store_days ADD COLUMN IF NOT EXISTS unproven_empty_at timestamptz;

-- Days recorded empty before this evidence existed: their one answer is all that is known of them, so they count as
-- a first proven 0-line answer. On a weekday the store usually sells, the next whole-day answer confirms them.
UPDATE store_days SET empty_since = whole_day_extracted_at, empty_seen_at = whole_day_extracted_at
 WHERE klk_lines = 0 AND coalesce(klk_rejected, 0) = 0 AND empty_since IS NULL AND whole_day_extracted_at IS NOT NULL;
