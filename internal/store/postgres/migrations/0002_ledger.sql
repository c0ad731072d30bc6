-- The tamper-evident ledger. Every record version and access event commits
-- to a leaf appended in the same transaction; leaves hold commitments, never
-- personal data (see internal/ledger). Appenders serialize on an advisory
-- transaction lock, so the sequence is gap-free across processes.

ALTER TABLE record_versions ADD COLUMN state bytea NOT NULL DEFAULT ''::bytea; -- canonical record row at this version
ALTER TABLE record_versions ADD COLUMN salt bytea;                             -- commitment salt; NULL once erased
ALTER TABLE record_versions ADD COLUMN leaf_index bigint;
CREATE UNIQUE INDEX record_versions_leaf ON record_versions (leaf_index);

ALTER TABLE access_events ADD COLUMN salt bytea;
ALTER TABLE access_events ADD COLUMN leaf_index bigint;
CREATE UNIQUE INDEX access_events_leaf ON access_events (leaf_index);

CREATE TABLE ledger_leaves (
    idx      bigint PRIMARY KEY, -- gap-free from 0, in commit order
    kind     text NOT NULL,
    event_id text NOT NULL,
    data     bytea NOT NULL      -- the leaf bytes (pubcredit-leaf/v1)
);

-- tlog's stored hashes (golang.org/x/mod/sumdb/tlog), written by the
-- integrator for every leaf below the newest checkpoint.
CREATE TABLE ledger_hashes (
    idx  bigint PRIMARY KEY,
    hash bytea NOT NULL
);

CREATE TABLE ledger_checkpoints (
    size       bigint PRIMARY KEY,
    signed     bytea NOT NULL, -- the signed note
    created_at timestamptz NOT NULL
);
