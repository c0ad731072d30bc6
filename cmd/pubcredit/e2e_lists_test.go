package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pubcredit/internal/store/postgres/pgtest"
)

// End-to-end tests of the red and black lists (issue 4, parts 1 and 2) and
// of the working-day calendar, through the real command on SQLite and
// PostgreSQL. Cases that move the clock (a notice period ending) run on a
// platform of their own, so that no server of another case moves their
// entries on with its own clock.

// TestListsSQLite runs the lists suite on fresh SQLite files.
func TestListsSQLite(t *testing.T) {
	t.Parallel()
	runListsSuite(t, func(*testing.T) string { return "" })
}

// TestListsPostgres runs the lists suite on fresh PostgreSQL databases.
func TestListsPostgres(t *testing.T) {
	t.Parallel()
	runListsSuite(t, func(t *testing.T) string { return pgtest.URL(t) })
}

// cityZone is the city's time zone (UTC+8), in which the platform counts days.
var cityZone = time.FixedZone("CST", 8*3600)

// cityTime is a moment on a day of the city, given as YYYY-MM-DD and HH:MM.
func cityTime(day, hm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, cityZone)
	if err != nil {
		panic(err)
	}
	return t
}

// lcPlatform is a fresh platform on a new database of the engine.
func lcPlatform(t *testing.T, newDB func(*testing.T) string) *platform {
	t.Helper()
	spec, err := loadSpec()
	if err != nil {
		t.Errorf("answers are not validated against the API description: %v", err)
	}
	return newPlatform(t, newDB(t), spec)
}

// lcDept registers a department with `pubcredit dept add` and the flags
// given (--lists, --matters, --submit...) and returns its token.
func lcDept(t *testing.T, p *platform, code string, flags ...string) string {
	t.Helper()
	args := append([]string{"dept", "add", "--code", code, "--name", "部门 " + code}, flags...)
	token := lastLine(p.mustRun(t, nil, args...))
	if !strings.HasPrefix(token, "pct_") {
		t.Fatalf("dept add: the last line %q is not a token", token)
	}
	return token
}

// subjectOfPerson is the subject of a request about who.
func subjectOfPerson(who person) map[string]any {
	return map[string]any{"id_type": "resident_id", "id_number": who.Number, "name": who.Name}
}

// debtorEntry is a request to put who on SXBZXR, decided on decided.
func debtorEntry(who person, ref, decided string) map[string]any {
	return map[string]any{
		"ref": ref, "subject": subjectOfPerson(who), "decided_on": decided,
		"document_no": "(2026)津0101执" + ref + "号",
		"grounds":     []string{"refused_with_ability"},
		"basis":       "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第（一）项",
		"fields": map[string]any{
			"filed_on": "2026-01-05", "obligation": "偿还借款本金人民币十万元及利息", "performance": "not_performed",
			"basis_doc_no": "(2025)津0101民初" + ref + "号", "basis_unit": "天津市和平区人民法院",
		},
	}
}

// violationEntry is a request to put who on SCJG_YZWF, decided on decided.
func violationEntry(who person, ref, decided string) map[string]any {
	return map[string]any{
		"ref": ref, "subject": subjectOfPerson(who), "decided_on": decided,
		"document_no": "津市监严列〔2026〕" + ref + "号",
		"grounds":     []string{"food_drug_safety"},
		"basis":       "《市场监督管理严重违法失信名单管理办法》第九条",
	}
}

// listEntryJSON is a list entry as the API answers it.
type listEntryJSON struct {
	ID         string   `json:"id"`
	List       string   `json:"list"`
	Department string   `json:"department"`
	Ref        string   `json:"ref"`
	RecordID   string   `json:"record_id"`
	Status     string   `json:"status"`
	Version    int      `json:"version"`
	DecidedOn  string   `json:"decided_on"`
	ActiveFrom string   `json:"active_from"`
	Until      string   `json:"until"`
	Grounds    []string `json:"grounds"`
	DocumentNo string   `json:"document_no"`
	Basis      string   `json:"basis"`
	Removal    *struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	} `json:"removal"`
	LeafIndex *int64 `json:"leaf_index"`
	Subject   *struct {
		IDType   string `json:"id_type"`
		IDNumber string `json:"id_number"`
		Name     string `json:"name"`
	} `json:"subject"` // in the owner's listing, masked
}

// entry decodes a list entry answer.
func (r response) entry(t *testing.T) listEntryJSON {
	t.Helper()
	var e listEntryJSON
	r.decode(t, &e)
	return e
}

// enter puts a person on a list and returns the new entry (201).
func (s *server) enter(t *testing.T, token, list string, body map[string]any) listEntryJSON {
	t.Helper()
	return s.postJSON(t, token, "/api/v1/lists/"+list+"/entries", body).want(t, http.StatusCreated).entry(t)
}

// removeEntry takes an entry off its list.
func (s *server) removeEntry(t *testing.T, token, list, id, reason, note string) response {
	t.Helper()
	return s.postJSON(t, token, "/api/v1/lists/"+list+"/entries/"+id+"/removal", map[string]string{"reason": reason, "note": note})
}

// ownEntries is the owning department's view of a list.
func (s *server) ownEntries(t *testing.T, token, list, query string) []listEntryJSON {
	t.Helper()
	var out struct {
		Entries []listEntryJSON `json:"entries"`
	}
	s.get(t, token, "/api/v1/lists/"+list+"/entries"+query).want(t, http.StatusOK).decode(t, &out)
	return out.Entries
}

// ownEntry finds one entry in the owning department's view.
func (s *server) ownEntry(t *testing.T, token, list, id string) (listEntryJSON, bool) {
	t.Helper()
	for _, e := range s.ownEntries(t, token, list, "?limit=1000") {
		if e.ID == id {
			return e, true
		}
	}
	return listEntryJSON{}, false
}

