// Package ari drives Asterisk through its REST Interface: it implements
// dialplan.MediaServer with a small client of our own (net/http for REST,
// gorilla/websocket for events), hands every call that enters our Stasis
// application to the engine, and feeds device presence to the ACD.
//
// Why not github.com/CyCoreSystems/ari: it sets no HTTP timeout, drops
// events when a subscriber falls behind and races on its connected flag;
// the driver needs every event of a call in order, a deadline on every
// request and a reconnect it controls. ARI is plain REST and JSON events,
// so the client we need is a few hundred lines.
package ari

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/internal/link"
	"github.com/switchboard/switchboard/phone"
)

// Config says how to reach Asterisk.
type Config struct {
	URL      string // http://127.0.0.1:8088 (ARI is under /ari)
	User     string
	Password string
	App      string // the Stasis application: Stasis(switchboard,${EXTEN})
	// Trunk turns an external number into a dial string: "PJSIP/%s@trunk".
	Trunk string
	// Country reads national numbers (the dialled extension, a caller's
	// number) into E.164.
	Country string
	Audio   dialplan.AudioSource
	Logger  *slog.Logger
	// RequestTimeout bounds every REST request (5 s when zero), the wait
	// for a free connection included.
	RequestTimeout time.Duration
	// MaxConnections bounds the HTTP connections to ARI
	// (DefaultMaxConnections when zero; see there why).
	MaxConnections int
	// Devices lists the devices of every user (their dial strings:
	// "PJSIP/alice", "PJSIP/sipp/sip:alice@10.0.0.5"). The driver follows
	// the state of the endpoints they name, and of no other, for device
	// presence (see presence.go). Nil: no endpoint is followed, and
	// presence is read at each connect only.
	Devices func(ctx context.Context) ([]string, error)
	// DeviceRefresh is how often Devices is read again, so that a device
	// added through the API gets presence soon (DefaultDeviceRefresh when
	// zero).
	DeviceRefresh time.Duration
	// Observe, when set, is told of every REST request once it is
	// answered (or failed): its route ("POST /channels/{id}/play/{id}",
	// ids taken out so that the names are few), how long it took and its
	// error. It runs on the request's goroutine: it must be quick.
	Observe func(route string, d time.Duration, err error)
}

// DefaultDeviceRefresh is Config.DeviceRefresh when zero.
const DefaultDeviceRefresh = 15 * time.Second

// Driver is the Asterisk media server.
type Driver struct {
	cfg    Config
	rest   *client
	log    *slog.Logger
	ws     string // events URL
	online atomic.Bool

	mu         sync.Mutex
	legs       map[string]*leg          // channel id → leg
	playbacks  map[string]string        // playback id → channel id
	recordings map[string]liveRecording // by name
	bridges    map[string][]string      // bridge id → its channels
	// stateEvents counts EndpointStateChange events by endpoint, so that
	// a state read over REST is not applied over a newer event's.
	stateEvents map[string]uint64

	// subMu makes one subscription sync at a time (a connect's or a
	// refresh's), and guards what they remember between runs.
	subMu   sync.Mutex
	unknown map[string]bool // endpoints Asterisk refused as unknown: logged once
	warned  map[string]bool // other warnings given once
}

// leg is a channel the driver follows.
type leg struct {
	sink     dialplan.Sink
	inbound  bool   // entered Stasis from the dialplan: ends with StasisEnd
	snoop    string // for a supervisor's phone: the snoop channel to join
	spied    string // and the agent's channel it spies on
	answered bool
	cause    dialplan.Cause
	bridge   string
	ringing  bool // hears a ringing tone of ours (Ring) until it is bridged
	consult  bool // a warm transfer's target: the agent (spied) hears silence of ours meanwhile
	// An originated leg is answered for the engine once it is up and in
	// our Stasis app (StasisStart may follow the Dial's ANSWER): only
	// then can it be bridged.
	up, inStasis bool
}

