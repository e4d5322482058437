package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// TestTags: tags and blocked numbers are created, changed and removed
// through the API; what it refuses is shown next to the field, in its
// words, and nothing is saved; system tags cannot be changed.
func TestTags(t *testing.T) {
	s := newSite(t)
	b := s.signInOwner()
	b.get("/tags").see(http.StatusOK, "Tags système", "Callback Request", "Créer un tag", "Aucun numéro bloqué.")

	b.post("/tags", url.Values{"name": {"Billing"}, "color": {"red"}, "description": {"x"}})
	b.see(http.StatusUnprocessableEntity, `id="f-color-error"`, "is not a colour (#RRGGBB)", `value="Billing"`)
	count := func(q string, args ...any) int {
		var n int
		require.NoError(t, s.db.Get(&n, q, args...))
		return n
	}
	require.Zero(t, count("SELECT count(*) FROM tags WHERE name = 'Billing'"))
	b.post("/tags", url.Values{"name": {"Billing"}, "color": {"#ff0000"}, "description": {"Invoices"}}).see(http.StatusOK, "Tag Billing créé.", "Invoices")
	var id int64
	require.NoError(t, s.db.Get(&id, "SELECT id FROM tags WHERE name = 'Billing'"))

	b.get("/tags/"+itoa(dialplan.UserID(id))).see(http.StatusOK, "Modifier un tag", `value="#ff0000"`)
	b.post("/tags/"+itoa(dialplan.UserID(id)), url.Values{"name": {""}, "color": {"#00ff00"}}).see(http.StatusUnprocessableEntity, `id="f-name-error"`, "is required")
	b.post("/tags/"+itoa(dialplan.UserID(id)), url.Values{"name": {"Billing FR"}, "color": {"#00ff00"}, "description": {"Factures"}}).see(http.StatusOK, "Tag Billing FR enregistré.")
	require.Equal(t, 1, count("SELECT count(*) FROM tags WHERE name = 'Billing FR' AND color = '#00ff00'"))

	var system int64
	require.NoError(t, s.db.Get(&system, "SELECT id FROM tags WHERE name = 'Follow Up'"))
	b.post("/tags/"+itoa(dialplan.UserID(system))+"/delete", url.Values{"name": {"Follow Up"}, "confirm": {"yes"}}).see(http.StatusOK, "system tags (Callback Request")
	require.Equal(t, 1, count("SELECT count(*) FROM tags WHERE id = $1", system))
	// A delete asks first, on a page of its own that posts the same form
	// confirmed; nothing goes until then.
	b.post("/tags/"+itoa(dialplan.UserID(id))+"/delete", url.Values{"name": {"Billing FR"}}).see(http.StatusOK,
		"Supprimer le tag Billing FR ?", `name="confirm" value="yes"`, `name="name" value="Billing FR"`, `<a href="/tags">Annuler</a>`)
	require.Equal(t, 1, count("SELECT count(*) FROM tags WHERE id = $1", id))
	b.post("/tags/"+itoa(dialplan.UserID(id))+"/delete", url.Values{"name": {"Billing FR"}, "confirm": {"yes"}}).see(http.StatusOK, "Tag Billing FR supprimé.")
	require.Zero(t, count("SELECT count(*) FROM tags WHERE id = $1", id))

	b.post("/tags/blocked", url.Values{"digits": {"12"}, "note": {"spam"}}).see(http.StatusUnprocessableEntity, `id="f-digits-error"`, `value="spam"`)
	require.Zero(t, count("SELECT count(*) FROM blocked_numbers"))
	b.post("/tags/blocked", url.Values{"digits": {"01 23 45 67 89"}, "note": {"spam"}}).see(http.StatusOK, "33123456789 est bloqué.")
	var blocked int64
	require.NoError(t, s.db.Get(&blocked, "SELECT id FROM blocked_numbers"))
	b.post("/tags/blocked/"+itoa(dialplan.UserID(blocked))+"/delete", url.Values{"digits": {"+33123456789"}, "page": {"1"}, "confirm": {"yes"}}).see(http.StatusOK, "33123456789 n&#39;est plus bloqué.")
	require.Zero(t, count("SELECT count(*) FROM blocked_numbers"))
}

