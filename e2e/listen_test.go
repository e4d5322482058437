package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPhoneListens: an agent's phone that listens hears the caller
// through the media server. A caller saying 440 Hz calls Alice's direct
// line; Alice answers with phone.listen and hangs up after 3 s; her
// phone heard the tone. On the emulators no audio flows, and what a
// phone heard is nil.
//
// Not parallel at the top: a real server is shared, and TestScenarios'
// scenarios, which run one after the other on it, must not meet this
// test's switchboard there (two Stasis apps, or two event sockets, would
// fight over the calls).
func TestPhoneListens(t *testing.T) {
	for name, on := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each backend its own server
			b := on.start(t)
			a := start(t, b)
			c := configure(t, a, b)
			b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 3 * time.Second, listen: true})
			b.call(t, caller1, aliceLine, script{say: 440}).ended(t)
			got := a.calls(1)[0]
			require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
			heard := b.heard("alice", time.Minute)
			if !b.audio() {
				require.Nil(t, heard, "no audio on an emulator")
				require.Nil(t, b.heardBetween("alice", 0, time.Minute))
				return
			}
			t.Logf("Alice's phone heard %v, %v of it loud, 440 Hz at %.2f", time.Duration(len(heard))*time.Second/audioRate,
				loud(heard), power(heard, 440))
			// Three seconds of conversation: at least one of the caller's
			// voice, however late the bridge.
			require.Greater(t, loud(heard), time.Second, "Alice's phone heard the caller")
			require.Greater(t, power(heard, 440), 0.5, "the caller's 440 Hz")
			require.Equal(t, heard, append(b.heardBetween("alice", 0, time.Second), b.heardBetween("alice", time.Second, time.Minute)...))
		})
	}
}
