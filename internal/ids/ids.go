// Package ids makes identifiers that cannot be guessed and sort by creation
// time: 48 bits of milliseconds since the Unix epoch followed by 80 random
// bits, as 32 lower-case hex characters (the layout of UUIDv7, without its
// version bits). Time order keeps database index inserts local.
package ids

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// New returns a fresh identifier for time t.
func New(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}

// Valid reports whether s has the form of an identifier.
func Valid(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
