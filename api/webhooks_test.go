package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhook"
)

// The dispatcher renders a webhook's data with the API's Renderer.
var _ webhook.Renderer = (*api.Renderer)(nil)

// A public address: the default policy allows it, and checking it
// resolves nothing.
const hookURL = "https://93.184.216.34/switchboard"

func webhookBody(fields map[string]any) map[string]any {
	body := map[string]any{"url": hookURL, "events": []string{"call.created", "user.created"}}
	for k, v := range fields {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	return body
}

// TestWebhooks: create, read, list, change, turn back on and delete a
// webhook; its token is random and shown on every read.
func TestWebhooks(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	ctx := context.Background()

	var created struct{ Webhook map[string]any }
	status, out := e.do(a, "POST", "/v1/webhooks", webhookBody(map[string]any{"custom_name": " CRM "}))
	require.Equal(t, 201, status, "%v", out)
	raw, _ := json.Marshal(out)
	require.NoError(t, json.Unmarshal(raw, &created))
	w := created.Webhook
	id := int64(w["id"].(float64))
	token := w["token"].(string)
	require.Regexp(t, `^[0-9a-f]{64}$`, token)
	require.Equal(t, e.url+fmt.Sprintf("/v1/webhooks/%d", id), w["direct_link"])
	require.Equal(t, "CRM", w["custom_name"], "trimmed")
	require.Equal(t, hookURL, w["url"])
	require.Equal(t, []any{"call.created", "user.created"}, w["events"])
	require.Equal(t, true, w["active"], "active by default")
	for _, f := range []string{"failing_since", "deactivated_reason", "deactivated_at"} {
		require.Contains(t, w, f)
		require.Nil(t, w[f], f)
	}
	_, err := time.Parse(time.RFC3339, w["created_at"].(string))
	require.NoError(t, err)

	var got struct{ Webhook map[string]any }
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d", id), nil, &got)
	require.Equal(t, w, got.Webhook, "a read shows what the creation answered, token included")

	second := e.id(a, "/v1/webhooks", "webhook", webhookBody(map[string]any{"events": []string{"number.deleted"}}))
	var other struct{ Webhook map[string]any }
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d", second), nil, &other)
	require.NotEqual(t, token, other.Webhook["token"], "each webhook has its own token")

	var listed struct {
		Webhooks []map[string]any
		Meta     map[string]any
	}
	e.ok(a, "GET", "/v1/webhooks?order=desc", nil, &listed)
	require.Len(t, listed.Webhooks, 2)
	require.EqualValues(t, second, listed.Webhooks[0]["id"])
	require.Equal(t, token, listed.Webhooks[1]["token"])
	require.EqualValues(t, 2, listed.Meta["total"])

	// PUT changes the fields sent; what was read may be sent back.
	var updated struct{ Webhook map[string]any }
	e.ok(a, "PUT", fmt.Sprintf("/v1/webhooks/%d", id), map[string]any{"events": []string{"call.ended"}, "active": false}, &updated)
	require.Equal(t, []any{"call.ended"}, updated.Webhook["events"])
	require.Equal(t, false, updated.Webhook["active"])
	require.Equal(t, "CRM", updated.Webhook["custom_name"])
	require.Equal(t, token, updated.Webhook["token"], "the token stays")
	e.ok(a, "PUT", fmt.Sprintf("/v1/webhooks/%d", id), updated.Webhook, &updated)
	require.Equal(t, false, updated.Webhook["active"])

	// The dispatcher gave up on it; sending active: true turns it back on
	// and clears the delivery state.
	failing := now.Add(-25 * time.Hour)
	_, err = e.db.ExecContext(ctx, `UPDATE webhooks SET active = false, failures = 12, failing_since = $2,
		retry_at = $3, deactivated_reason = 'failed for 24 hours', deactivated_at = $4 WHERE id = $1`,
		id, failing, now.Add(time.Hour), now.Add(-time.Hour))
	require.NoError(t, err)
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d", id), nil, &got)
	require.Equal(t, "failed for 24 hours", got.Webhook["deactivated_reason"])
	require.Equal(t, failing.UTC().Format(time.RFC3339), got.Webhook["failing_since"])
	require.Equal(t, now.Add(-time.Hour).UTC().Format(time.RFC3339), got.Webhook["deactivated_at"])

	e.ok(a, "PUT", fmt.Sprintf("/v1/webhooks/%d", id), map[string]any{"custom_name": "renamed"}, &updated)
	require.Equal(t, "failed for 24 hours", updated.Webhook["deactivated_reason"], "other changes keep the delivery state")

	e.ok(a, "PUT", fmt.Sprintf("/v1/webhooks/%d", id), map[string]any{"active": true}, &updated)
	require.Equal(t, true, updated.Webhook["active"])
	for _, f := range []string{"failing_since", "deactivated_reason", "deactivated_at"} {
		require.Nil(t, updated.Webhook[f], f)
	}
	var state struct {
		Failures int        `db:"failures"`
		RetryAt  *time.Time `db:"retry_at"`
	}
	require.NoError(t, e.db.GetContext(ctx, &state, "SELECT failures, retry_at FROM webhooks WHERE id = $1", id))
	require.Zero(t, state.Failures)
	require.Nil(t, state.RetryAt, "no backoff left")

	e.ok(a, "DELETE", fmt.Sprintf("/v1/webhooks/%d", id), nil, nil)
	status, _ = e.do(a, "GET", fmt.Sprintf("/v1/webhooks/%d", id), nil)
	require.Equal(t, 404, status)
	status, _ = e.do(a, "DELETE", fmt.Sprintf("/v1/webhooks/%d", id), nil)
	require.Equal(t, 404, status)
}

// TestWebhookPolicy: the url is checked with the policy the server is
// given; the operator may allow http and a private network.
func TestWebhookPolicy(t *testing.T) {
	local := "http://127.0.0.1:8089/hook"
	strict := newEnv(t)
	a := strict.company("Acme", "owner@acme.test")
	status, out := strict.do(a, "POST", "/v1/webhooks", webhookBody(map[string]any{"url": local}))
	require.Equal(t, 422, status, "%v", out)
	require.Equal(t, "invalid url", out["error"])
	require.Contains(t, out["troubleshoot"], "http is not allowed")

	lenient := newEnvWith(t, func(d *api.Deps) {
		d.WebhookPolicy = webhook.Policy{AllowHTTP: true, AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	})
	b := lenient.company("Acme", "owner@acme.test")
	id := lenient.id(b, "/v1/webhooks", "webhook", webhookBody(map[string]any{"url": local}))
	status, out = lenient.do(b, "PUT", fmt.Sprintf("/v1/webhooks/%d", id), map[string]any{"url": "http://10.1.2.3/hook"})
	require.Equal(t, 422, status, "%v", out)
	require.Contains(t, out["troubleshoot"], "private address")
}

// TestWebhookBadInput: every bad webhook is refused with the field named,
// and nothing is written.
func TestWebhookBadInput(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	id := e.id(a, "/v1/webhooks", "webhook", webhookBody(nil))
	hook := fmt.Sprintf("/v1/webhooks/%d", id)
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string // the error names it
	}{
		{"malformed JSON", "POST", "/v1/webhooks", `{"url":`, 400, "JSON"},
		{"not an object", "POST", "/v1/webhooks", `["https://x"]`, 400, "JSON"},
		{"unknown field", "POST", "/v1/webhooks", webhookBody(map[string]any{"secret": "x"}), 422, "secret"},
		{"no url", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": nil}), 422, "url"},
		{"blank url", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "  "}), 422, "url"},
		{"url not a string", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": 42}), 422, "url"},
		{"http", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "http://93.184.216.34/hook"}), 422, "http is not allowed"},
		{"ftp", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "ftp://93.184.216.34/hook"}), 422, "https"},
		{"relative", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "/hook"}), 422, "url"},
		{"loopback", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "https://127.0.0.1/hook"}), 422, "loopback"},
		{"private", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "https://192.168.1.10/hook"}), 422, "private"},
		{"cloud metadata", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "https://169.254.169.254/latest"}), 422, "link-local"},
		{"IPv6 loopback", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "https://[::1]/hook"}), 422, "loopback"},
		{"credentials", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": "https://me:pw@93.184.216.34/hook"}), 422, "credentials"},
		{"url too long", "POST", "/v1/webhooks", webhookBody(map[string]any{"url": hookURL + "/" + strings.Repeat("a", 2048)}), 422, "url"},
		{"long custom name", "POST", "/v1/webhooks", webhookBody(map[string]any{"custom_name": strings.Repeat("é", 65)}), 422, "custom_name"},
		{"no events", "POST", "/v1/webhooks", webhookBody(map[string]any{"events": nil}), 422, "events"},
		{"empty events", "POST", "/v1/webhooks", webhookBody(map[string]any{"events": []string{}}), 422, "events"},
		{"unknown event", "POST", "/v1/webhooks", webhookBody(map[string]any{"events": []string{"call.created", "call.teleported"}}), 422, "events[1]"},
		{"event no webhook gets", "POST", "/v1/webhooks", webhookBody(map[string]any{"events": []string{"call.queued"}}), 422, "events[0]"},
		{"event twice", "POST", "/v1/webhooks", webhookBody(map[string]any{"events": []string{"call.ended", "user.opened", "call.ended"}}), 422, "events[2]"},
		{"events not a list", "POST", "/v1/webhooks", webhookBody(map[string]any{"events": "call.created"}), 422, "events"},
		{"active not a bool", "POST", "/v1/webhooks", webhookBody(map[string]any{"active": "yes"}), 422, "active"},
		{"update to a private url", "PUT", hook, map[string]any{"url": "https://10.0.0.7/hook"}, 422, "private"},
		{"update to no events", "PUT", hook, map[string]any{"events": []string{}}, 422, "events"},
		{"update to an unknown event", "PUT", hook, map[string]any{"events": []string{"user.created", "user.exploded"}}, 422, "events[1]"},
		{"update to a blank url", "PUT", hook, map[string]any{"url": ""}, 422, "url"},
		{"update an unknown field", "PUT", hook, map[string]any{"headers": map[string]string{"X": "y"}}, 422, "headers"},
		{"id not a number", "GET", "/v1/webhooks/abc", nil, 404, "abc"},
		{"unknown webhook", "PUT", "/v1/webhooks/987654", map[string]any{"active": true}, 404, "webhook 987654"},
		{"deliveries of an unknown webhook", "GET", "/v1/webhooks/987654/deliveries", nil, 404, "webhook 987654"},
		{"deliveries per_page 51", "GET", hook + "/deliveries?per_page=51", nil, 400, "per_page"},
		{"deliveries per_page 0", "GET", hook + "/deliveries?per_page=0", nil, 400, "per_page"},
		{"delivery id not a UUID", "POST", hook + "/deliveries/42/redeliver", nil, 404, "42"},
		{"unknown delivery", "POST", hook + "/deliveries/0b4fd1d4-5c52-4a4e-9d0a-2f1e6c1b7a55/redeliver", nil, 404, "0b4fd1d4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			status, out := e.do(a, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, status, "answer: %v", out)
			require.NotEmpty(t, out["error"], "answer: %v", out)
			require.Contains(t, fmt.Sprint(out["error"], " ", out["troubleshoot"], " ", out["detail"]), tc.field, "the error names what is wrong")
			require.Equal(t, before, e.snapshot(), "a failed request wrote nothing")
		})
	}
}

