// Package sqlite implements the platform's stores on SQLite (the embedded
// default): WAL journal, foreign keys on, a busy timeout, one writer
// connection and a pool of readers. Its schema migrations are embedded and
// applied in transactions.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/record"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Pragmas are set on every connection: WAL so readers never block the
// writer, foreign keys enforced, a busy timeout instead of instant
// SQLITE_BUSY, NORMAL sync (durable against a process crash; WAL makes a
// committed transaction survive kill -9), and a 32 MiB page cache because
// subject keys are hashes and their index pages are touched at random.
var Pragmas = []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)", "cache_size(-32768)"}

// walLimit is the WAL size, in pages, past which the writer checkpoints
// after its commit (64 MiB).
const walLimit = 16384

// Store is the SQLite backend.
type Store struct {
	w    *preparedDB // one connection: SQLite has one writer
	r    *preparedDB // readers
	c    *sql.DB     // one connection that checkpoints the WAL in the background
	path string

	stop, stopped chan struct{} // the checkpoint loop

	startGroup sync.Once       // starts the group-commit loop on first use
	writes     chan groupWrite // small writes waiting to be committed together

	// VerifyUnlocked makes VerifySnapshot read as it does a database it
	// cannot lock for writing: one read transaction, the scans taking
	// turns. Tests only.
	VerifyUnlocked bool

	readOnly  bool // opened by OpenReadOnly
	immutable bool // read without locks: no process has it open

	hot *rawPool // read connections of the direct API, for Standing
}

// Open opens (creating when absent) the database at path. It does not
// migrate: call Migrate, or check SchemaVersion.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	q := url.Values{}
	for _, p := range Pragmas {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	// A background connection checkpoints the WAL (checkpointLoop), so
	// that no request pays for copying thousands of pages. It keeps up with
	// requests; but under a long batch the writer never pauses long enough
	// for it to catch up, the WAL would grow without end, and every page
	// read would search it. The writer therefore checkpoints itself once
	// the WAL holds walLimit pages, which only batches and sustained load reach.
	//
	// The writer's page cache is smaller than the readers' (8 MiB): every
	// commit walks the writer's whole page-cache hash table to drop pages
	// past the end of the file, and at 32 MiB that walk was a tenth of a
	// check's write (POST /api/v1/checks ran 10% faster at 8 MiB, batch
	// ingest alike; docs/benchmarks.md).
	w, err := sql.Open("sqlite", dsn+"&_pragma=cache_size(-8192)&_pragma=wal_autocheckpoint("+strconv.Itoa(walLimit)+")&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// Idle readers stay open: a new connection starts with a cold page
	// cache and no prepared statements.
	readers := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	c, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	c.SetMaxOpenConns(1)
	s := &Store{w: newPreparedDB(w), r: newPreparedDB(r), c: c, path: path, stop: make(chan struct{}), stopped: make(chan struct{}),
		hot: newRawPool(path, readers)}
	if err := w.Ping(); err != nil {
		close(s.stopped)
		s.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	go s.checkpointLoop()
	os.Chmod(path, 0o600)
	return s, nil
}

// OpenReadOnly opens the database at path to read it and nothing else, as
// verify does: no file is created, no mode or journal mode changed, no WAL
// checkpointed. A database in WAL mode that no process has open and whose
// directory cannot be written (an evidence copy on read-only media) is read
// as immutable, when it has no write-ahead log left to apply. So is one
// that its permissions make read-only (the file or its directory writable
// by no one), even to root, whom SQLite would let create or rewrite the
// -shm file beside it; with a write-ahead log left to apply, which needs
// that file, it is not opened.
func OpenReadOnly(path string) (*Store, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if dir, err := os.Stat(filepath.Dir(path)); err == nil && (noWrite(fi) || noWrite(dir)) {
		if walLeft(path) {
			return nil, fmt.Errorf("sqlite: %s is read-only, and its write-ahead log %s-wal cannot be applied without writing beside it: copy both files to a writable directory", path, path)
		}
		return openReadOnly(path, true)
	}
	s, err := openReadOnly(path, false)
	if err == nil {
		return s, nil
	}
	if walLeft(path) {
		return nil, fmt.Errorf("sqlite: opening %s read-only: %w (its write-ahead log %s-wal cannot be applied where the database lies: copy both files to a writable directory)", path, err, path)
	}
	if _, serr := os.Stat(path + "-shm"); serr == nil {
		return nil, fmt.Errorf("sqlite: opening %s read-only: %w", path, err)
	}
	return openReadOnly(path, true)
}

// walLeft reports whether the database at path has a write-ahead log with
// something in it to apply.
func walLeft(path string) bool {
	wal, err := os.Stat(path + "-wal")
	return err == nil && wal.Size() > 0
}

// noWrite reports whether fi's permissions let no one write it.
func noWrite(fi os.FileInfo) bool { return fi.Mode().Perm()&0o222 == 0 }

func openReadOnly(path string, immutable bool) (*Store, error) {
	dsn := "file:" + path + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)"
	if immutable {
		dsn += "&immutable=1"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(2)
	s := &Store{w: newPreparedDB(db), r: newPreparedDB(db), path: path, readOnly: true, immutable: immutable, hot: newRawPool(path, 2)}
	if _, err := db.Exec(`SELECT COUNT(*) FROM sqlite_master`); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database. Writes in flight MUST have returned.
func (s *Store) Close() error {
	s.hot.close()
	if s.readOnly {
		return s.r.Close()
	}
	if s.writes != nil {
		close(s.writes)
	}
	select {
	case <-s.stopped:
	default:
		close(s.stop)
		<-s.stopped
	}
	_, err := s.c.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return errors.Join(err, s.c.Close(), s.r.Close(), s.w.Close())
}

// checkpointLoop copies the WAL back into the database every half second,
// beside the writer (a PASSIVE checkpoint never blocks it), so that no
// request pays for a checkpoint.
func (s *Store) checkpointLoop() {
	defer close(s.stopped)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.c.Exec(`PRAGMA wal_checkpoint(PASSIVE)`) // best effort; retried on the next tick
		}
	}
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database unreachable")
	}
	return nil
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
			panic("sqlite: bad migration name " + e.Name())
		}
		out = append(out, migration{v, e.Name()})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out
}

