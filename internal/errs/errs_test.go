package errs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestProblemsErrBoundsTheDetails: an error lists every problem up to
// maxProblems, and past that the first maxProblems and how many there were.
func TestProblemsErrBoundsTheDetails(t *testing.T) {
	for _, n := range []int{1, maxProblems, maxProblems + 1, 80000} {
		var p Problems
		for i := range n {
			p.Add(fmt.Sprintf("grounds[%d]", i), "not_allowed", "not a ground")
		}
		var e *Error
		if !errors.As(p.Err("the list entry is not valid"), &e) || e.Kind != Invalid {
			t.Fatalf("%d problems: %v, want an Invalid *Error", n, e)
		}
		want := min(n, maxProblems)
		if len(e.Details) != want || e.Details[0].Field != "grounds[0]" || e.Details[want-1].Field != fmt.Sprintf("grounds[%d]", want-1) {
			t.Errorf("%d problems: %d details, want the first %d", n, len(e.Details), want)
		}
		if counted := strings.Contains(e.Message, fmt.Sprintf("of its %d problems", n)); counted != (n > maxProblems) {
			t.Errorf("%d problems: message %q", n, e.Message)
		}
	}
	if err := (Problems{}).Err("x"); err != nil {
		t.Errorf("no problems: %v", err)
	}
}
