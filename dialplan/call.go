package dialplan

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/events"
)

func (c *call) id() CallID { return c.rec.ID }

// wait returns the next event that concerns the flow. The caller's hang-up
// ends every wait with errCallerGone; a looping prompt is replayed here;
// stale timers and answers of legs nobody waits for are dealt with here,
// and so are commands, unless the conversation takes them (commands),
// and the events of a conversation's side legs (absorb).
func (c *call) wait() (Event, error) {
	for {
		ev, ok := c.in.next(c.e.done)
		if !ok {
			return ev, errStopping
		}
		if c.absorb(ev) {
			continue
		}
		switch {
		case ev.Kind == EvCommand:
			if c.commands {
				return ev, nil // the conversation acts on it
			}
			if err := c.obey(ev.command); err != nil {
				return ev, err
			}
			continue
		case ev.Kind == EvHangup && ev.Leg == c.caller && c.caller != "":
			c.callerGone, c.cause = true, ev.Cause
			return ev, errCallerGone
		case ev.Kind == EvPlaybackDone && ev.Playback != "" && ev.Playback == c.bgPlayback:
			c.bgPlayback = ""
			if ev.Failed {
				c.messageFailed(c.bgPrompt)
				c.ringback()
				continue
			}
			c.loop(c.bgPrompt)
			continue
		case ev.Kind == EvTimer:
			if _, live := c.timers[ev.Timer]; !live {
				continue
			}
			delete(c.timers, ev.Timer)
			if ev.Timer == c.limit {
				return ev, c.overLimit()
			}
		}
		return ev, nil
	}
}

// MaxCallDuration is how long a call may last when its number does not
// say (max_call_seconds): four hours.
const MaxCallDuration = 4 * time.Hour

// overLimit ends a call that lasted its number's max_call_seconds, as an
// admin's hang-up would: a caller left in a menu or a queue, a line
// nobody hangs up, a flood of keys, cannot hold a channel for ever.
func (c *call) overLimit() error {
	c.log.Warn("call hung up at its number's max_call_seconds", "started", c.rec.StartedAt)
	c.saveLogged(c.event(events.CallMaxDurationReached, 0, nil))
	c.hangupCaller(CauseNormal)
	return errCallerGone
}

// after starts a timer; its EvTimer comes through wait.
func (c *call) after(d time.Duration) int {
	c.nextTimer++
	id := c.nextTimer
	c.timers[id] = c.e.clock.AfterFunc(d, func() { c.in.Post(Event{Kind: EvTimer, Timer: id}) })
	return id
}

// cancel stops a timer that has not fired.
func (c *call) cancel(id int) {
	if stop, ok := c.timers[id]; ok {
		stop()
		delete(c.timers, id)
	}
}

// maxPrompt bounds the wait for a prompt to end: a playback of a file the
// server cannot fetch may start and never finish.
const maxPrompt = 11 * time.Minute

// play plays a prompt to the caller and waits for its end. With stopOnDigit
// a key stops it and is returned. A prompt that fails is noted in the
// timeline and the flow goes on.
func (c *call) play(p Prompt, stopOnDigit bool) (string, error) {
	c.stopBackground()
	ctx, cancel := c.ctx()
	playback, err := c.e.media.Play(ctx, c.caller, p)
	cancel()
	if err == ErrGone {
		c.callerGone = true
		return "", errCallerGone
	}
	if err != nil {
		c.messageFailed(p)
		return "", nil
	}
	c.played(p)
	timer := c.after(maxPrompt)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		if err != nil {
			return "", err
		}
		switch {
		case ev.Kind == EvPlaybackDone && ev.Playback == playback:
			if ev.Failed {
				c.messageFailed(p)
			}
			return "", nil
		case ev.Kind == EvDigit && ev.Leg == c.caller && stopOnDigit:
			ctx, cancel := c.ctx()
			c.e.media.StopPlayback(ctx, playback)
			cancel()
			return ev.Digit, nil
		case ev.Kind == EvTimer && ev.Timer == timer:
			ctx, cancel := c.ctx()
			c.e.media.StopPlayback(ctx, playback)
			cancel()
			c.messageFailed(p)
			return "", nil
		}
	}
}

func (c *call) played(p Prompt) {
	if p.Message == nil {
		return
	}
	c.result.Messages = append(c.result.Messages, p.Kind)
	c.note(c.event(events.CallMessagePlayed, 0, events.Message{Message: string(p.Kind)}))
}

