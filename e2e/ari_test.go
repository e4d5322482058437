package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/ari/aritest"
)

// ariEmulator is the ARI emulator as the backend.
type ariEmulator struct{ ast *aritest.Server }

func newARIEmulator(t *testing.T) backend {
	ast := aritest.New(aritest.Options{App: "switchboard", User: "switchboard", Password: "secret", SoundDuration: 50 * time.Millisecond})
	require.NoError(t, ast.Start())
	t.Cleanup(ast.Close)
	return &ariEmulator{ast: ast}
}

func (b *ariEmulator) env() []string {
	return []string{"SWITCHBOARD_MEDIA=asterisk", "SWITCHBOARD_ARI_URL=" + b.ast.URL(),
		"SWITCHBOARD_ARI_USER=switchboard", "SWITCHBOARD_ARI_PASSWORD=secret", "SWITCHBOARD_ARI_APP=switchboard"}
}

func (b *ariEmulator) device(name string) string { return "PJSIP/" + name }

func (b *ariEmulator) phone(t testing.TB, name string, p phone) {
	require.NoError(t, b.ast.SetPeer(b.device(name), ariPeer(p)))
}

// external: switchboard dials external numbers as PJSIP/<digits>@trunk
// (its default SWITCHBOARD_ARI_TRUNK).
func (b *ariEmulator) external(t testing.TB, digits string, p phone) {
	require.NoError(t, b.ast.SetPeer("PJSIP/"+digits+"@trunk", ariPeer(p)))
}

func ariPeer(p phone) aritest.Peer {
	switch {
	case p.ring:
		return aritest.Peer{Action: aritest.PeerRing}
	case p.busy:
		return aritest.Peer{Action: aritest.PeerBusy}
	case p.decline:
		return aritest.Peer{Action: aritest.PeerDecline, After: p.answerAfter}
	}
	return aritest.Peer{Action: aritest.PeerAnswer, After: p.answerAfter, HangupAfter: p.hangupAfter, ReferTo: p.refer}
}

type ariCaller struct{ c *aritest.Caller }

func (b *ariEmulator) call(t *testing.T, from, to string, s script) caller {
	cs := aritest.CallScript{HangupAfter: s.hangupAfter, Voice: s.say != 0}
	for at, d := range s.digits {
		cs.Digits = append(cs.Digits, aritest.Digit{At: at, Digit: d})
	}
	return ariCaller{b.ast.Call(from, to, cs)}
}

func (c ariCaller) heard() []string {
	var uris []string
	for _, p := range c.c.Heard() {
		uris = append(uris, p.MediaURI)
	}
	return uris
}

func (c ariCaller) ended(t *testing.T) {
	select {
	case <-c.c.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("the call never ended")
	}
}

// audio: the emulator carries no audio.
func (c ariCaller) audio(time.Duration) []int16 { return nil }

func (c ariCaller) audioBetween(time.Duration, time.Duration) []int16 { return nil }

func (b *ariEmulator) audio() bool { return false }

func (b *ariEmulator) rings(string) []time.Duration { return nil }

// heard: the emulator carries no audio.
func (b *ariEmulator) heard(string, time.Duration) []int16 { return nil }

func (b *ariEmulator) heardBetween(string, time.Duration, time.Duration) []int16 { return nil }

func (b *ariEmulator) restart(t *testing.T, whileDown func()) {
	b.ast.Down()
	defer b.ast.Up()
	whileDown()
}

// deskDevice is not the phone of device(name): on the emulator, both are
// endpoints the suite makes up, and two users cannot share one.
func (b *ariEmulator) deskDevice(name string) string { return "PJSIP/desk-" + name }

// deskCall: the from-phones context hands the call to Stasis with
// "outbound", the digits and the device.
func (b *ariEmulator) deskCall(t *testing.T, name, digits string, s script) caller {
	return ariCaller{b.ast.Call("", digits, aritest.CallScript{Endpoint: "desk-" + name, HangupAfter: s.hangupAfter,
		Args: []string{"outbound", digits, b.deskDevice(name)}})}
}

func (b *ariEmulator) register(t *testing.T, name string, registered bool) {
	require.NoError(t, b.ast.SetRegistered(b.deskDevice(name), registered))
}
