package delivery_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/delivery"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/record"
	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/vault"
)

// poster is a receiver in process: it answers with answer and keeps what
// it was sent.
type poster struct {
	mu     sync.Mutex
	sent   []sent
	answer func(ctx context.Context, n int) (int, error)
}

type sent struct {
	url    string
	header map[string]string
	body   []byte
}

func (p *poster) Post(ctx context.Context, url string, header map[string]string, body []byte) (int, error) {
	p.mu.Lock()
	p.sent = append(p.sent, sent{url, header, body})
	n := len(p.sent)
	p.mu.Unlock()
	return p.answer(ctx, n)
}

func (p *poster) all() []sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sent(nil), p.sent...)
}

// platform is a SQLite store with the services a Service needs.
type platform struct {
	st      *sqlite.Store
	clock   *clock.Fixed
	records *record.Service
	svc     *delivery.Service
	poster  *poster
	mkt     *auth.Principal
}

func newPlatform(t *testing.T, answer func(ctx context.Context, n int) (int, error)) *platform {
	t.Helper()
	keys, err := vault.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(catalogfs.Items())
	if err != nil {
		t.Fatal(err)
	}
	p := &platform{st: openSQLite(t), clock: clock.NewFixed(time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)), poster: &poster{answer: answer}}
	acc := &access.Log{Store: p.st, Clock: p.clock}
	p.records = &record.Service{Store: p.st, Catalog: cat, Keys: keys, Clock: p.clock, Location: time.UTC, Access: acc, Thresholds: record.DefaultThresholds}
	p.svc = &delivery.Service{Store: p.st, Records: p.records, Access: acc, Keys: keys, Clock: p.clock, Depts: p.st, Poster: p.poster,
		Items: cat.Codes, Lists: func() []string { return []string{"SXBZXR"} }, Jitter: func() float64 { return 1 }}
	for _, d := range []auth.Dept{
		{Code: "MKT", Name: "Market", Submit: []string{"XZCF"}},
		{Code: "READER", Name: "Reader", Read: []string{"XZCF"}},
		{Code: "BLIND", Name: "Blind"},
	} {
		d.CreatedAt = p.clock.Now()
		if err := p.st.CreateDept(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	p.mkt = &auth.Principal{Kind: auth.Department, ID: "MKT", Submit: []string{"XZCF"}}
	return p
}

func (p *platform) subscribe(t *testing.T, dept string, read []string, req delivery.Request) (delivery.Subscription, string) {
	t.Helper()
	sub, secret, err := p.svc.Subscribe(t.Context(), &auth.Principal{Kind: auth.Department, ID: dept, Read: read}, req)
	if err != nil {
		t.Fatal(err)
	}
	return sub, secret
}

func (p *platform) submit(t *testing.T, number, name string) record.Record {
	t.Helper()
	res, err := p.records.Submit(t.Context(), p.mkt, record.Submission{
		Ref: "R-" + identity.MaskNumber(number), Item: "XZCF", DecidedOn: "2026-11-20",
		Subject: record.Subject{IDType: "resident_id", IDNumber: number, Name: name},
		Fields:  map[string]any{"decision_no": "津市监罚〔2026〕1号", "penalty_types": []string{"fine"}, "fine_amount": 1000},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Record
}

// round dispatches and sends what is due.
func (p *platform) round(t *testing.T) int {
	t.Helper()
	if _, err := p.svc.Dispatch(t.Context()); err != nil {
		t.Fatal(err)
	}
	n, err := p.svc.SendDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const number, name = "11010519491231002X", "张三"

func TestSenderShowsThePersonAndFieldsOnlyToReaders(t *testing.T) {
	p := newPlatform(t, func(context.Context, int) (int, error) { return 200, nil })
	reader, readerSecret := p.subscribe(t, "READER", []string{"XZCF"}, delivery.Request{URL: "http://127.0.0.1:1/r", Events: []string{"record.created"}})
	blind, _ := p.subscribe(t, "BLIND", nil, delivery.Request{URL: "http://127.0.0.1:1/b", Events: []string{"record.created"}, Items: []string{"XZCF"}})
	rec := p.submit(t, number, name)
	if n := p.round(t); n != 2 {
		t.Fatalf("sent %d, want one to each subscriber", n)
	}
	for _, s := range p.poster.all() {
		var ev struct {
			ID, Type, Subscription string
			Data                   map[string]any
		}
		if err := json.Unmarshal(s.body, &ev); err != nil {
			t.Fatal(err)
		}
		subject := ev.Data["subject"].(map[string]any)
		if subject["id_type"] != "resident_id" || ev.Data["record_id"] != rec.ID {
			t.Errorf("push %s", s.body)
		}
		_, hasFields := ev.Data["fields"]
		switch ev.Subscription {
		case reader.ID:
			if !hasFields || s.url != "http://127.0.0.1:1/r" {
				t.Errorf("the reader's push has no fields: %s", s.body)
			}
			if subject["id_number"] != number || subject["name"] != name {
				t.Errorf("the reader's push names %v, want the person in clear", subject)
			}
			if err := delivery.Verify(s.header[delivery.HeaderSignature], []byte(readerSecret), s.body, p.clock.Now(), time.Minute); err != nil {
				t.Errorf("the reader's push does not verify: %v", err)
			}
		case blind.ID:
			if hasFields || ev.Data["decided_on"] != nil {
				t.Errorf("the blind department's push has the record's fields: %s", s.body)
			}
			if strings.Contains(string(s.body), number) || strings.Contains(string(s.body), name) ||
				subject["id_number"] != "110105********002X" || subject["name"] != "张*" {
				t.Errorf("the blind department's push carries the person in clear: %s", s.body)
			}
		default:
			t.Errorf("a push for subscription %q", ev.Subscription)
		}
		if s.header[delivery.HeaderDelivery] != ev.ID || s.header[delivery.HeaderEvent] != "record.created" {
			t.Errorf("headers %v", s.header)
		}
	}
	// Only the push in clear is a read of the person's data.
	events, err := p.st.AccessBySubject(t.Context(), rec.SubjectKey, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Actor != "READER" || events[0].Action != access.RecordRead || !strings.Contains(events[0].Purpose, reader.ID) ||
		events[0].Principal != auth.Department || !slices.Equal(events[0].Records, []string{rec.ID}) || !slices.Equal(events[0].Items, []string{"XZCF"}) ||
		events[0].LeafIndex < 0 {
		t.Errorf("access events %+v, want the reader's push, ledgered", events)
	}
}

func TestAPushInClearIsLoggedOnceARound(t *testing.T) {
	fail := 1 // the first attempt fails
	p := newPlatform(t, func(_ context.Context, n int) (int, error) {
		if n <= fail {
			return 500, nil
		}
		return 200, nil
	})
	owner := &auth.Principal{Kind: auth.Department, ID: "READER", Read: []string{"XZCF"}}
	sub, _ := p.subscribe(t, "READER", []string{"XZCF"}, delivery.Request{URL: "http://127.0.0.1:1/r", Events: []string{"record.created"}})
	rec := p.submit(t, number, name)
	p.round(t)
	p.clock.Advance(delivery.FirstRetry)
	if n := p.round(t); n != 1 {
		t.Fatalf("retried %d, want 1", n)
	}
	reads := func() []access.Event {
		t.Helper()
		events, err := p.st.AccessBySubject(t.Context(), rec.SubjectKey, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []access.Event
		for _, e := range events {
			if e.Actor == "READER" {
				out = append(out, e)
			}
		}
		return out
	}
	ds, err := p.svc.Deliveries(t.Context(), owner, sub.ID, "", "", 10)
	if err != nil || len(ds) != 1 || ds[0].Status != delivery.Delivered || ds[0].Attempts != 2 {
		t.Fatalf("deliveries %+v, %v; want one delivered at the second attempt", ds, err)
	}
	d := ds[0]
	if got := reads(); len(got) != 1 || !strings.Contains(got[0].Purpose, d.ID) || !strings.Contains(got[0].Purpose, sub.ID) {
		t.Errorf("after an attempt and its retry, reads %+v; want one naming the delivery and the subscription", got)
	}
	// A redelivery the department asks for is a read again, logged once too.
	if _, err := p.svc.Redeliver(t.Context(), owner, sub.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	fail = 3
	p.round(t)
	p.clock.Advance(delivery.FirstRetry)
	p.round(t)
	if got := reads(); len(got) != 2 || !strings.Contains(got[0].Purpose, "round 2") {
		t.Errorf("after a redelivery sent twice, reads %+v; want a second one, for round 2", got)
	}
	if sent := p.poster.all(); len(sent) != 4 || !strings.Contains(string(sent[3].body), number) {
		t.Errorf("%d requests, want 4 with the person in clear", len(sent))
	}
	// A department whose read rights were withdrawn gets the person masked,
	// and that is no read.
	p.svc.Depts = withoutReadRights{p.st}
	if _, err := p.svc.Redeliver(t.Context(), owner, sub.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	p.round(t)
	sent := p.poster.all()
	if last := string(sent[len(sent)-1].body); strings.Contains(last, number) || strings.Contains(last, name) || strings.Contains(last, "fields") {
		t.Errorf("a push after the rights were withdrawn: %s", last)
	}
	if got := reads(); len(got) != 2 {
		t.Errorf("reads %+v, want no more for a masked push", got)
	}
}

// withoutReadRights is a department store in which the departments have
// lost their read rights.
type withoutReadRights struct{ delivery.Depts }

func (w withoutReadRights) Dept(ctx context.Context, code string) (auth.Dept, error) {
	d, err := w.Depts.Dept(ctx, code)
	d.Read = nil
	return d, err
}

func TestRedeliveryStartsARoundAndKeepsTheHistory(t *testing.T) {
	p := newPlatform(t, func(context.Context, int) (int, error) { return 204, nil })
	owner := &auth.Principal{Kind: auth.Department, ID: "BLIND"}
	sub, _ := p.subscribe(t, "BLIND", nil, delivery.Request{URL: "http://127.0.0.1:1/b", Events: []string{"record.created"}, Items: []string{"XZCF"}})
	p.submit(t, number, name)
	p.round(t)
	ds, _ := p.svc.Deliveries(t.Context(), owner, sub.ID, "", "", 10)
	first := ds[0]
	if first.Round != 1 || first.RedeliveredAt != nil || first.DeliveredAt == nil || first.FirstAttemptAt == nil || len(first.Recent) != 1 || first.Recent[0].Round != 1 {
		t.Fatalf("delivered %+v, want round 1 delivered at its first attempt", first)
	}
	p.clock.Advance(time.Hour)
	again, err := p.svc.Redeliver(t.Context(), owner, sub.ID, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	now := p.clock.Now()
	if again.Status != delivery.Pending || again.Round != 2 || again.RedeliveredAt == nil || !again.RedeliveredAt.Equal(now) ||
		again.DeliveredAt != nil || again.FirstAttemptAt != nil || again.NextAt == nil || !again.NextAt.Equal(now) {
		t.Errorf("redelivered %+v, want pending in round 2, due and asked for now, nothing of round 2 yet", again)
	}
	if again.Attempts != 1 || len(again.Recent) != 1 || again.Recent[0].Round != 1 || again.Recent[0].StatusCode == nil ||
		*again.Recent[0].StatusCode != 204 || again.LastAttemptAt == nil || !again.LastAttemptAt.Equal(*first.LastAttemptAt) {
		t.Errorf("redelivered %+v, want round 1's attempt kept", again)
	}
	p.round(t)
	d, err := p.svc.Deliveries(t.Context(), owner, sub.ID, "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := d[0]; got.Status != delivery.Delivered || got.Round != 2 || got.DeliveredAt == nil || !got.DeliveredAt.Equal(now) ||
		len(got.Recent) != 2 || got.Recent[0].Round != 2 || got.Recent[1].Round != 1 || got.Attempts != 2 {
		t.Errorf("after round 2: %+v, want delivered now, the attempts of both rounds", got)
	}
}

func TestSenderRetriesThenDeadThenRedelivers(t *testing.T) {
	fail := true
	p := newPlatform(t, func(context.Context, int) (int, error) {
		if fail {
			return 0, errors.New("cannot connect: connection refused")
		}
		return 204, nil
	})
	sub, _ := p.subscribe(t, "READER", []string{"XZCF"}, delivery.Request{URL: "http://127.0.0.1:1/r", Events: []string{"record.created"}})
	p.submit(t, number, name)
	start := p.clock.Now()
	for p.round(t) > 0 || p.clock.Now().Sub(start) <= delivery.RetryFor {
		p.clock.Advance(time.Minute)
	}
	ds, err := p.svc.Deliveries(t.Context(), &auth.Principal{Kind: auth.Department, ID: "READER"}, sub.ID, "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	d := ds[0]
	if d.Status != delivery.Dead || d.Attempts != 33 || d.LastError != "cannot connect: connection refused" || d.LastStatus != nil {
		t.Errorf("after a day of failures: %+v, want dead after 33 attempts", d)
	}
	if last := *d.LastAttemptAt; last.Before(start.Add(delivery.RetryFor)) || last.After(start.Add(delivery.RetryFor+time.Minute)) {
		t.Errorf("the last attempt at %v, want a day after the first (%v)", last, start)
	}
	owner := &auth.Principal{Kind: auth.Department, ID: "READER"}
	if _, err := p.svc.Redeliver(t.Context(), &auth.Principal{Kind: auth.Department, ID: "BLIND"}, sub.ID, d.ID); !errors.Is(err, errs.NotFound) {
		t.Errorf("another department redelivers: %v", err)
	}
	fail = false
	if _, err := p.svc.Redeliver(t.Context(), owner, sub.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Redeliver(t.Context(), owner, sub.ID, d.ID); !errors.Is(err, errs.Conflict) {
		t.Errorf("redelivering a pending delivery: %v, want conflict", err)
	}
	if n := p.round(t); n != 1 {
		t.Errorf("sent %d after the redelivery, want 1", n)
	}
	ds, _ = p.svc.Deliveries(t.Context(), owner, sub.ID, delivery.Delivered, "", 10)
	if len(ds) != 1 || ds[0].Attempts != 34 {
		t.Errorf("delivered %+v, want the delivery after 34 attempts", ds)
	}
}

func TestStoppingRecordsTheAttemptAndGivesTheDeliveryBack(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	p := newPlatform(t, func(c context.Context, n int) (int, error) {
		if n == 1 {
			cancel() // the platform stops while the request is in flight
			<-c.Done()
			return 0, c.Err()
		}
		return 200, nil
	})
	sub, _ := p.subscribe(t, "READER", []string{"XZCF"}, delivery.Request{URL: "http://127.0.0.1:1/r", Events: []string{"record.created"}})
	p.submit(t, number, name)
	if _, err := p.svc.Dispatch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	owner := &auth.Principal{Kind: auth.Department, ID: "READER"}
	ds, _ := p.svc.Deliveries(t.Context(), owner, sub.ID, "", "", 10)
	if ds[0].Status != delivery.Pending || ds[0].Attempts != 1 || !strings.HasPrefix(ds[0].LastError, "interrupted") || ds[0].NextAt == nil {
		t.Errorf("after a stop mid-request: %+v, want pending, due, with the attempt shown as interrupted", ds[0])
	}
	// The next process sends it at once, without waiting for the lease.
	if n := p.round(t); n != 1 {
		t.Errorf("sent %d after the restart, want 1", n)
	}
}

func TestSubscribeChecksTheRequest(t *testing.T) {
	p := newPlatform(t, nil)
	dept := &auth.Principal{Kind: auth.Department, ID: "READER"}
	_, _, err := p.svc.Subscribe(t.Context(), dept, delivery.Request{URL: "http://receiver.example/x", Events: []string{"record.made"},
		Lists: []string{"NOPE"}, Items: []string{"NOPE"}})
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("Subscribe = %v, want invalid", err)
	}
	fields := map[string]string{}
	for _, d := range e.Details {
		fields[d.Field] = d.Message
	}
	if !strings.Contains(fields["events"], "list.entry.removed") || !strings.Contains(fields["lists"], "SXBZXR") ||
		!strings.Contains(fields["items"], "XZCF") || !strings.Contains(fields["url"], "https") {
		t.Errorf("the problems %v do not name the known values", fields)
	}
	if _, _, err := p.svc.Subscribe(t.Context(), &auth.Principal{Kind: auth.Auditor, ID: "a"}, delivery.Request{}); !errors.Is(err, errs.Forbidden) {
		t.Errorf("an auditor subscribes: %v", err)
	}
	p.svc.PerDept = 2
	for i := range 3 {
		_, _, err := p.svc.Subscribe(t.Context(), dept, delivery.Request{URL: fmt.Sprintf("https://receiver.example/%d", i), Events: []string{"record.created"}})
		if (err == nil) != (i < 2) || (err != nil && !errors.Is(err, errs.Conflict)) {
			t.Errorf("subscription %d: %v", i+1, err)
		}
	}
}

func TestSubscribeRefusesAnIdenticalSubscription(t *testing.T) {
	p := newPlatform(t, nil)
	reader := &auth.Principal{Kind: auth.Department, ID: "READER", Read: []string{"XZCF"}}
	req := delivery.Request{URL: "https://receiver.example/hook", Events: []string{"list.entry.active", "record.created"}, Items: []string{"XZCF"}}
	first, _, err := p.svc.Subscribe(t.Context(), reader, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  delivery.Request
	}{
		{"the same request", req},
		{"the same events in another order, repeated", delivery.Request{URL: req.URL, Events: []string{"record.created", "list.entry.active", "record.created"}, Items: []string{"XZCF"}}},
		{"the same URL with the scheme and host in capitals", delivery.Request{URL: "HTTPS://Receiver.EXAMPLE/hook", Events: req.Events, Items: req.Items}},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, _, err := p.svc.Subscribe(t.Context(), reader, tc.req)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Conflict || !strings.Contains(e.Message, first.ID) ||
				len(e.Details) != 1 || e.Details[0].Field != "url" || e.Details[0].Code != "duplicate" || !strings.Contains(e.Details[0].Message, first.ID) {
				t.Errorf("Subscribe = %#v, want a conflict on url naming %s", err, first.ID)
			}
		})
	}
	for _, tc := range []struct {
		name string
		req  delivery.Request
		dept string
	}{
		{"other events", delivery.Request{URL: req.URL, Events: []string{"record.created"}, Items: []string{"XZCF"}}, "READER"},
		{"other items", delivery.Request{URL: req.URL, Events: req.Events}, "READER"},
		{"a list filter", delivery.Request{URL: req.URL, Events: req.Events, Items: req.Items, Lists: []string{"SXBZXR"}}, "READER"},
		{"another path", delivery.Request{URL: req.URL + "2", Events: req.Events, Items: req.Items}, "READER"},
		{"another department", req, "BLIND"},
	} {
		t.Run("accepts "+tc.name, func(t *testing.T) {
			if _, _, err := p.svc.Subscribe(t.Context(), &auth.Principal{Kind: auth.Department, ID: tc.dept}, tc.req); err != nil {
				t.Errorf("Subscribe: %v", err)
			}
		})
	}
	// Once the first is deleted, the same request makes a new subscription.
	if _, err := p.svc.Unsubscribe(t.Context(), reader, first.ID); err != nil {
		t.Fatal(err)
	}
	again, _, err := p.svc.Subscribe(t.Context(), reader, req)
	if err != nil || again.ID == first.ID {
		t.Errorf("Subscribe after the delete = %+v, %v; want a new subscription", again, err)
	}
}

// TestSubscribeRefusesAnEquivalentURL: URLs that RFC 3986 (section 6.2)
// makes equivalent are one receiver; the subscription keeps and shows the
// normal form.
func TestSubscribeRefusesAnEquivalentURL(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second string
		stored        string // the first as kept
		same          bool
	}{
		{"a percent-encoded unreserved character", "https://receiver.example/h%6Fok", "https://receiver.example/hook", "https://receiver.example/hook", true},
		{"percent-encoded letters, digits, -._~", "https://receiver.example/%41%7a%30%2D%2E%5F%7E", "https://receiver.example/Az0-._~", "https://receiver.example/Az0-._~", true},
		{"hex in lower and upper case", "https://receiver.example/a%2fb", "https://receiver.example/a%2Fb", "https://receiver.example/a%2Fb", true},
		{"a . segment", "https://receiver.example/a/./b", "https://receiver.example/a/b", "https://receiver.example/a/b", true},
		{"a .. segment", "https://receiver.example/a/x/../b", "https://receiver.example/a/b", "https://receiver.example/a/b", true},
		{"percent-encoded dot segments", "https://receiver.example/a/%2e%2E/b", "https://receiver.example/b", "https://receiver.example/b", true},
		{"an empty path and /", "https://receiver.example", "https://receiver.example/", "https://receiver.example/", true},
		{"an empty path and / before a query", "https://receiver.example?k=1", "https://receiver.example/?k=1", "https://receiver.example/?k=1", true},
		{"all at once, with the host's spellings", "HTTPS://Receiver.Example.:0443/./x/../H%6f%6B/%7euser", "https://receiver.example/Hok/~user", "https://receiver.example/Hok/~user", true},
		{"a trailing slash", "https://receiver.example/hook", "https://receiver.example/hook/", "https://receiver.example/hook", false},
		{"an encoded slash and a slash", "https://receiver.example/a%2Fb", "https://receiver.example/a/b", "https://receiver.example/a%2Fb", false},
		{"an empty segment", "https://receiver.example/a//b", "https://receiver.example/a/b", "https://receiver.example/a//b", false},
		{"another case in the path", "https://receiver.example/Hook", "https://receiver.example/hook", "https://receiver.example/Hook", false},
		{"a query in another spelling", "https://receiver.example/hook?k=%6f", "https://receiver.example/hook?k=o", "https://receiver.example/hook?k=%6f", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlatform(t, nil)
			reader := &auth.Principal{Kind: auth.Department, ID: "READER"}
			events := []string{"record.created"}
			first, _, err := p.svc.Subscribe(t.Context(), reader, delivery.Request{URL: tc.first, Events: events})
			if err != nil {
				t.Fatal(err)
			}
			if first.URL != tc.stored {
				t.Errorf("the first is kept as %q, want %q", first.URL, tc.stored)
			}
			if got, err := p.svc.Get(t.Context(), reader, first.ID); err != nil || got.URL != tc.stored {
				t.Errorf("the first is shown as %q (%v), want %q", got.URL, err, tc.stored)
			}
			second, _, err := p.svc.Subscribe(t.Context(), reader, delivery.Request{URL: tc.second, Events: events})
			if !tc.same {
				if err != nil {
					t.Errorf("%s after %s: %v, want another subscription", tc.second, tc.first, err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Conflict || !strings.Contains(e.Message, first.ID) ||
				len(e.Details) != 1 || e.Details[0].Field != "url" || e.Details[0].Code != "duplicate" || !strings.Contains(e.Details[0].Message, first.ID) {
				t.Errorf("%s after %s = %+v, %#v; want a conflict on url naming %s", tc.second, tc.first, second, err, first.ID)
			}
		})
	}
}

// TestSubscribeComparesStoredURLsInTheirNormalForm: a subscription stored
// before its URL's path was normalised is the same receiver as the normal
// form.
func TestSubscribeComparesStoredURLsInTheirNormalForm(t *testing.T) {
	p := newPlatform(t, nil)
	events := []string{"record.created"}
	old, err := p.st.CreateSubscription(t.Context(), delivery.Subscription{ID: "0195a3c4e2b07d3f9a1c5e7b2d4f6a80", Dept: "READER",
		URL: "https://receiver.example/a/./h%6fok", Events: events, Lists: []string{}, Items: []string{}, Secret: []byte("sealed"), CreatedAt: p.clock.Now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.svc.Subscribe(t.Context(), &auth.Principal{Kind: auth.Department, ID: "READER"}, delivery.Request{URL: "https://receiver.example/a/hook", Events: events})
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Conflict || len(e.Details) != 1 || e.Details[0].Code != "duplicate" || !strings.Contains(e.Message, old.ID) {
		t.Errorf("Subscribe = %#v, want a conflict on url naming %s", err, old.ID)
	}
}
