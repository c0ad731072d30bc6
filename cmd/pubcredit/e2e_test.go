package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pubcredit/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestE2ESQLite runs the end-to-end suite on a fresh SQLite file.
func TestE2ESQLite(t *testing.T) {
	t.Parallel()
	runSuite(t, "")
}

// TestE2EPostgres runs the same suite on a fresh PostgreSQL database.
func TestE2EPostgres(t *testing.T) {
	t.Parallel()
	runSuite(t, pgtest.URL(t))
}

// runSuite runs every end-to-end case against one platform on dbURL (""
// for a fresh SQLite file): the real command in process, one server, the
// CLI on the same database while the server runs.
func runSuite(t *testing.T, dbURL string) {
	spec, err := loadSpec()
	if err != nil {
		t.Errorf("answers are not validated against the API description: %v", err)
	}
	p := newPlatform(t, dbURL, spec)
	s := &suite{p: p, srv: p.serve(t, nil)}

	t.Run("cases", func(t *testing.T) {
		t.Run("service", s.service)
		t.Run("records", s.records)
		t.Run("idempotency", s.idempotency)
		t.Run("rejections", s.rejections)
		t.Run("corrections and revocations", s.corrections)
		t.Run("batches", s.batches)
		t.Run("integrity file", s.integrityFile)
		t.Run("privacy", s.privacy)
		t.Run("departments from the shell", s.departments)
	})
	t.Run("after every case no identity number or name is in clear in the data or the logs", s.sweep)
}

// suite is the platform and server the cases share. Cases register their
// own departments and people, so they run in parallel.
type suite struct {
	p   *platform
	srv *server
}

func (s *suite) service(t *testing.T) {
	t.Parallel()
	srv := s.srv
	t.Run("health and readiness answer 200", func(t *testing.T) {
		t.Parallel()
		if m := srv.get(t, "", "/healthz").want(t, http.StatusOK).obj(t); m["status"] != "ok" {
			t.Errorf("healthz: %v", m)
		}
		srv.get(t, "", "/readyz").want(t, http.StatusOK)
	})
	t.Run("the catalog is published without a token and lists the shipped items", func(t *testing.T) {
		t.Parallel()
		var cat struct {
			Items []struct {
				Code string `json:"code"`
			} `json:"items"`
		}
		srv.get(t, "", "/api/v1/catalog").want(t, http.StatusOK).decode(t, &cat)
		var codes []string
		for _, it := range cat.Items {
			codes = append(codes, it.Code)
		}
		for _, want := range []string{"XZCF", "XZXK", "SXBZXR", "QSXX", "SBQF", "ZYFW", "RYBZ"} {
			if !slices.Contains(codes, want) {
				t.Errorf("the catalog lacks %s; it has %v", want, codes)
			}
		}
		if len(codes) < 12 {
			t.Errorf("the catalog has %d items, the issue asks for at least 12", len(codes))
		}
		if m := srv.get(t, "", "/api/v1/catalog/XZCF").want(t, http.StatusOK).obj(t); m["code"] != "XZCF" {
			t.Errorf("catalog/XZCF answered code %v", m["code"])
		}
	})
	t.Run("an unknown catalog item is 404 naming the known codes", func(t *testing.T) {
		t.Parallel()
		e := srv.get(t, "", "/api/v1/catalog/NOPE").wantError(t, http.StatusNotFound)
		for _, code := range []string{"XZCF", "SXBZXR", "ZYFW"} {
			if !strings.Contains(e.Error.Message, code) {
				t.Errorf("the message %q does not name the known item %s", e.Error.Message, code)
			}
		}
	})
}

