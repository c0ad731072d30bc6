package delivery

import "time"

// The retry schedule: a failed delivery is tried again after FirstRetry,
// doubling after each failure in a row up to MaxRetry, less up to a fifth
// at random (jitter, so that the receivers of a burst are not all retried
// in the same second). The last attempt is RetryFor after the first one of
// the round; when it fails too the delivery is dead.
const (
	FirstRetry = 10 * time.Second
	MaxRetry   = time.Hour
	RetryFor   = 24 * time.Hour
)

// Backoff is the wait after the retry-th failure in a row (retry >= 1).
// jitter in [0, 1] takes off (1-jitter)/5 of it: with jitter 1 the schedule
// is exactly 10 s, 20 s, 40 s ... 1 h, 1 h ...
func Backoff(retry int, jitter float64) time.Duration {
	d := MaxRetry
	if retry < 1 {
		retry = 1
	}
	if retry < 20 { // beyond, the shift would only overflow past the cap
		d = min(FirstRetry<<(retry-1), MaxRetry)
	}
	jitter = min(max(jitter, 0), 1)
	return d - time.Duration(float64(d)*(1-jitter)/5)
}

// outcome is what becomes of delivery d after an attempt made at at that
// ended at ended: delivered when ok, else pending again the backoff after
// its end (a receiver that timed out gets the whole wait, not what is left
// of it), or dead once RetryFor has passed since the first attempt of the
// round. The next attempt is never later than the end of the round, so
// the last one is made at its end.
func outcome(d Delivery, at, ended time.Time, ok bool, jitter float64) (status Status, retries int, next time.Time) {
	if ok {
		return Delivered, 0, time.Time{}
	}
	first := at
	if d.FirstAttemptAt != nil {
		first = *d.FirstAttemptAt
	}
	end := first.Add(RetryFor)
	if !at.Before(end) {
		return Dead, d.Retries + 1, time.Time{}
	}
	retries = d.Retries + 1
	next = ended.Add(Backoff(retries, jitter))
	if next.After(end) {
		next = end
	}
	return Pending, retries, next
}
