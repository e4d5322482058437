package live

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// The world of the board's tests: one company in Paris (service level
// 20 s) with three agents, two teams and two numbers.
const (
	acme    dialplan.CompanyID = 1
	alice   dialplan.UserID    = 10
	bob     dialplan.UserID    = 11
	carol   dialplan.UserID    = 12
	support dialplan.TeamID    = 5 // alice, bob
	sales   dialplan.TeamID    = 6 // carol
	main    dialplan.NumberID  = 100
	direct  dialplan.NumberID  = 101 // rings carol; its own service level, 60 s
)

// t0 is a Monday, 10:00 in Paris.
var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func testDirectory() store.LiveDirectory {
	user := func(id dialplan.UserID, first string) dialplan.User {
		return dialplan.User{ID: id, FirstName: first, LastName: "Test"}
	}
	mainLine := dialplan.Number{ID: main, Name: "Main", Distribution: []dialplan.Step{{Type: dialplan.StepTeam, ID: int64(support)}}}
	directLine := dialplan.Number{ID: direct, Name: "Direct", SLASeconds: 60,
		IVROptions: []dialplan.IVROption{{Key: "1", Target: dialplan.Target{Type: dialplan.TargetUser, ID: int64(carol)}}}}
	return store.LiveDirectory{
		Companies: []store.LiveCompany{{ID: acme, TimeZone: "Europe/Paris", SLASeconds: 20}},
		Users:     map[dialplan.CompanyID][]dialplan.User{acme: {user(alice, "Alice"), user(bob, "Bob"), user(carol, "Carol")}},
		Teams: map[dialplan.CompanyID][]dialplan.Team{acme: {
			{ID: support, Name: "Support", Users: []dialplan.UserID{alice, bob}},
			{ID: sales, Name: "Sales", Users: []dialplan.UserID{carol}}}},
		Numbers: map[dialplan.CompanyID][]dialplan.Number{acme: {mainLine, directLine}},
	}
}

// script writes events of the company, each a second after the last
// unless told.
type script struct {
	t     *testing.T
	b     *Board
	at    time.Time
	id    int64
	calls map[dialplan.CallID]*store.LiveCall
	msgs  []Message
	ended []Ended
}

func newScript(t *testing.T) *script {
	b := NewBoard()
	b.SetDirectory(testDirectory(), t0)
	b.Load(store.LiveStart{}, t0)
	return &script{t: t, b: b, at: t0, calls: map[dialplan.CallID]*store.LiveCall{}}
}

// step is one event of a script.
type step struct {
	after time.Duration // since the previous event; a second when 0
	kind  events.Kind
	call  dialplan.CallID
	user  dialplan.UserID
	data  any
	// for call.created: the call
	dir    dialplan.Direction
	number dialplan.NumberID
	teams  []dialplan.TeamID // the call's teams from this event on
	reason dialplan.MissedReason
}

func (s *script) run(steps ...step) {
	for _, st := range steps {
		if st.after == 0 {
			st.after = time.Second
		}
		s.at = s.at.Add(st.after)
		s.id++
		ev := store.LiveEvent{Cursor: events.Cursor{XID: uint64(s.id), ID: s.id}, Company: acme, Kind: st.kind,
			At: s.at, CallID: st.call, User: st.user, Data: st.data}
		if st.call != 0 {
			c := s.calls[st.call]
			if c == nil {
				dir := st.dir
				if dir == "" {
					dir = dialplan.Inbound
				}
				c = &store.LiveCall{Number: st.number, Direction: dir, RawDigits: "+33612345678", StartedAt: s.at,
					Teams: []dialplan.TeamID{}}
				s.calls[st.call] = c
			}
			if st.teams != nil {
				c.Teams = st.teams
			}
			if st.reason != "" {
				c.MissedReason = st.reason
			}
			copied := *c
			ev.Call = &copied
		}
		msgs, e := s.b.Apply(ev, s.at)
		s.msgs = append(s.msgs, msgs...)
		if e != nil {
			s.ended = append(s.ended, *e)
		}
	}
}

