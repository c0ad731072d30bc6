package sqlite

import (
	"math/rand/v2"
	"testing"
	"time"
)

// readStamp, the fast path of parseTS, reads what time.Parse reads in
// timeLayout and leaves it everything else.
func TestReadStampMatchesTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	inputs := []string{"2026-11-30T18:04:05.123456789Z", "2024-02-29T23:59:59.999999999Z", "2023-02-29T00:00:00.000000000Z",
		"2026-11-30T24:00:00.000000000Z", "2026-11-30T12:60:00.000000000Z", "2026-11-30T12:00:60.000000000Z",
		"2026-11-30T12:00:00.00000000Z", "2026-11-30T12:00:00.000000000+", "2026-11-30 12:00:00.000000000Z", ""}
	for range 200000 {
		at := time.Unix(r.Int64N(250e9)-62e9, r.Int64N(1e9)).UTC()
		s := []byte(at.Format(timeLayout))
		if r.IntN(3) == 0 {
			s[r.IntN(len(s))] = "0123456789-:.TZ x"[r.IntN(17)]
		}
		inputs = append(inputs, string(s))
	}
	for _, s := range inputs {
		got, ok := readStamp(s)
		want, err := time.Parse(timeLayout, s)
		if ok && (err != nil || !got.Equal(want) || got.Location() != want.Location()) {
			t.Fatalf("readStamp(%q) = %v, time.Parse: %v, %v", s, got, want, err)
		}
		if !ok && err == nil && len(s) == len(timeLayout) {
			t.Errorf("readStamp(%q) left a real time to time.Parse", s)
		}
	}
}
