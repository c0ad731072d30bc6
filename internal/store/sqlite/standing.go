package sqlite

import (
	"context"
	"slices"
	"strings"

	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

// standing reads a person's records, without their payloads (a check never
// opens them), and list entries in one statement: one implicit read
// transaction (one snapshot, one round of locks) where a transaction of two
// queries runs four statements, which is most of what a lookup this small
// costs. The first column tells the rows apart; each kind fills the other's
// columns with empty values of their types. Rows are sorted in Go: ORDER BY
// would sort them in a temporary b-tree.
var standing = `SELECT 0, ` + strings.Replace(recordCols, "payload, content_hash", "NULL, NULL", 1) + `, NULL, -1
	FROM records WHERE subject_key = ?1
	UNION ALL
	SELECT 1, '', '', '', '', subject_key, 0, '', '', '', '', '', 0, NULL, NULL, '', '', '', '', '', state,
		(SELECT COALESCE(v.leaf_index, -1) FROM list_entry_versions v WHERE v.entry_id = list_entries.id AND v.version = list_entries.version)
	FROM list_entries WHERE subject_key = ?1
	UNION ALL
	SELECT 2, '', '', '', '', subject_key, 0, '', '', '', '', '', 0, NULL, NULL, '', '', '', '', '', name_enc, -1
	FROM subjects WHERE subject_key = ?1`

// standingRow scans a row of standing: its kind (0 a record, 1 an entry,
// 2 the person's sealed name), then the record columns scanRecord reads,
// then an entry's state (or the name) and leaf index.
type standingRow struct {
	rows  interface{ Scan(...any) error }
	kind  int
	state []byte
	leaf  int64
}

func (r *standingRow) Scan(dest ...any) error {
	return r.rows.Scan(append(append([]any{&r.kind}, dest...), &r.state, &r.leaf)...)
}

// Standing reads a person's records, payloads left out, and list entries
// together, each in id order. It reads below database/sql (rawrows.go):
// every check at the counter reads it, and the driver's conversions cost
// more than the lookup.
func (s *Store) Standing(ctx context.Context, key []byte) (measure.Standing, error) {
	out := measure.Standing{Entries: []listing.Entry{}}
	c, err := s.hot.get(ctx)
	if err != nil {
		return out, err
	}
	defer s.hot.put(c)
	rows, err := c.queryKept(standing, key)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	row := &standingRow{rows: rows}
	for rows.Next() {
		rec, err := scanRecord(row)
		if err != nil {
			return out, translate(err)
		}
		switch row.kind {
		case 0:
			out.Records = append(out.Records, rec)
		case 1:
			e, err := entryOf(row.state, rec.SubjectKey, row.leaf)
			if err != nil {
				return out, translate(err)
			}
			out.Entries = append(out.Entries, e)
		default:
			out.SealedName = slices.Clone(row.state)
		}
	}
	if err := rows.Err(); err != nil {
		return out, translate(err)
	}
	slices.SortFunc(out.Records, func(a, b record.Stored) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(out.Entries, func(a, b listing.Entry) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
