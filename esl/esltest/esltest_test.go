package esltest

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fsloop is the emulator configured like the recording box: one sofia
// profile, fsloop.
func fsloop() Options {
	return Options{Profile: "fsloop", Profiles: []string{"fsloop"}}
}

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	require.NoError(t, s.Start())
	t.Cleanup(s.Close)
	return s
}

func connect(t *testing.T, s *Server) *client {
	t.Helper()
	c := dial(t, s.Addr())
	f, err := c.next(2 * time.Second)
	require.NoError(t, err)
	require.Equal(t, authRequestFrame, f.raw)
	return c
}

func dtmfOf(t *testing.T, recs []record, conn, uuid string) []string {
	var out []string
	for _, e := range recordedEvents(t, recs, conn, named("DTMF", uuid)) {
		out = append(out, e.get("DTMF-Digit"))
	}
	return out
}

// Transcript 01: auth, subscriptions, api/bgapi, errors, a wrong password,
// commands before auth, one call seen in plain and one in json, filters,
// noevents and exit.
func TestTranscript01InboundBasics(t *testing.T) {
	recs := loadTranscript(t, "01-inbound-mode-basics.jsonl")
	s := startServer(t, fsloop())

	ctl := connect(t, s)
	r := newReplay(t, recs, "ctl", ctl)
	r.run(3) // auth, event plain ..., api status
	for i := 0; i < 2; i++ {
		r.next() // bgapi status (the second with its own Job-UUID)
		ctl.waitEvent(named("BACKGROUND_JOB", ""))
	}
	r.run(2) // api nosuchcommand, with and without args
	r.next() // bgapi nosuchcommand
	ctl.waitEvent(named("BACKGROUND_JOB", ""))
	r.run(3) // nosuchcmd, linger, myevents

	bad := connect(t, s)
	rb := newReplay(t, recs, "badauth", bad)
	rb.next()
	bad.expectClosed()
	rb.done()
	checkAgainst(t, recs, "badauth", bad, nil)

	noauth := connect(t, s)
	rn := newReplay(t, recs, "noauth", noauth)
	rn.run(2)
	rn.done()
	require.Empty(t, noauth.drain(50*time.Millisecond), "the unauthenticated socket stays open and quiet")
	checkAgainst(t, recs, "noauth", noauth, nil)

	calls := inboundCalls(t, recs, "ctl")
	require.Len(t, calls, 2)
	for i, rc := range calls {
		if i == 1 {
			r.next() // event json ...
		}
		cl := rc.place(s)
		ctl.waitEvent(named("CHANNEL_PARK", cl.UUID()))
		r.next() // api uuid_answer
		ctl.waitEvent(named("CHANNEL_ANSWER", cl.UUID()))
		for _, d := range dtmfOf(t, recs, "ctl", rc.script.UUID) {
			cl.SendDTMF(d)
			ctl.waitEvent(named("DTMF", cl.UUID()))
		}
		cl.Hangup()
		ctl.waitEvent(named("CHANNEL_DESTROY", cl.UUID()))
		require.Equal(t, "NORMAL_CLEARING", cl.HangupCause())
		require.True(t, cl.Answered())
	}
	r.next() // bgapi status, json this time
	ctl.waitEvent(named("BACKGROUND_JOB", ""))
	r.run(6) // filter, filter delete, nixevent, event plain, noevents x2
	r.next() // exit
	ctl.expectClosed()
	r.done()
	checkAgainst(t, recs, "ctl", ctl, nil)
}

// Transcript 02: park, answer and set by sendmsg, an endless tone stopped by
// uuid_break after a DTMF, an agent originated with bgapi and bridged, the
// caller hanging up.
func TestTranscript02ParkAnswerPlayDTMFBridge(t *testing.T) {
	recs := loadTranscript(t, "02-park-answer-play-dtmf-bridge.jsonl")
	s := startServer(t, fsloop())
	s.SetPeer("sofia/fsloop/agent1@127.0.0.1:5191", Peer{Delay: 60 * time.Millisecond})

	ctl := connect(t, s)
	r := newReplay(t, recs, "ctl", ctl)
	r.run(2)
	rc := inboundCalls(t, recs, "ctl")[0]
	cl := rc.place(s)
	a := cl.UUID()
	ctl.waitEvent(named("CHANNEL_PARK", a))
	r.run(3) // sendmsg answer, sendmsg set (body), sendmsg playback
	ctl.waitEvent(named("PLAYBACK_START", a))
	for _, d := range dtmfOf(t, recs, "ctl", a) {
		cl.SendDTMF(d)
	}
	ctl.waitEvent(named("DTMF", a))
	r.next() // api uuid_break <A> all
	ctl.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", a))
	r.next() // bgapi originate
	ctl.waitEvent(named("BACKGROUND_JOB", ""))
	b := ctl.waitEvent(named("CHANNEL_PARK", "")).get("Unique-ID")
	r.next() // api uuid_bridge A B
	ctl.waitEvent(named("CHANNEL_BRIDGE", a))
	cl.Hangup()
	ctl.waitEvent(named("CHANNEL_DESTROY", a))
	ctl.waitEvent(named("CHANNEL_DESTROY", b))
	r.done()
	checkAgainst(t, recs, "ctl", ctl, nil)
	require.Equal(t, []string{"tone_stream://%(1000,500,440);loops=-1"}, cl.Heard())
	info, ok := s.Channel(a)
	require.True(t, ok)
	require.Equal(t, "hello body arg", info.Variables["eslcapture_marker"], "a text/plain body is the app argument")
}

