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

// Identity numbers typed into number cells. A spreadsheet keeps a number
// to 15 significant digits: an 18-digit identity number typed as a number
// loses its last digits, and what is left may be the valid number of
// another person. The streaming reader sees cell values, not cell types,
// so the first sheet is scanned once before it is read, for the columns
// holding a number of more than 15 digits; an identity column among them
// refuses the file.

// bigNumberColumns returns the columns (A, B, ... AA) of the first sheet
// of the workbook zr that hold a number cell of more than 15 digits. It
// returns nil when the workbook cannot be scanned: excelize then reports
// what is wrong with it.
func bigNumberColumns(zr *zip.Reader) map[string]bool {
	part := firstSheetPart(zr)
	if part == nil {
		return nil
	}
	rc, err := part.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	cols := map[string]bool{}
	dec := xml.NewDecoder(rc)
	var col string   // the column of the cell being read
	var number bool  // the cell holds a number (no type, or type n)
	var inValue bool // inside its <v>
	n := 0           // cells of the row so far, for cells without a reference
	for {
		tok, err := dec.Token()
		if err != nil {
			return cols // the end, or a fault excelize reports
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				n = 0
			case "c":
				n++
				col, number = columnName(n), true
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "r":
						col = strings.TrimRight(a.Value, "0123456789")
					case "t":
						number = a.Value == "n"
					}
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
				cols[col] = true
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
		var rid, tg string
		for _, a := range t.Attr {
			switch a.Name.Local {
			case "Id":
				rid = a.Value
			case "Target":
				tg = a.Value
			}
		}
		if rid == id && id != "" {
			target = tg
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
