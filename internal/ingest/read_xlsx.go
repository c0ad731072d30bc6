package ingest

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

// Limits on what a workbook may unzip to. Worksheets and the shared
// strings beyond excelize's 16 MiB threshold are unzipped to temporary
// files; every other part is held in memory, so it is kept small.
const (
	maxUnzipped = 1 << 30
	maxPart     = 16 << 20
	// maxRatio bounds how much a large part may grow when unzipped: rows
	// of a sheet compress ten to fifty times, one cell of a repeated
	// character a thousand times, and a workbook that small would take
	// gigabytes of memory to read.
	maxRatio = 200
)

// maxSerial is the serial day number of 9999-12-31, the last day Excel knows.
const maxSerial = 2958465

// xlsxReader reads the first sheet of a workbook, whose first non-empty row
// names the columns. Cells are read as Excel displays them, except that
// short dates display as YYYY-MM-DD and, in date columns, a bare serial day
// number becomes YYYY-MM-DD.
type xlsxReader struct {
	spool    string
	f        *excelize.File
	rows     *excelize.Rows
	date1904 bool
	bools    map[[2]int]bool // cells (column, row) holding a boolean (scanSheet): read as TRUE and FALSE, not 1 and 0
	head     header
	item     string
	line     int
}

func newXLSXReader(r io.Reader, item, tmpDir string) (_ *xlsxReader, err error) {
	spool, err := os.CreateTemp(tmpDir, "ingest-*.xlsx")
	if err != nil {
		return nil, fmt.Errorf("ingest: spooling xlsx: %w", err)
	}
	x := &xlsxReader{spool: spool.Name(), item: item}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	_, err = io.Copy(spool, r)
	if cerr := spool.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: spooling xlsx: %w", err)
	}
	scan, err := checkParts(x.spool)
	if err != nil {
		return nil, err
	}
	x.bools = scan.bools
	x.f, err = excelize.OpenFile(x.spool, excelize.Options{
		TmpDir:           tmpDir,
		UnzipSizeLimit:   maxUnzipped,
		ShortDatePattern: "yyyy-mm-dd",
	})
	// Opened, the workbook is unzipped (in memory, its large parts in
	// excelize's own files, removed by Close) and the spooled copy, names
	// and identity numbers in it, is not needed: it goes now rather than
	// at Close, which a crash would skip.
	if err != nil {
		return nil, errs.Wrap(errs.Malformed, err, "the file is not a readable xlsx workbook")
	}
	if err := os.Remove(x.spool); err != nil {
		return nil, fmt.Errorf("ingest: removing the spooled xlsx: %w", err)
	}
	sheets := x.f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errs.E(errs.Malformed, "the workbook has no sheet")
	}
	if props, err := x.f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		x.date1904 = *props.Date1904
	}
	if x.rows, err = x.f.Rows(sheets[0]); err != nil {
		return nil, errs.Wrap(errs.Malformed, err, "the first sheet cannot be read")
	}
	for {
		cells, err := x.next()
		if err == io.EOF {
			return nil, errs.E(errs.Invalid, "the first sheet is empty: its first row must name the columns")
		}
		if err != nil {
			return nil, err
		}
		if !blank(cells) {
			if x.head, err = newHeader(cells, item, scan.bigCols); err != nil {
				return nil, err
			}
			return x, nil
		}
	}
}

// checkParts refuses a workbook that is not a zip file, or whose parts
// would unzip to more than excelize should hold in memory, and returns the
// scan of its first sheet (scanSheet).
func checkParts(name string) (sheetScan, error) {
	zr, err := zip.OpenReader(name)
	if err != nil {
		return sheetScan{}, errs.Wrap(errs.Malformed, err, "the file is not an xlsx workbook")
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.UncompressedSize64 > maxPart && f.UncompressedSize64 > maxRatio*f.CompressedSize64 {
			return sheetScan{}, errs.E(errs.TooLarge, "the workbook part %s unzips to %d bytes from %d, more than %d times: no sheet's rows do that (a zip bomb?)",
				record.Echo(f.Name), f.UncompressedSize64, f.CompressedSize64, maxRatio)
		}
		part := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
		if strings.HasPrefix(part, "xl/worksheets/sheet") || part == "xl/sharedstrings.xml" {
			continue
		}
		if f.UncompressedSize64 > maxPart {
			return sheetScan{}, errs.E(errs.TooLarge, "the workbook part %s unzips to more than %d bytes", record.Echo(f.Name), maxPart)
		}
	}
	scan := scanSheet(&zr.Reader)
	if scan.tooManyBools {
		return sheetScan{}, errs.E(errs.TooLarge, "the first sheet holds more than %d true/false cells: format those columns as text (是/否, true/false)", maxBools)
	}
	return scan, nil
}

// next returns the cells of the next row of the sheet, or io.EOF.
func (x *xlsxReader) next() ([]string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, errs.Wrap(errs.Malformed, err, "the sheet cannot be read after row %d", x.line)
		}
		return nil, io.EOF
	}
	x.line++ // Next stops at every row number, also those the sheet leaves out
	// Raw values: a date cell comes as its serial day whatever its display
	// format (2/10/2026, a long date...), and amounts without separators.
	cells, err := x.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, errs.Wrap(errs.Malformed, err, "row %d of the sheet cannot be read", x.line)
	}
	return cells, nil
}

func (x *xlsxReader) Next() (Row, error) {
	for {
		cells, err := x.next()
		if err != nil {
			return Row{}, err
		}
		if blank(cells) {
			continue
		}
		for i, c := range cells {
			switch {
			case len(x.bools) > 0 && x.bools[[2]int{i + 1, x.line}]:
				cells[i] = boolText(c)
			case i < len(x.head) && x.head[i].date:
				cells[i] = x.serialDate(c)
			}
		}
		return x.head.row(x.line, cells, x.item), nil
	}
}

// boolText is the raw value of a boolean cell (1 or 0) as a spreadsheet
// shows it: a boolean in a number column is a problem, not a 1.
func boolText(raw string) string {
	switch raw {
	case "1":
		return "TRUE"
	case "0":
		return "FALSE"
	}
	return raw
}

// serialDate returns the day a serial day number stands for as YYYY-MM-DD,
// and any other text as it is.
func (x *xlsxReader) serialDate(s string) string {
	if s == "" || strings.Trim(s, "0123456789.") != "" {
		return s
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 1 || n > maxSerial {
		return s
	}
	t, err := excelize.ExcelDateToTime(n, x.date1904)
	if err != nil {
		return s
	}
	return t.Format("2006-01-02")
}

// Close removes the spooled workbook, if it is still there, and excelize's
// temporary files.
func (x *xlsxReader) Close() error {
	var errList []error
	if x.rows != nil {
		errList = append(errList, x.rows.Close())
	}
	if x.f != nil {
		errList = append(errList, x.f.Close())
	}
	if err := os.Remove(x.spool); err != nil && !errors.Is(err, os.ErrNotExist) {
		errList = append(errList, err)
	}
	return errors.Join(errList...)
}
