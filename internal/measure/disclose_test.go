package measure

import (
	"slices"
	"testing"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/auth"
	"pubcredit/internal/catalog"
	"pubcredit/internal/listing"
	rec "pubcredit/internal/record"
)

// TestCleanYearsShownIsTheDepartments: whether a check shows clean_years
// depends on what the department may see, never on the person's records:
// a null shown only to people with a record the counter may not see would
// tell of that record.
func TestCleanYearsShownIsTheDepartments(t *testing.T) {
	cat, err := catalog.Load(catalogfs.Items())
	if err != nil {
		t.Fatal(err)
	}
	types, err := listing.LoadTypes(catalogfs.Lists(), cat)
	if err != nil {
		t.Fatal(err)
	}
	c := &Checker{Records: &rec.Service{Catalog: cat}, Lists: &listing.Service{Types: types}}
	var negative []string
	for _, it := range cat.Items {
		if it.Polarity == catalog.Negative {
			negative = append(negative, it.Code)
		}
	}
	people := map[string]Facts{
		"no record":                {Now: now, CleanYears: noNegativeRecord},
		"an SBQF record":           {Now: now, Records: []RecordFact{record("r1", "SBQF", "negative", "general")}},
		"an XZCF record":           {Now: now, Records: []RecordFact{record("r2", "XZCF", "negative", "minor")}},
		"an XZCF and SBQF records": {Now: now, Records: []RecordFact{record("r3", "XZCF", "negative", "minor"), record("r4", "SBQF", "negative", "general")}},
	}
	for _, tc := range []struct {
		name string
		read []string
		want bool
	}{
		{"a counter that reads nothing", nil, false},
		{"a counter that reads XZCF only", []string{"XZCF"}, false},
		{"a counter that reads every negative item but SBQF", slices.DeleteFunc(slices.Clone(negative), func(c string) bool { return c == "SBQF" }), false},
		{"a counter that reads every negative item", negative, true},
	} {
		p := &auth.Principal{Kind: auth.Department, ID: "CTR", Read: tc.read, Matters: []string{"admin_licensing"}}
		for who, f := range people {
			if got := c.disclose(p, f, nil, nil).CleanYearsShown; got != tc.want {
				t.Errorf("%s checking a person with %s: clean years shown %v, want %v", tc.name, who, got, tc.want)
			}
		}
	}
}