// TestWebhookRoles: only admins manage webhooks (they show the token).
func TestWebhookRoles(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	hook := fmt.Sprintf("/v1/webhooks/%d", e.id(f.a, "/v1/webhooks", "webhook", webhookBody(nil)))
	keys := map[string]key{
		"owner":       f.a,
		"admin":       e.userKey(f.a, "admin@acme.test", dialplan.RoleAdmin, false),
		"supervisor":  e.userKey(f.a, "sup@acme.test", dialplan.RoleSupervisor, false),
		"agent":       f.agent,
		"agent-owner": e.userKey(f.a, "boss@acme.test", dialplan.RoleAgent, true),
	}
	delivery := latestDelivery(t, e, hook)
	// want: the status per role, in the order owner, admin, supervisor, agent, agent-owner.
	cases := []struct {
		method, path string
		body         any
		want         [5]int
	}{
		{"GET", "/v1/webhooks", nil, [5]int{200, 200, 403, 403, 403}},
		{"POST", "/v1/webhooks", webhookBody(nil), [5]int{201, 201, 403, 403, 403}},
		{"GET", hook, nil, [5]int{200, 200, 403, 403, 403}},
		{"PUT", hook, map[string]any{"custom_name": "CRM"}, [5]int{200, 200, 403, 403, 403}},
		{"GET", hook + "/deliveries", nil, [5]int{200, 200, 403, 403, 403}},
		{"POST", hook + "/deliveries/" + delivery + "/redeliver", nil, [5]int{202, 202, 403, 403, 403}},
		{"DELETE", "/v1/webhooks/987654", nil, [5]int{404, 404, 403, 403, 403}},
	}
	roles := []string{"owner", "admin", "supervisor", "agent", "agent-owner"}
	for _, tc := range cases {
		for i, role := range roles {
			t.Run(fmt.Sprintf("%s %s as %s", tc.method, tc.path, role), func(t *testing.T) {
				status, out := e.do(keys[role], tc.method, tc.path, tc.body)
				require.Equal(t, tc.want[i], status, "%v", out)
				if status == 403 {
					require.Equal(t, "forbidden", out["error"])
				}
			})
		}
	}
	status, _ := e.do(keys["admin"], "DELETE", hook, nil)
	require.Equal(t, 204, status)
}

