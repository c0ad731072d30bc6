package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"pubcredit/internal/errs"
	"pubcredit/internal/ingest"
)

var _ ingest.Store = (*Store)(nil)

// CreateBatch stores a new batch.
func (s *Store) CreateBatch(ctx context.Context, b ingest.Batch) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO batches (id, dept, item, format, status, rows, accepted, rejected, created_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.ID, b.Dept, b.Item, b.Format, b.Status, b.Rows, b.Accepted, b.Rejected, ts(b.CreatedAt), ts(b.FinishedAt))
	return translate(err)
}

// UpdateBatch stores counters and status and adds rejections.
func (s *Store) UpdateBatch(ctx context.Context, b ingest.Batch, add []ingest.Rejection) error {
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE batches SET status = ?, rows = ?, accepted = ?, rejected = ?, finished_at = ? WHERE id = ?`,
			b.Status, b.Rows, b.Accepted, b.Rejected, ts(b.FinishedAt), b.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no batch %q", b.ID)
		}
		if len(add) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO batch_rejections (batch_id, line, ref, errors) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range add {
			js, _ := json.Marshal(r.Errors)
			if _, err := stmt.ExecContext(ctx, b.ID, r.Line, r.Ref, string(js)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Batch returns a batch. Returns NotFound.
func (s *Store) Batch(ctx context.Context, id string) (ingest.Batch, error) {
	var b ingest.Batch
	var created, finished string
	err := s.r.QueryRowContext(ctx, `SELECT id, dept, item, format, status, rows, accepted, rejected, created_at, finished_at FROM batches WHERE id = ?`, id).
		Scan(&b.ID, &b.Dept, &b.Item, &b.Format, &b.Status, &b.Rows, &b.Accepted, &b.Rejected, &created, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return b, errs.E(errs.NotFound, "no batch %q", id)
	}
	b.CreatedAt, b.FinishedAt = parseTS(created), parseTS(finished)
	return b, translate(err)
}

// Rejections returns up to limit rejections after a line.
func (s *Store) Rejections(ctx context.Context, batchID string, afterLine, limit int) ([]ingest.Rejection, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT line, ref, errors FROM batch_rejections WHERE batch_id = ? AND line > ? ORDER BY line LIMIT ?`, batchID, afterLine, limit)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []ingest.Rejection{}
	for rows.Next() {
		var r ingest.Rejection
		var js string
		if err := rows.Scan(&r.Line, &r.Ref, &js); err != nil {
			return nil, translate(err)
		}
		if err := json.Unmarshal([]byte(js), &r.Errors); err != nil {
			return nil, translate(err)
		}
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

// InterruptBatches marks the running batches created before createdBefore
// as interrupted, finished at at, keeping their counts.
func (s *Store) InterruptBatches(ctx context.Context, createdBefore, at time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE batches SET status = ?, finished_at = ? WHERE status = ? AND created_at < ?`,
		ingest.StatusInterrupted, ts(at), ingest.StatusRunning, ts(createdBefore))
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(err)
}
