package api

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"pubcredit/internal/errs"
)

// TestDecodeJSONNamesTheFullPath: a value of the wrong type or an unknown
// key deep in a body is named with its array indexes, as the validation
// problems are.
func TestDecodeJSONNamesTheFullPath(t *testing.T) {
	type item struct {
		Measure string `json:"measure"`
		Applied *bool  `json:"applied"`
	}
	type body struct {
		Subject struct {
			IDNumber string `json:"id_number"`
		} `json:"subject"`
		Results []item `json:"results"`
	}
	for _, c := range []struct {
		body, field, code string
	}{
		{`{"results":[{"measure":1,"applied":true}]}`, "results[0].measure", "type"},
		{`{"results":[{"measure":"A","applied":true},{"measure":"B","applied":"yes"}]}`, "results[1].applied", "type"},
		{`{"results":[{"measure":"A","applied":true,"extra":1}]}`, "results[0].extra", "unknown_field"},
		{`{"subject":{"id_number":"x","foo":[1,{"a":2}]}}`, "subject.foo", "unknown_field"},
		{`{"subject":{"id_number":7}}`, "subject.id_number", "type"},
		{`{"subject":{"id_number":"x"},"results":{"measure":"A"}}`, "results", "type"},
		{`{"bar":true}`, "bar", "unknown_field"},
		{`{"subject":{"id_number":"x","id_number":"y"}}`, "subject.id_number", "repeated"},
		{`{"results":[{"measure":"A","applied":true,"Applied":false}]}`, "results[0].Applied", "repeated"},
		{`{"results":[{"measure":"A","applied":true},{"measure":"B","applied":true,"measure":"C"}]}`, "results[1].measure", "repeated"},
		{`{"subject":{"id_number":"x\u0000"}}`, "subject.id_number", "format"},
		{`{"results":[{"measure":"A","applied":true},{"measure":"B\u0000"}]}`, "results[1].measure", "format"},
		{`{"subject":{"id_\u0000number":"x"}}`, "subject.id_\x00number", "format"},
		{`{"subject":{"id_number":"x"},"a\u0000":1}`, "a\x00", "format"},
		{`{"subject":{"id_number":"x","id_number\u0000":"y","id_number\u0000":"z"}}`, "subject.id_number\x00", "format"},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		var v body
		err := decodeJSON(r, 1<<20, &v)
		var e *errs.Error
		if !errors.As(err, &e) || len(e.Details) != 1 || e.Details[0].Field != c.field || e.Details[0].Code != c.code {
			t.Errorf("%s: %v (details %+v), want %s %s", c.body, err, detailsOf(e), c.field, c.code)
		}
	}
}

// TestDecodeJSONRefusesInvalidUTF8: encoding/json would turn it into
// U+FFFD and store that.
func TestDecodeJSONRefusesInvalidUTF8(t *testing.T) {
	var v struct{ Name string }
	err := decodeJSON(httptest.NewRequest("POST", "/", strings.NewReader("{\"Name\":\"\xff\xfe\"}")), 1<<20, &v)
	if errs.KindOf(err) != errs.Malformed {
		t.Errorf("invalid UTF-8: %v, want a malformed body", err)
	}
}

// TestDecodeJSONTakesTheSameKeyInOtherObjects: a key is repeated only
// within one object.
func TestDecodeJSONTakesTheSameKeyInOtherObjects(t *testing.T) {
	var v struct {
		Subject struct {
			IDNumber string `json:"id_number"`
		} `json:"subject"`
		Results []struct {
			Measure string `json:"measure"`
		} `json:"results"`
	}
	body := `{"subject":{"id_number":"x"},"results":[{"measure":"A"},{"measure":"B"}]}`
	if err := decodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(body)), 1<<20, &v); err != nil || len(v.Results) != 2 {
		t.Errorf("decode = %v, %+v", err, v)
	}
}

func detailsOf(e *errs.Error) any {
	if e == nil {
		return nil
	}
	return e.Details
}

// TestLimitBodyKeepsWhatFits: the bytes up to the limit are read whatever
// the sizes of the reads, then TooLarge; a batch keeps the rows that end
// before the limit however its body arrives.
func TestLimitBodyKeepsWhatFits(t *testing.T) {
	body := strings.Repeat("0123456789", 10)
	for name, r := range map[string]func() io.Reader{
		"one read":      func() io.Reader { return strings.NewReader(body) },
		"byte by byte":  func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
		"in half reads": func() io.Reader { return iotest.HalfReader(strings.NewReader(body)) },
	} {
		for _, limit := range []int64{0, 1, 37, 99, 100, 101} {
			got, err := io.ReadAll(limitBody(r(), limit))
			wantLen := min(limit, int64(len(body)))
			if int64(len(got)) != wantLen || got != nil && string(got) != body[:len(got)] {
				t.Errorf("%s, limit %d: read %d bytes, want %d", name, limit, len(got), wantLen)
			}
			if over := limit < int64(len(body)); over != (errs.KindOf(err) == errs.TooLarge) || !over && err != nil {
				t.Errorf("%s, limit %d: error %v", name, limit, err)
			}
		}
	}
}
