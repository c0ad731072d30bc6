package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/access"
	"pubcredit/internal/ledger"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

// errStop ends a scan whose cursor was stopped.
var errStop = errors.New("verify: scan stopped")

// A Cursor reads a callback scan in a goroutine of its own and hands its
// rows over in batches, so that the scans of a walk run in parallel with
// each other and with the walker. Rows must not share the scan's buffers.
// cur is valid until the next advance.
type Cursor[T any] struct {
	batches chan []T
	done    chan struct{}
	batch   []T
	cur     T
	ok      bool
	err     atomic.Pointer[error] // the scan's error, once it has ended
}

// cursorBatch is the number of rows handed over at once.
const cursorBatch = 512

// newCursor starts scan; each is a scan's callback turning a row into a T.
// A scan error calls fail at once, before the walker sees the scan end, so
// that nothing reported from then on is taken for a finding.
func newCursor[T any](fail func(), scan func(yield func(T) bool) error) *Cursor[T] {
	c := &Cursor[T]{batches: make(chan []T, 4), done: make(chan struct{})}
	go func() {
		defer close(c.batches)
		send := func(b []T) bool {
			select {
			case c.batches <- b:
				return true
			case <-c.done:
				return false
			}
		}
		batch := make([]T, 0, cursorBatch)
		err := scan(func(t T) bool {
			if batch = append(batch, t); len(batch) == cursorBatch {
				if !send(batch) {
					return false
				}
				batch = make([]T, 0, cursorBatch)
			}
			return true
		})
		if err != nil && !errors.Is(err, errStop) {
			c.err.Store(&err)
			fail()
			return
		}
		if len(batch) > 0 {
			send(batch)
		}
	}()
	c.advance()
	return c
}

func (c *Cursor[T]) advance() {
	for len(c.batch) == 0 {
		b, ok := <-c.batches
		if !ok {
			var zero T
			c.cur, c.ok = zero, false
			return
		}
		c.batch = b
	}
	c.cur, c.ok, c.batch = c.batch[0], true, c.batch[1:]
}

// Stop ends the scan and waits for its goroutine.
func (c *Cursor[T]) Stop() {
	close(c.done)
	for range c.batches {
	}
}

// failed reports whether the scan ended with an error.
func (c *Cursor[T]) failed() bool { return c.err.Load() != nil }

// Err returns the scan's error, once it has ended (once Next has returned
// false).
func (c *Cursor[T]) Err() error {
	if e := c.err.Load(); e != nil {
		return *e
	}
	return nil
}

// Read runs scan in a goroutine of its own and hands its rows over in
// batches, as the walk reads its scans: a Store can read two tables at
// once for one scan with it (Next, then Err once Next has returned false,
// and Stop when done). scan returns when yield returns false.
func Read[T any](scan func(yield func(T) bool) error) *Cursor[T] { return newCursor(func() {}, scan) }

// Next returns the row the cursor is at and moves past it; false at the
// end of the scan.
func (c *Cursor[T]) Next() (T, bool) {
	t, ok := c.cur, c.ok
	if ok {
		c.advance()
	}
	return t, ok
}

// pull adapts a scan over rows of type R to a cursor.
func pull[R any](fail func(), scan func(func(R) error) error) *Cursor[R] {
	return newCursor(fail, func(yield func(R) bool) error {
		return scan(func(r R) error {
			if !yield(r) {
				return errStop
			}
			return nil
		})
	})
}

type leafRow struct {
	idx   int64
	data  []byte
	named bool // the kind and event_id columns beside the leaf are its own
}

type hashRow struct {
	idx   int64
	hash  tlog.Hash
	valid bool // the stored value is 32 bytes
}

type checkpointRow struct {
	size   int64
	signed []byte
}

// The tables whose rows claim leaves, in the walker's rows.
const (
	versionRows = iota
	accessRows
	listRows
	feedbackRows
	checkRows
	subjectRows
	nSources
)

