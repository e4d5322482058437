package dialplan

import (
	"slices"
	"time"

	"github.com/switchboard/switchboard/events"
)

// resume is the rest of the life of a call taken over after a restart
// (a crash, or a switchboard stopped with calls in progress): a caller
// talking with an agent goes on talking; a caller who was waiting (in a
// message, the menu, ringing agents, the queue, a voicemail) carries on
// from a safe point (carryOn). An outbound call not yet answered is cut:
// its agent dials again.
func (c *call) resume() {
	log := c.log
	ctx, cancel := c.ctx()
	var err error
	if c.company, err = c.e.dir.Company(ctx, c.rec.Company); err == nil {
		c.number, err = c.e.dir.Number(ctx, c.rec.Company, c.rec.Number)
	}
	cancel()
	if err != nil {
		log.Warn("resumed call: its number is unreadable", "err", err)
	} else {
		c.priority = c.number.Priority
		c.setLimit() // the number's limit, known now
	}
	if c.caller == "" {
		c.callerGone = true
		c.finish(errCutByRestart)
		return
	}
	if c.rec.AnsweredAt != nil && c.rec.User != 0 {
		c.finish(c.continueTalk())
		return
	}
	if c.rec.Direction == Inbound && c.rec.AnsweredAt == nil && err == nil {
		if err := c.awaitLink(); err != nil {
			c.finish(err)
			return
		}
		c.finish(c.carryOn())
		return
	}
	log.Warn("call cut by a restart: hung up")
	c.finish(errCutByRestart)
}

// carryOn takes a caller who was waiting back into their number's flow:
// a voicemail being recorded goes on (the media server kept recording),
// or, the caller gone meanwhile, is kept as they left it;
// otherwise the caller goes back where the record says they were, at the
// start of that step: the option they chose in a menu (its agents rung
// again), the menu itself, or the ring steps. They do not hear the
// welcome again, and in a queue they keep their place: they wait since
// they were first queued (recall).
func (c *call) carryOn() error {
	if raw := c.rec.RawDigits; raw != Anonymous {
		c.inbound.From = raw // a caller who can be called back
	}
	if c.leavingVoicemail {
		if done, err := c.resumeVoicemail(); done {
			return err
		}
	}
	n, option, depth := c.path()
	c.log.Info("call taken over after a restart: the caller carries on", "number", n.ID, "option", option != nil)
	c.resumed = true
	if option != nil {
		c.number = n
		return c.route(*option, depth)
	}
	return c.flow(n, depth)
}

// recall learns from a resumed call's timeline what the flow knew of it,
// for its missed-call reason and its place in a queue: whether agents
// were rung (and since when), whether the line was closed, when the
// caller was queued, whether they were leaving a voicemail.
func (c *call) recall(timeline []TimelineEvent) {
	for _, e := range timeline {
		switch e.Event {
		case events.CallRingingOnAgent:
			c.ringPhase = true
			if c.firstRing.IsZero() {
				c.firstRing = e.At
			}
		case events.CallQueued:
			c.ringPhase, c.waitingSince = true, e.At
		case events.CallOutOfOpeningHours:
			c.closed = true
		case events.CallVoicemailStarted:
			c.leavingVoicemail = true
		case events.CallTransferred:
			c.waitingSince = time.Time{} // queued at another number: in line there anew
		}
	}
}

// resumeVoicemail takes over the voicemail the caller was leaving: still
// being recorded, it goes on; finished meanwhile (the caller hung up, or
// pressed #), it is kept as they left it. done is false when the media
// server has neither: the caller carries on in the flow.
func (c *call) resumeVoicemail() (done bool, err error) {
	name := voicemailName(c.id())
	c.stepsDone = c.ringPhase // the ring steps led here, if any
	ctx, cancel := c.ctx()
	recording, adoptErr := c.e.media.AdoptRecording(ctx, c.caller, name)
	cancel()
	switch {
	case recording:
		c.log.Info("call taken over after a restart: the caller leaves a voicemail")
		return true, c.takeVoicemail(name, c.now(), maxVoicemail)
	case adoptErr != nil && adoptErr != ErrGone:
		c.log.Warn("resumed call: cannot tell whether a voicemail is being recorded", "err", adoptErr)
	case c.stored(name):
		c.log.Info("call taken over after a restart: the caller left a voicemail meanwhile")
		if err := c.leftVoicemail(name, 0); err != nil {
			return true, err
		}
		if adoptErr == ErrGone {
			return true, errCallerGone
		}
		return true, nil // the caller, still there, is hung up
	}
	if adoptErr == ErrGone {
		return true, errCallerGone
	}
	return false, nil
}

