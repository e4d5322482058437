package aritest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Handlers run with s.mu held. Error statuses, reason phrases and bodies
// are those of transcript 08 where it shows them; the others follow the
// ARI documents (api-docs) and are marked as such in the package doc.

// --- asterisk, applications, endpoints, sounds -----------------------------

func (s *Server) getInfo(c *call) reply {
	start := stamp(s.started)
	parts := map[string][]byte{
		"build": newObj(200).str("os", "Linux").str("kernel", "6.18.44-fc-v669").str("machine", "x86_64").
			str("options", "OPTIONAL_API").str("date", "2026-11-22 14:23:13 UTC").str("user", "root").done(),
		"system": newObj(80).str("version", "22.10.1").str("entity_id", s.opts.AsteriskID).done(),
		"config": newObj(120).str("name", "").str("default_language", "en").
			raw("setid", newObj(32).str("user", "").str("group", "").done()).done(),
		"status": newObj(120).str("startup_time", start).str("last_reload_time", start).done(),
	}
	only := splitList(c.q["only"])
	if len(only) == 0 {
		only = []string{"build", "system", "config", "status"}
	}
	o := newObj(512)
	for _, k := range only {
		if v, ok := parts[k]; ok {
			o = o.raw(k, v)
		}
	}
	return jsonReply(200, o.done())
}

func (s *Server) ping(*call) reply {
	return jsonReply(200, newObj(96).str("ping", "pong").str("timestamp", stamp(time.Now())).
		str("asterisk_id", s.opts.AsteriskID).done())
}

func (s *Server) getGlobal(c *call) reply {
	name := c.get("variable")
	if name == "" {
		return errReply(400, "", "Variable name is required")
	}
	// An unknown global reads as empty, with 200 (00).
	return jsonReply(200, newObj(32).str("value", s.globals[name]).done())
}

func (s *Server) setGlobal(c *call) reply {
	name := c.get("variable")
	if name == "" {
		return errReply(400, "", "Variable name is required")
	}
	s.globals[name] = c.get("value")
	return noContent()
}

func (s *Server) appJSON(a *app) []byte {
	chans := []string{}
	for _, ch := range s.chanList {
		if _, ok := a.channels[ch]; ok {
			chans = append(chans, ch.id)
		}
	}
	bridges := []string{}
	for _, b := range s.bridgeList {
		if _, ok := a.bridges[b]; ok {
			bridges = append(bridges, b.id)
		}
	}
	eps := make([]string, 0, len(a.endpoints))
	for e, n := range a.endpoints {
		if n > 0 {
			eps = append(eps, e)
		}
	}
	sort.Strings(eps)
	return newObj(160).str("name", a.name).strs("channel_ids", chans).strs("bridge_ids", bridges).
		strs("endpoint_ids", eps).strs("device_names", nil).raw("events_allowed", typeList(a.allowed)).
		raw("events_disallowed", typeList(a.disallowed)).done()
}

// typeList is an event filter list as Asterisk shows it: [{"type":T}].
func typeList(types []string) []byte {
	items := make([][]byte, 0, len(types))
	for _, t := range types {
		items = append(items, newObj(32).str("type", t).done())
	}
	return array(items)
}

// filterEvents sets an app's event filter (the ARI documents; no
// transcript shows it): the body is {"allowed":[{"type":T}…],
// "disallowed":[…]}; a list left out is unchanged, an empty body clears
// both.
func (s *Server) filterEvents(c *call) reply {
	a := s.apps[c.p[0]]
	if a == nil {
		return errReply(404, "", "Application not found")
	}
	if !c.q.Has("allowed") && !c.q.Has("disallowed") {
		a.allowed, a.disallowed = nil, nil
		return jsonReply(200, s.appJSON(a))
	}
	allowed, disallowed := a.allowed, a.disallowed
	for key, list := range map[string]*[]string{"allowed": &allowed, "disallowed": &disallowed} {
		if !c.q.Has(key) {
			continue
		}
		var items []struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(c.get(key)), &items); err != nil {
			return errReply(400, "", "Invalid filter: "+key)
		}
		*list = nil
		for _, it := range items {
			if it.Type == "" {
				return errReply(400, "", "Invalid filter: "+key)
			}
			*list = append(*list, it.Type)
		}
	}
	a.allowed, a.disallowed = allowed, disallowed
	return jsonReply(200, s.appJSON(a))
}

func (s *Server) listApps(*call) reply {
	var items [][]byte
	for _, n := range s.appNames() {
		items = append(items, s.appJSON(s.apps[n]))
	}
	return jsonReply(200, array(items))
}

