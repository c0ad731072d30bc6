package record

import (
	"testing"
	"unicode"
)

func TestHiddenMatchesUnicode(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
		if hidden(r) != want {
			t.Fatalf("hidden(%U) = %v, want %v", r, hidden(r), want)
		}
	}
}