func (c *call) messageFailed(p Prompt) {
	what := p.Sound
	if p.Message != nil {
		what = string(p.Kind)
	}
	c.note(c.event(events.CallMessageFailed, 0, events.Message{Message: what}))
}

// prompt is one of the number's messages.
func (c *call) prompt(kind MessageKind) Prompt {
	return Prompt{Number: c.number.ID, Kind: kind, Message: c.number.Messages[kind]}
}

// promptOr is the number's message, or a built-in sound when it has none,
// so that a caller who needs guidance is never left in silence.
func (c *call) promptOr(kind MessageKind, sound string) Prompt {
	p := c.prompt(kind)
	if p.Message == nil {
		p.Sound = sound
	}
	return p
}

// ringTone is what the caller hears while agents ring: the number's
// ringing tone, or the server's ringing.
func (c *call) ringTone() {
	if c.caller == "" {
		return // a callback rings the agent first: nobody is on the line yet
	}
	if c.conv != nil && c.conv.held {
		return // a transfer rings its target: the caller hears music
	}
	if c.bgPlayback != "" || c.bgMusic {
		c.stopBackground()
	}
	if c.number.Messages[MsgRingingTone] != nil {
		c.loop(c.prompt(MsgRingingTone))
		return
	}
	c.ringback()
}

// waitingMusic is what a queued caller hears: the waiting message, music
// on hold, or ringing.
func (c *call) waitingMusic() {
	c.stopBackground()
	switch {
	case c.number.Messages[MsgWaiting] != nil:
		c.loop(c.prompt(MsgWaiting))
	case c.number.MusicOnHold:
		ctx, cancel := c.ctx()
		if c.e.media.StartMusic(ctx, c.caller) == nil {
			c.bgMusic = true
		}
		cancel()
	default:
		c.ringback()
	}
}

func (c *call) ringback() {
	ctx, cancel := c.ctx()
	c.e.media.Ring(ctx, c.caller)
	cancel()
}

// loop plays a prompt in the background, again each time it ends.
func (c *call) loop(p Prompt) {
	ctx, cancel := c.ctx()
	playback, err := c.e.media.Play(ctx, c.caller, p)
	cancel()
	if err != nil {
		if err != ErrGone {
			c.messageFailed(p)
			c.ringback()
		}
		return
	}
	if c.bgPrompt != p || !c.bgStarted {
		c.played(p)
	}
	c.bgPlayback, c.bgPrompt, c.bgStarted = playback, p, true
}

func (c *call) stopBackground() {
	ctx, cancel := c.ctx()
	defer cancel()
	if c.bgPlayback != "" {
		c.e.media.StopPlayback(ctx, c.bgPlayback)
		c.bgPlayback = ""
	}
	if c.bgMusic {
		c.e.media.StopMusic(ctx, c.caller)
		c.bgMusic = false
	}
	c.bgStarted = false
}

func (c *call) answer() error {
	ctx, cancel := c.ctx()
	defer cancel()
	err := c.e.media.Answer(ctx, c.caller)
	if err == ErrGone {
		c.callerGone = true
		return errCallerGone
	}
	return err
}

// hangup hangs up a leg; one already gone is fine.
func (c *call) hangup(leg LegID, cause Cause) {
	ctx, cancel := c.ctx()
	if err := c.e.media.Hangup(ctx, leg, cause); err != nil && err != ErrGone {
		c.log.Warn("hang-up failed", "leg", leg, "err", err)
	}
	cancel()
}

func (c *call) hangupCaller(cause Cause) {
	if !c.callerGone && c.caller != "" {
		c.hangup(c.caller, cause)
		c.callerGone = true
		c.cause = cause
	}
}

