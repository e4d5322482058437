package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/pbxlocal"
	"github.com/switchboard/switchboard/store/storetest"
)

// BenchmarkReal measures Switchboard on each real media server against
// the server's own dialplan doing the same call: SIPp offers an IVR-like
// call (answer, a 1 s prompt, hang-up) at rising rates, once to a number
// of Switchboard's that is closed, with an uploaded 1 s after-hours
// message and no voicemail, once to the extension `bench` of the native
// dialplan (Answer, Playback, Hangup; nativeDialplan), the two
// interleaved at each rate so that both see the same machine.
// Switchboard stays connected during the native steps, as on a server it
// shares: what the calls it does not run cost it and the server (its
// subscriptions) shows in their rows. Per rate and series it logs the calls offered, completed and failed, INVITE→200
// p50 and p95, the processor time per call of each process (switchboard,
// the media server, PostgreSQL, SIPp; "other %" is the rest of the
// machine, this test binary included, as a share of all its cores), the
// most connections open to the event port (ARI's HTTP server; the event
// socket), the most bytes queued on them, and on Asterisk the deepest
// queue of the ARI application's taskprocessor and of any taskprocessor
// (reset before each step), and its "queue reached" warnings. It reports
// each series' knee, the highest rate up to which every step had < 1 %
// failures and an answer p95 < 100 ms, their ratio, and how much slower
// Switchboard's answer p50 is than the native one below both knees.
// Targets: a knee ≥ 0.75 × native on Asterisk and ≥ 0.8 × on
// FreeSWITCH, the p50 within 5 ms of native. b.N is ignored: a run is a
// whole series.
//
//	go test -run='^$' -bench=Real -benchtime=1x -timeout 60m ./e2e
//
// Each step is a sub-benchmark (Real/asterisk/100/switchboard) reporting
// its figures; Real/<server>/knees reports the knees and logs the table,
// whole with -v (testing keeps 10 lines of a benchmark's log without).
//
// SWITCHBOARD_BENCH_RATES sets the rates (calls/s, comma-separated); a
// series stops two steps after its first failing one.
// SWITCHBOARD_BENCH_STEP sets a step's length (10s): each step offers
// rate × length calls. SWITCHBOARD_BENCH_PERF names a directory where
// each step's `perf record -g` of switchboard, the media server and
// PostgreSQL is kept (perf report -i <file> --comm <process>). SWITCHBOARD_BENCH_BINARY names a
// switchboard binary to measure instead of one built from ../cmd (to
// compare two versions on one machine).
//
// Everything runs on this one machine, load and servers alike: figures
// are the machine's (runtime.NumCPU cores), not the servers' alone. The
// benchmark needs the private servers (internal/pbxlocal), whose
// generated dialplan has the native `bench` extension and whose
// processes it can watch.
func BenchmarkReal(b *testing.B) {
	needSIPp(b, "benchmark")
	for _, kind := range []string{"asterisk", "freeswitch"} {
		b.Run(kind, func(b *testing.B) { benchmarkReal(b, kind) })
	}
}

// The benchmark's number, as the trunk dials it (national, SWITCHBOARD_COUNTRY=FR).
const benchDigits = "0176390861"

// nativeExten is the native dialplan's extension, in the context trunk
// callers arrive in.
const nativeExten = "bench"

// Step lengths and the benchmark's limits.
const (
	benchNoBye   = 10 * time.Second // a caller hangs up itself, failed, without the server's BYE by then
	benchNoReply = 15 * time.Second // a call without a final response by then is failed (SIPp's -recv_timeout)
	benchSettle  = 2 * time.Second  // measured after the last call, for the work that follows it
	maxFailures  = 0.01
	maxAnswerP95 = 100 * time.Millisecond
)

// The two series.
const (
	viaSwitchboard = "switchboard"
	viaNative      = "native"
)

// nativeDialplan writes the benchmark's prompt into dir and returns the
// native call of the server kind, as pbxlocal's Extra: an extension
// `bench` in the context trunk callers arrive in (Asterisk's from-trunk,
// FreeSWITCH's public) that answers, plays the prompt and hangs up.
// Every private server of the suite has it; no test dials it. Asterisk
// answers without waiting for the caller's media (Answer's i option:
// by default it waits up to 500 ms for a first frame, which SIPp never
// sends, and ARI's answer does not).
func nativeDialplan(kind, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	prompt := filepath.Join(dir, "bench-prompt.wav")
	if err := os.WriteFile(prompt, benchPrompt(), 0o644); err != nil {
		return "", err
	}
	switch kind {
	case "asterisk":
		return fmt.Sprintf("[from-trunk]\nexten => %s,1,Answer(,i)\n same => n,Playback(%s)\n same => n,Hangup()\n",
			nativeExten, strings.TrimSuffix(prompt, ".wav")), nil
	case "freeswitch":
		return fmt.Sprintf(`<context name="public">
    <extension name="bench">
      <condition field="destination_number" expression="^%s$">
        <action application="answer"/>
        <action application="playback" data="%s"/>
        <action application="hangup"/>
      </condition>
    </extension>
  </context>`, nativeExten, prompt), nil
	}
	return "", fmt.Errorf("no native dialplan for %s", kind)
}

