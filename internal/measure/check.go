package measure

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/ids"
	"pubcredit/internal/ledger"
	"pubcredit/internal/listing"
	"pubcredit/internal/profile"
	rec "pubcredit/internal/record"
)

// Check is one check at the counter: who checked whom for which matter, and
// the measures returned with their grounds.
type Check struct {
	ID         string           `json:"check_id"`
	Dept       string           `json:"department"`
	SubjectKey []byte           `json:"-"`
	Matter     string           `json:"matter"`
	Purpose    string           `json:"purpose"`
	At         time.Time        `json:"evaluated_at"`
	Measures   []CheckedMeasure `json:"measures"`

	Salt      []byte `json:"-"` // of its commitment; nil when NULL
	Leaf      []byte `json:"-"` // the leaf appended with it (Seal)
	LeafIndex int64  `json:"-"` // its place in the ledger; -1 when not ledgered
}

// CheckLeafKind is the ledger leaf kind of a check.
const CheckLeafKind = "check"

// Committed is the canonical content a check's leaf commits to.
func (c Check) Committed() []byte {
	ms := c.Measures
	if ms == nil {
		ms = []CheckedMeasure{}
	}
	b, _ := json.Marshal(struct {
		ID         string           `json:"id"`
		Dept       string           `json:"department"`
		SubjectKey string           `json:"subject_key"`
		Matter     string           `json:"matter"`
		Purpose    string           `json:"purpose"`
		At         string           `json:"at"`
		Measures   []CheckedMeasure `json:"measures"`
	}{c.ID, c.Dept, hex.EncodeToString(c.SubjectKey), c.Matter, c.Purpose, c.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), ms})
	return b
}

// Seal gives c a salt and the leaf that commits to it.
func (c Check) Seal() Check {
	c.Salt, c.Leaf = ledger.Seal(CheckLeafKind, c.ID, c.At, c.Committed())
	c.LeafIndex = -1
	return c
}

// MeasuresOf reads a check's stored measures (the JSON of its measures
// column). Measures that do not parse stand for themselves as one measure
// that can match no commitment (see Unreadable), so that a changed column
// is found by verify rather than hidden by a read error.
func MeasuresOf(stored []byte) []CheckedMeasure {
	var out []CheckedMeasure
	if err := json.Unmarshal(stored, &out); err != nil {
		return []CheckedMeasure{{Code: unreadable + string(stored)}}
	}
	return out
}

const unreadable = "\x00unreadable: "

// Unreadable reports whether ms is the stand-in MeasuresOf returns for
// stored measures that do not parse.
func Unreadable(ms []CheckedMeasure) bool {
	return len(ms) == 1 && strings.HasPrefix(ms[0].Code, unreadable)
}

// CheckedMeasure is a measure a check returned.
type CheckedMeasure struct {
	Code    string   `json:"code"`
	Kind    Kind     `json:"kind"`
	Because []Ground `json:"because"`
}

// Feedback is what the checking department did about one returned measure.
// It is ledgered: a leaf of kind FeedbackLeafKind commits to it.
type Feedback struct {
	CheckID string    `json:"check_id"`
	Measure string    `json:"measure"`
	Dept    string    `json:"department"`
	Applied bool      `json:"applied"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`

	Salt      []byte `json:"-"`          // of its commitment; nil when NULL
	Leaf      []byte `json:"-"`          // the leaf appended with it (Seal)
	LeafIndex int64  `json:"leaf_index"` // its place in the ledger; -1 when not ledgered
}

// FeedbackLeafKind is the ledger leaf kind of feedback.
const FeedbackLeafKind = "check.feedback"

// EventID is the ledger event id of feedback: "check_id:measure".
func (f Feedback) EventID() string { return f.CheckID + ":" + f.Measure }

// Committed is the canonical content a feedback leaf commits to.
func (f Feedback) Committed() []byte {
	b, _ := json.Marshal(struct {
		CheckID string `json:"check_id"`
		Measure string `json:"measure"`
		Dept    string `json:"department"`
		Applied bool   `json:"applied"`
		Note    string `json:"note"`
		At      string `json:"at"`
	}{f.CheckID, f.Measure, f.Dept, f.Applied, f.Note, f.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)})
	return b
}

