package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// The outbox's side of the store: what the webhook dispatcher reads and
// records, and what the API shows of it. Deliveries are queued by
// eventsCTE, in the statement that writes each event; nothing here
// speaks HTTP.

// WebhookID identifies a webhook.
type WebhookID int64

// EventID identifies an event of the stream.
type EventID int64

// DeliveryID is a delivery's public id (a UUID): the receiver sees it in
// X-Switchboard-Delivery, the same on every attempt, to drop duplicates.
type DeliveryID string

// OrderKey is what a webhook's deliveries are ordered by: "call:<id>",
// "user:<id>" or "number:<id>". A key's deliveries go one at a time, in
// the order of their events.
type OrderKey string

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed is for good: its webhook was deactivated, or the
	// object it is about no longer exists. Redeliver puts it back.
	DeliveryFailed DeliveryStatus = "failed"
)

// StreamEvent is an event read back from the stream.
type StreamEvent struct {
	ID      EventID
	Company dialplan.CompanyID
	Kind    events.Kind
	At      time.Time
	Call    dialplan.CallID   // 0 when it is not a call's
	User    dialplan.UserID   // the user it is about, or who did it; 0 for none
	Number  dialplan.NumberID // 0 for none
	Data    any               // the kind's payload, as events.Decode reads it
}

// PendingDelivery is a delivery due now, with what sending it takes.
type PendingDelivery struct {
	ID         int64 // the row's id
	DeliveryID DeliveryID
	Webhook    WebhookID
	URL        string
	Token      string
	Key        OrderKey
	Event      StreamEvent
	// Body is the request body saved at the first attempt, sent again as
	// it is; nil before.
	Body     []byte
	Attempts int
}

// KeyOf names a delivery's queue: its webhook and order key.
type KeyOf struct {
	Webhook WebhookID
	Key     OrderKey
}

// Queue is the (webhook, key) queue the delivery belongs to.
func (p PendingDelivery) Queue() KeyOf { return KeyOf{Webhook: p.Webhook, Key: p.Key} }

// pendingColumns read a delivery d of webhook w and its event e, in the
// order scanPending reads them.
const pendingColumns = `d.id, d.delivery_id, d.webhook_id, w.url, w.token, d.order_key, d.body, d.attempts,
	e.id, e.company_id, e.event, e.at, coalesce(e.call_id, 0), coalesce(e.user_id, 0), coalesce(e.number_id, 0), e.data`

// scanPending reads a row of pendingColumns, after the columns in
// before.
func scanPending(row rowScanner, before ...any) (PendingDelivery, error) {
	var (
		p    PendingDelivery
		e    = &p.Event
		data []byte
	)
	if err := row.Scan(append(before, &p.ID, &p.DeliveryID, &p.Webhook, &p.URL, &p.Token, &p.Key, &p.Body, &p.Attempts,
		&e.ID, &e.Company, &e.Kind, &e.At, &e.Call, &e.User, &e.Number, &data)...); err != nil {
		return p, err
	}
	e.At = e.At.UTC()
	var err error
	if e.Data, err = events.Decode(e.Kind, data); err != nil {
		return p, fmt.Errorf("delivery %d: event %d: %w", p.ID, e.ID, err)
	}
	return p, nil
}

