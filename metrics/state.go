package metrics

import (
	"context"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// stateCollector reads what is a state, not an event, when Prometheus
// scrapes: the live view's figures, the media links, the outbox's
// backlog. Nothing is kept between scrapes, so nothing goes stale: a
// number with no call waiting has no series.
type stateCollector struct {
	m *Metrics

	waiting, inProgress, longestWait, agents *prometheus.Desc
	linkUp, backlog                          *prometheus.Desc
	spoolSaves, spoolBytes                   *prometheus.Desc

	mu      sync.Mutex
	live    FiguresSource
	links   map[string]func(context.Context) error // by driver
	pending func(context.Context) (int, error)
	spool   func() (int, int64)
}

func newStateCollector(m *Metrics) *stateCollector {
	return &stateCollector{
		m: m,
		waiting: prometheus.NewDesc("switchboard_calls_waiting",
			"Calls waiting for an agent now, by company and number.", []string{"company", "number"}, nil),
		inProgress: prometheus.NewDesc("switchboard_calls_in_progress",
			"Calls answered and not ended, by company and number.", []string{"company", "number"}, nil),
		longestWait: prometheus.NewDesc("switchboard_call_longest_wait_seconds",
			"The longest wait of the calls waiting now, by company and number.", []string{"company", "number"}, nil),
		agents: prometheus.NewDesc("switchboard_agents",
			"Agents by company and status (available, in_call, after_call_work, do_not_disturb, offline).",
			[]string{"company", "status"}, nil),
		linkUp: prometheus.NewDesc("switchboard_media_link_up",
			"Whether the event link to the media server is up (1) or not (0), by driver.", []string{"driver"}, nil),
		backlog: prometheus.NewDesc("switchboard_webhook_backlog",
			"Webhook deliveries still to be made (pending, retries included).", nil, nil),
		spoolSaves: prometheus.NewDesc("switchboard_spool_saves",
			"Call saves kept on local disk while PostgreSQL does not answer, not yet written back.", nil, nil),
		spoolBytes: prometheus.NewDesc("switchboard_spool_bytes",
			"The bytes the spool of call saves holds on local disk.", nil, nil),
		links: map[string]func(context.Context) error{},
	}
}

// WatchMediaLink reports a media driver's event link at each scrape:
// ready is its Ready (nil error: up).
func (m *Metrics) WatchMediaLink(driver string, ready func(context.Context) error) {
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.links[driver] = ready
}

// WatchWebhookBacklog reports the outbox's backlog at each scrape:
// count is store.Store.PendingDeliveries.
func (m *Metrics) WatchWebhookBacklog(count func(context.Context) (int, error)) {
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.pending = count
}

// WatchSpool reports the spool of call saves at each scrape: pending is
// store.SpooledLog.Pending.
func (m *Metrics) WatchSpool(pending func() (int, int64)) {
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.spool = pending
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.waiting, s.inProgress, s.longestWait, s.agents, s.linkUp, s.backlog,
		s.spoolSaves, s.spoolBytes} {
		ch <- d
	}
}

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	live, pending, spool := s.live, s.pending, s.spool
	drivers := make([]string, 0, len(s.links))
	for d := range s.links {
		drivers = append(drivers, d)
	}
	sort.Strings(drivers)
	links := make([]func(context.Context) error, len(drivers))
	for i, d := range drivers {
		links[i] = s.links[d]
	}
	s.mu.Unlock()

	ctx, cancel := scrapeContext()
	defer cancel()
	for i, d := range drivers {
		up := 0.0
		if links[i](ctx) == nil {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(s.linkUp, prometheus.GaugeValue, up, d)
	}
	if pending != nil {
		// Left out when it cannot be read: a backlog of 0 would be a lie,
		// and the alert on it would stop firing.
		if n, err := pending(ctx); err != nil {
			s.m.log.Warn("webhook backlog not read", "err", err)
		} else {
			ch <- prometheus.MustNewConstMetric(s.backlog, prometheus.GaugeValue, float64(n))
		}
	}
	if spool != nil {
		saves, bytes := spool()
		ch <- prometheus.MustNewConstMetric(s.spoolSaves, prometheus.GaugeValue, float64(saves))
		ch <- prometheus.MustNewConstMetric(s.spoolBytes, prometheus.GaugeValue, float64(bytes))
	}
	if live != nil {
		s.collectLive(ch, live)
	}
}