// take returns the messages since the last take.
func (s *script) take() []Message {
	m := s.msgs
	s.msgs = nil
	return m
}

func (s *script) agent(u dialplan.UserID) Agent {
	s.t.Helper()
	for _, a := range s.b.Snapshot(acme, Filter{}, s.at).Agents {
		if a.UserID == u {
			return a
		}
	}
	s.t.Fatalf("no agent %d", u)
	return Agent{}
}

// online makes the three agents registered and open.
func (s *script) online() {
	for _, u := range []dialplan.UserID{alice, bob, carol} {
		s.run(step{kind: events.UserConnected, user: u}, step{kind: events.UserOpened, user: u})
	}
	s.take()
}

func user(kind events.Kind, u dialplan.UserID) step { return step{kind: kind, user: u} }

// TestAgentStatus: every transition and the order of precedence (in a
// call, after-call work, offline, do not disturb, available), and when
// the status was entered.
func TestAgentStatus(t *testing.T) {
	const call = dialplan.CallID(7)
	created := step{kind: events.CallCreated, call: call, number: main, teams: []dialplan.TeamID{support}}
	answered := step{kind: events.CallAnswered, call: call, user: alice}
	ended := step{kind: events.CallEnded, call: call}
	for _, tc := range []struct {
		name  string
		steps []step
		want  Status
		since int // the step (from 1) that made it so; 0: never said
	}{
		{"nothing said", nil, Offline, 0},
		{"phone registered", []step{user(events.UserConnected, alice)}, Available, 1},
		{"closed", []step{user(events.UserConnected, alice), user(events.UserClosed, alice)}, DoNotDisturb, 2},
		{"opened again", []step{user(events.UserConnected, alice), user(events.UserClosed, alice), user(events.UserOpened, alice)}, Available, 3},
		{"offline beats do not disturb", []step{user(events.UserConnected, alice), user(events.UserClosed, alice),
			user(events.UserDisconnected, alice)}, Offline, 3},
		{"closed while offline", []step{user(events.UserDisconnected, alice), user(events.UserClosed, alice)}, Offline, 1},
		{"after-call work", []step{user(events.UserConnected, alice), user(events.UserWutStart, alice)}, AfterCallWork, 2},
		{"after-call work over", []step{user(events.UserConnected, alice), user(events.UserWutStart, alice),
			user(events.UserWutEnd, alice)}, Available, 3},
		{"after-call work beats offline", []step{user(events.UserWutStart, alice)}, AfterCallWork, 1},
		{"in a call", []step{user(events.UserConnected, alice), created, answered}, InCall, 3},
		{"in a call with no phone (a mobile)", []step{created, answered}, InCall, 2},
		{"in a call beats after-call work", []step{user(events.UserConnected, alice), user(events.UserWutStart, alice),
			created, answered}, InCall, 4},
		{"call over, after-call work", []step{user(events.UserConnected, alice), created, answered, ended,
			user(events.UserWutStart, alice)}, AfterCallWork, 5},
		{"call over, no wrap-up", []step{user(events.UserConnected, alice), created, answered, ended}, Available, 4},
		{"rung is not in a call", []step{user(events.UserConnected, alice), created,
			{kind: events.CallRingingOnAgent, call: call, user: alice}}, Available, 1},
		{"transferred to bob", []step{user(events.UserConnected, alice), created, answered,
			{kind: events.CallTransferred, call: call, user: alice, data: events.Transferred{Type: "user", ID: int64(bob)}},
			{kind: events.CallAnswered, call: call, user: bob}}, Available, 5},
		{"transferred to a number", []step{user(events.UserConnected, alice), created, answered,
			{kind: events.CallTransferred, call: call, user: alice, data: events.Transferred{Type: "number", ID: int64(direct)}}},
			Available, 4},
		{"answered by an external number", []step{user(events.UserConnected, alice), created,
			{kind: events.CallAnswered, call: call, data: events.Answered{Digits: "+33699999999"}}}, Available, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			s.run(tc.steps...)
			a := s.agent(alice)
			require.Equal(t, tc.want, a.Status)
			if tc.since == 0 {
				require.Nil(t, a.Since)
				return
			}
			require.NotNil(t, a.Since)
			require.Equal(t, t0.Add(time.Duration(tc.since)*time.Second), *a.Since)
			require.Equal(t, int(s.at.Sub(*a.Since)/time.Second), a.StatusSeconds)
			if a.Status == InCall {
				require.Equal(t, call, a.CallID)
			}
		})
	}
}

