// Package profile is the integrity file of one person, as each kind of reader
// may see it (DOMAIN.md sections 1 and 9). A department sees the records of
// the items it has read rights on, as each item's sharing attribute allows,
// with every record's display state computed at read time; the read is
// logged as an access event before the answer leaves.
package profile

import (
	"context"
	"strings"
	"unicode/utf8"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/record"
	"pubcredit/internal/vault"
)

// Person is the subject of a file, masked for anyone but the person.
type Person struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// Entry is one record in a file. Fields is nil when the reader may only
// learn that the record exists and its state (sharing has stopped).
type Entry struct {
	Record record.Record
	State  record.State
	Item   *catalog.Item
	Full   bool // the reader may see the record's content
}

// File is what one reader may see of a person.
type File struct {
	Person  Person
	Purpose string // as typed, what may be an identity number masked (the log masks the person's name too)
	Entries []Entry
}

// MaxPurpose bounds the stated purpose of a lookup.
const MaxPurpose = 500

// Service reads integrity files.
type Service struct {
	Records *record.Service
	Keys    *vault.Keyring
	Access  *access.Log
	// Noticed returns the ids of a person's records that are the records
	// of list entries still in their notice period
	// (listing.Service.NoticedRecords): the listing is not yet in effect,
	// so only the department that made it sees them. Nil: none are.
	Noticed func(ctx context.Context, subjectKey []byte) (map[string]bool, error)
}

// Subject resolves an identity number to its lookup key, validating it.
// Returns Invalid with the reason when the number is not valid.
func (s *Service) Subject(idType, number string) ([]byte, identity.Document, error) {
	return s.Records.SubjectKeyOf(idType, number)
}

// ForDepartment returns the file of the person as department p may see it:
// records of the items p has read rights on, shared per each item's sharing
// attribute. p's own records are always shown in full; other departments'
// records only while displayed (sharing stops with display), and not while
// they are the records of list entries in their notice period. The read is
// an access event naming the purpose.
// Returns Invalid for a missing purpose or a bad number, Forbidden when p
// has no read rights at all. A person of whom the department may see nothing
// has an empty file: the answer does not reveal whether the platform knows them.
func (s *Service) ForDepartment(ctx context.Context, p *auth.Principal, idType, number, purpose string) (File, error) {
	if err := p.Require(auth.Department); err != nil {
		return File{}, err
	}
	purpose = strings.TrimSpace(purpose)
	switch {
	case purpose == "":
		return File{}, errs.Fields("a purpose is required", errs.FieldError{Field: "purpose", Code: "required", Message: "state the lawful purpose of this lookup"})
	case utf8.RuneCountInString(purpose) > MaxPurpose:
		return File{}, errs.Fields("the purpose is too long", errs.FieldError{Field: "purpose", Code: "too_long", Message: "at most 500 characters"})
	case !record.PrintableText(purpose):
		return File{}, errs.Fields("the purpose is not valid", errs.FieldError{Field: "purpose", Code: "format", Message: record.DoesNotPrint})
	}
	purpose = identity.MaskText(purpose)
	if len(p.Read) == 0 {
		return File{}, errs.E(errs.Forbidden, "department %s has no read rights on any catalog item", p.ID)
	}
	key, doc, err := s.Subject(idType, number)
	if err != nil {
		return File{}, err
	}
	stored, err := s.Records.Store.RecordsBySubject(ctx, key)
	if err != nil {
		return File{}, err
	}
	noticed, err := s.noticed(ctx, key, stored)
	if err != nil {
		return File{}, err
	}
	today := s.Records.Today()
	var visible []record.Stored
	var full []bool
	for _, st := range stored {
		it, ok := s.Records.Catalog.Item(st.Item)
		if !ok || !p.CanRead(st.Item) {
			continue
		}
		own := st.Dept == p.ID
		if !own && (it.Sharing == catalog.NotShared || noticed[st.ID]) {
			continue
		}
		shown := st.Window.StateOn(st.Status, today) == record.InDisplay
		visible = append(visible, st)
		full = append(full, own || shown)
	}
	// The answer shows the purpose as the department typed it, numbers
	// masked; the log, which others read, masks the person's name in it
	// too, whether or not the department is shown anything (the answer
	// must not tell whether the platform knows the person).
	f := File{Person: Person{IDType: string(doc.Type), IDNumber: identity.MaskNumber(doc.Number)}, Purpose: purpose}
	name, err := s.Records.KnownName(ctx, key)
	if err != nil {
		return File{}, err
	}
	logged := identity.MaskNameIn(purpose, name)
	if len(visible) == 0 {
		// Nothing to show still reveals that the department looked: log it.
		if err := s.log(ctx, p, key, logged, nil); err != nil {
			return File{}, err
		}
		return f, nil
	}
	recs, err := s.Records.Open(visible)
	if err != nil {
		return File{}, err
	}
	for i, r := range recs {
		it, _ := s.Records.Catalog.Item(r.Content.Item)
		// Masked as the person is: no department is shown the number or
		// the name whole, not even in its own words.
		r.Content.Fields = identity.MaskFields(r.Content.Fields, name)
		f.Entries = append(f.Entries, Entry{Record: r, State: r.Window.StateOn(r.Status, today), Item: it, Full: full[i]})
	}
	f.Person.Name = identity.MaskName(name)
	if err := s.log(ctx, p, key, logged, f.Entries); err != nil {
		return File{}, err
	}
	return f, nil
}

// noticed returns the records among stored that are the records of list
// entries in their notice period; it asks only when one of them is of an
// item that backs a list.
func (s *Service) noticed(ctx context.Context, key []byte, stored []record.Stored) (map[string]bool, error) {
	if s.Noticed == nil || s.Records.ListOf == nil {
		return nil, nil
	}
	for _, st := range stored {
		if _, listed := s.Records.ListOf(st.Item); listed {
			return s.Noticed(ctx, key)
		}
	}
	return nil, nil
}

func (s *Service) log(ctx context.Context, p *auth.Principal, key []byte, purpose string, entries []Entry) error {
	e := access.Event{Principal: p.Kind, Actor: p.ID, SubjectKey: key, Action: access.FileRead, Purpose: purpose,
		Authority: "read rights: " + strings.Join(p.Read, ",")}
	seen := map[string]bool{}
	for _, en := range entries {
		if !en.Full {
			continue
		}
		e.Records = append(e.Records, en.Record.ID)
		if !seen[en.Record.Content.Item] {
			seen[en.Record.Content.Item] = true
			e.Items = append(e.Items, en.Record.Content.Item)
		}
	}
	return s.Access.Record(ctx, e)
}

// AccessLog returns the access events about a person for an auditor,
// newest first and older than before when it is given, and logs that the
// auditor read them.
func (s *Service) AccessLog(ctx context.Context, p *auth.Principal, idType, number, before string, limit int) (identity.Document, []access.Event, error) {
	if err := p.Require(auth.Auditor, auth.Operator); err != nil {
		return identity.Document{}, nil, err
	}
	key, doc, err := s.Subject(idType, number)
	if err != nil {
		return doc, nil, err
	}
	events, err := s.Access.Store.AccessBySubject(ctx, key, before, limit)
	if err != nil {
		return doc, nil, err
	}
	err = s.Access.Record(ctx, access.Event{Principal: p.Kind, Actor: p.ID, SubjectKey: key, Action: access.AuditRead,
		Purpose: "audit of the access log", Authority: string(p.Kind)})
	return doc, events, err
}
