package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"pubcredit/internal/auth"
	"pubcredit/internal/config"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
)

// deptUsage is the dept command's help.
const deptUsage = `Usage:
  pubcredit dept add --code CODE --name NAME [--uscc CODE] --submit ITEM,... --read ITEM,... [--lists LIST,...] [--matters MATTER,...] [--expires DURATION]
  pubcredit dept add --auditor NAME [--expires DURATION]
  pubcredit dept add --operator NAME [--expires DURATION]
  pubcredit dept list
  pubcredit dept tokens
  pubcredit dept token CODE|--auditor NAME|--operator NAME [--revoke-earlier] [--expires DURATION]
  pubcredit dept disable CODE|--auditor NAME|--operator NAME

"pubcredit dept SUBCOMMAND --help" lists a subcommand's flags.
`

// cmdDept administers departments and their tokens from the shell. A new
// token is printed as the last line of standard output, once.
func cmdDept(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageError("dept needs a subcommand: add, list, tokens, token, disable")
	}
	sub, rest := args[0], args[1:]
	// Help and usage errors are answered before anything is opened or
	// created (a keyring, a database).
	switch sub {
	case "add", "list", "tokens", "token", "disable":
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stderr, deptUsage)
		return flag.ErrHelp
	default:
		return usageError("unknown dept subcommand %q (add, list, tokens, token, disable)", sub)
	}
	// The department code may come before the flags too (dept token CODE --expires 8760h).
	var codeArg string
	if (sub == "token" || sub == "disable") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		codeArg, rest = rest[0], rest[1:]
	}
	var code, name, uscc, submit, read, auditor, operator, lists, matters string
	var expires time.Duration
	var revokeEarlier bool
	cfg, log, fs, err := setup("dept "+sub, rest, env, func(fs *flag.FlagSet, c *config.Config) {
		if sub == "add" {
			fs.StringVar(&code, "code", "", "department code")
			fs.StringVar(&name, "name", "", "department name")
			fs.StringVar(&uscc, "uscc", "", "the department's unified social credit code")
			fs.StringVar(&submit, "submit", "", "catalog items the department may submit, comma-separated")
			fs.StringVar(&read, "read", "", "catalog items the department may read, comma-separated")
			fs.StringVar(&lists, "lists", "", "lists the department owns (enters and removes people), comma-separated")
			fs.StringVar(&matters, "matters", "", "counter matters the department checks people for, comma-separated")
		}
		if sub != "list" && sub != "tokens" {
			fs.StringVar(&auditor, "auditor", "", "instead of a department, an auditor's tokens under this name")
			fs.StringVar(&operator, "operator", "", "instead of a department, a platform operator's tokens under this name (statistics, access logs)")
		}
		if sub == "add" || sub == "token" {
			fs.DurationVar(&expires, "expires", 0, "token lifetime (e.g. 8760h); 0 never expires")
		}
		if sub == "token" {
			fs.BoolVar(&revokeEarlier, "revoke-earlier", false, "revoke the earlier tokens first (rotation, or a token that leaked)")
		}
	})
	if err != nil {
		return err
	}
	// An auditor's or an operator's tokens, in place of a department's.
	var kind auth.Kind
	var holder string
	switch {
	case auditor != "" && operator != "":
		return usageError("dept %s: give --auditor or --operator, not both", sub)
	case auditor != "":
		kind, holder = auth.Auditor, auditor
	case operator != "":
		kind, holder = auth.Operator, operator
	}
	if holder != "" && (code != "" || name != "" || codeArg != "" || fs.NArg() > 0) {
		return usageError("dept %s --%s NAME takes no department code or name", sub, kind)
	}
	if expires < 0 {
		return usageError("--expires %v: a token's lifetime cannot be negative (0 never expires)", expires)
	}
	if usage, ok := map[string]string{"token": "dept token CODE|--auditor NAME|--operator NAME [--revoke-earlier] [--expires DURATION]",
		"disable": "dept disable CODE|--auditor NAME|--operator NAME"}[sub]; ok && holder == "" {
		if codeArg, ok = oneCode(codeArg, fs); !ok {
			return usageError("%s", usage)
		}
	} else if fs.NArg() > 0 {
		return usageError("unexpected arguments %q after dept %s", fs.Args(), sub)
	}
	app, err := openApp(ctx, cfg, log, env.Clock)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := app.ensureSchema(ctx, false); err != nil {
		return err
	}
	var expiry time.Time
	if expires > 0 {
		expiry = env.Clock.Now().Add(expires)
	}
	switch sub {
	case "add":
		if holder != "" {
			token, err := app.Auth.IssueToken(ctx, kind, holder, expiry)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s %s: token (shown once, keep it secret):\n%s\n", kind, holder, token)
			return nil
		}
		if uscc != "" {
			n, err := identity.CheckUSCC(uscc)
			if err != nil {
				return usageError("--uscc: %v", err)
			}
			uscc = n
		}
		d := auth.Dept{Code: code, Name: name, USCC: uscc, Submit: splitList(submit), Read: splitList(read),
			Lists: splitList(lists), Matters: splitList(matters)}
		token, err := app.Auth.AddDept(ctx, d, expiry)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "department %s (%s) added: submit [%s], read [%s], lists [%s], matters [%s]\ntoken (shown once, keep it secret):\n%s\n",
			code, name, strings.Join(d.Submit, ","), strings.Join(d.Read, ","), strings.Join(d.Lists, ","), strings.Join(d.Matters, ","), token)
	case "list":
		depts, err := app.Store.Depts(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tNAME\tUSCC\tSUBMIT\tREAD\tLISTS\tMATTERS\tSTATUS")
		for _, d := range depts {
			status := "active"
			if d.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Code, d.Name, d.USCC, strings.Join(d.Submit, ","), strings.Join(d.Read, ","),
				strings.Join(d.Lists, ","), strings.Join(d.Matters, ","), status)
		}
		return tw.Flush()
	case "tokens":
		tokens, err := app.Store.Tokens(ctx)
		if err != nil {
			return err
		}
		return printTokens(env.Stdout, tokens, env.Clock.Now())
	case "token":
		if holder == "" {
			if _, err := app.Store.Dept(ctx, codeArg); err != nil {
				return err
			}
			kind, holder = auth.Department, codeArg
		} else if err := knownHolder(ctx, app.Store, kind, holder); err != nil {
			return err
		}
		earlier := "earlier tokens stay valid (--revoke-earlier revokes them)"
		if revokeEarlier {
			n, err := app.Store.RevokeTokens(ctx, kind, holder, env.Clock.Now())
			if err != nil {
				return err
			}
			earlier = fmt.Sprintf("%d earlier token(s) revoked", n)
		}
		token, err := app.Auth.IssueToken(ctx, kind, holder, expiry)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "new token for %s %s (shown once; %s):\n%s\n", kind, holder, earlier, token)
	case "disable":
		if holder != "" { // an auditor or operator: their tokens are all there is of them
			n, err := app.Store.RevokeTokens(ctx, kind, holder, env.Clock.Now())
			if err != nil {
				return err
			}
			if n == 0 {
				return errs.E(errs.NotFound, "%s %s has no token that is not revoked", kind, holder)
			}
			fmt.Fprintf(env.Stdout, "%s %s: %d token(s) revoked\n", kind, holder, n)
			return nil
		}
		if err := app.Store.SetDeptDisabled(ctx, codeArg, true); err != nil {
			return err
		}
		n, err := app.Store.RevokeTokens(ctx, auth.Department, codeArg, env.Clock.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "department %s disabled; %d token(s) revoked\n", codeArg, n)
	}
	return nil
}

