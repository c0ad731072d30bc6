-- pubcredit schema, PostgreSQL dialect. The same tables and columns as the
-- SQLite dialect, with native types: bytea, timestamptz, date (NULL for no
-- date), boolean, text[] for lists of codes and ids, jsonb for structured
-- rejection reasons. Every per-person table carries subject_key (the HMAC of
-- the normalised identity number), so it can be distributed on that column;
-- no identity number or name is stored in the clear.

CREATE TABLE departments (
    code         text PRIMARY KEY,
    name         text NOT NULL,
    uscc         text NOT NULL DEFAULT '',
    submit_items text[] NOT NULL, -- catalog item codes
    read_items   text[] NOT NULL, -- catalog item codes
    disabled     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL
);

CREATE TABLE tokens (
    hash       bytea PRIMARY KEY, -- SHA-256 of the token
    kind       text NOT NULL,
    subject    text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX tokens_subject ON tokens (kind, subject);

CREATE TABLE subjects (
    subject_key bytea PRIMARY KEY,
    id_type     text NOT NULL,
    number_enc  bytea NOT NULL,
    name_enc    bytea NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE records (
    id             text PRIMARY KEY,
    dept           text NOT NULL REFERENCES departments (code),
    ref            text NOT NULL,
    item           text NOT NULL,
    subject_key    bytea NOT NULL REFERENCES subjects (subject_key),
    version        integer NOT NULL,
    status         text NOT NULL,
    severity       text NOT NULL DEFAULT '',
    display_from   date,
    earliest_end   date,
    display_end    date,
    public         boolean NOT NULL,
    payload        bytea NOT NULL,
    content_hash   bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    revoked_reason text NOT NULL DEFAULT '',
    revoked_basis  text NOT NULL DEFAULT '',
    revoked_at     timestamptz,
    CONSTRAINT records_dept_ref UNIQUE (dept, ref)
);
CREATE INDEX records_subject ON records (subject_key);

CREATE TABLE record_versions (
    record_id text NOT NULL REFERENCES records (id),
    version   integer NOT NULL,
    change    text NOT NULL,
    at        timestamptz NOT NULL,
    payload   bytea NOT NULL,
    note      bytea,
    PRIMARY KEY (record_id, version)
);

CREATE TABLE access_events (
    id             text PRIMARY KEY,
    at             timestamptz NOT NULL,
    principal_kind text NOT NULL,
    principal      text NOT NULL,
    subject_key    bytea NOT NULL,
    action         text NOT NULL,
    purpose        text NOT NULL,
    authority      text NOT NULL,
    records        text[] NOT NULL, -- ids of the records returned
    items          text[] NOT NULL  -- catalog item codes returned
);
CREATE INDEX access_events_subject ON access_events (subject_key, at);

CREATE TABLE batches (
    id          text PRIMARY KEY,
    dept        text NOT NULL REFERENCES departments (code),
    item        text NOT NULL DEFAULT '',
    format      text NOT NULL,
    status      text NOT NULL,
    rows        integer NOT NULL DEFAULT 0,
    accepted    integer NOT NULL DEFAULT 0,
    rejected    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    finished_at timestamptz
);

CREATE TABLE batch_rejections (
    batch_id text NOT NULL REFERENCES batches (id),
    line     integer NOT NULL,
    ref      text NOT NULL DEFAULT '',
    errors   jsonb NOT NULL, -- array of {field, code, message}
    PRIMARY KEY (batch_id, line)
);
