package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
	"pubcredit/internal/record"
	"pubcredit/internal/store/postgres/pgtest"
	"pubcredit/internal/store/storetest"
)

// TestConformanceOnTheFastPath runs the suite with every CreateRecords call
// taking the COPY path, the small ones included.
func TestConformanceOnTheFastPath(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := Open(t.Context(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.rowByRowBelow = 0
		return s
	})
}

// migrated opens a migrated store with department D1 on a fresh database.
func migrated(tb testing.TB) (*Store, string) {
	tb.Helper()
	url := pgtest.URL(tb)
	s, err := Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if err := s.CreateDept(context.Background(), auth.Dept{Code: "D1", Name: "D1", CreatedAt: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	return s, url
}

// rows makes n records of D1 numbered from first, each about a person of
// its own, with payloads the size of real sealed content.
func rows(first, n int) ([]record.SealedSubject, []record.Stored, []record.Version) {
	subs := make([]record.SealedSubject, n)
	recs := make([]record.Stored, n)
	vers := make([]record.Version, n)
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for i := range n {
		k := first + i
		key := sha256.Sum256([]byte(strconv.Itoa(k)))
		payload := make([]byte, 480)
		rand.Read(payload)
		hash := sha256.Sum256(payload)
		subs[i] = record.SealedSubject{Key: key[:], IDType: "resident", Number: payload[:46], Name: payload[46:80]}
		recs[i] = record.Stored{
			ID: fmt.Sprintf("%032x", k), Dept: "D1", Ref: fmt.Sprintf("D1/2026/%09d", k), Item: "XZCF",
			SubjectKey: key[:], Version: 1, Status: record.Active, Severity: "general",
			Window: record.Window{From: clock.Date{Year: 2026, Month: 3, Day: 14}, EarliestEnd: clock.Date{Year: 2026, Month: 9, Day: 14},
				End: clock.Date{Year: 2029, Month: 3, Day: 14}},
			Payload: payload, ContentHash: hash[:], CreatedAt: now, UpdatedAt: now,
		}
		vers[i] = record.Version{RecordID: recs[i].ID, Version: 1, Change: record.Created, At: now, Payload: payload}
	}
	return subs, recs, vers
}

// There is no test of a batch racing a concurrent writer between its lookup
// and its COPY: every appending transaction takes the ledger lock first
// (ledgerTx), so writers are serialized and that race cannot happen. The
// row-by-row redo stays as a defence; TestCreateRecordsConcurrentWritersCreateEachRefOnce
// shows concurrent writers still create each ref once.

func TestCreateRecordsConcurrentWritersCreateEachRefOnce(t *testing.T) {
	t.Parallel()
	s, _ := migrated(t)
	const writers, n = 4, 300
	outs := make([][]record.Outcome, writers)
	recsOf := make([][]record.Stored, writers)
	var wg sync.WaitGroup
	for w := range writers {
		subs, recs, vers := rows(0, n)
		for i := range recs { // the same refs under ids of each writer's own
			recs[i].ID = fmt.Sprintf("%d%031x", w, i)
			vers[i].RecordID = recs[i].ID
		}
		recsOf[w] = recs
		wg.Go(func() {
			out, err := s.CreateRecords(t.Context(), subs, recs, vers)
			if err != nil {
				t.Errorf("writer %d: %v", w, err)
			}
			outs[w] = out
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range n {
		var winner string
		for w := range writers {
			if outs[w][i].Created {
				if winner != "" {
					t.Fatalf("row %d created by two writers", i)
				}
				winner = recsOf[w][i].ID
			}
		}
		if winner == "" {
			t.Fatalf("row %d created by no writer", i)
		}
		for w := range writers {
			if o := outs[w][i]; !o.Created && o.ExistingID != winner {
				t.Fatalf("writer %d, row %d: existing %q, want %q", w, i, o.ExistingID, winner)
			}
		}
	}
}

// viaCreateRecords stores n rows in chunks through CreateRecords.
func viaCreateRecords(tb testing.TB, s *Store, n, chunk int) {
	for first := 0; first < n; first += chunk {
		subs, recs, vers := rows(first, min(chunk, n-first))
		out, err := s.CreateRecords(context.Background(), subs, recs, vers)
		if err != nil {
			tb.Fatal(err)
		}
		if !out[0].Created {
			tb.Fatalf("row %d not created", first)
		}
	}
}

// rawCopy stores n rows in chunks with nothing but three COPYs a chunk:
// the fastest way in, and the yardstick for CreateRecords.
func rawCopy(tb testing.TB, s *Store, n, chunk int) {
	ctx := context.Background()
	for first := 0; first < n; first += chunk {
		subs, recs, vers := rows(first, min(chunk, n-first))
		err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"subjects"}, subjectColumns, pgx.CopyFromSlice(len(subs), func(i int) ([]any, error) {
				return []any{subs[i].Key, subs[i].IDType, subs[i].Number, subs[i].Name, recs[i].CreatedAt}, nil
			})); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"}, recordColumns, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
				return recordValues(recs[i]), nil
			})); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"record_versions"}, versionColumns, pgx.CopyFromSlice(len(vers), func(i int) ([]any, error) {
				return versionValues(vers[i], nil), nil
			}))
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkCreateRecordsVsCopy loads b.N rows in chunks through
// CreateRecords and, on another fresh database, with nothing but three raw
// COPYs a chunk, and fails unless CreateRecords reaches 60% of the raw
// rate. For the figure in the requirements, a million rows:
//
//	go test -run '^$' -bench CreateRecordsVsCopy -benchtime 1000000x -timeout 60m ./internal/store/postgres/
func BenchmarkCreateRecordsVsCopy(b *testing.B) {
	for _, chunk := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			timed := func(load func(testing.TB, *Store, int, int)) time.Duration {
				s, _ := migrated(b)
				start := time.Now()
				load(b, s, b.N, chunk)
				return time.Since(start)
			}
			raw := timed(rawCopy)
			ours := timed(viaCreateRecords)
			ratio := raw.Seconds() / ours.Seconds()
			b.ReportMetric(float64(b.N)/raw.Seconds(), "copy-rows/s")
			b.ReportMetric(float64(b.N)/ours.Seconds(), "create-rows/s")
			b.ReportMetric(100*ratio, "%-of-copy")
			if b.N >= 100000 && ratio < 0.6 {
				b.Errorf("CreateRecords reaches %.0f%% of raw COPY, want at least 60%%", 100*ratio)
			}
		})
	}
}

// BenchmarkCreateOne measures CreateRecords of a single record, as an API
// submission makes it.
func BenchmarkCreateOne(b *testing.B) {
	s, _ := migrated(b)
	b.ResetTimer()
	for i := range b.N {
		subs, recs, vers := rows(i, 1)
		if _, err := s.CreateRecords(context.Background(), subs, recs, vers); err != nil {
			b.Fatal(err)
		}
	}
}
