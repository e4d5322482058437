package dialplan_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
)

// TestResume: Switchboard killed during a call, and started again (a new
// engine on the same media server and call log) takes over what the log
// says is unfinished. (The first engine's call is left waiting in its
// conversation, which hears nothing more once its legs are adopted: a
// call in another phase would go on with its timers, so those phases are
// tested end to end, where the first switchboard is really killed.)
func TestResume(t *testing.T) {
	s := time.Second
	tests := []struct {
		name string
		// setup scripts the phones; outage happens while the engine is
		// down (after the crash, before the restart).
		setup  func(w *dialplantest.World)
		outage func(w *dialplantest.World, caller dialplan.LegID)
		// stop: switchboard is stopped (SIGTERM), not killed.
		stop bool
		// want: who answered, how long after the call began it ended, and
		// with which cause.
		answered  dialplan.UserID
		endsAfter time.Duration
		cause     string
	}{
		{
			name: "a bridged call goes on and is recorded when the agent hangs up",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 60 * s})
			},
			answered: alice, endsAfter: 62 * s, cause: "normal_clearing",
		},
		{
			name: "a bridged call goes on and is recorded when the caller hangs up",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * time.Minute})
			},
			outage: func(w *dialplantest.World, caller dialplan.LegID) {
				w.Media.CallerHangsUp(caller, monday10.Add(30*s).Sub(w.Clock.Now()))
			},
			answered: alice, endsAfter: 30 * s, cause: "normal_clearing",
		},
		{
			name: "stopped, not killed: the conversation is handed over, not hung up",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 60 * s})
			},
			stop:     true,
			answered: alice, endsAfter: 62 * s, cause: "normal_clearing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := world(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			caller := w.Call(caller, line)
			// The crash, 10 s into the call: the first engine stops
			// hearing of it (a new one adopts its legs), nothing is hung up.
			w.Clock.Run(monday10.Add(10 * s))
			if tt.stop {
				w.Clock.Busy() // the clock waits for the calls to stop
				go func() { defer w.Clock.Idle(); w.Engine.Stop() }()
				w.Clock.Run(monday10.Add(10 * s))
			}
			if tt.outage != nil {
				tt.outage(w, caller)
			}
			unfinished := w.Log.Unfinished()
			require.Len(t, unfinished, 1)
			restarted := dialplan.NewEngine(dialplan.Config{Directory: w.Directory, CallLog: w.Log, Media: w.Media,
				Recordings: w.Recordings, Clock: w.Clock, ACD: w.Engine.ACD()})
			restarted.Resume(unfinished)
			w.Clock.Run(monday10.Add(time.Hour))

			c, names := w.Log.Call(unfinished[0].Call.ID)
			require.Equal(t, dialplan.CallDone, c.Status, "%v", names)
			require.Equal(t, tt.answered, c.User, "%v", names)
			require.Equal(t, tt.endsAfter, c.EndedAt.Sub(c.StartedAt), "%v", names)
			require.Equal(t, tt.cause, c.HangupCause)
			require.Equal(t, []events.Kind{events.CallHungup, events.CallEnded}, names[len(names)-2:])
			require.Empty(t, w.Media.Live(), "nothing is left up")
			require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(w.Directory.Users[alice]), "Alice is free again")
		})
	}
}

