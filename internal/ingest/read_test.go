package ingest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

var (
	_ Reader = (*ndjsonReader)(nil)
	_ Reader = (*csvReader)(nil)
	_ Reader = (*xlsxReader)(nil)
)

// readAll drains r, failing the test if it does not end.
func readAll(t testing.TB, r Reader, maxRows int) ([]Row, error) {
	t.Helper()
	var rows []Row
	for range maxRows + 1 {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	t.Fatalf("Next returned more than %d rows without io.EOF", maxRows)
	return nil, nil
}

// readFile reads every row of a file in testdata.
func readFile(t *testing.T, format, name string) []Row {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(format, f, "XZCF", t.TempDir())
	if err != nil {
		t.Fatalf("NewReader(%s): %v", name, err)
	}
	defer r.Close()
	rows, err := readAll(t, r, 1000)
	if err != nil {
		t.Fatalf("reading %s: %v", name, err)
	}
	return rows
}

func lines(rows []Row) []int {
	var ls []int
	for _, r := range rows {
		ls = append(ls, r.Line)
	}
	return ls
}

func codes(row Row) []string {
	var cs []string
	for _, e := range row.Errors {
		cs = append(cs, e.Field+":"+e.Code)
	}
	return cs
}

func TestFormatOf(t *testing.T) {
	for in, want := range map[string]string{
		"application/x-ndjson":  FormatNDJSON,
		"application/ndjson":    FormatNDJSON,
		"application/jsonl":     FormatNDJSON,
		"text/csv; charset=gbk": FormatCSV,
		"Application/CSV":       FormatCSV,
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FormatXLSX,
		"处罚信息.xlsx":                FormatXLSX,
		"export.CSV":               FormatCSV,
		"batch.jsonl":              FormatNDJSON,
		"2024/batch.ndjson":        FormatNDJSON,
		"application/json":         "",
		"application/vnd.ms-excel": "",
		"report.xls":               "",
		"":                         "",
	} {
		got, ok := FormatOf(in)
		if got != want || ok != (want != "") {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestColumnKey(t *testing.T) {
	for in, want := range map[string]string{
		"CF_WSH":             "CF_WSH",
		" \uFEFFCF_WSH\t":    "CF_WSH",
		"cf_wsh":             "CF_WSH",
		"cf_xdr_zjhm":        "CF_XDR_ZJHM",
		"xk_yxqzi":           "XK_YXQZI",
		"Cf_wsh":             "Cf_wsh", // not all lower-case: left for the service to reject
		"bz":                 "bz",     // no underscore: not recognisably national
		"decision_no":        "decision_no",
		"id_type":            "id_type",
		"subject.id_number":  "id_number",
		"subject.name":       "name",
		"　CF_JDRQ　":          "CF_JDRQ", // ideographic spaces
		"fine_amount":        "fine_amount",
		"subject.birth_date": "subject.birth_date",
	} {
		if got := columnKey(in); got != want {
			t.Errorf("columnKey(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestCSVNationalPenalties(t *testing.T) {
	rows := readFile(t, FormatCSV, "penalties.csv")
	// Line 5 is an empty row; line 4 is the second line of a quoted cell.
	if got, want := lines(rows), []int{2, 3, 6, 7}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lines = %v; want %v", got, want)
	}
	want := record.Submission{Item: "XZCF", Fields: map[string]any{
		"CF_XDR_MC":   "张三",
		"CF_XDR_LB":   "自然人",
		"CF_XDR_ZJLX": "身份证",
		"CF_XDR_ZJHM": "11010519491231002X",
		"CF_WSH":      "京朝市监罚〔2024〕101号",
		"CF_WFXW":     "违反食品安全管理规定",
		"CF_SY":       "当事人经营超过保质期的食品。",
		"CF_YJ":       "《中华人民共和国食品安全法》第一百二十四条",
		"CF_CFLB":     "罚款",
		"CF_NR":       "罚款人民币0.5万元",
		"CF_NR_FK":    "0.5",
		"CF_JDRQ":     "2024-03-15",
		"CF_YXQ":      "2027-03-14",
		"CF_CFJG":     "北京市朝阳区市场监督管理局",
		"CF_CFJGDM":   "11110105000013179P",
		"CF_SJLY":     "北京市朝阳区市场监督管理局",
		"CF_SJLYDM":   "11110105000013179P",
		// BZ is empty, so absent.
	}}
	if !reflect.DeepEqual(rows[0].Sub, want) || rows[0].Errors != nil {
		t.Errorf("line 2 = %+v, errors %v\nwant %+v", rows[0].Sub, rows[0].Errors, want)
	}

	li := rows[1].Sub.Fields
	for k, v := range map[string]string{
		"CF_SY":   "当事人未取得营业执照，\n擅自从事经营活动。",
		"CF_NR":   "罚款人民币1.2万元，没收违法所得3,000元",
		"CF_JDRQ": "2024/04/01",
		"BZ":      `首次违法，"从轻"处罚`,
	} {
		if li[k] != v {
			t.Errorf("line 3 %s = %q; want %q", k, li[k], v)
		}
	}
	if got := codes(rows[2]); !reflect.DeepEqual(got, []string{":extra_cells"}) {
		t.Errorf("line 6 errors = %v; want the cell beyond the header", got)
	}
	last := rows[3]
	if last.Errors != nil || len(last.Sub.Fields) != 11 || last.Sub.Fields["CF_JDRQ"] != "20240610" {
		t.Errorf("line 7 (fewer cells) = %+v, %v", last.Sub.Fields, last.Errors)
	}
}

func TestCSVGB18030(t *testing.T) {
	utf8File, err := os.ReadFile("testdata/penalties.csv")
	if err != nil {
		t.Fatal(err)
	}
	gbFile, err := os.ReadFile("testdata/penalties-gb18030.csv")
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := simplifiedchinese.GB18030.NewEncoder().Bytes(bytes.TrimPrefix(utf8File, []byte("\uFEFF")))
	if err != nil || !bytes.Equal(encoded, gbFile) {
		t.Fatalf("penalties-gb18030.csv is not penalties.csv in GB18030 (err %v)", err)
	}
	if got, want := readFile(t, FormatCSV, "penalties-gb18030.csv"), readFile(t, FormatCSV, "penalties.csv"); !reflect.DeepEqual(got, want) {
		t.Errorf("GB18030 rows differ from UTF-8 rows:\n%+v\n%+v", got, want)
	}
}

// The encoding is decided from the first 64 KiB: GB18030 text after a long
// ASCII start is read as UTF-8 and the cells holding it are row errors.
func TestCSVGB18030AfterFirst64KiB(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("ref,CF_XDR_MC\n")
	for i := 0; b.Len() < 70<<10; i++ {
		fmt.Fprintf(&b, "R%d,Zhang San\n", i)
	}
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String("张三")
	b.WriteString("RX," + gb + "\n")
	r, err := NewReader(FormatCSV, &b, "XZCF", "")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r, 10000)
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if got := codes(last); last.Sub.Ref != "RX" || !reflect.DeepEqual(got, []string{"fields.CF_XDR_MC:encoding"}) {
		t.Errorf("last row = %+v, %v; want an encoding error", last.Sub, got)
	}
}

// A byte order mark declares UTF-8: a stray GBK cell is a row error rather
// than a reason to read the whole file as GB18030.
func TestCSVByteOrderMarkMeansUTF8(t *testing.T) {
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String("李四")
	file := "\uFEFFref,CF_XDR_MC\nR1,张三\nR2," + gb + "\n"
	r, err := NewReader(FormatCSV, strings.NewReader(file), "XZCF", "")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows = %+v, %v", rows, err)
	}
	if rows[0].Sub.Fields["CF_XDR_MC"] != "张三" || !reflect.DeepEqual(codes(rows[1]), []string{"fields.CF_XDR_MC:encoding"}) {
		t.Errorf("rows = %+v", rows)
	}
}

// failingReader returns its error after the data.
func failingReader(data string, err error) io.Reader {
	return io.MultiReader(strings.NewReader(data), iotest.ErrReader(err))
}

// An error from the io.Reader (the caller's size limit) ends reading with
// its kind kept.
func TestReadErrorsKeepTheirKind(t *testing.T) {
	tooLarge := errs.E(errs.TooLarge, "the file is larger than 10 MB")
	long := "ref,CF_WSH\n" + strings.Repeat("R1,京朝市监罚〔2024〕101号\n", 5000) // more than the 64 KiB sniffed
	for _, tc := range []struct {
		name, format, data string
		rows               int
	}{
		{"csv, within the first 64 KiB", FormatCSV, "ref,CF_WSH\nR1,x\n", 0},
		{"csv, after the first 64 KiB", FormatCSV, long, 5000},
		{"ndjson", FormatNDJSON, `{"ref":"R1"}` + "\n" + `{"ref":"R2"`, 1},
		{"xlsx", FormatXLSX, "PK", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(tc.format, failingReader(tc.data, tooLarge), "XZCF", t.TempDir())
			var rows []Row
			if err == nil {
				rows, err = readAll(t, r, 10000)
				r.Close()
			}
			if !errors.Is(err, errs.TooLarge) || len(rows) != tc.rows {
				t.Errorf("got %d rows, then %v; want %d rows, then a too_large error", len(rows), err, tc.rows)
			}
		})
	}
}

func TestCSVHeaderProblems(t *testing.T) {
	long := strings.Repeat("长", 65)
	for _, tc := range []struct {
		name, file string
		kind       errs.Kind
		want       string // in the message
	}{
		{"rejects a national code given twice", "CF_WSH,BZ,cf_wsh\n", errs.Invalid, "columns 1 (CF_WSH) and 3 (cf_wsh) are both CF_WSH"},
		{"rejects a subject column given twice", "ref,name,subject.name\n", errs.Invalid, "columns 2 (name) and 3 (subject.name) are both name"},
		{"rejects a name over 64 characters", "ref," + long + "\n", errs.Invalid, "column 2 is longer than 64"},
		{"rejects more than 200 columns", strings.Repeat("a,", 200) + "a\n", errs.Invalid, "201 columns"},
		{"rejects an empty file", "", errs.Invalid, "empty"},
		{"rejects a file with only a byte order mark", "\uFEFF", errs.Invalid, "empty"},
		{"rejects a header without names", ",,\n1,2,3\n", errs.Invalid, "must name the columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(FormatCSV, strings.NewReader(tc.file), "XZCF", "")
			if errs.KindOf(err) != tc.kind || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewReader = %v; want %s error containing %q", err, tc.kind, tc.want)
			}
		})
	}
}

func TestCSVUnnamedColumnAndSubjectColumns(t *testing.T) {
	file := "ref,item,subject.id_type,id_number,name,decided_on,severity,,fine_amount\n" +
		" R1 ,XZXK,身份证,11010519491231002X,张三,2024-03-15,minor,,500\n" +
		"R2,,,,,,,stray,\n"
	r, err := NewReader(FormatCSV, strings.NewReader(file), "XZCF", "")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := record.Submission{
		Ref: "R1", Item: "XZXK", DecidedOn: "2024-03-15", Severity: "minor",
		Subject: record.Subject{IDType: "身份证", IDNumber: "11010519491231002X", Name: "张三"},
		Fields:  map[string]any{"fine_amount": "500"},
	}
	if len(rows) != 2 || !reflect.DeepEqual(rows[0].Sub, want) {
		t.Fatalf("rows = %+v; want first %+v", rows, want)
	}
	if got := codes(rows[1]); rows[1].Sub.Item != "XZCF" || !reflect.DeepEqual(got, []string{":unnamed_column"}) {
		t.Errorf("line 3 = %+v, %v", rows[1].Sub, got)
	}
}

func TestNDJSON(t *testing.T) {
	rows := readFile(t, FormatNDJSON, "submissions.ndjson")
	// Line 3 is empty and line 7 holds only spaces.
	if got, want := lines(rows), []int{1, 2, 4, 5, 6, 8, 9}; !reflect.DeepEqual(got, want) {
		t.Fatalf("lines = %v; want %v", got, want)
	}
	byLine := map[int]Row{}
	for _, r := range rows {
		byLine[r.Line] = r
	}

	want1 := record.Submission{
		Ref: "R1", Item: "XZCF", DecidedOn: "2024-03-15",
		Subject: record.Subject{IDType: "身份证", IDNumber: "11010519491231002X", Name: "张三"},
		Fields: map[string]any{
			"CF_WSH": "京朝市监罚〔2024〕101号", "CF_NR_FK": json.Number("0.5"), "CF_CFLB": []any{"罚款"},
		},
	}
	if got := byLine[1]; !reflect.DeepEqual(got.Sub, want1) || got.Errors != nil {
		t.Errorf("line 1 = %+v, %v\nwant %+v", got.Sub, got.Errors, want1)
	}

	want2 := record.Submission{Ref: "R2", Item: "XZCF", Fields: map[string]any{
		"CF_XDR_MC": "李四", "CF_XDR_ZJHM": "440308199901101512", "CF_WSH": "深南市监罚〔2024〕58号",
		"CF_NR_FK": json.Number("1.2"), "CF_CFLB": []any{"罚款", "没收违法所得"}, "CF_JDRQ": "2024-04-01",
		"CF_NR_ZKDX": false,
		// BZ "" and CF_YXQ null are absent.
	}}
	if got := byLine[2]; !reflect.DeepEqual(got.Sub, want2) || got.Errors != nil {
		t.Errorf("line 2 (flat) = %+v, %v\nwant %+v", got.Sub, got.Errors, want2)
	}

	for line, want := range map[int][]string{
		4: {":malformed_json"},
		5: {":not_object"},
		6: {"department:unknown_field", "subject.gender:unknown_field"},
	} {
		if got := codes(byLine[line]); !reflect.DeepEqual(got, want) {
			t.Errorf("line %d errors = %v; want %v", line, got, want)
		}
	}
	if msg := byLine[4].Errors[0].Message; msg != "unexpected EOF" {
		t.Errorf("line 4 message = %q; want the decoder's", msg)
	}

	want8 := record.Submission{Item: "XZXK", DecidedOn: "2024-06-10",
		Subject: record.Subject{IDNumber: "440308199901101512", Name: "欧阳娜娜"},
		Fields:  map[string]any{"XK_WSH": "深南许〔2024〕7号", "XK_XKLB": "普通"},
	}
	if got := byLine[8]; !reflect.DeepEqual(got.Sub, want8) || got.Errors != nil {
		t.Errorf("line 8 (flat, CRLF) = %+v, %v\nwant %+v", got.Sub, got.Errors, want8)
	}
	if got := byLine[9]; got.Sub.Ref != "R6" || got.Sub.Severity != "minor" || got.Errors != nil {
		t.Errorf("line 9 (after bad lines) = %+v, %v", got.Sub, got.Errors)
	}
}

func TestNDJSONRowProblems(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       []string
	}{
		{"rejects two values on a line", `{"ref":"R1"} {"ref":"R2"}`, []string{":malformed_json"}},
		{"rejects a number", `42`, []string{":not_object"}},
		{"rejects null", `null`, []string{":not_object"}},
		{"rejects a subject that is not an object", `{"subject":"张三"}`, []string{"subject:type"}},
		{"rejects fields that are not an object", `{"fields":[1]}`, []string{"fields:type"}},
		{"rejects a ref that is an object", `{"ref":{},"fields":{}}`, []string{"ref:type"}},
		{"rejects a flat id number that is a list", `{"subject.id_number":["1"]}`, []string{"subject.id_number:type"}},
		{"rejects keys that are the same column", `{"CF_WSH":"a","cf_wsh":"b"}`, []string{"fields.CF_WSH:duplicate"}},
		{"rejects invalid UTF-8", "{\"name\":\"\xff\"}", []string{":encoding"}},
		{"accepts a Submission with a null subject", `{"subject":null,"ref":"R1"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newNDJSONReader(strings.NewReader(tc.line+"\n"+`{"ref":"next"}`), "XZCF")
			rows, err := readAll(t, r, 10)
			if err != nil || len(rows) != 2 {
				t.Fatalf("rows = %+v, %v", rows, err)
			}
			if got := codes(rows[0]); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors = %v; want %v", got, tc.want)
			}
			if rows[1].Sub.Ref != "next" || rows[1].Line != 2 {
				t.Errorf("the next line = %+v", rows[1])
			}
		})
	}
}

func TestNDJSONLongLines(t *testing.T) {
	// A line of exactly maxLine bytes is read; one byte more is a row error.
	exact := `{"BZ":"` + strings.Repeat("x", maxLine-len(`{"BZ":""}`)) + `"}`
	over := `{"BZ":"` + strings.Repeat("y", maxLine) + `"}`
	file := exact + "\r\n" + over + "\n" + `{"ref":"R3"}`
	rows, err := readAll(t, newNDJSONReader(strings.NewReader(file), "XZCF"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(rows); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Fatalf("lines = %v", got)
	}
	if rows[0].Errors != nil || len(rows[0].Sub.Fields["BZ"].(string)) != maxLine-len(`{"BZ":""}`) {
		t.Errorf("line 1 (exactly %d bytes): errors %v", maxLine, rows[0].Errors)
	}
	if got := codes(rows[1]); !reflect.DeepEqual(got, []string{":too_long"}) {
		t.Errorf("line 2 errors = %v; want too_long", got)
	}
	if rows[2].Sub.Ref != "R3" || rows[2].Errors != nil {
		t.Errorf("line 3 = %+v", rows[2])
	}
}

// writeWorkbook writes a workbook whose first sheet is a penalty export as a
// department's spreadsheet has it: a date cell, a serial day number, a
// Chinese date format that excelize shows as a serial, a left-out row.
func writeWorkbook(t *testing.T, name string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sh := "处罚信息"
	if err := f.SetSheetName("Sheet1", sh); err != nil {
		t.Fatal(err)
	}
	style := func(s excelize.Style) int {
		id, err := f.NewStyle(&s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	shortDate, chineseDate, twoDecimals := style(excelize.Style{NumFmt: 14}), style(excelize.Style{NumFmt: 31}), style(excelize.Style{NumFmt: 2})
	set := func(cell string, v any, styleID int) {
		t.Helper()
		if err := f.SetCellValue(sh, cell, v); err != nil {
			t.Fatal(err)
		}
		if styleID != 0 {
			if err := f.SetCellStyle(sh, cell, cell, styleID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SetSheetRow(sh, "A1", &[]string{"ref", "CF_XDR_MC", "CF_XDR_ZJHM", "cf_wsh", "CF_JDRQ", "CF_YXQ", "CF_NR_FK", "BZ"}); err != nil {
		t.Fatal(err)
	}
	if err := f.SetSheetRow(sh, "A2", &[]any{"R1", "张三", "11010519491231002X", "京朝市监罚〔2024〕101号"}); err != nil {
		t.Fatal(err)
	}
	set("E2", time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), shortDate)
	set("F2", 46460, 0) // a bare serial day number: 2027-03-14
	set("G2", 0.5, 0)
	// Row 3 is left out of the sheet.
	if err := f.SetSheetRow(sh, "A4", &[]any{"R2", "李四", "440308199901101512", "深南市监罚〔2024〕58号"}); err != nil {
		t.Fatal(err)
	}
	set("E4", time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), chineseDate)
	set("F4", "2027-03-31", 0)
	set("I4", "多余的一格", 0)
	if err := f.SetSheetRow(sh, "A5", &[]any{"R3", "王五", "11010519491231002X", "京朝市监罚〔2024〕102号"}); err != nil {
		t.Fatal(err)
	}
	set("G5", 2, twoDecimals)
	set("H5", "", 0) // an empty cell the sheet keeps
	// A second sheet is not read.
	if _, err := f.NewSheet("说明"); err != nil {
		t.Fatal(err)
	}
	set2 := f.SetSheetRow("说明", "A1", &[]string{"本表由市场监管局导出"})
	if set2 != nil {
		t.Fatal(set2)
	}
	if err := f.SaveAs(name); err != nil {
		t.Fatal(err)
	}
}

func TestXLSX(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "penalties.xlsx")
	writeWorkbook(t, name)
	file, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	spool := t.TempDir()
	r, err := NewReader(FormatXLSX, file, "XZCF", spool)
	if err != nil {
		t.Fatal(err)
	}
	// The spooled copy is gone once the workbook is open, before any row
	// is read: a crash while reading leaves no personal data behind.
	if left, _ := filepath.Glob(filepath.Join(spool, "ingest-*")); len(left) != 0 {
		t.Errorf("the spooled workbook is still there while the rows are read: %v", left)
	}
	rows, err := readAll(t, r, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := lines(rows); !reflect.DeepEqual(got, []int{2, 4, 5}) {
		t.Fatalf("lines = %v; want 2 4 5", got)
	}
	want := record.Submission{Ref: "R1", Item: "XZCF", Fields: map[string]any{
		"CF_XDR_MC": "张三", "CF_XDR_ZJHM": "11010519491231002X", "CF_WSH": "京朝市监罚〔2024〕101号",
		"CF_JDRQ": "2024-03-15", "CF_YXQ": "2027-03-14", "CF_NR_FK": "0.5",
	}}
	if !reflect.DeepEqual(rows[0].Sub, want) || rows[0].Errors != nil {
		t.Errorf("row 2 = %+v, %v\nwant %+v", rows[0].Sub, rows[0].Errors, want)
	}
	if got := rows[1].Sub.Fields; got["CF_JDRQ"] != "2024-04-01" || got["CF_YXQ"] != "2027-03-31" {
		t.Errorf("row 4 dates = %v, %v", got["CF_JDRQ"], got["CF_YXQ"])
	}
	if got := codes(rows[1]); !reflect.DeepEqual(got, []string{":extra_cells"}) {
		t.Errorf("row 4 errors = %v; want extra_cells", got)
	}
	if got := rows[2]; got.Errors != nil || got.Sub.Fields["CF_NR_FK"] != "2" || got.Sub.Ref != "R3" {
		t.Errorf("row 5 = %+v, %v; want the raw value 2, not its display format", got.Sub, got.Errors)
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("Close left %v in the temporary directory", left)
	}
}

func TestXLSXProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		file func(t *testing.T) []byte
		kind errs.Kind
	}{
		{"rejects a file that is not a zip", func(*testing.T) []byte { return []byte("ref,name\nR1,张三\n") }, errs.Malformed},
		{"rejects an empty file", func(*testing.T) []byte { return nil }, errs.Malformed},
		{"rejects an empty sheet", func(t *testing.T) []byte {
			f := excelize.NewFile()
			b, err := f.WriteToBuffer()
			if err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}, errs.Invalid},
		{"rejects a duplicate column", func(t *testing.T) []byte {
			f := excelize.NewFile()
			f.SetSheetRow("Sheet1", "B2", &[]string{"CF_WSH", "cf_wsh"})
			b, err := f.WriteToBuffer()
			if err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}, errs.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spool := t.TempDir()
			_, err := NewReader(FormatXLSX, bytes.NewReader(tc.file(t)), "XZCF", spool)
			if errs.KindOf(err) != tc.kind {
				t.Errorf("NewReader = %v; want %s", err, tc.kind)
			}
			if left, _ := os.ReadDir(spool); len(left) != 0 {
				t.Errorf("a failed NewReader left %v behind", left)
			}
		})
	}
}

// TestCSVMemory streams 200,000 rows through a pipe and checks that the heap
// stays small: the reader must not hold the file or its rows.
func TestCSVMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200,000 rows")
	}
	const n = 200_000
	pr, pw := io.Pipe()
	go func() {
		w := csv.NewWriter(pw)
		w.Write([]string{"ref", "id_number", "name", "decided_on", "CF_WSH", "CF_NR", "CF_SY"})
		for i := range n {
			w.Write([]string{fmt.Sprintf("R%06d", i), "11010519491231002X", "张三", "2024-03-15",
				fmt.Sprintf("京朝市监罚〔2024〕%d号", i), "罚款人民币0.5万元", strings.Repeat("当事人经营超过保质期的食品。", 10)})
		}
		w.Flush()
		pw.CloseWithError(w.Error())
	}()
	r, err := NewReader(FormatCSV, pr, "XZCF", "")
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var ms runtime.MemStats
	var peak uint64
	count, last := 0, 0
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Errors != nil {
			t.Fatalf("line %d: %v", row.Line, row.Errors)
		}
		count, last = count+1, row.Line
		if count%5000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if count != n || last != n+1 {
		t.Fatalf("read %d rows, the last on line %d; want %d, %d", count, last, n, n+1)
	}
	const limit = 32 << 20
	t.Logf("peak HeapInuse %.1f MiB", float64(peak)/(1<<20))
	if peak > limit {
		t.Errorf("HeapInuse reached %d bytes; want under %d", peak, limit)
	}
}

// TestCrashers reads inputs that once broke a reader, or might: none may
// panic or fail to end.
func TestCrashers(t *testing.T) {
	files, err := filepath.Glob("testdata/crashers/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no crashers: %v", err)
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			format, ok := FormatOf(name)
			if !ok {
				t.Fatalf("no format for %s", name)
			}
			drain(t, format, data)
		})
	}
}

// drain reads data to its end, checking that lines increase and that Next
// ends.
func drain(t testing.TB, format string, data []byte) []Row {
	t.Helper()
	r, err := NewReader(format, bytes.NewReader(data), "XZCF", "")
	if err != nil {
		if errs.KindOf(err) == errs.Internal {
			t.Fatalf("NewReader: an error without a kind: %v", err)
		}
		return nil
	}
	defer r.Close()
	rows, err := readAll(t, r, len(data)+1)
	if err != nil && errs.KindOf(err) == errs.Internal {
		t.Fatalf("Next: %v (reading from memory cannot fail)", err)
	}
	prev := 0
	for _, row := range rows {
		if row.Line <= prev {
			t.Fatalf("line %d after line %d", row.Line, prev)
		}
		prev = row.Line
	}
	return rows
}

// addSeeds adds the files matching pattern in testdata to the corpus, line
// by line when byLine: small seeds keep the fuzzer's minimizing quick.
func addSeeds(f *testing.F, pattern string, byLine bool) {
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds %s: %v", pattern, err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 4<<10 {
			continue // deep.ndjson: TestCrashers reads it
		}
		if !byLine {
			f.Add(data)
			continue
		}
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			f.Add(line)
		}
	}
}

// FuzzNDJSON reads arbitrary bytes, then writes every good row back as a
// Submission object and reads it again: it must come back the same.
func FuzzNDJSON(f *testing.F) {
	addSeeds(f, "submissions.ndjson", true)
	addSeeds(f, "crashers/*.ndjson", false)
	f.Add([]byte("{\"a\":1}\r\n\n{\"subject\":{}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := drain(t, FormatNDJSON, data)
		if len(rows) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d rows from %d lines", len(rows), bytes.Count(data, []byte("\n"))+1)
		}
		for _, row := range rows {
			if row.Errors != nil {
				continue
			}
			var line bytes.Buffer
			enc := json.NewEncoder(&line)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(row.Sub); err != nil {
				t.Fatalf("line %d: %v", row.Line, err)
			}
			again, err := newNDJSONReader(&line, "XZCF").Next()
			if err != nil || again.Errors != nil || !reflect.DeepEqual(again.Sub, row.Sub) {
				t.Fatalf("line %d: %+v re-read as %+v (%v, %v)", row.Line, row.Sub, again.Sub, again.Errors, err)
			}
		}
	})
}

// FuzzCSV reads arbitrary bytes: good rows hold only non-empty text.
func FuzzCSV(f *testing.F) {
	addSeeds(f, "crashers/*.csv", false)
	small := "\uFEFFref,CF_XDR_MC,cf_sy\r\nR1,张三,\"当事人\r\n经营\"\r\n,,\r\nR2,\"李\"四\",x,多余\r\nR3\n"
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String(small[len("\uFEFF"):])
	f.Add([]byte(small))
	f.Add([]byte(gb))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, row := range drain(t, FormatCSV, data) {
			if row.Line < 2 {
				t.Fatalf("a data row on line %d", row.Line)
			}
			if row.Errors != nil {
				continue
			}
			for k, v := range row.Sub.Fields {
				if s, ok := v.(string); !ok || strings.TrimSpace(s) == "" || k == "" {
					t.Fatalf("line %d: field %q = %#v", row.Line, k, v)
				}
			}
		}
	})
}

// TestAFileWithoutItemsIsRefused: a CSV or workbook with no item column,
// sent without ?item=, cannot name the item of any row: the file is
// refused naming item, rather than each row.
func TestAFileWithoutItemsIsRefused(t *testing.T) {
	const noItem = "ref,CF_WSH\nR1,津罚1号\n"
	_, err := NewReader(FormatCSV, strings.NewReader(noItem), "", "")
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Details) != 1 || e.Details[0].Field != "item" {
		t.Errorf("a CSV without items: %v, want Invalid naming item", err)
	}
	for _, tc := range []struct{ body, item string }{{noItem, "XZCF"}, {"ref,item\nR1,XZCF\n", ""}} {
		r, err := NewReader(FormatCSV, strings.NewReader(tc.body), tc.item, "")
		if err != nil {
			t.Errorf("%q with ?item=%q: %v", tc.body, tc.item, err)
			continue
		}
		r.Close()
	}
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetRow("Sheet1", "A1", &[]string{"ref", "CF_WSH"}); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewReader(FormatXLSX, b, "", t.TempDir())
	if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Details[0].Field != "item" {
		t.Errorf("a workbook without items: %v, want Invalid naming item", err)
	}
}

// TestCSVRowLimit: a row longer than maxLine ends the file with an error
// naming the line it starts on, before the CSV reader holds it, whether it
// is one line or a quoted cell over many; rows before it are read, and
// quotes inside cells do not confuse the count.
func TestCSVRowLimit(t *testing.T) {
	const head = "ref,item,BZ\nR1,XZCF,\"ok, \"\"quoted\"\"\"\nR2,XZCF,a\"stray quote\n"
	for name, tc := range map[string]struct {
		body string
		line string
	}{
		"one long line":          {head + "R3,XZCF," + strings.Repeat("x", maxLine) + "\n", "line 4"},
		"a quoted cell of lines": {head + "R3,XZCF,\"" + strings.Repeat("short line\n", maxLine/10) + "\"\n", "line 4"},
	} {
		r, err := NewReader(FormatCSV, strings.NewReader(tc.body), "", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"R1", "R2"} {
			if row, err := r.Next(); err != nil || row.Sub.Ref != ref {
				t.Fatalf("%s: row %s: %+v, %v", name, ref, row, err)
			}
		}
		_, err = r.Next()
		var e *errs.Error
		if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Details) != 1 || e.Details[0].Field != "body" || !strings.Contains(e.Details[0].Message, tc.line) {
			t.Errorf("%s: %v, want Invalid naming body and %s", name, err, tc.line)
		}
	}
	// A quoted cell of many short lines under the limit is read whole.
	spanning := "ref,item,BZ\nR1,XZCF,\"" + strings.Repeat("short line\n", maxLine/16) + "\"\nR2,XZCF,x\n"
	r, err := NewReader(FormatCSV, strings.NewReader(spanning), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"R1", "R2"} {
		if row, err := r.Next(); err != nil || row.Sub.Ref != ref {
			t.Errorf("row %s after a long quoted cell: %+v, %v", ref, row.Sub.Ref, err)
		}
	}
}

// TestXLSXIdentityNumbersAsNumbers: an 18-digit identity number typed into
// a number cell keeps 15 digits; a sheet whose identity column holds one is
// refused naming the column. Text cells, and 15-digit legacy numbers in
// number cells (kept whole), are read.
func TestXLSXIdentityNumbersAsNumbers(t *testing.T) {
	book := func(id any) *bytes.Buffer {
		f := excelize.NewFile()
		defer f.Close()
		if err := f.SetSheetRow("Sheet1", "A1", &[]string{"ref", "CF_XDR_MC", "CF_XDR_ZJHM"}); err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow("Sheet1", "A2", &[]any{"R1", "张三", id}); err != nil {
			t.Fatal(err)
		}
		b, err := f.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	_, err := NewReader(FormatXLSX, book(float64(120108198001018123)), "XZCF", t.TempDir())
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Details[0].Field != "fields.CF_XDR_ZJHM" || !strings.Contains(e.Details[0].Message, "column C") {
		t.Errorf("an identity number in a number cell: %v, want Invalid naming fields.CF_XDR_ZJHM and column C", err)
	}
	for _, ok := range []any{"120108198001018123", 110105491231002} {
		r, err := NewReader(FormatXLSX, book(ok), "XZCF", t.TempDir())
		if err != nil {
			t.Errorf("%v (%T): %v", ok, ok, err)
			continue
		}
		row, err := r.Next()
		r.Close()
		if err != nil || row.Sub.Fields["CF_XDR_ZJHM"] != fmt.Sprint(ok) {
			t.Errorf("%v (%T): row %+v, %v", ok, ok, row.Sub.Fields, err)
		}
	}
}

// TestXLSXBomb: a workbook whose part unzips to more than maxPart at more
// than maxRatio times its size (cells of one repeated character) is
// refused before it is read.
func TestXLSXBomb(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetRow("Sheet1", "A1", &[]string{"ref", "CF_SY"}); err != nil {
		t.Fatal(err)
	}
	fill := strings.Repeat("x", 32000) // a cell holds at most 32,767 characters
	for row := range 600 {
		if err := f.SetCellValue("Sheet1", fmt.Sprint("B", row+2), fmt.Sprint(row, fill)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	size := b.Len()
	_, err = NewReader(FormatXLSX, b, "XZCF", t.TempDir())
	if errs.KindOf(err) != errs.TooLarge || !strings.Contains(err.Error(), "times") {
		t.Errorf("a %d-byte workbook of 19 MB of cells: %v, want TooLarge", size, err)
	}
}

// TestXLSXBooleans: a boolean cell reads as TRUE or FALSE, as the sheet
// shows it, not as the 1 or 0 it is stored as (TRUE in CF_NR_FK was a fine
// of 10,000 yuan); numbers around it still read as numbers.
func TestXLSXBooleans(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetRow("Sheet1", "A1", &[]string{"ref", "CF_NR_FK", "CF_NR_WFFF"}); err != nil {
		t.Fatal(err)
	}
	for row, v := range []any{true, false} {
		if err := f.SetSheetRow("Sheet1", fmt.Sprint("A", row+2), &[]any{fmt.Sprint("R", row), v, 1}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(FormatXLSX, b, "XZCF", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, want := range []string{"TRUE", "FALSE"} {
		row, err := r.Next()
		if err != nil || row.Sub.Fields["CF_NR_FK"] != want || row.Sub.Fields["CF_NR_WFFF"] != "1" {
			t.Errorf("row %+v, %v: want CF_NR_FK %s and CF_NR_WFFF 1", row.Sub.Fields, err, want)
		}
	}
}

// TestXLSXTooManyBooleans: past maxBools true/false cells the scan would
// no longer tell which cells hold one, and TRUE would read as 1 again: the
// workbook is refused (TooLarge).
func TestXLSXTooManyBooleans(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"ref", "CF_NR_FK"}); err != nil {
		t.Fatal(err)
	}
	for i := range maxBools + 1 {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{fmt.Sprint("R", i), true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(FormatXLSX, b, "XZCF", t.TempDir())
	if err == nil {
		r.Close()
	}
	if !errors.Is(err, errs.TooLarge) || !strings.Contains(err.Error(), "true/false cells") {
		t.Errorf("a sheet of %d true/false cells: %v, want TooLarge naming them", maxBools+1, err)
	}
}

// TestHeaderProblemsTogether: a header with a repeated column and no item
// column, in a batch that names no item, is refused naming both at once.
func TestHeaderProblemsTogether(t *testing.T) {
	_, err := NewReader(FormatCSV, strings.NewReader("ref,CF_WSH,CF_WSH\nR1,x,y\n"), "", t.TempDir())
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Details) != 2 || e.Details[0].Code != "duplicate" || e.Details[1].Field != "item" {
		t.Errorf("%v, want the duplicate column and the missing item named together", err)
	}
}
