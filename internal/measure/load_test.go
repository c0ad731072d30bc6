package measure

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/errs"
)

func TestShippedFileLoads(t *testing.T) {
	s, err := Load(catalogfs.Measures())
	if err != nil {
		t.Fatalf("Load(catalog/measures.yaml): %v", err)
	}
	if s.Format != FormatVersion {
		t.Errorf("format = %d, want %d", s.Format, FormatVersion)
	}
	for _, code := range []string{"civil_service_recruitment", "government_procurement", "admin_licensing",
		"subsidy", "high_consumption", "bidding", "honours"} {
		if _, ok := s.Matter(code); !ok {
			t.Errorf("matter %s is not published", code)
		}
		if len(s.ForMatter(code)) == 0 {
			t.Errorf("matter %s has no measures", code)
		}
	}
	if len(s.Measures) < 10 {
		t.Errorf("%d measures, want at least 10", len(s.Measures))
	}
	kinds := map[Kind]int{}
	for _, m := range s.Measures {
		kinds[m.Kind]++
	}
	if kinds[Reward] == 0 || kinds[Punishment] == 0 {
		t.Errorf("kinds = %v, want rewards and punishments", kinds)
	}
	for code, matter := range map[string]string{
		"GREEN_CHANNEL":             "admin_licensing",
		"RESTRICT_HIGH_CONSUMPTION": "high_consumption",
	} {
		m, ok := s.Measure(code)
		if !ok {
			t.Errorf("measure %s is not published", code)
			continue
		}
		if !slices.Contains(m.Matters, matter) {
			t.Errorf("%s applies in %v, want %s", code, m.Matters, matter)
		}
	}
}

// file builds a measures file with the shipped matters' codes and the given
// measures (YAML mappings, one per string).
func file(measures ...string) []byte {
	var b strings.Builder
	b.WriteString("format: 1\nmatters:\n")
	for _, c := range []string{"admin_licensing", "high_consumption", "subsidy"} {
		fmt.Fprintf(&b, "  - {code: %s, name: {zh: 事项, en: Matter}}\n", c)
	}
	b.WriteString("measures:\n")
	for _, m := range measures {
		b.WriteString("  - " + m + "\n")
	}
	return []byte(b.String())
}

// measure is one flow-style measure with the given code, kind, matter and
// condition (a YAML single-quoted scalar) and extra keys.
func measure(code, kind, matter, condition, extra string) string {
	s := fmt.Sprintf("{code: %s, kind: %s, content: {zh: 内容, en: Content}, basis: 依据, implementers: [部门], "+
		"matters: [%s], condition: '%s', version: '1'", code, kind, matter, condition)
	if extra != "" {
		s += ", " + extra
	}
	return s + "}"
}

