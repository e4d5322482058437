package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhook"
)

// The benchmarks of delivery. Run them with one op per call:
//
//	go test -run '^$' -bench . -benchtime 10000x ./webhook/
//
// BenchmarkDelivery publishes b.N calls (created, ringing, answered,
// hung up, ended: 5 events in 4 SaveCalls, as the engine writes them) to
// a company with one webhook to a local receiver, with the API's
// renderer (the call read back and shown as GET /v1/calls/:id does):
//   - live: 16 publishers while the dispatcher runs; events/s delivered
//     (first commit to last receipt) and the delay from each event's
//     commit (SaveCall returned) to its receipt, p50 and p99;
//   - backlog: the calls published first, then drained; events/s.
//
// BenchmarkSaveCall is the cost the outbox adds to SaveCall: calls saved
// in a company with a webhook and in one with none, alternately, in the
// same run (no dispatcher running).

// benchCall saves one call's life; saved, when not nil, is told of each
// event's commit.
func benchCall(ctx context.Context, st *store.Store, company dialplan.CompanyID, user dialplan.UserID,
	saved func(dialplan.CallID, events.Kind, time.Time)) error {
	t0 := time.Now().UTC()
	c := dialplan.Call{Company: company, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
		RawDigits: "+33612345678", StartedAt: t0, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
	steps := []struct {
		mod    func()
		events []dialplan.TimelineEvent
	}{
		{nil, []dialplan.TimelineEvent{{Event: events.CallCreated, At: t0, Data: events.Created{To: "+33176390861"}}}},
		{nil, []dialplan.TimelineEvent{{Event: events.CallRingingOnAgent, At: t0.Add(time.Second), User: user}}},
		{func() { c.Status, c.User, c.AnsweredAt = dialplan.CallAnswered, user, ptr(t0.Add(5*time.Second)) },
			[]dialplan.TimelineEvent{{Event: events.CallAnswered, At: t0.Add(5 * time.Second), User: user}}},
		{func() {
			c.Status, c.EndedAt, c.HangupCause = dialplan.CallDone, ptr(t0.Add(65*time.Second)), "normal_clearing"
		},
			[]dialplan.TimelineEvent{{Event: events.CallHungup, At: t0.Add(65 * time.Second), Data: events.Hungup{Cause: "normal_clearing"}},
				{Event: events.CallEnded, At: t0.Add(65 * time.Second)}}},
	}
	for _, s := range steps {
		if s.mod != nil {
			s.mod()
		}
		if err := st.SaveCall(ctx, &c, s.events, nil); err != nil {
			return err
		}
		if saved != nil {
			now := time.Now()
			for _, e := range s.events {
				saved(c.ID, e.Event, now)
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// benchWorld is a world with an agent, for calls to be answered by.
func benchWorld(b testing.TB) (*world, dialplan.UserID) {
	w := newWorld(b)
	c, err := w.st.Company(context.Background(), w.company)
	require.NoError(b, err)
	u := dialplan.User{FirstName: "Alice", Email: "alice@acme.test", Role: dialplan.RoleAgent}
	require.NoError(b, u.Normalize(c))
	require.NoError(b, w.st.CreateUser(context.Background(), w.company, &u))
	return w, u.ID
}

// key names an event of a call.
type key struct {
	call dialplan.CallID
	kind events.Kind
}

// stamps are times per event, written from many goroutines.
type stamps struct {
	mu sync.Mutex
	at map[key]time.Time
}

func (s *stamps) set(k key, t time.Time) {
	s.mu.Lock()
	if s.at == nil {
		s.at = map[key]time.Time{}
	}
	s.at[k] = t
	s.mu.Unlock()
}

// benchReceiver counts what it gets and stamps its receipt.
func benchReceiver(b *testing.B, got *stamps, n *atomic.Int64, all chan<- struct{}, total int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(r.Body)
		var env struct {
			Event events.Kind `json:"event"`
			Data  struct {
				ID dialplan.CallID `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got.set(key{env.Data.ID, env.Event}, now)
		if n.Add(1) == total {
			close(all)
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// pacedRates are the rates of the paced benchmarks: calls started per
// second (5 events each: 1,000 and 2,000 events/s).
var pacedRates = map[string]int{"paced1000": 200, "paced2000": 400}

func BenchmarkDelivery(b *testing.B) {
	for _, mode := range []string{"paced1000", "paced2000", "flood", "backlog"} {
		for _, renderer := range []string{"api", "id"} {
			b.Run(mode+"/renderer="+renderer, func(b *testing.B) {
				benchDelivery(b, mode, renderer)
			})
		}
	}
}

// benchDelivery: paced publishes calls at its rate while the
// dispatcher runs; flood publishes as fast as 16 publishers can; backlog
// publishes everything first, then starts the dispatcher. The renderer
// is the API's (api) or one that costs nothing (id: the dispatcher's own
// cost).
func benchDelivery(b *testing.B, mode, renderer string) {
	ctx := context.Background()
	w, agent := benchWorld(b)
	total := int64(b.N * len(lifecycle))
	var (
		committed, received stamps
		n                   atomic.Int64
		all                 = make(chan struct{})
		failed              = make(chan error, 1)
	)
	rc := benchReceiver(b, &received, &n, all, total)
	w.hook(rc.URL, events.CallCreated, events.CallRingingOnAgent, events.CallAnswered, events.CallHungup, events.CallEnded)
	// serve's settings but for the address policy.
	cfg := webhook.Config{DatabaseURL: w.dsn, Policy: loopback, Logger: slog.New(slog.DiscardHandler),
		Renderer: api.NewRenderer(api.Deps{Store: w.st})}
	if renderer == "id" {
		cfg.Renderer = webhook.RendererFunc(func(_ context.Context, _ dialplan.CompanyID, _ events.Resource, id int64) (json.RawMessage, error) {
			return json.RawMessage(`{"id":` + strconv.FormatInt(id, 10) + `}`), nil
		})
	}
	call := func() {
		err := benchCall(ctx, w.st, w.company, agent, func(id dialplan.CallID, k events.Kind, t time.Time) {
			committed.set(key{id, k}, t)
		})
		if err != nil {
			select {
			case failed <- err:
			default:
			}
		}
	}
	publish := func(rate int) {
		var wg sync.WaitGroup
		if rate > 0 {
			// Each call in its own goroutine, started on time: a slow
			// SaveCall does not delay the next calls.
			start := time.Now()
			for i := range b.N {
				time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
				wg.Go(call)
			}
		} else {
			var next atomic.Int64
			for range 16 {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						call()
					}
				})
			}
		}
		wg.Wait()
	}

	b.ResetTimer()
	var start time.Time
	if mode == "backlog" {
		publish(0)
		start = time.Now()
		w.run(cfg)
	} else {
		d, _ := w.run(cfg)
		for !d.Active() {
			time.Sleep(time.Millisecond)
		}
		start = time.Now()
		publish(pacedRates[mode])
	}
	select {
	case <-all:
	case err := <-failed:
		b.Fatalf("a call not saved: %v", err)
	case <-time.After(30 * time.Minute):
		b.Fatalf("%d of %d events delivered", n.Load(), total)
	}
	elapsed := time.Since(start)
	b.StopTimer()

	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	if mode == "backlog" {
		return
	}
	var delays []time.Duration
	for k, at := range received.at {
		c, ok := committed.at[k]
		if !ok {
			b.Fatalf("%v received, never committed", k)
		}
		delays = append(delays, max(at.Sub(c), 0))
	}
	slices.Sort(delays)
	q := func(p float64) float64 {
		return float64(delays[int(p*float64(len(delays)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

func BenchmarkSaveCall(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			// Two companies in one database: one with a webhook subscribed
			// to every event of the calls, one with none. Their calls
			// alternate, so that both see the same database and machine
			// (this one's speed drifts by a tenth from run to run).
			w, agent := benchWorld(b)
			w.hook("https://203.0.113.7/hook", events.CallCreated, events.CallRingingOnAgent, events.CallAnswered,
				events.CallHungup, events.CallEnded)
			bare, bareAgent := secondCompany(b, w)
			for _, q := range strings.Split(os.Getenv("EXP"), ";") {
				if strings.TrimSpace(q) != "" {
					_, err := w.db.Exec(q)
					require.NoError(b, err)
				}
			}
			var with, without atomic.Int64 // ns spent
			one := func() error {
				t0 := time.Now()
				if err := benchCall(ctx, w.st, w.company, agent, nil); err != nil {
					return err
				}
				t1 := time.Now()
				if err := benchCall(ctx, w.st, bare, bareAgent, nil); err != nil {
					return err
				}
				with.Add(int64(t1.Sub(t0)))
				without.Add(int64(time.Since(t1)))
				return nil
			}
			// Prepared statements and a warm cache before timing.
			for range 50 {
				require.NoError(b, one())
			}
			with.Store(0)
			without.Store(0)
			b.ResetTimer()
			if parallel {
				b.SetParallelism(4) // 8 goroutines on 2 cores
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := one(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				for range b.N {
					require.NoError(b, one())
				}
			}
			b.StopTimer()
			saves := float64(b.N * 4)
			b.ReportMetric(float64(without.Load())/saves, "ns/SaveCall-no-webhook")
			b.ReportMetric(float64(with.Load())/saves, "ns/SaveCall-webhook")
			b.ReportMetric(100*(float64(with.Load())/float64(without.Load())-1), "outbox-%")
		})
	}
}

// secondCompany adds a company with an agent to w's database.
func secondCompany(b *testing.B, w *world) (dialplan.CompanyID, dialplan.UserID) {
	ctx := context.Background()
	c := dialplan.Company{Name: "Bare", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	owner := dialplan.User{FirstName: "Owner", Email: "owner@bare.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(b, c.Normalize())
	require.NoError(b, owner.Normalize(c))
	_, err := w.st.Bootstrap(ctx, &c, &owner)
	require.NoError(b, err)
	u := dialplan.User{FirstName: "Bob", Email: "bob@bare.test", Role: dialplan.RoleAgent}
	require.NoError(b, u.Normalize(c))
	require.NoError(b, w.st.CreateUser(ctx, c.ID, &u))
	return c.ID, u.ID
}
