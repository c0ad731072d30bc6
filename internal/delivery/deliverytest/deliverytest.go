// Package deliverytest is the conformance suite of delivery.Store: what the
// dispatcher's cursor, the senders' leases and the delivery history mean,
// checked the same way on every backend. A backend runs it in one line:
//
//	deliverytest.Run(t, func(t *testing.T) deliverytest.Store { return openFresh(t) })
//
// open must return a store on a fresh, migrated, empty database and arrange
// (with t.Cleanup) for it to be closed. Records and entries are made by
// hand, with leaves whose commitments are arbitrary: the store does not
// check them. Times have whole microseconds, the finest PostgreSQL keeps.
package deliverytest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
	"pubcredit/internal/delivery"
	"pubcredit/internal/errs"
	"pubcredit/internal/ledger"
	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

// Store is what the suite needs of a backend: the delivery store and the
// stores whose changes append the leaves it dispatches.
type Store interface {
	delivery.Store
	access.Store
	auth.Store
	record.Store
	listing.Store
}

// Run runs the suite, each test in parallel on a store of its own.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"a subscription is kept, listed, deleted, and sees the ledger from its end on", testSubscriptions},
		{"CreateSubscription refuses an identical live subscription, naming it", testDuplicateSubscription},
		{"Dispatch hands each leaf to the planner once, in order, with its change", testDispatch},
		{"Dispatch keeps one delivery per subscription and event", testDispatchOnce},
		{"Dispatch without subscriptions skips to the end of the ledger", testDispatchNobody},
		{"Dispatch reads at most limit leaves a call", testDispatchLimit},
		{"Dispatch gives the planner the departments' current rights", testDispatchRights},
		{"concurrent dispatchers dispatch each leaf once", testDispatchConcurrent},
		{"ClaimDue leases the earliest due delivery of each idle subscription", testClaim},
		{"ClaimDue leases at most LeasedPerDept deliveries of one department", testClaimPerDept},
		{"concurrent senders never claim a delivery twice", testClaimConcurrent},
		{"RecordAttempt keeps every attempt and the delivery's state", testAttempts},
		{"Redeliver starts a new round for a delivered or dead delivery only", testRedeliver},
		{"LogPushRead stores the access event once a round, with its leaf", testLogPushRead},
		{"deleting a subscription ends its pending deliveries", testDeleteEndsPending},
		{"Deliveries filters by status and pages by id", testDeliveriesPaging},
		{"EntryVersion returns an entry as it was at each version", testEntryVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if !errors.Is(err, k) {
		t.Fatalf("got error %v, want kind %v", err, k)
	}
}

// at is a fixed instant with whole microseconds, plus n seconds, in a zone
// east of UTC: stores keep the instant and return it in UTC.
func at(n int) time.Time {
	return time.Date(2026, 11, 30, 10, 0, 0, 123456000, time.FixedZone("CST", 8*3600)).Add(time.Duration(n) * time.Second)
}

func wantTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	switch {
	case want.IsZero() && got != nil:
		t.Errorf("%s = %v, want none", what, *got)
	case want.IsZero():
	case got == nil:
		t.Errorf("%s is missing, want %v", what, want.UTC())
	case !got.Equal(want) || got.Location() != time.UTC:
		t.Errorf("%s = %v, want %v in UTC", what, *got, want.UTC())
	}
}

// fixture makes departments, records and entries, each change with its leaf.
type fixture struct {
	t *testing.T
	s Store
	n int
}

func newFixture(t *testing.T, s Store) *fixture { return &fixture{t: t, s: s} }

func (f *fixture) next() int { f.n++; return f.n }

// dept registers a department that may read items.
func (f *fixture) dept(code string, read ...string) {
	f.t.Helper()
	must(f.t, f.s.CreateDept(f.t.Context(), auth.Dept{Code: code, Name: "Department " + code, Submit: []string{"XZCF", "SXBZXR"}, Read: read, CreatedAt: at(0)}))
}

func leaf(kind, id string, when time.Time) ([]byte, []byte) {
	salt := bytes.Repeat([]byte{7}, ledger.SaltSize)
	return salt, ledger.Leaf{Kind: kind, ID: id, At: when.UTC(), Commitment: ledger.Commit(salt, []byte(id))}.Encode()
}

// record creates a record of item by dept (one leaf) and returns it.
func (f *fixture) record(dept, item string) record.Stored {
	f.t.Helper()
	n := f.next()
	key := []byte(fmt.Sprintf("subject-key-%020d", n))
	sj := record.SealedSubject{Key: key, IDType: "resident_id", Number: []byte{1, byte(n)}, Name: []byte{2, byte(n)}}
	r := record.Stored{
		ID: fmt.Sprintf("rec%029d", n), Dept: dept, Ref: fmt.Sprintf("ref-%d", n), Item: item, SubjectKey: key, Version: 1,
		Status: record.Active, Window: record.Window{From: clock.Date{Year: 2026, Month: 11, Day: 1}},
		Payload: []byte{0, byte(n)}, ContentHash: bytes.Repeat([]byte{byte(n)}, 32), CreatedAt: at(n), UpdatedAt: at(n),
	}
	v := record.Version{RecordID: r.ID, Version: 1, Change: record.Created, At: r.CreatedAt, Payload: r.Payload, State: []byte(`{}`)}
	v.Salt, v.Leaf = leaf(record.LeafKind, record.EventID(r.ID, 1), v.At)
	out, err := f.s.CreateRecords(f.t.Context(), []record.SealedSubject{sj}, []record.Stored{r}, []record.Version{v})
	must(f.t, err)
	if !out[0].Created {
		f.t.Fatalf("record %s not created", r.ID)
	}
	return r
}

