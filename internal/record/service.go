package record

import (
	"bytes"
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
	"pubcredit/internal/vault"
)

// Service collects and serves credit records.
type Service struct {
	Store      Store
	Catalog    *catalog.Catalog
	Keys       *vault.Keyring
	Clock      clock.Clock
	Location   *time.Location // the city's zone: decision dates are its calendar days
	Thresholds Thresholds
	Access     *access.Log
	// NoLedger switches ledger commitments off. Benchmarks only: it exists
	// to measure what the ledger costs.
	NoLedger bool
	Ledger   *ledger.Log // for receipts
	// EntryOf returns the list whose entry a stored record is, if any
	// (listing.Service.ListOf): such a record is corrected and revoked only
	// through its list (auth.Principal.ForList). Nil: none is.
	EntryOf func(ctx context.Context, st Stored) (list string, ok bool, err error)
	// ListOf returns the list a catalog item backs (listing.Types.OfItem).
	// Its owners record the item only through the list (one entry at a
	// time); departments that may only submit it, as any item. Nil: none.
	ListOf func(item string) (list string, ok bool)
	// SeriousNegative, when set, is told the subject of every serious
	// negative record stored, created or corrected (it ends red-list
	// entries: listing.Service.Nudge). It must not block.
	SeriousNegative func(subjectKey []byte)
}

// tellSerious calls SeriousNegative for st when it is a serious negative
// record.
func (s *Service) tellSerious(st Stored) {
	if s.SeriousNegative == nil || st.Severity != catalog.Serious {
		return
	}
	if it, ok := s.Catalog.Item(st.Item); ok && it.Polarity == catalog.Negative {
		s.SeriousNegative(st.SubjectKey)
	}
}

// Result is the outcome of one submission.
type Result struct {
	Record  Record
	Created bool  // false: an identical record with the same ref already existed
	Err     error // per-row failure in SubmitMany (Invalid, Forbidden or Conflict)
}

// Submit validates and stores one record.
// Returns Forbidden when p may not submit the item, Invalid listing every
// problem, Conflict when the ref is taken by a record with other content.
// A resubmission of identical content returns the existing record with
// Created false.
func (s *Service) Submit(ctx context.Context, p *auth.Principal, sub Submission) (Result, error) {
	res, err := s.SubmitMany(ctx, p, []Submission{sub})
	if err != nil {
		return Result{}, err
	}
	return res[0], res[0].Err
}

// SubmitMany validates and stores several records in one transaction. Rows
// that fail validation carry their error in Result.Err and do not hold back
// the others; a store failure fails the whole call.
func (s *Service) SubmitMany(ctx context.Context, p *auth.Principal, subs []Submission) ([]Result, error) {
	b, err := s.Prepare(p, subs)
	if err != nil {
		return nil, err
	}
	return s.Commit(ctx, b)
}

// Batch is a set of submissions validated and sealed by Prepare, ready for
// Commit. Splitting the two lets a caller prepare the next chunk of a file
// on one core while the previous one is being written.
type Batch struct {
	results  []Result
	subjects []SealedSubject
	stored   []Stored
	versions []Version
	pending  []int       // index into results of each stored record
	dupOf    map[int]int // a row repeating a ref in this batch -> index into stored of its first
}

// Err is the problem Prepare found with submission i, if any.
func (b *Batch) Err(i int) error { return b.results[i].Err }

