package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
)

// TestMetricsMiddleware: Deps.Metrics sees every request once it is
// answered, with its route (the template, not the path) and its status:
// those refused by authentication, and those no route matches, too.
func TestMetricsMiddleware(t *testing.T) {
	type seen struct {
		route, method string
		status        int
	}
	var (
		mu  sync.Mutex
		got []seen
	)
	e := newEnvWith(t, func(d *api.Deps) {
		d.Metrics = func(c *gin.Context) {
			c.Next()
			mu.Lock()
			defer mu.Unlock()
			got = append(got, seen{c.FullPath(), c.Request.Method, c.Writer.Status()})
		}
	})
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/healthz"},
		{http.MethodGet, "/v1/numbers/5"}, // no credentials
		{http.MethodGet, "/no/such/route"},
		{http.MethodDelete, "/healthz"},
	} {
		req, err := http.NewRequest(r.method, e.url+r.path, strings.NewReader(""))
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []seen{
		{"/healthz", http.MethodGet, http.StatusOK},
		{"/v1/numbers/:id", http.MethodGet, http.StatusUnauthorized},
		{"", http.MethodGet, http.StatusNotFound},
		{"", http.MethodDelete, http.StatusMethodNotAllowed},
	}, got)
}