// Seal gives f a salt and the leaf that commits to it.
func (f Feedback) Seal() Feedback {
	f.Salt, f.Leaf = ledger.Seal(FeedbackLeafKind, f.EventID(), f.At, f.Committed())
	f.LeafIndex = -1
	return f
}

// Returned is one measure returned by a check, with its feedback if any, for
// statistics.
type Returned struct {
	Dept     string
	Measure  string
	At       time.Time
	Feedback *bool // nil: no feedback yet; else applied or not
}

// CheckStore keeps checks and their feedback.
type CheckStore interface {
	// Standing returns what a check is decided on, read together.
	Standing(ctx context.Context, subjectKey []byte) (Standing, error)
	// CreateCheck stores a check, appending its leaf (Check.Seal), and its
	// access event (access.Log.Prepare) together: neither is stored
	// without the other.
	CreateCheck(ctx context.Context, c Check, e access.Event) error
	// Check returns a check. Returns NotFound.
	Check(ctx context.Context, id string) (Check, error)
	// AddFeedback stores feedback on several measures of one check at once,
	// appending each one's leaf (Feedback.Seal) in the same transaction, and
	// sets each one's LeafIndex.
	// Returns Conflict, storing none, when a measure already has feedback.
	AddFeedback(ctx context.Context, fs []Feedback) error
	// Feedback returns the feedback given on a check.
	Feedback(ctx context.Context, checkID string) ([]Feedback, error)
	// CheckCounts returns the number of checks per department and matter
	// in [from, to).
	CheckCounts(ctx context.Context, from, to time.Time) (map[CheckKey]int, error)
	// ReturnedMeasures calls fn for every measure returned by a check in [from, to).
	ReturnedMeasures(ctx context.Context, from, to time.Time, fn func(Returned) error) error
}

// Calendar counts working days (for overdue feedback).
type Calendar interface {
	AddWorkingDays(from clock.Date, n int) (clock.Date, error)
}

// Checker answers, at the counter, which published measures apply to a
// person for a matter, and records what the department did.
type Checker struct {
	Measures *Set
	Store    CheckStore
	Records  *rec.Service
	Lists    *listing.Service
	Profiles *profile.Service
	Access   *access.Log
	Clock    clock.Clock
	Calendar Calendar
	// FeedbackDays is how many working days a department has to report what
	// it did before its feedback counts as overdue.
	FeedbackDays int
}

// Result is a check with what the department may see of the facts: Facts
// and Entries are what the check discloses (see disclose), not everything
// the conditions were evaluated on. CleanYearsShown is false when the
// department is not shown every negative record a person may have (see
// disclose): the number could tell of one it is not shown. It depends on
// the department only, never on the person's records, so that whether it
// is shown tells nothing either.
type Result struct {
	Check           Check
	Person          identity.Document
	Facts           Facts
	Entries         []listing.Entry
	CleanYearsShown bool
}

