package measure

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// population returns n people with realistic facts, the same for every run:
// most on no list, a few on one to three; 0 to 50 records, most few.
func population(n int) []Facts {
	r := rand.New(rand.NewPCG(2026, 8))
	lists := []struct{ code, kind string }{
		{"SXBZXR", "black"}, {"SCJG_YZWF", "black"}, {"SW_ZDSS", "black"},
		{"FFJZ_DXZP", "black"}, {"YXZYZ", "red"}, {"SXQN", "red"},
	}
	items := []struct{ item, polarity, severity string }{
		{"XZCF", "negative", "general"}, {"XZCF", "negative", "minor"}, {"XZCF", "negative", "serious"},
		{"QSXX", "negative", "general"}, {"SBQF", "negative", "general"}, {"XYCNWY", "negative", "general"},
		{"XZXK", "basic", ""}, {"ZYZG", "basic", ""}, {"XYCN", "basic", ""},
		{"ZYFW", "positive", ""}, {"XXRY", "positive", ""}, {"RYBZ", "positive", ""},
	}
	out := make([]Facts, n)
	for i := range out {
		f := Facts{Now: now, Age: 18 + r.IntN(62), CleanYears: r.IntN(11)}
		nl := 0
		switch p := r.Float64(); {
		case p < 0.01:
			nl = 3
		case p < 0.05:
			nl = 2
		case p < 0.15:
			nl = 1
		}
		for j := range nl {
			l := lists[r.IntN(len(lists))]
			e := ListEntry{ID: fmt.Sprintf("le-%d-%d", i, j), Code: l.code, Kind: l.kind, Since: now.AddDate(0, -r.IntN(24), 0)}
			if r.IntN(2) == 0 {
				e.Until = now.AddDate(0, 1+r.IntN(24), 0)
			}
			f.Lists = append(f.Lists, e)
		}
		u := r.Float64()
		for j := range int(51 * u * u * u) { // skewed: median about 6, max 50
			it := items[r.IntN(len(items))]
			f.Records = append(f.Records, RecordFact{
				ID: fmt.Sprintf("r-%d-%d", i, j), Item: it.item, Polarity: it.polarity, Severity: it.severity,
				DecidedOn: now.AddDate(0, 0, -r.IntN(3650)),
			})
		}
		out[i] = f
	}
	return out
}

// BenchmarkEvaluate evaluates every measure of each matter for a realistic
// population (0-3 list entries, 0-50 records), a typical person (no list
// entry, a few records) and a heavy one (3 entries, 50 records). Besides
// ns/op it reports the 50th and 99th percentile latency of one Evaluate call
// (p50-ns, p99-ns; the target is p99 < 1 ms), timed call by call, so they
// include about 50 ns of clock reads.
func BenchmarkEvaluate(b *testing.B) {
	s := shipped(b)
	pop := population(10_000)
	typical := Facts{Now: now, Age: 35, CleanYears: 2, Records: pop[0].Records[:0]}
	for j := range 3 {
		typical.Records = append(typical.Records, RecordFact{ID: fmt.Sprint(j), Item: "XZXK", Polarity: "basic", DecidedOn: now.AddDate(-j, 0, 0)})
	}
	heavy := Facts{Now: now, Age: 50, Lists: []ListEntry{
		entry("a", "SCJG_YZWF", "black"), entry("b", "SW_ZDSS", "black"), entry("c", "YXZYZ", "red"),
	}}
	for j := range 50 {
		heavy.Records = append(heavy.Records, RecordFact{ID: fmt.Sprint(j), Item: "XZCF", Polarity: "negative", Severity: "general", DecidedOn: now.AddDate(0, -j, 0)})
	}
	people := []struct {
		name  string
		facts []Facts
	}{
		{"population", pop},
		{"typical", []Facts{typical}},
		{"heavy", []Facts{heavy}},
	}
	ctx := context.Background()
	for _, matter := range s.MatterCodes() {
		for _, p := range people {
			b.Run("matter="+matter+"/"+p.name, func(b *testing.B) {
				lat := make([]time.Duration, 0, 1<<16)
				i := 0
				for b.Loop() {
					f := p.facts[i%len(p.facts)]
					i++
					start := time.Now()
					if _, err := s.Evaluate(ctx, matter, f); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(percentile(lat, 0.50).Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(percentile(lat, 0.99).Nanoseconds()), "p99-ns")
			})
		}
	}
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}
