package record

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
)

// The canonical encodings below are sealed, hashed and committed to the
// ledger: their bytes must never change. The golden strings were made by
// the encoding/json implementation they replaced.

type contentCase struct {
	name string
	c    Content
	want string // "" when encoding fails
}

func contentCases() []contentCase {
	return []contentCase{
		{name: "a national penalty", want: "{\"item\":\"XZCF\",\"id_type\":\"resident_id\",\"id_number\":\"11010519491231002X\",\"name\":\"欧阳娜娜\",\"decided_on\":\"2026-05-01\",\"severity\":\"general\",\"fields\":{\"decision_no\":\"津市监罚〔2026〕000001号\",\"facts\":\"当事人存在违法行为，经调查属实。\",\"fine_amount\":23456.5,\"penalty_types\":[\"fine\",\"license_revocation\"],\"valid_until\":\"2027-01-01\"}}", c: Content{
			Item: "XZCF", IDType: "resident_id", IDNumber: "11010519491231002X", Name: "欧阳娜娜",
			DecidedOn: clock.Date{Year: 2026, Month: 5, Day: 1}, Severity: "general",
			Fields: map[string]any{
				"decision_no": "津市监罚〔2026〕000001号", "penalty_types": []string{"fine", "license_revocation"},
				"fine_amount": json.Number("23456.5"), "valid_until": "2027-01-01", "facts": "当事人存在违法行为，经调查属实。",
			},
		}},
		{name: "values of every type", want: "{\"item\":\"ZYFW\",\"id_type\":\"passport\",\"id_number\":\"E12345678\",\"name\":\"Anne-Marie O'Neil\",\"decided_on\":\"0007-03-04\",\"fields\":{\"big\":123456789012345678901234567890,\"empty_list\":[],\"neg\":-0.000001,\"nil_list\":null,\"no\":false,\"none\":null,\"yes\":true,\"zero\":0}}", c: Content{
			Item: "ZYFW", IDType: "passport", IDNumber: "E12345678", Name: "Anne-Marie O'Neil",
			DecidedOn: clock.Date{Year: 7, Month: 3, Day: 4},
			Fields: map[string]any{
				"yes": true, "no": false, "none": nil, "empty_list": []string{}, "nil_list": []string(nil),
				"zero": json.Number(""), "neg": json.Number("-0.000001"), "big": json.Number("123456789012345678901234567890"),
			},
		}},
		{name: "text that JSON escapes", want: "{\"item\":\"X\\u003c\\u0026\\u003e\",\"id_type\":\"\\\"quoted\\\"\",\"id_number\":\"back\\\\slash\",\"name\":\"tab\\tnew\\nline\\r\\u0001\\u001f\x7f\",\"decided_on\":\"12345-12-31\",\"severity\":\"s\\u2028\\u2029\",\"fields\":{\"\\u003chtml\\u003e\":\"a\\u0026b\\u003cc\\u003ed\",\"bad_utf8\":\"x\\ufffdy\\ufffd\",\"list\":[\"\\u003c\",\"\\\"\",\"\\u2028\",\"ok\"],\"seps\":\"\\u2028|\\u2029|‧|\u202a\",\"é中\":\"\\b\\f\\u0000\"}}", c: Content{
			Item: "X<&>", IDType: "\"quoted\"", IDNumber: "back\\slash", Name: "tab\tnew\nline\r\x01\x1f\x7f",
			DecidedOn: clock.Date{Year: 12345, Month: 12, Day: 31}, Severity: "s\u2028\u2029",
			Fields: map[string]any{
				"<html>": "a&b<c>d", "bad_utf8": "x\xffy\xc3", "seps": "\u2028|\u2029|\u2027|\u202a",
				"list": []string{"<", "\"", "\u2028", "ok"}, "\u00e9\u4e2d": "\b\f\u0000",
			},
		}},
		{name: "no fields and no date", want: "{\"item\":\"XZCF\",\"id_type\":\"\",\"id_number\":\"\",\"name\":\"\",\"decided_on\":\"\",\"fields\":null}", c: Content{Item: "XZCF"}},
		{name: "an invalid number", want: "", c: Content{Fields: map[string]any{"n": json.Number("1e")}}},
	}
}

type stateCase struct {
	name string
	st   Stored
	want string
}

