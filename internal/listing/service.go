package listing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/ids"
	"pubcredit/internal/record"
)

// Calendar counts working days (satisfied by *clock.Calendar).
type Calendar interface {
	AddWorkingDays(from clock.Date, n int) (clock.Date, error)
}

// Service runs the lists.
type Service struct {
	Types    *Types
	Store    Store
	Records  *record.Service
	Calendar Calendar
	Clock    clock.Clock

	sweepMu   sync.Mutex
	lastSweep time.Time // of the red lists, by endRedEntries

	nudgeOnce sync.Once
	nudges    chan []byte // subjects with a new serious negative record
}

// Nudge tells the background job (Run) that a person has a new serious
// negative record: their red-list entries end at once, not at the next
// sweep. It never blocks: when too many are pending, the sweep catches up.
func (s *Service) Nudge(subjectKey []byte) {
	select {
	case s.nudgeChan() <- subjectKey:
	default:
	}
}

func (s *Service) nudgeChan() chan []byte {
	s.nudgeOnce.Do(func() { s.nudges = make(chan []byte, 1024) })
	return s.nudges
}

// redSweepEvery spaces the sweeps of the red lists: each reads the records
// of every person on one, and checks do not wait for it (ActiveAmong).
const redSweepEvery = 15 * time.Minute

// EntryRequest is what an owning department sends to put a person on a list.
type EntryRequest struct {
	Ref        string         `json:"ref"`
	Subject    record.Subject `json:"subject"`
	DecidedOn  string         `json:"decided_on"`
	DocumentNo string         `json:"document_no"`
	Grounds    any            `json:"grounds"` // a code, a name, or a list of them
	Basis      string         `json:"basis"`
	Until      string         `json:"until,omitempty"`
	Fields     map[string]any `json:"fields,omitempty"`   // further fields of the list's catalog item
	Severity   string         `json:"severity,omitempty"` // as a record submission states it; the item's rules decide
}

// Type returns a list type, or NotFound naming the known codes.
func (s *Service) Type(code string) (*Type, error) {
	t, ok := s.Types.Type(code)
	if !ok {
		return nil, s.Types.unknown(code)
	}
	return t, nil
}

// owner returns the list type when p owns it.
func (s *Service) owner(p *auth.Principal, code string) (*Type, error) {
	if err := p.Require(auth.Department); err != nil {
		return nil, err
	}
	t, err := s.Type(code)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(p.Lists, t.Code) {
		return nil, errs.E(errs.Forbidden, "department %s does not own list %s", p.ID, t.Code)
	}
	return t, nil
}

// Enter puts a person on a list: it creates the record of the list's item
// and the entry. Idempotent on (department, ref): the same request again
// returns the entry with created false.
// Returns NotFound for an unknown list, Forbidden when p does not own it,
// Invalid listing every problem (grounds not the list's, a minor on a list
// that forbids it, a bad until...), Conflict when the ref is used otherwise.
func (s *Service) Enter(ctx context.Context, p *auth.Principal, code string, req EntryRequest) (Entry, bool, error) {
	t, err := s.owner(p, code)
	if err != nil {
		return Entry{}, false, err
	}
	_, e, created, err := s.enter(ctx, p, t, req)
	return e, created, err
}

// ListOf returns the list whose entry a stored record is, if any, while the
// entry is noticed or active: once it is removed, its record is a record
// like any other (a decision quashed after the person performed is still
// revoked).
func (s *Service) ListOf(ctx context.Context, st record.Stored) (string, bool, error) {
	if _, listed := s.Types.OfItem(st.Item); !listed {
		return "", false, nil
	}
	all, err := s.Store.EntriesBySubject(ctx, st.SubjectKey)
	if err != nil {
		return "", false, err
	}
	for _, e := range all {
		if e.RecordID == st.ID && e.Status != Removed {
			return e.List, true, nil
		}
	}
	return "", false, nil
}

// NoticedRecords returns the ids of a person's records that are the records
// of entries still in their notice period: the listing is not in effect
// yet, and the person may still be heard.
func (s *Service) NoticedRecords(ctx context.Context, subjectKey []byte) (map[string]bool, error) {
	all, err := s.Store.EntriesBySubject(ctx, subjectKey)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool)
	for _, e := range all {
		if e.Status == Noticed {
			out[e.RecordID] = true
		}
	}
	return out, nil
}

