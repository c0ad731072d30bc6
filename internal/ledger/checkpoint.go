package ledger

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

// MaxSize is the largest tree size this package handles. tlog's index math
// (maxpow2) does not terminate for trees of more than 2^62 leaves, so every
// size that reaches tlog, including sizes read from untrusted proofs,
// checkpoints and receipts, is checked against MaxSize first.
const MaxSize int64 = 1<<62 - 1

// MaxCheckpointSize bounds a signed checkpoint accepted by OpenCheckpoint and
// a checkpoint body accepted by ParseCheckpointBody. It leaves room for
// witness cosignatures and extension lines.
const MaxCheckpointSize = 16 << 10

// A Checkpoint is a commitment to the log: its origin, its size and the root
// hash of the tree of that size. It is encoded as a C2SP tlog-checkpoint body
// and signed as a note.
type Checkpoint struct {
	Origin string    // the log's name; a valid note name (no spaces, no '+')
	Size   int64     // number of leaves
	Root   tlog.Hash // tlog.TreeHash of the first Size leaves
}

// Body returns the checkpoint body "origin\nsize\nbase64(root)\n".
func (c Checkpoint) Body() []byte {
	b := make([]byte, 0, len(c.Origin)+20+44+3)
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, c.Size, 10)
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, c.Root[:])
	b = append(b, '\n')
	return b
}

// ParseCheckpointBody parses a C2SP tlog-checkpoint body. It is strict: the
// body is at most MaxCheckpointSize bytes and ends with a newline; the origin
// line is a valid note name without control characters; the size line is a
// decimal number in [0, MaxSize] without leading zeros (except "0"); the root
// line is the standard padded base64 encoding of exactly 32 bytes. Extension
// lines after the third are allowed by the specification: they must be
// non-empty and are ignored. Errors are errs.Invalid.
func ParseCheckpointBody(b []byte) (Checkpoint, error) {
	if len(b) > MaxCheckpointSize {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint is %d bytes, more than %d", len(b), MaxCheckpointSize)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint does not end with a newline")
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint has %d lines, want at least 3", len(lines))
	}
	var c Checkpoint
	c.Origin = lines[0]
	if !validOrigin(c.Origin) {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint origin %q is not a valid note name", short(c.Origin))
	}
	size, ok := parseSize(lines[1])
	if !ok {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint size %q is not a decimal number in [0, %d] without leading zeros", short(lines[1]), MaxSize)
	}
	c.Size = size
	root, ok := parseHash(lines[2])
	if !ok {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint root %q is not the base64 encoding of 32 bytes", short(lines[2]))
	}
	c.Root = root
	for i, ext := range lines[3:] {
		if ext == "" {
			return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint extension line %d is empty", i+4)
		}
	}
	return c, nil
}

// A Signer signs checkpoints with an Ed25519 key under the note name origin.
// It implements note.Signer.
type Signer struct {
	origin string
	key    ed25519.PrivateKey
	hash   uint32
	vkey   string
}

var _ note.Signer = (*Signer)(nil)

// NewSigner returns a Signer for the log origin. The origin must be a valid
// note name (non-empty UTF-8 without spaces, '+' or control characters) and
// key a complete Ed25519 private key. Errors are errs.Invalid.
func NewSigner(origin string, key ed25519.PrivateKey) (*Signer, error) {
	if !validOrigin(origin) {
		return nil, errs.E(errs.Invalid, "ledger: origin %q is not a valid note name", origin)
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errs.E(errs.Invalid, "ledger: ed25519 private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	pub := ed25519.NewKeyFromSeed(key.Seed()).Public().(ed25519.PublicKey)
	if !pub.Equal(key.Public()) {
		return nil, errs.E(errs.Invalid, "ledger: ed25519 private key does not match its public half")
	}
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "ledger: cannot make verifier key")
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "ledger: cannot make verifier key")
	}
	return &Signer{origin: origin, key: key, hash: v.KeyHash(), vkey: vkey}, nil
}

// Name returns the note name, the log origin.
func (s *Signer) Name() string { return s.origin }

// KeyHash returns the note key hash.
func (s *Signer) KeyHash() uint32 { return s.hash }

// Sign returns the Ed25519 signature of msg.
func (s *Signer) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// VerifierKey returns the note verifier key "origin+hash+base64", as
// note.NewEd25519VerifierKey makes it. It is what verifiers configure.
func (s *Signer) VerifierKey() string { return s.vkey }

