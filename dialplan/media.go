package dialplan

import (
	"context"
	"errors"
	"io"
	"time"
)

// LegID names one channel on the media server: the caller's, an agent's
// phone, an external number (an ARI channel id, a FreeSWITCH uuid).
type LegID string

// BridgeID names a mix of legs on the media server.
type BridgeID string

// Cause is a Q.850 hang-up cause, the language both Asterisk and
// FreeSWITCH speak.
type Cause int

const (
	CauseUnallocated       Cause = 1  // unknown number
	CauseNormal            Cause = 16 // normal clearing
	CauseBusy              Cause = 17 // user busy
	CauseNoAnswer          Cause = 19 // user alerting, no answer
	CauseRejected          Cause = 21 // call rejected (declined)
	CauseAnsweredElsewhere Cause = 26
	CauseUnreachable       Cause = 27 // destination out of order
	CauseUnspecified       Cause = 31 // normal, unspecified
	CauseCongestion        Cause = 34 // no circuit: the system cannot take the call
	CauseTemporaryFailure  Cause = 41
)

// ErrGone is returned by a media operation on a leg that has hung up. The
// operation does not block; the flow just stops.
var ErrGone = errors.New("the leg has hung up")

// Recordings reads back what the media server recorded (a conversation,
// a voicemail) under the name the engine gave it (Call.Recording,
// Call.Voicemail), and deletes it. The caller closes the file.
type Recordings interface {
	OpenRecording(ctx context.Context, name string) (io.ReadCloser, error)
	// DeleteRecording removes the recording from the media server's
	// storage; one it has not (any more) is ErrNoRecording.
	DeleteRecording(ctx context.Context, name string) error
}

// ErrNoRecording: the media server has no recording of that name (never
// made, deleted, or out of this host's reach).
var ErrNoRecording = errors.New("the media server has no such recording")

// EventKind is what happened on the media server or in the engine.
type EventKind int

const (
	// Digit: the caller pressed Digit.
	EvDigit EventKind = iota + 1
	// Ringing: an originated leg rings.
	EvRinging
	// Answered: an originated leg answered.
	EvAnswered
	// Hangup: the leg is gone, with Cause. For an originated leg that never
	// answered the cause says why: busy, rejected, no answer, unreachable.
	EvHangup
	// PlaybackDone: the prompt Playback ended (played through, stopped, or
	// failed when Failed is set).
	EvPlaybackDone
	// RecordingDone: the recording Recording ended, Duration long.
	EvRecordingDone
	// Timer: a timer of the engine fired (Timer says which).
	EvTimer
	// Offer: the queue offers a free agent (User) to the waiting call.
	EvOffer
	// Command: an action asked of the call in progress (Engine.Act).
	EvCommand
	// TransferAsked: a phone asked to transfer its call to To, as dialled
	// (a SIP REFER: a blind transfer from the phone). Leg is the phone
	// that asked; with Moved, it is the other party instead, whom the
	// media server took out of the bridge to carry the request
	// (FreeSWITCH transfers the referrer's partner).
	EvTransferAsked
)

// Event is delivered to the Sink of the call a leg belongs to.
type Event struct {
	Kind      EventKind
	Leg       LegID
	Digit     string
	Cause     Cause
	Playback  string
	Failed    bool
	Recording string
	Duration  time.Duration
	Timer     int
	User      UserID
	To        string
	Moved     bool
	command   *command
}

// Sink receives the events of one call. Post never blocks.
type Sink interface {
	Post(Event)
}

// Prompt is something to play: a number's message, or a built-in sound
// when Message is nil (Sound names it: "beep", "voicemail_greeting", ...).
type Prompt struct {
	Number  NumberID
	Kind    MessageKind
	Message *Message
	Sound   string
}

// Dial says which phone to ring for an agent leg or a forward.
type Dial struct {
	// Endpoint is a device dial string (PJSIP/alice, user/1001), or empty
	// when External is set.
	Endpoint string
	// External is an E.164 number, dialled through the PBX's trunk.
	External string
	// CallerID is shown on the phone that rings.
	CallerID string
	// Timeout bounds the ringing; the leg then hangs up with CauseNoAnswer.
	Timeout time.Duration
	// Originator is the caller's leg (ARI's originator, FreeSWITCH's
	// origination variables) so the PBX links the two.
	Originator LegID
}

// RecordTarget is what a recording takes: a bridge (a conversation) or a
// single leg (a voicemail).
type RecordTarget struct {
	Bridge BridgeID
	Leg    LegID
}

// SnoopMode is what a supervisor does to a call.
type SnoopMode string

