package esltest

import (
	"strconv"
	"strings"
	"time"
)

// appCall is one application to run: from the dialplan, an originate's
// &app(), a sendmsg execute, or a uuid_broadcast.
type appCall struct {
	app, arg string
	uuid     string // Application-UUID (the client's Event-UUID or random)
	viaMsg   bool   // sendmsg: sets current_loop/total_loops
	noExec   bool   // no CHANNEL_EXECUTE/_COMPLETE (park_after_bridge's park)
}

// appRun is a running application.
type appRun struct {
	appCall
	timer    *time.Timer
	media    *mediaRun
	parked   bool // CHANNEL_PARK sent
	eavesTgt *channel
}

// apps the emulator knows; anything else hangs the call up with
// DESTINATION_OUT_OF_ORDER and no CHANNEL_EXECUTE, as transcript 08 shows.
var knownApps = map[string]bool{
	"park": true, "socket": true, "answer": true, "pre_answer": true, "ring_ready": true,
	"set": true, "export": true, "unset": true, "multiset": true, "playback": true,
	"endless_playback": true, "sleep": true, "hangup": true, "eavesdrop": true, "echo": true,
	"record_session": true, "stop_record_session": true, "info": true, "log": true,
	"transfer": true, "event": true, "respond": true,
}

// runDialplanLocked starts the channel's next dialplan application; when
// none is left the channel hangs up, as at the end of an extension. An app
// that completes calls it again (appDoneLocked), so it never loops itself.
func (s *Server) runDialplanLocked(c *channel) {
	if c.cause != "" || c.gone {
		return
	}
	if len(c.dialplan) == 0 {
		s.hangupLocked(c, "NORMAL_CLEARING", "send_bye")
		return
	}
	call := c.dialplan[0]
	c.dialplan = c.dialplan[1:]
	s.execLocked(c, call, true)
}

// execLocked runs call on c, at the top (dialplan) level or nested inside
// the top app. Apps that block (park, playback, sleep, eavesdrop ...) end
// later through appDoneLocked; the others complete here.
func (s *Server) execLocked(c *channel, call appCall, top bool) {
	if !knownApps[call.app] {
		s.hangupLocked(c, "DESTINATION_OUT_OF_ORDER", "send_bye")
		return
	}
	if call.uuid == "" {
		call.uuid = newUUID()
	}
	run := &appRun{appCall: call}
	if top {
		c.top = run
	} else {
		c.cur = run
	}
	if call.viaMsg {
		c.vars.set("current_loop", "1")
		c.vars.set("total_loops", "1")
	}
	if call.arg != "" {
		c.vars.set("current_application_data", call.arg)
	}
	c.vars.set("current_application", call.app)
	if !call.noExec {
		s.fireExecLocked(c, run)
	}
	switch call.app {
	case "park":
		s.parkLocked(c, run)
		return
	case "socket":
		s.socketLocked(c, run)
		return
	case "answer":
		s.answerLocked(c)
	case "pre_answer":
		s.preAnswerLocked(c)
	case "ring_ready":
		s.ringReadyLocked(c)
	case "set", "export":
		name, val, _ := strings.Cut(call.arg, "=")
		name = strings.TrimPrefix(name, "nolocal:")
		c.vars.set(name, val)
	case "unset":
		c.vars.unset(call.arg)
	case "multiset":
		for _, kv := range strings.Fields(call.arg) {
			name, val, _ := strings.Cut(kv, "=")
			c.vars.set(name, val)
		}
	case "playback", "endless_playback":
		s.startPlaybackLocked(c, run)
		return
	case "sleep":
		ms, _ := strconv.Atoi(strings.TrimSpace(call.arg))
		run.timer = s.addTimerLocked(c, time.Duration(ms)*time.Millisecond, func() {
			if c.top == run || c.cur == run {
				s.appDoneLocked(c, run, "_none_")
			}
		})
		return
	case "hangup":
		cause := strings.ToUpper(strings.TrimSpace(call.arg))
		if !knownCause(cause) {
			cause = "NORMAL_CLEARING"
		}
		s.hangupLocked(c, cause, "send_bye")
		return
	case "eavesdrop":
		tgt := s.channels[strings.TrimSpace(call.arg)]
		if tgt == nil || tgt.cause != "" || tgt == c {
			break
		}
		run.eavesTgt = tgt
		tgt.snoopers = append(tgt.snoopers, c)
		c.snooping = tgt
		return
	case "echo":
		return
	case "record_session":
		path, _, _ := strings.Cut(call.arg, " ")
		s.startRecordLocked(c, path, 0)
	case "stop_record_session":
		s.stopRecordLocked(c, call.arg)
	case "transfer":
		// The extension changes: the app completes without the dialplan
		// moving on.
		if c.cur == run {
			c.cur = nil
		} else {
			c.top = nil
		}
		s.fireCompleteLocked(c, run, "_none_")
		s.transferLocked(c, call.arg, true)
		return
	}
	s.appDoneLocked(c, run, "_none_")
}

