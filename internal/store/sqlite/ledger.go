package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
	"pubcredit/internal/ledger"
	"pubcredit/internal/record"
)

var _ ledger.Store = (*Store)(nil)

// leafAppender appends ledger leaves inside a write transaction. SQLite has
// one writer, so the next index read at the start stays ours until commit:
// the sequence is gap-free.
type leafAppender struct {
	next int64
	stmt *sql.Stmt
}

// leaves returns the transaction's leaf appender: one for all the writes
// of a transaction (a group commit holds many).
func (t *txn) leaves(ctx context.Context) (*leafAppender, error) {
	if t.appender != nil {
		return t.appender, nil
	}
	a := &leafAppender{}
	if err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&a.next); err != nil {
		return nil, err
	}
	var err error
	if a.stmt, err = t.PrepareContext(ctx, `INSERT INTO ledger_leaves (idx, kind, event_id, data) VALUES (?, ?, ?, ?)`); err != nil {
		return nil, err
	}
	t.appender = a
	return a, nil
}

// peek returns the index the next leaf appended will have, or nil (SQL
// NULL) when leaf is nil.
func (a *leafAppender) peek(leaf []byte) any {
	if leaf == nil {
		return nil
	}
	return a.next
}

// append stores leaf and returns its index, or nil (SQL NULL) when the
// ledger is off for this event (leaf == nil).
func (a *leafAppender) append(ctx context.Context, kind, id string, version int, leaf []byte) (any, error) {
	if leaf == nil {
		return nil, nil
	}
	if version >= 0 {
		id = record.EventID(id, version)
	}
	idx := a.next
	if _, err := a.stmt.ExecContext(ctx, idx, kind, id, leaf); err != nil {
		return nil, err
	}
	a.next++
	return idx, nil
}

// LeafCount returns the number of leaves appended.
func (s *Store) LeafCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&n)
	return n, translate(err)
}

// Leaves returns the leaves with start <= index < end.
func (s *Store) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT idx, data FROM ledger_leaves WHERE idx >= ? AND idx < ? ORDER BY idx`, start, end)
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
	var b strings.Builder
	args := make([]any, len(indexes))
	b.WriteString(`SELECT idx, hash FROM ledger_hashes WHERE idx IN (`)
	for i, ix := range indexes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
		args[i] = ix
	}
	b.WriteByte(')')
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
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
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		var cur sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(size) FROM ledger_checkpoints`).Scan(&cur); err != nil {
			return err
		}
		if (cur.Valid && cur.Int64 != from) || (!cur.Valid && from != 0) {
			return errs.E(errs.Conflict, "ledger: the newest checkpoint moved to %d", cur.Int64)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO ledger_hashes (idx, hash) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		base := tlog.StoredHashCount(from)
		for i, h := range hashes {
			if _, err := stmt.ExecContext(ctx, base+int64(i), h[:]); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ledger_checkpoints (size, signed, created_at) VALUES (?, ?, ?)`, to, signed, ts(at))
		return err
	})
}

// LatestCheckpoint returns the newest checkpoint. Returns NotFound.
func (s *Store) LatestCheckpoint(ctx context.Context) ([]byte, int64, error) {
	var signed []byte
	var size int64
	err := s.r.QueryRowContext(ctx, `SELECT signed, size FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&signed, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, errs.E(errs.NotFound, "no checkpoint yet")
	}
	return signed, size, translate(err)
}
