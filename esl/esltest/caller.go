package esltest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DTMF is a digit sent at an offset from the answer.
type DTMF struct {
	At    time.Duration
	Digit string
}

// CallScript is what a scripted caller does once its call is placed.
type CallScript struct {
	// Name is the caller's display name (Caller-Caller-ID-Name); the
	// number is Call's from.
	Name string
	// DTMF are digits the caller presses, at offsets from the answer.
	DTMF []DTMF
	// HangupAfter hangs up (BYE, NORMAL_CLEARING) this long after the
	// answer; zero waits for the far end.
	HangupAfter time.Duration
	// CancelAfter cancels the call (CANCEL, ORIGINATOR_CANCEL) if it is
	// still unanswered this long after it was placed; zero never cancels.
	CancelAfter time.Duration
	// UUID, when set, is the channel's Unique-ID (FreeSWITCH draws one;
	// tests replaying a recording reuse the recorded one).
	UUID string
	// Contact is the caller's SIP host:port (127.0.0.1:5060); it shows in
	// the channel name, sofia/<profile>/<from>@<contact>.
	Contact string
	// Voice: the caller speaks, so that a recording of its channel (or
	// of the leg bridged to it) holds a voice (a tone); otherwise what
	// it sends is silence, as a phone's RTP between words.
	Voice bool
	// Context is the dialplan context the call enters (default public);
	// Vars are channel variables its dialplan sets before it parks (a
	// desk phone's call: context phones, switchboard_device).
	Context string
	Vars    map[string]string
}

// Caller is a scripted SIP caller: the far end of an inbound channel.
type Caller struct {
	s    *Server
	done chan struct{}

	mu       sync.Mutex
	uuid     string
	answered bool
	early    bool
	cause    string
	byFS     bool
	heard    []string
	script   CallScript
	closed   bool
	answerCh chan struct{}
}

// Call places an inbound call from from to destination and returns its
// caller. The channel is created and parked as transcript 02 shows
// (CHANNEL_CREATE, CHANNEL_EXECUTE park, CHANNEL_PARK, destination in
// Caller-Destination-Number), or handed to the outbound socket when
// Options.SocketAddr routes destination there.
func (s *Server) Call(from, destination string, script CallScript) *Caller {
	cl := &Caller{s: s, done: make(chan struct{}), answerCh: make(chan struct{}), script: script}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cl.cause = "NORMAL_TEMPORARY_FAILURE"
		cl.closed = true
		close(cl.done)
		return cl
	}
	c := s.newInboundLocked(from, destination, script)
	c.caller = cl
	cl.uuid = c.uuid
	s.fireLocked("CHANNEL_CREATE", c)
	s.fireStateLocked(c, "CS_ROUTING", 2)
	s.setCallStateLocked(c, "RINGING")
	s.fireStateLocked(c, csExecute, 4)
	if script.CancelAfter > 0 {
		s.addTimerLocked(c, script.CancelAfter, func() {
			if !c.answered {
				c.vars.set("sip_term_status", "487")
				c.vars.set("proto_specific_hangup_cause", "sip:487")
				c.vars.set("sip_term_cause", "487")
				s.hangupLocked(c, "ORIGINATOR_CANCEL", "recv_cancel")
			}
		})
	}
	c.dialplan = s.routeLocked(destination)
	s.runDialplanLocked(c)
	return cl
}

