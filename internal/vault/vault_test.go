package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateMakesAPrivateKeyringAndReadsItBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "keys.json")
	k, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keyring mode %v, err %v; want 0600", st.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second start: created=%v err=%v", created, err)
	}
	sealed := k.Encrypt([]byte("张三"), []byte("subject:1"))
	if got, err := again.Decrypt(sealed, []byte("subject:1")); err != nil || string(got) != "张三" {
		t.Fatalf("a value sealed before a restart opens after it: %q, %v", got, err)
	}
	if !bytes.Equal(k.SubjectKey("resident_id", "11010519491231002X"), again.SubjectKey("resident_id", "11010519491231002X")) {
		t.Error("subject keys differ across a restart")
	}
}

func TestLoadRefusesAKeyringOthersCanRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, _, err := LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want a refusal naming chmod 600", err)
	}
}

func TestLoadRejectsMalformedKeyrings(t *testing.T) {
	for name, body := range map[string]string{
		"rejects unknown keys":                `{"version":1,"field_keys":[],"lookup_key":"","signing_seed":"","extra":1}`,
		"rejects an unknown version":          `{"version":2}`,
		"rejects a keyring with no field key": `{"version":1,"field_keys":[],"lookup_key":"AAAA","signing_seed":"AAAA"}`,
		"rejects a short field key":           `{"version":1,"field_keys":[{"id":"k1","key":"AAAA"}],"lookup_key":"AAAA","signing_seed":"AAAA"}`,
		"rejects text that is not JSON":       `keys`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(path); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestDecryptRefusesMovedOrAlteredCiphertexts(t *testing.T) {
	k, err := Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealed := k.Encrypt([]byte("payload"), []byte("record:a:1"))
	altered := bytes.Clone(sealed)
	altered[len(altered)-1] ^= 1
	for name, tc := range map[string]struct{ ct, aad []byte }{
		"another row's associated data": {sealed, []byte("record:b:1")},
		"a flipped bit":                 {altered, []byte("record:a:1")},
		"an unknown key id":             {append([]byte{2, 'z', 'z'}, sealed[3:]...), []byte("record:a:1")},
		"too short":                     {sealed[:5], []byte("record:a:1")},
		"empty":                         {nil, []byte("record:a:1")},
	} {
		if _, err := k.Decrypt(tc.ct, tc.aad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v, want ErrDecrypt", name, err)
		}
	}
	if bytes.Equal(k.Encrypt([]byte("payload"), nil), k.Encrypt([]byte("payload"), nil)) {
		t.Error("two sealings of one value are equal: nonces repeat")
	}
}

// TestKeyedHashesAreStable pins the subject key and the keyed hash of a
// keyring whose lookup key is bytes 32..63: stored subject keys and content
// hashes depend on them never changing.
func TestKeyedHashesAreStable(t *testing.T) {
	seq := make([]byte, 96)
	for i := range seq {
		seq[i] = byte(i)
	}
	k, err := Generate(bytes.NewReader(seq))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second time with pooled hashes
		if got, want := hex.EncodeToString(k.SubjectKey("resident_id", "11010519491231002X")), "cdcc8b5f496644b52088f1072117478a544271464ce99c1f75584d82e555415a"; got != want {
			t.Errorf("SubjectKey = %s, want %s", got, want)
		}
		if got, want := hex.EncodeToString(k.Hash("record-content", []byte(`{"a":1}`))), "0188bcfa22c2f620bfc3fd514b362803e4f4082c9c4351d4bb0b727caff6ffe5"; got != want {
			t.Errorf("Hash = %s, want %s", got, want)
		}
	}
}
