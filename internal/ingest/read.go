package ingest

import (
	"io"
	"mime"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

// Row is one data row of a batch file.
type Row struct {
	// Line is the 1-based line of the row in the file. The header of a CSV
	// file or spreadsheet is line 1, so its first data row is line 2; for
	// NDJSON it is the physical line. Blank and empty lines are counted.
	Line int
	Sub  record.Submission
	// Errors are the problems reading this row (bad JSON, a cell beyond the
	// header...). When it is not empty, Sub MUST NOT be submitted.
	Errors []errs.FieldError
}

// Reader yields the rows of a batch file one at a time, without holding the
// file in memory.
type Reader interface {
	// Next returns the next row, or io.EOF after the last one. Any other
	// error means the file as a whole cannot be read further; a problem
	// with one row is reported in Row.Errors instead.
	Next() (Row, error)
	// Close releases what the reader holds (the spooled copy of a
	// spreadsheet). It does not close the io.Reader given to NewReader.
	Close() error
}

// The batch file formats.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
	FormatXLSX   = "xlsx"
)

// FormatOf returns the format named by a Content-Type (parameters such as
// charset are ignored) or by a file name's extension; ok is false for
// anything else.
func FormatOf(contentTypeOrName string) (format string, ok bool) {
	if mt, _, err := mime.ParseMediaType(contentTypeOrName); err == nil {
		switch mt {
		case "application/x-ndjson", "application/ndjson", "application/jsonl":
			return FormatNDJSON, true
		case "text/csv", "application/csv":
			return FormatCSV, true
		case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
			return FormatXLSX, true
		}
	}
	switch strings.ToLower(path.Ext(contentTypeOrName)) {
	case ".ndjson", ".jsonl":
		return FormatNDJSON, true
	case ".csv":
		return FormatCSV, true
	case ".xlsx":
		return FormatXLSX, true
	}
	return "", false
}

// NewReader returns a reader of the rows of r in the given format. item is
// the catalog item of rows that do not name theirs (the ?item= parameter).
// r should be limited by the caller; its errors end reading, kind kept.
//
// A CSV file is read as UTF-8 when it starts with a byte order mark or its
// first 64 KiB are valid UTF-8, and as GB18030 (a superset of the GBK that
// Excel exports on Chinese Windows) otherwise; a cell that is still not
// valid UTF-8 is a row error.
//
// An xlsx workbook is a zip file and needs random access, so r is first
// copied to a temporary file in tmpDir ("" for os.TempDir()), which Close
// removes.
//
// For CSV and xlsx the header row is read here: a file without one, or
// whose header has duplicate, over-long or too many columns, is an
// errs.Invalid error listing every problem.
func NewReader(format string, r io.Reader, item string, tmpDir string) (Reader, error) {
	switch format {
	case FormatNDJSON:
		return newNDJSONReader(r, item), nil
	case FormatCSV:
		return newCSVReader(r, item)
	case FormatXLSX:
		return newXLSXReader(r, item, tmpDir)
	}
	return nil, errs.E(errs.Invalid, "unsupported file format %q: use ndjson, csv or xlsx", format)
}

// Limits on a header row (or the keys of a flat NDJSON object).
const (
	maxColumns    = 200
	maxColumnName = 64 // characters
)

// subjectKeys are the columns that go to the Submission itself rather than
// to its Fields, with the names they may also be given under.
var subjectKeys = map[string]string{
	"ref": "ref", "item": "item", "decided_on": "decided_on", "severity": "severity",
	"id_type": "id_type", "id_number": "id_number", "name": "name",
	"subject.id_type": "id_type", "subject.id_number": "id_number", "subject.name": "name",
}

// nationalLower matches a national double-publicity code written in lower
// case: two letters, then segments joined by underscores (cf_wsh,
// xk_xdr_zjhm). The catalog knows these codes in upper case only.
var nationalLower = regexp.MustCompile(`^[a-z]{2}(_[a-z0-9]+)+$`)

// columnKey returns where a column named name goes: a Submission field
// (ref, id_type...) or the key in Fields, spelt as the catalog spells it.
func columnKey(name string) string {
	name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "\uFEFF"))
	if k, ok := subjectKeys[name]; ok {
		return k
	}
	if nationalLower.MatchString(name) {
		return strings.ToUpper(name)
	}
	return name
}

// fieldPath is the path of a column in a FieldError.
func fieldPath(key string) string {
	switch key {
	case "id_type", "id_number", "name":
		return "subject." + key
	case "ref", "item", "decided_on", "severity":
		return key
	}
	return "fields." + key
}

// setSubmission stores v in the Submission field named by key, reporting
// false when key names a field of Fields instead.
func setSubmission(s *record.Submission, key, v string) bool {
	v = strings.TrimSpace(v)
	switch key {
	case "ref":
		s.Ref = v
	case "item":
		s.Item = v
	case "decided_on":
		s.DecidedOn = v
	case "severity":
		s.Severity = v
	case "id_type":
		s.Subject.IDType = v
	case "id_number":
		s.Subject.IDNumber = v
	case "name":
		s.Subject.Name = v
	default:
		return false
	}
	return true
}

// dateSuffixes mark the columns holding a date (decided_on, CF_JDRQ,
// XK_YXQZ, valid_until...), whose cells a spreadsheet may give as a serial
// day number.
var dateSuffixes = []string{"RQ", "YXQ", "YXQZ", "YXQZI", "JZQ", "_on", "_until", "_from", "_to", "_since"}

func isDateColumn(key string) bool {
	for _, s := range dateSuffixes {
		if strings.HasSuffix(key, s) {
			return true
		}
	}
	return false
}

// column is one column of a header row.
type column struct {
	name string // as written in the header, trimmed
	key  string // see columnKey; "" for a column without a name
	date bool   // see isDateColumn
}

// header is the header row of a CSV file or spreadsheet.
type header []column

// newHeader reads a header row, returning an errs.Invalid error that lists
// every problem with it.
func newHeader(cells []string, item string, bigCols map[int]bool) (header, error) {
	if len(cells) > maxColumns {
		return nil, errs.E(errs.Invalid, "the header row has %d columns; at most %d are allowed", len(cells), maxColumns)
	}
	var p errs.Problems
	h := make(header, len(cells))
	seen := map[string]int{} // key -> index of the column that has it
	for i, cell := range cells {
		key := columnKey(cell)
		switch {
		case key == "":
			continue
		case !utf8.ValidString(key):
			p.Add("header", "encoding", "the name of column %d is not valid UTF-8 text", i+1)
			continue
		case utf8.RuneCountInString(key) > maxColumnName:
			p.Add("header", "too_long", "the name of column %d is longer than %d characters", i+1, maxColumnName)
			continue
		}
		if j, dup := seen[key]; dup {
			p.Add("header", "duplicate", "columns %d (%s) and %d (%s) are both %s", j+1, h[j].name, i+1, strings.TrimSpace(cell), key)
			continue
		}
		seen[key] = i
		h[i] = column{name: strings.TrimSpace(cell), key: key, date: isDateColumn(key)}
	}
	if len(seen) == 0 && len(p) == 0 {
		p.Add("header", "required", "the first row must name the columns")
	}
	h.needsItem(item, &p)
	h.identityAsText(bigCols, &p)
	if err := p.Err("the header row cannot be used"); err != nil {
		return nil, err
	}
	return h, nil
}

// needsItem adds a problem when no row could name its catalog item: the
// header has no item column and the batch names none (?item=).
func (h header) needsItem(item string, p *errs.Problems) {
	if item != "" || slices.ContainsFunc(h, func(c column) bool { return c.key == "item" }) {
		return
	}
	p.Add("item", "required", "the file has no item column: name the catalog item of its rows with ?item= (pubcredit import: --item), e.g. ?item=XZCF")
}

// row maps the cells of the data row at line to a Submission. Empty cells
// are absent; other cells are kept as text, untrimmed.
func (h header) row(line int, cells []string, item string) Row {
	r := Row{Line: line, Sub: record.Submission{Fields: map[string]any{}}}
	var p errs.Problems
	for i, cell := range cells {
		if strings.TrimSpace(cell) == "" {
			continue
		}
		if i >= len(h) {
			p.Add("", "extra_cells", "cell %d is beyond the %d columns of the header", i+1, len(h))
			break
		}
		col := h[i]
		switch {
		case col.key == "":
			p.Add("", "unnamed_column", "cell %d is in a column without a name in the header", i+1)
		case !utf8.ValidString(cell):
			p.Add(fieldPath(col.key), "encoding", "is not valid UTF-8 text")
		case !setSubmission(&r.Sub, col.key, cell):
			r.Sub.Fields[col.key] = cell
		}
	}
	if r.Sub.Item == "" {
		r.Sub.Item = item
	}
	r.Errors = p
	return r
}

// blank reports whether every cell is empty.
func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