func (s *Server) fireExecLocked(c *channel, run *appRun) {
	e := s.chanEventLocked("CHANNEL_EXECUTE", c)
	e.add("Application", run.app)
	if run.arg != "" {
		e.add("Application-Data", run.arg)
	}
	e.add("Application-UUID", run.uuid)
	s.emitLocked(e)
}

// appDoneLocked ends run: CHANNEL_EXECUTE_COMPLETE, then the channel goes
// on with its queue (nested) or its dialplan (top level).
func (s *Server) appDoneLocked(c *channel, run *appRun, resp string) {
	if run.timer != nil {
		run.timer.Stop()
	}
	if resp != "_none_" {
		c.lastResp = resp
		c.vars.set("current_application_response", resp)
	}
	if !run.noExec {
		s.fireCompleteLocked(c, run, resp)
	}
	c.vars.set("last_app", run.app)
	if run.arg != "" {
		c.vars.set("last_arg", run.arg)
	}
	switch {
	case c.cur == run:
		c.cur = nil
		if c.cause == "" {
			s.pumpLocked(c)
			s.releasedLocked(c)
		}
	case c.top == run:
		c.top = nil
		if c.cause == "" {
			s.runDialplanLocked(c)
		}
	}
}

func (s *Server) fireCompleteLocked(c *channel, run *appRun, resp string) {
	e := s.chanEventLocked("CHANNEL_EXECUTE_COMPLETE", c)
	e.add("Application", run.app)
	if run.arg != "" {
		e.add("Application-Data", run.arg)
	}
	e.add("Application-Response", resp)
	e.add("Application-UUID", run.uuid)
	s.emitLocked(e)
}

// pumpLocked runs queued sendmsg/broadcast work when the channel is idle in
// a loop that processes messages (park, the socket app once connected, a
// bridge, echo, eavesdrop).
func (s *Server) pumpLocked(c *channel) {
	for c.cause == "" && c.cur == nil && len(c.queue) > 0 && c.top != nil {
		switch c.top.app {
		case "park", "uuid_bridge", "echo", "eavesdrop":
		case "socket":
			if !c.top.parked {
				return
			}
		default:
			return
		}
		call := c.queue[0]
		c.queue = c.queue[1:]
		s.execLocked(c, call, false)
	}
}

// sendmsgLocked handles a sendmsg: execute is queued (the reply is +OK at
// once, the app runs when the channel gets to it), hangup acts now.
func (s *Server) sendmsgLocked(c *channel, cmd Command) {
	if c.cause != "" {
		return
	}
	switch strings.ToLower(cmd.Header("call-command")) {
	case "execute":
		app := cmd.Header("execute-app-name")
		arg := cmd.Header("execute-app-arg")
		if strings.HasPrefix(strings.ToLower(cmd.Header("content-type")), "text/plain") && cmd.Body != "" {
			arg = cmd.Body
		}
		loops, _ := strconv.Atoi(cmd.Header("loops"))
		if loops < 1 {
			loops = 1
		}
		for i := 0; i < loops; i++ {
			c.queue = append(c.queue, appCall{app: app, arg: arg, uuid: cmd.Header("Event-UUID"), viaMsg: true})
		}
		if !knownApps[app] {
			// FreeSWITCH fails the execute as soon as the channel
			// thread looks at it and hangs the call up.
			c.queue = nil
			s.hangupLocked(c, "DESTINATION_OUT_OF_ORDER", "send_bye")
			return
		}
		s.pumpLocked(c)
	case "hangup":
		cause := strings.ToUpper(cmd.Header("hangup-cause"))
		if !knownCause(cause) {
			cause = "NORMAL_CLEARING"
		}
		s.hangupLocked(c, cause, "send_bye")
	case "unhold":
		s.holdLocked(c, false)
	}
}

