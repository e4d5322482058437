package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/switchboard/switchboard/events"
)

// Engine runs calls: one goroutine per call, running the number's flow as
// plain sequential code until the caller hangs up.
type Engine struct {
	dir   Directory
	log   CallLog
	media MediaServer
	// recordings reads back what media recorded (nil: nothing is read).
	recordings Recordings
	clock      Clock
	acd        *ACD
	logger     *slog.Logger
	rand       func(n int) int
	ended      func(Result)

	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	// base is the context every call's derives from; it ends once every
	// call is recorded (Stop).
	base     context.Context
	stopBase context.CancelFunc

	// live is the registry of calls in progress, by id, for commands.
	mu   sync.Mutex
	live map[CallID]*liveCall
	// running counts the calls' goroutines; once draining, no new one
	// starts, and idle is told when the last one ends (Drain).
	running  int
	draining bool
	idle     []chan struct{}
}

// Config are the parts an Engine works with.
type Config struct {
	Directory Directory
	CallLog   CallLog
	Media     MediaServer
	// Recordings reads back what Media recorded, to judge a voicemail
	// (a driver implements both); nil keeps every message of a second
	// or more.
	Recordings Recordings
	Clock      Clock // WallClock when nil
	ACD        *ACD  // a new one when nil
	Logger     *slog.Logger
	// Rand picks in [0, n) for the random ringing rule; math/rand when nil.
	Rand func(n int) int
	// Ended, when set, is told how each call went once it is over.
	Ended func(Result)
}

// NewEngine builds an engine.
func NewEngine(cfg Config) *Engine {
	e := &Engine{dir: cfg.Directory, log: cfg.CallLog, media: cfg.Media, recordings: cfg.Recordings, clock: cfg.Clock, acd: cfg.ACD,
		logger: cfg.Logger, rand: cfg.Rand, ended: cfg.Ended, done: make(chan struct{}), live: map[CallID]*liveCall{}}
	e.base, e.stopBase = context.WithCancel(context.Background())
	if e.clock == nil {
		e.clock = WallClock{}
	}
	if e.acd == nil {
		e.acd = NewACD(e.clock)
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	if e.rand == nil {
		e.rand = rand.IntN
	}
	return e
}

// ACD is the engine's distributor (agents' live state and the queue).
func (e *Engine) ACD() *ACD { return e.acd }

// Stop hands every call in progress over to the next switchboard, as a
// crash would but tidily, and waits until they are: conversations go on,
// callers waiting for an agent wait on (their agents' phones stop
// ringing), and the next switchboard takes them over from the database
// (Resume). Calls it could not take over (an agent dialling out, not yet
// answered) are hung up and recorded.
func (e *Engine) Stop() {
	e.stopOnce.Do(func() { close(e.done) })
	e.wg.Wait()
	e.stopBase()
}

// stopping says that Stop was called: what calls do then is handing
// them over, not the agents' or the callers' doing.
func (e *Engine) stopping() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// newCall is a call's state, with its inbox and its context.
func (e *Engine) newCall() *call {
	ctx, stop := context.WithCancel(e.base)
	return &call{e: e, in: newInbox(e.clock), timers: map[int]func() bool{}, base: ctx, stop: stop,
		over: make(chan struct{}), log: e.logger}
}

// start runs a call's goroutine, unless the engine drains (false).
func (e *Engine) start(c *call, run func()) bool {
	e.mu.Lock()
	if e.draining {
		e.mu.Unlock()
		return false
	}
	e.running++
	e.mu.Unlock()
	e.clock.Busy()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.clock.Idle()
		defer e.ran()
		defer c.end()
		run()
	}()
	return true
}

// ran counts a call's goroutine out, and tells Drain when it was the last.
func (e *Engine) ran() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running--
	if e.running == 0 {
		for _, ch := range e.idle {
			close(ch)
		}
		e.idle = nil
	}
}

