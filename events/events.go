// Package events is the one stream of what happens in Switchboard: every
// event of a call (its timeline), of an agent, and of the configuration,
// each of a Kind with a typed payload.
//
// Producers write events in the same transaction as the state they
// describe (the call log's SaveCall, the API's writes, the agents'
// transitions); consumers read them from there: webhooks (each event a
// webhook subscribes to is queued for it in that same transaction), and
// later metrics, the live view and statistics. Nothing here knows of a
// database or a driver: it is the vocabulary they share.
package events

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Kind is what happened, named as Aircall names its webhook events
// (call.created, user.opened, number.closed…) and, for what Aircall has
// no name for, in the same style.
type Kind string

// Call events: a call's timeline. Those Aircall sends as webhooks, then
// ours.
const (
	CallCreated              Kind = "call.created"
	CallRingingOnAgent       Kind = "call.ringing_on_agent"
	CallAgentDeclined        Kind = "call.agent_declined"
	CallAnswered             Kind = "call.answered"
	CallTransferred          Kind = "call.transferred"
	CallUnsuccessfulTransfer Kind = "call.unsuccessful_transfer"
	CallHungup               Kind = "call.hungup"
	CallEnded                Kind = "call.ended"
	CallVoicemailLeft        Kind = "call.voicemail_left"
	CallTagged               Kind = "call.tagged"
	CallUntagged             Kind = "call.untagged"
	CallCommented            Kind = "call.commented"
	CallAssigned             Kind = "call.assigned"
	CallArchived             Kind = "call.archived"
	CallUnarchived           Kind = "call.unarchived"
	CallRecordingDeleted     Kind = "call.recording_deleted"

	CallAgentNoAnswer      Kind = "call.agent_no_answer"
	CallVoicemailDiscarded Kind = "call.voicemail_discarded"
	CallIVROptionSelected  Kind = "call.ivr_option_selected"
	CallQueued             Kind = "call.queued"
	CallCallbackRequested  Kind = "call.callback_requested"
	CallCalledBack         Kind = "call.called_back"
	CallRecordingStarted   Kind = "call.recording_started"
	CallMessagePlayed      Kind = "call.message_played"
	CallMessageFailed      Kind = "call.message_failed"
	CallBlocked            Kind = "call.blocked"
	CallOutOfOpeningHours  Kind = "call.out_of_opening_hours"
	CallVoicemailDeleted   Kind = "call.voicemail_deleted"
	// The caller heard the beep: the voicemail is being recorded (a
	// switchboard taking the call over finds it by its name).
	CallVoicemailStarted Kind = "call.voicemail_started"
	// In the agents' hands: what agents and supervisors do to a call in
	// progress (the event's user is who did it).
	CallHold             Kind = "call.hold" // Aircall's names: the caller is put on hold
	CallUnhold           Kind = "call.unhold"
	CallRecordingPaused  Kind = "call.recording_paused"
	CallRecordingResumed Kind = "call.recording_resumed"
	CallSupervised       Kind = "call.supervised"
	CallSupervisionEnded Kind = "call.supervision_ended"
	CallHangupRequested  Kind = "call.hangup_requested"
	// The call lasted its number's max_call_seconds and was hung up.
	CallMaxDurationReached Kind = "call.max_duration_reached"
	CallOutboundRefused    Kind = "call.outbound_refused"
	// A warm transfer: the agent talks to the target first; then
	// call.transferred (completed) or call.unsuccessful_transfer.
	CallWarmTransferStarted Kind = "call.warm_transfer_started"
)

// Agent events: a user's availability, after-call work, phones, and the
// user's life.
const (
	UserOpened       Kind = "user.opened"       // can take calls again
	UserClosed       Kind = "user.closed"       // can no longer take calls
	UserWutStart     Kind = "user.wut_start"    // after-call work begins
	UserWutEnd       Kind = "user.wut_end"      // after-call work ends
	UserConnected    Kind = "user.connected"    // a phone of the user is registered
	UserDisconnected Kind = "user.disconnected" // none is any more
	UserCreated      Kind = "user.created"
	UserDeleted      Kind = "user.deleted"
)

// Configuration events: numbers created and deleted, and opening and
// closing as their business hours turn.
const (
	NumberCreated Kind = "number.created"
	NumberDeleted Kind = "number.deleted"
	NumberOpened  Kind = "number.opened"
	NumberClosed  Kind = "number.closed"
)

// Contact events: the address book, as Aircall's. Each carries the
// contact as the API showed it then (a snapshot: contacts change and go
// together with their phone numbers and emails).
const (
	ContactCreated Kind = "contact.created"
	ContactUpdated Kind = "contact.updated"
	ContactDeleted Kind = "contact.deleted"
)