// change writes the next version of r with change c (one leaf).
func (f *fixture) change(r record.Stored, c record.Change) record.Stored {
	f.t.Helper()
	n := f.next()
	r.Version++
	r.UpdatedAt = at(n)
	if c == record.Revoke {
		r.Status = record.Revoked
		r.Revocation = &record.Revocation{Reason: "overturned", Basis: "judgment", At: at(n)}
	}
	v := record.Version{RecordID: r.ID, Version: r.Version, Change: c, At: r.UpdatedAt, Payload: r.Payload, State: []byte(`{}`)}
	v.Salt, v.Leaf = leaf(record.LeafKind, record.EventID(r.ID, r.Version), v.At)
	must(f.t, f.s.UpdateRecord(f.t.Context(), nil, r, v))
	return r
}

// entry puts the person of r on list with status (one leaf).
func (f *fixture) entry(r record.Stored, list string, status listing.Status) listing.Entry {
	f.t.Helper()
	n := f.next()
	e := listing.Entry{
		ID: fmt.Sprintf("ent%029d", n), List: list, Dept: r.Dept, Ref: r.Ref, RecordID: r.ID, SubjectKey: r.SubjectKey,
		Status: status, Version: 1, DecidedOn: clock.Date{Year: 2026, Month: 11, Day: 1}, ActiveFrom: clock.Date{Year: 2026, Month: 11, Day: 30},
		Grounds: []string{"refused_with_ability"}, DocumentNo: "(2026)京0105执123号", CreatedAt: at(n), UpdatedAt: at(n),
	}
	e.Salt, e.Leaf = leaf(listing.LeafKind, listing.EventID(e.ID, 1), e.CreatedAt)
	got, created, err := f.s.CreateEntry(f.t.Context(), e)
	must(f.t, err)
	if !created {
		f.t.Fatalf("entry %s not created", e.ID)
	}
	return got
}

// move writes the next version of e with status (one leaf).
func (f *fixture) move(e listing.Entry, status listing.Status) listing.Entry {
	f.t.Helper()
	n := f.next()
	e.Status, e.Version, e.UpdatedAt = status, e.Version+1, at(n)
	if status == listing.Removed {
		e.Removal = &listing.Removal{Reason: listing.Performed, At: at(n)}
	}
	e.Salt, e.Leaf = leaf(listing.LeafKind, listing.EventID(e.ID, e.Version), e.UpdatedAt)
	must(f.t, f.s.UpdateEntry(f.t.Context(), e))
	return e
}

// subscribe makes a live subscription of dept.
func (f *fixture) subscribe(dept string) delivery.Subscription {
	f.t.Helper()
	n := f.next()
	sub, err := f.s.CreateSubscription(f.t.Context(), delivery.Subscription{
		ID: fmt.Sprintf("sub%029d", n), Dept: dept, URL: fmt.Sprintf("https://receiver.example/%d", n),
		Events: slices.Clone(delivery.Events), Lists: []string{}, Items: []string{}, Secret: []byte{9, 9, byte(n)}, CreatedAt: at(n),
	}, 0)
	must(f.t, err)
	return sub
}

// everything plans one delivery for every leaf and target, due at due.
func everything(due time.Time, seen *[]delivery.Leaf) delivery.Planner {
	n := 0
	return func(leaves []delivery.Leaf, targets []delivery.Target) []delivery.Delivery {
		if seen != nil {
			*seen = append(*seen, leaves...)
		}
		var out []delivery.Delivery
		for _, l := range leaves {
			for _, tg := range targets {
				n++
				next := due
				out = append(out, delivery.Delivery{
					ID: fmt.Sprintf("del%06d%023d", l.Index, n), Subscription: tg.ID, EventID: l.EventID, Type: "record.created",
					LeafIndex: l.Index, Status: delivery.Pending, CreatedAt: due, NextAt: &next,
				})
			}
		}
		return out
	}
}

// dispatchAll dispatches until the cursor is at the end.
func dispatchAll(t *testing.T, s Store, plan delivery.Planner) int {
	t.Helper()
	total := 0
	for {
		n, err := s.Dispatch(t.Context(), 100, plan)
		must(t, err)
		if n == 0 {
			return total
		}
		total += n
	}
}

func deliveries(t *testing.T, s Store, sub string, status delivery.Status) []delivery.Delivery {
	t.Helper()
	ds, err := s.Deliveries(t.Context(), sub, status, "", 1000)
	must(t, err)
	return ds
}