// Prepare validates and seals submissions without touching the store.
// Returns Forbidden for a principal that is not a department; per-row
// problems wait in the batch for Commit to report.
func (s *Service) Prepare(p *auth.Principal, subs []Submission) (*Batch, error) {
	if err := p.Require(auth.Department); err != nil {
		return nil, err
	}
	now := s.Clock.Now().UTC().Truncate(time.Microsecond) // the precision leaves commit to, and PostgreSQL keeps
	today := clock.DateOf(now.In(s.Location))
	b := &Batch{results: make([]Result, len(subs)), dupOf: map[int]int{},
		subjects: make([]SealedSubject, 0, len(subs)), stored: make([]Stored, 0, len(subs)),
		versions: make([]Version, 0, len(subs)), pending: make([]int, 0, len(subs))}
	firstOf := make(map[string]int, len(subs)) // ref -> index into stored
	pr := newPrep(now)
	for i, sub := range subs {
		rec, st, subj, err := s.prepare(p, sub, today, now, pr)
		if err != nil {
			b.results[i].Err = err
			continue
		}
		if j, dup := firstOf[rec.Ref]; dup {
			if !bytes.Equal(b.stored[j].ContentHash, st.ContentHash) {
				b.results[i].Err = errs.On(errs.Conflict, "ref", "conflict", "ref %q is used twice in this submission with different content", rec.Ref)
			} else {
				b.dupOf[i] = j
			}
			continue
		}
		firstOf[rec.Ref] = len(b.stored)
		b.results[i].Record = rec
		b.subjects = append(b.subjects, subj)
		b.stored = append(b.stored, st)
		v := Version{RecordID: st.ID, Version: 1, Change: Created, At: now, Payload: st.Payload}
		v.sealWith(st, !s.NoLedger, pr)
		b.versions = append(b.versions, v)
		b.pending = append(b.pending, i)
	}
	return b, nil
}

// Commit stores a prepared batch in one transaction and returns one result
// per submission, in order. A store failure fails the whole batch.
func (s *Service) Commit(ctx context.Context, b *Batch) ([]Result, error) {
	results := b.results
	if len(b.stored) == 0 {
		return results, nil
	}
	outcomes, err := s.Store.CreateRecords(ctx, b.subjects, b.stored, b.versions)
	if err != nil {
		return nil, err
	}
	var existing []int
	for j, o := range outcomes {
		i := b.pending[j]
		if o.Created {
			results[i].Created = true
			s.tellSerious(b.stored[j])
			continue
		}
		if !bytes.Equal(o.ExistingHash, b.stored[j].ContentHash) {
			results[i] = Result{Err: errs.On(errs.Conflict, "ref", "conflict", "ref %q is already used by record %s with other content; send corrections with PUT /api/v1/records/%s", b.stored[j].Ref, o.ExistingID, o.ExistingID)}
			continue
		}
		existing = append(existing, i)
		results[i].Record.ID = o.ExistingID
	}
	for _, i := range existing { // identical resubmission: answer with the stored record
		st, err := s.Store.Record(ctx, results[i].Record.ID)
		if err != nil {
			return nil, err
		}
		if results[i].Record, err = s.open(st); err != nil {
			return nil, err
		}
	}
	for i, j := range b.dupOf { // a repeated ref answers like its first row
		results[i] = results[b.pending[j]]
		results[i].Created = false
	}
	return results, nil
}

