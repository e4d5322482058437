package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// newWebhook adds a webhook subscribed to kinds (the API writes them;
// here, SQL does).
func newWebhook(t testing.TB, db *sqlx.DB, company dialplan.CompanyID, url string, kinds ...events.Kind) store.WebhookID {
	t.Helper()
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	var id store.WebhookID
	require.NoError(t, db.Get(&id, `INSERT INTO webhooks (company_id, url, events, token) VALUES ($1, $2, $3, 'secret')
		RETURNING id`, company, url, pq.Array(names)))
	return id
}

// webhookState is a webhook's delivery state.
type webhookState struct {
	Active        bool       `db:"active"`
	Failures      int        `db:"failures"`
	FailingSince  *time.Time `db:"failing_since"`
	RetryAt       *time.Time `db:"retry_at"`
	Reason        *string    `db:"deactivated_reason"`
	DeactivatedAt *time.Time `db:"deactivated_at"`
}

func hookState(t testing.TB, db *sqlx.DB, id store.WebhookID) webhookState {
	t.Helper()
	var s webhookState
	require.NoError(t, db.Get(&s, `SELECT active, failures, failing_since, retry_at, deactivated_reason, deactivated_at
		FROM webhooks WHERE id = $1`, id))
	return s
}

// kindsOf lists the events of deliveries, in order.
func kindsOf(ds []store.PendingDelivery) []events.Kind {
	out := make([]events.Kind, len(ds))
	for i, d := range ds {
		out[i] = d.Event.Kind
	}
	return out
}

// outbox prepares the dispatcher's statements for a test.
func outbox(t testing.TB, st *store.Store) *store.Outbox {
	t.Helper()
	o, err := st.Outbox(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { o.Close() })
	return o
}

var backoff = store.Backoff{First: time.Second, Max: time.Hour, Jitter: 1, GiveUpAfter: 24 * time.Hour}

