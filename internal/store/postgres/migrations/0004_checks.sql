-- Checks at the counter and the departments' feedback on the measures
-- returned.

CREATE TABLE checks (
    id          text PRIMARY KEY,
    dept        text NOT NULL REFERENCES departments (code),
    subject_key bytea NOT NULL,
    matter      text NOT NULL,
    purpose     text NOT NULL,
    at          timestamptz NOT NULL,
    measures    jsonb NOT NULL -- the measures returned with their grounds
);
CREATE INDEX checks_at ON checks (at);

CREATE TABLE check_measures (
    check_id text NOT NULL REFERENCES checks (id),
    measure  text NOT NULL,
    dept     text NOT NULL,
    at       timestamptz NOT NULL,
    PRIMARY KEY (check_id, measure)
);
CREATE INDEX check_measures_at ON check_measures (at);

CREATE TABLE check_feedback (
    check_id text NOT NULL,
    measure  text NOT NULL,
    dept     text NOT NULL,
    applied  boolean NOT NULL,
    note     text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL,
    PRIMARY KEY (check_id, measure),
    FOREIGN KEY (check_id, measure) REFERENCES check_measures (check_id, measure)
);
