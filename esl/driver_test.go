package esl_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/esl"
	"github.com/switchboard/switchboard/esl/esltest"
	"github.com/switchboard/switchboard/events"
)

const line = "+33176390861"

// rig is the driver between the real engine (in-memory configuration and
// call log, real clock) and the ESL emulator, over real sockets.
type rig struct {
	fs      *esltest.Server
	driver  *esl.Driver
	engine  *dialplan.Engine
	dir     *dialplantest.Directory
	log     *dialplantest.CallLog
	acd     *dialplan.ACD
	records string
	logs    *syncBuffer
	proxy   *proxy
	cancel  context.CancelFunc
	done    chan struct{}
}

type rigOptions struct {
	play   time.Duration // how long a file plays (50 ms)
	audio  dialplan.AudioSource
	socket bool // the dialplan hands every call to an outbound socket
	// slowLookup delays the engine's blocked-number check, so that the
	// caller is answered that much later.
	slowLookup time.Duration
	// proxy puts a TCP proxy between the driver and the emulator, to
	// keep the driver away for a while (r.proxy.setDown).
	proxy bool
	// keepAlive and timeout set the driver's KeepAlive and RequestTimeout.
	keepAlive, timeout time.Duration
	// watchdog runs the shipped dialplan: a fallback while switchboard's
	// heartbeat is missing.
	watchdog bool
	// observe is Config.Observe.
	observe func(command string, d time.Duration, err error)
}

func newRig(t *testing.T, change func(n *dialplan.Number)) *rig {
	return newRigWith(t, rigOptions{}, change)
}