// EnterRecord puts a person on the list a record submission's item backs
// (POST /api/v1/records of SXBZXR...): the list's record is its entry, so
// it is made as Enter makes it, the document number, grounds and basis
// taken from the item's fields. It returns the record and the entry;
// problems are named as the submission's fields. Returns NotFound when the
// item backs no list, otherwise as Enter.
func (s *Service) EnterRecord(ctx context.Context, p *auth.Principal, sub record.Submission) (record.Record, Entry, bool, error) {
	code, ok := s.Types.OfItem(strings.TrimSpace(sub.Item))
	if !ok {
		return record.Record{}, Entry{}, false, errs.E(errs.NotFound, "item %s backs no list", errs.Clip(sub.Item, 40))
	}
	t, err := s.owner(p, code)
	if err != nil {
		return record.Record{}, Entry{}, false, err
	}
	req := EntryRequest{Ref: sub.Ref, Subject: sub.Subject, DecidedOn: sub.DecidedOn, Severity: sub.Severity, Fields: map[string]any{}}
	for k, v := range sub.Fields {
		switch t.entryField(k) {
		case "document_no":
			req.DocumentNo, _ = v.(string)
		case "grounds":
			req.Grounds = v
		case "basis":
			req.Basis, _ = v.(string)
		default:
			req.Fields[k] = v
		}
	}
	// Problems are named as the submission names them: its fields.
	names := map[string]string{}
	for key, field := range t.fieldsOfEntry() {
		names[key] = "fields." + field
	}
	rec, e, created, err := s.enter(ctx, p, t, req)
	return rec, e, created, renameFields(err, names)
}

