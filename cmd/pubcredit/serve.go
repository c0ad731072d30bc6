package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"pubcredit/internal/api"
	"pubcredit/internal/config"
	"pubcredit/internal/httpserver"
)

func cmdServe(ctx context.Context, args []string, env Env) error {
	var demoPeople int
	cfg, log, fs, err := setup("serve", args, env, func(fs *flag.FlagSet, c *config.Config) {
		c.ServeFlags(fs)
		fs.IntVar(&demoPeople, "demo", 0, "on an empty store, fill in N synthetic people with departments and print their tokens")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments %q", fs.Args())
	}
	app, err := openApp(ctx, cfg, log, env.Clock)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.ensureSchema(ctx, cfg.Migrate); err != nil {
		return err
	}
	if err := app.Ledger.CheckSigner(ctx); err != nil {
		return err
	}
	// Batches a stopped process (a crash, a kill) left running are marked
	// interrupted, their counts kept. One process serves a SQLite database,
	// so on start every running batch is such a one; on PostgreSQL other
	// processes may be running batches, and only those older than any batch
	// can run are taken, now and every minute.
	stale := staleBatchAge(cfg)
	startIdle := stale
	if strings.HasPrefix(cfg.DB, "sqlite:") {
		startIdle = 0
	}
	interruptBatches(ctx, app, log, startIdle)
	if demoPeople > 0 {
		if err := seedDemoIfEmpty(ctx, app, demoPeople, env); err != nil {
			return err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := &api.API{
		Catalog: app.Catalog, Records: app.Records, Batches: app.Batches, Profiles: app.Profiles, Ledger: app.Ledger, Lists: app.Lists, Checks: app.Checks, Calendar: app.Calendar, Clock: app.Clock,
		MaxBody: cfg.MaxBody, MaxBatch: cfg.MaxBatch, Ready: app.ready,
	}
	a.Deliveries = app.Deliveries
	srv := httpserver.New(cfg.Addr, a.Routes(), app.Auth, log, reg,
		httpserver.Timeouts{Read: cfg.ReadTimeout, Write: cfg.WriteTimeout, Idle: cfg.IdleTimeout})

	// Listen before serving, so that the address is known (and :0 works).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	adminAddr := ""
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return err
		}
		admin := &http.Server{Handler: httpserver.AdminHandler(reg), ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
		servers, listeners = append(servers, admin), append(listeners, aln)
		adminAddr = aln.Addr().String()
	}
	log.Info("serving", "addr", ln.Addr().String(), "admin", adminAddr, "db", cfg.Redacted(), "catalog_items", len(app.Catalog.Items))
	if env.Ready != nil {
		env.Ready(ln.Addr().String(), adminAddr)
	} else {
		fmt.Fprintf(env.Stdout, "pubcredit listening on http://%s\n", ln.Addr())
	}

	// The ledger integrator: every committed leaf is under a signed
	// checkpoint within a second. It catches up at once on start, so a
	// crash between a commit and its checkpoint loses nothing.
	if _, err := app.Ledger.Integrate(ctx); err != nil {
		log.Error("ledger integration", "err", err.Error())
	}
	// The background jobs stop with the signal that stops the servers, and
	// serve returns only when they have: an attempt at a push cut off by
	// the stop is recorded as interrupted (and is due again at once)
	// before the store closes.
	jobs, stopJobs := context.WithCancel(ctx)
	var running sync.WaitGroup
	defer running.Wait()
	defer stopJobs()
	running.Go(func() {
		app.Ledger.Run(jobs, 250*time.Millisecond, func(err error) { log.Error("ledger integration", "err", err.Error()) })
	})
	// List entries move on by date (notice periods end, terms expire); the
	// job reads the stored state, so a restart catches up at once.
	running.Go(func() {
		app.Lists.Run(jobs, time.Minute, func(err error) { log.Error("list entries", "err", err.Error()) })
	})
	// Pushes: the dispatcher turns new ledger leaves into deliveries and the
	// sender posts them, both from stored state (a restart loses nothing).
	running.Go(func() {
		app.Deliveries.Run(jobs, 200*time.Millisecond, func(err error) { log.Error("deliveries", "err", err.Error()) })
	})
	running.Go(func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-jobs.Done():
				return
			case <-t.C:
				interruptBatches(jobs, app, log, stale)
			}
		}
	})

	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(listeners[i]) }()
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(shutdown)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// staleBatchAge is the age past which a running batch cannot still be
// running: an upload ends with the server's read timeout (its last chunks
// are stored within seconds after), with a wide margin for `pubcredit
// import` and a server configured otherwise.
func staleBatchAge(cfg config.Config) time.Duration {
	return max(30*time.Minute, 2*cfg.ReadTimeout)
}

// interruptBatches marks the running batches created more than idle ago
// as interrupted, and logs what it did.
func interruptBatches(ctx context.Context, app *App, log *slog.Logger, idle time.Duration) {
	n, err := app.Batches.Interrupt(ctx, idle)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("marking interrupted batches", "err", err.Error())
	case n > 0:
		log.Warn("batches left running by a stopped process marked interrupted", "batches", n)
	}
}
