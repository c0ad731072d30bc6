package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pubcredit/internal/clock"
)

// The end-to-end tests run the real command (RunEnv) in this process: a
// platform is a database and a keyring shared by the `serve` servers and the
// CLI commands started on it, all with one fixed clock so that display
// windows and states are deterministic.

// e2eNow is the platform's "now" in every in-process test.
var e2eNow = time.Date(2026, 11, 30, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// platform is one database with its keyring.
type platform struct {
	db      string // sqlite:PATH or a postgres:// URL
	dataDir string // the SQLite database's directory; "" for PostgreSQL
	keys    string // the keyring file
	clock   *clock.Fixed
	spec    *apiSpec // nil when docs/openapi.yaml cannot be used
	seq     *atomic.Int64
	servers *serverList // every server started on the platform
}

// serverList is the servers of a platform, for their logs.
type serverList struct {
	mu   sync.Mutex
	list []*server
}

func (l *serverList) add(s *server) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, s)
}

func (l *serverList) all() []*server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

// newPlatform prepares a platform on dbURL ("" for a fresh SQLite file in a
// temporary directory) and migrates it with `pubcredit migrate`.
func newPlatform(t *testing.T, dbURL string, spec *apiSpec) *platform {
	t.Helper()
	p := &platform{db: dbURL, keys: filepath.Join(t.TempDir(), "keys.json"), clock: clock.NewFixed(e2eNow), spec: spec, seq: new(atomic.Int64), servers: &serverList{}}
	if dbURL == "" || strings.HasPrefix(dbURL, "sqlite:") {
		if dbURL == "" {
			p.dataDir = t.TempDir()
			p.db = "sqlite:" + filepath.Join(p.dataDir, "pubcredit.db")
		} else {
			p.dataDir = filepath.Dir(strings.TrimPrefix(dbURL, "sqlite:"))
		}
	}
	out := p.mustRun(t, nil, "migrate")
	if !strings.Contains(out, "schema at version") {
		t.Fatalf("pubcredit migrate printed %q; want the schema version", out)
	}
	return p
}

// at returns the platform as seen by commands whose clock reads now: the
// same database and keyring.
func (p *platform) at(now time.Time) *platform {
	q := *p
	q.clock = clock.NewFixed(now)
	return &q
}

// uniq returns prefix with a suffix no other call on p returns.
func (p *platform) uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, p.seq.Add(1))
}

// getenv is the environment of a command: only what the test gives.
func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// cliResult is what a command printed and its exit code.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// run runs a pubcredit command on the platform in process. The database and
// keyring flags are added after the command words (after FILE for import).
func (p *platform) run(t *testing.T, env map[string]string, args ...string) cliResult {
	t.Helper()
	at := 1
	if len(args) > 1 && (args[0] == "dept" || args[0] == "import") {
		at = 2
	}
	at = min(at, len(args))
	full := slices.Concat(args[:at], []string{"--db", p.db, "--keys", p.keys}, args[at:])
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := RunEnv(ctx, full, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: getenv(env), Clock: p.clock})
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// mustRun runs a command that must succeed and returns its standard output.
func (p *platform) mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	r := p.run(t, env, args...)
	if r.Code != 0 {
		t.Fatalf("pubcredit %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// dept registers a department with `pubcredit dept add` and returns its
// token, printed as the last line.
func (p *platform) dept(t *testing.T, code, submit, read string) string {
	t.Helper()
	args := []string{"dept", "add", "--code", code, "--name", "部门 " + code}
	if submit != "" {
		args = append(args, "--submit", submit)
	}
	if read != "" {
		args = append(args, "--read", read)
	}
	token := lastLine(p.mustRun(t, nil, args...))
	if !strings.HasPrefix(token, "pct_") {
		t.Fatalf("dept add: the last line %q is not a token", token)
	}
	return token
}

// auditor creates an auditor token with `pubcredit dept add --auditor`.
func (p *platform) auditor(t *testing.T, name string) string {
	t.Helper()
	token := lastLine(p.mustRun(t, nil, "dept", "add", "--auditor", name))
	if !strings.HasPrefix(token, "pct_") {
		t.Fatalf("dept add --auditor: the last line %q is not a token", token)
	}
	return token
}

// syncBuffer is a buffer several goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is a running `pubcredit serve`.
type server struct {
	p    *platform
	base string // http://127.0.0.1:PORT
	log  *syncBuffer
}

// serve starts `pubcredit serve --addr 127.0.0.1:0` on the platform with
// env, and stops it (waiting for RunEnv to return) when the test ends.
func (p *platform) serve(t *testing.T, env map[string]string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	s := &server{p: p, log: &syncBuffer{}}
	var stdout syncBuffer
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", p.db, "--keys", p.keys}
	go func() {
		done <- RunEnv(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: s.log, Getenv: getenv(env), Clock: p.clock,
			Ready: func(addr, _ string) { ready <- addr }})
	}()
	select {
	case addr := <-ready:
		s.base = "http://" + addr
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), s.log.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("serve did not listen within a minute\nstderr:\n%s", s.log.String())
	}
	p.servers.add(s)
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited with %d after its context ended\nstderr:\n%s", code, s.log.String())
			}
		case <-time.After(40 * time.Second):
			t.Errorf("serve did not return within 40s of its context ending")
		}
	})
	return s
}