func testSubscriptions(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	f.dept("D2")
	f.record("D1", "XZCF")
	f.record("D1", "XZCF")
	sub := f.subscribe("D1")
	if sub.FromLeaf != 2 {
		t.Errorf("FromLeaf = %d after 2 leaves, want 2", sub.FromLeaf)
	}
	sub.Lists, sub.Items = []string{"SXBZXR"}, []string{"XZCF", "XZXK"}
	other, err := s.CreateSubscription(t.Context(), delivery.Subscription{ID: "sub-other", Dept: "D1", URL: "http://127.0.0.1:9/hook",
		Events: []string{"list.entry.active"}, Lists: []string{"SXBZXR"}, Items: []string{"XZCF", "XZXK"}, Secret: []byte("sealed"), CreatedAt: at(5)}, 0)
	must(t, err)
	got, err := s.Subscription(t.Context(), other.ID)
	must(t, err)
	if got.Dept != "D1" || got.URL != "http://127.0.0.1:9/hook" || !slices.Equal(got.Events, []string{"list.entry.active"}) ||
		!slices.Equal(got.Lists, []string{"SXBZXR"}) || !slices.Equal(got.Items, []string{"XZCF", "XZXK"}) ||
		!bytes.Equal(got.Secret, []byte("sealed")) || got.FromLeaf != 2 || !got.CreatedAt.Equal(at(5)) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("Subscription = %+v, want what was stored", got)
	}
	list, err := s.Subscriptions(t.Context(), "D1")
	must(t, err)
	if len(list) != 2 || list[0].ID > list[1].ID {
		t.Errorf("Subscriptions(D1) = %v, want both by id", list)
	}
	if list, err := s.Subscriptions(t.Context(), "D2"); err != nil || len(list) != 0 {
		t.Errorf("Subscriptions(D2) = %v, %v; want none", list, err)
	}
	must(t, s.DeleteSubscription(t.Context(), other.ID, at(6), "deleted"))
	_, err = s.Subscription(t.Context(), other.ID)
	wantKind(t, err, errs.NotFound)
	wantKind(t, s.DeleteSubscription(t.Context(), other.ID, at(7), "deleted"), errs.NotFound)
	wantKind(t, s.DeleteSubscription(t.Context(), "no-such", at(7), "deleted"), errs.NotFound)
	if list, _ := s.Subscriptions(t.Context(), "D1"); len(list) != 1 || list[0].ID != sub.ID {
		t.Errorf("Subscriptions(D1) after a delete = %v, want only %s", list, sub.ID)
	}
}

func testDispatch(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1", "XZCF")
	f.dept("COURT")
	sub := f.subscribe("D1")
	r := f.record("D1", "XZCF")
	r = f.change(r, record.Corrected)
	f.change(r, record.Revoke)
	c := f.record("COURT", "SXBZXR")
	e := f.entry(c, "SXBZXR", listing.Noticed)
	e = f.move(e, listing.Active)
	f.move(e, listing.Removed)

	var seen []delivery.Leaf
	if n := dispatchAll(t, s, everything(at(100), &seen)); n != 7 {
		t.Fatalf("Dispatch read %d leaves, want 7", n)
	}
	want := []delivery.Leaf{
		{Index: 0, Kind: record.LeafKind, EventID: r.ID + ":1", Change: "created", Item: "XZCF", Dept: "D1"},
		{Index: 1, Kind: record.LeafKind, EventID: r.ID + ":2", Change: "corrected", Item: "XZCF", Dept: "D1"},
		{Index: 2, Kind: record.LeafKind, EventID: r.ID + ":3", Change: "revoked", Item: "XZCF", Dept: "D1"},
		{Index: 3, Kind: record.LeafKind, EventID: c.ID + ":1", Change: "created", Item: "SXBZXR", Dept: "COURT"},
		{Index: 4, Kind: listing.LeafKind, EventID: e.ID + ":1", Change: "noticed", List: "SXBZXR", Dept: "COURT"},
		{Index: 5, Kind: listing.LeafKind, EventID: e.ID + ":2", Change: "active", List: "SXBZXR", Dept: "COURT"},
		{Index: 6, Kind: listing.LeafKind, EventID: e.ID + ":3", Change: "removed", List: "SXBZXR", Dept: "COURT"},
	}
	if !slices.Equal(seen, want) {
		t.Errorf("the planner saw\n%+v\nwant\n%+v", seen, want)
	}
	if n, err := s.Dispatch(t.Context(), 100, everything(at(100), &seen)); n != 0 || err != nil || len(seen) != 7 {
		t.Errorf("a second Dispatch read %d leaves (%v); want none", n, err)
	}
	ds := deliveries(t, s, sub.ID, "")
	if len(ds) != 7 {
		t.Fatalf("%d deliveries stored, want 7", len(ds))
	}
	for _, d := range ds {
		if d.Status != delivery.Pending || d.Attempts != 0 || d.LastAttemptAt != nil || d.LastStatus != nil || len(d.Recent) != 0 {
			t.Errorf("new delivery %+v, want pending without attempts", d)
		}
		wantTime(t, "next_at", d.NextAt, at(100))
		if !d.CreatedAt.Equal(at(100)) {
			t.Errorf("created_at = %v, want %v", d.CreatedAt, at(100))
		}
	}
	// A change after the dispatch is dispatched on the next call.
	f.record("D1", "XZCF")
	seen = nil
	if n := dispatchAll(t, s, everything(at(101), &seen)); n != 1 || seen[0].Index != 7 {
		t.Errorf("after one more change Dispatch read %d leaves (%+v), want leaf 7", n, seen)
	}
}

func testDispatchOnce(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	sub := f.subscribe("D1")
	f.record("D1", "XZCF")
	dispatchAll(t, s, everything(at(10), nil))
	first := deliveries(t, s, sub.ID, "")
	f.record("D1", "XZCF")
	// The planner repeats the first event under a new delivery id.
	n, err := s.Dispatch(t.Context(), 100, func(leaves []delivery.Leaf, targets []delivery.Target) []delivery.Delivery {
		dup := first[0]
		dup.ID = "dup" + dup.ID[3:]
		return append(everything(at(11), nil)(leaves, targets), dup)
	})
	must(t, err)
	if n != 1 {
		t.Errorf("Dispatch read %d leaves, want 1", n)
	}
	if ds := deliveries(t, s, sub.ID, ""); len(ds) != 2 || ds[0].ID != first[0].ID {
		t.Errorf("deliveries = %+v, want the first and one for the new leaf", ds)
	}
}

