package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"pubcredit/internal/access"
	"pubcredit/internal/delivery"
	"pubcredit/internal/errs"
	"pubcredit/internal/listing"
	"pubcredit/internal/record"
)

var _ delivery.Store = (*Store)(nil)

// SQLite has one writer: the dispatcher's and the senders' transactions
// are serialized with every change, so the cursor and the leases need no
// locks of their own. Reads that find nothing to do go to the readers, so
// an idle platform does not take the writer every tick.

const subscriptionCols = `id, dept, url, events, lists, items, secret, from_leaf, created_at`

func scanSubscription(row interface{ Scan(...any) error }) (delivery.Subscription, error) {
	var sub delivery.Subscription
	var events, lists, items, created string
	if err := row.Scan(&sub.ID, &sub.Dept, &sub.URL, &events, &lists, &items, &sub.Secret, &sub.FromLeaf, &created); err != nil {
		return sub, err
	}
	sub.CreatedAt = parseTS(created)
	err := errors.Join(json.Unmarshal([]byte(events), &sub.Events), json.Unmarshal([]byte(lists), &sub.Lists), json.Unmarshal([]byte(items), &sub.Items))
	return sub, err
}

func jsonList(s []string) string {
	b, _ := json.Marshal(nonNil(s))
	return string(b)
}

// CreateSubscription stores a subscription that sees the leaves from the
// end of the ledger on, unless the department has an identical live one
// (the one writer makes the check and the insert atomic).
func (s *Store) CreateSubscription(ctx context.Context, sub delivery.Subscription, most int) (delivery.Subscription, error) {
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions WHERE dept = ? AND deleted_at IS NULL`, sub.Dept).Scan(&n); err != nil {
			return err
		}
		var same string
		err := tx.QueryRowContext(ctx, `SELECT id FROM subscriptions WHERE dept = ? AND url = ? AND events = ? AND lists = ? AND items = ?
			AND deleted_at IS NULL ORDER BY id LIMIT 1`, sub.Dept, sub.URL, jsonList(sub.Events), jsonList(sub.Lists), jsonList(sub.Items)).Scan(&same)
		switch {
		case err == nil:
			return delivery.Duplicate(same)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case most > 0 && n >= most:
			return delivery.TooMany(sub.Dept, n)
		}
		err = tx.QueryRowContext(ctx, `SELECT MAX((SELECT next_leaf FROM delivery_cursor), (SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves))`).Scan(&sub.FromLeaf)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sub.ID, sub.Dept, sub.URL, jsonList(sub.Events), jsonList(sub.Lists), jsonList(sub.Items), sub.Secret, sub.FromLeaf, ts(sub.CreatedAt))
		return err
	})
	return sub, err
}

// Subscription returns a live subscription. Returns NotFound.
func (s *Store) Subscription(ctx context.Context, id string) (delivery.Subscription, error) {
	sub, err := scanSubscription(s.r.QueryRowContext(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE id = ? AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, errs.E(errs.NotFound, "no subscription %q", id)
	}
	return sub, translate(err)
}

// Subscriptions returns a department's live subscriptions by id.
func (s *Store) Subscriptions(ctx context.Context, dept string) ([]delivery.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE dept = ? AND deleted_at IS NULL ORDER BY id`, dept)
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
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, ts(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no subscription %q", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'dead', next_at = NULL, lease_until = NULL, last_error = ?
			WHERE subscription_id = ? AND status = 'pending'`, lastError, id)
		return err
	})
}

// Dispatch turns leaves from the cursor on into deliveries.
func (s *Store) Dispatch(ctx context.Context, limit int, plan delivery.Planner) (int, error) {
	var cursor, end int64
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT next_leaf FROM delivery_cursor), (SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves)`).Scan(&cursor, &end)
	if err != nil || cursor >= end {
		return 0, translate(err)
	}
	read := 0
	err = s.tx(ctx, func(ctx context.Context, tx *txn) error {
		if err := tx.QueryRowContext(ctx, `SELECT next_leaf FROM delivery_cursor`).Scan(&cursor); err != nil {
			return err
		}
		targets, err := dispatchTargets(ctx, tx)
		if err != nil {
			return err
		}
		if len(targets) == 0 { // nobody listens: skip to the end
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_leaves`).Scan(&end); err != nil || end <= cursor {
				return err
			}
			read = int(end - cursor)
			_, err = tx.ExecContext(ctx, `UPDATE delivery_cursor SET next_leaf = ?`, end)
			return err
		}
		leaves, err := dispatchLeaves(ctx, tx, cursor, limit)
		if err != nil || len(leaves) == 0 {
			return err
		}
		read = len(leaves)
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (id, subscription_id, event_id, event_type, leaf_index, status, created_at, next_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range plan(leaves, targets) {
			if _, err := stmt.ExecContext(ctx, d.ID, d.Subscription, d.EventID, d.Type, d.LeafIndex, string(d.Status), ts(d.CreatedAt), nullTSPtr(d.NextAt)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE delivery_cursor SET next_leaf = ?`, leaves[len(leaves)-1].Index+1)
		return err
	})
	return read, err
}