// TestAgentRows: a row goes out when the agent's row changes, not for
// events that change nothing; after-call work says when it ends.
func TestAgentRows(t *testing.T) {
	s := newScript(t)
	s.run(user(events.UserConnected, alice))
	require.Equal(t, []Message{{Kind: KindAgent, Company: acme, Data: Agent{UserID: alice, Name: "Alice Test",
		Status: Available, Since: ptr(t0.Add(time.Second)), Teams: []dialplan.TeamID{support}}}}, s.take())
	s.run(user(events.UserOpened, alice)) // open already (no state said: open)
	require.Empty(t, s.take(), "nothing changed")
	s.run(step{kind: events.UserWutStart, user: alice, data: events.WrapUp{Seconds: 30}})
	msgs := s.take()
	require.Len(t, msgs, 1)
	row := msgs[0].Data.(Agent)
	require.Equal(t, AfterCallWork, row.Status)
	require.Equal(t, s.at.Add(30*time.Second), *row.WrapUpUntil)

	s.run(step{kind: events.UserDeleted, user: alice, data: events.Snapshot{}})
	msgs = s.take()
	require.Len(t, msgs, 1)
	require.True(t, msgs[0].Data.(Agent).Removed)
	require.True(t, s.b.TakeReload(), "a user deleted: names to read again")
	require.NotContains(t, agentIDs(s.b.Snapshot(acme, Filter{}, s.at).Agents), alice)
}

