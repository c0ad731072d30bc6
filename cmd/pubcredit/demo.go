package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
	"pubcredit/internal/config"
	"pubcredit/internal/demo"
	"pubcredit/internal/record"
)

// cmdDemo fills the store with synthetic departments, people and records,
// and prints each department's token; with --out it writes an NDJSON batch
// file of penalties instead (for import benchmarks).
func cmdDemo(ctx context.Context, args []string, env Env) error {
	var people, perPerson int
	var seed uint64
	var out string
	cfg, log, fs, err := setup("demo", args, env, func(fs *flag.FlagSet, c *config.Config) {
		fs.IntVar(&people, "people", 1000, "number of synthetic people")
		fs.IntVar(&perPerson, "records", 2, "records per person (on average)")
		fs.Uint64Var(&seed, "seed", 1, "random seed: the same seed makes the same data")
		fs.StringVar(&out, "out", "", "write an NDJSON file of XZCF penalties (national field codes) instead of filling the store")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments %q", fs.Args())
	}
	if people < 1 || perPerson < 1 {
		return usageError("--people and --records must be positive")
	}
	g := demo.New(seed, clock.Today(env.Clock, cfg.Location()))
	if out != "" {
		return writeDemoFile(out, g, people, perPerson)
	}
	app, err := openApp(ctx, cfg, log, env.Clock)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.ensureSchema(ctx, false); err != nil {
		return err
	}
	return seedDemo(ctx, app, g, people, perPerson, env)
}

func writeDemoFile(path string, g *demo.Generator, people, perPerson int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := g.WriteNDJSON(f, people, perPerson); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// seedDemoIfEmpty seeds a store that has no departments yet.
func seedDemoIfEmpty(ctx context.Context, app *App, people int, env Env) error {
	depts, err := app.Store.Depts(ctx)
	if err != nil || len(depts) > 0 {
		if err == nil {
			fmt.Fprintf(env.Stdout, "demo: the store already has %d departments; not seeding (tokens were printed when it was seeded; issue new ones with `pubcredit dept token CODE`)\n", len(depts))
		}
		return err
	}
	return seedDemo(ctx, app, demo.New(1, clock.Today(env.Clock, app.Config.Location())), people, 2, env)
}

func seedDemo(ctx context.Context, app *App, g *demo.Generator, people, perPerson int, env Env) error {
	var principals []*auth.Principal
	var seeded []demo.Dept
	for _, d := range demo.Depts {
		if _, err := app.Store.Dept(ctx, d.Code); err == nil {
			continue // seeded before
		}
		token, err := app.Auth.AddDept(ctx, auth.Dept{Code: d.Code, Name: d.Name, USCC: d.USCC, Submit: d.Submit, Read: d.Read,
			Lists: d.Lists, Matters: d.Matters}, time.Time{})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "department %-8s %s\n  token: %s\n", d.Code, d.Name, token)
		if len(d.Submit) == 0 {
			continue // a counter-only department submits nothing
		}
		seeded = append(seeded, d)
		principals = append(principals, &auth.Principal{Kind: auth.Department, ID: d.Code, Name: d.Name, Submit: d.Submit, Read: d.Read})
	}
	if token, err := app.Auth.IssueToken(ctx, auth.Auditor, "demo-auditor", time.Time{}); err == nil {
		fmt.Fprintf(env.Stdout, "auditor  demo-auditor\n  token: %s\n", token)
	} else {
		return err
	}
	if len(principals) == 0 {
		return nil
	}
	batches := make([][]record.Submission, len(principals))
	stored := 0
	flush := func(i int) error {
		res, err := app.Records.SubmitMany(ctx, principals[i], batches[i])
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err == nil {
				stored++
			}
		}
		batches[i] = batches[i][:0]
		return nil
	}
	var sample string
	for i := range people {
		person := g.Person()
		if sample == "" {
			sample = person.IDNumber
		}
		for j := range perPerson {
			k := (i + j) % len(principals)
			s, ok := g.ForDept(seeded[k], person)
			if !ok {
				k, s = 0, g.Penalty(person)
			}
			if batches[k] = append(batches[k], s); len(batches[k]) >= 1000 {
				if err := flush(k); err != nil {
					return err
				}
			}
		}
	}
	for k := range batches {
		if err := flush(k); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stdout, "demo: %d people, %d records stored; a sample person: %s\n", people, stored, sample)
	return nil
}
