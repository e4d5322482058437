package dialplan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/events"
)

// ActionKind is what an agent, a supervisor or an admin asks of a call in
// progress.
type ActionKind string

const (
	ActHangup          ActionKind = "hangup"
	ActHold            ActionKind = "hold"
	ActUnhold          ActionKind = "unhold"
	ActPauseRecording  ActionKind = "pause_recording"
	ActResumeRecording ActionKind = "resume_recording"
	ActTransfer        ActionKind = "transfer"
	ActSupervise       ActionKind = "supervise"
	// A warm transfer (Action.Warm) ends with one of these.
	ActCompleteTransfer ActionKind = "complete_transfer"
	ActCancelTransfer   ActionKind = "cancel_transfer"
)

// Action is one command for a call in progress.
type Action struct {
	Kind ActionKind
	// By is who asks: the author of the timeline event.
	By UserID
	// To is where ActTransfer sends the caller: a user, a team, a number
	// (which runs its own flow) or an external number (E.164).
	To Transfer
	// Warm: the agent talks to the target first (a user or an external
	// number), then completes or cancels the transfer.
	Warm bool
	// Supervisor and Mode: who supervises (ActSupervise) and how. A
	// supervisor already connected switches to Mode.
	Supervisor UserID
	Mode       SnoopMode
}

// Why an action is refused. The API answers each with a 409, but
// ErrNoTarget (404) and ErrUnreachable (422).
var (
	ErrNotLive         = errors.New("the call is not in progress")
	ErrNotConnected    = errors.New("the call is not connected to an agent")
	ErrTransferring    = errors.New("a transfer of the call is in progress")
	ErrPauseNotAllowed = errors.New("the number's recording policy does not allow pausing the recording")
	ErrNotRecorded     = errors.New("the call is not being recorded")
	ErrStillRinging    = errors.New("the supervisor's phone is still ringing")
	ErrNoTarget        = errors.New("no such user, team or number in the company")
	ErrUnreachable     = errors.New("the user has no phone to ring")
	ErrSameAgent       = errors.New("the user is already on the call")
	ErrAgentBusy       = errors.New("the user is already in a call")
	ErrDraining        = errors.New("switchboard is shutting down: it takes no new call")
	ErrNoWarmTransfer  = errors.New("no warm transfer of the call is in progress")
	ErrTargetRinging   = errors.New("the transfer's target has not answered yet")
)

// command is an Action posted into a call's inbox, with where to say
// whether it was carried out.
type command struct {
	Action
	reply chan error
}

func (cmd *command) done(err error) { cmd.reply <- err }

// liveCall is a call of the registry: enough to post it a command from
// another goroutine.
type liveCall struct {
	company CompanyID
	in      *inbox
	over    chan struct{}
}

// register enters a call, once it has an id, into the engine's registry.
// Every call is bounded from then on: whatever it waits for, it ends at
// the latest its number's max_call_seconds after it began.
func (e *Engine) register(c *call) {
	c.log = e.logger.With("call", c.rec.ID)
	e.mu.Lock()
	e.live[c.rec.ID] = &liveCall{company: c.rec.Company, in: c.in, over: c.over}
	e.mu.Unlock()
	c.setLimit()
}

// setLimit times the end of the call at the latest: its number's
// max_call_seconds after it began.
func (c *call) setLimit() {
	c.cancel(c.limit)
	limit := MaxCallDuration
	if c.number.MaxCallSeconds > 0 {
		limit = time.Duration(c.number.MaxCallSeconds) * time.Second
	}
	c.limit = c.after(max(0, c.rec.StartedAt.Add(limit).Sub(c.now())))
}

