package ledger

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pubcredit/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testLog is a log of ten access leaves with fixed salts, appended with
// Tree.AppendStored.
func testLog(t testing.TB) ([]Leaf, hashStore, Tree) {
	t.Helper()
	var (
		leaves []Leaf
		store  hashStore
		tree   Tree
	)
	for i := range 10 {
		l := Leaf{
			Kind:       "access",
			ID:         fmt.Sprintf("01hx7k3m:%d", i),
			At:         time.Date(2024, 5, 6, 7, 8, i, 0, time.UTC),
			Commitment: Commit(bytes.Repeat([]byte{byte(i)}, 32), fmt.Appendf(nil, "content %d", i)),
		}
		leaves = append(leaves, l)
		store = append(store, tree.AppendStored(l.Hash())...)
	}
	return leaves, store, tree
}

// testReceipt returns the receipt for leaf 3 of testLog.
func testReceipt(t testing.TB) Receipt {
	t.Helper()
	leaves, store, tree := testLog(t)
	signed, err := testSigner(t).SignCheckpoint(Checkpoint{Origin: testOrigin, Size: tree.Size(), Root: tree.Root()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ProveInclusion(3, tree.Size(), store)
	if err != nil {
		t.Fatal(err)
	}
	return Receipt{
		Format:     ReceiptVersion,
		Leaf:       string(leaves[3].Encode()),
		Index:      3,
		Inputs:     map[string]any{"catalog_item": "CF_WSH", "version": 3.0},
		Checkpoint: string(signed),
		Proof:      p,
	}
}

func TestReceiptGolden(t *testing.T) {
	r := testReceipt(t)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "receipt-v1.json")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("receipt JSON =\n%s\nwant (%s)\n%s", b, golden, want)
	}

	// The golden file verifies offline with only the verifier key.
	p, err := ParseReceipt(want)
	if err != nil {
		t.Fatal(err)
	}
	leaf, c, err := VerifyReceipt(p, goldenVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Kind != "access" || leaf.ID != "01hx7k3m:3" || c.Size != 10 || c.Origin != testOrigin {
		t.Errorf("VerifyReceipt = %+v, %+v", leaf, c)
	}
	if p.Inputs["catalog_item"] != "CF_WSH" {
		t.Errorf("inputs = %v", p.Inputs)
	}
}

func TestReceiptRoundTripEveryLeaf(t *testing.T) {
	leaves, store, tree := testLog(t)
	s := testSigner(t)
	for size := int64(1); size <= tree.Size(); size++ {
		var sub Tree
		for _, l := range leaves[:size] {
			sub.Append(l.Hash())
		}
		signed, err := s.SignCheckpoint(Checkpoint{Origin: testOrigin, Size: size, Root: sub.Root()})
		if err != nil {
			t.Fatal(err)
		}
		for i := range size {
			p, err := ProveInclusion(i, size, store)
			if err != nil {
				t.Fatal(err)
			}
			r := Receipt{Format: ReceiptVersion, Leaf: string(leaves[i].Encode()), Index: i, Checkpoint: string(signed), Proof: p}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "inputs") {
				t.Errorf("empty inputs are not omitted: %s", b)
			}
			r2, err := ParseReceipt(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := VerifyReceipt(r2, s.VerifierKey()); err != nil {
				t.Errorf("leaf %d in size %d: %v", i, size, err)
			}
		}
	}
}

func TestVerifyReceiptChecksInputsAgainstTheLeaf(t *testing.T) {
	leaves, _, _ := testLog(t)
	r := testReceipt(t)
	l := leaves[3]
	id, ver, _ := strings.Cut(l.ID, ":")
	v, _ := strconv.Atoi(ver)
	r.Inputs = map[string]any{"kind": l.Kind, "event_id": l.ID, "at": l.At.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339Nano), "item": "XZCF",
		"record_id": id, "version": float64(v)}
	if _, _, err := VerifyReceipt(r, testSigner(t).VerifierKey()); err != nil {
		t.Fatalf("inputs that agree with the leaf (the time in another zone): %v", err)
	}
}

