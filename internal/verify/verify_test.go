package verify_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/demo"
	"pubcredit/internal/ids"
	"pubcredit/internal/ledger"
	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
	"pubcredit/internal/store/postgres"
	"pubcredit/internal/store/postgres/pgtest"
	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/vault"
	"pubcredit/internal/verify"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var cst = time.FixedZone("CST", 8*3600)

// store is what a test platform needs of a backend.
type store interface {
	auth.Store
	record.Store
	access.Store
	listing.Store
	measure.CheckStore
	ledger.Store
	verify.Database
	Migrate(ctx context.Context) error
}

// An engine opens a fresh, empty database and a raw connection to it for
// tampering behind the platform's back.
type engine struct {
	name string
	open func(t *testing.T) (store, rawDB)
}

// rawDB runs SQL directly on the database; ? placeholders on both engines.
type rawDB interface {
	exec(t *testing.T, query string, args ...any)
	queryRow(t *testing.T, query string, args []any, dest ...any)
	// execUnchecked is exec with foreign keys unchecked.
	execUnchecked(t *testing.T, query string, args ...any)
	// emptyList is the SQL literal of an empty list of ids (records, items).
	emptyList() string
	// ddl runs a statement that changes the schema (an attacker dropping
	// a unique index to copy rows).
	ddl(t *testing.T, query string)
}

var engines = []engine{
	{"sqlite", func(t *testing.T) (store, rawDB) { return openSQLite(t, false) }},
	// A database verify cannot lock for writing is read in one
	// transaction, the scans taking turns on one connection.
	{"sqlite unlocked", func(t *testing.T) (store, rawDB) { return openSQLite(t, true) }},
	{"postgres", func(t *testing.T) (store, rawDB) {
		url := pgtest.URL(t)
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(st.Close)
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return st, pgDB{conn}
	}},
}

func openSQLite(t *testing.T, unlocked bool) (store, rawDB) {
	path := filepath.Join(t.TempDir(), "pubcredit.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st.VerifyUnlocked = unlocked
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return st, sqliteDB{db}
}

type sqliteDB struct{ db *sql.DB }

func (d sqliteDB) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	res, err := d.db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s: %d rows affected, want 1", query, n)
	}
}

// execUnchecked: the raw connection does not turn foreign keys on.
func (d sqliteDB) execUnchecked(t *testing.T, query string, args ...any) { d.exec(t, query, args...) }

func (sqliteDB) emptyList() string { return "'[]'" }