// oneCode returns the one department code given, before the flags (arg)
// or after them.
func oneCode(arg string, fs *flag.FlagSet) (string, bool) {
	switch {
	case arg != "" && fs.NArg() == 0:
		return arg, true
	case arg == "" && fs.NArg() == 1:
		return fs.Arg(0), true
	}
	return "", false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// printTokens lists tokens for an operator: whose, when issued, until when,
// and whether they still admit anyone. A token is known by the start of the
// hash the platform keeps; the token itself was shown once and is not kept.
func printTokens(w io.Writer, tokens []auth.Token, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tHOLDER\tTOKEN\tISSUED\tEXPIRES\tSTATUS")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range tokens {
		status := "active"
		switch {
		case !t.RevokedAt.IsZero():
			status = "revoked " + day(t.RevokedAt)
		case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
			status = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\tsha256:%x\t%s\t%s\t%s\n", t.Kind, t.Subject, t.Hash[:6], day(t.CreatedAt), day(t.ExpiresAt), status)
	}
	return tw.Flush()
}

// knownHolder returns NotFound unless an auditor's or operator's name has
// been given a token before: a mistyped name would otherwise get a token
// of its own.
func knownHolder(ctx context.Context, st auth.Store, kind auth.Kind, holder string) error {
	tokens, err := st.Tokens(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tokens, func(t auth.Token) bool { return t.Kind == kind && t.Subject == holder }) {
		return errs.E(errs.NotFound, "no %s %s (dept add --%s %s adds one; dept tokens lists them)", kind, holder, kind, holder)
	}
	return nil
}
