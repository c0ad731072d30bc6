package ledger

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

// The golden values were computed independently (Python hashlib and
// cryptography's Ed25519, which signs deterministically).
const (
	goldenVerifierKey = "credit.example.gov.cn/pubcredit+f9e5254f+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
	goldenBody        = "credit.example.gov.cn/pubcredit\n" +
		"1\n" +
		"KBHo1xZWyzhqO6R/gz9u145PL7NGuZzT3Pf3GzytPCI=\n"
	goldenSigned = goldenBody + "\n" +
		"— credit.example.gov.cn/pubcredit +eUlT0AGgGw8YByGAVfkBcsU0GRIMCYSkzpAt0745+/O+316LZq5p0ecjD8w4jMg6SgWG718XbGTidZtGZMg7Yw8BQI=\n"
)

func goldenCheckpoint() Checkpoint {
	return Checkpoint{Origin: testOrigin, Size: 1, Root: goldenLeaf().Hash()}
}

func TestCheckpointBodyGolden(t *testing.T) {
	c := goldenCheckpoint()
	if got := string(c.Body()); got != goldenBody {
		t.Errorf("Body() =\n%q\nwant\n%q", got, goldenBody)
	}
	p, err := ParseCheckpointBody([]byte(goldenBody))
	if err != nil {
		t.Fatal(err)
	}
	if p != c {
		t.Errorf("ParseCheckpointBody = %+v, want %+v", p, c)
	}
	// tlog's own parser agrees, apart from its origin line.
	if _, err := tlog.ParseTree([]byte("go.sum database tree\n1\n" + c.Root.String() + "\n")); err != nil {
		t.Errorf("tlog.ParseTree: %v", err)
	}
}

func TestParseCheckpointBodyAcceptsExtensions(t *testing.T) {
	in := goldenBody + "ext one\nx\n"
	c, err := ParseCheckpointBody([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if c != goldenCheckpoint() {
		t.Errorf("ParseCheckpointBody = %+v", c)
	}
}

func TestParseCheckpointBodyAcceptsSizes(t *testing.T) {
	root := goldenLeaf().Hash().String()
	for _, size := range []string{"0", "7", "10", "4611686018427387903"} {
		c, err := ParseCheckpointBody([]byte("o\n" + size + "\n" + root + "\n"))
		if err != nil {
			t.Errorf("size %s: %v", size, err)
			continue
		}
		if got := string(c.Body()); got != "o\n"+size+"\n"+root+"\n" {
			t.Errorf("size %s re-encodes as %q", size, got)
		}
	}
}

func TestParseCheckpointBodyRejects(t *testing.T) {
	const root = "KBHo1xZWyzhqO6R/gz9u145PL7NGuZzT3Pf3GzytPCI="
	body := func(origin, size, root string) string { return origin + "\n" + size + "\n" + root + "\n" }
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"rejects empty input", ""},
		{"rejects a body without its final newline", strings.TrimSuffix(goldenBody, "\n")},
		{"rejects two lines", testOrigin + "\n1\n"},
		{"rejects an empty extension line", goldenBody + "\n"},
		{"rejects an empty origin", body("", "1", root)},
		{"rejects an origin with a space", body("credit example", "1", root)},
		{"rejects an origin with a plus", body("credit+example", "1", root)},
		{"rejects an origin with a control character", body("credit\x01example", "1", root)},
		{"rejects an origin with a no-break space", body("credit\u00a0example", "1", root)},
		{"rejects an origin of invalid UTF-8", body("credit\xffexample", "1", root)},
		{"rejects an empty size", body(testOrigin, "", root)},
		{"rejects a size with a leading zero", body(testOrigin, "01", root)},
		{"rejects a size of 00", body(testOrigin, "00", root)},
		{"rejects a negative size", body(testOrigin, "-1", root)},
		{"rejects a size with a plus sign", body(testOrigin, "+1", root)},
		{"rejects a size with a space", body(testOrigin, " 1", root)},
		{"rejects a hex size", body(testOrigin, "0x1", root)},
		{"rejects a size above MaxSize", body(testOrigin, "4611686018427387904", root)},
		{"rejects a size beyond int64", body(testOrigin, "9223372036854775808", root)},
		{"rejects a 20-digit size", body(testOrigin, "10000000000000000000", root)},
		{"rejects an empty root", body(testOrigin, "1", "")},
		{"rejects a root without padding", body(testOrigin, "1", strings.TrimSuffix(root, "="))},
		{"rejects a root with non-zero padding bits", body(testOrigin, "1", "KBHo1xZWyzhqO6R/gz9u145PL7NGuZzT3Pf3GzytPCJ=")},
		{"rejects URL-safe base64", body(testOrigin, "1", "KBHo1xZWyzhqO6R_gz9u145PL7NGuZzT3Pf3GzytPCI=")},
		{"rejects a root of 31 bytes", body(testOrigin, "1", "KBHo1xZWyzhqO6R/gz9u145PL7NGuZzT3Pf3GzytPA==")},
		{"rejects a root of 33 bytes", body(testOrigin, "1", root+"AAAA")},
		{"rejects a root with a carriage return", body(testOrigin, "1", root[:20]+"\r"+root[21:])},
		{"rejects a hex root", body(testOrigin, "1", "28111e8d71656cb386a3ba47f833f6ed78e4fbb346b99cd3dcf7f71b3cad3c22")},
		{"rejects more than MaxCheckpointSize bytes", goldenBody + strings.Repeat("x\n", MaxCheckpointSize/2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCheckpointBody([]byte(tc.in))
			wantKind(t, err, errs.Invalid)
			if c != (Checkpoint{}) {
				t.Errorf("ParseCheckpointBody returned %+v with its error", c)
			}
		})
	}
}

