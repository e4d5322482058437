package dialplan

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// ACD is the automatic call distributor: the one source of truth of what
// every agent is doing (ringing, in a call, in after-call work, waiting to
// tag), which phones are registered, and the queue of callers waiting for
// an agent. The API reads agents' live status from it.
type ACD struct {
	clock Clock

	mu       sync.Mutex
	agents   map[UserID]*agentState
	presence map[string]bool // device endpoint → registered
	queue    []*waiter
	seq      uint64
	rr       map[TeamID]UserID // round robin: the member rung last

	// changed is signalled (without blocking) when an agent's state may
	// have changed: the state watcher then writes what did to the stream.
	changed chan struct{}
}

// agentState is the live part of an agent; their settings come with the
// User each time, fresh from the directory.
type agentState struct {
	call       CallID // the call ringing or talking to them; 0 when free
	talking    bool
	wrapUntil  time.Time
	stopWrap   func() bool
	pendingTag CallID
	idleSince  time.Time // last time they became free; zero: never had a call
	wrapUp     bool
	// settings are the user's settings as last changed through the API:
	// newer than a copy a call loaded before the change.
	settings *User
}

// waiter is a caller waiting in the queue for one of candidates.
type waiter struct {
	call       CallID
	priority   int
	since      time.Time
	seq        uint64
	candidates []UserID
	sink       Sink
}

// NewACD makes an empty distributor.
func NewACD(clock Clock) *ACD {
	return &ACD{clock: clock, agents: map[UserID]*agentState{}, presence: map[string]bool{}, rr: map[TeamID]UserID{},
		changed: make(chan struct{}, 1)}
}

// Changed is signalled when an agent's state may have changed (a call
// talked and hung up, after-call work over, a phone registering, the
// settings changing): one signal for any number of changes since the
// last was taken. The state watcher reads it.
func (a *ACD) Changed() <-chan struct{} { return a.changed }

func (a *ACD) signal() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// Available says whether the user's availability lets them take calls
// now (available, or inside their working hours), by the settings last
// given to UserChanged when newer than u's.
func (a *ACD) Available(u User, now time.Time) bool {
	a.mu.Lock()
	if s, ok := a.agents[u.ID]; ok && s.settings != nil {
		u = *s.settings
	}
	a.mu.Unlock()
	return ConfiguredStatus(u, now) == StatusAvailable
}

// Connected says whether a phone of the user is registered (one never
// reported counts as registered, as for ringing).
func (a *ACD) Connected(u User) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected(u)
}

func (a *ACD) connected(u User) bool {
	for _, d := range u.Devices {
		if online, known := a.presence[d]; !known || online {
			return true
		}
	}
	return false
}

func (a *ACD) agent(id UserID) *agentState {
	s, ok := a.agents[id]
	if !ok {
		s = &agentState{}
		a.agents[id] = s
	}
	return s
}

// SetPresence records whether a device is registered. A device never
// reported is taken as registered: not every PBX reports presence.
func (a *ACD) SetPresence(endpoint string, online bool) {
	a.mu.Lock()
	was, known := a.presence[endpoint]
	a.presence[endpoint] = online
	a.mu.Unlock()
	if !known || was != online {
		a.signal()
	}
}

// reachable says whether a user has a way to be rung.
func (a *ACD) reachable(u User) bool {
	return u.ExternalNumber != nil || a.connected(u)
}

// Status is a user's live status.
func (a *ACD) Status(u User) LiveStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status(u)
}

func (a *ACD) status(u User) LiveStatus {
	if s, ok := a.agents[u.ID]; ok {
		if s.settings != nil {
			u = *s.settings
		}
		switch {
		case s.talking:
			return StatusInCall
		case s.wrapUp:
			return StatusAfterCallWork
		case s.pendingTag != 0:
			return StatusPendingTag
		}
	}
	status := ConfiguredStatus(u, a.clock.Now())
	if status == StatusAvailable && !a.reachable(u) {
		return StatusOffline
	}
	return status
}