func agentIDs(as []Agent) []dialplan.UserID {
	var out []dialplan.UserID
	for _, a := range as {
		out = append(out, a.UserID)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// callStates is the state of each call row sent, in order.
func callStates(msgs []Message) []string {
	var out []string
	for _, m := range msgs {
		if c, ok := m.Data.(Call); ok {
			s := string(c.State)
			if c.Outcome != "" {
				s += ":" + c.Outcome
			}
			out = append(out, s)
		}
	}
	return out
}

// TestCallStates: what each call's life shows, and what the observer
// hears when it ends.
func TestCallStates(t *testing.T) {
	const c = dialplan.CallID(42)
	created := step{kind: events.CallCreated, call: c, number: main, data: events.Created{To: "+33176390861"}}
	ring := func(u dialplan.UserID) step { return step{kind: events.CallRingingOnAgent, call: c, user: u} }
	ended := step{kind: events.CallEnded, call: c}
	for _, tc := range []struct {
		name  string
		steps []step
		rows  []string // the states of the rows sent
		ended *Ended   // Company and Number filled in
	}{
		{"answered", []step{created, ring(alice), {kind: events.CallAnswered, call: c, user: alice, after: 4 * time.Second}, ended},
			[]string{"waiting", "waiting", "in_progress", "ended:answered"},
			&Ended{Direction: "inbound", Outcome: "answered", Wait: 5 * time.Second, Answer: 4 * time.Second}},
		{"missed", []step{created, ring(alice), {kind: events.CallAgentNoAnswer, call: c, user: alice, data: events.AgentOutcome{Cause: 19}},
			{kind: events.CallQueued, call: c}, ended},
			[]string{"waiting", "waiting", "waiting", "waiting", "ended:missed"},
			&Ended{Direction: "inbound", Outcome: "missed", Wait: 4 * time.Second}},
		{"voicemail: leaves when the message is left", []step{created, {kind: events.CallVoicemailLeft, call: c,
			data: events.VoicemailLeft{Name: "vm", Seconds: 5}, after: 20 * time.Second}, ended},
			[]string{"waiting", "ended:voicemail"},
			&Ended{Direction: "inbound", Outcome: "voicemail", Wait: 21 * time.Second}},
		{"blocked: leaves, and is not heard of", []step{created, {kind: events.CallBlocked, call: c},
			{kind: events.CallEnded, call: c, reason: dialplan.BlockedCaller}},
			[]string{"waiting", "ended:blocked"}, nil},
		{"closed line", []step{created, {kind: events.CallOutOfOpeningHours, call: c}, ended},
			[]string{"waiting", "ended:closed"}, &Ended{Direction: "inbound", Outcome: "missed", Wait: 2 * time.Second}},
		{"callback: leaves, then in progress when called back", []step{created, {kind: events.CallQueued, call: c},
			{kind: events.CallCallbackRequested, call: c}, ring(bob), {kind: events.CallCalledBack, call: c, user: bob},
			{kind: events.CallAnswered, call: c, user: bob}, ended},
			[]string{"waiting", "waiting", "ended:callback", "in_progress", "ended:answered"},
			&Ended{Direction: "inbound", Outcome: "answered", Wait: 5 * time.Second, Answer: 2 * time.Second}},
		{"transferred to a number: waits again", []step{created, {kind: events.CallAnswered, call: c, user: alice},
			{kind: events.CallTransferred, call: c, user: alice, data: events.Transferred{Type: "number", ID: int64(direct)}},
			ring(carol), {kind: events.CallAnswered, call: c, user: carol}, ended},
			[]string{"waiting", "in_progress", "waiting", "waiting", "in_progress", "ended:answered"},
			&Ended{Direction: "inbound", Outcome: "answered", Wait: time.Second}},
		{"forwarded to an external number", []step{created, {kind: events.CallTransferred, call: c,
			data: events.Transferred{Type: "external", Digits: "+33699999999"}},
			{kind: events.CallAnswered, call: c, data: events.Answered{Digits: "+33699999999"}}, ended},
			[]string{"waiting", "in_progress", "ended:answered"},
			&Ended{Direction: "inbound", Outcome: "answered", Wait: 2 * time.Second}},
		{"held and back", []step{created, {kind: events.CallAnswered, call: c, user: alice}, {kind: events.CallHold, call: c, user: alice},
			{kind: events.CallUnhold, call: c, user: alice}, {kind: events.CallTagged, call: c, user: alice, data: events.Tagged{Tags: []int64{1}}}, ended},
			[]string{"waiting", "in_progress", "in_progress", "in_progress", "ended:answered"},
			&Ended{Direction: "inbound", Outcome: "answered", Wait: time.Second}},
		{"outbound: shows once answered", []step{{kind: events.CallCreated, call: c, user: alice, dir: dialplan.Outbound,
			number: main}, {kind: events.CallAnswered, call: c, user: alice, after: 9 * time.Second}, ended},
			[]string{"in_progress", "ended:answered"},
			&Ended{Direction: "outbound", Outcome: "answered", Wait: 9 * time.Second}},
		{"outbound not answered: never shows", []step{{kind: events.CallCreated, call: c, user: alice, dir: dialplan.Outbound,
			number: main}, ended}, nil, &Ended{Direction: "outbound", Outcome: "not_answered", Wait: time.Second}},
		{"outbound refused", []step{{kind: events.CallCreated, call: c, user: alice, dir: dialplan.Outbound, number: main},
			{kind: events.CallOutboundRefused, call: c, user: alice, data: events.Refused{Digits: "+1900", Reason: "premium_rate"}}, ended},
			nil, &Ended{Direction: "outbound", Outcome: "refused", Wait: 2 * time.Second}},
		{"events of a call the board never saw", []step{{kind: events.CallTagged, call: 99, user: alice,
			data: events.Tagged{Tags: []int64{1}}}}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScript(t)
			s.online()
			s.run(tc.steps...)
			require.Equal(t, tc.rows, callStates(s.take()))
			if tc.ended == nil {
				require.Empty(t, s.ended)
				return
			}
			want := *tc.ended
			want.Company, want.Number = acme, main
			require.Equal(t, []Ended{want}, s.ended)
			require.Empty(t, s.b.Snapshot(acme, Filter{}, s.at).Calls, "an ended call leaves the board")
		})
	}
}

// TestCallRow: a waiting and an in-progress call as the rows show them.
func TestCallRow(t *testing.T) {
	s := newScript(t)
	s.online()
	start := s.at.Add(time.Second)
	s.run(step{kind: events.CallCreated, call: 1, number: main},
		step{kind: events.CallQueued, call: 1, teams: []dialplan.TeamID{support}},
		step{kind: events.CallRingingOnAgent, call: 1, user: bob, after: 10 * time.Second})
	msgs := s.take()
	require.Equal(t, Call{ID: 1, State: StateWaiting, Direction: dialplan.Inbound, NumberID: main, NumberName: "Main",
		TeamID: support, TeamName: "Support", Teams: []dialplan.TeamID{support}, RawDigits: "+33612345678",
		StartedAt: start, WaitingSince: &start, WaitSeconds: 11, Queued: true, Ringing: []dialplan.UserID{bob}},
		msgs[len(msgs)-1].Data)
	s.run(step{kind: events.CallAnswered, call: 1, user: bob, after: 3 * time.Second})
	answered := s.at
	msgs = s.take()
	require.Equal(t, Call{ID: 1, State: StateInProgress, Direction: dialplan.Inbound, NumberID: main, NumberName: "Main",
		TeamID: support, TeamName: "Support", Teams: []dialplan.TeamID{support}, RawDigits: "+33612345678",
		StartedAt: start, WaitSeconds: 14, Queued: true, Ringing: []dialplan.UserID{}, UserID: bob, UserName: "Bob Test",
		AnsweredAt: &answered}, msgs[0].Data)
	require.Equal(t, KindAgent, msgs[1].Kind, "bob is in a call")

	snap := s.b.Snapshot(acme, Filter{}, answered.Add(65*time.Second))
	require.Len(t, snap.Calls, 1)
	require.Equal(t, 65, snap.Calls[0].DurationSeconds)
}

// TestDayFigures: the day's inbound calls and service level, per
// company, number and team, and a new day.
func TestDayFigures(t *testing.T) {
	s := newScript(t)
	s.online()
	answer := func(c dialplan.CallID, n dialplan.NumberID, team dialplan.TeamID, after time.Duration) []step {
		return []step{{kind: events.CallCreated, call: c, number: n, teams: []dialplan.TeamID{team}},
			{kind: events.CallAnswered, call: c, user: alice, after: after}, {kind: events.CallEnded, call: c}}
	}
	s.run(answer(1, main, support, 20*time.Second)...)           // within 20 s
	s.run(answer(2, main, support, 21*time.Second)...)           // late
	s.run(answer(3, direct, sales, 45*time.Second)...)           // within direct's own 60 s
	s.run(step{kind: events.CallCreated, call: 4, number: main}, // missed, with a message
		step{kind: events.CallVoicemailLeft, call: 4, data: events.VoicemailLeft{Name: "vm", Seconds: 3}},
		step{kind: events.CallEnded, call: 4, reason: dialplan.AgentsDidNotAnswer})
	s.run(step{kind: events.CallCreated, call: 5, number: main}, // a short abandon: not offered
		step{kind: events.CallEnded, call: 5, reason: dialplan.ShortAbandoned})
	s.run(step{kind: events.CallCreated, call: 6, number: main}, // closed: not offered
		step{kind: events.CallOutOfOpeningHours, call: 6}, step{kind: events.CallEnded, call: 6, reason: dialplan.OutOfOpeningHours})
	s.run(step{kind: events.CallCreated, call: 7, number: main}, // blocked: left out
		step{kind: events.CallBlocked, call: 7}, step{kind: events.CallEnded, call: 7, reason: dialplan.BlockedCaller})
	s.run(step{kind: events.CallCreated, call: 8, number: main})                         // still waiting: not decided
	s.run(step{kind: events.CallCreated, call: 9, dir: dialplan.Outbound, number: main}, // outbound: not counted
		step{kind: events.CallAnswered, call: 9, user: bob}, step{kind: events.CallEnded, call: 9})

	sum := s.b.summary(s.b.companies[acme], s.at)
	sl := func(v float64) *float64 { return &v }
	require.Equal(t, Today{Date: "2026-11-23", Inbound: 6, Offered: 4, Answered: 3, AnsweredWithinSLA: 2, Missed: 3,
		Voicemail: 1, ServiceLevel: sl(50)}, sum.Company.Today)
	require.Equal(t, 1, sum.Company.Waiting)
	byNumber := map[dialplan.NumberID]NumberTotals{}
	for _, n := range sum.Numbers {
		byNumber[n.NumberID] = n
	}
	require.Equal(t, Today{Date: "2026-11-23", Inbound: 5, Offered: 3, Answered: 2, AnsweredWithinSLA: 1, Missed: 3,
		Voicemail: 1, ServiceLevel: sl(33.3)}, byNumber[main].Today)
	require.Equal(t, 1, byNumber[main].Waiting)
	require.Equal(t, 60, byNumber[direct].SLASeconds)
	require.Equal(t, Today{Date: "2026-11-23", Inbound: 1, Offered: 1, Answered: 1, AnsweredWithinSLA: 1,
		ServiceLevel: sl(100)}, byNumber[direct].Today)
	require.Equal(t, Today{Date: "2026-11-23", Inbound: 2, Offered: 2, Answered: 2, AnsweredWithinSLA: 1,
		ServiceLevel: sl(50)}, sum.Teams[0].Today, "support")

	// Midnight in Paris: a new day; a call of yesterday decided today is
	// not today's.
	midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, s.b.location(acme))
	s.at = midnight.Add(-time.Second)
	s.b.Tick(midnight)
	s.run(step{kind: events.CallEnded, call: 8})
	sum = s.b.summary(s.b.companies[acme], s.at)
	require.Equal(t, Today{Date: "2026-11-24"}, sum.Company.Today)
	s.run(step{kind: events.CallCreated, call: 10, number: main}, step{kind: events.CallEnded, call: 10})
	require.Equal(t, 1, s.b.summary(s.b.companies[acme], s.at).Company.Today.Missed)
}

