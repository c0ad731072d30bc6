package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The integrity file, the access log and privacy at rest.

// fileJSON is an integrity file as a department sees it.
type fileJSON struct {
	Subject struct {
		IDType   string `json:"id_type"`
		IDNumber string `json:"id_number"`
		Name     string `json:"name"`
	} `json:"subject"`
	Purpose string `json:"purpose"`
	Records []struct {
		ID         string         `json:"id"`
		Item       string         `json:"item"`
		Department string         `json:"department"`
		Status     string         `json:"status"`
		State      string         `json:"state"`
		DecidedOn  string         `json:"decided_on"`
		Severity   string         `json:"severity"`
		Fields     map[string]any `json:"fields"`
		Display    *struct {
			End *string `json:"end"`
		} `json:"display"`
	} `json:"records"`
}

// file looks up a person's integrity file.
func (s *server) file(t *testing.T, token string, who person, purpose string) fileJSON {
	t.Helper()
	var f fileJSON
	s.get(t, token, "/api/v1/subjects/"+who.Number+"/file?purpose="+url.QueryEscape(purpose)).want(t, http.StatusOK).decode(t, &f)
	if f.Subject.IDNumber != who.MaskedNumber() {
		t.Errorf("file subject %q, want masked %q", f.Subject.IDNumber, who.MaskedNumber())
	}
	if len(f.Records) > 0 && f.Subject.Name != who.MaskedName() {
		t.Errorf("file subject name %q, want masked %q", f.Subject.Name, who.MaskedName())
	}
	return f
}

