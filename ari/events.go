package ari

import (
	"encoding/json"
	"fmt"
)

// event is the part of an ARI event the driver reads. Asterisk sends many
// more types and fields; unknown ones are ignored, never an error.
type event struct {
	Type       string     `json:"type"`
	Channel    *channel   `json:"channel"`
	Peer       *channel   `json:"peer"`
	Args       []string   `json:"args"`
	Digit      string     `json:"digit"`
	DialStatus string     `json:"dialstatus"`
	Cause      *int       `json:"cause"`
	Playback   *playback  `json:"playback"`
	Recording  *recording `json:"recording"`
	Endpoint   *endpoint  `json:"endpoint"`
	// ChannelTransfer: a phone's REFER (endpoints with
	// transfer_handling=ari-only).
	ReferTo    *referTo    `json:"refer_to"`
	ReferredBy *referredBy `json:"referred_by"`
}

type referTo struct {
	RequestedDestination struct {
		// Destination is what a blind transfer dialled; ProtocolID an
		// attended one's other call.
		Destination string `json:"destination"`
		ProtocolID  string `json:"protocol_id"`
	} `json:"requested_destination"`
}

type referredBy struct {
	SourceChannel *channel `json:"source_channel"`
}

type channel struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	State  string `json:"state"`
	Caller struct {
		Name   string `json:"name"`
		Number string `json:"number"`
	} `json:"caller"`
}

type playback struct {
	ID    string `json:"id"`
	State string `json:"state"`
}

type recording struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Duration int    `json:"duration"`
}

type endpoint struct {
	Technology string `json:"technology"`
	Resource   string `json:"resource"`
	State      string `json:"state"`
}

// dialString is an endpoint as users' devices name it: PJSIP/alice.
func (e endpoint) dialString() string { return e.Technology + "/" + e.Resource }

// parseEvent reads one websocket frame. It never panics on any input.
func parseEvent(frame []byte) (event, error) {
	var e event
	if err := json.Unmarshal(frame, &e); err != nil {
		return e, fmt.Errorf("ARI event: %w", err)
	}
	if e.Type == "" {
		return e, fmt.Errorf("ARI event without a type")
	}
	return e, nil
}