// disclose keeps of the facts what the checking department may see: the
// entries and records a returned measure names as its grounds, entries of
// lists it owns or that are published by law, records of items it may read
// or whose records are publicly displayed (catalog.Item.Displayed: public by
// law is not enough without a law for publishing a person's record), and an
// entry and its record together. Age stays (the department gave the number
// it comes from); clean years stay when the department is shown every
// negative item's records (it may read the item, or its records are
// publicly displayed): counted from a record it is not shown, the number
// would tell of that record, and so would a null shown only to people
// with such a record. The rest was
// evaluated but is not the department's to know (PIPL's minimum
// necessary): a person's other negative records do not travel to every
// counter that checks them.
func (c *Checker) disclose(p *auth.Principal, f Facts, entries []listing.Entry, measures []CheckedMeasure) Result {
	grounds := make(map[string]bool)
	for _, m := range measures {
		for _, g := range m.Because {
			grounds[g.Type+" "+g.ID] = true
		}
	}
	seesItem := func(code string) bool {
		it, ok := c.Records.Catalog.Item(code)
		return p.CanRead(code) || (ok && it.Displayed())
	}
	var out Result
	out.Facts = f
	out.Facts.Lists, out.Facts.Records = nil, nil
	entryRecords := make(map[string]bool) // records of the entries shown
	for i, e := range entries {
		t, _ := c.Lists.Types.Type(e.List)
		if grounds[GroundListEntry+" "+e.ID] || grounds[GroundRecord+" "+e.RecordID] || slices.Contains(p.Lists, e.List) ||
			(t != nil && (t.Published.ByLaw || seesItem(t.Item))) {
			out.Entries = append(out.Entries, e)
			out.Facts.Lists = append(out.Facts.Lists, f.Lists[i])
			entryRecords[e.RecordID] = true
		}
	}
	for _, r := range f.Records {
		if grounds[GroundRecord+" "+r.ID] || entryRecords[r.ID] || seesItem(r.Item) {
			out.Facts.Records = append(out.Facts.Records, r)
		}
	}
	// The department's alone: what it may see of every person, not which
	// of this person's records happen to be shown (as grounds, with an
	// entry).
	out.CleanYearsShown = true
	for i := range c.Records.Catalog.Items {
		if it := &c.Records.Catalog.Items[i]; it.Polarity == catalog.Negative && !seesItem(it.Code) {
			out.CleanYearsShown = false
			break
		}
	}
	return out
}

// Check evaluates every published measure of the matter for the person and
// stores the check; the check is an access event.
// Returns NotFound for an unknown matter (naming the known ones), Forbidden
// when p does not implement the matter, Invalid for a bad identity or a
// missing purpose.
func (c *Checker) Check(ctx context.Context, p *auth.Principal, subject rec.Subject, matter, purpose string) (Result, error) {
	if err := p.Require(auth.Department); err != nil {
		return Result{}, err
	}
	var pr errs.Problems
	switch _, known := c.Measures.Matter(matter); {
	case strings.TrimSpace(matter) == "":
		pr.Add("matter", "required", "the counter matter is required (known matters: %s)", strings.Join(c.Measures.MatterCodes(), ", "))
	case !known:
		return Result{}, errs.E(errs.NotFound, "no matter %q (known matters: %s)", errs.Clip(matter, 40), strings.Join(c.Measures.MatterCodes(), ", "))
	case !slices.Contains(p.Matters, matter):
		return Result{}, errs.E(errs.Forbidden, "department %s does not check people for %s", p.ID, matter)
	}
	// A name is not needed to find the person; one given must be a name.
	if name := strings.TrimSpace(subject.Name); name != "" && !rec.ValidName(name) {
		pr.Add("subject.name", "format", "%s", rec.NameFormat)
	}
	purpose = strings.TrimSpace(purpose)
	switch {
	case purpose == "":
		pr.Add("purpose", "required", "state the purpose of this check")
	case utf8.RuneCountInString(purpose) > profile.MaxPurpose:
		pr.Add("purpose", "too_long", "at most %d characters", profile.MaxPurpose)
	case !rec.PrintableText(purpose):
		pr.Add("purpose", "format", rec.DoesNotPrint)
	}
	purpose = identity.MaskAbout(purpose, strings.TrimSpace(subject.Name))
	key, doc, err := c.Profiles.Subject(subject.IDType, subject.IDNumber)
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			for _, d := range e.Details {
				pr.Add("subject."+d.Field, d.Code, "%s", d.Message)
			}
		}
		if len(pr) == 0 {
			return Result{}, err
		}
	}
	if err := pr.Err("the check is not valid"); err != nil {
		return Result{}, err
	}
	now := c.Clock.Now().UTC().Truncate(time.Microsecond)
	facts, entries, sealedName, err := c.facts(ctx, key, doc, now)
	if err != nil {
		return Result{}, err
	}
	// The purpose is kept in clear in the person's access log: the name
	// the platform knows is masked in it too, given or not (the clerk has
	// the person and the card at the counter).
	known, err := c.Records.OpenName(key, sealedName)
	if err != nil {
		return Result{}, err
	}
	purpose = identity.MaskNameIn(purpose, known)
	hits, err := c.Measures.Evaluate(ctx, matter, facts)
	if err != nil {
		return Result{}, err
	}
	ch := Check{ID: ids.New(now), Dept: p.ID, SubjectKey: key, Matter: matter, Purpose: purpose, At: now, Measures: []CheckedMeasure{}}
	for _, h := range hits {
		ch.Measures = append(ch.Measures, CheckedMeasure{Code: h.Measure.Code, Kind: h.Measure.Kind, Because: h.Because})
	}
	// The access event names what the department was shown.
	res := c.disclose(p, facts, entries, ch.Measures)
	items, shownIDs := []string{}, []string{}
	for _, r := range res.Facts.Records {
		shownIDs = append(shownIDs, r.ID)
		if !slices.Contains(items, r.Item) {
			items = append(items, r.Item)
		}
	}
	// The answer leaves only once the check and its access event are stored.
	ev := c.Access.Prepare(access.Event{Principal: p.Kind, Actor: p.ID, SubjectKey: key, Action: access.Check,
		Purpose: purpose, Authority: "counter check for " + matter + " (check " + ch.ID + ")", Records: shownIDs, Items: items})
	if err := c.Store.CreateCheck(ctx, ch.Seal(), ev); err != nil {
		return Result{}, err
	}
	res.Check, res.Person = ch, doc
	return res, nil
}

