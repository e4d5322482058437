package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/live"
	"github.com/switchboard/switchboard/metrics"
)

// TestCallEnded: each ended call is counted by company, number,
// direction and outcome; its wait is observed by direction and outcome;
// an inbound call's answer time when answered.
func TestCallEnded(t *testing.T) {
	tests := []struct {
		name    string
		ended   []live.Ended
		calls   map[string]float64
		waits   map[string]float64 // sample counts
		answers map[string]float64
	}{
		{
			name: "inbound answered",
			ended: []live.Ended{{Company: 1, Number: 5, Direction: "inbound", Outcome: "answered",
				Wait: 12 * time.Second, Answer: 4 * time.Second}},
			calls:   map[string]float64{"company=1,direction=inbound,number=5,outcome=answered": 1},
			waits:   map[string]float64{"company=1,direction=inbound,outcome=answered": 1},
			answers: map[string]float64{"company=1": 1},
		},
		{
			name: "inbound missed and voicemail: no answer time",
			ended: []live.Ended{
				{Company: 1, Number: 5, Direction: "inbound", Outcome: "missed", Wait: 30 * time.Second},
				{Company: 1, Number: 5, Direction: "inbound", Outcome: "missed", Wait: 40 * time.Second},
				{Company: 1, Number: 5, Direction: "inbound", Outcome: "voicemail", Wait: 50 * time.Second},
			},
			calls: map[string]float64{"company=1,direction=inbound,number=5,outcome=missed": 2,
				"company=1,direction=inbound,number=5,outcome=voicemail": 1},
			waits: map[string]float64{"company=1,direction=inbound,outcome=missed": 2,
				"company=1,direction=inbound,outcome=voicemail": 1},
			answers: map[string]float64{},
		},
		{
			name: "outbound: answered by whom it calls, no answer time; no number is none",
			ended: []live.Ended{
				{Company: 2, Number: 9, Direction: "outbound", Outcome: "answered", Answer: time.Second},
				{Company: 2, Direction: "outbound", Outcome: "refused"},
			},
			calls: map[string]float64{"company=2,direction=outbound,number=9,outcome=answered": 1,
				"company=2,direction=outbound,number=none,outcome=refused": 1},
			waits: map[string]float64{"company=2,direction=outbound,outcome=answered": 1,
				"company=2,direction=outbound,outcome=refused": 1},
			answers: map[string]float64{},
		},
		{
			name:    "values the labels do not expect are other",
			ended:   []live.Ended{{Company: 1, Number: 5, Direction: "sideways", Outcome: "+33612345678"}},
			calls:   map[string]float64{"company=1,direction=other,number=5,outcome=other": 1},
			waits:   map[string]float64{"company=1,direction=other,outcome=other": 1},
			answers: map[string]float64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := metrics.New(reg, metrics.Options{})
			for _, e := range tt.ended {
				m.CallEnded(e)
			}
			require.Equal(t, tt.calls, series(t, reg, "switchboard_calls_total"))
			require.Equal(t, tt.waits, series(t, reg, "switchboard_call_wait_seconds"))
			require.Equal(t, tt.answers, series(t, reg, "switchboard_call_answer_seconds"))
		})
	}
}

// TestWaitBuckets: a wait lands in the service level's buckets, so that
// "answered within 20 s" is read off the histogram.
func TestWaitBuckets(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{})
	for _, w := range []time.Duration{5 * time.Second, 20 * time.Second, 21 * time.Second} {
		m.CallEnded(live.Ended{Company: 1, Number: 5, Direction: "inbound", Outcome: "answered", Wait: w})
	}
	h := family(t, reg, "switchboard_call_wait_seconds").GetMetric()[0].GetHistogram()
	within := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		within[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	require.Equal(t, uint64(1), within[10])
	require.Equal(t, uint64(2), within[20], "20 s is within 20 s")
	require.Equal(t, uint64(3), within[30])
	require.InDelta(t, 46, h.GetSampleSum(), 1e-9)
}