// latestDelivery gives the webhook at path (subscribed to user.created) a
// delivery, by creating a user of its company, and returns its id.
func latestDelivery(t *testing.T, e *env, path string) string {
	t.Helper()
	ctx := context.Background()
	var company dialplan.CompanyID
	require.NoError(t, e.db.Get(&company, "SELECT company_id FROM webhooks WHERE id = $1", pathTail(path)))
	c, err := e.store.Company(ctx, company)
	require.NoError(t, err)
	var n int
	require.NoError(t, e.db.Get(&n, "SELECT count(*) FROM users"))
	u := dialplan.User{FirstName: "Hooked", Email: fmt.Sprintf("hooked%d@acme.test", n)}
	require.NoError(t, u.Normalize(c))
	require.NoError(t, e.store.CreateUser(ctx, company, &u))
	var id string
	require.NoError(t, e.db.Get(&id, "SELECT delivery_id FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT 1",
		pathTail(path)))
	return id
}

func pathTail(path string) string { return path[strings.LastIndex(path, "/")+1:] }

// TestWebhookDeliveries: the events a webhook subscribes to are queued for
// it, listed newest first, and may be delivered again.
func TestWebhookDeliveries(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	users := e.id(a, "/v1/webhooks", "webhook", webhookBody(map[string]any{"events": []string{"user.created", "user.deleted"}}))
	numbers := e.id(a, "/v1/webhooks", "webhook", webhookBody(map[string]any{"events": []string{"number.created"}}))
	off := e.id(a, "/v1/webhooks", "webhook", webhookBody(map[string]any{"events": []string{"user.created"}, "active": false}))

	alice := e.id(a, "/v1/users", "user", map[string]any{"first_name": "Alice", "email": "alice@acme.test"})
	e.ok(a, "DELETE", fmt.Sprintf("/v1/users/%d", alice), nil, nil)

	var got struct{ Deliveries []map[string]any }
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", users), nil, &got)
	require.Len(t, got.Deliveries, 2)
	require.Equal(t, "user.deleted", got.Deliveries[0]["event"], "newest first")
	require.Equal(t, "user.created", got.Deliveries[1]["event"])
	d := got.Deliveries[0]
	require.Regexp(t, `^[0-9a-f-]{36}$`, d["delivery_id"])
	require.Equal(t, "pending", d["status"])
	require.EqualValues(t, 0, d["attempts"])
	for _, f := range []string{"last_status_code", "last_error", "last_attempt_at", "delivered_at"} {
		require.Contains(t, d, f)
		require.Nil(t, d[f], f)
	}
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries?per_page=1", users), nil, &got)
	require.Len(t, got.Deliveries, 1)
	require.Equal(t, "user.deleted", got.Deliveries[0]["event"])

	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", numbers), nil, &got)
	require.Empty(t, got.Deliveries, "not subscribed to user events")
	require.NotNil(t, got.Deliveries, "an empty list, not null")
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", off), nil, &got)
	require.Empty(t, got.Deliveries, "an inactive webhook gets nothing")

	// A delivered event is queued again.
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", users), nil, &got)
	id := got.Deliveries[1]["delivery_id"].(string)
	_, err := e.db.Exec(`UPDATE webhook_deliveries SET status = 'delivered', attempts = 1, last_status_code = 200,
		last_attempt_at = now(), delivered_at = now() WHERE delivery_id = $1`, id)
	require.NoError(t, err)
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", users), nil, &got)
	require.Equal(t, "delivered", got.Deliveries[1]["status"])
	require.EqualValues(t, 200, got.Deliveries[1]["last_status_code"])
	require.NotNil(t, got.Deliveries[1]["delivered_at"])
	status, out := e.do(a, "POST", fmt.Sprintf("/v1/webhooks/%d/deliveries/%s/redeliver", users, strings.ToUpper(id)), nil)
	require.Equal(t, 202, status, "%v", out)
	e.ok(a, "GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", users), nil, &got)
	require.Equal(t, "pending", got.Deliveries[1]["status"])
	require.Nil(t, got.Deliveries[1]["delivered_at"])

	// Another webhook's delivery is not this one's; an inactive webhook
	// sends nothing until turned back on.
	status, _ = e.do(a, "POST", fmt.Sprintf("/v1/webhooks/%d/deliveries/%s/redeliver", numbers, id), nil)
	require.Equal(t, 404, status)
	e.ok(a, "PUT", fmt.Sprintf("/v1/webhooks/%d", users), map[string]any{"active": false}, nil)
	status, out = e.do(a, "POST", fmt.Sprintf("/v1/webhooks/%d/deliveries/%s/redeliver", users, id), nil)
	require.Equal(t, 409, status, "%v", out)
}