func (s *Server) getAppJSON(c *call) reply {
	a := s.apps[c.p[0]]
	if a == nil {
		return errReply(404, "", "Application not found")
	}
	return jsonReply(200, s.appJSON(a))
}

// subscribe and unsubscribe handle eventSource=channel:ID, bridge:ID,
// endpoint:TECH[/RES] or endpoint: (every endpoint), one source or a
// comma-separated list, as checked with curl on 22.10.1:
//   - no eventSource: 400 "Missing parameter eventSource", before the app
//     is looked up; an unknown app: 404 "Application not found";
//   - the sources are taken in order, each subscribed (or unsubscribed)
//     before the next is looked at, and the first bad one answers for the
//     request: those before it stay done, those after it are not. A
//     scheme other than channel:, bridge:, endpoint: (an empty value
//     included): 400 "Invalid event source URI scheme"; on POST a source that does not exist
//     (PJSIP/nobody, a technology other than PJSIP, names are case
//     sensitive): 422 "Event source does not exist"; on DELETE one the app
//     is not subscribed to, existing or not: 422 "Event source was not
//     subscribed to" (the api-docs say 409; Asterisk answers 422);
//   - endpoint subscriptions are counted (see app.endpoints): a POST of one
//     already there is a 200 that adds one more;
//   - endpoint: subscribes to every endpoint, listed as
//     __AST_ENDPOINT_ALL_TOPIC; after it a POST of a single endpoint is a
//     200 that adds nothing, and DELETE of endpoint: is a 501 "Method not
//     implemented" (422 when not subscribed);
//   - success: 200 with the application, endpoint_ids sorted.
//
// Of a repeated eventSource parameter only the last one counts.
func (s *Server) subscribe(c *call) reply   { return s.subscription(c, true) }
func (s *Server) unsubscribe(c *call) reply { return s.subscription(c, false) }

func (s *Server) subscription(c *call, on bool) reply {
	vals := c.q["eventSource"]
	if len(vals) == 0 {
		return errReply(400, "", "Missing parameter eventSource")
	}
	a := s.apps[c.p[0]]
	if a == nil {
		return errReply(404, "", "Application not found")
	}
	// An app without a websocket stays registered when its last
	// subscription goes, with nothing (22.10.1): Asterisk drops apps when
	// a websocket closes, not here.
	for _, src := range strings.Split(vals[len(vals)-1], ",") {
		if rep, ok := s.subscribeOne(a, src, on); !ok {
			return rep // the sources before it stay done
		}
	}
	return jsonReply(200, s.appJSON(a))
}

// subscribeOne subscribes (on) or unsubscribes an app to one source.
func (s *Server) subscribeOne(a *app, src string, on bool) (reply, bool) {
	var (
		noSource  = errReply(422, "", "Event source does not exist")
		notSubbed = errReply(422, "", "Event source was not subscribed to")
	)
	scheme, id, ok := strings.Cut(src, ":")
	if !ok {
		scheme = "" // "endpoint" without its colon is no scheme
	}
	switch scheme {
	case "channel":
		ch := s.channels[id]
		switch {
		case on && ch == nil:
			return noSource, false
		case on:
			s.subscribeChannel(a, ch)
			if !contains(ch.explicit, a) {
				ch.explicit = append(ch.explicit, a)
			}
		case ch == nil || !contains(ch.subs, a):
			return notSubbed, false
		case ch.stasis != a:
			s.unsubscribeChannel(a, ch)
		}
	case "bridge":
		b := s.bridges[id]
		switch {
		case on && b == nil:
			return noSource, false
		case on:
			a.bridges[b] = struct{}{}
			if !contains(b.subs, a) {
				b.subs = append(b.subs, a)
			}
		case b == nil || !subscribedTo(a, b):
			return notSubbed, false
		default:
			delete(a.bridges, b)
		}
	case "endpoint":
		key := id
		if key == "" {
			key = allEndpoints
		}
		switch {
		case on && !s.endpointExists(id):
			return noSource, false
		case on && (key == allEndpoints || a.endpoints[allEndpoints] == 0):
			a.endpoints[key]++
		case on:
			// Once subscribed to every endpoint, a POST of one more is a
			// 200 that adds nothing (22.10.1).
		case a.endpoints[key] == 0:
			return notSubbed, false
		case key == allEndpoints:
			return errReply(501, "", "Method not implemented"), false
		default:
			if a.endpoints[key]--; a.endpoints[key] == 0 {
				delete(a.endpoints, key)
			}
		}
	default:
		return errReply(400, "", "Invalid event source URI scheme"), false
	}
	return reply{}, true
}

func subscribedTo(a *app, b *bridge) bool {
	_, ok := a.bridges[b]
	return ok
}

