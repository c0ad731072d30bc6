-- Feedback on the measures a check returned is ledgered like every other
-- event of issue 4: each row commits to a leaf (kind check.feedback) with a
-- salt of its own. Feedback given before this migration has none.
ALTER TABLE check_feedback ADD COLUMN salt BLOB;
ALTER TABLE check_feedback ADD COLUMN leaf_index INTEGER;
CREATE UNIQUE INDEX check_feedback_leaf ON check_feedback (leaf_index);
