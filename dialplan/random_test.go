package dialplan_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
)

// TestRandomCalls places thousands of random calls on random
// configurations, with agents answering, declining, hanging up and
// changing availability at random, and checks the engine's invariants:
// every call ends with exactly one call.ended; no agent is rung while not
// eligible or rung twice at once; every rung leg stops when another
// answers (the simulated media server checks those two); queue order
// holds; nothing is left ringing.
func TestRandomCalls(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 5
	}
	total := 0
	for seed := range seeds {
		total += randomRun(t, uint64(seed))
	}
	t.Logf("%d random calls", total)
}

func randomRun(t *testing.T, seed uint64) int {
	r := rand.New(rand.NewPCG(seed, 42))
	w := dialplantest.NewWorld(monday10)
	defer w.Engine.Stop()
	const agents = 8
	var ids []dialplan.UserID
	for i := range agents {
		u := w.AddUser(dialplan.UserID(i+1), fmt.Sprintf("agent%d", i+1))
		u.WrapUpTime = r.IntN(3) * 10
		w.Directory.SetUser(u)
		ids = append(ids, u.ID)
	}
	rules := []dialplan.RingingRule{dialplan.Simultaneous, dialplan.Random, dialplan.LongestIdle, dialplan.RoundRobin}
	for i := range 3 {
		members := slices.Clone(ids)
		r.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
		w.AddTeam(dialplan.Team{ID: dialplan.TeamID(10 + i), Name: fmt.Sprint("T", i), Users: members[:3+r.IntN(4)],
			RingingRule: rules[r.IntN(len(rules))], RingSliceSeconds: 5 + r.IntN(10)})
	}
	var lines []string
	for i := range 4 {
		n := dialplan.NewNumber()
		n.ID, n.Name, n.Digits = dialplan.NumberID(100+i), fmt.Sprint("L", i), fmt.Sprintf("+3317639010%d", i)
		n.Priority = r.IntN(2)
		n.RespectQueuingTime = r.IntN(2) == 0
		n.CallbackRequest = r.IntN(2) == 0
		n.MandatoryTagging = r.IntN(4) == 0
		n.Voicemail = r.IntN(3) > 0
		for range 1 + r.IntN(2) {
			if r.IntN(3) == 0 {
				n.Distribution = append(n.Distribution, dialplan.Step{Type: dialplan.StepUser, ID: int64(ids[r.IntN(agents)]), RingSeconds: 5 + r.IntN(30)})
			} else {
				n.Distribution = append(n.Distribution, dialplan.Step{Type: dialplan.StepTeam, ID: int64(10 + r.IntN(3)), RingSeconds: 5 + r.IntN(60)})
			}
		}
		if i == 3 {
			n.Type = dialplan.IVR
			n.Messages = dialplan.Messages{dialplan.MsgIVR: {Type: dialplan.MessageTTS, Text: "Choose"}}
			n.IVROptions = []dialplan.IVROption{{Key: "1", Target: dialplan.Target{Type: dialplan.TargetNumber, ID: 100}},
				{Key: "2", Target: dialplan.Target{Type: dialplan.TargetTeam, ID: 11}}}
		}
		w.AddNumber(n)
		lines = append(lines, n.Digits)
	}
	behaviours := func() dialplan.Peer {
		switch r.IntN(6) {
		case 0:
			return dialplan.Peer{Busy: true}
		case 1:
			return dialplan.Peer{DeclineAfter: time.Duration(1+r.IntN(5)) * time.Second}
		case 2:
			return dialplan.Peer{}
		default:
			return dialplan.Peer{AnswerAfter: time.Duration(1+r.IntN(8)) * time.Second, HangupAfter: time.Duration(5+r.IntN(120)) * time.Second}
		}
	}
	// No agent is rung unless eligible: available, not in a call, not in
	// after-call work, nothing to tag (the reservation itself shows as
	// available).
	var notEligible []string
	w.Media.OnOriginate = func(d dialplan.Dial) {
		if d.Endpoint == "" {
			return // a caller called back
		}
		var id dialplan.UserID
		fmt.Sscanf(d.Endpoint, "PJSIP/agent%d", &id)
		u := w.Directory.Users[id]
		if st := w.Engine.ACD().Status(u); u.AvailabilityStatus != dialplan.Available || st != dialplan.StatusAvailable {
			notEligible = append(notEligible, fmt.Sprintf("%s rung while %s (%s)", d.Endpoint, st, u.AvailabilityStatus))
		}
	}
	calls := 50 + r.IntN(50)
	for i := range calls {
		for _, id := range ids {
			w.Media.SetPeer(fmt.Sprintf("PJSIP/agent%d", id), behaviours())
		}
		if r.IntN(5) == 0 { // an agent changes availability
			u := w.Directory.Users[ids[r.IntN(agents)]]
			u.AvailabilityStatus = []dialplan.Availability{dialplan.Available, dialplan.Unavailable}[r.IntN(2)]
			w.Directory.SetUser(u)
			w.Engine.ACD().UserChanged(u)
		}
		if r.IntN(8) == 0 { // someone tags their call
			u := w.Directory.Users[ids[r.IntN(agents)]]
			for _, id := range w.Log.IDs() {
				w.Engine.ACD().Tagged(u, id)
			}
		}
		leg := w.Call(fmt.Sprintf("+336%08d", i), lines[r.IntN(len(lines))])
		if r.IntN(2) == 0 {
			w.Media.CallerHangsUp(leg, time.Duration(1+r.IntN(180))*time.Second)
		}
		if r.IntN(4) == 0 {
			w.Media.CallerPresses(leg, time.Duration(r.IntN(40))*time.Second, []string{"1", "2", "*", "9"}[r.IntN(4)])
		}
		w.Clock.Advance(time.Duration(r.IntN(15)) * time.Second)
		assertQueueOrder(t, w)
	}
	w.Clock.Run(monday10.Add(24 * time.Hour))
	require.Empty(t, w.Media.Violations, "seed %d", seed)
	require.Empty(t, notEligible, "seed %d", seed)
	require.Empty(t, w.Media.Live(), "seed %d: legs left up", seed)
	require.Len(t, w.Log.Calls, calls, "seed %d", seed)
	for id, c := range w.Log.Calls {
		_, names := w.Log.Call(id)
		require.Equal(t, 1, count(names, events.CallEnded), "seed %d call %d: %v", seed, id, names)
		require.Equal(t, events.CallEnded, names[len(names)-1])
		require.Equal(t, dialplan.CallDone, c.Status)
		require.Equal(t, c.AnsweredAt == nil, c.MissedReason != "", "seed %d call %d: a call is answered or missed", seed, id)
	}
	return calls
}

// assertQueueOrder: priority callers first, then first come first served.
func assertQueueOrder(t *testing.T, w *dialplantest.World) {
	queued := w.Engine.ACD().Queued()
	for i := 1; i < len(queued); i++ {
		a, b := w.Log.Calls[queued[i-1]], w.Log.Calls[queued[i]]
		pa, pb := w.Directory.Numbers[a.Number].Priority, w.Directory.Numbers[b.Number].Priority
		require.GreaterOrEqual(t, pa, pb, "priority first: %v", queued)
	}
}
