package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

// decodeHashes decodes proof hashes for the independent tlog checks.
func decodeHashes(t testing.TB, s []string) []tlog.Hash {
	t.Helper()
	hs := make([]tlog.Hash, len(s))
	for i, x := range s {
		h, err := tlog.ParseHash(x)
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	return hs
}

// flip returns s, a base64 hash, with one bit of its first byte changed.
func flip(t testing.TB, s string) string {
	t.Helper()
	h, err := tlog.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	h[0] ^= 1
	return h.String()
}

func TestProveInclusion(t *testing.T) {
	const max = 300
	store, leaves := tlogStore(t, max)
	checked := 0
	for size := int64(1); size <= max; size++ {
		root := treeHash(t, size, store)
		for index := int64(0); index < size; index++ {
			if size > 70 && index%7 != 0 && index != size-1 {
				continue // all pairs for small trees, a sample for larger
			}
			p, err := ProveInclusion(index, size, store)
			if err != nil {
				t.Fatalf("ProveInclusion(%d, %d): %v", index, size, err)
			}
			if p.Index != index || p.Size != size || p.LeafHash != leaves[index].String() {
				t.Fatalf("ProveInclusion(%d, %d) = %+v, wrong index, size or leaf hash", index, size, p)
			}
			if err := p.Check(root); err != nil {
				t.Fatalf("ProveInclusion(%d, %d).Check: %v", index, size, err)
			}
			// Independently, with tlog alone.
			if err := tlog.CheckRecord(decodeHashes(t, p.Hashes), size, root, index, leaves[index]); err != nil {
				t.Fatalf("tlog.CheckRecord(ProveInclusion(%d, %d)): %v", index, size, err)
			}
			for i := range p.Hashes {
				q := p
				q.Hashes = append([]string{}, p.Hashes...)
				q.Hashes[i] = flip(t, q.Hashes[i])
				wantKind(t, q.Check(root), errs.Invalid)
			}
			checked++
		}
	}
	t.Logf("checked %d proofs", checked)
}

func TestInclusionProofCheckRejects(t *testing.T) {
	store, _ := tlogStore(t, 100)
	root := treeHash(t, 100, store)
	p, err := ProveInclusion(37, 100, store)
	if err != nil {
		t.Fatal(err)
	}
	otherRoot := treeHash(t, 99, store)
	for _, tc := range []struct {
		name   string
		change func(*InclusionProof)
		root   tlog.Hash
	}{
		{"rejects another root", func(*InclusionProof) {}, otherRoot},
		{"rejects another leaf hash", func(p *InclusionProof) { p.LeafHash = flip(t, p.LeafHash) }, root},
		{"rejects another index", func(p *InclusionProof) { p.Index = 36 }, root},
		{"rejects a size of another tree shape", func(p *InclusionProof) { p.Size = 64 }, root},
		{"rejects a missing hash", func(p *InclusionProof) { p.Hashes = p.Hashes[1:] }, root},
		{"rejects an extra hash", func(p *InclusionProof) { p.Hashes = append(p.Hashes, p.Hashes[0]) }, root},
		{"rejects no hashes", func(p *InclusionProof) { p.Hashes = nil }, root},
		{"rejects a negative index", func(p *InclusionProof) { p.Index = -1 }, root},
		{"rejects an index equal to the size", func(p *InclusionProof) { p.Index = 100 }, root},
		{"rejects a size above MaxSize", func(p *InclusionProof) { p.Size, p.Index = MaxSize+2, MaxSize }, root},
		{"rejects a malformed leaf hash", func(p *InclusionProof) { p.LeafHash = "AAAA" }, root},
		{"rejects a hex leaf hash", func(p *InclusionProof) { p.LeafHash = fmt.Sprintf("%x", root[:]) }, root},
		{"rejects a malformed proof hash", func(p *InclusionProof) { p.Hashes = append([]string{"!"}, p.Hashes[1:]...) }, root},
		{"rejects too many hashes", func(p *InclusionProof) {
			for len(p.Hashes) <= maxProofHashes {
				p.Hashes = append(p.Hashes, p.Hashes[0])
			}
		}, root},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := p
			q.Hashes = append([]string{}, p.Hashes...)
			tc.change(&q)
			wantKind(t, q.Check(tc.root), errs.Invalid)
		})
	}
}