// awaitEntryStatus polls the owner's view until the entry has status.
func (s *server) awaitEntryStatus(t *testing.T, token, list, id, status string, within time.Duration) listEntryJSON {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		e, ok := s.ownEntry(t, token, list, id)
		if ok && e.Status == status {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry %s is %q (found %v) %s after the server started; want %q", id, e.Status, ok, within, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publicEntryJSON is an entry of a public list.
type publicEntryJSON struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	IDNumber   string         `json:"id_number"`
	Sex        string         `json:"sex"`
	Age        *int           `json:"age"`
	ActiveFrom string         `json:"active_from"`
	Until      string         `json:"until"`
	Grounds    []string       `json:"grounds"`
	DocumentNo string         `json:"document_no"`
	Fields     map[string]any `json:"fields"`
}

// publicList reads a whole public list (no token), page by page.
func (s *server) publicList(t *testing.T, list string) []publicEntryJSON {
	t.Helper()
	var all []publicEntryJSON
	after := ""
	for range 100 {
		var page struct {
			Entries   []publicEntryJSON `json:"entries"`
			NextAfter string            `json:"next_after"`
		}
		s.get(t, "", "/api/v1/public/lists/"+list+"?limit=500&after="+url.QueryEscape(after)).want(t, http.StatusOK).decode(t, &page)
		all = append(all, page.Entries...)
		if page.NextAfter == "" {
			return all
		}
		after = page.NextAfter
	}
	t.Fatalf("the public list %s does not end", list)
	return nil
}

// publicEntry finds an entry on a public list.
func (s *server) publicEntry(t *testing.T, list, id string) (publicEntryJSON, bool) {
	t.Helper()
	for _, e := range s.publicList(t, list) {
		if e.ID == id {
			return e, true
		}
	}
	return publicEntryJSON{}, false
}

// sexOf and ageOn read a resident identity number independently of
// internal/identity.
func sexOf(who person) string {
	if (who.Number[16]-'0')%2 == 1 {
		return "male"
	}
	return "female"
}

func ageOn(who person, day time.Time) int {
	birth, err := time.Parse("20060102", who.Number[6:14])
	if err != nil {
		panic(err)
	}
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || day.Month() == birth.Month() && day.Day() < birth.Day() {
		age--
	}
	return age
}

// runListsSuite runs every list case on platforms of newDB's engine.
func runListsSuite(t *testing.T, newDB func(*testing.T) string) {
	p := lcPlatform(t, newDB)
	ls := &listsSuite{p: p, srv: p.serve(t, nil), newDB: newDB}
	ls.court = lcDept(t, p, p.uniq("COURT"), "--lists", "SXBZXR")
	ls.market = lcDept(t, p, p.uniq("MKT"), "--lists", "SCJG_YZWF")

	t.Run("cases", func(t *testing.T) {
		t.Run("list types", ls.types)
		t.Run("entries", ls.entries)
		t.Run("removal", ls.removal)
		t.Run("public list", ls.public)
		t.Run("notice period", ls.notice)
		t.Run("expiry", ls.expiry)
		t.Run("working-day calendar", ls.calendar)
		t.Run("no input makes the server answer 500", ls.noServerErrors)
	})
	t.Run("after every case no identity number or name is in clear in the data or the logs", (&suite{p: p}).sweep)
}

// listsSuite is the platform and server the list cases share.
type listsSuite struct {
	p             *platform
	srv           *server
	newDB         func(*testing.T) string
	court, market string // owners of SXBZXR and SCJG_YZWF
}

func (ls *listsSuite) types(t *testing.T) {
	t.Parallel()
	p, srv := ls.p, ls.srv
	type listType struct {
		Code            string            `json:"code"`
		Name            map[string]string `json:"name"`
		Kind            string            `json:"kind"`
		Item            string            `json:"item"`
		LegalBasis      string            `json:"legal_basis"`
		EntryConditions string            `json:"entry_conditions"`
		ExitConditions  string            `json:"exit_conditions"`
		DurationMonths  int               `json:"duration_months"`
		ExtensionMonths int               `json:"extension_months"`
		EarliestRemoval int               `json:"earliest_removal_months"`
		NoticeDays      int               `json:"notice_working_days"`
		Published       struct {
			ByLaw  bool     `json:"by_law"`
			Fields []string `json:"fields"`
		} `json:"published"`
	}
	t.Run("every list is published without a token with its legal basis and entry and exit conditions", func(t *testing.T) {
		t.Parallel()
		var all struct {
			Lists []listType `json:"lists"`
		}
		srv.get(t, "", "/api/v1/lists").want(t, http.StatusOK).decode(t, &all)
		byCode := map[string]listType{}
		for _, l := range all.Lists {
			byCode[l.Code] = l
			if l.LegalBasis == "" || l.EntryConditions == "" || l.ExitConditions == "" || l.Name["zh"] == "" || l.Name["en"] == "" {
				t.Errorf("list %s lacks its names, legal basis or entry and exit conditions: %+v", l.Code, l)
			}
		}
		want := map[string]string{"SXBZXR": "black", "SCJG_YZWF": "black", "SW_ZDSS": "black", "FFJZ_DXZP": "black", "YXZYZ": "red", "SXQN": "red"}
		for code, kind := range want {
			if l, ok := byCode[code]; !ok || l.Kind != kind {
				t.Errorf("list %s: %+v, want a %s list", code, l, kind)
			}
		}
		sx := byCode["SXBZXR"]
		if sx.DurationMonths != 24 || sx.ExtensionMonths != 36 || sx.NoticeDays != 0 || !sx.Published.ByLaw || sx.Item != "SXBZXR" {
			t.Errorf("SXBZXR: %+v; want 24 months extendable by 36, no platform notice, published by law, backed by item SXBZXR", sx)
		}
		mk := byCode["SCJG_YZWF"]
		if mk.DurationMonths != 36 || mk.EarliestRemoval != 12 || mk.NoticeDays != 5 || mk.Published.ByLaw {
			t.Errorf("SCJG_YZWF: %+v; want 36 months, early removal after 12, 5 working days' notice, not public", mk)
		}
	})
	t.Run("one list is published with its conditions", func(t *testing.T) {
		t.Parallel()
		var l listType
		srv.get(t, "", "/api/v1/lists/SCJG_YZWF").want(t, http.StatusOK).decode(t, &l)
		if l.Code != "SCJG_YZWF" || !strings.Contains(l.LegalBasis, "第44号") || l.ExitConditions == "" {
			t.Errorf("GET /api/v1/lists/SCJG_YZWF: %+v", l)
		}
	})
	t.Run("an unknown list is 404 naming the known lists", func(t *testing.T) {
		t.Parallel()
		for _, rq := range []request{
			{method: http.MethodGet, path: "/api/v1/lists/NOPE"},
			{method: http.MethodGet, path: "/api/v1/public/lists/NOPE"},
			{method: http.MethodPost, path: "/api/v1/lists/NOPE/entries", token: ls.court, body: mustJSON(t, debtorEntry(newPerson(), p.uniq("NO"), "2026-03-01"))},
			{method: http.MethodGet, path: "/api/v1/lists/NOPE/entries", token: ls.court},
		} {
			e := srv.send(t, rq).wantError(t, http.StatusNotFound)
			for _, code := range []string{"SXBZXR", "SCJG_YZWF", "SW_ZDSS", "FFJZ_DXZP", "YXZYZ", "SXQN"} {
				if !strings.Contains(e.Error.Message, code) {
					t.Errorf("%s %s: the message %q does not name the known list %s", rq.method, rq.path, e.Error.Message, code)
				}
			}
		}
	})
	t.Run("dept add refuses a list or a matter that does not exist, naming it", func(t *testing.T) {
		t.Parallel()
		for _, flag := range []string{"--lists", "--matters"} {
			r := p.run(t, nil, "dept", "add", "--code", p.uniq("BAD"), "--name", "x", flag, "NOPE_CODE")
			if r.Code == 0 || strings.Contains(r.Stdout, "pct_") || !strings.Contains(r.Stderr, "NOPE_CODE") {
				t.Errorf("dept add %s NOPE_CODE: exit %d, stdout %q, stderr %q; want a failure naming NOPE_CODE", flag, r.Code, r.Stdout, r.Stderr)
			}
		}
	})
}

func (ls *listsSuite) entries(t *testing.T) {
	t.Parallel()
	p, srv := ls.p, ls.srv
	t.Run("an entry by the owner is active from today until 24 months after the decision", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		res := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", debtorEntry(who, p.uniq("SX"), "2026-03-01")).want(t, http.StatusCreated)
		e := res.entry(t)
		if e.ID == "" || e.RecordID == "" || e.List != "SXBZXR" || e.Version != 1 {
			t.Errorf("entry %+v: want an id, a record, list SXBZXR and version 1", e)
		}
		if e.Status != "active" || e.ActiveFrom != "2026-11-30" || e.Until != "2028-03-01" || e.DecidedOn != "2026-03-01" {
			t.Errorf("status %q active_from %s until %s decided %s; want active from 2026-11-30 until 2028-03-01", e.Status, e.ActiveFrom, e.Until, e.DecidedOn)
		}
		if fmt.Sprint(e.Grounds) != "[refused_with_ability]" {
			t.Errorf("grounds %v", e.Grounds)
		}
		if loc := res.Header.Get("Location"); loc != "/api/v1/lists/SXBZXR/entries/"+e.ID {
			t.Errorf("Location %q", loc)
		}
		rec := srv.get(t, ls.court, "/api/v1/records/"+e.RecordID).want(t, http.StatusOK).record(t, who)
		if rec.Item != "SXBZXR" || rec.Status != "active" || rec.Fields["decision_no"] != "(2026)津0101执"+e.Ref+"号" {
			t.Errorf("the entry's record: item %s status %s fields %v", rec.Item, rec.Status, rec.Fields)
		}
	})
	t.Run("the owner's listing shows each person masked", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(who, p.uniq("SX"), "2026-03-01"))
		got, ok := srv.ownEntry(t, ls.court, "SXBZXR", e.ID)
		switch {
		case !ok:
			t.Fatalf("entry %s is not in its owner's listing", e.ID)
		case got.Subject == nil:
			t.Fatalf("the owner's listing has no subject: %+v", got)
		case got.Subject.IDNumber != who.MaskedNumber() || got.Subject.Name == who.Name || []rune(got.Subject.Name)[0] != []rune(who.Name)[0] || got.Subject.IDType != "resident_id":
			t.Errorf("subject %+v, want resident_id %s and the name masked", *got.Subject, who.MaskedNumber())
		}
	})
	t.Run("an empty entry is 422 naming every missing field at once, the person's included", func(t *testing.T) {
		t.Parallel()
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", map[string]any{}).
			wantError(t, http.StatusUnprocessableEntity, "grounds", "decided_on", "document_no", "subject.id_number")
	})
	t.Run("the document number or grounds given among the fields too is 422 naming the field", func(t *testing.T) {
		t.Parallel()
		body := debtorEntry(newPerson(), p.uniq("SX"), "2026-03-01")
		body["fields"] = map[string]any{"decision_no": "DIFFERENT", "circumstances": []string{"breached_settlement"}}
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "fields.decision_no", "fields.circumstances")
	})
	t.Run("the decision date may take the forms a record's does", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("SX"), "2026/3/1"))
		if e.DecidedOn != "2026-03-01" {
			t.Errorf("decided_on %q from 2026/3/1", e.DecidedOn)
		}
	})
	t.Run("grounds may be given by their Chinese name or alias", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := debtorEntry(who, p.uniq("SX"), "2026-03-01")
		body["grounds"] = "有履行能力而拒不履行、违反财产报告制度"
		e := srv.enter(t, ls.court, "SXBZXR", body)
		if fmt.Sprint(e.Grounds) != "[refused_with_ability breached_property_reporting]" {
			t.Errorf("grounds %v, want [refused_with_ability breached_property_reporting]", e.Grounds)
		}
	})
	t.Run("the term can be extended by up to 36 months and no further (422 naming until)", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := debtorEntry(who, p.uniq("SX"), "2026-03-01")
		body["until"] = "2031-03-02"
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "until")
		body["until"] = "2031-03-01"
		if e := srv.enter(t, ls.court, "SXBZXR", body); e.Until != "2031-03-01" {
			t.Errorf("until %s, want 2031-03-01", e.Until)
		}
		// SCJG_YZWF lasts 3 years and cannot be extended.
		mk := violationEntry(newPerson(), p.uniq("MK"), "2026-11-02")
		mk["until"] = "2029-11-03"
		srv.postJSON(t, ls.market, "/api/v1/lists/SCJG_YZWF/entries", mk).wantError(t, http.StatusUnprocessableEntity, "until")
	})
	t.Run("an until before the earliest day the list's rules allow is 422 naming until and that day; that day itself is accepted", func(t *testing.T) {
		t.Parallel()
		// Today is 2026-11-30. Black lists: the term is the list's, an
		// until may not cut it short; where early removal is allowed it
		// may end on the first day early removal is possible (counted from
		// the first day on the list, after the notice), not before.
		tax := lcDept(t, p, p.uniq("TAX"), "--lists", "SW_ZDSS")
		police := lcDept(t, p, p.uniq("POL"), "--lists", "FFJZ_DXZP")
		taxEntry := func(who person, ref, decided string) map[string]any {
			return map[string]any{"ref": ref, "subject": subjectOfPerson(who), "decided_on": decided,
				"document_no": "津税稽罚〔2026〕" + ref + "号", "grounds": []string{"tax_evasion"}, "basis": "《重大税收违法失信主体信息公布管理办法》第六条"}
		}
		fraudEntry := func(who person, ref, decided string) map[string]any {
			return map[string]any{"ref": ref, "subject": subjectOfPerson(who), "decided_on": decided,
				"document_no": "津公认〔2026〕" + ref + "号", "grounds": []string{"telecom_fraud"}, "basis": "《中华人民共和国反电信网络诈骗法》第三十一条"}
		}
		for _, tc := range []struct {
			name, token, list string
			body              func(person, string, string) map[string]any
			decided           string
			refused, earliest string // the day before the earliest, and the earliest
			activeFrom        string // of the accepted entry
		}{
			// 24 months, no early removal (deleted on performance instead).
			{"SXBZXR (24 months)", ls.court, "SXBZXR", debtorEntry, "2026-03-01", "2028-02-29", "2028-03-01", "2026-11-30"},
			// 36 months, early removal after 12 months on the list; in
			// effect from 2026-12-07 after 5 working days' notice.
			{"SCJG_YZWF (early removal after 12 months)", ls.market, "SCJG_YZWF", violationEntry, "2026-11-02", "2027-12-06", "2027-12-07", "2026-12-07"},
			// 36 months, early removal after 6 months; 10 working days' notice.
			{"SW_ZDSS (early removal after 6 months)", tax, "SW_ZDSS", taxEntry, "2026-11-02", "2027-06-13", "2027-06-14", "2026-12-14"},
			// 36 months, no early removal, not extendable: the term is fixed.
			{"FFJZ_DXZP (36 months, fixed)", police, "FFJZ_DXZP", fraudEntry, "2026-11-02", "2029-11-01", "2029-11-02", "2026-12-03"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := tc.body(newPerson(), p.uniq("EA"), tc.decided)
				body["until"] = tc.refused
				e := srv.postJSON(t, tc.token, "/api/v1/lists/"+tc.list+"/entries", body).wantError(t, http.StatusUnprocessableEntity, "until")
				named := false
				for _, d := range e.Error.Details {
					named = named || (d.Field == "until" && d.Code == "too_early" && strings.Contains(d.Message, tc.earliest))
				}
				if !named || len(e.Error.Details) != 1 {
					t.Errorf("until %s on %s: details %+v, want until too_early naming %s", tc.refused, tc.list, e.Error.Details, tc.earliest)
				}
				body = tc.body(newPerson(), p.uniq("EA"), tc.decided)
				body["until"] = tc.earliest
				if got := srv.enter(t, tc.token, tc.list, body); got.Until != tc.earliest || got.ActiveFrom != tc.activeFrom {
					t.Errorf("%s: until %s active from %s, want until %s active from %s", tc.list, got.Until, got.ActiveFrom, tc.earliest, tc.activeFrom)
				}
			})
		}
		t.Run("a red list's validity is the deciding department's, up to the list's longest", func(t *testing.T) {
			league := lcDept(t, p, p.uniq("VOL"), "--lists", "YXZYZ")
			body := map[string]any{
				"ref": p.uniq("V"), "subject": subjectOfPerson(newPerson()), "decided_on": "2026-11-02", "until": "2026-12-01",
				"document_no": "津志认〔2026〕" + p.uniq("") + "号", "grounds": []string{"star_volunteer"}, "basis": "《志愿服务条例》第三十六条",
			}
			if e := srv.enter(t, league, "YXZYZ", body); e.Until != "2026-12-01" {
				t.Errorf("YXZYZ until %s, want 2026-12-01", e.Until)
			}
		})
	})
	t.Run("an until that has passed is 422 naming until", func(t *testing.T) {
		t.Parallel()
		body := debtorEntry(newPerson(), p.uniq("SX"), "2026-03-01")
		body["until"] = "2026-11-30"
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "until")
	})
	t.Run("a term that has ended by the decision date alone is 422 naming decided_on", func(t *testing.T) {
		t.Parallel()
		e := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", debtorEntry(newPerson(), p.uniq("SX"), "1990-01-01")).
			wantError(t, http.StatusUnprocessableEntity, "decided_on")
		if e.hasDetail("until", "") {
			t.Errorf("details %+v name until, which the request did not give", e.Error.Details)
		}
	})
	t.Run("an entry that would end before its notice period does is 422 naming until", func(t *testing.T) {
		t.Parallel()
		// Entered on 2026-11-30, the notice ends 5 working days later, on 2026-12-07.
		body := violationEntry(newPerson(), p.uniq("NB"), "2026-11-02")
		body["until"] = "2026-12-05"
		e := srv.postJSON(t, ls.market, "/api/v1/lists/SCJG_YZWF/entries", body).wantError(t, http.StatusUnprocessableEntity, "until")
		if !e.hasDetail("until", "before_active") {
			t.Errorf("details %+v, want until before_active", e.Error.Details)
		}
	})
	t.Run("the same ref again answers 200 with the same entry", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := debtorEntry(who, p.uniq("SX"), "2026-03-01")
		first := srv.enter(t, ls.court, "SXBZXR", body)
		again := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).want(t, http.StatusOK).entry(t)
		if again.ID != first.ID || again.RecordID != first.RecordID || again.Version != 1 {
			t.Errorf("the same request again answered %+v, want entry %s", again, first.ID)
		}
		if n := len(srv.ownEntriesOf(t, ls.court, "SXBZXR", first.Ref)); n != 1 {
			t.Errorf("%d entries with ref %s, want 1", n, first.Ref)
		}
	})
	t.Run("concurrent entries with one ref make one entry: one 201, the others 200", func(t *testing.T) {
		t.Parallel()
		body := mustJSON(t, debtorEntry(newPerson(), p.uniq("CC"), "2026-03-01"))
		const n = 8
		statuses, ids := make([]int, n), make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res := srv.send(t, request{method: http.MethodPost, path: "/api/v1/lists/SXBZXR/entries", token: ls.court, body: body})
				var e listEntryJSON
				json.Unmarshal(res.Body, &e)
				statuses[i], ids[i] = res.Status, e.ID
			})
		}
		wg.Wait()
		created := 0
		for i := range n {
			switch statuses[i] {
			case http.StatusCreated:
				created++
			case http.StatusOK:
			default:
				t.Errorf("a concurrent entry answered %d", statuses[i])
			}
		}
		if slices.Sort(ids); created != 1 || len(slices.Compact(ids)) != 1 {
			t.Errorf("%d answers were 201 and they name entries %v; want one 201 and one entry", created, slices.Compact(ids))
		}
	})
	t.Run("the same ref with another document number is 409", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := debtorEntry(who, p.uniq("SX"), "2026-03-01")
		srv.enter(t, ls.court, "SXBZXR", body)
		body["document_no"] = "(2026)津0101执另号"
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusConflict)
	})
	t.Run("a ref the department used on another list is 409 that does not name the list asked for", func(t *testing.T) {
		t.Parallel()
		both := lcDept(t, p, p.uniq("BOTH"), "--lists", "SXBZXR,SCJG_YZWF")
		ref := p.uniq("SH")
		srv.enter(t, both, "SXBZXR", debtorEntry(newPerson(), ref, "2026-03-01"))
		e := srv.postJSON(t, both, "/api/v1/lists/SCJG_YZWF/entries", violationEntry(newPerson(), ref, "2026-11-02")).
			wantError(t, http.StatusConflict, "ref")
		if d := e.Error.Details[0].Message; strings.Contains(d, "SCJG_YZWF") || !strings.Contains(d, "record") {
			t.Errorf("the 409 says %q: the ref is on SXBZXR, not SCJG_YZWF (it may be any list's or a record's)", d)
		}
	})
	t.Run("the same ref with another until is 409, not the first entry", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := debtorEntry(who, p.uniq("SX"), "2026-03-01")
		first := srv.enter(t, ls.court, "SXBZXR", body)
		body["until"] = "2030-03-01"
		res := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body)
		if res.Status != http.StatusConflict {
			got := res.entry(t)
			t.Errorf("the same ref with until 2030-03-01 answered %d with until %s (the first entry %s has %s); want 409",
				res.Status, got.Until, first.ID, first.Until)
		}
	})
	t.Run("the same ref with another basis is 409, not the first entry", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := debtorEntry(who, p.uniq("SX"), "2026-03-01")
		srv.enter(t, ls.court, "SXBZXR", body)
		body["basis"] = "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第（二）项"
		if res := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body); res.Status != http.StatusConflict {
			t.Errorf("the same ref with another basis answered %d with basis %q; want 409", res.Status, res.entry(t).Basis)
		}
	})
	t.Run("a department that does not own the list is 403", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		srv.postJSON(t, ls.market, "/api/v1/lists/SXBZXR/entries", debtorEntry(who, p.uniq("NO"), "2026-03-01")).wantError(t, http.StatusForbidden)
		submitter := p.dept(t, p.uniq("SUB"), "SXBZXR", "SXBZXR") // may submit the item, owns no list
		srv.postJSON(t, submitter, "/api/v1/lists/SXBZXR/entries", debtorEntry(who, p.uniq("NO"), "2026-03-01")).wantError(t, http.StatusForbidden)
		srv.get(t, ls.market, "/api/v1/lists/SXBZXR/entries").wantError(t, http.StatusForbidden)
		auditor := p.auditor(t, p.uniq("laud"))
		srv.postJSON(t, auditor, "/api/v1/lists/SXBZXR/entries", debtorEntry(who, p.uniq("NO"), "2026-03-01")).wantError(t, http.StatusForbidden)
		srv.postJSON(t, "", "/api/v1/lists/SXBZXR/entries", debtorEntry(who, p.uniq("NO"), "2026-03-01")).wantError(t, http.StatusUnauthorized)
	})
	t.Run("grounds that are not the list's are 422 naming grounds", func(t *testing.T) {
		t.Parallel()
		for _, g := range []any{"bribery", []string{"food_drug_safety"}, []string{}, nil} {
			body := debtorEntry(newPerson(), p.uniq("G"), "2026-03-01")
			body["grounds"] = g
			srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "grounds")
		}
		// Thousands of bad grounds get an answer smaller than the request.
		many := make([]string, 5000)
		for i := range many {
			many[i] = fmt.Sprint("g", i)
		}
		body := debtorEntry(newPerson(), p.uniq("G"), "2026-03-01")
		body["grounds"] = many
		res := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body)
		if res.wantError(t, http.StatusUnprocessableEntity, "grounds"); len(res.Body) > 40000 {
			t.Errorf("5,000 bad grounds: an answer of %d bytes", len(res.Body))
		}
		body = violationEntry(newPerson(), p.uniq("G"), "2026-11-02")
		body["grounds"] = []string{"refused_with_ability"}
		e := srv.postJSON(t, ls.market, "/api/v1/lists/SCJG_YZWF/entries", body).wantError(t, http.StatusUnprocessableEntity, "grounds")
		for _, d := range e.Error.Details {
			if d.Field == "grounds" && !strings.Contains(d.Message, "food_drug_safety") {
				t.Errorf("the grounds error %q does not list the list's grounds", d.Message)
			}
		}
	})
	t.Run("a minor is refused on SXBZXR naming subject.id_number", func(t *testing.T) {
		t.Parallel()
		kid := newMinor()
		e := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", debtorEntry(kid, p.uniq("K"), "2026-03-01")).
			wantError(t, http.StatusUnprocessableEntity, "subject.id_number")
		if !e.hasDetail("subject.id_number", "minor") {
			t.Errorf("details %+v, want subject.id_number with code minor", e.Error.Details)
		}
		// With the entry's own problems, the person's age is named at once.
		body := debtorEntry(kid, p.uniq("K"), "2026-03-01")
		body["grounds"], body["document_no"] = "nope", ""
		e = srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "grounds", "document_no", "subject.id_number")
		if n := len(e.fields()); n != 3 || !e.hasDetail("subject.id_number", "minor") {
			t.Errorf("details %+v, want grounds, document_no and the minor once each", e.Error.Details)
		}
	})
	t.Run("a flood of bad grounds or fields does not push the person's problems past the 50 an error lists", func(t *testing.T) {
		t.Parallel()
		var bad []string
		for i := range 60 {
			bad = append(bad, fmt.Sprintf("nope_%02d", i))
		}
		kid, who := newMinor(), newPerson()
		minor, wrong := debtorEntry(kid, p.uniq("K"), "2026-03-01"), debtorEntry(who, p.uniq("K"), "2026-03-01")
		wrong["subject"] = map[string]any{"id_type": "resident_id", "id_number": wrongCheck(who), "name": who.Name}
		for _, tc := range []struct {
			name, code string
			body       map[string]any
		}{
			{"a minor with 60 bad grounds", "minor", minor},
			{"a wrong identity number with 60 bad grounds", "check_digit", wrong},
		} {
			tc.body["grounds"] = bad
			e := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", tc.body).wantError(t, http.StatusUnprocessableEntity, "grounds", "subject.id_number")
			if n := len(e.Error.Details); n != 50 || !e.hasDetail("subject.id_number", tc.code) {
				t.Errorf("%s: %d details %v, want 50 with subject.id_number %s among them", tc.name, n, e.fields(), tc.code)
			}
		}
		// The record's own problems are capped with the person's first too.
		body := debtorEntry(kid, p.uniq("K"), "2026-03-01")
		fields := body["fields"].(map[string]any)
		for _, k := range bad {
			fields[k] = "x"
		}
		body["document_no"] = ""
		e := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "document_no", "subject.id_number")
		if !e.hasDetail("subject.id_number", "minor") {
			t.Errorf("a minor with 60 unknown fields: details %v, want subject.id_number minor among them", e.fields())
		}
	})
	t.Run("the trustworthy-youth list takes people of 14 to 35 only, naming subject.id_number", func(t *testing.T) {
		t.Parallel()
		league := lcDept(t, p, p.uniq("YL"), "--lists", "SXQN")
		youth := func(who person) map[string]any {
			return map[string]any{"ref": p.uniq("Y"), "subject": subjectOfPerson(who), "decided_on": "2026-06-01",
				"document_no": "津团认〔2026〕" + p.uniq("") + "号", "grounds": []string{"recommended"}, "basis": "团发〔2016〕21号"}
		}
		n := int(personSeq.Add(1))
		older := personBorn(time.Date(1980, 3, 1, 0, 0, 0, 0, time.UTC), n) // 46 on the decision date
		e := srv.postJSON(t, league, "/api/v1/lists/SXQN/entries", youth(older)).wantError(t, http.StatusUnprocessableEntity, "subject.id_number")
		if !e.hasDetail("subject.id_number", "too_old") {
			t.Errorf("details %+v, want subject.id_number with code too_old", e.Error.Details)
		}
		young := personBorn(time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC), int(personSeq.Add(1))) // 26
		if got := srv.enter(t, league, "SXQN", youth(young)); got.Status != "active" {
			t.Errorf("a 26-year-old on SXQN: %+v, want active", got)
		}
	})
	t.Run("every problem of an entry is named at once: a missing document number and decision date", func(t *testing.T) {
		t.Parallel()
		body := debtorEntry(newPerson(), p.uniq("D"), "")
		delete(body, "document_no")
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "document_no", "decided_on")
	})
	t.Run("the owner sees its own entries, filtered by status and in pages", func(t *testing.T) {
		t.Parallel()
		owner := lcDept(t, p, p.uniq("OWN"), "--lists", "SXBZXR")
		a := srv.enter(t, owner, "SXBZXR", debtorEntry(newPerson(), p.uniq("O"), "2026-03-01"))
		b := srv.enter(t, owner, "SXBZXR", debtorEntry(newPerson(), p.uniq("O"), "2026-03-01"))
		srv.removeEntry(t, owner, "SXBZXR", b.ID, "performed", "已全部履行").want(t, http.StatusOK)
		all := srv.ownEntries(t, owner, "SXBZXR", "")
		if len(all) != 2 {
			t.Errorf("the owner sees %d entries, want its 2", len(all))
		}
		for _, e := range all {
			if e.Department == "" || (e.ID != a.ID && e.ID != b.ID) {
				t.Errorf("the owner sees entry %+v, not its own", e)
			}
		}
		if got := srv.ownEntries(t, owner, "SXBZXR", "?status=active"); len(got) != 1 || got[0].ID != a.ID {
			t.Errorf("?status=active: %+v, want only %s", got, a.ID)
		}
		if got := srv.ownEntries(t, owner, "SXBZXR", "?status=removed"); len(got) != 1 || got[0].ID != b.ID || got[0].Removal == nil || got[0].Removal.Reason != "performed" {
			t.Errorf("?status=removed: %+v, want only %s removed as performed", got, b.ID)
		}
		var page struct {
			Entries   []listEntryJSON `json:"entries"`
			NextAfter string          `json:"next_after"`
		}
		srv.get(t, owner, "/api/v1/lists/SXBZXR/entries?limit=1").want(t, http.StatusOK).decode(t, &page)
		if len(page.Entries) != 1 || page.NextAfter == "" {
			t.Fatalf("limit=1: %+v", page)
		}
		rest := srv.ownEntries(t, owner, "SXBZXR", "?after="+page.NextAfter)
		if len(rest) != 1 || rest[0].ID == page.Entries[0].ID {
			t.Errorf("the page after %s holds %+v, want the other entry", page.NextAfter, rest)
		}
		srv.get(t, owner, "/api/v1/lists/SXBZXR/entries?status=gone").wantError(t, http.StatusUnprocessableEntity, "status")
	})
}

