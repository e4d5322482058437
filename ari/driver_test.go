package ari_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/ari/aritest"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/internal/linkcut"
)

const line = "+33176390861"

// rig is the driver between the real engine (in-memory configuration and
// call log, real clock) and the ARI emulator, over real sockets.
type rig struct {
	ast      *aritest.Server
	driver   *ari.Driver
	engine   *dialplan.Engine
	dir      *dialplantest.Directory
	log      *dialplantest.CallLog
	devices  *deviceList
	presence *presenceLog
	logs     *logRecorder
	cut      *linkcut.Proxy
	cancel   context.CancelFunc
	done     chan struct{}
}

// rigOptions change a rig from its defaults.
type rigOptions struct {
	change func(n *dialplan.Number)
	// devices is what Config.Devices returns; default the users'
	// devices, PJSIP/alice and PJSIP/bob.
	devices []string
	// refresh is Config.DeviceRefresh; default the driver's.
	refresh time.Duration
	// before runs on the emulator before the driver connects.
	before func(ast *aritest.Server)
	// observe is Config.Observe.
	observe func(route string, d time.Duration, err error)
	// sound is how long a sound plays (50 ms when zero).
	sound time.Duration
	// audio is Config.Audio.
	audio dialplan.AudioSource
	// cut puts a proxy between the driver and the emulator that cuts
	// the events websocket on demand (r.cut), REST going through.
	cut bool
}

func newRig(t *testing.T, change func(n *dialplan.Number)) *rig {
	t.Helper()
	return newRigWith(t, rigOptions{change: change})
}

func newRigWith(t *testing.T, opts rigOptions) *rig {
	t.Helper()
	change := opts.change
	if opts.sound == 0 {
		opts.sound = 50 * time.Millisecond
	}
	ast := aritest.New(aritest.Options{App: "switchboard", SoundDuration: opts.sound})
	require.NoError(t, ast.Start())
	if opts.devices == nil {
		opts.devices = []string{"PJSIP/alice", "PJSIP/bob"}
	}
	r := &rig{ast: ast, dir: dialplantest.NewDirectory(), log: dialplantest.NewCallLog(), done: make(chan struct{}),
		devices: &deviceList{list: opts.devices}, logs: &logRecorder{}}
	company := dialplan.Company{ID: 1, Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	r.dir.Companies[1] = company
	for i, name := range []string{"alice", "bob"} {
		r.dir.SetUser(dialplan.User{ID: dialplan.UserID(i + 1), FirstName: name, Devices: []string{"PJSIP/" + name},
			AvailabilityStatus: dialplan.Available, TimeZone: "Europe/Paris"})
	}
	r.dir.Teams[10] = dialplan.Team{ID: 10, Name: "Support", Users: []dialplan.UserID{1, 2}, RingingRule: dialplan.Simultaneous, RingSliceSeconds: 5}
	n := dialplan.NewNumber()
	n.ID, n.Name, n.Digits = 100, "Sales", line
	n.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: 10, RingSeconds: 5}}
	if change != nil {
		change(&n)
	}
	require.NoError(t, n.Normalize(company))
	r.dir.Numbers[n.ID], r.dir.Owner[n.ID] = n, 1

	// The users' phones are in pjsip.conf, registered.
	for _, ep := range []string{"PJSIP/alice", "PJSIP/bob"} {
		require.NoError(t, ast.SetRegistered(ep, true))
	}
	if opts.before != nil {
		opts.before(ast)
	}
	base := ast.URL()
	if opts.cut {
		var err error
		r.cut, err = linkcut.New(strings.TrimPrefix(base, "http://"), "GET /ari/events")
		require.NoError(t, err)
		t.Cleanup(r.cut.Close)
		base = "http://" + r.cut.Addr()
	}
	r.driver = ari.New(ari.Config{URL: base, User: "asterisk", Password: "asterisk", App: "switchboard", Country: "FR",
		Devices: r.devices.get, DeviceRefresh: opts.refresh, Logger: slog.New(r.logs), Observe: opts.observe, Audio: opts.audio})
	acd := dialplan.NewACD(dialplan.WallClock{})
	r.presence = &presenceLog{next: acd}
	r.engine = dialplan.NewEngine(dialplan.Config{Directory: r.dir, CallLog: r.log, Media: r.driver, ACD: acd})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { defer close(r.done); r.driver.Run(ctx, r.engine, r.presence) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
		r.engine.Stop()
		ast.Close()
	})
	require.Eventually(t, func() bool { return r.driver.Ready(ctx) == nil }, 5*time.Second, 10*time.Millisecond)
	return r
}