func mustLoad(t testing.TB, data []byte) *Set {
	t.Helper()
	s, err := Load(data)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func TestLoadRejects(t *testing.T) {
	ok := measure("OK", "reward", "admin_licensing", "clean_years >= 3", "")
	tests := []struct {
		name string
		data []byte
		// the problem expected: its line, measure code and parts of its message
		line int
		code string
		want []string
	}{
		{
			name: "rejects a condition that returns int",
			data: file(ok, measure("NOT_BOOL", "reward", "admin_licensing", "clean_years + 1", "")),
			line: 8, code: "NOT_BOOL",
			want: []string{"condition", "returns int, not bool"},
		},
		{
			name: "rejects a condition that returns a list",
			data: file(measure("LIST", "reward", "admin_licensing", "lists.map(e, e.code)", "")),
			line: 7, code: "LIST",
			want: []string{"returns list(string), not bool"},
		},
		{
			name: "rejects an unknown fact",
			data: file(measure("UNKNOWN_FACT", "reward", "admin_licensing", "credit_score > 600", "")),
			line: 7, code: "UNKNOWN_FACT",
			want: []string{"ERROR: UNKNOWN_FACT:1:1: undeclared reference to 'credit_score'"},
		},
		{
			name: "rejects an unknown field of a list entry",
			data: file(measure("UNKNOWN_FIELD", "punishment", "admin_licensing", `lists.exists(e, e.list == "SXBZXR")`, "")),
			line: 7, code: "UNKNOWN_FIELD",
			want: []string{"undefined field 'list'"},
		},
		{
			name: "rejects a comparison of unlike types",
			data: file(measure("BAD_TYPES", "reward", "admin_licensing", `age == "18"`, "")),
			line: 7, code: "BAD_TYPES",
			want: []string{"found no matching overload for '_==_'"},
		},
		{
			name: "rejects a syntax error",
			data: file(measure("SYNTAX", "reward", "admin_licensing", "clean_years >= ", "")),
			line: 7, code: "SYNTAX",
			want: []string{"ERROR: SYNTAX:1:16: Syntax error"},
		},
		{
			name: "rejects an unknown matter and lists the known ones",
			data: file(measure("NO_MATTER", "reward", "airport", "clean_years >= 3", "")),
			line: 7, code: "NO_MATTER",
			want: []string{`unknown matter "airport"`, "admin_licensing, high_consumption, subsidy"},
		},
		{
			name: "rejects a duplicate measure code",
			data: file(ok, ok),
			line: 8, code: "OK",
			want: []string{"duplicate measure code"},
		},
		{
			name: "rejects a duplicate matter code",
			data: []byte("format: 1\nmatters:\n  - {code: subsidy, name: {zh: a, en: b}}\n  - {code: subsidy, name: {zh: a, en: b}}\nmeasures:\n  - " +
				measure("OK", "reward", "subsidy", "true", "") + "\n"),
			line: 4, code: "subsidy",
			want: []string{"duplicate matter code"},
		},
		{
			name: "rejects an unknown key",
			data: file(measure("TYPO", "reward", "admin_licensing", "true", "basiss: x")),
			line: 7, code: "TYPO",
			want: []string{`unknown key "basiss" in measure`},
		},
		{
			name: "rejects an unknown kind",
			data: file(measure("KIND", "bonus", "admin_licensing", "true", "")),
			line: 7, code: "KIND",
			want: []string{`kind "bonus"`},
		},
		{
			name: "rejects a punishment without grounds",
			data: file(measure("NO_GROUNDS", "punishment", "high_consumption", `on_list("SXBZXR")`, "")),
			line: 7, code: "NO_GROUNDS",
			want: []string{"a punishment must name the lists or items it rests on"},
		},
		{
			name: "rejects a condition testing a list that is not a ground",
			data: file(measure("MISSING_GROUND", "punishment", "high_consumption",
				`on_list("SXBZXR") || lists.exists(e, e.code == "SW_ZDSS")`, "grounds: {lists: [SXBZXR]}")),
			line: 7, code: "MISSING_GROUND",
			want: []string{`the condition tests for list "SW_ZDSS", which is not among the grounds`},
		},
		{
			name: "rejects a condition testing an item that is not a ground",
			data: file(measure("MISSING_ITEM", "punishment", "admin_licensing",
				`has_record("XYCNWY")`, "grounds: {items: [XZCF]}")),
			line: 7, code: "MISSING_ITEM",
			want: []string{`tests for item "XYCNWY"`},
		},
		{
			name: "rejects a ground code that is not a code",
			data: file(measure("BAD_GROUND", "punishment", "high_consumption",
				`on_list("SXBZXR")`, "grounds: {lists: [SXBZXR, 失信]}")),
			line: 7, code: "BAD_GROUND",
			want: []string{`grounds.lists: "失信" is not a list or item code`},
		},
		{
			name: "rejects item grounds when the condition never looks at records",
			data: file(measure("IDLE_GROUND", "punishment", "high_consumption",
				`on_list("SXBZXR")`, "grounds: {lists: [SXBZXR], items: [XZCF]}")),
			line: 7, code: "IDLE_GROUND",
			want: []string{"grounds.items: the condition does not look at records"},
		},
		{
			name: "rejects an unsupported format",
			data: []byte(strings.Replace(string(file(ok)), "format: 1", "format: 2", 1)),
			line: 1,
			want: []string{"format 2 is not supported"},
		},
		{
			name: "rejects a measure without a version",
			data: file(strings.Replace(ok, ", version: '1'", "", 1)),
			line: 7, code: "OK",
			want: []string{"version is required"},
		},
		{
			name: "rejects a wrong type with its line",
			data: file("{code: TYPE, kind: reward, content: {zh: 内容, en: Content}, basis: 依据, implementers: 部门, " +
				"matters: [admin_licensing], condition: 'true', version: '1'}"),
			line: 7, code: "TYPE",
			want: []string{"cannot unmarshal"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.data)
			if err == nil {
				t.Fatalf("Load succeeded with %d measures; input:\n%s", len(s.Measures), tt.data)
			}
			if !errors.Is(err, errs.Invalid) || errs.KindOf(err) != errs.Invalid {
				t.Errorf("error kind = %v, want invalid", errs.KindOf(err))
			}
			le, ok := errors.AsType[*LoadError](err)
			if !ok {
				t.Fatalf("error %T is not a *LoadError: %v", err, err)
			}
			for _, p := range le.Problems {
				if p.Line == tt.line && p.Code == tt.code && containsAll(p.Message, tt.want) {
					if !containsAll(err.Error(), append([]string{tt.code}, tt.want...)) {
						t.Errorf("Error() = %q, does not name the code and the message", err)
					}
					return
				}
			}
			t.Errorf("no problem at line %d for %q containing %q; got:\n%v", tt.line, tt.code, tt.want, err)
		})
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load(file(
		measure("AA", "reward", "admin_licensing", "clean_years + 1", ""),
		measure("BB", "reward", "nowhere", "x > 1", ""),
		measure("AA", "penalty", "subsidy", "true", ""),
	))
	le, ok := errors.AsType[*LoadError](err)
	if !ok {
		t.Fatalf("Load: %v, want a *LoadError", err)
	}
	var got []string
	for _, p := range le.Problems {
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Code))
	}
	want := []string{"7 AA", "8 BB", "8 BB", "9 AA", "9 AA"}
	if !slices.Equal(got, want) {
		t.Errorf("problems at %v, want %v:\n%v", got, want, err)
	}
}