func stateCases() []stateCase {
	at := time.Date(2026, 11, 30, 18, 4, 5, 123456789, time.FixedZone("CST", 8*3600))
	return []stateCase{
		{name: "a new record", want: "{\"id\":\"019ad4a1c0e87c2b9f00a1b2c3d4e5f6\",\"dept\":\"TJ-SCJG\",\"ref\":\"津市监罚〔2026〕000001号\",\"item\":\"XZCF\",\"subject_key\":\"0001abff\",\"version\":1,\"status\":\"active\",\"severity\":\"serious\",\"from\":\"2026-05-01\",\"earliest_end\":\"2027-05-01\",\"end\":\"2029-05-01\",\"public\":true,\"content_hash\":\"deadbeef\",\"created_at\":\"2026-11-30T10:04:05.123456Z\",\"updated_at\":\"2026-11-30T11:04:05.123456Z\",\"revocation\":null}", st: Stored{
			ID: "019ad4a1c0e87c2b9f00a1b2c3d4e5f6", Dept: "TJ-SCJG", Ref: "津市监罚〔2026〕000001号", Item: "XZCF",
			SubjectKey: []byte{0x00, 0x01, 0xab, 0xff}, Version: 1, Status: Active, Severity: "serious",
			Window: Window{From: clock.Date{Year: 2026, Month: 5, Day: 1}, EarliestEnd: clock.Date{Year: 2027, Month: 5, Day: 1},
				End: clock.Date{Year: 2029, Month: 5, Day: 1}, Public: true},
			ContentHash: []byte{0xde, 0xad, 0xbe, 0xef}, CreatedAt: at, UpdatedAt: at.Add(time.Hour),
			Payload: []byte("not in the state"),
		}},
		{name: "a revoked record", want: "{\"id\":\"r\",\"dept\":\"d\",\"ref\":\"\\u003ca\\u0026b\\u003e\\u2028\\\"\\\\\",\"item\":\"XZCF\",\"subject_key\":\"\",\"version\":12,\"status\":\"revoked\",\"severity\":\"\",\"from\":\"2026-05-01\",\"earliest_end\":\"\",\"end\":\"\",\"public\":false,\"content_hash\":\"\",\"created_at\":\"2026-01-02T03:04:05Z\",\"updated_at\":\"2026-11-30T10:04:05.123456Z\",\"revocation\":{\"reason\":\"overturned \\u003con appeal\\u003e \\u0026 \\\"quashed\\\"\",\"basis\":\"判决书\\n第2号\",\"at\":\"2026-11-30T10:04:05.123456Z\"}}", st: Stored{
			ID: "r", Dept: "d", Ref: "<a&b>\u2028\"\\", Item: "XZCF", Version: 12, Status: Revoked,
			Window:    Window{From: clock.Date{Year: 2026, Month: 5, Day: 1}},
			CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UpdatedAt: at,
			Revocation: &Revocation{Reason: "overturned <on appeal> & \"quashed\"", Basis: "判决书\n第2号", At: at},
		}},
		{name: "a zero record", want: "{\"id\":\"\",\"dept\":\"\",\"ref\":\"\",\"item\":\"\",\"subject_key\":\"\",\"version\":0,\"status\":\"\",\"severity\":\"\",\"from\":\"\",\"earliest_end\":\"\",\"end\":\"\",\"public\":false,\"content_hash\":\"\",\"created_at\":\"0001-01-01T00:00:00Z\",\"updated_at\":\"0001-01-01T00:00:00Z\",\"revocation\":null}", st: Stored{}},
		{name: "a revocation dated after 9999", want: "", st: Stored{ID: "x",
			Revocation: &Revocation{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	}
}

type versionCase struct {
	name string
	v    Version
	want string
}

func versionCases() []versionCase {
	return []versionCase{
		{name: "a first version", want: "pubcredit-record-version/v1\n 019ad4a1c0e87c2b9f00a1b2c3d4e5f6\x011\acreated\x1b2026-11-30T10:04:05.123456Z\x03\x01\x02\x03\x00\n{\"id\":\"x\"}", v: Version{RecordID: "019ad4a1c0e87c2b9f00a1b2c3d4e5f6", Version: 1, Change: Created,
			At:      time.Date(2026, 11, 30, 18, 4, 5, 123456789, time.FixedZone("CST", 8*3600)),
			Payload: []byte{1, 2, 3}, State: []byte(`{"id":"x"}`)}},
		{name: "a correction with a note", want: "pubcredit-record-version/v1\n\x01r\x03130\tcorrected\x142026-01-01T00:00:00Z\xc8\x01" + strings.Repeat("\x00", 200) + "\x04note\x01s", v: Version{RecordID: "r", Version: 130, Change: Corrected,
			At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Payload: make([]byte, 200), Note: []byte("note"), State: []byte("s")}},
		{name: "a zero version", want: "pubcredit-record-version/v1\n\x00\x010\x00\x140001-01-01T00:00:00Z\x00\x00\x00", v: Version{}},
	}
}

func TestContentJSON(t *testing.T) {
	for _, tc := range contentCases() {
		t.Run(tc.name, func(t *testing.T) {
			for _, names := range namesFor(tc.c) {
				got, err := contentJSON(tc.c, names)
				if string(got) != tc.want || (err != nil) != (tc.want == "") {
					t.Errorf("contentJSON(names %q) = %q, %v\nwant %q", names, got, err, tc.want)
				}
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	for _, tc := range stateCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := StateOf(tc.st); string(got) != tc.want {
				t.Errorf("StateOf = %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestCommitted(t *testing.T) {
	for _, tc := range versionCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.v.Committed(); string(got) != tc.want {
				t.Errorf("Committed = %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestCanonicalMatchesEncodingJSON compares the encodings with the
// encoding/json ones they replaced on random content.
func TestCanonicalMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	text := func() string {
		pieces := []string{"a", "Z", "0", " ", "中", "〔", "é", "<", ">", "&", "\"", "\\", "\n", "\t", "\x00", "\x1f", "\x7f",
			"\u2028", "\u2029", "\u2027", "\xff", "\xe2\x80", "\xc3", "\U0001F600", "\ufffd"}
		var b strings.Builder
		for range r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	date := func() clock.Date {
		if r.IntN(5) == 0 {
			return clock.Date{}
		}
		return clock.Date{Year: r.IntN(12000), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(31)}
	}
	numbers := []string{"0", "-0", "1", "-12.5", "0.000001", "123456789012345678901234567890", "1e5", "", "1e", "+1", "01", "NaN"}
	value := func() any {
		switch r.IntN(6) {
		case 0:
			return text()
		case 1:
			return json.Number(numbers[r.IntN(len(numbers))])
		case 2:
			return r.IntN(2) == 0
		case 3:
			l := make([]string, r.IntN(3))
			for i := range l {
				l[i] = text()
			}
			if len(l) == 0 && r.IntN(2) == 0 {
				l = nil
			}
			return l
		case 4:
			return nil
		}
		return date().String()
	}
	for range 20000 {
		c := Content{Item: text(), IDType: text(), IDNumber: text(), Name: text(), DecidedOn: date(), Severity: catalog.Severity(text())}
		if r.IntN(10) > 0 {
			c.Fields = map[string]any{}
			for range r.IntN(6) {
				c.Fields[text()] = value()
			}
		}
		want, wantErr := json.Marshal(c)
		for _, names := range namesFor(c) {
			got, err := contentJSON(c, names)
			if string(got) != string(want) || (err == nil) != (wantErr == nil) {
				t.Fatalf("contentJSON(%#v, %q) = %q, %v\nencoding/json: %q, %v", c, names, got, err, want, wantErr)
			}
		}

		at := time.Unix(r.Int64N(400e9)-200e9, r.Int64N(2e9)).In(time.FixedZone("", 3600*(r.IntN(27)-12)))
		st := Stored{ID: text(), Dept: text(), Ref: text(), Item: text(), SubjectKey: []byte(text()), Version: r.IntN(1000) - 1,
			Status: Status(text()), Severity: catalog.Severity(text()), Window: Window{From: date(), EarliestEnd: date(), End: date(), Public: r.IntN(2) == 0},
			ContentHash: []byte(text()), CreatedAt: at, UpdatedAt: at.Add(time.Duration(r.Int64N(1e15)))}
		if r.IntN(4) == 0 {
			st.Revocation = &Revocation{Reason: text(), Basis: text(), At: at.Add(-time.Duration(r.Int64N(1e15)))}
		}
		if got, want := StateOf(st), stateOfJSON(st); string(got) != string(want) {
			t.Fatalf("StateOf(%#v) = %q\nencoding/json: %q", st, got, want)
		}
	}
}

// namesFor returns the field names to try contentJSON with: none, the
// keys of c.Fields and more, and all but one of them.
func namesFor(c Content) [][]string {
	keys := slices.Sorted(maps.Keys(c.Fields))
	all := slices.Sorted(slices.Values(append([]string{"", "a", "zzz", "\xff"}, keys...)))
	all = slices.Compact(all)
	out := [][]string{nil, all}
	if len(keys) > 0 {
		i := slices.Index(all, keys[len(keys)/2])
		out = append(out, slices.Delete(slices.Clone(all), i, i+1))
	}
	return out
}

// stateJSON is the canonical form of a record row, payload excepted, as
// encoding/json made it. Field order is fixed by the struct.
type stateJSON struct {
	ID          string      `json:"id"`
	Dept        string      `json:"dept"`
	Ref         string      `json:"ref"`
	Item        string      `json:"item"`
	SubjectKey  string      `json:"subject_key"`
	Version     int         `json:"version"`
	Status      Status      `json:"status"`
	Severity    string      `json:"severity"`
	From        string      `json:"from"`
	EarliestEnd string      `json:"earliest_end"`
	End         string      `json:"end"`
	Public      bool        `json:"public"`
	ContentHash string      `json:"content_hash"`
	CreatedAt   string      `json:"created_at"`
	UpdatedAt   string      `json:"updated_at"`
	Revocation  *Revocation `json:"revocation"`
}

// stateOfJSON is StateOf as encoding/json made it.
func stateOfJSON(st Stored) []byte {
	var rev *Revocation
	if st.Revocation != nil {
		r := *st.Revocation
		r.At = r.At.UTC().Truncate(time.Microsecond)
		rev = &r
	}
	b, _ := json.Marshal(stateJSON{
		ID: st.ID, Dept: st.Dept, Ref: st.Ref, Item: st.Item, SubjectKey: hex.EncodeToString(st.SubjectKey),
		Version: st.Version, Status: st.Status, Severity: string(st.Severity),
		From: st.Window.From.String(), EarliestEnd: st.Window.EarliestEnd.String(), End: st.Window.End.String(), Public: st.Window.Public,
		ContentHash: hex.EncodeToString(st.ContentHash),
		CreatedAt:   stamp(st.CreatedAt), UpdatedAt: stamp(st.UpdatedAt), Revocation: rev,
	})
	return b
}
