package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari/aritest"
	"github.com/switchboard/switchboard/esl"
	"github.com/switchboard/switchboard/esl/esltest"
	"github.com/switchboard/switchboard/internal/pbxlocal"
)

// The suite on real media servers, on this host: a private Asterisk and
// a private FreeSWITCH started for the test binary from the builds of
// ../shared/pbx (internal/pbxlocal), configured from docker/asterisk and
// docker/freeswitch; or, when the environment names one
// (SWITCHBOARD_TEST_ARI_URL, SWITCHBOARD_TEST_ESL_ADDR), a server of the
// user's own configured as they are. SIPp plays the callers and phones
// (sipp_test.go); a second event connection of the suite's own tells what
// the server played to whom.

// suite is a backend TestScenarios runs its scenarios on.
type suite struct {
	start func(*testing.T) backend
	// serial: the scenarios run one after the other. Each starts its own
	// switchboard, and two of them on one real server would fight over
	// its calls (one Stasis app on Asterisk; every event socket of
	// FreeSWITCH sees every parked call).
	serial bool
}

// backends lists where the suite runs: the emulators and both real
// servers. A real server that cannot run here is skipped, saying why; in
// CI (CI set) that fails instead: the servers are there and must run.
func backends(t *testing.T) map[string]suite {
	return map[string]suite{
		"asterisk-emulator":   {start: newARIEmulator},
		"freeswitch-emulator": {start: newESLEmulator},
		"asterisk":            {serial: true, start: newRealAsterisk},
		"freeswitch":          {serial: true, start: newRealFreeSWITCH},
	}
}

// unavailable skips the test, or fails it in CI, for a reason that keeps a
// real server out of the suite.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set, and the real servers must run: "+format, args...)
	}
	t.Skipf(format, args...)
}

// needSIPp: the real servers' callers and phones are SIPp processes.
func needSIPp(t testing.TB, server string) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		unavailable(t, "sipp is not on the PATH: the real %s suite needs SIPp to play callers and phones "+
			"(Debian: apt-get install sip-tester; make test installs it)", server)
	}
}

