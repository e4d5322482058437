package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// liveRow is the part of a live view's `call` message the suite checks.
type liveRow struct {
	ID           int64      `json:"id"`
	State        string     `json:"state"`
	UserID       int64      `json:"user_id"`
	Outcome      string     `json:"outcome"`
	WaitingSince *time.Time `json:"waiting_since"`
	AnsweredAt   *time.Time `json:"answered_at"`
	EndedAt      *time.Time `json:"ended_at"`
}

// liveMessage is a server-sent event of GET /v1/live, and when it was read.
type liveMessage struct {
	event, id string
	data      []byte
	at        time.Time
}

// openLive opens the company's live stream; its messages arrive on the
// channel as they are read, until the test ends.
func openLive(t *testing.T, a *app) <-chan liveMessage {
	t.Helper()
	req, err := http.NewRequest("GET", a.url+"/v1/live", nil)
	require.NoError(t, err)
	id, token, _ := strings.Cut(a.key, ":")
	req.SetBasicAuth(id, token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	require.Equal(t, http.StatusOK, res.StatusCode)
	out := make(chan liveMessage, 1000)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var m liveMessage
		for sc.Scan() {
			field, value, _ := strings.Cut(sc.Text(), ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "":
				if m.data != nil {
					m.at = time.Now()
					out <- m
				}
				m = liveMessage{}
			case "event":
				m.event = value
			case "id":
				m.id = value
			case "data":
				m.data = []byte(value)
			}
		}
	}()
	return out
}

// promtoolPath is promtool's path; without it the test is skipped,
// saying how to install it, but fails under CI (which installs it).
func promtoolPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found: install Debian's prometheus package (scripts/ensure-prometheus.sh, which make test runs)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// liveScenarios watch calls from the supervisor's side: the live view
// and the metrics.
var liveScenarios = []scenario{
	{"the live view shows a call waiting, answered and ended, and /metrics counts it", func(t *testing.T, a *app, b backend, c company) {
		stream := openLive(t, a)
		first := <-stream
		require.Equal(t, "snapshot", first.event, "a new client gets the board first")

		b.phone(t, "alice", phone{answerAfter: time.Second, hangupAfter: time.Second})
		b.call(t, caller1, aliceLine, script{}).ended(t)
		got := a.calls(1)[0]

		// The call's rows, in order, each timed from the moment its own
		// row says (the event's time) to its reading by the client.
		var states []string
		delays := map[string]time.Duration{}
		deadline := time.After(30 * time.Second)
		for len(states) == 0 || states[len(states)-1] != "ended" {
			var m liveMessage
			select {
			case m = <-stream:
			case <-deadline:
				t.Fatalf("the call's rows did not all come: %v", states)
			}
			var row liveRow
			if m.event != "call" || json.Unmarshal(m.data, &row) != nil || row.ID != got.ID {
				continue
			}
			if n := len(states); n > 0 && states[n-1] == row.State {
				continue // the same state, another detail (the agents rung)
			}
			states = append(states, row.State)
			switch {
			case row.State == "waiting" && row.WaitingSince != nil:
				delays["waiting"] = m.at.Sub(*row.WaitingSince)
			case row.State == "in_progress" && row.AnsweredAt != nil:
				require.Equal(t, c.alice, row.UserID, "in Alice's hands")
				delays["in_progress"] = m.at.Sub(*row.AnsweredAt)
			case row.State == "ended" && row.EndedAt != nil:
				require.Equal(t, "answered", row.Outcome)
				delays["ended"] = m.at.Sub(*row.EndedAt)
			}
		}
		require.Equal(t, []string{"waiting", "in_progress", "ended"}, states)
		// Reported, not asserted: how long a busy machine takes is no
		// failure (the note gives the figures).
		t.Logf("live view: from the event to the client: waiting %v, answered %v, ended %v",
			delays["waiting"], delays["in_progress"], delays["ended"])

		// The binary's /metrics, with this call counted, is well formed.
		// The live view tells metrics of the call once it has sent its
		// row: the count may come a moment after.
		answered := regexp.MustCompile(`switchboard_calls_total\{[^}]*direction="inbound"[^}]*outcome="answered"[^}]*\} 1\n`)
		var body bytes.Buffer
		require.Eventually(t, func() bool {
			res, err := http.Get(a.url + "/metrics")
			if err != nil {
				return false
			}
			defer res.Body.Close()
			body.Reset()
			_, err = body.ReadFrom(res.Body)
			return err == nil && res.StatusCode == http.StatusOK && answered.Match(body.Bytes())
		}, 30*time.Second, 50*time.Millisecond, "the call counted in /metrics")
		cmd := exec.Command(promtoolPath(t), "check", "metrics")
		cmd.Stdin = bytes.NewReader(body.Bytes())
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool check metrics:\n%s", out)
	}},
}