// dispatchTargets returns the live subscriptions with their departments' rights.
func dispatchTargets(ctx context.Context, tx *txn) ([]delivery.Target, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.dept, s.events, s.lists, s.items, s.from_leaf, d.read_items, d.disabled
		FROM subscriptions s JOIN departments d ON d.code = s.dept WHERE s.deleted_at IS NULL ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []delivery.Target
	for rows.Next() {
		var t delivery.Target
		var events, lists, items, read string
		if err := rows.Scan(&t.ID, &t.Dept, &events, &lists, &items, &t.FromLeaf, &read, &t.Disabled); err != nil {
			return nil, err
		}
		if err := errors.Join(json.Unmarshal([]byte(events), &t.Events), json.Unmarshal([]byte(lists), &t.Lists),
			json.Unmarshal([]byte(items), &t.Items), json.Unmarshal([]byte(read), &t.Read)); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// dispatchLeaves reads up to limit leaves from index from on, with the
// change each commits to, stopping before a missing index.
func dispatchLeaves(ctx context.Context, tx *txn, from int64, limit int) ([]delivery.Leaf, error) {
	rows, err := tx.QueryContext(ctx, `SELECT l.idx, l.kind, l.event_id, COALESCE(rv.change, ''), COALESCE(r.item, ''), COALESCE(r.dept, ''),
			lev.state, COALESCE(le.list, ''), COALESCE(le.dept, ''),
			r.id IS NOT NULL AND EXISTS (SELECT 1 FROM list_entries n WHERE n.subject_key = r.subject_key AND n.record_id = r.id AND n.status = 'noticed')
		FROM ledger_leaves l
		LEFT JOIN record_versions rv ON l.kind = ? AND rv.leaf_index = l.idx
		LEFT JOIN records r ON r.id = rv.record_id
		LEFT JOIN list_entry_versions lev ON l.kind = ? AND lev.leaf_index = l.idx
		LEFT JOIN list_entries le ON le.id = lev.entry_id
		WHERE l.idx >= ? AND l.idx < ? ORDER BY l.idx`, record.LeafKind, listing.LeafKind, from, from+int64(limit))
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

func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (delivery.Delivery, error) {
	var d delivery.Delivery
	var status, created string
	var next, first, last, delivered, lease, redelivered sql.NullString
	var lastStatus sql.NullInt64
	dest := append([]any{&d.ID, &d.Subscription, &d.EventID, &d.Type, &d.LeafIndex, &status, &d.Attempts, &d.Retries, &created,
		&next, &first, &last, &lastStatus, &d.LastError, &delivered, &lease, &d.Round, &redelivered}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	d.Status, d.CreatedAt = delivery.Status(status), parseTS(created)
	d.NextAt, d.FirstAttemptAt, d.LastAttemptAt, d.DeliveredAt = tsPtr(next), tsPtr(first), tsPtr(last), tsPtr(delivered)
	d.RedeliveredAt = tsPtr(redelivered)
	if lease.Valid {
		d.LeaseUntil = parseTS(lease.String)
	}
	if lastStatus.Valid {
		n := int(lastStatus.Int64)
		d.LastStatus = &n
	}
	d.Recent = []delivery.Attempt{}
	return d, nil
}

func tsPtr(s sql.NullString) *time.Time {
	if !s.Valid || s.String == "" {
		return nil
	}
	t := parseTS(s.String)
	return &t
}

func nullTSPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return nullTS(*t)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ClaimDue leases due deliveries, at most one per subscription.
func (s *Store) ClaimDue(ctx context.Context, now, leaseUntil time.Time, limit int) ([]delivery.Delivery, error) {
	var due bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE status = 'pending' AND next_at <= ?)`, ts(now)).Scan(&due); err != nil || !due {
		return nil, translate(err)
	}
	var out []delivery.Delivery
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		out = nil
		n := ts(now)
		// The earliest due delivery of every live subscription that has
		// none leased, earliest first, with its department; and how many
		// each department has leased.
		rows, err := tx.QueryContext(ctx, `SELECT d.id, c.dept FROM (
				SELECT s.dept, (SELECT p.id FROM deliveries p WHERE p.subscription_id = s.id AND p.status = 'pending' AND p.next_at <= ?
					AND (p.lease_until IS NULL OR p.lease_until <= ?) ORDER BY p.next_at, p.leaf_index, p.id LIMIT 1) AS first
				FROM subscriptions s WHERE s.deleted_at IS NULL AND s.id NOT IN (
					SELECT subscription_id FROM deliveries WHERE lease_until IS NOT NULL AND lease_until > ? AND status = 'pending')) c
			JOIN deliveries d ON d.id = c.first ORDER BY d.next_at, d.leaf_index, d.id`, n, n, n)
		cands, err := collect(rows, err, func(row interface{ Scan(...any) error }) (delivery.Candidate, error) {
			var c delivery.Candidate
			return c, row.Scan(&c.ID, &c.Dept)
		})
		if err != nil || len(cands) == 0 {
			return err
		}
		busy, err := leasedPerDept(ctx, tx, n)
		if err != nil {
			return err
		}
		var ids []any
		for _, id := range delivery.Fair(cands, busy, limit) {
			ids = append(ids, id)
		}
		if len(ids) == 0 { // every department due is at its limit
			return nil
		}
		in := placeholders(len(ids))
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_until = ? WHERE id IN (`+in+`)`, append([]any{ts(leaseUntil)}, ids...)...); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+deliveryCols+`, s.url, s.secret, s.dept FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
			WHERE d.id IN (`+in+`) ORDER BY d.next_at, d.leaf_index, d.id`, ids...)
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

// leasedPerDept counts the pending deliveries leased at now, per department.
func leasedPerDept(ctx context.Context, tx *txn, now string) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.dept, COUNT(*) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
		WHERE d.status = 'pending' AND d.lease_until IS NOT NULL AND d.lease_until > ? GROUP BY s.dept`, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	busy := map[string]int{}
	for rows.Next() {
		var dept string
		var n int
		if err := rows.Scan(&dept, &n); err != nil {
			return nil, err
		}
		busy[dept] = n
	}
	return busy, rows.Err()
}

// Release ends a delivery's lease.
func (s *Store) Release(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE deliveries SET lease_until = NULL WHERE id = ?`, id)
	return translate(err)
}