// endpointExists says whether an endpoint: source names something
// Asterisk has: "" (every endpoint), the technology "PJSIP", or a PJSIP
// endpoint. Names are case sensitive (pjsip/alice does not exist).
func (s *Server) endpointExists(id string) bool {
	tech, res, one := strings.Cut(id, "/")
	switch {
	case id == "":
		return true
	case tech != "PJSIP":
		return false
	case !one:
		return true
	}
	return res != "" && s.endpoints[id] != nil
}

func (s *Server) listEndpoints(*call) reply {
	items := make([][]byte, 0, len(s.epOrder))
	for _, k := range s.epOrder {
		items = append(items, s.endpointJSON(s.endpoints[k]))
	}
	return jsonReply(200, array(items))
}

func (s *Server) listEndpointsByTech(c *call) reply {
	if !strings.EqualFold(c.p[0], "PJSIP") {
		return errReply(404, "", "No Endpoints found - invalid tech "+c.p[0])
	}
	return s.listEndpoints(c)
}

func (s *Server) getEndpoint(c *call) reply {
	e := s.endpoints["PJSIP/"+c.p[1]]
	if e == nil || !strings.EqualFold(c.p[0], "PJSIP") {
		return errReply(404, "", "Endpoint not found")
	}
	return jsonReply(200, s.endpointJSON(e))
}

func (s *Server) listSounds(*call) reply { return jsonReply(200, []byte("[]")) }

func (s *Server) getSound(c *call) reply {
	if !s.opts.SoundExists(c.p[0]) {
		return errReply(404, "", "Sound not found")
	}
	formats := newObj(40).str("language", "en").str("format", "slin").done()
	return jsonReply(200, newObj(80).str("id", c.p[0]).raw("formats", array([][]byte{formats})).done())
}

// --- channels ---------------------------------------------------------------

func (s *Server) listChannels(*call) reply {
	items := make([][]byte, 0, len(s.chanList))
	for _, ch := range s.chanList {
		items = append(items, ch.json())
	}
	return jsonReply(200, array(items))
}

func (s *Server) getChannel(c *call) reply {
	ch := s.channels[c.p[0]]
	if ch == nil {
		return errChannelNotFound
	}
	return jsonReply(200, ch.json())
}

// control finds a channel that is in Stasis, as ARI's find_control does.
func (s *Server) control(id string) (*channel, reply, bool) {
	ch := s.channels[id]
	if ch == nil {
		return nil, errChannelNotFound, false
	}
	if ch.stasis == nil {
		return nil, errReply(409, "", "Channel not in Stasis application"), false
	}
	return ch, reply{}, true
}

func splitArgs(v string) []string {
	if v == "" {
		return []string{}
	}
	return strings.Split(v, ",")
}

// allocate makes a PJSIP channel for a dial string, or fails as
// ast_request does: 500 {"error":"Allocation failed"} (08).
func (s *Server) allocate(dial, id string) (*channel, reply, bool) {
	tech, resource, dialstring, ok := splitDial(dial)
	if !ok {
		return nil, errReply(400, "", "Invalid endpoint specified"), false
	}
	if !strings.EqualFold(tech, "PJSIP") {
		return nil, errAllocFailed, false
	}
	e := s.endpoints["PJSIP/"+resource]
	if e == nil || !e.online {
		return nil, errAllocFailed, false
	}
	now := time.Now()
	if id == "" {
		id = s.nextID(now)
	} else {
		s.seq++ // a chosen id still takes a sequence number (04a)
	}
	peer := e.peer
	if p, ok := s.peers["PJSIP/"+dialstring]; ok {
		peer = p
	}
	ch := &channel{
		id: id, name: fmt.Sprintf("PJSIP/%s-%08x", resource, s.nameSeq), state: "Down",
		protocolID: uuid(), context: s.opts.OutboundContext, exten: "s", priority: 1,
		creation: stamp(now), vars: map[string]string{}, endpoint: e, dialstring: dialstring,
		peer: peer, ssrc: randSSRC(),
	}
	s.nameSeq++
	return ch, reply{}, true
}

func (s *Server) idInUse(c *call, id string) bool {
	if id != "" && s.channels[id] != nil {
		return true
	}
	other := c.get("otherChannelId")
	return other != "" && s.channels[other] != nil
}

