package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"pubcredit/internal/errs"
	"pubcredit/internal/store/postgres"
	"pubcredit/internal/store/postgres/pgtest"
	"pubcredit/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// connect opens a store on a fresh, empty database of the test's own.
func connect(t *testing.T) *postgres.Store {
	t.Helper()
	return openURL(t, pgtest.URL(t))
}

func openURL(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// open returns a migrated store on a fresh database.
func open(t *testing.T) *postgres.Store {
	t.Helper()
	s := connect(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	s := connect(t)
	have, want, err := s.SchemaVersion(t.Context())
	if err != nil || have != 0 || want < 1 {
		t.Fatalf("SchemaVersion of an empty database = %d, %d, %v; want 0, >= 1, nil", have, want, err)
	}
	for i := range 2 {
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		have, want, err = s.SchemaVersion(t.Context())
		if err != nil || have != want {
			t.Fatalf("SchemaVersion after Migrate #%d = %d, %d, %v; want have == want", i+1, have, want, err)
		}
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				errc <- err
				return
			}
			defer s.Close()
			errc <- s.Migrate(t.Context())
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	s := openURL(t, url)
	if have, want, err := s.SchemaVersion(t.Context()); err != nil || have != want {
		t.Fatalf("SchemaVersion = %d, %d, %v; want have == want", have, want, err)
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	// Port 1 on loopback: nothing listens there.
	_, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5")
	if !errors.Is(err, errs.Unavailable) {
		t.Fatalf("Open of an unreachable server: %v, want kind %v", err, errs.Unavailable)
	}
	// A server that answers, without the database.
	noDB := pgtest.URL(t)
	if i := strings.LastIndex(noDB, "/"); i >= 0 {
		j := strings.IndexAny(noDB[i:], "?")
		rest := ""
		if j >= 0 {
			rest = noDB[i+j:]
		}
		noDB = noDB[:i] + "/no_such_database_here" + rest
	}
	if _, err := postgres.Open(context.Background(), noDB); !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "no database no_such_database_here") {
		t.Errorf("Open of a database that does not exist: %v, want Invalid naming it", err)
	}
	_, err = postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:notaport/x")
	if !errors.Is(err, errs.Invalid) {
		t.Fatalf("Open of a malformed URL: %v, want kind %v", err, errs.Invalid)
	}
}