// response is an HTTP answer, its body read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode decodes the JSON body into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("the body is not the expected JSON (%v):\n%s", err, r.Body)
	}
}

// obj decodes the JSON body as an object.
func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// want fails the test unless the status is status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.Status, status, r.Body)
	}
	return r
}

// errorBody is the one error shape of the API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field   string `json:"field"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// errorOf decodes an error answer.
func (r response) errorOf(t *testing.T) errorBody {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	return e
}

// hasDetail reports whether an error names field (with code, when code is not "").
func (e errorBody) hasDetail(field, code string) bool {
	for _, d := range e.Error.Details {
		if d.Field == field && (code == "" || d.Code == code) {
			return true
		}
	}
	return false
}

// fields lists the fields an error names.
func (e errorBody) fields() []string {
	var out []string
	for _, d := range e.Error.Details {
		out = append(out, d.Field)
	}
	return out
}

// wantError checks an error answer: the status, the one error shape, and
// that the details name every field in fields.
func (r response) wantError(t *testing.T, status int, fields ...string) errorBody {
	t.Helper()
	r.want(t, status)
	e := r.errorOf(t)
	for _, f := range fields {
		if !e.hasDetail(f, "") {
			t.Errorf("the error does not name %q; it names %q:\n%s", f, e.fields(), r.Body)
		}
	}
	return e
}

// request is one HTTP request to the server.
type request struct {
	method, path, token string
	contentType         string // default application/json when there is a body
	body                []byte
	header              map[string]string
	unrouted            bool // a path no route serves: the API description cannot list it
}