// ended waits for the first call to be recorded as over and returns it
// with its timeline.
func (r *rig) ended(t *testing.T) (dialplan.Call, []events.Kind) {
	t.Helper()
	var (
		c     dialplan.Call
		names []events.Kind
	)
	require.Eventually(t, func() bool {
		c, names = r.log.Call(1)
		return c.Status == dialplan.CallDone
	}, 30*time.Second, 20*time.Millisecond, "the call never ended")
	return c, names
}

func TestAnsweredCall(t *testing.T) {
	r := newRig(t, nil)
	require.NoError(t, r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing}))
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, After: 300 * time.Millisecond, HangupAfter: 500 * time.Millisecond}))
	caller := r.ast.Call("0612345678", "0176390861", aritest.CallScript{})
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", names)
	require.NotNil(t, c.AnsweredAt)
	require.Equal(t, "+33612345678", c.RawDigits, "the caller's national number read in E.164")
	require.Contains(t, names, events.CallAnswered)
	<-caller.Done()
	// Alice's phone stopped ringing with "answered elsewhere" once Bob answered.
	var reasons []string
	for _, req := range r.ast.Requests() {
		if req.Method == "DELETE" && strings.HasPrefix(req.Path, "/ari/channels/") {
			reasons = append(reasons, req.Query.Get("reason"))
		}
	}
	require.Contains(t, reasons, "answered_elsewhere")
	require.Eventually(t, func() bool { return len(r.ast.Channels()) == 0 && len(r.ast.Bridges()) == 0 }, 5*time.Second, 20*time.Millisecond,
		"every channel hung up and the bridge deleted")
	// The call ran with Asterisk sending only the events the driver reads.
	var filter []string
	for _, req := range r.ast.Requests() {
		if req.Method == "PUT" && req.Path == "/ari/applications/switchboard/eventFilter" {
			filter = append(filter, req.Body)
		}
	}
	require.Len(t, filter, 1)
	for _, typ := range []string{"StasisStart", "Dial", "ChannelDestroyed", "ApplicationReplaced"} {
		require.Contains(t, filter[0], `{"type":"`+typ+`"}`)
	}
	require.NotContains(t, filter[0], "ChannelVarset")
}

// TestObserveRoutes: every REST request of a call is told to
// Config.Observe, named by its route (no channel or bridge id).
func TestObserveRoutes(t *testing.T) {
	var (
		mu     sync.Mutex
		routes = map[string]int{}
	)
	r := newRigWith(t, rigOptions{observe: func(route string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		routes[route]++
	}})
	require.NoError(t, r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing}))
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, After: 300 * time.Millisecond, HangupAfter: 500 * time.Millisecond}))
	caller := r.ast.Call("0612345678", "0176390861", aritest.CallScript{})
	r.ended(t)
	<-caller.Done()
	sent := func() int {
		n := 0
		for _, req := range r.ast.Requests() {
			if req.Path != "/ari/events" {
				n++
			}
		}
		return n
	}
	observed := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, c := range routes {
			n += c
		}
		return n
	}
	// Observe runs as each answer is read, after the emulator logged the
	// request.
	require.Eventually(t, func() bool { return observed() == sent() }, 5*time.Second, 10*time.Millisecond,
		"every request observed")
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"GET /channels", "PUT /applications/{id}/eventFilter", "POST /channels/{id}/answer",
		"POST /bridges/{id}", "POST /bridges/{id}/addChannel", "DELETE /channels/{id}"} {
		require.Contains(t, routes, want)
	}
	route := regexp.MustCompile(`^(GET|POST|PUT|DELETE) (/([A-Za-z_]+|\{(id|tech|resource)\}))+$`)
	for name := range routes {
		require.Regexp(t, route, name, "a route without ids")
	}
}