func TestSignerGolden(t *testing.T) {
	s := testSigner(t)
	if got := s.VerifierKey(); got != goldenVerifierKey {
		t.Errorf("VerifierKey() = %q, want %q", got, goldenVerifierKey)
	}
	if s.Name() != testOrigin || s.KeyHash() != 0xf9e5254f {
		t.Errorf("Name, KeyHash = %q, %08x", s.Name(), s.KeyHash())
	}
	signed, err := s.SignCheckpoint(goldenCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	if string(signed) != goldenSigned {
		t.Errorf("SignCheckpoint =\n%s\nwant\n%s", signed, goldenSigned)
	}
	c, err := OpenCheckpoint(signed, s.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if c != goldenCheckpoint() {
		t.Errorf("OpenCheckpoint = %+v, want %+v", c, goldenCheckpoint())
	}

	// An independent verifier using only sumdb/note agrees.
	v, err := note.NewVerifier(goldenVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	if n.Text != goldenBody {
		t.Errorf("note text = %q", n.Text)
	}
}

func TestOpenCheckpointAcceptsCosignatures(t *testing.T) {
	s := testSigner(t)
	signed, err := s.SignCheckpoint(goldenCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	witness, err := NewSigner("witness.example", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x03}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(mustVerifier(t, s.VerifierKey())))
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := note.Sign(n, witness)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(cosigned, s.VerifierKey()); err != nil {
		t.Errorf("OpenCheckpoint of a cosigned checkpoint: %v", err)
	}
}

func mustVerifier(t testing.TB, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenCheckpointRejects(t *testing.T) {
	s := testSigner(t)
	signed, err := s.SignCheckpoint(goldenCheckpoint())
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewSigner(testOrigin, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x02}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	otherOrigin, err := NewSigner("other.example/log", testKey)
	if err != nil {
		t.Fatal(err)
	}
	// A body naming another origin, signed by the right key under the right name.
	foreign, err := note.Sign(&note.Note{Text: "other.example/log\n1\n" + goldenLeaf().Hash().String() + "\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	// A signed note whose body is not a checkpoint.
	notCheckpoint, err := note.Sign(&note.Note{Text: "hello\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		signed string
		vkey   string
	}{
		{"rejects a checkpoint under another key of the same name", string(signed), other.VerifierKey()},
		{"rejects a checkpoint under the same key with another name", string(signed), otherOrigin.VerifierKey()},
		{"rejects a tampered size", strings.Replace(string(signed), "\n1\n", "\n2\n", 1), s.VerifierKey()},
		{"rejects a tampered root", strings.Replace(string(signed), "KBHo", "KBHp", 1), s.VerifierKey()},
		{"rejects a tampered origin", strings.Replace(string(signed), "credit.example.gov.cn/pubcredit\n", "credit.example.gov.cn/pubcredix\n", 1), s.VerifierKey()},
		{"rejects a body whose origin is not the key's name", string(foreign), s.VerifierKey()},
		{"rejects a signed note that is not a checkpoint", string(notCheckpoint), s.VerifierKey()},
		{"rejects an unsigned body", goldenBody, s.VerifierKey()},
		{"rejects a truncated signature", string(signed[:len(signed)-10]) + "\n", s.VerifierKey()},
		{"rejects a malformed verifier key", string(signed), "credit.example.gov.cn/pubcredit+f9e5254f"},
		{"rejects an empty verifier key", string(signed), ""},
		{"rejects more than MaxCheckpointSize bytes", strings.Repeat("x", MaxCheckpointSize) + string(signed), s.VerifierKey()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := OpenCheckpoint([]byte(tc.signed), tc.vkey)
			wantKind(t, err, errs.Invalid)
			if c != (Checkpoint{}) {
				t.Errorf("OpenCheckpoint returned %+v with its error", c)
			}
		})
	}
}

func TestNewSignerRejects(t *testing.T) {
	mismatched := append(ed25519.PrivateKey{}, testKey...)
	mismatched[40] ^= 1
	for _, tc := range []struct {
		name   string
		origin string
		key    ed25519.PrivateKey
	}{
		{"rejects an empty origin", "", testKey},
		{"rejects an origin with a space", "credit example", testKey},
		{"rejects an origin with a plus", "credit+example", testKey},
		{"rejects an origin with a newline", "credit\nexample", testKey},
		{"rejects a nil key", testOrigin, nil},
		{"rejects a seed for a key", testOrigin, ed25519.PrivateKey(testKey.Seed())},
		{"rejects a key whose public half does not match", testOrigin, mismatched},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.origin, tc.key)
			wantKind(t, err, errs.Invalid)
			if s != nil {
				t.Error("NewSigner returned a signer with its error")
			}
		})
	}
}

func TestSignCheckpointRejects(t *testing.T) {
	s := testSigner(t)
	for _, tc := range []struct {
		name string
		c    Checkpoint
	}{
		{"rejects another origin", Checkpoint{Origin: "other.example/log", Size: 1}},
		{"rejects a negative size", Checkpoint{Origin: testOrigin, Size: -1}},
		{"rejects a size above MaxSize", Checkpoint{Origin: testOrigin, Size: MaxSize + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SignCheckpoint(tc.c)
			wantKind(t, err, errs.Invalid)
		})
	}
}
