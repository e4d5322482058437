package dialplan

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/internal/wav"
)

// ringing is one agent being rung on all their phones.
type ringing struct {
	user     User
	team     TeamID
	legs     map[LegID]bool // still ringing
	since    time.Time
	declined bool
}

// distribute runs the ring steps in order until an agent answers.
func (c *call) distribute(steps []Step) (bool, error) {
	c.ringPhase = true
	for _, step := range steps {
		answered, err := c.step(step, c.talk, c.number.RespectQueuingTime)
		if err != nil || answered {
			return answered, err
		}
	}
	return false, nil
}

// step rings one user, or a team by its rule, for the step's time; connect
// puts through who answers. With queue, a step whose members are all busy
// waits in the queue for one until its time is up.
func (c *call) step(s Step, connect func(*ringing, LegID) error, queue bool) (bool, error) {
	deadline := c.now().Add(time.Duration(s.RingSeconds) * time.Second)
	var (
		members []User
		team    Team
		err     error
	)
	ctx, cancel := c.ctx()
	if s.Type == StepTeam {
		team, err = c.e.dir.Team(ctx, c.company.ID, TeamID(s.ID))
		if err == nil {
			members, err = c.e.dir.UsersByID(ctx, c.company.ID, team.Users)
		}
	} else {
		members, err = c.e.dir.UsersByID(ctx, c.company.ID, []UserID{UserID(s.ID)})
	}
	cancel()
	if err != nil {
		c.log.Warn("ring step skipped", "step", s, "err", err)
		return false, nil
	}
	if s.Type == StepTeam && !containsTeam(c.rec.Teams, team.ID) {
		c.rec.Teams = append(c.rec.Teams, team.ID)
	}
	one := s.Type == StepUser || team.RingingRule == Simultaneous
	order := members
	switch {
	case one:
	case team.RingingRule == Random:
		order = append([]User(nil), members...)
		for i := len(order) - 1; i > 0; i-- {
			j := c.e.rand(i + 1)
			order[i], order[j] = order[j], order[i]
		}
	case team.RingingRule == LongestIdle:
		order = c.e.acd.idleOrder(members)
	case team.RingingRule == RoundRobin:
		order = c.e.acd.roundRobin(team.ID, members)
	}

	rungSomeone := false
	if one {
		var took []User
		for _, u := range order {
			if c.e.acd.Reserve(u, c.id()) {
				took = append(took, u)
			}
		}
		if len(took) > 0 {
			rungSomeone = true
			answered, err := c.ring(took, team.ID, deadline.Sub(c.now()), connect)
			if err != nil || answered {
				return answered, err
			}
		}
	} else {
		for _, u := range order { // never twice in one step
			left := deadline.Sub(c.now())
			if left <= 0 {
				break
			}
			if !c.e.acd.Reserve(u, c.id()) {
				continue
			}
			rungSomeone = true
			if team.RingingRule == RoundRobin {
				c.e.acd.rang(team.ID, u.ID)
			}
			answered, err := c.ring([]User{u}, team.ID, min(left, time.Duration(team.RingSliceSeconds)*time.Second), connect)
			if err != nil || answered {
				return answered, err
			}
		}
	}
	if !rungSomeone && queue && deadline.After(c.now()) {
		return c.queue(members, team.ID, deadline)
	}
	return false, nil
}

func containsTeam(teams []TeamID, id TeamID) bool {
	for _, t := range teams {
		if t == id {
			return true
		}
	}
	return false
}