func newRigWith(t *testing.T, o rigOptions, change func(n *dialplan.Number)) *rig {
	t.Helper()
	if o.play == 0 {
		o.play = 50 * time.Millisecond
	}
	opts := esltest.Options{PlayDuration: o.play, Watchdog: o.watchdog}
	if o.socket {
		opts.SocketAddr = "127.0.0.1:1"
	}
	fs := esltest.New(opts)
	require.NoError(t, fs.Start())
	r := &rig{fs: fs, dir: dialplantest.NewDirectory(), log: dialplantest.NewCallLog(), done: make(chan struct{}),
		records: t.TempDir(), logs: &syncBuffer{}}
	company := dialplan.Company{ID: 1, Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	r.dir.Companies[1] = company
	for i, name := range []string{"alice", "bob"} {
		r.dir.SetUser(dialplan.User{ID: dialplan.UserID(i + 1), FirstName: name, Devices: []string{"user/" + name},
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

	logger := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	addr := fs.Addr()
	if o.proxy {
		r.proxy = newProxy(t, addr)
		addr = r.proxy.addr()
	}
	r.driver = esl.New(esl.Config{Addr: addr, Password: "ClueCon", Country: "FR", RecordingDir: r.records,
		Audio: o.audio, Logger: logger, KeepAlive: o.keepAlive, RequestTimeout: o.timeout, Observe: o.observe})
	r.acd = dialplan.NewACD(dialplan.WallClock{})
	var dir dialplan.Directory = r.dir
	if o.slowLookup > 0 {
		dir = slowDirectory{r.dir, o.slowLookup}
	}
	r.engine = dialplan.NewEngine(dialplan.Config{Directory: dir, CallLog: r.log, Media: r.driver, ACD: r.acd})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { defer close(r.done); r.driver.Run(ctx, r.engine, r.acd) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
		r.engine.Stop()
		fs.Close()
		if t.Failed() {
			t.Logf("driver log:\n%s", r.logs.String())
		}
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

// commands lists the first lines the driver sent that start with prefix.
func (r *rig) commands(prefix string) []string {
	var out []string
	for _, c := range r.fs.Commands() {
		if strings.HasPrefix(c.Line, prefix) {
			out = append(out, c.Line)
		}
	}
	return out
}

func TestAnsweredCall(t *testing.T) {
	r := newRig(t, nil)
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerRing})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, Delay: 300 * time.Millisecond, HangupAfter: 500 * time.Millisecond})
	caller := r.fs.Call("0612345678", "0176390861", esltest.CallScript{})
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", names)
	require.NotNil(t, c.AnsweredAt)
	require.Equal(t, "+33612345678", c.RawDigits, "the caller's national number read in E.164")
	require.Contains(t, names, events.CallAnswered)
	<-caller.Done()

	// Both phones were rung by bgapi originate under our uuid and job, with
	// the caller id, early media ignored, and a ring timeout 2 s past the
	// step's 5 s (a backstop: the engine times the ring).
	originates := r.commands("bgapi originate ")
	require.Len(t, originates, 2, "%v", originates)
	for _, o := range originates {
		require.Regexp(t, `^bgapi originate \{origination_uuid=[0-9a-f-]{36},ignore_early_media=true,force_transfer_context=switchboard-transfer,park_after_bridge=true,`+
			`origination_caller_id_number=\+33612345678,originate_timeout=7,originating_leg_uuid=`+caller.UUID()+`\}user/(alice|bob) &park\(\)$`, o)
	}
	for _, cmd := range r.fs.Commands() {
		if strings.HasPrefix(cmd.Line, "bgapi ") {
			require.Regexp(t, `^[0-9a-f-]{36}$`, cmd.Header("Job-UUID"), "every job under our id")
		}
	}
	require.Contains(t, r.commands("api uuid_answer "), "api uuid_answer "+caller.UUID())
	require.Len(t, r.commands("api uuid_bridge "+caller.UUID()+" "), 1)
	// Alice's phone stopped ringing with "answered elsewhere" once Bob answered.
	var lostRace bool
	for _, l := range r.commands("api uuid_kill ") {
		lostRace = lostRace || strings.HasSuffix(l, " LOSE_RACE")
	}
	require.True(t, lostRace, "%v", r.commands("api uuid_kill "))
	require.Eventually(t, func() bool { return len(r.fs.Channels()) == 0 }, 5*time.Second, 20*time.Millisecond,
		"every channel hung up")
}

// TestObserveCommands: every command of a call is told to
// Config.Observe, named without its arguments (no uuid).
func TestObserveCommands(t *testing.T) {
	var (
		mu    sync.Mutex
		names = map[string]int{}
	)
	r := newRigWith(t, rigOptions{observe: func(command string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		names[command]++
	}}, nil)
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerRing})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, Delay: 300 * time.Millisecond, HangupAfter: 500 * time.Millisecond})
	caller := r.fs.Call("0612345678", "0176390861", esltest.CallScript{})
	r.ended(t)
	<-caller.Done()
	sent := func() int { return len(r.fs.Commands()) - 1 } // but auth, which Dial sends
	observed := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, c := range names {
			n += c
		}
		return n
	}
	// Observe runs as each reply is read, after the emulator logged the
	// command.
	require.Eventually(t, func() bool { return observed() == sent() }, 5*time.Second, 10*time.Millisecond,
		"every command observed")
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"event", "uuid_answer", "uuid_bridge", "uuid_kill", "bgapi originate"} {
		require.Contains(t, names, want)
	}
	for name := range names {
		require.Regexp(t, `^(bgapi )?[a-z0-9_]+$`, name, "a name without arguments")
	}
}

func TestAgentOutcomes(t *testing.T) {
	cases := []struct {
		name  string
		peer  esltest.Peer
		names []events.Kind
	}{
		{"busy", esltest.Peer{Action: esltest.PeerBusy}, []events.Kind{events.CallAgentDeclined}},
		{"declines", esltest.Peer{Action: esltest.PeerDecline, Delay: 200 * time.Millisecond}, []events.Kind{events.CallAgentDeclined}},
		{"rings out", esltest.Peer{Action: esltest.PeerRing}, []events.Kind{events.CallAgentNoAnswer}},
		{"unreachable", esltest.Peer{Action: esltest.PeerUnreachable}, []events.Kind{events.CallAgentNoAnswer}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, func(n *dialplan.Number) {
				n.Voicemail = false
				n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 1, RingSeconds: 5}}
			})
			r.fs.SetPeer("user/alice", tc.peer)
			caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
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