// RecordAttempt stores an attempt and the delivery's new state.
func (s *Store) RecordAttempt(ctx context.Context, o delivery.Outcome) error {
	a := o.Attempt
	var code any
	if a.StatusCode != nil {
		code = *a.StatusCode
	}
	return s.tx(ctx, func(ctx context.Context, tx *txn) error {
		var n, round int
		var status string
		err := tx.QueryRowContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_status = ?, last_error = ?, lease_until = NULL
			WHERE id = ? RETURNING attempts, status, round`, ts(a.At), code, a.Error, o.Delivery).Scan(&n, &status, &round)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no delivery %q", o.Delivery)
		}
		if err != nil {
			return err
		}
		if status == string(delivery.Pending) { // else deleted meanwhile: it stays dead
			var next, delivered any
			switch o.Status {
			case delivery.Pending:
				next = ts(o.NextAt)
			case delivery.Delivered:
				delivered = ts(a.At)
			}
			_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = ?, retries = ?, next_at = ?, first_attempt_at = COALESCE(first_attempt_at, ?),
				delivered_at = COALESCE(?, delivered_at) WHERE id = ?`, string(o.Status), o.Retries, next, ts(a.At), delivered, o.Delivery)
			if err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, n, round, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			o.Delivery, n, round, ts(a.At), code, a.Error, a.DurationMS)
		return err
	})
}

