package delivery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/ids"
	"pubcredit/internal/record"
	"pubcredit/internal/vault"
)

// Poster sends one webhook request. It returns the HTTP status of the
// answer, or an error saying why there was none (refused, reset, timed
// out...). It must bound the time a request takes, follow no redirect and
// never return the answer's body.
type Poster interface {
	Post(ctx context.Context, url string, header map[string]string, body []byte) (status int, err error)
}

// Depts returns a department with its current rights (satisfied by auth.Store).
type Depts interface {
	Dept(ctx context.Context, code string) (auth.Dept, error)
}

// Service manages subscriptions and runs the dispatcher and the sender.
type Service struct {
	Store   Store
	Records *record.Service // opens record versions and people
	Access  *access.Log     // pushes of a person's data in clear are reads of it
	Keys    *vault.Keyring  // seals the subscriptions' secrets, opens the people pushed
	Clock   clock.Clock
	Depts   Depts
	Poster  Poster
	// Items and Lists return the known catalog item and list codes.
	Items func() []string
	Lists func() []string
	// ListItem returns the catalog item backing a list: a department that
	// may read it is pushed the list's entries with the person in clear.
	// When nil, or for an unknown list, list pushes are masked.
	ListItem func(list string) (string, bool)

	Concurrency int            // deliveries in flight at once; default defaultConcurrency
	Batch       int            // ledger leaves per dispatch transaction; default 500
	Lease       time.Duration  // how long a sender holds a delivery it sends; default 1 minute
	PerDept     int            // live subscriptions a department may have; default 20
	Jitter      func() float64 // in [0, 1); default math/rand/v2

	once sync.Once
	wake chan struct{} // the dispatcher made deliveries: the sender looks at once
}

func (s *Service) init() {
	s.once.Do(func() { s.wake = make(chan struct{}, 1) })
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Service) jitter() float64 {
	if s.Jitter != nil {
		return s.Jitter()
	}
	return rand.Float64()
}

// Request is what a department sends to subscribe.
type Request struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Lists  []string `json:"lists"`
	Items  []string `json:"items"`
}

// maxURL is the longest subscription URL accepted.
const maxURL = 2000

// Subscribe makes a subscription for department p and returns it with its
// signing secret, which is not kept in the clear and cannot be shown again.
// Returns Forbidden for a principal that is not a department, Invalid
// listing every problem (a URL that is not absolute http(s), plain http to
// a host that is not loopback, unknown event types, lists or items), and
// Conflict when the department has PerDept subscriptions already or a live
// one identical to this (the same URL, events, lists and items: every
// change would be pushed twice), naming it. The same URL with another
// filter is another subscription.
func (s *Service) Subscribe(ctx context.Context, p *auth.Principal, req Request) (Subscription, string, error) {
	if err := p.Require(auth.Department); err != nil {
		return Subscription{}, "", err
	}
	var pr errs.Problems
	u := checkURL(strings.TrimSpace(req.URL), &pr)
	events := known(req.Events, Events, "events", "event type", true, &pr)
	lists := known(req.Lists, codes(s.Lists), "lists", "list", false, &pr)
	items := known(req.Items, codes(s.Items), "items", "catalog item", false, &pr)
	if err := pr.Err("the subscription is not valid"); err != nil {
		return Subscription{}, "", err
	}
	live, err := s.Store.Subscriptions(ctx, p.ID)
	if err != nil {
		return Subscription{}, "", err
	}
	// The store refuses a duplicate atomically; this finds it before a
	// full department is told to delete one.
	for _, l := range live {
		// A URL stored before its path was normalised is compared in the
		// normal form too.
		if (l.URL == u || checkURL(l.URL, new(errs.Problems)) == u) && slices.Equal(l.Events, events) && slices.Equal(l.Lists, lists) && slices.Equal(l.Items, items) {
			return Subscription{}, "", Duplicate(l.ID)
		}
	}
	limit := orDefault(s.PerDept, 20)
	if len(live) >= limit {
		return Subscription{}, "", TooMany(p.ID, len(live))
	}
	now := s.Clock.Now().UTC().Truncate(time.Microsecond)
	secret := NewSecret()
	sub := Subscription{ID: ids.New(now), Dept: p.ID, URL: u, Events: events, Lists: lists, Items: items, CreatedAt: now}
	sub.Secret = s.Keys.Encrypt([]byte(secret), secretAAD(sub.ID))
	sub, err = s.Store.CreateSubscription(ctx, sub, limit)
	if err != nil {
		return Subscription{}, "", err
	}
	return sub, secret, nil
}

// TooMany is the refusal of a subscription beyond the most a department
// may have (it has n).
func TooMany(dept string, n int) error {
	return errs.E(errs.Conflict, "department %s has %d subscriptions, the most it may have; delete one first", dept, n)
}

