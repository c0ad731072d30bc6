package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"golang.org/x/mod/sumdb/note"

	"pubcredit/internal/ledger"
)

// WitnessFormat is the first field of a witness state file.
const WitnessFormat = "pubcredit-witness/v1"

// Bounds on what the witness reads.
const (
	maxWitnessState = 64 << 10 // a state file: one signed checkpoint and a few fields
	maxProofBody    = 64 << 10 // a consistency proof: at most 124 hashes
)

// errRewritten is the witness's failure: the log is inconsistent with a
// checkpoint it signed before.
var errRewritten = errors.New("the log was rewritten")

// witnessState is what the witness remembers: the last checkpoint it
// verified, the signed note itself and when it saw it.
type witnessState struct {
	Format     string    `json:"format"` // WitnessFormat
	Origin     string    `json:"origin"`
	Size       int64     `json:"size"`
	Root       string    `json:"root"`       // standard base64
	Checkpoint string    `json:"checkpoint"` // the signed note, the evidence
	SeenAt     time.Time `json:"seen_at"`
}

// witnessUsage is the witness command's help, with its exit codes.
const witnessUsage = `Usage: pubcredit witness --url BASE --key KEY --state FILE [--timeout DURATION]

Fetches the log's newest checkpoint, verifies its signature and its
consistency with the last checkpoint seen, and records it in FILE.

Exit codes:
  0  the log is consistent with the last checkpoint seen (or this is the first)
  1  problems found: the checkpoint served does not verify with KEY, or the
     log was rewritten or rolled back (both signed checkpoints are printed)
  2  the check could not run: a usage error, the server could not be reached
     or answered an error, or the state file cannot be read or written

Flags:
`

// cmdWitness fetches the log's newest checkpoint from a server, verifies
// its signature and its consistency with the last one it saw, and records
// it. Any inconsistency, a rewritten history or a rollback, fails (exit 1)
// with a message naming both sizes and roots, prints both signed
// checkpoints as evidence, and leaves the state file as it was; a failure
// to check (network, state file) is exit 2. An auditor runs it from cron.
func cmdWitness(ctx context.Context, args []string, env Env) error {
	flags := flag.NewFlagSet("witness", flag.ContinueOnError)
	flags.SetOutput(env.Stderr)
	base := flags.String("url", "", "the platform's base URL, e.g. https://credit.example.gov.cn")
	key := flags.String("key", "", "the ledger's note verifier key (GET /api/v1/ledger/key), obtained out of band")
	state := flags.String("state", "", "the file keeping the last checkpoint seen (created on the first run)")
	timeout := flags.Duration("timeout", 30*time.Second, "the time allowed for each request")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), witnessUsage)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError("%v", err)
	}
	switch {
	case flags.NArg() > 0:
		return usageError("unexpected arguments %q", flags.Args())
	case *base == "" || *key == "" || *state == "":
		return usageError("--url, --key and --state are required")
	case *timeout <= 0:
		return usageError("--timeout must be positive")
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return usageError("--url %q is not an http:// or https:// base URL (no query or fragment)", *base)
	}
	if _, err := note.NewVerifier(*key); err != nil {
		return usageError("--key: %v", err)
	}
	w := &witness{client: newWitnessClient(*timeout), base: strings.TrimRight(u.String(), "/"), key: *key, state: *state, stdout: env.Stdout, stderr: env.Stderr}
	return w.run(ctx, env.Clock.Now().UTC())
}

// newWitnessClient is an HTTP client with a deadline for every stage.
func newWitnessClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            (&net.Dialer{Timeout: min(timeout, 10*time.Second)}).DialContext,
			TLSHandshakeTimeout:    min(timeout, 10*time.Second),
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 64 << 10,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("more than 3 redirects")
			}
			return nil
		},
	}
}

type witness struct {
	client         *http.Client
	base, key      string
	state          string
	stdout, stderr io.Writer
}

func (w *witness) run(ctx context.Context, now time.Time) error {
	prev, err := w.load()
	if err != nil {
		return err
	}
	signed, err := w.get(ctx, "/api/v1/ledger/checkpoint", ledger.MaxCheckpointSize)
	if err != nil {
		return err
	}
	cur, err := ledger.OpenCheckpoint(signed, w.key)
	if err != nil {
		return found(fmt.Errorf("the checkpoint %s serves does not verify with the key: %v", w.base, err))
	}
	next := witnessState{Format: WitnessFormat, Origin: cur.Origin, Size: cur.Size, Root: hashB64(cur.Root), Checkpoint: string(signed), SeenAt: now}

	var line string
	switch {
	case prev == nil:
		line = fmt.Sprintf("witness: first checkpoint of %s: size %d, root %s", cur.Origin, cur.Size, next.Root)
	case cur.Size == prev.cp.Size:
		if cur.Root != prev.cp.Root {
			return w.inconsistent(prev, signed, fmt.Errorf("%w: the tree of size %d had root %s (seen %s) and now has root %s",
				errRewritten, cur.Size, prev.Root, prev.SeenAt.Format(time.RFC3339), next.Root))
		}
		next.SeenAt = prev.SeenAt // the same checkpoint: keep when it was first seen
		line = fmt.Sprintf("witness: %s unchanged at size %d, root %s", cur.Origin, cur.Size, next.Root)
	case cur.Size < prev.cp.Size:
		return w.inconsistent(prev, signed, fmt.Errorf("%w: it was rolled back to size %d (root %s), but size %d (root %s) was seen %s",
			errRewritten, cur.Size, next.Root, prev.cp.Size, prev.Root, prev.SeenAt.Format(time.RFC3339)))
	default:
		if prev.cp.Size > 0 { // every tree extends the empty one
			bad, err := w.consistent(ctx, prev.cp, cur)
			if err != nil {
				return err
			}
			if bad != nil {
				return w.inconsistent(prev, signed, fmt.Errorf("%w: the tree of size %d (root %s, seen %s) is not a prefix of the tree of size %d (root %s): %v",
					errRewritten, prev.cp.Size, prev.Root, prev.SeenAt.Format(time.RFC3339), cur.Size, next.Root, bad))
			}
		}
		line = fmt.Sprintf("witness: %s grew from size %d to %d, consistent; root %s", cur.Origin, prev.cp.Size, cur.Size, next.Root)
	}
	if err := w.save(next); err != nil {
		return err
	}
	fmt.Fprintln(w.stdout, line)
	return nil
}

