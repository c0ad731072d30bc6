package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"pubcredit/internal/errs"
	"pubcredit/internal/jsonpath"
	"pubcredit/internal/record"
)

// maxLine is the longest NDJSON line read; a longer one is a row error.
const maxLine = 1 << 20

// ndjsonReader reads one JSON object a line. An object with a "subject" or
// "fields" key is a record.Submission, read strictly; any other object is
// flat, its keys mapped like the columns of a CSV header.
type ndjsonReader struct {
	br   *bufio.Reader
	item string
	line int
	buf  []byte
	// cols caches what columnKey makes of the keys met so far: a file
	// repeats the same dozen keys on every line.
	cols  map[string]flatKey
	pairs []flatPair // the keys of the line being read
}

// maxCachedKeys bounds ndjsonReader.cols, since a file may give every line
// keys of its own.
const maxCachedKeys = 1000

// flatKey is what a key of a flat object names.
type flatKey struct {
	name    string // the key as given
	key     string // columnKey(name)
	subject bool   // key is a Submission field (ref, subject.name...), not one of Fields
}

func newFlatKey(name string) flatKey {
	key := columnKey(name)
	_, subject := subjectKeys[key]
	return flatKey{name: name, key: key, subject: subject}
}

// flatPair is one key of a flat object and its value.
type flatPair struct {
	flatKey
	v   any
	pos int // the key's place in the object, from 0
}

func newNDJSONReader(r io.Reader, item string) *ndjsonReader {
	return &ndjsonReader{br: bufio.NewReaderSize(r, 64<<10), item: item}
}

func (r *ndjsonReader) Close() error { return nil }

func (r *ndjsonReader) Next() (Row, error) {
	for {
		text, tooLong, err := r.readLine()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("ingest: reading line %d: %w", r.line+1, err)
			}
			return Row{}, err
		}
		r.line++
		if r.line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		if !tooLong && len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var p errs.Problems
		row := Row{Line: r.line, Sub: r.parseLine(text, tooLong, &p)}
		for _, e := range p {
			if e.Code == "repeated" && strings.EqualFold(e.Field, "ref") {
				row.Sub.Ref = "" // its rejection names no ref: which one was meant is unknown
			}
		}
		if row.Sub.Item == "" {
			row.Sub.Item = r.item
		}
		row.Errors = p
		return row, nil
	}
}

// parseLine reads the Submission on one non-blank line.
func (r *ndjsonReader) parseLine(text []byte, tooLong bool, p *errs.Problems) record.Submission {
	if tooLong {
		p.Add("", "too_long", "the line is longer than %d bytes", maxLine)
		return record.Submission{}
	}
	if !utf8.Valid(text) {
		p.Add("", "encoding", "the line is not valid UTF-8")
		return record.Submission{}
	}
	if pairs, repeated, ok := r.scanFlat(text); ok {
		if repeated != nil {
			repeatedFlat(repeated, p)
		}
		return flatSubmission(pairs, p)
	}
	return decodeLine(text, p)
}

// repeatedKey reports a key given twice in one object at path: the decoder,
// and scanFlat as it, keep the last value, and which one the department
// meant is unknown.
func repeatedKey(path string, p *errs.Problems) {
	p.Add(path, "repeated", "is given more than once in the object; give it once")
}

// repeatedFlat reports the key at steps given again in a flat object, named
// by its column as every problem of a flat object is. An empty key is a
// problem of its own (flatSubmission).
func repeatedFlat(steps []jsonpath.Step, p *errs.Problems) {
	key := columnKey(steps[0].Key)
	if key == "" {
		return
	}
	steps[0].Key = fieldPath(key)
	repeatedKey(jsonpath.Render(steps), p)
}

