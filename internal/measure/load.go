package measure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"pubcredit/internal/errs"
	"pubcredit/internal/yamlnode"
)

// FormatVersion is the version of the measures file format this package reads.
const FormatVersion = 1

// maxFile bounds the size of a measures file.
const maxFile = 1 << 20

var (
	measureCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,63}$`)
	matterCode  = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	groundCode  = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,31}$`) // list and catalog item codes
)

// Problem is one thing wrong in a measures file.
type Problem struct {
	Line    int    // 1-based; 0 when the problem belongs to no line
	Code    string // the measure (or matter) the problem belongs to; empty when none
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Code != "" {
		b.WriteString(p.Code)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// LoadError lists every problem found in a measures file, in line order. Its
// kind is errs.Invalid.
type LoadError struct {
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "measures: " + strings.Join(lines, "\n")
}

// Is makes a LoadError match errs.Invalid.
func (e *LoadError) Is(target error) bool {
	k, ok := target.(errs.Kind)
	return ok && k == errs.Invalid
}

// Unwrap returns errs.Invalid, so that errs.KindOf classes a LoadError too.
func (e *LoadError) Unwrap() error { return errs.Invalid }

// Load reads a measures file:
//
//	format: 1
//	matters:  [{code, name: {zh, en}}, ...]
//	measures: [{code, kind, content: {zh, en}, basis, implementers, matters,
//	            condition, grounds: {lists, items}, version}, ...]
//
// Decoding is strict: an unknown key or a value of the wrong type is a
// problem, and so is every rule of validate. Every condition is compiled in
// the base environment; one that does not compile or does not return bool is
// a problem naming the measure and quoting the CEL compiler. Load returns a
// *LoadError listing every problem at once.
func Load(data []byte) (*Set, error) {
	env, err := baseEnv()
	if err != nil {
		return nil, fmt.Errorf("measures: CEL environment: %w", err) // a bug in this package
	}
	l := &loader{}
	if len(data) > maxFile {
		l.add(0, "", "the file is larger than %d bytes", maxFile)
		return nil, l.err()
	}
	root := l.parse(data)
	if root == nil {
		return nil, l.err()
	}
	s := &Set{adapter: env.CELTypeAdapter()}
	matterNodes, measureNodes := l.top(root, s)
	mnodes := make([]*yaml.Node, 0, len(matterNodes))
	for _, n := range matterNodes {
		var m Matter
		if l.decode(n, &m) && m.Code == codeOf(n) {
			s.Matters = append(s.Matters, m)
			mnodes = append(mnodes, n)
		}
	}
	nodes := make([]*yaml.Node, 0, len(measureNodes))
	for _, n := range measureNodes {
		var m Measure
		if l.decode(n, &m) && m.Code == codeOf(n) {
			s.Measures = append(s.Measures, m)
			nodes = append(nodes, n)
		}
	}
	l.validate(s, mnodes, nodes)
	for i := range s.Measures {
		m := &s.Measures[i]
		if strings.TrimSpace(m.Condition) == "" || len(m.Condition) > maxCondition {
			continue // reported by validate
		}
		c, err := compile(env, m.Code, m.Condition)
		if err != nil {
			l.add(valueLine(nodes[i], "condition"), m.Code, "condition: %v", err)
			continue
		}
		m.prg = c.prg
		if c.refs.vars["lists"] {
			m.reads |= readsLists
		}
		if c.refs.vars["records"] {
			m.reads |= readsRecords
		}
		l.checkGrounds(m, nodes[i], c.refs)
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	s.index()
	return s, nil
}

func (s *Set) index() {
	s.matters = make(map[string]int, len(s.Matters))
	for i, m := range s.Matters {
		s.matters[m.Code] = i
	}
	s.measures = make(map[string]int, len(s.Measures))
	s.byMatter = make(map[string][]*Measure, len(s.Matters))
	s.reads = make(map[string]factLists, len(s.Matters))
	for _, m := range s.Matters {
		s.byMatter[m.Code] = []*Measure{}
	}
	for i := range s.Measures {
		m := &s.Measures[i]
		s.measures[m.Code] = i
		for _, mt := range m.Matters {
			s.byMatter[mt] = append(s.byMatter[mt], m)
			s.reads[mt] |= m.reads
		}
	}
}

// loader collects problems.
type loader struct {
	problems []Problem
}

func (l *loader) add(line int, code, format string, args ...any) {
	l.problems = append(l.problems, Problem{Line: line, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) err() error {
	if len(l.problems) == 0 {
		return nil
	}
	slices.SortStableFunc(l.problems, func(a, b Problem) int { return a.Line - b.Line })
	return &LoadError{Problems: l.problems}
}

// parse returns the root mapping of the one YAML document in data.
func (l *loader) parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.add(0, "", "the file is empty")
		} else {
			l.yamlError(0, "", err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			l.yamlError(0, "", err)
		} else {
			l.add(extra.Line, "", "the file holds more than one YAML document")
		}
		return nil
	}
	if len(doc.Content) == 0 {
		l.add(doc.Line, "", "the file is empty")
		return nil
	}
	root := yamlnode.Resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		l.add(root.Line, "", "the file must be a mapping with format, matters and measures")
		return nil
	}
	return root
}

// top reads the top-level keys; it returns the matter and measure nodes.
func (l *loader) top(root *yaml.Node, s *Set) (matters, measures []*yaml.Node) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], yamlnode.Resolve(root.Content[i+1])
		seen[k.Value] = true
		switch k.Value {
		case "format":
			if err := v.Decode(&s.Format); err != nil {
				l.yamlError(v.Line, "", err)
			} else if s.Format != FormatVersion {
				l.add(v.Line, "", "format %d is not supported; this platform reads format %d", s.Format, FormatVersion)
			}
		case "matters", "measures":
			if v.Kind != yaml.SequenceNode {
				l.add(v.Line, "", "%s must be a sequence", k.Value)
				continue
			}
			var nodes []*yaml.Node
			for j, n := range v.Content {
				n = yamlnode.Resolve(n)
				if n.Kind != yaml.MappingNode {
					l.add(n.Line, "", "%s[%d] is not a mapping", k.Value, j)
					continue
				}
				nodes = append(nodes, n)
			}
			if k.Value == "matters" {
				matters = nodes
			} else {
				measures = nodes
			}
		default:
			l.add(k.Line, "", "unknown key %q", k.Value)
		}
	}
	for _, k := range []string{"format", "matters", "measures"} {
		if !seen[k] {
			l.add(root.Line, "", "%s is required", k)
		}
	}
	return matters, measures
}

