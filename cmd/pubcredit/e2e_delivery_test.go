package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pubcredit/internal/config"
	"pubcredit/internal/delivery"
	"pubcredit/internal/store/postgres/pgtest"
)

// Pushes to subscribing departments (issue 4, part 6) end to end: receivers
// are httptest servers on loopback, every signature is checked here with
// crypto/hmac only, and time moves by advancing the platform's clock.

// TestDeliverySQLite runs the push suite on a fresh SQLite file.
func TestDeliverySQLite(t *testing.T) {
	t.Parallel()
	runDeliverySuite(t, "")
}

// TestDeliveryPostgres runs the push suite on a fresh PostgreSQL database.
func TestDeliveryPostgres(t *testing.T) {
	t.Parallel()
	runDeliverySuite(t, pgtest.URL(t))
}

// pushWithin is how long a test waits for a push the platform owes: the
// dispatcher and the sender each look every 200 ms.
const pushWithin = 10 * time.Second

// deliverySuite is one platform: departments that change things and
// departments that watch, sharing one clock the cases move in turn.
type deliverySuite struct {
	p   *platform
	srv *server

	mkt, court   string // tokens of the departments that make changes
	mktCode      string
	reader       string // a department with read rights on XZCF
	listReader   string // a department with read rights on SXBZXR, the item backing the list
	blind        string // a department with no read rights
	restartSub   subscriptionJSON
	restartRcv   *receiver
	restartFirst string // the record pushed before the restart
	restartWho   person
	importWho    person
}

func runDeliverySuite(t *testing.T, dbURL string) {
	spec, err := loadSpec()
	if err != nil {
		t.Errorf("answers are not validated against the API description: %v", err)
	}
	p := newPlatform(t, dbURL, spec)
	d := &deliverySuite{p: p}
	d.mktCode = p.uniq("DMKT")
	d.mkt = p.dept(t, d.mktCode, "XZCF", "")
	d.court = listOwner(t, p, p.uniq("DCOURT"), "SXBZXR")
	d.reader = p.dept(t, p.uniq("DREAD"), "", "XZCF")
	d.listReader = p.dept(t, p.uniq("DLREAD"), "", "SXBZXR")
	d.blind = p.dept(t, p.uniq("DBLIND"), "", "")
	// The receiver of the restart case outlives the first server: it fails
	// once, then answers 200.
	d.restartRcv = newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})

	t.Run("serving", func(t *testing.T) {
		d.srv = p.serve(t, nil)
		t.Run("a subscriber receives record.created and list.entry.active, signed, the person in clear only where it may read the item", d.signedPushes)
		t.Run("a department that may read a list's item is pushed its entries in clear, and that is in the access log once", d.listInClear)
		t.Run("the record of an entry in its notice period is not pushed as a record; the entry's notice is", d.noticedRecordNotPushed)
		t.Run("subscriptions are checked and belong to their department", d.validation)
		t.Run("an identical subscription is refused naming the existing one; another filter on the same URL is not", d.duplicate)
		t.Run("without read rights the person is masked and no fields are pushed; rolled-back changes push nothing", d.masked)
		t.Run("a receiver that answers 500 then 200 is retried and delivered", d.retried)
		t.Run("a receiver that closes the connection is retried", d.closedConnection)
		t.Run("after a day of failures a delivery is dead, listed with its failures, and redelivered on request", d.deadAfterADay)
		t.Run("before a restart: a delivery is pending", d.beforeRestart)
	}) // the server stops here
	// A change made from the shell while no server runs: its leaf is the
	// outbox entry the next server dispatches.
	d.importWho = newPerson()
	path := writeFile(t, "penalties.ndjson", ndjson(t, penalty(d.importWho, p.uniq("I"), "2026-11-21", nil)))
	p.mustRun(t, nil, "import", path, "--dept", d.mktCode, "--item", "XZCF")
	t.Run("serving again", func(t *testing.T) {
		d.srv = p.serve(t, nil)
		t.Run("a change made while no server ran and a pending delivery are both pushed after a restart", d.afterRestart)
		t.Run("no identity number or name is in clear in the data or the logs", (&suite{p: p}).sweep)
	})
}

// listOwner registers a department that owns a list and returns its token.
func listOwner(t *testing.T, p *platform, code, list string) string {
	t.Helper()
	token := lastLine(p.mustRun(t, nil, "dept", "add", "--code", code, "--name", "部门 "+code, "--lists", list))
	if !strings.HasPrefix(token, "pct_") {
		t.Fatalf("dept add: the last line %q is not a token", token)
	}
	return token
}

// A receiver is a department's webhook endpoint.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []pushed
	// answer decides the answer to the n-th request (from 1): an HTTP
	// status, closeConn or hang.
	answer func(n int) int
}

const (
	closeConn = -1 // close the connection without an answer
	hang      = -2 // answer nothing until the client gives up
)

// pushed is one request a receiver got.
type pushed struct {
	Header http.Header
	Body   []byte
	Event  pushJSON
}

