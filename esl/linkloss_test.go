package esl_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/esl/esltest"
	"github.com/switchboard/switchboard/events"
)

// The event socket cut while something the engine waits for happens: the
// resync reports it, as the Asterisk driver's does (ari's TestLinkLoss*;
// an agent answering meanwhile is TestReconnectWhileAgentAnswers, a
// caller parked meanwhile TestCallParkedWhileDown).

// down cuts the link and waits until the driver says so.
func (r *rig) down(t *testing.T, down bool) {
	t.Helper()
	r.proxy.setDown(down)
	require.Eventually(t, func() bool { return (r.driver.Ready(context.Background()) != nil) == down },
		10*time.Second, time.Millisecond)
}

// TestLinkLossPromptEnds: the IVR menu ends while the link is down; the
// menu moves on (its second round), and the caller's key reaches bob.
func TestLinkLossPromptEnds(t *testing.T) {
	menu := filepath.Join(t.TempDir(), "menu.wav")
	require.NoError(t, os.WriteFile(menu, nil, 0o644))
	r := newRigWith(t, rigOptions{proxy: true, play: 500 * time.Millisecond, audio: fileAudio{menu}}, func(n *dialplan.Number) {
		n.Type = dialplan.IVR
		n.Messages = dialplan.Messages{dialplan.MsgIVR: {Type: dialplan.MessageTTS, Text: "tapez 2"}}
		n.IVROptions = []dialplan.IVROption{{Key: "2", Target: dialplan.Target{Type: dialplan.TargetUser, ID: 2}}}
	})
	r.fs.SetPeer("user/bob", esltest.Peer{Action: esltest.PeerAnswer, HangupAfter: 200 * time.Millisecond})
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{})
	menus := func() int { return strings.Count(strings.Join(caller.Heard(), "\n"), menu) }
	require.Eventually(t, func() bool { return menus() == 1 }, 5*time.Second, time.Millisecond)
	r.down(t, true)
	time.Sleep(time.Second) // the menu ends unheard
	r.down(t, false)
	require.Eventually(t, func() bool { return menus() == 2 }, 10*time.Second, 10*time.Millisecond,
		"the menu's second round: the first one's end was reported")
	caller.SendDTMF("2")
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", names)
}

// TestLinkLossVoicemailEnds: the caller hangs up, ending their message,
// while the link is down (CHANNEL_HANGUP and RECORD_STOP lost): the
// message is kept, and its end reported with the hang-up.
func TestLinkLossVoicemailEnds(t *testing.T) {
	r := newRigWith(t, rigOptions{proxy: true}, func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 1, RingSeconds: 5}}
	})
	r.fs.SetPeer("user/alice", esltest.Peer{Action: esltest.PeerRing})
	caller := r.fs.Call("+33612345678", line, esltest.CallScript{Voice: true})
	require.Eventually(t, func() bool {
		ch, ok := r.fs.Channel(caller.UUID())
		return ok && len(ch.Recording) == 1
	}, 15*time.Second, time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // a message, not a silence
	r.down(t, true)
	caller.Hangup()
	<-caller.Done()
	r.down(t, false)
	c, names := r.ended(t)
	require.Contains(t, names, events.CallVoicemailLeft, "%v", names)
	require.Equal(t, "voicemail-1", c.Voicemail)
	require.Contains(t, r.logs.String(), "recording ended while the event socket link was down")
}
