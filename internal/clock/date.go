package clock

import (
	"fmt"
	"time"
)

// Date is a calendar day without time or zone, as decisions are dated.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateLayout is the only textual form of a Date: YYYY-MM-DD.
const DateLayout = "2006-01-02"

// ParseDate parses YYYY-MM-DD strictly (a real calendar day).
func ParseDate(s string) (Date, error) {
	if d, ok := readDate(s); ok {
		return d, nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil || len(s) != len(DateLayout) {
		return Date{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// readDate reads s when it is a real calendar day in DateLayout, as
// time.Parse does but for a fraction of its cost (dates are read with every
// stored record); false for anything else, which time.Parse reads.
func readDate(s string) (Date, bool) {
	if len(s) != len(DateLayout) || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	y, ok1 := Digits(s[:4])
	m, ok2 := Digits(s[5:7])
	d, ok3 := Digits(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > DaysIn(y, time.Month(m)) {
		return Date{}, false
	}
	return Date{y, time.Month(m), d}, true
}

// Digits reads s when it is decimal digits and nothing else (at most 9).
func Digits(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// DaysIn is the number of days of month m of year y.
func DaysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Today returns the calendar day of now in loc.
func Today(c Clock, loc *time.Location) Date { return DateOf(c.Now().In(loc)) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// StringOrNil is String, or nil for the zero Date: a date that JSON shows
// as null when there is none.
func (d Date) StringOrNil() *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.compare(e) < 0 }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.compare(e) > 0 }

func (d Date) compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return d.Year - e.Year
	case d.Month != e.Month:
		return int(d.Month) - int(e.Month)
	default:
		return d.Day - e.Day
	}
}

// AddDays returns d plus n calendar days.
func (d Date) AddDays(n int) Date { return DateOf(d.Time(time.UTC).AddDate(0, 0, n)) }

// AddMonths returns d plus n months. A day that does not exist in the target
// month is clamped to its last day (2026-01-31 + 1 month = 2026-02-28), so a
// period never spills into the month after.
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month, 1, 0, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	day := min(d.Day, last)
	return Date{first.Year(), first.Month(), day}
}

// Max returns the later of d and e.
func Max(d, e Date) Date {
	if d.Before(e) {
		return e
	}
	return d
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
