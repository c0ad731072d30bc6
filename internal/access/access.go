// Package access is the access log: every read of a person's data, who read
// it, when, what was returned, for which stated purpose and under which
// authority (DOMAIN.md section 9). An event is written before the answer
// leaves; if it cannot be written, the answer does not leave.
package access

import (
	"context"
	"pubcredit/internal/ids"
	"time"

	"pubcredit/internal/auth"
	"pubcredit/internal/clock"
)

// Action names what was read.
type Action string

const (
	FileRead   Action = "file.read"   // a department looked up a person's integrity file
	RecordRead Action = "record.read" // a department read one of its records
	AuditRead  Action = "audit.read"  // an auditor read a person's access log
)

// Event is one access to a person's data.
type Event struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	Principal  auth.Kind `json:"principal_kind"`
	Actor      string    `json:"principal"` // department code or auditor name
	SubjectKey []byte    `json:"-"`
	Action     Action    `json:"action"`
	Purpose    string    `json:"purpose"`
	Authority  string    `json:"authority,omitempty"` // the right used: "read rights on XZCF", later an authorization id
	Records    []string  `json:"records"`             // ids of the records returned
	Items      []string  `json:"items"`               // catalog items returned
}

// Store keeps access events.
type Store interface {
	// AppendAccess stores an event durably.
	AppendAccess(ctx context.Context, e Event) error
	// AccessBySubject returns a person's access events, newest first, at most limit.
	AccessBySubject(ctx context.Context, subjectKey []byte, limit int) ([]Event, error)
}

// Log writes access events with ids and times.
type Log struct {
	Store Store
	Clock clock.Clock
}

// Record stamps e with an id and the time and stores it.
func (l *Log) Record(ctx context.Context, e Event) error {
	e.ID = ids.New(l.Clock.Now())
	e.At = l.Clock.Now().UTC()
	if e.Records == nil {
		e.Records = []string{}
	}
	if e.Items == nil {
		e.Items = []string{}
	}
	return l.Store.AppendAccess(ctx, e)
}
