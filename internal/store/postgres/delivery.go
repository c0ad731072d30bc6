package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"pubcredit/internal/access"
	"pubcredit/internal/delivery"
	"pubcredit/internal/errs"
	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

var _ delivery.Store = (*Store)(nil)

// Several servers may share the database: the dispatcher holds the cursor
// row (FOR UPDATE) for its whole batch, so a leaf is dispatched once, and a
// sender leases the deliveries it claims (picked FOR UPDATE SKIP LOCKED), so
// a delivery is not sent by two servers at once. Reads that find nothing to
// do take no lock, so an idle platform costs two small queries a tick.

const subscriptionCols = `id, dept, url, events, lists, items, secret, from_leaf, created_at`

func scanSubscription(row pgx.Row) (delivery.Subscription, error) {
	var sub delivery.Subscription
	err := row.Scan(&sub.ID, &sub.Dept, &sub.URL, &sub.Events, &sub.Lists, &sub.Items, &sub.Secret, &sub.FromLeaf, &sub.CreatedAt)
	sub.CreatedAt = utc(sub.CreatedAt)
	return sub, err
}

// CreateSubscription stores a subscription that sees the leaves from the
// end of the ledger on, after any dispatch batch in progress, unless the
// department has an identical live one. The cursor row it locks first
// serializes subscribing too, so the check and the insert are atomic.
func (s *Store) CreateSubscription(ctx context.Context, sub delivery.Subscription, most int) (delivery.Subscription, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var cursor int64
		if err := tx.QueryRow(ctx, `SELECT next_leaf FROM delivery_cursor WHERE id = 1 FOR UPDATE`).Scan(&cursor); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM subscriptions WHERE dept = $1 AND deleted_at IS NULL`, sub.Dept).Scan(&n); err != nil {
			return err
		}
		var same string
		err := tx.QueryRow(ctx, `SELECT id FROM subscriptions WHERE dept = $1 AND url = $2 AND events = $3 AND lists = $4 AND items = $5
			AND deleted_at IS NULL ORDER BY id LIMIT 1`, sub.Dept, sub.URL, nonNil(sub.Events), nonNil(sub.Lists), nonNil(sub.Items)).Scan(&same)
		switch {
		case err == nil:
			return delivery.Duplicate(same)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		case most > 0 && n >= most:
			return delivery.TooMany(sub.Dept, n)
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&sub.FromLeaf); err != nil {
			return err
		}
		sub.FromLeaf = max(sub.FromLeaf, cursor)
		_, err = tx.Exec(ctx, `INSERT INTO subscriptions (`+subscriptionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			sub.ID, sub.Dept, sub.URL, nonNil(sub.Events), nonNil(sub.Lists), nonNil(sub.Items), sub.Secret, sub.FromLeaf, sub.CreatedAt)
		return err
	})
	return sub, err
}

// Subscription returns a live subscription. Returns NotFound.
func (s *Store) Subscription(ctx context.Context, id string) (delivery.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, errs.E(errs.NotFound, "no subscription %q", id)
	}
	return sub, translate(err)
}

// Subscriptions returns a department's live subscriptions by id.
func (s *Store) Subscriptions(ctx context.Context, dept string) ([]delivery.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE dept = $1 AND deleted_at IS NULL ORDER BY id`, dept)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []delivery.Subscription{}
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, translate(err)
		}
		out = append(out, sub)
	}
	return out, translate(rows.Err())
}

// DeleteSubscription ends a subscription and its pending deliveries.
func (s *Store) DeleteSubscription(ctx context.Context, id string, at time.Time, lastError string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL`, at, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errs.E(errs.NotFound, "no subscription %q", id)
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'dead', next_at = NULL, lease_until = NULL, last_error = $1
			WHERE subscription_id = $2 AND status = 'pending'`, lastError, id)
		return err
	})
}