// originate is POST /channels and POST /channels/{channelId}: 200 with
// the channel Down, then Dial("") after the response, then the far end's
// script.
func (s *Server) originate(c *call) reply {
	endpoint := c.get("endpoint")
	if endpoint == "" {
		return errReply(400, "", "Endpoint must be specified")
	}
	appName := c.get("app")
	if appName == "" {
		if c.get("extension") != "" {
			return errReply(501, "", "aritest: originating into the dialplan is not emulated")
		}
		return errReply(400, "", "Application or extension must be specified")
	}
	id := c.get("channelId")
	if len(c.p) > 0 {
		id = c.p[0]
	}
	if s.idInUse(c, id) {
		return errReply(409, "", "Channel with given unique ID already exists")
	}
	timeout, ok := c.intParam("timeout", 30)
	if !ok {
		return errReply(400, "", "Invalid timeout")
	}
	ch, rep, ok := s.allocate(endpoint, id)
	if !ok {
		return rep
	}
	ch.kind = kindOriginated
	ch.cid = parseCallerID(c.get("callerId"))
	ch.connected = ch.cid
	ch.appName, ch.appData = "AppDial2", "(Outgoing Line)"
	// Variables are set before the channel is published: no events, but
	// CALLERID(...) overrides callerId (09).
	for _, kv := range c.vars {
		if !ch.setCallerIDVar(kv[0], kv[1]) {
			ch.vars[kv[0]] = kv[1]
		}
	}
	ch.origApp = appName
	ch.origArgs = splitArgs(c.get("appArgs"))
	a := s.getApp(appName)
	s.registerChannel(ch)
	s.subscribeChannel(a, ch)
	ch.explicit = []*app{a}
	var d time.Duration
	if timeout > 0 {
		d = time.Duration(timeout) * s.opts.TimeoutUnit
	}
	rep = jsonReply(200, ch.json())
	rep.after = []func(){func() { s.startDial(ch, d) }}
	return rep
}

// create is POST /channels/create: the channel enters Stasis at once
// (ChannelVarset*, ChannelDialplan, STASISSTATUS, StasisStart, all before
// the response, which still shows the channel outside any application).
func (s *Server) create(c *call) reply {
	endpoint := c.get("endpoint")
	if endpoint == "" {
		return errReply(400, "", "Endpoint must be specified")
	}
	appName := c.get("app")
	if appName == "" {
		return errReply(400, "", "Application must be specified")
	}
	id := c.get("channelId")
	if s.idInUse(c, id) {
		return errReply(409, "", "Channel with given unique ID already exists")
	}
	ch, rep, ok := s.allocate(endpoint, id)
	if !ok {
		return rep
	}
	ch.kind = kindCreated
	ch.created = true
	a := s.getApp(appName)
	s.registerChannel(ch)
	s.subscribeChannel(a, ch)
	ch.explicit = []*app{a}
	body := ch.json()
	for _, kv := range c.vars {
		if ch.setCallerIDVar(kv[0], kv[1]) {
			s.callerIDEvent(ch)
		} else if ch.setConnectedVar(kv[0], kv[1]) {
			// As 22.10.1 shows it: the INVITE's From, and the
			// channel's connected line.
			s.chanEvent(ch, "ChannelConnectedLine", nil)
		} else {
			s.varset(ch, kv[0], kv[1])
		}
	}
	args := splitArgs(c.get("appArgs"))
	ch.appName = "Stasis"
	ch.appData = strings.Join(append([]string{appName}, args...), ",")
	s.chanEvent(ch, "ChannelDialplan", func(o obj) obj {
		return o.str("dialplan_app", "Stasis").str("dialplan_app_data", ch.appData)
	})
	s.varset(ch, "STASISSTATUS", "")
	s.enterStasis(ch, a, args)
	// The originator's events now reach the app too, up to its
	// ChannelDestroyed (09).
	if o := s.channels[c.get("originator")]; o != nil {
		s.subscribeChannel(a, o)
		if !contains(o.explicit, a) {
			o.explicit = append(o.explicit, a)
		}
	}
	return jsonReply(200, body)
}

func (s *Server) dial(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	if ch.kind != kindCreated || ch.dialCount > 0 || ch.dialing {
		return errReply(409, "", "Channel cannot be dialed")
	}
	timeout, ok := c.intParam("timeout", 0)
	if !ok {
		return errReply(400, "", "Invalid timeout")
	}
	if callerID := c.get("caller"); callerID != "" {
		caller := s.channels[callerID]
		if caller == nil {
			return errReply(404, "", "Caller channel not found")
		}
		if ch.connected != caller.cid {
			ch.connected = caller.cid
			s.chanEvent(ch, "ChannelConnectedLine", nil)
		}
	}
	var d time.Duration
	if timeout > 0 {
		d = time.Duration(timeout) * s.opts.TimeoutUnit
	}
	rep = noContent()
	rep.after = []func(){func() { s.startDial(ch, d) }}
	return rep
}