// A source is the rows of one table that claim leaves, by leaf index, as
// claims.
type source struct {
	c     *Cursor[claim]
	count int // rows walked past
}

// at returns the row that claims leaf i, if any. The rows before it claim
// no leaf (a NULL leaf index, which the scans give last) or a negative one:
// they are reported as inserted.
func (s *source) at(i int64, emit func(Problem)) *claim {
	for s.c.ok && s.c.cur.leaf < i {
		emit(Problem{Inserted, s.c.cur.table, s.c.cur.id, noLeaf(s.c.cur.leaf)})
		s.next()
	}
	if s.c.ok && s.c.cur.leaf == i {
		return &s.c.cur
	}
	return nil
}

// claimsAt appends to cs every row that claims leaf i, and moves past
// them; the rows before them are reported as at reports them.
func (s *source) claimsAt(i int64, emit func(Problem), cs []claim) []claim {
	s.at(i, emit)
	for s.c.ok && s.c.cur.leaf == i {
		cs = append(cs, s.c.cur)
		s.next()
	}
	return cs
}

func (s *source) next() {
	s.count++
	s.c.advance()
}

// noLeaf says why a row claiming leaf idx has no leaf.
func noLeaf(idx int64) string {
	if idx == -1 {
		return "no leaf commits to the row"
	}
	return fmt.Sprintf("the row claims leaf %d, which does not exist", idx)
}

// A walker walks the leaves, the stored hashes, the checkpoints and the
// rows that claim leaves, together, in leaf order.
type walker struct {
	vkey string
	now  time.Time // for the retention of erased rows
	emit func(Problem)
	fail func()
	err  error

	leaves *Cursor[leafRow]
	hashes *Cursor[hashRow]
	cps    *Cursor[checkpointRow]
	rows   [nSources]source

	tree       ledger.Tree
	gap        int64 // the first leaf the tree cannot be recomputed past; -1 while it can
	gapNoticed bool  // a checkpoint past gap was reported as unchecked
	lastHashed int64 // the highest leaf whose stored leaf hash was found; -1 for none
	missing    span  // stored hashes found missing, not yet reported

	total, newest      int64
	leafCount, cpCount int

	buf       []byte     // a leaf recomputed from its row, leaf after leaf
	claims    []claim    // the rows claiming the leaf being walked
	orphans   []orphan   // leaves no row of their event claims, reported once the rows are looked up
	misclaims []misclaim // rows claiming another event's leaf, reported once the orphans are known
}

// An orphan is a leaf that parses, matches its stored hash, and that no
// row of its event claims (a row of another event may: a misclaim). The
// walk leaves the rows it has passed behind, so whether the row the leaf
// names is gone, or is there claiming another leaf (the leaf was copied,
// or the row moved), is looked up after the walk (resolveOrphans).
type orphan struct {
	idx  int64
	leaf ledger.Leaf
	data []byte
	row  *claim // the row of the leaf's event, when one is there
	same bool   // that row commits to this leaf's very bytes
	why  string // why it does not, when the comparison alone does not say
	// moved is the misclaim of the leaf's event's row: the row claims
	// another event's leaf, and its leaf index was changed.
	moved *misclaim
}

// A misclaim is a row that claims the leaf of another event. When its own
// event's leaf is there and no row claims it, the row's leaf index was
// changed (it was moved onto the other leaf); otherwise the row is
// reported as the walk found it (an inserted row, a changed one). The walk
// knows which only once every leaf is walked: resolveOrphans tells.
type misclaim struct {
	row      claim
	kind, id string  // the event of the leaf it claims
	p        Problem // what the walk found, reported when the row was not moved
	moved    bool    // the row was found moved: p is not reported
}

// maxOrphans bounds the orphans kept for the lookup after the walk, so
// that a log whose rows were deleted wholesale is still verified in
// bounded memory; beyond it an orphan is reported as a deleted row at
// once, without the lookup.
const maxOrphans = 10000

