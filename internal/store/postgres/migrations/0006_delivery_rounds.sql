-- Deliveries in rounds (internal/delivery): the dispatcher's round is 1 and
-- each redelivery the department asks for starts the next one, so that a
-- pending redelivery does not show the earlier round's delivered_at as its
-- own and its earlier attempts stay listed with their round. Attempts made
-- before this migration count as round 1.
ALTER TABLE deliveries ADD COLUMN round integer NOT NULL DEFAULT 1;
ALTER TABLE deliveries ADD COLUMN redelivered_at timestamptz; -- the last redelivery asked for; NULL before any
-- true once the read that pushing the person in clear is has been written
-- to the access log for this round (retries do not write it again).
ALTER TABLE deliveries ADD COLUMN read_logged boolean NOT NULL DEFAULT false;
ALTER TABLE delivery_attempts ADD COLUMN round integer NOT NULL DEFAULT 1;
