package aritest

import (
	"fmt"
	"strings"
	"time"
)

// member is one participant of a bridge: a channel, or one of the internal
// channels Asterisk adds for bridge MOH, bridge recording and bridge
// playback (Announcer/..., Recorder/...). Internal channels produce no
// ARI events of their own but change the bridge's BRIDGEPEER variables.
type member struct {
	ch   *channel
	name string // internal channels only
}

func (m *member) peerName() string {
	if m.ch != nil {
		return m.ch.name
	}
	return m.name
}

func (m *member) pvtID() string {
	if m.ch != nil {
		return m.ch.protocolID
	}
	return ""
}

type bridge struct {
	id, name, typ string
	creation      string
	members       []*member
	subs          []*app
	player        player
	moh           *member
	announcer     *member // stays once a playback has run, as on Asterisk
	rec           *recording
	dead          bool
}

var bridgeFlags = map[string]bool{
	"mixing": true, "holding": true, "dtmf_events": true, "proxy_media": true,
	"video_sfu": true, "video_single": true, "sdp_label": true,
}

// parseBridgeType reads POST /bridges?type= (comma-separated flags).
func parseBridgeType(t string) (string, bool) {
	typ := "mixing"
	for _, f := range strings.Split(t, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !bridgeFlags[f] {
			return "", false
		}
		if f == "holding" {
			typ = "holding"
		}
	}
	return typ, true
}

func (b *bridge) technology() string {
	if b.typ == "holding" {
		return "holding_bridge"
	}
	// A smart mixing bridge uses simple_bridge for two parties and moves
	// to softmix for more.
	if len(b.members) > 2 {
		return "softmix"
	}
	return "simple_bridge"
}

func (b *bridge) channelIDs() []string {
	ids := make([]string, 0, len(b.members))
	for _, m := range b.members {
		if m.ch != nil {
			ids = append(ids, m.ch.id)
		}
	}
	return ids
}

func (b *bridge) json() []byte {
	return newObj(320).str("id", b.id).str("technology", b.technology()).str("bridge_type", b.typ).
		str("bridge_class", "stasis").str("creator", "Stasis").str("name", b.name).
		strs("channels", b.channelIDs()).str("creationtime", b.creation).str("video_mode", "talker").done()
}

func (s *Server) newBridge(id, name, typ string) *bridge {
	if id == "" {
		id = uuid()
	}
	b := &bridge{id: id, name: name, typ: typ, creation: stamp(time.Now())}
	s.bridges[id] = b
	s.bridgeList = append(s.bridgeList, b)
	return b
}

// joinBridge adds a channel: ChannelEnteredBridge, then the peer
// variables, then the connected line, in the recorded order.
func (s *Server) joinBridge(c *channel, b *bridge) {
	b.members = append(b.members, &member{ch: c})
	c.bridge = b
	for _, a := range c.subs {
		if !contains(b.subs, a) {
			b.subs = append(b.subs, a)
		}
		a.bridges[b] = struct{}{}
	}
	s.bridgeEvent(b, c, "ChannelEnteredBridge")
	s.reconfigure(b)
}

// leaveBridge takes a channel out: its peer variables are cleared, then
// ChannelLeftBridge, then the others' variables are set anew.
func (s *Server) leaveBridge(c *channel) {
	b := c.bridge
	if b == nil {
		return
	}
	for _, v := range [...]string{"BRIDGEPEER", "BRIDGEPVTCALLID"} {
		if _, ok := c.vars[v]; ok {
			s.varset(c, v, "")
			delete(c.vars, v)
		}
	}
	for i, m := range b.members {
		if m.ch == c {
			b.members = append(b.members[:i], b.members[i+1:]...)
			break
		}
	}
	c.bridge = nil
	s.bridgeEvent(b, c, "ChannelLeftBridge")
	if !b.dead { // a dissolving bridge is not reconfigured
		s.reconfigure(b)
	}
}

// addInternal and removeInternal add and remove an internal channel
// (Announcer, Recorder); each such pair of unreal channels takes two ids.
func (s *Server) addInternal(b *bridge, prefix string) *member {
	s.seq += 2
	s.unrealSeq++
	m := &member{name: fmt.Sprintf("%s-%08x;2", prefix, s.unrealSeq)}
	b.members = append(b.members, m)
	s.reconfigure(b)
	return m
}

func (s *Server) removeInternal(b *bridge, m *member) {
	for i, x := range b.members {
		if x == m {
			b.members = append(b.members[:i], b.members[i+1:]...)
			if !b.dead {
				s.reconfigure(b)
			}
			return
		}
	}
}

// reconfigure sets BRIDGEPEER and BRIDGEPVTCALLID as bridge.c does: for
// two parties each gets the other's name and Call-ID; for more, each gets
// the others' names (newest first) and an empty Call-ID; alone, nothing.
// Two channels bridged also exchange connected line information.
func (s *Server) reconfigure(b *bridge) {
	switch n := len(b.members); {
	case n == 2:
		m0, m1 := b.members[0], b.members[1]
		for _, pair := range [2][2]*member{{m0, m1}, {m1, m0}} {
			me, other := pair[0], pair[1]
			if me.ch == nil {
				continue
			}
			s.varset(me.ch, "BRIDGEPEER", other.peerName())
			if pv := other.pvtID(); pv != "" {
				s.varset(me.ch, "BRIDGEPVTCALLID", pv)
			}
		}
		for _, pair := range [2][2]*member{{m0, m1}, {m1, m0}} {
			me, other := pair[0], pair[1]
			if me.ch == nil || other.ch == nil || me.ch.kind == kindSnoop || other.ch.kind == kindSnoop {
				continue
			}
			if me.ch.connected != other.ch.cid {
				me.ch.connected = other.ch.cid
				s.chanEvent(me.ch, "ChannelConnectedLine", nil)
			}
		}
	case n > 2:
		for _, me := range b.members {
			if me.ch == nil {
				continue
			}
			names := make([]string, 0, n-1)
			for i := n - 1; i >= 0; i-- {
				if other := b.members[i]; other != me {
					names = append(names, other.peerName())
				}
			}
			s.varset(me.ch, "BRIDGEPEER", strings.Join(names, ","))
			s.varset(me.ch, "BRIDGEPVTCALLID", "")
		}
	}
}

// destroyBridge empties and removes a bridge, then BridgeDestroyed.
func (s *Server) destroyBridge(b *bridge) {
	b.dead = true
	delete(s.bridges, b.id)
	for i, x := range s.bridgeList {
		if x == b {
			s.bridgeList = append(s.bridgeList[:i], s.bridgeList[i+1:]...)
			break
		}
	}
	s.dropPlaybacks(&b.player)
	if b.rec != nil {
		s.finishRecording(b.rec, "done")
	}
	for _, m := range append([]*member(nil), b.members...) {
		if m.ch != nil {
			s.leaveBridge(m.ch)
		}
	}
	b.members = nil
	s.bridgeEvent(b, nil, "BridgeDestroyed")
	for _, a := range b.subs {
		delete(a.bridges, b)
		s.gcApp(a)
	}
}
