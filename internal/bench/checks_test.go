package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/api"
	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
	"pubcredit/internal/demo"
	"pubcredit/internal/httpserver"
	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

var (
	people      = flag.Int("people", 20000, "people in the store of the check benchmarks")
	loadSeconds = flag.Duration("load", 3*time.Second, "duration of each HTTP load run")
	loadConns   = flag.Int("conns", 16, "concurrent clients of the HTTP load runs")
)

// counter is a platform with lists and checks on a store of -people people,
// one record each, every 20th of them on the dishonest-debtor list.
type counter struct {
	*platform
	checker *measure.Checker
	lists   *listing.Service
	people  []string
	clerk   *auth.Principal
}

func newCounter(b testing.TB, engine string, n int) (*counter, func()) {
	b.Helper()
	st, closeFn := openEngine(b, engine)
	p := newPlatform(b, st)
	ctx := context.Background()
	cal, err := clock.LoadCalendars(catalogfs.Calendars())
	if err != nil {
		b.Fatal(err)
	}
	types, err := listing.LoadTypes(catalogfs.Lists(), p.records.Catalog)
	if err != nil {
		b.Fatal(err)
	}
	set, err := measure.Load(catalogfs.Measures())
	if err != nil {
		b.Fatal(err)
	}
	lists := &listing.Service{Types: types, Store: st, Records: p.records, Calendar: cal, Clock: p.records.Clock}
	c := &counter{platform: p, lists: lists,
		checker: &measure.Checker{Measures: set, Store: st, Records: p.records, Lists: lists, Profiles: p.profiles,
			Access: p.records.Access, Clock: p.records.Clock, Calendar: cal, FeedbackDays: 5},
		clerk: &auth.Principal{Kind: auth.Department, ID: "BENCH", Matters: set.MatterCodes(), Lists: []string{"SXBZXR"}, Name: "bench"},
	}
	g := demo.New(11, clock.Date{Year: 2026, Month: 11, Day: 30})
	var subs []record.Submission
	flush := func() { p.mustSubmit(b, subs); subs = subs[:0] }
	for i := range n {
		person := g.Person()
		c.people = append(c.people, person.IDNumber)
		if i%20 == 0 {
			_, _, err := lists.Enter(ctx, c.clerk, "SXBZXR", listing.EntryRequest{
				Ref: fmt.Sprint("L", i), Subject: record.Subject{IDNumber: person.IDNumber, Name: person.Name}, DecidedOn: "2026-06-01",
				DocumentNo: fmt.Sprintf("(2026)津0101执%d号", i), Grounds: "refused_with_ability"})
			if err != nil {
				b.Fatal(err)
			}
			continue
		}
		if subs = append(subs, g.Penalty(person)); len(subs) == 5000 {
			flush()
		}
	}
	flush()
	return c, closeFn
}

// BenchmarkCheck measures a check at the counter in process: facts loaded
// from the store (list entries and records of the person), every measure of
// the matter evaluated, the check and its access event stored. It reports
// p50 and p99 of single checks; Evaluate alone is BenchmarkEvaluate in
// internal/measure.
func BenchmarkCheck(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			c, closeFn := newCounter(b, engine, *people)
			defer closeFn()
			ctx := context.Background()
			r := rand.New(rand.NewPCG(1, 2))
			var lat []time.Duration
			for b.Loop() {
				who := c.people[r.IntN(len(c.people))]
				start := time.Now()
				_, err := c.checker.Check(ctx, c.clerk, record.Subject{IDNumber: who}, "high_consumption", "机票购买")
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(lat)
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
			b.Logf("%s: %d people, %d checks: p50 %v, p99 %v", engine, *people, len(lat), p50, p99)
		})
	}
}

