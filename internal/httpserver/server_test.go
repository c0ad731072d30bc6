package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"pubcredit/internal/api"
	"pubcredit/internal/errs"
)

// logLines decodes the JSON log lines written to buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestRenderErrorLogLevels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		level  string // of the line about the failure; "" for none
	}{
		{"logs an unavailable answer as a warning: the caller retries", errs.E(errs.Unavailable, "the ledger has not yet covered leaf 3; retry in a second"), 503, "WARN"},
		{"logs an internal error as an error", errs.Wrap(errs.Internal, errors.New("disk on fire"), "internal error"), 500, "ERROR"},
		{"logs an error without a kind as an error", errors.New("unexpected"), 500, "ERROR"},
		{"does not log a caller's mistake as a failure", errs.E(errs.NotFound, "no such record"), 404, ""},
		{"does not log a malformed request as a failure", errs.E(errs.Malformed, "index must be a number"), 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := New(":0", []api.Route{{Pattern: "GET /x", Handler: func(w http.ResponseWriter, r *http.Request) error { return tc.err }}},
				nil, log, nil, Timeouts{})
			rec := httptest.NewRecorder()
			srv.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			var level string
			for _, l := range logLines(t, &buf) {
				if l["msg"] == "request" {
					continue // the access line, at INFO for every request
				}
				if level != "" {
					t.Errorf("more than one line about the failure: %s", buf.String())
				}
				level, _ = l["level"].(string)
			}
			if level != tc.level {
				t.Errorf("the failure is logged at %q, want %q:\n%s", level, tc.level, buf.String())
			}
		})
	}
}