// Act carries out an action on a call in progress of the company: it is
// posted into the call's inbox, so that the call's goroutine stays the
// only one to touch its state, and Act returns once the call has acted
// (the media server took the order and the timeline has it) or refused.
func (e *Engine) Act(ctx context.Context, company CompanyID, id CallID, a Action) error {
	e.mu.Lock()
	l := e.live[id]
	e.mu.Unlock()
	if l == nil || l.company != company {
		return ErrNotLive
	}
	cmd := &command{Action: a, reply: make(chan error, 1)}
	l.in.Post(Event{Kind: EvCommand, command: cmd})
	select {
	case err := <-cmd.reply:
		return err
	case <-l.over:
		select {
		case err := <-cmd.reply:
			return err
		default:
			return ErrNotLive
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// end takes the call out of the registry and ends its context: nothing
// of the call runs any more.
func (c *call) end() {
	c.e.mu.Lock()
	if l := c.e.live[c.rec.ID]; l != nil && l.in == c.in {
		delete(c.e.live, c.rec.ID)
	}
	c.e.mu.Unlock()
	// Its timers go with it: the limit's, four hours on, above all.
	for id := range c.timers {
		c.cancel(id)
	}
	c.in.close()
	close(c.over)
	c.stop()
}

// conversation is a caller connected to an agent (or to an external
// number a transfer reached), as commands find it.
type conversation struct {
	agent  *ringing // user zero: an external number
	leg    LegID
	held   bool
	paused bool
	// transferring: the caller waits for a transfer's target; the agent
	// may hang up meanwhile (agentGone).
	transferring bool
	agentGone    bool
	supervisors  map[LegID]*supervision
	// consult is a warm transfer's target, rung (then talking) with the
	// agent while the caller waits on hold.
	consult *consultation
	// unbridged: the media server took the caller out of the bridge to
	// carry a transfer a phone asked for (EvTransferAsked's Moved).
	unbridged bool
}

// consultation is the target of a warm transfer: connected to the agent
// like a whispering supervisor (it hears the agent, the agent hears it;
// the caller, on hold, hears neither).
type consultation struct {
	to       Transfer
	by       UserID
	target   *ringing // user zero: an external number
	leg      LegID
	answered bool
}

func newConversation(agent *ringing, leg LegID) *conversation {
	return &conversation{agent: agent, leg: leg, supervisors: map[LegID]*supervision{}}
}

// supervision is a supervisor's phone connected to the agent's leg.
type supervision struct {
	user     UserID
	mode     SnoopMode
	answered bool
}

// obey handles a command wherever the call waits for something else
// than commands: hanging up is always possible, the rest only in a
// conversation. It returns errCallerGone when the call was hung up.
func (c *call) obey(cmd *command) error {
	switch {
	case cmd.Kind == ActHangup:
		return c.hangupAsked(cmd)
	case c.conv != nil:
		cmd.done(ErrTransferring)
	default:
		cmd.done(ErrNotConnected)
	}
	return nil
}

// hangupAsked hangs up the caller for a user (an admin): the flow then
// ends as when the caller hangs up.
func (c *call) hangupAsked(cmd *command) error {
	c.hungUpBy = cmd.By
	err := c.save(c.event(events.CallHangupRequested, cmd.By, nil))
	c.hangupCaller(CauseNormal)
	cmd.done(err)
	return errCallerGone
}

// absorb takes the events of a conversation's side legs wherever the call
// waits: supervisors' phones, and the agent's leg while a transfer rings
// its target. It says whether ev was one of them.
func (c *call) absorb(ev Event) bool {
	conv := c.conv
	if conv == nil {
		return false
	}
	if s, ok := conv.supervisors[ev.Leg]; ok {
		switch ev.Kind {
		case EvAnswered:
			s.answered = true
			c.saveLogged(c.event(events.CallSupervised, s.user, events.Supervision{Mode: string(s.mode)}))
		case EvHangup:
			delete(conv.supervisors, ev.Leg)
			if s.answered {
				c.saveLogged(c.event(events.CallSupervisionEnded, s.user, nil))
			}
		}
		return true
	}
	if k := conv.consult; k != nil && ev.Leg == k.leg {
		switch ev.Kind {
		case EvAnswered:
			k.answered = true
			if conv.agentGone {
				if err := c.completeConsultation(conv); err != nil {
					c.log.Warn("warm transfer not completed: the agent is gone, the call ends", "err", err)
					c.hangupCaller(CauseNormal)
				}
			}
		case EvHangup:
			// The target declined, rang out or hung up: back to the
			// agent, or, with the agent gone, nobody is left.
			k.leg = ""
			c.cancelConsultation(conv)
			if conv.agentGone {
				c.hangupCaller(CauseNormal)
			}
		}
		return true
	}
	if conv.transferring && ev.Kind == EvHangup && ev.Leg == conv.leg {
		conv.agentGone = true
		return true
	}
	return false
}

// saveLogged saves events the flow does not wait on: a failure is logged,
// and the next write tries again.
func (c *call) saveLogged(events ...TimelineEvent) {
	if err := c.save(events...); err != nil {
		c.log.Error("call event not recorded", "err", err)
	}
}

// converse is the conversation of the caller with the agent who answered
// (leg): it takes commands until one of them hangs up. The agent is in
// the call until then, then in after-call work.
func (c *call) converse(conv *conversation) error {
	c.conv = conv
	var err error
	for err == nil {
		var ev Event
		c.commands = true
		ev, err = c.wait()
		c.commands = false
		switch {
		case err != nil:
		case ev.Kind == EvHangup && ev.Leg == conv.leg:
			conv.agentGone = true
			err = errConversationOver
			// An agent who hangs up during a warm transfer hands the
			// caller over: at once if the target answered, else when
			// they answer (absorb).
			if k := conv.consult; k != nil && (!k.answered || c.completeConsultation(conv) == nil) {
				err = nil
			}
		case ev.Kind == EvCommand:
			err = c.act(conv, ev.command)
		case ev.Kind == EvTransferAsked:
			err = c.transferAsked(conv, ev)
		}
	}
	c.conv = nil
	if err == errStopping && conv.consult == nil {
		return errHandedOver // the agent stays in the call, for the next switchboard
	}
	if conv.consult != nil {
		c.cancelConsultation(conv)
	}
	c.dropSupervisors(conv)
	if !conv.agentGone {
		c.hangup(conv.leg, CauseNormal)
	}
	c.freeAgent(conv.agent)
	if err == errCallerGone || err == errConversationOver {
		return nil
	}
	return err
}

// errConversationOver ends a conversation as planned (the agent hung up,
// or a transfer took the caller into a number's flow).
var errConversationOver = errors.New("the conversation is over")

// freeAgent ends an agent's part in the call: after-call work.
func (c *call) freeAgent(r *ringing) {
	if r.user.ID != 0 {
		c.e.acd.Hangup(r.user, c.id(), time.Duration(r.user.WrapUpTime)*time.Second, c.number.MandatoryTagging)
	}
}

func (c *call) dropSupervisors(conv *conversation) {
	for leg, s := range conv.supervisors {
		c.hangup(leg, CauseNormal)
		delete(conv.supervisors, leg)
		if s.answered {
			c.saveLogged(c.event(events.CallSupervisionEnded, s.user, nil))
		}
	}
}

// act carries out a command in a conversation.
func (c *call) act(conv *conversation, cmd *command) error {
	switch {
	case cmd.Kind == ActHangup:
		return c.hangupAsked(cmd)
	case cmd.Kind == ActCompleteTransfer || cmd.Kind == ActCancelTransfer:
		cmd.done(c.endConsultation(conv, cmd.Kind == ActCompleteTransfer))
		return nil
	case conv.consult != nil:
		cmd.done(ErrTransferring)
		return nil
	}
	switch cmd.Kind {
	case ActHold, ActUnhold:
		cmd.done(c.hold(conv, cmd.Kind == ActHold, cmd.By))
	case ActPauseRecording, ActResumeRecording:
		cmd.done(c.pause(conv, cmd.Kind == ActPauseRecording, cmd.By))
	case ActSupervise:
		cmd.done(c.supervise(conv, cmd.Supervisor, cmd.Mode))
	case ActTransfer:
		return c.transfer(conv, cmd)
	default:
		cmd.done(fmt.Errorf("unknown action %q", cmd.Kind))
	}
	return nil
}

// mediaError is how a media server's failure to act is told to whoever
// asked: the caller gone is the call no longer in progress.
func mediaError(err error) error {
	if err == ErrGone {
		return ErrNotLive
	}
	return fmt.Errorf("the media server did not act: %w", err)
}

// hold puts the caller on hold (music) or back, for a user who asked.
func (c *call) hold(conv *conversation, on bool, by UserID) error {
	if conv.held == on {
		return nil
	}
	if err := c.setHold(conv, on); err != nil {
		return err
	}
	kind := events.CallUnhold
	if on {
		kind = events.CallHold
	}
	return c.save(c.event(kind, by, nil))
}

// setHold tells the media server to hold the caller or not.
func (c *call) setHold(conv *conversation, on bool) error {
	if conv.held == on {
		return nil
	}
	ctx, cancel := c.ctx()
	var err error
	if on {
		err = c.e.media.Hold(ctx, c.caller)
	} else {
		err = c.e.media.Unhold(ctx, c.caller)
	}
	cancel()
	if err != nil {
		return mediaError(err)
	}
	conv.held = on
	return nil
}

// recordingPolicy is the number's policy for the call's direction.
func (c *call) recordingPolicy() RecordingPolicy {
	if c.rec.Direction == Outbound {
		return c.number.Recording.Outbound
	}
	return c.number.Recording.Inbound
}

// pause pauses or resumes the call's recording, where the number allows.
func (c *call) pause(conv *conversation, on bool, by UserID) error {
	if !c.recordingPolicy().AllowPause {
		return ErrPauseNotAllowed
	}
	if c.rec.Recording == "" {
		return ErrNotRecorded
	}
	if conv.paused == on {
		return nil
	}
	ctx, cancel := c.ctx()
	var err error
	if on {
		err = c.e.media.PauseRecording(ctx, c.rec.Recording)
	} else {
		err = c.e.media.ResumeRecording(ctx, c.rec.Recording)
	}
	cancel()
	if err != nil {
		return mediaError(err)
	}
	conv.paused = on
	kind := events.CallRecordingResumed
	if on {
		kind = events.CallRecordingPaused
	}
	return c.save(c.event(kind, by, events.Recording{Name: c.rec.Recording}))
}

// superviseRing is how long a supervisor's phone rings.
const superviseRing = 30 * time.Second

// supervise rings a supervisor's phone into the agent's leg, or switches
// a connected supervisor to another mode.
func (c *call) supervise(conv *conversation, who UserID, mode SnoopMode) error {
	for leg, s := range conv.supervisors {
		if s.user != who {
			continue
		}
		if s.mode == mode {
			return nil
		}
		if !s.answered {
			return ErrStillRinging
		}
		ctx, cancel := c.ctx()
		err := c.e.media.SwitchSnoop(ctx, leg, mode)
		cancel()
		if err != nil {
			return mediaError(err)
		}
		s.mode = mode
		return c.save(c.event(events.CallSupervised, who, events.Supervision{Mode: string(mode)}))
	}
	if conv.agent.user.ID == 0 {
		return ErrNotConnected // an external number: no agent to coach
	}
	u, err := c.user(who)
	if err != nil {
		return err
	}
	dial := Dial{CallerID: c.rec.RawDigits, Timeout: superviseRing}
	switch {
	case len(u.Devices) > 0:
		dial.Endpoint = u.Devices[0]
	case u.ExternalNumber != nil:
		dial.External = *u.ExternalNumber
	default:
		return ErrUnreachable
	}
	ctx, cancel := c.ctx()
	leg, err := c.e.media.Snoop(ctx, conv.leg, mode, dial, c.in)
	cancel()
	if err != nil {
		return mediaError(err)
	}
	conv.supervisors[leg] = &supervision{user: who, mode: mode}
	return nil
}

// user reads one user of the call's company.
func (c *call) user(id UserID) (User, error) {
	ctx, cancel := c.ctx()
	users, err := c.e.dir.UsersByID(ctx, c.company.ID, []UserID{id})
	cancel()
	if err != nil {
		return User{}, fmt.Errorf("users: %w", err)
	}
	if len(users) == 0 {
		return User{}, ErrNoTarget
	}
	return users[0], nil
}

// transferRing is how long a transfer rings its target before the caller
// comes back to the agent.
const transferRing = 30 * time.Second

// transfer sends the caller elsewhere (a cold transfer): the caller waits
// with music while the target rings; the target who answers takes the
// agent's place, who is then free. A target that does not answer gives
// the caller back to the agent (or, if the agent hung up meanwhile, to
// the number's voicemail). A number takes the caller into its own flow
// at once.
func (c *call) transfer(conv *conversation, cmd *command) error {
	t := cmd.To
	var (
		target Number
		team   Team
		user   User
		err    error
	)
	ctx, cancel := c.ctx()
	switch t.Type {
	case TargetUser:
		user, err = c.user(UserID(t.ID))
		if err == nil && user.ID == conv.agent.user.ID {
			err = ErrSameAgent
		}
	case TargetTeam:
		team, err = c.e.dir.Team(ctx, c.company.ID, TeamID(t.ID))
	case TargetNumber:
		target, err = c.e.dir.Number(ctx, c.company.ID, NumberID(t.ID))
	case TargetExternal:
		if t.Digits == "" {
			err = ErrNoTarget
		}
	default:
		err = fmt.Errorf("a transfer goes to a user, a team, a number or an external number, not %q", t.Type)
	}
	cancel()
	if err != nil {
		cmd.done(err)
		return nil
	}
	if cmd.Warm {
		cmd.done(c.consult(conv, cmd.By, t, user))
		return nil
	}
	// The caller waits with music (the timeline has the transfer).
	if err := c.setHold(conv, true); err != nil {
		cmd.done(err)
		return nil
	}
	to := t.event()
	before := c.rec.TransferredTo
	c.rec.TransferredTo = &t
	if err := c.save(c.event(events.CallTransferred, cmd.By, to)); err != nil {
		cmd.done(err)
		return err
	}
	cmd.done(nil)

	if t.Type == TargetNumber {
		// The agent's part is over: the number's flow takes the caller.
		c.unhold(conv)
		c.dropSupervisors(conv)
		c.hangup(conv.leg, CauseNormal)
		conv.agentGone = true
		c.freeAgent(conv.agent)
		conv.agent = &ringing{}
		c.conv = nil
		if err := c.flow(target, 1); err != nil {
			return err
		}
		return errConversationOver
	}

	conv.transferring = true
	var answered bool
	switch t.Type {
	case TargetUser:
		if c.e.acd.Reserve(user, c.id()) {
			answered, err = c.ring([]User{user}, 0, transferRing, c.takeOver(conv))
		}
	case TargetTeam:
		answered, err = c.step(Step{Type: StepTeam, ID: int64(team.ID), RingSeconds: int(transferRing / time.Second)}, c.takeOver(conv), false)
	case TargetExternal:
		answered, err = c.ringExternal(t.Digits, transferRing, c.takeOver(conv))
	}
	conv.transferring = false
	if err != nil || answered {
		return err
	}
	c.rec.TransferredTo = before
	if err := c.save(c.event(events.CallUnsuccessfulTransfer, cmd.By, to)); err != nil {
		return err
	}
	c.unhold(conv)
	if conv.agentGone {
		c.freeAgent(conv.agent)
		conv.agent = &ringing{}
		c.conv = nil
		if err := c.voicemail(); err != nil {
			return err
		}
		return errConversationOver
	}
	return c.rejoin(conv)
}

// consult starts a warm transfer: the caller waits on hold while the
// target's phone rings into the agent's leg (as a whispering supervisor's
// does: the two talk, the caller hears neither).
func (c *call) consult(conv *conversation, by UserID, t Transfer, user User) error {
	target := &ringing{user: user, since: c.now()}
	dial := Dial{CallerID: c.rec.RawDigits, Timeout: transferRing}
	switch {
	case t.Type == TargetExternal:
		target.user = User{}
		dial.External = t.Digits
	case t.Type != TargetUser:
		return invalid("mode", "a warm transfer goes to a user or an external number, not a %s", t.Type)
	case len(user.Devices) > 0:
		dial.Endpoint = user.Devices[0]
	case user.ExternalNumber != nil:
		dial.External = *user.ExternalNumber
	default:
		return ErrUnreachable
	}
	if user.ID != 0 && !c.e.acd.Reserve(user, c.id()) {
		return ErrAgentBusy
	}
	release := func() {
		if user.ID != 0 {
			c.e.acd.Release(user, c.id())
		}
	}
	if err := c.setHold(conv, true); err != nil {
		release()
		return err
	}
	ctx, cancel := c.ctx()
	leg, err := c.e.media.Snoop(ctx, conv.leg, Consult, dial, c.in)
	cancel()
	if err != nil {
		release()
		c.unhold(conv)
		return mediaError(err)
	}
	conv.consult = &consultation{to: t, by: by, target: target, leg: leg}
	return c.save(c.event(events.CallWarmTransferStarted, by, t.event()))
}

// endConsultation completes or cancels the warm transfer in progress.
func (c *call) endConsultation(conv *conversation, complete bool) error {
	k := conv.consult
	switch {
	case k == nil:
		return ErrNoWarmTransfer
	case !complete:
		c.cancelConsultation(conv)
		return nil
	case !k.answered:
		return ErrTargetRinging
	}
	return c.completeConsultation(conv)
}

// completeConsultation hands the caller to the warm transfer's target,
// who takes the agent's place; the agent is hung up, and free.
func (c *call) completeConsultation(conv *conversation) error {
	k := conv.consult
	c.unhold(conv)
	ctx, cancel := c.ctx()
	_, err := c.e.media.Bridge(ctx, c.caller, k.leg)
	cancel()
	if err != nil {
		c.cancelConsultation(conv)
		return mediaError(err)
	}
	conv.consult = nil
	c.dropSupervisors(conv)
	if !conv.agentGone {
		c.hangup(conv.leg, CauseNormal)
	}
	c.freeAgent(conv.agent)
	conv.agent, conv.leg, conv.agentGone = k.target, k.leg, false
	to := k.to
	c.rec.TransferredTo = &to
	answer := events.Answered{}
	if k.target.user.ID != 0 {
		c.e.acd.Talk(k.target.user.ID, c.id())
		c.rec.User = k.target.user.ID
	} else {
		answer.Digits = to.Digits
	}
	return c.save(c.event(events.CallTransferred, k.by, to.event()),
		c.event(events.CallAnswered, k.target.user.ID, answer))
}

// cancelConsultation ends a warm transfer that does not happen: the
// target's phone is hung up and the caller is back with the agent.
func (c *call) cancelConsultation(conv *conversation) {
	k := conv.consult
	conv.consult = nil
	if k.leg != "" {
		c.hangup(k.leg, CauseNormal)
	}
	if k.target.user.ID != 0 {
		c.e.acd.Release(k.target.user, c.id())
	}
	if !conv.agentGone {
		c.unhold(conv)
	}
	c.saveLogged(c.event(events.CallUnsuccessfulTransfer, k.by, k.to.event()))
}

// transferAsked carries out a blind transfer the agent's phone asked for
// (a REFER): to a colleague's extension, or to an external number the
// company's policy lets agents call. Asked by the other party (a caller's
// phone), or to a number refused, it is not done: the caller and the agent
// stay together.
func (c *call) transferAsked(conv *conversation, ev Event) error {
	byAgent := !ev.Moved && ev.Leg == conv.leg || ev.Moved && ev.Leg == c.caller
	conv.unbridged = ev.Moved
	to, err := c.referTarget(ev.To)
	if !byAgent || conv.consult != nil || err != nil {
		c.log.Warn("a transfer asked by a phone is not done", "to", ev.To, "by_agent", byAgent, "err", err)
		if byAgent && err != nil {
			c.saveLogged(c.event(events.CallUnsuccessfulTransfer, conv.agent.user.ID, events.Transferred{Type: "external", Digits: ev.To}))
		}
		if conv.agentGone {
			return errConversationOver // nobody left to talk to
		}
		return c.rejoin(conv)
	}
	cmd := &command{Action: Action{Kind: ActTransfer, By: conv.agent.user.ID, To: to}, reply: make(chan error, 1)}
	err = c.transfer(conv, cmd)
	if refused := <-cmd.reply; refused != nil { // the target cannot be rung (busy, the agent themself)
		c.log.Warn("a transfer asked by a phone is not done", "to", ev.To, "err", refused)
		if err == nil {
			err = c.rejoin(conv)
		}
	}
	return err
}

// referTarget reads what a phone dialled to transfer to: a user's
// extension, or an external number the company calls.
func (c *call) referTarget(digits string) (Transfer, error) {
	if extensionPattern.MatchString(digits) {
		ctx, cancel := c.ctx()
		u, err := c.e.dir.Extension(ctx, c.company.ID, digits)
		cancel()
		if err == nil {
			return Transfer{Type: TargetUser, ID: int64(u.ID)}, nil
		}
	}
	e164, err := c.company.Destination(digits)
	if err != nil {
		return Transfer{}, err
	}
	if blocked, err := c.blockedNumber(e164); err != nil || blocked {
		return Transfer{}, fmt.Errorf("%s is a blocked number (or the blocked numbers are unreadable: %v)", e164, err)
	}
	return Transfer{Type: TargetExternal, Digits: e164}, nil
}

// rejoin bridges the caller with the agent again after the media server
// took one of them out of the bridge for a transfer that is not done.
func (c *call) rejoin(conv *conversation) error {
	if !conv.unbridged || conv.agentGone {
		return nil
	}
	conv.unbridged = false
	ctx, cancel := c.ctx()
	_, err := c.e.media.Bridge(ctx, c.caller, conv.leg)
	cancel()
	if err != nil && err != ErrGone {
		return fmt.Errorf("bridge again: %w", err)
	}
	return nil
}

// unhold takes the caller off hold after a transfer.
func (c *call) unhold(conv *conversation) {
	if err := c.setHold(conv, false); err != nil && !errors.Is(err, ErrNotLive) {
		c.log.Warn("caller not taken off hold", "err", err)
	}
}

// takeOver connects the caller to a transfer's target who answered (an
// agent, or an external number with no user), in the place of the agent
// who transferred: that agent's phone is hung up, and they are free.
func (c *call) takeOver(conv *conversation) func(*ringing, LegID) error {
	return func(r *ringing, leg LegID) error {
		c.unhold(conv)
		ctx, cancel := c.ctx()
		_, err := c.e.media.Bridge(ctx, c.caller, leg)
		cancel()
		if err != nil {
			c.hangup(leg, CauseNormal)
			if r.user.ID != 0 {
				c.e.acd.Release(r.user, c.id())
			}
			if err == ErrGone {
				return errAgentGone
			}
			return fmt.Errorf("bridge: %w", err)
		}
		c.dropSupervisors(conv)
		if !conv.agentGone {
			c.hangup(conv.leg, CauseNormal)
		}
		c.freeAgent(conv.agent)
		conv.agent, conv.leg, conv.agentGone, conv.unbridged = r, leg, false, false
		answer := events.Answered{}
		if r.user.ID != 0 {
			c.e.acd.Talk(r.user.ID, c.id())
			c.rec.User = r.user.ID
		} else if c.rec.TransferredTo != nil {
			answer.Digits = c.rec.TransferredTo.Digits
		}
		return c.save(c.event(events.CallAnswered, r.user.ID, answer))
	}
}

// ringExternal rings an external number for at most d; connect puts it
// through when it answers (as ring does an agent).
func (c *call) ringExternal(digits string, d time.Duration, connect func(*ringing, LegID) error) (bool, error) {
	ctx, cancel := c.ctx()
	leg, err := c.e.media.Originate(ctx, Dial{External: digits, CallerID: c.rec.RawDigits,
		Timeout: backstop(d), Originator: c.caller}, c.in)
	cancel()
	if err != nil {
		c.log.Warn("could not dial out", "digits", digits, "err", err)
		return false, nil
	}
	c.ringTone()
	timer := c.after(d)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		switch {
		case err != nil:
			c.hangup(leg, CauseNormal)
			return false, err
		case ev.Kind == EvAnswered && ev.Leg == leg:
			err := connect(&ringing{}, leg)
			if err == errAgentGone {
				return false, nil
			}
			return err == nil, err
		case ev.Kind == EvHangup && ev.Leg == leg:
			return false, nil
		case ev.Kind == EvTimer && ev.Timer == timer:
			c.hangup(leg, CauseNoAnswer)
			return false, nil
		}
	}
}