// TestAdminRoles: a supervisor reads the tags without the forms, and the
// API refuses their changes; Integrations, the company's form and the
// API keys are not theirs.
func TestAdminRoles(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	admin.get("/team")
	admin.post("/team/users", url.Values{"first_name": {"Sam"}, "email": {"sam@acme.test"}, "role": {"supervisor"}}).see(http.StatusOK)
	link := s.mail.Wait(t, "sam@acme.test", 10*time.Second).Links()[0]
	sam := s.browser()
	sam.get(link)
	sam.post(link, url.Values{"password": {"sam-password-1"}, "confirm": {"sam-password-1"}}).see(http.StatusOK, "Bonjour Sam")
	require.Contains(t, sam.body, `href="/tags"`)
	require.NotContains(t, sam.body, `href="/integrations"`)
	sam.get("/tags").see(http.StatusOK, "Callback Request")
	require.NotContains(t, sam.body, `action="/tags"`)
	sam.post("/tags", url.Values{"name": {"X"}, "color": {"#000000"}}).see(http.StatusForbidden)
	sam.get("/integrations").see(http.StatusForbidden)
	sam.get("/account").see(http.StatusOK, `href="/account/company"`)
	require.NotContains(t, sam.body, `href="/account/api-keys"`)
	sam.get("/account/company").see(http.StatusOK, "Seul le propriétaire modifie ces paramètres.")
	require.NotContains(t, sam.body, `action="/account/company"`)
	sam.get("/account/api-keys").see(http.StatusForbidden)
	sam.get("/account")
	sam.post("/account/company", url.Values{"name": {"Evil"}, "time_zone": {"UTC"}, "language": {"en-US"}, "country": {"FR"}, "sla_seconds": {"20"}}).see(http.StatusForbidden)
	var name string
	require.NoError(t, s.db.Get(&name, "SELECT name FROM companies WHERE id = $1", s.co.ID))
	require.Equal(t, "Acme", name)
}

// TestIntegrations: a webhook's form shows the API's refusals by field;
// a webhook is edited, turned off and on, and deleted; a redelivery the
// API refuses is said in its words.
func TestIntegrations(t *testing.T) {
	s := newSite(t)
	b := s.signInOwner()
	b.get("/integrations").see(http.StatusOK, "Créer un webhook", `value="call.created"`, "Aucun webhook")
	b.post("/integrations/webhooks", url.Values{"url": {"https://hooks.example/x"}, "custom_name": {"CRM"}}).
		see(http.StatusUnprocessableEntity, `id="f-events-error"`, "give at least one event", `value="CRM"`)
	b.post("/integrations/webhooks", url.Values{"url": {"http://127.0.0.1:9/x"}, "events": {"call.created", "user.created"}}).
		see(http.StatusUnprocessableEntity, `id="f-url-error"`)
	require.Regexp(t, `value="user.created" checked`, b.body, "the ticked events stay ticked")
	var n int
	require.NoError(t, s.db.Get(&n, "SELECT count(*) FROM webhooks"))
	require.Zero(t, n)

	// Saved by the store, as if the policy allowed it (this site's policy
	// allows no address: the browser suite sends real deliveries).
	hook := store.Webhook{URL: "http://127.0.0.1:9/x", CustomName: "CRM", Events: []events.Kind{events.UserCreated}, Active: true}
	require.NoError(t, s.store.CreateWebhook(context.Background(), s.co.ID, &hook))
	path := "/integrations/webhooks/" + itoa(dialplan.UserID(hook.ID))
	b.get("/integrations").see(http.StatusOK, `href="`+path+`"`, "Actif")
	b.get(path).see(http.StatusOK, hook.Token, "Aucun envoi", "Désactiver")
	b.post(path, url.Values{"url": {hook.URL}, "custom_name": {"CRM 2"}, "events": {"user.created", "user.deleted"}}).see(http.StatusOK, "Webhook enregistré.", "CRM 2")
	b.post(path+"/active", url.Values{"active": {"false"}}).see(http.StatusOK, "Webhook désactivé.", "Inactif", "Activer")
	b.post(path+"/deliveries/00000000-0000-0000-0000-000000000000/redeliver", url.Values{}).
		see(http.StatusConflict, "is not active: reactivate it first")
	// Back on, the url is checked again, and refused by this policy.
	b.post(path+"/active", url.Values{"active": {"true"}}).see(http.StatusUnprocessableEntity, "Inactif")
	b.post(path+"/delete", url.Values{"confirm": {"yes"}}).see(http.StatusOK, "Webhook supprimé.", "Aucun webhook")
}

