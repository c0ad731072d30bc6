// Package storetest is the conformance suite every storage backend passes:
// one backend package per engine with its own SQL, one set of tests that
// says what the domain store contracts mean. A backend runs it in one line
// from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return openFresh(t) })
//	}
//
// open must return a store on a fresh, migrated, empty database and arrange
// (with t.Cleanup) for it to be closed. Test data is made by hand: sealed
// payloads are arbitrary bytes, and every time has whole microseconds, the
// finest precision PostgreSQL keeps.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/ingest"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

// Store is everything a storage backend implements.
type Store interface {
	auth.Store
	record.Store
	access.Store
	ingest.Store
	measure.CheckStore
}

// Run runs the whole suite, each test on a store of its own from open.
// The tests run in parallel.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, g := range []struct {
		name string
		run  func(*testing.T, func(*testing.T) Store)
	}{
		{"departments", testDepartments},
		{"tokens", testTokens},
		{"records", testRecords},
		{"access", testAccess},
		{"batches", testBatches},
		{"checks", testChecks},
	} {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open)
		})
	}
}

// suite is one group of tests; each runs in parallel on its own store.
type suite []struct {
	name string
	fn   func(t *testing.T, s Store)
}

func (g suite) run(t *testing.T, open func(t *testing.T) Store) {
	t.Helper()
	for _, tc := range g {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// wantKind fails the test unless err has kind k.
func wantKind(t *testing.T, err error, k error) {
	t.Helper()
	if !errors.Is(err, k) {
		t.Fatalf("got error %v, want kind %v", err, k)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// at returns a fixed instant with whole microseconds, plus n minutes. It is
// given in a zone east of UTC: a store must keep the instant and return it
// in UTC.
func at(n int) time.Time {
	return time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.FixedZone("CST", 8*3600)).Add(time.Duration(n) * time.Minute)
}

// wantTime fails unless got is the instant want, in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", what, got)
		}
		return
	}
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s = %v (%v), want %v in UTC", what, got, got.Location(), want.UTC())
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// id returns a record-like identifier that sorts with n: ids made with
// larger n sort later, as ids from internal/ids do for later times.
func id(prefix string, n int) string { return fmt.Sprintf("%s%08d", prefix, n) }
