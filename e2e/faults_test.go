package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/pglocal"
	"github.com/switchboard/switchboard/store"
)

// faultScenarios are the faults a phone system must come through with
// nothing lost: switchboard killed (SIGKILL) in each phase of a call,
// stopped (SIGTERM: drained, then handed over), replaced by its standby,
// the media server restarted. Each reports its figures to the fault
// table (faults.report), printed when TestScenarios ends.
//
// Their timelines are not compared across backends: how a call comes
// through a fault depends on when each server notices it (a phone that
// answered while no switchboard ran, a prompt cut short).
var faultScenarios = []scenario{
	{"killed in the IVR menu: the next switchboard plays the menu again and follows the caller's choice", func(t *testing.T, a *app, b backend, c company) {
		f := watchFaults(t, a)
		b.phone(t, "alice", phone{answerAfter: 300 * time.Millisecond, hangupAfter: time.Second})
		b.phone(t, "bob", phone{ring: true})
		// The caller keeps pressing 2: whenever the menu listens again.
		digits := map[time.Duration]string{}
		for at := 3 * time.Second; at <= 30*time.Second; at += time.Second {
			digits[at] = "2"
		}
		call := b.call(t, caller1, ivrLine, script{digits: digits})
		killedAt(a, "call.created")
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.Equal(t, []string{"2"}, got.keys(), "%v", got.events())
		f.report(t, "SIGKILL in the IVR menu", 0, got)
	}},
	{"killed while agents ring: the next switchboard rings them again", func(t *testing.T, a *app, b backend, c company) {
		f := watchFaults(t, a)
		// Alice answers after 3 s of ringing: the ring the killed
		// switchboard began goes unanswered or is hung up as a stray; the
		// next switchboard's is answered.
		b.phone(t, "alice", phone{answerAfter: 3 * time.Second, hangupAfter: time.Second})
		call := b.call(t, caller1, aliceLine, script{})
		killedAt(a, "call.ringing_on_agent")
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.Nil(t, got.MissedCallReason)
		f.report(t, "SIGKILL while agents ring", 0, got)
	}},
	{"killed while a caller waits in the queue: the caller keeps their place and gets the agent", func(t *testing.T, a *app, b backend, c company) {
		f := watchFaults(t, a)
		const queueLine = "+33176390892"
		a.create("/v1/numbers", "number", map[string]any{"name": "Queue", "digits": queueLine, "respect_queuing_time": true,
			"voicemail": false, "distribution": []any{map[string]any{"type": "user", "id": c.alice, "ring_seconds": 60}}})
		b.phone(t, "alice", phone{answerAfter: 200 * time.Millisecond, hangupAfter: 6 * time.Second})
		first := b.call(t, caller1, queueLine, script{})
		a.waitAvailability(c.alice, "in_call")
		second := b.call(t, caller2, queueLine, script{})
		killedAt(a, "call.queued")
		first.ended(t)
		second.ended(t)
		calls := a.calls(2)
		for _, got := range calls {
			require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		}
		require.Contains(t, calls[1].events(), "call.queued")
		dropped := 0
		if *calls[0].EndedAt-*calls[0].AnsweredAt < 6 {
			dropped = 1
		}
		require.Zero(t, dropped, "the conversation in progress went on until Alice hung up")
		f.report(t, "SIGKILL while a caller is queued", dropped, calls...)
	}},
	{"killed while the caller leaves a voicemail: the recording goes on and is the call's voicemail", func(t *testing.T, a *app, b backend, c company) {
		f := watchFaults(t, a)
		b.phone(t, "alice", phone{ring: true})
		b.phone(t, "bob", phone{ring: true})
		call := b.call(t, caller1, classicLine, script{say: 440, hangupAfter: 16 * time.Second})
		killedAt(a, "call.voicemail_started")
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, "agents_did_not_answer", *got.MissedCallReason, "%v", got.events())
		require.Contains(t, got.events(), "call.voicemail_left")
		require.NotNil(t, got.Voicemail, "%v", got.events())
		wav := downloadWAV(t, a, *got.Voicemail)
		if b.audio() {
			pcm, err := wavSamples(wav)
			require.NoError(t, err)
			require.Greater(t, loud(pcm), 2*time.Second, "the message is the caller speaking, across the restart")
		}
		f.report(t, "SIGKILL during a voicemail", 0, got)
	}},
	{"stopped (SIGTERM): calls in progress end on the stopping switchboard, a new call gets the fallback", func(t *testing.T, a *app, b backend, c company) {
		// A drain long enough for the conversation (the harness stops
		// switchboard at once otherwise), short of the harness's kill.
		a.stop()
		a.env = append(slices.Clone(a.env), "SWITCHBOARD_DRAIN_TIMEOUT=10s")
		a.start()
		f := watchFaults(t, a)
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 4 * time.Second})
		inProgress := b.call(t, caller1, aliceLine, script{})
		a.waitCall("answered")
		stopped := make(chan error, 1)
		a.serve = nil
		go func() { stopped <- a.stopped() }()
		require.Eventually(t, func() bool { return a.ready() == http.StatusServiceUnavailable }, 10*time.Second, 20*time.Millisecond,
			"/readyz says switchboard is stopping")
		b.call(t, caller2, classicLine, script{}).ended(t) // the fallback answers, says so, hangs up
		inProgress.ended(t)
		require.NoError(t, <-stopped, "switchboard stops cleanly once the call ended")
		a.start()
		calls := a.calls(1)
		got := calls[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.GreaterOrEqual(t, *got.EndedAt-*got.AnsweredAt, int64(4), "the conversation went on until Alice hung up")
		var all struct {
			Calls []callRecord `json:"calls"`
		}
		a.do("GET", "/v1/calls?per_page=50", nil, &all)
		require.Len(t, all.Calls, 1, "the call that came while switchboard stopped went to the fallback, not to switchboard")
		f.report(t, "SIGTERM drain", 0, got)
	}},
	{"the media server restarts during a conversation: the call's record is closed", func(t *testing.T, a *app, b backend, c company) {
		f := watchFaults(t, a)
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 4 * time.Second})
		b.call(t, caller1, aliceLine, script{})
		a.waitCall("answered")
		b.restart(t, func() {})
		a.waitReady()
		// The server takes its calls down with it: switchboard cannot
		// save the conversation, only close its record, once the server
		// is back and says the channels are gone.
		got := a.calls(1)[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.Subset(t, got.events(), []string{"call.answered", "call.hungup", "call.ended"})
		dropped := 0
		if *got.EndedAt-*got.AnsweredAt < 4 {
			dropped = 1
		}
		f.report(t, "media server restarted during a conversation", dropped, got)
	}},
	{"PostgreSQL stops for 30 s with 20 calls in progress and 20 arriving: calls go on, nothing is lost nor written twice", func(t *testing.T, a *app, b backend, c company) {
		// A PostgreSQL of the scenario's own, to stop: the suite's is
		// shared. The suite's switchboard makes way (one per media server).
		a.stop()
		pg, url := privatePostgres(t)
		a = startOn(t, b, url)
		c = configure(t, a, b)
		f := watchFaults(t, a)
		const queueLine = "+33176390892"
		a.create("/v1/numbers", "number", map[string]any{"name": "Queue", "digits": queueLine, "respect_queuing_time": true,
			"voicemail": false, "distribution": []any{map[string]any{"type": "team", "id": c.team, "ring_seconds": 600}}})
		for _, agent := range []string{"alice", "bob"} {
			b.phone(t, agent, phone{answerAfter: 100 * time.Millisecond, hangupAfter: 500 * time.Millisecond})
		}
		var callers []caller
		place := func(n int) {
			for range n {
				callers = append(callers, b.call(t, fmt.Sprintf("+336000001%02d", len(callers)), queueLine, script{}))
			}
		}
		place(20)
		a.waitEvent("call.queued") // the agents are busy, callers wait

		require.NoError(t, pg.Stop())
		require.Eventually(t, func() bool { return a.ready() == http.StatusServiceUnavailable }, 10*time.Second, 20*time.Millisecond,
			"/readyz says PostgreSQL is down")
		place(20) // routed on the configuration as last read
		require.Eventually(t, func() bool { return spooled(a) > 0 }, 30*time.Second, 100*time.Millisecond,
			"the calls' saves wait in the spool")
		time.Sleep(30 * time.Second)
		t.Logf("saves in the spool after 30 s: %d", spooled(a))
		pg.restart(t)

		for _, call := range callers {
			call.ended(t)
		}
		calls := a.calls(40)
		require.Len(t, calls, 40, "every call has its record")
		for _, got := range calls {
			require.NotNil(t, got.EndedAt, "%v", got.events())
			require.Equal(t, 1, count(got.events(), "call.created"), "written once: %v", got.events())
			require.Equal(t, 1, count(got.events(), "call.ended"), "written once: %v", got.events())
			require.NotZero(t, got.answeredBy(), "every caller gets an agent: call %d %v", got.ID, got.events())
		}
		a.waitReady()
		require.Zero(t, spooled(a), "every save written back")
		f.report(t, "PostgreSQL stopped 30 s (20 calls in progress, 20 arriving)", 0, calls...)
	}},
}