// send makes a request and checks the answer against what every answer
// must satisfy: the OpenAPI description, the one error shape for errors,
// and no identity number of a test person in clear.
func (s *server) send(t *testing.T, rq request) response {
	t.Helper()
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, s.base+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.body != nil {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", rq.method, rq.path, err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Body: b}
	s.check(t, rq, req, r)
	return r
}

// check applies the checks every answer must pass.
func (s *server) check(t *testing.T, rq request, req *http.Request, r response) {
	t.Helper()
	what := rq.method + " " + routeShape(rq.path)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if r.Status >= 400 {
		var raw map[string]map[string]any
		if err := json.Unmarshal(r.Body, &raw); err != nil || raw["error"] == nil {
			t.Errorf("%s: status %d without the error shape {\"error\": {...}}:\n%s", what, r.Status, r.Body)
		} else {
			e := raw["error"]
			if _, ok := e["code"].(string); !ok {
				t.Errorf("%s: error.code missing: %s", what, r.Body)
			}
			if _, ok := e["message"].(string); !ok {
				t.Errorf("%s: error.message missing: %s", what, r.Body)
			}
			if _, ok := e["details"].([]any); !ok {
				t.Errorf("%s: error.details is not a list: %s", what, r.Body)
			}
		}
	}
	for _, n := range knownNumbers() {
		if bytes.Contains(r.Body, []byte(n)) {
			t.Errorf("%s: the answer carries the identity number %s in clear:\n%s", what, n, r.Body)
		}
	}
	if s.p.spec != nil && !rq.unrouted {
		if err := s.p.spec.validate(req, r); err != nil {
			t.Errorf("%s: the answer (%d) does not match docs/openapi.yaml:\n%v\nbody: %s", what, r.Status, err, truncateBody(r.Body))
		}
	}
}

// routeShape hides identity numbers in a path for messages.
func routeShape(p string) string {
	for _, n := range knownNumbers() {
		p = strings.ReplaceAll(p, n, "{id_number}")
	}
	return p
}

func truncateBody(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// getJSON is a GET with a token.
func (s *server) get(t *testing.T, token, path string) response {
	t.Helper()
	return s.send(t, request{method: http.MethodGet, path: path, token: token})
}

// postJSON sends v as JSON.
func (s *server) postJSON(t *testing.T, token, path string, v any) response {
	t.Helper()
	return s.send(t, request{method: http.MethodPost, path: path, token: token, body: mustJSON(t, v)})
}

// putJSON sends v as JSON with PUT.
func (s *server) putJSON(t *testing.T, token, path string, v any) response {
	t.Helper()
	return s.send(t, request{method: http.MethodPut, path: path, token: token, body: mustJSON(t, v)})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// People.

// person is a synthetic natural person with a valid resident identity number.
type person struct {
	Number string // 18 characters, valid check character
	Name   string
}

// Masked is the number as every answer shows it.
func (p person) MaskedNumber() string { return p.Number[:6] + "********" + p.Number[14:] }

// MaskedName is the name as every answer shows it (single-character surnames only).
func (p person) MaskedName() string {
	r := []rune(p.Name)
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

var (
	personSeq atomic.Int64
	numbersMu sync.Mutex
	numbers   []string // every number handed out, checked against every answer
	names     = map[string]bool{}
)

func knownNumbers() []string {
	numbersMu.Lock()
	defer numbersMu.Unlock()
	return slices.Clone(numbers)
}

// knownNames lists every name handed out.
func knownNames() []string {
	numbersMu.Lock()
	defer numbersMu.Unlock()
	var out []string
	for n := range names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

var (
	regions    = []string{"110105", "440308", "310101", "120101", "320102"}
	surnames   = []rune("龚蒯龙凤柏鞠")
	givenNames = []string{"紫萱", "若曦", "昊天", "梓涵", "一鸣", "思远", "雨桐"}
)

// newPerson returns a person no other test uses, born between 1960 and 1998.
func newPerson() person {
	n := int(personSeq.Add(1))
	return personBorn(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (n*37)%14000), n)
}

// personBorn returns a person born on birth; n makes the number unique.
func personBorn(birth time.Time, n int) person {
	body := regions[n%len(regions)] + birth.Format("20060102") + fmt.Sprintf("%03d", 100+n%900)
	num := body + checkChar(body)
	name := string(surnames[n%len(surnames)]) + givenNames[(n/len(surnames))%len(givenNames)]
	numbersMu.Lock()
	numbers = append(numbers, num)
	names[name] = true
	numbersMu.Unlock()
	return person{Number: num, Name: name}
}

// newMinor returns a person who is 14 on e2eNow.
func newMinor() person {
	n := int(personSeq.Add(1))
	return personBorn(time.Date(2012, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%200), n)
}

// newPersonWithX returns a person whose check character is X.
func newPersonWithX() person {
	for {
		n := int(personSeq.Add(1))
		birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (n*41)%9000)
		body := regions[n%len(regions)] + birth.Format("20060102") + fmt.Sprintf("%03d", 100+n%900)
		if checkChar(body) == "X" {
			return personBorn(birth, n)
		}
	}
}

// legacy15 is the 15-digit form of an 18-digit number born in the 1900s.
func legacy15(p person) string { return p.Number[:6] + p.Number[8:17] }

// checkChar is the GB 11643 check character of the first 17 digits
// (ISO 7064 MOD 11-2), computed here independently of internal/identity.
func checkChar(body string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	return string("10X98765432"[sum%11])
}

// wrongCheck returns p's number with a wrong check character.
func wrongCheck(p person) string {
	good := p.Number[17]
	for _, c := range "0123456789X" {
		if byte(c) != good {
			return p.Number[:17] + string(c)
		}
	}
	panic("unreachable")
}

// Records.

// recordJSON is a record as the API answers it.
type recordJSON struct {
	LeafIndex  *int64 `json:"leaf_index"`
	ID         string `json:"id"`
	Ref        string `json:"ref"`
	Item       string `json:"item"`
	Department string `json:"department"`
	Version    int    `json:"version"`
	Status     string `json:"status"`
	State      string `json:"state"`
	Subject    struct {
		IDType   string `json:"id_type"`
		IDNumber string `json:"id_number"`
		Name     string `json:"name"`
	} `json:"subject"`
	DecidedOn string         `json:"decided_on"`
	Severity  string         `json:"severity"`
	Fields    map[string]any `json:"fields"`
	Display   struct {
		From        string  `json:"from"`
		EarliestEnd *string `json:"earliest_end"`
		End         *string `json:"end"`
		Public      bool    `json:"public"`
	} `json:"display"`
	Revocation *struct {
		Reason string `json:"reason"`
		Basis  string `json:"basis"`
	} `json:"revocation"`
}

func (r recordJSON) earliestEnd() string { return deref(r.Display.EarliestEnd) }
func (r recordJSON) end() string         { return deref(r.Display.End) }

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

// record decodes a record answer and checks that its person is masked.
func (r response) record(t *testing.T, who person) recordJSON {
	t.Helper()
	var rec recordJSON
	r.decode(t, &rec)
	if rec.Subject.IDNumber != who.MaskedNumber() || rec.Subject.Name != who.MaskedName() {
		t.Errorf("subject shown as %q %q, want masked %q %q", rec.Subject.IDNumber, rec.Subject.Name, who.MaskedNumber(), who.MaskedName())
	}
	return rec
}

// penalty is an XZCF submission with the platform's field names: a fine of
// 1000 yuan unless fields say otherwise.
func penalty(who person, ref, decided string, fields map[string]any) map[string]any {
	f := map[string]any{"decision_no": "津市监罚〔2026〕" + ref + "号", "penalty_types": []string{"fine"}, "fine_amount": 1000}
	for k, v := range fields {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	sub := map[string]any{
		"item":       "XZCF",
		"subject":    map[string]any{"id_type": "resident_id", "id_number": who.Number, "name": who.Name},
		"decided_on": decided,
		"fields":     f,
	}
	if ref != "" {
		sub["ref"] = ref
	}
	return sub
}

// submit posts a submission and returns the created record.
func (s *server) submit(t *testing.T, token string, who person, sub map[string]any) recordJSON {
	t.Helper()
	return s.postJSON(t, token, "/api/v1/records", sub).want(t, http.StatusCreated).record(t, who)
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// editJSON decodes a JSON object (numbers kept as written), lets change
// edit it, and encodes it again.
func editJSON(t *testing.T, doc []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