// New makes a driver; Run connects it.
func New(cfg Config) *Driver {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	if cfg.Audio == nil {
		cfg.Audio = dialplan.BuiltinAudio{}
	}
	if cfg.Trunk == "" {
		cfg.Trunk = "PJSIP/%s@trunk"
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.DeviceRefresh <= 0 {
		cfg.DeviceRefresh = DefaultDeviceRefresh
	}
	ws := strings.Replace(strings.TrimRight(cfg.URL, "/"), "http", "ws", 1) + "/ari/events?" +
		url.Values{"app": {cfg.App}, "subscribeAll": {"false"}}.Encode()
	rest := newClient(cfg.URL, cfg.User, cfg.Password, cfg.RequestTimeout, cfg.MaxConnections)
	rest.observe = cfg.Observe
	return &Driver{cfg: cfg, rest: rest,
		log: cfg.Logger.With("media", "asterisk"), ws: ws, legs: map[string]*leg{}, playbacks: map[string]string{},
		recordings: map[string]liveRecording{}, bridges: map[string][]string{}, stateEvents: map[string]uint64{},
		unknown: map[string]bool{}, warned: map[string]bool{}}
}

// Ready says whether the event link to Asterisk is up, for /readyz.
func (d *Driver) Ready(ctx context.Context) error {
	if !d.online.Load() {
		return fmt.Errorf("no ARI event link to %s", d.cfg.URL)
	}
	return nil
}

// Run keeps the event link up until ctx ends: connect, settle what
// changed while away, read events; on a drop, reconnect with backoff.
func (d *Driver) Run(ctx context.Context, h dialplan.Calls, p dialplan.Presence) error {
	link.Keep(ctx, func(ctx context.Context) (bool, error) {
		defer d.online.Store(false)
		err := d.session(ctx, h, p)
		return d.online.Load(), err
	}, func(err error, retry time.Duration) {
		d.log.Warn("ARI event link down; reconnecting", "err", err, "in", retry)
	})
	return nil
}

// session is one websocket connection's life.
func (d *Driver) session(ctx context.Context, h dialplan.Calls, p dialplan.Presence) error {
	header := http.Header{}
	header.Set("Authorization", "Basic "+basicAuth(d.cfg.User, d.cfg.Password))
	dialer := websocket.Dialer{HandshakeTimeout: d.cfg.RequestTimeout}
	conn, res, err := dialer.DialContext(ctx, d.ws, header)
	if err != nil {
		if res != nil {
			return fmt.Errorf("ARI events: %s: %w", res.Status, err)
		}
		return fmt.Errorf("ARI events: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	d.filterEvents(ctx)
	// Subscribed: events flow from now on. What happened while we were
	// away is read now, so nothing is missed in between.
	if err := d.resync(ctx, h, p); err != nil {
		return err
	}
	d.online.Store(true)
	d.log.Info("ARI event link up", "url", d.cfg.URL, "app", d.cfg.App)
	if d.cfg.Devices != nil {
		// Devices added or removed through the API: followed, or no
		// longer, within a refresh. The refresh ends with the session, so
		// that the next connect's sync runs alone.
		refresh, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { d.refreshDevices(refresh, p) })
		defer wg.Wait()
		defer stop()
	}
	for {
		_, frame, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("ARI events: %w", err)
		}
		e, err := parseEvent(frame)
		if err != nil {
			d.log.Warn("unreadable ARI event", "err", err)
			continue
		}
		if e.Type == "ApplicationReplaced" {
			return errors.New("ARI events: another connection took the application")
		}
		d.dispatch(e, h, p)
	}
}

// resync settles what changed while the event link was down (see
// linkloss.go for what Asterisk does meanwhile), so that the engine
// hears what it missed, as from the FreeSWITCH driver's resync: a
// channel gone (the caller hung up, or Asterisk restarted) is reported
// hung up, so its call ends and is recorded; a phone answered meanwhile
// is reported answered; a playback or a recording that ended meanwhile
// is reported done, so that a flow waiting for it moves on; a channel
// that entered our Stasis app unseen is taken (a caller as a new call).
// Digits pressed meanwhile are lost. One difference with FreeSWITCH
// stays: a new caller cannot wait for switchboard, Stasis() failing
// while no websocket holds the app; the dialplan gives them the
// fallback instead. The devices' endpoints are subscribed to (and
// nothing else), then device presence is read afresh: after, so that a
// change in between comes as an event. It runs before the new link's
// events are read: what they tell after it is no news (a leg answered
// twice, a playback ended twice) and is dropped by their handlers.
func (d *Driver) resync(ctx context.Context, h dialplan.Calls, p dialplan.Presence) error {
	// The legs to settle are those followed before the channels are
	// listed: one originated since may be missing from the list only for
	// being newer.
	d.mu.Lock()
	known := make(map[string]bool, len(d.legs))
	for id := range d.legs {
		known[id] = true
	}
	d.mu.Unlock()
	var live []liveChannel
	if err := d.rest.do(ctx, http.MethodGet, "/channels", nil, nil, &live); err != nil {
		return err
	}
	if err := d.settleChannels(ctx, known, live, h); err != nil {
		return err
	}
	if err := d.settleMedia(ctx); err != nil {
		return err
	}
	d.syncSubscriptions(ctx)
	var endpoints []endpoint
	if err := d.rest.do(ctx, http.MethodGet, "/endpoints", nil, nil, &endpoints); err != nil {
		return err
	}
	if p != nil {
		for _, e := range endpoints {
			p.SetPresence(e.dialString(), e.State == "online")
		}
	}
	return nil
}

// handlers are the ARI events the driver acts on, by type. They are
// also the only types Asterisk is asked to send (see filterEvents): on a
// real Asterisk half of a call's events are ChannelVarset, which the
// driver would decode only to drop.
//
// Each handler takes an event it has seen already as a no-op: an agent's
// leg is in our Stasis and on an endpoint we subscribe to for presence,
// and Asterisk then sends each of its events twice (presence.go). An
// answer is reported once, a hang-up forgets the leg, a playback or a
// recording is forgotten when it finishes.
var handlers = map[string]func(d *Driver, e event, h dialplan.Calls, p dialplan.Presence){
	"StasisStart": func(d *Driver, e event, h dialplan.Calls, _ dialplan.Presence) { d.stasisStart(e, h) },
	"ChannelDtmfReceived": func(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
		d.post(e.Channel.ID, dialplan.Event{Kind: dialplan.EvDigit, Digit: e.Digit})
	},
	"Dial": func(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
		if e.Peer == nil {
			return
		}
		switch e.DialStatus {
		case "RINGING":
			d.post(e.Peer.ID, dialplan.Event{Kind: dialplan.EvRinging})
		case "ANSWER":
			d.answered(e.Peer.ID)
		}
	},
	"ChannelStateChange": func(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
		if e.Channel.State == "Up" {
			d.answered(e.Channel.ID)
		}
	},
	"ChannelHangupRequest": func(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
		if e.Cause == nil {
			return
		}
		d.mu.Lock()
		if l, ok := d.legs[e.Channel.ID]; ok && l.cause == 0 {
			l.cause = dialplan.Cause(*e.Cause)
		}
		d.mu.Unlock()
	},
	"StasisEnd": func(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
		// The last event of a channel that entered Stasis from the
		// dialplan (no ChannelDestroyed follows, the transcripts show).
		d.mu.Lock()
		l, ok := d.legs[e.Channel.ID]
		inbound := ok && l.inbound
		d.mu.Unlock()
		if inbound {
			d.hungUp(e.Channel.ID, 0)
		}
	},
	"ChannelDestroyed": func(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
		cause := dialplan.CauseNormal
		if e.Cause != nil {
			cause = dialplan.Cause(*e.Cause)
		}
		d.hungUp(e.Channel.ID, cause)
	},
	"PlaybackFinished": func(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
		d.mu.Lock()
		ch, ok := d.playbacks[e.Playback.ID]
		delete(d.playbacks, e.Playback.ID)
		d.mu.Unlock()
		if ok {
			d.post(ch, dialplan.Event{Kind: dialplan.EvPlaybackDone, Playback: e.Playback.ID, Failed: e.Playback.State == "failed"})
		}
	},
	"ChannelTransfer":   transferAsked,
	"RecordingFinished": recordingDone,
	"RecordingFailed":   recordingDone,
	"EndpointStateChange": func(d *Driver, e event, _ dialplan.Calls, p dialplan.Presence) {
		// Also sent when a channel comes or goes on the endpoint, with the
		// state unchanged, and twice when subscribed twice: setting the
		// same presence again is harmless.
		if p == nil || e.Endpoint == nil {
			return
		}
		device := e.Endpoint.dialString()
		d.mu.Lock()
		d.stateEvents[device]++
		d.mu.Unlock()
		p.SetPresence(device, e.Endpoint.State == "online")
	},
}

// recording is a recording in progress: its call hears of its end even
// once the recorded channel is gone (a caller who hangs up ends their
// voicemail, and the engine then judges the file).
type liveRecording struct {
	leg     string
	sink    dialplan.Sink
	started time.Time // for its length, should its end be missed (settleMedia)
}

func recordingDone(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
	d.mu.Lock()
	r, ok := d.recordings[e.Recording.Name]
	delete(d.recordings, e.Recording.Name)
	d.mu.Unlock()
	if ok && r.sink != nil {
		r.sink.Post(dialplan.Event{Kind: dialplan.EvRecordingDone, Leg: dialplan.LegID(r.leg), Recording: e.Recording.Name,
			Duration: time.Duration(e.Recording.Duration) * time.Second})
	}
}

// transferAsked hands a phone's blind transfer (REFER) to the call of the
// channel it came on; the phone is told it is under way (its REFER got a
// 202 already), and switchboard rings the target. An attended transfer
// (REFER with Replaces) is refused: switchboard's warm transfer is the
// API's.
func transferAsked(d *Driver, e event, _ dialplan.Calls, _ dialplan.Presence) {
	if e.ReferredBy == nil || e.ReferredBy.SourceChannel == nil || e.ReferTo == nil {
		return
	}
	id, to := e.ReferredBy.SourceChannel.ID, e.ReferTo.RequestedDestination.Destination
	state := "channel_progress"
	if to == "" {
		d.log.Warn("a phone's attended transfer (REFER with Replaces) is not supported", "channel", id)
		state = "channel_declined"
	} else {
		d.post(id, dialplan.Event{Kind: dialplan.EvTransferAsked, To: to})
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.RequestTimeout)
		defer cancel()
		if err := d.rest.do(ctx, http.MethodPost, "/channels/"+id+"/transfer_progress", url.Values{"states": {state}}, nil, nil); err != nil {
			d.log.Warn("the phone was not told how its transfer goes", "channel", id, "err", err)
		}
	}()
}