func (d sqliteDB) ddl(t *testing.T, query string) {
	t.Helper()
	if _, err := d.db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (d sqliteDB) queryRow(t *testing.T, query string, args []any, dest ...any) {
	t.Helper()
	if err := d.db.QueryRow(query, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

type pgDB struct{ conn *pgx.Conn }

// rebind turns ? placeholders into $1, $2, ...
func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d pgDB) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	tag, err := d.conn.Exec(context.Background(), rebind(query), args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("%s: %d rows affected, want 1", query, tag.RowsAffected())
	}
}

func (d pgDB) execUnchecked(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := d.conn.Exec(context.Background(), `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	defer d.conn.Exec(context.Background(), `SET session_replication_role = DEFAULT`)
	d.exec(t, query, args...)
}

func (pgDB) emptyList() string { return "'{}'" }

func (d pgDB) ddl(t *testing.T, query string) {
	t.Helper()
	if _, err := d.conn.Exec(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (d pgDB) queryRow(t *testing.T, query string, args []any, dest ...any) {
	t.Helper()
	if err := d.conn.QueryRow(context.Background(), rebind(query), args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// platform is a store with records, corrections, a revocation and access
// events, integrated into signed checkpoints, and what the tests need to
// find its rows.
type platform struct {
	st   store
	raw  rawDB
	vkey string
	log  *ledger.Log
	acc  *access.Log
	recs *record.Service
	dept *auth.Principal

	plain     string // a record with one version
	corrected string // a record with versions 1 and 2
	revoked   string // a record with versions 1 and 2 (revoked)
	event     string // an integrated access event
	eventLeaf int64
	entry     string // a list entry with versions 1 and 2 (removed)
	feedback  string // the event id of feedback on a check
	pending   string // an access event after the newest checkpoint
	newest    int64  // the newest checkpoint's size

	at time.Time // when verify runs: the platform's time, unless a test moves it
}

// newPlatform builds a platform on a fresh database of engine e: five
// records, one corrected and one revoked, access events for reads, a list
// entry entered and removed, two checkpoints, and one access event after
// them.
func newPlatform(t *testing.T, e engine) *platform {
	t.Helper()
	ctx := context.Background()
	st, raw := e.open(t)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(catalogfs.Items())
	if err != nil {
		t.Fatal(err)
	}
	keys, signer := newKeys(t, "test.example/ledger")
	clk := clock.NewFixed(time.Date(2026, 11, 30, 10, 0, 0, 123456789, cst))
	items := []string{"XZCF"}
	if err := st.CreateDept(ctx, auth.Dept{Code: "TEST", Name: "test", Submit: items, Read: items}); err != nil {
		t.Fatal(err)
	}
	acc := &access.Log{Store: st, Clock: clk}
	lg := &ledger.Log{Store: st, Signer: signer, Clock: clk, Batch: 1000}
	recs := &record.Service{Store: st, Catalog: cat, Keys: keys, Clock: clk, Location: cst, Thresholds: record.DefaultThresholds, Access: acc, Ledger: lg}
	dept := &auth.Principal{Kind: auth.Department, ID: "TEST", Submit: items, Read: items}

	g := demo.New(7, clock.Date{Year: 2026, Month: 11, Day: 30})
	var subs []record.Submission
	for range 5 {
		subs = append(subs, g.Penalty(g.Person()))
	}
	res, err := recs.SubmitMany(ctx, dept, subs)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range res {
		if r.Err != nil || !r.Created {
			t.Fatalf("submission not created: %+v", r)
		}
		ids = append(ids, r.Record.ID)
	}
	p := &platform{st: st, raw: raw, vkey: signer.VerifierKey(), log: lg, acc: acc, recs: recs, dept: dept, plain: ids[0], corrected: ids[1], revoked: ids[2],
		at: clk.Now()}
	if _, err := lg.Integrate(ctx); err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute)
	fix := subs[1]
	fix.Fields = map[string]any{}
	for k, v := range subs[1].Fields {
		fix.Fields[k] = v
	}
	fix.Fields["CF_SY"] = "当事人存在违法行为，经复核属实。"
	if _, changed, err := recs.Correct(ctx, dept, p.corrected, fix, "复核更正"); err != nil || !changed {
		t.Fatalf("correct: changed %v, %v", changed, err)
	}
	if _, err := recs.Revoke(ctx, dept, p.revoked, "复议撤销", "行政复议决定书"); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[:4] {
		if _, err := recs.Get(ctx, dept, id); err != nil { // each read is an access event
			t.Fatal(err)
		}
	}
	p.entry = enterAndRemove(t, st, dept.ID, p.plain, clk)
	p.feedback = checkWithFeedback(t, st, acc, dept.ID, p.plain, clk)
	if p.newest, err = lg.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw.queryRow(t, `SELECT id, leaf_index FROM access_events ORDER BY leaf_index LIMIT 1`, nil, &p.event, &p.eventLeaf)

	clk.Advance(time.Minute)
	if _, err := recs.Get(ctx, dept, ids[4]); err != nil {
		t.Fatal(err)
	}
	raw.queryRow(t, `SELECT id FROM access_events WHERE leaf_index = ?`, []any{p.newest}, &p.pending)
	return p
}

// enterAndRemove puts the person of record recordID on a list and takes
// them off, through the store as the listing service does, and returns the
// entry's id.
func enterAndRemove(t *testing.T, st store, dept, recordID string, clk *clock.Fixed) string {
	t.Helper()
	ctx := context.Background()
	rec, err := st.Record(ctx, recordID)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now().UTC()
	today := clock.DateOf(now.In(cst))
	e := listing.Entry{ID: ids.New(now), List: "SXBZXR", Dept: dept, Ref: rec.Ref, RecordID: rec.ID, SubjectKey: rec.SubjectKey,
		Status: listing.Active, Version: 1, DecidedOn: rec.Window.From, ActiveFrom: today, Until: today.AddMonths(24),
		Grounds: []string{"拒不履行"}, DocumentNo: "（2026）津0101执123号", Basis: "法释〔2017〕7号", CreatedAt: now, UpdatedAt: now}
	seal := func(e *listing.Entry) { // as listing's seal does
		e.Salt, e.Leaf = ledger.Seal(listing.LeafKind, listing.EventID(e.ID, e.Version), e.UpdatedAt, e.State())
	}
	seal(&e)
	if _, created, err := st.CreateEntry(ctx, e); err != nil || !created {
		t.Fatalf("create entry: created %v, %v", created, err)
	}
	clk.Advance(time.Second)
	now = clk.Now().UTC()
	e.Status, e.Version, e.UpdatedAt = listing.Removed, 2, now
	e.Removal = &listing.Removal{Reason: listing.Performed, At: now}
	seal(&e)
	if err := st.UpdateEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// checkWithFeedback stores a check of the person of record recordID, with
// its access event, and feedback on its one measure, through the store as
// the checker does, and returns the feedback's event id.
func checkWithFeedback(t *testing.T, st store, acc *access.Log, dept, recordID string, clk *clock.Fixed) string {
	t.Helper()
	ctx := context.Background()
	rec, err := st.Record(ctx, recordID)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now().UTC().Truncate(time.Microsecond)
	ch := measure.Check{ID: ids.New(now), Dept: dept, SubjectKey: rec.SubjectKey, Matter: "high_consumption", Purpose: "购票核查", At: now,
		Measures: []measure.CheckedMeasure{{Code: "RESTRICT_HIGH_CONSUMPTION", Kind: measure.Punishment, Because: []measure.Ground{}}}}
	ev := acc.Prepare(access.Event{Principal: auth.Department, Actor: dept, SubjectKey: rec.SubjectKey, Action: access.Check, Purpose: "购票核查"})
	if err := st.CreateCheck(ctx, ch.Seal(), ev); err != nil {
		t.Fatal(err)
	}
	f := measure.Feedback{CheckID: ch.ID, Measure: "RESTRICT_HIGH_CONSUMPTION", Dept: dept, Applied: true, Note: "已拒绝售票", At: now}.Seal()
	if err := st.AddFeedback(ctx, []measure.Feedback{f}); err != nil {
		t.Fatal(err)
	}
	return f.EventID()
}

// subjectOf returns the subjects id of the person of record recordID.
func (p *platform) subjectOf(t *testing.T, recordID string) string {
	t.Helper()
	var id string
	p.raw.queryRow(t, `SELECT s.id FROM subjects s JOIN records r ON r.subject_key = s.subject_key WHERE r.id = ?`, []any{recordID}, &id)
	return id
}

// run verifies the platform and returns the summary and every problem.
func (p *platform) run(t *testing.T) (verify.Summary, []verify.Problem) {
	t.Helper()
	ctx := context.Background()
	snap, done, err := p.st.VerifySnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	var got []verify.Problem
	sum, err := verify.Run(ctx, snap, p.vkey, p.at, func(pr verify.Problem) { got = append(got, pr) })
	if err != nil {
		t.Fatal(err)
	}
	return sum, got
}

// leafOf returns the leaf index of a record version.
func (p *platform) leafOf(t *testing.T, id string, version int) int64 {
	t.Helper()
	var idx int64
	p.raw.queryRow(t, `SELECT leaf_index FROM record_versions WHERE record_id = ? AND version = ?`, []any{id, version}, &idx)
	return idx
}

// laterEvent returns an integrated access event after p.event, and its
// leaf index.
func (p *platform) laterEvent(t *testing.T) (string, int64) {
	t.Helper()
	var id string
	var idx int64
	p.raw.queryRow(t, `SELECT id, leaf_index FROM access_events WHERE leaf_index > ? AND leaf_index < ? ORDER BY leaf_index LIMIT 1`,
		[]any{p.eventLeaf, p.newest}, &id, &idx)
	return id, idx
}

func TestACleanPlatformVerifies(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			p := newPlatform(t, e)
			sum, got := p.run(t)
			for _, pr := range got {
				t.Errorf("problem on a clean platform: %s", pr)
			}
			// 5 created + 1 corrected + 1 revoked versions; 4 + 1 reads;
			// an entry of two versions; the 5 people of the records.
			want := verify.Summary{Leaves: 22, Versions: 7, AccessEvents: 6, ListVersions: 2, Feedback: 1, Checks: 1, Subjects: 5, Records: 5, ListEntries: 1,
				Checkpoints: 2, NewestSize: 21, Unintegrated: 1}
			if sum != want {
				t.Errorf("summary %+v, want %+v", sum, want)
			}
			if !sum.OK() {
				t.Error("a clean platform is not OK")
			}
		})
	}
}

func TestVerifyWhileThePlatformWrites(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			p := newPlatform(t, e)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { // reads (access events with leaves) and integration, as serve does
				for n := 0; ctx.Err() == nil; n++ {
					if _, err := p.recs.Get(ctx, p.dept, p.plain); err != nil && ctx.Err() == nil {
						done <- err
						return
					}
					if n%5 == 0 {
						if _, err := p.log.Integrate(ctx); err != nil && ctx.Err() == nil {
							done <- err
							return
						}
					}
				}
				done <- nil
			}()
			for range 5 {
				sum, got := p.run(t)
				for _, pr := range got {
					t.Errorf("problem while the platform writes: %s", pr)
				}
				if sum.Leaves < 14 {
					t.Errorf("summary %+v", sum)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			sum, _ := p.run(t)
			if sum.Leaves <= 14 {
				t.Errorf("the writer added no leaves: %+v", sum)
			}
			t.Logf("%+v", sum)
		})
	}
}

// A tamper case changes the database behind the platform's back and names
// the problems verify must report: exactly these, no others.
type tamperCase = tampering[[]want]

// A tampering changes a platform's database behind its back and returns
// what verify should report (W says how).
type tampering[W any] struct {
	name   string
	tamper func(t *testing.T, p *platform) W
}

// runTamperings runs each case of each engine (cases gives them by engine)
// on a platform of its own, in parallel, and has check compare what verify
// reported with what the case said it would.
func runTamperings[W any](t *testing.T, cases func(engine string) []tampering[W], check func(t *testing.T, wants W, sum verify.Summary, got []verify.Problem)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases(e.name) {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					p := newPlatform(t, e)
					wants := c.tamper(t, p)
					sum, got := p.run(t)
					check(t, wants, sum, got)
				})
			}
		})
	}
}

// want is a problem by kind, table and row.
type want struct {
	kind  verify.Kind
	table string
	id    string
}

func (w want) String() string { return fmt.Sprintf("%s %s %s", w.kind, w.table, w.id) }

var tamperCases = []tamperCase{
	{"a changed records payload names the record", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE records SET payload = ? WHERE id = ?`, []byte("forged payload"), p.plain)
		return []want{{verify.Changed, "records", p.plain}}
	}},
	{"a revocation reason or basis on an active record names the record", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE records SET revoked_reason = 'x', revoked_basis = 'y' WHERE id = ?`, p.plain)
		return []want{{verify.Changed, "records", p.plain}}
	}},
	{"a changed records status names the record", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE records SET status = 'active', revoked_reason = '' WHERE id = ?`, p.revoked)
		return []want{{verify.Changed, "records", p.revoked}}
	}},
	{"a changed version state names the version", func(t *testing.T, p *platform) []want {
		var state []byte
		p.raw.queryRow(t, `SELECT state FROM record_versions WHERE record_id = ? AND version = 1`, []any{p.corrected}, &state)
		forged := strings.Replace(string(state), `"public":true`, `"public":false`, 1)
		if forged == string(state) {
			forged = strings.Replace(string(state), `"public":false`, `"public":true`, 1)
		}
		p.raw.exec(t, `UPDATE record_versions SET state = ? WHERE record_id = ? AND version = 1`, []byte(forged), p.corrected)
		return []want{{verify.Changed, "record_versions", p.corrected + ":1"}}
	}},
	{"a changed latest version state names the version and its record", func(t *testing.T, p *platform) []want {
		var state []byte
		p.raw.queryRow(t, `SELECT state FROM record_versions WHERE record_id = ? AND version = 1`, []any{p.plain}, &state)
		forged := strings.Replace(string(state), `"status":"active"`, `"status":"revoked"`, 1)
		p.raw.exec(t, `UPDATE record_versions SET state = ? WHERE record_id = ? AND version = 1`, []byte(forged), p.plain)
		return []want{{verify.Changed, "record_versions", p.plain + ":1"}, {verify.Changed, "records", p.plain}}
	}},
	{"a changed access purpose names the event", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE access_events SET purpose = 'curiosity' WHERE id = ?`, p.event)
		return []want{{verify.Changed, "access_events", p.event}}
	}},
	{"a changed access event after the newest checkpoint names the event", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE access_events SET principal = 'SOMEONE' WHERE id = ?`, p.pending)
		return []want{{verify.Changed, "access_events", p.pending}}
	}},
	{"a deleted version names the version", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `DELETE FROM record_versions WHERE record_id = ? AND version = 1`, p.corrected)
		return []want{{verify.Deleted, "record_versions", p.corrected + ":1"}}
	}},
	{"a deleted latest version names the version and its record", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `DELETE FROM record_versions WHERE record_id = ? AND version = 2`, p.revoked)
		return []want{{verify.Deleted, "record_versions", p.revoked + ":2"}, {verify.Changed, "records", p.revoked}}
	}},
	{"a deleted access event names the event", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `DELETE FROM access_events WHERE id = ?`, p.event)
		return []want{{verify.Deleted, "access_events", p.event}}
	}},
	{"a changed list entry status names the entry", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE list_entries SET status = 'active' WHERE id = ?`, p.entry)
		return []want{{verify.Changed, "list_entries", p.entry}}
	}},
	{"a changed list entry version names the version", func(t *testing.T, p *platform) []want {
		var state []byte
		p.raw.queryRow(t, `SELECT state FROM list_entry_versions WHERE entry_id = ? AND version = 1`, []any{p.entry}, &state)
		forged := strings.Replace(string(state), `"status":"active"`, `"status":"noticed"`, 1)
		p.raw.exec(t, `UPDATE list_entry_versions SET state = ? WHERE entry_id = ? AND version = 1`, []byte(forged), p.entry)
		return []want{{verify.Changed, "list_entry_versions", p.entry + ":1"}}
	}},
	{"a deleted latest list entry version names the version and its entry", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `DELETE FROM list_entry_versions WHERE entry_id = ? AND version = 2`, p.entry)
		return []want{{verify.Deleted, "list_entry_versions", p.entry + ":2"}, {verify.Changed, "list_entries", p.entry}}
	}},
	{"an inserted records row without versions names the row", func(t *testing.T, p *platform) []want {
		const id = "01KFORGED0000000000000000X"
		p.raw.exec(t, `INSERT INTO records (id, dept, ref, item, subject_key, version, status, severity, display_from, earliest_end,
			display_end, public, payload, content_hash, created_at, updated_at, revoked_reason, revoked_basis, revoked_at)
			SELECT ?, dept, ref || '-forged', item, subject_key, version, status, severity, display_from, earliest_end,
			display_end, public, payload, content_hash, created_at, updated_at, revoked_reason, revoked_basis, revoked_at
			FROM records WHERE id = ?`, id, p.plain)
		return []want{{verify.Inserted, "records", id}}
	}},
	{"an inserted access event without a leaf names the event", func(t *testing.T, p *platform) []want {
		const id = "01KFORGEDACCESS00000000000"
		p.raw.exec(t, `INSERT INTO access_events (id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index)
			SELECT ?, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, NULL
			FROM access_events WHERE id = ?`, id, p.event)
		return []want{{verify.Inserted, "access_events", id}}
	}},
	{"an inserted version claiming a leaf that does not exist names the version", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `INSERT INTO record_versions (record_id, version, change, at, payload, note, state, salt, leaf_index)
			SELECT record_id, 9, change, at, payload, note, state, salt, 1000 FROM record_versions WHERE record_id = ? AND version = 1`, p.plain)
		return []want{{verify.Inserted, "record_versions", p.plain + ":9"}}
	}},
	{"a version moved to a negative leaf index names the version", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE record_versions SET leaf_index = -5 WHERE record_id = ? AND version = 1`, p.plain)
		// The row is there: its leaf index was changed, it was not deleted.
		return []want{{verify.Inserted, "record_versions", p.plain + ":1"}, {verify.Changed, "record_versions", p.plain + ":1"}}
	}},
	{"a leaf at a negative index names the leaf", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `INSERT INTO ledger_leaves (idx, kind, event_id, data) SELECT -3, kind, event_id, data FROM ledger_leaves WHERE idx = 0`)
		return []want{{verify.Inserted, "ledger_leaves", "-3"}}
	}},
	{"a changed leaf names the leaf", func(t *testing.T, p *platform) []want {
		var data []byte
		p.raw.queryRow(t, `SELECT data FROM ledger_leaves WHERE idx = ?`, []any{p.eventLeaf}, &data)
		l, err := ledger.ParseLeaf(data)
		if err != nil {
			t.Fatal(err)
		}
		l.Commitment[0] ^= 1
		p.raw.exec(t, `UPDATE ledger_leaves SET data = ? WHERE idx = ?`, l.Encode(), p.eventLeaf)
		return []want{{verify.Changed, "ledger_leaves", strconv.FormatInt(p.eventLeaf, 10)}}
	}},
	{"a leaf's event_id column, which pushes are made from, changed names the leaf", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE ledger_leaves SET event_id = ? WHERE idx = 0`, p.corrected+":9")
		return []want{{verify.Changed, "ledger_leaves", "0"}}
	}},
	{"a leaf's kind column changed names the leaf", func(t *testing.T, p *platform) []want {
		i := p.leafOf(t, p.corrected, 2)
		p.raw.exec(t, `UPDATE ledger_leaves SET kind = 'access' WHERE idx = ?`, i)
		return []want{{verify.Changed, "ledger_leaves", strconv.FormatInt(i, 10)}}
	}},
	{"a deleted leaf names the leaf", func(t *testing.T, p *platform) []want {
		leaf := p.leafOf(t, p.plain, 1)
		p.raw.exec(t, `DELETE FROM ledger_leaves WHERE idx = ?`, leaf)
		return []want{{verify.Deleted, "ledger_leaves", strconv.FormatInt(leaf, 10)}}
	}},
	{"a changed stored leaf hash names the hash", func(t *testing.T, p *platform) []want {
		idx := tlog.StoredHashIndex(0, 3)
		p.raw.exec(t, `UPDATE ledger_hashes SET hash = ? WHERE idx = ?`, make([]byte, 32), idx)
		return []want{{verify.Tree, "ledger_hashes", strconv.FormatInt(idx, 10)}}
	}},
	{"a changed stored interior hash names the hash", func(t *testing.T, p *platform) []want {
		idx := tlog.StoredHashIndex(2, 1) // the subtree of leaves 4 to 7
		p.raw.exec(t, `UPDATE ledger_hashes SET hash = ? WHERE idx = ?`, make([]byte, 32), idx)
		return []want{{verify.Tree, "ledger_hashes", strconv.FormatInt(idx, 10)}}
	}},
	{"a checkpoint with a bad signature names the checkpoint", func(t *testing.T, p *platform) []want {
		var signed []byte
		p.raw.queryRow(t, `SELECT signed FROM ledger_checkpoints WHERE size = ?`, []any{p.newest}, &signed)
		lines := strings.SplitN(string(signed), "\n", 4)
		lines[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" // another root, the old signature
		p.raw.exec(t, `UPDATE ledger_checkpoints SET signed = ? WHERE size = ?`, []byte(strings.Join(lines, "\n")), p.newest)
		return []want{{verify.Checkpoint, "ledger_checkpoints", strconv.FormatInt(p.newest, 10)}}
	}},
	{"a deleted newest checkpoint is found from the stored hashes", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `DELETE FROM ledger_checkpoints WHERE size = ?`, p.newest)
		return []want{{verify.Deleted, "ledger_checkpoints", strconv.FormatInt(p.newest, 10)}}
	}},
	// The two that follow are limits, documented (README, verify --help):
	// nothing in the database shows them, a published checkpoint or a
	// witness does.
	{"a deleted checkpoint that is not the newest is not found", func(t *testing.T, p *platform) []want {
		var oldest int64
		p.raw.queryRow(t, `SELECT MIN(size) FROM ledger_checkpoints`, nil, &oldest)
		if oldest == p.newest {
			t.Fatalf("the platform has one checkpoint (size %d)", oldest)
		}
		p.raw.exec(t, `DELETE FROM ledger_checkpoints WHERE size = ?`, oldest)
		return nil
	}},
	{"a checkpoint's created_at is not signed, and a change of it is not found", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE ledger_checkpoints SET created_at = '2020-01-01T00:00:00Z' WHERE size = ?`, p.newest)
		return nil
	}},
	{"an erased version is reported as erased and still verifies", func(t *testing.T, p *platform) []want {
		p.eraseVersion(t, p.corrected, 1)
		p.at = p.at.Add(verify.MinRetention + time.Hour)
		return []want{{verify.Erased, "record_versions", p.corrected + ":1"}}
	}},
	{"an erased record, its versions and its row, is reported as erased and still verifies", func(t *testing.T, p *platform) []want {
		p.eraseVersion(t, p.corrected, 1)
		p.eraseVersion(t, p.corrected, 2)
		p.raw.execUnchecked(t, `DELETE FROM records WHERE id = ?`, p.corrected)
		p.at = p.at.Add(verify.MinRetention + time.Hour)
		return []want{{verify.Erased, "record_versions", p.corrected + ":1"}, {verify.Erased, "record_versions", p.corrected + ":2"}}
	}},
	{"an erased access event is reported as erased and still verifies", func(t *testing.T, p *platform) []want {
		p.eraseEvent(t, p.event)
		p.at = p.at.Add(verify.MinRetention + time.Hour)
		return []want{{verify.Erased, "access_events", p.event}}
	}},
	{"an erased list entry, its versions and its row, is reported as erased and still verifies", func(t *testing.T, p *platform) []want {
		for v := 1; v <= 2; v++ {
			p.raw.exec(t, `UPDATE list_entry_versions SET salt = NULL, state = ? WHERE entry_id = ? AND version = ?`, []byte{}, p.entry, v)
		}
		p.raw.execUnchecked(t, `DELETE FROM list_entries WHERE id = ?`, p.entry)
		p.at = p.at.Add(verify.MinRetention + time.Hour)
		return []want{{verify.Erased, "list_entry_versions", p.entry + ":1"}, {verify.Erased, "list_entry_versions", p.entry + ":2"}}
	}},
	{"an erased version whose time was changed names the version", func(t *testing.T, p *platform) []want {
		p.eraseVersion(t, p.corrected, 1)
		p.raw.exec(t, `UPDATE record_versions SET at = ? WHERE record_id = ? AND version = 1`, "2020-01-01T00:00:00.000000000Z", p.corrected)
		p.at = p.at.Add(verify.MinRetention + time.Hour)
		return []want{{verify.Changed, "record_versions", p.corrected + ":1"}}
	}},
	{"changed feedback names it", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `UPDATE check_feedback SET applied = NOT applied WHERE check_id = ?`, id)
		return []want{{verify.Changed, "check_feedback", p.feedback}}
	}},
	{"a check's changed measures name the check", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `UPDATE checks SET measures = '[]' WHERE id = ?`, id)
		// Its check_measures row no longer matches the row either.
		return []want{{verify.Changed, "checks", id}, {verify.Inserted, "check_measures", id + ":RESTRICT_HIGH_CONSUMPTION"}}
	}},
	{"a deleted check_measures row names it, and its feedback", func(t *testing.T, p *platform) []want {
		id, m, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `DELETE FROM check_feedback WHERE check_id = ?`, id)
		p.raw.exec(t, `DELETE FROM check_measures WHERE check_id = ?`, id)
		return []want{{verify.Deleted, "check_feedback", p.feedback}, {verify.Deleted, "check_measures", id + ":" + m}}
	}},
	{"an inserted check_measures row names it", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `INSERT INTO check_measures (check_id, measure, dept, at) SELECT check_id, 'GREEN_CHANNEL', dept, at FROM check_measures WHERE check_id = ?`, id)
		return []want{{verify.Inserted, "check_measures", id + ":GREEN_CHANNEL"}}
	}},
	{"a check_measures row of no check names it", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.execUnchecked(t, `INSERT INTO check_measures (check_id, measure, dept, at) SELECT 'nosuchcheck', measure, dept, at FROM check_measures WHERE check_id = ?`, id)
		return []want{{verify.Inserted, "check_measures", "nosuchcheck:RESTRICT_HIGH_CONSUMPTION"}}
	}},
	{"an inserted check with its check_measures row names the check only", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `INSERT INTO checks (id, dept, subject_key, matter, purpose, at, measures) SELECT 'fakecheck', dept, subject_key, matter, purpose, at, measures FROM checks WHERE id = ?`, id)
		p.raw.exec(t, `INSERT INTO check_measures (check_id, measure, dept, at) SELECT 'fakecheck', measure, dept, at FROM check_measures WHERE check_id = ?`, id)
		return []want{{verify.Inserted, "checks", "fakecheck"}}
	}},
	{"an inserted check without check_measures rows names the check only", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `INSERT INTO checks (id, dept, subject_key, matter, purpose, at, measures) SELECT 'fakecheck', dept, subject_key, matter, purpose, at, measures FROM checks WHERE id = ?`, id)
		return []want{{verify.Inserted, "checks", "fakecheck"}}
	}},
	{"a check_measures row moved to another department names it", func(t *testing.T, p *platform) []want {
		id, m, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `UPDATE check_measures SET dept = 'OTHER' WHERE check_id = ?`, id)
		return []want{{verify.Changed, "check_measures", id + ":" + m}}
	}},
	{"a swapped sealed name names the subject by its id", func(t *testing.T, p *platform) []want {
		id := p.subjectOf(t, p.plain)
		p.raw.exec(t, `UPDATE subjects SET name_enc = (SELECT name_enc FROM subjects WHERE id <> ? ORDER BY id LIMIT 1) WHERE id = ?`, id, id)
		return []want{{verify.Changed, "subjects", id}}
	}},
	{"a changed sealed number names the subject", func(t *testing.T, p *platform) []want {
		id := p.subjectOf(t, p.corrected)
		p.raw.exec(t, `UPDATE subjects SET number_enc = name_enc WHERE id = ?`, id)
		return []want{{verify.Changed, "subjects", id}}
	}},
	{"a deleted subject names it", func(t *testing.T, p *platform) []want {
		id := p.subjectOf(t, p.plain)
		p.raw.execUnchecked(t, `DELETE FROM subjects WHERE id = ?`, id)
		return []want{{verify.Deleted, "subjects", id}}
	}},
	{"an inserted subject without a leaf names it", func(t *testing.T, p *platform) []want {
		id := p.subjectOf(t, p.plain)
		p.raw.exec(t, `INSERT INTO subjects (subject_key, id_type, number_enc, name_enc, created_at, id)
			SELECT name_enc, id_type, number_enc, name_enc, created_at, 'forged' FROM subjects WHERE id = ?`, id)
		return []want{{verify.Inserted, "subjects", "forged"}}
	}},
	{"a check's measures that no longer parse name the check, not its check_measures rows", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `UPDATE checks SET measures = '{"x": 1}' WHERE id = ?`, id)
		return []want{{verify.Changed, "checks", id}}
	}},
	{"deleted feedback names it", func(t *testing.T, p *platform) []want {
		id, _, _ := strings.Cut(p.feedback, ":")
		p.raw.exec(t, `DELETE FROM check_feedback WHERE check_id = ?`, id)
		return []want{{verify.Deleted, "check_feedback", p.feedback}}
	}},
	{"a version time changed below the microsecond names the version", func(t *testing.T, p *platform) []want {
		var stored any // text on SQLite, timestamptz on PostgreSQL (which keeps microseconds only)
		p.raw.queryRow(t, `SELECT at FROM record_versions WHERE record_id = ? AND version = 1`, []any{p.plain}, &stored)
		at, ok := stored.(time.Time)
		if s, isText := stored.(string); isText {
			var err error
			if at, err = time.Parse(time.RFC3339Nano, s); err != nil {
				t.Fatal(err)
			}
			ok = true
		}
		if !ok {
			t.Fatalf("version time %#v", stored)
		}
		p.raw.exec(t, `UPDATE record_versions SET at = ? WHERE record_id = ? AND version = 1`, at.Add(999*time.Nanosecond).UTC().Format(time.RFC3339Nano), p.plain)
		return []want{{verify.Changed, "record_versions", p.plain + ":1"}}
	}},
	{"a NULL salt beside the content is a change, not an erasure", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE record_versions SET salt = NULL WHERE record_id = ? AND version = 2`, p.revoked)
		p.raw.exec(t, `UPDATE access_events SET salt = NULL, purpose = 'forged' WHERE id = ?`, p.event)
		p.at = p.at.Add(verify.MinRetention + time.Hour)
		return []want{{verify.Changed, "record_versions", p.revoked + ":2"}, {verify.Changed, "access_events", p.event}}
	}},
	{"an erasure before the retention could have ended is a change", func(t *testing.T, p *platform) []want {
		p.eraseVersion(t, p.corrected, 1)
		p.eraseEvent(t, p.event)
		p.at = p.at.Add(verify.MinRetention - 24*time.Hour)
		return []want{{verify.Changed, "record_versions", p.corrected + ":1"}, {verify.Changed, "access_events", p.event}}
	}},
	{"a records row whose latest version is erased is a change", func(t *testing.T, p *platform) []want {
		p.eraseVersion(t, p.plain, 1)
		p.at = p.at.Add(verify.MinRetention + time.Hour)
		return []want{{verify.Erased, "record_versions", p.plain + ":1"}, {verify.Changed, "records", p.plain}}
	}},
}

// eraseVersion erases a record version's salt and content, as the end of
// its retention would.
func (p *platform) eraseVersion(t *testing.T, id string, version int) {
	t.Helper()
	p.raw.exec(t, `UPDATE record_versions SET salt = NULL, payload = ?, note = NULL, state = ? WHERE record_id = ? AND version = ?`, []byte{}, []byte{}, id, version)
}

// eraseEvent erases an access event's salt and content: whom, why and what.
func (p *platform) eraseEvent(t *testing.T, id string) {
	t.Helper()
	empty := p.raw.emptyList()
	p.raw.exec(t, `UPDATE access_events SET salt = NULL, subject_key = ?, purpose = '', authority = '', records = `+empty+`, items = `+empty+` WHERE id = ?`, []byte{}, id)
}

// sqliteTamperCases are changes only SQLite lets through: a value of
// another type where its column's type is declared.
var sqliteTamperCases = []tamperCase{
	{"a record's versions with their record id as a blob name that record alone", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE record_versions SET record_id = CAST(record_id AS BLOB) WHERE record_id = ?`, p.plain)
		return []want{{verify.Deleted, "records", p.plain}, {verify.Inserted, "records", p.plain}}
	}},
	{"a records row with its id as a blob names that record alone", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE records SET id = CAST(id AS BLOB) WHERE id = ?`, p.corrected)
		return []want{{verify.Deleted, "records", p.corrected}, {verify.Inserted, "records", p.corrected}}
	}},
	{"a record's latest version with its record id as a blob names that record alone", func(t *testing.T, p *platform) []want {
		p.raw.exec(t, `UPDATE record_versions SET record_id = CAST(record_id AS BLOB) WHERE record_id = ? AND version = 2`, p.revoked)
		return []want{{verify.Deleted, "records", p.revoked}, {verify.Changed, "records", p.revoked}}
	}},
}

func TestVerifyNamesWhatWasTamperedWith(t *testing.T) {
	cases := func(engine string) []tamperCase {
		if strings.HasPrefix(engine, "sqlite") {
			return append(slices.Clip(tamperCases), sqliteTamperCases...)
		}
		return tamperCases
	}
	runTamperings(t, cases, func(t *testing.T, wants []want, sum verify.Summary, got []verify.Problem) {
		var gotKeys, wantKeys []string
		failures := 0
		for _, pr := range got {
			t.Log(pr)
			gotKeys = append(gotKeys, want{pr.Kind, pr.Table, pr.ID}.String())
			if pr.Failure() {
				failures++
			}
		}
		for _, w := range wants {
			wantKeys = append(wantKeys, w.String())
		}
		slices.Sort(gotKeys)
		slices.Sort(wantKeys)
		if !slices.Equal(gotKeys, wantKeys) {
			var lines []string
			for _, pr := range got {
				lines = append(lines, "  "+pr.String())
			}
			t.Errorf("reported %q, want %q; the problems:\n%s", gotKeys, wantKeys, strings.Join(lines, "\n"))
		}
		if sum.Problems != failures {
			t.Errorf("summary counts %d problems, %d failures were reported", sum.Problems, failures)
		}
		if sum.OK() != (failures == 0) {
			t.Errorf("summary OK %v with %d failures", sum.OK(), failures)
		}
	})
}

// TestVerifyNamesWhatWasDuplicated: a leaf copied in ledger_leaves, or a
// row copied beside the row that claims its leaf, is named as what it is
// (a leaf that appears twice, a leaf claimed by two rows), not as a row
// that was deleted, and the rest is checked as before.
// anyRow in a named problem matches a problem of any row of its table.
const anyRow = "*"

func TestVerifyNamesWhatWasDuplicated(t *testing.T) {
	// named is a problem verify must report, with words its message must
	// hold.
	type named struct {
		want
		words []string
	}
	// nextLeaf is the index a leaf appended behind the platform's back takes.
	nextLeaf := func(t *testing.T, p *platform) int64 {
		var next int64
		p.raw.queryRow(t, `SELECT MAX(idx) + 1 FROM ledger_leaves`, nil, &next)
		return next
	}
	cases := []tampering[[]named]{
		{"a copied access event leaf is a leaf that appears twice", func(t *testing.T, p *platform) []named {
			next := nextLeaf(t, p)
			p.raw.exec(t, `INSERT INTO ledger_leaves (idx, kind, event_id, data) SELECT CAST(? AS BIGINT), kind, event_id, data FROM ledger_leaves WHERE idx = ?`, next, p.eventLeaf)
			return []named{{want{verify.Inserted, "ledger_leaves", strconv.FormatInt(next, 10)},
				[]string{"appears twice", "access_events " + p.event, fmt.Sprintf("claims leaf %d", p.eventLeaf)}}}
		}},
		{"a copied record version leaf is a leaf that appears twice", func(t *testing.T, p *platform) []named {
			next, leaf := nextLeaf(t, p), p.leafOf(t, p.corrected, 1)
			p.raw.exec(t, `INSERT INTO ledger_leaves (idx, kind, event_id, data) SELECT CAST(? AS BIGINT), kind, event_id, data FROM ledger_leaves WHERE idx = ?`, next, leaf)
			return []named{{want{verify.Inserted, "ledger_leaves", strconv.FormatInt(next, 10)},
				[]string{"appears twice", "record_versions " + p.corrected + ":1", fmt.Sprintf("claims leaf %d", leaf)}}}
		}},
		{"a leaf naming an event whose row claims another leaf is an inserted leaf", func(t *testing.T, p *platform) []named {
			next := nextLeaf(t, p)
			var kind, eventID string
			var data []byte
			p.raw.queryRow(t, `SELECT kind, event_id, data FROM ledger_leaves WHERE idx = ?`, []any{p.eventLeaf}, &kind, &eventID, &data)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			lines[len(lines)-1] = strings.Repeat("0", 64) // another commitment
			forged := strings.Join(lines, "\n") + "\n"
			p.raw.exec(t, `INSERT INTO ledger_leaves (idx, kind, event_id, data) VALUES (?, ?, ?, ?)`, next, kind, eventID, []byte(forged))
			return []named{{want{verify.Inserted, "ledger_leaves", strconv.FormatInt(next, 10)},
				[]string{"access_events " + p.event, fmt.Sprintf("claims leaf %d", p.eventLeaf), "does not commit to this one"}}}
		}},
		{"a copied access event claiming the same leaf names both rows", func(t *testing.T, p *platform) []named {
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			// The copy's id sorts before the original's.
			p.raw.exec(t, `INSERT INTO access_events (id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index)
				SELECT '00COPY', at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index
				FROM access_events WHERE id = ?`, p.event)
			return []named{{want{verify.Inserted, "access_events", "00COPY"},
				[]string{fmt.Sprintf("leaf %d is claimed by two rows", p.eventLeaf), p.event, "00COPY", "does not match"}}}
		}},
		{"two rows claiming a leaf that does not parse: the leaf and the second row are named", func(t *testing.T, p *platform) []named {
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			p.raw.exec(t, `INSERT INTO access_events (id, at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index)
				SELECT '00COPY', at, principal_kind, principal, subject_key, action, purpose, authority, records, items, salt, leaf_index
				FROM access_events WHERE id = ?`, p.event)
			p.raw.exec(t, `UPDATE ledger_leaves SET data = ? WHERE idx = ?`, []byte("not a leaf"), p.eventLeaf)
			leaf := strconv.FormatInt(p.eventLeaf, 10)
			return []named{ // the leaf twice: its columns, and its bytes that do not parse
				{want{verify.Changed, "ledger_leaves", leaf}, nil},
				{want{verify.Changed, "ledger_leaves", leaf}, nil},
				// The second of the two in the scan's order, which ties leave open.
				{want{verify.Inserted, "access_events", anyRow}, []string{fmt.Sprintf("claims leaf %d, which another row claims", p.eventLeaf)}},
			}
		}},
		{"a copied record version claiming the same leaf names both rows", func(t *testing.T, p *platform) []named {
			leaf := p.leafOf(t, p.plain, 1)
			p.raw.ddl(t, `DROP INDEX record_versions_leaf`)
			p.raw.exec(t, `INSERT INTO record_versions (record_id, version, change, at, payload, note, state, salt, leaf_index)
				SELECT record_id, 0, change, at, payload, note, state, salt, leaf_index FROM record_versions WHERE record_id = ? AND version = 1`, p.plain)
			return []named{{want{verify.Inserted, "record_versions", p.plain + ":0"},
				[]string{fmt.Sprintf("leaf %d is claimed by two rows", leaf), p.plain + ":1", p.plain + ":0"}}}
		}},
		{"a row whose leaf index was cleared is changed, not deleted", func(t *testing.T, p *platform) []named {
			p.raw.exec(t, `UPDATE access_events SET leaf_index = NULL WHERE id = ?`, p.event)
			return []named{
				{want{verify.Inserted, "access_events", p.event}, []string{"no leaf"}},
				{want{verify.Changed, "access_events", p.event}, []string{fmt.Sprintf("leaf %d commits to the row's event", p.eventLeaf), "leaf index was changed"}},
			}
		}},
		{"an access event moved onto another access event's leaf is changed, not inserted", func(t *testing.T, p *platform) []named {
			other, leaf := p.laterEvent(t)
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ? WHERE id = ?`, p.eventLeaf, other)
			return []named{{want{verify.Changed, "access_events", other},
				[]string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", leaf), fmt.Sprintf("claims leaf %d", p.eventLeaf), "access " + p.event}}}
		}},
		{"an access event moved onto a later access event's leaf is changed, not inserted", func(t *testing.T, p *platform) []named {
			other, leaf := p.laterEvent(t)
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ? WHERE id = ?`, leaf, p.event)
			return []named{{want{verify.Changed, "access_events", p.event},
				[]string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", p.eventLeaf), fmt.Sprintf("claims leaf %d", leaf), "access " + other}}}
		}},
		{"a record version moved onto an access event's leaf is changed, not inserted", func(t *testing.T, p *platform) []named {
			leaf := p.leafOf(t, p.plain, 1)
			p.raw.exec(t, `UPDATE record_versions SET leaf_index = ? WHERE record_id = ? AND version = 1`, p.eventLeaf, p.plain)
			return []named{{want{verify.Changed, "record_versions", p.plain + ":1"},
				[]string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", leaf), fmt.Sprintf("claims leaf %d", p.eventLeaf), "access " + p.event}}}
		}},
		{"a subject moved onto another subject's leaf is changed, not inserted", func(t *testing.T, p *platform) []named {
			id, other := p.subjectOf(t, p.plain), p.subjectOf(t, p.corrected)
			var leaf, otherLeaf int64
			p.raw.queryRow(t, `SELECT leaf_index FROM subjects WHERE id = ?`, []any{id}, &leaf)
			p.raw.queryRow(t, `SELECT leaf_index FROM subjects WHERE id = ?`, []any{other}, &otherLeaf)
			p.raw.ddl(t, `DROP INDEX subjects_leaf`)
			p.raw.exec(t, `UPDATE subjects SET leaf_index = ? WHERE id = ?`, otherLeaf, id)
			return []named{{want{verify.Changed, "subjects", id},
				[]string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", leaf), fmt.Sprintf("claims leaf %d", otherLeaf), other}}}
		}},
		{"a changed access event moved onto another's leaf is one change", func(t *testing.T, p *platform) []named {
			other, leaf := p.laterEvent(t)
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ?, purpose = 'curiosity' WHERE id = ?`, p.eventLeaf, other)
			return []named{{want{verify.Changed, "access_events", other},
				[]string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", leaf), fmt.Sprintf("no longer matches leaf %d", leaf)}}}
		}},
		{"an access event moved onto a changed one's leaf names both changes", func(t *testing.T, p *platform) []named {
			other, leaf := p.laterEvent(t)
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			p.raw.exec(t, `UPDATE access_events SET purpose = 'curiosity' WHERE id = ?`, p.event)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ? WHERE id = ?`, p.eventLeaf, other)
			return []named{
				{want{verify.Changed, "access_events", p.event}, []string{fmt.Sprintf("no longer matches its leaf %d", p.eventLeaf)}},
				{want{verify.Changed, "access_events", other}, []string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", leaf), fmt.Sprintf("claims leaf %d", p.eventLeaf)}},
			}
		}},
		{"two access events whose leaf indexes were swapped are both changed", func(t *testing.T, p *platform) []named {
			other, leaf := p.laterEvent(t)
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ? WHERE id = ?`, leaf, p.event)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ? WHERE id = ?`, p.eventLeaf, other)
			return []named{
				{want{verify.Changed, "access_events", p.event}, []string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", p.eventLeaf), fmt.Sprintf("claims leaf %d", leaf)}},
				{want{verify.Changed, "access_events", other}, []string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", leaf), fmt.Sprintf("claims leaf %d", p.eventLeaf)}},
			}
		}},
		{"an access event moved onto the leaf of a deleted one names both", func(t *testing.T, p *platform) []named {
			other, leaf := p.laterEvent(t)
			p.raw.exec(t, `DELETE FROM access_events WHERE id = ?`, p.event)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ? WHERE id = ?`, p.eventLeaf, other)
			return []named{
				{want{verify.Deleted, "access_events", p.event}, []string{fmt.Sprintf("leaf %d commits to it", p.eventLeaf)}},
				{want{verify.Changed, "access_events", other}, []string{"leaf index was changed", fmt.Sprintf("its event's leaf is %d", leaf), fmt.Sprintf("claims leaf %d", p.eventLeaf)}},
			}
		}},
		{"a row moved onto another event's leaf, its own event having none, is inserted", func(t *testing.T, p *platform) []named {
			// The pending event's leaf is past every checkpoint: once it is
			// gone, nothing shows it was ever written.
			p.raw.exec(t, `DELETE FROM ledger_leaves WHERE idx = ?`, p.newest)
			p.raw.ddl(t, `DROP INDEX access_events_leaf`)
			p.raw.exec(t, `UPDATE access_events SET leaf_index = ? WHERE id = ?`, p.eventLeaf, p.pending)
			return []named{{want{verify.Inserted, "access_events", p.pending},
				[]string{fmt.Sprintf("leaf %d is claimed by two rows", p.eventLeaf), p.event, "does not match"}}}
		}},
		{"a version inserted onto an access event's leaf is inserted", func(t *testing.T, p *platform) []named {
			p.raw.exec(t, `INSERT INTO record_versions (record_id, version, change, at, payload, note, state, salt, leaf_index)
				SELECT record_id, 9, change, at, payload, note, state, salt, ? FROM record_versions WHERE record_id = ? AND version = 1`, p.eventLeaf, p.plain)
			return []named{{want{verify.Inserted, "record_versions", p.plain + ":9"},
				[]string{fmt.Sprintf("claims leaf %d, which commits to another event (access %s)", p.eventLeaf, p.event)}}}
		}},
	}
	runTamperings(t, func(string) []tampering[[]named] { return cases }, func(t *testing.T, wants []named, sum verify.Summary, got []verify.Problem) {
		var lines []string
		for _, pr := range got {
			t.Log(pr)
			lines = append(lines, "  "+pr.String())
		}
		if len(got) != len(wants) {
			t.Errorf("%d problems, want %d:\n%s", len(got), len(wants), strings.Join(lines, "\n"))
		}
		for _, w := range wants {
			i := slices.IndexFunc(got, func(pr verify.Problem) bool {
				return pr.Kind == w.kind && pr.Table == w.table && (pr.ID == w.id || w.id == anyRow)
			})
			if i < 0 {
				t.Errorf("no problem %s; the problems:\n%s", w.want, strings.Join(lines, "\n"))
				continue
			}
			for _, word := range w.words {
				if !strings.Contains(got[i].Message, word) {
					t.Errorf("%s: the message does not say %q", got[i], word)
				}
			}
		}
		if sum.OK() || sum.Problems != len(wants) {
			t.Errorf("summary %+v, want %d problems", sum, len(wants))
		}
	})
}

