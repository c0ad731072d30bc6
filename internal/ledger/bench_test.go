package ledger

import (
	"encoding/binary"
	"flag"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// ledgerSize sets the log size of BenchmarkInclusionProof10M. The issue's
// target is a 10,000,000-leaf log:
//
//	go test -run '^$' -bench InclusionProof -benchtime 2000x -ledger-size 10000000 ./internal/ledger
//
// which holds tlog.StoredHashCount(1e7) = 19,999,992 hashes (640 MB) in
// memory and takes several seconds to build, so the default is smaller.
var ledgerSize = flag.Int64("ledger-size", 1_000_000, "leaves in the log of BenchmarkInclusionProof10M (10000000 for the issue's target; about 64 bytes of memory per leaf)")

// benchLog caches the stored hashes of the benchmark log across the calls
// the testing package makes to a benchmark function.
var benchLog struct {
	size  int64
	store hashStore
	root  tlog.Hash
}

// benchStore returns the stored hashes and root of a log of n leaves whose
// leaf hashes are cheap (the index, big-endian); only the interior hashes
// cost SHA-256. It is built with Tree.AppendStored, as a streaming store
// would persist it.
func benchStore(b *testing.B, n int64) (hashStore, tlog.Hash) {
	b.Helper()
	if benchLog.size == n && benchLog.store != nil {
		return benchLog.store, benchLog.root
	}
	benchLog.store = nil // release a previous log first
	start := time.Now()
	store := make(hashStore, 0, tlog.StoredHashCount(n))
	var tree Tree
	var h tlog.Hash
	for i := range n {
		binary.BigEndian.PutUint64(h[:], uint64(i))
		store = append(store, tree.AppendStored(h)...)
	}
	if int64(len(store)) != tlog.StoredHashCount(n) {
		b.Fatalf("%d stored hashes, want %d", len(store), tlog.StoredHashCount(n))
	}
	b.Logf("built a log of %d leaves (%d hashes, %d MB) in %v", n, len(store), len(store)*tlog.HashSize>>20, time.Since(start).Round(time.Millisecond))
	benchLog.size, benchLog.store, benchLog.root = n, store, tree.Root()
	return store, benchLog.root
}

// BenchmarkInclusionProof10M measures ProveInclusion for random leaves of a
// log of -ledger-size leaves held in memory, and reports the median and
// 99th percentile latency of single proofs (p50-ns, p99-ns). The first 4096
// proofs are checked against the root after the timed loop.
func BenchmarkInclusionProof10M(b *testing.B) {
	n := *ledgerSize
	if n < 1 {
		b.Fatalf("-ledger-size %d: need at least one leaf", n)
	}
	store, root := benchStore(b, n)
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	proofs := make([]InclusionProof, 0, min(b.N, 4096))
	runtime.GC() // collect the garbage of building the log before timing
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		index := rng.Int64N(n)
		start := time.Now()
		p, err := ProveInclusion(index, n, store)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(proofs) < cap(proofs) {
			proofs = append(proofs, p)
		}
	}
	b.StopTimer()
	for _, p := range proofs {
		if err := p.Check(root); err != nil {
			b.Fatalf("proof for leaf %d: %v", p.Index, err)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(percentile(lat, 99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(n), "leaves")
}

// percentile returns the p'th percentile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (len(sorted)*p + 99) / 100 // ceil(len*p/100)
	return sorted[max(rank, 1)-1]
}

// BenchmarkVerifyLeaf measures what `pubcredit verify` does per leaf in this
// package: parse the stored leaf, hash it, extend the streaming tree.
func BenchmarkVerifyLeaf(b *testing.B) {
	leaf := []byte(goldenLeafText)
	var tree Tree
	b.ReportAllocs()
	for b.Loop() {
		l, err := ParseLeaf(leaf)
		if err != nil {
			b.Fatal(err)
		}
		tree.Append(l.Hash())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
}

// BenchmarkTreeAppendStored measures the sequencer's share of an append.
func BenchmarkTreeAppendStored(b *testing.B) {
	var tree Tree
	h := testLeafHash(0)
	b.ReportAllocs()
	for b.Loop() {
		_ = tree.AppendStored(h)
	}
}
