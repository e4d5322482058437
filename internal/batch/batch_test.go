package batch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatches: requests made while a batch runs are served together by
// the next, each gets its own answer, and no batch is over the maximum.
func TestBatches(t *testing.T) {
	var (
		batches atomic.Int64
		biggest atomic.Int64
		release = make(chan struct{})
		first   = make(chan struct{})
		once    sync.Once
	)
	b := New(10, time.Minute, func(_ context.Context, in []int) ([]int, error) {
		if batches.Add(1) == 1 {
			once.Do(func() { close(first) })
			<-release // hold the first batch while the others queue
		}
		for n := int64(len(in)); ; {
			old := biggest.Load()
			if n <= old || biggest.CompareAndSwap(old, n) {
				break
			}
		}
		out := make([]int, len(in))
		for i, v := range in {
			out[i] = v * v
		}
		return out, nil
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		got, err := b.Do(context.Background(), 3)
		assert.NoError(t, err)
		assert.Equal(t, 9, got)
	})
	<-first
	for i := range 25 {
		wg.Go(func() {
			got, err := b.Do(context.Background(), i)
			assert.NoError(t, err)
			assert.Equal(t, i*i, got)
		})
	}
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.waiting) == 25
	}, time.Minute, time.Millisecond)
	close(release)
	wg.Wait()
	require.Equal(t, int64(4), batches.Load(), "one held, then 25 in batches of at most 10")
	require.Equal(t, int64(10), biggest.Load())
}

// TestErrorsAndContexts: a batch's error fails each of its requests; a
// request whose context ends stops waiting.
func TestErrorsAndContexts(t *testing.T) {
	boom := errors.New("boom")
	b := New(10, time.Minute, func(context.Context, []int) ([]int, error) { return nil, boom })
	_, err := b.Do(context.Background(), 1)
	require.ErrorIs(t, err, boom)

	short := New(10, time.Minute, func(context.Context, []int) ([]int, error) { return []int{}, nil })
	_, err = short.Do(context.Background(), 1)
	require.ErrorContains(t, err, "0 answers to 1 requests")

	hold := make(chan struct{})
	defer close(hold)
	slow := New(10, time.Minute, func(_ context.Context, in []int) ([]int, error) { <-hold; return in, nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = slow.Do(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
}
