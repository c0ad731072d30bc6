-- Pushes to subscribing departments (internal/delivery). The ledger is the
-- outbox: every pushable change already appends a leaf in its own
-- transaction; the dispatcher turns leaves into deliveries from a cursor
-- kept here, and the sender records every attempt.

CREATE TABLE subscriptions (
    id         TEXT PRIMARY KEY,
    dept       TEXT NOT NULL REFERENCES departments (code),
    url        TEXT NOT NULL,
    events     TEXT NOT NULL, -- JSON array of event types
    lists      TEXT NOT NULL, -- JSON array of list codes; empty: every list
    items      TEXT NOT NULL, -- JSON array of item codes; empty: every item the department may read
    secret     BLOB NOT NULL, -- the signing secret, sealed with the keyring
    from_leaf  INTEGER NOT NULL, -- the first ledger index pushed to it
    created_at TEXT NOT NULL,
    deleted_at TEXT           -- NULL while live
);
CREATE INDEX subscriptions_dept ON subscriptions (dept, id);

-- The dispatcher's cursor: the next ledger index to look at. It starts at
-- the end of the ledger: changes made before pushes existed are not pushed.
CREATE TABLE delivery_cursor (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    next_leaf INTEGER NOT NULL
);
INSERT INTO delivery_cursor (id, next_leaf) SELECT 1, COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves;

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL REFERENCES subscriptions (id),
    event_id         TEXT NOT NULL, -- the ledger event id
    event_type       TEXT NOT NULL,
    leaf_index       INTEGER NOT NULL,
    status           TEXT NOT NULL, -- pending | delivered | dead
    attempts         INTEGER NOT NULL DEFAULT 0,
    retries          INTEGER NOT NULL DEFAULT 0, -- failures in a row in this round
    created_at       TEXT NOT NULL,
    next_at          TEXT,          -- when pending
    first_attempt_at TEXT,          -- of this round
    last_attempt_at  TEXT,
    last_status      INTEGER,
    last_error       TEXT NOT NULL DEFAULT '',
    delivered_at     TEXT,
    lease_until      TEXT,          -- a sender holds it until then
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_pending ON deliveries (subscription_id, next_at, leaf_index) WHERE status = 'pending';
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE lease_until IS NOT NULL;

-- Every attempt; answers' bodies are never kept.
CREATE TABLE delivery_attempts (
    delivery_id TEXT NOT NULL REFERENCES deliveries (id),
    n           INTEGER NOT NULL,
    at          TEXT NOT NULL,
    status_code INTEGER,          -- NULL: no HTTP answer
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;
