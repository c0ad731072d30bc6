// Package measure holds the published joint rewards and punishments
// (守信联合激励和失信联合惩戒措施, DOMAIN.md section 8) and decides which of
// them apply to a person at a department's counter.
//
// The measures are published in one YAML file (catalog/measures.yaml). A
// measure not in that file can never be returned: [Set.Evaluate] returns only
// measures of the loaded [Set], and Load refuses the whole file when any
// measure in it is wrong.
//
// # Conditions
//
// Each measure's condition is a CEL expression (https://cel.dev) over the
// facts about the person. Following openfga's use of CEL, there is one base
// environment; every condition is parsed and type-checked in it when the file
// is loaded, and a condition that does not type-check, refers to an unknown
// fact, or does not return bool is a load error naming the measure. The
// compiled program is kept with the measure and evaluated with a cost limit
// ([CostLimit]) and the request context, so that a costly rule or a cancelled
// request stops evaluation.
//
// The facts, as CEL sees them:
//
//	lists        list of list entries the person is on (active ones only):
//	               id, code, kind ("red" | "black") string;
//	               since, until timestamp; open bool.
//	             An open-ended entry has open == true and until at the largest
//	             CEL timestamp (9999-12-31T23:59:59Z), so "until > now" holds.
//	records      list of records in use: id, item, polarity, severity string;
//	               decided_on timestamp.
//	clean_years  int: whole years since the last negative record in use.
//	score        int: the credit score, or -1 while there is none.
//	age          int: the person's age in whole years at now.
//	now          timestamp: the time of the check (never the wall clock).
//
// Helper macros, expanded when a condition is parsed:
//
//	on_list("SXBZXR", ...)   lists.exists(e, e.code == "SXBZXR" || ...)
//	on_black_list()          lists.exists(e, e.kind == "black")
//	on_red_list()            lists.exists(e, e.kind == "red")
//	has_record("XYCNWY", ...) records.exists(r, r.item == "XYCNWY" || ...)
//
// # Grounds
//
// Every result names its reasons (DOMAIN.md section 8). A measure declares
// its grounds: the list codes and catalog item codes it rests on. When the
// condition holds, the reasons given are the person's list entries whose code
// is among the grounds' lists and the records whose item is among its items.
// Load checks that every list or item code the condition tests for (e.code ==
// "X", on_list("X"), r.item == "X", has_record("X")) is among the grounds, and
// that every punishment has grounds; a punishment whose condition holds but
// that finds no grounds among the facts is an evaluation error rather than a
// punishment without a reason.
//
// # What the caller passes
//
// The package is pure: no database, no clock. The caller passes only list
// entries that are active at Facts.Now and only records that are in use
// (not expired, revoked, repaired or under objection); it works out
// clean_years and age itself. Evaluate does not filter expired entries.
package measure
