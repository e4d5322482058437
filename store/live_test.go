package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// writeInTx starts a transaction that writes a user event and stays
// open: the caller commits it.
func writeInTx(t *testing.T, db *sqlx.DB, company dialplan.CompanyID, user dialplan.UserID, kind events.Kind) *sqlx.Tx {
	t.Helper()
	tx, err := db.Beginx()
	require.NoError(t, err)
	t.Cleanup(func() { tx.Rollback() })
	_, err = tx.Exec(`INSERT INTO events (company_id, user_id, event, at) VALUES ($1, $2, $3, now())`, company, user, kind)
	require.NoError(t, err)
	return tx
}

// readAll reads the settled stream after c to its end.
func readAll(t *testing.T, st *store.Store, c events.Cursor) ([]store.LiveEvent, events.Cursor) {
	t.Helper()
	var out []store.LiveEvent
	for {
		evs, err := st.StreamAfter(context.Background(), c, 2)
		require.NoError(t, err)
		if len(evs) == 0 {
			return out, c
		}
		out = append(out, evs...)
		c = evs[len(evs)-1].Cursor
	}
}

// readN reads the settled stream after c until it has n events: a
// transaction of another test on the same server may hold the stream
// back a moment (snapshots span databases).
func readN(t *testing.T, st *store.Store, c events.Cursor, n int) []store.LiveEvent {
	t.Helper()
	var out []store.LiveEvent
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < n {
		evs, c2 := readAll(t, st, c)
		out, c = append(out, evs...), c2
		if len(out) < n {
			require.True(t, time.Now().Before(deadline), "only %d events of %d: %v", len(out), n, kinds(out))
			time.Sleep(10 * time.Millisecond)
		}
	}
	return out
}

func kinds(evs []store.LiveEvent) []events.Kind {
	var out []events.Kind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// TestStreamCursor: a transaction that took the lower id but commits
// last is not skipped, as a reader of ids alone would skip it: nothing
// after it is read while it runs, and then it is read first.
func TestStreamCursor(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	db, st, acme, owner := w.db, w.st, w.acme, w.owner
	_, c := readAll(t, st, events.Cursor{})

	first := writeInTx(t, db, acme.ID, owner.ID, events.UserOpened) // the lower id
	second := writeInTx(t, db, acme.ID, owner.ID, events.UserClosed)
	require.NoError(t, second.Commit())
	var ids []int64
	require.NoError(t, db.Select(&ids, "SELECT id FROM events WHERE event IN ('user.opened', 'user.closed') ORDER BY id"))
	require.Len(t, ids, 1, "only the second is committed")

	got, c2 := readAll(t, st, c)
	require.Empty(t, got, "the second waits for the first, older transaction")
	require.Equal(t, c, c2)
	held, err := st.StreamHeld(ctx)
	require.NoError(t, err)
	require.False(t, held.IsZero(), "an event is held back")

	require.NoError(t, first.Commit())
	got = readN(t, st, c, 2)
	require.Equal(t, []events.Kind{events.UserOpened, events.UserClosed}, kinds(got))
	require.Less(t, got[0].Cursor.ID, got[1].Cursor.ID)
	require.True(t, got[0].Cursor.Less(got[1].Cursor))

	// Transaction order wins over id order: one that began first and
	// wrote its event last still comes first.
	early, err := db.Beginx()
	require.NoError(t, err)
	defer early.Rollback()
	_, err = early.Exec("SELECT pg_current_xact_id()") // it has its transaction id now
	require.NoError(t, err)
	require.NoError(t, st.Publish(ctx, acme.ID, store.Event{Kind: events.UserWutStart, User: owner.ID, Data: events.WrapUp{Seconds: 5}}))
	_, err = early.Exec(`INSERT INTO events (company_id, user_id, event, at) VALUES ($1, $2, 'user.wut_end', now())`, acme.ID, owner.ID)
	require.NoError(t, err)
	require.NoError(t, early.Commit())
	got = readN(t, st, got[1].Cursor, 2)
	require.Equal(t, []events.Kind{events.UserWutEnd, events.UserWutStart}, kinds(got))
	require.Greater(t, got[0].Cursor.ID, got[1].Cursor.ID)
	require.Equal(t, events.WrapUp{Seconds: 5}, got[1].Data)
}

// TestStreamOfCalls: SaveCall's events carry the stream's position, and
// are read with their call.
func TestStreamOfCalls(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	_, c := readAll(t, w.st, events.Cursor{})
	call := dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
		RawDigits: "+33612345678", StartedAt: w.t0, Teams: []dialplan.TeamID{w.support.ID}, IVROptions: []string{}}
	require.NoError(t, w.st.SaveCall(ctx, &call, []dialplan.TimelineEvent{
		{Event: events.CallCreated, At: w.t0, Data: events.Created{To: "+33176390861"}},
		{Event: events.CallQueued, At: w.t0.Add(time.Second)},
	}, nil))
	got := readN(t, w.st, c, 2)
	require.Equal(t, []events.Kind{events.CallCreated, events.CallQueued}, kinds(got))
	require.Equal(t, got[0].Cursor.XID, got[1].Cursor.XID, "one statement, one transaction")
	require.Equal(t, call.ID, got[0].CallID)
	require.Equal(t, &store.LiveCall{Number: w.main.ID, Direction: dialplan.Inbound, RawDigits: "+33612345678",
		StartedAt: w.t0.Truncate(time.Microsecond), Teams: []dialplan.TeamID{w.support.ID}}, got[0].Call)
	require.Equal(t, events.Created{To: "+33176390861"}, got[0].Data)

	touched, err := w.st.StreamTouched(ctx, w.acme.ID, c, got[1].Cursor, 10)
	require.NoError(t, err)
	require.Equal(t, store.StreamTouched{Events: 2, Calls: map[dialplan.CallID]bool{call.ID: false}}, touched)
	_, err = w.st.StreamTouched(ctx, w.acme.ID, c, got[1].Cursor, 1)
	require.True(t, errors.Is(err, store.ErrTooFar), "%v", err)
	touched, err = w.st.StreamTouched(ctx, w.globex.ID, c, got[1].Cursor, 10)
	require.NoError(t, err)
	require.Zero(t, touched.Events, "another company's")
}