// TestOriginateCauses: the outcome of a phone reaches the call with its
// Q.850 cause, from the channel's hang-up or, when FreeSWITCH never made a
// channel, from the BACKGROUND_JOB alone.
func TestOriginateCauses(t *testing.T) {
	r := newRig(t, nil)
	r.fs.SetPeer("user/busy", esltest.Peer{Action: esltest.PeerBusy})
	r.fs.SetPeer("user/declines", esltest.Peer{Action: esltest.PeerDecline, Delay: 100 * time.Millisecond})
	r.fs.SetPeer("user/ringing", esltest.Peer{Action: esltest.PeerRing})
	r.fs.SetPeer("sofia/gateway/trunk/*", esltest.Peer{Action: esltest.PeerUnreachable})
	r.fs.SetRegistered("away", false)
	cases := []struct {
		dial  dialplan.Dial
		cause dialplan.Cause
	}{
		{dialplan.Dial{Endpoint: "user/busy"}, dialplan.CauseBusy},
		{dialplan.Dial{Endpoint: "user/declines"}, dialplan.CauseRejected},
		{dialplan.Dial{Endpoint: "user/ringing", Timeout: time.Second}, dialplan.CauseNoAnswer},
		{dialplan.Dial{External: "+33698765432"}, dialplan.CauseTemporaryFailure},
		{dialplan.Dial{Endpoint: "user/away"}, 20},             // USER_NOT_REGISTERED: no channel, the job says so
		{dialplan.Dial{Endpoint: "user/nobody"}, 20},           // SUBSCRIBER_ABSENT
		{dialplan.Dial{Endpoint: "sofia/nosuchprofile/x"}, 27}, // INVALID_PROFILE
	}
	for _, tc := range cases {
		s := newSink()
		leg, err := r.driver.Originate(context.Background(), tc.dial, s)
		require.NoError(t, err)
		e := s.wait(t, dialplan.EvHangup)
		require.Equal(t, leg, e.Leg)
		require.Equal(t, tc.cause, e.Cause, "%+v", tc.dial)
	}
	require.Contains(t, r.commands("bgapi originate "), "bgapi originate {origination_uuid="+
		r.commandUUID("user/ringing")+",ignore_early_media=true,force_transfer_context=switchboard-transfer,park_after_bridge=true,originate_timeout=1}user/ringing &park()")
}

// commandUUID is the origination_uuid of the originate to dial.
func (r *rig) commandUUID(dial string) string {
	for _, l := range r.commands("bgapi originate ") {
		if strings.Contains(l, "}"+dial+" ") {
			u, _, _ := strings.Cut(strings.TrimPrefix(l, "bgapi originate {origination_uuid="), ",")
			return u
		}
	}
	return ""
}

func TestIVRDigitStopsThePrompt(t *testing.T) {
	menu := filepath.Join(t.TempDir(), "menu.wav")
	require.NoError(t, os.WriteFile(menu, []byte("RIFF"), 0o644))
	r := newRigWith(t, rigOptions{play: 10 * time.Second, audio: fileAudio{menu}}, func(n *dialplan.Number) {
		n.Type = dialplan.IVR
		n.Messages = dialplan.Messages{dialplan.MsgIVR: {Type: dialplan.MessageTTS, Text: "tapez 2"}}
		n.IVROptions = []dialplan.IVROption{{Key: "2", Target: dialplan.Target{Type: dialplan.TargetUser, ID: 2}}}
	})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, Delay: 100 * time.Millisecond, HangupAfter: 300 * time.Millisecond})
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{DTMF: []esltest.DTMF{{At: 500 * time.Millisecond, Digit: "2"}}})
	c, names := r.ended(t)
	require.Equal(t, []string{"2"}, c.IVROptions, "%v", names)
	require.Equal(t, dialplan.UserID(2), c.User)
	require.Less(t, c.EndedAt.Sub(c.StartedAt), 5*time.Second, "the 10 s prompt was cut short")
	require.Contains(t, r.commands("api uuid_break "), "api uuid_break "+caller.UUID()+" all")
	require.Equal(t, menu, caller.Heard()[0])
	// The prompt was played with sendmsg under our Event-UUID, and its end
	// (FILE PLAYED after the break) was read from that Application-UUID.
	var played bool
	for _, cmd := range r.fs.Commands() {
		if cmd.Line == "sendmsg "+caller.UUID() && cmd.Header("execute-app-name") == "playback" && cmd.Header("execute-app-arg") == menu {
			require.Equal(t, "true", cmd.Header("event-lock"))
			require.Regexp(t, `^[0-9a-f-]{36}$`, cmd.Header("Event-UUID"))
			played = true
		}
	}
	require.True(t, played)
	require.NotContains(t, names, events.CallMessageFailed)
}

