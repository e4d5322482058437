package aritest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value of every field has a default.
type Options struct {
	// App is the Stasis application the dialplan sends inbound calls to:
	// Stasis(App,${EXTEN}). Default "switchboard".
	App string
	// User and Password are the ARI credentials. Default asterisk/asterisk.
	User, Password string
	// Logger receives the emulator's own diagnostics. Default: discarded.
	Logger *slog.Logger
	// SoundDuration is how long one sound: (or tone:, digits:, number:,
	// recording: ...) media plays. Default 300 ms.
	SoundDuration time.Duration
	// SoundDurations overrides SoundDuration per media URI
	// ("sound:hello-world", "sound:http://host/p.wav").
	SoundDurations map[string]time.Duration
	// SoundExists says whether a sound:NAME file exists. Default: every
	// sound exists except names starting with "does-not-exist" and names
	// with a file extension (Asterisk adds the extension itself, so
	// sound:/path/x.wav fails on a real server).
	SoundExists func(name string) bool
	// MediaTimeout bounds the HTTP GET of sound:http(s):// media. Default 2 s.
	MediaTimeout time.Duration
	// MinMediaURLLength reproduces asterisk/asterisk#444: an http media URL
	// shorter than this many characters fails (PlaybackFinished "failed")
	// after a good download, because the cache path is truncated. Default
	// 41, what the default cache directory gave on a real 22.10.1; a
	// negative value turns the bug off.
	MinMediaURLLength int
	// TimeoutUnit is the length of one "second" of the ARI timeouts given
	// in seconds (originate and dial timeout, record maxDurationSeconds),
	// so tests can run a 5 s timeout in 50 ms. Default time.Second.
	TimeoutUnit time.Duration
	// CallerEndpoint is the PJSIP endpoint inbound calls arrive on (in the
	// recordings "sipp", identified by IP and therefore offline in
	// /endpoints). Default "sipp".
	CallerEndpoint string
	// InboundContext and OutboundContext are the dialplan contexts of
	// inbound callers and of originated legs. Defaults "from-sipp" and
	// "from-agents", as recorded.
	InboundContext, OutboundContext string
	// AsteriskID is the entity id in events. Default "02:fc:00:00:00:01".
	AsteriskID string
	// MaxRequests caps the request log (oldest dropped). Default 100000.
	MaxRequests int
	// MaxHistory caps the list of ended channels kept for Channel(). Default 100000.
	MaxHistory int
}

