package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

var (
	// standingRecords reads a person's records without their payloads: a
	// check never opens them. The rows are sorted in Go: ORDER BY id would
	// sort them in a temporary b-tree.
	standingRecords = `SELECT ` + strings.Replace(recordCols, "payload, content_hash", "NULL, NULL", 1) + ` FROM records WHERE subject_key = ?`
	standingEntries = entrySelect + ` WHERE subject_key = ?`
)

// Standing reads a person's records, payloads left out, and list entries in
// one read transaction: one snapshot, and one round of locks.
func (s *Store) Standing(ctx context.Context, key []byte) ([]record.Stored, []listing.Entry, error) {
	// Prepared before the transaction takes a reader connection: preparing
	// a new statement takes a connection of its own.
	qr, qe := s.r.cache.get(ctx, standingRecords), s.r.cache.get(ctx, standingEntries)
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, translate(err)
	}
	defer tx.Rollback()
	rows, err := queryTx(ctx, tx, qr, standingRecords, key)
	recs, err := collect(rows, err, scanRecord)
	if err != nil {
		return nil, nil, err
	}
	rows, err = queryTx(ctx, tx, qe, standingEntries, key)
	entries, err := collect(rows, err, scanEntry)
	if err != nil {
		return nil, nil, err
	}
	if entries == nil {
		entries = []listing.Entry{}
	}
	slices.SortFunc(recs, func(a, b record.Stored) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(entries, func(a, b listing.Entry) int { return strings.Compare(a.ID, b.ID) })
	return recs, entries, nil
}

// queryTx runs q in tx, as the prepared st when there is one.
func queryTx(ctx context.Context, tx *sql.Tx, st *sql.Stmt, q string, args ...any) (*sql.Rows, error) {
	if st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}