// TestMissingPromptFails: FreeSWITCH cannot open the file (FILE NOT
// FOUND, no PLAYBACK_START): the prompt is noted as failed and the call
// goes on.
func TestMissingPromptFails(t *testing.T) {
	r := newRigWith(t, rigOptions{audio: fileAudio{"/no/such/file.wav"}}, func(n *dialplan.Number) {
		n.Messages = dialplan.Messages{dialplan.MsgWelcome: {Type: dialplan.MessageTTS, Text: "bienvenue"}}
	})
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerAnswer, HangupAfter: 200 * time.Millisecond})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerRing})
	r.fs.Call("+33612345678", line, esltest.CallScript{})
	c, names := r.ended(t)
	require.Contains(t, names, events.CallMessageFailed)
	require.Equal(t, dialplan.UserID(1), c.User, "the call went on: %v", names)
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	r := newRig(t, nil)
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerRing})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerRing})
	r.fs.Call("+33612345678", line, esltest.CallScript{HangupAfter: time.Second})
	c, names := r.ended(t)
	require.Equal(t, dialplan.ShortAbandoned, c.MissedReason, "%v", names)
	require.Eventually(t, func() bool { return len(r.fs.Channels()) == 0 }, 5*time.Second, 20*time.Millisecond,
		"the agents' phones stopped ringing")
}

// TestCallerCancelsBeforeAnswer: the caller gives up (CANCEL) before the
// driver answers: the call ends as the caller's doing.
func TestCallerCancelsBeforeAnswer(t *testing.T) {
	r := newRigWith(t, rigOptions{slowLookup: 500 * time.Millisecond}, nil)
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{CancelAfter: 100 * time.Millisecond})
	c, names := r.ended(t)
	require.Equal(t, "ORIGINATOR_CANCEL", caller.HangupCause())
	require.False(t, caller.Answered())
	require.Nil(t, c.AnsweredAt, "%v", names)
	require.Equal(t, "normal_clearing", c.HangupCause)
	require.Contains(t, r.commands("api uuid_answer "), "api uuid_answer "+caller.UUID(), "answered too late: -ERROR is ErrGone")
}

func TestDevicePresence(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Voicemail = false
	})
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerAnswer})
	r.fs.SetRegistered("alice", false) // sofia::unregister
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, Delay: 100 * time.Millisecond, HangupAfter: 200 * time.Millisecond})
	time.Sleep(100 * time.Millisecond) // let the event arrive
	r.fs.Call("+33612345678", line, esltest.CallScript{})
	r.ended(t)
	for _, l := range r.commands("bgapi originate ") {
		require.NotContains(t, l, "user/alice", "an unregistered phone is not rung")
	}
	require.Len(t, r.commands("bgapi originate "), 1)
}

// TestPresenceAtConnect: registrations are read at each connect (sofia
// status profile internal reg); a phone seen online that is no longer
// listed after a reconnect is offline.
func TestPresenceAtConnect(t *testing.T) {
	fs := esltest.New(esltest.Options{})
	require.NoError(t, fs.Start())
	defer fs.Close()
	fs.SetRegistered("alice", true)
	fs.SetRegistered("bob", true)
	p := &presence{seen: map[string]bool{}}
	d := esl.New(esl.Config{Addr: fs.Addr(), Password: "ClueCon", Country: "FR"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx, nopHandler{}, p) }()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool { return p.get("user/alice") == 1 && p.get("user/bob") == 1 }, 5*time.Second, 10*time.Millisecond)
	fs.SetRegistered("carol", true) // sofia::register
	require.Eventually(t, func() bool { return p.get("user/carol") == 1 }, 5*time.Second, 10*time.Millisecond)
	fs.DropConnections()
	require.Eventually(t, func() bool { return d.Ready(ctx) != nil }, 5*time.Second, time.Millisecond)
	fs.SetRegistered("bob", false) // unheard: the link is down
	require.Eventually(t, func() bool { return p.get("user/bob") == -1 }, 5*time.Second, 10*time.Millisecond,
		"offline, read at the reconnect")
	require.Equal(t, 1, p.get("user/alice"))
	require.Equal(t, 1, p.get("user/carol"))
}