// ring rings reserved users on every phone for at most d. The first leg
// to answer wins, every other leg stops ringing at once, and connect puts
// the winner through (talk, or for a callback: the caller first).
func (c *call) ring(users []User, team TeamID, d time.Duration, connect func(*ringing, LegID) error) (bool, error) {
	ringings := map[LegID]*ringing{}
	var live []*ringing
	for _, u := range users {
		r := &ringing{user: u, team: team, legs: map[LegID]bool{}, since: c.now()}
		for _, dial := range c.dials(u, d) {
			ctx, cancel := c.ctx()
			leg, err := c.e.media.Originate(ctx, dial, c.in)
			cancel()
			if err != nil {
				c.log.Warn("could not ring a phone", "user", u.ID, "dial", dial.Endpoint+dial.External, "err", err)
				continue
			}
			r.legs[leg] = true
			ringings[leg] = r
		}
		if len(r.legs) == 0 {
			c.e.acd.Release(u, c.id())
			continue
		}
		live = append(live, r)
		if c.firstRing.IsZero() {
			c.firstRing = c.now()
		}
		if err := c.save(c.event(events.CallRingingOnAgent, u.ID, nil)); err != nil {
			c.stopRinging(live, nil, CauseNormal)
			return false, err
		}
	}
	if len(live) == 0 {
		return false, nil
	}
	c.ringTone()
	timer := c.after(d)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		if err != nil {
			c.stopRinging(live, nil, CauseNormal)
			return false, err
		}
		switch ev.Kind {
		case EvAnswered:
			r, ok := ringings[ev.Leg]
			if !ok || !r.legs[ev.Leg] {
				c.hangup(ev.Leg, CauseAnsweredElsewhere)
				continue
			}
			delete(r.legs, ev.Leg)
			for other := range r.legs { // the winner's other phones
				c.hangup(other, CauseAnsweredElsewhere)
				delete(r.legs, other)
			}
			c.stopRinging(live, r, CauseAnsweredElsewhere)
			err := connect(r, ev.Leg)
			if err == errAgentGone {
				// Answered and gone before the bridge: as if unanswered.
				return false, c.stopped(r, CauseNormal)
			}
			return true, err
		case EvHangup:
			r, ok := ringings[ev.Leg]
			if !ok || !r.legs[ev.Leg] {
				continue
			}
			delete(r.legs, ev.Leg)
			if ev.Cause == CauseBusy || ev.Cause == CauseRejected {
				r.declined = true
			}
			if len(r.legs) > 0 {
				continue
			}
			if err := c.stopped(r, ev.Cause); err != nil {
				return false, err
			}
			if allStopped(live) {
				return false, nil
			}
		case EvTimer:
			if ev.Timer == timer {
				return false, c.stopRinging(live, nil, CauseNoAnswer)
			}
		}
	}
}

func allStopped(live []*ringing) bool {
	for _, r := range live {
		if len(r.legs) > 0 {
			return false
		}
	}
	return true
}

