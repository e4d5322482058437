package dialplan_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
)

// aliceLine rings Alice alone; Alice answers after 2 s and talks a minute.
const aliceLine = "+33176390880"

func aliceWorld(t *testing.T) *dialplantest.World {
	w := world(t)
	n := dialplan.NewNumber()
	n.ID, n.Name, n.Digits = 300, "Alice direct", aliceLine
	n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: int64(alice), RingSeconds: 20}}
	w.AddNumber(n)
	w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * time.Second, HangupAfter: time.Minute})
	return w
}

// act asks the engine for a at d into the simulation; the answer comes on
// the channel.
func act(w *dialplantest.World, d time.Duration, id dialplan.CallID, a dialplan.Action) <-chan error {
	out := make(chan error, 1)
	w.Clock.AfterFunc(d, func() {
		w.Clock.Busy()
		go func() {
			defer w.Clock.Idle()
			out <- w.Engine.Act(context.Background(), w.Company.ID, id, a)
		}()
	})
	return out
}

func TestActions(t *testing.T) {
	s := time.Second
	hold := dialplan.Action{Kind: dialplan.ActHold, By: alice}
	cases := []struct {
		name    string
		setup   func(w *dialplantest.World)
		actions []struct {
			at time.Duration
			a  dialplan.Action
			// err is what Act says.
			err error
		}
		want outcome
		// user is who the call ends with (who answered last).
		user dialplan.UserID
	}{
		{name: "hold and unhold during the conversation",
			actions: steps(5*s, hold, nil, 8*s, dialplan.Action{Kind: dialplan.ActUnhold, By: alice}, nil),
			want:    outcome{answeredBy: alice, rung: []dialplan.UserID{alice}, names: []events.Kind{events.CallAnswered, events.CallHold, events.CallUnhold, events.CallEnded}}},
		{name: "holding while agents ring is refused: the call is not connected",
			actions: steps(time.Second, hold, dialplan.ErrNotConnected),
			want:    outcome{answeredBy: alice, rung: []dialplan.UserID{alice}}},
		{name: "an admin hangs up a ringing call",
			actions: steps(time.Second, dialplan.Action{Kind: dialplan.ActHangup, By: carol}, nil),
			want: outcome{missed: dialplan.ShortAbandoned, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallRingingOnAgent, events.CallHangupRequested, events.CallHungup, events.CallEnded},
				tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}}},
		{name: "an admin hangs up a conversation",
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActHangup, By: carol}, nil),
			want:    outcome{answeredBy: alice, rung: []dialplan.UserID{alice}, names: []events.Kind{events.CallAnswered, events.CallHangupRequested, events.CallEnded}}},
		{name: "pausing a recording the number does not allow to pause",
			setup: func(w *dialplantest.World) {
				number(w, 300, func(n *dialplan.Number) { n.Recording.Inbound.Auto = true })
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActPauseRecording, By: alice}, dialplan.ErrPauseNotAllowed),
			want:    outcome{answeredBy: alice, rung: []dialplan.UserID{alice}}},
		{name: "pausing and resuming the recording",
			setup: func(w *dialplantest.World) {
				number(w, 300, func(n *dialplan.Number) { n.Recording.Inbound = dialplan.RecordingPolicy{Auto: true, AllowPause: true} })
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActPauseRecording, By: alice}, nil,
				9*s, dialplan.Action{Kind: dialplan.ActResumeRecording, By: alice}, nil),
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallRecordingStarted, events.CallRecordingPaused, events.CallRecordingResumed, events.CallEnded}}},
		{name: "pausing a call that is not recorded",
			setup: func(w *dialplantest.World) {
				number(w, 300, func(n *dialplan.Number) { n.Recording.Inbound.AllowPause = true })
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActPauseRecording, By: alice}, dialplan.ErrNotRecorded),
			want:    outcome{answeredBy: alice, rung: []dialplan.UserID{alice}}},
		{name: "a cold transfer to Bob, who answers: Bob has the call, Alice is free",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 20 * s})
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActTransfer, By: alice, To: dialplan.Transfer{Type: dialplan.TargetUser, ID: int64(bob)}}, nil),
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice, bob},
				names: []events.Kind{events.CallAnswered, events.CallTransferred, events.CallRingingOnAgent, events.CallAnswered, events.CallEnded}}},
		{name: "a transfer Bob does not answer comes back to Alice",
			setup: func(w *dialplantest.World) { w.Media.SetPeer("PJSIP/bob", dialplan.Peer{}) },
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActTransfer, By: alice, To: dialplan.Transfer{Type: dialplan.TargetUser, ID: int64(bob)}}, nil,
				10*s, hold, dialplan.ErrTransferring),
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice, bob},
				names: []events.Kind{events.CallTransferred, events.CallAgentNoAnswer, events.CallUnsuccessfulTransfer, events.CallEnded}}},
		{name: "a transfer to the team rings it by its rule",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/carol", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 20 * s})
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{})
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActTransfer, By: alice, To: dialplan.Transfer{Type: dialplan.TargetTeam, ID: int64(team)}}, nil),
			// Alice is in the call: only Bob and Carol ring.
			want: outcome{answeredBy: carol, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallTransferred, events.CallAnswered, events.CallEnded}}},
		{name: "a transfer to an external number",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("+442079460958", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 20 * s})
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActTransfer, By: alice, To: dialplan.Transfer{Type: dialplan.TargetExternal, Digits: "+442079460958"}}, nil),
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallTransferred, events.CallAnswered, events.CallEnded}}},
		{name: "a transfer to a number runs its flow",
			setup: func(w *dialplantest.World) {
				user(w, alice, func(u *dialplan.User) { u.WrapUpTime = 30 })
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 20 * s})
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActTransfer, By: alice, To: dialplan.Transfer{Type: dialplan.TargetNumber, ID: 100}}, nil),
			// The sales line rings its team, but Alice, in after-call work.
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallTransferred, events.CallRingingOnAgent, events.CallAnswered, events.CallEnded}}},
		{name: "a transfer to a user of another company",
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActTransfer, By: alice, To: dialplan.Transfer{Type: dialplan.TargetUser, ID: 99}}, dialplan.ErrNoTarget),
			want:    outcome{answeredBy: alice, rung: []dialplan.UserID{alice}}},
		{name: "a warm transfer: Alice talks to Bob, then hands the caller over",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 30 * s})
			},
			actions: steps(5*s, warm(dialplan.TargetUser, int64(bob)), nil,
				6*s, dialplan.Action{Kind: dialplan.ActCompleteTransfer, By: alice}, dialplan.ErrTargetRinging,
				7*s, hold, dialplan.ErrTransferring,
				10*s, dialplan.Action{Kind: dialplan.ActCompleteTransfer, By: alice}, nil),
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallAnswered, events.CallWarmTransferStarted, events.CallTransferred, events.CallAnswered, events.CallEnded}}},
		{name: "a warm transfer cancelled: the caller is back with Alice",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 30 * s})
			},
			actions: steps(5*s, warm(dialplan.TargetUser, int64(bob)), nil,
				10*s, dialplan.Action{Kind: dialplan.ActCancelTransfer, By: alice}, nil,
				11*s, dialplan.Action{Kind: dialplan.ActCancelTransfer, By: alice}, dialplan.ErrNoWarmTransfer),
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallWarmTransferStarted, events.CallUnsuccessfulTransfer, events.CallEnded}}},
		{name: "a warm transfer Bob refuses",
			setup:   func(w *dialplantest.World) { w.Media.SetPeer("PJSIP/bob", dialplan.Peer{Busy: true}) },
			actions: steps(5*s, warm(dialplan.TargetUser, int64(bob)), nil),
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallWarmTransferStarted, events.CallUnsuccessfulTransfer, events.CallEnded}}},
		{name: "Alice hangs up while talking to Bob: the caller is Bob's",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 30 * s})
			},
			actions: steps(5*s, warm(dialplan.TargetUser, int64(bob)), nil),
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallWarmTransferStarted, events.CallTransferred, events.CallAnswered, events.CallEnded}}},
		{name: "a warm transfer to a team is refused",
			actions: steps(5*s, warm(dialplan.TargetTeam, int64(team)), &dialplan.FieldError{}),
			want:    outcome{answeredBy: alice, rung: []dialplan.UserID{alice}}},
		{name: "Alice's phone transfers the call to Bob's extension (REFER)",
			setup: func(w *dialplantest.World) {
				user(w, bob, func(u *dialplan.User) { u.Extension = "102" })
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 20 * s})
				w.Media.PhoneRefers("PJSIP/alice", 5*s, "102", false)
			},
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice, bob},
				names: []events.Kind{events.CallAnswered, events.CallTransferred, events.CallRingingOnAgent, events.CallAnswered, events.CallEnded}}},
		{name: "the same, as FreeSWITCH carries it (the caller taken out of the bridge)",
			setup: func(w *dialplantest.World) {
				user(w, bob, func(u *dialplan.User) { u.Extension = "102" })
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 20 * s})
				w.Media.PhoneRefers("PJSIP/alice", 5*s, "102", true)
			},
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice, bob},
				names: []events.Kind{events.CallAnswered, events.CallTransferred, events.CallRingingOnAgent, events.CallAnswered, events.CallEnded}}},
		{name: "a phone's transfer to a premium-rate number is not done",
			setup: func(w *dialplantest.World) { w.Media.PhoneRefers("PJSIP/alice", 5*s, "0899123456", true) },
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallAnswered, events.CallUnsuccessfulTransfer, events.CallEnded}}},
		{name: "a supervisor listens, then whispers",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/carol", dialplan.Peer{AnswerAfter: s, HangupAfter: 20 * s})
			},
			actions: steps(5*s, dialplan.Action{Kind: dialplan.ActSupervise, By: carol, Supervisor: carol, Mode: dialplan.Listen}, nil,
				5500*time.Millisecond, dialplan.Action{Kind: dialplan.ActSupervise, By: carol, Supervisor: carol, Mode: dialplan.Whisper}, dialplan.ErrStillRinging,
				10*s, dialplan.Action{Kind: dialplan.ActSupervise, By: carol, Supervisor: carol, Mode: dialplan.Whisper}, nil),
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallSupervised, events.CallSupervised, events.CallSupervisionEnded, events.CallEnded}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := aliceWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			w.Call(caller, aliceLine)
			var answers []<-chan error
			for _, step := range tc.actions {
				answers = append(answers, act(w, step.at, 1, step.a))
			}
			w.Clock.Run(monday10.Add(time.Hour))
			for i, step := range tc.actions {
				err := <-answers[i]
				var field *dialplan.FieldError
				switch {
				case step.err == nil:
					require.NoError(t, err, "action %d (%s)", i, step.a.Kind)
				case errors.As(step.err, &field):
					require.ErrorAs(t, err, &field, "action %d (%s)", i, step.a.Kind)
				default:
					require.True(t, errors.Is(err, step.err), "action %d (%s): %v", i, step.a.Kind, err)
				}
			}
			check(t, w, 1, tc.want)
			require.Empty(t, w.Media.Live(), "every leg is hung up at the end")
			require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(w.Directory.Users[alice]))
			// Once over, the call takes no command.
			require.ErrorIs(t, w.Engine.Act(context.Background(), w.Company.ID, 1, hold), dialplan.ErrNotLive)
		})
	}
}

