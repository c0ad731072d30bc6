// Package yamlnode helps the loaders of the shipped YAML files (catalog
// items, measures, calendars) report problems with their file and line: it walks go.yaml.in/yaml/v3
// nodes the way the decoder does and names every key that maps to no field.
package yamlnode

import (
	"errors"
	"fmt"
	"path"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"pubcredit/internal/errs"
)

// Resolve follows aliases to the node they stand for.
func Resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// UnknownKeys reports every mapping key under n that names no field of t
// (by yaml tag), following nested structs, slices and merge keys the way the
// decoder does.
func UnknownKeys(n *yaml.Node, t reflect.Type, report func(line int, msg string)) {
	n = Resolve(n)
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a merge: its mappings are keys of n
				if v = Resolve(v); v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						UnknownKeys(m, t, report)
					}
				} else {
					UnknownKeys(v, t, report)
				}
				continue
			}
			f, ok := field(t, k.Value)
			if !ok {
				report(k.Line, fmt.Sprintf("unknown key %q in %s", k.Value, strings.ToLower(t.Name())))
				continue
			}
			UnknownKeys(v, f.Type, report)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			UnknownKeys(e, t.Elem(), report)
		}
	}
}

// field returns the field of struct t whose yaml tag names key.
func field(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// Problem is one thing wrong in a loaded file.
type Problem struct {
	File    string
	Line    int // 1-based; 0 when the problem belongs to no line
	Message string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.File + ": " + p.Message
	}
	return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
}

// Error lists every problem found in the loaded files, in file and line
// order. Its kind is errs.Invalid.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is makes an Error match errs.Invalid.
func (e *Error) Is(target error) bool {
	k, ok := target.(errs.Kind)
	return ok && k == errs.Invalid
}

// Unwrap returns errs.Invalid, so that errs.KindOf classes an Error too.
func (e *Error) Unwrap() error { return errs.Invalid }

// InDir names the files of err's problems, if it is an *Error, by their
// path under dir, and returns err.
func InDir(err error, dir string) error {
	if e, ok := errors.AsType[*Error](err); ok {
		for i := range e.Problems {
			e.Problems[i].File = path.Join(dir, e.Problems[i].File)
		}
	}
	return err
}
