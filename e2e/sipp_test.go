package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/pbxlocal"
)

// The SIP side of the suite on a real media server: SIPp plays every
// phone and every caller, on the loopback. A phone is one SIPp UAS
// process listening on its own port for the whole scenario (it may be
// rung several times); the media server dials it directly, without
// registration. A caller is one SIPp UAC process placing one call.
// Scenarios are generated from the suite's phone and script, following
// the SIPp scenarios recorded against Asterisk 22 and FreeSWITCH 1.10
// (../shared/asterisk/transcripts/sipp-scenarios, ../shared/freeswitch/
// transcripts/sipp).

// pcapDir holds the RFC 2833 digits Debian's sip-tester ships
// (dtmf_2833_<d>.pcap, _star, _pound), played into the call as RTP.
const pcapDir = "/usr/share/sip-tester"

// callLimit bounds a call: a caller waiting for switchboard's BYE gives up
// after it, and ended() waits a little longer, for SIPp to say so.
const callLimit = 60 * time.Second

// sipp plays phones and callers against a media server whose SIP address
// is server (host:port, where callers send their INVITE).
type sipp struct {
	server string
	dir    string

	mu     sync.Mutex
	ports  map[string]int       // phone → its UDP port on 127.0.0.1
	phones map[string]*sippProc // phone → its SIPp process
	ears   map[string]*ear      // phone → its ear, when it listens
	tones  map[float64]string   // a tone's frequency → its RTP recording
}

func newSIPp(t testing.TB, server string) *sipp {
	return &sipp{server: server, dir: t.TempDir(), ports: map[string]int{}, phones: map[string]*sippProc{},
		ears: map[string]*ear{}, tones: map[float64]string{}}
}

// speech is what a party says: a minute of a tone at freq Hz (SIPp stops
// it when the call ends), recorded once as an RTP pcap.
func (s *sipp) speech(freq float64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.tones[freq]; ok {
		return f, nil
	}
	f := filepath.Join(s.dir, fmt.Sprintf("tone-%g.pcap", freq))
	if err := writeRTPPcap(f, tone(freq, time.Minute)); err != nil {
		return "", err
	}
	s.tones[freq] = f
	return f, nil
}

// port is where the phone called name listens, chosen on first use so
// that a device string can be given before the phone is scripted.
func (s *sipp) port(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.ports[name]; ok {
		return p
	}
	p, err := freePort("udp4")
	if err != nil {
		panic(fmt.Sprintf("e2e: a UDP port for the phone %s: %v", name, err))
	}
	s.ports[name] = p
	return p
}

var (
	portsMu sync.Mutex
	given   = map[int]bool{} // ports handed out by this test binary
)