// stopRinging hangs up every leg still ringing except winner's, and
// records why each agent stopped.
func (c *call) stopRinging(live []*ringing, winner *ringing, why Cause) error {
	var first error
	for _, r := range live {
		if r == winner || len(r.legs) == 0 {
			continue
		}
		for leg := range r.legs {
			c.hangup(leg, why)
			delete(r.legs, leg)
		}
		if err := c.stopped(r, why); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// stopped records that an agent's phones stopped ringing and frees them.
func (c *call) stopped(r *ringing, cause Cause) error {
	c.result.Rung = append(c.result.Rung, Ring{User: r.user.ID, At: r.since, For: c.now().Sub(r.since)})
	c.e.acd.Release(r.user, c.id())
	name := events.CallAgentNoAnswer
	if r.declined {
		name = events.CallAgentDeclined
	}
	if cause == CauseAnsweredElsewhere || c.callerGone || c.e.stopping() {
		return nil // not the agent's doing
	}
	return c.save(c.event(name, r.user.ID, events.AgentOutcome{Cause: int(cause)}))
}

// dials lists the phones of a user: every device and the external number.
func (c *call) dials(u User, d time.Duration) []Dial {
	callerID := c.rec.RawDigits
	var dials []Dial
	for _, dev := range u.Devices {
		dials = append(dials, Dial{Endpoint: dev, CallerID: callerID, Timeout: backstop(d), Originator: c.caller})
	}
	if u.ExternalNumber != nil {
		dials = append(dials, Dial{External: *u.ExternalNumber, CallerID: c.number.Digits, Timeout: backstop(d), Originator: c.caller})
	}
	return dials
}

// backstop is the ringing time a media server is given for a phone the
// engine rings for d. The engine times the ring itself (FreeSWITCH's
// originate_timeout counts whole clock seconds: a phone rang up to a
// second short of it); the server's own timeout is there only for a
// leg the engine could not stop.
func backstop(d time.Duration) time.Duration { return d + 2*time.Second }

// queue waits until the deadline for one of members to free up; the ACD
// offers the first who does, already reserved for this call. Only the
// members' ids are kept while waiting: a queue holds thousands of calls.
func (c *call) queue(members []User, team TeamID, deadline time.Time) (bool, error) {
	if err := c.save(c.event(events.CallQueued, 0, nil)); err != nil {
		return false, err
	}
	ids := make([]UserID, len(members))
	for i, u := range members {
		ids[i] = u.ID
	}
	since := c.now()
	if !c.waitingSince.IsZero() {
		since, c.waitingSince = c.waitingSince, time.Time{}
	}
	c.e.acd.Enqueue(c.id(), c.priority, since, members, c.in)
	members = nil
	defer c.e.acd.Dequeue(c.id())
	c.waitingMusic()
	timer := c.after(deadline.Sub(c.now()))
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		if err != nil {
			return false, err
		}
		switch {
		case ev.Kind == EvTimer && ev.Timer == timer:
			return false, nil
		case ev.Kind == EvDigit && ev.Digit == "*" && c.number.CallbackRequest:
			c.e.acd.Dequeue(c.id()) // no offer while the caller hears the message
			return false, c.callback(ids, team)
		case ev.Kind == EvOffer:
			i := slices.Index(ids, ev.User)
			if i < 0 {
				continue
			}
			// Never twice in one step: whoever was offered is not again.
			ids = slices.Delete(slices.Clone(ids), i, i+1)
			ctx, cancel := c.ctx()
			offered, err := c.e.dir.UsersByID(ctx, c.company.ID, []UserID{ev.User})
			cancel()
			if err != nil || len(offered) == 0 {
				c.e.acd.Release(User{ID: ev.User}, c.id())
			} else {
				answered, err := c.ring(offered, team, deadline.Sub(c.now()), c.talk)
				if err != nil || answered {
					return answered, err
				}
			}
			if !deadline.After(c.now()) || len(ids) == 0 {
				return false, nil
			}
			ctx, cancel = c.ctx()
			members, err := c.e.dir.UsersByID(ctx, c.company.ID, ids)
			cancel()
			if err != nil {
				return false, nil
			}
			c.e.acd.Enqueue(c.id(), c.priority, c.now(), members, c.in)
			c.waitingMusic()
		}
	}
}

// callbackWindow is how long a callback request keeps its place.
const callbackWindow = 4 * time.Hour

// callback: the caller asked to be called back rather than wait. They hear
// the callback message and are hung up; the call keeps its place in the
// queue, and when one of ids frees up, the system rings that agent and,
// once they answer, the caller.
func (c *call) callback(ids []UserID, team TeamID) error {
	c.result.Outcome = OutcomeCallback
	if _, err := c.play(c.promptOr(MsgCallbackLater, "callback_later"), false); err != nil && err != errCallerGone {
		return err
	}
	if err := c.saveTask(TaskCallbackRequest, c.event(events.CallCallbackRequested, 0, nil)); err != nil {
		return err
	}
	c.hangupCaller(CauseNormal)
	c.caller = "" // the old leg's last events are nobody's now
	if c.inbound.From == "" {
		return errFlowDone // an anonymous caller cannot be called back
	}
	timer := c.after(callbackWindow)
	defer c.cancel(timer)
	for len(ids) > 0 {
		ctx, cancel := c.ctx()
		members, err := c.e.dir.UsersByID(ctx, c.company.ID, ids)
		cancel()
		if err != nil {
			return err
		}
		c.e.acd.Enqueue(c.id(), c.priority, c.now(), members, c.in)
		var offered UserID
		for offered == 0 {
			ev, err := c.wait()
			c.hangupStrayAnswer(ev)
			switch {
			case err != nil:
				c.e.acd.Dequeue(c.id())
				return err
			case ev.Kind == EvTimer && ev.Timer == timer:
				c.e.acd.Dequeue(c.id())
				return errFlowDone
			case ev.Kind == EvOffer && slices.Contains(ids, ev.User):
				offered = ev.User
			}
		}
		ids = slices.DeleteFunc(slices.Clone(ids), func(id UserID) bool { return id == offered })
		done, err := c.callBack(offered, team)
		if err != nil {
			return err
		}
		if done {
			return errFlowDone
		}
	}
	return errFlowDone
}

// hangupStrayAnswer hangs up a leg that answered when nobody waits for it.
func (c *call) hangupStrayAnswer(ev Event) {
	if ev.Kind == EvAnswered {
		c.hangup(ev.Leg, CauseAnsweredElsewhere)
	}
}

// callBack rings the agent the queue offered and, once they answer, the
// caller who asked for a callback. done is false when the agent did not
// answer (another may), true once the callback was tried.
func (c *call) callBack(id UserID, team TeamID) (done bool, err error) {
	ctx, cancel := c.ctx()
	users, err := c.e.dir.UsersByID(ctx, c.company.ID, []UserID{id})
	cancel()
	if err != nil || len(users) == 0 {
		c.e.acd.Release(User{ID: id}, c.id())
		return false, nil
	}
	return c.ring(users, team, agentCallbackRing, c.dialCaller)
}

// dialCaller puts through an agent who answered a callback: it rings the
// caller and, when they answer, the two talk. If the caller does not, the
// callback was tried; the task stays.
func (c *call) dialCaller(r *ringing, agent LegID) error {
	ctx, cancel := c.ctx()
	leg, err := c.e.media.Originate(ctx, Dial{External: c.inbound.From, CallerID: c.number.Digits,
		Timeout: backstop(callerCallbackRing), Originator: agent}, c.in)
	cancel()
	if err != nil {
		c.hangup(agent, CauseNormal)
		c.e.acd.Release(r.user, c.id())
		return nil
	}
	timer := c.after(callerCallbackRing)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		switch {
		case err != nil:
			c.hangup(leg, CauseNormal)
			c.hangup(agent, CauseNormal)
			c.e.acd.Release(r.user, c.id())
			return err
		case ev.Kind == EvAnswered && ev.Leg == leg:
			c.caller, c.callerGone = leg, false
			if err := c.save(c.event(events.CallCalledBack, r.user.ID, nil)); err != nil {
				return err
			}
			return c.talk(r, agent)
		case ev.Kind == EvHangup && (ev.Leg == leg || ev.Leg == agent),
			ev.Kind == EvTimer && ev.Timer == timer:
			c.hangup(leg, CauseNormal)
			c.hangup(agent, CauseNormal)
			c.e.acd.Release(r.user, c.id())
			return nil
		default:
			c.hangupStrayAnswer(ev)
		}
	}
}