// decode decodes one mapping into v and reports unknown keys and type errors.
// It reports whether v is usable: decoded, possibly with type errors. (yaml
// reports some structural errors, such as a duplicate key, as type errors
// and leaves v empty; callers check that the code came through.)
func (l *loader) decode(n *yaml.Node, v any) bool {
	code := codeOf(n)
	if err := n.Decode(v); err != nil {
		l.yamlError(n.Line, code, err)
		if _, ok := errors.AsType[*yaml.TypeError](err); !ok {
			return false
		}
	}
	yamlnode.UnknownKeys(n, reflect.TypeOf(v).Elem(), func(line int, msg string) { l.add(line, code, "%s", msg) })
	return true
}

// codeOf returns the value of the code key of a mapping, for naming problems.
func codeOf(n *yaml.Node) string {
	if v := valueNode(n, "code"); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// valueNode returns the value of key in mapping n, or nil.
func valueNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return yamlnode.Resolve(n.Content[i+1])
		}
	}
	return nil
}

// valueLine returns the line of key's value in mapping n, or n's line.
func valueLine(n *yaml.Node, key string) int {
	if v := valueNode(n, key); v != nil {
		return v.Line
	}
	return n.Line
}

// yamlError turns a yaml error into problems. yaml reports positions only
// inside its messages ("yaml: line 3: ..." and "line 3: ..." for each type
// error), so the line is read from there; line is the fallback.
func (l *loader) yamlError(line int, code string, err error) {
	msgs := []string{err.Error()}
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	}
	for _, m := range msgs {
		p := Problem{Line: line, Code: code, Message: strings.TrimPrefix(m, "yaml: ")}
		if rest, ok := strings.CutPrefix(p.Message, "line "); ok {
			if n, msg, ok := strings.Cut(rest, ": "); ok {
				if ln, err := strconv.Atoi(n); err == nil {
					p.Line, p.Message = ln, msg
				}
			}
		}
		l.problems = append(l.problems, p)
	}
}

// CheckCodes reports, as a *LoadError naming each measure, every list and
// item its grounds name that is not among lists and items (the list types
// and catalog items in force): a condition that tests for a list that does
// not exist can never apply, and a published measure would be switched off
// by a typing error.
func (s *Set) CheckCodes(lists, items []string) error {
	l := &loader{}
	for _, m := range s.Measures {
		for _, c := range m.Grounds.Lists {
			if !slices.Contains(lists, c) {
				l.add(0, m.Code, "grounds.lists: no list type has the code %q (known: %s)", c, strings.Join(lists, ", "))
			}
		}
		for _, c := range m.Grounds.Items {
			if !slices.Contains(items, c) {
				l.add(0, m.Code, "grounds.items: no catalog item has the code %q (known: %s)", c, strings.Join(items, ", "))
			}
		}
	}
	return l.err()
}
