package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pubcredit/internal/store/postgres/pgtest"
)

// End-to-end tests of the checks at the counter, the feedback on them and
// their statistics (issue 4, parts 3 to 5), through the real command on
// SQLite and PostgreSQL.

// TestChecksSQLite runs the checks suite on fresh SQLite files.
func TestChecksSQLite(t *testing.T) {
	t.Parallel()
	runChecksSuite(t, func(*testing.T) string { return "" })
}

// TestChecksPostgres runs the checks suite on fresh PostgreSQL databases.
func TestChecksPostgres(t *testing.T) {
	t.Parallel()
	runChecksSuite(t, func(t *testing.T) string { return pgtest.URL(t) })
}

// groundJSON is one reason a measure was returned.
type groundJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Code string `json:"code"`
}

// checkedMeasureJSON is a measure a check returned.
type checkedMeasureJSON struct {
	Code    string            `json:"code"`
	Kind    string            `json:"kind"`
	Content map[string]string `json:"content"`
	Basis   string            `json:"basis"`
	Because []groundJSON      `json:"because"`
}

// because reports whether the measure names the ground.
func (m checkedMeasureJSON) because(typ, id, code string) bool {
	return slices.Contains(m.Because, groundJSON{Type: typ, ID: id, Code: code})
}

// checkResultJSON is the answer to a check.
type checkResultJSON struct {
	CheckID string `json:"check_id"`
	Subject struct {
		IDType   string `json:"id_type"`
		IDNumber string `json:"id_number"`
	} `json:"subject"`
	Matter   string               `json:"matter"`
	Purpose  string               `json:"purpose"`
	Measures []checkedMeasureJSON `json:"measures"`
	Facts    struct {
		Lists []struct {
			ID    string  `json:"id"`
			Code  string  `json:"code"`
			Kind  string  `json:"kind"`
			Since string  `json:"since"`
			Until *string `json:"until"`
		} `json:"lists"`
		Records []struct {
			ID       string `json:"id"`
			Item     string `json:"item"`
			Polarity string `json:"polarity"`
		} `json:"records"`
		CleanYears *int `json:"clean_years"` // null when it rests on a record not shown
		Age        int  `json:"age"`
	} `json:"facts"`
	EvaluatedAt string `json:"evaluated_at"`
}

// measure returns the returned measure with code.
func (c checkResultJSON) measure(code string) (checkedMeasureJSON, bool) {
	for _, m := range c.Measures {
		if m.Code == code {
			return m, true
		}
	}
	return checkedMeasureJSON{}, false
}

// years shows a clean_years answer: a number or null.
func years(n *int) string {
	if n == nil {
		return "null"
	}
	return strconv.Itoa(*n)
}

// codes lists the codes of the returned measures.
func (c checkResultJSON) codes() []string {
	var out []string
	for _, m := range c.Measures {
		out = append(out, m.Code)
	}
	return out
}

// checkBody is a check request.
func checkBody(who person, matter, purpose string) map[string]any {
	return map[string]any{"subject": map[string]any{"id_type": "resident_id", "id_number": who.Number}, "matter": matter, "purpose": purpose}
}

// checkPerson checks who at the counter for matter and returns the answer
// (200), after checking that the person is shown masked.
func (s *server) checkPerson(t *testing.T, token string, who person, matter, purpose string) checkResultJSON {
	t.Helper()
	var c checkResultJSON
	s.postJSON(t, token, "/api/v1/checks", checkBody(who, matter, purpose)).want(t, http.StatusOK).decode(t, &c)
	if c.CheckID == "" || c.Matter != matter || c.EvaluatedAt == "" {
		t.Errorf("check answer: id %q matter %q evaluated_at %q", c.CheckID, c.Matter, c.EvaluatedAt)
	}
	if c.Subject.IDNumber != who.MaskedNumber() {
		t.Errorf("the check shows the subject as %q, want %q", c.Subject.IDNumber, who.MaskedNumber())
	}
	return c
}

// feedback posts feedback results on a check.
func (s *server) feedback(t *testing.T, token, checkID string, results ...map[string]any) response {
	t.Helper()
	return s.postJSON(t, token, "/api/v1/checks/"+checkID+"/feedback", map[string]any{"results": results})
}

// result is one feedback result.
func result(measure string, applied bool, note string) map[string]any {
	return map[string]any{"measure": measure, "applied": applied, "note": note}
}

// statJSON is one row of the measure statistics.
type statJSON struct {
	Department string `json:"department"`
	Measure    string `json:"measure"`
	Checks     int    `json:"checks"`
	Returned   int    `json:"returned"`
	Feedback   int    `json:"feedback"`
	Applied    int    `json:"applied"`
	NotApplied int    `json:"not_applied"`
	Overdue    int    `json:"overdue"`
}

// stats reads the measure statistics with query.
func (s *server) stats(t *testing.T, token, query string) []statJSON {
	t.Helper()
	var out struct {
		Rows []statJSON `json:"rows"`
	}
	s.get(t, token, "/api/v1/stats/measures"+query).want(t, http.StatusOK).decode(t, &out)
	return out.Rows
}

// statOf finds the row of a department and measure.
func statOf(rows []statJSON, dept, measure string) (statJSON, bool) {
	for _, r := range rows {
		if r.Department == dept && r.Measure == measure {
			return r, true
		}
	}
	return statJSON{}, false
}

// runChecksSuite runs every check case on platforms of newDB's engine.
func runChecksSuite(t *testing.T, newDB func(*testing.T) string) {
	p := lcPlatform(t, newDB)
	cs := &checksSuite{p: p, srv: p.serve(t, nil), newDB: newDB}
	cs.court = lcDept(t, p, p.uniq("COURT"), "--lists", "SXBZXR")
	cs.market = lcDept(t, p, p.uniq("MKT"), "--lists", "SCJG_YZWF")
	cs.counterCode = p.uniq("CTR")
	cs.counter = lcDept(t, p, cs.counterCode, "--matters", "high_consumption,admin_licensing,civil_service_recruitment")
	cs.auditor = p.auditor(t, p.uniq("caud"))

	t.Run("cases", func(t *testing.T) {
		t.Run("grounds", cs.grounds)
		t.Run("refusals", cs.refusals)
		t.Run("feedback", cs.feedbackCases)
		t.Run("statistics", cs.statistics)
		t.Run("overdue feedback", cs.overdue)
		t.Run("expired entries", cs.expired)
		t.Run("no input makes the server answer 500", cs.noServerErrors)
	})
	t.Run("after every case no identity number or name is in clear in the data or the logs", (&suite{p: p}).sweep)
}

// checksSuite is the platform and server the check cases share.
type checksSuite struct {
	p             *platform
	srv           *server
	newDB         func(*testing.T) string
	court, market string // owners of SXBZXR and SCJG_YZWF
	counter       string // checks for high_consumption, admin_licensing, civil_service_recruitment
	counterCode   string
	auditor       string
}

// negativeReader adds a counter for admin_licensing that may read every
// negative item of the published catalog, and returns its token.
func (cs *checksSuite) negativeReader(t *testing.T) string {
	t.Helper()
	var cat struct {
		Items []struct {
			Code     string `json:"code"`
			Polarity string `json:"polarity"`
		} `json:"items"`
	}
	cs.srv.get(t, "", "/api/v1/catalog").want(t, http.StatusOK).decode(t, &cat)
	var negative []string
	for _, it := range cat.Items {
		if it.Polarity == "negative" {
			negative = append(negative, it.Code)
		}
	}
	if len(negative) == 0 {
		t.Fatal("the catalog has no negative item")
	}
	return lcDept(t, cs.p, cs.p.uniq("CTRN"), "--matters", "admin_licensing", "--read", strings.Join(negative, ","))
}

// debtor puts a new person on SXBZXR and returns them with the entry.
func (cs *checksSuite) debtor(t *testing.T) (person, listEntryJSON) {
	t.Helper()
	who := newPerson()
	return who, cs.srv.enter(t, cs.court, "SXBZXR", debtorEntry(who, cs.p.uniq("D"), "2026-03-01"))
}