// Transcript 03: an agent ringing into originate_timeout (NO_ANSWER), one
// busy (USER_BUSY), one declining (CALL_REJECTED), and the busy one again
// with a synchronous api originate whose events wait for its reply.
func TestTranscript03OriginateFailures(t *testing.T) {
	recs := loadTranscript(t, "03-originate-noanswer-busy-decline.jsonl")
	s := startServer(t, fsloop())
	s.SetPeer("sofia/fsloop/agent1@127.0.0.1:5191", Peer{Action: PeerRing})
	s.SetPeer("sofia/fsloop/agent2@127.0.0.1:5192", Peer{Action: PeerBusy})
	s.SetPeer("sofia/fsloop/agent3@127.0.0.1:5193", Peer{Action: PeerDecline})

	ctl := connect(t, s)
	r := newReplay(t, recs, "ctl", ctl)
	// The recording waits 5 s for NO_ANSWER; 1 s proves the same.
	r.edit = func(raw string) string { return strings.Replace(raw, "originate_timeout=5", "originate_timeout=1", 1) }
	r.run(2)
	for i := 0; i < 3; i++ {
		r.next() // bgapi originate
		job := ctl.waitEvent(named("BACKGROUND_JOB", ""))
		uuid := strings.TrimSpace(strings.TrimPrefix(job.get("Job-Command-Arg"), "{origination_uuid="))[:36]
		ctl.waitEvent(named("CHANNEL_DESTROY", uuid))
	}
	f := r.next() // api originate: the reply comes before the call's events
	require.Equal(t, "Content-Type: api/response\nContent-Length: 15\n\n-ERR USER_BUSY\n", f.raw)
	ctl.waitEvent(named("CHANNEL_DESTROY", "4425ffc6-7bb6-4705-b754-c99e6dcf6f98"))
	r.done()
	checkAgainst(t, recs, "ctl", ctl, nil)

	var order []string
	for _, e := range ctl.entries() {
		if e.f.ev != nil && e.f.ev.get("Unique-ID") == "4425ffc6-7bb6-4705-b754-c99e6dcf6f98" && e.f.ev.name() == "CHANNEL_OUTGOING" {
			order = append(order, "event")
		}
		if e.f.contentType() == "api/response" && strings.Contains(e.f.body, "USER_BUSY") {
			order = append(order, "reply")
		}
	}
	require.Equal(t, []string{"reply", "event"}, order, "a synchronous api holds the events back")
}

// Transcript 04: the caller goes (BYE when answered, CANCEL before) while
// the agent leg still rings; the controller cancels the agent.
func TestTranscript04CallerHangupWhileAgentRings(t *testing.T) {
	recs := loadTranscript(t, "04-caller-hangup-while-agent-rings.jsonl")
	s := startServer(t, fsloop())
	s.SetPeer("sofia/fsloop/agent1@127.0.0.1:5191", Peer{Action: PeerRing})

	ctl := connect(t, s)
	r := newReplay(t, recs, "ctl", ctl)
	r.run(2)
	calls := inboundCalls(t, recs, "ctl")
	require.Len(t, calls, 2)

	// Part A: answered, hearing music on hold.
	cl := calls[0].place(s)
	ctl.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	r.run(3) // uuid_answer, uuid_broadcast moh, bgapi originate
	ctl.waitEvent(named("CHANNEL_PROGRESS", ""))
	ctl.waitEvent(named("PLAYBACK_START", cl.UUID()))
	cl.Hangup()
	ctl.waitEvent(named("CHANNEL_DESTROY", cl.UUID()))
	r.next() // uuid_kill <B> ORIGINATOR_CANCEL
	ctl.waitEvent(named("BACKGROUND_JOB", ""))
	ctl.waitEvent(named("CHANNEL_DESTROY", "43fcf9cd-d74a-4269-9bb0-9b60692273f6"))
	require.Equal(t, []string{"local_stream://moh"}, cl.Heard())

	// Part B: never answered, the caller cancels.
	cl = calls[1].place(s)
	ctl.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	r.next() // bgapi originate
	ctl.waitEvent(named("CHANNEL_PROGRESS", "7e24cef2-1056-4a22-8bfc-7af5f8c079ca"))
	cl.Hangup()
	ctl.waitEvent(named("CHANNEL_DESTROY", cl.UUID()))
	require.Equal(t, "ORIGINATOR_CANCEL", cl.HangupCause())
	require.False(t, cl.Answered())
	r.next() // uuid_kill <B> ORIGINATOR_CANCEL
	ctl.waitEvent(named("BACKGROUND_JOB", ""))
	ctl.waitEvent(named("CHANNEL_DESTROY", "7e24cef2-1056-4a22-8bfc-7af5f8c079ca"))
	r.done()
	checkAgainst(t, recs, "ctl", ctl, nil)
}

// Transcript 05: music on hold by uuid_broadcast and by sendmsg, stopped by
// uuid_break with and without all; then hold and unhold on a bridged call,
// the hold music playing to the agent.
func TestTranscript05MOHAndHold(t *testing.T) {
	recs := loadTranscript(t, "05-moh-and-hold.jsonl")
	s := startServer(t, fsloop())
	s.SetPeer("sofia/fsloop/agent1@127.0.0.1:5191", Peer{Delay: 50 * time.Millisecond})
	b := "3d1c2cfa-e5c5-45a4-8862-d870452c8f2a"

	ctl := connect(t, s)
	r := newReplay(t, recs, "ctl", ctl)
	r.run(2)
	cl := inboundCalls(t, recs, "ctl")[0].place(s)
	a := cl.UUID()
	ctl.waitEvent(named("CHANNEL_PARK", a))
	r.run(2) // uuid_answer, uuid_broadcast moh
	ctl.waitEvent(named("PLAYBACK_START", a))
	r.next() // uuid_break all
	ctl.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", a))
	r.next() // sendmsg playback moh
	ctl.waitEvent(named("PLAYBACK_START", a))
	r.next() // uuid_break
	ctl.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", a))
	r.run(2) // uuid_setvar hold_music, bgapi originate
	ctl.waitEvent(named("CHANNEL_PARK", b))
	r.next() // uuid_bridge
	ctl.waitEvent(named("CHANNEL_BRIDGE", a))
	r.next() // uuid_hold
	ctl.waitEvent(named("PLAYBACK_START", b))
	info, _ := s.Channel(a)
	require.True(t, info.Held)
	r.next() // uuid_hold off
	ctl.waitEvent(named("CHANNEL_UNHOLD", a))
	cl.Hangup()
	ctl.waitEvent(named("CHANNEL_DESTROY", a))
	ctl.waitEvent(named("CHANNEL_DESTROY", b))
	r.done()
	checkAgainst(t, recs, "ctl", ctl, nil)
	agent, _ := s.Channel(b)
	require.Equal(t, []string{"local_stream://moh"}, agent.Played, "the agent heard the hold music")
}

