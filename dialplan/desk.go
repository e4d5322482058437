package dialplan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/events"
)

// DeskPhones is what the engine reads (from its Directory) to take a call
// a user dials on their desk phone.
type DeskPhones interface {
	// DeskPhone finds the user whose device (a dial string, PJSIP/alice)
	// places a call, and their company.
	DeskPhone(ctx context.Context, device string) (CompanyID, User, error)
	// Extension finds the user of the company with that extension.
	Extension(ctx context.Context, company CompanyID, extension string) (User, error)
	// OutboundNumbers lists the numbers the user may call out with (their
	// outbound_users hold them), oldest first: the first is their default.
	OutboundNumbers(ctx context.Context, company CompanyID, user UserID) ([]Number, error)
}

// ErrNoDeskPhone: no user (or more than one) has the device.
var ErrNoDeskPhone = errors.New("no user has this device")

// Why an outbound call was not dialled, besides the company's policy
// (DestinationReason): the call record's timeline says which.
const (
	refusedBlocked  = "blocked"
	refusedNoNumber = "no_number" // none of the user's, or a prefix of none
)

// desk is the life of a call a user dials on their desk phone: another
// user's extension rings that user (an internal call, not in the call
// log); any other number is an outbound call from the user's default
// number, checked against the company's policy and blocked numbers, and
// recorded like a click-to-call.
func (c *call) desk() {
	agent, dir := c.inbound.Leg, c.e.dir
	ctx, cancel := c.ctx()
	companyID, u, err := dir.DeskPhone(ctx, c.inbound.Device)
	if err == nil {
		c.company, err = dir.Company(ctx, companyID)
	}
	cancel()
	if err != nil {
		c.log.Warn("a call from an unknown desk phone refused", "device", c.inbound.Device, "err", err)
		c.hangup(agent, CauseRejected)
		return
	}
	dialled := strings.TrimSpace(c.inbound.To)
	if extensionPattern.MatchString(dialled) {
		ctx, cancel := c.ctx()
		target, err := dir.Extension(ctx, companyID, dialled)
		cancel()
		if err == nil {
			c.internal(agent, u, target)
			return
		}
	}
	ctx, cancel = c.ctx()
	numbers, err := dir.OutboundNumbers(ctx, companyID, u.ID)
	cancel()
	if err != nil {
		c.log.Error("outbound numbers unreadable: call refused", "user", u.ID, "err", err)
		c.hangup(agent, CauseTemporaryFailure)
		return
	}
	c.rec = Call{Company: companyID, Direction: Outbound, Status: CallInitial, RawDigits: dialled,
		StartedAt: c.now(), User: u.ID, MediaRef: string(agent)}
	number, dialled, ok := chooseNumber(numbers, dialled)
	reason, to := "", dialled
	switch {
	case !ok:
		reason = refusedNoNumber
	default:
		c.number = number
		c.rec.Number = c.number.ID
		var dest *DestinationError
		if to, err = c.company.Destination(dialled); errors.As(err, &dest) {
			reason, to = string(dest.Reason), dialled
		} else if blocked, err := c.blockedNumber(to); err != nil || blocked {
			// Unreadable blocked numbers refuse the call too: a
			// blocked number must never be dialled.
			if err != nil {
				c.log.Error("outbound call refused: blocked numbers unreadable", "err", err)
			}
			reason = refusedBlocked
		}
	}
	c.rec.RawDigits = to
	if err := c.save(c.event(events.CallCreated, u.ID, events.Created{To: to})); err != nil {
		c.log.Error("call not recorded; refused", "err", err)
		c.hangup(agent, CauseTemporaryFailure)
		return
	}
	c.e.register(c)
	if reason != "" {
		c.finish(c.refuse(agent, to, reason))
		return
	}
	if !c.e.acd.Occupy(u, c.id()) {
		c.hangup(agent, CauseBusy)
		c.cause = CauseBusy
		c.finish(nil)
		return
	}
	c.finish(c.reach(&ringing{user: u, legs: map[LegID]bool{}, since: c.now()}, agent,
		OutboundCall{User: u, Number: c.number, To: to}))
}

// chooseNumber picks the number a user calls out with: the one whose
// outbound prefix they dialled after a star (*81 0612345678), or their
// default, the first; it returns the digits to call without the prefix.
// A star and a prefix of none of their numbers is no number: refused
// rather than dialled.
func chooseNumber(numbers []Number, dialled string) (Number, string, bool) {
	if rest, starred := strings.CutPrefix(dialled, "*"); starred {
		for _, n := range numbers {
			if n.OutboundPrefix != "" && strings.HasPrefix(rest, n.OutboundPrefix) {
				return n, rest[len(n.OutboundPrefix):], true
			}
		}
		return Number{}, dialled, false
	}
	if len(numbers) == 0 {
		return Number{}, dialled, false
	}
	return numbers[0], dialled, true
}

// blockedNumber says whether the company blocks digits.
func (c *call) blockedNumber(digits string) (bool, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	blocked, err := c.e.dir.IsBlocked(ctx, c.company.ID, digits)
	if err != nil {
		return false, fmt.Errorf("blocked numbers: %w", err)
	}
	return blocked, nil
}

// refuse tells the user who dialled a number they may not call so, and
// hangs up: the call record keeps why.
func (c *call) refuse(agent LegID, digits, reason string) error {
	if err := c.save(c.event(events.CallOutboundRefused, c.rec.User, events.Refused{Digits: digits, Reason: reason})); err != nil {
		return err
	}
	c.caller = agent // the user hears why, and their hang-up ends it
	if err := c.answer(); err != nil {
		return err
	}
	if _, err := c.play(Prompt{Number: c.number.ID, Sound: "outbound_refused"}, false); err != nil {
		return err
	}
	c.hangupCaller(CauseRejected)
	return nil
}

// internal rings a colleague's phones for a user who dialled their
// extension, and connects the two; it is not a call of the call log.
func (c *call) internal(agent LegID, from, to User) {
	c.log = c.log.With("from", from.ID, "to", to.ID)
	// An internal call has no record, hence no id: the ACD holds the
	// colleague under the negative of their own id, which no call has.
	held := -CallID(to.ID)
	if to.ID == from.ID || len(to.Devices) == 0 || !c.e.acd.Occupy(to, held) {
		c.hangup(agent, CauseBusy)
		return
	}
	defer c.e.acd.Release(to, held)
	r := c.ringDevices(to, Dial{CallerID: from.Extension, Originator: agent})
	ctx, cancel := c.ctx()
	c.e.media.Ring(ctx, agent)
	cancel()
	c.caller = agent
	phone, err := c.ringAgent(r)
	if err != nil || phone == "" {
		c.hangupCaller(CauseNoAnswer)
		return
	}
	if err := c.answer(); err == nil {
		ctx, cancel := c.ctx()
		_, err = c.e.media.Bridge(ctx, agent, phone)
		cancel()
		if err == nil {
			for {
				ev, err := c.wait()
				if err != nil || ev.Kind == EvHangup && ev.Leg == phone {
					break
				}
			}
		}
	}
	c.hangup(phone, CauseNormal)
	c.hangupCaller(CauseNormal)
}
