package e2e

import (
	"context"
	"strings"
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
// (CHANNEL_PARK) to the driver's first command on it (its answer).
//
//	go test -run=^$ -bench=FullStackESL -benchtime=2000x ./e2e
func BenchmarkFullStackESL(b *testing.B) {
	fs := esltest.New(esltest.Options{Password: "secret", PlayDuration: 10 * time.Millisecond, History: 4*b.N + 1000})
	require.NoError(b, fs.Start())
	defer fs.Close()
	be := &eslEmulator{fs: fs, records: b.TempDir()}
	a, rate := benchCompany(b, be, func() <-chan struct{} {
		return fs.Call(caller1, classicLine, esltest.CallScript{}).Done()
	})

	calls := make([]placedCall, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := pace(b.N, rate, func(i int) {
		at := time.Now()
		c := fs.Call(caller1, classicLine, esltest.CallScript{}) // CHANNEL_PARK goes out
		calls[i] = placedCall{at: at, channel: c.UUID()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c.Wait(ctx)
		}()
	})
	wg.Wait()
	b.StopTimer()
	a.reportCPU(b)

	// The emulator logs the last 100,000 commands: about 8,000 calls.
	first := map[string]time.Time{}   // channel → first command naming it
	bridged := map[string]time.Time{} // caller's channel → uuid_bridge
	for _, cmd := range fs.Commands() {
		for _, word := range strings.Fields(cmd.Line) {
			if _, seen := first[word]; !seen {
				first[word] = cmd.Time
			}
		}
		if rest, ok := strings.CutPrefix(cmd.Line, "api uuid_bridge "); ok {
			caller, _, _ := strings.Cut(rest, " ")
			bridged[caller] = cmd.Time
		}
	}
	reportSetUps(b, begin, calls, first, bridged)
}
