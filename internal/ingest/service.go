package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/ids"
	"pubcredit/internal/record"
)

// Submitter validates and stores records (satisfied by *record.Service).
type Submitter interface {
	Prepare(p *auth.Principal, subs []record.Submission) (*record.Batch, error)
	Commit(ctx context.Context, b *record.Batch) ([]record.Result, error)
}

// Service runs batches.
type Service struct {
	Store     Store
	Records   Submitter
	Clock     clock.Clock
	ChunkRows int    // rows per transaction
	Workers   int    // chunks validated and sealed at once (default 1)
	MaxRows   int    // rows per batch
	TmpDir    string // where spreadsheets are spooled
	// Answered caps the rejections returned with the batch; all are stored.
	Answered int
}

// Result is a finished batch with the first rejections.
type Result struct {
	Batch      Batch
	Rejections []Rejection // at most Service.Answered
}

// chunk is a group of rows read and prepared, waiting to be committed.
type chunk struct {
	unreadable []Rejection // rows that could not even be read
	subs       []record.Submission
	lines      []int // line of each submission
	prepared   *record.Batch
	rows       int
	err        error // the file failed after the rows above: stop after them
}

// Run reads a batch file and submits its rows in chunks, each in its own
// transaction. Reading and validating the next chunk overlaps with writing
// the previous one. Good rows are stored even when others are rejected.
//
// It returns Invalid when the file as a whole cannot be read (the rows
// before the failing point are kept and the batch is marked failed),
// Forbidden for a principal that is not a department or an item it may not
// submit, TooLarge past MaxRows.
func (s *Service) Run(ctx context.Context, p *auth.Principal, format string, body io.Reader, item string) (Result, error) {
	if err := p.Require(auth.Department); err != nil {
		return Result{}, err
	}
	if item != "" && !p.CanSubmit(item) { // every row would be refused: the whole file is
		return Result{}, errs.FieldsOf(errs.Forbidden, "the batch is not allowed", errs.FieldError{Field: "item", Code: "forbidden",
			Message: fmt.Sprintf("department %s may not submit records of %s (it submits: %s)", p.ID, item, strings.Join(p.Submit, ", "))})
	}
	rd, err := NewReader(format, body, item, s.TmpDir)
	if err != nil {
		return Result{}, fileError(err)
	}
	defer rd.Close()
	// An empty file is refused before a batch is made of it: it is most
	// often an export that went wrong, not a batch of nothing.
	first, err := rd.Next()
	switch {
	case errors.Is(err, io.EOF):
		return Result{}, errs.Fields("the batch file holds no rows", errs.FieldError{Field: "body", Code: "empty",
			Message: "the file has no rows to submit (blank lines and a header alone are not rows)"})
	case err != nil:
		return Result{}, fileError(err)
	}
	rd = &peeked{Reader: rd, first: &first}
	now := s.Clock.Now().UTC()
	b := Batch{ID: ids.New(now), Dept: p.ID, Item: item, Format: format, Status: StatusRunning, CreatedAt: now}
	if err := s.Store.CreateBatch(ctx, b); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read, chunks := make(chan chunk), make(chan chunk) // unbuffered: at most one chunk per stage in memory
	go s.read(ctx, rd, read)
	go s.prepare(ctx, p, read, chunks)

	res := Result{Batch: b}
	var failure error
	for c := range chunks {
		if failure != nil {
			continue // drain so the reader can finish
		}
		b.Rows += c.rows
		rej := c.unreadable
		if c.prepared != nil {
			results, err := s.Records.Commit(ctx, c.prepared)
			if err != nil {
				failure = err
				cancel()
				continue
			}
			for i, r := range results {
				if r.Err == nil {
					b.Accepted++
				} else {
					rej = append(rej, rejection(c.lines[i], c.subs[i].Ref, r.Err))
				}
			}
		}
		b.Rejected += len(rej)
		slices.SortFunc(rej, func(a, b Rejection) int { return a.Line - b.Line })
		if room := s.Answered - len(res.Rejections); room > 0 {
			res.Rejections = append(res.Rejections, rej[:min(room, len(rej))]...)
		}
		if err := s.Store.UpdateBatch(ctx, b, rej); err != nil {
			failure = err
			cancel()
			continue
		}
		failure = c.err
	}
	if failure == nil && ctx.Err() != nil {
		// The request ended (the upload outlived the read timeout, or the
		// client went) before the file was read whole: the reader stopped
		// without an error of its own.
		failure = fileError(ctx.Err())
	}
	if failure != nil {
		b.Status, b.FinishedAt = StatusFailed, s.Clock.Now().UTC()
		// Record what was stored before the failure; the batch stays visible.
		s.Store.UpdateBatch(context.WithoutCancel(ctx), b, nil)
		res.Batch = b
		if kind, msg, details := errs.Public(failure); kind != errs.Internal && kind != errs.Unavailable {
			failure = &errs.Error{Kind: kind, Details: details, Err: failure,
				Message: fmt.Sprintf("%s (batch %s keeps the %d rows read before this: %d accepted, %d rejected)", msg, b.ID, b.Rows, b.Accepted, b.Rejected)}
		}
		return res, failure
	}
	b.Status, b.FinishedAt = StatusDone, s.Clock.Now().UTC()
	if err := s.Store.UpdateBatch(context.WithoutCancel(ctx), b, nil); err != nil { // read whole and stored: done, whoever waits
		return res, err
	}
	res.Batch = b
	return res, nil
}

