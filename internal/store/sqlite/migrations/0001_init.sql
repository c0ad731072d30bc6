-- pubcredit schema, SQLite dialect. Every per-person table carries subject_key
-- (the HMAC of the normalised identity number); no identity number or name is
-- stored in the clear.

CREATE TABLE departments (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    uscc         TEXT NOT NULL DEFAULT '',
    submit_items TEXT NOT NULL, -- JSON array of catalog item codes
    read_items   TEXT NOT NULL, -- JSON array of catalog item codes
    disabled     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);

CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY, -- SHA-256 of the token
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX tokens_subject ON tokens (kind, subject);

CREATE TABLE subjects (
    subject_key BLOB PRIMARY KEY,
    id_type     TEXT NOT NULL,
    number_enc  BLOB NOT NULL,
    name_enc    BLOB NOT NULL,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE records (
    id             TEXT PRIMARY KEY,
    dept           TEXT NOT NULL REFERENCES departments (code),
    ref            TEXT NOT NULL,
    item           TEXT NOT NULL,
    subject_key    BLOB NOT NULL REFERENCES subjects (subject_key),
    version        INTEGER NOT NULL,
    status         TEXT NOT NULL,
    severity       TEXT NOT NULL DEFAULT '',
    display_from   TEXT NOT NULL,
    earliest_end   TEXT NOT NULL DEFAULT '',
    display_end    TEXT NOT NULL DEFAULT '',
    public         INTEGER NOT NULL,
    payload        BLOB NOT NULL,
    content_hash   BLOB NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    revoked_reason TEXT NOT NULL DEFAULT '',
    revoked_basis  TEXT NOT NULL DEFAULT '',
    revoked_at     TEXT NOT NULL DEFAULT '',
    UNIQUE (dept, ref)
);
CREATE INDEX records_subject ON records (subject_key);

CREATE TABLE record_versions (
    record_id TEXT NOT NULL REFERENCES records (id),
    version   INTEGER NOT NULL,
    change    TEXT NOT NULL,
    at        TEXT NOT NULL,
    payload   BLOB NOT NULL,
    note      BLOB,
    PRIMARY KEY (record_id, version)
); -- a rowid table: versions are large, and WITHOUT ROWID would put each on an overflow page

CREATE TABLE access_events (
    id             TEXT PRIMARY KEY,
    at             TEXT NOT NULL,
    principal_kind TEXT NOT NULL,
    principal      TEXT NOT NULL,
    subject_key    BLOB NOT NULL,
    action         TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    authority      TEXT NOT NULL,
    records        TEXT NOT NULL, -- JSON array of record ids
    items          TEXT NOT NULL  -- JSON array of item codes
);
CREATE INDEX access_events_subject ON access_events (subject_key, at);

CREATE TABLE batches (
    id          TEXT PRIMARY KEY,
    dept        TEXT NOT NULL REFERENCES departments (code),
    item        TEXT NOT NULL DEFAULT '',
    format      TEXT NOT NULL,
    status      TEXT NOT NULL,
    rows        INTEGER NOT NULL DEFAULT 0,
    accepted    INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT ''
);

CREATE TABLE batch_rejections (
    batch_id TEXT NOT NULL REFERENCES batches (id),
    line     INTEGER NOT NULL,
    ref      TEXT NOT NULL DEFAULT '',
    errors   TEXT NOT NULL, -- JSON array of {field, code, message}
    PRIMARY KEY (batch_id, line)
) WITHOUT ROWID;
