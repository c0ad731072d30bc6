package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

const testOrigin = "credit.example.gov.cn/pubcredit"

// testKey is the fixed Ed25519 key of the tests: the seed is 32 bytes of 0x01.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x01}, 32))

func testSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner(testOrigin, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hashStore is an in-memory tlog.HashReader over a log's stored hashes, in
// tlog.StoredHashIndex order.
type hashStore []tlog.Hash

func (s hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("hashStore: index %d not stored (have %d)", x, len(s))
		}
		out[i] = s[x]
	}
	return out, nil
}

// testLeafHash is the record hash of the i'th leaf of the test logs.
func testLeafHash(i int64) tlog.Hash {
	return tlog.RecordHash(fmt.Appendf(nil, "leaf %d", i))
}

// tlogStore builds the stored hashes of a log of n leaves with tlog itself,
// independently of Tree, and returns them with the leaf hashes.
func tlogStore(t testing.TB, n int64) (hashStore, []tlog.Hash) {
	t.Helper()
	var s hashStore
	leaves := make([]tlog.Hash, n)
	for i := range n {
		leaves[i] = testLeafHash(i)
		hs, err := tlog.StoredHashesForRecordHash(i, leaves[i], s)
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, hs...)
	}
	return s, leaves
}

func treeHash(t testing.TB, n int64, r tlog.HashReader) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(n, r)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// wantKind fails the test unless err is non-nil and of kind k.
func wantKind(t testing.TB, err error, k errs.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want a %s error", k)
	}
	if !errors.Is(err, k) {
		t.Fatalf("err = %v (kind %s), want kind %s", err, errs.KindOf(err), k)
	}
}

// goldenLeaf is the leaf of the golden tests.
func goldenLeaf() Leaf {
	return Leaf{
		Kind:       "record.version",
		ID:         "01a22b:3",
		At:         time.Date(2024, 5, 6, 15, 8, 9, 120000000, time.FixedZone("CST", 8*3600)),
		Commitment: Commit(bytes.Repeat([]byte{0x02}, 32), []byte("content")),
	}
}