// warm is Alice's warm transfer to a target.
func warm(to dialplan.TargetType, id int64) dialplan.Action {
	return dialplan.Action{Kind: dialplan.ActTransfer, By: alice, To: dialplan.Transfer{Type: to, ID: id}, Warm: true}
}

// steps lists actions: at, action, error, at, action, error…
func steps(args ...any) []struct {
	at  time.Duration
	a   dialplan.Action
	err error
} {
	var out []struct {
		at  time.Duration
		a   dialplan.Action
		err error
	}
	for i := 0; i+2 < len(args)+1; i += 3 {
		e, _ := args[i+2].(error)
		out = append(out, struct {
			at  time.Duration
			a   dialplan.Action
			err error
		}{args[i].(time.Duration), args[i+1].(dialplan.Action), e})
	}
	return out
}

func TestActOnAnotherCompanysCall(t *testing.T) {
	w := aliceWorld(t)
	w.Call(caller, aliceLine)
	answer := make(chan error, 1)
	w.Clock.AfterFunc(5*time.Second, func() {
		w.Clock.Busy()
		go func() {
			defer w.Clock.Idle()
			answer <- w.Engine.Act(context.Background(), w.Company.ID+1, 1, dialplan.Action{Kind: dialplan.ActHangup})
		}()
	})
	w.Clock.Run(monday10.Add(time.Hour))
	require.ErrorIs(t, <-answer, dialplan.ErrNotLive)
	check(t, w, 1, outcome{answeredBy: alice, rung: []dialplan.UserID{alice}})
}