// dueSQL finds the head of each queue of each webhook that may send now:
// active, and not waiting out a backoff. A queue's head is its pending
// delivery of the smallest event id: the next one only becomes a head
// once that one is delivered or failed for good, which is what keeps a
// call's events in order.
//
// heads is a loose index scan ("skip scan") of webhook_deliveries_pending
// (webhook_id, order_key, event_id) WHERE pending: each step is one index
// descent to the first entry of the next key, so a query costs one
// descent per head returned, however long the queues are (a receiver
// down for hours leaves thousands of events behind each of thousands of
// calls; they are not read here). The recursion advances every webhook
// one key per step, so the LIMIT, which stops the recursion as soon as
// enough heads are found, shares them out among webhooks.
//
// Each webhook's scan starts after the key where the previous read
// stopped (its Sweep cursor) and wraps around to the beginning, once,
// up to that key: every queue gets its turn however many there are, and
// a read does not step again over the entries that queues already
// delivered leave in the index until vacuum removes them (at the start
// of the range, since queues are taken in key order).
//
// The heads are joined to their rows one by one (LATERAL … LIMIT 1, which
// the planner cannot turn into a join of whole tables): the statement is
// prepared with a generic plan, made without knowing the LIMIT, which
// would otherwise hash the whole outbox to find a few rows.
//
// A failing webhook (failures > 0) is probed: one head only, so that a
// receiver that is down gets one request per backoff, not one per
// queue; its first success lifts this. The sweep moves the probe from
// queue to queue.
//
// A webhook's scan stops after its cap of heads (the caller's free
// connections to its host, plus its queues in flight, which are found
// and left out): a read does not return heads that will wait for a
// connection, to be read again at the next.
//
// $1 now, $2 limit, $3 and $4 the queues (webhook ids, keys) the caller
// is busy with, left out; $5 and $6 the sweep's cursors (webhook ids,
// keys); $7 and $8 the caps of webhooks (ids, caps; 0 leaves one out),
// $9 the cap of the others.
const dueSQL = `WITH RECURSIVE w AS MATERIALIZED (
	SELECT wh.id, wh.failures > 0 AS probing, coalesce(c.after, '') AS start, coalesce(k.cap, $9) AS cap
	FROM webhooks wh LEFT JOIN unnest($5::bigint[], $6::text[]) AS c (webhook_id, after) ON c.webhook_id = wh.id
	LEFT JOIN unnest($7::bigint[], $8::int[]) AS k (webhook_id, cap) ON k.webhook_id = wh.id
	WHERE wh.active AND (wh.retry_at IS NULL OR wh.retry_at <= $1) AND coalesce(k.cap, $9) > 0),
heads AS (
	SELECT w.id AS webhook_id, w.probing, w.start, w.cap, 1 AS n, h.wrapped, h.order_key, h.event_id
	FROM w CROSS JOIN LATERAL (
		(SELECT false AS wrapped, d.order_key, d.event_id FROM webhook_deliveries d
		WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.order_key > w.start
		ORDER BY d.order_key, d.event_id LIMIT 1)
		UNION ALL
		(SELECT true, d.order_key, d.event_id FROM webhook_deliveries d
		WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.order_key <= w.start
		ORDER BY d.order_key, d.event_id LIMIT 1)
		LIMIT 1) h
	UNION ALL
	SELECT heads.webhook_id, heads.probing, heads.start, heads.cap, heads.n + 1, h.wrapped, h.order_key, h.event_id
	FROM heads CROSS JOIN LATERAL (
		(SELECT heads.wrapped, d.order_key, d.event_id FROM webhook_deliveries d
		WHERE d.webhook_id = heads.webhook_id AND d.status = 'pending' AND d.order_key > heads.order_key
			AND (NOT heads.wrapped OR d.order_key <= heads.start)
		ORDER BY d.order_key, d.event_id LIMIT 1)
		UNION ALL
		(SELECT true, d.order_key, d.event_id FROM webhook_deliveries d
		WHERE NOT heads.wrapped AND d.webhook_id = heads.webhook_id AND d.status = 'pending'
			AND d.order_key <= heads.start
		ORDER BY d.order_key, d.event_id LIMIT 1)
		LIMIT 1) h
	WHERE NOT heads.probing AND heads.n < heads.cap),
due AS (
	SELECT webhook_id, order_key, event_id, wrapped FROM heads
	WHERE NOT EXISTS (SELECT 1 FROM unnest($3::bigint[], $4::text[]) AS busy (webhook_id, order_key)
		WHERE busy.webhook_id = heads.webhook_id AND busy.order_key = heads.order_key)
	LIMIT $2)
SELECT due.wrapped, ` + pendingColumns + `
FROM due
CROSS JOIN LATERAL (SELECT * FROM webhook_deliveries x WHERE x.webhook_id = due.webhook_id
	AND x.order_key = due.order_key AND x.event_id = due.event_id AND x.status = 'pending' LIMIT 1) d
CROSS JOIN LATERAL (SELECT * FROM webhooks x WHERE x.id = d.webhook_id LIMIT 1) w
CROSS JOIN LATERAL (SELECT * FROM events x WHERE x.id = d.event_id LIMIT 1) e
ORDER BY d.event_id`

// Sweep is where the reads of the outbox are in each webhook's queues:
// the next read goes on after the last key the previous one returned.
// The zero Sweep starts at the beginning. One reader uses one Sweep.
type Sweep struct {
	after map[WebhookID]OrderKey
}

// Outbox is the dispatcher's side of the store: its statements,
// prepared once for as long as it runs. Planning them is most of their
// cost (a millisecond each, against a fraction of that to run), and the
// dispatcher runs a few per delivery.
type Outbox struct {
	due, done, fail *sql.Stmt
}