// parkLocked is the park app: CHANNEL_PARK, then the channel waits,
// running queued messages.
func (s *Server) parkLocked(c *channel, run *appRun) {
	if c.direction == "outbound" {
		c.hitDialplan = true
	}
	run.parked = true
	s.fireLocked("CHANNEL_PARK", c)
	s.pumpLocked(c)
}

// unparkLocked ends a park (or the socket app's park) because the channel
// leaves it: CHANNEL_UNPARK, then its CHANNEL_EXECUTE_COMPLETE.
func (s *Server) unparkLocked(c *channel) {
	run := c.top
	if run == nil {
		return
	}
	if run.parked {
		s.fireLocked("CHANNEL_UNPARK", c)
	}
	s.appDoneLocked(c, run, s.parkResponse(c))
}

func (s *Server) parkResponse(c *channel) string {
	if c.lastResp == "" {
		return "_none_"
	}
	return c.lastResp
}

// answerLocked answers c: CHANNEL_ANSWER (still showing the old call
// state, as recorded), then the call state becomes ACTIVE.
func (s *Server) answerLocked(c *channel) {
	if c.answered || c.cause != "" {
		return
	}
	now := time.Now().UnixMicro()
	c.answered = true
	c.answerState = "answered"
	c.hasCodec = true
	c.prof.answered = now
	if c.direction == "outbound" {
		c.prof.networkAddr = "127.0.0.1"
		c.vars.set("read_codec", "PCMU")
		c.vars.set("write_codec", "PCMU")
		c.vars.set("dtmf_type", "rfc2833")
	}
	s.fireLocked("CHANNEL_ANSWER", c)
	c.vars.set("endpoint_disposition", "ANSWER")
	s.setCallStateLocked(c, "ACTIVE")
	if c.caller != nil {
		c.caller.answeredLocked(s, c)
	}
	if c.peer != nil {
		s.peerAnsweredLocked(c)
	}
}

// preAnswerLocked sends early media (183): CHANNEL_PROGRESS_MEDIA.
func (s *Server) preAnswerLocked(c *channel) {
	if c.answered || c.answerState == "early" || c.cause != "" {
		return
	}
	c.answerState = "early"
	c.hasCodec = true
	c.prof.progressMed = time.Now().UnixMicro()
	s.fireLocked("CHANNEL_PROGRESS_MEDIA", c)
	s.setCallStateLocked(c, "EARLY")
	if c.caller != nil {
		c.caller.earlyLocked()
	}
}

// ringReadyLocked sends 180: CHANNEL_PROGRESS.
func (s *Server) ringReadyLocked(c *channel) {
	if c.answered || c.prof.progress != 0 || c.cause != "" {
		return
	}
	c.prof.progress = time.Now().UnixMicro()
	s.fireLocked("CHANNEL_PROGRESS", c)
	s.setCallStateLocked(c, "RINGING")
}

// dtmfLocked is a digit received on c (RFC 2833, as recorded).
func (s *Server) dtmfLocked(c *channel, digit string) {
	if c.cause != "" {
		return
	}
	e := s.chanEventLocked("DTMF", c)
	e.add("DTMF-Digit", digit)
	e.add("DTMF-Duration", "2240")
	e.add("DTMF-Source", "RTP")
	s.emitLocked(e)
	c.digits += digit
	if run := c.cur; run != nil && run.media != nil {
		term, _ := c.vars.get("playback_terminators")
		if term == "any" || (term != "" && term != "none" && strings.Contains(term, digit)) {
			c.vars.set("playback_terminator_used", digit)
			s.stopMediaLocked(c, run, "break")
		}
	}
}

// breakLocked is uuid_break: the running playback stops with Playback-Status
// break; with all, queued messages are dropped too.
func (s *Server) breakLocked(c *channel, all bool) {
	if all {
		c.queue = nil
	}
	if run := c.cur; run != nil {
		switch {
		case run.media != nil:
			s.stopMediaLocked(c, run, "break")
		case run.app == "sleep":
			s.appDoneLocked(c, run, "_none_")
		}
	}
}