// benchPrompt is the prompt both series play: 1 s of a 440 Hz tone as
// 8 kHz mono 16-bit PCM WAV, what Switchboard converts uploads to.
func benchPrompt() []byte {
	const rate, samples = 8000, 8000
	var buf bytes.Buffer
	put := func(v any) { binary.Write(&buf, binary.LittleEndian, v) }
	buf.WriteString("RIFF")
	put(uint32(36 + 2*samples))
	buf.WriteString("WAVEfmt ")
	put([]uint32{16})
	put([]uint16{1, 1}) // PCM, mono
	put([]uint32{rate, 2 * rate})
	put([]uint16{2, 16}) // block align, bits
	buf.WriteString("data")
	put(uint32(2 * samples))
	for i := range samples {
		put(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return buf.Bytes()
}

// benchServer is a private media server under benchmark.
type benchServer struct {
	kind      string
	vars      []string // switchboard's settings
	sip       string   // where callers send their INVITEs
	pid       int
	eventPort int    // ARI's HTTP server; the event socket
	log       string // the server's log file
	ast       *pbxlocal.Asterisk
}

func newBenchServer(b *testing.B, kind string) *benchServer {
	switch kind {
	case "asterisk":
		if os.Getenv("SWITCHBOARD_TEST_ARI_URL") != "" {
			b.Skip("SWITCHBOARD_TEST_ARI_URL names an Asterisk of your own: the benchmark needs the private one (its native dialplan, its process)")
		}
		a := private(b, "asterisk", &asterisk, pbxlocal.StartAsterisk)
		u, err := url.Parse(a.ARIURL)
		require.NoError(b, err)
		port, err := strconv.Atoi(u.Port())
		require.NoError(b, err)
		return &benchServer{kind: kind, sip: a.SIPAddr, pid: a.Pid(), eventPort: port, ast: a,
			log: filepath.Join(a.Dir(), "log", "messages.log"),
			vars: []string{"SWITCHBOARD_MEDIA=asterisk", "SWITCHBOARD_ARI_URL=" + a.ARIURL, "SWITCHBOARD_ARI_USER=" + a.ARIUser,
				"SWITCHBOARD_ARI_PASSWORD=" + a.ARIPassword, "SWITCHBOARD_ARI_APP=switchboard"}}
	default:
		if os.Getenv("SWITCHBOARD_TEST_ESL_ADDR") != "" {
			b.Skip("SWITCHBOARD_TEST_ESL_ADDR names a FreeSWITCH of your own: the benchmark needs the private one (its native dialplan, its process)")
		}
		f := private(b, "freeswitch", &fswitch, pbxlocal.StartFreeSWITCH)
		_, p, _ := strings.Cut(f.ESLAddr, ":")
		port, err := strconv.Atoi(p)
		require.NoError(b, err)
		return &benchServer{kind: kind, sip: f.SIPAddr, pid: f.Pid(), eventPort: port,
			log: filepath.Join(f.Dir(), "log", "freeswitch.log"),
			vars: []string{"SWITCHBOARD_MEDIA=freeswitch", "SWITCHBOARD_ESL_ADDR=" + f.ESLAddr,
				"SWITCHBOARD_ESL_PASSWORD=" + f.ESLPassword, "SWITCHBOARD_ESL_RECORDINGS=" + f.Recordings}}
	}
}

func benchmarkReal(b *testing.B, kind string) {
	srv := newBenchServer(b, kind)
	if bin := os.Getenv("SWITCHBOARD_BENCH_BINARY"); bin != "" {
		buildMu.Lock()
		binaries[false] = bin // what start runs in benchmarks
		buildMu.Unlock()
	}
	a := start(b, &realBackend{vars: srv.vars})
	media := a.upload("after-hours.wav", benchPrompt())
	a.create("/v1/numbers", "number", map[string]any{"name": "Bench", "digits": benchDigits,
		"availability_status": "closed", "voicemail": false,
		"message_settings": map[string]any{"after_hours": map[string]any{"type": "media", "media_id": media["id"]}}})
	procs := &benchProcs{switchboard: a.pid, server: srv.pid, postgres: postmaster(b)}
	dir := b.TempDir()
	load := func(mode string) *benchLoad {
		to := benchDigits
		if mode == viaNative {
			to = nativeExten
		}
		return newBenchLoad(b, filepath.Join(dir, mode), srv.sip, to)
	}
	loads := map[string]*benchLoad{viaSwitchboard: load(viaSwitchboard), viaNative: load(viaNative)}

	// The premise: one call of each goes answer, 1 s of prompt, the
	// server's BYE; Switchboard's plays the after-hours message.
	for _, mode := range []string{viaSwitchboard, viaNative} {
		r := loads[mode].run(b, "check", 1, 1, true)
		require.Equal(b, 1, r.completed, "%s: the call did not complete: %s", mode, r.report())
		prompt := r.prompt()
		require.GreaterOrEqual(b, prompt, 900*time.Millisecond, "%s: the server hung up before the 1 s prompt was over", mode)
		b.Logf("%s call: answered in %v, hung up %v after", mode, r.latencies[0], prompt)
	}
	calls := a.calls(1)
	events := calls[0].events()
	b.Logf("switchboard's call: %v, missed: %v", calls[0].Timeline, deref(calls[0].MissedCallReason))
	require.Subset(b, events, []string{"call.created", "call.out_of_opening_hours", "call.message_played", "call.ended"})
	require.NotContains(b, events, "call.message_failed")
	require.NotContains(b, events, "call.voicemail_left")

	// Warm up both (caches, connections, PostgreSQL's statistics).
	for _, mode := range []string{viaSwitchboard, viaNative} {
		loads[mode].run(b, "warm-up", 25, 100, false)
	}
	time.Sleep(2 * time.Second)

	length := 10 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SWITCHBOARD_BENCH_STEP")); err == nil && d > 0 {
		length = d
	}
	perfDir := os.Getenv("SWITCHBOARD_BENCH_PERF")
	results := map[string][]stepResult{}
	firstFail := map[string]int{}
	running := func(mode string, i int) bool { f, failed := firstFail[mode]; return !failed || i <= f+2 }
	for i, rate := range benchRates() {
		order := []string{viaSwitchboard, viaNative}
		if i%2 == 1 {
			slices.Reverse(order) // neither always goes first
		}
		order = slices.DeleteFunc(order, func(mode string) bool { return !running(mode, i) })
		if len(order) == 0 {
			break
		}
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			for _, mode := range order {
				b.Run(mode, func(b *testing.B) {
					s := measureStep(b, srv, procs, loads[mode], mode, rate, int(float64(rate)*length.Seconds()), perfDir)
					s.report(b)
					results[mode] = append(results[mode], s)
					if _, failed := firstFail[mode]; !failed && !s.passed() {
						firstFail[mode] = i
					}
				})
				settle(procs)
			}
		})
	}
	b.Run("knees", func(b *testing.B) { reportSeries(b, kind, results) })
}