// ownEntriesOf lists the owner's entries with ref.
func (s *server) ownEntriesOf(t *testing.T, token, list, ref string) []listEntryJSON {
	t.Helper()
	var out []listEntryJSON
	for _, e := range s.ownEntries(t, token, list, "?limit=1000") {
		if e.Ref == ref {
			out = append(out, e)
		}
	}
	return out
}

func (ls *listsSuite) removal(t *testing.T) {
	t.Parallel()
	p, srv := ls.p, ls.srv
	t.Run("a removal as expired before the term ends is 422 naming reason", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("R"), "2026-03-01"))
		res := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "expired", "")
		if body := res.wantError(t, http.StatusUnprocessableEntity, "reason"); !strings.Contains(body.Error.Message+fmt.Sprint(body.Error.Details), e.Until) {
			t.Errorf("the refusal %+v does not say when the term ends (%s)", body.Error, e.Until)
		}
		noticed := srv.enter(t, ls.market, "SCJG_YZWF", violationEntry(newPerson(), p.uniq("R"), "2026-11-02"))
		srv.removeEntry(t, ls.market, "SCJG_YZWF", noticed.ID, "expired", "").wantError(t, http.StatusUnprocessableEntity, "reason")
		for list, id := range map[string]string{"SXBZXR": e.ID, "SCJG_YZWF": noticed.ID} {
			owner := map[string]string{"SXBZXR": ls.court, "SCJG_YZWF": ls.market}[list]
			if got, _ := srv.ownEntry(t, owner, list, id); got.Status == "removed" {
				t.Errorf("%s entry %s was removed as expired before its term ended", list, id)
			}
		}
	})
	t.Run("the owner's record of a list's item is an entry, changed only through the list (422)", func(t *testing.T) {
		t.Parallel()
		court := lcDept(t, p, p.uniq("COURT"), "--lists", "SXBZXR", "--submit", "SXBZXR")
		who := newPerson()
		direct := map[string]any{"ref": p.uniq("D"), "item": "SXBZXR", "subject": subjectOfPerson(who), "decided_on": "2026-03-01",
			"fields": map[string]any{"decision_no": "(2026)津0101执9号", "circumstances": []string{"refused_with_ability"}}}
		var rec struct {
			ID string `json:"id"`
		}
		srv.postJSON(t, court, "/api/v1/records", direct).want(t, http.StatusCreated).decode(t, &rec)
		entries := srv.ownEntriesOf(t, court, "SXBZXR", direct["ref"].(string))
		if len(entries) != 1 || entries[0].RecordID != rec.ID || entries[0].Status != "active" || entries[0].DocumentNo != "(2026)津0101执9号" {
			t.Fatalf("entries for the record %s: %+v; want one active entry of it", rec.ID, entries)
		}
		e := entries[0]
		if _, ok := srv.publicEntry(t, "SXBZXR", e.ID); !ok {
			t.Errorf("the entry made from a record is not on the public list")
		}
		noGrounds := map[string]any{"ref": p.uniq("D"), "item": "SXBZXR", "subject": subjectOfPerson(newPerson()), "decided_on": "2026-03-01",
			"fields": map[string]any{"decision_no": "(2026)津0101执10号"}}
		srv.postJSON(t, court, "/api/v1/records", noGrounds).wantError(t, http.StatusUnprocessableEntity, "fields.circumstances")
		noGrounds["fields"].(map[string]any)["circumstances"] = "refused_with_ability"
		noGrounds["fields"].(map[string]any)["no_such_field"] = 1
		srv.postJSON(t, court, "/api/v1/records", noGrounds).wantError(t, http.StatusUnprocessableEntity, "fields.no_such_field")

		srv.postJSON(t, court, "/api/v1/records/"+e.RecordID+"/revoke", map[string]any{"reason": "撤销", "basis": "复议决定"}).
			wantError(t, http.StatusUnprocessableEntity, "id")
		srv.putJSON(t, court, "/api/v1/records/"+e.RecordID, direct).wantError(t, http.StatusUnprocessableEntity, "id")

		// The same ref with other content is 409 naming ref.
		other := direct
		other["decided_on"] = "2026-03-02"
		srv.postJSON(t, court, "/api/v1/records", other).wantError(t, http.StatusConflict, "ref")
		// In a batch, the owner's rows of the item are refused, naming item.
		row := map[string]any{"ref": p.uniq("B"), "item": "SXBZXR", "subject": subjectOfPerson(newPerson()), "decided_on": "2026-03-01",
			"fields": map[string]any{"decision_no": "(2026)津0101执11号", "circumstances": []string{"refused_with_ability"}}}
		var bt batchJSON
		srv.upload(t, court, "", "application/x-ndjson", ndjson(t, row)).want(t, http.StatusCreated).decode(t, &bt)
		if bt.Accepted != 0 || bt.Rejected != 1 || !rejected(t, bt.Rejections, 1).names("item", "listed") {
			t.Errorf("an owner's batch row of its list's item: %+v, want it refused naming item (listed)", bt)
		}
		if got := srv.ownEntriesOf(t, court, "SXBZXR", row["ref"].(string)); len(got) != 0 {
			t.Errorf("a refused batch row made entries %+v", got)
		}
		// So are those of an owner that may not submit the item otherwise.
		row["ref"] = p.uniq("B")
		srv.upload(t, ls.court, "", "application/x-ndjson", ndjson(t, row)).want(t, http.StatusCreated).decode(t, &bt)
		if bt.Rejected != 1 || !rejected(t, bt.Rejections, 1).names("item", "listed") {
			t.Errorf("a batch row of a list's item by its owner without submit rights: %+v, want it refused naming item (listed)", bt)
		}
		if got, _ := srv.ownEntry(t, court, "SXBZXR", e.ID); got.Status != "active" {
			t.Errorf("entry status %q after refused record changes, want active", got.Status)
		}
		// Through the list, the record goes with the entry.
		srv.removeEntry(t, court, "SXBZXR", e.ID, "revoked", "复议撤销").want(t, http.StatusOK)
		if got := srv.get(t, court, "/api/v1/records/"+e.RecordID).want(t, http.StatusOK).record(t, who); got.Status != "revoked" {
			t.Errorf("the record of an entry removed as revoked is %q, want revoked", got.Status)
		}
	})
	t.Run("a removal as performed takes the entry off once; the same removal again answers it, another is 409", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("R"), "2026-03-01"))
		got := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", "被执行人已全部履行").want(t, http.StatusOK).entry(t)
		if got.Status != "removed" || got.Version != 2 || got.Removal == nil || got.Removal.Reason != "performed" || got.Removal.Note != "被执行人已全部履行" {
			t.Errorf("after removal: %+v", got)
		}
		if listed, _ := srv.ownEntry(t, ls.court, "SXBZXR", e.ID); got.LeafIndex == nil || listed.LeafIndex == nil || *got.LeafIndex != *listed.LeafIndex || (e.LeafIndex != nil && *got.LeafIndex == *e.LeafIndex) {
			t.Errorf("the removal answers leaf %v; the listing says %v, the entry's first version %v", got.LeafIndex, listed.LeafIndex, e.LeafIndex)
		}
		// A retry of the same removal (its answer was lost) answers the
		// entry as removed, with no new version.
		again := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", " 被执行人已全部履行 ").want(t, http.StatusOK).entry(t)
		if again.Version != 2 || again.Status != "removed" || again.Removal == nil || again.Removal.Reason != "performed" || *again.LeafIndex != *got.LeafIndex {
			t.Errorf("the same removal again: %+v, want the removed entry at version 2", again)
		}
		srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "other", "").wantError(t, http.StatusConflict)
		srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", "另一说明").wantError(t, http.StatusConflict)
	})
	t.Run("the record of an entry removed as performed or repaired is no longer a fact at the counter", func(t *testing.T) {
		t.Parallel()
		counter := lcDept(t, p, p.uniq("AIR"), "--matters", "high_consumption")
		who := newPerson()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(who, p.uniq("R"), "2026-03-01"))
		items := func() []string {
			var out []string
			for _, r := range srv.checkPerson(t, counter, who, "high_consumption", "购买机票前核查").Facts.Records {
				out = append(out, r.Item)
			}
			return out
		}
		if got := items(); !slices.Contains(got, "SXBZXR") {
			t.Fatalf("facts of a listed debtor: records %v, want the SXBZXR record", got)
		}
		srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", "已履行").want(t, http.StatusOK)
		if got := items(); slices.Contains(got, "SXBZXR") {
			t.Errorf("facts after removal as performed: records %v, want no SXBZXR record", got)
		}
		// Off its list, the record is a record like any other: a decision
		// quashed later is still revoked (DOMAIN.md section 4).
		defer func() {
			srv.postJSON(t, ls.court, "/api/v1/records/"+e.RecordID+"/revoke", map[string]any{"reason": "执行依据被撤销", "basis": "(2026)津01民再9号"}).want(t, http.StatusOK)
		}()
		// Display and sharing stop that day: a new version of the record.
		rec := srv.get(t, ls.court, "/api/v1/records/"+e.RecordID).want(t, http.StatusOK).record(t, who)
		if rec.State != "display_ended" || rec.Display.End == nil || *rec.Display.End != "2026-11-30" || rec.Version != 2 {
			t.Errorf("the record of an entry removed as performed: state %s, display %+v, version %d; want display_ended today in version 2", rec.State, rec.Display, rec.Version)
		}
		if vs := srv.versions(t, ls.court, e.RecordID); len(vs) != 2 || vs[1].Change != "display_ended" || vs[1].LeafIndex == nil {
			t.Errorf("versions %+v, want a second, ledgered, display_ended", vs)
		}
	})
	t.Run("a removal with an unknown reason is 422 naming reason", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("R"), "2026-03-01"))
		for _, reason := range []string{"", "paid", "Performed"} {
			body := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, reason, "").wantError(t, http.StatusUnprocessableEntity, "reason")
			want := map[bool]string{true: "required", false: "not_allowed"}[reason == ""]
			if len(body.Error.Details) != 1 || body.Error.Details[0].Code != want {
				t.Errorf("removal with reason %q: details %+v, want code %s", reason, body.Error.Details, want)
			}
		}
		if got, _ := srv.ownEntry(t, ls.court, "SXBZXR", e.ID); got.Status != "active" {
			t.Errorf("status %q after refused removals, want active", got.Status)
		}
	})
	t.Run("another owner's entry is 404 and a department not owning the list is 403", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("R"), "2026-03-01"))
		other := lcDept(t, p, p.uniq("COURT2"), "--lists", "SXBZXR")
		srv.removeEntry(t, other, "SXBZXR", e.ID, "performed", "").wantError(t, http.StatusNotFound)
		srv.removeEntry(t, ls.market, "SXBZXR", e.ID, "performed", "").wantError(t, http.StatusForbidden)
		srv.removeEntry(t, ls.court, "SXBZXR", strings.Repeat("0", 32), "performed", "").wantError(t, http.StatusNotFound)
		// The entry is on SXBZXR: naming another list the department owns does not find it.
		both := lcDept(t, p, p.uniq("BOTH"), "--lists", "SXBZXR,SCJG_YZWF")
		mine := srv.enter(t, both, "SXBZXR", debtorEntry(newPerson(), p.uniq("R"), "2026-03-01"))
		srv.removeEntry(t, both, "SCJG_YZWF", mine.ID, "performed", "").wantError(t, http.StatusNotFound)
		if got, _ := srv.ownEntry(t, ls.court, "SXBZXR", e.ID); got.Status != "active" {
			t.Errorf("status %q after refused removals, want active", got.Status)
		}
	})
	t.Run("repair removal from SCJG_YZWF before 12 months is 409", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.market, "SCJG_YZWF", violationEntry(newPerson(), p.uniq("RP"), "2026-11-02"))
		res := srv.removeEntry(t, ls.market, "SCJG_YZWF", e.ID, "repaired", "已履行处罚义务并纠正违法行为")
		e2 := res.wantError(t, http.StatusConflict, "reason")
		if !strings.Contains(e2.Error.Message, "12") && !strings.Contains(e2.Error.Message, "2027") {
			t.Errorf("the 409 %q does not say from when early removal is possible", e2.Error.Message)
		}
		if got, _ := srv.ownEntry(t, ls.market, "SCJG_YZWF", e.ID); got.Status == "removed" {
			t.Errorf("the entry was removed by a refused repair")
		}
		// Removal for other reasons is not bound by the earliest removal.
		srv.removeEntry(t, ls.market, "SCJG_YZWF", e.ID, "revoked", "行政复议撤销列入决定").want(t, http.StatusOK)
	})
	t.Run("repair removal counts the 12 months from the listing, not from an older decision (409)", func(t *testing.T) {
		t.Parallel()
		// Decided 18 months ago, put on the list today: it has not been on
		// the list a year (DOMAIN.md section 5: "after at least 1 year on
		// the list"; lists.yaml: "only this long after entry").
		e := srv.enter(t, ls.market, "SCJG_YZWF", violationEntry(newPerson(), p.uniq("RP"), "2025-06-01"))
		res := srv.removeEntry(t, ls.market, "SCJG_YZWF", e.ID, "repaired", "已履行处罚义务并纠正违法行为")
		if res.Status != http.StatusConflict {
			t.Errorf("repair of an entry listed today (decided 2025-06-01) answered %d, want 409: %s", res.Status, truncateBody(res.Body))
		}
	})
	t.Run("repair removal on a list whose item is not repairable is 422 naming reason (SXBZXR is left on performance)", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("R"), "2026-11-02"))
		res := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "repaired", "")
		if b := res.wantError(t, http.StatusUnprocessableEntity, "reason"); !b.hasDetail("reason", "not_repairable") {
			t.Errorf("details %+v, want reason not_repairable", b.Error.Details)
		}
		if got := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", "已履行").want(t, http.StatusOK).entry(t); got.Status != "removed" {
			t.Errorf("removal as performed after the refused repair: status %q", got.Status)
		}
	})
	t.Run("grounds that are not text and an over-long document number are named as the request names them", func(t *testing.T) {
		t.Parallel()
		body := debtorEntry(newPerson(), p.uniq("G"), "2026-11-02")
		body["grounds"] = []any{"refused_with_ability", 5}
		if e := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "grounds[1]"); !e.hasDetail("grounds[1]", "type") {
			t.Errorf("details %+v, want grounds[1] type", e.Error.Details)
		}
		body = debtorEntry(newPerson(), p.uniq("G"), "2026-11-02")
		body["document_no"] = strings.Repeat("号", 300)
		e := srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "document_no")
		for _, d := range e.Error.Details {
			if strings.HasPrefix(d.Field, "fields.") {
				t.Errorf("the error names %s, a field the request did not give", d.Field)
			}
		}
	})
	t.Run("a red list's term given among the fields is 422: the entry's until says it", func(t *testing.T) {
		t.Parallel()
		league := lcDept(t, p, p.uniq("VOL"), "--lists", "YXZYZ")
		body := map[string]any{"ref": p.uniq("V"), "subject": subjectOfPerson(newPerson()), "decided_on": "2026-06-01",
			"document_no": "津志认〔2026〕" + p.uniq("") + "号", "grounds": []string{"star_volunteer"}, "basis": "《志愿服务条例》第三十六条",
			"fields": map[string]any{"until": "2027-01-01"}}
		srv.postJSON(t, league, "/api/v1/lists/YXZYZ/entries", body).wantError(t, http.StatusUnprocessableEntity, "fields.until")
	})
	t.Run("a removal note, a document number or a basis with a character that does not print is 422 naming it", func(t *testing.T) {
		t.Parallel()
		body := debtorEntry(newPerson(), p.uniq("R"), "2026-11-02")
		body["document_no"] = "(2026)津0101执\u202e12号"
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "document_no")
		body = debtorEntry(newPerson(), p.uniq("R"), "2026-11-02")
		body["basis"] = "《若干规定》\u200b第一条"
		srv.postJSON(t, ls.court, "/api/v1/lists/SXBZXR/entries", body).wantError(t, http.StatusUnprocessableEntity, "basis")
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("R"), "2026-11-02"))
		srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", "已履行\a").wantError(t, http.StatusUnprocessableEntity, "note")
		if got := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", "已履行。\n执行款已到账").want(t, http.StatusOK).entry(t); got.Status != "removed" {
			t.Errorf("a note of two lines: status %q", got.Status)
		}
	})
	t.Run("a removal as revoked revokes the entry's record", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(who, p.uniq("RV"), "2026-03-01"))
		got := srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "revoked", "(2026)津01执复12号裁定撤销").want(t, http.StatusOK).entry(t)
		if got.Status != "removed" || got.Removal == nil || got.Removal.Reason != "revoked" {
			t.Errorf("after removal as revoked: %+v", got)
		}
		rec := srv.get(t, ls.court, "/api/v1/records/"+e.RecordID).want(t, http.StatusOK).record(t, who)
		if rec.State != "revoked" || rec.Status != "revoked" {
			t.Errorf("the entry's record is %s / %s after a removal as revoked, want revoked", rec.Status, rec.State)
		}
	})
	t.Run("concurrent removals as performed and as revoked leave the record revoked only if the entry was removed as revoked", func(t *testing.T) {
		t.Parallel()
		for range 6 {
			who := newPerson()
			e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(who, p.uniq("RC"), "2026-03-01"))
			var statuses [2]int
			var wg sync.WaitGroup
			for i, reason := range []string{"performed", "revoked"} {
				wg.Go(func() { statuses[i] = srv.removeEntry(t, ls.court, "SXBZXR", e.ID, reason, "并发移出").Status })
			}
			wg.Wait()
			got, _ := srv.ownEntry(t, ls.court, "SXBZXR", e.ID)
			rec := srv.get(t, ls.court, "/api/v1/records/"+e.RecordID).want(t, http.StatusOK).record(t, who)
			if got.Removal == nil {
				t.Fatalf("entry %s after two concurrent removals (%v): %+v", e.ID, statuses, got)
			}
			if (rec.Status == "revoked") != (got.Removal.Reason == "revoked") {
				t.Errorf("removals performed/revoked answered %v: the entry was removed as %s and its record is %s", statuses, got.Removal.Reason, rec.Status)
			}
		}
	})
	t.Run("a removal as performed leaves the record in place", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(who, p.uniq("RV"), "2026-03-01"))
		srv.removeEntry(t, ls.court, "SXBZXR", e.ID, "performed", "").want(t, http.StatusOK)
		if rec := srv.get(t, ls.court, "/api/v1/records/"+e.RecordID).want(t, http.StatusOK).record(t, who); rec.Status != "active" {
			t.Errorf("record status %s after removal as performed, want active", rec.Status)
		}
	})
}

