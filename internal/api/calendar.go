package api

import (
	"errors"
	"net/http"
	"strconv"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
)

type workingDaysJSON struct {
	From clock.Date `json:"from"`
	Add  int        `json:"add"`
	Date clock.Date `json:"date"`
	// CalendarCovered is false when a day counted lies in a year without a
	// published calendar, which was counted as plain Monday to Friday.
	CalendarCovered bool `json:"calendar_covered"`
}

// workingDays answers the day a deadline of add working days from an event
// on from falls on, counted the way the platform counts it: from the day
// after the event (DOMAIN.md section 12). Public: it needs no token.
func (a *API) workingDays(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var problems errs.Problems
	var from clock.Date
	switch s := q.Get("from"); {
	case s == "":
		problems.Add("from", "required", "the day of the event is required, as YYYY-MM-DD")
	default:
		d, err := clock.ParseDate(s)
		if err != nil || d.Year < 1 {
			problems.Add("from", "date", "must be a day of the form YYYY-MM-DD")
		}
		from = d
	}
	var n int
	switch s := q.Get("add"); {
	case s == "":
		problems.Add("add", "required", "the number of working days is required")
	default:
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > clock.MaxWorkingDays {
			problems.Add("add", "range", "must be a whole number from 0 to %d", clock.MaxWorkingDays)
		}
		n = v
	}
	if err := problems.Err("the query is not valid"); err != nil {
		return err
	}
	date, err := a.Calendar.AddWorkingDays(from, n)
	if errors.Is(err, errs.Invalid) {
		// The only way left: the deadline falls after 9999-12-31.
		return errs.Fields("the query is not valid", errs.FieldError{Field: "add", Code: "range", Message: publicMessage(err)})
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, workingDaysJSON{From: from, Add: n, Date: date, CalendarCovered: a.Calendar.Covers(from, date)})
}
