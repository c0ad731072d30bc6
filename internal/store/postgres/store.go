// Package postgres implements the platform's stores on PostgreSQL 15+ with
// pgx: a connection pool, native column types (bytea, timestamptz, date,
// boolean, text[], jsonb) and embedded schema migrations, each applied in a
// transaction and serialized across processes with an advisory lock, so that
// several servers can start against one database.
//
// It keeps the contracts of the domain stores exactly as the SQLite backend
// does; both are checked by the storetest conformance suite. Times are stored
// and returned in UTC with PostgreSQL's microsecond precision.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL backend. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool

	// rowByRowBelow is the size under which CreateRecords inserts row by
	// row rather than by COPY; tests set it to 0 to try the fast path on
	// every batch.
	rowByRowBelow int
}

// Open connects to the database at url (postgres://...) and checks that it
// answers. It does not migrate: call Migrate, or check SchemaVersion.
// Returns Invalid for a malformed URL and Unavailable when the server cannot
// be reached.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return nil, errs.Wrap(errs.Invalid, err, "postgres: the database URL is not valid")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "postgres: the database URL is not valid")
	}
	s := &Store{pool: pool, rowByRowBelow: smallBatch}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// smallBatch is the default of Store.rowByRowBelow: measured on two cores,
// COPY through a temporary table overtakes row-by-row inserts at about
// eight to sixteen rows.
const smallBatch = 8

// Close closes every connection of the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks the database answers. Returns Unavailable when it does not,
// and Invalid when the server answers that the database does not exist.
func (s *Store) Ping(ctx context.Context) error {
	err := s.pool.Ping(ctx)
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.Code == codeInvalidCatalogName:
		return errs.Wrap(errs.Invalid, err, "the server has no database %s", s.pool.Config().ConnConfig.Database)
	}
	return errs.Wrap(errs.Unavailable, err, "database unreachable")
}

type migration struct {
	version int
	name    string
}

func migrationList() []migration {
	entries, _ := fs.ReadDir(migrations, "migrations")
	var out []migration
	for _, e := range entries {
		n, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(n)
		if err != nil {
			panic("postgres: bad migration name " + e.Name())
		}
		out = append(out, migration{v, e.Name()})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out
}

// SchemaVersion returns the applied schema version (0 for an empty
// database) and the version this build expects.
func (s *Store) SchemaVersion(ctx context.Context) (have, want int, err error) {
	ms := migrationList()
	want = ms[len(ms)-1].version
	err = s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == codeUndefinedTable {
		return 0, want, nil
	}
	if err != nil {
		return 0, want, errs.Wrap(errs.Unavailable, err, "reading the schema version")
	}
	return have, want, nil
}

// migrateLock is the key of the transaction-scoped advisory lock that
// serializes migrations across processes ("pubcredit" in ASCII).
const migrateLock int64 = 0x7075626372656469

// Migrate applies every migration not yet applied, each in its own
// transaction that first takes the migration advisory lock, so that servers
// starting together apply each migration exactly once.
func (s *Store) Migrate(ctx context.Context) error {
	for {
		done, err := s.migrateOne(ctx)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateOne applies the first pending migration; done reports that there
// was none.
func (s *Store) migrateOne(ctx context.Context) (done bool, err error) {
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		i := slices.IndexFunc(migrationList(), func(m migration) bool { return m.version > have })
		if i < 0 {
			done = true
			return nil
		}
		m := migrationList()[i]
		body, err := migrations.ReadFile("migrations/" + m.name)
		if err != nil {
			return err
		}
		// Without arguments pgx uses the simple protocol, which runs every
		// statement of the file.
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if m.version == subjectLedgerMigration {
			if err := sealOldSubjects(ctx, tx); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, m.version)
		return err
	})
	if err != nil {
		return false, errs.Wrap(errs.KindOf(err), err, "postgres: migrate")
	}
	return done, nil
}

// subjectLedgerMigration is the migration that ledgers subjects rows.
const subjectLedgerMigration = 9

// sealOldSubjects gives every subjects row stored before subjects were
// ledgered its id, salt and leaf, committed at its own created_at (kept to
// the microsecond, as leaves are). It takes the ledger lock.
func sealOldSubjects(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(ledgerLock)); err != nil {
		return err
	}
	for {
		leaves, err := newLeafAppender(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT subject_key, id_type, number_enc, name_enc, created_at FROM subjects WHERE id IS NULL ORDER BY subject_key LIMIT 1000`)
		if err != nil {
			return err
		}
		old, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (record.SealedSubject, error) {
			var sj record.SealedSubject
			err := row.Scan(&sj.Key, &sj.IDType, &sj.Number, &sj.Name, &sj.At)
			return sj, err
		})
		if err != nil || len(old) == 0 {
			return err
		}
		for _, sj := range old {
			sj = sj.Seal(sj.At, true)
			idx := leaves.add(record.SubjectLeafKind, sj.ID, sj.Leaf)
			if _, err := tx.Exec(ctx, `UPDATE subjects SET id = $1, salt = $2, leaf_index = $3, created_at = $4 WHERE subject_key = $5`,
				sj.ID, sj.Salt, idx, sj.At, sj.Key); err != nil {
				return err
			}
		}
		if err := leaves.copy(ctx, tx); err != nil {
			return err
		}
	}
}

// tx runs fn in a read-committed transaction, committing when it returns
// nil. Errors come back translated.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return translate(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, fn))
}

// SQLSTATE codes this backend distinguishes.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUndefinedTable       = "42P01"
	codeInvalidCatalogName   = "3D000" // no such database
	codeTooManyConnections   = "53300"
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
)

// translate turns driver errors into error kinds, by the server's SQLSTATE
// or the driver's error types, never by message text. Errors that already
// carry a kind pass through.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var k errs.Kind
	var e *errs.Error
	if errors.As(err, &e) || errors.As(err, &k) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == codeUniqueViolation:
			return errs.Wrap(errs.Conflict, err, "already exists")
		case pe.Code == codeSerializationFailure, pe.Code == codeDeadlockDetected:
			return errs.Wrap(errs.Unavailable, err, "the database is busy; retry")
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == codeTooManyConnections, pe.Code == codeAdminShutdown,
			pe.Code == codeCrashShutdown, pe.Code == codeCannotConnectNow:
			return errs.Wrap(errs.Unavailable, err, "the database is unavailable; retry")
		}
		return errs.Wrap(errs.Internal, err, "database error")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return errs.Wrap(errs.Unavailable, err, "the request was cancelled")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.Wrap(errs.Unavailable, err, "the database is unavailable; retry")
	}
	return errs.Wrap(errs.Internal, err, "database error")
}

// Values in and out of the database. PostgreSQL keeps microseconds; times go
// in as instants and come back in UTC. A zero time or date is NULL where the
// column allows it.

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

func fromNullTime(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return utc(t.Time)
}
