package aritest

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// app is a Stasis application. As recorded (transcript 10): it is
// registered by its first websocket; a newer websocket takes the events
// over and the older one receives ApplicationReplaced but stays open; when
// the active websocket closes the app stays registered as long as it is
// subscribed to channels, bridges or endpoints (checked on 22.10.1: an
// endpoint subscription outlives the socket and is still there for the
// next one), and events meanwhile are dropped.
type app struct {
	name         string
	active       *wsConn // receives the events; nil when none does
	subscribeAll bool
	channels     map[*channel]struct{} // subscriptions, implicit and explicit
	bridges      map[*bridge]struct{}
	// endpoints counts the subscriptions to "PJSIP/agent1", to "PJSIP" (a
	// whole technology) or to allEndpoints ("endpoint:"). Asterisk counts
	// them: each POST adds one and each DELETE takes one away, and the
	// endpoint stays in endpoint_ids until the count is back to zero.
	endpoints map[string]int
	// allowed and disallowed are the app's event filter (PUT
	// /applications/{app}/eventFilter): types, as given.
	allowed, disallowed []string
}

// wants applies the app's event filter: an empty allowed list lets every
// type in, and disallowed wins over allowed (the ARI documents).
func (a *app) wants(typ string) bool {
	if slices.Contains(a.disallowed, typ) {
		return false
	}
	return len(a.allowed) == 0 || slices.Contains(a.allowed, typ)
}

func (s *Server) getApp(name string) *app {
	a := s.apps[name]
	if a == nil {
		a = &app{name: name, channels: map[*channel]struct{}{}, bridges: map[*bridge]struct{}{}, endpoints: map[string]int{}}
		s.apps[name] = a
	}
	return a
}

// gcApp removes an app that no websocket serves and nothing keeps. A
// subscription to every endpoint ("endpoint:") does not keep it: on
// 22.10.1 such an app was gone once its socket closed.
func (s *Server) gcApp(a *app) {
	if a.active != nil || len(a.channels) > 0 || len(a.bridges) > 0 || s.apps[a.name] != a {
		return
	}
	for key := range a.endpoints {
		if key != allEndpoints {
			return
		}
	}
	delete(s.apps, a.name)
}

// allEndpoints is how Asterisk lists a subscription to "endpoint:" (every
// endpoint of every technology) in endpoint_ids.
const allEndpoints = "__AST_ENDPOINT_ALL_TOPIC"

// endpointApps lists the apps that get an endpoint's events, once per
// subscription that covers it: an app subscribed to both "PJSIP" and
// "PJSIP/alice" gets each of alice's events twice, as on 22.10.1, where
// each subscription forwards the endpoint's topic to the app on its own.
func (s *Server) endpointApps(e *endpoint) []*app {
	if e == nil {
		return nil
	}
	var apps []*app
	for _, n := range s.appNames() {
		a := s.apps[n]
		for _, key := range [...]string{e.id(), e.tech, allEndpoints} {
			if a.endpoints[key] > 0 {
				apps = append(apps, a)
			}
		}
	}
	return apps
}

// chanApps lists the apps that get a channel's events: those subscribed
// to the channel, then those subscribed to its endpoint. On 22.10.1 an
// endpoint's subscription forwards every event of every channel on it
// (ChannelStateChange, Dial, ChannelVarset, ChannelHangupRequest,
// ChannelDestroyed...), so an app subscribed both to a channel (it is in
// the app's Stasis) and to its endpoint gets each of these twice; only
// StasisStart and StasisEnd, sent to the app itself, come once.
func (s *Server) chanApps(c *channel) []*app {
	eps := s.endpointApps(c.endpoint)
	if len(eps) == 0 {
		return c.subs
	}
	return append(append(make([]*app, 0, len(c.subs)+len(eps)), c.subs...), eps...)
}

// endpointChanged sends EndpointStateChange to the apps subscribed to the
// endpoint. Asterisk sends one whenever the endpoint's snapshot changes:
// its state, and also the channel_ids it lists, when a channel is created
// on it (before ChannelCreated) and when one is destroyed (after
// ChannelDestroyed), with the state unchanged.
func (s *Server) endpointChanged(e *endpoint) {
	apps := s.endpointApps(e)
	if len(apps) == 0 && !s.anySubscribeAll() {
		return
	}
	s.deliver("EndpointStateChange", event("EndpointStateChange").raw("endpoint", s.endpointJSON(e)), apps)
}

