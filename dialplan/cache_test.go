package dialplan_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
)

// countingDirectory counts the reads that reach it.
type countingDirectory struct {
	*dialplantest.Directory
	reads atomic.Int32
}

func (d *countingDirectory) NumberByDigits(ctx context.Context, digits string) (dialplan.CompanyID, dialplan.Number, error) {
	d.reads.Add(1)
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
