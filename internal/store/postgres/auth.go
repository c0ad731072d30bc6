package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pubcredit/internal/auth"
	"pubcredit/internal/errs"
)

var _ auth.Store = (*Store)(nil)

// CreateDept adds a department. Returns Conflict if the code is taken.
func (s *Store) CreateDept(ctx context.Context, d auth.Dept) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO departments (code, name, uscc, submit_items, read_items, disabled, created_at, lists, matters) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		d.Code, d.Name, d.USCC, nonNil(d.Submit), nonNil(d.Read), d.Disabled, d.CreatedAt, nonNil(d.Lists), nonNil(d.Matters))
	if err = translate(err); errors.Is(err, errs.Conflict) {
		return errs.E(errs.Conflict, "department %q already exists", d.Code)
	}
	return err
}

// nonNil keeps a nil list from becoming NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const deptCols = `code, name, uscc, submit_items, read_items, disabled, created_at, lists, matters`

func scanDept(row pgx.Row) (auth.Dept, error) {
	var d auth.Dept
	err := row.Scan(&d.Code, &d.Name, &d.USCC, &d.Submit, &d.Read, &d.Disabled, &d.CreatedAt, &d.Lists, &d.Matters)
	d.CreatedAt = utc(d.CreatedAt)
	return d, err
}

// Dept returns a department. Returns NotFound.
func (s *Store) Dept(ctx context.Context, code string) (auth.Dept, error) {
	d, err := scanDept(s.pool.QueryRow(ctx, `SELECT `+deptCols+` FROM departments WHERE code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Dept{}, errs.E(errs.NotFound, "no department %q", code)
	}
	return d, translate(err)
}

// Depts lists departments by code.
func (s *Store) Depts(ctx context.Context) ([]auth.Dept, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deptCols+` FROM departments ORDER BY code`)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []auth.Dept
	for rows.Next() {
		d, err := scanDept(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, d)
	}
	return out, translate(rows.Err())
}

// SetDeptDisabled disables or enables a department. Returns NotFound.
func (s *Store) SetDeptDisabled(ctx context.Context, code string, disabled bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE departments SET disabled = $1 WHERE code = $2`, disabled, code)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() == 0 {
		return errs.E(errs.NotFound, "no department %q", code)
	}
	return nil
}

// CreateToken stores a token.
func (s *Store) CreateToken(ctx context.Context, t auth.Token) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tokens (hash, kind, subject, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Hash, string(t.Kind), t.Subject, t.CreatedAt, nullTime(t.ExpiresAt), nullTime(t.RevokedAt))
	return translate(err)
}

const tokenCols = `hash, kind, subject, created_at, expires_at, revoked_at`

// scanToken reads tokenCols.
func scanToken(row pgx.Row) (auth.Token, error) {
	var t auth.Token
	var kind string
	var expires, revoked pgtype.Timestamptz
	if err := row.Scan(&t.Hash, &kind, &t.Subject, &t.CreatedAt, &expires, &revoked); err != nil {
		return auth.Token{}, err
	}
	t.Kind, t.CreatedAt = auth.Kind(kind), utc(t.CreatedAt)
	t.ExpiresAt, t.RevokedAt = fromNullTime(expires), fromNullTime(revoked)
	return t, nil
}

// TokenByHash returns the token with the hash. Returns NotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (auth.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Token{}, errs.E(errs.NotFound, "no such token")
	}
	return t, translate(err)
}

// Tokens lists every token by kind, subject and issue time.
func (s *Store) Tokens(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY kind, subject, created_at, hash`)
	return collect(rows, err, scanToken)
}

// RevokeTokens revokes every live token of the subject, returning how many.
func (s *Store) RevokeTokens(ctx context.Context, kind auth.Kind, subject string, at time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE kind = $2 AND subject = $3 AND revoked_at IS NULL`, at, string(kind), subject)
	if err != nil {
		return 0, translate(err)
	}
	return int(tag.RowsAffected()), nil
}
