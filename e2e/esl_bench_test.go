package e2e

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/esl/esltest"
)

// BenchmarkFullStackESL is BenchmarkFullStack on the ESL emulator: the
// switchboard binary, PostgreSQL and the emulated FreeSWITCH over real
// sockets, calls arriving at a steady rate, each answered, ringing one
// agent of a round-robin team, bridged, talking 300 ms and ending. It
// reports the call set-ups per second (a call is set up when bridged),
// the share of calls bridged, and the latency from the call's arrival
// (CHANNEL_PARK) to its answer, the driver's first command on it.
//
//	go test -run=^$ -bench=FullStackESL -benchtime=2000x ./e2e
func BenchmarkFullStackESL(b *testing.B) {
	fs := esltest.New(esltest.Options{Password: "secret", PlayDuration: 10 * time.Millisecond, History: 4*b.N + 1000})
	require.NoError(b, fs.Start())
	defer fs.Close()
	be := &eslEmulator{fs: fs, records: b.TempDir()}
	a, rate := benchCompany(b, be)

	latencies := make([]time.Duration, b.N)
	callers := make([]*esltest.Caller, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := pace(b.N, rate, func(i int) {
		at := time.Now()
		c := fs.Call(caller1, classicLine, esltest.CallScript{})
		callers[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if c.WaitAnswer(ctx) == nil && c.Answered() {
				latencies[i] = time.Since(at)
			}
			c.Wait(ctx)
		}()
	})
	wg.Wait()
	b.StopTimer()
	a.reportCPU(b)

	// A call is set up when its channel was bridged to an agent's; the
	// emulator does not time commands, so the last set-up is taken as the
	// end of the last bridged call less its 300 ms of talk.
	setUp := 0
	for _, c := range callers {
		if ch, ok := fs.Channel(c.UUID()); ok && ch.Variables["last_bridge_to"] != "" {
			setUp++
		}
	}
	elapsed := time.Since(begin) - 300*time.Millisecond
	var answered []time.Duration
	for _, l := range latencies {
		if l > 0 {
			answered = append(answered, l)
		}
	}
	require.NotEmpty(b, answered)
	slices.Sort(answered)
	b.ReportMetric(100*float64(setUp)/float64(b.N), "bridged-%")
	b.ReportMetric(float64(setUp)/elapsed.Seconds(), "setups/s")
	b.ReportMetric(float64(answered[len(answered)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(answered[len(answered)*99/100].Microseconds())/1000, "p99-ms")
}