// freePort finds a port free on the loopback for network ("tcp4" or
// "udp4"), never the same twice in this test binary: scenarios run side
// by side, and a port one was given and has not bound yet looks free to
// the kernel.
func freePort(network string) (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		var port int
		if network == "tcp4" {
			l, err := net.Listen(network, "127.0.0.1:0")
			if err != nil {
				return 0, fmt.Errorf("free TCP port: %w", err)
			}
			port = l.Addr().(*net.TCPAddr).Port
			l.Close()
		} else {
			c, err := net.ListenPacket(network, "127.0.0.1:0")
			if err != nil {
				return 0, fmt.Errorf("free UDP port: %w", err)
			}
			port = c.LocalAddr().(*net.UDPAddr).Port
			c.Close()
		}
		if !given[port] {
			given[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("free %s port: the system keeps giving used ones", network)
}

// sippProc is one SIPp process and its logs.
type sippProc struct {
	name string // of its files in dir
	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited; err is then set
	err  error
}

// run starts SIPp on scenario xml. Its unexpected messages, SIP messages
// and output go to files in dir named after name.
func (s *sipp) run(t testing.TB, name, xml string, args ...string) *sippProc {
	t.Helper()
	p := &sippProc{name: name, dir: s.dir, done: make(chan struct{})}
	sf := p.file("scenario.xml")
	require.NoError(t, os.WriteFile(sf, []byte(xml), 0o644))
	out, err := os.Create(p.file("output.log"))
	require.NoError(t, err)
	defer out.Close()
	args = append([]string{"-sf", sf, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-ci", "127.0.0.1", "-nostdin",
		"-aa", "-trace_err", "-error_file", p.file("errors.log"), "-trace_msg", "-message_file", p.file("messages.log")},
		args...)
	p.cmd = tied(exec.Command("sipp", args...))
	p.cmd.Stdout, p.cmd.Stderr = out, out
	require.NoError(t, p.cmd.Start(), "sipp %v", args)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

func (p *sippProc) file(kind string) string { return filepath.Join(p.dir, p.name+"-"+kind) }

// exited waits up to d for the process to end; false if it is still up.
func (p *sippProc) exited(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	default:
	}
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// stop asks SIPp to finish its calls and quit (SIGUSR1), then kills it
// if it has not within a second.
func (p *sippProc) stop() {
	p.cmd.Process.Signal(syscall.SIGUSR1)
	if !p.exited(time.Second) {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// sipMessage is a SIP message SIPp traced: "> INVITE" for a request
// sent, "< 200" for a response received, and when.
type sipMessage struct {
	at     time.Time
	line   string
	callID string // its Call-ID
	cseq   string // the method of its CSeq
	media  int    // the audio port its SDP names; 0 without SDP
}

// messages lists the SIP messages SIPp traced, retransmissions folded.
func (p *sippProc) messages() []sipMessage {
	raw, _ := os.ReadFile(p.file("messages.log"))
	var (
		msgs []sipMessage
		cur  *sipMessage // the message being read, from its first line on
		dir  string
		at   time.Time
	)
	done := func() {
		if cur == nil {
			return
		}
		if n := len(msgs); n == 0 || msgs[n-1].line != cur.line || msgs[n-1].callID != cur.callID || msgs[n-1].cseq != cur.cseq {
			msgs = append(msgs, *cur)
		}
		cur = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "-----------"):
			done()
			dir = ""
			// ----- 2026-12-06 22:51:07.013176: when SIPp sent or took it.
			at, _ = time.ParseInLocation("2006-01-02 15:04:05.000000", strings.TrimLeft(line, "- "), time.Local)
		case cur == nil && strings.HasPrefix(line, "UDP message sent"):
			dir = "> "
		case cur == nil && strings.HasPrefix(line, "UDP message received"):
			dir = "< "
		case cur == nil && dir != "" && line != "":
			what, _, _ := strings.Cut(line, " ") // the method
			if code, ok := strings.CutPrefix(line, "SIP/2.0 "); ok {
				what, _, _ = strings.Cut(code, " ")
			}
			cur = &sipMessage{at: at, line: dir + what}
		case cur != nil:
			name, value, _ := strings.Cut(line, ":")
			switch strings.ToLower(name) {
			case "call-id", "i":
				cur.callID = strings.TrimSpace(value)
			case "cseq":
				if f := strings.Fields(value); len(f) == 2 {
					cur.cseq = f[1]
				}
			}
			if m, ok := strings.CutPrefix(line, "m=audio "); ok {
				port, _, _ := strings.Cut(m, " ")
				cur.media, _ = strconv.Atoi(port)
			}
		}
	}
	done()
	return msgs
}

// flow is the SIP messages SIPp traced, one line each.
func (p *sippProc) flow() []string {
	var lines []string
	for _, m := range p.messages() {
		lines = append(lines, m.line)
	}
	return lines
}

// rings lists how long the phone rang each time it was rung and not
// answered: from the INVITE to the CANCEL.
func (p *sippProc) rings() []time.Duration {
	var rings []time.Duration
	var invited time.Time
	for _, m := range p.messages() {
		switch m.line {
		case "< INVITE":
			invited = m.at
		case "< CANCEL":
			if !invited.IsZero() {
				rings = append(rings, m.at.Sub(invited))
				invited = time.Time{}
			}
		}
	}
	return rings
}

// answeredCall is a call a phone answered: when its INVITE came, and the
// port the media server sends the call's audio from (the audio port of
// the INVITE's SDP, as both servers send RTP from where they take it;
// 0 without SDP).
type answeredCall struct {
	invited time.Time
	media   int
}

// answered lists the calls the phone answered, in the order they were.
func (p *sippProc) answered() []answeredCall {
	var (
		calls   []answeredCall
		invites = map[string]answeredCall{} // by Call-ID
		seen    = map[string]bool{}         // the Call-IDs answered
	)
	for _, m := range p.messages() {
		switch {
		case m.line == "< INVITE":
			if _, again := invites[m.callID]; !again {
				invites[m.callID] = answeredCall{m.at, m.media}
			}
		case m.line == "> 200" && m.cseq == "INVITE" && !seen[m.callID]:
			seen[m.callID] = true
			calls = append(calls, invites[m.callID])
		}
	}
	return calls
}

// report is what SIPp said, for a failure message.
func (p *sippProc) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP messages: %s", strings.Join(p.flow(), ", "))
	for _, kind := range []string{"errors.log", "output.log"} {
		raw, _ := os.ReadFile(p.file(kind))
		if s := strings.TrimSpace(string(raw)); s != "" {
			if len(s) > 4000 {
				s = "…" + s[len(s)-4000:]
			}
			fmt.Fprintf(&b, "\n%s %s:\n%s", p.name, kind, s)
		}
	}
	return b.String()
}

// phone starts the SIPp process that plays the phone called name until
// the test ends, and returns once it listens.
func (s *sipp) phone(t testing.TB, name string, ph phone) *sippProc {
	t.Helper()
	require.False(t, ph.listen && ph.say != 0, "phone %s: a phone that listens says nothing (see script.listen)", name)
	var (
		speech string
		e      *ear
	)
	if ph.say != 0 {
		var err error
		speech, err = s.speech(ph.say)
		require.NoError(t, err)
	}
	if ph.listen {
		e = newEar(t)
	}
	p := s.listen(t, name, phoneScenario(ph, speech, e))
	s.mu.Lock()
	s.phones[name], s.ears[name] = p, e
	s.mu.Unlock()
	if e != nil {
		e.talkBack(t, every(200*time.Millisecond, func() int {
			if calls := p.answered(); len(calls) > 0 {
				return calls[len(calls)-1].media
			}
			return 0
		}))
	}
	return p
}

// every caches what f says for d: a port read from SIPp's log, which is
// read whole each time.
func every(d time.Duration, f func() int) func() int {
	var (
		last int
		at   time.Time
	)
	return func() int {
		if time.Since(at) >= d {
			last, at = f(), time.Now()
		}
		return last
	}
}

// heard is what the phone called name (with phone.listen) heard of the
// last call it answered, from `from` to `to` after that call's first
// packet; nil before it answered, or when it does not listen. The call's
// packets are those from the server's audio port since its INVITE came:
// the media server sends none before it has the 200 OK, whose SDP names
// the ear, and SIPp stamps a message it took before it answers it (the
// 200 OK's own stamp comes after its sendto, maybe after the first
// packets). The port tells calls at once apart; the time, calls one after
// the other from the same port (SIPp callers all send from 6000).
func (s *sipp) heard(name string, from, to time.Duration) []int16 {
	s.mu.Lock()
	p, e := s.phones[name], s.ears[name]
	s.mu.Unlock()
	if p == nil || e == nil {
		return nil
	}
	calls := p.answered()
	if len(calls) == 0 {
		return nil
	}
	last := calls[len(calls)-1]
	return e.audio(stream{since: last.invited, port: last.media}, from, to)
}

// rings lists how long the phone called name rang each time it was rung
// and not answered.
func (s *sipp) rings(name string) []time.Duration {
	s.mu.Lock()
	p := s.phones[name]
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.rings()
}

// listen runs a phone's scenario on the phone's port.
func (s *sipp) listen(t testing.TB, name, xml string) *sippProc {
	t.Helper()
	port := s.port(name)
	for attempt := 1; ; attempt++ {
		p := s.run(t, name, xml, "-p", fmt.Sprint(port), "-timeout", "7200s") // a soak's hour, and more
		t.Cleanup(func() {
			p.stop()
			// A call off the phone's script (SIPp exits 1) is for the
			// record: the scenario's own checks say whether switchboard
			// did right.
			if t.Failed() || p.err != nil && p.cmd.ProcessState.ExitCode() == 1 {
				t.Logf("phone %s (SIPp, %v): %s", name, p.err, p.report())
			}
		})
		if s.bound(t, p, name, port) {
			return p
		}
		// The port was taken for a moment (by the probe below, or the
		// last test's phone on its way out): SIPp tries again.
		require.Less(t, attempt, 5, "phone %s: SIPp could not bind port %d: %s", name, port, p.report())
		time.Sleep(100 * time.Millisecond)
	}
}

// bound waits until SIPp holds its port: the media server may dial it at
// once, and an INVITE before SIPp binds would be refused by the system.
// false: SIPp stopped because the port was in use.
func (s *sipp) bound(t testing.TB, p *sippProc, name string, port int) bool {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return true // SIPp holds the port
		}
		c.Close()
		if p.exited(20 * time.Millisecond) {
			report := p.report()
			if strings.Contains(report, "Unable to bind main socket") {
				return false
			}
			require.Fail(t, "SIPp stopped at once", "phone %s: %s", name, report)
		}
		require.True(t, time.Now().Before(deadline), "phone %s: SIPp never listened on port %d", name, port)
	}
}

