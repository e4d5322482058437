package ari_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/ari/aritest"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
)

const line = "+33176390861"

// rig is the driver between the real engine (in-memory configuration and
// call log, real clock) and the ARI emulator, over real sockets.
type rig struct {
	ast    *aritest.Server
	driver *ari.Driver
	engine *dialplan.Engine
	dir    *dialplantest.Directory
	log    *dialplantest.CallLog
	cancel context.CancelFunc
	done   chan struct{}
}

func newRig(t *testing.T, change func(n *dialplan.Number)) *rig {
	t.Helper()
	ast := aritest.New(aritest.Options{App: "switchboard", SoundDuration: 50 * time.Millisecond})
	require.NoError(t, ast.Start())
	r := &rig{ast: ast, dir: dialplantest.NewDirectory(), log: dialplantest.NewCallLog(), done: make(chan struct{})}
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

	r.driver = ari.New(ari.Config{URL: ast.URL(), User: "asterisk", Password: "asterisk", App: "switchboard", Country: "FR"})
	acd := dialplan.NewACD(dialplan.WallClock{})
	r.engine = dialplan.NewEngine(dialplan.Config{Directory: r.dir, CallLog: r.log, Media: r.driver, ACD: acd})
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { defer close(r.done); r.driver.Run(ctx, r.engine, acd) }()
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
func (r *rig) ended(t *testing.T) (dialplan.Call, []string) {
	t.Helper()
	var (
		c      dialplan.Call
		events []string
	)
	require.Eventually(t, func() bool {
		c, events = r.log.Call(1)
		return c.Status == dialplan.CallDone
	}, 30*time.Second, 20*time.Millisecond, "the call never ended")
	return c, events
}

func TestAnsweredCall(t *testing.T) {
	r := newRig(t, nil)
	require.NoError(t, r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing}))
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, After: 300 * time.Millisecond, HangupAfter: 500 * time.Millisecond}))
	caller := r.ast.Call("0612345678", "0176390861", aritest.CallScript{})
	c, events := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", events)
	require.NotNil(t, c.AnsweredAt)
	require.Equal(t, "+33612345678", c.RawDigits, "the caller's national number read in E.164")
	require.Contains(t, events, dialplan.EvCallAnswered)
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

func TestAgentOutcomes(t *testing.T) {
	cases := []struct {
		name   string
		peer   aritest.Peer
		events []string
	}{
		{"busy", aritest.Peer{Action: aritest.PeerBusy}, []string{dialplan.EvCallAgentDeclined}},
		{"declines", aritest.Peer{Action: aritest.PeerDecline, After: 200 * time.Millisecond}, []string{dialplan.EvCallAgentDeclined}},
		{"rings out", aritest.Peer{Action: aritest.PeerRing}, []string{dialplan.EvCallAgentNoAnswer}},
		{"unreachable", aritest.Peer{Action: aritest.PeerUnreachable}, []string{dialplan.EvCallAgentNoAnswer}},
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
			c, events := r.ended(t)
			require.Nil(t, c.AnsweredAt)
			for _, e := range tc.events {
				require.Contains(t, events, e)
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
	c, events := r.ended(t)
	require.Equal(t, []string{"2"}, c.IVROptions, "%v", events)
	require.Equal(t, dialplan.UserID(2), c.User)
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	r := newRig(t, nil)
	r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing})
	r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerRing})
	r.ast.Call("+33612345678", line, aritest.CallScript{HangupAfter: time.Second})
	c, events := r.ended(t)
	require.Equal(t, dialplan.ShortAbandoned, c.MissedReason, "%v", events)
	require.Eventually(t, func() bool { return len(r.ast.Channels()) == 0 }, 5*time.Second, 20*time.Millisecond,
		"the agents' phones stopped ringing")
}

func TestDevicePresence(t *testing.T) {
	r := newRig(t, func(n *dialplan.Number) {
		n.Voicemail = false
	})
	require.NoError(t, r.ast.SetRegistered("PJSIP/alice", false))
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, After: 100 * time.Millisecond, HangupAfter: 200 * time.Millisecond}))
	time.Sleep(100 * time.Millisecond) // let the EndpointStateChange arrive
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
	c, events := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "the call went on across the reconnect: %v", events)
	require.NoError(t, r.driver.Ready(context.Background()))
}

func TestRestartSettlesCalls(t *testing.T) {
	r := newRig(t, nil)
	r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing})
	r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerRing})
	r.ast.Call("+33612345678", line, aritest.CallScript{})
	require.Eventually(t, func() bool {
		_, events := r.log.Call(1)
		return slices.Contains(events, dialplan.EvCallRingingOnAgent)
	}, 5*time.Second, 10*time.Millisecond)
	r.ast.Restart() // every channel gone, no event
	c, events := r.ended(t)
	require.Nil(t, c.AnsweredAt, "%v", events)
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
	c, events := r.ended(t)
	require.Contains(t, events, dialplan.EvCallRecording, "%v", events)
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
	}
}
