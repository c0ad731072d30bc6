package measure

import (
	"fmt"
	"reflect"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/parser"
)

// CostLimit bounds the work one condition may do for one person, in CEL cost
// units (roughly one per operation). A realistic condition over a person with
// 3 list entries and 50 records costs a few hundred; the limit leaves room for
// people with thousands of records while keeping one evaluation to a few
// milliseconds at worst.
const CostLimit = 100_000

// interruptEvery is how many comprehension iterations run between checks of
// the context.
const interruptEvery = 64

// maxCondition bounds the length of a condition in bytes, so that the
// parser's work on a loaded file is bounded too.
const maxCondition = 4096

// listFact is a list entry as CEL sees it (type measure.listFact).
type listFact struct {
	ID    string    `cel:"id"`
	Code  string    `cel:"code"`
	Kind  string    `cel:"kind"`
	Since time.Time `cel:"since"`
	Until time.Time `cel:"until"` // maxTimestamp when open-ended
	Open  bool      `cel:"open"`
}

// recordFact is a record as CEL sees it (type measure.recordFact).
type recordFact struct {
	ID        string    `cel:"id"`
	Item      string    `cel:"item"`
	Polarity  string    `cel:"polarity"`
	Severity  string    `cel:"severity"`
	DecidedOn time.Time `cel:"decided_on"`
}

// maxTimestamp is the largest timestamp CEL allows; it stands for "no end".
var maxTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// iterVar is the iteration variable of the helper macros. CEL identifiers
// cannot start with @, so a condition cannot shadow or refer to it.
const iterVar = "@it"

// baseEnv is the one environment every condition is compiled in. It is
// immutable once built and building it is deterministic, so it is built once.
var baseEnv = sync.OnceValues(newEnv)

func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(ext.ParseStructTags(true), reflect.TypeFor[listFact](), reflect.TypeFor[recordFact]()),
		cel.Variable("lists", cel.ListType(cel.ObjectType("measure.listFact"))),
		cel.Variable("records", cel.ListType(cel.ObjectType("measure.recordFact"))),
		cel.Variable("clean_years", cel.IntType),
		cel.Variable("score", cel.IntType),
		cel.Variable("age", cel.IntType),
		cel.Variable("now", cel.TimestampType),
		cel.Macros(
			cel.GlobalVarArgMacro("on_list", anyOf("lists", "code"),
				cel.MacroDocs("on_list(code, ...): the person is on one of the lists")),
			cel.GlobalVarArgMacro("has_record", anyOf("records", "item"),
				cel.MacroDocs("has_record(item, ...): the person has a record of one of the items")),
			cel.GlobalMacro("on_black_list", 0, listOfKind("black"),
				cel.MacroDocs("on_black_list(): the person is on some black list")),
			cel.GlobalMacro("on_red_list", 0, listOfKind("red"),
				cel.MacroDocs("on_red_list(): the person is on some red list")),
		),
	)
}

// anyOf expands f(a, b, ...) to v.exists(@it, @it.field == a || @it.field == b ...).
func anyOf(v, field string) parser.MacroExpander {
	return func(eh parser.ExprHelper, _ ast.Expr, args []ast.Expr) (ast.Expr, *common.Error) {
		if len(args) == 0 {
			return nil, nil // not expanded: the checker reports the unknown call
		}
		var pred ast.Expr
		for _, a := range args {
			eq := eh.NewCall(operators.Equals, eh.NewSelect(eh.NewIdent(iterVar), field), a)
			if pred == nil {
				pred = eq
			} else {
				pred = eh.NewCall(operators.LogicalOr, pred, eq)
			}
		}
		return parser.MakeExists(eh, eh.NewIdent(v), []ast.Expr{eh.NewIdent(iterVar), pred})
	}
}

// listOfKind expands f() to lists.exists(@it, @it.kind == kind).
func listOfKind(kind string) parser.MacroExpander {
	return func(eh parser.ExprHelper, _ ast.Expr, _ []ast.Expr) (ast.Expr, *common.Error) {
		pred := eh.NewCall(operators.Equals,
			eh.NewSelect(eh.NewIdent(iterVar), "kind"), eh.NewLiteral(types.String(kind)))
		return parser.MakeExists(eh, eh.NewIdent("lists"), []ast.Expr{eh.NewIdent(iterVar), pred})
	}
}

// compiled is a condition that type-checked, with what it refers to.
type compiled struct {
	prg  cel.Program
	refs refs
}

// compile parses and type-checks a condition in the base environment and
// plans its program. Errors carry the CEL compiler's message; the source is
// named by the measure code, so messages read "ERROR: CODE:1:5: ...".
func compile(env *cel.Env, code, condition string) (*compiled, error) {
	a, iss := env.CompileSource(common.NewStringSource(condition, code))
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := a.OutputType(); !t.IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("the condition returns %s, not bool", t)
	}
	prg, err := env.Program(a,
		cel.CostLimit(CostLimit),
		cel.InterruptCheckFrequency(interruptEvery),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, err
	}
	r := refs{vars: map[string]bool{}}
	r.walk(a.NativeRep().Expr(), false)
	return &compiled{prg: prg, refs: r}, nil
}

// refs is what a checked condition refers to: its variables, and the list and
// item codes it tests for positively (e.code == "X" not under a negation).
type refs struct {
	vars  map[string]bool
	lists []string
	items []string
}

func (r *refs) walk(e ast.Expr, negated bool) {
	switch e.Kind() {
	case ast.IdentKind:
		r.vars[e.AsIdent()] = true
	case ast.SelectKind:
		r.walk(e.AsSelect().Operand(), negated)
	case ast.CallKind:
		c := e.AsCall()
		switch c.FunctionName() {
		case operators.LogicalNot:
			negated = !negated
		case operators.Equals, operators.NotEquals:
			if (c.FunctionName() == operators.Equals) != negated {
				r.codeTest(c.Args()[0], c.Args()[1])
				r.codeTest(c.Args()[1], c.Args()[0])
			}
		case operators.In:
			if !negated && c.Args()[1].Kind() == ast.ListKind {
				for _, el := range c.Args()[1].AsList().Elements() {
					r.codeTest(c.Args()[0], el)
				}
			}
		}
		if c.IsMemberFunction() {
			r.walk(c.Target(), negated)
		}
		for _, a := range c.Args() {
			r.walk(a, negated)
		}
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		for _, x := range []ast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
			r.walk(x, negated)
		}
	case ast.ListKind:
		for _, x := range e.AsList().Elements() {
			r.walk(x, negated)
		}
	case ast.MapKind:
		for _, en := range e.AsMap().Entries() {
			r.walk(en.AsMapEntry().Key(), negated)
			r.walk(en.AsMapEntry().Value(), negated)
		}
	case ast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			r.walk(f.AsStructField().Value(), negated)
		}
	}
}

// codeTest records lit when sel is x.code or x.item and lit a string literal.
func (r *refs) codeTest(sel, lit ast.Expr) {
	if sel.Kind() != ast.SelectKind || lit.Kind() != ast.LiteralKind {
		return
	}
	s, ok := lit.AsLiteral().(types.String)
	if !ok {
		return
	}
	switch sel.AsSelect().FieldName() {
	case "code":
		r.lists = append(r.lists, string(s))
	case "item":
		r.items = append(r.items, string(s))
	}
}
