package api_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
)

// minuteClock is a clock the test moves, a few seconds into a minute.
type minuteClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *minuteClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *minuteClock) next() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Truncate(time.Minute).Add(time.Minute + 5*time.Second)
}

func limitedEnv(t *testing.T, limits api.Limits, proxies ...string) (*env, *minuteClock) {
	clock := &minuteClock{t: time.Date(2026, 11, 23, 10, 15, 15, 0, time.UTC)}
	e := newEnvWith(t, func(d *api.Deps) { d.Now, d.Limits, d.TrustedProxies = clock.Now, limits, proxies })
	return e, clock
}

func TestRateLimitPerKey(t *testing.T) {
	e, clock := limitedEnv(t, api.Limits{PerKey: 3})
	a := e.company("Acme", "owner@acme.test")
	b := e.company("Globex", "owner@globex.test")
	reset := strconv.FormatInt(time.Date(2026, 11, 23, 10, 16, 0, 0, time.UTC).Unix(), 10)
	for i := range 3 {
		res, body := e.get(a, "GET", "/v1/ping", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
		require.Equal(t, "3", res.Header.Get("X-AircallApi-Limit"), "Aircall's headers")
		require.Equal(t, strconv.Itoa(2-i), res.Header.Get("X-AircallApi-Remaining"))
		require.Equal(t, reset, res.Header.Get("X-AircallApi-Reset"))
	}
	status, out := e.do(a, "GET", "/v1/company", nil)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "too many requests", out["error"])
	require.Contains(t, out["troubleshoot"], "more than 3 requests this minute")
	res, _ := e.get(a, "GET", "/v1/ping", nil)
	require.Equal(t, "45", res.Header.Get("Retry-After"), "until the minute ends")
	require.Equal(t, "0", res.Header.Get("X-AircallApi-Remaining"))

	res, _ = e.get(b, "GET", "/v1/ping", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "another key has its own count")
	clock.next()
	res, _ = e.get(a, "GET", "/v1/ping", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "a new minute")
}

func TestFailedAuthThrottle(t *testing.T) {
	e, clock := limitedEnv(t, api.Limits{FailedAuth: 2})
	a := e.company("Acme", "owner@acme.test")
	wrong := key{id: a.id, token: "0000000000000000000000000000000000000000000000000000000000000000"}
	for range 2 {
		status, _ := e.do(wrong, "GET", "/v1/ping", nil)
		require.Equal(t, http.StatusUnauthorized, status)
	}
	status, out := e.do(a, "GET", "/v1/ping", nil)
	require.Equal(t, http.StatusTooManyRequests, status, "the address guessed keys: refused, the right key too")
	require.Contains(t, out["troubleshoot"], "2 requests from 127.0.0.1 had wrong credentials this minute")
	res, _ := e.get(a, "GET", "/healthz", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "probes are not limited")
	clock.next()
	status, _ = e.do(a, "GET", "/v1/ping", nil)
	require.Equal(t, http.StatusOK, status)
}

func TestRateLimitPerAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		spoofed bool // X-Forwarded-For tells addresses apart
	}{
		{"X-Forwarded-For from anyone is not believed", nil, false},
		{"from a trusted proxy it names the client", []string{"127.0.0.1"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := limitedEnv(t, api.Limits{PerAddress: 2}, tc.proxies...)
			a := e.company("Acme", "owner@acme.test")
			from := func(addr string) int {
				res, _ := e.get(a, "GET", "/v1/ping", map[string]string{"X-Forwarded-For": addr})
				return res.StatusCode
			}
			require.Equal(t, http.StatusOK, from("203.0.113.7"))
			require.Equal(t, http.StatusOK, from("203.0.113.7"))
			require.Equal(t, http.StatusTooManyRequests, from("203.0.113.7"))
			want := http.StatusTooManyRequests
			if tc.spoofed {
				want = http.StatusOK
			}
			require.Equal(t, want, from("203.0.113.8"))
		})
	}
}
