package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/errs"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
	"pubcredit/internal/verify"
)

var _ verify.Database = (*Store)(nil)

// VerifySnapshot begins a read-only REPEATABLE READ transaction on a pooled
// connection and exports its snapshot (pg_export_snapshot). A PostgreSQL
// connection runs one query at a time, so each scan of the returned view
// opens a connection of its own, outside the pool (whose size would
// otherwise bound the scans open at once), and imports the snapshot with
// SET TRANSACTION SNAPSHOT: all of them read the same database state.
// ScanRecords reads on a pooled connection with a snapshot of its own.
func (s *Store) VerifySnapshot(ctx context.Context) (verify.Store, func(), error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, translate(err)
	}
	tx, err := c.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		c.Release()
		return nil, nil, translate(err)
	}
	release := func() {
		tx.Rollback(context.WithoutCancel(ctx))
		c.Release()
	}
	var id string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&id); err != nil {
		release()
		return nil, nil, translate(err)
	}
	if !snapshotID(id) {
		release()
		return nil, nil, errs.E(errs.Internal, "postgres: unexpected snapshot id %q", id)
	}
	return &snapshot{s: s, id: id}, release, nil
}

// snapshotID reports whether id looks like an exported snapshot id
// ("00000003-0000001B-1"): it is spliced into SET TRANSACTION SNAPSHOT,
// which takes no parameters.
func snapshotID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}

// snapshot implements verify.Store over an exported snapshot.
type snapshot struct {
	s  *Store
	id string
}

var _ verify.Store = (*snapshot)(nil)

// scan runs query on a connection of its own in the exported snapshot and
// calls each for every row until it returns an error, which is returned
// unchanged.
func (v *snapshot) scan(ctx context.Context, query string, each func(pgx.Rows) error) error {
	conn, err := pgx.ConnectConfig(ctx, v.s.pool.Config().ConnConfig)
	if err != nil {
		return translate(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return translate(err)
	}
	if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+v.id+`'`); err != nil {
		return translate(err)
	}
	return rowsEach(ctx, tx, query, each)
}

// rowsEach runs query on q and calls each for every row. Stopping early
// cancels the query rather than reading the rest of its rows.
func rowsEach(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, query string, each func(pgx.Rows) error) error {
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := q.Query(qctx, query)
	if err != nil {
		return translate(err)
	}
	for rows.Next() {
		if err := each(rows); err != nil {
			cancel()
			rows.Close()
			return err
		}
	}
	rows.Close()
	return translate(rows.Err())
}

func (v *snapshot) ScanLeaves(ctx context.Context, fn func(idx int64, kind, eventID, data []byte) error) error {
	var idx int64
	var kind, eventID, data pgtype.DriverBytes
	return v.scan(ctx, `SELECT idx, kind, event_id, data FROM ledger_leaves ORDER BY idx`, func(rows pgx.Rows) error {
		if err := rows.Scan(&idx, &kind, &eventID, &data); err != nil {
			return translate(err)
		}
		return fn(idx, kind, eventID, data)
	})
}

func (v *snapshot) ScanHashes(ctx context.Context, fn func(idx int64, hash []byte) error) error {
	var idx int64
	var hash pgtype.DriverBytes
	return v.scan(ctx, `SELECT idx, hash FROM ledger_hashes ORDER BY idx`, func(rows pgx.Rows) error {
		if err := rows.Scan(&idx, &hash); err != nil {
			return translate(err)
		}
		return fn(idx, hash)
	})
}

func (v *snapshot) ScanCheckpoints(ctx context.Context, fn func(size int64, signed []byte) error) error {
	var size int64
	var signed pgtype.DriverBytes
	return v.scan(ctx, `SELECT size, signed FROM ledger_checkpoints ORDER BY size`, func(rows pgx.Rows) error {
		if err := rows.Scan(&size, &signed); err != nil {
			return translate(err)
		}
		return fn(size, signed)
	})
}

const versionScanCols = `record_id, version, change, at, payload, note, state, salt, COALESCE(leaf_index, -1)`

