package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store/storetest"
)

// TestLease: one process holds a media server's lease; another stands
// by and gets it when the holder's session ends; the old holder, back,
// finds it taken and says so (it must stop driving calls).
func TestLease(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := storetest.URL(t)
	log := slog.New(slog.DiscardHandler)
	key := leaseKey(config{Media: "asterisk", ARIURL: "http://127.0.0.1:8088", ARIApp: "switchboard"})
	require.NotEqual(t, key, leaseKey(config{Media: "freeswitch", ESLAddr: "127.0.0.1:8021"}), "a lease per media server")

	first, err := acquireLease(ctx, url, key, log)
	require.NoError(t, err)
	var pid int
	require.NoError(t, first.conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid))

	second := make(chan *lease, 1)
	go func() {
		l, err := acquireLease(ctx, url, key, log)
		if err == nil {
			second <- l
		}
	}()
	select {
	case <-second:
		t.Fatal("two holders at once")
	case <-time.After(3 * leaseRetry): // it tried, and stands by
	}

	// The holder's session ends (its process died, or its connection
	// broke): the standby takes the lease.
	db, err := sqlx.Open("postgres", url)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("SELECT pg_terminate_backend($1)", pid)
	require.NoError(t, err)
	var standby *lease
	select {
	case standby = <-second:
	case <-time.After(30 * time.Second):
		t.Fatal("the standby never took the lease")
	}
	holding, stopHolding := context.WithCancel(ctx)
	heldDone := make(chan error, 1)
	go func() { heldDone <- standby.hold(holding) }()

	// The old holder finds its connection gone and the lease taken.
	require.ErrorIs(t, first.hold(ctx), errLeaseLost)
	stopHolding()
	require.NoError(t, <-heldDone, "the new holder kept it until it stopped")
}
