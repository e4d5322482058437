// Package batch serves requests made in parallel in batches: while one
// batch runs, the requests made meanwhile wait for the next, which takes
// them all. Under load a batch grows with the wait; alone, a request is
// served at once, without a timer.
package batch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Func serves a batch: out[i] answers in[i]. An error fails every
// request of the batch.
type Func[In, Out any] func(ctx context.Context, in []In) (out []Out, err error)

// Batcher serves requests through a Func, in batches.
type Batcher[In, Out any] struct {
	run     Func[In, Out]
	max     int
	timeout time.Duration

	mu      sync.Mutex
	waiting []request[In, Out]
	running bool
}

type request[In, Out any] struct {
	in   In
	done chan<- result[Out]
}

type result[Out any] struct {
	out Out
	err error
}

// New makes a Batcher whose batches hold at most max requests and run
// for at most timeout.
func New[In, Out any](max int, timeout time.Duration, run Func[In, Out]) *Batcher[In, Out] {
	return &Batcher[In, Out]{run: run, max: max, timeout: timeout}
}

// Do serves in with the requests made about now, and waits for its
// answer as long as ctx allows. A request whose ctx ends may still be
// served: the batch it is in runs for all of its requests.
func (b *Batcher[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	done := make(chan result[Out], 1)
	b.mu.Lock()
	b.waiting = append(b.waiting, request[In, Out]{in: in, done: done})
	if !b.running {
		b.running = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case r := <-done:
		return r.out, r.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// loop runs batches until no request waits.
func (b *Batcher[In, Out]) loop() {
	for {
		b.mu.Lock()
		n := min(len(b.waiting), b.max)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.waiting[:n:n]
		b.waiting = append([]request[In, Out](nil), b.waiting[n:]...)
		b.mu.Unlock()

		in := make([]In, n)
		for i, r := range batch {
			in[i] = r.in
		}
		// A batch serves many callers: none of their contexts may cut it
		// short for the others, who each wait only as long as theirs
		// allows.
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		out, err := b.run(ctx, in)
		cancel()
		if err == nil && len(out) != n {
			err = fmt.Errorf("batch: %d answers to %d requests", len(out), n)
		}
		for i, r := range batch {
			if err != nil {
				r.done <- result[Out]{err: err}
			} else {
				r.done <- result[Out]{out: out[i]}
			}
		}
	}
}
