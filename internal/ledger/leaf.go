package ledger

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

// LeafVersion is the first line of every encoded leaf.
const LeafVersion = "pubcredit-leaf/v1"

// SaltSize is the size in bytes of a commitment salt.
const SaltSize = 32

// MaxLeafSize is the largest encoded leaf ParseLeaf accepts. A valid leaf is
// at most about 320 bytes.
const MaxLeafSize = 512

const (
	maxKindLen = 64
	maxIDLen   = 128
)

// A Leaf is one event in the log. Leaves are commitments, never personal
// data: no identity number, name or record field appears in Kind or ID.
type Leaf struct {
	Kind       string    // event kind, e.g. "record.version", "access"; [a-z0-9._-]{1,64}
	ID         string    // event id, e.g. "01a22b...:3"; printable ASCII without spaces, 1-128 bytes
	At         time.Time // event time; encoded in UTC with nanoseconds (RFC 3339), year 0000-9999
	Commitment [32]byte  // SHA-256(salt || content), see Commit
}

// Commit returns SHA-256(salt || content). The salt must be SaltSize bytes;
// Commit panics otherwise, because a short salt is a programming error that
// would weaken every commitment made with it.
func Commit(salt, content []byte) [32]byte {
	if len(salt) != SaltSize {
		panic("ledger: Commit: salt must be 32 bytes")
	}
	h := sha256.New()
	h.Write(salt)
	h.Write(content)
	var c [32]byte
	h.Sum(c[:0])
	return c
}

// Seal commits to content for an event of kind, id and time: a new salt,
// and the leaf of its commitment (the time kept to the microsecond). Every
// ledgered row is sealed so; the store keeps the salt beside the content.
func Seal(kind, id string, at time.Time, content []byte) (salt, leaf []byte) {
	salt = NewSalt()
	return salt, Leaf{Kind: kind, ID: id, At: at.UTC().Truncate(time.Microsecond), Commitment: Commit(salt, content)}.Encode()
}

// NewSalt returns SaltSize random bytes from crypto/rand.
func NewSalt() []byte {
	salt := make([]byte, SaltSize)
	rand.Read(salt) // never returns an error; crashes the program if the system has no randomness
	return salt
}

// Encode returns the canonical leaf bytes:
//
//	"pubcredit-leaf/v1\n" + kind + "\n" + id + "\n" +
//	at.UTC().Format(time.RFC3339Nano) + "\n" + lowercase hex(commitment) + "\n"
//
// Encode does not validate l: the encoding of a leaf for which Validate
// reports an error is not accepted by ParseLeaf.
func (l Leaf) Encode() []byte {
	return l.AppendEncode(make([]byte, 0, len(LeafVersion)+len(l.Kind)+len(l.ID)+len(time.RFC3339Nano)+2*len(l.Commitment)+5))
}

// AppendEncode appends Encode() to b.
func (l Leaf) AppendEncode(b []byte) []byte {
	b = append(b, LeafVersion...)
	b = append(b, '\n')
	b = append(b, l.Kind...)
	b = append(b, '\n')
	b = append(b, l.ID...)
	b = append(b, '\n')
	b = l.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '\n')
	b = hex.AppendEncode(b, l.Commitment[:])
	b = append(b, '\n')
	return b
}

// Hash returns the leaf's Merkle leaf hash, tlog.RecordHash(l.Encode()).
func (l Leaf) Hash() tlog.Hash {
	return tlog.RecordHash(l.Encode())
}

// Validate reports whether l can be encoded so that ParseLeaf accepts it.
// It returns an errs.Invalid error listing every problem.
func (l Leaf) Validate() error {
	var p errs.Problems
	if !validKind(l.Kind) {
		p.Add("kind", "format", "must match [a-z0-9._-]{1,64}")
	}
	if !validID(l.ID) {
		p.Add("id", "format", "must be 1-128 printable ASCII characters without spaces")
	}
	if y := l.At.UTC().Year(); y < 0 || y > 9999 {
		p.Add("at", "range", "year %d is outside 0000-9999", y)
	}
	return p.Err("ledger: invalid leaf")
}

// ParseLeaf parses an encoded leaf. It is strict: the input must be at most
// MaxLeafSize bytes and consist of exactly five newline-terminated lines, the
// first LeafVersion, then a valid kind, a valid id, a UTC time in RFC 3339
// with a 'Z' suffix exactly as Encode writes it, and 64 lowercase hex digits.
// For every accepted input b, ParseLeaf(b).Encode() equals b.
// Errors are errs.Invalid.
func ParseLeaf(b []byte) (Leaf, error) {
	if len(b) > MaxLeafSize {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf is %d bytes, more than %d", len(b), MaxLeafSize)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf does not end with a newline")
	}
	lines := bytes.Split(b[:len(b)-1], []byte{'\n'})
	if len(lines) != 5 {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf has %d lines, want 5", len(lines))
	}
	if string(lines[0]) != LeafVersion {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf version line is %q, want %q", lines[0], LeafVersion)
	}
	var l Leaf
	l.Kind = string(lines[1])
	if !validKind(l.Kind) {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf kind %q does not match [a-z0-9._-]{1,64}", l.Kind)
	}
	l.ID = string(lines[2])
	if !validID(l.ID) {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf id %q is not 1-128 printable ASCII characters without spaces", l.ID)
	}
	at, err := time.Parse(time.RFC3339Nano, string(lines[3]))
	if err != nil || at.Location() != time.UTC || at.Format(time.RFC3339Nano) != string(lines[3]) {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf time %q is not a canonical RFC 3339 UTC time", lines[3])
	}
	l.At = at
	c := lines[4]
	if len(c) != 2*len(l.Commitment) || !lowerHex(c) {
		return Leaf{}, errs.E(errs.Invalid, "ledger: leaf commitment %q is not 64 lowercase hex digits", c)
	}
	hex.Decode(l.Commitment[:], c) // cannot fail: checked above
	return l, nil
}

// validKind reports whether s matches [a-z0-9._-]{1,64}.
func validKind(s string) bool {
	if len(s) < 1 || len(s) > maxKindLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validID reports whether s is 1-128 bytes of printable ASCII other than space.
func validID(s string) bool {
	if len(s) < 1 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
