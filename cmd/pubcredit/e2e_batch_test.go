package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"pubcredit/internal/config"
	"pubcredit/internal/ids"
	"pubcredit/internal/ingest"
	"pubcredit/internal/store/postgres/pgtest"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// batchJSON is a batch as POST /api/v1/batches answers it.
type batchJSON struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Rows       int             `json:"rows"`
	Accepted   int             `json:"accepted"`
	Rejected   int             `json:"rejected"`
	FinishedAt *string         `json:"finished_at"`
	Rejections []rejectionJSON `json:"rejections"`
}

type rejectionJSON struct {
	Line   int              `json:"line"`
	Errors []map[string]any `json:"errors"`
}

// lines lists the lines of the rejections.
func lines(rs []rejectionJSON) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprint(r.Line))
	}
	return "[" + strings.Join(out, " ") + "]"
}

// rejected returns the rejection of line, failing when there is none.
func rejected(t *testing.T, rs []rejectionJSON, line int) rejectionJSON {
	t.Helper()
	for _, r := range rs {
		if r.Line == line {
			return r
		}
	}
	t.Fatalf("no rejection of line %d in %s", line, lines(rs))
	return rejectionJSON{}
}

// names reports whether the rejection has an error at field (with code,
// when code is not "").
func (r rejectionJSON) names(field, code string) bool {
	for _, e := range r.Errors {
		if e["field"] == field && (code == "" || e["code"] == code) {
			return true
		}
	}
	return false
}

// wantCounts checks the counters of a batch.
func wantCounts(t *testing.T, b batchJSON, rows, accepted, rejected int) {
	t.Helper()
	if b.Rows != rows || b.Accepted != accepted || b.Rejected != rejected {
		t.Errorf("batch rows %d accepted %d rejected %d, want %d %d %d; rejections %+v", b.Rows, b.Accepted, b.Rejected, rows, accepted, rejected, b.Rejections)
	}
}

// upload posts a batch file.
func (s *server) upload(t *testing.T, token, query, contentType string, body []byte) response {
	t.Helper()
	return s.send(t, request{method: http.MethodPost, path: "/api/v1/batches" + query, token: token, contentType: contentType, body: body})
}

