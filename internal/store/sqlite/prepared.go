package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements. The driver parses every statement it is given anew,
// and parsing costs more than running the small statements of a check, an
// access event or a lookup. Each database handle therefore keeps the
// statements it runs prepared (database/sql prepares them on each
// connection as needed) and runs them from there.
//
// The writer has a single connection, held for the whole of a transaction:
// a statement first met inside a transaction cannot be prepared there
// without a second connection. It runs unprepared that once and is
// prepared when the transaction has ended.

// maxPrepared bounds the statements kept per handle; statements beyond it
// run unprepared.
const maxPrepared = 256

type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // met inside a writer transaction, prepared after it
}

// get returns the prepared statement for q, preparing it now when it is new.
// It returns nil when q cannot be prepared; the caller then runs q itself
// and gets the error there.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	st, full := c.stmts[q], len(c.stmts) >= maxPrepared
	c.mu.Unlock()
	if st != nil || full {
		return st
	}
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		return nil
	}
	return c.keep(q, st)
}

// lookup returns the prepared statement for q, or nil after noting q to be
// prepared by preparePending.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stmts[q]
	if st == nil && !c.pending[q] && len(c.stmts)+len(c.pending) < maxPrepared {
		if c.pending == nil {
			c.pending = map[string]bool{}
		}
		c.pending[q] = true
	}
	return st
}

// preparePending prepares the statements lookup noted. The caller MUST NOT
// hold the writer's connection.
func (c *stmtCache) preparePending() {
	c.mu.Lock()
	qs := c.pending
	c.pending = nil
	c.mu.Unlock()
	for q := range qs {
		c.get(context.Background(), q)
	}
}

func (c *stmtCache) keep(q string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if have := c.stmts[q]; have != nil {
		st.Close()
		return have
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// preparedDB is a database handle whose queries run prepared.
type preparedDB struct {
	*sql.DB
	cache stmtCache
}

func newPreparedDB(db *sql.DB) *preparedDB {
	return &preparedDB{DB: db, cache: stmtCache{db: db}}
}

func (d *preparedDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := d.cache.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, q, args...)
}

func (d *preparedDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := d.cache.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, q, args...)
}

func (d *preparedDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := d.cache.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.DB.ExecContext(ctx, q, args...)
}

func (d *preparedDB) Close() error {
	d.cache.close()
	return d.DB.Close()
}

// txn is a write transaction whose statements run prepared.
type txn struct {
	*sql.Tx
	cache    *stmtCache
	appender *leafAppender // the transaction's ledger leaves, once one is appended
}

func (t *txn) stmt(ctx context.Context, q string) *sql.Stmt {
	if st := t.cache.lookup(q); st != nil {
		return t.Tx.StmtContext(ctx, st)
	}
	return nil
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// PrepareContext returns q prepared for this transaction.
func (t *txn) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st, nil
	}
	return t.Tx.PrepareContext(ctx, q)
}
