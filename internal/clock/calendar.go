package clock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"pubcredit/internal/errs"
	"pubcredit/internal/yamlnode"
)

// Calendar is the working-day calendar (DOMAIN.md section 12): Monday to
// Friday, minus public holidays, plus the weekend days the State Council
// declares working days (调休上班).
//
// It is published one year at a time, so it covers only the years it has a
// file for. A day in a year without a published calendar falls back to plain
// Monday to Friday: deadlines can still be counted, but holidays of that year
// are unknown. Covered and Covers tell the caller whether an answer rests on
// a published calendar.
//
// A nil *Calendar publishes no year. A Calendar is immutable once loaded and
// safe for concurrent use.
type Calendar struct {
	years map[int]string  // published year -> source (the notice)
	off   map[Date]string // holiday day -> holiday name
	work  map[Date]string // make-up working day -> the holiday it is for
}

// MaxWorkingDays bounds the n of AddWorkingDays: about fourteen years.
const MaxWorkingDays = 3650

// Covered reports whether year has a published calendar.
func (c *Calendar) Covered(year int) bool {
	if c == nil {
		return false
	}
	_, ok := c.years[year]
	return ok
}

// Covers reports whether every day after from, up to and including to, lies
// in a year with a published calendar: whether a count of working days from
// from that ends on to used only published calendars. It is true when to is
// not after from (nothing was counted).
func (c *Calendar) Covers(from, to Date) bool {
	if !to.After(from) {
		return true
	}
	for y := from.AddDays(1).Year; y <= to.Year; y++ {
		if !c.Covered(y) {
			return false
		}
	}
	return true
}

// Years lists the published years in order.
func (c *Calendar) Years() []int {
	if c == nil {
		return nil
	}
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

// IsWorkingDay reports whether d is a working day. A day of a year without a
// published calendar is a working day when it is Monday to Friday. The error
// (errs.Invalid) is for a Date that is not a real calendar day.
func (c *Calendar) IsWorkingDay(d Date) (bool, error) {
	if err := checkDate(d); err != nil {
		return false, err
	}
	return c.isWorking(d), nil
}

func (c *Calendar) isWorking(d Date) bool {
	if c != nil {
		if _, ok := c.work[d]; ok {
			return true
		}
		if _, ok := c.off[d]; ok {
			return false
		}
	}
	return !weekend(d)
}

// AddWorkingDays returns the day a deadline of n working days from an event
// on from falls on. The count starts after the event's day (DOMAIN.md section
// 12): the result is the nth working day strictly after from, whether or not
// from is itself a working day. n = 0 returns from. n must be from 0 to
// MaxWorkingDays, and the result must be a day of year 9999 or before; both
// are errs.Invalid.
func (c *Calendar) AddWorkingDays(from Date, n int) (Date, error) {
	if err := checkDate(from); err != nil {
		return Date{}, err
	}
	if n < 0 || n > MaxWorkingDays {
		return Date{}, errs.E(errs.Invalid, "a number of working days must be from 0 to %d, not %d", MaxWorkingDays, n)
	}
	// Outside published years at most two days in a row are not working
	// days; inside, at most a whole year is. So the nth working day is found
	// within this many days, and the bound is a guard, never the answer.
	limit := 3*n + 7 + 400*len(c.Years())
	d := from
	for left, scanned := n, 0; left > 0; {
		d = d.AddDays(1)
		if scanned++; scanned > limit || d.Year > 9999 {
			return Date{}, errs.E(errs.Invalid, "%d working days after %s fall after the last supported day, 9999-12-31", n, from)
		}
		if c.isWorking(d) {
			left--
		}
	}
	return d, nil
}

func weekend(d Date) bool {
	wd := d.Time(time.UTC).Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// checkDate rejects a Date that is not a real calendar day of years 1 to 9999.
func checkDate(d Date) error {
	if d.Year < 1 || d.Year > 9999 || d.AddDays(0) != d {
		return errs.E(errs.Invalid, "%04d-%02d-%02d is not a calendar day", d.Year, int(d.Month), d.Day)
	}
	return nil
}

// CalendarProblem is one thing wrong in a calendar file.
type CalendarProblem = yamlnode.Problem

// CalendarError lists every problem found in the calendar files, in file and
// line order. Its kind is errs.Invalid.
type CalendarError = yamlnode.Error

// LoadCalendarDir loads the calendars from the *.yaml files in dir (an
// operator's directory) over those of under (the shipped ones): a year in
// dir is added, or replaces that year's file in under. A directory that is
// missing or holds no calendar file is an error. Problems name files by
// their path under dir.
func LoadCalendarDir(dir string, under ...fs.FS) (*Calendar, error) {
	fsys := os.DirFS(dir)
	if names, err := fs.Glob(fsys, "*.yaml"); err != nil || len(names) == 0 {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		return nil, yamlnode.InDir(&CalendarError{Problems: []CalendarProblem{{File: ".", Message: "no *.yaml calendar files"}}}, dir)
	}
	c, err := LoadCalendars(append(under, fsys)...)
	return c, yamlnode.InDir(err, dir)
}

// LoadCalendars reads every *.yaml file in the root of its file systems: one file per
// published year, named YYYY.yaml, in this form:
//
//	year: 2026
//	source: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)
//	holidays:          # every day of each holiday period
//	  - {name: 元旦 New Year, days: [2026-01-01, 2026-01-02, 2026-01-03]}
//	working_weekends:  # 调休上班: weekend days that are working days
//	  - {date: 2026-01-04, for: 元旦}
//
// Decoding is strict. Each of these is a problem, reported with its file and
// line: an unknown or duplicate key; a file name that is not YYYY.yaml or a
// year that differs from it; a missing source, holiday name, days, date or
// for; a value that is not a YYYY-MM-DD day; a day outside the file's year; a
// day listed twice, or both as a holiday and as a working weekend; a working
// weekend that is not a Saturday or Sunday. A holiday day that falls on a
// weekend is fine. LoadCalendars returns a *CalendarError listing every
// problem; an error reading a file is returned as it is.
//
// Since every day lies in its own year's file, a holiday period that crosses
// New Year (say 2018-12-30 to 2019-01-01, announced with 2019) is split: its
// days in December go in the earlier year's file.
//
// Several file systems may be given (the shipped calendars, then an
// operator's directory): a file of a later one replaces the file of the same
// name in an earlier one, so that next year's calendar is added, or a year
// corrected, without a new build.
func LoadCalendars(layers ...fs.FS) (*Calendar, error) {
	from := map[string]fs.FS{} // each file name, and the layer it is read from
	for _, fsys := range layers {
		names, err := fs.Glob(fsys, "*.yaml")
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			from[name] = fsys
		}
	}
	names := slices.Sorted(maps.Keys(from))
	c := &Calendar{years: map[int]string{}, off: map[Date]string{}, work: map[Date]string{}}
	var problems []CalendarProblem
	if len(names) == 0 {
		problems = append(problems, CalendarProblem{File: ".", Message: "no *.yaml calendar files"})
	}
	for _, name := range names {
		data, err := fs.ReadFile(from[name], name)
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		problems = append(problems, c.parseFile(name, data)...)
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b CalendarProblem) int {
			if x := strings.Compare(a.File, b.File); x != 0 {
				return x
			}
			return a.Line - b.Line
		})
		return nil, &CalendarError{Problems: problems}
	}
	return c, nil
}