// TestProofCheckHugeSizes makes sure sizes near the int64 limit, where
// tlog's index math does not terminate, are refused before reaching tlog.
func TestProofCheckHugeSizes(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		hashes := make([]string, 62)
		for i := range hashes {
			hashes[i] = tlog.Hash{}.String()
		}
		for _, size := range []int64{MaxSize, MaxSize + 1, MaxSize + 2, 1<<63 - 1} {
			p := InclusionProof{Index: size - 1, Size: size, LeafHash: tlog.Hash{}.String(), Hashes: hashes}
			if err := p.Check(tlog.Hash{}); err == nil {
				t.Errorf("size %d: bogus proof verified", size)
			}
			c := ConsistencyProof{From: 5, To: size, Hashes: hashes}
			if err := c.Check(tlog.Hash{}, tlog.Hash{}); err == nil {
				t.Errorf("size %d: bogus consistency proof verified", size)
			}
		}
		_, err := ProveInclusion(0, 1<<63-1, hashStore(nil))
		wantKind(t, err, errs.Malformed)
		_, err = ProveConsistency(1, 1<<63-1, hashStore(nil))
		wantKind(t, err, errs.Malformed)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("checking proofs for huge trees does not terminate")
	}
}

func TestProveInclusionRejectsRequests(t *testing.T) {
	store, _ := tlogStore(t, 10)
	for _, tc := range []struct {
		name        string
		index, size int64
	}{
		{"rejects a negative index", -1, 10},
		{"rejects a negative size", 0, -1},
		{"rejects an empty tree", 0, 0},
		{"rejects an index equal to the size", 10, 10},
		{"rejects an index beyond the size", 11, 10},
		{"rejects a size above MaxSize", 0, MaxSize + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ProveInclusion(tc.index, tc.size, store)
			wantKind(t, err, errs.Malformed)
		})
	}
}

// countingReader counts ReadHashes calls and can fail them.
type countingReader struct {
	r     tlog.HashReader
	calls int
	err   error
	short bool
}

func (c *countingReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	c.calls++
	if c.err != nil {
		return nil, c.err
	}
	hs, err := c.r.ReadHashes(indexes)
	if c.short && len(hs) > 0 {
		hs = hs[1:]
	}
	return hs, err
}

func TestProveInclusionReads(t *testing.T) {
	store, _ := tlogStore(t, 100)
	for _, tc := range []struct {
		size, calls int64
	}{{1, 1}, {2, 1}, {100, 1}} {
		r := &countingReader{r: store}
		if _, err := ProveInclusion(0, tc.size, r); err != nil {
			t.Fatal(err)
		}
		if int64(r.calls) != tc.calls {
			t.Errorf("size %d: %d ReadHashes calls, want %d", tc.size, r.calls, tc.calls)
		}
	}

	// Errors from the reader keep their kind.
	_, err := ProveInclusion(3, 100, &countingReader{r: store, err: errs.E(errs.Unavailable, "store down")})
	wantKind(t, err, errs.Unavailable)
	_, err = ProveInclusion(0, 1, &countingReader{r: store, err: errs.E(errs.Unavailable, "store down")})
	wantKind(t, err, errs.Unavailable)
	// A plain error is internal.
	_, err = ProveInclusion(3, 100, &countingReader{r: store, err: errors.New("disk on fire")})
	if k := errs.KindOf(err); k != errs.Internal {
		t.Errorf("plain reader error has kind %s, want internal", k)
	}
	// A reader returning too few hashes is an error, not a panic.
	for _, size := range []int64{1, 100} {
		if _, err := ProveInclusion(0, size, &countingReader{r: store, short: true}); err == nil {
			t.Errorf("size %d: short reader did not fail", size)
		}
	}
	// A store shorter than the requested tree is an error.
	if _, err := ProveInclusion(3, 200, store); err == nil {
		t.Error("proof beyond the store did not fail")
	}
}

