package record_test

import (
	"testing"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/record"
)

func shipped(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load(catalogfs.Items())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func day(t testing.TB, s string) clock.Date {
	t.Helper()
	d, err := clock.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWindowFor(t *testing.T) {
	cat := shipped(t)
	tests := []struct {
		name                string
		item                string
		severity            catalog.Severity
		fields              map[string]any
		decided             string
		from, earliest, end string
		public              bool
	}{
		{name: "a general penalty displays from the decision date for 3 months to 1 year",
			item: "XZCF", severity: catalog.General, fields: map[string]any{"penalty_types": []string{"fine"}},
			decided: "2026-05-01", from: "2026-05-01", earliest: "2026-08-01", end: "2027-05-01"},
		{name: "a serious penalty displays for 1 to 3 years",
			item: "XZCF", severity: catalog.Serious, fields: map[string]any{"penalty_types": []string{"license_revocation"}},
			decided: "2026-05-01", from: "2026-05-01", earliest: "2027-05-01", end: "2029-05-01"},
		{name: "a minor penalty is not displayed at all",
			item: "XZCF", severity: catalog.Minor, fields: map[string]any{"penalty_types": []string{"warning"}},
			decided: "2026-05-01", from: "2026-05-01", earliest: "2026-05-01", end: "2026-05-01"},
		{name: "a month end is clamped rather than spilling into the next month",
			item: "XZCF", severity: catalog.General, fields: map[string]any{"penalty_types": []string{"fine"}},
			decided: "2025-11-30", from: "2025-11-30", earliest: "2026-02-28", end: "2026-11-30"},
		{name: "an employment ban displays while its term runs and cannot end early before it",
			item: "XZCF", severity: catalog.Serious,
			fields:  map[string]any{"penalty_types": []string{"employment_restriction"}, "valid_until": "2031-06-30"},
			decided: "2026-05-01", from: "2026-05-01", earliest: "2031-07-01", end: "2031-07-01"},
		{name: "a term without an own-term penalty does not extend display",
			item: "XZCF", severity: catalog.General,
			fields:  map[string]any{"penalty_types": []string{"fine"}, "valid_until": "2031-06-30"},
			decided: "2026-05-01", from: "2026-05-01", earliest: "2026-08-01", end: "2027-05-01"},
		{name: "a dishonest judgment debtor record is public by law",
			item: "SXBZXR", severity: catalog.Serious, fields: map[string]any{},
			decided: "2026-05-01", from: "2026-05-01", earliest: "2027-05-01", end: "2029-05-01", public: true},
		{name: "a volunteer service record has no end",
			item: "ZYFW", fields: map[string]any{}, decided: "2026-05-01", from: "2026-05-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, ok := cat.Item(tt.item)
			if !ok {
				t.Fatalf("no item %s", tt.item)
			}
			w := record.WindowFor(it, record.Content{Item: tt.item, DecidedOn: day(t, tt.decided), Severity: tt.severity, Fields: tt.fields})
			if w.From.String() != tt.from || w.EarliestEnd.String() != tt.earliest || w.End.String() != tt.end || w.Public != tt.public {
				t.Errorf("window = from %q earliest %q end %q public %v; want %q %q %q %v",
					w.From, w.EarliestEnd, w.End, w.Public, tt.from, tt.earliest, tt.end, tt.public)
			}
		})
	}
}

func TestStateOn(t *testing.T) {
	w := record.Window{From: day(t, "2026-05-01"), EarliestEnd: day(t, "2026-08-01"), End: day(t, "2027-05-01")}
	for _, tt := range []struct {
		status record.Status
		on     string
		want   record.State
	}{
		{record.Active, "2026-05-01", record.InDisplay},
		{record.Active, "2027-04-30", record.InDisplay},
		{record.Active, "2027-05-01", record.DisplayEnded}, // display stops at the start of end
		{record.Revoked, "2026-06-01", record.StateRevoked},
	} {
		if got := w.StateOn(tt.status, day(t, tt.on)); got != tt.want {
			t.Errorf("StateOn(%s, %s) = %s, want %s", tt.status, tt.on, got, tt.want)
		}
	}
}

func TestDecisionDateForms(t *testing.T) {
	f := newFixture(t)
	for _, form := range []string{"2026-05-01", "20260501", "2026/5/1", "2026/05/01", "2026.05.01", "2026年5月1日", "2026-05-01 00:00:00"} {
		sub := penalty("d-"+form, nil)
		sub.DecidedOn = form
		res, err := f.svc.Submit(t.Context(), f.dept, sub)
		if err != nil || res.Record.Content.DecidedOn.String() != "2026-05-01" {
			t.Errorf("%q: %v, decided %s", form, err, res.Record.Content.DecidedOn)
		}
	}
	for _, bad := range []string{"2026-02-30", "2026/13/1", "01/05/2026", "yesterday"} {
		sub := penalty("bad-"+bad, nil)
		sub.DecidedOn = bad
		if _, err := f.svc.Submit(t.Context(), f.dept, sub); details(t, err)["decided_on"] != "format" {
			t.Errorf("%q: want a format problem on decided_on, got %v", bad, err)
		}
	}
}
