// Package identity validates, normalises and masks the identity documents of
// natural persons, and checks the codes of organisations.
//
// Resident identity numbers follow GB 11643 (18 characters: region, birth date,
// sequence and a check character computed with ISO 7064 MOD 11-2); the
// residence permits of Hong Kong, Macao and Taiwan residents and the 2023
// foreigner permanent residence ID card use the same layout and check. Legacy
// 15-digit resident numbers are upgraded to 18. Passports and travel permits
// have no check character and are checked by format only. Organisation codes
// are unified social credit codes under GB 32100.
//
// Rejections are *Problem values carrying a stable code and an English message
// that never repeats the whole number.
package identity

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"pubcredit/internal/clock"
	"pubcredit/internal/redact"
)

// DocType is the type of an identity document.
type DocType string

const (
	ResidentID  DocType = "resident_id"                 // 居民身份证, 18 digits (15-digit legacy numbers are upgraded)
	HMTPermit   DocType = "hmt_residence_permit"        // 港澳台居民居住证: 18 digits, prefix 810000 / 820000 / 830000, same check
	ForeignPR   DocType = "foreign_permanent_residence" // 外国人永久居留身份证 (2023 format): 18 characters starting with 9, same check
	Passport    DocType = "passport"                    // 护照: no check digit, format rules only
	HKMacaoPass DocType = "hk_macao_pass"               // 港澳居民来往内地通行证: H or M + 8 or 10 digits
	TaiwanPass  DocType = "taiwan_pass"                 // 台湾居民来往大陆通行证: 8 digits (or 10 with suffix)
)

var allTypes = []DocType{ResidentID, HMTPermit, ForeignPR, Passport, HKMacaoPass, TaiwanPass}

// Types lists every DocType (for error messages).
func Types() []DocType { return append([]DocType(nil), allTypes...) }

// typeNames maps the lower-cased names departments send to a DocType.
var typeNames = map[string]DocType{
	"":            ResidentID,
	"身份证":         ResidentID,
	"居民身份证":       ResidentID,
	"港澳居民居住证":     HMTPermit,
	"台湾居民居住证":     HMTPermit,
	"港澳台居民居住证":    HMTPermit,
	"外国人永久居留身份证":  ForeignPR,
	"外国人永久居留证":    ForeignPR,
	"护照":          Passport,
	"中国护照":        Passport,
	"外国护照":        Passport,
	"港澳居民来往内地通行证": HKMacaoPass,
	"台湾居民来往大陆通行证": TaiwanPass,
}

func init() {
	for _, t := range allTypes {
		typeNames[string(t)] = t
	}
}

// ParseType maps what a department sends as document type to a DocType: the
// codes of the constants and their Chinese names, case-insensitive and
// trimmed. An empty string means ResidentID. ok is false when s is unknown.
func ParseType(s string) (DocType, bool) {
	t, ok := typeNames[strings.ToLower(strings.TrimSpace(s))]
	return t, ok
}

// Document is a validated, normalised identity document.
type Document struct {
	Type   DocType
	Number string     // normalised: trimmed, full-width digits/letters converted to ASCII, upper-case, 15-digit upgraded to 18
	Birth  clock.Date // zero when the document does not carry it
	Sex    string     // "male", "female" or "" when unknown
}

// AgeOn returns the whole years of age on day: a person is N from the day of
// the Nth birthday (someone born on 29 February turns a year older on 1 March
// in common years). ok is false when Birth is zero.
func (d Document) AgeOn(day clock.Date) (int, bool) {
	if d.Birth.IsZero() {
		return 0, false
	}
	age := day.Year - d.Birth.Year
	if day.Month < d.Birth.Month || day.Month == d.Birth.Month && day.Day < d.Birth.Day {
		age--
	}
	return age, true
}

// Problem is why a number was rejected: a stable machine code and a human
// message. Codes: "required", "length", "format", "region", "birth_date",
// "future_birth", "check_digit", "type".
type Problem struct{ Code, Message string }

func (p *Problem) Error() string { return p.Message }

