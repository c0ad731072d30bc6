package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/errs"
)

func TestShippedCatalogLoads(t *testing.T) {
	c, err := Load(catalogfs.Items())
	if err != nil {
		t.Fatalf("Load(shipped): %v", err)
	}
	if len(c.Items) < 14 {
		t.Errorf("shipped catalog has %d items, want at least 14", len(c.Items))
	}
	want := map[string]Polarity{
		"XZCF": Negative, "XZXK": Basic, "SXBZXR": Negative, "QSXX": Negative,
		"SBQF": Negative, "ZYFW": Positive, "RYBZ": Positive,
	}
	for code, pol := range want {
		it, ok := c.Item(code)
		if !ok {
			t.Errorf("shipped catalog lacks %s", code)
			continue
		}
		if it.Polarity != pol {
			t.Errorf("%s polarity = %s, want %s", code, it.Polarity, pol)
		}
	}
	for _, it := range c.Items {
		if it.Polarity != Negative || it.Severity.Fixed != "" { // lists are fixed serious
			continue
		}
		d := it.Display
		if d.Minor != nil || *d.General != (Period{3, 12}) || *d.Serious != (Period{12, 36}) {
			t.Errorf("%s display = %+v, want no minor, general 3-12, serious 12-36", it.Code, d)
		}
	}
}

func TestShippedSpecialItems(t *testing.T) {
	c := mustLoadShipped(t)
	sx, _ := c.Item("SXBZXR")
	if sx.Category != "serious_dishonesty" || sx.Severity.Fixed != Serious || sx.Disclosure != PublicByLaw ||
		sx.PublicationBasis != "《最高人民法院关于公布失信被执行人名单信息的若干规定》" {
		t.Errorf("SXBZXR = %+v", sx)
	}
	if qs, _ := c.Item("QSXX"); qs.Severity.Amount == nil || qs.Severity.Amount.Field != "arrears_amount" {
		t.Errorf("QSXX severity = %+v, want by arrears_amount", qs.Severity)
	}
	if rb, _ := c.Item("RYBZ"); rb.Display.UntilField == "" {
		t.Error("RYBZ has no until_field")
	}
	xk, _ := c.Item("XZXK")
	if xk.Polarity != Basic || xk.Display.UntilField != "valid_to" {
		t.Errorf("XZXK polarity %s, until_field %q", xk.Polarity, xk.Display.UntilField)
	}
	wantXK := []string{"doc_name XK_XKWS", "decision_no XK_WSH", "license_category XK_XKLB", "certificate XK_XKZS",
		"license_no XK_XKBH", "content XK_NR", "valid_from XK_YXQZ", "valid_to XK_YXQZI", "authority XK_XKJG",
		"authority_code XK_XKJGDM", "status XK_ZT", "source_unit XK_LYDW", "source_unit_code XK_LYDWDM", "remarks BZ"}
	if got := fieldPairs(xk); !slices.Equal(got, wantXK) {
		t.Errorf("XZXK fields =\n%v\nwant\n%v", got, wantXK)
	}
	for _, it := range c.Items {
		if f, ok := it.Field(DecisionField); !ok || !f.Required {
			t.Errorf("%s has no required decision_no", it.Code)
		}
	}
}

