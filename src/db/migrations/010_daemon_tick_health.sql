-- What a tick's failures say across due times: when it last succeeded, and since when KLK has not answered it (the
-- first unreachable run after its last success). On the ventas clock, so simulated time counts as real.
ALTER TABLE daemon_ticks ADD COLUMN IF NOT EXISTS last_success_at timestamptz;
ALTER TABLE daemon_ticks ADD COLUMN IF NOT EXISTS unreachable_since timestamptz;