func (s *Server) subscribeChannel(a *app, c *channel) {
	if a == nil {
		return
	}
	a.channels[c] = struct{}{}
	for _, x := range c.subs {
		if x == a {
			return
		}
	}
	c.subs = append(c.subs, a)
}

func (s *Server) unsubscribeChannel(a *app, c *channel) {
	delete(a.channels, c)
	for i, x := range c.subs {
		if x == a {
			c.subs = append(c.subs[:i], c.subs[i+1:]...)
			break
		}
	}
	s.gcApp(a)
}

// wsConn is one events websocket. Events are queued without bound and
// written by one goroutine, so that producers never wait on a client.
type wsConn struct {
	ws   *websocket.Conn
	apps []string

	mu     sync.Mutex
	cond   *sync.Cond
	queue  [][]byte
	closed bool
}

func (c *wsConn) send(msg []byte) {
	c.mu.Lock()
	if !c.closed {
		c.queue = append(c.queue, msg)
		c.cond.Signal()
	}
	c.mu.Unlock()
}

// cut closes the connection without a close frame, like a network cut.
func (c *wsConn) cut() {
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	ws := c.ws
	c.cond.Signal()
	c.mu.Unlock()
	if ws != nil {
		_ = ws.NetConn().Close()
	}
}

func (c *wsConn) writer() {
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.cond.Wait()
		}
		q, closed, ws := c.queue, c.closed, c.ws
		c.queue = nil
		c.mu.Unlock()
		if closed {
			return
		}
		for _, m := range q {
			if err := ws.WriteMessage(websocket.TextMessage, m); err != nil {
				c.cut()
				return
			}
		}
	}
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 16384,
	// ari.conf allowed_origins lists the local origins; the emulator only
	// listens on loopback, so any origin is let in.
	CheckOrigin: func(*http.Request) bool { return true },
}

// serveEvents upgrades GET /ari/events?app=NAME[,NAME2]&subscribeAll=bool.
// The app is registered before the 101 goes out, as on Asterisk (in 10 the
// replaced socket got ApplicationReplaced before the new one's 101), so a
// call placed once the handshake is done reaches the app.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	names := splitList(r.URL.Query()["app"])
	if len(names) == 0 {
		writeJSON(w, http.StatusBadRequest, "", nil, messageBody("Missing param 'app'"))
		return
	}
	c := &wsConn{apps: names}
	c.cond = sync.NewCond(&c.mu)
	all := r.URL.Query().Get("subscribeAll") == "true"

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeJSON(w, http.StatusServiceUnavailable, "", nil, messageBody("Service Unavailable"))
		return
	}
	s.conns[c] = struct{}{}
	now := time.Now()
	for _, n := range names {
		a := s.getApp(n)
		if old := a.active; old != nil {
			// Key order as recorded: application before asterisk_id.
			old.send(newObj(160).str("type", "ApplicationReplaced").str("timestamp", stamp(now)).
				str("application", n).str("asterisk_id", s.opts.AsteriskID).done())
		}
		a.active = c
		a.subscribeAll = all
	}
	s.mu.Unlock()

	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("aritest: websocket upgrade", "err", err)
		c.cut()
		s.dropConn(c)
		return
	}
	c.mu.Lock()
	c.ws = ws
	closed := c.closed
	c.mu.Unlock()
	if closed { // cut (DropWebsockets, Restart) during the handshake
		_ = ws.NetConn().Close()
		s.dropConn(c)
		return
	}
	go c.writer()
	go func() {
		for {
			if _, _, err := ws.NextReader(); err != nil {
				break
			}
		}
		c.cut()
		s.dropConn(c)
	}()
}

// dropConn forgets a closed websocket; its apps lose their active socket.
func (s *Server) dropConn(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	for _, n := range c.apps {
		if a := s.apps[n]; a != nil && a.active == c {
			a.active = nil
			a.subscribeAll = false
			s.gcApp(a)
		}
	}
}

