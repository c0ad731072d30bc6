package sqlite_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	pcerrs "pubcredit/internal/errs"

	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/store/storetest"
)

// open returns a migrated store on a fresh database file of the test's own.
func open(t *testing.T) *sqlite.Store { return sqlite.OpenMigrated(t) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}

func TestMigrateTwiceIsANoOp(t *testing.T) {
	s := open(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	have, want, err := s.SchemaVersion(t.Context())
	if err != nil || have != want || want < 1 {
		t.Fatalf("SchemaVersion = %d, %d, %v; want have == want >= 1", have, want, err)
	}
}

// TestGroupCommitIsolatesAFailingWrite runs concurrent access events
// through the group commit, some of which reuse an id that exists: those
// fail with Conflict, every other one is stored, and the ledger has one
// leaf per stored event, without gaps.
func TestGroupCommitIsolatesAFailingWrite(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	event := func(id string) access.Event {
		return access.Event{ID: id, At: time.Now(), Principal: auth.Department, Actor: "D1", SubjectKey: []byte("key"),
			Action: access.FileRead, Purpose: "p", Salt: []byte("salt"), Leaf: []byte("leaf " + id)}
	}
	if err := s.AppendAccess(ctx, event("dup")); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprint("e", i)
			if i%10 == 0 {
				id = "dup"
			}
			errs[i] = s.AppendAccess(ctx, event(id))
		})
	}
	wg.Wait()
	stored := 1
	for i, err := range errs {
		switch {
		case i%10 == 0 && !errors.Is(err, pcerrs.Conflict):
			t.Errorf("write %d reused an id: err = %v, want Conflict", i, err)
		case i%10 != 0 && err != nil:
			t.Errorf("write %d: %v", i, err)
		case err == nil:
			stored++
		}
	}
	count, err := s.LeafCount(ctx)
	if err != nil || count != int64(stored) {
		t.Fatalf("LeafCount = %d, %v; want %d (one per stored event)", count, err, stored)
	}
	if _, err := s.Leaves(ctx, 0, count); err != nil {
		t.Fatalf("leaves have a gap: %v", err)
	}
	got, err := s.AccessBySubject(ctx, []byte("key"), "", 1000)
	if err != nil || len(got) != stored {
		t.Fatalf("AccessBySubject: %d events, %v; want %d", len(got), err, stored)
	}
}
