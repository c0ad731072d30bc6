package verify_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/ids"
	"pubcredit/internal/ledger"
	"pubcredit/internal/record"
	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/verify"
)

var (
	benchLeaves   = flag.Int("leaves", 100000, "leaves in the log BenchmarkVerifySQLite verifies")
	benchVersions = flag.Float64("versions", 0.5, "the share of those leaves that are record versions and their people (half each); the rest are access events")
)

// BenchmarkVerifySQLite verifies, as pubcredit verify does, a SQLite log of
// -leaves leaves, a share -versions of them record versions (records of one
// version, with payloads and states of the sizes a real XZCF record has)
// and their people's subjects rows (one each), and the rest access events,
// integrated into checkpoints of 10,000 leaves, with the garbage
// collector's target the verify command sets. It reports leaves verified
// per second, the process's CPU time per leaf (both cores), and, as a
// baseline measured in the same run, leaves read and hashed per second
// (readLeaves) with verify's rate against it:
//
//	go test ./internal/verify -run '^$' -bench VerifySQLite -benchtime 3x -leaves 1000000 -versions 0.5
func BenchmarkVerifySQLite(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "pubcredit.db")
	st, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	n := *benchLeaves
	vkey := fillSQLite(b, st, path, n)
	// Verified as the command opens it: read-only, the platform that wrote
	// it stopped (its write-ahead log copied back into the file; a running
	// server's log costs verify 5–8%, docs/benchmarks.md).
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	ro, err := sqlite.OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	defer ro.Close()

	defer debug.SetGCPercent(debug.SetGCPercent(verify.GCPercent)) // as the verify command runs
	var sum verify.Summary
	cpu0 := cpuTime()
	for b.Loop() {
		snap, done, err := ro.VerifySnapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sum, err = verify.Run(ctx, snap, vkey, time.Now(), func(p verify.Problem) { b.Errorf("problem in the synthetic log: %s", p) })
		done()
		if err != nil {
			b.Fatal(err)
		}
	}
	if sum.Leaves != n || sum.Problems != 0 || sum.Unintegrated != 0 {
		b.Fatalf("summary %+v for %d leaves", sum, n)
	}
	rate := float64(n) * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "leaves/s")
	// On a shared machine the wall clock depends on the neighbours; the
	// process's CPU time per leaf does less.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n*b.N), "cpu-ns/leaf")
	base := readLeaves(b, path, n)
	b.ReportMetric(base, "baseline_leaves/s")
	b.ReportMetric(rate/base, "ratio")
}