func (s *suite) integrityFile(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	mktCode, readerCode := p.uniq("FMKT"), p.uniq("FREAD")
	mkt := p.dept(t, mktCode, "XZCF", "XZCF")
	court := p.dept(t, p.uniq("FCOURT"), "SXBZXR", "")
	reader := p.dept(t, readerCode, "", "XZCF,SXBZXR")
	narrow := p.dept(t, p.uniq("FNARROW"), "", "SXBZXR")
	auditor := p.auditor(t, p.uniq("audit"))

	who, stranger := newPerson(), newPerson()
	general := srv.submit(t, mkt, who, penalty(who, p.uniq("FG"), "2026-05-01", nil))
	minor := srv.submit(t, mkt, who, penalty(who, p.uniq("FM"), "2026-05-01", map[string]any{"fine_amount": 100}))
	revoked := srv.submit(t, mkt, who, penalty(who, p.uniq("FR"), "2026-06-01", nil))
	srv.postJSON(t, mkt, "/api/v1/records/"+revoked.ID+"/revoke", map[string]string{"reason": "撤销", "basis": "复议决定"}).want(t, http.StatusOK)
	debtor := srv.submit(t, court, who, map[string]any{
		"item": "SXBZXR", "decided_on": "2026-03-01",
		"subject": map[string]any{"id_number": who.Number, "name": who.Name},
		"fields": map[string]any{"decision_no": "(2026)津0101执" + p.uniq("F") + "号", "court": "天津市和平区人民法院",
			"circumstances": "有履行能力而拒不履行"},
	})
	srv.submit(t, mkt, stranger, penalty(stranger, p.uniq("FS"), "2026-05-01", nil))
	const purpose = "行政许可审查：申请食品经营许可"

	t.Run("a department with read rights sees every record with its display state", func(t *testing.T) {
		f := srv.file(t, reader, who, purpose)
		if f.Purpose != purpose {
			t.Errorf("purpose %q, want %q", f.Purpose, purpose)
		}
		states := map[string]string{}
		for _, r := range f.Records {
			states[r.ID] = r.State
		}
		want := map[string]string{general.ID: "in_display", minor.ID: "display_ended", revoked.ID: "revoked", debtor.ID: "in_display"}
		if fmt.Sprint(states) != fmt.Sprint(want) {
			t.Errorf("records and states\n got %v\nwant %v", states, want)
		}
		for _, r := range f.Records {
			shown := r.Fields != nil
			if wantShown := r.State == "in_display"; shown != wantShown {
				t.Errorf("record %s (%s): content shown %v, want %v (sharing stops with display)", r.ID, r.State, shown, wantShown)
			}
		}
	})
	t.Run("a revoked record shows state revoked", func(t *testing.T) {
		for _, r := range srv.file(t, reader, who, purpose).Records {
			if r.ID == revoked.ID && (r.State != "revoked" || r.Status != "revoked") {
				t.Errorf("revoked record: status %q state %q", r.Status, r.State)
			}
		}
	})
	t.Run("the submitting department sees its own records in full", func(t *testing.T) {
		f := srv.file(t, mkt, who, purpose)
		for _, r := range f.Records {
			if r.Item != "XZCF" {
				t.Errorf("a department reading XZCF only sees %s record %s", r.Item, r.ID)
			}
			if r.ID == minor.ID && r.Fields == nil {
				t.Errorf("its own minor record is shown without content")
			}
		}
	})
	t.Run("a department does not see items it has no read rights on", func(t *testing.T) {
		f := srv.file(t, narrow, who, purpose)
		if len(f.Records) != 1 || f.Records[0].ID != debtor.ID {
			t.Errorf("a department reading SXBZXR only sees %+v", f.Records)
		}
	})
	t.Run("a file lookup without a purpose is 422", func(t *testing.T) {
		srv.get(t, reader, "/api/v1/subjects/"+who.Number+"/file").wantError(t, http.StatusUnprocessableEntity, "purpose")
		srv.get(t, reader, "/api/v1/subjects/"+who.Number+"/file?purpose=%20").wantError(t, http.StatusUnprocessableEntity, "purpose")
	})
	t.Run("a file lookup with a bad identity number is 422", func(t *testing.T) {
		srv.get(t, reader, "/api/v1/subjects/"+wrongCheck(who)+"/file?purpose=x").wantError(t, http.StatusUnprocessableEntity, "id_number")
	})
	t.Run("a person the platform does not know has an empty file", func(t *testing.T) {
		if f := srv.file(t, reader, newPerson(), purpose); len(f.Records) != 0 {
			t.Errorf("records %+v for an unknown person", f.Records)
		}
	})
	t.Run("a department without read rights is refused the file (403)", func(t *testing.T) {
		writer := p.dept(t, p.uniq("FWRITE"), "XZCF", "")
		srv.get(t, writer, "/api/v1/subjects/"+who.Number+"/file?purpose=x").wantError(t, http.StatusForbidden)
	})
	t.Run("an auditor sees the file lookups and record reads with their purpose", func(t *testing.T) {
		srv.get(t, mkt, "/api/v1/records/"+general.ID).want(t, http.StatusOK)
		var log struct {
			Subject struct {
				IDNumber string `json:"id_number"`
			} `json:"subject"`
			Events []struct {
				Action    string   `json:"action"`
				Principal string   `json:"principal"`
				Purpose   string   `json:"purpose"`
				Records   []string `json:"records"`
				At        string   `json:"at"`
			} `json:"events"`
		}
		srv.get(t, auditor, "/api/v1/audit/access?id_number="+who.Number).want(t, http.StatusOK).decode(t, &log)
		if log.Subject.IDNumber != who.MaskedNumber() {
			t.Errorf("audit subject %q, want masked", log.Subject.IDNumber)
		}
		var lookup, read bool
		for _, e := range log.Events {
			if e.Action == "file.read" && e.Principal == readerCode && e.Purpose == purpose && slices.Contains(e.Records, general.ID) {
				lookup = true
			}
			if e.Action == "record.read" && e.Principal == mktCode && slices.Contains(e.Records, general.ID) && e.Purpose != "" {
				read = true
			}
		}
		if !lookup || !read {
			t.Errorf("the access log lacks the file lookup by %s (%v) or the record read by %s (%v):\n%+v", readerCode, lookup, mktCode, read, log.Events)
		}
		var other struct {
			Events []struct {
				Records []string `json:"records"`
			} `json:"events"`
		}
		srv.get(t, auditor, "/api/v1/audit/access?id_number="+stranger.Number).want(t, http.StatusOK).decode(t, &other)
		for _, e := range other.Events {
			for _, id := range e.Records {
				if id == general.ID {
					t.Errorf("another person's access log lists record %s", id)
				}
			}
		}
	})
	t.Run("an auditor pages through the whole access log with next_before", func(t *testing.T) {
		type page struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
			NextBefore string `json:"next_before"`
		}
		var all page
		srv.get(t, auditor, "/api/v1/audit/access?limit=1000&id_number="+who.Number).want(t, http.StatusOK).decode(t, &all)
		// Each read of the log is logged too: the pages hold the events of
		// the whole log and the reads since (this clock stands still, so
		// events of one instant are ordered by id: the reads fall anywhere).
		var ids []string
		before := ""
		for range len(all.Events) + 5 {
			var pg page
			srv.get(t, auditor, "/api/v1/audit/access?limit=2&id_number="+who.Number+"&before="+before).want(t, http.StatusOK).decode(t, &pg)
			for _, e := range pg.Events {
				ids = append(ids, e.ID)
			}
			if before = pg.NextBefore; before == "" {
				break
			}
		}
		missing := 0
		for _, e := range all.Events {
			if !slices.Contains(ids, e.ID) {
				missing++
			}
		}
		if missing > 0 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) || len(ids) > len(all.Events)+len(ids)/2+1 {
			t.Errorf("paging by 2 gave %d events %v: %d of the %d of the whole log are missing, or some came twice", len(ids), ids, missing, len(all.Events))
		}
		srv.get(t, auditor, "/api/v1/audit/access?id_number="+who.Number+"&before=nope").wantError(t, http.StatusUnprocessableEntity, "before")
	})
	t.Run("a department token on the audit route is 403", func(t *testing.T) {
		srv.get(t, reader, "/api/v1/audit/access?id_number="+who.Number).wantError(t, http.StatusForbidden)
	})
	t.Run("an auditor token cannot submit records (403)", func(t *testing.T) {
		srv.postJSON(t, auditor, "/api/v1/records", penalty(newPerson(), "AU", "2026-05-01", nil)).wantError(t, http.StatusForbidden)
	})
}