func (cs *checksSuite) grounds(t *testing.T) {
	t.Parallel()
	p, srv := cs.p, cs.srv
	t.Run("a dishonest judgment debtor checked for high consumption gets the restriction naming the list entry", func(t *testing.T) {
		t.Parallel()
		who, e := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购买机票前核查")
		m, ok := c.measure("RESTRICT_HIGH_CONSUMPTION")
		if !ok {
			t.Fatalf("a debtor on SXBZXR gets %v for high_consumption, want RESTRICT_HIGH_CONSUMPTION", c.codes())
		}
		if !m.because("list_entry", e.ID, "SXBZXR") {
			t.Errorf("the restriction's reasons %+v do not name list entry %s on SXBZXR", m.Because, e.ID)
		}
		if m.Kind != "punishment" || m.Content["zh"] == "" || m.Content["en"] == "" || !strings.Contains(m.Basis, "法释〔2015〕17号") {
			t.Errorf("the restriction: kind %q content %v basis %q", m.Kind, m.Content, m.Basis)
		}
		if len(c.Measures) != 1 {
			t.Errorf("high_consumption returned %v, want only the restriction", c.codes())
		}
		if len(c.Facts.Lists) != 1 || c.Facts.Lists[0].ID != e.ID || c.Facts.Lists[0].Code != "SXBZXR" || c.Facts.Lists[0].Kind != "black" {
			t.Errorf("facts.lists %+v, want the SXBZXR entry %s", c.Facts.Lists, e.ID)
		}
		var published struct {
			Measures []struct {
				Code string `json:"code"`
			} `json:"measures"`
		}
		srv.get(t, "", "/api/v1/measures").want(t, http.StatusOK).decode(t, &published)
		if !slices.ContainsFunc(published.Measures, func(x struct {
			Code string `json:"code"`
		}) bool {
			return x.Code == m.Code
		}) {
			t.Errorf("the returned measure %s is not among the published measures", m.Code)
		}
	})
	t.Run("the check is an access event an auditor sees with its purpose", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		purpose := "铁路售票核查 " + p.uniq("P")
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", purpose)
		var log struct {
			Events []struct {
				Action    string   `json:"action"`
				Principal string   `json:"principal"`
				Kind      string   `json:"principal_kind"`
				Purpose   string   `json:"purpose"`
				Authority string   `json:"authority"`
				Records   []string `json:"records"`
			} `json:"events"`
		}
		srv.get(t, cs.auditor, "/api/v1/audit/access?id_number="+who.Number).want(t, http.StatusOK).decode(t, &log)
		found := false
		for _, ev := range log.Events {
			if ev.Principal == cs.counterCode && ev.Purpose == purpose {
				found = true
				if ev.Action != "check" || ev.Kind != "department" || !strings.Contains(ev.Authority, c.CheckID) {
					t.Errorf("the check's access event: %+v", ev)
				}
			}
		}
		if !found {
			t.Errorf("no access event of %s with purpose %q in %+v", cs.counterCode, purpose, log.Events)
		}
	})
	t.Run("a check by the legacy 15-digit number finds the same entry", func(t *testing.T) {
		t.Parallel()
		who, e := cs.debtor(t)
		body := checkBody(who, "high_consumption", "升位核对")
		body["subject"].(map[string]any)["id_number"] = legacy15(who)
		var c checkResultJSON
		srv.postJSON(t, cs.counter, "/api/v1/checks", body).want(t, http.StatusOK).decode(t, &c)
		if m, ok := c.measure("RESTRICT_HIGH_CONSUMPTION"); !ok || !m.because("list_entry", e.ID, "SXBZXR") {
			t.Errorf("checked by the 15-digit number: %v", c.codes())
		}
	})
	t.Run("a person with no records gets the green channel for administrative licensing", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "食品经营许可受理")
		m, ok := c.measure("GREEN_CHANNEL")
		if !ok || m.Kind != "reward" {
			t.Errorf("a person with no records gets %v for admin_licensing, want GREEN_CHANNEL", c.codes())
		}
		for _, m := range c.Measures {
			if m.Kind != "reward" {
				t.Errorf("a person with no records gets the punishment %s", m.Code)
			}
		}
		// The counter may not read every negative item: it is not told the
		// clean years of anyone; a counter that may is.
		if c.Facts.CleanYears != nil || len(c.Facts.Lists) != 0 || len(c.Facts.Records) != 0 {
			t.Errorf("facts %+v, want no lists, no records and clean_years null", c.Facts)
		}
		if c := srv.checkPerson(t, cs.negativeReader(t), who, "admin_licensing", "食品经营许可受理"); c.Facts.CleanYears == nil || *c.Facts.CleanYears < 3 {
			t.Errorf("a counter that reads every negative item is told clean_years %s, want at least 3", years(c.Facts.CleanYears))
		}
		if c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查"); len(c.Measures) != 0 {
			t.Errorf("a person with no records gets %v for high_consumption", c.codes())
		}
	})
	t.Run("a person on a black list does not get the green channel, even with three clean years", func(t *testing.T) {
		t.Parallel()
		// Decided 2022-06-01: the record's display ended 2025-06-01 (3 years
		// at most), the entry lasts until 2027-06-01 (24 + 36 months).
		who := newPerson()
		body := debtorEntry(who, p.uniq("OLD"), "2022-06-01")
		body["until"] = "2027-06-01"
		e := srv.enter(t, cs.court, "SXBZXR", body)
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "食品经营许可受理")
		if _, ok := c.measure("GREEN_CHANNEL"); ok {
			t.Errorf("a person on SXBZXR gets the green channel (facts %+v)", c.Facts)
		}
		for _, code := range []string{"NO_COMMITMENT_INSTEAD_OF_DOCUMENTS", "PRIORITY_INSPECTION"} {
			if m, ok := c.measure(code); !ok || !m.because("list_entry", e.ID, "SXBZXR") {
				t.Errorf("a person on SXBZXR checked for admin_licensing: %v, want %s because of entry %s", c.codes(), code, e.ID)
			}
		}
	})
	t.Run("a person with a negative record in use does not get the green channel", func(t *testing.T) {
		t.Parallel()
		penalizer := p.dept(t, p.uniq("PEN"), "XZCF", "")
		who := newPerson()
		fine := srv.submit(t, penalizer, who, penalty(who, p.uniq("PEN"), "2026-05-01", nil))
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "食品经营许可受理")
		if _, ok := c.measure("GREEN_CHANNEL"); ok || c.Facts.CleanYears != nil {
			t.Errorf("a person fined on 2026-05-01 gets %v with clean_years %s; want no green channel and null", c.codes(), years(c.Facts.CleanYears))
		}
		// XZCF is public by law but names no law for displaying a person's
		// penalty: like the integrity file, the check shows it only to a
		// counter that may read XZCF.
		if len(c.Facts.Records) != 0 {
			t.Errorf("a counter that may not read XZCF is shown %+v", c.Facts.Records)
		}
		reader := lcDept(t, p, p.uniq("CTRX"), "--matters", "admin_licensing", "--read", "XZCF")
		c = srv.checkPerson(t, reader, who, "admin_licensing", "食品经营许可受理")
		// It may not read every negative item: the clean years could tell
		// of a newer record of another, so it is not told them.
		if len(c.Facts.Records) != 1 || c.Facts.Records[0].ID != fine.ID || c.Facts.CleanYears != nil {
			t.Errorf("a counter that reads XZCF is shown records %+v and clean_years %s, want the fine and null", c.Facts.Records, years(c.Facts.CleanYears))
		}
		if c := srv.checkPerson(t, cs.negativeReader(t), who, "admin_licensing", "食品经营许可受理"); years(c.Facts.CleanYears) != "0" {
			t.Errorf("a counter that reads every negative item is told clean_years %s, want 0", years(c.Facts.CleanYears))
		}
	})
	t.Run("a record the counter may not read, published by no law and named by no measure, is weighed but not shown", func(t *testing.T) {
		t.Parallel()
		agency := p.dept(t, p.uniq("SB"), "SBQF", "")
		who := newPerson()
		arrears := srv.submit(t, agency, who, map[string]any{
			"item": "SBQF", "ref": p.uniq("SB"), "decided_on": "2026-05-01",
			"subject": map[string]any{"id_type": "resident_id", "id_number": who.Number, "name": who.Name},
			"fields":  map[string]any{"decision_no": "津社保限缴〔2026〕" + p.uniq("") + "号", "insurance_types": []string{"pension"}, "arrears_amount": 3000},
		})
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "食品经营许可受理")
		// Nor do the clean years tell of it.
		if _, ok := c.measure("GREEN_CHANNEL"); ok || c.Facts.CleanYears != nil {
			t.Errorf("a person in arrears since 2026-05-01 gets %v with clean_years %s; want no green channel and null", c.codes(), years(c.Facts.CleanYears))
		}
		if len(c.Facts.Records) != 0 {
			t.Errorf("a counter that may not read SBQF is shown %+v", c.Facts.Records)
		}
		type event struct {
			Principal string   `json:"principal"`
			Action    string   `json:"action"`
			Records   []string `json:"records"`
			Items     []string `json:"items"`
		}
		checks := func(dept string) []event {
			var log struct {
				Events []event `json:"events"`
			}
			srv.get(t, cs.auditor, "/api/v1/audit/access?id_number="+who.Number).want(t, http.StatusOK).decode(t, &log)
			var out []event
			for _, ev := range log.Events {
				if ev.Principal == dept && ev.Action == "check" {
					out = append(out, ev)
				}
			}
			return out
		}
		for _, ev := range checks(cs.counterCode) {
			if len(ev.Items) != 0 || len(ev.Records) != 0 {
				t.Errorf("the check's access event names records %v and items %v the counter was not shown", ev.Records, ev.Items)
			}
		}
		// A counter that may read SBQF sees the record it was checked on,
		// and its access event names it, once.
		readerCode := p.uniq("CTRR")
		reader := lcDept(t, p, readerCode, "--matters", "admin_licensing", "--read", "SBQF")
		c = srv.checkPerson(t, reader, who, "admin_licensing", "食品经营许可受理")
		if evs := checks(readerCode); len(evs) != 1 || !slices.Equal(evs[0].Records, []string{arrears.ID}) || !slices.Equal(evs[0].Items, []string{"SBQF"}) {
			t.Errorf("the reading counter's check events %+v, want one naming record %s and item SBQF", evs, arrears.ID)
		}
		if len(c.Facts.Records) != 1 || c.Facts.Records[0].Item != "SBQF" || c.Facts.Records[0].Polarity != "negative" || c.Facts.CleanYears != nil {
			t.Errorf("a counter that reads SBQF is shown records %+v and clean_years %s, want the arrears and null", c.Facts.Records, years(c.Facts.CleanYears))
		}
	})
	t.Run("whether clean_years is shown depends on the counter, never on a record it may not see", func(t *testing.T) {
		t.Parallel()
		agency := p.dept(t, p.uniq("SB"), "SBQF", "")
		hidden, clean := newPerson(), newPerson()
		srv.submit(t, agency, hidden, map[string]any{
			"item": "SBQF", "ref": p.uniq("SB"), "decided_on": "2026-05-01",
			"subject": map[string]any{"id_type": "resident_id", "id_number": hidden.Number, "name": hidden.Name},
			"fields":  map[string]any{"decision_no": "津社保限缴〔2026〕" + p.uniq("") + "号", "insurance_types": []string{"pension"}, "arrears_amount": 3000},
		})
		// cs.counter may not read SBQF, whose records are not publicly
		// displayed: the two answers have the same shape.
		for _, matter := range []string{"admin_licensing", "civil_service_recruitment"} {
			h := srv.checkPerson(t, cs.counter, hidden, matter, "核查")
			c := srv.checkPerson(t, cs.counter, clean, matter, "核查")
			if (h.Facts.CleanYears == nil) != (c.Facts.CleanYears == nil) {
				t.Errorf("%s: clean_years %s for a person with a record the counter may not see, %s for one without: the difference tells of the record",
					matter, years(h.Facts.CleanYears), years(c.Facts.CleanYears))
			}
			if len(h.Facts.Records) != 0 {
				t.Errorf("%s: a counter that may not read SBQF is shown %+v", matter, h.Facts.Records)
			}
		}
		// A counter that may read every negative item is told the number.
		reader := cs.negativeReader(t)
		if c := srv.checkPerson(t, reader, hidden, "admin_licensing", "核查"); years(c.Facts.CleanYears) != "0" {
			t.Errorf("a counter that reads every negative item is told clean_years %s for a person in arrears since 2026-05-01, want 0", years(c.Facts.CleanYears))
		}
		if c := srv.checkPerson(t, reader, clean, "admin_licensing", "核查"); c.Facts.CleanYears == nil || *c.Facts.CleanYears < 3 {
			t.Errorf("a counter that reads every negative item is told clean_years %s for a person with no record, want at least 3", years(c.Facts.CleanYears))
		}
	})
	t.Run("a person on a red list gets the red-list reward naming the entry", func(t *testing.T) {
		t.Parallel()
		league := lcDept(t, p, p.uniq("VOL"), "--lists", "YXZYZ")
		who := newPerson()
		e := srv.enter(t, league, "YXZYZ", map[string]any{
			"ref": p.uniq("V"), "subject": subjectOfPerson(who), "decided_on": "2026-06-01",
			"document_no": "津志认〔2026〕" + p.uniq("") + "号", "grounds": []string{"star_volunteer"}, "basis": "《志愿服务条例》第三十六条",
		})
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "容缺受理")
		if m, ok := c.measure("ACCEPT_WITH_MINOR_MISSING"); !ok || !m.because("list_entry", e.ID, "YXZYZ") {
			t.Errorf("a person on YXZYZ gets %v, want ACCEPT_WITH_MINOR_MISSING because of entry %s", c.codes(), e.ID)
		}
	})
	t.Run("a serious negative record imported by another process ends a red-list entry before the import exits", func(t *testing.T) {
		t.Parallel()
		league := lcDept(t, p, p.uniq("VOL"), "--lists", "YXZYZ")
		penCode := p.uniq("PENI")
		p.dept(t, penCode, "XZCF", "")
		who := newPerson()
		e := srv.enter(t, league, "YXZYZ", map[string]any{
			"ref": p.uniq("V"), "subject": subjectOfPerson(who), "decided_on": "2026-06-01",
			"document_no": "津志认〔2026〕" + p.uniq("") + "号", "grounds": []string{"star_volunteer"}, "basis": "《志愿服务条例》第三十六条",
		})
		row := penalty(who, p.uniq("RVI"), "2026-07-01", map[string]any{"penalty_types": []string{"license_revocation"}, "fine_amount": nil})
		p.mustRun(t, nil, "import", writeFile(t, "serious.ndjson", ndjson(t, row)), "--dept", penCode, "--item", "XZCF")
		// The server's job was not told (another process wrote the record);
		// the import ended the entry itself, without waiting for a sweep.
		if got, _ := srv.ownEntry(t, league, "YXZYZ", e.ID); got.Status != "removed" || got.Removal == nil || got.Removal.Reason != "negative_record" {
			t.Errorf("after the import the red-list entry is %q (removal %+v), want removed for negative_record", got.Status, got.Removal)
		}
	})
	t.Run("a new serious negative record ends a red-list entry: at once for checks, and the job removes it within seconds", func(t *testing.T) {
		t.Parallel()
		league := lcDept(t, p, p.uniq("VOL"), "--lists", "YXZYZ")
		penalizer := p.dept(t, p.uniq("PEN"), "XZCF", "")
		who, other := newPerson(), newPerson()
		volunteer := func(who person) listEntryJSON {
			return srv.enter(t, league, "YXZYZ", map[string]any{
				"ref": p.uniq("V"), "subject": subjectOfPerson(who), "decided_on": "2026-06-01",
				"document_no": "津志认〔2026〕" + p.uniq("") + "号", "grounds": []string{"star_volunteer"}, "basis": "《志愿服务条例》第三十六条",
			})
		}
		e, kept := volunteer(who), volunteer(other)
		// A serious penalty for who after the listing; a general one for other.
		srv.submit(t, penalizer, who, penalty(who, p.uniq("RV"), "2026-07-01", map[string]any{"penalty_types": []string{"license_revocation"}, "fine_amount": nil}))
		srv.submit(t, penalizer, other, penalty(other, p.uniq("GN"), "2026-07-01", nil))
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "容缺受理")
		if _, ok := c.measure("ACCEPT_WITH_MINOR_MISSING"); ok || len(c.Facts.Lists) != 0 {
			t.Errorf("after a serious penalty the red-list reward stays: %v, lists %+v", c.codes(), c.Facts.Lists)
		}
		if c := srv.checkPerson(t, cs.counter, other, "admin_licensing", "容缺受理"); len(c.Facts.Lists) != 1 {
			t.Errorf("a general penalty ended a red-list entry: lists %+v", c.Facts.Lists)
		}
		// The running server's job is told of the serious record: no restart,
		// no wait for the sweep of every red list.
		got := srv.awaitEntryStatus(t, league, "YXZYZ", e.ID, "removed", 10*time.Second)
		if got.Removal == nil || got.Removal.Reason != "negative_record" {
			t.Errorf("removal %+v, want reason negative_record", got.Removal)
		}
		if still, _ := srv.ownEntry(t, league, "YXZYZ", kept.ID); still.Status != "active" {
			t.Errorf("the entry of a person with a general penalty is %q, want active", still.Status)
		}
		// Nor can the person be put back on it: 422 naming subject.
		srv.postJSON(t, league, "/api/v1/lists/YXZYZ/entries", map[string]any{
			"ref": p.uniq("V"), "subject": subjectOfPerson(who), "decided_on": "2026-06-01",
			"document_no": "津志认〔2026〕" + p.uniq("") + "号", "grounds": []string{"star_volunteer"}, "basis": "《志愿服务条例》第三十六条",
		}).wantError(t, http.StatusUnprocessableEntity, "subject")
	})
	t.Run("the record of a noticed black-list entry neither ends nor bars a red-list entry", func(t *testing.T) {
		t.Parallel()
		league := lcDept(t, p, p.uniq("VOL"), "--lists", "YXZYZ")
		who := newPerson()
		srv.enter(t, cs.market, "SCJG_YZWF", violationEntry(who, p.uniq("N"), "2026-11-02")) // noticed for 5 working days
		e := srv.enter(t, league, "YXZYZ", map[string]any{
			"ref": p.uniq("V"), "subject": subjectOfPerson(who), "decided_on": "2026-06-01",
			"document_no": "津志认〔2026〕" + p.uniq("") + "号", "grounds": []string{"star_volunteer"}, "basis": "《志愿服务条例》第三十六条",
		})
		time.Sleep(2 * time.Second) // time for a nudge, had there been one
		if got, _ := srv.ownEntry(t, league, "YXZYZ", e.ID); got.Status != "active" {
			t.Errorf("the red-list entry is %q beside a noticed black-list entry, want active", got.Status)
		}
	})
	t.Run("a removed entry is never a ground", func(t *testing.T) {
		t.Parallel()
		who, e := cs.debtor(t)
		srv.removeEntry(t, cs.court, "SXBZXR", e.ID, "performed", "已全部履行").want(t, http.StatusOK)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		if len(c.Measures) != 0 || len(c.Facts.Lists) != 0 {
			t.Errorf("after the entry was removed: measures %v, facts.lists %+v", c.codes(), c.Facts.Lists)
		}
	})
	t.Run("an entry removed as revoked is never a ground and its record is not either", func(t *testing.T) {
		t.Parallel()
		who, e := cs.debtor(t)
		srv.removeEntry(t, cs.court, "SXBZXR", e.ID, "revoked", "执行依据被撤销").want(t, http.StatusOK)
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "许可核查")
		if _, ok := c.measure("NO_COMMITMENT_INSTEAD_OF_DOCUMENTS"); ok || len(c.Facts.Lists) != 0 || len(c.Facts.Records) != 0 {
			t.Errorf("after removal as revoked: measures %v, facts %+v", c.codes(), c.Facts)
		}
		if _, ok := c.measure("GREEN_CHANNEL"); !ok {
			t.Errorf("after the only record was revoked the person should have clean years again: %v (clean_years %s)", c.codes(), years(c.Facts.CleanYears))
		}
	})
	t.Run("an entry's record cannot be revoked behind the list (422): the entry stays a ground", func(t *testing.T) {
		t.Parallel()
		who, e := cs.debtor(t)
		srv.postJSON(t, cs.court, "/api/v1/records/"+e.RecordID+"/revoke", map[string]string{"reason": "执行依据被撤销", "basis": "(2026)津01民再3号"}).
			wantError(t, http.StatusUnprocessableEntity, "id")
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		if _, ok := c.measure("RESTRICT_HIGH_CONSUMPTION"); !ok {
			t.Errorf("after a refused revocation of its record, entry %s is no longer a ground: %v", e.ID, c.codes())
		}
	})
	t.Run("a revoked penalty is never a ground", func(t *testing.T) {
		t.Parallel()
		penalizer := p.dept(t, p.uniq("PEN"), "XZCF", "")
		who := newPerson()
		rec := srv.submit(t, penalizer, who, penalty(who, p.uniq("PEN"), "2026-05-01", nil))
		srv.postJSON(t, penalizer, "/api/v1/records/"+rec.ID+"/revoke", map[string]string{"reason": "复议撤销", "basis": "津政复决字〔2026〕9号"}).want(t, http.StatusOK)
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "许可核查")
		if _, ok := c.measure("GREEN_CHANNEL"); !ok || len(c.Facts.Records) != 0 {
			t.Errorf("after the only penalty was revoked: %v, facts %+v; want the green channel and no records", c.codes(), c.Facts)
		}
	})
}

