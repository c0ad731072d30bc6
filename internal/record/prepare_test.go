package record

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/ledger"
	"pubcredit/internal/vault"
)

// TestPrepareSealsAsEncodingJSON checks what Prepare seals against the
// encoding/json encodings and the unshared sealing of one version: the
// content in the payload and its hash, the row state, the ledger leaf.
func TestPrepareSealsAsEncodingJSON(t *testing.T) {
	keys, err := vault.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 30, 10, 0, 0, 123456789, cst)
	cat, err := catalog.Load(catalogfs.Items())
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Catalog: cat, Keys: keys, Clock: clock.NewFixed(now), Location: cst, Thresholds: DefaultThresholds}
	dept := &auth.Principal{Kind: auth.Department, ID: "SCJG", Submit: []string{"XZCF", "ZYFW"}}
	var subs []Submission
	for i, types := range []string{"罚款", "警告", "罚款、吊销许可证件", "罚款，没收违法所得", "暂扣许可证件"} {
		subs = append(subs, Submission{Item: "XZCF", Fields: map[string]any{
			"CF_XDR_MC": "张三", "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": "11010519491231002X",
			"CF_JDRQ": "2026-05-0" + fmt.Sprint(i+1), "CF_WSH": fmt.Sprintf("津罚〔2026〕%d号 <&>", i), "CF_CFLB": types,
			"CF_NR_FK": json.Number(fmt.Sprintf("%d.5", i)), "CF_YXQ": "2027-01-31", "BZ": "备注\u2028",
		}})
	}
	subs = append(subs, Submission{Ref: "Z1", Item: "ZYFW", DecidedOn: "2026-01-02",
		Subject: Subject{IDNumber: "11010519491231002X", Name: "张三"},
		Fields:  map[string]any{"decision_no": "津志愿〔2026〕1号", "organisation": "天津", "project": "社区", "service_hours": json.Number("12")}})
	b, err := s.Prepare(dept, subs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.stored) != len(subs) {
		t.Fatalf("%d of %d rows prepared: %+v", len(b.stored), len(subs), b.results)
	}
	for j, st := range b.stored {
		rec := b.results[b.pending[j]].Record
		canon, err := json.Marshal(rec.Content)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := keys.Decrypt(st.Payload, recordAAD(st.ID, st.Version))
		if err != nil || !bytes.Equal(pt, canon) {
			t.Errorf("row %d: payload %s, %v\nwant %s", j, pt, err, canon)
		}
		if !bytes.Equal(st.ContentHash, keys.Hash("record-content", canon)) {
			t.Errorf("row %d: content hash differs from the hash of %s", j, canon)
		}
		v := b.versions[j]
		if want := stateOfJSON(st); !bytes.Equal(v.State, want) {
			t.Errorf("row %d: state %s\nwant %s", j, v.State, want)
		}
		leaf := ledger.Leaf{Kind: LeafKind, ID: EventID(v.RecordID, v.Version), At: v.At.UTC().Truncate(time.Microsecond),
			Commitment: ledger.Commit(v.Salt, v.Committed())}.Encode()
		if !bytes.Equal(v.Leaf, leaf) {
			t.Errorf("row %d: leaf %q\nwant %q", j, v.Leaf, leaf)
		}
		one := Version{RecordID: st.ID, Version: 1, Change: Created, At: now, Payload: st.Payload}
		one.seal(st, true)
		if !bytes.Equal(one.State, v.State) {
			t.Errorf("row %d: state sealed alone %s\nin a batch %s", j, one.State, v.State)
		}
	}
}
