package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"pubcredit/internal/catalog"
	"pubcredit/internal/identity"
	"pubcredit/internal/record"
)

// personJSON is a person as shown to anyone but the person: masked.
type personJSON struct {
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Name     string `json:"name,omitempty"`
}

type displayJSON struct {
	From        string  `json:"from"`
	EarliestEnd *string `json:"earliest_end"`
	End         *string `json:"end"`
	Public      bool    `json:"public"`
}

func display(w record.Window) displayJSON {
	return displayJSON{From: w.From.String(), EarliestEnd: w.EarliestEnd.StringOrNil(), End: w.End.StringOrNil(), Public: w.Public}
}

type recordJSON struct {
	ID         string             `json:"id"`
	Ref        string             `json:"ref"`
	Item       string             `json:"item"`
	Department string             `json:"department"`
	Version    int                `json:"version"`
	Status     record.Status      `json:"status"`
	State      record.State       `json:"state"`
	Subject    personJSON         `json:"subject"`
	DecidedOn  string             `json:"decided_on"`
	Severity   catalog.Severity   `json:"severity,omitempty"`
	Fields     map[string]any     `json:"fields"`
	Display    displayJSON        `json:"display"`
	Revocation *record.Revocation `json:"revocation,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
	LeafIndex  *int64             `json:"leaf_index"` // the ledger leaf of this version; null when not ledgered
}

// recordAnswer is the view of rec with the ledger leaf of its version.
func (a *API) recordAnswer(ctx context.Context, rec record.Record) (recordJSON, error) {
	out := a.recordView(rec)
	vs, err := a.Records.Store.Versions(ctx, rec.ID)
	if err != nil {
		return out, err
	}
	for _, v := range vs {
		if v.Version == rec.Version && v.LeafIndex >= 0 {
			out.LeafIndex = &v.LeafIndex
		}
	}
	return out, nil
}

func (a *API) recordView(rec record.Record) recordJSON {
	c := rec.Content
	return recordJSON{
		ID: rec.ID, Ref: rec.Ref, Item: c.Item, Department: rec.Dept, Version: rec.Version,
		Status: rec.Status, State: a.Records.State(rec),
		Subject:   personJSON{IDType: c.IDType, IDNumber: identity.MaskNumber(c.IDNumber), Name: identity.MaskName(c.Name)},
		DecidedOn: c.DecidedOn.String(), Severity: c.Severity, Fields: identity.MaskFields(c.Fields, c.Name), Display: display(rec.Window),
		Revocation: rec.Revocation, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
	}
}

// submitRecord is POST /api/v1/records: 201 for a new record, 200 for an
// identical resubmission of the same ref.
func (a *API) submitRecord(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var sub record.Submission
	if err := decodeJSON(r, a.MaxBody, &sub); err != nil {
		return err
	}
	var res record.Result
	if list, listed := a.Lists.Types.OfItem(strings.TrimSpace(sub.Item)); listed && slices.Contains(p.Lists, list) {
		// From the list's owner, the record of its item is an entry: made
		// as one. (A department that may only submit the item records it
		// as any other record.)
		res.Record, _, res.Created, err = a.Lists.EnterRecord(r.Context(), p, sub)
	} else {
		res, err = a.Records.Submit(r.Context(), p, sub)
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/records/"+res.Record.ID)
	}
	view, err := a.recordAnswer(r.Context(), res.Record)
	if err != nil {
		return err
	}
	return writeJSON(w, status, view)
}

func (a *API) getRecord(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	rec, err := a.Records.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	view, err := a.recordAnswer(r.Context(), rec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view)
}

// correctionJSON is a PUT body: a full submission plus an optional note.
type correctionJSON struct {
	record.Submission
	Note string `json:"note,omitempty"`
}

func (a *API) correctRecord(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var body correctionJSON
	if err := decodeJSON(r, a.MaxBody, &body); err != nil {
		return err
	}
	rec, _, err := a.Records.Correct(r.Context(), p, r.PathValue("id"), body.Submission, body.Note)
	if err != nil {
		return err
	}
	view, err := a.recordAnswer(r.Context(), rec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view)
}

type revokeJSON struct {
	Reason string `json:"reason"`
	Basis  string `json:"basis"`
}

func (a *API) revokeRecord(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var body revokeJSON
	if err := decodeJSON(r, a.MaxBody, &body); err != nil {
		return err
	}
	rec, err := a.Records.Revoke(r.Context(), p, r.PathValue("id"), body.Reason, body.Basis)
	if err != nil {
		return err
	}
	view, err := a.recordAnswer(r.Context(), rec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, view)
}

type versionJSON struct {
	Version   int           `json:"version"`
	Change    record.Change `json:"change"`
	At        time.Time     `json:"at"`
	LeafIndex *int64        `json:"leaf_index"` // the version's place in the ledger; null when not ledgered
}

// recordVersions is the history of a record: which versions exist, when and
// why. The content of each version stays sealed.
func (a *API) recordVersions(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	vs, err := a.Records.History(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]versionJSON, len(vs))
	for i, v := range vs {
		out[i] = versionJSON{Version: v.Version, Change: v.Change, At: v.At}
		if v.LeafIndex >= 0 {
			out[i].LeafIndex = &v.LeafIndex
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "versions": out})
}
