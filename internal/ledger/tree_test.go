package ledger

import (
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
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
