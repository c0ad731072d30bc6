// Package httpserver is the HTTP server: routes, middleware, timeouts, and
// the single place where errors become responses. A caller never sees an
// internal error's text; every error has the shape
// {"error": {"code", "message", "details": [{"field", "code", "message"}]}}.
package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"pubcredit/internal/api"
	"pubcredit/internal/auth"
	"pubcredit/internal/errs"
)

// Authenticator turns a bearer token into a principal.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*auth.Principal, error)
}

// Timeouts of the server.
type Timeouts struct {
	Read, Write, Idle time.Duration
}

// New returns the HTTP server for the routes. reg may be nil (no metrics).
func New(addr string, routes []api.Route, authn Authenticator, log *slog.Logger, reg prometheus.Registerer, t Timeouts) *http.Server {
	m := newMetrics(reg)
	mux := http.NewServeMux()
	allowed := map[string][]string{} // path -> methods
	var paths []string
	for _, rt := range routes {
		mux.Handle(rt.Pattern, handle(rt.Pattern, rt.Handler, authn, log, m))
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if allowed[path] == nil {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
	}
	// Any other method on a known path: 405 in the one error shape.
	for _, path := range paths {
		methods := strings.Join(allowed[path], ", ")
		mux.Handle(path, handle(path, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", methods)
			return errs.E(errs.MethodNotAllowed, "%s is not allowed here; use %s", r.Method, methods)
		}, authn, log, m))
	}
	mux.Handle("/", handle("unmatched", func(w http.ResponseWriter, r *http.Request) error {
		return errs.E(errs.NotFound, "no such route: %s %s", r.Method, cleanPath(r.URL.Path))
	}, authn, log, m))
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// cleanPath shows at most the route shape of a path: identity numbers may
// stand in paths and must not be echoed or logged.
func cleanPath(p string) string {
	if len(p) > 64 {
		p = p[:64] + "…"
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if len(s) >= 6 && strings.ContainsAny(s, "0123456789") {
			parts[i] = "…"
		}
	}
	return strings.Join(parts, "/")
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handle wraps a handler with authentication, recovery, logging, metrics and
// error rendering. route is the pattern, logged instead of the path.
func handle(route string, h api.Handler, authn Authenticator, log *slog.Logger, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		var principal string
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic", "route", route, "panic", v)
				if sw.status == 0 {
					renderError(sw, r, errs.E(errs.Internal, "internal error"), log, route)
				}
			}
			d := time.Since(start)
			m.observe(route, sw.status, d)
			log.Info("request", "method", r.Method, "route", route, "status", sw.status, "duration_ms", d.Milliseconds(), "principal", principal)
		}()
		if err := cleanRequest(r); err != nil {
			renderError(sw, r, err, log, route)
			return
		}
		if hdr := r.Header.Get("Authorization"); hdr != "" {
			token, ok := strings.CutPrefix(hdr, "Bearer ")
			if !ok {
				renderError(sw, r, errs.E(errs.Unauthenticated, "the Authorization header must be \"Bearer TOKEN\""), log, route)
				return
			}
			p, err := authn.Authenticate(r.Context(), strings.TrimSpace(token))
			if err != nil {
				renderError(sw, r, err, log, route)
				return
			}
			principal = string(p.Kind) + ":" + p.ID
			r = r.WithContext(auth.With(r.Context(), p))
		}
		if err := h(sw, r); err != nil {
			renderError(sw, r, err, log, route)
		}
	})
}

// cleanRequest refuses a path holding a NUL byte or invalid UTF-8: no
// identifier or code of this API contains them (and databases refuse them
// in text), so such a path names nothing. Query values are the handlers'
// to check, so that every problem of a request is named at once.
func cleanRequest(r *http.Request) error {
	if strings.ContainsRune(r.URL.Path, 0) || !utf8.ValidString(r.URL.Path) {
		return errs.E(errs.NotFound, "no such resource")
	}
	return nil
}

// Status maps each error kind to its HTTP status.
var Status = map[errs.Kind]int{
	errs.Malformed:        http.StatusBadRequest,
	errs.Invalid:          http.StatusUnprocessableEntity,
	errs.Unauthenticated:  http.StatusUnauthorized,
	errs.Forbidden:        http.StatusForbidden,
	errs.NotFound:         http.StatusNotFound,
	errs.Conflict:         http.StatusConflict,
	errs.MethodNotAllowed: http.StatusMethodNotAllowed,
	errs.TooLarge:         http.StatusRequestEntityTooLarge,
	errs.Unavailable:      http.StatusServiceUnavailable,
	errs.Internal:         http.StatusInternalServerError,
}

type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []errs.FieldError `json:"details"`
}

// drainLimit is how much of a body over the limit is read and discarded so
// that its sender reads the 413 rather than a reset connection; a sender
// of still more has its connection closed under it.
const drainLimit = 64 << 20

// renderError writes err as the one error shape. Internal causes are logged,
// never sent.
func renderError(w *statusWriter, r *http.Request, err error, log *slog.Logger, route string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = errs.E(errs.TooLarge, "the body is larger than %d bytes", tooBig.Limit)
	}
	kind, msg, details := errs.Public(err)
	status, ok := Status[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	switch {
	case kind == errs.Unavailable:
		// Expected and retried (a receipt before its checkpoint, overload,
		// a database away for a moment): worth noticing when it persists,
		// not an error of the platform.
		log.Warn("request unavailable", "route", route, "kind", kind, "err", err.Error())
	case status >= 500:
		log.Error("request failed", "route", route, "kind", kind, "err", err.Error())
	}
	if w.status != 0 {
		return // the answer has started; nothing more can be said
	}
	if kind == errs.TooLarge {
		// The client is most likely still sending. Closing now would reset
		// the connection under it, and it would never read the answer:
		// read the rest (up to drainLimit) first, and close after answering.
		// A client that asked to be told before it sends (Expect:
		// 100-continue) and was refused before anything was read has sent
		// nothing: reading would ask it for the body.
		w.Header().Set("Connection", "close")
		if !errors.Is(err, api.ErrUnread) || !strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
			io.Copy(io.Discard, io.LimitReader(r.Body, drainLimit))
		}
	}
	if details == nil {
		details = []errs.FieldError{}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	switch kind {
	case errs.Unauthenticated:
		h.Set("WWW-Authenticate", `Bearer realm="pubcredit"`)
	case errs.Unavailable:
		h.Set("Retry-After", strconv.Itoa(1))
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorBody{errorJSON{Code: string(kind), Message: msg, Details: details}})
}
