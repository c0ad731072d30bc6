package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
)

var (
	// standingRecords reads a person's records without their payloads: a
	// check never opens them.
	standingRecords = `SELECT ` + strings.Replace(recordCols, "payload, content_hash", "NULL::bytea, NULL::bytea", 1) + ` FROM records WHERE subject_key = $1 ORDER BY id`
	standingEntries = entrySelect + ` WHERE subject_key = $1 ORDER BY id`
	standingName    = `SELECT name_enc FROM subjects WHERE subject_key = $1`
)

// Standing reads a person's records, payloads left out, list entries and
// sealed name in one round trip.
func (s *Store) Standing(ctx context.Context, key []byte) (measure.Standing, error) {
	b := &pgx.Batch{}
	b.Queue(standingRecords, key)
	b.Queue(standingEntries, key)
	b.Queue(standingName, key)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var out measure.Standing
	rows, err := br.Query()
	if out.Records, err = collect(rows, err, scanRecord); err != nil {
		return out, err
	}
	rows, err = br.Query()
	if out.Entries, err = collect(rows, err, scanEntry); err != nil {
		return out, err
	}
	if out.Entries == nil {
		out.Entries = []listing.Entry{}
	}
	if err := br.QueryRow().Scan(&out.SealedName); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return out, translate(err)
	}
	return out, translate(br.Close())
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
