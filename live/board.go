package live

import (
	"cmp"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/stats"
	"github.com/switchboard/switchboard/store"
)

// StatePairs are the pairs of kinds that tell an agent's state, as the
// state watcher writes them: (true, false).
var StatePairs = [][2]events.Kind{
	{events.UserOpened, events.UserClosed},
	{events.UserWutStart, events.UserWutEnd},
	{events.UserConnected, events.UserDisconnected},
}

// Board is the live view of every company, built from the stream: Load a
// starting state, then Apply each later event in stream order. It is
// not safe for concurrent use (the Hub locks it).
type Board struct {
	dir       *directory
	companies map[dialplan.CompanyID]*company
	// reload is set when an event says the configuration changed (a user
	// or number created or deleted): names to read again.
	reload bool
}

type company struct {
	id     dialplan.CompanyID
	day    string // today, YYYY-MM-DD in the company's time zone
	calls  map[dialplan.CallID]*call
	agents map[dialplan.UserID]*agent
	// The day's decided inbound calls.
	total    counts
	byNumber map[dialplan.NumberID]*counts
	byTeam   map[dialplan.TeamID]*counts
	dirty    bool // its summary changed since the last one sent
}

type counts struct {
	inbound, offered, answered, within, missed, voicemail int
}

func (c *counts) add(o counts) {
	c.inbound += o.inbound
	c.offered += o.offered
	c.answered += o.answered
	c.within += o.within
	c.missed += o.missed
	c.voicemail += o.voicemail
}

type call struct {
	id           dialplan.CallID
	direction    dialplan.Direction
	number       dialplan.NumberID
	teams        []dialplan.TeamID
	digits       string
	missedReason dialplan.MissedReason
	startedAt    time.Time
	createdAt    time.Time // of call.created
	waitingSince time.Time
	leftAt       time.Time // when it stopped waiting without an answer
	firstRing    time.Time
	answeredAt   time.Time // the first answer
	answered     bool
	// connected: talking with an agent (agent) or an external number
	// (forwardedTo) now.
	connected   bool
	agent       dialplan.UserID
	forwardedTo string
	ringing     []dialplan.UserID
	queued      bool
	held        bool
	blocked     bool
	closed      bool // out of opening hours
	callback    bool // the caller asked to be called back and hung up
	voicemail   bool
	refused     bool // an outbound call not dialled
	ended       bool
	endedAt     time.Time
	decided     bool      // counted in the day's figures (or not to be)
	shown       CallState // the state last shown; "" while not on the board
	last        Call      // the row last sent, durations left out
}

type agent struct {
	id                            dialplan.UserID
	connected, closed, wrapUp     bool
	connectedAt, closedAt, wrapAt time.Time // of the last event of each pair
	wrapUntil                     time.Time
	calls                         []dialplan.CallID // in progress, answered by them
	answeredAt                    time.Time         // of the last of calls
	status                        Status
	since                         time.Time
	removed                       bool
	last                          Agent // the row last sent, durations left out
	lastSet                       bool
}

// NewBoard makes an empty board.
func NewBoard() *Board {
	return &Board{dir: newDirectory(store.LiveDirectory{}), companies: map[dialplan.CompanyID]*company{}}
}

func newCompany(id dialplan.CompanyID) *company {
	return &company{id: id, calls: map[dialplan.CallID]*call{}, agents: map[dialplan.UserID]*agent{},
		byNumber: map[dialplan.NumberID]*counts{}, byTeam: map[dialplan.TeamID]*counts{}}
}

func (b *Board) company(id dialplan.CompanyID) *company {
	co := b.companies[id]
	if co == nil {
		co = newCompany(id)
		b.companies[id] = co
		if b.dir.companies[id] == nil {
			b.reload = true // a company created since the directory was read
		}
	}
	return co
}

func (b *Board) location(co dialplan.CompanyID) *time.Location {
	if dc := b.dir.companies[co]; dc != nil {
		return dc.loc
	}
	return time.UTC
}

func (b *Board) agent(co *company, id dialplan.UserID) *agent {
	a := co.agents[id]
	if a == nil {
		a = &agent{id: id, status: Offline}
		co.agents[id] = a
	}
	return a
}

