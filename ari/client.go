package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client is a small ARI REST client over net/http: every request is bound
// by its context's deadline (the ARI library we evaluated sets no HTTP
// timeout), and errors keep Asterisk's status and message.
//
// Its connections are few and kept alive. Asterisk serves at most 100
// HTTP sessions at once (http.conf sessionlimit), the events websocket
// included, and closes the connection of the next one at once: its
// request fails with EOF (a caller never answered, or never sent a BYE).
// So requests wait for one of a bounded pool of connections rather than
// open one more, and reuse them rather than pay a TCP handshake and a
// session thread of Asterisk's each.
type client struct {
	base     string // http://host:8088/ari
	user     string
	password string
	http     *http.Client // call control: MaxConnections connections
	files    *http.Client // recordings' downloads: fileConnections of their own
	timeout  time.Duration
	// observe, when set, is told of each request's route, duration and
	// error (Config.Observe).
	observe func(route string, d time.Duration, err error)
}

// DefaultMaxConnections bounds the connections of call control when
// Config.MaxConnections is zero. Well under Asterisk's 100 sessions, so
// that the events websocket, the downloads of recordings
// (fileConnections), a second switchboard taking over
// (ApplicationReplaced), the end-to-end suite's observer and an
// operator's curl still get in. And enough: 200 calls/s (twice the knee
// measured) at about 5 requests a call, answered in 10 ms each, keeps 10
// requests in flight (Little's law); 32 leaves room for answers three
// times slower. More would not make Asterisk answer sooner: it serves
// each connection on a thread of its own, so past its cores requests
// only queue there instead of here, where they wait in order.
const DefaultMaxConnections = 32

// fileConnections bounds the downloads of recordings, apart from call
// control: a slow reader of a large file holds its connection as long as
// it reads, and must never make a hang-up wait for a connection.
const fileConnections = 4

// idleTimeout closes a pooled connection before Asterisk does: Asterisk
// closes a keep-alive connection after 15 s idle (session_keep_alive;
// measured on 22.10.1), and a POST written on a connection it is closing
// fails with EOF and is not retried (net/http replays only idempotent
// requests).
const idleTimeout = 10 * time.Second

// statusError is a non-2xx answer of Asterisk.
type statusError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("ARI %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// open GETs path and hands back the response body as it arrives (a
// recording may be large): the deadline bounds the wait for the response,
// not the reading, which ctx bounds.
func (c *client) open(ctx context.Context, path string) (_ io.ReadCloser, err error) {
	if c.observe != nil {
		defer c.timed(http.MethodGet, path, time.Now(), &err)
	}
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ARI GET %s: %w", path, err)
	}
	req.SetBasicAuth(c.user, c.password)
	timer := time.AfterFunc(c.timeout, cancel)
	res, err := c.files.Do(req)
	if !timer.Stop() && err == nil {
		res.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ARI GET %s: %w", path, err)
	}
	if res.StatusCode/100 != 2 {
		defer cancel()
		defer res.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return nil, &statusError{Method: http.MethodGet, Path: path, Status: res.StatusCode, Message: strings.TrimSpace(string(raw))}
	}
	return cancelOnClose{res.Body, cancel}, nil
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	defer b.cancel()
	return b.ReadCloser.Close()
}

// hasStatus says whether err is Asterisk's answer with that status.
func hasStatus(err error, status int) bool {
	var se *statusError
	return errors.As(err, &se) && se.Status == status
}

// notFound says whether err is Asterisk's "not found" for a channel,
// bridge or playback that is gone: a 404, or the 400 "Channel not found"
// that addChannel gives for a channel in its body.
func notFound(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.Status == http.StatusNotFound ||
		se.Status == http.StatusBadRequest && strings.HasSuffix(se.Message, "not found"))
}

func newClient(base, user, password string, timeout time.Duration, maxConns int) *client {
	return &client{base: strings.TrimRight(base, "/") + "/ari", user: user, password: password,
		http: pooled(maxConns), files: pooled(fileConnections), timeout: timeout}
}

// pooled is an HTTP client of at most n connections, all kept for reuse:
// a request waits (within its context) for one to be free.
func pooled(n int) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxConnsPerHost = n
	transport.MaxIdleConnsPerHost = n // none closed after a burst, to be opened again at the next
	transport.MaxIdleConns = n
	transport.IdleConnTimeout = idleTimeout
	return &http.Client{Transport: transport}
}

// do sends one request; query goes in the URL, body (when not nil) as
// JSON; out (when not nil) receives the JSON answer.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body, out any) (err error) {
	if c.observe != nil {
		defer c.timed(method, path, time.Now(), &err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("ARI %s %s: %w", method, path, err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return fmt.Errorf("ARI %s %s: %w", method, path, err)
	}
	req.SetBasicAuth(c.user, c.password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("ARI %s %s: %w", method, path, err)
	}
	// Read to the end (and close) so that the connection goes back to the
	// pool.
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("ARI %s %s: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		var msg struct {
			Message string `json:"message"`
		}
		json.Unmarshal(raw, &msg)
		if msg.Message == "" {
			msg.Message = strings.TrimSpace(string(raw))
		}
		return &statusError{Method: method, Path: path, Status: res.StatusCode, Message: msg.Message}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("ARI %s %s: %w", method, path, err)
		}
	}
	return nil
}

// timed tells observe of a request that began at start and ended with
// *err.
func (c *client) timed(method, path string, start time.Time, err *error) {
	c.observe(method+" "+routeOf(path), time.Since(start), *err)
}

// routeOf is path as ARI's route template, its ids taken out:
// "/channels/1.2/play/pb-7" is "/channels/{id}/play/{id}". After the
// resource come an id and a verb in turn (a recording's kind, live or
// stored, comes first; an endpoint has a technology and a resource). A
// verb is a word of our code; anything else in its place is taken for an
// id too, so that the routes stay few whatever the path holds.
func routeOf(path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if !isWord(segs[0]) {
		return "/{other}"
	}
	first := 1 // where the ids begin: segs[first], segs[first+2], …
	switch segs[0] {
	case "recordings":
		if len(segs) > 1 && (segs[1] == "live" || segs[1] == "stored") {
			first = 2
		}
	case "endpoints":
		for i, name := range []string{"{tech}", "{resource}"} {
			if i+1 < len(segs) {
				segs[i+1] = name
			}
		}
		first = 4 // past /endpoints/{tech}/{resource}/sendMessage
	}
	for i := 1; i < len(segs); i++ {
		switch {
		case segs[i] == "{tech}" || segs[i] == "{resource}":
		case i >= first && (i-first)%2 == 0, !isWord(segs[i]):
			segs[i] = "{id}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// isWord says whether s is a verb of ARI's routes: a few letters, no id.
func isWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '_' {
			return false
		}
	}
	return true
}
