// Package record is the collection of credit records: a department's
// submission is checked against its catalog item, the person's identity is
// normalised, the severity and the display window are worked out from the
// decision date (DOMAIN.md section 4), and the record is stored encrypted,
// with every version kept.
package record

import (
	"context"
	"encoding/binary"
	"slices"
	"strconv"
	"time"

	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/ids"
	"pubcredit/internal/ledger"
)

// Status is the lifecycle status of a record.
type Status string

const (
	Active  Status = "active"
	Revoked Status = "revoked" // the decision was overturned: display and sharing stop at once
)

// State is the display state of a record, computed at read time.
type State string

const (
	InDisplay    State = "in_display"
	DisplayEnded State = "display_ended"
	StateRevoked State = "revoked"
)

// Subject identifies the person a record is about, as submitted.
type Subject struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// Submission is what a department sends for one record.
type Submission struct {
	Ref       string         `json:"ref"`
	Item      string         `json:"item"`
	Subject   Subject        `json:"subject"`
	DecidedOn string         `json:"decided_on"`
	Severity  string         `json:"severity,omitempty"`
	Fields    map[string]any `json:"fields"`
}

// Window is when a record is displayed. Dates are calendar days; display
// stops at the start of End. A zero End means no end (basic and positive
// information displayed while in force); a zero EarliestEnd means the window
// cannot be shortened by repair.
type Window struct {
	From        clock.Date `json:"from"`
	EarliestEnd clock.Date `json:"earliest_end"`
	End         clock.Date `json:"end"`
	Public      bool       `json:"public"`
}

// StateOn returns the display state on day d for a record with status s.
func (w Window) StateOn(s Status, d clock.Date) State {
	switch {
	case s == Revoked:
		return StateRevoked
	case !w.End.IsZero() && !d.Before(w.End):
		return DisplayEnded
	}
	return InDisplay
}

// Content is the normalised, validated content of a record: what is
// encrypted at rest and hashed for idempotency.
type Content struct {
	Item      string           `json:"item"`
	IDType    string           `json:"id_type"`
	IDNumber  string           `json:"id_number"`
	Name      string           `json:"name"`
	DecidedOn clock.Date       `json:"decided_on"`
	Severity  catalog.Severity `json:"severity,omitempty"`
	Fields    map[string]any   `json:"fields"`
}

// Revocation says why a record was revoked.
type Revocation struct {
	Reason string    `json:"reason"`
	Basis  string    `json:"basis"`
	At     time.Time `json:"at"`
}

// Record is a stored record with its content decrypted.
type Record struct {
	ID         string
	Dept       string
	Ref        string
	SubjectKey []byte
	Version    int
	Status     Status
	Window     Window
	Content    Content
	Revocation *Revocation
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Stored is a record as the store keeps it: content sealed.
type Stored struct {
	ID          string
	Dept        string
	Ref         string
	Item        string
	SubjectKey  []byte
	Version     int
	Status      Status
	Severity    catalog.Severity
	Window      Window
	Payload     []byte // sealed Content
	ContentHash []byte // keyed hash of the canonical Content
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Revocation  *Revocation
}

// SealedSubject is a person as stored: number and name sealed. The row is
// ledgered when it is first stored, so that a number or name swapped in
// the database is found by verify: ID names it in its leaf (never the
// key, which would tie the leaves of one person together), At is when it
// was stored, and Salt and Leaf commit to it (nil with the ledger off).
type SealedSubject struct {
	Key    []byte
	IDType string
	Number []byte // sealed
	Name   []byte // sealed

	ID        string
	At        time.Time
	Salt      []byte
	Leaf      []byte
	LeafIndex int64 // -1 when NULL; set when read back
}

// SubjectLeafKind is the ledger event kind of subjects rows.
const SubjectLeafKind = "subject"

// Committed is the content a subject's leaf commits to: a versioned binary
// encoding, each field as a uvarint length and its bytes, in a fixed order
// (id, key, id type, sealed number, sealed name, time).
func (sj SealedSubject) Committed() []byte {
	return sj.AppendCommitted(make([]byte, 0, 96+len(sj.ID)+len(sj.Key)+len(sj.Number)+len(sj.Name)))
}

// AppendCommitted appends Committed() to b.
func (sj SealedSubject) AppendCommitted(b []byte) []byte {
	b = append(b, "pubcredit-subject/v1\n"...)
	b = appendCommittedField(b, sj.ID)
	b = appendCommittedField(b, sj.Key)
	b = appendCommittedField(b, sj.IDType)
	b = appendCommittedField(b, sj.Number)
	b = appendCommittedField(b, sj.Name)
	return appendCommittedField(b, stamp(sj.At))
}

// Seal gives sj its id, time, salt and leaf, as first stored at now; with
// ledgerOn false, no salt and no leaf.
func (sj SealedSubject) Seal(now time.Time, ledgerOn bool) SealedSubject {
	sj.ID, sj.At, sj.LeafIndex = ids.New(now), now.UTC().Truncate(time.Microsecond), -1
	if ledgerOn {
		sj.Salt, sj.Leaf = ledger.Seal(SubjectLeafKind, sj.ID, sj.At, sj.Committed())
	}
	return sj
}

// Change says why a new version of a record was written.
type Change string

const (
	Created   Change = "created"
	Corrected Change = "corrected"
	Revoke    Change = "revoked"
	// EndedDisplay: display and sharing ended early, the person having
	// performed or repaired (its list entry was removed for that).
	EndedDisplay Change = "display_ended"
)

// Version is one entry in a record's history. Each version is committed to
// the ledger in the same transaction that stores it.
type Version struct {
	RecordID string
	Version  int
	Change   Change
	At       time.Time
	Payload  []byte // sealed Content at that version
	Note     []byte // sealed free text (revocation reason, correction note), may be nil
	// State is the canonical encoding of the record's row at this version
	// (StateOf), so that the current row can be checked against history.
	State []byte
	// Salt and Leaf are the ledger commitment: Leaf is nil when the ledger
	// is switched off (benchmarks only); Salt is nil once erased.
	Salt      []byte
	Leaf      []byte
	LeafIndex int64 // assigned by the store; -1 when not ledgered
}

// LeafKind is the ledger event kind of record versions.
const LeafKind = "record.version"

// EventID is the ledger event id of a version: "<record id>:<version>".
func EventID(recordID string, version int) string { return recordID + ":" + strconv.Itoa(version) }

// StateOf is the canonical encoding of a stored record's row, payload
// excepted: a JSON object whose field order is fixed (see appendState).
// Times are in UTC with microseconds, the precision both engines keep.
func StateOf(st Stored) []byte {
	return appendState(nil, st, stamp(st.CreatedAt), stamp(st.UpdatedAt))
}

func stamp(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) }

