package store_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/internal/pglocal"
	"github.com/switchboard/switchboard/internal/spool"
	"github.com/switchboard/switchboard/store"
)

// TestSpooledLogOutage: PostgreSQL stops while a call is in progress and
// another begins; their saves are kept in the spool, in order, and written
// back when it is there again, each once, even when replayed twice.
func TestSpooledLogOutage(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "switchboard-outage-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) // the postgres user walks it when we are root
	pg, err := pglocal.Start(ctx, pglocal.Options{Dir: dir})
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err) // CI installs it; a skip would hide a broken set-up
	}
	t.Cleanup(func() { pg.Stop() })
	db, err := sqlx.Open("postgres", pg.URL("postgres"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, store.Migrate(ctx, db.DB))
	st := store.New(db)
	co, _ := newCompany(t, st, "Acme", "owner@acme.test")
	n := dialplan.NewNumber()
	n.Name, n.Digits = "Main", "+33176390861"
	require.NoError(t, n.Normalize(co))
	require.NoError(t, st.CreateNumber(ctx, co.ID, &n))

	spoolDir := t.TempDir()
	sp, err := spool.Open(spoolDir, 1<<20)
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	calls := store.NewSpooledLog(st, sp, "test", logger)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	newCall := func(at time.Time) dialplan.Call {
		return dialplan.Call{Company: co.ID, Number: n.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
			RawDigits: "+33612345678", StartedAt: at, MediaRef: "chan"}
	}
	ev := func(kind events.Kind, at time.Time, data any) []dialplan.TimelineEvent {
		return []dialplan.TimelineEvent{{Event: kind, At: at, Data: data}}
	}

	first := newCall(t0)
	require.NoError(t, calls.SaveCall(ctx, &first, ev(events.CallCreated, t0, events.Created{To: n.Digits}), nil))
	require.NoError(t, pg.Stop())

	// Down: the first call ends, a second begins; nothing is refused.
	first.Status, first.EndedAt = dialplan.CallDone, at(t0.Add(time.Minute))
	require.NoError(t, calls.SaveCall(ctx, &first, ev(events.CallEnded, t0.Add(time.Minute), nil), []dialplan.TaskKind{dialplan.TaskMissedCall}))
	second := newCall(t0.Add(30 * time.Second))
	require.NoError(t, calls.SaveCall(ctx, &second, ev(events.CallCreated, t0.Add(30*time.Second), events.Created{To: n.Digits}), nil))
	require.NotZero(t, second.ID, "an id reserved before the outage")
	waiting, _ := calls.Pending()
	require.Equal(t, 2, waiting)
	copied, err := os.ReadFile(filepath.Join(spoolDir, "spool"))
	require.NoError(t, err)

	// Back: written back, in order.
	pg, err = pglocal.Start(ctx, pglocal.Options{Dir: dir})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); calls.Run(runCtx, 20*time.Millisecond) }()
	require.Eventually(t, func() bool { n, _ := calls.Pending(); return n == 0 }, time.Minute, 20*time.Millisecond)
	stop()
	<-done

	timeline := func(id dialplan.CallID) []events.Kind {
		got, err := st.Timelines(ctx, co.ID, []dialplan.CallID{id})
		require.NoError(t, err)
		var kinds []events.Kind
		for _, e := range got[id] {
			kinds = append(kinds, e.Event)
		}
		return kinds
	}
	check := func() {
		t.Helper()
		c, err := st.Call(ctx, co.ID, first.ID)
		require.NoError(t, err)
		require.Equal(t, dialplan.CallDone, c.Status)
		require.Equal(t, []events.Kind{events.CallCreated, events.CallEnded}, timeline(first.ID))
		_, err = st.Call(ctx, co.ID, second.ID)
		require.NoError(t, err)
		require.Equal(t, []events.Kind{events.CallCreated}, timeline(second.ID))
	}
	check()

	// A crash before the spool forgot what it wrote: the same saves
	// replayed, written once.
	again := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(again, "spool"), copied, 0o600))
	sp2, err := spool.Open(again, 1<<20)
	require.NoError(t, err)
	replay := store.NewSpooledLog(st, sp2, "test", logger)
	runCtx, stop = context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { defer close(done); replay.Run(runCtx, 20*time.Millisecond) }()
	require.Eventually(t, func() bool { n, _ := replay.Pending(); return n == 0 }, time.Minute, 20*time.Millisecond)
	stop()
	<-done
	check()
}
