package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
)

var _ access.Store = (*Store)(nil)

// AppendAccess stores an access event.
func (s *Store) AppendAccess(ctx context.Context, e access.Event) error {
	return s.ledgerTx(ctx, func(tx pgx.Tx) error { return insertAccess(ctx, tx, e) })
}

// insertAccess stores an access event and appends its leaf, in a
// transaction holding the ledger lock.
func insertAccess(ctx context.Context, tx pgx.Tx, e access.Event) error {
	var idx any
	if e.Leaf != nil {
		leaves, err := newLeafAppender(ctx, tx)
		if err != nil {
			return err
		}
		idx = leaves.add(access.LeafKind, e.ID, e.Leaf)
		if err := leaves.insert(ctx, tx); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO access_events (id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.ID, e.At, string(e.Principal), e.Actor, e.SubjectKey, string(e.Action), e.Purpose, e.Authority, nonNil(e.Records), nonNil(e.Items), e.Salt, idx)
	return err
}

// AccessBySubject returns a person's access events, newest first, at most
// limit, those older than before when it is given.
func (s *Store) AccessBySubject(ctx context.Context, key []byte, before string, limit int) ([]access.Event, error) {
	const cols = `SELECT id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, COALESCE(leaf_index, -1) FROM access_events`
	var rows pgx.Rows
	var err error
	if before == "" {
		rows, err = s.pool.Query(ctx, cols+` WHERE subject_key = $1 ORDER BY at DESC, id DESC LIMIT $2`, key, limitArg(limit))
	} else {
		rows, err = s.pool.Query(ctx, cols+` WHERE subject_key = $1 AND at <= (SELECT at FROM access_events WHERE id = $2 AND subject_key = $1)
			AND (at, id) < (SELECT at, id FROM access_events WHERE id = $2) ORDER BY at DESC, id DESC LIMIT $3`, key, before, limitArg(limit))
	}
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []access.Event
	for rows.Next() {
		var e access.Event
		var kind, action string
		if err := rows.Scan(&e.ID, &e.At, &kind, &e.Actor, &e.SubjectKey, &action, &e.Purpose, &e.Authority, &e.Records, &e.Items, &e.LeafIndex); err != nil {
			return nil, translate(err)
		}
		e.At, e.Principal, e.Action = utc(e.At), auth.Kind(kind), access.Action(action)
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

// limitArg makes a negative limit mean no limit, as it does in SQLite;
// PostgreSQL rejects a negative LIMIT but takes NULL for none.
func limitArg(limit int) *int {
	if limit < 0 {
		return nil
	}
	return &limit
}
