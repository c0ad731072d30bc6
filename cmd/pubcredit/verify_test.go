package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/clock"
	"pubcredit/internal/config"
	"pubcredit/internal/ledger"
	"pubcredit/internal/store/postgres/pgtest"
	"pubcredit/internal/vault"
)

func TestVerifyCommandSQLite(t *testing.T) {
	t.Parallel()
	testVerifyCommand(t, "")
}

func TestVerifyCommandPostgres(t *testing.T) {
	t.Parallel()
	testVerifyCommand(t, pgtest.URL(t))
}

// testVerifyCommand fills a platform with `pubcredit demo`, integrates its
// leaves, and checks that `pubcredit verify` passes, then fails naming the
// row changed behind the platform's back.
func testVerifyCommand(t *testing.T, dbURL string) {
	p := newPlatform(t, dbURL, nil)
	p.mustRun(t, nil, "demo", "--people", "4")
	integrateLedger(t, p)

	t.Run("a clean database verifies", func(t *testing.T) {
		r := p.run(t, nil, "verify")
		if r.Code != 0 {
			t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "OK:") || !strings.Contains(r.Stdout, "checkpoints: 1") {
			t.Errorf("stdout does not report success and one checkpoint:\n%s", r.Stdout)
		}
	})
	t.Run("a key other than the ledger's fails", func(t *testing.T) {
		other := newSigner(t, "pubcredit.local/ledger")
		r := p.run(t, nil, "verify", "--key", other.VerifierKey())
		if r.Code != 1 || !strings.Contains(r.Stdout, "checkpoint ledger_checkpoints") {
			t.Errorf("exit %d, want 1 naming the checkpoint\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
	})
	t.Run("a records row changed behind the platform's back is named", func(t *testing.T) {
		db := openRaw(t, p)
		id := db.firstRecord(t)
		db.exec(t, `UPDATE records SET payload = ? WHERE id = ?`, []byte("forged"), id)
		r := p.run(t, nil, "verify")
		if r.Code != 1 {
			t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "changed records "+id+": ") || !strings.Contains(r.Stdout, "FAILED: 1 problems") {
			t.Errorf("stdout does not name the record %s:\n%s", id, r.Stdout)
		}
		if !strings.Contains(r.Stderr, "does not match its ledger") {
			t.Errorf("stderr does not say the database fails:\n%s", r.Stderr)
		}
	})
}

// integrateLedger signs a checkpoint over every leaf, as a running server
// does within a second.
func integrateLedger(t *testing.T, p *platform) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DB, cfg.Keys = p.db, p.keys
	st, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	keys, err := vault.Load(p.keys)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner(cfg.LedgerOrigin, keys.Signer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&ledger.Log{Store: st, Signer: signer, Clock: p.clock, Batch: 1000}).Integrate(ctx); err != nil {
		t.Fatal(err)
	}
}

// rawDB is a direct connection to a platform's database, for tampering.
type rawDB struct {
	sqlite *sql.DB
	pg     *pgx.Conn
}

func openRaw(t *testing.T, p *platform) rawDB {
	t.Helper()
	if path, ok := strings.CutPrefix(p.db, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return rawDB{sqlite: db}
	}
	conn, err := pgx.Connect(context.Background(), p.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return rawDB{pg: conn}
}

// exec runs one statement with ? placeholders that must change one row.
func (d rawDB) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	var n int64
	if d.sqlite != nil {
		res, err := d.sqlite.Exec(query, args...)
		if err != nil {
			t.Fatal(err)
		}
		n, _ = res.RowsAffected()
	} else {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
		}
		tag, err := d.pg.Exec(context.Background(), query, args...)
		if err != nil {
			t.Fatal(err)
		}
		n = tag.RowsAffected()
	}
	if n != 1 {
		t.Fatalf("%s: %d rows changed, want 1", query, n)
	}
}

