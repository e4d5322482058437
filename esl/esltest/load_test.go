package esltest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// controller is a minimal inbound-mode controller for load: it answers
// every parked caller, originates an agent for it and bridges the two when
// the agent parks. It writes commands without waiting for their replies,
// as a pipelining driver would.
type controller struct {
	nc      net.Conn
	bridged atomic.Int64
	gone    atomic.Int64
	err     atomic.Value
}

func runController(t testing.TB, addr string) *controller {
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	ctl := &controller{nc: nc}
	t.Cleanup(func() { nc.Close() })
	_, err = io.WriteString(nc, "auth ClueCon\n\nevent plain CHANNEL_PARK CHANNEL_BRIDGE CHANNEL_DESTROY\n\n")
	require.NoError(t, err)
	r := bufio.NewReaderSize(nc, 1<<16)
	for { // subscribed before any call is placed
		f, err := readFrame(r)
		require.NoError(t, err)
		if f.header("Reply-Text") == "+OK event listener enabled plain" {
			break
		}
	}
	go ctl.loop(r)
	return ctl
}

func (ctl *controller) loop(r *bufio.Reader) {
	w := bufio.NewWriter(ctl.nc)
	agentOf := map[string]string{} // agent leg -> caller leg
	n := 0
	for {
		f, err := readFrame(r)
		if err != nil {
			return
		}
		if f.ev != nil {
			ctl.handle(f.ev, w, agentOf, &n)
		}
		// Flush once the emulator has nothing more for us right now.
		if r.Buffered() == 0 && w.Buffered() > 0 {
			if err := w.Flush(); err != nil {
				ctl.err.Store(err)
				return
			}
		}
	}
}

func (ctl *controller) handle(ev *parsedEvent, w *bufio.Writer, agentOf map[string]string, n *int) {
	uuid := ev.get("Unique-ID")
	switch ev.name() {
	case "CHANNEL_PARK":
		if ev.get("Call-Direction") == "inbound" {
			*n++
			agent := fmt.Sprintf("a%07d-0000-4000-8000-000000000000", *n)
			agentOf[agent] = uuid
			fmt.Fprintf(w, "bgapi uuid_answer %s\n\nbgapi originate {origination_uuid=%s,ignore_early_media=true}user/1001 &park()\n\n", uuid, agent)
		} else if caller, ok := agentOf[uuid]; ok {
			delete(agentOf, uuid)
			fmt.Fprintf(w, "bgapi uuid_bridge %s %s\n\n", caller, uuid)
		}
	case "CHANNEL_BRIDGE":
		ctl.bridged.Add(1)
	case "CHANNEL_DESTROY":
		ctl.gone.Add(1)
	}
}

// runLoad places n calls as fast as it can and returns the set-up rate:
// calls answered, an agent originated and bridged, per second.
func runLoad(t testing.TB, s *Server, ctl *controller, n int) float64 {
	start := time.Now()
	base := ctl.bridged.Load()
	for i := 0; i < n; i++ {
		// Long enough for the bridge to happen under load before the
		// caller hangs up (which takes the agent down with it).
		s.Call("15551230001", "1000", CallScript{HangupAfter: 2 * time.Second})
	}
	deadline := time.Now().Add(60 * time.Second)
	for ctl.bridged.Load()-base < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d calls bridged", ctl.bridged.Load()-base, n)
		}
		time.Sleep(time.Millisecond)
	}
	return float64(n) / time.Since(start).Seconds()
}

func loadServer(t testing.TB) *Server {
	s := New(Options{})
	require.NoError(t, s.Start())
	t.Cleanup(s.Close)
	s.SetRegistered("1001", true)
	s.SetPeer("user/1001", Peer{Delay: time.Millisecond})
	return s
}

// TestManyCalls: hundreds of calls at once, pipelined commands, every one
// bridged and every channel gone at the end. How fast is
// BenchmarkCallSetup's: a rate asserted here would fail on a busy machine.
func TestManyCalls(t *testing.T) {
	s := loadServer(t)
	ctl := runController(t, s.Addr())
	const calls = 600
	var callers []*Caller
	for range calls {
		// Up until the test hangs up: bridged however busy the machine.
		callers = append(callers, s.Call("15551230001", "1000", CallScript{}))
	}
	require.Eventually(t, func() bool { return ctl.bridged.Load() == calls }, time.Minute, 10*time.Millisecond,
		"every call is bridged")
	for _, c := range callers {
		c.Hangup()
	}
	require.Eventually(t, func() bool { return len(s.Channels()) == 0 }, time.Minute, 10*time.Millisecond,
		"every call ends and is forgotten")
	require.Eventually(t, func() bool { return ctl.gone.Load() == 2*calls }, time.Minute, 10*time.Millisecond,
		"the controller saw every CHANNEL_DESTROY")
	require.Nil(t, ctl.err.Load())
}

// BenchmarkCallSetup: the emulator must carry a few hundred call set-ups
// per second, since the full-stack benchmark drives 300/s through it.
func BenchmarkCallSetup(b *testing.B) {
	s := loadServer(b)
	ctl := runController(b, s.Addr())
	b.ResetTimer()
	rate := runLoad(b, s, ctl, b.N)
	b.ReportMetric(rate, "calls/s")
}