// readLeaves is the benchmark's baseline, measured in the same run: the
// leaves read once in index order through database/sql, hashed with
// SHA-256 and nothing else. It returns leaves read per second.
func readLeaves(b *testing.B, path string, n int) float64 {
	b.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	rows, err := db.Query(`SELECT idx, data FROM ledger_leaves ORDER BY idx`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	read := 0
	var data sql.RawBytes
	var idx int64
	for rows.Next() {
		if err := rows.Scan(&idx, &data); err != nil {
			b.Fatal(err)
		}
		sha256.Sum256(data)
		read++
	}
	if err := rows.Err(); err != nil || read != n {
		b.Fatalf("baseline read %d of %d leaves: %v", read, n, err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fillSQLite writes n leaves: batches of records through the store (so that
// rows, versions and leaves are exactly as the platform writes them) and
// batches of access events by SQL as the store writes them, then integrates
// them. It returns the verifier key.
func fillSQLite(b *testing.B, st *sqlite.Store, path string, n int) string {
	b.Helper()
	ctx := context.Background()
	_, signer := newKeys(b, "bench.example/ledger")
	if err := st.CreateDept(ctx, auth.Dept{Code: "BENCH", Name: "bench", Submit: []string{"XZCF"}, Read: []string{"XZCF"}}); err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)

	// Rows arrive 50µs apart, as from an ingest of 20,000 rows a second:
	// their ids, which begin with the millisecond, then sort nearly as
	// they were inserted, as they do on a real platform.
	at := time.Date(2026, 11, 30, 2, 0, 0, 123456000, time.UTC) // the platform stamps microseconds
	payload := func() []byte {                                  // a sealed XZCF content is about 700 bytes
		p := make([]byte, 692)
		rand.Read(p)
		return p
	}
	const batch = 5000
	made := 0
	for made < n {
		// A batch of records, one version each, each of a new person: two
		// leaves a record.
		k := min(int(batch**benchVersions)/2, (n-made)/2)
		subjects, recs, versions := make([]record.SealedSubject, k), make([]record.Stored, k), make([]record.Version, k)
		for i := range k {
			key := make([]byte, 32)
			rand.Read(key)
			subjects[i] = record.SealedSubject{Key: key, IDType: "resident_id", Number: payload()[:48], Name: payload()[:40]}.Seal(at, true)
			at = at.Add(50 * time.Microsecond)
			id := ids.New(at)
			from := clock.Date{Year: 2025, Month: 3, Day: 1 + i%28}
			recs[i] = record.Stored{ID: id, Dept: "BENCH", Ref: fmt.Sprintf("津市监罚〔2025〕%07d号", made+i), Item: "XZCF", SubjectKey: key,
				Version: 1, Status: record.Active, Severity: catalog.Severity("general"),
				Window:  record.Window{From: from, EarliestEnd: from.AddDays(90), End: from.AddDays(365)},
				Payload: payload(), ContentHash: key, CreatedAt: at, UpdatedAt: at}
			v := record.Version{RecordID: id, Version: 1, Change: record.Created, At: at, Payload: recs[i].Payload, State: record.StateOf(recs[i]), Salt: ledger.NewSalt()}
			v.Leaf = ledger.Leaf{Kind: record.LeafKind, ID: record.EventID(id, 1), At: at.Truncate(time.Microsecond), Commitment: ledger.Commit(v.Salt, v.Committed())}.Encode()
			versions[i] = v
		}
		if k > 0 {
			if _, err := st.CreateRecords(ctx, subjects, recs, versions); err != nil {
				b.Fatal(err)
			}
		}
		made += 2 * k

		// A batch of access events reading them, as AppendAccess writes them.
		k = min(batch-2*k, n-made)
		if k == 0 {
			continue
		}
		tx, err := raw.Begin()
		if err != nil {
			b.Fatal(err)
		}
		var next int64
		if err := tx.QueryRow(`SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&next); err != nil {
			b.Fatal(err)
		}
		leafStmt, err1 := tx.Prepare(`INSERT INTO ledger_leaves (idx, kind, event_id, data) VALUES (?, ?, ?, ?)`)
		evStmt, err2 := tx.Prepare(`INSERT INTO access_events (id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err1 != nil || err2 != nil {
			b.Fatal(err1, err2)
		}
		for i := range k {
			r := record.Stored{ID: ids.New(at), SubjectKey: make([]byte, 32)}
			if len(recs) > 0 {
				r = recs[i%len(recs)]
			}
			at = at.Add(50 * time.Microsecond)
			e := access.Event{ID: ids.New(at), At: at.Truncate(time.Microsecond), Principal: auth.Department, Actor: "BENCH", SubjectKey: r.SubjectKey,
				Action: access.RecordRead, Purpose: "reading a record the department submitted", Authority: "submitting department",
				Records: []string{r.ID}, Items: []string{"XZCF"}, Salt: ledger.NewSalt()}
			leaf := ledger.Leaf{Kind: access.LeafKind, ID: e.ID, At: e.At, Commitment: ledger.Commit(e.Salt, e.Committed())}.Encode()
			if _, err := leafStmt.Exec(next, access.LeafKind, e.ID, leaf); err != nil {
				b.Fatal(err)
			}
			recsJSON, _ := json.Marshal(e.Records)
			itemsJSON, _ := json.Marshal(e.Items)
			if _, err := evStmt.Exec(e.ID, e.At.Format("2006-01-02T15:04:05.000000000Z"), string(e.Principal), e.Actor, e.SubjectKey, string(e.Action),
				e.Purpose, e.Authority, string(recsJSON), string(itemsJSON), e.Salt, next); err != nil {
				b.Fatal(err)
			}
			next++
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		made += k
	}
	lg := &ledger.Log{Store: st, Signer: signer, Clock: clock.NewFixed(at), Batch: 10000}
	if size, err := lg.Integrate(ctx); err != nil || size != int64(n) {
		b.Fatalf("integrated %d of %d leaves: %v", size, n, err)
	}
	return signer.VerifierKey()
}
