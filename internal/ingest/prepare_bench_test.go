package ingest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"runtime"
	"testing"
	"time"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/demo"
	"pubcredit/internal/ingest"
	"pubcredit/internal/record"
	"pubcredit/internal/vault"
)

// benchRows is the rows prepared in one op (twice the default chunk_rows:
// ns, allocations and bytes are reported a row).
const benchRows = 5000

// BenchmarkPrepare measures the Go CPU the batch ingest spends on a row
// before it is written: parsing a national NDJSON export (the file of
// internal/bench's ingest benchmarks) and validating, normalising and sealing
// it with the ledger on. Each op is one chunk of benchRows rows; ns/row,
// allocs/row and B/row are what to compare.
//
//	go test ./internal/ingest -run '^$' -bench Prepare -count 5
func BenchmarkPrepare(b *testing.B) {
	file := penaltyFile(b, benchRows)
	svc, dept := preparer(b)
	b.Run("read", func(b *testing.B) {
		perRow(b, benchRows, func() { readRows(b, file) })
	})
	acceptsAll(b, svc, dept, readRows(b, file))
	b.Run("prepare", func(b *testing.B) {
		subs := readRows(b, file)
		perRow(b, benchRows, func() { prepare(b, svc, dept, subs) })
	})
	b.Run("read+prepare", func(b *testing.B) {
		perRow(b, benchRows, func() { prepare(b, svc, dept, readRows(b, file)) })
	})
}

// perRow runs f in a benchmark loop and reports its cost per row.
func perRow(b *testing.B, rows int, f func()) {
	b.Helper()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		f()
		n++
	}
	runtime.ReadMemStats(&after)
	total := float64(n * rows)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/total, "B/row")
}

// penaltyFile is n penalty rows, two per person, as internal/bench makes them.
func penaltyFile(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	g := demo.New(42, clock.Date{Year: 2026, Month: 11, Day: 30})
	if err := g.WriteNDJSON(&buf, n/2, 2); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// preparer is the record service as internal/bench wires it, without a store
// (Prepare does not touch it).
func preparer(b *testing.B) (*record.Service, *auth.Principal) {
	b.Helper()
	cat, err := catalog.Load(catalogfs.Items())
	if err != nil {
		b.Fatal(err)
	}
	keys, err := vault.Generate(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	clk := clock.NewFixed(time.Date(2026, 11, 30, 10, 0, 0, 0, cst))
	svc := &record.Service{Catalog: cat, Keys: keys, Clock: clk, Location: cst, Thresholds: record.DefaultThresholds}
	items := []string{"XZCF"}
	return svc, &auth.Principal{Kind: auth.Department, ID: "BENCH", Submit: items, Read: items}
}

// readRows parses the file, failing on any row error.
func readRows(b *testing.B, file []byte) []record.Submission {
	b.Helper()
	rd, err := ingest.NewReader(ingest.FormatNDJSON, bytes.NewReader(file), "XZCF", "")
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Close()
	subs := make([]record.Submission, 0, benchRows)
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return subs
		}
		if err != nil {
			b.Fatal(err)
		}
		if len(row.Errors) > 0 {
			b.Fatalf("line %d: %v", row.Line, row.Errors)
		}
		subs = append(subs, row.Sub)
	}
}

// acceptsAll fails b unless every row of subs is accepted, so that the
// benchmark measures the path of good rows.
func acceptsAll(b *testing.B, svc *record.Service, dept *auth.Principal, subs []record.Submission) {
	b.Helper()
	batch, err := svc.Prepare(dept, subs)
	if err != nil {
		b.Fatal(err)
	}
	s := *svc
	s.Store = acceptingStore{}
	results, err := s.Commit(context.Background(), batch)
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil || !r.Created {
			b.Fatalf("row %d: created %v, %v", i+1, r.Created, r.Err)
		}
	}
}

// acceptingStore creates every record it is given and does nothing else.
type acceptingStore struct{ record.Store }

func (acceptingStore) CreateRecords(_ context.Context, _ []record.SealedSubject, recs []record.Stored, _ []record.Version) ([]record.Outcome, error) {
	out := make([]record.Outcome, len(recs))
	for i := range out {
		out[i].Created = true
	}
	return out, nil
}

// prepare validates and seals subs, failing on any rejected row.
func prepare(b *testing.B, svc *record.Service, dept *auth.Principal, subs []record.Submission) {
	b.Helper()
	if _, err := svc.Prepare(dept, subs); err != nil {
		b.Fatal(err)
	}
}
