package jsonpath

import (
	"encoding/json"
	"testing"
)

func TestFirstRepeated(t *testing.T) {
	for _, tc := range []struct {
		body string
		fold bool
		want string // "" for none
	}{
		{`{"a":1,"b":2}`, false, ""},
		{`{"a":1,"a":2}`, false, "a"},
		{`{"a":1,"A":2}`, false, ""},
		{`{"a":1,"A":2}`, true, "A"},
		{`{"b":1,"a":1,"b":2,"a":2}`, false, "b"},
		{`{"x":{"a":1},"y":{"a":1}}`, false, ""},
		{`{"x":[{"a":1},{"a":1,"b":[0,{"c":1,"c":2}]}]}`, false, "x[1].b[1].c"},
		{`[{"a":1},{"a":2,"a":3}]`, false, "[1].a"},
		{`{"a\u0062":1,"ab":2}`, false, "ab"},
		{`{"a":1,"a":`, false, "a"}, // found before the text breaks off
		{`{"a":1,}`, false, ""},
	} {
		steps, ok := FirstRepeated([]byte(tc.body), tc.fold)
		if got := Render(steps); ok != (tc.want != "") || got != tc.want {
			t.Errorf("FirstRepeated(%s, %v) = %q, %v; want %q", tc.body, tc.fold, got, ok, tc.want)
		}
	}
}

func TestWhereNamesValues(t *testing.T) {
	body := []byte(`{"results":[{"measure":"A","note":"x"},{"measure":"B","note":7}]}`)
	number := func(tok json.Token, _ int64, isKey bool) bool { _, n := tok.(json.Number); return !isKey && n }
	if got := Where(body, false, number); got != "results[1].note" {
		t.Errorf("Where = %q, want results[1].note", got)
	}
	if got := Where(body, false, func(json.Token, int64, bool) bool { return false }); got != "" {
		t.Errorf("Where found %q where nothing is hit", got)
	}
}
