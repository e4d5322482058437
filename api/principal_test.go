package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// TestWithPrincipal: a request whose context carries a principal acts as
// it, with its role's rules, without credentials; over the network,
// nothing stands for credentials.
func TestWithPrincipal(t *testing.T) {
	e := newEnv(t)
	admin := e.company("Acme", "owner@acme.test")
	agent := e.userKey(admin, "agnes@acme.test", dialplan.RoleAgent, false)
	handler := api.NewServer(e.deps)
	as := func(k key) store.Principal {
		role := dialplan.RoleAdmin
		if k.user == agent.user {
			role = dialplan.RoleAgent
		}
		return store.Principal{Company: k.company, User: k.user, Role: role}
	}
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		method string
		path   string
		body   string
		status int
	}{
		{"admin lists users", api.WithPrincipal(context.Background(), as(admin)), "GET", "/v1/users", "", http.StatusOK},
		{"agent reads themselves", api.WithPrincipal(context.Background(), as(agent)), "GET", "/v1/users/" + itoa(agent.user), "", http.StatusOK},
		{"agent may not list users", api.WithPrincipal(context.Background(), as(agent)), "GET", "/v1/users", "", http.StatusForbidden},
		{"agent may not create a user", api.WithPrincipal(context.Background(), as(agent)), "POST", "/v1/users",
			`{"first_name":"X","email":"x@acme.test","role":"agent"}`, http.StatusForbidden},
		{"no principal, no credentials", context.Background(), "GET", "/v1/users", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(tc.ctx, tc.method, tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
		})
	}
}

func itoa(id dialplan.UserID) string { return strconv.FormatInt(int64(id), 10) }