// maxMisclaims bounds the misclaims kept likewise; beyond it a row
// claiming another event's leaf is reported at once, as the walk found it.
const maxMisclaims = maxOrphans

func newWalker(ctx context.Context, st Store, vkey string, now time.Time, emit func(Problem), fail func()) *walker {
	w := &walker{vkey: vkey, now: now, emit: emit, fail: fail, gap: -1, lastHashed: -1}
	w.leaves = newCursor(fail, func(yield func(leafRow) bool) error {
		return st.ScanLeaves(ctx, func(idx int64, kind, eventID, data []byte) error {
			if !yield(leafRow{idx, bytes.Clone(data), names(data, kind, eventID)}) {
				return errStop
			}
			return nil
		})
	})
	w.hashes = newCursor(fail, func(yield func(hashRow) bool) error {
		return st.ScanHashes(ctx, func(idx int64, hash []byte) error {
			r := hashRow{idx: idx, valid: len(hash) == tlog.HashSize}
			copy(r.hash[:], hash)
			if !yield(r) {
				return errStop
			}
			return nil
		})
	})
	w.cps = newCursor(fail, func(yield func(checkpointRow) bool) error {
		return st.ScanCheckpoints(ctx, func(size int64, signed []byte) error {
			if !yield(checkpointRow{size, bytes.Clone(signed)}) {
				return errStop
			}
			return nil
		})
	})
	for k := range w.rows {
		w.rows[k] = source{c: pull(fail, func(fn func(claim) error) error { return scanClaims(ctx, st, k, fn) })}
	}
	return w
}

// sourceTables are the tables of the sources, by source.
var sourceTables = [nSources]string{TableVersions, TableAccess, TableListVersions, TableFeedback, TableChecks, TableSubjects}

// scanClaims runs the scan of source k, calling fn with the claim of every
// row, made with a claimer of the scan's own.
func scanClaims(ctx context.Context, st Store, k int, fn func(claim) error) error {
	m := new(claimer)
	switch k {
	case versionRows:
		return st.ScanVersions(ctx, func(v *record.Version) error { return fn(m.version(v)) })
	case accessRows:
		return st.ScanAccess(ctx, func(e *access.Event) error { return fn(m.event(e)) })
	case listRows:
		return st.ScanListVersions(ctx, func(v *ListVersion) error { return fn(m.list(v)) })
	case feedbackRows:
		return st.ScanFeedback(ctx, func(f *measure.Feedback) error { return fn(m.feedback(f)) })
	case checkRows:
		return st.ScanChecks(ctx, func(c *measure.Check) error { return fn(m.check(c)) })
	case subjectRows:
		return st.ScanSubjects(ctx, func(sj *record.SealedSubject) error { return fn(m.subject(sj)) })
	}
	panic(fmt.Sprintf("verify: no source %d", k))
}

// close stops every scan and collects their errors.
func (w *walker) close() {
	w.leaves.Stop()
	w.hashes.Stop()
	w.cps.Stop()
	w.err = errors.Join(w.err, w.leaves.Err(), w.hashes.Err(), w.cps.Err())
	for k := range w.rows {
		w.rows[k].c.Stop()
		w.err = errors.Join(w.err, w.rows[k].c.Err())
	}
}

// failed reports whether a scan ended with an error; from then on nothing
// more is checked.
func (w *walker) failed() bool {
	failed := w.leaves.failed() || w.hashes.failed() || w.cps.failed()
	for k := range w.rows {
		failed = failed || w.rows[k].c.failed()
	}
	return failed
}

