package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/config"
	"pubcredit/internal/ledger"
	"pubcredit/internal/store/sqlite"
	"pubcredit/internal/vault"
	"pubcredit/internal/verify"
)

// errNotVerified is the verify command's finding: the database does not
// match its ledger (exit 1).
var errNotVerified = errors.New("the database does not match its ledger")

// verifyUsage is the verify command's help, with its exit codes.
const verifyUsage = `Usage: pubcredit verify [--key KEY] [--erased] [--db ...] [--keys FILE] [--ledger-origin ORIGIN]

Checks the database against its ledger: every leaf recomputed from its row,
the tree from the leaves, every stored checkpoint's signature and root. It
writes nothing. Without --key, the verifier key is the keyring's under
--ledger-origin. The database alone cannot show that the end of its log was
cut off, checkpoints and all: --checkpoint FILE (a checkpoint published
before, or pubcredit witness's state file) makes the log prove it still
holds that tree. A deleted checkpoint that is not the newest leaves no
trace in the database: its leaves are checked under the newer ones, and
--checkpoint with it (as published, or a witness's) proves the log still
holds its tree. A checkpoint's created_at is informational: the signature
covers its origin, size and root only.

Exit codes:
  0  every row matches the ledger, and the ledger its signed checkpoints
  1  problems found: each changed, deleted or inserted row is named on a line
  2  the check could not run: a usage error, no database or not one, no
     keyring, a malformed key, or checkpoints all signed under another
     origin or key than the one given (a setup error, unless the key is the
     one the platform published). A checkpoint signed by another key beside
     checkpoints signed by the key given is tampering (1).

Flags:
`

// cmdVerify checks the database against its ledger (internal/verify): every
// leaf recomputed from its row, the tree from the leaves, every stored
// checkpoint's signature and root. It prints each problem on a line and a
// summary, and fails with exit 1 when anything was changed, deleted or
// inserted behind the platform's back; any error that kept it from checking
// is exit 2 (see verifyUsage). Erased rows are not problems.
//
// It writes nothing: it neither migrates, nor integrates leaves, nor creates
// a keyring. Leaves not yet under a checkpoint are counted, not checked
// against one; a running server covers them within a second.
func cmdVerify(ctx context.Context, args []string, env Env) error {
	var key string
	var listErased bool
	var seenFile string
	cfg, _, fs, err := setup("verify", args, env, func(fs *flag.FlagSet, c *config.Config) {
		fs.StringVar(&key, "key", "", "the ledger's note verifier key (GET /api/v1/ledger/key); default: the keyring's, under --ledger-origin")
		fs.StringVar(&seenFile, "checkpoint", "", "a checkpoint seen before, the log must still hold: `pubcredit witness`'s state file, or a checkpoint saved from GET /api/v1/ledger/checkpoint")
		fs.BoolVar(&listErased, "erased", false, "also list the rows whose salt was erased at the end of retention")
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), verifyUsage)
			fs.PrintDefaults()
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments %q", fs.Args())
	}
	keyFrom := "--key"
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
		keyFrom = "the keyring " + cfg.KeysPath() + " under --ledger-origin"
	}
	var seen *ledger.Checkpoint
	if seenFile != "" {
		cp, err := readSeenCheckpoint(seenFile, key)
		if err != nil {
			return err
		}
		seen = &cp
	}
	if path, ok := strings.CutPrefix(cfg.DB, "sqlite:"); ok {
		// Opening a SQLite path that does not exist, or an empty file,
		// would make a database of it: verify writes nothing.
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("database %s: %w", cfg.Redacted(), err)
		}
		if fi.Size() == 0 {
			return fmt.Errorf("database %s: the file is empty, not a pubcredit database", cfg.Redacted())
		}
		// Nor is a file that is no SQLite database opened at all.
		if !isSQLiteFile(path) {
			return fmt.Errorf("database %s: the file is not a SQLite database", cfg.Redacted())
		}
	}
	st, closeStore, err := openStoreToRead(ctx, cfg)
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.Redacted(), err)
	}
	defer closeStore()
	have, want, err := st.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.Redacted(), err)
	}
	if have == 0 {
		return fmt.Errorf("database %s: not a pubcredit database (it has no schema)", cfg.Redacted())
	}
	if have != want {
		return fmt.Errorf("the database schema is at version %d and this build reads version %d: verify with the matching build", have, want)
	}
	db, ok := st.(verify.Database)
	if !ok {
		return fmt.Errorf("the %T store cannot be verified", st)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(verify.GCPercent)
	}
	snap, done, err := db.VerifySnapshot(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := checkVerifierKey(ctx, snap, key, keyFrom); err != nil {
		return err
	}

	out := bufio.NewWriter(env.Stdout)
	defer out.Flush()
	sum, err := verify.Run(ctx, snap, key, env.Clock.Now(), func(p verify.Problem) {
		if p.Failure() || listErased {
			fmt.Fprintln(out, p)
		}
	})
	if err == nil && seen != nil {
		msg, herr := stillHeld(ctx, st, sum, *seen)
		switch {
		case herr != nil && sum.OK():
			err = herr
		case msg != "":
			fmt.Fprintln(out, verify.Problem{Kind: verify.Checkpoint, Table: verify.TableCheckpoints, ID: strconv.FormatInt(seen.Size, 10), Message: msg + " (" + seenFile + ")"})
			sum.Problems++
		}
	}
	printSummary(out, sum, err == nil)
	if err != nil {
		return err
	}
	if !sum.OK() {
		return found(fmt.Errorf("%w: %s", errNotVerified, plural(sum.Problems, "problem", "problems")))
	}
	return nil
}