// Interrupt marks the batches that a stopped process left running as
// StatusInterrupted, keeping what they stored: those created more than
// idle ago. Nothing tells here whether the process running a batch is
// alive, so idle MUST exceed the longest a batch can run (a batch upload
// ends with the server's read timeout); 0 marks every running batch, for a
// process that knows it is the only one using the database. A batch
// marked while its process is in fact alive is set back to running by its
// next chunk, and finished as usual.
func (s *Service) Interrupt(ctx context.Context, idle time.Duration) (int, error) {
	now := s.Clock.Now().UTC()
	return s.Store.InterruptBatches(ctx, now.Add(-idle), now)
}

// read is the first stage of Run: it reads rows into chunks and sends them
// on out, closing it at the end of the file or on failure.
// peeked is a Reader whose first row was read already.
type peeked struct {
	Reader
	first *Row
}

func (p *peeked) Next() (Row, error) {
	if r := p.first; r != nil {
		p.first = nil
		return *r, nil
	}
	return p.Reader.Next()
}

func (s *Service) read(ctx context.Context, rd Reader, out chan<- chunk) {
	defer close(out)
	size := max(1, s.ChunkRows)
	var c chunk
	total := 0
	send := func() bool {
		select {
		case out <- c:
		case <-ctx.Done():
			return false
		}
		c = chunk{}
		return true
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			send()
			return
		}
		if err != nil {
			c.err = fileError(err)
			send()
			return
		}
		if total++; s.MaxRows > 0 && total > s.MaxRows {
			c.err = errs.E(errs.TooLarge, "a batch may hold at most %d rows; rows from line %d on were not read", s.MaxRows, row.Line)
			send()
			return
		}
		c.rows++
		if len(row.Errors) > 0 {
			c.unreadable = append(c.unreadable, rejection(row.Line, row.Sub.Ref, errs.Fields("", row.Errors...)))
		} else {
			c.subs = append(c.subs, row.Sub)
			c.lines = append(c.lines, row.Line)
		}
		if c.rows >= size && !send() {
			return
		}
	}
}

// prepare is the second stage of Run: it validates and seals each chunk's
// submissions, so that reading, preparing and writing overlap. With
// Workers > 1 several chunks are prepared at once; they still leave in file
// order, so that the first of two rows with one ref wins.
func (s *Service) prepare(ctx context.Context, p *auth.Principal, in <-chan chunk, out chan<- chunk) {
	defer close(out)
	order := make(chan chan chunk, max(1, s.Workers)-1) // chunks being prepared, in file order
	go func() {
		defer close(order)
		for c := range in {
			done := make(chan chunk, 1)
			select {
			case order <- done:
			case <-ctx.Done():
				for range in { // let read finish
				}
				return
			}
			go func() {
				if len(c.subs) > 0 {
					prepared, err := s.Records.Prepare(p, c.subs)
					if err != nil && c.err == nil {
						c.err = err
					}
					c.prepared = prepared
				}
				done <- c
			}()
		}
	}()
	for done := range order {
		c := <-done
		select {
		case out <- c:
		case <-ctx.Done():
			for done := range order { // let the preparers finish
				<-done
			}
			return
		}
	}
}

// fileError makes an unreadable file an Invalid error that names the cause.
func fileError(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e // a kind from below (a body over its limit) keeps its meaning
	}
	// A plain error comes from below the readers (a temporary file, the
	// connection): its text is for the log, not for the department.
	return &errs.Error{Kind: errs.Invalid, Message: "the batch file cannot be read", Err: err,
		Details: []errs.FieldError{{Field: "body", Code: "unreadable", Message: "the file ended or broke off before it could be read; send it again"}}}
}

// rejection is a refused row as the batch keeps and shows it. An identity
// number in its ref is masked (which is why such a ref is refused), the
// rest of the ref kept: rejections are kept in clear.
func rejection(line int, ref string, err error) Rejection {
	return Rejection{Line: line, Ref: identity.MaskText(ref), Errors: rowErrors(err)}
}

// rowErrors turns a row's failure into its field problems.
func rowErrors(err error) []errs.FieldError {
	kind, msg, details := errs.Public(err)
	if len(details) > 0 {
		return details
	}
	return []errs.FieldError{{Field: "", Code: string(kind), Message: msg}}
}

// Get returns a batch to the department that sent it. Returns NotFound
// otherwise.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (Batch, error) {
	if err := p.Require(auth.Department); err != nil {
		return Batch{}, err
	}
	b, err := s.Store.Batch(ctx, id)
	if errors.Is(err, errs.NotFound) || (err == nil && b.Dept != p.ID) || !ids.Valid(id) {
		return Batch{}, errs.E(errs.NotFound, "no batch %q", id)
	}
	return b, err
}

// Rejections pages through a batch's rejected rows.
func (s *Service) Rejections(ctx context.Context, p *auth.Principal, id string, afterLine, limit int) ([]Rejection, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return s.Store.Rejections(ctx, id, afterLine, limit)
}
