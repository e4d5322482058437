package dialplan_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
)

func rule(w *dialplantest.World, r dialplan.RingingRule) {
	t := w.Directory.Teams[team]
	t.RingingRule = r
	w.AddTeam(t)
}

func rungOf(w *dialplantest.World, id dialplan.CallID) []dialplan.UserID {
	var rung []dialplan.UserID
	for _, e := range w.Log.Events[id] {
		if e.Event == events.CallRingingOnAgent {
			rung = append(rung, e.User)
		}
	}
	return rung
}

func TestRingingRules(t *testing.T) {
	s := time.Second
	t.Run("round robin remembers where it stopped", func(t *testing.T) {
		w := world(t)
		rule(w, dialplan.RoundRobin)
		w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 5 * s})
		w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 5 * s})
		w.Call(caller, line)
		w.Clock.Run(monday10.Add(time.Minute))
		w.Call(caller, line)
		w.Clock.Run(monday10.Add(2 * time.Minute))
		require.Equal(t, []dialplan.UserID{alice}, rungOf(w, 1))
		require.Equal(t, []dialplan.UserID{bob}, rungOf(w, 2), "the next call starts after Alice")
	})
	t.Run("sequential rules ring one at a time, each for the slice, never twice", func(t *testing.T) {
		w := world(t)
		rule(w, dialplan.RoundRobin) // slice 10 s, step 20 s: two agents fit
		leg := w.Call(caller, line)
		w.Media.CallerHangsUp(leg, 50*s)
		w.Clock.Run(monday10.Add(time.Hour))
		require.Equal(t, []dialplan.UserID{alice, bob}, rungOf(w, 1))
		var at []time.Duration
		for _, e := range w.Log.Events[1] {
			if e.Event == events.CallRingingOnAgent {
				at = append(at, e.At.Sub(monday10))
			}
		}
		require.Equal(t, []time.Duration{0, 10 * s}, at)
	})
	t.Run("longest idle rings who waited longest", func(t *testing.T) {
		w := world(t)
		rule(w, dialplan.LongestIdle)
		w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 5 * s})
		w.Call(caller, line) // Alice takes it: she is now the least idle
		w.Clock.Run(monday10.Add(time.Minute))
		w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 5 * s})
		w.Call(caller, line)
		w.Clock.Run(monday10.Add(2 * time.Minute))
		require.Equal(t, []dialplan.UserID{alice}, rungOf(w, 1))
		require.Equal(t, []dialplan.UserID{bob}, rungOf(w, 2))
		w.Media.SetPeer("PJSIP/carol", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 5 * s})
		w.Call(caller, line)
		w.Clock.Run(monday10.Add(3 * time.Minute))
		require.Equal(t, []dialplan.UserID{carol}, rungOf(w, 3), "Carol never had a call")
	})
	t.Run("random rings everyone once in some order", func(t *testing.T) {
		w := world(t)
		rule(w, dialplan.Random)
		number(w, 100, func(n *dialplan.Number) { n.Distribution[0].RingSeconds = 60 })
		leg := w.Call(caller, line)
		w.Media.CallerHangsUp(leg, 100*s)
		w.Clock.Run(monday10.Add(time.Hour))
		require.ElementsMatch(t, []dialplan.UserID{alice, bob, carol}, rungOf(w, 1))
	})
}

