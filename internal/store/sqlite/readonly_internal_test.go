package sqlite

import (
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"pubcredit/internal/ledger"
	"pubcredit/internal/vault"
	"pubcredit/internal/verify"
)

// TestImmutableReadVerifies: a database no process has open, read as
// immutable (what OpenReadOnly falls back to on read-only media), answers
// its schema version and verifies.
func TestImmutableReadVerifies(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "pubcredit.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := openReadOnly(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if have, want, err := ro.SchemaVersion(ctx); err != nil || have != want {
		t.Fatalf("schema %d of %d, %v", have, want, err)
	}
	keys, err := vault.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner("test.example/ledger", keys.Signer())
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