func TestLoadAccepts(t *testing.T) {
	tests := []struct {
		name string
		m    string
	}{
		{"a reward may test for being on no list without naming grounds",
			measure("CLEAN", "reward", "admin_licensing", `clean_years >= 3 && !on_list("SXBZXR")`, "")},
		{"a punishment may rest on every black list by name",
			measure("ANY_BLACK", "punishment", "subsidy", "on_black_list()", "grounds: {lists: [SXBZXR, SW_ZDSS]}")},
		{"a multi-line condition",
			measure("MULTI", "punishment", "subsidy", "lists.exists(e,\n      e.code in [\"SXBZXR\", \"SW_ZDSS\"]\n      && e.since < now)", "grounds: {lists: [SXBZXR, SW_ZDSS]}")},
		{"a condition on timestamps and the score",
			measure("TIME", "reward", "subsidy", `score >= 600 && lists.all(e, e.open || e.until > now + duration("720h"))`, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustLoad(t, file(tt.m))
		})
	}
}

// TestCheckCodesNamesUnknownListsAndItems: a measure whose grounds name a
// list or item that is not in force is a problem naming the measure and
// the code; the shipped measures name only shipped codes.
func TestCheckCodesNamesUnknownListsAndItems(t *testing.T) {
	lists, items := []string{"SXBZXR", "SW_ZDSS"}, []string{"XZCF", "SXBZXR"}
	s := mustLoad(t, file(
		measure("TYPO_LIST", "punishment", "high_consumption", `on_list("SXBZRX")`, "grounds: {lists: [SXBZRX]}"),
		measure("TYPO_ITEM", "punishment", "subsidy", `has_record("XZFC")`, "grounds: {items: [XZFC]}"),
		measure("FINE", "punishment", "subsidy", `on_list("SXBZXR") || has_record("XZCF")`, "grounds: {lists: [SXBZXR], items: [XZCF]}"),
	))
	err := s.CheckCodes(lists, items)
	var le *LoadError
	if !errors.As(err, &le) || len(le.Problems) != 2 {
		t.Fatalf("CheckCodes: %v, want two problems", err)
	}
	for i, want := range []struct{ code, text string }{{"TYPO_LIST", `"SXBZRX"`}, {"TYPO_ITEM", `"XZFC"`}} {
		if p := le.Problems[i]; p.Code != want.code || !strings.Contains(p.Message, want.text) {
			t.Errorf("problem %d: %s, want one of %s naming %s", i, p, want.code, want.text)
		}
	}
	if errs.KindOf(err) != errs.Invalid {
		t.Errorf("kind %s, want invalid", errs.KindOf(err))
	}
	if err := mustLoad(t, file(measure("FINE", "punishment", "subsidy", `on_list("SXBZXR")`, "grounds: {lists: [SXBZXR]}"))).CheckCodes(lists, items); err != nil {
		t.Errorf("known codes: %v", err)
	}
}
