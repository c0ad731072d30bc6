package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"slices"

	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

var _ record.Store = (*Store)(nil)

// CreateRecords inserts records, their new subjects and first versions in
// one transaction; a record whose (dept, ref) exists is reported, not inserted.
func (s *Store) CreateRecords(ctx context.Context, subjects []record.SealedSubject, recs []record.Stored, versions []record.Version) ([]record.Outcome, error) {
	out := make([]record.Outcome, len(recs))
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		subStmt, err := tx.PrepareContext(ctx, insertSubject)
		if err != nil {
			return err
		}
		defer subStmt.Close()
		recStmt, err := tx.PrepareContext(ctx, insertRecord+` ON CONFLICT (dept, ref) DO NOTHING`)
		if err != nil {
			return err
		}
		defer recStmt.Close()
		verStmt, err := tx.PrepareContext(ctx, insertVersion)
		if err != nil {
			return err
		}
		defer verStmt.Close()
		leaves, err := tx.leaves(ctx)
		if err != nil {
			return err
		}
		// People go in in the order of their subject key, which their
		// table's key is: in the file's order the keys (HMACs) fall at
		// random, and a chunk would touch the key's index pages over and
		// over. Records, versions and leaves follow the call's order, close
		// to the order of the records' ids (made from the time): verify
		// reads records by id, and so reads their pages in turn (in
		// subject-key order it read a page for nearly every record). A row
		// repeating an earlier row's ref is stored by the earlier one.
		order := make([]int, len(recs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(subjects[a].Key, subjects[b].Key) })
		for _, i := range order {
			if err := storeSubject(ctx, subStmt, leaves, subjects[i]); err != nil {
				return err
			}
		}
		for i := range recs {
			r := recs[i]
			res, err := recStmt.ExecContext(ctx, recordArgs(r)...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				err := tx.QueryRowContext(ctx, `SELECT id, content_hash FROM records WHERE dept = ? AND ref = ?`, r.Dept, r.Ref).
					Scan(&out[i].ExistingID, &out[i].ExistingHash)
				if err != nil {
					return err
				}
				continue
			}
			out[i].Created = true
		}
		for i, v := range versions {
			if !out[i].Created {
				continue
			}
			idx, err := leaves.append(ctx, record.LeafKind, v.RecordID, v.Version, v.Leaf)
			if err != nil {
				return err
			}
			if _, err := verStmt.ExecContext(ctx, versionArgs(v, idx)...); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// storeSubject inserts sj with insert (insertSubject) unless its key is
// stored, and its leaf when it is new: the row claims the next leaf index,
// which is appended only if the row went in.
func storeSubject(ctx context.Context, insert *sql.Stmt, leaves *leafAppender, sj record.SealedSubject) error {
	res, err := insert.ExecContext(ctx, sj.Key, sj.IDType, sj.Number, sj.Name, ts(sj.At), sj.ID, sj.Salt, leaves.peek(sj.Leaf))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		_, err = leaves.append(ctx, record.SubjectLeafKind, sj.ID, -1, sj.Leaf)
	}
	return err
}

const (
	insertSubject = `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at, id, salt, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject_key) DO NOTHING`
	insertRecord = `INSERT INTO records (id, dept, ref, item, subject_key, version, status, severity, display_from, earliest_end, display_end, public,
		payload, content_hash, created_at, updated_at, revoked_reason, revoked_basis, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertVersion = `INSERT INTO record_versions (record_id, version, change, at, payload, note, state, salt, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	recordCols    = `id, dept, ref, item, subject_key, version, status, severity, display_from, earliest_end, display_end, public,
		payload, content_hash, created_at, updated_at, revoked_reason, revoked_basis, revoked_at`
)

func recordArgs(r record.Stored) []any {
	reason, basis, at := revocationArgs(r)
	return []any{r.ID, r.Dept, r.Ref, r.Item, r.SubjectKey, r.Version, string(r.Status), string(r.Severity),
		r.Window.From.String(), r.Window.EarliestEnd.String(), r.Window.End.String(), r.Window.Public,
		r.Payload, r.ContentHash, ts(r.CreatedAt), ts(r.UpdatedAt), reason, basis, at}
}

func scanRecord(row interface{ Scan(...any) error }) (record.Stored, error) {
	var r record.Stored
	var status, severity, from, earliest, end, created, updated, reason, basis, at string
	err := row.Scan(&r.ID, &r.Dept, &r.Ref, &r.Item, &r.SubjectKey, &r.Version, &status, &severity, &from, &earliest, &end,
		&r.Window.Public, &r.Payload, &r.ContentHash, &created, &updated, &reason, &basis, &at)
	if err != nil {
		return r, err
	}
	r.Status, r.Severity = record.Status(status), catalogSeverity(severity)
	r.Window.From, r.Window.EarliestEnd, r.Window.End = day(from), day(earliest), day(end)
	r.CreatedAt, r.UpdatedAt = parseTS(created), parseTS(updated)
	if at != "" || reason != "" || basis != "" { // any of them: a reason on an active record is a change verify must see
		r.Revocation = &record.Revocation{Reason: reason, Basis: basis, At: parseTS(at)}
	}
	return r, nil
}

func day(s string) clock.Date {
	d, _ := clock.ParseDate(s)
	return d
}

// Record returns a record by id. Returns NotFound.
func (s *Store) Record(ctx context.Context, id string) (record.Stored, error) {
	r, err := scanRecord(s.r.QueryRowContext(ctx, `SELECT `+recordCols+` FROM records WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.E(errs.NotFound, "no record %q", id)
	}
	return r, translate(err)
}

// UpdateRecord replaces a record at version rec.Version-1 and appends v.
func (s *Store) UpdateRecord(ctx context.Context, subject *record.SealedSubject, r record.Stored, v record.Version) error {
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		leaves, err := tx.leaves(ctx)
		if err != nil {
			return err
		}
		if subject != nil {
			stmt, err := tx.PrepareContext(ctx, insertSubject)
			if err != nil {
				return err
			}
			defer stmt.Close()
			if err := storeSubject(ctx, stmt, leaves, *subject); err != nil {
				return err
			}
		}
		reason, basis, at := revocationArgs(r)
		res, err := tx.ExecContext(ctx, `UPDATE records SET subject_key = ?, version = ?, status = ?, severity = ?, display_from = ?, earliest_end = ?,
			display_end = ?, public = ?, payload = ?, content_hash = ?, updated_at = ?, revoked_reason = ?, revoked_basis = ?, revoked_at = ?
			WHERE id = ? AND version = ?`,
			r.SubjectKey, r.Version, string(r.Status), string(r.Severity), r.Window.From.String(), r.Window.EarliestEnd.String(),
			r.Window.End.String(), r.Window.Public, r.Payload, r.ContentHash, ts(r.UpdatedAt), reason, basis, at, r.ID, r.Version-1)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var cur int
			if err := tx.QueryRowContext(ctx, `SELECT version FROM records WHERE id = ?`, r.ID).Scan(&cur); errors.Is(err, sql.ErrNoRows) {
				return errs.E(errs.NotFound, "no record %q", r.ID)
			}
			return errs.E(errs.Conflict, "record %s was changed concurrently (now at version %d); reload and retry", r.ID, cur)
		}
		idx, err := leaves.append(ctx, record.LeafKind, v.RecordID, v.Version, v.Leaf)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, insertVersion, versionArgs(v, idx)...)
		return err
	})
}

// RecordsBySubject returns every record of a person, oldest first.
func (s *Store) RecordsBySubject(ctx context.Context, key []byte) ([]record.Stored, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordCols+` FROM records WHERE subject_key = ? ORDER BY id`, key)
	return collect(rows, err, scanRecord)
}

// collect scans every row of a query's result (rows, err) with scan, and
// closes rows.
func collect[T any](rows *sql.Rows, err error, scan func(row interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, t)
	}
	return out, translate(rows.Err())
}

// Versions returns the history of a record, oldest first.
func (s *Store) Versions(ctx context.Context, id string) ([]record.Version, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT record_id, version, change, at, payload, note, state, salt, COALESCE(leaf_index, -1) FROM record_versions WHERE record_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []record.Version
	for rows.Next() {
		var v record.Version
		var change, at string
		if err := rows.Scan(&v.RecordID, &v.Version, &change, &at, &v.Payload, &v.Note, &v.State, &v.Salt, &v.LeafIndex); err != nil {
			return nil, translate(err)
		}
		v.Change, v.At = record.Change(change), parseTS(at)
		out = append(out, v)
	}
	return out, translate(rows.Err())
}

// Subject returns a person by key. Returns NotFound.
func (s *Store) Subject(ctx context.Context, key []byte) (record.SealedSubject, error) {
	var sj record.SealedSubject
	err := s.r.QueryRowContext(ctx, `SELECT subject_key, id_type, number_enc, name_enc FROM subjects WHERE subject_key = ?`, key).
		Scan(&sj.Key, &sj.IDType, &sj.Number, &sj.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return sj, errs.E(errs.NotFound, "no such person")
	}
	return sj, translate(err)
}

func catalogSeverity(s string) catalog.Severity { return catalog.Severity(s) }

func revocationArgs(r record.Stored) (reason, basis, at string) {
	if r.Revocation == nil {
		return "", "", ""
	}
	return r.Revocation.Reason, r.Revocation.Basis, ts(r.Revocation.At)
}

func versionArgs(v record.Version, leafIndex any) []any {
	return []any{v.RecordID, v.Version, string(v.Change), ts(v.At), v.Payload, v.Note, append([]byte{}, v.State...), v.Salt, leafIndex}
}
