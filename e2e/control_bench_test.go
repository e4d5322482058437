package e2e

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari/aritest"
)

// BenchmarkCommandLatency measures the commands the API gives calls in
// progress, with 1,000 calls connected: the switchboard binary,
// PostgreSQL and the ARI emulator over real sockets. 1,000 agents of a
// round-robin team answer at once and never hang up, nor do their
// callers; then 8 clients at once put a call picked at random on hold,
// or take it off hold (each call's state toggles), b.N times in all,
// each client sending its next command as soon as the last is answered.
// For each command it measures the time from the API request sent to the
// media server receiving the first media command on the caller's
// channel (POST /channels/{id}/moh for a hold, DELETE
// /channels/{id}/mute for an unhold: the issue's "API request → media
// command sent") and the whole API round trip (the timeline event is
// written before the answer), and reports p50, p99 and max of both, in
// milliseconds, and switchboard's processor time per command. Setting
// the company up and connecting the calls is not timed. The target is a
// p99 below 20 ms for the first.
//
//	go test ./e2e/ -run '^$' -bench BenchmarkCommandLatency -benchtime=2000x -count=1
//
// The log has the table (when b.N > 1: the testing package first runs
// the benchmark once with b.N = 1, and keeps only the first ten lines of
// a benchmark's log): the latencies by kind and their parts, and the
// processor time each process took per command. SWITCHBOARD_BENCH_CALLS
// sets another number of calls in progress, SWITCHBOARD_BENCH_CLIENTS
// of clients, and SWITCHBOARD_BENCH_COMMAND_RATE paces the commands
// (that many a second from all clients together) instead of sending
// them back to back, which measures the latency at a given load rather
// than at the most the machine can take.
func BenchmarkCommandLatency(b *testing.B) {
	const rate = 200 // calls placed a second while setting up
	b.StopTimer()
	calls, clients, commandRate := 1000, 8, 0
	for _, v := range []struct {
		name string
		dst  *int
	}{{"SWITCHBOARD_BENCH_CALLS", &calls}, {"SWITCHBOARD_BENCH_CLIENTS", &clients}, {"SWITCHBOARD_BENCH_COMMAND_RATE", &commandRate}} {
		if n, err := strconv.Atoi(os.Getenv(v.name)); err == nil && n > 0 {
			*v.dst = n
		}
	}
	require.Greater(b, calls, clients, "more calls than clients: each client acts on a call of its own")
	// As in BenchmarkFullStack: the emulator, in this process, would
	// stall while it collects garbage, and that would count as
	// switchboard's latency.
	gc := debug.SetGCPercent(400)
	b.Cleanup(func() { debug.SetGCPercent(gc) })
	ast := aritest.New(aritest.Options{App: "switchboard", User: "switchboard", Password: "secret",
		SoundDuration: 10 * time.Millisecond, MaxRequests: 40*calls + 8*b.N + 10000})
	require.NoError(b, ast.Start())
	b.Cleanup(ast.Close) // after switchboard stops (cleanups run last first)
	a := start(b, controlBackend{&ariEmulator{ast: ast}})
	var members []int64
	for i := range calls {
		name := fmt.Sprintf("agent%d", i)
		members = append(members, a.create("/v1/users", "user", map[string]any{"first_name": name,
			"email": name + "@acme.test", "devices": []string{"PJSIP/" + name}}))
		require.NoError(b, ast.SetPeer("PJSIP/"+name, ariPeer(phone{}))) // answers at once, never hangs up
	}
	team := a.create("/v1/teams", "team", map[string]any{"name": "All", "users": members, "ringing_rule": "round_robin", "ring_slice_seconds": 5})
	a.create("/v1/numbers", "number", map[string]any{"name": "Bench", "digits": classicLine, "voicemail": false,
		"distribution": []any{map[string]any{"type": "team", "id": team, "ring_seconds": 30}}})

	// Each caller has a number of their own: a call's raw_digits is the
	// caller, whose channel the media commands name.
	callers := map[string]*aritest.Caller{}
	pace(calls, rate, func(i int) {
		from := fmt.Sprintf("+3361%07d", i)
		callers[from] = ast.Call(from, classicLine, aritest.CallScript{}) // never hangs up
	})
	b.Cleanup(func() {
		// Hang the calls up so that switchboard stops at once.
		for _, c := range callers {
			c.Hangup()
		}
		for _, c := range callers {
			select {
			case <-c.Done():
			case <-time.After(30 * time.Second):
				return
			}
		}
	})
	live := a.answeredCalls(b, calls, 120*time.Second)
	channels := make([]string, len(live))
	for i, c := range live {
		cl := callers[c.RawDigits]
		require.NotNil(b, cl, "call %d from %s: no such caller", c.ID, c.RawDigits)
		channels[i] = cl.ChannelID()
		require.NotEmpty(b, channels[i], "call %d has no channel", c.ID)
	}

	cmd := &commander{a: a, ids: make([]int64, len(live)), held: make([]bool, len(live)), busy: make([]atomic.Bool, len(live)),
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}}}
	for i, c := range live {
		cmd.ids[i] = c.ID
	}
	defer cmd.client.CloseIdleConnections()
	// Warm up the clients' connections, the database's and the plans of
	// the timeline's writes, then let autovacuum analyze the tables the
	// set-up filled (see benchCompany).
	_, err := cmd.run(4*clients, clients, 0)
	require.NoError(b, err, "warm-up")
	time.Sleep(2 * time.Second)

	load0 := loadAvg()
	cpu0 := [3]time.Duration{a.cpuTime(b), postgresCPU(), procCPU("self")}
	b.ResetTimer()
	b.StartTimer()
	begin := time.Now()
	samples, err := cmd.run(b.N, clients, commandRate)
	elapsed := time.Since(begin)
	b.StopTimer()
	cpu := [3]time.Duration{a.cpuTime(b) - cpu0[0], postgresCPU() - cpu0[1], procCPU("self") - cpu0[2]}
	load1 := loadAvg()
	require.NoError(b, err)
	require.Len(b, samples, b.N)

	// When the media server received each command's media requests. A
	// call takes one command at a time, so the first request of the kind
	// on its channel after the command was sent is the command's.
	arrivals := map[string][]time.Time{} // "POST /ari/channels/{id}/moh" → arrivals
	for _, r := range ast.Requests() {
		if strings.HasPrefix(r.Path, "/ari/channels/") {
			k := r.Method + " " + r.Path
			arrivals[k] = append(arrivals[k], r.Time)
		}
	}
	firstAfter := func(key string, t time.Time) (time.Time, bool) {
		var best time.Time
		for _, at := range arrivals[key] {
			if !at.Before(t) && (best.IsZero() || at.Before(best)) {
				best = at
			}
		}
		return best, !best.IsZero()
	}
	// Each part's durations: of all commands, of holds, of unholds.
	var toMedia, media, afterMedia, total [3][]time.Duration
	for _, s := range samples {
		ch := "/ari/channels/" + channels[s.call]
		first, second, kind := "POST "+ch+"/moh", "POST "+ch+"/mute", 1
		if !s.hold {
			first, second, kind = "DELETE "+ch+"/mute", "DELETE "+ch+"/moh", 2
		}
		t1, ok1 := firstAfter(first, s.sent)
		t2, ok2 := firstAfter(second, t1)
		require.True(b, ok1 && ok2, "call %d (%s, hold %v): the media server never got its commands", cmd.ids[s.call], channels[s.call], s.hold)
		answered := s.sent.Add(s.total)
		for _, k := range []int{0, kind} {
			toMedia[k] = append(toMedia[k], t1.Sub(s.sent))
			media[k] = append(media[k], t2.Sub(t1))
			afterMedia[k] = append(afterMedia[k], answered.Sub(t2))
			total[k] = append(total[k], s.total)
		}
	}
	for _, part := range [][3][]time.Duration{toMedia, media, afterMedia, total} {
		for _, d := range part {
			slices.Sort(d)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	perCmd := func(d time.Duration) float64 { return ms(d / time.Duration(b.N)) }
	b.ReportMetric(ms(quantile(toMedia[0], 0.50)), "cmd-p50-ms")
	b.ReportMetric(ms(quantile(toMedia[0], 0.99)), "cmd-p99-ms")
	b.ReportMetric(ms(toMedia[0][len(toMedia[0])-1]), "cmd-max-ms")
	b.ReportMetric(ms(quantile(total[0], 0.50)), "api-p50-ms")
	b.ReportMetric(ms(quantile(total[0], 0.99)), "api-p99-ms")
	b.ReportMetric(ms(total[0][len(total[0])-1]), "api-max-ms")
	b.ReportMetric(perCmd(cpu[0]), "cpu-ms/cmd")
	if b.N == 1 {
		return
	}

	var tab strings.Builder
	fmt.Fprintf(&tab, "%d commands on %d calls in progress, clients %d: %.0f a second; load average %s before, %s after\n",
		b.N, len(live), clients, float64(b.N)/elapsed.Seconds(), load0, load1)
	// The calls' idle work counts too: at a low rate it weighs.
	fmt.Fprintf(&tab, "processor ms a command (%d cores, idle work included): switchboard %.2f, PostgreSQL %.2f, this process (emulator and clients) %.2f\n",
		runtime.NumCPU(), perCmd(cpu[0]), perCmd(cpu[1]), perCmd(cpu[2]))
	fmt.Fprintf(&tab, "%-42s %8s %8s %8s %8s\n", "ms", "p50", "p90", "p99", "max")
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{
		{"API request → POST moh (hold)", toMedia[1]},
		{"API request → DELETE mute (unhold)", toMedia[2]},
		{"API request → first media command", toMedia[0]},
		{"first → second media command", media[0]},
		{"second media command → API answer", afterMedia[0]},
		{"API round trip", total[0]},
	} {
		if len(r.d) > 0 {
			fmt.Fprintf(&tab, "%-42s %8.2f %8.2f %8.2f %8.2f\n", r.name,
				ms(quantile(r.d, 0.50)), ms(quantile(r.d, 0.90)), ms(quantile(r.d, 0.99)), ms(r.d[len(r.d)-1]))
		}
	}
	b.Log(strings.TrimSuffix(tab.String(), "\n"))
}

// controlBackend is the ARI emulator as deployed: switchboard reads the
// devices again at its default pace (15 s), not every second as the
// suite's scenarios need; with 1,000 devices each read lists them all.
type controlBackend struct{ *ariEmulator }

func (b controlBackend) env() []string {
	return append(b.ariEmulator.env(), "SWITCHBOARD_ARI_DEVICE_REFRESH=15s") // the last value of a variable wins
}

// liveCallRef is a call in progress as GET /v1/calls lists it.
type liveCallRef struct {
	ID        int64  `json:"id"`
	RawDigits string `json:"raw_digits"`
}

// answeredCalls waits until n calls are answered (connected to an agent)
// and returns them.
func (a *app) answeredCalls(b *testing.B, n int, within time.Duration) []liveCallRef {
	b.Helper()
	var total int
	require.Eventually(b, func() bool {
		var list struct {
			Meta struct {
				Total int `json:"total"`
			} `json:"meta"`
		}
		a.do("GET", "/v1/calls?status=answered&per_page=1", nil, &list)
		total = list.Meta.Total
		return total >= n
	}, within, 250*time.Millisecond, "%d calls never answered (%d were)", n, total)
	var out []liveCallRef
	for page := 1; len(out) < total; page++ {
		var list struct {
			Calls []liveCallRef `json:"calls"`
		}
		require.Equal(b, 200, a.do("GET", fmt.Sprintf("/v1/calls?status=answered&per_page=50&page=%d", page), nil, &list))
		require.NotEmpty(b, list.Calls, "page %d", page)
		out = append(out, list.Calls...)
	}
	require.Len(b, out, n)
	return out
}

// commander puts calls in progress on hold and off it through the API.
type commander struct {
	a      *app
	client *http.Client
	ids    []int64 // the calls
	// busy marks a call a client is acting on: it takes one command at
	// a time. held, guarded by busy, is whether the call is on hold.
	busy []atomic.Bool
	held []bool
}

// commandSample is one command: on which call, which, when it was sent
// and how long the API took to answer.
type commandSample struct {
	call  int
	hold  bool
	sent  time.Time
	total time.Duration
}

// run sends n commands from clients goroutines, each to a call picked at
// random that no other client is acting on: a hold if it is not on hold,
// an unhold if it is. A client sends its next command as soon as the
// last is answered or, with a rate, when it is due (command k at k/rate
// seconds from the start) if that is later.
func (c *commander) run(n, clients, rate int) ([]commandSample, error) {
	var (
		next    atomic.Int64
		mu      sync.Mutex
		samples []commandSample
		errs    []error
		wg      sync.WaitGroup
	)
	begin := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []commandSample
			for k := next.Add(1) - 1; k < int64(n); k = next.Add(1) - 1 {
				if rate > 0 {
					time.Sleep(time.Until(begin.Add(time.Duration(k) * time.Second / time.Duration(rate))))
				}
				i := rand.IntN(len(c.ids))
				for !c.busy[i].CompareAndSwap(false, true) {
					i = rand.IntN(len(c.ids))
				}
				s, err := c.toggle(i)
				c.busy[i].Store(false)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				mine = append(mine, s)
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return samples, errors.Join(errs...)
}

// toggle puts call i on hold or takes it off hold.
func (c *commander) toggle(i int) (commandSample, error) {
	s := commandSample{call: i, hold: !c.held[i]}
	what := "unhold"
	if s.hold {
		what = "hold"
	}
	req, err := http.NewRequest("POST", fmt.Sprintf("%s/v1/calls/%d/%s", c.a.url, c.ids[i], what), nil)
	if err != nil {
		return s, err
	}
	id, token, _ := strings.Cut(c.a.key, ":")
	req.SetBasicAuth(id, token)
	s.sent = time.Now()
	res, err := c.client.Do(req)
	if err != nil {
		return s, fmt.Errorf("%s call %d: %w", what, c.ids[i], err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	s.total = time.Since(s.sent)
	if err != nil {
		return s, fmt.Errorf("%s call %d: %w", what, c.ids[i], err)
	}
	if res.StatusCode != http.StatusOK {
		return s, fmt.Errorf("%s call %d: %d %s", what, c.ids[i], res.StatusCode, body)
	}
	c.held[i] = s.hold
	return s, nil
}

// quantile is the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// procCPU is the processor time a process has used so far (user and
// system, from /proc/PID/stat; pid "self" is this one), or 0 if it is
// gone. Only a process's own threads count, not its children's.
func procCPU(pid string) time.Duration {
	return procStat(pid).cpu
}

// procInfo is what procStat reads of a process.
type procInfo struct {
	comm     string
	ppid     int
	cpu      time.Duration // its own
	children time.Duration // of its children that ended and were waited for
}

func procStat(pid string) procInfo {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return procInfo{}
	}
	open, end := strings.IndexByte(string(raw), '('), strings.LastIndexByte(string(raw), ')')
	if open < 0 || end < open {
		return procInfo{}
	}
	// After the command name, from field 3: the parent is field 4;
	// utime, stime, cutime and cstime are fields 14 to 17, in clock
	// ticks (USER_HZ, 100 on Linux).
	f := strings.Fields(string(raw[end+1:]))
	if len(f) < 15 {
		return procInfo{}
	}
	var n [5]int
	for i, field := range []int{1, 11, 12, 13, 14} {
		if n[i], err = strconv.Atoi(f[field]); err != nil {
			return procInfo{}
		}
	}
	tick := 10 * time.Millisecond
	return procInfo{comm: string(raw[open+1 : end]), ppid: n[0],
		cpu: time.Duration(n[1]+n[2]) * tick, children: time.Duration(n[3]+n[4]) * tick}
}

// postgresCPU is the processor time this test's PostgreSQL server
// (storetest's, a child of this process) has used so far: the
// postmaster's, its live backends' and those of its ended ones.
func postgresCPU() time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	procs := map[int]procInfo{}
	for _, d := range dirs {
		if pid, err := strconv.Atoi(d.Name()); err == nil {
			if p := procStat(d.Name()); p.comm == "postgres" {
				procs[pid] = p
			}
		}
	}
	var sum time.Duration
	for pid, p := range procs {
		if p.ppid != os.Getpid() {
			continue
		}
		sum += p.cpu + p.children
		for _, c := range procs {
			if c.ppid == pid {
				sum += c.cpu
			}
		}
	}
	return sum
}

// loadAvg is the machine's load average over 1, 5 and 15 minutes.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