// sippCall is a call placed by a SIPp caller.
type sippCall struct {
	*sippProc
	callID string // the SIP Call-ID, by which the media server knows it
	ear    *ear   // what it hears, when it listens
}

// call starts a SIPp caller: from calls to on the media server and
// follows the script.
func (s *sipp) call(t testing.TB, from, to string, sc script) *sippCall {
	t.Helper()
	var (
		speech string
		e      *ear
		err    error
	)
	if sc.say != 0 {
		speech, err = s.speech(sc.say)
		require.NoError(t, err)
	}
	if sc.listen {
		e = newEar(t)
	}
	xml, err := callerScenario(from, to, sc, speech, e)
	require.NoError(t, err)
	c := s.start(t, xml)
	c.ear = e
	// A caller who presses keys sends them from SIPp's own media port: a
	// second source of RTP, which Asterisk's strict RTP would drop while
	// it holds to the ear's. That caller sends nothing else.
	if e != nil && len(sc.digits) == 0 {
		port := 0
		e.talkBack(t, func() int {
			if port == 0 {
				for _, m := range c.messages() {
					if m.line == "< 200" && m.cseq == "INVITE" && m.media != 0 {
						port = m.media
					}
				}
			}
			return port
		})
	}
	return c
}

// deskCall is the shipped desk phone called name dialling digits: it
// calls, as its user, the PBX's registrar (host:port, domain), from the
// address desk phones use, and authenticates.
func (s *sipp) deskCall(t testing.TB, name, digits, registrar, domain, from string, sc script) *sippCall {
	t.Helper()
	password, ok := deskPhones[name]
	require.True(t, ok, "no desk phone %s in the shipped configuration", name)
	xml, err := callScenario(uac{from: name, to: digits, password: password, domain: domain}, sc, "", nil)
	require.NoError(t, err)
	return s.startAt(t, xml, registrar, "-i", from, "-mi", from)
}

// audio is what the caller heard in the first d from the first packet on.
func (c *sippCall) audio(d time.Duration) []int16 { return c.audioBetween(0, d) }

// firstPacket is when the caller heard its first packet, which the
// windows of audioBetween count from (zero: none yet, or no ear).
func (c *sippCall) firstPacket() time.Time {
	if c.ear == nil {
		return time.Time{}
	}
	return c.ear.first(stream{})
}

// audioBetween is what the caller heard from `from` to `to` after the
// first packet.
func (c *sippCall) audioBetween(from, to time.Duration) []int16 {
	if c.ear == nil {
		return nil
	}
	return c.ear.audio(stream{}, from, to)
}

// start runs a caller's scenario: one call, under a Call-ID of its own.
func (s *sipp) start(t testing.TB, xml string) *sippCall { return s.startAt(t, xml, s.server) }

