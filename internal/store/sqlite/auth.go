package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"pubcredit/internal/auth"
	"pubcredit/internal/errs"
)

var _ auth.Store = (*Store)(nil)

// CreateDept adds a department. Returns Conflict if the code is taken.
func (s *Store) CreateDept(ctx context.Context, d auth.Dept) error {
	sub, _ := json.Marshal(nonNil(d.Submit))
	rd, _ := json.Marshal(nonNil(d.Read))
	lists, _ := json.Marshal(nonNil(d.Lists))
	matters, _ := json.Marshal(nonNil(d.Matters))
	_, err := s.w.ExecContext(ctx, `INSERT INTO departments (code, name, uscc, submit_items, read_items, disabled, created_at, lists, matters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Code, d.Name, d.USCC, string(sub), string(rd), d.Disabled, ts(d.CreatedAt), string(lists), string(matters))
	if err = translate(err); errors.Is(err, errs.Conflict) {
		return errs.E(errs.Conflict, "department %q already exists", d.Code)
	}
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const deptCols = `code, name, uscc, submit_items, read_items, disabled, created_at, lists, matters`

func scanDept(row interface{ Scan(...any) error }) (auth.Dept, error) {
	var d auth.Dept
	var sub, rd, created, lists, matters string
	if err := row.Scan(&d.Code, &d.Name, &d.USCC, &sub, &rd, &d.Disabled, &created, &lists, &matters); err != nil {
		return d, err
	}
	d.CreatedAt = parseTS(created)
	if err := errors.Join(json.Unmarshal([]byte(sub), &d.Submit), json.Unmarshal([]byte(rd), &d.Read),
		json.Unmarshal([]byte(lists), &d.Lists), json.Unmarshal([]byte(matters), &d.Matters)); err != nil {
		return d, err
	}
	return d, nil
}

// Dept returns a department. Returns NotFound.
func (s *Store) Dept(ctx context.Context, code string) (auth.Dept, error) {
	d, err := scanDept(s.r.QueryRowContext(ctx, `SELECT `+deptCols+` FROM departments WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return d, errs.E(errs.NotFound, "no department %q", code)
	}
	return d, translate(err)
}

// Depts lists departments by code.
func (s *Store) Depts(ctx context.Context) ([]auth.Dept, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deptCols+` FROM departments ORDER BY code`)
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
	res, err := s.w.ExecContext(ctx, `UPDATE departments SET disabled = ? WHERE code = ?`, disabled, code)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "no department %q", code)
	}
	return nil
}

// CreateToken stores a token.
func (s *Store) CreateToken(ctx context.Context, t auth.Token) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO tokens (hash, kind, subject, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, string(t.Kind), t.Subject, ts(t.CreatedAt), nullTS(t.ExpiresAt), nullTS(t.RevokedAt))
	return translate(err)
}

const tokenCols = `hash, kind, subject, created_at, expires_at, revoked_at`

// scanToken reads tokenCols.
func scanToken(row interface{ Scan(...any) error }) (auth.Token, error) {
	var t auth.Token
	var kind, created string
	var expires, revoked sql.NullString
	if err := row.Scan(&t.Hash, &kind, &t.Subject, &created, &expires, &revoked); err != nil {
		return auth.Token{}, err
	}
	t.Kind, t.CreatedAt = auth.Kind(kind), parseTS(created)
	t.ExpiresAt, t.RevokedAt = parseTS(expires.String), parseTS(revoked.String)
	return t, nil
}

// TokenByHash returns the token with the hash. Returns NotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (auth.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, errs.E(errs.NotFound, "no such token")
	}
	return t, translate(err)
}

// Tokens lists every token by kind, subject and issue time.
func (s *Store) Tokens(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY kind, subject, created_at, hash`)
	return collect(rows, err, scanToken)
}

// RevokeTokens revokes every live token of the subject.
func (s *Store) RevokeTokens(ctx context.Context, kind auth.Kind, subject string, at time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE kind = ? AND subject = ? AND revoked_at IS NULL`, ts(at), string(kind), subject)
	if err != nil {
		return 0, translate(err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