// report reports the step's figures, as the table of reportSeries has
// them; Asterisk's deepest taskprocessor is logged.
func (s stepResult) report(b *testing.B) {
	perCall := func(d time.Duration, unit string) {
		if d >= 0 {
			b.ReportMetric(ms64(d)/float64(s.offered), unit)
		}
	}
	b.ReportMetric(float64(s.offered), "offered")
	b.ReportMetric(float64(s.completed), "completed")
	b.ReportMetric(float64(s.failed()), "failed")
	b.ReportMetric(ms64(s.p50), "p50-ms")
	b.ReportMetric(ms64(s.p95), "p95-ms")
	perCall(s.cpu.switchboard, "sb-cpu-ms/call")
	perCall(s.cpu.server, "server-cpu-ms/call")
	perCall(s.cpu.postgres, "pg-cpu-ms/call")
	perCall(s.cpu.sipp, "sipp-cpu-ms/call")
	perCall(s.cpu.total(), "all-cpu-ms/call")
	b.ReportMetric(100*s.others, "other-%")
	b.ReportMetric(float64(s.conns), "event-conns")
	b.ReportMetric(float64(s.queued)/1024, "event-queued-KB")
	if s.topQueue != "" {
		b.ReportMetric(float64(s.appQueue), "ari-app-queue")
		b.ReportMetric(float64(s.appTasks)/float64(s.offered), "ari-app-tasks/call")
		b.Logf("deepest taskprocessor %s; %d \"queue reached\" warnings", s.topQueue, s.warnings)
	}
}

