package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

var (
	// standingRecords reads a person's records without their payloads: a
	// check never opens them.
	standingRecords = `SELECT ` + strings.Replace(recordCols, "payload, content_hash", "NULL::bytea, NULL::bytea", 1) + ` FROM records WHERE subject_key = $1 ORDER BY id`
	standingEntries = entrySelect + ` WHERE subject_key = $1 ORDER BY id`
)

// Standing reads a person's records, payloads left out, and list entries
// in one round trip.
func (s *Store) Standing(ctx context.Context, key []byte) ([]record.Stored, []listing.Entry, error) {
	b := &pgx.Batch{}
	b.Queue(standingRecords, key)
	b.Queue(standingEntries, key)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	recs, err := collect(rows, err, scanRecord)
	if err != nil {
		return nil, nil, err
	}
	rows, err = br.Query()
	entries, err := collect(rows, err, scanEntry)
	if err != nil {
		return nil, nil, err
	}
	if entries == nil {
		entries = []listing.Entry{}
	}
	return recs, entries, translate(br.Close())
}

// collect scans every row of a query's result (rows, err) with scan, and
// closes rows.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	return out, translate(err)
}