// TestWebhookIsolation: another company's webhooks and deliveries are
// 404 whatever the verb, and left as they were.
func TestWebhookIsolation(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	hook := fmt.Sprintf("/v1/webhooks/%d", e.id(f.a, "/v1/webhooks", "webhook", webhookBody(nil)))
	delivery := latestDelivery(t, e, hook)
	theirs := e.url + fmt.Sprintf("/v1/webhooks/%d", e.id(f.b, "/v1/webhooks", "webhook", webhookBody(nil)))

	before := e.snapshot()
	for _, r := range []struct{ method, path string }{
		{"GET", hook}, {"PUT", hook}, {"DELETE", hook},
		{"GET", hook + "/deliveries"},
		{"POST", hook + "/deliveries/" + delivery + "/redeliver"},
		// B's own webhook, A's delivery.
		{"POST", theirs + "/deliveries/" + delivery + "/redeliver"},
	} {
		status, out := e.do(f.b, r.method, r.path, map[string]any{"active": true})
		if r.method == "GET" || r.method == "DELETE" || strings.HasSuffix(r.path, "redeliver") {
			status, out = e.do(f.b, r.method, r.path, nil)
		}
		require.Equal(t, 404, status, "%s %s: %v", r.method, r.path, out)
	}
	require.Equal(t, before, e.snapshot())

	var listed struct{ Webhooks []map[string]any }
	e.ok(f.b, "GET", "/v1/webhooks", nil, &listed)
	require.Len(t, listed.Webhooks, 1, "B sees its own webhook only")
	require.Equal(t, theirs, listed.Webhooks[0]["direct_link"])
}

