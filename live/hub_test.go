package live_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/live"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var _ live.Store = (*store.Store)(nil)

// world is a company on a real database: users, a team, a number.
type world struct {
	st      *store.Store
	company dialplan.Company
	users   []dialplan.User
	team    dialplan.Team
	number  dialplan.Number
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{st: store.New(storetest.New(t))}
	w.company = dialplan.Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	owner := dialplan.User{FirstName: "Owner", Email: "owner@acme.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(t, w.company.Normalize())
	require.NoError(t, owner.Normalize(w.company))
	_, err := w.st.Bootstrap(ctx, &w.company, &owner)
	require.NoError(t, err)
	w.users = append(w.users, owner)
	for i := range 4 {
		u := dialplan.User{FirstName: fmt.Sprintf("Agent%d", i), Email: fmt.Sprintf("agent%d@acme.test", i), Role: dialplan.RoleAgent}
		require.NoError(t, u.Normalize(w.company))
		require.NoError(t, w.st.CreateUser(ctx, w.company.ID, &u))
		w.users = append(w.users, u)
	}
	w.team = dialplan.Team{Name: "Support", Users: []dialplan.UserID{w.users[1].ID, w.users[2].ID}}
	require.NoError(t, w.team.Normalize())
	require.NoError(t, w.st.CreateTeam(ctx, w.company.ID, &w.team))
	w.number = dialplan.NewNumber()
	w.number.Name, w.number.Digits = "Main", "+33176390861"
	w.number.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: int64(w.team.ID), RingSeconds: 20}}
	require.NoError(t, w.number.Normalize(w.company))
	require.NoError(t, w.st.CreateNumber(ctx, w.company.ID, &w.number))
	return w
}

// noon is the hubs' clock: what counts as today does not turn during a
// test.
var noon = time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)

func startHub(t *testing.T, st *store.Store, cfg live.HubConfig) *live.Hub {
	t.Helper()
	cfg.Store = st
	cfg.Now = func() time.Time { return noon }
	if cfg.Poll == 0 {
		cfg.Poll = 10 * time.Millisecond
	}
	h := live.NewHub(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-h.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the hub was not built")
	}
	return h
}

// call is a scripted call written as the engine writes it.
type call struct {
	w   *world
	rec dialplan.Call
}

func (w *world) newCall(t *testing.T, at time.Time) *call {
	t.Helper()
	c := &call{w: w, rec: dialplan.Call{Company: w.company.ID, Number: w.number.ID, Direction: dialplan.Inbound,
		Status: dialplan.CallInitial, RawDigits: "+33612345678", StartedAt: at, Teams: []dialplan.TeamID{w.team.ID},
		IVROptions: []string{}}}
	c.save(t, events.CallCreated, 0, at, events.Created{To: w.number.Digits})
	return c
}

func (c *call) save(t *testing.T, kind events.Kind, user dialplan.UserID, at time.Time, data any) {
	t.Helper()
	require.NoError(t, c.w.st.SaveCall(context.Background(), &c.rec,
		[]dialplan.TimelineEvent{{Event: kind, At: at, User: user, Data: data}}, nil))
}

func (c *call) answer(t *testing.T, u dialplan.UserID, at time.Time) {
	c.rec.Status, c.rec.User, c.rec.AnsweredAt = dialplan.CallAnswered, u, &at
	c.save(t, events.CallAnswered, u, at, nil)
}

func (c *call) end(t *testing.T, at time.Time) {
	c.rec.Status, c.rec.EndedAt = dialplan.CallDone, &at
	if c.rec.AnsweredAt == nil {
		c.rec.MissedReason = dialplan.AgentsDidNotAnswer
	}
	c.save(t, events.CallEnded, 0, at, nil)
}

// lastCursor is the stream's last position.
func lastCursor(t *testing.T, st *store.Store) events.Cursor {
	t.Helper()
	var c struct {
		XID string `db:"xid"`
		ID  int64  `db:"id"`
	}
	require.NoError(t, st.DB().Get(&c, "SELECT xid::text AS xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1"))
	cur, err := events.ParseCursor(c.XID + "-" + fmt.Sprint(c.ID))
	require.NoError(t, err)
	return cur
}

// caughtUp waits until the hub has read the stream to its end.
func caughtUp(t *testing.T, h *live.Hub, st *store.Store) {
	t.Helper()
	end := lastCursor(t, st)
	deadline := time.Now().Add(30 * time.Second)
	for h.Cursor().Less(end) {
		require.True(t, time.Now().Before(deadline), "the hub is at %s, the stream at %s", h.Cursor(), end)
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor waits for a condition, with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "waiting for %s", what)
		time.Sleep(5 * time.Millisecond)
	}
}