// How long a callback rings the agent, then the caller.
const (
	agentCallbackRing  = 30 * time.Second
	callerCallbackRing = 45 * time.Second
)

// talk bridges the caller with the agent who answered, records the
// conversation if the number says so, and lets them talk (converse).
func (c *call) talk(r *ringing, leg LegID) error {
	c.stopBackground()
	ctx, cancel := c.ctx()
	bridge, err := c.e.media.Bridge(ctx, c.caller, leg)
	cancel()
	if err != nil {
		c.hangup(leg, CauseNormal)
		if err == ErrGone {
			return errAgentGone // if the caller left, the next wait says so
		}
		c.e.acd.Release(r.user, c.id())
		return fmt.Errorf("bridge: %w", err)
	}
	c.e.acd.Talk(r.user.ID, c.id())
	now := c.now()
	c.result.Rung = append(c.result.Rung, Ring{User: r.user.ID, At: r.since, For: now.Sub(r.since)})
	c.result.Outcome = OutcomeAnswered
	c.rec.Status, c.rec.AnsweredAt, c.rec.User = CallAnswered, &now, r.user.ID
	happened := []TimelineEvent{c.event(events.CallAnswered, r.user.ID, nil)}
	if c.recordingPolicy().Auto {
		name := fmt.Sprintf("call-%d", c.rec.ID)
		ctx, cancel := c.ctx()
		if err := c.e.media.Record(ctx, RecordTarget{Bridge: bridge}, name, maxRecording); err == nil {
			c.rec.Recording = name
			happened = append(happened, c.event(events.CallRecordingStarted, 0, events.Recording{Name: name}))
		} else {
			c.log.Warn("call not recorded", "err", err)
		}
		cancel()
	}
	if err := c.save(happened...); err != nil {
		c.hangup(leg, CauseNormal)
		c.freeAgent(r)
		return err
	}
	return c.converse(newConversation(r, leg))
}