// enter makes the record and the entry of a request on t, which p owns.
func (s *Service) enter(ctx context.Context, p *auth.Principal, t *Type, req EntryRequest) (record.Record, Entry, bool, error) {
	it := t.CatalogItem()
	now := s.Clock.Now().UTC().Truncate(time.Microsecond)
	today := s.Records.Today()

	var pr errs.Problems
	for k := range req.Fields {
		if as := t.entryField(k); as != "" {
			pr.Add("fields."+k, "duplicate", "the entry's %s is given as %s, not among the fields", k, as)
		}
	}
	grounds := s.grounds(t, req.Grounds, &pr)
	decided, derr := record.ParseDay(req.DecidedOn) // the forms a record's decided_on takes
	switch {
	case strings.TrimSpace(req.DecidedOn) == "":
		pr.Add("decided_on", "required", "the date of the listing decision is required (YYYY-MM-DD)")
	case derr != nil:
		pr.Add("decided_on", "format", "%v", derr)
	}
	// The first day on the list: after the notice period, if any.
	activeFrom, aerr := today, error(nil)
	if t.NoticeDays > 0 {
		activeFrom, aerr = s.Calendar.AddWorkingDays(today, t.NoticeDays)
	}
	until := clock.Date{}
	switch {
	case req.Until != "":
		u, err := record.ParseDay(req.Until)
		if err != nil {
			pr.Add("until", "format", "until must be a date YYYY-MM-DD")
			break
		}
		until = u
		if derr == nil && t.DurationMonths > 0 {
			if limit := decided.AddMonths(t.DurationMonths + t.ExtensionMonths); until.After(limit) {
				pr.Add("until", "too_late", "%s entries last at most %d months (%d, extendable by %d): until %s at the latest", t.Code, t.DurationMonths+t.ExtensionMonths, t.DurationMonths, t.ExtensionMonths, limit)
			}
		}
		if derr == nil && aerr == nil {
			if earliest, ok := t.EarliestUntil(decided, activeFrom); ok && until.Before(earliest) {
				if t.EarliestRemoval > 0 && earliest == activeFrom.AddMonths(t.EarliestRemoval) {
					pr.Add("until", "too_early", "%s entries can end early only after %d months on the list (in effect from %s): until %s at the earliest", t.Code, t.EarliestRemoval, activeFrom, earliest)
				} else {
					pr.Add("until", "too_early", "%s entries last %d months from the decision and cannot be shortened: until %s at the earliest", t.Code, t.DurationMonths, earliest)
				}
			}
		}
	case derr == nil && t.DurationMonths > 0:
		until = decided.AddMonths(t.DurationMonths)
	}
	untilField := "until" // or the decision date it was counted from
	if req.Until == "" {
		untilField = "decided_on"
	}
	switch {
	case until.IsZero():
	case !until.After(today):
		pr.Add(untilField, "past", "the entry would already have ended on %s", until)
	case t.NoticeDays > 0 && aerr == nil && !until.After(activeFrom):
		pr.Add(untilField, "before_active", "the entry would end on %s, before its notice period ends on %s: it would never be in effect", until, activeFrom)
	}
	switch {
	case strings.TrimSpace(req.DocumentNo) == "":
		pr.Add("document_no", "required", "the number of the document that decided the listing is required")
	case !record.PrintableLine(req.DocumentNo):
		pr.Add("document_no", "format", record.DoesNotPrint)
	case identity.InText(req.DocumentNo):
		pr.Add("document_no", "identity_number", "the document number carries an identity number; an entry's document number and basis are kept in clear, and published where the list is")
	case namedIn(req.DocumentNo, req.Subject.Name):
		pr.Add("document_no", "name", "the document number carries the person's name; an entry's document number and basis are kept in clear, and published where the list is")
	}
	switch {
	case !record.PrintableText(req.Basis):
		pr.Add("basis", "format", record.DoesNotPrint)
	case identity.InText(req.Basis):
		pr.Add("basis", "identity_number", "the basis carries an identity number; an entry's document number and basis are kept in clear")
	case namedIn(req.Basis, req.Subject.Name):
		pr.Add("basis", "name", "the basis carries the person's name; an entry's document number and basis are kept in clear")
	}
	if utf8.RuneCountInString(req.Basis) > 2000 {
		pr.Add("basis", "too_long", "at most 2000 characters")
	}
	// The person, named with the other problems (the record service
	// checks them again, with the rest of the record).
	key, _, kerr := s.Records.SubjectKeyOf(req.Subject.IDType, req.Subject.IDNumber)
	var ke *errs.Error
	if errors.As(kerr, &ke) {
		for _, d := range ke.Details {
			pr.Add("subject."+d.Field, d.Code, "%s", d.Message)
		}
	}
	if t.Kind == Red && derr == nil && kerr == nil {
		// A red list is left on any new serious negative record: one the
		// person already has keeps them off it.
		recs, err := s.Records.Store.RecordsBySubject(ctx, key)
		if err != nil {
			return record.Record{}, Entry{}, false, err
		}
		entries, err := s.Store.EntriesBySubject(ctx, key)
		if err != nil {
			return record.Record{}, Entry{}, false, err
		}
		if r, ok := s.disqualifier(Entry{List: t.Code, DecidedOn: decided}, recs, entries); ok {
			pr.Add("subject", "disqualified", "the person has a serious negative record (%s, decided on %s) on or after the listing decision: %s is left on any new serious negative record", r.Item, r.Window.From, t.Code)
		}
	}
	// The record of the list's item, through the record service.
	fields := map[string]any{}
	for k, v := range req.Fields {
		fields[k] = v
	}
	fields[t.DocumentField] = strings.TrimSpace(req.DocumentNo)
	fields[t.GroundsField] = grounds
	if t.BasisField != "" && req.Basis != "" {
		fields[t.BasisField] = req.Basis
	}
	if t.DepartmentField != "" && fields[t.DepartmentField] == nil {
		fields[t.DepartmentField] = p.Name
	}
	if uf := it.Display.UntilField; uf != "" && !until.IsZero() && fields[uf] == nil {
		fields[uf] = until.AddDays(-1).String()
	}
	submitter := *p
	submitter.Submit, submitter.ForList = []string{it.Code}, t.Code // owning a list is the right to record its item
	sub := record.Submission{Ref: req.Ref, Item: it.Code, Subject: req.Subject, DecidedOn: req.DecidedOn, Severity: req.Severity, Fields: fields}
	if len(pr) > 0 {
		// The record's problems (the person's identity or age, its
		// fields) are reported with the entry's, at once.
		if b, err := s.Records.Prepare(&submitter, []record.Submission{sub}); err == nil {
			pr = withNew(pr, asEntryFields(minorError(b.Err(0), t), t))
		}
		// The person's problems (added after the entry's) first, so
		// that a flood of bad grounds cannot push them past the cap.
		return record.Record{}, Entry{}, false, record.PersonFirst(pr).Err("the list entry is not valid")
	}
	res, err := s.Records.Submit(ctx, &submitter, sub)
	if errors.Is(err, errs.Conflict) {
		// Not "correct it with PUT": the record of an entry changes only
		// through the entry.
		return record.Record{}, Entry{}, false, errs.On(errs.Conflict, "ref", "conflict", "ref %q is already used by your department with other content, on a list or by a record (a department's refs are unique across its records and list entries): to change an entry, remove it (reason revoked) and enter it anew under another ref", errs.Clip(req.Ref, 60))
	}
	if err != nil {
		return record.Record{}, Entry{}, false, asEntryFields(minorError(err, t), t)
	}
	rec := res.Record

	e := Entry{
		ID: ids.New(now), List: t.Code, Dept: p.ID, Ref: rec.Ref, RecordID: rec.ID, SubjectKey: rec.SubjectKey,
		Status: Active, Version: 1, DecidedOn: rec.Content.DecidedOn, ActiveFrom: today, Until: until,
		Grounds: grounds, DocumentNo: strings.TrimSpace(req.DocumentNo), Basis: req.Basis, CreatedAt: now, UpdatedAt: now,
	}
	if t.NoticeDays > 0 {
		if aerr != nil {
			return record.Record{}, Entry{}, false, aerr
		}
		e.Status, e.ActiveFrom = Noticed, activeFrom
	}
	e.seal(now)
	stored, created, err := s.Store.CreateEntry(ctx, e)
	if err != nil {
		return record.Record{}, Entry{}, false, err
	}
	if !created && (stored.RecordID != rec.ID || stored.List != e.List || stored.Until != e.Until || stored.Basis != e.Basis ||
		stored.DocumentNo != e.DocumentNo || !slices.Equal(stored.Grounds, e.Grounds)) {
		return record.Record{}, Entry{}, false, errs.On(errs.Conflict, "ref", "conflict", "ref %q is already used by entry %s with other content", rec.Ref, stored.ID)
	}
	return rec, stored, created, nil
}