// Transcript 06: recording a bridged call, uuid_audio, an eavesdropping
// supervisor with whisper, uuid_buglist, killing the supervisor.
func TestTranscript06RecordAndEavesdrop(t *testing.T) {
	recs := loadTranscript(t, "06-record-and-eavesdrop.jsonl")
	s := startServer(t, fsloop())
	s.SetPeer("sofia/fsloop/agent1@127.0.0.1:5191", Peer{Delay: 40 * time.Millisecond})
	s.SetPeer("sofia/fsloop/agent3@127.0.0.1:5193", Peer{Delay: 40 * time.Millisecond})
	const recorded = "/var/lib/fsrec/recordings/s6-1448.wav"
	path := filepath.Join(t.TempDir(), "recordings", "s6.wav")
	b, sup := "503b3f9d-9655-4276-a0ac-71f267077d3d", "c82eead4-e5a4-4bb4-847b-c406d105d737"

	ctl := connect(t, s)
	r := newReplay(t, recs, "ctl", ctl)
	r.edit = func(raw string) string { return strings.ReplaceAll(raw, recorded, path) }
	r.run(2)
	cl := inboundCalls(t, recs, "ctl")[0].place(s)
	a := cl.UUID()
	ctl.waitEvent(named("CHANNEL_PARK", a))
	r.run(2) // uuid_answer, bgapi originate
	ctl.waitEvent(named("CHANNEL_PARK", b))
	r.next() // uuid_bridge
	ctl.waitEvent(named("CHANNEL_BRIDGE", a))
	r.next() // uuid_record start
	ctl.waitEvent(named("RECORD_START", a))
	r.run(4) // uuid_audio x4
	r.next() // bgapi originate eavesdrop
	ctl.waitEvent(named("CHANNEL_EXECUTE", sup))
	r.next() // uuid_buglist
	r.next() // uuid_kill <S>
	ctl.waitEvent(named("CHANNEL_DESTROY", sup))
	time.Sleep(20 * time.Millisecond)
	r.next() // uuid_record stop
	ctl.waitEvent(named("RECORD_STOP", a))
	r.next() // uuid_buglist
	cl.Hangup()
	ctl.waitEvent(named("CHANNEL_DESTROY", a))
	ctl.waitEvent(named("CHANNEL_DESTROY", b))
	r.done()
	checkAgainst(t, recs, "ctl", ctl, map[string]string{path: recorded})

	st, err := os.Stat(path)
	require.NoError(t, err, "the recording is written")
	info, _ := s.Channel(a)
	require.Equal(t, info.Variables["record_file_size"], strconv.FormatInt(st.Size(), 10))
}

// Transcript 07: the outbound socket. Call 1: connect, myevents, linger,
// getvar, answer, an endless tone broken after a DTMF, a short tone, the
// caller's BYE, the linger notice, exit. Call 2: answer then sendmsg
// hangup without linger: disconnect notice and close.
func TestTranscript07OutboundSocket(t *testing.T) {
	recs := loadTranscript(t, "07-outbound-socket-mode.jsonl")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	opts := fsloop()
	opts.SocketAddr = ln.Addr().String()
	opts.SocketDestinations = regexp.MustCompile(`^2\d{3}$`)
	s := startServer(t, opts)

	accept := func() *client {
		t.Helper()
		require.NoError(t, ln.(*net.TCPListener).SetDeadline(time.Now().Add(5*time.Second)))
		nc, err := ln.Accept()
		require.NoError(t, err)
		return newClient(t, nc)
	}
	callOf := func(conn string) recordedCall {
		for _, f := range recvFrames(t, recs, conn) {
			if strings.HasPrefix(f.raw, "Event-Name: CHANNEL_DATA") {
				return callFrom(parsePlain(f.raw))
			}
		}
		t.Fatalf("no channel data on %s", conn)
		return recordedCall{}
	}

	rc := callOf("out1")
	cl := rc.place(s)
	out := accept()
	r := newReplay(t, recs, "out1", out)
	data := r.next() // connect
	checkChannelData(t, recs, "out1", data)
	r.run(5) // myevents, event plain PLAYBACK_*, linger, getvar x2
	r.next() // sendmsg answer
	out.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", cl.UUID()))
	r.next() // sendmsg playback, endless
	out.waitEvent(named("PLAYBACK_START", cl.UUID()))
	for _, d := range dtmfOf(t, recs, "out1", cl.UUID()) {
		cl.SendDTMF(d)
	}
	out.waitEvent(named("DTMF", cl.UUID()))
	r.next() // api uuid_break all
	out.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", cl.UUID()))
	r.next() // short playback
	out.waitEvent(named("PLAYBACK_STOP", cl.UUID()))
	out.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", cl.UUID()))
	cl.Hangup()
	out.waitEvent(named("CHANNEL_HANGUP_COMPLETE", cl.UUID()))
	notice := out.reply()
	require.Equal(t, "linger", notice.header("Content-Disposition"))
	require.Empty(t, out.drain(50*time.Millisecond), "lingering: the socket stays open")
	_, live := s.Channel(cl.UUID())
	require.True(t, live)
	require.Len(t, s.Channels(), 1, "no CHANNEL_DESTROY while the socket lingers")
	r.next() // exit
	out.expectClosed()
	r.done()
	checkAgainst(t, recs, "out1", out, map[string]string{data.raw: recvFrames(t, recs, "out1")[0].raw})
	require.Eventually(t, func() bool { return len(s.Channels()) == 0 }, 2*time.Second, 5*time.Millisecond)

	rc = callOf("out2")
	cl = rc.place(s)
	out = accept()
	r = newReplay(t, recs, "out2", out)
	data = r.next() // connect
	checkChannelData(t, recs, "out2", data)
	r.run(2) // myevents plain, sendmsg answer
	out.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", cl.UUID()))
	r.next() // sendmsg hangup
	out.expectClosed()
	r.done()
	checkAgainst(t, recs, "out2", out, map[string]string{data.raw: recvFrames(t, recs, "out2")[0].raw})
	require.Equal(t, "NORMAL_CLEARING", cl.HangupCause())
	require.True(t, cl.HungUpByServer())
}

// checkChannelData compares the outbound `connect` reply with the
// recording: the same header layout (a command/reply whose Content-Type
// comes after the channel data), the same reply headers byte for byte and
// the same channel block.
func checkChannelData(t *testing.T, recs []record, conn string, got frame) {
	t.Helper()
	want := recvFrames(t, recs, conn)[0]
	require.Equal(t, layout(&parsedEvent{headers: want.headers}), layout(&parsedEvent{headers: got.headers}))
	require.True(t, strings.HasSuffix(got.raw, "Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n"))
	for _, h := range []string{"Event-Name", "FreeSWITCH-Hostname", "FreeSWITCH-IPv4", "FreeSWITCH-IPv6",
		"Event-Calling-File", "Channel-Destination-Number", "Channel-Unique-ID", "Channel-State", "Channel-Call-State",
		"Answer-State", "Caller-Caller-ID-Name", "Caller-Caller-ID-Number", "variable_current_application",
		"variable_socket_host"} {
		require.Equal(t, want.header(h), got.header(h), h)
	}
	require.True(t, strings.HasSuffix(got.header("variable_current_application_data"), "%20async%20full"))
}

