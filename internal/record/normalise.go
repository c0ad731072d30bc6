package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
)

// Limits on free input, so that a record cannot carry a file's worth of text.
const (
	maxRefLen     = 128
	maxNameLen    = 64
	maxStringLen  = 500
	maxTextLen    = 10000
	maxListValues = 32
)

// Thresholds are the default fine thresholds for persons (DOMAIN.md section 4),
// in yuan, used where a catalog item's amount rule leaves them zero.
type Thresholds struct {
	MinorMax   float64 // up to this amount, with nothing heavier, is minor
	SeriousMin float64 // this amount or more is serious
}

// DefaultThresholds are the shipped defaults: 200 yuan and 200,000 yuan.
var DefaultThresholds = Thresholds{MinorMax: 200, SeriousMin: 200000}

// normaliser checks one submission against its item. It collects every
// problem instead of stopping at the first.
type normaliser struct {
	item       *catalog.Item
	today      clock.Date
	thresholds Thresholds
	p          errs.Problems
}

// normalise returns the validated content of s, the ref it is to be stored
// under, or an Invalid error listing every problem.
func (n *normaliser) normalise(s Submission) (Content, string, error) {
	it := n.item
	c := Content{Item: it.Code, Fields: map[string]any{}}
	sub := s.Subject
	decided := strings.TrimSpace(s.DecidedOn)

	// Columns of a national export that describe the person, not the record.
	subjectCols := map[string]*string{}
	if it.Subject.Name != "" {
		subjectCols[it.Subject.Name] = &sub.Name
	}
	if it.Subject.IDType != "" {
		subjectCols[it.Subject.IDType] = &sub.IDType
	}
	if it.Subject.IDNumber != "" {
		subjectCols[it.Subject.IDNumber] = &sub.IDNumber
	}
	if it.Subject.DecidedOn != "" {
		subjectCols[it.Subject.DecidedOn] = &decided
	}

	given := map[string]string{} // platform field name -> key it was given under
	invalid := map[string]bool{} // platform field names given with a bad value (already reported)
	for _, key := range sortedKeys(s.Fields) {
		raw := s.Fields[key]
		path := "fields." + key
		if dst, ok := subjectCols[key]; ok {
			v, ok := scalarText(raw)
			if !ok {
				n.p.Add(path, "type", "must be text")
				continue
			}
			if *dst == "" {
				*dst = v
			} else if v != "" && v != *dst {
				n.p.Add(path, "mismatch", "%s differs from the value given outside fields", key)
			}
			continue
		}
		if key == it.Subject.Category && key != "" {
			continue // party category (自然人): accepted, implied by the item's subject type
		}
		f, ok := it.Field(key)
		if !ok {
			n.p.Add(path, "unknown_field", "item %s has no field %s", it.Code, echo(key))
			continue
		}
		national := key != f.Name
		v, ok := n.value(path, f, raw, national)
		if !ok {
			invalid[f.Name] = true
		}
		if !ok || v == nil {
			continue
		}
		if prev, dup := given[f.Name]; dup {
			if !equalValue(c.Fields[f.Name], v) {
				n.p.Add(path, "mismatch", "%s and %s are the same field with different values", prev, key)
			}
			continue
		}
		given[f.Name] = key
		c.Fields[f.Name] = v
	}
	for _, f := range it.Fields {
		if f.Required && c.Fields[f.Name] == nil {
			if !invalid[f.Name] {
				name := f.Name
				if f.National != "" {
					name += " (" + f.National + ")"
				}
				n.p.Add("fields."+f.Name, "required", "%s is required for item %s", name, it.Code)
			}
		}
	}

	// The person.
	var doc identity.Document
	doc, c.Name = n.subject(sub)
	c.IDType, c.IDNumber = string(doc.Type), doc.Number

	// The decision date: a real day, not in the future.
	if decided == "" {
		n.p.Add("decided_on", "required", "the decision date is required (YYYY-MM-DD)")
	} else if d, err := parseDay(decided); err != nil {
		n.p.Add("decided_on", "format", "%v", err)
	} else if d.After(n.today) {
		n.p.Add("decided_on", "future", "the decision date %s is in the future", d)
	} else {
		c.DecidedOn = d
		if age, ok := doc.AgeOn(d); ok && it.MinAge > 0 && age < it.MinAge {
			n.p.Add("subject.id_number", "minor", "the person was %d on the decision date; %s may not hold records of anyone under %d", age, it.Code, it.MinAge)
		}
	}

	c.Severity = n.severity(strings.TrimSpace(s.Severity), c.Fields)

	ref := strings.TrimSpace(s.Ref)
	if ref == "" {
		if dn, ok := c.Fields["decision_no"].(string); ok {
			ref = dn
		} else {
			n.p.Add("ref", "required", "ref is required when the record has no decision number")
		}
	}
	if utf8.RuneCountInString(ref) > maxRefLen || hasControl(ref) {
		n.p.Add("ref", "format", "ref must be at most %d printable characters", maxRefLen)
	}
	return c, ref, n.p.Err("the record is not valid")
}

