package ingest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"testing"

	"github.com/xuri/excelize/v2"
)

// BenchmarkXLSXScan measures the scan of the first sheet for cell types
// (scanSheet) against reading the same workbook's rows whole (NewReader and
// every Next, the baseline): the scan is added to every workbook upload.
// go test ./internal/ingest -run '^$' -bench XLSXScan
func BenchmarkXLSXScan(b *testing.B) {
	const rows = 20000
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	sw.SetRow("A1", []any{"ref", "CF_XDR_MC", "CF_XDR_ZJHM", "CF_WSH", "CF_CFLB", "CF_NR_FK", "CF_JDRQ", "BZ"})
	for i := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{fmt.Sprint("R", i), "张三", "11010519491231002X", fmt.Sprintf("津市监罚〔2026〕%06d号", i), "罚款", 0.5, "2026-05-01", "备注"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		b.Fatal(err)
	}
	book := buf.Bytes()
	b.Run("read rows (baseline)", func(b *testing.B) {
		for b.Loop() {
			r, err := NewReader(FormatXLSX, bytes.NewReader(book), "XZCF", b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				if _, err := r.Next(); err != nil {
					break
				}
				n++
			}
			r.Close()
			if n != rows {
				b.Fatalf("%d rows read, want %d", n, rows)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
			if err != nil {
				b.Fatal(err)
			}
			if s := scanSheet(zr); len(s.bigCols) != 0 {
				b.Fatalf("big number columns %v in a sheet of text identity numbers", s.bigCols)
			}
		}
	})
}