// TestLoad: the starting state (agents' last states, the calls in
// progress replayed, the day's counts from the store) and the events
// after it counted once.
func TestLoad(t *testing.T) {
	b := NewBoard()
	b.SetDirectory(testDirectory(), t0)
	call := func(id dialplan.CallID, kind events.Kind, user dialplan.UserID, at time.Time) store.LiveEvent {
		return store.LiveEvent{Company: acme, Kind: kind, At: at, CallID: id, User: user,
			Call: &store.LiveCall{Number: main, Direction: dialplan.Inbound, StartedAt: t0.Add(-time.Minute), Teams: []dialplan.TeamID{support}}}
	}
	start := store.LiveStart{
		States: []store.LastState{
			{User: alice, Kind: events.UserConnected, At: t0.Add(-time.Hour)},
			{User: alice, Kind: events.UserOpened, At: t0.Add(-2 * time.Hour)},
			{User: bob, Kind: events.UserConnected, At: t0.Add(-time.Hour)},
			{User: bob, Kind: events.UserClosed, At: t0.Add(-30 * time.Minute)},
			{User: carol, Kind: events.UserWutStart, At: t0.Add(-10 * time.Second)},
			{Number: main, Kind: events.NumberOpened, At: t0.Add(-time.Hour)},
		},
		Unfinished: []store.LiveEvent{
			call(1, events.CallCreated, 0, t0.Add(-time.Minute)),
			call(1, events.CallAnswered, alice, t0.Add(-50*time.Second)),
			call(2, events.CallCreated, 0, t0.Add(-time.Minute)),
			call(2, events.CallQueued, 0, t0.Add(-55*time.Second)),
		},
		ByNumber: []store.DayCount{{Company: acme, Number: main, Inbound: 3, Offered: 3, Answered: 3, WithinSLA: 3}},
		ByTeam:   []store.DayCount{{Company: acme, Team: support, Inbound: 3, Offered: 3, Answered: 3, WithinSLA: 3}},
	}
	b.Load(start, t0)
	snap := b.Snapshot(acme, Filter{}, t0)
	status := map[dialplan.UserID]Status{}
	since := map[dialplan.UserID]time.Time{}
	for _, a := range snap.Agents {
		status[a.UserID], since[a.UserID] = a.Status, *a.Since
	}
	require.Equal(t, map[dialplan.UserID]Status{alice: InCall, bob: DoNotDisturb, carol: AfterCallWork}, status)
	require.Equal(t, t0.Add(-50*time.Second), since[alice])
	require.Equal(t, t0.Add(-30*time.Minute), since[bob])
	require.Equal(t, []CallState{StateInProgress, StateWaiting}, []CallState{snap.Calls[0].State, snap.Calls[1].State})
	require.Equal(t, 3, snap.Summary.Company.Today.Answered)

	// The answered call ends: counted already. The waiting one is
	// answered: counted now.
	msgs, e := b.Apply(call(1, events.CallEnded, 0, t0.Add(time.Second)), t0.Add(time.Second))
	require.NotNil(t, e)
	require.Equal(t, []string{"ended:answered"}, callStates(msgs))
	b.Apply(call(2, events.CallAnswered, bob, t0.Add(2*time.Second)), t0.Add(2*time.Second))
	today := b.summary(b.companies[acme], t0).Company.Today
	require.Equal(t, 4, today.Answered)
	require.Equal(t, 3, today.AnsweredWithinSLA, "a minute's wait is late")
}