func TestClickToCall(t *testing.T) {
	s := time.Second
	const to = "+33698765432"
	cases := []struct {
		name   string
		peers  map[string]dialplan.Peer
		record bool // the number records outbound calls
		status dialplan.CallStatus
		cause  string
		names  []events.Kind
	}{
		{name: "the agent answers, then the destination: they talk, recorded as the number's outbound policy says",
			peers:  map[string]dialplan.Peer{"PJSIP/alice": {AnswerAfter: s, HangupAfter: time.Minute}, to: {AnswerAfter: 5 * s, HangupAfter: 20 * s}},
			record: true, status: dialplan.CallDone, cause: "normal_clearing",
			names: []events.Kind{events.CallCreated, events.CallAnswered, events.CallRecordingStarted, events.CallHungup, events.CallEnded}},
		{name: "the agent answers, then the destination: they talk",
			peers:  map[string]dialplan.Peer{"PJSIP/alice": {AnswerAfter: s, HangupAfter: time.Minute}, to: {AnswerAfter: 5 * s, HangupAfter: 20 * s}},
			status: dialplan.CallDone, cause: "normal_clearing",
			names: []events.Kind{events.CallCreated, events.CallAnswered, events.CallHungup, events.CallEnded}},
		{name: "the destination is busy",
			peers:  map[string]dialplan.Peer{"PJSIP/alice": {AnswerAfter: s, HangupAfter: time.Minute}, to: {Busy: true}},
			status: dialplan.CallDone, cause: "user_busy",
			names: []events.Kind{events.CallCreated, events.CallHungup, events.CallEnded}},
		{name: "the agent does not answer their phone",
			peers:  map[string]dialplan.Peer{"PJSIP/alice": {}},
			status: dialplan.CallDone, cause: "no_answer",
			names: []events.Kind{events.CallCreated, events.CallHungup, events.CallEnded}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := aliceWorld(t)
			for dial, p := range tc.peers {
				w.Media.SetPeer(dial, p)
			}
			number(w, 300, func(n *dialplan.Number) { n.Recording.Outbound.Auto = tc.record })
			u := w.Directory.Users[alice]
			n := w.Directory.Numbers[300]
			id, err := w.Engine.Dial(context.Background(), w.Company, dialplan.OutboundCall{User: u, Number: n, To: to})
			require.NoError(t, err)
			// A second call while the first has Alice is refused.
			_, err = w.Engine.Dial(context.Background(), w.Company, dialplan.OutboundCall{User: u, Number: n, To: to})
			require.ErrorIs(t, err, dialplan.ErrAgentBusy)
			w.Clock.Run(monday10.Add(time.Hour))
			c, names := w.Log.Call(id)
			require.Equal(t, tc.status, c.Status, "%v", names)
			require.Equal(t, dialplan.Outbound, c.Direction)
			require.Equal(t, to, c.RawDigits)
			require.Equal(t, alice, c.User)
			require.Equal(t, tc.cause, c.HangupCause, "%v", names)
			require.Empty(t, c.MissedReason, "an outbound call is never missed")
			require.Equal(t, tc.names, names)
			require.Empty(t, w.Log.Tasks[id], "no inbox task for an outbound call")
			require.Empty(t, w.Media.Live())
			require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(u))
		})
	}
}

