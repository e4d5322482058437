package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhook"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestSign(t *testing.T) {
	got := webhook.Sign("secret", time.Unix(1700000000, 0), []byte(`{"a":1}`))
	require.Equal(t, "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686", got)
	signed, err := webhook.Verify("secret", got, []byte(`{"a":1}`))
	require.NoError(t, err)
	require.Equal(t, int64(1700000000), signed.Unix())
	for _, bad := range []struct{ token, header, body string }{
		{"secret", got, `{"a":2}`},         // another body
		{"other", got, `{"a":1}`},          // another token
		{"secret", "", `{"a":1}`},          // no signature
		{"secret", "t=x,v1=ab", `{"a":1}`}, // no time
		{"secret", "t=1700000000", `{"a":1}`},
	} {
		_, err := webhook.Verify(bad.token, bad.header, []byte(bad.body))
		require.ErrorIs(t, err, webhook.ErrSignature, "%+v", bad)
	}
}

// TestEnvelopeAndSignature: what a receiver gets, checked as it would.
func TestEnvelopeAndSignature(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	rc := newReceiver(t, nil)
	a := w.hook(rc.URL+"/a", events.CallCreated, events.UserDeleted)
	b := w.hook(rc.URL+"/b", events.CallCreated)
	call := w.call(events.CallCreated)
	snapshot := `{"id":42,"email":"gone@acme.test","first_name":"Gone"}`
	require.NoError(t, w.st.Publish(ctx, w.company, store.Event{Kind: events.UserDeleted, User: 42,
		Data: events.Snapshot{Object: json.RawMessage(snapshot)}}))
	before := time.Now().Unix()
	w.run(w.config())

	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == 3 }, wait, 10*time.Millisecond)
	after := time.Now().Unix()
	byPath := map[string][]request{}
	for _, r := range rc.requests() {
		byPath[r.Path] = append(byPath[r.Path], r)
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.Equal(t, "Switchboard-Webhooks/1", r.Header.Get("User-Agent"))
		require.Regexp(t, uuidRE, r.Delivery)
		require.True(t, r.SigOK, "signature %q of %s", r.Signature, r.Body)
		require.GreaterOrEqual(t, r.SignedAt, before)
		require.LessOrEqual(t, r.SignedAt, after)
		var keys map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(r.Body, &keys))
		require.Len(t, keys, 5, "the envelope is resource, event, timestamp, token, data: %s", r.Body)

		var stored []byte
		require.NoError(t, w.db.Get(&stored, "SELECT body FROM webhook_deliveries WHERE delivery_id = $1::uuid", r.Delivery))
		require.Equal(t, string(r.Body), string(stored), "the body is kept for retries")
	}
	require.Len(t, byPath["/a"], 2)
	require.Len(t, byPath["/b"], 1)

	created := func(path string, hook store.WebhookID) {
		t.Helper()
		var r request
		for _, x := range byPath[path] {
			if x.Env.Event == events.CallCreated {
				r = x
			}
		}
		require.Equal(t, events.ResourceCall, r.Env.Resource)
		require.Equal(t, time.Date(2026, 11, 23, 9, 15, 0, 0, time.UTC).Unix(), r.Env.Timestamp, "the event's time")
		require.Equal(t, fmt.Sprintf("token-%d", hook), r.Env.Token)
		require.JSONEq(t, fmt.Sprintf(`{"id":%d,"resource":"call"}`, call), string(r.Env.Data))
	}
	created("/a", a)
	created("/b", b)

	var deleted request
	for _, x := range byPath["/a"] {
		if x.Env.Event == events.UserDeleted {
			deleted = x
		}
	}
	require.Equal(t, events.ResourceUser, deleted.Env.Resource)
	require.JSONEq(t, snapshot, string(deleted.Env.Data), "a deleted user is the snapshot its event carries")
	require.LessOrEqual(t, w.renders.Load(), int64(2), "only the call is rendered")
	require.Equal(t, 3, w.count(store.DeliveryDelivered))
}