// Delivery returns a delivery with its recent attempts. Returns NotFound.
func (s *Store) Delivery(ctx context.Context, id string) (delivery.Delivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM deliveries d WHERE d.subscription_id = ? AND (? = '' OR d.status = ?) AND d.id > ?
		ORDER BY d.id LIMIT ?`, subscription, string(status), string(status), afterID, limit)
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
	args := make([]any, 0, len(ds)+1)
	for i, d := range ds {
		at[d.ID] = i
		args = append(args, d.ID)
	}
	args = append(args, delivery.RecentAttempts)
	rows, err := s.r.QueryContext(ctx, `SELECT delivery_id, n, round, at, status_code, error, duration_ms FROM (
			SELECT *, ROW_NUMBER() OVER (PARTITION BY delivery_id ORDER BY n DESC) AS rank FROM delivery_attempts WHERE delivery_id IN (`+placeholders(len(ds))+`))
		WHERE rank <= ? ORDER BY delivery_id, n DESC`, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, when string
		var a delivery.Attempt
		var code sql.NullInt64
		if err := rows.Scan(&id, &a.N, &a.Round, &when, &code, &a.Error, &a.DurationMS); err != nil {
			return translate(err)
		}
		a.At = parseTS(when)
		if code.Valid {
			c := int(code.Int64)
			a.StatusCode = &c
		}
		i := at[id]
		ds[i].Recent = append(ds[i].Recent, a)
	}
	return translate(rows.Err())
}

// Redeliver puts a delivered or dead delivery back to pending, in a new round.
func (s *Store) Redeliver(ctx context.Context, id string, now time.Time) (delivery.Delivery, error) {
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_at = ?, retries = 0, first_attempt_at = NULL, lease_until = NULL,
				round = round + 1, redelivered_at = ?, delivered_at = NULL, read_logged = 0
			WHERE id = ? AND status IN ('delivered', 'dead')`, ts(now), ts(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var status string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ?`, id).Scan(&status); errors.Is(err, sql.ErrNoRows) {
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

// LogPushRead stores the access event of a push in clear, once a round.
func (s *Store) LogPushRead(ctx context.Context, id string, e access.Event) (bool, error) {
	logged := false
	err := s.tx(ctx, func(ctx context.Context, tx *txn) error {
		logged = false
		var done bool
		err := tx.QueryRowContext(ctx, `SELECT read_logged FROM deliveries WHERE id = ?`, id).Scan(&done)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no delivery %q", id)
		}
		if err != nil || done {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET read_logged = 1 WHERE id = ?`, id); err != nil {
			return err
		}
		logged = true
		return tx.insertAccess(ctx, e)
	})
	return logged, err
}

// EntryVersion returns a list entry as it was at a version. Returns NotFound.
func (s *Store) EntryVersion(ctx context.Context, id string, version int) (listing.Entry, error) {
	var e listing.Entry
	var state, key []byte
	var leaf sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT v.state, e.subject_key, v.leaf_index FROM list_entry_versions v JOIN list_entries e ON e.id = v.entry_id
		WHERE v.entry_id = ? AND v.version = ?`, id, version).Scan(&state, &key, &leaf)
	if errors.Is(err, sql.ErrNoRows) {
		return e, errs.E(errs.NotFound, "no version %d of entry %q", version, id)
	}
	if err != nil {
		return e, translate(err)
	}
	if err := json.Unmarshal(state, &e); err != nil {
		return e, errs.Wrap(errs.Internal, err, "entry %s version %d: state", id, version)
	}
	e.SubjectKey, e.LeafIndex = key, -1
	if leaf.Valid {
		e.LeafIndex = leaf.Int64
	}
	return e, nil
}
