package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	catalogfs "pubcredit/catalog"
	"pubcredit/docs"
	"pubcredit/internal/catalog"
	"pubcredit/internal/errs"
)

// loadOpenAPI loads and validates the published specification.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	ctx := context.Background()
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatalf("docs/openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid: %v", err)
	}
	return doc
}

// openAPIRoute turns a ServeMux pattern ("GET /api/v1/records/{id}") into
// the method and the OpenAPI path template it answers.
func openAPIRoute(t *testing.T, pattern string) (method, path string) {
	t.Helper()
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		t.Fatalf("route %q: want \"METHOD /path\"", pattern)
	}
	path = strings.ReplaceAll(path, "...}", "}") // {rest...} matches one OpenAPI parameter
	path = strings.TrimSuffix(path, "{$}")
	return method, path
}

func TestOpenAPISpecIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("the document is not read as OpenAPI 3.1")
	}
	for _, name := range []string{"Record", "Display", "Person", "Error", "Batch", "Rejection", "FieldError", "CatalogItem", "AccessEvent", "IntegrityFile"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("components.schemas.%s is missing", name)
		}
	}
}

// TestOpenAPIDocumentsEveryRoute checks that the spec and Routes() list the
// same operations: no route undocumented, no stale path in the docs.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)

	registered := map[string]bool{}
	for _, rt := range (&API{}).Routes() {
		m, p := openAPIRoute(t, rt.Pattern)
		key := m + " " + p
		if registered[key] {
			t.Errorf("route %s is registered twice", key)
		}
		registered[key] = true
		item := doc.Paths.Value(p)
		if item == nil {
			t.Errorf("route %s: path %s is not in docs/openapi.yaml", rt.Pattern, p)
			continue
		}
		op := item.GetOperation(m)
		if op == nil {
			t.Errorf("route %s: docs/openapi.yaml has no %s operation on %s", rt.Pattern, m, p)
			continue
		}
		checkOperation(t, key, item, op)
	}

	var documented []string
	for p, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			documented = append(documented, m+" "+p)
		}
	}
	sort.Strings(documented)
	for _, key := range documented {
		if !registered[key] {
			t.Errorf("docs/openapi.yaml documents %s, which is not a registered route", key)
		}
	}
}

// checkOperation checks what every documented operation must have: its path
// parameters declared, a success answer, and errors in the one error shape.
func checkOperation(t *testing.T, key string, item *openapi3.PathItem, op *openapi3.Operation) {
	t.Helper()
	_, path, _ := strings.Cut(key, " ")
	declared := map[string]bool{}
	for _, ps := range append(slices.Clone(item.Parameters), op.Parameters...) {
		if ps.Value != nil && ps.Value.In == openapi3.ParameterInPath {
			declared[ps.Value.Name] = true
		}
	}
	for rest := path; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			t.Errorf("%s: unbalanced braces in path", key)
			break
		}
		if name := rest[i+1 : i+j]; !declared[name] {
			t.Errorf("%s: path parameter %q is not declared", key, name)
		}
		rest = rest[i+j+1:]
	}
	if op.Responses == nil {
		t.Errorf("%s: no responses", key)
		return
	}
	success := false
	for code, rr := range op.Responses.Map() {
		if strings.HasPrefix(code, "2") {
			success = true
			continue
		}
		if rr.Value == nil || rr.Value.Content.Get("application/json") == nil {
			t.Errorf("%s: response %s has no application/json body", key, code)
			continue
		}
		s := rr.Value.Content.Get("application/json").Schema
		if s == nil || s.Ref != "#/components/schemas/Error" {
			t.Errorf("%s: response %s is not the Error schema", key, code)
		}
	}
	if !success {
		t.Errorf("%s: no 2xx response", key)
	}
	if op.Responses.Default() == nil {
		t.Errorf("%s: no default (error) response", key)
	}
}

// openAPITestAPI is an API whose public handlers can run: the shipped
// catalog and a readiness check; no services behind the protected routes.
func openAPITestAPI(t *testing.T, ready error) *API {
	t.Helper()
	cat, err := catalog.Load(catalogfs.Items())
	if err != nil {
		t.Fatalf("loading the shipped catalog: %v", err)
	}
	return &API{Catalog: cat, MaxBody: 1 << 20, MaxBatch: 1 << 20, Ready: func(context.Context) error { return ready }}
}

