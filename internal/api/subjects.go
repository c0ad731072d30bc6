package api

import (
	"net/http"
	"strconv"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/catalog"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/ids"
	"pubcredit/internal/record"
)

type fileRecordJSON struct {
	ID         string           `json:"id"`
	Item       string           `json:"item"`
	ItemName   catalog.Text     `json:"item_name"`
	Polarity   catalog.Polarity `json:"polarity"`
	Department string           `json:"department"`
	Version    int              `json:"version"`
	Status     record.Status    `json:"status"`
	State      record.State     `json:"state"`
	// The content, present only while the reader may see it: sharing stops
	// when display ends or the record is revoked.
	Ref       string           `json:"ref,omitempty"`
	DecidedOn string           `json:"decided_on,omitempty"`
	Severity  catalog.Severity `json:"severity,omitempty"`
	Fields    map[string]any   `json:"fields,omitempty"`
	Display   *displayJSON     `json:"display,omitempty"`
}

type fileJSON struct {
	Subject     personJSON       `json:"subject"`
	Purpose     string           `json:"purpose"`
	Records     []fileRecordJSON `json:"records"`
	GeneratedAt time.Time        `json:"generated_at"`
}

// subjectFile is a department's lookup of a person's integrity file.
func (a *API) subjectFile(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := a.Profiles.ForDepartment(r.Context(), p, q.Get("id_type"), r.PathValue("id_number"), q.Get("purpose"))
	if err != nil {
		return err
	}
	out := fileJSON{
		Subject:     personJSON(f.Person),
		Purpose:     f.Purpose,
		Records:     make([]fileRecordJSON, 0, len(f.Entries)),
		GeneratedAt: a.Clock.Now().UTC(),
	}
	for _, e := range f.Entries {
		rec := e.Record
		fr := fileRecordJSON{ID: rec.ID, Item: rec.Content.Item, ItemName: e.Item.Name, Polarity: e.Item.Polarity,
			Department: rec.Dept, Version: rec.Version, Status: rec.Status, State: e.State}
		if e.Full {
			d := display(rec.Window)
			fr.Ref, fr.DecidedOn, fr.Severity, fr.Fields, fr.Display = rec.Ref, rec.Content.DecidedOn.String(), rec.Content.Severity, rec.Content.Fields, &d
		}
		out.Records = append(out.Records, fr)
	}
	return writeJSON(w, http.StatusOK, out)
}

type accessJSON struct {
	Subject personJSON     `json:"subject"`
	Events  []access.Event `json:"events"`
	// NextBefore pages on (?before=) when the page is full.
	NextBefore string `json:"next_before,omitempty"`
}

// auditAccess is an auditor's read of who accessed a person's data.
func (a *API) auditAccess(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	if q.Get("id_number") == "" {
		return errs.Fields("id_number is required", errs.FieldError{Field: "id_number", Code: "required", Message: "the person's identity number is required"})
	}
	before := q.Get("before")
	if before != "" && !ids.Valid(before) {
		return errs.Fields("the query is not valid", errs.FieldError{Field: "before", Code: "format", Message: "must be the id of an event of a previous page (next_before)"})
	}
	doc, events, err := a.Profiles.AccessLog(r.Context(), p, q.Get("id_type"), q.Get("id_number"), before, limit)
	if err != nil {
		return err
	}
	out := accessJSON{Subject: personJSON{IDType: string(doc.Type), IDNumber: identity.MaskNumber(doc.Number)}, Events: events}
	if out.Events == nil {
		out.Events = []access.Event{}
	}
	if len(events) == limit {
		out.NextBefore = events[len(events)-1].ID
	}
	return writeJSON(w, http.StatusOK, out)
}

// queryInt parses an optional integer query parameter within [lo, hi].
func queryInt(s, name string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errs.Fields("the query is not valid", errs.FieldError{Field: name, Code: "range", Message: "must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)})
	}
	return n, nil
}