// Transcript 08: error replies of the uuid_* commands and originate, the
// originate failures (some with a lone CHANNEL_DESTROY), missing files,
// commands on a gone channel, an unknown application.
func TestTranscript08Errors(t *testing.T) {
	recs := loadTranscript(t, "08-errors.jsonl")
	opts := fsloop()
	opts.Gateways = []string{"trunk"}
	s := startServer(t, opts)
	s.SetPeer("sofia/fsloop/agent1@127.0.0.1:5191", Peer{Delay: 40 * time.Millisecond})

	ctl := connect(t, s)
	r := newReplay(t, recs, "ctl", ctl)
	r.run(2 + 22)   // auth, event, then the error commands up to the bad {} string
	leg := r.next() // api originate ... &nosuchapp(): FreeSWITCH draws the uuid
	replace := map[string]string{strings.TrimSpace(strings.TrimPrefix(leg.body, "+OK ")): "077fddd0-fc6a-4df7-8b31-d7f5b0b98db2"}
	r.next() // api originate without an app: usage
	r.next() // bgapi originate to nobody: unreachable
	ctl.waitEvent(named("BACKGROUND_JOB", ""))
	ctl.waitEvent(named("CHANNEL_DESTROY", "454435c9-3c06-466a-b161-ea7466c82107"))

	calls := inboundCalls(t, recs, "ctl")
	require.Len(t, calls, 2)
	cl := calls[0].place(s)
	ctl.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	r.run(3) // uuid_answer twice, sendmsg playback of a missing file
	ctl.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", cl.UUID()))
	r.next() // uuid_broadcast of a missing file
	ctl.waitEvent(func(e *parsedEvent) bool {
		return e.name() == "CHANNEL_EXECUTE_COMPLETE" && e.get("Application-Data") == "/no/such/file2.wav"
	})
	cl.Hangup()
	ctl.waitEvent(named("CHANNEL_DESTROY", cl.UUID()))
	r.run(3) // sendmsg, uuid_kill, uuid_exists on the gone channel
	require.Empty(t, cl.Heard(), "missing files are not heard")

	cl = calls[1].place(s)
	ctl.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	r.run(2) // uuid_answer, sendmsg execute nosuchapp
	ctl.waitEvent(named("CHANNEL_DESTROY", cl.UUID()))
	require.Equal(t, "DESTINATION_OUT_OF_ORDER", cl.HangupCause())
	r.done()
	checkAgainst(t, recs, "ctl", ctl, replace)
}

// Transcript 09: a controller dropping its connection leaves a parked call
// up and a new one finds it (uuid_exists, show ...); a connection bound with
// myevents <uuid> takes the call down with it.
func TestTranscript09Reconnect(t *testing.T) {
	recs := loadTranscript(t, "09-reconnect.jsonl")
	s := startServer(t, fsloop())
	calls := inboundCalls(t, recs, "ctl1")
	calls = append(calls, inboundCalls(t, recs, "ctl2")...)
	require.Len(t, calls, 2)

	ctl1 := connect(t, s)
	r1 := newReplay(t, recs, "ctl1", ctl1)
	r1.run(2)
	cl := calls[0].place(s)
	ctl1.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	r1.next() // uuid_answer
	ctl1.waitEvent(named("CHANNEL_ANSWER", cl.UUID()))
	r1.done()
	checkAgainst(t, recs, "ctl1", ctl1, nil)
	ctl1.nc.Close()
	time.Sleep(20 * time.Millisecond)
	require.Len(t, s.Channels(), 1, "the call survives its controller")

	ctl2 := connect(t, s)
	r2 := newReplay(t, recs, "ctl2", ctl2)
	r2.run(2 + 7) // auth, event, uuid_exists, show x4, uuid_getvar x2
	r2.next()     // uuid_kill
	ctl2.waitEvent(named("CHANNEL_DESTROY", cl.UUID()))
	r2.next() // uuid_exists: false

	cl = calls[1].place(s)
	ctl2.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	r2.next() // uuid_answer
	ctl2.waitEvent(named("CHANNEL_ANSWER", cl.UUID()))
	ctl3 := connect(t, s)
	r3 := newReplay(t, recs, "ctl3", ctl3)
	r3.run(3) // auth, myevents <uuid> plain, uuid_broadcast tone
	ctl2.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", cl.UUID()))
	ctl3.waitEvent(named("CHANNEL_EXECUTE_COMPLETE", cl.UUID()))
	r3.next() // uuid_exists
	r3.done()
	ctl3.nc.Close()
	ctl2.waitEvent(named("CHANNEL_DESTROY", cl.UUID()))
	require.Equal(t, "NORMAL_CLEARING", cl.HangupCause())
	r2.run(3) // uuid_exists, show channels as json, show channels
	r2.done()
	checkAgainst(t, recs, "ctl2", ctl2, nil)
	checkAgainst(t, recs, "ctl3", ctl3, nil)
}

const allEvents = "event plain ALL"

// park places a call and waits until the controller sees it parked.
func park(t *testing.T, s *Server, c *client, script CallScript) *Caller {
	t.Helper()
	cl := s.Call("15551230001", "1000", script)
	c.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	return cl
}

// complete waits for the CHANNEL_EXECUTE_COMPLETE of app on uuid.
func complete(c *client, uuid, app string) *parsedEvent {
	return c.waitEvent(func(e *parsedEvent) bool {
		return e.name() == "CHANNEL_EXECUTE_COMPLETE" && e.get("Unique-ID") == uuid && e.get("Application") == app
	})
}

// playback runs sendmsg playback and returns what happened: the
// PLAYBACK_* events seen and the Application-Response.
func playback(t *testing.T, c *client, uuid, path string) (events []string, resp string) {
	t.Helper()
	c.send("sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: " + path)
	require.Equal(t, "+OK", c.reply().header("Reply-Text"))
	seen := c.until(func(e *parsedEvent) bool {
		return e.name() == "CHANNEL_EXECUTE_COMPLETE" && e.get("Unique-ID") == uuid && e.get("Application") == "playback"
	})
	for _, e := range seen {
		if e.get("Unique-ID") == uuid && strings.HasPrefix(e.name(), "PLAYBACK_") {
			events = append(events, e.name()+" "+e.get("Playback-Status"))
		}
	}
	return events, seen[len(seen)-1].get("Application-Response")
}