// TestOpenAPISecurityMatchesHandlers checks that the routes documented as
// public (security: []) are exactly those that answer without a principal,
// and that every other route asks for a bearer token.
func TestOpenAPISecurityMatchesHandlers(t *testing.T) {
	doc := loadOpenAPI(t)
	if len(doc.Security) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Errorf("the document's default security = %v, want bearerAuth", doc.Security)
	}
	a := openAPITestAPI(t, nil)
	for _, rt := range a.Routes() {
		m, p := openAPIRoute(t, rt.Pattern)
		item := doc.Paths.Value(p)
		if item == nil || item.GetOperation(m) == nil {
			continue // reported by TestOpenAPIDocumentsEveryRoute
		}
		op := item.GetOperation(m)
		public := op.Security != nil && len(*op.Security) == 0
		err := callWithoutPrincipal(rt, m, p)
		needsToken := errors.Is(err, errs.Unauthenticated)
		switch {
		case public && needsToken:
			t.Errorf("%s is documented with security: [] but asks for a token", rt.Pattern)
		case !public && !needsToken:
			t.Errorf("%s answers without a token (err = %v) but is not documented with security: []", rt.Pattern, err)
		}
	}
}

// callWithoutPrincipal calls a route's handler anonymously, with example
// path values, and returns its error (a panic counts as one).
func callWithoutPrincipal(rt Route, method, path string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	r := httptest.NewRequest(method, strings.NewReplacer("{code}", "XZCF", "{id}", "0195a3c4e2b07d3f9a1c5e7b2d4f6a80", "{id_number}", "11010519491231002X").Replace(path), nil)
	r.SetPathValue("code", "XZCF")
	r.SetPathValue("id", "0195a3c4e2b07d3f9a1c5e7b2d4f6a80")
	r.SetPathValue("id_number", "11010519491231002X")
	return rt.Handler(httptest.NewRecorder(), r)
}

// TestOpenAPIPublicResponsesValidate runs the public handlers and validates
// their real answers against the specification, as a client would.
func TestOpenAPIPublicResponsesValidate(t *testing.T) {
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("gorillamux.NewRouter: %v", err)
	}
	a := openAPITestAPI(t, nil)
	handlers := map[string]Handler{}
	for _, rt := range a.Routes() {
		handlers[rt.Pattern] = rt.Handler
	}
	cases := []struct {
		pattern, target string
		code            string // path value
		status          int
	}{
		{"GET /healthz", "/healthz", "", http.StatusOK},
		{"GET /readyz", "/readyz", "", http.StatusOK},
		{"GET /api/v1/catalog", "/api/v1/catalog", "", http.StatusOK},
	}
	for _, it := range a.Catalog.Items {
		cases = append(cases, struct {
			pattern, target string
			code            string
			status          int
		}{"GET /api/v1/catalog/{code}", "/api/v1/catalog/" + it.Code, it.Code, http.StatusOK})
	}
	for _, c := range cases {
		t.Run(c.target, func(t *testing.T) {
			h := handlers[c.pattern]
			if h == nil {
				t.Fatalf("no route %s", c.pattern)
			}
			req := httptest.NewRequest(http.MethodGet, c.target, nil)
			if c.code != "" {
				req.SetPathValue("code", c.code)
			}
			rec := httptest.NewRecorder()
			if err := h(rec, req); err != nil {
				t.Fatalf("handler: %v", err)
			}
			if rec.Code != c.status {
				t.Fatalf("status = %d, want %d", rec.Code, c.status)
			}
			validateOpenAPIResponse(t, router, req, rec)
		})
	}
}

func validateOpenAPIResponse(t *testing.T, router routers.Router, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("FindRoute(%s %s): %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s -> %d does not match docs/openapi.yaml: %v\nbody: %.2000s", req.Method, req.URL.Path, rec.Code, err, rec.Body.String())
	}
}