// Duplicate is the refusal of a subscription identical to the department's
// live subscription id (stores return it too).
func Duplicate(id string) error {
	return errs.FieldsOf(errs.Conflict,
		fmt.Sprintf("the department already has subscription %s with the same url, events, lists and items; every change would be pushed twice", id),
		errs.FieldError{Field: "url", Code: "duplicate",
			Message: fmt.Sprintf("subscription %s already pushes these events to this URL; use it, delete it first, or subscribe with other events, lists or items", id)})
}

func codes(f func() []string) []string {
	if f == nil {
		return nil
	}
	return f()
}

// checkURL returns the subscription URL when it is an absolute http or https
// URL without credentials or fragment, and https unless its host is
// loopback (plain http is for a receiver on the same machine only), in one
// spelling of the receiver: equivalent URLs are returned the same.
func checkURL(raw string, pr *errs.Problems) string {
	bad := func(code, format string, args ...any) string {
		pr.Add("url", code, format, args...)
		return ""
	}
	if raw == "" {
		return bad("required", "the URL to push to is required")
	}
	if utf8.RuneCountInString(raw) > maxURL {
		return bad("too_long", "must be at most %d characters", maxURL)
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(raw[i:])
		return bad("format", "must be written in ASCII without spaces (percent-encode the path, punycode the host): %q at byte %d", r, i)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("format", "must be an absolute URL such as https://receiver.example.gov.cn/pubcredit")
	}
	// One spelling of a receiver, so that its subscriptions are known for
	// the same: no default port, no leading zeros, no trailing dot.
	if strings.HasSuffix(u.Host, ":") {
		return bad("format", "the port is empty: give one or none")
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad("format", "the port must be from 1 to 65535, not %s", errs.Clip(port, 10))
		}
		port = strconv.Itoa(n)
		if (n == 443 && strings.EqualFold(u.Scheme, "https")) || (n == 80 && strings.EqualFold(u.Scheme, "http")) {
			port = ""
		}
	}
	switch host := strings.TrimSuffix(u.Hostname(), "."); {
	case port != "":
		u.Host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"): // an IPv6 address
		u.Host = "[" + host + "]"
	default:
		u.Host = host
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("scheme", "must be an https URL (http only to a loopback host), not %s", errs.Clip(u.Scheme, 20))
	case u.User != nil:
		return bad("credentials", "must not carry credentials: receivers check the signature instead")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("format", "must not have a fragment")
	case scheme == "http" && !loopback(u.Hostname()):
		return bad("https_required", "must be https: plain http is accepted only to a loopback host (127.0.0.1, ::1, localhost)")
	}
	// Scheme and host are case-insensitive: one spelling, so that the same
	// receiver is recognised as the same. So is the path's (RFC 3986,
	// section 6.2.2); the query is kept as given.
	u.Scheme, u.Host = scheme, strings.ToLower(u.Host)
	u.RawPath = normalPath(u.EscapedPath())
	u.Path, _ = url.PathUnescape(u.RawPath) // escapes url.Parse has checked
	// A URL is kept and shown in clear, and its host is looked up: none
	// may carry a person's number, however it is encoded.
	query, _ := url.QueryUnescape(u.RawQuery)
	if identity.InText(u.Host) || identity.InText(u.Path) || identity.InText(u.RawQuery) || identity.InText(query) {
		return bad("identity_number", "carries an identity number; a subscription's URL is kept and shown in clear")
	}
	return u.String()
}

// normalPath returns an escaped URL path with a host in the normal form of
// RFC 3986, section 6.2.2: percent-encoded unreserved characters decoded,
// the hex digits of the other percent-encodings in upper case, dot
// segments removed (section 5.2.4); and "/" for an empty path (section
// 6.2.3, for http and https). Its escapes must be valid. A trailing slash
// stays: "/hook" and "/hook/" may be different resources.
func normalPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 >= len(p) {
			b.WriteByte(p[i])
			continue
		}
		c, err := strconv.ParseUint(p[i+1:i+3], 16, 8)
		switch {
		case err != nil:
			b.WriteByte(p[i])
			continue
		case unreserved(byte(c)):
			b.WriteByte(byte(c))
		default:
			b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
		}
		i += 2
	}
	switch p = b.String(); {
	case p == "":
		return "/"
	case p[0] != '/':
		return p // not the path of a URL with a host
	}
	// Dot segments go as RFC 3986 section 5.2.4 says, empty ones and a
	// trailing slash kept (net/url resolves the path against itself).
	u, err := url.Parse(p) // an escaped path: url.Parse has checked its escapes
	if err != nil {
		return p
	}
	return u.ResolveReference(&url.URL{}).EscapedPath()
}

