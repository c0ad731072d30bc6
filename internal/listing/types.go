// Package listing runs the red and black lists (DOMAIN.md section 7): list
// types with their legal basis, entry grounds, duration, notice and exit
// rules; entries with a lifecycle (noticed, active, removed) and automatic
// expiry; and the public view of the lists a law makes public.
//
// A list entry is credit information of the list's catalog item: entering a
// person creates that item's record, and the entry adds the lifecycle. The
// record's fields, display window and sharing come from the item, so there
// is one source of truth.
package listing

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
)

// Kind is red (excellent credit) or black (serious dishonesty).
type Kind string

const (
	Red   Kind = "red"
	Black Kind = "black"
)

// Published says whether a law makes a list public, and which of the item's
// fields are shown.
type Published struct {
	ByLaw  bool     `yaml:"by_law" json:"by_law"`
	Fields []string `yaml:"fields,omitempty" json:"fields,omitempty"`
}

// Type is one list.
type Type struct {
	Code            string       `yaml:"code" json:"code"`
	Name            catalog.Text `yaml:"name" json:"name"`
	Kind            Kind         `yaml:"kind" json:"kind"`
	Item            string       `yaml:"item" json:"item"` // the backing catalog item
	LegalBasis      string       `yaml:"legal_basis" json:"legal_basis"`
	EntryConditions string       `yaml:"entry_conditions" json:"entry_conditions"`
	ExitConditions  string       `yaml:"exit_conditions" json:"exit_conditions"`
	GroundsField    string       `yaml:"grounds_field" json:"grounds_field"`                           // item field holding the entry grounds
	DocumentField   string       `yaml:"document_field" json:"document_field"`                         // item field holding the decision document number
	BasisField      string       `yaml:"basis_field,omitempty" json:"basis_field,omitempty"`           // item field holding the stated basis
	DepartmentField string       `yaml:"department_field,omitempty" json:"department_field,omitempty"` // item field defaulted to the department's name
	DurationMonths  int          `yaml:"duration_months" json:"duration_months"`
	ExtensionMonths int          `yaml:"extension_months" json:"extension_months"`
	EarliestRemoval int          `yaml:"earliest_removal_months" json:"earliest_removal_months"`
	NoticeDays      int          `yaml:"notice_working_days" json:"notice_working_days"`
	Published       Published    `yaml:"published" json:"published"`

	item *catalog.Item
}

// CatalogItem is the list's backing item.
func (t *Type) CatalogItem() *catalog.Item { return t.item }

// Grounds are the codes the list accepts as entry grounds: the values of
// the item's grounds field.
func (t *Type) Grounds() []catalog.Value {
	f, _ := t.item.Field(t.GroundsField)
	return f.Values
}

// NeverMinors reports whether minors may never be put on the list (the
// item's min_age).
func (t *Type) NeverMinors() bool { return t.item.MinAge >= 18 }

// EarliestUntil returns the earliest end (`until`) a department may give an
// entry of t decided on decided and in effect from activeFrom, and whether
// there is one (DOMAIN.md section 7). A black list's term is set by its
// rules, not by the department: an entry lasts its duration, and an until
// before that would end it without the exit its rules publish. Where the
// rules allow early removal (earliest_removal_months), the earliest is the
// day early removal becomes possible, counted as Remove counts it from the
// first day on the list; it is never later than the duration's end, so the
// term given by default is always accepted. Red lists have none: their
// entry is made "by the responsible department with basis and validity",
// so the deciding department sets the term within the list's longest.
func (t *Type) EarliestUntil(decided, activeFrom clock.Date) (clock.Date, bool) {
	if t.Kind != Black {
		return clock.Date{}, false
	}
	var end clock.Date // of the duration; zero when entries last until removed
	if t.DurationMonths > 0 {
		end = decided.AddMonths(t.DurationMonths)
	}
	if t.EarliestRemoval > 0 {
		if early := activeFrom.AddMonths(t.EarliestRemoval); end.IsZero() || early.Before(end) {
			return early, true
		}
	}
	return end, !end.IsZero()
}

// Types is the loaded set of list types.
type Types struct {
	List []*Type
}

// Type returns the list type with the code.
func (ts *Types) Type(code string) (*Type, bool) {
	for _, t := range ts.List {
		if t.Code == code {
			return t, true
		}
	}
	return nil, false
}

// entryField returns the entry request field ("document_no", "grounds",
// "basis") an item field (by its name or national code) is filled from;
// empty for the others.
func (t *Type) entryField(key string) string {
	name := key
	if f, ok := t.item.Field(key); ok {
		name = f.Name
	}
	switch {
	case name == t.DocumentField:
		return "document_no"
	case name == t.GroundsField:
		return "grounds"
	case t.BasisField != "" && name == t.BasisField:
		return "basis"
	case t.item.Display.UntilField != "" && name == t.item.Display.UntilField:
		return "until"
	}
	return ""
}