// decodeLine reads the Submission on a line of valid UTF-8 with the generic
// decoder.
func decodeLine(text []byte, p *errs.Problems) record.Submission {
	obj, err := decodeObject(text)
	switch {
	case err != nil:
		p.Add("", "malformed_json", "%v", err)
		return record.Submission{}
	case obj == nil:
		p.Add("", "not_object", "each line must be a JSON object")
		return record.Submission{}
	}
	if isSubmission(obj) {
		// Its keys are read regardless of case, as POST /api/v1/records
		// reads them (encoding/json): "Ref" after "ref" is the key again.
		if steps, repeated := jsonpath.FirstRepeated(text, true); repeated {
			repeatedKey(jsonpath.Render(steps), p)
		}
		return submission(obj, p)
	}
	if steps, repeated := jsonpath.FirstRepeated(text, false); repeated {
		repeatedFlat(steps, p)
	}
	return flatSubmission(sortedPairs(obj), p)
}

// isSubmission reports whether an object is in the form of a
// record.Submission: a key "subject" or "fields", in any case.
func isSubmission(obj map[string]any) bool {
	for k := range obj {
		if submissionKey(k) {
			return true
		}
	}
	return false
}

// The keys of a Submission object and of its subject.
var (
	submissionKeys  = []string{"ref", "item", "decided_on", "severity", "subject", "fields"}
	subjectKeyNames = []string{"id_type", "id_number", "name"}
)

// foldKey returns the name of names that k is regardless of case, as
// encoding/json matches a key to a field, or k when none is.
func foldKey(k string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(k, n) {
			return n
		}
	}
	return k
}

// submissionKey reports whether a key marks an object as a Submission.
func submissionKey(k string) bool {
	return strings.EqualFold(k, "subject") || strings.EqualFold(k, "fields")
}

// readLine returns the next line without its line ending. A line longer
// than maxLine is reported as tooLong, and the rest of it is discarded so
// that reading goes on with the next line. It returns io.EOF when there are
// no more lines.
func (r *ndjsonReader) readLine() (text []byte, tooLong bool, err error) {
	r.buf = r.buf[:0]
	read := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		read = read || len(chunk) > 0
		if !tooLong && len(r.buf)+len(chunk) > maxLine+len("\r\n") {
			tooLong, r.buf = true, r.buf[:0]
		}
		if !tooLong {
			r.buf = append(r.buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && read:
		case err != nil:
			return nil, false, err
		}
		text = bytes.TrimSuffix(bytes.TrimSuffix(r.buf, []byte("\n")), []byte("\r"))
		return text, tooLong || len(text) > maxLine, nil
	}
}

// decodeObject decodes a line holding one JSON value, numbers as
// json.Number. It returns a nil map when the value is not an object.
func decodeObject(text []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value on the line")
	}
	obj, _ := v.(map[string]any)
	return obj, nil
}

// submission reads an object in the form of a record.Submission, its keys
// and its subject's regardless of case as encoding/json reads them: keys
// other than the Submission's are problems.
func submission(obj map[string]any, p *errs.Problems) record.Submission {
	var s record.Submission
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := obj[k]
		switch key := foldKey(k, submissionKeys); key {
		case "ref", "item", "decided_on", "severity":
			setText(&s, key, key, v, p)
		case "subject":
			subj, ok := v.(map[string]any)
			if !ok && v != nil {
				p.Add(key, "type", "must be an object")
			}
			for _, sk := range slices.Sorted(maps.Keys(subj)) {
				switch skey := foldKey(sk, subjectKeyNames); skey {
				case "id_type", "id_number", "name":
					setText(&s, skey, "subject."+skey, subj[sk], p)
				default:
					p.Add("subject."+sk, "unknown_field", "the subject has no key %q", sk)
				}
			}
		case "fields":
			fields, ok := v.(map[string]any)
			if !ok && v != nil {
				p.Add(key, "type", "must be an object")
			}
			s.Fields = fields
		default:
			p.Add(k, "unknown_field", "a submission has no key %q", k)
		}
	}
	return s
}

