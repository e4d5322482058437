package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

const principalKey = "principal"

// principalCtx is the key of WithPrincipal's value: unexported, so that
// only this package reads it and only Go code in this process sets it.
type principalCtx struct{}

// WithPrincipal makes a request built with ctx act as p, without
// credentials: the dashboard (package web), which signed the person in
// itself, calls the API in-process with it. A Go context cannot be set
// over the network, so no client can claim a principal this way.
func WithPrincipal(ctx context.Context, p store.Principal) context.Context {
	return context.WithValue(ctx, principalCtx{}, p)
}

// authenticate checks Basic credentials (api_id:api_token), or takes the
// principal WithPrincipal gave, and stores who the request acts as.
func (s *server) authenticate(c *gin.Context) {
	if p, ok := c.Request.Context().Value(principalCtx{}).(store.Principal); ok {
		c.Set(principalKey, p)
		c.Next()
		return
	}
	apiID, token, ok := c.Request.BasicAuth()
	if !ok {
		s.limits.failedAuth(c)
		c.Header("WWW-Authenticate", `Basic realm="switchboard"`)
		abort(c, http.StatusUnauthorized, "unauthorized", "send HTTP Basic credentials: your api_id as user name and api_token as password")
		return
	}
	p, err := s.Store.Authenticate(c.Request.Context(), apiID, token)
	if errors.Is(err, store.ErrBadCredentials) {
		s.limits.failedAuth(c)
		c.Header("WWW-Authenticate", `Basic realm="switchboard"`)
		abort(c, http.StatusUnauthorized, "unauthorized", "unknown api_id or wrong api_token")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if !s.limits.byKey(c, apiID) {
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

func principal(c *gin.Context) store.Principal {
	return c.MustGet(principalKey).(store.Principal)
}

// Who may do what. Admins do everything; supervisors read configuration;
// agents read and change only their own user and availability; the owner
// permission (on any role) manages API keys and company settings.
var (
	readConfig = allow(func(p store.Principal) bool { return p.Role == dialplan.RoleAdmin || p.Role == dialplan.RoleSupervisor },
		"agents cannot read the company's configuration")
	admin = allow(func(p store.Principal) bool { return p.Role == dialplan.RoleAdmin },
		"only admins can change configuration")
	supervisors = allow(func(p store.Principal) bool { return p.Role == dialplan.RoleAdmin || p.Role == dialplan.RoleSupervisor },
		"only supervisors and admins supervise calls")
	liveReaders = allow(func(p store.Principal) bool {
		return p.Role == dialplan.RoleAdmin || p.Role == dialplan.RoleSupervisor || p.Owner
	}, "only supervisors, admins and owners watch the live view")
	owner = allow(func(p store.Principal) bool { return p.Owner },
		"only an owner can do this")
)

func allow(may func(store.Principal) bool, why string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !may(principal(c)) {
			abort(c, http.StatusForbidden, "forbidden", why)
			return
		}
		c.Next()
	}
}

// selfOrReader lets admins and supervisors read any user, agents only
// themselves.
func selfOrReader(p store.Principal, id dialplan.UserID) error {
	if p.Role == dialplan.RoleAgent && p.User != id {
		return forbidden("agents can only see their own user")
	}
	return nil
}

// selfOrAdmin lets admins change any user, others only themselves.
func selfOrAdmin(p store.Principal, id dialplan.UserID) error {
	if p.Role != dialplan.RoleAdmin && p.User != id {
		return forbidden("only admins can change another user")
	}
	return nil
}
