package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
)

var _ access.Store = (*Store)(nil)

// AppendAccess stores an access event.
func (s *Store) AppendAccess(ctx context.Context, e access.Event) error {
	return s.grouped(ctx, func(ctx context.Context, tx *txn) error { return tx.insertAccess(ctx, e) })
}

// insertAccess stores an access event and appends its leaf.
func (t *txn) insertAccess(ctx context.Context, e access.Event) error {
	recs, _ := json.Marshal(e.Records)
	items, _ := json.Marshal(e.Items)
	leaves, err := t.leaves(ctx)
	if err != nil {
		return err
	}
	idx, err := leaves.append(ctx, access.LeafKind, e.ID, -1, e.Leaf)
	if err != nil {
		return err
	}
	_, err = t.ExecContext(ctx, `INSERT INTO access_events (id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, ts(e.At), string(e.Principal), e.Actor, e.SubjectKey, string(e.Action), e.Purpose, e.Authority, string(recs), string(items), e.Salt, idx)
	return err
}

// AccessBySubject returns a person's access events, newest first, those
// older than before when it is given.
func (s *Store) AccessBySubject(ctx context.Context, key []byte, before string, limit int) ([]access.Event, error) {
	const cols = `SELECT id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, COALESCE(leaf_index, -1) FROM access_events`
	var rows *sql.Rows
	var err error
	if before == "" {
		rows, err = s.r.QueryContext(ctx, cols+` WHERE subject_key = ? ORDER BY at DESC, id DESC LIMIT ?`, key, limit)
	} else {
		rows, err = s.r.QueryContext(ctx, cols+` WHERE subject_key = ? AND at <= (SELECT at FROM access_events WHERE id = ? AND subject_key = ?)
			AND (at, id) < (SELECT at, id FROM access_events WHERE id = ?) ORDER BY at DESC, id DESC LIMIT ?`, key, before, key, before, limit)
	}
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []access.Event
	for rows.Next() {
		var e access.Event
		var at, kind, action, recs, items string
		if err := rows.Scan(&e.ID, &at, &kind, &e.Actor, &e.SubjectKey, &action, &e.Purpose, &e.Authority, &recs, &items, &e.LeafIndex); err != nil {
			return nil, translate(err)
		}
		e.At, e.Principal, e.Action = parseTS(at), auth.Kind(kind), access.Action(action)
		if err := errors.Join(json.Unmarshal([]byte(recs), &e.Records), json.Unmarshal([]byte(items), &e.Items)); err != nil {
			return nil, translate(err)
		}
		out = append(out, e)
	}
	return out, translate(rows.Err())
}