// Committed is the content a version's ledger leaf commits to: a versioned
// binary encoding, each field as a uvarint length and its bytes, in a fixed
// order (record id, version, change, time, payload, note, state).
func (v Version) Committed() []byte { return v.AppendCommitted(nil) }

// AppendCommitted appends Committed() to b.
func (v Version) AppendCommitted(b []byte) []byte { return v.appendCommitted(b, stamp(v.At)) }

// appendCommitted appends Committed() to b, with at the stamp of v.At.
func (v Version) appendCommitted(b []byte, at string) []byte {
	b = slices.Grow(b, 64+len(v.RecordID)+len(at)+len(v.Payload)+len(v.Note)+len(v.State))
	b = append(b, "pubcredit-record-version/v1\n"...)
	b = appendCommittedField(b, v.RecordID)
	var num [20]byte
	b = appendCommittedField(b, strconv.AppendInt(num[:0], int64(v.Version), 10))
	b = appendCommittedField(b, v.Change)
	b = appendCommittedField(b, at)
	b = appendCommittedField(b, v.Payload)
	b = appendCommittedField(b, v.Note)
	return appendCommittedField(b, v.State)
}

func appendCommittedField[T ~string | ~[]byte](b []byte, f T) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	return append(b, f...)
}

// Seal fills in State, Salt and Leaf for the version of st.
func (v *Version) seal(st Stored, ledgerOn bool) { v.sealWith(st, ledgerOn, nil) }

// sealWith is seal reusing what a batch shares (pr may be nil).
func (v *Version) sealWith(st Stored, ledgerOn bool, pr *prep) {
	created, updated := pr.stamp(st.CreatedAt), pr.stamp(st.UpdatedAt)
	size := 256 + len(st.ID) + len(st.Dept) + len(st.Ref) + len(st.Item) + 2*len(st.SubjectKey) + len(st.Status) + len(st.Severity) +
		3*len(clock.DateLayout) + 20 + 2*len(st.ContentHash) + len(created) + len(updated)
	v.State = appendState(make([]byte, 0, size), st, created, updated)
	v.LeafIndex = -1
	if !ledgerOn {
		return
	}
	committed := v.appendCommitted(pr.buffer(), pr.stamp(v.At))
	v.Salt, v.Leaf = ledger.Seal(LeafKind, EventID(v.RecordID, v.Version), v.At, committed)
	pr.reuse(committed)
}

// Outcome of inserting one new record.
type Outcome struct {
	Created bool
	// When not created, the existing record with the same (department, ref).
	ExistingID   string
	ExistingHash []byte
}

// Store keeps records. Every method is atomic.
type Store interface {
	// CreateRecords inserts each record with its subject (when the subject
	// is new) and its first version, in one transaction. A record whose
	// (department, ref) already exists is not inserted: its outcome names the
	// existing record. outcomes has one entry per record, in order.
	CreateRecords(ctx context.Context, subjects []SealedSubject, recs []Stored, versions []Version) (outcomes []Outcome, err error)
	// Record returns a record by id. Returns NotFound.
	Record(ctx context.Context, id string) (Stored, error)
	// UpdateRecord replaces a record whose stored version is rec.Version-1
	// and appends v, in one transaction, inserting subject when new.
	// Returns NotFound, or Conflict when the stored version moved on.
	UpdateRecord(ctx context.Context, subject *SealedSubject, rec Stored, v Version) error
	// RecordsBySubject returns every record of a person, oldest first.
	RecordsBySubject(ctx context.Context, subjectKey []byte) ([]Stored, error)
	// Versions returns the history of a record, oldest first.
	Versions(ctx context.Context, id string) ([]Version, error)
	// Subject returns a person by key. Returns NotFound.
	Subject(ctx context.Context, key []byte) (SealedSubject, error)
}