// unreserved reports whether c is an unreserved character of RFC 3986
// (section 2.3), which percent-encoding does not change.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// known checks given codes against the known ones and returns them without
// duplicates, in the order of the known list.
func known(given, all []string, field, what string, required bool, pr *errs.Problems) []string {
	out := []string{}
	if len(given) == 0 {
		if required {
			pr.Add(field, "required", "at least one %s is required (known: %s)", what, strings.Join(all, ", "))
		}
		return out
	}
	for _, g := range given {
		if !slices.Contains(all, strings.TrimSpace(g)) {
			pr.Add(field, "unknown", "%q is not a known %s (known: %s)", errs.Clip(g, 40), what, strings.Join(all, ", "))
		}
	}
	for _, c := range all {
		if slices.ContainsFunc(given, func(g string) bool { return strings.TrimSpace(g) == c }) {
			out = append(out, c)
		}
	}
	return out
}

// own returns a subscription of department p. Returns NotFound for another
// department's, so that it cannot learn it exists.
func (s *Service) own(ctx context.Context, p *auth.Principal, id string) (Subscription, error) {
	if err := p.Require(auth.Department); err != nil {
		return Subscription{}, err
	}
	notFound := errs.E(errs.NotFound, "no subscription %q", errs.Clip(id, 40))
	if !ids.Valid(id) {
		return Subscription{}, notFound
	}
	sub, err := s.Store.Subscription(ctx, id)
	if errors.Is(err, errs.NotFound) || (err == nil && sub.Dept != p.ID) {
		return Subscription{}, notFound
	}
	return sub, err
}

// Subscriptions lists the department's live subscriptions.
func (s *Service) Subscriptions(ctx context.Context, p *auth.Principal) ([]Subscription, error) {
	if err := p.Require(auth.Department); err != nil {
		return nil, err
	}
	return s.Store.Subscriptions(ctx, p.ID)
}

// Get returns one of the department's subscriptions. Returns NotFound.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id string) (Subscription, error) {
	return s.own(ctx, p, id)
}

// Unsubscribe ends one of the department's subscriptions: nothing more is
// dispatched or sent to it, and its pending deliveries become dead.
// Returns NotFound.
func (s *Service) Unsubscribe(ctx context.Context, p *auth.Principal, id string) (Subscription, error) {
	sub, err := s.own(ctx, p, id)
	if err != nil {
		return Subscription{}, err
	}
	return sub, s.Store.DeleteSubscription(ctx, id, s.Clock.Now().UTC(), "the subscription was deleted")
}

// Deliveries lists the deliveries of one of the department's subscriptions
// by id after after, at most limit; status filters when not empty.
// Returns NotFound, Invalid for an unknown status or an after that is not
// an id.
func (s *Service) Deliveries(ctx context.Context, p *auth.Principal, id string, status Status, after string, limit int) ([]Delivery, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return nil, err
	}
	var pr errs.Problems
	if status != "" && status != Pending && status != Delivered && status != Dead {
		pr.Add("status", "not_allowed", "status must be pending, delivered or dead")
	}
	if after != "" && !ids.Valid(after) {
		pr.Add("after", "format", "after must be a delivery id (32 lower-case hex characters)")
	}
	if err := pr.Err("the query is not valid"); err != nil {
		return nil, err
	}
	return s.Store.Deliveries(ctx, id, status, after, limit)
}

// Redeliver sends a delivered or dead delivery again, now, with a new day
// of retries. Returns NotFound, or Conflict when it is still pending.
func (s *Service) Redeliver(ctx context.Context, p *auth.Principal, id, deliveryID string) (Delivery, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return Delivery{}, err
	}
	notFound := errs.E(errs.NotFound, "no delivery %q in subscription %s", errs.Clip(deliveryID, 40), id)
	if !ids.Valid(deliveryID) {
		return Delivery{}, notFound
	}
	d, err := s.Store.Delivery(ctx, deliveryID)
	if errors.Is(err, errs.NotFound) || (err == nil && d.Subscription != id) {
		return Delivery{}, notFound
	}
	if err != nil {
		return Delivery{}, err
	}
	if d.Status == Pending {
		return Delivery{}, errs.E(errs.Conflict, "delivery %s is pending: its next attempt is due %s", d.ID, d.NextAt.UTC().Format(time.RFC3339))
	}
	d, err = s.Store.Redeliver(ctx, deliveryID, s.Clock.Now().UTC())
	if err != nil {
		return Delivery{}, err
	}
	s.nudge()
	return d, nil
}

// defaultConcurrency is how many deliveries are in flight at once unless
// configured: receivers that hang until the attempt's timeout hold one
// each, at most LeasedPerDept of one department, so that it takes sixteen
// departments' hanging receivers to hold up the others' pushes.
const defaultConcurrency = 16 * LeasedPerDept
