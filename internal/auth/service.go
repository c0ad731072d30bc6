package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
)

// Items answers whether a catalog item code exists (satisfied by the catalog).
type Items interface {
	Codes() []string
}

// Service registers departments, issues tokens and authenticates requests.
type Service struct {
	Store Store
	Clock clock.Clock
	Items Items
	// Lists and Matters return the known list and counter-matter codes, for
	// checking a department's rights; nil accepts none.
	Lists   func() []string
	Matters func() []string
}

func codes(f func() []string) []string {
	if f == nil {
		return nil
	}
	return f()
}

var deptCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// AddDept registers a department and returns its first token, which
// expires at expires (never when zero).
// Returns Invalid for a bad code, name or unknown item; Conflict if the code is taken.
func (s *Service) AddDept(ctx context.Context, d Dept, expires time.Time) (token string, err error) {
	var p errs.Problems
	d.Code = strings.TrimSpace(d.Code)
	d.Name = strings.TrimSpace(d.Name)
	if !deptCode.MatchString(d.Code) {
		p.Add("code", "format", "department code must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit")
	}
	if d.Name == "" {
		p.Add("name", "required", "department name is required")
	}
	// Codes and names are kept in clear and logged with every request.
	for _, f := range []struct{ field, v string }{{"code", d.Code}, {"name", d.Name}} {
		if identity.InText(f.v) {
			p.Add(f.field, "identity_number", "the department's %s carries an identity number; it is kept in clear and logged", f.field)
		}
	}
	known := map[string]bool{}
	for _, c := range s.Items.Codes() {
		known[c] = true
	}
	for _, list := range []struct {
		field string
		codes []string
	}{{"submit", d.Submit}, {"read", d.Read}} {
		for _, c := range list.codes {
			if !known[c] {
				p.Add(list.field, "unknown_item", "unknown catalog item %q (known: %s)", c, strings.Join(s.Items.Codes(), ", "))
			}
		}
	}
	for _, list := range []struct {
		field string
		given []string
		known []string
	}{{"lists", d.Lists, codes(s.Lists)}, {"matters", d.Matters, codes(s.Matters)}} {
		for _, c := range list.given {
			if !slices.Contains(list.known, c) {
				p.Add(list.field, "unknown", "unknown %s code %q (known: %s)", strings.TrimSuffix(list.field, "s"), c, strings.Join(list.known, ", "))
			}
		}
	}
	if err := p.Err("the department is not valid"); err != nil {
		return "", err
	}
	d.CreatedAt = s.Clock.Now().UTC()
	if err := s.Store.CreateDept(ctx, d); err != nil {
		return "", err
	}
	return s.IssueToken(ctx, Department, d.Code, expires)
}

// IssueToken creates a new token for a principal. Departments must exist.
func (s *Service) IssueToken(ctx context.Context, kind Kind, subject string, expires time.Time) (string, error) {
	if kind == Department {
		if _, err := s.Store.Dept(ctx, subject); err != nil {
			return "", err
		}
	} else if strings.TrimSpace(subject) == "" {
		return "", errs.Fields("the token is not valid", errs.FieldError{Field: "name", Code: "required", Message: "a name is required"})
	} else if identity.InText(subject) {
		return "", errs.Fields("the token is not valid", errs.FieldError{Field: "name", Code: "identity_number",
			Message: fmt.Sprintf("the %s's name carries an identity number; it is kept in clear and logged", kind)})
	}
	token, hash := NewToken()
	err := s.Store.CreateToken(ctx, Token{Hash: hash, Kind: kind, Subject: subject, CreatedAt: s.Clock.Now().UTC(), ExpiresAt: expires})
	return token, err
}

// Authenticate returns the principal holding token.
// Returns Unauthenticated for an unknown, revoked or expired token or a disabled department.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	bad := errs.E(errs.Unauthenticated, "the bearer token is not valid")
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return nil, bad
	}
	t, err := s.Store.TokenByHash(ctx, HashToken(token))
	if errors.Is(err, errs.NotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if !t.RevokedAt.IsZero() || (!t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)) {
		return nil, bad
	}
	p := &Principal{Kind: t.Kind, ID: t.Subject, Name: t.Subject}
	if t.Kind == Department {
		d, err := s.Store.Dept(ctx, t.Subject)
		if errors.Is(err, errs.NotFound) || (err == nil && d.Disabled) {
			return nil, bad
		}
		if err != nil {
			return nil, err
		}
		p.Name, p.Submit, p.Read, p.Lists, p.Matters = d.Name, d.Submit, d.Read, d.Lists, d.Matters
	}
	return p, nil
}
