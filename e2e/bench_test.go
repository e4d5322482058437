package e2e

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari/aritest"
)

// BenchmarkFullStack drives the whole stack — the switchboard binary,
// PostgreSQL and the ARI emulator over real sockets — with calls arriving
// at a steady rate: each is answered, rings one agent of a round-robin
// team, is bridged, talks 300 ms and ends. It reports the sustained call
// set-ups per second (a call is set up when it is bridged), the share of
// calls bridged (below 100 % the stack could not keep up: callers found
// every agent still busy) and the latency from StasisStart to the
// driver's first command on the channel.
//
//	go test -run=^$ -bench=FullStack -benchtime=2000x ./e2e
func BenchmarkFullStack(b *testing.B) {
	ast := aritest.New(aritest.Options{App: "switchboard", User: "switchboard", Password: "secret", SoundDuration: 10 * time.Millisecond})
	require.NoError(b, ast.Start())
	defer ast.Close()
	be := &ariEmulator{ast: ast}
	a, rate := benchCompany(b, be, func() <-chan struct{} {
		return ast.Call(caller1, classicLine, aritest.CallScript{}).Done()
	})

	type placed struct {
		at     time.Time
		caller *aritest.Caller
	}
	calls := make([]placed, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := pace(b.N, rate, func(i int) {
		calls[i] = placed{at: time.Now(), caller: ast.Call(caller1, classicLine, aritest.CallScript{})}
		wg.Add(1)
		go func(c *aritest.Caller) {
			defer wg.Done()
			select {
			case <-c.Done():
			case <-time.After(60 * time.Second):
			}
		}(calls[i].caller)
	})
	wg.Wait()
	b.StopTimer()
	a.reportCPU(b)

	first := map[string]time.Time{}   // channel → first command on it
	bridged := map[string]time.Time{} // channel → added to a bridge
	for _, r := range ast.Requests() {
		if rest, ok := strings.CutPrefix(r.Path, "/ari/channels/"); ok {
			id, _, _ := strings.Cut(rest, "/")
			if _, seen := first[id]; !seen {
				first[id] = r.Time
			}
		}
		if strings.HasSuffix(r.Path, "/addChannel") {
			for _, id := range strings.Split(r.Query.Get("channel"), ",") {
				bridged[id] = r.Time
			}
		}
	}
	offered := make([]placedCall, len(calls))
	for i, c := range calls {
		offered[i] = placedCall{at: c.at, channel: c.caller.ChannelID()}
	}
	reportSetUps(b, begin, offered, first, bridged)
}

// placedCall is a call a benchmark offered: when, and its channel.
type placedCall struct {
	at      time.Time
	channel string
}

// reportSetUps reports, from when the media server got each channel's
// first command and when each was bridged to an agent: the share of
// calls bridged, the set-ups a second (from the first call offered to
// the last bridged), and the latency from a call's arrival to the first
// command on it.
func reportSetUps(b *testing.B, begin time.Time, calls []placedCall, first, bridged map[string]time.Time) {
	var latencies []time.Duration
	last, setUp := begin, 0
	for _, c := range calls {
		if t, ok := first[c.channel]; ok {
			latencies = append(latencies, t.Sub(c.at))
		}
		if t, ok := bridged[c.channel]; ok {
			setUp++
			if t.After(last) {
				last = t
			}
		}
	}
	require.NotEmpty(b, latencies, "no call got a command")
	slices.Sort(latencies)
	at := func(q int) float64 { return float64(latencies[len(latencies)*q/100].Microseconds()) / 1000 }
	b.ReportMetric(100*float64(setUp)/float64(len(calls)), "bridged-%")
	b.ReportMetric(float64(setUp)/last.Sub(begin).Seconds(), "setups/s")
	b.ReportMetric(at(50), "p50-ms")
	b.ReportMetric(at(90), "p90-ms")
	b.ReportMetric(at(99), "p99-ms")
}

// pace calls place(i) for each of n calls at rate a second, on a fixed
// schedule: a call placed late is followed at once by the next due, so
// the offered rate holds on average (a ticker would drop the ticks of a
// descheduled loop and offer less). It returns when the first was due.
func pace(n, rate int, place func(i int)) time.Time {
	begin := time.Now()
	period := time.Second / time.Duration(rate)
	for i := range n {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * period)))
		place(i)
	}
	return begin
}

// benchCompany starts switchboard on a backend for a full-stack benchmark:
// 150 agents whose phones answer at once and hang up after 300 ms, in one
// round-robin team rung by the line. It warms the stack up with a
// second of calls (place places one) and returns the rate of calls to
// offer: SWITCHBOARD_BENCH_RATE, 300 a second by default.
func benchCompany(b *testing.B, be backend, place func() <-chan struct{}) (*app, int) {
	// The emulator stands in for a media server of its own; in this
	// process it would also stall the calls it places while it collects
	// garbage (its channel history and command log are large), which
	// would be counted as switchboard's latency.
	gc := debug.SetGCPercent(400)
	b.Cleanup(func() { debug.SetGCPercent(gc) })
	rate, agents := 300, 150
	if r, err := strconv.Atoi(os.Getenv("SWITCHBOARD_BENCH_RATE")); err == nil && r > 0 {
		rate = r
	}
	a := start(b, be)
	var members []int64
	for i := range agents {
		name := fmt.Sprintf("agent%d", i)
		members = append(members, a.create("/v1/users", "user", map[string]any{"first_name": name,
			"email": name + "@acme.test", "devices": []string{be.device(name)}}))
		be.phone(b, name, phone{hangupAfter: 300 * time.Millisecond})
	}
	team := a.create("/v1/teams", "team", map[string]any{"name": "All", "users": members, "ringing_rule": "round_robin", "ring_slice_seconds": 5})
	a.create("/v1/numbers", "number", map[string]any{"name": "Bench", "digits": classicLine, "voicemail": false,
		"distribution": []any{map[string]any{"type": "team", "id": team, "ring_seconds": 10}}})
	// Measure the steady state, not a fresh database: once calls are
	// written, PostgreSQL's autovacuum analyzes their tables (within a
	// second on the test server) and the plans made for empty tables go.
	var warm []<-chan struct{}
	pace(rate, rate, func(int) { warm = append(warm, place()) })
	for _, done := range warm {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatal("a warm-up call never ended")
		}
	}
	time.Sleep(2 * time.Second)
	a.cpu0 = a.cpuTime(b)
	return a, rate
}

// cpuTime is the processor time switchboard has used so far (user and
// system, from /proc): unlike throughput on a shared machine, the cost
// of a call in switchboard itself does not depend on what else runs.
func (a *app) cpuTime(b *testing.B) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.pid))
	require.NoError(b, err)
	// The fields after the command name (which may hold spaces), from
	// field 3: utime and stime are fields 14 and 15, in clock ticks
	// (USER_HZ, 100 on Linux).
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, err1 := strconv.Atoi(fields[11])
	stime, err2 := strconv.Atoi(fields[12])
	require.NoError(b, errors.Join(err1, err2))
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// reportCPU reports switchboard's processor time per call since the
// company was set up, and the calls a second one core would sustain.
func (a *app) reportCPU(b *testing.B) {
	per := (a.cpuTime(b) - a.cpu0) / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "cpu-ms/call")
	if per > 0 {
		b.ReportMetric(float64(time.Second/per), "calls/s/core")
	}
}