// prepare validates sub and builds the sealed rows to store.
// pr, which may be nil, is what a batch reuses.
func (s *Service) prepare(p *auth.Principal, sub Submission, today clock.Date, now time.Time, pr *prep) (Record, Stored, SealedSubject, error) {
	it, err := s.item(p, sub.Item)
	if err != nil {
		return Record{}, Stored{}, SealedSubject{}, err
	}
	n := normaliser{item: it, today: today, thresholds: s.Thresholds, scratch: pr.scratch()}
	c, ref, err := n.normalise(sub)
	if err != nil {
		return Record{}, Stored{}, SealedSubject{}, err
	}
	rec := Record{
		ID:         ids.New(now),
		Dept:       p.ID,
		Ref:        ref,
		SubjectKey: s.Keys.SubjectKey(c.IDType, c.IDNumber),
		Version:    1,
		Status:     Active,
		Window:     WindowFor(it, c),
		Content:    c,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	st, err := s.sealWith(rec, pr.fieldNames(it), pr)
	if err != nil {
		return Record{}, Stored{}, SealedSubject{}, err
	}
	return rec, st, s.sealSubject(rec.SubjectKey, c, now), nil
}

// SubjectKeyOf resolves an identity number to its lookup key, validating
// it. Returns Invalid naming id_type or id_number with the reason.
func (s *Service) SubjectKeyOf(idType, number string) ([]byte, identity.Document, error) {
	t, ok := identity.ParseType(idType)
	if !ok {
		return nil, identity.Document{}, errs.Fields("the identity is not valid", errs.FieldError{Field: "id_type", Code: "unknown", Message: "unknown document type"})
	}
	doc, err := identity.Parse(t, number, s.Today())
	var prob *identity.Problem
	if errors.As(err, &prob) {
		return nil, doc, errs.Fields("the identity number is not valid", errs.FieldError{Field: "id_number", Code: prob.Code, Message: prob.Message})
	}
	if err != nil {
		return nil, doc, err
	}
	return s.Keys.SubjectKey(string(doc.Type), doc.Number), doc, nil
}

// item returns the catalog item of a submission that p may submit.
func (s *Service) item(p *auth.Principal, code string) (*catalog.Item, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, errs.Fields(notValid, errs.FieldError{Field: "item", Code: "required", Message: "the catalog item code is required"})
	}
	it, ok := s.Catalog.Item(code)
	if !ok {
		return nil, errs.Fields(notValid, errs.FieldError{Field: "item", Code: "unknown",
			Message: fmt.Sprintf("%s is not in the catalog (known: %s)", Echo(code), strings.Join(s.Catalog.Codes(), ", "))})
	}
	if s.ListOf != nil {
		// A list's owner records its item as entries, one at a time.
		if list, ok := s.ListOf(it.Code); ok && slices.Contains(p.Lists, list) && p.ForList != list {
			return nil, errs.Fields(notValid, errs.FieldError{Field: "item", Code: "listed",
				Message: fmt.Sprintf("department %s owns list %s: its %s records are the list's entries, made one at a time (POST /api/v1/lists/%s/entries or POST /api/v1/records) and changed through the entry", p.ID, list, it.Code, list)})
		}
	}
	if !p.CanSubmit(it.Code) {
		return nil, errs.E(errs.Forbidden, "department %s may not submit records of item %s", p.ID, it.Code)
	}
	return it, nil
}

// viaList refuses a change to a record that is a list entry, unless it
// comes through its list; field names the request field the refusal is on.
func (s *Service) viaList(ctx context.Context, p *auth.Principal, st Stored, field string) error {
	if s.EntryOf == nil {
		return nil
	}
	list, ok, err := s.EntryOf(ctx, st)
	if err != nil || !ok || p.ForList == list {
		return err
	}
	return errs.Fields("the change is not valid", errs.FieldError{Field: field, Code: "listed",
		Message: fmt.Sprintf("record %s is an entry of list %s: it changes only through the entry (/api/v1/lists/%s/entries, removal with reason revoked)", st.ID, list, list)})
}

// recordAAD binds a record's sealed payload to its id and version (notes use
// the negative version), so that a payload moved to another row or version
// does not open.
func recordAAD(id string, version int) []byte {
	b := append(append(make([]byte, 0, 48), "record:"...), id...)
	return strconv.AppendInt(append(b, ':'), int64(version), 10)
}

// subjectAAD binds a person's sealed number and name to their lookup key.
func subjectAAD(key []byte) []byte {
	return hex.AppendEncode(append(make([]byte, 0, 8+2*len(key)), "subject:"...), key)
}

func (s *Service) seal(rec Record) (Stored, error) { return s.sealWith(rec, nil, nil) }

// sealWith is seal with the sorted names the content's fields may have (see
// contentJSON) and what a batch reuses, both of which may be nil.
func (s *Service) sealWith(rec Record, names []string, pr *prep) (Stored, error) {
	canon, err := appendContent(pr.buffer(), rec.Content, names)
	if err != nil {
		return Stored{}, errs.Wrap(errs.Internal, err, "encoding record")
	}
	defer pr.reuse(canon)
	return Stored{
		ID: rec.ID, Dept: rec.Dept, Ref: rec.Ref, Item: rec.Content.Item, SubjectKey: rec.SubjectKey,
		Version: rec.Version, Status: rec.Status, Severity: rec.Content.Severity, Window: rec.Window,
		Payload:     s.Keys.Encrypt(canon, recordAAD(rec.ID, rec.Version)),
		ContentHash: s.Keys.Hash("record-content", canon),
		CreatedAt:   rec.CreatedAt, UpdatedAt: rec.UpdatedAt, Revocation: rec.Revocation,
	}, nil
}