func deref(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

// benchRates are the rates of the steps: SWITCHBOARD_BENCH_RATES, or the
// default.
func benchRates() []int {
	rates := []int{25, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800}
	if v := os.Getenv("SWITCHBOARD_BENCH_RATES"); v != "" {
		rates = nil
		for _, f := range strings.Split(v, ",") {
			if r, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && r > 0 {
				rates = append(rates, r)
			}
		}
	}
	return rates
}

// stepResult is one step of a series: one rate, one way.
type stepResult struct {
	mode    string
	rate    int
	wall    time.Duration // from the first call to the last, and the settling after
	offered int
	// completed calls were answered and then hung up by the server; the
	// others failed: rejected, no BYE in time, or aborted by SIPp (no
	// final response, an unexpected message).
	completed, rejected, noBye int
	rejectedBy                 map[int]int // SIP status → calls
	p50, p95                   time.Duration
	cpu                        procTimes // during wall
	others                     float64   // the rest of the machine: a share of all its cores
	conns                      int       // established connections to the event port, at most
	queued                     int       // bytes queued on them, at most
	appQueue                   int       // Asterisk: the ARI application's taskprocessor, deepest
	appTasks                   int       // Asterisk: the tasks it processed (events for the application)
	topQueue                   string    // Asterisk: the deepest taskprocessor
	warnings                   int       // Asterisk: "queue reached" warnings
}

func (s stepResult) failed() int { return s.offered - s.completed }

// rejections are the calls rejected, and by which SIP statuses: "12
// (503)", "30 (486:10 503:20)".
func (s stepResult) rejections() string {
	if s.rejected == 0 {
		return "0"
	}
	var codes []string
	for _, code := range slices.Sorted(maps.Keys(s.rejectedBy)) {
		codes = append(codes, fmt.Sprintf("%d:%d", code, s.rejectedBy[code]))
	}
	if len(codes) == 1 {
		codes[0], _, _ = strings.Cut(codes[0], ":")
	}
	return fmt.Sprintf("%d (%s)", s.rejected, strings.Join(codes, " "))
}

// passed: < 1 % of the calls failed, and 95 % were answered in < 100 ms.
func (s stepResult) passed() bool {
	return s.offered > 0 && float64(s.failed()) < maxFailures*float64(s.offered) && s.completed > 0 && s.p95 < maxAnswerP95
}

// measureStep offers rate calls a second, n in all, and measures.
func measureStep(b *testing.B, srv *benchServer, procs *benchProcs, load *benchLoad, mode string, rate, n int, perfDir string) stepResult {
	ctx := context.Background()
	if srv.ast != nil {
		_, err := srv.ast.CLI(ctx, "core reset taskprocessors")
		require.NoError(b, err)
	}
	logFrom := fileSize(srv.log)
	stopPerf := func() {}
	if perfDir != "" {
		stopPerf = record(b, procs, filepath.Join(perfDir, fmt.Sprintf("%s-%s-%d", srv.kind, mode, rate)))
		defer stopPerf()
	}
	watch := watchConnections(srv.eventPort)
	defer watch()
	cpu0, busy0 := procs.read(), machineBusy()
	began := time.Now()
	r := load.run(b, fmt.Sprintf("%d", rate), rate, n, false)
	time.Sleep(benchSettle)
	cpu1, busy1 := procs.read(), machineBusy()
	cpu1.sipp = r.cpu
	wall := time.Since(began)
	conns, queued := watch()
	stopPerf()
	s := stepResult{mode: mode, rate: rate, wall: wall, offered: r.offered, completed: r.completed,
		rejected: r.rejected, rejectedBy: r.rejectedBy, noBye: r.noBye, cpu: cpu1.sub(cpu0), conns: conns, queued: queued}
	s.p50, s.p95 = percentile(r.latencies, 50), percentile(r.latencies, 95)
	s.others = float64(busy1-busy0-s.cpu.total()) / float64(wall) / float64(runtime.NumCPU())
	if srv.ast != nil {
		out, err := srv.ast.CLI(ctx, "core show taskprocessors")
		require.NoError(b, err)
		s.appQueue, s.appTasks, s.topQueue = taskQueues(out, "switchboard")
		s.warnings = countSince(srv.log, logFrom, "queue reached")
	}
	return s
}

// record runs `perf record` on the processes until the returned function
// is called: name.data, and perf's output in name.log.
func record(b *testing.B, procs *benchProcs, name string) (stop func()) {
	require.NoError(b, os.MkdirAll(filepath.Dir(name), 0o755))
	log, err := os.Create(name + ".log")
	require.NoError(b, err)
	perf := exec.Command("perf", "record", "-q", "-e", "cpu-clock", "-g", "-F", "499", "-o", name+".data", "-p", procs.pids())
	perf.Stdout, perf.Stderr = log, log
	if err := perf.Start(); err != nil {
		log.Close()
		b.Fatalf("perf record: %v", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			perf.Process.Signal(os.Interrupt)
			perf.Wait()
			log.Close()
		})
	}
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[min(len(d)-1, len(d)*p/100)]
}

// taskQueues reads `core show taskprocessors` (since a reset): the
// deepest queue of the ARI application's taskprocessors (named after it:
// app) and the tasks they processed, and the deepest taskprocessor of
// all, as "name:depth".
func taskQueues(out, app string) (appDepth, appTasks int, top string) {
	best := -1
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		processed, err1 := strconv.Atoi(f[1]) // Processed, In Queue, Max Depth
		depth, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		if strings.Contains(f[0], app) {
			appDepth, appTasks = max(appDepth, depth), appTasks+processed
		}
		if depth > best {
			best, top = depth, fmt.Sprintf("%s:%d", f[0], depth)
		}
	}
	return appDepth, appTasks, top
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// countSince counts the lines of a log, from offset on, that contain s.
func countSince(path string, offset int64, s string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return 0
	}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// reportSeries logs the table, the knees and their ratio, and reports