func TestVerifyReceiptRejects(t *testing.T) {
	leaves, store, tree := testLog(t)
	s := testSigner(t)
	other, err := NewSigner(testOrigin, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x02}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	signedByOther, err := other.SignCheckpoint(Checkpoint{Origin: testOrigin, Size: tree.Size(), Root: tree.Root()})
	if err != nil {
		t.Fatal(err)
	}
	var nine Tree
	for _, l := range leaves[:9] {
		nine.Append(l.Hash())
	}
	signedNine, err := s.SignCheckpoint(Checkpoint{Origin: testOrigin, Size: 9, Root: nine.Root()})
	if err != nil {
		t.Fatal(err)
	}
	proof4, err := ProveInclusion(4, tree.Size(), store)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Receipt)
		vkey   string
	}{
		{"rejects another format", func(r *Receipt) { r.Format = "pubcredit-receipt/v2" }, ""},
		{"rejects an empty format", func(r *Receipt) { r.Format = "" }, ""},
		{"rejects a leaf that does not parse", func(r *Receipt) { r.Leaf = strings.Replace(r.Leaf, "access", "Access", 1) }, ""},
		{"rejects another leaf of the log", func(r *Receipt) { r.Leaf = string(leaves[4].Encode()) }, ""},
		{"rejects a leaf with a changed commitment", func(r *Receipt) {
			l := leaves[3]
			l.Commitment[0] ^= 1
			r.Leaf = string(l.Encode())
		}, ""},
		{"rejects a leaf with a changed time", func(r *Receipt) {
			l := leaves[3]
			l.At = l.At.Add(time.Nanosecond)
			r.Leaf = string(l.Encode())
		}, ""},
		{"rejects a checkpoint signed by another key", func(r *Receipt) { r.Checkpoint = string(signedByOther) }, ""},
		{"rejects a tampered checkpoint", func(r *Receipt) { r.Checkpoint = strings.Replace(r.Checkpoint, "\n10\n", "\n11\n", 1) }, ""},
		{"rejects an unsigned checkpoint", func(r *Receipt) { r.Checkpoint = r.Checkpoint[:strings.Index(r.Checkpoint, "\n\n")+1] }, ""},
		{"rejects a verifier key of another log", func(*Receipt) {}, other.VerifierKey()},
		{"rejects a proof for another index", func(r *Receipt) { r.Proof.Index = 4 }, ""},
		{"rejects a receipt index other than the proof's", func(r *Receipt) { r.Index = 4 }, ""},
		{"rejects a proof for another size", func(r *Receipt) { r.Proof.Size = 9 }, ""},
		{"rejects a checkpoint of another size", func(r *Receipt) { r.Checkpoint = string(signedNine) }, ""},
		{"rejects a proof for another leaf hash", func(r *Receipt) { r.Proof.LeafHash = leaves[4].Hash().String() }, ""},
		{"rejects a proof and leaf of another index", func(r *Receipt) {
			r.Leaf, r.Proof.LeafHash = string(leaves[4].Encode()), leaves[4].Hash().String()
		}, ""},
		{"rejects a proof of another leaf under this index", func(r *Receipt) {
			r.Leaf, r.Proof = string(leaves[4].Encode()), proof4
			r.Proof.Index = 3
		}, ""},
		{"rejects a tampered proof hash", func(r *Receipt) { r.Proof.Hashes[1] = flip(t, r.Proof.Hashes[1]) }, ""},
		{"rejects a missing proof hash", func(r *Receipt) { r.Proof.Hashes = r.Proof.Hashes[:len(r.Proof.Hashes)-1] }, ""},
		{"rejects a negative index", func(r *Receipt) { r.Index, r.Proof.Index = -1, -1 }, ""},
		{"rejects inputs naming another event", func(r *Receipt) { r.Inputs = map[string]any{"event_id": leaves[4].ID} }, ""},
		{"rejects inputs naming another kind", func(r *Receipt) { r.Inputs = map[string]any{"kind": "record.version"} }, ""},
		{"rejects inputs with a kind that is not text", func(r *Receipt) { r.Inputs = map[string]any{"kind": 3.0} }, ""},
		{"rejects inputs with another time", func(r *Receipt) {
			r.Inputs = map[string]any{"at": leaves[3].At.Add(time.Microsecond).Format(time.RFC3339Nano)}
		}, ""},
		{"rejects inputs with a time that does not parse", func(r *Receipt) { r.Inputs = map[string]any{"at": "yesterday"} }, ""},
		{"rejects inputs naming another record", func(r *Receipt) { r.Inputs = map[string]any{"record_id": "01a22bffffffffffffffffffffffffff"} }, ""},
		{"rejects inputs naming another version of the record", func(r *Receipt) {
			id, _, _ := strings.Cut(leaves[3].ID, ":")
			r.Inputs = map[string]any{"record_id": id, "version": 99.0}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testReceipt(t)
			tc.change(&r)
			vkey := tc.vkey
			if vkey == "" {
				vkey = s.VerifierKey()
			}
			l, c, err := VerifyReceipt(r, vkey)
			wantKind(t, err, errs.Invalid)
			if l != (Leaf{}) || c != (Checkpoint{}) {
				t.Error("VerifyReceipt returned a leaf or checkpoint with its error")
			}
		})
	}
}