type observer struct {
	mu    sync.Mutex
	ended []live.Ended
}

func (o *observer) CallEnded(e live.Ended) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = append(o.ended, e)
}

func (o *observer) all() []live.Ended {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]live.Ended(nil), o.ended...)
}

func (o *observer) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.ended)
}

// comparable is what two boards of the same stream must agree on (when
// an agent entered their status depends on what each saw happen).
func comparable(s live.Snapshot) live.Snapshot {
	s.Cursor = ""
	for i := range s.Agents {
		s.Agents[i].Since, s.Agents[i].StatusSeconds = nil, 0
	}
	return s
}

// TestHubStartsWhileCallsGoOn: a hub built while calls and agents' states
// are being written applies every later event once: once the writers
// stop, its board is the board a hub built afterwards reads from the
// database, the day's figures included, and the observer heard every call
// that ended after the start.
func TestHubStartsWhileCallsGoOn(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	agents := []dialplan.UserID{w.users[1].ID, w.users[2].ID, w.users[3].ID, w.users[4].ID}

	var (
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			at := noon.Add(-time.Hour)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				at = at.Add(time.Second)
				c := w.newCall(t, at)
				if r.IntN(3) > 0 {
					c.answer(t, agents[r.IntN(len(agents))], at.Add(time.Duration(r.IntN(40))*time.Second))
				}
				if r.IntN(4) > 0 {
					c.end(t, at.Add(time.Minute))
				}
				u := agents[r.IntN(len(agents))]
				kind := []events.Kind{events.UserConnected, events.UserDisconnected, events.UserOpened, events.UserClosed}[r.IntN(4)]
				require.NoError(t, w.st.Publish(ctx, w.company.ID, store.Event{Kind: kind, User: u}))
			}
		}()
	}
	// Let the writers get going, then build the hub among them.
	for lastCursor(t, w.st).ID < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	obs := &observer{}
	first := startHub(t, w.st, live.HubConfig{Observer: obs})
	for enough := (events.Cursor{XID: first.StartSnapshot().Xmax + 200}); lastCursor(t, w.st).Less(enough); {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	caughtUp(t, first, w.st)

	second := startHub(t, w.st, live.HubConfig{})
	a, err := first.Snapshot(w.company.ID, live.Filter{})
	require.NoError(t, err)
	b, err := second.Snapshot(w.company.ID, live.Filter{})
	require.NoError(t, err)
	require.NotEmpty(t, b.Calls)
	require.NotZero(t, b.Summary.Company.Today.Inbound)
	require.Equal(t, comparable(b), comparable(a))
	require.Equal(t, second.Figures(), first.Figures())

	// Every call that ended after the first hub's start was heard, once:
	// those whose call.ended its starting snapshot did not see.
	var xids []string
	require.NoError(t, w.st.DB().Select(&xids, "SELECT xid::text FROM events WHERE event = 'call.ended'"))
	start, heard := first.StartSnapshot(), 0
	for _, x := range xids {
		xid, err := strconv.ParseUint(x, 10, 64)
		require.NoError(t, err)
		if !start.Sees(xid) {
			heard++
		}
	}
	require.NotZero(t, heard, "calls ended after the start")
	require.Less(t, heard, len(xids), "and before")
	require.Equal(t, heard, obs.count())
}