// restart stops w's engine (SIGTERM: every call handed over) and starts
// another on the same media server, call log and distributor, which takes
// over the calls the log says are unfinished; between, when set, happens
// in between (and may order them).
func restart(t *testing.T, w *dialplantest.World, between func([]dialplan.Unfinished)) *dialplan.Engine {
	t.Helper()
	noAnswers := func() int {
		n := 0
		for _, id := range w.Log.IDs() {
			_, names := w.Log.Call(id)
			n += count(names, events.CallAgentNoAnswer)
		}
		return n
	}
	before := noAnswers()
	w.Clock.Busy() // the clock waits for the calls to stop
	go func() { defer w.Clock.Idle(); w.Engine.Stop() }()
	w.Clock.Run(w.Clock.Now())
	require.Equal(t, before, noAnswers(), "agents' phones stopped by the stop did not go unanswered")
	unfinished := w.Log.Unfinished()
	if between != nil {
		between(unfinished)
	}
	next := dialplan.NewEngine(dialplan.Config{Directory: w.Directory, CallLog: w.Log, Media: w.Media,
		Recordings: w.Recordings, Clock: w.Clock, ACD: w.Engine.ACD()})
	t.Cleanup(next.Stop)
	next.Resume(unfinished)
	return next
}

// TestResumeWaiting: switchboard stopped while the caller waits for an
// agent, in each phase of the flow; the next switchboard carries the call
// on from a safe point, and its record is as if nothing happened.
func TestResumeWaiting(t *testing.T) {
	s := time.Second
	answers := dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 30 * s}
	tests := []struct {
		name string
		to   string
		// press is a key the caller presses a second into the call.
		press string
		// outage: the caller hangs up while no switchboard runs.
		outage bool
		// stopAt is when switchboard stops; then happens after it (the
		// phones change, the caller presses or hangs up).
		stopAt time.Duration
		then   func(w *dialplantest.World, caller dialplan.LegID)
		want   outcome
	}{
		{
			name: "ringing agents: they are rung again, and Alice answers",
			to:   line, stopAt: 10 * s,
			then: func(w *dialplantest.World, _ dialplan.LegID) { w.Media.SetPeer("PJSIP/alice", answers) },
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice, bob, carol, alice, bob, carol},
				names: []events.Kind{events.CallRingingOnAgent, events.CallAnswered, events.CallEnded}},
		},
		{
			name: "in the IVR menu: the menu is played again, and the caller's choice is followed",
			to:   ivrLine, stopAt: 9 * s,
			then: func(w *dialplantest.World, _ dialplan.LegID) {
				w.Media.SetPeer("PJSIP/bob", answers)
				w.Media.PressDuring(dialplan.MsgIVR, "2")
			},
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallIVROptionSelected, events.CallRingingOnAgent, events.CallAnswered, events.CallEnded}},
		},
		{
			name: "the IVR choice ringing: the choice is kept, its team rung again",
			to:   ivrLine, press: "2", stopAt: 10 * s,
			then: func(w *dialplantest.World, _ dialplan.LegID) { w.Media.SetPeer("PJSIP/carol", answers) },
			want: outcome{answeredBy: carol, rung: []dialplan.UserID{alice, bob, carol, alice, bob, carol},
				names: []events.Kind{events.CallIVROptionSelected, events.CallRingingOnAgent, events.CallAnswered, events.CallEnded}},
		},
		{
			name: "leaving a voicemail, the caller hangs up while switchboard is down: the voicemail is kept",
			to:   line, stopAt: 30 * s, outage: true,
			then: func(w *dialplantest.World, caller dialplan.LegID) {},
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallVoicemailLeft, events.CallEnded}, tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name: "leaving a voicemail: the recording goes on, and is the call's voicemail",
			to:   line, stopAt: 30 * s,
			then: func(w *dialplantest.World, caller dialplan.LegID) {
				w.Media.CallerHangsUp(caller, monday10.Add(45*s).Sub(w.Clock.Now()))
			},
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallVoicemailLeft, events.CallEnded}, tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := world(t)
			if tt.to == ivrLine {
				w.Media.PressDuring(dialplan.MsgIVR) // nothing pressed the first time
			}
			caller := w.Call(caller, tt.to)
			if tt.press != "" {
				w.Media.CallerPresses(caller, time.Second, tt.press)
			}
			w.Clock.Advance(tt.stopAt)
			restart(t, w, func([]dialplan.Unfinished) {
				if tt.outage {
					w.Media.CallerHangsUp(caller, 0)
					w.Clock.Run(w.Clock.Now())
				}
			})
			tt.then(w, caller)
			w.Clock.Run(monday10.Add(time.Hour))
			id := w.Log.IDs()[0]
			check(t, w, id, tt.want)
			c, _ := w.Log.Call(id)
			require.Equal(t, monday10, c.StartedAt)
			require.Empty(t, w.Media.Live(), "nothing is left up")
		})
	}
}

