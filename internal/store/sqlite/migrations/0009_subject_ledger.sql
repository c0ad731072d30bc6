-- A person's subjects row (their sealed number and name) is ledgered when
-- it is first stored: a leaf of kind subject commits to it with a salt of
-- its own, so that a number or name swapped in the database is found by
-- verify. The leaf names the row by id, never by its key. Rows stored
-- before this migration are sealed by it (Migrate, in Go), at their own
-- created_at.
ALTER TABLE subjects ADD COLUMN id TEXT;
ALTER TABLE subjects ADD COLUMN salt BLOB;
ALTER TABLE subjects ADD COLUMN leaf_index INTEGER;
CREATE UNIQUE INDEX subjects_leaf ON subjects (leaf_index);
