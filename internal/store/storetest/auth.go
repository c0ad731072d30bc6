package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"pubcredit/internal/auth"
	"pubcredit/internal/errs"
)

func dept(code string, n int) auth.Dept {
	return auth.Dept{
		Code:      code,
		Name:      "Department " + code,
		USCC:      fmt.Sprintf("11100000MB%07dX", n),
		Submit:    []string{"XZCF", "XZXK"},
		Read:      []string{"XZCF"},
		CreatedAt: at(n),
	}
}

func wantDept(t *testing.T, got, want auth.Dept) {
	t.Helper()
	if got.Code != want.Code || got.Name != want.Name || got.USCC != want.USCC || got.Disabled != want.Disabled ||
		!slices.Equal(got.Submit, want.Submit) || !slices.Equal(got.Read, want.Read) {
		t.Errorf("department = %+v, want %+v", got, want)
	}
	wantTime(t, "department "+want.Code+" created_at", got.CreatedAt, want.CreatedAt)
}

func testDepartments(t *testing.T, open func(t *testing.T) Store) {
	suite{
		{"CreateDept stores every field and Dept returns it", func(t *testing.T, s Store) {
			d := dept("D1", 1)
			must(t, s.CreateDept(ctx(t), d))
			got, err := s.Dept(ctx(t), "D1")
			must(t, err)
			wantDept(t, got, d)
		}},
		{"a department with no items keeps empty lists", func(t *testing.T, s Store) {
			d := dept("D1", 1)
			d.Submit, d.Read, d.USCC = nil, []string{}, ""
			must(t, s.CreateDept(ctx(t), d))
			got, err := s.Dept(ctx(t), "D1")
			must(t, err)
			if len(got.Submit) != 0 || len(got.Read) != 0 {
				t.Fatalf("items = %q, %q, want none", got.Submit, got.Read)
			}
			wantDept(t, got, d)
		}},
		{"CreateDept with a taken code returns Conflict and keeps the first", func(t *testing.T, s Store) {
			first := dept("D1", 1)
			must(t, s.CreateDept(ctx(t), first))
			second := dept("D1", 2)
			second.Name = "Another"
			wantKind(t, s.CreateDept(ctx(t), second), errs.Conflict)
			got, err := s.Dept(ctx(t), "D1")
			must(t, err)
			wantDept(t, got, first)
		}},
		{"Dept of an unknown code returns NotFound", func(t *testing.T, s Store) {
			must(t, s.CreateDept(ctx(t), dept("D1", 1)))
			_, err := s.Dept(ctx(t), "D2")
			wantKind(t, err, errs.NotFound)
		}},
		{"Depts lists every department by code", func(t *testing.T, s Store) {
			got, err := s.Depts(ctx(t))
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("an empty store lists %d departments", len(got))
			}
			want := []auth.Dept{dept("A", 1), dept("B", 2), dept("C", 3)}
			for _, i := range []int{1, 2, 0} {
				must(t, s.CreateDept(ctx(t), want[i]))
			}
			got, err = s.Depts(ctx(t))
			must(t, err)
			if len(got) != len(want) {
				t.Fatalf("Depts returned %d departments, want %d", len(got), len(want))
			}
			for i := range want {
				wantDept(t, got[i], want[i])
			}
		}},
		{"SetDeptDisabled disables and enables one department", func(t *testing.T, s Store) {
			d1, d2 := dept("D1", 1), dept("D2", 2)
			must(t, s.CreateDept(ctx(t), d1))
			must(t, s.CreateDept(ctx(t), d2))
			must(t, s.SetDeptDisabled(ctx(t), "D1", true))
			got, err := s.Dept(ctx(t), "D1")
			must(t, err)
			if !got.Disabled {
				t.Fatal("D1 is not disabled")
			}
			if other, _ := s.Dept(ctx(t), "D2"); other.Disabled {
				t.Fatal("disabling D1 disabled D2")
			}
			must(t, s.SetDeptDisabled(ctx(t), "D1", false))
			got, err = s.Dept(ctx(t), "D1")
			must(t, err)
			wantDept(t, got, d1)
		}},
		{"SetDeptDisabled of an unknown code returns NotFound", func(t *testing.T, s Store) {
			wantKind(t, s.SetDeptDisabled(ctx(t), "D9", true), errs.NotFound)
		}},
	}.run(t, open)
}