// TestCompanySettings: the owner changes the company through the API,
// which refuses a wrong country next to its field; an API key is made,
// its token shown once, and revoked.
func TestCompanySettings(t *testing.T) {
	s := newSite(t)
	b := s.signInOwner()
	b.get("/account").see(http.StatusOK, `href="/account/company"`, `href="/account/api-keys"`)
	b.get("/account/company").see(http.StatusOK, `value="Acme"`, `value="Europe/Paris"`, `value="20"`)
	form := url.Values{"name": {"Acme SAS"}, "time_zone": {"Europe/Paris"}, "language": {"fr-FR"}, "country": {"ZZ"}, "sla_seconds": {"30"}, "allowed_countries": {"FR, BE"}}
	b.post("/account/company", form).see(http.StatusUnprocessableEntity, `id="f-country-error"`, "is not a known country", `value="Acme SAS"`)
	var c struct {
		Name string `db:"name"`
		SLA  int    `db:"sla_seconds"`
	}
	require.NoError(t, s.db.Get(&c, "SELECT name, sla_seconds FROM companies WHERE id = $1", s.co.ID))
	require.Equal(t, "Acme", c.Name, "nothing half-saved")
	form.Set("country", "FR")
	form.Set("sla_seconds", "lots")
	b.post("/account/company", form).see(http.StatusUnprocessableEntity, `id="f-sla_seconds-error"`)
	form.Set("sla_seconds", "30")
	b.post("/account/company", form).see(http.StatusOK, "Paramètres de l&#39;entreprise enregistrés.", `value="Acme SAS"`, `value="FR, BE"`)
	require.NoError(t, s.db.Get(&c, "SELECT name, sla_seconds FROM companies WHERE id = $1", s.co.ID))
	require.Equal(t, "Acme SAS", c.Name)
	require.Equal(t, 30, c.SLA)

	b.get("/account/api-keys").see(http.StatusOK, "bootstrap") // the key the company was made with
	b.post("/account/api-keys", url.Values{"name": {"CRM sync"}}).see(http.StatusCreated, "n&#39;est affiché que cette fois", "CRM sync")
	token := regexp.MustCompile(`id="new-api-token" class="secret">([^<]+)<`).FindStringSubmatch(b.body)
	require.NotNil(t, token, b.body)
	b.get("/account/api-keys").see(http.StatusOK, "CRM sync")
	require.NotContains(t, b.body, token[1], "the token is shown once")
	var key struct {
		ID    int64  `db:"id"`
		APIID string `db:"api_id"`
	}
	require.NoError(t, s.db.Get(&key, "SELECT id, api_id FROM api_keys WHERE name = 'CRM sync'"))
	b.post("/account/api-keys/"+itoa(dialplan.UserID(key.ID))+"/delete", url.Values{"api_id": {key.APIID}, "confirm": {"yes"}}).see(http.StatusOK, "Clé "+key.APIID+" révoquée.", "bootstrap")
	require.NotContains(t, b.body, "CRM sync")
	var left int
	require.NoError(t, s.db.Get(&left, "SELECT count(*) FROM api_keys WHERE id = $1", key.ID))
	require.Zero(t, left)
}