// calendarFile is one year's file. Dates and the year are kept as nodes so
// that problems can name their lines.
type calendarFile struct {
	Year            yaml.Node        `yaml:"year"`
	Source          string           `yaml:"source"`
	Holidays        []calendarPeriod `yaml:"holidays"`
	WorkingWeekends []calendarMakeUp `yaml:"working_weekends"`
}

type calendarPeriod struct {
	Name string      `yaml:"name"`
	Days []yaml.Node `yaml:"days"`
}

type calendarMakeUp struct {
	Date yaml.Node `yaml:"date"`
	For  string    `yaml:"for"`
}

var yearFileName = regexp.MustCompile(`^[0-9]{4}\.yaml$`)

// parseFile checks one year's file and, when it has no problem, adds its days
// to c.
func (c *Calendar) parseFile(file string, data []byte) []CalendarProblem {
	var problems []CalendarProblem
	add := func(line int, format string, args ...any) {
		problems = append(problems, CalendarProblem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	// The file is read twice: strictly into calendarFile, and as a node tree
	// for the lines of entries and keys.
	var tree yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&tree); err != nil {
		if errors.Is(err, io.EOF) {
			add(0, "the file is empty")
			return problems
		}
		return yamlCalendarProblems(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return yamlCalendarProblems(file, err)
		}
		add(extra.Line, "a calendar file holds one YAML document")
		return problems
	}
	root := &tree
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		add(root.Line, "a calendar file is a mapping with year, source, holidays and working_weekends")
		return problems
	}
	var f calendarFile
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&f); err != nil {
		return yamlCalendarProblems(file, err)
	}

	// year
	fileYear := 0
	if yearFileName.MatchString(file) {
		fileYear, _ = strconv.Atoi(strings.TrimSuffix(file, ".yaml"))
	} else {
		add(0, "a calendar file is named by its year, YYYY.yaml")
	}
	keyLine := func(key string) int {
		if k := mapKey(root, key); k != nil {
			return k.Line
		}
		return root.Line
	}
	year, err := strconv.Atoi(f.Year.Value)
	switch {
	case f.Year.Kind == 0:
		add(root.Line, "year is required")
	case f.Year.Kind != yaml.ScalarNode || err != nil || year < 1 || year > 9999:
		add(f.Year.Line, "year must be a year such as 2026")
	case fileYear != 0 && year != fileYear:
		add(f.Year.Line, "year is %d but the file is %s: a file holds the year it is named by", year, file)
	}
	if fileYear == 0 {
		fileYear = year // check the days against the year key instead
	}
	if strings.TrimSpace(f.Source) == "" {
		add(keyLine("source"), "source is required: the notice that published the calendar")
	}

	// date parses a node as a day of the file's year.
	date := func(n *yaml.Node, what string) (Date, bool) {
		if n.Kind != yaml.ScalarNode {
			add(n.Line, "%s must be a day of the form YYYY-MM-DD", what)
			return Date{}, false
		}
		d, err := ParseDate(n.Value)
		if err != nil {
			add(n.Line, "%s %q is not a day of the form YYYY-MM-DD", what, n.Value)
			return Date{}, false
		}
		if fileYear != 0 && d.Year != fileYear {
			add(n.Line, "%s %s is not in %d: the file holds the days of its year", what, d, fileYear)
			return Date{}, false
		}
		return d, true
	}
	off := map[Date]int{}  // day -> line
	work := map[Date]int{} // day -> line
	offName := map[Date]string{}
	workFor := map[Date]string{}
	entries := mapValue(root, "holidays")
	for i, h := range f.Holidays {
		line := entryLine(entries, i, root.Line)
		if strings.TrimSpace(h.Name) == "" {
			add(line, "holiday %d: name is required", i+1)
		}
		if len(h.Days) == 0 {
			add(line, "holiday %d: days are required", i+1)
		}
		for j := range h.Days {
			n := &h.Days[j]
			d, ok := date(n, "holiday day")
			if !ok {
				continue
			}
			if first, dup := off[d]; dup {
				add(n.Line, "holiday day %s is listed twice (first at line %d)", d, first)
				continue
			}
			off[d], offName[d] = n.Line, h.Name
		}
	}
	entries = mapValue(root, "working_weekends")
	for i, m := range f.WorkingWeekends {
		line := entryLine(entries, i, root.Line)
		if strings.TrimSpace(m.For) == "" {
			add(line, "working weekend %d: for (the holiday it makes up for) is required", i+1)
		}
		if m.Date.Kind == 0 {
			add(line, "working weekend %d: date is required", i+1)
			continue
		}
		d, ok := date(&m.Date, "working weekend")
		if !ok {
			continue
		}
		if first, dup := work[d]; dup {
			add(m.Date.Line, "working weekend %s is listed twice (first at line %d)", d, first)
			continue
		}
		if hl, both := off[d]; both {
			add(m.Date.Line, "working weekend %s is also a holiday day (line %d): a day is one or the other", d, hl)
			continue
		}
		if !weekend(d) {
			add(m.Date.Line, "working weekend %s is a %s: a make-up working day (调休上班) is a Saturday or Sunday", d, d.Time(time.UTC).Weekday())
			continue
		}
		work[d], workFor[d] = m.Date.Line, m.For
	}
	if len(problems) > 0 {
		return problems
	}
	c.years[year] = f.Source
	for d, name := range offName {
		c.off[d] = name
	}
	for d, name := range workFor {
		c.work[d] = name
	}
	return nil
}

