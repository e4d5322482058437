package stats

import (
	"math"

	"github.com/switchboard/switchboard/dialplan"
)

// Reasons are the missed-call reasons in the order call_stats numbers them
// (missed_reason is the place in this list, from 1; 0 for an answered or
// outbound call). The order is stored: append, never reorder.
var Reasons = dialplan.MissedReasons

// ReasonCode is a reason's number in call_stats (0 for none or unknown).
func ReasonCode(r dialplan.MissedReason) int {
	for i, known := range Reasons {
		if known == r {
			return i + 1
		}
	}
	return 0
}

// Sums are the additive figures of a set of calls of one direction: what
// the store reads, summed over buckets and users as a view needs.
type Sums struct {
	Calls      int64
	Answered   int64
	Voicemails int64
	Duration   int64 // seconds from start to end, all calls
	Talk       int64 // seconds answered
	Wait       int64 // seconds waited by the answered calls
	// LongestWait is the longest wait of a call offered to agents (not a
	// maximum of sums: Add keeps the larger).
	LongestWait int64
	Missed      [7]int64 // unanswered inbound calls, by Reasons
	// Offered are the inbound calls that reached the agents' queue: all
	// but blocked callers, calls out of opening hours and short abandons
	// (under 10 s, a wrong number). Service level and abandon rate are
	// over them.
	Offered   int64
	WithinSLA int64 // answered within the number's (or company's) service level
	// Handled calls left the inbox (called back, assigned, archived),
	// Handling seconds after they entered it.
	Handled  int64
	Handling int64
	// Users is how many users the calls are about (the query's users,
	// else its teams' members, else the company's): not a sum, Add
	// leaves it.
	Users int64
}

// Add adds o's figures (all but Users) to s.
func (s *Sums) Add(o Sums) {
	s.Calls += o.Calls
	s.Answered += o.Answered
	s.Voicemails += o.Voicemails
	s.Duration += o.Duration
	s.Talk += o.Talk
	s.Wait += o.Wait
	s.LongestWait = max(s.LongestWait, o.LongestWait)
	for i := range s.Missed {
		s.Missed[i] += o.Missed[i]
	}
	s.Offered += o.Offered
	s.WithinSLA += o.WithinSLA
	s.Handled += o.Handled
	s.Handling += o.Handling
}

// Abandoned counts the offered calls whose caller hung up waiting (in the
// queue or the IVR): short abandons are not offered.
func (s Sums) Abandoned() int64 {
	return s.Missed[ReasonCode(dialplan.AbandonedInClassic)-1] + s.Missed[ReasonCode(dialplan.AbandonedInIVR)-1]
}

// Measures are the figures of the seed's statistics, for a bucket or the
// whole period. Averages and rates are null when there is nothing to
// average (no inbound call has no missed rate); rates are percentages,
// durations seconds unless named minutes.
type Measures struct {
	InboundCalls        int64    `json:"inbound_calls"`
	InboundDurationAvg  *float64 `json:"inbound_duration_avg"`
	OutboundCalls       int64    `json:"outbound_calls"`
	OutboundDurationAvg *float64 `json:"outbound_duration_avg"`
	AnsweredCalls       int64    `json:"answered_calls"`
	MissedCalls         int64    `json:"missed_calls"`
	MissedRate          *float64 `json:"missed_rate"`
	// MissedByReason counts the missed calls by missed_call_reason (every
	// reason, 0 included).
	MissedByReason map[dialplan.MissedReason]int64 `json:"missed_by_reason"`
	VoicemailCalls int64                           `json:"voicemail_calls"`
	VoicemailRate  *float64                        `json:"voicemail_rate"`
	WaitingTimeAvg *float64                        `json:"waiting_time_avg"`
	LongestWait    int64                           `json:"longest_wait"`
	HandledCalls   int64                           `json:"handled_calls"`
	// HandlingTimeAvg: how long missed and assigned calls stayed in the
	// inbox until called back, assigned or archived.
	HandlingTimeAvg        *float64 `json:"handling_time_avg"`
	InboundMinutesPerCall  *float64 `json:"inbound_minutes_per_call"`
	OutboundMinutesPerCall *float64 `json:"outbound_minutes_per_call"`
	InboundCallsPerUser    *float64 `json:"inbound_calls_per_user"`
	OutboundCallsPerUser   *float64 `json:"outbound_calls_per_user"`
	OfferedCalls           int64    `json:"offered_calls"`
	AnsweredWithinSLA      int64    `json:"answered_within_sla"`
	ServiceLevel           *float64 `json:"service_level"`
	AbandonedCalls         int64    `json:"abandoned_calls"`
	AbandonRate            *float64 `json:"abandon_rate"`
}