// Drain stops taking calls, for a graceful shutdown: an inbound call
// from now on goes back to the PBX's dialplan, to its fallback (Decline),
// and a click-to-call is refused (ErrDraining). It returns once the calls
// in progress have ended, or when ctx does (a drain timeout): Stop then
// hands those left over to the next switchboard.
func (e *Engine) Drain(ctx context.Context) error {
	e.mu.Lock()
	e.draining = true
	if e.running == 0 {
		e.mu.Unlock()
		return nil
	}
	idle := make(chan struct{})
	e.idle = append(e.idle, idle)
	e.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handle starts the flow of an inbound call. The driver posts the events
// of the caller's leg, and of every leg the engine originates for it, to
// the returned Sink. While the engine drains, the call is declined.
func (e *Engine) Handle(in InboundCall) Sink {
	c := e.newCall()
	c.inbound = in
	run := c.run
	if in.Device != "" {
		run = c.desk
	}
	if !e.start(c, run) {
		c.end()
		e.clock.Busy()
		go func() {
			defer e.clock.Idle()
			e.decline(in)
		}()
	}
	return c.in
}

// decline sends a call that came while the engine drains back to the
// PBX's dialplan: its fallback, as when switchboard is down.
func (e *Engine) decline(in InboundCall) {
	ctx, cancel := context.WithTimeout(e.base, 10*time.Second)
	defer cancel()
	if err := e.media.Decline(ctx, in.Leg); err != nil && err != ErrGone {
		e.logger.Warn("a call that came while switchboard stops could not be sent to the fallback", "leg", in.Leg, "err", err)
		return
	}
	e.logger.Info("switchboard stopping: a new call sent to the dialplan's fallback", "leg", in.Leg, "to", in.To)
}

// Resume takes over the calls a previous run of Switchboard left
// unfinished (killed, or stopped with calls in progress): their record
// says they are not done. A caller still talking with the agent who
// answered goes on talking, and the call is recorded when one of them
// hangs up; a caller waiting for an agent carries on (resume); a call
// whose caller left meanwhile is closed. Call
// it before the driver connects (Adopt needs no link, and a leg it does
// not follow would be taken for a new call).
func (e *Engine) Resume(calls []Unfinished) {
	for _, u := range calls {
		if u.Call.AnsweredAt != nil && u.Call.User != 0 {
			e.acd.Talk(u.Call.User, u.Call.ID) // before any waiting caller rings them
		}
	}
	for _, u := range calls {
		c := e.newCall()
		c.rec, c.caller = u.Call, LegID(u.Call.MediaRef)
		c.recall(u.Timeline)
		if c.caller != "" {
			e.media.Adopt(c.caller, c.in)
		}
		e.register(c)
		e.start(c, c.resume)
	}
}

// Result sums up how a call went, for dry runs and tests.
type Result struct {
	Call        Call
	Open        bool
	IVROption   string
	Rung        []Ring
	Messages    []MessageKind
	Outcome     Outcome
	ForwardedTo *Transfer
	Timeline    []TimelineEvent
}

// Ring is one agent rung: when and for how long.
type Ring struct {
	User UserID
	At   time.Time
	For  time.Duration
}

// Outcome is how a call ended, in the dry run's words.
type Outcome string

const (
	OutcomeAnswered  Outcome = "answered"
	OutcomeVoicemail Outcome = "voicemail"
	OutcomeMissed    Outcome = "missed"
	OutcomeForwarded Outcome = "forwarded"
	OutcomeBlocked   Outcome = "blocked"
	OutcomeCallback  Outcome = "callback_requested"
)

var (
	errCallerGone = errors.New("the caller hung up")
	errStopping   = errors.New("the engine is stopping")
	// errAgentGone: the agent hung up between the answer and the bridge.
	errAgentGone = errors.New("the agent hung up before the bridge")
	// errFlowDone ends a flow early, as planned (a callback was asked).
	errFlowDone = errors.New("the flow is over")
	// errCutByRestart: a call Switchboard was running when it stopped
	// without hanging up (a crash) could not be taken over.
	errCutByRestart = errors.New("the call was cut by a restart of switchboard")
	// errHandedOver: switchboard stops while the caller talks with an
	// agent; the conversation goes on, for the next switchboard to take
	// over (Resume) and record its end.
	errHandedOver = errors.New("the conversation is handed over to the next switchboard")
)

// call is the state of one call's goroutine.
type call struct {
	e       *Engine
	in      *inbox
	inbound InboundCall
	caller  LegID
	// base is the call's context: every request of the call derives from
	// it, and it ends with the call (stop). over is closed then too.
	base context.Context
	stop context.CancelFunc
	over chan struct{}
	log  *slog.Logger

	// conv is the conversation in progress, if any; commands says that
	// the code waiting takes commands itself (converse).
	conv     *conversation
	commands bool
	// hungUpBy is the user who hung the call up, if one did.
	hungUpBy UserID

	company Company
	number  Number
	rec     Call
	result  Result

	// priority places the caller in the queue: the line they called
	// decides, even after an IVR sent them to another number.
	priority int

	callerGone bool
	cause      Cause
	timers     map[int]func() bool
	nextTimer  int
	limit      int    // the timer of the call's end at the latest (register)
	bgPlayback string // a looping prompt behind ringing or queueing
	bgPrompt   Prompt
	bgMusic    bool
	bgStarted  bool

	// What happened, for the missed-call reason.
	blocked, closed, inIVR, ringPhase bool
	// stepsDone: every ring step ran without an answer (the caller did
	// not give up while agents rang).
	stepsDone     bool
	firstRing     time.Time
	voicemailLeft bool
	// notes are events to write with the call's next write (note).
	notes []TimelineEvent

	// resumed: taken over after a restart, the caller does not hear the
	// welcome again (flow). waitingSince places a resumed caller in the
	// queue where they were (recall).
	resumed      bool
	waitingSince time.Time
	// leavingVoicemail: a resumed caller was leaving a voicemail.
	leavingVoicemail bool
}

func (c *call) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.base, 10*time.Second)
}

