package ingest

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

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
	bigCols map[string]bool // columns (A, B, ... AA) holding a number cell of more than 15 digits
	bools   map[string]bool // cells (G12) holding a boolean, at most maxBools of them
}

// maxBools bounds the boolean cells a scan keeps.
const maxBools = 100_000

// scanSheet scans the first sheet of the workbook zr for the cells whose
// type the streaming reader does not tell: numbers of more than 15 digits
// and booleans (TRUE reads as 1). It returns an empty scan when the
// workbook cannot be scanned: excelize then reports what is wrong with it.
func scanSheet(zr *zip.Reader) sheetScan {
	found := sheetScan{bigCols: map[string]bool{}, bools: map[string]bool{}}
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
	var ref string   // the cell being read (G12)
	var number bool  // it holds a number (no type, or type n)
	var inValue bool // inside its <v>
	row, n := 0, 0   // the row, and its cells so far, for cells and rows without a reference
	for {
		tok, err := dec.Token()
		if err != nil {
			return found // the end, or a fault excelize reports
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				row, n = row+1, 0
				for _, a := range t.Attr {
					if r, err := strconv.Atoi(a.Value); a.Name.Local == "r" && err == nil {
						row = r
					}
				}
			case "c":
				n++
				if ref = attr(t, "r"); ref == "" {
					ref = columnName(n) + strconv.Itoa(row)
				}
				typ := attr(t, "t")
				number = typ == "" || typ == "n"
				if typ == "b" && len(found.bools) < maxBools {
					found.bools[ref] = true
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
				found.bigCols[strings.TrimRight(ref, "0123456789")] = true
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

// columnName is the name of the nth column: 1 A, 26 Z, 27 AA.
func columnName(n int) string {
	var b []byte
	for ; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
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

// identityAsText refuses a sheet whose identity-number column (id_number,
// or a national *_ZJHM code) holds numbers of more than 15 digits: digits
// were lost, and some rows may name another person.
func (h header) identityAsText(big map[string]bool) error {
	for i, c := range h {
		if c.key != "id_number" && !strings.HasSuffix(c.key, "_ZJHM") {
			continue
		}
		if col := columnName(i + 1); big[col] {
			return errs.Fields("the workbook cannot be read", errs.FieldError{Field: fieldPath(c.key), Code: "number_cells",
				Message: fmt.Sprintf("column %s (%s) holds identity numbers as number cells, which keep only 15 digits: some rows would name another person. Format the column as text and enter the numbers again", col, c.name)})
		}
	}
	return nil
}