func (d rawDB) firstRecord(t *testing.T) string {
	t.Helper()
	const q = `SELECT id FROM records ORDER BY id LIMIT 1`
	var id string
	var err error
	if d.sqlite != nil {
		err = d.sqlite.QueryRow(q).Scan(&id)
	} else {
		err = d.pg.QueryRow(context.Background(), q).Scan(&id)
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newSigner(t *testing.T, origin string) *ledger.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ledger.NewSigner(origin, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testLog is a log in memory: tlog's stored hashes of its leaves.
type testLog struct {
	n      int64
	hashes []tlog.Hash
}

func (l *testLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, ix := range indexes {
		if ix < 0 || ix >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", ix)
		}
		out[i] = l.hashes[ix]
	}
	return out, nil
}

// newTestLog returns the log of n leaves named prefix0, prefix1, ...
func newTestLog(t *testing.T, prefix string, n int) *testLog {
	t.Helper()
	l := &testLog{}
	for i := range n {
		hs, err := tlog.StoredHashes(int64(i), []byte(prefix+strconv.Itoa(i)), l)
		if err != nil {
			t.Fatal(err)
		}
		l.hashes = append(l.hashes, hs...)
		l.n++
	}
	return l
}

// logServer serves a log's signed checkpoint and consistency proofs as
// the platform does.
type logServer struct {
	mu     sync.Mutex
	log    *testLog
	signer *ledger.Signer
	srv    *httptest.Server
}

func newLogServer(t *testing.T, signer *ledger.Signer) *logServer {
	t.Helper()
	s := &logServer{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ledger/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		root, err := tlog.TreeHash(s.log.n, s.log)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		signed, err := s.signer.SignCheckpoint(ledger.Checkpoint{Origin: s.signer.Name(), Size: s.log.n, Root: root})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(signed)
	})
	mux.HandleFunc("GET /api/v1/ledger/proofs/consistency", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		if err1 != nil || err2 != nil || to > s.log.n {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		p, err := ledger.ProveConsistency(from, to, s.log)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *logServer) sign(signer *ledger.Signer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signer = signer
}

func (s *logServer) serve(l *testLog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = l
}

func TestWitness(t *testing.T) {
	t.Parallel()
	signer := newSigner(t, "witness.example/ledger")
	srv := newLogServer(t, signer)
	state := filepath.Join(t.TempDir(), "witness.json")
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	witness := func(t *testing.T, key string) cliResult {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := RunEnv(context.Background(), []string{"witness", "--url", srv.srv.URL + "/", "--key", key, "--state", state},
			Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: getenv(nil), Clock: clock.NewFixed(now)})
		return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
	}
	ok := func(t *testing.T, want string) {
		t.Helper()
		r := witness(t, signer.VerifierKey())
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Fatalf("exit %d, want 0 and %q\nstdout:\n%s\nstderr:\n%s", r.Code, want, r.Stdout, r.Stderr)
		}
	}
	// fails checks that the witness fails saying every part of want, and
	// leaves the state file as it was.
	fails := func(t *testing.T, key string, want ...string) {
		t.Helper()
		before, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		r := witness(t, key)
		if r.Code == 0 {
			t.Fatalf("exit 0, want a failure\nstdout:\n%s", r.Stdout)
		}
		for _, w := range want {
			if !strings.Contains(r.Stderr, w) {
				t.Errorf("stderr does not say %q:\n%s", w, r.Stderr)
			}
		}
		if after, _ := os.ReadFile(state); !bytes.Equal(before, after) {
			t.Errorf("the state file changed on a failure:\n%s", after)
		}
	}
	rootOf := func(l *testLog) string {
		root, err := tlog.TreeHash(l.n, l)
		if err != nil {
			t.Fatal(err)
		}
		return hashB64(root)
	}

	log10 := newTestLog(t, "leaf", 10)
	srv.serve(log10)
	t.Run("the first run records the checkpoint", func(t *testing.T) {
		ok(t, "first checkpoint of witness.example/ledger: size 10")
		var s witnessState
		b, _ := os.ReadFile(state)
		if err := json.Unmarshal(b, &s); err != nil || s.Format != WitnessFormat || s.Size != 10 || s.Root != rootOf(log10) || !s.SeenAt.Equal(now) {
			t.Errorf("state %s (%v)", b, err)
		}
	})
	t.Run("the same checkpoint again passes", func(t *testing.T) {
		ok(t, "unchanged at size 10")
	})
	log25 := newTestLog(t, "leaf", 25)
	t.Run("a grown log with a valid consistency proof passes", func(t *testing.T) {
		srv.serve(log25)
		ok(t, "grew from size 10 to 25, consistent")
	})
	t.Run("a rewritten history of the same size fails naming both roots", func(t *testing.T) {
		forged := newTestLog(t, "forged", 25)
		srv.serve(forged)
		fails(t, signer.VerifierKey(), "the log was rewritten", "size 25", rootOf(log25), rootOf(forged), "evidence")
	})
	t.Run("a rewritten history that grew fails: the proof does not verify", func(t *testing.T) {
		forged := newTestLog(t, "forged", 40)
		srv.serve(forged)
		fails(t, signer.VerifierKey(), "the log was rewritten", "size 25", "size 40", rootOf(log25), rootOf(forged), "not a prefix")
	})
	t.Run("a rollback fails naming both sizes", func(t *testing.T) {
		srv.serve(log10)
		fails(t, signer.VerifierKey(), "rolled back to size 10", rootOf(log10), "size 25", rootOf(log25))
	})
	t.Run("a state recorded under another key fails", func(t *testing.T) {
		srv.serve(log25)
		other := newSigner(t, "witness.example/ledger")
		fails(t, other.VerifierKey(), "its checkpoint does not verify with the key")
	})
	t.Run("a checkpoint signed by another key fails", func(t *testing.T) {
		srv.sign(newSigner(t, "witness.example/ledger"))
		fails(t, signer.VerifierKey(), "serves does not verify with the key")
		srv.sign(signer)
	})
	t.Run("the log still verifies after the failures", func(t *testing.T) {
		srv.serve(newTestLog(t, "leaf", 30))
		ok(t, "grew from size 25 to 30")
	})
}

func TestWitnessRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"witness"},
		{"witness", "--url", "ftp://example.org", "--key", "k", "--state", "s"},
		{"witness", "--url", "http://example.org", "--key", "k"},
	} {
		var stdout, stderr bytes.Buffer
		code := RunEnv(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: getenv(nil), Clock: clock.NewFixed(e2eNow)})
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)\n%s", args, code, stderr.String())
		}
	}
}