func (ls *listsSuite) public(t *testing.T) {
	t.Parallel()
	p, srv := ls.p, ls.srv
	t.Run("the public SXBZXR list shows the masked name and number and only the published fields", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		body := debtorEntry(who, p.uniq("P"), "2026-03-01")
		e := srv.enter(t, ls.court, "SXBZXR", body)
		var page struct {
			List            string         `json:"list"`
			Name            map[string]any `json:"name"`
			LegalBasis      string         `json:"legal_basis"`
			EntryConditions string         `json:"entry_conditions"`
			ExitConditions  string         `json:"exit_conditions"`
		}
		res := srv.get(t, "", "/api/v1/public/lists/SXBZXR").want(t, http.StatusOK)
		res.decode(t, &page)
		if page.List != "SXBZXR" || page.LegalBasis == "" || page.EntryConditions == "" || page.ExitConditions == "" {
			t.Errorf("the public list's heading: %+v", page)
		}
		pe, ok := srv.publicEntry(t, "SXBZXR", e.ID)
		if !ok {
			t.Fatalf("the active entry %s is not on the public list", e.ID)
		}
		if pe.Name != who.MaskedName() || pe.IDNumber != who.MaskedNumber() {
			t.Errorf("shown as %q %q, want %q %q", pe.Name, pe.IDNumber, who.MaskedName(), who.MaskedNumber())
		}
		if pe.Sex != sexOf(who) || pe.Age == nil || *pe.Age != ageOn(who, e2eNow) {
			t.Errorf("sex %q age %v, want %s %d", pe.Sex, pe.Age, sexOf(who), ageOn(who, e2eNow))
		}
		if pe.DocumentNo != body["document_no"] || pe.ActiveFrom != "2026-11-30" || pe.Until != "2028-03-01" || fmt.Sprint(pe.Grounds) != "[refused_with_ability]" {
			t.Errorf("public entry %+v", pe)
		}
		published := []string{"decision_no", "court", "filed_on", "basis_doc_no", "basis_unit", "obligation", "performance", "circumstances", "published_on"}
		for k := range pe.Fields {
			if !slices.Contains(published, k) {
				t.Errorf("the public entry shows field %q, which SXBZXR does not publish", k)
			}
		}
		for _, k := range []string{"obligation", "performance", "court", "decision_no", "filed_on"} {
			if pe.Fields[k] == nil {
				t.Errorf("the public entry lacks the published field %s: %v", k, pe.Fields)
			}
		}
		for _, s := range []string{who.Name, who.Number, `"record_id"`, `"subject_key"`} {
			if strings.Contains(string(res.Body), s) {
				t.Errorf("the public list carries %q", s)
			}
		}
	})
	t.Run("a list no law makes public is 404 on the public route", func(t *testing.T) {
		t.Parallel()
		for _, code := range []string{"SCJG_YZWF", "SW_ZDSS", "FFJZ_DXZP", "YXZYZ", "SXQN"} {
			srv.get(t, "", "/api/v1/public/lists/"+code).wantError(t, http.StatusNotFound)
		}
	})
	t.Run("a removed entry disappears from the public list", func(t *testing.T) {
		t.Parallel()
		for _, reason := range []string{"performed", "revoked", "other"} {
			e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("PR"), "2026-03-01"))
			if _, ok := srv.publicEntry(t, "SXBZXR", e.ID); !ok {
				t.Fatalf("the active entry %s is not on the public list", e.ID)
			}
			srv.removeEntry(t, ls.court, "SXBZXR", e.ID, reason, "").want(t, http.StatusOK)
			if _, ok := srv.publicEntry(t, "SXBZXR", e.ID); ok {
				t.Errorf("entry %s removed as %s is still on the public list", e.ID, reason)
			}
		}
	})
	t.Run("an entry's record cannot be revoked behind the list: the entry stays published until it is removed", func(t *testing.T) {
		t.Parallel()
		e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("PV"), "2026-03-01"))
		srv.postJSON(t, ls.court, "/api/v1/records/"+e.RecordID+"/revoke", map[string]string{"reason": "执行依据被撤销", "basis": "(2026)津01民再3号"}).
			wantError(t, http.StatusUnprocessableEntity, "id")
		if _, ok := srv.publicEntry(t, "SXBZXR", e.ID); !ok {
			t.Errorf("entry %s left the public list after a refused revocation of its record", e.ID)
		}
	})
}