func (s *suite) privacy(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	t.Run("identity numbers and names are neither stored nor logged in clear", func(t *testing.T) {
		code := p.uniq("PMKT")
		mkt := p.dept(t, code, "XZCF", "XZCF")
		auditor := p.auditor(t, p.uniq("paudit"))
		who := newPerson()
		rec := srv.submit(t, mkt, who, penalty(who, p.uniq("PR"), "2026-05-01", map[string]any{"facts": "当事人未按规定公示信息。"}))
		srv.putJSON(t, mkt, "/api/v1/records/"+rec.ID, penalty(who, rec.Ref, "2026-05-01", map[string]any{"fine_amount": 800})).want(t, http.StatusOK)
		srv.postJSON(t, mkt, "/api/v1/records", penalty(who, p.uniq("PF"), "2026-12-31", nil)).want(t, http.StatusUnprocessableEntity)
		batch := string(mustJSON(t, penalty(who, p.uniq("PB"), "2026-04-01", nil))) + "\n" +
			string(mustJSON(t, penalty(who, p.uniq("PB"), "2029-01-01", nil))) + "\n"
		srv.send(t, request{method: http.MethodPost, path: "/api/v1/batches", token: mkt, contentType: "application/x-ndjson", body: []byte(batch)}).want(t, http.StatusCreated)
		srv.file(t, mkt, who, "隐私检查")
		srv.get(t, auditor, "/api/v1/audit/access?id_number="+who.Number).want(t, http.StatusOK)
		srv.send(t, request{method: http.MethodGet, path: "/api/v1/subjects/" + who.Number, token: mkt, unrouted: true}).wantError(t, http.StatusNotFound)

		s.scanData(t, map[string][]byte{"the identity number": []byte(who.Number), "the name": []byte(who.Name)}, "部门 "+code)
		if log := srv.log.String(); strings.Contains(log, who.Number) || strings.Contains(log, who.Name) {
			t.Errorf("the server log carries the person's identity number or name")
		}
	})
	t.Run("an identity number in the text a clerk types is refused or masked, however it is written", func(t *testing.T) {
		code := p.uniq("PTXT")
		mkt := p.dept(t, code, "XZCF", "XZCF")
		who := newPerson()
		fullWidth := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r - '0' + '０'
			}
			return r
		}, who.Number)
		grouped := who.Number[:6] + " " + who.Number[6:14] + " " + who.Number[14:]
		// A ref is kept and shown in clear: one that carries the number is refused.
		dashed := who.Number[:6] + " - " + who.Number[6:14] + " - " + who.Number[14:]
		for _, ref := range []string{"B-" + who.Number, who.Number + "01", fullWidth, grouped, dashed, "R" + who.Number + "12345678901234"} {
			srv.postJSON(t, mkt, "/api/v1/records", penalty(who, ref, "2026-05-01", nil)).wantError(t, http.StatusUnprocessableEntity, "ref")
		}
		// A batch keeps its refused rows' refs masked.
		batch := string(mustJSON(t, penalty(who, "B-"+who.Number, "2026-05-01", nil))) + "\n" +
			string(mustJSON(t, penalty(who, p.uniq("TB"), "2026-05-01", nil))) + "\n"
		var b struct {
			ID         string `json:"id"`
			Rejections []struct {
				Ref string `json:"ref"`
			} `json:"rejections"`
		}
		srv.send(t, request{method: http.MethodPost, path: "/api/v1/batches", token: mkt, contentType: "application/x-ndjson", body: []byte(batch)}).want(t, http.StatusCreated).decode(t, &b)
		if len(b.Rejections) != 1 || strings.Contains(b.Rejections[0].Ref, who.Number[6:14]) {
			t.Errorf("the batch's rejections %+v: want one, its ref masked", b.Rejections)
		}
		srv.get(t, mkt, "/api/v1/batches/"+b.ID+"/rejections").want(t, http.StatusOK)
		// Free text is masked: a revocation's reason and basis, a lookup's purpose.
		rec := srv.submit(t, mkt, who, penalty(who, p.uniq("TR"), "2026-05-01", nil))
		rev := srv.postJSON(t, mkt, "/api/v1/records/"+rec.ID+"/revoke", map[string]string{
			"reason": "录入错误：" + who.Name + " " + grouped, "basis": "复核 " + fullWidth}).want(t, http.StatusOK)
		for _, clear := range []string{who.Name, grouped, fullWidth} {
			if strings.Contains(string(rev.Body), clear) {
				t.Errorf("the revocation's answer carries %q in clear: %s", clear, rev.Body)
			}
		}
		if f := srv.file(t, mkt, who, "复核 "+grouped); f.Purpose != "复核 "+who.Number[:6]+" ******** "+who.Number[14:] {
			t.Errorf("the file's purpose is %q, want the grouped number masked", f.Purpose)
		}
		if f := srv.file(t, mkt, who, "复核 "+dashed+"，案号202605010000000001"); f.Purpose != "复核 "+who.Number[:6]+" - ******** - "+who.Number[14:]+"，案号202605010000000001" {
			t.Errorf("the file's purpose is %q, want the number masked and the case number whole", f.Purpose)
		}
		// A record's text about the person is shown masked as the person
		// is, to the department that reads it and to the one that wrote it.
		srv.submit(t, mkt, who, penalty(who, p.uniq("TF"), "2026-05-01", map[string]any{"facts": "当事人" + who.Name + "（身份证" + who.Number + "）未按规定公示信息"}))
		masked := "当事人" + who.MaskedName() + "（身份证" + who.MaskedNumber() + "）未按规定公示信息"
		for _, token := range []string{p.dept(t, p.uniq("PRD"), "", "XZCF"), mkt} {
			seen := 0
			for _, r := range srv.file(t, token, who, "许可审查").Records {
				if f, _ := r.Fields["facts"].(string); f != "" {
					if seen++; f != masked {
						t.Errorf("the facts are shown as %q, want %q", f, masked)
					}
				}
			}
			if seen != 1 {
				t.Errorf("the facts are shown in %d records, want 1", seen)
			}
		}
		s.scanData(t, map[string][]byte{"the identity number": []byte(who.Number), "the number grouped": []byte(grouped), "the number dashed": []byte(dashed),
			"the number in full-width digits": []byte(fullWidth), "the name": []byte(who.Name)}, "部门 "+code)
	})
}

