package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"

	"pubcredit/internal/ledger"
)

// verifyReceiptUsage is the verify-receipt command's help, with its exit
// codes.
const verifyReceiptUsage = `Usage: pubcredit verify-receipt FILE --key KEY     (or --key KEY FILE; FILE - reads standard input)

Checks a record's ledger receipt offline: the leaf, the checkpoint's
signature under KEY, and the inclusion proof. It needs no database and no
network.

Exit codes:
  0  the receipt verifies
  1  the receipt does not verify (changed, malformed, or signed by another key)
  2  the check could not run: a usage error, a malformed KEY, or FILE cannot be read

Flags:
`

// cmdVerifyReceipt checks a receipt offline: the leaf, the checkpoint's
// signature under the given verifier key, and the inclusion proof. It needs
// no database and no network.
func cmdVerifyReceipt(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("verify-receipt", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), verifyReceiptUsage)
		fs.PrintDefaults()
	}
	key := fs.String("key", "", "the ledger's note verifier key (GET /api/v1/ledger/key)")
	// FILE may come before the flags. "-" (standard input) is not a flag:
	// the flag package stops at it, as at any other argument.
	var file string
	if len(args) > 0 && (args[0] == "-" || len(args[0]) > 0 && args[0][0] != '-') {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError("%v", err)
	}
	switch {
	case file == "" && fs.NArg() == 1:
		file = fs.Arg(0)
	case fs.NArg() > 0:
		return usageError("unexpected arguments %q: verify-receipt FILE --key KEY checks one receipt", fs.Args())
	}
	if file == "" || *key == "" {
		return usageError("verify-receipt FILE --key KEY (FILE - reads standard input)")
	}
	if _, err := note.NewVerifier(*key); err != nil {
		return usageError("--key: %v", err)
	}
	var in io.Reader = env.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	b, err := io.ReadAll(io.LimitReader(in, ledger.MaxReceiptSize+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	r, err := ledger.ParseReceipt(b)
	if err != nil {
		return found(err)
	}
	leaf, cp, err := ledger.VerifyReceipt(r, *key)
	if err != nil {
		return found(err)
	}
	fmt.Fprintf(env.Stdout, "ok: %s %s at %s is leaf %d of %s (tree size %d, root %s)\n",
		leaf.Kind, leaf.ID, leaf.At.Format("2006-01-02T15:04:05Z07:00"), r.Index, cp.Origin, cp.Size, cp.Root)
	return nil
}
