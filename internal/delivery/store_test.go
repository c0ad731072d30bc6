package delivery_test

import (
	"os"
	"path/filepath"
	"testing"

	"pubcredit/internal/delivery/deliverytest"
	"pubcredit/internal/store/postgres"
	"pubcredit/internal/store/postgres/pgtest"
	"pubcredit/internal/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The delivery store's conformance suite on both engines.

func TestStoreSQLite(t *testing.T) {
	t.Parallel()
	deliverytest.Run(t, func(t *testing.T) deliverytest.Store { return openSQLite(t) })
}

func TestStorePostgres(t *testing.T) {
	t.Parallel()
	deliverytest.Run(t, func(t *testing.T) deliverytest.Store {
		s, err := postgres.Open(t.Context(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// openSQLite returns a migrated store on a fresh database file.
func openSQLite(t *testing.T) *sqlite.Store {
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
