package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
)

// checkpointStore is a Store whose newest checkpoint has size size, over the
// stored hashes of a test log; it only answers what proofs read.
type checkpointStore struct {
	hashes hashStore
	size   int64
}

func (s checkpointStore) LeafCount(ctx context.Context) (int64, error) { return s.size, nil }
func (s checkpointStore) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	return nil, errors.New("not used")
}
func (s checkpointStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	return s.hashes.ReadHashes(indexes)
}
func (s checkpointStore) Integrate(ctx context.Context, from, to int64, hashes []tlog.Hash, signed []byte, at time.Time) error {
	return errors.New("not used")
}
func (s checkpointStore) LatestCheckpoint(ctx context.Context) ([]byte, int64, error) {
	return []byte("checkpoint\n"), s.size, nil
}

// wantFieldError checks a refused proof request: Malformed, a detail for
// each field in fields and for no other, and no package prefix in any
// message a caller is shown.
func wantFieldError(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantKind(t, err, errs.Malformed)
	_, msg, details := errs.Public(err)
	var got []string
	for _, d := range details {
		got = append(got, d.Field)
		if d.Message == "" || strings.Contains(d.Message, "ledger:") {
			t.Errorf("detail %s: message %q", d.Field, d.Message)
		}
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("details name %v, want %v (%v)", got, fields, err)
	}
	if msg == "" || strings.Contains(msg, "ledger:") {
		t.Errorf("message %q", msg)
	}
}

func TestLogInclusionNamesTheFieldAtFault(t *testing.T) {
	hashes, _ := tlogStore(t, 10)
	l := &Log{Store: checkpointStore{hashes: hashes, size: 8}}
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		index, size int64
		fields      []string
	}{
		{"blames index when it is not below size", 5, 5, []string{"index"}},
		{"blames index when it is above size", 7, 5, []string{"index"}},
		{"blames size, not index, for size 0", 3, 0, []string{"size"}},
		{"blames size for size 0 and index 0", 0, 0, []string{"size"}},
		{"blames size beyond the newest checkpoint", 0, 9, []string{"size"}},
		{"blames both when index is past a size beyond the checkpoint", 10, 9, []string{"index", "size"}},
		{"blames a negative index", -1, 5, []string{"index"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Inclusion(ctx, tc.index, tc.size)
			wantFieldError(t, err, tc.fields...)
		})
	}
	if p, err := l.Inclusion(ctx, 7, 8); err != nil || p.Index != 7 || p.Size != 8 {
		t.Errorf("Inclusion(7, 8) = %+v, %v", p, err)
	}
}

func TestLogConsistencyNamesTheFieldAtFault(t *testing.T) {
	hashes, _ := tlogStore(t, 10)
	l := &Log{Store: checkpointStore{hashes: hashes, size: 8}}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		from, to int64
		fields   []string
	}{
		{"blames from after to", 6, 5, []string{"from"}},
		{"blames from 0", 0, 5, []string{"from"}},
		{"blames from 0 and to 0", 0, 0, []string{"from", "to"}},
		{"blames to beyond the newest checkpoint", 1, 9, []string{"to"}},
		{"blames a negative from", -1, 5, []string{"from"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Consistency(ctx, tc.from, tc.to)
			wantFieldError(t, err, tc.fields...)
		})
	}
	if p, err := l.Consistency(ctx, 3, 8); err != nil || p.From != 3 || p.To != 8 {
		t.Errorf("Consistency(3, 8) = %+v, %v", p, err)
	}
}

func TestParseTilePathErrorNamesThePath(t *testing.T) {
	for _, p := range []string{"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/-1", "tile/0/000.p/abc", "tile/0/0000", "tile/1/000.p/0"} {
		_, err := ParseTilePath(p)
		wantFieldError(t, err, "path")
	}
}

// stuckStore is a log whose stored tree goes beyond its newest checkpoint
// (size 2 of 3 leaves): every Integrate is a conflict nobody resolves.
type stuckStore struct{ checkpointStore }

func (s stuckStore) LeafCount(ctx context.Context) (int64, error) { return 3, nil }
func (s stuckStore) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	return [][]byte{[]byte("leaf 2")}, nil
}
func (s stuckStore) Integrate(ctx context.Context, from, to int64, hashes []tlog.Hash, signed []byte, at time.Time) error {
	return errs.E(errs.Conflict, "already exists")
}

func TestIntegrateReportsAConflictNobodyResolves(t *testing.T) {
	hashes, _ := tlogStore(t, 2)
	l := &Log{Store: stuckStore{checkpointStore{hashes: hashes, size: 2}}, Signer: testSigner(t), Clock: clock.NewFixed(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))}
	done := make(chan error, 1)
	go func() { _, err := l.Integrate(context.Background()); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "beyond") {
			t.Errorf("Integrate = %v, want an error saying the tree is stored beyond the checkpoint", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Integrate loops on a conflict nobody resolves")
	}
}
