package dialplan_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
)

// countingDirectory counts the reads that reach it; with a gate, a read
// waits for it to open.
type countingDirectory struct {
	*dialplantest.Directory
	reads atomic.Int32
	gate  chan struct{}
}

func (d *countingDirectory) NumberByDigits(ctx context.Context, digits string) (dialplan.CompanyID, dialplan.Number, error) {
	d.reads.Add(1)
	if d.gate != nil {
		<-d.gate
	}
	return d.Directory.NumberByDigits(ctx, digits)
}

func TestCachedDirectory(t *testing.T) {
	w := world(t)
	under := &countingDirectory{Directory: w.Directory}
	cache := dialplan.NewCachedDirectory(under, 50*time.Millisecond)
	ctx := context.Background()
	for range 3 {
		_, n, err := cache.NumberByDigits(ctx, line)
		require.NoError(t, err)
		require.Equal(t, dialplan.NumberID(100), n.ID)
		_, _, err = cache.NumberByDigits(ctx, "+33100000000")
		require.Error(t, err, "an unknown number stays unknown")
	}
	require.EqualValues(t, 2, under.reads.Load(), "one read per key within the TTL")
	time.Sleep(60 * time.Millisecond)
	cache.NumberByDigits(ctx, line)
	require.EqualValues(t, 3, under.reads.Load(), "read again once stale")
}

// downDirectory answers as its Directory until down, then with an outage.
type downDirectory struct {
	*dialplantest.Directory
	down atomic.Bool
}

var errDown = errors.New("database unavailable")

func (d *downDirectory) NumberByDigits(ctx context.Context, digits string) (dialplan.CompanyID, dialplan.Number, error) {
	if d.down.Load() {
		return 0, dialplan.Number{}, errDown
	}
	return d.Directory.NumberByDigits(ctx, digits)
}

func (d *downDirectory) UsersByID(ctx context.Context, company dialplan.CompanyID, ids []dialplan.UserID) ([]dialplan.User, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Directory.UsersByID(ctx, company, ids)
}

func (d *downDirectory) Team(ctx context.Context, company dialplan.CompanyID, id dialplan.TeamID) (dialplan.Team, error) {
	if d.down.Load() {
		return dialplan.Team{}, errDown
	}
	return d.Directory.Team(ctx, company, id)
}

func (d *downDirectory) IsBlocked(ctx context.Context, company dialplan.CompanyID, digits string) (bool, error) {
	if d.down.Load() {
		return false, errDown
	}
	return d.Directory.IsBlocked(ctx, company, digits)
}

// TestCachedDirectoryOutage: while the database is down, the numbers
// read before keep routing as they were; one never read is unknown unless
// read at start (Warm, teams too); a set of users is made of those read
// before; a caller never checked against the blocked numbers is let
// through.
func TestCachedDirectoryOutage(t *testing.T) {
	w := world(t)
	under := &downDirectory{Directory: w.Directory}
	cache := dialplan.NewCachedDirectory(under, time.Nanosecond) // stale at once: every read goes down
	cache.Outage = func(err error) bool { return errors.Is(err, errDown) }
	ctx := context.Background()
	_, n, err := cache.NumberByDigits(ctx, line)
	require.NoError(t, err)
	under.down.Store(true)
	for range 3 {
		_, got, err := cache.NumberByDigits(ctx, line)
		require.NoError(t, err, "the number as last read")
		require.Equal(t, n, got)
	}
	_, _, err = cache.NumberByDigits(ctx, ivrLine)
	require.ErrorIs(t, err, errDown, "never read: nothing to serve")
	_, err = cache.Team(ctx, 1, team)
	require.ErrorIs(t, err, errDown, "never read: nothing to serve")
	cache.Warm(ctx, map[dialplan.CompanyID][]dialplan.Number{1: {w.Directory.Numbers[200]}}, nil,
		map[dialplan.CompanyID][]dialplan.Team{1: {w.Directory.Teams[team]}})
	_, got, err := cache.NumberByDigits(ctx, ivrLine)
	require.NoError(t, err, "read at start (Warm)")
	require.Equal(t, dialplan.NumberID(200), got.ID)
	support, err := cache.Team(ctx, 1, team)
	require.NoError(t, err, "read at start (Warm)")
	require.Equal(t, w.Directory.Teams[team].Users, support.Users)
	blocked, err := cache.IsBlocked(ctx, 1, "+33699999999")
	require.NoError(t, err)
	require.False(t, blocked)
	under.down.Store(false)
	_, err = cache.UsersByID(ctx, 1, []dialplan.UserID{alice, bob, carol})
	require.NoError(t, err)
	under.down.Store(true)
	users, err := cache.UsersByID(ctx, 1, []dialplan.UserID{carol, alice})
	require.NoError(t, err, "a set never read as one, of users read")
	require.Equal(t, []dialplan.UserID{carol, alice}, []dialplan.UserID{users[0].ID, users[1].ID})
	_, err = cache.UsersByID(ctx, 1, []dialplan.UserID{alice, 99})
	require.ErrorIs(t, err, errDown, "a user never read")
	under.down.Store(false)
	cache.Outage = nil
	_, _, err = cache.NumberByDigits(ctx, "+33176390899")
	require.Error(t, err, "back: read again, and unknown")
}

// TestCachedDirectoryOneRead: callers without a value wait for the one
// read in flight; once the value is stale, one caller reads it again and
// the others go on with the stale value meanwhile.
func TestCachedDirectoryOneRead(t *testing.T) {
	w := world(t)
	under := &countingDirectory{Directory: w.Directory, gate: make(chan struct{})}
	cache := dialplan.NewCachedDirectory(under, 50*time.Millisecond)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, n, err := cache.NumberByDigits(ctx, line)
			assert.NoError(t, err)
			assert.Equal(t, dialplan.NumberID(100), n.ID)
		})
	}
	require.Eventually(t, func() bool { return under.reads.Load() == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // the others reach the cache meanwhile
	close(under.gate)
	wg.Wait()
	require.EqualValues(t, 1, under.reads.Load(), "one read for ten callers")

	time.Sleep(60 * time.Millisecond)
	under.gate = make(chan struct{})
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		cache.NumberByDigits(ctx, line)
	}()
	require.Eventually(t, func() bool { return under.reads.Load() == 2 }, time.Second, time.Millisecond)
	_, n, err := cache.NumberByDigits(ctx, line)
	require.NoError(t, err, "the stale value, without waiting for the read")
	require.Equal(t, dialplan.NumberID(100), n.ID)
	require.EqualValues(t, 2, under.reads.Load())
	close(under.gate)
	<-refreshed
}