// hangupLocked hangs c up with cause: CHANNEL_HANGUP, the running apps
// unwind (playback stops, park returns), CHANNEL_STATE/CALLSTATE,
// CHANNEL_HANGUP_COMPLETE, and CHANNEL_DESTROY unless a controlling
// connection still holds the session. disposition is the
// sip_hangup_disposition (send_bye, recv_bye, send_cancel, recv_cancel,
// recv_refuse).
func (s *Server) hangupLocked(c *channel, cause, disposition string) {
	if c.cause != "" || c.gone {
		return
	}
	c.cause = cause
	c.answerState = "hangup"
	c.stateNum = 10
	c.stopTimers()
	c.queue = nil
	c.vars.set("sip_hangup_disposition", disposition)
	if disposition == "recv_bye" {
		c.vars.set("sip_term_status", "200")
		c.vars.set("proto_specific_hangup_cause", "sip:200")
		c.vars.set("sip_term_cause", "16")
	}
	s.fireLocked("CHANNEL_HANGUP", c)
	if c.caller != nil {
		c.caller.hungUpLocked(cause, disposition != "recv_bye" && disposition != "recv_cancel")
	}

	if c.origin != nil {
		s.originateFailedLocked(c, cause)
		return
	}

	// A bridged partner goes down with this leg (transcript 02: the
	// agent leg gets BYE when the caller hangs up).
	partner := c.bridge
	if partner != nil {
		c.vars.set("last_bridge_hangup_cause", cause)
		c.vars.set("bridge_hangup_cause", cause)
		partner.vars.set("last_bridge_hangup_cause", cause)
		partner.vars.set("bridge_hangup_cause", cause)
		partner.vars.set("sip_hangup_phrase", "OK")
		if c.bridgeA {
			// The caller's side: the agent is torn down first, then
			// this leg's bridge ends.
			s.hangupLocked(partner, "NORMAL_CLEARING", "send_bye")
		}
	}

	s.unwindLocked(c)

	if partner != nil && !c.bridgeA {
		// The agent's side went first: the caller's leg leaves the
		// bridge and either parks again (park_after_bridge) or hangs up.
		s.unbridgeLocked(partner, c)
		if v, _ := partner.vars.get("park_after_bridge"); strings.EqualFold(v, "true") && partner.cause == "" {
			partner.top = &appRun{appCall: appCall{app: "park", noExec: true}}
			s.parkLocked(partner, partner.top)
		} else if partner.cause == "" {
			partner.top = nil
			s.hangupLocked(partner, "NORMAL_CLEARING", "send_bye")
		}
	}
	s.completeLocked(c)
}

// unwindLocked ends what runs on a channel that is hanging up, in the
// order FreeSWITCH's threads produce it.
func (s *Server) unwindLocked(c *channel) {
	if run := c.cur; run != nil {
		if run.media != nil {
			s.stopMediaLocked(c, run, "hangup")
		} else {
			c.cur = nil
			s.fireCompleteLocked(c, run, "_none_")
		}
	}
	for len(c.records) > 0 {
		s.stopRecordLocked(c, c.records[0].path)
	}
	for _, sup := range c.snoopers {
		if sup.top != nil && sup.top.eavesTgt == c {
			run := sup.top
			sup.snooping = nil
			s.appDoneLocked(sup, run, "_none_")
		}
	}
	c.snoopers = nil
	if tgt := c.snooping; tgt != nil {
		c.snooping = nil
		for i, sup := range tgt.snoopers {
			if sup == c {
				tgt.snoopers = append(tgt.snoopers[:i], tgt.snoopers[i+1:]...)
				break
			}
		}
	}
	if partner := c.bridge; partner != nil && c.bridgeA {
		s.unbridgeLocked(c, partner)
	}
	if run := c.top; run != nil && run.media != nil {
		s.stopMediaLocked(c, run, "hangup")
	}
	if run := c.top; run != nil {
		c.top = nil
		switch {
		case run.app == "uuid_bridge" || run.noExec:
			if run.parked && run.noExec {
				s.fireLocked("CHANNEL_UNPARK", c)
			}
		case run.parked:
			s.fireLocked("CHANNEL_UNPARK", c)
			s.fireCompleteLocked(c, run, s.parkResponse(c))
		default:
			s.fireCompleteLocked(c, run, "_none_")
		}
		c.vars.set("last_app", run.app)
		if run.arg != "" {
			c.vars.set("last_arg", run.arg)
		}
	}
}