func TestShippedXZCF(t *testing.T) {
	it, _ := mustLoadShipped(t).Item("XZCF")
	want := []string{"decision_no CF_WSH", "violation_type CF_WFXW", "facts CF_SY", "basis CF_YJ",
		"penalty_types CF_CFLB", "content CF_NR", "fine_amount CF_NR_FK", "confiscated_amount CF_NR_WFFF",
		"license_affected CF_NR_ZKDX", "valid_until CF_YXQ", "publicity_until CF_GSJZQ", "authority CF_CFJG",
		"authority_code CF_CFJGDM", "source_unit CF_SJLY", "source_unit_code CF_SJLYDM", "remarks BZ"}
	if got := fieldPairs(it); !slices.Equal(got, want) {
		t.Errorf("XZCF fields =\n%v\nwant\n%v", got, want)
	}
	if it.Subject != (SubjectColumns{"CF_XDR_MC", "CF_XDR_LB", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_JDRQ"}) {
		t.Errorf("XZCF subject = %+v", it.Subject)
	}
	if s := it.Severity; s.FloorField != "penalty_types" || s.Amount == nil || s.Amount.Field != "fine_amount" ||
		s.Amount.MinorMax != 0 || s.Amount.SeriousMin != 0 || s.Default != General {
		t.Errorf("XZCF severity = %+v", s)
	}
	for name, want := range map[string]Field{
		"decision_no":        {Type: String, Required: true},
		"penalty_types":      {Type: EnumList, Required: true},
		"fine_amount":        {Type: Decimal, Unit: "yuan", NationalScale: 10000},
		"confiscated_amount": {Type: Decimal, Unit: "yuan", NationalScale: 10000},
		"valid_until":        {Type: Date, Term: true},
		"publicity_until":    {Type: Date},
	} {
		f, _ := it.Field(name)
		if f.Type != want.Type || f.Required != want.Required || f.Unit != want.Unit ||
			f.NationalScale != want.NationalScale || f.Term != want.Term {
			t.Errorf("XZCF %s = %+v, want %+v", name, *f, want)
		}
	}
	if f, _ := it.Field("fine_amount"); f.Min == nil || *f.Min != 0 {
		t.Error("fine_amount has no min 0")
	}

	penalties, _ := it.Field("CF_CFLB")
	floors := map[string]string{}
	for _, v := range penalties.Values {
		floors[v.Code] = string(v.Floor)
		if v.OwnTerm {
			floors[v.Code] += " own_term"
		}
		if !slices.Contains(v.Aliases, v.Name.Zh) {
			t.Errorf("penalty %s: aliases %v lack its zh name %s", v.Code, v.Aliases, v.Name.Zh)
		}
	}
	wantFloors := map[string]string{
		"warning": "minor", "circulated_criticism": "minor", "fine": "", // the amount classes a fine
		"confiscation_of_illegal_gains": "general", "confiscation_of_illegal_property": "general",
		"license_suspension": "serious own_term", "qualification_downgrade": "serious",
		"license_revocation": "serious", "business_restriction": "serious own_term",
		"production_suspension": "serious own_term", "closure": "serious",
		"employment_restriction": "serious own_term", "administrative_detention": "general", "other": "minor",
	}
	if len(floors) != len(wantFloors) {
		t.Errorf("penalty values = %v, want %v", floors, wantFloors)
	}
	for code, w := range wantFloors {
		if floors[code] != w {
			t.Errorf("penalty %s = %q, want %q", code, floors[code], w)
		}
	}
}

// item is a valid negative item; tests break it in one place.
const item = `code: TEST
name: {zh: 测试, en: Test}
category: administrative
subject_type: person
polarity: negative
providers: [测试部门]
legal_basis: 《测试法》
disclosure: on_application
sharing: conditional
update_frequency: daily
repairable: true
version: "1"
local_supplement: false
severity:
  default: general
display:
  general: {min_months: 3, max_months: 12}
  serious: {min_months: 12, max_months: 36}
fields:
  - name: decision_no
    label: {zh: 文号, en: Number}
    type: string
    required: true
`

// field is a field to append to item's fields.
const field = `  - name: kind
    label: {zh: 类别, en: Kind}
    type: string
`

func TestLoadAcceptsMappingAndSequence(t *testing.T) {
	seq := "- " + indent(strings.Replace(item, "TEST", "SEQ_A", 1)) +
		"- " + indent(strings.Replace(item, "TEST", "SEQ_B", 1)+field+
		"  - name: general_remarks\n    label: {zh: 一般备注, en: General remarks}\n    type: text\n")
	c, err := Load(fstest.MapFS{
		"b.yaml": {Data: []byte(seq)},
		"a.yaml": {Data: []byte(item)},
		"x.yml":  {Data: []byte("not read")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Codes(); !slices.Equal(got, []string{"TEST", "SEQ_A", "SEQ_B"}) {
		t.Errorf("codes = %v, want TEST SEQ_A SEQ_B (files by name, items in file order)", got)
	}
}

func TestLoadRejects(t *testing.T) {
	type file struct{ name, data string }
	one := func(data string) []file { return []file{{"x.yaml", data}} }
	tests := []struct {
		name  string
		files []file
		file  string // where the problem is
		at    string // text on the problem's line
		msg   string
	}{
		{"an unknown item key, naming its line",
			one(strings.Replace(item, "severity:", "severty:", 1)), "x.yaml", "severty:", `unknown key "severty" in item`},
		{"an unknown field key, naming its line",
			one(item + field + "    colour: red\n"), "x.yaml", "colour:", `unknown key "colour" in field`},
		{"a duplicate code across two files, naming both",
			[]file{{"a.yaml", item}, {"b.yaml", "\n" + item}}, "b.yaml", "code: TEST", "duplicate item code TEST: also at a.yaml:1"},
		{"a code that is not upper case",
			one(strings.Replace(item, "code: TEST", "code: test", 1)), "x.yaml", "code:", "must match"},
		{"a missing code",
			one(strings.Replace(item, "code: TEST\n", "", 1)), "x.yaml", "name:", "code is required"},
		{"a missing zh name",
			one(strings.Replace(item, "{zh: 测试, en: Test}", "{en: Test}", 1)), "x.yaml", "name: {en", "name needs both zh and en"},
		{"an unknown category",
			one(strings.Replace(item, "category: administrative", "category: gossip", 1)), "x.yaml", "category:", `category "gossip"`},
		{"a general period beyond a year",
			one(strings.Replace(item, "max_months: 12}", "max_months: 24}", 1)), "x.yaml", "general:", "display.general: max_months 24 is above 12"},
		{"a serious period shorter than a year",
			one(strings.Replace(item, "{min_months: 12,", "{min_months: 6,", 1)), "x.yaml", "serious:", "display.serious: min_months 6 is below 12"},
		{"a minor period beyond 3 months",
			one(strings.Replace(item, "display:\n", "display:\n  minor: {min_months: 0, max_months: 6}\n", 1)), "x.yaml", "minor:", "max_months 6 is above 3"},
		{"a period ending before it starts",
			one(strings.Replace(item, "{min_months: 3, max_months: 12}", "{min_months: 10, max_months: 5}", 1)), "x.yaml", "general:", "must be >= 0 and >= min_months 10"},
		{"a negative item without a serious period",
			one(strings.Replace(item, "  serious: {min_months: 12, max_months: 36}\n", "", 1)), "x.yaml", "display:", "needs a serious period"},
		{"a negative item displayed by months",
			one(strings.Replace(item, "display:\n", "display:\n  months: 6\n", 1)), "x.yaml", "months: 6", "not months"},
		{"a positive item with periods by severity",
			one(strings.Replace(strings.Replace(item, "polarity: negative", "polarity: positive", 1), "severity:\n  default: general\n", "", 1)),
			"x.yaml", "display:", "only negative items have periods"},
		{"a positive item with a severity rule",
			one(strings.Replace(item, "polarity: negative", "polarity: positive", 1)), "x.yaml", "severity:", "only negative items have a severity rule"},
		{"a max_age below the min_age",
			one(strings.Replace(item, "severity:\n", "min_age: 18\nmax_age: 16\nseverity:\n", 1)), "x.yaml", "max_age:", "max_age 16 must be between min_age (18) and 150"},
		{"a forbidden field by name",
			one(item + strings.Replace(field, "name: kind", "name: blood_type", 1)), "x.yaml", "name: blood_type", `"blood_type" is data that may never be collected`},
		{"a forbidden field by Chinese label",
			one(item + strings.Replace(field, "{zh: 类别", "{zh: 既往病史", 1)), "x.yaml", "name: kind", `"病史" is data that may never be collected`},
		{"a forbidden field by English label",
			one(item + strings.Replace(field, "en: Kind", "en: Genetic markers", 1)), "x.yaml", "name: kind", `"genetic"`},
		{"a floor_field that is not an enum",
			one(strings.Replace(item, "default: general", "floor_field: decision_no", 1)), "x.yaml", "floor_field:", `floor_field "decision_no" must name an enum or enum_list field`},
		{"an amount rule on a field that is not decimal",
			one(strings.Replace(item, "default: general", "amount: {field: decision_no}", 1)), "x.yaml", "field: decision_no}", "must name a decimal field"},
		{"a fixed severity with another period",
			one(strings.Replace(item, "default: general", "fixed: serious", 1)), "x.yaml", "general:", "severity is fixed serious"},
		{"publication_basis on an item not public",
			one(item + "publication_basis: 《测试法》\n"), "x.yaml", "publication_basis:", "publication_basis is allowed only when disclosure is public"},
		{"an item without decision_no",
			one(strings.Replace(item, "name: decision_no", "name: case_no", 1)), "x.yaml", "fields:", "required string field decision_no"},
		{"a field name that is not snake_case",
			one(item + strings.Replace(field, "name: kind", "name: Kind", 1)), "x.yaml", "name: Kind", "must be snake_case"},
		{"a duplicate national code",
			one(item + "    national: CF_X\n" + field + "    national: CF_X\n"), "x.yaml", "", "duplicate national code CF_X"},
		{"an unknown field type",
			one(item + strings.Replace(field, "type: string", "type: blob", 1)), "x.yaml", "type: blob", `type "blob" must be one of`},
		{"an enum without values",
			one(item + strings.Replace(field, "type: string", "type: enum", 1)), "x.yaml", "type: enum", "needs values"},
		{"an alias meaning two values",
			one(item + strings.Replace(field, "type: string", `type: enum
    values:
      - {code: a, name: {zh: 甲, en: A}, aliases: [一]}
      - {code: b, name: {zh: 乙, en: B}, aliases: [一]}`, 1)), "x.yaml", "code: b", `"一" already means a`},
		{"a duplicate value code",
			one(item + strings.Replace(field, "type: string", `type: enum
    values:
      - {code: a, name: {zh: 甲, en: A}}
      - {code: a, name: {zh: 乙, en: B}}`, 1)), "x.yaml", "zh: 乙", "duplicate value code a"},
		{"an enum_list value with a list separator",
			one(item + strings.Replace(field, "type: string", `type: enum_list
    values:
      - {code: a, name: {zh: 甲、乙, en: A}}`, 1)), "x.yaml", "code: a", "contains a list separator"},
		{"an unknown floor",
			one(item + strings.Replace(field, "type: string", `type: enum
    values:
      - {code: a, name: {zh: 甲, en: A}, floor: huge}`, 1)), "x.yaml", "code: a", `floor "huge"`},
		{"min above max",
			one(item + strings.Replace(field, "type: string", "type: decimal\n    min: 5\n    max: 1", 1)), "x.yaml", "min: 5", "min 5 is greater than max 1"},
		{"a negative max_len",
			one(item + field + "    max_len: -1\n"), "x.yaml", "max_len:", "max_len must be >= 0"},
		{"term on a field that is not a date",
			one(item + field + "    term: true\n"), "x.yaml", "term: true", "term is allowed only on date fields"},
		{"an until_field that is not a date",
			one(strings.Replace(item, "display:\n", "display:\n  until_field: decision_no\n", 1)), "x.yaml", "until_field:", `until_field "decision_no" must name a date field`},
		{"a subject column clashing with a field",
			one(item + "    national: CF_WSH\nsubject: {name: CF_WSH}\n"), "x.yaml", "subject:", "subject.name CF_WSH is already the national code of field decision_no"},
		{"a value of the wrong type, naming its line",
			one(strings.Replace(item, "{min_months: 3,", "{min_months: three,", 1)), "x.yaml", "general:", "cannot unmarshal"},
		{"a YAML syntax error, naming its line",
			one(item + "version: [\n"), "x.yaml", "", "did not find expected"},
		{"a sequence element that is not an item",
			one("- " + indent(item) + "- just text\n"), "x.yaml", "- just text", "item 2 is not a mapping"},
		{"a file of a bare scalar",
			one("hello\n"), "x.yaml", "hello", "one item (a mapping) or a sequence of items"},
		{"an empty file",
			one("# nothing\n"), "x.yaml", "", "no items"},
		{"two documents in a file",
			one(item + "---\n" + item), "x.yaml", "---", "one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			var src string
			for _, f := range tt.files {
				fsys[f.name] = &fstest.MapFile{Data: []byte(f.data)}
				if f.name == tt.file {
					src = f.data
				}
			}
			_, err := Load(fsys)
			le, ok := errors.AsType[*LoadError](err)
			if !ok {
				t.Fatalf("Load = %v, want a *LoadError", err)
			}
			for _, p := range le.Problems {
				if p.File == tt.file && strings.Contains(p.Message, tt.msg) &&
					(tt.at == "" || p.Line == lineOf(t, src, tt.at)) {
					return
				}
			}
			want := tt.file
			if tt.at != "" {
				want = fmt.Sprintf("%s:%d", tt.file, lineOf(t, src, tt.at))
			}
			t.Errorf("no problem at %s with %q; got:\n%v", want, tt.msg, err)
		})
	}
}

func TestLoadReportsAllProblemsAtOnce(t *testing.T) {
	bad1 := strings.Replace(item, "subject_type: person", "subject_type: company", 1)
	bad2 := strings.Replace(strings.Replace(item, "TEST", "TEST_TWO", 1), "version: \"1\"", "version: \"\"", 1)
	src := "- " + indent(bad1) + "- " + indent(bad2)
	_, err := Load(fstest.MapFS{"two.yaml": {Data: []byte(src)}})
	le, ok := errors.AsType[*LoadError](err)
	if !ok {
		t.Fatalf("Load = %v, want a *LoadError", err)
	}
	want := []Problem{
		{File: "two.yaml", Line: 4, Message: `subject_type "company" must be one of: person`},
		{File: "two.yaml", Line: lineOf(t, src, `version: ""`), Message: "version is required"},
	}
	if !slices.Equal(le.Problems, want) {
		t.Errorf("problems =\n%v\nwant\n%v", le.Problems, want)
	}
	wantText := "two.yaml:4: subject_type \"company\" must be one of: person\n" +
		fmt.Sprintf("two.yaml:%d: version is required", want[1].Line)
	if err.Error() != wantText {
		t.Errorf("Error() =\n%s\nwant\n%s", err, wantText)
	}
	if !errors.Is(err, errs.Invalid) {
		t.Error("errors.Is(err, errs.Invalid) = false")
	}
	if errs.KindOf(err) != errs.Invalid {
		t.Errorf("errs.KindOf = %s, want invalid", errs.KindOf(err))
	}
}

func TestLoadDirNamesFilesUnderDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte(strings.Replace(item, "version: \"1\"\n", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDir(dir)
	le, ok := errors.AsType[*LoadError](err)
	if !ok || len(le.Problems) != 1 || le.Problems[0].File != filepath.Join(dir, "bad.yaml") {
		t.Errorf("LoadDir = %v, want one problem in %s", err, filepath.Join(dir, "bad.yaml"))
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadDir(missing dir) = nil error")
	}
}

func TestLoadEmptyFS(t *testing.T) {
	if _, err := Load(fstest.MapFS{}); !errors.Is(err, errs.Invalid) {
		t.Errorf("Load(empty) = %v, want invalid", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(item))
	f.Add([]byte("- " + indent(item) + "- x\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("a: &a {b: *a}\n"))
	f.Add([]byte("code: X\nfields: [{name: a, values: [{<<: {code: x}}]}]\n"))
	if data, err := fs.ReadFile(catalogfs.Items(), "XZCF.yaml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(fstest.MapFS{"f.yaml": {Data: data}})
		if err != nil {
			if _, ok := errors.AsType[*LoadError](err); !ok {
				t.Fatalf("Load = %T %v, want a *LoadError", err, err)
			}
			return
		}
		if c == nil || len(c.Items) == 0 {
			t.Fatal("Load returned no catalog and no error")
		}
	})
}

func mustLoadShipped(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(catalogfs.Items())
	if err != nil {
		t.Fatalf("Load(shipped): %v", err)
	}
	return c
}

// fieldPairs lists an item's fields as "name NATIONAL".
func fieldPairs(it *Item) []string {
	out := make([]string, len(it.Fields))
	for i, f := range it.Fields {
		out[i] = f.Name + " " + f.National
	}
	return out
}

// indent indents every line but the first by two spaces, to make an item a
// sequence element.
func indent(s string) string {
	return strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// lineOf returns the 1-based line of the first occurrence of text in src.
func lineOf(t *testing.T, src, text string) int {
	t.Helper()
	i := strings.Index(src, text)
	if i < 0 {
		t.Fatalf("%q not in the source", text)
	}
	return strings.Count(src[:i], "\n") + 1
}
