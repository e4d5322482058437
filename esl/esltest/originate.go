package esltest

import (
	"context"
	"path"
	"strconv"
	"strings"
	"time"
)

// PeerAction is how a scripted far end answers an originated call.
type PeerAction int

const (
	// PeerAnswer rings (180) and answers after Delay.
	PeerAnswer PeerAction = iota
	// PeerRing rings until the originate times out (NO_ANSWER) or the
	// leg is killed.
	PeerRing
	// PeerBusy answers 486 Busy Here (USER_BUSY) after Delay; with a
	// Delay it rings first.
	PeerBusy
	// PeerDecline answers 603 Decline (CALL_REJECTED) after Delay.
	PeerDecline
	// PeerUnreachable never answers the INVITE: FreeSWITCH gives up with
	// a local 503 (NORMAL_TEMPORARY_FAILURE) at once.
	PeerUnreachable
)

// Peer scripts the far end of a dial string.
type Peer struct {
	Action PeerAction
	// Delay is the ring time before the answer, busy or decline.
	Delay time.Duration
	// HangupAfter makes an answered peer hang up (BYE, NORMAL_CLEARING)
	// this long after answering; zero stays until FreeSWITCH hangs up.
	HangupAfter time.Duration
	// EarlyMedia sends 183 with SDP instead of 180: CHANNEL_PROGRESS_MEDIA,
	// and unless ignore_early_media=true the originate succeeds on it.
	EarlyMedia bool
	// DTMF are digits the peer sends, at offsets from its answer.
	DTMF []DTMF
	// ReferTo: after HangupAfter the peer transfers its call there (a
	// blind REFER): its partner goes where the shipped dialplan's
	// force_transfer_context sends it, switchboard-transfer, which sets
	// switchboard_transfer and parks (docker/freeswitch's transfers.xml);
	// the peer hangs up 300 ms later.
	ReferTo string
}

// originateJob is one originate in progress: it ends with "+OK <uuid>\n"
// or "-ERR <CAUSE>\n", delivered to a waiting api or as BACKGROUND_JOB.
type originateJob struct {
	done     chan struct{}
	result   string
	finished bool
	emit     func(string) // bgapi: fires BACKGROUND_JOB (Server.mu held)
}

func (j *originateJob) finishLocked(out string) {
	if j.finished {
		return
	}
	j.finished = true
	j.result = out
	if j.emit != nil {
		j.emit(out)
	}
	close(j.done)
}

const originateUsage = "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"

// splitArgs splits like switch_separate_string: on spaces, keeping quoted
// parts ('...' or "...") together.
func splitArgs(s string) []string {
	var out []string
	var b strings.Builder
	var quote byte
	in := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			} else {
				b.WriteByte(ch)
			}
			in = true
		case ch == '\'' || ch == '"':
			quote = ch
			in = true
		case ch == ' ':
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(ch)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

// parseVars splits a leading {a=b,c=d} (or [..], <..>) from a dial string.
// ok is false when the braces do not close.
func parseVars(dial string) (vars []Header, rest string, ok bool) {
	rest = dial
	for len(rest) > 0 && (rest[0] == '{' || rest[0] == '[' || rest[0] == '<') {
		closer := map[byte]byte{'{': '}', '[': ']', '<': '>'}[rest[0]]
		end := strings.IndexByte(rest, closer)
		if end < 0 {
			return nil, dial, false
		}
		for _, kv := range strings.Split(rest[1:end], ",") {
			name, val, found := strings.Cut(kv, "=")
			if !found || name == "" {
				continue
			}
			vars = append(vars, Header{name, strings.Trim(val, "'")})
		}
		rest = rest[end+1:]
	}
	return vars, rest, true
}

func varOf(vs []Header, name string) (string, bool) {
	for _, h := range vs {
		if h.Name == name {
			return h.Value, true
		}
	}
	return "", false
}

