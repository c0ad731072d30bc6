package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/clock"
	"pubcredit/internal/store/postgres/pgtest"
)

// The tamper-evident ledger (issue 3) end to end: signed checkpoints,
// proofs, tiles, receipts and the leaf indexes of the portal data, checked
// over HTTP against the real command with verifiers written here on
// golang.org/x/mod/sumdb/tlog and sumdb/note only: nothing below trusts
// pubcredit/internal/ledger to check what the server answers.

// ledgerOrigin is the configured name of the log in the ledger tests.
const ledgerOrigin = "credit.example.gov.cn/pubcredit"

// ledgerEnv configures the ledger origin through the environment.
func ledgerEnv() map[string]string {
	return map[string]string{"PUBCREDIT_LEDGER_ORIGIN": ledgerOrigin}
}

// leafPrefix is the first line of every leaf.
const leafPrefix = "pubcredit-leaf/v1\n"

// newLeavesWithin is how soon a checkpoint must cover new leaves: the issue
// says one second; the slack is for polling and a loaded test machine.
const newLeavesWithin = time.Second + 250*time.Millisecond

// TestLedgerSQLite runs the ledger suite on a fresh SQLite file.
func TestLedgerSQLite(t *testing.T) {
	t.Parallel()
	runLedgerSuite(t, "")
}

// TestLedgerPostgres runs the ledger suite on a fresh PostgreSQL database.
func TestLedgerPostgres(t *testing.T) {
	t.Parallel()
	runLedgerSuite(t, pgtest.URL(t))
}

// ledgerSuite is a platform whose log the cases build and check.
type ledgerSuite struct {
	p    *platform
	srv  *server
	vkey string // the published verifier key

	mkt, reader, auditor string // tokens

	first signedCheckpoint // after the first known changes
	base  signedCheckpoint // after the batch: more than 256 leaves

	mu      sync.Mutex
	records []string // record data submitted (refs, decision numbers) that no leaf may carry
}

func (l *ledgerSuite) remember(data ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, data...)
}

func (l *ledgerSuite) recordData() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.records)
}

// submit submits a penalty for who and remembers its record data.
func (l *ledgerSuite) submit(t *testing.T, srv *server, token string, who person) recordJSON {
	t.Helper()
	ref := l.p.uniq("LEDGER-REF")
	sub := penalty(who, ref, "2026-05-01", nil)
	l.remember(ref, sub["fields"].(map[string]any)["decision_no"].(string))
	return srv.submit(t, token, who, sub)
}

func runLedgerSuite(t *testing.T, dbURL string) {
	spec, err := loadSpec()
	if err != nil {
		t.Errorf("answers are not validated against the API description: %v", err)
	}
	p := newPlatform(t, dbURL, spec)
	l := &ledgerSuite{p: p, srv: p.serve(t, ledgerEnv())}
	l.vkey = l.srv.ledgerKey(t)

	if !t.Run("a checkpoint covers every leaf, one per record version and access event, within a second", l.coversEveryLeaf) {
		return
	}
	if !t.Run("a batch of 300 rows of new people is 600 leaves and the next checkpoint is consistent with the one before", l.batchGrows) {
		return
	}
	watched := l.srv.watchCheckpoints()
	t.Run("cases", func(t *testing.T) {
		t.Run("the checkpoint is a C2SP signed note under the configured origin that sumdb/note verifies", l.checkpointFormat)
		t.Run("an inclusion proof of every leaf verifies with tlog.CheckRecord on the hash of its entry", l.inclusionEveryLeaf)
		t.Run("the C2SP tiles let tlog.TileHashReader prove every record and the tree", l.tiles)
		t.Run("leaves carry commitments, never personal data", l.noPersonalData)
		t.Run("a receipt is for the submitting department only and verify-receipt checks it offline", l.receipts)
		t.Run("after a correction the receipt is for version 2 at its leaf index", l.receiptAfterCorrection)
		t.Run("record versions and access events carry distinct leaf indexes that hold their own leaves", l.portalData)
		t.Run("malformed proof and tile requests are 400 or 404 with a reason, never 500", l.malformed)
	})
	t.Run("every checkpoint seen while the cases ran is kept, sizes never decrease and each is consistent with the one before", func(t *testing.T) {
		l.checkpointHistory(t, watched())
	})
}

// coversEveryLeaf makes changes and accesses on a fresh log whose every
// leaf is known, counts them from the portal data (versions plus access
// events) and waits for the checkpoint that covers them all.
func (l *ledgerSuite) coversEveryLeaf(t *testing.T) {
	p, srv := l.p, l.srv
	start := srv.checkpoint(t, l.vkey)
	if start.size != 0 {
		t.Errorf("a new platform's checkpoint has size %d, want 0 (no leaves yet)", start.size)
	}
	if empty := sha256.Sum256(nil); start.root != empty {
		t.Errorf("the empty log's root is %s, want the RFC 6962 hash of the empty tree, SHA-256() = %s", b64(start.root), b64(empty))
	}
	l.mkt = p.dept(t, p.uniq("LMKT"), "XZCF", "")
	l.reader = p.dept(t, p.uniq("LREAD"), "", "XZCF")
	l.auditor = p.auditor(t, p.uniq("laudit"))
	other := p.dept(t, p.uniq("LOTHER"), "XZCF", "XZCF")
	people := []person{newPerson(), newPerson(), newPerson(), newPerson()}

	caused := 0 // leaves, counted as the requests are made
	var recs []recordJSON
	for i, who := range []person{people[0], people[0], people[1], people[2], people[3]} {
		recs = append(recs, l.submit(t, srv, l.mkt, who))
		caused++
		if i > 0 { // and a leaf for each new person's subjects row
			caused++
		}
	}
	corrected := penalty(people[0], recs[0].Ref, "2026-05-01", map[string]any{"fine_amount": 1500})
	srv.putJSON(t, l.mkt, "/api/v1/records/"+recs[0].ID, corrected).want(t, http.StatusOK)
	caused++
	srv.postJSON(t, l.mkt, "/api/v1/records/"+recs[1].ID+"/revoke", map[string]string{"reason": "复议撤销", "basis": "津政复决字〔2026〕7号"}).want(t, http.StatusOK)
	caused++
	srv.get(t, l.mkt, "/api/v1/records/"+recs[3].ID).want(t, http.StatusOK) // a record read
	caused++
	srv.file(t, l.reader, people[3], "账本核对") // a file lookup
	caused++

	// What changes nothing commits nothing.
	srv.get(t, other, "/api/v1/records/"+recs[2].ID).wantError(t, http.StatusNotFound)
	srv.putJSON(t, l.mkt, "/api/v1/records/"+recs[0].ID, corrected).want(t, http.StatusOK) // the same content again
	srv.postJSON(t, l.mkt, "/api/v1/records/"+recs[1].ID+"/revoke", map[string]string{"reason": "再撤", "basis": "同上"}).wantError(t, http.StatusConflict)
	srv.postJSON(t, l.mkt, "/api/v1/records", penalty(people[0], recs[0].Ref, "2026-05-01", nil)).wantError(t, http.StatusConflict)
	srv.postJSON(t, l.mkt, "/api/v1/records", penalty(people[0], p.uniq("BAD"), "2027-01-01", nil)).wantError(t, http.StatusUnprocessableEntity)
	srv.postJSON(t, l.mkt, "/api/v1/records", penalty(people[2], recs[3].Ref, "2026-05-01", nil)).want(t, http.StatusOK) // a resubmission

	// Count the leaves again from the portal data: every version, and
	// every access event of every person (each audit read is one more).
	versions := 0
	for _, r := range recs {
		versions += len(srv.versions(t, l.mkt, r.ID))
	}
	events := 0
	for _, who := range people {
		events += len(srv.accessEvents(t, l.auditor, who)) + 1
	}
	caused += len(people)
	if versions != 7 {
		t.Errorf("the five records have %d versions, want 7 (five created, one corrected, one revoked)", versions)
	}
	if versions+events+len(people) != caused {
		t.Errorf("versions (%d), access events (%d) and people (%d) are %d; the requests made caused %d leaves", versions, events, len(people), versions+events+len(people), caused)
	}

	cp, took := srv.awaitCheckpoint(t, l.vkey, int64(caused), newLeavesWithin)
	t.Logf("checkpoint of size %d %v after the last change", cp.size, took.Round(time.Millisecond))
	if cp.size != int64(caused) {
		t.Errorf("the checkpoint has size %d; %d leaves were caused (versions, access events and people): a leaf without its change", cp.size, caused)
	}
	time.Sleep(600 * time.Millisecond) // more than two integrations
	if again := srv.checkpoint(t, l.vkey); again.size != cp.size {
		t.Errorf("with nothing happening the checkpoint moved from %d to %d leaves", cp.size, again.size)
	}
	l.first = cp
}