// TestReconnect: the event socket drops while a call waits; the driver
// reconnects and the call goes on (FreeSWITCH keeps parked calls, 09).
func TestReconnect(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 2, RingSeconds: 5}}
	})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, Delay: 1500 * time.Millisecond, HangupAfter: 300 * time.Millisecond})
	r.fs.Call("+33612345678", line, esltest.CallScript{})
	time.Sleep(500 * time.Millisecond)
	r.fs.DropConnections()
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "the call went on across the reconnect: %v", names)
	require.NoError(t, r.driver.Ready(context.Background()))
	require.GreaterOrEqual(t, len(r.commands("api show channels as json")), 2, "read again at the reconnect")
}

// TestReconnectWhileAgentAnswers: the agent's phone answers while the
// link is down (its CHANNEL_PARK and BACKGROUND_JOB are never seen): the
// reconnect finds it answered and parked, and the call is bridged.
func TestReconnectWhileAgentAnswers(t *testing.T) {
	r := newRigWith(t, rigOptions{proxy: true}, func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 2, RingSeconds: 5}}
	})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, Delay: 300 * time.Millisecond, HangupAfter: 500 * time.Millisecond})
	r.fs.Call("+33612345678", line, esltest.CallScript{})
	require.Eventually(t, func() bool { return len(r.commands("bgapi originate ")) == 1 }, 5*time.Second, time.Millisecond)
	r.proxy.setDown(true)
	require.Eventually(t, func() bool {
		for _, ch := range r.fs.Channels() {
			if ch.DialString == "user/bob" && ch.Answered {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	r.proxy.setDown(false)
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", names)
	require.NotNil(t, c.AnsweredAt)
	require.Contains(t, r.logs.String(), "phone answered while the event socket link was down")
}

// TestCallParkedWhileDown: a call that parks while switchboard is not
// connected waits parked (nobody else will take it), and is taken at the
// reconnect.
func TestCallParkedWhileDown(t *testing.T) {
	r := newRigWith(t, rigOptions{proxy: true}, nil)
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerAnswer, HangupAfter: 200 * time.Millisecond})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerRing})
	r.proxy.setDown(true)
	require.Eventually(t, func() bool { return r.driver.Ready(context.Background()) != nil }, 5*time.Second, time.Millisecond)
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
	time.Sleep(200 * time.Millisecond)
	r.proxy.setDown(false)
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(1), c.User, "%v", names)
	<-caller.Done()
	require.Contains(t, r.logs.String(), "taking a call parked while the event socket link was down")
}

// TestWatchdog: while the driver beats, calls park and are taken; three
// keep-alive periods after it is gone, FreeSWITCH's scheduler lowers
// switchboard_up and the shipped dialplan gives new callers the fallback
// message instead of parking them for nobody; back, it beats again.
func TestWatchdog(t *testing.T) {
	r := newRigWith(t, rigOptions{proxy: true, watchdog: true, keepAlive: 300 * time.Millisecond}, func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 1, RingSeconds: 5}}
	})
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerAnswer, HangupAfter: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	taken := func() {
		t.Helper()
		caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
		require.NoError(t, caller.Wait(ctx))
		require.NotContains(t, caller.Heard(), "ivr/ivr-not_available.wav", "switchboard took the call")
	}
	taken()
	require.NotEmpty(t, r.commands("api sched_api +1 switchboard_watchdog global_setvar switchboard_up=false"),
		"the expiry is three keep-alive periods, in whole seconds")

	r.proxy.setDown(true)
	time.Sleep(1500 * time.Millisecond) // the expiry, and some
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
	require.NoError(t, caller.Wait(ctx))
	require.Equal(t, []string{"ivr/ivr-not_available.wav"}, caller.Heard(), "the fallback, not a wait for nobody")
	require.True(t, caller.HungUpByServer())

	r.proxy.setDown(false)
	require.Eventually(t, func() bool { return r.driver.Ready(ctx) == nil }, 5*time.Second, 10*time.Millisecond)
	taken()
}

// TestStalledLink: FreeSWITCH stops answering without closing the
// connection; the keep-alive notices, /readyz says so, and the driver
// reconnects once it answers again.
func TestStalledLink(t *testing.T) {
	r := newRigWith(t, rigOptions{proxy: true, keepAlive: 100 * time.Millisecond, timeout: 300 * time.Millisecond}, nil)
	ctx := context.Background()
	r.proxy.stall(true)
	require.Eventually(t, func() bool { return r.driver.Ready(ctx) != nil }, 5*time.Second, 10*time.Millisecond)
	require.Contains(t, r.logs.String(), "does not answer")
	r.proxy.stall(false)
	require.Eventually(t, func() bool { return r.driver.Ready(ctx) == nil }, 10*time.Second, 10*time.Millisecond)
}

