package delivery

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pubcredit/internal/errs"
	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

func TestSignMatchesTheGoldenValue(t *testing.T) {
	// Computed apart from this package:
	//   printf '%s' '1767225600.{"id":...}' | openssl dgst -sha256 -hmac 'pcwh_test-secret'
	body := []byte(`{"id":"0195a3c4e2b07d3f9a1c5e7b2d4f6a80","type":"record.created"}`)
	at := time.Date(2026, 1, 1, 8, 0, 0, 999, time.FixedZone("CST", 8*3600)) // 1767225600
	got := Sign([]byte("pcwh_test-secret"), at, body)
	want := "t=1767225600,v1=40cffd7653a0d097842492a52053abf0681c83d10ae8c2e85f62b9ab32f8bcf1"
	if got != want {
		t.Errorf("Sign = %q\nwant   %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte(NewSecret()), []byte(`{"id":"x"}`)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	header := Sign(secret, now, body)
	for _, tc := range []struct {
		name   string
		header string
		body   string
		now    time.Time
		ok     bool
	}{
		{"accepts its own signature", header, string(body), now, true},
		{"accepts it a minute later", header, string(body), now.Add(time.Minute), true},
		{"accepts a second v1 that matches", strings.Replace(header, ",v1=", ",v1="+strings.Repeat("0", 64)+",v1=", 1), string(body), now, true},
		{"rejects another body", header, `{"id":"y"}`, now, false},
		{"rejects an old signature", header, string(body), now.Add(6 * time.Minute), false},
		{"rejects another time", strings.Replace(header, "t=", "t=1", 1), string(body), now, false},
		{"rejects a header without v1", "t=1", string(body), now, false},
		{"rejects garbage", "nonsense", string(body), now, false},
		{"rejects a short signature", "t=1796033600,v1=abcd", string(body), now, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.header, secret, []byte(tc.body), tc.now, 5*time.Minute)
			if (err == nil) != tc.ok {
				t.Errorf("Verify = %v, want ok %v", err, tc.ok)
			}
			if err != nil && errs.KindOf(err) != errs.Unauthenticated {
				t.Errorf("kind %v, want unauthenticated", errs.KindOf(err))
			}
		})
	}
}

func TestNewSecretIsRandomAndPrefixed(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, SecretPrefix) || len(a) != len(SecretPrefix)+43 {
		t.Errorf("secrets %q, %q: want two different %s... of 43 characters after the prefix", a, b, SecretPrefix)
	}
}

func TestBackoffDoublesFromTenSecondsToAnHour(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second,
		320 * time.Second, 640 * time.Second, 1280 * time.Second, 2560 * time.Second, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i+1, 1); got != w {
			t.Errorf("Backoff(%d, 1) = %v, want %v", i+1, got, w)
		}
	}
	if got := Backoff(1000, 1); got != time.Hour {
		t.Errorf("Backoff(1000, 1) = %v, want the cap", got)
	}
	if got := Backoff(1, 0); got != 8*time.Second {
		t.Errorf("Backoff(1, 0) = %v, want 8s (a fifth off)", got)
	}
	if got := Backoff(30, 0.5); got != 54*time.Minute {
		t.Errorf("Backoff(30, 0.5) = %v, want 54m", got)
	}
}

func TestRetriesForADayThenDead(t *testing.T) {
	first := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	d := Delivery{}
	at := first
	var schedule []time.Time
	for range 100 {
		schedule = append(schedule, at)
		status, retries, next := outcome(d, at, at, false, 1)
		if status == Dead {
			break
		}
		if status != Pending || retries != d.Retries+1 {
			t.Fatalf("after a failure at %v: %s, %d retries", at, status, retries)
		}
		d.FirstAttemptAt, d.Retries = &first, retries
		at = next
	}
	last := schedule[len(schedule)-1]
	if !last.Equal(first.Add(RetryFor)) {
		t.Errorf("the last attempt is at %v, want %v: a day after the first", last, first.Add(RetryFor))
	}
	if len(schedule) != 33 {
		t.Errorf("%d attempts in a day, want 33 (10 s doubling to an hour)", len(schedule))
	}
	if !schedule[1].Equal(first.Add(10*time.Second)) || !schedule[2].Equal(first.Add(30*time.Second)) {
		t.Errorf("the first retries are at %v, want +10s, +30s", schedule[1:3])
	}
	if status, _, _ := outcome(d, first.Add(25*time.Hour), first.Add(25*time.Hour), true, 1); status != Delivered {
		t.Errorf("a 2xx after the day: %s, want delivered", status)
	}
}

// TestRetryWaitsAfterTheAttemptEnds: a receiver that timed out after 10 s
// is retried the whole backoff after the timeout, not at once.
func TestRetryWaitsAfterTheAttemptEnds(t *testing.T) {
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	ended := at.Add(10 * time.Second)
	status, _, next := outcome(Delivery{}, at, ended, false, 1)
	if status != Pending || !next.Equal(ended.Add(FirstRetry)) {
		t.Errorf("after an attempt from %v to %v: %s, next %v; want pending, next %v", at, ended, status, next, ended.Add(FirstRetry))
	}
}