func (s *suite) records(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	token := p.dept(t, p.uniq("MKT"), "XZCF", "")
	court := p.dept(t, p.uniq("COURT"), "SXBZXR", "")

	t.Run("a general penalty is displayed from its decision date for one year", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("G"), "2026-05-01", nil)
		delete(sub["subject"].(map[string]any), "id_type") // defaults to resident_id
		res := srv.postJSON(t, token, "/api/v1/records", sub).want(t, http.StatusCreated)
		rec := res.record(t, who)
		if rec.ID == "" || rec.Version != 1 {
			t.Errorf("id %q version %d, want an id and version 1", rec.ID, rec.Version)
		}
		if loc := res.Header.Get("Location"); loc != "/api/v1/records/"+rec.ID {
			t.Errorf("Location %q", loc)
		}
		if rec.Subject.IDType != "resident_id" {
			t.Errorf("id_type %q, want resident_id by default", rec.Subject.IDType)
		}
		wantWindow(t, rec, "general", "2026-05-01", "2026-08-01", "2027-05-01", false)
		if rec.State != "in_display" || rec.Status != "active" {
			t.Errorf("status %q state %q on %s, want active and in_display", rec.Status, rec.State, e2eNow.Format(time.DateOnly))
		}
	})
	t.Run("national double-publicity codes are accepted and CF_NR_FK in 10,000 yuan becomes yuan", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		decision := "津市监罚〔2026〕" + p.uniq("N") + "号"
		sub := map[string]any{"item": "XZCF", "fields": map[string]any{
			"CF_XDR_MC": who.Name, "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": who.Number,
			"CF_WSH": decision, "CF_CFLB": "罚款、吊销许可证件", "CF_NR_FK": 0.5, "CF_JDRQ": "2026-05-01",
			"CF_CFJG": "天津市市场监督管理局",
		}}
		rec := srv.submit(t, token, who, sub)
		if got := rec.Fields["fine_amount"]; got != 5000.0 {
			t.Errorf("fine_amount %v, want 5000 (0.5 × 10,000 yuan)", got)
		}
		if got := fmt.Sprint(rec.Fields["penalty_types"]); got != "[fine license_revocation]" {
			t.Errorf("penalty_types %s, want [fine license_revocation]", got)
		}
		if rec.Fields["decision_no"] != decision || rec.Fields["authority"] != "天津市市场监督管理局" {
			t.Errorf("fields %v: CF_WSH and CF_CFJG not stored as decision_no and authority", rec.Fields)
		}
		if rec.DecidedOn != "2026-05-01" || rec.Ref != decision {
			t.Errorf("decided_on %q ref %q, want CF_JDRQ and the decision number", rec.DecidedOn, rec.Ref)
		}
		wantWindow(t, rec, "serious", "2026-05-01", "2027-05-01", "2029-05-01", false)
	})
	t.Run("a licence revocation is at least serious: displayed one to three years", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		rec := srv.submit(t, token, who, penalty(who, p.uniq("L"), "2026-05-01", map[string]any{"penalty_types": []string{"license_revocation"}, "fine_amount": nil}))
		wantWindow(t, rec, "serious", "2026-05-01", "2027-05-01", "2029-05-01", false)
	})
	t.Run("a fine of 200 yuan alone is minor and not displayed", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		rec := srv.submit(t, token, who, penalty(who, p.uniq("M"), "2026-05-01", map[string]any{"fine_amount": 200}))
		wantWindow(t, rec, "minor", "2026-05-01", "2026-05-01", "2026-05-01", false)
		if rec.State != "display_ended" {
			t.Errorf("state %q, want display_ended", rec.State)
		}
	})
	t.Run("a fine of 200,000 yuan is serious", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		rec := srv.submit(t, token, who, penalty(who, p.uniq("S"), "2026-05-01", map[string]any{"fine_amount": 200000}))
		wantWindow(t, rec, "serious", "2026-05-01", "2027-05-01", "2029-05-01", false)
	})
	t.Run("a stated severity below the floor of the penalty types is 422 naming severity", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("F"), "2026-05-01", map[string]any{"penalty_types": []string{"license_revocation"}})
		sub["severity"] = "general"
		srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusUnprocessableEntity, "severity")
	})
	t.Run("a stated severity above the floor stands", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("A"), "2026-05-01", nil)
		sub["severity"] = "serious"
		rec := srv.submit(t, token, who, sub)
		wantWindow(t, rec, "serious", "2026-05-01", "2027-05-01", "2029-05-01", false)
	})
	t.Run("an employment restriction keeps displaying while its term runs", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		rec := srv.submit(t, token, who, penalty(who, p.uniq("E"), "2026-05-01", map[string]any{
			"penalty_types": []string{"employment_restriction"}, "fine_amount": nil, "valid_until": "2030-06-30"}))
		// Three years would end on 2029-05-01; the ban runs to 2030-06-30.
		wantWindow(t, rec, "serious", "2026-05-01", "2030-07-01", "2030-07-01", false)
		if rec.end() <= "2030-06-30" || rec.earliestEnd() <= "2030-06-30" {
			t.Errorf("display ends %s (earliest %s), want both after valid_until 2030-06-30", rec.end(), rec.earliestEnd())
		}
	})
	t.Run("a dishonest judgment debtor is public and an administrative penalty is not", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		debtor := srv.submit(t, court, who, map[string]any{
			"ref": p.uniq("SX"), "item": "SXBZXR", "decided_on": "2026-03-01",
			"subject": map[string]any{"id_type": "resident_id", "id_number": who.Number, "name": who.Name},
			"fields": map[string]any{"decision_no": "(2026)津0101执" + p.uniq("") + "号", "court": "天津市和平区人民法院",
				"circumstances": []string{"refused_with_ability"}, "performance": "not_performed"},
		})
		wantWindow(t, debtor, "serious", "2026-03-01", "2027-03-01", "2029-03-01", true)
		pen := srv.submit(t, token, who, penalty(who, p.uniq("P"), "2026-05-01", nil))
		if pen.Display.Public {
			t.Errorf("an administrative penalty of a person is public; DOMAIN.md section 4 says it is not")
		}
	})
	t.Run("a licence in national XK_ codes is displayed until the day after it expires", func(t *testing.T) {
		t.Parallel()
		lic := p.dept(t, p.uniq("XK"), "XZXK", "")
		who := newPerson()
		rec := srv.submit(t, lic, who, map[string]any{"item": "XZXK", "fields": map[string]any{
			"XK_XDR_MC": who.Name, "XK_XDR_ZJLX": "身份证", "XK_XDR_ZJHM": who.Number, "XK_WSH": "津市监许〔2026〕" + p.uniq("") + "号",
			"XK_XKLB": "普通", "XK_XKBH": "JY11201000000001", "XK_JDRQ": "2026-01-05", "XK_YXQZ": "2026-01-05", "XK_YXQZI": "2031-01-04",
		}})
		if rec.Severity != "" || rec.Display.From != "2026-01-05" || rec.end() != "2031-01-05" || rec.Display.Public {
			t.Errorf("licence: severity %q from %s end %s public %v; want no severity, 2026-01-05 to 2031-01-05, not public",
				rec.Severity, rec.Display.From, rec.end(), rec.Display.Public)
		}
		if rec.Fields["license_category"] != "ordinary" || rec.Fields["valid_to"] != "2031-01-04" {
			t.Errorf("licence fields %v", rec.Fields)
		}
		open := srv.submit(t, lic, who, map[string]any{"item": "XZXK", "decided_on": "2026-01-06",
			"subject": map[string]any{"id_number": who.Number, "name": who.Name},
			"fields":  map[string]any{"decision_no": "津市监许〔2026〕" + p.uniq("") + "号"}})
		if open.Display.End != nil || open.State != "in_display" {
			t.Errorf("a licence without expiry: end %s state %s, want no end and in_display", open.end(), open.State)
		}
	})
	t.Run("display stops at the start of its end day", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		ended := srv.submit(t, token, who, penalty(who, p.uniq("B"), "2025-11-30", nil))
		if ended.end() != "2026-11-30" || ended.State != "display_ended" {
			t.Errorf("decided 2025-11-30: end %s state %s on 2026-11-30, want end 2026-11-30 and display_ended", ended.end(), ended.State)
		}
		shown := srv.submit(t, token, who, penalty(who, p.uniq("B"), "2025-12-01", nil))
		if shown.end() != "2026-12-01" || shown.State != "in_display" {
			t.Errorf("decided 2025-12-01: end %s state %s on 2026-11-30, want end 2026-12-01 and in_display", shown.end(), shown.State)
		}
	})
	t.Run("a period ending in a shorter month ends on that month's last day", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		rec := srv.submit(t, token, who, penalty(who, p.uniq("ME"), "2026-05-31", nil))
		wantWindow(t, rec, "general", "2026-05-31", "2026-08-31", "2027-05-31", false)
		rec = srv.submit(t, token, who, penalty(who, p.uniq("ME"), "2025-11-30", map[string]any{"fine_amount": 300}))
		wantWindow(t, rec, "general", "2025-11-30", "2026-02-28", "2026-11-30", false)
		rec = srv.submit(t, token, who, penalty(who, p.uniq("LP"), "2024-02-29", map[string]any{"fine_amount": 250000}))
		wantWindow(t, rec, "serious", "2024-02-29", "2025-02-28", "2027-02-28", false)
	})
	t.Run("a legacy 15-digit number is upgraded to 18 and finds the same file", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("L15"), "2026-05-01", nil)
		sub["subject"].(map[string]any)["id_number"] = legacy15(who)
		rec := srv.submit(t, token, who, sub) // masked as the upgraded 18-digit number
		reader := p.dept(t, p.uniq("R15"), "", "XZCF")
		f := srv.file(t, reader, who, "升位核对")
		if len(f.Records) != 1 || f.Records[0].ID != rec.ID {
			t.Errorf("the file of the 18-digit number holds %+v, want record %s submitted under the 15-digit one", f.Records, rec.ID)
		}
	})
	t.Run("a lower-case x check character is the same person", func(t *testing.T) {
		t.Parallel()
		who := newPersonWithX()
		sub := penalty(who, p.uniq("LX"), "2026-05-01", nil)
		sub["subject"].(map[string]any)["id_number"] = strings.ToLower(who.Number)
		rec := srv.submit(t, token, who, sub)
		reader := p.dept(t, p.uniq("RX"), "", "XZCF")
		f := srv.file(t, reader, who, "校验位核对")
		if len(f.Records) != 1 || f.Records[0].ID != rec.ID {
			t.Errorf("the file of %s holds %+v, want the record submitted with a lower-case x", who.MaskedNumber(), f.Records)
		}
	})
	t.Run("a fixed-severity item refuses a stated severity that contradicts it", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		srv.postJSON(t, court, "/api/v1/records", map[string]any{
			"item": "SXBZXR", "decided_on": "2026-03-01", "severity": "minor",
			"subject": map[string]any{"id_number": who.Number, "name": who.Name},
			"fields": map[string]any{"decision_no": "(2026)津0101执" + p.uniq("") + "号", "court": "天津市和平区人民法院",
				"circumstances": []string{"refused_with_ability"}},
		}).wantError(t, http.StatusUnprocessableEntity, "severity")
	})
	t.Run("a minor is never put on the dishonest-debtor list", func(t *testing.T) {
		t.Parallel()
		kid := newMinor()
		srv.postJSON(t, court, "/api/v1/records", map[string]any{
			"item": "SXBZXR", "decided_on": "2026-03-01",
			"subject": map[string]any{"id_number": kid.Number, "name": kid.Name},
			"fields": map[string]any{"decision_no": "(2026)津0101执" + p.uniq("") + "号", "court": "天津市和平区人民法院",
				"circumstances": []string{"refused_with_ability"}},
		}).wantError(t, http.StatusUnprocessableEntity, "subject.id_number")
	})
	t.Run("a decision dated today in the city is accepted while it is still yesterday in UTC", func(t *testing.T) {
		t.Parallel()
		// 2026-12-01 00:30 in Tianjin is 2026-11-30 16:30 UTC.
		early := p.at(time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC)).serve(t, nil)
		who := newPerson()
		rec := early.submit(t, token, who, penalty(who, p.uniq("TZ"), "2026-12-01", nil))
		wantWindow(t, rec, "general", "2026-12-01", "2027-03-01", "2027-12-01", false)
		early.postJSON(t, token, "/api/v1/records", penalty(who, p.uniq("TZ"), "2026-12-02", nil)).
			wantError(t, http.StatusUnprocessableEntity, "decided_on")
	})
	t.Run("concurrent submissions of one ref make one record", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := mustJSON(t, penalty(who, p.uniq("CC"), "2026-05-01", nil))
		const n = 8
		type answer struct {
			status int
			id     string
		}
		answers := make(chan answer, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				res := srv.send(t, request{method: http.MethodPost, path: "/api/v1/records", token: token, body: body})
				var rec recordJSON
				json.Unmarshal(res.Body, &rec)
				answers <- answer{res.Status, rec.ID}
			})
		}
		wg.Wait()
		close(answers)
		created, ids := 0, map[string]bool{}
		for a := range answers {
			switch a.status {
			case http.StatusCreated:
				created++
			case http.StatusOK:
			default:
				t.Errorf("a concurrent resubmission answered %d", a.status)
			}
			ids[a.id] = true
		}
		if created != 1 || len(ids) != 1 {
			t.Errorf("%d answers were 201 and they name %d records; want one 201 and one record", created, len(ids))
		}
	})
	t.Run("no input makes the server answer 500", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		with := func(mut func(m map[string]any)) []byte {
			m := penalty(who, p.uniq("Z"), "2026-05-01", nil)
			mut(m)
			return mustJSON(t, m)
		}
		field := func(k string, v any) []byte {
			return with(func(m map[string]any) { m["fields"].(map[string]any)[k] = v })
		}
		bodies := map[string][]byte{
			"an array":                  []byte(`[1, 2]`),
			"null":                      []byte(`null`),
			"a number":                  []byte(`42`),
			"two objects":               []byte(`{} {}`),
			"deep nesting":              []byte(strings.Repeat(`{"fields":`, 5000) + strings.Repeat(`}`, 5000)),
			"invalid UTF-8":             append([]byte(`{"ref": "`), 0xff, 0xfe, '"', '}'),
			"subject as text":           with(func(m map[string]any) { m["subject"] = "张三" }),
			"fields as a list":          with(func(m map[string]any) { m["fields"] = []int{1} }),
			"decided_on as a number":    with(func(m map[string]any) { m["decided_on"] = 20260501 }),
			"30 February":               with(func(m map[string]any) { m["decided_on"] = "2026-02-30" }),
			"year zero":                 with(func(m map[string]any) { m["decided_on"] = "0000-01-01" }),
			"a fine of 1e400":           field("fine_amount", json.Number("1e400")),
			"a fine of 10^40":           field("fine_amount", json.Number("1"+strings.Repeat("0", 40))),
			"a negative fine":           field("fine_amount", -5),
			"a fine as an object":       field("fine_amount", map[string]any{"yuan": 5}),
			"a fine as text":            field("fine_amount", "五千"),
			"CF_NR_FK with 30 decimals": field("CF_NR_FK", json.Number("0."+strings.Repeat("3", 30))),
			"penalty types empty":       field("penalty_types", []string{}),
			"penalty types nested":      field("penalty_types", []any{[]string{"fine"}}),
			"penalty types of 1000":     field("penalty_types", slices.Repeat([]string{"fine", "warning"}, 500)),
			"valid_until garbage":       field("valid_until", "never"),
			"a control character name":  with(func(m map[string]any) { m["subject"].(map[string]any)["name"] = "张\u0000三" }),
			"an unknown id type":        with(func(m map[string]any) { m["subject"].(map[string]any)["id_type"] = "驾驶证" }),
			"a passport": with(func(m map[string]any) {
				m["subject"].(map[string]any)["id_type"] = "passport"
				m["subject"].(map[string]any)["id_number"] = "E12345678"
			}),
			"a long ref":                      with(func(m map[string]any) { m["ref"] = strings.Repeat("R", 5000) }),
			"an unknown item":                 with(func(m map[string]any) { m["item"] = strings.Repeat("物", 300) }),
			"a positive item with a severity": with(func(m map[string]any) { m["item"] = "ZYFW"; m["severity"] = "serious" }),
		}
		for name, body := range bodies {
			res := srv.send(t, request{method: http.MethodPost, path: "/api/v1/records", token: token, body: body})
			if res.Status >= 500 || res.Status < 200 {
				t.Errorf("%s: status %d: %s", name, res.Status, truncateBody(res.Body))
			}
		}
		for _, path := range []string{
			"/api/v1/records/" + strings.Repeat("f", 32) + "/versions",
			"/api/v1/records/%00",
			"/api/v1/batches/" + strings.Repeat("z", 32) + "/rejections?after=-1",
			"/api/v1/batches/" + strings.Repeat("0", 32) + "/rejections?limit=99999999999999999999",
			"/api/v1/subjects/" + strings.Repeat("1", 300) + "/file?purpose=x",
			"/api/v1/subjects/%E2%80%AE/file?purpose=x&id_type=passport",
			"/api/v1/subjects/" + who.Number + "/file?purpose=" + strings.Repeat("目", 600),
			"/api/v1/audit/access?id_number=" + who.Number + "&limit=0",
		} {
			if res := srv.get(t, token, path); res.Status >= 500 {
				t.Errorf("GET %s: status %d: %s", routeShape(path), res.Status, truncateBody(res.Body))
			}
		}
	})
	t.Run("a path or method the API does not have is answered in the error shape", func(t *testing.T) {
		t.Parallel()
		srv.send(t, request{method: http.MethodGet, path: "/api/v1/nope", token: token, unrouted: true}).wantError(t, http.StatusNotFound)
		res := srv.send(t, request{method: http.MethodDelete, path: "/api/v1/records/" + strings.Repeat("0", 32), token: token, unrouted: true})
		res.wantError(t, http.StatusMethodNotAllowed)
		if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PUT") {
			t.Errorf("405 with Allow %q, want GET and PUT listed", allow)
		}
	})
}

