package ledger

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"pubcredit/internal/errs"
)

// The golden values were computed independently (Python hashlib).
const (
	goldenLeafText = "pubcredit-leaf/v1\n" +
		"record.version\n" +
		"01a22b:3\n" +
		"2024-05-06T07:08:09.12Z\n" +
		"938db3c92d900125a28e261e8ee63d73246025fbe8875d375f171857c9b52a3f\n"
	goldenLeafHash = "KBHo1xZWyzhqO6R/gz9u145PL7NGuZzT3Pf3GzytPCI="
)

func TestLeafEncodeGolden(t *testing.T) {
	l := goldenLeaf()
	if got := string(l.Encode()); got != goldenLeafText {
		t.Errorf("Encode() =\n%q\nwant\n%q", got, goldenLeafText)
	}
	if got := l.Hash().String(); got != goldenLeafHash {
		t.Errorf("Hash() = %s, want %s", got, goldenLeafHash)
	}
	if err := l.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	p, err := ParseLeaf([]byte(goldenLeafText))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != l.Kind || p.ID != l.ID || !p.At.Equal(l.At) || p.Commitment != l.Commitment {
		t.Errorf("ParseLeaf = %+v, want %+v", p, l)
	}
	if p.At.Location() != time.UTC {
		t.Errorf("parsed time is in %v, want UTC", p.At.Location())
	}
	if got := string(p.Encode()); got != goldenLeafText {
		t.Errorf("re-encoded leaf = %q", got)
	}
}

func TestLeafEncodeTime(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 1, time.UTC), "2024-01-02T03:04:05.000000001Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 100, time.UTC), "2024-01-02T03:04:05.0000001Z"},
		{time.Date(2024, 1, 1, 7, 0, 0, 0, time.FixedZone("CST", 8*3600)), "2023-12-31T23:00:00Z"},
		{time.Time{}, "0001-01-01T00:00:00Z"},
	} {
		l := goldenLeaf()
		l.At = tc.at
		lines := strings.Split(string(l.Encode()), "\n")
		if lines[3] != tc.want {
			t.Errorf("time %v encodes as %q, want %q", tc.at, lines[3], tc.want)
		}
		p, err := ParseLeaf(l.Encode())
		if err != nil {
			t.Errorf("ParseLeaf(%q): %v", l.Encode(), err)
			continue
		}
		if !p.At.Equal(tc.at) {
			t.Errorf("time %v parses back as %v", tc.at, p.At)
		}
	}
}