// startAt runs a caller's scenario against server, from the address of
// the extra arguments (-i, -mi) or the loopback's 127.0.0.1.
func (s *sipp) startAt(t testing.TB, xml, server string, extra ...string) *sippCall {
	t.Helper()
	port, err := freePort("udp4")
	require.NoError(t, err)
	// Its own media ports: SIPp's default (6000 on) is every caller's,
	// and many callers at once collide on them.
	media := mediaPorts(t)
	id := make([]byte, 6)
	rand.Read(id)
	tag := "e2e-" + hex.EncodeToString(id)
	args := append([]string{"-p", fmt.Sprint(port), "-mp", fmt.Sprint(media), "-m", "1", "-cid_str", tag + "-%u@127.0.0.1",
		"-timeout", fmt.Sprintf("%ds", int((callLimit+30*time.Second)/time.Second)), "-timeout_error"}, extra...)
	p := s.run(t, "caller-"+tag, xml, append(args, server)...)
	t.Cleanup(func() {
		if !p.exited(0) {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return &sippCall{sippProc: p, callID: tag + "-1@127.0.0.1"}
}

// nextMedia walks the callers' media ports: from above the media servers'
// RTP ranges (pbxlocal.RTPHigh) to below the kernel's ephemeral ports,
// which freePort's would collide with when callers start at once.
var nextMedia atomic.Uint32

// firstMedia and mediaSlots bound the callers' media ports.
const (
	firstMedia = pbxlocal.RTPHigh + 1
	mediaSlots = (32768 - firstMedia) / 4
)

// mediaPorts gives a caller four media ports (RTP and RTCP, audio and
// video) nobody holds, the first returned.
func mediaPorts(t testing.TB) int {
	t.Helper()
	for range mediaSlots {
		port := firstMedia + int(nextMedia.Add(1)%mediaSlots)*4
		free := true
		for p := port; p < port+4 && free; p++ {
			c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			c.Close()
		}
		if free {
			return port
		}
	}
	t.Fatalf("no four free media ports in %d-32767", firstMedia)
	return 0
}

// ended waits for the caller to finish its script; a SIPp failure
// (a rejected call, a message out of the script) fails the test.
func (c *sippCall) ended(t *testing.T) {
	t.Helper()
	if !c.exited(callLimit + 10*time.Second) {
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("the call %s never ended: %s", c.callID, c.report())
	}
	if c.err != nil {
		t.Fatalf("the caller of %s failed (%v): %s", c.callID, c.err, c.report())
	}
}

// A scenario is written as SIPp's XML, element by element.
type sippXML struct{ b strings.Builder }

func (x *sippXML) send(attrs, msg string) {
	if attrs != "" {
		attrs = " " + attrs
	}
	fmt.Fprintf(&x.b, "  <send%s>\n    <![CDATA[\n%s\n    ]]>\n  </send>\n", attrs, strings.TrimSpace(msg))
}

func (x *sippXML) recv(attrs string, actions ...string) {
	if len(actions) == 0 {
		fmt.Fprintf(&x.b, "  <recv %s/>\n", attrs)
		return
	}
	fmt.Fprintf(&x.b, "  <recv %s>\n    <action>%s</action>\n  </recv>\n", attrs, strings.Join(actions, ""))
}

func (x *sippXML) label(id string) { fmt.Fprintf(&x.b, "  <label id=%q/>\n", id) }

func (x *sippXML) action(a string) { fmt.Fprintf(&x.b, "  <nop><action>%s</action></nop>\n", a) }

func (x *sippXML) xml(name string) string {
	return fmt.Sprintf("<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=%q>\n%s</scenario>\n", name, x.b.String())
}

// ms is a duration as SIPp's milliseconds, at least 1 (0 means forever).
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// reply answers the last request received; tagged adds the phone's To tag
// (on every response of the INVITE transaction but 100 Trying).
func reply(status string, tagged bool, extra ...string) string {
	to := "[last_To:]"
	if tagged {
		to += ";tag=[pid]SIPpTag01[call_number]"
	}
	lines := append([]string{"SIP/2.0 " + status, "[last_Via:]", "[last_From:]", to, "[last_Call-ID:]", "[last_CSeq:]"}, extra...)
	return strings.Join(append(lines, "Content-Length: 0"), "\n")
}

// sdp offers or answers G.711 µ-law (the one codec of the suite's
// recordings and ears) with RFC 2833 digits, on SIPp's media port.
const sdp = `Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv`

// A phone's messages.
var (
	phoneContact = "Contact: <sip:[service]@[local_ip]:[local_port]>"
	// answer is its 200 OK to the INVITE.
	answer = strings.Replace(reply("200 OK", true, phoneContact, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"),
		"Content-Length: 0", sdp, 1)
	// phoneBye hangs up, the dialog taken from the INVITE by byeCaptures
	// (as uas_answer_bye.xml does). Phones and callers send their BYE
	// once, without retransmission, which the loopback allows: a BYE
	// crossing theirs is taken by an optional="global" reception, but
	// SIPp sends nothing while a request of its is being retransmitted,
	// so that the 200 to the other BYE would wait.
	phoneBye = `BYE [$remote_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From:[$local_to];tag=[pid]SIPpTag01[call_number]
To:[$remote_from]
Call-ID: [call_id]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0`
	byeCaptures = []string{
		`<ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="remote_from"/>`,
		`<ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="local_to"/>`,
		`<ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" check_it="true" assign_to="remote_contact"/>`,
	}
)

// phoneScenario is a phone as the suite scripts it (uas_*.xml of the
// recordings, merged): 100 Trying; then 486 when busy; else 180 Ringing,
// and after answerAfter either 603 Decline or 200 OK, after which the
// phone says speech (an RTP pcap; none when empty) and hangs up after
// hangupAfter or waits for the BYE. Rung but not yet answering, it takes
// a CANCEL (200, then 487 to the INVITE); a BYE while it waits to hang
// up, or crossing its own, is answered. With an ear, the 200 OK's SDP
// names the ear as where the phone's audio goes, call after call.
func phoneScenario(p phone, speech string, e *ear) string {
	var x sippXML
	captures := []string{`<ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="cseq"/>`}
	if !p.busy && !p.decline && !p.ring && (p.hangupAfter > 0 || p.refer != "") {
		captures = append(captures, byeCaptures...)
	}
	x.recv(`request="INVITE" crlf="true"`, captures...)
	x.send(``, reply("100 Trying", false))
	switch {
	case p.busy:
		x.send(``, reply("486 Busy Here", true))
		x.recv(`request="ACK" next="end"`)
	case p.ring:
		x.send(``, reply("180 Ringing", true, phoneContact))
		x.recv(`request="CANCEL" next="cancelled"`)
	default:
		x.send(``, reply("180 Ringing", true, phoneContact))
		if p.answerAfter > 0 {
			x.recv(fmt.Sprintf(`request="CANCEL" timeout="%d" ontimeout="rung" next="cancelled"`, ms(p.answerAfter)))
		}
		x.label("rung")
		if p.decline {
			x.send(``, reply("603 Decline", true))
			x.recv(`request="ACK" next="end"`)
			break
		}
		ok := answer
		if e != nil {
			ok = strings.Replace(ok, "[media_port]", fmt.Sprint(e.port()), 1)
		}
		x.send(`retrans="500"`, ok)
		// The BYE of the media server at any moment the script does not
		// wait for one (crossing the phone's own BYE); SIPp wants it
		// before a mandatory reception.
		x.recv(`request="BYE" optional="global" next="bye"`)
		x.recv(`request="ACK" crlf="true"`)
		if speech != "" {
			x.action(fmt.Sprintf(`<exec play_pcap_audio=%q/>`, speech))
		}
		switch {
		case p.refer != "":
			// A blind transfer: REFER, its 202, the server's NOTIFYs of
			// how it goes (each answered) for a while, then the BYE. A
			// phone has no remote address of its own ([remote_ip]): the
			// Refer-To's host is the loopback's, its user what counts.
			x.recv(fmt.Sprintf(`request="BYE" timeout="%d" ontimeout="refer" next="bye"`, ms(p.hangupAfter)))
			x.label("refer")
			x.send(``, strings.NewReplacer("BYE", "REFER", "Content-Length: 0",
				"Contact: <sip:[service]@[local_ip]:[local_port]>\nRefer-To: <sip:"+p.refer+
					"@127.0.0.1>\nContent-Length: 0").Replace(phoneBye))
			x.recv(`response="202"`)
			x.label("notify")
			x.recv(`request="NOTIFY" timeout="1500" ontimeout="hangup"`)
			x.send(`next="notify"`, reply("200 OK", false))
			x.label("hangup")
			x.send(``, strings.Replace(phoneBye, "CSeq: 1 BYE", "CSeq: 2 BYE", 1))
			x.recv(`request="NOTIFY" optional="true" next="late"`)
			x.recv(`response="200" next="end"`)
			x.label("late")
			x.send(``, reply("200 OK", false))
			x.recv(`response="200" next="end"`)
		case p.hangupAfter > 0:
			x.recv(fmt.Sprintf(`request="BYE" timeout="%d" ontimeout="hangup" next="bye"`, ms(p.hangupAfter)))
			x.label("hangup")
			x.send(``, phoneBye) // once: see phoneBye
			x.recv(`response="200" next="end"`)
		default:
			x.recv(fmt.Sprintf(`request="BYE" timeout="%d"`, ms(10*time.Minute)))
		}
		x.label("bye")
		x.send(`next="end"`, reply("200 OK", false))
	}
	x.label("cancelled")
	x.send(``, reply("200 OK", true))
	x.send(``, strings.Replace(reply("487 Request Terminated", true), "[last_CSeq:]", "CSeq: [$cseq] INVITE", 1))
	x.recv(`request="ACK"`)
	x.label("end")
	return x.xml("phone")
}

// digitPcap is the recording of digit d that sip-tester ships.
func digitPcap(d rune) (string, error) {
	name := map[rune]string{'*': "star", '#': "pound"}[d]
	if d >= '0' && d <= '9' {
		name = string(d)
	}
	if name == "" {
		return "", fmt.Errorf("no recording of the digit %q (0-9, * and # only)", d)
	}
	f := filepath.Join(pcapDir, "dtmf_2833_"+name+".pcap")
	if _, err := os.Stat(f); err != nil {
		return "", fmt.Errorf("SIPp's digit recordings (Debian's sip-tester): %w", err)
	}
	return f, nil
}

// rejections are the final responses a caller may get instead of 200 OK:
// it acknowledges them and fails, saying which.
var rejections = []int{400, 403, 404, 408, 480, 484, 486, 487, 488, 500, 502, 503, 603}

// uac writes a caller's requests: from calls to. A desk phone (password
// set) calls as the user from at the PBX's domain, and authenticates.
type uac struct {
	from, to         string
	password, domain string
}

// inviteBranch is the INVITE transaction's branch: a CANCEL and the ACK
// of a failure take it again. An INVITE sent again with credentials is a
// transaction of its own (authBranch).
const (
	inviteBranch = "z9hG4bK-[pid]-[call_number]-inv"
	authBranch   = "z9hG4bK-[pid]-[call_number]-auth"
)

// fromURI is who the caller is: a number at SIPp's address, or a desk
// phone's user at the PBX's domain.
func (u uac) fromURI() string {
	if u.password != "" {
		return "sip:" + u.from + "@" + u.domain
	}
	return "sip:" + u.from + "@[local_ip]:[local_port]"
}

// uri is the Request-URI of the INVITE, its CANCEL and failure ACK.
func (u uac) uri() string { return "sip:" + u.to + "@[remote_ip]:[remote_port]" }

// request is a request of the dialog; answered adds switchboard's To tag.
func (u uac) request(method, uri, branch string, cseq int, answered bool) string {
	tag := ""
	if answered {
		tag = "[peer_tag_param]"
	}
	return fmt.Sprintf(`%s %s SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=%s
From: <%s>;tag=[pid]SIPpTag00[call_number]
To: <sip:%s@[remote_ip]:[remote_port]>%s
Call-ID: [call_id]
CSeq: %d %s
Max-Forwards: 70
Content-Length: 0`, method, uri, branch, u.fromURI(), u.to, tag, cseq, method)
}

// invite offers the caller's media at SIPp's media port, or at port when
// not 0 (an ear's).
func (u uac) invite(port int) string { return u.inviteAs(port, inviteBranch, 1, "") }

// inviteAs is an INVITE of the transaction branch, with the headers
// extra (credentials).
func (u uac) inviteAs(port int, branch string, cseq int, extra string) string {
	offer := sdp
	if port != 0 {
		offer = strings.Replace(offer, "[media_port]", fmt.Sprint(port), 1)
	}
	return strings.Replace(u.request("INVITE", u.uri(), branch, cseq, false), "Content-Length: 0",
		"Contact: <sip:"+u.from+"@[local_ip]:[local_port]>\nUser-Agent: switchboard-e2e\n"+extra+offer, 1)
}

// callerScenario is a caller as the suite scripts it (uac_*.xml of the
// recordings, merged): an INVITE from from to to, through any provisional
// responses to 200 OK and ACK; then speech (an RTP pcap, if any) from the
// answer on, and each digit at its time after the answer (RFC 2833, from
// sip-tester's recordings); then a BYE after hangupAfter, or, with none,
// a wait for switchboard's BYE. A BYE from switchboard while the caller
// waits for a digit's time or its own hang-up is answered and ends the
// call. A final failure instead of the 200 is acknowledged and fails the
// caller, saying which it was. With an ear, the caller's SDP names the
// ear as where its audio goes.
func callerScenario(from, to string, s script, speech string, e *ear) (string, error) {
	return callScenario(uac{from: from, to: to}, s, speech, e)
}

// callScenario is callerScenario for any caller: a desk phone (u.password
// set) first sends its INVITE without credentials, takes the challenge
// (401 from Asterisk, 407 from FreeSWITCH), acknowledges it and sends the
// INVITE again with them; the call goes on from there.
func callScenario(u uac, s script, speech string, e *ear) (string, error) {
	type press struct {
		at   time.Duration
		pcap string
	}
	var presses []press
	for at, digits := range s.digits {
		for i, d := range digits {
			pcap, err := digitPcap(d)
			if err != nil {
				return "", err
			}
			// Several digits at one time: one after the other (each
			// recording lasts 140 ms).
			presses = append(presses, press{at + time.Duration(i)*300*time.Millisecond, pcap})
		}
	}
	slices.SortFunc(presses, func(a, b press) int { return int(a.at - b.at) })

	var x sippXML
	port := 0
	if e != nil {
		port = e.port()
	}
	cseq, branch := 1, inviteBranch
	x.send(`retrans="500"`, u.invite(port))
	if u.password != "" {
		x.recv(`response="100" optional="true"`)
		x.recv(`response="401" auth="true" optional="true" next="challenged"`)
		x.recv(`response="407" auth="true"`)
		x.label("challenged")
		x.send(``, u.request("ACK", u.uri(), inviteBranch, 1, true))
		cseq, branch = 2, authBranch
		x.send(`retrans="500"`, u.inviteAs(port, branch, cseq,
			fmt.Sprintf("[authentication username=%s password=%s]\n", u.from, u.password)))
	}
	x.label("progress")
	for _, code := range []int{100, 180, 183} {
		x.recv(fmt.Sprintf(`response="%d" optional="true" next="progress"`, code))
	}
	// Switchboard's BYE at any moment the script does not wait for one
	// (while a digit is sent, or crossing the caller's own BYE); SIPp
	// wants it before a mandatory reception.
	x.recv(`request="BYE" optional="global" next="bye"`)
	for _, code := range rejections {
		x.recv(fmt.Sprintf(`response="%d" optional="true" next="rejected"`, code),
			`<ereg regexp="SIP/2.0 [0-9]+[ A-Za-z]*" search_in="msg" check_it="true" assign_to="status"/>`)
	}
	x.recv(`response="200" rtd="true" rrs="true"`)
	x.send(``, u.request("ACK", "[next_url]", "[branch]", cseq, true))
	if speech != "" {
		x.action(fmt.Sprintf(`<exec play_pcap_audio=%q/>`, speech))
	}
	var now time.Duration // since the answer
	wait := func(until time.Duration, then string) {
		if until > now {
			x.recv(fmt.Sprintf(`request="BYE" timeout="%d" ontimeout=%q next="bye"`, ms(until-now), then))
			now = until
		}
		x.label(then)
	}
	for i, p := range presses {
		wait(p.at, fmt.Sprintf("digit%d", i))
		x.action(fmt.Sprintf(`<exec play_pcap_audio=%q/>`, p.pcap))
	}
	if speech != "" && len(presses) > 0 {
		// SIPp plays one pcap of a call at a time: a key silenced the
		// speech. The caller talks again once the key is sent (a 2833
		// event lasts under 300 ms).
		wait(presses[len(presses)-1].at+500*time.Millisecond, "talk")
		x.action(fmt.Sprintf(`<exec play_pcap_audio=%q/>`, speech))
	}
	if s.hangupAfter > 0 {
		wait(s.hangupAfter, "hangup")
		x.send(``, u.request("BYE", "[next_url]", "[branch]", cseq+1, true)) // once: see phoneBye
		x.recv(`response="200" next="end"`)
	} else {
		x.recv(fmt.Sprintf(`request="BYE" timeout="%d"`, ms(callLimit)))
	}
	x.label("bye")
	x.send(`next="end"`, reply("200 OK", false))
	x.label("rejected")
	x.send(``, u.request("ACK", u.uri(), branch, cseq, true))
	// SIPp fails a call on purpose only with a fatal error: the process
	// exits non-zero, which ended() reports with this message.
	x.action(`<error message="the call was rejected: [$status]"/>`)
	x.label("end")
	return x.xml("caller"), nil
}

// requireSIPp skips a test that needs SIPp where it is not installed.
func requireSIPp(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		unavailable(t, "sipp is not on the PATH (Debian: apt-get install sip-tester; make test installs it): "+
			"the SIPp phones and callers of the real-server suite are not checked")
	}
}

// TestSIPp plays the generated callers against the generated phones,
// SIPp to SIPp on the loopback without a media server, each phone rung
// twice, and checks the SIP messages of both sides.
func TestSIPp(t *testing.T) {
	requireSIPp(t)
	t.Parallel()
	ms := time.Millisecond
	// What each side traces of an answered call, then the rest.
	answered := func(then ...string) []string {
		return append([]string{"> INVITE", "< 100", "< 180", "< 200", "> ACK"}, then...)
	}
	picked := func(then ...string) []string {
		return append([]string{"< INVITE", "> 100", "> 180", "> 200", "< ACK"}, then...)
	}
	// ... and of a call given up while ringing.
	callerCancels := []string{"> INVITE", "< 100", "< 180", "> CANCEL", "< 200", "< 487", "> ACK"}
	phoneCancelled := []string{"< INVITE", "> 100", "> 180", "< CANCEL", "> 200", "> 487", "< ACK"}
	tests := []struct {
		name   string
		phone  phone
		script script
		cancel time.Duration // the caller gives up ringing after it (CANCEL)
		// caller and callee are the SIP messages each side traces for a
		// call; rejected is the failure the caller reports.
		caller, callee []string
		rejected       string
	}{
		{name: "the phone answers and hangs up; the caller waits for the BYE",
			phone:  phone{answerAfter: 100 * ms, hangupAfter: 200 * ms},
			caller: answered("< BYE", "> 200"), callee: picked("> BYE", "< 200")},
		{name: "the phone answers at once; the caller presses digits and hangs up",
			script: script{digits: map[time.Duration]string{100 * ms: "1", 300 * ms: "*#"}, hangupAfter: 900 * ms},
			caller: answered("> BYE", "< 200"), callee: picked("< BYE", "> 200")},
		{name: "the caller presses a digit and waits for the BYE",
			phone:  phone{answerAfter: 100 * ms, hangupAfter: 400 * ms},
			script: script{digits: map[time.Duration]string{100 * ms: "2"}},
			caller: answered("< BYE", "> 200"), callee: picked("> BYE", "< 200")},
		{name: "the phone hangs up while the caller waits to press a digit",
			phone:  phone{hangupAfter: 100 * ms},
			script: script{digits: map[time.Duration]string{5 * time.Second: "1"}, hangupAfter: 10 * time.Second},
			caller: answered("< BYE", "> 200"), callee: picked("> BYE", "< 200")},
		{name: "the caller hangs up before the phone would",
			phone: phone{hangupAfter: 5 * time.Second}, script: script{hangupAfter: 200 * ms},
			caller: answered("> BYE", "< 200"), callee: picked("< BYE", "> 200")},
		{name: "a ringing phone takes the CANCEL", phone: phone{ring: true}, cancel: 200 * ms,
			caller: callerCancels, callee: phoneCancelled},
		{name: "a phone about to answer takes the CANCEL", phone: phone{answerAfter: 5 * time.Second}, cancel: 200 * ms,
			caller: callerCancels, callee: phoneCancelled},
		{name: "a busy phone: the caller is rejected", phone: phone{busy: true},
			caller: []string{"> INVITE", "< 100", "< 486", "> ACK"}, callee: []string{"< INVITE", "> 100", "> 486", "< ACK"},
			rejected: "the call was rejected: SIP/2.0 486 Busy Here"},
		{name: "a phone declines after ringing: the caller is rejected", phone: phone{decline: true, answerAfter: 100 * ms},
			caller: []string{"> INVITE", "< 100", "< 180", "< 603", "> ACK"}, callee: []string{"< INVITE", "> 100", "> 180", "> 603", "< ACK"},
			rejected: "the call was rejected: SIP/2.0 603 Decline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSIPp(t, "")
			s.server = fmt.Sprintf("127.0.0.1:%d", s.port("alice"))
			phone := s.phone(t, "alice", tt.phone)
			for range 2 { // a phone is rung again and again
				var c *sippCall
				if tt.cancel > 0 {
					c = s.cancelling(t, caller1, "alice", tt.cancel)
				} else {
					c = s.call(t, caller1, "alice", tt.script)
				}
				require.True(t, c.exited(10*time.Second), "the caller never ended: %s", c.report())
				if tt.rejected != "" {
					require.Error(t, c.err, "the caller fails: %s", c.report())
					require.Contains(t, c.report(), tt.rejected)
				} else {
					require.NoError(t, c.err, c.report())
				}
				require.Equal(t, tt.caller, c.flow(), c.report())
				raw, err := os.ReadFile(c.file("messages.log"))
				require.NoError(t, err)
				require.Contains(t, string(raw), "Call-ID: "+c.callID+"\r\n", "the media server knows the call by this Call-ID")
			}
			phone.stop()
			require.NoError(t, phone.err, "every call of the phone went as scripted: %s", phone.report())
			require.Equal(t, slices.Concat(tt.callee, tt.callee), phone.flow(), phone.report())
		})
	}
}

// cancelling starts a caller that gives up after ringing for d
// (uac_cancel_after.xml): not in the suite's scripts, where callers
// answered by switchboard hang up with a BYE, but how a phone's CANCEL
// handling is checked.
func (s *sipp) cancelling(t testing.TB, from, to string, d time.Duration) *sippCall {
	u := uac{from: from, to: to}
	var x sippXML
	x.send(`retrans="500"`, u.invite(0))
	x.label("trying")
	x.recv(`response="100" optional="true" next="trying"`)
	x.recv(`response="180"`)
	fmt.Fprintf(&x.b, "  <pause milliseconds=\"%d\"/>\n", ms(d))
	x.send(``, u.request("CANCEL", u.uri(), inviteBranch, 1, false))
	x.label("cancelled")
	x.recv(`response="200" optional="true" next="cancelled"`)
	x.recv(`response="487"`)
	x.send(``, u.request("ACK", u.uri(), inviteBranch, 1, true))
	return s.start(t, x.xml("cancelling caller"))
}

// TestSIPpCrossingBye: a phone or a caller whose BYE crosses the other
// side's answers it and ends well. The other side, written here, takes
// the BYE and sends its own instead of answering, so that the side under
// test surely gets a BYE while it waits for the 200 of its own.
func TestSIPpCrossingBye(t *testing.T) {
	requireSIPp(t)
	t.Parallel()
	var uas, uac2 sippXML
	uas.recv(`request="INVITE" crlf="true"`, byeCaptures...)
	uas.send(`retrans="500"`, answer)
	uas.recv(`request="ACK" crlf="true"`)
	uas.recv(`request="BYE"`)
	uas.send(``, phoneBye)
	uas.recv(`response="200"`)
	u := uac{from: caller1, to: "alice"}
	uac2.send(`retrans="500"`, u.invite(0))
	uac2.recv(`response="100" optional="true"`)
	uac2.recv(`response="180" optional="true"`)
	uac2.recv(`response="200" rrs="true"`)
	uac2.send(``, u.request("ACK", "[next_url]", "[branch]", 1, true))
	uac2.recv(`request="BYE"`)
	uac2.send(``, u.request("BYE", "[next_url]", "[branch]", 2, true))
	uac2.recv(`response="200"`)

	crossed := []string{"> BYE", "< BYE", "> 200"}
	tests := []struct {
		name          string
		phone, caller string // the other side's scenario; "" for the one tested
		flow          []string
	}{
		{name: "a caller", phone: uas.xml("crossing phone"), flow: append([]string{"> INVITE", "< 200", "> ACK"}, crossed...)},
		{name: "a phone", caller: uac2.xml("crossing caller"),
			flow: append([]string{"< INVITE", "> 100", "> 180", "> 200", "< ACK"}, crossed...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSIPp(t, "")
			s.server = fmt.Sprintf("127.0.0.1:%d", s.port("alice"))
			var p, c *sippProc
			if tt.phone != "" {
				p = s.listen(t, "alice", tt.phone)
			} else {
				p = s.phone(t, "alice", phone{hangupAfter: 100 * time.Millisecond})
			}
			if tt.caller != "" {
				c = s.start(t, tt.caller).sippProc
			} else {
				c = s.call(t, caller1, "alice", script{hangupAfter: 100 * time.Millisecond}).sippProc
			}
			require.True(t, c.exited(5*time.Second), "the caller never ended: %s", c.report())
			p.stop()
			for _, side := range []*sippProc{p, c} {
				require.NoError(t, side.err, side.report())
			}
			tested := p
			if tt.phone != "" {
				tested = c
			}
			require.Equal(t, tt.flow, tested.flow(), tested.report())
		})
	}
}

// TestSIPpDigits: the caller's digits reach the far end as RFC 2833
// events, in order, at their times. The phone here answers with a media
// port of the test's own, which reads the events.
func TestSIPpDigits(t *testing.T) {
	requireSIPp(t)
	t.Parallel()
	media, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer media.Close()
	var uas sippXML
	uas.recv(`request="INVITE" crlf="true"`)
	uas.send(`retrans="500"`, strings.Replace(answer, "[media_port]", fmt.Sprint(media.LocalAddr().(*net.UDPAddr).Port), 1))
	uas.recv(`request="ACK" crlf="true"`)
	uas.recv(`request="BYE"`)
	uas.send(``, reply("200 OK", false))

	s := newSIPp(t, "")
	s.server = fmt.Sprintf("127.0.0.1:%d", s.port("alice"))
	s.listen(t, "alice", uas.xml("phone reading digits"))
	ms := time.Millisecond
	c := s.call(t, caller1, "alice", script{digits: map[time.Duration]string{700 * ms: "1", 100 * ms: "*#"}, hangupAfter: time.Second})
	// The first packet of each event has the RTP marker bit; the event
	// is the first byte of the payload (0-9, 10 for *, 11 for #).
	var events []int
	buf := make([]byte, 1500)
	media.SetReadDeadline(time.Now().Add(2 * time.Second)) // the call lasts 1 s
	for {
		n, _, err := media.ReadFrom(buf)
		if err != nil {
			break
		}
		if n >= 16 && buf[1]&0x7f == 101 && buf[1]&0x80 != 0 {
			events = append(events, int(buf[12]))
		}
	}
	require.True(t, c.exited(5*time.Second), c.report())
	require.NoError(t, c.err, c.report())
	require.Equal(t, []int{10, 11, 1}, events, "* and # (100 ms, then 300 ms later), then 1 (700 ms)")
}

// TestSIPpPhoneListens: a phone that listens hears the caller, and what
// it heard is the last call's: rung twice, by a caller saying 440 Hz then
// by one saying 1000 Hz, it gives the 1000 Hz alone.
func TestSIPpPhoneListens(t *testing.T) {
	requireSIPp(t)
	t.Parallel()
	s := newSIPp(t, "")
	s.server = fmt.Sprintf("127.0.0.1:%d", s.port("alice"))
	phone := s.phone(t, "alice", phone{listen: true})
	require.Nil(t, s.heard("alice", 0, time.Minute), "nothing before the phone answered")
	for _, freq := range []float64{440, 1000} {
		c := s.call(t, caller1, "alice", script{say: freq, hangupAfter: 1500 * time.Millisecond})
		require.True(t, c.exited(10*time.Second), "the caller never ended: %s", c.report())
		require.NoError(t, c.err, c.report())
		heard := s.heard("alice", 0, time.Minute)
		require.Greater(t, loud(heard), 800*time.Millisecond, "the phone heard the caller's %g Hz: %s", freq, phone.report())
		require.Greater(t, power(heard, freq), 0.8, "the phone heard the caller's %g Hz", freq)
		// A window and the rest after it are the whole, whatever the
		// packets' timing.
		head, tail := s.heard("alice", 0, 500*time.Millisecond), s.heard("alice", 500*time.Millisecond, time.Minute)
		require.NotEmpty(t, head, "the first packet is in the first window")
		require.Equal(t, heard, slices.Concat(head, tail))
	}
	require.Less(t, power(s.heard("alice", 0, time.Minute), 440), 0.05, "the last call's audio, not the first's")
	calls := phone.answered()
	require.Len(t, calls, 2)
	require.NotZero(t, calls[1].media, "the caller's audio port, read from its INVITE")
	phone.stop()
	require.NoError(t, phone.err, phone.report())
}