func problem(code, format string, args ...any) *Problem {
	return &Problem{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Parse validates and normalises a number of the given type. today is the
// decision or check day, used for "birth date not in the future"; a zero today
// skips that check. When several things are wrong the first of required,
// length, format, region, birth_date, future_birth, check_digit is reported.
// On failure the error is a *Problem.
func Parse(t DocType, number string, today clock.Date) (Document, error) {
	d, p := parse(t, number, today)
	if p != nil {
		return Document{}, p
	}
	return d, nil
}

func parse(t DocType, number string, today clock.Date) (Document, *Problem) {
	if !slices.Contains(allTypes, t) {
		return Document{}, problem("type", "unknown document type %q, expected one of %s", string(t), typeList())
	}
	s := []rune(normalise(number))
	if len(s) == 0 {
		return Document{}, problem("required", "the identity document number (id_number) is required")
	}
	switch t {
	case ResidentID, HMTPermit, ForeignPR:
		return parseResident(t, s, today)
	case Passport:
		return parseOther(t, s, "5 to 20", len(s) >= 5 && len(s) <= 20, func(i int, r rune) string {
			return want(isDigit(r) || r >= 'A' && r <= 'Z', "a letter or a digit")
		})
	case HKMacaoPass:
		return parseOther(t, s, "9 or 11 (H or M and 8 or 10 digits)", len(s) == 9 || len(s) == 11, func(i int, r rune) string {
			if i == 0 {
				return want(r == 'H' || r == 'M', `"H" or "M"`)
			}
			return want(isDigit(r), "a digit")
		})
	default: // TaiwanPass
		return parseOther(t, s, "8 or 10", len(s) == 8 || len(s) == 10, func(i int, r rune) string {
			return want(isDigit(r), "a digit")
		})
	}
}

// parseOther checks a number that carries neither birth date nor check
// character: its length, then each character with expect, which returns what
// was expected at index i or "" when r is fine there.
func parseOther(t DocType, s []rune, lengths string, lengthOK bool, expect func(i int, r rune) string) (Document, *Problem) {
	if !lengthOK {
		return Document{}, problem("length", "number has %d characters, expected %s", len(s), lengths)
	}
	if p := checkChars(s, expect); p != nil {
		return Document{}, p
	}
	if t == Passport && !strings.ContainsFunc(string(s), isDigit) {
		return Document{}, problem("format", "passport number has no digit")
	}
	return Document{Type: t, Number: string(s)}, nil
}

// checkChars returns a "format" problem for the first character that expect
// rejects.
func checkChars(s []rune, expect func(i int, r rune) string) *Problem {
	for i, r := range s {
		if w := expect(i, r); w != "" {
			return problem("format", "character %d is %s, expected %s", i+1, describe(r), w)
		}
	}
	return nil
}

func want(ok bool, what string) string {
	if ok {
		return ""
	}
	return what
}

func describe(r rune) string {
	switch {
	case r == unicode.ReplacementChar:
		return "not valid text"
	case unicode.IsSpace(r):
		return "a space"
	case unicode.IsControl(r):
		return "a control character"
	}
	return strconv.Quote(string(r))
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func typeList() string {
	names := make([]string, len(allTypes))
	for i, t := range allTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// normalise trims white space (including the full-width space), converts
// full-width digits and letters to ASCII and upper-cases ASCII letters. Any
// other character is kept (invalid UTF-8 becomes U+FFFD) for the format check
// to reject.
func normalise(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			r = r - '０' + '0'
		case r >= 'Ａ' && r <= 'Ｚ':
			r = r - 'Ａ' + 'A'
		case r >= 'ａ' && r <= 'ｚ':
			r = r - 'ａ' + 'A'
		case r >= 'a' && r <= 'z':
			r = r - 'a' + 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// daysIn returns the number of days of month m in year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// InText reports whether s carries a resident identity number, however
// written (redact.Runs: full-width, grouped with any separators, run
// on with other digits): 15 digits standing alone, or 18 characters of a
// run (digits, the 18th perhaps X), that make a valid number (region,
// birth date, check character). A case number of as many digits is no
// identity number unless it passes all of these, which few do.
func InText(s string) bool {
	if !redact.MayHold(s) {
		return false
	}
	for r := range redact.Runs(s) {
		if len(numbersIn(r, true)) > 0 {
			return true
		}
	}
	return false
}

// MaskText masks the identity numbers in a text people typed and others
// will read, however written (see InText), those with a wrong check
// character too, keeping their first six and last four characters. Other
// numbers, a case number of 18 digits, stay as they are.
func MaskText(s string) string {
	if !redact.MayHold(s) {
		return s
	}
	var masked []int
	for r := range redact.Runs(s) {
		for _, at := range numbersIn(r, false) {
			n := 18
			if len(r.Digits) == 15 {
				n = 15
			}
			masked = append(masked, r.Offsets(at+6, at+n-4)...)
		}
	}
	return redact.Star(s, masked)
}

// numbersIn returns where identity numbers start in a run's digits, read
// in a layout people type (redact.Run.Typed): valid ones, or with strict false also
// those typed in one piece whose only fault is the check character (a
// number mistyped is still the person's; across groups, numbers that
// merely stand in a row pass region and date often enough that the check
// character must be right too).
func numbersIn(r redact.Run, strict bool) []int {
	is := func(d string, tolerant bool) bool {
		_, p := parse(ResidentID, d, clock.Date{})
		return p == nil || tolerant && p.Code == "check_digit"
	}
	d := r.Digits
	if len(d) == 15 && r.Typed(0, 15) && is(d, false) {
		return []int{0}
	}
	var at []int
	for i := 0; i+18 <= len(d); i++ {
		if r.Typed(i, i+18) && is(d[i:i+18], !strict && r.OneGroup(i, i+18)) {
			at = append(at, i)
		}
	}
	return at
}
