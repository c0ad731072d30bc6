package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/access"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/config"
	"pubcredit/internal/delivery"
	"pubcredit/internal/delivery/webhook"
	"pubcredit/internal/ingest"
	"pubcredit/internal/ledger"
	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
	"pubcredit/internal/profile"
	"pubcredit/internal/record"
	"pubcredit/internal/store/postgres"
	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/vault"
)

// Store is everything the platform keeps, on one engine.
type Store interface {
	auth.Store
	record.Store
	access.Store
	ingest.Store
	ledger.Store
	listing.Store
	measure.CheckStore
	delivery.Store
	Ping(ctx context.Context) error
	SchemaVersion(ctx context.Context) (have, want int, err error)
	Migrate(ctx context.Context) error
}

// App is the wired platform: configuration, store, keys and services.
type App struct {
	Config   config.Config
	Store    Store
	close    func()
	Keys     *vault.Keyring
	Catalog  *catalog.Catalog
	Clock    clock.Clock
	Log      *slog.Logger
	Auth     *auth.Service
	Access   *access.Log
	Records  *record.Service
	Batches  *ingest.Service
	Profiles *profile.Service
	Signer   *ledger.Signer
	Ledger   *ledger.Log
	Calendar *clock.Calendar
	Lists    *listing.Service
	Checks   *measure.Checker

	Deliveries *delivery.Service // subscriptions and pushes
}

// openStore opens the configured database without migrating it.
func openStore(ctx context.Context, cfg config.Config) (Store, func(), error) {
	if path, ok := strings.CutPrefix(cfg.DB, "sqlite:"); ok {
		s, err := sqlite.Open(path)
		if err != nil {
			return nil, nil, err
		}
		return s, func() { s.Close() }, nil
	}
	s, err := postgres.Open(ctx, cfg.DB)
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// loadCatalog loads the configured catalog, or the shipped one.
func loadCatalog(cfg config.Config) (*catalog.Catalog, error) {
	if cfg.Catalog != "" {
		return catalog.LoadDir(cfg.Catalog)
	}
	return catalog.Load(catalogfs.Items())
}

// loadCalendar loads the shipped working-day calendars and the configured
// directory's, which add years and replace shipped ones.
func loadCalendar(cfg config.Config) (*clock.Calendar, error) {
	if cfg.Calendars == "" {
		return clock.LoadCalendars(catalogfs.Calendars())
	}
	return clock.LoadCalendarDir(cfg.Calendars, catalogfs.Calendars())
}

// openApp wires the platform. The schema is not checked here: callers
// decide whether to migrate or refuse.
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger, clk clock.Clock) (*App, error) {
	cat, err := loadCatalog(cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	keys, created, err := vault.LoadOrCreate(cfg.KeysPath())
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if created {
		log.Warn("created a new keyring; back it up apart from the database", "path", cfg.KeysPath())
	}
	st, closeFn, err := openStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", cfg.Redacted(), err)
	}
	signer, err := ledger.NewSigner(cfg.LedgerOrigin, keys.Signer())
	if err != nil {
		closeFn()
		return nil, fmt.Errorf("ledger: %w", err)
	}
	a := &App{Config: cfg, Store: st, close: closeFn, Keys: keys, Catalog: cat, Clock: clk, Log: log, Signer: signer}
	a.Ledger = &ledger.Log{Store: st, Signer: signer, Clock: clk, Batch: 10000}
	a.Auth = &auth.Service{Store: st, Clock: clk, Items: cat}
	a.Access = &access.Log{Store: st, Clock: clk}
	a.Records = &record.Service{
		Store: st, Catalog: cat, Keys: keys, Clock: clk, Location: cfg.Location(), Access: a.Access,
		Thresholds: record.Thresholds{MinorMax: cfg.FineMinor, SeriousMin: cfg.FineSerious}, Ledger: a.Ledger,
	}
	a.Batches = &ingest.Service{Store: st, Records: a.Records, Clock: clk, ChunkRows: cfg.ChunkRows, MaxRows: cfg.MaxRows, Answered: 100, Workers: 1}
	if !strings.HasPrefix(cfg.DB, "sqlite:") {
		// The database works in its own process: validate and seal chunks on
		// every core. (With SQLite the writer needs a core of its own.)
		a.Batches.Workers = runtime.GOMAXPROCS(0)
	}
	a.Profiles = &profile.Service{Records: a.Records, Keys: keys, Access: a.Access}
	if a.Calendar, err = loadCalendar(cfg); err != nil {
		closeFn()
		return nil, fmt.Errorf("working-day calendar: %w", err)
	}
	types, err := listing.LoadTypes(catalogfs.Lists(), cat)
	if err != nil {
		closeFn()
		return nil, fmt.Errorf("list types: %w", err)
	}
	a.Lists = &listing.Service{Types: types, Store: st, Records: a.Records, Calendar: a.Calendar, Clock: clk}
	a.Records.EntryOf, a.Records.ListOf, a.Records.SeriousNegative = a.Lists.ListOf, types.OfItem, a.Lists.Nudge
	a.Profiles.Noticed = a.Lists.NoticedRecords
	a.Auth.Lists = types.Codes
	measures, err := measure.Load(catalogfs.Measures())
	if err == nil {
		err = measures.CheckCodes(types.Codes(), cat.Codes())
	}
	if err != nil {
		closeFn()
		return nil, fmt.Errorf("measures: %w", err)
	}
	a.Auth.Matters = measures.MatterCodes
	a.Checks = &measure.Checker{Measures: measures, Store: st, Records: a.Records, Lists: a.Lists, Profiles: a.Profiles,
		Access: a.Access, Clock: clk, Calendar: a.Calendar, FeedbackDays: cfg.FeedbackDays}
	a.Deliveries = &delivery.Service{Store: st, Records: a.Records, Access: a.Access, Keys: keys, Clock: clk, Depts: st,
		Poster: webhook.New(webhook.DefaultTimeout), Items: cat.Codes, Lists: types.Codes,
		ListItem: func(list string) (string, bool) {
			if t, ok := types.Type(list); ok {
				return t.Item, true
			}
			return "", false
		}}
	return a, nil
}

// Close releases the store.
func (a *App) Close() { a.close() }

// ensureSchema migrates a new database, migrates a stale one when allowed,
// and otherwise refuses to run on a stale schema.
func (a *App) ensureSchema(ctx context.Context, migrate bool) error {
	have, want, err := a.Store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case have == want:
		return nil
	case have > want:
		return fmt.Errorf("the database schema is at version %d, newer than this build's %d: upgrade pubcredit", have, want)
	case have > 0 && !migrate:
		return errors.New(fmt.Sprintf("the database schema is at version %d and this build needs %d: run `pubcredit migrate` or `pubcredit serve --migrate`", have, want))
	}
	a.Log.Info("migrating the database schema", "from", have, "to", want)
	return a.Store.Migrate(ctx)
}

// ready reports whether the platform can serve.
func (a *App) ready(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		return err
	}
	have, want, err := a.Store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if have != want {
		return fmt.Errorf("schema at version %d, need %d", have, want)
	}
	return nil
}
