package record

import (
	"pubcredit/internal/catalog"
	"pubcredit/internal/clock"
)

// WindowFor works out the display window of content under its item
// (DOMAIN.md section 4): anchored on the decision date, never the load date.
//
//   - Negative: the item's period for the severity; a severity without a
//     period (minor) is not displayed at all (End == From).
//   - A penalty with its own term (an employment ban, a suspension) displays
//     while the term runs and cannot end early before the term is over.
//   - Basic and positive: until the item's until-field date, or for a fixed
//     number of months, or with no end.
//   - Public: only when the item names a legal basis for publishing a
//     person's record; a person's information is otherwise not public.
func WindowFor(it *catalog.Item, c Content) Window {
	from := c.DecidedOn
	w := Window{From: from, Public: it.Displayed()}
	if it.Polarity != catalog.Negative {
		if it.Display.UntilField != "" {
			if s, ok := c.Fields[it.Display.UntilField].(string); ok {
				if d, err := clock.ParseDate(s); err == nil {
					if end, ok := dayAfter(d); ok {
						w.End = clock.Max(end, from)
					}
					return w // through 9999-12-31: no end
				}
			}
		}
		if it.Display.Months > 0 {
			w.End = from.AddMonths(it.Display.Months)
		}
		return w
	}
	p := it.Display.For(c.Severity)
	if p == nil {
		w.EarliestEnd, w.End = from, from
		return w
	}
	w.EarliestEnd = from.AddMonths(p.MinMonths)
	w.End = from.AddMonths(p.MaxMonths)
	switch termEnd, ok := ownTermEnd(it, c); {
	case ok && termEnd.IsZero(): // a term through 9999-12-31: displayed while it runs, for good
		w.EarliestEnd, w.End = clock.Date{}, clock.Date{}
	case ok:
		w.EarliestEnd = clock.Max(w.EarliestEnd, termEnd)
		w.End = clock.Max(w.End, termEnd)
	}
	return w
}

// lastDay is the last day a date can name.
var lastDay = clock.Date{Year: 9999, Month: 12, Day: 31}

// dayAfter is the first day after a term that runs through d; false when d
// is the last day a date can name, a term without end.
func dayAfter(d clock.Date) (clock.Date, bool) {
	if d == lastDay {
		return clock.Date{}, false
	}
	return d.AddDays(1), true
}

// ownTermEnd returns the day after the term of a penalty with its own term
// ends, when the record carries such a penalty and its term; the zero day
// for a term through 9999-12-31.
func ownTermEnd(it *catalog.Item, c Content) (clock.Date, bool) {
	f, ok := it.Field(it.Severity.FloorField)
	if !ok {
		return clock.Date{}, false
	}
	hasTerm := false
	for _, code := range valueCodes(c.Fields[f.Name]) {
		for _, v := range f.Values {
			if v.Code == code && v.OwnTerm {
				hasTerm = true
			}
		}
	}
	if !hasTerm {
		return clock.Date{}, false
	}
	for _, tf := range it.Fields {
		if !tf.Term {
			continue
		}
		if s, ok := c.Fields[tf.Name].(string); ok {
			if d, err := clock.ParseDate(s); err == nil {
				end, _ := dayAfter(d)
				return end, true
			}
		}
	}
	return clock.Date{}, false
}
