package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Desk phones that register: the shipped configurations' phones alice and
// bob (docker/asterisk/pjsip.conf, docker/freeswitch/directory), whose
// registration is their device's presence. A SIPp UAC registers (or, with
// expires 0, unregisters) with digest authentication. On Asterisk it does
// so from 127.0.0.2: requests from 127.0.0.1 are the `sipp` endpoint's.

// deskPhones are the shipped phones and their passwords.
var deskPhones = map[string]string{"alice": "change-me-alice", "bob": "change-me-bob"}

// registerScenario registers user at the server's registrar (domain) for
// expires seconds: REGISTER, 401, REGISTER with the credentials, 200; a
// registered phone then stays (hold) answering the registrar's qualify
// OPTIONS (the out-of-call scenario, optionsScenario) until stopped. With
// expires 0 it removes every registration of the user (Contact: *).
func registerScenario(user, password, domain string, expires int, hold time.Duration) string {
	contact := "<sip:" + user + "@[local_ip]:[local_port]>"
	if expires == 0 {
		contact = "*"
	}
	request := func(cseq int, auth string) string {
		return fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:%[2]s@%[1]s>;tag=[pid]SIPpTag00[call_number]
To: <sip:%[2]s@%[1]s>
Call-ID: [call_id]
CSeq: %[3]d REGISTER
Contact: %[6]s
Expires: %[4]d
Max-Forwards: 70
User-Agent: switchboard-e2e-phone
%[5]sContent-Length: 0`, domain, user, cseq, expires, auth, contact)
	}
	var x sippXML
	x.send(`retrans="500"`, request(1, ""))
	x.recv(`response="100" optional="true"`)
	x.recv(`response="401" auth="true"`)
	x.send(`retrans="500"`, request(2, fmt.Sprintf("[authentication username=%s password=%s]\n", user, password)))
	x.recv(`response="100" optional="true"`)
	x.recv(`response="200"`)
	if hold > 0 {
		fmt.Fprintf(&x.b, "  <pause milliseconds=\"%d\"/>\n", ms(hold))
	}
	return x.xml("register " + user)
}

// optionsScenario answers a registrar's OPTIONS (Asterisk qualifies its
// contacts, and takes an unanswered one for offline).
func optionsScenario() string {
	var x sippXML
	x.recv(`request="OPTIONS"`)
	x.send(``, reply("200 OK", true))
	return x.xml("answer OPTIONS")
}

// deskPhone registers the desk phone at the registrar (host:port) whose
// domain is domain, from address from, and keeps it registered until the
// test ends or unregister is called; it returns once the registrar said
// 200.
func (s *sipp) deskPhone(t testing.TB, phone, registrar, domain, from string) (unregister func()) {
	t.Helper()
	password, ok := deskPhones[phone]
	require.True(t, ok, "no desk phone %s in the shipped configuration", phone)
	run := func(what string, expires int, hold time.Duration) *sippProc {
		port, err := freePort("udp4")
		require.NoError(t, err)
		ooc := filepath.Join(s.dir, fmt.Sprintf("%s-%d-ooc.xml", phone, port))
		require.NoError(t, os.WriteFile(ooc, []byte(optionsScenario()), 0o644))
		// The later -i and -mi override run's 127.0.0.1; the registrar
		// is SIPp's remote host (its one positional argument).
		return s.run(t, fmt.Sprintf("%s-%s-%d", what, phone, port), registerScenario(phone, password, domain, expires, hold),
			"-i", from, "-mi", from, "-p", fmt.Sprint(port), "-m", "1", "-oocsf", ooc, "-timeout", "30s", "-timeout_error", registrar)
	}
	registered := func(p *sippProc) {
		t.Helper()
		require.Eventually(t, func() bool {
			return slices.Contains(p.flow(), "< 200") || p.exited(0)
		}, 20*time.Second, 10*time.Millisecond, "%s never registered: %s", phone, p.report())
		require.Contains(t, p.flow(), "< 200", "%s registering: %s", phone, p.report())
	}
	held := run("register", 600, 10*time.Minute)
	registered(held)
	done := false
	unregister = func() {
		if done {
			return
		}
		done = true
		off := run("unregister", 0, 0)
		require.True(t, off.exited(20*time.Second), "%s never unregistered: %s", phone, off.report())
		require.NoError(t, off.err, "%s unregistering: %s", phone, off.report())
		held.stop()
	}
	t.Cleanup(unregister)
	return unregister
}
