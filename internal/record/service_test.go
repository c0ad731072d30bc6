package record_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/record"
	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/vault"
)

var cst = time.FixedZone("CST", 8*3600)

type fixture struct {
	svc   *record.Service
	store *sqlite.Store
	clk   *clock.Fixed
	dept  *auth.Principal
	other *auth.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := vault.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFixed(time.Date(2026, 11, 30, 10, 0, 0, 0, cst))
	for _, code := range []string{"SCJG", "FY"} {
		if err := st.CreateDept(ctx, auth.Dept{Code: code, Name: code, Submit: []string{"XZCF", "SXBZXR", "ZYFW"}}); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{
		svc: &record.Service{Store: st, Catalog: shipped(t), Keys: keys, Clock: clk, Location: cst,
			Thresholds: record.DefaultThresholds, Access: &access.Log{Store: st, Clock: clk}},
		store: st, clk: clk,
		dept:  &auth.Principal{Kind: auth.Department, ID: "SCJG", Submit: []string{"XZCF", "ZYFW"}},
		other: &auth.Principal{Kind: auth.Department, ID: "FY", Submit: []string{"XZCF", "SXBZXR"}},
	}
}

func penalty(ref string, fields map[string]any) record.Submission {
	f := map[string]any{"decision_no": "津罚〔2026〕" + ref + "号", "penalty_types": "罚款"}
	for k, v := range fields {
		f[k] = v
	}
	return record.Submission{Ref: ref, Item: "XZCF", DecidedOn: "2026-05-01",
		Subject: record.Subject{IDNumber: "11010519491231002X", Name: "张三"}, Fields: f}
}

// details returns the field paths and codes of an Invalid error.
func details(t *testing.T, err error) map[string]string {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		t.Fatalf("err = %v, want an Invalid error", err)
	}
	out := map[string]string{}
	for _, d := range e.Details {
		out[d.Field] = d.Code
	}
	return out
}

func TestSeverity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		sub    record.Submission
		want   string
		reject string // the field path of the expected problem
	}{
		{name: "a fine of 200 yuan alone is minor", sub: penalty("s1", map[string]any{"fine_amount": "200"}), want: "minor"},
		{name: "a fine just over 200 yuan is general", sub: penalty("s2", map[string]any{"fine_amount": "200.01"}), want: "general"},
		{name: "a fine of 200,000 yuan is serious", sub: penalty("s3", map[string]any{"fine_amount": 200000}), want: "serious"},
		{name: "a national fine of 20 (10,000 yuan) is serious", sub: penalty("s4", map[string]any{"CF_NR_FK": "20"}), want: "serious"},
		{name: "a licence revocation is at least serious", sub: penalty("s5", map[string]any{"penalty_types": "罚款、吊销许可证件", "fine_amount": 100}), want: "serious"},
		{name: "a warning is minor", sub: penalty("s6", map[string]any{"penalty_types": "warning"}), want: "minor"},
		{name: "a fine of no stated amount is general, not minor", sub: penalty("s6b", nil), want: "general"},
		{name: "a warning and a fine of no stated amount is general", sub: penalty("s6c", map[string]any{"penalty_types": "警告、罚款"}), want: "general"},
		{name: "a fine of no stated amount stated minor stays minor", sub: withSeverity(penalty("s6d", nil), "minor"), want: "minor"},
		{name: "a confiscation is at least general", sub: penalty("s7", map[string]any{"penalty_types": "没收违法所得", "fine_amount": 10}), want: "general"},
		{name: "a stated severity above the floor stands", sub: withSeverity(penalty("s8", map[string]any{"penalty_types": "警告"}), "serious"), want: "serious"},
		{name: "rejects a stated severity below the penalty type's floor", sub: withSeverity(penalty("s9", map[string]any{"penalty_types": "吊销许可证件"}), "general"), reject: "severity"},
		{name: "rejects a stated severity below the fine threshold", sub: withSeverity(penalty("s10", map[string]any{"fine_amount": 300000}), "general"), reject: "severity"},
		{name: "rejects an unknown severity", sub: withSeverity(penalty("s11", nil), "huge"), reject: "severity"},
		{name: "rejects a severity on positive information", sub: withSeverity(record.Submission{Ref: "v1", Item: "ZYFW", DecidedOn: "2026-05-01",
			Subject: record.Subject{IDNumber: "11010519491231002X", Name: "张三"},
			Fields:  map[string]any{"decision_no": "v1", "organisation": "志愿者协会", "service_hours": 12}}, "general"), reject: "severity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.svc.Submit(ctx, f.dept, tt.sub)
			if tt.reject != "" {
				if _, ok := details(t, err)[tt.reject]; !ok {
					t.Fatalf("problems %v do not name %s", details(t, err), tt.reject)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(res.Record.Content.Severity); got != tt.want {
				t.Errorf("severity = %q, want %q", got, tt.want)
			}
		})
	}
}