// stored says whether the media server has the recording name.
func (c *call) stored(name string) bool {
	if c.e.recordings == nil {
		return false
	}
	ctx, cancel := c.ctx()
	defer cancel()
	f, err := c.e.recordings.OpenRecording(ctx, name)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// path is where the record says the caller was: the number they are in
// (following the numbers their menu choices transferred them to), and the
// option they chose there, if any. A choice the menu no longer has leads
// back to that menu.
func (c *call) path() (n Number, option *IVROption, depth int) {
	n = c.number
	for _, key := range c.rec.IVROptions {
		i := slices.IndexFunc(n.IVROptions, func(o IVROption) bool { return o.Key == key })
		if i < 0 {
			break
		}
		o := n.IVROptions[i]
		if o.Target.Type != TargetNumber || depth >= maxTransfers {
			return n, &o, depth
		}
		ctx, cancel := c.ctx()
		next, err := c.e.dir.Number(ctx, c.company.ID, NumberID(o.Target.ID))
		cancel()
		if err != nil {
			return n, &o, depth // route says the target is missing
		}
		n, depth = next, depth+1
	}
	return n, nil, depth
}

// maxLinkWait bounds how long a resumed call waits for the media server's
// link.
const maxLinkWait = time.Minute

// awaitLink waits for the media server's link: calls are taken over
// before the driver connects (Resume), and nothing can be asked of the
// server before, nor known of the adopted legs before it settled them.
func (c *call) awaitLink() error {
	deadline := c.now().Add(maxLinkWait)
	for {
		ctx, cancel := c.ctx()
		err := c.e.media.Ready(ctx)
		cancel()
		if err == nil || !c.now().Before(deadline) {
			return err
		}
		timer := c.after(200 * time.Millisecond)
		for {
			ev, err := c.wait()
			if err != nil {
				return err
			}
			if ev.Kind == EvTimer && ev.Timer == timer {
				break
			}
		}
	}
}

// bridged asks the media server, once linked, who the caller talks with.
func (c *call) bridged() ([]LegID, error) {
	if err := c.awaitLink(); err != nil {
		return nil, err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	return c.e.media.Bridged(ctx, c.caller, c.in)
}

// continueTalk follows a conversation begun before the restart. The agent is
// in a call from the start (Resume), so that no caller taken over rings
// them meanwhile, until it ends, then in after-call work.
func (c *call) continueTalk() error {
	ctx, cancel := c.ctx()
	users, err := c.e.dir.UsersByID(ctx, c.company.ID, []UserID{c.rec.User})
	cancel()
	agent := User{ID: c.rec.User}
	if err == nil && len(users) == 1 {
		agent = users[0]
	}
	defer c.e.acd.Hangup(agent, c.id(), time.Duration(agent.WrapUpTime)*time.Second, c.number.MandatoryTagging)
	peers, err := c.bridged()
	if err != nil || len(peers) == 0 {
		// Without peers, the agent hung up while we were away: the
		// conversation is over, when exactly is unknown.
		return err
	}
	c.log.Info("call taken over after a restart: the caller talks with the agent", "legs", peers)
	return c.talkOn(peers)
}

// talkOn waits for the end of a conversation taken over: the caller's
// hang-up, or the agent's (every leg bridged with the caller gone).
func (c *call) talkOn(peers []LegID) error {
	live := map[LegID]bool{}
	for _, p := range peers {
		live[p] = true
	}
	for len(live) > 0 {
		ev, err := c.wait()
		if err == errCallerGone {
			for p := range live {
				c.hangup(p, CauseNormal)
			}
			return nil
		}
		if err == errStopping {
			return errHandedOver
		}
		if err != nil {
			return err
		}
		if ev.Kind == EvHangup {
			delete(live, ev.Leg)
		}
	}
	return nil
}