// sortedPairs returns the keys of a decoded flat object sorted by name.
func sortedPairs(obj map[string]any) []flatPair {
	pairs := make([]flatPair, 0, len(obj))
	for name, v := range obj {
		pairs = append(pairs, flatPair{flatKey: newFlatKey(name), v: v})
	}
	slices.SortFunc(pairs, func(a, b flatPair) int { return strings.Compare(a.name, b.name) })
	return pairs
}

// flatSubmission reads the keys of an object named like the columns of a
// CSV header, sorted by name and each given once. Null and empty-string
// values are absent.
func flatSubmission(pairs []flatPair, p *errs.Problems) record.Submission {
	if len(pairs) > maxColumns {
		p.Add("", "too_many_keys", "the object has %d keys; at most %d are allowed", len(pairs), maxColumns)
		return record.Submission{Fields: map[string]any{}}
	}
	s := record.Submission{Fields: make(map[string]any, len(pairs))}
	for i, kv := range pairs {
		switch {
		case kv.key == "":
			p.Add("", "unnamed_column", "a key is empty")
			continue
		case utf8.RuneCountInString(kv.key) > maxColumnName:
			p.Add("", "too_long", "a key is longer than %d characters", maxColumnName)
			continue
		}
		// The first earlier key with the same column is the one kept: a
		// later one is reported here, and an empty or over-long key
		// cannot equal a good one.
		if j := slices.IndexFunc(pairs[:i], func(e flatPair) bool { return e.key == kv.key }); j >= 0 {
			p.Add(fieldPath(kv.key), "duplicate", "keys %q and %q are both %s", pairs[j].name, kv.name, kv.key)
			continue
		}
		if text, ok := kv.v.(string); kv.v == nil || ok && strings.TrimSpace(text) == "" {
			continue
		}
		if kv.subject {
			setText(&s, kv.key, fieldPath(kv.key), kv.v, p)
		} else {
			s.Fields[kv.key] = kv.v
		}
	}
	return s
}

// setText stores a string, number or null value in the Submission field
// named by key.
func setText(s *record.Submission, key, path string, v any, p *errs.Problems) {
	switch x := v.(type) {
	case nil:
	case string:
		setSubmission(s, key, x)
	case json.Number:
		setSubmission(s, key, string(x))
	default:
		p.Add(path, "type", "must be text")
	}
}

// scanFlat reads a line holding a flat object, the form of a national
// export, without the generic decoder: each value a string, number, boolean,
// null or a list of these. It returns the keys sorted by name, a repeated
// key keeping its last value as the decoder's map does, and the path of
// the first key given again (the one whose second time comes first), as
// jsonpath.FirstRepeated finds it, or nil. ok is false for anything else (a nested
// object, a Submission object, malformed JSON), which decodeObject reads
// and reports on.
//
// text must be valid UTF-8. The values share one copy of the line.
func (r *ndjsonReader) scanFlat(text []byte) (pairs []flatPair, repeated []jsonpath.Step, ok bool) {
	line := string(text)
	i := skipSpace(line, 0)
	if i == len(line) || line[i] != '{' {
		return nil, nil, false
	}
	pairs = r.pairs[:0]
	if i = skipSpace(line, i+1); i < len(line) && line[i] == '}' {
		i++
	} else {
		for {
			var name string
			var v any
			if name, i, ok = scanString(line, i); !ok {
				return nil, nil, false
			}
			if i = skipSpace(line, i); i == len(line) || line[i] != ':' {
				return nil, nil, false
			}
			if v, i, ok = scanValue(line, skipSpace(line, i+1), true); !ok {
				return nil, nil, false
			}
			if submissionKey(name) {
				return nil, nil, false // a Submission object
			}
			pairs = append(pairs, flatPair{r.flatKey(name), v, len(pairs)})
			if i = skipSpace(line, i); i == len(line) {
				return nil, nil, false
			}
			if line[i] == '}' {
				i++
				break
			}
			if line[i] != ',' {
				return nil, nil, false
			}
			i = skipSpace(line, i+1)
		}
	}
	if skipSpace(line, i) != len(line) {
		return nil, nil, false
	}
	slices.SortStableFunc(pairs, func(a, b flatPair) int { return strings.Compare(a.name, b.name) })
	// Sorted stably, a key's times are in the order given: the first key
	// given again is the one whose second time comes first.
	n, times, again := 0, 0, len(pairs)
	for _, kv := range pairs {
		if n > 0 && pairs[n-1].name == kv.name {
			if times++; times == 2 && kv.pos < again {
				repeated, again = []jsonpath.Step{{Key: kv.name}}, kv.pos
			}
			pairs[n-1] = kv // the last of a repeated key wins
			continue
		}
		pairs[n], times = kv, 1
		n++
	}
	r.pairs = pairs[:0] // for the next line, once this one is read
	return pairs[:n], repeated, true
}

