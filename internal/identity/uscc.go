package identity

import "strings"

// usccChars are the characters of a unified social credit code (GB 32100):
// digits and upper-case letters without I, O, Z, S and V. A character's index
// is its value.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// NormaliseUSCC trims white space, converts full-width digits and letters to
// ASCII and upper-cases.
func NormaliseUSCC(code string) string { return normalise(code) }

// CheckUSCC checks a unified social credit code (GB 32100) and returns it
// normalised. On failure the error is a *Problem with code "required",
// "length", "format" (a character outside 0123456789ABCDEFGHJKLMNPQRTUWXY) or
// "check_digit"; with check_digit the normalised code is returned too, since
// some early pilot-area codes fail the check and callers may treat that as a
// warning for external feeds.
func CheckUSCC(code string) (string, error) {
	s := []rune(NormaliseUSCC(code))
	if len(s) == 0 {
		return "", problem("required", "unified social credit code is required")
	}
	if len(s) != 18 {
		return "", problem("length", "code has %d characters, expected 18", len(s))
	}
	p := checkChars(s, func(i int, r rune) string {
		return want(strings.ContainsRune(usccChars, r), "a digit or a letter other than I, O, Z, S, V")
	})
	if p != nil {
		return "", p
	}
	n := string(s)
	sum := 0
	for i, w := range usccWeights {
		sum += strings.IndexByte(usccChars, n[i]) * w
	}
	if c := usccChars[(31-sum%31)%31]; n[17] != c {
		return n, problem("check_digit", "check character is %q, expected %q", string(n[17]), string(c))
	}
	return n, nil
}