func (c *call) isBlocked() (bool, error) {
	if c.inbound.From == "" {
		return false, nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	blocked, err := c.e.dir.IsBlocked(ctx, c.company.ID, c.inbound.From)
	if err != nil {
		return false, fmt.Errorf("blocked numbers: %w", err)
	}
	return blocked, nil
}

func (c *call) event(name events.Kind, user UserID, data any) TimelineEvent {
	return TimelineEvent{Event: name, At: c.now(), User: user, Data: data}
}

// save writes the call's state with new timeline events in one go.
func (c *call) save(events ...TimelineEvent) error {
	return c.store(events, nil)
}

func (c *call) saveTask(task TaskKind, events ...TimelineEvent) error {
	return c.store(events, []TaskKind{task})
}

func (c *call) store(events []TimelineEvent, tasks []TaskKind) error {
	if len(c.notes) > 0 {
		events = append(c.notes, events...)
		c.notes = nil
	}
	c.result.Timeline = append(c.result.Timeline, events...)
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.e.log.SaveCall(ctx, &c.rec, events, tasks); err != nil {
		return fmt.Errorf("save call: %w", err)
	}
	return nil
}

// note keeps an event that tells how the call goes without changing its
// record (a message played, the line closed), to be written with the
// call's next write rather than by a transaction of its own: a call that
// plays a prompt costs one write fewer. A crash loses the notes not yet
// written (the call itself is then settled at the restart).
func (c *call) note(ev TimelineEvent) {
	c.notes = append(c.notes, ev)
}

// finish hangs up what is left, decides the missed-call reason and writes
// the end of the call.
func (c *call) finish(flowErr error) {
	if flowErr == errFlowDone {
		flowErr = nil
	}
	if flowErr == errStopping && c.waiting() {
		flowErr = errHandedOver
		c.stopBackground()
		c.log.Info("switchboard stopping: the caller waits, handed over to the next switchboard")
	} else if flowErr == errHandedOver {
		c.log.Info("switchboard stopping: the conversation goes on, handed over to the next switchboard")
	}
	if flowErr == errHandedOver {
		// Nothing is hung up nor ended: the record says the call is
		// not done, for the next switchboard's Resume.
		if len(c.notes) > 0 {
			if err := c.store(nil, nil); err != nil {
				c.log.Error("call events not recorded", "err", err)
			}
		}
		return
	}
	if flowErr != nil && flowErr != errCallerGone && flowErr != errStopping && flowErr != errCutByRestart {
		c.log.Error("call flow failed", "err", flowErr)
	}
	c.stopBackground()
	switch {
	case flowErr == errStopping, flowErr == errCutByRestart:
		c.hangupCaller(CauseTemporaryFailure)
	case flowErr != nil && flowErr != errCallerGone:
		c.hangupCaller(CauseTemporaryFailure)
	default:
		c.hangupCaller(CauseNormal)
	}
	for id := range c.timers {
		c.cancel(id)
	}
	now := c.now()
	c.rec.EndedAt = &now
	c.rec.Status = CallDone
	c.rec.HangupCause = causeName(c.cause)
	var tasks []TaskKind
	if c.rec.AnsweredAt == nil && c.rec.Direction != Outbound {
		c.rec.MissedReason = c.missedReason(now)
		if c.result.Outcome == "" {
			c.result.Outcome = OutcomeMissed
		}
		if !c.blocked && !c.voicemailLeft && c.result.Outcome != OutcomeCallback {
			tasks = append(tasks, TaskMissedCall)
		}
	}
	ev := []TimelineEvent{c.event(events.CallHungup, c.hungUpBy, events.Hungup{Cause: c.rec.HangupCause}), c.event(events.CallEnded, 0, nil)}
	if err := c.store(ev, tasks); err != nil {
		c.log.Error("call end not recorded", "err", err)
	}
	c.result.Call = c.rec
	if c.e.ended != nil {
		c.e.ended(c.result)
	}
}

// waiting says that the call is a caller waiting for an agent (in a
// message, the menu, ringing, the queue, a voicemail), whom the next
// switchboard can take over (carryOn).
func (c *call) waiting() bool {
	return c.rec.ID != 0 && c.rec.Direction == Inbound && c.rec.AnsweredAt == nil && c.caller != "" && !c.callerGone
}

// missedReason follows Aircall's rules for a call nobody answered.
func (c *call) missedReason(end time.Time) MissedReason {
	switch {
	case c.blocked:
		return BlockedCaller
	case c.closed:
		return OutOfOpeningHours
	case c.inIVR:
		return AbandonedInIVR
	case !c.firstRing.IsZero() && !c.stepsDone && end.Sub(c.rec.StartedAt) < shortAbandonedUnder:
		// The caller gave up quickly while agents rang.
		return ShortAbandoned
	case !c.firstRing.IsZero():
		return AgentsDidNotAnswer
	case c.ringPhase:
		return NoAvailableAgent
	}
	return AbandonedInClassic
}

// causeName is a cause as the call record shows it.
func causeName(c Cause) string {
	switch c {
	case CauseNormal, 0:
		return "normal_clearing"
	case CauseBusy:
		return "user_busy"
	case CauseNoAnswer:
		return "no_answer"
	case CauseRejected:
		return "call_rejected"
	case CauseUnallocated:
		return "unallocated_number"
	case CauseAnsweredElsewhere:
		return "answered_elsewhere"
	case CauseTemporaryFailure:
		return "temporary_failure"
	}
	return fmt.Sprintf("cause_%d", int(c))
}