func testDispatchNobody(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	for range 3 {
		f.record("D1", "XZCF")
	}
	called := false
	n, err := s.Dispatch(t.Context(), 2, func([]delivery.Leaf, []delivery.Target) []delivery.Delivery { called = true; return nil })
	must(t, err)
	if called || n != 3 {
		t.Errorf("Dispatch without subscriptions read %d leaves and called the planner: %v; want 3 skipped without it", n, called)
	}
	sub := f.subscribe("D1")
	if sub.FromLeaf != 3 {
		t.Errorf("FromLeaf = %d, want 3", sub.FromLeaf)
	}
	f.record("D1", "XZCF")
	var seen []delivery.Leaf
	dispatchAll(t, s, everything(at(10), &seen))
	if len(seen) != 1 || seen[0].Index != 3 {
		t.Errorf("the planner saw %+v, want only leaf 3", seen)
	}
}

func testDispatchLimit(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	f.subscribe("D1")
	for range 5 {
		f.record("D1", "XZCF")
	}
	var got []int
	for {
		n, err := s.Dispatch(t.Context(), 2, everything(at(10), nil))
		must(t, err)
		got = append(got, n)
		if n == 0 {
			break
		}
	}
	if !slices.Equal(got, []int{2, 2, 1, 0}) {
		t.Errorf("Dispatch with limit 2 read %v leaves a call, want [2 2 1 0]", got)
	}
}

func testDispatchRights(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1", "XZCF", "XZXK")
	f.dept("D2")
	s1, s2 := f.subscribe("D1"), f.subscribe("D2")
	must(t, s.DeleteSubscription(t.Context(), f.subscribe("D2").ID, at(3), "deleted"))
	must(t, s.SetDeptDisabled(t.Context(), "D2", true))
	f.record("D1", "XZCF")
	var targets []delivery.Target
	_, err := s.Dispatch(t.Context(), 10, func(_ []delivery.Leaf, ts []delivery.Target) []delivery.Delivery { targets = ts; return nil })
	must(t, err)
	if len(targets) != 2 || targets[0].ID != s1.ID || targets[1].ID != s2.ID {
		t.Fatalf("targets = %+v, want the two live subscriptions by id", targets)
	}
	if !slices.Equal(targets[0].Read, []string{"XZCF", "XZXK"}) || targets[0].Disabled || !slices.Equal(targets[0].Events, delivery.Events) {
		t.Errorf("target of D1 = %+v, want its read rights, enabled", targets[0])
	}
	if len(targets[1].Read) != 0 || !targets[1].Disabled {
		t.Errorf("target of D2 = %+v, want no rights, disabled", targets[1])
	}
}

func testDispatchConcurrent(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	sub := f.subscribe("D1")
	const leaves = 60
	for range leaves {
		f.record("D1", "XZCF")
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for {
				n, err := s.Dispatch(t.Context(), 7, func(ls []delivery.Leaf, ts []delivery.Target) []delivery.Delivery {
					mu.Lock()
					for _, l := range ls {
						seen[l.Index]++
					}
					mu.Unlock()
					var out []delivery.Delivery
					for _, l := range ls {
						next := at(1)
						out = append(out, delivery.Delivery{ID: fmt.Sprintf("w%d-%029d", w, l.Index), Subscription: ts[0].ID, EventID: l.EventID,
							Type: "record.created", LeafIndex: l.Index, Status: delivery.Pending, CreatedAt: at(1), NextAt: &next})
					}
					return out
				})
				if err != nil && !errors.Is(err, errs.Unavailable) { // Unavailable: busy, try again
					errc <- err
					return
				}
				if err == nil && n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// A planner call whose transaction failed may have seen leaves again;
	// what counts is what was stored.
	ds := deliveries(t, s, sub.ID, "")
	if len(ds) != leaves {
		t.Errorf("%d deliveries for %d leaves, want one each", len(ds), leaves)
	}
	idx := map[int64]bool{}
	for _, d := range ds {
		if idx[d.LeafIndex] {
			t.Errorf("leaf %d dispatched twice", d.LeafIndex)
		}
		idx[d.LeafIndex] = true
	}
	if len(seen) != leaves {
		t.Errorf("the planners saw %d leaves, want %d", len(seen), leaves)
	}
}

// pending stores deliveries for the events of n new records, due at due.
func pending(t *testing.T, f *fixture, dept string, n int, due time.Time) {
	t.Helper()
	for range n {
		f.record(dept, "XZCF")
	}
	dispatchAll(t, f.s, everything(due, nil))
}

func testClaim(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	a := f.subscribe("D1")
	pending(t, f, "D1", 3, at(10))
	b := f.subscribe("D1")
	// b's only delivery is due later than now.
	f.record("D1", "XZCF")
	dispatchAll(t, s, func(ls []delivery.Leaf, ts []delivery.Target) []delivery.Delivery {
		var out []delivery.Delivery
		for _, d := range everything(at(50), nil)(ls, ts) {
			if d.Subscription == b.ID {
				out = append(out, d)
			}
		}
		return out
	})

	now := at(20)
	got, err := s.ClaimDue(t.Context(), now, now.Add(time.Minute), 10)
	must(t, err)
	ofA := deliveries(t, s, a.ID, "")
	if len(got) != 1 || got[0].ID != ofA[0].ID {
		t.Fatalf("ClaimDue = %+v, want only the earliest delivery of %s", got, a.ID)
	}
	if d := got[0]; d.URL != a.URL || !bytes.Equal(d.Secret, a.Secret) || d.Dept != "D1" || !d.LeaseUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("claimed %+v, want the subscription's URL, secret, department and the lease", d)
	}
	if again, err := s.ClaimDue(t.Context(), now, now.Add(time.Minute), 10); err != nil || len(again) != 0 {
		t.Errorf("ClaimDue while %s holds a lease = %+v, %v; want none", a.ID, again, err)
	}
	// A lease that ran out (its sender died) is claimed again; b's
	// delivery is due by then too.
	later := now.Add(2 * time.Minute)
	got, err = s.ClaimDue(t.Context(), later, later.Add(time.Minute), 10)
	must(t, err)
	if len(got) != 2 || got[0].ID != ofA[0].ID || got[1].Subscription != b.ID {
		t.Fatalf("ClaimDue after the lease ran out = %+v, want %s again and %s's", got, ofA[0].ID, b.ID)
	}
	must(t, s.Release(t.Context(), got[1].ID))
	// A finished attempt frees the subscription for its next delivery.
	code := 200
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: ofA[0].ID, Status: delivery.Delivered,
		Attempt: delivery.Attempt{At: later, StatusCode: &code}}))
	got, err = s.ClaimDue(t.Context(), later, later.Add(time.Minute), 10)
	must(t, err)
	if len(got) != 2 || got[0].ID != ofA[1].ID || got[1].Subscription != b.ID {
		t.Errorf("ClaimDue at %v = %+v, want %s's next and %s's", later, got, a.ID, b.ID)
	}
	// Released, a delivery is claimable at once.
	must(t, s.Release(t.Context(), got[0].ID))
	got, err = s.ClaimDue(t.Context(), later, later.Add(time.Minute), 10)
	must(t, err)
	if len(got) != 1 || got[0].ID != ofA[1].ID {
		t.Errorf("ClaimDue after Release = %+v, want %s", got, ofA[1].ID)
	}
	// The limit holds.
	must(t, s.Release(t.Context(), got[0].ID))
	if got, _ := s.ClaimDue(t.Context(), later, later.Add(time.Minute), 1); len(got) != 1 {
		t.Errorf("ClaimDue with limit 1 claimed %d", len(got))
	}
}

