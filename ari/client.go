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
type client struct {
	base     string // http://host:8088/ari
	user     string
	password string
	http     *http.Client
	timeout  time.Duration
}

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
func (c *client) open(ctx context.Context, path string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ARI GET %s: %w", path, err)
	}
	req.SetBasicAuth(c.user, c.password)
	timer := time.AfterFunc(c.timeout, cancel)
	res, err := c.http.Do(req)
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

// notFound says whether err is Asterisk's "not found" for a channel,
// bridge or playback that is gone: a 404, or the 400 "Channel not found"
// that addChannel gives for a channel in its body.
func notFound(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.Status == http.StatusNotFound ||
		se.Status == http.StatusBadRequest && strings.HasSuffix(se.Message, "not found"))
}

func newClient(base, user, password string, timeout time.Duration) *client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	return &client{base: strings.TrimRight(base, "/") + "/ari", user: user, password: password,
		http: &http.Client{Transport: transport}, timeout: timeout}
}

// do sends one request; query goes in the URL, body (when not nil) as
// JSON; out (when not nil) receives the JSON answer.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
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
