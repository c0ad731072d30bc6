package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"pubcredit/internal/config"
	"pubcredit/internal/ledger"
	"pubcredit/internal/vault"
	"pubcredit/internal/verify"
)

// errNotVerified is the verify command's failure: the database does not
// match its ledger.
var errNotVerified = errors.New("the database does not match its ledger")

// cmdVerify checks the database against its ledger (internal/verify): every
// leaf recomputed from its row, the tree from the leaves, every stored
// checkpoint's signature and root. It prints each problem on a line and a
// summary, and fails (exit 1) when anything was changed, deleted or
// inserted behind the platform's back. Erased rows are not problems.
//
// It writes nothing: it neither migrates, nor integrates leaves, nor creates
// a keyring. Leaves not yet under a checkpoint are counted, not checked
// against one; a running server covers them within a second.
func cmdVerify(ctx context.Context, args []string, env Env) error {
	var key string
	var listErased bool
	cfg, _, _, err := setup("verify", args, env, func(fs *flag.FlagSet, c *config.Config) {
		fs.StringVar(&key, "key", "", "the ledger's note verifier key (GET /api/v1/ledger/key); default: the keyring's, under --ledger-origin")
		fs.BoolVar(&listErased, "erased", false, "also list the rows whose salt was erased at the end of retention")
	})
	if err != nil {
		return err
	}
	if key != "" {
		if _, err := note.NewVerifier(key); err != nil {
			return usageError("--key: %v", err)
		}
	} else {
		// Load, not LoadOrCreate: a keyring made up now would verify nothing.
		keys, err := vault.Load(cfg.KeysPath())
		if err != nil {
			return fmt.Errorf("keys: %v (or give the ledger's key with --key)", err)
		}
		signer, err := ledger.NewSigner(cfg.LedgerOrigin, keys.Signer())
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		key = signer.VerifierKey()
	}
	if path, ok := strings.CutPrefix(cfg.DB, "sqlite:"); ok {
		// Opening a SQLite path that does not exist would create it.
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("database %s: %w", cfg.Redacted(), err)
		}
	}
	st, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.Redacted(), err)
	}
	defer closeStore()
	have, want, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if have != want {
		return fmt.Errorf("the database schema is at version %d and this build reads version %d: verify with the matching build", have, want)
	}
	db, ok := st.(verify.Database)
	if !ok {
		return fmt.Errorf("the %T store cannot be verified", st)
	}
	snap, done, err := db.VerifySnapshot(ctx)
	if err != nil {
		return err
	}
	defer done()

	out := bufio.NewWriter(env.Stdout)
	defer out.Flush()
	sum, err := verify.Run(ctx, snap, key, func(p verify.Problem) {
		if p.Failure() || listErased {
			fmt.Fprintln(out, p)
		}
	})
	printSummary(out, sum, err == nil)
	if err != nil {
		return err
	}
	if !sum.OK() {
		return fmt.Errorf("%w: %d problems", errNotVerified, sum.Problems)
	}
	return nil
}

// printSummary writes what was verified, and the verdict when complete.
func printSummary(out *bufio.Writer, s verify.Summary, complete bool) {
	fmt.Fprintf(out, "leaves: %d (%d record versions, %d access events, %d list entry versions); records: %d; list entries: %d; checkpoints: %d, the newest of size %d\n",
		s.Leaves, s.Versions, s.AccessEvents, s.ListVersions, s.Records, s.ListEntries, s.Checkpoints, s.NewestSize)
	if s.Unintegrated > 0 {
		fmt.Fprintf(out, "%d leaves after the newest checkpoint (a running server signs them within a second): checked against their rows, not yet against a checkpoint\n", s.Unintegrated)
	}
	if s.Erased > 0 {
		fmt.Fprintf(out, "%d rows erased at the end of retention: their leaves are kept; their kind, id and time checked\n", s.Erased)
	}
	switch {
	case !complete:
		fmt.Fprintf(out, "INCOMPLETE: %d problems found before the database could not be read\n", s.Problems)
	case s.OK():
		fmt.Fprintln(out, "OK: every row matches the ledger, and the ledger its signed checkpoints")
	default:
		fmt.Fprintf(out, "FAILED: %d problems\n", s.Problems)
	}
}
