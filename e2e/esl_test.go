package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/esl/esltest"
)

// eslEmulator is the ESL emulator (FreeSWITCH 1.10.12 behind its event
// socket) as the backend.
type eslEmulator struct {
	fs      *esltest.Server
	records string
}

func newESLEmulator(t *testing.T) backend {
	// The dialplan switchboard ships (public.xml): a caller parks again
	// when its agent leaves the bridge.
	fs := esltest.New(esltest.Options{Password: "secret", PlayDuration: 50 * time.Millisecond, Watchdog: true})
	require.NoError(t, fs.Start())
	t.Cleanup(fs.Close)
	return &eslEmulator{fs: fs, records: t.TempDir()}
}

func (b *eslEmulator) env() []string {
	return []string{"SWITCHBOARD_MEDIA=freeswitch", "SWITCHBOARD_ESL_ADDR=" + b.fs.Addr(), "SWITCHBOARD_ESL_PASSWORD=secret",
		"SWITCHBOARD_ESL_RECORDINGS=" + b.records}
}

// device: users' phones are FreeSWITCH directory users, dialled as
// user/<name>.
func (b *eslEmulator) device(name string) string { return "user/" + name }

func (b *eslEmulator) phone(t testing.TB, name string, p phone) {
	b.fs.SetPeer(b.device(name), eslPeer(p))
}

// external: switchboard dials external numbers as
// sofia/gateway/trunk/<digits> (its default SWITCHBOARD_ESL_TRUNK).
func (b *eslEmulator) external(t testing.TB, digits string, p phone) {
	b.fs.SetPeer("sofia/gateway/trunk/"+digits, eslPeer(p))
}

func eslPeer(p phone) esltest.Peer {
	switch {
	case p.ring:
		return esltest.Peer{Action: esltest.PeerRing}
	case p.busy:
		return esltest.Peer{Action: esltest.PeerBusy}
	case p.decline:
		return esltest.Peer{Action: esltest.PeerDecline, Delay: p.answerAfter}
	}
	return esltest.Peer{Action: esltest.PeerAnswer, Delay: p.answerAfter, HangupAfter: p.hangupAfter, ReferTo: p.refer}
}

type eslCaller struct{ c *esltest.Caller }

func (b *eslEmulator) call(t *testing.T, from, to string, s script) caller {
	cs := esltest.CallScript{HangupAfter: s.hangupAfter, Voice: s.say != 0}
	for at, d := range s.digits {
		cs.DTMF = append(cs.DTMF, esltest.DTMF{At: at, Digit: d})
	}
	return eslCaller{b.fs.Call(from, to, cs)}
}

// heard lists what FreeSWITCH played to the caller (PLAYBACK_START):
// http_cache://<url> for our prompts, tones and stock sounds for the rest.
func (c eslCaller) heard() []string { return c.c.Heard() }

func (c eslCaller) ended(t *testing.T) {
	select {
	case <-c.c.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("the call never ended")
	}
}

// audio: the emulator carries no audio.
func (c eslCaller) audio(time.Duration) []int16 { return nil }

func (c eslCaller) audioBetween(time.Duration, time.Duration) []int16 { return nil }

func (b *eslEmulator) audio() bool { return false }

func (b *eslEmulator) rings(string) []time.Duration { return nil }

// heard: the emulator carries no audio.
func (b *eslEmulator) heard(string, time.Duration) []int16 { return nil }

func (b *eslEmulator) heardBetween(string, time.Duration, time.Duration) []int16 { return nil }

func (b *eslEmulator) restart(t *testing.T, whileDown func()) {
	b.fs.Down()
	defer b.fs.Up()
	whileDown()
}

// deskDevice is not the phone of device(name): on the emulator, both are
// users the suite makes up, and two users cannot share one.
func (b *eslEmulator) deskDevice(name string) string { return "user/desk-" + name }

// deskCall: the phones context sets switchboard_device and parks.
func (b *eslEmulator) deskCall(t *testing.T, name, digits string, s script) caller {
	return eslCaller{b.fs.Call("desk-"+name, digits, esltest.CallScript{HangupAfter: s.hangupAfter, Context: "phones",
		Vars: map[string]string{"switchboard_device": b.deskDevice(name)}})}
}

func (b *eslEmulator) register(t *testing.T, name string, registered bool) {
	b.fs.SetRegistered("desk-"+name, registered)
}
