package ari_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari/aritest"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// The event link cut (the websocket only, REST going through) while
// something the engine waits for happens: the resync reports it, as the
// FreeSWITCH driver's does (esl's TestLinkLoss*). Each fails without it:
// the engine would wait for an event Asterisk never sends again.

// plays lists the playbacks asked on the caller's channel.
func (r *rig) plays(caller string) []string {
	var ids []string
	for _, q := range r.ast.Requests() {
		if id, ok := strings.CutPrefix(q.Path, "/ari/channels/"+caller+"/play/"); ok && q.Method == "POST" {
			ids = append(ids, id)
		}
	}
	return ids
}

// over waits until Asterisk has no object at path (a playback, a live
// recording): it ended.
func (r *rig) over(t *testing.T, path string) {
	t.Helper()
	require.Eventually(t, func() bool {
		req, err := http.NewRequest("GET", r.ast.URL()+"/ari"+path, nil)
		require.NoError(t, err)
		req.SetBasicAuth("asterisk", "asterisk")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode == http.StatusNotFound
	}, 10*time.Second, 10*time.Millisecond, "%s never ended", path)
}

// cut cuts the event link and waits until the driver says it is down.
func (r *rig) cutLink(t *testing.T) {
	t.Helper()
	r.cut.Cut()
	require.Eventually(t, func() bool { return r.driver.Ready(context.Background()) != nil }, 5*time.Second, time.Millisecond)
}

func (r *rig) restore(t *testing.T) {
	t.Helper()
	r.cut.Restore()
	require.Eventually(t, func() bool { return r.driver.Ready(context.Background()) == nil }, 10*time.Second, 10*time.Millisecond)
}

// TestLinkLossPromptEnds: the IVR menu ends while the link is down; the
// menu moves on (its second round), and the caller's key reaches bob.
func TestLinkLossPromptEnds(t *testing.T) {
	r := newRigWith(t, rigOptions{cut: true, sound: 500 * time.Millisecond, audio: soundAudio{}, change: func(n *dialplan.Number) {
		n.Type = dialplan.IVR
		n.Messages = dialplan.Messages{dialplan.MsgIVR: {Type: dialplan.MessageTTS, Text: "tapez 2"}}
		n.IVROptions = []dialplan.IVROption{{Key: "2", Target: dialplan.Target{Type: dialplan.TargetUser, ID: 2}}}
	}})
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerAnswer, HangupAfter: 200 * time.Millisecond}))
	caller := r.ast.Call("+33612345678", line, aritest.CallScript{})
	require.Eventually(t, func() bool { return len(r.plays(caller.ChannelID())) == 1 }, 5*time.Second, time.Millisecond)
	r.cutLink(t)
	r.over(t, "/playbacks/"+r.plays(caller.ChannelID())[0])
	r.restore(t)
	require.Eventually(t, func() bool { return len(r.plays(caller.ChannelID())) == 2 }, 10*time.Second, 10*time.Millisecond,
		"the menu's second round: the first one's end was reported")
	caller.Press("2")
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", names)
	require.Positive(t, r.logs.count("playback ended while the event link was down"))
}

// TestLinkLossAgentAnswers: bob answers while the link is down; his
// channel, created into Stasis, stays up, and the resync reports the
// answer: the call is bob's.
func TestLinkLossAgentAnswers(t *testing.T) {
	r := newRigWith(t, rigOptions{cut: true, change: func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 2, RingSeconds: 30}}
	}})
	require.NoError(t, r.ast.SetPeer("PJSIP/bob", aritest.Peer{Action: aritest.PeerRing}))
	r.ast.Call("+33612345678", line, aritest.CallScript{})
	var bob string
	require.Eventually(t, func() bool {
		for _, ch := range r.ast.Channels() {
			if strings.HasPrefix(ch.Name, "PJSIP/bob-") && ch.State == "Ringing" {
				bob = ch.ID
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond)
	r.cutLink(t)
	require.NoError(t, r.ast.RemoteAnswer(bob))
	r.restore(t)
	require.Eventually(t, func() bool {
		_, names := r.log.Call(1)
		return slices.Contains(names, events.CallAnswered)
	}, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(r.ast.Bridges()) == 1 }, 5*time.Second, 10*time.Millisecond, "caller and bob bridged")
	require.NoError(t, r.ast.RemoteHangup(bob))
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(2), c.User, "%v", names)
	require.NotNil(t, c.AnsweredAt)
	require.Positive(t, r.logs.count("phone answered while the event link was down"))
}

// TestLinkLossVoicemailEnds: the caller ends their message with # while
// the link is down (RecordingFinished lost) and waits on the line: the
// message is kept and the call ends, not two minutes later.
func TestLinkLossVoicemailEnds(t *testing.T) {
	r := newRigWith(t, rigOptions{cut: true, change: func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 1, RingSeconds: 5}}
	}})
	require.NoError(t, r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerRing}))
	caller := r.ast.Call("+33612345678", line, aritest.CallScript{Voice: true})
	require.Eventually(t, func() bool {
		for _, q := range r.ast.Requests() {
			if q.Method == "POST" && strings.HasSuffix(q.Path, "/record") {
				return true
			}
		}
		return false
	}, 15*time.Second, time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // a message, not a silence
	r.cutLink(t)
	caller.Press("#")
	r.over(t, "/recordings/live/voicemail-1")
	r.restore(t)
	c, names := r.ended(t)
	require.Contains(t, names, events.CallVoicemailLeft, "%v", names)
	require.Equal(t, "voicemail-1", c.Voicemail)
	require.Positive(t, r.logs.count("recording ended while the event link was down"))
}

// TestLinkLossCallerEntersStasis: a caller enters Stasis while the
// driver's link is down but Asterisk has not noticed (another socket
// holds the app here, as a half-open one would): its StasisStart is lost,
// and the resync takes it as a new call.
func TestLinkLossCallerEntersStasis(t *testing.T) {
	r := newRigWith(t, rigOptions{cut: true, change: func(n *dialplan.Number) {
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: 1, RingSeconds: 5}}
	}})
	require.NoError(t, r.ast.SetPeer("PJSIP/alice", aritest.Peer{Action: aritest.PeerAnswer, HangupAfter: 200 * time.Millisecond}))
	r.cutLink(t)
	stale := dialApp(t, r.ast.URL(), "asterisk", "asterisk", "switchboard")
	defer stale.Close()
	caller := r.ast.Call("+33612345678", line, aritest.CallScript{})
	require.Eventually(t, func() bool {
		ch, ok := r.ast.Channel(caller.ChannelID())
		return ok && ch.State == "Ring"
	}, 5*time.Second, time.Millisecond, "in Stasis, unseen")
	r.restore(t)
	c, names := r.ended(t)
	require.Equal(t, dialplan.UserID(1), c.User, "%v", names)
	<-caller.Done()
	require.Positive(t, r.logs.count("taking a channel that entered Stasis while the event link was down"))
}

// soundAudio plays a number's messages as a sound of the server's, named
// after their kind.
type soundAudio struct{}

func (soundAudio) Audio(_ context.Context, p dialplan.Prompt) (dialplan.Audio, error) {
	if p.Message != nil {
		return dialplan.Audio{Sound: "msg-" + string(p.Kind)}, nil
	}
	return dialplan.Audio{Sound: p.Sound}, nil
}
