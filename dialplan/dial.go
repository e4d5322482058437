package dialplan

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/events"
)

// OutboundCall is a call an agent places through Switchboard (click to
// call): their phones ring first, then, once they answer, To is dialled
// with Number as the caller id.
type OutboundCall struct {
	User   User
	Number Number
	// To is the destination in E.164, checked already against the
	// company's policy and blocked numbers (Company.Destination).
	To string
}

// How long a click-to-call rings the agent, then the destination.
const (
	agentDialRing = 30 * time.Second
	outboundRing  = 60 * time.Second
)

// Dial places an outbound call for a user of company. It returns once the
// call is recorded (and its agent's phones ring), with its id; the call
// goes on by itself. ErrAgentBusy: the user is in a call already.
func (e *Engine) Dial(ctx context.Context, company Company, o OutboundCall) (CallID, error) {
	if len(o.User.Devices) == 0 {
		return 0, ErrUnreachable
	}
	c := e.newCall()
	c.company, c.number = company, o.Number
	c.rec = Call{Company: company.ID, Number: o.Number.ID, Direction: Outbound, Status: CallInitial,
		RawDigits: o.To, User: o.User.ID}
	started := make(chan error, 1)
	if !e.start(c, func() { c.dialOut(o, started) }) {
		c.end()
		return 0, ErrDraining
	}
	select {
	case err := <-started:
		if err != nil {
			return 0, err
		}
		return c.rec.ID, nil // written once, before started was told
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// dialOut is the whole life of a click-to-call: the agent's phones ring;
// the first that answers hears ringing while the destination is dialled;
// when it answers, the two talk (a conversation like any other: on hold,
// transferred, supervised), and the call is recorded if the number's
// outbound policy says so.
func (c *call) dialOut(o OutboundCall, started chan<- error) {
	c.rec.StartedAt = c.now()
	if c.e.acd.Busy(o.User.ID) {
		started <- ErrAgentBusy
		return
	}
	if err := c.save(c.event(events.CallCreated, o.User.ID, events.Created{To: o.To})); err != nil {
		started <- err
		return
	}
	c.e.register(c)
	if !c.e.acd.Occupy(o.User, c.id()) {
		// Another call took the agent since Busy said no: this one is
		// over before it began (its record says so).
		started <- ErrAgentBusy
		c.finish(nil)
		return
	}
	r := c.ringDevices(o.User, Dial{CallerID: o.To})
	if len(r.legs) == 0 {
		c.e.acd.Release(o.User, c.id())
		started <- fmt.Errorf("%w: the media server rang none of %v", ErrUnreachable, o.User.Devices)
		c.finish(nil)
		return
	}
	started <- nil
	agent, err := c.ringAgent(r)
	if err != nil || agent == "" {
		c.e.acd.Release(o.User, c.id())
		c.finish(err)
		return
	}
	c.finish(c.reach(r, agent, o))
}

// ringDevices rings every device of a user a call of their own rings (a
// click-to-call, a colleague's extension) for agentDialRing, as dial says
// otherwise (caller id, originator).
func (c *call) ringDevices(u User, dial Dial) *ringing {
	r := &ringing{user: u, legs: map[LegID]bool{}, since: c.now()}
	dial.Timeout = backstop(agentDialRing)
	for _, dev := range u.Devices {
		dial.Endpoint = dev
		ctx, cancel := c.ctx()
		leg, err := c.e.media.Originate(ctx, dial, c.in)
		cancel()
		if err != nil {
			c.log.Warn("could not ring a phone", "dial", dev, "err", err)
			continue
		}
		r.legs[leg] = true
	}
	return r
}

// ringAgent waits for one of the agent's phones to answer; "" when none
// does in time.
func (c *call) ringAgent(r *ringing) (LegID, error) {
	timer := c.after(agentDialRing)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		switch {
		case err != nil:
			c.hangupAll(r.legs, CauseNormal)
			return "", err
		case ev.Kind == EvAnswered && r.legs[ev.Leg]:
			delete(r.legs, ev.Leg)
			c.hangupAll(r.legs, CauseAnsweredElsewhere)
			return ev.Leg, nil
		case ev.Kind == EvHangup && r.legs[ev.Leg]:
			delete(r.legs, ev.Leg)
			if len(r.legs) == 0 {
				c.cause = ev.Cause
				return "", nil
			}
		case ev.Kind == EvTimer && ev.Timer == timer:
			c.hangupAll(r.legs, CauseNoAnswer)
			c.cause = CauseNoAnswer
			return "", nil
		}
	}
}

func (c *call) hangupAll(legs map[LegID]bool, cause Cause) {
	for leg := range legs {
		c.hangup(leg, cause)
		delete(legs, leg)
	}
}

// reach dials the destination for the agent on leg, and connects them
// when it answers. The destination's refusal ends the call with its cause.
func (c *call) reach(r *ringing, agent LegID, o OutboundCall) error {
	ctx, cancel := c.ctx()
	c.e.media.Ring(ctx, agent)
	dest, err := c.e.media.Originate(ctx, Dial{External: o.To, CallerID: o.Number.Digits,
		Timeout: backstop(outboundRing), Originator: agent}, c.in)
	cancel()
	if err != nil {
		c.hangup(agent, CauseTemporaryFailure)
		c.e.acd.Release(o.User, c.id())
		return fmt.Errorf("dial %s: %w", o.To, err)
	}
	timer := c.after(outboundRing)
	defer c.cancel(timer)
	for {
		ev, err := c.wait()
		switch {
		case err != nil:
			c.hangup(dest, CauseNormal)
			c.hangup(agent, CauseNormal)
			c.e.acd.Release(o.User, c.id())
			return err
		case ev.Kind == EvHangup && ev.Leg == agent:
			// The agent gave up before the answer.
			c.hangup(dest, CauseNormal)
			c.e.acd.Release(o.User, c.id())
			return nil
		case ev.Kind == EvHangup && ev.Leg == dest:
			c.cause = ev.Cause
			c.hangup(agent, CauseNormal)
			c.e.acd.Release(o.User, c.id())
			return nil
		case ev.Kind == EvTimer && ev.Timer == timer:
			c.hangup(dest, CauseNoAnswer)
			c.hangup(agent, CauseNormal)
			c.cause = CauseNoAnswer
			c.e.acd.Release(o.User, c.id())
			return nil
		case ev.Kind == EvAnswered && ev.Leg == dest:
			if c.inbound.Device != "" {
				// A desk phone's call is answered when the far end is.
				ctx, cancel := c.ctx()
				err := c.e.media.Answer(ctx, agent)
				cancel()
				if err != nil {
					c.hangup(dest, CauseNormal)
					c.e.acd.Release(o.User, c.id())
					return nil
				}
			}
			// The destination is the call's caller from now on: the
			// party whose hang-up ends the call, who is held and
			// transferred.
			c.caller = dest
			c.rec.MediaRef = string(dest)
			return c.talk(r, agent)
		}
	}
}