func (n *normaliser) subject(sub Subject) (doc identity.Document, name string) {
	t, ok := identity.ParseType(sub.IDType)
	if !ok {
		names := make([]string, 0, len(identity.Types()))
		for _, t := range identity.Types() {
			names = append(names, string(t))
		}
		n.p.Add("subject.id_type", "unknown", "unknown document type %s (known: %s)", echo(sub.IDType), strings.Join(names, ", "))
	} else {
		d, err := identity.Parse(t, sub.IDNumber, n.today)
		var prob *identity.Problem
		switch {
		case errors.As(err, &prob):
			n.p.Add("subject.id_number", prob.Code, "%s", prob.Message)
		case err != nil:
			n.p.Add("subject.id_number", "invalid", "%v", err)
		default:
			doc = d
		}
	}
	name = strings.TrimSpace(sub.Name)
	switch {
	case name == "":
		n.p.Add("subject.name", "required", "the person's name is required")
	case utf8.RuneCountInString(name) > maxNameLen || hasControl(name) || !utf8.ValidString(name):
		n.p.Add("subject.name", "format", "the name must be at most %d printable characters", maxNameLen)
	}
	return doc, name
}

// severity derives the severity of a negative record and checks a stated one
// against the floor the rules set (DOMAIN.md section 4).
func (n *normaliser) severity(stated string, fields map[string]any) catalog.Severity {
	it := n.item
	st := catalog.Severity(stated)
	if stated != "" && st.Rank() < 0 {
		n.p.Add("severity", "unknown", "severity must be minor, general or serious, not %s", echo(stated))
		return ""
	}
	if it.Polarity != catalog.Negative {
		if stated != "" {
			n.p.Add("severity", "not_applicable", "severity applies only to negative information; %s is %s", it.Code, it.Polarity)
		}
		return ""
	}
	rule := it.Severity
	if rule.Fixed != "" {
		if stated != "" && st != rule.Fixed {
			n.p.Add("severity", "contradicts_rules", "records of %s are always %s", it.Code, rule.Fixed)
		}
		return rule.Fixed
	}
	floor, because := catalog.Severity(""), ""
	raise := func(s catalog.Severity, why string) {
		if s.Rank() > floor.Rank() {
			floor, because = s, why
		}
	}
	if rule.FloorField != "" {
		if f, ok := it.Field(rule.FloorField); ok {
			for _, code := range valueCodes(fields[f.Name]) {
				for _, v := range f.Values {
					if v.Code == code && v.Floor != "" {
						raise(v.Floor, fmt.Sprintf("%s %s", f.Name, code))
					}
				}
			}
		}
	}
	if a := rule.Amount; a != nil {
		if amt, ok := fields[a.Field].(json.Number); ok {
			minorMax, seriousMin := a.MinorMax, a.SeriousMin
			if minorMax == 0 {
				minorMax = n.thresholds.MinorMax
			}
			if seriousMin == 0 {
				seriousMin = n.thresholds.SeriousMin
			}
			x, _ := new(big.Rat).SetString(string(amt))
			switch {
			case x.Cmp(new(big.Rat).SetFloat64(seriousMin)) >= 0:
				raise(catalog.Serious, fmt.Sprintf("%s %s is at least %s", a.Field, amt, fmtAmount(seriousMin)))
			case x.Cmp(new(big.Rat).SetFloat64(minorMax)) > 0:
				raise(catalog.General, fmt.Sprintf("%s %s is over %s", a.Field, amt, fmtAmount(minorMax)))
			default:
				raise(catalog.Minor, fmt.Sprintf("%s %s", a.Field, amt))
			}
		}
	}
	if stated != "" {
		if st.Rank() < floor.Rank() {
			n.p.Add("severity", "below_floor", "severity %s contradicts the rules: %s makes it at least %s", st, because, floor)
		}
		return st
	}
	if floor == "" {
		if rule.Default != "" {
			return rule.Default
		}
		return catalog.General
	}
	return floor
}

