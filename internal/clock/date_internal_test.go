package clock

import (
	"math/rand/v2"
	"testing"
	"time"
)

// readDate, the fast path of ParseDate, reads what time.Parse reads and
// leaves it everything else: real and unreal days, and their bytes changed
// at random.
func TestReadDateMatchesTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	inputs := []string{"2024-02-29", "2023-02-29", "2026-12-31", "2026-13-01", "2026-00-10", "2026-04-31", "0000-01-01", "9999-12-31",
		"2026-1-01", "2026-01-1", "20260101", "2026/01/01", "+026-01-01", "2026-01-01 ", ""}
	for range 200000 {
		d := time.Date(r.IntN(10000), time.Month(1+r.IntN(12)), 1+r.IntN(31), 0, 0, 0, 0, time.UTC)
		s := []byte(d.Format(DateLayout))
		if r.IntN(3) == 0 {
			s[r.IntN(len(s))] = "0123456789-+ x"[r.IntN(14)]
		}
		inputs = append(inputs, string(s))
	}
	for _, s := range inputs {
		got, ok := readDate(s)
		want, err := time.Parse(DateLayout, s)
		if ok && (err != nil || got != DateOf(want)) {
			t.Fatalf("readDate(%q) = %v, time.Parse: %v, %v", s, got, want, err)
		}
		if !ok && err == nil && len(s) == len(DateLayout) && s[0] != '+' {
			t.Errorf("readDate(%q) left a real day to time.Parse", s)
		}
	}
}