func TestInclusionProofJSON(t *testing.T) {
	store, _ := tlogStore(t, 3)
	p, err := ProveInclusion(0, 1, store)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"index":0,"size":1,"leaf_hash":"` + testLeafHash(0).String() + `","hashes":[]}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	p, err = ProveInclusion(2, 3, store)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(p)
	want = `{"index":2,"size":3,"leaf_hash":"` + testLeafHash(2).String() + `","hashes":["` +
		tlog.NodeHash(testLeafHash(0), testLeafHash(1)).String() + `"]}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

func TestProveConsistency(t *testing.T) {
	const max = 200
	store, _ := tlogStore(t, max)
	roots := make([]tlog.Hash, max+1)
	for n := range roots {
		roots[n] = treeHash(t, int64(n), store)
	}
	checked := 0
	for to := int64(1); to <= max; to++ {
		for from := int64(1); from <= to; from++ {
			if to > 64 && from%5 != 0 && from != to && from != 1 {
				continue
			}
			p, err := ProveConsistency(from, to, store)
			if err != nil {
				t.Fatalf("ProveConsistency(%d, %d): %v", from, to, err)
			}
			if p.From != from || p.To != to || p.Hashes == nil {
				t.Fatalf("ProveConsistency(%d, %d) = %+v", from, to, p)
			}
			if err := p.Check(roots[from], roots[to]); err != nil {
				t.Fatalf("ProveConsistency(%d, %d).Check: %v", from, to, err)
			}
			if err := tlog.CheckTree(decodeHashes(t, p.Hashes), to, roots[to], from, roots[from]); err != nil {
				t.Fatalf("tlog.CheckTree(ProveConsistency(%d, %d)): %v", from, to, err)
			}
			if from < to {
				wantKind(t, p.Check(roots[from-1], roots[to]), errs.Invalid)
				wantKind(t, p.Check(roots[from], roots[to-1]), errs.Invalid)
			}
			for i := range p.Hashes {
				q := p
				q.Hashes = append([]string{}, p.Hashes...)
				q.Hashes[i] = flip(t, q.Hashes[i])
				wantKind(t, q.Check(roots[from], roots[to]), errs.Invalid)
			}
			checked++
		}
	}
	t.Logf("checked %d proofs", checked)
}

func TestProveConsistencyEqualSizes(t *testing.T) {
	store, _ := tlogStore(t, 10)
	p, err := ProveConsistency(7, 7, store)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(p); string(b) != `{"from":7,"to":7,"hashes":[]}` {
		t.Errorf("JSON = %s", b)
	}
	root := treeHash(t, 7, store)
	if err := p.Check(root, root); err != nil {
		t.Error(err)
	}
	wantKind(t, p.Check(root, treeHash(t, 8, store)), errs.Invalid)
}

func TestProveConsistencyRejectsRequests(t *testing.T) {
	store, _ := tlogStore(t, 10)
	for _, tc := range []struct {
		name     string
		from, to int64
	}{
		{"rejects from 0: nothing to prove", 0, 5},
		{"rejects from 0 to 0", 0, 0},
		{"rejects a negative from", -1, 5},
		{"rejects a negative to", 1, -1},
		{"rejects from after to", 6, 5},
		{"rejects to above MaxSize", 1, MaxSize + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ProveConsistency(tc.from, tc.to, store)
			wantKind(t, err, errs.Malformed)
		})
	}
	_, err := ProveConsistency(3, 9, &countingReader{r: store, err: errs.E(errs.Unavailable, "store down")})
	wantKind(t, err, errs.Unavailable)
}

func TestConsistencyProofCheckRejects(t *testing.T) {
	store, _ := tlogStore(t, 10)
	p, err := ProveConsistency(3, 9, store)
	if err != nil {
		t.Fatal(err)
	}
	r3, r9 := treeHash(t, 3, store), treeHash(t, 9, store)
	for _, tc := range []struct {
		name   string
		change func(*ConsistencyProof)
	}{
		{"rejects from 0", func(p *ConsistencyProof) { p.From = 0 }},
		{"rejects from after to", func(p *ConsistencyProof) { p.From, p.To = 9, 3 }},
		{"rejects another from", func(p *ConsistencyProof) { p.From = 2 }},
		{"rejects a to of another tree shape", func(p *ConsistencyProof) { p.To = 8 }},
		{"rejects a missing hash", func(p *ConsistencyProof) { p.Hashes = p.Hashes[1:] }},
		{"rejects an extra hash", func(p *ConsistencyProof) { p.Hashes = append(p.Hashes, p.Hashes[0]) }},
		{"rejects a malformed hash", func(p *ConsistencyProof) { p.Hashes = append([]string{"AAAA"}, p.Hashes[1:]...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := p
			q.Hashes = append([]string{}, p.Hashes...)
			tc.change(&q)
			wantKind(t, q.Check(r3, r9), errs.Invalid)
		})
	}
}
