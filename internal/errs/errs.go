// Package errs is the closed set of error kinds the platform returns.
//
// Every error that crosses a package boundary carries one Kind. Callers match
// kinds with errors.Is (errors.Is(err, errs.NotFound)) and never by message
// text. The HTTP layer turns a kind into a status code in one table; the
// wrapped cause is for logs and is never shown to a caller.
package errs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"pubcredit/internal/redact"
)

// Kind classifies an error. The set is closed: add a kind only together with
// its HTTP status in httpserver.
type Kind string

const (
	Malformed        Kind = "malformed"          // the request cannot be parsed (bad JSON, bad encoding)
	Invalid          Kind = "invalid"            // parsed, but fails validation; Details lists every problem
	Unauthenticated  Kind = "unauthenticated"    // no credentials, or credentials not valid
	Forbidden        Kind = "forbidden"          // authenticated, but not allowed to do this
	NotFound         Kind = "not_found"          // does not exist, or the caller may not know it exists
	Conflict         Kind = "conflict"           // clashes with the current state
	MethodNotAllowed Kind = "method_not_allowed" // the route exists but not for this HTTP method
	TooLarge         Kind = "too_large"          // the request exceeds a configured limit
	Unavailable      Kind = "unavailable"        // overloaded or a dependency is down; retry later
	Internal         Kind = "internal"           // a bug or an unexpected failure
)

// Error implements error so that errors.Is(err, errs.NotFound) works.
func (k Kind) Error() string { return string(k) }

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`   // path of the field, e.g. "subject.id_number" or "fields.CF_WSH"
	Code    string `json:"code"`    // machine-readable reason, e.g. "required", "check_digit"
	Message string `json:"message"` // human-readable reason
}

func (f FieldError) String() string { return f.Field + ": " + f.Message }

// Error is an error with a kind, a message safe to show to the caller, optional
// field details and an optional internal cause.
type Error struct {
	Kind    Kind
	Message string       // safe for the caller
	Details []FieldError // for Invalid: every problem found
	Err     error        // internal cause; never shown to callers
	title   string       // what Message says of the request, before the count of problems (see Retitle)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for i, d := range e.Details {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(d.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether the error has the given kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of kind k with a caller-safe message.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an error of kind k around an internal cause. The message is
// shown to callers; the cause is not.
func Wrap(k Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Err: cause}
}

// Fields builds an Invalid error listing every field problem.
func Fields(message string, details ...FieldError) *Error {
	return FieldsOf(Invalid, message, details...)
}

// FieldsOf builds an error of kind k naming the fields at fault: a request
// the platform cannot answer (Malformed) or that conflicts with what it
// holds (Conflict) says which of its fields, as an invalid one does.
func FieldsOf(k Kind, message string, details ...FieldError) *Error {
	return &Error{Kind: k, Message: message, Details: details, title: message}
}

// On builds an error of kind k about one field, its message the detail's.
func On(k Kind, field, code, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return FieldsOf(k, msg, FieldError{Field: field, Code: code, Message: msg})
}

// KindOf returns the kind of err, Internal when it has none, "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	return Internal
}

// Public returns the message and details that may be shown to a caller.
// Internal errors get a generic message. What may be an identity number is
// masked (redact.Numbers) in the message and in every detail's field and
// message: problems quote submitted values masked already (record.Echo),
// and this catches what quotes a key, a path or a code a client sent.
func Public(err error) (Kind, string, []FieldError) {
	k := KindOf(err)
	var e *Error
	if k == Internal || !errors.As(err, &e) {
		if k == Internal {
			return k, "internal error", nil
		}
		return k, string(k), nil
	}
	details, cloned := e.Details, false // e is the caller's: cloned before the first change
	for i, d := range e.Details {
		if f, m := redact.Numbers(d.Field), redact.Numbers(d.Message); f != d.Field || m != d.Message {
			if !cloned {
				details, cloned = slices.Clone(e.Details), true
			}
			details[i].Field, details[i].Message = f, m
		}
	}
	return e.Kind, redact.Numbers(e.Message), details
}

// Wrapf adds context to *errp when it is not nil, keeping its kind. Use it
// deferred: defer errs.Wrapf(&err, "Submit(%s)", ref).
func Wrapf(errp *error, format string, args ...any) {
	if *errp == nil {
		return
	}
	ctx := fmt.Sprintf(format, args...)
	var e *Error
	if errors.As(*errp, &e) {
		c := *e
		c.Err = fmt.Errorf("%s: %w", ctx, errOrKind(e))
		*errp = &c
		return
	}
	*errp = &Error{Kind: Internal, Message: "internal error", Err: fmt.Errorf("%s: %w", ctx, *errp)}
}

func errOrKind(e *Error) error {
	if e.Err != nil {
		return e.Err
	}
	return e.Kind
}

// Problems collects field errors; the zero value is ready to use.
type Problems []FieldError

// Add records one problem.
func (p *Problems) Add(field, code, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// maxProblems bounds the details of one error: a body of thousands of bad
// values is answered with the first of them, not with an answer many times
// its size.
const maxProblems = 50

// Err returns nil when there are no problems, else an Invalid error with
// them all, or with maxProblems of them (see cut) and their count.
func (p Problems) Err(message string) error {
	if len(p) == 0 {
		return nil
	}
	title := message
	if len(p) > maxProblems {
		message = fmt.Sprintf("%s (%d of its %d problems are listed: the first about each field, then the first of the others)", message, maxProblems, len(p))
		p = p.cut(maxProblems)
	}
	e := Fields(message, p...)
	e.title = title
	return e
}

// Retitle returns err saying title of the request where it said what
// Fields or Problems.Err were told ("the record is not valid" becomes "the
// list entry is not valid"), the count of problems kept. An error not
// built so is returned as it is.
func Retitle(err error, title string) error {
	var e *Error
	if !errors.As(err, &e) || e.title == "" {
		return err
	}
	c := *e
	c.Message, c.title = title+strings.TrimPrefix(e.Message, e.title), title
	return &c
}

// cut keeps n of the problems, in their order: the first about each
// top-level field (the path before its first "." or "["), then the first
// of the others. A flood of problems about one field (a thousand bad
// grounds[i]) does not hide that another field is wrong too.
func (p Problems) cut(n int) Problems {
	keep := make([]bool, len(p))
	seen := map[string]bool{}
	kept := 0
	for i, f := range p {
		top := f.Field
		if j := strings.IndexAny(top, ".["); j >= 0 {
			top = top[:j]
		}
		if !seen[top] && kept < n {
			seen[top], keep[i] = true, true
			kept++
		}
	}
	for i := 0; i < len(p) && kept < n; i++ {
		if !keep[i] {
			keep[i] = true
			kept++
		}
	}
	out := make(Problems, 0, n)
	for i, f := range p {
		if keep[i] {
			out = append(out, f)
		}
	}
	return out
}

// Clip shortens a caller's input for quoting in a message: at most n runes,
// with an ellipsis when cut.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
