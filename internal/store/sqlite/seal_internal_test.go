package sqlite

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pubcredit/internal/ledger"
	"pubcredit/internal/record"
)

// TestOldSubjectsAreSealed: a subjects row stored before subjects were
// ledgered (no id, salt or leaf) gets them from the migration, committed
// to as verify recomputes them.
func TestOldSubjectsAreSealed(t *testing.T) {
	ctx := t.Context()
	s, err := Open(filepath.Join(t.TempDir(), "pubcredit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC) // below the microsecond: the seal keeps microseconds
	// A row as stored before the migration: no id (which the migrated
	// schema refuses, so the guard is lifted here).
	old := record.SealedSubject{Key: bytes.Repeat([]byte{7}, 32), IDType: "resident_id", Number: []byte("sealed number"), Name: []byte("sealed name")}
	insert := func() error {
		_, err := s.w.ExecContext(ctx, `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at) VALUES (?, ?, ?, ?, ?)`,
			old.Key, old.IDType, old.Number, old.Name, at.Format("2006-01-02T15:04:05.000000000Z"))
		return err
	}
	if err := insert(); err == nil || !strings.Contains(err.Error(), "migrated by a newer pubcredit") {
		t.Fatalf("a row without an id, as an older build writes it, was not refused: %v", err)
	}
	if _, err := s.w.ExecContext(ctx, `DROP TRIGGER subjects_need_id`); err != nil {
		t.Fatal(err)
	}
	if err := insert(); err != nil {
		t.Fatal(err)
	}
	if err := s.tx(ctx, func(ctx context.Context, tx *txn) error { return sealOldSubjects(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	var got record.SealedSubject
	var created string
	var data []byte
	err = s.w.QueryRowContext(ctx, `SELECT s.id, s.salt, s.leaf_index, s.created_at, l.data FROM subjects s JOIN ledger_leaves l ON l.idx = s.leaf_index WHERE s.subject_key = ?`, old.Key).
		Scan(&got.ID, &got.Salt, &got.LeafIndex, &created, &data)
	if err != nil {
		t.Fatal(err)
	}
	old.ID, old.At = got.ID, at.Truncate(time.Microsecond)
	leaf, err := ledger.ParseLeaf(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || leaf.Kind != record.SubjectLeafKind || leaf.ID != got.ID || !leaf.At.Equal(old.At) || !parseTS(created).Equal(old.At) ||
		leaf.Commitment != ledger.Commit(got.Salt, old.Committed()) {
		t.Errorf("sealed subject: id %q created_at %s, leaf %+v", got.ID, created, leaf)
	}
	// Sealing again finds nothing left to seal.
	var n int
	if err := s.tx(ctx, func(ctx context.Context, tx *txn) error { return sealOldSubjects(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_leaves`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d leaves after sealing twice (%v), want 1", n, err)
	}
}