// TestLiveStart: the starting state is one snapshot; an event it saw is
// read again after it (to be skipped), one it did not is read to be
// applied.
func TestLiveStart(t *testing.T) {
	ctx := context.Background()
	w := newCallWorld(t)
	db, st := w.db, w.st
	pairs := [][2]events.Kind{{events.UserOpened, events.UserClosed}, {events.UserConnected, events.UserDisconnected}}

	running := writeInTx(t, db, w.acme.ID, w.alice.ID, events.UserClosed) // not seen: still running
	require.NoError(t, st.Publish(ctx, w.acme.ID, store.Event{Kind: events.UserConnected, User: w.alice.ID}))

	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, paris)
	save := func(started time.Duration, mod func(c *dialplan.Call), evs ...events.Kind) dialplan.Call {
		c := dialplan.Call{Company: w.acme.ID, Number: w.main.ID, Direction: dialplan.Inbound, Status: dialplan.CallDone,
			RawDigits: "+33612345678", StartedAt: now.Add(-started), Teams: []dialplan.TeamID{w.support.ID}, IVROptions: []string{}}
		c.EndedAt = at(c.StartedAt.Add(time.Minute))
		mod(&c)
		timeline := []dialplan.TimelineEvent{{Event: events.CallCreated, At: c.StartedAt}}
		for _, k := range evs {
			timeline = append(timeline, dialplan.TimelineEvent{Event: k, At: c.StartedAt})
		}
		require.NoError(t, st.SaveCall(ctx, &c, timeline, nil))
		return c
	}
	answered := func(after time.Duration) func(c *dialplan.Call) {
		return func(c *dialplan.Call) { c.AnsweredAt, c.User = at(c.StartedAt.Add(after)), w.alice.ID }
	}
	missed := func(r dialplan.MissedReason) func(c *dialplan.Call) {
		return func(c *dialplan.Call) { c.MissedReason = r }
	}
	save(time.Hour, answered(20*time.Second))                                      // within the 20 s
	save(time.Hour, answered(21*time.Second))                                      // late
	save(time.Hour, missed(dialplan.AgentsDidNotAnswer), events.CallVoicemailLeft) // a message
	save(time.Hour, missed(dialplan.ShortAbandoned))                               // not offered
	save(time.Hour, missed(dialplan.BlockedCaller), events.CallBlocked)            // left out
	save(16*time.Hour, answered(time.Second))                                      // yesterday in Paris
	save(time.Hour, func(c *dialplan.Call) { c.Direction = dialplan.Outbound })    // outbound
	save(time.Hour, func(c *dialplan.Call) { c.Number = w.second.ID; answered(5 * time.Second)(c) })
	inProgress := save(time.Minute, func(c *dialplan.Call) { // answered: decided
		answered(5 * time.Second)(c)
		c.Status, c.EndedAt = dialplan.CallAnswered, nil
	}, events.CallAnswered)
	waiting := save(time.Minute, func(c *dialplan.Call) { c.Status, c.EndedAt = dialplan.CallInitial, nil }, events.CallQueued)

	start, err := st.LiveStart(ctx, now, pairs)
	require.NoError(t, err)
	require.Equal(t, []store.LastState{{User: w.alice.ID, Kind: events.UserConnected}},
		withoutTimes(start.States), "the running transaction's event is not seen")
	unfinished := map[dialplan.CallID][]events.Kind{}
	for _, e := range start.Unfinished {
		unfinished[e.CallID] = append(unfinished[e.CallID], e.Kind)
	}
	require.Equal(t, map[dialplan.CallID][]events.Kind{
		inProgress.ID: {events.CallCreated, events.CallAnswered},
		waiting.ID:    {events.CallCreated, events.CallQueued},
	}, unfinished)
	require.Equal(t, []store.DayCount{
		{Company: w.acme.ID, Number: w.main.ID, Inbound: 5, Offered: 4, Answered: 3, WithinSLA: 2, Missed: 2, Voicemail: 1},
		{Company: w.acme.ID, Number: w.second.ID, Inbound: 1, Offered: 1, Answered: 1, WithinSLA: 1},
	}, start.ByNumber)
	require.Equal(t, []store.DayCount{
		{Company: w.acme.ID, Team: w.support.ID, Inbound: 6, Offered: 5, Answered: 4, WithinSLA: 3, Missed: 2, Voicemail: 1},
	}, start.ByTeam)

	// Read on from the start: the running transaction's event is new, the
	// others were seen.
	require.NoError(t, running.Commit())
	var total int
	require.NoError(t, db.Get(&total, "SELECT count(*) FROM events WHERE xid >= $1::text::xid8",
		strconv.FormatUint(start.Cursor().XID, 10)))
	got := readN(t, st, start.Cursor(), total)
	var fresh []events.Kind
	for _, e := range got {
		if !start.Snapshot.Sees(e.Cursor.XID) {
			fresh = append(fresh, e.Kind)
		}
	}
	require.Equal(t, []events.Kind{events.UserClosed}, fresh)
}

