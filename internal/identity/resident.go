package identity

import (
	"strconv"
	"time"

	"pubcredit/internal/clock"
)

// provinces are the province-level codes GB/T 2260 has used, including 71
// (Taiwan), 81 (Hong Kong), 82 (Macao) and 83 (Taiwan residence permits).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// hmtPrefixes are the first six digits of residence permits of Hong Kong,
// Macao and Taiwan residents.
var hmtPrefixes = map[string]bool{"810000": true, "820000": true, "830000": true}

var earliestBirth = clock.Date{Year: 1900, Month: time.January, Day: 1}

// parseResident checks an 18-character number of the GB 11643 layout
// (resident ID, HMT residence permit, foreigner permanent residence ID), or a
// 15-digit legacy resident number, which is upgraded first.
func parseResident(t DocType, s []rune, today clock.Date) (Document, *Problem) {
	if len(s) == 15 && t == ResidentID {
		if p := checkChars(s, func(i int, r rune) string { return want(isDigit(r), "a digit") }); p != nil {
			return Document{}, p
		}
		s = []rune(upgrade(string(s)))
	}
	if len(s) != 18 {
		if t == ResidentID {
			return Document{}, problem("length", "number has %d characters, expected 18 (or 15 for a legacy number)", len(s))
		}
		return Document{}, problem("length", "number has %d characters, expected 18", len(s))
	}
	p := checkChars(s, func(i int, r rune) string {
		switch {
		case i == 0 && t == ForeignPR:
			return want(r == '9', `"9"`)
		case i == 17:
			return want(isDigit(r) || r == 'X', `a digit or "X"`)
		}
		return want(isDigit(r), "a digit")
	})
	if p != nil {
		return Document{}, p
	}
	n := string(s) // ASCII from here on

	// A resident_id with an HMT permit prefix is an HMT residence permit:
	// departments often send permits as 身份证, so the type is corrected rather
	// than the number rejected.
	if t == ResidentID && hmtPrefixes[n[:6]] {
		t = HMTPermit
	}
	switch t {
	case HMTPermit:
		if !hmtPrefixes[n[:6]] {
			return Document{}, problem("region", "prefix %q is not 810000, 820000 or 830000", n[:6])
		}
	case ForeignPR:
		// 2023 layout: 9, the issuing province, a 3-digit nationality code.
		if !provinces[n[1:3]] {
			return Document{}, problem("region", "issuing province code %q (characters 2-3) is not a province-level code", n[1:3])
		}
	default:
		if !provinces[n[:2]] {
			return Document{}, problem("region", "region code %q (characters 1-2) is not a province-level code", n[:2])
		}
	}

	birth, ok := parseBirth(n[6:14])
	switch {
	case !ok:
		return Document{}, problem("birth_date", "birth date %s is not a calendar date", n[6:14])
	case birth.Before(earliestBirth):
		return Document{}, problem("birth_date", "birth date %s is before 1900-01-01", birth)
	case !today.IsZero() && birth.After(today):
		return Document{}, problem("future_birth", "birth date %s is after %s", birth, today)
	}
	if c := checkChar(n[:17]); n[17] != c {
		return Document{}, problem("check_digit", "check character is %q, expected %q", string(n[17]), string(c))
	}

	sex := "female"
	if (n[16]-'0')%2 == 1 {
		sex = "male"
	}
	return Document{Type: t, Number: n, Birth: birth, Sex: sex}, nil
}

// upgrade turns a 15-digit legacy number (6 region, YYMMDD, 3 sequence) into
// 18 characters: "19" inserted before the year, check character appended.
func upgrade(n15 string) string {
	n17 := n15[:6] + "19" + n15[6:]
	return n17 + string(checkChar(n17))
}

var checkWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChar returns the ISO 7064 MOD 11-2 check character of 17 ASCII digits.
func checkChar(n17 string) byte {
	sum := 0
	for i, w := range checkWeights {
		sum += int(n17[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// parseBirth parses 8 ASCII digits YYYYMMDD as a real calendar date.
func parseBirth(s string) (clock.Date, bool) {
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[4:6])
	d, _ := strconv.Atoi(s[6:8])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return clock.Date{}, false
	}
	return clock.Date{Year: y, Month: time.Month(m), Day: d}, true
}
