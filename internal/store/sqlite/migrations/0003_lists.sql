-- Red and black lists: departments own lists and check people at the
-- counter for matters; list entries with their lifecycle, each version
-- committed to the ledger.

ALTER TABLE departments ADD COLUMN lists TEXT NOT NULL DEFAULT '[]';   -- JSON array of list codes owned
ALTER TABLE departments ADD COLUMN matters TEXT NOT NULL DEFAULT '[]'; -- JSON array of counter matters

CREATE TABLE list_entries (
    id          TEXT PRIMARY KEY,
    list        TEXT NOT NULL,
    dept        TEXT NOT NULL REFERENCES departments (code),
    ref         TEXT NOT NULL,
    record_id   TEXT NOT NULL REFERENCES records (id),
    subject_key BLOB NOT NULL,
    status      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    active_from TEXT NOT NULL,
    until       TEXT NOT NULL DEFAULT '',
    state       BLOB NOT NULL, -- the canonical entry (listing.Entry.State)
    UNIQUE (dept, ref)
);
CREATE INDEX list_entries_list ON list_entries (list, status, id);
CREATE INDEX list_entries_subject ON list_entries (subject_key);
CREATE INDEX list_entries_due ON list_entries (status, active_from, until);

CREATE TABLE list_entry_versions (
    entry_id   TEXT NOT NULL REFERENCES list_entries (id),
    version    INTEGER NOT NULL,
    state      BLOB NOT NULL,
    salt       BLOB,
    leaf_index INTEGER UNIQUE,
    PRIMARY KEY (entry_id, version)
);