// userOf returns the user of a user/ dial string.
func userOf(dial string) (string, bool) {
	rest, ok := strings.CutPrefix(dial, "user/")
	if !ok {
		return "", false
	}
	return userPart(strings.TrimSuffix(rest, "*")), true
}

func userPart(u string) string {
	u, _, _ = strings.Cut(u, "@")
	return u
}

// peerLocked finds the scripted far end of dial: an exact SetPeer key,
// then the key without @domain, then the longest matching * pattern, then
// Options.DefaultPeer.
func (s *Server) peerLocked(dial string) Peer {
	if p, ok := s.peers[dial]; ok {
		return p
	}
	if base, _, ok := strings.Cut(dial, "@"); ok {
		if p, ok := s.peers[base]; ok {
			return p
		}
	}
	best := ""
	for k := range s.peers {
		if !strings.Contains(k, "*") {
			continue
		}
		if ok, _ := path.Match(k, dial); ok || (strings.HasSuffix(k, "*") && strings.HasPrefix(dial, strings.TrimSuffix(k, "*"))) {
			if len(k) > len(best) {
				best = k
			}
		}
	}
	if best != "" {
		return s.peers[best]
	}
	if s.opts.DefaultPeer != nil {
		return *s.opts.DefaultPeer
	}
	return Peer{Action: PeerUnreachable}
}

// target is a resolved dial string.
type target struct {
	name     string // channel name
	dest     string // Caller-Destination-Number
	endpoint string // originate_endpoint
	host     string
}

// resolveLocked checks a dial string the way the endpoints do; a non-empty
// cause fails the originate before any channel exists. lone says whether
// that failure still fires a lone CHANNEL_DESTROY (unknown gateway or
// profile, as transcript 08 shows).
func (s *Server) resolveLocked(dial string) (t target, cause string, lone bool) {
	switch {
	case strings.HasPrefix(dial, "sofia/gateway/"):
		rest := strings.TrimPrefix(dial, "sofia/gateway/")
		gw, num, _ := strings.Cut(rest, "/")
		if !s.gatewayKnown(gw) || num == "" {
			return t, "INVALID_GATEWAY", true
		}
		num, _, _ = strings.Cut(num, "@")
		return target{name: dial, dest: num, endpoint: "sofia", host: gw}, "", false
	case strings.HasPrefix(dial, "sofia/"):
		rest := strings.TrimPrefix(dial, "sofia/")
		prof, who, _ := strings.Cut(rest, "/")
		if !s.profileKnown(prof) || who == "" {
			return t, "INVALID_PROFILE", true
		}
		user, host, _ := strings.Cut(who, "@")
		user = strings.TrimPrefix(user, "sip:")
		if h, _, ok := strings.Cut(host, ":"); ok {
			host = h
		}
		if host == "" {
			host = "127.0.0.1"
		}
		return target{name: dial, dest: user, endpoint: "sofia", host: host}, "", false
	case strings.HasPrefix(dial, "user/"):
		u, _ := userOf(dial)
		reg, known := s.users[u]
		if !known {
			return t, "SUBSCRIBER_ABSENT", false
		}
		if !reg {
			return t, "USER_NOT_REGISTERED", false
		}
		return target{name: "sofia/" + s.opts.Profile + "/" + u + "@" + s.userContact(u), dest: u, endpoint: "sofia", host: "127.0.0.1"}, "", false
	case strings.HasPrefix(dial, "error/"):
		return t, strings.ToUpper(strings.TrimPrefix(dial, "error/")), false
	}
	return t, "CHAN_NOT_IMPLEMENTED", false
}

func (s *Server) gatewayKnown(gw string) bool {
	if s.opts.Gateways == nil {
		return gw != ""
	}
	for _, g := range s.opts.Gateways {
		if g == gw {
			return true
		}
	}
	return false
}

func (s *Server) profileKnown(p string) bool {
	for _, x := range s.opts.Profiles {
		if x == p {
			return true
		}
	}
	return false
}

