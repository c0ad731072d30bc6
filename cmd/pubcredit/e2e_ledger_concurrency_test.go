package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/store/postgres/pgtest"
)

// TestLedgerConcurrentServersPostgres runs two servers on one PostgreSQL
// database (two `serve` processes of a deployment) and sends both 50
// submissions at once, each followed by a read of the record from the
// other server, while each also takes a batch of 50 rows: the log must come
// out as one gap-free sequence.
func TestLedgerConcurrentServersPostgres(t *testing.T) {
	t.Parallel()
	concurrentServers(t, pgtest.URL(t))
}

// TestLedgerConcurrentServersSQLite is the same on one SQLite file.
func TestLedgerConcurrentServersSQLite(t *testing.T) {
	t.Parallel()
	concurrentServers(t, "")
}

func concurrentServers(t *testing.T, dbURL string) {
	spec, err := loadSpec()
	if err != nil {
		t.Errorf("answers are not validated against the API description: %v", err)
	}
	p := newPlatform(t, dbURL, spec)
	srvs := []*server{p.serve(t, ledgerEnv()), p.serve(t, ledgerEnv())}
	vkey := srvs[0].ledgerKey(t)
	if other := srvs[1].ledgerKey(t); other != vkey {
		t.Fatalf("the two servers publish different keys: %s and %s", vkey, other)
	}
	tokens := []string{p.dept(t, p.uniq("CONA"), "XZCF", ""), p.dept(t, p.uniq("CONB"), "XZCF", "")}

	const perServer = 50
	type created struct {
		id    string
		token string
	}
	results := make(chan created, 2*perServer)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for s := range srvs {
		for i := range perServer {
			wg.Go(func() {
				<-start
				who := newPerson()
				sub := penalty(who, fmt.Sprintf("CONC-%d-%d", s, i), "2026-05-01", nil)
				status, body, err := tryDo(http.MethodPost, srvs[s].base+"/api/v1/records", tokens[s], mustJSON(t, sub))
				var rec recordJSON
				if err != nil || status != http.StatusCreated || json.Unmarshal(body, &rec) != nil || rec.ID == "" {
					t.Errorf("POST record to server %d: %v %d %s", s, err, status, truncateBody(body))
					return
				}
				results <- created{rec.ID, tokens[s]}
				// A read through the other server: an access event.
				if status, body, err := tryDo(http.MethodGet, srvs[1-s].base+"/api/v1/records/"+rec.ID, tokens[s], nil); err != nil || status != http.StatusOK {
					t.Errorf("GET record from server %d: %v %d %s", 1-s, err, status, truncateBody(body))
				}
			})
		}
	}
	const batchRows = 50
	for s := range srvs {
		wg.Go(func() {
			<-start
			var rows []any
			for i := range batchRows {
				who := newPerson()
				rows = append(rows, penalty(who, fmt.Sprintf("CONC-B%d-%d", s, i), "2026-05-01", nil))
			}
			req := ndjson(t, rows...)
			status, body, err := tryDoType(http.MethodPost, srvs[s].base+"/api/v1/batches", tokens[s], "application/x-ndjson", req)
			var b batchJSON
			if err != nil || status != http.StatusCreated || json.Unmarshal(body, &b) != nil || b.Accepted != batchRows {
				t.Errorf("POST batch to server %d: %v %d %s", s, err, status, truncateBody(body))
			}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	if t.Failed() {
		t.FailNow()
	}
	var recs []created
	for r := range results {
		recs = append(recs, r)
	}
	// A version, an access event and a new person per submission; a
	// version and a new person per row.
	want := int64(3*2*perServer + 2*2*batchRows)

	t.Run("both servers soon serve one checkpoint covering every leaf, and sizes never decrease", func(t *testing.T) {
		begin := time.Now()
		last := int64(-1)
		for {
			for i, s := range srvs {
				cp := s.checkpoint(t, vkey)
				if cp.size < last {
					t.Errorf("server %d answered a checkpoint of size %d after one of %d", i, cp.size, last)
				}
				last = max(last, cp.size)
			}
			if last >= want || time.Since(begin) > 2*newLeavesWithin {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		a, b := srvs[0].checkpoint(t, vkey), srvs[1].checkpoint(t, vkey)
		if a.size != want || b.size != want || a.root != b.root {
			t.Fatalf("checkpoints of sizes %d and %d; %d leaves (%d versions, %d reads and as many people as versions) were committed", a.size, b.size, want, len(recs)+2*batchRows, len(recs))
		}
	})
	cp := srvs[0].checkpoint(t, vkey)
	entries := srvs[1].entries(t, cp.size)

	t.Run("the log is one gap-free sequence: a leaf per version, per read and per new person, each index once", func(t *testing.T) {
		kinds, ids := map[string]int{}, map[string]int{}
		for i, e := range entries {
			lf, err := parseLeafLines(e)
			if err != nil {
				t.Errorf("entry %d: %v", i, err)
				continue
			}
			kinds[lf.kind]++
			if prev, dup := ids[lf.id]; dup {
				t.Errorf("entries %d and %d are both for %s", prev, i, lf.id)
			}
			ids[lf.id] = i
		}
		if kinds["record.version"] != len(recs)+2*batchRows || kinds["access"] != len(recs) || kinds["subject"] != len(recs)+2*batchRows || int64(len(entries)) != want {
			t.Errorf("%d entries of kinds %v; want %d versions and people and %d access events", len(entries), kinds, len(recs)+2*batchRows, len(recs))
		}
		seen := map[int64]string{}
		for _, r := range recs {
			vs := srvs[0].versions(t, r.token, r.id)
			if len(vs) != 1 || vs[0].LeafIndex == nil {
				t.Errorf("versions of %s: %+v", r.id, vs)
				continue
			}
			ix := *vs[0].LeafIndex
			if other, dup := seen[ix]; dup {
				t.Errorf("records %s and %s share leaf index %d", other, r.id, ix)
			}
			seen[ix] = r.id
			if ix < 0 || ix >= cp.size {
				t.Errorf("record %s has leaf index %d outside the tree of %d", r.id, ix, cp.size)
				continue
			}
			if lf, _ := parseLeafLines(entries[ix]); lf.id != r.id+":1" || lf.kind != "record.version" {
				t.Errorf("leaf %d is %q, want version 1 of %s", ix, entries[ix], r.id)
			}
		}
	})
	t.Run("the inclusion proof of every version's leaf verifies, from either server", func(t *testing.T) {
		for k, r := range recs {
			s := srvs[k%2]
			vs := s.versions(t, r.token, r.id)
			if len(vs) != 1 || vs[0].LeafIndex == nil {
				continue // reported above
			}
			ix := *vs[0].LeafIndex
			var pr inclusionJSON
			s.get(t, "", fmt.Sprintf("/api/v1/ledger/proofs/inclusion?index=%d&size=%d", ix, cp.size)).want(t, http.StatusOK).decode(t, &pr)
			if err := tlog.CheckRecord(pr.proof(t), cp.size, cp.root, ix, tlog.RecordHash(entries[ix])); err != nil {
				t.Errorf("record %s leaf %d: %v", r.id, ix, err)
			}
		}
		tr := &httpTiles{t: t, srv: srvs[1], cache: map[string][]byte{}}
		if root, err := tlog.TreeHash(cp.size, tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, tr)); err != nil || root != cp.root {
			t.Errorf("the tree from the tiles: %v %v, want root %v", root, err, cp.root)
		}
	})
	t.Run("neither integrator reported an error", func(t *testing.T) {
		for i, s := range srvs {
			for _, line := range strings.Split(s.log.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Errorf("server %d logged: %s", i, line)
				}
			}
		}
	})
}

// TestLedgerOverlappingSubmissionsOnTwoServersNeverDeadlockPostgres sends,
// on two servers of one PostgreSQL database at once, a record on its own
// and a small batch holding another new record then the same record: what
// a department retrying an upload while its system also posts single
// records does. Each must be answered 201 or 200, never 5xx.
func TestLedgerOverlappingSubmissionsOnTwoServersNeverDeadlockPostgres(t *testing.T) {
	t.Parallel()
	spec, err := loadSpec()
	if err != nil {
		t.Errorf("answers are not validated against the API description: %v", err)
	}
	p := newPlatform(t, pgtest.URL(t), spec)
	srvs := []*server{p.serve(t, ledgerEnv()), p.serve(t, ledgerEnv())}
	token := p.dept(t, p.uniq("OVL"), "XZCF", "")
	const rounds = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := map[string]int{}
	fail := func(what string, status int, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		failures[fmt.Sprintf("%s: %d %s", what, status, truncateBody(body))]++
	}
	for i := range rounds {
		x, z := newPerson(), newPerson()
		sx := penalty(x, fmt.Sprintf("OVL-X-%d", i), "2026-05-01", nil)
		sz := penalty(z, fmt.Sprintf("OVL-Z-%d", i), "2026-05-01", nil)
		wg.Go(func() {
			status, body, err := tryDo(http.MethodPost, srvs[0].base+"/api/v1/records", token, mustJSON(t, sx))
			if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
				fail("POST record", status, body)
			}
		})
		wg.Go(func() {
			status, body, err := tryDoType(http.MethodPost, srvs[1].base+"/api/v1/batches", token, "application/x-ndjson", ndjson(t, sz, sx))
			if err != nil || status != http.StatusCreated {
				fail("POST batch", status, body)
			}
		})
	}
	wg.Wait()
	for f, n := range failures {
		t.Errorf("%d× %s", n, f)
	}
	if len(failures) > 0 {
		for i, s := range srvs {
			for _, line := range strings.Split(s.log.String(), "\n") {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Logf("server %d: %s", i, line)
				}
			}
		}
	}
}