// setting is a variable of the real suites, or its default.
func setting(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// The private servers, one of each for the test binary, started on first
// use and stopped when the tests end (stopServers, from TestMain; their
// parent-death signal if the binary is killed).
var (
	serversMu sync.Mutex
	asterisk  *pbxlocal.Asterisk
	fswitch   *pbxlocal.FreeSWITCH
	startErr  = map[string]error{}
	serverDir string
)

// private starts the server kind once, from docker/<kind>; a failure is
// kept and told to every test that asks again.
func private[S comparable](t testing.TB, kind string, server *S, start func(context.Context, pbxlocal.Options) (S, error)) S {
	t.Helper()
	serversMu.Lock()
	defer serversMu.Unlock()
	var zero S
	if err := pbxlocal.Installed(kind); err != nil {
		unavailable(t, "the real %s is not installed here: %v", kind, err)
	}
	if err := startErr[kind]; err != nil {
		t.Fatalf("the private %s did not start: %v", kind, err)
	}
	if *server != zero {
		return *server
	}
	if serverDir == "" {
		dir, err := os.MkdirTemp("", "switchboard-pbx-")
		require.NoError(t, err)
		serverDir = dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(serverDir, kind)
	extra, err := nativeDialplan(kind, dir) // BenchmarkReal's
	require.NoError(t, err)
	s, err := start(ctx, pbxlocal.Options{Dir: dir, Config: filepath.Join("..", "docker", kind), Extra: extra})
	if err != nil {
		startErr[kind] = err
		t.Fatalf("the private %s did not start: %v", kind, err)
	}
	*server = s
	return s
}

// stopServers stops the private servers. Their directories (configuration
// and logs) are kept when a test failed, and their place said.
func stopServers(failed bool) {
	serversMu.Lock()
	defer serversMu.Unlock()
	if asterisk != nil {
		asterisk.Stop()
	}
	if fswitch != nil {
		fswitch.Stop()
	}
	if serverDir == "" {
		return
	}
	if failed {
		fmt.Fprintf(os.Stderr, "e2e: the real servers' configurations and logs are kept in %s\n", serverDir)
		return
	}
	os.RemoveAll(serverDir)
}

// realBackend is a real media server: SIPp plays its phones and callers.
type realBackend struct {
	vars []string // switchboard's settings
	dial string   // a phone's dial string, from its name and port
	desk string   // a desk phone's device, from its name
	// registrar is where desk phones register: host:port, the domain,
	// and the address they speak from.
	registrar, domain, phoneAddr string
	phones                       map[string]func() // registered desk phones: unregister
	sip                          *sipp
	played                       *playLog
	// server is the private instance, to restart or read the logs of;
	// nil for a server of the user's own.
	server interface {
		Stop() error
		Kill()
		Tail() string
	}
	startAgain func(context.Context) error
}

func (b *realBackend) env() []string { return b.vars }

func (b *realBackend) audio() bool { return true }

func (b *realBackend) deskDevice(name string) string { return fmt.Sprintf(b.desk, name) }

// register registers the desk phone with SIPp (see deskPhone), or
// unregisters it.
func (b *realBackend) register(t *testing.T, name string, registered bool) {
	if b.registrar == "" {
		t.Skip("desk phones register only on the private servers, whose configuration the suite knows")
	}
	if b.phones == nil {
		b.phones = map[string]func(){}
	}
	if off, on := b.phones[name]; on && !registered {
		off()
		delete(b.phones, name)
	} else if !on && registered {
		b.phones[name] = b.sip.deskPhone(t, name, b.registrar, b.domain, b.phoneAddr)
	}
}

func (b *realBackend) rings(name string) []time.Duration { return b.sip.rings(name) }

func (b *realBackend) deskCall(t *testing.T, name, digits string, s script) caller {
	if b.registrar == "" {
		t.Skip("desk phones call only on the private servers, whose configuration the suite knows")
	}
	return realCaller{b.sip.deskCall(t, name, digits, b.registrar, b.domain, b.phoneAddr, s), b.played}
}

func (b *realBackend) heard(name string, d time.Duration) []int16 { return b.sip.heard(name, 0, d) }

func (b *realBackend) heardBetween(name string, from, to time.Duration) []int16 {
	return b.sip.heard(name, from, to)
}

// restart stops and starts the private server (the same ports and
// configuration, as a service restart); a server of the user's own is
// not the suite's to restart.
func (b *realBackend) restart(t *testing.T, whileDown func()) {
	if b.server == nil {
		t.Skip("a media server of your own (SWITCHBOARD_TEST_*) is not restarted by the suite")
	}
	if err := b.server.Stop(); err != nil {
		t.Logf("the media server was killed: %v", err) // stopped all the same
	}
	whileDown()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, b.startAgain(ctx), "the media server starts again")
}

// device dials the phone's SIPp process directly, without registration:
// a device the server does not know the presence of is online for
// switchboard.
func (b *realBackend) device(name string) string { return fmt.Sprintf(b.dial, name, b.sip.port(name)) }

func (b *realBackend) phone(t testing.TB, name string, p phone) { b.sip.phone(t, name, p) }

// external: the trunk (SWITCHBOARD_ARI_TRUNK, SWITCHBOARD_ESL_TRUNK) is
// one SIPp phone, "pstn", whatever the number.
func (b *realBackend) external(t testing.TB, _ string, p phone) { b.sip.phone(t, pstn, p) }

// pstn is the SIPp phone external numbers reach.
const pstn = "pstn"

// trunk is the dial string of external numbers: the pstn phone.
func (b *realBackend) trunk() string { return fmt.Sprintf(b.dial, "%s", b.sip.port(pstn)) }

func (b *realBackend) call(t *testing.T, from, to string, s script) caller {
	return realCaller{b.sip.call(t, from, to, s), b.played}
}

type realCaller struct {
	*sippCall
	played *playLog
}

func (c realCaller) heard() []string { return c.played.heard(c.callID) }

// logOnFailure shows the server's last log lines when the test fails.
func (b *realBackend) logOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() && b.server != nil {
			t.Logf("media server log:\n%s", b.server.Tail())
		}
	})
}

