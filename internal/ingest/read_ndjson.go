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
		row := Row{Line: r.line, Sub: parseLine(text, tooLong, &p)}
		if row.Sub.Item == "" {
			row.Sub.Item = r.item
		}
		row.Errors = p
		return row, nil
	}
}

// parseLine reads the Submission on one non-blank line.
func parseLine(text []byte, tooLong bool, p *errs.Problems) record.Submission {
	if tooLong {
		p.Add("", "too_long", "the line is longer than %d bytes", maxLine)
		return record.Submission{}
	}
	if !utf8.Valid(text) {
		p.Add("", "encoding", "the line is not valid UTF-8")
		return record.Submission{}
	}
	obj, err := decodeObject(text)
	switch {
	case err != nil:
		p.Add("", "malformed_json", "%v", err)
		return record.Submission{}
	case obj == nil:
		p.Add("", "not_object", "each line must be a JSON object")
		return record.Submission{}
	}
	_, subject := obj["subject"]
	_, fields := obj["fields"]
	if subject || fields {
		return submission(obj, p)
	}
	return flatSubmission(obj, p)
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

// submission reads an object in the form of a record.Submission: keys
// other than the Submission's are problems.
func submission(obj map[string]any, p *errs.Problems) record.Submission {
	var s record.Submission
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := obj[k]
		switch k {
		case "ref", "item", "decided_on", "severity":
			setText(&s, k, k, v, p)
		case "subject":
			subj, ok := v.(map[string]any)
			if !ok && v != nil {
				p.Add(k, "type", "must be an object")
			}
			for _, sk := range slices.Sorted(maps.Keys(subj)) {
				switch sk {
				case "id_type", "id_number", "name":
					setText(&s, sk, "subject."+sk, subj[sk], p)
				default:
					p.Add("subject."+sk, "unknown_field", "the subject has no key %q", sk)
				}
			}
		case "fields":
			fields, ok := v.(map[string]any)
			if !ok && v != nil {
				p.Add(k, "type", "must be an object")
			}
			s.Fields = fields
		default:
			p.Add(k, "unknown_field", "a submission has no key %q", k)
		}
	}
	return s
}

// flatSubmission reads an object whose keys are named like the columns of a
// CSV header. Null and empty-string values are absent.
func flatSubmission(obj map[string]any, p *errs.Problems) record.Submission {
	s := record.Submission{Fields: map[string]any{}}
	if len(obj) > maxColumns {
		p.Add("", "too_many_keys", "the object has %d keys; at most %d are allowed", len(obj), maxColumns)
		return s
	}
	seen := map[string]string{} // key -> the name it was given under
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		v, key := obj[name], columnKey(name)
		switch prev, dup := seen[key]; {
		case key == "":
			p.Add("", "unnamed_column", "a key is empty")
			continue
		case utf8.RuneCountInString(key) > maxColumnName:
			p.Add("", "too_long", "a key is longer than %d characters", maxColumnName)
			continue
		case dup:
			p.Add(fieldPath(key), "duplicate", "keys %q and %q are both %s", prev, name, key)
			continue
		}
		seen[key] = name
		if text, ok := v.(string); v == nil || ok && strings.TrimSpace(text) == "" {
			continue
		}
		if _, ok := subjectKeys[key]; ok {
			setText(&s, key, fieldPath(key), v, p)
		} else {
			s.Fields[key] = v
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
