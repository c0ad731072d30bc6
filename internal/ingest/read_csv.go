package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"pubcredit/internal/errs"
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

func newCSVReader(r io.Reader, item string) (*csvReader, error) {
	br := bufio.NewReaderSize(r, sniffSize)
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
	head, err := newHeader(cells)
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
		case err != nil:
			return Row{}, fmt.Errorf("ingest: reading csv after line %d: %w", r.line, err)
		}
		r.line, _ = r.cr.FieldPos(0) // the line a record starts on, though quoted cells may span lines
		if !blank(cells) {
			return r.head.row(r.line, cells, r.item), nil
		}
	}
}
