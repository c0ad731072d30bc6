package access

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"pubcredit/internal/auth"
)

// committedJSON is Committed as encoding/json wrote it before it was
// written by hand: the leaves stored since commit to these bytes.
func committedJSON(e Event) []byte {
	b, _ := json.Marshal(struct {
		ID         string    `json:"id"`
		At         string    `json:"at"`
		Principal  auth.Kind `json:"principal_kind"`
		Actor      string    `json:"principal"`
		SubjectKey string    `json:"subject_key"`
		Action     Action    `json:"action"`
		Purpose    string    `json:"purpose"`
		Authority  string    `json:"authority"`
		Records    []string  `json:"records"`
		Items      []string  `json:"items"`
	}{e.ID, e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), e.Principal, e.Actor, hex.EncodeToString(e.SubjectKey),
		e.Action, e.Purpose, e.Authority, nonNil(e.Records), nonNil(e.Items)})
	return b
}

func TestCommittedMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	text := func() string {
		pieces := []string{"a", "0", " ", "中", "<", ">", "&", "\"", "\\", "\n", "\x00", "\u2028", "\xff", "\U0001F600"}
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	list := func() []string {
		if r.IntN(4) == 0 {
			return nil
		}
		l := make([]string, r.IntN(3))
		for i := range l {
			l[i] = text()
		}
		return l
	}
	golden := Event{ID: "019ad4a1c0e87c2b9f00a1b2c3d4e5f6", At: time.Date(2026, 11, 30, 18, 4, 5, 123456789, time.FixedZone("CST", 8*3600)),
		Principal: auth.Department, Actor: "TJ-SCJG", SubjectKey: []byte{0, 0xab}, Action: Check, Purpose: "行政许可 <审批>",
		Records: []string{"r1", "r2"}}
	const want = `{"id":"019ad4a1c0e87c2b9f00a1b2c3d4e5f6","at":"2026-11-30T10:04:05.123456Z","principal_kind":"department","principal":"TJ-SCJG","subject_key":"00ab","action":"check","purpose":"行政许可 \u003c审批\u003e","authority":"","records":["r1","r2"],"items":[]}`
	if got := golden.Committed(); string(got) != want {
		t.Fatalf("Committed() = %s\nwant %s", got, want)
	}
	for range 20000 {
		e := Event{ID: text(), At: time.Unix(r.Int64N(400e9)-200e9, r.Int64N(2e9)).In(time.FixedZone("", 3600*(r.IntN(27)-12))),
			Principal: auth.Kind(text()), Actor: text(), SubjectKey: []byte(text()), Action: Action(text()), Purpose: text(),
			Authority: text(), Records: list(), Items: list()}
		if got, want := e.Committed(), committedJSON(e); string(got) != string(want) {
			t.Fatalf("Committed(%#v) = %s\nencoding/json: %s", e, got, want)
		}
	}
}