// checkVerifierKey tells a setup error from tampering before anything is
// checked: when the signature lines of every stored checkpoint name
// another key than the verifier key (another origin, or another key under
// the same origin), the key given is not the log's, and every checkpoint
// would fail for that reason alone. When one checkpoint names the key, the
// key is the log's: a checkpoint signed by another key beside it (forged
// with a key of the same name), or one whose signature by the key does not
// verify, is tampering, left to verify.Run to report with every row.
func checkVerifierKey(ctx context.Context, snap verify.Store, key, keyFrom string) error {
	var other *note.UnverifiedNoteError // the newest checkpoint, when every one names another key
	errOfKey := errors.New("a checkpoint names the key")
	err := snap.ScanCheckpoints(ctx, func(_ int64, signed []byte) error {
		_, err := ledger.OpenCheckpoint(signed, key)
		var unverified *note.UnverifiedNoteError
		if !errors.As(err, &unverified) || len(unverified.Note.UnverifiedSigs) == 0 {
			return errOfKey // the key is the log's: verify.Run tells the rest
		}
		other = unverified
		return nil
	})
	if errors.Is(err, errOfKey) || err != nil || other == nil {
		return ignore(err, errOfKey) // an empty log has no signer yet
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return usageError("--key: %v", err)
	}
	var as []string
	for _, sig := range other.Note.UnverifiedSigs {
		as = append(as, fmt.Sprintf("%s+%08x", ledger.PrintableName(sig.Name), sig.Hash))
	}
	return fmt.Errorf("the checkpoints are signed as %s, not %s+%08x (the key from %s): pass --ledger-origin %s with the keyring the log began with, or --key with its verifier key (GET /api/v1/ledger/key); a setup error, unless this is the key the platform published, in which case every checkpoint was signed anew (tampering)",
		strings.Join(as, " and "), v.Name(), v.KeyHash(), keyFrom, ledger.PrintableName(other.Note.UnverifiedSigs[0].Name))
}

// readSeenCheckpoint reads a checkpoint seen before from file: the state
// file of `pubcredit witness` (JSON holding the signed note) or the signed
// note itself. It must verify with key.
func readSeenCheckpoint(file, key string) (ledger.Checkpoint, error) {
	b, err := readSmallFile(file)
	if err != nil {
		return ledger.Checkpoint{}, usageError("--checkpoint: %v", err)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		s, err := parseState(file, b, key)
		if err != nil {
			return ledger.Checkpoint{}, usageError("--checkpoint %v", err)
		}
		return s.cp, nil
	}
	cp, err := ledger.OpenCheckpoint(b, key)
	if err != nil {
		return ledger.Checkpoint{}, usageError("--checkpoint %s: it does not verify with the key: %v", file, err)
	}
	return cp, nil
}