// batchGrows uploads 300 rows, so that the log has a full tile, and checks
// the new checkpoint against the one before with a consistency proof.
func (l *ledgerSuite) batchGrows(t *testing.T) {
	srv := l.srv
	var rows []any
	for range 300 {
		who := newPerson()
		ref := l.p.uniq("LEDGER-BATCH")
		row := penalty(who, ref, "2026-05-01", nil)
		l.remember(ref, row["fields"].(map[string]any)["decision_no"].(string))
		rows = append(rows, row)
	}
	// Rejected rows commit nothing.
	bad := newPerson()
	rows = append(rows, penalty(bad, l.p.uniq("LEDGER-BAD"), "2027-01-01", nil), `{"item": "XZCF"}`, penalty(bad, rows[0].(map[string]any)["ref"].(string), "2026-05-01", nil))
	var b batchJSON
	srv.upload(t, l.mkt, "", "application/x-ndjson", ndjson(t, rows...)).want(t, http.StatusCreated).decode(t, &b)
	wantCounts(t, b, 303, 300, 3)
	want := l.first.size + 2*300 // a version and a new person a row
	cp, took := srv.awaitCheckpoint(t, l.vkey, want, newLeavesWithin)
	t.Logf("checkpoint of size %d %v after the batch", cp.size, took.Round(time.Millisecond))
	if cp.size != want {
		t.Fatalf("after a batch of 300 accepted rows, each of a new person, the checkpoint has size %d, want %d", cp.size, want)
	}
	srv.wantConsistent(t, l.first, cp)
	stored := storedCheckpoints(t, l.p)
	for _, c := range []signedCheckpoint{l.first, cp} {
		if !bytes.Equal(stored[c.size], c.text) {
			t.Errorf("the checkpoint of size %d is not kept as it was served: stored %q", c.size, stored[c.size])
		}
	}
	l.base = cp
}

func (l *ledgerSuite) checkpointFormat(t *testing.T) {
	t.Parallel()
	srv := l.srv
	key := srv.fetch(t, "/api/v1/ledger/key")
	if key.Status != http.StatusOK || !strings.HasPrefix(key.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET key without a token: %d %q %s", key.Status, key.Header.Get("Content-Type"), key.Body)
	}
	t.Run("the key is name+hash+base64 of an Ed25519 key named by the origin", func(t *testing.T) {
		vkey := strings.TrimSuffix(string(key.Body), "\n")
		parts := strings.SplitN(vkey, "+", 3)
		if len(parts) != 3 || parts[0] != ledgerOrigin {
			t.Fatalf("key %q: want %s+hash+base64", vkey, ledgerOrigin)
		}
		if len(parts[1]) != 8 || !isLowerHex(parts[1]) {
			t.Errorf("key hash %q is not 8 hex digits", parts[1])
		}
		raw, err := base64.StdEncoding.DecodeString(parts[2])
		if err != nil || len(raw) != 33 || raw[0] != 1 {
			t.Errorf("key %q does not encode algorithm 1 (Ed25519) and 32 bytes: %v", parts[2], err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatalf("note.NewVerifier(%q): %v", vkey, err)
		}
		if got := fmt.Sprintf("%08x", v.KeyHash()); got != parts[1] {
			t.Errorf("the key says hash %s; sumdb/note computes %s", parts[1], got)
		}
	})

	t.Run("an origin that is not a note name is refused at start", func(t *testing.T) {
		for _, origin := range []string{"credit example.gov.cn", "credit+example.gov.cn", "credit\u00a0example.gov.cn", "credit\x01example"} {
			r := l.p.startWith(t, map[string]string{"PUBCREDIT_LEDGER_ORIGIN": origin})
			if r.Code == 0 || !strings.Contains(r.Stderr, "origin") {
				t.Errorf("serve with origin %q: exit %d, stderr %q; want it refused naming the origin", origin, r.Code, r.Stderr)
			}
		}
	})

	res := srv.fetch(t, "/api/v1/ledger/checkpoint")
	if res.Status != http.StatusOK {
		t.Fatalf("GET checkpoint without a token: %d %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("checkpoint Content-Type %q, want text/plain; charset=utf-8 (C2SP tlog-tiles)", ct)
	}
	text := string(res.Body)
	t.Run("origin line, size, base64 root, a blank line, then signature lines", func(t *testing.T) {
		body, sigs, ok := strings.Cut(text, "\n\n")
		if !ok {
			t.Fatalf("no blank line between the body and the signatures:\n%s", text)
		}
		lines := strings.Split(body, "\n")
		if len(lines) != 3 {
			t.Fatalf("the body has %d lines, want origin, size and root:\n%s", len(lines), text)
		}
		if lines[0] != ledgerOrigin {
			t.Errorf("origin line %q, want the configured %q", lines[0], ledgerOrigin)
		}
		if n, err := strconv.ParseInt(lines[1], 10, 64); err != nil || n < l.base.size || strconv.FormatInt(n, 10) != lines[1] {
			t.Errorf("size line %q is not a decimal size of at least %d", lines[1], l.base.size)
		}
		if root, err := base64.StdEncoding.DecodeString(lines[2]); err != nil || len(root) != 32 {
			t.Errorf("root line %q is not base64 of 32 bytes", lines[2])
		}
		if !strings.HasSuffix(sigs, "\n") {
			t.Errorf("the signature block does not end with a newline")
		}
		for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
			name, sig, ok := strings.Cut(strings.TrimPrefix(line, "\u2014 "), " ")
			raw, err := base64.StdEncoding.DecodeString(sig)
			if !strings.HasPrefix(line, "\u2014 ") || !ok || name != ledgerOrigin || err != nil || len(raw) != 4+64 {
				t.Errorf("signature line %q: want \"— %s base64(key hash, Ed25519 signature)\"", line, ledgerOrigin)
			}
		}
	})
	t.Run("sumdb/note verifies it with the published key and no other", func(t *testing.T) {
		vkey := strings.TrimSuffix(string(key.Body), "\n")
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(res.Body, note.VerifierList(v))
		if err != nil {
			t.Fatalf("note.Open with the published key: %v\n%s", err, text)
		}
		if len(n.Sigs) != 1 || n.Sigs[0].Name != ledgerOrigin || n.Sigs[0].Hash != v.KeyHash() {
			t.Errorf("verified signatures %+v, want one by %s+%08x", n.Sigs, ledgerOrigin, v.KeyHash())
		}
		_, forged, err := note.GenerateKey(rand.Reader, ledgerOrigin)
		if err != nil {
			t.Fatal(err)
		}
		fv, _ := note.NewVerifier(forged)
		if _, err := note.Open(res.Body, note.VerifierList(fv)); err == nil {
			t.Errorf("the checkpoint verifies under another key of the same name")
		}
		changed := slices.Clone(res.Body)
		changed[len(ledgerOrigin)+1] = otherByte(changed[len(ledgerOrigin)+1]) // the first digit of the size
		if _, err := note.Open(changed, note.VerifierList(v)); err == nil {
			t.Errorf("a checkpoint with a changed size still verifies")
		}
	})
}

func (l *ledgerSuite) inclusionEveryLeaf(t *testing.T) {
	t.Parallel()
	srv, cp := l.srv, l.base
	entries := srv.entries(t, cp.size)
	for i, e := range entries {
		var p inclusionJSON
		srv.get(t, "", fmt.Sprintf("/api/v1/ledger/proofs/inclusion?index=%d&size=%d", i, cp.size)).want(t, http.StatusOK).decode(t, &p)
		leaf := tlog.RecordHash(e)
		if p.Index != int64(i) || p.Size != cp.size || p.LeafHash != b64(leaf) {
			t.Errorf("leaf %d: proof for index %d size %d leaf hash %s, want %d %d %s", i, p.Index, p.Size, p.LeafHash, i, cp.size, b64(leaf))
		}
		if err := tlog.CheckRecord(p.proof(t), cp.size, cp.root, int64(i), leaf); err != nil {
			t.Errorf("leaf %d: tlog.CheckRecord: %v", i, err)
		}
	}
	// The check bites: the same proof for other bytes fails.
	var p inclusionJSON
	srv.get(t, "", fmt.Sprintf("/api/v1/ledger/proofs/inclusion?index=0&size=%d", cp.size)).want(t, http.StatusOK).decode(t, &p)
	if err := tlog.CheckRecord(p.proof(t), cp.size, cp.root, 0, tlog.RecordHash(append(slices.Clone(entries[0]), ' '))); err == nil {
		t.Errorf("the proof of leaf 0 also proves other bytes")
	}
	t.Run("proofs in older trees are still answered", func(t *testing.T) {
		for _, i := range []int64{0, l.first.size - 1} {
			var p inclusionJSON
			srv.get(t, "", fmt.Sprintf("/api/v1/ledger/proofs/inclusion?index=%d&size=%d", i, l.first.size)).want(t, http.StatusOK).decode(t, &p)
			if err := tlog.CheckRecord(p.proof(t), l.first.size, l.first.root, i, tlog.RecordHash(entries[i])); err != nil {
				t.Errorf("leaf %d in the first checkpoint's tree (size %d): %v", i, l.first.size, err)
			}
		}
		var same consistencyJSON
		srv.get(t, "", fmt.Sprintf("/api/v1/ledger/proofs/consistency?from=%d&to=%d", l.first.size, l.first.size)).want(t, http.StatusOK).decode(t, &same)
		if err := tlog.CheckTree(decodeHashes(t, same.Hashes), l.first.size, l.first.root, l.first.size, l.first.root); err != nil || len(same.Hashes) != 0 {
			t.Errorf("the consistency proof of a tree with itself: %v, hashes %v", err, same.Hashes)
		}
		var one inclusionJSON
		srv.get(t, "", "/api/v1/ledger/proofs/inclusion?index=0&size=1").want(t, http.StatusOK).decode(t, &one)
		if err := tlog.CheckRecord(one.proof(t), 1, tlog.RecordHash(entries[0]), 0, tlog.RecordHash(entries[0])); err != nil || len(one.Hashes) != 0 {
			t.Errorf("the proof in the tree of one leaf: %v, hashes %v", err, one.Hashes)
		}
	})
}

func (l *ledgerSuite) tiles(t *testing.T) {
	t.Parallel()
	srv, cp := l.srv, l.base
	tr := &httpTiles{t: t, srv: srv, cache: map[string][]byte{}}
	thr := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, tr)
	root, err := tlog.TreeHash(cp.size, thr)
	if err != nil || root != cp.root {
		t.Fatalf("tlog.TreeHash over the tiles: %v, %v; the checkpoint says %v", root, err, cp.root)
	}
	entries := srv.entries(t, cp.size)
	for i, e := range entries {
		p, err := tlog.ProveRecord(cp.size, int64(i), thr)
		if err != nil {
			t.Fatalf("tlog.ProveRecord(%d, %d) over the tiles: %v", cp.size, i, err)
		}
		if err := tlog.CheckRecord(p, cp.size, cp.root, int64(i), tlog.RecordHash(e)); err != nil {
			t.Errorf("leaf %d: the proof from the tiles does not verify: %v", i, err)
		}
	}
	p, err := tlog.ProveTree(cp.size, l.first.size, thr)
	if err != nil {
		t.Fatalf("tlog.ProveTree over the tiles: %v", err)
	}
	if err := tlog.CheckTree(p, cp.size, cp.root, l.first.size, l.first.root); err != nil {
		t.Errorf("the consistency proof from the tiles does not verify: %v", err)
	}
	t.Logf("%d tiles fetched: %v", len(tr.cache), slices.Sorted(maps.Keys(tr.cache)))

	t.Run("the level-0 hash tiles are the record hashes of the entries", func(t *testing.T) {
		full := srv.fetch(t, "/api/v1/ledger/tile/0/000")
		if full.Status != http.StatusOK || len(full.Body) != 256*32 {
			t.Fatalf("tile/0/000: %d, %d bytes, want 256 hashes", full.Status, len(full.Body))
		}
		for i := range 256 {
			h := tlog.RecordHash(entries[i])
			if !bytes.Equal(full.Body[32*i:32*i+32], h[:]) {
				t.Fatalf("tile/0/000 hash %d is not the record hash of entry %d", i, i)
			}
		}
		if cc := full.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("a full tile has Cache-Control %q, want immutable", cc)
		}
		n, w := cp.size/256, cp.size%256
		if w == 0 {
			t.Fatalf("the log has %d leaves, a whole number of tiles: this case needs a partial tile", cp.size)
		}
		part := srv.fetch(t, fmt.Sprintf("/api/v1/ledger/tile/0/%03d.p/%d", n, w))
		if part.Status != http.StatusOK || int64(len(part.Body)) != 32*w {
			t.Fatalf("tile/0/%03d.p/%d: %d, %d bytes", n, w, part.Status, len(part.Body))
		}
		if cc := part.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("a partial tile has Cache-Control %q, want immutable: a partial tile of a given width never changes", cc)
		}
		if ct := part.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("tile Content-Type %q", ct)
		}
		bundle := srv.fetch(t, "/api/v1/ledger/tile/entries/000")
		if bundle.Status != http.StatusOK || !strings.Contains(bundle.Header.Get("Cache-Control"), "immutable") || bundle.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("the full entry bundle: %d, Cache-Control %q, Content-Type %q", bundle.Status, bundle.Header.Get("Cache-Control"), bundle.Header.Get("Content-Type"))
		}
	})
	t.Run("tiles beyond the tree are 404", func(t *testing.T) {
		beyond := fmt.Sprintf("tile/entries/%03d", cp.size/256+1) // the first whole bundle past the tree
		for _, path := range []string{"tile/0/999", "tile/1/000", "tile/2/000.p/1", "tile/entries/999", beyond} {
			if res := srv.fetch(t, "/api/v1/ledger/"+path); res.Status != http.StatusNotFound || showsPackagePrefix(t, res) {
				t.Errorf("%s: %d, want 404 without internal prefixes: %s", path, res.Status, res.Body)
			}
		}
	})
}

