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
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

// verdict is what a row says of its leaf.
type verdict int

const (
	mismatch verdict = iota
	match            // the leaf recomputed from the row is the stored leaf
	erased           // the row's salt and content are erased; kind, id and time match
)

// A claim is a row that claims a leaf: a record version, an access event
// or a list entry version. It is made from the row as it is scanned, with
// the row's commitment already computed, so that scans can run in
// goroutines of their own and the claim outlives the scan's buffers.
type claim struct {
	table, kind, id string
	leaf            int64 // -1: none
	at              time.Time
	atErr           bool     // the row's time cannot be read: its state does not parse
	saltLen         int      // -1: erased (NULL)
	emptied         bool     // the row's content is erased: only its id and time are left
	commitment      [32]byte // of the row's salt and content, when its salt is whole
}

// A claimer makes the claims of one scan's rows. Its buffer holds the
// content a row commits to while it is hashed, row after row.
type claimer struct{ buf []byte }

// claim makes the claim of a row; at and content give the row's event
// time and append the content its leaf commits to; emptied says whether
// the content is erased. The time is taken as it is stored: leaves carry
// microseconds, and so does every time the platform stores, so a stored
// time changed below the microsecond no longer matches its leaf.
func (m *claimer) claim(table, kind, id string, leaf int64, salt []byte, at time.Time, atErr error, emptied bool, content func([]byte) []byte) claim {
	c := claim{table: table, kind: kind, id: id, leaf: leaf, at: at.UTC(), atErr: atErr != nil, saltLen: len(salt), emptied: emptied}
	if salt == nil {
		c.saltLen = -1
	}
	if !c.atErr && len(salt) == ledger.SaltSize {
		m.buf = content(m.buf[:0])
		c.commitment = ledger.Commit(salt, m.buf)
	}
	return c
}

func (m *claimer) version(v *record.Version) claim {
	emptied := len(v.Payload) == 0 && len(v.Note) == 0 && len(v.State) == 0
	return m.claim(TableVersions, record.LeafKind, record.EventID(v.RecordID, v.Version), v.LeafIndex, v.Salt, v.At, nil, emptied, v.AppendCommitted)
}

// event: an erased access event keeps who read (a department or an
// auditor), what kind of read and when; not whom, why or what.
func (m *claimer) event(e *access.Event) claim {
	emptied := len(e.SubjectKey) == 0 && e.Purpose == "" && e.Authority == "" && len(e.Records) == 0 && len(e.Items) == 0
	return m.claim(TableAccess, access.LeafKind, e.ID, e.LeafIndex, e.Salt, e.At, nil, emptied, e.AppendCommitted)
}

// list: a list entry version keeps its time only in its state, as the
// entry's updated_at; once the state is erased, only the leaf has it.
func (m *claimer) list(v *ListVersion) claim {
	var s struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	emptied := len(v.State) == 0
	var err error
	if !emptied {
		err = json.Unmarshal(v.State, &s)
	}
	return m.claim(TableListVersions, listing.LeafKind, listing.EventID(v.EntryID, v.Version), v.LeafIndex, v.Salt, s.UpdatedAt, err, emptied,
		func(b []byte) []byte { return append(b, v.State...) })
}

// feedback: feedback holds no personal data and is never erased.
func (m *claimer) feedback(f *measure.Feedback) claim {
	return m.claim(TableFeedback, measure.FeedbackLeafKind, f.EventID(), f.LeafIndex, f.Salt, f.At, nil, false,
		func(b []byte) []byte { return append(b, f.Committed()...) })
}

// check: an erased check keeps who checked, for which matter, when and
// what it returned; not whom or why.
func (m *claimer) check(c *measure.Check) claim {
	emptied := len(c.SubjectKey) == 0 && c.Purpose == ""
	return m.claim(TableChecks, measure.CheckLeafKind, c.ID, c.LeafIndex, c.Salt, c.At, nil, emptied,
		func(b []byte) []byte { return append(b, c.Committed()...) })
}

// subject: a person's subjects row commits to their sealed number and
// name; an erased row keeps its id and time.
func (m *claimer) subject(sj *record.SealedSubject) claim {
	emptied := len(sj.Number) == 0 && len(sj.Name) == 0
	id := sj.ID
	if id == "" { // stored by no build that ledgers subjects: named by its time, never its key
		id = "(no id, stored " + sj.At.UTC().Format(time.RFC3339Nano) + ")"
	}
	return m.claim(TableSubjects, record.SubjectLeafKind, id, sj.LeafIndex, sj.Salt, sj.At, nil, emptied, sj.AppendCommitted)
}

// check compares the leaf recomputed from the row with data, encoding it
// in *buf; why explains a mismatch the comparison alone does not. A row
// may be erased (salt and content) only once its leaf is older than
// MinRetention at now.
func (c *claim) check(data []byte, now time.Time, buf *[]byte) (verdict, string) {
	switch {
	case c.atErr:
		return mismatch, " (its state does not parse)"
	case c.saltLen < 0:
		return c.checkErased(data, now)
	case c.saltLen != ledger.SaltSize:
		return mismatch, fmt.Sprintf(" (its salt is %d bytes, not %d)", c.saltLen, ledger.SaltSize)
	}
	*buf = ledger.Leaf{Kind: c.kind, ID: c.id, At: c.at, Commitment: c.commitment}.AppendEncode((*buf)[:0])
	if bytes.Equal(*buf, data) {
		return match, ""
	}
	return mismatch, ""
}

// MinRetention is the shortest time a row is kept before its salt and
// content may be erased: no record is displayed longer (DOMAIN.md section
// 4), and dishonesty information may be queried until 5 years after the
// conduct ended.
const MinRetention = 5 * 365 * 24 * time.Hour

// checkErased checks a row whose salt is NULL: an erasure, if its content
// is gone too, its kind, id and time are the leaf's, and the leaf is older
// than MinRetention; otherwise the row was changed.
func (c *claim) checkErased(data []byte, now time.Time) (verdict, string) {
	l, err := ledger.ParseLeaf(data)
	switch {
	case err != nil:
		return mismatch, " (its salt is NULL and the leaf does not parse)"
	case !c.emptied:
		return mismatch, " (its salt is NULL but its content is still there: an erasure removes both)"
	case l.Kind != c.kind || l.ID != c.id || (!c.at.IsZero() && !l.At.Equal(c.at)):
		return mismatch, " (its salt is erased, and its id or time differ from the leaf's)"
	case now.Sub(l.At) < MinRetention:
		return mismatch, fmt.Sprintf(" (its salt and content are erased, but its leaf is from %s: no retention ends before %s)",
			l.At.Format(time.DateOnly), l.At.Add(MinRetention).Format(time.DateOnly))
	}
	return erased, ""
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
	case measure.FeedbackLeafKind:
		return TableFeedback
	case measure.CheckLeafKind:
		return TableChecks
	case record.SubjectLeafKind:
		return TableSubjects
	}
	return TableLeaves
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