// Standing is what a check is decided on: a person's records, their
// payloads left out, and list entries (listing.Store.EntriesBySubject),
// each in id order, and the person's sealed name (nil when the platform
// does not know them), which the check masks in its purpose.
type Standing struct {
	Records    []rec.Stored
	Entries    []listing.Entry
	SealedName []byte
}

// Facts reads what the measures' conditions see of a person now, as a
// check reads them, without storing anything (a check is the recorded,
// authorized way to use them: this serves measurement and the tests).
func (c *Checker) Facts(ctx context.Context, subject rec.Subject) (Facts, error) {
	key, doc, err := c.Profiles.Subject(subject.IDType, subject.IDNumber)
	if err != nil {
		return Facts{}, err
	}
	f, _, _, err := c.facts(ctx, key, doc, c.Clock.Now().UTC())
	return f, err
}

// facts gathers what measures may rest on: active list entries, records in
// use (displayed, not revoked), clean years and age. Expired and revoked
// records are never grounds.
func (c *Checker) facts(ctx context.Context, key []byte, doc identity.Document, now time.Time) (Facts, []listing.Entry, []byte, error) {
	today := c.Records.Today()
	f := Facts{Now: now, CleanYears: noNegativeRecord}
	if age, ok := doc.AgeOn(today); ok {
		f.Age = age
	}
	st, err := c.Store.Standing(ctx, key)
	if err != nil {
		return f, nil, nil, err
	}
	stored, all := st.Records, st.Entries
	entries, err := c.Lists.ActiveAmong(ctx, all, stored)
	if err != nil {
		return f, nil, nil, err
	}
	for _, e := range entries {
		t, _ := c.Lists.Types.Type(e.List)
		le := ListEntry{ID: e.ID, Code: e.List, Since: e.ActiveFrom.Time(time.UTC)}
		if t != nil {
			le.Kind = string(t.Kind)
		}
		if !e.Until.IsZero() {
			le.Until = e.Until.Time(time.UTC)
		}
		f.Lists = append(f.Lists, le)
	}
	// The record of an entry is in use while the entry is on its list: not
	// while it is noticed, nor once it is removed (performed, repaired).
	onList := make(map[string]bool, len(all)) // record id -> its entry is on its list
	for _, e := range all {
		onList[e.RecordID] = false
	}
	for _, e := range entries {
		onList[e.RecordID] = true
	}
	var lastNegative clock.Date
	for _, st := range stored {
		if st.Window.StateOn(st.Status, today) != rec.InDisplay {
			continue
		}
		if on, isEntry := onList[st.ID]; isEntry && !on {
			continue
		}
		it, ok := c.Records.Catalog.Item(st.Item)
		if !ok {
			continue
		}
		f.Records = append(f.Records, RecordFact{ID: st.ID, Item: st.Item, Polarity: string(it.Polarity),
			Severity: string(st.Severity), DecidedOn: st.Window.From.Time(time.UTC)})
		if it.Polarity == catalog.Negative && st.Window.From.After(lastNegative) {
			lastNegative = st.Window.From
		}
	}
	if !lastNegative.IsZero() {
		f.CleanYears = wholeYears(lastNegative, today)
	}
	return f, entries, st.SealedName, nil
}

