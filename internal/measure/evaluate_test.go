package measure

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/errs"
)

var now = time.Date(2026, 5, 12, 10, 30, 0, 0, time.FixedZone("CST", 8*3600))

func shipped(t testing.TB) *Set {
	t.Helper()
	return mustLoad(t, catalogfs.Measures())
}

func entry(id, code, kind string) ListEntry {
	return ListEntry{ID: id, Code: code, Kind: kind, Since: now.AddDate(-1, 0, 0), Until: now.AddDate(1, 0, 0)}
}

func record(id, item, polarity, severity string) RecordFact {
	return RecordFact{ID: id, Item: item, Polarity: polarity, Severity: severity, DecidedOn: now.AddDate(-1, 0, 0)}
}

// hit is a hit written as "CODE[type:id:code ...]", for comparing in tests.
func hits(hs []Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		var gs []string
		for _, g := range h.Because {
			gs = append(gs, g.Type+":"+g.ID+":"+g.Code)
		}
		out[i] = h.Measure.Code + "[" + strings.Join(gs, " ") + "]"
	}
	return out
}

func TestEvaluateShipped(t *testing.T) {
	s := shipped(t)
	debtor := entry("le-1", "SXBZXR", "black")
	tax := entry("le-2", "SW_ZDSS", "black")
	fraud := entry("le-3", "FFJZ_DXZP", "black")
	volunteer := entry("le-4", "YXZYZ", "red")
	youth := entry("le-5", "SXQN", "red")
	tests := []struct {
		name   string
		matter string
		facts  Facts
		want   []string
	}{
		{
			name:   "a dishonest judgment debtor is restricted in high consumption, because of the entry",
			matter: "high_consumption",
			facts:  Facts{Lists: []ListEntry{debtor}},
			want:   []string{"RESTRICT_HIGH_CONSUMPTION[list_entry:le-1:SXBZXR]"},
		},
		{
			name:   "a person on another black list is not restricted in high consumption",
			matter: "high_consumption",
			facts:  Facts{Lists: []ListEntry{tax}, CleanYears: 0},
			want:   []string{},
		},
		{
			name:   "three clean years and no black list open the green channel, with no entry as grounds",
			matter: "admin_licensing",
			facts:  Facts{CleanYears: 3},
			want:   []string{"GREEN_CHANNEL[]"},
		},
		{
			name:   "two clean years do not",
			matter: "admin_licensing",
			facts:  Facts{CleanYears: 2},
			want:   []string{},
		},
		{
			name:   "a black list closes the green channel and brings the licensing punishments",
			matter: "admin_licensing",
			facts:  Facts{CleanYears: 5, Lists: []ListEntry{fraud}},
			want: []string{
				"NO_COMMITMENT_INSTEAD_OF_DOCUMENTS[list_entry:le-3:FFJZ_DXZP]",
				"PRIORITY_INSPECTION[list_entry:le-3:FFJZ_DXZP]",
			},
		},
		{
			name:   "a broken commitment is a ground by its record, after the list entries, each by code",
			matter: "admin_licensing",
			facts: Facts{
				Lists:   []ListEntry{tax, debtor},
				Records: []RecordFact{record("r-2", "XZCF", "negative", "general"), record("r-1", "XYCNWY", "negative", "general")},
			},
			want: []string{
				"NO_COMMITMENT_INSTEAD_OF_DOCUMENTS[list_entry:le-2:SW_ZDSS list_entry:le-1:SXBZXR record:r-1:XYCNWY]",
				"PRIORITY_INSPECTION[list_entry:le-2:SW_ZDSS list_entry:le-1:SXBZXR record:r-1:XYCNWY]",
			},
		},
		{
			name:   "a red-list volunteer with clean years gets every licensing reward, in file order",
			matter: "admin_licensing",
			facts:  Facts{CleanYears: 4, Lists: []ListEntry{youth, volunteer}},
			want: []string{
				"GREEN_CHANNEL[]",
				"ACCEPT_WITH_MINOR_MISSING[list_entry:le-5:SXQN list_entry:le-4:YXZYZ]",
				"FEWER_INSPECTIONS[list_entry:le-5:SXQN list_entry:le-4:YXZYZ]",
			},
		},
		{
			name:   "a volunteer who is also a debtor loses the reward and is restricted",
			matter: "civil_service_recruitment",
			facts:  Facts{Lists: []ListEntry{volunteer, debtor}},
			want:   []string{"RESTRICT_CIVIL_SERVICE[list_entry:le-1:SXBZXR]"},
		},
		{
			name:   "a trustworthy youth has priority in recruitment",
			matter: "civil_service_recruitment",
			facts:  Facts{Lists: []ListEntry{youth}},
			want:   []string{"RECRUITMENT_PRIORITY[list_entry:le-5:SXQN]"},
		},
		{
			name:   "procurement refuses the tax-dishonest",
			matter: "government_procurement",
			facts:  Facts{Lists: []ListEntry{tax}},
			want:   []string{"RESTRICT_GOVERNMENT_PROCUREMENT[list_entry:le-2:SW_ZDSS]"},
		},
		{
			name:   "bidding is not restricted for the fraud list, which the measure does not name",
			matter: "bidding",
			facts:  Facts{Lists: []ListEntry{fraud}},
			want:   []string{},
		},
		{
			name:   "honours and subsidies are restricted for every serious list",
			matter: "honours",
			facts:  Facts{Lists: []ListEntry{fraud, debtor}},
			want:   []string{"RESTRICT_HONOURS[list_entry:le-3:FFJZ_DXZP list_entry:le-1:SXBZXR]"},
		},
		{
			name:   "nothing applies to a person with no facts",
			matter: "subsidy",
			facts:  Facts{},
			want:   []string{},
		},
		{
			name:   "an entry that ended is still used: the caller passes active entries only",
			matter: "high_consumption",
			facts:  Facts{Lists: []ListEntry{{ID: "old", Code: "SXBZXR", Kind: "black", Since: now.AddDate(-3, 0, 0), Until: now.AddDate(-1, 0, 0)}}},
			want:   []string{"RESTRICT_HIGH_CONSUMPTION[list_entry:old:SXBZXR]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.facts.Now = now
			got, err := s.Evaluate(context.Background(), tt.matter, tt.facts)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if !slices.Equal(hits(got), tt.want) {
				t.Errorf("hits = %q, want %q", hits(got), tt.want)
			}
			for _, h := range got {
				if m, _ := s.Measure(h.Measure.Code); m != h.Measure {
					t.Errorf("hit %s does not point into the set", h.Measure.Code)
				}
				if h.Because == nil {
					t.Errorf("hit %s: Because is nil, want a (possibly empty) slice", h.Measure.Code)
				}
			}
		})
	}
}

