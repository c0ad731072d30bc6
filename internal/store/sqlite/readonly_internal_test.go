package sqlite

import (
	"crypto/ed25519"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pubcredit/internal/ledger"
	"pubcredit/internal/verify"
)

// TestImmutableReadVerifies: a database no process has open, read as
// immutable (what OpenReadOnly falls back to on read-only media), answers
// its schema version and verifies.
func TestImmutableReadVerifies(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "pubcredit.db")
	migratedFile(t, path)
	ro, err := openReadOnly(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if have, want, err := ro.SchemaVersion(ctx); err != nil || have != want {
		t.Fatalf("schema %d of %d, %v", have, want, err)
	}
	// Any key verifies a log with no leaves and no checkpoint.
	signer, err := ledger.NewSigner("test.example/ledger", ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	snap, done, err := ro.VerifySnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	sum, err := verify.Run(ctx, snap, signer.VerifierKey(), time.Now(), func(p verify.Problem) { t.Errorf("problem: %s", p) })
	if err != nil || !sum.OK() || sum.Leaves != 0 {
		t.Errorf("verify of an empty immutable database: %+v, %v", sum, err)
	}
	if _, err := ro.w.ExecContext(ctx, `CREATE TABLE x (a)`); err == nil {
		t.Errorf("an immutable read-only store took a write")
	}
}

// TestSharedConnectionTakesTurns: scans that share one connection (a
// database that cannot be locked for writing) prepare, step and finalize
// their statements in turns. The connection has no mutex of SQLite's own:
// two statements prepared at once corrupted its memory.
func TestSharedConnectionTakesTurns(t *testing.T) {
	ctx := t.Context()
	s := OpenMigrated(t)
	raw, err := openRaw(ctx, s.path, time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.conn.Close()
	shared := &rawConn{conn: raw.conn, mu: new(sync.Mutex)}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for range 200 {
				n := 0
				err := scan(shared, `SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name`, func(rows scanner) error {
					var name, sql sql.NullString
					n++
					return rows.Scan(&name, &sql)
				})
				if err == nil && n == 0 {
					err = errors.New("no rows")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestReadOnlyPermissionsAreKept: a database its permissions make
// read-only (the file, or its directory) is read without creating the -wal
// and -shm files beside it, even by root, whom SQLite would let create them.
func TestReadOnlyPermissionsAreKept(t *testing.T) {
	for _, tc := range []struct {
		name              string
		fileMode, dirMode os.FileMode
	}{
		{"a read-only file in a read-only directory", 0o444, 0o555},
		{"a read-only file", 0o444, 0o755},
		{"a read-only directory", 0o644, 0o555},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := filepath.Join(t.TempDir(), "evidence")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "pubcredit.db")
			migratedFile(t, path)
			if err := errors.Join(os.Chmod(path, tc.fileMode), os.Chmod(dir, tc.dirMode)); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			ro, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			if have, want, err := ro.SchemaVersion(ctx); err != nil || have != want {
				t.Errorf("schema %d of %d, %v", have, want, err)
			}
			if err := ro.Close(); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{path + "-wal", path + "-shm"} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("%s was created", filepath.Base(f))
				}
			}
		})
	}
}

// OpenMigrated opens a new migrated database, closed when the test ends;
// the store's external tests use it too.
func OpenMigrated(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "pubcredit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

// migratedFile makes a migrated database at path, closed.
func migratedFile(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(s.Migrate(t.Context()), s.Close()); err != nil {
		t.Fatal(err)
	}
}

// TestReadOnlyWithALogLeftIsRefused: a read-only copy whose write-ahead log
// holds changes cannot be read without the -shm file beside it: it is
// refused with what to do, and nothing is created.
func TestReadOnlyWithALogLeftIsRefused(t *testing.T) {
	s := OpenMigrated(t) // open: its write-ahead log is not yet checkpointed away
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pubcredit.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(s.path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if suffix == "-wal" && len(b) == 0 {
			t.Fatal("the write-ahead log of an open database is empty")
		}
		if err := os.WriteFile(path+suffix, b, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if ro, err := OpenReadOnly(path); err == nil || !strings.Contains(err.Error(), "copy both files to a writable directory") {
		if ro != nil {
			ro.Close()
		}
		t.Errorf("OpenReadOnly = %v, want it refused", err)
	}
	if _, err := os.Stat(path + "-shm"); err == nil {
		t.Error("-shm was created")
	}
}
