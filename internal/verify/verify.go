// Package verify checks the platform's tamper-evident ledger against its
// database, as `pubcredit verify` runs it (ARCHITECTURE.md, "The ledger").
//
// Run recomputes every leaf from the row it commits to (the salt and the
// canonical content of a record version, an access event, a list entry
// version, a check, check feedback or a person's subjects row), the RFC
// 6962 Merkle tree from the leaves (with [ledger.Tree],
// compared with the tlog stored hashes), and checks every stored
// checkpoint: its note signature (C2SP signed-note, Ed25519) and its root
// against the recomputed tree of its size, which also makes the checkpoints
// consistent with each other. It checks that every records row equals the
// latest version of its record, and every list_entries row the latest
// version of its entry, and that check_measures holds exactly the measures
// each check returned. Whatever was changed, deleted or inserted behind
// the platform's back is reported as a [Problem] naming the table and the
// row.
//
// What a database alone cannot show: that the end of its log was cut off,
// checkpoints and all, or that a checkpoint other than the newest was
// deleted (checkpoints are signed one by one and name no other); a
// published checkpoint or a witness shows both. A checkpoint row's
// created_at is not signed and not checked: the note carries the origin,
// the size (checked against the size column) and the root only.
//
// A new kind of leaf needs a scan of the rows it commits to here, or verify
// reports its leaves as committing to rows that are gone.
//
// Run streams: the tables are walked together in leaf order, one row at a
// time, so verifying a log of any length needs constant memory.
//
// A copy is named as a copy, not as a deletion: two rows claiming one leaf
// are named together (the one that matches the leaf kept as its row), and
// a leaf no row claims is looked up after the walk by the event it names
// (the table rescanned, from the same snapshot): it is a deleted row only
// when no row of that event is there; a leaf whose event's row claims
// another leaf appears twice in the log (inserted). Up to maxOrphans such
// leaves are looked up; beyond that they are reported as deleted rows.
// A row moved onto another event's leaf is named as a changed leaf index
// when its own event's leaf is there and no row claims it, not as an
// inserted row beside a leaf that appears twice; a row claiming another
// event's leaf with no leaf of its own was inserted. Up to maxMisclaims
// such rows wait for the orphans; beyond that they are reported at once.
//
// A row whose salt and content are empty was erased at the end of its
// retention: its leaf can no longer be recomputed, only its kind, id and
// time checked, and that the leaf is older than MinRetention. Erasure is
// reported (Kind Erased) but is not a failure. A NULL salt beside content,
// or on a row younger than MinRetention, is a change.
package verify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"pubcredit/internal/errs"
)

// Kind classifies a Problem.
type Kind string

const (
	Changed    Kind = "changed"    // a row or leaf differs from what was committed
	Deleted    Kind = "deleted"    // a row or leaf that was committed is gone
	Inserted   Kind = "inserted"   // a row no leaf commits to
	Erased     Kind = "erased"     // a row's salt and content were erased at the end of retention; not a failure
	Tree       Kind = "tree"       // a stored tree hash differs from the leaves
	Checkpoint Kind = "checkpoint" // a signed checkpoint does not verify or does not match the leaves
)

// Table names used in problems.
const (
	TableRecords       = "records"
	TableVersions      = "record_versions"
	TableAccess        = "access_events"
	TableListEntries   = "list_entries"
	TableListVersions  = "list_entry_versions"
	TableFeedback      = "check_feedback"
	TableChecks        = "checks"
	TableSubjects      = "subjects"
	TableCheckMeasures = "check_measures"
	TableLeaves        = "ledger_leaves"
	TableHashes        = "ledger_hashes"
	TableCheckpoints   = "ledger_checkpoints"
)

// A Problem is one finding. ID names the row: a record id in records, a
// "record id:version" in record_versions, an event id in access_events, an
// entry id in list_entries, an "entry id:version" in list_entry_versions, a
// "check id:measure" in check_measures, a subject's id in subjects (never
// their key), a leaf index in ledger_leaves, a stored-hash index in ledger_hashes, a size
// in ledger_checkpoints.
type Problem struct {
	Kind    Kind
	Table   string
	ID      string
	Message string
}