// spooled is how many call saves wait in switchboard's spool, as /metrics
// says.
func spooled(a *app) int {
	m := regexp.MustCompile(`(?m)^switchboard_spool_saves (\d+)`).FindStringSubmatch(a.metrics())
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// killedAt kills switchboard (SIGKILL) once the last call's timeline has
// an event of kind, and starts it again.
func killedAt(a *app, kind string) {
	a.t.Helper()
	a.waitEvent(kind)
	a.kill()
	a.start()
}

// faults is the fault table: a row per fault scenario and backend.
var faults faultTable

type faultTable struct {
	mu   sync.Mutex
	rows []faultRow
}

type faultRow struct {
	fault, backend string
	// established are the calls answered, dropped those whose
	// conversation the fault cut; calls the calls it involved, finished
	// their records as checked (a failed check fails the test and reports
	// no row); events the webhook deliveries their timelines call for,
	// once those delivered exactly once (receiver.inOrder).
	established, dropped, calls, finished, events, once int
}

// faultWatch follows a fault scenario's webhook deliveries.
type faultWatch struct {
	a   *app
	rcv *receiver
}

// watchFaults subscribes a webhook receiver to every kind before the
// scenario's calls: their events must reach it exactly once each,
// whatever the fault.
func watchFaults(t *testing.T, a *app) *faultWatch {
	rcv := newReceiver(t)
	rcv.subscribe(a)
	return &faultWatch{a: a, rcv: rcv}
}

// report checks that the calls' events were delivered exactly once each,
// in order, and adds the scenario's row to the fault table.
func (f *faultWatch) report(t *testing.T, fault string, dropped int, calls ...callRecord) {
	t.Helper()
	row := faultRow{fault: fault, backend: strings.Split(t.Name(), "/")[1], dropped: dropped, calls: len(calls), finished: len(calls)}
	for _, c := range calls {
		if c.AnsweredAt != nil {
			row.established++
		}
		// Fails the test unless each was delivered once, in order.
		row.events += f.rcv.inOrder(f.a, c.ID, webhookKinds())
	}
	f.rcv.check()
	row.once = row.events
	faults.mu.Lock()
	faults.rows = append(faults.rows, row)
	faults.mu.Unlock()
	// Excluded from the comparison across backends (see faultScenarios).
	f.a.timelines = nil
}

// print writes the table, sorted, to the test's log.
func (ft *faultTable) print(t *testing.T) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if len(ft.rows) == 0 {
		return
	}
	sort.Slice(ft.rows, func(i, j int) bool {
		if ft.rows[i].fault != ft.rows[j].fault {
			return ft.rows[i].fault < ft.rows[j].fault
		}
		return ft.rows[i].backend < ft.rows[j].backend
	})
	var b strings.Builder
	b.WriteString("fault table:\n| fault | backend | calls | answered calls dropped | records finished right | events delivered once per delivery id |\n|---|---|---|---|---|---|\n")
	for _, r := range ft.rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %d / %d | %d / %d | %d / %d |\n", r.fault, r.backend, r.calls,
			r.dropped, r.established, r.finished, r.calls, r.once, r.events)
	}
	t.Log(b.String())
}

// privatePG is a PostgreSQL server of a scenario's own, to stop and start
// again (the suite's is shared by every test).
type privatePG struct {
	dir string
	srv *pglocal.Server
}

// privatePostgres starts one, migrated, and gives its URL.
func privatePostgres(t *testing.T) (*privatePG, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "switchboard-e2e-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) // the postgres user walks it when we are root
	p := &privatePG{dir: dir}
	p.restart(t)
	t.Cleanup(func() { p.srv.Stop() })
	url := p.srv.URL("postgres")
	db, err := sql.Open("postgres", url)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, store.Migrate(t.Context(), db))
	return p, url
}

// Stop stops the server: an outage.
func (p *privatePG) Stop() error { return p.srv.Stop() }

// restart starts it (again), on the same data and socket.
func (p *privatePG) restart(t *testing.T) {
	t.Helper()
	srv, err := pglocal.Start(t.Context(), pglocal.Options{Dir: p.dir})
	require.NoError(t, err)
	p.srv = srv
}