// TestProblemLinesPrintOnlyText: a row's id is whatever was written in the
// database; a problem line quotes one that does not print, so that no
// escape sequence or line break reaches the auditor's terminal.
func TestProblemLinesPrintOnlyText(t *testing.T) {
	for _, id := range []string{"a\x1b[2Jb", "a\nchanged records x: forged", "a\xffb", "a\u202eb", "a\x00"} {
		line := verify.Problem{Kind: verify.Inserted, Table: "records", ID: id, Message: "m"}.String()
		if strings.ContainsAny(line, "\x1b\n\x00\u202e") || !utf8.ValidString(line) {
			t.Errorf("id %q: the line %q holds what does not print", id, line)
		}
	}
	if got := (verify.Problem{Kind: verify.Changed, Table: "records", ID: "01a2 中文", Message: "the row differs"}).String(); got != "changed records 01a2 中文: the row differs" {
		t.Errorf("a printable id: %q", got)
	}
}

// newKeys makes a keyring and the ledger signer of its key under origin.
func newKeys(tb testing.TB, origin string) (*vault.Keyring, *ledger.Signer) {
	tb.Helper()
	keys, err := vault.Generate(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := ledger.NewSigner(origin, keys.Signer())
	if err != nil {
		tb.Fatal(err)
	}
	return keys, signer
}