func (s *Server) hangupChannel(c *call) reply {
	ch := s.channels[c.p[0]]
	if ch == nil {
		return errChannelNotFound
	}
	cause := 16
	if rc := c.get("reason_code"); rc != "" {
		n, err := strconv.Atoi(rc)
		if err != nil {
			return errReply(400, "Invalid Reason", "Invalid reason for hangup reason provided")
		}
		cause = n
	} else if reason := c.get("reason"); reason != "" {
		n, ok := hangupReasons[reason]
		if !ok {
			return errReply(400, "Invalid Reason", "Invalid reason for hangup reason provided")
		}
		cause = n
	}
	s.hangup(ch, hangup{kind: byApp, cause: cause, dialStatus: "NOANSWER"})
	return noContent()
}

func (s *Server) answer(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	if ch.state != "Up" {
		ch.state = "Up"
		ch.answered = true
		s.chanEvent(ch, "ChannelStateChange", nil)
		if ch.caller != nil {
			ch.sdpSent = true
			ch.caller.onAnswer(ch)
		}
	}
	return noContent()
}

func (s *Server) ring(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	ch.ringing = true
	if ch.caller != nil && ch.state != "Up" {
		// Once an SDP went out (early media), chan_pjsip sends 183 again.
		if ch.sdpSent {
			ch.caller.signal("183 Session Progress")
		} else {
			ch.caller.signal("180 Ringing")
		}
	}
	return noContent()
}

func (s *Server) ringStop(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	ch.ringing = false
	return noContent()
}

func (s *Server) mohStart(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	ch.moh = true
	if ch.caller != nil && ch.state != "Up" {
		ch.sdpSent = true
		ch.caller.signal("183 Session Progress")
	}
	return noContent()
}

func (s *Server) mohStop(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	ch.moh = false
	return noContent()
}

func (s *Server) noop(c *call) reply {
	if _, rep, ok := s.control(c.p[0]); !ok {
		return rep
	}
	return noContent()
}

func (s *Server) sendDTMF(c *call) reply {
	digits := c.get("dtmf")
	if digits == "" {
		return errReply(400, "", "DTMF is required")
	}
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	ch.dtmfSent += digits
	if ch.caller != nil {
		ch.caller.notify()
	}
	return noContent()
}

func (s *Server) getVariable(c *call) reply {
	name := c.get("variable")
	if name == "" {
		return errReply(400, "", "Variable name is required")
	}
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	v, found := ch.getVar(name)
	if !found {
		return errReply(404, "Variable Not Found", "Provided variable was not found")
	}
	return jsonReply(200, newObj(64).str("value", v).done())
}

// setVariable answers 204 first; ChannelVarset (or ChannelCallerId for
// CALLERID(...)) follows, as in both recorded runs.
func (s *Server) setVariable(c *call) reply {
	name := c.get("variable")
	if name == "" {
		return errReply(400, "", "Variable name is required")
	}
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	value := c.get("value")
	rep = noContent()
	if ch.setCallerIDVar(name, value) {
		rep.after = []func(){func() {
			if !ch.dead {
				s.callerIDEvent(ch)
			}
		}}
		return rep
	}
	ch.vars[name] = value
	rep.after = []func(){func() {
		if !ch.dead {
			s.varset(ch, name, value)
		}
	}}
	return rep
}

// continueInDialplan leaves Stasis; the recorded dialplans end with
// Hangup() after Stasis(), so the channel then hangs up.
func (s *Server) continueInDialplan(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	a := ch.stasis
	s.chanEvent(ch, "StasisEnd", nil)
	ch.stasis = nil
	if !contains(ch.explicit, a) {
		s.unsubscribeChannel(a, ch)
	}
	s.hangup(ch, hangup{kind: byApp, cause: 16})
	return noContent()
}

var snoopDirs = map[string]bool{"none": true, "both": true, "out": true, "in": true}

// snoop creates a Snoop channel: 200 with it (state Up, context default),
// then, after the response, the spied bridge's peer variables twice and
// StasisStart (07).
func (s *Server) snoop(c *call) reply {
	target := s.channels[c.p[0]]
	if target == nil {
		return errChannelNotFound
	}
	appName := c.get("app")
	if appName == "" {
		return errReply(400, "", "Application name is required")
	}
	spy, whisper := c.get("spy"), c.get("whisper")
	if spy == "" {
		spy = "none"
	}
	if whisper == "" {
		whisper = "none"
	}
	if !snoopDirs[spy] || !snoopDirs[whisper] || (spy == "none" && whisper == "none") {
		return errReply(400, "", "Invalid parameters")
	}
	id := c.get("snoopId")
	if len(c.p) > 1 {
		id = c.p[1]
	}
	if id != "" && s.channels[id] != nil {
		return errReply(409, "", "Channel with given unique ID already exists")
	}
	now := time.Now()
	if id == "" {
		id = s.nextID(now)
	} else {
		s.seq++
	}
	s.snoopSeq++
	sn := &channel{
		id: id, name: fmt.Sprintf("Snoop/%s-%08x", target.id, s.snoopSeq), kind: kindSnoop, state: "Up",
		context: "default", exten: "s", priority: 1, creation: stamp(now), vars: map[string]string{},
		spied: target, whisper: whisper,
	}
	target.snoops = append(target.snoops, sn)
	s.registerChannel(sn)
	a := s.getApp(appName)
	args := splitArgs(c.get("appArgs"))
	rep := jsonReply(200, sn.json())
	rep.after = []func(){func() {
		if sn.dead {
			return
		}
		if target.bridge != nil && !target.dead {
			s.reconfigure(target.bridge)
			s.reconfigure(target.bridge)
		}
		s.enterStasis(sn, a, args)
	}}
	return rep
}