// the headline figures.
func reportSeries(b *testing.B, kind string, results map[string][]stepResult) {
	byRate := map[int][]stepResult{} // switchboard's step first
	var rates []int
	for _, mode := range []string{viaSwitchboard, viaNative} {
		for _, s := range results[mode] {
			if _, ok := byRate[s.rate]; !ok {
				rates = append(rates, s.rate)
			}
			byRate[s.rate] = append(byRate[s.rate], s)
		}
	}
	slices.Sort(rates)
	both := func(rate int) bool { return len(byRate[rate]) == 2 }

	sbKnee, sbCapped := knee(results[viaSwitchboard])
	nativeKnee, nativeCapped := knee(results[viaNative])
	bound := func(capped bool) string {
		if capped {
			return " (no step failed: at least)"
		}
		return ""
	}
	ratio := 0.0
	if nativeKnee > 0 {
		ratio = float64(sbKnee) / float64(nativeKnee)
	}
	// Below both knees, how much slower Switchboard's answer p50 is.
	excess, excessAt := math.Inf(-1), 0
	for _, rate := range rates {
		if rate <= min(sbKnee, nativeKnee) && both(rate) {
			if d := ms64(byRate[rate][0].p50) - ms64(byRate[rate][1].p50); d > excess {
				excess, excessAt = d, rate
			}
		}
	}
	target := map[string]float64{"asterisk": 0.75, "freeswitch": 0.8}[kind]
	p50 := "no rate below both knees"
	if !math.IsInf(excess, -1) {
		p50 = fmt.Sprintf("at most %.1f ms over native below both knees (at %d/s)", excess, excessAt)
	}
	b.Logf("%s knees: switchboard %d/s%s, native %d/s%s; ratio %.2f (target ≥ %.2f); switchboard's answer p50 %s (target ≤ 5 ms)",
		kind, sbKnee, bound(sbCapped), nativeKnee, bound(nativeCapped), ratio, target, p50)
	b.ReportMetric(float64(sbKnee), "sb-knee-calls/s")
	b.ReportMetric(float64(nativeKnee), "native-knee-calls/s")
	b.ReportMetric(ratio, "knee-ratio")
	if !math.IsInf(excess, -1) {
		b.ReportMetric(excess, "p50-over-native-ms")
	}
	// What a call costs the machine, at the highest rate both passed.
	for _, rate := range slices.Backward(rates) {
		if rate <= min(sbKnee, nativeKnee) && both(rate) {
			sb, nat := byRate[rate][0], byRate[rate][1]
			b.ReportMetric(ms64(sb.cpu.total())/float64(sb.offered), "cpu-ms/call-via-sb")
			b.ReportMetric(ms64(nat.cpu.total())/float64(nat.offered), "cpu-ms/call-native")
			break
		}
	}

	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "rate/s\tseries\toffered\tcompleted\tfailed\trejected\tno BYE\taborted\tp50 ms\tp95 ms\t"+
		"CPU/call sb\tserver\tpg\tsipp\tall\tother %\tconns\tqueued KB\tapp queue\tapp tasks/call\tdeepest taskprocessor\twarnings\tpass\t")
	perCall := func(d time.Duration, n int) string {
		if d < 0 || n == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", ms64(d)/float64(n))
	}
	for _, rate := range rates {
		for _, s := range byRate[rate] {
			app, tasks, top, warn := "-", "-", "-", "-"
			if s.topQueue != "" {
				app, top, warn = fmt.Sprint(s.appQueue), s.topQueue, fmt.Sprint(s.warnings)
				tasks = fmt.Sprintf("%.1f", float64(s.appTasks)/float64(s.offered))
			}
			fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%.0f\t%d\t%.1f\t%s\t%s\t%s\t%s\t%v\t\n",
				s.rate, s.mode, s.offered, s.completed, s.failed(), s.rejections(), s.noBye, s.failed()-s.rejected-s.noBye,
				ms64(s.p50), ms64(s.p95),
				perCall(s.cpu.switchboard, s.offered), perCall(s.cpu.server, s.offered), perCall(s.cpu.postgres, s.offered),
				perCall(s.cpu.sipp, s.offered), perCall(s.cpu.total(), s.offered), 100*s.others,
				s.conns, float64(s.queued)/1024, app, tasks, top, warn, s.passed())
		}
	}
	w.Flush()
	b.Logf("%s: CPU in ms per offered call; %d cores shared by switchboard, the media server, PostgreSQL, SIPp "+
		"and everything else (other %%, of all cores); a step passes with < %.0f %% failed and p95 < %v:\n%s",
		kind, runtime.NumCPU(), 100*maxFailures, maxAnswerP95, buf.String())
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// knee is the highest rate up to which every step passed; capped when
// no step failed (the knee is higher than the rates tried).
func knee(steps []stepResult) (rate int, capped bool) {
	for _, s := range steps {
		if !s.passed() {
			return rate, false
		}
		rate = s.rate
	}
	return rate, true
}

// settle waits, at most 30 s, until switchboard, the media server and
// PostgreSQL are idle (under 5 % of a core for half a second): the
// calls of a step that overloaded them must not spill into the next.
func settle(p *benchProcs) {
	const window = 500 * time.Millisecond
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		before := p.read()
		time.Sleep(window)
		used := p.read().sub(before)
		if float64(used.switchboard+used.server+used.postgres) < 0.05*float64(window) {
			return
		}
	}
}

// benchProcs are the processes whose processor time is measured.
type benchProcs struct {
	switchboard, server, postgres int // pids; postgres 0 if unknown
}

// procTimes is processor time (user and system) by process; -1 unknown.
type procTimes struct {
	switchboard, server, postgres, sipp time.Duration
}

func (p procTimes) sub(q procTimes) procTimes {
	d := func(a, b time.Duration) time.Duration {
		if a < 0 || b < 0 {
			return -1
		}
		return a - b
	}
	return procTimes{d(p.switchboard, q.switchboard), d(p.server, q.server), d(p.postgres, q.postgres), d(p.sipp, q.sipp)}
}

func (p procTimes) total() time.Duration {
	var t time.Duration
	for _, d := range []time.Duration{p.switchboard, p.server, p.postgres, p.sipp} {
		t += max(d, 0)
	}
	return t
}

