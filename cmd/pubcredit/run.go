package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"pubcredit/internal/clock"
	"pubcredit/internal/config"
	"pubcredit/internal/errs"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

const usage = `pubcredit: the personal public credit information platform

Usage:
  pubcredit serve   [--addr ADDR] [--migrate] [--demo N]   run the API (and background jobs)
  pubcredit migrate                                       apply schema migrations
  pubcredit dept add --code CODE --name NAME [--uscc CODE] --submit ITEM,... --read ITEM,...
                     [--lists LIST,...] [--matters MATTER,...]   lists it owns, counter matters it checks
  pubcredit dept add --auditor NAME                       an auditor token
  pubcredit dept add --operator NAME                      a platform operator token
  pubcredit dept list | token CODE | disable CODE         (token and disable take --auditor NAME or --operator NAME too)
  pubcredit import FILE --dept CODE [--item ITEM] [--format ndjson|csv|xlsx]
  pubcredit demo    [--people N]                          fill the store with synthetic data
  pubcredit verify-receipt FILE --key KEY                 check a record's ledger receipt offline (FILE - reads standard input)
  pubcredit verify  [--key KEY] [--erased]                check the database against its ledger (writes nothing)
  pubcredit witness --url BASE --key KEY --state FILE     check the served log's consistency with the last checkpoint seen
  pubcredit version

Common flags (also env PUBCREDIT_*): --db sqlite:PATH|postgres://..., --keys FILE,
--catalog DIR, --calendars DIR, --config FILE, --timezone ZONE, --log-level LEVEL, --ledger-origin ORIGIN.
"pubcredit COMMAND --help" describes a command; it opens and creates nothing.

Exit codes: 0 success; 2 a usage error, or a check (verify, verify-receipt,
witness) that could not run; 1 any other failure, and a check that ran and
found problems (tampering, a receipt that does not verify, a rewritten log).
`

// Env is what a command runs with: its streams, environment and clock.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Clock          clock.Clock
	// Ready, when set, receives the serve command's listening addresses.
	Ready func(addr, adminAddr string)
}

// Run runs one command and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return RunEnv(ctx, args, Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv, Clock: clock.System{}})
}

// RunEnv is Run with an explicit environment (tests inject clocks and hooks).
func RunEnv(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, Env) error{
		"serve": cmdServe, "migrate": cmdMigrate, "dept": cmdDept, "import": cmdImport,
		"demo": cmdDemo, "version": cmdVersion, "verify-receipt": cmdVerifyReceipt,
		"verify":  cmdVerify,
		"witness": cmdWitness,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(env.Stdout, usage)
			return 0
		}
		fmt.Fprintf(env.Stderr, "pubcredit: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], env)
	var f foundError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "pubcredit %s: %v\n", args[0], err)
		return 2
	case errors.As(err, &f):
		fmt.Fprintf(env.Stderr, "pubcredit %s: %s\n", args[0], describe(err))
		return 1
	}
	fmt.Fprintf(env.Stderr, "pubcredit %s: %s\n", args[0], describe(err))
	if checks[args[0]] {
		return 2 // the check could not run: nothing was found either way
	}
	return 1
}

// checks are the commands whose exit code tells a finding (1) from a
// failure to check (2), so that a cron job or script can tell "tampered"
// from "misconfigured".
var checks = map[string]bool{"verify": true, "verify-receipt": true, "witness": true}

// foundError is the failure of a check that ran to its end and found
// problems: exit 1.
type foundError struct{ error }

func (e foundError) Unwrap() error { return e.error }

// found marks err as a check's finding (exit 1) rather than a failure to
// check (exit 2).
func found(err error) error { return foundError{err} }

// describe renders an error for a person at a terminal: the public message
// and every field problem, one per line.
func describe(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	_, msg, details := errs.Public(err)
	if e.Kind == errs.Internal {
		msg = err.Error() // the operator at the shell may see the cause
	}
	var b strings.Builder
	b.WriteString(msg)
	for _, d := range details {
		fmt.Fprintf(&b, "\n  %s: %s", d.Field, d.Message)
	}
	return b.String()
}

var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// setup parses the common flags and the command's own, validates the
// configuration and returns it with a logger.
func setup(name string, args []string, env Env, own func(fs *flag.FlagSet, c *config.Config)) (config.Config, *slog.Logger, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var cfg config.Config
	// own flags bind to cfg after the defaults, file and env are applied.
	cfg, err := config.LoadWith(fs, args, env.Getenv, func(c *config.Config) {
		if own != nil {
			own(fs, c)
		}
	})
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, nil, fs, err
		}
		return cfg, nil, fs, usageError("%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, fs, fmt.Errorf("configuration: %w", err)
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	return cfg, log, fs, nil
}

func cmdVersion(ctx context.Context, args []string, env Env) error {
	fmt.Fprintln(env.Stdout, "pubcredit", Version)
	return nil
}

func cmdMigrate(ctx context.Context, args []string, env Env) error {
	cfg, log, fs, err := setup("migrate", args, env, nil)
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
	if err := app.Store.Migrate(ctx); err != nil {
		return err
	}
	have, _, err := app.Store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "schema at version %d\n", have)
	return nil
}
