package clock_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
)

func shipped(t *testing.T) *clock.Calendar {
	t.Helper()
	c, err := clock.LoadCalendars(catalogfs.Calendars())
	if err != nil {
		t.Fatalf("loading the shipped calendars: %v", err)
	}
	return c
}

func day(t *testing.T, s string) clock.Date {
	t.Helper()
	d, err := clock.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestShippedCalendarPublishes2026(t *testing.T) {
	c := shipped(t)
	if got := c.Years(); len(got) == 0 || !c.Covered(2026) {
		t.Fatalf("Years() = %v, want 2026 among them", got)
	}
	if c.Covered(2027) {
		t.Errorf("Covered(2027) = true; 2027 has not been published")
	}
}

// TestWorkingDaysOf2026 checks every day the 2026 arrangement of DOMAIN.md
// section 12 changes, and the weekdays and weekends around them.
func TestWorkingDaysOf2026(t *testing.T) {
	c := shipped(t)
	off := map[string]bool{}
	for _, period := range [][2]string{
		{"2026-01-01", "2026-01-03"}, {"2026-02-15", "2026-02-23"}, {"2026-04-04", "2026-04-06"},
		{"2026-05-01", "2026-05-05"}, {"2026-06-19", "2026-06-21"}, {"2026-09-25", "2026-09-27"},
		{"2026-10-01", "2026-10-07"},
	} {
		for d := day(t, period[0]); !d.After(day(t, period[1])); d = d.AddDays(1) {
			off[d.String()] = true
		}
	}
	work := map[string]bool{"2026-01-04": true, "2026-02-14": true, "2026-02-28": true, "2026-05-09": true, "2026-09-20": true, "2026-10-10": true}
	working := 0
	for d := day(t, "2026-01-01"); d.Year == 2026; d = d.AddDays(1) {
		wd := d.Time(time.UTC).Weekday()
		want := (wd != 0 && wd != 6 && !off[d.String()]) || work[d.String()]
		got, err := c.IsWorkingDay(d)
		if err != nil {
			t.Fatalf("IsWorkingDay(%s): %v", d, err)
		}
		if got != want {
			t.Errorf("IsWorkingDay(%s, a %s) = %v, want %v", d, wd, got, want)
		}
		if got {
			working++
		}
	}
	// 261 weekdays in 2026, 19 of them holidays, 6 make-up weekend days.
	if working != 248 {
		t.Errorf("2026 has %d working days, want 248", working)
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := shipped(t)
	for _, tc := range []struct {
		name, day string
		want      bool
	}{
		{"New Year's Day is a day off", "2026-01-01", false},
		{"a Saturday inside a holiday period is a day off", "2026-01-03", false},
		{"a Sunday declared a working day is one", "2026-01-04", true},
		{"an ordinary Monday is a working day", "2026-01-05", true},
		{"an ordinary Saturday is not", "2026-01-10", false},
		{"a Monday inside the Spring Festival is a day off", "2026-02-16", false},
		{"a holiday Monday (Qingming) is a day off", "2026-04-06", false},
		{"the day after National Day is a working day", "2026-10-08", true},
		{"an unpublished year falls back to Monday to Friday: a Friday works", "2027-01-01", true},
		{"an unpublished year falls back to Monday to Friday: a Saturday does not", "2027-01-02", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.IsWorkingDay(day(t, tc.day))
			if err != nil || got != tc.want {
				t.Errorf("IsWorkingDay(%s) = %v, %v; want %v", tc.day, got, err, tc.want)
			}
		})
	}
}

func TestIsWorkingDayRejectsWhatIsNoDay(t *testing.T) {
	c := shipped(t)
	for _, d := range []clock.Date{{}, {Year: 2026, Month: 2, Day: 29}, {Year: 2026, Month: 13, Day: 1}, {Year: 10000, Month: 1, Day: 1}} {
		if _, err := c.IsWorkingDay(d); !errors.Is(err, errs.Invalid) {
			t.Errorf("IsWorkingDay(%+v) error = %v, want errs.Invalid", d, err)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := shipped(t)
	for _, tc := range []struct {
		name string
		from string
		n    int
		want string
	}{
		{"zero working days is the event's own day", "2026-03-04", 0, "2026-03-04"},
		{"zero working days is the event's own day even on a holiday", "2026-10-01", 0, "2026-10-01"},
		{"the count starts after the event's day: one day after a Wednesday is Thursday", "2026-03-04", 1, "2026-03-05"},
		{"one working day after a Friday is the Monday", "2026-03-06", 1, "2026-03-09"},
		{"one working day after a Saturday is the Monday", "2026-03-07", 1, "2026-03-09"},
		{"National Day is skipped: the day before it plus one is October 8", "2026-09-30", 1, "2026-10-08"},
		{"an event on a holiday counts from the first working day after it", "2026-10-03", 1, "2026-10-08"},
		{"five days' notice from the Monday before National Day ends on the make-up Saturday", "2026-09-28", 5, "2026-10-10"},
		{"a make-up Saturday counts: Friday before the Spring Festival plus one", "2026-02-13", 1, "2026-02-14"},
		{"the Spring Festival is skipped after its make-up Saturday", "2026-02-13", 2, "2026-02-24"},
		{"the make-up Saturday after the Spring Festival counts", "2026-02-27", 1, "2026-02-28"},
		{"Labour Day is skipped: April 30 plus three is May 8", "2026-04-30", 3, "2026-05-08"},
		{"the make-up Saturday after Labour Day counts", "2026-05-08", 1, "2026-05-09"},
		{"Qingming's Monday is skipped", "2026-04-03", 1, "2026-04-07"},
		{"Dragon Boat's Friday is skipped", "2026-06-18", 1, "2026-06-22"},
		{"Mid-Autumn's Friday is skipped", "2026-09-24", 1, "2026-09-28"},
		{"the make-up Sunday before National Day counts", "2026-09-18", 1, "2026-09-20"},
		{"from the last day of 2025 the New Year holiday is skipped to the make-up Sunday", "2025-12-31", 1, "2026-01-04"},
		{"ten working days across the Spring Festival", "2026-02-09", 10, "2026-02-28"},
		{"an unpublished year falls back to Monday to Friday", "2026-12-31", 1, "2027-01-01"},
		{"a year of working days in 2026", "2025-12-31", 248, "2026-12-31"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.AddWorkingDays(day(t, tc.from), tc.n)
			if err != nil {
				t.Fatalf("AddWorkingDays(%s, %d): %v", tc.from, tc.n, err)
			}
			if got.String() != tc.want {
				t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", tc.from, tc.n, got, tc.want)
			}
		})
	}
}

func TestAddWorkingDaysRejectsOutOfRange(t *testing.T) {
	c := shipped(t)
	for _, tc := range []struct {
		name string
		from clock.Date
		n    int
	}{
		{"a negative count", clock.Date{Year: 2026, Month: 3, Day: 4}, -1},
		{"a count over the maximum", clock.Date{Year: 2026, Month: 3, Day: 4}, clock.MaxWorkingDays + 1},
		{"a start that is no day", clock.Date{Year: 2026, Month: 2, Day: 30}, 1},
		{"a result after 9999-12-31", clock.Date{Year: 9999, Month: 12, Day: 31}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d, err := c.AddWorkingDays(tc.from, tc.n); !errors.Is(err, errs.Invalid) {
				t.Errorf("AddWorkingDays(%+v, %d) = %s, %v; want errs.Invalid", tc.from, tc.n, d, err)
			}
		})
	}
	if d, err := c.AddWorkingDays(day(t, "2026-01-01"), clock.MaxWorkingDays); err != nil || d.Year < 2039 {
		t.Errorf("AddWorkingDays(2026-01-01, max) = %s, %v; want a day about 14 years on", d, err)
	}
}

func TestCovers(t *testing.T) {
	c := shipped(t)
	for _, tc := range []struct {
		name, from, to string
		want           bool
	}{
		{"days inside a published year", "2026-03-04", "2026-10-08", true},
		{"the event's day is not counted, so its year needs no calendar", "2025-12-31", "2026-01-04", true},
		{"a count reaching an unpublished year", "2026-12-31", "2027-01-01", false},
		{"a count inside an unpublished year", "2027-03-01", "2027-03-02", false},
		{"nothing counted", "2027-03-01", "2027-03-01", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Covers(day(t, tc.from), day(t, tc.to)); got != tc.want {
				t.Errorf("Covers(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestNilCalendarIsMondayToFriday(t *testing.T) {
	var c *clock.Calendar
	if c.Covered(2026) || len(c.Years()) != 0 {
		t.Errorf("a nil calendar publishes a year")
	}
	got, err := c.AddWorkingDays(day(t, "2026-09-30"), 1)
	if err != nil || got.String() != "2026-10-01" {
		t.Errorf("AddWorkingDays on nil = %s, %v; want 2026-10-01", got, err)
	}
}

const good2026 = `year: 2026
source: the notice
holidays:
  - {name: 元旦 New Year, days: [2026-01-01, 2026-01-02, 2026-01-03]}
working_weekends:
  - {date: 2026-01-04, for: 元旦}
`

func TestLoadCalendarsAcceptsAHolidayOnAWeekend(t *testing.T) {
	// 2026-01-03 is a Saturday inside the holiday period.
	c, err := clock.LoadCalendars(fstest.MapFS{"2026.yaml": {Data: []byte(good2026)}})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.IsWorkingDay(day(t, "2026-01-03")); ok {
		t.Errorf("2026-01-03 is a working day")
	}
	if ok, _ := c.IsWorkingDay(day(t, "2026-02-16")); !ok {
		t.Errorf("2026-02-16 (a Monday not listed) is not a working day")
	}
}

// TestLoadCalendarsRejects checks that every rule of the file format is
// enforced and reported with the file and the line at fault.
func TestLoadCalendarsRejects(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // "file:line: part of the message", all expected
	}{
		{"no files", map[string]string{}, []string{".: no *.yaml calendar files"}},
		{"an empty file", map[string]string{"2026.yaml": ""}, []string{"2026.yaml: the file is empty"}},
		{"invalid YAML", map[string]string{"2026.yaml": "year: 2026\nholidays: [\n"}, []string{"2026.yaml:2: did not find expected node content"}},
		{"two documents", map[string]string{"2026.yaml": good2026 + "---\nyear: 2027\n"}, []string{"2026.yaml:7: a calendar file holds one YAML document"}},
		{"not a mapping", map[string]string{"2026.yaml": "- 2026-01-01\n"}, []string{"2026.yaml:1: a calendar file is a mapping"}},
		{"an unknown top-level key", map[string]string{"2026.yaml": good2026 + "notes: x\n"}, []string{`2026.yaml:7: unknown key "notes" in a calendar file`}},
		{"an unknown key in a holiday", map[string]string{"2026.yaml": strings.Replace(good2026, "{name:", "{nmae: x, name:", 1)}, []string{`2026.yaml:4: unknown key "nmae" in a holiday`}},
		{"an unknown key in a working weekend", map[string]string{"2026.yaml": strings.Replace(good2026, "for: 元旦", "fro: 元旦", 1)}, []string{`2026.yaml:6: unknown key "fro" in a working weekend`}},
		{"a duplicate key", map[string]string{"2026.yaml": "year: 2026\n" + good2026}, []string{`2026.yaml:2: mapping key "year" already defined at line 1`}},
		{"days that are not a list", map[string]string{"2026.yaml": strings.Replace(good2026, "days: [2026-01-01, 2026-01-02, 2026-01-03]", "days: 2026-01-01", 1)}, []string{"2026.yaml:4: cannot unmarshal"}},
		{"a file not named by its year", map[string]string{"holidays.yaml": good2026}, []string{"holidays.yaml: a calendar file is named by its year"}},
		{"a year that differs from the file name", map[string]string{"2025.yaml": good2026}, []string{"2025.yaml:1: year is 2026 but the file is 2025.yaml", "2025.yaml:4: holiday day 2026-01-01 is not in 2025", "2025.yaml:4: holiday day 2026-01-02 is not in 2025", "2025.yaml:4: holiday day 2026-01-03 is not in 2025", "2025.yaml:6: working weekend 2026-01-04 is not in 2025"}},
		{"a year that is no year", map[string]string{"2026.yaml": strings.Replace(good2026, "year: 2026", "year: twenty", 1)}, []string{"2026.yaml:1: year must be a year"}},
		{"a missing year", map[string]string{"2026.yaml": strings.Replace(good2026, "year: 2026\n", "", 1)}, []string{"2026.yaml:1: year is required"}},
		{"a missing source", map[string]string{"2026.yaml": strings.Replace(good2026, "source: the notice\n", "", 1)}, []string{"2026.yaml:1: source is required"}},
		{"a blank source", map[string]string{"2026.yaml": strings.Replace(good2026, "source: the notice", "source: ' '", 1)}, []string{"2026.yaml:2: source is required"}},
		{"a holiday without a name", map[string]string{"2026.yaml": strings.Replace(good2026, "name: 元旦 New Year, ", "", 1)}, []string{"2026.yaml:4: holiday 1: name is required"}},
		{"a holiday without days", map[string]string{"2026.yaml": strings.Replace(good2026, ", days: [2026-01-01, 2026-01-02, 2026-01-03]", "", 1)}, []string{"2026.yaml:4: holiday 1: days are required"}},
		{"a day that is no date", map[string]string{"2026.yaml": strings.Replace(good2026, "2026-01-02", "2026-01-32", 1)}, []string{`2026.yaml:4: holiday day "2026-01-32" is not a day of the form YYYY-MM-DD`}},
		{"a day that is not a scalar", map[string]string{"2026.yaml": strings.Replace(good2026, "2026-01-02", "[2026-01-02]", 1)}, []string{"2026.yaml:4: holiday day must be a day of the form YYYY-MM-DD"}},
		{"a holiday day outside the file's year", map[string]string{"2026.yaml": strings.Replace(good2026, "2026-01-01,", "2025-12-31,", 1)}, []string{"2026.yaml:4: holiday day 2025-12-31 is not in 2026"}},
		{"a holiday day listed twice in one holiday", map[string]string{"2026.yaml": strings.Replace(good2026, "2026-01-03]", "2026-01-03, 2026-01-01]", 1)}, []string{"2026.yaml:4: holiday day 2026-01-01 is listed twice (first at line 4)"}},
		{"a holiday day listed in two holidays", map[string]string{"2026.yaml": strings.Replace(good2026, "working_weekends:", "  - name: again\n    days:\n      - 2026-01-02\nworking_weekends:", 1)}, []string{"2026.yaml:7: holiday day 2026-01-02 is listed twice (first at line 4)"}},
		{"a working weekend listed twice", map[string]string{"2026.yaml": good2026 + "  - {date: 2026-01-04, for: 元旦}\n"}, []string{"2026.yaml:7: working weekend 2026-01-04 is listed twice (first at line 6)"}},
		{"a day in both lists", map[string]string{"2026.yaml": good2026 + "  - {date: 2026-01-03, for: 元旦}\n"}, []string{"2026.yaml:7: working weekend 2026-01-03 is also a holiday day (line 4)"}},
		{"a working weekend that is a weekday", map[string]string{"2026.yaml": good2026 + "  - {date: 2026-01-05, for: 元旦}\n"}, []string{"2026.yaml:7: working weekend 2026-01-05 is a Monday: a make-up working day (调休上班) is a Saturday or Sunday"}},
		{"a working weekend outside the file's year", map[string]string{"2026.yaml": good2026 + "  - {date: 2027-01-02, for: 元旦}\n"}, []string{"2026.yaml:7: working weekend 2027-01-02 is not in 2026"}},
		{"a working weekend without a date", map[string]string{"2026.yaml": good2026 + "  - {for: 元旦}\n"}, []string{"2026.yaml:7: working weekend 2: date is required"}},
		{"a working weekend without for", map[string]string{"2026.yaml": strings.Replace(good2026, ", for: 元旦", "", 1)}, []string{"2026.yaml:6: working weekend 1: for (the holiday it makes up for) is required"}},
		{"every problem of every file", map[string]string{
			"2026.yaml": good2026 + "  - {date: 2026-01-06, for: 元旦}\n",
			"2027.yaml": "year: 2027\nsource: s\nholidays:\n  - {name: x, days: [2026-12-31]}\n",
		}, []string{"2026.yaml:7: working weekend 2026-01-06 is a Tuesday", "2027.yaml:4: holiday day 2026-12-31 is not in 2027"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			c, err := clock.LoadCalendars(fsys)
			if err == nil {
				t.Fatalf("LoadCalendars accepted the files (years %v)", c.Years())
			}
			if !errors.Is(err, errs.Invalid) {
				t.Errorf("error kind = %v, want errs.Invalid", errs.KindOf(err))
			}
			ce, ok := errors.AsType[*clock.CalendarError](err)
			if !ok {
				t.Fatalf("error %T is not a *clock.CalendarError: %v", err, err)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ce.Problems), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not report %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadCalendarDirNamesFilesByPath(t *testing.T) {
	dir := t.TempDir()
	if _, err := clock.LoadCalendarDir(dir); err == nil || !strings.Contains(err.Error(), dir+": no *.yaml calendar files") {
		t.Errorf("LoadCalendarDir(empty dir) error = %v, want it to name the directory", err)
	}
}

// TestLoadCalendarDirAddsToTheShippedYears: an operator's directory adds
// next year to the shipped calendars and replaces a year it also holds.
func TestLoadCalendarDirAddsToTheShippedYears(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("2027.yaml", "year: 2027\nsource: the 2027 notice\nholidays:\n  - {name: 元旦 New Year, days: [2027-01-01, 2027-01-02, 2027-01-03]}\n")
	c, err := clock.LoadCalendarDir(dir, catalogfs.Calendars())
	if err != nil {
		t.Fatal(err)
	}
	// Thursday 2026-12-31 + 1: Friday 2027-01-01 is New Year, so Monday the 4th.
	if got, err := c.AddWorkingDays(day(t, "2026-12-31"), 1); err != nil || got != day(t, "2027-01-04") || !c.Covers(day(t, "2026-12-31"), got) {
		t.Errorf("1 working day after 2026-12-31: %v %v, covered %v; want 2027-01-04, covered", got, err, c.Covers(day(t, "2026-12-31"), got))
	}
	if got, _ := c.AddWorkingDays(day(t, "2026-09-30"), 1); got != day(t, "2026-10-08") {
		t.Errorf("the shipped 2026 is lost: 1 working day after 2026-09-30 is %v, want 2026-10-08", got)
	}
	// A 2026 in the directory replaces the shipped one (here: no holidays).
	write("2026.yaml", "year: 2026\nsource: a correction\n")
	if c, err = clock.LoadCalendarDir(dir, catalogfs.Calendars()); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.AddWorkingDays(day(t, "2026-09-30"), 1); got != day(t, "2026-10-01") {
		t.Errorf("the directory's 2026 does not replace the shipped one: 1 working day after 2026-09-30 is %v", got)
	}
	// A bad file is named by its path; a missing directory is an error.
	write("2028.yaml", "year: 2027\nsource: x\n")
	if _, err := clock.LoadCalendarDir(dir, catalogfs.Calendars()); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "2028.yaml")) {
		t.Errorf("a 2028.yaml of year 2027: %v, want a problem naming the file's path", err)
	}
	if _, err := clock.LoadCalendarDir(filepath.Join(dir, "missing"), catalogfs.Calendars()); err == nil {
		t.Error("a missing directory loads")
	}
}