// dispatch turns an ARI event into the engine's. It runs on the one
// reading goroutine, so a call's events are posted in Asterisk's order.
func (d *Driver) dispatch(e event, h dialplan.Calls, p dialplan.Presence) {
	// A frame missing the object its type implies is ignored: Asterisk
	// never sends one, and a driver must not fall over on outside input.
	switch {
	case e.Type == "ChannelTransfer": // about two channels, checked by its handler
	case e.Channel == nil && strings.HasPrefix(e.Type, "Channel"), e.Channel == nil && strings.HasPrefix(e.Type, "Stasis"),
		e.Playback == nil && strings.HasPrefix(e.Type, "Playback"), e.Recording == nil && strings.HasPrefix(e.Type, "Recording"):
		return
	}
	if handle, ok := handlers[e.Type]; ok {
		handle(d, e, h, p)
	}
}

// filterEvents asks Asterisk (13.26 and later) to send the application
// only the events the driver acts on, and ApplicationReplaced. An
// Asterisk that refuses still works: the other events are dropped here.
func (d *Driver) filterEvents(ctx context.Context) {
	type eventType struct {
		Type string `json:"type"`
	}
	allowed := []eventType{{"ApplicationReplaced"}}
	for t := range handlers {
		allowed = append(allowed, eventType{t})
	}
	slices.SortFunc(allowed, func(a, b eventType) int { return strings.Compare(a.Type, b.Type) })
	body := map[string][]eventType{"allowed": allowed}
	if err := d.rest.do(ctx, http.MethodPut, "/applications/"+d.cfg.App+"/eventFilter", nil, body, nil); err != nil {
		d.log.Warn("Asterisk sends every event type: no event filter", "err", err)
	}
}

