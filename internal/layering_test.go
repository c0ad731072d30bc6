// Package internal_test enforces the dependency rule of ARCHITECTURE.md:
// domain packages import no net/http and no database driver, and read time
// only from an injected clock.
package internal_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// domain lists the packages that hold the platform's rules.
var domain = []string{"access", "auth", "canon", "catalog", "clock", "delivery", "demo", "errs", "identity", "ids", "ingest", "jsonpath", "ledger", "listing", "measure", "profile", "record", "redact", "vault", "verify", "yamlnode"}

var forbidden = []string{
	"net/http", "database/sql", "modernc.org/sqlite", "github.com/jackc/pgx",
	"pubcredit/internal/store", "pubcredit/internal/api", "pubcredit/internal/httpserver", "pubcredit/internal/config",
}

func TestDomainPackagesStayFreeOfTechnology(t *testing.T) {
	for _, pkg := range domain {
		files, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("package %s: no files (%v)", pkg, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") {
						t.Errorf("%s imports %s: domain packages must not depend on transport or storage", file, path)
					}
				}
			}
			if pkg == "clock" {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(src), "time.Now()") {
				t.Errorf("%s calls time.Now(): domain code takes time from a clock.Clock", file)
			}
		}
	}
}