// notice: SCJG_YZWF requires 5 working days' notice. Entered on Monday
// 2026-09-28, the 5th working day after is the make-up Saturday 2026-10-10
// (Sep 29, Sep 30, [Oct 1-7 National Day], Oct 8, Oct 9, Oct 10).
func (ls *listsSuite) notice(t *testing.T) {
	t.Parallel()
	p := lcPlatform(t, ls.newDB)
	market := lcDept(t, p, p.uniq("MKT"), "--lists", "SCJG_YZWF")
	counter := lcDept(t, p, p.uniq("HR"), "--matters", "civil_service_recruitment")
	reader := lcDept(t, p, p.uniq("RD"), "--read", "SCJG_YZWF")
	who := newPerson()
	early := p.at(cityTime("2026-09-28", "10:00")).serve(t, nil)
	listed := func(srv *server) bool {
		for _, r := range srv.file(t, reader, who, "信用审查").Records {
			if r.Item == "SCJG_YZWF" {
				return true
			}
		}
		return false
	}

	e := early.enter(t, market, "SCJG_YZWF", violationEntry(who, p.uniq("N"), "2026-09-01"))
	dropped := early.enter(t, market, "SCJG_YZWF", violationEntry(newPerson(), p.uniq("N"), "2026-09-01"))
	early.removeEntry(t, market, "SCJG_YZWF", dropped.ID, "revoked", "陈述申辩成立，不予列入").want(t, http.StatusOK)
	t.Run("an entry on a list with notice is noticed until the 5th working day after the day of entry", func(t *testing.T) {
		if e.Status != "noticed" || e.ActiveFrom != "2026-10-10" {
			t.Errorf("status %q active_from %s, want noticed and active from 2026-10-10 (the make-up Saturday)", e.Status, e.ActiveFrom)
		}
		var wd struct {
			Date string `json:"date"`
		}
		early.get(t, "", "/api/v1/calendar/working-days?from=2026-09-28&add=5").want(t, http.StatusOK).decode(t, &wd)
		if wd.Date != e.ActiveFrom {
			t.Errorf("the calendar says 5 working days after 2026-09-28 is %s; the entry is active from %s", wd.Date, e.ActiveFrom)
		}
	})
	t.Run("a noticed entry is not a ground at the counter, nor its record a fact", func(t *testing.T) {
		c := early.checkPerson(t, counter, who, "civil_service_recruitment", "公务员录用考察")
		if m, ok := c.measure("RESTRICT_CIVIL_SERVICE"); ok {
			t.Errorf("a noticed entry restricts recruitment: %+v", m)
		}
		for _, r := range c.Facts.Records {
			if r.Item == "SCJG_YZWF" {
				t.Errorf("the record of a noticed entry is a fact: %+v (clean_years %s)", r, years(c.Facts.CleanYears))
			}
		}
	})
	t.Run("during the notice the entry's record is not shared with other departments", func(t *testing.T) {
		if listed(early) {
			t.Errorf("a department that reads SCJG_YZWF is shown the record of an entry in its notice period")
		}
	})
	t.Run("a server on the day before the end of the notice leaves it noticed", func(t *testing.T) {
		before := p.at(cityTime("2026-10-09", "23:30")).serve(t, nil)
		time.Sleep(2 * time.Second) // the job runs when the server starts
		if got, _ := before.ownEntry(t, market, "SCJG_YZWF", e.ID); got.Status != "noticed" {
			t.Errorf("on 2026-10-09 the entry is %q, want noticed", got.Status)
		}
	})
	t.Run("a server on the day the notice ends makes it active", func(t *testing.T) {
		// 00:30 in the city is still 2026-10-09 in UTC.
		later := p.at(cityTime("2026-10-10", "00:30")).serve(t, nil)
		got := later.awaitEntryStatus(t, market, "SCJG_YZWF", e.ID, "active", 20*time.Second)
		if got.Version != 2 || got.ActiveFrom != "2026-10-10" {
			t.Errorf("after the notice: %+v", got)
		}
		if got, _ := later.ownEntry(t, market, "SCJG_YZWF", dropped.ID); got.Status != "removed" {
			t.Errorf("an entry removed during its notice is %q after the notice ended, want removed", got.Status)
		}
		c := later.checkPerson(t, counter, who, "civil_service_recruitment", "公务员录用考察")
		m, ok := c.measure("RESTRICT_CIVIL_SERVICE")
		if !ok || !m.because("list_entry", e.ID, "SCJG_YZWF") {
			t.Errorf("the active entry does not restrict recruitment with itself as the reason: %+v", c.Measures)
		}
		if !listed(later) {
			t.Errorf("once the entry is active, a department that reads SCJG_YZWF is not shown its record")
		}
	})
}

