package esl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by a command on a connection that has ended.
var ErrClosed = errors.New("esl: connection closed")

// ErrNoReply is a command that was sent (or partly sent) but whose reply
// never came: the connection ended or the context did first. FreeSWITCH
// may have carried it out.
var ErrNoReply = errors.New("esl: no reply")

// ErrAuth is FreeSWITCH refusing the password.
var ErrAuth = errors.New("esl: FreeSWITCH refused the event-socket password")

// ReplyError is FreeSWITCH's answer to a command that failed: a
// command/reply whose Reply-Text starts with "-" (-ERR invalid session id
// […]), or an api/response body that does (-ERR No such channel!, -ERROR,
// -USAGE: …).
type ReplyError struct {
	Command string // the command's first words
	Text    string // FreeSWITCH's text, without the trailing newline
}

func (e *ReplyError) Error() string { return fmt.Sprintf("esl %s: %s", e.Command, e.Text) }

// Client is one inbound event-socket connection to FreeSWITCH. Commands
// may be sent from any goroutine: they are written one after the other and
// FreeSWITCH answers them in the order it read them, so each waits for its
// own reply at the head of a queue (pipelined, not one round trip at a
// time). One goroutine reads the socket: it hands replies to the waiting
// commands and events to the handler, in the order FreeSWITCH sent them.
type Client struct {
	nc      net.Conn
	br      *bufio.Reader
	onEvent func(*Event)
	timeout time.Duration
	// observe, when set, is told of every command once answered (or
	// failed): its name (commandName), how long it took, its error. Set
	// before the first command is sent (Config.Observe).
	observe func(command string, d time.Duration, err error)

	wmu sync.Mutex // one command on the wire at a time

	pmu     sync.Mutex
	pending []chan reply // waiting commands, oldest first
	closed  bool
	err     error

	done chan struct{}
}

type reply struct {
	f   *frame
	err error
}

