package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"pubcredit/internal/auth"
	"pubcredit/internal/config"
	"pubcredit/internal/ingest"
)

// cmdImport runs a department's batch file through the same path as
// POST /api/v1/batches, without HTTP, and prints the batch as JSON.
func cmdImport(ctx context.Context, args []string, env Env) error {
	var dept, item, format string
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	cfg, log, fs, err := setup("import", args, env, func(fs *flag.FlagSet, c *config.Config) {
		fs.StringVar(&dept, "dept", "", "the submitting department's code")
		fs.StringVar(&item, "item", "", "catalog item of rows that do not name theirs")
		fs.StringVar(&format, "format", "", "ndjson, csv or xlsx (default: from the file name)")
	})
	if err != nil {
		return err
	}
	rest := fs.Args()
	if file == "" && len(rest) > 0 {
		file, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return usageError("unexpected arguments %q", rest)
	}
	if file == "" || dept == "" {
		return usageError("import FILE --dept CODE [--item ITEM] [--format ndjson|csv|xlsx]")
	}
	if format == "" {
		format = file
	}
	f, ok := ingest.FormatOf(format)
	if !ok {
		return usageError("cannot tell the format of %s: give --format ndjson, csv or xlsx", file)
	}
	app, err := openApp(ctx, cfg, log, env.Clock)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.ensureSchema(ctx, false); err != nil {
		return err
	}
	d, err := app.Store.Dept(ctx, dept)
	if err != nil {
		return err
	}
	if d.Disabled {
		return fmt.Errorf("department %s is disabled", dept)
	}
	p := &auth.Principal{Kind: auth.Department, ID: d.Code, Name: d.Name, Submit: d.Submit, Read: d.Read}
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	res, err := app.Batches.Run(ctx, p, f, in, item)
	if err != nil {
		return err
	}
	// A serious negative record ends its person's red-list entries at once
	// (DOMAIN.md section 7). A running server is not told of what another
	// process wrote, and would wait for its next sweep: sweep here. The
	// rows are stored whatever comes of it.
	if _, err := app.Lists.Advance(ctx); err != nil {
		log.Warn("import: the red lists were not swept; a running server sweeps them within 15 minutes", "err", err)
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(map[string]any{"batch": res.Batch, "rejections": res.Rejections})
}