// flatKey returns what the key name of a flat object names, from the cache
// when name was met before.
func (r *ndjsonReader) flatKey(name string) flatKey {
	if k, ok := r.cols[name]; ok {
		return k
	}
	k := newFlatKey(strings.Clone(name)) // not a slice of the line
	if r.cols == nil {
		r.cols = map[string]flatKey{}
	}
	if len(r.cols) < maxCachedKeys {
		r.cols[k.name] = k
	}
	return k
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanValue reads the JSON value at s[i:] as the decoder would into an
// any: a string, json.Number, bool, nil or, when list is true, a []any of
// these. It returns the index after it, or ok false for anything else.
func scanValue(s string, i int, list bool) (v any, next int, ok bool) {
	if i == len(s) {
		return nil, 0, false
	}
	switch c := s[i]; {
	case c == '"':
		str, next, ok := scanString(s, i)
		return str, next, ok
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(s, i)
	case strings.HasPrefix(s[i:], "true"):
		return true, i + len("true"), true
	case strings.HasPrefix(s[i:], "false"):
		return false, i + len("false"), true
	case strings.HasPrefix(s[i:], "null"):
		return nil, i + len("null"), true
	case c == '[' && list:
		return scanList(s, i)
	}
	return nil, 0, false
}

// scanString reads the JSON string at s[i:]. A string without escapes is a
// slice of s; one with escapes is decoded by encoding/json.
func scanString(s string, i int) (v string, next int, ok bool) {
	if i == len(s) || s[i] != '"' {
		return "", 0, false
	}
	escaped := false
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			if !escaped {
				return s[i+1 : j], j + 1, true
			}
			v, ok = unquote(s[i : j+1])
			return v, j + 1, ok
		case c == '\\':
			escaped = true
			j++ // the escaped character, checked by Unmarshal
		case c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
}

// unquote decodes a JSON string with escapes. (Apart from scanString, so
// that only this path puts a string on the heap for the decoder to fill.)
func unquote(quoted string) (string, bool) {
	var v string
	if json.Unmarshal([]byte(quoted), &v) != nil {
		return "", false
	}
	return v, true
}

// scanNumber reads the JSON number at s[i:] as a json.Number.
func scanNumber(s string, i int) (v any, next int, ok bool) {
	j := i
	if s[j] == '-' {
		j++
	}
	digits := func() bool {
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j > k
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case !digits():
		return nil, 0, false
	}
	if j < len(s) && s[j] == '.' {
		j++
		if !digits() {
			return nil, 0, false
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if !digits() {
			return nil, 0, false
		}
	}
	return json.Number(s[i:j]), j, true
}

// scanList reads a JSON array of scalars at s[i:] as a []any.
func scanList(s string, i int) (v any, next int, ok bool) {
	l := []any{}
	if i = skipSpace(s, i+1); i < len(s) && s[i] == ']' {
		return l, i + 1, true
	}
	for {
		var e any
		if e, i, ok = scanValue(s, i, false); !ok {
			return nil, 0, false
		}
		l = append(l, e)
		if i = skipSpace(s, i); i == len(s) {
			return nil, 0, false
		}
		switch s[i] {
		case ']':
			return l, i + 1, true
		case ',':
			i = skipSpace(s, i+1)
		default:
			return nil, 0, false
		}
	}
}