// --- emission -------------------------------------------------------------

// event starts an event object: {"type":T,"timestamp":...
func event(typ string) obj {
	return newObj(1024).str("type", typ).str("timestamp", stamp(time.Now()))
}

// deliver sends an event body (an unterminated object) to each app of the
// set that has an active websocket, appending asterisk_id and application.
func (s *Server) deliver(typ string, body obj, apps []*app) {
	for _, a := range s.apps {
		if a.subscribeAll && !contains(apps, a) {
			apps = append(apps[:len(apps):len(apps)], a) // never write into a caller's slice
		}
	}
	for _, a := range apps {
		if a.active == nil {
			continue // no websocket: the event is lost, as on Asterisk
		}
		if !a.wants(typ) {
			continue
		}
		msg := make([]byte, 0, len(body)+len(a.name)+64)
		msg = append(msg, body...)
		msg = append(obj(msg).str("asterisk_id", s.opts.AsteriskID).str("application", a.name), '}')
		a.active.send(msg)
	}
}

func contains(apps []*app, a *app) bool {
	for _, x := range apps {
		if x == a {
			return true
		}
	}
	return false
}

func union(a, b []*app) []*app {
	if len(b) == 0 {
		return a
	}
	out := append([]*app(nil), a...)
	for _, x := range b {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// chanEvent emits a channel event: {"type","timestamp",<extra>,"channel"}.
// StasisStart and StasisEnd go to the channel's subscribers only; the
// others also through its endpoint (chanApps).
func (s *Server) chanEvent(c *channel, typ string, extra func(obj) obj) {
	apps := c.subs
	if typ != "StasisStart" && typ != "StasisEnd" {
		apps = s.chanApps(c)
	}
	if len(apps) == 0 && !s.anySubscribeAll() {
		return
	}
	o := event(typ)
	if extra != nil {
		o = extra(o)
	}
	s.deliver(typ, o.raw("channel", c.json()), apps)
}

func (s *Server) anySubscribeAll() bool {
	for _, a := range s.apps {
		if a.subscribeAll {
			return true
		}
	}
	return false
}

// varset sets a channel variable and emits ChannelVarset, whose variable
// and value keys come before type, as recorded.
func (s *Server) varset(c *channel, name, value string) {
	c.vars[name] = value
	apps := s.chanApps(c)
	if len(apps) == 0 && !s.anySubscribeAll() {
		return
	}
	o := newObj(1024).str("variable", name).str("value", value).
		str("type", "ChannelVarset").str("timestamp", stamp(time.Now()))
	s.deliver("ChannelVarset", o.raw("channel", c.json()), apps)
}

// hangupRequest emits ChannelHangupRequest: cause and soft or tech_cause
// come before type; a remote BYE has neither.
func (s *Server) hangupRequest(c *channel, cause, techCause int, soft bool) {
	o := newObj(1024)
	if cause != 0 {
		o = o.num("cause", cause)
	}
	if techCause != 0 {
		o = o.num("tech_cause", techCause)
	}
	if soft {
		o = o.boolean("soft", true)
	}
	o = o.str("type", "ChannelHangupRequest").str("timestamp", stamp(time.Now()))
	s.deliver("ChannelHangupRequest", o.raw("channel", c.json()), s.chanApps(c))
}

func (s *Server) dialEvent(c *channel, status string) {
	ds := c.dialstring
	if c.dialCount > 0 && c.created {
		// After /channels/create + /dial only the first Dial event carries
		// the dial string (transcript 09).
		ds = ""
	}
	c.dialCount++
	o := event("Dial").str("dialstatus", status).str("forward", "").str("dialstring", ds).raw("peer", c.json())
	s.deliver("Dial", o, s.chanApps(c))
}

func (s *Server) bridgeEvent(b *bridge, c *channel, typ string) {
	var apps []*app
	if c != nil {
		apps = c.subs
	}
	apps = union(apps, b.subs)
	o := event(typ).raw("bridge", b.json())
	if c != nil {
		o = o.raw("channel", c.json())
	}
	s.deliver(typ, o, apps)
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
