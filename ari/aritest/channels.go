package aritest

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

type chanKind int

const (
	kindInbound    chanKind = iota // entered Stasis from the dialplan
	kindOriginated                 // POST /channels: dialled, enters Stasis on answer
	kindCreated                    // POST /channels/create: in Stasis at once, dialled by /dial
	kindSnoop                      // POST /channels/{id}/snoop
)

// player is a target of playbacks: a channel or a bridge. Playbacks on
// one target queue up and play one after the other.
type player struct {
	playing *playback
	queue   []*playback
}

type channel struct {
	id, name   string
	kind       chanKind
	state      string
	protocolID string
	cid        CallerID // "caller" in ARI
	connected  CallerID
	context    string
	exten      string
	priority   int
	appName    string
	appData    string
	creation   string
	vars       map[string]string

	subs     []*app // apps that receive its events
	explicit []*app // subscribed by originate/create (or as their originator)
	stasis   *app   // the app it is in; nil when not in Stasis
	args     []string
	origApp  string // app and args an originated leg enters on answer
	origArgs []string

	endpoint   *endpoint // nil for Snoop channels
	dialstring string    // "agent1", "+33612345678@trunk"
	peer       Peer
	dialing    bool
	dialCount  int
	created    bool // made by /channels/create: later Dial events lose the dial string
	dialTimer  *time.Timer
	answered   bool // media flowed: RTPAUDIOQOS variables at hang-up
	sdpSent    bool // an SDP went to an inbound caller (183 or 200)
	ssrc       uint32

	bridge  *bridge
	player  player
	rec     *recording
	snoops  []*channel
	spied   *channel
	whisper string

	ringing, moh bool
	prompts      []*Prompt
	dtmfSent     string
	caller       *Caller // the test's handle on an inbound call
	timers       []*time.Timer
	dead         bool
	endCause     int
}

// json is the channel as ARI shows it, key order as recorded.
func (c *channel) json() []byte {
	o := newObj(448).str("id", c.id).str("name", c.name).str("state", c.state).str("protocol_id", c.protocolID)
	o = o.raw("caller", newObj(64).str("name", c.cid.Name).str("number", c.cid.Number).done())
	o = o.raw("connected", newObj(64).str("name", c.connected.Name).str("number", c.connected.Number).done())
	o = o.str("accountcode", "")
	o = o.raw("dialplan", newObj(128).str("context", c.context).str("exten", c.exten).num("priority", c.priority).
		str("app_name", c.appName).str("app_data", c.appData).done())
	return o.str("creationtime", c.creation).str("language", "en").done()
}

func (c *channel) info() ChannelInfo {
	ci := ChannelInfo{
		ID: c.id, Name: c.name, State: c.state, Caller: c.cid, Connected: c.connected,
		Vars: make(map[string]string, len(c.vars)), DTMFSent: c.dtmfSent,
		Ringing: c.ringing, MOH: c.moh, Ended: c.dead, Cause: c.endCause,
	}
	if c.endpoint != nil {
		ci.Endpoint = c.endpoint.id()
	}
	if c.bridge != nil {
		ci.Bridge = c.bridge.id
	}
	if c.stasis != nil {
		ci.App = c.stasis.name
	}
	for k, v := range c.vars {
		ci.Vars[k] = v
	}
	for _, p := range c.prompts {
		ci.Prompts = append(ci.Prompts, *p)
	}
	return ci
}

// after runs fn under the server lock once d has passed, unless the
// channel is gone by then; with d <= 0 it runs fn now (mu is held).
func (s *Server) after(c *channel, d time.Duration, fn func()) {
	if d <= 0 {
		fn()
		return
	}
	c.timers = append(c.timers, time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.dead || s.closed {
			return
		}
		fn()
	}))
}

func (c *channel) stopTimers() {
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
	if c.dialTimer != nil {
		c.dialTimer.Stop()
		c.dialTimer = nil
	}
}