// TestRendererShowsWhatGetShows: the object a webhook carries is the one
// the GET of it answers (a call without its timeline).
func TestRendererShowsWhatGetShows(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	r := api.NewRenderer(e.deps)
	ctx := context.Background()
	e.ok(f.a, "PUT", fmt.Sprintf("/v1/users/%d/availability", f.userA), map[string]any{"availability_status": "unavailable",
		"unavailable_reason": "lunch"}, nil)
	t0 := now.Add(-time.Hour)
	ended := t0.Add(time.Minute)
	c := f.call(t0, func(c *dialplan.Call) {
		c.Status, c.EndedAt, c.MissedReason = dialplan.CallDone, &ended, dialplan.NoAvailableAgent
		c.Teams = []dialplan.TeamID{dialplan.TeamID(f.teamA)}
	})
	call := e.saveCall(&c, dialplan.TimelineEvent{Event: events.CallCreated, At: t0},
		dialplan.TimelineEvent{Event: events.CallEnded, At: ended})

	for _, tc := range []struct {
		resource events.Resource
		id       int64
		path     string
	}{
		{events.ResourceUser, f.userA, fmt.Sprintf("/v1/users/%d", f.userA)},
		{events.ResourceNumber, f.numberA, fmt.Sprintf("/v1/numbers/%d", f.numberA)},
		{events.ResourceCall, int64(call), fmt.Sprintf("/v1/calls/%d", call)},
	} {
		t.Run(string(tc.resource), func(t *testing.T) {
			status, body := e.do(f.a, "GET", tc.path, nil)
			require.Equal(t, 200, status)
			want := body[string(tc.resource)].(map[string]any)
			if tc.resource == events.ResourceCall {
				require.Contains(t, want, "timeline")
				delete(want, "timeline") // Aircall's webhooks carry none
				delete(want, "ivr_options_selected")
			}
			rendered, err := r.Render(ctx, f.a.company, tc.resource, tc.id)
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal(rendered, &got))
			require.Equal(t, want, got)

			_, err = r.Render(ctx, f.b.company, tc.resource, tc.id)
			require.ErrorIs(t, err, store.ErrNotFound, "another company's")
			_, err = r.Render(ctx, f.a.company, tc.resource, 987654)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
	var user map[string]any
	rendered, err := r.Render(ctx, f.a.company, events.ResourceUser, f.userA)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rendered, &user))
	require.Equal(t, "do_not_disturb", user["availability"], "the live availability, from the ACD")
	require.Equal(t, false, user["available"])
}