type pushJSON struct {
	ID           string         `json:"id"`
	EventID      string         `json:"event_id"`
	Type         string         `json:"type"`
	OccurredAt   time.Time      `json:"occurred_at"`
	Subscription string         `json:"subscription"`
	Data         map[string]any `json:"data"`
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev pushJSON
		json.Unmarshal(body, &ev)
		r.mu.Lock()
		r.got = append(r.got, pushed{Header: req.Header.Clone(), Body: body, Event: ev})
		n := len(r.got)
		r.mu.Unlock()
		switch code := r.answer(n); code {
		case closeConn:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case hang:
			<-req.Context().Done()
		default:
			w.WriteHeader(code)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func always(code int) func(int) int { return func(int) int { return code } }

func (r *receiver) pushes() []pushed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// await waits until the receiver has had n requests and returns them.
func (r *receiver) await(t *testing.T, n int) []pushed {
	t.Helper()
	var got []pushed
	eventually(t, pushWithin, func() bool { got = r.pushes(); return len(got) >= n },
		func() string { return fmt.Sprintf("the receiver got %d requests, want %d", len(got), n) })
	return got
}

// eventually polls cond until it holds or within has passed.
func eventually(t *testing.T, within time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// subscriptionJSON is a subscription as the API answers it.
type subscriptionJSON struct {
	ID         string   `json:"id"`
	Department string   `json:"department"`
	URL        string   `json:"url"`
	Events     []string `json:"events"`
	Lists      []string `json:"lists"`
	Items      []string `json:"items"`
	Secret     string   `json:"secret"`
}

// deliveryJSON is a delivery as the API answers it.
type deliveryJSON struct {
	ID             string  `json:"id"`
	Subscription   string  `json:"subscription"`
	EventID        string  `json:"event_id"`
	EventType      string  `json:"event_type"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	Round          int     `json:"round"`
	RedeliveredAt  *string `json:"redelivered_at"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	FirstAttemptAt *string `json:"first_attempt_at"`
	LastAttemptAt  *string `json:"last_attempt_at"`
	DeliveredAt    *string `json:"delivered_at"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      string  `json:"last_error"`
	RecentAttempts []struct {
		N          int    `json:"n"`
		Round      int    `json:"round"`
		StatusCode *int   `json:"status_code"`
		Error      string `json:"error"`
	} `json:"recent_attempts"`
}

// subscribe makes a subscription to r and deletes it when the test ends,
// so that later cases are not pushed to it.
func (d *deliverySuite) subscribe(t *testing.T, token string, r *receiver, body map[string]any) subscriptionJSON {
	t.Helper()
	body["url"] = r.srv.URL + "/hook"
	res := d.srv.postJSON(t, token, "/api/v1/subscriptions", body).want(t, http.StatusCreated)
	var sub subscriptionJSON
	res.decode(t, &sub)
	if !strings.HasPrefix(sub.Secret, "pcwh_") || res.Header.Get("Location") != "/api/v1/subscriptions/"+sub.ID {
		t.Fatalf("subscription answered %s (Location %q), want a secret and its Location", res.Body, res.Header.Get("Location"))
	}
	t.Cleanup(func() {
		d.srv.send(t, request{method: http.MethodDelete, path: "/api/v1/subscriptions/" + sub.ID, token: token}).want(t, http.StatusOK)
	})
	return sub
}

// deliveries lists a subscription's deliveries.
func (d *deliverySuite) deliveries(t *testing.T, token, sub, query string) []deliveryJSON {
	t.Helper()
	var page struct {
		Deliveries []deliveryJSON `json:"deliveries"`
	}
	d.srv.get(t, token, "/api/v1/subscriptions/"+sub+"/deliveries"+query).want(t, http.StatusOK).decode(t, &page)
	return page.Deliveries
}

// awaitDeliveries waits until the subscription lists n deliveries for query.
func (d *deliverySuite) awaitDeliveries(t *testing.T, token, sub, query string, n int) []deliveryJSON {
	t.Helper()
	var ds []deliveryJSON
	eventually(t, pushWithin, func() bool { ds = d.deliveries(t, token, sub, query); return len(ds) == n },
		func() string { return fmt.Sprintf("deliveries%s of %s: %+v, want %d", query, sub, ds, n) })
	return ds
}

// awaitDelivery waits until the subscription has a delivery for which ok holds.
func (d *deliverySuite) awaitDelivery(t *testing.T, token, sub string, ok func(deliveryJSON) bool) deliveryJSON {
	t.Helper()
	var ds []deliveryJSON
	var found deliveryJSON
	eventually(t, pushWithin, func() bool {
		ds = d.deliveries(t, token, sub, "")
		for _, x := range ds {
			if ok(x) {
				found = x
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("deliveries of %s: %+v", sub, ds) })
	return found
}

// checkSignature checks a push's signature independently of the platform:
// t=UNIX,v1=hex(HMAC-SHA256(secret, t "." body)), with t the platform's time.
func (d *deliverySuite) checkSignature(t *testing.T, secret string, p pushed) {
	t.Helper()
	h := p.Header.Get("Pubcredit-Signature")
	ts, sig, ok := strings.Cut(h, ",v1=")
	ts, ok2 := strings.CutPrefix(ts, "t=")
	if !ok || !ok2 {
		t.Fatalf("Pubcredit-Signature %q, want t=UNIX,v1=HEX", h)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(p.Body)
	if want := hex.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("signature v1=%s, want %s over %s", sig, want, p.Body)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if now := d.p.clock.Now(); err != nil || sec > now.Unix() || sec < now.Add(-48*time.Hour).Unix() {
		t.Errorf("signature time %s, want the platform's time (about %d)", ts, now.Unix())
	}
	if p.Header.Get("Content-Type") != "application/json" || p.Header.Get("Pubcredit-Event") != p.Event.Type ||
		p.Header.Get("Pubcredit-Delivery") != p.Event.ID || len(p.Event.ID) != 32 {
		t.Errorf("headers %v for event %s %s", p.Header, p.Event.Type, p.Event.ID)
	}
}

// wantMasked checks that a push to a department that may not read its
// item carries no identity number or name in clear.
func wantMasked(t *testing.T, p pushed) {
	t.Helper()
	for _, n := range knownNumbers() {
		if bytes.Contains(p.Body, []byte(n)) {
			t.Errorf("a push carries the identity number %s in clear: %s", n, p.Body)
		}
	}
	for _, n := range knownNames() {
		if bytes.Contains(p.Body, []byte(`"`+n+`"`)) {
			t.Errorf("a push carries the name %s in clear: %s", n, p.Body)
		}
	}
}

// accessEvent is an access log event as the audit API answers it.
type accessEvent struct {
	Principal string   `json:"principal"`
	Action    string   `json:"action"`
	Purpose   string   `json:"purpose"`
	Records   []string `json:"records"`
	Items     []string `json:"items"`
}

// accessLog is who read who's data, as an auditor sees it.
func (d *deliverySuite) accessLog(t *testing.T, who person) []accessEvent {
	t.Helper()
	var log struct {
		Events []accessEvent `json:"events"`
	}
	d.srv.get(t, d.p.auditor(t, d.p.uniq("AUD")), "/api/v1/audit/access?id_number="+who.Number).want(t, http.StatusOK).decode(t, &log)
	return log.Events
}

// pushReads are the access events of pushes to subscription sub.
func pushReads(events []accessEvent, sub string) []accessEvent {
	var out []accessEvent
	for _, e := range events {
		if strings.Contains(e.Purpose, sub) {
			out = append(out, e)
		}
	}
	return out
}

// subjectOf is the person of a push, in clear or masked.
func subjectOf(p pushed) (number, name string) {
	s, _ := p.Event.Data["subject"].(map[string]any)
	number, _ = s["id_number"].(string)
	name, _ = s["name"].(string)
	return number, name
}

// enter puts who on the SXBZXR list and returns the entry's id.
func (d *deliverySuite) enter(t *testing.T, who person) string {
	t.Helper()
	res := d.srv.postJSON(t, d.court, "/api/v1/lists/SXBZXR/entries", map[string]any{
		"ref": d.p.uniq("SX"), "subject": map[string]any{"id_type": "resident_id", "id_number": who.Number, "name": who.Name},
		"decided_on": "2026-11-02", "document_no": "(2026)京0105执" + d.p.uniq("N") + "号", "grounds": "refused_with_ability",
	}).want(t, http.StatusCreated)
	var e struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	res.decode(t, &e)
	if e.Status != "active" {
		t.Fatalf("SXBZXR entry %s is %s, want active at once", e.ID, e.Status)
	}
	return e.ID
}

func (d *deliverySuite) signedPushes(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusNoContent))
	sub := d.subscribe(t, d.reader, rcv, map[string]any{"events": []string{"list.entry.active", "record.created"}})
	if sub.Department == "" || !slices.Equal(sub.Events, []string{"record.created", "list.entry.active"}) || len(sub.Items) != 0 || len(sub.Lists) != 0 {
		t.Errorf("subscription %+v", sub)
	}
	// The secret is shown once: the list and the subscription itself omit it.
	for _, path := range []string{"/api/v1/subscriptions", "/api/v1/subscriptions/" + sub.ID} {
		res := d.srv.get(t, d.reader, path).want(t, http.StatusOK)
		if bytes.Contains(res.Body, []byte(sub.Secret)) || !bytes.Contains(res.Body, []byte(sub.ID)) {
			t.Errorf("GET %s: %s; want the subscription without its secret", path, res.Body)
		}
	}

	a, b := newPerson(), newPerson()
	rec := d.srv.submit(t, d.mkt, a, penalty(a, d.p.uniq("P"), "2026-11-20", nil))
	entry := d.enter(t, b)

	got := rcv.await(t, 2)
	// Leaves are dispatched in order, so by the entry's push the SXBZXR
	// record made with it was dispatched too: it is not an item the reader
	// may read, so nothing else is owed.
	if ds := d.deliveries(t, d.reader, sub.ID, ""); len(got) != 2 || len(ds) != 2 {
		t.Fatalf("the receiver got %d pushes and %d deliveries are listed, want 2: %v", len(got), len(ds), got)
	}
	slices.SortFunc(got, func(x, y pushed) int { return strings.Compare(y.Event.Type, x.Event.Type) }) // record.* first
	created, active := got[0], got[1]
	for _, p := range got {
		d.checkSignature(t, sub.Secret, p)
		if p.Event.Subscription != sub.ID || p.Event.OccurredAt.IsZero() {
			t.Errorf("push %s: subscription %q, occurred_at %v", p.Event.Type, p.Event.Subscription, p.Event.OccurredAt)
		}
	}
	if created.Event.Type != "record.created" || created.Event.Data["record_id"] != rec.ID || created.Event.Data["item"] != "XZCF" ||
		created.Event.Data["change"] != "created" || created.Event.Data["status"] != "active" || created.Event.Data["version"] != 1.0 ||
		created.Event.Data["department"] != d.mktCode || created.Event.EventID != rec.ID+":1" {
		t.Errorf("record.created push: %s", created.Body)
	}
	// The reader may read XZCF: the person in clear.
	if n, name := subjectOf(created); n != a.Number || name != a.Name {
		t.Errorf("record.created subject %q %q, want %q %q in clear", n, name, a.Number, a.Name)
	}
	fields, _ := created.Event.Data["fields"].(map[string]any)
	if fields["decision_no"] == nil || created.Event.Data["decided_on"] != "2026-11-20" {
		t.Errorf("a department that may read XZCF gets the record's fields; got %s", created.Body)
	}
	if display, _ := created.Event.Data["display"].(map[string]any); display["from"] != "2026-11-20" {
		t.Errorf("record.created display %v", display)
	}
	if active.Event.Type != "list.entry.active" || active.Event.Data["entry_id"] != entry || active.Event.Data["list"] != "SXBZXR" ||
		active.Event.Data["status"] != "active" || active.Event.Data["record_id"] == nil || active.Event.Data["until"] != "2028-11-02" {
		t.Errorf("list.entry.active push: %s", active.Body)
	}
	// It may not read SXBZXR, the item backing the list: masked.
	if n, name := subjectOf(active); n != b.MaskedNumber() || name != b.MaskedName() {
		t.Errorf("list.entry.active subject %q %q, want masked", n, name)
	}
	wantMasked(t, active)

	// The receiver has the pushes a moment before the platform has its answers.
	ds := d.awaitDeliveries(t, d.reader, sub.ID, "?status=delivered", 2)
	for _, x := range ds {
		if x.Attempts != 1 || x.LastStatusCode == nil || *x.LastStatusCode != http.StatusNoContent || x.LastError != "" ||
			x.NextAttemptAt != nil || len(x.RecentAttempts) != 1 || !slices.ContainsFunc(got, func(p pushed) bool { return p.Event.ID == x.ID && p.Event.EventID == x.EventID }) {
			t.Errorf("delivery %+v, want delivered at the first attempt, with the pushed id and event id", x)
		}
	}
	// The push in clear is a read of a's data, in a's access log; the
	// masked push of b is none.
	if reads := pushReads(d.accessLog(t, a), sub.ID); len(reads) != 1 || reads[0].Action != "record.read" ||
		!slices.Equal(reads[0].Records, []string{rec.ID}) || !slices.Equal(reads[0].Items, []string{"XZCF"}) || !strings.Contains(reads[0].Purpose, created.Event.ID) {
		t.Errorf("a's access log shows %+v, want the push of %s once", reads, created.Event.ID)
	}
	if reads := pushReads(d.accessLog(t, b), sub.ID); len(reads) != 0 {
		t.Errorf("b's access log shows the masked push: %+v", reads)
	}
}

func (d *deliverySuite) listInClear(t *testing.T) {
	// The first attempt fails: the retry is the same read, not logged again.
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	sub := d.subscribe(t, d.listReader, rcv, map[string]any{"events": []string{"list.entry.active"}, "lists": []string{"SXBZXR"}})
	who := newPerson()
	entry := d.enter(t, who)
	d.awaitDelivery(t, d.listReader, sub.ID, func(x deliveryJSON) bool { return x.Attempts == 1 })
	d.p.clock.Advance(11 * time.Second)
	ok := d.awaitDelivery(t, d.listReader, sub.ID, func(x deliveryJSON) bool { return x.Status == "delivered" })
	got := rcv.pushes()
	if len(got) != 2 || ok.Attempts != 2 {
		t.Fatalf("%d pushes, delivery %+v; want the entry twice", len(got), ok)
	}
	for _, p := range got {
		d.checkSignature(t, sub.Secret, p)
		if p.Event.Data["entry_id"] != entry {
			t.Errorf("push %s, want entry %s", p.Body, entry)
		}
		s, _ := p.Event.Data["subject"].(map[string]any)
		if s["id_type"] != "resident_id" || s["id_number"] != who.Number || s["name"] != who.Name {
			t.Errorf("list.entry.active subject %v, want %s %s in clear", s, who.Number, who.Name)
		}
	}
	reads := pushReads(d.accessLog(t, who), sub.ID)
	if len(reads) != 1 || reads[0].Action != "record.read" || !slices.Equal(reads[0].Items, []string{"SXBZXR"}) ||
		len(reads[0].Records) != 1 || reads[0].Records[0] != got[0].Event.Data["record_id"] || !strings.Contains(reads[0].Purpose, ok.ID) {
		t.Errorf("the access log shows %+v, want the push of delivery %s once, naming SXBZXR and the entry's record", reads, ok.ID)
	}
}

func (d *deliverySuite) noticedRecordNotPushed(t *testing.T) {
	market := listOwner(t, d.p, d.p.uniq("DSCJG"), "SCJG_YZWF")
	reader := d.p.dept(t, d.p.uniq("DNREAD"), "", "SCJG_YZWF")
	rcv := newReceiver(t, always(http.StatusOK))
	sub := d.subscribe(t, reader, rcv, map[string]any{"events": []string{"record.created", "list.entry.noticed"},
		"items": []string{"SCJG_YZWF"}, "lists": []string{"SCJG_YZWF"}})
	var e struct {
		ID       string `json:"id"`
		RecordID string `json:"record_id"`
		Status   string `json:"status"`
	}
	d.srv.postJSON(t, market, "/api/v1/lists/SCJG_YZWF/entries", violationEntry(newPerson(), d.p.uniq("NT"), "2026-11-02")).want(t, http.StatusCreated).decode(t, &e)
	if e.Status != "noticed" {
		t.Fatalf("SCJG_YZWF entry %s is %s, want noticed", e.ID, e.Status)
	}
	// The entry's leaf follows its record's: once the notice is delivered,
	// the record's leaf was dispatched too.
	d.awaitDelivery(t, reader, sub.ID, func(x deliveryJSON) bool { return x.EventType == "list.entry.noticed" && x.Status == "delivered" })
	for _, x := range d.deliveries(t, reader, sub.ID, "") {
		if x.EventType == "record.created" {
			t.Errorf("the record %s of a noticed entry was pushed: %+v", e.RecordID, x)
		}
	}
	for _, p := range rcv.pushes() {
		if p.Event.Type == "record.created" {
			t.Errorf("the receiver got record.created for a noticed entry's record: %s", p.Body)
		}
	}
}

func (d *deliverySuite) duplicate(t *testing.T) {
	hook := "https://receiver.example.gov.cn/hook"
	body := map[string]any{"url": hook, "events": []string{"list.entry.active", "record.created"}, "items": []string{"XZCF"}}
	var first subscriptionJSON
	d.srv.postJSON(t, d.reader, "/api/v1/subscriptions", body).want(t, http.StatusCreated).decode(t, &first)
	t.Cleanup(func() {
		d.srv.send(t, request{method: http.MethodDelete, path: "/api/v1/subscriptions/" + first.ID, token: d.reader}).want(t, http.StatusOK)
	})
	e := d.srv.postJSON(t, d.reader, "/api/v1/subscriptions", map[string]any{"url": "HTTPS://Receiver.Example.GOV.CN/hook",
		"events": []string{"record.created", "list.entry.active"}, "items": []string{"XZCF"}}).wantError(t, http.StatusConflict, "url")
	if s := string(mustJSON(t, e)); !strings.Contains(s, first.ID) {
		t.Errorf("the refusal of a duplicate does not name %s: %s", first.ID, s)
	}
	// So are other spellings of the receiver: the default port, zeros
	// before a port, a trailing dot.
	for _, same := range []string{"https://receiver.example.gov.cn:443/hook", "https://receiver.example.gov.cn:0443/hook", "https://receiver.example.gov.cn./hook"} {
		d.srv.postJSON(t, d.reader, "/api/v1/subscriptions", map[string]any{"url": same,
			"events": []string{"record.created", "list.entry.active"}, "items": []string{"XZCF"}}).wantError(t, http.StatusConflict, "url")
	}
	// And other spellings of the path (RFC 3986, section 6.2.2): percent-
	// encoded unreserved characters, hex in either case, dot segments, an
	// empty path. The subscription keeps and shows the normal form; a
	// trailing slash is another resource.
	for _, tc := range []struct {
		name                  string
		first, stored, second string
		same                  bool
	}{
		{"percent-encoded letters and dot segments", "https://receiver.example.gov.cn/h%6Fok/a/./b", "https://receiver.example.gov.cn/hook/a/b", "https://receiver.example.gov.cn/hook/a/x/../b", true},
		{"hex in lower and upper case", "https://receiver.example.gov.cn/a%2fb", "https://receiver.example.gov.cn/a%2Fb", "https://receiver.example.gov.cn/a%2Fb", true},
		{"an empty path and /", "https://receiver.example.gov.cn", "https://receiver.example.gov.cn/", "https://receiver.example.gov.cn/", true},
		{"a trailing slash", "https://receiver.example.gov.cn/hook2", "https://receiver.example.gov.cn/hook2", "https://receiver.example.gov.cn/hook2/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := func(url string) map[string]any {
				return map[string]any{"url": url, "events": []string{"record.created"}, "items": []string{"XZCF"}}
			}
			subscribe := func(url string) subscriptionJSON {
				var sub subscriptionJSON
				d.srv.postJSON(t, d.reader, "/api/v1/subscriptions", body(url)).want(t, http.StatusCreated).decode(t, &sub)
				t.Cleanup(func() {
					d.srv.send(t, request{method: http.MethodDelete, path: "/api/v1/subscriptions/" + sub.ID, token: d.reader}).want(t, http.StatusOK)
				})
				return sub
			}
			first := subscribe(tc.first)
			var shown subscriptionJSON
			d.srv.get(t, d.reader, "/api/v1/subscriptions/"+first.ID).want(t, http.StatusOK).decode(t, &shown)
			if first.URL != tc.stored || shown.URL != tc.stored {
				t.Errorf("%s is answered as %q and shown as %q, want %q", tc.first, first.URL, shown.URL, tc.stored)
			}
			if !tc.same {
				subscribe(tc.second)
				return
			}
			e := d.srv.postJSON(t, d.reader, "/api/v1/subscriptions", body(tc.second)).wantError(t, http.StatusConflict, "url")
			if !e.hasDetail("url", "duplicate") || !strings.Contains(e.Error.Message, first.ID) || !strings.Contains(e.Error.Details[0].Message, first.ID) {
				t.Errorf("the refusal of %s after %s does not name %s on url (duplicate): %+v", tc.second, tc.first, first.ID, e)
			}
		})
	}
	// Another filter on the same URL is another subscription.
	var other subscriptionJSON
	d.srv.postJSON(t, d.reader, "/api/v1/subscriptions", map[string]any{"url": hook, "events": []string{"record.created"}}).
		want(t, http.StatusCreated).decode(t, &other)
	d.srv.send(t, request{method: http.MethodDelete, path: "/api/v1/subscriptions/" + other.ID, token: d.reader}).want(t, http.StatusOK)
}

func (d *deliverySuite) validation(t *testing.T) {
	srv := d.srv
	post := func(token string, body map[string]any) response {
		return srv.postJSON(t, token, "/api/v1/subscriptions", body)
	}
	hook := "http://127.0.0.1:9/hook"
	e := post(d.reader, map[string]any{"url": hook, "events": []string{"record.created", "record.exploded"}}).wantError(t, http.StatusUnprocessableEntity, "events")
	for _, known := range []string{"record.created", "record.corrected", "record.revoked", "list.entry.noticed", "list.entry.active", "list.entry.removed"} {
		if !strings.Contains(string(mustJSON(t, e)), known) {
			t.Errorf("the refusal of an unknown event does not name %s: %+v", known, e)
		}
	}
	e = post(d.reader, map[string]any{"url": "http://receiver.example.gov.cn/hook", "events": []string{"record.created"},
		"lists": []string{"NOPE"}, "items": []string{"NOPE"}}).wantError(t, http.StatusUnprocessableEntity, "url", "lists", "items")
	if s := string(mustJSON(t, e)); !strings.Contains(s, "SXBZXR") || !strings.Contains(s, "XZCF") || !strings.Contains(s, "https") {
		t.Errorf("the refusal does not name the known lists and items and https: %s", s)
	}
	post(d.reader, map[string]any{"url": "/relative", "events": []string{"record.created"}}).wantError(t, http.StatusUnprocessableEntity, "url")
	for _, bad := range []string{"http://127.0.0.1:/x", "https://counter.example/ho ok", "https://counter.example:0/x", "https://counter.example:99999/x", "https://例子.测试/x", "https://counter.example/\x7f"} {
		post(d.reader, map[string]any{"url": bad, "events": []string{"record.created"}}).wantError(t, http.StatusUnprocessableEntity, "url")
	}
	post(d.reader, map[string]any{"events": []string{}}).wantError(t, http.StatusUnprocessableEntity, "url", "events")
	post(d.reader, map[string]any{"url": hook, "events": []string{"record.created"}, "secret": "mine"}).wantError(t, http.StatusUnprocessableEntity, "secret")
	post(d.p.auditor(t, d.p.uniq("AUD")), map[string]any{"url": hook, "events": []string{"record.created"}}).wantError(t, http.StatusForbidden)
	post("", map[string]any{"url": hook, "events": []string{"record.created"}}).wantError(t, http.StatusUnauthorized)

	res := post(d.reader, map[string]any{"url": hook, "events": []string{"record.created"}, "items": []string{"XZCF", "XZCF"}}).want(t, http.StatusCreated)
	var sub subscriptionJSON
	res.decode(t, &sub)
	if !slices.Equal(sub.Items, []string{"XZCF"}) {
		t.Errorf("items %v, want [XZCF] once", sub.Items)
	}
	// Another department may not see, list or end it.
	for _, path := range []string{"/api/v1/subscriptions/" + sub.ID, "/api/v1/subscriptions/" + sub.ID + "/deliveries"} {
		srv.get(t, d.blind, path).wantError(t, http.StatusNotFound)
	}
	srv.send(t, request{method: http.MethodDelete, path: "/api/v1/subscriptions/" + sub.ID, token: d.blind}).wantError(t, http.StatusNotFound)
	srv.send(t, request{method: http.MethodPost, path: "/api/v1/subscriptions/" + sub.ID + "/deliveries/" + strings.Repeat("0", 32) + "/redeliver", token: d.reader}).wantError(t, http.StatusNotFound)
	srv.get(t, d.reader, "/api/v1/subscriptions/"+sub.ID+"/deliveries?status=lost&after=%00").wantError(t, http.StatusUnprocessableEntity, "status", "after")
	for _, bad := range []string{"%00", "%FF", strings.Repeat("x", 300)} {
		srv.get(t, d.reader, "/api/v1/subscriptions/"+bad).wantError(t, http.StatusNotFound)
		srv.send(t, request{method: http.MethodPost, path: "/api/v1/subscriptions/" + sub.ID + "/deliveries/" + bad + "/redeliver", token: d.reader}).wantError(t, http.StatusNotFound)
	}
	srv.send(t, request{method: http.MethodDelete, path: "/api/v1/subscriptions/" + sub.ID, token: d.reader}).want(t, http.StatusOK)
	srv.get(t, d.reader, "/api/v1/subscriptions/"+sub.ID).wantError(t, http.StatusNotFound)
	var list struct {
		Subscriptions []subscriptionJSON `json:"subscriptions"`
	}
	srv.get(t, d.reader, "/api/v1/subscriptions").want(t, http.StatusOK).decode(t, &list)
	if slices.ContainsFunc(list.Subscriptions, func(s subscriptionJSON) bool { return s.ID == sub.ID }) {
		t.Errorf("a deleted subscription is still listed")
	}
}

func (d *deliverySuite) masked(t *testing.T) {
	rcv := newReceiver(t, always(http.StatusOK))
	sub := d.subscribe(t, d.blind, rcv, map[string]any{"events": []string{"record.created"}, "items": []string{"XZCF"}})

	a, rejected, b := newPerson(), newPerson(), newPerson()
	ref := d.p.uniq("M")
	d.srv.submit(t, d.mkt, a, penalty(a, ref, "2026-11-20", nil))
	// Refused changes: invalid (422) and a ref reused with other content (409).
	d.srv.postJSON(t, d.mkt, "/api/v1/records", penalty(rejected, d.p.uniq("M"), "2027-01-01", nil)).wantError(t, http.StatusUnprocessableEntity)
	d.srv.postJSON(t, d.mkt, "/api/v1/records", penalty(rejected, ref, "2026-11-20", nil)).wantError(t, http.StatusConflict)
	last := d.srv.submit(t, d.mkt, b, penalty(b, d.p.uniq("M"), "2026-11-21", nil))

	// Leaves are dispatched in order: once b's push is in, nothing else is owed.
	eventually(t, pushWithin, func() bool {
		return slices.ContainsFunc(rcv.pushes(), func(p pushed) bool { return p.Event.Data["record_id"] == last.ID })
	}, func() string { return fmt.Sprintf("no push of %s: %d pushes", last.ID, len(rcv.pushes())) })
	got := rcv.pushes()
	if len(got) != 2 {
		t.Fatalf("%d pushes, want a's and b's only: %v", len(got), got)
	}
	for i, who := range []person{a, b} {
		p := got[i]
		d.checkSignature(t, sub.Secret, p)
		wantMasked(t, p)
		if n, name := subjectOf(p); n != who.MaskedNumber() || name != who.MaskedName() {
			t.Errorf("push %d subject %q %q, want masked %q %q", i, n, name, who.MaskedNumber(), who.MaskedName())
		}
		for _, key := range []string{"fields", "decided_on", "severity", "revocation"} {
			if _, ok := p.Event.Data[key]; ok {
				t.Errorf("a department without read rights on XZCF got %q: %s", key, p.Body)
			}
		}
		if bytes.Contains(p.Body, []byte(rejected.MaskedNumber())) {
			t.Errorf("a refused change was pushed: %s", p.Body)
		}
	}
	if ds := d.deliveries(t, d.blind, sub.ID, ""); len(ds) != 2 {
		t.Errorf("%d deliveries, want 2", len(ds))
	}
}

func (d *deliverySuite) retried(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	sub := d.subscribe(t, d.reader, rcv, map[string]any{"events": []string{"record.created"}})
	who := newPerson()
	d.srv.submit(t, d.mkt, who, penalty(who, d.p.uniq("R"), "2026-11-20", nil))
	failed := d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Attempts == 1 })
	if failed.Status != "pending" || failed.LastStatusCode == nil || *failed.LastStatusCode != 500 || failed.LastError == "" || failed.NextAttemptAt == nil {
		t.Fatalf("after a 500: %+v, want pending with the failure and a next attempt", failed)
	}
	if next, _ := time.Parse(time.RFC3339Nano, *failed.NextAttemptAt); next.Sub(d.p.clock.Now()) > 10*time.Second || next.Sub(d.p.clock.Now()) < 8*time.Second {
		t.Errorf("next attempt at %s, want about 10 s after %v", *failed.NextAttemptAt, d.p.clock.Now())
	}
	d.p.clock.Advance(11 * time.Second)
	ok := d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Status == "delivered" })
	got := rcv.pushes()
	if ok.Attempts != 2 || len(got) != 2 || got[0].Event.ID != got[1].Event.ID || got[0].Event.ID != ok.ID || !bytes.Equal(got[0].Body, got[1].Body) {
		t.Errorf("delivered %+v after %d requests; want the same event twice", ok, len(got))
	}
	for _, p := range got {
		d.checkSignature(t, sub.Secret, p)
	}
	if len(ok.RecentAttempts) != 2 || *ok.RecentAttempts[0].StatusCode != 200 || *ok.RecentAttempts[1].StatusCode != 500 {
		t.Errorf("attempts %+v, want 200 after 500", ok.RecentAttempts)
	}
}

func (d *deliverySuite) closedConnection(t *testing.T) {
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return closeConn
		}
		return http.StatusAccepted
	})
	sub := d.subscribe(t, d.reader, rcv, map[string]any{"events": []string{"record.created"}})
	who := newPerson()
	d.srv.submit(t, d.mkt, who, penalty(who, d.p.uniq("C"), "2026-11-20", nil))
	failed := d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Attempts == 1 })
	if failed.Status != "pending" || failed.LastStatusCode != nil || failed.LastError == "" {
		t.Fatalf("after a closed connection: %+v, want pending, no status, an error", failed)
	}
	d.p.clock.Advance(11 * time.Second)
	d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Status == "delivered" && x.Attempts == 2 })
}

func (d *deliverySuite) deadAfterADay(t *testing.T) {
	var mu sync.Mutex
	code := http.StatusServiceUnavailable
	rcv := newReceiver(t, func(int) int { mu.Lock(); defer mu.Unlock(); return code })
	sub := d.subscribe(t, d.reader, rcv, map[string]any{"events": []string{"record.created"}, "items": []string{"XZCF"}})
	who := newPerson()
	d.srv.submit(t, d.mkt, who, penalty(who, d.p.uniq("D"), "2026-11-20", nil))
	d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Attempts == 1 })

	d.p.clock.Advance(RetryDay + time.Second)
	dead := d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Status == "dead" })
	if dead.Attempts != 2 || dead.NextAttemptAt != nil || dead.LastStatusCode == nil || *dead.LastStatusCode != 503 || dead.LastError == "" ||
		len(dead.RecentAttempts) != 2 || dead.RecentAttempts[1].StatusCode == nil || *dead.RecentAttempts[1].StatusCode != 503 {
		t.Errorf("dead delivery %+v, want its two failures", dead)
	}
	if ds := d.deliveries(t, d.reader, sub.ID, "?status=dead"); len(ds) != 1 || ds[0].ID != dead.ID {
		t.Errorf("?status=dead lists %+v", ds)
	}
	if ds := d.deliveries(t, d.reader, sub.ID, "?status=pending"); len(ds) != 0 {
		t.Errorf("?status=pending lists %+v", ds)
	}

	mu.Lock()
	code = http.StatusOK
	mu.Unlock()
	res := d.srv.send(t, request{method: http.MethodPost, path: "/api/v1/subscriptions/" + sub.ID + "/deliveries/" + dead.ID + "/redeliver", token: d.reader}).want(t, http.StatusOK)
	var again deliveryJSON
	res.decode(t, &again)
	if again.ID != dead.ID || again.Status != "pending" && again.Status != "delivered" {
		t.Errorf("redeliver answered %+v", again)
	}
	// The answer is the new round, the earlier one's attempts kept.
	if again.Status == "pending" && (again.Round != 2 || again.RedeliveredAt == nil || again.FirstAttemptAt != nil || again.DeliveredAt != nil ||
		again.Attempts != 2 || len(again.RecentAttempts) != 2 || again.RecentAttempts[0].Round != 1 || again.LastAttemptAt == nil) {
		t.Errorf("redeliver answered %+v, want pending in round 2, asked for now, nothing of round 2 yet, round 1's attempts", again)
	}
	ok := d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Status == "delivered" })
	got := rcv.pushes()
	if ok.Attempts != 3 || len(got) != 3 || got[2].Event.ID != dead.ID {
		t.Errorf("after the redelivery %+v, %d requests; want the same delivery a third time", ok, len(got))
	}
	if ok.Round != 2 || ok.DeliveredAt == nil || ok.FirstAttemptAt == nil || len(ok.RecentAttempts) != 3 ||
		ok.RecentAttempts[0].Round != 2 || ok.RecentAttempts[1].Round != 1 || ok.RecentAttempts[2].Round != 1 {
		t.Errorf("after the redelivery %+v, want round 2 delivered, the attempts of both rounds", ok)
	}
	d.checkSignature(t, sub.Secret, got[2])
}

// RetryDay is how long a delivery is retried.
const RetryDay = 24 * time.Hour

func (d *deliverySuite) beforeRestart(t *testing.T) {
	res := d.srv.postJSON(t, d.reader, "/api/v1/subscriptions", map[string]any{"url": d.restartRcv.srv.URL, "events": []string{"record.created"}}).want(t, http.StatusCreated)
	res.decode(t, &d.restartSub)
	d.restartWho = newPerson()
	d.restartFirst = d.srv.submit(t, d.mkt, d.restartWho, penalty(d.restartWho, d.p.uniq("B"), "2026-11-20", nil)).ID
	d.awaitDelivery(t, d.reader, d.restartSub.ID, func(x deliveryJSON) bool { return x.Attempts == 1 && x.Status == "pending" })
}

func (d *deliverySuite) afterRestart(t *testing.T) {
	if d.restartSub.ID == "" {
		t.Skip("the case before the restart did not run")
	}
	// The change imported while no server ran is dispatched from the
	// stored cursor; the pending delivery is retried once due.
	d.p.clock.Advance(11 * time.Second) // the pending delivery's next attempt is due
	var got []pushed
	eventually(t, pushWithin, func() bool {
		got = d.restartRcv.pushes()
		ids := map[string]bool{}
		for _, p := range got[min(1, len(got)):] {
			ids[fmt.Sprint(p.Event.Data["record_id"])] = true
		}
		return ids[d.restartFirst] && len(ids) == 2
	}, func() string { return fmt.Sprintf("%d pushes after the restart", len(got)) })
	for _, p := range got {
		d.checkSignature(t, d.restartSub.Secret, p)
	}
	var imported pushed
	for _, p := range got {
		if p.Event.Data["record_id"] != d.restartFirst {
			imported = p
		}
	}
	// The subscriber may read XZCF: the person in clear.
	if n, _ := subjectOf(imported); n != d.importWho.Number {
		t.Errorf("the imported record's push names %q, want %q", n, d.importWho.Number)
	}
	d.awaitDeliveries(t, d.reader, d.restartSub.ID, "?status=delivered", 2)
	d.srv.send(t, request{method: http.MethodDelete, path: "/api/v1/subscriptions/" + d.restartSub.ID, token: d.reader}).want(t, http.StatusOK)
}

// hangingOnce is a SQLite platform of its own with a department that
// submits XZCF and one that reads it, and a receiver that hangs on its
// first push and answers 200 to the others.
func hangingOnce(t *testing.T) (*deliverySuite, *receiver) {
	spec, _ := loadSpec()
	p := newPlatform(t, "", spec)
	d := &deliverySuite{p: p}
	d.mktCode = p.uniq("HMKT")
	d.mkt = p.dept(t, d.mktCode, "XZCF", "")
	d.reader = p.dept(t, p.uniq("HREAD"), "", "XZCF")
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return hang
		}
		return http.StatusOK
	})
	return d, rcv
}

// TestDeliveryTimeout: a receiver that does not answer within the
// platform's 10 seconds is retried. It waits out the timeout once, so it
// runs on SQLite only, beside the other tests.
func TestDeliveryTimeout(t *testing.T) {
	t.Parallel()
	d, rcv := hangingOnce(t)
	p := d.p
	d.srv = p.serve(t, nil)
	sub := d.subscribe(t, d.reader, rcv, map[string]any{"events": []string{"record.created"}})
	who := newPerson()
	d.srv.submit(t, d.mkt, who, penalty(who, p.uniq("T"), "2026-11-20", nil))
	var failed deliveryJSON
	eventually(t, 20*time.Second, func() bool {
		ds := d.deliveries(t, d.reader, sub.ID, "")
		if len(ds) == 1 && ds[0].Attempts == 1 {
			failed = ds[0]
			return true
		}
		return false
	}, func() string { return "no timed-out attempt" })
	if failed.Status != "pending" || failed.LastStatusCode != nil || !strings.Contains(failed.LastError, "10s") {
		t.Fatalf("after a timeout: %+v, want pending with the timeout named", failed)
	}
	// Collection went on while the receiver hung (the submit above
	// answered at once); now the retry is due.
	p.clock.Advance(11 * time.Second)
	d.awaitDelivery(t, d.reader, sub.ID, func(x deliveryJSON) bool { return x.Status == "delivered" && x.Attempts == 2 })
}

// TestDeliveryInterruptedByAStop: SIGTERM to the real `pubcredit serve`
// while a push is in flight. serve waits for its background jobs before it
// returns, so when the process is gone the cut-off attempt is in the
// database: recorded as interrupted, its lease ended, due at once; and the
// next server sends it again without waiting out the lease (a minute).
// In process the sender's goroutine outlives serve and records the attempt
// all the same, so only a process that exits shows the wait.
func TestDeliveryInterruptedByAStop(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t, t.TempDir())
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		interruptedByAStop(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "pubcredit.db"))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		interruptedByAStop(t, bin, pgtest.URL(t))
	})
}

func interruptedByAStop(t *testing.T, bin, db string) {
	common := []string{"--db", db, "--keys", filepath.Join(t.TempDir(), "keys.json")}
	runBinary(t, bin, append([]string{"migrate"}, common...)...)
	mkt := lastLine(runBinary(t, bin, append([]string{"dept", "add", "--code", "STOPMKT", "--name", "停止测试局", "--submit", "XZCF"}, common...)...))
	// Several pushes in flight at once, as many as the sender takes of each
	// department: without the wait, a process that exits at once may
	// record one of them in time now and then, hardly all of them.
	const depts = 6
	const inFlight = depts * delivery.LeasedPerDept
	// The receiver hangs on the first pushes until the platform gives up,
	// and answers 200 to the others.
	rcv := newReceiver(t, func(n int) int {
		if n <= inFlight {
			return hang
		}
		return http.StatusOK
	})

	base, proc := startBinary(t, bin, common)
	type subscribed struct{ token, id string }
	var subs []subscribed
	for d := range depts {
		reader := lastLine(runBinary(t, bin, append([]string{"dept", "add", "--code", fmt.Sprintf("STOPREAD%d", d), "--name", "停止读取局", "--read", "XZCF"}, common...)...))
		for n := range delivery.LeasedPerDept {
			res := crashDo(t, http.MethodPost, base+"/api/v1/subscriptions", reader, "application/json",
				mustJSON(t, map[string]any{"url": fmt.Sprintf("%s/hook%d", rcv.srv.URL, n), "events": []string{"record.created"}}))
			var sub subscriptionJSON
			if res.status != http.StatusCreated || json.Unmarshal(res.body, &sub) != nil {
				t.Fatalf("POST subscription: %d %s", res.status, res.body)
			}
			subs = append(subs, subscribed{reader, sub.ID})
		}
	}
	// Real time: the decision date must not be in the future.
	who := newPerson()
	if res := crashDo(t, http.MethodPost, base+"/api/v1/records", mkt, "application/json", mustJSON(t, penalty(who, "STOP-1", "2024-03-15", nil))); res.status != http.StatusCreated {
		t.Fatalf("POST record: %d %s", res.status, res.body)
	}
	var ids []string
	for _, p := range rcv.await(t, inFlight) {
		ids = append(ids, p.Header.Get("Pubcredit-Delivery"))
	}

	// The pushes are in flight: stop the server as an operator (or systemd) does.
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(40 * time.Second):
		proc.Process.Kill()
		<-exited
		t.Fatal("serve did not exit within 40s of SIGTERM")
	}

	// The process is gone: what it recorded is all there is.
	func() {
		st, closeStore, err := openStore(t.Context(), config.Config{DB: db})
		if err != nil {
			t.Fatal(err)
		}
		defer closeStore()
		now := time.Now()
		for _, id := range ids {
			d, err := st.Delivery(t.Context(), id)
			if err != nil {
				t.Fatalf("delivery %s, pushed before the stop: %v", id, err)
			}
			if d.Status != delivery.Pending || d.Attempts != 1 || !strings.HasPrefix(d.LastError, "interrupted") {
				t.Errorf("after SIGTERM delivery %s is %s after %d attempts, last error %q; want pending after 1 attempt, recorded as interrupted",
					id, d.Status, d.Attempts, d.LastError)
			}
			if d.NextAt == nil || d.NextAt.After(now) || d.LeaseUntil.After(now) {
				t.Errorf("after SIGTERM delivery %s is due at %v, leased until %v; want due now (%v), no lease", id, d.NextAt, d.LeaseUntil, now)
			}
		}
	}()

	// The next server sends them at once: well within the lease's minute.
	base, _ = startBinary(t, bin, common)
	var again []string
	for _, p := range rcv.await(t, 2*inFlight)[inFlight:] {
		again = append(again, p.Header.Get("Pubcredit-Delivery"))
	}
	slices.Sort(ids)
	slices.Sort(again)
	if !slices.Equal(again, ids) {
		t.Errorf("the next server pushed deliveries %q, want %q again", again, ids)
	}
	for _, sub := range subs {
		var x deliveryJSON
		eventually(t, pushWithin, func() bool {
			res := crashDo(t, http.MethodGet, base+"/api/v1/subscriptions/"+sub.id+"/deliveries", sub.token, "", nil)
			var page struct {
				Deliveries []deliveryJSON `json:"deliveries"`
			}
			json.Unmarshal(res.body, &page)
			if len(page.Deliveries) == 1 {
				x = page.Deliveries[0]
			}
			return x.Status == "delivered"
		}, func() string { return fmt.Sprintf("the delivery of %s is %+v, want delivered", sub.id, x) })
		if x.Attempts != 2 || len(x.RecentAttempts) != 2 || !strings.HasPrefix(x.RecentAttempts[1].Error, "interrupted") {
			t.Errorf("delivery %+v, want two attempts: the interrupted one and the one that delivered", x)
		}
	}
}
