package canon

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func randomText(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", ",", "[", "]", "中", "〔", "é", "<", ">", "&", "\"", "\\", "\n", "\t", "\x00", "\x1f", "\x7f",
		"\u2028", "\u2029", "\u2027", "\xff", "\xe2\x80", "\xc3", "\U0001F600", "\ufffd", "\\u0041", "\\\""}
	var b strings.Builder
	for range r.IntN(8) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func TestAppendStringsMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		l := make([]string, r.IntN(4))
		for i := range l {
			l[i] = randomText(r)
		}
		want, _ := json.Marshal(l)
		if got := AppendStrings([]byte("x"), l); string(got) != "x"+string(want) {
			t.Fatalf("AppendStrings(%q) = %q, encoding/json %q", l, got[1:], want)
		}
		if got := AppendString(nil, l0(l)); string(got) != string(must(json.Marshal(l0(l)))) {
			t.Fatalf("AppendString(%q) = %q", l0(l), got)
		}
	}
	if got := string(AppendStrings(nil, nil)); got != "[]" {
		t.Errorf("AppendStrings(nil) = %s, want []", got)
	}
}

func l0(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// ParseStrings reads what json.Unmarshal reads, and fails where it fails:
// encoded arrays, their bytes changed at random, and text that is no array.
func TestParseStringsMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	inputs := []string{"", "[", "]", "[]", "null", " []", "[] ", `[""]`, `["a",]`, `[,"a"]`, `["a""b"]`, `["a" ,"b"]`, `["a"`, `"a"]`,
		`["a",1]`, `[1]`, `{}`, `["\u0041"]`, "[\"\xff\"]", "[\"\x01\"]", `["a","b","c"]`, `[null]`, `["a"]]`}
	for range 50000 {
		l := make([]string, r.IntN(4))
		for i := range l {
			l[i] = randomText(r)
		}
		b := must(json.Marshal(l))
		if r.IntN(3) == 0 && len(b) > 0 {
			b[r.IntN(len(b))] = ",[]\" \\a\x00\xff"[r.IntN(8)]
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		var want []string
		wantErr := json.Unmarshal([]byte(in), &want)
		got, err := ParseStrings([]byte(in), []string{"stale"})
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("ParseStrings(%q): error %v, json.Unmarshal %v", in, err, wantErr)
		}
		if err == nil && (!slices.Equal(got, want) || (got == nil) != (want == nil)) {
			t.Fatalf("ParseStrings(%q) = %#v, json.Unmarshal %#v", in, got, want)
		}
	}
}