func token(n int, kind auth.Kind, subject string) auth.Token {
	return auth.Token{
		Hash:      bytes.Repeat([]byte{byte(n)}, 32),
		Kind:      kind,
		Subject:   subject,
		CreatedAt: at(n),
	}
}

func wantToken(t *testing.T, got, want auth.Token) {
	t.Helper()
	if !bytes.Equal(got.Hash, want.Hash) || got.Kind != want.Kind || got.Subject != want.Subject {
		t.Errorf("token = %+v, want %+v", got, want)
	}
	wantTime(t, "token created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "token expires_at", got.ExpiresAt, want.ExpiresAt)
	wantTime(t, "token revoked_at", got.RevokedAt, want.RevokedAt)
}

func testTokens(t *testing.T, open func(t *testing.T) Store) {
	suite{
		{"CreateToken stores every field and TokenByHash returns it", func(t *testing.T, s Store) {
			forever := token(1, auth.Department, "D1")
			expiring := token(2, auth.Auditor, "alice")
			expiring.ExpiresAt = at(60 * 24 * 90)
			must(t, s.CreateToken(ctx(t), forever))
			must(t, s.CreateToken(ctx(t), expiring))
			for _, want := range []auth.Token{forever, expiring} {
				got, err := s.TokenByHash(ctx(t), want.Hash)
				must(t, err)
				wantToken(t, got, want)
			}
		}},
		{"TokenByHash of an unknown hash returns NotFound", func(t *testing.T, s Store) {
			must(t, s.CreateToken(ctx(t), token(1, auth.Department, "D1")))
			_, err := s.TokenByHash(ctx(t), token(2, auth.Department, "D1").Hash)
			wantKind(t, err, errs.NotFound)
		}},
		{"RevokeTokens revokes the live tokens of one subject and kind only", func(t *testing.T, s Store) {
			live1, live2 := token(1, auth.Department, "D1"), token(2, auth.Department, "D1")
			already := token(3, auth.Department, "D1")
			already.RevokedAt = at(5)
			otherSubject := token(4, auth.Department, "D2")
			otherKind := token(5, auth.Operator, "D1")
			for _, tk := range []auth.Token{live1, live2, already, otherSubject, otherKind} {
				must(t, s.CreateToken(ctx(t), tk))
			}
			n, err := s.RevokeTokens(ctx(t), auth.Department, "D1", at(10))
			must(t, err)
			if n != 2 {
				t.Errorf("RevokeTokens = %d, want 2", n)
			}
			live1.RevokedAt, live2.RevokedAt = at(10), at(10)
			for _, want := range []auth.Token{live1, live2, already, otherSubject, otherKind} {
				got, err := s.TokenByHash(ctx(t), want.Hash)
				must(t, err)
				wantToken(t, got, want)
			}
			n, err = s.RevokeTokens(ctx(t), auth.Department, "D1", at(20))
			must(t, err)
			if n != 0 {
				t.Errorf("revoking again = %d, want 0", n)
			}
			got, err := s.TokenByHash(ctx(t), live1.Hash)
			must(t, err)
			wantTime(t, "revoked_at after a second revocation", got.RevokedAt, at(10))
		}},
		{"Tokens lists every token, revoked and expired too, by kind, subject and issue time", func(t *testing.T, s Store) {
			got, err := s.Tokens(ctx(t))
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("Tokens of an empty store = %d tokens", len(got))
			}
			later := token(1, auth.Department, "D2")
			earlier := token(2, auth.Department, "D2")
			earlier.CreatedAt = at(-5)
			revoked := token(3, auth.Auditor, "alice")
			revoked.RevokedAt = at(7)
			expired := token(4, auth.Operator, "bob")
			expired.ExpiresAt = at(-1)
			first := token(5, auth.Department, "D1")
			for _, tk := range []auth.Token{later, earlier, revoked, expired, first} {
				must(t, s.CreateToken(ctx(t), tk))
			}
			got, err = s.Tokens(ctx(t))
			must(t, err)
			want := []auth.Token{revoked, first, earlier, later, expired} // auditor, department, operator
			if len(got) != len(want) {
				t.Fatalf("Tokens = %d tokens, want %d", len(got), len(want))
			}
			for i := range want {
				wantToken(t, got[i], want[i])
			}
		}},
	}.run(t, open)
}