// Outbox prepares the dispatcher's statements; Close releases them.
func (s *Store) Outbox(ctx context.Context) (*Outbox, error) {
	o := &Outbox{}
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{{&o.due, dueSQL}, {&o.done, doneSQL}, {&o.fail, failSQL}} {
		stmt, err := s.db.PrepareContext(ctx, p.query)
		if err != nil {
			o.Close()
			return nil, fmt.Errorf("outbox: prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return o, nil
}

// Close releases the statements.
func (o *Outbox) Close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{o.due, o.done, o.fail} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// DueQuery says which deliveries Due reads.
type DueQuery struct {
	Now   time.Time // whether a webhook's backoff is over
	Limit int
	// Busy are the queues the caller is sending already: left out.
	Busy []KeyOf
	// Caps bound the heads of a webhook (0 leaves it out), Cap those of
	// the others (unbounded when 0): what the caller can send to each
	// now.
	Caps map[WebhookID]int
	Cap  int
	// Sweep, when not nil, is where the previous read stopped; it is
	// moved on.
	Sweep *Sweep
}

// Due lists up to q.Limit deliveries to send now: the head of each
// (webhook, key) queue of the active webhooks that are not backing off,
// oldest event first.
func (o *Outbox) Due(ctx context.Context, q DueQuery) ([]PendingDelivery, error) {
	busy, sweep := q.Busy, q.Sweep
	hooks := make([]int64, len(busy))
	keys := make([]string, len(busy))
	for i, b := range busy {
		hooks[i], keys[i] = int64(b.Webhook), string(b.Key)
	}
	var cursorHooks []int64
	var cursorKeys []string
	if sweep != nil {
		for w, k := range sweep.after {
			cursorHooks, cursorKeys = append(cursorHooks, int64(w)), append(cursorKeys, string(k))
		}
	}
	var capHooks, caps []int64
	for w, n := range q.Caps {
		capHooks, caps = append(capHooks, int64(w)), append(caps, int64(n))
	}
	others := q.Cap
	if others <= 0 {
		others = math.MaxInt32
	}
	rows, err := o.due.QueryContext(ctx, q.Now, q.Limit, pq.Array(hooks), pq.Array(keys), pq.Array(cursorHooks), pq.Array(cursorKeys),
		pq.Array(capHooks), pq.Array(caps), others)
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	defer rows.Close()
	var (
		out  []PendingDelivery
		last = map[WebhookID]struct {
			wrapped bool
			key     OrderKey
		}{}
	)
	for rows.Next() {
		var wrapped bool
		p, err := scanPending(rows, &wrapped)
		if err != nil {
			return nil, fmt.Errorf("due deliveries: %w", err)
		}
		out = append(out, p)
		// The last key of a webhook's scan: the greatest after it
		// wrapped, the greatest if it did not.
		l, seen := last[p.Webhook]
		if !seen || (wrapped && !l.wrapped) || (wrapped == l.wrapped && p.Key > l.key) {
			l.wrapped, l.key = wrapped, p.Key
			last[p.Webhook] = l
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	if sweep != nil {
		if sweep.after == nil {
			sweep.after = map[WebhookID]OrderKey{}
		}
		for w, l := range last {
			sweep.after[w] = l.key
		}
	}
	return out, nil
}

// Outcome is how an attempt ended.
type Outcome int

const (
	// Delivered: the receiver answered 2xx.
	Delivered Outcome = iota + 1
	// Failed: any other answer, or none; the delivery stays pending and
	// its webhook backs off.
	Failed
	// Gone: the receiver answered 410 Gone; its webhook is deactivated at
	// once.
	Gone
	// Dropped: the delivery cannot be made (the object it is about no
	// longer exists); it fails for good, its webhook is not to blame and
	// its queue moves on.
	Dropped
)

// Backoff is how a failing webhook waits: First after its first
// failure, doubling with each failure up to Max, times Jitter; and
// deactivated once it has failed for GiveUpAfter.
type Backoff struct {
	First, Max  time.Duration
	Jitter      float64 // this failure's factor, e.g. in [0.5, 1.5) for ±50 %
	GiveUpAfter time.Duration
}

// Attempt is one attempt of a delivery, to record.
type Attempt struct {
	Delivery   int64 // PendingDelivery.ID
	Outcome    Outcome
	At         time.Time
	StatusCode int    // the receiver's answer; 0 for none
	Error      string // why it failed ("" when delivered)
	// Body is what was sent: kept when the delivery has none yet, so that
	// every retry sends the same bytes.
	Body    []byte
	Backoff Backoff // for Failed
}

// AttemptResult is what recording an attempt did.
type AttemptResult struct {
	// Next is the next delivery of the same queue, when it is due at
	// once (after Delivered or Dropped): the caller may send it without
	// waiting for its next look at the outbox.
	Next *PendingDelivery
	// RetryAt is when the webhook may send again (after Failed).
	RetryAt time.Time
	// Deactivated says the webhook was deactivated, and why.
	Deactivated string
}

// doneSQL records deliveries delivered or dropped and reads the next
// delivery of each one's queue, in one round trip. The SELECT sees the
// rows as they were before the statement: the deliveries just recorded
// still pending, hence event_id > their own. (No two of one queue are
// recorded at once: a queue sends one delivery at a time.)
//
// A delivery keeps its last error after a success: what went wrong
// before it went through. A success clears the webhook's failures; the
// UPDATE's condition leaves a healthy webhook's row alone, so that
// deliveries in parallel do not queue on its lock.
//
// $1 ids, $2 statuses, $3 times, $4 status codes, $5 errors, $6 bodies
// (empty for none), $7 now (whether the next is due).
const doneSQL = `WITH a AS (
	SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::bytea[])
		AS a (id, status, at, code, err, body)),
done AS (
	UPDATE webhook_deliveries d SET status = a.status, attempts = d.attempts + 1, last_status_code = nullif(a.code, 0),
		last_error = coalesce(nullif(a.err, ''), d.last_error), last_attempt_at = a.at,
		delivered_at = CASE WHEN a.status = 'delivered' THEN a.at END, body = coalesce(d.body, nullif(a.body, ''::bytea))
	FROM a WHERE d.id = a.id AND d.status = 'pending'
	RETURNING d.id, d.webhook_id, d.order_key, d.event_id, a.status AS outcome),
ok AS (
	UPDATE webhooks SET failures = 0, failing_since = NULL, retry_at = NULL
	WHERE id IN (SELECT webhook_id FROM done WHERE outcome = 'delivered')
		AND (failures <> 0 OR failing_since IS NOT NULL OR retry_at IS NOT NULL))
SELECT done.id, ` + pendingColumns + `
FROM done
CROSS JOIN LATERAL (SELECT * FROM webhook_deliveries x WHERE x.webhook_id = done.webhook_id
	AND x.order_key = done.order_key AND x.event_id > done.event_id AND x.status = 'pending'
	ORDER BY x.event_id LIMIT 1) d
JOIN webhooks w ON w.id = d.webhook_id AND w.active AND (w.retry_at IS NULL OR w.retry_at <= $7)
JOIN events e ON e.id = d.event_id`

// failSQL records a failed attempt and the webhook's backoff, or its
// deactivation. Its failures count the webhook's failed tries, not
// every delivery that was in flight when the receiver went down: one
// that fails while the webhook is already waiting out a backoff leaves
// the count and retry_at as they are. Deactivated, its pending
// deliveries fail for good (the API can redeliver them).
//
// $1 id, $2 at, $3 status code, $4 error, $5 body, $6 gone (410),
// $7 first backoff (seconds), $8 max backoff (seconds), $9 jitter,
// $10 give up after (seconds).
const failSQL = `WITH w0 AS (
	SELECT w.id, w.failures, w.failing_since, w.retry_at IS NOT NULL AND w.retry_at > $2 AS waiting
	FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.active
	WHERE d.id = $1 AND d.status = 'pending'
	FOR UPDATE OF w),
decision AS (
	SELECT id, waiting,
		CASE WHEN waiting THEN failures ELSE failures + 1 END AS failures,
		coalesce(failing_since, $2) AS failing_since,
		$2 + make_interval(secs => least($7 * 2 ^ failures, $8) * $9) AS retry_at,
		CASE WHEN $6 THEN 'the receiver answered 410 Gone'
			WHEN coalesce(failing_since, $2) <= $2 - make_interval(secs => $10)
			THEN 'every delivery failed for ' || ($10 / 3600)::int || ' hours, since '
				|| to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
				|| coalesce(': ' || nullif($4::text, ''), '')
		END AS reason
	FROM w0),
hook AS (
	UPDATE webhooks w SET failures = x.failures, failing_since = x.failing_since,
		retry_at = CASE WHEN x.waiting THEN w.retry_at ELSE x.retry_at END,
		active = x.reason IS NULL,
		deactivated_reason = x.reason,
		deactivated_at = CASE WHEN x.reason IS NOT NULL THEN $2::timestamptz END
	FROM decision x WHERE w.id = x.id
	RETURNING w.retry_at, w.deactivated_reason),
this AS (
	UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = nullif($3::int, 0),
		last_error = nullif($4::text, ''), last_attempt_at = $2, body = coalesce(body, $5),
		status = CASE WHEN (SELECT reason FROM decision) IS NULL THEN 'pending' ELSE 'failed' END
	WHERE id = $1 AND status = 'pending'),
rest AS (
	UPDATE webhook_deliveries d SET status = 'failed', last_error = 'webhook deactivated: ' || x.reason
	FROM decision x
	WHERE x.reason IS NOT NULL AND d.webhook_id = x.id AND d.status = 'pending' AND d.id <> $1)
SELECT retry_at, coalesce(deactivated_reason, '') FROM hook`

// Record records an attempt of a delivery and its consequences on the
// webhook: a success clears its failures; a failure counts one and
// sets when it may try again (Backoff), or deactivates it when it has
// been failing for Backoff.GiveUpAfter, or at once on Gone. A delivery
// that is no longer pending (redelivered, or failed for good meanwhile)
// is left as it is.
func (o *Outbox) Record(ctx context.Context, a Attempt) (AttemptResult, error) {
	var res AttemptResult
	switch a.Outcome {
	case Delivered, Dropped:
		next, err := o.RecordDone(ctx, []Attempt{a})
		res.Next = next[a.Delivery]
		return res, err
	case Failed, Gone:
		b := a.Backoff
		var retry sql.NullTime
		err := o.fail.QueryRowContext(ctx, a.Delivery, a.At, a.StatusCode, a.Error, a.Body, a.Outcome == Gone,
			b.First.Seconds(), b.Max.Seconds(), b.Jitter, b.GiveUpAfter.Seconds()).Scan(&retry, &res.Deactivated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return res, nil
		case err != nil:
			return res, fmt.Errorf("record delivery %d: %w", a.Delivery, err)
		}
		if retry.Valid && res.Deactivated == "" {
			res.RetryAt = retry.Time
		}
		return res, nil
	}
	return res, fmt.Errorf("record delivery %d: no outcome", a.Delivery)
}

// RecordDone records attempts that delivered (or dropped) their
// deliveries, in one statement, and gives the next delivery of each one's
// queue that is due at once, by the id of the delivery recorded. One of
// them no longer pending (redelivered, or failed for good meanwhile) is
// left as it is. No two may be of one queue.
func (o *Outbox) RecordDone(ctx context.Context, attempts []Attempt) (map[int64]*PendingDelivery, error) {
	var (
		ids, codes     = make([]int64, len(attempts)), make([]int64, len(attempts))
		statuses, errs = make([]string, len(attempts)), make([]string, len(attempts))
		times          = make([]string, len(attempts))
		bodies         = make(pq.ByteaArray, len(attempts))
		now            time.Time
	)
	for i, a := range attempts {
		switch a.Outcome {
		case Delivered:
			statuses[i] = string(DeliveryDelivered)
		case Dropped:
			statuses[i] = string(DeliveryFailed)
		default:
			return nil, fmt.Errorf("record delivery %d: not done", a.Delivery)
		}
		ids[i], codes[i], errs[i], bodies[i] = a.Delivery, int64(a.StatusCode), a.Error, a.Body
		times[i] = a.At.UTC().Format(time.RFC3339Nano)
		if a.At.After(now) {
			now = a.At
		}
	}
	rows, err := o.done.QueryContext(ctx, pq.Array(ids), pq.Array(statuses), pq.Array(times), pq.Array(codes),
		pq.Array(errs), bodies, now)
	if err != nil {
		return nil, fmt.Errorf("record %d deliveries: %w", len(attempts), err)
	}
	defer rows.Close()
	next := map[int64]*PendingDelivery{}
	for rows.Next() {
		var after int64
		p, err := scanPending(rows, &after)
		if err != nil {
			return nil, fmt.Errorf("record %d deliveries: %w", len(attempts), err)
		}
		next[after] = &p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record %d deliveries: %w", len(attempts), err)
	}
	return next, nil
}

// DeleteDelivered deletes up to batch deliveries delivered before
// before, and says how many it deleted: call it again while it deletes a
// whole batch. Short batches keep each transaction, and the locks and
// WAL it holds, small.
func (s *Store) DeleteDelivered(ctx context.Context, before time.Time, batch int) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < $1 LIMIT $2)`, before, batch)
	if err != nil {
		return 0, fmt.Errorf("delete delivered deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PendingDeliveries counts the deliveries still to be made, of every
// webhook: the outbox's backlog, for metrics. One scan of the pending
// deliveries' index, which holds only those.
func (s *Store) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'`); err != nil {
		return 0, fmt.Errorf("pending deliveries: %w", err)
	}
	return n, nil
}

// Delivery is a delivery as the API shows it.
type Delivery struct {
	ID             int64
	DeliveryID     DeliveryID
	Webhook        WebhookID
	Event          events.Kind
	EventID        EventID
	Status         DeliveryStatus
	Attempts       int
	LastStatusCode int    // 0 when the receiver never answered
	LastError      string // "" when none
	LastAttemptAt  *time.Time
	CreatedAt      time.Time
	DeliveredAt    *time.Time
}

// WebhookDeliveries lists the last limit deliveries of one of the
// company's webhooks, newest first. A webhook of another company is
// ErrNotFound.
func (s *Store) WebhookDeliveries(ctx context.Context, company dialplan.CompanyID, webhook WebhookID, limit int) ([]Delivery, error) {
	if err := s.webhookExists(ctx, company, webhook); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.delivery_id, d.webhook_id, e.event, d.event_id, d.status,
		d.attempts, coalesce(d.last_status_code, 0), coalesce(d.last_error, ''), d.last_attempt_at, d.created_at, d.delivered_at
		FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.company_id = $1 AND d.webhook_id = $2 ORDER BY d.id DESC LIMIT $3`, company, webhook, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook %d deliveries: %w", webhook, err)
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var (
			d              Delivery
			last, finished sql.NullTime
		)
		if err := rows.Scan(&d.ID, &d.DeliveryID, &d.Webhook, &d.Event, &d.EventID, &d.Status, &d.Attempts,
			&d.LastStatusCode, &d.LastError, &last, &d.CreatedAt, &finished); err != nil {
			return nil, fmt.Errorf("webhook %d deliveries: %w", webhook, err)
		}
		d.CreatedAt = d.CreatedAt.UTC()
		d.LastAttemptAt, d.DeliveredAt = utcTime(last), utcTime(finished)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("webhook %d deliveries: %w", webhook, err)
	}
	return out, nil
}

// Redeliver puts one delivery of one of the company's webhooks back to
// pending, to be sent again (with the same body and delivery id) as soon
// as the dispatcher looks, and clears the webhook's backoff. A webhook or
// delivery of another company, or one that does not exist (a malformed
// id among them), is ErrNotFound; an inactive webhook is a ConflictError
// (it sends nothing until reactivated). A pending delivery stays as it is.
func (s *Store) Redeliver(ctx context.Context, company dialplan.CompanyID, webhook WebhookID, id DeliveryID) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var active bool
		err := tx.GetContext(ctx, &active, "SELECT active FROM webhooks WHERE company_id = $1 AND id = $2 FOR UPDATE", company, webhook)
		if err != nil {
			return notFound(err, "webhook", int64(webhook))
		}
		if !active {
			return conflict("webhook %d is not active: reactivate it first", webhook)
		}
		if !validUUID(string(id)) {
			return fmt.Errorf("delivery %q: %w", id, ErrNotFound)
		}
		var found int64
		err = tx.GetContext(ctx, &found, `SELECT id FROM webhook_deliveries
			WHERE company_id = $1 AND webhook_id = $2 AND delivery_id = $3::uuid`, company, webhook, string(id))
		if errors.Is(err, sqlNoRows) {
			return fmt.Errorf("delivery %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delivery %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', delivered_at = NULL
			WHERE id = $1 AND status <> 'pending'`, found); err != nil {
			return fmt.Errorf("redeliver %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET failures = 0, failing_since = NULL, retry_at = NULL
			WHERE id = $1`, webhook); err != nil {
			return fmt.Errorf("redeliver %s: %w", id, err)
		}
		return nil
	})
}

// validUUID says whether s is a UUID as PostgreSQL writes them (any
// case), so that a malformed id from a URL is not found rather than an
// SQL error.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

func (s *Store) webhookExists(ctx context.Context, company dialplan.CompanyID, webhook WebhookID) error {
	var found int64
	err := s.db.GetContext(ctx, &found, "SELECT id FROM webhooks WHERE company_id = $1 AND id = $2", company, webhook)
	return notFound(err, "webhook", int64(webhook))
}
