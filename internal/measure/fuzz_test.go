package measure

import (
	"context"
	"errors"
	"testing"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/errs"
)

// FuzzLoad checks that no input makes Load panic, that a rejected file is an
// Invalid *LoadError, and that an accepted file can be evaluated.
func FuzzLoad(f *testing.F) {
	f.Add(catalogfs.Measures())
	f.Add(file(measure("OK", "reward", "admin_licensing", "clean_years >= 3", "")))
	f.Add(file(measure("BAD", "punishment", "subsidy", `on_list("SXBZXR") ||`, "grounds: {lists: [SXBZXR]}")))
	f.Add(file(measure("NB", "reward", "subsidy", "lists.map(e, e.code)", "")))
	f.Add(file(measure("DIV", "reward", "subsidy", "1 / clean_years == 1", "")))
	f.Add([]byte("format: 1\nmatters: &m [{code: aa, name: {zh: a, en: b}}]\nmeasures: *m\n"))
	f.Add([]byte("format: 1\nmatters:\n  - <<: {code: aa}\n    name: {zh: a, en: b}\nmeasures: []\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Add([]byte("---\nformat: 1\n---\nformat: 1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load(data)
		if err != nil {
			if s != nil {
				t.Fatalf("Load returned a set and an error: %v", err)
			}
			if _, ok := errors.AsType[*LoadError](err); !ok || !errors.Is(err, errs.Invalid) {
				t.Fatalf("Load error %T is not an invalid *LoadError: %v", err, err)
			}
			return
		}
		for i := range s.Measures {
			if s.Measures[i].prg == nil {
				t.Fatalf("measure %s loaded without a program", s.Measures[i].Code)
			}
		}
		for _, code := range s.MatterCodes() {
			// Errors (a division by zero, the cost limit, no grounds) are
			// fine; a panic is not.
			_, _ = s.Evaluate(context.Background(), code, Facts{Now: now, Lists: []ListEntry{entry("e", "SXBZXR", "black")}})
		}
	})
}