func (c *call) now() time.Time { return c.e.clock.Now() }

// run is the whole life of an inbound call.
func (c *call) run() {
	c.caller = c.inbound.Leg
	ctx, cancel := c.ctx()
	companyID, number, err := c.e.dir.NumberByDigits(ctx, c.inbound.To)
	if err == nil {
		c.company, err = c.e.dir.Company(ctx, companyID)
	}
	cancel()
	if err != nil {
		// Not our number (or the database is down): refuse at once rather
		// than leave the caller in silence.
		c.log.Warn("call to an unknown number refused", "to", c.inbound.To, "err", err)
		c.hangupCaller(CauseUnallocated)
		return
	}
	c.number, c.priority = number, number.Priority
	raw := c.inbound.From
	if raw == "" {
		raw = Anonymous
	}
	c.rec = Call{Company: companyID, Number: number.ID, Direction: Inbound, Status: CallInitial,
		RawDigits: raw, StartedAt: c.now(), MediaRef: string(c.caller)}
	// Answer before the first write: the caller hears us at once, and the
	// record follows a moment later. A blocked caller is not answered
	// (unless the line has a message for them).
	c.blocked, err = c.isBlocked()
	if err == nil && !c.blocked {
		err = c.answer()
	}
	if err != nil && err != errCallerGone {
		c.log.Error("call refused", "err", err)
		c.hangupCaller(CauseTemporaryFailure)
		return
	}
	answerErr := err
	if answerErr != nil {
		// Gone before the answer: the caller hung up, or the media server
		// could not answer (FreeSWITCH hangs the call up then).
		c.log.Info("caller gone before the answer", "leg", c.caller)
	}
	if err := c.save(c.event(events.CallCreated, 0, events.Created{To: c.inbound.To})); err != nil {
		c.log.Error("call not recorded; refused", "err", err)
		c.hangupCaller(CauseTemporaryFailure)
		return
	}
	c.e.register(c)
	if answerErr != nil {
		c.finish(answerErr)
		return
	}
	c.finish(c.flow(number, 0))
}

// maxTransfers bounds number→number transfers (a loop is refused when the
// configuration is saved; this is the last guard).
const maxTransfers = 5

