-- A person's subjects row (their sealed number and name) is ledgered when
-- it is first stored: a leaf of kind subject commits to it with a salt of
-- its own, so that a number or name swapped in the database is found by
-- verify. The leaf names the row by id, never by its key. Rows stored
-- before this migration are sealed by it (Migrate, in Go), at their own
-- created_at.
ALTER TABLE subjects ADD COLUMN id text;
ALTER TABLE subjects ADD COLUMN salt bytea;
ALTER TABLE subjects ADD COLUMN leaf_index bigint;
CREATE UNIQUE INDEX subjects_leaf ON subjects (leaf_index);

-- A server of an older build, left running after this migration, would
-- store people with no id and no leaf: refuse those writes rather than
-- let them pass for tampering later (NOT VALID: the rows stored before are
-- sealed by the migration itself).
ALTER TABLE subjects ADD CONSTRAINT subjects_need_id CHECK (id IS NOT NULL) NOT VALID;