func TestMediaPlayback(t *testing.T) {
	gets := map[string]int{}
	var mu = make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/prompts/", func(w http.ResponseWriter, r *http.Request) {
		mu <- struct{}{}
		gets[r.URL.Path]++
		<-mu
		switch {
		case strings.Contains(r.URL.Path, "missing"):
			http.NotFound(w, r)
		default:
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "audio/wav")
			_, _ = w.Write(make([]byte, 64))
		}
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusedURL := "http://" + refused.Addr().String() + "/prompts/a.wav"
	refused.Close()
	file := filepath.Join(t.TempDir(), "hello.wav")
	require.NoError(t, os.WriteFile(file, make([]byte, 44), 0o644))

	s := startServer(t, Options{PlayDuration: 20 * time.Millisecond})
	c := login(t, s)
	c.cmd(allEvents)
	cl := park(t, s, c, CallScript{})
	c.api("uuid_answer " + cl.UUID())

	played := []string{"PLAYBACK_START ", "PLAYBACK_STOP done"}
	tests := []struct {
		name     string
		path     string
		events   []string
		resp     string
		fetches  int    // GETs of the URL after this play
		countFor string // URL path counted
	}{
		{"file on disk", file, played, "FILE PLAYED", 0, ""},
		{"missing file", "/no/such/file.wav", nil, "FILE NOT FOUND", 0, ""},
		{"tone", "tone_stream://%(30,0,440)", played, "FILE PLAYED", 0, ""},
		{"silence", "silence_stream://30", played, "FILE PLAYED", 0, ""},
		{"http_cache first play", "http_cache://" + hs.URL + "/prompts/a.wav", played, "FILE PLAYED", 1, "/prompts/a.wav"},
		{"http_cache from the cache", "http_cache://" + hs.URL + "/prompts/a.wav", played, "FILE PLAYED", 1, "/prompts/a.wav"},
		{"http_cache 404", "http_cache://" + hs.URL + "/prompts/missing.wav", nil, "FILE NOT FOUND", 1, "/prompts/missing.wav"},
		{"http_cache 404 is not cached", "http_cache://" + hs.URL + "/prompts/missing.wav", nil, "FILE NOT FOUND", 2, "/prompts/missing.wav"},
		{"http_cache without .wav", "http_cache://" + hs.URL + "/prompts/noext", nil, "FILE NOT FOUND", 0, "/prompts/noext"},
		{"http_cache refused", "http_cache://" + refusedURL, nil, "FILE NOT FOUND", 0, ""},
		{"plain http is not a file format", hs.URL + "/prompts/b.wav", nil, "FILE NOT FOUND", 0, "/prompts/b.wav"},
		{"refresh fetches again", "{refresh=true}http_cache://" + hs.URL + "/prompts/a.wav", played, "FILE PLAYED", 2, "/prompts/a.wav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, resp := playback(t, c, cl.UUID(), tt.path)
			require.Equal(t, tt.events, events)
			require.Equal(t, tt.resp, resp)
			if tt.countFor != "" {
				mu <- struct{}{}
				n := gets[tt.countFor]
				<-mu
				require.Equal(t, tt.fetches, n)
			}
		})
	}

	// http_remove_cache forgets a URL, http_prefetch fetches one ahead.
	url := hs.URL + "/prompts/a.wav"
	require.Equal(t, "+OK\n", c.api("http_remove_cache "+url))
	_, resp := playback(t, c, cl.UUID(), "http_cache://"+url)
	require.Equal(t, "FILE PLAYED", resp)
	require.Equal(t, 3, s.HTTPFetches(url))
	pre := hs.URL + "/prompts/c.wav"
	require.Equal(t, "+OK\n", c.api("http_prefetch "+pre))
	require.Eventually(t, func() bool { return s.HTTPFetches(pre) == 1 }, 2*time.Second, 5*time.Millisecond)
	_, resp = playback(t, c, cl.UUID(), "http_cache://"+pre)
	require.Equal(t, "FILE PLAYED", resp)
	require.Equal(t, 1, s.HTTPFetches(pre))

	heard := cl.Heard()
	require.Contains(t, heard, file)
	require.NotContains(t, heard, "/no/such/file.wav")
}

func TestToneLength(t *testing.T) {
	tests := []struct {
		spec string
		want time.Duration
	}{
		{"%(1000,500,440);loops=-1", forever},
		{"%(300,0,800)", 300 * time.Millisecond},
		{"%(200,0,600)", 200 * time.Millisecond},
		{"%(500,500,480,620);loops=2", 2 * time.Second},
		{"L=3;%(100,100,350,440)", 600 * time.Millisecond},
		{"%(100,0,350);%(50,50,440)", 200 * time.Millisecond},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, toneLength(tt.spec), tt.spec)
	}
	s := New(Options{})
	d, _, ok := s.mediaLength("silence_stream://250")
	require.True(t, ok)
	require.Equal(t, 250*time.Millisecond, d)
	d, typ, _ := s.mediaLength("local_stream://moh")
	require.Equal(t, forever, d)
	require.Equal(t, "local_stream", typ)
}