func (cs *checksSuite) refusals(t *testing.T) {
	t.Parallel()
	p, srv := cs.p, cs.srv
	who := newPerson()
	t.Run("a department that does not implement the matter is 403", func(t *testing.T) {
		t.Parallel()
		subsidy := lcDept(t, p, p.uniq("SUB"), "--matters", "subsidy")
		srv.postJSON(t, subsidy, "/api/v1/checks", checkBody(who, "high_consumption", "购票核查")).wantError(t, http.StatusForbidden)
		srv.postJSON(t, cs.court, "/api/v1/checks", checkBody(who, "high_consumption", "购票核查")).wantError(t, http.StatusForbidden)
		reader := p.dept(t, p.uniq("RD"), "", "SXBZXR")
		srv.postJSON(t, reader, "/api/v1/checks", checkBody(who, "high_consumption", "购票核查")).wantError(t, http.StatusForbidden)
		srv.postJSON(t, cs.auditor, "/api/v1/checks", checkBody(who, "high_consumption", "购票核查")).wantError(t, http.StatusForbidden)
		srv.postJSON(t, "", "/api/v1/checks", checkBody(who, "high_consumption", "购票核查")).wantError(t, http.StatusUnauthorized)
	})
	t.Run("an unknown matter is 404 naming the known matters", func(t *testing.T) {
		t.Parallel()
		e := srv.postJSON(t, cs.counter, "/api/v1/checks", checkBody(who, "space_travel", "核查")).wantError(t, http.StatusNotFound)
		for _, m := range []string{"civil_service_recruitment", "government_procurement", "admin_licensing", "subsidy", "high_consumption"} {
			if !strings.Contains(e.Error.Message, m) {
				t.Errorf("the message %q does not name the matter %s", e.Error.Message, m)
			}
		}
	})
	t.Run("a missing purpose is 422 naming purpose", func(t *testing.T) {
		t.Parallel()
		for _, purpose := range []string{"", "   "} {
			srv.postJSON(t, cs.counter, "/api/v1/checks", checkBody(who, "high_consumption", purpose)).wantError(t, http.StatusUnprocessableEntity, "purpose")
		}
		body := checkBody(who, "high_consumption", "")
		delete(body, "purpose")
		srv.postJSON(t, cs.counter, "/api/v1/checks", body).wantError(t, http.StatusUnprocessableEntity, "purpose")
	})
	t.Run("a bad identity is 422 naming subject.id_number", func(t *testing.T) {
		t.Parallel()
		body := checkBody(who, "high_consumption", "购票核查")
		body["subject"].(map[string]any)["id_number"] = wrongCheck(who)
		e := srv.postJSON(t, cs.counter, "/api/v1/checks", body).wantError(t, http.StatusUnprocessableEntity, "subject.id_number")
		if !e.hasDetail("subject.id_number", "check_digit") {
			t.Errorf("details %+v, want code check_digit", e.Error.Details)
		}
		body["subject"] = map[string]any{}
		srv.postJSON(t, cs.counter, "/api/v1/checks", body).wantError(t, http.StatusUnprocessableEntity, "subject.id_number")
		body["subject"] = map[string]any{"id_number": "11010519491231002"}
		srv.postJSON(t, cs.counter, "/api/v1/checks", body).wantError(t, http.StatusUnprocessableEntity, "subject.id_number")
	})
	t.Run("a name given with the subject must be a name: too long or with control characters is 422 naming subject.name", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{strings.Repeat("张", 65), "张\x01三", "张\u0085三", "张\u202e三", "\ufeff张三", "张\u200b三"} {
			body := checkBody(who, "high_consumption", "购票核查")
			body["subject"].(map[string]any)["name"] = name
			srv.postJSON(t, cs.counter, "/api/v1/checks", body).wantError(t, http.StatusUnprocessableEntity, "subject.name")
		}
		body := checkBody(who, "high_consumption", "购票核查")
		body["subject"].(map[string]any)["name"] = who.Name
		srv.postJSON(t, cs.counter, "/api/v1/checks", body).want(t, http.StatusOK)
		// Nor may a purpose hide characters that do not print.
		srv.postJSON(t, cs.counter, "/api/v1/checks", checkBody(who, "high_consumption", "购票\u202e核查")).wantError(t, http.StatusUnprocessableEntity, "purpose")
	})
	t.Run("a bad identity and a missing purpose are named at once", func(t *testing.T) {
		t.Parallel()
		body := checkBody(who, "high_consumption", "")
		body["subject"].(map[string]any)["id_number"] = wrongCheck(who)
		srv.postJSON(t, cs.counter, "/api/v1/checks", body).wantError(t, http.StatusUnprocessableEntity, "subject.id_number", "purpose")
	})
	t.Run("an empty or null body is 422 naming subject, matter and purpose", func(t *testing.T) {
		t.Parallel()
		for _, body := range []any{map[string]any{}, nil} {
			srv.postJSON(t, cs.counter, "/api/v1/checks", body).wantError(t, http.StatusUnprocessableEntity, "subject.id_number", "matter", "purpose")
		}
	})
}