// TestOrderPerCallInParallel: calls go in parallel, each call's events in
// order.
func TestOrderPerCallInParallel(t *testing.T) {
	w := newWorld(t)
	var (
		held     atomic.Int64 // the call whose first request is held
		release  = make(chan struct{})
		once     sync.Once
		parallel atomic.Bool
	)
	rc := newReceiver(t, func(_ http.ResponseWriter, r *http.Request, req request) int {
		// The first request is held until one of another call comes:
		// a dispatcher that sent one request at a time would never
		// send that one.
		if held.CompareAndSwap(0, req.subject()) {
			select {
			case <-release:
				parallel.Store(true)
			case <-r.Context().Done():
			}
			return http.StatusOK
		}
		if req.subject() != held.Load() {
			once.Do(func() { close(release) })
		}
		return http.StatusOK
	})
	w.hook(rc.URL)
	cfg := w.config()
	cfg.Timeout = wait
	w.run(cfg)

	const publishers, callsEach = 8, 6
	var wg sync.WaitGroup
	for range publishers {
		wg.Go(func() {
			for range callsEach {
				w.call(lifecycle...)
			}
		})
	}
	wg.Wait()
	total := publishers * callsEach * len(lifecycle)
	require.Eventually(t, func() bool { return len(rc.delivered()) == total }, wait, 10*time.Millisecond)
	require.True(t, parallel.Load(), "another call was delivered while one was waiting")
	got := perSubject(rc.requests())
	require.Len(t, got, publishers*callsEach)
	for call, kinds := range got {
		require.Equal(t, lifecycle, kinds, "call %d", call)
	}
	require.Len(t, rc.requests(), total, "no event twice")
}

// TestReceiverDownThenUp: a receiver failing for a while gets every
// event once it answers again, each call's in order, each event under
// one delivery id and the same bytes on every attempt.
func TestReceiverDownThenUp(t *testing.T) {
	w := newWorld(t)
	var failing atomic.Bool
	failing.Store(true)
	rc := newReceiver(t, func(http.ResponseWriter, *http.Request, request) int {
		if failing.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hook := w.hook(rc.URL)
	w.run(w.config())
	const calls = 15
	for range calls {
		w.call(lifecycle...)
	}
	require.Eventually(t, func() bool { return w.state(hook).Failures >= 3 }, wait, 10*time.Millisecond, "backing off")
	failing.Store(false)
	total := calls * len(lifecycle)
	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == total }, wait, 10*time.Millisecond)

	got := perSubject(rc.delivered())
	require.Len(t, got, calls)
	for call, kinds := range got {
		require.Equal(t, lifecycle, kinds, "call %d", call)
	}
	type event struct {
		subject int64
		kind    events.Kind
	}
	ids := map[event]map[string]bool{}
	bodies := map[string]string{}
	for _, r := range rc.requests() {
		e := event{r.subject(), r.Env.Event}
		if ids[e] == nil {
			ids[e] = map[string]bool{}
		}
		ids[e][r.Delivery] = true
		if b, ok := bodies[r.Delivery]; ok {
			require.Equal(t, b, string(r.Body), "every attempt of %s sends the same bytes", r.Delivery)
		}
		bodies[r.Delivery] = string(r.Body)
	}
	require.Len(t, ids, total)
	for e, set := range ids {
		require.Len(t, set, 1, "%v arrived under one delivery id", e)
	}
	require.Equal(t, hookState{Active: true}, w.state(hook), "the first success clears the failures")
	var retried int
	require.NoError(t, w.db.Get(&retried, `SELECT count(*) FROM webhook_deliveries
		WHERE attempts > 1 AND last_error = 'HTTP 500 Internal Server Error: boom 500'`))
	require.Positive(t, retried)
}

// TestSlowReceiverIsRetried: a receiver that does not answer in time is
// cut, and the delivery retried.
func TestSlowReceiverIsRetried(t *testing.T) {
	w := newWorld(t)
	var seen sync.Map
	rc := newReceiver(t, func(_ http.ResponseWriter, r *http.Request, req request) int {
		if _, again := seen.LoadOrStore(req.Delivery, true); !again {
			<-r.Context().Done() // until the dispatcher gives up
		}
		return http.StatusOK
	})
	w.hook(rc.URL)
	cfg := w.config()
	cfg.Timeout = time.Second
	w.run(cfg)
	w.call(events.CallCreated)
	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == 1 }, wait, 10*time.Millisecond)
	var d struct {
		Attempts  int    `db:"attempts"`
		LastError string `db:"last_error"`
	}
	require.NoError(t, w.db.Get(&d, "SELECT attempts, last_error FROM webhook_deliveries"))
	require.GreaterOrEqual(t, d.Attempts, 2)
	require.Equal(t, "no answer within 1s", d.LastError)
	reqs := rc.requests()
	require.Equal(t, reqs[0].Delivery, reqs[len(reqs)-1].Delivery)
	require.Equal(t, reqs[0].Body, reqs[len(reqs)-1].Body)
}

