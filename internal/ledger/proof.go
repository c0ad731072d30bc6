package ledger

import (
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

// maxProofHashes bounds the hashes in a proof: an RFC 6962 proof in a tree
// of at most MaxSize leaves has at most 62 inclusion or 2*62 consistency
// hashes.
const maxProofHashes = 2 * 63

// An InclusionProof proves that the leaf with hash LeafHash is at Index in
// the tree of Size leaves. Hashes are standard base64; Hashes is the RFC 6962
// audit path in tlog.RecordProof order.
type InclusionProof struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leaf_hash"`
	Hashes   []string `json:"hashes"`
}

// A ConsistencyProof proves that the tree of From leaves is a prefix of the
// tree of To leaves. Hashes are standard base64 in tlog.TreeProof order.
type ConsistencyProof struct {
	From   int64    `json:"from"`
	To     int64    `json:"to"`
	Hashes []string `json:"hashes"`
}

// ProveInclusion returns the proof that the tree of size leaves contains the
// leaf at index, with LeafHash read from r at tlog.StoredHashIndex(0, index).
// It makes one call to r.ReadHashes.
//
// index and size must satisfy 0 <= index < size <= MaxSize, else the error is
// errs.Malformed. r must hold the stored hashes of a tree of at least size
// leaves; the caller checks size against the log (tlog cannot tell a short
// store from a bad request), and errors from r are returned wrapped.
func ProveInclusion(index, size int64, r tlog.HashReader) (InclusionProof, error) {
	if index < 0 || size < 0 || size > MaxSize {
		return InclusionProof{}, errs.E(errs.Malformed, "ledger: inclusion proof for index %d in tree of size %d: out of range", index, size)
	}
	if index >= size {
		return InclusionProof{}, errs.E(errs.Malformed, "ledger: inclusion proof for index %d in tree of size %d: index not below size", index, size)
	}
	leafIndex := tlog.StoredHashIndex(0, index)
	var leaf tlog.Hash
	read := false
	// Read the leaf hash in the same ReadHashes call as the proof.
	withLeaf := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		all := make([]int64, 0, len(indexes)+1)
		all = append(all, indexes...)
		pos := len(indexes)
		if slices.IsSorted(indexes) {
			pos, _ = slices.BinarySearch(indexes, leafIndex)
		}
		all = slices.Insert(all, pos, leafIndex)
		hashes, err := r.ReadHashes(all)
		if err != nil {
			return nil, err
		}
		if len(hashes) != len(all) {
			return nil, fmt.Errorf("ledger: ReadHashes(%d indexes) = %d hashes", len(all), len(hashes))
		}
		leaf, read = hashes[pos], true
		// Copy rather than delete in place: hashes may be the reader's own.
		return append(append(make([]tlog.Hash, 0, len(indexes)), hashes[:pos]...), hashes[pos+1:]...), nil
	})
	p, err := tlog.ProveRecord(size, index, withLeaf)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("ledger: inclusion proof for index %d in tree of size %d: %w", index, size, err)
	}
	if !read { // a tree of one leaf has an empty proof and tlog reads nothing
		hashes, err := r.ReadHashes([]int64{leafIndex})
		if err != nil {
			return InclusionProof{}, fmt.Errorf("ledger: inclusion proof for index %d in tree of size %d: %w", index, size, err)
		}
		if len(hashes) != 1 {
			return InclusionProof{}, fmt.Errorf("ledger: ReadHashes(1 index) = %d hashes", len(hashes))
		}
		leaf = hashes[0]
	}
	return InclusionProof{Index: index, Size: size, LeafHash: hashString(leaf), Hashes: hashStrings(p)}, nil
}

// ProveConsistency returns the proof that the tree of from leaves is a prefix
// of the tree of to leaves. For from == to the proof is empty.
//
// from and to must satisfy 0 < from <= to <= MaxSize, else the error is
// errs.Malformed (from == 0 has nothing to prove: every tree extends the
// empty tree). r must hold the stored hashes of a tree of at least to leaves;
// errors from r are returned wrapped.
func ProveConsistency(from, to int64, r tlog.HashReader) (ConsistencyProof, error) {
	switch {
	case from < 0 || to < 0 || to > MaxSize:
		return ConsistencyProof{}, errs.E(errs.Malformed, "ledger: consistency proof from %d to %d: out of range", from, to)
	case from > to:
		return ConsistencyProof{}, errs.E(errs.Malformed, "ledger: consistency proof from %d to %d: from is after to", from, to)
	case from == 0:
		return ConsistencyProof{}, errs.E(errs.Malformed, "ledger: consistency proof from 0: nothing to prove")
	case from == to:
		return ConsistencyProof{From: from, To: to, Hashes: []string{}}, nil
	}
	p, err := tlog.ProveTree(to, from, r)
	if err != nil {
		return ConsistencyProof{}, fmt.Errorf("ledger: consistency proof from %d to %d: %w", from, to, err)
	}
	return ConsistencyProof{From: from, To: to, Hashes: hashStrings(p)}, nil
}

// Check verifies p against the root hash of the tree of p.Size leaves, with
// tlog.CheckRecord. Errors are errs.Invalid.
func (p InclusionProof) Check(root tlog.Hash) error {
	if p.Index < 0 || p.Size > MaxSize || p.Index >= p.Size {
		return errs.E(errs.Invalid, "ledger: inclusion proof: index %d is outside the tree of size %d", p.Index, p.Size)
	}
	leaf, ok := parseHash(p.LeafHash)
	if !ok {
		return errs.E(errs.Invalid, "ledger: inclusion proof leaf hash %q is not the base64 encoding of 32 bytes", short(p.LeafHash))
	}
	hashes, err := parseHashes(p.Hashes)
	if err != nil {
		return err
	}
	if err := tlog.CheckRecord(hashes, p.Size, root, p.Index, leaf); err != nil {
		return errs.Wrap(errs.Invalid, err, "ledger: inclusion proof for index %d in tree of size %d does not verify: its %d hashes do not lead from the leaf hash to the root %s (a proof hash, the index or the leaf hash was changed)",
			p.Index, p.Size, len(hashes), hashString(root))
	}
	return nil
}

// Check verifies p against the root hashes of the trees of p.From and p.To
// leaves, with tlog.CheckTree. Errors are errs.Invalid.
func (p ConsistencyProof) Check(fromRoot, toRoot tlog.Hash) error {
	if p.From < 1 || p.To > MaxSize || p.From > p.To {
		return errs.E(errs.Invalid, "ledger: consistency proof from %d to %d: out of range", p.From, p.To)
	}
	hashes, err := parseHashes(p.Hashes)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(hashes, p.To, toRoot, p.From, fromRoot); err != nil {
		return errs.Wrap(errs.Invalid, err, "ledger: consistency proof from %d to %d does not verify", p.From, p.To)
	}
	return nil
}

func hashStrings(hs []tlog.Hash) []string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = hashString(h)
	}
	return s
}

func parseHashes(s []string) ([]tlog.Hash, error) {
	if len(s) > maxProofHashes {
		return nil, errs.E(errs.Invalid, "ledger: proof has %d hashes, more than %d", len(s), maxProofHashes)
	}
	hs := make([]tlog.Hash, len(s))
	for i, x := range s {
		h, ok := parseHash(x)
		if !ok {
			return nil, errs.E(errs.Invalid, "ledger: proof hash %d %q is not the base64 encoding of 32 bytes", i, short(x))
		}
		hs[i] = h
	}
	return hs, nil
}
