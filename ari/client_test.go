package ari

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// connCounter is a test ARI server that counts the connections it
// accepts and the requests it holds at once. Each request waits until
// as many are held as the client may open (or the test lets them go),
// so that the client's pool is seen full.
type connCounter struct {
	srv      *httptest.Server
	accepted atomic.Int32
	inFlight atomic.Int32
	peak     atomic.Int32
	full     chan struct{} // closed when inFlight first reaches the bound
	once     sync.Once
}

func newConnCounter(t *testing.T, bound int32) *connCounter {
	c := &connCounter{full: make(chan struct{})}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := c.inFlight.Add(1)
		for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
		}
		if n >= bound {
			c.once.Do(func() { close(c.full) })
		}
		select {
		case <-c.full:
		case <-r.Context().Done():
		}
		c.inFlight.Add(-1)
		w.WriteHeader(http.StatusNoContent)
	}))
	c.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			c.accepted.Add(1)
		}
	}
	c.srv.Start()
	t.Cleanup(c.srv.Close)
	return c
}

// TestClientBoundsConnections: however many requests at once, the client
// never opens more connections than its bound (Asterisk refuses the
// 101st session with EOF); requests wait for a free one, and the
// connections are reused, by the burst and by the next one.
func TestClientBoundsConnections(t *testing.T) {
	const bound, requests = 4, 100
	srv := newConnCounter(t, bound)
	// The timeout only keeps a broken pool from hanging the test.
	c := newClient(srv.srv.URL, "u", "p", time.Minute, bound)
	burst := func() {
		var wg sync.WaitGroup
		errs := make(chan error, requests)
		for range requests {
			wg.Go(func() { errs <- c.do(context.Background(), http.MethodPost, "/channels/x/answer", nil, nil, nil) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	burst()
	require.EqualValues(t, bound, srv.peak.Load(), "the requests ran %d at once", bound)
	require.LessOrEqual(t, srv.accepted.Load(), int32(bound), "never more connections than the bound")
	accepted := srv.accepted.Load()
	burst()
	require.Equal(t, accepted, srv.accepted.Load(), "the next burst reuses the connections")
}

// TestDownloadsApart: a recording being read holds a connection of its
// own pool; call control still gets one.
func TestDownloadsApart(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ari/recordings/stored/r/file" {
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("RIFF"))
			http.NewResponseController(w).Flush()
			<-release // a slow reader: the body never ends while the test runs
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(srv.URL, "u", "p", time.Minute, 1)
	f, err := c.open(context.Background(), "/recordings/stored/r/file")
	require.NoError(t, err)
	defer f.Close()
	head := make([]byte, 4)
	_, err = io.ReadFull(f, head)
	require.NoError(t, err)
	require.NoError(t, c.do(context.Background(), http.MethodPost, "/channels/x/answer", nil, nil, nil),
		"the one connection of call control is not the download's")
}

// TestRouteOf: a request is named by its route, whatever its ids, so
// that the metrics' command names are few.
func TestRouteOf(t *testing.T) {
	cases := []struct{ path, want string }{
		{"/channels", "/channels"},
		{"/channels/1761234567.42", "/channels/{id}"},
		{"/channels/1761234567.42/answer", "/channels/{id}/answer"},
		{"/channels/1761234567.42/play/pb-5f1c", "/channels/{id}/play/{id}"},
		{"/channels/abc/snoop/snoop-1", "/channels/{id}/snoop/{id}"},
		{"/bridges/b-1/addChannel", "/bridges/{id}/addChannel"},
		{"/playbacks/pb-5f1c", "/playbacks/{id}"},
		{"/recordings/live/call-42/pause", "/recordings/live/{id}/pause"},
		{"/recordings/stored/call-42/file", "/recordings/stored/{id}/file"},
		{"/applications/switchboard/eventFilter", "/applications/{id}/eventFilter"},
		{"/endpoints", "/endpoints"},
		{"/endpoints/PJSIP", "/endpoints/{tech}"},
		{"/endpoints/PJSIP/alice", "/endpoints/{tech}/{resource}"},
		{"/endpoints/PJSIP/alice/sendMessage", "/endpoints/{tech}/{resource}/sendMessage"},
		// Whatever would be an id where a verb goes is one too.
		{"/channels/a/0612345678", "/channels/{id}/{id}"},
		{"/channels/a/play%2Fx", "/channels/{id}/{id}"},
		{"/1761234567.42", "/{other}"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, routeOf(c.path), c.path)
	}
}

// TestObserve: observe is told of each request, downloads included,
// with its route and its error.
func TestObserve(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ari/channels/gone/answer" {
			http.Error(w, `{"message":"Channel not found"}`, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	type seen struct {
		route string
		err   error
	}
	var got []seen
	c := newClient(srv.URL, "u", "p", time.Minute, 1)
	c.observe = func(route string, d time.Duration, err error) {
		require.Positive(t, d)
		got = append(got, seen{route, err})
	}
	ctx := context.Background()
	require.NoError(t, c.do(ctx, http.MethodPost, "/channels/1761.2/answer", nil, nil, nil))
	gone := c.do(ctx, http.MethodPost, "/channels/gone/answer", nil, nil, nil)
	require.True(t, hasStatus(gone, http.StatusNotFound))
	f, err := c.open(ctx, "/recordings/stored/call-7/file")
	require.NoError(t, err)
	f.Close()
	require.Equal(t, []seen{
		{"POST /channels/{id}/answer", nil},
		{"POST /channels/{id}/answer", gone},
		{"GET /recordings/stored/{id}/file", nil},
	}, got)
}
