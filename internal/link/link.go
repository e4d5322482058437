// Package link keeps a media server's event link up: the reconnect loop
// the Asterisk and the FreeSWITCH drivers share, whatever their protocol.
package link

import (
	"context"
	"time"
)

// Session is one connection's life: it connects, follows events and
// returns when the link drops or ctx ends. up says whether it got as far
// as following events: the next drop then starts the backoff over.
type Session func(ctx context.Context) (up bool, err error)

// The wait before reconnecting: FirstRetry, doubling after each failed
// attempt up to MaxRetry. A second at most: calls are refused while the
// link is down, so it must come back within a second or two of the media
// server (one connection attempt a second is nothing to a server).
const (
	FirstRetry = 100 * time.Millisecond
	MaxRetry   = time.Second
)

// Keep runs session until ctx ends, again after each drop. down is told
// why the link dropped and how long until the next attempt.
func Keep(ctx context.Context, session Session, down func(err error, retry time.Duration)) {
	retry := FirstRetry
	for {
		up, err := session(ctx)
		if ctx.Err() != nil {
			return
		}
		if up {
			retry = FirstRetry
		}
		down(err, retry)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
		retry = min(retry*2, MaxRetry)
	}
}