// --- playbacks ----------------------------------------------------------------

func (s *Server) newPlayback(c *call, pl *player, target string, pathID int) (*playback, reply, bool) {
	media := splitList(c.q["media"])
	if len(media) == 0 {
		return nil, errReply(500, "", "Failed to queue media for playback"), false
	}
	id := c.get("playbackId")
	if len(c.p) > pathID {
		id = c.p[pathID]
	}
	if id == "" {
		id = uuid()
	}
	lang := c.get("lang")
	if lang == "" {
		lang = "en"
	}
	p := &playback{id: id, media: media, target: target, language: lang, state: "queued", pl: pl}
	s.playbacks[id] = append(s.playbacks[id], p)
	pl.queue = append(pl.queue, p)
	rep := jsonReply(201, p.json("queued"))
	rep.hdr = [][2]string{{"Location", "/ari/playbacks/" + id}}
	return p, rep, true
}

// startAfter starts a queued playback after the response, except a
// missing sound file, which fails before it (08).
func (s *Server) startAfter(p *playback, rep *reply) {
	scheme, rest, _ := strings.Cut(p.media[0], ":")
	missing := scheme == "sound" && !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "https://") &&
		(rest == "" || !s.opts.SoundExists(rest))
	if missing {
		s.pump(p.pl)
		return
	}
	rep.after = append(rep.after, func() { s.pump(p.pl) })
}

func (s *Server) playChannel(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	p, rep, ok := s.newPlayback(c, &ch.player, "channel:"+ch.id, 1)
	if !ok {
		return rep
	}
	p.ch = ch
	s.startAfter(p, &rep)
	return rep
}

func (s *Server) playBridge(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	if len(splitList(c.q["media"])) > 0 && b.announcer == nil {
		b.announcer = s.addInternal(b, "Announcer/ARI")
	}
	p, rep, ok := s.newPlayback(c, &b.player, "bridge:"+b.id, 1)
	if !ok {
		return rep
	}
	p.br = b
	s.startAfter(p, &rep)
	return rep
}

func (s *Server) getPlayback(c *call) reply {
	q := s.playbacks[c.p[0]]
	if len(q) == 0 {
		return errReply(404, "", "Playback not found")
	}
	return jsonReply(200, q[0].json(q[0].state))
}

// stopPlayback stops the first playback with that id: PlaybackFinished
// "done" (there is no "canceled"), and the next queued one starts.
func (s *Server) stopPlayback(c *call) reply {
	q := s.playbacks[c.p[0]]
	if len(q) == 0 {
		return errReply(404, "", "Playback not found")
	}
	p := q[0]
	if p.pl.playing == p {
		s.endPlayback(p, "done")
		return noContent()
	}
	for i, x := range p.pl.queue {
		if x == p {
			p.pl.queue = append(p.pl.queue[:i], p.pl.queue[i+1:]...)
			break
		}
	}
	p.stop()
	s.removePlayback(p)
	return noContent()
}

// --- recordings ---------------------------------------------------------------

var recordFormats = map[string]string{
	"wav": "audio/wav", "wav16": "audio/wav", "gsm": "audio/gsm", "ulaw": "audio/basic",
	"alaw": "audio/x-alaw-basic", "sln": "audio/x-slin", "g722": "audio/G722", "g729": "audio/G729",
}

func (s *Server) newRecording(c *call, target string) (*recording, reply, bool) {
	name, format := c.get("name"), c.get("format")
	if name == "" || format == "" {
		return nil, errReply(400, "", "Error parsing request"), false
	}
	if _, ok := recordFormats[format]; !ok {
		return nil, errReply(422, "", "Unknown format: "+format), false
	}
	ifExists := c.get("ifExists")
	switch ifExists {
	case "", "fail", "overwrite", "append":
	default:
		return nil, errReply(400, "", "ifExists invalid"), false
	}
	if s.live[name] != nil || ((ifExists == "" || ifExists == "fail") && s.stored[name] != nil) {
		return nil, errReply(409, "", "Recording '"+name+"' already exists and can not be overwritten"), false
	}
	r := &recording{name: name, format: format, target: target, state: "queued", terminateOn: c.get("terminateOn")}
	return r, reply{}, true
}

