package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/access"
	"pubcredit/internal/ledger"
	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

// verdict is what a row says of its leaf.
type verdict int

const (
	mismatch verdict = iota
	match            // the leaf recomputed from the row is the stored leaf
	erased           // the row's salt is erased; kind, id and time match
)

// A claim is a row that claims a leaf: a record version, an access event
// or a list entry version. Exactly one of v, e and l is set; it is the
// scan's row, valid until its cursor moves on.
type claim struct {
	table, kind, id string
	leaf            int64 // -1: none
	salt            []byte
	v               *record.Version
	e               *access.Event
	l               *ListVersion
}

func versionClaim(v *record.Version) claim {
	return claim{table: TableVersions, kind: record.LeafKind, id: record.EventID(v.RecordID, v.Version), leaf: v.LeafIndex, salt: v.Salt, v: v}
}

func eventClaim(e *access.Event) claim {
	return claim{table: TableAccess, kind: access.LeafKind, id: e.ID, leaf: e.LeafIndex, salt: e.Salt, e: e}
}

func listClaim(v *ListVersion) claim {
	return claim{table: TableListVersions, kind: listing.LeafKind, id: listing.EventID(v.EntryID, v.Version), leaf: v.LeafIndex, salt: v.Salt, l: v}
}

// at is the time of the row's event, as its leaf carries it. A list entry
// version keeps it only in its state, as the entry's updated_at.
func (c *claim) at() (time.Time, error) {
	switch {
	case c.v != nil:
		return c.v.At, nil
	case c.e != nil:
		return c.e.At, nil
	}
	var s struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	err := json.Unmarshal(c.l.State, &s)
	return s.UpdatedAt, err
}

// content is what the row's leaf commits to, with its salt.
func (c *claim) content() []byte {
	switch {
	case c.v != nil:
		return c.v.Committed()
	case c.e != nil:
		return c.e.Committed()
	}
	return c.l.State
}

// check recomputes the row's leaf and compares it with data; why explains
// a mismatch the comparison alone does not.
func (c *claim) check(data []byte) (verdict, string) {
	at, err := c.at()
	if err != nil {
		return mismatch, " (its state does not parse)"
	}
	encode := func(commitment [32]byte) []byte {
		return ledger.Leaf{Kind: c.kind, ID: c.id, At: at.UTC().Truncate(time.Microsecond), Commitment: commitment}.Encode()
	}
	if c.salt == nil {
		l, err := ledger.ParseLeaf(data)
		if err != nil || !bytes.Equal(encode(l.Commitment), data) {
			return mismatch, " (its salt is erased, and its id or time differ from the leaf's)"
		}
		return erased, ""
	}
	if len(c.salt) != ledger.SaltSize {
		return mismatch, fmt.Sprintf(" (its salt is %d bytes, not %d)", len(c.salt), ledger.SaltSize)
	}
	if bytes.Equal(encode(ledger.Commit(c.salt, c.content())), data) {
		return match, ""
	}
	return mismatch, ""
}

// tableOf is the table whose rows leaves of kind commit to.
func tableOf(kind string) string {
	switch kind {
	case record.LeafKind:
		return TableVersions
	case access.LeafKind:
		return TableAccess
	case listing.LeafKind:
		return TableListVersions
	}
	return TableLeaves
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
