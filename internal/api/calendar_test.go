package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	catalogfs "pubcredit/catalog"
	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
)

func calendarAPI(t *testing.T) *API {
	t.Helper()
	cal, err := clock.LoadCalendars(catalogfs.Calendars())
	if err != nil {
		t.Fatalf("loading the shipped calendars: %v", err)
	}
	return &API{Calendar: cal}
}

// getWorkingDays calls the handler anonymously, as a citizen would.
func getWorkingDays(t *testing.T, a *API, query string) (*httptest.ResponseRecorder, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/api/v1/calendar/working-days"+query, nil)
	w := httptest.NewRecorder()
	return w, a.workingDays(w, r)
}

func TestWorkingDaysAnswersTheDeadlineWithoutAToken(t *testing.T) {
	a := calendarAPI(t)
	for _, tc := range []struct {
		name, query string
		want        string
	}{
		{"National Day is skipped", "?from=2026-09-30&add=1", `{"from":"2026-09-30","add":1,"date":"2026-10-08","calendar_covered":true}`},
		{"a make-up Saturday counts", "?from=2026-02-13&add=1", `{"from":"2026-02-13","add":1,"date":"2026-02-14","calendar_covered":true}`},
		{"zero days is the event's day", "?from=2026-10-01&add=0", `{"from":"2026-10-01","add":0,"date":"2026-10-01","calendar_covered":true}`},
		{"the event's year needs no calendar", "?from=2025-12-31&add=1", `{"from":"2025-12-31","add":1,"date":"2026-01-04","calendar_covered":true}`},
		{"an unpublished year is counted Monday to Friday and says so", "?from=2026-12-31&add=1", `{"from":"2026-12-31","add":1,"date":"2027-01-01","calendar_covered":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := getWorkingDays(t, a, tc.query)
			if err != nil {
				t.Fatalf("handler: %v", err)
			}
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			var got, want any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			json.Unmarshal([]byte(tc.want), &want)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Errorf("body = %s, want %s", gb, wb)
			}
		})
	}
}

func TestWorkingDaysWithoutACalendarCountsMondayToFriday(t *testing.T) {
	w, err := getWorkingDays(t, &API{}, "?from=2026-09-30&add=1")
	if err != nil {
		t.Fatal(err)
	}
	var got workingDaysJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Date.String() != "2026-10-01" || got.CalendarCovered {
		t.Errorf("answer = %+v, want 2026-10-01, not covered", got)
	}
}

func TestWorkingDaysRejectsBadQueries(t *testing.T) {
	a := calendarAPI(t)
	type field struct{ field, code string }
	for _, tc := range []struct {
		name, query string
		want        []field
	}{
		{"nothing given", "", []field{{"from", "required"}, {"add", "required"}}},
		{"from missing", "?add=1", []field{{"from", "required"}}},
		{"add missing", "?from=2026-09-30", []field{{"add", "required"}}},
		{"from empty", "?from=&add=1", []field{{"from", "required"}}},
		{"from not a date", "?from=tomorrow&add=1", []field{{"from", "date"}}},
		{"from not a real day", "?from=2026-02-29&add=1", []field{{"from", "date"}}},
		{"from in another form", "?from=2026-9-30&add=1", []field{{"from", "date"}}},
		{"from with a time", "?from=2026-09-30T00:00:00Z&add=1", []field{{"from", "date"}}},
		{"from in year 0", "?from=0000-01-01&add=1", []field{{"from", "date"}}},
		{"add not a number", "?from=2026-09-30&add=five", []field{{"add", "range"}}},
		{"add a fraction", "?from=2026-09-30&add=1.5", []field{{"add", "range"}}},
		{"add negative", "?from=2026-09-30&add=-1", []field{{"add", "range"}}},
		{"add over the maximum", "?from=2026-09-30&add=3651", []field{{"add", "range"}}},
		{"add huge", "?from=2026-09-30&add=99999999999999999999", []field{{"add", "range"}}},
		{"both bad", "?from=x&add=y", []field{{"from", "date"}, {"add", "range"}}},
		{"a deadline after 9999-12-31", "?from=9999-12-31&add=1", []field{{"add", "range"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := getWorkingDays(t, a, tc.query)
			if err == nil {
				t.Fatalf("answered %d %s, want an error", w.Code, w.Body)
			}
			if w.Body.Len() != 0 {
				t.Errorf("the handler wrote %q before failing", w.Body)
			}
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("kind = %v (%v), want invalid (422)", errs.KindOf(err), err)
			}
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T has no details", err)
			}
			if len(e.Details) != len(tc.want) {
				t.Fatalf("details = %v, want %v", e.Details, tc.want)
			}
			for i, d := range e.Details {
				if d.Field != tc.want[i].field || d.Code != tc.want[i].code || d.Message == "" {
					t.Errorf("detail %d = %+v, want field %q code %q", i, d, tc.want[i].field, tc.want[i].code)
				}
			}
		})
	}
}
