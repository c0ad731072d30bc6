// Package bench holds the platform's performance benchmarks (docs/benchmarks.md
// records their results). Each measures the platform path and, in the same
// run, a plain baseline on the same engine, because only ratios hold on a
// noisy machine.
//
//	go test ./internal/bench -run '^$' -bench . -benchtime 1x -rows 1000000 -lookup-records 1000000
package bench

import (
	"context"
	"crypto/rand"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/config"
	"pubcredit/internal/demo"
	"pubcredit/internal/ingest"
	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
	"pubcredit/internal/profile"
	"pubcredit/internal/record"
	"pubcredit/internal/store/postgres"
	"pubcredit/internal/store/postgres/pgtest"
	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/vault"
)

var (
	rows          = flag.Int("rows", 20000, "rows in the ingest benchmarks")
	lookupRecords = flag.Int("lookup-records", 100000, "records in the store of the lookup benchmark")
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var cst = time.FixedZone("CST", 8*3600)

// Store is what the benchmarks need of a backend.
type Store interface {
	auth.Store
	record.Store
	access.Store
	ingest.Store
	listing.Store
	measure.CheckStore
	Migrate(ctx context.Context) error
}

// BenchmarkLedgerCost ingests the same file twice on each engine, with leaf
// appends off and on, and reports the ratio (target: at least 0.85).
func BenchmarkLedgerCost(b *testing.B) {
	path := batchFile(b, *rows)
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			for b.Loop() {
				var durs [2]time.Duration
				var n int
				for i, on := range []bool{false, true} {
					st, closeFn := openEngine(b, engine)
					p := newPlatformLedger(b, st, on)
					d, batch := p.ingestFile(b, path)
					durs[i], n = d, batch.Rows
					closeFn()
				}
				off, on := float64(n)/durs[0].Seconds(), float64(n)/durs[1].Seconds()
				b.ReportMetric(off, "ledger_off_rows/s")
				b.ReportMetric(on, "ledger_on_rows/s")
				b.ReportMetric(on/off, "ratio")
				b.Logf("%s: %d rows, ledger off %.0f rows/s, ledger on %.0f rows/s, ratio %.2f", engine, n, off, on, on/off)
			}
		})
	}
}

// openEngine opens a fresh, empty store on the engine.
func openEngine(b testing.TB, engine string) (Store, func()) {
	b.Helper()
	if engine == "sqlite" {
		s, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s, func() { s.Close() }
	}
	s, err := postgres.Open(context.Background(), pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	return s, s.Close
}

type platform struct {
	records  *record.Service
	batches  *ingest.Service
	profiles *profile.Service
	dept     *auth.Principal
}

func newPlatform(b testing.TB, st Store) *platform { return newPlatformLedger(b, st, true) }

// newPlatformLedger wires the platform with leaf appends on or off (the
// benchmark-only switch that measures what the ledger costs).
func newPlatformLedger(b testing.TB, st Store, ledgerOn bool) *platform {
	b.Helper()
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	cat, err := catalog.Load(catalogfs.Items())
	if err != nil {
		b.Fatal(err)
	}
	keys, err := vault.Generate(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	clk := clock.NewFixed(time.Date(2026, 11, 30, 10, 0, 0, 0, cst))
	items := []string{"XZCF", "ZYFW", "QSXX", "SXBZXR"}
	if err := st.CreateDept(ctx, auth.Dept{Code: "BENCH", Name: "bench", Submit: items, Read: items}); err != nil {
		b.Fatal(err)
	}
	acc := &access.Log{Store: st, Clock: clk, NoLedger: !ledgerOn}
	recs := &record.Service{Store: st, Catalog: cat, Keys: keys, Clock: clk, Location: cst, Thresholds: record.DefaultThresholds, Access: acc, NoLedger: !ledgerOn}
	return &platform{
		records:  recs,
		batches:  &ingest.Service{Store: st, Records: recs, Clock: clk, ChunkRows: config.Default().ChunkRows, Answered: 100}, // as serve has it
		profiles: &profile.Service{Records: recs, Keys: keys, Access: acc},
		dept:     &auth.Principal{Kind: auth.Department, ID: "BENCH", Submit: items, Read: items},
	}
}

// batchFile writes n penalty rows (two per person) as a national NDJSON export.
func batchFile(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "batch.ndjson")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	g := demo.New(42, clock.Date{Year: 2026, Month: 11, Day: 30})
	if err := g.WriteNDJSON(f, n/2, 2); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// ingestFile runs the full platform path over the file: parsing, catalog
// validation, identity checks, encryption, display windows, storage.
func (p *platform) ingestFile(b *testing.B, path string) (time.Duration, ingest.Batch) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	res, err := p.batches.Run(context.Background(), p.dept, ingest.FormatNDJSON, f, "XZCF")
	if err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	if res.Batch.Accepted != res.Batch.Rows || res.Batch.Rows == 0 {
		b.Fatalf("accepted %d of %d rows; first rejections: %+v", res.Batch.Accepted, res.Batch.Rows, res.Rejections[:min(3, len(res.Rejections))])
	}
	return d, res.Batch
}

// peakRSS is the process's peak resident set size in MB (VmHWM).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return -1
}

