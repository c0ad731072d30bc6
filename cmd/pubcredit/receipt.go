package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"pubcredit/internal/ledger"
)

// cmdVerifyReceipt checks a receipt offline: the leaf, the checkpoint's
// signature under the given verifier key, and the inclusion proof. It needs
// no database and no network.
func cmdVerifyReceipt(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("verify-receipt", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	key := fs.String("key", "", "the ledger's note verifier key (GET /api/v1/ledger/key)")
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return usageError("%v", err)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" || *key == "" {
		return usageError("verify-receipt FILE --key KEY (FILE - reads standard input)")
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
		return err
	}
	r, err := ledger.ParseReceipt(b)
	if err != nil {
		return err
	}
	leaf, cp, err := ledger.VerifyReceipt(r, *key)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "ok: %s %s at %s is leaf %d of %s (tree size %d, root %s)\n",
		leaf.Kind, leaf.ID, leaf.At.Format("2006-01-02T15:04:05Z07:00"), r.Index, cp.Origin, cp.Size, cp.Root)
	return nil
}