// testClaimPerDept: however many of a department's subscriptions have a
// delivery due, it has at most LeasedPerDept leased at once; the others'
// deliveries are claimed beside them.
func testClaimPerDept(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("HOG")
	f.dept("D2")
	for range delivery.LeasedPerDept + 2 {
		f.subscribe("HOG")
	}
	other := f.subscribe("D2")
	pending(t, f, "D2", 1, at(10))
	count := func(ds []delivery.Delivery) map[string]int {
		n := map[string]int{}
		for _, d := range ds {
			n[d.Dept]++
		}
		return n
	}
	got, err := s.ClaimDue(t.Context(), at(20), at(80), 100)
	must(t, err)
	if n := count(got); n["HOG"] != delivery.LeasedPerDept || n["D2"] != 1 {
		t.Fatalf("ClaimDue claimed %v, want %d of HOG and D2's one", n, delivery.LeasedPerDept)
	}
	// While its leases run, HOG gets no more, even with room in the limit.
	if again, err := s.ClaimDue(t.Context(), at(21), at(80), 100); err != nil || len(again) != 0 {
		t.Errorf("ClaimDue with HOG at its limit = %v, %v; want none", count(again), err)
	}
	// An attempt that ends frees one of HOG's places.
	code := 200
	var hog delivery.Delivery
	for _, d := range got {
		if d.Dept == "HOG" {
			hog = d
		}
		if d.Dept == "D2" && d.Subscription != other.ID {
			t.Errorf("D2's claim %+v is not of its subscription", d)
		}
	}
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: hog.ID, Status: delivery.Delivered,
		Attempt: delivery.Attempt{At: at(22), StatusCode: &code}}))
	got, err = s.ClaimDue(t.Context(), at(23), at(80), 100)
	must(t, err)
	if n := count(got); n["HOG"] != 1 || len(got) != 1 {
		t.Errorf("ClaimDue after one of HOG's attempts ended claimed %v, want one of HOG", n)
	}
}