// TestAnswers: what each answer of a receiver does.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		want      store.DeliveryStatus
		lastError string
		active    bool
		reason    string
		result    string // what Config.Observe is told first
	}{
		{"ok", http.StatusOK, store.DeliveryDelivered, "", true, "", webhook.ResultDelivered},
		{"no content", http.StatusNoContent, store.DeliveryDelivered, "", true, "", webhook.ResultDelivered},
		{"accepted", http.StatusAccepted, store.DeliveryDelivered, "", true, "", webhook.ResultDelivered},
		{"redirect", http.StatusFound, store.DeliveryPending,
			"HTTP 302 Found: boom 302: redirects are not followed (Location: https://elsewhere.test/)", true, "", webhook.ResultFailed},
		{"server error", http.StatusInternalServerError, store.DeliveryPending, "HTTP 500 Internal Server Error: boom 500", true, "",
			webhook.ResultFailed},
		{"unauthorized", http.StatusUnauthorized, store.DeliveryPending, "HTTP 401 Unauthorized: boom 401", true, "", webhook.ResultFailed},
		{"gone", http.StatusGone, store.DeliveryFailed, "HTTP 410 Gone: boom 410", false, "the receiver answered 410 Gone",
			webhook.ResultDeactivated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			rc := newReceiver(t, func(rw http.ResponseWriter, _ *http.Request, _ request) int {
				rw.Header().Set("Location", "https://elsewhere.test/")
				return tt.status
			})
			hook := w.hook(rc.URL)
			require.NoError(t, w.st.Publish(context.Background(), w.company, store.Event{Kind: events.UserOpened, User: 7}))
			results := &observed{}
			cfg := w.config()
			cfg.Observe = results.add
			w.run(cfg)
			var d struct {
				Status    store.DeliveryStatus `db:"status"`
				Attempts  int                  `db:"attempts"`
				Code      int                  `db:"last_status_code"`
				LastError *string              `db:"last_error"`
			}
			require.Eventually(t, func() bool {
				err := w.db.Get(&d, "SELECT status, attempts, coalesce(last_status_code, 0) AS last_status_code, last_error FROM webhook_deliveries")
				return err == nil && d.Attempts > 0
			}, wait, 10*time.Millisecond)
			require.Equal(t, tt.want, d.Status)
			require.Equal(t, tt.status, d.Code)
			if tt.lastError == "" {
				require.Nil(t, d.LastError)
			} else {
				require.Equal(t, tt.lastError, *d.LastError)
			}
			s := w.state(hook)
			require.Equal(t, tt.active, s.Active)
			if tt.reason != "" {
				require.Equal(t, tt.reason, *s.Reason)
			}
			require.NotEmpty(t, rc.requests())
			// Told once the attempt is recorded.
			require.Eventually(t, func() bool { return len(results.all()) > 0 }, wait, 10*time.Millisecond)
			require.Equal(t, tt.result, results.all()[0])
		})
	}
}

// observed keeps what Config.Observe was told.
type observed struct {
	mu      sync.Mutex
	results []string
}

func (o *observed) add(result string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.results = append(o.results, result)
}

func (o *observed) all() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.results)
}

// TestFailingForADayDeactivates moves the dispatcher's clock through a
// day of failures.
func TestFailingForADayDeactivates(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, func(http.ResponseWriter, *http.Request, request) int { return http.StatusServiceUnavailable })
	hook := w.hook(rc.URL)
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(t0.UnixNano())
	cfg := w.config()
	cfg.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	cfg.First, cfg.Max = time.Second, time.Hour
	require.NoError(t, w.st.Publish(context.Background(), w.company, store.Event{Kind: events.UserOpened, User: 7}))
	w.run(cfg)

	require.Eventually(t, func() bool { return w.state(hook).Failures == 1 }, wait, 10*time.Millisecond)
	clock.Store(t0.Add(2 * time.Hour).UnixNano()) // past the backoff: tried again
	require.Eventually(t, func() bool { return w.state(hook).Failures == 2 }, wait, 10*time.Millisecond)
	require.True(t, w.state(hook).Active)
	clock.Store(t0.Add(24 * time.Hour).UnixNano())
	require.Eventually(t, func() bool { return !w.state(hook).Active }, wait, 10*time.Millisecond)
	require.Equal(t, "every delivery failed for 24 hours, since 2026-12-01T08:00:00Z: HTTP 503 Service Unavailable: boom 503",
		*w.state(hook).Reason)
	require.Equal(t, 1, w.count(store.DeliveryFailed))
	require.Len(t, rc.requests(), 3)
}

