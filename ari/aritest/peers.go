package aritest

import (
	"errors"
	"strings"
	"time"
)

// PeerAction is what a scripted SIP party does when Asterisk calls it
// (what SIPp played in the recordings).
type PeerAction int

const (
	// PeerAnswer rings (180), answers (200) after Peer.After, then hangs up
	// (BYE) after Peer.HangupAfter if that is set (uas_answer.xml,
	// uas_answer_bye.xml). The zero Peer answers at once.
	PeerAnswer PeerAction = iota
	// PeerRing rings until cancelled or timed out (uas_ring.xml).
	PeerRing
	// PeerBusy answers 486 Busy Here after Peer.After, without ringing:
	// cause 17, Dial BUSY (uas_busy.xml, 03a).
	PeerBusy
	// PeerDecline rings, then answers 603 Decline after Peer.After: cause
	// 21, Dial NOANSWER (uas_decline.xml, 03b).
	PeerDecline
	// PeerUnreachable never answers anything: the leg stays Down until the
	// originate timeout, which ends it with ChannelDestroyed cause 19 (03c).
	PeerUnreachable
)

// Peer scripts the far end of an outbound leg.
type Peer struct {
	Action      PeerAction
	After       time.Duration // ringing before the answer or the 603; delay before the 486
	HangupAfter time.Duration // PeerAnswer: BYE this long after answering; 0 = never
	// ReferTo: after HangupAfter the phone transfers the call there (a
	// blind REFER, which an endpoint with transfer_handling=ari-only
	// hands to the app as ChannelTransfer), then hangs up 300 ms later.
	ReferTo string
}

// endpoint is a PJSIP endpoint: an agent's device or the trunk.
type endpoint struct {
	tech, resource string
	online         bool
	peer           Peer
}

func (e *endpoint) id() string { return e.tech + "/" + e.resource }

func (s *Server) endpointJSON(e *endpoint) []byte {
	var ids []string
	for _, c := range s.chanList {
		if c.endpoint == e {
			ids = append(ids, c.id)
		}
	}
	state := "offline"
	if e.online {
		state = "online"
	}
	return newObj(128).str("technology", e.tech).str("resource", e.resource).str("state", state).strs("channel_ids", ids).done()
}

// endpoint returns the PJSIP endpoint of that resource, creating it online.
func (s *Server) endpoint(resource string) *endpoint {
	key := "PJSIP/" + resource
	e := s.endpoints[key]
	if e == nil {
		e = &endpoint{tech: "PJSIP", resource: resource, online: true}
		s.endpoints[key] = e
		s.epOrder = append(s.epOrder, key)
	}
	return e
}

// splitDial reads a dial string: PJSIP/agent1, PJSIP/+336...@trunk or
// PJSIP/trunk/sip:... into the endpoint resource and the dial string as the
// Dial event shows it.
func splitDial(dial string) (tech, resource, dialstring string, ok bool) {
	tech, rest, ok := strings.Cut(dial, "/")
	if !ok || tech == "" || rest == "" {
		return "", "", "", false
	}
	resource = rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		resource = rest[at+1:]
	} else if slash := strings.IndexByte(rest, '/'); slash >= 0 {
		resource = rest[:slash]
	}
	if i := strings.IndexByte(resource, '/'); i >= 0 {
		resource = resource[:i]
	}
	return tech, resource, rest, resource != ""
}

func endpointKey(endpoint string) (string, error) {
	if !strings.Contains(endpoint, "/") {
		endpoint = "PJSIP/" + endpoint
	}
	tech, resource, _, ok := splitDial(endpoint)
	if !ok || !strings.EqualFold(tech, "PJSIP") {
		return "", errors.New("aritest: only PJSIP endpoints are emulated: " + endpoint)
	}
	return resource, nil
}

// SetPeer scripts the SIP party behind a dial string. "PJSIP/alice" sets
// the endpoint's behaviour (creating the endpoint, registered, if it is
// new); a full dial string such as "PJSIP/+33612345678@trunk" scripts that
// one number and falls back to the endpoint's (here "trunk") behaviour for
// the others. Unknown endpoints make originate fail with 500 "Allocation
// failed", as PJSIP/nobody did in transcript 08.
func (s *Server) SetPeer(dial string, p Peer) error {
	if !strings.Contains(dial, "/") {
		dial = "PJSIP/" + dial
	}
	tech, resource, dialstring, ok := splitDial(dial)
	if !ok || !strings.EqualFold(tech, "PJSIP") {
		return errors.New("aritest: only PJSIP dial strings are emulated: " + dial)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoint(resource)
	if dialstring == resource {
		e.peer = p
		return nil
	}
	s.peers["PJSIP/"+dialstring] = p
	return nil
}

// SetRegistered registers or unregisters an endpoint's device
// ("PJSIP/alice" or "alice"), creating the endpoint if needed. The state
// shows in /endpoints; apps subscribed to the endpoint (POST
// /applications/{app}/subscription?eventSource=endpoint:PJSIP/alice, or
// endpoint:PJSIP for the technology, or endpoint: for all) or connected
// with subscribeAll=true receive EndpointStateChange, and no other app. Originating to an offline endpoint fails with 500
// "Allocation failed", as chan_pjsip finds no contact.
func (s *Server) SetRegistered(endpoint string, registered bool) error {
	resource, err := endpointKey(endpoint)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoint(resource)
	if e.online == registered {
		return nil
	}
	e.online = registered
	s.endpointChanged(e)
	return nil
}

// ErrNoChannel is returned by the test-side channel controls for an
// unknown or ended channel.
var ErrNoChannel = errors.New("aritest: no such channel")

// RemoteAnswer makes the far end of a ringing outbound leg answer now (for
// PeerRing parties whose answer a test wants to time itself).
func (s *Server) RemoteAnswer(channelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil || !c.dialing {
		return ErrNoChannel
	}
	s.peerRinging(c)
	s.peerAnswer(c)
	return nil
}

// RemoteHangup makes the far end of any PJSIP channel hang up now: a BYE
// when it is answered, a CANCEL from an unanswered inbound caller, a 603
// from a ringing outbound leg.
func (s *Server) RemoteHangup(channelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil || c.endpoint == nil {
		return ErrNoChannel
	}
	s.remoteHangup(c)
	return nil
}

func (s *Server) remoteHangup(c *channel) {
	switch {
	case c.state == "Up":
		s.hangup(c, hangup{kind: byRemote, cause: 16})
	case c.kind == kindInbound:
		s.hangup(c, hangup{kind: byCancel, cause: 127, techCause: 487})
	default:
		s.hangup(c, hangup{kind: byReject, cause: 21, techCause: 603, dialStatus: "NOANSWER"})
	}
}
