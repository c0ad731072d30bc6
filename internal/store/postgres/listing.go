package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/listing"
)

var _ listing.Store = (*Store)(nil)

// CreateEntry stores a new entry with its first version and ledger leaf;
// an existing (dept, ref) is returned instead.
func (s *Store) CreateEntry(ctx context.Context, e listing.Entry) (listing.Entry, bool, error) {
	created := false
	err := s.ledgerTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO list_entries (id, list, dept, ref, record_id, subject_key, status, version, active_from, until, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (dept, ref) DO NOTHING`,
			e.ID, e.List, e.Dept, e.Ref, e.RecordID, e.SubjectKey, string(e.Status), e.Version, date(e.ActiveFrom), date(e.Until), e.State())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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
	if err := s.pool.QueryRow(ctx, `SELECT id FROM list_entries WHERE dept = $1 AND ref = $2`, e.Dept, e.Ref).Scan(&id); err != nil {
		return e, false, translate(err)
	}
	existing, err := s.Entry(ctx, id)
	return existing, false, err
}

func insertEntryVersion(ctx context.Context, tx pgx.Tx, e listing.Entry) error {
	var idx any
	if e.Leaf != nil {
		leaves, err := newLeafAppender(ctx, tx)
		if err != nil {
			return err
		}
		idx = leaves.add(listing.LeafKind, listing.EventID(e.ID, e.Version), e.Leaf)
		if err := leaves.insert(ctx, tx); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO list_entry_versions (entry_id, version, state, salt, leaf_index) VALUES ($1, $2, $3, $4, $5)`,
		e.ID, e.Version, e.State(), e.Salt, idx)
	return err
}

// UpdateEntry replaces an entry at version e.Version-1.
func (s *Store) UpdateEntry(ctx context.Context, e listing.Entry) error {
	return s.ledgerTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE list_entries SET status = $1, version = $2, active_from = $3, until = $4, state = $5 WHERE id = $6 AND version = $7`,
			string(e.Status), e.Version, date(e.ActiveFrom), date(e.Until), e.State(), e.ID, e.Version-1)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var v int
			if err := tx.QueryRow(ctx, `SELECT version FROM list_entries WHERE id = $1`, e.ID).Scan(&v); errors.Is(err, pgx.ErrNoRows) {
				return errs.E(errs.NotFound, "no entry %q", e.ID)
			}
			return errs.E(errs.Conflict, "entry %s was changed concurrently", e.ID)
		}
		return insertEntryVersion(ctx, tx, e)
	})
}

func scanEntry(row pgx.Row) (listing.Entry, error) {
	var e listing.Entry
	var state, key []byte
	var leaf int64
	if err := row.Scan(&state, &key, &leaf); err != nil {
		return e, err
	}
	if err := json.Unmarshal(state, &e); err != nil {
		return e, err
	}
	e.SubjectKey, e.LeafIndex = key, leaf
	return e, nil
}

// Entry returns an entry. Returns NotFound.
func (s *Store) Entry(ctx context.Context, id string) (listing.Entry, error) {
	e, err := scanEntry(s.pool.QueryRow(ctx, entrySelect+` WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, errs.E(errs.NotFound, "no entry %q", id)
	}
	return e, translate(err)
}

// entrySelect reads the columns scanEntry scans.
const entrySelect = `SELECT state, subject_key, (SELECT COALESCE(v.leaf_index, -1) FROM list_entry_versions v WHERE v.entry_id = list_entries.id AND v.version = list_entries.version) FROM list_entries`

func (s *Store) entries(ctx context.Context, query string, args ...any) ([]listing.Entry, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	out, err := collect(rows, err, scanEntry)
	if out == nil && err == nil {
		out = []listing.Entry{}
	}
	return out, err
}

// Entries lists a list's entries by id.
func (s *Store) Entries(ctx context.Context, list, dept string, status listing.Status, afterID string, limit int) ([]listing.Entry, error) {
	return s.entries(ctx, entrySelect+` WHERE list = $1 AND ($2 = '' OR dept = $2) AND ($3 = '' OR status = $3) AND id > $4
		ORDER BY id LIMIT $5`, list, dept, string(status), afterID, limitArg(limit))
}

// EntriesBySubject returns every entry of a person.
func (s *Store) EntriesBySubject(ctx context.Context, key []byte) ([]listing.Entry, error) {
	return s.entries(ctx, entrySelect+` WHERE subject_key = $1 ORDER BY id`, key)
}

// DueEntries returns entries that must move on by day.
func (s *Store) DueEntries(ctx context.Context, day clock.Date, limit int) ([]listing.Entry, error) {
	return s.entries(ctx, entrySelect+`
		WHERE (status = 'noticed' AND active_from <= $1) OR (status = 'active' AND until IS NOT NULL AND until <= $1) ORDER BY id LIMIT $2`, date(day), limitArg(limit))
}
