package link

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKeep: failed attempts wait longer and longer, up to MaxRetry; a
// session that got up starts the backoff over; ctx ends the loop, even
// during a wait.
func TestKeep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	outcomes := []bool{false, false, false, true, false} // up, per attempt
	var waits []time.Duration
	attempt := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Keep(ctx, func(context.Context) (bool, error) {
			up := outcomes[attempt]
			attempt++
			return up, errors.New("dropped")
		}, func(err error, retry time.Duration) {
			require.EqualError(t, err, "dropped")
			waits = append(waits, retry)
			if len(waits) == len(outcomes) {
				cancel() // ends the wait that follows
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Keep did not stop with its context")
	}
	ms := time.Millisecond
	require.Equal(t, []time.Duration{100 * ms, 200 * ms, 400 * ms, 100 * ms, 200 * ms}, waits)
	require.Equal(t, len(outcomes), attempt)
}
