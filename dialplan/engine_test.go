package dialplan_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
)

// monday10 is 10:00 on a Monday in Paris.
var monday10 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

const (
	line    = "+33176390861"
	ivrLine = "+33176390870"
	caller  = "+33612345678"
)

const (
	alice dialplan.UserID = 1
	bob   dialplan.UserID = 2
	carol dialplan.UserID = 3
	team  dialplan.TeamID = 10
)

// world builds the usual company: Alice, Bob and Carol in team Support
// (simultaneous), a classic line ringing the team 20 s, and an IVR line.
func world(t *testing.T) *dialplantest.World {
	w := dialplantest.NewWorld(monday10)
	t.Cleanup(w.Engine.Stop)
	w.AddUser(alice, "alice")
	w.AddUser(bob, "bob")
	w.AddUser(carol, "carol")
	w.AddTeam(dialplan.Team{ID: team, Name: "Support", Users: []dialplan.UserID{alice, bob, carol},
		RingingRule: dialplan.Simultaneous, RingSliceSeconds: 10})
	n := dialplan.NewNumber()
	n.ID, n.Name, n.Digits = 100, "Sales", line
	n.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: int64(team), RingSeconds: 20}}
	w.AddNumber(n)
	ivr := dialplan.NewNumber()
	ivr.ID, ivr.Name, ivr.Digits, ivr.Type = 200, "Standard", ivrLine, dialplan.IVR
	ivr.Messages = dialplan.Messages{dialplan.MsgIVR: {Type: dialplan.MessageTTS, Text: "Press 1 for sales, 2 for support"}}
	ivr.IVROptions = []dialplan.IVROption{
		{Key: "1", Target: dialplan.Target{Type: dialplan.TargetNumber, ID: 100}},
		{Key: "2", Target: dialplan.Target{Type: dialplan.TargetTeam, ID: int64(team)}},
		{Key: "3", Target: dialplan.Target{Type: dialplan.TargetExternal, Digits: "+442079460958"}},
		{Key: "0", Target: dialplan.Target{Type: dialplan.TargetVoicemail}},
	}
	w.AddNumber(ivr)
	return w
}

func number(w *dialplantest.World, id dialplan.NumberID, change func(*dialplan.Number)) {
	n := w.Directory.Numbers[id]
	change(&n)
	w.AddNumber(n)
}

func user(w *dialplantest.World, id dialplan.UserID, change func(*dialplan.User)) {
	u := w.Directory.Users[id]
	change(&u)
	w.Directory.SetUser(u)
}

// outcome is what a scenario checks of a finished call.
type outcome struct {
	answeredBy dialplan.UserID
	forwarded  bool // answered by an external number
	missed     dialplan.MissedReason
	rung       []dialplan.UserID // agents rung, in order
	names      []events.Kind     // must appear in this order (others may be between)
	tasks      []dialplan.TaskKind
}

func check(t *testing.T, w *dialplantest.World, id dialplan.CallID, want outcome) {
	t.Helper()
	c, names := w.Log.Call(id)
	require.Equal(t, dialplan.CallDone, c.Status, "timeline: %v", names)
	require.NotNil(t, c.EndedAt)
	if want.answeredBy != 0 || want.forwarded {
		require.NotNil(t, c.AnsweredAt, "timeline: %v", names)
		require.Equal(t, want.answeredBy, c.User)
		require.Empty(t, c.MissedReason)
	} else {
		require.Nil(t, c.AnsweredAt, "timeline: %v", names)
		require.Equal(t, want.missed, c.MissedReason, "timeline: %v", names)
	}
	var rung []dialplan.UserID
	for _, e := range w.Log.Events[id] {
		if e.Event == events.CallRingingOnAgent {
			rung = append(rung, e.User)
		}
	}
	require.Equal(t, want.rung, rung, "agents rung; timeline: %v", names)
	rest := names
	for _, name := range want.names {
		i := slices.Index(rest, name)
		require.GreaterOrEqual(t, i, 0, "%s missing or out of order in %v", name, names)
		rest = rest[i+1:]
	}
	require.Equal(t, 1, count(names, events.CallEnded), "exactly one call.ended: %v", names)
	require.Equal(t, events.CallEnded, names[len(names)-1])
	require.ElementsMatch(t, want.tasks, w.Log.Tasks[id], "tasks")
	require.Empty(t, w.Media.Violations)
}