func withSeverity(s record.Submission, sev string) record.Submission {
	s.Severity = sev
	return s
}

func TestSubmitRejectsEveryProblemAtOnce(t *testing.T) {
	f := newFixture(t)
	sub := record.Submission{Item: "XZCF", DecidedOn: "2027-01-01",
		Subject: record.Subject{IDNumber: "110105194912310021", Name: ""},
		Fields:  map[string]any{"penalty_types": "罚款、打板子", "fine_amount": "lots", "bogus": 1}}
	_, err := f.svc.Submit(context.Background(), f.dept, sub)
	got := details(t, err)
	for field, code := range map[string]string{
		"subject.id_number":    "check_digit",
		"subject.name":         "required",
		"decided_on":           "future",
		"fields.penalty_types": "not_allowed",
		"fields.fine_amount":   "type",
		"fields.bogus":         "unknown_field",
		"fields.decision_no":   "required",
		"ref":                  "required",
	} {
		if got[field] != code {
			t.Errorf("problem for %s = %q, want %q (all: %v)", field, got[field], code, got)
		}
	}
}

func TestSubmitRefusesNamesAndRefsThatDoNotPrint(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{"张\x01三", "张\u0085三", "张\u202e三", "\ufeff张三", "张\u200b三", "张\u2028三", "张\u2029三"} {
		sub := penalty("np", nil)
		sub.Subject.Name = bad
		if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, sub))); got["subject.name"] != "format" {
			t.Errorf("name %q: problems %v, want subject.name format", bad, got)
		}
		sub = penalty(bad, nil)
		if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, sub))); got["ref"] == "" {
			t.Errorf("ref %q: problems %v, want ref named", bad, got)
		}
	}
	// Nor do the item's text fields take them; line breaks in long text do.
	sub := penalty("np-f", map[string]any{"decision_no": "津罚\u202e1号"})
	if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, sub))); got["fields.decision_no"] != "format" {
		t.Errorf("decision_no with a direction mark: problems %v, want fields.decision_no format", got)
	}
	sub = penalty("np", nil)
	sub.Subject.Name = "阿卜杜·热合曼" // a middle dot prints
	if _, err := f.svc.Submit(context.Background(), f.dept, sub); err != nil {
		t.Errorf("a name with a middle dot: %v", err)
	}
}

func TestSubmitRefusesANameWithADigit(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{"张三11010519491231002X", "2026-05-01", "李四２", "王五①", "赵六Ⅱ", "孙七³"} {
		sub := penalty("nd", nil)
		sub.Subject.Name = bad
		if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, sub))); got["subject.name"] != "format" {
			t.Errorf("name %q: problems %v, want subject.name format", bad, got)
		}
	}
}

func TestSubmitRefusesARefThatIsAnIdentityNumber(t *testing.T) {
	f := newFixture(t)
	for _, bad := range []string{"11010519491231002X", "案-110105491231002"} {
		if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, penalty(bad, nil)))); got["ref"] != "identity_number" {
			t.Errorf("ref %q: problems %v, want ref identity_number", bad, got)
		}
	}
	// Without a ref the decision number is the ref: the same rule holds.
	sub := penalty("", map[string]any{"decision_no": "罚11010519491231002X"})
	if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, sub))); got["ref"] != "identity_number" {
		t.Errorf("a decision number as ref: problems %v, want ref identity_number", got)
	}
	// A case number of as many digits that is no identity number is a ref.
	if _, err := f.svc.Submit(context.Background(), f.dept, penalty("202605010000000001", nil)); err != nil {
		t.Errorf("ref 202605010000000001: %v", err)
	}
}

