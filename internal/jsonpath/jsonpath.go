// Package jsonpath names places in JSON text the way error details name a
// field: "results[0].measure". encoding/json reports where it failed by
// byte offset, or by a field name without array indexes, and says nothing
// of a key given twice; these walks find the full path.
package jsonpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
		wantKey bool     // in an object, a key comes next
		keys    []string // in an object, the keys read (few: a slice beats a map)
	}
	var st []frame
	path := func() ([]Step, bool) {
		steps := make([]Step, len(st))
		for i, f := range st {
			steps[i] = f.Step
		}
		return steps, true
	}
	same := func(a, b string) bool { return a == b }
	if fold {
		same = strings.EqualFold
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
				if slices.ContainsFunc(f.keys, func(k string) bool { return same(k, key) }) {
					tok = Repeated(key)
				}
				f.keys = append(f.keys, key)
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
	return Find(body, fold, func(tok json.Token, _ int64, isKey bool) bool { _, r := tok.(Repeated); return isKey && r })
}
