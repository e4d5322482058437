package esltest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// frame is one frame read from the emulator, as a controller sees it.
type frame struct {
	raw     string
	headers []Header // outer headers, in order
	body    string
	ev      *parsedEvent // text/event-plain and text/event-json
}

func (f frame) header(name string) string {
	for _, h := range f.headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func (f frame) contentType() string { return f.header("Content-Type") }

// parsedEvent is a decoded event: headers in wire order (decoded), body.
type parsedEvent struct {
	headers []Header
	body    string
}

func (e *parsedEvent) get(name string) string {
	for _, h := range e.headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

func (e *parsedEvent) name() string { return e.get("Event-Name") }

// logEntry is one thing the test client sent or received.
type logEntry struct {
	send bool
	raw  string
	f    frame
}

// client is a bare ESL client over a net.Conn, the way a controller would
// talk to FreeSWITCH: it writes command bytes and reads frames.
type client struct {
	t  *testing.T
	nc net.Conn

	frames chan frame
	done   chan struct{}

	mu      sync.Mutex
	log     []logEntry
	pending []frame // read but not consumed yet
	closed  bool
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	return newClient(t, nc)
}

func newClient(t *testing.T, nc net.Conn) *client {
	c := &client{t: t, nc: nc, frames: make(chan frame, 4096), done: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { nc.Close() })
	return c
}

func (c *client) readLoop() {
	defer close(c.done)
	r := bufio.NewReader(c.nc)
	for {
		f, err := readFrame(r)
		if err != nil {
			return
		}
		c.mu.Lock()
		c.log = append(c.log, logEntry{f: f, raw: f.raw})
		c.mu.Unlock()
		c.frames <- f
	}
}

// readFrame reads one frame: headers up to a blank line, then exactly
// Content-Length body bytes.
func readFrame(r *bufio.Reader) (frame, error) {
	var f frame
	var raw strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return f, err
		}
		raw.WriteString(line)
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if len(f.headers) == 0 {
				continue
			}
			break
		}
		name, value, _ := strings.Cut(line, ": ")
		f.headers = append(f.headers, Header{name, value})
	}
	if n, _ := strconv.Atoi(f.header("Content-Length")); n > 0 {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return f, err
		}
		f.body = string(b)
		raw.Write(b)
	}
	f.raw = raw.String()
	switch f.contentType() {
	case "text/event-plain":
		f.ev = parsePlain(f.body)
	case "text/event-json":
		f.ev = parseJSON(f.body)
	}
	return f, nil
}

func parsePlain(body string) *parsedEvent {
	e := &parsedEvent{}
	head, rest, _ := strings.Cut(body, "\n\n")
	for _, line := range strings.Split(head, "\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		if v, err := url.QueryUnescape(strings.ReplaceAll(value, "+", "%2B")); err == nil {
			value = v
		}
		e.headers = append(e.headers, Header{name, value})
	}
	if e.get("Content-Length") != "" {
		e.body = rest
	}
	return e
}

// parseJSON decodes a JSON event keeping key order and duplicate keys.
func parseJSON(body string) *parsedEvent {
	e := &parsedEvent{}
	d := json.NewDecoder(strings.NewReader(body))
	if _, err := d.Token(); err != nil {
		return e
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return e
		}
		var v any
		if err := d.Decode(&v); err != nil {
			return e
		}
		switch x := v.(type) {
		case string:
			if k == "_body" {
				e.body = x
				continue
			}
			e.headers = append(e.headers, Header{k.(string), x})
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			e.headers = append(e.headers, Header{k.(string), "ARRAY::" + strings.Join(parts, "|:")})
		}
	}
	return e
}

// send writes a command (the terminating blank line is added).
func (c *client) send(cmd string) {
	c.t.Helper()
	raw := cmd + "\n\n"
	c.sendRaw(raw)
}

func (c *client) sendRaw(raw string) {
	c.t.Helper()
	c.mu.Lock()
	c.log = append(c.log, logEntry{send: true, raw: raw})
	c.mu.Unlock()
	_, err := io.WriteString(c.nc, raw)
	require.NoError(c.t, err)
}

// next returns the next frame not consumed yet.
func (c *client) next(timeout time.Duration) (frame, error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		f := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		return f, nil
	}
	c.mu.Unlock()
	select {
	case f := <-c.frames:
		return f, nil
	case <-c.done:
		select {
		case f := <-c.frames:
			return f, nil
		default:
		}
		return frame{}, io.EOF
	case <-time.After(timeout):
		return frame{}, errors.New("timeout")
	}
}

// reply returns the next reply (command/reply, api/response, ...), leaving
// events for later.
func (c *client) reply() frame {
	c.t.Helper()
	var skipped []frame
	defer func() {
		c.mu.Lock()
		c.pending = append(skipped, c.pending...)
		c.mu.Unlock()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := c.next(time.Until(deadline))
		require.NoError(c.t, err, "waiting for a reply")
		if f.ev != nil {
			skipped = append(skipped, f)
			continue
		}
		return f
	}
}

// cmd sends a command and returns its reply.
func (c *client) cmd(cmd string) frame {
	c.t.Helper()
	c.send(cmd)
	return c.reply()
}

// api runs `api <cmd>` and returns the body.
func (c *client) api(cmd string) string {
	c.t.Helper()
	f := c.cmd("api " + cmd)
	require.Equal(c.t, "api/response", f.contentType(), f.raw)
	return f.body
}

// waitEvent returns the first unconsumed event matching pred; events before
// it stay unconsumed.
func (c *client) waitEvent(pred func(*parsedEvent) bool) *parsedEvent {
	c.t.Helper()
	var skipped []frame
	defer func() {
		c.mu.Lock()
		c.pending = append(skipped, c.pending...)
		c.mu.Unlock()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := c.next(time.Until(deadline))
		require.NoError(c.t, err, "waiting for an event")
		if f.ev != nil && pred(f.ev) {
			return f.ev
		}
		skipped = append(skipped, f)
	}
}

// until consumes events up to and including the first matching pred and
// returns them all (replies met on the way stay pending).
func (c *client) until(pred func(*parsedEvent) bool) []*parsedEvent {
	c.t.Helper()
	var skipped []frame
	defer func() {
		c.mu.Lock()
		c.pending = append(skipped, c.pending...)
		c.mu.Unlock()
	}()
	var out []*parsedEvent
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := c.next(time.Until(deadline))
		require.NoError(c.t, err, "waiting for an event")
		if f.ev == nil {
			skipped = append(skipped, f)
			continue
		}
		out = append(out, f.ev)
		if pred(f.ev) {
			return out
		}
	}
}

func named(name string, uuid string) func(*parsedEvent) bool {
	return func(e *parsedEvent) bool {
		return e.name() == name && (uuid == "" || e.get("Unique-ID") == uuid)
	}
}

// expectClosed waits for the emulator to close the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.t.Fatal("connection still open")
	}
}

// drain waits d and returns the frames that arrived meanwhile (frames
// read earlier and not consumed stay pending).
func (c *client) drain(d time.Duration) []frame {
	var out []frame
	deadline := time.After(d)
	for {
		select {
		case f := <-c.frames:
			out = append(out, f)
		case <-deadline:
			return out
		}
	}
}

// entries returns a copy of what the client sent and received.
func (c *client) entries() []logEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]logEntry(nil), c.log...)
}

// login connects and authenticates.
func login(t *testing.T, s *Server) *client {
	t.Helper()
	c := dial(t, s.Addr())
	f, err := c.next(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "Content-Type: auth/request\n\n", f.raw)
	require.Equal(t, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n", c.cmd("auth ClueCon").raw)
	return c
}
