package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/canon"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
	"pubcredit/internal/verify"
)

var _ verify.Database = (*Store)(nil)

// VerifySnapshot opens read-only connections of its own, apart from the
// store's pool, that read below database/sql (rawrows.go), and begins a
// read transaction on one connection for each scan of the walk, so that
// the scans run in parallel. In WAL mode a read transaction reads one
// snapshot from its first read to its end, whatever writers commit
// meanwhile; the transactions are begun while a connection holds the
// write lock, so that no commit falls between them and every scan reads
// the same state. A database that cannot be locked for writing (a
// read-only copy) is read in one transaction, its scans taking turns a
// row at a time; one opened immutable (OpenReadOnly) needs no lock.
// ScanRecords reads on two more connections of the snapshot, and
// ScanListEntries and ScanCheckMeasures after it on one of them: the
// summary's counts are of the same state.
//
// The database is not memory-mapped (mmap_size), though that made
// verification faster (298,000 against 207,000 leaves/s when it was
// measured, docs/benchmarks.md): each connection would map the file, and the
// pages it reads would stay in the process's resident memory, which then
// grows with the log (3.2 GB for a log of 1,000,000 leaves, a 1.2 GB file);
// and a file cut short under a mapping kills the process (SIGBUS) instead
// of failing a read.
func (s *Store) VerifySnapshot(ctx context.Context) (verify.Store, func(), error) {
	v := &snapshot{}
	var opened []*rawConn
	release := func() {
		for _, c := range opened {
			c.conn.Close()
		}
	}
	open := func() (*rawConn, error) {
		c, err := openRaw(ctx, s.path, 10*time.Second, s.immutable)
		if err == nil {
			opened = append(opened, c)
			err = c.exec(verifyCache)
		}
		return c, err
	}
	var unlock func()
	switch {
	case s.immutable: // no process has it open: every connection reads the same
		unlock = func() {}
	case !s.VerifyUnlocked:
		unlock = s.holdWriteLock(ctx)
	}
	n := nScans
	if unlock == nil {
		n = 1
	}
	for i := range n {
		c, err := open()
		if err == nil {
			// A deferred transaction takes its snapshot at its first
			// read: take it now.
			err = errors.Join(c.exec(`BEGIN`), c.exec(`SELECT COUNT(*) FROM ledger_checkpoints`))
			v.conns[i] = c
		}
		if err != nil {
			if unlock != nil {
				unlock()
			}
			release()
			return nil, nil, err
		}
	}
	if unlock != nil {
		unlock()
	}
	if n == 1 {
		shared := &rawConn{conn: v.conns[0].conn, mu: new(sync.Mutex)}
		for i := range nScans {
			v.conns[i] = shared
		}
	}
	return v, release, nil
}

// verifyCache is the page cache of each connection of a verification: 64
// KiB. Every scan reads its pages once, in order, and a small cache makes
// it faster: 238,000–250,000 leaves/s against 202,000–210,000 with the
// default 2 MiB, and 173,000–187,000 with 8 MiB (alternating, one run).
const verifyCache = `PRAGMA cache_size = -64`

// holdWriteLock takes the database's write lock on a connection of its own
// and returns its release, or nil when the lock cannot be taken.
func (s *Store) holdWriteLock(ctx context.Context) func() {
	db, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		return nil
	}
	return func() {
		tx.Rollback()
		db.Close()
	}
}

// The scans of a walk, each on a read transaction of its own.
const (
	scanLeaves = iota
	scanHashes
	scanCheckpoints
	scanVersions
	scanAccess
	scanListVersions
	scanFeedbackRows
	scanCheckRows
	scanSubjectRows
	scanRecordRows     // ScanRecords: the records rows
	scanLatestVersions // ScanRecords: the record versions
	nScans
)

// snapshot implements verify.Store over read transactions begun together.
type snapshot struct {
	conns [nScans]*rawConn
}