// completeLocked is the reporting state: CHANNEL_STATE CS_HANGUP, the
// HANGUP call state, CS_REPORTING, CHANNEL_HANGUP_COMPLETE (with its early
// Hangup-Cause), then destruction.
func (s *Server) completeLocked(c *channel) {
	s.fireStateLocked(c, csHangup, 10)
	s.setCallStateLocked(c, "HANGUP")
	now := time.Now()
	c.prof.hangup = now.UnixMicro()
	s.fireStateLocked(c, csReporting, 11)
	c.vars.set("hangup_cause", c.cause)
	c.vars.set("hangup_cause_q850", strconv.Itoa(q850Code(c.cause)))
	if c.prof.bridged == 0 {
		c.vars.set("bridge_epoch", "0")
		c.vars.set("bridge_uepoch", "0")
	}
	dur := now.Sub(c.createdAt)
	bill := time.Duration(0)
	if c.prof.answered != 0 {
		bill = now.Sub(time.UnixMicro(c.prof.answered))
	}
	c.vars.set("duration", strconv.Itoa(int(dur.Seconds())))
	c.vars.set("billsec", strconv.Itoa(int(bill.Seconds())))
	c.vars.set("progresssec", "0")
	answersec := 0
	if c.prof.answered != 0 {
		answersec = int(time.UnixMicro(c.prof.answered).Sub(c.createdAt).Seconds())
	}
	c.vars.set("answersec", strconv.Itoa(answersec))
	c.vars.set("waitsec", strconv.Itoa(answersec))
	s.fireLocked("CHANNEL_HANGUP_COMPLETE", c, Header{"Hangup-Cause", c.cause})
	if f := c.afterComplete; f != nil {
		c.afterComplete = nil
		f()
	}
	if s.sessionDownLocked(c) {
		return
	}
	s.destroyLocked(c)
}

// destroyLocked fires CHANNEL_DESTROY and forgets the channel.
func (s *Server) destroyLocked(c *channel) {
	if c.gone {
		return
	}
	c.destroyWait = false
	c.stateNum = 12
	s.fireLocked("CHANNEL_DESTROY", c)
	s.forgetLocked(c)
}

func (s *Server) forgetLocked(c *channel) {
	c.gone = true
	c.stopTimers()
	for _, run := range []*appRun{c.cur, c.top} {
		if run != nil && run.media != nil {
			run.media.cancel()
		}
	}
	delete(s.channels, c.uuid)
	s.ended = append(s.ended, c)
	if n := len(s.ended) - s.opts.History; n > 0 {
		s.ended = append(s.ended[:0:0], s.ended[n:]...)
	}
	if c.caller != nil {
		c.caller.finishLocked()
	}
}

// vanishLocked drops a channel without a single event (Restart, Close).
func (s *Server) vanishLocked(c *channel) {
	if c.gone {
		return
	}
	if c.cause == "" {
		c.cause = "NORMAL_CLEARING"
		if c.caller != nil {
			c.caller.hungUpLocked(c.cause, true)
		}
	}
	if c.origin != nil {
		c.origin.finishLocked("-ERR " + c.cause + "\n")
		c.origin = nil
	}
	s.forgetLocked(c)
}