// mapKey returns the key node of key in mapping n, or nil.
func mapKey(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// mapValue returns the value node of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// entryLine returns the line of the ith entry of sequence seq, or def.
func entryLine(seq *yaml.Node, i, def int) int {
	if seq != nil && seq.Kind == yaml.SequenceNode && i < len(seq.Content) {
		return seq.Content[i].Line
	}
	return def
}

var unknownField = regexp.MustCompile(`^field (\S+) not found in type clock\.(\w+)$`)

// yamlCalendarProblems turns a yaml error into problems. yaml reports lines
// only inside its messages ("yaml: line 3: ..." and "line 3: ..." for each
// type error), so the line is read from there.
func yamlCalendarProblems(file string, err error) []CalendarProblem {
	msgs := []string{err.Error()}
	if te, ok := errors.AsType[*yaml.TypeError](err); ok {
		msgs = te.Errors
	}
	out := make([]CalendarProblem, len(msgs))
	for i, m := range msgs {
		p := CalendarProblem{File: file, Message: strings.TrimPrefix(m, "yaml: ")}
		if rest, ok := strings.CutPrefix(p.Message, "line "); ok {
			if n, msg, ok := strings.Cut(rest, ": "); ok {
				if l, err := strconv.Atoi(n); err == nil {
					p.Line, p.Message = l, msg
				}
			}
		}
		if m := unknownField.FindStringSubmatch(p.Message); m != nil {
			where := map[string]string{"calendarFile": "a calendar file", "calendarPeriod": "a holiday", "calendarMakeUp": "a working weekend"}[m[2]]
			p.Message = fmt.Sprintf("unknown key %q in %s", m[1], where)
		}
		out[i] = p
	}
	return out
}
