package storetest

import (
	"slices"
	"testing"

	"pubcredit/internal/errs"
	"pubcredit/internal/ingest"
)

func newBatch(n int, dept string) ingest.Batch {
	return ingest.Batch{
		ID:        id("bat", n),
		Dept:      dept,
		Item:      "XZCF",
		Format:    "csv",
		Status:    "running",
		CreatedAt: at(n),
	}
}

func wantBatch(t *testing.T, s Store, want ingest.Batch) {
	t.Helper()
	got, err := s.Batch(ctx(t), want.ID)
	must(t, err)
	if got.ID != want.ID || got.Dept != want.Dept || got.Item != want.Item || got.Format != want.Format || got.Status != want.Status ||
		got.Rows != want.Rows || got.Accepted != want.Accepted || got.Rejected != want.Rejected {
		t.Errorf("batch = %+v, want %+v", got, want)
	}
	wantTime(t, "batch created_at", got.CreatedAt, want.CreatedAt)
	wantTime(t, "batch finished_at", got.FinishedAt, want.FinishedAt)
}

func rejection(line int, ref string, codes ...string) ingest.Rejection {
	r := ingest.Rejection{Line: line, Ref: ref}
	for _, c := range codes {
		r.Errors = append(r.Errors, errs.FieldError{Field: "fields." + c, Code: c, Message: "the value of " + c + " is not valid: \"x\""})
	}
	return r
}

func wantRejections(t *testing.T, s Store, batchID string, afterLine, limit int, want ...ingest.Rejection) {
	t.Helper()
	got, err := s.Rejections(ctx(t), batchID, afterLine, limit)
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("Rejections(%s, after %d, limit %d) = %+v, want %+v", batchID, afterLine, limit, got, want)
	}
	for i := range want {
		if got[i].Line != want[i].Line || got[i].Ref != want[i].Ref || !slices.Equal(got[i].Errors, want[i].Errors) {
			t.Errorf("rejection %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testBatches(t *testing.T, open func(t *testing.T) Store) {
	suite{
		{"CreateBatch stores a batch and Batch returns it", func(t *testing.T, s Store) {
			withDepts(t, s)
			b := newBatch(1, "D1")
			must(t, s.CreateBatch(ctx(t), b))
			wantBatch(t, s, b)
		}},
		{"Batch of an unknown id returns NotFound", func(t *testing.T, s Store) {
			withDepts(t, s)
			must(t, s.CreateBatch(ctx(t), newBatch(1, "D1")))
			_, err := s.Batch(ctx(t), id("bat", 2))
			wantKind(t, err, errs.NotFound)
		}},
		{"UpdateBatch stores status and counters and adds rejections", func(t *testing.T, s Store) {
			withDepts(t, s)
			b := newBatch(1, "D1")
			other := newBatch(2, "D2")
			must(t, s.CreateBatch(ctx(t), b))
			must(t, s.CreateBatch(ctx(t), other))

			b.Rows, b.Accepted, b.Rejected = 100, 98, 2
			must(t, s.UpdateBatch(ctx(t), b, []ingest.Rejection{rejection(7, "R7", "CF_WSH", "required"), rejection(3, "")}))
			wantBatch(t, s, b)

			b.Status, b.Rows, b.Accepted, b.Rejected, b.FinishedAt = "done", 250, 247, 3, at(90)
			must(t, s.UpdateBatch(ctx(t), b, []ingest.Rejection{rejection(201, "R201", "check_digit")}))
			wantBatch(t, s, b)
			wantRejections(t, s, b.ID, 0, 10, rejection(3, ""), rejection(7, "R7", "CF_WSH", "required"), rejection(201, "R201", "check_digit"))

			// Counters alone, without rejections.
			b.Status = "failed"
			must(t, s.UpdateBatch(ctx(t), b, nil))
			wantBatch(t, s, b)
			wantBatch(t, s, other)
			wantRejections(t, s, other.ID, 0, 10)
		}},
		{"UpdateBatch of an unknown batch returns NotFound", func(t *testing.T, s Store) {
			withDepts(t, s)
			err := s.UpdateBatch(ctx(t), newBatch(1, "D1"), []ingest.Rejection{rejection(2, "R2", "required")})
			wantKind(t, err, errs.NotFound)
			wantRejections(t, s, id("bat", 1), 0, 10)
		}},
		{"Rejections pages by line", func(t *testing.T, s Store) {
			withDepts(t, s)
			b := newBatch(1, "D1")
			must(t, s.CreateBatch(ctx(t), b))
			var all []ingest.Rejection
			for _, line := range []int{2, 3, 5, 8, 13, 21} {
				all = append(all, rejection(line, "", "required"))
			}
			must(t, s.UpdateBatch(ctx(t), b, []ingest.Rejection{all[3], all[0], all[5]}))
			must(t, s.UpdateBatch(ctx(t), b, []ingest.Rejection{all[1], all[4], all[2]}))
			wantRejections(t, s, b.ID, 0, 2, all[0], all[1])
			wantRejections(t, s, b.ID, 3, 2, all[2], all[3])
			wantRejections(t, s, b.ID, 8, 2, all[4], all[5])
			wantRejections(t, s, b.ID, 21, 2)
			wantRejections(t, s, b.ID, 4, 100, all[2:]...)
			wantRejections(t, s, id("bat", 9), 0, 100)
		}},
	}.run(t, open)
}