func TestAgentOutcomes(t *testing.T) {
	cases := []struct {
		name  string
		peer  aritest.Peer
		names []events.Kind
	}{
		{"busy", aritest.Peer{Action: aritest.PeerBusy}, []events.Kind{events.CallAgentDeclined}},
		{"declines", aritest.Peer{Action: aritest.PeerDecline, After: 200 * time.Millisecond}, []events.Kind{events.CallAgentDeclined}},
		{"rings out", aritest.Peer{Action: aritest.PeerRing}, []events.Kind{events.CallAgentNoAnswer}},
		{"unreachable", aritest.Peer{Action: aritest.PeerUnreachable}, []events.Kind{events.CallAgentNoAnswer}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, func(n *dialplan.Number) {
				n.Voicemail = false
				n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 1, RingSeconds: 5}}
			})
			require.NoError(t, r.ast.SetPeer("PJSIP/alice", tc.peer))
			caller := r.ast.Call("+33612345678", line, aritest.CallScript{})
			c, names := r.ended(t)
			require.Nil(t, c.AnsweredAt)
			for _, e := range tc.names {
				require.Contains(t, names, e)
			}
			select {
			case <-caller.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("the caller was not hung up")
			}
		})
	}
}

func TestIVRDigitStopsThePrompt(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Type = dialplan.IVR
		n.Messages = dialplan.Messages{}
		n.IVROptions = []dialplan.IVROption{{Key: "2", Target: dialplan.Target{Type: dialplan.TargetUser, ID: 2}}}
	})
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, After: 100 * time.Millisecond, HangupAfter: 300 * time.Millisecond}))
	r.ast.Call("+33612345678", line, aritest.CallScript{Digits: []aritest.Digit{{At: 500 * time.Millisecond, Digit: "2"}}})
	c, names := r.ended(t)
	require.Equal(t, []string{"2"}, c.IVROptions, "%v", names)
	require.Equal(t, dialplan.UserID(2), c.User)
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	r := newRig(t, nil)
	r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing})
	r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerRing})
	r.ast.Call("+33612345678", line, aritest.CallScript{HangupAfter: time.Second})
	c, names := r.ended(t)
	require.Equal(t, dialplan.ShortAbandoned, c.MissedReason, "%v", names)
	require.Eventually(t, func() bool { return len(r.ast.Channels()) == 0 }, 5*time.Second, 20*time.Millisecond,
		"the agents' phones stopped ringing")
}

func TestDevicePresence(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Voicemail = false
	})
	mark := r.presence.len()
	require.NoError(t, r.ast.SetRegistered("PJSIP/alice", false))
	r.presence.await(t, mark, "PJSIP/alice", false)
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, After: 100 * time.Millisecond, HangupAfter: 200 * time.Millisecond}))
	r.ast.Call("+33612345678", line, aritest.CallScript{})
	r.ended(t)
	for _, req := range r.ast.Requests() {
		if req.Method == "POST" && strings.HasPrefix(req.Path, "/ari/channels/") && req.Query.Get("endpoint") != "" {
			require.NotEqual(t, "PJSIP/alice", req.Query.Get("endpoint"), "an unregistered phone is not rung")
		}
	}
}

// TestReconnect: the event link drops while a call waits; the driver
// reconnects and the call goes on; a caller who left while the link was
// down is settled.
func TestReconnect(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 2, RingSeconds: 5}}
	})
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, After: 1500 * time.Millisecond, HangupAfter: 300 * time.Millisecond}))
	r.ast.Call("+33612345678", line, aritest.CallScript{})
	time.Sleep(500 * time.Millisecond)
	r.ast.DropWebsockets()
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "the call went on across the reconnect: %v", names)
	require.NoError(t, r.driver.Ready(context.Background()))
}