// SchemaVersion returns the applied schema version and the version this
// build expects.
func (s *Store) SchemaVersion(ctx context.Context) (have, want int, err error) {
	ms := migrationList()
	want = ms[len(ms)-1].version
	err = s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, want, nil
	}
	if err != nil {
		return 0, want, errs.Wrap(errs.Unavailable, err, "reading the schema version")
	}
	return have, want, nil
}

// Migrate applies every migration not yet applied, each in a transaction.
func (s *Store) Migrate(ctx context.Context) error { return s.migrate(ctx, math.MaxInt) }

// migrate applies the migrations up to version upto.
func (s *Store) migrate(ctx context.Context, upto int) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	have, _, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	for _, m := range migrationList() {
		if m.version <= have || m.version > upto {
			continue
		}
		body, _ := migrations.ReadFile("migrations/" + m.name)
		step := migrationSteps[m.version]
		if step.rebuild {
			// SQLite's procedure to rebuild a table: foreign keys off on the
			// writer's one connection, outside the transaction, and checked
			// before it commits.
			if _, err := s.w.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
				return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
			}
		}
		err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
			if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil { // a script: never prepared
				return err
			}
			if step.after != nil {
				if err := step.after(ctx, tx); err != nil {
					return err
				}
			}
			if step.rebuild {
				if err := foreignKeysHold(ctx, tx); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, ts(time.Now()))
			return err
		})
		if step.rebuild {
			if _, err2 := s.w.ExecContext(ctx, `PRAGMA foreign_keys = ON`); err == nil {
				err = err2
			}
		}
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// migrationSteps are what a migration needs beside its script, by version:
// rebuild, that it rebuilds a table, SQLite's way (foreign keys off while
// it runs, and checked before it commits); after, Go that runs in its
// transaction after the script.
var migrationSteps = map[int]struct {
	rebuild bool
	after   func(context.Context, *txn) error
}{
	subjectLedgerMigration: {after: sealOldSubjects},
	subjectsRowidMigration: {rebuild: true},
}

