package web

import (
	"sync"
	"time"
)

// signInLimits count failed sign-ins (and reset requests) by address and
// by email over the minute of the clock, as the API counts failed keys:
// past max, the address or the email is refused until the minute ends.
// Counting emails too stops a guesser that spreads over many addresses.
type signInLimits struct {
	max int
	now func() time.Time

	mu     sync.Mutex
	minute time.Time
	counts map[string]int
}

// maxTracked bounds what a minute counts: past it, new clients go
// uncounted rather than fill the memory.
const maxTracked = 100_000

func (l *signInLimits) turn(now time.Time) {
	if m := now.Truncate(time.Minute); !m.Equal(l.minute) || l.counts == nil {
		l.minute, l.counts = m, map[string]int{}
	}
}

// refused says whether any of keys is past the limit, and how long until
// the minute ends.
func (l *signInLimits) refused(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.turn(now)
	for _, k := range keys {
		if l.counts[k] >= l.max {
			return true, l.minute.Add(time.Minute).Sub(now)
		}
	}
	return false, 0
}

// failed counts a failure against each of keys.
func (l *signInLimits) failed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.turn(l.now())
	for _, k := range keys {
		if _, ok := l.counts[k]; ok || len(l.counts) < maxTracked {
			l.counts[k]++
		}
	}
}