// ndjson renders rows one a line; a string row is written as it is.
func ndjson(t *testing.T, rows ...any) []byte {
	t.Helper()
	var b strings.Builder
	for _, r := range rows {
		if s, ok := r.(string); ok {
			b.WriteString(s)
		} else {
			b.Write(mustJSON(t, r))
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// nationalRow is an XZCF row with the national double-publicity codes and
// no item, as a department's export has it.
func nationalRow(who person, decision, decided string, fineWan string) map[string]any {
	return map[string]any{"CF_XDR_MC": who.Name, "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": who.Number,
		"CF_WSH": decision, "CF_CFLB": "罚款", "CF_NR_FK": fineWan, "CF_JDRQ": decided}
}

// fileHas looks up who's file and returns its records of item.
func (s *server) fileHas(t *testing.T, token string, who person) []map[string]any {
	t.Helper()
	var f struct {
		Records []map[string]any `json:"records"`
	}
	s.get(t, token, "/api/v1/subjects/"+who.Number+"/file?purpose=batch+check").want(t, http.StatusOK).decode(t, &f)
	return f.Records
}

func (s *suite) batches(t *testing.T) {
	t.Parallel()
	p, srv := s.p, s.srv
	code := p.uniq("BAT")
	token := p.dept(t, code, "XZCF", "")
	reader := p.dept(t, p.uniq("BREAD"), "", "XZCF")

	t.Run("an NDJSON batch stores the good rows and rejects the bad ones by line", func(t *testing.T) {
		t.Parallel()
		a, b, c, d := newPerson(), newPerson(), newPerson(), newPerson()
		badB := penalty(b, p.uniq("NB"), "2026-05-01", nil)
		badB["subject"].(map[string]any)["id_number"] = wrongCheck(b)
		body := ndjson(t,
			penalty(a, p.uniq("NA"), "2026-05-01", nil), // 1: good, platform names
			badB,                        // 2: wrong check digit
			"",                          // 3: blank
			`{"ref": "broken", "item":`, // 4: not JSON
			nationalRow(c, "津市监罚〔2026〕"+p.uniq("NC")+"号", "2026-06-01", "0.1"),         // 5: good, national codes, no item
			penalty(d, p.uniq("ND"), "2027-01-01", map[string]any{"decision_no": nil}), // 6: future date and no decision number
		)
		res := srv.upload(t, token, "?item=XZCF", "application/x-ndjson", body).want(t, http.StatusCreated)
		var bt batchJSON
		res.decode(t, &bt)
		wantCounts(t, bt, 5, 2, 3)
		if got := lines(bt.Rejections); got != "[2 4 6]" {
			t.Errorf("rejected lines %s, want [2 4 6]", got)
		}
		if r := rejected(t, bt.Rejections, 2); !r.names("subject.id_number", "check_digit") {
			t.Errorf("line 2: %+v, want subject.id_number check_digit", r.Errors)
		}
		if r := rejected(t, bt.Rejections, 6); !r.names("decided_on", "") || !r.names("fields.decision_no", "") {
			t.Errorf("line 6: %+v, want decided_on and fields.decision_no together", r.Errors)
		}
		var raw struct {
			Rejections []struct {
				Errors []map[string]json.RawMessage `json:"errors"`
			} `json:"rejections"`
		}
		res.decode(t, &raw)
		for _, r := range raw.Rejections {
			for _, e := range r.Errors {
				for _, k := range []string{"field", "code", "message"} {
					if _, ok := e[k]; !ok {
						t.Errorf("a rejection error without %q: %v", k, e)
					}
				}
			}
		}
		if loc := res.Header.Get("Location"); loc != "/api/v1/batches/"+bt.ID {
			t.Errorf("Location %q", loc)
		}

		var got batchJSON
		srv.get(t, token, "/api/v1/batches/"+bt.ID).want(t, http.StatusOK).decode(t, &got)
		if got.Status != "done" {
			t.Errorf("batch status %q, want done", got.Status)
		}
		wantCounts(t, got, 5, 2, 3)
		var all batchJSON
		srv.get(t, token, "/api/v1/batches/"+bt.ID+"/rejections").want(t, http.StatusOK).decode(t, &all)
		if lines(all.Rejections) != "[2 4 6]" {
			t.Errorf("GET rejections: lines %s, want [2 4 6]", lines(all.Rejections))
		}
		var page struct {
			Rejections []rejectionJSON `json:"rejections"`
			NextAfter  int             `json:"next_after"`
		}
		srv.get(t, token, "/api/v1/batches/"+bt.ID+"/rejections?limit=1").want(t, http.StatusOK).decode(t, &page)
		if lines(page.Rejections) != "[2]" || page.NextAfter != 2 {
			t.Errorf("first page: %s next_after %d, want [2] and 2", lines(page.Rejections), page.NextAfter)
		}
		srv.get(t, token, "/api/v1/batches/"+bt.ID+"/rejections?after=2").want(t, http.StatusOK).decode(t, &all)
		if lines(all.Rejections) != "[4 6]" {
			t.Errorf("after line 2: %s, want [4 6]", lines(all.Rejections))
		}
		other := p.dept(t, p.uniq("BOTHER"), "XZCF", "")
		srv.get(t, other, "/api/v1/batches/"+bt.ID).wantError(t, http.StatusNotFound)
		srv.get(t, other, "/api/v1/batches/"+bt.ID+"/rejections").wantError(t, http.StatusNotFound)

		if recs := srv.fileHas(t, reader, a); len(recs) != 1 || recs[0]["state"] != "in_display" {
			t.Errorf("the good row 1 is not in its person's file: %v", recs)
		}
		recs := srv.fileHas(t, reader, c)
		if len(recs) != 1 {
			t.Fatalf("the good row 5 is not in its person's file: %v", recs)
		}
		if f, _ := recs[0]["fields"].(map[string]any); f["fine_amount"] != 1000.0 {
			t.Errorf("row 5 CF_NR_FK 0.1 stored as fine_amount %v, want 1000", f["fine_amount"])
		}
		if recs := srv.fileHas(t, reader, b); len(recs) != 0 {
			t.Errorf("the rejected row 2 left records: %v", recs)
		}

		// The department fixes row 2 and sends it alone.
		var again batchJSON
		srv.upload(t, token, "", "application/x-ndjson", ndjson(t, penalty(b, badB["ref"].(string), "2026-05-01", nil))).
			want(t, http.StatusCreated).decode(t, &again)
		wantCounts(t, again, 1, 1, 0)
		if recs := srv.fileHas(t, reader, b); len(recs) != 1 {
			t.Errorf("the fixed row is not in its person's file: %v", recs)
		}
	})

	t.Run("?item= naming an item the department may not submit is 403 naming item", func(t *testing.T) {
		t.Parallel()
		who := newPerson()
		e := srv.upload(t, token, "?item=XZXK", "application/x-ndjson", ndjson(t, penalty(who, p.uniq("F"), "2026-05-01", nil))).
			wantError(t, http.StatusForbidden, "item")
		if !strings.Contains(e.Error.Details[0].Message, "XZXK") {
			t.Errorf("the 403 says %q, not naming the item", e.Error.Details[0].Message)
		}
		srv.upload(t, reader, "?item=XZCF", "application/x-ndjson", ndjson(t, penalty(who, p.uniq("F"), "2026-05-01", nil))).
			wantError(t, http.StatusForbidden, "item")
	})
	t.Run("an identity number in the wrong place is not repeated in clear in the answer or the stored rejections", func(t *testing.T) {
		t.Parallel()
		// Every answer is checked for test people's numbers in clear (send),
		// and the sweep after the cases checks the stored data.
		who := newPerson()
		srv.upload(t, token, "?item="+who.Number, "application/x-ndjson", ndjson(t, penalty(who, p.uniq("W"), "2026-05-01", nil))).
			wantError(t, http.StatusUnprocessableEntity, "item")
		shifted := "CF_XDR_MC,CF_XDR_ZJHM,CF_WSH,CF_CFLB,CF_NR_FK,CF_JDRQ\n" + who.Name + "," + who.Number + ",津罚" + p.uniq("W") + ",罚款,0.5," + who.Number + "\n"
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", "text/csv", []byte(shifted)).want(t, http.StatusCreated).decode(t, &bt)
		if bt.Rejected != 1 || !rejected(t, bt.Rejections, 2).names("decided_on", "format") {
			t.Errorf("a decision date that is an identity number: %+v, want the row rejected naming decided_on", bt)
		}
		// Nor as a key: a field, or a key of the row.
		keyed := penalty(who, p.uniq("W"), "2026-05-01", map[string]any{who.Number: "x"})
		row := `{"ref":"` + p.uniq("W") + `","` + who.Number + `":1}`
		srv.upload(t, token, "?item=XZCF", "application/x-ndjson", append(ndjson(t, keyed), row+"\n"...)).want(t, http.StatusCreated).decode(t, &bt)
		if bt.Rejected != 2 {
			t.Errorf("rows keyed by an identity number: %+v, want both rejected", bt)
		}
		srv.get(t, token, "/api/v1/batches/"+bt.ID+"/rejections").want(t, http.StatusOK)
		srv.get(t, token, "/api/v1/lists/"+who.Number+"/entries").wantError(t, http.StatusNotFound)
	})
	t.Run("a CSV with national double-publicity headers is read with ?item=XZCF", func(t *testing.T) {
		t.Parallel()
		a, b, c := newPerson(), newPerson(), newPerson()
		csv := "\uFEFFCF_XDR_MC,CF_XDR_LB,CF_XDR_ZJLX,CF_XDR_ZJHM,CF_WSH,CF_SY,CF_CFLB,CF_NR_FK,CF_JDRQ,CF_YXQ,CF_CFJG\r\n" +
			// line 2, its facts running over line 3
			a.Name + ",自然人,身份证," + a.Number + ",津市监罚〔2026〕" + p.uniq("CA") + "号,\"当事人未取得许可，\r\n擅自经营。\",罚款,0.5,2026-04-01,,天津市市场监督管理局\r\n" +
			// line 4: wrong check digit
			b.Name + ",自然人,身份证," + wrongCheck(b) + ",津市监罚〔2026〕" + p.uniq("CB") + "号,事实,罚款,0.5,2026-04-01,,\r\n" +
			// line 5: slashed date, two penalty types
			c.Name + ",自然人,居民身份证," + c.Number + ",津市监罚〔2026〕" + p.uniq("CC") + "号,事实,罚款;没收违法所得,1.2,2026/04/02,,\r\n"
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", "text/csv; charset=utf-8", []byte(csv)).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 3, 2, 1)
		if r := rejected(t, bt.Rejections, 4); !r.names("subject.id_number", "check_digit") {
			t.Errorf("line 4: %+v", r.Errors)
		}
		recs := srv.fileHas(t, reader, c)
		if len(recs) != 1 {
			t.Fatalf("line 5 is not in its person's file: %v", recs)
		}
		r := recs[0]
		f, _ := r["fields"].(map[string]any)
		if r["decided_on"] != "2026-04-02" || fmt.Sprint(f["penalty_types"]) != "[fine confiscation_of_illegal_gains]" || f["fine_amount"] != 12000.0 || r["severity"] != "general" {
			t.Errorf("line 5 stored as %v", r)
		}
		recs = srv.fileHas(t, reader, a)
		if len(recs) != 1 {
			t.Fatalf("line 2 is not in its person's file: %v", recs)
		}
		if f, _ := recs[0]["fields"].(map[string]any); !strings.Contains(fmt.Sprint(f["facts"]), "擅自经营") {
			t.Errorf("line 2 facts %q lost the quoted line break's second line", f["facts"])
		}
	})

	t.Run("an XLSX workbook built in Excel's layout is read like a CSV", func(t *testing.T) {
		t.Parallel()
		a, b, c := newPerson(), newPerson(), newPerson()
		x := excelize.NewFile()
		defer x.Close()
		sheet := x.GetSheetName(0)
		rows := [][]any{
			{"CF_XDR_MC", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_WSH", "CF_CFLB", "CF_NR_FK", "CF_JDRQ"},
			{a.Name, "身份证", a.Number, "津市监罚〔2026〕" + p.uniq("XA") + "号", "罚款", 0.5, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)},
			{b.Name, "身份证", b.Number, "", "罚款", 0.5, "2026-02-11"}, // no decision number
			{c.Name, "身份证", c.Number, "津市监罚〔2026〕" + p.uniq("XC") + "号", "警告、罚款", 1, "2026-02-12"},
		}
		for i, row := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := x.SetSheetRow(sheet, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
		buf, err := x.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", xlsxType, buf.Bytes()).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 3, 2, 1)
		if r := rejected(t, bt.Rejections, 3); !r.names("fields.decision_no", "required") {
			t.Errorf("row 3: %+v", r.Errors)
		}
		recs := srv.fileHas(t, reader, a)
		if len(recs) != 1 || recs[0]["decided_on"] != "2026-02-10" {
			t.Errorf("row 2 (a date cell) stored as %v, want decided_on 2026-02-10", recs)
		}
		recs = srv.fileHas(t, reader, c)
		if len(recs) != 1 || recs[0]["decided_on"] != "2026-02-12" {
			t.Errorf("row 4 stored as %v", recs)
		}
	})

	t.Run("the answer caps its rejections and GET .../rejections returns them all", func(t *testing.T) {
		t.Parallel()
		var rows []any
		for i := range 150 {
			rows = append(rows, map[string]any{"ref": fmt.Sprintf("CAP-%d", i), "CF_WSH": "x"}) // no person, no date
		}
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", "application/x-ndjson", ndjson(t, rows...)).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 150, 0, 150)
		if len(bt.Rejections) == 0 || len(bt.Rejections) >= 150 {
			t.Errorf("the answer lists %d rejections, want a capped, non-empty list", len(bt.Rejections))
		}
		var all batchJSON
		srv.get(t, token, "/api/v1/batches/"+bt.ID+"/rejections").want(t, http.StatusOK).decode(t, &all)
		if len(all.Rejections) != 150 || all.Rejections[149].Line != 150 {
			t.Errorf("GET rejections lists %d, want all 150", len(all.Rejections))
		}
	})

	t.Run("a CSV exported as GB18030 by Excel on Chinese Windows is read", func(t *testing.T) {
		t.Parallel()
		a := newPerson()
		text := "CF_XDR_MC,CF_XDR_ZJLX,CF_XDR_ZJHM,CF_WSH,CF_CFLB,CF_NR_FK,CF_JDRQ\r\n" +
			a.Name + ",身份证," + a.Number + ",津市监罚〔2026〕" + p.uniq("GB") + "号,罚款,0.2,2026-03-03\r\n"
		gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", "text/csv", gb).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 1, 1, 0)
		recs := srv.fileHas(t, reader, a)
		if len(recs) != 1 {
			t.Fatalf("the GB18030 row is not in its person's file: %v", recs)
		}
		if f, _ := recs[0]["fields"].(map[string]any); !strings.HasPrefix(fmt.Sprint(f["decision_no"]), "津市监罚〔2026〕") {
			t.Errorf("decision_no %q was not decoded from GB18030", f["decision_no"])
		}
	})

	t.Run("a GB18030 CSV whose first 64 KiB are ASCII is read when its Content-Type declares the charset", func(t *testing.T) {
		t.Parallel()
		a := newPerson()
		var text strings.Builder
		text.WriteString("ref,CF_XDR_MC,CF_XDR_ZJHM,CF_WSH,CF_CFLB,CF_NR_FK,CF_JDRQ\r\n")
		for i := 0; text.Len() < 70<<10; i++ { // rows of no person: rejected, ASCII
			fmt.Fprintf(&text, "%s,,,X%d,fine,0.1,2026-03-03\r\n", p.uniq("ASC"), i)
		}
		text.WriteString(p.uniq("GBL") + "," + a.Name + "," + a.Number + ",津市监罚〔2026〕" + p.uniq("GBL") + "号,罚款,0.2,2026-03-03\r\n")
		gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text.String()))
		if err != nil {
			t.Fatal(err)
		}
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", "text/csv; charset=GBK", gb).want(t, http.StatusCreated).decode(t, &bt)
		if bt.Accepted != 1 {
			t.Fatalf("accepted %d rows, want the one with a person: %+v", bt.Accepted, bt.Rejections[:min(3, len(bt.Rejections))])
		}
		if recs := srv.fileHas(t, reader, a); len(recs) != 1 || !strings.HasPrefix(fmt.Sprint(recs[0]["fields"].(map[string]any)["decision_no"]), "津市监罚〔2026〕") {
			t.Errorf("the GB18030 row after 64 KiB of ASCII: %v", recs)
		}
		srv.upload(t, token, "?item=XZCF", "text/csv; charset=latin1", gb).wantError(t, http.StatusUnprocessableEntity, "Content-Type")
	})
	t.Run("a CSV with the platform's own column names is read", func(t *testing.T) {
		t.Parallel()
		a := newPerson()
		csv := "ref,item,id_number,name,decided_on,decision_no,penalty_types,fine_amount\n" +
			p.uniq("PC") + ",XZCF," + a.Number + "," + a.Name + ",2026-04-04,津市监罚〔2026〕" + p.uniq("PC") + "号,fine,800\n"
		var bt batchJSON
		srv.upload(t, token, "", "text/csv", []byte(csv)).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 1, 1, 0)
		if recs := srv.fileHas(t, reader, a); len(recs) != 1 || recs[0]["decided_on"] != "2026-04-04" {
			t.Errorf("the row is not in its person's file: %v", recs)
		}
	})

	t.Run("a row of an item the department may not submit is rejected alone", func(t *testing.T) {
		t.Parallel()
		a, b := newPerson(), newPerson()
		licence := map[string]any{"ref": p.uniq("XK"), "item": "XZXK", "decided_on": "2026-01-05",
			"subject": map[string]any{"id_number": b.Number, "name": b.Name}, "fields": map[string]any{}}
		var bt batchJSON
		srv.upload(t, token, "", "application/x-ndjson", ndjson(t, penalty(a, p.uniq("OK"), "2026-05-01", nil), licence)).
			want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 2, 1, 1)
		if r := rejected(t, bt.Rejections, 2); len(r.Errors) == 0 || r.Errors[0]["code"] != "forbidden" {
			t.Errorf("line 2: %+v, want a forbidden error", r.Errors)
		}
	})

	t.Run("a row with a key given twice is rejected, the key named", func(t *testing.T) {
		t.Parallel()
		a, b, c := newPerson(), newPerson(), newPerson()
		national := string(mustJSON(t, nationalRow(b, p.uniq("TWICE"), "2026-05-01", "0.5")))
		national = strings.Replace(national, `"CF_WSH"`, `"CF_WSH":"another","CF_WSH"`, 1)
		sub := string(mustJSON(t, penalty(c, p.uniq("TWICE"), "2026-05-01", nil)))
		sub = strings.Replace(sub, `"fields":{`, `"fields":{"fine_amount":1,`, 1)
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", "application/x-ndjson", ndjson(t, penalty(a, p.uniq("OK"), "2026-05-01", nil), national, sub)).
			want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 3, 1, 2)
		for line, field := range map[int]string{2: "fields.CF_WSH", 3: "fields.fine_amount"} {
			r := rejected(t, bt.Rejections, line)
			if len(r.Errors) == 0 || r.Errors[0]["code"] != "repeated" || r.Errors[0]["field"] != field {
				t.Errorf("line %d: %+v, want %s repeated", line, r.Errors, field)
			}
		}
		if recs := srv.fileHas(t, reader, b); len(recs) != 0 {
			t.Errorf("the person of the rejected row has %d records", len(recs))
		}
	})

	t.Run("a line's keys are read regardless of case, as POST /api/v1/records reads them", func(t *testing.T) {
		t.Parallel()
		a, b := newPerson(), newPerson()
		upper := strings.NewReplacer(`"ref":`, `"REF":`, `"subject":`, `"Subject":`, `"name":`, `"Name":`).
			Replace(string(mustJSON(t, penalty(a, p.uniq("CASE"), "2026-05-01", nil))))
		twice := strings.Replace(string(mustJSON(t, penalty(b, p.uniq("CASE"), "2026-05-01", nil))), `"ref":`, `"Ref":"other","ref":`, 1)
		var bt batchJSON
		srv.upload(t, token, "", "application/x-ndjson", ndjson(t, upper, twice)).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 2, 1, 1)
		if r := rejected(t, bt.Rejections, 2); len(r.Errors) == 0 || r.Errors[0]["code"] != "repeated" || r.Errors[0]["field"] != "ref" {
			t.Errorf("line 2: %+v, want ref repeated", r.Errors)
		}
		if recs := srv.fileHas(t, reader, a); len(recs) != 1 {
			t.Errorf("the person of the line in upper case has %d records, want 1", len(recs))
		}
	})

	t.Run("a ref used twice in one batch with other content rejects the second row", func(t *testing.T) {
		t.Parallel()
		a := newPerson()
		ref := p.uniq("TW")
		var bt batchJSON
		srv.upload(t, token, "", "application/x-ndjson", ndjson(t,
			penalty(a, ref, "2026-05-01", nil),
			penalty(a, ref, "2026-05-01", nil), // the same again: accepted, the same record
			penalty(a, ref, "2026-05-01", map[string]any{"fine_amount": 999}),
		)).want(t, http.StatusCreated).decode(t, &bt)
		if lines(bt.Rejections) != "[3]" {
			t.Errorf("rejected lines %s, want [3]; %+v", lines(bt.Rejections), bt.Rejections)
		}
		if recs := srv.fileHas(t, reader, a); len(recs) != 1 {
			t.Errorf("the person's file holds %d records, want 1", len(recs))
		}
	})

	t.Run("a row whose columns are shifted does not echo the identity number", func(t *testing.T) {
		t.Parallel()
		a := newPerson()
		// The document type cell is missing from the data row, so every
		// cell after the name sits one column to the left.
		csv := "CF_XDR_MC,CF_XDR_ZJLX,CF_XDR_ZJHM,CF_WSH,CF_CFLB,CF_NR_FK,CF_JDRQ\n" +
			a.Name + "," + a.Number + ",津市监罚〔2026〕" + p.uniq("SH") + "号,罚款,0.2,2026-03-03\n"
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", "text/csv", []byte(csv)).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 1, 0, 1)
		srv.get(t, token, "/api/v1/batches/"+bt.ID+"/rejections").want(t, http.StatusOK)
		sub := penalty(a, p.uniq("SH"), "2026-05-01", nil)
		sub["subject"].(map[string]any)["id_type"] = a.Number
		srv.postJSON(t, token, "/api/v1/records", sub).wantError(t, http.StatusUnprocessableEntity, "subject.id_type")
		// send checks that no answer carries a known identity number.
	})

	t.Run("no batch file makes the server answer 500", func(t *testing.T) {
		t.Parallel()
		files := []struct {
			name, contentType string
			body              []byte
		}{
			{"an empty NDJSON file", "application/x-ndjson", []byte{}},
			{"an empty CSV file", "text/csv", []byte{}},
			{"a CSV header only", "text/csv", []byte("CF_WSH,CF_JDRQ\n")},
			{"a CSV with duplicate columns", "text/csv", []byte("CF_WSH,cf_wsh\nA,B\n")},
			{"a CSV with a bare quote", "text/csv", []byte("CF_WSH,CF_SY\nA,\"unterminated\n")},
			{"a CSV row wider than its header", "text/csv", []byte("CF_WSH\nA,B,C\n")},
			{"a CSV of 300 columns", "text/csv", []byte(strings.Repeat("c,", 300) + "\n")},
			{"an NDJSON line of 2 MB", "application/x-ndjson", []byte(`{"ref":"` + strings.Repeat("x", 2<<20) + "\"}\n")},
			{"NDJSON with invalid UTF-8", "application/x-ndjson", []byte{'{', '"', 0xff, '"', ':', '1', '}', '\n'}},
			{"NDJSON of scalars", "application/x-ndjson", []byte("1\nnull\n\"x\"\n[]\n")},
			{"an xlsx that is not a zip", xlsxType, []byte("PK\x03\x04 but not really")},
			{"an xlsx of random bytes", xlsxType, []byte(strings.Repeat("\x00\xff", 1000))},
			{"an empty xlsx body", xlsxType, []byte{}},
		}
		for _, f := range files {
			res := srv.upload(t, token, "?item=XZCF", f.contentType, f.body)
			if res.Status >= 500 {
				t.Errorf("%s: status %d: %s", f.name, res.Status, truncateBody(res.Body))
			}
		}
	})

	t.Run("a date cell is read as its day whatever its number format", func(t *testing.T) {
		t.Parallel()
		x := excelize.NewFile()
		defer x.Close()
		sheet := x.GetSheetName(0)
		x.SetSheetRow(sheet, "A1", &[]any{"CF_XDR_MC", "CF_XDR_ZJHM", "CF_WSH", "CF_CFLB", "CF_NR_FK", "CF_JDRQ"})
		var people []person
		for i, format := range []string{"m/d/yyyy", "[$-F800]dddd, mmmm dd, yyyy", "yyyy年m月d日"} {
			who := newPerson()
			people = append(people, who)
			x.SetSheetRow(sheet, fmt.Sprintf("A%d", i+2), &[]any{who.Name, who.Number, "津市监罚〔2026〕" + p.uniq("DF") + "号", "罚款", 0.5,
				time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)})
			style, _ := x.NewStyle(&excelize.Style{CustomNumFmt: &format})
			x.SetCellStyle(sheet, fmt.Sprintf("F%d", i+2), fmt.Sprintf("F%d", i+2), style)
		}
		buf, _ := x.WriteToBuffer()
		var bt batchJSON
		srv.upload(t, token, "?item=XZCF", xlsxType, buf.Bytes()).want(t, http.StatusCreated).decode(t, &bt)
		wantCounts(t, bt, 3, 3, 0)
		for _, who := range people {
			if recs := srv.fileHas(t, reader, who); len(recs) != 1 || recs[0]["decided_on"] != "2026-02-10" {
				t.Errorf("%s: %v", who.MaskedNumber(), recs)
			}
		}
	})

	t.Run("a batch in an unsupported Content-Type is 422", func(t *testing.T) {
		t.Parallel()
		srv.upload(t, token, "", "application/pdf", []byte("%PDF-1.7")).wantError(t, http.StatusUnprocessableEntity, "Content-Type")
		srv.upload(t, token, "?item=NOPE", "application/x-ndjson", []byte("{}\n")).wantError(t, http.StatusUnprocessableEntity, "item")
	})

	t.Run("a file without rows is 422", func(t *testing.T) {
		t.Parallel()
		for _, f := range []struct {
			contentType string
			body        []byte
		}{
			{"application/x-ndjson", []byte{}},
			{"application/x-ndjson", []byte("\n  \n\r\n")},
			{"text/csv", []byte("CF_WSH,CF_XDR_MC,CF_XDR_ZJHM\r\n")},
		} {
			e := srv.upload(t, token, "?item=XZCF", f.contentType, f.body).wantError(t, http.StatusUnprocessableEntity, "body")
			if len(e.Error.Details) != 1 || e.Error.Details[0].Code != "empty" {
				t.Errorf("%s %q: details %+v, want body empty", f.contentType, f.body, e.Error.Details)
			}
		}
	})

	t.Run("pubcredit import does the same from the shell while the server runs", func(t *testing.T) {
		t.Parallel()
		a, b, c := newPerson(), newPerson(), newPerson()
		path := writeFile(t, "penalties.ndjson", ndjson(t,
			nationalRow(a, "津市监罚〔2026〕"+p.uniq("IA")+"号", "2026-05-01", "0.3"),
			nationalRow(b, "津市监罚〔2026〕"+p.uniq("IB")+"号", "2027-05-01", "0.3"), // future
			nationalRow(c, "津市监罚〔2026〕"+p.uniq("IC")+"号", "20260502", "0.3"),
		))
		out := p.mustRun(t, nil, "import", path, "--dept", code, "--item", "XZCF")
		var res struct {
			Batch      batchJSON       `json:"batch"`
			Rejections []rejectionJSON `json:"rejections"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("import printed no JSON (%v):\n%s", err, out)
		}
		wantCounts(t, res.Batch, 3, 2, 1)
		if lines(res.Rejections) != "[2]" || !rejected(t, res.Rejections, 2).names("decided_on", "future") {
			t.Errorf("import rejections %+v, want line 2 decided_on future", res.Rejections)
		}
		var got batchJSON
		srv.get(t, token, "/api/v1/batches/"+res.Batch.ID).want(t, http.StatusOK).decode(t, &got)
		wantCounts(t, got, 3, 2, 1)
		if recs := srv.fileHas(t, reader, c); len(recs) != 1 || recs[0]["decided_on"] != "2026-05-02" {
			t.Errorf("the imported row 3 is not in its person's file: %v", recs)
		}
		if r := p.run(t, nil, "import", path, "--dept", p.uniq("NODEPT"), "--item", "XZCF"); r.Code == 0 {
			t.Errorf("import for an unknown department exited 0:\n%s", r.Stdout)
		}
	})
}

func TestInterruptedBatchesSQLite(t *testing.T) {
	t.Parallel()
	testInterruptedBatches(t, "")
}

func TestInterruptedBatchesPostgres(t *testing.T) {
	t.Parallel()
	testInterruptedBatches(t, pgtest.URL(t))
}

// testInterruptedBatches leaves batches "running" in the database, as a
// process killed in the middle of POST /api/v1/batches does, starts serve,
// and checks that a batch whose process is gone is marked interrupted with
// its counts kept. On SQLite one process serves the database, so every
// running batch is marked at start; on PostgreSQL another serve process
// may be running a batch, so only a batch older than any batch can run is
// marked and a recent one is left running.
func testInterruptedBatches(t *testing.T, dbURL string) {
	p := newPlatform(t, dbURL, nil)
	code := p.uniq("BINT")
	token := p.dept(t, code, "XZCF", "XZCF")
	ctx := context.Background()
	cfg := config.Default()
	cfg.DB, cfg.Keys = p.db, p.keys
	st, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := p.clock.Now().UTC()
	left := func(id string, age time.Duration, rows, accepted, rejected int) {
		t.Helper()
		b := ingest.Batch{ID: id, Dept: code, Item: "XZCF", Format: "ndjson", Status: ingest.StatusRunning, CreatedAt: now.Add(-age)}
		if err := st.CreateBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Rows, b.Accepted, b.Rejected = rows, accepted, rejected
		if err := st.UpdateBatch(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	longAgo, justNow, finished := ids.New(now.Add(-2*time.Hour)), ids.New(now.Add(-10*time.Second)), ids.New(now.Add(-3*time.Hour))
	left(longAgo, 2*time.Hour, 5000, 4990, 10)
	left(justNow, 10*time.Second, 2500, 2500, 0)
	done := ingest.Batch{ID: finished, Dept: code, Format: "csv", Status: ingest.StatusDone, CreatedAt: now.Add(-3 * time.Hour), Rows: 3, Accepted: 3,
		FinishedAt: now.Add(-3 * time.Hour)}
	if err := st.CreateBatch(ctx, done); err != nil {
		t.Fatal(err)
	}
	closeStore()

	srv := p.serve(t, nil)
	get := func(id string) batchJSON {
		t.Helper()
		var b batchJSON
		srv.get(t, token, "/api/v1/batches/"+id).want(t, http.StatusOK).decode(t, &b)
		return b
	}
	t.Run("a batch left running long ago is interrupted, its counts kept", func(t *testing.T) {
		b := get(longAgo)
		if b.Status != ingest.StatusInterrupted {
			t.Errorf("status %q, want interrupted", b.Status)
		}
		wantCounts(t, b, 5000, 4990, 10)
		if b.FinishedAt == nil {
			t.Errorf("an interrupted batch has no finished_at")
		}
	})
	t.Run("a recent running batch is interrupted on SQLite and left to its process on PostgreSQL", func(t *testing.T) {
		b := get(justNow)
		want := ingest.StatusInterrupted
		if dbURL != "" {
			want = ingest.StatusRunning
		}
		if b.Status != want {
			t.Errorf("status %q, want %s", b.Status, want)
		}
		wantCounts(t, b, 2500, 2500, 0)
	})
	t.Run("a finished batch is left as it was", func(t *testing.T) {
		if b := get(finished); b.Status != ingest.StatusDone {
			t.Errorf("status %q, want done", b.Status)
		}
	})
	t.Run("a batch submitted now runs to done", func(t *testing.T) {
		var b batchJSON
		srv.upload(t, token, "?item=XZCF", "application/x-ndjson", ndjson(t, penalty(newPerson(), p.uniq("BINT-R"), "2026-05-01", nil))).
			want(t, http.StatusCreated).decode(t, &b)
		if b.Status != ingest.StatusDone {
			t.Errorf("status %q, want done", b.Status)
		}
	})
}

// TestBatchCutOffByTheReadTimeout: an upload that outlives the server's
// read timeout leaves its batch failed with the rows stored before, not
// "running". It waits out a timeout, so it runs on SQLite only.
func TestBatchCutOffByTheReadTimeout(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, "", nil)
	code := p.uniq("SLOW")
	token := p.dept(t, code, "XZCF", "")
	conf := writeFile(t, "pubcredit.yaml", []byte("read_timeout: 1s\n"))
	srv := p.serve(t, map[string]string{"PUBCREDIT_CONFIG": conf})

	body, w := io.Pipe()
	go func() {
		var rows []any
		for range 3 {
			who := newPerson()
			rows = append(rows, penalty(who, p.uniq("S"), "2026-05-01", nil))
		}
		w.Write(ndjson(t, rows...))
		time.Sleep(2500 * time.Millisecond) // past the read timeout
		w.Write(ndjson(t, penalty(newPerson(), p.uniq("S"), "2026-05-01", nil)))
		w.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.base+"/api/v1/batches?item=XZCF", body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	if res, err := http.DefaultClient.Do(req); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Errorf("an upload cut off by the read timeout answered %d", res.StatusCode)
		}
	}
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(p.db, "sqlite:")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var status string
	eventually(t, 10*time.Second, func() bool {
		db.QueryRow(`SELECT status FROM batches WHERE dept = ?`, code).Scan(&status)
		return status != "" && status != string(ingest.StatusRunning)
	}, func() string { return "the batch is " + status })
	if status != string(ingest.StatusFailed) {
		t.Errorf("the cut-off batch is %q, want failed", status)
	}
}