func randSSRC() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (s *Server) registerChannel(c *channel) {
	s.channels[c.id] = c
	s.chanList = append(s.chanList, c)
	if c.endpoint != nil {
		s.endpointChanged(c.endpoint) // its channel_ids grew
	}
}

func (s *Server) dropChannel(c *channel) {
	if s.channels[c.id] == c {
		delete(s.channels, c.id)
	}
	for i, x := range s.chanList {
		if x == c {
			copy(s.chanList[i:], s.chanList[i+1:])
			s.chanList[len(s.chanList)-1] = nil
			s.chanList = s.chanList[:len(s.chanList)-1]
			break
		}
	}
}

// enterStasis puts a channel in an app: it is subscribed for as long as it
// stays there, and StasisStart is sent.
func (s *Server) enterStasis(c *channel, a *app, args []string) {
	c.stasis = a
	c.args = args
	c.appName = "Stasis"
	c.appData = strings.Join(append([]string{a.name}, args...), ",")
	s.subscribeChannel(a, c)
	s.chanEvent(c, "StasisStart", func(o obj) obj { return o.strs("args", args) })
}

// --- hang-up --------------------------------------------------------------

type hangupKind int

const (
	byApp     hangupKind = iota // DELETE /channels/{id}: ChannelHangupRequest{cause:32, soft:true}
	byRemote                    // the far end sends BYE: ChannelHangupRequest without cause
	byReject                    // the far end answers 486/603: ChannelHangupRequest{cause, tech_cause}
	byCancel                    // an unanswered caller sends CANCEL: {cause:127, tech_cause:487}
	byTimeout                   // originate timeout: only ChannelDestroyed
	bySpied                     // a Snoop channel whose spied channel went away
)

type hangup struct {
	kind       hangupKind
	cause      int    // the cause ChannelDestroyed reports
	techCause  int    // SIP status, when the far end gave one
	dialStatus string // for a leg still being dialled
}

// causeText is ast_cause2str for the causes ARI can produce.
var causeText = map[int]string{
	0: "Unknown", 1: "Unallocated (unassigned) number", 16: "Normal Clearing", 17: "User busy",
	18: "No user responding", 19: "User alerting, no answer", 21: "Call Rejected",
	26: "Answered elsewhere", 28: "Invalid number format (incomplete number)",
	31: "Normal, unspecified", 34: "Circuit/channel congestion", 38: "Network out of order",
	58: "Bearer capability not available", 127: "Interworking, unspecified",
}

func causeTxt(cause int) string {
	if t, ok := causeText[cause]; ok {
		return t
	}
	return "Unknown"
}

// hangupReasons maps DELETE /channels/{id}?reason= to causes (resource_channels.c).
var hangupReasons = map[string]int{
	"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 18, "rejected": 21,
	"unallocated": 1, "normal_unspecified": 31, "number_incomplete": 28, "codec_mismatch": 58,
	"interworking": 127, "failure": 38, "answered_elsewhere": 26,
}

var qosNames = [...]string{"RTPAUDIOQOS", "RTPAUDIOQOSJITTER", "RTPAUDIOQOSLOSS", "RTPAUDIOQOSRTT", "RTPAUDIOQOSMES"}

func qosValues(ssrc uint32) [5]string {
	return [5]string{
		fmt.Sprintf("ssrc=%d;themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=0;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000", ssrc),
		"minrxjitter=000.000000;maxrxjitter=000.000000;avgrxjitter=000.000000;stdevrxjitter=000.000000;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;",
		"  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;",
		"     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;",
		"   minrxmes=000.000000;   maxrxmes=000.000000;   avgrxmes=000.000000;   stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   stdevtxmes=000.000000;",
	}
}