// wantWindow checks a record's severity and display window.
func wantWindow(t *testing.T, rec recordJSON, severity, from, earliestEnd, end string, public bool) {
	t.Helper()
	got := fmt.Sprintf("severity %s from %s earliest_end %s end %s public %v", rec.Severity, rec.Display.From, rec.earliestEnd(), rec.end(), rec.Display.Public)
	want := fmt.Sprintf("severity %s from %s earliest_end %s end %s public %v", severity, from, earliestEnd, end, public)
	if got != want {
		t.Errorf("display window:\n got %s\nwant %s", got, want)
	}
}

func (s *suite) idempotency(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	token := p.dept(t, p.uniq("IDEM"), "XZCF", "")

	t.Run("the same ref with the same content answers 200 with the same record", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("R"), "2026-05-01", nil)
		first := srv.submit(t, token, who, sub)
		again := srv.postJSON(t, token, "/api/v1/records", sub).want(t, http.StatusOK).record(t, who)
		if again.ID != first.ID || again.Version != 1 {
			t.Errorf("resubmission answered %s v%d, want %s v1", again.ID, again.Version, first.ID)
		}
	})
	t.Run("the same ref with other content is 409", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		ref := p.uniq("R")
		srv.submit(t, token, who, penalty(who, ref, "2026-05-01", nil))
		e := srv.postJSON(t, token, "/api/v1/records", penalty(who, ref, "2026-05-01", map[string]any{"fine_amount": 1500})).wantError(t, http.StatusConflict)
		if e.Error.Code != "conflict" {
			t.Errorf("error code %q, want conflict", e.Error.Code)
		}
	})
	t.Run("two departments may use the same ref", func(t *testing.T) {
		t.Parallel()
		other := p.dept(t, p.uniq("IDEM2"), "XZCF", "")
		who := newPerson()
		sub := penalty(who, p.uniq("SR"), "2026-05-01", nil)
		a := srv.submit(t, token, who, sub)
		b := srv.submit(t, other, who, sub)
		if a.ID == b.ID {
			t.Errorf("two departments' records with one ref share id %s", a.ID)
		}
	})
	t.Run("a record without a ref takes its decision number as ref", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, "", "2026-05-01", map[string]any{"decision_no": "津市监罚〔2026〕" + p.uniq("NR") + "号"})
		rec := srv.submit(t, token, who, sub)
		if rec.Ref != sub["fields"].(map[string]any)["decision_no"] {
			t.Errorf("ref %q, want the decision number", rec.Ref)
		}
		again := srv.postJSON(t, token, "/api/v1/records", sub).want(t, http.StatusOK).record(t, who)
		if again.ID != rec.ID {
			t.Errorf("the same decision number without a ref made record %s, want %s", again.ID, rec.ID)
		}
		sub["fields"].(map[string]any)["fine_amount"] = 3000
		srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusConflict)
	})
}

