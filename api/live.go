package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/live"
)

// LiveBoard is the live view (a live.Hub) as the API serves it.
type LiveBoard interface {
	Subscribe(ctx context.Context, company dialplan.CompanyID, f live.Filter, after *events.Cursor) (*live.Subscription, error)
	Snapshot(company dialplan.CompanyID, f live.Filter) (live.Snapshot, error)
}

// How the stream keeps its connection: a comment every liveHeartbeat (so
// that proxies and clients see it alive, and a client whose filter shows
// nothing gets the stream's place); every write must go out within
// liveWriteTimeout, or the client is cut (it reconnects where it was).
const (
	liveHeartbeat    = 15 * time.Second
	liveWriteTimeout = 30 * time.Second
	liveRetry        = time.Second // what clients are told to wait before reconnecting
)

var errNoLive = &apiError{http.StatusServiceUnavailable, "live view unavailable",
	"the live view is not running on this server"}

// liveFilter reads number_id and team_id (repeated, or comma-separated)
// once the live view is known to run; false: the answer is sent.
func (s *server) liveFilter(c *gin.Context) (live.Filter, bool) {
	var f live.Filter
	if s.Live == nil {
		s.fail(c, errNoLive)
		return f, false
	}
	err := queryIDs(c, "number_id", &f.Numbers)
	if err == nil {
		err = queryIDs(c, "team_id", &f.Teams)
	}
	if err != nil {
		s.fail(c, err)
		return f, false
	}
	return f, true
}

// lastEventID reads where a client comes back from: the Last-Event-ID
// header (what EventSource sends when it reconnects), else the
// last_event_id parameter (for a client that keeps it itself). nil: a
// new client.
func lastEventID(c *gin.Context) (*events.Cursor, error) {
	raw, name := c.GetHeader("Last-Event-ID"), "Last-Event-ID"
	if raw == "" {
		raw, name = c.Query("last_event_id"), "last_event_id"
	}
	if raw == "" {
		return nil, nil
	}
	cur, err := events.ParseCursor(raw)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "invalid " + name,
			fmt.Sprintf("%s %q is not an id this stream sent: send back an `id` as received, or none", name, truncate(raw, 64))}
	}
	return &cur, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// liveUnavailable maps the hub's refusals.
func liveUnavailable(c *gin.Context, err error) error {
	if errors.Is(err, live.ErrNotReady) || errors.Is(err, live.ErrStopped) {
		c.Header("Retry-After", "1")
		return &apiError{http.StatusServiceUnavailable, "live view starting", "the live view is being built; try again in a second"}
	}
	return err
}

// getLiveSnapshot answers the board once.
func (s *server) getLiveSnapshot(c *gin.Context) {
	f, ok := s.liveFilter(c)
	if !ok {
		return
	}
	snap, err := s.Live.Snapshot(principal(c).Company, f)
	if err != nil {
		s.fail(c, liveUnavailable(c, err))
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"snapshot": snap})
}

// streamLive streams the board as server-sent events: a snapshot first
// (or, back with a Last-Event-ID, what changed since), then every change,
// each message's id the stream's place after it.
func (s *server) streamLive(c *gin.Context) {
	f, ok := s.liveFilter(c)
	if !ok {
		return
	}
	after, err := lastEventID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	sub, err := s.Live.Subscribe(ctx, principal(c).Company, f, after)
	if err != nil {
		s.fail(c, liveUnavailable(c, err))
		return
	}
	defer sub.Close()

	// The server's WriteTimeout bounds a whole response: a stream gets a
	// deadline per write instead.
	rc := http.NewResponseController(c.Writer)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not hold the stream back
	c.Status(http.StatusOK)

	var (
		buf  bytes.Buffer
		sent events.Cursor // the last id the client has
	)
	flush := func() error {
		if err := rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		if _, err := c.Writer.Write(buf.Bytes()); err != nil {
			return err
		}
		buf.Reset()
		return rc.Flush()
	}
	// A batch's messages share its place: the id goes on its last one, so
	// that a client cut in the middle gets the whole batch again.
	write := func(b live.Batch) error {
		for i, m := range b.Messages {
			data, err := encodeObject(m.Data)
			if err != nil {
				return err
			}
			fmt.Fprintf(&buf, "event: %s\n", m.Kind)
			if i == len(b.Messages)-1 {
				fmt.Fprintf(&buf, "id: %s\n", b.Cursor)
				sent = b.Cursor
			}
			buf.WriteString("data: ")
			buf.Write(data)
			buf.WriteString("\n\n")
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(&buf, "retry: %d\n\n", liveRetry.Milliseconds())
	if err := flush(); err != nil {
		return
	}
	for _, b := range sub.Backlog {
		if err := write(b); err != nil {
			return
		}
	}
	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return // the client left
		case <-sub.Done():
			return // the server stops, or the client fell behind: it reconnects
		case b := <-sub.C():
			if err := write(b); err != nil {
				return
			}
		case <-heartbeat.C:
			buf.WriteString(": heartbeat\n")
			if cur, idle := sub.Idle(); idle && sent.Less(cur) {
				fmt.Fprintf(&buf, "id: %s\n", cur) // nothing of it to show, but seen
				sent = cur
			}
			buf.WriteString("\n")
			if err := flush(); err != nil {
				return
			}
		}
	}
}
