// Package redact masks what may be an identity number in free text: the
// messages the platform hands out, and the purposes, notes and reasons
// people type, which are stored in clear and shown to others. A resident
// identity number is 18 characters (15 for the old ones), all digits but
// perhaps a final X; nothing in such a text needs to carry one whole.
package redact

import (
	"iter"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Run is a run of digits in a text, the way an identity number may be
// written there: ASCII or full-width digits, perhaps a final X (x, Ｘ, ｘ).
type Run struct {
	Digits string // the run's characters as ASCII digits, the last perhaps X
	pos    []int  // the byte offset of each of them in the text
	groups []int  // where each group of digits begins in Digits, after the first (LooseRuns)
}

// Whole reports whether the characters i to j (j excluded) make whole
// groups of the run as written, or lie within one group: a number typed
// in groups is its groups, and one run on with other digits lies within
// a group. A date, a time and an amount standing in a row are groups of
// their own, and no identity number is read across them.
func (r Run) Whole(i, j int) bool {
	if r.OneGroup(i, j) {
		return true
	}
	start := func(k int) bool { return k == 0 || k == len(r.Digits) || slices.Contains(r.groups, k) }
	return start(i) && start(j)
}

// Pieces returns the lengths of the groups the characters i to j (j
// excluded) fall in, clipped to them: [6 8 4] for 110105 19491231 002X.
func (r Run) Pieces(i, j int) []int {
	var out []int
	from := i
	for _, g := range r.groups {
		if g > i && g < j {
			out = append(out, g-from)
			from = g
		}
	}
	return append(out, j-from)
}

// OneGroup reports whether the characters i to j (j excluded) were typed
// in one piece, in one group of the run.
func (r Run) OneGroup(i, j int) bool {
	at := func(k int) int { // the group digit k is in
		n, _ := slices.BinarySearch(r.groups, k+1)
		return n
	}
	return at(i) == at(j-1)
}

// Offsets returns the byte offsets in the text of the run's characters
// from index i to j (j excluded).
func (r Run) Offsets(i, j int) []int { return r.pos[i:j] }

// Runs yields the runs of digits in s, left to right: digits that follow
// one another, or that are grouped 6-8-4 with single spaces or hyphens
// (110105 19491231 002X), except those inside an id or a hash (see
// isID).
func Runs(s string) iter.Seq[Run] { return runs(s, false) }

// LooseRuns yields the runs of digits in s as Runs does, but joins groups
// of digits however they are separated by one to three separators (spaces
// of any width, hyphens, dashes and minus signs, dots, slashes,
// underscores, commas, semicolons, bars, middle dots, 、 and 。, tildes,
// brackets of every kind, tabs, line breaks; not colons, which part the
// hours and minutes of times): an identity number typed in any grouping
// is one run. So are unrelated numbers that merely stand close: the caller
// reads only whole groups across them (Run.Whole) and checks what it finds
// (identity.InText).
func LooseRuns(s string) iter.Seq[Run] { return runs(s, true) }

func runs(s string, loose bool) iter.Seq[Run] {
	return func(yield func(Run) bool) {
		hexEnd := 0 // the end of the run of hex digits i is in, once looked at
		for i := 0; i < len(s); {
			if i >= hexEnd {
				if hexEnd = hexRunEnd(s, i); isID(s[i:hexEnd]) {
					i = hexEnd
					continue
				}
				hexEnd = max(hexEnd, i+1)
			}
			r, next := group(s, i)
			if len(r.Digits) == 0 {
				_, w := utf8.DecodeRuneInString(s[i:])
				i += w
				continue
			}
			if loose {
				for !r.x() {
					after := separators(s, next)
					if after == next {
						break
					}
					g, n := group(s, after)
					if len(g.Digits) == 0 {
						if c, w := utf8.DecodeRuneInString(s[after:]); isX(c) { // 0 0 2 X
							r = Run{Digits: r.Digits + "X", pos: append(r.pos, after), groups: append(r.groups, len(r.Digits))}
							next = after + w
						}
						break
					}
					r = Run{Digits: r.Digits + g.Digits, pos: append(r.pos, g.pos...), groups: append(r.groups, len(r.Digits))}
					next = n
				}
			} else if len(r.Digits) == 6 && !r.x() { // perhaps 6-8-4
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
			if len(b) > 0 && isX(c) {
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

// separators returns the offset past one to three separators at i, or i.
func separators(s string, i int) int {
	for range 3 {
		c, w := utf8.DecodeRuneInString(s[i:])
		if i >= len(s) || !isSeparator(c) {
			break
		}
		i += w
	}
	return i
}

func isSeparator(c rune) bool {
	return unicode.IsSpace(c) || unicode.Is(unicode.Pd, c) || unicode.Is(unicode.Ps, c) || unicode.Is(unicode.Pe, c) ||
		strings.ContainsRune("./_,;|·・•‧、。~<>−－．／＿，；｜～＜＞", c)
}

func isX(c rune) bool { return c == 'X' || c == 'x' || c == 'Ｘ' || c == 'ｘ' }

func digit(c rune) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return byte(c), true
	case c >= '０' && c <= '９':
		return byte(c - '０' + '0'), true
	}
	return 0, false
}

// Numbers masks every run (see Runs) of 15 or more characters, which may
// be an identity number or a bank card's: it keeps the run's first six and
// last four, like identity.MaskNumber, and masks each character between
// them with one *. Text without such a run is returned as it is.
func Numbers(s string) string { return Star(s, NumberOffsets(s)) }

// NumberOffsets returns the byte offsets of the characters Numbers masks.
func NumberOffsets(s string) []int {
	if !MayHold(s) {
		return nil
	}
	var masked []int
	for r := range Runs(s) {
		if n := len(r.Digits); n >= 15 {
			masked = append(masked, r.Offsets(6, n-4)...)
		}
	}
	return masked
}

// Star returns s with the character at each of the byte offsets replaced
// by one *; offsets must fall on the start of characters.
func Star(s string, offsets []int) string {
	if len(offsets) == 0 {
		return s
	}
	offsets = slices.Clone(offsets)
	slices.Sort(offsets)
	offsets = slices.Compact(offsets)
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, p := range offsets {
		_, w := utf8.DecodeRuneInString(s[p:])
		b.WriteString(s[last:p])
		b.WriteByte('*')
		last = p + w
	}
	b.WriteString(s[last:])
	return b.String()
}

// MayHold reports whether s has at least 15 digits, ASCII or full-width:
// fewer cannot make an identity number, nor a run Numbers masks. It is
// the quick answer for the many texts that hold none.
func MayHold(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			n++
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] >= 0x90 && s[i+2] <= 0x99: // ０-９
			n++
			i += 2
		}
	}
	return n >= 15
}

// isID reports whether a run of hex digits is an id (package ids: 32) or
// a SHA-256 hash (64), not digits that may hold an identity number: it has
// that length and a letter (all digits, it is a number run on).
func isID(hex string) bool {
	return (len(hex) == 32 || len(hex) == 64) && strings.IndexFunc(hex, unicode.IsLetter) >= 0
}

// hexRunEnd returns the end of the run of ASCII hex digits at i.
func hexRunEnd(s string, i int) int {
	for i < len(s) && isHex(s[i]) {
		i++
	}
	return i
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }
