// Package delivery pushes changes to the departments that subscribe to
// them: signed webhooks, at least once, retried with exponential backoff for
// a day and then dead-lettered.
//
// # The ledger is the outbox
//
// Every change that can be pushed (a record version, a list entry version)
// already appends a ledger leaf in the same database transaction as the
// change, so a committed change always has a leaf and a rolled-back one
// never does. The dispatcher keeps a cursor in the database (the next leaf
// index to look at) and, in one transaction per batch of leaves, turns each
// pushable leaf into one delivery per matching subscription and moves the
// cursor on. The sender picks due deliveries, POSTs them and records every
// attempt. Both read stored state only: a restart loses no pending delivery,
// and several processes on one database neither dispatch a leaf twice (the
// cursor row is locked for the batch) nor send one delivery twice at once
// (a delivery is leased to the process that sends it).
//
// # Events
//
// The event types are a contract: record.created, record.corrected,
// record.revoked (from record versions) and list.entry.noticed,
// list.entry.active, list.entry.removed (from list entry versions: the
// status of that version).
//
// # Wire format
//
// A delivery is an HTTP POST of a JSON object
//
//	{"id", "event_id", "type", "occurred_at", "subscription", "data"}
//
// where id is the delivery's id, the same on every retry and redelivery, so
// that a receiver can drop duplicates, and event_id names the change
// ("<record or entry id>:<version>"), the same in every subscription it
// is pushed to, so that a department with two subscriptions matching one
// change can drop the second. The request carries the headers
//
//	Content-Type: application/json
//	Pubcredit-Event: <type>
//	Pubcredit-Delivery: <id>
//	Pubcredit-Signature: t=<unix seconds>,v1=<hex>
//
// where hex is the lower-case hex of HMAC-SHA256, keyed with the
// subscription's secret (its bytes as shown once at creation), over
// t + "." + body. Any 2xx answer delivers; anything else, including a
// redirect (never followed), a timeout or a closed connection, is retried.
//
// A receiver gets one delivery at a time from a subscription, and a
// department at most four at once (LeasedPerDept): a slow receiver holds one of
// the sender's 64 connections, a department's slow receivers four, never
// collection or checks. Deliveries go in ledger order among those due
// together; a retried delivery may arrive
// after later ones, so receivers order by the data's version.
//
// # Identity
//
// A push names the person in clear (id_type, id_number, name, opened with
// the keyring) only when the subscribing department may read the event's
// item when the event is sent: the record's item for a record event, the
// list's backing item for a list event; a record event then carries the
// record's fields too. Otherwise the person is masked (110105********002X,
// 张*) and no fields are sent. A push in clear is a read of the person's
// data: it is written to the access log (record.read, the purpose naming
// the subscription and the delivery) before the request leaves, in one
// transaction with a mark on the delivery, so that it is logged once for
// the delivery's round and not once per retry; a redelivery the department
// asks for is logged again. Bodies are built when they are sent and never
// stored, so no identity is at rest in the deliveries.
//
// # Redelivery
//
// A redelivery starts a new round of the same delivery (same id): round is
// one more, redelivered_at says when it was asked for, and first_attempt_at
// and delivered_at (of this round) are empty until this round gets there;
// the attempts of earlier rounds stay listed, each with its round.
package delivery
