package esltest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("esltest: server closed")

// Options configure a Server. The zero value plays the FreeSWITCH of the
// recordings (hostname vm, 192.0.2.2, password ClueCon) on 127.0.0.1:0.
type Options struct {
	// Password is what `auth` must give (ClueCon).
	Password string
	// ListenAddr is where the inbound event socket listens (127.0.0.1:0).
	ListenAddr string
	// Hostname, IPv4 and IPv6 fill FreeSWITCH-Hostname/-Switchname/-IPv4/
	// -IPv6 (vm, 192.0.2.2, fd00::2); CoreUUID fills Core-UUID (random, and
	// a new one after Restart).
	Hostname string
	IPv4     string
	IPv6     string
	CoreUUID string
	// Logger receives the emulator's own diagnostics (discarded when nil).
	Logger *slog.Logger
	// PlayDuration is how long a file or an http_cache:// URL plays (300 ms).
	// tone_stream:// and silence_stream:// play for their own length;
	// local_stream:// plays until it is stopped.
	PlayDuration time.Duration
	// HTTPTimeout bounds an http_cache:// download (2 s).
	HTTPTimeout time.Duration
	// Profile is the sofia profile callers arrive on and user/ calls leave
	// from (internal). Profiles lists the profiles that exist: a dial string
	// naming another one fails with INVALID_PROFILE ({Profile, "external"}).
	Profile  string
	Profiles []string
	// Gateways lists the sofia gateways; nil accepts any name in
	// sofia/gateway/<gw>/<number>, a non-nil list makes the others
	// INVALID_GATEWAY.
	Gateways []string
	// Domain is the directory domain of user/<ext> (IPv4).
	Domain string
	// SocketAddr, when set, sends calls to an outbound event socket instead
	// of parking them: the dialplan runs `socket <SocketAddr> async full`.
	// SocketDestinations limits that to matching destination numbers (all
	// when nil), like the recordings' ^2\d{3}$.
	SocketAddr         string
	SocketDestinations *regexp.Regexp
	// DefaultPeer answers a dial string that SetPeer did not configure. When
	// nil such a dial is unreachable (NORMAL_TEMPORARY_FAILURE), as a real
	// SIP target with nothing listening would be.
	DefaultPeer *Peer
	// Location is the zone of Event-Date-Local and `show` dates (UTC).
	Location *time.Location
	// HeartbeatInterval, when set, fires HEARTBEAT events (FreeSWITCH: 20 s).
	HeartbeatInterval time.Duration
	// History is how many ended channels AllChannels and Channel keep
	// (1000), so a long benchmark does not hold every call in memory.
	History int
	// Watchdog runs the dialplan switchboard ships (docker/freeswitch/
	// dialplan/public.xml) instead of a bare park: while the global
	// variable switchboard_up is not "true", or for the destination
	// switchboard_fallback (where a stopping switchboard sends new calls),
	// a call is answered, hears ivr/ivr-not_available.wav and is hung up;
	// otherwise ring_ready, the variables force_transfer_context and
	// park_after_bridge, park.
	Watchdog bool
}