// uuidBridgeLocked bridges a and b the way uuid_bridge does: both legs
// leave what they run (b first), get their new profiles and Other-Leg
// blocks, run the uuid_bridge pseudo-app, and a fires CHANNEL_BRIDGE.
func (s *Server) uuidBridgeLocked(a, b *channel) {
	for _, old := range []*channel{a.bridge, b.bridge} {
		if old != nil && old != a && old != b {
			s.hangupLocked(old, "NORMAL_CLEARING", "send_bye")
		}
	}
	for _, c := range []*channel{b, a} {
		if run := c.cur; run != nil && run.media != nil {
			s.stopMediaLocked(c, run, "break")
		}
	}
	now := time.Now()
	epoch := strconv.FormatInt(now.Unix(), 10)
	bSnap := b.prof // B as A will show it: before B takes A's caller id
	bSnap.logical = "inbound"
	aSnap := a.prof
	aSnap.calleeName, aSnap.calleeNum = "", ""

	a.bridge, b.bridge = b, a
	a.bridgeA, b.bridgeA = true, false
	a.otherUUID, a.otherType, a.otherProf = b.uuid, "originatee", &bSnap
	b.otherUUID, b.otherType, b.otherProf = a.uuid, "originator", &aSnap
	bSnap.index, aSnap.index = 0, 0

	for _, p := range []struct{ c, o *channel }{{a, b}, {b, a}} {
		c, o := p.c, p.o
		src := epoch + ":" + newUUID() + ":uuid_br:" + o.uuid
		c.prof.index++
		c.prof.profileCreated = now.UnixMicro()
		c.prof.transferSource = src
		if c == a {
			c.vars.set("uuid_bridge", b.uuid)
		}
		c.vars.set("bridge_channel", o.name)
		c.vars.set("bridge_uuid", o.uuid)
		c.vars.set("signal_bond", o.uuid)
		c.vars.set("transfer_history", src)
		c.vars.set("transfer_source", src)
	}
	a.prof.calleeName, a.prof.calleeNum = b.prof.calleeName, b.prof.calleeNum
	bSnap.profileCreated = b.prof.profileCreated
	b.prof.cidName, b.prof.cidNum = a.prof.cidName, a.prof.cidNum
	b.hitDialplan = false

	for _, c := range []*channel{b, a} {
		if run := c.top; run != nil {
			c.stateNum = 8
			if run.parked {
				s.fireLocked("CHANNEL_UNPARK", c)
			}
			c.top = nil
			if !run.noExec {
				s.fireCompleteLocked(c, run, s.parkResponse(c))
			}
			c.vars.set("last_app", run.app)
		}
	}
	for _, p := range []struct{ c, o *channel }{{a, b}, {b, a}} {
		c := p.c
		c.state, c.stateNum = csSoftExecute, 3
		c.top = &appRun{appCall: appCall{app: "uuid_bridge", arg: p.o.uuid, noExec: true}}
		e := s.chanEventLocked("CHANNEL_EXECUTE", c)
		e.add("Application", "uuid_bridge")
		e.add("Application-Data", p.o.uuid)
		s.emitLocked(e)
	}
	a.prof.bridged = now.UnixMicro()
	b.prof.bridged = now.UnixMicro()
	a.vars.set("last_bridge_to", b.uuid)
	b.vars.set("last_bridge_to", a.uuid)
	a.vars.set("bridge_stamp", now.In(s.opts.Location).Format(dateLocal))
	a.vars.set("bridge_epoch", epoch)
	a.vars.set("bridge_uepoch", strconv.FormatInt(now.UnixMicro(), 10))
	b.vars.set("bridge_stamp", now.In(s.opts.Location).Format(dateLocal))
	b.vars.set("bridge_epoch", epoch)
	b.vars.set("bridge_uepoch", strconv.FormatInt(now.UnixMicro(), 10))
	s.fireLocked("CHANNEL_BRIDGE", a, Header{"Bridge-A-Unique-ID", a.uuid}, Header{"Bridge-B-Unique-ID", b.uuid})
	b.state, b.stateNum = csExchangeMedia, 5
	b.callUUID = a.uuid
	b.vars.set("call_uuid", a.uuid)
	a.vars.set("last_bridge_role", "originator")
	b.vars.set("last_bridge_role", "originatee")
	s.pumpLocked(a)
	s.pumpLocked(b)
}

// unbridgeLocked ends the bridge of a (the side that fired CHANNEL_BRIDGE)
// and b: CHANNEL_UNBRIDGE on a.
func (s *Server) unbridgeLocked(a, b *channel) {
	if a.bridge != b {
		return
	}
	a.bridge, b.bridge = nil, nil
	pa, pb := a, b
	if !a.bridgeA {
		pa, pb = b, a
	}
	if pa.held {
		pa.held = false
	}
	if run := pb.holdMusic; run != nil {
		pb.holdMusic = nil
		if pb.cur == run && pb.cause == "" {
			s.stopMediaLocked(pb, run, "break")
		}
	}
	s.fireLocked("CHANNEL_UNBRIDGE", pa, Header{"Bridge-A-Unique-ID", pa.uuid}, Header{"Bridge-B-Unique-ID", pb.uuid})
	if pa.top != nil && pa.top.app == "uuid_bridge" {
		pa.top = nil
	}
	if pb.top != nil && pb.top.app == "uuid_bridge" {
		pb.top = nil
	}
}