// Measures computes the measures of inbound and outbound sums.
func Measure(in, out Sums) Measures {
	m := Measures{
		InboundCalls:        in.Calls,
		InboundDurationAvg:  ratio(in.Duration, in.Calls, 1),
		OutboundCalls:       out.Calls,
		OutboundDurationAvg: ratio(out.Duration, out.Calls, 1),
		AnsweredCalls:       in.Answered,
		MissedCalls:         in.Calls - in.Answered,
		MissedRate:          ratio(in.Calls-in.Answered, in.Calls, 100),
		MissedByReason:      map[dialplan.MissedReason]int64{},
		VoicemailCalls:      in.Voicemails,
		VoicemailRate:       ratio(in.Voicemails, in.Calls, 100),
		WaitingTimeAvg:      ratio(in.Wait, in.Answered, 1),
		LongestWait:         in.LongestWait,
		HandledCalls:        in.Handled + out.Handled,
		HandlingTimeAvg:     ratio(in.Handling+out.Handling, in.Handled+out.Handled, 1),
		// minutes of talk per answered call
		InboundMinutesPerCall:  ratio(in.Talk, in.Answered*60, 1),
		OutboundMinutesPerCall: ratio(out.Talk, out.Answered*60, 1),
		InboundCallsPerUser:    ratio(in.Calls, in.Users, 1),
		OutboundCallsPerUser:   ratio(out.Calls, out.Users, 1),
		OfferedCalls:           in.Offered,
		AnsweredWithinSLA:      in.WithinSLA,
		ServiceLevel:           ratio(in.WithinSLA, in.Offered, 100),
		AbandonedCalls:         in.Abandoned(),
		AbandonRate:            ratio(in.Abandoned(), in.Offered, 100),
	}
	for i, r := range Reasons {
		m.MissedByReason[r] = in.Missed[i]
	}
	return m
}

// ratio is a/b×scale to two decimals, nil when b is 0.
func ratio(a, b int64, scale float64) *float64 {
	if b == 0 {
		return nil
	}
	v := math.Round(float64(a)*scale/float64(b)*100) / 100
	return &v
}

// Row is what the store reads of a query's calls of one direction in a
// bucket (from 1).
type Row struct {
	Bucket  int
	Inbound bool
	Sums
}

// UserRow is what the store reads of a query's calls one user answered
// or made, in one direction.
type UserRow struct {
	User    dialplan.UserID
	Inbound bool
	Sums
}

// Figures are a query's sums by bucket and over the period, each
// [inbound, outbound].
type Figures struct {
	Buckets [][2]Sums
	Total   [2]Sums
}

// Combine gathers the store's rows of a plan's query; users is how many
// users the query is about (calls per user).
func (p Plan) Combine(rows []Row, users int64) Figures {
	f := Figures{Buckets: make([][2]Sums, len(p.Buckets))}
	for _, r := range rows {
		dir := 1
		if r.Inbound {
			dir = 0
		}
		f.Buckets[r.Bucket-1][dir].Add(r.Sums)
		f.Total[dir].Add(r.Sums)
	}
	for i := range f.Buckets {
		f.Buckets[i][0].Users, f.Buckets[i][1].Users = users, users
	}
	f.Total[0].Users, f.Total[1].Users = users, users
	return f
}

// ByUser gathers the store's rows of users: [inbound, outbound] each.
func ByUser(rows []UserRow) map[dialplan.UserID]*[2]Sums {
	out := map[dialplan.UserID]*[2]Sums{}
	for _, r := range rows {
		u := out[r.User]
		if u == nil {
			u = &[2]Sums{}
			out[r.User] = u
		}
		if r.Inbound {
			u[0].Add(r.Sums)
		} else {
			u[1].Add(r.Sums)
		}
	}
	return out
}