func (s *suite) rejections(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	token := p.dept(t, p.uniq("REJ"), "XZCF", "")
	post := func(t *testing.T, body []byte) response {
		t.Helper()
		return srv.send(t, request{method: http.MethodPost, path: "/api/v1/records", token: token, body: body})
	}

	t.Run("malformed JSON is 400", func(t *testing.T) {
		t.Parallel()
		e := post(t, []byte(`{"item": "XZCF", "subject": {`)).wantError(t, http.StatusBadRequest)
		if e.Error.Code != "malformed" {
			t.Errorf("error code %q, want malformed", e.Error.Code)
		}
	})
	t.Run("an empty body is 400", func(t *testing.T) {
		t.Parallel()
		post(t, []byte{}).wantError(t, http.StatusBadRequest)
	})
	t.Run("a field the request does not have is 422 naming it", func(t *testing.T) {
		t.Parallel()
		sub := penalty(newPerson(), p.uniq("U"), "2026-05-01", nil)
		sub["colour"] = "red"
		srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusUnprocessableEntity, "colour")
	})
	t.Run("a field the catalog item does not have is 422 naming it", func(t *testing.T) {
		t.Parallel()
		sub := penalty(newPerson(), p.uniq("U"), "2026-05-01", map[string]any{"religion": "无"})
		srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusUnprocessableEntity, "fields.religion")
	})
	t.Run("an identity number with a wrong check digit is 422 at subject.id_number", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("C"), "2026-05-01", nil)
		sub["subject"].(map[string]any)["id_number"] = wrongCheck(who)
		e := srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusUnprocessableEntity, "subject.id_number")
		if !e.hasDetail("subject.id_number", "check_digit") {
			t.Errorf("details %+v, want code check_digit", e.Error.Details)
		}
	})
	t.Run("a flood of bad fields does not push the person's problem past the 50 an error lists", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		extra := map[string]any{}
		for i := range 60 {
			extra[fmt.Sprintf("nope_%02d", i)] = "x"
		}
		sub := penalty(who, p.uniq("C"), "2026-05-01", extra)
		sub["subject"].(map[string]any)["id_number"] = wrongCheck(who)
		e := srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusUnprocessableEntity, "subject.id_number", "fields.nope_00")
		if n := len(e.Error.Details); n != 50 || !e.hasDetail("subject.id_number", "check_digit") {
			t.Errorf("%d details %v, want 50 with subject.id_number check_digit among them", n, e.fields())
		}
	})
	t.Run("a decision date in the future is 422", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		srv.postJSON(t, token, "/api/v1/records", penalty(who, p.uniq("D"), "2026-12-01", nil)).wantError(t, http.StatusUnprocessableEntity, "decided_on")
	})
	t.Run("a missing decision number is 422", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		srv.postJSON(t, token, "/api/v1/records", penalty(who, p.uniq("W"), "2026-05-01", map[string]any{"decision_no": nil})).
			wantError(t, http.StatusUnprocessableEntity, "fields.decision_no")
	})
	t.Run("every problem is listed at once", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("X"), "2027-01-01", map[string]any{"decision_no": nil, "penalty_types": []string{"caning"}})
		sub["subject"].(map[string]any)["id_number"] = wrongCheck(who)
		sub["subject"].(map[string]any)["name"] = ""
		srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusUnprocessableEntity,
			"subject.id_number", "subject.name", "decided_on", "fields.decision_no", "fields.penalty_types")
	})
	t.Run("no token is 401", func(t *testing.T) {
		t.Parallel()
		res := srv.postJSON(t, "", "/api/v1/records", penalty(newPerson(), "T", "2026-05-01", nil))
		res.wantError(t, http.StatusUnauthorized)
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("a 401 without WWW-Authenticate")
		}
	})
	t.Run("a token the platform did not issue is 401", func(t *testing.T) {
		t.Parallel()
		srv.postJSON(t, "pct_"+strings.Repeat("A", 43), "/api/v1/records", penalty(newPerson(), "T", "2026-05-01", nil)).wantError(t, http.StatusUnauthorized)
		srv.send(t, request{method: http.MethodGet, path: "/api/v1/records/" + strings.Repeat("0", 32),
			header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}}).wantError(t, http.StatusUnauthorized)
	})
	t.Run("an item the department may not submit is 403", func(t *testing.T) {
		t.Parallel()
		licensing := p.dept(t, p.uniq("LIC"), "XZXK", "")
		srv.postJSON(t, licensing, "/api/v1/records", penalty(newPerson(), "T", "2026-05-01", nil)).wantError(t, http.StatusForbidden)
	})
	t.Run("an unknown record is 404", func(t *testing.T) {
		t.Parallel()
		srv.get(t, token, "/api/v1/records/"+strings.Repeat("0", 32)).wantError(t, http.StatusNotFound)
		srv.get(t, token, "/api/v1/records/nope").wantError(t, http.StatusNotFound)
	})
	t.Run("another department's record is 404, not 403", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("O"), "2026-05-01", nil)
		rec := srv.submit(t, token, who, sub)
		other := p.dept(t, p.uniq("OTHER"), "XZCF", "XZCF")
		path := "/api/v1/records/" + rec.ID
		srv.get(t, other, path).wantError(t, http.StatusNotFound)
		srv.get(t, other, path+"/versions").wantError(t, http.StatusNotFound)
		srv.putJSON(t, other, path, sub).wantError(t, http.StatusNotFound)
		srv.postJSON(t, other, path+"/revoke", map[string]string{"reason": "r", "basis": "b"}).wantError(t, http.StatusNotFound)
		srv.get(t, token, path).want(t, http.StatusOK) // untouched
	})
	t.Run("a body over the configured limit is 413", func(t *testing.T) {
		t.Parallel()
		small := p.serve(t, map[string]string{"PUBCREDIT_MAX_BODY": "2048", "PUBCREDIT_MAX_BATCH": "4096"})
		who := newPerson()
		small.submit(t, token, who, penalty(who, p.uniq("B"), "2026-05-01", nil)) // a usual record fits
		big := penalty(newPerson(), p.uniq("B"), "2026-05-01", map[string]any{"facts": strings.Repeat("事实", 1000)})
		e := small.postJSON(t, token, "/api/v1/records", big).wantError(t, http.StatusRequestEntityTooLarge)
		if e.Error.Code != "too_large" {
			t.Errorf("error code %q, want too_large", e.Error.Code)
		}
	})
	t.Run("a body many times the limit is 413, not a connection reset", func(t *testing.T) {
		t.Parallel()
		small := p.serve(t, map[string]string{"PUBCREDIT_MAX_BODY": "2048", "PUBCREDIT_MAX_BATCH": "4096"})
		huge := []byte(`{"facts":"` + strings.Repeat("x", 16<<20) + `"}`)
		for path, contentType := range map[string]string{"/api/v1/records": "application/json", "/api/v1/batches": "application/x-ndjson"} {
			// As curl and most clients do: the whole body sent, then the
			// answer read.
			conn, err := net.Dial("tcp", strings.TrimPrefix(small.base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: pubcredit\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, token, contentType, len(huge))
			if _, err := conn.Write(huge); err != nil {
				t.Fatalf("%s: sending the body: %v", path, err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s: reading the answer: %v", path, err)
			}
			var e errorBody
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || e.Error.Code != "too_large" {
				t.Errorf("%s: %d %q, want 413 too_large", path, resp.StatusCode, e.Error.Code)
			}
		}
	})
	t.Run("a body announced over the limit is 413 before it is sent, when the client waits to be asked", func(t *testing.T) {
		t.Parallel()
		small := p.serve(t, map[string]string{"PUBCREDIT_MAX_BODY": "2048", "PUBCREDIT_MAX_BATCH": "4096"})
		conn, err := net.Dial("tcp", strings.TrimPrefix(small.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST /api/v1/records HTTP/1.1\r\nHost: pubcredit\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", token, 16<<20)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil) // no body sent
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		var e errorBody
		json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || e.Error.Code != "too_large" {
			t.Errorf("%d %q, want 413 too_large before the body (a 100 Continue asks for it)", resp.StatusCode, e.Error.Code)
		}
	})
	t.Run("a batch over the configured limit is 413", func(t *testing.T) {
		t.Parallel()
		small := p.serve(t, map[string]string{"PUBCREDIT_MAX_BODY": "2048", "PUBCREDIT_MAX_BATCH": "4096"})
		var rows []any
		for range 20 {
			who := newPerson()
			rows = append(rows, penalty(who, p.uniq("BB"), "2026-05-01", nil))
		}
		small.upload(t, token, "", "application/x-ndjson", ndjson(t, rows...)).wantError(t, http.StatusRequestEntityTooLarge)
	})
}

func (s *suite) corrections(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	token := p.dept(t, p.uniq("COR"), "XZCF", "")

	t.Run("a correction is version 2 and the history lists both versions", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("V"), "2026-05-01", nil)
		rec := srv.submit(t, token, who, sub)
		sub["fields"].(map[string]any)["fine_amount"] = 1500
		body := map[string]any{"note": "复议变更罚款金额"}
		for k, v := range sub {
			body[k] = v
		}
		path := "/api/v1/records/" + rec.ID
		put := srv.putJSON(t, token, path, body).want(t, http.StatusOK).record(t, who)
		if put.ID != rec.ID || put.Version != 2 || put.Fields["fine_amount"] != 1500.0 {
			t.Errorf("PUT answered %s v%d fine %v, want %s v2 fine 1500", put.ID, put.Version, put.Fields["fine_amount"], rec.ID)
		}
		got := srv.get(t, token, path).want(t, http.StatusOK).record(t, who)
		if got.Version != 2 || got.Fields["fine_amount"] != 1500.0 {
			t.Errorf("GET after PUT: v%d fine %v, want v2 fine 1500", got.Version, got.Fields["fine_amount"])
		}
		var hist struct {
			Versions []struct {
				Version int    `json:"version"`
				Change  string `json:"change"`
			} `json:"versions"`
		}
		srv.get(t, token, path+"/versions").want(t, http.StatusOK).decode(t, &hist)
		if got := fmt.Sprint(hist.Versions); got != "[{1 created} {2 corrected}]" {
			t.Errorf("versions %s, want [{1 created} {2 corrected}]", got)
		}
	})
	t.Run("a correction with the same content makes no new version", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("V"), "2026-05-01", nil)
		rec := srv.submit(t, token, who, sub)
		put := srv.putJSON(t, token, "/api/v1/records/"+rec.ID, sub).want(t, http.StatusOK).record(t, who)
		if put.Version != 1 {
			t.Errorf("version %d after an unchanged correction, want 1", put.Version)
		}
	})
	t.Run("a correction of the decision date moves the display window", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		rec := srv.submit(t, token, who, penalty(who, p.uniq("DD"), "2026-05-01", nil))
		put := srv.putJSON(t, token, "/api/v1/records/"+rec.ID, penalty(who, rec.Ref, "2026-06-15", nil)).want(t, http.StatusOK).record(t, who)
		wantWindow(t, put, "general", "2026-06-15", "2026-09-15", "2027-06-15", false)
	})
	t.Run("a correction of the person moves the record to the right file", func(t *testing.T) {
		t.Parallel()
		wrong, right := newPerson(), newPerson()
		reader := p.dept(t, p.uniq("CREAD"), "", "XZCF")
		rec := srv.submit(t, token, wrong, penalty(wrong, p.uniq("WP"), "2026-05-01", nil))
		srv.putJSON(t, token, "/api/v1/records/"+rec.ID, penalty(right, rec.Ref, "2026-05-01", nil)).want(t, http.StatusOK).record(t, right)
		if f := srv.file(t, reader, wrong, "更正核对"); len(f.Records) != 0 {
			t.Errorf("the wrongly named person's file still holds %+v", f.Records)
		}
		if f := srv.file(t, reader, right, "更正核对"); len(f.Records) != 1 || f.Records[0].ID != rec.ID {
			t.Errorf("the right person's file holds %+v, want record %s", f.Records, rec.ID)
		}
	})
	t.Run("a correction cannot change the ref or the item (422)", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("IM"), "2026-05-01", nil)
		rec := srv.submit(t, token, who, sub)
		sub["ref"] = p.uniq("OTHER")
		srv.putJSON(t, token, "/api/v1/records/"+rec.ID, sub).wantError(t, http.StatusUnprocessableEntity, "ref")
		sub["ref"], sub["item"] = rec.Ref, "XZXK"
		srv.putJSON(t, token, "/api/v1/records/"+rec.ID, sub).wantError(t, http.StatusUnprocessableEntity, "item")
	})
	t.Run("a revocation ends display at once and cannot be repeated or corrected", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		sub := penalty(who, p.uniq("RV"), "2026-05-01", nil)
		rec := srv.submit(t, token, who, sub)
		path := "/api/v1/records/" + rec.ID
		why := map[string]string{"reason": "行政复议撤销原处罚决定", "basis": "津政复决字〔2026〕12号"}
		rev := srv.postJSON(t, token, path+"/revoke", why).want(t, http.StatusOK).record(t, who)
		if rev.Status != "revoked" || rev.State != "revoked" || rev.Revocation == nil || rev.Revocation.Basis != why["basis"] {
			t.Errorf("after revoke: status %q state %q revocation %+v", rev.Status, rev.State, rev.Revocation)
		}
		if got := srv.get(t, token, path).want(t, http.StatusOK).record(t, who); got.State != "revoked" {
			t.Errorf("GET after revoke: state %q, want revoked", got.State)
		}
		srv.postJSON(t, token, path+"/revoke", why).wantError(t, http.StatusConflict)
		sub["fields"].(map[string]any)["fine_amount"] = 1500
		srv.putJSON(t, token, path, sub).wantError(t, http.StatusConflict)
		var hist struct {
			Versions []struct {
				Version int    `json:"version"`
				Change  string `json:"change"`
			} `json:"versions"`
		}
		srv.get(t, token, path+"/versions").want(t, http.StatusOK).decode(t, &hist)
		if got := fmt.Sprint(hist.Versions); got != "[{1 created} {2 revoked}]" {
			t.Errorf("versions %s, want [{1 created} {2 revoked}]", got)
		}
	})
	t.Run("a revocation without its legal basis is 422", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		rec := srv.submit(t, token, who, penalty(who, p.uniq("RB"), "2026-05-01", nil))
		srv.postJSON(t, token, "/api/v1/records/"+rec.ID+"/revoke", map[string]string{"reason": "撤销"}).
			wantError(t, http.StatusUnprocessableEntity, "basis")
		if got := srv.get(t, token, "/api/v1/records/"+rec.ID).want(t, http.StatusOK).record(t, who); got.Status != "active" {
			t.Errorf("status %q after a refused revocation, want active", got.Status)
		}
	})
}