// resetPeakRSS restarts VmHWM counting (Linux: write 5 to clear_refs).
func resetPeakRSS() {
	runtime.GC()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func report(b *testing.B, engine string, rows int, platformDur, rawDur time.Duration, peakMB float64) {
	pr := float64(rows) / platformDur.Seconds()
	rr := float64(rows) / rawDur.Seconds()
	b.ReportMetric(pr, "platform_rows/s")
	b.ReportMetric(rr, "raw_rows/s")
	b.ReportMetric(pr/rr, "ratio")
	b.ReportMetric(peakMB, "peak_MB")
	b.Logf("%s: %d rows, platform %.0f rows/s (%v), raw baseline %.0f rows/s (%v), ratio %.2f, peak RSS during platform ingest %.0f MB",
		engine, rows, pr, platformDur.Round(time.Millisecond), rr, rawDur.Round(time.Millisecond), pr/rr, peakMB)
}

func BenchmarkIngestSQLite(b *testing.B) {
	path := batchFile(b, *rows)
	for b.Loop() {
		dir := b.TempDir()
		st, err := sqlite.Open(filepath.Join(dir, "platform.db"))
		if err != nil {
			b.Fatal(err)
		}
		p := newPlatform(b, st)
		resetPeakRSS()
		platformDur, batch := p.ingestFile(b, path)
		peak := peakRSS()
		st.Close()

		raw, err := sqlite.Open(filepath.Join(dir, "raw.db"))
		if err != nil {
			b.Fatal(err)
		}
		newPlatform(b, raw) // the same schema and department
		raw.Close()
		rawDur, n := rawSQLite(b, filepath.Join(dir, "platform.db"), filepath.Join(dir, "raw.db"))
		if n != batch.Rows {
			b.Fatalf("the baseline copied %d records, the platform stored %d", n, batch.Rows)
		}
		report(b, "sqlite", batch.Rows, platformDur, rawDur, peak)
	}
}

func BenchmarkIngestPostgres(b *testing.B) {
	path := batchFile(b, *rows)
	ctx := context.Background()
	for b.Loop() {
		src := pgtest.URL(b)
		st, err := postgres.Open(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		p := newPlatform(b, st)
		p.batches.Workers = runtime.GOMAXPROCS(0) // as serve does on PostgreSQL
		resetPeakRSS()
		platformDur, batch := p.ingestFile(b, path)
		peak := peakRSS()
		st.Close()

		dst := pgtest.URL(b)
		raw, err := postgres.Open(ctx, dst)
		if err != nil {
			b.Fatal(err)
		}
		newPlatform(b, raw)
		raw.Close()
		rawDur, n := rawPostgres(b, src, dst)
		if n != batch.Rows {
			b.Fatalf("the baseline copied %d records, the platform stored %d", n, batch.Rows)
		}
		report(b, "postgres", batch.Rows, platformDur, rawDur, peak)
	}
}

// BenchmarkFileLookup measures a department's lookup of a person with 50
// records in a store of -lookup-records records, through profile.Service
// (decryption, sharing rules, display states, and the access event written
// before the answer). It reports the p50 and p99 of single lookups.
func BenchmarkFileLookup(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			st, closeFn := openEngine(b, engine)
			defer closeFn()
			p := newPlatform(b, st)
			target := fillStore(b, p, *lookupRecords)
			ctx := context.Background()
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				f, err := p.profiles.ForDepartment(ctx, p.dept, "", target, "benchmark lookup")
				lat = append(lat, time.Since(start))
				if err != nil || len(f.Entries) != 50 {
					b.Fatalf("lookup: %v, %d entries", err, len(f.Entries))
				}
			}
			slices.Sort(lat)
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
			b.Logf("%s: store of %d records, %d lookups of a person with 50 records: p50 %v, p99 %v", engine, *lookupRecords, len(lat), p50, p99)
		})
	}
}

// mustSubmit stores subs, failing on any rejected row.
func (p *platform) mustSubmit(tb testing.TB, subs []record.Submission) {
	tb.Helper()
	res, err := p.records.SubmitMany(context.Background(), p.dept, subs)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			tb.Fatal(r.Err)
		}
	}
}

// fillStore stores n records (two per person) plus 50 for one target
// person, whose identity number it returns.
func fillStore(b *testing.B, p *platform, n int) string {
	b.Helper()
	g := demo.New(7, clock.Date{Year: 2026, Month: 11, Day: 30})
	target := g.Person()
	var subs []record.Submission
	flush := func() { p.mustSubmit(b, subs); subs = subs[:0] }
	for range 50 {
		subs = append(subs, g.Penalty(target))
	}
	for i := 0; i < n; i += 2 {
		person := g.Person()
		subs = append(subs, g.Penalty(person), g.Penalty(person))
		if len(subs) >= 4000 {
			flush()
		}
	}
	flush()
	return target.IDNumber
}