// TakeReload says whether an event asked for the configuration to be read
// again since the last call.
func (b *Board) TakeReload() bool {
	r := b.reload
	b.reload = false
	return r
}

// SetDirectory gives the board the configuration it shows beside the
// stream, and returns the agents' rows it changed (names, teams, users
// created or deleted). Summaries follow with Summaries.
func (b *Board) SetDirectory(d store.LiveDirectory, now time.Time) []Message {
	b.dir = newDirectory(d)
	var msgs []Message
	for id, dc := range b.dir.companies {
		co := b.company(id)
		co.dirty = true
		for _, u := range dc.users {
			msgs = append(msgs, b.afterAgent(co, b.agent(co, u), time.Time{}, now, false)...)
		}
	}
	for _, co := range b.companies {
		for id, a := range co.agents {
			if du := b.dir.users[id]; du == nil || du.company != co.id {
				msgs = append(msgs, b.removeAgent(co, a, now)...)
			}
		}
	}
	b.Tick(now)
	sortMessages(msgs)
	return msgs
}

// Tick starts a new day for the companies whose day changed: their
// figures of the day start again from nothing.
func (b *Board) Tick(now time.Time) {
	for id, co := range b.companies {
		day := now.In(b.location(id)).Format(time.DateOnly)
		if day == co.day {
			continue
		}
		co.day, co.total = day, counts{}
		co.byNumber, co.byTeam = map[dialplan.NumberID]*counts{}, map[dialplan.TeamID]*counts{}
		co.dirty = true
	}
}

// Load sets the board's starting state (store.LiveStart): what the
// stream last said of each agent, the calls in progress (their timelines
// applied in order), the day's figures. Call it once, after SetDirectory.
func (b *Board) Load(st store.LiveStart, now time.Time) {
	b.Tick(now)
	for _, s := range st.States {
		du := b.dir.users[s.User]
		if s.User == 0 || du == nil {
			continue // a number's, or a user deleted since
		}
		a := b.agent(b.company(du.company), s.User)
		switch s.Kind {
		case events.UserOpened, events.UserClosed:
			a.closed, a.closedAt = s.Kind == events.UserClosed, s.At
		case events.UserWutStart, events.UserWutEnd:
			a.wrapUp, a.wrapAt = s.Kind == events.UserWutStart, s.At
		case events.UserConnected, events.UserDisconnected:
			a.connected, a.connectedAt = s.Kind == events.UserConnected, s.At
		}
	}
	for _, co := range b.companies {
		for _, a := range co.agents {
			a.status = a.compute()
			a.since = a.entered()
		}
	}
	for _, ev := range st.Unfinished {
		b.apply(ev, now, true)
	}
	for _, d := range st.ByNumber {
		co := b.company(d.Company)
		k := dayCounts(d)
		co.total.add(k)
		co.numberCounts(d.Number).add(k)
	}
	for _, d := range st.ByTeam {
		b.company(d.Company).teamCounts(d.Team).add(dayCounts(d))
	}
	for _, co := range b.companies {
		co.dirty = false
		for _, a := range co.agents { // what a client's snapshot shows from now on
			a.last, a.lastSet = b.agentRow(a, now), true
			a.last.StatusSeconds = 0
		}
	}
}

func dayCounts(d store.DayCount) counts {
	return counts{inbound: d.Inbound, offered: d.Offered, answered: d.Answered, within: d.WithinSLA, missed: d.Missed,
		voicemail: d.Voicemail}
}

func (co *company) numberCounts(n dialplan.NumberID) *counts {
	k := co.byNumber[n]
	if k == nil {
		k = &counts{}
		co.byNumber[n] = k
	}
	return k
}

func (co *company) teamCounts(t dialplan.TeamID) *counts {
	k := co.byTeam[t]
	if k == nil {
		k = &counts{}
		co.byTeam[t] = k
	}
	return k
}

// Apply applies one event (the next in stream order) and returns the rows
// it changed, and the call it ended if it ended one. Summaries are left
// for Summaries, once a batch of events is applied.
func (b *Board) Apply(ev store.LiveEvent, now time.Time) ([]Message, *Ended) {
	return b.apply(ev, now, false)
}

