package esltest

import (
	"strconv"
	"strings"
	"time"
)

// profile is a caller profile: the Caller-* block of a channel's events, and
// the Other-Leg-* block its partner shows.
type profile struct {
	direction, logical     string
	username, dialplan     string
	cidName, cidNum        string
	origCidName            string
	origCidNum             string
	calleeName, calleeNum  string
	networkAddr, ani, dest string
	source, transferSource string
	context, chanName      string
	index                  int
	profileCreated         int64 // µs since the epoch; 0 = not yet
	created, answered      int64
	progress, progressMed  int64
	hangup, transfer       int64
	bridged, lastHold      int64
	holdAccum              int64
}

// add writes the block under prefix ("Caller-" or "Other-Leg-"); empty
// optional fields are left out, as FreeSWITCH does.
func (p *profile) add(e *event, prefix, uuid string, withIndex, zeroTimes bool) {
	opt := func(name, v string) {
		if v != "" {
			e.add(prefix+name, v)
		}
	}
	t := func(name string, v int64) {
		if zeroTimes {
			v = 0
		}
		e.add(prefix+name, strconv.FormatInt(v, 10))
	}
	e.add(prefix+"Direction", p.direction)
	e.add(prefix+"Logical-Direction", p.logical)
	opt("Username", p.username)
	opt("Dialplan", p.dialplan)
	opt("Caller-ID-Name", p.cidName)
	opt("Caller-ID-Number", p.cidNum)
	opt("Orig-Caller-ID-Name", p.origCidName)
	opt("Orig-Caller-ID-Number", p.origCidNum)
	opt("Callee-ID-Name", p.calleeName)
	opt("Callee-ID-Number", p.calleeNum)
	opt("Network-Addr", p.networkAddr)
	opt("ANI", p.ani)
	e.add(prefix+"Destination-Number", p.dest)
	e.add(prefix+"Unique-ID", uuid)
	opt("Source", p.source)
	opt("Transfer-Source", p.transferSource)
	e.add(prefix+"Context", p.context)
	e.add(prefix+"Channel-Name", p.chanName)
	if withIndex {
		e.add(prefix+"Profile-Index", strconv.Itoa(p.index))
	}
	t("Profile-Created-Time", p.profileCreated)
	t("Channel-Created-Time", p.created)
	t("Channel-Answered-Time", p.answered)
	t("Channel-Progress-Time", p.progress)
	t("Channel-Progress-Media-Time", p.progressMed)
	t("Channel-Hangup-Time", p.hangup)
	t("Channel-Transfer-Time", p.transfer)
	t("Channel-Resurrect-Time", 0)
	t("Channel-Bridged-Time", p.bridged)
	t("Channel-Last-Hold", p.lastHold)
	t("Channel-Hold-Accum", p.holdAccum)
	e.add(prefix+"Screen-Bit", "true")
	e.add(prefix+"Privacy-Hide-Name", "false")
	e.add(prefix+"Privacy-Hide-Number", "false")
}

// vars is a channel's variables in FreeSWITCH order: insertion order, and
// setting a variable again moves it to the end (switch_channel_set_variable
// deletes, then appends). Names are stored with the variable_ prefix they
// carry in events, so building an event copies them as they are.
type vars struct {
	list []Header
}

const varPrefix = "variable_"

func (v *vars) get(name string) (string, bool) {
	for _, h := range v.list {
		if h.Name[len(varPrefix):] == name {
			return h.Value, true
		}
	}
	return "", false
}

func (v *vars) set(name, value string) {
	v.unset(name)
	if value == "" {
		return
	}
	v.list = append(v.list, Header{varPrefix + name, value})
}

func (v *vars) unset(name string) {
	for i, h := range v.list {
		if h.Name[len(varPrefix):] == name {
			v.list = append(v.list[:i], v.list[i+1:]...)
			return
		}
	}
}

// setIfAbsent sets name only when the channel has no value for it.
func (v *vars) setIfAbsent(name, value string) {
	if _, ok := v.get(name); !ok {
		v.set(name, value)
	}
}

// Channel states and their numbers as they appear in Channel-State and
// Channel-State-Number (the number is the running state, which lags).
const (
	csNone          = "CS_NONE"
	csInit          = "CS_INIT"
	csExecute       = "CS_EXECUTE"
	csSoftExecute   = "CS_SOFT_EXECUTE"
	csExchangeMedia = "CS_EXCHANGE_MEDIA"
	csConsumeMedia  = "CS_CONSUME_MEDIA"
	csHangup        = "CS_HANGUP"
	csReporting     = "CS_REPORTING"
)