func (s *Server) startRecording(r *recording, maxSecs int) {
	r.state = "recording"
	r.started = time.Now()
	s.recordingEvent(r, "RecordingStarted", nil)
	if maxSecs > 0 {
		r.timer = time.AfterFunc(time.Duration(maxSecs)*s.opts.TimeoutUnit, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.closed {
				s.finishRecording(r, "done")
			}
		})
	}
}

func recordReply(r *recording) reply {
	rep := jsonReply(201, r.json())
	rep.hdr = [][2]string{{"Location", "/ari/recordings/live/" + r.name}}
	return rep
}

// recordChannel: a channel in a bridge cannot be recorded: 201, then
// RecordingFailed at once (08).
func (s *Server) recordChannel(c *call) reply {
	ch, rep, ok := s.control(c.p[0])
	if !ok {
		return rep
	}
	r, rep, ok := s.newRecording(c, "channel:"+ch.id)
	if !ok {
		return rep
	}
	maxSecs, _ := c.intParam("maxDurationSeconds", 0)
	r.ch = ch
	rep = recordReply(r)
	if ch.bridge != nil {
		rep.after = []func(){func() {
			r.state = "failed"
			s.recordingEvent(r, "RecordingFailed", func(o obj) obj { return o.str("cause", "Cannot record channel while in bridge") })
		}}
		return rep
	}
	s.live[r.name] = r
	ch.rec = r
	rep.after = []func(){func() {
		if ch.dead || s.live[r.name] != r {
			return
		}
		s.startRecording(r, maxSecs)
	}}
	return rep
}

// recordBridge: a Recorder channel joins the bridge (peer variables
// before the 201), RecordingStarted after it (07).
func (s *Server) recordBridge(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	r, rep, ok := s.newRecording(c, "bridge:"+b.id)
	if !ok {
		return rep
	}
	maxSecs, _ := c.intParam("maxDurationSeconds", 0)
	r.br = b
	s.live[r.name] = r
	b.rec = r
	r.internal = s.addInternal(b, "Recorder/ARI")
	rep = recordReply(r)
	rep.after = []func(){func() {
		if b.dead || s.live[r.name] != r {
			return
		}
		s.startRecording(r, maxSecs)
	}}
	return rep
}

func (s *Server) getLive(c *call) reply {
	r := s.live[c.p[0]]
	if r == nil {
		return errReply(404, "", "Recording not found")
	}
	return jsonReply(200, r.json())
}

// stopLive: 204; the recording is gone from live and stored at once,
// RecordingFinished follows the response (07).
func (s *Server) stopLive(c *call) reply   { return s.endLive(c, "done") }
func (s *Server) cancelLive(c *call) reply { return s.endLive(c, "canceled") }

// pauseLive and unpauseLive: a live recording pauses (state "paused")
// and goes on; 404 when there is none, 409 when it is not recording.
func (s *Server) pauseLive(c *call) reply   { return s.setPaused(c, "recording", "paused") }
func (s *Server) unpauseLive(c *call) reply { return s.setPaused(c, "paused", "recording") }

func (s *Server) setPaused(c *call, from, to string) reply {
	r := s.live[c.p[0]]
	if r == nil {
		return errReply(404, "", "Recording not found")
	}
	if r.state != from && r.state != to {
		return errReply(409, "", "Recording not in session")
	}
	r.state = to
	return noContent()
}

func (s *Server) endLive(c *call, state string) reply {
	r := s.live[c.p[0]]
	if r == nil {
		return errReply(404, "", "Recording not found")
	}
	delete(s.live, r.name)
	if state == "done" && (r.state == "recording" || r.state == "paused") {
		s.stored[r.name] = &storedRecording{name: r.name, format: r.format, dur: time.Since(r.started)}
	}
	rep := noContent()
	rep.after = []func(){func() {
		if r.state == "queued" { // stopped before it started: nothing was recorded
			r.state = "recording"
			r.started = time.Now()
		}
		s.finishRecording(r, state)
	}}
	return rep
}

func storedJSON(st *storedRecording) []byte {
	return newObj(64).str("name", st.name).str("format", st.format).done()
}

func (s *Server) listStored(*call) reply {
	names := make([]string, 0, len(s.stored))
	for n := range s.stored {
		names = append(names, n)
	}
	sort.Strings(names)
	items := make([][]byte, 0, len(names))
	for _, n := range names {
		items = append(items, storedJSON(s.stored[n]))
	}
	return jsonReply(200, array(items))
}