// apply applies an event; quiet (loading) changes the state only: no
// message, no figure of the day (the store counted them), no ended call.
func (b *Board) apply(ev store.LiveEvent, now time.Time, quiet bool) ([]Message, *Ended) {
	switch {
	case ev.CallID != 0:
		return b.applyCall(b.company(ev.Company), ev, now, quiet)
	case ev.Kind.Resource() == events.ResourceUser && ev.User != 0:
		return b.applyUser(b.company(ev.Company), ev, now, quiet), nil
	case ev.Kind == events.NumberCreated, ev.Kind == events.NumberDeleted:
		b.reload = true
	}
	return nil, nil
}

// reconfigures says whether an event changes the configuration the
// board shows beside the stream (names, who numbers ring).
func reconfigures(ev store.LiveEvent) bool {
	switch ev.Kind {
	case events.NumberCreated, events.NumberDeleted, events.UserCreated, events.UserDeleted:
		return true
	}
	return false
}

func (b *Board) applyUser(co *company, ev store.LiveEvent, now time.Time, quiet bool) []Message {
	a := b.agent(co, ev.User)
	switch ev.Kind {
	case events.UserOpened, events.UserClosed:
		a.closed, a.closedAt = ev.Kind == events.UserClosed, ev.At
	case events.UserWutStart:
		a.wrapUp, a.wrapAt, a.wrapUntil = true, ev.At, time.Time{}
		if d, ok := ev.Data.(events.WrapUp); ok && d.Seconds > 0 {
			a.wrapUntil = ev.At.Add(time.Duration(d.Seconds) * time.Second)
		}
	case events.UserWutEnd:
		a.wrapUp, a.wrapAt, a.wrapUntil = false, ev.At, time.Time{}
	case events.UserConnected, events.UserDisconnected:
		a.connected, a.connectedAt = ev.Kind == events.UserConnected, ev.At
	case events.UserCreated:
		b.reload = true // their name
	case events.UserDeleted:
		b.reload = true
		if quiet {
			delete(co.agents, a.id)
			return nil
		}
		return b.removeAgent(co, a, now)
	}
	return b.afterAgent(co, a, ev.At, now, quiet)
}

func (b *Board) removeAgent(co *company, a *agent, now time.Time) []Message {
	delete(co.agents, a.id)
	co.dirty = true
	if a.removed {
		return nil
	}
	a.removed = true
	return []Message{{Kind: KindAgent, Company: co.id, Data: b.agentRow(a, now)}}
}

