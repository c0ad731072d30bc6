package listing

import (
	"errors"
	"strings"
	"testing"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
)

func shippedCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load(catalogfs.Items())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestShippedListsLoad(t *testing.T) {
	ts, err := LoadTypes(catalogfs.Lists(), shippedCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"SXBZXR", "SCJG_YZWF", "SW_ZDSS", "FFJZ_DXZP", "YXZYZ", "SXQN"} {
		if _, ok := ts.Type(code); !ok {
			t.Errorf("no list %s", code)
		}
	}
	if d, _ := ts.Type("SXBZXR"); !d.NeverMinors() || !d.Published.ByLaw || d.Kind != Black {
		t.Errorf("SXBZXR: never minors %v, published %v, kind %s", d.NeverMinors(), d.Published.ByLaw, d.Kind)
	}
	if s, _ := ts.Type("SCJG_YZWF"); s.NoticeDays != 5 || s.EarliestRemoval != 12 {
		t.Errorf("SCJG_YZWF: notice %d, earliest removal %d", s.NoticeDays, s.EarliestRemoval)
	}
}

const good = `- code: TEST
  name: {zh: 测试名单, en: Test list}
  kind: black
  item: SCJG_YZWF
  legal_basis: a law
  entry_conditions: entry
  exit_conditions: exit
  grounds_field: grounds
  document_field: decision_no
  duration_months: 36
  published: {by_law: false}
`

func TestLoadTypesRejects(t *testing.T) {
	cat := shippedCatalog(t)
	for _, tc := range []struct{ name, yaml, want string }{
		{"an unknown key", strings.Replace(good, "  kind: black\n", "  kind: black\n  colour: red\n", 1), "colour"},
		{"an item not in the catalog", strings.Replace(good, "item: SCJG_YZWF", "item: NOPE", 1), "not in the catalog"},
		{"a black list backed by positive information", strings.Replace(good, "item: SCJG_YZWF", "item: YXZYZ", 1), "black list TEST is backed by positive"},
		{"a grounds field that is not an enum", strings.Replace(good, "grounds_field: grounds", "grounds_field: basis", 1), "grounds_field"},
		{"a published field the item lacks", strings.Replace(good, "published: {by_law: false}", "published: {by_law: false, fields: [nope]}", 1), `publishes "nope"`},
		{"publication by law without a basis on the item", strings.Replace(good, "by_law: false", "by_law: true", 1), "names no publication basis"},
		{"a list without its exit conditions", strings.Replace(good, "  exit_conditions: exit\n", "", 1), "entry and exit conditions"},
		{"a negative notice period", strings.Replace(good, "  duration_months: 36\n", "  duration_months: 36\n  notice_working_days: -1\n", 1), "non-negative"},
		{"a code defined twice", good + strings.Replace(good, "- code: TEST", "- code: TEST", 1), "defined twice"},
		{"a file that is not a sequence", "code: TEST\n", "sequence"},
	} {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			_, err := LoadTypes([]byte(tc.yaml), cat)
			if !errors.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an Invalid error mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := LoadTypes([]byte(good), cat); err != nil {
		t.Fatalf("the good file: %v", err)
	}
}

// TestEarliestUntil: the earliest end a department may give an entry is
// the list's own term on a black list, or the first day early removal is
// possible where its rules allow it (but never after the term's end); a
// red list's validity is the deciding department's.
func TestEarliestUntil(t *testing.T) {
	ts, err := LoadTypes(catalogfs.Lists(), shippedCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) clock.Date {
		d, err := clock.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name, list, decided, activeFrom string
		want                            string // "": none
	}{
		{"SXBZXR lasts its 24 months", "SXBZXR", "2026-03-01", "2026-11-30", "2028-03-01"},
		{"FFJZ_DXZP lasts its 36 months", "FFJZ_DXZP", "2026-11-02", "2026-12-03", "2029-11-02"},
		{"SCJG_YZWF may end once 12 months on the list", "SCJG_YZWF", "2026-11-02", "2026-12-07", "2027-12-07"},
		{"SW_ZDSS may end once 6 months on the list", "SW_ZDSS", "2026-11-02", "2026-12-14", "2027-06-14"},
		{"early removal never comes after the term's end", "SCJG_YZWF", "2024-01-05", "2026-12-07", "2027-01-05"},
		{"a red list has none", "YXZYZ", "2026-11-02", "2026-11-30", ""},
		{"nor has the other red list", "SXQN", "2026-11-02", "2026-11-30", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lt, ok := ts.Type(tc.list)
			if !ok {
				t.Fatalf("no list %s", tc.list)
			}
			got, ok := lt.EarliestUntil(day(tc.decided), day(tc.activeFrom))
			switch {
			case tc.want == "" && ok:
				t.Errorf("%s: earliest until %s, want none", tc.list, got)
			case tc.want != "" && (!ok || got != day(tc.want)):
				t.Errorf("%s decided %s, in effect from %s: earliest until %s (%v), want %s", tc.list, tc.decided, tc.activeFrom, got, ok, tc.want)
			}
		})
	}
	// A black list whose entries last until removed, with early removal.
	market, _ := ts.Type("SCJG_YZWF")
	open := *market
	open.DurationMonths = 0
	if got, ok := open.EarliestUntil(day("2026-11-02"), day("2026-12-07")); !ok || got != day("2027-12-07") {
		t.Errorf("open-ended %s: earliest until %s (%v), want 2027-12-07", open.Code, got, ok)
	}
	open.EarliestRemoval = 0
	if got, ok := open.EarliestUntil(day("2026-11-02"), day("2026-12-07")); ok {
		t.Errorf("open-ended %s without early removal: earliest until %s, want none", open.Code, got)
	}
}
