-- Pushes to subscribing departments (internal/delivery). The ledger is the
-- outbox: every pushable change already appends a leaf in its own
-- transaction; the dispatcher turns leaves into deliveries from a cursor
-- kept here (its row is locked for a batch, so several servers never
-- dispatch a leaf twice), and the sender records every attempt.

CREATE TABLE subscriptions (
    id         text PRIMARY KEY,
    dept       text NOT NULL REFERENCES departments (code),
    url        text NOT NULL,
    events     text[] NOT NULL, -- event types
    lists      text[] NOT NULL, -- list codes; empty: every list
    items      text[] NOT NULL, -- item codes; empty: every item the department may read
    secret     bytea NOT NULL,  -- the signing secret, sealed with the keyring
    from_leaf  bigint NOT NULL, -- the first ledger index pushed to it
    created_at timestamptz NOT NULL,
    deleted_at timestamptz      -- NULL while live
);
CREATE INDEX subscriptions_dept ON subscriptions (dept, id);

-- The dispatcher's cursor: the next ledger index to look at. It starts at
-- the end of the ledger: changes made before pushes existed are not pushed.
CREATE TABLE delivery_cursor (
    id        integer PRIMARY KEY CHECK (id = 1),
    next_leaf bigint NOT NULL
);
INSERT INTO delivery_cursor (id, next_leaf) SELECT 1, COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves;

CREATE TABLE deliveries (
    id               text PRIMARY KEY,
    subscription_id  text NOT NULL REFERENCES subscriptions (id),
    event_id         text NOT NULL, -- the ledger event id
    event_type       text NOT NULL,
    leaf_index       bigint NOT NULL,
    status           text NOT NULL, -- pending | delivered | dead
    attempts         integer NOT NULL DEFAULT 0,
    retries          integer NOT NULL DEFAULT 0, -- failures in a row in this round
    created_at       timestamptz NOT NULL,
    next_at          timestamptz,   -- when pending
    first_attempt_at timestamptz,   -- of this round
    last_attempt_at  timestamptz,
    last_status      integer,
    last_error       text NOT NULL DEFAULT '',
    delivered_at     timestamptz,
    lease_until      timestamptz,   -- a sender holds it until then
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_pending ON deliveries (subscription_id, next_at, leaf_index) WHERE status = 'pending';
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE lease_until IS NOT NULL;

-- Every attempt; answers' bodies are never kept.
CREATE TABLE delivery_attempts (
    delivery_id text NOT NULL REFERENCES deliveries (id),
    n           integer NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer,          -- NULL: no HTTP answer
    error       text NOT NULL DEFAULT '',
    duration_ms bigint NOT NULL,
    PRIMARY KEY (delivery_id, n)
);