// stillHeld says how the log fails to hold the tree of a checkpoint seen
// before, "" when it holds it: the log's newest checkpoint is older (the
// end of the log was cut off), or its tree of that size has another root
// (the history was rewritten). Rows and leaves were checked by verify.Run;
// this checks the log against what was published before.
// A tree that cannot be recomputed is an error, not a finding: a stored
// hash missing or changed is verify.Run's to report (it checked them all
// against the leaves), a store that cannot be read stops the command.
func stillHeld(ctx context.Context, st ledger.Store, sum verify.Summary, seen ledger.Checkpoint) (string, error) {
	if seen.Size > int64(sum.NewestSize) {
		return fmt.Sprintf("the log was rolled back: its newest checkpoint is of size %d, but a checkpoint of size %d signed by the log's key was seen", sum.NewestSize, seen.Size), nil
	}
	if seen.Size == 0 {
		return "", nil
	}
	root, err := tlog.TreeHash(seen.Size, (&ledger.Log{Store: st}).Reader(ctx))
	switch {
	case err != nil:
		return "", fmt.Errorf("the tree of size %d, seen before, cannot be recomputed from the stored hashes: %w", seen.Size, err)
	case root != seen.Root:
		return fmt.Sprintf("the history was rewritten: the tree of size %d has root %s, but root %s was seen",
			seen.Size, base64.StdEncoding.EncodeToString(root[:]), base64.StdEncoding.EncodeToString(seen.Root[:])), nil
	}
	return "", nil
}

// plural is n and the noun for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// printSummary writes what was verified, and the verdict when complete.
func printSummary(out *bufio.Writer, s verify.Summary, complete bool) {
	fmt.Fprintf(out, "leaves: %d (%s, %s, %s, %s, %s, %s); records: %d; list entries: %d; checkpoints: %d, the newest of size %d\n",
		s.Leaves, plural(s.Versions, "record version", "record versions"), plural(s.AccessEvents, "access event", "access events"),
		plural(s.ListVersions, "list entry version", "list entry versions"), plural(s.Checks, "check", "checks"),
		plural(s.Feedback, "feedback", "feedback"), plural(s.Subjects, "person", "people"), s.Records, s.ListEntries, s.Checkpoints, s.NewestSize)
	if s.Unintegrated > 0 {
		fmt.Fprintf(out, "%s after the newest checkpoint (a running server signs them within a second): checked against their rows, not yet against a checkpoint\n",
			plural(s.Unintegrated, "leaf", "leaves"))
	}
	if s.Erased > 0 {
		fmt.Fprintf(out, "%s erased at the end of retention: their leaves are kept; their kind, id and time checked\n", plural(s.Erased, "row", "rows"))
	}
	switch {
	case !complete:
		fmt.Fprintf(out, "INCOMPLETE: %s found before the database could not be read\n", plural(s.Problems, "problem", "problems"))
	case s.OK():
		fmt.Fprintln(out, "OK: every row matches the ledger, and the ledger its signed checkpoints")
	default:
		fmt.Fprintf(out, "FAILED: %s\n", plural(s.Problems, "problem", "problems"))
	}
}

// isSQLiteFile reports whether the file at path begins with the SQLite
// database header.
func isSQLiteFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "SQLite format 3\x00"
}

// openStoreToRead opens the configured database to read it only: SQLite
// read-only (no mode, journal mode or file changed), PostgreSQL as usual
// (verify's transactions there are read-only).
func openStoreToRead(ctx context.Context, cfg config.Config) (Store, func(), error) {
	path, ok := strings.CutPrefix(cfg.DB, "sqlite:")
	if !ok {
		return openStore(ctx, cfg)
	}
	s, err := sqlite.OpenReadOnly(path)
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

// ignore is err, or nil when err is target.
func ignore(err, target error) error {
	if errors.Is(err, target) {
		return nil
	}
	return err
}