// newRealAsterisk drives the private Asterisk, or the one whose HTTP
// server SWITCHBOARD_TEST_ARI_URL names (configured as docker/asterisk:
// callers reach it at SWITCHBOARD_TEST_SIP_ADDR). Callers arrive on its
// `sipp` endpoint (identified by 127.0.0.1, context from-trunk); phones
// are dialled through that endpoint.
func newRealAsterisk(t *testing.T) backend {
	needSIPp(t, "Asterisk")
	b := &realBackend{dial: "PJSIP/sipp/sip:%s@127.0.0.1:%d", desk: "PJSIP/%s"}
	base, user, password, sip := os.Getenv("SWITCHBOARD_TEST_ARI_URL"), "", "", ""
	if base != "" {
		user = setting("SWITCHBOARD_TEST_ARI_USER", "switchboard")
		password = setting("SWITCHBOARD_TEST_ARI_PASSWORD", "switchboard")
		sip = setting("SWITCHBOARD_TEST_SIP_ADDR", "127.0.0.1:5060")
	} else {
		a := private(t, "asterisk", &asterisk, pbxlocal.StartAsterisk)
		base, user, password, sip = a.ARIURL, a.ARIUser, a.ARIPassword, a.SIPAddr
		// From 127.0.0.1 a phone would be taken for the sipp endpoint.
		b.registrar, b.domain, b.phoneAddr = a.SIPAddr, "127.0.0.1", "127.0.0.2"
		b.server, b.startAgain = a, a.Start
	}
	played, err := listenARI(t, base, user, password)
	require.NoError(t, err, "Asterisk at %s: is it up, configured as docker/asterisk/?", base)
	b.vars = []string{"SWITCHBOARD_MEDIA=asterisk", "SWITCHBOARD_ARI_URL=" + base, "SWITCHBOARD_ARI_USER=" + user,
		"SWITCHBOARD_ARI_PASSWORD=" + password, "SWITCHBOARD_ARI_APP=switchboard"}
	b.sip, b.played = newSIPp(t, sip), played
	b.vars = append(b.vars, "SWITCHBOARD_ARI_TRUNK="+b.trunk())
	b.logOnFailure(t)
	return b
}

// newRealFreeSWITCH drives the private FreeSWITCH, or the one whose event
// socket SWITCHBOARD_TEST_ESL_ADDR names (configured as docker/freeswitch:
// callers reach its external profile at SWITCHBOARD_TEST_SIP_ADDR, by
// default port 5080 of this host's address, where docker/freeswitch binds
// it: $${local_ip_v4}), let in by the `trunk` ACL; phones are dialled
// from the internal profile.
func newRealFreeSWITCH(t *testing.T) backend {
	needSIPp(t, "FreeSWITCH")
	b := &realBackend{dial: "sofia/internal/%s@127.0.0.1:%d", desk: "user/%s"}
	addr, password, sip := os.Getenv("SWITCHBOARD_TEST_ESL_ADDR"), "", ""
	var recordings []string
	if addr != "" {
		password = setting("SWITCHBOARD_TEST_ESL_PASSWORD", "change-me-esl")
		sip = setting("SWITCHBOARD_TEST_SIP_ADDR", net.JoinHostPort(localIPv4(), "5080"))
	} else {
		f := private(t, "freeswitch", &fswitch, pbxlocal.StartFreeSWITCH)
		addr, password, sip = f.ESLAddr, f.ESLPassword, f.SIPAddr
		b.registrar, b.domain, b.phoneAddr = f.PhonesAddr, "127.0.0.1", "127.0.0.1"
		recordings = []string{"SWITCHBOARD_ESL_RECORDINGS=" + f.Recordings}
		b.server, b.startAgain = f, f.Start
	}
	played, err := listenESL(t, addr, password)
	require.NoError(t, err, "FreeSWITCH at %s: is it up, configured as docker/freeswitch/?", addr)
	b.vars = append([]string{"SWITCHBOARD_MEDIA=freeswitch", "SWITCHBOARD_ESL_ADDR=" + addr, "SWITCHBOARD_ESL_PASSWORD=" + password},
		recordings...)
	b.sip, b.played = newSIPp(t, sip), played
	b.vars = append(b.vars, "SWITCHBOARD_ESL_TRUNK="+b.trunk())
	b.logOnFailure(t)
	return b
}

