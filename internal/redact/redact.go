// Package redact masks what may be an identity number in free text: the
// messages the platform hands out, and the purposes, notes and reasons
// people type, which are stored in clear and shown to others. A resident
// identity number is 18 characters (15 for the old ones), all digits but
// perhaps a final X; nothing in such a text needs to carry one whole.
package redact

import (
	"iter"
	"strings"
	"unicode/utf8"
)

// A Run is a run of digits in a text, the way an identity number may be
// written there: ASCII or full-width digits, perhaps a final X (x, Ｘ,
// ｘ), perhaps grouped 6-8-4 with single spaces or hyphens
// (110105 19491231 002X).
type Run struct {
	Digits string // the run's characters as ASCII digits, the last perhaps X
	pos    []int  // the byte offset of each of them in the text
}

// Runs yields the runs of digits in s, each once, left to right, except
// those inside a run of idLength or more hex digits (an id or a hash).
func Runs(s string) iter.Seq[Run] {
	return func(yield func(Run) bool) {
		for i := 0; i < len(s); {
			if end := hexRunEnd(s, i); end-i >= idLength {
				i = end
				continue
			}
			r, next := group(s, i)
			if len(r.Digits) == 0 {
				_, w := utf8.DecodeRuneInString(s[i:])
				i += w
				continue
			}
			if len(r.Digits) == 6 && !r.x() { // perhaps 6-8-4
				if r2, n2 := group(s, sep(s, next)); len(r2.Digits) == 8 && !r2.x() {
					if r3, n3 := group(s, sep(s, n2)); len(r3.Digits) == 4 && sep(s, next) > next && sep(s, n2) > n2 {
						r = Run{Digits: r.Digits + r2.Digits + r3.Digits, pos: append(append(r.pos, r2.pos...), r3.pos...)}
						next = n3
					}
				}
			}
			if !yield(r) {
				return
			}
			i = next
		}
	}
}

// x reports whether the run ends in X.
func (r Run) x() bool { return strings.HasSuffix(r.Digits, "X") }

// group reads the digits from i, and a final X, and returns them and where
// they end; none when s[i] is not a digit.
func group(s string, i int) (Run, int) {
	var r Run
	var b []byte
	for i < len(s) {
		c, w := utf8.DecodeRuneInString(s[i:])
		d, ok := digit(c)
		if !ok {
			if len(b) > 0 && (c == 'X' || c == 'x' || c == 'Ｘ' || c == 'ｘ') {
				b, r.pos = append(b, 'X'), append(r.pos, i)
				i += w
			}
			break
		}
		b, r.pos = append(b, d), append(r.pos, i)
		i += w
	}
	r.Digits = string(b)
	return r, i
}

// sep returns the offset past a single space or hyphen at i, or i.
func sep(s string, i int) int {
	if i < len(s) && (s[i] == ' ' || s[i] == '-') {
		return i + 1
	}
	return i
}

func digit(c rune) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return byte(c), true
	case c >= '０' && c <= '９':
		return byte(c - '０' + '0'), true
	}
	return 0, false
}

// Numbers masks every run (see Runs) of 15 to 18 characters: it keeps the
// run's first six and last four, like identity.MaskNumber, and masks each
// character between them with one *. Text without such a run is returned
// as it is.
func Numbers(s string) string {
	var masked []int // byte offsets of the characters to mask
	for r := range Runs(s) {
		if n := len(r.Digits); n >= 15 && n <= 18 {
			masked = append(masked, r.pos[6:n-4]...)
		}
	}
	if masked == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, p := range masked {
		_, w := utf8.DecodeRuneInString(s[p:])
		b.WriteString(s[last:p])
		b.WriteByte('*')
		last = p + w
	}
	b.WriteString(s[last:])
	return b.String()
}

// idLength is the length of the platform's ids (package ids); a run of hex
// digits this long or longer is an id or a hash, not an identity number.
const idLength = 32

// hexRunEnd returns the end of the run of ASCII hex digits at i.
func hexRunEnd(s string, i int) int {
	for i < len(s) && isHex(s[i]) {
		i++
	}
	return i
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }
