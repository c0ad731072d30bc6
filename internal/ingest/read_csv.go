package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

// sniffSize is how much of a CSV file decides its encoding.
const sniffSize = 64 << 10

// csvReader reads a CSV file whose first row names the columns. Quotes are
// read leniently (a stray quote is kept as text), as spreadsheets export it.
type csvReader struct {
	cr   *csv.Reader
	head header
	item string
	line int // of the last record read
}

// Declared returns the body of a CSV file sent as contentType, decoded to
// UTF-8 from the charset its parameters declare (GB18030 and its subsets
// GBK and GB2312): an export whose first 64 KiB are ASCII cannot be told
// apart by its start. Without a charset the file is sniffed (NewReader).
func Declared(contentType string, body io.Reader) (io.Reader, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return body, nil
	}
	switch strings.ToLower(params["charset"]) {
	case "", "utf-8", "utf8":
		return body, nil
	case "gb18030", "gbk", "gb2312", "cp936":
		return transform.NewReader(body, simplifiedchinese.GB18030.NewDecoder()), nil
	}
	return nil, errs.Fields("the batch format is not supported", errs.FieldError{Field: "Content-Type", Code: "charset",
		Message: fmt.Sprintf("charset %s is not read: send UTF-8 or GB18030 (GBK)", record.Echo(params["charset"]))})
}

// rowLimit fails the read that would pass a row longer than maxLine bytes,
// naming the line it starts on: the CSV reader holds a whole row in memory,
// and a file of one huge cell (quoted, over many lines) would take many
// times its size. It follows the CSV reader's quoting (LazyQuotes): a
// quote opens a quoted cell only at the start of a cell, and in a quoted
// cell a quote not followed by another, a comma or the end of the line is
// text.
type rowLimit struct {
	r          io.Reader
	run        int  // bytes of the current row
	line       int  // newlines passed
	start      int  // newlines passed when the current row began
	quoted     bool // inside a quoted cell
	quote      bool // a quote seen in a quoted cell, its meaning told by the next byte
	fieldStart bool // at the start of a cell
}

func newRowLimit(r io.Reader) *rowLimit { return &rowLimit{r: r, fieldStart: true} }

func (l *rowLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if l.run++; l.run > maxLine {
			return 0, errs.Fields("the batch file cannot be read", errs.FieldError{Field: "body", Code: "too_long",
				Message: fmt.Sprintf("the row starting on line %d is longer than %d bytes", l.start+1, maxLine)})
		}
		if l.quote {
			l.quote = false
			switch c {
			case '"': // an escaped quote
				continue
			case ',':
				l.quoted, l.fieldStart = false, true
				continue
			case '\n', '\r':
				l.quoted = false
			default: // a quote as text (LazyQuotes)
			}
		}
		if l.quoted {
			switch c {
			case '"':
				l.quote = true
			case '\n':
				l.line++
			}
			continue
		}
		switch c {
		case '"':
			l.quoted, l.fieldStart = l.fieldStart, false
		case ',':
			l.fieldStart = true
		case '\n':
			l.line++
			l.run, l.start, l.fieldStart = 0, l.line, true
		default:
			l.fieldStart = false
		}
	}
	return n, err
}

func newCSVReader(r io.Reader, item string) (*csvReader, error) {
	br := bufio.NewReaderSize(newRowLimit(r), sniffSize)
	start, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("ingest: reading csv: %w", err)
	}
	// A byte order mark declares UTF-8; without one, a start that is not
	// UTF-8 is taken for GB18030 (a superset of GBK, what Excel on Chinese
	// Windows exports).
	var src io.Reader = br
	if bytes.HasPrefix(start, []byte("\uFEFF")) {
		br.Discard(len("\uFEFF"))
	} else if !validUTF8Start(start, err == io.EOF) {
		src = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	cr := csv.NewReader(src)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cells, err := cr.Read()
	if err == io.EOF {
		return nil, errs.E(errs.Invalid, "the file is empty: its first line must name the columns")
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: reading the csv header: %w", err)
	}
	head, err := newHeader(cells, item, nil)
	if err != nil {
		return nil, err
	}
	return &csvReader{cr: cr, head: head, item: item}, nil
}

// validUTF8Start reports whether b is valid UTF-8, except that when b is
// not the whole file it may end in the middle of a character.
func validUTF8Start(b []byte, whole bool) bool {
	if !whole {
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

func (r *csvReader) Close() error { return nil }

func (r *csvReader) Next() (Row, error) {
	for {
		cells, err := r.cr.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return Row{}, io.EOF
		case errors.As(err, &pe) && (errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote)):
			// Not expected with LazyQuotes; the csv package goes on with the next record.
			return Row{Line: pe.StartLine, Errors: []errs.FieldError{{Code: "csv_syntax", Message: pe.Error()}}}, nil
		case err != nil: // a row too long keeps its kind and problem through fileError
			return Row{}, fmt.Errorf("ingest: reading csv after line %d: %w", r.line, err)
		}
		r.line, _ = r.cr.FieldPos(0) // the line a record starts on, though quoted cells may span lines
		if !blank(cells) {
			return r.head.row(r.line, cells, r.item), nil
		}
	}
}