// fieldsOfEntry maps the keys of an entry request that its record carries
// as item fields (document_no, grounds, basis) to those fields.
func (t *Type) fieldsOfEntry() map[string]string {
	m := map[string]string{"document_no": t.DocumentField, "grounds": t.GroundsField}
	if t.BasisField != "" {
		m["basis"] = t.BasisField
	}
	return m
}

// OfItem returns the code of the list the catalog item backs.
func (ts *Types) OfItem(item string) (string, bool) {
	for _, t := range ts.List {
		if t.Item == item {
			return t.Code, true
		}
	}
	return "", false
}

// Codes lists the codes in file order.
func (ts *Types) Codes() []string {
	out := make([]string, len(ts.List))
	for i, t := range ts.List {
		out[i] = t.Code
	}
	return out
}

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,31}$`)

// LoadTypes reads list types strictly (unknown keys and bad references are
// errors with their line) against the catalog that backs them. It reports
// every problem at once.
func LoadTypes(data []byte, cat *catalog.Catalog) (*Types, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errs.Fields("the list types are not valid", errs.FieldError{Field: "lists.yaml", Code: "syntax", Message: err.Error()})
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, errs.Fields("the list types are not valid", errs.FieldError{Field: "lists.yaml", Code: "format", Message: "the file must be a sequence of list types"})
	}
	var p errs.Problems
	at := func(n *yaml.Node) string { return fmt.Sprintf("lists.yaml:%d", n.Line) }
	ts := &Types{}
	seen := map[string]bool{}
	for _, n := range doc.Content[0].Content {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		if err := enc.Encode(n); err != nil {
			p.Add(at(n), "format", "%v", err)
			continue
		}
		dec := yaml.NewDecoder(&buf)
		dec.KnownFields(true)
		t := &Type{}
		if err := dec.Decode(t); err != nil {
			p.Add(at(n), "format", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			continue
		}
		where := at(n)
		if !codePattern.MatchString(t.Code) {
			p.Add(where, "code", "list code %q must be upper-case letters, digits and _", t.Code)
		}
		if seen[t.Code] {
			p.Add(where, "duplicate", "list %s is defined twice", t.Code)
		}
		seen[t.Code] = true
		if t.Name.Zh == "" || t.Name.En == "" {
			p.Add(where, "name", "list %s needs names in Chinese and English", t.Code)
		}
		if t.LegalBasis == "" || t.EntryConditions == "" || t.ExitConditions == "" {
			p.Add(where, "basis", "list %s must publish its legal basis and its entry and exit conditions", t.Code)
		}
		if t.DurationMonths < 0 || t.ExtensionMonths < 0 || t.EarliestRemoval < 0 || t.NoticeDays < 0 || t.NoticeDays > 60 {
			p.Add(where, "duration", "list %s: durations must be non-negative (notice at most 60 working days)", t.Code)
		}
		it, ok := cat.Item(t.Item)
		if !ok {
			p.Add(where, "item", "list %s is backed by item %q, which is not in the catalog", t.Code, t.Item)
			continue
		}
		t.item = it
		switch {
		case t.Kind == Black && it.Polarity != catalog.Negative, t.Kind == Red && it.Polarity != catalog.Positive:
			p.Add(where, "kind", "%s list %s is backed by %s information (%s)", t.Kind, t.Code, it.Polarity, it.Code)
		case t.Kind != Black && t.Kind != Red:
			p.Add(where, "kind", "list %s: kind must be red or black", t.Code)
		}
		if f, ok := it.Field(t.GroundsField); !ok || (f.Type != catalog.Enum && f.Type != catalog.EnumList) {
			p.Add(where, "grounds_field", "list %s: grounds_field %q must be an enum field of %s", t.Code, t.GroundsField, it.Code)
		}
		for name, field := range map[string]string{"document_field": t.DocumentField, "basis_field": t.BasisField, "department_field": t.DepartmentField} {
			if field == "" && name != "document_field" {
				continue
			}
			if _, ok := it.Field(field); !ok {
				p.Add(where, name, "list %s: %s %q is not a field of %s", t.Code, name, field, it.Code)
			}
		}
		for _, f := range t.Published.Fields {
			if _, ok := it.Field(f); !ok {
				p.Add(where, "published", "list %s publishes %q, which is not a field of %s", t.Code, f, it.Code)
			}
		}
		if t.Published.ByLaw && !it.Displayed() {
			p.Add(where, "published", "list %s is published by law, but item %s names no publication basis", t.Code, it.Code)
		}
		ts.List = append(ts.List, t)
	}
	if err := p.Err("the list types are not valid"); err != nil {
		return nil, err
	}
	return ts, nil
}

// ErrUnknownList is the error for a list code that does not exist; it lists
// the known codes.
func (ts *Types) unknown(code string) error {
	codes := ts.Codes()
	slices.Sort(codes)
	return errs.E(errs.NotFound, "no list %q (known lists: %s)", errs.Clip(code, 40), strings.Join(codes, ", "))
}