func TestRestartSettlesCalls(t *testing.T) {
	r := newRig(t, nil)
	r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing})
	r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerRing})
	r.ast.Call("+33612345678", line, aritest.CallScript{})
	require.Eventually(t, func() bool {
		_, names := r.log.Call(1)
		return slices.Contains(names, events.CallRingingOnAgent)
	}, 5*time.Second, 10*time.Millisecond)
	r.ast.Restart() // every channel gone, no event
	c, names := r.ended(t)
	require.Nil(t, c.AnsweredAt, "%v", names)
	require.Equal(t, "temporary_failure", c.HangupCause, "settled at the reconnect, not by the ring timer")
	require.Less(t, c.EndedAt.Sub(c.StartedAt), 4*time.Second)
}

// TestRecordedConversation: a line that records calls records the bridge
// (recording the caller's channel in a bridge fails in Asterisk), and the
// file is read back from Asterisk's stored recordings.
func TestRecordedConversation(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Recording.Inbound.Auto = true
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 2, RingSeconds: 5}}
	})
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, HangupAfter: 500 * time.Millisecond}))
	r.ast.Call("0612345678", "0176390861", aritest.CallScript{})
	c, names := r.ended(t)
	require.Contains(t, names, events.CallRecordingStarted, "%v", names)
	require.NotEmpty(t, c.Recording)
	var recorded bool
	for _, req := range r.ast.Requests() {
		recorded = recorded || (req.Method == "POST" && strings.HasPrefix(req.Path, "/ari/bridges/") && strings.HasSuffix(req.Path, "/record"))
	}
	require.True(t, recorded, "the bridge is recorded")

	ctx := context.Background()
	var f io.ReadCloser
	require.Eventually(t, func() bool {
		var err error
		f, err = r.driver.OpenRecording(ctx, c.Recording)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "stored once the bridge is gone")
	wav, err := io.ReadAll(f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, "RIFF", string(wav[:4]))
	for _, name := range []string{"call-404", "../../asterisk/info", ""} {
		_, err = r.driver.OpenRecording(ctx, name)
		require.ErrorIs(t, err, dialplan.ErrNoRecording, name)
		require.ErrorIs(t, r.driver.DeleteRecording(ctx, name), dialplan.ErrNoRecording, name)
	}

	// Deleted: gone from Asterisk.
	require.NoError(t, r.driver.DeleteRecording(ctx, c.Recording))
	_, err = r.driver.OpenRecording(ctx, c.Recording)
	require.ErrorIs(t, err, dialplan.ErrNoRecording)
	require.ErrorIs(t, r.driver.DeleteRecording(ctx, c.Recording), dialplan.ErrNoRecording, "deleted once")
}

// deviceList is Config.Devices for tests: what the store's query of
// users' devices would return, changed as an admin would through the API.
type deviceList struct {
	mu    sync.Mutex
	list  []string
	reads int
}

func (l *deviceList) get(context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	return slices.Clone(l.list), nil
}

func (l *deviceList) set(list ...string) {
	l.mu.Lock()
	l.list = list
	l.mu.Unlock()
}

// readCount is how many times the driver read the devices: one sync each.
func (l *deviceList) readCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads
}

// presenceLog records what the driver tells the ACD (and passes it on).
type presenceLog struct {
	mu   sync.Mutex
	next dialplan.Presence
	seen []string // "PJSIP/alice online"
}

func (p *presenceLog) SetPresence(device string, online bool) {
	state := "offline"
	if online {
		state = "online"
	}
	p.mu.Lock()
	p.seen = append(p.seen, device+" "+state)
	p.mu.Unlock()
	if p.next != nil {
		p.next.SetPresence(device, online)
	}
}

func (p *presenceLog) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

func (p *presenceLog) since(mark int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen[mark:])
}

