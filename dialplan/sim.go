package dialplan

import (
	"container/heap"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// SimClock is a virtual clock for running calls without waiting: time
// jumps to the next timer as soon as every call goroutine waits. Dry runs
// and tests use it.
type SimClock struct {
	mu     sync.Mutex
	idle   *sync.Cond
	now    time.Time
	timers timerHeap
	seq    uint64
	busy   int
}

// NewSimClock starts a virtual clock at start.
func NewSimClock(start time.Time) *SimClock {
	c := &SimClock{now: start}
	c.idle = sync.NewCond(&c.mu)
	return c
}

func (c *SimClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *SimClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &simTimer{at: c.now.Add(max(d, 0)), seq: c.seq, f: f}
	heap.Push(&c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.index < 0 {
			return false
		}
		heap.Remove(&c.timers, t.index)
		return true
	}
}

func (c *SimClock) Busy() {
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
}

func (c *SimClock) Idle() {
	c.mu.Lock()
	c.busy--
	if c.busy == 0 {
		c.idle.Broadcast()
	}
	c.mu.Unlock()
}

// Run lets time pass, timer after timer, until nothing is left to do or
// the next timer is after until. It returns with every goroutine idle.
func (c *SimClock) Run(until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for c.busy > 0 {
			c.idle.Wait()
		}
		if len(c.timers) == 0 || c.timers[0].at.After(until) {
			return
		}
		t := heap.Pop(&c.timers).(*simTimer)
		if t.at.After(c.now) {
			c.now = t.at
		}
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
}

// Advance runs for d of virtual time.
func (c *SimClock) Advance(d time.Duration) {
	end := c.Now().Add(d)
	c.Run(end)
	c.mu.Lock()
	if end.After(c.now) {
		c.now = end
	}
	c.mu.Unlock()
}

type simTimer struct {
	at    time.Time
	seq   uint64
	f     func()
	index int
}

type timerHeap []*simTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*simTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

// Peer is how a simulated phone behaves when rung.
type Peer struct {
	// AnswerAfter > 0: answers after that long. Zero with no other field
	// set: rings until the caller gives up.
	AnswerAfter time.Duration
	// HangupAfter > 0: after answering, hangs up after that long.
	HangupAfter  time.Duration
	Busy         bool          // answers 486 at once
	DeclineAfter time.Duration // > 0: rejects (603) after that long
	Unreachable  bool          // fails at once
}

// SimMedia is a simulated media server: legs, prompts, bridges and
// scripted phones on a SimClock. It checks, as it goes, the promises a
// real server relies on (nobody rings twice at once, losers stop ringing
// when someone answers) and lists what it saw broken in Violations.
type SimMedia struct {
	clock *SimClock

	mu   sync.Mutex
	seq  int
	legs map[LegID]*simLeg
	// Declined are the callers sent to the PBX's fallback (Decline).
	Declined   []LegID
	peers      map[string]Peer
	presses    map[MessageKind][]string
	Violations []string
	// PromptLength says how long a prompt plays.
	PromptLength func(Prompt) time.Duration
	// Played lists every prompt started, in order.
	Played []Prompt
	// OnOriginate, when set, sees every phone rung, as it is rung.
	OnOriginate func(Dial)
}

type simLeg struct {
	id        LegID
	sink      Sink
	dial      string
	peer      Peer
	up, gone  bool
	caller    LegID // for an originated leg, the caller it rings for
	bridge    LegID // the other side when bridged
	recording string
	recStart  time.Time
	stop      []func() bool
	playback  map[string]func() bool
}

// NewSimMedia makes a simulated media server on clock.
func NewSimMedia(clock *SimClock) *SimMedia {
	return &SimMedia{clock: clock, legs: map[LegID]*simLeg{}, peers: map[string]Peer{},
		presses: map[MessageKind][]string{}, PromptLength: defaultPromptLength}
}

func defaultPromptLength(p Prompt) time.Duration {
	switch {
	case p.Sound == "beep":
		return 500 * time.Millisecond
	case p.Message != nil && p.Message.Type == MessageTTS:
		return max(time.Second, time.Duration(len(p.Message.Text))*time.Second/15) // ~15 characters a second
	}
	return 3 * time.Second
}

// SetPeer scripts the phone behind a dial string or an external number.
func (m *SimMedia) SetPeer(dial string, p Peer) {
	m.mu.Lock()
	m.peers[dial] = p
	m.mu.Unlock()
}

// PressDuring makes the caller press digit one second after a prompt of
// kind starts, once per digit given, in order.
func (m *SimMedia) PressDuring(kind MessageKind, digits ...string) {
	m.mu.Lock()
	m.presses[kind] = append(m.presses[kind], digits...)
	m.mu.Unlock()
}

// NewCaller creates an inbound caller's leg; Attach then gives it the sink
// the engine returned.
func (m *SimMedia) NewCaller() LegID {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	id := LegID(fmt.Sprintf("caller-%d", m.seq))
	m.legs[id] = &simLeg{id: id, playback: map[string]func() bool{}}
	return id
}

// Adopt routes a leg's events to sink, as a driver does after a restart;
// a leg that is gone (or never was) is told hung up.
func (m *SimMedia) Adopt(leg LegID, sink Sink) {
	m.mu.Lock()
	l, ok := m.legs[leg]
	if ok {
		l.sink = sink
	}
	m.mu.Unlock()
	if !ok || l.gone {
		sink.Post(Event{Kind: EvHangup, Leg: leg, Cause: CauseTemporaryFailure})
	}
}

// Ready: the simulated server is always there.
func (m *SimMedia) Ready(ctx context.Context) error { return nil }

// AdoptRecording says whether leg still records name; its end goes to
// the leg's sink, which Adopt set.
func (m *SimMedia) AdoptRecording(ctx context.Context, leg LegID, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.leg(leg)
	if err != nil {
		return false, err
	}
	return l.recording == name, nil
}

// Bridged lists the leg bridged with leg, if it is up, and routes its
// events to sink.
func (m *SimMedia) Bridged(ctx context.Context, leg LegID, sink Sink) ([]LegID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.leg(leg)
	if err != nil {
		return nil, err
	}
	other, ok := m.legs[l.bridge]
	if !ok || other.gone {
		return nil, nil
	}
	other.sink = sink
	return []LegID{other.id}, nil
}

// Attach routes a leg's events to sink.
func (m *SimMedia) Attach(leg LegID, sink Sink) {
	m.mu.Lock()
	m.legs[leg].sink = sink
	m.mu.Unlock()
}

// CallerPresses makes the caller press digit after d.
func (m *SimMedia) CallerPresses(leg LegID, d time.Duration, digit string) {
	m.later(leg, d, func(l *simLeg) { l.sink.Post(Event{Kind: EvDigit, Leg: leg, Digit: digit}) })
}

// CallerHangsUp makes the caller hang up after d.
func (m *SimMedia) CallerHangsUp(leg LegID, d time.Duration) {
	m.later(leg, d, func(l *simLeg) { m.gone(l, CauseNormal) })
}

// later runs f on leg after d, unless the leg is gone by then.
func (m *SimMedia) later(leg LegID, d time.Duration, f func(*simLeg)) {
	m.clock.AfterFunc(d, func() {
		m.mu.Lock()
		l, ok := m.legs[leg]
		if !ok || l.gone || l.sink == nil {
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
		f(l)
	})
}

// gone hangs a leg up from its far end: the leg's sink hears it, and a
// recording of it ends.
func (m *SimMedia) gone(l *simLeg, cause Cause) {
	m.mu.Lock()
	if l.gone {
		m.mu.Unlock()
		return
	}
	l.gone = true
	for _, stop := range l.stop {
		stop()
	}
	sink, rec, started := l.sink, l.recording, l.recStart
	l.recording = ""
	m.mu.Unlock()
	if sink == nil {
		return
	}
	if rec != "" {
		sink.Post(Event{Kind: EvRecordingDone, Leg: l.id, Recording: rec, Duration: m.clock.Now().Sub(started)})
	}
	sink.Post(Event{Kind: EvHangup, Leg: l.id, Cause: cause})
}

// post sends an event to a leg's sink, read when the event happens: an
// inbound leg gets its sink only once the engine took the call.
func (m *SimMedia) post(l *simLeg, e Event) {
	m.mu.Lock()
	sink, gone := l.sink, l.gone
	m.mu.Unlock()
	if sink != nil && (!gone || e.Kind == EvHangup || e.Kind == EvRecordingDone) {
		sink.Post(e)
	}
}

func (m *SimMedia) leg(id LegID) (*simLeg, error) {
	l, ok := m.legs[id]
	if !ok {
		return nil, fmt.Errorf("no leg %s", id)
	}
	if l.gone {
		return nil, ErrGone
	}
	return l, nil
}

func (m *SimMedia) Answer(ctx context.Context, id LegID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.leg(id)
	if err == nil {
		l.up = true
	}
	return err
}

func (m *SimMedia) Ring(ctx context.Context, id LegID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.leg(id)
	return err
}

func (m *SimMedia) Play(ctx context.Context, id LegID, p Prompt) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, err := m.leg(id)
	if err != nil {
		return "", err
	}
	m.seq++
	playback := fmt.Sprintf("pb-%d", m.seq)
	m.Played = append(m.Played, p)
	l.playback[playback] = m.clock.AfterFunc(m.PromptLength(p), func() {
		m.mu.Lock()
		delete(l.playback, playback)
		m.mu.Unlock()
		m.post(l, Event{Kind: EvPlaybackDone, Leg: id, Playback: playback})
	})
	if p.Message != nil {
		if digits := m.presses[p.Kind]; len(digits) > 0 {
			m.presses[p.Kind] = digits[1:]
			m.clock.AfterFunc(time.Second, func() { m.post(l, Event{Kind: EvDigit, Leg: id, Digit: digits[0]}) })
		}
	}
	return playback, nil
}

func (m *SimMedia) StopPlayback(ctx context.Context, playback string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.legs {
		if stop, ok := l.playback[playback]; ok {
			stop()
			delete(l.playback, playback)
			// As Asterisk does: a stopped playback still reports its end.
			m.clock.AfterFunc(0, func() { m.post(l, Event{Kind: EvPlaybackDone, Leg: l.id, Playback: playback}) })
		}
	}
	return nil
}

func (m *SimMedia) StartMusic(ctx context.Context, id LegID) error { return m.Ring(ctx, id) }
func (m *SimMedia) StopMusic(ctx context.Context, id LegID) error  { return m.Ring(ctx, id) }

func (m *SimMedia) Originate(ctx context.Context, d Dial, sink Sink) (LegID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dial := d.Endpoint
	if dial == "" {
		dial = d.External
	}
	if m.OnOriginate != nil {
		m.OnOriginate(d)
	}
	for _, other := range m.legs {
		if d.Endpoint != "" && other.dial == dial && !other.gone {
			m.Violations = append(m.Violations, fmt.Sprintf("%s rung while already on a call (%s)", dial, other.id))
		}
	}
	m.seq++
	id := LegID(fmt.Sprintf("leg-%d", m.seq))
	peer := m.peers[dial]
	l := &simLeg{id: id, sink: sink, dial: dial, peer: peer, caller: d.Originator, playback: map[string]func() bool{}}
	m.legs[id] = l
	at := func(after time.Duration, f func()) { l.stop = append(l.stop, m.clock.AfterFunc(after, f)) }
	switch {
	case peer.Unreachable:
		at(0, func() { m.gone(l, CauseUnreachable) })
		return id, nil
	case peer.Busy:
		at(0, func() { m.gone(l, CauseBusy) })
		return id, nil
	}
	at(0, func() { sink.Post(Event{Kind: EvRinging, Leg: id}) })
	switch {
	case peer.DeclineAfter > 0 && (peer.AnswerAfter == 0 || peer.DeclineAfter < peer.AnswerAfter):
		at(peer.DeclineAfter, func() { m.gone(l, CauseRejected) })
	case peer.AnswerAfter > 0 && (d.Timeout == 0 || peer.AnswerAfter < d.Timeout):
		at(peer.AnswerAfter, func() {
			m.mu.Lock()
			l.up = true
			m.mu.Unlock()
			sink.Post(Event{Kind: EvAnswered, Leg: id})
		})
		if peer.HangupAfter > 0 {
			at(peer.AnswerAfter+peer.HangupAfter, func() { m.gone(l, CauseNormal) })
		}
		return id, nil
	}
	if d.Timeout > 0 {
		at(d.Timeout, func() { m.gone(l, CauseNoAnswer) })
	}
	return id, nil
}

func (m *SimMedia) Bridge(ctx context.Context, a, b LegID) (BridgeID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	la, err := m.leg(a)
	if err != nil {
		return "", err
	}
	lb, err := m.leg(b)
	if err != nil {
		return "", err
	}
	for _, other := range m.legs {
		// A leg up is an agent the caller talked with (a transfer), not a phone still ringing.
		if other.caller == a && other != lb && !other.gone && !other.up {
			m.Violations = append(m.Violations, fmt.Sprintf("%s still rings for %s after %s answered", other.dial, a, lb.dial))
		}
	}
	la.bridge, lb.bridge = b, a
	return BridgeID("bridge-" + string(a)), nil
}

func (m *SimMedia) Record(ctx context.Context, t RecordTarget, name string, max time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := t.Leg
	if id == "" {
		b, ok := strings.CutPrefix(string(t.Bridge), "bridge-")
		if !ok {
			return fmt.Errorf("nothing to record")
		}
		id = LegID(b)
	}
	l, err := m.leg(id)
	if err != nil {
		return err
	}
	l.recording, l.recStart = name, m.clock.Now()
	if t.Leg != "" { // a voicemail stops at its limit
		l.stop = append(l.stop, m.clock.AfterFunc(max, func() {
			m.mu.Lock()
			recording := l.recording
			l.recording = ""
			m.mu.Unlock()
			if recording != "" {
				m.post(l, Event{Kind: EvRecordingDone, Leg: l.id, Recording: recording, Duration: max})
			}
		}))
	}
	return nil
}

func (m *SimMedia) Snoop(ctx context.Context, agent LegID, mode SnoopMode, supervisor Dial, sink Sink) (LegID, error) {
	m.mu.Lock()
	_, err := m.leg(agent)
	m.mu.Unlock()
	if err != nil {
		return "", err
	}
	return m.Originate(ctx, supervisor, sink)
}

func (m *SimMedia) Hangup(ctx context.Context, id LegID, cause Cause) error {
	m.mu.Lock()
	l, err := m.leg(id)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	m.gone(l, cause)
	return nil
}

// Decline sends a caller to the fallback, which hangs up: the leg is
// listed in Declined.
func (m *SimMedia) Decline(ctx context.Context, id LegID) error {
	m.mu.Lock()
	l, err := m.leg(id)
	if err == nil {
		m.Declined = append(m.Declined, id)
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	m.gone(l, CauseNormal)
	return nil
}

// Live lists the legs not hung up.
func (m *SimMedia) Live() []LegID {
	m.mu.Lock()
	defer m.mu.Unlock()
	var live []LegID
	for id, l := range m.legs {
		if !l.gone {
			live = append(live, id)
		}
	}
	return live
}