func (cs *checksSuite) feedbackCases(t *testing.T) {
	t.Parallel()
	p, srv := cs.p, cs.srv
	t.Run("a feedback note or a lookup purpose hiding characters that do not print is 422 naming it", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "已\u202e执行")).wantError(t, http.StatusUnprocessableEntity, "results[0].note")
		srv.get(t, cs.counter, "/api/v1/subjects/"+who.Number+"/file?purpose="+url.QueryEscape("核查\u200b")).wantError(t, http.StatusUnprocessableEntity, "purpose")
		// The refused note left the measure open for feedback.
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "已执行")).want(t, http.StatusCreated)
	})
	t.Run("an identity number or the person's name typed into a purpose or a note is stored and shown masked", func(t *testing.T) {
		t.Parallel()
		who, e := cs.debtor(t)
		spaced := who.Number[:6] + "　" + who.Number[6:14] + "　" + who.Number[14:] // ideographic spaces
		body := checkBody(who, "high_consumption", "核查"+who.Name+"（"+who.Number+"）购票，又"+spaced)
		body["subject"].(map[string]any)["name"] = who.Name
		var c checkResultJSON
		srv.postJSON(t, cs.counter, "/api/v1/checks", body).want(t, http.StatusOK).decode(t, &c)
		if want := "核查" + who.MaskedName() + "（" + who.MaskedNumber() + "）购票，又" + who.Number[:6] + "　********　" + who.Number[14:]; c.Purpose != want {
			t.Errorf("the check's purpose is %q, want %q", c.Purpose, want)
		}
		// The name is masked where the platform knows it, given or not.
		var c2 checkResultJSON
		srv.postJSON(t, cs.counter, "/api/v1/checks", checkBody(who, "high_consumption", "为"+who.Name+"购票")).want(t, http.StatusOK).decode(t, &c2)
		if want := "为" + who.MaskedName() + "购票"; c2.Purpose != want {
			t.Errorf("a check's purpose naming the person, no name given: %q, want %q", c2.Purpose, want)
		}
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "已拒绝"+who.Name+who.Number+"购票")).want(t, http.StatusCreated)
		reader := lcDept(t, p, p.uniq("RDP"), "--read", "XZCF") // it is shown nothing of the person
		srv.get(t, reader, "/api/v1/subjects/"+who.Number+"/file?purpose="+url.QueryEscape("复核 "+who.Name+" "+who.Number)).want(t, http.StatusOK)
		var removed listEntryJSON
		srv.removeEntry(t, cs.court, "SXBZXR", e.ID, "performed", "已履行，"+who.Name+"身份证"+who.Number).want(t, http.StatusOK).decode(t, &removed)
		if removed.Removal == nil || strings.Contains(removed.Removal.Note, who.Name) {
			t.Errorf("the removal %+v: its note carries the name, or it has none", removed.Removal)
		}
		// Published fields carry no name and no number in clear.
		pub := debtorEntry(who, p.uniq("PUB"), "2026-03-01")
		pub["fields"].(map[string]any)["obligation"] = "被执行人" + who.Name + "（" + spaced + "）偿还借款"
		published := srv.enter(t, cs.court, "SXBZXR", pub)
		if pe, ok := srv.publicEntry(t, "SXBZXR", published.ID); !ok {
			t.Errorf("entry %s is not on the public list", published.ID)
		} else if o, _ := pe.Fields["obligation"].(string); strings.Contains(o, who.Name) || strings.Contains(o, spaced) || !strings.Contains(o, who.MaskedName()) {
			t.Errorf("the published obligation %q shows the name or the number", o)
		}
		var log struct {
			Events []struct {
				Action  string `json:"action"`
				Purpose string `json:"purpose"`
			} `json:"events"`
		}
		srv.get(t, cs.auditor, "/api/v1/audit/access?id_number="+who.Number).want(t, http.StatusOK).decode(t, &log)
		masked := 0
		for _, ev := range log.Events {
			if strings.Contains(ev.Purpose, who.MaskedNumber()) {
				masked++
			}
		}
		if masked < 2 {
			t.Errorf("the access log shows %d purposes with the number masked, want the check's and the file read's: %+v", masked, log.Events)
		}
		// An entry's document number and basis are kept in clear, and
		// published: carrying the number, they are refused.
		bad := debtorEntry(who, p.uniq("DN"), "2026-03-01")
		bad["document_no"] = "(2026)津执" + who.Number + "号"
		bad["basis"] = "依据 " + who.Number[:6] + "-" + who.Number[6:14] + "-" + who.Number[14:]
		srv.postJSON(t, cs.court, "/api/v1/lists/SXBZXR/entries", bad).wantError(t, http.StatusUnprocessableEntity, "document_no", "basis")
		named := debtorEntry(who, p.uniq("DN"), "2026-03-01")
		named["document_no"] = "(2026)津执" + who.Name + "号"
		srv.postJSON(t, cs.court, "/api/v1/lists/SXBZXR/entries", named).wantError(t, http.StatusUnprocessableEntity, "document_no")
		// The record service's problems are the entry's: so says the message.
		odd := debtorEntry(who, p.uniq("DN"), "2026-03-01")
		odd["fields"] = map[string]any{"no_such_field": "x"}
		if e := srv.postJSON(t, cs.court, "/api/v1/lists/SXBZXR/entries", odd).wantError(t, http.StatusUnprocessableEntity); !strings.HasPrefix(e.Error.Message, "the list entry is not valid") {
			t.Errorf("an entry's unknown field: message %q, want it to say the list entry is not valid", e.Error.Message)
		}
		// send checks every answer above for the number in clear, and the
		// suite's last step sweeps the database and the logs for it.
	})
	t.Run("feedback is taken once per measure: 201, then 409", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		var got struct {
			CheckID string `json:"check_id"`
			Results []struct {
				Measure   string `json:"measure"`
				Applied   bool   `json:"applied"`
				LeafIndex *int64 `json:"leaf_index"`
			} `json:"results"`
		}
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "已拒绝售票")).want(t, http.StatusCreated).decode(t, &got)
		if got.CheckID != c.CheckID || len(got.Results) != 1 || got.Results[0].Measure != "RESTRICT_HIGH_CONSUMPTION" || !got.Results[0].Applied {
			t.Errorf("feedback answer %+v", got)
		}
		if len(got.Results) == 1 && (got.Results[0].LeafIndex == nil || *got.Results[0].LeafIndex < 0) {
			t.Errorf("feedback is ledgered: its answer should carry its leaf index, got %v", got.Results[0].LeafIndex)
		}
		again := srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", false, "改为未执行")).wantError(t, http.StatusConflict, "results[0].measure")
		if !strings.Contains(again.Error.Message, "RESTRICT_HIGH_CONSUMPTION") {
			t.Errorf("the 409 %q does not name the measure that has feedback", again.Error.Message)
		}
	})
	t.Run("concurrent feedback on one measure: one 201, the others 409", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		body := mustJSON(t, map[string]any{"results": []any{result("RESTRICT_HIGH_CONSUMPTION", true, "")}})
		const n = 6
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				statuses[i] = srv.send(t, request{method: http.MethodPost, path: "/api/v1/checks/" + c.CheckID + "/feedback", token: cs.counter, body: body}).Status
			})
		}
		wg.Wait()
		slices.Sort(statuses)
		if want := []int{201, 409, 409, 409, 409, 409}; !slices.Equal(statuses, want) {
			t.Errorf("concurrent feedback answered %v, want %v", statuses, want)
		}
	})
	t.Run("feedback on several measures stores none when one was reported already (409)", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "admin_licensing", "许可核查")
		if _, ok := c.measure("PRIORITY_INSPECTION"); !ok {
			t.Fatalf("admin_licensing for a debtor returned %v", c.codes())
		}
		srv.feedback(t, cs.counter, c.CheckID, result("NO_COMMITMENT_INSTEAD_OF_DOCUMENTS", true, "")).want(t, http.StatusCreated)
		srv.feedback(t, cs.counter, c.CheckID, result("PRIORITY_INSPECTION", true, ""), result("NO_COMMITMENT_INSTEAD_OF_DOCUMENTS", true, "")).wantError(t, http.StatusConflict)
		srv.feedback(t, cs.counter, c.CheckID, result("PRIORITY_INSPECTION", false, "")).want(t, http.StatusCreated)
	})
	t.Run("feedback by another department is 404", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		other := lcDept(t, p, p.uniq("CTR2"), "--matters", "high_consumption")
		srv.feedback(t, other, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).wantError(t, http.StatusNotFound)
		srv.feedback(t, cs.court, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).wantError(t, http.StatusNotFound)
		srv.feedback(t, cs.auditor, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).wantError(t, http.StatusForbidden)
		// The checking department can still report.
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).want(t, http.StatusCreated)
	})
	t.Run("feedback for a measure the check did not return is 422", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		for _, code := range []string{"GREEN_CHANNEL", "RESTRICT_SUBSIDY", "NOPE"} {
			srv.feedback(t, cs.counter, c.CheckID, result(code, true, "")).wantError(t, http.StatusUnprocessableEntity, "results[0].measure")
		}
		clean := srv.checkPerson(t, cs.counter, newPerson(), "high_consumption", "购票核查")
		srv.feedback(t, cs.counter, clean.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).wantError(t, http.StatusUnprocessableEntity, "results[0].measure")
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).want(t, http.StatusCreated)
	})
	t.Run("feedback without applied is 422 naming it", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		srv.feedback(t, cs.counter, c.CheckID, map[string]any{"measure": "RESTRICT_HIGH_CONSUMPTION", "note": "x"}).
			wantError(t, http.StatusUnprocessableEntity, "results[0].applied")
		srv.feedback(t, cs.counter, c.CheckID, map[string]any{"measure": "RESTRICT_HIGH_CONSUMPTION", "applied": nil}).
			wantError(t, http.StatusUnprocessableEntity, "results[0].applied")
		// Nothing was stored: the feedback can still be given.
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", false, "旅客持有效证明")).want(t, http.StatusCreated)
	})
	t.Run("feedback with no results or one measure twice is 422", func(t *testing.T) {
		t.Parallel()
		who, _ := cs.debtor(t)
		c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
		srv.postJSON(t, cs.counter, "/api/v1/checks/"+c.CheckID+"/feedback", map[string]any{"results": []any{}}).wantError(t, http.StatusUnprocessableEntity, "results")
		srv.postJSON(t, cs.counter, "/api/v1/checks/"+c.CheckID+"/feedback", map[string]any{}).wantError(t, http.StatusUnprocessableEntity, "results")
		srv.feedback(t, cs.counter, c.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, ""), result("RESTRICT_HIGH_CONSUMPTION", false, "")).
			wantError(t, http.StatusUnprocessableEntity, "results[1].measure")
	})
	t.Run("feedback on a check that does not exist is 404", func(t *testing.T) {
		t.Parallel()
		for _, id := range []string{strings.Repeat("0", 32), "nope"} {
			srv.feedback(t, cs.counter, id, result("RESTRICT_HIGH_CONSUMPTION", true, "")).wantError(t, http.StatusNotFound)
		}
	})
}