// expiry: an entry leaves its list when its term ends, by the background
// job of a server whose clock has reached until.
func (ls *listsSuite) expiry(t *testing.T) {
	t.Parallel()
	p := lcPlatform(t, ls.newDB)
	court := lcDept(t, p, p.uniq("COURT"), "--lists", "SXBZXR")
	srv := p.serve(t, nil)
	body := debtorEntry(newPerson(), p.uniq("X"), "2024-12-15") // its 24 months end on 2026-12-15, and no sooner
	body["until"] = "2026-12-15"
	e := srv.enter(t, court, "SXBZXR", body)
	stays := srv.enter(t, court, "SXBZXR", debtorEntry(newPerson(), p.uniq("X"), "2026-03-01"))
	t.Run("an entry whose until has come is removed as expired and leaves the public list", func(t *testing.T) {
		later := p.at(cityTime("2026-12-15", "08:00")).serve(t, nil)
		if _, ok := later.publicEntry(t, "SXBZXR", e.ID); ok {
			t.Errorf("on its until day the entry is still on the public list")
		}
		got := later.awaitEntryStatus(t, court, "SXBZXR", e.ID, "removed", 20*time.Second)
		if got.Removal == nil || got.Removal.Reason != "expired" {
			t.Errorf("removal %+v, want reason expired", got.Removal)
		}
		if other, _ := later.ownEntry(t, court, "SXBZXR", stays.ID); other.Status != "active" {
			t.Errorf("an entry until 2028 is %q on 2026-12-15, want active", other.Status)
		}
		if _, ok := later.publicEntry(t, "SXBZXR", stays.ID); !ok {
			t.Errorf("an entry until 2028 is not on the public list on 2026-12-15")
		}
	})
}

