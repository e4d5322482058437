package dialplan_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
)

// BenchmarkConcurrentCalls sets up 10,000 calls at once on the simulated
// media server: each is answered, hears the welcome, and either rings an
// agent of a team of 50 who never answer or, the team being busy, waits
// in the queue with music. It reports call set-ups per second and the
// memory each call in progress holds (heap, and goroutine stack).
func BenchmarkConcurrentCalls(b *testing.B) {
	const calls = 10_000
	for range b.N {
		b.StopTimer()
		w := dialplantest.NewWorld(monday10)
		var members []dialplan.UserID
		for i := range 50 {
			members = append(members, w.AddUser(dialplan.UserID(i+1), fmt.Sprintf("a%d", i)).ID)
		}
		w.AddTeam(dialplan.Team{ID: team, Name: "All", Users: members, RingingRule: dialplan.Simultaneous, RingSliceSeconds: 10})
		n := dialplan.NewNumber()
		n.ID, n.Name, n.Digits = 100, "Sales", line
		n.Messages = dialplan.Messages{dialplan.MsgWelcome: {Type: dialplan.MessageTTS, Text: "Welcome"}}
		n.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: int64(team), RingSeconds: 600}}
		n.RespectQueuingTime = true
		w.AddNumber(n)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		start := time.Now()
		for i := range calls {
			w.Call(fmt.Sprintf("+336%08d", i), line)
		}
		// Let every call answer, play its welcome and start ringing.
		w.Clock.Advance(5 * time.Second)
		elapsed := time.Since(start)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(calls)/elapsed.Seconds(), "setups/s")
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/calls, "heap-B/call")
		var stacks runtime.MemStats
		runtime.ReadMemStats(&stacks)
		b.ReportMetric(float64(stacks.StackInuse)/calls, "stack-B/call")
		if q := len(w.Engine.ACD().Queued()); q < calls-100 {
			b.Fatalf("%d calls queued, want nearly all", q)
		}
		w.Engine.Stop()
	}
}
