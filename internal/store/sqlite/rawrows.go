package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	zs "zombiezen.com/go/sqlite"

	"pubcredit/internal/errs"
)

// Verification reads every row of the log and of the tables its leaves
// commit to. Through database/sql and the modernc.org/sqlite driver a row
// costs three to four times the CPU it costs read with zombiezen.com/go/sqlite,
// the direct API over the same SQLite (modernc.org/sqlite/lib): the driver
// converts and allocates every value and takes the connection's mutex for
// every call. verify reads below database/sql; the platform's own queries,
// which are few rows each, stay on database/sql.

// rawConn is a read-only connection of the direct API. mu is nil when one
// goroutine uses the connection; when several share it (a database that
// cannot be locked for writing is read on one connection), mu serializes
// every call on it: preparing, a row from Next to the end of Scan, and
// finalizing (the connection is opened without SQLite's own mutex).
type rawConn struct {
	conn *zs.Conn
	mu   *sync.Mutex
}

// openRaw opens a read-only connection to the database at path that waits
// up to busy for a lock and stops reading when ctx ends; immutable reads it
// without locks (no process may have it open).
func openRaw(ctx context.Context, path string, busy time.Duration, immutable bool) (*rawConn, error) {
	flags := zs.OpenReadOnly | zs.OpenNoMutex
	if immutable {
		flags |= zs.OpenURI
		path = "file:" + url.PathEscape(path) + "?immutable=1"
	}
	c, err := zs.OpenConn(path, flags)
	if err != nil {
		return nil, translateRaw(err)
	}
	c.SetBusyTimeout(busy)
	c.SetInterrupt(ctx.Done())
	return &rawConn{conn: c}, nil
}

// lock takes the connection's lock when it is shared, and returns its
// release.
func (c *rawConn) lock() func() {
	if c.mu == nil {
		return func() {}
	}
	c.mu.Lock()
	return c.mu.Unlock
}

// exec runs a statement that returns no rows needed.
func (c *rawConn) exec(query string) error {
	defer c.lock()()
	s, _, err := c.conn.PrepareTransient(query)
	if err != nil {
		return translateRaw(err)
	}
	defer s.Finalize()
	for {
		more, err := s.Step()
		if err != nil {
			return translateRaw(err)
		}
		if !more {
			return nil
		}
	}
}

// query prepares query and returns its rows.
func (c *rawConn) query(query string) (*rawRows, error) {
	defer c.lock()()
	s, _, err := c.conn.PrepareTransient(query)
	if err != nil {
		return nil, translateRaw(err)
	}
	return &rawRows{stmt: s, mu: c.mu}, nil
}

// queryKept runs query as a statement the connection keeps prepared, with
// the blobs args bound to ?1, ?2...
func (c *rawConn) queryKept(query string, args ...[]byte) (*rawRows, error) {
	defer c.lock()()
	s, err := c.conn.Prepare(query)
	if err != nil {
		return nil, translateRaw(err)
	}
	for i, a := range args {
		s.BindBytes(i+1, a)
	}
	return &rawRows{stmt: s, mu: c.mu, kept: true}, nil
}

// rawRows reads a statement's rows the way *sql.Rows does (Next, Scan, Err,
// Close), so that the same scanning code serves both. Values scanned into
// *sql.RawBytes stay valid until the next call of Next.
type rawRows struct {
	stmt   *zs.Stmt
	kept   bool // the connection keeps the statement prepared: reset it, do not finalize it
	mu     *sync.Mutex
	locked bool
	err    error
	raw    [][]byte // per column, the buffers of RawBytes values
}

// Next steps to the next row. When the connection is shared, the row is
// read under its lock, from Next to the end of Scan.
func (r *rawRows) Next() bool {
	if r.err != nil {
		return false
	}
	r.lock()
	more, err := r.stmt.Step()
	if err != nil || !more {
		r.err = translateRaw(err)
		r.unlock()
		return false
	}
	return true
}

// lock takes the shared connection's lock, unless the rows hold it.
func (r *rawRows) lock() {
	if r.mu != nil && !r.locked {
		r.mu.Lock()
		r.locked = true
	}
}

