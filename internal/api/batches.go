package api

import (
	"fmt"
	"net/http"
	"strings"

	"pubcredit/internal/errs"
	"pubcredit/internal/ingest"
	"pubcredit/internal/record"
)

type batchJSON struct {
	ingest.Batch
	Rejections []ingest.Rejection `json:"rejections"`
	// RejectionsURL lists every rejected row when the answer holds only the first.
	RejectionsURL string `json:"rejections_url"`
}

// submitBatch is POST /api/v1/batches: the body is the file, its format
// from Content-Type (or ?format=), its item from ?item= for rows that do
// not name theirs.
func (a *API) submitBatch(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format, ok := ingest.FormatOf(q.Get("format"))
	if !ok && q.Get("format") != "" {
		format, ok = ingest.FormatOf("batch." + q.Get("format"))
	}
	if !ok {
		format, ok = ingest.FormatOf(r.Header.Get("Content-Type"))
	}
	if !ok {
		return errs.Fields("the batch format is not supported", errs.FieldError{Field: "Content-Type", Code: "unsupported",
			Message: "send application/x-ndjson, text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
	}
	if item := q.Get("item"); item != "" {
		if _, ok := a.Catalog.Item(item); !ok {
			return errs.Fields("the batch is not valid", errs.FieldError{Field: "item", Code: "unknown", Message: fmt.Sprintf("%s is not a catalog item (known: %s)", record.Echo(item), strings.Join(a.Catalog.Codes(), ", "))})
		}
	}
	body := limitBody(r.Body, a.MaxBatch)
	if format == ingest.FormatCSV {
		if body, err = ingest.Declared(r.Header.Get("Content-Type"), body); err != nil {
			return err
		}
	}
	res, err := a.Batches.Run(r.Context(), p, format, body, q.Get("item"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/batches/"+res.Batch.ID)
	return writeJSON(w, http.StatusCreated, batchJSON{Batch: res.Batch, Rejections: nonNilRejections(res.Rejections),
		RejectionsURL: "/api/v1/batches/" + res.Batch.ID + "/rejections"})
}

func nonNilRejections(r []ingest.Rejection) []ingest.Rejection {
	if r == nil {
		return []ingest.Rejection{}
	}
	return r
}

func (a *API) getBatch(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	b, err := a.Batches.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// batchRejections pages through every rejected row: ?after=LINE&limit=N.
func (a *API) batchRejections(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, err := queryInt(q.Get("after"), "after", 0, 0, 1<<31-1)
	if err != nil {
		return err
	}
	limit, err := queryInt(q.Get("limit"), "limit", 1000, 1, 10000)
	if err != nil {
		return err
	}
	rej, err := a.Batches.Rejections(r.Context(), p, r.PathValue("id"), after, limit)
	if err != nil {
		return err
	}
	out := map[string]any{"batch_id": r.PathValue("id"), "rejections": nonNilRejections(rej)}
	if len(rej) == limit {
		out["next_after"] = rej[len(rej)-1].Line
	}
	return writeJSON(w, http.StatusOK, out)
}
