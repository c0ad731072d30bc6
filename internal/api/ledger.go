package api

import (
	"fmt"
	"net/http"
	"strconv"

	"pubcredit/internal/errs"
	"pubcredit/internal/ledger"
)

// ledgerCheckpoint serves the newest signed checkpoint (C2SP
// tlog-checkpoint, a signed note) as text.
func (a *API) ledgerCheckpoint(w http.ResponseWriter, r *http.Request) error {
	signed, _, err := a.Ledger.Latest(r.Context())
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the ledger has no checkpoint yet; retry in a second")
	}
	return writeText(w, signed)
}

// ledgerKey serves the note verifier key of the checkpoints.
func (a *API) ledgerKey(w http.ResponseWriter, r *http.Request) error {
	return writeText(w, []byte(a.Ledger.Signer.VerifierKey()+"\n"))
}

func writeText(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, err := w.Write(b)
	return err
}

// queryIndex parses a required non-negative integer query parameter, given
// once; a bad one is a malformed request (400) naming the parameter.
func queryIndex(r *http.Request, name string) (int64, *errs.FieldError) {
	vs := r.URL.Query()[name]
	switch {
	case len(vs) == 0 || vs[0] == "":
		return 0, &errs.FieldError{Field: name, Code: "required", Message: "a non-negative whole number is required"}
	case len(vs) > 1:
		return 0, &errs.FieldError{Field: name, Code: "repeated", Message: fmt.Sprintf("is given %d times; give it once", len(vs))}
	}
	n, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || n < 0 {
		return 0, &errs.FieldError{Field: name, Code: "format", Message: "must be a non-negative whole number"}
	}
	return n, nil
}

// queryIndexes parses the named query parameters with queryIndex, naming
// every bad one at once.
func queryIndexes(r *http.Request, names ...string) ([]int64, error) {
	out := make([]int64, len(names))
	var bad []errs.FieldError
	for i, name := range names {
		n, fe := queryIndex(r, name)
		if fe != nil {
			bad = append(bad, *fe)
		}
		out[i] = n
	}
	if len(bad) > 0 {
		return nil, errs.FieldsOf(errs.Malformed, "the query is not valid: "+bad[0].String(), bad...)
	}
	return out, nil
}

func (a *API) inclusionProof(w http.ResponseWriter, r *http.Request) error {
	q, err := queryIndexes(r, "index", "size")
	if err != nil {
		return err
	}
	p, err := a.Ledger.Inclusion(r.Context(), q[0], q[1])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (a *API) consistencyProof(w http.ResponseWriter, r *http.Request) error {
	q, err := queryIndexes(r, "from", "to")
	if err != nil {
		return err
	}
	p, err := a.Ledger.Consistency(r.Context(), q[0], q[1])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// ledgerTile serves the log as C2SP tlog-tiles: /tile/<L>/<N>[.p/<W>] and
// /tile/entries/<N>[.p/<W>].
func (a *API) ledgerTile(w http.ResponseWriter, r *http.Request) error {
	// A malformed path is 400, naming what is wrong with it; a well-formed
	// tile beyond the newest checkpoint is 404 (it may exist later).
	t, err := ledger.ParseTilePath("tile/" + r.PathValue("path"))
	if err != nil {
		return err
	}
	data, err := a.Ledger.Tile(r.Context(), t)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	// A tile never changes: a partial tile of width W is the first W
	// hashes or entries of its full tile, fixed once they exist.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err = w.Write(data)
	return err
}

// recordReceipt is the ledger receipt of a record's current version.
func (a *API) recordReceipt(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	rc, err := a.Records.Receipt(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rc)
}
