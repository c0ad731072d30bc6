// Package redact masks what may be an identity number in free text: the
// messages the platform hands out, and the purposes, notes and reasons
// people type, which are stored in clear and shown to others. A resident
// identity number is 18 characters (15 for the old ones), all digits but
// perhaps a final X; nothing in such a text needs to carry one whole.
package redact

import (
	"fmt"
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
	groups []int  // where each group of digits begins in Digits, after the first
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

// Typed reports whether the characters i to j (j excluded) are whole
// groups (Whole) laid out the way people break an identity number up:
// groups of one length (the last perhaps shorter: 4-4-4-4-2, one digit at
// a time), 6-8-4, 6-4-4-4 or 3-3-4-4-4 (6-6-3 for the old numbers of 15
// digits); or one or two pieces. Dates, times and amounts in a row make
// pieces of mixed lengths, and are not read as one number.
func (r Run) Typed(i, j int) bool {
	if !r.Whole(i, j) {
		return false
	}
	pieces := r.pieces(i, j)
	if len(pieces) <= 2 {
		return true
	}
	switch fmt.Sprint(pieces) {
	case "[6 8 4]", "[6 4 4 4]", "[3 3 4 4 4]", "[6 6 3]":
		return true
	}
	for _, p := range pieces[1 : len(pieces)-1] {
		if p != pieces[0] {
			return false
		}
	}
	return pieces[len(pieces)-1] <= pieces[0]
}

// pieces returns the lengths of the groups the characters i to j (j
// excluded) fall in, clipped to them: [6 8 4] for 110105 19491231 002X.
func (r Run) pieces(i, j int) []int {
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

// Runs yields the runs of digits in s, left to right, except those inside
// an id or a hash (see isID). A run joins groups of digits however they are
// separated by one to three separators (spaces of any width, hyphens,
// dashes and minus signs, dots, slashes, underscores, commas, semicolons,
// bars, middle dots, 、 and 。, tildes, brackets of every kind, tabs, line
// breaks; not colons, which part the hours and minutes of times): an
// identity number typed in any grouping is one run. So are unrelated
// numbers that merely stand close: read a run across its groups only where
// they are laid out as people type one number (Run.Typed).
func Runs(s string) iter.Seq[Run] {
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

// Numbers masks what may be an identity number, unchecked: a run (see
// Runs) of 15 or more characters typed in one piece (it may also be a bank
// card's), or of 15 to 18 typed in groups as one number (Run.Typed). It
// keeps the first six characters and the last four, like
// identity.MaskNumber, and masks each between them with one *. Text
// without such a run is returned as it is.
func Numbers(s string) string {
	if !MayHold(s) {
		return s
	}
	var masked []int
	mask := func(r Run, i, j int) { masked = append(masked, r.Offsets(i+6, j-4)...) }
	for r := range Runs(s) {
		if n := len(r.Digits); n >= 15 && n <= 18 && r.Typed(0, n) {
			mask(r, 0, n)
			continue
		}
		for i, j := range r.spans() {
			if j-i >= 15 {
				mask(r, i, j)
			}
		}
	}
	return Star(s, masked)
}

// spans yields the start and end of each group of the run.
func (r Run) spans() iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		from := 0
		for _, g := range r.groups {
			if !yield(from, g) {
				return
			}
			from = g
		}
		yield(from, len(r.Digits))
	}
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