// TestMaxCallDuration: whatever a call waits for, it ends at its number's
// max_call_seconds, to the second, as an admin's hang-up would.
func TestMaxCallDuration(t *testing.T) {
	for _, tc := range []struct {
		name  string
		peer  dialplan.Peer
		steps int
		want  outcome
	}{
		{"a conversation nobody ends", dialplan.Peer{AnswerAfter: 2 * time.Second}, 20,
			outcome{answeredBy: alice, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallAnswered, events.CallMaxDurationReached, events.CallEnded}}},
		{"a phone that rings for ever", dialplan.Peer{}, 3600,
			outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice},
				names: []events.Kind{events.CallRingingOnAgent, events.CallMaxDurationReached, events.CallHungup, events.CallEnded},
				tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := aliceWorld(t)
			number(w, 300, func(n *dialplan.Number) {
				n.MaxCallSeconds = 120
				n.Distribution[0].RingSeconds = tc.steps
			})
			w.Media.SetPeer("PJSIP/alice", tc.peer)
			w.Call(caller, aliceLine)
			w.Clock.Run(monday10.Add(time.Hour))
			check(t, w, 1, tc.want)
			c, _ := w.Log.Call(1)
			require.Equal(t, 120*time.Second, c.EndedAt.Sub(c.StartedAt), "ended at the limit, to the second")
		})
	}
}