// TestBoundedLabels: at most MaxNumbers numbers and MaxCompanies
// companies are named; the next ones are "other", in the counters and
// in the gauges, where their figures are added up (the longest wait is
// the longest of them). A number named once keeps its name.
func TestBoundedLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{MaxNumbers: 2, MaxCompanies: 1})
	src := &figures{}
	m.WatchLive(src)
	for _, n := range []dialplan.NumberID{5, 6, 7, 8, 5} {
		m.CallEnded(live.Ended{Company: 1, Number: n, Direction: "inbound", Outcome: "missed"})
	}
	m.CallEnded(live.Ended{Company: 2, Number: 6, Direction: "inbound", Outcome: "missed"})
	require.Equal(t, map[string]float64{
		"company=1,direction=inbound,number=5,outcome=missed":     2,
		"company=1,direction=inbound,number=6,outcome=missed":     1,
		"company=1,direction=inbound,number=other,outcome=missed": 2,
		"company=other,direction=inbound,number=6,outcome=missed": 1,
	}, series(t, reg, "switchboard_calls_total"))

	src.set(live.Figures{
		Waiting: []live.NumberCount{{Company: 1, Number: 5, Count: 1}, {Company: 1, Number: 7, Count: 2},
			{Company: 1, Number: 8, Count: 3}, {Company: 1, Number: 0, Count: 1}, {Company: 3, Number: 5, Count: 4}},
		LongestWait: []live.NumberWait{{Company: 1, Number: 7, Wait: 30 * time.Second}, {Company: 1, Number: 8, Wait: 50 * time.Second},
			{Company: 1, Number: 5, Wait: 10 * time.Second}},
		Agents: []live.StatusCount{{Company: 1, Status: live.Available, Count: 2}, {Company: 3, Status: live.Available, Count: 1},
			{Company: 4, Status: live.Available, Count: 5}},
	})
	require.Equal(t, map[string]float64{
		"company=1,number=5":     1,
		"company=1,number=other": 5,
		"company=1,number=none":  1,
		"company=other,number=5": 4,
	}, series(t, reg, "switchboard_calls_waiting"))
	require.Equal(t, map[string]float64{
		"company=1,number=5":     10,
		"company=1,number=other": 50,
	}, series(t, reg, "switchboard_call_longest_wait_seconds"))
	require.Equal(t, map[string]float64{
		"company=1,status=available":     2,
		"company=other,status=available": 6,
	}, series(t, reg, "switchboard_agents"))
}

// TestFigures: the live view's figures are read at each scrape, as they
// are then: a number with no call waiting any more has no series.
func TestFigures(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{})
	require.Empty(t, series(t, reg, "switchboard_calls_waiting"), "no live view yet: nothing")
	src := &figures{}
	m.WatchLive(src)
	src.set(live.Figures{
		Waiting:     []live.NumberCount{{Company: 1, Number: 5, Count: 2}},
		InProgress:  []live.NumberCount{{Company: 1, Number: 5, Count: 3}, {Company: 1, Number: 6, Count: 1}},
		LongestWait: []live.NumberWait{{Company: 1, Number: 5, Wait: 1500 * time.Millisecond}},
		Agents:      []live.StatusCount{{Company: 1, Status: live.InCall, Count: 4}, {Company: 1, Status: live.AfterCallWork, Count: 1}},
	})
	require.Equal(t, map[string]float64{"company=1,number=5": 2}, series(t, reg, "switchboard_calls_waiting"))
	require.Equal(t, map[string]float64{"company=1,number=5": 3, "company=1,number=6": 1},
		series(t, reg, "switchboard_calls_in_progress"))
	require.Equal(t, map[string]float64{"company=1,number=5": 1.5}, series(t, reg, "switchboard_call_longest_wait_seconds"))
	require.Equal(t, map[string]float64{"company=1,status=in_call": 4, "company=1,status=after_call_work": 1},
		series(t, reg, "switchboard_agents"))
	src.set(live.Figures{InProgress: []live.NumberCount{{Company: 1, Number: 6, Count: 1}}})
	require.Empty(t, series(t, reg, "switchboard_calls_waiting"))
	require.Empty(t, series(t, reg, "switchboard_agents"))
	require.Equal(t, map[string]float64{"company=1,number=6": 1}, series(t, reg, "switchboard_calls_in_progress"))
}

// TestMediaLink: each driver's link is read at each scrape.
func TestMediaLink(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{})
	require.Empty(t, series(t, reg, "switchboard_media_link_up"), "no media server: no series")
	l := &link{}
	m.WatchMediaLink("asterisk", l.Ready)
	require.Equal(t, map[string]float64{"driver=asterisk": 0}, series(t, reg, "switchboard_media_link_up"))
	l.set(true)
	require.Equal(t, map[string]float64{"driver=asterisk": 1}, series(t, reg, "switchboard_media_link_up"))
	l.set(false)
	require.Equal(t, map[string]float64{"driver=asterisk": 0}, series(t, reg, "switchboard_media_link_up"))
}

// TestMediaCommand: every command is timed by driver and command; the
// failed ones are counted too.
func TestMediaCommand(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{})
	ari, esl := m.MediaCommand("asterisk"), m.MediaCommand("freeswitch")
	ari("POST /channels/{id}/answer", 3*time.Millisecond, nil)
	ari("POST /channels/{id}/answer", 2*time.Millisecond, errors.New("404"))
	esl("uuid_bridge", 4*time.Millisecond, nil)
	require.Equal(t, map[string]float64{
		"command=POST /channels/{id}/answer,driver=asterisk": 2,
		"command=uuid_bridge,driver=freeswitch":              1,
	}, series(t, reg, "switchboard_media_command_seconds"))
	require.Equal(t, map[string]float64{"command=POST /channels/{id}/answer,driver=asterisk": 1},
		series(t, reg, "switchboard_media_command_errors_total"))
}

