package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
	"github.com/switchboard/switchboard/webhook"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// wait is how long a test waits for what the dispatcher does: long
// enough for a busy machine, never a measure of speed.
const wait = 60 * time.Second

// loopback lets webhooks post to the test's receivers.
var loopback = webhook.Policy{AllowHTTP: true, AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

// world is a database with one company, and what a test needs to run
// dispatchers on it.
type world struct {
	t       testing.TB
	dsn     string
	db      *sqlx.DB
	st      *store.Store
	company dialplan.CompanyID
	renders atomic.Int64 // calls of the renderer
	gone    sync.Map     // ids the renderer finds no more
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{t: t, dsn: storetest.URL(t)}
	// The pool serve has: a burst of calls queues for its connections.
	st, err := store.Open(context.Background(), w.dsn)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	w.db, w.st = st.DB(), st
	c := dialplan.Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	u := dialplan.User{FirstName: "Owner", Email: "owner@acme.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(t, c.Normalize())
	require.NoError(t, u.Normalize(c))
	_, err = w.st.Bootstrap(context.Background(), &c, &u)
	require.NoError(t, err)
	w.company = c.ID
	return w
}

// hook adds a webhook of the company, subscribed to kinds (every webhook
// kind when none), with the token "token-<id>".
func (w *world) hook(url string, kinds ...events.Kind) store.WebhookID {
	w.t.Helper()
	if len(kinds) == 0 {
		kinds = events.WebhookKinds()
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	var id store.WebhookID
	require.NoError(w.t, w.db.Get(&id, `INSERT INTO webhooks (company_id, url, events, token)
		VALUES ($1, $2, $3, '') RETURNING id`, w.company, url, pq.Array(names)))
	_, err := w.db.Exec("UPDATE webhooks SET token = 'token-' || id WHERE id = $1", id)
	require.NoError(w.t, err)
	return id
}

// renderer renders an object as {"id", "resource"}, like the API would
// with more fields.
func (w *world) renderer() webhook.Renderer {
	return webhook.RendererFunc(func(_ context.Context, company dialplan.CompanyID, r events.Resource, id int64) (json.RawMessage, error) {
		w.renders.Add(1)
		if _, gone := w.gone.Load(id); gone || company != w.company {
			return nil, fmt.Errorf("%s %d: %w", r, id, store.ErrNotFound)
		}
		return json.RawMessage(fmt.Sprintf(`{"id":%d,"resource":%q}`, id, r)), nil
	})
}

// config is a dispatcher's configuration for tests: quick polls, short
// backoffs.
func (w *world) config() webhook.Config {
	return webhook.Config{DatabaseURL: w.dsn, Renderer: w.renderer(), Policy: loopback, Logger: testLogger(w.t),
		Workers: 8, PerHost: 4, Timeout: 5 * time.Second, Poll: 20 * time.Millisecond, First: 20 * time.Millisecond,
		Max: 200 * time.Millisecond, Standby: 20 * time.Millisecond}
}

// run runs a dispatcher until the returned func stops it (and the test's
// end does); stop waits for Run to return.
func (w *world) run(cfg webhook.Config) (*webhook.Dispatcher, func()) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d, done := w.start(ctx, cfg)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			w.stopped(done)
		})
	}
	w.t.Cleanup(stop)
	return d, stop
}

// start runs a dispatcher until ctx ends; done gives what Run returned.
func (w *world) start(ctx context.Context, cfg webhook.Config) (*webhook.Dispatcher, <-chan error) {
	w.t.Helper()
	d, err := webhook.New(cfg)
	require.NoError(w.t, err)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, done
}

// stopped waits for a dispatcher's Run to return nil.
func (w *world) stopped(done <-chan error) {
	w.t.Helper()
	select {
	case err := <-done:
		require.NoError(w.t, err)
	case <-time.After(wait):
		w.t.Errorf("the dispatcher did not stop")
	}
}