func (o *Options) setDefaults() {
	if o.Password == "" {
		o.Password = "ClueCon"
	}
	if o.ListenAddr == "" {
		o.ListenAddr = "127.0.0.1:0"
	}
	if o.Hostname == "" {
		o.Hostname = "vm"
	}
	if o.IPv4 == "" {
		o.IPv4 = "192.0.2.2"
	}
	if o.IPv6 == "" {
		o.IPv6 = "fd00::2"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.PlayDuration <= 0 {
		o.PlayDuration = 300 * time.Millisecond
	}
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = 2 * time.Second
	}
	if o.Profile == "" {
		o.Profile = "internal"
	}
	if o.Profiles == nil {
		o.Profiles = []string{o.Profile, "external"}
	}
	if o.Domain == "" {
		o.Domain = o.IPv4
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.History <= 0 {
		o.History = 1000
	}
}

// Server is an emulated FreeSWITCH 1.10.12 behind its event socket. All its
// methods are safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	http *httpCache
	// ctx ends with Close; background work (downloads) follows it.
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards the whole switch: channels, connections' subscriptions,
	// peers, registrations and the event sequence. Events are built and
	// fanned out under it, so every connection sees them in sequence order.
	mu        sync.Mutex
	ln        net.Listener
	closed    bool
	down      bool // stopped (Down): connections are refused
	coreUUID  string
	started   time.Time
	seq       uint64
	sessionID int
	sessions  int // since startup
	peak      int
	channels  map[string]*channel
	ended     []*channel // the last Options.History channels gone
	conns     map[*conn]struct{}
	peers     map[string]Peer
	users     map[string]bool // directory: user -> registered
	commands  []Command
	heartbeat *time.Ticker
	globals   map[string]string        // global_setvar
	sched     map[string][]*time.Timer // sched_api tasks by group
	schedID   int

	wg sync.WaitGroup
}

// New returns a Server for opts; Start makes it listen.
func New(opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		channels: make(map[string]*channel),
		conns:    make(map[*conn]struct{}),
		peers:    make(map[string]Peer),
		users:    make(map[string]bool),
		globals:  make(map[string]string),
		sched:    make(map[string][]*time.Timer),
		coreUUID: opts.CoreUUID,
		started:  time.Now(),
	}
	if s.coreUUID == "" {
		s.coreUUID = newUUID()
	}
	s.http = newHTTPCache(opts.HTTPTimeout)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Start listens on Options.ListenAddr and serves inbound connections.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.opts.ListenAddr)
	if err != nil {
		return fmt.Errorf("esltest: listen: %w", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept(ln)
	if s.opts.HeartbeatInterval > 0 {
		s.heartbeat = time.NewTicker(s.opts.HeartbeatInterval)
		s.wg.Add(1)
		go s.beat(s.heartbeat)
	}
	return nil
}

// Addr is the host:port of the inbound event socket ("" before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops listening, hangs up nothing (calls simply vanish, as when the
// process dies), closes every connection and waits for the goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.cancel()
	if s.ln != nil {
		s.ln.Close()
	}
	if s.heartbeat != nil {
		s.heartbeat.Stop()
	}
	s.schedDelLocked("")
	for c := range s.conns {
		c.closeLocked()
	}
	for _, ch := range s.channels {
		s.vanishLocked(ch)
	}
	s.channels = make(map[string]*channel)
	s.mu.Unlock()
	s.wg.Wait()
}

// DropConnections cuts the network: every event-socket connection, inbound
// and outbound, is closed without a goodbye. Calls stay up unless a
// connection was controlling them (outbound socket, myevents <uuid>), as in
// transcript 09.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.drop()
	}
}

// Restart plays a FreeSWITCH restart: every connection is cut, every channel
// disappears without events (their callers see the call end with
// NORMAL_CLEARING), a new Core-UUID is drawn and the event sequence and
// uuids carry on.
func (s *Server) Restart() {
	s.DropConnections()
	s.mu.Lock()
	for _, ch := range s.channels {
		s.vanishLocked(ch)
	}
	s.channels = make(map[string]*channel)
	s.globals = make(map[string]string)
	s.schedDelLocked("")
	s.coreUUID = newUUID()
	s.started = time.Now()
	s.sessions = 0
	s.peak = 0
	s.mu.Unlock()
	s.http.clear()
}

// Down plays FreeSWITCH stopped: a restart (every connection cut, every
// channel gone) after which connections are refused (closed at once)
// until Up.
func (s *Server) Down() {
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	s.Restart()
}

// Up plays FreeSWITCH started again after Down.
func (s *Server) Up() {
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
}