// Scripted far ends, one originate each: the BACKGROUND_JOB result and the
// leg's events.
func TestPeers(t *testing.T) {
	opts := Options{Gateways: nil}
	s := startServer(t, opts)
	s.SetRegistered("1001", true)
	s.SetRegistered("1002", true)
	s.SetRegistered("1002", false)
	s.SetPeer("user/1001", Peer{Delay: 10 * time.Millisecond})
	s.SetPeer("sofia/gateway/trunk/*", Peer{Delay: 10 * time.Millisecond})
	s.SetPeer("sofia/internal/busy@example.com", Peer{Action: PeerBusy})
	s.SetPeer("sofia/internal/decline@example.com", Peer{Action: PeerDecline, Delay: 20 * time.Millisecond})
	s.SetPeer("sofia/internal/early@example.com", Peer{EarlyMedia: true, Delay: 30 * time.Millisecond})
	s.SetPeer("sofia/internal/bye@example.com", Peer{Delay: 10 * time.Millisecond, HangupAfter: 30 * time.Millisecond,
		DTMF: []DTMF{{At: 5 * time.Millisecond, Digit: "7"}}})
	c := login(t, s)
	c.cmd(allEvents)

	tests := []struct {
		name   string
		dial   string
		result string
		events []string // the leg's events, names only
		cause  string
	}{
		{"registered user answers", "user/1001", "+OK", []string{"CHANNEL_OUTGOING", "CHANNEL_CREATE",
			"CHANNEL_ORIGINATE", "CHANNEL_PROGRESS", "CHANNEL_ANSWER", "CHANNEL_EXECUTE", "CHANNEL_PARK"}, ""},
		{"unregistered user", "user/1002", "-ERR USER_NOT_REGISTERED", nil, ""},
		{"user not in the directory", "user/9999@192.0.2.2", "-ERR SUBSCRIBER_ABSENT", nil, ""},
		{"external number through a gateway", "sofia/gateway/trunk/+33612345678", "+OK", []string{"CHANNEL_OUTGOING",
			"CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_PROGRESS", "CHANNEL_ANSWER", "CHANNEL_EXECUTE", "CHANNEL_PARK"}, ""},
		{"busy", "sofia/internal/busy@example.com", "-ERR USER_BUSY", []string{"CHANNEL_OUTGOING", "CHANNEL_CREATE",
			"CHANNEL_ORIGINATE", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"}, "USER_BUSY"},
		{"decline after ringing", "sofia/internal/decline@example.com", "-ERR CALL_REJECTED", []string{"CHANNEL_OUTGOING",
			"CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_PROGRESS", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
			"CHANNEL_DESTROY"}, "CALL_REJECTED"},
		{"unreachable", "sofia/internal/nobody@127.0.0.1:5199", "-ERR NORMAL_TEMPORARY_FAILURE", []string{
			"CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
			"CHANNEL_DESTROY"}, "NORMAL_TEMPORARY_FAILURE"},
		{"early media counts as success", "sofia/internal/early@example.com", "+OK", []string{"CHANNEL_OUTGOING",
			"CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_EXECUTE", "CHANNEL_PARK",
			"CHANNEL_ANSWER"}, ""},
		{"answers, sends a digit, hangs up", "sofia/internal/bye@example.com", "+OK", []string{"CHANNEL_OUTGOING",
			"CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_PROGRESS", "CHANNEL_ANSWER", "CHANNEL_EXECUTE",
			"CHANNEL_PARK", "DTMF", "CHANNEL_HANGUP", "CHANNEL_UNPARK", "CHANNEL_EXECUTE_COMPLETE",
			"CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"}, "NORMAL_CLEARING"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uuid := "00000000-0000-4000-8000-00000000000" + strconv.Itoa(i)
			job := "10000000-0000-4000-8000-00000000000" + strconv.Itoa(i)
			c.sendRaw("bgapi originate {origination_uuid=" + uuid + ",originate_timeout=2}" + tt.dial + " &park()\nJob-UUID: " + job + "\n\n")
			require.Equal(t, "+OK Job-UUID: "+job, c.reply().header("Reply-Text"))
			res := c.waitEvent(func(e *parsedEvent) bool { return e.name() == "BACKGROUND_JOB" && e.get("Job-UUID") == job })
			require.True(t, strings.HasPrefix(res.body, tt.result), res.body)
			if tt.events == nil {
				return
			}
			last := tt.events[len(tt.events)-1]
			var got []string
			for _, e := range c.until(named(last, uuid)) {
				switch {
				case e.get("Unique-ID") != uuid:
				case e.name() == "CHANNEL_STATE", e.name() == "CHANNEL_CALLSTATE":
				default:
					got = append(got, e.name())
				}
			}
			require.Equal(t, tt.events, got)
			info, ok := s.Channel(uuid)
			require.True(t, ok)
			require.Equal(t, tt.cause, info.HangupCause)
		})
	}
	info, _ := s.Channel("00000000-0000-4000-8000-000000000000")
	require.Equal(t, "sofia/internal/1001@127.0.0.1:5060", info.Name)
	require.Equal(t, "1001", info.Destination)
	info, _ = s.Channel("00000000-0000-4000-8000-000000000003")
	require.Equal(t, "+33612345678", info.Destination)
}

func TestSofiaRegistrations(t *testing.T) {
	s := startServer(t, Options{Gateways: []string{"trunk"}})
	c := login(t, s)
	c.cmd("event plain CUSTOM sofia::register sofia::unregister")
	s.SetRegistered("1001", true)
	s.SetRegistered("1002", true)
	reg := c.waitEvent(named("CUSTOM", ""))
	require.Equal(t, "sofia::register", reg.get("Event-Subclass"))
	require.Equal(t, "1001", reg.get("from-user"))

	out := c.api("sofia status profile internal reg")
	require.True(t, strings.HasPrefix(out, "\nRegistrations:\n"+sofiaLine+"\nCall-ID:    \t"), out)
	require.Contains(t, out, "User:       \t1001@192.0.2.2\n")
	require.Contains(t, out, "User:       \t1002@192.0.2.2\n")
	require.Contains(t, out, "Status:     \tRegistered(UDP)(unknown) EXP(")
	require.True(t, strings.HasSuffix(out, "Total items returned: 2\n"+sofiaLine+"\n"), out)

	s.SetRegistered("1002", false)
	unreg := c.waitEvent(func(e *parsedEvent) bool { return e.get("Event-Subclass") == "sofia::unregister" })
	require.Equal(t, "1002", unreg.get("from-user"))
	out = c.api("sofia status profile internal reg")
	require.NotContains(t, out, "1002@")
	require.Contains(t, out, "Total items returned: 1\n")
	require.Contains(t, c.api("sofia status profile internal reg 1001"), "Total items returned: 1\n")
	require.Contains(t, c.api("sofia status profile internal reg 9999"), "Total items returned: 0\n")
	require.Equal(t, "Invalid Profile!\n", c.api("sofia status profile nosuch reg"))

	summary := c.api("sofia status")
	require.Contains(t, summary, fmt.Sprintf("%25s\t%s\t  %40s\t%s\n", "internal", "profile", "sip:mod_sofia@192.0.2.2:5060", "RUNNING (0)"))
	require.Contains(t, summary, fmt.Sprintf("%25s\tgateway\t", "external::trunk"))
	require.True(t, strings.HasSuffix(summary, sofiaLine+"\n2 profiles 0 aliases\n"), summary)
	require.Contains(t, c.api("sofia status gateway trunk"), "Name    \ttrunk\n")
}

func TestCallerScripts(t *testing.T) {
	s := startServer(t, Options{})
	c := login(t, s)
	c.cmd(allEvents)

	t.Run("digits then hang up", func(t *testing.T) {
		cl := park(t, s, c, CallScript{Name: "Alice", DTMF: []DTMF{{At: 20 * time.Millisecond, Digit: "4"},
			{At: 40 * time.Millisecond, Digit: "2"}}, HangupAfter: 80 * time.Millisecond})
		c.api("uuid_answer " + cl.UUID())
		require.Equal(t, "4", c.waitEvent(named("DTMF", cl.UUID())).get("DTMF-Digit"))
		require.Equal(t, "2", c.waitEvent(named("DTMF", cl.UUID())).get("DTMF-Digit"))
		hup := c.waitEvent(named("CHANNEL_HANGUP", cl.UUID()))
		require.Equal(t, "NORMAL_CLEARING", hup.get("Hangup-Cause"))
		require.Equal(t, "recv_bye", hup.get("variable_sip_hangup_disposition"))
		require.NoError(t, cl.Wait(context.Background()))
		require.True(t, cl.Answered())
		require.False(t, cl.HungUpByServer())
	})
	t.Run("cancel before answer", func(t *testing.T) {
		cl := park(t, s, c, CallScript{CancelAfter: 30 * time.Millisecond})
		hup := c.waitEvent(named("CHANNEL_HANGUP", cl.UUID()))
		require.Equal(t, "ORIGINATOR_CANCEL", hup.get("Hangup-Cause"))
		require.Equal(t, "RINGING", hup.get("Channel-Call-State"))
		require.False(t, cl.Answered())
		require.Error(t, cl.WaitAnswer(context.Background()))
	})
	t.Run("hung up by the server", func(t *testing.T) {
		cl := park(t, s, c, CallScript{})
		c.api("uuid_answer " + cl.UUID())
		require.NoError(t, cl.WaitAnswer(context.Background()))
		require.Equal(t, "+OK\n", c.api("uuid_kill "+cl.UUID()+" USER_BUSY"))
		require.NoError(t, cl.Wait(context.Background()))
		require.Equal(t, "USER_BUSY", cl.HangupCause())
		require.True(t, cl.HungUpByServer())
	})
}

// An agent hanging up first: the caller's leg leaves the bridge and hangs
// up, or parks again with park_after_bridge=true.
func TestAgentHangsUpFirst(t *testing.T) {
	s := startServer(t, Options{})
	s.SetPeer("user/1001", Peer{Delay: 5 * time.Millisecond, HangupAfter: 60 * time.Millisecond})
	c := login(t, s)
	c.cmd(allEvents)
	for i, parkAfter := range []bool{false, true} {
		cl := park(t, s, c, CallScript{})
		a := cl.UUID()
		c.api("uuid_answer " + a)
		if parkAfter {
			require.Equal(t, "+OK\n", c.api("uuid_setvar "+a+" park_after_bridge true"))
		}
		b := "20000000-0000-4000-8000-00000000000" + strconv.Itoa(i)
		require.True(t, strings.HasPrefix(c.api("originate {origination_uuid="+b+"}user/1001 &park()"), "+OK "+b))
		c.waitEvent(named("CHANNEL_PARK", b))
		require.Equal(t, "+OK "+b+"\n", c.api("uuid_bridge "+a+" "+b))
		c.waitEvent(named("CHANNEL_BRIDGE", a))
		c.waitEvent(named("CHANNEL_UNBRIDGE", a))
		if parkAfter {
			c.waitEvent(named("CHANNEL_PARK", a))
			info, _ := s.Channel(a)
			require.Empty(t, info.HangupCause)
			require.Equal(t, "+OK\n", c.api("uuid_kill "+a))
		} else {
			require.Equal(t, "NORMAL_CLEARING", c.waitEvent(named("CHANNEL_HANGUP", a)).get("Hangup-Cause"))
		}
		require.NoError(t, cl.Wait(context.Background()))
		c.waitEvent(named("CHANNEL_DESTROY", b))
	}
}

func TestTransferAndHupall(t *testing.T) {
	s := startServer(t, Options{})
	c := login(t, s)
	c.cmd(allEvents)
	cl := park(t, s, c, CallScript{})
	require.Equal(t, "+OK\n", c.api("uuid_transfer "+cl.UUID()+" 3000 XML default"))
	c.waitEvent(named("CHANNEL_UNPARK", cl.UUID()))
	p := c.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	require.Equal(t, "3000", p.get("Caller-Destination-Number"))
	require.Equal(t, "2", p.get("Caller-Profile-Index"))

	other := park(t, s, c, CallScript{})
	require.Equal(t, "+OK hangup all channels with cause MANAGER_REQUEST\n", c.api("hupall"))
	require.NoError(t, cl.Wait(context.Background()))
	require.NoError(t, other.Wait(context.Background()))
	require.Equal(t, "MANAGER_REQUEST", other.HangupCause())
	require.Equal(t, "{\"row_count\": 0}\n", c.api("show channels as json"))
}

func TestFilters(t *testing.T) {
	s := startServer(t, Options{})
	c := login(t, s)
	c.cmd("event plain CHANNEL_PARK")
	tests := []struct {
		name    string
		filters []string
		see     []bool // calls 0 and 1
	}{
		{"one uuid", []string{"Unique-ID " + "30000000-0000-4000-8000-000000000000"}, []bool{true, false}},
		{"regex", []string{"Caller-Destination-Number /^20/"}, []bool{false, true}},
		{"exclude", []string{"Event-Name CHANNEL_PARK", "Caller-Destination-Number -1000"}, []bool{false, true}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range tt.filters {
				require.Contains(t, c.cmd("filter "+f).header("Reply-Text"), "+OK filter added.")
			}
			var uuids []string
			for j, dest := range []string{"1000", "2000"} {
				cl := s.Call("15551230001", dest, CallScript{UUID: "3" + strconv.Itoa(i) + "00000" + strconv.Itoa(j) + "-0000-4000-8000-000000000000"})
				uuids = append(uuids, cl.UUID())
			}
			got := map[string]bool{}
			for _, f := range c.drain(50 * time.Millisecond) {
				if f.ev != nil {
					got[f.ev.get("Unique-ID")] = true
				}
			}
			for j, u := range uuids {
				require.Equal(t, tt.see[j], got[u], "call %d", j)
			}
			require.Equal(t, "+OK filter deleted. [all][]", c.cmd("filter delete all").header("Reply-Text"))
		})
	}
}

