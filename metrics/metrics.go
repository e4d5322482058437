// Package metrics is Switchboard's Prometheus metrics: one struct built
// from a prometheus.Registerer (no package globals), fed by the parts
// that know what happened through small hooks (the media drivers' and
// the webhook dispatcher's Observe, a Gin middleware, live.Observer) and,
// for what is a state rather than an event, read at scrape time from
// their sources (the live view's figures, the drivers' links, the
// outbox's backlog, the database pool).
//
// Every label set is bounded: companies and numbers by id, at most
// Options.MaxCompanies and Options.MaxNumbers of them (the others are
// "other"); never a caller's number or a call's id.
package metrics

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Defaults of Options.
const (
	DefaultMaxNumbers   = 100
	DefaultMaxCompanies = 100
)

// Other is the label of the companies and numbers past the bound, and
// of any value a label does not expect.
const Other = "other"

// None is the number label of a call without a number (an internal
// call).
const None = "none"

// Options tune the metrics; the zero values take the defaults.
type Options struct {
	// MaxNumbers bounds the numbers named by their id in labels
	// (DefaultMaxNumbers): the first ones seen keep their id for the
	// process's life, the others are "other".
	MaxNumbers int
	// MaxCompanies does the same for companies (DefaultMaxCompanies).
	MaxCompanies int
	// Logger is told why a figure read at scrape time is missing.
	Logger *slog.Logger
}

// Metrics are every metric of Switchboard. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg       prometheus.Registerer
	log       *slog.Logger
	companies *bounded
	numbers   *bounded

	calls  *prometheus.CounterVec
	wait   *prometheus.HistogramVec
	answer *prometheus.HistogramVec

	mediaSeconds *prometheus.HistogramVec
	mediaErrors  *prometheus.CounterVec

	deliveries *prometheus.CounterVec

	httpRequests *prometheus.CounterVec
	httpSeconds  *prometheus.HistogramVec

	state *stateCollector
}

// Buckets. Waits reach the service level's usual thresholds (10, 15,
// 20, 30, 60 s: the share answered within a company's SLA is read off
// its bucket); media commands are milliseconds when all is well.
var (
	waitBuckets   = []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600}
	answerBuckets = []float64{1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60}
	mediaBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
)

// New builds the metrics and registers them with reg, with the Go
// runtime's and the process's collectors (unless reg has them already).
func New(reg prometheus.Registerer, opts Options) *Metrics {
	if opts.MaxNumbers <= 0 {
		opts.MaxNumbers = DefaultMaxNumbers
	}
	if opts.MaxCompanies <= 0 {
		opts.MaxCompanies = DefaultMaxCompanies
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg:       reg,
		log:       opts.Logger.With("component", "metrics"),
		companies: newBounded(opts.MaxCompanies),
		numbers:   newBounded(opts.MaxNumbers),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_calls_total",
			Help: "Calls ended, by company, number, direction (inbound, outbound) and outcome (answered, missed, voicemail; answered, not_answered, refused).",
		}, []string{"company", "number", "direction", "outcome"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_call_wait_seconds",
			Help:    "How long ended calls waited: an inbound call from its start until answered, or until its end when not answered.",
			Buckets: waitBuckets,
		}, []string{"company", "direction", "outcome"}),
		answer: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_call_answer_seconds",
			Help:    "How long agents took to answer inbound calls, from the first ring of an agent's phone to the answer.",
			Buckets: answerBuckets,
		}, []string{"company"}),
		mediaSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_media_command_seconds",
			Help:    "How long the media server took to answer a command, by driver and command (an ARI route, an ESL command's name).",
			Buckets: mediaBuckets,
		}, []string{"driver", "command"}),
		mediaErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_media_command_errors_total",
			Help: "Media server commands that failed (refused, unanswered, or about a channel already gone), by driver and command.",
		}, []string{"driver", "command"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by result: delivered, failed (tried again later), dropped (its object is gone), deactivated (the webhook was turned off).",
		}, []string{"result"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total",
			Help: "HTTP requests answered, by route (unmatched for none), method and status code.",
		}, []string{"route", "method", "code"}),
		httpSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_seconds",
			Help:    "How long HTTP requests took to answer, by route and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
	m.state = newStateCollector(m)
	reg.MustRegister(m.calls, m.wait, m.answer, m.mediaSeconds, m.mediaErrors, m.deliveries,
		m.httpRequests, m.httpSeconds, m.state)
	// Every result exists from the start, so that a rate sees the first
	// one.
	for _, r := range webhookResults {
		m.deliveries.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			panic(err)
		}
	}
	return m
}

// WatchDB adds the statistics of a connection pool (connections open,
// in use, idle, waits) as go_sql_* with db_name=name.
func (m *Metrics) WatchDB(db *sql.DB, name string) error {
	return m.reg.Register(collectors.NewDBStatsCollector(db, name))
}

// MediaCommand is the hook of a media driver (ari.Config.Observe,
// esl.Config.Observe): each command's duration, and its failure, by
// driver ("asterisk", "freeswitch") and command name. The drivers name
// commands without their ids, so that the names are few.
func (m *Metrics) MediaCommand(driver string) func(command string, d time.Duration, err error) {
	return func(command string, d time.Duration, err error) {
		m.mediaSeconds.WithLabelValues(driver, command).Observe(d.Seconds())
		if err != nil {
			m.mediaErrors.WithLabelValues(driver, command).Inc()
		}
	}
}

// webhookResults are the results webhook.Config.Observe tells.
var webhookResults = []string{"delivered", "failed", "dropped", "deactivated"}

// WebhookResult is the webhook dispatcher's hook (webhook.Config.Observe):
// an attempt, by result.
func (m *Metrics) WebhookResult(result string) {
	m.deliveries.WithLabelValues(oneOf(result, webhookResults...)).Inc()
}

// methods are the HTTP methods named in labels; any other is "other".
var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// HTTP is the middleware that counts and times requests (api.Deps.Metrics),
// by route: Gin's template ("/v1/calls/:id"), or "unmatched" when no
// route matched, so that a scan of random paths adds no series.
func (m *Metrics) HTTP() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		method := oneOf(c.Request.Method, methods...)
		m.httpRequests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
		m.httpSeconds.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	}
}

// oneOf is v when it is one of want, else Other.
func oneOf(v string, want ...string) string {
	for _, w := range want {
		if v == w {
			return v
		}
	}
	return Other
}

// bounded names ids in labels, at most max of them: the first ones seen
// keep their id for the process's life (a series does not change its
// name), any later one is Other.
type bounded struct {
	mu    sync.Mutex
	max   int
	names map[int64]string
}

func newBounded(max int) *bounded {
	return &bounded{max: max, names: map[int64]string{}}
}

// label is id's label; 0 (none) is None and does not count.
func (b *bounded) label(id int64) string {
	if id == 0 {
		return None
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if name, ok := b.names[id]; ok {
		return name
	}
	if len(b.names) >= b.max {
		return Other
	}
	name := strconv.FormatInt(id, 10)
	b.names[id] = name
	return name
}

// scrapeTimeout bounds what a scrape reads from the sources.
const scrapeTimeout = 2 * time.Second

// scrapeContext bounds one scrape's reads.
func scrapeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), scrapeTimeout)
}