// SetPeer scripts the far end of a dial string: user/1001,
// sofia/internal/alice@example.com, sofia/gateway/trunk/+33612345678. A key
// ending in * matches by prefix (sofia/gateway/trunk/*). A user/ peer also
// puts the user in the directory, registered unless SetRegistered said
// otherwise.
func (s *Server) SetPeer(dial string, p Peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peers[dial] = p
	if u, ok := userOf(dial); ok {
		if _, known := s.users[u]; !known {
			s.users[u] = true
		}
	}
}

// SetRegistered puts user (1001 or 1001@domain) in the directory and sets
// whether a phone is registered for it. A registration change fires the
// sofia::register or sofia::unregister CUSTOM event.
func (s *Server) SetRegistered(user string, registered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := userPart(user)
	was, known := s.users[u]
	s.users[u] = registered
	if known && was == registered {
		return
	}
	if !known && !registered {
		return
	}
	s.emitRegistrationLocked(u, registered)
}

// Commands returns the commands received on every connection, in order
// (the last 100000 at most).
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.commands...)
}

// Channels returns the live channels, oldest first.
func (s *Server) Channels() []ChannelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ChannelInfo, 0, len(s.channels))
	for _, ch := range s.channels {
		out = append(out, ch.infoLocked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].serial < out[j].serial })
	return out
}

// AllChannels returns the live channels and the last Options.History
// ended ones, oldest first.
func (s *Server) AllChannels() []ChannelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ChannelInfo, 0, len(s.ended)+len(s.channels))
	for _, ch := range s.ended {
		out = append(out, ch.infoLocked())
	}
	for _, ch := range s.channels {
		out = append(out, ch.infoLocked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].serial < out[j].serial })
	return out
}

// Channel returns one channel, live or recently ended, by uuid.
func (s *Server) Channel(uuid string) (ChannelInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.channels[uuid]; ok {
		return ch.infoLocked(), true
	}
	for i := len(s.ended) - 1; i >= 0; i-- {
		if s.ended[i].uuid == uuid {
			return s.ended[i].infoLocked(), true
		}
	}
	return ChannelInfo{}, false
}

// HTTPFetches returns how many GETs http_cache:// made for url, so tests
// can check caching.
func (s *Server) HTTPFetches(url string) int { return s.http.fetches(url) }

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := newConn(s, nc, false)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		if s.down {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

func (s *Server) beat(t *time.Ticker) {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		e := s.newEventLocked("HEARTBEAT")
		up := time.Since(s.started)
		e.add("Event-Info", "System Ready")
		e.add("Up-Time", uptime(up))
		e.add("FreeSWITCH-Version", "1.10.12-release~64bit")
		e.add("Uptime-msec", strconv.FormatInt(up.Milliseconds(), 10))
		e.add("Session-Count", strconv.Itoa(len(s.channels)))
		e.add("Max-Sessions", "1000")
		e.add("Session-Per-Sec", "30")
		e.add("Session-Per-Sec-Last", "0")
		e.add("Session-Per-Sec-Max", "0")
		e.add("Session-Per-Sec-FiveMin", "0")
		e.add("Session-Since-Startup", strconv.Itoa(s.sessions))
		e.add("Session-Peak-Max", strconv.Itoa(s.peak))
		e.add("Session-Peak-FiveMin", strconv.Itoa(s.peak))
		e.add("Idle-CPU", "95.000000")
		s.emitLocked(e)
		s.mu.Unlock()
	}
}

// newEventLocked starts an event with the common block every FreeSWITCH
// event opens with, taking the next Event-Sequence. When no connection
// listens for name the event is left empty (it still takes its sequence
// number, as in FreeSWITCH where every event does).
func (s *Server) newEventLocked(name string) *event {
	if !s.wantedLocked(name) {
		s.seq++
		return &event{name: name, dead: true}
	}
	return s.fullEventLocked(name)
}