func TestDueDeliveriesInOrderPerKey(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	hook := newWebhook(t, w.db, w.acme.ID, "https://example.test/hook", events.CallCreated, events.CallAnswered,
		events.CallEnded, events.UserOpened)
	// Another company's webhook sees only its company's events.
	other := newWebhook(t, w.db, w.globex.ID, "https://example.test/other", events.CallCreated)

	t0 := w.t0
	c1 := dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
		RawDigits: "+33612345678", StartedAt: t0, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
	require.NoError(t, w.st.SaveCall(ctx, &c1, []dialplan.TimelineEvent{
		{Event: events.CallCreated, At: t0, Data: events.Created{To: "+33176390861"}},
		{Event: events.CallRingingOnAgent, At: t0.Add(time.Second), User: w.alice.ID}, // not subscribed
	}, nil))
	c1.Status, c1.User, c1.AnsweredAt = dialplan.CallAnswered, w.alice.ID, at(t0.Add(3*time.Second))
	require.NoError(t, w.st.SaveCall(ctx, &c1, []dialplan.TimelineEvent{{Event: events.CallAnswered, At: t0.Add(3 * time.Second), User: w.alice.ID}}, nil))
	c1.Status, c1.EndedAt = dialplan.CallDone, at(t0.Add(60*time.Second))
	require.NoError(t, w.st.SaveCall(ctx, &c1, []dialplan.TimelineEvent{{Event: events.CallEnded, At: t0.Add(60 * time.Second)}}, nil))
	c2 := dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
		RawDigits: "+33612345679", StartedAt: t0, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
	require.NoError(t, w.st.SaveCall(ctx, &c2, []dialplan.TimelineEvent{
		{Event: events.CallCreated, At: t0.Add(2 * time.Second), Data: events.Created{To: "+33176390861"}}}, nil))
	require.NoError(t, w.st.Publish(ctx, w.acme.ID, store.Event{Kind: events.UserOpened, User: w.bob.ID, At: t0.Add(4 * time.Second)}))
	w.newOther(nil) // no events, nothing queued

	now := time.Now()
	due, err := o.Due(ctx, store.DueQuery{Now: now, Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 3, "one head per queue: call 1, call 2, bob")
	require.Equal(t, []events.Kind{events.CallCreated, events.CallCreated, events.UserOpened}, kindsOf(due))
	head := due[0]
	require.Equal(t, hook, head.Webhook)
	require.Equal(t, "https://example.test/hook", head.URL)
	require.Equal(t, "secret", head.Token)
	require.Equal(t, store.OrderKey("call:"+itoa(c1.ID)), head.Key)
	require.Len(t, string(head.DeliveryID), 36)
	require.Nil(t, head.Body)
	require.Zero(t, head.Attempts)
	require.Equal(t, store.StreamEvent{ID: head.Event.ID, Company: w.acme.ID, Kind: events.CallCreated, At: t0.Truncate(time.Microsecond),
		Call: c1.ID, Data: events.Created{To: "+33176390861"}}, head.Event)
	require.Equal(t, store.OrderKey("user:"+itoa(w.bob.ID)), due[2].Key)
	require.Equal(t, w.bob.ID, due[2].Event.User)

	// The queues being sent are left out; the limit holds.
	due, err = o.Due(ctx, store.DueQuery{Now: now, Limit: 10, Busy: []store.KeyOf{head.Queue()}})
	require.NoError(t, err)
	require.Len(t, due, 2)
	due, err = o.Due(ctx, store.DueQuery{Now: now, Limit: 1, Busy: []store.KeyOf{head.Queue(), {Webhook: other, Key: head.Key}}})
	require.NoError(t, err)
	require.Len(t, due, 1)

	// Delivered, the head gives way to the next of its queue, at once.
	res, err := o.Record(ctx, store.Attempt{Delivery: head.ID, Outcome: store.Delivered, At: now, StatusCode: 200,
		Body: []byte(`{"first":true}`)})
	require.NoError(t, err)
	require.NotNil(t, res.Next)
	require.Equal(t, events.CallAnswered, res.Next.Event.Kind)
	require.Equal(t, w.alice.ID, res.Next.Event.User)
	due, err = o.Due(ctx, store.DueQuery{Now: now, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []events.Kind{events.CallAnswered, events.CallCreated, events.UserOpened}, kindsOf(due), "in event order")

	// Recording it again (a stale head) changes nothing.
	res, err = o.Record(ctx, store.Attempt{Delivery: head.ID, Outcome: store.Delivered, At: now, StatusCode: 200})
	require.NoError(t, err)
	require.Nil(t, res.Next)

	// Dropped (the object is gone): failed for good, the queue moves on,
	// the webhook is not to blame.
	res, err = o.Record(ctx, store.Attempt{Delivery: dueOf(t, o, now, events.CallAnswered).ID, Outcome: store.Dropped,
		At: now, Error: "call gone"})
	require.NoError(t, err)
	require.Equal(t, events.CallEnded, res.Next.Event.Kind)
	require.Equal(t, webhookState{Active: true}, hookState(t, w.db, hook))

	// The last of a queue has no next.
	res, err = o.Record(ctx, store.Attempt{Delivery: res.Next.ID, Outcome: store.Delivered, At: now, StatusCode: 204})
	require.NoError(t, err)
	require.Nil(t, res.Next)

	list, err := w.st.WebhookDeliveries(ctx, w.acme.ID, hook, 10)
	require.NoError(t, err)
	require.Len(t, list, 5)
	require.Equal(t, events.UserOpened, list[0].Event, "newest first")
	last := list[len(list)-1]
	require.Equal(t, events.CallCreated, last.Event)
	require.Equal(t, store.DeliveryDelivered, last.Status)
	require.Equal(t, 1, last.Attempts)
	require.Equal(t, 200, last.LastStatusCode)
	require.NotNil(t, last.DeliveredAt)
	require.NotNil(t, last.LastAttemptAt)
	require.Equal(t, head.DeliveryID, last.DeliveryID)
	require.Equal(t, store.DeliveryFailed, list[3].Status)
	require.Equal(t, "call gone", list[3].LastError)
	require.Nil(t, list[3].DeliveredAt)
	var body []byte
	require.NoError(t, w.db.Get(&body, "SELECT body FROM webhook_deliveries WHERE id = $1", head.ID))
	require.Equal(t, `{"first":true}`, string(body))
}

// dueOf finds the due delivery of kind.
func dueOf(t *testing.T, o *store.Outbox, now time.Time, kind events.Kind) store.PendingDelivery {
	t.Helper()
	due, err := o.Due(context.Background(), store.DueQuery{Now: now, Limit: 100})
	require.NoError(t, err)
	for _, d := range due {
		if d.Event.Kind == kind {
			return d
		}
	}
	t.Fatalf("no due %s in %v", kind, kindsOf(due))
	return store.PendingDelivery{}
}

func itoa[T ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

// userEvents publishes n events for each of users 1..keys (user ids need
// no rows), in rounds: every user's first, then every user's second...
func userEvents(t testing.TB, st *store.Store, company dialplan.CompanyID, keys, n int) {
	t.Helper()
	for i := range n {
		var evs []store.Event
		for u := 1; u <= keys; u++ {
			kind := events.UserOpened
			if i%2 == 1 {
				kind = events.UserClosed
			}
			evs = append(evs, store.Event{Kind: kind, User: dialplan.UserID(u)})
		}
		require.NoError(t, st.Publish(context.Background(), company, evs...))
	}
}

func TestFailingWebhookBacksOffThenDeactivates(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	hook := newWebhook(t, w.db, w.acme.ID, "https://example.test/hook", events.UserOpened, events.UserClosed)
	userEvents(t, w.st, w.acme.ID, 3, 2)
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

	due, err := o.Due(ctx, store.DueQuery{Now: t0, Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 3)

	// The first failure: failing since now, retry in First.
	res, err := o.Record(ctx, store.Attempt{Delivery: due[0].ID, Outcome: store.Failed, At: t0, StatusCode: 500,
		Error: "HTTP 500", Body: []byte("b0"), Backoff: backoff})
	require.NoError(t, err)
	require.Empty(t, res.Deactivated)
	require.Equal(t, t0.Add(time.Second), res.RetryAt.UTC())
	st := hookState(t, w.db, hook)
	require.Equal(t, 1, st.Failures)
	require.Equal(t, t0, st.FailingSince.UTC())

	// The others in flight fail with it: neither counted nor pushing the
	// retry further.
	res, err = o.Record(ctx, store.Attempt{Delivery: due[1].ID, Outcome: store.Failed, At: t0.Add(time.Millisecond),
		Error: "connection refused", Backoff: backoff})
	require.NoError(t, err)
	require.Equal(t, t0.Add(time.Second), res.RetryAt.UTC())
	require.Equal(t, 1, hookState(t, w.db, hook).Failures)

	// Backing off: nothing due until retry_at; then one probe only.
	due, err = o.Due(ctx, store.DueQuery{Now: t0.Add(500 * time.Millisecond), Limit: 10})
	require.NoError(t, err)
	require.Empty(t, due)
	due, err = o.Due(ctx, store.DueQuery{Now: t0.Add(time.Second), Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 1, "a failing webhook is probed with one delivery")
	require.Equal(t, 1, due[0].Attempts)
	require.NotNil(t, due[0].Body, "the body of the first attempt is kept")

	// Doubling, capped at Max, times the jitter.
	at := t0.Add(time.Second)
	for i, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		res, err = o.Record(ctx, store.Attempt{Delivery: due[0].ID, Outcome: store.Failed, At: at, Error: "HTTP 502", Backoff: backoff})
		require.NoError(t, err)
		require.Equal(t, at.Add(want), res.RetryAt.UTC(), "failure %d", i+2)
		at = at.Add(want)
	}
	require.NoError(t, w.db.Get(new(int), "UPDATE webhooks SET failures = 20 WHERE id = $1 RETURNING failures", hook))
	jittered := backoff
	jittered.Jitter = 0.5
	res, err = o.Record(ctx, store.Attempt{Delivery: due[0].ID, Outcome: store.Failed, At: at, Error: "HTTP 502", Backoff: jittered})
	require.NoError(t, err)
	require.Equal(t, at.Add(30*time.Minute), res.RetryAt.UTC(), "capped at an hour, halved by the jitter")

	probe := due[0].ID
	// Failing for 24 hours: deactivated, its pending deliveries failed.
	end := t0.Add(24 * time.Hour)
	res, err = o.Record(ctx, store.Attempt{Delivery: due[0].ID, Outcome: store.Failed, At: end, StatusCode: 503,
		Error: "HTTP 503", Backoff: backoff})
	require.NoError(t, err)
	require.Equal(t, "every delivery failed for 24 hours, since 2026-12-01T08:00:00Z: HTTP 503", res.Deactivated)
	st = hookState(t, w.db, hook)
	require.False(t, st.Active)
	require.Equal(t, res.Deactivated, *st.Reason)
	require.Equal(t, end, st.DeactivatedAt.UTC())
	var statuses []string
	require.NoError(t, w.db.Select(&statuses, "SELECT DISTINCT status FROM webhook_deliveries WHERE webhook_id = $1", hook))
	require.Equal(t, []string{"failed"}, statuses)
	due, err = o.Due(ctx, store.DueQuery{Now: end.Add(time.Hour), Limit: 10})
	require.NoError(t, err)
	require.Empty(t, due)
	list, err := w.st.WebhookDeliveries(ctx, w.acme.ID, hook, 50)
	require.NoError(t, err)
	require.Len(t, list, 6)
	for _, d := range list {
		require.Equal(t, store.DeliveryFailed, d.Status)
		if d.ID != probe {
			require.Contains(t, d.LastError, "webhook deactivated: every delivery failed for 24 hours")
		}
	}

	// A new event is not queued for an inactive webhook.
	userEvents(t, w.st, w.acme.ID, 1, 1)
	var pending int
	require.NoError(t, w.db.Get(&pending, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"))
	require.Zero(t, pending)
}

func TestGoneDeactivatesAtOnce(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	hook := newWebhook(t, w.db, w.acme.ID, "https://example.test/hook", events.UserOpened)
	kept := newWebhook(t, w.db, w.acme.ID, "https://example.test/kept", events.UserOpened)
	userEvents(t, w.st, w.acme.ID, 2, 1)
	now := time.Now()
	due, err := o.Due(ctx, store.DueQuery{Now: now, Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 4)
	var gone store.PendingDelivery
	for _, d := range due {
		if d.Webhook == hook {
			gone = d
		}
	}
	res, err := o.Record(ctx, store.Attempt{Delivery: gone.ID, Outcome: store.Gone, At: now, StatusCode: 410,
		Error: "HTTP 410 Gone", Backoff: backoff})
	require.NoError(t, err)
	require.Equal(t, "the receiver answered 410 Gone", res.Deactivated)
	require.False(t, hookState(t, w.db, hook).Active)
	require.True(t, hookState(t, w.db, kept).Active)
	due, err = o.Due(ctx, store.DueQuery{Now: now, Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 2)
	for _, d := range due {
		require.Equal(t, kept, d.Webhook)
	}
}

func TestRedeliver(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	hook := newWebhook(t, w.db, w.acme.ID, "https://example.test/hook", events.UserOpened)
	globexHook := newWebhook(t, w.db, w.globex.ID, "https://example.test/globex", events.UserOpened)
	userEvents(t, w.st, w.acme.ID, 1, 1)
	now := time.Now()
	due, err := o.Due(ctx, store.DueQuery{Now: now, Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 1)
	d := due[0]
	_, err = o.Record(ctx, store.Attempt{Delivery: d.ID, Outcome: store.Delivered, At: now, StatusCode: 200, Body: []byte("same bytes")})
	require.NoError(t, err)
	// A failure elsewhere left the webhook backing off.
	_, err = w.db.Exec("UPDATE webhooks SET failures = 3, failing_since = now(), retry_at = now() + interval '1 hour' WHERE id = $1", hook)
	require.NoError(t, err)

	tests := []struct {
		name    string
		company dialplan.CompanyID
		hook    store.WebhookID
		id      store.DeliveryID
		err     error
	}{
		{"another company's webhook", w.globex.ID, hook, d.DeliveryID, store.ErrNotFound},
		{"a delivery of another webhook", w.globex.ID, globexHook, d.DeliveryID, store.ErrNotFound},
		{"no such delivery", w.acme.ID, hook, "00000000-0000-0000-0000-000000000000", store.ErrNotFound},
		{"malformed id", w.acme.ID, hook, "x'; DROP TABLE webhooks; --", store.ErrNotFound},
		{"no such webhook", w.acme.ID, hook + 100, d.DeliveryID, store.ErrNotFound},
		{"the delivery", w.acme.ID, hook, d.DeliveryID, nil},
		{"again, while pending", w.acme.ID, hook, d.DeliveryID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.st.Redeliver(ctx, tt.company, tt.hook, tt.id)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
		})
	}
	_, err = w.st.WebhookDeliveries(ctx, w.globex.ID, hook, 10)
	require.ErrorIs(t, err, store.ErrNotFound, "another company's webhook is not listed")
	require.Equal(t, webhookState{Active: true}, hookState(t, w.db, hook), "the backoff is cleared")
	due, err = o.Due(ctx, store.DueQuery{Now: now, Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.Equal(t, d.DeliveryID, due[0].DeliveryID)
	require.Equal(t, "same bytes", string(due[0].Body))

	_, err = w.db.Exec("UPDATE webhooks SET active = false WHERE id = $1", hook)
	require.NoError(t, err)
	require.ErrorIs(t, w.st.Redeliver(ctx, w.acme.ID, hook, d.DeliveryID), store.ErrConflict)
}

func TestDeleteDelivered(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	newWebhook(t, w.db, w.acme.ID, "https://example.test/hook", events.UserOpened)
	userEvents(t, w.st, w.acme.ID, 7, 1)
	now := time.Now()
	due, err := o.Due(ctx, store.DueQuery{Now: now, Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 7)
	for i, d := range due[:5] {
		_, err := o.Record(ctx, store.Attempt{Delivery: d.ID, Outcome: store.Delivered, StatusCode: 200,
			At: now.Add(-time.Duration(10-i) * 24 * time.Hour)}) // 10, 9, 8, 7 and 6 days ago
		require.NoError(t, err)
	}
	_, err = o.Record(ctx, store.Attempt{Delivery: due[5].ID, Outcome: store.Dropped, Error: "gone",
		At: now.Add(-30 * 24 * time.Hour)}) // failed, kept
	require.NoError(t, err)

	before := now.Add(-7*24*time.Hour + time.Minute)
	n, err := w.st.DeleteDelivered(ctx, before, 2)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = w.st.DeleteDelivered(ctx, before, 2)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = w.st.DeleteDelivered(ctx, before, 2)
	require.NoError(t, err)
	require.Zero(t, n)
	var left []string
	require.NoError(t, w.db.Select(&left, "SELECT status FROM webhook_deliveries ORDER BY id"))
	require.Equal(t, []string{"delivered", "failed", "pending"}, left)
}

// TestPendingDeliveries: the backlog counts the deliveries still to be
// made, not those delivered or failed for good.
func TestPendingDeliveries(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	n, err := w.st.PendingDeliveries(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	newWebhook(t, w.db, w.acme.ID, "https://example.test/hook", events.UserOpened)
	userEvents(t, w.st, w.acme.ID, 5, 1)
	n, err = w.st.PendingDeliveries(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, n)
	due, err := o.Due(ctx, store.DueQuery{Now: time.Now(), Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 5)
	_, err = o.Record(ctx, store.Attempt{Delivery: due[0].ID, Outcome: store.Delivered, StatusCode: 200, At: time.Now()})
	require.NoError(t, err)
	_, err = o.Record(ctx, store.Attempt{Delivery: due[1].ID, Outcome: store.Dropped, Error: "gone", At: time.Now()})
	require.NoError(t, err)
	_, err = o.Record(ctx, store.Attempt{Delivery: due[2].ID, Outcome: store.Failed, StatusCode: 500, At: time.Now(), Backoff: backoff})
	require.NoError(t, err)
	n, err = w.st.PendingDeliveries(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n, "the failed one is retried: still pending")
}

// TestDueDeliveriesSharesAmongWebhooks: the limit takes heads of every
// webhook, not the first webhook's keys only.
func TestDueDeliveriesSharesAmongWebhooks(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	a := newWebhook(t, w.db, w.acme.ID, "https://example.test/a", events.UserOpened, events.UserClosed)
	b := newWebhook(t, w.db, w.acme.ID, "https://example.test/b", events.UserOpened, events.UserClosed)
	userEvents(t, w.st, w.acme.ID, 50, 3)
	due, err := o.Due(ctx, store.DueQuery{Now: time.Now(), Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 10)
	per := map[store.WebhookID]int{}
	keys := map[store.KeyOf]bool{}
	for _, d := range due {
		per[d.Webhook]++
		require.False(t, keys[d.Queue()], "one head per queue")
		keys[d.Queue()] = true
		require.Equal(t, events.UserOpened, d.Event.Kind, "the head is the oldest of its queue")
	}
	require.Equal(t, map[store.WebhookID]int{a: 5, b: 5}, per)

	due, err = o.Due(ctx, store.DueQuery{Now: time.Now(), Limit: 10, Caps: map[store.WebhookID]int{a: 0}})
	require.NoError(t, err)
	require.Len(t, due, 10)
	for _, d := range due {
		require.Equal(t, b, d.Webhook, "a full webhook is left out")
	}

	// Capped: a webhook's scan stops at its cap, however high the limit.
	due, err = o.Due(ctx, store.DueQuery{Now: time.Now(), Limit: 100, Caps: map[store.WebhookID]int{a: 3}, Cap: 7})
	require.NoError(t, err)
	per = map[store.WebhookID]int{}
	for _, d := range due {
		per[d.Webhook]++
	}
	require.Equal(t, map[store.WebhookID]int{a: 3, b: 7}, per)
}

// TestDueDeliveriesSweep: reads go on where the previous one stopped,
// and wrap around, so that every queue gets its turn; a failing
// webhook's probe moves from queue to queue.
func TestDueDeliveriesSweep(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	o := outbox(t, w.st)
	hook := newWebhook(t, w.db, w.acme.ID, "https://example.test/a", events.UserOpened)
	userEvents(t, w.st, w.acme.ID, 10, 1)
	var all []store.OrderKey // in key order
	due, err := o.Due(ctx, store.DueQuery{Now: time.Now(), Limit: 100})
	require.NoError(t, err)
	for _, d := range due {
		all = append(all, d.Key)
	}
	slices.Sort(all)
	require.Len(t, all, 10)

	keys := func(ds []store.PendingDelivery) []store.OrderKey {
		var out []store.OrderKey
		for _, d := range ds {
			out = append(out, d.Key)
		}
		slices.Sort(out)
		return out
	}
	var sweep store.Sweep
	for _, want := range [][]store.OrderKey{all[0:3], all[3:6], all[6:9], {all[0], all[1], all[9]}, all[2:5]} {
		due, err := o.Due(ctx, store.DueQuery{Now: time.Now(), Limit: 3, Sweep: &sweep})
		require.NoError(t, err)
		require.Equal(t, want, keys(due))
	}

	_, err = w.db.Exec("UPDATE webhooks SET failures = 1 WHERE id = $1", hook)
	require.NoError(t, err)
	for _, want := range []store.OrderKey{all[5], all[6]} {
		due, err := o.Due(ctx, store.DueQuery{Now: time.Now(), Limit: 3, Sweep: &sweep})
		require.NoError(t, err)
		require.Equal(t, []store.OrderKey{want}, keys(due), "one probe, the next queue")
	}
}
