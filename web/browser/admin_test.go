package browser

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/webhook"
)

// receiver is a webhook's receiver: it answers 410 Gone to the first
// delivery (which deactivates the webhook and fails the delivery for
// good), 200 to the next, and keeps what it got.
type receiver struct {
	mu  sync.Mutex
	got []received
	ch  chan received
}

type received struct {
	delivery string
	body     string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	got := received{r.Header.Get(webhook.HeaderDelivery), string(body)}
	rc.mu.Lock()
	rc.got = append(rc.got, got)
	first := len(rc.got) == 1
	rc.mu.Unlock()
	if first {
		w.WriteHeader(http.StatusGone)
	}
	rc.ch <- got
}

// waitFor reloads url until main says text: the dispatcher records an
// attempt after the receiver answered it.
func (b *browser) waitFor(url, text string) {
	b.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		b.open(url)
		if strings.Contains(b.text("main"), text) {
			return
		}
		require.True(b.t, time.Now().Before(deadline), "%s never said %q: %s", url, text, b.text("main"))
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAdminPages walks the admin's pages: tags and blocked numbers (a
// wrong number refused in the API's words), a webhook to a receiver of
// the test that fails its first delivery, which is redelivered once the
// webhook is on again; a company setting; an API key made and revoked.
func TestAdminPages(t *testing.T) {
	rc := &receiver{ch: make(chan received, 10)}
	hooks := httptest.NewServer(rc)
	t.Cleanup(hooks.Close)
	a, b := signedIn(t, "SWITCHBOARD_WEBHOOK_ALLOW_HTTP=true", "SWITCHBOARD_WEBHOOK_ALLOW_NETS=127.0.0.0/8")

	// Tags & blocked numbers.
	b.click(`nav a[href="/tags"]`)
	require.Contains(t, b.text("main"), "Callback Request")
	b.check("tags")
	eval[bool](b, `(document.querySelector("#f-color").value = "#1f6feb", true)`)
	b.fill(map[string]string{"#f-name": "Billing", "#f-description": "Invoices and refunds"}, `form[action="/tags"] button`)
	require.Contains(t, b.text("#flash"), "Tag Billing created.")
	require.Contains(t, b.text("main table"), "Invoices and refunds")
	b.fill(map[string]string{"#f-digits": "12", "#f-note": "spam"}, `form[action="/tags/blocked"] button`)
	require.Contains(t, b.text("#f-digits-error"), "12")
	b.check("tags-invalid")
	b.fill(map[string]string{"#f-digits": "+33 6 12 34 56 78"}, `form[action="/tags/blocked"] button`)
	require.Contains(t, b.text("#flash"), "+33612345678 is blocked.")
	require.Contains(t, b.text("main"), "+33612345678")
	b.click(`a[aria-label="Edit the tag Billing"]`)
	b.check("tag-edit")
	b.fill(map[string]string{"#f-name": "Billing EU"}, `main form button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Tag Billing EU saved.")

	// A webhook on user.created, to the receiver.
	b.click(`nav a[href="/integrations"]`)
	b.check("integrations")
	b.run(chromedp.Click(chromedp.CSS(`input[name=events][value="user.created"]`)))
	b.fill(map[string]string{"#f-url": hooks.URL + "/hook", "#f-custom_name": "CRM"}, `form[action="/integrations/webhooks"] button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Webhook created.")
	require.Contains(t, b.text("h1"), "CRM")
	hookURL := eval[string](b, `location.href`)
	b.check("webhook")

	// Inviting a user is the event; the receiver refuses it for good.
	b.click(`nav a[href="/team"]`)
	b.fill(map[string]string{"#f-first_name": "Hugo", "#f-email": "hugo@acme.test"}, `form[action="/team/users"] button`)
	first := <-rc.ch
	require.Contains(t, first.body, "hugo@acme.test")
	b.waitFor(hookURL, "Failed")
	require.Contains(t, b.text("main table"), "user.created")
	require.Contains(t, b.text("main table"), "HTTP 410")
	require.Contains(t, b.text("main"), "Inactive")
	b.check("webhook-failed")

	// Redelivery waits for the webhook to be on: the API says so.
	b.click(`form[action$="/redeliver"] button`)
	require.Contains(t, b.text("main .flash.error"), "reactivate it first")
	b.click(`form[action$="/active"] button`)
	require.Contains(t, b.text("#flash"), "Webhook activated.")
	b.click(`form[action$="/redeliver"] button`)
	require.Contains(t, b.text("#flash"), "The delivery is queued again.")
	again := <-rc.ch
	require.Equal(t, first, again, "the same delivery, the same body")
	b.waitFor(hookURL, "Delivered")
	b.check("webhook-redelivered")

	// A company setting, through the owner's form under Account.
	b.click(`nav a[href="/account"]`)
	b.click(`a[href="/account/company"]`)
	b.check("company")
	b.fill(map[string]string{"#f-sla_seconds": "0"}, `form[action="/account/company"] button[type=submit]`)
	require.Contains(t, b.text("#f-sla_seconds-error"), "out of range")
	b.fill(map[string]string{"#f-sla_seconds": "25"}, `form[action="/account/company"] button[type=submit]`)
	require.Contains(t, b.text("#flash"), "Company settings saved.")
	require.Equal(t, "25", eval[string](b, `document.querySelector("#f-sla_seconds").value`))
	var sla int
	require.NoError(t, a.db.Get(&sla, "SELECT sla_seconds FROM companies"))
	require.Equal(t, 25, sla)

	// An API key: its token shown once, then revoked.
	b.click(`a[href="/account"]`)
	b.click(`a[href="/account/api-keys"]`)
	b.check("apikeys")
	b.fill(map[string]string{"#f-name": "CRM sync"}, `form[action="/account/api-keys"] button`)
	token := b.text("#new-api-token")
	require.NotEmpty(t, token)
	apiID := b.text("#new-api-id")
	b.check("apikey-created")
	b.click(`button[aria-label="Revoke the key ` + apiID + `"]`)
	// Asked first, on a page of its own.
	require.Contains(t, b.text("main"), "Revoke the key "+apiID+"?")
	b.check("confirm")
	b.click(confirmButton)
	require.Contains(t, b.text("#flash"), "Key "+apiID+" revoked.")
	require.NotContains(t, b.text("main table"), apiID)
	var left int
	require.NoError(t, a.db.Get(&left, "SELECT count(*) FROM api_keys WHERE api_id = $1", apiID))
	require.Zero(t, left)
}