func (b *Board) applyCall(co *company, ev store.LiveEvent, now time.Time, quiet bool) ([]Message, *Ended) {
	c := co.calls[ev.CallID]
	if c == nil {
		if ev.Kind != events.CallCreated || ev.Call == nil {
			return nil, nil // a call done before the board started (tagged, commented…), or deleted
		}
		c = &call{id: ev.CallID, direction: ev.Call.Direction, digits: ev.Call.RawDigits, startedAt: ev.Call.StartedAt,
			createdAt: ev.At, waitingSince: ev.Call.StartedAt}
		co.calls[c.id] = c
	}
	if ev.Call != nil {
		c.number, c.teams, c.missedReason = ev.Call.Number, ev.Call.Teams, ev.Call.MissedReason
	}
	var (
		touched []*agent // agents whose calls changed
		ended   *Ended
	)
	drop := func() { // the agent leaves the call
		if c.agent == 0 {
			return
		}
		if a := co.agents[c.agent]; a != nil {
			a.calls = slices.DeleteFunc(a.calls, func(id dialplan.CallID) bool { return id == c.id })
			touched = append(touched, a)
		}
		c.agent = 0
	}
	switch ev.Kind {
	case events.CallRingingOnAgent:
		if ev.User != 0 && !slices.Contains(c.ringing, ev.User) {
			c.ringing = append(slices.Clone(c.ringing), ev.User)
		}
		if c.firstRing.IsZero() {
			c.firstRing = ev.At
		}
	case events.CallAgentNoAnswer, events.CallAgentDeclined:
		c.ringing = slices.DeleteFunc(slices.Clone(c.ringing), func(u dialplan.UserID) bool { return u == ev.User })
	case events.CallQueued:
		c.queued = true
	case events.CallAnswered:
		c.ringing = nil
		if c.agent != ev.User {
			drop()
		}
		c.forwardedTo = ""
		if ev.User != 0 {
			a := b.agent(co, ev.User)
			if !slices.Contains(a.calls, c.id) {
				a.calls = append(a.calls, c.id)
			}
			a.answeredAt = ev.At
			c.agent = ev.User
			touched = append(touched, a)
		} else if d, ok := ev.Data.(events.Answered); ok {
			c.forwardedTo = d.Digits
		}
		c.connected = true
		if !c.answered {
			c.answered, c.answeredAt = true, ev.At
			b.decide(co, c, quiet)
		}
	case events.CallTransferred:
		// To a number: the agent's part is over, the caller enters the
		// number's flow and waits again. Other transfers keep the agent
		// until whoever answers takes over (call.answered).
		if d, ok := ev.Data.(events.Transferred); ok && d.Type == string(dialplan.TargetNumber) {
			drop()
			c.connected, c.forwardedTo, c.queued, c.ringing, c.waitingSince = false, "", false, nil, ev.At
		}
	case events.CallHold, events.CallUnhold:
		c.held = ev.Kind == events.CallHold
	case events.CallBlocked:
		c.blocked = true
	case events.CallOutOfOpeningHours:
		c.closed = true
	case events.CallCallbackRequested:
		c.callback = true
	case events.CallVoicemailLeft:
		c.voicemail = true
	case events.CallOutboundRefused:
		c.refused = true
	case events.CallEnded:
		c.ended, c.endedAt, c.ringing, c.held = true, ev.At, nil, false
		drop()
		if !c.answered {
			b.decide(co, c, quiet)
		}
		if !quiet && !c.isBlocked() {
			ended = b.endedOf(co, c)
		}
	}
	msgs := b.afterCall(co, c, ev.At, now, quiet)
	for _, a := range touched {
		msgs = append(msgs, b.afterAgent(co, a, ev.At, now, quiet)...)
	}
	return msgs, ended
}

func (c *call) isBlocked() bool { return c.blocked || c.missedReason == dialplan.BlockedCaller }

// state is where the call stands: "" while it is not on the board (an
// outbound call not yet answered; a caller who no longer waits for an
// agent).
func (c *call) state() CallState {
	switch {
	case c.ended:
		return StateEnded
	case c.connected:
		return StateInProgress
	case c.direction == dialplan.Outbound && !c.answered,
		c.isBlocked(), c.closed, c.callback, c.voicemail, c.refused:
		return ""
	}
	return StateWaiting
}

// outcome is how the call ended, or why it left the board.
func (c *call) outcome() string {
	if !c.ended {
		switch {
		case c.isBlocked():
			return "blocked"
		case c.closed:
			return "closed"
		case c.callback:
			return "callback"
		case c.voicemail:
			return "voicemail"
		case c.refused:
			return "refused"
		}
		return ""
	}
	switch {
	case c.answered:
		return "answered"
	case c.direction == dialplan.Outbound && c.refused:
		return "refused"
	case c.direction == dialplan.Outbound:
		return "not_answered"
	case c.voicemail:
		return "voicemail"
	}
	return "missed"
}

// decide counts a call in the day's figures once: when first answered,
// or when it ends unanswered. Quiet (loading), it only notes it: the store
// counted the calls answered before the board started.
func (b *Board) decide(co *company, c *call, quiet bool) {
	if c.decided {
		return
	}
	c.decided = true
	if quiet || c.direction != dialplan.Inbound || c.isBlocked() ||
		c.startedAt.In(b.location(co.id)).Format(time.DateOnly) != co.day {
		return
	}
	k := counts{inbound: 1}
	if c.answered {
		k.answered, k.offered = 1, 1
		if c.answeredAt.Sub(c.startedAt) <= time.Duration(b.dir.sla(b.dir.companies[co.id], c.number))*time.Second {
			k.within = 1
		}
	} else {
		k.missed = 1
		if c.voicemail {
			k.voicemail = 1
		}
		if !c.closed && c.missedReason != dialplan.OutOfOpeningHours && c.missedReason != dialplan.ShortAbandoned {
			k.offered = 1
		}
	}
	co.total.add(k)
	co.numberCounts(c.number).add(k)
	for _, t := range c.teams {
		co.teamCounts(t).add(k)
	}
	co.dirty = true
}