func (l *ledgerSuite) noPersonalData(t *testing.T) {
	t.Parallel()
	entries := l.srv.entries(t, l.base.size)
	secrets := map[string]string{}
	for _, n := range knownNumbers() {
		secrets["identity number "+n[:6]+"…"] = n
		secrets["15-digit form of "+n[:6]+"…"] = n[:6] + n[8:17]
		secrets["hex of identity number "+n[:6]+"…"] = hex.EncodeToString([]byte(n))
	}
	for _, n := range knownNames() {
		secrets["name "+string([]rune(n)[:1])+"…"] = n
		secrets["hex of name "+string([]rune(n)[:1])+"…"] = hex.EncodeToString([]byte(n))
	}
	for _, d := range l.recordData() {
		secrets["record data "+d] = d
	}
	if len(secrets) < 600 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	kinds := map[string]int{}
	for i, e := range entries {
		lf, err := parseLeafLines(e)
		if err != nil {
			t.Errorf("entry %d is not a pubcredit-leaf/v1 leaf: %v\n%q", i, err, e)
			continue
		}
		kinds[lf.kind]++
		for what, s := range secrets {
			if bytes.Contains(e, []byte(s)) {
				t.Errorf("entry %d carries the %s", i, what)
			}
		}
	}
	if kinds["record.version"] < 307 || kinds["access"] < 6 || kinds["subject"] < 304 || len(kinds) != 3 {
		t.Errorf("leaf kinds %v: want record.version, access and subject only, at least 307, 6 and 304", kinds)
	}
}

func (l *ledgerSuite) receipts(t *testing.T) {
	t.Parallel()
	p, srv := l.p, l.srv
	token := p.dept(t, p.uniq("RCPT"), "XZCF", "")
	other := p.dept(t, p.uniq("RCPT2"), "XZCF", "XZCF")
	who := newPerson()
	rec := l.submit(t, srv, token, who)
	path := "/api/v1/records/" + rec.ID + "/receipt"
	body := srv.awaitReceipt(t, token, rec.ID, -1)
	var rc receiptJSON
	json.Unmarshal(body, &rc)
	vs := srv.versions(t, token, rec.ID)

	t.Run("the receipt holds the version's leaf, its index, a signed checkpoint and the inclusion proof", func(t *testing.T) {
		if rc.Format != "pubcredit-receipt/v1" {
			t.Errorf("format %q", rc.Format)
		}
		if len(vs) != 1 || vs[0].LeafIndex == nil || rc.Index != *vs[0].LeafIndex {
			t.Fatalf("receipt index %d; versions %+v", rc.Index, vs)
		}
		lf, err := parseLeafLines([]byte(rc.Leaf))
		if err != nil || lf.kind != "record.version" || lf.id != rec.ID+":1" {
			t.Errorf("receipt leaf %q (%v): want a record.version leaf for %s:1", rc.Leaf, err, rec.ID)
		}
		cp, err := openCheckpoint([]byte(rc.Checkpoint), l.vkey)
		if err != nil {
			t.Fatalf("the receipt's checkpoint does not verify with sumdb/note: %v", err)
		}
		leaf := tlog.RecordHash([]byte(rc.Leaf))
		if rc.Proof.Index != rc.Index || rc.Proof.Size != cp.size || rc.Proof.LeafHash != b64(leaf) {
			t.Errorf("proof for index %d size %d leaf %s; want %d %d %s", rc.Proof.Index, rc.Proof.Size, rc.Proof.LeafHash, rc.Index, cp.size, b64(leaf))
		}
		if err := tlog.CheckRecord(rc.Proof.proof(t), cp.size, cp.root, rc.Index, leaf); err != nil {
			t.Errorf("tlog.CheckRecord on the receipt: %v", err)
		}
		if entries := srv.entries(t, cp.size); string(entries[rc.Index]) != rc.Leaf {
			t.Errorf("the receipt's leaf is not the log's entry %d", rc.Index)
		}
		if rc.Inputs["record_id"] != rec.ID || rc.Inputs["version"] != 1.0 {
			t.Errorf("inputs %v, want record %s version 1", rc.Inputs, rec.ID)
		}
	})
	t.Run("another department is 404, no token 401, an auditor cannot have it", func(t *testing.T) {
		srv.get(t, other, path).wantError(t, http.StatusNotFound)
		srv.get(t, "", path).wantError(t, http.StatusUnauthorized)
		if res := srv.get(t, l.auditor, path); res.Status != http.StatusForbidden && res.Status != http.StatusNotFound {
			t.Errorf("an auditor's GET receipt: %d, want 403 or 404", res.Status)
		}
		srv.get(t, token, "/api/v1/records/"+strings.Repeat("0", 32)+"/receipt").wantError(t, http.StatusNotFound)
		srv.get(t, token, "/api/v1/records/nope/receipt").wantError(t, http.StatusNotFound)
	})
	t.Run("verify-receipt FILE --key KEY accepts it", func(t *testing.T) {
		r := verifyReceipt(t, writeFile(t, "receipt.json", body), l.vkey)
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "ok") || !strings.Contains(r.Stdout, rec.ID) {
			t.Errorf("verify-receipt: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
		}
	})
	t.Run("verify-receipt refuses it when anything is changed or the key is another", func(t *testing.T) {
		l.tamper(t, body)
	})
}

