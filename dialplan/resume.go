package dialplan

import "time"

// resume is the rest of the life of a call taken over after a restart.
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
	}
	if c.caller == "" {
		c.callerGone = true
		c.finish(errCutByRestart)
		return
	}
	if c.rec.AnsweredAt != nil && c.rec.User != 0 {
		peers, err := c.bridged()
		switch {
		case err != nil:
			c.finish(err)
			return
		case len(peers) > 0:
			log.Info("call taken over after a restart: the caller talks with the agent", "legs", peers)
			c.finish(c.talkOn(peers))
			return
		default:
			// The agent hung up while we were away: the conversation is
			// over, when exactly is unknown.
			c.finish(nil)
			return
		}
	}
	log.Warn("call cut by a restart: hung up")
	c.finish(errCutByRestart)
}

// maxLinkWait bounds how long a resumed call waits for the media server's
// link, to find who its caller talks with.
const maxLinkWait = time.Minute

// bridged asks the media server who the caller talks with, again until
// the link is up.
func (c *call) bridged() ([]LegID, error) {
	deadline := c.now().Add(maxLinkWait)
	for {
		ctx, cancel := c.ctx()
		peers, err := c.e.media.Bridged(ctx, c.caller, c.in)
		cancel()
		if err == nil || err == ErrGone || !c.now().Before(deadline) {
			return peers, err
		}
		timer := c.after(500 * time.Millisecond)
		for {
			ev, err := c.wait()
			if err != nil {
				return nil, err
			}
			if ev.Kind == EvTimer && ev.Timer == timer {
				break
			}
		}
	}
}

// talkOn waits for the end of a conversation taken over: the caller's
// hang-up, or the agent's (every leg bridged with the caller gone); the
// agent is in a call until then, then in after-call work.
func (c *call) talkOn(peers []LegID) error {
	ctx, cancel := c.ctx()
	users, err := c.e.dir.UsersByID(ctx, c.company.ID, []UserID{c.rec.User})
	cancel()
	agent := User{ID: c.rec.User}
	if err == nil && len(users) == 1 {
		agent = users[0]
	}
	c.e.acd.Talk(agent.ID, c.id())
	defer c.e.acd.Hangup(agent, c.id(), time.Duration(agent.WrapUpTime)*time.Second, c.number.MandatoryTagging)
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