// subjectsRowidMigration is the migration that rebuilds subjects as a rowid
// table.
const subjectsRowidMigration = 10

// foreignKeysHold fails when a row refers to a row that is not there.
func foreignKeysHold(ctx context.Context, tx *txn) error {
	var table string
	var rowid sql.NullInt64
	var parent string
	var fkid int
	err := tx.QueryRowContext(ctx, `PRAGMA foreign_key_check`).Scan(&table, &rowid, &parent, &fkid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("a row of %s refers to a row of %s that is not there", table, parent)
}

// subjectLedgerMigration is the migration that ledgers subjects rows.
const subjectLedgerMigration = 9

// sealOldSubjects gives every subjects row stored before subjects were
// ledgered its id, salt and leaf, committed at its own created_at (kept to
// the microsecond, as leaves are).
func sealOldSubjects(ctx context.Context, tx *txn) error {
	leaves, err := tx.leaves(ctx)
	if err != nil {
		return err
	}
	for {
		rows, err := tx.QueryContext(ctx, `SELECT subject_key, id_type, number_enc, name_enc, created_at FROM subjects WHERE id IS NULL ORDER BY subject_key LIMIT 1000`)
		old, err := collect(rows, err, func(row interface{ Scan(...any) error }) (record.SealedSubject, error) {
			var sj record.SealedSubject
			var at string
			err := row.Scan(&sj.Key, &sj.IDType, &sj.Number, &sj.Name, &at)
			sj.At = parseTS(at)
			return sj, err
		})
		if err != nil || len(old) == 0 {
			return err
		}
		for _, sj := range old {
			sj = sj.Seal(sj.At, true)
			idx, err := leaves.append(ctx, record.SubjectLeafKind, sj.ID, -1, sj.Leaf)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE subjects SET id = ?, salt = ?, leaf_index = ?, created_at = ? WHERE subject_key = ?`,
				sj.ID, sj.Salt, idx, ts(sj.At), sj.Key); err != nil {
				return err
			}
		}
	}
}

// tx runs fn in a write transaction. The statements run without the
// caller's cancellation (the driver would watch every statement with a
// goroutine of its own: a third of a batch's time); cancellation is honoured
// before the transaction starts and before it commits.
func (s *Store) tx(ctx context.Context, fn func(context.Context, *txn) error) error {
	if err := ctx.Err(); err != nil {
		return translate(err)
	}
	outer := ctx
	ctx = context.WithoutCancel(ctx)
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer s.w.cache.preparePending()
	tx := &txn{Tx: sqlTx, cache: &s.w.cache}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback()
		return translate(err)
	}
	if err := outer.Err(); err != nil {
		tx.Rollback()
		return translate(err)
	}
	return translate(tx.Commit())
}

// translate turns driver errors into error kinds, by the driver's error
// code, never by message text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var k errs.Kind
	var e *errs.Error
	if errors.As(err, &e) || errors.As(err, &k) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return errs.Wrap(errs.Conflict, err, "already exists")
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_BUSY_SNAPSHOT:
			return errs.Wrap(errs.Unavailable, err, "the database is busy; retry")
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(errs.Unavailable, err, "the request was cancelled")
	}
	return errs.Wrap(errs.Internal, err, "database error")
}

const timeLayout = "2006-01-02T15:04:05.000000000Z"

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTS(s string) time.Time {
	if t, ok := readStamp(s); ok {
		return t
	}
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(timeLayout, s)
	return t
}

// readStamp reads s when it is in timeLayout, as time.Parse does but for a
// fraction of its cost (verify reads every stored time); false for anything
// else, which time.Parse reads.
func readStamp(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	d, err := clock.ParseDate(s[:10])
	hh, ok1 := clock.Digits(s[11:13])
	mm, ok2 := clock.Digits(s[14:16])
	ss, ok3 := clock.Digits(s[17:19])
	ns, ok4 := clock.Digits(s[20:29])
	if err != nil || !ok1 || !ok2 || !ok3 || !ok4 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	return time.Date(d.Year, d.Month, d.Day, hh, mm, ss, ns, time.UTC), true
}

func nullTS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}