func (b *Board) endedOf(co *company, c *call) *Ended {
	e := &Ended{Company: co.id, Number: c.number, Direction: string(c.direction), Outcome: c.outcome()}
	from := c.createdAt
	if from.IsZero() {
		from = c.startedAt
	}
	if c.answered {
		e.Wait = c.answeredAt.Sub(from)
		if !c.firstRing.IsZero() {
			e.Answer = max(c.answeredAt.Sub(c.firstRing), 0)
		}
	} else {
		e.Wait = c.endedAt.Sub(from)
	}
	e.Wait = max(e.Wait, 0)
	return e
}

// afterCall notes the call's new state and returns its row if it changed.
func (b *Board) afterCall(co *company, c *call, at, now time.Time, quiet bool) []Message {
	st, prev := c.state(), c.shown
	c.shown = st
	if st == "" && prev != "" && c.leftAt.IsZero() {
		c.leftAt = at
	}
	if st == StateWaiting {
		c.leftAt = time.Time{}
	}
	if st == StateEnded {
		delete(co.calls, c.id)
	}
	if st != prev {
		co.dirty = true
	}
	if quiet || st == "" && prev == "" || st == StateEnded && prev == "" {
		return nil
	}
	row := b.callRow(co, c, now)
	key := row
	key.WaitSeconds, key.DurationSeconds = 0, 0
	if st == prev && reflect.DeepEqual(key, c.last) {
		return nil
	}
	c.last = key
	co.dirty = true
	return []Message{{Kind: KindCall, Company: co.id, Data: row}}
}

func (b *Board) callRow(co *company, c *call, now time.Time) Call {
	row := Call{ID: c.id, State: c.shown, Direction: c.direction, NumberID: c.number, NumberName: b.dir.numberName(c.number),
		Teams: slices.Clone(c.teams), RawDigits: c.digits, StartedAt: c.startedAt, Queued: c.queued,
		Ringing: slices.Clone(c.ringing), Held: c.held, UserID: c.agent, UserName: b.dir.userName(c.agent),
		ForwardedTo: c.forwardedTo}
	if row.Teams == nil {
		row.Teams = []dialplan.TeamID{}
	}
	if row.Ringing == nil {
		row.Ringing = []dialplan.UserID{}
	}
	if len(c.teams) > 0 {
		row.TeamID = c.teams[len(c.teams)-1]
		row.TeamName = b.dir.teamName(row.TeamID)
	}
	if c.answered {
		at := c.answeredAt
		row.AnsweredAt = &at
		row.WaitSeconds = seconds(at.Sub(c.startedAt))
	}
	switch {
	case c.shown == StateWaiting:
		since := c.waitingSince
		row.WaitingSince = &since
		row.WaitSeconds = seconds(now.Sub(since))
	case c.shown == StateInProgress:
		row.DurationSeconds = seconds(now.Sub(c.answeredAt))
	case c.ended:
		end := c.endedAt
		row.State, row.EndedAt, row.Outcome = StateEnded, &end, c.outcome()
		if c.answered {
			row.DurationSeconds = seconds(end.Sub(c.answeredAt))
		} else {
			row.WaitSeconds = seconds(end.Sub(c.startedAt))
		}
	default: // left the board before its end
		row.State, row.Outcome = StateEnded, c.outcome()
		if !c.answered {
			row.WaitSeconds = seconds(c.leftAt.Sub(c.startedAt))
		}
	}
	return row
}

// compute is the agent's status, as statistics pick it.
func (a *agent) compute() Status {
	return stats.Agent{Connected: a.connected, Closed: a.closed, WrapUp: a.wrapUp, Calls: len(a.calls)}.Status()
}

