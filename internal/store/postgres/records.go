package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

var _ record.Store = (*Store)(nil)

var (
	subjectColumns = []string{"subject_key", "id_type", "number_enc", "name_enc", "created_at", "id", "salt", "leaf_index"}
	recordColumns  = []string{"id", "dept", "ref", "item", "subject_key", "version", "status", "severity",
		"display_from", "earliest_end", "display_end", "public", "payload", "content_hash",
		"created_at", "updated_at", "revoked_reason", "revoked_basis", "revoked_at"}
	versionColumns = []string{"record_id", "version", "change", "at", "payload", "note", "state", "salt", "leaf_index"}
)

const (
	recordCols = `id, dept, ref, item, subject_key, version, status, severity, display_from, earliest_end, display_end, public,
		payload, content_hash, created_at, updated_at, revoked_reason, revoked_basis, revoked_at`
	insertSubject = `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at, id, salt, leaf_index)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (subject_key) DO NOTHING`
	insertRecord = `INSERT INTO records (` + recordCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`
	insertVersion = `INSERT INTO record_versions (record_id, version, change, at, payload, note, state, salt, leaf_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
)

// errRaced marks a fast-path insert that met a (dept, ref) committed by a
// concurrent writer after the lookup; the batch is redone row by row.
var errRaced = errors.New("a concurrent writer inserted the same (dept, ref)")

// CreateRecords inserts records, their new subjects and first versions in
// one transaction; a record whose (dept, ref) exists, in the database or
// earlier in recs, is reported, not inserted. As in the SQLite store, the
// subject of every row is stored when new, the first row of a subject wins,
// and a stored subject is never replaced.
//
// It is built for batch ingest: one query finds the (dept, ref) pairs that
// already exist, then subjects, records and versions are each sent with one
// COPY. Should a concurrent writer commit one of the pairs between the lookup
// and the copy, the copy fails on the unique key, and the batch is redone in
// a new transaction row by row with INSERT ... ON CONFLICT DO NOTHING.
// A batch of fewer than eight records (an API submission is one) goes row by
// row from the start: the fast path's temporary table costs more than it
// saves below that.
func (s *Store) CreateRecords(ctx context.Context, subjects []record.SealedSubject, recs []record.Stored, versions []record.Version) ([]record.Outcome, error) {
	if len(subjects) != len(recs) || len(versions) != len(recs) {
		return nil, errs.E(errs.Internal, "CreateRecords: %d subjects and %d versions for %d records", len(subjects), len(versions), len(recs))
	}
	out := make([]record.Outcome, len(recs))
	if len(recs) == 0 {
		return out, nil
	}
	fast := len(recs) >= s.rowByRowBelow
	var err error
	if fast {
		err = s.ledgerTx(ctx, func(tx pgx.Tx) error { return s.createFast(ctx, tx, subjects, recs, versions, out) })
	}
	if !fast || errors.Is(err, errRaced) {
		clear(out)
		err = s.ledgerTx(ctx, func(tx pgx.Tx) error { return createSlow(ctx, tx, subjects, recs, versions, out) })
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

type deptRef struct{ dept, ref string }

func (s *Store) createFast(ctx context.Context, tx pgx.Tx, subjects []record.SealedSubject, recs []record.Stored, versions []record.Version, out []record.Outcome) error {
	// (a) The pairs that exist already.
	depts, refs := make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		depts[i], refs[i] = r.Dept, r.Ref
	}
	// LIMIT 1 keeps the planner from flattening the lateral subquery into a
	// join that scans all of records: each pair is one probe of its index.
	rows, err := tx.Query(ctx, `SELECT k.dept, k.ref, r.id, r.content_hash
		FROM unnest($1::text[], $2::text[]) AS k (dept, ref)
		CROSS JOIN LATERAL (SELECT id, content_hash FROM records WHERE dept = k.dept AND ref = k.ref LIMIT 1) AS r`, depts, refs)
	if err != nil {
		return err
	}
	existing := make(map[deptRef]record.Outcome)
	for rows.Next() {
		var k deptRef
		var o record.Outcome
		if err := rows.Scan(&k.dept, &k.ref, &o.ExistingID, &o.ExistingHash); err != nil {
			rows.Close()
			return err
		}
		existing[k] = o
	}
	if rows.Close(); rows.Err() != nil {
		return rows.Err()
	}

	// Which rows are new; a repeated pair names the row that came first.
	fresh := make([]int, 0, len(recs))
	first := make(map[deptRef]int, len(recs))
	for i, r := range recs {
		k := deptRef{r.Dept, r.Ref}
		if o, ok := existing[k]; ok {
			out[i] = o
			continue
		}
		if j, ok := first[k]; ok {
			out[i] = record.Outcome{ExistingID: recs[j].ID, ExistingHash: bytes.Clone(recs[j].ContentHash)}
			continue
		}
		first[k] = i
		out[i].Created = true
		fresh = append(fresh, i)
	}

	// (b) The new subjects, with their leaves: the first row of each
	// subject wins, and a stored subject is never replaced. The ledger
	// lock keeps other writers of subjects out until commit.
	leaves, err := newLeafAppender(ctx, tx)
	if err != nil {
		return err
	}
	keys := make([][]byte, 0, len(subjects))
	for _, sj := range subjects {
		keys = append(keys, sj.Key)
	}
	stored := make(map[string]bool)
	rows, err = tx.Query(ctx, `SELECT subject_key FROM subjects WHERE subject_key = ANY($1)`, keys)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		stored[string(k)] = true
	}
	if rows.Close(); rows.Err() != nil {
		return rows.Err()
	}
	var subs [][]any
	for _, sj := range subjects {
		if !stored[string(sj.Key)] {
			stored[string(sj.Key)] = true
			idx := leaves.add(record.SubjectLeafKind, sj.ID, sj.Leaf)
			subs = append(subs, []any{sj.Key, sj.IDType, sj.Number, sj.Name, sj.At, sj.ID, sj.Salt, idx})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"subjects"}, subjectColumns, pgx.CopyFromRows(subs)); err != nil {
		return err
	}
	if len(fresh) == 0 {
		return leaves.copy(ctx, tx)
	}

	// (c) The new records, straight into the table.
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"records"}, recordColumns, pgx.CopyFromSlice(len(fresh), func(n int) ([]any, error) {
		return recordValues(recs[fresh[n]]), nil
	}))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeUniqueViolation {
		return fmt.Errorf("%w: %w", errRaced, err)
	}
	if err != nil {
		return err
	}

	// (d) Their ledger leaves, then their first versions.
	idx := make([]any, len(fresh))
	for n, i := range fresh {
		v := versions[i]
		idx[n] = leaves.add(record.LeafKind, record.EventID(v.RecordID, v.Version), v.Leaf)
	}
	if err := leaves.copy(ctx, tx); err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"record_versions"}, versionColumns, pgx.CopyFromSlice(len(fresh), func(n int) ([]any, error) {
		return versionValues(versions[fresh[n]], idx[n]), nil
	}))
	return err
}

