package webhook

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPost(t *testing.T) {
	var gotHeader http.Header
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotHeader, gotBody = r.Header.Clone(), string(b)
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/elsewhere":
			t.Errorf("the redirect was followed")
		case "/big":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(strings.Repeat("x", 1<<20)))
		case "/close":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case "/hang":
			<-r.Context().Done()
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c := New(300 * time.Millisecond)
	ctx := t.Context()

	status, err := c.Post(ctx, srv.URL+"/hook", map[string]string{"Pubcredit-Event": "record.created", "Content-Type": "application/json"}, []byte(`{"id":"x"}`))
	if err != nil || status != http.StatusNoContent || gotBody != `{"id":"x"}` || gotHeader.Get("Pubcredit-Event") != "record.created" {
		t.Errorf("Post = %d, %v; the receiver got %q %v", status, err, gotBody, gotHeader)
	}
	if status, err := c.Post(ctx, srv.URL+"/redirect", nil, nil); err != nil || status != http.StatusFound {
		t.Errorf("a redirect: %d, %v; want 302 answered, not followed", status, err)
	}
	if status, err := c.Post(ctx, srv.URL+"/big", nil, nil); err != nil || status != http.StatusInternalServerError {
		t.Errorf("a long answer: %d, %v; want its status", status, err)
	}
	for path, want := range map[string]string{"/close": "closed the connection", "/hang": "no answer within 300ms"} {
		start := time.Now()
		status, err := c.Post(ctx, srv.URL+path, nil, nil)
		if err == nil || status != 0 || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %d, %v; want an error saying %q", path, status, err, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", path, d)
		}
	}
	srv.Close()
	if _, err := c.Post(ctx, srv.URL+"/hook", nil, nil); err == nil || !strings.Contains(err.Error(), "cannot connect") {
		t.Errorf("a closed port: %v; want cannot connect", err)
	}
	if strings.Contains(func() string { _, err := c.Post(ctx, "http://127.0.0.1:1/secret-path", nil, nil); return err.Error() }(), "secret-path") {
		t.Errorf("the error repeats the URL")
	}
}