func TestParseReceiptRejects(t *testing.T) {
	good, err := json.Marshal(testReceipt(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseReceipt(good); err != nil {
		t.Fatal(err)
	}
	g := string(good)
	edit := func(change func(map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"rejects empty input", ""},
		{"rejects null", "null"},
		{"rejects an array", "[" + g + "]"},
		{"rejects a string", `"receipt"`},
		{"rejects an unknown key", strings.Replace(g, `{"format"`, `{"extra":1,"format"`, 1)},
		{"rejects a repeated key", strings.Replace(g, `{"format"`, `{"format":"x","format"`, 1)},
		{"rejects a key in another case", strings.Replace(g, `{"format"`, `{"Format"`, 1)},
		{"rejects a missing format", strings.Replace(g, `"format":"pubcredit-receipt/v1",`, "", 1)},
		{"rejects a missing proof", g[:strings.Index(g, `,"proof"`)] + "}"},
		{"rejects a null proof", g[:strings.Index(g, `,"proof"`)] + `,"proof":null}`},
		{"rejects an unknown key in the proof", strings.Replace(g, `"proof":{`, `"proof":{"extra":1,`, 1)},
		{"rejects a repeated key in the proof", strings.Replace(g, `"proof":{`, `"proof":{"size":1,`, 1)},
		{"rejects a key in another case in the proof", strings.Replace(g, `"leaf_hash"`, `"Leaf_Hash"`, 1)},
		{"rejects a missing key in the proof", strings.Replace(g, `"index":3,"size"`, `"size"`, 1)},
		{"rejects an index as a string", strings.Replace(g, `"index":3,"inputs"`, `"index":"3","inputs"`, 1)},
		{"rejects a fractional index", strings.Replace(g, `"index":3,"inputs"`, `"index":3.5,"inputs"`, 1)},
		{"rejects an index beyond int64", strings.Replace(g, `"index":3,"inputs"`, `"index":9223372036854775808,"inputs"`, 1)},
		{"rejects hashes as a string", edit(func(m map[string]any) { m["proof"].(map[string]any)["hashes"] = "x" })},
		{"rejects a size as a string", edit(func(m map[string]any) { m["proof"].(map[string]any)["size"] = "10" })},
		{"rejects a leaf as an object", edit(func(m map[string]any) { m["leaf"] = map[string]any{} })},
		{"rejects inputs as an array", edit(func(m map[string]any) { m["inputs"] = []any{} })},
		{"rejects data after the object", g + "{}"},
		{"rejects a second value after the object", g + " 1"},
		{"rejects a truncated object", g[:len(g)-1]},
		{"rejects invalid JSON", strings.Replace(g, `"format":`, `"format"=`, 1)},
		{"rejects more than 64 KiB", strings.Replace(g, `"inputs":{`, `"inputs":{"pad":"`+strings.Repeat("x", MaxReceiptSize)+`",`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in == g {
				t.Fatal("test case does not change the receipt")
			}
			_, err := ParseReceipt([]byte(tc.in))
			wantKind(t, err, errs.Invalid)
		})
	}
}

func TestParseReceiptAcceptsWhitespaceAndNoInputs(t *testing.T) {
	r := testReceipt(t)
	r.Inputs = nil
	b, err := json.MarshalIndent(r, "\t", "   ")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseReceipt(append(append([]byte(" \n"), b...), "\n\n"...))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyReceipt(p, goldenVerifierKey); err != nil {
		t.Fatal(err)
	}
}