// TestRendererInParallel: calls rendered at once (read together) each
// come out as their own, and another company's stays not found among them.
func TestRendererInParallel(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	r := api.NewRenderer(e.deps)
	ctx := context.Background()
	var calls []dialplan.CallID
	for i := range 40 {
		c := f.call(now.Add(-time.Duration(i)*time.Minute), nil)
		calls = append(calls, e.saveCall(&c, dialplan.TimelineEvent{Event: events.CallCreated, At: c.StartedAt}))
	}
	var wg sync.WaitGroup
	for _, id := range calls {
		wg.Go(func() {
			rendered, err := r.Render(ctx, f.a.company, events.ResourceCall, int64(id))
			if !assert.NoError(t, err) {
				return
			}
			var got struct{ ID dialplan.CallID }
			assert.NoError(t, json.Unmarshal(rendered, &got))
			assert.Equal(t, id, got.ID)
		})
		wg.Go(func() {
			_, err := r.Render(ctx, f.b.company, events.ResourceCall, int64(id))
			assert.ErrorIs(t, err, store.ErrNotFound, "another company's")
		})
	}
	wg.Wait()
}

// TestConfigurationEvents: creating and deleting users and numbers writes
// their events with the write; a deleted one's event carries it as it was
// shown; a refused write writes none.
func TestConfigurationEvents(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	type event struct {
		Kind   string          `db:"event"`
		User   *int64          `db:"user_id"`
		Number *int64          `db:"number_id"`
		Data   json.RawMessage `db:"data"`
	}
	last := func() event {
		t.Helper()
		var ev event
		require.NoError(t, e.db.Get(&ev, `SELECT event, user_id, number_id, data FROM events
			WHERE company_id = $1 ORDER BY id DESC LIMIT 1`, f.a.company))
		return ev
	}

	bob := e.id(f.a, "/v1/users", "user", map[string]any{"first_name": "Bob", "email": "bob@acme.test"})
	ev := last()
	require.Equal(t, "user.created", ev.Kind)
	require.Equal(t, bob, *ev.User)

	var shown map[string]map[string]any
	e.ok(f.a, "GET", fmt.Sprintf("/v1/users/%d", bob), nil, &shown)
	e.ok(f.a, "DELETE", fmt.Sprintf("/v1/users/%d", bob), nil, nil)
	ev = last()
	require.Equal(t, "user.deleted", ev.Kind)
	require.Equal(t, bob, *ev.User)
	var snapshot struct{ Object map[string]any }
	require.NoError(t, json.Unmarshal(ev.Data, &snapshot))
	require.Equal(t, shown["user"], snapshot.Object, "the user as GET showed them just before")

	number := e.id(f.a, "/v1/numbers", "number", map[string]any{"name": "Support", "digits": "+33176390870"})
	ev = last()
	require.Equal(t, "number.created", ev.Kind)
	require.Equal(t, number, *ev.Number)
	shown = nil
	e.ok(f.a, "GET", fmt.Sprintf("/v1/numbers/%d", number), nil, &shown)
	e.ok(f.a, "DELETE", fmt.Sprintf("/v1/numbers/%d", number), nil, nil)
	ev = last()
	require.Equal(t, "number.deleted", ev.Kind)
	require.Equal(t, number, *ev.Number)
	var numberSnapshot struct{ Object map[string]any }
	require.NoError(t, json.Unmarshal(ev.Data, &numberSnapshot))
	require.Equal(t, shown["number"], numberSnapshot.Object)

	before := e.snapshot()
	for _, r := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/v1/users", map[string]any{"first_name": "A", "email": "alice@acme.test"}, 409},
		{"POST", "/v1/numbers", map[string]any{"name": "Dup", "digits": "+33176390861"}, 409},
		{"DELETE", fmt.Sprintf("/v1/users/%d", f.userB), nil, 404},
		{"DELETE", fmt.Sprintf("/v1/numbers/%d", f.numberB), nil, 404},
		{"DELETE", fmt.Sprintf("/v1/users/%d", f.a.user), nil, 409},
	} {
		status, out := e.do(f.a, r.method, r.path, r.body)
		require.Equal(t, r.status, status, "%s %s: %v", r.method, r.path, out)
	}
	require.Equal(t, before, e.snapshot(), "no event of a refused write")
}
