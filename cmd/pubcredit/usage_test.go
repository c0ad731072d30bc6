package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pubcredit/internal/clock"
)

// TestHelpAndUsageErrorsCreateNothing runs help requests and usage errors
// with the database and keyring pointed at an empty directory, and checks
// that each is answered (exit 0 for help, 2 for a usage error) and that the
// directory stays empty: no keyring made up, no database created or
// migrated.
func TestHelpAndUsageErrorsCreateNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dept", "--help"}, 0, "pubcredit dept add"},
		{[]string{"dept", "-h"}, 0, "pubcredit dept add"},
		{[]string{"dept", "help"}, 0, "pubcredit dept add"},
		{[]string{"dept", "nope"}, 2, `unknown dept subcommand "nope"`},
		{[]string{"dept", "nope", "--code", "X"}, 2, `unknown dept subcommand "nope"`},
		{[]string{"dept"}, 2, "dept needs a subcommand"},
		{[]string{"dept", "add", "--help"}, 0, "-code"},
		{[]string{"dept", "list", "--help"}, 0, "-db"},
		{[]string{"dept", "list", "extra"}, 2, "unexpected arguments"},
		{[]string{"dept", "tokens", "--help"}, 0, "-db"},
		{[]string{"dept", "tokens", "extra"}, 2, "unexpected arguments"},
		{[]string{"dept", "token"}, 2, "dept token CODE"},
		{[]string{"dept", "token", "A", "B"}, 2, "dept token CODE"},
		{[]string{"dept", "add", "--nope"}, 2, "not defined: -nope"},
		{[]string{"migrate", "--help"}, 0, "-db"},
		{[]string{"migrate", "extra"}, 2, "unexpected arguments"},
		{[]string{"serve", "--help"}, 0, "-addr"},
		{[]string{"serve", "extra"}, 2, "unexpected arguments"},
		{[]string{"verify", "--help"}, 0, "Exit codes:"},
		{[]string{"verify", "extra"}, 2, "unexpected arguments"},
		{[]string{"witness", "--help"}, 0, "Exit codes:"},
		{[]string{"verify-receipt", "--help"}, 0, "Exit codes:"},
		{[]string{"import", "--help"}, 0, "-dept"},
		{[]string{"import"}, 2, "import FILE --dept CODE"},
		{[]string{"import", "a.ndjson", "b.ndjson", "--dept", "X"}, 2, "unexpected arguments"},
		{[]string{"demo", "extra"}, 2, "unexpected arguments"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"PUBCREDIT_DB": "sqlite:" + filepath.Join(dir, "data", "pubcredit.db"), "PUBCREDIT_KEYS": filepath.Join(dir, "keys.json")}
			var stdout, stderr bytes.Buffer
			code := RunEnv(context.Background(), tc.args, Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: getenv(env), Clock: clock.NewFixed(e2eNow)})
			if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Errorf("exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.want, stdout.String(), stderr.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("it created %v in the data directory", names)
			}
		})
	}
}