// localIPv4 is this host's address on its default route, as FreeSWITCH
// finds its $${local_ip_v4} (no packet is sent); the loopback without one.
func localIPv4() string {
	c, err := net.Dial("udp4", "192.0.2.1:9")
	if err != nil {
		return "127.0.0.1"
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

// playLog is what a media server was asked to play on each channel, in
// order, and the SIP Call-ID of each channel it told of: a SIPp caller
// knows its own Call-ID, not the channel the server made of it.
type playLog struct {
	mu      sync.Mutex
	callIDs map[string]string // channel → SIP Call-ID
	played  []struct{ channel, media string }
}

func (l *playLog) channel(id, callID string) {
	if id == "" || callID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.callIDs == nil {
		l.callIDs = map[string]string{}
	}
	l.callIDs[id] = callID
}

func (l *playLog) play(channel, media string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.played = append(l.played, struct{ channel, media string }{channel, media})
}

// heard lists what was played on the channels of the call callID.
func (l *playLog) heard(callID string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var media []string
	for _, p := range l.played {
		if l.callIDs[p.channel] == callID {
			media = append(media, p.media)
		}
	}
	return media
}

// listeners numbers the suite's ARI listeners (listenARI).
var listeners atomic.Int64

// listenARI opens an events websocket on Asterisk for an app of the
// suite's own subscribed to everything (switchboard's app keeps its
// calls), and logs the playbacks started on channels and each channel's
// protocol_id (the SIP Call-ID).
func listenARI(t testing.TB, base, user, password string) (*playLog, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("ARI URL %q: want Asterisk's HTTP server, such as http://127.0.0.1:8088", base)
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ari/events"
	// An app of its own for each listener: one test's listener closing
	// while the next one opens under the same name could unregister the
	// new one's subscription on Asterisk, and its events would be lost.
	app := fmt.Sprintf("switchboard-e2e-%d", listeners.Add(1))
	u.RawQuery = url.Values{"app": {app}, "subscribeAll": {"true"}}.Encode()
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, res, err := dialer.Dial(u.String(), basicAuth(user, password))
	if err != nil {
		if res != nil {
			err = fmt.Errorf("%w (%s)", err, res.Status)
		}
		return nil, fmt.Errorf("ARI events %s: %w", u, err)
	}
	// The handshake done, Asterisk registers the app: the events of calls
	// placed from then on are this listener's.
	if err := waitForApp(base, app, user, password); err != nil {
		ws.Close()
		return nil, err
	}
	log := &playLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var e struct {
				Type    string `json:"type"`
				Channel *struct {
					ID         string `json:"id"`
					ProtocolID string `json:"protocol_id"`
				} `json:"channel"`
				Playback *struct {
					TargetURI string `json:"target_uri"`
					MediaURI  string `json:"media_uri"`
				} `json:"playback"`
			}
			if json.Unmarshal(msg, &e) != nil {
				continue
			}
			// Any channel event names the channel's Call-ID but StasisStart
			// and StasisEnd, which Asterisk sends to the channel's app
			// alone (the emulator, to subscribeAll apps too: not counted
			// on, so that its test stands for Asterisk).
			if e.Channel != nil && e.Type != "StasisStart" && e.Type != "StasisEnd" {
				log.channel(e.Channel.ID, e.Channel.ProtocolID)
			}
			// PlaybackContinuing: the next of several media of one play.
			if p := e.Playback; p != nil && (e.Type == "PlaybackStarted" || e.Type == "PlaybackContinuing") {
				if ch, ok := strings.CutPrefix(p.TargetURI, "channel:"); ok {
					log.play(ch, p.MediaURI)
				}
			}
		}
	}()
	t.Cleanup(func() {
		ws.Close()
		<-done
	})
	return log, nil
}

// waitForApp waits until Asterisk lists the ARI application.
func waitForApp(base, app, user, password string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, err := http.NewRequest("GET", strings.TrimSuffix(base, "/")+"/ari/applications/"+app, nil)
		if err != nil {
			return err
		}
		req.Header = basicAuth(user, password)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ARI application %s not registered after 10 s (last: %v)", app, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func basicAuth(user, password string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}}
}