// withNew adds to pr the problems err names on fields pr does not name.
func withNew(pr errs.Problems, err error) errs.Problems {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		return pr
	}
	for _, d := range e.Details {
		if !slices.ContainsFunc(pr, func(p errs.FieldError) bool { return p.Field == d.Field }) {
			pr = append(pr, d)
		}
	}
	return pr
}

// namedIn reports whether text carries the person's name (of two
// characters or more: MaskNameIn leaves one alone too).
func namedIn(text, name string) bool {
	return identity.MaskNameIn(text, name) != text
}

// asEntryFields names the record's fields that carry an entry's own values
// (document number, grounds, basis) as the entry request does, and says
// the list entry is not valid where the record service said the record.
func asEntryFields(err error, t *Type) error {
	names := map[string]string{}
	for key, field := range t.fieldsOfEntry() {
		names["fields."+field] = key
	}
	err = renameFields(err, names)
	if errs.KindOf(err) == errs.Invalid {
		return errs.Retitle(err, "the list entry is not valid")
	}
	return err
}

// renameFields renames the fields the details of an error name, by names.
func renameFields(err error, names map[string]string) error {
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Details) == 0 {
		return err
	}
	c := *e
	c.Details = slices.Clone(e.Details)
	for i, d := range c.Details {
		if f, ok := names[d.Field]; ok {
			c.Details[i].Field = f
		}
	}
	return &c
}

// minorError names the person's age as the reason a list that never takes
// minors refused them.
func minorError(err error, t *Type) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.Invalid && t.NeverMinors() {
		for i, d := range e.Details {
			if d.Code == "minor" {
				c := *e
				c.Details = slices.Clone(e.Details)
				c.Details[i].Message = fmt.Sprintf("minors are never put on the list %s: %s", t.Code, d.Message)
				return &c
			}
		}
	}
	return err
}