func TestDropConnectionsAndRestart(t *testing.T) {
	s := startServer(t, Options{})
	c := login(t, s)
	c.cmd(allEvents)
	cl := park(t, s, c, CallScript{})

	s.DropConnections()
	c.expectClosed()
	require.Len(t, s.Channels(), 1, "a network cut leaves calls up")

	c2 := login(t, s)
	c2.cmd(allEvents)
	require.Equal(t, "true", c2.api("uuid_exists "+cl.UUID()))
	s.Restart()
	c2.expectClosed()
	require.NoError(t, cl.Wait(context.Background()))
	require.Empty(t, s.Channels())

	c3 := login(t, s)
	require.Equal(t, "false", c3.api("uuid_exists "+cl.UUID()))
	require.Equal(t, "{\"row_count\": 0}\n", c3.api("show channels as json"))
	require.Contains(t, c3.api("status"), "0 session(s) since startup\n")
}

// Every connection sees Event-Sequence strictly increasing.
func TestEventSequence(t *testing.T) {
	s := startServer(t, Options{})
	s.SetPeer("user/1001", Peer{Delay: 5 * time.Millisecond, HangupAfter: 20 * time.Millisecond})
	s.SetRegistered("1001", true)
	a, b := login(t, s), login(t, s)
	a.cmd(allEvents)
	b.cmd("event json CHANNEL_CREATE CHANNEL_DESTROY BACKGROUND_JOB")
	for i := 0; i < 20; i++ {
		cl := s.Call("15551230001", "1000", CallScript{HangupAfter: 10 * time.Millisecond})
		a.send("bgapi uuid_answer " + cl.UUID())
		a.send("bgapi originate user/1001 &park()")
	}
	for _, c := range []*client{a, b} {
		time.Sleep(150 * time.Millisecond)
		last := 0
		n := 0
		for _, f := range received(c.entries()) {
			if f.ev == nil {
				continue
			}
			seq, err := strconv.Atoi(f.ev.get("Event-Sequence"))
			require.NoError(t, err)
			require.Greater(t, seq, last)
			last = seq
			n++
		}
		require.Greater(t, n, 40)
	}
}

