// Package jsonpath names places in JSON text the way error details name a
// field: "results[0].measure". encoding/json reports where it failed by
// byte offset, or by a field name without array indexes, and says nothing
// of a key given twice; these walks find the full path.
package jsonpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Step is one step of a path: a key of an object or an index of an array.
type Step struct {
	Key   string
	Index int
	Array bool // the step is Index, not Key
}

// Render writes steps as "a.b[2].c".
func Render(steps []Step) string {
	var b strings.Builder
	for i, s := range steps {
		switch {
		case s.Array:
			fmt.Fprintf(&b, "[%d]", s.Index)
		case i > 0:
			b.WriteString("." + s.Key)
		default:
			b.WriteString(s.Key)
		}
	}
	return b.String()
}

// Repeated is the token hit is given for a key its object had already.
type Repeated string

// Where walks the JSON in body token by token and returns the path of the
// first key or value for which hit is true, given the token (a key is a
// string, or Repeated when its object had it already, compared regardless
// of case when fold is true), the offset just past it and whether it is a
// key; "" when none is.
func Where(body []byte, fold bool, hit func(tok json.Token, off int64, isKey bool) bool) string {
	steps, _ := Find(body, fold, hit)
	return Render(steps)
}

// Find is Where returning the steps of the path, and whether hit was true
// anywhere.
func Find(body []byte, fold bool, hit func(tok json.Token, off int64, isKey bool) bool) ([]Step, bool) {
	type frame struct {
		Step
		wantKey bool // in an object, a key comes next
		keys    keySet
	}
	var st []frame
	path := func() ([]Step, bool) {
		steps := make([]Step, len(st))
		for i, f := range st {
			steps[i] = f.Step
		}
		return steps, true
	}
	read := func() { // a value of the innermost frame was read
		if n := len(st); n > 0 {
			if st[n-1].Array {
				st[n-1].Index++
			} else {
				st[n-1].wantKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		off := dec.InputOffset()
		if n := len(st); n > 0 && st[n-1].wantKey {
			if key, ok := tok.(string); ok {
				f := &st[n-1]
				f.Key, f.wantKey = key, false
				tok = key
				if !f.keys.add(key, fold) {
					tok = Repeated(key)
				}
				if hit(tok, off, true) {
					return path()
				}
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if hit(tok, off, false) {
				return path()
			}
			st = append(st, frame{Step: Step{Array: tok == json.Delim('[')}, wantKey: tok == json.Delim('{')})
		case json.Delim('}'), json.Delim(']'):
			st = st[:len(st)-1]
			read()
		default:
			if hit(tok, off, false) {
				return path()
			}
			read()
		}
	}
}

// FirstRepeated returns the path of the first key given twice in one
// object (compared regardless of case when fold is true), and whether
// there is one.
func FirstRepeated(body []byte, fold bool) ([]Step, bool) {
	if distinct(body, fold) {
		return nil, false
	}
	return Find(body, fold, func(tok json.Token, _ int64, isKey bool) bool { _, r := tok.(Repeated); return isKey && r })
}

// distinct reports, from the bytes alone, that no object in body has a key
// twice: every key is ASCII without escapes, and none is given again in its
// object (compared regardless of case when fold is true). False means one
// may be, and Find decides. Every JSON body the platform accepts is walked
// for repeated keys: this pass costs a fraction of Find's token walk.
func distinct(body []byte, fold bool) bool {
	var st []*keySet // nil for an array
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			st = append(st, &keySet{})
		case '[':
			st = append(st, nil)
		case '}', ']':
			if len(st) == 0 {
				return false
			}
			st = st[:len(st)-1]
		case '"':
			j, plain := i+1, true
			for ; j < len(body) && body[j] != '"'; j++ {
				switch {
				case body[j] == '\\':
					plain = false
					j++
				case body[j] >= utf8.RuneSelf:
					plain = false
				}
			}
			if j >= len(body) {
				return false
			}
			s := body[i+1 : j]
			for i = j + 1; i < len(body) && strings.IndexByte(" \t\r\n", body[i]) >= 0; i++ {
			}
			if i == len(body) || body[i] != ':' {
				i-- // a value: the loop reads on after it
				continue
			}
			if len(st) == 0 || st[len(st)-1] == nil || !plain || !st[len(st)-1].add(string(s), fold) {
				return false
			}
		}
	}
	return true
}

// A keySet holds the keys of one object. A few keys are compared one by
// one; many go into a map, so that an object of many keys costs linear
// time, not quadratic.
type keySet struct {
	keys []string
	set  map[string]struct{} // folded when fold is true; nil until keys is full
}

const keySetSmall = 8

// add adds k and reports whether it is new: no key of the set is k
// (regardless of case when fold is true, as strings.EqualFold compares).
func (s *keySet) add(k string, fold bool) bool {
	if s.set == nil && len(s.keys) < keySetSmall {
		for _, have := range s.keys {
			if have == k || fold && strings.EqualFold(have, k) {
				return false
			}
		}
		s.keys = append(s.keys, k)
		return true
	}
	if s.set == nil {
		s.set = make(map[string]struct{}, 2*keySetSmall)
		for _, have := range s.keys {
			s.set[folded(have, fold)] = struct{}{}
		}
	}
	f := folded(k, fold)
	if _, ok := s.set[f]; ok {
		return false
	}
	s.set[f] = struct{}{}
	return true
}

// folded returns k with each rune replaced by the least rune that
// strings.EqualFold takes for the same (its unicode.SimpleFold orbit), so
// that two keys EqualFold holds equal fold to the same string; k itself
// when fold is false.
func folded(k string, fold bool) string {
	if !fold {
		return k
	}
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, k)
}