// tamper changes receipt in every way that must make verify-receipt fail.
func (l *ledgerSuite) tamper(t *testing.T, receipt []byte) {
	dir := t.TempDir()
	file := filepath.Join(dir, "receipt.json")
	fails := func(t *testing.T, what string, b []byte, key string, words ...string) {
		t.Helper()
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r := verifyReceipt(t, file, key)
		msg := strings.TrimSpace(r.Stderr)
		switch {
		case r.Code == 0 || strings.Contains(r.Stdout, "ok"):
			t.Errorf("%s: verify-receipt exit %d, stdout %q: it accepts the receipt", what, r.Code, r.Stdout)
		case !strings.HasPrefix(msg, "pubcredit verify-receipt: ") || strings.Contains(msg, "\n") || strings.Contains(msg, "internal error") || strings.Contains(msg, "panic"):
			t.Errorf("%s: exit %d and the message is not one clear line:\n%s", what, r.Code, r.Stderr)
		case !containsAny(strings.ToLower(msg), words):
			t.Errorf("%s: the message %q names none of %q", what, msg, words)
		}
	}
	edit := func(change func(m map[string]any)) []byte { return editJSON(t, receipt, change) }
	var rc receiptJSON
	if err := json.Unmarshal(receipt, &rc); err != nil {
		t.Fatal(err)
	}
	if r := verifyReceipt(t, writeFile(t, "again.json", edit(func(map[string]any) {})), l.vkey); r.Code != 0 {
		t.Fatalf("the receipt re-encoded unchanged does not verify: %s", r.Stderr)
	}

	t.Run("a byte of the leaf", func(t *testing.T) {
		for i := range len(rc.Leaf) {
			leaf := []byte(rc.Leaf)
			leaf[i] = otherByte(leaf[i])
			fails(t, fmt.Sprintf("leaf byte %d %q→%q", i, rc.Leaf[i], leaf[i]), edit(func(m map[string]any) { m["leaf"] = string(leaf) }), l.vkey, "leaf")
		}
	})
	t.Run("a byte of a proof hash or of the leaf hash", func(t *testing.T) {
		if len(rc.Proof.Hashes) == 0 {
			t.Fatalf("the proof has no hashes")
		}
		for j := range rc.Proof.Hashes {
			for _, k := range []int{0, 17, 31} {
				changed := flipHashByte(t, rc.Proof.Hashes[j], k)
				fails(t, fmt.Sprintf("proof hash %d byte %d", j, k), edit(func(m map[string]any) {
					hs := m["proof"].(map[string]any)["hashes"].([]any)
					hs[j] = changed
				}), l.vkey, "proof", "verify")
			}
		}
		changed := flipHashByte(t, rc.Proof.LeafHash, 5)
		fails(t, "the leaf hash", edit(func(m map[string]any) { m["proof"].(map[string]any)["leaf_hash"] = changed }), l.vkey, "leaf hash", "proof")
	})
	t.Run("the index, the size or the number of proof hashes", func(t *testing.T) {
		for _, d := range []int64{-1, 1} {
			ix := json.Number(strconv.FormatInt(rc.Index+d, 10))
			fails(t, fmt.Sprintf("index%+d", d), edit(func(m map[string]any) { m["index"] = ix; m["proof"].(map[string]any)["index"] = ix }), l.vkey, "proof", "verify", "index")
			fails(t, fmt.Sprintf("the receipt's index%+d only", d), edit(func(m map[string]any) { m["index"] = ix }), l.vkey, "index")
			sz := json.Number(strconv.FormatInt(rc.Proof.Size+d, 10))
			fails(t, fmt.Sprintf("size%+d", d), edit(func(m map[string]any) { m["proof"].(map[string]any)["size"] = sz }), l.vkey, "size")
		}
		fails(t, "a hash left out", edit(func(m map[string]any) {
			p := m["proof"].(map[string]any)
			p["hashes"] = p["hashes"].([]any)[1:]
		}), l.vkey, "proof", "verify")
		fails(t, "a hash added", edit(func(m map[string]any) {
			p := m["proof"].(map[string]any)
			p["hashes"] = append(p["hashes"].([]any), p["hashes"].([]any)[0])
		}), l.vkey, "proof", "verify")
	})
	body, sigs, ok := strings.Cut(rc.Checkpoint, "\n\n")
	if !ok {
		t.Fatalf("the receipt's checkpoint has no signature block:\n%s", rc.Checkpoint)
	}
	t.Run("a byte of the checkpoint", func(t *testing.T) {
		for i := range len(body) {
			b := []byte(body)
			b[i] = otherByte(b[i])
			cp := string(b) + "\n\n" + sigs
			fails(t, fmt.Sprintf("checkpoint byte %d %q→%q", i, body[i], b[i]), edit(func(m map[string]any) { m["checkpoint"] = cp }), l.vkey, "checkpoint", "signature", "signed")
		}
	})
	t.Run("a byte of the checkpoint's signature", func(t *testing.T) {
		prefix, sig64, _ := strings.Cut(strings.TrimSuffix(sigs, "\n"), " "+ledgerOrigin+" ")
		raw, err := base64.StdEncoding.DecodeString(sig64)
		if err != nil {
			t.Fatalf("signature line %q: %v", sigs, err)
		}
		for i := range raw {
			b := slices.Clone(raw)
			b[i] ^= 0x40
			cp := body + "\n\n" + prefix + " " + ledgerOrigin + " " + base64.StdEncoding.EncodeToString(b) + "\n"
			fails(t, fmt.Sprintf("signature byte %d", i), edit(func(m map[string]any) { m["checkpoint"] = cp }), l.vkey, "checkpoint", "signature", "signed")
		}
		fails(t, "no signature", edit(func(m map[string]any) { m["checkpoint"] = body + "\n\n" }), l.vkey, "checkpoint", "signature", "signed")
	})
	t.Run("another key, another name, no key", func(t *testing.T) {
		_, same, err := note.GenerateKey(rand.Reader, ledgerOrigin)
		if err != nil {
			t.Fatal(err)
		}
		fails(t, "another key of the same name", receipt, same, "key", "signed", "signature")
		_, named, _ := note.GenerateKey(rand.Reader, "other.example.gov.cn/pubcredit")
		fails(t, "a key of another log", receipt, named, "key", "signed", "signature")
		fails(t, "a malformed key", receipt, "not-a-key", "key")
	})
	t.Run("another format or not a receipt", func(t *testing.T) {
		fails(t, "format v2", edit(func(m map[string]any) { m["format"] = "pubcredit-receipt/v2" }), l.vkey, "format")
		fails(t, "an unknown key", edit(func(m map[string]any) { m["extra"] = true }), l.vkey, "receipt", "extra")
		fails(t, "half a receipt", receipt[:len(receipt)/2], l.vkey, "receipt", "malformed")
		fails(t, "an empty file", nil, l.vkey, "receipt", "malformed")
	})
}

