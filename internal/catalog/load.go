package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"pubcredit/internal/yamlnode"
)

// Problem is one thing wrong in a catalog file.
type Problem = yamlnode.Problem

// LoadError lists every problem found in a catalog, in file and line order.
// Its kind is errs.Invalid.
type LoadError = yamlnode.Error

// LoadDir loads the catalog from the *.yaml files in dir. Problems name files
// by their path under dir.
func LoadDir(dir string) (*Catalog, error) {
	c, err := Load(os.DirFS(dir))
	return c, yamlnode.InDir(err, dir)
}

// Load reads every *.yaml file in the root of fsys, in name order. A file
// holds one item (a mapping) or a sequence of items. Decoding is strict: an
// unknown key, a value of the wrong type and every rule in validate.go is a
// problem, and Load returns a *LoadError listing all of them. An error
// reading a file is returned as it is.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var items []located
	var problems []Problem
	if len(names) == 0 {
		problems = append(problems, Problem{File: ".", Message: "no *.yaml catalog files"})
	}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		its, ps := parseFile(name, data)
		items = append(items, its...)
		problems = append(problems, ps...)
	}
	problems = append(problems, validate(items)...)
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int {
			if c := strings.Compare(a.File, b.File); c != 0 {
				return c
			}
			return a.Line - b.Line
		})
		return nil, &LoadError{Problems: problems}
	}
	list := make([]Item, len(items))
	for i, l := range items {
		list[i] = l.item
	}
	return New(list), nil
}

// located is a decoded item with the YAML node it came from, so that
// validation can name the line of any key.
type located struct {
	file string
	node *yaml.Node // a mapping
	item Item
}

// at returns a Problem positioned at the key reached by path under the item
// (map keys as strings, sequence indexes as ints), or at the deepest node
// found on the way.
func (l located) at(path ...any) Problem {
	n, line := l.node, l.node.Line
	for _, step := range path {
		n = yamlnode.Resolve(n)
		var next *yaml.Node
		switch s := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == s {
						line, next = n.Content[i].Line, n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && s < len(n.Content) {
				next = n.Content[s]
				line = yamlnode.Resolve(next).Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return Problem{File: l.file, Line: line}
}

// parseFile decodes one file into items. yaml's Decoder.KnownFields works only
// on a whole stream, and decoding a whole sequence drops elements that are not
// mappings (so items and lines would no longer line up); so each item node is
// decoded on its own and checked for unknown keys by checkKeys.
func parseFile(file string, data []byte) ([]located, []Problem) {
	fail := func(line int, format string, args ...any) []Problem {
		return []Problem{{File: file, Line: line, Message: fmt.Sprintf(format, args...)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail(0, "the file holds no items")
		}
		return nil, yamlProblems(file, 0, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlProblems(file, 0, err)
		}
		return nil, fail(extra.Line, "a file holds one YAML document")
	}
	if len(doc.Content) == 0 {
		return nil, fail(doc.Line, "the file holds no items")
	}
	root := yamlnode.Resolve(doc.Content[0])
	var nodes []*yaml.Node
	switch root.Kind {
	case yaml.MappingNode:
		nodes = []*yaml.Node{root}
	case yaml.SequenceNode:
		nodes = root.Content
	default:
		return nil, fail(root.Line, "the file must hold one item (a mapping) or a sequence of items")
	}
	var items []located
	var problems []Problem
	for i, n := range nodes {
		n = yamlnode.Resolve(n)
		if n.Kind != yaml.MappingNode {
			problems = append(problems, fail(n.Line, "item %d is not a mapping", i+1)...)
			continue
		}
		var it Item
		if err := n.Decode(&it); err != nil {
			problems = append(problems, yamlProblems(file, n.Line, err)...)
			if _, ok := errors.AsType[*yaml.TypeError](err); !ok {
				continue // not decoded at all (excessive aliasing, say)
			}
		}
		yamlnode.UnknownKeys(n, reflect.TypeFor[Item](), func(line int, msg string) {
			problems = append(problems, Problem{File: file, Line: line, Message: msg})
		})
		items = append(items, located{file: file, node: n, item: it})
	}
	return items, problems
}

// yamlProblems turns a yaml error into problems. yaml reports positions only
// inside its messages ("yaml: line 3: ..." and "line 3: ..." for each type
// error), so the line is read from there; line is the fallback.
func yamlProblems(file string, line int, err error) []Problem {
	msgs := []string{err.Error()}
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	}
	out := make([]Problem, len(msgs))
	for i, m := range msgs {
		p := Problem{File: file, Line: line, Message: strings.TrimPrefix(m, "yaml: ")}
		if rest, ok := strings.CutPrefix(p.Message, "line "); ok {
			if n, msg, ok := strings.Cut(rest, ": "); ok {
				if l, err := strconv.Atoi(n); err == nil {
					p.Line, p.Message = l, msg
				}
			}
		}
		out[i] = p
	}
	return out
}
