// Package vault holds the platform's keys and the cryptography that uses them:
// field encryption with AES-256-GCM under a key id (so keys can be rotated),
// keyed hashes (HMAC-SHA256) for looking subjects up without storing their
// identity numbers, and the ed25519 key that signs ledger checkpoints.
//
// The keyring is a JSON file with mode 0600. It is created with fresh random
// keys on first start when absent. Losing it makes every encrypted field
// unreadable: operators back it up apart from the database.
package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FileVersion is the keyring file format version.
const FileVersion = 1

type fileKey struct {
	ID  string `json:"id"`
	Key string `json:"key"` // base64, 32 bytes
}

type file struct {
	Version     int       `json:"version"`
	FieldKeys   []fileKey `json:"field_keys"`   // the last one encrypts; all decrypt
	LookupKey   string    `json:"lookup_key"`   // base64, 32 bytes
	SigningSeed string    `json:"signing_seed"` // base64 ed25519 seed, 32 bytes
	SigningName string    `json:"signing_name"` // note signer name (the ledger origin)
}

// Keyring holds the keys. It is safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	lookup  []byte
	signing ed25519.PrivateKey
	src     file // as loaded or generated, for writing the file
	macs    sync.Pool
}

// Generate makes a keyring with fresh keys from rand.
func Generate(r io.Reader) (*Keyring, error) {
	f := file{Version: FileVersion}
	k, err := randomB64(r)
	if err != nil {
		return nil, err
	}
	f.FieldKeys = []fileKey{{ID: "k1", Key: k}}
	if f.LookupKey, err = randomB64(r); err != nil {
		return nil, err
	}
	if f.SigningSeed, err = randomB64(r); err != nil {
		return nil, err
	}
	return fromFile(f)
}

func randomB64(r io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("vault: reading randomness: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// LoadOrCreate reads the keyring at path, creating it with fresh keys and
// mode 0600 when it does not exist. created reports whether it was made.
func LoadOrCreate(path string) (k *Keyring, created bool, err error) {
	k, err = Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	k, err = Generate(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("vault: %w", err)
	}
	b, err := json.MarshalIndent(k.toFile(), "", "  ")
	if err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process made it first
			k, err = Load(path)
			return k, false, err
		}
		return nil, false, fmt.Errorf("vault: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("vault: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("vault: writing %s: %w", path, err)
	}
	return k, true, f.Close()
}

// Load reads the keyring at path. It refuses a file readable by others.
func Load(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("vault: %s is readable by group or others (mode %v); chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f file
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("vault: %s: %w", path, err)
	}
	k, err := fromFile(f)
	if err != nil {
		return nil, fmt.Errorf("vault: %s: %w", path, err)
	}
	return k, nil
}

func fromFile(f file) (*Keyring, error) {
	if f.Version != FileVersion {
		return nil, fmt.Errorf("unsupported keyring version %d", f.Version)
	}
	if len(f.FieldKeys) == 0 {
		return nil, errors.New("no field keys")
	}
	k := &Keyring{aeads: make(map[string]cipher.AEAD), src: f}
	for _, fk := range f.FieldKeys {
		key, err := decode32(fk.Key)
		if err != nil {
			return nil, fmt.Errorf("field key %q: %w", fk.ID, err)
		}
		if fk.ID == "" || len(fk.ID) > 16 {
			return nil, fmt.Errorf("field key id %q must be 1-16 characters", fk.ID)
		}
		if _, dup := k.aeads[fk.ID]; dup {
			return nil, fmt.Errorf("duplicate field key id %q", fk.ID)
		}
		block, _ := aes.NewCipher(key)
		aead, _ := cipher.NewGCM(block)
		k.aeads[fk.ID] = aead
		k.current = fk.ID
	}
	var err error
	if k.lookup, err = decode32(f.LookupKey); err != nil {
		return nil, fmt.Errorf("lookup key: %w", err)
	}
	seed, err := decode32(f.SigningSeed)
	if err != nil {
		return nil, fmt.Errorf("signing seed: %w", err)
	}
	k.signing = ed25519.NewKeyFromSeed(seed)
	return k, nil
}

func decode32(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%d bytes, want 32", len(b))
	}
	return b, nil
}

func (k *Keyring) toFile() file { return k.src }

// mac is a pooled HMAC-SHA256 under the lookup key, with a buffer for
// its input (writing a string to a hash.Hash would copy it to the heap).
type mac struct {
	h   hash.Hash
	buf []byte
}

// mac returns a reset mac; Put it back after use.
func (k *Keyring) mac() *mac {
	if m, ok := k.macs.Get().(*mac); ok {
		m.h.Reset()
		return m
	}
	return &mac{h: hmac.New(sha256.New, k.lookup)}
}

// SubjectKey is the lookup key of a person: HMAC-SHA256 of the normalised
// identity document, type-qualified so that numbers of different document
// types never collide.
func (k *Keyring) SubjectKey(docType, normalisedNumber string) []byte {
	m := k.mac()
	defer k.macs.Put(m)
	m.buf = append(append(append(append(m.buf[:0], "subject\x00"...), docType...), 0), normalisedNumber...)
	m.h.Write(m.buf)
	return m.h.Sum(nil)
}

// Hash is a keyed hash for other lookups that must not reveal their input
// (tokens use plain SHA-256 since they are random; this is for low-entropy
// values). purpose separates the uses.
func (k *Keyring) Hash(purpose string, value []byte) []byte {
	m := k.mac()
	defer k.macs.Put(m)
	m.buf = append(append(m.buf[:0], purpose...), 0)
	m.h.Write(m.buf)
	m.h.Write(value)
	return m.h.Sum(nil)
}

// Encrypt seals plaintext under the current field key. aad binds the
// ciphertext to its place (a table and row id), so a value copied to another
// row does not decrypt. The output is: key id length, key id, nonce, sealed.
func (k *Keyring) Encrypt(plaintext, aad []byte) []byte {
	aead := k.aeads[k.current]
	ns := aead.NonceSize()
	out := make([]byte, 0, 1+len(k.current)+ns+len(plaintext)+aead.Overhead())
	out = append(out, byte(len(k.current)))
	out = append(out, k.current...)
	nonce := out[len(out) : len(out)+ns]
	if _, err := rand.Read(nonce); err != nil {
		panic("vault: crypto/rand failed: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	out = out[:len(out)+ns]
	return aead.Seal(out, nonce, plaintext, aad)
}

// ErrDecrypt means a ciphertext is malformed, was made under an unknown key,
// or was altered or moved.
var ErrDecrypt = errors.New("vault: cannot decrypt")

// Decrypt opens a ciphertext made by Encrypt with the same aad.
func (k *Keyring) Decrypt(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < 1 {
		return nil, ErrDecrypt
	}
	n := int(ciphertext[0])
	if len(ciphertext) < 1+n {
		return nil, ErrDecrypt
	}
	aead, ok := k.aeads[string(ciphertext[1:1+n])]
	if !ok {
		return nil, ErrDecrypt
	}
	rest := ciphertext[1+n:]
	ns := aead.NonceSize()
	if len(rest) < ns+aead.Overhead() {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, rest[:ns], rest[ns:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Signer returns the ed25519 private key that signs ledger checkpoints.
func (k *Keyring) Signer() ed25519.PrivateKey { return k.signing }
