// Package canon writes the canonical JSON text that ledger commitments hash,
// by hand: encoding/json's reflection costs more than the hashing does. What
// it writes MUST stay byte for byte what encoding/json writes for the same
// values, because leaves already stored commit to those bytes.
package canon

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// AppendString appends s as encoding/json writes a string, HTML characters
// escaped. Text that needs no escaping, nearly all of it, is copied; the
// rest is left to encoding/json.
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; plain[c] {
			continue
		} else if c != 0xe2 || strings.HasPrefix(s[i:], "\u2028") || strings.HasPrefix(s[i:], "\u2029") {
			return appendQuoted(b, s)
		}
	}
	if !utf8.ValidString(s) {
		return appendQuoted(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendStrings appends l as encoding/json writes a []string, except that
// nil is written as an empty array, not null.
func AppendStrings(b []byte, l []string) []byte {
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}

// plain marks the bytes encoding/json copies as they are in valid UTF-8
// text. 0xe2 is left out: it starts U+2028 and U+2029, which are escaped.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = true
	}
	for _, c := range []byte{'"', '\\', '<', '>', '&', 0xe2} {
		t[c] = false
	}
	return t
}()

func appendQuoted(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// ParseStrings reads a JSON array of strings as json.Unmarshal reads it
// into a nil []string, reusing dst. It reads the compact form encoding/json
// writes, of strings that need no escaping, itself, and leaves anything
// else to json.Unmarshal; null gives nil.
func ParseStrings(data []byte, dst []string) ([]string, error) {
	if fast, ok := parseCompact(data, dst[:0]); ok {
		return fast, nil
	}
	// Into a new slice: json.Unmarshal leaves an element that is null as
	// it was in the slice it is given.
	var out []string
	err := json.Unmarshal(data, &out)
	return out, err
}

// parseCompact reads data when it is `[]` or `["a","b",...]` with nothing
// escaped, no control character and valid UTF-8, which json.Unmarshal
// reads as the text between the quotes.
func parseCompact(data []byte, dst []string) ([]string, bool) {
	if len(data) < 2 || data[0] != '[' || data[len(data)-1] != ']' {
		return nil, false
	}
	rest := data[1 : len(data)-1]
	for len(rest) > 0 {
		if rest[0] != '"' {
			return nil, false
		}
		end := 1
		for end < len(rest) && rest[end] != '"' {
			if c := rest[end]; c < 0x20 || c == '\\' {
				return nil, false
			}
			end++
		}
		if end == len(rest) || !utf8.Valid(rest[1:end]) {
			return nil, false
		}
		dst = append(dst, string(rest[1:end]))
		rest = rest[end+1:]
		if len(rest) > 0 {
			if rest[0] != ',' || len(rest) == 1 {
				return nil, false
			}
			rest = rest[1:]
		}
	}
	return dst, true
}
