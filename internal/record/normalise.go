package record

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
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
	scratch    *scratch // nil: allocate
}

// scratch is memory one normaliser after another reuses, for a batch.
type scratch struct {
	keys    []string
	given   []string // by index into item.Fields: the key its value was given under
	invalid []bool   // by index into item.Fields: given with a bad value (already reported)
}

// normalise returns the validated content of s, the ref it is to be stored
// under, or an Invalid error listing every problem.
func (n *normaliser) normalise(s Submission) (Content, string, error) {
	it := n.item
	c := Content{Item: it.Code, Fields: make(map[string]any, len(s.Fields))}
	sub := s.Subject
	decided := strings.TrimSpace(s.DecidedOn)

	sc := n.scratch
	if sc == nil {
		sc = &scratch{}
	}
	keys := sc.keys[:0]
	for k := range s.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	sc.keys = keys
	given := slices.Grow(sc.given[:0], len(it.Fields))[:len(it.Fields)]
	clear(given)
	invalid := slices.Grow(sc.invalid[:0], len(it.Fields))[:len(it.Fields)]
	clear(invalid)
	sc.given, sc.invalid = given, invalid

	for _, key := range keys {
		raw := s.Fields[key]
		// Columns of a national export that describe the person, not the
		// record (the last of two columns with one code counts).
		var dst *string
		switch key {
		case "":
		case it.Subject.DecidedOn:
			dst = &decided
		case it.Subject.IDNumber:
			dst = &sub.IDNumber
		case it.Subject.IDType:
			dst = &sub.IDType
		case it.Subject.Name:
			dst = &sub.Name
		}
		if dst != nil {
			v, ok := scalarText(raw)
			if !ok {
				n.p.Add(fieldPath(key), "type", "must be text")
				continue
			}
			if *dst == "" {
				*dst = v
			} else if v != "" && v != *dst {
				n.p.Add(fieldPath(key), "mismatch", "%s differs from the value given outside fields", key)
			}
			continue
		}
		if key == it.Subject.Category && key != "" {
			continue // party category (自然人): accepted, implied by the item's subject type
		}
		i, ok := fieldIndex(it, key)
		if !ok {
			n.p.Add(fieldPath(key), "unknown_field", "item %s has no field %s", it.Code, Echo(key))
			continue
		}
		f := &it.Fields[i]
		national := key != f.Name
		v, ok := n.value(key, f, raw, national)
		if !ok {
			invalid[i] = true
		}
		if !ok || v == nil {
			continue
		}
		if prev := given[i]; prev != "" {
			if !equalValue(c.Fields[f.Name], v) {
				n.p.Add(fieldPath(key), "mismatch", "%s and %s are the same field with different values", prev, key)
			}
			continue
		}
		given[i] = key
		c.Fields[f.Name] = v
	}
	for i, f := range it.Fields {
		if f.Required && given[i] == "" {
			if !invalid[i] {
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
	} else if !doc.Birth.IsZero() && d.Before(doc.Birth) {
		n.p.Add("decided_on", "before_birth", "the decision date %s is before the person was born (by the birth date in the identity number)", d)
	} else {
		c.DecidedOn = d
		age, ok := doc.AgeOn(d)
		switch {
		case ok && it.MinAge > 0 && age < it.MinAge:
			n.p.Add("subject.id_number", "minor", "the person was %d on the decision date; %s may not hold records of anyone under %d", age, it.Code, it.MinAge)
		case ok && it.MaxAge > 0 && age > it.MaxAge:
			n.p.Add("subject.id_number", "too_old", "the person was %d on the decision date; %s holds records of people of %d at most", age, it.Code, it.MaxAge)
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
	switch {
	case utf8.RuneCountInString(ref) > maxRefLen || hasControl(ref):
		n.p.Add("ref", "format", "ref must be at most %d printable characters", maxRefLen)
	case identity.InText(ref):
		// A ref is the department's key to the record, kept and shown in
		// clear: it must not be the person's number.
		n.p.Add("ref", "identity_number", "ref (or the decision number, when no ref is given) carries an identity number; refs are kept and shown in clear: use the decision number or your own case number")
	}
	return c, ref, PersonFirst(n.p).Err(notValid)
}

// PersonFirst puts the problems with the person (subject, subject.*)
// before the others, each group in its order, and returns p. An error lists
// at most the first 50 problems (errs.Problems.Err): however many a body's
// fields have, the person's are listed. They are few, and they decide
// whether the person may have the record at all (a minor, a wrong identity
// number), yet they are found after the fields they may be read from.
func PersonFirst(p errs.Problems) errs.Problems {
	slices.SortStableFunc(p, func(a, b errs.FieldError) int { return cmp.Compare(personRank(a), personRank(b)) })
	return p
}

func personRank(f errs.FieldError) int {
	if f.Field == "subject" || strings.HasPrefix(f.Field, "subject.") {
		return 0
	}
	return 1
}

func (n *normaliser) subject(sub Subject) (doc identity.Document, name string) {
	t, ok := identity.ParseType(sub.IDType)
	if !ok {
		names := make([]string, 0, len(identity.Types()))
		for _, t := range identity.Types() {
			names = append(names, string(t))
		}
		n.p.Add("subject.id_type", "unknown", "unknown document type %s (known: %s)", Echo(sub.IDType), strings.Join(names, ", "))
	} else {
		d, err := identity.Parse(t, sub.IDNumber, n.today)
		if err == nil {
			doc = d
		} else if prob, ok := errors.AsType[*identity.Problem](err); ok {
			n.p.Add("subject.id_number", prob.Code, "%s", prob.Message)
		} else {
			n.p.Add("subject.id_number", "invalid", "%v", err)
		}
	}
	name = strings.TrimSpace(sub.Name)
	switch {
	case name == "":
		n.p.Add("subject.name", "required", "the person's name is required")
	case !ValidName(name):
		n.p.Add("subject.name", "format", "%s", NameFormat)
	}
	return doc, name
}

// notValid is the message of a record refused as not valid.
const notValid = "the record is not valid"

// NameFormat says what a person's name may be.
var NameFormat = fmt.Sprintf("the name must be at most %d printable characters, with no digit (is it another column?)", maxNameLen)

// ValidName reports whether a person's name, trimmed, has a valid form. No
// name holds a digit or a numeral: one that does is another column's value (an
// identity number, a date) put in the name's place.
func ValidName(name string) bool {
	return utf8.RuneCountInString(name) <= maxNameLen && !hasControl(name) && utf8.ValidString(name) &&
		!strings.ContainsFunc(name, unicode.IsNumber)
}

// severity derives the severity of a negative record and checks a stated one
// against the floor the rules set (DOMAIN.md section 4).
func (n *normaliser) severity(stated string, fields map[string]any) catalog.Severity {
	it := n.item
	st := catalog.Severity(stated)
	if stated != "" && st.Rank() < 0 {
		n.p.Add("severity", "unknown", "severity must be minor, general or serious, not %s", Echo(stated))
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
	floor, because := catalog.Severity(""), floorReason{}
	raise := func(s catalog.Severity, why floorReason) {
		if s.Rank() > floor.Rank() {
			floor, because = s, why
		}
	}
	byAmount := false // a value without a floor (a fine) is classed by the amount
	if rule.FloorField != "" {
		if f, ok := it.Field(rule.FloorField); ok {
			for _, code := range valueCodes(fields[f.Name]) {
				for _, v := range f.Values {
					switch {
					case v.Code != code:
					case v.Floor != "":
						raise(v.Floor, floorReason{field: f.Name, value: code})
					default:
						byAmount = true
					}
				}
			}
		}
	}
	if a := rule.Amount; a != nil {
		amt, ok := fields[a.Field].(json.Number)
		if !ok && byAmount && stated == "" {
			// A fine of no stated amount is not known to be small: it is
			// classed by the item's default, not as minor.
			raise(orGeneral(rule.Default), floorReason{})
		}
		if ok {
			minorMax, seriousMin := a.MinorMax, a.SeriousMin
			if minorMax == 0 {
				minorMax = n.thresholds.MinorMax
			}
			if seriousMin == 0 {
				seriousMin = n.thresholds.SeriousMin
			}
			switch {
			case compareAmount(amt, seriousMin) >= 0:
				raise(catalog.Serious, floorReason{field: a.Field, value: string(amt), cmp: " is at least ", threshold: seriousMin})
			case compareAmount(amt, minorMax) > 0:
				raise(catalog.General, floorReason{field: a.Field, value: string(amt), cmp: " is over ", threshold: minorMax})
			default:
				raise(catalog.Minor, floorReason{field: a.Field, value: string(amt)})
			}
		}
	}
	if stated != "" {
		if st.Rank() < floor.Rank() {
			n.p.Add("severity", "below_floor", "severity %s contradicts the rules: %s makes it at least %s", st, because.String(), floor)
		}
		return st
	}
	if floor == "" {
		return orGeneral(rule.Default)
	}
	return floor
}

// orGeneral is s, or general when s is empty.
func orGeneral(s catalog.Severity) catalog.Severity {
	if s == "" {
		return catalog.General
	}
	return s
}

// floorReason says what set a severity floor: a value of the floor field,
// or an amount against a threshold. It is put in words only for an error.
type floorReason struct {
	field, value string
	cmp          string // "", " is at least " or " is over " threshold
	threshold    float64
}

func (r floorReason) String() string {
	if r.cmp == "" {
		return r.field + " " + r.value
	}
	return r.field + " " + r.value + r.cmp + fmtAmount(r.threshold)
}

// compareAmount compares a canonical amount (see ratString) with a
// threshold as big.Rat would: -1, 0 or +1.
func compareAmount(amt json.Number, threshold float64) int {
	if x, ok := parseMicros(string(amt)); ok {
		if t, ok := wholeMicros(threshold); ok {
			return cmp.Compare(x, t)
		}
	}
	x, _ := new(big.Rat).SetString(string(amt))
	return x.Cmp(new(big.Rat).SetFloat64(threshold))
}

// Echo quotes a submitted value for an error message without repeating
// personal data: a value carrying a long run of digits (an identity number
// in the wrong column) is masked, and long values are cut.
func Echo(s string) string {
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
func (n *normaliser) value(key string, f *catalog.Field, raw any, national bool) (any, bool) {
	if raw == nil {
		return nil, true
	}
	if f.Type == catalog.EnumList {
		return n.enumList(key, f, raw)
	}
	s, ok := scalarText(raw)
	if !ok {
		n.p.Add(fieldPath(key), "type", "must be a single %s value", f.Type)
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
			n.p.Add(fieldPath(key), "encoding", "is not valid UTF-8 text (or holds a NUL character)")
			return nil, false
		}
		if !PrintableText(s) {
			n.p.Add(fieldPath(key), "format", "holds a character that does not print (a control, zero-width or direction mark)")
			return nil, false
		}
		if utf8.RuneCountInString(s) > limit {
			n.p.Add(fieldPath(key), "too_long", "must be at most %d characters", limit)
			return nil, false
		}
		return sameText(raw, s), true
	case catalog.Date:
		d, err := parseDay(s)
		if err != nil {
			n.p.Add(fieldPath(key), "format", "%v", err)
			return nil, false
		}
		var buf [10]byte
		return sameText(raw, string(appendDate(buf[:0], d))), true
	case catalog.Decimal, catalog.Integer:
		return n.number(key, f, s, national)
	case catalog.Bool:
		switch strings.ToLower(s) {
		case "true", "1", "y", "yes", "是":
			return true, true
		case "false", "0", "n", "no", "否":
			return false, true
		}
		n.p.Add(fieldPath(key), "type", "must be true or false, not %s", Echo(s))
		return nil, false
	case catalog.Enum:
		if code, ok := enumCode(f, s); ok {
			return code, true
		}
		n.p.Add(fieldPath(key), "not_allowed", "%s is not one of: %s", Echo(s), strings.Join(allowed(f), ", "))
		return nil, false
	}
	n.p.Add(fieldPath(key), "type", "field type %s is not supported", f.Type)
	return nil, false
}

func (n *normaliser) number(key string, f *catalog.Field, s string, national bool) (any, bool) {
	if v, ok := quickNumber(f, s, national); ok {
		return v, true
	}
	return n.exactNumber(key, f, s, national)
}

// decimalText reports whether s is a plain decimal number: an optional
// sign, digits and at most one decimal point, then perhaps an exponent of
// one or two digits (5.0E-4, as JSON writers and spreadsheets put small
// amounts). big.Rat would also take Go's other forms (0x10, 0b11, 1_000,
// 3/4), which no department means, and exponents that take it minutes.
func decimalText(s string) bool {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp := strings.TrimPrefix(strings.TrimPrefix(s[i+1:], "-"), "+")
		if len(exp) == 0 || len(exp) > 2 || !isDigits(exp) {
			return false
		}
		s = s[:i]
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	digits, points := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

// exactNumber is number with big.Rat.
func (n *normaliser) exactNumber(key string, f *catalog.Field, s string, national bool) (any, bool) {
	path := fieldPath(key)
	plain := strings.ReplaceAll(s, ",", "")
	x, ok := new(big.Rat).SetString(plain)
	if !ok || !decimalText(plain) || len(s) > 40 {
		n.p.Add(path, "type", "must be a number, not %s", Echo(s))
		return nil, false
	}
	if national && f.NationalScale > 0 {
		x.Mul(x, new(big.Rat).SetFloat64(f.NationalScale))
	}
	if f.Type == catalog.Integer && !x.IsInt() {
		n.p.Add(path, "type", "must be a whole number, not %s", Echo(s))
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

// isListSep reports whether r separates the values of an enum_list field
// given as text.
func isListSep(r rune) bool {
	switch r {
	case '、', '，', ',', ';', '；', '|':
		return true
	}
	return false
}

func (n *normaliser) enumList(key string, f *catalog.Field, raw any) (any, bool) {
	var buf [8]string
	parts := buf[:0]
	switch v := raw.(type) {
	case []any:
		for _, e := range v {
			s, ok := scalarText(e)
			if !ok {
				n.p.Add(fieldPath(key), "type", "must be a list of texts")
				return nil, false
			}
			parts = append(parts, s)
		}
	case []string:
		parts = v
	default:
		s, ok := scalarText(raw)
		if !ok {
			n.p.Add(fieldPath(key), "type", "must be a list or text separated by 、 ， ; or ；")
			return nil, false
		}
		for {
			i := strings.IndexFunc(s, isListSep)
			if i < 0 {
				parts = append(parts, s)
				break
			}
			_, w := utf8.DecodeRuneInString(s[i:])
			parts = append(parts, s[:i])
			s = s[i+w:]
		}
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
			n.p.Add(fieldPath(key), "not_allowed", "%s is not one of: %s", Echo(p), strings.Join(allowed(f), ", "))
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
		n.p.Add(fieldPath(key), "too_long", "at most %d values", maxListValues)
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

// sameText returns raw when it is the string s already, sparing a copy of s
// in a new interface value.
func sameText(raw any, s string) any {
	if r, ok := raw.(string); ok && r == s {
		return raw
	}
	return s
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
// ParseDay reads a day as records accept it: YYYY-MM-DD, YYYYMMDD,
// YYYY/M/D, 2026年3月1日, or a date-time whose day counts.
func ParseDay(s string) (clock.Date, error) { return parseDay(strings.TrimSpace(s)) }

func parseDay(s string) (clock.Date, error) {
	if d, ok := isoDay(s); ok {
		return d, nil
	}
	return parseLooseDay(s)
}

// parseLooseDay is parseDay without its fast path for YYYY-MM-DD.
func parseLooseDay(s string) (clock.Date, error) {
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
	d, err := clock.ParseDate(s)
	if err != nil {
		return d, fmt.Errorf("%s is not a date (YYYY-MM-DD)", Echo(s))
	}
	return d, nil
}

// isoDay parses a valid YYYY-MM-DD day, the form nearly every date comes
// in, without the regular expression parseDay tries the others with; ok is
// false for anything else.
func isoDay(s string) (d clock.Date, ok bool) {
	if len(s) != len(clock.DateLayout) || s[4] != '-' || s[7] != '-' ||
		!isDigits(s[:4]) || !isDigits(s[5:7]) || !isDigits(s[8:]) {
		return clock.Date{}, false
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := time.Month(s[5]-'0')*10 + time.Month(s[6]-'0')
	day := int(s[8]-'0')*10 + int(s[9]-'0')
	if m < time.January || m > time.December || day < 1 || day > time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return clock.Date{}, false
	}
	return clock.Date{Year: y, Month: m, Day: day}, true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// DoesNotPrint is the message of a problem with a text that PrintableText
// or PrintableLine refuses.
const DoesNotPrint = "holds a character that does not print"

// PrintableLine reports whether s, one line of text (a document number),
// holds only characters that print, and no line or paragraph separator.
func PrintableLine(s string) bool { return utf8.ValidString(s) && !hasControl(s) }

// PrintableText reports whether s, free text (a note, a basis), holds only
// characters that print, line breaks and tabs apart.
func PrintableText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\r' && r != '\t' && hidden(r) {
			return false
		}
	}
	return true
}

// hasControl reports whether s, one line of text (a name, a ref, a
// document number), holds a character that does not print or that breaks
// the line (U+2028, U+2029).
func hasControl(s string) bool {
	for _, r := range s {
		if hidden(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// hidden reports whether r does not print: a C0 or C1 control, or a format
// character that prints nothing or reorders what follows (U+200B, U+202E,
// U+FEFF...).
func hidden(r rune) bool {
	switch {
	case r < 0x80:
		return r < 0x20 || r == 0x7f
	case r >= 0x2070 && r < 0xfeff: // CJK and most scripts: no control or format character in between
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// fieldPath is the path of a field in a FieldError.
func fieldPath(key string) string { return "fields." + key }

// fieldIndex is it.Field as an index into it.Fields.
func fieldIndex(it *catalog.Item, name string) (int, bool) {
	for i := range it.Fields {
		if f := &it.Fields[i]; f.Name == name || (f.National != "" && f.National == name) {
			return i, true
		}
	}
	return 0, false
}
