package main

import (
	"context"
	"log/slog"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/metrics"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhook"
)

// startWebhooks runs the webhook dispatcher alongside the API, and gives
// the API the same URL policy. The dispatcher delivers only while it
// holds the database's dispatcher lock: with several switchboard
// processes on one database, one delivers and the others stand by. The
// returned func stops it, after the requests in flight.
//
// deps must be complete but for WebhookPolicy: the renderer shows objects
// with them (the ACD's live availability of users among them).
func startWebhooks(ctx context.Context, cfg config, st *store.Store, deps *api.Deps, logger *slog.Logger,
	m *metrics.Metrics) (func(), error) {
	policy, err := cfg.webhookPolicy()
	if err != nil {
		return nil, err
	}
	deps.WebhookPolicy = policy
	d, err := webhook.New(webhook.Config{DatabaseURL: cfg.DatabaseURL, Renderer: api.NewRenderer(*deps),
		Policy: policy, Logger: logger, Retention: cfg.WebhookRetention, Observe: m.WebhookResult})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
