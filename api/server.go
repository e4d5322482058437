// Package api is Switchboard's HTTP API, shaped like the public Aircall API
// v1: Basic auth with API keys, roles, company isolation, Aircall paging
// and JSON errors. Every route is listed in routes.go.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhook"
)

// Deps are what the API needs from the rest of Switchboard.
type Deps struct {
	Store  *store.Store
	Logger *slog.Logger
	// Now is the clock (tests fix it); time.Now when nil.
	Now func() time.Time
	// MediaReady reports whether the media server is reachable, for
	// /readyz; nil while no media server is configured.
	MediaReady func(ctx context.Context) error
	// ACD holds agents' live status (in call, after-call work, pending
	// tag); a new, empty one when nil. The API reads it and tells it of
	// changes: availability, a call tagged.
	ACD *dialplan.ACD
	// Prompts converts uploads, renders text-to-speech and serves prompt
	// files; the media library, the voices and the prompt files answer 503
	// or 404 without it, and numbers are saved without rendering.
	Prompts *prompts.Library
	// Recordings reads calls' recordings and voicemails back from the
	// media server; nil while none is configured (their download is 503).
	Recordings dialplan.Recordings
	// Calls acts on calls in progress (hold, transfer, supervise, hang
	// up) and places click-to-calls; nil while no media server is
	// configured (those routes answer 503).
	Calls CallControl
	// WebhookPolicy says where webhooks may post: a webhook's url is
	// checked with it when saved (422 on url otherwise). The zero policy
	// allows https URLs of public addresses only.
	WebhookPolicy webhook.Policy
	// Live is the live view (GET /v1/live); nil when not running (503).
	Live LiveBoard
	// PublicURL is where clients reach the API, such as
	// https://pbx.example.com: the links the API gives (direct_link, the
	// pages' links, recordings and voicemails) are absolute URLs under it,
	// as Aircall's are, so that a client follows them as they are. Empty:
	// they are paths.
	PublicURL string
	// Limits bound each key's and each address's requests; zero: none.
	Limits Limits
	// TrustedProxies are the addresses and networks (CIDR) of the reverse
	// proxies in front of the API: only their X-Forwarded-For names the
	// client, whose address the limits count. None: the peer's address.
	TrustedProxies []string
	// Spool, when set, says how many call saves wait on local disk for
	// PostgreSQL (store.SpooledLog.Pending): /readyz tells them.
	Spool func() (int, int64)
	// Metrics, when set, is the first middleware of every request, the
	// unmatched ones included: it counts and times them by route
	// (metrics.Metrics.HTTP).
	Metrics gin.HandlerFunc
}

// withDefaults fills in what was left out: the wall clock, a new ACD, a
// silent logger. The server and a Renderer built from the same Deps must
// share one ACD: give it (main does).
func (d Deps) withDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ACD == nil {
		d.ACD = dialplan.NewACD(clock{now: d.Now})
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.PublicURL = strings.TrimRight(d.PublicURL, "/")
	return d
}

// site makes the URLs of the API's links: PublicURL and a path.
type site string

// link is the URL of the path format makes with args.
func (s site) link(format string, args ...any) string {
	return string(s) + fmt.Sprintf(format, args...)
}

// site is where the links of these Deps' objects point.
func (d *Deps) site() site { return site(d.PublicURL) }

type server struct {
	Deps
	// render shows objects as the GETs do, for the snapshots of deleted
	// ones (user.deleted, number.deleted).
	render *Renderer
	// links holds the key signing recording links (signed.go).
	links *linkKey
	// limits counts requests against Deps.Limits (limits.go).
	limits *limiter
}

// NewServer builds the HTTP handler of the whole API.
func NewServer(deps Deps) http.Handler {
	deps = deps.withDefaults()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(deps.TrustedProxies); err != nil {
		panic("api: TrustedProxies: " + err.Error()) // the configuration checks them first
	}
	s := &server{Deps: deps, render: &Renderer{deps: deps}, links: &linkKey{},
		limits: &limiter{Limits: deps.Limits, now: deps.Now}}
	if deps.Metrics != nil {
		// Before recoverAndLog: a panic is counted as the 500 it becomes.
		r.Use(deps.Metrics)
	}
	r.Use(s.recoverAndLog, limitBodies)
	r.NoRoute(func(c *gin.Context) {
		abort(c, http.StatusNotFound, "not found", "no such route: "+c.Request.Method+" "+c.Request.URL.Path)
	})
	r.NoMethod(func(c *gin.Context) {
		abort(c, http.StatusMethodNotAllowed, "method not allowed", c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})
	s.routes(r)
	return r
}

// recoverAndLog logs every request and turns a panic into a 500.
func (s *server) recoverAndLog(c *gin.Context) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			s.Logger.Error("panic in handler", "path", c.Request.URL.Path, "panic", p)
			abort(c, http.StatusInternalServerError, "internal error", "the server failed; see its log")
		}
		s.Logger.Debug("http", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "duration", time.Since(start))
	}()
	c.Next()
}

func (s *server) healthz(c *gin.Context) {
	c.PureJSON(http.StatusOK, gin.H{"status": "ok"})
}

// ping is Aircall's check of a key: any key that authenticates gets a pong.
func (s *server) ping(c *gin.Context) {
	c.PureJSON(http.StatusOK, gin.H{"ping": "pong"})
}

// readyz answers 200 only when the database (and the media server, once one
// is configured) answer.
func (s *server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ready := true
	if err := s.Store.Ping(ctx); err != nil {
		checks["database"], ready = err.Error(), false
	} else {
		checks["database"] = "ok"
	}
	if s.Spool != nil {
		if n, _ := s.Spool(); n > 0 {
			// Degraded, not down: calls go on, their saves wait.
			checks["spool"] = fmt.Sprintf("%d call saves wait on local disk for PostgreSQL", n)
		}
	}
	if s.MediaReady != nil {
		if err := s.MediaReady(ctx); err != nil {
			checks["media_server"], ready = err.Error(), false
		} else {
			checks["media_server"] = "ok"
		}
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	c.PureJSON(status, gin.H{"ready": ready, "checks": checks})
}

// clock is the wall clock read through Deps.Now, so that tests fix the time
// the ACD sees.
type clock struct {
	dialplan.WallClock
	now func() time.Time
}

func (c clock) Now() time.Time { return c.now() }