// call publishes a call's events, one SaveCall each as a call's life
// does, and returns its id.
func (w *world) call(kinds ...events.Kind) dialplan.CallID {
	w.t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 9, 15, 0, 0, time.UTC)
	c := dialplan.Call{Company: w.company, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
		RawDigits: "+33612345678", StartedAt: t0, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
	for i, k := range kinds {
		var data any
		switch k {
		case events.CallCreated:
			data = events.Created{To: "+33176390861"}
		case events.CallHungup:
			data = events.Hungup{Cause: "normal_clearing"}
		}
		require.NoError(w.t, w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{{Event: k, At: t0.Add(time.Duration(i) * time.Second), Data: data}}, nil))
	}
	return c.ID
}

// lifecycle is a call's webhook events, in order.
var lifecycle = []events.Kind{events.CallCreated, events.CallRingingOnAgent, events.CallAnswered, events.CallHungup, events.CallEnded}

// hookState reads a webhook's delivery state.
type hookState struct {
	Active   bool    `db:"active"`
	Failures int     `db:"failures"`
	Reason   *string `db:"deactivated_reason"`
}

// It may be called from require.Eventually's goroutine: an error is
// reported, not fatal.
func (w *world) state(id store.WebhookID) hookState {
	w.t.Helper()
	var s hookState
	if err := w.db.Get(&s, "SELECT active, failures, deactivated_reason FROM webhooks WHERE id = $1", id); err != nil {
		w.t.Errorf("webhook %d: %v", id, err)
	}
	return s
}

// count counts the deliveries of a status (-1 on error, reported; it may
// be called from require.Eventually's goroutine).
func (w *world) count(status store.DeliveryStatus) int {
	w.t.Helper()
	var n int
	if err := w.db.Get(&n, "SELECT count(*) FROM webhook_deliveries WHERE status = $1", status); err != nil {
		w.t.Errorf("count %s deliveries: %v", status, err)
		return -1
	}
	return n
}

// request is a request a receiver got, checked as a receiver would.
type request struct {
	Delivery  string
	Signature string
	SignedAt  int64 // the signature's t
	SigOK     bool  // the signature is the HMAC of "<t>.<body>" keyed with the envelope's token
	Method    string
	Path      string
	Header    http.Header
	Body      []byte
	Env       struct {
		Resource  events.Resource `json:"resource"`
		Event     events.Kind     `json:"event"`
		Timestamp int64           `json:"timestamp"`
		Token     string          `json:"token"`
		Data      json.RawMessage `json:"data"`
	}
	Status int // what the receiver answered
}

// subject is the id of the object the request is about (the test
// renderer's data).
func (r request) subject() int64 {
	var d struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(r.Env.Data, &d)
	return d.ID
}

// receiver is a webhook's receiving end: it keeps every request, and
// answers what answer says (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []request
	answer func(w http.ResponseWriter, r *http.Request, req request) int
}

func newReceiver(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, req request) int) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	var req request
	req.Method, req.Path, req.Header = r.Method, r.URL.Path, r.Header.Clone()
	req.Body, _ = io.ReadAll(r.Body)
	req.Delivery = r.Header.Get("X-Switchboard-Delivery")
	req.Signature = r.Header.Get("X-Switchboard-Signature")
	_ = json.Unmarshal(req.Body, &req.Env)
	signed, err := webhook.Verify(req.Env.Token, req.Signature, req.Body)
	req.SignedAt, req.SigOK = signed.Unix(), err == nil
	req.Status = http.StatusOK
	if rc.answer != nil {
		req.Status = rc.answer(w, r, req)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, req)
	rc.mu.Unlock()
	w.WriteHeader(req.Status)
	if req.Status >= 300 {
		fmt.Fprintf(w, "boom %d", req.Status)
	}
}

// requests is a copy of what the receiver got.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

// delivered is what the receiver answered 2xx, in the order it came.
func (rc *receiver) delivered() []request {
	var out []request
	for _, r := range rc.requests() {
		if r.Status < 300 {
			out = append(out, r)
		}
	}
	return out
}

// perSubject groups deliveries by the object they are about: each
// call's events as they arrived (first arrival of each delivery).
func perSubject(reqs []request) map[int64][]events.Kind {
	out := map[int64][]events.Kind{}
	seen := map[string]bool{}
	for _, r := range reqs {
		if seen[r.Delivery] {
			continue
		}
		seen[r.Delivery] = true
		out[r.subject()] = append(out[r.subject()], r.Env.Event)
	}
	return out
}

// testLogger writes the dispatcher's log to the test's with -v.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}
