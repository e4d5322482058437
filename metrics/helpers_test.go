package metrics_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/lib/pq" // the "postgres" driver: a pool that never connects, for its statistics
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/live"
	"github.com/switchboard/switchboard/metrics"
)

// figures is a live view that says what the test set.
type figures struct {
	mu sync.Mutex
	f  live.Figures
}

func (s *figures) Figures() live.Figures {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

func (s *figures) set(f live.Figures) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.f = f
}

// link is a media driver's Ready that the test turns up and down.
type link struct {
	mu sync.Mutex
	up bool
}

func (l *link) set(up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.up = up
}

func (l *link) Ready(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.up {
		return errors.New("no event link")
	}
	return nil
}

// populated is Metrics on a fresh (pedantic: what is collected must be
// what was described) registry with every family fed as
// Switchboard feeds it: calls of both directions, the live figures,
// both drivers' links and commands, webhook results and backlog, a
// database pool, and HTTP requests through the middleware.
func populated(t *testing.T) (*prometheus.Registry, *metrics.Metrics) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m := metrics.New(reg, metrics.Options{})
	for _, e := range []live.Ended{
		{Company: 1, Number: 5, Direction: "inbound", Outcome: "answered", Wait: 12 * time.Second, Answer: 4 * time.Second},
		{Company: 1, Number: 5, Direction: "inbound", Outcome: "answered", Wait: 35 * time.Second, Answer: 9 * time.Second},
		{Company: 1, Number: 5, Direction: "inbound", Outcome: "missed", Wait: 60 * time.Second},
		{Company: 1, Number: 6, Direction: "inbound", Outcome: "voicemail", Wait: 40 * time.Second},
		{Company: 2, Number: 9, Direction: "outbound", Outcome: "answered", Answer: 0},
		{Company: 2, Number: 9, Direction: "outbound", Outcome: "not_answered"},
		{Company: 2, Number: 0, Direction: "outbound", Outcome: "refused"},
	} {
		m.CallEnded(e)
	}
	m.WatchLive(&figures{f: live.Figures{
		Waiting:     []live.NumberCount{{Company: 1, Number: 5, Count: 2}, {Company: 2, Number: 9, Count: 1}},
		InProgress:  []live.NumberCount{{Company: 1, Number: 5, Count: 3}},
		LongestWait: []live.NumberWait{{Company: 1, Number: 5, Wait: 25 * time.Second}, {Company: 2, Number: 9, Wait: 3 * time.Second}},
		Agents: []live.StatusCount{{Company: 1, Status: live.Available, Count: 2}, {Company: 1, Status: live.InCall, Count: 3},
			{Company: 2, Status: live.Offline, Count: 1}},
	}})
	asterisk, freeswitch := &link{up: true}, &link{}
	m.WatchMediaLink("asterisk", asterisk.Ready)
	m.WatchMediaLink("freeswitch", freeswitch.Ready)
	ari, esl := m.MediaCommand("asterisk"), m.MediaCommand("freeswitch")
	ari("POST /channels/{id}/answer", 3*time.Millisecond, nil)
	ari("DELETE /channels/{id}", 2*time.Millisecond, errors.New("ARI DELETE /channels/1.2: 404 Channel not found"))
	esl("uuid_bridge", 4*time.Millisecond, nil)
	esl("bgapi originate", time.Millisecond, nil)
	for _, r := range []string{"delivered", "delivered", "failed", "dropped"} {
		m.WebhookResult(r)
	}
	m.WatchWebhookBacklog(func(context.Context) (int, error) { return 42, nil })
	db, err := sql.Open("postgres", "host=/nonexistent dbname=switchboard")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, m.WatchDB(db, "switchboard"))
	api := apiServer(m)
	for _, path := range []string{"/healthz", "/v1/calls/42", "/v1/calls/43", "/no/such/route"} {
		api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	return reg, m
}

// apiServer is a small Gin server with the metrics' middleware, as the
// API has it.
func apiServer(m *metrics.Metrics) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(m.HTTP())
	r.GET("/healthz", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.GET("/v1/calls/:id", func(c *gin.Context) {
		if c.Param("id") == "43" {
			c.AbortWithStatus(http.StatusNotFound)
			return
		}
		c.Status(http.StatusOK)
	})
	return r
}

// serveMetrics serves reg's metrics at /metrics on a real HTTP server,
// as switchboard serve does.
func serveMetrics(t *testing.T, reg *prometheus.Registry) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// family is the gathered family of that name, or nil.
func family(t *testing.T, reg prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// series lists a family's series as their labels (name=value, in the
// order the registry sorts them) and values: a histogram's by its
// sample count.
func series(t *testing.T, reg prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	mf := family(t, reg, name)
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		key := ""
		for i, l := range m.GetLabel() {
			if i > 0 {
				key += ","
			}
			key += l.GetName() + "=" + l.GetValue()
		}
		switch {
		case m.GetCounter() != nil:
			out[key] = m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			out[key] = m.GetGauge().GetValue()
		case m.GetHistogram() != nil:
			out[key] = float64(m.GetHistogram().GetSampleCount())
		}
	}
	return out
}