func testClaimConcurrent(t *testing.T, s Store) {
	f := newFixture(t, s)
	// Three departments, each with more subscriptions than it may hold
	// leases: the claims racing must keep both the lease of a subscription
	// and the cap of a department.
	const subs = 3 * (delivery.LeasedPerDept + 2)
	for i := range subs {
		if i < 3 {
			f.dept(fmt.Sprint("D", i+1))
		}
		f.subscribe(fmt.Sprint("D", i%3+1))
	}
	pending(t, f, "D1", 2, at(10))
	var mu sync.Mutex
	claimed := map[string]int{} // delivery id -> times claimed
	perDept := map[string]int{} // department -> deliveries claimed
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				got, err := s.ClaimDue(t.Context(), at(20), at(80), 2)
				if err != nil && !errors.Is(err, errs.Unavailable) {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range got {
					claimed[d.ID]++
					perDept[d.Dept]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(claimed) != 3*delivery.LeasedPerDept {
		t.Errorf("%d deliveries claimed, want %d: each department's cap of %d", len(claimed), 3*delivery.LeasedPerDept, delivery.LeasedPerDept)
	}
	for dept, n := range perDept {
		if n > delivery.LeasedPerDept {
			t.Errorf("department %s holds %d leases, more than %d", dept, n, delivery.LeasedPerDept)
		}
	}
	for id, n := range claimed {
		if n > 1 {
			t.Errorf("delivery %s claimed %d times", id, n)
		}
	}
}

func testAttempts(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	sub := f.subscribe("D1")
	pending(t, f, "D1", 1, at(10))
	id := deliveries(t, s, sub.ID, "")[0].ID
	c500, c200 := 500, 200
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: id, Status: delivery.Pending, Retries: 1, NextAt: at(30),
		Attempt: delivery.Attempt{At: at(20), StatusCode: &c500, Error: "the receiver did not answer 2xx", DurationMS: 12}}))
	d, err := s.Delivery(t.Context(), id)
	must(t, err)
	if d.Status != delivery.Pending || d.Attempts != 1 || d.Retries != 1 || *d.LastStatus != 500 || d.LastError == "" {
		t.Errorf("after a failure: %+v", d)
	}
	wantTime(t, "next_at", d.NextAt, at(30))
	wantTime(t, "first_attempt_at", d.FirstAttemptAt, at(20))
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: id, Status: delivery.Pending, Retries: 2, NextAt: at(60),
		Attempt: delivery.Attempt{At: at(30), Error: "cannot connect: connection refused", DurationMS: 1}}))
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: id, Status: delivery.Delivered,
		Attempt: delivery.Attempt{At: at(60), StatusCode: &c200, DurationMS: 3}}))
	d, err = s.Delivery(t.Context(), id)
	must(t, err)
	if d.Status != delivery.Delivered || d.Attempts != 3 || d.Retries != 0 || *d.LastStatus != 200 || d.LastError != "" || !d.LeaseUntil.IsZero() {
		t.Errorf("after a success: %+v", d)
	}
	wantTime(t, "next_at", d.NextAt, time.Time{})
	wantTime(t, "delivered_at", d.DeliveredAt, at(60))
	wantTime(t, "first_attempt_at", d.FirstAttemptAt, at(20))
	wantTime(t, "last_attempt_at", d.LastAttemptAt, at(60))
	if len(d.Recent) != 3 {
		t.Fatalf("recent attempts = %+v, want 3", d.Recent)
	}
	r := d.Recent
	if r[0].N != 3 || *r[0].StatusCode != 200 || r[0].Error != "" || r[0].DurationMS != 3 || !r[0].At.Equal(at(60)) ||
		r[1].N != 2 || r[1].StatusCode != nil || r[1].Error != "cannot connect: connection refused" ||
		r[2].N != 1 || *r[2].StatusCode != 500 || !r[2].At.Equal(at(20)) || r[2].At.Location() != time.UTC {
		t.Errorf("recent attempts = %+v, want the three, newest first", r)
	}
	// Only the newest attempts are listed.
	for i := range delivery.RecentAttempts + 2 {
		must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: id, Status: delivery.Dead, Attempt: delivery.Attempt{At: at(100 + i), Error: "x"}}))
	}
	ds := deliveries(t, s, sub.ID, "")
	if len(ds[0].Recent) != delivery.RecentAttempts || ds[0].Recent[0].N != 3+delivery.RecentAttempts+2 || ds[0].Attempts != 3+delivery.RecentAttempts+2 {
		t.Errorf("listed with %d recent attempts (newest %d) of %d, want the %d newest", len(ds[0].Recent), ds[0].Recent[0].N, ds[0].Attempts, delivery.RecentAttempts)
	}
	wantKind(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: "no-such", Status: delivery.Dead}), errs.NotFound)
	_, err = s.Delivery(t.Context(), "no-such")
	wantKind(t, err, errs.NotFound)
}

func testRedeliver(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	sub := f.subscribe("D1")
	pending(t, f, "D1", 2, at(10))
	ds := deliveries(t, s, sub.ID, "")
	_, err := s.Redeliver(t.Context(), ds[0].ID, at(20))
	wantKind(t, err, errs.Conflict)
	_, err = s.Redeliver(t.Context(), "no-such", at(20))
	wantKind(t, err, errs.NotFound)
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: ds[0].ID, Status: delivery.Dead, Retries: 30, Attempt: delivery.Attempt{At: at(15), Error: "x"}}))
	if d, _ := s.Delivery(t.Context(), ds[0].ID); d.Round != 1 || d.RedeliveredAt != nil || d.Recent[0].Round != 1 {
		t.Errorf("before a redelivery %+v, want round 1, never redelivered", d)
	}
	d, err := s.Redeliver(t.Context(), ds[0].ID, at(40))
	must(t, err)
	if d.Status != delivery.Pending || d.Retries != 0 || d.Attempts != 1 || len(d.Recent) != 1 || d.Round != 2 || d.Recent[0].Round != 1 {
		t.Errorf("redelivered %+v, want pending in round 2 with round 1's attempt", d)
	}
	wantTime(t, "next_at", d.NextAt, at(40))
	wantTime(t, "redelivered_at", d.RedeliveredAt, at(40))
	wantTime(t, "first_attempt_at", d.FirstAttemptAt, time.Time{})
	wantTime(t, "last_attempt_at", d.LastAttemptAt, at(15))
	// A delivered one loses its delivered_at with the new round, and the
	// attempts of the next round are numbered on, in that round.
	code := 200
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: ds[1].ID, Status: delivery.Delivered, Attempt: delivery.Attempt{At: at(41), StatusCode: &code}}))
	again, err := s.Redeliver(t.Context(), ds[1].ID, at(50))
	must(t, err)
	wantTime(t, "delivered_at of a redelivery", again.DeliveredAt, time.Time{})
	if again.Round != 2 || again.LastStatus == nil || *again.LastStatus != 200 {
		t.Errorf("redelivered %+v, want round 2 with the last answer kept", again)
	}
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: ds[1].ID, Status: delivery.Delivered, Attempt: delivery.Attempt{At: at(51), StatusCode: &code}}))
	got, err := s.Delivery(t.Context(), ds[1].ID)
	must(t, err)
	wantTime(t, "delivered_at of round 2", got.DeliveredAt, at(51))
	wantTime(t, "first_attempt_at of round 2", got.FirstAttemptAt, at(51))
	if len(got.Recent) != 2 || got.Recent[0].N != 2 || got.Recent[0].Round != 2 || got.Recent[1].N != 1 || got.Recent[1].Round != 1 {
		t.Errorf("attempts %+v, want 2 in round 2 and 1 in round 1", got.Recent)
	}
	if got, _ := s.ClaimDue(t.Context(), at(40), at(100), 10); len(got) != 1 || got[0].ID != d.ID && got[0].ID != ds[1].ID {
		t.Errorf("ClaimDue after a redelivery = %+v", got)
	}
}