// walk checks every leaf in order, then what claims leaves beyond the last.
func (w *walker) walk() {
	var i int64
	for w.leaves.ok {
		if w.failed() {
			return
		}
		idx := w.leaves.cur.idx
		if idx < i { // a negative index: the sequence starts at 0
			w.emit(Problem{Inserted, TableLeaves, itoa(idx), "the leaf is outside the sequence from 0"})
			w.leaves.advance()
			continue
		}
		if idx > i {
			w.missingLeaves(i, idx)
			i = idx
		}
		w.checkpointsUpTo(i)
		if !w.leaves.cur.named {
			// The dispatcher reads what to push from these columns.
			w.emit(Problem{Changed, TableLeaves, itoa(i), "the kind or event_id column beside the leaf differs from the leaf's own"})
		}
		w.leaf(i, w.leaves.cur.data)
		w.leafCount++
		w.leaves.advance()
		i++
	}
	if w.failed() {
		return
	}
	w.total = i
	w.checkpointsUpTo(i)
	w.tail()
	w.missing.flush(w.emit)
}

// leaf checks leaf i against the rows that claim it and the stored tree
// hashes, and appends it to the tree.
func (w *walker) leaf(i int64, data []byte) {
	w.claims = w.claims[:0]
	for k := range w.rows {
		w.claims = w.rows[k].claimsAt(i, w.emit, w.claims)
	}
	claimed := w.claims
	s0idx := tlog.StoredHashIndex(0, i)
	s0, haveS0 := w.storedAt(s0idx, i)
	h := tlog.RecordHash(data)
	// A leaf whose hash differs from the tree's stored leaf hash was
	// changed, or the stored hash was; the row the leaf commits to tells
	// which.
	forged := haveS0 && h != s0
	feed := h

	// The primary claim is a row of the leaf's kind, the first that
	// matches the leaf when one does, whatever order the rows claiming the
	// same leaf were read in; every other row claiming the leaf was
	// inserted (a copied row, or one moved onto the leaf).
	var primary *claim
	var l ledger.Leaf
	var lerr error
	if len(claimed) != 1 { // only when the rows do not settle it: one row is the common case, kept off the parse
		l, lerr = ledger.ParseLeaf(data)
	}
	switch {
	case len(claimed) == 1:
		primary = &claimed[0]
	case len(claimed) > 1 && lerr == nil:
		for j := range claimed {
			c := &claimed[j]
			if c.kind != l.Kind {
				continue
			}
			if primary == nil || c.id == l.ID && primary.id != l.ID { // the row of the leaf's event, when none matches
				primary = c
			}
			if v, _ := c.check(data, w.now, &w.buf); v != mismatch {
				primary = c
				break
			}
		}
	}

	if primary == nil {
		switch {
		case lerr != nil:
			w.emit(Problem{Changed, TableLeaves, itoa(i), "the leaf does not parse: " + lerr.Error()})
			if forged {
				feed = s0
			}
		case forged:
			w.emit(Problem{Changed, TableLeaves, itoa(i), fmt.Sprintf("the leaf (%s %s) differs from the tree's stored hash of it, and no row claims it", l.Kind, l.ID)})
			feed = s0
		default:
			w.orphan(i, l, data)
		}
	} else {
		verdict, why := primary.check(data, w.now, &w.buf)
		switch {
		case verdict == match && forged:
			w.emit(Problem{Tree, TableHashes, itoa(s0idx), fmt.Sprintf("the stored hash of leaf %d differs from the leaf's hash, and the leaf matches its row %s %s", i, primary.table, primary.id)})
		case verdict == match:
		case verdict == erased:
			w.emit(Problem{Erased, primary.table, primary.id, fmt.Sprintf("its salt and content were erased at the end of retention: leaf %d is kept, its kind, id and time match", i)})
			if forged {
				w.emit(Problem{Tree, TableHashes, itoa(s0idx), fmt.Sprintf("the stored hash of leaf %d differs from the leaf's hash (its row %s %s is erased, so the checkpoints tell which changed)", i, primary.table, primary.id)})
			}
		case forged:
			w.emit(Problem{Changed, TableLeaves, itoa(i), fmt.Sprintf("the leaf differs from the tree's stored hash of it and from its row %s %s", primary.table, primary.id)})
			feed = s0
		default:
			p := Problem{Changed, primary.table, primary.id, fmt.Sprintf("the row no longer matches its leaf %d: it was changed after it was committed%s", i, why)}
			if len(claimed) == 1 { // parsed only now: a mismatch is rare
				l, lerr = ledger.ParseLeaf(data)
			}
			if lerr == nil && (l.Kind != primary.kind || l.ID != primary.id) {
				// The leaf is another event's, and no row of that event
				// claims it (it would be the primary).
				w.misclaimed(primary, l, p)
				w.orphan(i, l, data)
			} else {
				w.emit(p)
			}
		}
	}
	if len(claimed) > 1 && lerr != nil {
		// The leaf does not parse (reported above): which row is its own
		// cannot be told; every row after the first claims it as well.
		for _, c := range claimed[1:] {
			w.emit(Problem{Inserted, c.table, c.id, fmt.Sprintf("the row claims leaf %d, which another row claims", i)})
		}
	}
	if len(claimed) > 1 && lerr == nil {
		for j := range claimed {
			c := &claimed[j]
			var p Problem
			switch {
			case c == primary:
				continue
			case primary != nil && c.table == primary.table:
				how := "this one does not match it"
				if v, _ := c.check(data, w.now, &w.buf); v != mismatch {
					how = "both match it: the row appears twice"
				}
				p = Problem{Inserted, c.table, c.id, fmt.Sprintf("leaf %d is claimed by two rows of %s, %s and %s: %s", i, c.table, primary.id, c.id, how)}
			default:
				p = Problem{Inserted, c.table, c.id, fmt.Sprintf("the row claims leaf %d, which commits to another event (%s %s)", i, l.Kind, l.ID)}
			}
			if c.kind != l.Kind || c.id != l.ID {
				w.misclaimed(c, l, p)
			} else {
				w.emit(p) // a second row of the leaf's own event
			}
		}
	}
	w.append(i, feed)
}