// stasisStart takes a new inbound call, or notes that a leg we
// originated reached Stasis.
func (d *Driver) stasisStart(e event, h dialplan.Calls) {
	ch := e.Channel
	d.mu.Lock()
	l, known := d.legs[ch.ID]
	up := known && !l.inbound && !l.inStasis && (l.up || ch.State == "Up")
	if known {
		l.inStasis = true
	}
	d.mu.Unlock()
	if up {
		d.answered(ch.ID)
	}
	if known {
		return
	}
	if len(e.Args) == 0 || e.Args[0] == argAgent || e.Args[0] == argSnoop {
		// A leg of ours from before a restart, or a call without the
		// number dialled: nothing can be done with it.
		d.log.Warn("unexpected channel in Stasis; hanging up", "channel", ch.ID, "args", e.Args)
		go d.Hangup(context.Background(), dialplan.LegID(ch.ID), dialplan.CauseTemporaryFailure)
		return
	}
	if e.Args[0] == argOutbound {
		d.deskCall(ch.ID, e.Args[1:], h)
		return
	}
	to, err := phone.Normalize(e.Args[0], d.cfg.Country)
	if err != nil {
		to = e.Args[0] // the engine refuses it as an unknown number, with a cause
	}
	from := ""
	if n := ch.Caller.Number; n != "" && !strings.EqualFold(n, "anonymous") {
		if from, err = phone.Normalize(n, d.cfg.Country); err != nil {
			from = n
		}
	}
	l = &leg{inbound: true}
	d.mu.Lock()
	d.legs[ch.ID] = l
	d.mu.Unlock()
	sink := h.Handle(dialplan.InboundCall{Leg: dialplan.LegID(ch.ID), To: to, From: from})
	d.mu.Lock()
	l.sink = sink
	d.mu.Unlock()
}

// deskCall hands the engine what a user dialled on their desk phone: the
// from-phones context passes the digits as dialled and the phone's device
// (docker/asterisk/extensions.conf).
func (d *Driver) deskCall(id string, args []string, h dialplan.Calls) {
	if len(args) != 2 || args[0] == "" || !strings.HasPrefix(args[1], "PJSIP/") || args[1] == "PJSIP/" {
		d.log.Warn("a desk phone's call without its digits and device; hanging up", "channel", id, "args", args)
		go d.Hangup(context.Background(), dialplan.LegID(id), dialplan.CauseTemporaryFailure)
		return
	}
	l := &leg{inbound: true}
	d.mu.Lock()
	d.legs[id] = l
	d.mu.Unlock()
	sink := h.Handle(dialplan.InboundCall{Leg: dialplan.LegID(id), To: args[0], Device: args[1]})
	d.mu.Lock()
	l.sink = sink
	d.mu.Unlock()
}

// answered reports an originated leg's answer once; a supervisor's phone
// joins the snoop channel it was rung for.
func (d *Driver) answered(id string) {
	d.mu.Lock()
	l, ok := d.legs[id]
	if !ok || l.inbound || l.answered {
		d.mu.Unlock()
		return
	}
	l.up = true
	if !l.inStasis {
		d.mu.Unlock()
		return // StasisStart reports it
	}
	l.answered = true
	snoop := l.snoop
	d.mu.Unlock()
	if snoop != "" {
		go func() {
			if _, err := d.Bridge(context.Background(), dialplan.LegID(snoop), dialplan.LegID(id)); err != nil {
				d.log.Warn("supervisor not joined to the call", "err", err)
			}
		}()
	}
	d.post(id, dialplan.Event{Kind: dialplan.EvAnswered})
}

// hungUp reports a channel's end and forgets it; its bridge goes when
// empty. cause 0 takes the cause Asterisk gave with the hang-up request.
func (d *Driver) hungUp(id string, cause dialplan.Cause) {
	d.mu.Lock()
	l, ok := d.legs[id]
	if !ok {
		d.mu.Unlock()
		return
	}
	delete(d.legs, id)
	if cause == 0 {
		cause = l.cause
	}
	if cause == 0 || cause == 32 { // 32 marks our own soft hang-up request
		cause = dialplan.CauseNormal
	}
	var emptyBridge string
	if b := l.bridge; b != "" {
		members := d.bridges[b]
		for i, m := range members {
			if m == id {
				members = append(members[:i:i], members[i+1:]...)
				break
			}
		}
		d.bridges[b] = members
		if len(members) == 0 {
			delete(d.bridges, b)
			emptyBridge = b
		}
	}
	sink := l.sink
	d.mu.Unlock()
	if l.consult && l.spied != "" {
		go d.rest.do(context.Background(), http.MethodDelete, "/channels/"+l.spied+"/silence", nil, nil, nil)
	}
	if sink != nil {
		sink.Post(dialplan.Event{Kind: dialplan.EvHangup, Leg: dialplan.LegID(id), Cause: cause})
	}
	if emptyBridge != "" {
		go d.rest.do(context.Background(), http.MethodDelete, "/bridges/"+emptyBridge, nil, nil, nil)
	}
}