// statistics: a department of its own makes four checks for high
// consumption (three of a debtor, one of a person with no records) and
// reports on two, and two for administrative licensing.
func (cs *checksSuite) statistics(t *testing.T) {
	t.Parallel()
	p, srv := cs.p, cs.srv
	code := p.uniq("STAT")
	dept := lcDept(t, p, code, "--matters", "high_consumption,admin_licensing")
	clean := newPerson()
	for range 2 {
		srv.checkPerson(t, dept, clean, "admin_licensing", "许可受理")
	}
	who, _ := cs.debtor(t)
	var checks []checkResultJSON
	for range 3 {
		checks = append(checks, srv.checkPerson(t, dept, who, "high_consumption", "购票核查"))
	}
	srv.checkPerson(t, dept, newPerson(), "high_consumption", "购票核查")
	srv.feedback(t, dept, checks[0].CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).want(t, http.StatusCreated)
	srv.feedback(t, dept, checks[1].CheckID, result("RESTRICT_HIGH_CONSUMPTION", false, "")).want(t, http.StatusCreated)
	srv.feedback(t, dept, checks[1].CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).wantError(t, http.StatusConflict)

	t.Run("statistics count checks, measures returned, feedback and applied per department and measure", func(t *testing.T) {
		t.Parallel()
		rows := srv.stats(t, dept, "?from=2026-11-01&to=2026-11-30")
		got, ok := statOf(rows, code, "RESTRICT_HIGH_CONSUMPTION")
		want := statJSON{Department: code, Measure: "RESTRICT_HIGH_CONSUMPTION", Checks: 4, Returned: 3, Feedback: 2, Applied: 1, NotApplied: 1, Overdue: 0}
		if !ok || got != want {
			t.Errorf("stats %+v\nwant %+v", got, want)
		}
		if def := srv.stats(t, dept, ""); !slices.Contains(def, want) {
			t.Errorf("the default period (the last 30 days) gives %+v, want %+v among the rows", def, want)
		}
		// A measure's checks are those of its matters.
		green, ok := statOf(rows, code, "GREEN_CHANNEL")
		if want := (statJSON{Department: code, Measure: "GREEN_CHANNEL", Checks: 2, Returned: 2, Overdue: 0}); !ok || green != want {
			t.Errorf("stats %+v\nwant %+v", green, want)
		}
	})
	t.Run("a department's checks are counted when none returned a measure", func(t *testing.T) {
		t.Parallel()
		quiet := p.uniq("QUIET")
		token := lcDept(t, p, quiet, "--matters", "high_consumption")
		srv.checkPerson(t, token, newPerson(), "high_consumption", "购票核查")
		srv.checkPerson(t, token, newPerson(), "high_consumption", "购票核查")
		var out struct {
			Rows        []statJSON `json:"rows"`
			Departments []struct {
				Department string `json:"department"`
				Checks     int    `json:"checks"`
			} `json:"departments"`
		}
		srv.get(t, token, "/api/v1/stats/measures?from=2026-11-01&to=2026-11-30").want(t, http.StatusOK).decode(t, &out)
		if len(out.Rows) != 0 || len(out.Departments) != 1 || out.Departments[0].Department != quiet || out.Departments[0].Checks != 2 {
			t.Errorf("stats of a department whose two checks returned nothing: %+v", out)
		}
	})
	t.Run("checks outside the period are not counted", func(t *testing.T) {
		t.Parallel()
		if rows := srv.stats(t, dept, "?from=2026-10-01&to=2026-11-29"); len(rows) != 0 {
			t.Errorf("stats before the checks: %+v, want none", rows)
		}
		if rows := srv.stats(t, dept, "?from=2026-12-01&to=2026-12-31"); len(rows) != 0 {
			t.Errorf("stats after the checks: %+v, want none", rows)
		}
	})
	t.Run("a department sees only its own rows and an auditor sees every department's", func(t *testing.T) {
		t.Parallel()
		for _, r := range srv.stats(t, dept, "?from=2026-11-01&to=2026-11-30") {
			if r.Department != code {
				t.Errorf("department %s sees the row of %s", code, r.Department)
			}
		}
		other := lcDept(t, p, p.uniq("STAT2"), "--matters", "high_consumption")
		if _, ok := statOf(srv.stats(t, other, "?from=2026-11-01&to=2026-11-30"), code, "RESTRICT_HIGH_CONSUMPTION"); ok {
			t.Errorf("another department sees the statistics of %s", code)
		}
		if _, ok := statOf(srv.stats(t, cs.auditor, "?from=2026-11-01&to=2026-11-30"), code, "RESTRICT_HIGH_CONSUMPTION"); !ok {
			t.Errorf("the auditor does not see the statistics of %s", code)
		}
		srv.get(t, "", "/api/v1/stats/measures").wantError(t, http.StatusUnauthorized)
	})
	t.Run("the working days feedback is due in come from the configuration", func(t *testing.T) {
		t.Parallel()
		conf := writeFile(t, "pubcredit.yaml", []byte("feedback_days: 3\n"))
		other := p.serve(t, map[string]string{"PUBCREDIT_CONFIG": conf})
		for want, server := range map[int]*server{5: srv, 3: other} {
			var out struct {
				Days int `json:"feedback_working_days"`
			}
			if server.get(t, dept, "/api/v1/stats/measures").want(t, http.StatusOK).decode(t, &out); out.Days != want {
				t.Errorf("feedback_working_days %d, want %d", out.Days, want)
			}
		}
	})
	t.Run("bad or repeated dates are 422 naming them", func(t *testing.T) {
		t.Parallel()
		for query, field := range map[string]string{
			"?from=2026-02-30":                 "from",
			"?from=yesterday":                  "from",
			"?to=2026/11/30":                   "to",
			"?from=2026-12-01&to=2026-11-01":   "to",
			"?from=2026-11-01&from=2026-11-02": "from",
		} {
			srv.get(t, dept, "/api/v1/stats/measures"+query).wantError(t, http.StatusUnprocessableEntity, field)
		}
		// One end given: the other defaults from it, never against it.
		for query, want := range map[string][2]string{
			"?to=2026-01-01":   {"2025-12-03", "2026-01-01"},
			"?to=0001-01-01":   {"0001-01-01", "0001-01-01"},
			"?from=2026-11-01": {"2026-11-01", "2026-11-30"},
		} {
			var out struct{ From, To string }
			if srv.get(t, dept, "/api/v1/stats/measures"+query).want(t, http.StatusOK).decode(t, &out); out.From != want[0] || out.To != want[1] {
				t.Errorf("%s: from %s to %s, want %s to %s", query, out.From, out.To, want[0], want[1])
			}
		}
	})
}

