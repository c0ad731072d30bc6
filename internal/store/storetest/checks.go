package storetest

import (
	"bytes"
	"maps"
	"testing"

	"pubcredit/internal/access"
	"pubcredit/internal/errs"
	"pubcredit/internal/measure"
)

func testChecks(t *testing.T, open func(t *testing.T) Store) {
	suite{
		{"CreateCheck stores the check and its access event together", func(t *testing.T, s Store) {
			withDepts(t, s)
			key := subject(1, "a").Key
			c := measure.Check{ID: id("chk", 1), Dept: "D1", SubjectKey: key, Matter: "high_consumption", Purpose: "ticket", At: at(5),
				Measures: []measure.CheckedMeasure{{Code: "P_HIGH", Kind: measure.Punishment, Because: []measure.Ground{{Type: measure.GroundListEntry, ID: "ent1", Code: "SXBZXR"}}}}}
			e := event(1, key, 5)
			e.Action = access.Check
			must(t, s.CreateCheck(ctx(t), c, e))
			got, err := s.Check(ctx(t), c.ID)
			must(t, err)
			if got.Dept != c.Dept || got.Matter != c.Matter || got.Purpose != c.Purpose || len(got.Measures) != 1 || got.Measures[0].Code != "P_HIGH" {
				t.Errorf("check = %+v, want %+v", got, c)
			}
			events, err := s.AccessBySubject(ctx(t), key, "", 10)
			must(t, err)
			wantEvents(t, events, e)
		}},
		{"CheckCounts counts checks by department and matter within [from, to)", func(t *testing.T, s Store) {
			withDepts(t, s)
			key := subject(1, "a").Key
			for i, c := range []struct {
				dept, matter string
				minute       int
			}{{"D1", "high_consumption", 5}, {"D1", "high_consumption", 6}, {"D1", "subsidy", 7}, {"D2", "subsidy", 8}, {"D1", "subsidy", 30}, {"D2", "subsidy", 4}} {
				e := event(i+1, key, c.minute)
				e.Action = access.Check
				must(t, s.CreateCheck(ctx(t), measure.Check{ID: id("chk", i+1), Dept: c.dept, SubjectKey: key, Matter: c.matter, Purpose: "p",
					At: at(c.minute), Measures: []measure.CheckedMeasure{}}, e))
			}
			got, err := s.CheckCounts(ctx(t), at(5), at(30))
			must(t, err)
			want := map[measure.CheckKey]int{{Dept: "D1", Matter: "high_consumption"}: 2, {Dept: "D1", Matter: "subsidy"}: 1, {Dept: "D2", Matter: "subsidy"}: 1}
			if !maps.Equal(got, want) {
				t.Errorf("CheckCounts = %v, want %v", got, want)
			}
		}},
		{"CreateCheck stores neither when the access event cannot be stored", func(t *testing.T, s Store) {
			withDepts(t, s)
			key := subject(1, "a").Key
			e := event(1, key, 5)
			must(t, s.AppendAccess(ctx(t), e))
			c := measure.Check{ID: id("chk", 1), Dept: "D1", SubjectKey: key, Matter: "subsidy", Purpose: "grant", At: at(5), Measures: []measure.CheckedMeasure{}}
			wantKind(t, s.CreateCheck(ctx(t), c, e), errs.Conflict) // the event's id is taken
			_, err := s.Check(ctx(t), c.ID)
			wantKind(t, err, errs.NotFound)
		}},
		{"Standing returns a person's records in id order without payloads, and no entries", func(t *testing.T, s Store) {
			withDepts(t, s)
			sj, other := subject(1, "a"), subject(2, "a")
			r1, r2, r3 := stored(1, "D1", sj), stored(2, "D2", sj), stored(3, "D1", other)
			var b batch
			b.add(sj, r2) // stored before r1: Standing returns id order
			b.add(sj, r1)
			b.add(other, r3)
			created(t, b.create(t, s))
			st, err := s.Standing(ctx(t), sj.Key)
			must(t, err)
			recs, entries := st.Records, st.Entries
			if !bytes.Equal(st.SealedName, sj.Name) {
				t.Errorf("Standing's sealed name = %x, want the subject's %x", st.SealedName, sj.Name)
			}
			none, err := s.Standing(ctx(t), subject(3, "a").Key)
			must(t, err)
			if none.SealedName != nil || len(none.Records) != 0 {
				t.Errorf("Standing of a person unknown = %+v, want nothing", none)
			}
			if len(recs) != 2 || entries == nil || len(entries) != 0 {
				t.Fatalf("Standing = %d records, entries %v; want 2 records and no entries", len(recs), entries)
			}
			r1.Payload, r1.ContentHash, r2.Payload, r2.ContentHash = nil, nil, nil, nil
			wantRecord(t, recs[0], r1)
			wantRecord(t, recs[1], r2)
		}},
	}.run(t, open)
}