// Dispatch turns leaves from the cursor on into deliveries.
func (s *Store) Dispatch(ctx context.Context, limit int, plan delivery.Planner) (int, error) {
	var cursor, end int64
	err := s.pool.QueryRow(ctx, `SELECT (SELECT next_leaf FROM delivery_cursor), (SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves)`).Scan(&cursor, &end)
	if err != nil || cursor >= end {
		return 0, translate(err)
	}
	read := 0
	err = s.tx(ctx, func(tx pgx.Tx) error {
		read = 0
		if err := tx.QueryRow(ctx, `SELECT next_leaf FROM delivery_cursor WHERE id = 1 FOR UPDATE`).Scan(&cursor); err != nil {
			return err
		}
		targets, err := dispatchTargets(ctx, tx)
		if err != nil {
			return err
		}
		if len(targets) == 0 { // nobody listens: skip to the end
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&end); err != nil || end <= cursor {
				return err
			}
			read = int(end - cursor)
			_, err = tx.Exec(ctx, `UPDATE delivery_cursor SET next_leaf = $1 WHERE id = 1`, end)
			return err
		}
		leaves, err := dispatchLeaves(ctx, tx, cursor, limit)
		if err != nil || len(leaves) == 0 {
			return err
		}
		read = len(leaves)
		if ds := plan(leaves, targets); len(ds) > 0 {
			var ids, subs, events, types, statuses []string
			var idx []int64
			var created []time.Time
			var next []*time.Time
			for _, d := range ds {
				ids, subs, events, types = append(ids, d.ID), append(subs, d.Subscription), append(events, d.EventID), append(types, d.Type)
				idx, statuses, created, next = append(idx, d.LeafIndex), append(statuses, string(d.Status)), append(created, d.CreatedAt), append(next, d.NextAt)
			}
			_, err = tx.Exec(ctx, `INSERT INTO deliveries (id, subscription_id, event_id, event_type, leaf_index, status, created_at, next_at)
				SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[], $8::timestamptz[])
				ON CONFLICT (subscription_id, event_id) DO NOTHING`, ids, subs, events, types, idx, statuses, created, next)
			if err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE delivery_cursor SET next_leaf = $1 WHERE id = 1`, leaves[len(leaves)-1].Index+1)
		return err
	})
	return read, err
}

// dispatchTargets returns the live subscriptions with their departments' rights.
func dispatchTargets(ctx context.Context, tx pgx.Tx) ([]delivery.Target, error) {
	rows, err := tx.Query(ctx, `SELECT s.id, s.dept, s.events, s.lists, s.items, s.from_leaf, d.read_items, d.disabled
		FROM subscriptions s JOIN departments d ON d.code = s.dept WHERE s.deleted_at IS NULL ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []delivery.Target
	for rows.Next() {
		var t delivery.Target
		if err := rows.Scan(&t.ID, &t.Dept, &t.Events, &t.Lists, &t.Items, &t.FromLeaf, &t.Read, &t.Disabled); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// dispatchLeaves reads up to limit leaves from index from on, with the
// change each commits to, stopping before a missing index.
func dispatchLeaves(ctx context.Context, tx pgx.Tx, from int64, limit int) ([]delivery.Leaf, error) {
	rows, err := tx.Query(ctx, `SELECT l.idx, l.kind, l.event_id, COALESCE(rv.change, ''), COALESCE(r.item, ''), COALESCE(r.dept, ''),
			lev.state, COALESCE(le.list, ''), COALESCE(le.dept, ''),
			r.id IS NOT NULL AND EXISTS (SELECT 1 FROM list_entries n WHERE n.subject_key = r.subject_key AND n.record_id = r.id AND n.status = 'noticed')
		FROM ledger_leaves l
		LEFT JOIN record_versions rv ON l.kind = $1 AND rv.leaf_index = l.idx
		LEFT JOIN records r ON r.id = rv.record_id
		LEFT JOIN list_entry_versions lev ON l.kind = $2 AND lev.leaf_index = l.idx
		LEFT JOIN list_entries le ON le.id = lev.entry_id
		WHERE l.idx >= $3 AND l.idx < $4 ORDER BY l.idx`, record.LeafKind, listing.LeafKind, from, from+int64(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []delivery.Leaf
	for rows.Next() {
		var r delivery.LeafRow
		if err := rows.Scan(&r.Index, &r.Kind, &r.EventID, &r.Change, &r.Item, &r.RecordDept, &r.EntryState, &r.List, &r.ListDept, &r.Noticed); err != nil {
			return nil, err
		}
		if r.Index != from+int64(len(out)) {
			break // a gap: never skip a leaf that may yet appear
		}
		out = append(out, r.Leaf())
	}
	return out, rows.Err()
}

const deliveryCols = `d.id, d.subscription_id, d.event_id, d.event_type, d.leaf_index, d.status, d.attempts, d.retries, d.created_at,
	d.next_at, d.first_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at, d.lease_until, d.round, d.redelivered_at`

func scanDelivery(row pgx.Row, extra ...any) (delivery.Delivery, error) {
	var d delivery.Delivery
	var status string
	var lease *time.Time
	dest := append([]any{&d.ID, &d.Subscription, &d.EventID, &d.Type, &d.LeafIndex, &status, &d.Attempts, &d.Retries, &d.CreatedAt,
		&d.NextAt, &d.FirstAttemptAt, &d.LastAttemptAt, &d.LastStatus, &d.LastError, &d.DeliveredAt, &lease, &d.Round, &d.RedeliveredAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	d.Status, d.CreatedAt = delivery.Status(status), utc(d.CreatedAt)
	d.NextAt, d.FirstAttemptAt, d.LastAttemptAt, d.DeliveredAt = utcPtr(d.NextAt), utcPtr(d.FirstAttemptAt), utcPtr(d.LastAttemptAt), utcPtr(d.DeliveredAt)
	d.RedeliveredAt = utcPtr(d.RedeliveredAt)
	if lease != nil {
		d.LeaseUntil = utc(*lease)
	}
	d.Recent = []delivery.Attempt{}
	return d, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// claimLock is the advisory lock key that serializes claims of deliveries
// ("pbcclaim").
const claimLock = 0x706263636c61696d

// ClaimDue leases due deliveries, at most one per subscription and
// delivery.LeasedPerDept per department.
func (s *Store) ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]delivery.Delivery, error) {
	var due bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'pending' AND next_at <= $1)`, now).Scan(&due); err != nil || !due {
		return nil, translate(err)
	}
	var out []delivery.Delivery
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = nil
		// Claims take turns across servers (claimLock), so that each sees
		// the leases of the one before: no delivery is leased twice, and
		// a department's leases are counted right.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(claimLock)); err != nil {
			return err
		}
		// The earliest due delivery of every live subscription that has
		// none leased, earliest first, with its department; and how many
		// each department has leased.
		rows, err := tx.Query(ctx, `SELECT d.id, s.dept FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id WHERE d.id IN (
				SELECT (SELECT p.id FROM deliveries p WHERE p.subscription_id = s.id AND p.status = 'pending' AND p.next_at <= $1
					AND (p.lease_until IS NULL OR p.lease_until <= $1) ORDER BY p.next_at, p.leaf_index, p.id LIMIT 1)
				FROM subscriptions s WHERE s.deleted_at IS NULL AND s.id NOT IN (
					SELECT subscription_id FROM deliveries WHERE lease_until IS NOT NULL AND lease_until > $1 AND status = 'pending'))
			AND d.status = 'pending' AND (d.lease_until IS NULL OR d.lease_until <= $1)
			ORDER BY d.next_at, d.leaf_index, d.id`, now)
		if err != nil {
			return err
		}
		cands, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (delivery.Candidate, error) {
			var c delivery.Candidate
			return c, row.Scan(&c.ID, &c.Dept)
		})
		if err != nil || len(cands) == 0 {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT s.dept, COUNT(*) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
			WHERE d.status = 'pending' AND d.lease_until IS NOT NULL AND d.lease_until > $1 GROUP BY s.dept`, now)
		if err != nil {
			return err
		}
		busy := map[string]int{}
		var dept string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&dept, &n}, func() error { busy[dept] = n; return nil }); err != nil {
			return err
		}
		ids := delivery.Fair(cands, busy, limit)
		if len(ids) == 0 { // every department due is at its limit
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET lease_until = $1 WHERE id = ANY($2)`, leaseUntil, ids); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+deliveryCols+`, s.url, s.secret, s.dept FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
			WHERE d.id = ANY($1) ORDER BY d.next_at, d.leaf_index, d.id`, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var url, dept string
			var secret []byte
			d, err := scanDelivery(rows, &url, &secret, &dept)
			if err != nil {
				return err
			}
			d.URL, d.Secret, d.Dept = url, secret, dept
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// Release ends a delivery's lease.
func (s *Store) Release(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET lease_until = NULL WHERE id = $1`, id)
	return translate(err)
}

// RecordAttempt stores an attempt and the delivery's new state.
func (s *Store) RecordAttempt(ctx context.Context, o delivery.Outcome) error {
	a := o.Attempt
	return s.tx(ctx, func(tx pgx.Tx) error {
		var n, round int
		var status string
		err := tx.QueryRow(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = $1, last_status = $2, last_error = $3, lease_until = NULL
			WHERE id = $4 RETURNING attempts, status, round`, a.At, a.StatusCode, a.Error, o.Delivery).Scan(&n, &status, &round)
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.E(errs.NotFound, "no delivery %q", o.Delivery)
		}
		if err != nil {
			return err
		}
		if status == string(delivery.Pending) { // else deleted meanwhile: it stays dead
			var next, delivered *time.Time
			switch o.Status {
			case delivery.Pending:
				next = &o.NextAt
			case delivery.Delivered:
				delivered = &a.At
			}
			_, err = tx.Exec(ctx, `UPDATE deliveries SET status = $1, retries = $2, next_at = $3, first_attempt_at = COALESCE(first_attempt_at, $4),
				delivered_at = COALESCE($5, delivered_at) WHERE id = $6`, string(o.Status), o.Retries, next, a.At, delivered, o.Delivery)
			if err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO delivery_attempts (delivery_id, n, round, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			o.Delivery, n, round, a.At, a.StatusCode, a.Error, a.DurationMS)
		return err
	})
}

// Delivery returns a delivery with its recent attempts. Returns NotFound.
func (s *Store) Delivery(ctx context.Context, id string) (delivery.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, errs.E(errs.NotFound, "no delivery %q", id)
	}
	if err != nil {
		return d, translate(err)
	}
	ds := []delivery.Delivery{d}
	err = s.recentAttempts(ctx, ds)
	return ds[0], err
}

// Deliveries lists a subscription's deliveries by id.
func (s *Store) Deliveries(ctx context.Context, subscription string, status delivery.Status, afterID string, limit int) ([]delivery.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.subscription_id = $1 AND ($2 = '' OR d.status = $2) AND d.id > $3
		ORDER BY d.id LIMIT $4`, subscription, string(status), afterID, limitArg(limit))
	if err != nil {
		return nil, translate(err)
	}
	out := []delivery.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, translate(err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	return out, s.recentAttempts(ctx, out)
}

// recentAttempts fills in the newest attempts of each delivery.
func (s *Store) recentAttempts(ctx context.Context, ds []delivery.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	at := map[string]int{}
	ids := make([]string, len(ds))
	for i, d := range ds {
		at[d.ID], ids[i] = i, d.ID
	}
	rows, err := s.pool.Query(ctx, `SELECT delivery_id, n, round, at, status_code, error, duration_ms FROM (
			SELECT *, ROW_NUMBER() OVER (PARTITION BY delivery_id ORDER BY n DESC) AS rank FROM delivery_attempts WHERE delivery_id = ANY($1)) a
		WHERE rank <= $2 ORDER BY delivery_id, n DESC`, ids, delivery.RecentAttempts)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a delivery.Attempt
		if err := rows.Scan(&id, &a.N, &a.Round, &a.At, &a.StatusCode, &a.Error, &a.DurationMS); err != nil {
			return translate(err)
		}
		a.At = utc(a.At)
		i := at[id]
		ds[i].Recent = append(ds[i].Recent, a)
	}
	return translate(rows.Err())
}

// Redeliver puts a delivered or dead delivery back to pending, in a new round.
func (s *Store) Redeliver(ctx context.Context, id string, now time.Time) (delivery.Delivery, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_at = $1, retries = 0, first_attempt_at = NULL, lease_until = NULL,
				round = round + 1, redelivered_at = $1, delivered_at = NULL, read_logged = false
			WHERE id = $2 AND status IN ('delivered', 'dead')`, now, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM deliveries WHERE id = $1`, id).Scan(&status); errors.Is(err, pgx.ErrNoRows) {
				return errs.E(errs.NotFound, "no delivery %q", id)
			}
			return errs.E(errs.Conflict, "delivery %s is pending", id)
		}
		return nil
	})
	if err != nil {
		return delivery.Delivery{}, err
	}
	return s.Delivery(ctx, id)
}

// LogPushRead stores the access event of a push in clear, once a round, in
// a transaction that takes the ledger lock first (it appends a leaf).
func (s *Store) LogPushRead(ctx context.Context, id string, e access.Event) (bool, error) {
	logged := false
	err := s.ledgerTx(ctx, func(tx pgx.Tx) error {
		logged = false
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET read_logged = true WHERE id = $1 AND NOT read_logged`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, id).Scan(&exists); err != nil || exists {
				return err
			}
			return errs.E(errs.NotFound, "no delivery %q", id)
		}
		logged = true
		return insertAccess(ctx, tx, e)
	})
	return logged, err
}

// EntryVersion returns a list entry as it was at a version. Returns NotFound.
func (s *Store) EntryVersion(ctx context.Context, id string, version int) (listing.Entry, error) {
	var e listing.Entry
	var state, key []byte
	var leaf *int64
	err := s.pool.QueryRow(ctx, `SELECT v.state, e.subject_key, v.leaf_index FROM list_entry_versions v JOIN list_entries e ON e.id = v.entry_id
		WHERE v.entry_id = $1 AND v.version = $2`, id, version).Scan(&state, &key, &leaf)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, errs.E(errs.NotFound, "no version %d of entry %q", version, id)
	}
	if err != nil {
		return e, translate(err)
	}
	if err := json.Unmarshal(state, &e); err != nil {
		return e, errs.Wrap(errs.Internal, err, "entry %s version %d: state", id, version)
	}
	e.SubjectKey, e.LeafIndex = key, -1
	if leaf != nil {
		e.LeafIndex = *leaf
	}
	return e, nil
}