func (s *suite) departments(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	probe := func(t *testing.T, token string) response {
		t.Helper()
		return srv.get(t, token, "/api/v1/batches/"+strings.Repeat("0", 32)) // 404 when the token is good
	}
	t.Run("dept list shows the registered departments", func(t *testing.T) {
		t.Parallel()
		code := p.uniq("LIST")
		p.dept(t, code, "XZCF,XZXK", "SXBZXR")
		out := p.mustRun(t, nil, "dept", "list")
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, code+" ") {
				line = l
			}
		}
		for _, want := range []string{"部门 " + code, "XZCF,XZXK", "SXBZXR", "active"} {
			if !strings.Contains(line, want) {
				t.Errorf("dept list line %q lacks %q; list:\n%s", line, want, out)
			}
		}
	})
	t.Run("dept tokens lists every holder's tokens, never the token, with its state", func(t *testing.T) {
		t.Parallel()
		name, code := p.uniq("tokaud"), p.uniq("TOK")
		first := lastLine(p.mustRun(t, nil, "dept", "add", "--auditor", name))
		second := lastLine(p.mustRun(t, nil, "dept", "token", "--auditor", name, "--revoke-earlier", "--expires", "24h"))
		deptToken := p.dept(t, code, "XZCF", "")
		p.mustRun(t, nil, "dept", "disable", code)
		out := p.mustRun(t, nil, "dept", "tokens")
		line := func(token string) string {
			h := sha256.Sum256([]byte(token))
			id := fmt.Sprintf("sha256:%x", h[:6])
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, id) {
					return l
				}
			}
			t.Fatalf("dept tokens does not list token %s:\n%s", id, out)
			return ""
		}
		for _, c := range []struct{ token, kind, holder, status string }{
			{first, "auditor", name, "revoked"}, {second, "auditor", name, "active"}, {deptToken, "department", code, "revoked"},
		} {
			l := strings.Fields(line(c.token))
			if len(l) < 6 || l[0] != c.kind || l[1] != c.holder || l[5] != c.status {
				t.Errorf("dept tokens line %q, want %s %s ... %s", l, c.kind, c.holder, c.status)
			}
		}
		if l := strings.Fields(line(second)); len(l) < 5 || l[4] == "never" {
			t.Errorf("the rotated token's line %q shows no expiry", l)
		}
		for _, tok := range []string{first, second, deptToken} {
			if strings.Contains(out, tok) {
				t.Errorf("dept tokens prints a token itself")
			}
		}
		if r := p.run(t, nil, "dept", "tokens", "--auditor", name); r.Code != 2 {
			t.Errorf("dept tokens --auditor: exit %d, want 2", r.Code)
		}
		// Codes and names are kept in clear and logged: none carries a number.
		who := newPerson()
		for _, args := range [][]string{{"--code", "C" + who.Number, "--name", "x", "--submit", "XZCF"}, {"--code", p.uniq("IDN"), "--name", "局" + who.Number, "--submit", "XZCF"}, {"--auditor", "aud" + who.Number}} {
			if r := p.run(t, nil, append([]string{"dept", "add"}, args...)...); r.Code != 1 || !strings.Contains(r.Stderr, "identity number") || strings.Contains(r.Stderr+r.Stdout, who.Number) {
				t.Errorf("dept add %q: exit %d, %q; want 1 refusing the identity number, masked", args, r.Code, r.Stderr)
			}
		}
		// A mistyped name gets no token of its own.
		if r := p.run(t, nil, "dept", "token", "--auditor", name+"x"); r.Code != 1 || !strings.Contains(r.Stderr, "no auditor") || strings.Contains(r.Stdout, "pct_") {
			t.Errorf("dept token --auditor of an unknown name: exit %d, %q %q; want 1 saying there is no such auditor", r.Code, r.Stdout, r.Stderr)
		}
	})
	t.Run("dept add keeps each code once, however the lists are written", func(t *testing.T) {
		t.Parallel()
		code := p.uniq("DUP")
		out := p.mustRun(t, nil, "dept", "add", "--code", code, "--name", "部门 "+code, "--submit", "XZCF, XZCF,,XZXK", "--read", "XZCF",
			"--lists", "SXBZXR,,SXBZXR", "--matters", "high_consumption, high_consumption")
		if !strings.Contains(out, "submit [XZCF,XZXK], read [XZCF], lists [SXBZXR], matters [high_consumption]") {
			t.Errorf("dept add printed %q", out)
		}
		list := p.mustRun(t, nil, "dept", "list")
		for _, l := range strings.Split(list, "\n") {
			if strings.HasPrefix(l, code+" ") && (strings.Contains(l, "SXBZXR,SXBZXR") || strings.Contains(l, "XZCF,XZCF")) {
				t.Errorf("dept list line %q holds a code twice", l)
			}
		}
	})
	t.Run("dept add --expires gives the first token that lifetime", func(t *testing.T) {
		t.Parallel()
		earlier := p.at(e2eNow.Add(-2 * time.Hour)) // added two hours before the server's clock
		expired, valid := p.uniq("EXP"), p.uniq("EXP")
		probe(t, lastLine(earlier.mustRun(t, nil, "dept", "add", "--code", expired, "--name", "x", "--submit", "XZCF", "--expires", "1h"))).
			wantError(t, http.StatusUnauthorized)
		probe(t, lastLine(earlier.mustRun(t, nil, "dept", "add", "--code", valid, "--name", "x", "--submit", "XZCF", "--expires", "3h"))).
			wantError(t, http.StatusNotFound)
		r := p.run(t, nil, "dept", "add", "--code", p.uniq("EXP"), "--name", "x", "--submit", "XZCF", "--expires", "-5s")
		if r.Code != 2 || !strings.Contains(r.Stderr, "negative") {
			t.Errorf("--expires -5s: exit %d, %q; want 2 saying it is negative", r.Code, r.Stderr)
		}
	})
	t.Run("dept add --operator issues a platform operator's token: statistics and access logs, no records", func(t *testing.T) {
		t.Parallel()
		out := p.mustRun(t, nil, "dept", "add", "--operator", p.uniq("ops"))
		token := lastLine(out)
		if !strings.HasPrefix(token, "pct_") || !strings.Contains(out, "operator ") {
			t.Fatalf("dept add --operator printed %q", out)
		}
		srv.get(t, token, "/api/v1/stats/measures").want(t, http.StatusOK)
		srv.get(t, token, "/api/v1/audit/access?id_number="+newPerson().Number).want(t, http.StatusOK)
		srv.postJSON(t, token, "/api/v1/records", penalty(newPerson(), p.uniq("OP"), "2026-05-01", nil)).wantError(t, http.StatusForbidden)
		if r := p.run(t, nil, "dept", "add", "--operator", "a", "--auditor", "b"); r.Code != 2 {
			t.Errorf("--operator with --auditor: exit %d, want 2", r.Code)
		}
	})
	t.Run("an auditor's token is rotated and revoked from the shell", func(t *testing.T) {
		t.Parallel()
		name := p.uniq("aud")
		audit := func(token string) response {
			return srv.get(t, token, "/api/v1/audit/access?id_number="+newPerson().Number)
		}
		first := p.auditor(t, name)
		out := p.mustRun(t, nil, "dept", "token", "--auditor", name, "--revoke-earlier")
		second := lastLine(out)
		if !strings.Contains(out, "1 earlier token(s) revoked") {
			t.Errorf("dept token --auditor printed %q", out)
		}
		audit(first).wantError(t, http.StatusUnauthorized)
		audit(second).want(t, http.StatusOK)
		if out := p.mustRun(t, nil, "dept", "disable", "--auditor", name); !strings.Contains(out, "1 token(s) revoked") {
			t.Errorf("dept disable --auditor printed %q", out)
		}
		audit(second).wantError(t, http.StatusUnauthorized)
		if r := p.run(t, nil, "dept", "disable", "--auditor", name); r.Code != 1 || !strings.Contains(r.Stderr, "no token") {
			t.Errorf("disabling an auditor with no live token: exit %d, %q", r.Code, r.Stderr)
		}
		if r := p.run(t, nil, "dept", "add", "--operator", p.uniq("ops"), "--code", p.uniq("X"), "--name", "x"); r.Code != 2 {
			t.Errorf("dept add --operator with --code: exit %d, want 2 (usage)", r.Code)
		}
	})
	t.Run("a disabled department's token is 401", func(t *testing.T) {
		t.Parallel()
		code := p.uniq("DIS")
		token := p.dept(t, code, "XZCF", "")
		probe(t, token).wantError(t, http.StatusNotFound)
		if out := p.mustRun(t, nil, "dept", "disable", code); !strings.Contains(out, "disabled") {
			t.Errorf("dept disable printed %q", out)
		}
		probe(t, token).wantError(t, http.StatusUnauthorized)
		who := newPerson()
		srv.postJSON(t, token, "/api/v1/records", penalty(who, "DIS", "2026-05-01", nil)).wantError(t, http.StatusUnauthorized)
	})
	t.Run("dept token issues a new working token", func(t *testing.T) {
		t.Parallel()
		code := p.uniq("TOK")
		first := p.dept(t, code, "XZCF", "")
		second := lastLine(p.mustRun(t, nil, "dept", "token", code))
		if !strings.HasPrefix(second, "pct_") || second == first {
			t.Fatalf("dept token printed %q as its last line", second)
		}
		who := newPerson()
		srv.submit(t, second, who, penalty(who, p.uniq("TOK"), "2026-05-01", nil))
	})
	t.Run("dept token --revoke-earlier revokes the earlier tokens; the code may come before the flags", func(t *testing.T) {
		t.Parallel()
		code := p.uniq("ROT")
		first := p.dept(t, code, "XZCF", "")
		second := lastLine(p.mustRun(t, nil, "dept", "token", code))
		// As typed at a shell: the code first, then the flags.
		var stdout, stderr bytes.Buffer
		if rc := RunEnv(t.Context(), []string{"dept", "token", code, "--revoke-earlier", "--db", p.db, "--keys", p.keys},
			Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: getenv(nil), Clock: p.clock}); rc != 0 {
			t.Fatalf("dept token %s --revoke-earlier: exit %d\n%s", code, rc, stderr.String())
		}
		out := stdout.String()
		third := lastLine(out)
		if !strings.HasPrefix(third, "pct_") || !strings.Contains(out, "2 earlier token(s) revoked") {
			t.Fatalf("dept token --revoke-earlier printed:\n%s", out)
		}
		who := newPerson()
		for _, old := range []string{first, second} {
			srv.postJSON(t, old, "/api/v1/records", penalty(who, p.uniq("ROT"), "2026-05-01", nil)).wantError(t, http.StatusUnauthorized)
		}
		srv.submit(t, third, who, penalty(who, p.uniq("ROT"), "2026-05-01", nil))
		if r := p.run(t, nil, "dept", "token", code, "extra"); r.Code == 0 || strings.Contains(r.Stdout, "pct_") {
			t.Errorf("dept token with two codes: exit %d, stdout %q", r.Code, r.Stdout)
		}
	})
	t.Run("demo fills the store and prints working tokens", func(t *testing.T) {
		t.Parallel()
		out := p.mustRun(t, nil, "demo", "--people", "5")
		var tokens []string
		var sample string
		for _, l := range strings.Split(out, "\n") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(l), "token: "); ok {
				tokens = append(tokens, tok)
			}
			if _, n, ok := strings.Cut(l, "a sample person: "); ok {
				sample = strings.TrimSpace(n)
			}
		}
		if len(tokens) < 2 || len(sample) != 18 {
			t.Fatalf("demo printed %d tokens and sample %q:\n%s", len(tokens), sample, out)
		}
		numbersMu.Lock()
		numbers = append(numbers, sample) // never to be seen in clear either
		numbersMu.Unlock()
		seen := 0
		for _, tok := range tokens {
			res := srv.get(t, tok, "/api/v1/subjects/"+sample+"/file?purpose=demo")
			if res.Status == http.StatusOK {
				var f fileJSON
				res.decode(t, &f)
				seen += len(f.Records)
			}
		}
		if seen == 0 {
			t.Errorf("no demo department sees a record of the sample person")
		}
	})
	t.Run("version prints the version", func(t *testing.T) {
		t.Parallel()
		if out := p.mustRun(t, nil, "version"); !strings.HasPrefix(out, "pubcredit ") {
			t.Errorf("version printed %q", out)
		}
	})
	t.Run("dept add refuses a code already taken", func(t *testing.T) {
		t.Parallel()
		code := p.uniq("DUP")
		p.dept(t, code, "XZCF", "")
		if r := p.run(t, nil, "dept", "add", "--code", code, "--name", "again", "--submit", "XZCF"); r.Code == 0 || strings.Contains(r.Stdout, "pct_") {
			t.Errorf("a second dept add %s: exit %d, stdout %q", code, r.Code, r.Stdout)
		}
	})
	t.Run("dept add refuses an item the catalog does not have", func(t *testing.T) {
		t.Parallel()
		r := p.run(t, nil, "dept", "add", "--code", p.uniq("BAD"), "--name", "x", "--submit", "NOPE")
		if r.Code == 0 || !strings.Contains(r.Stderr, "NOPE") {
			t.Errorf("dept add --submit NOPE: exit %d, stderr %q", r.Code, r.Stderr)
		}
	})
	t.Run("dept token for an unknown department fails", func(t *testing.T) {
		t.Parallel()
		if r := p.run(t, nil, "dept", "token", p.uniq("GHOST")); r.Code == 0 || strings.Contains(r.Stdout, "pct_") {
			t.Errorf("dept token GHOST: exit %d, stdout %q", r.Code, r.Stdout)
		}
	})
}
