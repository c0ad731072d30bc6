// Package webhook is the HTTP side of pushes: a delivery.Poster on
// net/http that bounds every request's time, follows no redirect and reads
// at most a little of an answer before discarding it.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"pubcredit/internal/delivery"
)

// DefaultTimeout bounds one request, from dialling to the end of the answer.
const DefaultTimeout = 10 * time.Second

// maxDrain is how much of an answer is read (and thrown away) so that the
// connection can be reused; a longer answer closes it.
const maxDrain = 64 << 10

// Client posts deliveries.
type Client struct {
	http    *http.Client
	timeout time.Duration
}

var _ delivery.Poster = (*Client)(nil)

// New returns a client whose requests take at most timeout (DefaultTimeout
// when zero).
func New(timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tr.ResponseHeaderTimeout = timeout
	return &Client{timeout: timeout, http: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect is an answer like any other that is not 2xx: the
		// delivery is retried at the subscribed URL, never sent elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Post sends body to url with header and returns the answer's status. The
// answer's body is never returned nor kept. An error says, in words a
// department may read, why there was no answer.
func (c *Client) Post(ctx context.Context, url string, header map[string]string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the subscription's URL cannot be requested")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, describe(err, c.timeout)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, maxDrain))
	res.Body.Close()
	return res.StatusCode, nil
}

// describe says why a request got no answer, without the URL (the
// department knows it) and without Go's wrapping.
func describe(err error, timeout time.Duration) error {
	var ne net.Error
	var op *net.OpError
	switch {
	case errors.Is(err, context.Canceled):
		return errors.New("the request was cancelled (the platform is stopping)")
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer within %s", timeout)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("cannot connect: %v", op.Err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the receiver closed the connection without answering")
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return fmt.Errorf("no answer: %v", ue.Unwrap())
	}
	return fmt.Errorf("no answer: %v", err)
}
