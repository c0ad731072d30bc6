-- Deliveries in rounds (internal/delivery): the dispatcher's round is 1 and
-- each redelivery the department asks for starts the next one, so that a
-- pending redelivery does not show the earlier round's delivered_at as its
-- own and its earlier attempts stay listed with their round. Attempts made
-- before this migration count as round 1.
ALTER TABLE deliveries ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
ALTER TABLE deliveries ADD COLUMN redelivered_at TEXT; -- the last redelivery asked for; NULL before any
-- 1 once the read that pushing the person in clear is has been written to
-- the access log for this round (retries do not write it again).
ALTER TABLE deliveries ADD COLUMN read_logged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE delivery_attempts ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
