package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
	"pubcredit/internal/ledger"
)

var _ ledger.Store = (*Store)(nil)

// ledgerLock is the advisory lock key that serializes leaf appends: held to
// the end of the appending transaction, it makes the next index read here
// ours until commit, so the sequence is gap-free across processes.
const ledgerLock = 0x7062636c65646772 // "pbcledgr"

// ledgerTx runs fn in a transaction that takes the ledger lock as its first
// statement. Every transaction that appends leaves MUST use it: taking the
// lock before any row is written means no appender ever holds a row lock
// while it waits for the ledger, so appenders cannot deadlock each other.
func (s *Store) ledgerTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(ledgerLock)); err != nil {
			return err
		}
		return fn(tx)
	})
}

// leafAppender assigns leaf indexes inside a transaction and writes the
// leaves in one go.
type leafAppender struct {
	next int64
	rows [][]any
}

// newLeafAppender reads the next leaf index. It MUST run inside ledgerTx,
// whose lock keeps the index ours until commit.
func newLeafAppender(ctx context.Context, tx pgx.Tx) (*leafAppender, error) {
	a := &leafAppender{}
	err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&a.next)
	return a, err
}

// add queues a leaf and returns its index, or nil (SQL NULL) when the ledger
// is off for this event (leaf == nil).
func (a *leafAppender) add(kind, id string, leaf []byte) any {
	if leaf == nil {
		return nil
	}
	idx := a.next
	a.rows = append(a.rows, []any{idx, kind, id, leaf})
	a.next++
	return idx
}

// peek returns the index the next leaf added will have, or nil (SQL NULL)
// when leaf is nil.
func (a *leafAppender) peek(leaf []byte) any {
	if leaf == nil {
		return nil
	}
	return a.next
}

var leafColumns = []string{"idx", "kind", "event_id", "data"}

// copy writes the queued leaves with COPY.
func (a *leafAppender) copy(ctx context.Context, tx pgx.Tx) error {
	if len(a.rows) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_leaves"}, leafColumns, pgx.CopyFromRows(a.rows))
	return err
}

// insert writes the queued leaves with INSERTs (cheaper than COPY for a few).
func (a *leafAppender) insert(ctx context.Context, tx pgx.Tx) error {
	for _, r := range a.rows {
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_leaves (idx, kind, event_id, data) VALUES ($1, $2, $3, $4)`, r...); err != nil {
			return err
		}
	}
	return nil
}

// LeafCount returns the number of leaves appended.
func (s *Store) LeafCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&n)
	return n, translate(err)
}

// Leaves returns the leaves with start <= index < end.
func (s *Store) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT idx, data FROM ledger_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx`, start, end)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := make([][]byte, 0, end-start)
	for rows.Next() {
		var idx int64
		var data []byte
		if err := rows.Scan(&idx, &data); err != nil {
			return nil, translate(err)
		}
		if idx != start+int64(len(out)) {
			return nil, errs.E(errs.Internal, "ledger: leaf %d is missing", start+int64(len(out)))
		}
		out = append(out, data)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if int64(len(out)) != end-start {
		return nil, errs.E(errs.Internal, "ledger: leaves %d to %d: found %d", start, end, len(out))
	}
	return out, nil
}

// ReadHashes returns stored hashes by tlog stored-hash index.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT idx, hash FROM ledger_hashes WHERE idx = ANY($1)`, indexes)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	found := make(map[int64]tlog.Hash, len(indexes))
	for rows.Next() {
		var ix int64
		var h []byte
		if err := rows.Scan(&ix, &h); err != nil {
			return nil, translate(err)
		}
		var hh tlog.Hash
		copy(hh[:], h)
		found[ix] = hh
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, ix := range indexes {
		h, ok := found[ix]
		if !ok {
			return nil, errs.E(errs.Internal, "ledger: stored hash %d is missing", ix)
		}
		out[i] = h
	}
	return out, nil
}

// Integrate stores hashes and a checkpoint, if the newest checkpoint is
// still at from.
func (s *Store) Integrate(ctx context.Context, from, to int64, hashes []tlog.Hash, signed []byte, at time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(ledgerLock+1)); err != nil {
			return err
		}
		var cur *int64
		if err := tx.QueryRow(ctx, `SELECT MAX(size) FROM ledger_checkpoints`).Scan(&cur); err != nil {
			return err
		}
		if (cur != nil && *cur != from) || (cur == nil && from != 0) {
			return errs.E(errs.Conflict, "ledger: the newest checkpoint moved")
		}
		base := tlog.StoredHashCount(from)
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_hashes"}, []string{"idx", "hash"}, pgx.CopyFromSlice(len(hashes), func(i int) ([]any, error) {
			return []any{base + int64(i), hashes[i][:]}, nil
		}))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO ledger_checkpoints (size, signed, created_at) VALUES ($1, $2, $3)`, to, signed, at)
		return err
	})
}

// LatestCheckpoint returns the newest checkpoint. Returns NotFound.
func (s *Store) LatestCheckpoint(ctx context.Context) ([]byte, int64, error) {
	var signed []byte
	var size int64
	err := s.pool.QueryRow(ctx, `SELECT signed, size FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&signed, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, errs.E(errs.NotFound, "no checkpoint yet")
	}
	return signed, size, translate(err)
}
