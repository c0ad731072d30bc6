package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
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

// demoLedger is a platform on dbURL filled with `pubcredit demo` for people
// people, its leaves under a signed checkpoint.
func demoLedger(t *testing.T, dbURL string, people int) *platform {
	t.Helper()
	p := newPlatform(t, dbURL, nil)
	p.mustRun(t, nil, "demo", "--people", strconv.Itoa(people))
	integrateLedger(t, p)
	return p
}

// testVerifyCommand fills a platform with `pubcredit demo`, integrates its
// leaves, and checks that `pubcredit verify` passes, then fails naming the
// row changed behind the platform's back.
func testVerifyCommand(t *testing.T, dbURL string) {
	p := demoLedger(t, dbURL, 4)

	t.Run("a clean database verifies", func(t *testing.T) {
		r := p.run(t, nil, "verify")
		if r.Code != 0 {
			t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "OK:") || !strings.Contains(r.Stdout, "checkpoints: 1") {
			t.Errorf("stdout does not report success and one checkpoint:\n%s", r.Stdout)
		}
	})
	t.Run("a key other than the ledger's is a setup error naming both keys (exit 2)", func(t *testing.T) {
		other := newSigner(t, "pubcredit.local/ledger")
		r := p.run(t, nil, "verify", "--key", other.VerifierKey())
		if r.Code != 2 || !strings.Contains(r.Stderr, "the checkpoints are signed as pubcredit.local/ledger+") ||
			!strings.Contains(r.Stderr, fmt.Sprintf("not %s (the key from --key)", keyName(t, other.VerifierKey()))) {
			t.Errorf("exit %d, want 2 naming both keys\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
		if strings.Contains(r.Stdout, "ledger_checkpoints") || strings.Contains(r.Stdout, "FAILED") {
			t.Errorf("a setup error reported as tampering:\n%s", r.Stdout)
		}
	})
	t.Run("another --ledger-origin is a setup error naming both origins (exit 2)", func(t *testing.T) {
		r := p.run(t, nil, "verify", "--ledger-origin", "other.example/ledger")
		if r.Code != 2 || !strings.Contains(r.Stderr, "signed as pubcredit.local/ledger+") || !strings.Contains(r.Stderr, "not other.example/ledger+") ||
			!strings.Contains(r.Stderr, "pass --ledger-origin pubcredit.local/ledger") {
			t.Errorf("exit %d, want 2 naming both origins\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
	})
	t.Run("a malformed key is a usage error (exit 2)", func(t *testing.T) {
		if r := p.run(t, nil, "verify", "--key", "not-a-key"); r.Code != 2 || !strings.Contains(r.Stderr, "--key") {
			t.Errorf("exit %d, want 2\nstderr:\n%s", r.Code, r.Stderr)
		}
	})
	t.Run("the help tells the exit codes and opens nothing", func(t *testing.T) {
		r := p.run(t, nil, "verify", "--help")
		if r.Code != 0 || !strings.Contains(r.Stderr, "Exit codes:") || !strings.Contains(r.Stderr, "1  problems found") || !strings.Contains(r.Stderr, "2  the check could not run") {
			t.Errorf("exit %d\nstderr:\n%s", r.Code, r.Stderr)
		}
	})
	if strings.HasPrefix(p.db, "sqlite:") {
		t.Run("a read-only copy verifies and is left as it was: mode, bytes, no files beside it", func(t *testing.T) {
			dir := t.TempDir()
			cp := filepath.Join(dir, "copy.db") // a rollback-journal copy, as VACUUM INTO makes it
			db := openRaw(t, p)
			if _, err := db.sqlite.Exec(`VACUUM INTO ?`, cp); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(cp, 0o444); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(cp)
			if err != nil {
				t.Fatal(err)
			}
			r := p.run(t, nil, "verify", "--db", "sqlite:"+cp)
			if r.Code != 0 || !strings.Contains(r.Stdout, "OK:") {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
			}
			after, err := os.ReadFile(cp)
			fi, _ := os.Stat(cp)
			if err != nil || !bytes.Equal(before, after) || fi.Mode().Perm() != 0o444 {
				t.Errorf("verify changed the copy: same bytes %v, mode %v", bytes.Equal(before, after), fi.Mode().Perm())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("files beside the copy after verify: %v, want copy.db alone", names)
			}
		})
		t.Run("a SQLite database that is not the platform's is refused as such (exit 2)", func(t *testing.T) {
			other := filepath.Join(t.TempDir(), "other.db")
			db, err := sql.Open("sqlite", "file:"+other)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`CREATE TABLE x (a)`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			before, _ := os.ReadFile(other)
			r := p.run(t, nil, "verify", "--db", "sqlite:"+other)
			if r.Code != 2 || !strings.Contains(r.Stderr, "not a pubcredit database") {
				t.Errorf("exit %d, want 2 saying not a pubcredit database\nstderr:\n%s", r.Code, r.Stderr)
			}
			if after, _ := os.ReadFile(other); !bytes.Equal(before, after) {
				t.Errorf("verify changed a database that is not the platform's")
			}
		})
	}
	t.Run("a records row changed behind the platform's back is named", func(t *testing.T) {
		db := openRaw(t, p)
		id := db.firstRecord(t)
		db.exec(t, `UPDATE records SET payload = ? WHERE id = ?`, []byte("forged"), id)
		r := p.run(t, nil, "verify")
		if r.Code != 1 {
			t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "changed records "+id+": ") || !strings.Contains(r.Stdout, "FAILED: 1 problem\n") {
			t.Errorf("stdout does not name the record %s and one problem:\n%s", id, r.Stdout)
		}
		if !strings.Contains(r.Stderr, "does not match its ledger: 1 problem\n") {
			t.Errorf("stderr does not say the database fails:\n%s", r.Stderr)
		}
	})
	t.Run("a checkpoint changed under the ledger's own key is tampering, not a setup error (exit 1)", func(t *testing.T) {
		db := openRaw(t, p)
		size, signed := db.newestCheckpoint(t)
		lines := strings.SplitN(string(signed), "\n", 4)
		lines[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // another root, the signature lines kept
		db.exec(t, `UPDATE ledger_checkpoints SET signed = ? WHERE size = ?`, []byte(strings.Join(lines, "\n")), size)
		r := p.run(t, nil, "verify")
		if r.Code != 1 || !strings.Contains(r.Stdout, "checkpoint ledger_checkpoints "+strconv.FormatInt(size, 10)) {
			t.Errorf("exit %d, want 1 naming the checkpoint\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
	})
	t.Run("a newest checkpoint forged with another key of the ledger's name is tampering (exit 1), and the rows are still checked", func(t *testing.T) {
		// A second checkpoint, over a record imported after the first.
		who := newPerson()
		p.mustRun(t, nil, "import", writeFile(t, "more.ndjson", ndjson(t, penalty(who, p.uniq("V"), "2026-11-02", nil))), "--dept", "TJ-SCJG", "--item", "XZCF")
		integrateLedger(t, p)
		db := openRaw(t, p)
		size, signed := db.newestCheckpoint(t)
		lines := strings.SplitN(string(signed), "\n", 4)
		var root tlog.Hash
		if b, err := base64.StdEncoding.DecodeString(lines[2]); err != nil || copy(root[:], b) != len(root) {
			t.Fatalf("the newest checkpoint's root %q: %v", lines[2], err)
		}
		forged, err := newSigner(t, lines[0]).SignCheckpoint(ledger.Checkpoint{Origin: lines[0], Size: size, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		db.exec(t, `UPDATE ledger_checkpoints SET signed = ? WHERE size = ?`, forged, size)
		r := p.run(t, nil, "verify")
		if r.Code != 1 || strings.Contains(r.Stderr, "setup error") || !strings.Contains(r.Stdout, "checkpoint ledger_checkpoints "+strconv.FormatInt(size, 10)) {
			t.Errorf("exit %d, want 1 naming the forged checkpoint %d\nstdout:\n%s\nstderr:\n%s", r.Code, size, r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.Stdout, "changed records ") {
			t.Errorf("the record changed before is not named: the rows were not checked\nstdout:\n%s", r.Stdout)
		}
	})
}

// TestVerifyCommandCannotRun checks that verify tells a failure to check
// (exit 2) from a finding (exit 1), and creates nothing.
func TestVerifyCommandCannotRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := writeFile(t, "notes.db", []byte("this is not a database, just some text that is long enough to have a header\n"))
	missing := filepath.Join(dir, "missing", "pubcredit.db")
	empty := writeFile(t, "empty.db", nil)
	other := newSigner(t, "pubcredit.local/ledger")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a database that does not exist", []string{"verify", "--db", "sqlite:" + missing, "--key", other.VerifierKey()}, "database sqlite:" + missing},
		{"a file that is not a database", []string{"verify", "--db", "sqlite:" + notDB, "--key", other.VerifierKey()}, "the file is not a SQLite database"},
		{"an empty file", []string{"verify", "--db", "sqlite:" + empty, "--key", other.VerifierKey()}, "the file is empty"},
		{"no keyring and no --key", []string{"verify", "--db", "sqlite:" + notDB, "--keys", filepath.Join(dir, "keys.json")}, "keys:"},
		{"an unknown flag", []string{"verify", "--nope"}, "not defined: -nope"},
		{"an argument", []string{"verify", "extra"}, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := RunEnv(context.Background(), tc.args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: getenv(nil), Clock: clock.NewFixed(e2eNow)})
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, want 2 saying %q\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout.String(), stderr.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Errorf("verify created %s", filepath.Dir(missing))
	}
	if _, err := os.Stat(filepath.Join(dir, "keys.json")); err == nil {
		t.Errorf("verify created a keyring")
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("verify wrote to an empty file: %v, %v", fi, err)
	}
	for _, f := range []string{empty, notDB} {
		if _, err := os.Stat(f + "-wal"); err == nil {
			t.Errorf("verify made a WAL beside %s", f)
		}
	}
	if b, err := os.ReadFile(notDB); err != nil || !strings.HasPrefix(string(b), "this is not a database") {
		t.Errorf("verify changed a file that is not a database: %q, %v", b, err)
	}
}

// keyName is the "name+hash" of a verifier key.
func keyName(t *testing.T, vkey string) string {
	t.Helper()
	name, rest, _ := strings.Cut(vkey, "+")
	hash, _, _ := strings.Cut(rest, "+")
	return name + "+" + hash
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
	if n := d.execAny(t, query, args...); n != 1 {
		t.Fatalf("%s: %d rows changed, want 1", query, n)
	}
}

// execAny runs one statement with ? placeholders and returns the number of
// rows it changed.
func (d rawDB) execAny(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	if d.sqlite != nil {
		res, err := d.sqlite.Exec(query, args...)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := res.RowsAffected()
		return n
	}
	for i := 1; strings.Contains(query, "?"); i++ {
		query = strings.Replace(query, "?", "$"+strconv.Itoa(i), 1)
	}
	tag, err := d.pg.Exec(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	return tag.RowsAffected()
}

// newestCheckpoint returns the newest stored checkpoint and its size.
func (d rawDB) newestCheckpoint(t *testing.T) (int64, []byte) {
	t.Helper()
	const q = `SELECT size, signed FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`
	var size int64
	var signed []byte
	var err error
	if d.sqlite != nil {
		err = d.sqlite.QueryRow(q).Scan(&size, &signed)
	} else {
		err = d.pg.QueryRow(context.Background(), q).Scan(&size, &signed)
	}
	if err != nil {
		t.Fatal(err)
	}
	return size, signed
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
	mu      sync.Mutex
	log     *testLog
	signer  *ledger.Signer
	srv     *httptest.Server
	garbled bool // consistency proofs are answered 200 with HTML
}

func newLogServer(t *testing.T, signer *ledger.Signer) *logServer {
	t.Helper()
	s := &logServer{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ledger/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.log == nil {
			http.Error(w, "no checkpoint yet", http.StatusServiceUnavailable)
			return
		}
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
		if s.garbled {
			w.Write([]byte("<html>oops</html>"))
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
	// fails checks that the witness fails with exit code (1 for a finding,
	// 2 for a failure to check) saying every part of want, and leaves the
	// state file as it was.
	fails := func(t *testing.T, code int, key string, want ...string) {
		t.Helper()
		before, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		r := witness(t, key)
		if r.Code != code {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.Code, code, r.Stdout, r.Stderr)
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
		fails(t, 1, signer.VerifierKey(), "the log was rewritten", "size 25", rootOf(log25), rootOf(forged), "evidence")
	})
	t.Run("a rewritten history that grew fails: the proof does not verify", func(t *testing.T) {
		forged := newTestLog(t, "forged", 40)
		srv.serve(forged)
		fails(t, 1, signer.VerifierKey(), "the log was rewritten", "size 25", "size 40", rootOf(log25), rootOf(forged), "not a prefix")
	})
	t.Run("a rollback fails naming both sizes", func(t *testing.T) {
		srv.serve(log10)
		fails(t, 1, signer.VerifierKey(), "rolled back to size 10", rootOf(log10), "size 25", rootOf(log25))
	})
	t.Run("a state recorded under another key fails", func(t *testing.T) {
		srv.serve(log25)
		other := newSigner(t, "witness.example/ledger")
		fails(t, 2, other.VerifierKey(), "its checkpoint does not verify with the key")
	})
	t.Run("a checkpoint signed by another key fails", func(t *testing.T) {
		srv.sign(newSigner(t, "witness.example/ledger"))
		fails(t, 1, signer.VerifierKey(), "serves does not verify with the key")
		srv.sign(signer)
	})
	t.Run("a server answering an error is a failure to check (exit 2)", func(t *testing.T) {
		srv.serve(nil) // no checkpoint: 503
		fails(t, 2, signer.VerifierKey(), "503")
	})
	t.Run("a proof that is not JSON is a failure to check (exit 2), not a rewritten log", func(t *testing.T) {
		srv.mu.Lock()
		srv.garbled = true
		srv.mu.Unlock()
		srv.serve(newTestLog(t, "leaf", 28))
		fails(t, 2, signer.VerifierKey(), "not JSON")
		srv.mu.Lock()
		srv.garbled = false
		srv.mu.Unlock()
	})
	t.Run("the log still verifies after the failures", func(t *testing.T) {
		srv.serve(newTestLog(t, "leaf", 30))
		ok(t, "grew from size 25 to 30")
	})
}

func TestWitnessRefusesBadFlags(t *testing.T) {
	t.Parallel()
	good := newSigner(t, "witness.example/ledger").VerifierKey()
	name, rest, _ := strings.Cut(good, "+")
	hash, key, _ := strings.Cut(rest, "+")
	h, err := strconv.ParseUint(hash, 16, 32)
	if err != nil {
		t.Fatalf("key %q: %v", good, err)
	}
	otherHash := fmt.Sprintf("%08x", uint32(^h))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"witness"}, "required"},
		{[]string{"witness", "--url", "ftp://example.org", "--key", good, "--state", "s"}, "--url"},
		{[]string{"witness", "--url", "http://example.org", "--key", good}, "required"},
		{[]string{"witness", "--url", "http://example.org?x=1", "--key", good, "--state", "s"}, "--url"},
		{[]string{"witness", "--url", "http://example.org/?", "--key", good, "--state", "s"}, "--url"},
		{[]string{"witness", "--url", "http://example.org", "--key", "garbage", "--state", "s"}, "--key"},
		{[]string{"witness", "--url", "http://example.org", "--key", name + "+" + otherHash + "+" + key, "--state", "s"}, "--key"},
	} {
		var stdout, stderr bytes.Buffer
		code := RunEnv(context.Background(), tc.args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: getenv(nil), Clock: clock.NewFixed(e2eNow)})
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, want 2 (usage) naming %s\n%s", tc.args, code, tc.want, stderr.String())
		}
	}
}

// signedReceipt builds a receipt of leaf 2 of a five-leaf log signed by a
// new key, as GET /api/v1/records/{id}/receipt serves it, and returns it
// with the verifier key.
func signedReceipt(t *testing.T) ([]byte, string) {
	t.Helper()
	signer := newSigner(t, "receipt.example/ledger")
	l := &testLog{}
	var leaves [][]byte
	for i := range 5 {
		data := ledger.Leaf{Kind: "record.version", ID: fmt.Sprintf("r%d:1", i), At: e2eNow,
			Commitment: ledger.Commit(bytes.Repeat([]byte{byte(i)}, ledger.SaltSize), []byte("content"))}.Encode()
		hs, err := tlog.StoredHashes(int64(i), data, l)
		if err != nil {
			t.Fatal(err)
		}
		l.hashes, l.n, leaves = append(l.hashes, hs...), l.n+1, append(leaves, data)
	}
	root, err := tlog.TreeHash(l.n, l)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signer.SignCheckpoint(ledger.Checkpoint{Origin: signer.Name(), Size: l.n, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	proof, err := ledger.ProveInclusion(2, l.n, l)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ledger.Receipt{Format: ledger.ReceiptVersion, Leaf: string(leaves[2]), Index: 2, Checkpoint: string(signed), Proof: proof})
	if err != nil {
		t.Fatal(err)
	}
	return b, signer.VerifierKey()
}

func TestVerifyReceiptArguments(t *testing.T) {
	t.Parallel()
	receipt, key := signedReceipt(t)
	file := writeFile(t, "receipt.json", receipt)
	forged := writeFile(t, "forged.json", bytes.Replace(receipt, []byte(`"index":2`), []byte(`"index":3`), 1))
	other := newSigner(t, "receipt.example/ledger").VerifierKey()
	run := func(stdin []byte, args ...string) cliResult {
		var stdout, stderr bytes.Buffer
		code := RunEnv(context.Background(), append([]string{"verify-receipt"}, args...), Env{Stdin: bytes.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
			Getenv: getenv(nil), Clock: clock.NewFixed(e2eNow)})
		return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
	}
	for _, tc := range []struct {
		name  string
		stdin []byte
		args  []string
		code  int
		want  string // in the output
	}{
		{"accepts FILE before --key", nil, []string{file, "--key", key}, 0, "ok: record.version r2:1"},
		{"accepts FILE after --key", nil, []string{"--key", key, file}, 0, "ok: record.version r2:1"},
		{"accepts - before --key, reading standard input", receipt, []string{"-", "--key", key}, 0, "ok: record.version r2:1"},
		{"accepts - after --key, reading standard input", receipt, []string{"--key", key, "-"}, 0, "ok: record.version r2:1"},
		{"accepts --key=KEY with -", receipt, []string{"-", "--key=" + key}, 0, "ok: record.version r2:1"},
		{"refuses a changed receipt (exit 1)", nil, []string{forged, "--key", key}, 1, "verify-receipt: "},
		{"refuses a changed receipt on standard input (exit 1)", bytes.Replace(receipt, []byte(`"index":2`), []byte(`"index":3`), 1), []string{"-", "--key", key}, 1, "verify-receipt: "},
		{"refuses another key (exit 1)", nil, []string{file, "--key", other}, 1, "not signed by key"},
		{"refuses an empty standard input (exit 1)", nil, []string{"-", "--key", key}, 1, "malformed receipt"},
		{"cannot run without the file (exit 2)", nil, []string{filepath.Join(t.TempDir(), "none.json"), "--key", key}, 2, "none.json"},
		{"cannot run with a malformed key (exit 2)", nil, []string{file, "--key", "nonsense"}, 2, "--key"},
		{"cannot run without --key (exit 2)", nil, []string{"-"}, 2, "FILE --key KEY"},
		{"cannot run with two files (exit 2)", nil, []string{file, "--key", key, file}, 2, "unexpected arguments"},
		{"cannot run with - and a file (exit 2)", nil, []string{"-", "--key", key, file}, 2, "unexpected arguments"},
		{"prints its help with the exit codes", nil, []string{"--help"}, 0, "Exit codes:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(tc.stdin, tc.args...)
			if r.Code != tc.code || !strings.Contains(r.Stdout+r.Stderr, tc.want) {
				t.Errorf("exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", r.Code, tc.code, tc.want, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestVerifyReceiptSaysWhatFailed: every receipt verify-receipt refuses is
// refused on one line that names what failed and why, with exit 1 (the
// receipt does not verify); the exit codes are those of
// TestVerifyReceiptArguments.
func TestVerifyReceiptSaysWhatFailed(t *testing.T) {
	t.Parallel()
	receipt, key := signedReceipt(t)
	other := newSigner(t, "receipt.example/ledger").VerifierKey() // the same log name, another key
	edit := func(change func(m map[string]any)) []byte { return editJSON(t, receipt, change) }
	proof := func(m map[string]any) map[string]any { return m["proof"].(map[string]any) }
	var rc ledger.Receipt
	if err := json.Unmarshal(receipt, &rc); err != nil {
		t.Fatal(err)
	}
	size := rc.Proof.Size
	body, sigs, _ := strings.Cut(rc.Checkpoint, "\n\n")
	for _, tc := range []struct {
		name    string
		receipt []byte
		key     string
		words   []string // what failed and why, each in the message
	}{
		{"a checkpoint signed by another key names both keys", receipt, other,
			[]string{"not signed by key " + strings.Join(strings.SplitN(other, "+", 3)[:2], "+"), "signed by " + strings.Join(strings.SplitN(key, "+", 3)[:2], "+"), "another key"}},
		{"an altered leaf says its hash is not the proof's", edit(func(m map[string]any) {
			leaf := []byte(m["leaf"].(string))
			if c := &leaf[len(leaf)-2]; *c == '0' { // the commitment's last hex digit
				*c = '1'
			} else {
				*c = '0'
			}
			m["leaf"] = string(leaf)
		}), key, []string{"leaf hashes to", "leaf_hash", "changed"}},
		{"an altered proof hash says the proof does not lead to the root", edit(func(m map[string]any) {
			hs := proof(m)["hashes"].([]any)
			hs[0] = flipHashByte(t, hs[0].(string), 3)
		}), key, []string{"inclusion proof for index 2", "do not lead", "root", "proof hash"}},
		{"a proof for a tree larger than the checkpoint's says so", edit(func(m map[string]any) {
			proof(m)["size"] = json.Number(strconv.FormatInt(size+5, 10))
		}), key, []string{fmt.Sprintf("tree of size %d", size+5), fmt.Sprintf("checkpoint's %d", size)}},
		{"an index past the checkpoint's tree says so", edit(func(m map[string]any) {
			ix := json.Number(strconv.FormatInt(size+3, 10))
			m["index"], proof(m)["index"] = ix, ix
		}), key, []string{fmt.Sprintf("index %d is outside", size+3), fmt.Sprintf("tree of size %d", size)}},
		{"a changed checkpoint says its signature does not verify", edit(func(m map[string]any) {
			m["checkpoint"] = strings.Replace(body, "\n5\n", "\n6\n", 1) + "\n\n" + sigs
		}), key, []string{"signature", "does not verify", "changed"}},
		{"an unsigned checkpoint says it is not a signed note", edit(func(m map[string]any) { m["checkpoint"] = body + "\n" }), key,
			[]string{"checkpoint", "not a signed note"}},
		{"a receipt cut short says the JSON ends early", receipt[:len(receipt)/2], key, []string{"malformed receipt", "ends too early"}},
		{"a receipt that is not JSON says where", []byte(`{"format": x}`), key, []string{"malformed receipt", "invalid JSON at byte", "'x'"}},
		{"an empty receipt says it is empty", nil, key, []string{"malformed receipt", "empty"}},
		{"a receipt that is not an object says so", []byte(`[]`), key, []string{"malformed receipt", "not a JSON object"}},
		{"a missing field names it", edit(func(m map[string]any) { delete(m, "proof") }), key, []string{"malformed receipt", `missing key "proof"`}},
		{"a missing proof field names it", edit(func(m map[string]any) { delete(proof(m), "leaf_hash") }), key, []string{"malformed receipt proof", `missing key "leaf_hash"`}},
		{"a field of another type names the field and the type", edit(func(m map[string]any) { m["index"] = "2" }), key,
			[]string{"malformed receipt", "index is a JSON string, want an integer"}},
		{"a proof field of another type names the field", edit(func(m map[string]any) { proof(m)["hashes"] = "x" }), key,
			[]string{"malformed receipt", "proof.hashes is a JSON string, want an array of strings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := RunEnv(context.Background(), []string{"verify-receipt", "-", "--key", tc.key}, Env{Stdin: bytes.NewReader(tc.receipt), Stdout: &stdout, Stderr: &stderr,
				Getenv: getenv(nil), Clock: clock.NewFixed(e2eNow)})
			msg := strings.TrimSuffix(stderr.String(), "\n")
			if code != 1 || stdout.Len() > 0 || !strings.HasPrefix(msg, "pubcredit verify-receipt: ") || strings.Contains(msg, "\n") {
				t.Fatalf("exit %d, want 1 with one line on standard error\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			for _, w := range tc.words {
				if !strings.Contains(msg, w) {
					t.Errorf("the message does not say %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestVerifyCommandCheckpointSQLite(t *testing.T) {
	t.Parallel()
	testVerifyCommandCheckpoint(t, "")
}

func TestVerifyCommandCheckpointPostgres(t *testing.T) {
	t.Parallel()
	testVerifyCommandCheckpoint(t, pgtest.URL(t))
}

// testVerifyCommandCheckpoint: a database whose newest checkpoint was cut
// off with its stored hashes verifies on its own, but not against a
// checkpoint published before (--checkpoint), given as the signed note or
// as the witness's state file.
func testVerifyCommandCheckpoint(t *testing.T, dbURL string) {
	p := demoLedger(t, dbURL, 3)
	db := openRaw(t, p)
	first, firstSigned := db.newestCheckpoint(t)
	who := newPerson()
	p.mustRun(t, nil, "import", writeFile(t, "more.ndjson", ndjson(t, penalty(who, p.uniq("C"), "2026-11-02", nil))), "--dept", "TJ-SCJG", "--item", "XZCF")
	integrateLedger(t, p)
	newest, newestSigned := db.newestCheckpoint(t)
	if newest <= first {
		t.Fatalf("the second checkpoint is of size %d, the first %d", newest, first)
	}
	note := writeFile(t, "newest.txt", newestSigned)
	body := strings.SplitN(string(newestSigned), "\n", 4) // origin, size, root
	state, err := json.Marshal(witnessState{Format: WitnessFormat, Origin: body[0], Size: newest, Root: body[2], Checkpoint: string(newestSigned)})
	if err != nil {
		t.Fatal(err)
	}
	stateFile := writeFile(t, "witness.json", state)
	for _, f := range []string{note, stateFile, writeFile(t, "first.txt", firstSigned)} {
		if r := p.run(t, nil, "verify", "--checkpoint", f); r.Code != 0 {
			t.Fatalf("verify --checkpoint %s: exit %d, want 0\n%s%s", filepath.Base(f), r.Code, r.Stdout, r.Stderr)
		}
	}
	other, err := newSigner(t, "pubcredit.local/ledger").SignCheckpoint(ledger.Checkpoint{Origin: "pubcredit.local/ledger", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{"a checkpoint signed by another key": other, "a state file of no witness": []byte(`{"format":"x"}`)} {
		if r := p.run(t, nil, "verify", "--checkpoint", writeFile(t, "bad.txt", bad)); r.Code != 2 || !strings.Contains(r.Stderr, "--checkpoint") {
			t.Errorf("%s: exit %d, want 2 naming --checkpoint\n%s", name, r.Code, r.Stderr)
		}
	}
	// A checkpoint the log's key signed, of a size the log holds, with
	// another root: the history the log holds is not the one published.
	keys, err := vault.Load(p.keys)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewSigner("pubcredit.local/ledger", keys.Signer())
	if err != nil {
		t.Fatal(err)
	}
	forked, err := signer.SignCheckpoint(ledger.Checkpoint{Origin: "pubcredit.local/ledger", Size: first, Root: tlog.RecordHash([]byte("another history"))})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.run(t, nil, "verify", "--checkpoint", writeFile(t, "forked.txt", forked)); r.Code != 1 || !strings.Contains(r.Stdout, "history was rewritten") {
		t.Errorf("verify --checkpoint of a checkpoint with another root: exit %d, want 1 saying the history was rewritten\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	// The newest checkpoint cut off with its stored hashes: its leaves are
	// left as if not yet integrated.
	db.execAny(t, `DELETE FROM ledger_checkpoints WHERE size = ?`, newest)
	db.execAny(t, `DELETE FROM ledger_hashes WHERE idx >= ?`, tlog.StoredHashCount(first))
	if r := p.run(t, nil, "verify"); r.Code != 0 {
		t.Fatalf("verify of the cut log alone: exit %d, want 0 (it cannot tell)\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, f := range []string{note, stateFile} {
		r := p.run(t, nil, "verify", "--checkpoint", f)
		if r.Code != 1 || !strings.Contains(r.Stdout, "rolled back") || !strings.Contains(r.Stdout, strconv.FormatInt(newest, 10)) {
			t.Errorf("verify --checkpoint %s of the cut log: exit %d, want 1 saying it was rolled back\n%s%s", filepath.Base(f), r.Code, r.Stdout, r.Stderr)
		}
	}
}
