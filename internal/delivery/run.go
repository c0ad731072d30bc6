package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"pubcredit/internal/errs"
)

// Dispatch turns every ledger leaf committed since the last call into
// deliveries, a batch of leaves per transaction, and returns how many
// deliveries it made. It reads stored state only: after a restart it goes
// on from the stored cursor.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	s.init()
	batch := orDefault(s.Batch, 500)
	made := 0
	defer func() {
		if made > 0 {
			s.nudge()
		}
	}()
	for {
		now := s.Clock.Now().UTC().Truncate(time.Microsecond)
		n, err := s.Store.Dispatch(ctx, batch, func(leaves []Leaf, targets []Target) []Delivery {
			ds := Plan(leaves, targets, now)
			made += len(ds)
			return ds
		})
		if err != nil || n < batch {
			return made, err
		}
	}
}

// nudge tells the sender that deliveries may be due.
func (s *Service) nudge() {
	s.init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// SendDue sends the deliveries due now, at most Concurrency at once, and
// returns when they are all sent and recorded, with how many were tried.
// The background sender (Run) does the same continuously.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	due, err := s.claim(ctx, orDefault(s.Concurrency, defaultConcurrency))
	var wg sync.WaitGroup
	errc := make(chan error, len(due))
	for _, d := range due {
		wg.Go(func() { errc <- s.send(ctx, d) })
	}
	wg.Wait()
	close(errc)
	for e := range errc {
		err = errors.Join(err, e)
	}
	return len(due), err
}

func (s *Service) claim(ctx context.Context, limit int) ([]Delivery, error) {
	now := s.Clock.Now().UTC()
	return s.Store.ClaimDue(ctx, now, now.Add(orDefault(s.Lease, time.Minute)), limit)
}

// Run runs the dispatcher and the sender until ctx ends: the dispatcher
// every interval, the sender every interval and whenever a delivery was
// made or an attempt finished, with at most Concurrency requests in
// flight. A slow receiver holds at most one of them. Errors go to report.
// Run returns when both have stopped, in-flight requests cancelled.
func (s *Service) Run(ctx context.Context, interval time.Duration, report func(error)) {
	s.init()
	var wg sync.WaitGroup
	wg.Go(func() { s.runDispatcher(ctx, interval, report) })
	wg.Go(func() { s.runSender(ctx, interval, report) })
	wg.Wait()
}

func (s *Service) runDispatcher(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Dispatch(ctx); err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) runSender(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	slots := orDefault(s.Concurrency, defaultConcurrency)
	done := make(chan struct{}, slots)
	inFlight := 0
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if free := slots - inFlight; free > 0 && ctx.Err() == nil {
			due, err := s.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				report(err)
			}
			for _, d := range due {
				inFlight++
				wg.Go(func() {
					defer func() { done <- struct{}{} }()
					if err := s.send(ctx, d); err != nil && ctx.Err() == nil {
						report(err)
					}
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
			inFlight--
		case <-s.wake:
		case <-t.C:
		}
	}
}

// send makes one attempt at delivery d and records it. An error is the
// platform's (the store), never the receiver's: a receiver's failure is an
// attempt like any other.
func (s *Service) send(ctx context.Context, d Delivery) error {
	start := s.Clock.Now().UTC()
	status, failure := s.post(ctx, d, start)
	end := s.Clock.Now().UTC()
	a := Attempt{At: start.Truncate(time.Microsecond), Error: failure, DurationMS: end.Sub(start).Milliseconds()}
	if status != 0 {
		a.StatusCode = &status
	}
	o := Outcome{Delivery: d.ID, Attempt: a}
	o.Status, o.Retries, o.NextAt = outcome(d, start, end, failure == "", s.jitter())
	if ctx.Err() != nil {
		// Stopping. The attempt is recorded all the same, on a context of
		// its own: one cut off before its answer is shown as interrupted
		// (the receiver may have had it), counts as no failure, and is due
		// again at once, so that the next process sends it without
		// waiting for the lease.
		if failure != "" {
			o.Attempt.Error = "interrupted: the platform stopped before the receiver answered; it is sent again"
			o.Status, o.Retries, o.NextAt = Pending, d.Retries, start
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	if err := s.Store.RecordAttempt(ctx, o); err != nil {
		return errs.Wrap(errs.KindOf(err), err, "delivery %s: recording the attempt", d.ID)
	}
	return nil
}

// maxError is the longest failure text kept for an attempt.
const maxError = 300

// post builds, signs and posts delivery d at now. It returns the answer's
// status (0 when none came) and why the attempt failed ("" when it did not).
// A failure to build the event is the platform's and is not explained to
// the receiver beyond that.
func (s *Service) post(ctx context.Context, d Delivery, now time.Time) (int, string) {
	dept, err := s.Depts.Dept(ctx, d.Dept)
	switch {
	case err != nil:
		return 0, "the platform could not build the event (" + string(errs.KindOf(err)) + "); it will be retried"
	case dept.Disabled:
		return 0, "the department is disabled: nothing is sent to it"
	}
	body, err := s.body(ctx, d, dept)
	if err != nil {
		return 0, "the platform could not build the event (" + string(errs.KindOf(err)) + "); it will be retried"
	}
	secret, err := s.Keys.Decrypt(d.Secret, secretAAD(d.Subscription))
	if err != nil {
		return 0, "the platform could not sign the event (the subscription's secret cannot be opened)"
	}
	header := map[string]string{
		"Content-Type":  "application/json",
		"User-Agent":    "pubcredit-webhook/1",
		HeaderEvent:     d.Type,
		HeaderDelivery:  d.ID,
		HeaderSignature: Sign(secret, now, body),
	}
	status, err := s.Poster.Post(ctx, d.URL, header, body)
	switch {
	case err != nil:
		return 0, errs.Clip(err.Error(), maxError)
	case status >= 200 && status < 300:
		return status, ""
	case status >= 300 && status < 400:
		return status, "the receiver answered a redirect, which is not followed"
	}
	return status, "the receiver did not answer 2xx"
}
