package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/live"
)

// FiguresSource is where the live view's figures are read at each
// scrape (live.Hub).
type FiguresSource interface{ Figures() live.Figures }

// The live view's hub is read at each scrape, and told of ended calls.
var (
	_ FiguresSource = (*live.Hub)(nil)
	_ live.Observer = (*Metrics)(nil)
)

// WatchLive reports the live view's figures at each scrape: calls
// waiting and in progress, the longest wait, agents by status.
func (m *Metrics) WatchLive(src FiguresSource) {
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.live = src
}

// The values the call labels expect; any other is Other.
var (
	directions = []string{"inbound", "outbound"}
	outcomes   = []string{"answered", "missed", "voicemail", "not_answered", "refused"}
	statuses   = []string{"available", "in_call", "after_call_work", "do_not_disturb", "offline"}
)

// CallEnded counts an ended call and its waits (live.Observer).
func (m *Metrics) CallEnded(e live.Ended) {
	company := m.companies.label(int64(e.Company))
	direction, outcome := oneOf(e.Direction, directions...), oneOf(e.Outcome, outcomes...)
	m.calls.WithLabelValues(company, m.numbers.label(int64(e.Number)), direction, outcome).Inc()
	m.wait.WithLabelValues(company, direction, outcome).Observe(e.Wait.Seconds())
	// The agents' answer time is an inbound call's: an outbound call is
	// answered by whom it calls.
	if direction == "inbound" && outcome == "answered" {
		m.answer.WithLabelValues(company).Observe(e.Answer.Seconds())
	}
}

// collectLive turns the live view's figures into gauges. Numbers past
// the bound share the label "other": their counts are added up, their
// waits the longest of them, so that no two series have one name.
func (s *stateCollector) collectLive(ch chan<- prometheus.Metric, src FiguresSource) {
	f := src.Figures()
	type key struct{ a, b string }
	emit := func(desc *prometheus.Desc, values map[key]float64) {
		for k, v := range values {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, k.a, k.b)
		}
	}
	number := func(company, number int64) key {
		return key{s.m.companies.label(company), s.m.numbers.label(number)}
	}
	for _, c := range []struct {
		desc   *prometheus.Desc
		counts []live.NumberCount
	}{{s.waiting, f.Waiting}, {s.inProgress, f.InProgress}} {
		values := map[key]float64{}
		for _, n := range c.counts {
			values[number(int64(n.Company), int64(n.Number))] += float64(n.Count)
		}
		emit(c.desc, values)
	}
	longest := map[key]float64{}
	for _, w := range f.LongestWait {
		k := number(int64(w.Company), int64(w.Number))
		longest[k] = max(longest[k], w.Wait.Seconds())
	}
	emit(s.longestWait, longest)
	agents := map[key]float64{}
	for _, a := range f.Agents {
		agents[key{s.m.companies.label(int64(a.Company)), oneOf(string(a.Status), statuses...)}] += float64(a.Count)
	}
	emit(s.agents, agents)
}