// sealSubject seals the person of c as their subjects row would be stored
// at now, were it new.
func (s *Service) sealSubject(key []byte, c Content, now time.Time) SealedSubject {
	aad := subjectAAD(key)
	return SealedSubject{
		Key: key, IDType: c.IDType,
		Number: s.Keys.Encrypt([]byte(c.IDNumber), aad),
		Name:   s.Keys.Encrypt([]byte(c.Name), aad),
	}.Seal(now, !s.NoLedger)
}

// Open decrypts a stored record.
func (s *Service) open(st Stored) (Record, error) {
	pt, err := s.Keys.Decrypt(st.Payload, recordAAD(st.ID, st.Version))
	if err != nil {
		return Record{}, errs.Wrap(errs.Internal, err, "record %s cannot be decrypted", st.ID)
	}
	var c Content
	dec := json.NewDecoder(bytes.NewReader(pt))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return Record{}, errs.Wrap(errs.Internal, err, "record %s is corrupt", st.ID)
	}
	for k, v := range c.Fields { // lists come back as []any
		if l, ok := v.([]any); ok {
			ss := make([]string, len(l))
			for i, e := range l {
				ss[i], _ = e.(string)
			}
			c.Fields[k] = ss
		}
	}
	return Record{
		ID: st.ID, Dept: st.Dept, Ref: st.Ref, SubjectKey: st.SubjectKey, Version: st.Version,
		Status: st.Status, Window: st.Window, Content: c, Revocation: st.Revocation,
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt,
	}, nil
}