// TestResumeQueueKeepsPlace: callers waiting in a queue when switchboard
// stops keep their place: taken over in any order, they are answered in
// the order they came, before a caller who came after the restart.
func TestResumeQueueKeepsPlace(t *testing.T) {
	s := time.Second
	w := world(t)
	number(w, 100, func(n *dialplan.Number) {
		n.RespectQueuingTime, n.Voicemail = true, false
		n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: int64(alice), RingSeconds: 600}}
	})
	w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: s, HangupAfter: 20 * s})
	at := func(d time.Duration) { w.Clock.Advance(monday10.Add(d).Sub(w.Clock.Now())) }
	w.Call(caller, line) // Alice talks with the first caller
	at(2 * s)
	w.Call("+33600000002", line)
	at(3 * s)
	w.Call("+33600000003", line)
	at(10 * s)
	next := restart(t, w, func(calls []dialplan.Unfinished) { slices.Reverse(calls) })
	at(15 * s)
	late := w.Media.NewCaller()
	w.Media.Attach(late, next.Handle(dialplan.InboundCall{Leg: late, To: line, From: "+33600000004"}))
	w.Clock.Run(monday10.Add(time.Hour))

	ids := w.Log.IDs()
	require.Len(t, ids, 4)
	var calls []dialplan.Call
	for _, id := range ids {
		c, names := w.Log.Call(id)
		require.Equal(t, dialplan.CallDone, c.Status, "%v", names)
		require.NotNil(t, c.AnsweredAt, "every caller is answered in the end: %v", names)
		calls = append(calls, c)
	}
	slices.SortFunc(calls, func(a, b dialplan.Call) int { return a.StartedAt.Compare(b.StartedAt) })
	for i := 1; i < len(calls); i++ {
		require.True(t, calls[i-1].AnsweredAt.Before(*calls[i].AnsweredAt), "answered in the order they came: %v then %v",
			calls[i-1].AnsweredAt, calls[i].AnsweredAt)
	}
	require.Empty(t, w.Media.Violations)
}

// TestDrain: switchboard shutting down takes no new call (an inbound one
// goes to the PBX's fallback, a click-to-call is refused) and lets the
// calls in progress end: Drain returns with the last one.
func TestDrain(t *testing.T) {
	s := time.Second
	w := world(t)
	w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 30 * s})
	w.Call(caller, line)
	w.Clock.Advance(5 * s)

	timedOut, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, w.Engine.Drain(timedOut), context.Canceled, "a call is in progress")
	late := w.Call("+33600000002", line)
	w.Clock.Advance(s)
	require.Equal(t, []dialplan.LegID{late}, w.Media.Declined, "a new call goes to the fallback")
	_, err := w.Engine.Dial(context.Background(), w.Company, dialplan.OutboundCall{User: w.Directory.Users[bob],
		Number: w.Directory.Numbers[100], To: "+33612345678"})
	require.ErrorIs(t, err, dialplan.ErrDraining)

	drained := make(chan error, 1)
	go func() { drained <- w.Engine.Drain(context.Background()) }()
	w.Clock.Run(monday10.Add(time.Hour))
	require.NoError(t, <-drained)
	require.Len(t, w.Log.IDs(), 1, "the declined call was never the engine's")
	check(t, w, w.Log.IDs()[0], outcome{answeredBy: alice, rung: []dialplan.UserID{alice, bob, carol},
		names: []events.Kind{events.CallAnswered, events.CallEnded}})
}