// hangup ends a channel with the event sequence the transcripts show (see
// the README's hang-up table). The channel leaves the id space at once:
// a REST call right after the DELETE already gets 404.
func (s *Server) hangup(c *channel, h hangup) {
	if c.dead {
		return
	}
	c.dead = true
	c.endCause = h.cause
	c.stopTimers()
	s.dropChannel(c)

	// chan_pjsip sets the RTP statistics first, on the channel and, as
	// ...BRIDGED, on its two-party bridge peer.
	if c.answered && c.endpoint != nil && h.kind != byTimeout {
		peer := c.bridgePeer()
		vals := qosValues(c.ssrc)
		for i, n := range qosNames {
			s.varset(c, n, vals[i])
			if peer != nil {
				s.varset(peer, n+"BRIDGED", vals[i])
			}
		}
	}
	switch h.kind {
	case byApp:
		s.hangupRequest(c, 32, 0, true)
	case byRemote, bySpied:
		s.hangupRequest(c, 0, 0, false)
	case byReject:
		s.hangupRequest(c, h.cause, h.techCause, false)
	case byCancel:
		s.hangupRequest(c, 127, 487, false)
	}
	s.dropPlaybacks(&c.player)
	if c.rec != nil {
		s.finishRecording(c.rec, "done")
	}
	if c.bridge != nil {
		s.leaveBridge(c)
	}
	if c.dialing {
		c.dialing = false
		// A timed-out originate ends with ChannelDestroyed alone (02, 03c).
		if h.kind != byTimeout {
			st := h.dialStatus
			if st == "" {
				st = "NOANSWER"
			}
			s.dialEvent(c, st)
		}
	}
	wasStasis := c.stasis != nil
	if wasStasis {
		s.chanEvent(c, "StasisEnd", nil)
		a := c.stasis
		c.stasis = nil
		if !contains(c.explicit, a) {
			s.unsubscribeChannel(a, c)
		}
	}
	// What follows reaches the app only if it subscribed to the channel
	// (or to its endpoint): a channel that entered Stasis from the
	// dialplan ends, for its app, with StasisEnd.
	if len(c.explicit) > 0 || len(s.endpointApps(c.endpoint)) > 0 {
		if wasStasis {
			s.varset(c, "STASISSTATUS", "SUCCESS")
		}
		if c.kind == kindInbound && h.kind == byApp {
			// The dialplan goes on after Stasis() to Hangup() (09).
			s.hangupRequest(c, 16, 0, true)
		}
		if c.kind == kindOriginated {
			c.appName, c.appData = "AppDial2", "(Outgoing Line)"
		} else {
			c.appName, c.appData = "", ""
		}
		s.chanEvent(c, "ChannelDestroyed", func(o obj) obj {
			o = o.num("cause", h.cause).str("cause_txt", causeTxt(h.cause))
			if h.techCause != 0 {
				o = o.num("tech_cause", h.techCause)
			}
			return o
		})
	}
	for _, a := range append([]*app(nil), c.subs...) {
		s.unsubscribeChannel(a, c)
	}
	c.explicit = nil
	for _, sn := range append([]*channel(nil), c.snoops...) {
		s.hangup(sn, hangup{kind: bySpied, cause: 16})
	}
	if c.spied != nil {
		s.snoopGone(c)
	}
	if c.endpoint != nil {
		s.endpointChanged(c.endpoint) // its channel_ids shrank
	}
	if c.caller != nil {
		switch h.kind {
		case byRemote:
			c.caller.finish(h.cause, "caller", "BYE")
		case byCancel:
			c.caller.finish(h.cause, "caller", "CANCEL")
		default:
			if c.state == "Up" {
				c.caller.finish(h.cause, "asterisk", "BYE")
			} else {
				c.caller.finish(h.cause, "asterisk", sipFinal(h.cause))
			}
		}
	}
	s.remember(c)
}

// sipFinal is chan_pjsip's hangup_cause2sip for an unanswered inbound call.
func sipFinal(cause int) string {
	switch cause {
	case 1:
		return "404 Not Found"
	case 17:
		return "486 Busy Here"
	case 18:
		return "408 Request Timeout"
	case 19:
		return "480 Temporarily Unavailable"
	case 21:
		return "403 Forbidden"
	case 28:
		return "484 Address Incomplete"
	case 34:
		return "503 Service Unavailable"
	case 38, 127:
		return "500 Server Internal Error"
	case 58:
		return "488 Not Acceptable Here"
	}
	return "603 Decline"
}

