package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"pubcredit/internal/clock"
	"pubcredit/internal/listing"
	"pubcredit/internal/measure"
	"pubcredit/internal/record"
)

// The current rows, records and list_entries, are what the platform reads
// and queries; only their versions are committed to the ledger. Each must
// equal the latest version of its record or entry.

// checkRecords checks every records row against the latest version of its
// record: its canonical state (record.StateOf) and its payload. It returns
// the number of records rows.
func checkRecords(ctx context.Context, st Store, emit func(Problem)) (int, error) {
	n := 0
	err := st.ScanRecords(ctx, func(rec *record.Stored, latest *record.Version) error {
		switch {
		case rec == nil && latest != nil && !erasedVersion(latest):
			emit(Problem{Deleted, TableRecords, latest.RecordID, fmt.Sprintf("the record has versions (the latest %d) but its records row is gone", latest.Version)})
			return nil
		case rec == nil: // erased with its latest version
			return nil
		}
		n++
		switch {
		case latest == nil:
			emit(Problem{Inserted, TableRecords, rec.ID, "the records row has no versions: no leaf commits to it"})
			return nil
		case erasedVersion(latest):
			emit(Problem{Changed, TableRecords, rec.ID, fmt.Sprintf("its latest version (%d) is erased, but the records row is still there", latest.Version)})
			return nil
		}
		if !bytes.Equal(record.StateOf(*rec), latest.State) {
			emit(Problem{Changed, TableRecords, rec.ID, fmt.Sprintf("the records row differs from the state its latest version (%d) committed", latest.Version)})
			return nil
		}
		if !bytes.Equal(rec.Payload, latest.Payload) {
			emit(Problem{Changed, TableRecords, rec.ID, fmt.Sprintf("the records row's payload differs from its latest version's (%d)", latest.Version)})
		}
		return nil
	})
	return n, err
}

// erasedVersion reports whether a record version's salt and content were
// erased; whether it could be is the walk's to check, against its leaf.
func erasedVersion(v *record.Version) bool {
	return v.Salt == nil && len(v.Payload) == 0 && len(v.State) == 0
}

// entryState is a list entry's canonical state as listing.Entry.State
// encodes it.
type entryState struct {
	listing.Entry
	SubjectKey []byte `json:"subject_key"`
}

// checkListEntries checks every list_entries row against the latest version
// of its entry: its state, and the columns queries filter on against the
// state. It returns the number of list_entries rows.
func checkListEntries(ctx context.Context, st Store, emit func(Problem)) (int, error) {
	n := 0
	err := st.ScanListEntries(ctx, func(e *ListEntry, latest *ListVersion) error {
		erased := latest != nil && latest.Salt == nil && len(latest.State) == 0
		switch {
		case e == nil && latest != nil && !erased:
			emit(Problem{Deleted, TableListEntries, latest.EntryID, fmt.Sprintf("the entry has versions (the latest %d) but its list_entries row is gone", latest.Version)})
			return nil
		case e == nil: // erased with its latest version
			return nil
		}
		n++
		switch {
		case latest == nil:
			emit(Problem{Inserted, TableListEntries, e.ID, "the list_entries row has no versions: no leaf commits to it"})
			return nil
		case erased:
			emit(Problem{Changed, TableListEntries, e.ID, fmt.Sprintf("its latest version (%d) is erased, but the list_entries row is still there", latest.Version)})
			return nil
		}
		if !bytes.Equal(e.State, latest.State) {
			emit(Problem{Changed, TableListEntries, e.ID, fmt.Sprintf("the row's state differs from the state its latest version (%d) committed", latest.Version)})
			return nil
		}
		var s entryState
		if err := json.Unmarshal(e.State, &s); err != nil {
			emit(Problem{Changed, TableListEntries, e.ID, "the row's state does not parse: " + err.Error()})
			return nil
		}
		for _, c := range []struct {
			column     string
			row, state any
		}{
			{"id", e.ID, s.ID}, {"list", e.List, s.List}, {"dept", e.Dept, s.Dept}, {"ref", e.Ref, s.Ref},
			{"record_id", e.RecordID, s.RecordID}, {"subject_key", fmt.Sprintf("%x", e.SubjectKey), fmt.Sprintf("%x", s.SubjectKey)},
			{"status", e.Status, string(s.Status)}, {"version", e.Version, s.Version},
			{"active_from", e.ActiveFrom, s.ActiveFrom}, {"until", e.Until, s.Until},
		} {
			if c.row != c.state {
				emit(Problem{Changed, TableListEntries, e.ID, fmt.Sprintf("the row's %s is %v, its committed state says %v", c.column, show(c.row), show(c.state))})
				return nil
			}
		}
		return nil
	})
	return n, err
}

func show(v any) any {
	if d, ok := v.(clock.Date); ok && d.IsZero() {
		return "(none)"
	}
	return v
}

// checkCheckMeasures checks that the check_measures rows, which the
// statistics count, are exactly the measures each check returned (its
// committed measures), with the check's department and time.
func checkCheckMeasures(ctx context.Context, st Store, emit func(Problem)) error {
	var (
		check    measure.Check // the check whose rows are being read
		seen     []string      // the measures of its rows read so far
		readable bool          // its committed measures parse
	)
	// done reports the measures the check returned that had no row; a
	// check without a leaf was never made (the walk names it), and lacks
	// nothing.
	done := func() {
		if check.ID == "" || !readable || check.LeafIndex < 0 {
			return
		}
		for _, m := range check.Measures {
			if !slices.Contains(seen, m.Code) {
				emit(Problem{Deleted, TableCheckMeasures, check.ID + ":" + m.Code, "the checks row lists the measure, but its check_measures row is gone"})
			}
		}
	}
	err := st.ScanCheckMeasures(ctx, func(c *measure.Check, m *CheckMeasure) error {
		if c == nil {
			emit(Problem{Inserted, TableCheckMeasures, m.CheckID + ":" + m.Measure, "the row belongs to no check"})
			return nil
		}
		if c.ID != check.ID {
			done()
			check, seen = *c, seen[:0]
			check.Measures = slices.Clone(c.Measures)
			readable = !measure.Unreadable(check.Measures)
		}
		if m == nil || !readable { // an unreadable check is the walk's to report
			return nil
		}
		id := m.CheckID + ":" + m.Measure
		seen = append(seen, m.Measure)
		switch {
		case !slices.ContainsFunc(check.Measures, func(r measure.CheckedMeasure) bool { return r.Code == m.Measure }):
			emit(Problem{Inserted, TableCheckMeasures, id, "the checks row does not list this measure: one of the two was changed"})
		case m.Dept != check.Dept:
			emit(Problem{Changed, TableCheckMeasures, id, fmt.Sprintf("the row's dept is %s, the check's %s", m.Dept, check.Dept)})
		case !m.At.Equal(check.At):
			emit(Problem{Changed, TableCheckMeasures, id, fmt.Sprintf("the row's time is %s, the check's %s", m.At.Format(time.RFC3339Nano), check.At.Format(time.RFC3339Nano))})
		}
		return nil
	})
	if err == nil {
		done()
	}
	return err
}