// TestForbiddenAddress: a URL the policy refuses is not posted to, and
// the delivery says why.
func TestForbiddenAddress(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, nil)
	hook := w.hook(rc.URL)
	cfg := w.config()
	cfg.Policy = webhook.Policy{AllowHTTP: true} // the loopback is not allowed
	require.NoError(t, w.st.Publish(context.Background(), w.company, store.Event{Kind: events.UserOpened, User: 7}))
	w.run(cfg)
	var lastError *string
	require.Eventually(t, func() bool {
		err := w.db.Get(&lastError, "SELECT last_error FROM webhook_deliveries")
		return err == nil && lastError != nil
	}, wait, 10*time.Millisecond)
	require.Equal(t, "not a URL webhooks may post to: 127.0.0.1 is a loopback address (127.0.0.1)", *lastError)
	require.Empty(t, rc.requests())
	require.Positive(t, w.state(hook).Failures)
}

// TestObjectGone: an event whose object no longer exists fails for
// good; its queue and the webhook go on.
func TestObjectGone(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, nil)
	hook := w.hook(rc.URL)
	w.gone.Store(int64(7), true)
	require.NoError(t, w.st.Publish(context.Background(), w.company,
		store.Event{Kind: events.UserOpened, User: 7}, store.Event{Kind: events.UserOpened, User: 8}))
	results := &observed{}
	cfg := w.config()
	cfg.Observe = results.add
	w.run(cfg)
	require.Eventually(t, func() bool { return w.count(store.DeliveryPending) == 0 }, wait, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(results.all()) == 2 }, wait, 10*time.Millisecond)
	require.ElementsMatch(t, []string{webhook.ResultDropped, webhook.ResultDelivered}, results.all())
	var lastError string
	require.NoError(t, w.db.Get(&lastError, "SELECT last_error FROM webhook_deliveries WHERE status = 'failed'"))
	require.Equal(t, "cannot be delivered: user 7 no longer exists", lastError)
	require.Equal(t, 1, w.count(store.DeliveryDelivered))
	require.Equal(t, hookState{Active: true}, w.state(hook))
}

// TestOneActiveDispatcher: of two dispatchers on one database one
// delivers, the other stands by and takes over when the first stops.
func TestOneActiveDispatcher(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, nil)
	w.hook(rc.URL)
	first, stopFirst := w.run(w.config())
	require.Eventually(t, first.Active, wait, 10*time.Millisecond)
	second, _ := w.run(w.config())
	for range 10 {
		w.call(lifecycle...)
	}
	require.Eventually(t, func() bool { return len(rc.delivered()) == 50 }, wait, 10*time.Millisecond)
	require.True(t, first.Active())
	require.False(t, second.Active())
	require.Len(t, perSubject(rc.requests()), 10)
	require.Len(t, rc.requests(), 50, "each delivered once")

	stopFirst()
	require.Eventually(t, second.Active, wait, 10*time.Millisecond, "the standby takes over")
	for range 5 {
		w.call(lifecycle...)
	}
	require.Eventually(t, func() bool { return len(rc.delivered()) == 75 }, wait, 10*time.Millisecond)
}