func TestCommandsLog(t *testing.T) {
	s := startServer(t, Options{})
	c := login(t, s)
	c.sendRaw("sendmsg nobody\ncall-command: execute\nexecute-app-name: set\ncontent-type: text/plain\ncontent-length: 3\n\na=b")
	c.reply()
	cmds := s.Commands()
	require.Len(t, cmds, 2)
	require.Equal(t, "auth ClueCon", cmds[0].Line)
	require.Equal(t, "sendmsg nobody", cmds[1].Line)
	require.Equal(t, "set", cmds[1].Header("Execute-App-Name"))
	require.Equal(t, "a=b", cmds[1].Body)
}

func TestOutboundSocketUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	s := startServer(t, Options{SocketAddr: addr})
	c := login(t, s)
	c.cmd(allEvents)
	cl := s.Call("15551230001", "2001", CallScript{})
	require.NoError(t, cl.Wait(context.Background()))
	require.Equal(t, "NORMAL_CLEARING", cl.HangupCause())
	ex := c.waitEvent(named("CHANNEL_EXECUTE", cl.UUID()))
	require.Equal(t, "socket", ex.get("Application"))
	require.Equal(t, addr+" async full", ex.get("Application-Data"))
}

// A controller that drops its outbound socket takes the call down: the
// socket app's park returns and the dialplan has nothing left.
func TestOutboundControllerDrops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	s := startServer(t, Options{SocketAddr: ln.Addr().String()})
	watch := login(t, s)
	watch.cmd(allEvents)
	cl := s.Call("15551230001", "3000", CallScript{})
	nc, err := ln.Accept()
	require.NoError(t, err)
	out := newClient(t, nc)
	require.Equal(t, "command/reply", out.cmd("connect").header("Content-Type"))
	watch.waitEvent(named("CHANNEL_PARK", cl.UUID()))
	out.send("sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: silence_stream://100")
	out.reply()
	watch.waitEvent(named("PLAYBACK_START", cl.UUID()))
	require.True(t, cl.EarlyMedia(), "a playback before the answer is early media")
	nc.Close()
	// The playback finishes, then park returns and the call ends (the
	// events before were left unconsumed by waitEvent).
	var got []string
	for _, e := range watch.until(named("CHANNEL_DESTROY", cl.UUID())) {
		if e.get("Unique-ID") == cl.UUID() && !strings.HasPrefix(e.name(), "CHANNEL_STATE") && e.name() != "CHANNEL_CALLSTATE" {
			got = append(got, e.name())
		}
	}
	require.Equal(t, []string{"CHANNEL_CREATE", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE", "CHANNEL_PROGRESS_MEDIA",
		"PLAYBACK_STOP", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_UNPARK", "CHANNEL_EXECUTE_COMPLETE",
		"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"}, got)
	require.Equal(t, "NORMAL_CLEARING", cl.HangupCause())
}

func TestHeartbeat(t *testing.T) {
	s := startServer(t, Options{HeartbeatInterval: 20 * time.Millisecond})
	c := login(t, s)
	c.cmd("event json HEARTBEAT")
	hb := c.waitEvent(named("HEARTBEAT", ""))
	require.Equal(t, "System Ready", hb.get("Event-Info"))
	require.Equal(t, "vm", hb.get("FreeSWITCH-Hostname"))
	s.Close()
	c.expectClosed()
}

// The far end of an originated leg, driven by the test: a digit, then BYE.
func TestFarEndOfALeg(t *testing.T) {
	s := startServer(t, Options{})
	s.SetPeer("sofia/internal/bob@example.com", Peer{})
	c := login(t, s)
	c.cmd(allEvents)
	const b = "40000000-0000-4000-8000-000000000000"
	require.Equal(t, "+OK "+b+"\n", c.api("originate {origination_uuid="+b+"}sofia/internal/bob@example.com &park()"))
	c.waitEvent(named("CHANNEL_PARK", b))
	require.True(t, s.SendDTMF(b, "9"))
	require.Equal(t, "9", c.waitEvent(named("DTMF", b)).get("DTMF-Digit"))
	require.True(t, s.Hangup(b))
	hup := c.waitEvent(named("CHANNEL_HANGUP", b))
	require.Equal(t, "NORMAL_CLEARING", hup.get("Hangup-Cause"))
	require.Equal(t, "recv_bye", hup.get("variable_sip_hangup_disposition"))
	require.False(t, s.Hangup(b))
}

// TestDownAndUp: a stopped FreeSWITCH takes connections only to close
// them, its calls are gone; started again, it serves.
func TestDownAndUp(t *testing.T) {
	s := startServer(t, Options{})
	c := login(t, s)
	c.cmd(allEvents)
	cl := park(t, s, c, CallScript{})
	s.Down()
	c.expectClosed()
	require.NoError(t, cl.Wait(context.Background()))
	down := dial(t, s.Addr())
	down.expectClosed()
	s.Up()
	c2 := login(t, s)
	require.Equal(t, "false", c2.api("uuid_exists "+cl.UUID()))
}

// TestVoicedRecording: the recording of a caller who speaks holds a
// voice; that of one who does not, silence.
func TestVoicedRecording(t *testing.T) {
	s := startServer(t, Options{})
	c := login(t, s)
	c.cmd(allEvents)
	dir := t.TempDir()
	for _, voice := range []bool{true, false} {
		cl := park(t, s, c, CallScript{Voice: voice})
		file := filepath.Join(dir, fmt.Sprintf("vm-%v.wav", voice))
		require.Equal(t, "+OK Success\n", c.api("uuid_record "+cl.UUID()+" start "+file))
		time.Sleep(100 * time.Millisecond)
		cl.Hangup()
		c.waitEvent(named("RECORD_STOP", cl.UUID()))
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		peak := 0
		for i := 44; i+1 < len(raw); i += 2 {
			v := int(int16(binary.LittleEndian.Uint16(raw[i:])))
			peak = max(peak, v, -v)
		}
		if voice {
			require.Greater(t, peak, 3000, "a voice")
		} else {
			require.Zero(t, peak, "silence")
		}
	}
}