func TestSubmitTakesAmountsAsPlainDecimals(t *testing.T) {
	f := newFixture(t)
	for i, bad := range []string{"0x10", "0b11", "0o7", "1_000", "0x1p4", "3/4", "1e999", "1e", "1e3.5", "e3", "1e+-3"} {
		sub := penalty(fmt.Sprintf("amt-%d", i), map[string]any{"fine_amount": bad})
		if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, sub))); got["fields.fine_amount"] != "type" {
			t.Errorf("fine_amount %q: problems %v, want fields.fine_amount type", bad, got)
		}
	}
	res, err := f.svc.Submit(context.Background(), f.dept, penalty("amt-ok", map[string]any{"fine_amount": "1,000.50"}))
	if err != nil || fmt.Sprint(res.Record.Content.Fields["fine_amount"]) != "1000.5" {
		t.Errorf("1,000.50: %v, %v", res.Record.Content.Fields["fine_amount"], err)
	}
	// Exponents, as JSON writers put small and large numbers.
	for i, tc := range []struct {
		field string
		value any
		want  string
	}{
		{"CF_NR_FK", json.Number("5.0E-4"), "5"}, // 10,000 yuan: 5 yuan
		{"fine_amount", json.Number("2E+5"), "200000"},
		{"fine_amount", "1.5e2", "150"},
	} {
		res, err := f.svc.Submit(context.Background(), f.dept, penalty(fmt.Sprint("amt-e", i), map[string]any{tc.field: tc.value}))
		if err != nil || fmt.Sprint(res.Record.Content.Fields["fine_amount"]) != tc.want {
			t.Errorf("%s %v: %v, %v; want %s", tc.field, tc.value, res.Record.Content.Fields["fine_amount"], err, tc.want)
		}
	}
}

// wantErr drops a result to keep its error.
func wantErr(_ record.Result, err error) error { return err }

func TestSubmitForbidsItemsOutsideTheDepartmentsRights(t *testing.T) {
	f := newFixture(t)
	sub := penalty("x", nil)
	sub.Item = "SXBZXR"
	_, err := f.svc.Submit(context.Background(), f.dept, sub)
	if !errors.Is(err, errs.Forbidden) {
		t.Fatalf("err = %v, want Forbidden", err)
	}
}

func TestIdempotentOnDepartmentAndRef(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, err := f.svc.Submit(ctx, f.dept, penalty("r1", nil))
	if err != nil || !first.Created {
		t.Fatalf("first submit: %v created=%v", err, first.Created)
	}
	again, err := f.svc.Submit(ctx, f.dept, penalty("r1", nil))
	if err != nil || again.Created || again.Record.ID != first.Record.ID {
		t.Fatalf("same content again: err=%v created=%v id=%s want %s", err, again.Created, again.Record.ID, first.Record.ID)
	}
	if _, err := f.svc.Submit(ctx, f.dept, penalty("r1", map[string]any{"fine_amount": 999})); !errors.Is(err, errs.Conflict) {
		t.Fatalf("other content, same ref: err = %v, want Conflict", err)
	}
	// Another department may use the same ref.
	if res, err := f.svc.Submit(ctx, f.other, penalty("r1", nil)); err != nil || !res.Created {
		t.Fatalf("other department, same ref: %v created=%v", err, res.Created)
	}
	// Without a ref the decision number is the ref.
	noRef := penalty("", map[string]any{"decision_no": "津罚〔2026〕77号"})
	res, err := f.svc.Submit(ctx, f.dept, noRef)
	if err != nil || res.Record.Ref != "津罚〔2026〕77号" {
		t.Fatalf("no ref: %v ref=%q", err, res.Record.Ref)
	}
}

func TestSubmitManyKeepsGoodRowsBesideBadOnes(t *testing.T) {
	f := newFixture(t)
	subs := []record.Submission{penalty("m1", nil), penalty("m2", map[string]any{"fine_amount": "x"}), penalty("m3", nil), penalty("m1", nil), penalty("m3", map[string]any{"fine_amount": 5})}
	res, err := f.svc.SubmitMany(context.Background(), f.dept, subs)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || !res[0].Created || res[2].Err != nil || !res[2].Created {
		t.Fatalf("good rows: %+v %+v", res[0], res[2])
	}
	if !errors.Is(res[1].Err, errs.Invalid) {
		t.Errorf("bad row: %v", res[1].Err)
	}
	if res[3].Err != nil || res[3].Record.ID != res[0].Record.ID || res[3].Created {
		t.Errorf("a repeated identical row answers like the first: %+v", res[3])
	}
	if !errors.Is(res[4].Err, errs.Conflict) {
		t.Errorf("a repeated ref with other content conflicts: %v", res[4].Err)
	}
}

func TestCorrectAndRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.svc.Submit(ctx, f.dept, penalty("c1", map[string]any{"fine_amount": 1000}))
	if err != nil {
		t.Fatal(err)
	}
	id := res.Record.ID
	if _, _, err := f.svc.Correct(ctx, f.other, id, penalty("c1", nil), ""); !errors.Is(err, errs.NotFound) {
		t.Fatalf("another department's correction: %v, want NotFound", err)
	}
	rec, changed, err := f.svc.Correct(ctx, f.dept, id, penalty("c1", map[string]any{"fine_amount": 300000}), "amount mistyped")
	if err != nil || !changed || rec.Version != 2 || rec.Content.Severity != "serious" {
		t.Fatalf("correct: err=%v changed=%v version=%d severity=%s", err, changed, rec.Version, rec.Content.Severity)
	}
	if _, changed, err := f.svc.Correct(ctx, f.dept, id, penalty("c1", map[string]any{"fine_amount": 300000}), ""); err != nil || changed {
		t.Fatalf("an identical correction changes nothing: err=%v changed=%v", err, changed)
	}
	if _, err := f.svc.Revoke(ctx, f.dept, id, "overturned on review", ""); !slices.Contains(keys(details(t, err)), "basis") {
		t.Fatalf("revoke without basis: %v", err)
	}
	// Text that hides characters, and a note longer than any, are named.
	if _, err := f.svc.Revoke(ctx, f.dept, id, "复议\u202e撤销", "津复\u200b〔2026〕3号"); details(t, err)["reason"] != "format" || details(t, err)["basis"] != "format" {
		t.Errorf("revoke with hidden characters: %v, want reason and basis format", details(t, err))
	}
	if _, _, err := f.svc.Correct(ctx, f.dept, id, penalty("c1", nil), "改\u0085正"); details(t, err)["note"] != "format" {
		t.Errorf("a correction note with a C1 control: %v, want note format", details(t, err))
	}
	if _, _, err := f.svc.Correct(ctx, f.dept, id, penalty("c1", nil), strings.Repeat("改", 10001)); details(t, err)["note"] != "too_long" {
		t.Errorf("a correction note of 10,001 characters: %v, want note too_long", details(t, err))
	}
	if _, _, err := f.svc.Correct(ctx, f.dept, id, penalty("c1", map[string]any{"fine_amount": 300000}), "第一行\n第二行\t附注"); err != nil {
		t.Errorf("a note of two lines with a tab: %v", err)
	}
	rec, err = f.svc.Revoke(ctx, f.dept, id, "overturned on review", "复议决定书 津复〔2026〕3号")
	if err != nil || rec.Status != record.Revoked || f.svc.State(rec) != record.StateRevoked || rec.Version != 3 {
		t.Fatalf("revoke: err=%v status=%s version=%d", err, rec.Status, rec.Version)
	}
	if _, err := f.svc.Revoke(ctx, f.dept, id, "again", "again"); !errors.Is(err, errs.Conflict) {
		t.Fatalf("revoke twice: %v, want Conflict", err)
	}
	if _, _, err := f.svc.Correct(ctx, f.dept, id, penalty("c1", nil), ""); !errors.Is(err, errs.Conflict) {
		t.Fatalf("correct a revoked record: %v, want Conflict", err)
	}
	vs, err := f.svc.History(ctx, f.dept, id)
	if err != nil || len(vs) != 3 || vs[0].Change != record.Created || vs[1].Change != record.Corrected || vs[2].Change != record.Revoke {
		t.Fatalf("history: %v %+v", err, vs)
	}
	got, err := f.svc.Get(ctx, f.dept, id)
	if err != nil || got.Status != record.Revoked || got.Revocation == nil || got.Revocation.Basis == "" {
		t.Fatalf("get after revoke: %v %+v", err, got)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGetHidesOtherDepartmentsRecords(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	res, err := f.svc.Submit(ctx, f.dept, penalty("g1", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.other, res.Record.ID); !errors.Is(err, errs.NotFound) {
		t.Fatalf("other department: %v, want NotFound", err)
	}
	if _, err := f.svc.Get(ctx, f.dept, "not-an-id"); !errors.Is(err, errs.NotFound) {
		t.Fatalf("malformed id: %v, want NotFound", err)
	}
	if _, err := f.svc.Get(ctx, f.dept, res.Record.ID); err != nil {
		t.Fatal(err)
	}
	events, err := f.store.AccessBySubject(ctx, res.Record.SubjectKey, "", 10)
	if err != nil || len(events) != 1 || events[0].Action != access.RecordRead || events[0].Actor != "SCJG" {
		t.Fatalf("a record read is an access event: %v %+v", err, events)
	}
}

// TestSubmitRefusesADecisionBeforeBirth: the identity number gives the
// birth date; no decision about the person precedes it (a typing error in
// one or the other). A document without a birth date is not held to it.
func TestSubmitRefusesADecisionBeforeBirth(t *testing.T) {
	f := newFixture(t)
	sub := penalty("bb", nil)
	sub.DecidedOn = "1949-12-30" // the person was born on 1949-12-31
	if got := details(t, wantErr(f.svc.Submit(context.Background(), f.dept, sub))); got["decided_on"] != "before_birth" {
		t.Errorf("a decision the day before birth: problems %v, want decided_on before_birth", got)
	}
	sub.DecidedOn = "1949-12-31"
	if _, err := f.svc.Submit(context.Background(), f.dept, sub); err != nil {
		t.Errorf("a decision on the day of birth: %v", err)
	}
	sub = penalty("bb-p", nil)
	sub.DecidedOn, sub.Subject = "1949-12-30", record.Subject{IDType: "passport", IDNumber: "E12345678", Name: "张三"}
	if _, err := f.svc.Submit(context.Background(), f.dept, sub); err != nil {
		t.Errorf("a passport holder's old decision: %v", err)
	}
}

// TestATermThroughTheLastDayHasNoEnd: a penalty whose own term runs
// through 9999-12-31 (a lifetime restriction) is displayed with no end,
// and its display cannot be shortened; no end is a day after the last day.
func TestATermThroughTheLastDayHasNoEnd(t *testing.T) {
	f := newFixture(t)
	sub := penalty("life", map[string]any{"penalty_types": "限制从业", "valid_until": "9999-12-31"})
	res, err := f.svc.Submit(context.Background(), f.dept, sub)
	if err != nil {
		t.Fatal(err)
	}
	if w := res.Record.Window; !w.End.IsZero() || !w.EarliestEnd.IsZero() {
		t.Errorf("window %+v, want no end and no earliest end", w)
	}
	stored, err := f.svc.Get(context.Background(), f.dept, res.Record.ID)
	if err != nil || stored.Window != res.Record.Window {
		t.Errorf("stored window %+v (%v), want the answer's %+v", stored.Window, err, res.Record.Window)
	}
}

// TestProblemsDoNotRepeatIdentityNumbers: a value that is not a date or a
// number (an identity number in the wrong column of a file) is quoted
// masked in the problem, which is stored with the batch's rejections.
func TestProblemsDoNotRepeatIdentityNumbers(t *testing.T) {
	f := newFixture(t)
	const number = "330106197707075551"
	sub := penalty("echo", map[string]any{"valid_until": number, "fine_amount": number + "x"})
	sub.DecidedOn = number
	err := wantErr(f.svc.Submit(context.Background(), f.dept, sub))
	got := details(t, err)
	if got["decided_on"] == "" || got["fields.valid_until"] == "" || got["fields.fine_amount"] == "" {
		t.Fatalf("problems %v, want decided_on, fields.valid_until and fields.fine_amount", got)
	}
	var e *errs.Error
	errors.As(err, &e)
	for _, d := range e.Details {
		if strings.Contains(d.Message, number) || strings.Contains(d.Message, number[:10]) {
			t.Errorf("%s: %q repeats the identity number", d.Field, d.Message)
		}
	}
}

// TestAShiftedIdentityNumberIsNoFine: an amount past any fine (an identity
// number in the amount column) is refused naming the field, its digits not
// repeated.
func TestAShiftedIdentityNumberIsNoFine(t *testing.T) {
	f := newFixture(t)
	for i, field := range []string{"CF_NR_FK", "fine_amount"} {
		sub := penalty(fmt.Sprint("shift-", i), map[string]any{field: "120101199202026541"})
		err := wantErr(f.svc.Submit(context.Background(), f.dept, sub))
		if got := details(t, err); got["fields."+field] != "too_large" {
			t.Errorf("%s of an identity number: problems %v, want fields.%s too_large", field, got, field)
		}
		if strings.Contains(err.Error(), "120101199202026541") {
			t.Errorf("%s: %v repeats the number", field, err)
		}
	}
}
