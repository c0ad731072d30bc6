package bench

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/store/sqlite"
)

const rawStamp = "2026-11-30T02:00:00.000000000Z"

// rawSQLite is the SQLite baseline: the same rows straight into the same
// tables with prepared inserts in large transactions.
func rawSQLite(b *testing.B, st *sqlite.Store, n int) time.Duration {
	b.Helper()
	q := url.Values{}
	for _, p := range sqlite.Pragmas {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+st.Path()+"?"+q.Encode()+"&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	start := time.Now()
	var tx *sql.Tx
	var sub, rec, ver *sql.Stmt
	begin := func() {
		var err error
		if tx, err = db.BeginTx(ctx, nil); err != nil {
			b.Fatal(err)
		}
		sub, _ = tx.Prepare(`INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		rec, _ = tx.Prepare(`INSERT INTO records (id, dept, ref, item, subject_key, version, status, severity, display_from, earliest_end, display_end, public,
			payload, content_hash, created_at, updated_at) VALUES (?, 'BENCH', ?, 'XZCF', ?, 1, 'active', 'general', '2026-05-01', '2026-08-01', '2027-05-01', 0, ?, ?, ?, ?)`)
		ver, _ = tx.Prepare(`INSERT INTO record_versions (record_id, version, change, at, payload) VALUES (?, 1, 'created', ?, ?)`)
	}
	begin()
	err = rawRows(n, func(i int, r rawRow) error {
		if _, err := sub.Exec(r.subjectKey, "resident_id", r.numberEnc, r.nameEnc, rawStamp); err != nil {
			return err
		}
		if _, err := rec.Exec(r.id, r.ref, r.subjectKey, r.payload, r.hash, rawStamp, rawStamp); err != nil {
			return err
		}
		if _, err := ver.Exec(r.id, rawStamp, r.payload); err != nil {
			return err
		}
		if (i+1)%10000 == 0 {
			if err := tx.Commit(); err != nil {
				return err
			}
			begin()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// rawPostgres is the PostgreSQL baseline: the same rows into the same tables
// with COPY, in one transaction.
func rawPostgres(b *testing.B, url string, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	stamp, _ := time.Parse(time.RFC3339, "2026-11-30T02:00:00Z")
	day := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	copyRows := func(table string, cols []string, row func(r rawRow) []any, every int) {
		var rowsBuf [][]any
		rawRows(n, func(i int, r rawRow) error {
			if i%every == 0 {
				rowsBuf = append(rowsBuf, row(r))
			}
			return nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rowsBuf)); err != nil {
			b.Fatalf("copy %s: %v", table, err)
		}
	}
	copyRows("subjects", []string{"subject_key", "id_type", "number_enc", "name_enc", "created_at"},
		func(r rawRow) []any { return []any{r.subjectKey, "resident_id", r.numberEnc, r.nameEnc, stamp} }, 2)
	copyRows("records", []string{"id", "dept", "ref", "item", "subject_key", "version", "status", "severity", "display_from", "earliest_end", "display_end", "public", "payload", "content_hash", "created_at", "updated_at"},
		func(r rawRow) []any {
			return []any{r.id, "BENCH", r.ref, "XZCF", r.subjectKey, 1, "active", "general", day("2026-05-01"), day("2026-08-01"), day("2027-05-01"), false, r.payload, r.hash, stamp, stamp}
		}, 1)
	copyRows("record_versions", []string{"record_id", "version", "change", "at", "payload"},
		func(r rawRow) []any { return []any{r.id, 1, "created", stamp, r.payload} }, 1)
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