// entered is when the agent entered their status, from the times of the
// facts it rests on (at load, when the transitions are not known).
func (a *agent) entered() time.Time {
	switch a.status {
	case InCall:
		return a.answeredAt
	case AfterCallWork:
		return a.wrapAt
	case Offline:
		return a.connectedAt
	case DoNotDisturb:
		return a.closedAt
	}
	latest := a.connectedAt
	for _, t := range []time.Time{a.closedAt, a.wrapAt} {
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

// afterAgent recomputes the agent's status (entered at at when it
// changes) and returns their row if it changed.
func (b *Board) afterAgent(co *company, a *agent, at, now time.Time, quiet bool) []Message {
	if s := a.compute(); s != a.status {
		a.status, a.since = s, at
		co.dirty = true
	} else if a.since.IsZero() {
		// The status it had from the start (offline): now the stream
		// says since when.
		a.since = a.entered()
	}
	if quiet {
		return nil
	}
	row := b.agentRow(a, now)
	key := row
	key.StatusSeconds = 0
	if a.lastSet && reflect.DeepEqual(key, a.last) {
		return nil
	}
	a.last, a.lastSet = key, true
	return []Message{{Kind: KindAgent, Company: co.id, Data: row}}
}

func (b *Board) agentRow(a *agent, now time.Time) Agent {
	row := Agent{UserID: a.id, Name: b.dir.userName(a.id), Status: a.status, Teams: []dialplan.TeamID{}, Removed: a.removed}
	if du := b.dir.users[a.id]; du != nil && len(du.teams) > 0 {
		row.Teams = slices.Clone(du.teams)
	}
	if !a.since.IsZero() {
		since := a.since
		row.Since = &since
		row.StatusSeconds = seconds(now.Sub(since))
	}
	if a.status == InCall {
		row.CallID = a.calls[len(a.calls)-1]
	}
	if a.status == AfterCallWork && !a.wrapUntil.IsZero() {
		until := a.wrapUntil
		row.WrapUpUntil = &until
	}
	return row
}

func seconds(d time.Duration) int { return int(max(d, 0) / time.Second) }

// Summaries returns the summary of every company whose figures changed
// since the last call.
func (b *Board) Summaries(now time.Time) []Message {
	var msgs []Message
	for id, co := range b.companies {
		if co.dirty {
			co.dirty = false
			msgs = append(msgs, Message{Kind: KindSummary, Company: id, Data: b.summary(co, now)})
		}
	}
	sortMessages(msgs)
	return msgs
}

func sortMessages(msgs []Message) {
	slices.SortStableFunc(msgs, func(a, b Message) int { return cmp.Compare(a.Company, b.Company) })
}

// summary is a company's figures, its numbers' and its teams'.
func (b *Board) summary(co *company, now time.Time) Summary {
	dc := b.dir.companies[co.id]
	s := Summary{Company: CompanyTotals{Agents: statusCounts()}, Numbers: []NumberTotals{}, Teams: []TeamTotals{}}
	if dc != nil {
		s.Company.TimeZone, s.Company.SLASeconds = dc.timeZone, dc.sla
	}
	numbers := map[dialplan.NumberID]*NumberTotals{}
	number := func(id dialplan.NumberID) *NumberTotals {
		if n := numbers[id]; n != nil {
			return n
		}
		n := &NumberTotals{NumberID: id, Name: b.dir.numberName(id), SLASeconds: b.dir.sla(dc, id)}
		numbers[id] = n
		return n
	}
	teams := map[dialplan.TeamID]*TeamTotals{}
	team := func(id dialplan.TeamID) *TeamTotals {
		if t := teams[id]; t != nil {
			return t
		}
		t := &TeamTotals{TeamID: id, Name: b.dir.teamName(id), Agents: statusCounts()}
		teams[id] = t
		return t
	}
	if dc != nil {
		for _, n := range dc.numbers {
			number(n)
		}
		for _, t := range dc.teams {
			tt := team(t)
			for _, u := range b.dir.teams[t].members {
				if a := co.agents[u]; a != nil {
					tt.Agents[a.status]++
				}
			}
		}
	}
	for _, c := range co.calls {
		if c.shown != StateWaiting && c.shown != StateInProgress {
			continue
		}
		totals := []*Totals{&s.Company.Totals, &number(c.number).Totals}
		if len(c.teams) > 0 {
			totals = append(totals, &team(c.teams[len(c.teams)-1]).Totals)
		}
		for _, t := range totals {
			t.addCall(c, now)
		}
	}
	for _, a := range co.agents {
		s.Company.Agents[a.status]++
	}
	s.Company.Today = today(co.day, co.total)
	for id, n := range numbers {
		k := co.byNumber[id]
		if k == nil {
			k = &counts{}
		}
		n.Today = today(co.day, *k)
		s.Numbers = append(s.Numbers, *n)
	}
	for id, t := range teams {
		k := co.byTeam[id]
		if k == nil {
			k = &counts{}
		}
		t.Today = today(co.day, *k)
		s.Teams = append(s.Teams, *t)
	}
	slices.SortFunc(s.Numbers, func(a, b NumberTotals) int { return cmp.Compare(a.NumberID, b.NumberID) })
	slices.SortFunc(s.Teams, func(a, b TeamTotals) int { return cmp.Compare(a.TeamID, b.TeamID) })
	return s
}

func statusCounts() map[Status]int {
	m := make(map[Status]int, len(Statuses))
	for _, s := range Statuses {
		m[s] = 0
	}
	return m
}

func (t *Totals) addCall(c *call, now time.Time) {
	if c.shown == StateInProgress {
		t.InProgress++
		return
	}
	t.Waiting++
	if t.OldestWaitingSince == nil || c.waitingSince.Before(*t.OldestWaitingSince) {
		since := c.waitingSince
		t.OldestWaitingSince = &since
		t.LongestWaitSeconds = seconds(now.Sub(since))
	}
}

func today(day string, k counts) Today {
	t := Today{Date: day, Inbound: k.inbound, Offered: k.offered, Answered: k.answered, AnsweredWithinSLA: k.within,
		Missed: k.missed, Voicemail: k.voicemail}
	if k.offered > 0 {
		sl := math.Round(float64(k.within)*1000/float64(k.offered)) / 10
		t.ServiceLevel = &sl
	}
	return t
}

// Snapshot is the company's board as the filter shows it.
func (b *Board) Snapshot(company dialplan.CompanyID, f Filter, now time.Time) Snapshot {
	snap := Snapshot{At: now, Calls: []Call{}, Agents: []Agent{}}
	co := b.companies[company]
	if co == nil {
		co = newCompany(company) // nothing yet: an empty board, not kept
	}
	for _, c := range co.calls {
		if c.shown != StateWaiting && c.shown != StateInProgress {
			continue
		}
		if row := b.callRow(co, c, now); b.keepCall(f, row) {
			snap.Calls = append(snap.Calls, row)
		}
	}
	slices.SortFunc(snap.Calls, func(a, b Call) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, a := range co.agents {
		if row := b.agentRow(a, now); b.keepAgent(f, row) {
			snap.Agents = append(snap.Agents, row)
		}
	}
	slices.SortFunc(snap.Agents, func(a, b Agent) int { return cmp.Compare(a.UserID, b.UserID) })
	snap.Summary = filterSummary(f, b.summary(co, now))
	return snap
}

// Keep returns what of a message the filter shows: false for nothing.
func (b *Board) Keep(f Filter, m Message) (Message, bool) {
	if len(f.Numbers) == 0 && len(f.Teams) == 0 {
		return m, true
	}
	switch d := m.Data.(type) {
	case Call:
		return m, b.keepCall(f, d)
	case Agent:
		return m, d.Removed || b.keepAgent(f, d)
	case Summary:
		m.Data = filterSummary(f, d)
		return m, true
	}
	return m, true
}

func (b *Board) keepCall(f Filter, c Call) bool {
	if len(f.Numbers) > 0 && !slices.Contains(f.Numbers, c.NumberID) {
		return false
	}
	return len(f.Teams) == 0 || slices.ContainsFunc(c.Teams, func(t dialplan.TeamID) bool { return slices.Contains(f.Teams, t) })
}

func (b *Board) keepAgent(f Filter, a Agent) bool {
	if len(f.Teams) > 0 && !slices.ContainsFunc(a.Teams, func(t dialplan.TeamID) bool { return slices.Contains(f.Teams, t) }) {
		return false
	}
	return len(f.Numbers) == 0 || slices.ContainsFunc(f.Numbers, func(n dialplan.NumberID) bool {
		dn := b.dir.numbers[n]
		return dn != nil && dn.rings[a.UserID]
	})
}

func filterSummary(f Filter, s Summary) Summary {
	if len(f.Numbers) > 0 {
		s.Numbers = slices.DeleteFunc(slices.Clone(s.Numbers), func(n NumberTotals) bool { return !slices.Contains(f.Numbers, n.NumberID) })
	}
	if len(f.Teams) > 0 {
		s.Teams = slices.DeleteFunc(slices.Clone(s.Teams), func(t TeamTotals) bool { return !slices.Contains(f.Teams, t.TeamID) })
	}
	return s
}

// Figures is the board in numbers: every number of the directory and
// every status appear, 0 included, so that a gauge goes back to 0.
func (b *Board) Figures(now time.Time) Figures {
	var f Figures
	ids := make([]dialplan.CompanyID, 0, len(b.companies))
	for id := range b.companies {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		co := b.companies[id]
		waiting, inProgress := map[dialplan.NumberID]int{}, map[dialplan.NumberID]int{}
		longest := map[dialplan.NumberID]time.Duration{}
		numbers := []dialplan.NumberID{}
		if dc := b.dir.companies[id]; dc != nil {
			numbers = slices.Clone(dc.numbers)
		}
		for _, n := range numbers {
			waiting[n], inProgress[n], longest[n] = 0, 0, 0
		}
		for _, c := range co.calls {
			switch c.shown {
			case StateWaiting:
				waiting[c.number]++
				longest[c.number] = max(longest[c.number], max(now.Sub(c.waitingSince), 0))
			case StateInProgress:
				inProgress[c.number]++
			default:
				continue
			}
			if !slices.Contains(numbers, c.number) {
				numbers = append(numbers, c.number)
			}
		}
		slices.Sort(numbers)
		for _, n := range numbers {
			f.Waiting = append(f.Waiting, NumberCount{Company: id, Number: n, Count: waiting[n]})
			f.InProgress = append(f.InProgress, NumberCount{Company: id, Number: n, Count: inProgress[n]})
			f.LongestWait = append(f.LongestWait, NumberWait{Company: id, Number: n, Wait: longest[n]})
		}
		agents := statusCounts()
		for _, a := range co.agents {
			agents[a.status]++
		}
		for _, s := range Statuses {
			f.Agents = append(f.Agents, StatusCount{Company: id, Status: s, Count: agents[s]})
		}
	}
	return f
}

// CallRow is the current row of a call on the board, if it is there.
func (b *Board) CallRow(company dialplan.CompanyID, id dialplan.CallID, now time.Time) (Call, bool) {
	co := b.companies[company]
	if co == nil {
		return Call{}, false
	}
	c := co.calls[id]
	if c == nil {
		return Call{}, false
	}
	return b.callRow(co, c, now), true
}

// EndedRow is the row of a call that ended, from its record: for a
// client told of the calls that ended while it was away.
func (b *Board) EndedRow(rec dialplan.Call) Call {
	row := Call{ID: rec.ID, State: StateEnded, Direction: rec.Direction, NumberID: rec.Number,
		NumberName: b.dir.numberName(rec.Number), Teams: slices.Clone(rec.Teams), RawDigits: rec.RawDigits,
		StartedAt: rec.StartedAt, Ringing: []dialplan.UserID{}, UserID: rec.User, UserName: b.dir.userName(rec.User),
		AnsweredAt: rec.AnsweredAt, EndedAt: rec.EndedAt, WaitSeconds: seconds(rec.WaitingTime()),
		DurationSeconds: seconds(rec.TalkTime())}
	if row.Teams == nil {
		row.Teams = []dialplan.TeamID{}
	}
	if len(rec.Teams) > 0 {
		row.TeamID = rec.Teams[len(rec.Teams)-1]
		row.TeamName = b.dir.teamName(row.TeamID)
	}
	switch {
	case rec.AnsweredAt != nil:
		row.Outcome = "answered"
	case rec.Direction == dialplan.Outbound:
		row.Outcome = "not_answered"
	case rec.Voicemail != "":
		row.Outcome = "voicemail"
	default:
		row.Outcome = "missed"
	}
	return row
}