// originate runs the originate api: parse, resolve, create the leg, let
// its peer answer or refuse, and return the result (waiting for it). emit,
// when set (bgapi), fires BACKGROUND_JOB at the point of the call flow the
// recordings show.
func (s *Server) originate(ctx context.Context, args string, emit func(string)) string {
	argv := splitArgs(args)
	if len(argv) < 2 {
		return originateUsage
	}
	vs, dial, ok := parseVars(argv[0])
	if !ok {
		return "-ERR DESTINATION_OUT_OF_ORDER\n"
	}
	if strings.ContainsAny(dial, ",|") {
		// One leg per originate; rings to several phones are several
		// originates.
		dial, _, _ = strings.Cut(strings.ReplaceAll(dial, "|", ","), ",")
	}
	var calls []appCall
	exten := argv[1]
	if app, ok := strings.CutPrefix(exten, "&"); ok {
		name, arg, _ := strings.Cut(app, "(")
		arg = strings.TrimSuffix(arg, ")")
		if len(argv) > 2 && !strings.HasSuffix(app, ")") {
			// &app(arg with spaces) was split by the tokenizer.
			rest := strings.Join(argv[2:], " ")
			arg += " " + strings.TrimSuffix(rest, ")")
			argv = argv[:2]
		}
		calls = []appCall{{app: name, arg: arg}}
	}
	if len(argv) > 6 {
		vs = append(vs, Header{"origination_caller_id_name", argv[4]}, Header{"origination_caller_id_number", argv[5]})
	} else if len(argv) > 4 {
		vs = append(vs, Header{"origination_caller_id_name", argv[4]})
		if len(argv) > 5 {
			vs = append(vs, Header{"origination_caller_id_number", argv[5]})
		}
	}
	if len(argv) > 6 {
		vs = append(vs, Header{"originate_timeout", argv[6]})
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "-ERR NORMAL_TEMPORARY_FAILURE\n"
	}
	t, cause, lone := s.resolveLocked(dial)
	if cause != "" {
		if lone {
			s.loneDestroyLocked()
		}
		s.mu.Unlock()
		return "-ERR " + cause + "\n"
	}
	if calls == nil {
		calls = s.routeLocked(exten)
	}
	job := &originateJob{done: make(chan struct{}), emit: emit}
	c := s.newLegLocked(dial, t, vs, calls, job)
	s.mu.Unlock()

	select {
	case <-job.done:
	case <-ctx.Done():
		s.mu.Lock()
		s.hangupLocked(c, "ORIGINATOR_CANCEL", "send_cancel")
		s.mu.Unlock()
		<-job.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return job.result
}

// loneDestroyLocked is the CHANNEL_DESTROY of a session that never got past
// its creation (08: unknown gateway or profile).
func (s *Server) loneDestroyLocked() {
	s.sessionID++
	uuid := newUUID()
	e := s.newEventLocked("CHANNEL_DESTROY")
	e.add("Channel-State", csNone)
	e.add("Channel-Call-State", "DOWN")
	e.add("Channel-State-Number", "0")
	e.add("Channel-Name", "N/A")
	e.add("Unique-ID", uuid)
	e.add("Call-Direction", "outbound")
	e.add("Presence-Call-Direction", "outbound")
	e.add("Channel-HIT-Dialplan", "false")
	e.add("Channel-Call-UUID", uuid)
	e.add("Answer-State", "ringing")
	e.add("variable_direction", "outbound")
	e.add("variable_uuid", uuid)
	e.add("variable_call_uuid", uuid)
	e.add("variable_session_id", strconv.Itoa(s.sessionID))
	s.emitLocked(e)
}

// newLegLocked creates an originated leg (CHANNEL_OUTGOING before
// CHANNEL_CREATE, then CHANNEL_ORIGINATE) and starts its peer.
func (s *Server) newLegLocked(dial string, t target, vs []Header, calls []appCall, job *originateJob) *channel {
	uuid, _ := varOf(vs, "origination_uuid")
	if uuid == "" || s.channels[uuid] != nil {
		uuid = newUUID()
	}
	c := s.newChannelLocked(uuid, t.name, "outbound")
	c.dialString = dial
	c.origin = job
	c.dialplan = calls
	peer := s.peerLocked(dial)
	c.peer = &peer
	now := c.createdAt.UnixMicro()
	cidName, _ := varOf(vs, "origination_caller_id_name")
	cidNum, ok := varOf(vs, "origination_caller_id_number")
	if !ok || cidNum == "" {
		cidNum = "0000000000"
	}
	c.prof = profile{
		direction: "outbound", logical: "outbound",
		cidName: cidName, cidNum: cidNum, origCidName: cidName, origCidNum: cidNum,
		calleeName: "Outbound Call", calleeNum: t.dest, ani: cidNum, dest: t.dest,
		source: "src/switch_ivr_originate.c", context: "default", chanName: t.name,
		index: 1, profileCreated: now, created: now,
	}
	c.state, c.stateNum = csNone, 1
	s.fireLocked("CHANNEL_OUTGOING", c)
	v := &c.vars
	v.set("direction", "outbound")
	v.set("is_outbound", "true")
	v.set("uuid", c.uuid)
	v.set("call_uuid", c.uuid)
	v.set("session_id", strconv.Itoa(c.sessionID))
	v.set("sip_profile_name", s.opts.Profile)
	v.set("channel_name", c.name)
	v.set("sip_destination_url", "sip:"+strings.TrimPrefix(t.name, "sofia/"+s.opts.Profile+"/"))
	for _, h := range vs {
		v.set(h.Name, h.Value)
	}
	ignore, _ := varOf(vs, "ignore_early_media")
	v.set("originate_early_media", strconv.FormatBool(!strings.EqualFold(ignore, "true")))
	v.set("originate_endpoint", t.endpoint)
	c.state, c.stateNum = csInit, 2
	s.fireLocked("CHANNEL_CREATE", c)
	s.fireLocked("CHANNEL_ORIGINATE", c)
	c.state, c.stateNum = csConsumeMedia, 7

	timeout := 60 * time.Second
	if v, ok := varOf(vs, "originate_timeout"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	s.addTimerLocked(c, timeout, func() {
		if c.origin != nil {
			c.vars.set("sip_invite_failure_status", "487")
			c.vars.set("sip_invite_failure_phrase", "CANCEL")
			s.hangupLocked(c, "NO_ANSWER", "send_cancel")
		}
	})
	s.startPeerLocked(c, strings.EqualFold(ignore, "true"))
	return c
}

// startPeerLocked plays the leg's far end.
func (s *Server) startPeerLocked(c *channel, ignoreEarly bool) {
	p := c.peer
	sipVars := func() {
		c.vars.set("sip_user_agent", "esltest-peer")
		if c.prof.cidName != "" {
			c.vars.set("sip_from_display", c.prof.cidName)
		}
		c.vars.set("sip_from_user", c.prof.cidNum)
		c.vars.set("sip_to_user", c.prof.dest)
		c.vars.setIfAbsent("sip_call_id", newUUID())
	}
	ring := func() {
		sipVars()
		c.prof.networkAddr = "127.0.0.1"
		if p.EarlyMedia {
			c.answerState = "early"
			c.hasCodec = true
			c.prof.progressMed = time.Now().UnixMicro()
			s.fireLocked("CHANNEL_PROGRESS_MEDIA", c)
			s.setCallStateLocked(c, "EARLY")
			if !ignoreEarly {
				s.originateSucceededLocked(c)
			}
			return
		}
		s.ringReadyLocked(c)
	}
	refuse := func(cause, status, phrase, q string) {
		sipVars()
		c.vars.set("sip_invite_failure_status", status)
		c.vars.set("sip_invite_failure_phrase", phrase)
		c.vars.set("sip_term_status", status)
		c.vars.set("proto_specific_hangup_cause", "sip:"+status)
		c.vars.set("sip_term_cause", q)
		s.hangupLocked(c, cause, "recv_refuse")
	}
	switch p.Action {
	case PeerUnreachable:
		refuse("NORMAL_TEMPORARY_FAILURE", "503", "Service Unavailable", "41")
	case PeerBusy, PeerDecline:
		cause, status, phrase, q := "USER_BUSY", "486", "Busy Here", "17"
		if p.Action == PeerDecline {
			cause, status, phrase, q = "CALL_REJECTED", "603", "Decline", "21"
		}
		if p.Delay <= 0 {
			refuse(cause, status, phrase, q)
			return
		}
		ring()
		s.addTimerLocked(c, p.Delay, func() {
			if c.origin != nil {
				refuse(cause, status, phrase, q)
			}
		})
	case PeerRing:
		ring()
	default:
		ring()
		answer := func() {
			if c.cause != "" || c.answered {
				return
			}
			s.answerLocked(c)
			if c.origin != nil {
				s.originateSucceededLocked(c)
			}
		}
		if p.Delay <= 0 {
			answer()
			return
		}
		s.addTimerLocked(c, p.Delay, answer)
	}
}

// originateSucceededLocked is the end of a successful originate: the job
// says +OK (before the leg runs its application, as recorded), the caller
// id flips, and the leg runs its &app or extension.
func (s *Server) originateSucceededLocked(c *channel) {
	job := c.origin
	c.origin = nil
	job.finishLocked("+OK " + c.uuid + "\n")
	c.prof.calleeName, c.prof.calleeNum = c.prof.cidName, c.prof.cidNum
	c.prof.cidName, c.prof.cidNum = "Outbound Call", c.prof.dest
	c.vars.set("originate_disposition", "SUCCESS")
	c.state, c.stateNum = csExecute, 4
	c.vars.unset("call_uuid")
	c.vars.set("call_uuid", c.uuid)
	s.runDialplanLocked(c)
}

// peerAnsweredLocked runs the answered peer's script.
func (s *Server) peerAnsweredLocked(c *channel) {
	p := c.peer
	for _, d := range p.DTMF {
		digit := d.Digit
		s.addTimerLocked(c, d.At, func() { s.dtmfLocked(c, digit) })
	}
	bye := func() {
		c.vars.set("sip_term_status", "200")
		s.hangupLocked(c, "NORMAL_CLEARING", "recv_bye")
	}
	switch {
	case p.HangupAfter > 0 && p.ReferTo != "":
		s.addTimerLocked(c, p.HangupAfter, func() {
			if partner := c.bridge; partner != nil {
				partner.vars.set("switchboard_transfer", p.ReferTo)
				s.transferLocked(partner, p.ReferTo, false)
			}
			// The transferor, parked (park_after_bridge), hangs up once
			// the NOTIFY says the transfer is under way.
			s.addTimerLocked(c, 300*time.Millisecond, bye)
		})
	case p.HangupAfter > 0:
		s.addTimerLocked(c, p.HangupAfter, bye)
	}
}

// originateFailedLocked ends a leg whose originate failed (its HANGUP is
// out): the recordings put BACKGROUND_JOB before CHANNEL_HANGUP_COMPLETE
// for NO_ANSWER and after it otherwise.
func (s *Server) originateFailedLocked(c *channel, cause string) {
	job := c.origin
	c.origin = nil
	out := "-ERR " + cause + "\n"
	if cause == "NO_ANSWER" {
		job.finishLocked(out)
		s.unwindLocked(c)
		s.completeLocked(c)
		return
	}
	s.unwindLocked(c)
	c.afterComplete = func() { job.finishLocked(out) }
	s.completeLocked(c)
}
