package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/mail"
	"github.com/switchboard/switchboard/mail/mailtest"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
	"github.com/switchboard/switchboard/web"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testPassword is cheap: the tests sign in often; the costs' effect is
// the same code.
var testPassword = web.PasswordParams{Time: 1, Memory: 1024, Threads: 1}

// site is the dashboard and the API of one company on a real database,
// served over real HTTP, mailing through a real SMTP server.
type site struct {
	t     *testing.T
	url   string
	db    *sqlx.DB
	store *store.Store
	mail  *mailtest.Server
	owner dialplan.User
	co    dialplan.Company
}

func newSite(t *testing.T) *site {
	t.Helper()
	db := storetest.New(t)
	st := store.New(db)
	smtp := mailtest.Start(t)
	sender, err := mail.ParseURL(smtp.URL("noreply@acme.test"))
	require.NoError(t, err)
	c := dialplan.Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	owner := dialplan.User{FirstName: "Olga", LastName: "Owner", Email: "owner@acme.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(t, c.Normalize())
	require.NoError(t, owner.Normalize(c))
	_, err = st.Bootstrap(context.Background(), &c, &owner)
	require.NoError(t, err)

	srv := httptest.NewUnstartedServer(nil)
	public := "http://" + srv.Listener.Addr().String()
	apiHandler := api.NewServer(api.Deps{Store: st, PublicURL: public})
	dash := web.New(web.Deps{Store: st, API: apiHandler, Mail: sender, PublicURL: public, Password: testPassword, FailedSignIns: 3,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			apiHandler.ServeHTTP(w, r)
			return
		}
		dash.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return &site{t: t, url: srv.URL, db: db, store: st, mail: smtp, owner: owner, co: c}
}

// browser is a cookie jar and what it last saw.
type browser struct {
	s      *site
	client *http.Client
	body   string
	status int
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(s.t, err)
	return &browser{s: s, client: &http.Client{Jar: jar}}
}

func (b *browser) get(path string) *browser {
	b.s.t.Helper()
	resp, err := b.client.Get(b.abs(path))
	require.NoError(b.s.t, err)
	return b.read(resp)
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.s.url + path
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post submits a form of the page last seen, with its CSRF token unless
// form sets csrf itself.
func (b *browser) post(path string, form url.Values) *browser {
	b.s.t.Helper()
	if _, ok := form["csrf"]; !ok {
		m := csrfField.FindStringSubmatch(b.body)
		require.NotNil(b.s.t, m, "no CSRF token on the page: %s", b.body)
		form.Set("csrf", m[1])
	}
	resp, err := b.client.PostForm(b.abs(path), form)
	require.NoError(b.s.t, err)
	return b.read(resp)
}

func (b *browser) read(resp *http.Response) *browser {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.s.t, err)
	b.body, b.status = string(body), resp.StatusCode
	return b
}

func (b *browser) see(status int, texts ...string) {
	b.s.t.Helper()
	require.Equal(b.s.t, status, b.status, b.body)
	for _, text := range texts {
		require.Contains(b.s.t, b.body, text)
	}
}

// signInOwner gives the owner a password (as a reset link would) and
// signs them in.
func (s *site) signInOwner() *browser {
	s.t.Helper()
	token, _, err := s.store.CreatePasswordToken(context.Background(), s.co.ID, s.owner.ID, store.Reset, time.Hour)
	require.NoError(s.t, err)
	b := s.browser()
	b.get(web.PasswordLink(s.url, store.Reset, token)).see(http.StatusOK)
	b.post(web.PasswordLink(s.url, store.Reset, token), url.Values{"password": {"owner-password-1"}, "confirm": {"owner-password-1"}})
	b.see(http.StatusOK, "Bonjour Olga")
	return b
}

// TestInvitation: the admin invites a user, who follows the mail's link,
// chooses a password and lands on Home; the link works once; bad input
// is shown next to its field, with the API's words, and nothing is made.
func TestInvitation(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	admin.get("/team").see(http.StatusOK, "Inviter un utilisateur", "owner@acme.test")

	// The API refuses: its message next to the field, nothing created.
	admin.post("/team/users", url.Values{"first_name": {"Ines"}, "email": {"not-an-email"}, "role": {"agent"}})
	admin.see(http.StatusUnprocessableEntity, `id="f-email-error"`, `aria-invalid="true"`)
	admin.post("/team/users", url.Values{"first_name": {"Ines"}, "email": {"OWNER@acme.test"}, "role": {"agent"}})
	admin.see(http.StatusConflict, "email is already used by another user")
	require.Zero(t, s.mail.Count())

	admin.post("/team/users", url.Values{"first_name": {"Ines"}, "last_name": {"Agent"}, "email": {"ines@acme.test"}, "role": {"supervisor"}})
	admin.see(http.StatusOK, "Invitation envoyée à ines@acme.test", "ines@acme.test", "Invité le")
	invitation := s.mail.Wait(t, "ines@acme.test", 10*time.Second)
	require.Equal(t, "Votre invitation à rejoindre Acme sur Switchboard", invitation.Subject, "in the company's language")
	require.Contains(t, invitation.Text, "Olga Owner vous invite")
	links := invitation.Links()
	require.Len(t, links, 2, invitation.Text)
	require.True(t, strings.HasPrefix(links[0], s.url+"/invitation/"), links[0])

	ines := s.browser()
	ines.get(links[0]).see(http.StatusOK, "Bienvenue, Ines")
	ines.post(links[0], url.Values{"password": {"short"}, "confirm": {"short"}})
	ines.see(http.StatusUnprocessableEntity, "Utilisez au moins 10 caractères.")
	ines.post(links[0], url.Values{"password": {"ines-password-1"}, "confirm": {"ines-password-2"}})
	ines.see(http.StatusUnprocessableEntity, "Les deux mots de passe diffèrent.")
	ines.post(links[0], url.Values{"password": {"ines-password-1"}, "confirm": {"ines-password-1"}})
	ines.see(http.StatusOK, "Bonjour Ines", "Votre mot de passe est enregistré")

	again := s.browser()
	again.get(links[0]).see(http.StatusGone, "Ce lien a déjà servi")

	// The list shows her active; her role is changed through the API,
	// which refuses what it refuses, in its words.
	admin.get("/team").see(http.StatusOK, "Actif")
	var inesID dialplan.UserID
	require.NoError(t, s.db.Get(&inesID, "SELECT id FROM users WHERE email = 'ines@acme.test'"))
	for _, tc := range []struct {
		role, see, stored string
	}{
		{"boss", `<p class="flash error">role: `, "supervisor"},
		{"agent", "Ines Agent est maintenant Agent.", "agent"},
	} {
		admin.post("/team/users/"+itoa(inesID)+"/role", url.Values{"role": {tc.role}, "page": {"1"}}).see(http.StatusOK, tc.see)
		var role string
		require.NoError(t, s.db.Get(&role, "SELECT role FROM users WHERE id = $1", inesID))
		require.Equal(t, tc.stored, role)
	}
}

// TestSignIn: a wrong password or email is refused alike; past the limit
// the address is refused until the minute ends; the right password signs
// in and goes back where the visitor was headed.
func TestSignIn(t *testing.T) {
	s := newSite(t)
	s.signInOwner()
	b := s.browser()
	b.get("/team").see(http.StatusOK, "Sign in", `name="next" value="/team"`) // sent to sign in
	for _, tc := range []struct {
		email, password string
		status          int
		see             string
	}{
		{"owner@acme.test", "wrong-password", http.StatusUnauthorized, "Wrong email or password."},
		{"nobody@acme.test", "owner-password-1", http.StatusUnauthorized, "Wrong email or password."},
		{"owner@acme.test", "", http.StatusUnauthorized, "Wrong email or password."},
		{"owner@acme.test", "owner-password-1", http.StatusTooManyRequests, "Too many failed attempts"},
	} {
		b.post("/signin", url.Values{"email": {tc.email}, "password": {tc.password}, "next": {"/team"}})
		b.see(tc.status, tc.see)
	}
	other := s.browser() // another address would do; this one is the same loopback
	other.get("/signin")
	other.post("/signin", url.Values{"email": {"owner@acme.test"}, "password": {"owner-password-1"}})
	other.see(http.StatusTooManyRequests)
}

// TestCSRF: a form without its token, or with another session's, is
// refused; a cross-site form is refused by Go's check too.
func TestCSRF(t *testing.T) {
	s := newSite(t)
	b := s.signInOwner()
	b.get("/account")
	for _, tc := range []struct {
		name  string
		token string
	}{{"no token", ""}, {"another token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}} {
		t.Run(tc.name, func(t *testing.T) {
			b.post("/account/language", url.Values{"lang": {"en"}, "csrf": {tc.token}})
			b.see(http.StatusForbidden, "Ce formulaire a expiré")
		})
	}
	m := csrfField.FindStringSubmatch(b.body)
	req, err := http.NewRequest(http.MethodPost, s.url+"/account/language", strings.NewReader(url.Values{"lang": {"en"}, "csrf": {m[1]}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	b.get("/").see(http.StatusOK, "Bonjour Olga") // still French: nothing changed

	// The header htmx sends does as well as the field.
	req, err = http.NewRequest(http.MethodPost, s.url+"/account/language", strings.NewReader(url.Values{"lang": {"en"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", m[1])
	resp, err = b.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b.get("/").see(http.StatusOK, "Hello Olga")
}

// TestLinks: expired, replaced and mistyped links say so; a reset link
// ends every session; the forgot page says the same for any email.
func TestLinks(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	admin.get("/team")
	admin.post("/team/users", url.Values{"first_name": {"Eve"}, "email": {"eve@acme.test"}, "role": {"agent"}}).see(http.StatusOK)
	first := s.mail.Wait(t, "eve@acme.test", 10*time.Second).Links()[0]
	var eve dialplan.UserID
	require.NoError(t, s.db.Get(&eve, "SELECT id FROM users WHERE email = 'eve@acme.test'"))
	admin.post("/team/users/"+itoa(eve)+"/invitation", url.Values{"page": {"1"}}).see(http.StatusOK, "Invitation renvoyée à eve@acme.test")
	second := s.mail.Wait(t, "eve@acme.test", 10*time.Second).Links()[0]

	b := s.browser()
	b.get(first).see(http.StatusGone, "This link does not work") // replaced: no one's, the visitor's language
	_, err := s.db.Exec("UPDATE password_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", eve)
	require.NoError(t, err)
	b.get(second).see(http.StatusGone, "Ce lien a expiré", "Une invitation est valable 7 jours")
	b.get("/invitation/mistyped").see(http.StatusGone, "This link does not work")
	admin.get("/team").see(http.StatusOK, "Invitation expirée")

	// Forgot: the same words whether the account exists or not; only the
	// account gets a mail.
	for _, email := range []string{"nobody@acme.test", "owner@acme.test"} {
		b.get("/forgot")
		b.post("/forgot", url.Values{"email": {email}}).see(http.StatusOK, "If an account uses "+email)
	}
	reset := s.mail.Wait(t, "owner@acme.test", 10*time.Second)
	require.Equal(t, "Choisissez un nouveau mot de passe Switchboard", reset.Subject)
	require.Zero(t, s.mail.Count(), "no mail for an unknown email")
	link := reset.Links()[0]
	require.True(t, strings.HasPrefix(link, s.url+"/reset/"), link)
	b.get(link).see(http.StatusOK)
	b.post(link, url.Values{"password": {"owner-password-2"}, "confirm": {"owner-password-2"}}).see(http.StatusOK, "Bonjour Olga")
	admin.get("/").see(http.StatusOK, "Sign in") // the reset signed the other browser out
}

// TestSignOutEverywhere ends every session of the user and no other.
func TestSignOutEverywhere(t *testing.T) {
	s := newSite(t)
	laptop := s.signInOwner()
	phone := s.browser()
	phone.get("/signin")
	phone.post("/signin", url.Values{"email": {"owner@acme.test"}, "password": {"owner-password-1"}}).see(http.StatusOK, "Bonjour Olga")
	laptop.get("/account")
	laptop.post("/account/signout-everywhere", url.Values{}).see(http.StatusOK, "Vous êtes déconnecté")
	phone.get("/").see(http.StatusOK, "Sign in")
	laptop.get("/").see(http.StatusOK, "Sign in")
}

// TestAccount: the time zone the API refuses is shown with its words; the
// language chosen is saved through the API.
func TestAccount(t *testing.T) {
	s := newSite(t)
	b := s.signInOwner()
	b.get("/account")
	b.post("/account", url.Values{"lang": {"fr"}, "time_zone": {"Mars/Olympus"}})
	b.see(http.StatusUnprocessableEntity, `id="f-time_zone-error"`, "Mars/Olympus")
	b.post("/account", url.Values{"lang": {"en"}, "time_zone": {"America/New_York"}}).see(http.StatusOK, "Saved.", "America/New_York")
	var u dialplan.User
	require.NoError(t, s.db.Get(&u.Language, "SELECT language FROM users WHERE id = $1", s.owner.ID))
	require.Equal(t, "en-US", u.Language)
}

// TestRoles: an agent sees Home and Account only, and the API refuses
// them the team even by its address.
func TestRoles(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	admin.get("/team")
	admin.post("/team/users", url.Values{"first_name": {"Al"}, "email": {"al@acme.test"}, "role": {"agent"}}).see(http.StatusOK)
	link := s.mail.Wait(t, "al@acme.test", 10*time.Second).Links()[0]
	al := s.browser()
	al.get(link)
	al.post(link, url.Values{"password": {"al-password-1"}, "confirm": {"al-password-1"}}).see(http.StatusOK, "Bonjour Al")
	require.NotContains(t, al.body, `href="/team"`)
	al.get("/team").see(http.StatusForbidden, "agents cannot read the company&#39;s configuration")
	al.get("/account")
	al.post("/team/users", url.Values{"first_name": {"X"}, "email": {"x@acme.test"}, "role": {"admin"}}).see(http.StatusForbidden)
}

func itoa(id dialplan.UserID) string { return strconv.FormatInt(int64(id), 10) }