// grounds checks the stated grounds against the list's and returns their codes.
func (s *Service) grounds(t *Type, raw any, pr *errs.Problems) []string {
	var given []string
	switch v := raw.(type) {
	case string:
		for _, g := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune("、，,;；|", r) }) {
			given = append(given, strings.TrimSpace(g))
		}
	case []any:
		for i, g := range v {
			s, ok := g.(string)
			if !ok {
				pr.Add(fmt.Sprintf("grounds[%d]", i), "type", "each ground must be a code, a name or an alias (text)")
				return nil
			}
			given = append(given, strings.TrimSpace(s))
		}
	case nil:
	default:
		pr.Add("grounds", "type", "grounds must be a code or a list of codes")
		return nil
	}
	if len(given) == 0 {
		pr.Add("grounds", "required", "the grounds for listing are required (one of: %s)", strings.Join(groundCodes(t), ", "))
		return nil
	}
	var out []string
	for _, g := range given {
		code, ok := "", false
		for _, v := range t.Grounds() {
			if g == v.Code || g == v.Name.Zh || strings.EqualFold(g, v.Name.En) || slices.Contains(v.Aliases, g) {
				code, ok = v.Code, true
			}
		}
		if !ok {
			pr.Add("grounds", "not_allowed", "%q is not a ground of list %s (its grounds: %s)", errs.Clip(g, 40), t.Code, strings.Join(groundCodes(t), ", "))
			continue
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	return out
}

func groundCodes(t *Type) []string {
	var out []string
	for _, v := range t.Grounds() {
		out = append(out, v.Code)
	}
	return out
}

// Remove takes an entry off its list. The same removal again (reason and
// note) answers the removed entry, finishing what a removal cut short did
// not (a client's retry after a lost answer). Returns NotFound (also for
// another department's entry), Invalid for a bad reason, Conflict when it
// was removed otherwise or early removal is not yet possible.
func (s *Service) Remove(ctx context.Context, p *auth.Principal, code, id, reason, note string) (Entry, error) {
	t, err := s.owner(p, code)
	if err != nil {
		return Entry{}, err
	}
	e, err := s.Store.Entry(ctx, id)
	if errors.Is(err, errs.NotFound) || (err == nil && (e.List != t.Code || e.Dept != p.ID)) {
		return Entry{}, errs.E(errs.NotFound, "no entry %q on list %s", errs.Clip(id, 40), t.Code)
	}
	if err != nil {
		return Entry{}, err
	}
	reason = strings.TrimSpace(reason)
	if !slices.Contains(Reasons, reason) {
		code := "not_allowed"
		if reason == "" {
			code = "required"
		}
		return Entry{}, errs.Fields("the removal is not valid", errs.FieldError{Field: "reason", Code: code,
			Message: fmt.Sprintf("reason must be one of: %s", strings.Join(Reasons, ", "))})
	}
	switch {
	case utf8.RuneCountInString(note) > 2000:
		return Entry{}, errs.Fields("the removal is not valid", errs.FieldError{Field: "note", Code: "too_long", Message: "at most 2000 characters"})
	case !record.PrintableText(note):
		return Entry{}, errs.Fields("the removal is not valid", errs.FieldError{Field: "note", Code: "format", Message: record.DoesNotPrint})
	}
	// The note is kept in clear: the person's name is masked in it, as is
	// what may be an identity number.
	c, _, err := s.content(ctx, e)
	if err != nil {
		return Entry{}, err
	}
	note = identity.MaskAbout(strings.TrimSpace(note), c.Name)
	if e.Status == Removed {
		if e.Removal != nil && e.Removal.Reason == reason && e.Removal.Note == note {
			return e, s.afterRemoval(ctx, p, t, e)
		}
		return Entry{}, errs.E(errs.Conflict, "entry %s was already removed (%s)", id, e.Removal.Reason)
	}
	today := s.Records.Today()
	if reason == Expired && (e.Until.IsZero() || today.Before(e.Until)) {
		term := "has no end"
		if !e.Until.IsZero() {
			term = "ends on " + e.Until.String()
		}
		return Entry{}, errs.Fields("the removal is not valid", errs.FieldError{Field: "reason", Code: "not_expired",
			Message: fmt.Sprintf("the entry's term %s: it cannot be removed as expired before then", term)})
	}
	if reason == Repaired && !t.CatalogItem().Repairable {
		return Entry{}, errs.Fields("the removal is not valid", errs.FieldError{Field: "reason", Code: "not_repairable",
			Message: fmt.Sprintf("%s cannot be repaired (its item %s is not repairable): remove the entry as performed, revoked, expired or other", t.Code, t.Item)})
	}
	if reason == Repaired && t.EarliestRemoval > 0 {
		if earliest := e.ActiveFrom.AddMonths(t.EarliestRemoval); e.Status == Noticed || today.Before(earliest) {
			return Entry{}, errs.On(errs.Conflict, "reason", "too_early", "entries of %s can be removed early from %s (%d months on the list)", t.Code, earliest, t.EarliestRemoval)
		}
	}
	removed, err := s.transition(ctx, e, Removed, &Removal{Reason: reason, Note: note})
	if err != nil {
		return Entry{}, err
	}
	if err := s.afterRemoval(ctx, p, t, removed); err != nil {
		return Entry{}, err
	}
	return removed, nil
}

// afterRemoval does to the record of removed entry e what its reason asks.
// Each step leaves alone a record it was done to already.
func (s *Service) afterRemoval(ctx context.Context, p *auth.Principal, t *Type, e Entry) error {
	owner := *p
	owner.ForList = t.Code
	switch reason := e.Removal.Reason; reason {
	case Revoked: // the decision was overturned: its record goes too
		basis := e.Removal.Note
		if basis == "" {
			basis = "list entry revoked"
		}
		if _, err := s.Records.Revoke(ctx, &owner, e.RecordID, "list entry revoked", basis); err != nil && !errors.Is(err, errs.Conflict) {
			return err
		}
	case Performed, Repaired: // display and sharing stop (DOMAIN.md sections 5 and 7)
		if _, err := s.Records.EndDisplay(ctx, &owner, e.RecordID, "list entry removed: "+reason); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) transition(ctx context.Context, e Entry, to Status, removal *Removal) (Entry, error) {
	now := s.Clock.Now().UTC().Truncate(time.Microsecond)
	e.Status, e.Version, e.UpdatedAt = to, e.Version+1, now
	if removal != nil {
		removal.At = now
		e.Removal = removal
	}
	e.seal(now)
	if err := s.Store.UpdateEntry(ctx, e); err != nil {
		return Entry{}, err
	}
	// The store places the new version's leaf; read it back for its index.
	return s.Store.Entry(ctx, e.ID)
}

// Advance moves every due entry on: noticed entries become active when
// their notice period is over, active entries with an until leave their
// list when it comes, and red-list entries of people with a new serious
// negative record leave theirs (checks stop using them at once, see
// ActiveAmong). It is what the background job runs; it is driven by the
// stored state, so a restart loses nothing. Returns how many moved.
func (s *Service) Advance(ctx context.Context) (int, error) {
	moved, err := s.advanceDue(ctx)
	if err != nil {
		return moved, err
	}
	ended, err := s.endRedEntries(ctx)
	return moved + ended, err
}

// endRedEntries takes off their lists the red-list entries of people with
// a new serious negative record.
func (s *Service) endRedEntries(ctx context.Context) (int, error) {
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	now := s.Clock.Now()
	if !s.lastSweep.IsZero() && now.Sub(s.lastSweep) < redSweepEvery {
		return 0, nil
	}
	ended, err := s.sweepRedLists(ctx)
	if err == nil {
		s.lastSweep = now
	}
	return ended, err
}

// sweepRedLists does endRedEntries' work.
func (s *Service) sweepRedLists(ctx context.Context) (int, error) {
	ended := 0
	for _, code := range s.Types.Codes() {
		if t, _ := s.Types.Type(code); t.Kind != Red {
			continue
		}
		for _, status := range []Status{Noticed, Active} {
			for after := ""; ; {
				page, err := s.Store.Entries(ctx, code, "", status, after, 500)
				if err != nil {
					return ended, err
				}
				for _, e := range page {
					n, err := s.endRedEntriesOf(ctx, e.SubjectKey)
					if ended += n; err != nil {
						return ended, err
					}
				}
				if len(page) < 500 {
					break
				}
				after = page[len(page)-1].ID
			}
		}
	}
	return ended, nil
}

// endRedEntriesOf ends the red-list entries of one person that a serious
// negative record disqualifies.
func (s *Service) endRedEntriesOf(ctx context.Context, subjectKey []byte) (int, error) {
	all, err := s.Store.EntriesBySubject(ctx, subjectKey)
	if err != nil {
		return 0, err
	}
	return s.endIfDisqualified(ctx, all)
}

// endIfDisqualified removes, with reason negative_record, those of one
// person's entries es (all of them) that are on a red list and that a
// serious negative record of theirs disqualifies.
func (s *Service) endIfDisqualified(ctx context.Context, es []Entry) (int, error) {
	var recs []record.Stored
	ended := 0
	for _, e := range es {
		if t, ok := s.Types.Type(e.List); !ok || t.Kind != Red || e.Status == Removed {
			continue
		}
		if recs == nil {
			var err error
			if recs, err = s.Records.Store.RecordsBySubject(ctx, e.SubjectKey); err != nil {
				return ended, err
			}
		}
		r, ok := s.disqualifier(e, recs, es)
		if !ok {
			continue
		}
		_, err := s.transition(ctx, e, Removed, &Removal{Reason: NegativeRecord, Note: "serious negative record " + r.ID})
		switch {
		case errors.Is(err, errs.Conflict): // another process moved it
		case err != nil:
			return ended, err
		default:
			ended++
		}
	}
	return ended, nil
}

// advanceDue moves on the entries whose day has come.
func (s *Service) advanceDue(ctx context.Context) (int, error) {
	today := s.Records.Today()
	moved := 0
	for {
		due, err := s.Store.DueEntries(ctx, today, 500)
		if err != nil || len(due) == 0 {
			return moved, err
		}
		for _, e := range due {
			var err error
			switch {
			case e.Status == Noticed && !today.Before(e.ActiveFrom):
				if !e.Until.IsZero() && !today.Before(e.Until) {
					_, err = s.transition(ctx, e, Removed, &Removal{Reason: Expired})
				} else {
					_, err = s.transition(ctx, e, Active, nil)
				}
			case e.Status == Active && !e.Until.IsZero() && !today.Before(e.Until):
				_, err = s.transition(ctx, e, Removed, &Removal{Reason: Expired})
			default:
				continue
			}
			if err != nil && !errors.Is(err, errs.Conflict) { // Conflict: another process moved it
				return moved, err
			}
			moved++
		}
	}
}

// Run advances entries every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Advance(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				waiting = false
			case key := <-s.nudgeChan():
				if _, err := s.endRedEntriesOf(ctx, key); err != nil && ctx.Err() == nil {
					report(err)
				}
			}
		}
	}
}