func TestRestartSettlesCalls(t *testing.T) {
	r := newRig(t, nil)
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerRing})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerRing})
	r.fs.Call("+33612345678", line, esltest.CallScript{})
	require.Eventually(t, func() bool {
		_, names := r.log.Call(1)
		return slices.Contains(names, events.CallRingingOnAgent)
	}, 5*time.Second, 10*time.Millisecond)
	r.fs.Restart() // every channel gone, no event
	c, names := r.ended(t)
	require.Nil(t, c.AnsweredAt, "%v", names)
	require.Equal(t, "temporary_failure", c.HangupCause, "settled at the reconnect, not by the ring timer")
	require.Less(t, c.EndedAt.Sub(c.StartedAt), 4*time.Second)
}

// TestVoicemail: nobody answers; the caller hears the greeting and the
// beep, leaves a message and presses # to end it: uuid_record stops, the
// file is written and the message kept.
func TestVoicemail(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 1, RingSeconds: 5}}
	})
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerRing})
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{DTMF: []esltest.DTMF{{At: 7 * time.Second, Digit: "#"}},
		HangupAfter: 10 * time.Second})
	c, names := r.ended(t)
	require.Contains(t, names, events.CallVoicemailLeft, "%v", names)
	require.Equal(t, "voicemail-1", c.Voicemail)
	heard := caller.Heard()
	require.Contains(t, heard, "voicemail/vm-record_message.wav")
	require.Contains(t, heard, "tone_stream://%(300,0,1000)")
	file := filepath.Join(r.records, "voicemail-1.wav")
	require.Contains(t, r.commands("api uuid_record "), "api uuid_record "+caller.UUID()+" start "+file+" 120")
	require.Contains(t, r.commands("api uuid_record "), "api uuid_record "+caller.UUID()+" stop "+file, "# ends the message")
	require.FileExists(t, file)
	require.Less(t, c.EndedAt.Sub(c.StartedAt), 9500*time.Millisecond, "ended by #, not by the caller's hang-up")
}

// TestRecordedConversation: a line that records its calls records the
// caller's leg once bridged (both sides).
func TestRecordedConversation(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Recording.Inbound.Auto = true
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 2, RingSeconds: 5}}
	})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, HangupAfter: 300 * time.Millisecond})
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
	c, names := r.ended(t)
	require.Contains(t, names, events.CallRecordingStarted)
	require.Equal(t, "call-1", c.Recording)
	file := filepath.Join(r.records, "call-1.wav")
	require.Contains(t, r.commands("api uuid_record "), "api uuid_record "+caller.UUID()+" start "+file+" 14400")
	require.Eventually(t, func() bool { _, err := os.Stat(file); return err == nil }, 5*time.Second, 20*time.Millisecond)

	// Read back from the shared recordings directory.
	f, err := r.driver.OpenRecording(context.Background(), c.Recording)
	require.NoError(t, err)
	head := make([]byte, 4)
	_, err = io.ReadFull(f, head)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, "RIFF", string(head))
	for _, name := range []string{"call-404", "../etc/passwd", ""} {
		_, err = r.driver.OpenRecording(context.Background(), name)
		require.ErrorIs(t, err, dialplan.ErrNoRecording, name)
		require.ErrorIs(t, r.driver.DeleteRecording(context.Background(), name), dialplan.ErrNoRecording, name)
	}

	// Deleted: gone from the recordings directory.
	require.NoError(t, r.driver.DeleteRecording(context.Background(), c.Recording))
	require.NoFileExists(t, file)
	require.ErrorIs(t, r.driver.DeleteRecording(context.Background(), c.Recording), dialplan.ErrNoRecording, "deleted once")
}

