package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// Webhooks, shaped as Aircall's: a url, the events it subscribes to, a
// token (shown on every read: the receiver checks signatures with it), and
// the state of its deliveries, which the dispatcher (package webhook)
// keeps. Admins only.

// Bounds of a webhook's fields.
const (
	maxWebhookURL  = 2048 // bytes
	maxWebhookName = 64   // characters
)

// urlCheckTimeout bounds the resolution of a webhook's host when it is
// saved: a name that does not resolve by then is refused (422 on url).
const urlCheckTimeout = 5 * time.Second

type webhookJSON struct {
	ID store.WebhookID `json:"id"`
	// WebhookID is Aircall's name of the id, a string: the path of the
	// webhook's routes takes either.
	WebhookID         string        `json:"webhook_id"`
	DirectLink        string        `json:"direct_link"`
	CustomName        string        `json:"custom_name"`
	URL               string        `json:"url"`
	Events            []events.Kind `json:"events"`
	Active            bool          `json:"active"`
	Token             string        `json:"token"`
	CreatedAt         stamp         `json:"created_at"`
	FailingSince      *time.Time    `json:"failing_since"`
	DeactivatedReason *string       `json:"deactivated_reason"`
	DeactivatedAt     *time.Time    `json:"deactivated_at"`
}

func newWebhookJSON(s site, w store.Webhook) webhookJSON {
	out := webhookJSON{ID: w.ID, WebhookID: strconv.FormatInt(int64(w.ID), 10), DirectLink: s.link("/v1/webhooks/%d", w.ID), CustomName: w.CustomName,
		URL: w.URL, Events: w.Events, Active: w.Active, Token: w.Token, CreatedAt: stamp(w.CreatedAt),
		FailingSince: w.FailingSince, DeactivatedReason: w.DeactivatedReason, DeactivatedAt: w.DeactivatedAt}
	if out.Events == nil {
		out.Events = []events.Kind{}
	}
	return out
}

// webhookInput is a webhook as a client sends it: only the fields sent
// change. What the server keeps (id, token, times, delivery state) may be
// sent back as read, and is ignored.
type webhookInput struct {
	CustomName *string        `json:"custom_name"`
	URL        *string        `json:"url"`
	Events     *[]events.Kind `json:"events"`
	Active     *bool          `json:"active"`
	readOnly
	ID                json.RawMessage `json:"id,omitempty"`
	WebhookID         json.RawMessage `json:"webhook_id,omitempty"`
	Token             json.RawMessage `json:"token,omitempty"`
	CreatedAt         json.RawMessage `json:"created_at,omitempty"`
	FailingSince      json.RawMessage `json:"failing_since,omitempty"`
	DeactivatedReason json.RawMessage `json:"deactivated_reason,omitempty"`
	DeactivatedAt     json.RawMessage `json:"deactivated_at,omitempty"`
}

// apply copies the fields sent onto w.
func (in webhookInput) apply(w *store.Webhook) {
	if in.CustomName != nil {
		w.CustomName = *in.CustomName
	}
	if in.URL != nil {
		w.URL = *in.URL
	}
	if in.Events != nil {
		w.Events = *in.Events
	}
	if in.Active != nil {
		w.Active = *in.Active
	}
}

// checkWebhook normalises and validates w's fields; the url is checked
// with the webhook policy (which resolves its host) when checkURL.
func (s *server) checkWebhook(ctx context.Context, w *store.Webhook, checkURL bool) error {
	w.URL = strings.TrimSpace(w.URL)
	w.CustomName = strings.TrimSpace(w.CustomName)
	switch {
	case w.URL == "":
		return &dialplan.FieldError{Field: "url", Problem: "is required: the https URL events are posted to"}
	case len(w.URL) > maxWebhookURL:
		return &dialplan.FieldError{Field: "url", Problem: fmt.Sprintf("longer than %d bytes", maxWebhookURL)}
	case utf8.RuneCountInString(w.CustomName) > maxWebhookName:
		return &dialplan.FieldError{Field: "custom_name", Problem: fmt.Sprintf("longer than %d characters", maxWebhookName)}
	case len(w.Events) == 0:
		return &dialplan.FieldError{Field: "events", Problem: "give at least one event, among " + webhookKindList()}
	}
	seen := make(map[events.Kind]bool, len(w.Events))
	for i, k := range w.Events {
		field := fmt.Sprintf("events[%d]", i)
		switch {
		case !k.Webhook():
			return &dialplan.FieldError{Field: field, Problem: fmt.Sprintf("%q is not an event a webhook can subscribe to; "+
				"they are %s", k, webhookKindList())}
		case seen[k]:
			return &dialplan.FieldError{Field: field, Problem: fmt.Sprintf("%q is listed twice", k)}
		}
		seen[k] = true
	}
	if checkURL {
		ctx, cancel := context.WithTimeout(ctx, urlCheckTimeout)
		defer cancel()
		if err := s.WebhookPolicy.CheckURL(ctx, w.URL); err != nil {
			return &dialplan.FieldError{Field: "url", Problem: err.Error()}
		}
	}
	return nil
}