// channel is one FreeSWITCH session. Every field is guarded by Server.mu.
type channel struct {
	serial     int
	uuid       string
	sessionID  int
	name       string
	direction  string // inbound | outbound
	dialString string // originated legs: the dial string as given

	state       string
	stateNum    int
	callState   string // DOWN RINGING EARLY ACTIVE HELD UNHELD HANGUP
	answerState string // ringing early answered hangup
	hitDialplan bool
	callUUID    string // Channel-Call-UUID
	hasCodec    bool
	answered    bool
	cause       string // hangup cause once hanging up
	gone        bool   // CHANNEL_DESTROY sent (or vanished)
	createdAt   time.Time

	prof profile
	vars vars

	// The bridge partner shown in Other-Leg-*, kept after the bridge ends.
	otherUUID string
	otherType string // originator | originatee
	otherProf *profile
	bridge    *channel // current uuid_bridge partner
	bridgeA   bool     // this side fires CHANNEL_BRIDGE/UNBRIDGE
	held      bool
	holdMusic *appRun // hold music running on this leg for its partner

	// Execution: the dialplan's remaining apps, the running top-level app
	// (park, socket, eavesdrop, the uuid_bridge state ...), a nested app run
	// from inside it (playback, sleep ...), and queued sendmsg/broadcast work.
	dialplan []appCall
	top      *appRun
	cur      *appRun
	queue    []appCall
	lastResp string

	// controller is the connection holding the session (outbound socket or
	// inbound `myevents <uuid>`); it delays CHANNEL_DESTROY until it goes.
	controller   *conn
	controlled   bool // CF_CONTROLLED
	released     bool // a controller let go: park returns when idle
	socketConnOK bool // outbound socket got `connect`
	destroyWait  bool

	origin        *originateJob // pending originate of this leg
	afterComplete func()        // runs after CHANNEL_HANGUP_COMPLETE
	peer          *Peer
	caller        *Caller
	timers        []*time.Timer
	records       []*recording
	snoopers      []*channel // eavesdroppers on this leg
	snooping      *channel   // the leg this one eavesdrops on
	played        []string
	digits        string
	dtmfQueue     []string
}

// addTimer runs f under the server lock after d, unless the channel is gone
// by then.
func (s *Server) addTimerLocked(c *channel, d time.Duration, f func()) *time.Timer {
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.gone || s.closed {
			return
		}
		f()
	})
	c.timers = append(c.timers, t)
	return t
}

func (c *channel) stopTimers() {
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
}

// chanEventLocked builds a channel event: the common block, pre (headers
// that come before the channel block: Bridge-A/B-Unique-ID, the early
// Hangup-Cause of CHANNEL_HANGUP_COMPLETE), the channel block, the caller
// profile, the Other-Leg block and, unless the event type never carries
// them, the variables.
func (s *Server) chanEventLocked(name string, c *channel, pre ...Header) *event {
	e := s.newEventLocked(name)
	if e.dead {
		return e
	}
	s.addChannelData(e, c, pre...)
	return e
}

// addChannelData appends the channel part of an event (see
// chanEventLocked) to e.
func (s *Server) addChannelData(e *event, c *channel, pre ...Header) {
	name := e.name
	e.headers = append(e.headers, pre...)
	e.add("Channel-State", c.state)
	e.add("Channel-Call-State", c.callState)
	e.add("Channel-State-Number", strconv.Itoa(c.stateNum))
	e.add("Channel-Name", c.name)
	e.add("Unique-ID", c.uuid)
	e.add("Call-Direction", c.direction)
	e.add("Presence-Call-Direction", c.direction)
	e.add("Channel-HIT-Dialplan", strconv.FormatBool(c.hitDialplan))
	e.add("Channel-Call-UUID", c.callUUID)
	e.add("Answer-State", c.answerState)
	if c.cause != "" {
		e.add("Hangup-Cause", c.cause)
	}
	if c.hasCodec {
		e.add("Channel-Read-Codec-Name", "PCMU")
		e.add("Channel-Read-Codec-Rate", "8000")
		e.add("Channel-Read-Codec-Bit-Rate", "64000")
		e.add("Channel-Write-Codec-Name", "PCMU")
		e.add("Channel-Write-Codec-Rate", "8000")
		e.add("Channel-Write-Codec-Bit-Rate", "64000")
	}
	c.prof.add(e, "Caller-", c.uuid, true, false)
	if c.otherProf != nil {
		e.add("Other-Type", c.otherType)
		c.otherProf.add(e, "Other-Leg-", c.otherUUID, false, c.otherType == "originator")
	}
	switch name {
	case "CHANNEL_OUTGOING", "DTMF", "CHANNEL_STATE":
	default:
		e.headers = append(e.headers, c.vars.list...)
	}
}

func (s *Server) fireLocked(name string, c *channel, pre ...Header) {
	s.emitLocked(s.chanEventLocked(name, c, pre...))
}

