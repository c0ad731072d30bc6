package measure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/interpreter"

	"pubcredit/internal/errs"
)

// Hit is a measure whose condition holds, with the reasons.
type Hit struct {
	Measure *Measure
	Because []Ground // never nil; empty for a reward that rests on no entry or record
}

// Ground is one reason for a hit: a list entry or a record.
type Ground struct {
	Type string `json:"type"` // GroundListEntry | GroundRecord
	ID   string `json:"id"`
	Code string `json:"code"` // the list code, or the record's item code
}

const (
	GroundListEntry = "list_entry"
	GroundRecord    = "record"
)

var (
	// ErrCostLimit: a condition did more work than CostLimit allows.
	ErrCostLimit = errors.New("cost limit exceeded")
	// ErrNoGrounds: a punishment's condition held but none of its grounds is
	// among the facts, so there is no reason to give for it.
	ErrNoGrounds = errors.New("the condition holds but no grounds are among the facts")
)

// EvalError is a failure to evaluate one measure's condition. It matches
// errors.Is with its cause (context.Canceled, ErrCostLimit, ...) and with its
// kind: errs.Unavailable when the context ended, errs.Internal otherwise (a
// published condition that fails is a defect of the published file).
type EvalError struct {
	Code string // the measure
	Err  error
}

func (e *EvalError) Error() string { return "measure " + e.Code + ": " + e.Err.Error() }

// Unwrap returns the cause and the kind.
func (e *EvalError) Unwrap() []error { return []error{e.Err, e.Kind()} }

// Kind is errs.Unavailable when the context was cancelled or timed out,
// errs.Internal otherwise.
func (e *EvalError) Kind() errs.Kind {
	if errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded) ||
		errors.Is(e.Err, interpreter.InterruptError{}) {
		return errs.Unavailable
	}
	return errs.Internal
}

// Evaluate returns the measures of the matter whose condition holds for the
// person, in file order, each with the grounds that triggered it. It returns
// errs.NotFound for an unknown matter (naming the known ones), errs.Invalid
// when f.Now is zero, and an *EvalError naming the measure when a condition
// cannot be evaluated (cost limit, context ended, no grounds for a
// punishment); then no hits are returned, since a partial answer would hide
// measures from the counter.
func (s *Set) Evaluate(ctx context.Context, matter string, f Facts) ([]Hit, error) {
	ms, ok := s.byMatter[matter]
	if !ok {
		return nil, errs.E(errs.NotFound, "unknown matter %q; known matters: %s",
			matter, strings.Join(s.MatterCodes(), ", "))
	}
	if f.Now.IsZero() {
		return nil, errs.E(errs.Invalid, "facts: the time of the check is required")
	}
	vars := s.vars(f, s.reads[matter])
	hits := make([]Hit, 0, 2)
	for _, m := range ms {
		if err := ctx.Err(); err != nil {
			if cause := context.Cause(ctx); cause != err {
				err = fmt.Errorf("%w: %w", err, cause)
			}
			return nil, &EvalError{Code: m.Code, Err: err}
		}
		ok, err := m.eval(ctx, vars)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		because := m.because(f)
		if m.Kind == Punishment && len(because) == 0 {
			return nil, &EvalError{Code: m.Code, Err: ErrNoGrounds}
		}
		hits = append(hits, Hit{Measure: m, Because: because})
	}
	return hits, nil
}

// eval runs the measure's program under the context and the cost limit.
func (m *Measure) eval(ctx context.Context, vars map[string]any) (bool, error) {
	out, _, err := m.prg.ContextEval(ctx, vars)
	if err != nil {
		if ec, ok := errors.AsType[interpreter.EvalCancelledError](err); ok && ec.Cause == interpreter.CostLimitExceeded {
			err = fmt.Errorf("%w (limit %d): %w", ErrCostLimit, CostLimit, err)
		}
		return false, &EvalError{Code: m.Code, Err: err}
	}
	b, ok := out.(types.Bool)
	if !ok { // cannot happen for a checked bool condition; be safe
		return false, &EvalError{Code: m.Code, Err: fmt.Errorf("the condition gave %v, not a bool", out)}
	}
	return bool(b), nil
}

// because returns the person's list entries and records among the measure's
// grounds: list entries first, each part ordered by code then id, so that the
// answer does not depend on the order the caller passed facts in.
func (m *Measure) because(f Facts) []Ground {
	out := []Ground{}
	for _, e := range f.Lists {
		if slices.Contains(m.Grounds.Lists, e.Code) {
			out = append(out, Ground{Type: GroundListEntry, ID: e.ID, Code: e.Code})
		}
	}
	for _, r := range f.Records {
		if slices.Contains(m.Grounds.Items, r.Item) {
			out = append(out, Ground{Type: GroundRecord, ID: r.ID, Code: r.Item})
		}
	}
	slices.SortFunc(out, func(a, b Ground) int {
		return cmp.Or(
			cmp.Compare(groundOrder(a.Type), groundOrder(b.Type)),
			strings.Compare(a.Code, b.Code),
			strings.Compare(a.ID, b.ID),
		)
	})
	return out
}

func groundOrder(t string) int {
	if t == GroundListEntry {
		return 0
	}
	return 1
}