// holdLocked is uuid_hold [off]: CHANNEL_HOLD/UNHOLD on the held leg, and
// its hold_music played to the partner while held (transcript 05).
func (s *Server) holdLocked(c *channel, on bool) {
	if c.cause != "" || c.held == on {
		return
	}
	c.held = on
	partner := c.bridge
	if on {
		c.prof.lastHold = time.Now().UnixMicro()
		s.setCallStateLocked(c, "HELD")
		s.fireLocked("CHANNEL_HOLD", c)
		if partner != nil && partner.cause == "" {
			music, _ := c.vars.get("hold_music")
			if music == "" {
				music = "local_stream://moh"
			}
			if partner.cur != nil && partner.cur.media != nil {
				s.stopMediaLocked(partner, partner.cur, "break")
			}
			if partner.cur != nil || partner.cause != "" {
				return
			}
			s.execLocked(partner, appCall{app: "playback", arg: music}, false)
			if partner.cur != nil && partner.cur.app == "playback" {
				partner.holdMusic = partner.cur
			}
		}
		return
	}
	if partner != nil {
		if run := partner.holdMusic; run != nil {
			partner.holdMusic = nil
			if partner.cur == run {
				s.stopMediaLocked(partner, run, "break")
			}
		}
	}
	c.callState = "UNHELD"
	s.fireLocked("CHANNEL_UNHOLD", c)
	s.setCallStateLocked(c, "ACTIVE")
}

// transferLocked sends c to another extension of the dialplan: it leaves
// what it runs (and its bridge, whose other leg hangs up) and runs the new
// extension (park, or the outbound socket) with a new caller profile.
func (s *Server) transferLocked(c *channel, arg string, hangupPartner bool) {
	if c.cause != "" {
		return
	}
	fields := strings.Fields(arg)
	if len(fields) == 0 {
		return
	}
	dest := fields[0]
	if p := c.bridge; p != nil {
		if c.bridgeA {
			s.unbridgeLocked(c, p)
		} else {
			s.unbridgeLocked(p, c)
		}
		if hangupPartner {
			s.hangupLocked(p, "NORMAL_CLEARING", "send_bye")
		}
	}
	if run := c.cur; run != nil && run.media != nil {
		s.stopMediaLocked(c, run, "break")
	}
	if run := c.top; run != nil {
		if run.parked {
			s.fireLocked("CHANNEL_UNPARK", c)
		}
		c.top = nil
		if !run.noExec {
			s.fireCompleteLocked(c, run, s.parkResponse(c))
		}
	}
	now := time.Now().UnixMicro()
	c.prof.index++
	c.prof.dest = dest
	c.prof.profileCreated = now
	c.prof.transfer = now
	c.state, c.stateNum = csExecute, 4
	c.hitDialplan = true
	c.dialplan = s.routeLocked(dest)
	s.runDialplanLocked(c)
}

// routeLocked is the dialplan of the recordings: the socket for matching
// destinations when an outbound socket is configured, park for the rest.
func (s *Server) routeLocked(dest string) []appCall {
	if s.opts.SocketAddr != "" && (s.opts.SocketDestinations == nil || s.opts.SocketDestinations.MatchString(dest)) {
		return []appCall{{app: "socket", arg: s.opts.SocketAddr + " async full"}}
	}
	if s.opts.Watchdog && (s.globals["switchboard_up"] != "true" || dest == "switchboard_fallback") {
		return []appCall{{app: "answer"}, {app: "playback", arg: "ivr/ivr-not_available.wav"}, {app: "hangup"}}
	}
	if s.opts.Watchdog {
		return []appCall{{app: "ring_ready"}, {app: "set", arg: "force_transfer_context=switchboard-transfer"},
			{app: "set", arg: "park_after_bridge=true"}, {app: "park"}}
	}
	return []appCall{{app: "park"}}
}

func (s *Server) getVarLocked(c *channel, name string) (string, bool) {
	switch name {
	case "uuid":
		return c.uuid, true
	case "caller_id_number":
		return c.prof.cidNum, c.prof.cidNum != ""
	case "caller_id_name":
		return c.prof.cidName, c.prof.cidName != ""
	case "destination_number":
		return c.prof.dest, true
	case "channel_name":
		return c.name, true
	case "ani":
		return c.prof.ani, c.prof.ani != ""
	case "context":
		return c.prof.context, true
	case "network_addr":
		return c.prof.networkAddr, c.prof.networkAddr != ""
	case "state":
		return c.state, true
	}
	return c.vars.get(name)
}
