package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/metrics"
	"github.com/switchboard/switchboard/store"
)

// newMetrics builds the process's metrics on a registry of their own,
// with what can be read at once (the database pool, the outbox's
// backlog), and the handler that serves them at /metrics. The media
// driver, the webhook dispatcher, the API and the live view are given
// their hooks as they are started.
func newMetrics(cfg config, st *store.Store, logger *slog.Logger) (*metrics.Metrics, http.Handler, error) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Options{MaxNumbers: cfg.MetricsMaxNumbers, MaxCompanies: cfg.MetricsMaxCompanies, Logger: logger})
	if err := m.WatchDB(st.DB().DB, "switchboard"); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	m.WatchWebhookBacklog(st.PendingDeliveries)
	// What can be gathered is served when a part cannot: one failing
	// collector does not blind the whole scrape.
	h := promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg,
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}))
	return m, h, nil
}

// withMetrics serves /metrics beside the API, without credentials
// (Prometheus scrapes it), and leaves every other path to the API as it
// was: no mux cleaning or redirecting them.
func withMetrics(api, metrics http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			metrics.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