func TestEventTypes(t *testing.T) {
	for _, tc := range []struct {
		kind, change, want string
	}{
		{record.LeafKind, "created", RecordCreated},
		{record.LeafKind, "corrected", RecordCorrected},
		{record.LeafKind, "revoked", RecordRevoked},
		{listing.LeafKind, "noticed", ListEntryNoticed},
		{listing.LeafKind, "active", ListEntryActive},
		{listing.LeafKind, "removed", ListEntryRemoved},
		{"access", "", ""},
		{record.LeafKind, "erased", ""},
		{"objection", "created", ""},
	} {
		if got := TypeOf(Leaf{Kind: tc.kind, Change: tc.change}); got != tc.want {
			t.Errorf("TypeOf(%s, %s) = %q, want %q", tc.kind, tc.change, got, tc.want)
		}
	}
}

func TestPlanMatchesSubscriptions(t *testing.T) {
	now := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	created := Leaf{Index: 10, Kind: record.LeafKind, EventID: "r1:1", Change: "created", Item: "XZCF", Dept: "MKT"}
	court := Leaf{Index: 11, Kind: record.LeafKind, EventID: "r2:1", Change: "created", Item: "SXBZXR", Dept: "COURT"}
	active := Leaf{Index: 12, Kind: listing.LeafKind, EventID: "e1:1", Change: "active", List: "SXBZXR", Dept: "COURT"}
	removed := Leaf{Index: 13, Kind: listing.LeafKind, EventID: "e1:2", Change: "removed", List: "SXBZXR", Dept: "COURT"}
	other := Leaf{Index: 14, Kind: listing.LeafKind, EventID: "e2:1", Change: "noticed", List: "SCJG_YZWF", Dept: "MKT"}
	access := Leaf{Index: 15, Kind: "access", EventID: "a1"}
	leaves := []Leaf{created, court, active, removed, other, access}
	target := func(id string, events, lists, items, read []string) Target {
		return Target{Subscription: Subscription{ID: id, Events: events, Lists: lists, Items: items}, Read: read}
	}
	for _, tc := range []struct {
		name   string
		target Target
		want   []string // event ids
	}{
		{"without items, record events of the items the department may read",
			target("s", Events, nil, nil, []string{"XZCF"}), []string{"r1:1", "e1:1", "e1:2", "e2:1"}},
		{"named items, whether or not the department may read them",
			target("s", []string{RecordCreated}, nil, []string{"SXBZXR"}, []string{"XZCF"}), []string{"r2:1"}},
		{"without lists, every list",
			target("s", []string{ListEntryActive, ListEntryNoticed}, nil, nil, nil), []string{"e1:1", "e2:1"}},
		{"named lists only",
			target("s", Events, []string{"SXBZXR"}, nil, nil), []string{"e1:1", "e1:2"}},
		{"only the event types asked for",
			target("s", []string{ListEntryRemoved}, nil, nil, []string{"XZCF", "SXBZXR"}), []string{"e1:2"}},
		{"nothing to a disabled department",
			Target{Subscription: Subscription{ID: "s", Events: Events}, Read: []string{"XZCF"}, Disabled: true}, nil},
		{"nothing from before the subscription",
			Target{Subscription: Subscription{ID: "s", Events: Events, FromLeaf: 13}, Read: []string{"XZCF"}}, []string{"e1:2", "e2:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, d := range Plan(leaves, []Target{tc.target}, now) {
				got = append(got, d.EventID)
				if d.Status != Pending || d.NextAt == nil || !d.NextAt.Equal(now) || d.Subscription != "s" || d.Type == "" || len(d.ID) != 32 {
					t.Errorf("planned %+v, want pending, due now, for s", d)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("planned %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url, code, want string
	}{
		{"https://receiver.example.gov.cn/pubcredit", "", "https://receiver.example.gov.cn/pubcredit"},
		{"https://hook.example/p/11010519491231002X", "identity_number", ""},
		{"https://hook.example/p/%EF%BC%91%EF%BC%91%EF%BC%90%EF%BC%91%EF%BC%90%EF%BC%95%EF%BC%91%EF%BC%99%EF%BC%94%EF%BC%99%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%91%EF%BC%90%EF%BC%90%EF%BC%92X", "identity_number", ""},
		{"https://hook.example/h?who=110105%2019491231%20002X", "identity_number", ""},
		{"https://11010519491231002x.example.com/h", "identity_number", ""},
		{"https://hook.example/case/202605010000000001", "", "https://hook.example/case/202605010000000001"},
		{"HTTPS://receiver.example.gov.cn:8443/hook?x=1", "", "https://receiver.example.gov.cn:8443/hook?x=1"},
		{"http://127.0.0.1:8080/hook", "", "http://127.0.0.1:8080/hook"},
		{"http://[::1]:8080/hook", "", "http://[::1]:8080/hook"},
		{"http://localhost/hook", "", "http://localhost/hook"},
		{"http://receiver.example.gov.cn/hook", "https_required", ""},
		{"http://10.0.0.1/hook", "https_required", ""},
		{"ftp://receiver.example.gov.cn/hook", "scheme", ""},
		{"https://user:pw@receiver.example.gov.cn/hook", "credentials", ""},
		{"https://receiver.example.gov.cn/hook#x", "format", ""},
		{"https://receiver.example/a b", "format", ""},
		{"https://例子.中国/h", "format", ""},
		{"https://receiver.example:/h", "format", ""},
		{"https://receiver.example:0/h", "format", ""},
		{"https://receiver.example:65536/h", "format", ""},
		{"http://127.0.0.1:80/h", "", "http://127.0.0.1/h"},
		{"/hook", "format", ""},
		{"receiver.example.gov.cn/hook", "format", ""},
		{"", "required", ""},
		{"https://" + strings.Repeat("a", 2000) + ".cn", "too_long", ""},
		// The path in its normal form (RFC 3986, section 6.2.2).
		{"https://receiver.example/h%6Fok", "", "https://receiver.example/hook"},
		{"https://receiver.example/%41%7a%30%2D%2e%5F%7E", "", "https://receiver.example/Az0-._~"},
		{"https://receiver.example/a%2fb%3a%c3%a9", "", "https://receiver.example/a%2Fb%3A%C3%A9"},
		{"https://receiver.example/a%20b", "", "https://receiver.example/a%20b"},
		{"https://receiver.example/a/./b", "", "https://receiver.example/a/b"},
		{"https://receiver.example/a/x/../b", "", "https://receiver.example/a/b"},
		{"https://receiver.example/a/b/c/./../../g", "", "https://receiver.example/a/g"},
		{"https://receiver.example/a/%2E%2e/b", "", "https://receiver.example/b"},
		{"https://receiver.example/../hook", "", "https://receiver.example/hook"},
		{"https://receiver.example/a/b/..", "", "https://receiver.example/a/"},
		{"https://receiver.example/a/.", "", "https://receiver.example/a/"},
		{"https://receiver.example/..", "", "https://receiver.example/"},
		{"https://receiver.example", "", "https://receiver.example/"},
		{"https://receiver.example?x=1", "", "https://receiver.example/?x=1"},
		{"https://receiver.example:443", "", "https://receiver.example/"},
		// Not merged: a trailing slash, empty segments, dots in a name.
		{"https://receiver.example/hook/", "", "https://receiver.example/hook/"},
		{"https://receiver.example/a//b", "", "https://receiver.example/a//b"},
		{"https://receiver.example/a/.../b..", "", "https://receiver.example/a/.../b.."},
		// The query is kept as given.
		{"https://receiver.example/hook?a=%6f%2f&b=./..", "", "https://receiver.example/hook?a=%6f%2f&b=./.."},
	} {
		var pr errs.Problems
		got := checkURL(tc.url, &pr)
		code := ""
		if len(pr) > 0 {
			code = pr[0].Code
		}
		if got != tc.want || code != tc.code {
			t.Errorf("checkURL(%.40q) = %q, %q; want %q, %q", tc.url, got, code, tc.want, tc.code)
		}
	}
}

func TestSplitEventID(t *testing.T) {
	if id, v, ok := splitEventID("0195a3c4e2b07d3f9a1c5e7b2d4f6a80:12"); !ok || id != "0195a3c4e2b07d3f9a1c5e7b2d4f6a80" || v != 12 {
		t.Errorf("splitEventID = %q, %d, %v", id, v, ok)
	}
	for _, bad := range []string{"", ":1", "x", "x:", "x:0", "x:-1", "x:a"} {
		if _, _, ok := splitEventID(bad); ok {
			t.Errorf("splitEventID(%q) accepted", bad)
		}
	}
}

// TestFairCapsEachDepartment: candidates are taken in order up to the
// limit, at most LeasedPerDept of a department with those it has leased.
func TestFairCapsEachDepartment(t *testing.T) {
	var cands []Candidate
	for i := range 10 {
		cands = append(cands, Candidate{ID: fmt.Sprint("h", i), Dept: "HOG"})
	}
	cands = append(cands, Candidate{ID: "a", Dept: "A"}, Candidate{ID: "b", Dept: "B"})
	if got := Fair(cands, nil, 100); !slices.Equal(got, []string{"h0", "h1", "h2", "h3", "a", "b"}) {
		t.Errorf("Fair = %v, want HOG's first %d, then A's and B's", got, LeasedPerDept)
	}
	if got := Fair(cands, map[string]int{"HOG": LeasedPerDept - 1, "A": LeasedPerDept}, 100); !slices.Equal(got, []string{"h0", "b"}) {
		t.Errorf("Fair with leases = %v, want one of HOG's and B's", got)
	}
	if got := Fair(cands, nil, 2); !slices.Equal(got, []string{"h0", "h1"}) {
		t.Errorf("Fair with limit 2 = %v", got)
	}
}
