// Package live is the live view of a contact centre, what a supervisor's
// wallboard shows: the calls waiting and in progress, every agent's
// status, and the day's service level, per company, number and team.
//
// It is a projection of the one event stream (package events, the events
// table): a Board applies events one at a time and says which rows they
// changed; a Hub builds a Board from PostgreSQL, follows the stream in
// order (store.StreamAfter), and fans the changes out to subscribers (the
// API's server-sent events), keeping the recent ones so that a client
// that reconnects misses nothing.
//
// What the board derives, from the events alone:
//   - a call waits from call.created until answered or ended; a caller
//     who is blocked, calls a closed line, asks to be called back or
//     leaves a voicemail no longer waits for an agent and leaves the
//     board (an "ended" row with the reason) before the call ends; an
//     outbound call shows once answered;
//   - a call is in progress from call.answered (by an agent, or by an
//     external number it was forwarded to) until it ends, or until it is
//     transferred to a number (then it waits again);
//   - an agent's status, first that applies: in_call (a call they
//     answered is in progress: an agent on their mobile is in a call with
//     no phone registered), after_call_work (user.wut_start until
//     user.wut_end), offline (no phone registered: user.disconnected
//     until user.connected), do_not_disturb (user.closed until
//     user.opened: unavailable, or outside their working hours), else
//     available. The same order as statistics (stats.Agent). Waiting to
//     tag a call (pending_tag) has no event and does not show;
//   - the day's figures count the inbound calls started today (in the
//     company's time zone) once decided: answered, or ended unanswered
//     (missed); blocked callers are left out, as statistics leave them.
//     The service level is the share of offered calls (neither out of
//     opening hours nor short abandons, as statistics) answered within
//     the number's service level, else the company's.
package live

import (
	"errors"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/stats"
)

// Status is an agent's live status: statistics' (stats.Status), so that
// the wallboard and the productivity figures never disagree on what an
// agent was doing.
type Status = stats.Status

const (
	Available     = stats.Available
	InCall        = stats.InCall
	AfterCallWork = stats.AfterCallWork
	DoNotDisturb  = stats.DoNotDisturb
	Offline       = stats.Offline
)

// Statuses lists the statuses in the order an agent's is picked: the
// first that applies.
var Statuses = stats.Statuses

// CallState is where a call stands on the board.
type CallState string

const (
	StateWaiting    CallState = "waiting"
	StateInProgress CallState = "in_progress"
	// StateEnded: the call left the board. EndedAt says whether it ended;
	// without it, the caller no longer waits for an agent (Outcome says
	// why: blocked, closed, callback, voicemail, refused).
	StateEnded CallState = "ended"
)

// Call is a call's row (the data of a `call` message).
type Call struct {
	ID         dialplan.CallID    `json:"id"`
	State      CallState          `json:"state"`
	Direction  dialplan.Direction `json:"direction"`
	NumberID   dialplan.NumberID  `json:"number_id"` // 0: none
	NumberName string             `json:"number_name"`
	// TeamID is the last team its ring steps reached (0: none yet); Teams
	// all of them, in order.
	TeamID    dialplan.TeamID   `json:"team_id"`
	TeamName  string            `json:"team_name"`
	Teams     []dialplan.TeamID `json:"teams"`
	RawDigits string            `json:"raw_digits"`
	StartedAt time.Time         `json:"started_at"`
	// WaitingSince is when the caller started waiting: the call's start,
	// or its transfer to a number; null unless waiting.
	WaitingSince *time.Time `json:"waiting_since"`
	// WaitSeconds: waiting, how long so far; else how long the caller
	// waited before the answer (or before leaving).
	WaitSeconds int               `json:"wait_seconds"`
	Queued      bool              `json:"queued"`
	Ringing     []dialplan.UserID `json:"ringing"` // the agents being rung for it now
	Held        bool              `json:"held"`
	// In progress: the agent talking (0 when answered by an external
	// number, ForwardedTo), since when, and for how long so far.
	UserID          dialplan.UserID `json:"user_id"`
	UserName        string          `json:"user_name"`
	ForwardedTo     string          `json:"forwarded_to"`
	AnsweredAt      *time.Time      `json:"answered_at"`
	DurationSeconds int             `json:"duration_seconds"`
	EndedAt         *time.Time      `json:"ended_at"`
	// Outcome, once ended: answered, missed, voicemail (inbound);
	// answered, not_answered, refused (outbound); or why it left the
	// board before ending: blocked, closed, callback, voicemail, refused.
	Outcome string `json:"outcome"`
}

// Agent is an agent's row (the data of an `agent` message).
type Agent struct {
	UserID dialplan.UserID `json:"user_id"`
	Name   string          `json:"name"`
	Status Status          `json:"status"`
	// Since is when they entered their status, as far as the stream
	// tells (null when it never said); StatusSeconds how long ago.
	Since         *time.Time        `json:"since"`
	StatusSeconds int               `json:"status_seconds"`
	CallID        dialplan.CallID   `json:"call_id"`       // in_call: their call
	WrapUpUntil   *time.Time        `json:"wrap_up_until"` // after_call_work: when it ends
	Teams         []dialplan.TeamID `json:"teams"`
	// Removed: the user was deleted, the row goes.
	Removed bool `json:"removed"`
}

