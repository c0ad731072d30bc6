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
	s := OpenMigrated(t)
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
	err := s.w.QueryRowContext(ctx, `SELECT s.id, s.salt, s.leaf_index, s.created_at, l.data FROM subjects s JOIN ledger_leaves l ON l.idx = s.leaf_index WHERE s.subject_key = ?`, old.Key).
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

// TestSubjectsRebuiltAsRowidTable: migration 10 keeps every subjects row
// as it was, puts the rows in leaf order, and leaves the constraints as
// they were: the key unique, records' references to it enforced, and a row
// without an id refused.
func TestSubjectsRebuiltAsRowidTable(t *testing.T) {
	ctx := t.Context()
	s := openBefore(t, subjectsRowidMigration)
	// Keys in the reverse of leaf order, one row with no leaf.
	type row struct {
		key                 []byte
		idType, created, id string
		number, name, salt  []byte
		leaf                any
	}
	var rows []row
	for i := range 5 {
		r := row{key: []byte{byte(10 - i), 1}, idType: "resident_id", created: "2026-01-02T03:04:05.000001Z", id: "id" + string(rune('a'+i)),
			number: []byte{byte(i), 2}, name: []byte{byte(i), 3}, salt: bytes.Repeat([]byte{byte(i)}, 32), leaf: int64(i)}
		if i == 4 {
			r.salt, r.leaf = nil, nil
		}
		rows = append(rows, r)
		if _, err := s.w.ExecContext(ctx, `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at, id, salt, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.key, r.idType, r.number, r.name, r.created, r.id, r.salt, r.leaf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO departments (code, name, submit_items, read_items, created_at) VALUES ('D', 'd', '[]', '[]', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	insertRecord := func(id string, key []byte) error {
		_, err := s.w.ExecContext(ctx, `INSERT INTO records (id, dept, ref, item, subject_key, version, status, display_from, public, payload, content_hash, created_at, updated_at)
			VALUES (?, 'D', ?, 'XZCF', ?, 1, 'active', '2026-01-01', 0, x'00', x'00', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`, id, id, key)
		return err
	}
	if err := insertRecord("r1", rows[2].key); err != nil {
		t.Fatal(err)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.w.QueryContext(ctx, `SELECT subject_key, id_type, number_enc, name_enc, created_at, id, salt, leaf_index FROM subjects ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	// The row without a leaf sorts first (NULL), then the leaves in order.
	want := append([]row{rows[4]}, rows[:4]...)
	n := 0
	for ; got.Next(); n++ {
		var r row
		var leaf *int64
		if err := got.Scan(&r.key, &r.idType, &r.number, &r.name, &r.created, &r.id, &r.salt, &leaf); err != nil {
			t.Fatal(err)
		}
		if leaf != nil {
			r.leaf = *leaf
		}
		w := want[n]
		if !bytes.Equal(r.key, w.key) || r.idType != w.idType || !bytes.Equal(r.number, w.number) || !bytes.Equal(r.name, w.name) ||
			r.created != w.created || r.id != w.id || !bytes.Equal(r.salt, w.salt) || r.leaf != w.leaf {
			t.Errorf("rowid order, row %d: %+v, want %+v", n, r, w)
		}
	}
	if err := got.Err(); err != nil || n != len(want) {
		t.Fatalf("%d rows (%v), want %d", n, err, len(want))
	}
	if err := insertRecord("r2", []byte("no such person")); err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("a record of a person not stored: %v, want a foreign key error", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at, id) VALUES (?, 'resident_id', x'00', x'00', '', 'x')`, rows[0].key); err == nil {
		t.Error("a second row of one key was stored")
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at) VALUES (x'99', 'resident_id', x'00', x'00', '')`); err == nil || !strings.Contains(err.Error(), "migrated by a newer pubcredit") {
		t.Errorf("a row without an id: %v, want it refused", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at, id) VALUES (NULL, 'resident_id', x'00', x'00', '', 'y')`); err == nil {
		t.Error("a row without a key was stored")
	}
}

// TestSubjectsRebuildRefusesABrokenReference: a records row whose person is
// not stored (possible only with foreign keys off) fails the rebuild's
// foreign key check: the migration rolls back, naming the tables, and the
// schema stays where it was.
func TestSubjectsRebuildRefusesABrokenReference(t *testing.T) {
	ctx := t.Context()
	s := openBefore(t, subjectsRowidMigration)
	for _, q := range []string{
		`PRAGMA foreign_keys = OFF`,
		`INSERT INTO departments (code, name, submit_items, read_items, created_at) VALUES ('D', 'd', '[]', '[]', '2026-01-01T00:00:00Z')`,
		`INSERT INTO records (id, dept, ref, item, subject_key, version, status, display_from, public, payload, content_hash, created_at, updated_at)
			VALUES ('r1', 'D', 'r1', 'XZCF', x'99', 1, 'active', '2026-01-01', 0, x'00', x'00', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`,
		`PRAGMA foreign_keys = ON`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "a row of records refers to a row of subjects that is not there") {
		t.Fatalf("Migrate = %v, want the broken reference named", err)
	}
	if have, _, err := s.SchemaVersion(ctx); err != nil || have != subjectsRowidMigration-1 {
		t.Errorf("schema at %d (%v), want %d", have, err, subjectsRowidMigration-1)
	}
}

// openBefore opens a new database migrated up to the migration before
// version, closed when the test ends.
func openBefore(t *testing.T, version int) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "pubcredit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.migrate(t.Context(), version-1); err != nil {
		t.Fatal(err)
	}
	return s
}