// eligible says whether u can be rung now: available, reachable, not
// ringing or talking, not in after-call work, nothing left to tag.
func (a *ACD) eligible(u User) bool {
	if s, ok := a.agents[u.ID]; ok && s.call != 0 {
		return false
	}
	return a.status(u) == StatusAvailable
}

// Reserve takes u for call if u is eligible: from then on no other call
// rings them. Release gives them back.
func (a *ACD) Reserve(u User, call CallID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.eligible(u) {
		return false
	}
	a.agent(u.ID).call = call
	return true
}

// Busy says whether a call has the user (ringing, or talking).
func (a *ACD) Busy(u UserID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.agents[u]
	return ok && s.call != 0
}

// Occupy takes u for a call they place themselves, whatever their
// availability, unless a call has them already. Release gives them back.
func (a *ACD) Occupy(u User, call CallID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.agent(u.ID)
	if s.call != 0 {
		return false
	}
	s.call = call
	return true
}

// Release frees a user a call reserved but did not connect.
func (a *ACD) Release(u User, call CallID) {
	a.mu.Lock()
	s := a.agent(u.ID)
	if s.call != call || s.talking {
		a.mu.Unlock()
		return
	}
	s.call = 0
	a.mu.Unlock()
	a.Offer(u)
}

// Talk marks a reserved user as talking on call.
func (a *ACD) Talk(u UserID, call CallID) {
	a.mu.Lock()
	s := a.agent(u)
	s.call, s.talking = call, true
	a.mu.Unlock()
	a.signal()
}

// Hangup ends a user's call: after-call work for wrapUp, and, when the
// number asks for tags, no call until the call is tagged.
func (a *ACD) Hangup(u User, call CallID, wrapUp time.Duration, mustTag bool) {
	a.mu.Lock()
	s := a.agent(u.ID)
	if s.call != call {
		a.mu.Unlock()
		return
	}
	s.call, s.talking = 0, false
	if mustTag {
		s.pendingTag = call
	}
	if wrapUp > 0 {
		s.wrapUp = true
		s.wrapUntil = a.clock.Now().Add(wrapUp)
		s.stopWrap = a.clock.AfterFunc(wrapUp, func() { a.endWrapUp(u) })
		a.mu.Unlock()
		a.signal()
		return
	}
	a.becameIdle(s)
	a.mu.Unlock()
	a.signal()
	a.Offer(u)
}

func (a *ACD) endWrapUp(u User) {
	a.mu.Lock()
	s := a.agent(u.ID)
	s.wrapUp, s.stopWrap = false, nil
	a.becameIdle(s)
	a.mu.Unlock()
	a.signal()
	a.Offer(u)
}

// becameIdle restarts the idle time once nothing keeps the agent busy.
func (a *ACD) becameIdle(s *agentState) {
	if !s.wrapUp && s.pendingTag == 0 && s.call == 0 {
		s.idleSince = a.clock.Now()
	}
}

// LastCall is the last call an agent answered or placed, as the call log
// has it: what their after-call work and pending tag are made of after a
// restart.
type LastCall struct {
	User    User
	Call    CallID
	EndedAt time.Time
	// Untagged: the call's number asks for tags and it has none yet.
	Untagged bool
}

// Restore gives agents back, after a restart, what their last call left
// them with: after-call work until its end (the call's end and the
// agent's wrap-up time), and the call to tag. An agent already in a call
// taken over keeps it: their after-call work comes at its end.
func (a *ACD) Restore(last []LastCall) {
	now := a.clock.Now()
	a.mu.Lock()
	for _, l := range last {
		s := a.agent(l.User.ID)
		if s.call != 0 {
			continue
		}
		if l.Untagged {
			s.pendingTag = l.Call
		}
		if left := l.EndedAt.Add(time.Duration(l.User.WrapUpTime) * time.Second).Sub(now); left > 0 && !s.wrapUp {
			u := l.User
			s.wrapUp, s.wrapUntil = true, now.Add(left)
			s.stopWrap = a.clock.AfterFunc(left, func() { a.endWrapUp(u) })
		}
	}
	a.mu.Unlock()
	a.signal()
}