// setCallStateLocked changes Channel-Call-State and fires
// CHANNEL_CALLSTATE (not in the recordings' subscriptions; the headers
// follow switch_channel_perform_set_callstate).
func (s *Server) setCallStateLocked(c *channel, st string) {
	if c.callState == st {
		return
	}
	orig := c.callState
	c.callState = st
	s.fireLocked("CHANNEL_CALLSTATE", c,
		Header{"Original-Channel-Call-State", orig},
		Header{"Channel-Call-State-Number", strconv.Itoa(callStateNumber(st))})
}

func callStateNumber(st string) int {
	for i, n := range []string{"DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE", "HELD", "RING_WAIT", "HANGUP", "UNHELD"} {
		if n == st {
			return i
		}
	}
	return 0
}

// fireStateLocked fires CHANNEL_STATE for a running-state change.
func (s *Server) fireStateLocked(c *channel, state string, num int) {
	c.state, c.stateNum = state, num
	s.fireLocked("CHANNEL_STATE", c)
}

// ChannelInfo is a snapshot of one channel for tests.
type ChannelInfo struct {
	UUID        string
	Name        string
	Direction   string // inbound | outbound
	DialString  string // originated legs
	CallerID    string // Caller-Caller-ID-Number
	CallerName  string
	Destination string // Caller-Destination-Number
	State       string // Channel-Call-State
	Answered    bool
	HangupCause string // "" while up
	Gone        bool
	BridgedTo   string
	Held        bool
	Played      []string          // playbacks started on it, in order
	Recording   []string          // paths being recorded
	Variables   map[string]string // channel variables

	serial int
}

func (c *channel) infoLocked() ChannelInfo {
	in := ChannelInfo{
		UUID: c.uuid, Name: c.name, Direction: c.direction, DialString: c.dialString,
		CallerID: c.prof.cidNum, CallerName: c.prof.cidName, Destination: c.prof.dest,
		State: c.callState, Answered: c.answered, HangupCause: c.cause, Gone: c.gone,
		Held: c.held, Played: append([]string(nil), c.played...), serial: c.serial,
		Variables: make(map[string]string, len(c.vars.list)),
	}
	if c.bridge != nil {
		in.BridgedTo = c.bridge.uuid
	}
	for _, r := range c.records {
		in.Recording = append(in.Recording, r.path)
	}
	for _, h := range c.vars.list {
		in.Variables[h.Name[len(varPrefix):]] = h.Value
	}
	return in
}

// q850 maps the hang-up causes the emulator produces to their Q.850 codes.
var q850 = map[string]int{
	"UNALLOCATED_NUMBER": 1, "NO_ROUTE_DESTINATION": 3, "NORMAL_CLEARING": 16, "USER_BUSY": 17,
	"NO_USER_RESPONSE": 18, "NO_ANSWER": 19, "SUBSCRIBER_ABSENT": 20, "CALL_REJECTED": 21,
	"NUMBER_CHANGED": 22, "DESTINATION_OUT_OF_ORDER": 27, "INVALID_NUMBER_FORMAT": 28,
	"NORMAL_UNSPECIFIED": 31, "NORMAL_CIRCUIT_CONGESTION": 34, "NETWORK_OUT_OF_ORDER": 38,
	"NORMAL_TEMPORARY_FAILURE": 41, "SWITCH_CONGESTION": 42, "REQUESTED_CHAN_UNAVAIL": 44,
	"INCOMPATIBLE_DESTINATION": 88, "RECOVERY_ON_TIMER_EXPIRE": 102, "ORIGINATOR_CANCEL": 487,
	"MANAGER_REQUEST": 503, "ALLOTTED_TIMEOUT": 602, "USER_NOT_REGISTERED": 606,
	"LOSE_RACE": 502, "PICKED_OFF": 501, "BLIND_TRANSFER": 600, "ATTENDED_TRANSFER": 601,
	"CALL_AWARDED_DELIVERED": 7, "INVALID_GATEWAY": 608, "INVALID_PROFILE": 607,
	"MEDIA_TIMEOUT": 604, "GATEWAY_DOWN": 609, "EXCHANGE_ROUTING_ERROR": 25,
	"NORMAL_UNSPECIFIED_": 31, "BEARERCAPABILITY_NOTAVAIL": 58, "FACILITY_NOT_IMPLEMENTED": 69,
}

// knownCause says whether s is a cause name uuid_kill and hupall accept.
func knownCause(s string) bool {
	_, ok := q850[strings.ToUpper(s)]
	return ok
}

// q850Code is the hangup_cause_q850 FreeSWITCH reports: causes above 127
// are FreeSWITCH's own and carry the Q.850 code of what they map to.
func q850Code(cause string) int {
	switch cause {
	case "ORIGINATOR_CANCEL", "MANAGER_REQUEST", "LOSE_RACE", "PICKED_OFF":
		return 16
	case "USER_NOT_REGISTERED":
		return 20
	}
	if n, ok := q850[cause]; ok && n < 128 {
		return n
	}
	return 0
}
