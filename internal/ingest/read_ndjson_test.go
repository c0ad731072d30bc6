package ingest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"pubcredit/internal/clock"
	"pubcredit/internal/demo"
	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

// flatLines are flat objects that scanFlat reads itself, and lines it
// leaves to the decoder; either way a line must read as the decoder reads it.
var flatLines = []struct {
	line string
	fast bool // read by scanFlat
}{
	{`{}`, true},
	{` { } `, true},
	{"\t{\"ref\" : \"R1\" ,\r\"CF_NR_FK\":0.5}\t", true},
	{`{"ref":"R2","CF_XDR_MC":"李四","cf_wsh":"深南市监罚〔2024〕58号","CF_NR_FK":1.2,"CF_CFLB":["罚款","没收违法所得"],"BZ":"","CF_NR_ZKDX":false,"CF_YXQ":null}`, true},
	{`{"a":-0,"b":0.25e+3,"c":1E9,"d":-12.5e-1,"e":true,"f":[],"g":[ 1 , "x" , null , false ]}`, true},
	{`{"CF_WSH":"a","cf_wsh":"b"}`, true},
	{`{"CF_WSH":"a","CF_WSH":"b","CF_WSH":""}`, true},
	{`{"b":1,"a":1,"b":2,"a":2,"a":3}`, true},
	{`{"a":1,"b":1,"b":2,"a":2}`, true},
	{`{"ref":"R1","subject.name":"a","subject.name":"b"}`, true},
	{`{"a":{"b":1,"b":2}}`, false},
	{`{"a":[{"b":1},{"b":1,"b":2}]}`, false},
	{`{"ref":"R1","ref":"R2","fields":{}}`, false},
	{`{"subject":{"name":"a","name":"b"},"fields":{"x":1,"x":2}}`, false},
	{`{"Subject":null,"ref":"R1"}`, false},
	{`{"FIELDS":{},"REF":"R1","Ref":"R2"}`, false},
	{`{"ſubject":{}}`, false},
	{`{"subject.name":"张三","name":"李四"}`, true},
	{`{"":"x","   ":"y"}`, true},
	{`{"` + strings.Repeat("K", 65) + `":"x","` + strings.Repeat("K", 65) + `x":"y"}`, true},
	{`{"BZ":"tab\tand \"quotes\" \u4e2d \ud800 \\ \/"}`, true},
	{`{"B\u005a":"x","BZ":"y"}`, true},
	{`{"ref":"  ","item":" XZCF ","decided_on":20240315,"severity":true}`, true},
	{`{"subject.id_number":["1"]}`, true},
	{`{"subject":null,"ref":"R1"}`, false},
	{`{"fields":{}}`, false},
	{`{"a":{"b":1}}`, false},
	{`{"a":[[1]]}`, false},
	{`{"a":[{}]}`, false},
	{`{"a":1,}`, false},
	{`{"a":01}`, false},
	{`{"a":1.}`, false},
	{`{"a":.5}`, false},
	{`{"a":1e}`, false},
	{`{"a":-}`, false},
	{`{"a":+1}`, false},
	{`{"a":tru}`, false},
	{`{"a":truex}`, false},
	{`{"a":nul}`, false},
	{`{"a":"x"`, false},
	{`{"a" "x"}`, false},
	{`{a:"x"}`, false},
	{`{"a":"x"}{}`, false},
	{`{"a":"x"} x`, false},
	{`{"a":"x` + "\x01" + `"}`, false},
	{`{"a":"\x"}`, false},
	{`{"a":"\u12"}`, false},
	{`{"a":"x\`, false},
	{`{"a":[1,]}`, false},
	{`{"a":[1 2]}`, false},
	{`[1]`, false},
	{`"x"`, false},
	{`42`, false},
	{`null`, false},
	{`{`, false},
	{`}`, false},
}

func TestScanFlatReadsAsTheDecoder(t *testing.T) {
	r := newNDJSONReader(nil, "")
	for _, tc := range flatLines {
		if _, _, ok := r.scanFlat([]byte(tc.line)); ok != tc.fast {
			t.Errorf("scanFlat(%s) ok = %v, want %v", tc.line, ok, tc.fast)
		}
		sameAsDecoder(t, r, []byte(tc.line))
	}
}

func TestScanFlatReadsTheNationalExport(t *testing.T) {
	var buf bytes.Buffer
	if err := demo.New(7, clock.Date{Year: 2026, Month: 11, Day: 30}).WriteNDJSON(&buf, 50, 2); err != nil {
		t.Fatal(err)
	}
	r := newNDJSONReader(nil, "")
	for line := range bytes.Lines(buf.Bytes()) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if _, _, ok := r.scanFlat(line); !ok {
			t.Fatalf("scanFlat left %s to the decoder", line)
		}
		sameAsDecoder(t, r, line)
	}
}

// FuzzScanFlat checks that a line reads the same with and without scanFlat.
func FuzzScanFlat(f *testing.F) {
	for _, tc := range flatLines {
		f.Add([]byte(tc.line))
	}
	addSeeds(f, "submissions.ndjson", true)
	f.Fuzz(func(t *testing.T, line []byte) {
		if !utf8.Valid(line) {
			return
		}
		sameAsDecoder(t, newNDJSONReader(nil, ""), line)
	})
}

// sameAsDecoder fails t unless r reads line as decodeLine does.
func sameAsDecoder(t *testing.T, r *ndjsonReader, line []byte) {
	t.Helper()
	var got, want errs.Problems
	gotSub := r.parseLine(line, false, &got)
	wantSub := decodeLine(line, &want)
	if !reflect.DeepEqual(gotSub, wantSub) || !reflect.DeepEqual(got, want) {
		t.Errorf("%s\nreads as %#v, %v\nthe decoder: %#v, %v", line, gotSub, got, wantSub, want)
	}
}

// A key given twice in one object is a problem of the row, named by its
// path, whichever reader reads the line.
func TestRepeatedKeysAreProblems(t *testing.T) {
	for line, want := range map[string]string{
		`{"CF_WSH":"a","CF_WSH":"b"}`:                                         "CF_WSH",
		`{"b":1,"a":1,"b":2,"a":2}`:                                           "b",
		`{"ref":"R1","subject.name":"a","subject.name":"b"}`:                  "subject.name",
		`{"a":{"b":1,"b":2}}`:                                                 "a.b",
		`{"a":[{"b":1},{"b":1,"b":2}]}`:                                       "a[1].b",
		`{"ref":"R1","ref":"R2","fields":{}}`:                                 "ref",
		`{"subject":{"name":"a","name":"b"},"fields":{"x":1,"x":2}}`:          "subject.name",
		`{"subject":{"name":"a"},"fields":{"x":1,"y":[{"z":1,"z":2}],"x":2}}`: "fields.y[0].z",
		`{"ref":"R1","Ref":"R2","fields":{}}`:                                 "Ref",
		`{"subject":{"name":"a","NAME":"b"},"fields":{}}`:                     "subject.NAME",
		`{"subject":{},"fields":{"CF_NR_FK":1,"cf_nr_fk":2}}`:                 "fields.cf_nr_fk",
	} {
		var p errs.Problems
		newNDJSONReader(nil, "").parseLine([]byte(line), false, &p)
		found := false
		for _, e := range p {
			if e.Code == "repeated" {
				if found || e.Field != fieldPath(columnKey(want)) && e.Field != want {
					t.Errorf("%s: repeated at %q, want one at %q (all: %v)", line, e.Field, want, p)
				}
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no repeated key reported (problems: %v)", line, p)
		}
	}
}

// A Submission object's keys and its subject's are read regardless of
// case, as POST /api/v1/records reads them; its fields' are not.
func TestSubmissionKeysAreReadAsTheAPIReadsThem(t *testing.T) {
	var p errs.Problems
	line := `{"REF":"R1","Item":"XZCF","Decided_On":"2026-05-01","Subject":{"ID_NUMBER":"11010519491231002X","Name":"张三"},"Fields":{"CF_WSH":"a"}}`
	got := newNDJSONReader(nil, "").parseLine([]byte(line), false, &p)
	want := record.Submission{Ref: "R1", Item: "XZCF", DecidedOn: "2026-05-01",
		Subject: record.Subject{IDNumber: "11010519491231002X", Name: "张三"}, Fields: map[string]any{"CF_WSH": "a"}}
	if len(p) != 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("%s\nreads as %#v, %v\nwant %#v", line, got, p, want)
	}
}

// A row that gives its ref twice is rejected without either: which one
// the department meant is unknown.
func TestARefGivenTwiceIsNotNamed(t *testing.T) {
	for _, line := range []string{`{"ref":"A","ref":"B","CF_WSH":"x"}`, `{"ref":"A","Ref":"B","fields":{}}`} {
		row, err := newNDJSONReader(strings.NewReader(line+"\n"), "XZCF").Next()
		if err != nil {
			t.Fatal(err)
		}
		if row.Sub.Ref != "" || len(row.Errors) == 0 {
			t.Errorf("%s: ref %q, problems %v; want no ref and a problem", line, row.Sub.Ref, row.Errors)
		}
	}
}
