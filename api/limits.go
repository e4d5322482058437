package api

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/prompts"
)

// Limits bound what one client may ask of the API, each over a minute of
// the clock (as Aircall's rate limit, whose headers the API sends). Zero
// is no limit.
type Limits struct {
	// PerKey is how many requests one API key may make a minute.
	PerKey int
	// PerAddress is how many requests one client address may make a
	// minute to /v1, with a key or without.
	PerAddress int
	// FailedAuth is how many requests with wrong credentials one address
	// may make a minute; past it, all of its requests to /v1 are refused
	// until the minute ends (guessing keys costs a minute per try batch).
	FailedAuth int
}

// maxTracked bounds the clients a window counts: past it, new ones go
// uncounted for the rest of the minute rather than fill the memory.
const maxTracked = 100_000

// window counts requests by client in the current minute.
type window struct {
	mu     sync.Mutex
	minute time.Time
	counts map[string]int
}

// add counts one request of client at now, and says how many it made this
// minute (this one included; 0 when it could not be counted) and when the
// minute ends.
func (w *window) add(client string, now time.Time) (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.turn(now)
	n, ok := w.counts[client]
	if !ok && len(w.counts) >= maxTracked {
		return 0, w.minute.Add(time.Minute)
	}
	w.counts[client] = n + 1
	return n + 1, w.minute.Add(time.Minute)
}

// count says how many requests client made this minute.
func (w *window) count(client string, now time.Time) (int, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.turn(now)
	return w.counts[client], w.minute.Add(time.Minute)
}

func (w *window) turn(now time.Time) {
	if minute := now.Truncate(time.Minute); !minute.Equal(w.minute) || w.counts == nil {
		w.minute, w.counts = minute, map[string]int{}
	}
}

// limiter holds the windows of the server's Limits.
type limiter struct {
	Limits
	now                     func() time.Time
	keys, addresses, failed window
}

// maxRequestBody bounds every request's body, whatever the route: the
// largest a route reads is a media upload.
const maxRequestBody = prompts.MaxUploadBytes + 1<<20

// limitBodies caps every request's body: a route that does not read its
// body never reads a flood either, and one that does stops at the cap.
func limitBodies(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxRequestBody)
	c.Next()
}

// tooMany answers 429: the client waits until the minute ends.
func tooMany(c *gin.Context, reset, now time.Time, troubleshoot string) {
	wait := int(reset.Sub(now).Seconds() + 0.999)
	c.Header("Retry-After", strconv.Itoa(max(wait, 1)))
	abort(c, http.StatusTooManyRequests, "too many requests", fmt.Sprintf("%s; retry in %d s", troubleshoot, max(wait, 1)))
}

// byAddress refuses a client address past its requests or its failed
// authentications of the minute; the first middleware of /v1.
func (l *limiter) byAddress(c *gin.Context) {
	now, addr := l.now(), c.ClientIP()
	if l.FailedAuth > 0 {
		if n, reset := l.failed.count(addr, now); n >= l.FailedAuth {
			tooMany(c, reset, now, fmt.Sprintf("%d requests from %s had wrong credentials this minute", n, addr))
			return
		}
	}
	if l.PerAddress > 0 {
		if n, reset := l.addresses.add(addr, now); n > l.PerAddress {
			tooMany(c, reset, now, fmt.Sprintf("%s made more than %d requests this minute", addr, l.PerAddress))
			return
		}
	}
	c.Next()
}

// failedAuth counts a request with wrong credentials.
func (l *limiter) failedAuth(c *gin.Context) {
	if l.FailedAuth > 0 {
		l.failed.add(c.ClientIP(), l.now())
	}
}

// byKey refuses a key past its requests of the minute, and tells every
// answer where the key stands, in Aircall's headers.
func (l *limiter) byKey(c *gin.Context, apiID string) bool {
	if l.PerKey <= 0 {
		return true
	}
	now := l.now()
	n, reset := l.keys.add(apiID, now)
	h := c.Writer.Header()
	h.Set("X-AircallApi-Limit", strconv.Itoa(l.PerKey))
	h.Set("X-AircallApi-Remaining", strconv.Itoa(max(l.PerKey-n, 0)))
	h.Set("X-AircallApi-Reset", strconv.FormatInt(reset.Unix(), 10))
	if n > l.PerKey {
		tooMany(c, reset, now, fmt.Sprintf("this API key made more than %d requests this minute", l.PerKey))
		return false
	}
	return true
}
