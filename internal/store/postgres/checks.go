package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/access"
	"pubcredit/internal/errs"
	"pubcredit/internal/measure"
)

var _ measure.CheckStore = (*Store)(nil)

// CreateCheck stores a check, the measures it returned and its access
// event in one transaction.
func (s *Store) CreateCheck(ctx context.Context, c measure.Check, e access.Event) error {
	ms, _ := json.Marshal(c.Measures)
	return s.ledgerTx(ctx, func(tx pgx.Tx) error {
		leaves, err := newLeafAppender(ctx, tx)
		if err != nil {
			return err
		}
		idx := leaves.add(measure.CheckLeafKind, c.ID, c.Leaf)
		if err := leaves.insert(ctx, tx); err != nil { // before the access event's appender reads the next index
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO checks (id, dept, subject_key, matter, purpose, at, measures, salt, leaf_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.ID, c.Dept, c.SubjectKey, c.Matter, c.Purpose, c.At, ms, c.Salt, idx); err != nil {
			return err
		}
		for _, m := range c.Measures {
			if _, err := tx.Exec(ctx, `INSERT INTO check_measures (check_id, measure, dept, at) VALUES ($1, $2, $3, $4)`, c.ID, m.Code, c.Dept, c.At); err != nil {
				return err
			}
		}
		return insertAccess(ctx, tx, e)
	})
}

const checkCols = `id, dept, subject_key, matter, purpose, at, measures, salt, COALESCE(leaf_index, -1)`

// scanCheck reads checkCols.
func scanCheck(row pgx.Row) (measure.Check, error) {
	var c measure.Check
	var ms []byte
	if err := row.Scan(&c.ID, &c.Dept, &c.SubjectKey, &c.Matter, &c.Purpose, &c.At, &ms, &c.Salt, &c.LeafIndex); err != nil {
		return c, err
	}
	c.At, c.Measures = utc(c.At), measure.MeasuresOf(ms)
	return c, nil
}

// Check returns a check. Returns NotFound.
func (s *Store) Check(ctx context.Context, id string) (measure.Check, error) {
	c, err := scanCheck(s.pool.QueryRow(ctx, `SELECT `+checkCols+` FROM checks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errs.E(errs.NotFound, "no check %q", id)
	}
	return c, translate(err)
}

// AddFeedback stores feedback on measures of a check; Conflict when any has it already.
func (s *Store) AddFeedback(ctx context.Context, fs []measure.Feedback) error {
	err := s.ledgerTx(ctx, func(tx pgx.Tx) error {
		leaves, err := newLeafAppender(ctx, tx)
		if err != nil {
			return err
		}
		for i, f := range fs {
			idx := leaves.add(measure.FeedbackLeafKind, f.EventID(), f.Leaf)
			if n, ok := idx.(int64); ok {
				fs[i].LeafIndex = n
			}
			if _, err := tx.Exec(ctx, `INSERT INTO check_feedback (check_id, measure, dept, applied, note, at, salt, leaf_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				f.CheckID, f.Measure, f.Dept, f.Applied, f.Note, f.At, f.Salt, idx); err != nil {
				return err
			}
		}
		return leaves.insert(ctx, tx)
	})
	if errors.Is(err, errs.Conflict) {
		return errs.E(errs.Conflict, "feedback was already given on a measure of this check; it is given once per measure")
	}
	return err
}

// Feedback returns the feedback on a check.
func (s *Store) Feedback(ctx context.Context, checkID string) ([]measure.Feedback, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+feedbackCols+` FROM check_feedback WHERE check_id = $1 ORDER BY measure`, checkID)
	out, err := collect(rows, err, scanFeedback)
	if out == nil && err == nil {
		out = []measure.Feedback{}
	}
	return out, err
}

const feedbackCols = `check_id, measure, dept, applied, note, at, salt, COALESCE(leaf_index, -1)`

// scanFeedback reads feedbackCols; Salt is nil when NULL.
func scanFeedback(row pgx.Row) (measure.Feedback, error) {
	var f measure.Feedback
	err := row.Scan(&f.CheckID, &f.Measure, &f.Dept, &f.Applied, &f.Note, &f.At, &f.Salt, &f.LeafIndex)
	f.At = utc(f.At)
	return f, err
}

// CheckCounts counts checks per department and matter in [from, to).
func (s *Store) CheckCounts(ctx context.Context, from, to time.Time) (map[measure.CheckKey]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT dept, matter, COUNT(*) FROM checks WHERE at >= $1 AND at < $2 GROUP BY dept, matter`, from, to)
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
	rows, err := s.pool.Query(ctx, `SELECT m.dept, m.measure, m.at, f.applied FROM check_measures m
		LEFT JOIN check_feedback f ON f.check_id = m.check_id AND f.measure = m.measure WHERE m.at >= $1 AND m.at < $2`, from, to)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r measure.Returned
		var applied *bool
		if err := rows.Scan(&r.Dept, &r.Measure, &r.At, &applied); err != nil {
			return translate(err)
		}
		r.At, r.Feedback = utc(r.At), applied
		if err := fn(r); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