// read is the processor time used so far: switchboard's and the media
// server's (every thread), and PostgreSQL's: the postmaster, every
// backend alive, and those gone (reaped by the postmaster).
func (p *benchProcs) read() procTimes {
	t := procTimes{switchboard: -1, server: -1, postgres: -1}
	if st, err := readStat(p.switchboard); err == nil {
		t.switchboard = st.self
	}
	if st, err := readStat(p.server); err == nil {
		t.server = st.self
	}
	if p.postgres > 0 {
		if st, err := readStat(p.postgres); err == nil {
			t.postgres = st.self + st.reaped
			for _, child := range children(p.postgres) {
				t.postgres += child.self + child.reaped
			}
		}
	}
	return t
}

// pids lists the processes for perf: switchboard, the media server,
// PostgreSQL's postmaster and the backends it has.
func (p *benchProcs) pids() string {
	pids := []string{fmt.Sprint(p.switchboard), fmt.Sprint(p.server)}
	if p.postgres > 0 {
		pids = append(pids, fmt.Sprint(p.postgres))
		for _, child := range children(p.postgres) {
			pids = append(pids, fmt.Sprint(child.pid))
		}
	}
	return strings.Join(pids, ",")
}

// stat is what /proc/<pid>/stat tells of a process.
type stat struct {
	pid, ppid    int
	self, reaped time.Duration // its own time; its children's it waited for
}

// readStat reads /proc/<pid>/stat: the fields after the command name
// (which may hold spaces), from the state (field 3): ppid is field 4,
// utime, stime, cutime and cstime fields 14 to 17, in clock ticks
// (USER_HZ, 100 on Linux).
func readStat(pid int) (stat, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 15 {
		return stat{}, errors.New("short /proc stat")
	}
	n := make([]int64, 5)
	for i, idx := range []int{1, 11, 12, 13, 14} {
		if n[i], err = strconv.ParseInt(f[idx], 10, 64); err != nil {
			return stat{}, err
		}
	}
	tick := 10 * time.Millisecond
	return stat{pid: pid, ppid: int(n[0]), self: time.Duration(n[1]+n[2]) * tick, reaped: time.Duration(n[3]+n[4]) * tick}, nil
}

// children are the processes whose parent is pid.
func children(pid int) []stat {
	entries, _ := os.ReadDir("/proc")
	var out []stat
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(child); err == nil && st.ppid == pid {
			out = append(out, st)
		}
	}
	return out
}

// machineBusy is the processor time the whole machine has spent busy
// (every core, neither idle nor waiting for I/O), from /proc/stat.
func machineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	var busy int64
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest time is in user already
			busy += v
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond
}

// postmaster is the pid of the suite's PostgreSQL server, from the lock
// file of its socket; 0 (not measured) for a server of the user's own.
func postmaster(b *testing.B) int {
	u, err := url.Parse(storetest.URL(b))
	if err != nil {
		return 0
	}
	host, port := u.Query().Get("host"), u.Query().Get("port")
	raw, err := os.ReadFile(filepath.Join(host, ".s.PGSQL."+port+".lock"))
	if err != nil || os.Getenv(storetest.EnvURL) != "" {
		b.Logf("PostgreSQL's processor time is not measured: %v", err)
		return 0
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0
	}
	return pid
}

// watchConnections samples, every 100 ms until the returned function is
// first called, the TCP connections to port on the loopback (/proc/net/tcp):
// it returns the most established at once, and the most bytes queued
// on them at once, on both ends (sent and not yet acknowledged, received
// and not yet read): the event backlog between the server and
// switchboard, and requests waiting.
func watchConnections(port int) func() (conns, queued int) {
	var mu sync.Mutex
	var maxConns, maxQueued int
	done, stopped := make(chan struct{}), make(chan struct{})
	sample := func() {
		c, q := tcpConnections(port)
		mu.Lock()
		maxConns, maxQueued = max(maxConns, c), max(maxQueued, q)
		mu.Unlock()
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() (int, int) {
		once.Do(func() { close(done) })
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return maxConns, maxQueued
	}
}

// tcpConnections counts the established connections whose server end
// is port, and the bytes queued on either end of them.
func tcpConnections(port int) (conns, queued int) {
	raw, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return 0, 0
	}
	portOf := func(addr string) int {
		_, hex, _ := strings.Cut(addr, ":")
		p, _ := strconv.ParseInt(hex, 16, 32)
		return int(p)
	}
	for _, line := range strings.Split(string(raw), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 || f[3] != "01" { // ESTABLISHED
			continue
		}
		local, remote := portOf(f[1]), portOf(f[2])
		if local != port && remote != port {
			continue
		}
		if local == port {
			conns++
		}
		tx, rx, _ := strings.Cut(f[4], ":")
		t, _ := strconv.ParseInt(tx, 16, 64)
		r, _ := strconv.ParseInt(rx, 16, 64)
		queued += int(t + r)
	}
	return conns, queued
}

// benchLoad is SIPp offering the benchmark's calls to one number.
type benchLoad struct {
	server, dir, scenario string
	at                    scenarioCounts
}

// scenarioCounts are the elements of the scenario whose counts tell the
// calls' outcomes (SIPp's -trace_counts numbers them from 0).
type scenarioCounts struct {
	invite, completed, noBye, rejected int
	rejections                         map[int]int // SIP status → its reception
}

func newBenchLoad(b *testing.B, dir, server, to string) *benchLoad {
	xml, at := loadScenario(to)
	return writeLoad(b, dir, server, xml, at)
}