// consistent fetches and checks the proof that the tree of prev is a
// prefix of the tree of cur. bad says why the answer does not prove it;
// err is a failure to get an answer.
func (w *witness) consistent(ctx context.Context, prev, cur ledger.Checkpoint) (bad, err error) {
	body, err := w.get(ctx, "/api/v1/ledger/proofs/consistency?from="+strconv.FormatInt(prev.Size, 10)+"&to="+strconv.FormatInt(cur.Size, 10), maxProofBody)
	if err != nil {
		return nil, err
	}
	var p ledger.ConsistencyProof
	if err := json.Unmarshal(body, &p); err != nil { // no proof either way: the check could not run
		return nil, fmt.Errorf("the consistency proof %s answered is not JSON: %v", w.base, err)
	}
	if p.From != prev.Size || p.To != cur.Size {
		return fmt.Errorf("asked for a proof from %d to %d, got one from %d to %d", prev.Size, cur.Size, p.From, p.To), nil
	}
	return p.Check(prev.Root, cur.Root), nil
}

// inconsistent prints both signed checkpoints, the evidence an auditor
// takes further, and returns err. The state file is left as it was.
func (w *witness) inconsistent(prev *seen, signed []byte, err error) error {
	fmt.Fprintf(w.stderr, "evidence: the checkpoint seen %s:\n%s\nthe checkpoint %s serves now:\n%s\n",
		prev.SeenAt.Format(time.RFC3339), indent(prev.Checkpoint), w.base, indent(string(signed)))
	return found(err)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// get fetches base+path and returns a 200 answer's body of at most max bytes.
func (w *witness) get(ctx context.Context, path string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the answer: %w", req.URL.Redacted(), err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", req.URL.Redacted(), res.Status)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("GET %s: the answer is larger than %d bytes", req.URL.Redacted(), max)
	}
	return body, nil
}

// seen is a loaded state: the file's fields and its verified checkpoint.
type seen struct {
	witnessState
	cp ledger.Checkpoint
}

// load reads the state file; nil when there is none yet.
func (w *witness) load() (*seen, error) {
	s, err := readState(w.state, w.key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return s, err
}

// readState reads the witness state file name. The signed checkpoint in
// it must verify with key and agree with its fields: the fields are for
// people, the note is what the witness (and verify --checkpoint) trusts.
func readState(name, key string) (*seen, error) {
	b, err := readSmallFile(name)
	if err != nil {
		return nil, fmt.Errorf("state %w", err)
	}
	return parseState(name, b, key)
}

// readSmallFile reads a state file or a checkpoint: at most
// maxWitnessState bytes.
func readSmallFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxWitnessState+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxWitnessState {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxWitnessState)
	}
	return b, nil
}

// parseState checks the state read from file name.
func parseState(name string, b []byte, key string) (*seen, error) {
	var s seen
	var err error
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s.witnessState); err != nil {
		return nil, fmt.Errorf("state %s: %w", name, err)
	}
	if s.Format != WitnessFormat {
		return nil, fmt.Errorf("state %s: format %q, want %q", name, s.Format, WitnessFormat)
	}
	s.cp, err = ledger.OpenCheckpoint([]byte(s.Checkpoint), key)
	if err != nil {
		return nil, fmt.Errorf("state %s: its checkpoint does not verify with the key (a different log or key? start a new state file): %v", name, err)
	}
	if s.cp.Origin != s.Origin || s.cp.Size != s.Size || hashB64(s.cp.Root) != s.Root {
		return nil, fmt.Errorf("state %s: its fields disagree with its signed checkpoint", name)
	}
	return &s, nil
}

// save writes the state atomically: a temporary file beside it, synced,
// then renamed over it.
func (w *witness) save(s witnessState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(w.state)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(w.state)+".*")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	_, err = tmp.Write(b)
	err = errors.Join(err, tmp.Sync(), tmp.Close(), os.Chmod(tmp.Name(), 0o644))
	if err == nil {
		err = os.Rename(tmp.Name(), w.state)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("state: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

func hashB64(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