func (o *Options) setDefaults() {
	if o.App == "" {
		o.App = "switchboard"
	}
	if o.User == "" {
		o.User = "asterisk"
	}
	if o.Password == "" {
		o.Password = "asterisk"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.SoundDuration <= 0 {
		o.SoundDuration = 300 * time.Millisecond
	}
	if o.SoundExists == nil {
		o.SoundExists = defaultSoundExists
	}
	if o.MediaTimeout <= 0 {
		o.MediaTimeout = 2 * time.Second
	}
	if o.MinMediaURLLength == 0 {
		o.MinMediaURLLength = 41
	}
	if o.TimeoutUnit <= 0 {
		o.TimeoutUnit = time.Second
	}
	if o.CallerEndpoint == "" {
		o.CallerEndpoint = "sipp"
	}
	if o.InboundContext == "" {
		o.InboundContext = "from-sipp"
	}
	if o.OutboundContext == "" {
		o.OutboundContext = "from-agents"
	}
	if o.AsteriskID == "" {
		o.AsteriskID = "02:fc:00:00:00:01"
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 100000
	}
	if o.MaxHistory <= 0 {
		o.MaxHistory = 100000
	}
}

func defaultSoundExists(name string) bool {
	if strings.HasPrefix(name, "does-not-exist") {
		return false
	}
	base := name[strings.LastIndexByte(name, '/')+1:]
	return !strings.Contains(base, ".")
}

// Server is an ARI emulator: a real HTTP and websocket server on
// 127.0.0.1 that behaves as the recorded Asterisk 22.10.1 does. All its
// methods are safe for concurrent use.
type Server struct {
	opts  Options
	log   *slog.Logger
	media *http.Client
	pid   int

	srv     *http.Server
	ln      net.Listener
	baseURL string

	// mu guards everything below and every channel, bridge, playback,
	// recording, app and Caller. One lock keeps event order causal: an
	// operation and the events it causes happen under it in one piece.
	mu        sync.Mutex
	closed    bool
	down      bool // stopped (Down): connections are refused
	started   time.Time
	seq       int // uniqueid sequence: <epoch>.<seq>
	nameSeq   int // PJSIP channel name suffix
	unrealSeq int // Announcer/Recorder channel name suffix
	snoopSeq  int // Snoop channel name suffix
	callNum   int // SIP Call-ID counter for inbound callers

	channels   map[string]*channel
	chanList   []*channel // live channels in creation order
	history    []*channel // ended channels, for Channel()
	bridges    map[string]*bridge
	bridgeList []*bridge
	playbacks  map[string][]*playback // duplicates ids queue up, as on Asterisk
	live       map[string]*recording
	stored     map[string]*storedRecording
	endpoints  map[string]*endpoint // "PJSIP/agent1"
	epOrder    []string
	peers      map[string]Peer // full dial strings: "PJSIP/+336...@trunk"
	apps       map[string]*app
	conns      map[*wsConn]struct{}
	globals    map[string]string
	requests   []Request
	mediaCache map[string]*cacheEntry
}

// Request is one HTTP request the server received under /ari.
type Request struct {
	Time     time.Time
	Method   string
	Path     string // includes /ari
	RawQuery string
	Query    url.Values
	Body     string
}

// New returns a server that is not listening yet: call Start.
func New(opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		opts:       opts,
		log:        opts.Logger,
		media:      &http.Client{Timeout: opts.MediaTimeout},
		pid:        os.Getpid(),
		seq:        100,
		nameSeq:    0x50,
		channels:   map[string]*channel{},
		bridges:    map[string]*bridge{},
		playbacks:  map[string][]*playback{},
		live:       map[string]*recording{},
		stored:     map[string]*storedRecording{},
		endpoints:  map[string]*endpoint{},
		peers:      map[string]Peer{},
		apps:       map[string]*app{},
		conns:      map[*wsConn]struct{}{},
		globals:    map[string]string{},
		mediaCache: map[string]*cacheEntry{},
		started:    time.Now(),
	}
	// The caller side is a PJSIP endpoint matched by IP: it exists and is
	// offline, as /endpoints showed in transcript 00.
	s.endpoint(opts.CallerEndpoint).online = false
	return s
}

// Start listens on 127.0.0.1 on a free port and serves ARI under /ari.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("aritest: listen: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.baseURL = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	srv := s.srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("aritest: serve", "err", err)
		}
	}()
	return nil
}

// URL is the server's base URL (http://127.0.0.1:port); ARI is under /ari.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Close stops the server: websockets are cut, every call ends, timers stop.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.wipe("server closed")
	srv := s.srv
	s.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
}

// Restart behaves as an Asterisk restart: every channel, bridge, playback
// and live recording vanishes without an event, every websocket is cut and
// every app unregistered. Ids continue where they were; stored recordings,
// endpoints and peers stay, as files and configuration do.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wipe("asterisk restarted")
	s.started = time.Now()
}

// Down plays Asterisk stopped: every channel, bridge and playback
// vanishes as at a restart, and every request is refused (the connection
// closed unanswered) until Up.
func (s *Server) Down() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = true
	s.wipe("asterisk stopped")
}

// Up plays Asterisk started again after Down.
func (s *Server) Up() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = false
	s.started = time.Now()
}

// wipe ends everything without events. Called with mu held.
func (s *Server) wipe(why string) {
	for c := range s.conns {
		c.cut()
	}
	s.apps = map[string]*app{}
	for _, c := range s.chanList {
		c.dead = true
		c.stopTimers()
		c.endCause = 0
		if c.caller != nil {
			c.caller.finish(0, "asterisk", why)
		}
		s.remember(c)
	}
	s.channels = map[string]*channel{}
	s.chanList = nil
	for _, b := range s.bridgeList {
		b.dead = true
	}
	s.bridges = map[string]*bridge{}
	s.bridgeList = nil
	for _, q := range s.playbacks {
		for _, p := range q {
			p.stop()
		}
	}
	s.playbacks = map[string][]*playback{}
	for _, r := range s.live {
		r.stopTimer()
	}
	s.live = map[string]*recording{}
}

