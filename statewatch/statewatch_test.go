package statewatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/statewatch"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// stream is what the stream says of users and numbers, in order.
func stream(t *testing.T, st *store.Store) []store.Event {
	t.Helper()
	var rows []struct {
		Kind   events.Kind `db:"event"`
		User   *int64      `db:"user_id"`
		Number *int64      `db:"number_id"`
	}
	require.NoError(t, st.DB().Select(&rows, `SELECT event, user_id, number_id FROM events
		WHERE call_id IS NULL AND event NOT IN ('user.created', 'number.created') ORDER BY id`))
	var out []store.Event
	for _, r := range rows {
		e := store.Event{Kind: r.Kind}
		if r.User != nil {
			e.User = dialplan.UserID(*r.User)
		}
		if r.Number != nil {
			e.Number = dialplan.NumberID(*r.Number)
		}
		out = append(out, e)
	}
	return out
}

// TestStates: a line opening and closing with its hours, an agent's
// working hours, phone and after-call work, each told once; a watcher
// started again tells nothing the stream already says.
func TestStates(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	company := dialplan.Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	owner := dialplan.User{FirstName: "Owner", Email: "owner@acme.test", Role: dialplan.RoleAdmin, Owner: true,
		AvailabilityStatus: dialplan.Unavailable}
	require.NoError(t, company.Normalize())
	require.NoError(t, owner.Normalize(company))
	_, err := st.Bootstrap(ctx, &company, &owner)
	require.NoError(t, err)

	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	line := dialplan.NewNumber()
	line.Name, line.Digits, line.AvailabilityStatus = "Support", "+33176390861", dialplan.CustomHours
	line.BusinessHours = dialplan.BusinessHours{Slots: dialplan.WeeklyHours{{Days: weekdays, From: "09:00", To: "18:00"}}}
	require.NoError(t, line.Normalize(company))
	require.NoError(t, st.CreateNumber(ctx, company.ID, &line))
	alice := dialplan.User{FirstName: "Alice", Email: "alice@acme.test", Role: dialplan.RoleAgent, Devices: []string{"PJSIP/alice"},
		AvailabilityStatus: dialplan.Custom, WorkingHours: dialplan.WeeklyHours{{Days: weekdays, From: "08:30", To: "17:00"}},
		WrapUpTime: 30}
	require.NoError(t, alice.Normalize(company))
	require.NoError(t, st.CreateUser(ctx, company.ID, &alice))

	// Monday 23 November 2026, 08:00 in Paris.
	clock := dialplan.NewSimClock(time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC))
	acd := dialplan.NewACD(clock)
	w := statewatch.New(statewatch.Config{Store: st, ACD: acd, Clock: clock})
	u, n := alice.ID, line.ID
	require.NoError(t, w.Load(ctx))
	w.Check(ctx)
	// First sightings: each state told once (after-call work only when in it).
	require.ElementsMatch(t, []store.Event{
		{Kind: events.NumberClosed, Number: n},
		{Kind: events.UserClosed, User: u}, {Kind: events.UserConnected, User: u},
		{Kind: events.UserClosed, User: owner.ID}, {Kind: events.UserDisconnected, User: owner.ID},
	}, stream(t, st))
	told := len(stream(t, st))

	check := func(at time.Time, want ...store.Event) {
		t.Helper()
		clock.Advance(at.Sub(clock.Now()))
		w.Check(ctx)
		got := stream(t, st)
		require.Equal(t, len(want), len(got)-told, "at %s: %v", at, got[told:])
		if len(want) > 0 {
			require.Equal(t, want, got[told:], "at %s", at)
		}
		told = len(got)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	check(time.Date(2026, 11, 23, 8, 29, 59, 0, paris))
	check(time.Date(2026, 11, 23, 8, 30, 0, 0, paris), store.Event{Kind: events.UserOpened, User: u})
	check(time.Date(2026, 11, 23, 9, 0, 0, 0, paris), store.Event{Kind: events.NumberOpened, Number: n})
	check(time.Date(2026, 11, 23, 9, 0, 1, 0, paris))

	// A call, then 30 s of after-call work; her phone unregisters.
	acd.Talk(u, 1)
	check(clock.Now().Add(time.Second))
	acd.Hangup(alice, 1, 30*time.Second, false)
	check(clock.Now(), store.Event{Kind: events.UserWutStart, User: u})
	acd.SetPresence("PJSIP/alice", false)
	check(clock.Now().Add(30*time.Second), store.Event{Kind: events.UserWutEnd, User: u},
		store.Event{Kind: events.UserDisconnected, User: u})
	check(time.Date(2026, 11, 23, 17, 0, 0, 0, paris), store.Event{Kind: events.UserClosed, User: u})
	check(time.Date(2026, 11, 23, 18, 0, 0, 0, paris), store.Event{Kind: events.NumberClosed, Number: n})

	// Started again (a restart): the stream already says all this.
	w = statewatch.New(statewatch.Config{Store: st, ACD: acd, Clock: clock})
	require.NoError(t, w.Load(ctx))
	w.Check(ctx)
	require.Len(t, stream(t, st), told, "nothing told twice")
	// The next turn is told.
	check(time.Date(2026, 11, 24, 9, 0, 0, 0, paris), store.Event{Kind: events.NumberOpened, Number: n},
		store.Event{Kind: events.UserOpened, User: u})
}