// fullEventLocked builds an event whoever listens (the outbound channel
// data, uuid_dump).
func (s *Server) fullEventLocked(name string) *event {
	s.seq++
	e := &event{name: name, headers: make([]Header, 0, 128)}
	now := time.Now()
	site := callSites[name]
	e.add("Event-Name", name)
	e.add("Core-UUID", s.coreUUID)
	e.add("FreeSWITCH-Hostname", s.opts.Hostname)
	e.add("FreeSWITCH-Switchname", s.opts.Hostname)
	e.add("FreeSWITCH-IPv4", s.opts.IPv4)
	e.add("FreeSWITCH-IPv6", s.opts.IPv6)
	e.add("Event-Date-Local", now.In(s.opts.Location).Format(dateLocal))
	e.add("Event-Date-GMT", now.UTC().Format(dateGMT))
	e.add("Event-Date-Timestamp", strconv.FormatInt(now.UnixMicro(), 10))
	e.add("Event-Calling-File", site.file)
	e.add("Event-Calling-Function", site.fn)
	e.add("Event-Calling-Line-Number", strconv.Itoa(site.line))
	e.add("Event-Sequence", strconv.FormatUint(s.seq, 10))
	return e
}

// wantedLocked says whether some connection may want an event called name.
func (s *Server) wantedLocked(name string) bool {
	for c := range s.conns {
		if c.authed && c.events && !c.gone && (c.all || c.types[name]) {
			return true
		}
	}
	return false
}

// emitLocked hands a finished event to every connection that wants it.
func (s *Server) emitLocked(e *event) {
	if e.dead {
		return
	}
	if v, ok := e.get("Unique-ID"); ok {
		e.uniqueID = v
	}
	for c := range s.conns {
		c.offerLocked(e)
	}
}

func (s *Server) emitRegistrationLocked(user string, registered bool) {
	sub := "sofia::unregister"
	if registered {
		sub = "sofia::register"
	}
	// Event-Subclass comes before Event-Name in custom events.
	e := s.newEventLocked("CUSTOM")
	e.headers = append([]Header{{"Event-Subclass", sub}}, e.headers...)
	e.subclass = sub
	contact := fmt.Sprintf(`"%s" <sip:%s@%s>`, user, user, s.userContact(user))
	callID := "reg-" + user + "@" + s.opts.Domain
	if registered {
		e.add("profile-name", s.opts.Profile)
		e.add("from-user", user)
		e.add("from-host", s.opts.Domain)
		e.add("presence-hosts", "n/a")
		e.add("contact", contact)
		e.add("call-id", callID)
		e.add("rpid", "unknown")
		e.add("status", "Registered(UDP)")
		e.add("expires", "3600")
		e.add("to-user", user)
		e.add("to-host", s.opts.Domain)
		e.add("network-ip", "127.0.0.1")
		e.add("network-port", "5060")
		e.add("username", user)
		e.add("realm", s.opts.Domain)
		e.add("user-agent", "esltest")
	} else {
		e.add("profile-name", s.opts.Profile)
		e.add("username", user)
		e.add("from-user", user)
		e.add("from-host", s.opts.Domain)
		e.add("contact", contact)
		e.add("call-id", callID)
		e.add("rpid", "unknown")
		e.add("realm", s.opts.Domain)
		e.add("expires", "0")
	}
	s.emitLocked(e)
}

// userContact is where a registered user's phone is reached.
func (s *Server) userContact(user string) string { return "127.0.0.1:5060" }

// maxCommands bounds the command log (the oldest half goes when full).
const maxCommands = 100000

func (s *Server) logCommand(cmd Command) {
	cmd.Time = time.Now()
	s.mu.Lock()
	if len(s.commands) >= maxCommands {
		s.commands = append(s.commands[:0:0], s.commands[maxCommands/2:]...)
	}
	s.commands = append(s.commands, cmd)
	s.mu.Unlock()
}

// newUUID returns a random version-4 uuid.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func uptime(d time.Duration) string {
	days := int(d.Hours()) / 24
	return fmt.Sprintf("0 years, %d days, %d hours, %d minutes, %d seconds, %d milliseconds, %d microseconds",
		days, int(d.Hours())%24, int(d.Minutes())%60, int(d.Seconds())%60, d.Milliseconds()%1000, d.Microseconds()%1000)
}