// newInboundLocked creates a SIP caller's channel with the variables a
// sofia inbound call carries.
func (s *Server) newInboundLocked(from, dest string, script CallScript) *channel {
	now := time.Now()
	name := script.Name
	host, port := "127.0.0.1", "5060"
	if script.Contact != "" {
		h, p, ok := strings.Cut(script.Contact, ":")
		host = h
		if ok {
			port = p
		}
	}
	uuid := script.UUID
	if uuid == "" || s.channels[uuid] != nil {
		uuid = newUUID()
	}
	c := s.newChannelLocked(uuid, "sofia/"+s.opts.Profile+"/"+from+"@"+host+":"+port, "inbound")
	c.createdAt = now
	c.state, c.stateNum = csInit, 2
	c.hitDialplan = true
	c.hasCodec = true
	us := now.UnixMicro()
	c.prof = profile{
		direction: "inbound", logical: "inbound", username: from, dialplan: "XML",
		cidName: name, cidNum: from, origCidName: name, origCidNum: from,
		networkAddr: host, ani: from, dest: dest, source: "mod_sofia", context: "public",
		chanName: c.name, index: 1, profileCreated: us, created: us,
	}
	callID := fmt.Sprintf("%d-%s@%s", c.sessionID, from, host)
	v := &c.vars
	v.set("direction", "inbound")
	v.set("uuid", c.uuid)
	v.set("session_id", strconv.Itoa(c.sessionID))
	v.set("sip_from_user", from)
	v.set("sip_from_port", port)
	v.set("sip_from_uri", from+"@"+host+":"+port)
	v.set("sip_from_host", host)
	v.set("video_media_flow", "disabled")
	v.set("text_media_flow", "disabled")
	v.set("channel_name", c.name)
	v.set("sip_call_id", callID)
	v.set("sip_local_network_addr", s.opts.IPv4)
	v.set("sip_network_ip", host)
	v.set("sip_network_port", port)
	v.set("sip_invite_stamp", strconv.FormatInt(us, 10))
	v.set("sip_received_ip", host)
	v.set("sip_received_port", port)
	v.set("sip_via_protocol", "udp")
	v.set("sip_from_user_stripped", from)
	v.set("sip_from_tag", strconv.Itoa(c.sessionID)+"esltest")
	v.set("sofia_profile_name", s.opts.Profile)
	v.set("sofia_profile_url", "sip:mod_sofia@"+s.opts.IPv4+":5060")
	v.set("recovery_profile_name", s.opts.Profile)
	v.set("sip_full_via", "SIP/2.0/UDP "+host+":"+port+";branch=z9hG4bK-"+strconv.Itoa(c.sessionID))
	if name != "" {
		v.set("sip_from_display", name)
		v.set("sip_full_from", `"`+name+`" <sip:`+from+"@"+host+":"+port+">;tag="+strconv.Itoa(c.sessionID)+"esltest")
	} else {
		v.set("sip_full_from", "<sip:"+from+"@"+host+":"+port+">;tag="+strconv.Itoa(c.sessionID)+"esltest")
	}
	v.set("sip_full_to", "<sip:"+dest+"@"+s.opts.IPv4+":5060>")
	v.set("sip_req_user", dest)
	v.set("sip_req_port", "5060")
	v.set("sip_req_uri", dest+"@"+s.opts.IPv4+":5060")
	v.set("sip_req_host", s.opts.IPv4)
	v.set("sip_to_user", dest)
	v.set("sip_to_port", "5060")
	v.set("sip_to_uri", dest+"@"+s.opts.IPv4+":5060")
	v.set("sip_to_host", s.opts.IPv4)
	v.set("sip_contact_user", from)
	v.set("sip_contact_port", port)
	v.set("sip_contact_uri", from+"@"+host+":"+port)
	v.set("sip_contact_host", host)
	v.set("sip_user_agent", "esltest-caller")
	v.set("sip_via_host", host)
	v.set("sip_via_port", port)
	v.set("max_forwards", "70")
	v.set("switch_r_sdp", "v=0\r\no=user1 53655765 1 IN IP4 "+host+"\r\ns=-\r\nc=IN IP4 "+host+
		"\r\nt=0 0\r\nm=audio 7410 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n")
	v.set("ep_codec_string", "CORE_PCM_MODULE.PCMU@8000h@20i@64000b")
	v.set("rtp_use_codec_string", "PCMU,PCMA")
	v.set("remote_audio_media_flow", "sendrecv")
	v.set("audio_media_flow", "sendrecv")
	v.set("rtp_audio_recv_pt", "0")
	v.set("rtp_use_codec_name", "PCMU")
	v.set("rtp_use_codec_rate", "8000")
	v.set("rtp_use_codec_ptime", "20")
	v.set("rtp_use_codec_channels", "1")
	v.set("read_codec", "PCMU")
	v.set("original_read_codec", "PCMU")
	v.set("read_rate", "8000")
	v.set("original_read_rate", "8000")
	v.set("write_codec", "PCMU")
	v.set("write_rate", "8000")
	v.set("dtmf_type", "rfc2833")
	v.set("endpoint_disposition", "RECEIVED")
	v.set("DP_MATCH", "ARRAY::"+dest+"|:"+dest)
	v.set("call_uuid", c.uuid)
	if script.Context != "" {
		c.prof.context = script.Context
	}
	for name, value := range script.Vars {
		v.set(name, value)
	}
	return c
}

// newChannelLocked registers a new session.
func (s *Server) newChannelLocked(uuid, name, direction string) *channel {
	s.sessionID++
	s.sessions++
	c := &channel{
		serial: s.sessionID, uuid: uuid, sessionID: s.sessionID, name: name, direction: direction,
		callState: "DOWN", answerState: "ringing", callUUID: uuid, createdAt: time.Now(),
	}
	s.channels[uuid] = c
	if n := len(s.channels); n > s.peak {
		s.peak = n
	}
	return c
}

// UUID is the caller's channel uuid (Unique-ID).
func (cl *Caller) UUID() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.uuid
}

