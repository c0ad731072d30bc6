package api

import (
	"net/http"
	"time"

	"pubcredit/internal/clock"
	"pubcredit/internal/errs"
	"pubcredit/internal/identity"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

type checkRequest struct {
	Subject record.Subject `json:"subject"`
	Matter  string         `json:"matter"`
	Purpose string         `json:"purpose"`
}

type checkMeasureJSON struct {
	Code    string           `json:"code"`
	Kind    measure.Kind     `json:"kind"`
	Content measure.Text     `json:"content"`
	Basis   string           `json:"basis"`
	Because []measure.Ground `json:"because"`
}

type factListJSON struct {
	ID    string     `json:"id"`
	Code  string     `json:"code"`
	Kind  string     `json:"kind"`
	Since clock.Date `json:"since"`
	Until *string    `json:"until"`
}

type factRecordJSON struct {
	ID        string `json:"id"`
	Item      string `json:"item"`
	Polarity  string `json:"polarity"`
	Severity  string `json:"severity,omitempty"`
	DecidedOn string `json:"decided_on"`
}

type checkJSON struct {
	CheckID     string             `json:"check_id"`
	Subject     personJSON         `json:"subject"`
	Matter      string             `json:"matter"`
	Purpose     string             `json:"purpose"`
	Measures    []checkMeasureJSON `json:"measures"`
	Facts       map[string]any     `json:"facts"`
	EvaluatedAt time.Time          `json:"evaluated_at"`
}

// check is POST /api/v1/checks: which published measures apply to a person
// for a matter, each with the entries and records that triggered it.
func (a *API) check(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req checkRequest
	if err := decodeJSON(r, a.MaxBody, &req); err != nil {
		return err
	}
	res, err := a.Checks.Check(r.Context(), p, req.Subject, req.Matter, req.Purpose)
	if err != nil {
		return err
	}
	out := checkJSON{
		CheckID: res.Check.ID, Matter: res.Check.Matter, Purpose: res.Check.Purpose, EvaluatedAt: res.Check.At,
		Subject:  personJSON{IDType: string(res.Person.Type), IDNumber: identity.MaskNumber(res.Person.Number)},
		Measures: []checkMeasureJSON{},
	}
	for _, m := range res.Check.Measures {
		def, _ := a.Checks.Measures.Measure(m.Code)
		out.Measures = append(out.Measures, checkMeasureJSON{Code: m.Code, Kind: m.Kind, Content: def.Content, Basis: def.Basis, Because: m.Because})
	}
	lists := []factListJSON{}
	for _, e := range res.Entries {
		l := factListJSON{ID: e.ID, Code: e.List, Since: e.ActiveFrom, Until: e.Until.StringOrNil()}
		if t, ok := a.Lists.Types.Type(e.List); ok {
			l.Kind = string(t.Kind)
		}
		lists = append(lists, l)
	}
	recs := []factRecordJSON{}
	for _, f := range res.Facts.Records {
		recs = append(recs, factRecordJSON{ID: f.ID, Item: f.Item, Polarity: f.Polarity, Severity: f.Severity, DecidedOn: clock.DateOf(f.DecidedOn).String()})
	}
	var cleanYears *int // null for a department not shown every negative record a person may have
	if res.CleanYearsShown {
		cleanYears = &res.Facts.CleanYears
	}
	out.Facts = map[string]any{"lists": lists, "records": recs, "clean_years": cleanYears, "age": res.Facts.Age}
	return writeJSON(w, http.StatusOK, out)
}

type feedbackRequest struct {
	Results []measure.FeedbackItem `json:"results"`
}

// checkFeedback is POST /api/v1/checks/{id}/feedback.
func (a *API) checkFeedback(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	var req feedbackRequest
	if err := decodeJSON(r, a.MaxBody, &req); err != nil {
		return err
	}
	fs, err := a.Checks.AddFeedback(r.Context(), p, r.PathValue("id"), req.Results)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"check_id": r.PathValue("id"), "results": fs})
}

// measureStats is GET /api/v1/stats/measures?from=YYYY-MM-DD&to=YYYY-MM-DD
// (to inclusive; default the 30 days up to to, to default today).
func (a *API) measureStats(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var from, to clock.Date
	var pr errs.Problems
	for _, f := range []struct {
		name string
		dst  *clock.Date
	}{{"from", &from}, {"to", &to}} {
		if n := len(q[f.name]); n > 1 {
			pr.Add(f.name, "repeated", "is given %d times; give it once", n)
			continue
		}
		if s := q.Get(f.name); s != "" {
			d, err := clock.ParseDate(s)
			if err != nil {
				pr.Add(f.name, "format", "must be a date YYYY-MM-DD")
				continue
			}
			*f.dst = d
		}
	}
	if to.IsZero() {
		to = a.Records.Today()
	}
	if from.IsZero() {
		from = clock.Max(to.AddDays(-29), clock.Date{Year: 1, Month: 1, Day: 1}) // 30 days, both ends included
	}
	if to.Before(from) {
		pr.Add("to", "range", "to (%s) is before from (%s)", to, from)
	}
	if err := pr.Err("the query is not valid"); err != nil {
		return err
	}
	loc := a.Records.Location
	rows, totals, err := a.Checks.Stats(r.Context(), p, from.Time(loc), to.AddDays(1).Time(loc))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "feedback_working_days": a.Checks.FeedbackDays, "rows": rows, "departments": totals})
}

// matters publishes the counter matters and the measures (no measure can be
// applied unless published).
func (a *API) measures(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"matters": a.Checks.Measures.Matters, "measures": a.Checks.Measures.Measures})
}