// newHangupLoad is a load whose callers hang up themselves, after
// (hangupScenario).
func newHangupLoad(b *testing.B, dir, server, to string, after time.Duration) *benchLoad {
	xml, at := hangupScenario(to, after)
	return writeLoad(b, dir, server, xml, at)
}

func writeLoad(b *testing.B, dir, server, xml string, at scenarioCounts) *benchLoad {
	require.NoError(b, os.MkdirAll(dir, 0o755))
	l := &benchLoad{server: server, dir: dir, scenario: filepath.Join(dir, "caller.xml"), at: at}
	require.NoError(b, os.WriteFile(l.scenario, []byte(xml), 0o644))
	return l
}

// hangupScenario is a caller who hangs up after being answered for after
// (leaving a silent voicemail, giving up in a menu or a queue): INVITE,
// 200 OK, ACK, then its own BYE, answered: the call completed. A
// rejection is acknowledged: failed.
func hangupScenario(to string, after time.Duration) (string, scenarioCounts) {
	u := uac{from: caller1, to: to}
	var x sippXML
	var at scenarioCounts
	x.offer(u, &at)
	x.recv(`response="200" rrs="true"`)
	x.send(``, u.request("ACK", "[next_url]", "[branch]", 1, true))
	fmt.Fprintf(&x.b, "  <pause milliseconds=\"%d\"/>\n", ms(after))
	x.send(``, u.request("BYE", "[next_url]", "[branch]", 2, true))
	at.completed = x.count()
	x.recv(`response="200" next="end"`)
	at.noBye = -1 // the caller ends it: never the server's BYE to wait for
	x.label("rejected")
	at.rejected = x.count()
	x.send(``, u.request("ACK", u.uri(), inviteBranch, 1, true))
	x.label("end")
	return x.xml("bench caller who hangs up"), at
}

// loadScenario is the benchmark's caller: an INVITE to to, any
// provisional responses, 200 OK, ACK, then the server's BYE, answered:
// the call completed. Without a BYE within benchNoBye the caller hangs up
// itself; a rejection is acknowledged: both failed. (So does a call SIPp
// aborts: no final response within its -recv_timeout, an unexpected
// message.)
//
// The INVITE→200 time of each answered call is logged (-trace_logs), in
// µs, from the clock read just before the INVITE is sent and as the 200
// is taken: SIPp's own response times (rtd) count in ticks of 4 ms here.
// SIPp's loop adds about a millisecond to every figure, the same in both
// series.
func loadScenario(to string) (string, scenarioCounts) {
	u := uac{from: caller1, to: to}
	var x sippXML
	var at scenarioCounts
	x.action(`<gettimeofday assign_to="sent_s,sent_us"/>`)
	x.offer(u, &at)
	x.recv(`response="200" rrs="true"`,
		`<gettimeofday assign_to="answered_s,answered_us"/>`,
		`<subtract assign_to="answered_s" variable="sent_s"/>`,
		`<subtract assign_to="answered_us" variable="sent_us"/>`,
		`<multiply assign_to="answered_s" value="1000000"/>`,
		`<add assign_to="answered_s" variable="answered_us"/>`,
		`<log message="[$answered_s]"/>`)
	x.send(``, u.request("ACK", "[next_url]", "[branch]", 1, true))
	x.recv(fmt.Sprintf(`request="BYE" timeout="%d" ontimeout="nobye"`, ms(benchNoBye)))
	at.completed = x.count()
	x.send(`next="end"`, reply("200 OK", false))
	x.label("nobye")
	at.noBye = x.count()
	x.send(``, u.request("BYE", "[next_url]", "[branch]", 2, true))
	x.recv(`response="200" next="end"`)
	x.label("rejected")
	at.rejected = x.count()
	x.send(``, u.request("ACK", u.uri(), inviteBranch, 1, true))
	x.label("end")
	return x.xml("bench caller"), at
}

// count is how many elements x holds: the index of the next one (SIPp's
// -trace_counts numbers them from 0).
func (x *sippXML) count() int {
	s := "\n" + x.b.String()
	return strings.Count(s, "\n  <send") + strings.Count(s, "\n  <recv") + strings.Count(s, "\n  <nop") +
		strings.Count(s, "\n  <pause")
}

// offer writes a bench caller's INVITE, the provisional responses it
// takes, and the rejections it acknowledges (at "rejected"), noting their
// elements in at.
func (x *sippXML) offer(u uac, at *scenarioCounts) {
	at.invite = x.count()
	x.send(`retrans="500"`, u.invite(0))
	x.label("progress")
	for _, code := range []int{100, 180, 183} {
		x.recv(fmt.Sprintf(`response="%d" optional="true" next="progress"`, code))
	}
	at.rejections = map[int]int{}
	for _, code := range rejections {
		at.rejections[code] = x.count()
		x.recv(fmt.Sprintf(`response="%d" optional="true" next="rejected"`, code))
	}
}

// loadResult is what one SIPp run says.
type loadResult struct {
	dir                                 string
	offered, completed, noBye, rejected int
	rejectedBy                          map[int]int     // SIP status → calls
	latencies                           []time.Duration // INVITE→200 of each answered call
	cpu                                 time.Duration   // SIPp's own
	messages                            string          // with trace: the SIP messages
}