// Answered says whether the call was answered.
func (cl *Caller) Answered() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.answered
}

// HangupCause is the channel's Hangup-Cause once the call ended ("" before).
func (cl *Caller) HangupCause() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.cause
}

// EarlyMedia says whether the caller got early media (183) before any
// answer, e.g. a playback on an unanswered call.
func (cl *Caller) EarlyMedia() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.early
}

// HungUpByServer says whether FreeSWITCH ended the call (rather than the
// caller's script).
func (cl *Caller) HungUpByServer() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.byFS
}

// Heard lists what was played to the caller (PLAYBACK_START paths), in
// order.
func (cl *Caller) Heard() []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return append([]string(nil), cl.heard...)
}

// Done is closed when the call has ended.
func (cl *Caller) Done() <-chan struct{} { return cl.done }

// Wait blocks until the call ends or ctx is done.
func (cl *Caller) Wait(ctx context.Context) error {
	select {
	case <-cl.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("esltest: wait for the call to end: %w", ctx.Err())
	}
}

// WaitAnswer blocks until the call is answered, ends, or ctx is done.
func (cl *Caller) WaitAnswer(ctx context.Context) error {
	select {
	case <-cl.answerCh:
		return nil
	case <-cl.done:
		return fmt.Errorf("esltest: call ended unanswered (%s)", cl.HangupCause())
	case <-ctx.Done():
		return fmt.Errorf("esltest: wait for the answer: %w", ctx.Err())
	}
}

// Hangup ends the call from the caller's side now: BYE (NORMAL_CLEARING)
// when answered, CANCEL (ORIGINATOR_CANCEL) before.
func (cl *Caller) Hangup() { cl.s.Hangup(cl.UUID()) }

// SendDTMF presses digits now (RFC 2833), one DTMF event each.
func (cl *Caller) SendDTMF(digits string) { cl.s.SendDTMF(cl.UUID(), digits) }

// Hangup is the far end of any leg hanging up now: BYE (NORMAL_CLEARING)
// on an answered leg; an unanswered caller CANCELs (ORIGINATOR_CANCEL); an
// originated leg still ringing declines (CALL_REJECTED). It reports
// whether the leg was up.
func (s *Server) Hangup(uuid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[uuid]
	if c == nil || c.cause != "" {
		return false
	}
	switch {
	case c.answered:
		c.vars.set("sip_term_status", "200")
		s.hangupLocked(c, "NORMAL_CLEARING", "recv_bye")
	case c.direction == "inbound":
		c.vars.set("sip_term_status", "487")
		c.vars.set("proto_specific_hangup_cause", "sip:487")
		s.hangupLocked(c, "ORIGINATOR_CANCEL", "recv_cancel")
	default:
		c.vars.set("sip_invite_failure_status", "603")
		c.vars.set("sip_term_status", "603")
		s.hangupLocked(c, "CALL_REJECTED", "recv_refuse")
	}
	return true
}

// SendDTMF is the far end of a leg pressing digits now (RFC 2833), one
// DTMF event each. It reports whether the leg was up.
func (s *Server) SendDTMF(uuid, digits string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[uuid]
	if c == nil || c.cause != "" {
		return false
	}
	for _, d := range digits {
		s.dtmfLocked(c, string(d))
	}
	return true
}

// answeredLocked runs the script's after-answer part (Server.mu held).
func (cl *Caller) answeredLocked(s *Server, c *channel) {
	cl.mu.Lock()
	first := !cl.answered
	cl.answered = true
	if first {
		close(cl.answerCh)
	}
	script := cl.script
	cl.mu.Unlock()
	if !first {
		return
	}
	for _, d := range script.DTMF {
		digit := d.Digit
		s.addTimerLocked(c, d.At, func() { s.dtmfLocked(c, digit) })
	}
	if script.HangupAfter > 0 {
		s.addTimerLocked(c, script.HangupAfter, func() { s.hangupLocked(c, "NORMAL_CLEARING", "recv_bye") })
	}
}

func (cl *Caller) earlyLocked() {
	cl.mu.Lock()
	cl.early = true
	cl.mu.Unlock()
}

func (cl *Caller) heardLocked(path string) {
	cl.mu.Lock()
	cl.heard = append(cl.heard, path)
	cl.mu.Unlock()
}

func (cl *Caller) hungUpLocked(cause string, byFS bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.cause != "" {
		return
	}
	cl.cause = cause
	cl.byFS = byFS
	if !cl.closed {
		cl.closed = true
		close(cl.done)
	}
}

func (cl *Caller) finishLocked() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.closed {
		cl.closed = true
		close(cl.done)
	}
}