// orphan reports leaf i, which no row claims: after the walk, once the row
// it names is looked up, or at once, as a deleted row, when too many are
// kept already.
func (w *walker) orphan(i int64, l ledger.Leaf, data []byte) {
	if len(w.orphans) < maxOrphans {
		w.orphans = append(w.orphans, orphan{idx: i, leaf: l, data: data})
		return
	}
	w.emit(deletedRow(i, l))
}

// misclaimed reports row c, which claims a leaf of event l, as p unless
// it turns out to have been moved there (resolveOrphans): after the walk,
// or at once when too many are kept already.
func (w *walker) misclaimed(c *claim, l ledger.Leaf, p Problem) {
	if len(w.misclaims) < maxMisclaims {
		w.misclaims = append(w.misclaims, misclaim{row: *c, kind: l.Kind, id: l.ID, p: p})
		return
	}
	w.emit(p)
}

func deletedRow(i int64, l ledger.Leaf) Problem {
	return Problem{Deleted, tableOf(l.Kind), l.ID, fmt.Sprintf("leaf %d commits to it (%s at %s), but the row is gone", i, l.Kind, l.At.Format(time.RFC3339Nano))}
}

// resolveOrphans reports the leaves no row claimed, and the rows that
// claim another event's leaf. Each orphan names its event: when that
// event's row claims another event's leaf (a misclaim), the row's leaf
// index was changed, and the two are one problem; when no row of the
// event is there, the row was deleted; when one is, claiming another leaf
// of its own event, the leaf is a second leaf of the event (a copy when
// the row commits to its very bytes); when one is, claiming no leaf or
// one past the log, the row's leaf index was changed. A misclaim no orphan
// names is reported as the walk found it. The walk keeps no row behind it
// but the misclaims, so the tables of the other orphans' events are read
// again, from the same snapshot, each once.
func (w *walker) resolveOrphans(ctx context.Context, st Store) error {
	misclaiming := map[[2]string]int{} // table and id of a misclaiming row (a row claims one leaf) -> its misclaim
	for j, m := range w.misclaims {
		misclaiming[[2]string{m.row.table, m.row.id}] = j
	}
	for j := range w.orphans {
		o := &w.orphans[j]
		m, ok := misclaiming[[2]string{tableOf(o.leaf.Kind), o.leaf.ID}]
		if !ok || w.misclaims[m].moved {
			continue
		}
		o.moved = &w.misclaims[m]
		o.moved.moved = true
		o.row = &o.moved.row
		v, why := o.row.check(o.data, w.now, &w.buf)
		o.same, o.why = v != mismatch, why
	}
	if err := w.lookUpOrphans(ctx, st); err != nil {
		return err
	}
	for _, o := range w.orphans {
		r, l := o.row, o.leaf
		switch {
		case o.moved != nil:
			msg := fmt.Sprintf("its leaf index was changed: its event's leaf is %d, the row claims leaf %d (which commits to %s %s)", o.idx, r.leaf, o.moved.kind, o.moved.id)
			if !o.same {
				msg += fmt.Sprintf(", and the row no longer matches leaf %d either: it was changed after it was committed%s", o.idx, o.why)
			}
			w.emit(Problem{Changed, r.table, r.id, msg})
		case r == nil:
			w.emit(deletedRow(o.idx, l))
		case r.leaf >= 0 && r.leaf < w.total && o.same:
			w.emit(Problem{Inserted, TableLeaves, itoa(o.idx), fmt.Sprintf("the event appears twice in the log: leaf %d repeats %s %s (at %s), whose row %s %s claims leaf %d",
				o.idx, l.Kind, l.ID, l.At.Format(time.RFC3339Nano), r.table, r.id, r.leaf)})
		case r.leaf >= 0 && r.leaf < w.total:
			w.emit(Problem{Inserted, TableLeaves, itoa(o.idx), fmt.Sprintf("leaf %d names %s %s (%s at %s), whose row claims leaf %d and does not commit to this one",
				o.idx, r.table, r.id, l.Kind, l.At.Format(time.RFC3339Nano), r.leaf)})
		default:
			claims := "no leaf"
			if r.leaf != -1 {
				claims = fmt.Sprintf("leaf %d, which does not exist", r.leaf)
			}
			w.emit(Problem{Changed, r.table, r.id, fmt.Sprintf("leaf %d commits to the row's event (%s at %s), but the row claims %s: its leaf index was changed", o.idx, l.Kind, l.At.Format(time.RFC3339Nano), claims)})
		}
	}
	for _, m := range w.misclaims {
		if !m.moved {
			w.emit(m.p)
		}
	}
	return nil
}

