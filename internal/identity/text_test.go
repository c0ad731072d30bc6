package identity

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestInTextOnGeneratedTexts: valid numbers written the ways people write
// them are all found and masked; dates, datetimes, amounts and phone
// numbers in a row never are. Seeded, so a failure repeats.
func TestInTextOnGeneratedTexts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	seps := []string{" ", "-", "　", ".", "/", "、", "·", "－", " - ", "_", ";", "|", "，", "〔"}
	for k := range 3000 {
		body := fmt.Sprintf("%s%04d%02d%02d%03d", []string{"110105", "120101", "310101", "440308"}[r.IntN(4)],
			1930+r.IntN(90), 1+r.IntN(12), 1+r.IntN(28), r.IntN(1000))
		n := body + string(checkChar(body))
		sep := seps[r.IntN(len(seps))]
		s := map[int]string{
			0: n,
			1: n[:6] + sep + n[6:14] + sep + n[14:],
			2: n[:4] + sep + n[4:8] + sep + n[8:12] + sep + n[12:16] + sep + n[16:],
			3: strings.Join(strings.Split(n, ""), sep),
			4: n[:3] + sep + n[3:6] + sep + n[6:10] + sep + n[10:14] + sep + n[14:],
			5: "于2026-05-01核查" + n + "，金额1,234.00",
		}[k%6]
		if MaskText(s) == s || !InText(s) {
			t.Fatalf("%q: MaskText %q, InText %v; want it masked and found", s, MaskText(s), InText(s))
		}
	}
	r = rand.New(rand.NewPCG(1, 2))
	list := func(n int, sep string, item func() string) string {
		var p []string
		for range n {
			p = append(p, item())
		}
		return strings.Join(p, sep)
	}
	for name, text := range map[string]func() string{
		"datetimes": func() string {
			return list(3, ", ", func() string {
				return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", 2000+r.IntN(27), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
			})
		},
		"dates": func() string {
			return list(4, "、", func() string { return fmt.Sprintf("%04d-%02d-%02d", 2000+r.IntN(27), 1+r.IntN(12), 1+r.IntN(28)) })
		},
		"short dates": func() string {
			return list(4, "，", func() string { return fmt.Sprintf("%04d.%d.%d", 1990+r.IntN(37), 1+r.IntN(12), 1+r.IntN(28)) })
		},
		"amounts": func() string {
			return list(4, "、", func() string {
				n := r.IntN(100000000)
				return fmt.Sprintf("%d,%03d,%03d.%02d", n/1000000, n/1000%1000, n%1000, r.IntN(100))
			})
		},
		"phones": func() string {
			return fmt.Sprintf("022-%08d、1%010d、0%02d-%08d", r.IntN(100000000), r.IntN(10000000000), r.IntN(100), r.IntN(100000000))
		},
	} {
		for range 3000 {
			if s := text(); MaskText(s) != s || InText(s) {
				t.Fatalf("%s %q: MaskText %q, InText %v; want it left whole", name, s, MaskText(s), InText(s))
			}
		}
	}
}