// Entries lists a list's entries for the owning department.
func (s *Service) Entries(ctx context.Context, p *auth.Principal, code string, status Status, after string, limit int) ([]Entry, error) {
	t, err := s.owner(p, code)
	if err != nil {
		return nil, err
	}
	var pr errs.Problems
	if status != "" && status != Noticed && status != Active && status != Removed {
		pr.Add("status", "not_allowed", "status must be noticed, active or removed")
	}
	checkAfter(after, &pr)
	if err := pr.Err("the query is not valid"); err != nil {
		return nil, err
	}
	return s.Store.Entries(ctx, t.Code, p.ID, status, after, limit)
}

// Masked is a listed person as those who are not the person see them.
type Masked struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// MaskedSubjects returns the masked person of each entry, from its record.
func (s *Service) MaskedSubjects(ctx context.Context, entries []Entry) ([]Masked, error) {
	out := make([]Masked, len(entries))
	for i, e := range entries {
		c, _, err := s.content(ctx, e)
		if err != nil {
			return nil, err
		}
		out[i] = Masked{IDType: c.IDType, IDNumber: identity.MaskNumber(c.IDNumber), Name: identity.MaskName(c.Name)}
	}
	return out, nil
}

// content opens the record of an entry.
func (s *Service) content(ctx context.Context, e Entry) (record.Content, record.Stored, error) {
	st, err := s.Records.Store.Record(ctx, e.RecordID)
	if err != nil {
		return record.Content{}, st, err
	}
	recs, err := s.Records.Open([]record.Stored{st})
	if err != nil {
		return record.Content{}, st, err
	}
	return recs[0].Content, st, nil
}

