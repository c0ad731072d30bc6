// Package catalog holds the public credit information catalog: which items may
// be collected at all, by whom, on what legal basis, with which fields, how they
// are disclosed and shared, and how long they are displayed (DOMAIN.md section
// 3 and 4). Nothing outside the catalog may enter a credit record.
//
// The catalog is published: it is loaded strictly from YAML files (unknown
// keys, duplicate codes and bad display rules are errors naming file and line)
// and served as it is on the public API.
package catalog

// Polarity says whether an item is basic, positive or negative information.
type Polarity string

const (
	Basic    Polarity = "basic"
	Positive Polarity = "positive"
	Negative Polarity = "negative"
)

// Disclosure is how an item may be disclosed to the public.
type Disclosure string

const (
	PublicByLaw   Disclosure = "public"         // public by law
	OnApplication Disclosure = "on_application" // disclosed on application
	NotPublic     Disclosure = "not_public"
)

// Sharing is how an item may be shared with other departments.
type Sharing string

const (
	Unconditional Sharing = "unconditional"
	Conditional   Sharing = "conditional" // shared for a stated lawful purpose to departments with read rights
	NotShared     Sharing = "not_shared"  // only the providing department sees it
)

// Severity classes negative information (DOMAIN.md section 4).
type Severity string

const (
	Minor   Severity = "minor"
	General Severity = "general"
	Serious Severity = "serious"
)

// Rank orders severities: minor < general < serious. Unknown is -1.
func (s Severity) Rank() int {
	switch s {
	case Minor:
		return 0
	case General:
		return 1
	case Serious:
		return 2
	}
	return -1
}

// FieldType is the type of a record field.
type FieldType string

const (
	String   FieldType = "string"    // one line of text
	LongText FieldType = "text"      // free text
	Date     FieldType = "date"      // YYYY-MM-DD
	Decimal  FieldType = "decimal"   // a number, possibly with a fraction (amounts)
	Integer  FieldType = "integer"   // a whole number
	Bool     FieldType = "bool"      // true/false (也 accepts 是/否)
	Enum     FieldType = "enum"      // one of Values
	EnumList FieldType = "enum_list" // several of Values, JSON array or text separated by 、，,;；
)

// Text in two languages. Catalog names carry both.
type Text struct {
	Zh string `yaml:"zh" json:"zh"`
	En string `yaml:"en" json:"en"`
}

// Value is one allowed value of an enum field: its platform code and the
// names (Chinese first) accepted in its place.
type Value struct {
	Code    string   `yaml:"code" json:"code"`
	Name    Text     `yaml:"name" json:"name"`
	Aliases []string `yaml:"aliases,omitempty" json:"aliases,omitempty"` // other accepted spellings, e.g. the Chinese legal term
	// Floor is the least severity a record carrying this value can have
	// (a licence revocation is at least serious). Empty: no floor.
	Floor Severity `yaml:"floor,omitempty" json:"floor,omitempty"`
	// OwnTerm marks a penalty with its own term (an employment ban, a
	// suspension): display lasts while the term runs and cannot end early.
	OwnTerm bool `yaml:"own_term,omitempty" json:"own_term,omitempty"`
}

// Field is one field of an item's records.
type Field struct {
	Name     string    `yaml:"name" json:"name"`                           // platform name, e.g. "decision_no"
	National string    `yaml:"national,omitempty" json:"national"`         // national double-publicity code accepted in its place, e.g. "CF_WSH"
	Label    Text      `yaml:"label" json:"label"`                         // what a person reads
	Type     FieldType `yaml:"type" json:"type"`                           //
	Required bool      `yaml:"required,omitempty" json:"required"`         //
	Values   []Value   `yaml:"values,omitempty" json:"values,omitempty"`   // for enum and enum_list
	MaxLen   int       `yaml:"max_len,omitempty" json:"max_len,omitempty"` // in characters (runes), for string/text
	Min      *float64  `yaml:"min,omitempty" json:"min,omitempty"`         // for decimal/integer
	Max      *float64  `yaml:"max,omitempty" json:"max,omitempty"`         //
	// NationalScale multiplies a value given under the national code into the
	// platform unit: CF_NR_FK is in 10,000 yuan, fine_amount in yuan, so 10000.
	NationalScale float64 `yaml:"national_scale,omitempty" json:"national_scale,omitempty"`
	Unit          string  `yaml:"unit,omitempty" json:"unit,omitempty"` // e.g. "yuan"
	// Term marks the date field that ends a penalty's own term (CF_YXQ):
	// with an own-term value present, display lasts at least until it.
	Term bool `yaml:"term,omitempty" json:"term,omitempty"`
}

