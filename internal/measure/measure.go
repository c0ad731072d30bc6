package measure

import (
	"slices"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
)

// Kind says whether a measure rewards or punishes.
type Kind string

const (
	Reward     Kind = "reward"     // 守信联合激励
	Punishment Kind = "punishment" // 失信联合惩戒
)

// Text in two languages.
type Text struct {
	Zh string `yaml:"zh" json:"zh"`
	En string `yaml:"en" json:"en"`
}

// Matter is a counter scenario where measures apply: a licence, a
// civil-service recruitment, a procurement, a plane ticket.
type Matter struct {
	Code string `yaml:"code" json:"code"`
	Name Text   `yaml:"name" json:"name"`
}

// Grounds are what a measure rests on: list codes and catalog item codes.
// When the measure applies, the person's list entries and records with these
// codes are the reasons given for it.
type Grounds struct {
	Lists []string `yaml:"lists,omitempty" json:"lists,omitempty"`
	Items []string `yaml:"items,omitempty" json:"items,omitempty"`
}

// Measure is one published reward or punishment.
type Measure struct {
	Code         string   `yaml:"code" json:"code"`
	Kind         Kind     `yaml:"kind" json:"kind"`
	Content      Text     `yaml:"content" json:"content"`
	Basis        string   `yaml:"basis" json:"basis"`               // legal basis
	Implementers []string `yaml:"implementers" json:"implementers"` // implementing departments, as published
	Matters      []string `yaml:"matters" json:"matters"`           // codes of the matters where it applies
	Condition    string   `yaml:"condition" json:"condition"`       // CEL over the facts; returns bool
	Grounds      Grounds  `yaml:"grounds" json:"grounds"`
	Version      string   `yaml:"version" json:"version"`

	prg   cel.Program // compiled Condition; set by Load
	reads factLists   // the fact lists the condition reads
}

// Set is a loaded, checked measures file. It is safe for concurrent use; its
// exported fields are for reading (publishing the file) and must not be
// modified.
type Set struct {
	Format   int       // the file's format version
	Matters  []Matter  // in file order
	Measures []Measure // in file order

	matters  map[string]int        // matter code -> index in Matters
	measures map[string]int        // measure code -> index in Measures
	byMatter map[string][]*Measure // matter code -> its measures, in file order
	reads    map[string]factLists  // matter code -> the fact lists its measures read
	adapter  types.Adapter         // of the base environment, to build facts
}

// Matter returns the matter with the given code.
func (s *Set) Matter(code string) (Matter, bool) {
	i, ok := s.matters[code]
	if !ok {
		return Matter{}, false
	}
	return s.Matters[i], true
}

// MatterCodes returns the codes of all matters, in file order.
func (s *Set) MatterCodes() []string {
	out := make([]string, len(s.Matters))
	for i, m := range s.Matters {
		out[i] = m.Code
	}
	return out
}

// Measure returns the measure with the given code.
func (s *Set) Measure(code string) (*Measure, bool) {
	i, ok := s.measures[code]
	if !ok {
		return nil, false
	}
	return &s.Measures[i], true
}

// ForMatter returns the measures that apply in the matter, in file order; nil
// for an unknown matter. The measures belong to the set and must not be
// modified.
func (s *Set) ForMatter(code string) []*Measure {
	return slices.Clone(s.byMatter[code])
}