// checkAfter checks a paging cursor: empty or an entry id.
func checkAfter(after string, pr *errs.Problems) {
	if after != "" && !ids.Valid(after) {
		pr.Add("after", "format", "after must be the id of an entry (32 hex characters)")
	}
}

// ActiveAmong returns those of a person's entries all (EntriesBySubject)
// that are on their list today. records are the person's records as the
// caller read them (RecordsBySubject): an entry whose record was revoked
// has no effect, and the record is looked up there before the store; a
// red-list entry a serious negative record ends has none either.
func (s *Service) ActiveAmong(ctx context.Context, all []Entry, records []record.Stored) ([]Entry, error) {
	today := s.Records.Today()
	var out []Entry
	for _, e := range all {
		if e.Status != Active || (!e.Until.IsZero() && !today.Before(e.Until)) {
			continue
		}
		if revoked, err := s.recordRevoked(ctx, e, records); err != nil || revoked {
			if err != nil {
				return nil, err
			}
			continue
		}
		if _, ended := s.disqualifier(e, records, all); ended {
			continue // Advance takes it off its list
		}
		out = append(out, e)
	}
	return out, nil
}

// disqualifier returns the record that ends a red-list entry: a serious
// negative record of the person in display, decided on or after the
// listing decision (DOMAIN.md section 7: a red list is left on any new
// serious negative record). The record of one of the person's entries
// (entries) counts only while that entry is active, as at the counter.
// Black-list entries have none.
func (s *Service) disqualifier(e Entry, records []record.Stored, entries []Entry) (record.Stored, bool) {
	if t, ok := s.Types.Type(e.List); !ok || t.Kind != Red {
		return record.Stored{}, false
	}
	today := s.Records.Today()
	for _, r := range records {
		it, ok := s.Records.Catalog.Item(r.Item)
		if !ok || it.Polarity != catalog.Negative || r.Severity != catalog.Serious || r.Window.From.Before(e.DecidedOn) ||
			r.Window.StateOn(r.Status, today) != record.InDisplay {
			continue
		}
		if slices.ContainsFunc(entries, func(o Entry) bool { return o.RecordID == r.ID && o.Status != Active }) {
			continue // the record of a noticed or removed entry
		}
		return r, true
	}
	return record.Stored{}, false
}