var _ verify.Store = (*snapshot)(nil)

// scanner is a row being read, of database/sql or of the direct API.
type scanner interface{ Scan(...any) error }

// scan runs query on c and calls each for every row until it returns an
// error, which is returned unchanged.
func scan(c *rawConn, query string, each func(scanner) error) error {
	rows, err := c.query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (v *snapshot) ScanLeaves(ctx context.Context, fn func(idx int64, kind, eventID, data []byte) error) error {
	var idx int64
	var kind, eventID, data sql.RawBytes
	return scan(v.conns[scanLeaves], `SELECT idx, kind, event_id, data FROM ledger_leaves ORDER BY idx`, func(rows scanner) error {
		if err := rows.Scan(&idx, &kind, &eventID, &data); err != nil {
			return translate(err)
		}
		return fn(idx, kind, eventID, data)
	})
}

func (v *snapshot) ScanHashes(ctx context.Context, fn func(idx int64, hash []byte) error) error {
	var idx int64
	var hash sql.RawBytes
	return scan(v.conns[scanHashes], `SELECT idx, hash FROM ledger_hashes ORDER BY idx`, func(rows scanner) error {
		if err := rows.Scan(&idx, &hash); err != nil {
			return translate(err)
		}
		return fn(idx, hash)
	})
}

func (v *snapshot) ScanCheckpoints(ctx context.Context, fn func(size int64, signed []byte) error) error {
	var size int64
	var signed sql.RawBytes
	return scan(v.conns[scanCheckpoints], `SELECT size, signed FROM ledger_checkpoints ORDER BY size`, func(rows scanner) error {
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
	each := func(rows scanner) error {
		// The salt and the note are scanned as copies, so that NULL (an
		// erased salt) and an empty value stay apart; the larger columns
		// stay in the driver's buffer.
		ver.Salt, ver.Note = nil, nil
		if err := rows.Scan(&ver.RecordID, &ver.Version, &change, &at, &payload, &ver.Note, &state, &ver.Salt, &ver.LeafIndex); err != nil {
			return translate(err)
		}
		ver.Change, ver.At, ver.Payload, ver.State = record.Change(change), parseTS(at), payload, state
		return fn(&ver)
	}
	if err := scan(v.conns[scanVersions], `SELECT `+versionScanCols+` FROM record_versions WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return scan(v.conns[scanVersions], `SELECT `+versionScanCols+` FROM record_versions WHERE leaf_index IS NULL`, each)
}

const accessScanCols = `id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, COALESCE(leaf_index, -1)`

func (v *snapshot) ScanAccess(ctx context.Context, fn func(e *access.Event) error) error {
	var e access.Event
	var at, kind, action string
	var subject, recs, items sql.RawBytes
	each := func(rows scanner) error {
		e.Salt = nil
		if err := rows.Scan(&e.ID, &at, &kind, &e.Actor, &subject, &action, &e.Purpose, &e.Authority, &recs, &items, &e.Salt, &e.LeafIndex); err != nil {
			return translate(err)
		}
		e.At, e.Principal, e.Action, e.SubjectKey = parseTS(at), auth.Kind(kind), access.Action(action), subject
		var err error
		if e.Records, err = canon.ParseStrings(recs, e.Records); err != nil {
			// Not a JSON array of strings: the row was changed; a
			// value that cannot match the commitment stands for it.
			e.Records = []string{"\x00unreadable: " + string(recs)}
		}
		if e.Items, err = canon.ParseStrings(items, e.Items); err != nil {
			e.Items = []string{"\x00unreadable: " + string(items)}
		}
		return fn(&e)
	}
	if err := scan(v.conns[scanAccess], `SELECT `+accessScanCols+` FROM access_events WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return scan(v.conns[scanAccess], `SELECT `+accessScanCols+` FROM access_events WHERE leaf_index IS NULL`, each)
}

// ScanRecords merges the records with the versions, both by id from last to
// first, the versions of a record from its latest (seeking each record's
// latest version instead would descend record_versions' primary-key index
// from its root once per record), on two connections of the snapshot. The
// records are read in a goroutine of their own, and the versions where they
// are compared, their values used where the driver read them: the records
// check is the longest of verify's scans, and on one goroutine it ended
// well after the walk.
func (v *snapshot) ScanRecords(ctx context.Context, fn func(rec *record.Stored, latest *record.Version) error) error {
	recs := verify.Read(func(yield func(recordRow) bool) error { return readRecords(v.conns[scanRecordRows], yield) })
	defer recs.Stop()
	vers, err := v.conns[scanLatestVersions].query(`SELECT typeof(record_id) = 'text', record_id, version, payload, state, salt
		FROM record_versions ORDER BY record_id DESC, version DESC`)
	if err != nil {
		return translate(err)
	}
	defer vers.Close()

	// An id that is not text (a value of another type written in its
	// place) sorts apart from the text ones, not where the merge compares
	// it: its row is matched with nothing, as it cannot be matched. A
	// reader that failed ends the merge before its rows' absence is taken
	// for a finding.
	var r recordRow
	var rec *record.Stored
	var haveRec bool
	nextRec := func() error {
		for {
			if r, haveRec = recs.Next(); !haveRec {
				return recs.Err()
			}
			if rec = &r.rec; !r.stray {
				return nil
			}
			if err := fn(rec, nil); err != nil {
				return err
			}
		}
	}
	var cur record.Version
	var payload, state sql.RawBytes
	var text, haveVer bool
	var last string           // the record of the latest version read
	var lastText bool         // and whether its id was text
	nextVer := func() error { // the next record's latest version
		for {
			if haveVer = vers.Next(); !haveVer {
				return translate(vers.Err())
			}
			cur.Salt = nil // nil for NULL (erased), as apart from empty
			if err := vers.Scan(&text, &cur.RecordID, &cur.Version, &payload, &state, &cur.Salt); err != nil {
				return translate(err)
			}
			if cur.RecordID == last && text == lastText {
				continue // an earlier version of the record
			}
			last, lastText, cur.Payload, cur.State = cur.RecordID, text, payload, state
			if text {
				return nil
			}
			if err := fn(nil, &cur); err != nil {
				return err
			}
		}
	}
	if err := errors.Join(nextRec(), nextVer()); err != nil {
		return err
	}
	for haveRec || haveVer {
		switch {
		case haveVer && (!haveRec || cur.RecordID > rec.ID): // versions without a records row
			if err := fn(nil, &cur); err != nil {
				return err
			}
			if err := nextVer(); err != nil {
				return err
			}
		case haveRec && (!haveVer || rec.ID > cur.RecordID): // a records row without versions
			if err := fn(rec, nil); err != nil {
				return err
			}
			if err := nextRec(); err != nil {
				return err
			}
		default:
			if err := fn(rec, &cur); err != nil {
				return err
			}
			if err := errors.Join(nextRec(), nextVer()); err != nil {
				return err
			}
		}
	}
	return nil
}

// A recordRow is a records row as readRecords sends it; stray when its id
// is not text.
type recordRow struct {
	rec   record.Stored
	stray bool
}

// withPrefix scans a row's leading columns into prefix and the rest into
// the destinations its caller gives.
type withPrefix struct {
	row    scanner
	prefix []any
}

func (w withPrefix) Scan(dest ...any) error {
	return w.row.Scan(append(w.prefix[:len(w.prefix):len(w.prefix)], dest...)...)
}

// readRecords reads the records rows by id, from last to first, until
// yield returns false.
func readRecords(c *rawConn, yield func(recordRow) bool) error {
	rows, err := c.query(`SELECT typeof(id) = 'text', ` + recordCols + ` FROM records ORDER BY id DESC`)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var text bool
	for rows.Next() {
		rec, err := scanRecord(withPrefix{rows, []any{&text}}) // its byte columns are copies of its own
		if err != nil {
			return translate(err)
		}
		if !yield(recordRow{rec, !text}) {
			return nil
		}
	}
	return translate(rows.Err())
}

const listVersionScanCols = `entry_id, version, state, salt, COALESCE(leaf_index, -1)`

func (v *snapshot) ScanListVersions(ctx context.Context, fn func(v *verify.ListVersion) error) error {
	var lv verify.ListVersion
	var state sql.RawBytes
	each := func(rows scanner) error {
		lv.Salt = nil
		if err := rows.Scan(&lv.EntryID, &lv.Version, &state, &lv.Salt, &lv.LeafIndex); err != nil {
			return translate(err)
		}
		lv.State = state
		return fn(&lv)
	}
	if err := scan(v.conns[scanListVersions], `SELECT `+listVersionScanCols+` FROM list_entry_versions WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return scan(v.conns[scanListVersions], `SELECT `+listVersionScanCols+` FROM list_entry_versions WHERE leaf_index IS NULL`, each)
}

func (v *snapshot) ScanFeedback(ctx context.Context, fn func(f *measure.Feedback) error) error {
	return scanLeafOrder(v.conns[scanFeedbackRows], feedbackCols, "check_feedback", scanFeedback, fn)
}

func (v *snapshot) ScanChecks(ctx context.Context, fn func(c *measure.Check) error) error {
	return scanLeafOrder(v.conns[scanCheckRows], checkCols, "checks", scanCheck, fn)
}

func (v *snapshot) ScanSubjects(ctx context.Context, fn func(sj *record.SealedSubject) error) error {
	return scanLeafOrder(v.conns[scanSubjectRows], subjectScanCols, "subjects", scanSubject, fn)
}

const subjectScanCols = `COALESCE(id, ''), subject_key, id_type, number_enc, name_enc, created_at, salt, COALESCE(leaf_index, -1)`

func scanSubject(row interface{ Scan(...any) error }) (record.SealedSubject, error) {
	var sj record.SealedSubject
	var at string
	err := row.Scan(&sj.ID, &sj.Key, &sj.IDType, &sj.Number, &sj.Name, &at, &sj.Salt, &sj.LeafIndex)
	sj.At = parseTS(at)
	return sj, err
}

// scanLeafOrder calls fn for every row of table read with read: those with
// a leaf index in leaf order, then those without one.
func scanLeafOrder[T any](c *rawConn, cols, table string, read func(interface{ Scan(...any) error }) (T, error), fn func(*T) error) error {
	each := func(rows scanner) error {
		t, err := read(rows)
		if err != nil {
			return translate(err)
		}
		return fn(&t)
	}
	if err := scan(c, `SELECT `+cols+` FROM `+table+` WHERE leaf_index IS NOT NULL ORDER BY leaf_index`, each); err != nil {
		return err
	}
	return scan(c, `SELECT `+cols+` FROM `+table+` WHERE leaf_index IS NULL`, each)
}

// ScanListEntries merges list_entries in id order with list_entry_versions
// in primary-key order, on the connection of the snapshot ScanRecords read
// the records on, after it.
func (v *snapshot) ScanListEntries(ctx context.Context, fn func(e *verify.ListEntry, latest *verify.ListVersion) error) error {
	c := v.conns[scanRecordRows]
	ents, err := c.query(`SELECT id, list, dept, ref, record_id, subject_key, status, version, active_from, until, state FROM list_entries ORDER BY id`)
	if err != nil {
		return translate(err)
	}
	defer ents.Close()
	vers, err := c.query(`SELECT entry_id, version, state, salt FROM list_entry_versions ORDER BY entry_id, version`)
	if err != nil {
		return translate(err)
	}
	defer vers.Close()

	var e verify.ListEntry
	var haveEntry bool
	nextEntry := func() error {
		if haveEntry = ents.Next(); haveEntry {
			var from, until string
			if err := ents.Scan(&e.ID, &e.List, &e.Dept, &e.Ref, &e.RecordID, &e.SubjectKey, &e.Status, &e.Version, &from, &until, &e.State); err != nil {
				return translate(err)
			}
			e.ActiveFrom, e.Until = day(from), day(until)
			return nil
		}
		return translate(ents.Err())
	}
	var cur verify.ListVersion
	var haveVer bool
	nextVer := func() error {
		if haveVer = vers.Next(); haveVer {
			cur.Salt = nil
			return translate(vers.Scan(&cur.EntryID, &cur.Version, &cur.State, &cur.Salt))
		}
		return translate(vers.Err())
	}
	var latest verify.ListVersion
	latestOf := func(id string) error {
		for haveVer && cur.EntryID == id {
			latest.EntryID, latest.Version, latest.Salt = cur.EntryID, cur.Version, cur.Salt
			latest.State = append(latest.State[:0], cur.State...)
			if err := nextVer(); err != nil {
				return err
			}
		}
		return nil
	}
	if err := errors.Join(nextEntry(), nextVer()); err != nil {
		return err
	}
	for haveEntry || haveVer {
		switch {
		case haveVer && (!haveEntry || cur.EntryID < e.ID): // versions without a list_entries row
			if err := latestOf(cur.EntryID); err != nil {
				return err
			}
			if err := fn(nil, &latest); err != nil {
				return err
			}
		case haveEntry && (!haveVer || e.ID < cur.EntryID): // a row without versions
			if err := fn(&e, nil); err != nil {
				return err
			}
			if err := nextEntry(); err != nil {
				return err
			}
		default:
			if err := latestOf(e.ID); err != nil {
				return err
			}
			if err := fn(&e, &latest); err != nil {
				return err
			}
			if err := nextEntry(); err != nil {
				return err
			}
		}
	}
	return nil
}

// ScanCheckMeasures reads checks in id order joined with their
// check_measures rows, then the rows whose check is gone, on the
// connection of the snapshot ScanListEntries read on, after it.
func (v *snapshot) ScanCheckMeasures(ctx context.Context, fn func(c *measure.Check, m *verify.CheckMeasure) error) error {
	conn := v.conns[scanRecordRows]
	var c measure.Check
	var m verify.CheckMeasure
	err := scan(conn, `SELECT c.id, c.dept, c.at, c.measures, COALESCE(c.leaf_index, -1), m.check_id, m.measure, m.dept, m.at
		FROM checks c LEFT JOIN check_measures m ON m.check_id = c.id ORDER BY c.id, m.measure`, func(rows scanner) error {
		var id, at, ms string
		var mID, mMeasure, mDept, mAt sql.NullString
		if err := rows.Scan(&id, &c.Dept, &at, &ms, &c.LeafIndex, &mID, &mMeasure, &mDept, &mAt); err != nil {
			return translate(err)
		}
		if id != c.ID {
			c.ID, c.At, c.Measures = id, parseTS(at), measure.MeasuresOf([]byte(ms))
		}
		if !mID.Valid {
			return fn(&c, nil)
		}
		m = verify.CheckMeasure{CheckID: mID.String, Measure: mMeasure.String, Dept: mDept.String, At: parseTS(mAt.String)}
		return fn(&c, &m)
	})
	if err != nil {
		return err
	}
	return scan(conn, `SELECT m.check_id, m.measure, m.dept, m.at FROM check_measures m
		WHERE NOT EXISTS (SELECT 1 FROM checks c WHERE c.id = m.check_id) ORDER BY m.check_id, m.measure`, func(rows scanner) error {
		var at string
		if err := rows.Scan(&m.CheckID, &m.Measure, &m.Dept, &at); err != nil {
			return translate(err)
		}
		m.At = parseTS(at)
		return fn(nil, &m)
	})
}
