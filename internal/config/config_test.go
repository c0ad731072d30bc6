package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	c := Default()
	c.DB = "mysql://x"
	c.ChunkRows = 0
	c.FineSerious = 1
	c.LogLevel = "loud"
	c.LedgerOrigin = "has space"
	c.FeedbackDays = 0
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"db:", "chunk_rows:", "fine thresholds:", "log_level:", "ledger_origin:", "feedback_days:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

func TestValidateHidesADatabasePassword(t *testing.T) {
	c := Default()
	c.DB = "mysql://user:secret@host/db"
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v, want a refusal without the password", err)
	}
}

func TestFlagsOverrideEnvironmentOverrideFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pubcredit.yaml")
	if err := os.WriteFile(path, []byte("db: sqlite:/from/file.db\naddr: 127.0.0.1:1\nlog_level: warn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PUBCREDIT_ADDR": "127.0.0.1:2"}
	c, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--config", path, "--log-level", "debug"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "sqlite:/from/file.db" || c.Addr != "127.0.0.1:2" || c.LogLevel != "debug" {
		t.Errorf("got db %q addr %q log %q", c.DB, c.Addr, c.LogLevel)
	}
}

func TestLoadRejectsUnknownKeysAndBadEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pubcredit.yaml")
	if err := os.WriteFile(path, []byte("dbb: sqlite:x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	if _, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--config", path}, none); err == nil {
		t.Error("a misspelt key in the file was accepted")
	}
	bad := func(k string) string {
		if k == "PUBCREDIT_MAX_BODY" {
			return "lots"
		}
		return ""
	}
	if _, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), nil, bad); err == nil || !strings.Contains(err.Error(), "PUBCREDIT_MAX_BODY") {
		t.Errorf("err = %v, want PUBCREDIT_MAX_BODY named", err)
	}
}