// await waits until the driver reported device in that state after mark.
func (p *presenceLog) await(t *testing.T, mark int, device string, online bool) {
	t.Helper()
	want := device + " offline"
	if online {
		want = device + " online"
	}
	require.Eventually(t, func() bool { return slices.Contains(p.since(mark), want) }, 10*time.Second, 5*time.Millisecond,
		"never told %q", want)
}

// logRecorder is a slog.Handler that keeps every record's message and
// attributes, for tests that count warnings.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logWith{l, attrs}
}
func (l *logRecorder) WithGroup(string) slog.Handler { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	return l.handle(r, nil)
}

func (l *logRecorder) handle(r slog.Record, attrs []slog.Attr) error {
	line := r.Level.String() + " " + r.Message
	for _, a := range attrs {
		line += " " + a.String()
	}
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
	return nil
}

// count is how many lines contain every one of parts.
func (l *logRecorder) count(parts ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

type logWith struct {
	*logRecorder
	attrs []slog.Attr
}

func (l *logWith) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logWith{l.logRecorder, append(slices.Clone(l.attrs), attrs...)}
}
func (l *logWith) Handle(_ context.Context, r slog.Record) error { return l.handle(r, l.attrs) }

// appEndpoints is the app's endpoint_ids as the emulator shows them.
func (r *rig) appEndpoints(t *testing.T) []string {
	t.Helper()
	return r.ast.AppEndpoints("switchboard")
}

// dialApp registers an app by opening its events websocket, as an older
// switchboard would have.
func dialApp(t *testing.T, base, user, password, app string) *websocket.Conn {
	t.Helper()
	header := http.Header{}
	header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
	u := strings.Replace(base, "http", "ws", 1) + "/ari/events?" + url.Values{"app": {app}, "subscribeAll": {"false"}}.Encode()
	conn, res, err := websocket.DefaultDialer.Dial(u, header)
	require.NoError(t, err)
	res.Body.Close()
	t.Cleanup(func() { conn.Close() })
	return conn
}

// postSubscription subscribes an app to an event source and returns the
// status.
func postSubscription(t *testing.T, base, user, password, app, source string) int {
	t.Helper()
	return ariRequest(t, base, user, password, http.MethodPost, "/applications/"+app+"/subscription?"+
		url.Values{"eventSource": {source}}.Encode(), nil)
}

// ariRequest sends one ARI request; out (when not nil) receives the JSON
// answer of a 200.
func ariRequest(t *testing.T, base, user, password, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, base+"/ari"+path, nil)
	require.NoError(t, err)
	req.SetBasicAuth(user, password)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	if out != nil && res.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(raw, out), "%s", raw)
	}
	return res.StatusCode
}

// subscriptionRequests lists the subscription requests the driver sent:
// "POST endpoint:PJSIP/alice".
func (r *rig) subscriptionRequests() []string {
	var out []string
	for _, req := range r.ast.Requests() {
		if req.Path == "/ari/applications/switchboard/subscription" {
			out = append(out, req.Method+" "+req.Query.Get("eventSource"))
		}
	}
	return out
}

