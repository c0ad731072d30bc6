package delivery

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"pubcredit/internal/ids"
	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

// The event types a subscription may ask for. The names are a contract with
// the departments' receivers.
const (
	RecordCreated    = "record.created"
	RecordCorrected  = "record.corrected"
	RecordRevoked    = "record.revoked"
	ListEntryNoticed = "list.entry.noticed"
	ListEntryActive  = "list.entry.active"
	ListEntryRemoved = "list.entry.removed"
)

// Events lists every event type, in the order the documentation gives them.
var Events = []string{RecordCreated, RecordCorrected, RecordRevoked, ListEntryNoticed, ListEntryActive, ListEntryRemoved}

// TypeOf returns the event type of a ledger leaf, or "" when leaves of its
// kind are not pushed (access events, and kinds this version does not know).
// A record version's type is its change; a list entry version's is its
// status, so an entry that starts active is list.entry.active.
func TypeOf(l Leaf) string {
	var t string
	switch l.Kind {
	case record.LeafKind:
		if l.Noticed {
			return ""
		}
		switch record.Change(l.Change) {
		case record.Created:
			t = RecordCreated
		case record.Corrected, record.EndedDisplay:
			t = RecordCorrected
		case record.Revoke:
			t = RecordRevoked
		}
	case listing.LeafKind:
		switch listing.Status(l.Change) {
		case listing.Noticed:
			t = ListEntryNoticed
		case listing.Active:
			t = ListEntryActive
		case listing.Removed:
			t = ListEntryRemoved
		}
	}
	return t
}

// isRecordEvent reports whether an event type is about records (else it is
// about list entries).
func isRecordEvent(t string) bool { return strings.HasPrefix(t, "record.") }

// wants reports whether the target's subscription asks for the event of
// leaf l of type t. Record events match the subscription's items, or when
// it names none every item the department may read; list events match its
// lists, or every list when it names none.
func (tg Target) wants(l Leaf, t string) bool {
	if tg.Disabled || l.Index < tg.FromLeaf || !slices.Contains(tg.Events, t) {
		return false
	}
	if isRecordEvent(t) {
		if len(tg.Items) == 0 {
			return slices.Contains(tg.Read, l.Item)
		}
		return slices.Contains(tg.Items, l.Item)
	}
	return len(tg.Lists) == 0 || slices.Contains(tg.Lists, l.List)
}

// Plan makes one pending delivery, due at now, for every leaf and every
// target that wants it.
func Plan(leaves []Leaf, targets []Target, now time.Time) []Delivery {
	var out []Delivery
	for _, l := range leaves {
		t := TypeOf(l)
		if t == "" {
			continue
		}
		for _, tg := range targets {
			if !tg.wants(l, t) {
				continue
			}
			next := now
			out = append(out, Delivery{
				ID: ids.New(now), Subscription: tg.ID, EventID: l.EventID, Type: t, LeafIndex: l.Index,
				Status: Pending, CreatedAt: now, NextAt: &next,
			})
		}
	}
	return out
}

// splitEventID splits a ledger event id "<id>:<version>".
func splitEventID(eventID string) (id string, version int, ok bool) {
	i := strings.LastIndexByte(eventID, ':')
	if i <= 0 {
		return "", 0, false
	}
	v, err := strconv.Atoi(eventID[i+1:])
	if err != nil || v < 1 {
		return "", 0, false
	}
	return eventID[:i], v, true
}