// overdue: feedback is due within 5 working days of the check. A check on
// Monday 2026-11-30 is due by Monday 2026-12-07 and overdue from 2026-12-08.
func (cs *checksSuite) overdue(t *testing.T) {
	t.Parallel()
	p := lcPlatform(t, cs.newDB)
	court := lcDept(t, p, p.uniq("COURT"), "--lists", "SXBZXR")
	code := p.uniq("CTR")
	counter := lcDept(t, p, code, "--matters", "high_consumption")
	srv := p.serve(t, nil)
	who := newPerson()
	srv.enter(t, court, "SXBZXR", debtorEntry(who, p.uniq("D"), "2026-03-01"))
	answered := srv.checkPerson(t, counter, who, "high_consumption", "购票核查")
	srv.checkPerson(t, counter, who, "high_consumption", "购票核查") // never answered
	srv.feedback(t, counter, answered.CheckID, result("RESTRICT_HIGH_CONSUMPTION", true, "")).want(t, http.StatusCreated)
	const period = "?from=2026-11-01&to=2026-12-31"
	for _, c := range []struct {
		now     time.Time
		overdue int
	}{
		{e2eNow, 0},
		{cityTime("2026-12-07", "23:30"), 0},
		{cityTime("2026-12-08", "00:30"), 1}, // still 2026-12-07 in UTC
		{cityTime("2026-12-20", "10:00"), 1},
	} {
		t.Run(fmt.Sprintf("on %s overdue feedback is %d", c.now.Format("2006-01-02 15:04 MST"), c.overdue), func(t *testing.T) {
			later := srv
			if !c.now.Equal(e2eNow) {
				later = p.at(c.now).serve(t, nil)
			}
			got, _ := statOf(later.stats(t, counter, period), code, "RESTRICT_HIGH_CONSUMPTION")
			want := statJSON{Department: code, Measure: "RESTRICT_HIGH_CONSUMPTION", Checks: 2, Returned: 2, Feedback: 1, Applied: 1, Overdue: c.overdue}
			if got != want {
				t.Errorf("stats %+v\nwant %+v", got, want)
			}
		})
	}
}