// Tagged lifts the pending tag of call from user.
func (a *ACD) Tagged(u User, call CallID) {
	a.mu.Lock()
	s := a.agent(u.ID)
	if s.pendingTag != call {
		a.mu.Unlock()
		return
	}
	s.pendingTag = 0
	a.becameIdle(s)
	a.mu.Unlock()
	a.signal()
	a.Offer(u)
}

// Enqueue puts a call in the queue, behind callers of the same priority
// waiting since before since (a caller taken over after a restart keeps
// their place: they wait since they were first queued). The call gets
// EvOffer when one of candidates is free and reserved for it; those free
// now are offered at once.
func (a *ACD) Enqueue(call CallID, priority int, since time.Time, candidates []User, sink Sink) {
	ids := make([]UserID, len(candidates))
	for i, u := range candidates {
		ids[i] = u.ID
	}
	a.mu.Lock()
	a.seq++
	w := &waiter{call: call, priority: priority, since: since, seq: a.seq, candidates: ids, sink: sink}
	i, _ := slices.BinarySearchFunc(a.queue, w, func(x, y *waiter) int {
		if x.priority != y.priority {
			return y.priority - x.priority
		}
		if c := x.since.Compare(y.since); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
	a.queue = slices.Insert(a.queue, i, w)
	a.mu.Unlock()
	for _, u := range candidates {
		a.Offer(u) // somebody may have freed up in between
	}
}

// Dequeue takes a call out of the queue.
func (a *ACD) Dequeue(call CallID) {
	a.mu.Lock()
	a.queue = slices.DeleteFunc(a.queue, func(w *waiter) bool { return w.call == call })
	a.mu.Unlock()
}

// Queued lists the waiting calls, first served first.
func (a *ACD) Queued() []CallID {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]CallID, len(a.queue))
	for i, w := range a.queue {
		ids[i] = w.call
	}
	return ids
}

// Offer gives a free agent to the first waiting call that may ring them:
// the call is taken out of the queue, the agent reserved for it, and the
// call told.
func (a *ACD) Offer(u User) {
	a.mu.Lock()
	if !a.eligible(u) {
		a.mu.Unlock()
		return
	}
	for i, w := range a.queue {
		if !slices.Contains(w.candidates, u.ID) {
			continue
		}
		a.agent(u.ID).call = w.call
		a.queue = slices.Delete(a.queue, i, i+1)
		a.mu.Unlock()
		w.sink.Post(Event{Kind: EvOffer, User: u.ID})
		return
	}
	a.mu.Unlock()
}

// UserChanged is told when a user's settings change (availability,
// devices): they count from now on, and the user may now be free for a
// waiting caller.
func (a *ACD) UserChanged(u User) {
	a.mu.Lock()
	a.agent(u.ID).settings = &u
	a.mu.Unlock()
	a.signal()
	a.Offer(u)
}

// idleOrder sorts users longest idle first (never called first), keeping
// the team's order among equals.
func (a *ACD) idleOrder(users []User) []User {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := slices.Clone(users)
	slices.SortStableFunc(out, func(x, y User) int {
		return a.agent(x.ID).idleSince.Compare(a.agent(y.ID).idleSince)
	})
	return out
}

// roundRobin orders users starting after the member rung last in team.
func (a *ACD) roundRobin(team TeamID, users []User) []User {
	a.mu.Lock()
	last := a.rr[team]
	a.mu.Unlock()
	start := slices.IndexFunc(users, func(u User) bool { return u.ID == last }) + 1
	return append(slices.Clone(users[start:]), users[:start]...)
}

// rang remembers where a round robin stopped.
func (a *ACD) rang(team TeamID, u UserID) {
	a.mu.Lock()
	a.rr[team] = u
	a.mu.Unlock()
}

// Force puts a user in a live state, for a dry run's imagined agents.
func (a *ACD) Force(u User, s LiveStatus) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.agent(u.ID)
	switch s {
	case StatusInCall:
		st.call, st.talking = -1, true
	case StatusAfterCallWork:
		st.wrapUp = true
	case StatusPendingTag:
		st.pendingTag = -1
	case StatusOffline:
		for _, d := range u.Devices {
			a.presence[d] = false
		}
	}
}