// TestWebhooks: attempts by result (each result there from the start,
// at 0); the backlog read at each scrape, left out when it cannot be
// read rather than shown as 0.
func TestWebhooks(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{})
	zero := map[string]float64{"result=delivered": 0, "result=failed": 0, "result=dropped": 0, "result=deactivated": 0}
	require.Equal(t, zero, series(t, reg, "switchboard_webhook_deliveries_total"))
	for _, r := range []string{"delivered", "delivered", "failed", "deactivated", "exploded"} {
		m.WebhookResult(r)
	}
	require.Equal(t, map[string]float64{"result=delivered": 2, "result=failed": 1, "result=dropped": 0,
		"result=deactivated": 1, "result=other": 1}, series(t, reg, "switchboard_webhook_deliveries_total"))

	require.Nil(t, family(t, reg, "switchboard_webhook_backlog"))
	backlog, err := 7, error(nil)
	m.WatchWebhookBacklog(func(context.Context) (int, error) { return backlog, err })
	require.Equal(t, map[string]float64{"": 7}, series(t, reg, "switchboard_webhook_backlog"))
	err = errors.New("database down")
	require.Nil(t, family(t, reg, "switchboard_webhook_backlog"))
}

// TestHTTP: requests are counted and timed by route template (the ids
// left out), method and status; unmatched paths and unknown methods
// share one label each, so that a scan adds no series.
func TestHTTP(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{})
	api := apiServer(m)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/healthz"},
		{http.MethodGet, "/v1/calls/42"},
		{http.MethodGet, "/v1/calls/43"},
		{http.MethodGet, "/v1/calls/44"},
		{http.MethodGet, "/wp-admin/login.php"},
		{http.MethodGet, "/.env"},
		{"BREW", "/coffee"},
	} {
		api.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(r.method, r.path, nil))
	}
	require.Equal(t, map[string]float64{
		"code=200,method=GET,route=/healthz":      1,
		"code=200,method=GET,route=/v1/calls/:id": 2,
		"code=404,method=GET,route=/v1/calls/:id": 1,
		"code=404,method=GET,route=unmatched":     2,
		"code=404,method=other,route=unmatched":   1,
	}, series(t, reg, "switchboard_http_requests_total"))
	require.Equal(t, map[string]float64{
		"method=GET,route=/healthz":      1,
		"method=GET,route=/v1/calls/:id": 3,
		"method=GET,route=unmatched":     2,
		"method=other,route=unmatched":   1,
	}, series(t, reg, "switchboard_http_request_seconds"))
}

// TestRegistries: no package globals: two Metrics live side by side on
// their own registries, and one goes on a registry that has the Go and
// process collectors already (prometheus.DefaultRegisterer's kind).
func TestRegistries(t *testing.T) {
	a, b := prometheus.NewRegistry(), prometheus.NewRegistry()
	ma, mb := metrics.New(a, metrics.Options{}), metrics.New(b, metrics.Options{})
	ma.WebhookResult("delivered")
	require.Equal(t, 1.0, series(t, a, "switchboard_webhook_deliveries_total")["result=delivered"])
	require.Equal(t, 0.0, series(t, b, "switchboard_webhook_deliveries_total")["result=delivered"])
	mb.WebhookResult("failed")
	require.NotNil(t, family(t, a, "go_goroutines"))
	require.NotNil(t, family(t, a, "process_cpu_seconds_total"))

	c := prometheus.NewRegistry()
	c.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	require.NotPanics(t, func() { metrics.New(c, metrics.Options{}) })
	require.Panics(t, func() { metrics.New(c, metrics.Options{}) }, "its own metrics twice on one registry is a mistake")
}

// TestPopulatedGathers: with every family fed (helpers_test.go), the
// registry gathers without an inconsistency (two series of one name,
// a label missing).
func TestPopulatedGathers(t *testing.T) {
	reg, _ := populated(t)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"switchboard_calls_total", "switchboard_call_wait_seconds", "switchboard_call_answer_seconds",
		"switchboard_calls_waiting", "switchboard_calls_in_progress", "switchboard_call_longest_wait_seconds", "switchboard_agents",
		"switchboard_media_link_up", "switchboard_media_command_seconds", "switchboard_media_command_errors_total",
		"switchboard_webhook_deliveries_total", "switchboard_webhook_backlog",
		"switchboard_http_requests_total", "switchboard_http_request_seconds",
		"go_sql_open_connections", "go_goroutines", "process_cpu_seconds_total"} {
		require.True(t, names[want], want)
	}
}
