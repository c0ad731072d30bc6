package verify

import (
	"context"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/clock"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

// Store is what verification reads: streaming scans of the ledger's tables
// and of the rows its leaves commit to. Each scan calls fn once per row, in
// the order stated, from one rows.Next loop; it never loads a table into
// memory.
//
// The arguments passed to fn, and every slice they hold, are valid only
// until fn returns: an implementation MAY reuse them for the next row. When
// fn returns an error the scan MUST stop and return that error unchanged.
//
// Run keeps the nine scans ScanLeaves, ScanHashes, ScanCheckpoints,
// ScanVersions, ScanAccess, ScanListVersions, ScanFeedback, ScanChecks and
// ScanSubjects open at once, each in a goroutine of its own, and walks
// their rows together; an implementation MUST allow them to run
// concurrently, and those nine MUST read one
// consistent snapshot of the database, or a change committed while Run
// reads would look like tampering. Once they have ended, Run MAY call
// each of the last six again (to look up the rows named by leaves no row
// claimed), and the scan MUST read the same snapshot. ScanRecords and then ScanListEntries run concurrently with
// them, from another goroutine; each need not share their snapshot,
// because the check it feeds compares only the rows it returns together.
type Store interface {
	// ScanLeaves calls fn for every ledger leaf (ledger_leaves), by index,
	// with the kind and event_id columns stored beside it.
	ScanLeaves(ctx context.Context, fn func(idx int64, kind, eventID, data []byte) error) error
	// ScanHashes calls fn for every stored tree hash (ledger_hashes), by
	// tlog stored-hash index.
	ScanHashes(ctx context.Context, fn func(idx int64, hash []byte) error) error
	// ScanCheckpoints calls fn for every stored signed checkpoint
	// (ledger_checkpoints), by size.
	ScanCheckpoints(ctx context.Context, fn func(size int64, signed []byte) error) error
	// ScanVersions calls fn for every record version: first those with a
	// leaf index, by leaf index, then those without one (LeafIndex -1).
	// Salt is nil when the salt is NULL (erased); Leaf is not set.
	ScanVersions(ctx context.Context, fn func(v *record.Version) error) error
	// ScanAccess calls fn for every access event: first those with a leaf
	// index, by leaf index, then those without one (LeafIndex -1). Salt is
	// nil when the salt is NULL (erased); Leaf is not set.
	ScanAccess(ctx context.Context, fn func(e *access.Event) error) error
	// ScanListVersions calls fn for every list entry version
	// (list_entry_versions): first those with a leaf index, by leaf index,
	// then those without one (LeafIndex -1). Salt is nil when it is NULL.
	ScanListVersions(ctx context.Context, fn func(v *ListVersion) error) error
	// ScanFeedback calls fn for every check_feedback row: first those with a
	// leaf index, by leaf index, then those without one (LeafIndex -1).
	// Salt is nil when it is NULL; Leaf is not set.
	ScanFeedback(ctx context.Context, fn func(f *measure.Feedback) error) error
	// ScanSubjects calls fn for every subjects row: first those with a
	// leaf index, by leaf index, then those without one (LeafIndex -1).
	// Salt is nil when it is NULL; Leaf is not set.
	ScanSubjects(ctx context.Context, fn func(sj *record.SealedSubject) error) error
	// ScanChecks calls fn for every checks row: first those with a leaf
	// index, by leaf index, then those without one (LeafIndex -1). Salt is
	// nil when it is NULL; Leaf is not set.
	ScanChecks(ctx context.Context, fn func(c *measure.Check) error) error
	// ScanListEntries calls fn for every list_entries row with the latest
	// version of its entry, in no particular order; latest is nil for a row
	// without versions. Then it calls fn with e nil and the latest version
	// for every entry id that has versions but no list_entries row. Of
	// latest, EntryID, Version, State and Salt are set.
	ScanListEntries(ctx context.Context, fn func(e *ListEntry, latest *ListVersion) error) error
	// ScanRecords calls fn for every records row with the latest version of
	// its record (the highest version number), in no particular order;
	// latest is nil for a row without versions. Then it calls fn with rec
	// nil and the latest version for every record id that has versions but
	// no records row. Of latest, only RecordID, Version, Payload, State and
	// Salt are set.
	ScanRecords(ctx context.Context, fn func(rec *record.Stored, latest *record.Version) error) error
	// ScanCheckMeasures calls fn for every check_measures row with the
	// checks row it belongs to, grouped by check (the rows of one check
	// in a row), and with m nil for a checks row that has none. Then it
	// calls fn with c nil for every check_measures row whose checks row
	// is gone. Of c, ID, Dept, At, Measures and LeafIndex are set.
	ScanCheckMeasures(ctx context.Context, fn func(c *measure.Check, m *CheckMeasure) error) error
}

// A CheckMeasure is a row of check_measures: a measure a check returned,
// kept apart for the statistics, with the check's department and time.
type CheckMeasure struct {
	CheckID, Measure, Dept string
	At                     time.Time
}

// A Database opens the consistent snapshots Run reads. Both stores
// implement it.
type Database interface {
	// VerifySnapshot begins a read-only transaction and returns a Store
	// whose scans read its snapshot, and a function that ends it, which
	// the caller MUST call when done. It writes nothing.
	VerifySnapshot(ctx context.Context) (Store, func(), error)
}

// A ListVersion is a row of list_entry_versions: one version of a list
// entry, its canonical state (listing.Entry.State) and the commitment's salt.
type ListVersion struct {
	EntryID   string
	Version   int
	State     []byte
	Salt      []byte // nil when erased
	LeafIndex int64  // -1 when NULL
}

// A ListEntry is a row of list_entries: the indexed columns the queries
// filter on, and the canonical state the entry is read from.
type ListEntry struct {
	ID, List, Dept, Ref, RecordID string
	SubjectKey                    []byte
	Status                        string
	Version                       int
	ActiveFrom, Until             clock.Date // zero when empty (NULL)
	State                         []byte
}