// post sends an event of a channel to its call.
func (d *Driver) post(id string, e dialplan.Event) {
	d.mu.Lock()
	l, ok := d.legs[id]
	var sink dialplan.Sink
	if ok {
		sink = l.sink
	}
	d.mu.Unlock()
	if sink != nil {
		e.Leg = dialplan.LegID(id)
		sink.Post(e)
	}
}

// Adopt follows a caller's channel again after a restart of Switchboard:
// it is in our Stasis application still, which Asterisk keeps with its
// channels while no websocket holds it. The next connect's resync tells
// its call whether it is still up (StasisEnd comes when it hangs up).
func (d *Driver) Adopt(id dialplan.LegID, sink dialplan.Sink) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, known := d.legs[string(id)]; !known {
		d.legs[string(id)] = &leg{sink: sink, inbound: true}
	}
}

// Bridged finds the bridge of ours that holds id (GET /bridges) and
// follows the other channels in it, those still up; the bridge goes when
// they have all left, as for a bridge made in this run.
func (d *Driver) Bridged(ctx context.Context, id dialplan.LegID, sink dialplan.Sink) ([]dialplan.LegID, error) {
	var bridges []struct {
		ID       string   `json:"id"`
		Channels []string `json:"channels"`
	}
	if err := d.rest.do(ctx, http.MethodGet, "/bridges", nil, nil, &bridges); err != nil {
		return nil, err
	}
	var peers []string
	bridge := ""
	for _, b := range bridges {
		if slices.Contains(b.Channels, string(id)) {
			bridge = b.ID
			for _, ch := range b.Channels {
				if ch != string(id) {
					peers = append(peers, ch)
				}
			}
			break
		}
	}
	if bridge == "" {
		return nil, nil
	}
	// Followed before asked about: a hang-up in between is not missed.
	d.mu.Lock()
	members := []string{string(id)}
	if l, ok := d.legs[string(id)]; ok {
		l.bridge = bridge
	}
	for _, p := range peers {
		if _, known := d.legs[p]; !known {
			d.legs[p] = &leg{sink: sink, answered: true, bridge: bridge}
		}
		members = append(members, p)
	}
	d.bridges[bridge] = members
	d.mu.Unlock()
	var up []dialplan.LegID
	for _, p := range peers {
		var ch channel
		if err := d.rest.do(ctx, http.MethodGet, "/channels/"+p, nil, nil, &ch); err != nil {
			if !notFound(err) {
				return nil, err
			}
			d.hungUp(p, dialplan.CauseNormal)
			continue
		}
		up = append(up, dialplan.LegID(p))
	}
	return up, nil
}

// The appArgs of the legs we originate, so that their StasisStart is not
// taken for a new call.
const (
	argAgent = "agent"
	argSnoop = "snoop"
	// argOutbound: a desk phone's call (from-phones), then the digits
	// and the device.
	argOutbound = "outbound"
)

// gone maps Asterisk's "not found" to the engine's ErrGone.
func gone(err error) error {
	if notFound(err) {
		return dialplan.ErrGone
	}
	return err
}

func (d *Driver) Answer(ctx context.Context, id dialplan.LegID) error {
	return gone(d.rest.do(ctx, http.MethodPost, "/channels/"+string(id)+"/answer", nil, nil, nil))
}

func (d *Driver) Ring(ctx context.Context, id dialplan.LegID) error {
	d.mu.Lock()
	if l, ok := d.legs[string(id)]; ok {
		l.ringing = true
	}
	d.mu.Unlock()
	return gone(d.rest.do(ctx, http.MethodPost, "/channels/"+string(id)+"/ring", nil, nil, nil))
}

// builtinSounds maps the engine's built-in prompts to Asterisk's core sounds.
var builtinSounds = map[string]string{
	"beep":               "beep",
	"voicemail_greeting": "vm-intro",
	"after_hours":        "vm-nobodyavail",
	"callback_later":     "auth-thankyou",
	"outbound_refused":   "ss-noservice",
}

// mediaURI is how ARI names our audio: a core sound, a file by path (no
// extension: Asterisk adds it), or a URL fetched by res_http_media_cache.
func mediaURI(a dialplan.Audio) string {
	switch {
	case a.URL != "":
		return "sound:" + a.URL
	case a.Path != "":
		return "sound:" + strings.TrimSuffix(a.Path, ".wav")
	}
	if s, ok := builtinSounds[a.Sound]; ok {
		return "sound:" + s
	}
	return "sound:" + a.Sound
}

func (d *Driver) Play(ctx context.Context, id dialplan.LegID, p dialplan.Prompt) (string, error) {
	audio, err := d.cfg.Audio.Audio(ctx, p)
	if err != nil {
		return "", err
	}
	playback := newID()
	d.mu.Lock()
	d.playbacks[playback] = string(id)
	d.mu.Unlock()
	err = d.rest.do(ctx, http.MethodPost, "/channels/"+string(id)+"/play/"+playback, nil,
		map[string]string{"media": mediaURI(audio)}, nil)
	if err != nil {
		d.mu.Lock()
		delete(d.playbacks, playback)
		d.mu.Unlock()
		return "", gone(err)
	}
	return playback, nil
}

