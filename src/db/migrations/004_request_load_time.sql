-- How long loading each request's answer took (the rows, the day summary, the chunk's completion), apart from the
-- request itself (duration_ms): the planner's estimate needs both, since the backfill fetches and loads in
-- parallel. Null for failed requests and for those recorded before this column.
ALTER TABLE klk_requests ADD COLUMN IF NOT EXISTS load_ms integer;