// String is the problem on one line: "changed record_versions 01a2...:2: ...".
// An id or message with a character that does not print (a row's id is
// whatever was written in the database: an escape sequence, a line break,
// bytes that are not UTF-8) is quoted with Go's escapes, so that nothing
// read from the database reaches an auditor's terminal as anything but
// text.
func (p Problem) String() string {
	return string(p.Kind) + " " + p.Table + " " + printable(p.ID) + ": " + printable(p.Message)
}

// printable returns s when every character of it prints, else s quoted.
func printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}

// Failure reports whether p means the database does not verify: every kind
// but Erased.
func (p Problem) Failure() bool { return p.Kind != Erased }

// Summary counts what Run read and found.
type Summary struct {
	Leaves       int // leaves present
	Versions     int // record versions
	AccessEvents int
	ListVersions int // list entry versions
	Feedback     int // check_feedback rows
	Checks       int // checks rows
	Subjects     int // subjects rows
	Records      int // records rows
	ListEntries  int // list_entries rows
	Erased       int // rows whose salt was erased
	Checkpoints  int
	NewestSize   int // size of the newest checkpoint
	Unintegrated int // leaves beyond the newest checkpoint: the integrator covers them within a second
	Problems     int // failures: every problem reported but erasures
}

// OK reports whether everything verified.
func (s Summary) OK() bool { return s.Problems == 0 }

// GCPercent is the garbage collector's target the verify command runs with
// (debug.SetGCPercent) unless GOGC is set: Run's live heap is a few
// megabytes whatever the log's size (the batches between its scans), and
// it allocates a few hundred bytes a leaf, so collecting a quarter as often
// costs a few megabytes and saves about a tenth of its CPU.
const GCPercent = 400

// Run verifies the database behind st against the ledger's note verifier
// key vkey ("origin+hash+base64"), erasures as of now, and calls report,
// from one goroutine at a time, for every problem found, erasures included. It returns the summary,
// or an error when it could not read the database (the problems reported so
// far then stand, but the check is incomplete). A malformed vkey is
// errs.Invalid.
func Run(ctx context.Context, st Store, vkey string, now time.Time, report func(Problem)) (Summary, error) {
	if _, err := note.NewVerifier(vkey); err != nil {
		return Summary{}, errs.Wrap(errs.Invalid, err, "verify: malformed verifier key")
	}
	if report == nil {
		report = func(Problem) {}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu     sync.Mutex
		sum    Summary
		failed bool // a scan failed: stop reporting, the rows seen since may be partial
	)
	emit := func(p Problem) {
		mu.Lock()
		defer mu.Unlock()
		if failed {
			return
		}
		if p.Failure() {
			sum.Problems++
		} else {
			sum.Erased++
		}
		report(p)
	}
	fail := func() {
		mu.Lock()
		failed = true
		mu.Unlock()
	}

	// The rows that must equal their latest versions, beside the walk.
	var wg sync.WaitGroup
	var rowsErr error
	var records, entries int
	wg.Add(1)
	go func() {
		defer wg.Done()
		records, rowsErr = checkRecords(ctx, st, emit)
		if rowsErr == nil {
			entries, rowsErr = checkListEntries(ctx, st, emit)
		}
		if rowsErr == nil {
			rowsErr = checkCheckMeasures(ctx, st, emit)
		}
		if rowsErr != nil {
			fail()
			cancel()
		}
	}()

	w := newWalker(ctx, st, vkey, now, emit, fail)
	w.walk()
	w.close()
	if w.err == nil {
		w.err = w.resolveOrphans(ctx, st)
	}
	if w.err != nil {
		fail()
		cancel()
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	sum.Leaves, sum.Records, sum.ListEntries = w.leafCount, records, entries
	sum.Versions, sum.AccessEvents, sum.ListVersions = w.rows[versionRows].count, w.rows[accessRows].count, w.rows[listRows].count
	sum.Feedback, sum.Checks, sum.Subjects = w.rows[feedbackRows].count, w.rows[checkRows].count, w.rows[subjectRows].count
	sum.Checkpoints, sum.NewestSize = w.cpCount, int(w.newest)
	if w.total > w.newest {
		sum.Unintegrated = int(w.total - w.newest)
	}
	if err := errors.Join(w.err, rowsErr); err != nil {
		return sum, fmt.Errorf("verify: reading the database: %w", err)
	}
	return sum, nil
}