func (d *Driver) StopPlayback(ctx context.Context, playback string) error {
	err := d.rest.do(ctx, http.MethodDelete, "/playbacks/"+playback, nil, nil, nil)
	if notFound(err) {
		return nil // it had ended already
	}
	return err
}

func (d *Driver) StartMusic(ctx context.Context, id dialplan.LegID) error {
	return gone(d.rest.do(ctx, http.MethodPost, "/channels/"+string(id)+"/moh", nil, nil, nil))
}

func (d *Driver) StopMusic(ctx context.Context, id dialplan.LegID) error {
	return gone(d.rest.do(ctx, http.MethodDelete, "/channels/"+string(id)+"/moh", nil, nil, nil))
}

// Originate rings a phone under an id we choose, known before Asterisk's
// first event about it.
func (d *Driver) Originate(ctx context.Context, dial dialplan.Dial, sink dialplan.Sink) (dialplan.LegID, error) {
	return d.originate(ctx, dial, sink, argAgent, "")
}

func (d *Driver) originate(ctx context.Context, dial dialplan.Dial, sink dialplan.Sink, args, snoop string) (dialplan.LegID, error) {
	endpoint := dial.Endpoint
	if endpoint == "" {
		endpoint = fmt.Sprintf(d.cfg.Trunk, dial.External)
	}
	id := newID()
	d.mu.Lock()
	d.legs[id] = &leg{sink: sink, snoop: snoop}
	d.mu.Unlock()
	if err := d.dialLeg(ctx, id, endpoint, dial, args); err != nil {
		d.mu.Lock()
		delete(d.legs, id)
		d.mu.Unlock()
		return "", err
	}
	return dialplan.LegID(id), nil
}

// Bridge mixes two channels in a new bridge, or b into a's bridge when a
// has one (a transfer: the bridge's recording goes on); it first stops
// the ringing tone either hears. An answered channel hears Ring's tone
// as a generator, which would keep the bridge's audio from it.
func (d *Driver) Bridge(ctx context.Context, a, b dialplan.LegID) (dialplan.BridgeID, error) {
	ringing := []dialplan.LegID{a}
	current := ""
	d.mu.Lock()
	if l, ok := d.legs[string(a)]; ok {
		l.ringing = false
		if len(d.bridges[l.bridge]) > 0 {
			current = l.bridge
		}
	}
	if l, ok := d.legs[string(b)]; ok && l.ringing {
		l.ringing = false
		ringing = append(ringing, b)
	}
	d.mu.Unlock()
	for _, ch := range ringing {
		d.rest.do(ctx, http.MethodDelete, "/channels/"+string(ch)+"/ring", nil, nil, nil)
	}
	if current != "" {
		return d.join(ctx, current, b)
	}
	id := newID()
	if err := d.rest.do(ctx, http.MethodPost, "/bridges/"+id, url.Values{"type": {"mixing"}}, nil, nil); err != nil {
		return "", err
	}
	d.mu.Lock()
	d.bridges[id] = []string{string(a), string(b)}
	for _, ch := range []dialplan.LegID{a, b} {
		if l, ok := d.legs[string(ch)]; ok {
			l.bridge = id
		}
	}
	d.mu.Unlock()
	err := d.rest.do(ctx, http.MethodPost, "/bridges/"+id+"/addChannel", url.Values{"channel": {string(a) + "," + string(b)}}, nil, nil)
	if err != nil {
		d.rest.do(ctx, http.MethodDelete, "/bridges/"+id, nil, nil, nil)
		return "", gone(err)
	}
	return dialplan.BridgeID(id), nil
}

// join adds a channel to a bridge of ours, taking it out of the one it is
// in first (a warm transfer's target, talking with the agent through a
// snoop channel).
func (d *Driver) join(ctx context.Context, bridge string, ch dialplan.LegID) (dialplan.BridgeID, error) {
	d.mu.Lock()
	old := ""
	if l, ok := d.legs[string(ch)]; ok && l.bridge != "" && l.bridge != bridge {
		old = l.bridge
		d.bridges[old] = slices.DeleteFunc(d.bridges[old], func(m string) bool { return m == string(ch) })
	}
	d.mu.Unlock()
	if old != "" {
		if err := d.rest.do(ctx, http.MethodPost, "/bridges/"+old+"/removeChannel", url.Values{"channel": {string(ch)}}, nil, nil); err != nil && !notFound(err) {
			return "", gone(err)
		}
	}
	d.mu.Lock()
	d.bridges[bridge] = append(d.bridges[bridge], string(ch))
	if l, ok := d.legs[string(ch)]; ok {
		l.bridge = bridge
	}
	d.mu.Unlock()
	err := d.rest.do(ctx, http.MethodPost, "/bridges/"+bridge+"/addChannel", url.Values{"channel": {string(ch)}}, nil, nil)
	if err != nil {
		d.mu.Lock()
		d.bridges[bridge] = slices.DeleteFunc(d.bridges[bridge], func(m string) bool { return m == string(ch) })
		d.mu.Unlock()
		return "", gone(err)
	}
	return dialplan.BridgeID(bridge), nil
}