func testDuplicateSubscription(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	f.dept("D2")
	sub := func(id, dept, url string, events, lists, items []string) delivery.Subscription {
		return delivery.Subscription{ID: id, Dept: dept, URL: url, Events: events, Lists: lists, Items: items, Secret: []byte("sealed"), CreatedAt: at(1)}
	}
	url, ev, lists, items := "https://receiver.example/hook", []string{"record.created", "list.entry.active"}, []string{"SXBZXR"}, []string{"XZCF"}
	first, err := s.CreateSubscription(t.Context(), sub("sub-first", "D1", url, ev, lists, items), 0)
	must(t, err)
	_, err = s.CreateSubscription(t.Context(), sub("sub-again", "D1", url, ev, lists, items), 0)
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Conflict || !strings.Contains(e.Message, first.ID) || len(e.Details) != 1 || e.Details[0].Field != "url" {
		t.Errorf("an identical subscription: %v, want a conflict on url naming %s", err, first.ID)
	}
	for _, other := range []delivery.Subscription{
		sub("sub-events", "D1", url, ev[:1], lists, items),
		sub("sub-lists", "D1", url, ev, []string{}, items),
		sub("sub-items", "D1", url, ev, lists, []string{"XZCF", "XZXK"}),
		sub("sub-url", "D1", url+"/2", ev, lists, items),
		sub("sub-dept", "D2", url, ev, lists, items),
	} {
		if _, err := s.CreateSubscription(t.Context(), other, 0); err != nil {
			t.Errorf("%s differs from %s: %v", other.ID, first.ID, err)
		}
	}
	must(t, s.DeleteSubscription(t.Context(), first.ID, at(2), "deleted"))
	if _, err := s.CreateSubscription(t.Context(), sub("sub-after", "D1", url, ev, lists, items), 0); err != nil {
		t.Errorf("after the delete: %v", err)
	}
	// Identical requests at once make one subscription.
	if made := subscribeAtOnce(t, s, 4, 0, func(i int) delivery.Subscription {
		return sub(fmt.Sprintf("sub-race-%d", i), "D2", url+"/race", ev, lists, items)
	}); made != 1 {
		t.Errorf("%d identical subscriptions made at once, want 1", made)
	}
	// Requests at once go no further than the most a department may have.
	f.dept("D3")
	if made := subscribeAtOnce(t, s, 6, 3, func(i int) delivery.Subscription {
		return sub(fmt.Sprintf("sub-most-%d", i), "D3", fmt.Sprintf("%s/most/%d", url, i), ev, lists, items)
	}); made != 3 {
		t.Errorf("%d subscriptions made at once with at most 3 allowed, want 3", made)
	}
}

// subscribeAtOnce makes n subscriptions at once (the ith is sub(i)) with
// at most most allowed, and returns how many were made; every refusal
// must be a conflict (or the database busy for a moment).
func subscribeAtOnce(t *testing.T, s Store, n, most int, sub func(i int) delivery.Subscription) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	made := 0
	for i := range n {
		wg.Go(func() {
			_, err := s.CreateSubscription(t.Context(), sub(i), most)
			if err != nil && !errors.Is(err, errs.Conflict) && !errors.Is(err, errs.Unavailable) {
				t.Errorf("concurrent subscribe: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				made++
			}
		})
	}
	wg.Wait()
	return made
}

