-- A check at the counter is ledgered as the other events of issue 4 are:
-- its row commits to a leaf (kind check) with a salt of its own, beside the
-- leaf of its access event. Checks made before this migration have none.
ALTER TABLE checks ADD COLUMN salt BLOB;
ALTER TABLE checks ADD COLUMN leaf_index INTEGER;
CREATE UNIQUE INDEX checks_leaf ON checks (leaf_index);
