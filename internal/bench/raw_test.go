package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/store/sqlite"
)

// The raw baselines insert the very rows the platform stored (read back from
// the platform's database, untimed) into a fresh database with the same
// schema and indexes, by the fastest plain method of each engine: prepared
// inserts in large transactions for SQLite, COPY for PostgreSQL. Only the
// inserts are timed.

// rawTables are the tables a batch fills, in foreign-key order, with the
// queries that read their rows in the order the platform wrote them (the
// order of the file: a batch cannot be sorted before it is stored, and
// sorted keys would make the baseline's index inserts sequential).
var rawTables = []struct{ name, query string }{
	{"subjects", `SELECT s.* FROM subjects s JOIN (SELECT subject_key, MIN(v.leaf_index) AS first FROM records r
		JOIN record_versions v ON v.record_id = r.id GROUP BY subject_key) f ON f.subject_key = s.subject_key ORDER BY f.first`},
	{"records", `SELECT r.* FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = 1 ORDER BY v.leaf_index`},
	{"record_versions", `SELECT * FROM record_versions ORDER BY leaf_index`},
	{"ledger_leaves", `SELECT * FROM ledger_leaves ORDER BY idx`},
}

const rawChunk = 10000

func sqliteDSN(path string) string {
	q := url.Values{}
	for _, p := range sqlite.Pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + path + "?" + q.Encode() + "&_txlock=immediate"
}

// rawSQLite copies the batch's rows from src into dst (migrated, with the
// department) and returns the time spent inserting.
func rawSQLite(b *testing.B, src, dst string) (time.Duration, int) {
	b.Helper()
	from, err := sql.Open("sqlite", sqliteDSN(src))
	if err != nil {
		b.Fatal(err)
	}
	defer from.Close()
	to, err := sql.Open("sqlite", sqliteDSN(dst))
	if err != nil {
		b.Fatal(err)
	}
	defer to.Close()
	to.SetMaxOpenConns(1)
	ctx := context.Background()
	var spent time.Duration
	records := 0
	for _, t := range rawTables {
		rows, err := from.QueryContext(ctx, t.query)
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := rows.Columns()
		insert := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", t.name, strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
		var chunk [][]any
		flush := func() {
			start := time.Now()
			tx, err := to.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			stmt, err := tx.PrepareContext(ctx, insert)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range chunk {
				if _, err := stmt.ExecContext(ctx, r...); err != nil {
					b.Fatalf("%s: %v", t.name, err)
				}
			}
			stmt.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			spent += time.Since(start)
			chunk = chunk[:0]
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			if chunk = append(chunk, vals); len(chunk) == rawChunk {
				flush()
			}
			if t.name == "records" {
				records++
			}
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		if len(chunk) > 0 {
			flush()
		}
	}
	return spent, records
}

// rawPostgres copies the batch's rows from the database at src into the one
// at dst with COPY, in one transaction, and returns the time spent copying.
func rawPostgres(b *testing.B, src, dst string) (time.Duration, int) {
	b.Helper()
	ctx := context.Background()
	from, err := pgx.Connect(ctx, src)
	if err != nil {
		b.Fatal(err)
	}
	defer from.Close(ctx)
	to, err := pgx.Connect(ctx, dst)
	if err != nil {
		b.Fatal(err)
	}
	defer to.Close(ctx)
	var spent time.Duration
	records := 0
	tx, err := to.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range rawTables {
		rows, err := from.Query(ctx, t.query)
		if err != nil {
			b.Fatal(err)
		}
		var cols []string
		for _, f := range rows.FieldDescriptions() {
			cols = append(cols, f.Name)
		}
		var all [][]any
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				b.Fatal(err)
			}
			all = append(all, vals)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		if t.name == "records" {
			records = len(all)
		}
		start := time.Now()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, cols, pgx.CopyFromRows(all)); err != nil {
			b.Fatalf("copy %s: %v", t.name, err)
		}
		spent += time.Since(start)
	}
	start := time.Now()
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return spent + time.Since(start), records
}
