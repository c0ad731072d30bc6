package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
)

// Store keeps the log. Leaves are appended by the stores of the events they
// commit to, in the same transaction as the event; the Store here reads them
// and keeps the tree hashes and checkpoints.
type Store interface {
	// LeafCount returns the number of leaves appended (committed).
	LeafCount(ctx context.Context) (int64, error)
	// Leaves returns the leaf bytes with start <= index < end, in order.
	// It MUST return exactly end-start leaves or an error.
	Leaves(ctx context.Context, start, end int64) ([][]byte, error)
	// ReadHashes returns the stored hashes at the tlog stored-hash indexes,
	// in order. It MUST return a slice of the same length as indexes or an error.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// Integrate stores the hashes of leaves [from, to) (tlog stored-hash
	// indexes StoredHashCount(from) onward, in order) and the signed
	// checkpoint of size to, atomically. It returns Conflict when the newest
	// checkpoint's size is not from (another integrator got there first).
	Integrate(ctx context.Context, from, to int64, hashes []tlog.Hash, signed []byte, at time.Time) error
	// LatestCheckpoint returns the newest signed checkpoint and its size.
	// Returns NotFound when there is none yet.
	LatestCheckpoint(ctx context.Context) (signed []byte, size int64, err error)
}

// Log integrates appended leaves into the tree, signs checkpoints, and
// answers proofs.
type Log struct {
	Store  Store
	Signer *Signer
	Clock  clock.Clock
	// Batch bounds the leaves integrated per transaction.
	Batch int
}

// hashReader reads stored hashes from the store, or from hashes just
// computed but not stored yet.
type hashReader struct {
	ctx     context.Context
	store   Store
	pending map[int64]tlog.Hash
}

