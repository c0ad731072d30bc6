-- Red and black lists: departments own lists and check people at the
-- counter for matters; list entries with their lifecycle, each version
-- committed to the ledger.

ALTER TABLE departments ADD COLUMN lists text[] NOT NULL DEFAULT '{}';   -- list codes owned
ALTER TABLE departments ADD COLUMN matters text[] NOT NULL DEFAULT '{}'; -- counter matters

CREATE TABLE list_entries (
    id          text PRIMARY KEY,
    list        text NOT NULL,
    dept        text NOT NULL REFERENCES departments (code),
    ref         text NOT NULL,
    record_id   text NOT NULL REFERENCES records (id),
    subject_key bytea NOT NULL,
    status      text NOT NULL,
    version     integer NOT NULL,
    active_from date NOT NULL,
    until       date,
    state       bytea NOT NULL, -- the canonical entry (listing.Entry.State)
    UNIQUE (dept, ref)
);
CREATE INDEX list_entries_list ON list_entries (list, status, id);
CREATE INDEX list_entries_subject ON list_entries (subject_key);
CREATE INDEX list_entries_due ON list_entries (status, active_from, until);

CREATE TABLE list_entry_versions (
    entry_id   text NOT NULL REFERENCES list_entries (id),
    version    integer NOT NULL,
    state      bytea NOT NULL,
    salt       bytea,
    leaf_index bigint UNIQUE,
    PRIMARY KEY (entry_id, version)
);