func webhookKindList() string {
	kinds := events.WebhookKinds()
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = string(k)
	}
	return strings.Join(words, ", ")
}

func (s *server) listWebhooks(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	hooks, total, err := s.Store.Webhooks(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]webhookJSON, len(hooks))
	for i, w := range hooks {
		out[i] = newWebhookJSON(s.site(), w)
	}
	list(c, s.site(), "webhooks", out, total, p)
}

func (s *server) createWebhook(c *gin.Context) {
	var in webhookInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	w := store.Webhook{Active: true}
	in.apply(&w)
	if err := s.checkWebhook(c.Request.Context(), &w, true); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.CreateWebhook(c.Request.Context(), principal(c).Company, &w); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusCreated, gin.H{"webhook": newWebhookJSON(s.site(), w)})
}

// webhook reads the webhook named in the path.
func (s *server) webhook(c *gin.Context) (store.Webhook, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return store.Webhook{}, err
	}
	return s.Store.Webhook(c.Request.Context(), principal(c).Company, store.WebhookID(id))
}

func (s *server) getWebhook(c *gin.Context) {
	w, err := s.webhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"webhook": newWebhookJSON(s.site(), w)})
}

// updateWebhook changes the fields sent. Sending "active": true (to turn
// a deactivated webhook back on, or to retry a failing one at once)
// clears its delivery state: failures, backoff, deactivation.
func (s *server) updateWebhook(c *gin.Context) {
	w, err := s.webhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	orig := w
	var in webhookInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	in.apply(&w)
	reset := in.Active != nil && *in.Active
	// The url is checked again when it changes, or when a webhook comes
	// back on (the policy may have changed meanwhile).
	checkURL := strings.TrimSpace(w.URL) != orig.URL || (reset && !orig.Active)
	if err := s.checkWebhook(c.Request.Context(), &w, checkURL); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.UpdateWebhook(c.Request.Context(), principal(c).Company, &w, reset); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"webhook": newWebhookJSON(s.site(), w)})
}

func (s *server) deleteWebhook(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteWebhook(c.Request.Context(), principal(c).Company, store.WebhookID(id)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deliveryJSON is one delivery of an event to a webhook (a row of the
// outbox).
type deliveryJSON struct {
	DeliveryID     store.DeliveryID     `json:"delivery_id"`
	Event          events.Kind          `json:"event"`
	Status         store.DeliveryStatus `json:"status"`
	Attempts       int                  `json:"attempts"`
	LastStatusCode *int                 `json:"last_status_code"`
	LastError      *string              `json:"last_error"`
	LastAttemptAt  *time.Time           `json:"last_attempt_at"`
	CreatedAt      stamp                `json:"created_at"`
	DeliveredAt    *time.Time           `json:"delivered_at"`
}

func newDeliveryJSON(d store.Delivery) deliveryJSON {
	return deliveryJSON{DeliveryID: d.DeliveryID, Event: d.Event, Status: d.Status, Attempts: d.Attempts,
		LastStatusCode: orNull(d.LastStatusCode), LastError: orNull(d.LastError), LastAttemptAt: d.LastAttemptAt,
		CreatedAt: stamp(d.CreatedAt), DeliveredAt: d.DeliveredAt}
}

// listWebhookDeliveries shows the webhook's last deliveries, newest
// first: per_page of them (default 20, at most 50), not paged.
func (s *server) listWebhookDeliveries(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	limit := 20
	if raw := c.Query("per_page"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPerPage {
			s.fail(c, &apiError{http.StatusBadRequest, "invalid per_page", fmt.Sprintf("per_page %q must be a whole number from 1 to %d", raw, maxPerPage)})
			return
		}
		limit = n
	}
	found, err := s.Store.WebhookDeliveries(c.Request.Context(), principal(c).Company, store.WebhookID(id), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]deliveryJSON, len(found))
	for i, d := range found {
		out[i] = newDeliveryJSON(d)
	}
	c.PureJSON(http.StatusOK, gin.H{"deliveries": out})
}

// deliveryID is the form of a delivery's id: a UUID.
var deliveryID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// redeliver queues a delivery again, with the same body and delivery
// id, and lifts the webhook's backoff; the webhook must be active (409).
func (s *server) redeliver(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	delivery := strings.ToLower(c.Param("delivery_id"))
	if !deliveryID.MatchString(delivery) {
		s.fail(c, &apiError{http.StatusNotFound, "not found", fmt.Sprintf("%q is not a delivery id (a UUID)", c.Param("delivery_id"))})
		return
	}
	err = s.Store.Redeliver(c.Request.Context(), principal(c).Company, store.WebhookID(id), store.DeliveryID(delivery))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusAccepted)
}
