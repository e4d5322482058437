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
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkSoak drives a real media server at a steady rate for a long
// while, with BenchmarkReal's call (SIPp calls the closed number: answer,
// its 1 s after-hours message, the server's hang-up), and reports, every
// SWITCHBOARD_SOAK_EVERY (30s), the calls offered, completed and failed
// in that slice, and switchboard's resident memory and goroutines (its
// /metrics); at the end, the call records left unfinished, which must be
// none. Memory and goroutines are reported, not asserted: flat is the
// target, judged by reading the table.
//
//	SWITCHBOARD_SOAK_DURATION=10m SWITCHBOARD_SOAK_RATE=20 go test -run='^$' -bench=Soak -benchtime=1x -timeout 30m -v ./e2e
//
// SWITCHBOARD_SOAK_SERVER is asterisk (the default) or freeswitch.
func BenchmarkSoak(b *testing.B) {
	needSIPp(b, "soak")
	duration := envDuration("SWITCHBOARD_SOAK_DURATION", 10*time.Minute)
	every := envDuration("SWITCHBOARD_SOAK_EVERY", 30*time.Second)
	rate := 20
	if r, err := strconv.Atoi(os.Getenv("SWITCHBOARD_SOAK_RATE")); err == nil && r > 0 {
		rate = r
	}
	kind := os.Getenv("SWITCHBOARD_SOAK_SERVER")
	if kind == "" {
		kind = "asterisk"
	}
	srv := newBenchServer(b, kind)
	a := start(b, &realBackend{vars: srv.vars})
	media := a.upload("after-hours.wav", benchPrompt())
	a.create("/v1/numbers", "number", map[string]any{"name": "Soak", "digits": benchDigits,
		"availability_status": "closed", "voicemail": false,
		"message_settings": map[string]any{"after_hours": map[string]any{"type": "media", "media_id": media["id"]}}})
	load := newBenchLoad(b, filepath.Join(b.TempDir(), "soak"), srv.sip, benchDigits)

	var table strings.Builder
	fmt.Fprintf(&table, "%8s %8s %9s %6s %9s %10s\n", "minute", "offered", "completed", "failed", "RSS MiB", "goroutines")
	sample := func(at time.Duration, r loadResult) {
		rss, goroutines := a.gauge("process_resident_memory_bytes"), a.gauge("go_goroutines")
		fmt.Fprintf(&table, "%8.1f %8d %9d %6d %9.1f %10.0f\n", at.Minutes(), r.offered, r.completed,
			r.offered-r.completed, rss/(1<<20), goroutines)
	}
	sample(0, loadResult{})
	began := time.Now()
	var offered, completed int
	for i := 0; time.Since(began) < duration; i++ {
		r := load.run(b, fmt.Sprintf("slice-%03d", i), rate, rate*int(every.Seconds()), false)
		offered, completed = offered+r.offered, completed+r.completed
		sample(time.Since(began), r)
	}
	time.Sleep(benchSettle)
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
	b.Logf("soak on %s at %d calls/s for %v: %d offered, %d completed, %d failed, %d records left unfinished\n%s",
		kind, rate, time.Since(began).Round(time.Second), offered, completed, offered-completed, unfinished, table.String())
	b.ReportMetric(float64(offered-completed)/float64(max(offered, 1))*100, "%failed")
	require.Zero(b, unfinished, "every call record is finished")
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