// Period is a display period in whole months.
type Period struct {
	MinMonths int `yaml:"min_months" json:"min_months"`
	MaxMonths int `yaml:"max_months" json:"max_months"`
}

// AmountRule classes severity by an amount field (fines, arrears), in the
// field's platform unit. Zero thresholds come from configuration.
type AmountRule struct {
	Field      string  `yaml:"field" json:"field"`
	MinorMax   float64 `yaml:"minor_max,omitempty" json:"minor_max,omitempty"`     // amount <= MinorMax (and nothing heavier) is minor
	SeriousMin float64 `yaml:"serious_min,omitempty" json:"serious_min,omitempty"` // amount >= SeriousMin is serious
}

// SeverityRule says how a record's severity is derived when the department
// does not state it, and the floor a stated severity may not go below.
type SeverityRule struct {
	Default Severity `yaml:"default,omitempty" json:"default,omitempty"` // when no other rule decides
	Fixed   Severity `yaml:"fixed,omitempty" json:"fixed,omitempty"`     // the only allowed severity (a serious-dishonesty list)
	// FloorField names the enum/enum_list field whose values' Floor apply
	// (penalty_types for XZCF).
	FloorField string      `yaml:"floor_field,omitempty" json:"floor_field,omitempty"`
	Amount     *AmountRule `yaml:"amount,omitempty" json:"amount,omitempty"`
}

// DisplayRule says how long records of an item are displayed, counted from
// the decision date.
type DisplayRule struct {
	// For negative items: the period by severity. A severity without a period
	// (minor, usually) is not displayed.
	Minor   *Period `yaml:"minor,omitempty" json:"minor,omitempty"`
	General *Period `yaml:"general,omitempty" json:"general,omitempty"`
	Serious *Period `yaml:"serious,omitempty" json:"serious,omitempty"`
	// For basic and positive items: a fixed period in months; 0 means the
	// record is displayed while in force, with no end.
	Months int `yaml:"months,omitempty" json:"months,omitempty"`
	// UntilField names a date field that ends display for positive items
	// (an honour valid until a date).
	UntilField string `yaml:"until_field,omitempty" json:"until_field,omitempty"`
}

// For returns the period for severity s, nil when records of that severity
// are not displayed.
func (r DisplayRule) For(s Severity) *Period {
	switch s {
	case Minor:
		return r.Minor
	case General:
		return r.General
	case Serious:
		return r.Serious
	}
	return nil
}

// Item is one catalog item.
type Item struct {
	Code        string   `yaml:"code" json:"code"`
	Name        Text     `yaml:"name" json:"name"`
	Category    string   `yaml:"category" json:"category"`         // one of Categories' codes
	SubjectType string   `yaml:"subject_type" json:"subject_type"` // "person"
	Polarity    Polarity `yaml:"polarity" json:"polarity"`
	Providers   []string `yaml:"providers" json:"providers"` // providing departments, as published text
	LegalBasis  string   `yaml:"legal_basis" json:"legal_basis"`
	// PublicationBasis names the law that makes public display of a person's
	// record lawful. Empty: a person's records are never publicly displayed.
	PublicationBasis string       `yaml:"publication_basis,omitempty" json:"publication_basis,omitempty"`
	Fields           []Field      `yaml:"fields" json:"fields"`
	Disclosure       Disclosure   `yaml:"disclosure" json:"disclosure"`
	Sharing          Sharing      `yaml:"sharing" json:"sharing"`
	UpdateFrequency  string       `yaml:"update_frequency" json:"update_frequency"` // e.g. "daily", "realtime", "7 working days"
	Severity         SeverityRule `yaml:"severity,omitempty" json:"severity,omitempty"`
	Display          DisplayRule  `yaml:"display" json:"display"`
	Repairable       bool         `yaml:"repairable" json:"repairable"`
	Version          string       `yaml:"version" json:"version"`
	LocalSupplement  bool         `yaml:"local_supplement" json:"local_supplement"`
	// MinAge refuses records of people younger than this on the decision
	// date (minors are never put on the dishonest-debtor list). 0: no limit.
	MinAge int `yaml:"min_age,omitempty" json:"min_age,omitempty"`
	// MaxAge refuses records of people older than this on the decision
	// date (the trustworthy-youth red list is for people of 14 to 35).
	// 0: no limit.
	MaxAge int `yaml:"max_age,omitempty" json:"max_age,omitempty"`
	// Subject names the national column codes that carry the person and the
	// decision date in a national export (CF_XDR_MC, CF_XDR_ZJHM, CF_JDRQ...).
	Subject SubjectColumns `yaml:"subject,omitempty" json:"subject,omitempty"`
}