const (
	Listen  SnoopMode = "listen"  // hears both sides
	Whisper SnoopMode = "whisper" // only the agent hears the supervisor
	Barge   SnoopMode = "barge"   // both hear the supervisor
	// Consult: a warm transfer's target and the agent talk, the caller
	// (held) hears neither; the engine's own mode, not a supervisor's.
	Consult SnoopMode = "consult"
)

// MediaServer is what the engine asks of Asterisk or FreeSWITCH. Every
// method returns as soon as the server took the order; outcomes arrive as
// Events on the call's Sink. A method on a leg that hung up returns ErrGone.
type MediaServer interface {
	Answer(ctx context.Context, leg LegID) error
	// Ring plays a ringing tone to the caller (180 before answer, in-band after).
	Ring(ctx context.Context, leg LegID) error
	// Play starts a prompt and names the playback; EvPlaybackDone follows.
	Play(ctx context.Context, leg LegID, p Prompt) (string, error)
	// StopPlayback stops a prompt early (a digit was pressed).
	StopPlayback(ctx context.Context, playback string) error
	// StartMusic plays music on hold until StopMusic (or another sound).
	StartMusic(ctx context.Context, leg LegID) error
	StopMusic(ctx context.Context, leg LegID) error
	// Originate rings a phone; its events go to sink.
	Originate(ctx context.Context, d Dial, sink Sink) (LegID, error)
	// Bridge mixes two answered legs. When a is bridged already (a
	// caller transferred), b joins a's bridge, which keeps its recording.
	Bridge(ctx context.Context, a, b LegID) (BridgeID, error)
	// Record records a bridge or a leg under name, for at most max;
	// EvRecordingDone follows.
	Record(ctx context.Context, t RecordTarget, name string, max time.Duration) error
	// Snoop connects a supervisor's phone to an agent's leg.
	Snoop(ctx context.Context, agent LegID, mode SnoopMode, supervisor Dial, sink Sink) (LegID, error)
	// SwitchSnoop changes what a supervisor connected by Snoop does
	// (listen, whisper, barge) without ringing their phone again.
	SwitchSnoop(ctx context.Context, supervisor LegID, mode SnoopMode) error
	// Hold puts a connected caller on hold: they hear music, and the
	// agent no longer hears them. Unhold puts them back.
	Hold(ctx context.Context, leg LegID) error
	Unhold(ctx context.Context, leg LegID) error
	// PauseRecording stops a recording started by Record from taking the
	// conversation (a card number is read out) until ResumeRecording.
	PauseRecording(ctx context.Context, name string) error
	ResumeRecording(ctx context.Context, name string) error
	Hangup(ctx context.Context, leg LegID, cause Cause) error
	// Decline sends a new call back to the PBX's dialplan, to the
	// fallback it has for when switchboard is down (switchboard is
	// shutting down: Engine.Drain).
	Decline(ctx context.Context, leg LegID) error
	// Adopt follows again the caller's leg of a call begun before a
	// restart of Switchboard: its events go to sink from now on. It asks
	// nothing of the server, so it can be done before the driver
	// connects: a leg that is gone is told by an EvHangup at the
	// (re)connect, as for any leg the driver follows.
	Adopt(leg LegID, sink Sink)
	// Bridged lists the legs the server has bridged with leg (an agent
	// talking with an adopted caller) and follows them: their events go
	// to sink. It needs the link to the server.
	Bridged(ctx context.Context, leg LegID, sink Sink) ([]LegID, error)
	// Ready says whether the link to the server is up (nil) and what was
	// adopted settled against it: a call taken over waits for it.
	Ready(ctx context.Context) error
	// AdoptRecording follows again the recording name of an adopted leg,
	// begun before a restart (a caller leaving a voicemail): true when it
	// is still going, its end then coming as EvRecordingDone; false when
	// the server has no such recording. It needs the link to the server.
	AdoptRecording(ctx context.Context, leg LegID, name string) (bool, error)
}

// Calls takes the calls a media driver receives: the engine.
type Calls interface {
	Handle(InboundCall) Sink
}

// Presence is told by a media driver whether devices are registered: the
// ACD.
type Presence interface {
	SetPresence(endpoint string, online bool)
}

// InboundCall is a call the media server hands to the engine.
type InboundCall struct {
	Leg LegID
	// To is the number dialled, in E.164 (the driver normalises it).
	To string
	// From is the caller's number in E.164, or "" when hidden.
	From string
	// Device is set when a user's desk phone places the call (the PBX's
	// phones context hands it over): the phone's dial string (PJSIP/alice,
	// user/alice). To is then what the user dialled, as dialled.
	Device string
}