// Totals are the figures of a set of calls: the company's, a number's
// or a team's.
type Totals struct {
	Waiting int `json:"waiting"`
	// LongestWaitSeconds is the wait so far of the caller waiting longest,
	// waiting since OldestWaitingSince (null when nobody waits).
	LongestWaitSeconds int        `json:"longest_wait_seconds"`
	OldestWaitingSince *time.Time `json:"oldest_waiting_since"`
	InProgress         int        `json:"in_progress"`
	Today              Today      `json:"today"`
}

// Today is the day's inbound calls, decided (answered or ended).
type Today struct {
	Date              string `json:"date"` // YYYY-MM-DD in the company's time zone
	Inbound           int    `json:"inbound"`
	Offered           int    `json:"offered"`
	Answered          int    `json:"answered"`
	AnsweredWithinSLA int    `json:"answered_within_sla"`
	Missed            int    `json:"missed"`
	Voicemail         int    `json:"voicemail"`
	// ServiceLevel is the percentage of offered calls answered within
	// the service level; null when none was offered.
	ServiceLevel *float64 `json:"service_level"`
}

// Summary is the data of a `summary` message: the company's figures
// (whatever the filter), and those of its numbers and teams (those of the
// filter, when it names some).
type Summary struct {
	Company CompanyTotals  `json:"company"`
	Numbers []NumberTotals `json:"numbers"`
	Teams   []TeamTotals   `json:"teams"`
}

// CompanyTotals are the whole company's figures.
type CompanyTotals struct {
	Totals
	TimeZone   string         `json:"time_zone"`
	SLASeconds int            `json:"sla_seconds"`
	Agents     map[Status]int `json:"agents"` // every status, 0 included
}

// NumberTotals are a number's figures (NumberID 0: calls without one).
type NumberTotals struct {
	NumberID   dialplan.NumberID `json:"number_id"`
	Name       string            `json:"name"`
	SLASeconds int               `json:"sla_seconds"`
	Totals
}

// TeamTotals are a team's figures: the calls its ring steps reached, and
// its members by status.
type TeamTotals struct {
	TeamID dialplan.TeamID `json:"team_id"`
	Name   string          `json:"name"`
	Totals
	Agents map[Status]int `json:"agents"`
}

// Snapshot is the whole board as a filter shows it: the data of a
// `snapshot` message, and GET /v1/live/snapshot.
type Snapshot struct {
	// Cursor is the stream position it shows: every event up to it.
	Cursor  string    `json:"cursor"`
	At      time.Time `json:"at"`
	Calls   []Call    `json:"calls"` // waiting and in progress, oldest first
	Agents  []Agent   `json:"agents"`
	Summary Summary   `json:"summary"`
}

// Message kinds.
const (
	KindSnapshot = "snapshot"
	KindCall     = "call"
	KindAgent    = "agent"
	KindSummary  = "summary"
)

// Message is one change: a row (Call, Agent), a Summary, or a Snapshot,
// of a company.
type Message struct {
	Kind    string
	Company dialplan.CompanyID
	Data    any // Call, Agent, Summary or Snapshot
}

// Batch is the messages of one place in the stream: what the events up
// to Cursor changed.
type Batch struct {
	Cursor   events.Cursor
	Messages []Message
}

// Filter limits a view to numbers and teams; each list given must match
// (an empty one matches all), any of its ids will do.
//   - a call shows if its number is one of Numbers, and one of the teams
//     its ring steps reached is one of Teams;
//   - an agent shows if a member of one of Teams, and rung by one of
//     Numbers: a user or team of its ring steps or of its IVR options;
//   - a summary shows the numbers of Numbers and the teams of Teams (all
//     when the list is empty), and always the company's figures.
type Filter struct {
	Numbers []dialplan.NumberID
	Teams   []dialplan.TeamID
}

// Figures is the board in numbers, read by metrics at each scrape.
type Figures struct {
	Waiting     []NumberCount // calls waiting, per company and number (Number 0: none)
	InProgress  []NumberCount // calls answered and not ended
	Agents      []StatusCount // agents per company and status
	LongestWait []NumberWait  // per company and number, the longest current wait
}

// NumberCount is a count of calls of a company's number.
type NumberCount struct {
	Company dialplan.CompanyID
	Number  dialplan.NumberID
	Count   int
}

// NumberWait is the longest wait of a company's number.
type NumberWait struct {
	Company dialplan.CompanyID
	Number  dialplan.NumberID
	Wait    time.Duration
}

// StatusCount is how many agents of a company have a status.
type StatusCount struct {
	Company dialplan.CompanyID
	Status  Status
	Count   int
}

// Ended is a call that ended, as the board saw it (metrics' counters and
// histograms).
type Ended struct {
	Company   dialplan.CompanyID
	Number    dialplan.NumberID
	Direction string        // "inbound" | "outbound"
	Outcome   string        // "answered", "missed", "voicemail" (inbound); "answered", "not_answered", "refused" (outbound)
	Wait      time.Duration // inbound: from call.created until answered, or until the end when not answered
	Answer    time.Duration // answered calls: from the first call.ringing_on_agent to call.answered (0 otherwise)
}

// Observer hears every call the board sees end (blocked callers excepted:
// statistics leave them out too). It is called outside the hub's lock,
// from the goroutine that reads the stream: it must not block.
type Observer interface{ CallEnded(Ended) }

// Errors of Subscribe and Snapshot.
var (
	ErrNotReady = errors.New("the live view is not ready yet")
	ErrStopped  = errors.New("the live view stopped")
	ErrSlow     = errors.New("the subscriber fell behind")
)
