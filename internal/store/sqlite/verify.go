package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/record"
	"pubcredit/internal/verify"
)

var _ verify.Database = (*Store)(nil)

// VerifySnapshot begins a read transaction on one reader connection. In WAL
// mode the transaction reads one snapshot from its first read to its end,
// whatever writers commit meanwhile, and SQLite lets its statements step
// together on the one connection. ScanRecords reads on a connection of its
// own, so that it runs in parallel.
func (s *Store) VerifySnapshot(ctx context.Context) (verify.Store, func(), error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, translate(err)
	}
	// A deferred transaction takes its snapshot at its first read: take
	// it now.
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_checkpoints`).Scan(&n); err != nil {
		tx.Rollback()
		return nil, nil, translate(err)
	}
	return &snapshot{s: s, tx: tx}, func() { tx.Rollback() }, nil
}

// snapshot implements verify.Store over one read transaction.
type snapshot struct {
	s  *Store
	tx *sql.Tx
}

var _ verify.Store = (*snapshot)(nil)

// scan runs query and calls each for every row until it returns an error,
// which is returned unchanged.
func scan(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, each func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

func (v *snapshot) ScanLeaves(ctx context.Context, fn func(idx int64, data []byte) error) error {
	var idx int64
	var data sql.RawBytes
	return scan(ctx, v.tx, `SELECT idx, data FROM ledger_leaves ORDER BY idx`, func(rows *sql.Rows) error {
		if err := rows.Scan(&idx, &data); err != nil {
			return translate(err)
		}
		return fn(idx, data)
	})
}

func (v *snapshot) ScanHashes(ctx context.Context, fn func(idx int64, hash []byte) error) error {
	var idx int64
	var hash sql.RawBytes
	return scan(ctx, v.tx, `SELECT idx, hash FROM ledger_hashes ORDER BY idx`, func(rows *sql.Rows) error {
		if err := rows.Scan(&idx, &hash); err != nil {
			return translate(err)
		}
		return fn(idx, hash)
	})
}

func (v *snapshot) ScanCheckpoints(ctx context.Context, fn func(size int64, signed []byte) error) error {
	var size int64
	var signed sql.RawBytes
	return scan(ctx, v.tx, `SELECT size, signed FROM ledger_checkpoints ORDER BY size`, func(rows *sql.Rows) error {
		if err := rows.Scan(&size, &signed); err != nil {
			return translate(err)
		}
		return fn(size, signed)
	})
}

const versionScanCols = `record_id, version, change, at, payload, note, state, salt, COALESCE(leaf_index, -1)`

func (v *snapshot) ScanVersions(ctx context.Context, fn func(v *record.Version) error) error {
	var ver record.Version
	var change, at string
	var payload, state sql.RawBytes
	each := func(rows *sql.Rows) error {
		// The salt and the note are scanned as copies, so that NULL and
		// an empty value stay apart (an erased salt; a note Committed
		// encodes as null); the larger columns stay in the driver's buffer.
		ver.Salt, ver.Note = nil, nil
		if err := rows.Scan(&ver.RecordID, &ver.Version, &change, &at, &payload, &ver.Note, &state, &ver.Salt, &ver.LeafIndex); err != nil {
			return translate(err)
		}
		ver.Change, ver.At, ver.Payload, ver.State = record.Change(change), parseTS(at), payload, state
		return fn(&ver)
	}
	if err := scan(ctx, v.tx, `SELECT `+versionScanCols+` FROM record_versions WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return scan(ctx, v.tx, `SELECT `+versionScanCols+` FROM record_versions WHERE leaf_index IS NULL`, each)
}

const accessScanCols = `id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, COALESCE(leaf_index, -1)`

func (v *snapshot) ScanAccess(ctx context.Context, fn func(e *access.Event) error) error {
	var e access.Event
	var at, kind, action string
	var subject, recs, items sql.RawBytes
	each := func(rows *sql.Rows) error {
		e.Salt = nil
		if err := rows.Scan(&e.ID, &at, &kind, &e.Actor, &subject, &action, &e.Purpose, &e.Authority, &recs, &items, &e.Salt, &e.LeafIndex); err != nil {
			return translate(err)
		}
		e.At, e.Principal, e.Action, e.SubjectKey = parseTS(at), auth.Kind(kind), access.Action(action), subject
		e.Records, e.Items = e.Records[:0], e.Items[:0]
		if err := json.Unmarshal(recs, &e.Records); err != nil {
			// Not a JSON array of strings: the row was changed; a
			// value that cannot match the commitment stands for it.
			e.Records = []string{"\x00unreadable: " + string(recs)}
		}
		if err := json.Unmarshal(items, &e.Items); err != nil {
			e.Items = []string{"\x00unreadable: " + string(items)}
		}
		return fn(&e)
	}
	if err := scan(ctx, v.tx, `SELECT `+accessScanCols+` FROM access_events WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return scan(ctx, v.tx, `SELECT `+accessScanCols+` FROM access_events WHERE leaf_index IS NULL`, each)
}

// ScanRecords reads on a connection of its own, outside the snapshot: each
// of its two queries is consistent by itself, which is all its check needs.
func (v *snapshot) ScanRecords(ctx context.Context, fn func(rec *record.Stored, latest *record.Version) error) error {
	var latest record.Version
	var lver sql.NullInt64
	var lpayload, lstate sql.RawBytes
	var lsalt []byte
	err := scan(ctx, v.s.r, `SELECT `+prefixed("r.", recordCols)+`, v.version, v.payload, v.state, v.salt
		FROM records r LEFT JOIN record_versions v
		ON v.record_id = r.id AND v.version = (SELECT MAX(version) FROM record_versions WHERE record_id = r.id)`,
		func(rows *sql.Rows) error {
			lsalt = nil
			rec, err := scanRecord(withExtra{rows, []any{&lver, &lpayload, &lstate, &lsalt}})
			if err != nil {
				return translate(err)
			}
			if !lver.Valid {
				return fn(&rec, nil)
			}
			latest = record.Version{RecordID: rec.ID, Version: int(lver.Int64), Payload: lpayload, State: lstate, Salt: lsalt}
			return fn(&rec, &latest)
		})
	if err != nil {
		return err
	}
	var id string
	var ver int
	return scan(ctx, v.s.r, `SELECT v.record_id, MAX(v.version) FROM record_versions v
		WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = v.record_id) GROUP BY v.record_id`,
		func(rows *sql.Rows) error {
			if err := rows.Scan(&id, &ver); err != nil {
				return translate(err)
			}
			return fn(nil, &record.Version{RecordID: id, Version: ver})
		})
}

// withExtra scans a row's leading columns into the destinations its caller
// gives and the rest into extra.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(alias, cols string) string {
	var b []byte
	start := true
	for i := 0; i < len(cols); i++ {
		c := cols[i]
		if start && c != ' ' && c != '\t' && c != '\n' {
			b = append(b, alias...)
			start = false
		}
		b = append(b, c)
		if c == ',' {
			start = true
		}
	}
	return string(b)
}