// SubjectColumns are the national codes of the columns that describe the
// person and the decision date rather than the record's own fields.
type SubjectColumns struct {
	Name      string `yaml:"name,omitempty" json:"name,omitempty"`             // CF_XDR_MC
	Category  string `yaml:"category,omitempty" json:"category,omitempty"`     // CF_XDR_LB (accepted, not stored)
	IDType    string `yaml:"id_type,omitempty" json:"id_type,omitempty"`       // CF_XDR_ZJLX
	IDNumber  string `yaml:"id_number,omitempty" json:"id_number,omitempty"`   // CF_XDR_ZJHM
	DecidedOn string `yaml:"decided_on,omitempty" json:"decided_on,omitempty"` // CF_JDRQ
}

// Displayed reports whether a person's records of the item may be shown
// to anyone: the item is public by law and names the law that makes
// displaying a person's record lawful (PublicationBasis).
func (it *Item) Displayed() bool {
	return it.Disclosure == PublicByLaw && it.PublicationBasis != ""
}

// Field returns the field called name, by platform name or national code.
func (it *Item) Field(name string) (*Field, bool) {
	for i := range it.Fields {
		f := &it.Fields[i]
		if f.Name == name || (f.National != "" && f.National == name) {
			return f, true
		}
	}
	return nil, false
}

// Category is one of the national catalog's categories (2024 edition).
type Category struct {
	Code string `yaml:"code" json:"code"`
	Name Text   `yaml:"name" json:"name"`
}

// Categories are the 13 categories of the national catalog, 2024 edition.
var Categories = []Category{
	{"registration", Text{"登记注册基本信息", "Registration basics"}},
	{"judicial", Text{"司法裁判及执行信息", "Judicial judgments and enforcement"}},
	{"administrative", Text{"行政管理信息", "Administrative management"}},
	{"qualification", Text{"职称和职业资格信息", "Professional titles and qualifications"}},
	{"abnormal_list", Text{"经营（活动）异常名录（状态）信息", "Abnormal lists"}},
	{"serious_dishonesty", Text{"严重失信主体名单信息", "Serious-dishonesty lists"}},
	{"contract", Text{"合同履行信息", "Contract performance"}},
	{"commitment", Text{"信用承诺及履行情况信息", "Credit commitments and fulfilment"}},
	{"evaluation", Text{"信用评价结果信息", "Credit evaluation results"}},
	{"compliance", Text{"遵守法律法规情况信息", "Compliance with laws"}},
	{"honour", Text{"诚实守信相关荣誉信息", "Integrity honours"}},
	{"volunteered", Text{"市场主体自愿提供的信息", "Information volunteered by the subject"}},
	{"intellectual_property", Text{"知识产权信息", "Intellectual property"}},
}

// Catalog is a loaded, validated set of items.
type Catalog struct {
	Items []Item // in file order
	index map[string]int
}

// New builds a Catalog over items, which must already be validated.
func New(items []Item) *Catalog {
	c := &Catalog{Items: items, index: make(map[string]int, len(items))}
	for i, it := range items {
		c.index[it.Code] = i
	}
	return c
}

// Item returns the item with the code, and whether it exists.
func (c *Catalog) Item(code string) (*Item, bool) {
	i, ok := c.index[code]
	if !ok {
		return nil, false
	}
	return &c.Items[i], true
}

// Codes returns every item code in catalog order.
func (c *Catalog) Codes() []string {
	out := make([]string, len(c.Items))
	for i, it := range c.Items {
		out[i] = it.Code
	}
	return out
}
