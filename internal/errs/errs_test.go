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
		if len(e.Details) != want || e.Details[0].Field != "grounds[0]" || e.Details[want-1].Field != fmt.Sprintf("grounds[%d]", want-1) { // one field: the first of its problems
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

// TestProblemsErrKeepsEveryField: past maxProblems, the first problem
// about each field is kept, whatever floods of another field come first,
// and the kept problems keep their order.
func TestProblemsErrKeepsEveryField(t *testing.T) {
	var p Problems
	for i := range 3 * maxProblems {
		p.Add(fmt.Sprintf("grounds[%d]", i), "not_allowed", "not a ground")
	}
	p.Add("decided_on", "future", "in the future")
	for i := range maxProblems {
		p.Add(fmt.Sprintf("fields.f%d", i), "unknown_field", "no such field")
	}
	p.Add("subject.id_number", "minor", "a minor")
	p.Add("subject", "disqualified", "disqualified")
	var e *Error
	if !errors.As(p.Err("x"), &e) || len(e.Details) != maxProblems {
		t.Fatalf("%v, want %d details", e, maxProblems)
	}
	var got []string
	for _, d := range e.Details {
		if !strings.HasPrefix(d.Field, "grounds[") {
			got = append(got, d.Field)
		}
	}
	if want := []string{"decided_on", "fields.f0", "subject.id_number"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("besides grounds the details name %q, want %q", got, want)
	}
	if e.Details[0].Field != "grounds[0]" || e.Details[maxProblems-4].Field != fmt.Sprintf("grounds[%d]", maxProblems-4) {
		t.Errorf("the details start %q and their last ground is %q, want grounds[0] to grounds[%d] in order", e.Details[0].Field, e.Details[maxProblems-4].Field, maxProblems-4)
	}
}

// TestPublicMasksIdentityNumbers: what may be an identity number standing
// alone in a message or a field is masked; ids, amounts and shorter
// numbers are not, and the caller's error is left as it was.
func TestPublicMasksIdentityNumbers(t *testing.T) {
	e := FieldsOf(NotFound, `no list "110105194912310021" (known: SXBZXR)`,
		FieldError{Field: "fields.12010119960606135X", Code: "unknown_field", Message: `a submission has no key "X120101199808084682"`},
		FieldError{Field: "ref", Code: "conflict", Message: "record 01a22a2e3100ad9709d1b68483914238 holds ref 2026-0001, a fine of 123456789012 yuan"})
	_, msg, details := Public(e)
	for _, got := range []string{msg, details[0].Field, details[0].Message} {
		for _, n := range []string{"110105194912310021", "12010119960606135X", "120101199808084682"} {
			if strings.Contains(got, n) {
				t.Errorf("%q repeats %s", got, n)
			}
		}
	}
	if msg != `no list "110105********0021" (known: SXBZXR)` || details[0].Field != "fields.120101********135X" {
		t.Errorf("masked as %q and %q", msg, details[0].Field)
	}
	if details[1].Message != e.Details[1].Message {
		t.Errorf("an id and an amount were changed: %q", details[1].Message)
	}
	if e.Details[0].Field != "fields.12010119960606135X" || e.Message != `no list "110105194912310021" (known: SXBZXR)` {
		t.Errorf("the caller's error changed: %+v", e)
	}
}

// TestRetitle: a retitled error says the new title and keeps the count of
// problems; an error not built by Fields or Problems.Err stays as it is.
func TestRetitle(t *testing.T) {
	var p Problems
	for i := range maxProblems + 3 {
		p.Add(fmt.Sprintf("grounds[%d]", i), "not_allowed", "not a ground")
	}
	var e *Error
	if !errors.As(Retitle(p.Err("the record is not valid"), "the list entry is not valid"), &e) ||
		e.Message != fmt.Sprintf("the list entry is not valid (%d of its %d problems are listed: the first about each field, then the first of the others)", maxProblems, maxProblems+3) ||
		len(e.Details) != maxProblems || e.Kind != Invalid {
		t.Errorf("retitled: %+v", e)
	}
	if !errors.As(Retitle(Fields("the record is not valid"), "the list entry is not valid"), &e) || e.Message != "the list entry is not valid" {
		t.Errorf("retitled Fields: %+v", e)
	}
	plain := E(NotFound, "no entry")
	if got := Retitle(plain, "x"); got != error(plain) {
		t.Errorf("an error of E was retitled: %v", got)
	}
}
