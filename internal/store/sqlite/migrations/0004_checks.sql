-- Checks at the counter and the departments' feedback on the measures
-- returned.

CREATE TABLE checks (
    id          TEXT PRIMARY KEY,
    dept        TEXT NOT NULL REFERENCES departments (code),
    subject_key BLOB NOT NULL,
    matter      TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    at          TEXT NOT NULL,
    measures    TEXT NOT NULL -- JSON: the measures returned with their grounds
);
CREATE INDEX checks_at ON checks (at);

CREATE TABLE check_measures (
    check_id TEXT NOT NULL REFERENCES checks (id),
    measure  TEXT NOT NULL,
    dept     TEXT NOT NULL,
    at       TEXT NOT NULL,
    PRIMARY KEY (check_id, measure)
) WITHOUT ROWID;
CREATE INDEX check_measures_at ON check_measures (at);

CREATE TABLE check_feedback (
    check_id TEXT NOT NULL,
    measure  TEXT NOT NULL,
    dept     TEXT NOT NULL,
    applied  INTEGER NOT NULL,
    note     TEXT NOT NULL DEFAULT '',
    at       TEXT NOT NULL,
    PRIMARY KEY (check_id, measure),
    FOREIGN KEY (check_id, measure) REFERENCES check_measures (check_id, measure)
) WITHOUT ROWID;
