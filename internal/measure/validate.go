package measure

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// validate checks every rule that does not need the compiler. matterNodes and
// measureNodes are the YAML mappings of s.Matters and s.Measures, index for
// index.
func (l *loader) validate(s *Set, matterNodes, measureNodes []*yaml.Node) {
	if len(s.Matters) == 0 {
		l.add(0, "", "no matters are published")
	}
	matters := map[string]bool{}
	for i, m := range s.Matters {
		n := matterNodes[i]
		switch {
		case m.Code == "":
			l.add(n.Line, "", "a matter needs a code")
		case !matterCode.MatchString(m.Code):
			l.add(valueLine(n, "code"), m.Code, "a matter code is lower case letters, digits and _")
		case matters[m.Code]:
			l.add(valueLine(n, "code"), m.Code, "duplicate matter code")
		}
		matters[m.Code] = true
		l.text(n, m.Code, "name", m.Name)
	}

	if len(s.Measures) == 0 {
		l.add(0, "", "no measures are published")
	}
	codes := map[string]bool{}
	for i := range s.Measures {
		m, n := &s.Measures[i], measureNodes[i]
		switch {
		case m.Code == "":
			l.add(n.Line, "", "a measure needs a code")
		case !measureCode.MatchString(m.Code):
			l.add(valueLine(n, "code"), m.Code, "a measure code is upper case letters, digits and _ (2 to 64)")
		case codes[m.Code]:
			l.add(valueLine(n, "code"), m.Code, "duplicate measure code")
		}
		codes[m.Code] = true
		if m.Kind != Reward && m.Kind != Punishment {
			l.add(valueLine(n, "kind"), m.Code, "kind %q is neither %q nor %q", m.Kind, Reward, Punishment)
		}
		l.text(n, m.Code, "content", m.Content)
		if strings.TrimSpace(m.Basis) == "" {
			l.add(valueLine(n, "basis"), m.Code, "basis: the legal basis is required")
		}
		if len(m.Implementers) == 0 {
			l.add(valueLine(n, "implementers"), m.Code, "implementers: at least one implementing department is required")
		}
		for _, d := range m.Implementers {
			if strings.TrimSpace(d) == "" {
				l.add(valueLine(n, "implementers"), m.Code, "implementers: an implementing department is blank")
			}
		}
		if len(m.Matters) == 0 {
			l.add(valueLine(n, "matters"), m.Code, "matters: at least one matter is required")
		}
		for j, mt := range m.Matters {
			switch {
			case !matters[mt]:
				l.add(valueLine(n, "matters"), m.Code, "matters: unknown matter %q; known matters: %s",
					mt, strings.Join(s.MatterCodes(), ", "))
			case slices.Contains(m.Matters[:j], mt):
				l.add(valueLine(n, "matters"), m.Code, "matters: %q is listed twice", mt)
			}
		}
		switch {
		case strings.TrimSpace(m.Condition) == "":
			l.add(valueLine(n, "condition"), m.Code, "condition: a condition is required")
		case len(m.Condition) > maxCondition:
			l.add(valueLine(n, "condition"), m.Code, "condition: longer than %d bytes", maxCondition)
		}
		l.groundCodes(n, m.Code, "lists", m.Grounds.Lists)
		l.groundCodes(n, m.Code, "items", m.Grounds.Items)
		if m.Kind == Punishment && len(m.Grounds.Lists)+len(m.Grounds.Items) == 0 {
			l.add(valueLine(n, "grounds"), m.Code, "grounds: a punishment must name the lists or items it rests on")
		}
		if strings.TrimSpace(m.Version) == "" {
			l.add(valueLine(n, "version"), m.Code, "version is required")
		}
	}
}

// text checks that both languages of a text are given.
func (l *loader) text(n *yaml.Node, code, key string, t Text) {
	if strings.TrimSpace(t.Zh) == "" || strings.TrimSpace(t.En) == "" {
		l.add(valueLine(n, key), code, "%s: both zh and en are required", key)
	}
}

// groundCodes checks the codes of grounds.lists or grounds.items.
func (l *loader) groundCodes(n *yaml.Node, code, key string, codes []string) {
	line := valueLine(n, "grounds")
	if g := valueNode(n, "grounds"); g != nil && g.Kind == yaml.MappingNode {
		line = valueLine(g, key)
	}
	for j, c := range codes {
		switch {
		case !groundCode.MatchString(c):
			l.add(line, code, "grounds.%s: %q is not a list or item code (upper case letters, digits and _)", key, c)
		case slices.Contains(codes[:j], c):
			l.add(line, code, "grounds.%s: %q is listed twice", key, c)
		}
	}
}

// checkGrounds checks the grounds against what the compiled condition refers
// to: every list or item code the condition tests for must be a ground (else
// the measure could apply without naming its reason), and grounds of a kind
// the condition never looks at are a mistake.
func (l *loader) checkGrounds(m *Measure, n *yaml.Node, r refs) {
	line := valueLine(n, "grounds")
	for _, c := range uniq(r.lists) {
		if !slices.Contains(m.Grounds.Lists, c) {
			l.add(line, m.Code, "grounds.lists: the condition tests for list %q, which is not among the grounds", c)
		}
	}
	for _, c := range uniq(r.items) {
		if !slices.Contains(m.Grounds.Items, c) {
			l.add(line, m.Code, "grounds.items: the condition tests for item %q, which is not among the grounds", c)
		}
	}
	if len(m.Grounds.Lists) > 0 && !r.vars["lists"] {
		l.add(line, m.Code, "grounds.lists: the condition does not look at lists")
	}
	if len(m.Grounds.Items) > 0 && !r.vars["records"] {
		l.add(line, m.Code, "grounds.items: the condition does not look at records")
	}
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