// TestMusicAndRingback: a queued caller hears music on hold (uuid_broadcast
// local_stream://moh), stopped with uuid_break when an agent frees up; a
// ringing tone in band while the agent rings.
func TestMusicAndRingback(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.MusicOnHold = true
		n.RespectQueuingTime = true
		n.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: 11, RingSeconds: 10}}
	})
	r.dir.Teams[11] = dialplan.Team{ID: 11, Name: "Bob", Users: []dialplan.UserID{2}, RingingRule: dialplan.Simultaneous, RingSliceSeconds: 5}
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, Delay: 300 * time.Millisecond, HangupAfter: 300 * time.Millisecond})
	// Bob is on another call: the caller queues.
	bob := r.dir.Users[2]
	require.True(t, r.acd.Reserve(bob, 999))
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
	require.Eventually(t, func() bool { return slices.Contains(caller.Heard(), "local_stream://moh") }, 5*time.Second, 10*time.Millisecond)
	r.acd.Release(bob, 999)
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", names)
	require.Contains(t, r.commands("api uuid_broadcast "), "api uuid_broadcast "+caller.UUID()+" local_stream://moh aleg")
	require.Contains(t, r.commands("api uuid_broadcast "), "api uuid_broadcast "+caller.UUID()+" tone_stream://%(1500,3500,440);loops=-1 aleg",
		"a French ringing tone while Bob rings")
	require.Contains(t, r.commands("api uuid_break "), "api uuid_break "+caller.UUID()+" all")
}

// TestSnoop: a supervisor's phone is rung into eavesdrop on the agent's
// leg, whispering to the agent; it is answered when it answers.
func TestSnoop(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 2, RingSeconds: 5}}
	})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, HangupAfter: 2 * time.Second})
	r.fs.SetPeer("user/boss", esltest.Peer{Action: esltest.PeerAnswer, Delay: 100 * time.Millisecond})
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
	var agent string
	require.Eventually(t, func() bool {
		for _, ch := range r.fs.Channels() {
			if ch.DialString == "user/bob" && ch.BridgedTo == caller.UUID() {
				agent = ch.UUID
			}
		}
		return agent != ""
	}, 5*time.Second, 10*time.Millisecond)
	s := newSink()
	sup, err := r.driver.Snoop(context.Background(), dialplan.LegID(agent), dialplan.Whisper, dialplan.Dial{Endpoint: "user/boss"}, s)
	require.NoError(t, err)
	e := s.wait(t, dialplan.EvAnswered)
	require.Equal(t, sup, e.Leg)
	// Whispering to the leg eavesdropped on is its "bleg" flag (what it is
	// sent), as mod_dptools reads it.
	require.Contains(t, r.commands("bgapi originate "), "bgapi originate {origination_uuid="+string(sup)+
		",ignore_early_media=true,force_transfer_context=switchboard-transfer,park_after_bridge=true,eavesdrop_enable_dtmf=true,eavesdrop_whisper_bleg=true}user/boss &eavesdrop("+agent+")")
	// Barging in, then listening: the eavesdrop keys, pressed for the
	// supervisor.
	require.NoError(t, r.driver.SwitchSnoop(context.Background(), sup, dialplan.Barge))
	require.NoError(t, r.driver.SwitchSnoop(context.Background(), sup, dialplan.Listen))
	require.Equal(t, []string{"api uuid_recv_dtmf " + string(sup) + " 3", "api uuid_recv_dtmf " + string(sup) + " 0"},
		r.commands("api uuid_recv_dtmf "))
	require.NoError(t, r.driver.Hangup(context.Background(), sup, dialplan.CauseNormal))
	require.Equal(t, sup, s.wait(t, dialplan.EvHangup).Leg)
	_, err = r.driver.Snoop(context.Background(), "no-such-leg", dialplan.Listen, dialplan.Dial{Endpoint: "user/boss"}, s)
	require.ErrorIs(t, err, dialplan.ErrGone)
	r.ended(t)
}

// TestGoneLeg: commands on a channel that hung up say ErrGone, whatever
// words FreeSWITCH used (08-errors).
func TestGoneLeg(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	const gone = dialplan.LegID("2d74a4e9-cb75-4149-b375-6721be5407fe")
	require.ErrorIs(t, r.driver.Answer(ctx, gone), dialplan.ErrGone)
	require.ErrorIs(t, r.driver.Hangup(ctx, gone, dialplan.CauseNormal), dialplan.ErrGone)
	_, err := r.driver.Bridge(ctx, gone, "c330cc80-f299-4499-8a04-c348d0d4b7b2")
	require.ErrorIs(t, err, dialplan.ErrGone)
	_, err = r.driver.Play(ctx, gone, dialplan.Prompt{Sound: "beep"})
	require.ErrorIs(t, err, dialplan.ErrGone)
	require.ErrorIs(t, r.driver.StartMusic(ctx, gone), dialplan.ErrGone)
	require.ErrorIs(t, r.driver.Record(ctx, dialplan.RecordTarget{Leg: gone}, "x", time.Minute), dialplan.ErrGone)
	require.NoError(t, r.driver.StopPlayback(ctx, "no-such-playback"))
}