func TestEvaluateFacts(t *testing.T) {
	s := mustLoad(t, file(
		measure("NO_SCORE", "reward", "subsidy", "score == -1", ""),
		measure("GOOD_SCORE", "reward", "subsidy", "score >= 600", ""),
		measure("OPEN_ENDED", "punishment", "subsidy",
			`lists.exists(e, e.code == "SXBZXR" && e.open && e.until > now + duration("87600h"))`, "grounds: {lists: [SXBZXR]}"),
		measure("RECENT_SERIOUS", "punishment", "subsidy",
			`records.exists(r, r.item == "XZCF" && r.severity == "serious" && now - r.decided_on < duration("8760h"))`, "grounds: {items: [XZCF]}"),
		measure("ADULT", "reward", "subsidy", "age >= 18", ""),
	))
	score := 640
	tests := []struct {
		name  string
		facts Facts
		want  []string
	}{
		{"score is -1 until scores exist", Facts{}, []string{"NO_SCORE[]"}},
		{"a score is passed as it is", Facts{Score: &score, Age: 30}, []string{"GOOD_SCORE[]", "ADULT[]"}},
		{"an open-ended entry is open and ends at the largest timestamp",
			Facts{Score: &score, Lists: []ListEntry{{ID: "e", Code: "SXBZXR", Kind: "black", Since: now}}},
			[]string{"GOOD_SCORE[]", "OPEN_ENDED[list_entry:e:SXBZXR]"}},
		{"an entry with an end is not open",
			Facts{Score: &score, Lists: []ListEntry{entry("e", "SXBZXR", "black")}},
			[]string{"GOOD_SCORE[]"}},
		{"decided_on and now are timestamps",
			Facts{Score: &score, Records: []RecordFact{
				{ID: "old", Item: "XZCF", Polarity: "negative", Severity: "serious", DecidedOn: now.AddDate(-2, 0, 0)},
				{ID: "new", Item: "XZCF", Polarity: "negative", Severity: "serious", DecidedOn: now.AddDate(0, -1, 0)},
			}},
			// every record of a ground item is named, not only the one that made the condition true
			[]string{"GOOD_SCORE[]", "RECENT_SERIOUS[record:new:XZCF record:old:XZCF]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.facts.Now = now
			got, err := s.Evaluate(context.Background(), "subsidy", tt.facts)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if !slices.Equal(hits(got), tt.want) {
				t.Errorf("hits = %q, want %q", hits(got), tt.want)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	s := shipped(t)
	t.Run("an unknown matter is not found and names the known ones", func(t *testing.T) {
		_, err := s.Evaluate(context.Background(), "airport", Facts{Now: now})
		if !errors.Is(err, errs.NotFound) {
			t.Fatalf("err = %v, want not found", err)
		}
		if !strings.Contains(err.Error(), "admin_licensing") || !strings.Contains(err.Error(), "high_consumption") {
			t.Errorf("err = %q, want the known matters listed", err)
		}
	})
	t.Run("the time of the check is required", func(t *testing.T) {
		_, err := s.Evaluate(context.Background(), "admin_licensing", Facts{CleanYears: 3})
		if !errors.Is(err, errs.Invalid) {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
	t.Run("a cancelled context stops evaluation", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		got, err := s.Evaluate(ctx, "admin_licensing", Facts{Now: now, CleanYears: 3})
		if got != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("Evaluate = %v, %v; want context.Canceled", got, err)
		}
		if errs.KindOf(err) != errs.Unavailable {
			t.Errorf("kind = %v, want unavailable", errs.KindOf(err))
		}
		if ee, ok := errors.AsType[*EvalError](err); !ok || ee.Code != "GREEN_CHANNEL" {
			t.Errorf("err = %v, want an *EvalError naming the first measure", err)
		}
	})
	t.Run("a punishment whose grounds are not among the facts is an error", func(t *testing.T) {
		s := mustLoad(t, file(measure("ANY_BLACK", "punishment", "subsidy", "on_black_list()", "grounds: {lists: [SXBZXR]}")))
		_, err := s.Evaluate(context.Background(), "subsidy", Facts{Now: now, Lists: []ListEntry{entry("e", "SW_ZDSS", "black")}})
		if !errors.Is(err, ErrNoGrounds) || !strings.Contains(err.Error(), "ANY_BLACK") || errs.KindOf(err) != errs.Internal {
			t.Errorf("err = %v (kind %v), want ErrNoGrounds naming ANY_BLACK, internal", err, errs.KindOf(err))
		}
	})
}

func TestEvaluateCostLimit(t *testing.T) {
	s := mustLoad(t, file(
		measure("CHEAP", "reward", "subsidy", "clean_years >= 3", ""),
		measure("QUADRATIC", "punishment", "subsidy",
			`records.exists(a, records.exists(b, a.id != b.id && a.item == b.item && a.decided_on == b.decided_on))`,
			"grounds: {items: [XZCF]}"),
	))
	f := Facts{Now: now, CleanYears: 3}
	for i := range 1000 { // a million pairs, far over the limit
		f.Records = append(f.Records, RecordFact{ID: fmt.Sprint(i), Item: "XZCF", DecidedOn: now.Add(-time.Duration(i) * time.Hour)})
	}
	got, err := s.Evaluate(context.Background(), "subsidy", f)
	if got != nil || !errors.Is(err, ErrCostLimit) {
		t.Fatalf("Evaluate = %v, %v; want ErrCostLimit", hits(got), err)
	}
	if ee, ok := errors.AsType[*EvalError](err); !ok || ee.Code != "QUADRATIC" {
		t.Errorf("err = %v, want an *EvalError naming QUADRATIC", err)
	}
	if !strings.Contains(err.Error(), "measure QUADRATIC: cost limit exceeded") {
		t.Errorf("err = %q", err)
	}
	if errs.KindOf(err) != errs.Internal {
		t.Errorf("kind = %v, want internal", errs.KindOf(err))
	}

	// The same condition over a few records is well within the limit.
	f.Records = f.Records[:20]
	if _, err := s.Evaluate(context.Background(), "subsidy", f); err != nil {
		t.Errorf("20 records: %v", err)
	}
}

// TestContextInterruptsACondition checks that cancellation reaches into a
// running condition (a long comprehension), not only between measures.
func TestContextInterruptsACondition(t *testing.T) {
	s := mustLoad(t, file(measure("LONG", "punishment", "subsidy", `has_record("NONE")`, "grounds: {items: [NONE]}")))
	f := Facts{Now: now}
	for i := range 5000 {
		f.Records = append(f.Records, RecordFact{ID: fmt.Sprint(i), Item: "XZCF"})
	}
	m, _ := s.Measure("LONG")
	vars := s.vars(f, readsRecords)
	if ok, err := m.eval(context.Background(), vars); ok || err != nil {
		t.Fatalf("eval = %v, %v; want false, nil", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.eval(ctx, vars)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("eval with a cancelled context = %v, want context.Canceled", err)
	}
	if ee, ok := errors.AsType[*EvalError](err); !ok || ee.Code != "LONG" {
		t.Errorf("err = %v, want an *EvalError naming LONG", err)
	}
	if errs.KindOf(err) != errs.Unavailable {
		t.Errorf("kind = %v, want unavailable", errs.KindOf(err))
	}
}

func TestHelperMacros(t *testing.T) {
	f := Facts{Now: now,
		Lists:   []ListEntry{entry("a", "SXBZXR", "black"), entry("b", "SXQN", "red")},
		Records: []RecordFact{record("r", "XZCF", "negative", "general")},
	}
	const lists, items = "grounds: {lists: [SXBZXR, SW_ZDSS]}", "grounds: {items: [XZCF, QSXX, SBQF]}"
	tests := []struct {
		condition, grounds string
		want               bool
	}{
		{`on_list("SXBZXR")`, lists, true},
		{`on_list("SW_ZDSS")`, lists, false},
		{`on_list("SW_ZDSS", "SXBZXR")`, lists, true},
		{`on_black_list()`, "", true},
		{`on_red_list()`, "", true},
		{`has_record("XZCF")`, items, true},
		{`has_record("QSXX", "SBQF")`, items, false},
		{`!on_list("SW_ZDSS") && on_red_list()`, "", true},
		// the macros' iteration variable does not clash with the condition's own
		{`lists.exists(e, e.kind == "red" && on_list("SXBZXR"))`, lists, true},
	}
	for _, tt := range tests {
		t.Run(tt.condition, func(t *testing.T) {
			s := mustLoad(t, file(measure("M1", "reward", "subsidy", tt.condition, tt.grounds)))
			got, err := s.Evaluate(context.Background(), "subsidy", f)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tt.want {
				t.Errorf("holds = %v, want %v", len(got) == 1, tt.want)
			}
		})
	}
	t.Run("on_list needs a code", func(t *testing.T) {
		_, err := Load(file(measure("M1", "reward", "subsidy", "on_list()", "")))
		if err == nil || !strings.Contains(err.Error(), "on_list") {
			t.Errorf("Load = %v, want an error about on_list()", err)
		}
	})
}

func TestEvaluateConcurrently(t *testing.T) {
	s := shipped(t)
	f := Facts{Now: now, CleanYears: 4, Lists: []ListEntry{entry("a", "YXZYZ", "red")}}
	want, err := s.Evaluate(context.Background(), "admin_licensing", f)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			for range 200 {
				got, err := s.Evaluate(context.Background(), "admin_licensing", f)
				if err == nil && !slices.Equal(hits(got), hits(want)) {
					err = fmt.Errorf("hits = %q, want %q", hits(got), hits(want))
				}
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

func TestEvaluateDeadlineWithCause(t *testing.T) {
	s := shipped(t)
	cause := errors.New("counter closed")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err := s.Evaluate(ctx, "high_consumption", Facts{Now: now})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) || errs.KindOf(err) != errs.Unavailable {
		t.Errorf("err = %v (kind %v), want context.Canceled and its cause, unavailable", err, errs.KindOf(err))
	}
}
