package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/linkcut"
)

// cutBackend is a real media server with switchboard's event link through
// a proxy the test cuts (internal/linkcut): for Asterisk only the events
// websocket, REST going through, as when just the websocket drops; for
// FreeSWITCH the event socket. The server itself goes on, calls and all.
type cutBackend struct {
	backend
	proxy *linkcut.Proxy
	vars  []string
}

func (b *cutBackend) env() []string { return b.vars }

// withCut puts the proxy between switchboard and the backend.
func withCut(t *testing.T, b backend) *cutBackend {
	c := &cutBackend{backend: b}
	for _, v := range b.env() {
		name, value, _ := strings.Cut(v, "=")
		switch name {
		case "SWITCHBOARD_ARI_URL":
			p, err := linkcut.New(strings.TrimPrefix(value, "http://"), "GET /ari/events")
			require.NoError(t, err)
			c.proxy, v = p, name+"=http://"+p.Addr()
		case "SWITCHBOARD_ESL_ADDR":
			p, err := linkcut.New(value, "")
			require.NoError(t, err)
			c.proxy, v = p, name+"="+p.Addr()
		}
		c.vars = append(c.vars, v)
	}
	require.NotNil(t, c.proxy, "no media server address in %v", b.env())
	t.Cleanup(c.proxy.Close)
	return c
}

// cut cuts switchboard's event link, waits until /readyz says so, runs
// during, and lets the link back; it returns once switchboard is ready
// again, the resync done.
func (b *cutBackend) cut(t *testing.T, a *app, during func()) {
	t.Helper()
	b.proxy.Cut()
	require.Eventually(t, func() bool { return a.ready() == 503 }, 10*time.Second, 10*time.Millisecond,
		"/readyz says the media link is down")
	during()
	b.proxy.Restore()
	a.waitReady()
}

// TestLinkLoss cuts switchboard's event link, not the server, on both
// real servers while a call waits for something that then happens unseen;
// the call record must end as if the link had held. The emulators'
// counterparts are the drivers' TestLinkLoss* (ari, esl): there the
// server's side is driven step by step.
func TestLinkLoss(t *testing.T) {
	ms := time.Millisecond
	scenarios := []struct {
		name string
		run  func(t *testing.T, a *app, b *cutBackend, c company)
	}{
		{"the IVR menu ends during the cut: the menu moves on", func(t *testing.T, a *app, b *cutBackend, c company) {
			a.create("/v1/numbers", "number", map[string]any{"name": "Menu", "digits": "+33176390895", "type": "ivr",
				"message_settings": map[string]any{
					"ivr": map[string]any{"type": "tts", "text": "Pour le service commercial, tapez un. Pour le support, tapez deux.", "language": "fr"}},
				"ivr_options": []any{map[string]any{"key": "1", "target": map[string]any{"type": "user", "id": c.carol}}}})
			b.phone(t, "carol", phone{answerAfter: 100 * ms, hangupAfter: 500 * ms})
			// The key comes late: after the menu's second round, which
			// starts 3 s after the first one's end is known. Stuck on the
			// first round, the key would cut it short, heard once.
			call := b.call(t, caller1, "+33176390895", script{digits: map[time.Duration]string{14 * time.Second: "1"}})
			require.Eventually(t, func() bool { return len(call.heard()) == 1 }, 10*time.Second, 10*ms, "the menu plays")
			b.cut(t, a, func() { time.Sleep(6 * time.Second) }) // the menu, a few seconds of speech, ends unseen
			call.ended(t)
			require.Len(t, call.heard(), 2, "the menu's second round: the end of the first was reported at the reconnect")
			got := a.calls(1)[0]
			require.Equal(t, []string{"1"}, got.keys(), "%v", got.events())
			require.Equal(t, c.carol, got.answeredBy(), "%v", got.events())
		}},
		{"the agent answers during the cut: the call is hers", func(t *testing.T, a *app, b *cutBackend, c company) {
			b.phone(t, "alice", phone{answerAfter: 2 * time.Second, hangupAfter: 4 * time.Second})
			call := b.call(t, caller1, aliceLine, script{})
			a.waitCall("initial")                               // taken: her phone rings at once, for 2 s
			b.cut(t, a, func() { time.Sleep(3 * time.Second) }) // she answers unseen
			call.ended(t)
			got := a.calls(1)[0]
			require.Nil(t, got.MissedCallReason, "%v", got.events())
			require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
			require.Subset(t, got.events(), []string{"call.answered", "call.hungup", "call.ended"})
			a.waitAvailability(c.alice, "available")
		}},
		{"the caller ends their voicemail during the cut: it is kept", func(t *testing.T, a *app, b *cutBackend, c company) {
			b.phone(t, "alice", phone{ring: true})
			b.phone(t, "bob", phone{ring: true})
			// As "nobody answers: the caller leaves a voicemail": 5 s of
			// ringing, a few seconds of greeting, the message; the caller
			// hangs up 16 s in, while the link is down.
			call := b.call(t, caller1, classicLine, script{say: 440, hangupAfter: 16 * time.Second})
			time.Sleep(12 * time.Second)
			b.cut(t, a, func() { call.ended(t) })
			got := a.calls(1)[0]
			require.Equal(t, "agents_did_not_answer", *got.MissedCallReason, "%v", got.events())
			require.Contains(t, got.events(), "call.voicemail_left")
			require.NotNil(t, got.Voicemail, "%v", got.events())
			pcm, err := wavSamples(downloadWAV(t, a, *got.Voicemail))
			require.NoError(t, err)
			require.Greater(t, loud(pcm), 2*time.Second, "the message is the caller speaking, not silence")
		}},
	}
	for name, on := range backends(t) {
		if !on.serial {
			continue // an emulator: the drivers' tests
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					b := withCut(t, on.start(t))
					a := start(t, b)
					c := configure(t, a, b)
					sc.run(t, a, b, c)
				})
			}
		})
	}
}
