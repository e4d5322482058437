package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/events"
)

// Integrations: the company's webhooks (/v1/webhooks), admins only, as in
// the API (a webhook's token is in every read of it). Each webhook's
// page shows its last deliveries and redelivers one.

type webhookRow struct {
	ID                int64         `json:"id"`
	CustomName        string        `json:"custom_name"`
	URL               string        `json:"url"`
	Events            []events.Kind `json:"events"`
	Active            bool          `json:"active"`
	Token             string        `json:"token"`
	CreatedAt         time.Time     `json:"created_at"`
	FailingSince      *time.Time    `json:"failing_since"`
	DeactivatedReason *string       `json:"deactivated_reason"`
	DeactivatedAt     *time.Time    `json:"deactivated_at"`
}

type deliveryRow struct {
	DeliveryID     string     `json:"delivery_id"`
	Event          string     `json:"event"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}

// webhookForm is a webhook's form as typed, and the API's words on it.
type webhookForm struct {
	ID        int64
	Name, URL string
	Events    []events.Kind
	Error     string
	Errors    map[string]string
}

// Has says whether the form has kind ticked.
func (f webhookForm) Has(k events.Kind) bool { return slices.Contains(f.Events, k) }

type integrationsPage struct {
	Webhooks []webhookRow
	Kinds    []events.Kind
	Form     webhookForm // the new webhook's
	Total    int
	More     bool
}

func (integrationsPage) title() string { return "integrations.title" }

type webhookPage struct {
	Hook       webhookRow
	Kinds      []events.Kind
	Form       webhookForm
	Deliveries []deliveryRow
	// Error is the API's refusal of an action other than the form's
	// (activate, redeliver), shown at the top of the page.
	Error string
}

func (webhookPage) title() string { return "webhook.title" }

// State is the webhook's state as the list and its page say it (a
// catalogue key), and StateClass its look.
func (h webhookRow) State() string {
	switch {
	case !h.Active:
		return "webhook.inactive"
	case h.FailingSince != nil:
		return "webhook.failing"
	}
	return "webhook.active"
}

func (h webhookRow) StateClass() string {
	if h.State() == "webhook.active" {
		return "ok"
	}
	return "missed"
}

// webhooksShown is how many webhooks the list reads: the API's largest
// page; a company with more is told so (integrations.more).
const webhooksShown = 50

func (s *server) integrations(w http.ResponseWriter, r *http.Request) {
	s.showIntegrations(w, r, http.StatusOK, webhookForm{})
}

func (s *server) showIntegrations(w http.ResponseWriter, r *http.Request, status int, f webhookForm) {
	var list struct {
		Webhooks []webhookRow `json:"webhooks"`
		Meta     pageMeta     `json:"meta"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/webhooks?per_page=%d", webhooksShown), nil, &list); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "integrations", integrationsPage{Webhooks: list.Webhooks, Kinds: events.WebhookKinds(), Form: f,
		Total: list.Meta.Total, More: list.Meta.Total > len(list.Webhooks)})
}

func webhookFormOf(r *http.Request) webhookForm {
	f := webhookForm{Name: strings.TrimSpace(r.PostFormValue("custom_name")), URL: strings.TrimSpace(r.PostFormValue("url"))}
	for _, k := range r.PostForm["events"] {
		f.Events = append(f.Events, events.Kind(k))
	}
	return f
}

func (f webhookForm) body() map[string]any {
	evs := f.Events
	if evs == nil {
		evs = []events.Kind{} // the API says "give at least one event", not "null"
	}
	return map[string]any{"custom_name": f.Name, "url": f.URL, "events": evs}
}

var webhookFields = []string{"custom_name", "url", "events"}

func (s *server) createWebhook(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	f := webhookFormOf(r)
	var created struct{ Webhook webhookRow }
	err := s.callAPI(r.Context(), r, http.MethodPost, "/v1/webhooks", f.body(), &created)
	if errs, msg, status, ok := refusal(err, webhookFields...); ok {
		f.Errors, f.Error = errs, msg
		s.showIntegrations(w, r, status, f)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "webhook.created")})
	s.redirect(w, r, fmt.Sprintf("/integrations/webhooks/%d", created.Webhook.ID))
}

func (s *server) webhook(w http.ResponseWriter, r *http.Request) {
	s.showWebhook(w, r, http.StatusOK, nil, "")
}

// showWebhook renders a webhook's page; f is its form as typed (nil: as
// saved), msg an action's refusal.
func (s *server) showWebhook(w http.ResponseWriter, r *http.Request, status int, f *webhookForm, msg string) {
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var got struct{ Webhook webhookRow }
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/webhooks/%d", id), nil, &got); err != nil {
		s.fail(w, r, err)
		return
	}
	var list struct {
		Deliveries []deliveryRow `json:"deliveries"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/webhooks/%d/deliveries?per_page=50", id), nil, &list); err != nil {
		s.fail(w, r, err)
		return
	}
	h := got.Webhook
	page := webhookPage{Hook: h, Kinds: events.WebhookKinds(), Deliveries: list.Deliveries, Error: msg,
		Form: webhookForm{ID: h.ID, Name: h.CustomName, URL: h.URL, Events: h.Events}}
	if f != nil {
		page.Form = *f
	}
	s.render(w, r, status, "integrations_webhook", page)
}

func (s *server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	f := webhookFormOf(r)
	f.ID = id
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/webhooks/%d", id), f.body(), nil)
	if errs, msg, status, ok := refusal(err, webhookFields...); ok && status != http.StatusNotFound {
		f.Errors, f.Error = errs, msg
		s.showWebhook(w, r, status, &f, "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "webhook.saved")})
	s.redirect(w, r, fmt.Sprintf("/integrations/webhooks/%d", id))
}

// setWebhookActive turns a webhook on or off. On clears its failures and
// backoff (the API's rule), which is how an admin retries at once.
func (s *server) setWebhookActive(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	active := r.PostFormValue("active") == "true"
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/webhooks/%d", id), map[string]any{"active": active}, nil)
	if _, msg, status, ok := refusal(err); ok && status != http.StatusNotFound {
		s.showWebhook(w, r, status, nil, msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := "webhook.deactivated"
	if active {
		key = "webhook.activated"
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, key)})
	s.redirect(w, r, fmt.Sprintf("/integrations/webhooks/%d", id))
}

func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if !s.confirmed(w, r, translate(v.lang, "confirm.webhook", r.PostFormValue("name")), "webhook.delete", fmt.Sprintf("/integrations/webhooks/%d", id)) {
		return
	}
	if err := s.callAPI(r.Context(), r, http.MethodDelete, fmt.Sprintf("/v1/webhooks/%d", id), nil, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "webhook.deleted")})
	s.redirect(w, r, "/integrations")
}

// redeliver queues a delivery again; the API refuses it while the
// webhook is off, in its words, shown on the webhook's page.
func (s *server) redeliver(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	delivery := r.PathValue("delivery")
	err := s.callAPI(r.Context(), r, http.MethodPost,
		fmt.Sprintf("/v1/webhooks/%d/deliveries/%s/redeliver", id, url.PathEscape(delivery)), nil, nil)
	if _, msg, status, ok := refusal(err); ok && status != http.StatusNotFound {
		s.showWebhook(w, r, status, nil, msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "delivery.requeued")})
	s.redirect(w, r, fmt.Sprintf("/integrations/webhooks/%d#deliveries-title", id))
}