// flow runs a number's flow; a transfer to another number runs that one.
func (c *call) flow(n Number, depth int) error {
	c.number = n
	if depth == 0 && c.blocked {
		c.result.Outcome = OutcomeBlocked
		if err := c.save(c.event(events.CallBlocked, 0, nil)); err != nil {
			return err
		}
		if n.Messages[MsgBlocked] != nil {
			if err := c.answer(); err != nil {
				return err
			}
			if _, err := c.play(c.prompt(MsgBlocked), false); err != nil {
				return err
			}
		}
		return nil
	}
	open := n.OpenAt(c.now())
	if depth == 0 {
		c.result.Open = open
	}
	if !open {
		c.closed = true
		c.note(c.event(events.CallOutOfOpeningHours, 0, nil))
		if _, err := c.play(c.promptOr(MsgAfterHours, "after_hours"), false); err != nil {
			return err
		}
		return c.voicemail()
	}
	if n.Messages[MsgWelcome] != nil && !c.resumed {
		if _, err := c.play(c.prompt(MsgWelcome), false); err != nil {
			return err
		}
	}
	c.resumed = false // a number the caller is transferred to welcomes them
	if n.Type == IVR {
		option, err := c.menu()
		if err != nil || option == nil {
			if err == nil {
				err = c.voicemail() // nothing chosen: the unanswered branch
			}
			return err
		}
		return c.route(*option, depth)
	}
	answered, err := c.distribute(n.Distribution)
	if err != nil || answered {
		return err
	}
	c.stepsDone = true
	return c.voicemail()
}

// route follows an IVR option.
func (c *call) route(o IVROption, depth int) error {
	t := o.Target
	switch t.Type {
	case TargetVoicemail:
		return c.voicemail()
	case TargetExternal:
		return c.forward(t.Digits)
	case TargetNumber:
		if depth >= maxTransfers {
			return c.voicemail()
		}
		ctx, cancel := c.ctx()
		target, err := c.e.dir.Number(ctx, c.company.ID, NumberID(t.ID))
		cancel()
		if err != nil {
			c.log.Warn("IVR target number missing", "number", t.ID, "err", err)
			return c.voicemail()
		}
		c.rec.TransferredTo = &Transfer{Type: TargetNumber, ID: t.ID}
		c.result.ForwardedTo = c.rec.TransferredTo
		if err := c.save(c.event(events.CallTransferred, 0, c.rec.TransferredTo.event())); err != nil {
			return err
		}
		return c.flow(target, depth+1)
	default: // a user or a team, rung as one step
		kind := StepUser
		if t.Type == TargetTeam {
			kind = StepTeam
		}
		answered, err := c.distribute([]Step{{Type: kind, ID: t.ID, RingSeconds: ivrRingSeconds}})
		if err != nil || answered {
			return err
		}
		c.stepsDone = true
		return c.voicemail()
	}
}

// ivrRingSeconds is how long an IVR choice of a user or team rings.
const ivrRingSeconds = 60

// menu plays the IVR message and reads one key; the menu is replayed once
// when nothing valid is pressed within ivrWait, then nil means no choice.
func (c *call) menu() (*IVROption, error) {
	c.inIVR = true
	for range 2 {
		digit := ""
		if c.number.Messages[MsgIVR] != nil {
			d, err := c.play(c.prompt(MsgIVR), true)
			if err != nil {
				return nil, err
			}
			digit = d
		}
		if digit == "" {
			d, err := c.digit(ivrWait)
			if err != nil {
				return nil, err
			}
			digit = d
		}
		for _, o := range c.number.IVROptions {
			if o.Key == digit {
				c.inIVR = false
				c.rec.IVROptions = append(c.rec.IVROptions, digit)
				c.result.IVROption = digit
				return &o, c.save(c.event(events.CallIVROptionSelected, 0, events.IVROption{Key: digit, Target: string(o.Target.Type)}))
			}
		}
	}
	return nil, nil
}

// ivrWait is how long the menu waits for a key after its message.
const ivrWait = 3 * time.Second

// digit waits up to d for a key.
func (c *call) digit(d time.Duration) (string, error) {
	timer := c.after(d)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		if err != nil {
			return "", err
		}
		switch {
		case ev.Kind == EvDigit && ev.Leg == c.caller:
			return ev.Digit, nil
		case ev.Kind == EvTimer && ev.Timer == timer:
			return "", nil
		}
	}
}