func (s *Server) getStored(c *call) reply {
	st := s.stored[c.p[0]]
	if st == nil {
		return errReply(404, "", "Recording not found")
	}
	return jsonReply(200, storedJSON(st))
}

func (s *Server) deleteStored(c *call) reply {
	if s.stored[c.p[0]] == nil {
		return errReply(404, "", "Recording not found")
	}
	delete(s.stored, c.p[0])
	return noContent()
}

// getStoredFile serves the recorded length of silence, or of a voice when
// a speaking caller was recorded; wav as a RIFF file, other formats as
// raw bytes of the same size.
func (s *Server) getStoredFile(c *call) reply {
	st := s.stored[c.p[0]]
	if st == nil {
		return errReply(404, "", "Recording not found")
	}
	body := wav(st.dur, st.voiced)
	if st.format != "wav" {
		body = body[44:]
	}
	return reply{status: 200, body: body, ctype: recordFormats[st.format]}
}

// --- bridges ------------------------------------------------------------------

func (s *Server) listBridges(*call) reply {
	items := make([][]byte, 0, len(s.bridgeList))
	for _, b := range s.bridgeList {
		items = append(items, b.json())
	}
	return jsonReply(200, array(items))
}

func (s *Server) getBridge(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	return jsonReply(200, b.json())
}

// createBridge is POST /bridges and POST /bridges/{bridgeId}; the latter
// on an existing bridge is an update, as in resource_bridges.c.
func (s *Server) createBridge(c *call) reply {
	id := c.get("bridgeId")
	if len(c.p) > 0 {
		id = c.p[0]
		if b := s.bridges[id]; b != nil {
			if name := c.get("name"); name != "" && name != b.name {
				return errReply(500, "Internal Error", "Changing bridge name is not implemented")
			}
			if c.get("type") != "" {
				return errReply(500, "Internal Error", "Supplying a bridge type when updating a bridge is not allowed.")
			}
			return jsonReply(200, b.json())
		}
	}
	typ, ok := parseBridgeType(c.get("type"))
	if !ok || (id != "" && s.bridges[id] != nil) {
		shown := id
		if shown == "" {
			shown = "(null)" // printf of a NULL id, as recorded
		}
		return errReply(500, "Internal Error", "Unable to create bridge. Possible duplicate bridge id '"+shown+"'")
	}
	b := s.newBridge(id, c.get("name"), typ)
	return jsonReply(200, b.json())
}

func (s *Server) deleteBridge(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	s.destroyBridge(b)
	return noContent()
}

// addChannel: a channel already in a bridge (this one included) leaves it
// first: ChannelLeftBridge then ChannelEnteredBridge (08).
func (s *Server) addChannel(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	ids := splitList(c.q["channel"])
	if len(ids) == 0 {
		return errReply(400, "", "Missing parameter channel")
	}
	chans := make([]*channel, 0, len(ids))
	for _, id := range ids {
		ch := s.channels[id]
		if ch == nil {
			return errReply(400, "", "Channel not found")
		}
		if ch.stasis == nil {
			return errReply(422, "", "Channel not in Stasis application")
		}
		chans = append(chans, ch)
	}
	for _, ch := range chans {
		if ch.bridge != nil {
			s.leaveBridge(ch)
		}
		s.joinBridge(ch, b)
	}
	return noContent()
}

func (s *Server) removeChannel(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	ids := splitList(c.q["channel"])
	if len(ids) == 0 {
		return errReply(400, "", "Missing parameter channel")
	}
	chans := make([]*channel, 0, len(ids))
	for _, id := range ids {
		ch := s.channels[id]
		if ch == nil {
			return errReply(400, "", "Channel not found")
		}
		if ch.bridge != b {
			return errReply(422, "", "Channel not in this bridge")
		}
		chans = append(chans, ch)
	}
	for _, ch := range chans {
		s.leaveBridge(ch)
	}
	return noContent()
}

// bridgeMOHStart: an Announcer/ARI_MOH channel joins the bridge, which
// shows only as a BRIDGEPEER change on its channels (06).
func (s *Server) bridgeMOHStart(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	if b.moh == nil {
		b.moh = s.addInternal(b, "Announcer/ARI_MOH")
	}
	return noContent()
}

func (s *Server) bridgeMOHStop(c *call) reply {
	b := s.bridges[c.p[0]]
	if b == nil {
		return errBridgeNotFound
	}
	if b.moh != nil {
		s.removeInternal(b, b.moh)
		b.moh = nil
	}
	return noContent()
}