// TestSubscribesToDevicesOnly: the app is subscribed to the endpoints of
// users' devices that name one plainly, and to nothing else: not the
// trunk, even when a device names it, not the endpoint a URI is dialled
// through, not the whole technology. An endpoint Asterisk does not know
// is tried again at each refresh and logged once.
func TestSubscribesToDevicesOnly(t *testing.T) {
	r := newRigWith(t, rigOptions{
		devices: []string{"PJSIP/alice", "PJSIP/bob", "PJSIP/sipp/sip:carol@127.0.0.1:5070", "PJSIP/0612345678@trunk",
			"PJSIP/trunk", "PJSIP/nobody", "PJSIP/bob"},
		refresh: 5 * time.Millisecond,
		before: func(ast *aritest.Server) {
			require.NoError(t, ast.SetPeer("PJSIP/trunk", aritest.Peer{}))
		},
	})
	require.Equal(t, []string{"PJSIP/alice", "PJSIP/bob"}, r.appEndpoints(t))
	// Several refreshes later: nothing more subscribed, and the unknown
	// device logged once.
	reads := r.devices.readCount()
	require.Eventually(t, func() bool { return r.devices.readCount() >= reads+3 }, 10*time.Second, time.Millisecond)
	r.cancel()
	<-r.done
	require.Equal(t, []string{"PJSIP/alice", "PJSIP/bob"}, r.appEndpoints(t))
	var nobody int
	for _, req := range r.subscriptionRequests() {
		require.True(t, strings.HasPrefix(req, "POST endpoint:PJSIP/"), "only subscriptions, to endpoints: %s", req)
		require.NotContains(t, req, "trunk")
		require.NotContains(t, req, "sipp")
		if strings.Contains(req, "nobody") {
			nobody++
		}
	}
	require.GreaterOrEqual(t, nobody, 3, "an unknown endpoint is tried again at each refresh")
	require.Equal(t, 1, r.logs.count("unknown to Asterisk", "PJSIP/nobody"), "and logged once")
	require.Equal(t, 1, r.logs.count("names the trunk's endpoint"), "logged once")

	// A call through the trunk sends the app no EndpointStateChange of the
	// trunk: it is not subscribed to it.
	r2 := newRig(t, nil)
	mark := r2.presence.len()
	require.NoError(t, r2.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, HangupAfter: 100 * time.Millisecond}))
	require.NoError(t, r2.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing}))
	r2.ast.Call("+33612345678", line, aritest.CallScript{})
	r2.ended(t)
	for _, p := range r2.presence.since(mark) {
		require.True(t, strings.HasPrefix(p, "PJSIP/alice ") || strings.HasPrefix(p, "PJSIP/bob "), "%s", p)
	}
}

// TestStaleSubscriptionsRemoved: subscriptions an older switchboard left
// on the app (to the whole technology, to the trunk, counted several
// times: Asterisk counts them and keeps them across websockets) are
// removed at connect, to the last count; a device's, already there, is
// kept as it is; once no user has the device, it goes too.
func TestStaleSubscriptionsRemoved(t *testing.T) {
	stale := []string{"endpoint:PJSIP", "endpoint:PJSIP", "endpoint:PJSIP/trunk", "endpoint:PJSIP/trunk",
		"endpoint:PJSIP/trunk", "endpoint:PJSIP/alice", "endpoint:PJSIP/alice"}
	r := newRigWith(t, rigOptions{
		devices: []string{"PJSIP/alice", "PJSIP/bob"},
		refresh: 5 * time.Millisecond,
		before: func(ast *aritest.Server) {
			require.NoError(t, ast.SetPeer("PJSIP/trunk", aritest.Peer{}))
			require.NoError(t, ast.SetPeer("PJSIP/alice", aritest.Peer{}))
			ws := dialApp(t, ast.URL(), "asterisk", "asterisk", "switchboard")
			for _, src := range stale {
				require.Equal(t, 200, postSubscription(t, ast.URL(), "asterisk", "asterisk", "switchboard", src))
			}
			ws.Close()
			require.Equal(t, []string{"PJSIP", "PJSIP/alice", "PJSIP/trunk"}, ast.AppEndpoints("switchboard"))
		},
	})
	require.Equal(t, []string{"PJSIP/alice", "PJSIP/bob"}, r.appEndpoints(t), "the trunk's and the technology's removed at connect")
	requests := r.subscriptionRequests()[len(stale):]
	var posted, deleted []string
	for _, req := range requests {
		if strings.HasPrefix(req, "POST") {
			posted = append(posted, req)
		} else {
			deleted = append(deleted, req)
		}
	}
	require.Equal(t, []string{"POST endpoint:PJSIP/bob"}, posted, "alice's was there: not counted once more")
	require.Equal(t, []string{"DELETE endpoint:PJSIP", "DELETE endpoint:PJSIP", "DELETE endpoint:PJSIP/trunk",
		"DELETE endpoint:PJSIP/trunk", "DELETE endpoint:PJSIP/trunk"}, deleted, "every count, and no more")

	r.devices.set("PJSIP/bob")
	require.Eventually(t, func() bool { return slices.Equal(r.appEndpoints(t), []string{"PJSIP/bob"}) }, 10*time.Second, time.Millisecond,
		"alice's subscription removed, both counts")
}

