package ledger

import (
	"crypto/sha256"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

// emptyRoot is the root of the empty tree, SHA-256 of the empty string
// (RFC 6962 section 2.1), as tlog.TreeHash(0, r) returns it.
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// A Tree computes the root of a log while its leaf hashes stream past. It
// keeps only the compact range: the roots of the perfect subtrees that the
// binary decomposition of Size() splits the tree into, at most 63 hashes, so
// verifying a log of any length needs constant memory.
//
// The zero Tree is an empty tree ready to use. Copying a Tree snapshots it.
// A Tree is not safe for concurrent use.
type Tree struct {
	size  int64
	depth int           // number of subtrees in stack, the number of 1 bits in size
	stack [64]tlog.Hash // stack[:depth] are the roots of the perfect subtrees, largest (leftmost) first
}

// LoadTree returns the Tree of the first size leaves of a log whose stored
// hashes r holds, so that appending can resume where a store left off. It
// reads the compact range, one hash per 1 bit of size, in one ReadHashes call.
// size must be in [0, MaxSize] (errs.Malformed otherwise); errors from r are
// returned wrapped.
func LoadTree(size int64, r tlog.HashReader) (Tree, error) {
	if size < 0 || size > MaxSize {
		return Tree{}, errs.E(errs.Malformed, "ledger: tree size %d is outside [0, %d]", size, MaxSize)
	}
	var indexes []int64
	var start int64
	for level := 62; level >= 0; level-- {
		if size&(1<<level) != 0 {
			indexes = append(indexes, tlog.StoredHashIndex(level, start>>level))
			start += 1 << level
		}
	}
	t := Tree{size: size, depth: len(indexes)}
	if len(indexes) == 0 {
		return t, nil
	}
	hashes, err := r.ReadHashes(indexes)
	if err != nil {
		return Tree{}, fmt.Errorf("ledger: loading tree of size %d: %w", size, err)
	}
	if len(hashes) != len(indexes) {
		return Tree{}, fmt.Errorf("ledger: ReadHashes(%d indexes) = %d hashes", len(indexes), len(hashes))
	}
	copy(t.stack[:], hashes)
	return t, nil
}

// Size returns the number of leaves appended.
func (t *Tree) Size() int64 { return t.size }

// Append appends a leaf hash (Leaf.Hash, or tlog.RecordHash of the leaf
// bytes). It does not allocate.
func (t *Tree) Append(h tlog.Hash) {
	t.append(h, nil)
}

// AppendStored appends the leaf hash h, which gets index n = Size()-1, and
// returns the hashes tlog.StoredHashes returns when writing record n: h
// followed by the root of every perfect subtree that leaf n completes. A store
// persists them from tlog.StoredHashIndex(0, n) on, so that tlog.TreeHash,
// tlog.ProveRecord, tlog.ProveTree and tlog.ReadTileData work over it, without
// reading earlier hashes back.
func (t *Tree) AppendStored(h tlog.Hash) []tlog.Hash {
	return t.append(h, make([]tlog.Hash, 0, 1+bits.TrailingZeros64(^uint64(t.size))))
}

// append adds h and merges completed subtrees. When stored is not nil it
// collects h and each merged root, in tlog's stored order.
func (t *Tree) append(h tlog.Hash, stored []tlog.Hash) []tlog.Hash {
	if stored != nil {
		stored = append(stored, h)
	}
	// Each trailing 1 bit of the old size is a perfect subtree of the same
	// height as the one h completes; merge them, smallest first.
	for n := t.size; n&1 == 1; n >>= 1 {
		t.depth--
		h = tlog.NodeHash(t.stack[t.depth], h)
		if stored != nil {
			stored = append(stored, h)
		}
	}
	t.stack[t.depth] = h
	t.depth++
	t.size++
	return stored
}

// Root returns the root hash of the tree of Size() leaves. It equals
// tlog.TreeHash(Size(), r) for a HashReader r over the same leaves; the root
// of the empty tree is SHA-256 of the empty string.
func (t *Tree) Root() tlog.Hash {
	if t.depth == 0 {
		return emptyRoot
	}
	h := t.stack[t.depth-1]
	for i := t.depth - 2; i >= 0; i-- {
		h = tlog.NodeHash(t.stack[i], h)
	}
	return h
}
