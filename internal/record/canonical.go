package record

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"pubcredit/internal/canon"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
)

// The canonical encodings of a record are written by hand rather than by
// encoding/json, whose reflection was a third of the CPU of a batch ingest.
// They MUST stay byte for byte what json.Marshal makes of the same values
// (canonical_test.go pins them): payloads, content hashes, record states and
// ledger leaves already stored depend on them.

// contentJSON is the canonical encoding of a record's content, as
// json.Marshal(c): what is sealed in its payload and hashed into its
// content hash.
//
// names, when not nil, are the names the fields may have, sorted: a record
// of a catalog item has no others, and the fields' keys need not be sorted.
func contentJSON(c Content, names []string) ([]byte, error) {
	return appendContent(make([]byte, 0, 256+64*len(c.Fields)), c, names)
}

// appendContent appends contentJSON(c, names) to b.
func appendContent(b []byte, c Content, names []string) ([]byte, error) {
	b = append(b, `{"item":`...)
	b = canon.AppendString(b, c.Item)
	b = append(b, `,"id_type":`...)
	b = canon.AppendString(b, c.IDType)
	b = append(b, `,"id_number":`...)
	b = canon.AppendString(b, c.IDNumber)
	b = append(b, `,"name":`...)
	b = canon.AppendString(b, c.Name)
	b = append(b, `,"decided_on":"`...)
	b = appendDate(b, c.DecidedOn)
	b = append(b, '"')
	if c.Severity != "" {
		b = append(b, `,"severity":`...)
		b = canon.AppendString(b, string(c.Severity))
	}
	b = append(b, `,"fields":`...)
	if c.Fields == nil {
		return append(b, "null}"...), nil
	}
	b = append(b, '{')
	start, written := len(b), 0
	for _, k := range names {
		v, ok := c.Fields[k]
		if !ok {
			continue
		}
		if written++; written > 1 {
			b = append(b, ',')
		}
		if b, ok = appendField(b, k, v); !ok {
			return json.Marshal(c) // a value of another type, or an invalid number
		}
	}
	if written != len(c.Fields) { // a key not among names: sort them all
		b = b[:start]
		keys := make([]string, 0, len(c.Fields))
		for k := range c.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendField(b, k, c.Fields[k]); !ok {
				return json.Marshal(c)
			}
		}
	}
	return append(b, "}}"...), nil
}

// appendField appends "k":v, reporting false when v is not of a type
// normalise makes.
func appendField(b []byte, k string, v any) ([]byte, bool) {
	b = canon.AppendString(b, k)
	b = append(b, ':')
	return appendFieldValue(b, v)
}

// appendFieldValue appends a field value of one of the types normalise
// makes, reporting false for anything else.
func appendFieldValue(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return canon.AppendString(b, x), true
	case json.Number:
		s := string(x)
		if s == "" {
			s = "0" // as encoding/json writes the zero Number
		}
		if !validNumber(s) {
			return b, false
		}
		return append(b, s...), true
	case bool:
		return strconv.AppendBool(b, x), true
	case []string:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = canon.AppendString(b, e)
		}
		return append(b, ']'), true
	case nil:
		return append(b, "null"...), true
	}
	return b, false
}

// validNumber reports whether s is a JSON number literal.
func validNumber(s string) bool {
	i := 0
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// appendDate appends d as Date.String does.
func appendDate(b []byte, d clock.Date) []byte {
	switch {
	case d.IsZero():
		return b
	case d.Year < 0 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 0 || d.Day > 99:
		return append(b, d.String()...)
	}
	y, m := d.Year, int(d.Month)
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d.Day/10), byte('0'+d.Day%10))
}

// appendState appends StateOf(st), with created and updated the stamps of
// st.CreatedAt and st.UpdatedAt. It returns nil when a revocation time has
// no RFC 3339 form (a year after 9999), as json.Marshal fails then.
func appendState(b []byte, st Stored, created, updated string) []byte {
	var rev []byte
	if st.Revocation != nil {
		r := *st.Revocation
		r.At = r.At.UTC().Truncate(time.Microsecond)
		var err error
		if rev, err = json.Marshal(r); err != nil {
			return nil
		}
	}
	b = append(b, `{"id":`...)
	b = canon.AppendString(b, st.ID)
	b = append(b, `,"dept":`...)
	b = canon.AppendString(b, st.Dept)
	b = append(b, `,"ref":`...)
	b = canon.AppendString(b, st.Ref)
	b = append(b, `,"item":`...)
	b = canon.AppendString(b, st.Item)
	b = append(b, `,"subject_key":"`...)
	b = hex.AppendEncode(b, st.SubjectKey)
	b = append(b, `","version":`...)
	b = strconv.AppendInt(b, int64(st.Version), 10)
	b = append(b, `,"status":`...)
	b = canon.AppendString(b, string(st.Status))
	b = append(b, `,"severity":`...)
	b = canon.AppendString(b, string(st.Severity))
	b = append(b, `,"from":"`...)
	b = appendDate(b, st.Window.From)
	b = append(b, `","earliest_end":"`...)
	b = appendDate(b, st.Window.EarliestEnd)
	b = append(b, `","end":"`...)
	b = appendDate(b, st.Window.End)
	b = append(b, `","public":`...)
	b = strconv.AppendBool(b, st.Window.Public)
	b = append(b, `,"content_hash":"`...)
	b = hex.AppendEncode(b, st.ContentHash)
	b = append(b, `","created_at":`...)
	b = canon.AppendString(b, created)
	b = append(b, `,"updated_at":`...)
	b = canon.AppendString(b, updated)
	b = append(b, `,"revocation":`...)
	if rev == nil {
		return append(b, "null}"...)
	}
	b = append(b, rev...)
	return append(b, '}')
}

// prep is what preparing the submissions of a batch one after another
// reuses. A nil *prep reuses nothing.
type prep struct {
	now      time.Time
	nowStamp string // stamp(now): every time of a new record's row and version
	norm     scratch
	names    map[*catalog.Item][]string // the item's field names, sorted
	buf      []byte                     // for a version's committed content
}

func newPrep(now time.Time) *prep {
	return &prep{now: now, nowStamp: stamp(now), names: map[*catalog.Item][]string{}}
}

// stamp is stamp(t).
func (pr *prep) stamp(t time.Time) string {
	if pr != nil && t.Equal(pr.now) {
		return pr.nowStamp
	}
	return stamp(t)
}

// scratch returns the normaliser's scratch memory, nil to allocate.
func (pr *prep) scratch() *scratch {
	if pr == nil {
		return nil
	}
	return &pr.norm
}

// fieldNames returns it's field names, sorted, nil to sort the fields of
// each record.
func (pr *prep) fieldNames(it *catalog.Item) []string {
	if pr == nil {
		return nil
	}
	names, ok := pr.names[it]
	if !ok {
		names = make([]string, len(it.Fields))
		for i, f := range it.Fields {
			names[i] = f.Name
		}
		slices.Sort(names)
		names = slices.Compact(names)
		pr.names[it] = names
	}
	return names
}

// buffer returns an empty buffer to build temporary bytes in; give it back
// with reuse.
func (pr *prep) buffer() []byte {
	if pr == nil {
		return nil
	}
	return pr.buf[:0]
}

func (pr *prep) reuse(b []byte) {
	if pr != nil {
		pr.buf = b
	}
}
