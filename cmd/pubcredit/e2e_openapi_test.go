package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specPath is the API description every answer in these tests must match.
var specPath = filepath.Join("..", "..", "docs", "openapi.yaml")

// apiSpec is docs/openapi.yaml, loaded and routed.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	specOnce sync.Once
	specVal  *apiSpec
	specErr  error
)

// loadSpec loads docs/openapi.yaml once per test process. It returns an
// error that says what is wrong when the file is missing or not usable.
func loadSpec() (*apiSpec, error) {
	specOnce.Do(func() { specVal, specErr = readSpec(specPath) })
	return specVal, specErr
}

func readSpec(path string) (*apiSpec, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is missing (%v): every answer of the end-to-end tests is validated against it (issue 2, part 13)", err)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml cannot be loaded: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	// Match paths only: the tests' servers listen on random ports, so keep
	// the path of the first server (a base path such as /api) and drop its host.
	var base string
	if len(doc.Servers) > 0 {
		if u, err := url.Parse(doc.Servers[0].URL); err == nil {
			base = u.Path
		}
	}
	doc.Servers = nil
	if base != "" && base != "/" {
		doc.Servers = openapi3.Servers{{URL: base}}
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml cannot be routed: %w", err)
	}
	return &apiSpec{doc: doc, router: router}, nil
}

// validate checks one answer against the description of its route: the
// route and method must be described, the status must be one the operation
// lists (or its default), and the body must match that response's schema.
func (s *apiSpec) validate(sent *http.Request, r response) error {
	req := sent.Clone(context.Background())
	req.Body = http.NoBody
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return fmt.Errorf("the method %s is not described for this path", req.Method)
		}
		return fmt.Errorf("the route is not described: %w", err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header, Options: opts}
	out.SetBodyBytes(r.Body)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// TestOpenAPIValidationBites makes sure the validation the end-to-end
// answers go through is live: an answer that breaks the description fails.
func TestOpenAPIValidationBites(t *testing.T) {
	spec, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/api/v1/records/"+strings.Repeat("0", 32), nil)
	json := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for name, r := range map[string]response{
		"a record without its fields":      {Status: http.StatusOK, Header: json, Body: []byte(`{"version": "one"}`)},
		"a status the route does not list": {Status: http.StatusTeapot, Header: json, Body: []byte(`{}`)},
		"an error without its shape":       {Status: http.StatusNotFound, Header: json, Body: []byte(`{"message": "no"}`)},
	} {
		if err := spec.validate(req, r); err == nil {
			t.Errorf("%s validates against docs/openapi.yaml", name)
		}
	}
	req, _ = http.NewRequest(http.MethodDelete, "http://127.0.0.1:1/api/v1/catalog", nil)
	if err := spec.validate(req, response{Status: http.StatusOK, Header: json, Body: []byte(`{}`)}); err == nil {
		t.Errorf("DELETE /api/v1/catalog validates: the route lookup does not check methods")
	}
}
