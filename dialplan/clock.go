package dialplan

import (
	"sync"
	"time"
)

// Clock is the engine's time. The real one is the wall clock; a simulated
// one (dialplantest, dry runs) jumps from event to event, and learns from
// Busy and Idle when every call is waiting, so that it may jump.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed; stop cancels it and says
	// whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
	// Busy says one more goroutine of the engine is working; Idle that one
	// stopped (waits or ended).
	Busy()
	Idle()
}

// WallClock is the real time.
type WallClock struct{}

func (WallClock) Now() time.Time { return time.Now() }
func (WallClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
func (WallClock) Busy() {}
func (WallClock) Idle() {}

// inbox is a call's queue of events: media events, timers and queue offers
// all land here, and the call's goroutine takes them one at a time, so a
// call's code is sequential whatever the media server does.
type inbox struct {
	clock   Clock
	mu      sync.Mutex
	events  []Event
	waiting bool
	wake    chan struct{}
	closed  bool
}

func newInbox(clock Clock) *inbox {
	return &inbox{clock: clock, wake: make(chan struct{}, 1)}
}

// Post queues an event; it never blocks. Posts after close are dropped.
func (in *inbox) Post(e Event) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.events = append(in.events, e)
	wake := in.waiting
	in.waiting = false
	if wake {
		// Counted busy by the poster, before the sleeper runs, so that a
		// simulated clock never sees everybody idle in between.
		in.clock.Busy()
	}
	in.mu.Unlock()
	if wake {
		in.wake <- struct{}{}
	}
}

// next waits for the next event. done ends the wait (the engine is
// stopping); then ok is false.
func (in *inbox) next(done <-chan struct{}) (Event, bool) {
	for {
		in.mu.Lock()
		if len(in.events) > 0 {
			e := in.events[0]
			in.events[0] = Event{}
			in.events = in.events[1:]
			in.mu.Unlock()
			return e, true
		}
		in.waiting = true
		in.clock.Idle()
		in.mu.Unlock()
		select {
		case <-in.wake:
		case <-done:
			in.mu.Lock()
			if !in.waiting { // a Post counted us busy and is waking us
				in.mu.Unlock()
				<-in.wake
			} else {
				in.waiting = false
				in.clock.Busy()
				in.mu.Unlock()
			}
			return Event{}, false
		}
	}
}

func (in *inbox) close() {
	in.mu.Lock()
	in.closed = true
	in.events = nil
	in.mu.Unlock()
}