// TestCheckFactsAreTheCheck: what Checker.Facts reads and Evaluate makes
// of it is what a check returns, for people on a list and off it.
func TestCheckFactsAreTheCheck(t *testing.T) {
	c, closeFn := newCounter(t, "sqlite", 60)
	defer closeFn()
	ctx := context.Background()
	listed := 0
	for _, who := range c.people[:25] {
		f, err := c.checker.Facts(ctx, record.Subject{IDNumber: who})
		if err != nil {
			t.Fatal(err)
		}
		hits, err := c.checker.Measures.Evaluate(ctx, "high_consumption", f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.checker.Check(ctx, c.clerk, record.Subject{IDNumber: who}, "high_consumption", "机票购买")
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, h := range hits {
			got = append(got, h.Measure.Code)
		}
		for _, m := range res.Check.Measures {
			want = append(want, m.Code)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Facts and Evaluate give %v, the check %v", who[:6], got, want)
		}
		if len(f.Lists) > 0 {
			listed++
		}
	}
	if listed == 0 {
		t.Fatal("nobody checked was on a list")
	}
}

// BenchmarkCheckEvaluation measures the evaluation of a check in process:
// the person's facts loaded from the store (list entries and records in
// use) and every measure of the matter evaluated, nothing stored. p50 and
// p99 of single evaluations; the target is a p99 under 1 ms on a store of
// 1,000,000 people (-people).
func BenchmarkCheckEvaluation(b *testing.B) {
	c, closeFn := newCounter(b, "sqlite", *people)
	defer closeFn()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	var lat []time.Duration
	hits := 0
	for b.Loop() {
		who := c.people[r.IntN(len(c.people))]
		start := time.Now()
		f, err := c.checker.Facts(ctx, record.Subject{IDNumber: who})
		if err != nil {
			b.Fatal(err)
		}
		ms, err := c.checker.Measures.Evaluate(ctx, "high_consumption", f)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		hits += len(ms)
	}
	if hits == 0 {
		b.Fatal("no measure applied to anyone: the store holds list entries that must")
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.Logf("sqlite: %d people, %d evaluations: p50 %v, p99 %v", *people, len(lat), p50, p99)
}

// BenchmarkHTTPChecks loads POST /api/v1/checks over loopback HTTP with
// -conns clients for -load, and in the same run a plain net/http handler
// that answers a fixed JSON body, and reports both throughputs, their
// ratio (target: at least 0.4) and the checks' p99 latency.
func BenchmarkHTTPChecks(b *testing.B) {
	c, closeFn := newCounter(b, "sqlite", *people)
	defer closeFn()
	a := &api.API{Catalog: c.records.Catalog, Records: c.records, Profiles: c.profiles, Lists: c.lists, Checks: c.checker,
		Clock: c.records.Clock, MaxBody: 1 << 20, MaxBatch: 1 << 20, Ready: func(context.Context) error { return nil }}
	authn := fixedAuth{c.clerk}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httpserver.New("127.0.0.1:0", a.Routes(), authn, log, nil, httpserver.Timeouts{Read: time.Minute, Write: time.Minute, Idle: time.Minute})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	plain := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"check_id":"01a22c15ddda48874b3a0d85f3466c62","measures":[]}`))
	})}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go plain.Serve(pln)
	defer plain.Close()

	for b.Loop() {
		r := rand.New(rand.NewPCG(3, 4))
		var mu sync.Mutex
		body := func() string {
			mu.Lock()
			defer mu.Unlock()
			return `{"subject":{"id_number":"` + c.people[r.IntN(len(c.people))] + `"},"matter":"high_consumption","purpose":"机票购买"}`
		}
		base, _ := load(b, "http://"+pln.Addr().String()+"/", body)
		rps, p99 := load(b, "http://"+ln.Addr().String()+"/api/v1/checks", body)
		b.ReportMetric(base, "plain_req/s")
		b.ReportMetric(rps, "checks_req/s")
		b.ReportMetric(rps/base, "ratio")
		b.ReportMetric(float64(p99.Microseconds())/1000, "checks_p99_ms")
		b.Logf("%d people, %d connections, %v each: plain handler %.0f req/s, POST /api/v1/checks %.0f req/s (ratio %.2f), checks p99 %v",
			*people, *loadConns, *loadSeconds, base, rps, rps/base, p99)
	}
}

type fixedAuth struct{ p *auth.Principal }

func (f fixedAuth) Authenticate(context.Context, string) (*auth.Principal, error) { return f.p, nil }

// load posts bodies to url from -conns clients for -load and returns the
// throughput and the p99 latency. Every answer must be 200.
func load(b *testing.B, url string, body func() string) (float64, time.Duration) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *loadConns, MaxConnsPerHost: *loadConns}, Timeout: 10 * time.Second}
	deadline := time.Now().Add(*loadSeconds)
	var n atomic.Int64
	var failed atomic.Value
	lats := make([][]time.Duration, *loadConns)
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cpuTime()
	for i := range *loadConns {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t := time.Now()
				req, _ := http.NewRequest("POST", url, strings.NewReader(body()))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer pct_bench")
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Store(fmt.Sprintf("status %d", resp.StatusCode))
					return
				}
				lats[i] = append(lats[i], time.Since(t))
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatalf("load on %s: %v", url, f)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	b.Logf("%s: %d requests, %.0f µs of CPU each (server and load generator)", url, n.Load(), float64(cpu.Microseconds())/float64(n.Load()))
	return float64(n.Load()) / elapsed.Seconds(), all[len(all)*99/100]
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