// scanData reports any secret found in clear in the platform's data: every
// file of the SQLite data directory (database, WAL, shared memory), or
// every row of every PostgreSQL table. control is text stored in clear (a
// department's name): not finding it means the scan does not see the data.
func (s *suite) scanData(t *testing.T, secrets map[string][]byte, control string) {
	t.Helper()
	p := s.p
	if p.dataDir == "" {
		scanPostgres(t, p.db, secrets, control)
		return
	}
	seen := false
	entries, err := os.ReadDir(p.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(p.dataDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		seen = seen || bytes.Contains(b, []byte(control))
		for what, secret := range secrets {
			if bytes.Contains(b, secret) {
				t.Errorf("%s is in clear in %s", what, e.Name())
			}
		}
	}
	if len(names) < 2 {
		t.Errorf("the data directory holds only %v; expected the database and its WAL", names)
	}
	if !seen {
		t.Errorf("the scan of %v did not find the control text %q: it does not see the data", names, control)
	}
}

// sweep looks for every person's identity number and name, in clear, in
// the data and in every server's log, once every case has run.
func (s *suite) sweep(t *testing.T) {
	secrets := map[string][]byte{}
	for _, n := range knownNumbers() {
		secrets["identity number "+n[:6]+"…"] = []byte(n)
	}
	for _, n := range knownNames() {
		secrets["the name "+string([]rune(n)[:1])+"…"] = []byte(n)
	}
	s.scanData(t, secrets, "部门 ")
	for i, srv := range s.p.servers.all() {
		log := srv.log.String()
		for what, secret := range secrets {
			if strings.Contains(log, string(secret)) {
				t.Errorf("%s is in the log of server %d", what, i)
			}
		}
	}
}

// scanPostgres reads every row of every table of the database as text and
// reports any secret found in clear (or as the hex of a bytea).
func scanPostgres(t *testing.T, dbURL string, secrets map[string][]byte, control string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, pgx.Identifier{schema, name}.Sanitize())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("the database has no tables")
	}
	seen := false
	for _, table := range tables {
		var dump string
		if err := conn.QueryRow(ctx, "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM "+table+" t").Scan(&dump); err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		seen = seen || strings.Contains(dump, control)
		for what, secret := range secrets {
			if strings.Contains(dump, string(secret)) || strings.Contains(dump, hex.EncodeToString(secret)) {
				t.Errorf("%s is in clear in table %s", what, table)
			}
		}
	}
	if !seen {
		t.Errorf("the scan of %v did not find the control text %q: it does not see the data", tables, control)
	}
}
