package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/record"
)

// Event is the body of a delivery request.
type Event struct {
	ID           string    `json:"id"`       // the delivery id: the same on every retry and redelivery
	EventID      string    `json:"event_id"` // the change: "<record or entry id>:<version>", the same in every subscription it goes to
	Type         string    `json:"type"`
	OccurredAt   time.Time `json:"occurred_at"`
	Subscription string    `json:"subscription"`
	Data         any       `json:"data"` // RecordData or EntryData
}

// Person is the person an event is about: in clear for a department that
// may read the event's item, masked (110105********002X, 张*) otherwise.
type Person struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// person is the person as department dept may see it: in clear when it
// may read item.
func person(dept auth.Dept, item, idType, number, name string) Person {
	if mayRead(dept, item) {
		return Person{IDType: idType, IDNumber: number, Name: name}
	}
	return Person{IDType: idType, IDNumber: identity.MaskNumber(number), Name: identity.MaskName(name)}
}

func mayRead(dept auth.Dept, item string) bool { return item != "" && slices.Contains(dept.Read, item) }

// Display is a record's display window at the version of the event.
type Display struct {
	From        string  `json:"from"`
	EarliestEnd *string `json:"earliest_end"`
	End         *string `json:"end"`
	Public      bool    `json:"public"`
}

// RecordData is the data of a record event. DecidedOn, Severity, Fields and
// Revocation are sent only to a department with read rights on the item.
type RecordData struct {
	RecordID   string             `json:"record_id"`
	Item       string             `json:"item"`
	Department string             `json:"department"`
	Version    int                `json:"version"`
	Change     record.Change      `json:"change"`
	Status     record.Status      `json:"status"`
	Display    Display            `json:"display"`
	Subject    Person             `json:"subject"`
	DecidedOn  string             `json:"decided_on,omitempty"`
	Severity   catalog.Severity   `json:"severity,omitempty"`
	Fields     map[string]any     `json:"fields,omitempty"`
	Revocation *record.Revocation `json:"revocation,omitempty"`
}

// EntryData is the data of a list entry event.
type EntryData struct {
	EntryID    string     `json:"entry_id"`
	List       string     `json:"list"`
	Department string     `json:"department"`
	Version    int        `json:"version"`
	Status     string     `json:"status"`
	DecidedOn  clock.Date `json:"decided_on"`
	ActiveFrom clock.Date `json:"active_from"`
	Until      *string    `json:"until"` // the entry ends at the start of this day; null: until removed
	Grounds    []string   `json:"grounds"`
	RecordID   string     `json:"record_id"`
	Subject    Person     `json:"subject"`
	Removal    *Removal   `json:"removal,omitempty"`
}

// Removal says why an entry left its list (its free-text note is not pushed).
type Removal struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// body builds the request body of delivery d for department dept, when it
// is sent: nothing of it is stored, so the person in clear is never at rest
// in the deliveries, and the department's rights are those of the moment
// it leaves. A push that carries the person in clear (and, for a record,
// its fields) is a read of the person's data: it is written to the access
// log before it leaves, once for the delivery's round (retries resend the
// same read; a redelivery the department asks for is a new one), and body
// fails when that cannot be done.
func (s *Service) body(ctx context.Context, d Delivery, dept auth.Dept) ([]byte, error) {
	id, version, ok := splitEventID(d.EventID)
	if !ok {
		return nil, errs.E(errs.Internal, "delivery %s: malformed event id %q", d.ID, d.EventID)
	}
	ev := Event{ID: d.ID, EventID: d.EventID, Type: d.Type, Subscription: d.Subscription}
	var err error
	if isRecordEvent(d.Type) {
		ev.OccurredAt, ev.Data, err = s.recordData(ctx, d, dept, id, version)
	} else {
		ev.OccurredAt, ev.Data, err = s.entryData(ctx, d, dept, id, version)
	}
	if err != nil {
		return nil, err
	}
	ev.OccurredAt = ev.OccurredAt.UTC()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "encoding event")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// versionState is the part of a record version's canonical row
// (record.StateOf) an event shows.
type versionState struct {
	Status      record.Status `json:"status"`
	From        string        `json:"from"`
	EarliestEnd string        `json:"earliest_end"`
	End         string        `json:"end"`
	Public      bool          `json:"public"`
}

