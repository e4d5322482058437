package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/live"
	"github.com/switchboard/switchboard/store"
)

// withLive runs a live view on the test's database (polling every 20 ms)
// and gives it to the API; stop ends it.
func withLive(t *testing.T, stop *context.CancelFunc) func(*api.Deps) {
	return func(d *api.Deps) {
		hub := live.NewHub(live.HubConfig{Store: d.Store, Poll: 20 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); hub.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		select {
		case <-hub.Ready():
		case <-time.After(30 * time.Second):
			t.Fatal("the live view was not built")
		}
		d.Live = hub
		if stop != nil {
			*stop = cancel
		}
	}
}

// sse is one server-sent event as a client reads it.
type sse struct {
	ID, Event, Data string
	At              time.Time // when it was read
}

// stream is an open GET /v1/live.
type stream struct {
	t      *testing.T
	res    *http.Response
	events chan sse
	ended  chan struct{} // closed at the end of the body
}

func openStream(t *testing.T, url string, k key, header map[string]string) *stream {
	t.Helper()
	req, err := http.NewRequest("GET", url+"/v1/live", nil)
	require.NoError(t, err)
	req.SetBasicAuth(k.id, k.token)
	for name, v := range header {
		req.Header.Set(name, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	s := &stream{t: t, res: res, events: make(chan sse, 1000), ended: make(chan struct{})}
	t.Cleanup(func() { res.Body.Close() })
	go func() {
		defer close(s.ended)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch {
			case line == "":
				if ev.Data != "" {
					ev.At = time.Now()
					s.events <- ev
				}
				ev = sse{}
			case field == "id":
				ev.ID = value
			case field == "event":
				ev.Event = value
			case field == "data":
				ev.Data = value
			}
		}
	}()
	return s
}

// next waits for the next message.
func (s *stream) next() sse {
	s.t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-time.After(30 * time.Second):
		s.t.Fatal("no message")
	}
	return sse{}
}

// until waits for a message that want accepts, returning it and those
// before it.
func (s *stream) until(what string, want func(sse) bool) (sse, []sse) {
	s.t.Helper()
	var before []sse
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if want(ev) {
				return ev, before
			}
			before = append(before, ev)
		case <-deadline:
			s.t.Fatalf("no %s; had %v", what, before)
		}
	}
}

func callIs(id dialplan.CallID, state live.CallState) func(sse) bool {
	return func(ev sse) bool {
		if ev.Event != live.KindCall {
			return false
		}
		var c live.Call
		return json.Unmarshal([]byte(ev.Data), &c) == nil && c.ID == id && c.State == state
	}
}

// TestLiveStream: a supervisor's stream shows a call waiting, answered
// and ended, and the agent's status, each soon after its commit; back
// with the last id, it gets exactly what came after it.
func TestLiveStream(t *testing.T) {
	ctx := context.Background()
	var stop context.CancelFunc
	e := newEnvWith(t, withLive(t, &stop))
	admin := e.company("Acme", "owner@acme.test")
	supervisor := e.userKey(admin, "sup@acme.test", dialplan.RoleSupervisor, false)
	agent := e.userKey(admin, "agent@acme.test", dialplan.RoleAgent, false)
	company, err := e.store.Company(ctx, admin.company)
	require.NoError(t, err)
	line := dialplan.NewNumber()
	line.Name, line.Digits = "Support", "+33176390861"
	line.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: int64(agent.user), RingSeconds: 20}}
	require.NoError(t, line.Normalize(company))
	require.NoError(t, e.store.CreateNumber(ctx, admin.company, &line))

	s := openStream(t, e.url, supervisor, nil)
	first := s.next()
	require.Equal(t, live.KindSnapshot, first.Event)
	var snap live.Snapshot
	require.NoError(t, json.Unmarshal([]byte(first.Data), &snap))
	require.Equal(t, first.ID, snap.Cursor)
	require.Empty(t, snap.Calls)

	var delays []time.Duration
	commit := func(what string, write func(), want func(sse) bool) sse {
		t.Helper()
		write()
		committed := time.Now()
		ev, _ := s.until(what, want)
		delays = append(delays, ev.At.Sub(committed))
		return ev
	}
	require.NoError(t, e.store.Publish(ctx, admin.company, store.Event{Kind: events.UserConnected, User: agent.user}))
	started := time.Now()
	call := dialplan.Call{Company: admin.company, Number: line.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
		RawDigits: "+33612345678", StartedAt: started, Teams: []dialplan.TeamID{}, IVROptions: []string{}}
	save := func(kind events.Kind, user dialplan.UserID) func() {
		return func() {
			require.NoError(t, e.store.SaveCall(ctx, &call, []dialplan.TimelineEvent{{Event: kind, At: time.Now(), User: user}}, nil))
		}
	}
	waiting := commit("the call waiting", save(events.CallCreated, 0), func(ev sse) bool { return ev.Event == live.KindCall })
	var row live.Call
	require.NoError(t, json.Unmarshal([]byte(waiting.Data), &row))
	require.Equal(t, live.StateWaiting, row.State)
	require.Equal(t, "Support", row.NumberName)
	require.Equal(t, "+33612345678", row.RawDigits)
	mark := waiting.ID // the id ends the messages of one place in the stream (the summary follows the row)
	if mark == "" {
		end, _ := s.until("the end of the call's batch", func(ev sse) bool { return ev.ID != "" })
		mark = end.ID
	}

	answeredAt := time.Now()
	call.Status, call.User, call.AnsweredAt = dialplan.CallAnswered, agent.user, &answeredAt
	commit("the call in progress", save(events.CallAnswered, agent.user), callIs(call.ID, live.StateInProgress))
	s.until("the agent in a call", func(ev sse) bool {
		var a live.Agent
		return ev.Event == live.KindAgent && json.Unmarshal([]byte(ev.Data), &a) == nil && a.UserID == agent.user && a.Status == live.InCall
	})
	endedAt := time.Now()
	call.Status, call.EndedAt = dialplan.CallDone, &endedAt
	ended := commit("the call ended", save(events.CallEnded, 0), callIs(call.ID, live.StateEnded))
	require.NoError(t, json.Unmarshal([]byte(ended.Data), &row))
	require.Equal(t, "answered", row.Outcome)
	last, _ := s.until("the day's figures", func(ev sse) bool {
		var sum live.Summary
		return ev.Event == live.KindSummary && json.Unmarshal([]byte(ev.Data), &sum) == nil && sum.Company.Today.Answered == 1
	})
	require.NotEmpty(t, last.ID)
	t.Logf("delay from commit to message: %v (poll every 20 ms)", delays)

	// Everything after mark, as the first stream had it.
	var after []sse
	{
		all := []sse{}
		// Re-read the first stream's messages after mark: those awaited
		// above, in order, are in the server's memory; compare by asking
		// the server twice.
		again := openStream(t, e.url, supervisor, map[string]string{"Last-Event-ID": mark})
		for {
			ev := again.next()
			all = append(all, ev)
			if ev.ID == last.ID {
				break
			}
		}
		after = all
		again.res.Body.Close()
	}
	require.Equal(t, live.KindCall, after[0].Event, "no snapshot: the changes since")
	require.False(t, slices.ContainsFunc(after, func(ev sse) bool { return ev.Event == live.KindSnapshot }))
	require.False(t, slices.ContainsFunc(after, func(ev sse) bool { return ev.ID == mark }), "nothing up to mark")
	require.True(t, slices.ContainsFunc(after, callIs(call.ID, live.StateInProgress)))
	require.True(t, slices.ContainsFunc(after, callIs(call.ID, live.StateEnded)))
	twice := openStream(t, e.url, supervisor, map[string]string{"Last-Event-ID": mark})
	for i, want := range after {
		got := twice.next()
		want.At, got.At = time.Time{}, time.Time{}
		require.Equal(t, want.ID, got.ID, "message %d", i)
		require.Equal(t, want.Event, got.Event, "message %d", i)
	}

	// The view stopping ends the streams.
	stop()
	select {
	case <-s.ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the stream did not end with the live view")
	}
}