// Resource is what an event is about: the object a webhook's data is.
type Resource string

const (
	ResourceCall    Resource = "call"
	ResourceUser    Resource = "user"
	ResourceNumber  Resource = "number"
	ResourceContact Resource = "contact"
)

// kinds lists every kind: its resource, whether a webhook may subscribe
// to it, and the type of its payload (nil: it carries none).
var kinds = map[Kind]struct {
	resource Resource
	webhook  bool
	payload  any
}{
	CallCreated:              {ResourceCall, true, Created{}},
	CallRingingOnAgent:       {ResourceCall, true, nil},
	CallAgentDeclined:        {ResourceCall, true, AgentOutcome{}},
	CallAnswered:             {ResourceCall, true, Answered{}},
	CallTransferred:          {ResourceCall, true, Transferred{}},
	CallUnsuccessfulTransfer: {ResourceCall, true, Transferred{}},
	CallHungup:               {ResourceCall, true, Hungup{}},
	CallEnded:                {ResourceCall, true, nil},
	CallVoicemailLeft:        {ResourceCall, true, VoicemailLeft{}},
	CallTagged:               {ResourceCall, true, Tagged{}},
	CallUntagged:             {ResourceCall, true, Tagged{}},
	CallCommented:            {ResourceCall, true, Commented{}},
	CallAssigned:             {ResourceCall, true, Assigned{}},
	CallArchived:             {ResourceCall, true, nil},
	CallUnarchived:           {ResourceCall, true, nil},
	CallRecordingDeleted:     {ResourceCall, true, Recording{}},

	CallAgentNoAnswer:       {ResourceCall, false, AgentOutcome{}},
	CallVoicemailDiscarded:  {ResourceCall, false, VoicemailDiscarded{}},
	CallIVROptionSelected:   {ResourceCall, true, IVROption{}},
	CallQueued:              {ResourceCall, false, nil},
	CallCallbackRequested:   {ResourceCall, false, nil},
	CallCalledBack:          {ResourceCall, false, nil},
	CallRecordingStarted:    {ResourceCall, false, Recording{}},
	CallMessagePlayed:       {ResourceCall, false, Message{}},
	CallMessageFailed:       {ResourceCall, false, Message{}},
	CallBlocked:             {ResourceCall, false, nil},
	CallOutOfOpeningHours:   {ResourceCall, false, nil},
	CallVoicemailDeleted:    {ResourceCall, false, Recording{}},
	CallVoicemailStarted:    {ResourceCall, false, Recording{}},
	CallHold:                {ResourceCall, true, nil},
	CallUnhold:              {ResourceCall, true, nil},
	CallRecordingPaused:     {ResourceCall, false, Recording{}},
	CallRecordingResumed:    {ResourceCall, false, Recording{}},
	CallSupervised:          {ResourceCall, false, Supervision{}},
	CallSupervisionEnded:    {ResourceCall, false, nil},
	CallHangupRequested:     {ResourceCall, false, nil},
	CallMaxDurationReached:  {ResourceCall, false, nil},
	CallOutboundRefused:     {ResourceCall, false, Refused{}},
	CallWarmTransferStarted: {ResourceCall, false, Transferred{}},

	UserOpened:       {ResourceUser, true, nil},
	UserClosed:       {ResourceUser, true, nil},
	UserWutStart:     {ResourceUser, true, WrapUp{}},
	UserWutEnd:       {ResourceUser, true, nil},
	UserConnected:    {ResourceUser, true, nil},
	UserDisconnected: {ResourceUser, true, nil},
	UserCreated:      {ResourceUser, true, nil},
	UserDeleted:      {ResourceUser, true, Snapshot{}},

	NumberCreated: {ResourceNumber, true, nil},
	NumberDeleted: {ResourceNumber, true, Snapshot{}},
	NumberOpened:  {ResourceNumber, true, nil},
	NumberClosed:  {ResourceNumber, true, nil},

	ContactCreated: {ResourceContact, true, Snapshot{}},
	ContactUpdated: {ResourceContact, true, Snapshot{}},
	ContactDeleted: {ResourceContact, true, Snapshot{}},
}

// Known says whether k is a kind of this package.
func (k Kind) Known() bool {
	_, ok := kinds[k]
	return ok
}

// Resource is what an event of kind k is about ("" for an unknown kind).
func (k Kind) Resource() Resource { return kinds[k].resource }

// Webhook says whether a webhook may subscribe to events of kind k.
func (k Kind) Webhook() bool { return kinds[k].webhook }