// TestStoppedMidway: a dispatcher stopped in the middle of a backlog,
// and another started: every event arrives, in order per call.
func TestStoppedMidway(t *testing.T) {
	w := newWorld(t)
	// After 20 requests, the receiver holds the next ones until the
	// dispatcher is told to stop.
	gate := make(chan struct{})
	var n atomic.Int64
	rc := newReceiver(t, func(http.ResponseWriter, *http.Request, request) int {
		if n.Add(1) > 20 {
			<-gate
		}
		return http.StatusOK
	})
	w.hook(rc.URL)
	const calls = 30
	for range calls {
		w.call(lifecycle...)
	}
	total := calls * len(lifecycle)
	cfg := w.config()
	cfg.Workers = 4
	cfg.Timeout = wait
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, done := w.start(ctx, cfg)
	require.Eventually(t, func() bool { return n.Load() > 20 }, wait, 10*time.Millisecond)
	cancel()
	close(gate) // the requests in flight are answered, and recorded
	w.stopped(done)
	delivered := w.count(store.DeliveryDelivered)
	require.Less(t, delivered, total, "stopped before the end")
	require.Len(t, rc.requests(), delivered, "what was answered was recorded")

	w.run(cfg)
	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == total }, wait, 10*time.Millisecond)
	got := perSubject(rc.requests())
	require.Len(t, got, calls)
	for call, kinds := range got {
		require.Equal(t, lifecycle, kinds, "call %d", call)
	}
	require.Len(t, rc.requests(), total, "nothing sent twice")
}

// TestRedeliver: a delivery put back is sent again, the same.
func TestRedeliver(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, nil)
	hook := w.hook(rc.URL)
	w.run(w.config())
	require.NoError(t, w.st.Publish(context.Background(), w.company, store.Event{Kind: events.UserOpened, User: 7}))
	require.Eventually(t, func() bool { return len(rc.requests()) == 1 }, wait, 10*time.Millisecond)
	first := rc.requests()[0]
	// Recorded delivered (the receiver may see a request before that):
	// a delivery still pending is left as it is by Redeliver.
	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == 1 }, wait, 10*time.Millisecond)
	require.NoError(t, w.st.Redeliver(context.Background(), w.company, hook, store.DeliveryID(first.Delivery)))
	require.Eventually(t, func() bool { return len(rc.requests()) == 2 }, wait, 10*time.Millisecond)
	again := rc.requests()[1]
	require.Equal(t, first.Delivery, again.Delivery)
	require.Equal(t, first.Body, again.Body)
	require.True(t, again.SigOK)
	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == 1 }, wait, 10*time.Millisecond)
	list, err := w.st.WebhookDeliveries(context.Background(), w.company, hook, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, 2, list[0].Attempts)
}

// TestCleansDelivered: delivered deliveries past the retention go.
func TestCleansDelivered(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, nil)
	w.hook(rc.URL)
	require.NoError(t, w.st.Publish(context.Background(), w.company,
		store.Event{Kind: events.UserOpened, User: 7}, store.Event{Kind: events.UserOpened, User: 8}))
	cfg := w.config()
	cfg.Clean = 20 * time.Millisecond
	w.run(cfg)
	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == 2 }, wait, 10*time.Millisecond)
	_, err := w.db.Exec(`UPDATE webhook_deliveries SET delivered_at = now() - interval '8 days'
		WHERE id = (SELECT min(id) FROM webhook_deliveries)`)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return w.count(store.DeliveryDelivered) == 1 }, wait, 10*time.Millisecond)
	var user dialplan.UserID
	require.NoError(t, w.db.Get(&user, "SELECT e.user_id FROM webhook_deliveries d JOIN events e ON e.id = d.event_id"))
	require.Equal(t, dialplan.UserID(8), user, "the recent one stays")
}

// TestLockLost: a dispatcher whose lock session ends stands down, and
// delivers again once it holds the lock anew.
func TestLockLost(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, nil)
	w.hook(rc.URL)
	d, _ := w.run(w.config())
	require.Eventually(t, d.Active, wait, 10*time.Millisecond)
	holder := func() int {
		var pid int
		if err := w.db.Get(&pid, `SELECT coalesce(max(pid), 0) FROM pg_locks
			WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND granted`, 0x53574842); err != nil {
			t.Errorf("lock holder: %v", err)
		}
		return pid
	}
	first := holder()
	require.NotZero(t, first)
	_, err := w.db.Exec("SELECT pg_terminate_backend($1)", first)
	require.NoError(t, err)
	require.Eventually(t, func() bool { p := holder(); return p != 0 && p != first }, wait, 10*time.Millisecond)
	require.Eventually(t, d.Active, wait, 10*time.Millisecond)
	w.call(lifecycle...)
	require.Eventually(t, func() bool { return len(rc.delivered()) == len(lifecycle) }, wait, 10*time.Millisecond)
}