// Dial connects to FreeSWITCH's inbound event socket at addr and
// authenticates. onEvent receives every event, on the reading goroutine:
// it must not block, and must not wait for a reply of this Client (that
// reply is read by the goroutine it blocks). timeout bounds each command
// whose context has no deadline (and each write).
func Dial(ctx context.Context, addr, password string, timeout time.Duration, onEvent func(*Event)) (*Client, error) {
	if strings.ContainsAny(password, "\r\n") {
		return nil, fmt.Errorf("esl: the password must be one line")
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("esl: connect %s: %w", addr, err)
	}
	c := &Client{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), onEvent: onEvent, timeout: timeout, done: make(chan struct{})}
	if err := c.auth(dctx, password); err != nil {
		nc.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

// auth is the greeting: FreeSWITCH sends auth/request at once, we answer
// with the password, it says +OK accepted or -ERR invalid (and hangs up).
func (c *Client) auth(ctx context.Context, password string) error {
	deadline, _ := ctx.Deadline()
	c.nc.SetDeadline(deadline)
	defer c.nc.SetDeadline(time.Time{})
	f, err := readFrame(c.br)
	if err != nil {
		return fmt.Errorf("esl: greeting: %w", err)
	}
	if ct := f.contentType(); ct != "auth/request" {
		if ct == "text/rude-rejection" {
			return fmt.Errorf("esl: FreeSWITCH refused the connection (event_socket.conf.xml apply-inbound-acl): %s", strings.TrimSpace(string(f.body)))
		}
		return fmt.Errorf("esl: greeting: want auth/request, got %q", ct)
	}
	if _, err := c.nc.Write([]byte("auth " + password + "\n\n")); err != nil {
		return fmt.Errorf("esl: auth: %w", err)
	}
	f, err = readFrame(c.br)
	if err != nil {
		return fmt.Errorf("esl: auth: %w", err)
	}
	if text := f.get("Reply-Text"); !strings.HasPrefix(text, "+OK") {
		return fmt.Errorf("%w (%s)", ErrAuth, text)
	}
	return nil
}

// read is the one reading goroutine.
func (c *Client) read() {
	c.shut(c.readLoop())
}

func (c *Client) readLoop() error {
	for {
		f, err := readFrame(c.br)
		if err != nil {
			return err
		}
		switch f.contentType() {
		case "command/reply", "api/response":
			c.pmu.Lock()
			if len(c.pending) == 0 {
				c.pmu.Unlock()
				return fmt.Errorf("%w: a reply nobody asked for", errFrame)
			}
			w := c.pending[0]
			c.pending[0] = nil
			c.pending = c.pending[1:]
			c.pmu.Unlock()
			w <- reply{f: f}
		case "text/event-plain":
			e, err := parsePlainEvent(f.body)
			if err != nil {
				continue // one unreadable event does not end the link
			}
			if c.onEvent != nil {
				c.onEvent(e)
			}
		default:
			// text/disconnect-notice (FreeSWITCH closes next), log/data
			// and anything newer: nothing to do.
		}
	}
}

// shut ends the connection once: every waiting command fails.
func (c *Client) shut(err error) {
	c.pmu.Lock()
	if c.closed {
		c.pmu.Unlock()
		return
	}
	c.closed = true
	if err == nil {
		err = ErrClosed
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.pmu.Unlock()
	c.nc.Close()
	for _, w := range pending {
		w <- reply{err: fmt.Errorf("%w: %w: %v", ErrNoReply, ErrClosed, err)}
	}
	close(c.done)
}

// Close ends the connection.
func (c *Client) Close() error {
	c.nc.Close()
	<-c.done
	return nil
}

// Done is closed when the connection has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is up).
func (c *Client) Err() error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.err
}

// send writes one command (its first line, header lines, an optional body)
// and waits for its reply.
func (c *Client) send(ctx context.Context, raw string) (*frame, error) {
	if c.observe == nil {
		return c.exchange(ctx, raw)
	}
	start := time.Now()
	f, err := c.exchange(ctx, raw)
	failed := err
	if err == nil {
		failed = f.replyError(raw)
	}
	c.observe(commandName(raw), time.Since(start), failed)
	return f, err
}

// exchange is send without the observing.
func (c *Client) exchange(ctx context.Context, raw string) (*frame, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("esl %s: %w", firstWords(raw), err) // not sent
	}
	w := make(chan reply, 1)
	c.wmu.Lock()
	c.pmu.Lock()
	if c.closed {
		c.pmu.Unlock()
		c.wmu.Unlock()
		return nil, ErrClosed
	}
	// Queued before it is written: the reply may be read before Write
	// returns.
	c.pending = append(c.pending, w)
	c.pmu.Unlock()
	// Every write gets its own deadline, cleared afterwards, so that a
	// deadline of one command never cuts the next one short.
	c.nc.SetWriteDeadline(deadline)
	_, err := c.nc.Write([]byte(raw))
	c.nc.SetWriteDeadline(time.Time{})
	c.wmu.Unlock()
	if err != nil {
		// Part of a command may be on the wire: the stream is unusable.
		c.nc.Close()
		return nil, fmt.Errorf("%w: write: %w", ErrNoReply, err)
	}
	select {
	case r := <-w:
		return r.f, r.err
	case <-ctx.Done():
		// The reply still comes and is dropped at the head of the queue.
		return nil, fmt.Errorf("%w to %s: %w", ErrNoReply, firstWords(raw), ctx.Err())
	}
}

// command sends a command whose answer is a command/reply.
func (c *Client) command(ctx context.Context, raw string) (*frame, error) {
	f, err := c.send(ctx, raw)
	if err != nil {
		return nil, err
	}
	if text := f.get("Reply-Text"); strings.HasPrefix(text, "-") {
		return f, &ReplyError{Command: firstWords(raw), Text: text}
	}
	return f, nil
}