// createSlow inserts row by row, as the SQLite store does; a pair inserted
// meanwhile by another transaction is waited for and then reported.
func createSlow(ctx context.Context, tx pgx.Tx, subjects []record.SealedSubject, recs []record.Stored, versions []record.Version, out []record.Outcome) error {
	leaves, err := newLeafAppender(ctx, tx)
	if err != nil {
		return err
	}
	for i, r := range recs {
		if err := storeSubject(ctx, tx, leaves, subjects[i]); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, insertRecord+` ON CONFLICT (dept, ref) DO NOTHING`, recordValues(r)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			err := tx.QueryRow(ctx, `SELECT id, content_hash FROM records WHERE dept = $1 AND ref = $2`, r.Dept, r.Ref).
				Scan(&out[i].ExistingID, &out[i].ExistingHash)
			if err != nil {
				return err
			}
			continue
		}
		out[i].Created = true
		v := versions[i]
		idx := leaves.add(record.LeafKind, record.EventID(v.RecordID, v.Version), v.Leaf)
		if _, err := tx.Exec(ctx, insertVersion, versionValues(v, idx)...); err != nil {
			return err
		}
	}
	return leaves.insert(ctx, tx)
}

// storeSubject inserts sj unless its key is stored, and queues its leaf
// when it is new: the row claims the next leaf index, which is taken only
// if the row went in.
func storeSubject(ctx context.Context, tx pgx.Tx, leaves *leafAppender, sj record.SealedSubject) error {
	tag, err := tx.Exec(ctx, insertSubject, sj.Key, sj.IDType, sj.Number, sj.Name, sj.At, sj.ID, sj.Salt, leaves.peek(sj.Leaf))
	if err == nil && tag.RowsAffected() == 1 {
		leaves.add(record.SubjectLeafKind, sj.ID, sj.Leaf)
	}
	return err
}

func recordValues(r record.Stored) []any {
	var reason, basis string
	var at pgtype.Timestamptz
	if r.Revocation != nil {
		reason, basis, at = r.Revocation.Reason, r.Revocation.Basis, nullTime(r.Revocation.At)
	}
	return []any{r.ID, r.Dept, r.Ref, r.Item, r.SubjectKey, r.Version, string(r.Status), string(r.Severity),
		date(r.Window.From), date(r.Window.EarliestEnd), date(r.Window.End), r.Window.Public,
		r.Payload, r.ContentHash, r.CreatedAt, r.UpdatedAt, reason, basis, at}
}

func versionValues(v record.Version, leafIndex any) []any {
	return []any{v.RecordID, v.Version, string(v.Change), v.At, v.Payload, v.Note, append([]byte{}, v.State...), v.Salt, leafIndex}
}