// noNegativeRecord is clean_years for a person with no negative record in
// use: far more than any condition asks for.
const noNegativeRecord = 100

// wholeYears is the number of whole years from a to b.
func wholeYears(a, b clock.Date) int {
	y := b.Year - a.Year
	if b.Month < a.Month || (b.Month == a.Month && b.Day < a.Day) {
		y--
	}
	return max(y, 0)
}

// FeedbackItem is one result reported by the checking department.
type FeedbackItem struct {
	Measure string `json:"measure"`
	Applied *bool  `json:"applied"`
	Note    string `json:"note,omitempty"`
}

// AddFeedback records what the department did about the measures a check
// returned: once per measure, only by the checking department, only for
// measures the check returned.
// Returns NotFound (also for another department's check), Invalid naming
// each bad result, Conflict when a measure already has feedback.
func (c *Checker) AddFeedback(ctx context.Context, p *auth.Principal, checkID string, results []FeedbackItem) ([]Feedback, error) {
	if err := p.Require(auth.Department); err != nil {
		return nil, err
	}
	ch, err := c.Store.Check(ctx, checkID)
	if errors.Is(err, errs.NotFound) || (err == nil && ch.Dept != p.ID) || !ids.Valid(checkID) {
		return nil, errs.E(errs.NotFound, "no check %q", errs.Clip(checkID, 40))
	}
	if err != nil {
		return nil, err
	}
	var pr errs.Problems
	if len(results) == 0 {
		pr.Add("results", "required", "give at least one result")
	}
	now := c.Clock.Now().UTC().Truncate(time.Microsecond)
	// Notes are kept in clear: the person's name is masked in them, as is
	// what may be an identity number.
	name, err := c.Records.KnownName(ctx, ch.SubjectKey)
	if err != nil {
		return nil, err
	}
	var out []Feedback
	seen := map[string]bool{}
	for i, r := range results {
		path := "results[" + strconv.Itoa(i) + "]"
		returned := slices.ContainsFunc(ch.Measures, func(m CheckedMeasure) bool { return m.Code == r.Measure })
		switch {
		case r.Measure == "":
			pr.Add(path+".measure", "required", "the measure code is required")
		case !returned:
			pr.Add(path+".measure", "not_returned", "measure %s was not returned by check %s", errs.Clip(r.Measure, 40), ch.ID)
		case seen[r.Measure]:
			pr.Add(path+".measure", "duplicate", "measure %s is reported twice", r.Measure)
		}
		seen[r.Measure] = true
		if r.Applied == nil {
			pr.Add(path+".applied", "required", "say whether the measure was applied (true or false)")
		}
		switch {
		case utf8.RuneCountInString(r.Note) > 2000:
			pr.Add(path+".note", "too_long", "at most 2000 characters")
		case !rec.PrintableText(r.Note):
			pr.Add(path+".note", "format", rec.DoesNotPrint)
		}
		if r.Applied != nil {
			out = append(out, Feedback{CheckID: ch.ID, Measure: r.Measure, Dept: p.ID, Applied: *r.Applied, Note: identity.MaskAbout(strings.TrimSpace(r.Note), name), At: now}.Seal())
		}
	}
	if err := pr.Err("the feedback is not valid"); err != nil {
		return nil, err
	}
	if err := c.Store.AddFeedback(ctx, out); err != nil {
		if errors.Is(err, errs.Conflict) {
			return nil, c.feedbackGiven(ctx, ch.ID, out, err)
		}
		return nil, err
	}
	return out, nil
}