func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// recordData is a record as it was at a version.
func (s *Service) recordData(ctx context.Context, d Delivery, dept auth.Dept, id string, version int) (time.Time, RecordData, error) {
	st, err := s.Records.Store.Record(ctx, id)
	if err != nil {
		return time.Time{}, RecordData{}, err
	}
	vs, err := s.Records.Store.Versions(ctx, id)
	if err != nil {
		return time.Time{}, RecordData{}, err
	}
	i := slices.IndexFunc(vs, func(v record.Version) bool { return v.Version == version })
	if i < 0 {
		return time.Time{}, RecordData{}, errs.E(errs.Internal, "record %s has no version %d", id, version)
	}
	v := vs[i]
	var state versionState
	if err := json.Unmarshal(v.State, &state); err != nil {
		return time.Time{}, RecordData{}, errs.Wrap(errs.Internal, err, "record %s version %d: state", id, version)
	}
	at := st
	at.Version, at.Payload = v.Version, v.Payload
	recs, err := s.Records.Open([]record.Stored{at})
	if err != nil {
		return time.Time{}, RecordData{}, err
	}
	c := recs[0].Content
	data := RecordData{
		RecordID: id, Item: st.Item, Department: st.Dept, Version: v.Version, Change: v.Change, Status: state.Status,
		Display: Display{From: state.From, EarliestEnd: orNil(state.EarliestEnd), End: orNil(state.End), Public: state.Public},
		Subject: person(dept, st.Item, c.IDType, c.IDNumber, c.Name),
	}
	if !mayRead(dept, st.Item) {
		return v.At, data, nil
	}
	data.DecidedOn, data.Severity, data.Fields = c.DecidedOn.String(), c.Severity, c.Fields
	if data.Fields == nil {
		data.Fields = map[string]any{}
	}
	if v.Change == record.Revoke {
		data.Revocation = st.Revocation
	}
	return v.At, data, s.logRead(ctx, d, dept, st.SubjectKey, id, st.Item)
}

// logRead writes the read that pushing delivery d in clear to dept is, once
// for the delivery's round. The action is record.read, the one the access
// log publishes for a department reading a record's data: the record of a
// record event, the record an entry was made from for a list event.
func (s *Service) logRead(ctx context.Context, d Delivery, dept auth.Dept, subjectKey []byte, recordID, item string) error {
	e := s.Access.Prepare(access.Event{
		Principal: auth.Department, Actor: dept.Code, SubjectKey: subjectKey, Action: access.RecordRead,
		Purpose:   fmt.Sprintf("pushed to the department's subscription %s (%s, delivery %s, round %d)", d.Subscription, d.Type, d.ID, max(d.Round, 1)),
		Authority: "read rights on " + item, Records: []string{recordID}, Items: []string{item},
	})
	_, err := s.Store.LogPushRead(ctx, d.ID, e)
	return err
}

// entryData is a list entry as it was at a version, the person in clear
// when dept may read the list's backing item.
func (s *Service) entryData(ctx context.Context, d Delivery, dept auth.Dept, id string, version int) (time.Time, EntryData, error) {
	e, err := s.Store.EntryVersion(ctx, id, version)
	if err != nil {
		return time.Time{}, EntryData{}, err
	}
	idType, number, name, err := s.Records.Person(ctx, e.SubjectKey)
	if err != nil {
		return time.Time{}, EntryData{}, err
	}
	data := EntryData{
		EntryID: e.ID, List: e.List, Department: e.Dept, Version: e.Version, Status: string(e.Status),
		DecidedOn: e.DecidedOn, ActiveFrom: e.ActiveFrom, Until: e.Until.StringOrNil(), Grounds: e.Grounds,
		RecordID: e.RecordID,
	}
	item := ""
	if s.ListItem != nil {
		item, _ = s.ListItem(e.List)
	}
	data.Subject = person(dept, item, idType, number, name)
	if data.Grounds == nil {
		data.Grounds = []string{}
	}
	if e.Removal != nil {
		data.Removal = &Removal{Reason: e.Removal.Reason, At: e.Removal.At.UTC()}
	}
	if !mayRead(dept, item) {
		return e.UpdatedAt, data, nil
	}
	return e.UpdatedAt, data, s.logRead(ctx, d, dept, e.SubjectKey, e.RecordID, item)
}
