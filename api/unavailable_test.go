package api_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/store"
)

// TestDatabaseUnavailable: with PostgreSQL not answering, a request is a
// 503 that says so and when to retry, not a 500.
func TestDatabaseUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close()) // nothing listens there any more
	db, err := sqlx.Open("postgres", fmt.Sprintf("host=127.0.0.1 port=%d user=x dbname=x sslmode=disable connect_timeout=5", port))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer(api.NewServer(api.Deps{Store: store.New(db)}))
	t.Cleanup(srv.Close)

	for _, path := range []string{"/v1/ping", "/v1/calls"} {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		req.SetBasicAuth("0123456789abcdef0123456789abcdef", "secret")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "%s: %s", path, body)
		require.Equal(t, "5", res.Header.Get("Retry-After"))
		require.JSONEq(t, `{"error": "database unavailable", "troubleshoot": "PostgreSQL does not answer: nothing was done; retry in a few seconds"}`, string(body))
	}
	res, err := http.Get(srv.URL + "/readyz")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "not ready either")
}