// WebhookKinds lists the kinds a webhook may subscribe to, sorted.
func WebhookKinds() []Kind {
	var out []Kind
	for k, m := range kinds {
		if m.webhook {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Payloads of the kinds that carry one: what the event says beyond its
// kind, time, subject (the call, user or number) and author (the user).

// Created: a call to the number To.
type Created struct {
	To string `json:"to"`
}

// AgentOutcome: why an agent's phone stopped ringing (a Q.850 cause).
type AgentOutcome struct {
	Cause int `json:"cause"`
}

// Answered: by an external number (a forward), when not by an agent.
type Answered struct {
	Digits string `json:"digits,omitempty"`
}

// Transferred: to a number of ours (ID) or an external one (Digits).
type Transferred struct {
	Type   string `json:"type"`
	ID     int64  `json:"id,omitempty"`
	Digits string `json:"digits,omitempty"`
}

// Hungup: with the cause the call record shows.
type Hungup struct {
	Cause string `json:"cause"`
}

// VoicemailLeft: the media server's recording Name, Seconds long.
type VoicemailLeft struct {
	Name    string `json:"name"`
	Seconds int    `json:"seconds"`
}

// VoicemailDiscarded: a recording that is no message: silent, too_short.
type VoicemailDiscarded struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// IVROption: the caller pressed Key, which goes to a Target type.
type IVROption struct {
	Key    string `json:"key"`
	Target string `json:"target"`
}

// Recording: the media server's recording of the call.
type Recording struct {
	Name string `json:"name"`
}

// Message: a number's message (welcome, ivr…) or a built-in sound.
type Message struct {
	Message string `json:"message"`
}

// Tagged: the tags put on (or taken off) the call.
type Tagged struct {
	Tags []int64 `json:"tags"`
}

// Commented: the comment added.
type Commented struct {
	CommentID int64 `json:"comment_id"`
}

// Assigned: the user the call is now assigned to.
type Assigned struct {
	UserID int64 `json:"assigned_to"`
}

// WrapUp: how long after-call work lasts.
type WrapUp struct {
	Seconds int `json:"seconds"`
}

// Supervision: a supervisor listens, whispers to the agent, or barges in.
type Supervision struct {
	Mode string `json:"mode"`
}

// Refused: an outbound call not dialled, and why (blocked,
// country_not_allowed, premium_rate, invalid, no_number).
type Refused struct {
	Digits string `json:"digits"`
	Reason string `json:"reason"`
}

// Snapshot: the object as the API showed it, for an event about one that
// is gone (a deleted user or number) or as it was then (a contact).
type Snapshot struct {
	Object json.RawMessage `json:"object"`
}

// Check says whether data is the payload kind k carries: its type, or
// nil (a payload left out).
func Check(k Kind, data any) error {
	m, ok := kinds[k]
	if !ok {
		return fmt.Errorf("events: unknown kind %q", k)
	}
	if data == nil {
		return nil
	}
	if fmt.Sprintf("%T", data) != fmt.Sprintf("%T", m.payload) {
		return fmt.Errorf("events: %s carries %T, not %T", k, m.payload, data)
	}
	return nil
}

// Decode reads the payload of an event of kind k as written (JSON): a
// value of its type, nil for a kind that carries none, and a generic
// map for an unknown kind (written by another version).
func Decode(k Kind, raw []byte) (any, error) {
	if len(raw) == 0 || string(raw) == "{}" || string(raw) == "null" {
		return nil, nil // none was written
	}
	m, ok := kinds[k]
	if !ok || m.payload == nil {
		var out map[string]any
		err := json.Unmarshal(raw, &out)
		return out, err
	}
	switch m.payload.(type) {
	case Created:
		return decode[Created](raw)
	case AgentOutcome:
		return decode[AgentOutcome](raw)
	case Answered:
		return decode[Answered](raw)
	case Transferred:
		return decode[Transferred](raw)
	case Hungup:
		return decode[Hungup](raw)
	case VoicemailLeft:
		return decode[VoicemailLeft](raw)
	case VoicemailDiscarded:
		return decode[VoicemailDiscarded](raw)
	case IVROption:
		return decode[IVROption](raw)
	case Recording:
		return decode[Recording](raw)
	case Message:
		return decode[Message](raw)
	case Tagged:
		return decode[Tagged](raw)
	case Commented:
		return decode[Commented](raw)
	case Assigned:
		return decode[Assigned](raw)
	case WrapUp:
		return decode[WrapUp](raw)
	case Snapshot:
		return decode[Snapshot](raw)
	case Supervision:
		return decode[Supervision](raw)
	case Refused:
		return decode[Refused](raw)
	}
	return nil, fmt.Errorf("events: no decoder for %T", m.payload)
}

func decode[T any](raw []byte) (any, error) {
	var v T
	if len(raw) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("events: %T: %w", v, err)
	}
	return v, nil
}