// Hold plays music to a caller in a bridge and keeps their voice from it
// (music on hold on a bridged channel replaces what the bridge sends it;
// muting it inwards keeps the agent from hearing the caller).
func (d *Driver) Hold(ctx context.Context, id dialplan.LegID) error {
	if err := d.rest.do(ctx, http.MethodPost, "/channels/"+string(id)+"/moh", nil, nil, nil); err != nil {
		return gone(err)
	}
	return gone(d.rest.do(ctx, http.MethodPost, "/channels/"+string(id)+"/mute", url.Values{"direction": {"in"}}, nil, nil))
}

func (d *Driver) Unhold(ctx context.Context, id dialplan.LegID) error {
	if err := d.rest.do(ctx, http.MethodDelete, "/channels/"+string(id)+"/mute", url.Values{"direction": {"in"}}, nil, nil); err != nil {
		return gone(err)
	}
	return gone(d.rest.do(ctx, http.MethodDelete, "/channels/"+string(id)+"/moh", nil, nil, nil))
}

// PauseRecording pauses a live recording (POST /recordings/live/{name}/pause):
// the file skips the time paused.
func (d *Driver) PauseRecording(ctx context.Context, name string) error {
	return d.rest.do(ctx, http.MethodPost, "/recordings/live/"+url.PathEscape(name)+"/pause", nil, nil, nil)
}

func (d *Driver) ResumeRecording(ctx context.Context, name string) error {
	return d.rest.do(ctx, http.MethodDelete, "/recordings/live/"+url.PathEscape(name)+"/pause", nil, nil, nil)
}

// Record records a bridge (a conversation; recording a channel that is in
// a bridge fails in Asterisk) or a lone channel (a voicemail, ended by #).
func (d *Driver) Record(ctx context.Context, t dialplan.RecordTarget, name string, max time.Duration) error {
	q := url.Values{"name": {name}, "format": {"wav"}, "ifExists": {"overwrite"},
		"maxDurationSeconds": {strconv.Itoa(int(max / time.Second))}}
	path, owner := "/bridges/"+string(t.Bridge)+"/record", ""
	d.mu.Lock()
	if t.Leg != "" {
		path, owner = "/channels/"+string(t.Leg)+"/record", string(t.Leg)
		q.Set("terminateOn", "#")
	} else if members := d.bridges[string(t.Bridge)]; len(members) > 0 {
		owner = members[0]
	}
	r := liveRecording{leg: owner, started: time.Now()}
	if l, ok := d.legs[owner]; ok {
		r.sink = l.sink
	}
	d.recordings[name] = r
	d.mu.Unlock()
	return gone(d.rest.do(ctx, http.MethodPost, path, q, nil, nil))
}

// Decline takes the channel out of Stasis to the dialplan's fallback: the
// priority labelled "fallback" of its extension (docker/asterisk's
// extensions.conf), where a caller goes when Stasis() fails.
func (d *Driver) Decline(ctx context.Context, id dialplan.LegID) error {
	return gone(d.rest.do(ctx, http.MethodPost, "/channels/"+string(id)+"/continue", url.Values{"label": {"fallback"}}, nil, nil))
}

// AdoptRecording asks Asterisk for the live recording name
// (GET /recordings/live/{name}) and follows its end; a live recording
// outlives the websocket of the switchboard that started it. Without
// one, ErrGone says that the channel is gone too.
func (d *Driver) AdoptRecording(ctx context.Context, id dialplan.LegID, name string) (bool, error) {
	path, err := recordingPath("live", name)
	if err != nil {
		return false, err
	}
	err = d.rest.do(ctx, http.MethodGet, path, nil, nil, nil)
	if notFound(err) {
		// None: is the caller still there?
		return false, gone(d.rest.do(ctx, http.MethodGet, "/channels/"+string(id), nil, nil, nil))
	}
	if err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.legs[string(id)]
	if !ok {
		return false, dialplan.ErrGone
	}
	// Begun before the restart, when exactly is unknown: its length, if
	// its end is missed, counts from now.
	d.recordings[name] = liveRecording{leg: string(id), sink: l.sink, started: time.Now()}
	return true, nil
}

// OpenRecording reads a finished recording back from Asterisk's store
// (GET /recordings/stored/{name}/file), as it arrives.
func (d *Driver) OpenRecording(ctx context.Context, name string) (io.ReadCloser, error) {
	path, err := recordingPath("stored", name)
	if err != nil {
		return nil, err
	}
	f, err := d.rest.open(ctx, path+"/file")
	if notFound(err) {
		return nil, fmt.Errorf("%w: %w", dialplan.ErrNoRecording, err)
	}
	return f, err
}

// recordingPath is the ARI path of a recording, live or stored, for a name
// the engine gave (one word: no path, no query).
func recordingPath(state, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/?#%") {
		return "", fmt.Errorf("ARI recording name %q: %w", name, dialplan.ErrNoRecording)
	}
	return "/recordings/" + state + "/" + name, nil
}

// DeleteRecording removes a stored recording from Asterisk
// (DELETE /recordings/stored/{name}).
func (d *Driver) DeleteRecording(ctx context.Context, name string) error {
	path, err := recordingPath("stored", name)
	if err != nil {
		return err
	}
	err = d.rest.do(ctx, http.MethodDelete, path, nil, nil, nil)
	if notFound(err) {
		return fmt.Errorf("%w: %w", dialplan.ErrNoRecording, err)
	}
	return err
}