func withoutTimes(states []store.LastState) []store.LastState {
	out := make([]store.LastState, len(states))
	for i, s := range states {
		require.False(nil, s.At.IsZero())
		s.At = time.Time{}
		out[i] = s
	}
	return out
}

func TestXactSnapshot(t *testing.T) {
	s, err := store.ParseXactSnapshot("10:20:12,15")
	require.NoError(t, err)
	require.Equal(t, store.XactSnapshot{Xmin: 10, Xmax: 20, Running: []uint64{12, 15}}, s)
	for xid, seen := range map[uint64]bool{9: true, 10: true, 12: false, 13: true, 15: false, 19: true, 20: false, 30: false} {
		require.Equal(t, seen, s.Sees(xid), "%d", xid)
	}
	s, err = store.ParseXactSnapshot("7:7:")
	require.NoError(t, err)
	require.Equal(t, store.XactSnapshot{Xmin: 7, Xmax: 7}, s)
	for _, bad := range []string{"", "1:2", "a:2:", "1:b:", "1:2:x"} {
		_, err := store.ParseXactSnapshot(bad)
		require.Error(t, err, bad)
	}
}

func TestLiveDirectory(t *testing.T) {
	w := newCallWorld(t)
	d, err := w.st.LiveDirectory(context.Background())
	require.NoError(t, err)
	require.Equal(t, []store.LiveCompany{{ID: w.acme.ID, TimeZone: "Europe/Paris", SLASeconds: 20},
		{ID: w.globex.ID, TimeZone: "Europe/Paris", SLASeconds: 20}}, d.Companies)
	require.Len(t, d.Users[w.acme.ID], 3)
	var teams []string
	for _, tm := range d.Teams[w.acme.ID] {
		teams = append(teams, tm.Name)
		if tm.ID == w.support.ID {
			require.Equal(t, []dialplan.UserID{w.alice.ID}, tm.Users)
		}
	}
	require.Equal(t, []string{"Support", "Sales"}, teams)
	require.Len(t, d.Numbers[w.acme.ID], 2)
	require.Len(t, d.Teams[w.globex.ID], 1)
}