// listenESL opens an event socket on FreeSWITCH of the suite's own and
// logs PLAYBACK_START (Playback-File-Path) by channel, and the SIP
// Call-ID of channels from CHANNEL_PARK (parked callers carry their
// variables; a playback may not).
func listenESL(t testing.TB, addr, password string) (*playLog, error) {
	log := &playLog{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := esl.Dial(ctx, addr, password, 10*time.Second, func(e *esl.Event) {
		log.channel(e.UUID(), e.Get("variable_sip_call_id"))
		if e.Name() == "PLAYBACK_START" {
			log.play(e.UUID(), e.Get("Playback-File-Path"))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("FreeSWITCH event socket %s: %w", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Subscribe(ctx, "CHANNEL_PARK", "PLAYBACK_START"); err != nil {
		return nil, fmt.Errorf("FreeSWITCH event socket %s: %w", addr, err)
	}
	return log, nil
}

// TestHeard checks the real suites' listeners on the emulators: playing
// two prompts to one caller and one to another, each caller's SIP Call-ID
// finds its own, in order.
func TestHeard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// play stands for switchboard: it plays media[0] and media[1] to
		// a first caller, media[2] to a second; it returns the log the
		// listener kept and the callers' SIP Call-IDs.
		play  func(t *testing.T, media []string) (log *playLog, first, second string)
		media []string
	}{
		{"asterisk", playARI, []string{"sound:hello-world", "sound:beep", "sound:vm-goodbye"}},
		{"freeswitch", playESL, []string{"tone_stream://%(100,0,440)", "silence_stream://100", "tone_stream://%(100,0,620)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, first, second := tt.play(t, tt.media)
			require.NotEqual(t, first, second)
			require.Eventually(t, func() bool { return len(log.heard(first)) == 2 && len(log.heard(second)) == 1 },
				5*time.Second, 10*time.Millisecond, "%v / %v", log.heard(first), log.heard(second))
			require.Equal(t, tt.media[:2], log.heard(first))
			require.Equal(t, tt.media[2:], log.heard(second))
			require.Empty(t, log.heard("nobody@127.0.0.1"))
		})
	}
}

// playARI plays on the ARI emulator as switchboard would: its app's
// websocket takes the calls (StasisStart), REST answers and plays.
func playARI(t *testing.T, media []string) (*playLog, string, string) {
	const user, password = "switchboard", "secret"
	ast := aritest.New(aritest.Options{App: "switchboard", User: user, Password: password, SoundDuration: 20 * time.Millisecond})
	require.NoError(t, ast.Start())
	t.Cleanup(ast.Close)
	log, err := listenARI(t, ast.URL(), user, password)
	require.NoError(t, err)

	auth := basicAuth(user, password)
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(ast.URL(), "http", "ws", 1)+"/ari/events?app=switchboard", auth)
	require.NoError(t, err)
	t.Cleanup(func() { ws.Close() })
	rest := func(path string) {
		req, err := http.NewRequest("POST", ast.URL()+"/ari"+path, nil)
		require.NoError(t, err)
		req.Header = auth
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Less(t, res.StatusCode, 300, "POST %s", path)
	}
	call := func(from string, media ...string) string {
		ast.Call(from, "1000", aritest.CallScript{})
		for {
			var e struct {
				Type    string `json:"type"`
				Channel struct {
					ID         string `json:"id"`
					ProtocolID string `json:"protocol_id"`
				} `json:"channel"`
			}
			require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
			require.NoError(t, ws.ReadJSON(&e))
			if e.Type != "StasisStart" {
				continue
			}
			rest("/channels/" + e.Channel.ID + "/answer")
			for _, m := range media {
				rest("/channels/" + e.Channel.ID + "/play?media=" + url.QueryEscape(m))
			}
			return e.Channel.ProtocolID
		}
	}
	return log, call(caller1, media[:2]...), call(caller2, media[2:]...)
}

// playESL plays on the ESL emulator as switchboard would: an event socket
// takes the parked calls and sends them playback.
func playESL(t *testing.T, media []string) (*playLog, string, string) {
	const password = "secret"
	fs := esltest.New(esltest.Options{Password: password, PlayDuration: 20 * time.Millisecond})
	require.NoError(t, fs.Start())
	t.Cleanup(fs.Close)
	log, err := listenESL(t, fs.Addr(), password)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	parked := make(chan *esl.Event, 2)
	ctl, err := esl.Dial(ctx, fs.Addr(), password, 5*time.Second, func(e *esl.Event) {
		if e.Name() == "CHANNEL_PARK" {
			parked <- e
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { ctl.Close() })
	require.NoError(t, ctl.Subscribe(ctx, "CHANNEL_PARK"))
	call := func(from string, media ...string) string {
		fs.Call(from, "1000", esltest.CallScript{})
		var e *esl.Event
		select {
		case e = <-parked:
		case <-ctx.Done():
			t.Fatal("the call was never parked")
		}
		for _, m := range media {
			require.NoError(t, ctl.SendMsg(ctx, e.UUID(), esl.Header{Name: "call-command", Value: "execute"},
				esl.Header{Name: "execute-app-name", Value: "playback"}, esl.Header{Name: "execute-app-arg", Value: m}))
		}
		return e.Get("variable_sip_call_id")
	}
	return log, call(caller1, media[:2]...), call(caller2, media[2:]...)
}