// Snoop lets a supervisor hear (and maybe speak into) an agent's channel:
// a snoop channel on the agent's, then the supervisor's phone, joined to it
// when they answer.
func (d *Driver) Snoop(ctx context.Context, agent dialplan.LegID, mode dialplan.SnoopMode, supervisor dialplan.Dial, sink dialplan.Sink) (dialplan.LegID, error) {
	snoop := newID()
	if err := d.snoop(ctx, agent, mode, snoop); err != nil {
		return "", err
	}
	leg, err := d.originate(ctx, supervisor, sink, argAgent, snoop)
	if err != nil {
		d.Hangup(ctx, dialplan.LegID(snoop), dialplan.CauseNormal)
		return "", err
	}
	d.mu.Lock()
	if l, ok := d.legs[string(leg)]; ok {
		l.spied, l.consult = string(agent), mode == dialplan.Consult
	}
	d.mu.Unlock()
	if mode == dialplan.Consult {
		// The caller is held (frames from them suppressed): nothing the
		// bridge sends the agent would carry the whisper, which Asterisk
		// mixes into frames written to the agent. A silence generator
		// writes them, until the target's leg goes (hungUp).
		if err := d.rest.do(ctx, http.MethodPost, "/channels/"+string(agent)+"/silence", nil, nil, nil); err != nil {
			d.Hangup(ctx, leg, dialplan.CauseNormal)
			return "", gone(err)
		}
	}
	return leg, nil
}

// snoop makes a snoop channel on the agent's channel: it hears both
// sides; whispering out, the agent hears what the snoop channel gets
// (the supervisor); both ways, the caller too.
func (d *Driver) snoop(ctx context.Context, agent dialplan.LegID, mode dialplan.SnoopMode, id string) error {
	q := url.Values{"app": {d.cfg.App}, "appArgs": {argSnoop}, "spy": {"both"}}
	switch mode {
	case dialplan.Whisper, dialplan.Consult:
		q.Set("whisper", "out")
	case dialplan.Barge:
		q.Set("whisper", "both")
	}
	d.mu.Lock()
	d.legs[id] = &leg{inbound: true} // it enters Stasis, ends with StasisEnd
	d.mu.Unlock()
	if err := d.rest.do(ctx, http.MethodPost, "/channels/"+string(agent)+"/snoop/"+id, q, nil, nil); err != nil {
		d.mu.Lock()
		delete(d.legs, id)
		d.mu.Unlock()
		return gone(err)
	}
	return nil
}

// SwitchSnoop gives a supervisor a new snoop channel on the agent's, of
// the new mode (a snoop channel's directions are fixed), in the bridge
// of the old one, which then goes: the supervisor's phone stays up.
func (d *Driver) SwitchSnoop(ctx context.Context, supervisor dialplan.LegID, mode dialplan.SnoopMode) error {
	d.mu.Lock()
	l, ok := d.legs[string(supervisor)]
	var old, agent, bridge string
	if ok {
		old, agent, bridge = l.snoop, l.spied, l.bridge
	}
	d.mu.Unlock()
	if !ok || agent == "" {
		return dialplan.ErrGone
	}
	if bridge == "" {
		return fmt.Errorf("ari: the supervisor's phone is not connected yet")
	}
	snoop := newID()
	if err := d.snoop(ctx, dialplan.LegID(agent), mode, snoop); err != nil {
		return err
	}
	if _, err := d.join(ctx, bridge, dialplan.LegID(snoop)); err != nil {
		d.Hangup(ctx, dialplan.LegID(snoop), dialplan.CauseNormal)
		return err
	}
	d.mu.Lock()
	if l, ok := d.legs[string(supervisor)]; ok {
		l.snoop = snoop
	}
	d.mu.Unlock()
	if err := d.Hangup(ctx, dialplan.LegID(old), dialplan.CauseNormal); err != nil && err != dialplan.ErrGone {
		d.log.Warn("the old snoop channel stays", "channel", old, "err", err)
	}
	return nil
}

// reasons are the hang-up reasons ARI accepts, by cause.
var reasons = map[dialplan.Cause]string{
	dialplan.CauseNormal:            "normal",
	dialplan.CauseBusy:              "busy",
	dialplan.CauseNoAnswer:          "no_answer",
	dialplan.CauseRejected:          "rejected",
	dialplan.CauseAnsweredElsewhere: "answered_elsewhere",
	dialplan.CauseUnallocated:       "unallocated",
	dialplan.CauseCongestion:        "congestion",
	dialplan.CauseTemporaryFailure:  "failure",
	dialplan.CauseUnspecified:       "normal_unspecified",
}

func (d *Driver) Hangup(ctx context.Context, id dialplan.LegID, cause dialplan.Cause) error {
	reason, ok := reasons[cause]
	if !ok {
		reason = "normal"
	}
	return gone(d.rest.do(ctx, http.MethodDelete, "/channels/"+string(id), url.Values{"reason": {reason}}, nil, nil))
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "sb-" + hex.EncodeToString(b)
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

var _ dialplan.MediaServer = (*Driver)(nil)
