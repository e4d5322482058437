package ari

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/pbxlocal"
)

// BenchmarkRealAsteriskRequests measures how many ARI requests a real
// Asterisk 22 answers, and how many fail, with 256 requests always
// waiting (a burst of calls): with the pool bounded to 8, 32 (the
// default) or 96 connections, and with the client as it was (unbounded:
// past Asterisk's 100 sessions requests fail with EOF, and every
// connection refused is one more handshake). Requests are GET
// /asterisk/ping, cheap for Asterisk, so the figure is its HTTP
// server's. Run it with
//
//	go test -run '^$' -bench RealAsteriskRequests -benchtime 20000x ./ari
//
// It is skipped when Asterisk is not installed. On 2 cores shared with
// the benchmark: 32,000 to 34,000 req/s and no failure at 8, 32 and 96;
// unbounded 3,700 req/s and 1,311 of 20,000 requests failed.
func BenchmarkRealAsteriskRequests(b *testing.B) {
	if err := pbxlocal.Installed("asterisk"); err != nil {
		b.Skipf("no real Asterisk: %v", err)
	}
	a, err := pbxlocal.StartAsterisk(context.Background(), pbxlocal.Options{Dir: b.TempDir(), Config: "../docker/asterisk"})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Stop()
	// before is the client as it was: connections unbounded, 64 kept.
	before := func() *client {
		c := newClient(a.ARIURL, a.ARIUser, a.ARIPassword, 30*time.Second, 1)
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.MaxIdleConnsPerHost = 64
		c.http = &http.Client{Transport: transport}
		return c
	}
	type benchCase struct {
		name   string
		client func() *client
	}
	var cases []benchCase
	for _, bound := range []int{8, DefaultMaxConnections, 96} {
		cases = append(cases, benchCase{fmt.Sprintf("connections=%d", bound), func() *client {
			return newClient(a.ARIURL, a.ARIUser, a.ARIPassword, 30*time.Second, bound)
		}})
	}
	// Last: the sessions it leaves behind (Asterisk frees them a while
	// after) would take the others' room.
	cases = append(cases, benchCase{"unbounded (before)", before})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c := tc.client()
			defer c.http.CloseIdleConnections()
			var failed atomic.Int64
			procs := runtime.GOMAXPROCS(0)
			b.SetParallelism((256 + procs - 1) / procs)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.do(context.Background(), http.MethodGet, "/asterisk/ping", nil, nil, nil); err != nil {
						failed.Add(1)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			b.ReportMetric(float64(failed.Load()), "failed")
		})
	}
}