func (v *snapshot) ScanVersions(ctx context.Context, fn func(v *record.Version) error) error {
	var ver record.Version
	var change string
	var payload, state pgtype.DriverBytes
	each := func(rows pgx.Rows) error {
		// The salt and the note are copies, nil for NULL (an erased salt).
		ver.Salt, ver.Note = nil, nil
		if err := rows.Scan(&ver.RecordID, &ver.Version, &change, &ver.At, &payload, &ver.Note, &state, &ver.Salt, &ver.LeafIndex); err != nil {
			return translate(err)
		}
		ver.Change, ver.At, ver.Payload, ver.State = record.Change(change), utc(ver.At), payload, state
		return fn(&ver)
	}
	if err := v.scan(ctx, `SELECT `+versionScanCols+` FROM record_versions WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return v.scan(ctx, `SELECT `+versionScanCols+` FROM record_versions WHERE leaf_index IS NULL`, each)
}

const accessScanCols = `id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, COALESCE(leaf_index, -1)`

func (v *snapshot) ScanAccess(ctx context.Context, fn func(e *access.Event) error) error {
	var e access.Event
	var kind, action string
	var subject pgtype.DriverBytes
	each := func(rows pgx.Rows) error {
		e.Salt = nil
		if err := rows.Scan(&e.ID, &e.At, &kind, &e.Actor, &subject, &action, &e.Purpose, &e.Authority, &e.Records, &e.Items, &e.Salt, &e.LeafIndex); err != nil {
			return translate(err)
		}
		e.At, e.Principal, e.Action, e.SubjectKey = utc(e.At), auth.Kind(kind), access.Action(action), subject
		return fn(&e)
	}
	if err := v.scan(ctx, `SELECT `+accessScanCols+` FROM access_events WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return v.scan(ctx, `SELECT `+accessScanCols+` FROM access_events WHERE leaf_index IS NULL`, each)
}

// ScanRecords reads on a pooled connection, outside the exported snapshot:
// each of its two queries is consistent by itself, which is all its check
// needs.
func (v *snapshot) ScanRecords(ctx context.Context, fn func(rec *record.Stored, latest *record.Version) error) error {
	var latest record.Version
	var lver pgtype.Int4
	var lpayload, lstate pgtype.DriverBytes
	var lsalt []byte
	err := rowsEach(ctx, v.s.pool, `SELECT `+prefixed("r.", recordCols)+`, v.version, v.payload, v.state, v.salt
		FROM records r LEFT JOIN LATERAL
		(SELECT version, payload, state, salt FROM record_versions WHERE record_id = r.id ORDER BY version DESC LIMIT 1) v ON true`,
		func(rows pgx.Rows) error {
			lsalt = nil
			rec, err := scanRecord(withExtra{rows, []any{&lver, &lpayload, &lstate, &lsalt}})
			if err != nil {
				return translate(err)
			}
			if !lver.Valid {
				return fn(&rec, nil)
			}
			latest = record.Version{RecordID: rec.ID, Version: int(lver.Int32), Payload: lpayload, State: lstate, Salt: lsalt}
			return fn(&rec, &latest)
		})
	if err != nil {
		return err
	}
	return rowsEach(ctx, v.s.pool, `SELECT DISTINCT ON (v.record_id) v.record_id, v.version, v.payload, v.state, v.salt FROM record_versions v
		WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = v.record_id) ORDER BY v.record_id, v.version DESC`,
		func(rows pgx.Rows) error {
			latest = record.Version{}
			if err := rows.Scan(&latest.RecordID, &latest.Version, &latest.Payload, &latest.State, &latest.Salt); err != nil {
				return translate(err)
			}
			return fn(nil, &latest)
		})
}

// withExtra scans a row's leading columns into the destinations its caller
// gives and the rest into extra.
type withExtra struct {
	row   pgx.Row
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

const listVersionScanCols = `entry_id, version, state, salt, COALESCE(leaf_index, -1)`

func (v *snapshot) ScanListVersions(ctx context.Context, fn func(v *verify.ListVersion) error) error {
	var lv verify.ListVersion
	var state pgtype.DriverBytes
	each := func(rows pgx.Rows) error {
		lv.Salt = nil
		if err := rows.Scan(&lv.EntryID, &lv.Version, &state, &lv.Salt, &lv.LeafIndex); err != nil {
			return translate(err)
		}
		lv.State = state
		return fn(&lv)
	}
	if err := v.scan(ctx, `SELECT `+listVersionScanCols+` FROM list_entry_versions WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return v.scan(ctx, `SELECT `+listVersionScanCols+` FROM list_entry_versions WHERE leaf_index IS NULL`, each)
}

func (v *snapshot) ScanFeedback(ctx context.Context, fn func(f *measure.Feedback) error) error {
	return scanLeafOrder(ctx, v, feedbackCols, "check_feedback", scanFeedback, fn)
}

func (v *snapshot) ScanChecks(ctx context.Context, fn func(c *measure.Check) error) error {
	return scanLeafOrder(ctx, v, checkCols, "checks", scanCheck, fn)
}

func (v *snapshot) ScanSubjects(ctx context.Context, fn func(sj *record.SealedSubject) error) error {
	return scanLeafOrder(ctx, v, subjectScanCols, "subjects", scanSubject, fn)
}

const subjectScanCols = `COALESCE(id, ''), subject_key, id_type, number_enc, name_enc, created_at, salt, COALESCE(leaf_index, -1)`

func scanSubject(row pgx.Row) (record.SealedSubject, error) {
	var sj record.SealedSubject
	err := row.Scan(&sj.ID, &sj.Key, &sj.IDType, &sj.Number, &sj.Name, &sj.At, &sj.Salt, &sj.LeafIndex)
	sj.At = utc(sj.At)
	return sj, err
}

// scanLeafOrder calls fn for every row of table read with read: those with
// a leaf index in leaf order, then those without one.
func scanLeafOrder[T any](ctx context.Context, v *snapshot, cols, table string, read func(pgx.Row) (T, error), fn func(*T) error) error {
	each := func(rows pgx.Rows) error {
		t, err := read(rows)
		if err != nil {
			return translate(err)
		}
		return fn(&t)
	}
	if err := v.scan(ctx, `SELECT `+cols+` FROM `+table+` WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return v.scan(ctx, `SELECT `+cols+` FROM `+table+` WHERE leaf_index IS NULL`, each)
}

// ScanListEntries reads on a pooled connection, outside the exported
// snapshot, as ScanRecords does.
func (v *snapshot) ScanListEntries(ctx context.Context, fn func(e *verify.ListEntry, latest *verify.ListVersion) error) error {
	var e verify.ListEntry
	var from, until pgtype.Date
	var latest verify.ListVersion
	var lver pgtype.Int4
	err := rowsEach(ctx, v.s.pool, `SELECT e.id, e.list, e.dept, e.ref, e.record_id, e.subject_key, e.status, e.version, e.active_from, e.until, e.state,
		v.version, v.state, v.salt
		FROM list_entries e LEFT JOIN LATERAL
		(SELECT version, state, salt FROM list_entry_versions WHERE entry_id = e.id ORDER BY version DESC LIMIT 1) v ON true`,
		func(rows pgx.Rows) error {
			latest.Salt = nil
			if err := rows.Scan(&e.ID, &e.List, &e.Dept, &e.Ref, &e.RecordID, &e.SubjectKey, &e.Status, &e.Version, &from, &until, &e.State,
				&lver, &latest.State, &latest.Salt); err != nil {
				return translate(err)
			}
			e.ActiveFrom, e.Until = day(from), day(until)
			if !lver.Valid {
				return fn(&e, nil)
			}
			latest.EntryID, latest.Version = e.ID, int(lver.Int32)
			return fn(&e, &latest)
		})
	if err != nil {
		return err
	}
	return rowsEach(ctx, v.s.pool, `SELECT DISTINCT ON (v.entry_id) v.entry_id, v.version, v.state, v.salt FROM list_entry_versions v
		WHERE NOT EXISTS (SELECT 1 FROM list_entries e WHERE e.id = v.entry_id) ORDER BY v.entry_id, v.version DESC`,
		func(rows pgx.Rows) error {
			latest = verify.ListVersion{}
			if err := rows.Scan(&latest.EntryID, &latest.Version, &latest.State, &latest.Salt); err != nil {
				return translate(err)
			}
			return fn(nil, &latest)
		})
}

// ScanCheckMeasures reads on a pooled connection, outside the exported
// snapshot, as ScanRecords does.
func (v *snapshot) ScanCheckMeasures(ctx context.Context, fn func(c *measure.Check, m *verify.CheckMeasure) error) error {
	var c measure.Check
	var m verify.CheckMeasure
	err := rowsEach(ctx, v.s.pool, `SELECT c.id, c.dept, c.at, c.measures, COALESCE(c.leaf_index, -1), m.check_id, m.measure, m.dept, m.at
		FROM checks c LEFT JOIN check_measures m ON m.check_id = c.id ORDER BY c.id, m.measure`, func(rows pgx.Rows) error {
		var id string
		var at time.Time
		var ms []byte
		var mID, mMeasure, mDept pgtype.Text
		var mAt pgtype.Timestamptz
		if err := rows.Scan(&id, &c.Dept, &at, &ms, &c.LeafIndex, &mID, &mMeasure, &mDept, &mAt); err != nil {
			return translate(err)
		}
		if id != c.ID {
			c.ID, c.At, c.Measures = id, utc(at), measure.MeasuresOf(ms)
		}
		if !mID.Valid {
			return fn(&c, nil)
		}
		m = verify.CheckMeasure{CheckID: mID.String, Measure: mMeasure.String, Dept: mDept.String, At: utc(mAt.Time)}
		return fn(&c, &m)
	})
	if err != nil {
		return err
	}
	return rowsEach(ctx, v.s.pool, `SELECT m.check_id, m.measure, m.dept, m.at FROM check_measures m
		WHERE NOT EXISTS (SELECT 1 FROM checks c WHERE c.id = m.check_id) ORDER BY m.check_id, m.measure`, func(rows pgx.Rows) error {
		if err := rows.Scan(&m.CheckID, &m.Measure, &m.Dept, &m.At); err != nil {
			return translate(err)
		}
		m.At = utc(m.At)
		return fn(nil, &m)
	})
}