// expired: an entry whose term has ended is never a ground, whether or not
// the background job has removed it yet.
func (cs *checksSuite) expired(t *testing.T) {
	t.Parallel()
	p := lcPlatform(t, cs.newDB)
	court := lcDept(t, p, p.uniq("COURT"), "--lists", "SXBZXR")
	counter := lcDept(t, p, p.uniq("CTR"), "--matters", "high_consumption,admin_licensing")
	srv := p.serve(t, nil)
	who := newPerson()
	body := debtorEntry(who, p.uniq("X"), "2024-12-15") // its 24 months end on 2026-12-15, and no sooner
	body["until"] = "2026-12-15"
	e := srv.enter(t, court, "SXBZXR", body)
	if c := srv.checkPerson(t, counter, who, "high_consumption", "购票核查"); len(c.Measures) != 1 {
		t.Fatalf("before its until the entry gives %v, want the restriction", c.codes())
	}
	t.Run("an entry whose until has passed is never a ground", func(t *testing.T) {
		later := p.at(cityTime("2026-12-15", "00:10")).serve(t, nil)
		if c := later.checkPerson(t, counter, who, "high_consumption", "购票核查"); len(c.Measures) != 0 || len(c.Facts.Lists) != 0 {
			t.Errorf("on its until day the entry still gives %v (facts.lists %+v)", c.codes(), c.Facts.Lists)
		}
		later.awaitEntryStatus(t, court, "SXBZXR", e.ID, "removed", 20*time.Second)
		if c := later.checkPerson(t, counter, who, "high_consumption", "购票核查"); len(c.Measures) != 0 {
			t.Errorf("after the entry expired: %v", c.codes())
		}
	})
}

