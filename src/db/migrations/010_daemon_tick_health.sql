-- What a tick's failures say across due times: when it last succeeded, and since when KLK has not answered it (the
-- first unreachable run after its last success). On the ventas clock, so simulated time counts as real.
ALTER TABLE daemon_ticks ADD COLUMN IF NOT EXISTS last_success_at timestamptz;
ALTER TABLE daemon_ticks ADD COLUMN IF NOT EXISTS unreachable_since timestamptz;

-- The daemon's heal attempts per store-day still incomplete (daemon/heal-attempts.ts): after heal.maxAttempts it
-- gives the store-day up, with an incident, until the day is complete again.
CREATE TABLE IF NOT EXISTS heal_attempts (
  store_id varchar(50) NOT NULL,
  day date NOT NULL,
  attempts integer NOT NULL,
  last_attempt_at timestamptz NOT NULL,
  PRIMARY KEY (store_id, day)
);