// TestFilters: what a filter keeps of calls, agents and summaries.
func TestFilters(t *testing.T) {
	s := newScript(t)
	s.online()
	s.run(step{kind: events.CallCreated, call: 1, number: main, teams: []dialplan.TeamID{support}},
		step{kind: events.CallCreated, call: 2, number: direct, teams: []dialplan.TeamID{sales}},
		step{kind: events.CallCreated, call: 3, number: main})
	for _, tc := range []struct {
		name    string
		f       Filter
		calls   []dialplan.CallID
		agents  []dialplan.UserID
		numbers []dialplan.NumberID
		teams   []dialplan.TeamID
	}{
		{"none", Filter{}, []dialplan.CallID{1, 2, 3}, []dialplan.UserID{alice, bob, carol},
			[]dialplan.NumberID{main, direct}, []dialplan.TeamID{support, sales}},
		{"a number: its calls, the agents it rings", Filter{Numbers: []dialplan.NumberID{main}},
			[]dialplan.CallID{1, 3}, []dialplan.UserID{alice, bob}, []dialplan.NumberID{main}, []dialplan.TeamID{support, sales}},
		{"an IVR's targets are rung", Filter{Numbers: []dialplan.NumberID{direct}},
			[]dialplan.CallID{2}, []dialplan.UserID{carol}, []dialplan.NumberID{direct}, []dialplan.TeamID{support, sales}},
		{"a team: the calls it was rung for, its members", Filter{Teams: []dialplan.TeamID{sales}},
			[]dialplan.CallID{2}, []dialplan.UserID{carol}, []dialplan.NumberID{main, direct}, []dialplan.TeamID{sales}},
		{"two teams", Filter{Teams: []dialplan.TeamID{sales, support}},
			[]dialplan.CallID{1, 2}, []dialplan.UserID{alice, bob, carol}, []dialplan.NumberID{main, direct}, []dialplan.TeamID{support, sales}},
		{"both must match", Filter{Numbers: []dialplan.NumberID{main}, Teams: []dialplan.TeamID{sales}},
			nil, nil, []dialplan.NumberID{main}, []dialplan.TeamID{sales}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := s.b.Snapshot(acme, tc.f, s.at)
			var calls []dialplan.CallID
			for _, c := range snap.Calls {
				calls = append(calls, c.ID)
			}
			require.Equal(t, tc.calls, calls)
			require.Equal(t, tc.agents, agentIDs(snap.Agents))
			var numbers []dialplan.NumberID
			for _, n := range snap.Summary.Numbers {
				numbers = append(numbers, n.NumberID)
			}
			require.Equal(t, tc.numbers, numbers)
			var teams []dialplan.TeamID
			for _, tt := range snap.Summary.Teams {
				teams = append(teams, tt.TeamID)
			}
			require.ElementsMatch(t, tc.teams, teams)
			require.Equal(t, 3, snap.Summary.Company.Waiting, "the company's figures whatever the filter")

			// Messages are kept as the snapshot keeps rows.
			for _, c := range s.b.Snapshot(acme, Filter{}, s.at).Calls {
				_, kept := s.b.Keep(tc.f, Message{Kind: KindCall, Company: acme, Data: c})
				require.Equal(t, containsID(calls, c.ID), kept, "call %d", c.ID)
			}
		})
	}
}

