package storetest

import (
	"bytes"
	"slices"
	"testing"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
)

func event(n int, key []byte, when int) access.Event {
	return access.Event{
		ID:         id("evt", n),
		At:         at(when),
		Principal:  auth.Department,
		Actor:      "D1",
		SubjectKey: key,
		Action:     access.FileRead,
		Purpose:    "licensing check",
		Authority:  "read rights on XZCF",
		Records:    []string{id("rec", n), id("rec", n+1)},
		Items:      []string{"XZCF"},
	}
}

func wantEvents(t *testing.T, got []access.Event, want ...access.Event) {
	t.Helper()
	if len(got) != len(want) {
		ids := make([]string, len(got))
		for i, e := range got {
			ids[i] = e.ID
		}
		t.Fatalf("got %d events %q, want %d", len(got), ids, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Principal != w.Principal || g.Actor != w.Actor || !bytes.Equal(g.SubjectKey, w.SubjectKey) ||
			g.Action != w.Action || g.Purpose != w.Purpose || g.Authority != w.Authority ||
			!slices.Equal(g.Records, w.Records) || !slices.Equal(g.Items, w.Items) {
			t.Errorf("event %d =\n  %+v\nwant\n  %+v", i, g, w)
		}
		wantTime(t, "event "+w.ID+" at", g.At, w.At)
	}
}

func testAccess(t *testing.T, open func(t *testing.T) Store) {
	suite{
		{"AccessBySubject returns a person's events newest first, and no one else's", func(t *testing.T, s Store) {
			alice, bob := subject(1, "a").Key, subject(2, "a").Key
			e1, e2, e3 := event(1, alice, 10), event(2, alice, 30), event(3, alice, 20)
			e4 := event(4, alice, 30) // at the same time as e2: the later id first
			e4.Principal, e4.Actor, e4.Action, e4.Purpose, e4.Authority = auth.Auditor, "audit-office", access.AuditRead, "complaint 17", ""
			e4.Records, e4.Items = []string{}, []string{}
			b1 := event(5, bob, 40)
			for _, e := range []access.Event{e1, e2, b1, e3, e4} {
				must(t, s.AppendAccess(ctx(t), e))
			}
			got, err := s.AccessBySubject(ctx(t), alice, "", 10)
			must(t, err)
			wantEvents(t, got, e4, e2, e3, e1)
			got, err = s.AccessBySubject(ctx(t), bob, "", 10)
			must(t, err)
			wantEvents(t, got, b1)
			got, err = s.AccessBySubject(ctx(t), subject(3, "a").Key, "", 10)
			must(t, err)
			wantEvents(t, got)
		}},
		{"AccessBySubject returns at most limit events, the newest", func(t *testing.T, s Store) {
			key := subject(1, "a").Key
			var all []access.Event
			for i := range 5 {
				e := event(i, key, i)
				all = append(all, e)
				must(t, s.AppendAccess(ctx(t), e))
			}
			got, err := s.AccessBySubject(ctx(t), key, "", 2)
			must(t, err)
			wantEvents(t, got, all[4], all[3])
			got, err = s.AccessBySubject(ctx(t), key, "", 0)
			must(t, err)
			wantEvents(t, got)
		}},
		{"AccessBySubject pages on from before, ties of time by id, each event once", func(t *testing.T, s Store) {
			alice, bob := subject(1, "a").Key, subject(2, "a").Key
			// Newest first: e5 and e4 share a time (e5 has the later id),
			// then e3, e2, e1.
			want := []access.Event{event(5, alice, 30), event(4, alice, 30), event(3, alice, 20), event(2, alice, 10), event(1, alice, 5)}
			other := event(6, bob, 25)
			for _, e := range append(slices.Clone(want), other) {
				must(t, s.AppendAccess(ctx(t), e))
			}
			var got []access.Event
			before := ""
			for range len(want) + 1 {
				page, err := s.AccessBySubject(ctx(t), alice, before, 2)
				must(t, err)
				if len(page) == 0 {
					break
				}
				got, before = append(got, page...), page[len(page)-1].ID
			}
			wantEvents(t, got, want...)
			for _, cursor := range []string{other.ID, id("evt", 99)} { // another person's event, no event
				page, err := s.AccessBySubject(ctx(t), alice, cursor, 10)
				must(t, err)
				wantEvents(t, page)
			}
		}},
	}.run(t, open)
}