// Open decrypts stored records (for readers such as the integrity file).
func (s *Service) Open(st []Stored) ([]Record, error) {
	out := make([]Record, len(st))
	for i := range st {
		var err error
		if out[i], err = s.open(st[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// own returns the record id if p submitted it; NotFound otherwise, so that
// other departments cannot learn it exists.
func (s *Service) own(ctx context.Context, p *auth.Principal, id string) (Stored, error) {
	if err := p.Require(auth.Department); err != nil {
		return Stored{}, err
	}
	notFound := errs.E(errs.NotFound, "no record %q", errs.Clip(id, 40))
	if !ids.Valid(id) {
		return Stored{}, notFound
	}
	st, err := s.Store.Record(ctx, id)
	if errors.Is(err, errs.NotFound) || (err == nil && st.Dept != p.ID) {
		return Stored{}, notFound
	}
	return st, err
}

// Get returns a record to the department that submitted it, logging the read.
// Returns NotFound when it does not exist or belongs to another department.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (Record, error) {
	st, err := s.own(ctx, p, id)
	if err != nil {
		return Record{}, err
	}
	rec, err := s.open(st)
	if err != nil {
		return Record{}, err
	}
	err = s.Access.Record(ctx, access.Event{
		Principal: p.Kind, Actor: p.ID, SubjectKey: st.SubjectKey, Action: access.RecordRead,
		Purpose: "reading a record the department submitted", Authority: "submitting department",
		Records: []string{st.ID}, Items: []string{st.Item},
	})
	return rec, err
}

// History returns the versions of a record the department submitted.
func (s *Service) History(ctx context.Context, p *auth.Principal, id string) ([]Version, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return nil, err
	}
	return s.Store.Versions(ctx, id)
}

// Correct writes a new version of a record from a full resubmission.
// Returns NotFound, Invalid, Forbidden, or Conflict when the record is
// revoked or the item or ref differ. changed is false when the content is
// the same as the current version's.
func (s *Service) Correct(ctx context.Context, p *auth.Principal, id string, sub Submission, note string) (rec Record, changed bool, err error) {
	st, err := s.own(ctx, p, id)
	if err != nil {
		return Record{}, false, err
	}
	if st.Status == Revoked {
		return Record{}, false, errs.E(errs.Conflict, "record %s is revoked and cannot be corrected", id)
	}
	switch {
	case utf8.RuneCountInString(note) > maxTextLen:
		return Record{}, false, errs.Fields("the correction is not valid", errs.FieldError{Field: "note", Code: "too_long", Message: fmt.Sprintf("must be at most %d characters", maxTextLen)})
	case !PrintableText(note):
		return Record{}, false, errs.Fields("the correction is not valid", errs.FieldError{Field: "note", Code: "format", Message: DoesNotPrint})
	}
	if sub.Item == "" {
		sub.Item = st.Item
	}
	if sub.Item != st.Item {
		return Record{}, false, errs.Fields("the correction is not valid", errs.FieldError{Field: "item", Code: "immutable", Message: fmt.Sprintf("a correction cannot change the item (%s); revoke and submit anew", st.Item)})
	}
	if err := s.viaList(ctx, p, st, "id"); err != nil {
		return Record{}, false, err
	}
	if sub.Ref == "" {
		sub.Ref = st.Ref
	}
	if sub.Ref != st.Ref {
		return Record{}, false, errs.Fields("the correction is not valid", errs.FieldError{Field: "ref", Code: "immutable", Message: fmt.Sprintf("a correction cannot change the ref (%s)", st.Ref)})
	}
	now := s.Clock.Now().UTC().Truncate(time.Microsecond)
	next, nst, subj, err := s.prepare(p, sub, clock.DateOf(now.In(s.Location)), now, nil)
	if err != nil {
		return Record{}, false, err
	}
	cur, err := s.open(st)
	if err != nil {
		return Record{}, false, err
	}
	if bytes.Equal(nst.ContentHash, st.ContentHash) {
		return cur, false, nil
	}
	next.ID, next.Version, next.CreatedAt = st.ID, st.Version+1, st.CreatedAt
	var newSubj *SealedSubject
	if !bytes.Equal(next.SubjectKey, st.SubjectKey) {
		newSubj = &subj
	}
	if nst, err = s.storeVersion(ctx, next, Corrected, now, strings.TrimSpace(note), newSubj); err != nil {
		return Record{}, false, err
	}
	s.tellSerious(nst)
	return next, true, nil
}

// storeVersion stores rec, its version already counted up, as a new
// version written for change at now, with note sealed when there is one
// (and the person's new subject row, when the version moved the record to
// another person), and returns the stored row.
func (s *Service) storeVersion(ctx context.Context, rec Record, change Change, now time.Time, note string, subj *SealedSubject) (Stored, error) {
	nst, err := s.seal(rec)
	if err != nil {
		return Stored{}, err
	}
	v := Version{RecordID: rec.ID, Version: rec.Version, Change: change, At: now, Payload: nst.Payload}
	if note != "" {
		v.Note = s.Keys.Encrypt([]byte(note), recordAAD(rec.ID, -rec.Version))
	}
	v.seal(nst, !s.NoLedger)
	return nst, s.Store.UpdateRecord(ctx, subj, nst, v)
}

// Revoke ends a record at once because its decision was overturned.
// Returns NotFound, Invalid when reason or basis is missing, Conflict when it
// is already revoked.
func (s *Service) Revoke(ctx context.Context, p *auth.Principal, id, reason, basis string) (Record, error) {
	st, err := s.own(ctx, p, id)
	if err != nil {
		return Record{}, err
	}
	var pr errs.Problems
	reason, basis = strings.TrimSpace(reason), strings.TrimSpace(basis)
	for _, f := range []struct{ name, v string }{{"reason", reason}, {"basis", basis}} {
		switch {
		case f.v == "":
			pr.Add(f.name, "required", "%s is required", f.name)
		case utf8.RuneCountInString(f.v) > maxStringLen:
			pr.Add(f.name, "too_long", "must be at most %d characters", maxStringLen)
		case !PrintableText(f.v):
			pr.Add(f.name, "format", DoesNotPrint)
		}
	}
	if err := pr.Err("the revocation is not valid"); err != nil {
		return Record{}, err
	}
	if err := s.viaList(ctx, p, st, "id"); err != nil {
		return Record{}, err
	}
	if st.Status == Revoked {
		return Record{}, errs.E(errs.Conflict, "record %s is already revoked", id)
	}
	rec, err := s.open(st)
	if err != nil {
		return Record{}, err
	}
	now := s.Clock.Now().UTC().Truncate(time.Microsecond)
	rec.Version++
	rec.Status = Revoked
	rec.UpdatedAt = now
	// Kept in clear with the version: what may be an identity number, and
	// the person's name, are masked.
	reason, basis = identity.MaskAbout(reason, rec.Content.Name), identity.MaskAbout(basis, rec.Content.Name)
	rec.Revocation = &Revocation{Reason: reason, Basis: basis, At: now}
	if _, err := s.storeVersion(ctx, rec, Revoke, now, reason+"\n"+basis, nil); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// EndDisplay ends a record's display and sharing today with a new version
// (change display_ended, why in its note): its list entry was removed
// because the person performed or repaired (DOMAIN.md sections 5 and 7).
// A record already out of display, or revoked, is returned unchanged.
// Returns NotFound, and Invalid for a list entry's record not changed
// through its list.
func (s *Service) EndDisplay(ctx context.Context, p *auth.Principal, id, why string) (Record, error) {
	st, err := s.own(ctx, p, id)
	if err != nil {
		return Record{}, err
	}
	if err := s.viaList(ctx, p, st, "id"); err != nil {
		return Record{}, err
	}
	rec, err := s.open(st)
	if err != nil || s.State(rec) != InDisplay {
		return rec, err
	}
	now := s.Clock.Now().UTC().Truncate(time.Microsecond)
	today := s.Today()
	rec.Version++
	rec.UpdatedAt = now
	rec.Window.End = today
	if rec.Window.EarliestEnd.After(today) {
		rec.Window.EarliestEnd = today
	}
	if _, err := s.storeVersion(ctx, rec, EndedDisplay, now, why, nil); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Today is the city's calendar day now.
func (s *Service) Today() clock.Date { return clock.DateOf(s.Clock.Now().In(s.Location)) }

// State is the display state of rec today.
func (s *Service) State(rec Record) State { return rec.Window.StateOn(rec.Status, s.Today()) }

// Person returns the decrypted identity of a stored subject.
func (s *Service) Person(ctx context.Context, key []byte) (idType, number, name string, err error) {
	subj, err := s.Store.Subject(ctx, key)
	if err != nil {
		return "", "", "", err
	}
	aad := subjectAAD(key)
	n, err1 := s.Keys.Decrypt(subj.Number, aad)
	nm, err2 := s.Keys.Decrypt(subj.Name, aad)
	if err := errors.Join(err1, err2); err != nil {
		return "", "", "", errs.Wrap(errs.Internal, err, "subject cannot be decrypted")
	}
	return subj.IDType, string(n), string(nm), nil
}

// KnownName returns the person's name, or "" when the platform knows no one
// of key.
func (s *Service) KnownName(ctx context.Context, key []byte) (string, error) {
	subj, err := s.Store.Subject(ctx, key)
	if errors.Is(err, errs.NotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return s.OpenName(key, subj.Name)
}

// OpenName decrypts the sealed name of the person of key ("" for none).
func (s *Service) OpenName(key, sealed []byte) (string, error) {
	if sealed == nil {
		return "", nil
	}
	name, err := s.Keys.Decrypt(sealed, subjectAAD(key))
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "subject cannot be decrypted")
	}
	return string(name), nil
}

// Receipt returns the ledger receipt of the current version of a record to
// the department that submitted it: the leaf, a signed checkpoint and the
// inclusion proof, with the commitment's salt-free inputs.
// Returns NotFound, or Unavailable within a second of a change, before the
// ledger has checkpointed it.
func (s *Service) Receipt(ctx context.Context, p *auth.Principal, id string) (ledger.Receipt, error) {
	st, err := s.own(ctx, p, id)
	if err != nil {
		return ledger.Receipt{}, err
	}
	vs, err := s.Store.Versions(ctx, id)
	if err != nil {
		return ledger.Receipt{}, err
	}
	if len(vs) == 0 {
		return ledger.Receipt{}, errs.E(errs.Internal, "record %s has no versions", id)
	}
	v := vs[len(vs)-1]
	return s.Ledger.Receipt(ctx, v.LeafIndex, map[string]any{
		"kind": LeafKind, "event_id": EventID(id, v.Version), "record_id": id, "version": v.Version,
		"change": v.Change, "at": stamp(v.At), "item": st.Item, "department": st.Dept,
	})
}