func (ls *listsSuite) calendar(t *testing.T) {
	t.Parallel()
	srv := ls.srv
	t.Run("working days are counted after the day of the event under the 2026 calendar", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			from string
			add  int
			want string
			why  string
		}{
			{"2026-09-28", 5, "2026-10-10", "National Day, then the make-up Saturday"},
			{"2026-09-30", 1, "2026-10-08", "National Day Oct 1-7"},
			{"2026-10-01", 1, "2026-10-08", "from a holiday"},
			{"2026-09-24", 1, "2026-09-28", "Mid-Autumn Sep 25-27"},
			{"2026-09-18", 1, "2026-09-20", "the make-up Sunday Sep 20"},
			{"2026-01-01", 1, "2026-01-04", "New Year Jan 1-3, make-up Sunday Jan 4"},
			{"2026-02-13", 1, "2026-02-14", "make-up Saturday Feb 14"},
			{"2026-02-14", 1, "2026-02-24", "Spring Festival Feb 15-23"},
			{"2026-02-27", 1, "2026-02-28", "make-up Saturday Feb 28"},
			{"2026-04-03", 1, "2026-04-07", "Qingming Apr 4-6"},
			{"2026-04-30", 1, "2026-05-06", "Labour Day May 1-5"},
			{"2026-05-08", 1, "2026-05-09", "make-up Saturday May 9"},
			{"2026-06-18", 1, "2026-06-22", "Dragon Boat Jun 19-21"},
			{"2026-11-30", 5, "2026-12-07", "a plain week"},
			{"2026-10-10", 0, "2026-10-10", "add 0 is the day itself"},
			{"2026-12-25", 3, "2026-12-30", "an ordinary weekend"},
			{"2025-12-31", 1, "2026-01-04", "from the year before into New Year 2026"},
		} {
			var got struct {
				From            string `json:"from"`
				Add             int    `json:"add"`
				Date            string `json:"date"`
				CalendarCovered bool   `json:"calendar_covered"`
			}
			srv.get(t, "", fmt.Sprintf("/api/v1/calendar/working-days?from=%s&add=%d", c.from, c.add)).want(t, http.StatusOK).decode(t, &got)
			if got.Date != c.want || got.From != c.from || got.Add != c.add || !got.CalendarCovered {
				t.Errorf("%d working days after %s (%s): %+v, want %s covered by the calendar", c.add, c.from, c.why, got, c.want)
			}
		}
	})
	t.Run("a count into a year without a published calendar says so", func(t *testing.T) {
		t.Parallel()
		var got struct {
			Date            string `json:"date"`
			CalendarCovered bool   `json:"calendar_covered"`
		}
		srv.get(t, "", "/api/v1/calendar/working-days?from=2026-12-31&add=1").want(t, http.StatusOK).decode(t, &got)
		if got.Date != "2027-01-01" || got.CalendarCovered {
			t.Errorf("1 working day after 2026-12-31: %+v, want 2027-01-01 (Monday to Friday) with calendar_covered false", got)
		}
	})
	t.Run("next year's calendar is added from the configured directory, without a new build", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		cal := "year: 2027\nsource: 国务院办公厅关于2027年部分节假日安排的通知\nholidays:\n  - {name: 元旦 New Year, days: [2027-01-01, 2027-01-02, 2027-01-03]}\n"
		if err := os.WriteFile(filepath.Join(dir, "2027.yaml"), []byte(cal), 0o600); err != nil {
			t.Fatal(err)
		}
		withNext := ls.p.serve(t, map[string]string{"PUBCREDIT_CALENDARS": dir})
		var got struct {
			Date            string `json:"date"`
			CalendarCovered bool   `json:"calendar_covered"`
		}
		withNext.get(t, "", "/api/v1/calendar/working-days?from=2026-12-31&add=1").want(t, http.StatusOK).decode(t, &got)
		if got.Date != "2027-01-04" || !got.CalendarCovered {
			t.Errorf("1 working day after 2026-12-31 with 2027 configured: %+v, want 2027-01-04 covered", got)
		}
		r := ls.p.run(t, map[string]string{"PUBCREDIT_CALENDARS": filepath.Join(dir, "missing")}, "serve", "--addr", "127.0.0.1:0")
		if r.Code == 0 || !strings.Contains(r.Stderr, "missing") {
			t.Errorf("serve with a missing calendar directory: exit %d, %q; want a failure naming it", r.Code, r.Stderr)
		}
	})
	t.Run("bad input is 422 naming the parameter", func(t *testing.T) {
		t.Parallel()
		for query, fields := range map[string][]string{
			"":                         {"from", "add"},
			"add=5":                    {"from"},
			"from=2026-09-28":          {"add"},
			"from=2026-02-30&add=1":    {"from"},
			"from=2026/09/28&add=1":    {"from"},
			"from=20260928&add=1":      {"from"},
			"from=0000-01-01&add=1":    {"from"},
			"from=2026-09-28&add=-1":   {"add"},
			"from=2026-09-28&add=3651": {"add"},
			"from=2026-09-28&add=abc":  {"add"},
			"from=2026-09-28&add=1.5":  {"add"},
			"from=9999-12-31&add=1":    {"add"},
			"from=2026-09-28&add=" + strings.Repeat("9", 30): {"add"},
		} {
			res := srv.get(t, "", "/api/v1/calendar/working-days?"+query)
			if res.Status != http.StatusUnprocessableEntity {
				t.Errorf("?%s: status %d, want 422: %s", query, res.Status, truncateBody(res.Body))
				continue
			}
			res.wantError(t, http.StatusUnprocessableEntity, fields...)
		}
	})
}