// DropWebsockets closes every events websocket from the server side
// without a close frame, as a network cut would.
func (s *Server) DropWebsockets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.cut()
	}
}

// Requests returns the HTTP requests received under /ari, oldest first
// (the events websocket handshake included).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) logRequest(r Request) {
	if len(s.requests) >= s.opts.MaxRequests {
		n := copy(s.requests, s.requests[len(s.requests)/2:])
		s.requests = s.requests[:n]
	}
	s.requests = append(s.requests, r)
}

// CallerID is a caller or connected line as ARI shows it.
type CallerID struct {
	Name, Number string
}

// ChannelInfo is a snapshot of a channel, live or ended.
type ChannelInfo struct {
	ID, Name, State string
	Endpoint        string // "PJSIP/agent1"; "" for Snoop channels
	Caller          CallerID
	Connected       CallerID
	Bridge          string // bridge id, "" when in none
	App             string // Stasis app it is in, "" when not in Stasis
	Vars            map[string]string
	Prompts         []Prompt // media played to it (its own, its bridge's, whispers)
	DTMFSent        string   // digits sent to it with POST /dtmf
	Ringing, MOH    bool     // indications asked by the app
	Ended           bool
	Cause           int // hang-up cause once ended
}

// BridgeInfo is a snapshot of a live bridge.
type BridgeInfo struct {
	ID, Name, Type string
	Channels       []string
	MOH            bool   // music on hold playing into the bridge
	Recording      string // live recording name, "" when none
}

// Channels returns the live channels in creation order.
func (s *Server) Channels() []ChannelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ChannelInfo, 0, len(s.chanList))
	for _, c := range s.chanList {
		out = append(out, c.info())
	}
	return out
}

// Channel returns a live or ended channel by id (ended ones are kept up
// to Options.MaxHistory).
func (s *Server) Channel(id string) (ChannelInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channels[id]; c != nil {
		return c.info(), true
	}
	for i := len(s.history) - 1; i >= 0; i-- {
		if s.history[i].id == id {
			return s.history[i].info(), true
		}
	}
	return ChannelInfo{}, false
}

// Bridges returns the live bridges in creation order.
func (s *Server) Bridges() []BridgeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]BridgeInfo, 0, len(s.bridgeList))
	for _, b := range s.bridgeList {
		bi := BridgeInfo{ID: b.id, Name: b.name, Type: b.typ, Channels: b.channelIDs(), MOH: b.moh != nil}
		if b.rec != nil {
			bi.Recording = b.rec.name
		}
		out = append(out, bi)
	}
	return out
}

func (s *Server) remember(c *channel) {
	if len(s.history) >= s.opts.MaxHistory {
		n := copy(s.history, s.history[len(s.history)/2:])
		clear(s.history[n:])
		s.history = s.history[:n]
	}
	s.history = append(s.history, c)
}

// nextID returns a uniqueid: <epoch>.<seq>, the epoch being the current
// time as on Asterisk, the sequence global.
func (s *Server) nextID(now time.Time) string {
	id := fmt.Sprintf("%d.%d", now.Unix(), s.seq)
	s.seq++
	return id
}

// appNames lists registered apps sorted, for GET /applications.
func (s *Server) appNames() []string {
	names := make([]string, 0, len(s.apps))
	for n := range s.apps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AppEndpoints returns the endpoint_ids of a registered app (sorted, as
// GET /applications/{app} shows them), or nil when the app is not
// registered.
func (s *Server) AppEndpoints(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	if a == nil {
		return nil
	}
	eps := []string{}
	for e, n := range a.endpoints {
		if n > 0 {
			eps = append(eps, e)
		}
	}
	sort.Strings(eps)
	return eps
}

// AppConnected says whether an app has an events websocket (the server
// has taken a closed one into account once it says false).
func (s *Server) AppConnected(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	return a != nil && a.active != nil
}
