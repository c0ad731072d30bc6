// Package api is the JSON API: each handler parses the request, authorizes
// it, makes one service call and renders the answer. Handlers return errors;
// httpserver turns them into responses in one place.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/delivery"
	"pubcredit/internal/errs"
	"pubcredit/internal/ingest"
	"pubcredit/internal/jsonpath"
	"pubcredit/internal/ledger"
	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
	"pubcredit/internal/profile"
	"pubcredit/internal/record"
)

// API holds the services the handlers call.
type API struct {
	Catalog  *catalog.Catalog
	Records  *record.Service
	Batches  *ingest.Service
	Profiles *profile.Service
	Ledger   *ledger.Log
	Lists    *listing.Service
	Checks   *measure.Checker
	Calendar *clock.Calendar
	Clock    clock.Clock
	MaxBody  int64 // bytes in a JSON body
	MaxBatch int64 // bytes in a batch upload
	// Ready reports whether the platform can serve (database reachable,
	// schema current).
	Ready func(ctx context.Context) error
	// Deliveries runs the departments' subscriptions to pushes.
	Deliveries *delivery.Service
}

// Handler is an HTTP handler that returns its error.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Route is one registered route: its pattern and handler.
type Route struct {
	Pattern string // Go 1.22 ServeMux pattern, "METHOD /path"
	Handler Handler
}