func (cs *checksSuite) noServerErrors(t *testing.T) {
	t.Parallel()
	srv := cs.srv
	who, _ := cs.debtor(t)
	c := srv.checkPerson(t, cs.counter, who, "high_consumption", "购票核查")
	with := func(mut func(m map[string]any)) []byte {
		m := checkBody(who, "high_consumption", "购票核查")
		mut(m)
		return mustJSON(t, m)
	}
	set := func(k string, v any) []byte { return with(func(m map[string]any) { m[k] = v }) }
	subj := func(k string, v any) []byte {
		return with(func(m map[string]any) { m["subject"].(map[string]any)[k] = v })
	}
	checkBodies := map[string][]byte{
		"an empty body":         {},
		"an array":              []byte(`[1, 2]`),
		"null":                  []byte(`null`),
		"a number":              []byte(`42`),
		"two objects":           []byte(`{} {}`),
		"an empty object":       []byte(`{}`),
		"deep nesting":          []byte(strings.Repeat(`{"subject":`, 5000) + strings.Repeat(`}`, 5000)),
		"invalid UTF-8":         append([]byte(`{"purpose": "`), 0xff, 0xfe, '"', '}'),
		"subject as text":       set("subject", who.Number),
		"subject null":          set("subject", nil),
		"matter as a number":    set("matter", 5),
		"matter as a list":      set("matter", []string{"high_consumption"}),
		"matter of 5000":        set("matter", strings.Repeat("m", 5000)),
		"matter with NUL":       set("matter", "high_consumption\u0000"),
		"purpose as an object":  set("purpose", map[string]any{}),
		"purpose of 5000":       set("purpose", strings.Repeat("目", 5000)),
		"purpose with NUL":      set("purpose", "核\u0000查"),
		"an extra key":          set("colour", "red"),
		"id_number as a number": subj("id_number", 110105194912310021),
		"a 300-digit number":    subj("id_number", strings.Repeat("1", 300)),
		"a number with NUL":     subj("id_number", who.Number[:10]+"\u0000"+who.Number[11:]),
		"an unknown id type":    subj("id_type", "驾驶证"),
		"a passport":            with(func(m map[string]any) { m["subject"] = map[string]any{"id_type": "passport", "id_number": "E12345678"} }),
		"a USCC as a person": with(func(m map[string]any) {
			m["subject"] = map[string]any{"id_type": "uscc", "id_number": "91350100M000100Y43"}
		}),
		"a name given":            subj("name", "张\u0000三"),
		"a 15-digit number, odd":  subj("id_number", "110105491231002"),
		"a number born in future": subj("id_number", "110105209912310021"),
	}
	for name, body := range checkBodies {
		res := srv.send(t, request{method: http.MethodPost, path: "/api/v1/checks", token: cs.counter, body: body})
		if res.Status >= 500 || res.Status < 200 {
			t.Errorf("check, %s: status %d: %s", name, res.Status, truncateBody(res.Body))
		}
	}
	feedbackBodies := map[string][]byte{
		"an empty body":            {},
		"an array":                 []byte(`[]`),
		"null":                     []byte(`null`),
		"results null":             []byte(`{"results": null}`),
		"results as an object":     []byte(`{"results": {"measure": "RESTRICT_HIGH_CONSUMPTION", "applied": true}}`),
		"results of numbers":       []byte(`{"results": [1, 2]}`),
		"a null result":            []byte(`{"results": [null]}`),
		"applied as text":          []byte(`{"results": [{"measure": "RESTRICT_HIGH_CONSUMPTION", "applied": "yes"}]}`),
		"applied as a number":      []byte(`{"results": [{"measure": "RESTRICT_HIGH_CONSUMPTION", "applied": 1}]}`),
		"measure as a number":      []byte(`{"results": [{"measure": 1, "applied": true}]}`),
		"note as an object":        []byte(`{"results": [{"measure": "RESTRICT_HIGH_CONSUMPTION", "applied": true, "note": {}}]}`),
		"an extra key in a result": []byte(`{"results": [{"measure": "RESTRICT_HIGH_CONSUMPTION", "applied": true, "colour": 1}]}`),
		"a note of 3000":           mustJSON(t, map[string]any{"results": []any{map[string]any{"measure": "RESTRICT_HIGH_CONSUMPTION", "applied": true, "note": strings.Repeat("注", 3000)}}}),
		"1000 results":             mustJSON(t, map[string]any{"results": slices.Repeat([]any{result("RESTRICT_HIGH_CONSUMPTION", true, "")}, 1000)}),
		"a measure of 5000":        mustJSON(t, map[string]any{"results": []any{result(strings.Repeat("M", 5000), true, "")}}),
		"a measure with NUL":       mustJSON(t, map[string]any{"results": []any{result("RESTRICT\u0000", true, "")}}),
		"a note with NUL":          mustJSON(t, map[string]any{"results": []any{result("RESTRICT_HIGH_CONSUMPTION", true, "已\u0000执行")}}),
		"invalid UTF-8":            append([]byte(`{"results": [{"measure": "`), 0xff, '"', ',', '"', 'a', 'p', 'p', 'l', 'i', 'e', 'd', '"', ':', 't', 'r', 'u', 'e', '}', ']', '}'),
	}
	for name, body := range feedbackBodies {
		res := srv.send(t, request{method: http.MethodPost, path: "/api/v1/checks/" + c.CheckID + "/feedback", token: cs.counter, body: body})
		if res.Status >= 500 || res.Status < 200 {
			t.Errorf("feedback, %s: status %d: %s", name, res.Status, truncateBody(res.Body))
		}
	}
	for _, id := range []string{"%00", "%FF", "%E2%80%AE", strings.Repeat("z", 300), "0"} {
		path := "/api/v1/checks/" + id + "/feedback"
		res := srv.send(t, request{method: http.MethodPost, path: path, token: cs.counter, body: mustJSON(t, map[string]any{"results": []any{result("RESTRICT_HIGH_CONSUMPTION", true, "")}})})
		if res.Status != http.StatusNotFound {
			t.Errorf("POST %s: status %d, want 404: %s", path, res.Status, truncateBody(res.Body))
		}
	}
	for _, query := range []string{
		"?from=0000-01-01", "?to=9999-12-31", "?from=0000-01-01&to=9999-12-31", "?from=0001-01-01&to=0001-01-01",
		"?from=%00", "?to=%FF", "?from=" + strings.Repeat("2", 5000),
	} {
		for _, token := range []string{cs.counter, cs.auditor} {
			if res := srv.get(t, token, "/api/v1/stats/measures"+query); res.Status >= 500 {
				t.Errorf("GET /api/v1/stats/measures%s: status %d: %s", query, res.Status, truncateBody(res.Body))
			}
		}
	}
	if res := srv.get(t, "", "/api/v1/measures"); res.Status != http.StatusOK {
		t.Errorf("GET /api/v1/measures: %d", res.Status)
	}
}