func TestAgentStates(t *testing.T) {
	s := time.Second
	t.Run("an agent in a call is not rung by another call", func(t *testing.T) {
		w := world(t)
		w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 1 * s, HangupAfter: 120 * s})
		w.Call(caller, line)
		w.Clock.Advance(5 * s)
		require.Equal(t, dialplan.StatusInCall, w.Engine.ACD().Status(w.Directory.Users[alice]))
		leg := w.Call("+33699999999", line)
		w.Media.CallerHangsUp(leg, 15*s)
		w.Clock.Run(monday10.Add(time.Hour))
		require.Equal(t, []dialplan.UserID{bob, carol}, rungOf(w, 2))
		require.Empty(t, w.Media.Violations)
	})
	t.Run("after-call work keeps an agent from calls for the wrap-up time", func(t *testing.T) {
		w := world(t)
		user(w, alice, func(u *dialplan.User) { u.WrapUpTime = 30 })
		w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 1 * s, HangupAfter: 10 * s})
		w.Call(caller, line)
		w.Clock.Advance(12 * s)
		require.Equal(t, dialplan.StatusAfterCallWork, w.Engine.ACD().Status(w.Directory.Users[alice]))
		leg := w.Call(caller, line)
		w.Media.CallerHangsUp(leg, 5*s)
		w.Clock.Advance(40 * s)
		require.Equal(t, []dialplan.UserID{bob, carol}, rungOf(w, 2))
		require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(w.Directory.Users[alice]))
	})
	t.Run("mandatory tagging holds calls until the call is tagged", func(t *testing.T) {
		w := world(t)
		number(w, 100, func(n *dialplan.Number) { n.MandatoryTagging = true })
		w.Media.SetPeer("PJSIP/alice", dialplan.Peer{AnswerAfter: 1 * s, HangupAfter: 10 * s})
		w.Call(caller, line)
		w.Clock.Advance(15 * s)
		a := w.Directory.Users[alice]
		require.Equal(t, dialplan.StatusPendingTag, w.Engine.ACD().Status(a))
		leg := w.Call(caller, line)
		w.Media.CallerHangsUp(leg, 5*s)
		w.Clock.Advance(10 * s)
		require.Equal(t, []dialplan.UserID{bob, carol}, rungOf(w, 2))
		w.Engine.ACD().Tagged(a, 1)
		require.Equal(t, dialplan.StatusAvailable, w.Engine.ACD().Status(a))
	})
	t.Run("a restart gives agents back the after-call work and the tag their last calls left them", func(t *testing.T) {
		w := world(t)
		user(w, alice, func(u *dialplan.User) { u.WrapUpTime = 30 })
		user(w, bob, func(u *dialplan.User) { u.WrapUpTime = 30 })
		user(w, carol, func(u *dialplan.User) { u.WrapUpTime = 30 })
		acd, users := w.Engine.ACD(), w.Directory.Users
		acd.Talk(carol, 7) // a conversation taken over
		acd.Restore([]dialplan.LastCall{
			{User: users[alice], Call: 1, EndedAt: monday10.Add(-10 * s)},
			{User: users[bob], Call: 2, EndedAt: monday10.Add(-time.Hour), Untagged: true},
			{User: users[carol], Call: 3, EndedAt: monday10.Add(-10 * s), Untagged: true},
		})
		require.Equal(t, dialplan.StatusAfterCallWork, acd.Status(users[alice]), "20 s of after-call work left")
		require.Equal(t, dialplan.StatusPendingTag, acd.Status(users[bob]))
		require.Equal(t, dialplan.StatusInCall, acd.Status(users[carol]), "in a call, whatever the last one left")
		w.Clock.Advance(20 * s)
		require.Equal(t, dialplan.StatusAvailable, acd.Status(users[alice]))
		acd.Tagged(users[bob], 2)
		require.Equal(t, dialplan.StatusAvailable, acd.Status(users[bob]))
	})
}

