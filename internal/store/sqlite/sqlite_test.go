package sqlite_test

import (
	"path/filepath"
	"testing"

	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/store/storetest"
)

// open returns a migrated store on a fresh database file of the test's own.
func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "pubcredit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

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