// TestDeviceAddedLater: a device added through the API is subscribed at
// the next refresh, its state read then, and followed from there.
func TestDeviceAddedLater(t *testing.T) {
	r := newRigWith(t, rigOptions{devices: []string{"PJSIP/alice"}, refresh: 5 * time.Millisecond})
	require.Equal(t, []string{"PJSIP/alice"}, r.appEndpoints(t))
	require.NoError(t, r.ast.SetRegistered("PJSIP/bob", false)) // not followed yet
	mark := r.presence.len()
	r.devices.set("PJSIP/alice", "PJSIP/bob")
	require.Eventually(t, func() bool { return slices.Equal(r.appEndpoints(t), []string{"PJSIP/alice", "PJSIP/bob"}) },
		10*time.Second, time.Millisecond)
	r.presence.await(t, mark, "PJSIP/bob", false) // read once subscribed
	mark = r.presence.len()
	require.NoError(t, r.ast.SetRegistered("PJSIP/bob", true))
	r.presence.await(t, mark, "PJSIP/bob", true)
}

// TestPresenceFollowsEndpoints: EndpointStateChange of a device's
// endpoint sets its presence; an endpoint no device names sends none.
func TestPresenceFollowsEndpoints(t *testing.T) {
	r := newRigWith(t, rigOptions{before: func(ast *aritest.Server) {
		require.NoError(t, ast.SetPeer("PJSIP/carol", aritest.Peer{}))
	}})
	mark := r.presence.len()
	require.NoError(t, r.ast.SetRegistered("PJSIP/carol", false))
	require.NoError(t, r.ast.SetRegistered("PJSIP/alice", false))
	r.presence.await(t, mark, "PJSIP/alice", false)
	require.NoError(t, r.ast.SetRegistered("PJSIP/alice", true))
	r.presence.await(t, mark, "PJSIP/alice", true)
	// Events come in order: carol's would have come before alice's.
	for _, p := range r.presence.since(mark) {
		require.NotContains(t, p, "carol")
	}
	// The connect read every endpoint, carol's included.
	require.Contains(t, r.presence.since(0), "PJSIP/carol online")
}

// TestManyDevicesInBatches: many devices are subscribed in a few
// requests; one unknown among them costs its batch a request per
// endpoint, and the others of the batch are subscribed all the same.
func TestManyDevicesInBatches(t *testing.T) {
	var devices []string
	for i := range 45 {
		devices = append(devices, fmt.Sprintf("PJSIP/agent%02d", i))
	}
	r := newRigWith(t, rigOptions{
		before: func(ast *aritest.Server) {
			for _, d := range devices {
				require.NoError(t, ast.SetPeer(d, aritest.Peer{}))
			}
		},
		devices: append(slices.Clone(devices), "PJSIP/agent99"), // unknown to Asterisk
		refresh: time.Hour,                                      // one sync: the connect's
	})
	require.Equal(t, devices, r.appEndpoints(t))
	var posts []string
	for _, req := range r.subscriptionRequests() {
		if strings.HasPrefix(req, "POST") {
			posts = append(posts, req)
		}
	}
	// 46 endpoints: batches of 20, 20 and 6 (agent40 to 44, then 99,
	// refused: the first five done all the same); then agent99 alone.
	require.Len(t, posts, 4, "%v", posts)
	require.Equal(t, "POST endpoint:PJSIP/agent99", posts[3])
	require.NotContains(t, r.ast.AppEndpoints("switchboard"), "PJSIP/agent99")
	// Each subscribed once: a single DELETE removes any of them.
	require.Equal(t, 200, ariRequest(t, r.ast.URL(), "asterisk", "asterisk", http.MethodDelete,
		"/applications/switchboard/subscription?eventSource=endpoint:PJSIP/agent41", nil))
	require.NotContains(t, r.ast.AppEndpoints("switchboard"), "PJSIP/agent41")
}