// Routes lists every route of the API.
func (a *API) Routes() []Route {
	return []Route{
		{"GET /healthz", a.health},
		{"GET /readyz", a.ready},
		{"GET /api/v1/catalog", a.listCatalog},
		{"GET /api/v1/catalog/{code}", a.getCatalogItem},
		{"POST /api/v1/records", a.submitRecord},
		{"GET /api/v1/records/{id}", a.getRecord},
		{"PUT /api/v1/records/{id}", a.correctRecord},
		{"POST /api/v1/records/{id}/revoke", a.revokeRecord},
		{"GET /api/v1/records/{id}/versions", a.recordVersions},
		{"POST /api/v1/batches", a.submitBatch},
		{"GET /api/v1/batches/{id}", a.getBatch},
		{"GET /api/v1/batches/{id}/rejections", a.batchRejections},
		{"GET /api/v1/subjects/{id_number}/file", a.subjectFile},
		{"GET /api/v1/audit/access", a.auditAccess},
		{"GET /api/v1/records/{id}/receipt", a.recordReceipt},
		{"GET /api/v1/ledger/checkpoint", a.ledgerCheckpoint},
		{"GET /api/v1/ledger/key", a.ledgerKey},
		{"GET /api/v1/ledger/proofs/inclusion", a.inclusionProof},
		{"GET /api/v1/ledger/proofs/consistency", a.consistencyProof},
		{"GET /api/v1/ledger/tile/{path...}", a.ledgerTile},
		{"GET /api/v1/lists", a.listTypes},
		{"GET /api/v1/lists/{code}", a.listType},
		{"POST /api/v1/lists/{code}/entries", a.enterList},
		{"GET /api/v1/lists/{code}/entries", a.listEntries},
		{"POST /api/v1/lists/{code}/entries/{id}/removal", a.removeFromList},
		{"GET /api/v1/public/lists/{code}", a.publicList},
		{"GET /api/v1/calendar/working-days", a.workingDays},
		{"GET /api/v1/measures", a.measures},
		{"POST /api/v1/checks", a.check},
		{"POST /api/v1/checks/{id}/feedback", a.checkFeedback},
		{"GET /api/v1/stats/measures", a.measureStats},
		{"POST /api/v1/subscriptions", a.subscribe},
		{"GET /api/v1/subscriptions", a.listSubscriptions},
		{"GET /api/v1/subscriptions/{id}", a.getSubscription},
		{"DELETE /api/v1/subscriptions/{id}", a.unsubscribe},
		{"GET /api/v1/subscriptions/{id}/deliveries", a.listDeliveries},
		{"POST /api/v1/subscriptions/{id}/deliveries/{delivery}/redeliver", a.redeliver},
	}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// decodeJSON reads one JSON object into v, strictly: unknown fields, trailing
// data and a body over limit are errors. Numbers stay json.Number so that
// amounts keep their digits.
func decodeJSON(r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return errs.E(errs.Malformed, "the body must be application/json, not %q", ct)
	}
	if r.ContentLength > limit { // refused before the client sends it, when it waits to be asked (Expect: 100-continue)
		return tooLarge(limit, ErrUnread)
	}
	body, err := io.ReadAll(limitBody(r.Body, limit))
	if err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return errs.E(errs.Malformed, "the body is not valid UTF-8")
	}
	if bytes.Contains(body, []byte(`\u0000`)) {
		// Name the field when a value or a key holds it, as every other
		// bad value is (a key by its path, the NUL escaped in the answer).
		var inKey bool
		isNUL := func(tok json.Token, _ int64, isKey bool) bool {
			v, ok := tok.(string)
			if !ok {
				var r jsonpath.Repeated
				r, ok = tok.(jsonpath.Repeated)
				v = string(r)
			}
			inKey = isKey
			return ok && strings.ContainsRune(v, 0)
		}
		if path := jsonpath.Where(body, true, isNUL); path != "" {
			msg := "holds a NUL character (\\u0000), which no field accepts"
			if inKey {
				msg = "is a key with a NUL character (\\u0000), which no field has"
			}
			return errs.Fields("the request is not valid", errs.FieldError{Field: path, Code: "format", Message: msg})
		}
		return errs.E(errs.Malformed, "the body holds a NUL character (\\u0000), which no field accepts")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return errs.E(errs.Malformed, "the body must hold exactly one JSON object")
		}
		// encoding/json keeps the last of a repeated key: which one the
		// caller meant is unknown. Keys are compared regardless of case, as
		// encoding/json matches them to fields: "Applied" after "applied"
		// is the field again.
		if path, ok := jsonpath.FirstRepeated(body, true); ok {
			return errs.Fields("the request is not valid", errs.FieldError{Field: jsonpath.Render(path), Code: "repeated", Message: "is given more than once; give it once"})
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errs.E(errs.Malformed, "the body is empty; a JSON object is required")
	case errors.As(err, &syn):
		return errs.E(errs.Malformed, "the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.Malformed, "the body is not valid JSON: it ends after %d bytes, in the middle of a value", len(body))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errs.E(errs.Malformed, "the body must be a JSON object")
		}
		// typ.Field has no array indexes: find the value's full path.
		if path := jsonpath.Where(body, true, func(_ json.Token, off int64, isKey bool) bool { return !isKey && off >= typ.Offset }); path != "" {
			field = path
		}
		return errs.Fields("the request is not valid", errs.FieldError{Field: field, Code: "type", Message: fmt.Sprintf("must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields; the field
		// name is all we take from its text, and the path of its first
		// occurrence from the body.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if path := jsonpath.Where(body, true, func(key json.Token, _ int64, isKey bool) bool { return isKey && key == name }); path != "" {
			name = path
		}
		return errs.Fields("the request is not valid", errs.FieldError{Field: name, Code: "unknown_field", Message: "is not a field of this request"})
	}
	return errs.Wrap(errs.Malformed, err, "the body is not valid JSON")
}

// ErrUnread is the cause of a body refused as too large before any of it
// was read: a client that waits to be asked for it (Expect: 100-continue)
// has sent nothing.
var ErrUnread = errors.New("the body was refused unread")

// tooLarge is the error of a body over limit.
func tooLarge(limit int64, cause error) error {
	return errs.Wrap(errs.TooLarge, cause, "the body is larger than the limit of %d bytes", limit)
}

// limitBody reads at most limit bytes of body; reading past it fails with a
// TooLarge error, which keeps its kind through any wrapping by a parser.
// The bytes up to the limit are read first, whatever the sizes of the reads
// (a batch keeps the rows that end before the limit).
func limitBody(body io.Reader, limit int64) io.Reader {
	return &limitedReader{r: io.LimitReader(body, limit+1), limit: limit}
}

type limitedReader struct {
	r     io.Reader
	read  int64
	limit int64
	over  bool // a byte past the limit was read
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, tooLarge(l.limit, nil)
	}
	n, err := l.r.Read(p)
	if l.read+int64(n) > l.limit {
		l.over = true
		n = int(l.limit - l.read)
		if n == 0 {
			return 0, tooLarge(l.limit, nil)
		}
		err = nil // the error comes with the next read
	}
	l.read += int64(n)
	return n, err
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	}
	return "a number"
}

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (a *API) ready(w http.ResponseWriter, r *http.Request) error {
	if err := a.Ready(r.Context()); err != nil {
		return errs.Wrap(errs.Unavailable, err, "not ready: %s", publicMessage(err))
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func publicMessage(err error) string {
	_, msg, _ := errs.Public(err)
	return msg
}

// principal returns the authenticated caller, or Unauthenticated.
func principal(r *http.Request) (*auth.Principal, error) {
	p := auth.From(r.Context())
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "a bearer token is required (Authorization: Bearer TOKEN)")
	}
	return p, nil
}
