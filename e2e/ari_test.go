package e2e

import (
	"os"
	"os/exec"
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
	peer := aritest.Peer{Action: aritest.PeerAnswer, After: p.answerAfter, HangupAfter: p.hangupAfter}
	switch {
	case p.ring:
		peer = aritest.Peer{Action: aritest.PeerRing}
	case p.busy:
		peer = aritest.Peer{Action: aritest.PeerBusy}
	case p.decline:
		peer = aritest.Peer{Action: aritest.PeerDecline, After: p.answerAfter}
	}
	require.NoError(t, b.ast.SetPeer(b.device(name), peer))
}

type ariCaller struct{ c *aritest.Caller }

func (b *ariEmulator) call(t *testing.T, from, to string, s script) caller {
	cs := aritest.CallScript{HangupAfter: s.hangupAfter}
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

// backends lists where the suite runs: the emulators always, a real
// Asterisk when SWITCHBOARD_TEST_ARI_URL is set and a real FreeSWITCH when
// SWITCHBOARD_TEST_ESL_ADDR is, with SIPp installed.
func backends(t *testing.T) map[string]func(*testing.T) backend {
	b := map[string]func(*testing.T) backend{"asterisk-emulator": newARIEmulator, "freeswitch-emulator": newESLEmulator}
	if url := os.Getenv("SWITCHBOARD_TEST_ARI_URL"); url != "" {
		b["asterisk"] = func(t *testing.T) backend {
			if _, err := exec.LookPath("sipp"); err != nil {
				t.Skip("SWITCHBOARD_TEST_ARI_URL is set but sipp is not on the PATH: the real Asterisk suite needs SIPp to play callers and phones")
			}
			return newRealAsterisk(t, url)
		}
	} else {
		t.Log("SWITCHBOARD_TEST_ARI_URL is not set: the suite does not run against a real Asterisk")
	}
	if addr := os.Getenv("SWITCHBOARD_TEST_ESL_ADDR"); addr != "" {
		b["freeswitch"] = func(t *testing.T) backend {
			if _, err := exec.LookPath("sipp"); err != nil {
				t.Skip("SWITCHBOARD_TEST_ESL_ADDR is set but sipp is not on the PATH: the real FreeSWITCH suite needs SIPp to play callers and phones")
			}
			return newRealFreeSWITCH(t, addr)
		}
	} else {
		t.Log("SWITCHBOARD_TEST_ESL_ADDR is not set: the suite does not run against a real FreeSWITCH")
	}
	return b
}
