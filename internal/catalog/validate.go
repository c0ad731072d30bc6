package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

var (
	codePattern     = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,31}$`)
	nationalPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	snakeCase       = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
)

// DecisionField is the field every item has: the document or case number.
// A record submitted without a ref takes it as its ref.
const DecisionField = "decision_no"

// Forbidden data (DOMAIN.md section 3): the law never allows collecting a
// person's religion, genes, fingerprints, blood type, illness or medical
// history. English terms match whole words of a field's name or label.
var (
	forbiddenWords = []string{"religion", "religious", "gene", "genes", "genetic",
		"fingerprint", "fingerprints", "blood_type", "illness", "illnesses",
		"disease", "diseases", "medical"}
	forbiddenZh = []string{"宗教", "基因", "指纹", "血型", "疾病", "病史"}
)

// listSeparators split the text of an enum_list field, so no spelling of its
// values may contain one.
const listSeparators = "、，,;；"

// periodBounds are the display bounds of DOMAIN.md section 4, in months.
var periodBounds = map[Severity]struct{ min, max int }{
	Minor:   {0, 3},
	General: {3, 12},
	Serious: {12, 36},
}

// checker collects problems.
type checker struct{ problems []Problem }

func (c *checker) add(p Problem, format string, args ...any) {
	p.Message = fmt.Sprintf(format, args...)
	c.problems = append(c.problems, p)
}

// validate checks every item and the catalog as a whole.
func validate(items []located) []Problem {
	var c checker
	first := map[string]Problem{}
	for _, l := range items {
		code := l.item.Code
		if prev, dup := first[code]; dup && code != "" {
			c.add(l.at("code"), "duplicate item code %s: also at %s:%d", code, prev.File, prev.Line)
		} else {
			first[code] = l.at("code")
		}
		c.item(l)
	}
	return c.problems
}

func (c *checker) item(l located) {
	it := &l.item
	switch {
	case it.Code == "":
		c.add(l.at("code"), "code is required")
	case !codePattern.MatchString(it.Code):
		c.add(l.at("code"), "code %q must match %s", it.Code, codePattern)
	}
	c.text(l.at("name"), "name", it.Name)
	categories := make([]string, len(Categories))
	for i, k := range Categories {
		categories[i] = k.Code
	}
	choice(c, l.at("category"), "category", it.Category, categories...)
	choice(c, l.at("subject_type"), "subject_type", it.SubjectType, "person")
	choice(c, l.at("polarity"), "polarity", it.Polarity, Basic, Positive, Negative)
	if len(it.Providers) == 0 || slices.ContainsFunc(it.Providers, blank) {
		c.add(l.at("providers"), "providers must name at least one department, and no blank one")
	}
	if blank(it.LegalBasis) {
		c.add(l.at("legal_basis"), "legal_basis is required")
	}
	if blank(it.Version) {
		c.add(l.at("version"), "version is required")
	}
	choice(c, l.at("disclosure"), "disclosure", it.Disclosure, PublicByLaw, OnApplication, NotPublic)
	choice(c, l.at("sharing"), "sharing", it.Sharing, Unconditional, Conditional, NotShared)
	if it.PublicationBasis != "" && it.Disclosure != PublicByLaw {
		c.add(l.at("publication_basis"), "publication_basis is allowed only when disclosure is public")
	}
	c.fields(l)
	c.severity(l)
	c.display(l)
	c.subject(l)
}

// choice reports a missing v, or a v not among allowed.
func choice[T ~string](c *checker, p Problem, what string, v T, allowed ...T) {
	switch {
	case v == "":
		c.add(p, "%s is required", what)
	case !slices.Contains(allowed, v):
		list := make([]string, len(allowed))
		for i, a := range allowed {
			list[i] = string(a)
		}
		c.add(p, "%s %q must be one of: %s", what, v, strings.Join(list, ", "))
	}
}

func (c *checker) text(p Problem, what string, t Text) {
	if blank(t.Zh) || blank(t.En) {
		c.add(p, "%s needs both zh and en", what)
	}
}

func (c *checker) fields(l located) {
	it := &l.item
	if len(it.Fields) == 0 {
		c.add(l.at("fields"), "at least one field is required")
		return
	}
	names, nationals := map[string]bool{}, map[string]bool{}
	terms := 0
	for i, f := range it.Fields {
		at := func(path ...any) Problem { return l.at(append([]any{"fields", i}, path...)...) }
		switch {
		case !snakeCase.MatchString(f.Name):
			c.add(at("name"), "field name %q must be snake_case", f.Name)
		case names[f.Name]:
			c.add(at("name"), "duplicate field name %q", f.Name)
		}
		names[f.Name] = true
		if f.National != "" {
			switch {
			case !nationalPattern.MatchString(f.National):
				c.add(at("national"), "field %s: national code %q must match %s", f.Name, f.National, nationalPattern)
			case nationals[f.National]:
				c.add(at("national"), "field %s: duplicate national code %s", f.Name, f.National)
			}
			nationals[f.National] = true
		}
		c.text(at("label"), "field "+f.Name+": label", f.Label)
		if term := forbidden(f); term != "" {
			c.add(at("name"), "field %s: %q is data that may never be collected (religion, genes, fingerprints, blood type, illness, medical history)", f.Name, term)
		}
		numeric := f.Type == Decimal || f.Type == Integer
		enum := f.Type == Enum || f.Type == EnumList
		choice(c, at("type"), "field "+f.Name+": type", f.Type, String, LongText, Date, Decimal, Integer, Bool, Enum, EnumList)
		switch {
		case enum && len(f.Values) == 0:
			c.add(at("type"), "field %s: an %s field needs values", f.Name, f.Type)
		case !enum && len(f.Values) > 0:
			c.add(at("values"), "field %s: only enum and enum_list fields have values", f.Name)
		}
		c.values(l, i)
		if f.MaxLen < 0 || (f.MaxLen > 0 && f.Type != String && f.Type != LongText) {
			c.add(at("max_len"), "field %s: max_len must be >= 0, and only on string and text fields", f.Name)
		}
		if (f.Min != nil || f.Max != nil) && !numeric {
			c.add(at("min"), "field %s: min and max apply only to decimal and integer fields", f.Name)
		}
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			c.add(at("min"), "field %s: min %v is greater than max %v", f.Name, *f.Min, *f.Max)
		}
		if f.NationalScale < 0 || (f.NationalScale > 0 && (!numeric || f.National == "")) {
			c.add(at("national_scale"), "field %s: national_scale must be >= 0, and only on a numeric field with a national code", f.Name)
		}
		if f.Term {
			terms++
			if f.Type != Date {
				c.add(at("term"), "field %s: term is allowed only on date fields", f.Name)
			}
		}
	}
	if terms > 1 {
		c.add(l.at("fields"), "at most one field may be the term field")
	}
	if f, ok := fieldNamed(it, DecisionField); !ok || !f.Required || f.Type != String {
		c.add(l.at("fields"), "every item needs a required string field %s (the document or case number)", DecisionField)
	}
}

// values checks the allowed values of field i. Every spelling (code, names,
// aliases) must lead to one value only, compared without case as imports do.
func (c *checker) values(l located, i int) {
	it := &l.item
	f := &it.Fields[i]
	codes := map[string]bool{}
	owner := map[string]string{} // folded spelling -> value code
	for j, v := range f.Values {
		at := func(path ...any) Problem { return l.at(append([]any{"fields", i, "values", j}, path...)...) }
		switch {
		case !snakeCase.MatchString(v.Code):
			c.add(at("code"), "field %s: value code %q must be snake_case", f.Name, v.Code)
		case codes[v.Code]:
			c.add(at("code"), "field %s: duplicate value code %s", f.Name, v.Code)
			continue
		}
		codes[v.Code] = true
		c.text(at("name"), "field "+f.Name+": value "+v.Code+": name", v.Name)
		if v.Floor != "" && v.Floor.Rank() < 0 {
			c.add(at("floor"), "field %s: value %s: floor %q must be minor, general or serious", f.Name, v.Code, v.Floor)
		}
		if v.OwnTerm && (it.Severity.FloorField != f.Name || !slices.ContainsFunc(it.Fields, func(x Field) bool { return x.Term })) {
			c.add(at("own_term"), "field %s: value %s: own_term needs the field to be severity.floor_field and a date field with term: true", f.Name, v.Code)
		}
		if slices.ContainsFunc(v.Aliases, blank) {
			c.add(at("aliases"), "field %s: value %s: blank alias", f.Name, v.Code)
		}
		for _, s := range append([]string{v.Code, v.Name.Zh, v.Name.En}, v.Aliases...) {
			if f.Type == EnumList && strings.ContainsAny(s, listSeparators) {
				c.add(at(), "field %s: value %s: %q contains a list separator (%s)", f.Name, v.Code, s, listSeparators)
			}
			key := strings.ToLower(strings.TrimSpace(s))
			if o, ok := owner[key]; ok && o != v.Code {
				c.add(at(), "field %s: value %s: %q already means %s", f.Name, v.Code, s, o)
			} else if key != "" {
				owner[key] = v.Code
			}
		}
	}
}

func (c *checker) severity(l located) {
	it := &l.item
	if it.MinAge < 0 || it.MinAge > 30 {
		c.add(l.at("min_age"), "min_age %d must be between 0 and 30", it.MinAge)
	}
	if it.MaxAge < 0 || it.MaxAge > 150 || (it.MaxAge > 0 && it.MaxAge < it.MinAge) {
		c.add(l.at("max_age"), "max_age %d must be between min_age (%d) and 150, or 0 for no limit", it.MaxAge, it.MinAge)
	}
	s := it.Severity
	if it.Polarity != Negative {
		if s != (SeverityRule{}) {
			c.add(l.at("severity"), "only negative items have a severity rule")
		}
		return
	}
	for _, x := range []struct {
		key string
		v   Severity
	}{{"default", s.Default}, {"fixed", s.Fixed}} {
		if x.v != "" && x.v.Rank() < 0 {
			c.add(l.at("severity", x.key), "severity.%s %q must be minor, general or serious", x.key, x.v)
		}
	}
	if s.Fixed != "" && (s.Default != "" || s.FloorField != "" || s.Amount != nil) {
		c.add(l.at("severity", "fixed"), "a fixed severity leaves no room for default, floor_field or amount")
	}
	if s.FloorField != "" {
		if f, ok := fieldNamed(it, s.FloorField); !ok || (f.Type != Enum && f.Type != EnumList) {
			c.add(l.at("severity", "floor_field"), "floor_field %q must name an enum or enum_list field", s.FloorField)
		}
	}
	if a := s.Amount; a != nil {
		if f, ok := fieldNamed(it, a.Field); !ok || f.Type != Decimal {
			c.add(l.at("severity", "amount", "field"), "amount.field %q must name a decimal field", a.Field)
		}
		if a.MinorMax < 0 || a.SeriousMin < 0 || (a.MinorMax > 0 && a.SeriousMin > 0 && a.MinorMax >= a.SeriousMin) {
			c.add(l.at("severity", "amount"), "amount thresholds must be >= 0 (0: from configuration) and minor_max below serious_min")
		}
	}
}

func (c *checker) display(l located) {
	it := &l.item
	d := it.Display
	if it.Polarity == Negative {
		if d.Months != 0 {
			c.add(l.at("display", "months"), "negative items are displayed by severity, not months")
		}
		need := []Severity{General, Serious}
		if it.Severity.Fixed != "" {
			need = []Severity{it.Severity.Fixed}
		}
		for _, s := range []Severity{Minor, General, Serious} {
			p := d.For(s)
			switch {
			case p == nil && slices.Contains(need, s):
				c.add(l.at("display"), "a negative item needs a %s period", s)
			case p != nil && it.Severity.Fixed != "" && s != it.Severity.Fixed:
				c.add(l.at("display", string(s)), "severity is fixed %s, so a %s period never applies", it.Severity.Fixed, s)
			case p != nil:
				c.period(l, s, p)
			}
		}
	} else {
		if d.Minor != nil || d.General != nil || d.Serious != nil {
			c.add(l.at("display"), "only negative items have periods by severity")
		}
		if d.Months < 0 {
			c.add(l.at("display", "months"), "months must be >= 0")
		}
	}
	if d.UntilField != "" {
		if f, ok := fieldNamed(it, d.UntilField); !ok || f.Type != Date {
			c.add(l.at("display", "until_field"), "until_field %q must name a date field", d.UntilField)
		}
	}
}

// period checks p against the bounds of DOMAIN.md section 4.
func (c *checker) period(l located, s Severity, p *Period) {
	b := periodBounds[s]
	at := func(key string) Problem { return l.at("display", string(s), key) }
	if p.MinMonths < b.min {
		c.add(at("min_months"), "display.%s: min_months %d is below %d", s, p.MinMonths, b.min)
	}
	if p.MaxMonths > b.max {
		c.add(at("max_months"), "display.%s: max_months %d is above %d", s, p.MaxMonths, b.max)
	}
	if p.MaxMonths < 0 || p.MinMonths > p.MaxMonths {
		c.add(at("max_months"), "display.%s: max_months %d must be >= 0 and >= min_months %d", s, p.MaxMonths, p.MinMonths)
	}
}

// subject checks the national subject columns: valid codes, each used once,
// none also the national code of a field.
func (c *checker) subject(l located) {
	s := l.item.Subject
	used := map[string]string{}
	for _, f := range l.item.Fields {
		if f.National != "" {
			used[f.National] = "field " + f.Name
		}
	}
	for _, col := range []struct{ key, code string }{
		{"name", s.Name}, {"category", s.Category}, {"id_type", s.IDType},
		{"id_number", s.IDNumber}, {"decided_on", s.DecidedOn},
	} {
		if col.code == "" {
			continue
		}
		at := l.at("subject", col.key)
		if !nationalPattern.MatchString(col.code) {
			c.add(at, "subject.%s %q must match %s", col.key, col.code, nationalPattern)
		}
		if other, ok := used[col.code]; ok {
			c.add(at, "subject.%s %s is already the national code of %s", col.key, col.code, other)
		}
		used[col.code] = "subject." + col.key
	}
}

// forbidden returns the forbidden term f's name or label mentions, or "".
func forbidden(f Field) string {
	for _, s := range []string{f.Name, f.Label.En} {
		words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
		joined := "_" + strings.Join(words, "_") + "_"
		for _, w := range forbiddenWords {
			if strings.Contains(joined, "_"+w+"_") {
				return w
			}
		}
	}
	for _, w := range forbiddenZh {
		if strings.Contains(f.Name+f.Label.Zh+f.Label.En, w) {
			return w
		}
	}
	return ""
}

func fieldNamed(it *Item, name string) (*Field, bool) {
	for i := range it.Fields {
		if it.Fields[i].Name == name {
			return &it.Fields[i], true
		}
	}
	return nil, false
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
