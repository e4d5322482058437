package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
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
	// SWITCHBOARD_BENCH_RATE sets the calls offered per second (300).
	rate, agents := 300, 150
	if r, err := strconv.Atoi(os.Getenv("SWITCHBOARD_BENCH_RATE")); err == nil && r > 0 {
		rate = r
	}
	fs := esltest.New(esltest.Options{Password: "secret", PlayDuration: 10 * time.Millisecond, History: 4*b.N + 1000})
	require.NoError(b, fs.Start())
	defer fs.Close()
	be := &eslEmulator{fs: fs, records: b.TempDir()}
	a := start(b, be)
	var members []int64
	for i := range agents {
		name := fmt.Sprintf("agent%d", i)
		members = append(members, a.create("/v1/users", "user", map[string]any{"first_name": name,
			"email": name + "@acme.test", "devices": []string{be.device(name)}}))
		fs.SetPeer(be.device(name), esltest.Peer{Action: esltest.PeerAnswer, HangupAfter: 300 * time.Millisecond})
	}
	team := a.create("/v1/teams", "team", map[string]any{"name": "All", "users": members, "ringing_rule": "round_robin", "ring_slice_seconds": 5})
	a.create("/v1/numbers", "number", map[string]any{"name": "Bench", "digits": classicLine, "voicemail": false,
		"distribution": []any{map[string]any{"type": "team", "id": team, "ring_seconds": 10}}})

	latencies := make([]time.Duration, b.N)
	callers := make([]*esltest.Caller, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := range b.N {
		<-tick.C
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
	}
	tick.Stop()
	wg.Wait()
	b.StopTimer()

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
