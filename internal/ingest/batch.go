// Package ingest takes a department's batch file (NDJSON, CSV or XLSX, with
// the platform's field names or the national double-publicity codes) and
// streams its rows into the record service in chunks. Good rows are stored
// even when others fail; every rejected row is kept with its line number and
// every reason, so the department can fix and resubmit just those rows.
package ingest

import (
	"context"
	"time"

	"pubcredit/internal/errs"
)

// Batch is one uploaded file and what became of its rows.
type Batch struct {
	ID         string    `json:"id"`
	Dept       string    `json:"department"`
	Item       string    `json:"item,omitempty"` // the ?item= given, when rows do not name theirs
	Format     string    `json:"format"`         // ndjson, csv or xlsx
	Status     string    `json:"status"`         // StatusRunning, StatusDone, StatusFailed or StatusInterrupted
	Rows       int       `json:"rows"`
	Accepted   int       `json:"accepted"`
	Rejected   int       `json:"rejected"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// The statuses of a batch.
const (
	StatusRunning = "running" // its rows are being read and stored
	StatusDone    = "done"    // every row read: accepted or rejected
	StatusFailed  = "failed"  // the file failed part-way; the rows before the failure stand
	// StatusInterrupted: the process running it stopped (a crash, a kill)
	// before it finished; the rows counted were stored, the rest of the
	// file was not read. Resubmit the rows after the last one counted.
	StatusInterrupted = "interrupted"
)

// Rejection is one rejected row: its line in the file (the header of a CSV
// or spreadsheet is line 1), its ref when it had one, and every reason.
type Rejection struct {
	Line   int               `json:"line"`
	Ref    string            `json:"ref,omitempty"`
	Errors []errs.FieldError `json:"errors"`
}

// Store keeps batches and their rejected rows.
type Store interface {
	// CreateBatch stores a new batch.
	CreateBatch(ctx context.Context, b Batch) error
	// UpdateBatch stores the batch's counters and status, adding rejections.
	UpdateBatch(ctx context.Context, b Batch, add []Rejection) error
	// Batch returns a batch. Returns NotFound.
	Batch(ctx context.Context, id string) (Batch, error)
	// Rejections returns up to limit rejections with line > afterLine, by line.
	Rejections(ctx context.Context, batchID string, afterLine, limit int) ([]Rejection, error)
	// InterruptBatches marks every batch still StatusRunning that was
	// created before createdBefore as StatusInterrupted, finished at, and
	// keeps its counts and rejections. It returns how many it marked.
	InterruptBatches(ctx context.Context, createdBefore, at time.Time) (int, error)
}
