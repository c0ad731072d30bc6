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
//	{"id", "type", "occurred_at", "subscription", "data"}
//
// where id is the delivery's id, the same on every retry and redelivery, so
// that a receiver can drop duplicates. The request carries the headers
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
// A receiver gets one delivery at a time from a subscription (a slow one
// holds one of the sender's few connections, never collection or checks),
// in ledger order among those due together; a retried delivery may arrive
// after later ones, so receivers order by the data's version.
//
// Identity in pushes is always masked (110105********002X, 张*). A record
// event carries the record's fields only when the subscribing department has
// read rights on the item when the event is sent; such a push is a read of
// the person's data and is written to the access log.
package delivery
