package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/webhook"
)

// receiver is a customer's webhook endpoint: a real HTTP server on the
// loopback that verifies every delivery as the README tells receivers to
// (the signature over the timestamp and body, with the webhook's token)
// and keeps them. What it answers can be changed as it goes.
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	token      string
	deliveries []delivery // every request, retries included, in arrival order
	answer     func() int // the status to answer; 0 drops the connection
	delay      time.Duration
}

// delivery is one request the receiver got.
type delivery struct {
	id       string // X-Switchboard-Delivery
	at       time.Time
	status   int // what the receiver answered; 0 for a connection dropped
	envelope envelope
	valid    string // why the signature is wrong; "" when right
}

// envelope is a delivery's body.
type envelope struct {
	Resource  string          `json:"resource"`
	Event     string          `json:"event"`
	Timestamp int64           `json:"timestamp"`
	Token     string          `json:"token"`
	Data      json.RawMessage `json:"data"`
}

// id is the id of the object a delivery is about.
func (e envelope) id() int64 {
	var o struct {
		ID int64 `json:"id"`
	}
	json.Unmarshal(e.Data, &o)
	return o.ID
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t, answer: func() int { return http.StatusOK }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hooks/switchboard" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	d := delivery{id: req.Header.Get("X-Switchboard-Delivery"), at: time.Now()}
	if _, err := webhook.Verify(r.token, req.Header.Get("X-Switchboard-Signature"), body); err != nil {
		d.valid = err.Error()
	}
	if err := json.Unmarshal(body, &d.envelope); err != nil {
		d.valid = "not JSON: " + err.Error()
	} else if err := aircallSchemas.CheckEvent(body); err != nil {
		d.valid = "not what Aircall sends: " + err.Error()
	}
	if req.Method != http.MethodPost || req.URL.Path != "/hooks/switchboard" || req.Header.Get("Content-Type") != "application/json" {
		d.valid = fmt.Sprintf("%s %s as %s", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	status, delay := r.answer(), r.delay
	d.status = status
	r.deliveries = append(r.deliveries, d)
	r.mu.Unlock()
	time.Sleep(delay)
	if status == 0 {
		if hj, ok := w.(http.Hijacker); ok {
			if nc, _, err := hj.Hijack(); err == nil {
				nc.Close()
				return
			}
		}
	}
	w.WriteHeader(status)
}

// subscribe creates a webhook of every kind to the receiver.
func (r *receiver) subscribe(a *app) int64 {
	r.t.Helper()
	var out struct {
		Webhook struct {
			ID     int64    `json:"id"`
			Token  string   `json:"token"`
			Events []string `json:"events"`
		} `json:"webhook"`
	}
	status := a.do("POST", "/v1/webhooks", map[string]any{"url": r.url(), "custom_name": "e2e", "events": webhookKinds()}, &out)
	require.Equal(r.t, 201, status, "%v", out)
	require.NotEmpty(r.t, out.Webhook.Token)
	r.mu.Lock()
	r.token = out.Webhook.Token
	r.mu.Unlock()
	return out.Webhook.ID
}

// webhookKinds are the kinds a webhook may subscribe to.
func webhookKinds() []string {
	var out []string
	for _, k := range events.WebhookKinds() {
		out = append(out, string(k))
	}
	return out
}

// got lists the deliveries so far, one per delivery id (the first of its
// attempts that the receiver accepted), in the order they were accepted.
func (r *receiver) got() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []delivery
	for _, d := range r.deliveries {
		if d.status/100 == 2 && !seen[d.id] {
			seen[d.id] = true
			out = append(out, d)
		}
	}
	return out
}

// waitFor waits until deliveries of every kind given came.
func (r *receiver) waitFor(kinds ...string) {
	r.t.Helper()
	var missing []string
	require.Eventually(r.t, func() bool {
		have := map[string]bool{}
		for _, d := range r.got() {
			have[d.envelope.Event] = true
		}
		missing = missing[:0]
		for _, k := range kinds {
			if !have[k] {
				missing = append(missing, k)
			}
		}
		return len(missing) == 0
	}, time.Minute, 50*time.Millisecond, "no delivery of %v", &missing)
}

// check checks every delivery so far: signed right, the webhook's token,
// the envelope's resource that of its event; and every attempt of one
// delivery id the same event (of the same object).
func (r *receiver) check() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	first := map[string]envelope{}
	for _, d := range r.deliveries {
		require.Empty(r.t, d.valid, "delivery %s of %s", d.id, d.envelope.Event)
		require.NotEmpty(r.t, d.id)
		require.Equal(r.t, r.token, d.envelope.Token)
		require.Equal(r.t, strings.Split(d.envelope.Event, ".")[0], d.envelope.Resource)
		require.NotZero(r.t, d.envelope.Timestamp)
		require.NotEmpty(r.t, d.envelope.Data)
		if e, ok := first[d.id]; ok {
			// The same event; the object may be fresher: a body is kept
			// once an attempt is recorded, and a switchboard that died
			// between sending and recording leaves the next to render
			// it again.
			same := func(e envelope) []any { return []any{e.Resource, e.Event, e.Timestamp, e.Token, e.id()} }
			require.Equal(r.t, same(e), same(d.envelope), "every attempt of delivery %s sends the same event", d.id)
		}
		first[d.id] = d.envelope
	}
}

// inOrder checks that the call's events came, each once (one delivery id
// each), in the order of its timeline: every event of the timeline that
// is of one of kinds. It returns how many.
func (r *receiver) inOrder(a *app, call int64, kinds []string) int {
	r.t.Helper()
	var got struct{ Call callRecord }
	require.Equal(r.t, 200, a.do("GET", fmt.Sprintf("/v1/calls/%d", call), nil, &got))
	var want []string
	for _, e := range got.Call.Timeline {
		if slices.Contains(kinds, e.Event) {
			want = append(want, e.Event)
		}
	}
	var delivered []string
	require.Eventually(r.t, func() bool {
		delivered = delivered[:0]
		for _, d := range r.got() {
			if d.envelope.Resource == "call" && d.envelope.id() == call {
				delivered = append(delivered, d.envelope.Event)
			}
		}
		return len(delivered) >= len(want)
	}, time.Minute, 50*time.Millisecond, "call %d: %v delivered, %v in its timeline", call, &delivered, want)
	require.Equal(r.t, want, delivered, "call %d's events, in order, once each", call)
	return len(want)
}

// answering sets what the receiver answers from now on.
func (r *receiver) answering(answer func() int, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer, r.delay = answer, delay
}
