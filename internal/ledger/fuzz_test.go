package ledger

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseLeaf(f *testing.F) {
	f.Add([]byte(goldenLeafText))
	f.Add([]byte(leafText(LeafVersion, "a", "b", "0001-01-01T00:00:00Z", "0000000000000000000000000000000000000000000000000000000000000000")))
	f.Add([]byte(leafText(LeafVersion, "a", "b", "2024-05-06T07:08:09.000000001Z", "938db3c92d900125a28e261e8ee63d73246025fbe8875d375f171857c9b52a3f")))
	f.Add([]byte(leafText(LeafVersion, "a", "b", "2024-05-06T07:08:09.12+08:00", "938db3c92d900125a28e261e8ee63d73246025fbe8875d375f171857c9b52a3f")))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLeaf(b)
		if err != nil {
			return
		}
		if enc := l.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("ParseLeaf(%q).Encode() = %q", b, enc)
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("ParseLeaf(%q) accepted a leaf Validate rejects: %v", b, err)
		}
		_ = l.Hash()
	})
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{
		"tile/0/000", "tile/0/x001/x234/067", "tile/entries/000.p/5", "tile/63/x009/x223/x372/x036/x854/x775/807.p/255",
		"tile/0/000.p/256", "tile/00/000", "tile/0/x000/001", "tile/8/0/000", "tile/data/000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tp, err := ParseTilePath(p)
		if err != nil {
			return
		}
		if s := tp.String(); s != p {
			t.Fatalf("ParseTilePath(%q).String() = %q", p, s)
		}
		if tp.Level < 0 || tp.Level > 63 || tp.Index < 0 || tp.Width < 1 || tp.Width > TileWidth || tp.Entries && tp.Level != 0 {
			t.Fatalf("ParseTilePath(%q) = %+v, out of range", p, tp)
		}
		// Must not panic, whatever the size.
		_ = tp.CheckSize(0)
		_ = tp.CheckSize(MaxSize)
	})
}

func FuzzParseCheckpointBody(f *testing.F) {
	f.Add([]byte(goldenBody))
	f.Add([]byte(goldenBody + "ext\n"))
	f.Add([]byte("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Add([]byte("o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Add([]byte("o\n4611686018427387904\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCheckpointBody(b)
		if err != nil {
			return
		}
		body := c.Body()
		if !bytes.HasPrefix(b, body) {
			t.Fatalf("ParseCheckpointBody(%q).Body() = %q, not a prefix of the input", b, body)
		}
		c2, err := ParseCheckpointBody(body)
		if err != nil || c2 != c {
			t.Fatalf("re-parsing %q: %+v, %v", body, c2, err)
		}
	})
}

func FuzzParseReceipt(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "receipt-v1.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format":"pubcredit-receipt/v1","leaf":"","index":0,"checkpoint":"","proof":{"index":0,"size":0,"leaf_hash":"","hashes":null}}`))
	f.Add([]byte(`{"format":"x","format":"y"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			return
		}
		// Must not panic on any parsed receipt.
		_, _, verr := VerifyReceipt(r, goldenVerifierKey)
		// A parsed receipt survives a JSON round trip with the same verdict.
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
		if len(enc) > MaxReceiptSize {
			return // escaping ("<" as \u003c) can grow a receipt past the bound
		}
		r2, err := ParseReceipt(enc)
		if err != nil {
			t.Fatalf("ParseReceipt(Marshal(ParseReceipt(%q))) = %v", b, err)
		}
		if _, _, verr2 := VerifyReceipt(r2, goldenVerifierKey); (verr == nil) != (verr2 == nil) {
			t.Fatalf("verdict changed in a round trip: %v, then %v", verr, verr2)
		}
	})
}