func scanRecord(row pgx.Row) (record.Stored, error) {
	var r record.Stored
	var status, severity, reason, basis string
	var from, earliest, end pgtype.Date
	var at pgtype.Timestamptz
	err := row.Scan(&r.ID, &r.Dept, &r.Ref, &r.Item, &r.SubjectKey, &r.Version, &status, &severity, &from, &earliest, &end,
		&r.Window.Public, &r.Payload, &r.ContentHash, &r.CreatedAt, &r.UpdatedAt, &reason, &basis, &at)
	if err != nil {
		return record.Stored{}, err
	}
	r.Status, r.Severity = record.Status(status), catalog.Severity(severity)
	r.Window.From, r.Window.EarliestEnd, r.Window.End = day(from), day(earliest), day(end)
	r.CreatedAt, r.UpdatedAt = utc(r.CreatedAt), utc(r.UpdatedAt)
	if at.Valid || reason != "" || basis != "" { // any of them: a reason on an active record is a change verify must see
		r.Revocation = &record.Revocation{Reason: reason, Basis: basis, At: utc(at.Time)}
	}
	return r, nil
}

// date is a calendar day as a PostgreSQL date; the zero Date is NULL.
func date(d clock.Date) pgtype.Date {
	return pgtype.Date{Time: d.Time(time.UTC), Valid: !d.IsZero()}
}

func day(d pgtype.Date) clock.Date {
	if !d.Valid {
		return clock.Date{}
	}
	return clock.DateOf(d.Time)
}

// Record returns a record by id. Returns NotFound.
func (s *Store) Record(ctx context.Context, id string) (record.Stored, error) {
	r, err := scanRecord(s.pool.QueryRow(ctx, `SELECT `+recordCols+` FROM records WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errs.E(errs.NotFound, "no record %q", id)
	}
	return r, translate(err)
}

// UpdateRecord replaces a record at version rec.Version-1 and appends v.
// Returns NotFound, or Conflict when the stored version moved on.
func (s *Store) UpdateRecord(ctx context.Context, subject *record.SealedSubject, r record.Stored, v record.Version) error {
	return s.ledgerTx(ctx, func(tx pgx.Tx) error {
		leaves, err := newLeafAppender(ctx, tx)
		if err != nil {
			return err
		}
		if subject != nil {
			if err := storeSubject(ctx, tx, leaves, *subject); err != nil {
				return err
			}
		}
		var reason, basis string
		var at pgtype.Timestamptz
		if r.Revocation != nil {
			reason, basis, at = r.Revocation.Reason, r.Revocation.Basis, nullTime(r.Revocation.At)
		}
		tag, err := tx.Exec(ctx, `UPDATE records SET subject_key = $1, version = $2, status = $3, severity = $4, display_from = $5,
			earliest_end = $6, display_end = $7, public = $8, payload = $9, content_hash = $10, updated_at = $11,
			revoked_reason = $12, revoked_basis = $13, revoked_at = $14
			WHERE id = $15 AND version = $16`,
			r.SubjectKey, r.Version, string(r.Status), string(r.Severity), date(r.Window.From), date(r.Window.EarliestEnd),
			date(r.Window.End), r.Window.Public, r.Payload, r.ContentHash, r.UpdatedAt, reason, basis, at, r.ID, r.Version-1)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var cur int
			err := tx.QueryRow(ctx, `SELECT version FROM records WHERE id = $1`, r.ID).Scan(&cur)
			if errors.Is(err, pgx.ErrNoRows) {
				return errs.E(errs.NotFound, "no record %q", r.ID)
			}
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "record %s was changed concurrently (now at version %d); reload and retry", r.ID, cur)
		}
		idx := leaves.add(record.LeafKind, record.EventID(v.RecordID, v.Version), v.Leaf)
		if err := leaves.insert(ctx, tx); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, insertVersion, versionValues(v, idx)...)
		return err
	})
}

// RecordsBySubject returns every record of a person, oldest first (ids sort
// by creation time).
func (s *Store) RecordsBySubject(ctx context.Context, key []byte) ([]record.Stored, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordCols+` FROM records WHERE subject_key = $1 ORDER BY id`, key)
	return collect(rows, err, scanRecord)
}

// Versions returns the history of a record, oldest first; none for an
// unknown record.
func (s *Store) Versions(ctx context.Context, id string) ([]record.Version, error) {
	rows, err := s.pool.Query(ctx, `SELECT record_id, version, change, at, payload, note, state, salt, COALESCE(leaf_index, -1) FROM record_versions WHERE record_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []record.Version
	for rows.Next() {
		var v record.Version
		var change string
		if err := rows.Scan(&v.RecordID, &v.Version, &change, &v.At, &v.Payload, &v.Note, &v.State, &v.Salt, &v.LeafIndex); err != nil {
			return nil, translate(err)
		}
		v.Change, v.At = record.Change(change), utc(v.At)
		out = append(out, v)
	}
	return out, translate(rows.Err())
}

// Subject returns a person by key. Returns NotFound.
func (s *Store) Subject(ctx context.Context, key []byte) (record.SealedSubject, error) {
	var sj record.SealedSubject
	err := s.pool.QueryRow(ctx, `SELECT subject_key, id_type, number_enc, name_enc FROM subjects WHERE subject_key = $1`, key).
		Scan(&sj.Key, &sj.IDType, &sj.Number, &sj.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return record.SealedSubject{}, errs.E(errs.NotFound, "no such person")
	}
	return sj, translate(err)
}
