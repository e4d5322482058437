package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkSoak drives a real media server at a steady rate of mixed
// calls for a long while: a slice of calls starts every
// SWITCHBOARD_SOAK_EVERY (30s), and as each slice ends it reports the
// calls it offered, completed and failed, and switchboard's resident
// memory and goroutines (its /metrics); at the end,
// the call records left unfinished, which must be none. Memory and
// goroutines are reported, not asserted: flat is the target, judged by
// reading the table. The mix, of SWITCHBOARD_SOAK_RATE (50) calls a
// second: 30 % to a closed line (its 1 s after-hours message, the server's
// hang-up); 30 % to a queue line whose team of 40 agents (one SIPp phone)
// answers after 200 ms and hangs up after a second; 10 % to an IVR whose
// caller gives up in the menu after 4 s; 10 % to a line without agents,
// where the caller says nothing for 8 s and hangs up (a silent voicemail,
// discarded); 20 % to a queue line whose only agent is away, left after
// 2 s (abandoned).
//
//	SWITCHBOARD_SOAK_DURATION=10m SWITCHBOARD_SOAK_RATE=50 go test -run='^$' -bench=Soak -benchtime=1x -timeout 30m -v ./e2e
//
// SWITCHBOARD_SOAK_SERVER is asterisk (the default) or freeswitch.
func BenchmarkSoak(b *testing.B) {
	needSIPp(b, "soak")
	duration := envDuration("SWITCHBOARD_SOAK_DURATION", 10*time.Minute)
	every := envDuration("SWITCHBOARD_SOAK_EVERY", 30*time.Second)
	rate := 50
	if r, err := strconv.Atoi(os.Getenv("SWITCHBOARD_SOAK_RATE")); err == nil && r > 0 {
		rate = r
	}
	kind := os.Getenv("SWITCHBOARD_SOAK_SERVER")
	if kind == "" {
		kind = "asterisk"
	}
	srv := newBenchServer(b, kind)
	a := start(b, &realBackend{vars: srv.vars})
	loads := soakMix(b, a, srv, kind)

	var table strings.Builder
	fmt.Fprintf(&table, "%8s %8s %9s %6s %9s %10s\n", "minute", "offered", "completed", "failed", "RSS MiB", "goroutines")
	began := time.Now()
	sample := func(r loadResult) {
		rss, goroutines := a.gauge("process_resident_memory_bytes"), a.gauge("go_goroutines")
		fmt.Fprintf(&table, "%8.1f %8d %9d %6d %9.1f %10.0f\n", time.Since(began).Minutes(), r.offered, r.completed,
			r.offered-r.completed, rss/(1<<20), goroutines)
	}
	sample(loadResult{})
	// A slice of calls starts every SWITCHBOARD_SOAK_EVERY, each part of
	// the mix at its rate, whether the last slice's calls have ended or
	// not: the rate holds for the whole duration. A slice's row is
	// written when its last call has ended.
	slice := func(i int) loadResult {
		results := make([]loadResult, len(loads))
		var wg sync.WaitGroup
		for j, l := range loads {
			r := max(rate*l.percent/100, 1)
			wg.Go(func() { results[j] = l.load.run(b, fmt.Sprintf("slice-%03d", i), r, r*int(every.Seconds()), false) })
		}
		wg.Wait()
		var sum loadResult
		for _, r := range results {
			sum.offered, sum.completed = sum.offered+r.offered, sum.completed+r.completed
		}
		return sum
	}
	var offered, completed, started, ended int
	done := make(chan loadResult)
	record := func(r loadResult) {
		ended++
		offered, completed = offered+r.offered, completed+r.completed
		sample(r)
	}
	for ; time.Since(began) < duration; started++ {
		go func(i int) { done <- slice(i) }(started)
		next := time.After(time.Until(began.Add(time.Duration(started+1) * every)))
		for waiting := true; waiting; {
			select {
			case r := <-done:
				record(r)
			case <-next:
				waiting = false
			}
		}
	}
	for ended < started {
		record(<-done)
	}
	time.Sleep(benchSettle + 5*time.Second) // the queue's last callers, the agents' last calls
	unfinished := 0
	for _, status := range []string{"initial", "answered"} {
		var page struct {
			Meta struct {
				Total int `json:"total"`
			} `json:"meta"`
		}
		require.Equal(b, http.StatusOK, a.do("GET", "/v1/calls/search?per_page=1&status="+status, nil, &page))
		unfinished += page.Meta.Total
	}
	// What the calls were, as the records say: the mix went its ways.
	var st struct {
		Stats struct {
			Totals struct {
				Inbound  int            `json:"inbound_calls"`
				Answered int            `json:"answered_calls"`
				Missed   map[string]int `json:"missed_by_reason"`
			} `json:"totals"`
		} `json:"stats"`
	}
	require.Equal(b, http.StatusOK, a.do("GET", "/v1/stats", nil, &st))
	b.Logf("soak on %s at %d mixed calls/s for %v: %d offered, %d completed, %d failed, %d records left unfinished; "+
		"the records: %d inbound, %d answered, missed by reason %v\n%s",
		kind, rate, time.Since(began).Round(time.Second), offered, completed, offered-completed, unfinished,
		st.Stats.Totals.Inbound, st.Stats.Totals.Answered, st.Stats.Totals.Missed, table.String())
	b.ReportMetric(float64(offered-completed)/float64(max(offered, 1))*100, "%failed")
	require.Zero(b, unfinished, "every call record is finished")
}