// TestSocketDialplanIsAnError: a dialplan that hands calls to an outbound
// socket (the other mode) is named in an error, not silently ignored.
func TestSocketDialplanIsAnError(t *testing.T) {
	r := newRigWith(t, rigOptions{socket: true}, nil)
	r.fs.Call("+33612345678", line, esltest.CallScript{HangupAfter: 200 * time.Millisecond})
	require.Eventually(t, func() bool {
		return strings.Contains(r.logs.String(), "outbound event socket") && strings.Contains(r.logs.String(), "level=ERROR")
	}, 5*time.Second, 10*time.Millisecond, r.logs.String())
	require.Contains(t, r.logs.String(), "public.xml")
}

func TestWrongPassword(t *testing.T) {
	fs := esltest.New(esltest.Options{})
	require.NoError(t, fs.Start())
	defer fs.Close()
	logs := &syncBuffer{}
	d := esl.New(esl.Config{Addr: fs.Addr(), Password: "nope", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx, nopHandler{}, nil) }()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "SWITCHBOARD_ESL_PASSWORD") }, 5*time.Second, 10*time.Millisecond)
	require.Error(t, d.Ready(ctx))
	cancel()
	<-done
}

// proxy forwards TCP to the emulator; while down, it cuts every
// connection and refuses new ones, as a network outage would.
type proxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	down    bool
	stalled bool
	conns   map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			in.Close()
			continue
		}
		p.conns[in], p.conns[out] = true, true
		p.mu.Unlock()
		go func() { p.copy(out, in); out.Close(); in.Close() }()
		go func() { p.copy(in, out); in.Close(); out.Close() }()
	}
}

// copy forwards bytes, holding them while the proxy is stalled.
func (p *proxy) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.isStalled() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) isStalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

// stall holds the traffic without closing anything: a peer that stopped
// answering.
func (p *proxy) stall(on bool) {
	p.mu.Lock()
	p.stalled = on
	p.mu.Unlock()
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
			delete(p.conns, c)
		}
	}
}

type slowDirectory struct {
	*dialplantest.Directory
	delay time.Duration
}

func (d slowDirectory) IsBlocked(ctx context.Context, company dialplan.CompanyID, digits string) (bool, error) {
	time.Sleep(d.delay)
	return d.Directory.IsBlocked(ctx, company, digits)
}

// fileAudio plays one file for every message, and built-in sounds.
type fileAudio struct{ path string }

func (a fileAudio) Audio(ctx context.Context, p dialplan.Prompt) (dialplan.Audio, error) {
	if p.Message != nil {
		return dialplan.Audio{Path: a.path}, nil
	}
	return dialplan.Audio{Sound: p.Sound}, nil
}

// sink records the events of legs the test originates itself.
type sink struct {
	mu    sync.Mutex
	names []dialplan.Event
}

func newSink() *sink { return &sink{} }

func (s *sink) Post(e dialplan.Event) {
	s.mu.Lock()
	s.names = append(s.names, e)
	s.mu.Unlock()
}

// wait returns the first event of kind not returned yet.
func (s *sink) wait(t *testing.T, kind dialplan.EventKind) dialplan.Event {
	t.Helper()
	var got dialplan.Event
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, e := range s.names {
			if e.Kind == kind {
				got = e
				s.names = append(s.names[:i:i], s.names[i+1:]...)
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "no event %d", kind)
	return got
}

type nopHandler struct{}

func (nopHandler) Handle(dialplan.InboundCall) dialplan.Sink { return newSink() }

// presence records what the driver said of each device: 1 online, -1 not.
type presence struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (p *presence) SetPresence(dev string, online bool) {
	p.mu.Lock()
	p.seen[dev] = online
	p.mu.Unlock()
}

func (p *presence) get(dev string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	on, ok := p.seen[dev]
	switch {
	case !ok:
		return 0
	case on:
		return 1
	}
	return -1
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