// recordRevoked reports whether the record behind an entry was revoked
// directly (the decision overturned): the entry then has no effect. known
// are records already read.
func (s *Service) recordRevoked(ctx context.Context, e Entry, known []record.Stored) (bool, error) {
	if i := slices.IndexFunc(known, func(r record.Stored) bool { return r.ID == e.RecordID }); i >= 0 {
		return known[i].Status == record.Revoked, nil
	}
	st, err := s.Records.Store.Record(ctx, e.RecordID)
	if err != nil {
		return false, err
	}
	return st.Status == record.Revoked, nil
}

// PublicEntry is one entry of a list published by law, as anyone may see it.
type PublicEntry struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`      // masked
	IDNumber   string         `json:"id_number"` // masked
	Sex        string         `json:"sex,omitempty"`
	Age        *int           `json:"age,omitempty"`
	ActiveFrom clock.Date     `json:"active_from"`
	Until      clock.Date     `json:"until"`
	Grounds    []string       `json:"grounds"`
	DocumentNo string         `json:"document_no"`
	Fields     map[string]any `json:"fields"` // only the list's published fields
}

// Public returns the active entries of a list a law makes public, masked,
// with only its published fields. NotFound for a list that is not published.
func (s *Service) Public(ctx context.Context, code string, after string, limit int) ([]PublicEntry, error) {
	t, err := s.Type(code)
	if err != nil {
		return nil, err
	}
	if !t.Published.ByLaw {
		return nil, errs.E(errs.NotFound, "list %s is not published: no law makes it public", t.Code)
	}
	var pr errs.Problems
	if checkAfter(after, &pr); len(pr) > 0 {
		return nil, pr.Err("the query is not valid")
	}
	entries, err := s.Store.Entries(ctx, t.Code, "", Active, after, limit)
	if err != nil {
		return nil, err
	}
	today := s.Records.Today()
	out := []PublicEntry{}
	for _, e := range entries {
		if !e.Until.IsZero() && !today.Before(e.Until) {
			continue // ended today; the job removes it shortly
		}
		c, st, err := s.content(ctx, e)
		if err != nil {
			return nil, err
		}
		if st.Status == record.Revoked {
			continue
		}
		pe := PublicEntry{ID: e.ID, Name: identity.MaskName(c.Name), IDNumber: identity.MaskNumber(c.IDNumber),
			ActiveFrom: e.ActiveFrom, Until: e.Until, Grounds: e.Grounds, DocumentNo: identity.MaskAbout(e.DocumentNo, c.Name), Fields: map[string]any{}}
		if doc, err := identity.Parse(identity.DocType(c.IDType), c.IDNumber, clock.Date{}); err == nil {
			pe.Sex = doc.Sex
			if age, ok := doc.AgeOn(today); ok {
				pe.Age = &age
			}
		}
		fields := identity.MaskFields(c.Fields, c.Name) // published: no number, no name in clear
		for _, f := range t.Published.Fields {
			if v, ok := fields[f]; ok {
				pe.Fields[f] = v
			}
		}
		out = append(out, pe)
	}
	return out, nil
}