// SignCheckpoint returns the signed note text of c. The origin of c must be
// the signer's name and its size in [0, MaxSize]; errors are errs.Invalid.
func (s *Signer) SignCheckpoint(c Checkpoint) ([]byte, error) {
	if c.Origin != s.origin {
		return nil, errs.E(errs.Invalid, "ledger: checkpoint origin %q is not the signer's %q", c.Origin, s.origin)
	}
	if c.Size < 0 || c.Size > MaxSize {
		return nil, errs.E(errs.Invalid, "ledger: checkpoint size %d is outside [0, %d]", c.Size, MaxSize)
	}
	signed, err := note.Sign(&note.Note{Text: string(c.Body())}, s)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "ledger: cannot sign checkpoint")
	}
	return signed, nil
}

// OpenCheckpoint verifies a signed checkpoint against the note verifier key
// vkey ("name+hash+base64") and returns the checkpoint. It fails unless the
// note carries a valid signature by vkey, its body parses with
// ParseCheckpointBody and the checkpoint's origin is the key's name.
// Signatures by other keys (witness cosignatures) are allowed and ignored.
// Errors are errs.Invalid.
func OpenCheckpoint(signed []byte, vkey string) (Checkpoint, error) {
	if len(signed) > MaxCheckpointSize {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: signed checkpoint is %d bytes, more than %d", len(signed), MaxCheckpointSize)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Checkpoint{}, errs.Wrap(errs.Invalid, err, "ledger: malformed verifier key")
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return Checkpoint{}, errs.Wrap(errs.Invalid, err, "ledger: checkpoint is not signed by key %s+%08x: %s", v.Name(), v.KeyHash(), signers(unverified.Note))
		case errors.As(err, &invalid):
			return Checkpoint{}, errs.Wrap(errs.Invalid, err, "ledger: checkpoint signature by key %s+%08x does not verify: the checkpoint or its signature was changed", v.Name(), v.KeyHash())
		default:
			return Checkpoint{}, errs.Wrap(errs.Invalid, err, "ledger: malformed signed checkpoint: not a signed note (UTF-8 text without control characters, a blank line, then signature lines \"— name base64\")")
		}
	}
	c, err := ParseCheckpointBody([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, errs.E(errs.Invalid, "ledger: checkpoint origin %q is not the key's name %q", c.Origin, v.Name())
	}
	return c, nil
}

// signers says whose signatures an unverified note carries, for an error
// message: the names and key hashes, at most three of them.
func signers(n *note.Note) string {
	if n == nil || len(n.UnverifiedSigs) == 0 {
		return "it carries no signature"
	}
	var names []string
	for i, sig := range n.UnverifiedSigs {
		if i == 3 {
			names = append(names, fmt.Sprintf("%d more", len(n.UnverifiedSigs)-i))
			break
		}
		names = append(names, fmt.Sprintf("%s+%08x", short(PrintableName(sig.Name)), sig.Hash))
	}
	return "it is signed by " + strings.Join(names, ", ") + " only (another key)"
}

// PrintableName is a signer's name fit for a terminal: as it is, or quoted
// when it holds a character that does not print (note.Open takes valid
// UTF-8 without spaces, control characters included).
func PrintableName(name string) string {
	if strings.IndexFunc(name, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0 {
		return strconv.QuoteToGraphic(name)
	}
	return name
}

// validOrigin reports whether s is a valid note name without control
// characters: non-empty UTF-8 with no Unicode space and no '+'.
func validOrigin(s string) bool {
	if s == "" || !utf8.ValidString(s) || strings.Contains(s, "+") {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// parseSize parses a tree size: decimal digits without leading zeros (except
// "0"), in [0, MaxSize].
func parseSize(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxSize {
		return 0, false
	}
	return n, true
}

// parseHash parses the canonical standard base64 encoding of a hash: 44
// characters, padded, with zero padding bits.
func parseHash(s string) (tlog.Hash, bool) {
	var h tlog.Hash
	if len(s) != base64.StdEncoding.EncodedLen(tlog.HashSize) {
		return h, false
	}
	var buf [tlog.HashSize + 2]byte // Decode may write up to DecodedLen bytes
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != tlog.HashSize {
		return h, false
	}
	copy(h[:], buf[:n])
	if hashString(h) != s { // base64 ignores '\r' and '\n'; accept only the canonical form
		return tlog.Hash{}, false
	}
	return h, true
}

// hashString returns the standard base64 encoding of h.
func hashString(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// short returns s cut to at most 64 bytes, for error messages.
func short(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "..."
}
