package api

import (
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

// queryIndex parses a required non-negative integer query parameter; a bad
// one is a malformed request (400) naming the parameter.
func queryIndex(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, &errs.Error{Kind: errs.Malformed, Message: name + " is required",
			Details: []errs.FieldError{{Field: name, Code: "required", Message: "a non-negative whole number is required"}}}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, &errs.Error{Kind: errs.Malformed, Message: name + " must be a non-negative whole number",
			Details: []errs.FieldError{{Field: name, Code: "format", Message: "must be a non-negative whole number"}}}
	}
	return n, nil
}

func (a *API) inclusionProof(w http.ResponseWriter, r *http.Request) error {
	index, err := queryIndex(r, "index")
	if err != nil {
		return err
	}
	size, err := queryIndex(r, "size")
	if err != nil {
		return err
	}
	p, err := a.Ledger.Inclusion(r.Context(), index, size)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (a *API) consistencyProof(w http.ResponseWriter, r *http.Request) error {
	from, err := queryIndex(r, "from")
	if err != nil {
		return err
	}
	to, err := queryIndex(r, "to")
	if err != nil {
		return err
	}
	p, err := a.Ledger.Consistency(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// ledgerTile serves the log as C2SP tlog-tiles: /tile/<L>/<N>[.p/<W>] and
// /tile/entries/<N>[.p/<W>].
func (a *API) ledgerTile(w http.ResponseWriter, r *http.Request) error {
	t, err := ledger.ParseTilePath("tile/" + r.PathValue("path"))
	if err != nil {
		return errs.E(errs.NotFound, "not a tile path: %s", errs.Clip(r.PathValue("path"), 60))
	}
	data, err := a.Ledger.Tile(r.Context(), t)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if t.Width == ledger.TileWidth {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable") // full tiles never change
	}
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
