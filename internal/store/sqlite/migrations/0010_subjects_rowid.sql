-- subjects becomes a rowid table, its rows in leaf order. As a WITHOUT
-- ROWID table keyed by the subject key (an HMAC, random), its rows lay in
-- random order, and verify, which reads them in leaf order, sought every
-- one from the root: a seventh of its CPU. Now the leaf order is the rowid
-- order, and the key is a unique index beside the rows. Run with foreign
-- keys off (Migrate), as SQLite's procedure for rebuilding a table asks;
-- records keep referring to subjects by name.
CREATE TABLE subjects_rowid (
    subject_key BLOB NOT NULL PRIMARY KEY,
    id_type     TEXT NOT NULL,
    number_enc  BLOB NOT NULL,
    name_enc    BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    id          TEXT,
    salt        BLOB,
    leaf_index  INTEGER
);
INSERT INTO subjects_rowid (subject_key, id_type, number_enc, name_enc, created_at, id, salt, leaf_index)
    SELECT subject_key, id_type, number_enc, name_enc, created_at, id, salt, leaf_index FROM subjects ORDER BY leaf_index;
DROP TABLE subjects;
ALTER TABLE subjects_rowid RENAME TO subjects;
CREATE UNIQUE INDEX subjects_leaf ON subjects (leaf_index);

-- As in migration 9: a server of an older build cannot store people
-- without an id and a ledger leaf.
CREATE TRIGGER subjects_need_id BEFORE INSERT ON subjects WHEN NEW.id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a subjects row needs an id and a ledger leaf: the database was migrated by a newer pubcredit');
END;