// maxRecording bounds a call recording.
const maxRecording = 4 * time.Hour

// forward rings an external number and connects the caller to it. A
// forward that is not answered (refused, not reachable, ringing out) is
// an unsuccessful transfer: the caller goes to voicemail.
func (c *call) forward(digits string) error {
	c.rec.TransferredTo = &Transfer{Type: TargetExternal, Digits: digits}
	c.result.ForwardedTo = c.rec.TransferredTo
	to := c.rec.TransferredTo.event()
	if err := c.save(c.event(events.CallTransferred, 0, to)); err != nil {
		return err
	}
	answered, err := c.ringExternal(digits, forwardRing, c.forwarded(digits))
	if err != nil || answered {
		return err
	}
	if err := c.save(c.event(events.CallUnsuccessfulTransfer, 0, to)); err != nil {
		return err
	}
	return c.voicemail()
}

// forwarded puts a caller through to the external number of a forward
// that answered: they talk as with an agent (held, transferred), until
// one hangs up.
func (c *call) forwarded(digits string) func(*ringing, LegID) error {
	return func(r *ringing, leg LegID) error {
		c.result.Outcome = OutcomeForwarded
		c.stopBackground()
		ctx, cancel := c.ctx()
		_, err := c.e.media.Bridge(ctx, c.caller, leg)
		cancel()
		if err != nil {
			c.hangup(leg, CauseNormal)
			if err == ErrGone {
				return errAgentGone
			}
			return fmt.Errorf("bridge: %w", err)
		}
		now := c.now()
		c.rec.Status, c.rec.AnsweredAt = CallAnswered, &now
		if err := c.save(c.event(events.CallAnswered, 0, events.Answered{Digits: digits})); err != nil {
			c.hangup(leg, CauseNormal)
			return err
		}
		return c.converse(newConversation(r, leg))
	}
}

// forwardRing is how long a forward to an external number rings.
const forwardRing = 60 * time.Second

// voicemail greets the caller, beeps and records a message.
func (c *call) voicemail() error {
	if !c.number.Voicemail {
		return nil
	}
	if _, err := c.play(c.promptOr(MsgUnansweredCall, "voicemail_greeting"), false); err != nil {
		return err
	}
	if _, err := c.play(Prompt{Number: c.number.ID, Sound: "beep"}, false); err != nil {
		return err
	}
	name := voicemailName(c.id())
	if err := c.save(c.event(events.CallVoicemailStarted, 0, events.Recording{Name: name})); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	err := c.e.media.Record(ctx, RecordTarget{Leg: c.caller}, name, maxVoicemail)
	cancel()
	if err == ErrGone {
		return errCallerGone
	}
	if err != nil {
		c.log.Warn("voicemail not recorded", "err", err)
		return nil
	}
	return c.takeVoicemail(name, c.now(), maxVoicemail)
}