// leafText joins lines into a leaf, each newline-terminated.
func leafText(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestParseLeafRejects(t *testing.T) {
	const (
		v    = LeafVersion
		kind = "record.version"
		id   = "01a22b:3"
		at   = "2024-05-06T07:08:09.12Z"
		c    = "938db3c92d900125a28e261e8ee63d73246025fbe8875d375f171857c9b52a3f"
	)
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"rejects empty input", ""},
		{"rejects a leaf without its final newline", strings.TrimSuffix(leafText(v, kind, id, at, c), "\n")},
		{"rejects a leaf with a blank line after it", leafText(v, kind, id, at, c) + "\n"},
		{"rejects four lines", leafText(v, kind, id, c)},
		{"rejects six lines", leafText(v, kind, id, at, c, "extra")},
		{"rejects another version", leafText("pubcredit-leaf/v2", kind, id, at, c)},
		{"rejects a version with trailing space", leafText(v+" ", kind, id, at, c)},
		{"rejects CRLF line endings", strings.ReplaceAll(leafText(v, kind, id, at, c), "\n", "\r\n")},
		{"rejects an empty kind", leafText(v, "", id, at, c)},
		{"rejects an upper-case kind", leafText(v, "Record.version", id, at, c)},
		{"rejects a kind with a space", leafText(v, "record version", id, at, c)},
		{"rejects a kind with a slash", leafText(v, "record/version", id, at, c)},
		{"rejects a 65-byte kind", leafText(v, strings.Repeat("a", 65), id, at, c)},
		{"rejects an empty id", leafText(v, kind, "", at, c)},
		{"rejects an id with a space", leafText(v, kind, "01a22b 3", at, c)},
		{"rejects an id with a tab", leafText(v, kind, "01a22b\t3", at, c)},
		{"rejects an id with DEL", leafText(v, kind, "01a22b\x7f3", at, c)},
		{"rejects an id with a non-ASCII byte", leafText(v, kind, "01a22b:é", at, c)},
		{"rejects a 129-byte id", leafText(v, kind, strings.Repeat("a", 129), at, c)},
		{"rejects a time with an offset", leafText(v, kind, id, "2024-05-06T15:08:09.12+08:00", c)},
		{"rejects a time with +00:00 for Z", leafText(v, kind, id, "2024-05-06T07:08:09.12+00:00", c)},
		{"rejects a lower-case z", leafText(v, kind, id, "2024-05-06T07:08:09.12z", c)},
		{"rejects a lower-case t", leafText(v, kind, id, "2024-05-06t07:08:09.12Z", c)},
		{"rejects a space for T", leafText(v, kind, id, "2024-05-06 07:08:09.12Z", c)},
		{"rejects trailing zeros in the fraction", leafText(v, kind, id, "2024-05-06T07:08:09.120Z", c)},
		{"rejects an empty fraction", leafText(v, kind, id, "2024-05-06T07:08:09.Z", c)},
		{"rejects a comma fraction", leafText(v, kind, id, "2024-05-06T07:08:09,12Z", c)},
		{"rejects a time without seconds", leafText(v, kind, id, "2024-05-06T07:08Z", c)},
		{"rejects a date without time", leafText(v, kind, id, "2024-05-06", c)},
		{"rejects February 30", leafText(v, kind, id, "2024-02-30T07:08:09Z", c)},
		{"rejects a leap second", leafText(v, kind, id, "2016-12-31T23:59:60Z", c)},
		{"rejects a Unix time", leafText(v, kind, id, "1714979289", c)},
		{"rejects upper-case hex", leafText(v, kind, id, at, strings.ToUpper(c))},
		{"rejects 63 hex digits", leafText(v, kind, id, at, c[:63])},
		{"rejects 65 hex digits", leafText(v, kind, id, at, c+"0")},
		{"rejects a non-hex digit", leafText(v, kind, id, at, "g"+c[1:])},
		{"rejects base64 for hex", leafText(v, kind, id, at, goldenLeafHash)},
		{"rejects more than 512 bytes", leafText(v, kind, id, at, c) + strings.Repeat("x", 512)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseLeaf([]byte(tc.in))
			wantKind(t, err, errs.Invalid)
			if l != (Leaf{}) {
				t.Errorf("ParseLeaf returned %+v with its error", l)
			}
		})
	}
}

func TestParseLeafAcceptsLimits(t *testing.T) {
	l := Leaf{
		Kind: strings.Repeat("z", 64),
		ID:   strings.Repeat("~", 128),
		At:   time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	for i := range l.Commitment {
		l.Commitment[i] = 0xff
	}
	b := l.Encode()
	if len(b) > MaxLeafSize {
		t.Fatalf("largest valid leaf is %d bytes, more than MaxLeafSize %d", len(b), MaxLeafSize)
	}
	p, err := ParseLeaf(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Encode(), b) {
		t.Errorf("round trip changed %q to %q", b, p.Encode())
	}
}

func TestLeafValidate(t *testing.T) {
	bad := Leaf{Kind: "Access", ID: "a b", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	err := bad.Validate()
	wantKind(t, err, errs.Invalid)
	for _, field := range []string{"kind", "id", "at"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("Validate() = %v, does not name %s", err, field)
		}
	}
	if _, err := ParseLeaf(bad.Encode()); err == nil {
		t.Errorf("ParseLeaf accepted the encoding of an invalid leaf: %q", bad.Encode())
	}
	if err := (Leaf{Kind: "access", ID: "x", At: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}).Validate(); err == nil {
		t.Error("Validate accepted year -1")
	}
}

func TestCommit(t *testing.T) {
	salt := bytes.Repeat([]byte{0x02}, 32)
	want := sha256.Sum256(append(append([]byte{}, salt...), "content"...))
	if got := Commit(salt, []byte("content")); got != want {
		t.Errorf("Commit = %x, want %x", got, want)
	}
	for _, n := range []int{0, 31, 33} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Commit with a %d-byte salt did not panic", n)
				}
			}()
			Commit(make([]byte, n), nil)
		}()
	}
}

func TestNewSalt(t *testing.T) {
	a, b := NewSalt(), NewSalt()
	if len(a) != SaltSize || len(b) != SaltSize {
		t.Fatalf("salt lengths %d, %d, want %d", len(a), len(b), SaltSize)
	}
	if bytes.Equal(a, b) {
		t.Error("two salts are equal")
	}
}
