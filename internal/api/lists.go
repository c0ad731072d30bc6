package api

import (
	"net/http"

	"pubcredit/internal/listing"
)

// listTypes publishes the list types with their legal basis and their entry
// and exit conditions (a list must publish them).
func (a *API) listTypes(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"lists": a.Lists.Types.List})
}

func (a *API) listType(w http.ResponseWriter, r *http.Request) error {
	t, err := a.Lists.Type(r.PathValue("code"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// enterList is POST /api/v1/lists/{code}/entries: 201 for a new entry, 200
// for the same request again.
func (a *API) enterList(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req listing.EntryRequest
	if err := decodeJSON(r, a.MaxBody, &req); err != nil {
		return err
	}
	e, created, err := a.Lists.Enter(r.Context(), p, r.PathValue("code"), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/lists/"+e.List+"/entries/"+e.ID)
	}
	return writeJSON(w, status, e)
}

type removalJSON struct {
	Reason string `json:"reason"`
	Note   string `json:"note"`
}

func (a *API) removeFromList(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var body removalJSON
	if err := decodeJSON(r, a.MaxBody, &body); err != nil {
		return err
	}
	e, err := a.Lists.Remove(r.Context(), p, r.PathValue("code"), r.PathValue("id"), body.Reason, body.Note)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

// listEntries is the owning department's view: ?status=&after=&limit=.
func (a *API) listEntries(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	es, err := a.Lists.Entries(r.Context(), p, r.PathValue("code"), listing.Status(q.Get("status")), q.Get("after"), limit)
	if err != nil {
		return err
	}
	who, err := a.Lists.MaskedSubjects(r.Context(), es)
	if err != nil {
		return err
	}
	type ownedEntry struct {
		listing.Entry
		Subject listing.Masked `json:"subject"` // masked: the owner is not the person
	}
	owned := make([]ownedEntry, len(es))
	for i := range es {
		owned[i] = ownedEntry{es[i], who[i]}
	}
	out := map[string]any{"list": r.PathValue("code"), "entries": owned}
	if len(es) == limit {
		out["next_after"] = es[len(es)-1].ID
	}
	return writeJSON(w, http.StatusOK, out)
}

// publicList is a list a law makes public, for anyone: masked people, only
// the published fields, only active entries.
func (a *API) publicList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	es, err := a.Lists.Public(r.Context(), r.PathValue("code"), q.Get("after"), limit)
	if err != nil {
		return err
	}
	t, _ := a.Lists.Type(r.PathValue("code"))
	out := map[string]any{"list": t.Code, "name": t.Name, "legal_basis": t.LegalBasis,
		"entry_conditions": t.EntryConditions, "exit_conditions": t.ExitConditions, "entries": es}
	if len(es) == limit {
		out["next_after"] = es[len(es)-1].ID
	}
	return writeJSON(w, http.StatusOK, out)
}