// API runs a FreeSWITCH API command (`api <cmd>`) and returns its output.
// An output starting with "-" (-ERR …, -USAGE: …) is a *ReplyError. The
// output is FreeSWITCH's own: most end with a newline, some (uuid_exists,
// uuid_getvar, show … as json) do not. A synchronous api blocks this
// connection's events until it returns: use BgAPI for anything slow.
func (c *Client) API(ctx context.Context, cmd string) (string, error) {
	if err := oneLine(cmd); err != nil {
		return "", err
	}
	f, err := c.send(ctx, "api "+cmd+"\n\n")
	if err != nil {
		return "", err
	}
	out := string(f.body)
	if strings.HasPrefix(out, "-") {
		return out, &ReplyError{Command: "api " + firstWords(cmd), Text: strings.TrimRight(out, "\n")}
	}
	return out, nil
}

// BgAPI runs an API command in the background under jobID (a uuid the
// caller chose, so that it can expect the job's BACKGROUND_JOB event before
// the command is even sent). The result comes as that event's body.
func (c *Client) BgAPI(ctx context.Context, cmd, jobID string) error {
	if err := oneLine(cmd); err != nil {
		return err
	}
	if err := oneLine(jobID); err != nil {
		return err
	}
	raw := "bgapi " + cmd + "\n"
	if jobID != "" {
		raw += "Job-UUID: " + jobID + "\n"
	}
	_, err := c.command(ctx, raw+"\n")
	return err
}

// SendMsg sends a message to a channel (`sendmsg <uuid>` with headers such
// as call-command: execute, execute-app-name, execute-app-arg,
// event-lock, Event-UUID). FreeSWITCH queues it and says +OK at once; the
// application's CHANNEL_EXECUTE / _COMPLETE follow, carrying Event-UUID as
// Application-UUID.
func (c *Client) SendMsg(ctx context.Context, uuid string, headers ...Header) error {
	if err := oneLine(uuid); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("sendmsg " + uuid + "\n")
	for _, h := range headers {
		if err := oneLine(h.Name + h.Value); err != nil {
			return err
		}
		b.WriteString(h.Name + ": " + h.Value + "\n")
	}
	b.WriteString("\n")
	_, err := c.command(ctx, b.String())
	return err
}

// Subscribe asks for events in the plain format: names such as
// CHANNEL_PARK, and CUSTOM followed by its subclasses (sofia::register).
func (c *Client) Subscribe(ctx context.Context, events ...string) error {
	list := strings.Join(events, " ")
	if err := oneLine(list); err != nil {
		return err
	}
	_, err := c.command(ctx, "event plain "+list+"\n\n")
	return err
}

// Header is one header line of a command.
type Header struct{ Name, Value string }

func oneLine(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("esl: a command argument spans lines: %q", clip(s))
	}
	return nil
}

// firstWords names a command in errors: its first two words.
func firstWords(raw string) string {
	line, _, _ := strings.Cut(raw, "\n")
	parts := strings.SplitN(line, " ", 3)
	if len(parts) > 2 {
		parts = parts[:2]
	}
	return strings.Join(parts, " ")
}

// replyError is FreeSWITCH's refusal in f, the reply to raw, as command
// and API read it; nil when it is a success.
func (f *frame) replyError(raw string) error {
	if text := f.get("Reply-Text"); strings.HasPrefix(text, "-") {
		return &ReplyError{Command: firstWords(raw), Text: text}
	}
	if f.contentType() == "api/response" && strings.HasPrefix(string(f.body), "-") {
		return &ReplyError{Command: firstWords(raw), Text: strings.TrimRight(string(f.body), "\n")}
	}
	return nil
}

// commandName names a command for metrics, in a few words whatever its
// arguments: an api command by its own first word ("uuid_bridge"), a
// background one as "bgapi originate", any other by its first word
// ("sendmsg", "event"). A name that is not a plain word is "other".
func commandName(raw string) string {
	line, _, _ := strings.Cut(raw, "\n")
	words := strings.Fields(line)
	name := "other"
	switch {
	case len(words) == 0:
	case words[0] == "api" && len(words) > 1:
		name = words[1]
	case words[0] == "bgapi" && len(words) > 1:
		if !plainWord(words[1]) {
			return "bgapi other"
		}
		return "bgapi " + words[1]
	default:
		name = words[0]
	}
	if !plainWord(name) {
		return "other"
	}
	return name
}

// plainWord says whether s looks like a FreeSWITCH command's name.
func plainWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
