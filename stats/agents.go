package stats

import (
	"slices"
	"time"

	"github.com/switchboard/switchboard/events"
)

// Status is what an agent is doing: what the live view shows and what
// productivity counts the time of.
type Status string

const (
	Available     Status = "available"
	InCall        Status = "in_call"
	AfterCallWork Status = "after_call_work"
	DoNotDisturb  Status = "do_not_disturb"
	Offline       Status = "offline"
)

// Statuses lists them, in the order Agent.Status picks them.
var Statuses = []Status{InCall, AfterCallWork, Offline, DoNotDisturb, Available}

// Agent is what the stream last told of an agent.
type Agent struct {
	Connected bool // a phone of theirs is registered (user.connected)
	Closed    bool // they take no calls (user.closed: do not disturb)
	WrapUp    bool // in after-call work (user.wut_start)
	Calls     int  // calls of theirs answered and not ended
}

// Status is the one status an agent shows. A call comes first (an agent
// on their mobile is in a call even with no desk phone registered), then
// the after-call work that follows it, then having no phone at all, then
// do-not-disturb.
func (a Agent) Status() Status {
	switch {
	case a.Calls > 0:
		return InCall
	case a.WrapUp:
		return AfterCallWork
	case !a.Connected:
		return Offline
	case a.Closed:
		return DoNotDisturb
	default:
		return Available
	}
}

// AgentKinds are the events that change an agent: their own (user.*), and
// their calls being answered and ending.
var AgentKinds = []events.Kind{events.UserOpened, events.UserClosed, events.UserWutStart, events.UserWutEnd,
	events.UserConnected, events.UserDisconnected, events.CallAnswered, events.CallEnded}

// Apply changes the agent by an event of theirs; other kinds leave it.
func (a *Agent) Apply(k events.Kind) {
	switch k {
	case events.UserOpened:
		a.Closed = false
	case events.UserClosed:
		a.Closed = true
	case events.UserWutStart:
		a.WrapUp = true
	case events.UserWutEnd:
		a.WrapUp = false
	case events.UserConnected:
		a.Connected = true
	case events.UserDisconnected:
		a.Connected = false
	case events.CallAnswered:
		a.Calls++
	case events.CallEnded:
		a.Calls = max(a.Calls-1, 0)
	}
}

// Change is an event of an agent, at its time.
type Change struct {
	At   time.Time
	Kind events.Kind
}

// TimeIn is how long an agent spent in each status within the plan's
// period and time of day, up to until (now: a period that ends later
// counts no time yet to come), from their state at its start and their
// changes during it (in order; changes outside the period only move the
// state).
func (p Plan) TimeIn(start Agent, changes []Change, until time.Time) map[Status]time.Duration {
	out := map[Status]time.Duration{}
	if len(p.Bounds) < 2 {
		return out
	}
	changes = slices.Clone(changes)
	slices.SortStableFunc(changes, func(a, b Change) int { return a.At.Compare(b.At) })
	end := p.Bounds[len(p.Bounds)-1]
	if until.Before(end) {
		end = until
	}
	a, from := start, p.Bounds[0]
	for _, c := range changes {
		if c.At.After(from) {
			to := c.At
			if to.After(end) {
				to = end
			}
			p.addTime(out, a.Status(), from, to)
			from = c.At
		}
		a.Apply(c.Kind)
	}
	p.addTime(out, a.Status(), from, end)
	return out
}

// Presence is how long an agent spent in each status over the plan's
// period: TimeIn from their own events, with the talk time of their calls
// of the period as their time in a call. That time is taken from the
// status they most likely talked in: available first, then offline (a
// call on their mobile, with no desk phone registered), do-not-disturb,
// after-call work; so the statuses still add up to the period. A call
// counts whole, as its talk time does in the bucket it started in:
// reading every call's interval would cost a month's calls per query.
func (p Plan) Presence(start Agent, changes []Change, talk time.Duration, until time.Time) map[Status]time.Duration {
	out := p.TimeIn(start, changes, until)
	if talk <= 0 {
		return out
	}
	out[InCall] += talk
	for _, st := range []Status{Available, Offline, DoNotDisturb, AfterCallWork} {
		took := min(talk, out[st])
		if took > 0 {
			out[st] -= took
			talk -= took
		}
	}
	return out
}

// addTime adds to st the part of [from, to) that the plan counts.
func (p Plan) addTime(out map[Status]time.Duration, st Status, from, to time.Time) {
	if !to.After(from) {
		return
	}
	// the first interval that ends after from
	i, _ := slices.BinarySearchFunc(p.Bounds[1:], from, func(b, t time.Time) int {
		if b.After(t) {
			return 1
		}
		return -1
	})
	for ; i < len(p.Groups) && p.Bounds[i].Before(to); i++ {
		if p.Groups[i] == 0 {
			continue
		}
		lo, hi := p.Bounds[i], p.Bounds[i+1]
		if from.After(lo) {
			lo = from
		}
		if to.Before(hi) {
			hi = to
		}
		if hi.After(lo) {
			out[st] += hi.Sub(lo)
		}
	}
}
