-- The tamper-evident ledger. Every record version and access event commits
-- to a leaf appended in the same transaction; leaves hold commitments, never
-- personal data (see internal/ledger).

ALTER TABLE record_versions ADD COLUMN state BLOB NOT NULL DEFAULT x''; -- canonical record row at this version
ALTER TABLE record_versions ADD COLUMN salt BLOB;                        -- commitment salt; NULL once erased
ALTER TABLE record_versions ADD COLUMN leaf_index INTEGER;
CREATE UNIQUE INDEX record_versions_leaf ON record_versions (leaf_index);

ALTER TABLE access_events ADD COLUMN salt BLOB;
ALTER TABLE access_events ADD COLUMN leaf_index INTEGER;
CREATE UNIQUE INDEX access_events_leaf ON access_events (leaf_index);

CREATE TABLE ledger_leaves (
    idx      INTEGER PRIMARY KEY, -- gap-free from 0, in commit order
    kind     TEXT NOT NULL,
    event_id TEXT NOT NULL,
    data     BLOB NOT NULL        -- the leaf bytes (pubcredit-leaf/v1)
);

-- tlog's stored hashes (golang.org/x/mod/sumdb/tlog), written by the
-- integrator for every leaf below the newest checkpoint.
CREATE TABLE ledger_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);

CREATE TABLE ledger_checkpoints (
    size       INTEGER PRIMARY KEY,
    signed     BLOB NOT NULL, -- the signed note
    created_at TEXT NOT NULL
);
