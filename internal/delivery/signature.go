package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"pubcredit/internal/errs"
)

// Header names of a delivery request.
const (
	HeaderSignature = "Pubcredit-Signature"
	HeaderEvent     = "Pubcredit-Event"
	HeaderDelivery  = "Pubcredit-Delivery"
)

// SecretPrefix starts every subscription secret, so that a leaked one is
// easy to recognise.
const SecretPrefix = "pcwh_"

// NewSecret returns a fresh random signing secret: the prefix and 32 random
// bytes in base64url. The HMAC key is the secret's bytes as shown.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Sign returns the Pubcredit-Signature header value for body sent at t:
// "t=" + unix seconds + ",v1=" + lower-case hex of
// HMAC-SHA256(secret, unix seconds + "." + body).
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Pubcredit-Signature header value against the body as
// received: one of its v1 signatures must be the HMAC of its t and the
// body, and t must be within tolerance of now (a receiver's guard against
// replays; 5 minutes is usual). It is the reference for receivers.
// Returns Unauthenticated saying what is wrong.
func Verify(header string, secret, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return errs.E(errs.Unauthenticated, "the signature header is malformed")
		case k == "t":
			ts = v
		case k == "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return errs.E(errs.Unauthenticated, "the v1 signature is not 64 hex characters")
			}
			sigs = append(sigs, sig)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errs.E(errs.Unauthenticated, "the signature header has no valid t")
	}
	if len(sigs) == 0 {
		return errs.E(errs.Unauthenticated, "the signature header has no v1 signature")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errs.E(errs.Unauthenticated, "the signature time is %s away from now, beyond the tolerance of %s", d.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, sig := range sigs {
		if hmac.Equal(sig, want) {
			return nil
		}
	}
	return errs.E(errs.Unauthenticated, "no v1 signature matches the body")
}

// secretAAD binds a subscription's sealed secret to its id.
func secretAAD(id string) []byte { return []byte("subscription:" + id) }