func containsID(ids []dialplan.CallID, id dialplan.CallID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// TestFigures: every number and status is there, 0 included; calls
// without a number count under number 0.
func TestFigures(t *testing.T) {
	s := newScript(t)
	s.online()
	s.run(step{kind: events.CallCreated, call: 1, number: main},
		step{kind: events.CallCreated, call: 2, number: main, after: 10 * time.Second},
		step{kind: events.CallCreated, call: 3}, // no number
		step{kind: events.CallAnswered, call: 2, user: bob})
	f := s.b.Figures(s.at)
	require.Equal(t, []NumberCount{{acme, 0, 1}, {acme, main, 1}, {acme, direct, 0}}, f.Waiting)
	require.Equal(t, []NumberCount{{acme, 0, 0}, {acme, main, 1}, {acme, direct, 0}}, f.InProgress)
	require.Equal(t, []NumberWait{{acme, 0, time.Second}, {acme, main, 12 * time.Second}, {acme, direct, 0}}, f.LongestWait)
	require.Equal(t, []StatusCount{{acme, InCall, 1}, {acme, AfterCallWork, 0}, {acme, Offline, 0},
		{acme, DoNotDisturb, 0}, {acme, Available, 2}}, f.Agents)
}

// TestDirectoryChanges: a reload names new users, removes deleted ones,
// and a summary follows.
func TestDirectoryChanges(t *testing.T) {
	s := newScript(t)
	s.online()
	dir := testDirectory()
	dir.Users[acme] = []dialplan.User{{ID: alice, FirstName: "Alicia", LastName: "Test"}, {ID: bob, FirstName: "Bob", LastName: "Test"},
		{ID: 13, FirstName: "Dan"}}
	msgs := s.b.SetDirectory(dir, s.at)
	got := map[dialplan.UserID]Agent{}
	for _, m := range msgs {
		a := m.Data.(Agent)
		got[a.UserID] = a
	}
	require.Equal(t, "Alicia Test", got[alice].Name)
	require.Equal(t, Offline, got[13].Status, "a new user: offline until the stream says")
	require.True(t, got[carol].Removed)
	require.NotContains(t, got, bob, "unchanged")
	require.Len(t, s.b.Summaries(s.at), 1)
	require.Empty(t, s.b.Summaries(s.at), "once")
}