func count(names []events.Kind, name events.Kind) int {
	n := 0
	for _, e := range names {
		if e == name {
			n++
		}
	}
	return n
}

func TestCallFlows(t *testing.T) {
	s := time.Second
	answered := []events.Kind{events.CallCreated, events.CallRingingOnAgent, events.CallAnswered, events.CallHungup, events.CallEnded}
	cases := []struct {
		name  string
		setup func(w *dialplantest.World)
		to    string
		from  string
		// script drives the caller; it runs right after the call is placed.
		script func(w *dialplantest.World, leg dialplan.LegID)
		want   outcome
	}{
		{
			name: "an agent answers and the other phones stop ringing",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 5 * s, HangupAfter: 60 * s})
			},
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice, bob, carol}, names: answered},
		},
		{
			name:   "nobody answers: voicemail",
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 40*s) },
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallRingingOnAgent, events.CallAgentNoAnswer, events.CallVoicemailLeft, events.CallEnded},
				tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name: "a voicemail without a voice is no message",
			setup: func(w *dialplantest.World) {
				w.Recordings.Set("voicemail-1", dialplantest.WAV(20*s, 0))
			},
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 40*s) },
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallAgentNoAnswer, events.CallVoicemailDiscarded, events.CallEnded},
				tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "a voicemail of half a second of voice is no message",
			setup: func(w *dialplantest.World) {
				w.Recordings.Set("voicemail-1", dialplantest.WAV(s/2, 440))
			},
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 40*s) },
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallVoicemailDiscarded, events.CallEnded},
				tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "a caller who hangs up at the beep leaves no message, whatever the media server kept",
			setup: func(w *dialplantest.World) {
				w.Recordings.Set("voicemail-1", nil)
			},
			// 20 s of ringing, a 3 s greeting, the beep, half a second.
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 24*s) },
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallVoicemailDiscarded, events.CallEnded},
				tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "a voicemail the media server no longer has is kept: a lost message is worse than an empty one",
			setup: func(w *dialplantest.World) {
				w.Recordings.Set("voicemail-1", nil)
			},
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 40*s) },
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallVoicemailLeft, events.CallEnded},
				tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name:   "the caller gives up within 10 s of ringing: short abandoned",
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 6*s) },
			want: outcome{missed: dialplan.ShortAbandoned, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallRingingOnAgent, events.CallHungup}, tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name:   "the caller gives up after 15 s of ringing",
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 15*s) },
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "nobody can take a call: no available agent, straight to voicemail",
			setup: func(w *dialplantest.World) {
				for _, id := range []dialplan.UserID{alice, bob, carol} {
					user(w, id, func(u *dialplan.User) { u.AvailabilityStatus = dialplan.Unavailable })
				}
			},
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 20*s) },
			want: outcome{missed: dialplan.NoAvailableAgent, names: []events.Kind{events.CallVoicemailLeft},
				tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name: "no voicemail: the call ends when the steps are done",
			setup: func(w *dialplantest.World) {
				number(w, 100, func(n *dialplan.Number) { n.Voicemail = false })
			},
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "closed line: after-hours message and voicemail",
			setup: func(w *dialplantest.World) {
				number(w, 100, func(n *dialplan.Number) { n.AvailabilityStatus = dialplan.AlwaysClosed })
			},
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 30*s) },
			want: outcome{missed: dialplan.OutOfOpeningHours, names: []events.Kind{events.CallOutOfOpeningHours, events.CallVoicemailLeft},
				tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name: "closed by business hours on a holiday",
			setup: func(w *dialplantest.World) {
				number(w, 100, func(n *dialplan.Number) {
					n.AvailabilityStatus = dialplan.CustomHours
					n.BusinessHours = dialplan.BusinessHours{Slots: dialplan.WeeklyHours{{Days: []string{"mon"}, From: "09:00", To: "18:00"}},
						SpecialDates: []dialplan.SpecialDate{{FromDate: "2026-11-23", ToDate: "2026-11-23"}}}
					n.Voicemail = false
				})
			},
			want: outcome{missed: dialplan.OutOfOpeningHours, names: []events.Kind{events.CallOutOfOpeningHours}, tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "blocked caller",
			setup: func(w *dialplantest.World) {
				w.Directory.Blocked[caller] = true
			},
			want: outcome{missed: dialplan.BlockedCaller, names: []events.Kind{events.CallBlocked, events.CallEnded}},
		},
		{
			name: "busy and declining agents, the third answers",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{Busy: true})
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{DeclineAfter: 2 * s})
				w.Media.SetPeer("PJSIP/carol", dialplan.Peer{AnswerAfter: 4 * s, HangupAfter: 30 * s})
			},
			want: outcome{answeredBy: carol, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallAgentDeclined, events.CallAgentDeclined, events.CallAnswered}},
		},
		{
			name: "unreachable phones count as not answering",
			setup: func(w *dialplantest.World) {
				for _, d := range []string{"PJSIP/alice", "PJSIP/bob", "PJSIP/carol"} {
					w.Media.SetPeer(d, dialplan.Peer{Unreachable: true})
				}
				number(w, 100, func(n *dialplan.Number) { n.Voicemail = false })
			},
			// Quick, but the agents were tried: not the caller's doing.
			want: outcome{missed: dialplan.AgentsDidNotAnswer, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallAgentNoAnswer}, tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "a user step rings every device and the external number",
			setup: func(w *dialplantest.World) {
				ext := "+33699999999"
				user(w, alice, func(u *dialplan.User) { u.Devices = append(u.Devices, "PJSIP/alice-desk"); u.ExternalNumber = &ext })
				w.Media.SetPeer(ext, dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 10 * s})
				number(w, 100, func(n *dialplan.Number) {
					n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: int64(alice), RingSeconds: 15}}
				})
			},
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice}, names: answered},
		},
		{
			name: "steps in order: Alice alone, then the team",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/carol", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
				number(w, 100, func(n *dialplan.Number) {
					n.Distribution = append([]dialplan.Step{{Type: dialplan.StepUser, ID: int64(alice), RingSeconds: 10}}, n.Distribution...)
				})
			},
			want: outcome{answeredBy: carol, rung: []dialplan.UserID{alice, alice, bob, carol}},
		},
		{
			name: "an agent outside their working hours is not rung",
			setup: func(w *dialplantest.World) {
				user(w, alice, func(u *dialplan.User) {
					u.AvailabilityStatus = dialplan.Custom
					u.WorkingHours = dialplan.WeeklyHours{{Days: []string{"mon"}, From: "14:00", To: "18:00"}}
				})
				user(w, bob, func(u *dialplan.User) {
					u.AvailabilityStatus = dialplan.Custom
					u.WorkingHours = dialplan.WeeklyHours{{Days: []string{"mon"}, From: "09:00", To: "12:00"}}
				})
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
			},
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{bob, carol}},
		},
		{
			name: "an agent whose phone is unregistered is not rung",
			setup: func(w *dialplantest.World) {
				w.Engine.ACD().SetPresence("PJSIP/alice", false)
				w.Media.SetPeer("PJSIP/carol", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
			},
			want: outcome{answeredBy: carol, rung: []dialplan.UserID{bob, carol}},
		},
		{
			name: "inbound recording starts on answer",
			setup: func(w *dialplantest.World) {
				number(w, 100, func(n *dialplan.Number) { n.Recording.Inbound.Auto = true })
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
			},
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallAnswered, events.CallRecordingStarted, events.CallEnded}},
		},
		{
			name: "welcome message first",
			setup: func(w *dialplantest.World) {
				number(w, 100, func(n *dialplan.Number) {
					n.Messages = dialplan.Messages{dialplan.MsgWelcome: {Type: dialplan.MessageTTS, Text: "Welcome to Acme, calls are recorded"}}
				})
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
			},
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallCreated, events.CallMessagePlayed, events.CallRingingOnAgent, events.CallAnswered}},
		},
		{
			name: "IVR: 2 rings the team",
			to:   ivrLine,
			setup: func(w *dialplantest.World) {
				w.Media.PressDuring(dialplan.MsgIVR, "2")
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
			},
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallMessagePlayed, events.CallIVROptionSelected, events.CallRingingOnAgent, events.CallAnswered}},
		},
		{
			name: "IVR: 1 transfers to the sales line, whose own flow runs",
			to:   ivrLine,
			setup: func(w *dialplantest.World) {
				w.Media.PressDuring(dialplan.MsgIVR, "1")
				number(w, 100, func(n *dialplan.Number) {
					n.Messages = dialplan.Messages{dialplan.MsgWelcome: {Type: dialplan.MessageTTS, Text: "Sales"}}
				})
				w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
			},
			want: outcome{answeredBy: bob, rung: []dialplan.UserID{alice, bob, carol},
				names: []events.Kind{events.CallIVROptionSelected, events.CallTransferred, events.CallMessagePlayed, events.CallAnswered}},
		},
		{
			name: "IVR: 3 forwards to an external number",
			to:   ivrLine,
			setup: func(w *dialplantest.World) {
				w.Media.PressDuring(dialplan.MsgIVR, "3")
				w.Media.SetPeer("+442079460958", dialplan.Peer{AnswerAfter: 4 * s, HangupAfter: 20 * s})
			},
			want: outcome{forwarded: true, names: []events.Kind{events.CallTransferred, events.CallAnswered, events.CallEnded}},
		},
		{
			name: "IVR: 3 forwards to an external number that is busy: an unsuccessful transfer, then voicemail",
			to:   ivrLine,
			setup: func(w *dialplantest.World) {
				w.Media.PressDuring(dialplan.MsgIVR, "3")
				w.Media.SetPeer("+442079460958", dialplan.Peer{Busy: true})
			},
			want: outcome{missed: dialplan.AbandonedInClassic, names: []events.Kind{events.CallTransferred, events.CallUnsuccessfulTransfer,
				events.CallVoicemailLeft, events.CallEnded}, tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name: "IVR: 3 forwards to an external number that rings out: an unsuccessful transfer, then voicemail",
			to:   ivrLine,
			setup: func(w *dialplantest.World) {
				w.Media.PressDuring(dialplan.MsgIVR, "3")
				w.Media.SetPeer("+442079460958", dialplan.Peer{})
			},
			want: outcome{missed: dialplan.AbandonedInClassic, names: []events.Kind{events.CallTransferred, events.CallUnsuccessfulTransfer,
				events.CallVoicemailLeft, events.CallEnded}, tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name: "IVR: an invalid key twice is no choice: voicemail",
			to:   ivrLine,
			setup: func(w *dialplantest.World) {
				w.Media.PressDuring(dialplan.MsgIVR, "7", "8")
			},
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 40*s) },
			want: outcome{missed: dialplan.AbandonedInIVR, names: []events.Kind{events.CallMessagePlayed, events.CallMessagePlayed, events.CallVoicemailLeft},
				tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name:   "IVR: the caller hangs up in the menu",
			to:     ivrLine,
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, 2*s) },
			want:   outcome{missed: dialplan.AbandonedInIVR, tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "IVR: a key pressed after the message, within 3 s",
			to:   ivrLine,
			script: func(w *dialplantest.World, leg dialplan.LegID) {
				w.Media.CallerPresses(leg, 4*s, "0")
				w.Media.CallerHangsUp(leg, 20*s)
			},
			// Nobody was rung: the caller chose the voicemail.
			want: outcome{missed: dialplan.AbandonedInClassic, names: []events.Kind{events.CallIVROptionSelected, events.CallVoicemailLeft},
				tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}},
		},
		{
			name: "the caller hangs up during the welcome: abandoned in classic",
			setup: func(w *dialplantest.World) {
				number(w, 100, func(n *dialplan.Number) {
					n.Messages = dialplan.Messages{dialplan.MsgWelcome: {Type: dialplan.MessageTTS, Text: "A long welcome message for our dear callers"}}
				})
			},
			script: func(w *dialplantest.World, leg dialplan.LegID) { w.Media.CallerHangsUp(leg, time.Second) },
			want:   outcome{missed: dialplan.AbandonedInClassic, tasks: []dialplan.TaskKind{dialplan.TaskMissedCall}},
		},
		{
			name: "an anonymous caller is recorded as anonymous",
			from: "-",
			setup: func(w *dialplantest.World) {
				w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 1 * s, HangupAfter: 5 * s})
			},
			want: outcome{answeredBy: alice, rung: []dialplan.UserID{alice, bob, carol}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := world(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			to, from := line, caller
			if tc.to != "" {
				to = tc.to
			}
			if tc.from == "-" {
				from = ""
			} else if tc.from != "" {
				from = tc.from
			}
			leg := w.Call(from, to)
			if tc.script != nil {
				tc.script(w, leg)
			}
			w.Clock.Run(monday10.Add(time.Hour))
			check(t, w, 1, tc.want)
			require.Empty(t, w.Media.Live(), "every leg is hung up at the end")
			if from == "" {
				c, _ := w.Log.Call(1)
				require.Equal(t, dialplan.Anonymous, c.RawDigits)
			}
		})
	}
}
