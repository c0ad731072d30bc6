package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/listing"
)

var _ listing.Store = (*Store)(nil)

// CreateEntry stores a new entry with its first version and ledger leaf;
// an existing (dept, ref) is returned instead.
func (s *Store) CreateEntry(ctx context.Context, e listing.Entry) (listing.Entry, bool, error) {
	created := false
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO list_entries (id, list, dept, ref, record_id, subject_key, status, version, active_from, until, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dept, ref) DO NOTHING`,
			e.ID, e.List, e.Dept, e.Ref, e.RecordID, e.SubjectKey, string(e.Status), e.Version, e.ActiveFrom.String(), e.Until.String(), e.State())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		created = true
		return insertEntryVersion(ctx, tx, e)
	})
	if err != nil {
		return e, false, err
	}
	if created {
		got, err := s.Entry(ctx, e.ID)
		return got, true, err
	}
	var id string
	if err := s.r.QueryRowContext(ctx, `SELECT id FROM list_entries WHERE dept = ? AND ref = ?`, e.Dept, e.Ref).Scan(&id); err != nil {
		return e, false, translate(err)
	}
	existing, err := s.Entry(ctx, id)
	return existing, false, err
}

func insertEntryVersion(ctx context.Context, tx *txn, e listing.Entry) error {
	leaves, err := tx.leaves(ctx)
	if err != nil {
		return err
	}
	idx, err := leaves.append(ctx, listing.LeafKind, listing.EventID(e.ID, e.Version), -1, e.Leaf)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO list_entry_versions (entry_id, version, state, salt, leaf_index) VALUES (?, ?, ?, ?, ?)`,
		e.ID, e.Version, e.State(), e.Salt, idx)
	return err
}

// UpdateEntry replaces an entry at version e.Version-1.
func (s *Store) UpdateEntry(ctx context.Context, e listing.Entry) error {
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE list_entries SET status = ?, version = ?, active_from = ?, until = ?, state = ? WHERE id = ? AND version = ?`,
			string(e.Status), e.Version, e.ActiveFrom.String(), e.Until.String(), e.State(), e.ID, e.Version-1)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var v int
			if err := tx.QueryRowContext(ctx, `SELECT version FROM list_entries WHERE id = ?`, e.ID).Scan(&v); errors.Is(err, sql.ErrNoRows) {
				return errs.E(errs.NotFound, "no entry %q", e.ID)
			}
			return errs.E(errs.Conflict, "entry %s was changed concurrently", e.ID)
		}
		return insertEntryVersion(ctx, tx, e)
	})
}

// scanEntry reads an entry from its canonical state and indexed columns.
func scanEntry(row interface{ Scan(...any) error }) (listing.Entry, error) {
	var e listing.Entry
	var state, key []byte
	var leaf int64
	if err := row.Scan(&state, &key, &leaf); err != nil {
		return e, err
	}
	return entryOf(state, key, leaf)
}

// entryOf is an entry from its canonical state, subject key and leaf index.
func entryOf(state, key []byte, leaf int64) (listing.Entry, error) {
	var e listing.Entry
	if err := json.Unmarshal(state, &e); err != nil {
		return e, err
	}
	e.SubjectKey, e.LeafIndex = key, leaf
	return e, nil
}

// Entry returns an entry. Returns NotFound.
func (s *Store) Entry(ctx context.Context, id string) (listing.Entry, error) {
	e, err := scanEntry(s.r.QueryRowContext(ctx, entrySelect+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, errs.E(errs.NotFound, "no entry %q", id)
	}
	return e, translate(err)
}

// entrySelect reads the columns scanEntry scans.
const entrySelect = `SELECT state, subject_key, (SELECT COALESCE(v.leaf_index, -1) FROM list_entry_versions v WHERE v.entry_id = list_entries.id AND v.version = list_entries.version) FROM list_entries`

func (s *Store) entries(ctx context.Context, query string, args ...any) ([]listing.Entry, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	out, err := collect(rows, err, scanEntry)
	if out == nil && err == nil {
		out = []listing.Entry{}
	}
	return out, err
}

// Entries lists a list's entries by id.
func (s *Store) Entries(ctx context.Context, list, dept string, status listing.Status, afterID string, limit int) ([]listing.Entry, error) {
	return s.entries(ctx, entrySelect+` WHERE list = ? AND (? = '' OR dept = ?) AND (? = '' OR status = ?) AND id > ?
		ORDER BY id LIMIT ?`, list, dept, dept, string(status), string(status), afterID, limit)
}

// EntriesBySubject returns every entry of a person.
func (s *Store) EntriesBySubject(ctx context.Context, key []byte) ([]listing.Entry, error) {
	return s.entries(ctx, entrySelect+` WHERE subject_key = ? ORDER BY id`, key)
}

// DueEntries returns entries that must move on by day.
func (s *Store) DueEntries(ctx context.Context, day clock.Date, limit int) ([]listing.Entry, error) {
	d := day.String()
	return s.entries(ctx, entrySelect+`
		WHERE (status = 'noticed' AND active_from <= ?) OR (status = 'active' AND until <> '' AND until <= ?) ORDER BY id LIMIT ?`, d, d, limit)
}
