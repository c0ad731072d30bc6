package ingest

import (
	"archive/zip"
	"encoding/xml"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"pubcredit/internal/errs"
)

// Cell types the streaming reader does not see. A spreadsheet keeps a
// number to 15 significant digits: an 18-digit identity number typed as a
// number loses its last digits, and what is left may be the valid number of
// another person. A boolean is stored as 1 or 0, and TRUE in an amount
// column would read as 1. The reader sees raw cell values, not cell types,
// so the first sheet is scanned once before it is read: an identity column
// holding a number of more than 15 digits refuses the file, and boolean
// cells read as TRUE and FALSE.

// sheetScan is what a scan of the first sheet found.
type sheetScan struct {
	bigCols      map[int]bool    // columns (1 is A) holding a number cell of more than 15 digits
	bools        map[[2]int]bool // cells (column, row) holding a boolean, at most maxBools of them
	tooManyBools bool            // more than maxBools: the workbook is refused (TRUE would read as 1)
}

// maxBools bounds the boolean cells a scan keeps.
const maxBools = 100_000

// scanSheet scans the first sheet of the workbook zr for the cells whose
// type the streaming reader does not tell: numbers of more than 15 digits
// and booleans (TRUE reads as 1). It returns an empty scan when the
// workbook cannot be scanned: excelize then reports what is wrong with it.
func scanSheet(zr *zip.Reader) sheetScan {
	found := sheetScan{bigCols: map[int]bool{}, bools: map[[2]int]bool{}}
	part := firstSheetPart(zr)
	if part == nil {
		return found
	}
	rc, err := part.Open()
	if err != nil {
		return found
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	var col, row int // the cell being read (rows and cells may leave out their reference)
	var number bool  // it holds a number (no type, or type n)
	var inValue bool // inside its <v>
	for {
		tok, err := dec.RawToken() // names without their namespaces are all this needs
		if err != nil {
			return found // the end, or a fault excelize reports
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				row, col = row+1, 0
				if r, err := strconv.Atoi(attr(t, "r")); err == nil {
					row = r
				}
			case "c":
				col++
				if c, r, err := excelize.CellNameToCoordinates(attr(t, "r")); err == nil {
					col, row = c, r
				}
				typ := attr(t, "t")
				number = typ == "" || typ == "n"
				if typ == "b" {
					if len(found.bools) == maxBools {
						found.tooManyBools = true
						return found
					}
					found.bools[[2]int{col, row}] = true
				}
			case "v":
				inValue = number
			}
		case xml.EndElement:
			if t.Name.Local == "v" {
				inValue = false
			}
		case xml.CharData:
			if inValue && bigNumber(strings.TrimSpace(string(t))) {
				found.bigCols[col] = true
			}
		}
	}
}

// bigNumber reports whether a number cell's stored value has more than 15
// digits before its point (120108198001018000, 1.20108198001018E+17): more
// than a spreadsheet keeps. A 15-digit legacy identity number is kept whole.
func bigNumber(v string) bool {
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && (f >= 1e15 || f <= -1e15)
}

// firstSheetPart finds the part of the workbook's first sheet, as
// excelize's sheet list orders them: the first <sheet> of xl/workbook.xml,
// through its relationship.
func firstSheetPart(zr *zip.Reader) *zip.File {
	var id string
	scanXML(zr, "xl/workbook.xml", func(t xml.StartElement) bool {
		if t.Name.Local != "sheet" {
			return true
		}
		for _, a := range t.Attr {
			if a.Name.Local == "id" && strings.Contains(a.Name.Space, "relationships") {
				id = a.Value
			}
		}
		return false
	})
	var target string
	scanXML(zr, "xl/_rels/workbook.xml.rels", func(t xml.StartElement) bool {
		if t.Name.Local != "Relationship" {
			return true
		}
		if attr(t, "Id") == id && id != "" {
			target = attr(t, "Target")
			return false
		}
		return true
	})
	if target == "" {
		return nil
	}
	if strings.HasPrefix(target, "/") {
		target = strings.TrimPrefix(target, "/")
	} else {
		target = path.Join("xl", target)
	}
	for _, f := range zr.File {
		if strings.EqualFold(strings.ReplaceAll(f.Name, `\`, "/"), target) {
			return f
		}
	}
	return nil
}

// attr is the value of element t's attribute name, "" when it has none.
func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// scanXML calls fn for each start element of the part named name until fn
// returns false.
func scanXML(zr *zip.Reader, name string, fn func(xml.StartElement) bool) {
	for _, f := range zr.File {
		if !strings.EqualFold(strings.ReplaceAll(f.Name, `\`, "/"), name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return
		}
		defer rc.Close()
		dec := xml.NewDecoder(io.LimitReader(rc, maxPart))
		for {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			if t, ok := tok.(xml.StartElement); ok && !fn(t) {
				return
			}
		}
	}
}

// identityAsText adds a problem for each identity-number column (id_number,
// or a national *_ZJHM code) holding numbers of more than 15 digits: digits
// were lost, and some rows may name another person.
func (h header) identityAsText(big map[int]bool, p *errs.Problems) {
	for i, c := range h {
		if c.key != "id_number" && !strings.HasSuffix(c.key, "_ZJHM") {
			continue
		}
		if col, _ := excelize.ColumnNumberToName(i + 1); big[i+1] {
			p.Add(fieldPath(c.key), "number_cells", "column %s (%s) holds identity numbers as number cells, which keep only 15 digits: some rows would name another person. Format the column as text and enter the numbers again", col, c.name)
		}
	}
}