func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for i, ix := range indexes {
		if h, ok := r.pending[ix]; ok {
			out[i] = h
		} else {
			missing = append(missing, ix)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := r.store.ReadHashes(r.ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(got) != len(missing) {
		return nil, errs.E(errs.Internal, "ledger: %d hashes for %d indexes", len(got), len(missing))
	}
	j := 0
	for i, ix := range indexes {
		if _, ok := r.pending[ix]; !ok {
			out[i] = got[j]
			j++
		}
	}
	return out, nil
}

// Reader returns a tlog.HashReader over the stored hashes.
func (l *Log) Reader(ctx context.Context) tlog.HashReader {
	return hashReader{ctx: ctx, store: l.Store}
}

// CheckSigner fails when the newest stored checkpoint was not signed by the
// log's signer (another origin, or another key): a server signing on would
// continue the log's history under a second name, and no verifier could
// follow it. An empty log has no signer yet.
func (l *Log) CheckSigner(ctx context.Context) error {
	signed, _, err := l.Store.LatestCheckpoint(ctx)
	if errors.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := OpenCheckpoint(signed, l.Signer.VerifierKey()); err != nil {
		origin := "(unreadable)"
		if text, _, ok := bytes.Cut(signed, []byte("\n\n")); ok {
			if c, err := ParseCheckpointBody(append(text, '\n')); err == nil {
				origin = c.Origin
			}
		}
		return errs.E(errs.Invalid, "ledger: this database's log is signed as %q; this server would sign it as %q with key %s: start it with the ledger origin and the keyring the log began with",
			short(origin), l.Signer.origin, l.Signer.VerifierKey())
	}
	return nil
}

// Integrate extends the tree over every appended leaf not yet covered by a
// checkpoint and signs a new checkpoint, in batches. It returns the size of
// the newest checkpoint. Safe to run from several processes: a lost race is
// not an error.
func (l *Log) Integrate(ctx context.Context) (int64, error) {
	conflictAt := int64(-1) // the checkpoint size a store conflict was met at
	for {
		_, size, err := l.Store.LatestCheckpoint(ctx)
		first := errors.Is(err, errs.NotFound) // the empty log gets a checkpoint too
		if first {
			size, err = 0, nil
		}
		if err != nil {
			return 0, err
		}
		count, err := l.Store.LeafCount(ctx)
		if err != nil {
			return size, err
		}
		if count <= size && !first {
			return size, nil
		}
		to := min(count, size+int64(max(l.Batch, 1000)))
		leaves, err := l.Store.Leaves(ctx, size, to)
		if err != nil {
			return size, err
		}
		r := hashReader{ctx: ctx, store: l.Store, pending: map[int64]tlog.Hash{}}
		var hashes []tlog.Hash
		for i, data := range leaves {
			hs, err := tlog.StoredHashes(size+int64(i), data, r)
			if err != nil {
				return size, err
			}
			base := tlog.StoredHashCount(size + int64(i))
			for k, h := range hs {
				r.pending[base+int64(k)] = h
			}
			hashes = append(hashes, hs...)
		}
		root, err := tlog.TreeHash(to, r)
		if err != nil {
			return size, err
		}
		signed, err := l.Signer.SignCheckpoint(Checkpoint{Origin: l.Signer.Name(), Size: to, Root: root})
		if err != nil {
			return size, err
		}
		err = l.Store.Integrate(ctx, size, to, hashes, signed, l.Clock.Now().UTC())
		if errors.Is(err, errs.Conflict) && size != conflictAt {
			conflictAt = size
			continue // another integrator moved on; look again
		}
		if errors.Is(err, errs.Conflict) {
			// Nobody moved on: the tree is stored beyond the newest checkpoint.
			return size, fmt.Errorf("ledger: cannot integrate from checkpoint %d: tree hashes are stored beyond it and no other integrator moved on (a checkpoint row missing?); run pubcredit verify: %w", size, err)
		}
		if err != nil {
			return size, err
		}
		if to == count {
			return to, nil
		}
	}
}

// Run integrates every interval until ctx ends; errors are reported to
// report and retried.
func (l *Log) Run(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// The same error is reported again at most once a minute.
	var last string
	var lastAt time.Time
	for {
		if _, err := l.Integrate(ctx); err != nil && ctx.Err() == nil {
			if now := l.Clock.Now(); err.Error() != last || now.Sub(lastAt) >= time.Minute {
				report(err)
				last, lastAt = err.Error(), now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Latest returns the newest signed checkpoint and its size; NotFound before
// the first.
func (l *Log) Latest(ctx context.Context) ([]byte, int64, error) {
	return l.Store.LatestCheckpoint(ctx)
}

// integrated returns the newest checkpoint and its size; Unavailable before
// the first (the integrator makes one within a second of start).
func (l *Log) integrated(ctx context.Context) ([]byte, int64, error) {
	signed, size, err := l.Store.LatestCheckpoint(ctx)
	if errors.Is(err, errs.NotFound) {
		return nil, 0, errs.E(errs.Unavailable, "the ledger has no checkpoint yet; retry in a second")
	}
	return signed, size, err
}

// Inclusion proves that leaf index is in the tree of size leaves. A request
// the log cannot answer is Malformed, with a detail naming each field at
// fault ("index", "size") and why: size 0, size beyond the newest
// checkpoint, index not below size.
func (l *Log) Inclusion(ctx context.Context, index, size int64) (InclusionProof, error) {
	_, newest, err := l.integrated(ctx)
	if err != nil {
		return InclusionProof{}, err
	}
	if err := checkInclusion(index, size, newest); err != nil {
		return InclusionProof{}, err
	}
	return ProveInclusion(index, size, l.Reader(ctx))
}

// Consistency proves that the tree of from leaves is a prefix of the tree of
// to leaves, both within the newest checkpoint. A request the log cannot
// answer is Malformed, with a detail naming each field at fault ("from",
// "to") and why.
func (l *Log) Consistency(ctx context.Context, from, to int64) (ConsistencyProof, error) {
	_, newest, err := l.integrated(ctx)
	if err != nil {
		return ConsistencyProof{}, err
	}
	if err := checkConsistency(from, to, newest); err != nil {
		return ConsistencyProof{}, err
	}
	return ProveConsistency(from, to, l.Reader(ctx))
}

// checkInclusion names every problem of an inclusion proof request against
// a log whose newest checkpoint has size newest. The messages are for the
// caller.
func checkInclusion(index, size, newest int64) error {
	var p errs.Problems
	switch {
	case index < 0:
		p.Add("index", "range", "must be a non-negative whole number")
	case size >= 1 && index >= size:
		p.Add("index", "range", "must be below size (%d): the leaves of a tree of %d are numbered 0 to %d", size, size, size-1)
	}
	switch {
	case size < 1:
		p.Add("size", "range", "must be at least 1: the empty tree holds no leaf")
	case size > newest:
		p.Add("size", "beyond_checkpoint", "%d is beyond the newest checkpoint, of size %d", size, newest)
	}
	return proofRequestError("the inclusion proof request is not valid", p)
}

// checkConsistency names every problem of a consistency proof request
// against a log whose newest checkpoint has size newest.
func checkConsistency(from, to, newest int64) error {
	var p errs.Problems
	switch {
	case from < 1:
		p.Add("from", "range", "must be at least 1: every tree extends the empty tree, there is nothing to prove")
	case to >= 1 && from > to:
		p.Add("from", "range", "must not be after to (%d)", to)
	}
	switch {
	case to < 1:
		p.Add("to", "range", "must be at least 1")
	case to > newest:
		p.Add("to", "beyond_checkpoint", "%d is beyond the newest checkpoint, of size %d", to, newest)
	}
	return proofRequestError("the consistency proof request is not valid", p)
}

// proofRequestError is a request the log cannot answer: Malformed (400),
// like a parameter that is not a number, with every problem as a detail.
func proofRequestError(message string, p errs.Problems) error {
	if len(p) == 0 {
		return nil
	}
	return errs.FieldsOf(errs.Malformed, message+": "+p[0].Field+" "+p[0].Message, p...)
}

// Tile returns a hash tile or an entry bundle of the tree of the newest
// checkpoint (C2SP tlog-tiles). NotFound for a tile beyond it.
func (l *Log) Tile(ctx context.Context, t TilePath) ([]byte, error) {
	_, size, err := l.integrated(ctx)
	if err != nil {
		return nil, err
	}
	if !t.Entries {
		return HashTile(t, size, l.Reader(ctx))
	}
	if err := t.CheckSize(size); err != nil {
		return nil, err
	}
	start := t.Index * TileWidth
	leaves, err := l.Store.Leaves(ctx, start, start+int64(t.Width))
	if err != nil {
		return nil, err
	}
	return EntryBundle(leaves), nil
}

// Receipt builds the receipt of the leaf at index against the newest
// checkpoint. Unavailable while the leaf is not yet covered by a checkpoint
// (within a second of its commit).
func (l *Log) Receipt(ctx context.Context, index int64, inputs map[string]any) (Receipt, error) {
	signed, size, err := l.integrated(ctx)
	if err != nil {
		return Receipt{}, err
	}
	if index < 0 {
		return Receipt{}, errs.E(errs.NotFound, "this event is not in the ledger")
	}
	if index >= size {
		return Receipt{}, errs.E(errs.Unavailable, "the ledger has not yet covered leaf %d in a checkpoint; retry in a second", index)
	}
	leaves, err := l.Store.Leaves(ctx, index, index+1)
	if err != nil {
		return Receipt{}, err
	}
	proof, err := ProveInclusion(index, size, l.Reader(ctx))
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{Format: ReceiptVersion, Leaf: string(leaves[0]), Index: index, Inputs: inputs, Checkpoint: string(signed), Proof: proof}, nil
}