// voicemailName is the media server's name of a call's voicemail: one per
// call, so that a switchboard taking the call over finds it.
func voicemailName(id CallID) string { return fmt.Sprintf("voicemail-%d", id) }

// takeVoicemail waits for the end of the voicemail name, begun at started
// and lasting left at most: the caller hangs up, or the media server stops
// at the limit or on the caller's #.
func (c *call) takeVoicemail(name string, started time.Time, left time.Duration) error {
	timer := c.after(left + 5*time.Second)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		switch {
		case err == errCallerGone:
			// Hanging up is how most callers end a message: the media
			// server then stops the recording and stores the file.
			d := c.now().Sub(started)
			if err := c.recordingStored(name); err != nil {
				return err
			}
			return c.leftVoicemail(name, d)
		case err != nil:
			return err
		case ev.Kind == EvRecordingDone && ev.Recording == name:
			return c.leftVoicemail(name, ev.Duration)
		case ev.Kind == EvTimer && ev.Timer == timer:
			return c.leftVoicemail(name, c.now().Sub(started))
		}
	}
}

// recordingStored waits, for a while, for the media server to say that
// the recording name stopped, the caller being gone.
func (c *call) recordingStored(name string) error {
	timer := c.after(5 * time.Second)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		switch {
		case err != nil && err != errCallerGone:
			return err
		case ev.Kind == EvRecordingDone && ev.Recording == name, ev.Kind == EvTimer && ev.Timer == timer:
			return nil
		}
	}
}

// maxVoicemail bounds a voicemail.
const maxVoicemail = 2 * time.Minute

// minVoicemail is the least voice a message holds (or, unread, the
// shortest recording kept).
const minVoicemail = time.Second

// leftVoicemail keeps the recording as the call's voicemail if it is a
// message: a second or more of voice. Media servers differ on a caller
// who says nothing (Asterisk stops recording a channel that sends no
// audio for 4 s, FreeSWITCH records the silence): the engine judges the
// file itself, so that both give the same call record. A recording it
// cannot read is judged by its length.
func (c *call) leftVoicemail(name string, d time.Duration) error {
	reason := ""
	if voice, judged := c.voice(name); judged && voice < minVoicemail {
		reason = "silent"
	} else if !judged && d < minVoicemail {
		reason = "too_short"
	}
	if reason != "" {
		return c.save(c.event(events.CallVoicemailDiscarded, 0, events.VoicemailDiscarded{Name: name, Reason: reason}))
	}
	c.voicemailLeft = true
	c.rec.Voicemail = name
	c.result.Outcome = OutcomeVoicemail
	return c.saveTask(TaskVoicemail, c.event(events.CallVoicemailLeft, 0, events.VoicemailLeft{Name: name, Seconds: int(d.Seconds())}))
}

// voice reads a recording back and says how much voice it holds; judged
// is false when it cannot be read (no Recordings, or the media server
// keeps it out of reach).
func (c *call) voice(name string) (voice time.Duration, judged bool) {
	if c.e.recordings == nil {
		return 0, false
	}
	ctx, cancel := c.ctx()
	defer cancel()
	// The server stores the file once the recording stops, which may
	// follow the caller's hang-up by a moment.
	for try := 0; ; try++ {
		f, err := c.e.recordings.OpenRecording(ctx, name)
		if err == nil {
			voice, err := wav.Voice(io.LimitReader(f, maxVoicemailBytes))
			f.Close()
			if err != nil {
				c.log.Warn("voicemail not judged", "recording", name, "err", err)
				return 0, false
			}
			return voice, true
		}
		if !errors.Is(err, ErrNoRecording) || try == 10 {
			c.log.Warn("voicemail not judged", "recording", name, "err", err)
			return 0, false
		}
		select {
		case <-ctx.Done():
			return 0, false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// maxVoicemailBytes bounds what is read of a voicemail: maxVoicemail of
// 16-bit stereo at 48 kHz, the most a media server writes.
const maxVoicemailBytes = 48000 * 2 * 2 * 130
