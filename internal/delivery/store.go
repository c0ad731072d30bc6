package delivery

import (
	"context"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/listing"
)

// Subscription is a department's standing request for pushes.
type Subscription struct {
	ID     string   `json:"id"`
	Dept   string   `json:"department"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Lists  []string `json:"lists"` // list events of these lists only; empty: every list
	Items  []string `json:"items"` // record events of these items only; empty: every item the department may read
	// Secret is the signing secret, sealed with the keyring; it is shown
	// once, when the subscription is made.
	Secret []byte `json:"-"`
	// FromLeaf is the first ledger index the subscription sees: changes
	// committed before it was made are not pushed to it. The store sets it.
	FromLeaf  int64     `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Status is where a delivery is.
type Status string

const (
	Pending   Status = "pending"   // waiting for its next attempt
	Delivered Status = "delivered" // a 2xx answer was received
	Dead      Status = "dead"      // retried for RetryFor without success (or its subscription was deleted)
)

// Delivery is one event for one subscription, with where its attempts stand.
//
// Its attempts come in rounds: the dispatcher's, then one for each
// redelivery the department asks for. What is "of this round" starts empty
// again with a redelivery; the attempts of earlier rounds stay counted in
// Attempts and listed in Recent, each with its round.
type Delivery struct {
	ID             string     `json:"id"`
	Subscription   string     `json:"subscription"`
	EventID        string     `json:"event_id"` // the ledger event id, "<record or entry id>:<version>"
	Type           string     `json:"event_type"`
	LeafIndex      int64      `json:"leaf_index"`
	Status         Status     `json:"status"`
	Attempts       int        `json:"attempts"`         // every attempt ever made, in every round
	Retries        int        `json:"-"`                // failures in a row since the first attempt of this round
	CreatedAt      time.Time  `json:"created_at"`       // when the dispatcher made it
	Round          int        `json:"round"`            // 1, and one more for each redelivery
	RedeliveredAt  *time.Time `json:"redelivered_at"`   // when the last redelivery was asked for; nil before any
	NextAt         *time.Time `json:"next_attempt_at"`  // nil unless pending
	FirstAttemptAt *time.Time `json:"first_attempt_at"` // of this round; nil before this round's first attempt
	LastAttemptAt  *time.Time `json:"last_attempt_at"`  // of any round; nil before the first attempt
	LastStatus     *int       `json:"last_status_code"` // HTTP status of the last answer; nil when there was none
	LastError      string     `json:"last_error"`       // why the last attempt failed; "" when it did not
	DeliveredAt    *time.Time `json:"delivered_at"`     // when this round was delivered; nil while pending or dead
	Recent         []Attempt  `json:"recent_attempts"`  // the newest attempts of every round, newest first (at most RecentAttempts)
	LeaseUntil     time.Time  `json:"-"`                // a sender holds it until then
	URL            string     `json:"-"`                // the subscription's, for the sender
	Secret         []byte     `json:"-"`                // the subscription's sealed secret, for the sender
	Dept           string     `json:"-"`                // the subscribing department, for the sender
}

// RecentAttempts is how many attempts a delivery lists.
const RecentAttempts = 10

// Attempt is one try at sending a delivery. Response bodies are never kept.
type Attempt struct {
	N          int       `json:"n"`     // 1 for the first attempt
	Round      int       `json:"round"` // the delivery's round it was made in (set by the store)
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"` // nil when no HTTP answer came (refused, reset, timed out)
	Error      string    `json:"error"`       // "" for a 2xx answer
	DurationMS int64     `json:"duration_ms"`
}

// Outcome is the result of an attempt, for the store to record.
type Outcome struct {
	Delivery string
	Attempt  Attempt
	Status   Status    // the delivery's new status
	Retries  int       // the delivery's new count of failures in a row
	NextAt   time.Time // when Status is Pending
}

// Leaf is a ledger leaf the dispatcher looks at, with what the store knows
// of the change it commits to.
type Leaf struct {
	Index   int64
	Kind    string // the ledger kind: record.version, list.entry, access, ...
	EventID string // the ledger event id
	// Change is the record version's change (created, corrected, revoked)
	// for record.version leaves, the entry version's status (noticed,
	// active, removed) for list.entry leaves; empty otherwise.
	Change string
	Item   string // record.version: the record's catalog item
	List   string // list.entry: the list code
	Dept   string // the department that made the change
	// Noticed: the record is the record of a list entry in its notice
	// period. It is not pushed as a record (nor shared in file reads): the
	// entry's own events say what subscribers may know of it.
	Noticed bool
}

// LeafRow is a ledger leaf as a store reads it for dispatch, joined with the
// record version or list entry version it commits to (empty when none).
type LeafRow struct {
	Index          int64
	Kind, EventID  string
	Change, Item   string // of the record version
	RecordDept     string
	EntryState     []byte // the list entry version's canonical state
	List, ListDept string
	Noticed        bool // the record version's record is the record of an entry in its notice period
}

// Leaf is the leaf the row stands for.
func (r LeafRow) Leaf() Leaf {
	l := Leaf{Index: r.Index, Kind: r.Kind, EventID: r.EventID, Change: r.Change, Item: r.Item, Dept: r.RecordDept, Noticed: r.Noticed}
	if r.Kind == listing.LeafKind {
		l.List, l.Dept, l.Change = r.List, r.ListDept, string(listing.StatusOfState(r.EntryState))
	}
	return l
}

// Target is a live subscription as the dispatcher sees it: with its
// department's current rights.
type Target struct {
	Subscription
	Read     []string // items the department may read
	Disabled bool     // the department is disabled: it gets nothing
}

// Planner turns a batch of leaves into deliveries for the targets. It must
// not touch the store: it runs inside the store's transaction.
type Planner func(leaves []Leaf, targets []Target) []Delivery

// Store keeps subscriptions, the dispatch cursor and deliveries.
type Store interface {
	// CreateSubscription stores sub and returns it with FromLeaf set to the
	// number of leaves in the ledger. It waits for a dispatch batch in
	// progress, so that every leaf from FromLeaf on is dispatched with sub
	// among the targets. Returns the Conflict of Duplicate, naming the
	// existing subscription, when the department has a live one with the
	// same URL, events, lists and items (compared as stored: callers
	// normalize them); and the Conflict of TooMany when the department has
	// most live subscriptions already (most <= 0: no limit). The checks and
	// the insert MUST be atomic, so that requests at once neither make two
	// identical subscriptions nor go beyond most.
	CreateSubscription(ctx context.Context, sub Subscription, most int) (Subscription, error)
	// Subscription returns a live subscription. Returns NotFound (also
	// for a deleted one).
	Subscription(ctx context.Context, id string) (Subscription, error)
	// Subscriptions returns a department's live subscriptions by id.
	Subscriptions(ctx context.Context, dept string) ([]Subscription, error)
	// DeleteSubscription ends a subscription; its pending deliveries become
	// dead with lastError. Returns NotFound.
	DeleteSubscription(ctx context.Context, id string, at time.Time, lastError string) error

	// Dispatch reads up to limit ledger leaves from the cursor on and
	// moves the cursor past them, in one transaction that holds the cursor
	// (MUST be exclusive across processes): it reads the leaves in index
	// order, stopping before a missing index, and the live subscriptions
	// with their departments' rights, stores the deliveries plan returns
	// (a delivery whose subscription and event are already stored is
	// skipped) and moves the cursor. Returns the number of leaves read.
	Dispatch(ctx context.Context, limit int, plan Planner) (int, error)

	// ClaimDue leases up to limit pending deliveries whose next attempt is
	// at or before now and that no sender holds, until leaseUntil, and
	// returns them with their subscription's URL, sealed secret and
	// department. It claims at most one delivery per subscription, the one
	// due first (by next attempt, then ledger order), and none of a
	// subscription that has a delivery leased (so one slow receiver holds
	// at most one sender), and no more than LeasedPerDept of one department
	// leased at once (Fair). Deliveries of deleted subscriptions are never
	// claimed.
	ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]Delivery, error)
	// Release gives up the lease of a delivery without recording an attempt.
	Release(ctx context.Context, id string) error
	// RecordAttempt stores an attempt (numbered by the store, in the
	// delivery's current round) and the delivery's new state, and ends its
	// lease. Returns NotFound.
	RecordAttempt(ctx context.Context, o Outcome) error
	// LogPushRead stores e, an access event made by access.Log.Prepare, as
	// the read that pushing the person's data in clear with delivery id
	// is, unless one was stored for the delivery's current round already:
	// the event and the mark on the delivery MUST be written in one
	// transaction. It returns whether it stored e. Returns NotFound.
	LogPushRead(ctx context.Context, id string, e access.Event) (bool, error)

	// Delivery returns a delivery with its recent attempts. Returns NotFound.
	Delivery(ctx context.Context, id string) (Delivery, error)
	// Deliveries lists a subscription's deliveries by id after afterID, at
	// most limit, with their recent attempts; status filters when not empty.
	Deliveries(ctx context.Context, subscription string, status Status, afterID string, limit int) ([]Delivery, error)
	// Redeliver puts a delivered or dead delivery back to pending, due at
	// now, starting a new round: Round one more, RedeliveredAt now, and
	// FirstAttemptAt, DeliveredAt, the retries and the mark of a logged
	// read cleared; the attempts made so far are kept. Returns NotFound,
	// or Conflict when it is pending.
	Redeliver(ctx context.Context, id string, now time.Time) (Delivery, error)

	// EntryVersion returns a list entry as it was at a version. Returns NotFound.
	EntryVersion(ctx context.Context, id string, version int) (listing.Entry, error)
}

// LeasedPerDept is the most deliveries of one department leased at once, however
// many senders there are: a department whose receivers hang holds at most
// this many of the senders' connections, and the pushes of the others go
// on.
const LeasedPerDept = 4

// Candidate is a delivery that is due, and the department it goes to.
type Candidate struct{ ID, Dept string }

// Fair returns the ids of up to limit of cands, in their order, taking at
// most LeasedPerDept of one department with those it has leased already (busy).
func Fair(cands []Candidate, busy map[string]int, limit int) []string {
	taken := make(map[string]int)
	var ids []string
	for _, c := range cands {
		if len(ids) == limit {
			break
		}
		if busy[c.Dept]+taken[c.Dept] < LeasedPerDept {
			taken[c.Dept]++
			ids = append(ids, c.ID)
		}
	}
	return ids
}
