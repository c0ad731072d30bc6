package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/errs"
	"pubcredit/internal/measure"
)

var _ measure.CheckStore = (*Store)(nil)

// CreateCheck stores a check, the measures it returned and its access
// event in one transaction.
func (s *Store) CreateCheck(ctx context.Context, c measure.Check, e access.Event) error {
	ms, _ := json.Marshal(c.Measures)
	return s.grouped(ctx, func(ctx context.Context, tx *txn) error {
		leaves, err := tx.leaves(ctx)
		if err != nil {
			return err
		}
		idx, err := leaves.append(ctx, measure.CheckLeafKind, c.ID, -1, c.Leaf)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checks (id, dept, subject_key, matter, purpose, at, measures, salt, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Dept, c.SubjectKey, c.Matter, c.Purpose, ts(c.At), string(ms), c.Salt, idx); err != nil {
			return err
		}
		for _, m := range c.Measures {
			if _, err := tx.ExecContext(ctx, `INSERT INTO check_measures (check_id, measure, dept, at) VALUES (?, ?, ?, ?)`, c.ID, m.Code, c.Dept, ts(c.At)); err != nil {
				return err
			}
		}
		return tx.insertAccess(ctx, e)
	})
}

// Check returns a check. Returns NotFound.
const checkCols = `id, dept, subject_key, matter, purpose, at, measures, salt, COALESCE(leaf_index, -1)`

// scanCheck reads checkCols.
func scanCheck(row interface{ Scan(...any) error }) (measure.Check, error) {
	var c measure.Check
	var at, ms string
	if err := row.Scan(&c.ID, &c.Dept, &c.SubjectKey, &c.Matter, &c.Purpose, &at, &ms, &c.Salt, &c.LeafIndex); err != nil {
		return c, err
	}
	c.At, c.Measures = parseTS(at), measure.MeasuresOf([]byte(ms))
	return c, nil
}

func (s *Store) Check(ctx context.Context, id string) (measure.Check, error) {
	c, err := scanCheck(s.r.QueryRowContext(ctx, `SELECT `+checkCols+` FROM checks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.E(errs.NotFound, "no check %q", id)
	}
	return c, translate(err)
}

// AddFeedback stores feedback on measures of a check; Conflict when any has it already.
func (s *Store) AddFeedback(ctx context.Context, fs []measure.Feedback) error {
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		leaves, err := tx.leaves(ctx)
		if err != nil {
			return err
		}
		for i, f := range fs {
			idx, err := leaves.append(ctx, measure.FeedbackLeafKind, f.EventID(), -1, f.Leaf)
			if err != nil {
				return err
			}
			if n, ok := idx.(int64); ok {
				fs[i].LeafIndex = n
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO check_feedback (check_id, measure, dept, applied, note, at, salt, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				f.CheckID, f.Measure, f.Dept, f.Applied, f.Note, ts(f.At), f.Salt, idx); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errs.Conflict) {
		return errs.E(errs.Conflict, "feedback was already given on a measure of this check; it is given once per measure")
	}
	return err
}

// Feedback returns the feedback on a check.
func (s *Store) Feedback(ctx context.Context, checkID string) ([]measure.Feedback, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+feedbackCols+` FROM check_feedback WHERE check_id = ? ORDER BY measure`, checkID)
	out, err := collect(rows, err, scanFeedback)
	if out == nil && err == nil {
		out = []measure.Feedback{}
	}
	return out, err
}

const feedbackCols = `check_id, measure, dept, applied, note, at, salt, COALESCE(leaf_index, -1)`

// scanFeedback reads feedbackCols; Salt is nil when NULL.
func scanFeedback(row interface{ Scan(...any) error }) (measure.Feedback, error) {
	var f measure.Feedback
	var at string
	err := row.Scan(&f.CheckID, &f.Measure, &f.Dept, &f.Applied, &f.Note, &at, &f.Salt, &f.LeafIndex)
	f.At = parseTS(at)
	return f, err
}

// CheckCounts counts checks per department and matter in [from, to).
func (s *Store) CheckCounts(ctx context.Context, from, to time.Time) (map[measure.CheckKey]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT dept, matter, COUNT(*) FROM checks WHERE at >= ? AND at < ? GROUP BY dept, matter`, ts(from), ts(to))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := map[measure.CheckKey]int{}
	for rows.Next() {
		var k measure.CheckKey
		var n int
		if err := rows.Scan(&k.Dept, &k.Matter, &n); err != nil {
			return nil, translate(err)
		}
		out[k] = n
	}
	return out, translate(rows.Err())
}

// ReturnedMeasures streams the measures returned in [from, to) with their feedback.
func (s *Store) ReturnedMeasures(ctx context.Context, from, to time.Time, fn func(measure.Returned) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT m.dept, m.measure, m.at, f.applied FROM check_measures m
		LEFT JOIN check_feedback f ON f.check_id = m.check_id AND f.measure = m.measure WHERE m.at >= ? AND m.at < ?`, ts(from), ts(to))
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r measure.Returned
		var at string
		var applied sql.NullBool
		if err := rows.Scan(&r.Dept, &r.Measure, &at, &applied); err != nil {
			return translate(err)
		}
		r.At = parseTS(at)
		if applied.Valid {
			r.Feedback = &applied.Bool
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
