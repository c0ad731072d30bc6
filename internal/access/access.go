// Package access is the access log: every read of a person's data, who read
// it, when, what was returned, for which stated purpose and under which
// authority (DOMAIN.md section 9). An event is written before the answer
// leaves; if it cannot be written, the answer does not leave.
package access

import (
	"context"
	"encoding/hex"
	"time"

	"pubcredit/internal/auth"
	"pubcredit/internal/canon"
	"pubcredit/internal/clock"
	"pubcredit/internal/ids"
	"pubcredit/internal/ledger"
)

// Action names what was read.
type Action string

const (
	FileRead   Action = "file.read"   // a department looked up a person's integrity file
	RecordRead Action = "record.read" // a department read one of its records
	AuditRead  Action = "audit.read"  // an auditor read a person's access log
	Check      Action = "check"       // a department checked a person at its counter
)

// Event is one access to a person's data.
type Event struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	Principal  auth.Kind `json:"principal_kind"`
	Actor      string    `json:"principal"` // department code or auditor name
	SubjectKey []byte    `json:"-"`
	Action     Action    `json:"action"`
	Purpose    string    `json:"purpose"`
	Authority  string    `json:"authority,omitempty"` // the right used: "read rights on XZCF", later an authorization id
	Records    []string  `json:"records"`             // ids of the records returned
	Items      []string  `json:"items"`               // catalog items returned
	// The ledger commitment, made in the same transaction as the event.
	Salt      []byte `json:"-"`
	Leaf      []byte `json:"-"`
	LeafIndex int64  `json:"leaf_index"` // position in the ledger, for a receipt; -1 when not ledgered
}

// LeafKind is the ledger event kind of access events.
const LeafKind = "access"

// Committed is the canonical content an event's ledger leaf commits to:
// the JSON of its fields in the order below, its subject key in hex, its
// time in UTC to the microsecond, and empty lists as [].
func (e Event) Committed() []byte { return e.AppendCommitted(nil) }

// AppendCommitted appends Committed() to b.
func (e Event) AppendCommitted(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = canon.AppendString(b, e.ID)
	b = append(b, `,"at":"`...)
	b = e.At.UTC().Truncate(time.Microsecond).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","principal_kind":`...)
	b = canon.AppendString(b, string(e.Principal))
	b = append(b, `,"principal":`...)
	b = canon.AppendString(b, e.Actor)
	b = append(b, `,"subject_key":"`...)
	b = hex.AppendEncode(b, e.SubjectKey)
	b = append(b, `","action":`...)
	b = canon.AppendString(b, string(e.Action))
	b = append(b, `,"purpose":`...)
	b = canon.AppendString(b, e.Purpose)
	b = append(b, `,"authority":`...)
	b = canon.AppendString(b, e.Authority)
	b = append(b, `,"records":`...)
	b = canon.AppendStrings(b, e.Records)
	b = append(b, `,"items":`...)
	b = canon.AppendStrings(b, e.Items)
	return append(b, '}')
}

// Store keeps access events.
type Store interface {
	// AppendAccess stores an event durably, with its ledger leaf (when
	// e.Leaf is set) appended in the same transaction.
	AppendAccess(ctx context.Context, e Event) error
	// AccessBySubject returns a person's access events, newest first, at
	// most limit; with before (the id of an event of theirs), only those
	// older than it, none when it is no event of theirs.
	AccessBySubject(ctx context.Context, subjectKey []byte, before string, limit int) ([]Event, error)
}

// Log writes access events with ids, times and ledger commitments.
type Log struct {
	Store Store
	Clock clock.Clock
	// NoLedger switches ledger commitments off (benchmarks only).
	NoLedger bool
}

// Record stamps e with an id and the time and stores it.
func (l *Log) Record(ctx context.Context, e Event) error {
	return l.Store.AppendAccess(ctx, l.Prepare(e))
}

// Prepare stamps e with an id and the time, and its salt and ledger leaf,
// for a store that writes it together with the change it comes with (a
// check at the counter).
func (l *Log) Prepare(e Event) Event {
	now := l.Clock.Now().UTC()
	e.ID, e.At = ids.New(now), now.Truncate(time.Microsecond)
	e.Records, e.Items = nonNil(e.Records), nonNil(e.Items)
	e.LeafIndex = -1
	if !l.NoLedger {
		e.Salt, e.Leaf = ledger.Seal(LeafKind, e.ID, e.At, e.Committed())
	}
	return e
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
