-- A day whose every line KLK sent was quarantined is `rejected`, not `empty`. Each whole-day extraction records how
-- many of the day's lines were quarantined and a fingerprint of them (order-independent hash of each line's content,
-- keys included), so a later extraction can tell whether the source changed. Null: never extracted whole since.
ALTER TABLE store_days ADD COLUMN IF NOT EXISTS klk_rejected integer;
ALTER TABLE store_days ADD COLUMN IF NOT EXISTS klk_rejected_fingerprint text;
-- Set when a whole-day extraction finds every line rejected again, but other lines than the extraction before it:
-- the source changed, so the day is worth one more fetch. The next whole-day extraction sets or clears it again.
ALTER TABLE store_days ADD COLUMN IF NOT EXISTS rejected_source_changed_at timestamptz;

-- The local day of a quarantined line (null when its date was unreadable): rejected lines are listed per store-day.
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS day date;
CREATE INDEX IF NOT EXISTS quarantine_store_day_idx ON quarantine (store_id, day);