// run offers n calls at rate a second in one SIPp process and waits for
// it to end; trace keeps every SIP message (for one call, not a load).
func (l *benchLoad) run(b *testing.B, name string, rate, n int, trace bool) loadResult {
	dir := filepath.Join(l.dir, name)
	require.NoError(b, os.MkdirAll(dir, 0o755))
	port, err := freePort("udp4")
	require.NoError(b, err)
	limit := benchNoReply + benchNoBye + 30*time.Second + time.Duration(n/rate+1)*time.Second
	args := []string{l.server, "-sf", l.scenario, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", fmt.Sprint(port), "-nostdin",
		"-r", fmt.Sprint(rate), "-rp", "1000", "-m", fmt.Sprint(n), "-l", "10000",
		"-recv_timeout", fmt.Sprint(ms(benchNoReply)), "-timeout", fmt.Sprintf("%ds", int(limit.Seconds())),
		"-trace_logs", "-log_file", filepath.Join(dir, "answered.log"),
		"-trace_counts", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	if trace {
		args = append(args, "-trace_msg", "-message_file", filepath.Join(dir, "messages.log"))
	}
	out, err := os.Create(filepath.Join(dir, "output.log"))
	require.NoError(b, err)
	defer out.Close()
	cmd := tied(exec.Command("sipp", args...))
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.WaitDelay = time.Second
	require.NoError(b, cmd.Start(), "sipp %v", args)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done: // exit 1: some calls failed, which the counts say
	case <-time.After(limit + 10*time.Second):
		cmd.Process.Kill()
		<-done
		b.Fatalf("SIPp never ended (%s)", dir)
	}
	r := loadResult{dir: dir, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	counts, err := sippCounts(dir)
	require.NoError(b, err, "SIPp's counts in %s", dir)
	// Completed: the 200 OK to the server's BYE sent, or to the caller's
	// own BYE received.
	r.offered, r.completed = counts[l.at.invite]["Sent"], counts[l.at.completed]["Sent"]+counts[l.at.completed]["Recv"]
	r.noBye, r.rejected = counts[l.at.noBye]["Sent"], counts[l.at.rejected]["Sent"]
	r.rejectedBy = map[int]int{}
	for code, at := range l.at.rejections {
		if n := counts[at]["Recv"]; n > 0 {
			r.rejectedBy[code] = n
		}
	}
	r.latencies, err = answerTimes(filepath.Join(dir, "answered.log"))
	require.NoError(b, err, "SIPp's response times in %s", dir)
	if trace {
		raw, _ := os.ReadFile(filepath.Join(dir, "messages.log"))
		r.messages = string(raw)
	}
	require.Equal(b, n, r.offered, "SIPp placed every call: %s", r.report())
	return r
}

func (r loadResult) report() string {
	var b strings.Builder
	for _, f := range []string{"errors.log", "output.log"} {
		raw, _ := os.ReadFile(filepath.Join(r.dir, f))
		s := strings.TrimSpace(string(raw))
		if len(s) > 3000 {
			s = "…" + s[len(s)-3000:]
		}
		fmt.Fprintf(&b, "\n%s:\n%s", f, s)
	}
	return b.String()
}

// prompt is, from a traced call, the time from the 200 OK to the
// server's BYE: how long the caller heard the prompt.
func (r loadResult) prompt() time.Duration {
	var at time.Time
	var answered, bye time.Time
	for _, line := range strings.Split(r.messages, "\n") {
		if stamp, ok := strings.CutPrefix(line, "----------------------------------------------- "); ok {
			at, _ = time.ParseInLocation("2006-01-02 15:04:05.000000", strings.TrimSpace(stamp), time.Local)
			continue
		}
		switch {
		case strings.HasPrefix(line, "SIP/2.0 200") && answered.IsZero():
			answered = at
		case strings.HasPrefix(line, "BYE ") && bye.IsZero() && !answered.IsZero():
			bye = at
		}
	}
	if answered.IsZero() || bye.IsZero() {
		return 0
	}
	return bye.Sub(answered)
}

// sippCounts reads the last line of SIPp's -trace_counts file: by
// element of the scenario, by what ("Sent", "Recv", "Timeout", …).
func sippCounts(dir string) (map[int]map[string]int, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*_counts.csv"))
	if len(files) != 1 {
		return nil, fmt.Errorf("%d counts files", len(files))
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) < 2 {
		return nil, errors.New("no counts")
	}
	names, values := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	counts := map[int]map[string]int{}
	for i, name := range names {
		idx, rest, ok := strings.Cut(name, "_")
		element, err := strconv.Atoi(idx)
		if !ok || err != nil || i >= len(values) {
			continue
		}
		what := rest[strings.LastIndexByte(rest, '_')+1:]
		v, _ := strconv.Atoi(values[i])
		if counts[element] == nil {
			counts[element] = map[string]int{}
		}
		counts[element][what] = v
	}
	return counts, nil
}

// answerTimes reads the INVITE→200 times the scenario logged, in µs.
func answerTimes(path string) ([]time.Duration, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // no call answered
	}
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, line := range strings.Fields(string(raw)) {
		us, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q", path, line)
		}
		out = append(out, time.Duration(us*float64(time.Microsecond)))
	}
	return out, nil
}
