package storetest

import (
	"bytes"
	"fmt"
	"testing"

	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

// subject returns person n, with sealed fields that differ per variant so
// that a test can tell which copy was stored.
func subject(n int, variant string) record.SealedSubject {
	return record.SealedSubject{
		Key:    []byte(fmt.Sprintf("subject-key-%020d", n)),
		IDType: "resident",
		Number: []byte("sealed-number-" + variant + fmt.Sprint(n)),
		Name:   []byte{0x00, 0xff, byte(n), byte(n >> 8), 0x80},
	}
}

// stored returns record n of dept about sj, at version 1.
func stored(n int, dept string, sj record.SealedSubject) record.Stored {
	return record.Stored{
		ID:         id("rec", n),
		Dept:       dept,
		Ref:        fmt.Sprintf("%s/2026/%d", dept, n),
		Item:       "XZCF",
		SubjectKey: sj.Key,
		Version:    1,
		Status:     record.Active,
		Severity:   catalog.Serious,
		Window: record.Window{
			From:        clock.Date{Year: 2026, Month: 3, Day: 14},
			EarliestEnd: clock.Date{Year: 2026, Month: 9, Day: 14},
			End:         clock.Date{Year: 2029, Month: 3, Day: 14},
			Public:      true,
		},
		Payload:     []byte(fmt.Sprintf("\x00sealed payload %d\xff", n)),
		ContentHash: bytes.Repeat([]byte{byte(n), byte(n >> 8)}, 16),
		CreatedAt:   at(n),
		UpdatedAt:   at(n),
	}
}

func firstVersion(r record.Stored) record.Version {
	return record.Version{RecordID: r.ID, Version: 1, Change: record.Created, At: r.CreatedAt, Payload: r.Payload}
}

// batch is the arguments of one CreateRecords call.
type batch struct {
	subjects []record.SealedSubject
	recs     []record.Stored
	versions []record.Version
}

func (b *batch) add(sj record.SealedSubject, r record.Stored) {
	b.subjects = append(b.subjects, sj)
	b.recs = append(b.recs, r)
	b.versions = append(b.versions, firstVersion(r))
}

func (b *batch) create(t *testing.T, s Store) []record.Outcome {
	t.Helper()
	out, err := s.CreateRecords(ctx(t), b.subjects, b.recs, b.versions)
	must(t, err)
	if len(out) != len(b.recs) {
		t.Fatalf("CreateRecords returned %d outcomes for %d records", len(out), len(b.recs))
	}
	return out
}

// created fails unless every outcome is Created.
func created(t *testing.T, out []record.Outcome) {
	t.Helper()
	for i, o := range out {
		if !o.Created || o.ExistingID != "" || o.ExistingHash != nil {
			t.Fatalf("outcome %d = %+v, want created", i, o)
		}
	}
}

func wantExisting(t *testing.T, o record.Outcome, r record.Stored) {
	t.Helper()
	if o.Created || o.ExistingID != r.ID || !bytes.Equal(o.ExistingHash, r.ContentHash) {
		t.Errorf("outcome = {Created:%v ExistingID:%q ExistingHash:%x}, want the existing record %q with hash %x",
			o.Created, o.ExistingID, o.ExistingHash, r.ID, r.ContentHash)
	}
}

func wantRecord(t *testing.T, got, want record.Stored) {
	t.Helper()
	if got.ID != want.ID || got.Dept != want.Dept || got.Ref != want.Ref || got.Item != want.Item ||
		!bytes.Equal(got.SubjectKey, want.SubjectKey) || got.Version != want.Version || got.Status != want.Status ||
		got.Severity != want.Severity || got.Window != want.Window ||
		!bytes.Equal(got.Payload, want.Payload) || !bytes.Equal(got.ContentHash, want.ContentHash) {
		t.Errorf("record =\n  %+v\nwant\n  %+v", got, want)
	}
	wantTime(t, "record created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "record updated_at", got.UpdatedAt, want.UpdatedAt)
	switch {
	case want.Revocation == nil && got.Revocation != nil:
		t.Errorf("record revocation = %+v, want none", *got.Revocation)
	case want.Revocation != nil && got.Revocation == nil:
		t.Errorf("record has no revocation, want %+v", *want.Revocation)
	case want.Revocation != nil:
		if got.Revocation.Reason != want.Revocation.Reason || got.Revocation.Basis != want.Revocation.Basis {
			t.Errorf("record revocation = %+v, want %+v", *got.Revocation, *want.Revocation)
		}
		wantTime(t, "revoked at", got.Revocation.At, want.Revocation.At)
	}
}

func wantStoredRecord(t *testing.T, s Store, want record.Stored) {
	t.Helper()
	got, err := s.Record(ctx(t), want.ID)
	must(t, err)
	wantRecord(t, got, want)
}

func wantVersions(t *testing.T, s Store, id string, want ...record.Version) {
	t.Helper()
	got, err := s.Versions(ctx(t), id)
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("record %s has %d versions, want %d: %+v", id, len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.RecordID != w.RecordID || g.Version != w.Version || g.Change != w.Change ||
			!bytes.Equal(g.Payload, w.Payload) || !bytes.Equal(g.Note, w.Note) {
			t.Errorf("version %d =\n  %+v\nwant\n  %+v", i, g, w)
		}
		wantTime(t, fmt.Sprintf("version %d at", i), g.At, w.At)
	}
}

func wantSubject(t *testing.T, s Store, want record.SealedSubject) {
	t.Helper()
	got, err := s.Subject(ctx(t), want.Key)
	must(t, err)
	if !bytes.Equal(got.Key, want.Key) || got.IDType != want.IDType || !bytes.Equal(got.Number, want.Number) || !bytes.Equal(got.Name, want.Name) {
		t.Errorf("subject = %+v, want %+v", got, want)
	}
}

// wantBySubject fails unless RecordsBySubject returns exactly these
// records in this order.
func wantBySubject(t *testing.T, s Store, key []byte, want ...record.Stored) {
	t.Helper()
	got, err := s.RecordsBySubject(ctx(t), key)
	must(t, err)
	if len(got) != len(want) {
		ids := make([]string, len(got))
		for i, r := range got {
			ids[i] = r.ID
		}
		t.Fatalf("RecordsBySubject(%s) returned %d records %q, want %d", key, len(got), ids, len(want))
	}
	for i := range want {
		wantRecord(t, got[i], want[i])
	}
}

// withDepts returns a store holding departments D1 and D2.
func withDepts(t *testing.T, s Store) Store {
	t.Helper()
	must(t, s.CreateDept(ctx(t), dept("D1", 1)))
	must(t, s.CreateDept(ctx(t), dept("D2", 2)))
	return s
}

func testRecords(t *testing.T, open func(t *testing.T) Store) {
	suite{
		{"CreateRecords stores new records, their subjects and first versions", func(t *testing.T, s Store) {
			withDepts(t, s)
			var b batch
			sj1, sj2 := subject(1, "a"), subject(2, "a")
			r1, r2 := stored(1, "D1", sj1), stored(2, "D2", sj2)
			r2.Severity, r2.Window.Public = catalog.Minor, false
			r2.Window.EarliestEnd, r2.Window.End = clock.Date{}, clock.Date{} // no end: kept as zero dates
			b.add(sj1, r1)
			b.add(sj2, r2)
			b.versions[1].Note = []byte("sealed note")
			created(t, b.create(t, s))
			wantStoredRecord(t, s, r1)
			wantStoredRecord(t, s, r2)
			wantVersions(t, s, r1.ID, b.versions[0])
			wantVersions(t, s, r2.ID, b.versions[1])
			wantSubject(t, s, sj1)
			wantSubject(t, s, sj2)
		}},
		{"CreateRecords with no records does nothing", func(t *testing.T, s Store) {
			out, err := s.CreateRecords(ctx(t), nil, nil, nil)
			must(t, err)
			if len(out) != 0 {
				t.Fatalf("outcomes = %+v, want none", out)
			}
		}},
		{"an existing (dept, ref) is reported with its id and hash and nothing is inserted", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj := subject(1, "a")
			orig := stored(1, "D1", sj)
			var first batch
			first.add(sj, orig)
			created(t, first.create(t, s))

			again := stored(2, "D1", sj) // a new id and content under the same ref
			again.Ref = orig.Ref
			var second batch
			second.add(sj, again)
			out := second.create(t, s)
			wantExisting(t, out[0], orig)
			_, err := s.Record(ctx(t), again.ID)
			wantKind(t, err, errs.NotFound)
			wantVersions(t, s, again.ID)
			wantStoredRecord(t, s, orig)
			wantVersions(t, s, orig.ID, first.versions[0])
			wantBySubject(t, s, sj.Key, orig)
		}},
		{"the same ref in another department is a new record", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj := subject(1, "a")
			r1, r2 := stored(1, "D1", sj), stored(2, "D2", sj)
			r2.Ref = r1.Ref
			var b batch
			b.add(sj, r1)
			b.add(sj, r2)
			created(t, b.create(t, s))
			wantBySubject(t, s, sj.Key, r1, r2)
		}},
		{"a (dept, ref) repeated in one call is created once and the repeat names the first", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj := subject(1, "a")
			r1, r2, r3 := stored(1, "D1", sj), stored(2, "D1", sj), stored(3, "D1", sj)
			r2.Ref = r1.Ref
			var b batch
			b.add(sj, r1)
			b.add(sj, r2)
			b.add(sj, r3)
			out := b.create(t, s)
			created(t, []record.Outcome{out[0], out[2]})
			wantExisting(t, out[1], r1)
			_, err := s.Record(ctx(t), r2.ID)
			wantKind(t, err, errs.NotFound)
			wantBySubject(t, s, sj.Key, r1, r3)
		}},
		{"a subject shared by two records is stored once, the first copy kept", func(t *testing.T, s Store) {
			withDepts(t, s)
			first, second := subject(7, "first"), subject(7, "second")
			r1, r2 := stored(1, "D1", first), stored(2, "D2", second)
			var b batch
			b.add(first, r1)
			b.add(second, r2)
			created(t, b.create(t, s))
			wantSubject(t, s, first)
			wantBySubject(t, s, first.Key, r1, r2)

			// A later call does not replace the stored subject either.
			third := subject(7, "third")
			r3 := stored(3, "D1", third)
			var later batch
			later.add(third, r3)
			created(t, later.create(t, s))
			wantSubject(t, s, first)
			wantBySubject(t, s, first.Key, r1, r2, r3)
		}},
		{"one call with many rows, some existing, some repeated", func(t *testing.T, s Store) {
			withDepts(t, s)
			const n = 600
			subjects := func(i int) record.SealedSubject { return subject(i%150, "a") } // four records a person
			rows := make([]record.Stored, n)
			for i := range rows {
				rows[i] = stored(i, []string{"D1", "D2"}[i%2], subjects(i))
			}
			// Every fifth row is stored first.
			var early batch
			for i := 0; i < n; i += 5 {
				early.add(subjects(i), rows[i])
			}
			created(t, early.create(t, s))

			var b batch
			for i := range rows {
				b.add(subjects(i), rows[i])
			}
			// And every 60th row is sent twice, under a new id.
			for i := 1; i < n; i += 60 {
				dup := stored(n+i, rows[i].Dept, subjects(i))
				dup.Ref = rows[i].Ref
				b.add(subjects(i), dup)
			}
			out := b.create(t, s)
			for i := range rows {
				if i%5 == 0 {
					wantExisting(t, out[i], rows[i])
				} else if !out[i].Created {
					t.Fatalf("row %d: outcome %+v, want created", i, out[i])
				}
			}
			for k, i := 0, 1; i < n; k, i = k+1, i+60 {
				wantExisting(t, out[n+k], rows[i])
			}
			for p := range 150 {
				want := []record.Stored{rows[p], rows[p+150], rows[p+300], rows[p+450]}
				wantBySubject(t, s, subject(p, "a").Key, want...)
			}
			for _, i := range []int{0, 1, 299, 599} {
				wantVersions(t, s, rows[i].ID, firstVersion(rows[i]))
			}
		}},
		{"a ref repeated in one call for another person keeps the first row in call order", func(t *testing.T, s Store) {
			withDepts(t, s)
			later, earlier := subject(900, "a"), subject(100, "a") // the repeat's key sorts first
			r := stored(1, "D1", later)
			again := stored(2, "D1", earlier)
			again.Ref = r.Ref
			var b batch
			b.add(later, r)
			b.add(earlier, again)
			out := b.create(t, s)
			if !out[0].Created {
				t.Fatalf("first row: outcome %+v, want created", out[0])
			}
			wantExisting(t, out[1], r)
		}},
		{"Record of an unknown id returns NotFound", func(t *testing.T, s Store) {
			withDepts(t, s)
			var b batch
			b.add(subject(1, "a"), stored(1, "D1", subject(1, "a")))
			b.create(t, s)
			_, err := s.Record(ctx(t), id("rec", 2))
			wantKind(t, err, errs.NotFound)
		}},
		{"UpdateRecord bumps the version and appends a version", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj := subject(1, "a")
			r := stored(1, "D1", sj)
			var b batch
			b.add(sj, r)
			created(t, b.create(t, s))

			corrected := r
			corrected.Version = 2
			corrected.Severity = catalog.General
			corrected.Window.End = clock.Date{Year: 2028, Month: 3, Day: 14}
			corrected.Payload, corrected.ContentHash = []byte("corrected payload"), bytes.Repeat([]byte{0xc0}, 32)
			corrected.UpdatedAt = at(100)
			v2 := record.Version{RecordID: r.ID, Version: 2, Change: record.Corrected, At: at(100), Payload: corrected.Payload, Note: []byte("sealed correction note")}
			must(t, s.UpdateRecord(ctx(t), nil, corrected, v2))
			wantStoredRecord(t, s, corrected)

			revoked := corrected
			revoked.Version, revoked.Status, revoked.UpdatedAt = 3, record.Revoked, at(200)
			revoked.Revocation = &record.Revocation{Reason: "overturned on review", Basis: "decision 2026-17", At: at(200)}
			v3 := record.Version{RecordID: r.ID, Version: 3, Change: record.Revoke, At: at(200), Payload: []byte("revoked payload"), Note: []byte("sealed reason")}
			must(t, s.UpdateRecord(ctx(t), nil, revoked, v3))
			wantStoredRecord(t, s, revoked)
			wantVersions(t, s, r.ID, b.versions[0], v2, v3)
		}},
		{"UpdateRecord returns Conflict when the stored version moved on, and changes nothing", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj := subject(1, "a")
			r := stored(1, "D1", sj)
			var b batch
			b.add(sj, r)
			created(t, b.create(t, s))
			r2 := r
			r2.Version, r2.Payload, r2.UpdatedAt = 2, []byte("second"), at(10)
			v2 := record.Version{RecordID: r.ID, Version: 2, Change: record.Corrected, At: at(10), Payload: r2.Payload}
			must(t, s.UpdateRecord(ctx(t), nil, r2, v2))

			// A writer that read version 1 also tries to write version 2,
			// with a new subject.
			other := subject(2, "a")
			stale := r
			stale.Version, stale.SubjectKey, stale.Payload, stale.UpdatedAt = 2, other.Key, []byte("stale"), at(20)
			vs := record.Version{RecordID: r.ID, Version: 2, Change: record.Corrected, At: at(20), Payload: stale.Payload}
			wantKind(t, s.UpdateRecord(ctx(t), &other, stale, vs), errs.Conflict)
			// An update that skips a version is a conflict too.
			skip := r2
			skip.Version = 4
			wantKind(t, s.UpdateRecord(ctx(t), nil, skip, record.Version{RecordID: r.ID, Version: 4, Change: record.Corrected, At: at(30), Payload: []byte("x")}), errs.Conflict)

			wantStoredRecord(t, s, r2)
			wantVersions(t, s, r.ID, b.versions[0], v2)
			_, err := s.Subject(ctx(t), other.Key)
			wantKind(t, err, errs.NotFound)
		}},
		{"UpdateRecord of an unknown id returns NotFound", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj := subject(1, "a")
			var b batch
			b.add(sj, stored(1, "D1", sj))
			created(t, b.create(t, s))
			ghost := stored(2, "D1", sj)
			ghost.Version = 2
			err := s.UpdateRecord(ctx(t), nil, ghost, record.Version{RecordID: ghost.ID, Version: 2, Change: record.Corrected, At: at(5), Payload: []byte("x")})
			wantKind(t, err, errs.NotFound)
			wantVersions(t, s, ghost.ID)
		}},
		{"UpdateRecord inserts a new subject when given and moves the record to it", func(t *testing.T, s Store) {
			withDepts(t, s)
			before, after := subject(1, "a"), subject(2, "a")
			r := stored(1, "D1", before)
			var b batch
			b.add(before, r)
			created(t, b.create(t, s))
			moved := r
			moved.Version, moved.SubjectKey, moved.UpdatedAt = 2, after.Key, at(30)
			v2 := record.Version{RecordID: r.ID, Version: 2, Change: record.Corrected, At: at(30), Payload: moved.Payload}
			must(t, s.UpdateRecord(ctx(t), &after, moved, v2))
			wantSubject(t, s, after)
			wantSubject(t, s, before)
			wantBySubject(t, s, after.Key, moved)
			wantBySubject(t, s, before.Key)
		}},
		{"UpdateRecord keeps a subject that is already stored", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj := subject(1, "a")
			r := stored(1, "D1", sj)
			var b batch
			b.add(sj, r)
			created(t, b.create(t, s))
			resent := subject(1, "resent")
			r2 := r
			r2.Version, r2.UpdatedAt = 2, at(40)
			must(t, s.UpdateRecord(ctx(t), &resent, r2, record.Version{RecordID: r.ID, Version: 2, Change: record.Corrected, At: at(40), Payload: r.Payload}))
			wantSubject(t, s, sj)
			wantStoredRecord(t, s, r2)
		}},
		{"RecordsBySubject returns a person's records oldest first and no one else's", func(t *testing.T, s Store) {
			withDepts(t, s)
			alice, bob, carol := subject(1, "a"), subject(2, "a"), subject(3, "a")
			a1, a2, a3 := stored(10, "D1", alice), stored(20, "D2", alice), stored(30, "D1", alice)
			b1 := stored(15, "D1", bob)
			// Stored newest first, across calls.
			for _, step := range []struct {
				sj record.SealedSubject
				r  record.Stored
			}{{alice, a3}, {bob, b1}, {alice, a2}, {alice, a1}} {
				var b batch
				b.add(step.sj, step.r)
				created(t, b.create(t, s))
			}
			wantBySubject(t, s, alice.Key, a1, a2, a3)
			wantBySubject(t, s, bob.Key, b1)
			wantBySubject(t, s, carol.Key)
		}},
		{"Versions of an unknown record is empty", func(t *testing.T, s Store) {
			wantVersions(t, s, id("rec", 1))
		}},
		{"Subject of an unknown key returns NotFound", func(t *testing.T, s Store) {
			withDepts(t, s)
			var b batch
			b.add(subject(1, "a"), stored(1, "D1", subject(1, "a")))
			created(t, b.create(t, s))
			_, err := s.Subject(ctx(t), subject(2, "a").Key)
			wantKind(t, err, errs.NotFound)
		}},
	}.run(t, open)
}
