package delivery_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
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
		Ref: "R-" + number, Item: "XZCF", DecidedOn: "2026-11-20",
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

func TestSenderMasksAndSharesFieldsByReadRights(t *testing.T) {
	p := newPlatform(t, func(context.Context, int) (int, error) { return 200, nil })
	reader, readerSecret := p.subscribe(t, "READER", []string{"XZCF"}, delivery.Request{URL: "http://127.0.0.1:1/r", Events: []string{"record.created"}})
	blind, _ := p.subscribe(t, "BLIND", nil, delivery.Request{URL: "http://127.0.0.1:1/b", Events: []string{"record.created"}, Items: []string{"XZCF"}})
	rec := p.submit(t, number, name)
	if n := p.round(t); n != 2 {
		t.Fatalf("sent %d, want one to each subscriber", n)
	}
	for _, s := range p.poster.all() {
		if strings.Contains(string(s.body), number) || strings.Contains(string(s.body), name) {
			t.Errorf("a push carries the person in clear: %s", s.body)
		}
		var ev struct {
			ID, Type, Subscription string
			Data                   map[string]any
		}
		if err := json.Unmarshal(s.body, &ev); err != nil {
			t.Fatal(err)
		}
		subject := ev.Data["subject"].(map[string]any)
		if subject["id_number"] != "110105********002X" || subject["name"] != "张*" || ev.Data["record_id"] != rec.ID {
			t.Errorf("push %s", s.body)
		}
		_, hasFields := ev.Data["fields"]
		switch ev.Subscription {
		case reader.ID:
			if !hasFields || s.url != "http://127.0.0.1:1/r" {
				t.Errorf("the reader's push has no fields: %s", s.body)
			}
			if err := delivery.Verify(s.header[delivery.HeaderSignature], []byte(readerSecret), s.body, p.clock.Now(), time.Minute); err != nil {
				t.Errorf("the reader's push does not verify: %v", err)
			}
		case blind.ID:
			if hasFields || ev.Data["decided_on"] != nil {
				t.Errorf("the blind department's push has the record's fields: %s", s.body)
			}
		default:
			t.Errorf("a push for subscription %q", ev.Subscription)
		}
		if s.header[delivery.HeaderDelivery] != ev.ID || s.header[delivery.HeaderEvent] != "record.created" {
			t.Errorf("headers %v", s.header)
		}
	}
	// Only the push with the fields is a read of the person's data.
	events, err := p.st.AccessBySubject(t.Context(), rec.SubjectKey, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Actor != "READER" || events[0].Action != access.RecordRead || !strings.Contains(events[0].Purpose, reader.ID) {
		t.Errorf("access events %+v, want the reader's push", events)
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

func TestStoppingGivesTheDeliveryBack(t *testing.T) {
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
	if ds[0].Status != delivery.Pending || ds[0].Attempts != 0 {
		t.Errorf("after a stop mid-request: %+v, want pending without an attempt", ds[0])
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
		_, _, err := p.svc.Subscribe(t.Context(), dept, delivery.Request{URL: "https://receiver.example/x", Events: []string{"record.created"}})
		if (err == nil) != (i < 2) || (err != nil && !errors.Is(err, errs.Conflict)) {
			t.Errorf("subscription %d: %v", i+1, err)
		}
	}
}