func (r *rawRows) unlock() {
	if r.locked {
		r.locked = false
		r.mu.Unlock()
	}
}

// Scan copies the current row's columns into dest: *string, *int, *int64,
// *bool, *[]byte (nil for NULL), *sql.RawBytes (nil for NULL) and
// *sql.NullString.
func (r *rawRows) Scan(dest ...any) error {
	defer r.unlock()
	if n := r.stmt.ColumnCount(); len(dest) != n {
		return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), n)
	}
	for i, d := range dest {
		null := r.stmt.ColumnType(i) == zs.TypeNull
		switch d := d.(type) {
		case *string:
			*d = r.stmt.ColumnText(i)
		case *int:
			*d = int(r.stmt.ColumnInt64(i))
		case *int64:
			*d = r.stmt.ColumnInt64(i)
		case *bool:
			*d = r.stmt.ColumnInt64(i) != 0
		case *[]byte:
			*d = nil
			if !null {
				*d = make([]byte, r.stmt.ColumnLen(i))
				r.stmt.ColumnBytes(i, *d)
			}
		case *sql.RawBytes:
			*d = nil
			if !null {
				for len(r.raw) <= i {
					r.raw = append(r.raw, nil)
				}
				n := r.stmt.ColumnLen(i)
				if cap(r.raw[i]) < n {
					r.raw[i] = make([]byte, n, max(n, 2*cap(r.raw[i])))
				}
				*d = r.raw[i][:n:n]
				r.stmt.ColumnBytes(i, *d)
			}
		case *sql.NullString:
			d.Valid = !null
			d.String = r.stmt.ColumnText(i)
		default:
			return fmt.Errorf("sqlite: cannot scan column %d into %T", i, d)
		}
	}
	return nil
}

// Err returns the error that ended the rows, if any.
func (r *rawRows) Err() error { return r.err }

// Close finalizes the statement, or resets a kept one.
func (r *rawRows) Close() error {
	r.lock()
	defer r.unlock()
	if r.kept {
		return translateRaw(errors.Join(r.stmt.Reset(), r.stmt.ClearBindings()))
	}
	return translateRaw(r.stmt.Finalize())
}

// A rawPool keeps up to its size of read connections of the direct API for
// the platform's hottest read (Standing, a check's facts), each used by one
// goroutine at a time: opening one costs more than many reads, so a read
// waits for one to be free rather than open another.
type rawPool struct {
	path  string
	idle  chan *rawConn
	slots chan struct{} // one for each connection open
}

func newRawPool(path string, size int) *rawPool {
	return &rawPool{path: path, idle: make(chan *rawConn, size), slots: make(chan struct{}, size)}
}

// get returns an idle connection, opens one while fewer than the pool's
// size are open, or waits for one.
func (p *rawPool) get(ctx context.Context) (*rawConn, error) {
	select {
	case c := <-p.idle:
		return c, nil
	default:
	}
	select {
	case c := <-p.idle:
		return c, nil
	case p.slots <- struct{}{}:
		c, err := openRaw(context.Background(), p.path, 10*time.Second, false)
		if err != nil {
			<-p.slots
		}
		return c, err
	case <-ctx.Done():
		return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "the request was cancelled")
	}
}

// put returns c to the pool.
func (p *rawPool) put(c *rawConn) { p.idle <- c }

// close closes the idle connections.
func (p *rawPool) close() {
	for {
		select {
		case c := <-p.idle:
			c.conn.Close()
		default:
			return
		}
	}
}

// translateRaw turns an error of the direct API into one of the store's
// kinds, as translate does for the driver's.
func translateRaw(err error) error {
	if err == nil {
		return nil
	}
	switch zs.ErrCode(err).ToPrimary() {
	case zs.ResultBusy, zs.ResultLocked:
		return errs.Wrap(errs.Unavailable, err, "the database is busy; retry")
	case zs.ResultInterrupt:
		return errs.Wrap(errs.Unavailable, err, "the request was cancelled")
	}
	return errs.Wrap(errs.Internal, err, "database error")
}
