// Package web is Switchboard's dashboard: server-rendered pages
// (html/template) enhanced by htmx, in French and English, served beside
// the API. It is a client of the API, in-process: every read and write of
// the company's configuration and calls goes through the API's handler
// (api.WithPrincipal), so that roles, validation, events and webhooks are
// one mechanism. Only the accounts (passwords, invitations, sessions) are
// its own, in the store, and one read: the names the filters offer
// (store.Choices, see choices).
package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/mail"
	"github.com/switchboard/switchboard/store"
)

// Deps are what the dashboard needs.
type Deps struct {
	Store *store.Store
	// API is the API's handler (api.NewServer): the dashboard's reads and
	// writes are requests to it.
	API http.Handler
	// Mail sends invitations and password resets.
	Mail   mail.Sender
	Logger *slog.Logger
	// PublicURL is where people reach the dashboard (the links of the
	// mails start with it). https: cookies are Secure and __Host-.
	PublicURL string
	// Password is the cost of the password hash; DefaultPassword when
	// zero.
	Password PasswordParams
	// SessionIdle ends a session unused that long (8 h when zero);
	// SessionMax ends any session that long after sign-in (7 days).
	SessionIdle, SessionMax time.Duration
	// FailedSignIns is how many failed sign-ins (or reset requests) one
	// address, or one email, may make a minute before it is refused
	// until the minute ends (10 when zero).
	FailedSignIns int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// The links of the mails last this long.
const (
	InvitationTTL = 7 * 24 * time.Hour
	ResetTTL      = time.Hour
)

type server struct {
	Deps
	secure bool // served over https: Secure, __Host- cookies
	limits *signInLimits
	// dummyHash is a hash of these costs for no one (accounts.go).
	dummyHash func() string
}

// New builds the dashboard's handler. Mount it at / beside the API
// (which keeps /v1, /healthz, /readyz, /metrics).
func New(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Password == (PasswordParams{}) {
		d.Password = DefaultPassword
	}
	if d.SessionIdle == 0 {
		d.SessionIdle = 8 * time.Hour
	}
	if d.SessionMax == 0 {
		d.SessionMax = 7 * 24 * time.Hour
	}
	if d.FailedSignIns == 0 {
		d.FailedSignIns = 10
	}
	d.PublicURL = strings.TrimRight(d.PublicURL, "/")
	u, _ := url.Parse(d.PublicURL)
	s := &server{Deps: d, secure: u != nil && u.Scheme == "https",
		limits: &signInLimits{max: d.FailedSignIns, now: d.Now}}
	s.dummyHash = sync.OnceValue(func() string { return hashPassword(randomToken(), d.Password) })
	mux := http.NewServeMux()
	s.routes(mux)
	// Go's check of Sec-Fetch-Site and Origin refuses cross-origin forms
	// outright; the per-session CSRF token (csrf.go) also covers
	// browsers that send neither header.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	return securityHeaders(cop.Handler(s.withSession(mux)))
}

// routes lists every page of the dashboard.
func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /static/{hash}/{file}", serveStatic)

	mux.HandleFunc("GET /signin", s.signInPage)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.HandleFunc("POST /signout", s.signOut)
	mux.HandleFunc("GET /forgot", s.forgotPage)
	mux.HandleFunc("POST /forgot", s.forgot)
	mux.HandleFunc("GET /invitation/{token}", s.passwordPage(store.Invitation))
	mux.HandleFunc("POST /invitation/{token}", s.setPassword(store.Invitation))
	mux.HandleFunc("GET /reset/{token}", s.passwordPage(store.Reset))
	mux.HandleFunc("POST /reset/{token}", s.setPassword(store.Reset))

	mux.HandleFunc("GET /{$}", s.signedIn(s.home))
	mux.HandleFunc("GET /search", s.signedIn(s.search))
	mux.HandleFunc("GET /team", s.signedIn(s.team))
	mux.HandleFunc("POST /team/users", s.signedIn(s.invite))
	mux.HandleFunc("POST /team/users/{id}/role", s.signedIn(s.changeRole))
	mux.HandleFunc("POST /team/users/{id}/invitation", s.signedIn(s.resendInvitation))
	mux.HandleFunc("GET /team/users/{id}", s.signedIn(s.user1))
	mux.HandleFunc("POST /team/users/{id}", s.signedIn(s.updateUser))
	mux.HandleFunc("POST /team/users/{id}/delete", s.signedIn(s.deleteUser))
	mux.HandleFunc("POST /team/users/{id}/teams", s.signedIn(s.joinTeam))
	mux.HandleFunc("POST /team/users/{id}/teams/{team}/delete", s.signedIn(s.leaveTeam))
	mux.HandleFunc("GET /account", s.signedIn(s.account))
	mux.HandleFunc("POST /account", s.signedIn(s.updateAccount))
	mux.HandleFunc("POST /account/language", s.signedIn(s.switchLanguage))
	mux.HandleFunc("POST /account/signout-everywhere", s.signedIn(s.signOutEverywhere))
	mux.HandleFunc("GET /numbers", s.signedIn(s.numbers))
	mux.HandleFunc("POST /numbers", s.signedIn(s.createNumber))
	mux.HandleFunc("GET /numbers/{id}", s.signedIn(s.number))
	mux.HandleFunc("POST /numbers/{id}", s.signedIn(s.updateNumber))
	mux.HandleFunc("POST /numbers/{id}/delete", s.signedIn(s.deleteNumber))
	mux.HandleFunc("POST /numbers/{id}/try", s.signedIn(s.tryCall))
	mux.HandleFunc("POST /numbers/{id}/media", s.signedIn(s.uploadMedia))
	mux.HandleFunc("GET /numbers/{id}/messages/{kind}", s.signedIn(s.listen))
	mux.HandleFunc("GET /teams", s.signedIn(s.teams))
	mux.HandleFunc("POST /teams", s.signedIn(s.createTeam))
	mux.HandleFunc("GET /teams/{id}", s.signedIn(s.team1))
	mux.HandleFunc("POST /teams/{id}", s.signedIn(s.updateTeam))
	mux.HandleFunc("POST /teams/{id}/delete", s.signedIn(s.deleteTeam))

	// Tags & blocked numbers, Integrations, Company settings and API keys (tags.go, integrations.go, company.go).
	mux.HandleFunc("GET /tags", s.signedIn(s.tags))
	mux.HandleFunc("POST /tags", s.signedIn(s.createTag))
	mux.HandleFunc("GET /tags/{id}", s.signedIn(s.editTag))
	mux.HandleFunc("POST /tags/{id}", s.signedIn(s.updateTag))
	mux.HandleFunc("POST /tags/{id}/delete", s.signedIn(s.deleteTag))
	mux.HandleFunc("POST /tags/blocked", s.signedIn(s.blockNumber))
	mux.HandleFunc("POST /tags/blocked/{id}/delete", s.signedIn(s.unblockNumber))
	mux.HandleFunc("GET /integrations", s.signedIn(s.integrations))
	mux.HandleFunc("POST /integrations/webhooks", s.signedIn(s.createWebhook))
	mux.HandleFunc("GET /integrations/webhooks/{id}", s.signedIn(s.webhook))
	mux.HandleFunc("POST /integrations/webhooks/{id}", s.signedIn(s.updateWebhook))
	mux.HandleFunc("POST /integrations/webhooks/{id}/active", s.signedIn(s.setWebhookActive))
	mux.HandleFunc("POST /integrations/webhooks/{id}/delete", s.signedIn(s.deleteWebhook))
	mux.HandleFunc("POST /integrations/webhooks/{id}/deliveries/{delivery}/redeliver", s.signedIn(s.redeliver))
	mux.HandleFunc("GET /account/company", s.signedIn(s.company))
	mux.HandleFunc("POST /account/company", s.signedIn(s.updateCompany))
	mux.HandleFunc("GET /account/api-keys", s.signedIn(s.apiKeys))
	mux.HandleFunc("POST /account/api-keys", s.signedIn(s.createAPIKey))
	mux.HandleFunc("POST /account/api-keys/{id}/delete", s.signedIn(s.revokeAPIKey))

	// Calls, Statistics, Live (calls.go, stats.go, live.go).
	mux.HandleFunc("GET /calls", s.signedIn(s.calls))
	mux.HandleFunc("GET /calls/{id}", s.signedIn(s.callDetailPage))
	mux.HandleFunc("POST /calls/{id}/tags", s.signedIn(s.tagCall))
	mux.HandleFunc("POST /calls/{id}/tags/{tag}/delete", s.signedIn(s.untagCall))
	mux.HandleFunc("POST /calls/{id}/comments", s.signedIn(s.commentCall))
	mux.HandleFunc("POST /calls/{id}/assign", s.signedIn(s.assignCall))
	mux.HandleFunc("POST /calls/{id}/archive", s.signedIn(s.archiveCall))
	mux.HandleFunc("POST /calls/{id}/unarchive", s.signedIn(s.unarchiveCall))
	mux.HandleFunc("POST /calls/{id}/recording/delete", s.signedIn(s.deleteRecording))
	mux.HandleFunc("POST /calls/{id}/voicemail/delete", s.signedIn(s.deleteVoicemail))
	mux.HandleFunc("GET /stats", s.signedIn(s.statsPage))
	mux.HandleFunc("GET /stats/export", s.signedIn(s.exportStats))
	mux.HandleFunc("GET /live", s.signedIn(s.livePage))
	mux.HandleFunc("GET /live/events", s.signedIn(s.liveEvents))
	mux.HandleFunc("POST /live/calls/{id}/supervise", s.signedIn(s.supervise))

	mux.HandleFunc("/", s.notFound)
}

// securityHeaders: nothing but this origin's scripts and styles run
// (htmx is told to evaluate nothing), no framing, no referrer leaks of the
// links' tokens.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
