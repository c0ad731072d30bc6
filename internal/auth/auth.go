// Package auth defines who is calling (principals) and their bearer tokens.
//
// Tokens are 32 random bytes shown once; only their SHA-256 is stored, so a
// copy of the database does not let anyone call the API. A token belongs to
// one principal: a department (scoped to the catalog items it may submit and
// read), an auditor, or an operator.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"pubcredit/internal/errs"
)

// Kind is the kind of principal.
type Kind string

const (
	Department Kind = "department"
	Auditor    Kind = "auditor"
	Operator   Kind = "operator"
)

// Principal is an authenticated caller.
type Principal struct {
	Kind    Kind
	ID      string   // department code, or the auditor's / operator's name
	Name    string   // display name
	Submit  []string // catalog items a department may submit
	Read    []string // catalog items a department may read
	Lists   []string // lists a department owns
	Matters []string // counter matters a department checks
	// ForList is set only by the listing service, on its own copy of an
	// owner: the list whose entry it records, corrects or revokes the
	// record of. Never from a token.
	ForList string
}

// CanSubmit reports whether the principal may submit records of item.
func (p *Principal) CanSubmit(item string) bool {
	return p != nil && p.Kind == Department && slices.Contains(p.Submit, item)
}

// CanRead reports whether the principal may read records of item.
func (p *Principal) CanRead(item string) bool {
	return p != nil && p.Kind == Department && slices.Contains(p.Read, item)
}

// Require returns Forbidden unless the principal is of one of the kinds.
func (p *Principal) Require(kinds ...Kind) error {
	if p == nil {
		return errs.E(errs.Unauthenticated, "a bearer token is required")
	}
	if !slices.Contains(kinds, p.Kind) {
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		return errs.E(errs.Forbidden, "this action needs a %s token", strings.Join(names, " or "))
	}
	return nil
}

type ctxKey struct{}

// With returns a context carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal in ctx, nil when anonymous.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// TokenPrefix starts every token so that leaked tokens are easy to find in
// code and logs.
const TokenPrefix = "pct_"

// NewToken returns a fresh random token and the hash to store.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Token is a stored token.
type Token struct {
	Hash      []byte
	Kind      Kind
	Subject   string // department code or auditor/operator name
	CreatedAt time.Time
	ExpiresAt time.Time // zero: does not expire
	RevokedAt time.Time // zero: not revoked
}

// Dept is a registered department.
type Dept struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	USCC      string    `json:"uscc,omitempty"`
	Submit    []string  `json:"submit"`
	Read      []string  `json:"read"`
	Lists     []string  `json:"lists"`
	Matters   []string  `json:"matters"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Store keeps departments and tokens.
type Store interface {
	// CreateDept adds a department. Returns Conflict if the code is taken.
	CreateDept(ctx context.Context, d Dept) error
	// Dept returns a department. Returns NotFound if there is none.
	Dept(ctx context.Context, code string) (Dept, error)
	// Depts lists departments by code.
	Depts(ctx context.Context) ([]Dept, error)
	// SetDeptDisabled disables or enables a department. Returns NotFound.
	SetDeptDisabled(ctx context.Context, code string, disabled bool) error
	// CreateToken stores a token.
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with the hash. Returns NotFound.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	// RevokeTokens revokes every token of the subject, returning how many.
	RevokeTokens(ctx context.Context, kind Kind, subject string, at time.Time) (int, error)
	// Tokens lists every token, revoked and expired ones too, by kind,
	// subject and issue time.
	Tokens(ctx context.Context) ([]Token, error)
}
