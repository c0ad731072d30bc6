package sqlite

import (
	"context"
	"time"
)

// Group commit. SQLite has one writer, and a commit costs far more than the
// small inserts of an access event or a check. Concurrent small writes are
// therefore queued and run together in one transaction; every caller waits
// until the transaction holding its write has committed, so an acknowledged
// write is durable exactly as with its own transaction. When one write of a
// group fails, the group's transaction is rolled back and each of its writes
// runs again in a transaction of its own, so that the failure stays with
// the write that caused it.

type groupWrite struct {
	ctx  context.Context
	fn   func(context.Context, *txn) error
	done chan error
}

// maxGroup bounds the writes committed together, and groupWindow the time
// the first write of a group waits for others to join it. Without a window
// the writer commits as soon as one write is queued: under load the
// commits stay small and each rewrites the same tail pages of the tables
// and indexes. A write that comes alone, after a group of one, does not
// wait: there is no load to wait for.
const (
	maxGroup    = 256
	groupWindow = 500 * time.Microsecond
)

// grouped runs fn in a write transaction shared with other concurrent
// grouped writes.
func (s *Store) grouped(ctx context.Context, fn func(context.Context, *txn) error) error {
	if err := ctx.Err(); err != nil {
		return translate(err)
	}
	w := groupWrite{ctx: context.WithoutCancel(ctx), fn: fn, done: make(chan error, 1)}
	s.startGroup.Do(func() { s.writes = make(chan groupWrite, maxGroup); go s.groupLoop() })
	select {
	case s.writes <- w:
	case <-ctx.Done():
		return translate(ctx.Err())
	}
	return <-w.done // once queued, the write is committed or fails; wait either way
}

func (s *Store) groupLoop() {
	window := time.NewTimer(groupWindow)
	busy := false // the last group held more than one write
	for w := range s.writes {
		batch := []groupWrite{w}
		if busy || len(s.writes) > 0 { // under load: let a group form
			window.Reset(groupWindow)
			batch = s.fill(batch, window.C)
		}
		busy = len(batch) > 1
		s.commitGroup(batch)
	}
}

// fill adds the writes that come until closed fires to batch.
func (s *Store) fill(batch []groupWrite, closed <-chan time.Time) []groupWrite {
	for len(batch) < maxGroup {
		select {
		case w, ok := <-s.writes:
			if !ok {
				return batch
			}
			batch = append(batch, w)
		case <-closed:
			return batch
		}
	}
	return batch
}

func (s *Store) commitGroup(batch []groupWrite) {
	err := s.tx(context.Background(), func(ctx context.Context, tx *txn) error {
		for _, w := range batch {
			if err := w.fn(w.ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, w := range batch {
			w.done <- s.tx(w.ctx, w.fn)
		}
		return
	}
	for _, w := range batch {
		w.done <- err
	}
}