// TestHubFeed: a subscriber hears a call wait, be answered and end, and
// the agent's status follow; one back with a cursor hears exactly what
// came after it, from memory or, from further back, the calls that ended
// and a snapshot.
func TestHubFeed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	obs := &observer{}
	h := startHub(t, w.st, live.HubConfig{Observer: obs, Keep: 1000, Reload: time.Hour})
	alice := w.users[1].ID

	sub, err := h.Subscribe(ctx, w.company.ID, live.Filter{}, nil)
	require.NoError(t, err)
	defer sub.Close()
	require.Len(t, sub.Backlog, 1)
	snap := sub.Backlog[0].Messages[0].Data.(live.Snapshot)
	require.Empty(t, snap.Calls)
	require.Len(t, snap.Agents, 5)

	var (
		got     []live.Batch
		pending []live.Message // of the batches taken, those not looked at yet
	)
	next := func(what string, want func(live.Message) bool) live.Message {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			for len(pending) > 0 {
				m := pending[0]
				pending = pending[1:]
				if want(m) {
					return m
				}
			}
			select {
			case b := <-sub.C():
				got = append(got, b)
				pending = append(pending, b.Messages...)
			case <-deadline:
				t.Fatalf("no %s", what)
			}
		}
	}
	callIn := func(state live.CallState) func(live.Message) bool {
		return func(m live.Message) bool { c, ok := m.Data.(live.Call); return ok && c.State == state }
	}
	agentIs := func(s live.Status) func(live.Message) bool {
		return func(m live.Message) bool {
			a, ok := m.Data.(live.Agent)
			return ok && a.UserID == alice && a.Status == s
		}
	}

	require.NoError(t, w.st.Publish(ctx, w.company.ID, store.Event{Kind: events.UserConnected, User: alice}))
	next("alice available", agentIs(live.Available))
	c := w.newCall(t, noon)
	row := next("call waiting", callIn(live.StateWaiting)).Data.(live.Call)
	require.Equal(t, c.rec.ID, row.ID)
	require.Equal(t, "Support", row.TeamName)
	// A client's Last-Event-ID: the batch that showed the call.
	mark, seen := got[len(got)-1].Cursor, len(got)
	pending = nil

	c.answer(t, alice, noon.Add(5*time.Second))
	next("call in progress", callIn(live.StateInProgress))
	next("alice in a call", agentIs(live.InCall))
	c.end(t, noon.Add(time.Minute))
	ended := next("call ended", callIn(live.StateEnded)).Data.(live.Call)
	require.Equal(t, "answered", ended.Outcome)
	next("alice available again", agentIs(live.Available))
	next("a call answered today", func(m live.Message) bool { s, ok := m.Data.(live.Summary); return ok && s.Company.Today.Answered == 1 })
	// The observer is told once the subscribers are.
	waitFor(t, "the observer told", func() bool { return obs.count() > 0 })
	require.Equal(t, []live.Ended{{Company: w.company.ID, Number: w.number.ID, Direction: "inbound", Outcome: "answered",
		Wait: 5 * time.Second}}, obs.all())
	caughtUp(t, h, w.st)
	for len(sub.C()) > 0 {
		got = append(got, <-sub.C())
	}

	// Back from mark: exactly the batches after it.
	again, err := h.Subscribe(ctx, w.company.ID, live.Filter{}, &mark)
	require.NoError(t, err)
	defer again.Close()
	require.Equal(t, got[seen:], again.Backlog)

	// From before the hub's memory: the call that ended, then a snapshot.
	small := startHub(t, w.st, live.HubConfig{Keep: 1})
	old := events.Cursor{}
	back, err := small.Subscribe(ctx, w.company.ID, live.Filter{}, &old)
	require.NoError(t, err)
	defer back.Close()
	require.Len(t, back.Backlog, 1)
	msgs := back.Backlog[0].Messages
	require.Equal(t, live.KindCall, msgs[0].Kind)
	require.Equal(t, live.Call{ID: c.rec.ID, State: live.StateEnded, Direction: dialplan.Inbound, NumberID: w.number.ID,
		NumberName: "Main", TeamID: w.team.ID, TeamName: "Support", Teams: []dialplan.TeamID{w.team.ID},
		RawDigits: "+33612345678", StartedAt: noon, Ringing: []dialplan.UserID{}, UserID: alice, UserName: "Agent0",
		AnsweredAt: ptr(noon.Add(5 * time.Second)), EndedAt: ptr(noon.Add(time.Minute)), WaitSeconds: 5,
		DurationSeconds: 55, Outcome: "answered"}, msgs[0].Data)
	require.Equal(t, live.KindSnapshot, msgs[len(msgs)-1].Kind)
	require.Equal(t, small.Cursor(), back.Backlog[0].Cursor)
}

func ptr[T any](v T) *T { return &v }

// TestHubDropsASlowSubscriber: one that takes nothing is dropped, and
// the others go on.
func TestHubDropsASlowSubscriber(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	h := startHub(t, w.st, live.HubConfig{Buffer: 2})
	slow, err := h.Subscribe(ctx, w.company.ID, live.Filter{}, nil)
	require.NoError(t, err)
	other, err := h.Subscribe(ctx, w.company.ID+1, live.Filter{}, nil) // another company's: nothing for it
	require.NoError(t, err)
	for i := range 5 {
		w.newCall(t, noon.Add(time.Duration(i)*time.Second))
		caughtUp(t, h, w.st)
	}
	select {
	case <-slow.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the slow subscriber was not dropped")
	}
	require.ErrorIs(t, slow.Err(), live.ErrSlow)
	require.NoError(t, other.Err())
	cur, idle := other.Idle()
	require.True(t, idle)
	require.Equal(t, h.Cursor(), cur, "what it was not sent, it has seen")
}