func testLogPushRead(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1", "XZCF")
	sub := f.subscribe("D1")
	r := f.record("D1", "XZCF")
	dispatchAll(t, s, everything(at(10), nil))
	d := deliveries(t, s, sub.ID, "")[0]
	log := &access.Log{Store: s, Clock: clock.NewFixed(at(20))}
	read := func(purpose string) access.Event {
		return log.Prepare(access.Event{Principal: auth.Department, Actor: "D1", SubjectKey: r.SubjectKey, Action: access.RecordRead,
			Purpose: purpose, Authority: "read rights on XZCF", Records: []string{r.ID}, Items: []string{"XZCF"}})
	}
	logged, err := s.LogPushRead(t.Context(), d.ID, read("round 1"))
	must(t, err)
	if !logged {
		t.Errorf("the first read of a round was not logged")
	}
	if logged, err := s.LogPushRead(t.Context(), d.ID, read("round 1 again")); err != nil || logged {
		t.Errorf("a second read in the same round: logged %v, %v; want not logged", logged, err)
	}
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: d.ID, Status: delivery.Dead, Attempt: delivery.Attempt{At: at(21), Error: "x"}}))
	_, err = s.Redeliver(t.Context(), d.ID, at(30))
	must(t, err)
	if logged, err := s.LogPushRead(t.Context(), d.ID, read("round 2")); err != nil || !logged {
		t.Errorf("the first read of round 2: logged %v, %v; want logged", logged, err)
	}
	events, err := s.AccessBySubject(t.Context(), r.SubjectKey, "", 10)
	must(t, err)
	var purposes []string
	for _, e := range events {
		purposes = append(purposes, e.Purpose)
		if e.LeafIndex < 0 || e.Actor != "D1" || !slices.Equal(e.Records, []string{r.ID}) {
			t.Errorf("access event %+v, want it ledgered, of D1, naming the record", e)
		}
	}
	slices.Sort(purposes)
	if !slices.Equal(purposes, []string{"round 1", "round 2"}) {
		t.Errorf("access events %v, want one a round", purposes)
	}
	_, err = s.LogPushRead(t.Context(), "no-such", read("x"))
	wantKind(t, err, errs.NotFound)
}

func testDeleteEndsPending(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	sub := f.subscribe("D1")
	pending(t, f, "D1", 2, at(10))
	ds := deliveries(t, s, sub.ID, "")
	code := 204
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: ds[0].ID, Status: delivery.Delivered, Attempt: delivery.Attempt{At: at(11), StatusCode: &code}}))
	claimed, err := s.ClaimDue(t.Context(), at(20), at(80), 10)
	must(t, err)
	must(t, s.DeleteSubscription(t.Context(), sub.ID, at(21), "the subscription was deleted"))
	if got, err := s.ClaimDue(t.Context(), at(200), at(300), 10); err != nil || len(got) != 0 {
		t.Errorf("ClaimDue after the delete = %+v, %v; want none", got, err)
	}
	ds = deliveries(t, s, sub.ID, "")
	if ds[0].Status != delivery.Delivered || ds[1].Status != delivery.Dead || ds[1].LastError != "the subscription was deleted" || ds[1].NextAt != nil {
		t.Errorf("after the delete: %+v", ds)
	}
	// An attempt in flight when the subscription went is recorded, and the
	// delivery stays dead.
	if len(claimed) == 1 {
		must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: claimed[0].ID, Status: delivery.Delivered, Attempt: delivery.Attempt{At: at(22), StatusCode: &code}}))
		if d, _ := s.Delivery(t.Context(), claimed[0].ID); d.Status != delivery.Dead || d.Attempts != 1 {
			t.Errorf("an attempt finished after the delete left %+v, want dead with the attempt", d)
		}
	}
}

func testDeliveriesPaging(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("D1")
	sub := f.subscribe("D1")
	other := f.subscribe("D1")
	pending(t, f, "D1", 5, at(10))
	all := deliveries(t, s, sub.ID, "")
	if len(all) != 5 || deliveries(t, s, other.ID, "")[0].Subscription != other.ID {
		t.Fatalf("%d deliveries of %s, want 5 and the other subscription's apart", len(all), sub.ID)
	}
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: all[1].ID, Status: delivery.Dead, Attempt: delivery.Attempt{At: at(11), Error: "x"}}))
	must(t, s.RecordAttempt(t.Context(), delivery.Outcome{Delivery: all[3].ID, Status: delivery.Dead, Attempt: delivery.Attempt{At: at(11), Error: "x"}}))
	if dead := deliveries(t, s, sub.ID, delivery.Dead); len(dead) != 2 || dead[0].ID != all[1].ID || dead[1].ID != all[3].ID {
		t.Errorf("dead deliveries = %+v, want 2nd and 4th", dead)
	}
	page, err := s.Deliveries(t.Context(), sub.ID, "", all[1].ID, 2)
	must(t, err)
	if len(page) != 2 || page[0].ID != all[2].ID || page[1].ID != all[3].ID {
		t.Errorf("the page after %s = %+v, want the 3rd and 4th", all[1].ID, page)
	}
	if ds := deliveries(t, s, "no-such", ""); len(ds) != 0 {
		t.Errorf("deliveries of an unknown subscription = %+v", ds)
	}
}

func testEntryVersion(t *testing.T, s Store) {
	f := newFixture(t, s)
	f.dept("COURT")
	r := f.record("COURT", "SXBZXR")
	e1 := f.entry(r, "SXBZXR", listing.Noticed)
	e2 := f.move(e1, listing.Active)
	f.move(e2, listing.Removed)
	for v, want := range map[int]listing.Status{1: listing.Noticed, 2: listing.Active, 3: listing.Removed} {
		got, err := s.EntryVersion(t.Context(), e1.ID, v)
		must(t, err)
		if got.Status != want || got.Version != v || got.ID != e1.ID || got.List != "SXBZXR" || got.RecordID != r.ID ||
			!bytes.Equal(got.SubjectKey, r.SubjectKey) || got.LeafIndex != int64(v) || !slices.Equal(got.Grounds, e1.Grounds) {
			t.Errorf("version %d = %+v, want status %s", v, got, want)
		}
		if (got.Removal != nil) != (want == listing.Removed) {
			t.Errorf("version %d removal = %+v", v, got.Removal)
		}
	}
	_, err := s.EntryVersion(t.Context(), e1.ID, 4)
	wantKind(t, err, errs.NotFound)
}