func (ls *listsSuite) noServerErrors(t *testing.T) {
	t.Parallel()
	p, srv := ls.p, ls.srv
	who := newPerson()
	e := srv.enter(t, ls.court, "SXBZXR", debtorEntry(who, p.uniq("Z"), "2026-03-01"))
	with := func(mut func(m map[string]any)) []byte {
		m := debtorEntry(who, p.uniq("Z"), "2026-03-01")
		mut(m)
		return mustJSON(t, m)
	}
	set := func(k string, v any) []byte { return with(func(m map[string]any) { m[k] = v }) }
	field := func(k string, v any) []byte {
		return with(func(m map[string]any) { m["fields"].(map[string]any)[k] = v })
	}
	entryBodies := map[string][]byte{
		"an empty body":             {},
		"an array":                  []byte(`[1, 2]`),
		"null":                      []byte(`null`),
		"a number":                  []byte(`42`),
		"two objects":               []byte(`{} {}`),
		"an empty object":           []byte(`{}`),
		"deep nesting":              []byte(strings.Repeat(`{"fields":`, 5000) + strings.Repeat(`}`, 5000)),
		"invalid UTF-8":             append([]byte(`{"ref": "`), 0xff, 0xfe, '"', '}'),
		"subject as text":           set("subject", "张三"),
		"subject null":              set("subject", nil),
		"grounds as an object":      set("grounds", map[string]any{"code": "refused_with_ability"}),
		"grounds as a number":       set("grounds", 7),
		"grounds as numbers":        set("grounds", []int{1, 2}),
		"grounds nested":            set("grounds", []any{[]string{"refused_with_ability"}}),
		"grounds of 2000":           set("grounds", slices.Repeat([]string{"refused_with_ability", "规避执行"}, 1000)),
		"grounds separators only":   set("grounds", "、，,;；|"),
		"grounds a long text":       set("grounds", strings.Repeat("拒", 5000)),
		"decided_on as a number":    set("decided_on", 20260301),
		"30 February":               set("decided_on", "2026-02-30"),
		"year zero":                 set("decided_on", "0000-01-01"),
		"year one":                  set("decided_on", "0001-01-01"),
		"year 9999":                 set("decided_on", "9999-12-31"),
		"until year zero":           set("until", "0000-01-01"),
		"until 9999-12-31":          set("until", "9999-12-31"),
		"until garbage":             set("until", "forever"),
		"until as a number":         set("until", 20280301),
		"until before decided_on":   set("until", "2026-01-01"),
		"until with decided year 1": with(func(m map[string]any) { m["decided_on"] = "0001-01-01"; m["until"] = "0001-06-01" }),
		"fields as a list":          set("fields", []int{1}),
		"fields null":               set("fields", nil),
		"an unknown field":          field("religion", "无"),
		"court as a number":         field("court", 5),
		"performance unknown":       field("performance", "maybe"),
		"fields overriding grounds": field("circumstances", "nope"),
		"filed_on garbage":          field("filed_on", "yesterday"),
		"document_no of 5000":       set("document_no", strings.Repeat("号", 5000)),
		"document_no as a number":   set("document_no", 5),
		"basis of 3000":             set("basis", strings.Repeat("据", 3000)),
		"basis with NUL":            set("basis", "依据\u0000"),
		"document_no with NUL":      set("document_no", "号\u0000"),
		"a ref of 5000":             set("ref", strings.Repeat("R", 5000)),
		"a ref with NUL":            set("ref", "R\u0000"),
		"a control character name":  with(func(m map[string]any) { m["subject"].(map[string]any)["name"] = "张\u0000三" }),
		"an unknown id type":        with(func(m map[string]any) { m["subject"].(map[string]any)["id_type"] = "驾驶证" }),
		"a passport": with(func(m map[string]any) {
			m["subject"].(map[string]any)["id_type"] = "passport"
			m["subject"].(map[string]any)["id_number"] = "E12345678"
		}),
		"a 300-digit number": with(func(m map[string]any) { m["subject"].(map[string]any)["id_number"] = strings.Repeat("1", 300) }),
		"an extra key":       set("colour", "red"),
	}
	for name, body := range entryBodies {
		for _, list := range []string{"SXBZXR", "SCJG_YZWF"} {
			token := ls.court
			if list == "SCJG_YZWF" {
				token = ls.market
			}
			res := srv.send(t, request{method: http.MethodPost, path: "/api/v1/lists/" + list + "/entries", token: token, body: body})
			if res.Status >= 500 || res.Status < 200 {
				t.Errorf("POST %s entries, %s: status %d: %s", list, name, res.Status, truncateBody(res.Body))
			}
		}
	}
	removalBodies := map[string][]byte{
		"an empty body":        {},
		"an array":             []byte(`[]`),
		"null":                 []byte(`null`),
		"reason as a number":   []byte(`{"reason": 1}`),
		"reason as a list":     []byte(`{"reason": ["performed"]}`),
		"note as an object":    []byte(`{"reason": "performed", "note": {}}`),
		"a note of 3000":       mustJSON(t, map[string]string{"reason": "other", "note": strings.Repeat("注", 3000)}),
		"a note with NUL":      mustJSON(t, map[string]string{"reason": "revoked", "note": "撤销\u0000"}),
		"a long revoked note":  mustJSON(t, map[string]string{"reason": "revoked", "note": strings.Repeat("撤", 1999)}),
		"an extra key":         []byte(`{"reason": "performed", "colour": "red"}`),
		"invalid UTF-8 reason": append([]byte(`{"reason": "`), 0xff, '"', '}'),
	}
	for name, body := range removalBodies {
		// Each on an active entry of its own, so that no earlier removal
		// answers 409 in its place.
		fresh := srv.enter(t, ls.court, "SXBZXR", debtorEntry(newPerson(), p.uniq("Z"), "2026-03-01"))
		res := srv.send(t, request{method: http.MethodPost, path: "/api/v1/lists/SXBZXR/entries/" + fresh.ID + "/removal", token: ls.court, body: body})
		if res.Status >= 500 || res.Status < 200 {
			t.Errorf("removal, %s: status %d: %s", name, res.Status, truncateBody(res.Body))
		}
	}
	for _, id := range []string{"%00", "%FF", "%E2%80%AE", strings.Repeat("z", 300), "..%2F..%2Fetc", "0"} {
		path := "/api/v1/lists/SXBZXR/entries/" + id + "/removal"
		res := srv.send(t, request{method: http.MethodPost, path: path, token: ls.court, body: []byte(`{"reason": "performed"}`)})
		if res.Status >= 500 || res.Status < 200 {
			t.Errorf("POST %s: status %d: %s", path, res.Status, truncateBody(res.Body))
		} else if res.Status != http.StatusNotFound {
			t.Errorf("POST %s: status %d, want 404 for an entry that does not exist", path, res.Status)
		}
	}
	for _, path := range []string{
		"/api/v1/lists/%00",
		"/api/v1/lists/" + strings.Repeat("名", 300),
		"/api/v1/lists/SXBZXR/entries?after=%00",
		"/api/v1/lists/SXBZXR/entries?after=%FF",
		"/api/v1/lists/SXBZXR/entries?after=" + strings.Repeat("z", 5000),
		"/api/v1/lists/SXBZXR/entries?limit=0",
		"/api/v1/lists/SXBZXR/entries?limit=-1",
		"/api/v1/lists/SXBZXR/entries?limit=" + strings.Repeat("9", 30),
		"/api/v1/lists/SXBZXR/entries?status=%00",
		"/api/v1/public/lists/SXBZXR?after=%00",
		"/api/v1/public/lists/SXBZXR?after=%FF",
		"/api/v1/public/lists/SXBZXR?limit=0",
		"/api/v1/public/lists/SXBZXR?limit=abc",
		"/api/v1/public/lists/%E2%80%AE",
		"/api/v1/calendar/working-days?from=%00&add=%00",
		"/api/v1/calendar/working-days?from=2026-09-28&add=3650",
		"/api/v1/calendar/working-days?from=9999-01-01&add=3650",
	} {
		token := ls.court
		if strings.HasPrefix(path, "/api/v1/public/") || strings.HasPrefix(path, "/api/v1/calendar/") {
			token = ""
		}
		if res := srv.get(t, token, path); res.Status >= 500 {
			t.Errorf("GET %s: status %d: %s", path, res.Status, truncateBody(res.Body))
		}
	}
	if got, ok := srv.ownEntry(t, ls.court, "SXBZXR", e.ID); !ok || got.Status != "active" {
		t.Errorf("entry %s is %+v after odd requests about other entries, want it active", e.ID, got)
	}
}