// bridgePeer is the other party of a two-party bridge, if it is a channel.
func (c *channel) bridgePeer() *channel {
	b := c.bridge
	if b == nil || len(b.members) != 2 {
		return nil
	}
	for _, m := range b.members {
		if m.ch != nil && m.ch != c {
			return m.ch
		}
	}
	return nil
}

// --- originate and dial ---------------------------------------------------

// parseCallerID reads "Name" <number>, Name <number> or a bare number.
func parseCallerID(s string) CallerID {
	s = strings.TrimSpace(s)
	if s == "" {
		return CallerID{}
	}
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		name := strings.TrimSpace(s[:i])
		name = strings.Trim(name, `"`)
		return CallerID{Name: name, Number: s[i+1 : len(s)-1]}
	}
	if strings.HasPrefix(s, `"`) {
		return CallerID{Name: strings.Trim(s, `"`)}
	}
	return CallerID{Number: s}
}

// startDial runs the far end's script on a leg: Dial(""), then what the
// scripted SIP party does. Called with mu held, after the REST response.
func (s *Server) startDial(c *channel, timeout time.Duration) {
	if c.dead {
		return
	}
	c.dialing = true
	s.dialEvent(c, "")
	if timeout > 0 {
		c.dialTimer = time.AfterFunc(timeout, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if c.dead || !c.dialing || s.closed {
				return
			}
			s.hangup(c, hangup{kind: byTimeout, cause: 19, techCause: 480})
		})
	}
	p := c.peer
	switch p.Action {
	case PeerAnswer:
		s.peerRinging(c)
		s.after(c, p.After, func() { s.peerAnswer(c) })
	case PeerRing:
		s.peerRinging(c)
	case PeerBusy:
		// 486 comes straight after 100 Trying: no Ringing state (03a).
		s.after(c, p.After, func() {
			if c.dialing {
				s.hangup(c, hangup{kind: byReject, cause: 17, techCause: 486, dialStatus: "BUSY"})
			}
		})
	case PeerDecline:
		s.peerRinging(c)
		s.after(c, p.After, func() {
			if c.dialing {
				s.hangup(c, hangup{kind: byReject, cause: 21, techCause: 603, dialStatus: "NOANSWER"})
			}
		})
	case PeerUnreachable:
		// Nothing answers: the leg stays Down until the timeout (03c).
	}
}

// peerRinging is a 180. Dial(RINGING) and ChannelStateChange(Ringing) came
// in either order on the real server; this emulator sends the state change
// first, as most captures show.
func (s *Server) peerRinging(c *channel) {
	if c.dead || !c.dialing || c.state != "Down" {
		return
	}
	c.state = "Ringing"
	s.chanEvent(c, "ChannelStateChange", nil)
	s.dialEvent(c, "RINGING")
}