func TestQueue(t *testing.T) {
	s := time.Second
	// busyTeam makes everyone busy with calls of their own: Alice, Bob and
	// Carol each answer a call on a line that rings only them.
	busyTeam := func(w *dialplantest.World, talk map[string]time.Duration) {
		for i, name := range []string{"alice", "bob", "carol"} {
			id := dialplan.UserID(i + 1)
			n := dialplan.NewNumber()
			n.ID, n.Name, n.Digits = dialplan.NumberID(300+i), "Direct "+name, "+3317639000"+string(rune('1'+i))
			n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: int64(id), RingSeconds: 20}}
			w.AddNumber(n)
			w.Media.SetPeer("PJSIP/"+name, dialplan.Peer{AnswerAfter: time.Second, HangupAfter: talk[name]})
			w.Call("+3361111111"+string(rune('1'+i)), n.Digits)
		}
		w.Clock.Advance(2 * s)
	}
	t.Run("nobody free and respect queuing time: the caller waits and gets the first agent to free up", func(t *testing.T) {
		w := world(t)
		number(w, 100, func(n *dialplan.Number) { n.RespectQueuingTime = true; n.Distribution[0].RingSeconds = 120 })
		busyTeam(w, map[string]time.Duration{"alice": 100 * s, "bob": 30 * s, "carol": 100 * s})
		w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 10 * s})
		w.Call(caller, line)
		w.Clock.Run(monday10.Add(time.Hour))
		check(t, w, 4, outcome{answeredBy: bob, rung: []dialplan.UserID{bob},
			names: []events.Kind{events.CallQueued, events.CallRingingOnAgent, events.CallAnswered}})
	})
	t.Run("without respect queuing time the step is skipped at once", func(t *testing.T) {
		w := world(t)
		busyTeam(w, map[string]time.Duration{"alice": 100 * s, "bob": 100 * s, "carol": 100 * s})
		leg := w.Call(caller, line)
		w.Media.CallerHangsUp(leg, 20*s)
		w.Clock.Run(monday10.Add(time.Hour))
		check(t, w, 4, outcome{missed: dialplan.NoAvailableAgent, names: []events.Kind{events.CallVoicemailLeft},
			tasks: []dialplan.TaskKind{dialplan.TaskVoicemail}})
	})
	t.Run("priority lines are served first, then first come first served", func(t *testing.T) {
		w := world(t)
		number(w, 100, func(n *dialplan.Number) { n.RespectQueuingTime = true; n.Distribution[0].RingSeconds = 300 })
		vip := dialplan.NewNumber()
		vip.ID, vip.Name, vip.Digits, vip.Priority, vip.RespectQueuingTime = 400, "VIP", "+33176390999", 1, true
		vip.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: int64(team), RingSeconds: 300}}
		w.AddNumber(vip)
		busyTeam(w, map[string]time.Duration{"alice": 30 * s, "bob": 60 * s, "carol": 90 * s})
		for _, name := range []string{"alice", "bob", "carol"} {
			w.Media.SetPeer("PJSIP/"+name, dialplan.Peer{AnswerAfter: time.Second, HangupAfter: 200 * s})
		}
		w.Call("+33600000001", line) // call 4
		w.Clock.Advance(s)
		w.Call("+33600000002", line) // call 5
		w.Clock.Advance(s)
		w.Call("+33600000003", "+33176390999") // call 6, priority
		w.Clock.Advance(5 * s)
		require.Equal(t, []dialplan.CallID{6, 4, 5}, w.Engine.ACD().Queued())
		w.Clock.Run(monday10.Add(time.Hour))
		require.Equal(t, []dialplan.UserID{alice}, rungOf(w, 6), "the priority caller gets the first free agent")
		require.Equal(t, []dialplan.UserID{bob}, rungOf(w, 4))
		require.Equal(t, []dialplan.UserID{carol}, rungOf(w, 5))
	})
	t.Run("a queued caller presses * and is called back by the first agent free", func(t *testing.T) {
		w := world(t)
		number(w, 100, func(n *dialplan.Number) {
			n.RespectQueuingTime, n.CallbackRequest = true, true
			n.Distribution[0].RingSeconds = 120
		})
		busyTeam(w, map[string]time.Duration{"alice": 100 * s, "bob": 60 * s, "carol": 100 * s})
		w.Media.SetPeer("PJSIP/bob", dialplan.Peer{AnswerAfter: 2 * s, HangupAfter: 300 * s})
		w.Media.SetPeer(caller, dialplan.Peer{AnswerAfter: 3 * s, HangupAfter: 30 * s})
		leg := w.Call(caller, line)
		w.Media.CallerPresses(leg, 10*s, "*")
		w.Clock.Run(monday10.Add(time.Hour))
		check(t, w, 4, outcome{answeredBy: bob, rung: []dialplan.UserID{bob},
			names: []events.Kind{events.CallQueued, events.CallCallbackRequested, events.CallRingingOnAgent,
				events.CallCalledBack, events.CallAnswered, events.CallEnded},
			tasks: []dialplan.TaskKind{dialplan.TaskCallbackRequest}})
		c, _ := w.Log.Call(4)
		require.Greater(t, c.AnsweredAt.Sub(c.StartedAt), 50*s, "after Bob's own call ended")
	})
	t.Run("an anonymous caller asking for a callback only leaves a task", func(t *testing.T) {
		w := world(t)
		number(w, 100, func(n *dialplan.Number) {
			n.RespectQueuingTime, n.CallbackRequest = true, true
			n.Distribution[0].RingSeconds = 120
		})
		busyTeam(w, map[string]time.Duration{"alice": 100 * s, "bob": 100 * s, "carol": 100 * s})
		leg := w.Call("", line)
		w.Media.CallerPresses(leg, 10*s, "*")
		w.Clock.Run(monday10.Add(time.Hour))
		check(t, w, 4, outcome{missed: dialplan.NoAvailableAgent, names: []events.Kind{events.CallQueued, events.CallCallbackRequested, events.CallEnded},
			tasks: []dialplan.TaskKind{dialplan.TaskCallbackRequest}})
	})
}