// lookUpOrphans finds the row of each orphan's event that is not known
// yet, reading the tables of their events again, each once.
func (w *walker) lookUpOrphans(ctx context.Context, st Store) error {
	for k := range nSources {
		want := map[string][]int{} // event id -> orphans naming it
		for j, o := range w.orphans {
			if o.row == nil && tableOf(o.leaf.Kind) == sourceTables[k] {
				want[o.leaf.ID] = append(want[o.leaf.ID], j)
			}
		}
		if len(want) == 0 {
			continue
		}
		err := scanClaims(ctx, st, k, func(c claim) error {
			js, ok := want[c.id]
			if !ok {
				return nil
			}
			row := c // only the rows wanted are kept: c itself stays on the stack
			for _, j := range js {
				o := &w.orphans[j]
				if o.row == nil || o.row.leaf < 0 && c.leaf >= 0 { // prefer a row that claims a leaf
					o.row = &row
					v, _ := c.check(o.data, w.now, &w.buf) // the walk is done with w.buf
					o.same = v != mismatch
				}
			}
			if c.leaf >= 0 {
				if delete(want, c.id); len(want) == 0 {
					return errStop
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return err
		}
	}
	return nil
}

// names reports whether leaf data names the kind and event id given: the
// leaf encoding's second and third lines (ledger.Leaf.Encode).
func names(data, kind, eventID []byte) bool {
	rest, ok := bytes.CutPrefix(data, leafHeader)
	for _, want := range [][]byte{kind, eventID} {
		if !ok {
			return false
		}
		if rest, ok = bytes.CutPrefix(rest, want); ok && len(rest) > 0 && rest[0] == '\n' {
			rest = rest[1:]
		} else {
			ok = false
		}
	}
	return ok
}

var leafHeader = []byte(ledger.LeafVersion + "\n")

// integrated reports whether the leaf being walked is below a stored
// checkpoint, so that its stored hashes must exist. The checkpoints of
// size at most its index have been walked past: any left covers it.
func (w *walker) integrated() bool { return w.cps.ok }

// storedAt returns the stored hash at index idx, which belongs to leaf i;
// ok is false when there is none. A missing hash of an integrated leaf is
// reported.
func (w *walker) storedAt(idx, i int64) (tlog.Hash, bool) {
	for w.hashes.ok && w.hashes.cur.idx < idx {
		w.hashes.advance() // hashes of leaves the tree skipped
	}
	if w.hashes.ok && w.hashes.cur.idx == idx {
		r := w.hashes.cur
		w.hashes.advance()
		w.missing.flush(w.emit)
		if idx == tlog.StoredHashIndex(0, i) {
			w.lastHashed = i
		}
		if !r.valid {
			// Not 32 bytes: it can match nothing.
			return tlog.Hash{0xff, 0xff, 0xff, 0xff}, true
		}
		return r.hash, true
	}
	if w.integrated() {
		w.missing.add(idx, w.emit)
	}
	return tlog.Hash{}, false
}

// append appends leaf hash h as leaf i and compares the tree hashes it
// completes with the stored ones.
func (w *walker) append(i int64, h tlog.Hash) {
	if w.gap >= 0 {
		return
	}
	hs := w.tree.AppendStored(h)
	base := tlog.StoredHashCount(i)
	for k := 1; k < len(hs); k++ {
		idx := base + int64(k)
		s, ok := w.storedAt(idx, i)
		if ok && s != hs[k] {
			w.emit(Problem{Tree, TableHashes, itoa(idx), fmt.Sprintf("the stored hash (level %d, completed by leaf %d) differs from the hash recomputed from the leaves", k, i)})
		}
	}
}

// missingLeaves handles the leaves from to to-1 that are not in the table.
func (w *walker) missingLeaves(from, to int64) {
	for k := from; k < to && w.gap < 0; k++ {
		w.checkpointsUpTo(k)
		// The tree goes on with the stored hash when there is one, so
		// that the checkpoints after a deleted leaf are still checked.
		s0, ok := w.storedAt(tlog.StoredHashIndex(0, k), k)
		if !ok {
			w.gap = k
			break
		}
		w.append(k, s0)
	}
	claimed := int64(0)
	for k := range w.rows {
		s := &w.rows[k]
		s.at(from, w.emit)
		for ; s.c.ok && s.c.cur.leaf >= 0 && s.c.cur.leaf < to; s.next() {
			w.emit(Problem{Deleted, TableLeaves, itoa(s.c.cur.leaf), fmt.Sprintf("the leaf is missing; its row %s %s remains", s.c.cur.table, s.c.cur.id)})
			claimed++
		}
	}
	if unclaimed := to - from - claimed; unclaimed > 0 {
		w.emit(Problem{Deleted, TableLeaves, itoa(from), fmt.Sprintf("leaves %d to %d are missing (%d of them claimed by no row)", from, to-1, unclaimed)})
	}
}

// checkpointsUpTo checks the checkpoints of size at most n; the tree has n
// leaves.
func (w *walker) checkpointsUpTo(n int64) {
	for w.cps.ok && w.cps.cur.size <= n {
		w.checkpoint(w.cps.cur.size, w.cps.cur.signed, true)
		w.cps.advance()
	}
}

// checkpoint checks one stored checkpoint: its signature, and when the
// tree is at its size, its root.
func (w *walker) checkpoint(size int64, signed []byte, atSize bool) {
	w.cpCount++
	w.newest = max(w.newest, size)
	id := itoa(size)
	c, err := ledger.OpenCheckpoint(signed, w.vkey)
	if err != nil {
		w.emit(Problem{Checkpoint, TableCheckpoints, id, "the signed checkpoint does not verify: " + err.Error()})
		return
	}
	if c.Size != size {
		w.emit(Problem{Checkpoint, TableCheckpoints, id, fmt.Sprintf("the signed checkpoint is of size %d, stored as size %d", c.Size, size)})
		return
	}
	if !atSize {
		return
	}
	if w.gap >= 0 {
		if !w.gapNoticed {
			w.gapNoticed = true
			w.emit(Problem{Checkpoint, TableCheckpoints, id, fmt.Sprintf("root not checked, nor any after it: leaf %d is missing and has no stored hash, so the tree cannot be recomputed", w.gap)})
		}
		return
	}
	if root := w.tree.Root(); root != c.Root || w.tree.Size() != size {
		w.emit(Problem{Checkpoint, TableCheckpoints, id, fmt.Sprintf("the signed root is %s, the leaves give %s", b64(c.Root), b64(root))})
	}
}

// tail handles what claims leaves at or beyond the last: checkpoints
// covering missing leaves, rows whose leaves are missing or never existed,
// rows with no leaf, stored hashes with no leaf, and hashes with no
// checkpoint.
func (w *walker) tail() {
	covered := w.total
	for w.cps.ok {
		w.checkpoint(w.cps.cur.size, w.cps.cur.signed, false)
		covered = max(covered, w.cps.cur.size)
		w.cps.advance()
	}
	if covered > w.total {
		w.emit(Problem{Deleted, TableLeaves, itoa(w.total), fmt.Sprintf("leaves %d to %d are missing: the checkpoint of size %d covers them", w.total, covered-1, covered)})
	}
	for k := range w.rows {
		for s := &w.rows[k]; s.c.ok; s.next() {
			c := &s.c.cur
			switch {
			case c.leaf < 0:
				w.emit(Problem{Inserted, c.table, c.id, noLeaf(c.leaf)})
			case c.leaf < covered:
				w.emit(Problem{Deleted, TableLeaves, itoa(c.leaf), fmt.Sprintf("the leaf is missing; its row %s %s remains", c.table, c.id)})
			default:
				w.emit(Problem{Inserted, c.table, c.id, noLeaf(c.leaf)})
			}
		}
	}
	if w.hashes.ok && w.gap < 0 {
		first, n := w.hashes.cur.idx, 0
		for ; w.hashes.ok; w.hashes.advance() {
			n++
		}
		w.emit(Problem{Tree, TableHashes, itoa(first), fmt.Sprintf("%d stored hashes from index %d on belong to no leaf", n, first)})
	}
	if w.lastHashed+1 > w.newest {
		w.emit(Problem{Deleted, TableCheckpoints, itoa(w.lastHashed + 1), fmt.Sprintf("the stored hashes cover %d leaves, but the newest checkpoint has size %d: a checkpoint was deleted", w.lastHashed+1, w.newest)})
	}
}

// span collects consecutive missing stored-hash indexes, to report a run
// of them as one problem.
type span struct{ start, end int64 }

func (s *span) add(idx int64, emit func(Problem)) {
	if s.end > s.start && idx == s.end {
		s.end++
		return
	}
	s.flush(emit)
	s.start, s.end = idx, idx+1
}

func (s *span) flush(emit func(Problem)) {
	switch n := s.end - s.start; {
	case n == 1:
		emit(Problem{Deleted, TableHashes, itoa(s.start), "the stored hash is missing"})
	case n > 1:
		emit(Problem{Deleted, TableHashes, itoa(s.start), fmt.Sprintf("stored hashes %d to %d are missing", s.start, s.end-1)})
	}
	s.start, s.end = 0, 0
}
