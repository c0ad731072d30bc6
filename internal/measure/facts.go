package measure

import (
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// ListEntry is a list entry the person is on. The caller passes only entries
// active at Facts.Now: Evaluate does not look at Since and Until to drop any.
type ListEntry struct {
	ID    string
	Code  string    // the list, e.g. SXBZXR
	Kind  string    // "red" | "black"
	Since time.Time // entry became active
	Until time.Time // end of term; zero when open-ended
}

// RecordFact is a record in use: not expired, revoked, repaired or under
// objection. The caller filters.
type RecordFact struct {
	ID        string
	Item      string // catalog item code, e.g. XZCF
	Polarity  string // basic | positive | negative
	Severity  string // minor | general | serious; empty when the item has none
	DecidedOn time.Time
}

// Facts about a person at the time of a check.
type Facts struct {
	Lists      []ListEntry
	Records    []RecordFact
	CleanYears int  // whole years since the last negative record in use
	Score      *int // nil until scores exist; CEL sees -1
	Age        int
	Now        time.Time // the time of the check; required
}

// factLists says which fact lists conditions read, so that Evaluate converts only
// those.
type factLists uint8

const (
	readsLists factLists = 1 << iota
	readsRecords
)

// noFacts stands for a fact list no condition of the matter reads.
var noFacts = types.NewRefValList(types.DefaultTypeAdapter, nil)

// vars turns facts into CEL values once per evaluation; every measure of the
// matter reads the same (immutable) map. Converting a record costs about as
// much as testing it, so lists and records are converted only when some
// condition of the matter reads them.
func (s *Set) vars(f Facts, reads factLists) map[string]any {
	var lists, records ref.Val = noFacts, noFacts
	if reads&readsLists != 0 {
		lists = s.lists(f.Lists)
	}
	if reads&readsRecords != 0 {
		records = s.records(f.Records)
	}
	score := -1
	if f.Score != nil {
		score = *f.Score
	}
	return map[string]any{
		"lists":       lists,
		"records":     records,
		"clean_years": types.Int(f.CleanYears),
		"score":       types.Int(score),
		"age":         types.Int(f.Age),
		"now":         types.Timestamp{Time: f.Now},
	}
}

func (s *Set) lists(entries []ListEntry) ref.Val {
	lists := make([]ref.Val, len(entries))
	for i, e := range entries {
		lf := &listFact{ID: e.ID, Code: e.Code, Kind: e.Kind, Since: e.Since, Until: e.Until}
		if lf.Until.IsZero() {
			lf.Until, lf.Open = maxTimestamp, true
		}
		lists[i] = s.adapter.NativeToValue(lf)
	}
	return types.NewRefValList(s.adapter, lists)
}

func (s *Set) records(rs []RecordFact) ref.Val {
	records := make([]ref.Val, len(rs))
	for i, r := range rs {
		records[i] = s.adapter.NativeToValue(&recordFact{
			ID: r.ID, Item: r.Item, Polarity: r.Polarity, Severity: r.Severity, DecidedOn: r.DecidedOn,
		})
	}
	return types.NewRefValList(s.adapter, records)
}