func (l *ledgerSuite) receiptAfterCorrection(t *testing.T) {
	t.Parallel()
	p, srv := l.p, l.srv
	token := p.dept(t, p.uniq("RCOR"), "XZCF", "")
	who := newPerson()
	rec := l.submit(t, srv, token, who)
	sub := penalty(who, rec.Ref, "2026-05-01", map[string]any{"fine_amount": 2500})
	if put := srv.putJSON(t, token, "/api/v1/records/"+rec.ID, sub).want(t, http.StatusOK).record(t, who); put.Version != 2 {
		t.Fatalf("the correction made version %d", put.Version)
	}
	vs := srv.versions(t, token, rec.ID)
	if len(vs) != 2 || vs[0].LeafIndex == nil || vs[1].LeafIndex == nil {
		t.Fatalf("versions %+v, want two with leaf indexes", vs)
	}
	body := srv.awaitReceipt(t, token, rec.ID, *vs[1].LeafIndex)
	var rc receiptJSON
	json.Unmarshal(body, &rc)
	if rc.Index != *vs[1].LeafIndex || rc.Inputs["version"] != 2.0 || rc.Inputs["change"] != "corrected" {
		t.Errorf("receipt at index %d inputs %v, want index %d (versions[1]) version 2 corrected", rc.Index, rc.Inputs, *vs[1].LeafIndex)
	}
	if lf, err := parseLeafLines([]byte(rc.Leaf)); err != nil || lf.id != rec.ID+":2" || lf.kind != "record.version" {
		t.Errorf("receipt leaf %q (%v), want the record.version leaf of %s:2", rc.Leaf, err, rec.ID)
	}
	if r := verifyReceipt(t, writeFile(t, "corrected.json", body), l.vkey); r.Code != 0 || !strings.Contains(r.Stdout, rec.ID+":2") {
		t.Errorf("verify-receipt on the corrected record's receipt: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// The first version's leaf stays in the log.
	cp, err := openCheckpoint([]byte(rc.Checkpoint), l.vkey)
	if err != nil {
		t.Fatal(err)
	}
	entries := srv.entries(t, cp.size)
	var p1 inclusionJSON
	srv.get(t, "", fmt.Sprintf("/api/v1/ledger/proofs/inclusion?index=%d&size=%d", *vs[0].LeafIndex, cp.size)).want(t, http.StatusOK).decode(t, &p1)
	if err := tlog.CheckRecord(p1.proof(t), cp.size, cp.root, *vs[0].LeafIndex, tlog.RecordHash(entries[*vs[0].LeafIndex])); err != nil {
		t.Errorf("version 1's leaf after the correction: %v", err)
	}
	if lf, _ := parseLeafLines(entries[*vs[0].LeafIndex]); lf.id != rec.ID+":1" {
		t.Errorf("entry %d is %q, want version 1 of %s", *vs[0].LeafIndex, entries[*vs[0].LeafIndex], rec.ID)
	}

	srv.postJSON(t, token, "/api/v1/records/"+rec.ID+"/revoke", map[string]string{"reason": "撤销", "basis": "津政复决字〔2026〕9号"}).want(t, http.StatusOK)
	vs = srv.versions(t, token, rec.ID)
	if len(vs) != 3 || vs[2].LeafIndex == nil {
		t.Fatalf("versions after revocation %+v", vs)
	}
	json.Unmarshal(srv.awaitReceipt(t, token, rec.ID, *vs[2].LeafIndex), &rc)
	if rc.Inputs["version"] != 3.0 || rc.Inputs["change"] != "revoked" {
		t.Errorf("after a revocation the receipt's inputs are %v, want version 3 revoked", rc.Inputs)
	}
}

func (l *ledgerSuite) portalData(t *testing.T) {
	t.Parallel()
	p, srv := l.p, l.srv
	token := p.dept(t, p.uniq("PORTAL"), "XZCF", "")
	reader := p.dept(t, p.uniq("PREAD"), "", "XZCF")
	who := newPerson()
	rec := l.submit(t, srv, token, who)
	var answers []recordJSON // each change answers with its version's leaf index
	answers = append(answers, rec)
	answers = append(answers, srv.putJSON(t, token, "/api/v1/records/"+rec.ID, penalty(who, rec.Ref, "2026-05-01", map[string]any{"fine_amount": 1800})).want(t, http.StatusOK).record(t, who))
	answers = append(answers, srv.postJSON(t, token, "/api/v1/records/"+rec.ID+"/revoke", map[string]string{"reason": "撤销", "basis": "依据"}).want(t, http.StatusOK).record(t, who))
	answers = append(answers, srv.get(t, token, "/api/v1/records/"+rec.ID).want(t, http.StatusOK).record(t, who))
	srv.file(t, reader, who, "门户核对")
	srv.accessEvents(t, l.auditor, who)
	events := srv.accessEvents(t, l.auditor, who) // lists the first audit read too
	vs := srv.versions(t, token, rec.ID)

	want := map[int64]string{} // leaf index → "kind id"
	if len(vs) != 3 {
		t.Fatalf("versions %+v, want 3", vs)
	}
	for _, v := range vs {
		if v.LeafIndex == nil {
			t.Errorf("version %d has no leaf index", v.Version)
			continue
		}
		if _, dup := want[*v.LeafIndex]; dup {
			t.Errorf("leaf index %d is given twice", *v.LeafIndex)
		}
		want[*v.LeafIndex] = fmt.Sprintf("record.version %s:%d", rec.ID, v.Version)
	}
	for i, a := range answers {
		v := vs[min(i, 2)]
		if a.LeafIndex == nil || v.LeafIndex == nil || *a.LeafIndex != *v.LeafIndex || a.Version != v.Version {
			t.Errorf("answer %d (version %d) has leaf index %v; version %d's is %v", i, a.Version, a.LeafIndex, v.Version, v.LeafIndex)
		}
	}
	actions := map[string]bool{}
	for _, e := range events {
		actions[e.Action] = true
		if e.LeafIndex == nil || *e.LeafIndex < 0 {
			t.Errorf("access event %s (%s) has leaf index %v", e.ID, e.Action, e.LeafIndex)
			continue
		}
		if _, dup := want[*e.LeafIndex]; dup {
			t.Errorf("leaf index %d is given twice", *e.LeafIndex)
		}
		want[*e.LeafIndex] = "access " + e.ID
	}
	if !actions["record.read"] || !actions["file.read"] || !actions["audit.read"] || len(events) != 3 {
		t.Errorf("access events %+v, want the record read, the file lookup and the first audit read", events)
	}
	var top int64
	for ix := range want {
		top = max(top, ix)
	}
	cp, _ := srv.awaitCheckpoint(t, l.vkey, top+1, newLeavesWithin)
	entries := srv.entries(t, cp.size)
	for ix, w := range want {
		lf, err := parseLeafLines(entries[ix])
		if err != nil || lf.kind+" "+lf.id != w {
			t.Errorf("leaf %d is %q (%v), want the leaf of %s", ix, entries[ix], err, w)
		}
	}
	t.Run("a record submitted in a batch has its leaf index too", func(t *testing.T) {
		who := newPerson()
		ref := p.uniq("LEDGER-PB")
		row := penalty(who, ref, "2026-05-01", nil)
		l.remember(ref, row["fields"].(map[string]any)["decision_no"].(string))
		var b batchJSON
		srv.upload(t, token, "", "application/x-ndjson", ndjson(t, row)).want(t, http.StatusCreated).decode(t, &b)
		wantCounts(t, b, 1, 1, 0)
		f := srv.file(t, reader, who, "批量核对")
		if len(f.Records) != 1 {
			t.Fatalf("the file holds %+v, want the batch's record", f.Records)
		}
		vs := srv.versions(t, token, f.Records[0].ID)
		if len(vs) != 1 || vs[0].LeafIndex == nil {
			t.Fatalf("versions of the batch's record: %+v, want one with a leaf index", vs)
		}
		cp, _ := srv.awaitCheckpoint(t, l.vkey, *vs[0].LeafIndex+1, newLeavesWithin)
		if lf, err := parseLeafLines(srv.entries(t, cp.size)[*vs[0].LeafIndex]); err != nil || lf.id != f.Records[0].ID+":1" {
			t.Errorf("leaf %d is %+v (%v), want version 1 of %s", *vs[0].LeafIndex, lf, err, f.Records[0].ID)
		}
	})
	t.Run("the API description documents leaf_index on access events as on versions", func(t *testing.T) {
		if p.spec == nil {
			t.Skip("no API description") // reported by the suite already
		}
		ev := p.spec.doc.Components.Schemas["AccessEvent"]
		if ev == nil || ev.Value == nil || ev.Value.Properties["leaf_index"] == nil {
			t.Errorf("docs/openapi.yaml: components.schemas.AccessEvent has no leaf_index, but GET /api/v1/audit/access answers it for every event (the portal needs it for receipts)")
		}
	})
}

func (l *ledgerSuite) malformed(t *testing.T) {
	t.Parallel()
	srv := l.srv
	beyond := strconv.FormatInt(l.base.size+1_000_000, 10)
	const huge = "9223372036854775807"
	cases := []struct{ query, names string }{
		{"inclusion?index=-1&size=5", "index"},
		{"inclusion?index=0&size=-1", "size"},
		{"inclusion?index=abc&size=5", "index"},
		{"inclusion?index=0&size=five", "size"},
		{"inclusion?index=1.5&size=5", "index"},
		{"inclusion?index=0x1&size=5", "index"},
		{"inclusion?index=&size=5", "index"},
		{"inclusion?size=5", "index"},
		{"inclusion?index=0", "size"},
		{"inclusion", "index"},
		{"inclusion?index=5&size=5", "index"},
		{"inclusion?index=6&size=5", "index"},
		{"inclusion?index=0&size=0", "size"},
		{"inclusion?index=3&size=0", "size"},
		{"inclusion?index=0&size=10&size=11", "size"},
		{"inclusion?index=0&index=1&size=10", "index"},
		{"inclusion?index=0&size=" + beyond, "size"},
		{"inclusion?index=" + huge + "&size=" + huge, "size"},
		{"inclusion?index=0&size=" + huge, "size"},
		{"inclusion?index=" + huge + "&size=5", "index"},
		{"inclusion?index=99999999999999999999&size=5", "index"},
		{"inclusion?index=0&size=99999999999999999999", "size"},
		{"consistency?from=-1&to=5", "from"},
		{"consistency?from=1&to=-5", "to"},
		{"consistency?from=one&to=5", "from"},
		{"consistency?from=1&to=%E4%BA%94", "to"},
		{"consistency?to=5", "from"},
		{"consistency?from=1", "to"},
		{"consistency", "from"},
		{"consistency?from=6&to=5", "from"},
		{"consistency?from=0&to=5", "from"},
		{"consistency?from=0&to=0", "from"},
		{"consistency?from=1&from=2&to=5", "from"},
		{"consistency?from=1&to=5&to=6", "to"},
		{"consistency?from=1&to=" + beyond, "to"},
		{"consistency?from=" + huge + "&to=" + huge, "to"},
		{"consistency?from=1&to=" + huge, "to"},
		{"consistency?from=" + huge + "&to=5", "from"},
		{"consistency?from=1&to=99999999999999999999", "to"},
	}
	for _, c := range cases {
		res := srv.get(t, "", "/api/v1/ledger/proofs/"+c.query)
		if res.Status != http.StatusBadRequest {
			t.Errorf("GET proofs/%s: %d, want 400: %s", c.query, res.Status, truncateBody(res.Body))
			continue
		}
		e := res.errorOf(t)
		if e.Error.Message == "" || !e.hasDetail(c.names, "") {
			t.Errorf("GET proofs/%s: 400 with %q, details %v, which do not name %q", c.query, e.Error.Message, e.fields(), c.names)
		}
		if showsPackagePrefix(t, res) {
			t.Errorf("GET proofs/%s: the answer shows an internal package prefix: %s", c.query, res.Body)
		}
	}
	// The malformed tile paths of the QA report: 400 naming the path, as
	// docs/openapi.yaml says.
	for _, j := range []string{"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/-1", "tile/0/000.p/abc", "tile/0/0000", "tile/1/000.p/0"} {
		res := srv.fetch(t, "/api/v1/ledger/"+j)
		if res.Status != http.StatusBadRequest || !res.errorOf(t).hasDetail("path", "format") || showsPackagePrefix(t, res) {
			t.Errorf("GET %s: %d, want 400 naming the path: %s", j, res.Status, res.Body)
		}
	}
	junk := []string{
		"tile/", "tile/x", "tile/0", "tile/0/", "tile/0/abc", "tile/0/00", "tile/0/0000", "tile/0/1000",
		"tile/64/000", "tile/-1/000", "tile/00/000", "tile/1a/000", "tile/0/-01",
		"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/-1", "tile/0/000.p/01", "tile/0/000.p/", "tile/0/000.p", "tile/0/000.p/5/6",
		"tile/0/x000/001", "tile/0/x1/001", "tile/0/x001/1", "tile/0/x001//001",
		"tile/0/" + huge, "tile/0/x009/x223/x372/x036/x854/x775/807", "tile/0/x009/x223/x372/x036/x854/x775/808",
		"tile/entries/x009/x223/x372/x036/x854/x775/807.p/255", "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
		"tile/63/000.p/1", "tile/63/x009/x223/x372/x036/x854/x775/807.p/255",
		"tile/entries", "tile/entries/", "tile/entries/abc", "tile/entries/000.p/0", "tile/entries/000.p/300",
		"tile/8/0/000", "tile/8/data/000", "tile/data/000", "tile/entries/0/000", "tile/%00/000", "tile/0/000%00",
		"tile/0/000?x=1", "tile/" + strings.Repeat("x001/", 2000) + "000", "tile/" + strings.Repeat("9", 500),
		"tile/０/000", "tile/0/\u0661\u0662\u0663",
	}
	for _, j := range junk {
		res := srv.fetch(t, "/api/v1/ledger/"+escapePath(j))
		if res.Status != http.StatusNotFound && res.Status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 404 or 400: %s", truncateBody([]byte(j)), res.Status, truncateBody(res.Body))
		}
	}
}

// showsPackagePrefix reports whether an error answer shows an internal package
// prefix ("ledger: ...") in its message or details.
func showsPackagePrefix(t *testing.T, res response) bool {
	t.Helper()
	e := res.errorOf(t)
	texts := []string{e.Error.Message}
	for _, d := range e.Error.Details {
		texts = append(texts, d.Message)
	}
	for _, s := range texts {
		if strings.Contains(s, "ledger:") {
			return true
		}
	}
	return false
}

// checkpointHistory checks the checkpoints seen, in order, while the cases
// ran: each verifies, sizes never decrease, each is consistent with the one
// before, and each is kept in the database as it was served.
func (l *ledgerSuite) checkpointHistory(t *testing.T, seen [][]byte) {
	var cps []signedCheckpoint
	for _, b := range seen {
		cp, err := openCheckpoint(b, l.vkey)
		if err != nil {
			t.Errorf("a checkpoint served during the cases does not verify: %v\n%s", err, b)
			continue
		}
		cps = append(cps, cp)
	}
	if len(cps) < 2 {
		t.Errorf("only %d distinct checkpoints were seen while the cases added leaves", len(cps))
	}
	stored := storedCheckpoints(t, l.p)
	for i, cp := range cps {
		if !bytes.Equal(stored[cp.size], cp.text) {
			t.Errorf("the checkpoint of size %d is not kept as served", cp.size)
		}
		if i == 0 {
			continue
		}
		prev := cps[i-1]
		if cp.size < prev.size {
			t.Errorf("the checkpoint went back from size %d to %d", prev.size, cp.size)
			continue
		}
		l.srv.wantConsistent(t, prev, cp)
	}
	t.Logf("%d checkpoints seen, sizes %d to %d; %d stored", len(cps), cps[0].size, cps[len(cps)-1].size, len(stored))
}

// TestLedgerCrashBetweenChangeAndCheckpointLosesNothing builds the real
// binary, kills the server with SIGKILL right after it acknowledged changes
// and reads, before the integrator could put their leaves under a
// checkpoint, and finds every leaf under the checkpoint after a restart
// (SQLite). The origin is set with --ledger-origin here.
func TestLedgerCrashBetweenChangeAndCheckpointLosesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	dbPath := filepath.Join(dir, "data", "pubcredit.db")
	const origin = "crash.example.gov.cn/pubcredit"
	common := []string{"--db", "sqlite:" + dbPath, "--keys", filepath.Join(dir, "keys.json"), "--ledger-origin", origin}
	token := lastLine(runBinary(t, bin, append([]string{"dept", "add", "--code", "LCRASH", "--name", "账本崩溃测试局", "--submit", "XZCF"}, common...)...))
	if !strings.HasPrefix(token, "pct_") {
		t.Fatalf("dept add printed %q as its last line", token)
	}

	var ids []string
	versions, reads := 0, 0
	hit := false
	for round := 0; round < 3 && !hit; round++ {
		base, proc := startBinary(t, bin, common)
		const n = 24
		got := make(chan string, 2*n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				who := newPerson()
				status, body, err := tryDo(http.MethodPost, base+"/api/v1/records", token, mustJSON(t, penalty(who, fmt.Sprintf("LCRASH-%d-%d", round, i), "2024-03-15", nil)))
				var rec recordJSON
				if err != nil || status != http.StatusCreated || json.Unmarshal(body, &rec) != nil {
					t.Errorf("POST record: %v %d %s", err, status, body)
					return
				}
				got <- rec.ID
				if i%3 == 0 { // and read some back: access events
					if status, body, err := tryDo(http.MethodGet, base+"/api/v1/records/"+rec.ID, token, nil); err != nil || status != http.StatusOK {
						t.Errorf("GET record: %v %d %s", err, status, body)
						return
					}
					got <- "read " + rec.ID
				}
			})
		}
		wg.Wait()
		if err := proc.Process.Kill(); err != nil { // SIGKILL: no shutdown, no last checkpoint
			t.Fatal(err)
		}
		proc.Wait()
		close(got)
		for s := range got {
			if strings.HasPrefix(s, "read ") {
				reads++
			} else {
				ids = append(ids, s)
				versions++
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		leaves, size := sqliteLedgerState(t, dbPath)
		if leaves != int64(2*versions+reads) { // each record is of a new person: a subject leaf each
			t.Fatalf("after kill -9 the database holds %d leaves; %d versions (each of a new person) and %d reads were acknowledged", leaves, versions, reads)
		}
		hit = size < leaves
		t.Logf("round %d: killed with %d leaves committed and the newest checkpoint at %d", round, leaves, size)
	}
	if !hit {
		t.Logf("the integrator was quicker than kill -9 three times: the crash window was not exercised")
	}

	base, _ := startBinary(t, bin, common)
	vkey := string(bytes.TrimSuffix(plainGet(t, base+"/api/v1/ledger/key").body, []byte("\n")))
	if !strings.HasPrefix(vkey, origin+"+") {
		t.Errorf("the key %q is not named by --ledger-origin %s", vkey, origin)
	}
	want := int64(2*versions + reads) // each record of a new person
	var cp signedCheckpoint
	start := time.Now()
	for {
		res := plainGet(t, base+"/api/v1/ledger/checkpoint")
		var err error
		if res.status == http.StatusOK {
			if cp, err = openCheckpoint(res.body, vkey); err != nil {
				t.Fatalf("the checkpoint after restart: %v\n%s", err, res.body)
			}
		}
		if cp.size >= want || time.Since(start) > newLeavesWithin {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if cp.size != want {
		t.Fatalf("after restart the checkpoint has size %d; %d versions and %d access events were committed", cp.size, versions, reads)
	}
	if cp.origin != origin {
		t.Errorf("origin %q, want %q", cp.origin, origin)
	}
	bundle := fetchEntries(t, func(path string) (int, []byte) {
		r := plainGet(t, base+"/api/v1/ledger/"+path)
		return r.status, r.body
	}, cp.size)
	kinds := map[string]int{}
	for _, e := range bundle {
		lf, err := parseLeafLines(e)
		if err != nil {
			t.Fatalf("entry %q: %v", e, err)
		}
		kinds[lf.kind]++
	}
	if kinds["record.version"] != versions || kinds["access"] != reads {
		t.Errorf("the log holds %v; %d versions and %d reads were acknowledged", kinds, versions, reads)
	}
	for _, id := range ids {
		res := crashDo(t, http.MethodGet, base+"/api/v1/records/"+id+"/versions", token, "", nil)
		var vs struct {
			Versions []versionJSONLedger `json:"versions"`
		}
		if res.status != http.StatusOK || json.Unmarshal(res.body, &vs) != nil || len(vs.Versions) != 1 || vs.Versions[0].LeafIndex == nil {
			t.Fatalf("versions of %s after restart: %d %s", id, res.status, res.body)
		}
		ix := *vs.Versions[0].LeafIndex
		r := plainGet(t, fmt.Sprintf("%s/api/v1/ledger/proofs/inclusion?index=%d&size=%d", base, ix, cp.size))
		var p inclusionJSON
		if r.status != http.StatusOK || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("inclusion proof of %d: %d %s", ix, r.status, r.body)
		}
		if err := tlog.CheckRecord(p.proof(t), cp.size, cp.root, ix, tlog.RecordHash(bundle[ix])); err != nil {
			t.Errorf("record %s leaf %d: %v", id, ix, err)
		}
		if lf, _ := parseLeafLines(bundle[ix]); lf.id != id+":1" {
			t.Errorf("leaf %d is %q, want version 1 of %s", ix, bundle[ix], id)
		}
	}
}

// Verifiers and helpers, written on tlog and note only.

// signedCheckpoint is a checkpoint opened with sumdb/note.
type signedCheckpoint struct {
	text   []byte
	origin string
	size   int64
	root   tlog.Hash
}

// openCheckpoint verifies a signed checkpoint with note.Open under vkey and
// parses its body: origin, size, base64 root.
func openCheckpoint(text []byte, vkey string) (signedCheckpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return signedCheckpoint{}, err
	}
	n, err := note.Open(text, note.VerifierList(v))
	if err != nil {
		return signedCheckpoint{}, err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return signedCheckpoint{}, fmt.Errorf("checkpoint body %q: want origin, size and root lines", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return signedCheckpoint{}, fmt.Errorf("checkpoint size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return signedCheckpoint{}, fmt.Errorf("checkpoint root %q", lines[2])
	}
	cp := signedCheckpoint{text: text, origin: lines[0], size: size}
	copy(cp.root[:], raw)
	if cp.origin != v.Name() {
		return signedCheckpoint{}, fmt.Errorf("checkpoint origin %q is not the key's name %q", cp.origin, v.Name())
	}
	return cp, nil
}

// leafLines is a leaf parsed here: five lines after the version line.
type leafLines struct{ kind, id, at, commitment string }

func parseLeafLines(b []byte) (leafLines, error) {
	s, ok := strings.CutPrefix(string(b), leafPrefix)
	if !ok {
		return leafLines{}, fmt.Errorf("does not start with %q", leafPrefix)
	}
	for _, c := range b {
		if c > '~' || c < ' ' && c != '\n' {
			return leafLines{}, fmt.Errorf("byte %#x is not printable ASCII", c)
		}
	}
	f := strings.Split(s, "\n")
	if len(f) != 5 || f[4] != "" {
		return leafLines{}, fmt.Errorf("want kind, id, time and commitment lines")
	}
	if _, err := time.Parse(time.RFC3339Nano, f[2]); err != nil || !strings.HasSuffix(f[2], "Z") {
		return leafLines{}, fmt.Errorf("time %q is not RFC 3339 in UTC", f[2])
	}
	if len(f[3]) != 64 || !isLowerHex(f[3]) {
		return leafLines{}, fmt.Errorf("commitment %q is not 64 lowercase hex digits", f[3])
	}
	return leafLines{kind: f[0], id: f[1], at: f[2], commitment: f[3]}, nil
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// inclusionJSON is an inclusion proof as the API answers it.
type inclusionJSON struct {
	Index    int64    `json:"index"`
	Size     int64    `json:"size"`
	LeafHash string   `json:"leaf_hash"`
	Hashes   []string `json:"hashes"`
}

func (p inclusionJSON) proof(t *testing.T) tlog.RecordProof {
	t.Helper()
	return decodeHashes(t, p.Hashes)
}

type consistencyJSON struct {
	From   int64    `json:"from"`
	To     int64    `json:"to"`
	Hashes []string `json:"hashes"`
}

// receiptJSON is a receipt as the API answers it.
type receiptJSON struct {
	Format     string         `json:"format"`
	Leaf       string         `json:"leaf"`
	Index      int64          `json:"index"`
	Inputs     map[string]any `json:"inputs"`
	Checkpoint string         `json:"checkpoint"`
	Proof      inclusionJSON  `json:"proof"`
}

func decodeHashes(t *testing.T, hs []string) []tlog.Hash {
	t.Helper()
	out := make([]tlog.Hash, len(hs))
	for i, s := range hs {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			t.Fatalf("proof hash %d %q is not base64 of 32 bytes", i, s)
		}
		copy(out[i][:], raw)
	}
	return out
}

func b64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// flipHashByte changes byte k of a base64 hash.
func flipHashByte(t *testing.T, s string, k int) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || k >= len(raw) {
		t.Fatalf("hash %q: %v", s, err)
	}
	raw[k] ^= 0x01
	return base64.StdEncoding.EncodeToString(raw)
}

// otherByte returns a byte of the same class that differs from c.
func otherByte(c byte) byte {
	switch {
	case '0' <= c && c <= '8', 'a' <= c && c <= 'y', 'A' <= c && c <= 'Y':
		return c + 1
	case c == '9':
		return '0'
	case c == 'z':
		return 'a'
	case c == 'Z':
		return 'A'
	case c == '\n':
		return ' '
	}
	return 'x'
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// escapePath escapes what a URL path cannot carry as it is, keeping '/'.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.Contains(s, "%") {
			continue // already escaped on purpose
		}
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// startWith runs `pubcredit serve` on the platform with env and stops it as
// soon as it listens: it returns how serve ended.
func (p *platform) startWith(t *testing.T, env map[string]string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	listened := false
	code := RunEnv(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", p.db, "--keys", p.keys}, Env{Stdin: strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr, Getenv: getenv(env), Clock: p.clock,
		Ready: func(string, string) { listened = true; cancel() }})
	if listened {
		code = 0 // it served
	}
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// verifyReceipt runs `pubcredit verify-receipt FILE --key KEY` in process.
func verifyReceipt(t *testing.T, file, key string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := RunEnv(ctx, []string{"verify-receipt", file, "--key", key}, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: getenv(nil), Clock: clock.NewFixed(e2eNow)})
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// fetch GETs a public path without a token and returns the answer as it
// is (text, bytes or an error). Errors must have the one error shape, no
// identity number may be in it, and the answer must match the API
// description (tile paths excepted: an OpenAPI path parameter cannot hold
// the slashes of "0/x001/234.p/5").
func (s *server) fetch(t *testing.T, path string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", truncateBody([]byte(path)), err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", truncateBody([]byte(path)), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Body: b}
	if r.Status >= 500 && r.Status != http.StatusServiceUnavailable {
		t.Errorf("GET %s: %d %s", truncateBody([]byte(path)), r.Status, truncateBody(b))
	}
	if r.Status >= 400 {
		var raw map[string]map[string]any
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(b, &raw) != nil || raw["error"] == nil {
			t.Errorf("GET %s: %d without the error shape:\n%s", truncateBody([]byte(path)), r.Status, truncateBody(b))
		} else if m, _ := raw["error"]["message"].(string); m == "" {
			t.Errorf("GET %s: %d without a message: %s", truncateBody([]byte(path)), r.Status, b)
		}
	}
	for _, n := range knownNumbers() {
		if bytes.Contains(b, []byte(n)) {
			t.Errorf("GET %s: the answer carries an identity number in clear", truncateBody([]byte(path)))
		}
	}
	if s.p.spec != nil && !strings.HasPrefix(path, "/api/v1/ledger/tile/") {
		if err := s.p.spec.validate(req, r); err != nil {
			t.Errorf("GET %s: the answer (%d) does not match docs/openapi.yaml:\n%v", path, r.Status, err)
		}
	}
	return r
}

