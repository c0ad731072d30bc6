package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pubcredit/internal/errs"
	"pubcredit/internal/ingest"
)

var _ ingest.Store = (*Store)(nil)

// CreateBatch stores a new batch.
func (s *Store) CreateBatch(ctx context.Context, b ingest.Batch) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO batches (id, dept, item, format, status, rows, accepted, rejected, created_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		b.ID, b.Dept, b.Item, b.Format, b.Status, b.Rows, b.Accepted, b.Rejected, b.CreatedAt, nullTime(b.FinishedAt))
	return translate(err)
}

// UpdateBatch stores counters and status and adds rejections. Returns
// NotFound for an unknown batch, Conflict when a line was already rejected.
func (s *Store) UpdateBatch(ctx context.Context, b ingest.Batch, add []ingest.Rejection) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE batches SET status = $1, rows = $2, accepted = $3, rejected = $4, finished_at = $5 WHERE id = $6`,
			b.Status, b.Rows, b.Accepted, b.Rejected, nullTime(b.FinishedAt), b.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errs.E(errs.NotFound, "no batch %q", b.ID)
		}
		if len(add) == 0 {
			return nil
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"batch_rejections"}, []string{"batch_id", "line", "ref", "errors"},
			pgx.CopyFromSlice(len(add), func(i int) ([]any, error) {
				r := add[i]
				js, err := json.Marshal(r.Errors)
				return []any{b.ID, r.Line, r.Ref, js}, err
			}))
		return err
	})
}

// Batch returns a batch. Returns NotFound.
func (s *Store) Batch(ctx context.Context, id string) (ingest.Batch, error) {
	var b ingest.Batch
	var finished pgtype.Timestamptz
	err := s.pool.QueryRow(ctx, `SELECT id, dept, item, format, status, rows, accepted, rejected, created_at, finished_at FROM batches WHERE id = $1`, id).
		Scan(&b.ID, &b.Dept, &b.Item, &b.Format, &b.Status, &b.Rows, &b.Accepted, &b.Rejected, &b.CreatedAt, &finished)
	if errors.Is(err, pgx.ErrNoRows) {
		return ingest.Batch{}, errs.E(errs.NotFound, "no batch %q", id)
	}
	b.CreatedAt, b.FinishedAt = utc(b.CreatedAt), fromNullTime(finished)
	return b, translate(err)
}

// Rejections returns up to limit rejections with line > afterLine, by line.
func (s *Store) Rejections(ctx context.Context, batchID string, afterLine, limit int) ([]ingest.Rejection, error) {
	rows, err := s.pool.Query(ctx, `SELECT line, ref, errors FROM batch_rejections WHERE batch_id = $1 AND line > $2 ORDER BY line LIMIT $3`,
		batchID, afterLine, limitArg(limit))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []ingest.Rejection{}
	for rows.Next() {
		var r ingest.Rejection
		var js []byte
		if err := rows.Scan(&r.Line, &r.Ref, &js); err != nil {
			return nil, translate(err)
		}
		if err := json.Unmarshal(js, &r.Errors); err != nil {
			return nil, translate(err)
		}
		out = append(out, r)
	}
	return out, translate(rows.Err())
}

// InterruptBatches marks the running batches created before createdBefore
// as interrupted, finished at at, keeping their counts.
func (s *Store) InterruptBatches(ctx context.Context, createdBefore, at time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE batches SET status = $1, finished_at = $2 WHERE status = $3 AND created_at < $4`,
		ingest.StatusInterrupted, at, ingest.StatusRunning, createdBefore)
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}