// echo quotes a submitted value for an error message without repeating
// personal data: a value carrying a long run of digits (an identity number
// in the wrong column) is masked, and long values are cut.
func echo(s string) string {
	run := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			if run++; run >= 8 {
				return strconv.Quote(identity.MaskNumber(errs.Clip(s, 24)))
			}
		} else {
			run = 0
		}
	}
	return strconv.Quote(errs.Clip(s, 40))
}

func fmtAmount(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// value converts one field value to its canonical form: string, json.Number,
// bool, []string (enum lists) or a date string. It reports problems itself.
func (n *normaliser) value(path string, f *catalog.Field, raw any, national bool) (any, bool) {
	if raw == nil {
		return nil, true
	}
	if f.Type == catalog.EnumList {
		return n.enumList(path, f, raw)
	}
	s, ok := scalarText(raw)
	if !ok {
		n.p.Add(path, "type", "must be a single %s value", f.Type)
		return nil, false
	}
	if s == "" {
		return nil, true // an empty cell is an absent value
	}
	switch f.Type {
	case catalog.String, catalog.LongText:
		limit := f.MaxLen
		if limit == 0 {
			limit = maxStringLen
			if f.Type == catalog.LongText {
				limit = maxTextLen
			}
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			n.p.Add(path, "encoding", "is not valid UTF-8 text (or holds a NUL character)")
			return nil, false
		}
		if utf8.RuneCountInString(s) > limit {
			n.p.Add(path, "too_long", "must be at most %d characters", limit)
			return nil, false
		}
		return s, true
	case catalog.Date:
		d, err := parseDay(s)
		if err != nil {
			n.p.Add(path, "format", "%v", err)
			return nil, false
		}
		return d.String(), true
	case catalog.Decimal, catalog.Integer:
		return n.number(path, f, s, national)
	case catalog.Bool:
		switch strings.ToLower(s) {
		case "true", "1", "y", "yes", "是":
			return true, true
		case "false", "0", "n", "no", "否":
			return false, true
		}
		n.p.Add(path, "type", "must be true or false, not %s", echo(s))
		return nil, false
	case catalog.Enum:
		if code, ok := enumCode(f, s); ok {
			return code, true
		}
		n.p.Add(path, "not_allowed", "%s is not one of: %s", echo(s), strings.Join(allowed(f), ", "))
		return nil, false
	}
	n.p.Add(path, "type", "field type %s is not supported", f.Type)
	return nil, false
}

func (n *normaliser) number(path string, f *catalog.Field, s string, national bool) (any, bool) {
	x, ok := new(big.Rat).SetString(strings.ReplaceAll(s, ",", ""))
	if !ok || strings.ContainsAny(s, "/eE") || len(s) > 40 {
		n.p.Add(path, "type", "must be a number, not %s", echo(s))
		return nil, false
	}
	if national && f.NationalScale > 0 {
		x.Mul(x, new(big.Rat).SetFloat64(f.NationalScale))
	}
	if f.Type == catalog.Integer && !x.IsInt() {
		n.p.Add(path, "type", "must be a whole number, not %s", echo(s))
		return nil, false
	}
	if f.Min != nil && x.Cmp(new(big.Rat).SetFloat64(*f.Min)) < 0 {
		n.p.Add(path, "too_small", "must be at least %s", fmtAmount(*f.Min))
		return nil, false
	}
	if f.Max != nil && x.Cmp(new(big.Rat).SetFloat64(*f.Max)) > 0 {
		n.p.Add(path, "too_large", "must be at most %s", fmtAmount(*f.Max))
		return nil, false
	}
	return json.Number(ratString(x)), true
}

// ratString renders x with up to 6 decimals and no trailing zeros.
func ratString(x *big.Rat) string {
	s := x.FloatString(6)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

var listSep = regexp.MustCompile(`[、，,;；|]`)

func (n *normaliser) enumList(path string, f *catalog.Field, raw any) (any, bool) {
	var parts []string
	switch v := raw.(type) {
	case []any:
		for _, e := range v {
			s, ok := scalarText(e)
			if !ok {
				n.p.Add(path, "type", "must be a list of texts")
				return nil, false
			}
			parts = append(parts, s)
		}
	case []string:
		parts = v
	default:
		s, ok := scalarText(raw)
		if !ok {
			n.p.Add(path, "type", "must be a list or text separated by 、 ， ; or ；")
			return nil, false
		}
		parts = listSep.Split(s, -1)
	}
	var codes []string
	bad := false
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		code, ok := enumCode(f, p)
		if !ok {
			n.p.Add(path, "not_allowed", "%s is not one of: %s", echo(p), strings.Join(allowed(f), ", "))
			bad = true
			continue
		}
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	if bad {
		return nil, false
	}
	if len(codes) > maxListValues {
		n.p.Add(path, "too_long", "at most %d values", maxListValues)
		return nil, false
	}
	if len(codes) == 0 {
		return nil, true
	}
	return codes, true
}

func enumCode(f *catalog.Field, s string) (string, bool) {
	for _, v := range f.Values {
		if s == v.Code || s == v.Name.Zh || strings.EqualFold(s, v.Name.En) || slices.Contains(v.Aliases, s) {
			return v.Code, true
		}
	}
	return "", false
}

func allowed(f *catalog.Field) []string {
	out := make([]string, len(f.Values))
	for i, v := range f.Values {
		out[i] = v.Code
	}
	return out
}

func valueCodes(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	}
	return nil
}

// scalarText renders a JSON scalar as trimmed text.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return string(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case nil:
		return "", true
	}
	return "", false
}

func equalValue(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// looseDay matches the date forms found in departments' exports and
// spreadsheets: 2026/5/1, 2026.05.01, 2026年5月1日.
var looseDay = regexp.MustCompile(`^(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?$`)

// parseDay accepts YYYY-MM-DD and the YYYYMMDD, YYYY/M/D, YYYY.MM.DD and
// YYYY年M月D日 forms, and the date part of a date-time.
func parseDay(s string) (clock.Date, error) {
	switch {
	case len(s) == 8 && isDigits(s):
		s = s[:4] + "-" + s[4:6] + "-" + s[6:]
	case len(s) > 10 && (s[10] == ' ' || s[10] == 'T') && s[4] == '-':
		s = s[:10] // a date-time from a spreadsheet: the day is what counts
	}
	if m := looseDay.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		s = fmt.Sprintf("%04d-%02d-%02d", y, mo, d)
	}
	return clock.ParseDate(s)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