// ledgerKey is the published note verifier key.
func (s *server) ledgerKey(t *testing.T) string {
	t.Helper()
	res := s.fetch(t, "/api/v1/ledger/key")
	if res.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/ledger/key: %d %s", res.Status, res.Body)
	}
	return strings.TrimSuffix(string(res.Body), "\n")
}

// checkpoint is the newest checkpoint, verified under vkey.
func (s *server) checkpoint(t *testing.T, vkey string) signedCheckpoint {
	t.Helper()
	res := s.fetch(t, "/api/v1/ledger/checkpoint")
	if res.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/ledger/checkpoint: %d %s", res.Status, res.Body)
	}
	cp, err := openCheckpoint(res.Body, vkey)
	if err != nil {
		t.Fatalf("the checkpoint does not verify with sumdb/note: %v\n%s", err, res.Body)
	}
	if cp.origin != ledgerOrigin {
		t.Errorf("checkpoint origin %q, want the configured %q", cp.origin, ledgerOrigin)
	}
	return cp
}

// awaitCheckpoint polls the checkpoint until it covers size leaves and
// fails when that takes longer than within; sizes must never decrease.
func (s *server) awaitCheckpoint(t *testing.T, vkey string, size int64, within time.Duration) (signedCheckpoint, time.Duration) {
	t.Helper()
	start := time.Now()
	var last signedCheckpoint
	for {
		cp := s.checkpoint(t, vkey)
		if cp.size < last.size {
			t.Errorf("the checkpoint went back from size %d to %d", last.size, cp.size)
		}
		last = cp
		took := time.Since(start)
		if cp.size >= size {
			return cp, took
		}
		if took > within {
			t.Fatalf("after %v the checkpoint covers %d leaves, want %d", took.Round(time.Millisecond), cp.size, size)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantConsistent checks the consistency proof between two checkpoints with
// tlog.CheckTree.
func (s *server) wantConsistent(t *testing.T, from, to signedCheckpoint) {
	t.Helper()
	if from.size == 0 || from.size == to.size {
		if from.size == to.size && from.root != to.root {
			t.Errorf("two checkpoints of size %d with different roots", from.size)
		}
		return
	}
	var p consistencyJSON
	s.get(t, "", fmt.Sprintf("/api/v1/ledger/proofs/consistency?from=%d&to=%d", from.size, to.size)).want(t, http.StatusOK).decode(t, &p)
	if p.From != from.size || p.To != to.size {
		t.Errorf("consistency proof from %d to %d, asked %d to %d", p.From, p.To, from.size, to.size)
	}
	if err := tlog.CheckTree(decodeHashes(t, p.Hashes), to.size, to.root, from.size, from.root); err != nil {
		t.Errorf("the consistency proof from %d to %d does not verify with tlog.CheckTree: %v", from.size, to.size, err)
	}
}

// watchCheckpoints polls the checkpoint in the background and returns a
// function that stops and returns every distinct checkpoint seen, in order.
func (s *server) watchCheckpoints() func() [][]byte {
	stop, done := make(chan struct{}), make(chan struct{})
	var seen [][]byte
	go func() {
		defer close(done)
		for {
			res, err := http.Get(s.base + "/api/v1/ledger/checkpoint")
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK && (len(seen) == 0 || !bytes.Equal(seen[len(seen)-1], b)) {
					seen = append(seen, b)
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()
	return func() [][]byte {
		close(stop)
		<-done
		return seen
	}
}

// entries fetches the entry bundles of the tree of size leaves.
func (s *server) entries(t *testing.T, size int64) [][]byte {
	t.Helper()
	return fetchEntries(t, func(path string) (int, []byte) {
		r := s.fetch(t, "/api/v1/ledger/"+path)
		return r.Status, r.Body
	}, size)
}

// fetchEntries reads the entries of the tree of size leaves from its entry
// bundles, parsed here: each entry a big-endian uint16 length and its bytes.
func fetchEntries(t *testing.T, get func(path string) (int, []byte), size int64) [][]byte {
	t.Helper()
	var out [][]byte
	for n := int64(0); n*256 < size; n++ {
		w := min(256, size-n*256)
		path := c2spPath(tlog.Tile{H: 8, L: -1, N: n, W: int(w)})
		status, b := get(path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, b)
		}
		got, err := parseBundle(b)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if int64(len(got)) != w {
			t.Fatalf("%s holds %d entries, want %d", path, len(got), w)
		}
		out = append(out, got...)
	}
	return out
}

func parseBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, errors.New("entry bundle: a truncated length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b)-2 < n {
			return nil, fmt.Errorf("entry bundle: entry %d of %d bytes, %d left", len(out), n, len(b)-2)
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

// c2spPath turns a sumdb tile path "tile/8/L/N[.p/W]" (L "data" for
// entries) into the C2SP tlog-tiles path "tile/L/N[.p/W]" ("entries").
func c2spPath(tile tlog.Tile) string {
	p := strings.TrimPrefix(tile.Path(), "tile/8/")
	if rest, ok := strings.CutPrefix(p, "data/"); ok {
		p = "entries/" + rest
	}
	return "tile/" + p
}

// httpTiles is a tlog.TileReader over the server's tiles.
type httpTiles struct {
	t     *testing.T
	srv   *server
	mu    sync.Mutex
	cache map[string][]byte
}

func (h *httpTiles) Height() int { return 8 }

func (h *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		p := c2spPath(tile)
		h.mu.Lock()
		b, ok := h.cache[p]
		h.mu.Unlock()
		if !ok {
			res := h.srv.fetch(h.t, "/api/v1/ledger/"+p)
			if res.Status != http.StatusOK {
				return nil, fmt.Errorf("GET %s: %d %s", p, res.Status, res.Body)
			}
			b = res.Body
			h.mu.Lock()
			h.cache[p] = b
			h.mu.Unlock()
		}
		out[i] = b
	}
	return out, nil
}

func (h *httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// versionJSONLedger is one version of a record's history.
type versionJSONLedger struct {
	Version   int    `json:"version"`
	Change    string `json:"change"`
	LeafIndex *int64 `json:"leaf_index"`
}

// versions is the history of a record.
func (s *server) versions(t *testing.T, token, id string) []versionJSONLedger {
	t.Helper()
	var h struct {
		Versions []versionJSONLedger `json:"versions"`
	}
	s.get(t, token, "/api/v1/records/"+id+"/versions").want(t, http.StatusOK).decode(t, &h)
	return h.Versions
}

// accessEventJSON is one access event as an auditor sees it.
type accessEventJSON struct {
	ID        string `json:"id"`
	Action    string `json:"action"`
	LeafIndex *int64 `json:"leaf_index"`
}

// accessEvents is an auditor's read of who's access log.
func (s *server) accessEvents(t *testing.T, auditor string, who person) []accessEventJSON {
	t.Helper()
	var log struct {
		Events []accessEventJSON `json:"events"`
	}
	s.get(t, auditor, "/api/v1/audit/access?id_number="+who.Number).want(t, http.StatusOK).decode(t, &log)
	return log.Events
}

// awaitReceipt polls a record's receipt until it is answered (503 with
// Retry-After until its leaf is under a checkpoint) and, when index is not
// -1, is for the leaf at index.
func (s *server) awaitReceipt(t *testing.T, token, id string, index int64) []byte {
	t.Helper()
	start := time.Now()
	for {
		res := s.get(t, token, "/api/v1/records/"+id+"/receipt")
		switch res.Status {
		case http.StatusOK:
			var rc receiptJSON
			res.decode(t, &rc)
			if index == -1 || rc.Index == index {
				return res.Body
			}
		case http.StatusServiceUnavailable:
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("a 503 receipt without Retry-After")
			}
		default:
			t.Fatalf("GET receipt: %d %s", res.Status, res.Body)
		}
		if time.Since(start) > newLeavesWithin {
			t.Fatalf("no receipt for leaf %d within %v: %d %s", index, newLeavesWithin, res.Status, res.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// storedCheckpoints reads every checkpoint kept in the database, by size.
func storedCheckpoints(t *testing.T, p *platform) map[int64][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const q = `SELECT size, signed FROM ledger_checkpoints`
	if p.dataDir == "" {
		conn, err := pgx.Connect(ctx, p.db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		return checkpointsBySize(t, rows)
	}
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(p.db, "sqlite:")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	return checkpointsBySize(t, rows)
}

// checkpointsBySize reads rows of (size, signed), from either driver.
func checkpointsBySize(t *testing.T, rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) map[int64][]byte {
	t.Helper()
	out := map[int64][]byte{}
	for rows.Next() {
		var size int64
		var signed []byte
		if err := rows.Scan(&size, &signed); err != nil {
			t.Fatal(err)
		}
		out[size] = signed
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sqliteLedgerState reads the number of leaves and the newest checkpoint's
// size from a SQLite database no server has open.
func sqliteLedgerState(t *testing.T, path string) (leaves, size int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cp sql.NullInt64
	if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM ledger_leaves), (SELECT MAX(size) FROM ledger_checkpoints)`).Scan(&leaves, &cp); err != nil {
		t.Fatal(err)
	}
	return leaves, cp.Int64
}

// tryDo makes a request with a token and a JSON body, for goroutines:
// it reports errors instead of failing the test.
func tryDo(method, u, token string, body []byte) (int, []byte, error) {
	return tryDoType(method, u, token, "application/json", body)
}

// tryDoType is tryDo with a body of another type.
func tryDoType(method, u, token, contentType string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// plainGet is a GET without a token.
func plainGet(t *testing.T, u string) crashResponse {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return crashResponse{status: res.StatusCode, body: b}
}

// TestServeRefusesAnotherLedgerOrigin: a server configured with another
// ledger origin than the one its database's log is signed under refuses to
// start, naming both, rather than fork the log under a second name.
func TestServeRefusesAnotherLedgerOrigin(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, "", nil)
	srv := p.serve(t, nil)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if srv.fetch(t, "/api/v1/ledger/checkpoint").Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint within 10 s")
		}
	}
	const other = "other.example.gov.cn/pubcredit"
	r := p.run(t, nil, "serve", "--addr", "127.0.0.1:0", "--ledger-origin", other)
	if r.Code == 0 || !strings.Contains(r.Stderr, other) || !strings.Contains(r.Stderr, "pubcredit.local/ledger") {
		t.Errorf("serve with another origin: exit %d, stderr:\n%s\nwant a failure naming both origins", r.Code, r.Stderr)
	}
	if r := p.run(t, nil, "verify"); r.Code != 0 {
		t.Errorf("verify after the refused start: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestVerifyWhileAServerWrites: `pubcredit verify` on a SQLite database a
// running server is writing to reads one consistent state, read-only, and
// finds nothing.
func TestVerifyWhileAServerWrites(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, "", nil)
	token := p.dept(t, p.uniq("VW"), "XZCF", "XZCF")
	srv := p.serve(t, nil)
	stop := make(chan struct{})
	var written atomic.Int64
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				who := newPerson()
				status, body, err := tryDo(http.MethodPost, srv.base+"/api/v1/records", token, mustJSON(t, penalty(who, fmt.Sprintf("VW-%d-%d", w, i), "2026-05-01", nil)))
				if err != nil || status != http.StatusCreated {
					t.Errorf("POST record: %v %d %s", err, status, body)
					return
				}
				written.Add(1)
			}
		})
	}
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		if r := p.run(t, nil, "verify"); r.Code != 0 {
			t.Errorf("verify while the server writes: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
	}
	close(stop)
	wg.Wait()
	if written.Load() == 0 {
		t.Fatal("nothing was written while verify ran")
	}
	if r := p.run(t, nil, "verify"); r.Code != 0 {
		t.Errorf("verify after the writes: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}