// feedbackGiven names the measures of fs that already have feedback, in
// the Conflict err a store reported.
func (c *Checker) feedbackGiven(ctx context.Context, checkID string, fs []Feedback, err error) error {
	had, rerr := c.Store.Feedback(ctx, checkID)
	if rerr != nil {
		return err
	}
	// fs holds every result, in order: they all passed validation.
	var given []string
	var details []errs.FieldError
	for j, f := range fs {
		if i := slices.IndexFunc(had, func(h Feedback) bool { return h.Measure == f.Measure }); i >= 0 {
			g := fmt.Sprintf("%s (applied: %v, on %s)", f.Measure, had[i].Applied, had[i].At.In(c.Records.Location).Format(time.DateOnly))
			given = append(given, g)
			details = append(details, errs.FieldError{Field: "results[" + strconv.Itoa(j) + "].measure", Code: "already_given", Message: "feedback was already given on " + g})
		}
	}
	if len(given) == 0 {
		return err
	}
	return errs.FieldsOf(errs.Conflict, fmt.Sprintf("feedback was already given on %s; it is given once per measure", strings.Join(given, ", ")), details...)
}

// Stat is one row of the measure statistics.
type Stat struct {
	Dept        string `json:"department"`
	Measure     string `json:"measure"`
	Checks      int    `json:"checks"`   // checks made by the department in the period for the measure's matters
	Returned    int    `json:"returned"` // times the measure was returned
	Feedback    int    `json:"feedback"` // of those, with feedback
	Applied     int    `json:"applied"`
	NotApplied  int    `json:"not_applied"`
	OverdueOpen int    `json:"overdue"` // without feedback past the deadline
}

// CheckKey is a department and a matter it checks people for.
type CheckKey struct{ Dept, Matter string }

// DeptChecks is how many checks a department made in a period, whatever
// they returned.
type DeptChecks struct {
	Dept   string `json:"department"`
	Checks int    `json:"checks"`
}

// Stats counts, per department and measure, the checks, the measures
// returned, the feedback given, how often measures were applied, and the
// feedback overdue (none after FeedbackDays working days); and per
// department the checks, those that returned no measure included.
// Departments see their own rows; auditors and operators every row.
func (c *Checker) Stats(ctx context.Context, p *auth.Principal, from, to time.Time) ([]Stat, []DeptChecks, error) {
	if err := p.Require(auth.Department, auth.Auditor, auth.Operator); err != nil {
		return nil, nil, err
	}
	counts, err := c.Store.CheckCounts(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	perDept := map[string]int{}
	for k, n := range counts {
		perDept[k.Dept] += n
	}
	totals := []DeptChecks{}
	for d, n := range perDept {
		if p.Kind != auth.Department || d == p.ID {
			totals = append(totals, DeptChecks{Dept: d, Checks: n})
		}
	}
	slices.SortFunc(totals, func(a, b DeptChecks) int { return strings.Compare(a.Dept, b.Dept) })
	today := c.Records.Today()
	rows := map[[2]string]*Stat{}
	var order [][2]string
	err = c.Store.ReturnedMeasures(ctx, from, to, func(r Returned) error {
		if p.Kind == auth.Department && r.Dept != p.ID {
			return nil
		}
		k := [2]string{r.Dept, r.Measure}
		st, ok := rows[k]
		if !ok {
			st = &Stat{Dept: r.Dept, Measure: r.Measure}
			if m, ok := c.Measures.Measure(r.Measure); ok {
				for _, mt := range m.Matters {
					st.Checks += counts[CheckKey{r.Dept, mt}]
				}
			}
			rows[k] = st
			order = append(order, k)
		}
		st.Returned++
		switch {
		case r.Feedback == nil:
			due, err := c.Calendar.AddWorkingDays(clock.DateOf(r.At.In(c.Records.Location)), c.FeedbackDays)
			if err == nil && today.After(due) {
				st.OverdueOpen++
			}
		case *r.Feedback:
			st.Feedback++
			st.Applied++
		default:
			st.Feedback++
			st.NotApplied++
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(order, func(a, b [2]string) int {
		if a[0] != b[0] {
			return strings.Compare(a[0], b[0])
		}
		return strings.Compare(a[1], b[1])
	})
	out := make([]Stat, 0, len(order))
	for _, k := range order {
		out = append(out, *rows[k])
	}
	return out, totals, nil
}
