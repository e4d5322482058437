package dialplan

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/events"
)

// Direction of a call.
type Direction string

const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// CallStatus is Aircall's: initial (ringing, in IVR, queued), answered, done.
type CallStatus string

const (
	CallInitial  CallStatus = "initial"
	CallAnswered CallStatus = "answered"
	CallDone     CallStatus = "done"
)

// MissedReason says why an inbound call was not answered (Aircall's words).
type MissedReason string

const (
	OutOfOpeningHours   MissedReason = "out_of_opening_hours"
	ShortAbandoned      MissedReason = "short_abandoned"
	AbandonedInIVR      MissedReason = "abandoned_in_ivr"
	AbandonedInClassic  MissedReason = "abandoned_in_classic" // hung up outside the IVR before any agent rang
	NoAvailableAgent    MissedReason = "no_available_agent"
	AgentsDidNotAnswer  MissedReason = "agents_did_not_answer"
	BlockedCaller       MissedReason = "blocked"
	shortAbandonedUnder              = 10 * time.Second
)

// MissedReasons lists every reason: Aircall's, then ours (blocked). The
// order is kept: statistics store a reason as its position here (new
// reasons go at the end).
var MissedReasons = []MissedReason{OutOfOpeningHours, ShortAbandoned, AbandonedInIVR, AbandonedInClassic,
	NoAvailableAgent, AgentsDidNotAnswer, BlockedCaller}

// Anonymous is the raw digits of a caller who hides their number.
const Anonymous = "anonymous"

// Transfer says where a call was forwarded.
type Transfer struct {
	Type   TargetType `json:"type"`
	ID     int64      `json:"id,omitempty"`
	Digits string     `json:"digits,omitempty"`
}

// event is the transfer as a timeline event's payload.
func (t Transfer) event() events.Transferred {
	return events.Transferred{Type: string(t.Type), ID: t.ID, Digits: t.Digits}
}

// Call is the record of one call, as the engine keeps it up to date.
type Call struct {
	ID            CallID
	Company       CompanyID
	Number        NumberID
	Direction     Direction
	Status        CallStatus
	RawDigits     string
	StartedAt     time.Time
	AnsweredAt    *time.Time
	EndedAt       *time.Time
	User          UserID // who answered
	Teams         []TeamID
	MissedReason  MissedReason
	HangupCause   string
	IVROptions    []string
	TransferredTo *Transfer
	// Recording and Voicemail are the media server's names of the call's
	// recording and voicemail, fetched back by the driver.
	Recording string
	Voicemail string
	// MediaRef is the caller's leg on the media server, to settle the call
	// after a reconnect.
	MediaRef string
}

// Unfinished is a call a previous run of switchboard left in progress,
// with its timeline as the call log has it: where the caller was.
type Unfinished struct {
	Call     Call
	Timeline []TimelineEvent
}

// WaitingTime is how long the caller waited before an answer, or before
// the end when nobody answered.
func (c Call) WaitingTime() time.Duration {
	end := c.EndedAt
	if c.AnsweredAt != nil {
		end = c.AnsweredAt
	}
	if end == nil {
		return 0
	}
	return end.Sub(c.StartedAt)
}

// TalkTime is how long the caller and the agent talked.
func (c Call) TalkTime() time.Duration {
	if c.AnsweredAt == nil || c.EndedAt == nil {
		return 0
	}
	return c.EndedAt.Sub(*c.AnsweredAt)
}

// EventTags are the system tags a timeline event puts on its call: the
// call log tags the call when it writes the event.
var EventTags = map[events.Kind]string{
	events.CallCallbackRequested: TagCallbackRequest,
	events.CallCalledBack:        TagCalledBack,
}

// TimelineEvent is one line of a call's timeline: an event of the stream
// about the call. Data is the kind's payload (events.Check).
type TimelineEvent struct {
	Event events.Kind
	At    time.Time
	User  UserID
	Data  any
}

// TaskKind is what an inbox task asks an agent to follow up.
type TaskKind string

const (
	TaskMissedCall      TaskKind = "missed_call"
	TaskVoicemail       TaskKind = "voicemail"
	TaskCallbackRequest TaskKind = "callback_request"
)

// CallLog keeps call records. SaveCall writes the call's current state, its
// new timeline events and new inbox tasks in one transaction; the first
// save creates the call and sets its ID.
type CallLog interface {
	SaveCall(ctx context.Context, c *Call, events []TimelineEvent, tasks []TaskKind) error
}

// Directory is the configuration the engine reads on every call.
type Directory interface {
	Company(ctx context.Context, id CompanyID) (Company, error)
	NumberByDigits(ctx context.Context, digits string) (CompanyID, Number, error)
	Number(ctx context.Context, company CompanyID, id NumberID) (Number, error)
	Team(ctx context.Context, company CompanyID, id TeamID) (Team, error)
	UsersByID(ctx context.Context, company CompanyID, ids []UserID) ([]User, error)
	IsBlocked(ctx context.Context, company CompanyID, digits string) (bool, error)
	DeskPhones
}