// soakLoad is a part of the soak's mix: its callers, and its share.
type soakLoad struct {
	load    *benchLoad
	percent int
}

// soakMix configures the lines of the mix and gives their loads.
func soakMix(b *testing.B, a *app, srv *benchServer, kind string) []soakLoad {
	dir := filepath.Join(b.TempDir(), "soak")
	media := a.upload("prompt.wav", benchPrompt())
	prompt := map[string]any{"type": "media", "media_id": media["id"]}
	// The agents: one SIPp phone that answers every call.
	phones := newSIPp(b, srv.sip)
	phones.phone(b, "agents", phone{answerAfter: 200 * time.Millisecond, hangupAfter: time.Second})
	dial := "PJSIP/sipp/sip:%s@127.0.0.1:%d"
	if kind != "asterisk" {
		dial = "sofia/internal/%s@127.0.0.1:%d"
	}
	var agents []int64
	for i := range 40 {
		agents = append(agents, a.create("/v1/users", "user", map[string]any{"first_name": fmt.Sprintf("Agent%d", i),
			"email": fmt.Sprintf("agent%d@acme.test", i), "devices": []string{fmt.Sprintf(dial, fmt.Sprintf("agent%d", i), phones.port("agents"))}}))
	}
	team := a.create("/v1/teams", "team", map[string]any{"name": "Soak", "users": agents, "ringing_rule": "longest_idle"})
	away := a.create("/v1/users", "user", map[string]any{"first_name": "Away", "email": "away@acme.test",
		"devices": []string{fmt.Sprintf(dial, "away", phones.port("agents"))}})
	require.Equal(b, http.StatusOK, a.do("PUT", fmt.Sprintf("/v1/users/%d/availability", away), map[string]any{"availability_status": "unavailable"}, nil))
	nobody := a.create("/v1/teams", "team", map[string]any{"name": "Away", "users": []int64{away}})
	line := func(digits string, settings map[string]any) string {
		settings["name"], settings["digits"] = "Soak "+digits, digits
		a.create("/v1/numbers", "number", settings)
		return digits
	}
	queue := func(team int64) []any {
		return []any{map[string]any{"type": "team", "id": team, "ring_seconds": 60}}
	}
	closed := line(benchDigits, map[string]any{"availability_status": "closed", "voicemail": false,
		"message_settings": map[string]any{"after_hours": prompt}})
	answered := line("0176390862", map[string]any{"respect_queuing_time": true, "voicemail": false, "distribution": queue(team)})
	ivr := line("0176390863", map[string]any{"type": "ivr", "voicemail": false, "message_settings": map[string]any{"ivr": prompt},
		"ivr_options": []any{map[string]any{"key": "1", "target": map[string]any{"type": "team", "id": team}}}})
	voicemail := line("0176390864", map[string]any{})
	abandoned := line("0176390865", map[string]any{"respect_queuing_time": true, "voicemail": false, "distribution": queue(nobody)})
	return []soakLoad{
		{newBenchLoad(b, filepath.Join(dir, "closed"), srv.sip, closed), 30},
		{newBenchLoad(b, filepath.Join(dir, "answered"), srv.sip, answered), 30},
		{newHangupLoad(b, filepath.Join(dir, "ivr"), srv.sip, ivr, 4*time.Second), 10},
		{newHangupLoad(b, filepath.Join(dir, "voicemail"), srv.sip, voicemail, 8*time.Second), 10},
		{newHangupLoad(b, filepath.Join(dir, "abandoned"), srv.sip, abandoned, 2*time.Second), 20},
	}
}

// gauge reads a value of switchboard's /metrics (0 when absent).
func (a *app) gauge(name string) float64 {
	s := bufio.NewScanner(strings.NewReader(a.metrics()))
	for s.Scan() {
		if value, ok := strings.CutPrefix(s.Text(), name+" "); ok {
			v, _ := strconv.ParseFloat(value, 64)
			return v
		}
	}
	return 0
}

// metrics is what switchboard's /metrics says ("" when it does not answer).
func (a *app) metrics() string {
	res, err := http.Get(a.url + "/metrics")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return string(body)
}

func envDuration(name string, fallback time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return fallback
}
