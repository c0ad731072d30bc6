package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
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
	jobs, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	go app.Ledger.Run(jobs, 250*time.Millisecond, func(err error) { log.Error("ledger integration", "err", err.Error()) })
	// List entries move on by date (notice periods end, terms expire); the
	// job reads the stored state, so a restart catches up at once.
	go app.Lists.Run(jobs, time.Minute, func(err error) { log.Error("list entries", "err", err.Error()) })
	// Pushes: the dispatcher turns new ledger leaves into deliveries and the
	// sender posts them, both from stored state (a restart loses nothing).
	go app.Deliveries.Run(jobs, 200*time.Millisecond, func(err error) { log.Error("deliveries", "err", err.Error()) })

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
