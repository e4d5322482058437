package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchboard/switchboard/events"
)

// defineWebhookSchemas writes the schemas of webhooks and their
// deliveries (webhooks.go).
func (b *openAPIBuilder) defineWebhookSchemas() {
	kinds := events.WebhookKinds()
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	kind := b.enum("An event a webhook may subscribe to.", names...)
	nullableTime := func(desc string) *openapi3.Schema { return b.ro(b.dateTime(desc).WithNullable()) }

	b.define("Webhook", b.object("Where the company's events are posted, as Aircall's webhooks: each event of a kind "+
		"it subscribes to is POSTed to `url` as `{resource, event, timestamp, token, data}`, signed with HMAC-SHA256 "+
		"keyed by `token`. `url` and `events` are required on creation.",
		b.idField("webhook"),
		b.p("webhook_id", b.ro(b.str("The id as Aircall gives it, a string; the webhook's routes take either."))),
		b.linkField("/v1/webhooks/1"),
		b.p("custom_name", b.strMax("A name for the admins; default empty.", maxWebhookName)),
		b.p("url", b.str("Where events are posted: an https URL whose host resolves to public addresses only (the "+
			"server's webhook policy may allow http, or some private networks); no credentials in it.").
			WithMinLength(1).WithMaxLength(maxWebhookURL)),
		b.p("events", b.array("The kinds of event posted, each once.", kind.NewRef()).WithMinItems(1).WithUniqueItems(true)),
		b.p("active", b.boolean("Whether events are posted; default true. Sending `true` clears the delivery state "+
			"(failures, backoff, deactivation): a failing webhook is retried at once.")),
		b.p("token", b.ro(b.str("Sent in every delivery, and the key of its signature: 64 hex digits, made at creation.").
			WithPattern(`^[0-9a-f]{64}$`))),
		b.createdField(),
		b.p("failing_since", nullableTime("Since when every attempt has failed; null while deliveries succeed. "+
			"After 24 hours of failures the webhook is deactivated.")),
		b.p("deactivated_reason", b.ro(b.str("Why the server turned the webhook off (24 hours of failures, "+
			"`410 Gone`); null while it did not.").WithNullable())),
		b.p("deactivated_at", nullableTime("When the server turned the webhook off; null while it did not."))))

	b.define("WebhookDelivery", b.object("One event posted (or to post) to a webhook.",
		b.p("delivery_id", b.ro(b.described(openapi3.NewUUIDSchema(), "The delivery's id, also sent in its request."))),
		b.p("event", b.ro(b.str("The event's kind, such as `call.created`."))),
		b.p("status", b.ro(b.enum("`pending` (not yet delivered; retried with backoff), `delivered` (answered 2xx) "+
			"or `failed` (given up).", "pending", "delivered", "failed"))),
		b.p("attempts", b.ro(b.described(openapi3.NewIntegerSchema().WithMin(0), "Attempts made so far."))),
		b.p("last_status_code", b.ro(b.integer("The HTTP status of the last attempt; null before any, or when no "+
			"answer came.", 100, 599).WithNullable())),
		b.p("last_error", b.ro(b.str("What went wrong at the last attempt; null when nothing did.").WithNullable())),
		b.p("last_attempt_at", nullableTime("When the last attempt was made; null before the first.")),
		b.createdField(),
		b.p("delivered_at", nullableTime("When the receiver accepted it; null until then."))))
}

// webhookOperations are the routes of webhooks.go.
func (b *openAPIBuilder) webhookOperations() []openAPIOperation {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	deny := []int{http.StatusForbidden}
	perPage := openapi3.NewQueryParameter("per_page").WithDescription("How many of the last deliveries to show.").
		WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(maxPerPage).WithDefault(20))
	deliveries := openapi3.NewObjectSchema().WithoutAdditionalProperties().
		WithProperty("deliveries", b.array("The deliveries, newest first.", b.ref("WebhookDelivery"))).
		WithRequired([]string{"deliveries"}).NewRef()
	return []openAPIOperation{
		{method: get, path: "/v1/webhooks", id: "listWebhooks", tag: "webhooks", summary: "List webhooks",
			roles: openAPIAdmins, details: "With their tokens.", list: true, errors: deny,
			status: http.StatusOK, result: b.listed("webhooks", "Webhook"), resultDesc: "A page of webhooks."},
		{method: post, path: "/v1/webhooks", id: "createWebhook", tag: "webhooks", summary: "Create a webhook",
			roles: openAPIAdmins, details: "`url` and `events` are required. A `url` the webhook policy refuses (http, a " +
				"private, loopback or link-local address, a host that does not resolve) is a 422 on `url` saying why; an " +
				"unknown event a 422 on `events[i]`. The answer holds the new random `token`.",
			body: b.ref("Webhook"), errors: deny,
			status: http.StatusCreated, result: b.wrapped("webhook", "Webhook"), resultDesc: "The new webhook."},
		{method: get, path: "/v1/webhooks/{id}", id: "getWebhook", tag: "webhooks", summary: "Get a webhook",
			roles: openAPIAdmins, errors: deny,
			status: http.StatusOK, result: b.wrapped("webhook", "Webhook"), resultDesc: "The webhook."},
		{method: put, path: "/v1/webhooks/{id}", id: "updateWebhook", tag: "webhooks", summary: "Update a webhook",
			roles: openAPIAdmins, details: "Changes the fields sent. `\"active\": true` turns a deactivated webhook back on " +
				"and clears its delivery state (failures, backoff, `failing_since`, `deactivated_reason`, `deactivated_at`); " +
				"`url` is checked again when it changes or the webhook comes back on.",
			body: b.ref("Webhook"), errors: deny,
			status: http.StatusOK, result: b.wrapped("webhook", "Webhook"), resultDesc: "The webhook as saved."},
		{method: del, path: "/v1/webhooks/{id}", id: "deleteWebhook", tag: "webhooks", summary: "Delete a webhook",
			roles: openAPIAdmins, details: "Its pending deliveries are dropped.",
			errors: deny, status: http.StatusNoContent, resultDesc: "Deleted."},
		{method: get, path: "/v1/webhooks/{id}/deliveries", id: "listWebhookDeliveries", tag: "webhooks",
			summary: "List a webhook's last deliveries", roles: openAPIAdmins,
			details: "The last `per_page` events posted or to post to the webhook, newest first; not paged (delivered " +
				"ones are kept a while, then deleted). A `per_page` out of 1 to 50 is a 400, as a list's.",
			query: []*openapi3.Parameter{perPage}, errors: []int{http.StatusForbidden, http.StatusBadRequest},
			status: http.StatusOK, result: deliveries, resultDesc: "The last deliveries."},
		{method: post, path: "/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", id: "redeliver", tag: "webhooks",
			summary: "Deliver an event again", roles: openAPIAdmins,
			details: "No body. Queues the delivery to be posted again, with the same body and `delivery_id`, and lifts the " +
				"webhook's backoff; a delivery still pending stays as it is. 404 for a delivery that is not this webhook's; " +
				"409 while the webhook is not active (turn it back on first).",
			errors: []int{http.StatusForbidden, http.StatusConflict}, status: http.StatusAccepted,
			resultDesc: "Queued; follow it in the list of deliveries."},
	}
}