// peerAnswer is a 200 OK from the far end.
func (s *Server) peerAnswer(c *channel) {
	if c.dead || !c.dialing {
		return
	}
	if c.dialTimer != nil {
		c.dialTimer.Stop()
		c.dialTimer = nil
	}
	c.dialing = false
	c.state = "Up"
	c.answered = true
	s.chanEvent(c, "ChannelStateChange", nil)
	s.dialEvent(c, "ANSWER")
	if c.kind == kindOriginated && c.stasis == nil {
		a := s.apps[c.origApp]
		if a == nil || a.active == nil {
			// Stasis() fails and the leg hangs up (from-agents has no
			// more): also when no websocket holds the app ("Stasis app
			// 'switchboard' not active" on 22.10.1), the phone answered
			// into a hang-up.
			s.hangup(c, hangup{kind: byRemote, cause: 16})
			return
		}
		c.appName = "Stasis"
		c.appData = strings.Join(append([]string{a.name}, c.origArgs...), ",")
		s.varset(c, "STASISSTATUS", "")
		s.enterStasis(c, a, c.origArgs)
	}
	switch d := c.peer.HangupAfter; {
	case d > 0 && c.peer.ReferTo != "":
		s.after(c, d, func() {
			// As Asterisk sends it: no "channel", the channels are in
			// refer_to and referred_by.
			dest := newObj(64).str("destination", c.peer.ReferTo).done()
			s.deliver("ChannelTransfer", event("ChannelTransfer").
				raw("refer_to", newObj(128).raw("requested_destination", dest).done()).
				raw("referred_by", newObj(512).raw("source_channel", c.json()).done()), s.chanApps(c))
			s.after(c, 300*time.Millisecond, func() { s.hangup(c, hangup{kind: byRemote, cause: 16}) })
		})
	case d > 0:
		s.after(c, d, func() { s.hangup(c, hangup{kind: byRemote, cause: 16}) })
	}
}

// --- channel variables ----------------------------------------------------

// getVar reads a variable or dialplan function the way GET /variable does.
func (c *channel) getVar(name string) (string, bool) {
	switch strings.ToUpper(name) {
	case "CALLERID(NUM)", "CALLERID(NUMBER)":
		return c.cid.Number, c.cid.Number != ""
	case "CALLERID(NAME)":
		return c.cid.Name, c.cid.Name != ""
	case "CALLERID(ALL)":
		v := mergeCallerID(c.cid)
		return v, v != ""
	case "CONNECTEDLINE(NUM)", "CONNECTEDLINE(NUMBER)":
		return c.connected.Number, c.connected.Number != ""
	case "CONNECTEDLINE(NAME)":
		return c.connected.Name, c.connected.Name != ""
	case "CHANNEL(NAME)":
		return c.name, true
	case "CHANNEL(STATE)":
		return c.state, true
	case "CHANNEL(UNIQUEID)", "UNIQUEID":
		return c.id, true
	case "CHANNEL(LANGUAGE)":
		return "en", true
	case "CHANNEL(PJSIP,CALL-ID)":
		return c.protocolID, c.protocolID != ""
	case "EXTEN":
		return c.exten, true
	case "CONTEXT":
		return c.context, true
	case "PRIORITY":
		return fmt.Sprint(c.priority), true
	}
	v, ok := c.vars[name]
	// A variable set with no value is "not found" too (09).
	return v, ok && v != ""
}

func mergeCallerID(id CallerID) string {
	switch {
	case id.Name != "" && id.Number != "":
		return `"` + id.Name + `" <` + id.Number + `>`
	case id.Name != "":
		return id.Name
	default:
		return id.Number
	}
}

// setCallerIDVar applies CALLERID(...) and reports whether name was one.
func (c *channel) setCallerIDVar(name, value string) bool {
	switch strings.ToUpper(name) {
	case "CALLERID(NAME)":
		c.cid.Name = value
	case "CALLERID(NUM)", "CALLERID(NUMBER)":
		c.cid.Number = value
	case "CALLERID(ALL)":
		c.cid = parseCallerID(value)
	default:
		return false
	}
	return true
}

// setConnectedVar applies CONNECTEDLINE(...) and reports whether name was
// one.
func (c *channel) setConnectedVar(name, value string) bool {
	switch strings.ToUpper(name) {
	case "CONNECTEDLINE(NAME)":
		c.connected.Name = value
	case "CONNECTEDLINE(NUM)", "CONNECTEDLINE(NUMBER)":
		c.connected.Number = value
	default:
		return false
	}
	return true
}

func (s *Server) callerIDEvent(c *channel) {
	s.chanEvent(c, "ChannelCallerId", func(o obj) obj {
		return o.num("caller_presentation", 0).str("caller_presentation_txt", "Presentation Allowed, Not Screened")
	})
}
