package jsonpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
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

// distinct may leave a body to Find, never pass one Find finds a repeated
// key in: bodies built at random from keys that differ by case, by escapes
// and by letters EqualFold holds equal (K and the Kelvin sign, s and the
// long s).
func TestDistinctNeverMissesARepeat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	keys := []string{`a`, `A`, `b`, `k`, `\u212a`, `K`, `s`, `\u017f`, `ſ`, `\u0061`, `a b`, `\"`, `\\`, `中`}
	var value func(depth int) string
	value = func(depth int) string {
		switch n := r.IntN(6); {
		case depth > 2 || n < 2:
			return []string{`1`, `"x"`, `"a\":"`, `null`, `" : "`}[r.IntN(5)]
		case n < 4:
			var b strings.Builder
			b.WriteString("{")
			for i := range r.IntN(5) {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(`"` + keys[r.IntN(len(keys))] + `" :` + value(depth+1))
			}
			return b.String() + "}"
		default:
			return "[" + value(depth+1) + "," + value(depth+1) + "]"
		}
	}
	for range 20000 {
		body := []byte(value(0))
		for _, fold := range []bool{false, true} {
			steps, found := Find(body, fold, func(tok json.Token, _ int64, isKey bool) bool { _, r := tok.(Repeated); return isKey && r })
			if found && distinct(body, fold) {
				t.Fatalf("distinct(%s, %v) is true; Find finds %s given again", body, fold, Render(steps))
			}
			if !found && !bytes.Contains(body, []byte(`\`)) && !hasNonASCIIKey(body) && !distinct(body, fold) {
				t.Errorf("distinct(%s, %v) left to Find a body of plain keys, none repeated", body, fold)
			}
		}
	}
}

// hasNonASCIIKey reports whether body may have a key distinct does not
// compare itself.
func hasNonASCIIKey(body []byte) bool {
	return strings.ContainsFunc(string(body), func(r rune) bool { return r >= utf8.RuneSelf })
}

// An object of many keys is checked in a map: a repeated key among
// thousands is found, by its folded form too, and none is found where
// there is none.
func TestFirstRepeatedManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"s":1`)
	for i := range 5000 {
		fmt.Fprintf(&b, `,"k%d":1`, i)
	}
	many := b.String()
	for _, tc := range []struct {
		body string
		fold bool
		want string
	}{
		{many + `}`, true, ""},
		{many + `,"k4999":2}`, false, "k4999"},
		{many + `,"K17":2}`, false, ""},
		{many + `,"K17":2}`, true, "K17"},
		{many + `,"\u017f":2}`, true, "ſ"}, // the long s is s to EqualFold
		{many + `,"\u017f":2}`, false, ""},
	} {
		steps, ok := FirstRepeated([]byte(tc.body), tc.fold)
		if got := Render(steps); ok != (tc.want != "") || got != tc.want {
			t.Errorf("FirstRepeated(…%s, %v) = %q, %v; want %q", tc.body[len(tc.body)-12:], tc.fold, got, ok, tc.want)
		}
	}
}

// BenchmarkFirstRepeated checks a record submission of the size
// departments send for repeated keys, against decoding the same body
// into a map (the baseline, measured in the same run): every JSON body
// the API accepts and every NDJSON row in the Submission form is checked.
//
//	go test ./internal/jsonpath -run '^$' -bench FirstRepeated -benchmem
func BenchmarkFirstRepeated(b *testing.B) {
	body := []byte(`{"ref":"津市监罚〔2025〕0000123号","item":"XZCF","decided_on":"2025-03-01","severity":"general",` +
		`"subject":{"id_type":"resident_id","id_number":"120101199001011234","name":"张三"},` +
		`"fields":{"CF_WSH":"津市监罚〔2025〕0000123号","CF_CFLB":"罚款","CF_NR":"未按规定公示年度报告，处以罚款人民币五千元。","CF_JDRQ":"2025-03-01","CF_CFJG":"天津市市场监督管理委员会"}}`)
	b.Run("decode into a map (baseline)", func(b *testing.B) {
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("FirstRepeated", func(b *testing.B) {
		for b.Loop() {
			if _, ok := FirstRepeated(body, true); ok {
				b.Fatal("a repeated key found where there is none")
			}
		}
	})
	b.Run("the token walk alone", func(b *testing.B) {
		for b.Loop() {
			if _, ok := Find(body, true, func(tok json.Token, _ int64, isKey bool) bool { _, r := tok.(Repeated); return isKey && r }); ok {
				b.Fatal("a repeated key found where there is none")
			}
		}
	})
}