// TestLiveStreamOutlivesWriteTimeout: the server's WriteTimeout bounds a
// response, not a stream.
func TestLiveStreamOutlivesWriteTimeout(t *testing.T) {
	ctx := context.Background()
	e := newEnvWith(t, withLive(t, nil))
	admin := e.company("Acme", "owner@acme.test")
	srv := httptest.NewUnstartedServer(api.NewServer(e.deps))
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close) // after the stream's body is closed (cleanups run last first)
	s := openStream(t, srv.URL, admin, nil)
	require.Equal(t, live.KindSnapshot, s.next().Event)
	time.Sleep(time.Second) // past the WriteTimeout
	require.NoError(t, e.store.Publish(ctx, admin.company, store.Event{Kind: events.UserConnected, User: admin.user}))
	require.Equal(t, live.KindAgent, s.next().Event)
}

// TestLiveRefusals: roles, filters, a Last-Event-ID that is not ours,
// and no live view.
func TestLiveRefusals(t *testing.T) {
	e := newEnvWith(t, withLive(t, nil))
	admin := e.company("Acme", "owner@acme.test")
	agent := e.userKey(admin, "agent@acme.test", dialplan.RoleAgent, false)
	ownerAgent := e.userKey(admin, "owner-agent@acme.test", dialplan.RoleAgent, true)
	for _, tc := range []struct {
		name   string
		k      key
		path   string
		header map[string]string
		status int
		names  string // what the error names
	}{
		{"an agent", agent, "/v1/live", nil, http.StatusForbidden, ""},
		{"an agent's snapshot", agent, "/v1/live/snapshot", nil, http.StatusForbidden, ""},
		{"a bad Last-Event-ID", admin, "/v1/live", map[string]string{"Last-Event-ID": "12"}, http.StatusBadRequest, "Last-Event-ID"},
		{"a bad last_event_id", admin, "/v1/live?last_event_id=x-1", nil, http.StatusBadRequest, "last_event_id"},
		{"a bad number_id", admin, "/v1/live?number_id=1,x", nil, http.StatusUnprocessableEntity, "number_id"},
		{"a bad team_id", admin, "/v1/live/snapshot?team_id=0", nil, http.StatusUnprocessableEntity, "team_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := e.get(tc.k, "GET", tc.path, tc.header)
			require.Equal(t, tc.status, res.StatusCode, "%s", body)
			require.Contains(t, string(body), tc.names)
		})
	}
	var out struct{ Snapshot live.Snapshot }
	e.ok(ownerAgent, "GET", "/v1/live/snapshot?number_id=1&number_id=2", nil, &out)
	require.NotEmpty(t, out.Snapshot.Cursor, "an owner may, whatever their role")
	require.Len(t, out.Snapshot.Agents, 0, "the agents numbers that do not exist ring: none")

	none := newEnv(t)
	other := none.company("Globex", "owner@globex.test")
	status, body := none.do(other, "GET", "/v1/live", nil)
	require.Equal(t, http.StatusServiceUnavailable, status, "%v", body)
}
