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
// or a list entry version. It is made from the row as it is scanned, with
// the row's commitment already computed, so that scans can run in
// goroutines of their own and the claim outlives the scan's buffers.
type claim struct {
	table, kind, id string
	leaf            int64 // -1: none
	at              time.Time
	atErr           bool   // the row's time cannot be read: its state does not parse
	saltLen         int    // -1: erased (NULL)
	want            []byte // the leaf recomputed from the row, when its salt is whole
}

// newClaim makes the claim of a row; at and content read the row's event
// time and the content its leaf commits to.
func newClaim(table, kind, id string, leaf int64, salt []byte, at time.Time, atErr error, content func() []byte) claim {
	c := claim{table: table, kind: kind, id: id, leaf: leaf, at: at.UTC().Truncate(time.Microsecond), atErr: atErr != nil, saltLen: len(salt)}
	if salt == nil {
		c.saltLen = -1
	}
	if !c.atErr && len(salt) == ledger.SaltSize {
		c.want = c.encode(ledger.Commit(salt, content()))
	}
	return c
}

func versionClaim(v *record.Version) claim {
	return newClaim(TableVersions, record.LeafKind, record.EventID(v.RecordID, v.Version), v.LeafIndex, v.Salt, v.At, nil, v.Committed)
}

func eventClaim(e *access.Event) claim {
	return newClaim(TableAccess, access.LeafKind, e.ID, e.LeafIndex, e.Salt, e.At, nil, e.Committed)
}

// listClaim: a list entry version keeps its time only in its state, as the
// entry's updated_at.
func listClaim(v *ListVersion) claim {
	var s struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	err := json.Unmarshal(v.State, &s)
	return newClaim(TableListVersions, listing.LeafKind, listing.EventID(v.EntryID, v.Version), v.LeafIndex, v.Salt, s.UpdatedAt, err,
		func() []byte { return v.State })
}

func (c *claim) encode(commitment [32]byte) []byte {
	return ledger.Leaf{Kind: c.kind, ID: c.id, At: c.at, Commitment: commitment}.Encode()
}

// check compares the leaf recomputed from the row with data; why explains
// a mismatch the comparison alone does not.
func (c *claim) check(data []byte) (verdict, string) {
	switch {
	case c.atErr:
		return mismatch, " (its state does not parse)"
	case c.saltLen < 0:
		l, err := ledger.ParseLeaf(data)
		if err != nil || !bytes.Equal(c.encode(l.Commitment), data) {
			return mismatch, " (its salt is erased, and its id or time differ from the leaf's)"
		}
		return erased, ""
	case c.saltLen != ledger.SaltSize:
		return mismatch, fmt.Sprintf(" (its salt is %d bytes, not %d)", c.saltLen, ledger.SaltSize)
	case bytes.Equal(c.want, data):
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
