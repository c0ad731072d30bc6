package listing

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"pubcredit/internal/clock"
	"pubcredit/internal/ledger"
)

// Status is where an entry is in its lifecycle.
type Status string

const (
	Noticed Status = "noticed" // the person has been told; active after the notice period
	Active  Status = "active"
	Removed Status = "removed"
)

// Removal reasons.
const (
	Performed = "performed" // the obligation was performed
	Revoked   = "revoked"   // the decision was overturned: the record is revoked too
	Repaired  = "repaired"  // credit repair, after the earliest removal
	Expired   = "expired"   // the term ended (the background job)
	Other     = "other"
)

// NegativeRecord is why the platform takes a person off a red list: a new
// serious negative record (DOMAIN.md section 7). Departments do not give it.
const NegativeRecord = "negative_record"

// Reasons are the accepted removal reasons.
var Reasons = []string{Performed, Revoked, Repaired, Expired, Other}

// Removal says why and when an entry left its list.
type Removal struct {
	Reason string    `json:"reason"`
	Note   string    `json:"note,omitempty"`
	At     time.Time `json:"at"`
}

// Entry is one person on one list.
type Entry struct {
	ID         string     `json:"id"`
	List       string     `json:"list"`
	Dept       string     `json:"department"`
	Ref        string     `json:"ref"`
	RecordID   string     `json:"record_id"`
	SubjectKey []byte     `json:"-"`
	Status     Status     `json:"status"`
	Version    int        `json:"version"`
	DecidedOn  clock.Date `json:"decided_on"`
	ActiveFrom clock.Date `json:"active_from"` // the first day on the list (after any notice)
	Until      clock.Date `json:"until"`       // the entry ends at the start of this day; zero: until removed
	Grounds    []string   `json:"grounds"`
	DocumentNo string     `json:"document_no"`
	Basis      string     `json:"basis"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Removal    *Removal   `json:"removal,omitempty"`

	// The ledger commitment of this version of the entry, appended with it.
	Salt      []byte `json:"-"`
	Leaf      []byte `json:"-"`
	LeafIndex int64  `json:"leaf_index"`
}

// StatusOfState is the status an entry version's canonical state (State)
// records; empty when the state does not parse.
func StatusOfState(state []byte) Status {
	var e struct {
		Status Status `json:"status"`
	}
	json.Unmarshal(state, &e)
	return e.Status
}

// LeafKind is the ledger event kind of list entry changes.
const LeafKind = "list.entry"

// EventID is the ledger event id of an entry version.
func EventID(id string, version int) string { return id + ":" + strconv.Itoa(version) }

// State is the canonical encoding of the entry (its row in the store).
func (e Entry) State() []byte {
	c := e
	c.Salt, c.Leaf, c.LeafIndex = nil, nil, -1
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond), c.UpdatedAt.UTC().Truncate(time.Microsecond)
	if c.Removal != nil {
		r := *c.Removal
		r.At = r.At.UTC().Truncate(time.Microsecond)
		c.Removal = &r
	}
	b, _ := json.Marshal(struct {
		Entry
		SubjectKey []byte `json:"subject_key"`
	}{c, e.SubjectKey})
	return b
}

// seal sets the entry's ledger commitment for its current version.
func (e *Entry) seal(at time.Time) {
	e.Salt, e.Leaf = ledger.Seal(LeafKind, EventID(e.ID, e.Version), at, e.State())
}

// Store keeps list entries. Each create or update appends the entry's
// ledger leaf (Entry.Leaf) in the same transaction.
type Store interface {
	// CreateEntry stores a new entry. When (dept, ref) is taken it stores
	// nothing and returns the existing entry with created false.
	CreateEntry(ctx context.Context, e Entry) (stored Entry, created bool, err error)
	// UpdateEntry replaces the entry whose stored version is e.Version-1.
	// Returns NotFound, or Conflict when the version moved on.
	UpdateEntry(ctx context.Context, e Entry) error
	// Entry returns an entry. Returns NotFound.
	Entry(ctx context.Context, id string) (Entry, error)
	// Entries lists a list's entries by id after afterID, at most limit;
	// dept and status filter when not empty.
	Entries(ctx context.Context, list, dept string, status Status, afterID string, limit int) ([]Entry, error)
	// EntriesBySubject returns every entry of a person.
	EntriesBySubject(ctx context.Context, subjectKey []byte) ([]Entry, error)
	// DueEntries returns up to limit entries that must move on by day:
	// noticed with active_from <= day, or active with until <= day.
	DueEntries(ctx context.Context, day clock.Date, limit int) ([]Entry, error)
}
