package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// Webhook is a company's subscription to events: where they are posted,
// which kinds, and the state of its deliveries (written by the
// dispatcher, package webhook).
type Webhook struct {
	ID         WebhookID
	URL        string
	CustomName string
	Events     []events.Kind
	// Token is sent with every delivery (Aircall's envelope has it) and
	// keys its signature: random, made at creation.
	Token     string
	Active    bool
	CreatedAt time.Time

	// Delivery state. FailingSince: the first of the failed attempts in a
	// row (nil while deliveries succeed). Deactivated*: why and when the
	// dispatcher turned the webhook off (24 hours of failures, 410 Gone).
	FailingSince      *time.Time
	DeactivatedReason *string
	DeactivatedAt     *time.Time
}

const webhookColumns = `id, url, custom_name, events, token, active, created_at,
	failing_since, deactivated_reason, deactivated_at`

type webhookRow struct {
	ID                WebhookID      `db:"id"`
	URL               string         `db:"url"`
	CustomName        string         `db:"custom_name"`
	Events            pq.StringArray `db:"events"`
	Token             string         `db:"token"`
	Active            bool           `db:"active"`
	CreatedAt         time.Time      `db:"created_at"`
	FailingSince      *time.Time     `db:"failing_since"`
	DeactivatedReason *string        `db:"deactivated_reason"`
	DeactivatedAt     *time.Time     `db:"deactivated_at"`
}

func (r webhookRow) webhook() Webhook {
	w := Webhook{ID: r.ID, URL: r.URL, CustomName: r.CustomName, Events: make([]events.Kind, len(r.Events)),
		Token: r.Token, Active: r.Active, CreatedAt: r.CreatedAt.UTC(), FailingSince: nullableUTC(r.FailingSince),
		DeactivatedReason: r.DeactivatedReason, DeactivatedAt: nullableUTC(r.DeactivatedAt)}
	for i, e := range r.Events {
		w.Events[i] = events.Kind(e)
	}
	return w
}

func nullableUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func webhookEvents(kinds []events.Kind) pq.StringArray {
	out := make(pq.StringArray, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// Webhook reads one webhook of the company.
func (s *Store) Webhook(ctx context.Context, company dialplan.CompanyID, id WebhookID) (Webhook, error) {
	var r webhookRow
	err := s.db.GetContext(ctx, &r, "SELECT "+webhookColumns+" FROM webhooks WHERE company_id = $1 AND id = $2", company, id)
	if err != nil {
		return Webhook{}, notFound(err, "webhook", int64(id))
	}
	return r.webhook(), nil
}

// Webhooks lists a page of the company's webhooks.
func (s *Store) Webhooks(ctx context.Context, company dialplan.CompanyID, p Page) ([]Webhook, int, error) {
	rows, total, err := listRows[webhookRow](ctx, s.db, "webhooks", webhookColumns, company, p)
	hooks := make([]Webhook, len(rows))
	for i, r := range rows {
		hooks[i] = r.webhook()
	}
	return hooks, total, err
}

// webhookTokenBytes is the token's size: 64 hex digits.
const webhookTokenBytes = 32

// CreateWebhook adds a webhook with a new random token (w.Token is
// replaced), filling in its id and creation time.
func (s *Store) CreateWebhook(ctx context.Context, company dialplan.CompanyID, w *Webhook) error {
	token := make([]byte, webhookTokenBytes)
	rand.Read(token) // never fails (crypto/rand panics rather than return an error)
	w.Token = hex.EncodeToString(token)
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var r webhookRow
		err := tx.GetContext(ctx, &r, `INSERT INTO webhooks (company_id, url, custom_name, events, token, active)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+webhookColumns,
			company, w.URL, w.CustomName, webhookEvents(w.Events), w.Token, w.Active)
		if err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		*w = r.webhook()
		return nil
	})
}

// UpdateWebhook saves a webhook's settings (url, custom_name, events,
// active), leaving its token and its delivery state as the dispatcher
// keeps them, unless reset: then, for an active webhook, the delivery
// state starts afresh (no failures, no backoff, no deactivation). w gets
// the row as saved.
func (s *Store) UpdateWebhook(ctx context.Context, company dialplan.CompanyID, w *Webhook, reset bool) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var r webhookRow
		err := tx.GetContext(ctx, &r, `UPDATE webhooks SET url = $3, custom_name = $4, events = $5, active = $6,
			failures           = CASE WHEN $7 THEN 0 ELSE failures END,
			failing_since      = CASE WHEN $7 THEN NULL ELSE failing_since END,
			retry_at           = CASE WHEN $7 THEN NULL ELSE retry_at END,
			deactivated_reason = CASE WHEN $7 THEN NULL ELSE deactivated_reason END,
			deactivated_at     = CASE WHEN $7 THEN NULL ELSE deactivated_at END
			WHERE company_id = $1 AND id = $2 RETURNING `+webhookColumns,
			company, w.ID, w.URL, w.CustomName, webhookEvents(w.Events), w.Active, reset && w.Active)
		if err != nil {
			return notFound(err, "webhook", int64(w.ID))
		}
		*w = r.webhook()
		return nil
	})
}

// DeleteWebhook removes a webhook and its deliveries, pending or not.
func (s *Store) DeleteWebhook(ctx context.Context, company dialplan.CompanyID, id WebhookID) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM webhooks WHERE company_id = $1 AND id = $2", company, id)
	return oneRow(res, err, "webhook", int64(id))
}
