package ledger

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

func TestTreeMatchesTlog(t *testing.T) {
	const max = 300
	var stored hashStore // built by tlog
	var tree, plain Tree // AppendStored and Append
	for n := int64(0); n <= max; n++ {
		want := treeHash(t, n, stored)
		if got := tree.Root(); got != want {
			t.Fatalf("size %d: AppendStored tree root %s, tlog.TreeHash %s", n, got, want)
		}
		if got := plain.Root(); got != want {
			t.Fatalf("size %d: Append tree root %s, tlog.TreeHash %s", n, got, want)
		}
		if tree.Size() != n || plain.Size() != n {
			t.Fatalf("sizes %d, %d, want %d", tree.Size(), plain.Size(), n)
		}
		if n == max {
			break
		}
		h := testLeafHash(n)
		wantStored, err := tlog.StoredHashesForRecordHash(n, h, stored)
		if err != nil {
			t.Fatal(err)
		}
		if got := tree.AppendStored(h); !slices.Equal(got, wantStored) {
			t.Fatalf("leaf %d: AppendStored = %v, tlog.StoredHashes = %v", n, got, wantStored)
		}
		plain.Append(h)
		stored = append(stored, wantStored...)
		if int64(len(stored)) != tlog.StoredHashCount(n+1) {
			t.Fatalf("leaf %d: %d stored hashes, want %d", n, len(stored), tlog.StoredHashCount(n+1))
		}
	}
}

func TestTreeEmptyRoot(t *testing.T) {
	var tree Tree
	want, err := tlog.TreeHash(0, hashStore(nil))
	if err != nil {
		t.Fatal(err)
	}
	if tree.Root() != want {
		t.Errorf("empty Root() = %s, want %s", tree.Root(), want)
	}
	if want.String() != "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" {
		t.Errorf("tlog's empty tree hash changed: %s", want)
	}
}

// TestTreeStoreServesTlog builds a store with AppendStored alone and checks
// that tlog's proofs over it verify against the streaming root.
func TestTreeStoreServesTlog(t *testing.T) {
	var tree Tree
	var store hashStore
	for n := range int64(1000) {
		store = append(store, tree.AppendStored(testLeafHash(n))...)
	}
	root := tree.Root()
	if want := treeHash(t, tree.Size(), store); root != want {
		t.Fatalf("Root %s, tlog.TreeHash over AppendStored hashes %s", root, want)
	}
	for _, n := range []int64{0, 1, 511, 512, 998, 999} {
		p, err := tlog.ProveRecord(tree.Size(), n, store)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, tree.Size(), root, n, testLeafHash(n)); err != nil {
			t.Errorf("leaf %d: %v", n, err)
		}
	}
}

func TestTreeAppendDoesNotAllocate(t *testing.T) {
	var tree Tree
	for n := range int64(1 << 10) {
		tree.Append(testLeafHash(n))
	}
	h := testLeafHash(0)
	if a := testing.AllocsPerRun(1000, func() { tree.Append(h) }); a != 0 {
		t.Errorf("Append allocates %v times per call", a)
	}
}

func TestLoadTree(t *testing.T) {
	const max = 300
	store, _ := tlogStore(t, max+20)
	for n := int64(0); n <= max; n++ {
		r := &countingReader{r: store}
		tree, err := LoadTree(n, r)
		if err != nil {
			t.Fatalf("LoadTree(%d): %v", n, err)
		}
		if tree.Size() != n || tree.Root() != treeHash(t, n, store) {
			t.Fatalf("LoadTree(%d): size %d, root %s, want %s", n, tree.Size(), tree.Root(), treeHash(t, n, store))
		}
		if want := 0; n == 0 && r.calls != want || n > 0 && r.calls != 1 {
			t.Fatalf("LoadTree(%d): %d ReadHashes calls", n, r.calls)
		}
		// Appending resumes exactly where tlog's layout continues.
		for i := n; i < n+20; i++ {
			got := tree.AppendStored(testLeafHash(i))
			want := store[tlog.StoredHashCount(i):tlog.StoredHashCount(i+1)]
			if !slices.Equal(got, want) {
				t.Fatalf("LoadTree(%d) then leaf %d: AppendStored = %v, want %v", n, i, got, want)
			}
		}
	}
	if _, err := LoadTree(-1, store); !errors.Is(err, errs.Malformed) {
		t.Errorf("LoadTree(-1) = %v, want malformed", err)
	}
	if _, err := LoadTree(MaxSize+1, store); !errors.Is(err, errs.Malformed) {
		t.Errorf("LoadTree(MaxSize+1) = %v, want malformed", err)
	}
	_, err := LoadTree(7, &countingReader{r: store, err: errs.E(errs.Unavailable, "store down")})
	wantKind(t, err, errs.Unavailable)
	if _, err := LoadTree(7, &countingReader{r: store, short: true}); err == nil {
		t.Error("LoadTree with a short reader did not fail")
	}
	if _, err := LoadTree(max+21, store); err == nil {
		t.Error("LoadTree beyond the store did not fail")
	}
}
