package aritest

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// CallScript says what an inbound caller does (what the SIPp UACs did).
type CallScript struct {
	// Name is the caller id name ("Caller One" in the recordings).
	Name string
	// Endpoint is the PJSIP endpoint the call arrives on; default
	// Options.CallerEndpoint.
	Endpoint string
	// Digits are RFC 4733 digits pressed at offsets from the answer.
	Digits []Digit
	// HangupAfter: the caller sends BYE this long after being answered.
	// Zero: it waits for Asterisk to hang up.
	HangupAfter time.Duration
	// CancelAfter: the caller sends CANCEL this long after calling if it
	// is still unanswered by then. Zero: it never cancels.
	CancelAfter time.Duration
	// Voice: the caller speaks, so that a recording of its channel, or
	// of a bridge it is in, holds a voice (a tone); otherwise what it
	// sends is silence, as a phone's RTP between words.
	Voice bool
	// Args are the Stasis application's arguments the dialplan gives
	// (the StasisStart's args); default the extension dialled alone.
	Args []string
}

// Digit is one DTMF digit pressed by a caller.
type Digit struct {
	At       time.Duration // after the answer
	Digit    string        // "0"-"9", "*", "#", "A"-"D"
	Duration time.Duration // default 280 ms, what the recorded digit gave
}

const defaultDigitDuration = 280 * time.Millisecond

// Caller is a test's handle on an inbound call. Its methods are safe for
// concurrent use.
type Caller struct {
	s        *Server
	ch       *channel // nil when the call never reached Stasis
	script   CallScript
	signals  []string
	answered bool
	ended    bool
	cause    int
	by       string
	final    string
	done     chan struct{}
	changed  chan struct{}
}

// Call places an inbound call from the number `from` to extension exten:
// the channel enters Stasis(App, exten) in state Ring, as the recorded
// dialplan does, then the caller follows the script. When the app has no
// websocket, Stasis() fails and the caller gets 603 Decline without any
// ARI event: whether it is not registered (no channels: 10) or still is
// (kept by a channel, a bridge or an endpoint subscription: "Stasis app
// 'switchboard' not active" on 22.10.1).
func (s *Server) Call(from, exten string, script CallScript) *Caller {
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := &Caller{s: s, script: script, done: make(chan struct{}), changed: make(chan struct{}), signals: []string{"100 Trying"}}
	now := time.Now()
	a := s.apps[s.opts.App]
	if s.closed || a == nil || a.active == nil {
		s.seq++
		s.nameSeq++
		cl.signal("603 Decline")
		cl.finish(16, "asterisk", "603 Decline")
		return cl
	}
	ep := script.Endpoint
	if ep == "" {
		ep = s.opts.CallerEndpoint
	}
	e := s.endpoints["PJSIP/"+ep]
	if e == nil {
		e = s.endpoint(ep)
		e.online = false
	}
	s.callNum++
	c := &channel{
		id: s.nextID(now), name: fmt.Sprintf("PJSIP/%s-%08x", ep, s.nameSeq), kind: kindInbound, state: "Ring",
		protocolID: fmt.Sprintf("%d-%d@127.0.0.1", s.callNum, s.pid), cid: CallerID{Name: script.Name, Number: from},
		context: s.opts.InboundContext, exten: exten, priority: 2, creation: stamp(now),
		vars: map[string]string{}, endpoint: e, ssrc: randSSRC(), caller: cl,
	}
	s.nameSeq++
	cl.ch = c
	s.registerChannel(c)
	args := script.Args
	if args == nil {
		args = []string{exten}
	}
	s.enterStasis(c, a, args)
	if d := script.CancelAfter; d > 0 {
		s.after(c, d, func() {
			if c.state != "Up" {
				s.hangup(c, hangup{kind: byCancel, cause: 127, techCause: 487})
			}
		})
	}
	return cl
}

// onAnswer runs the post-answer script. Called with mu held.
func (cl *Caller) onAnswer(c *channel) {
	cl.answered = true
	cl.signal("200 OK")
	s := cl.s
	// One timer chain, so the digits arrive in order even under load.
	digits := append([]Digit(nil), cl.script.Digits...)
	sort.SliceStable(digits, func(i, j int) bool { return digits[i].At < digits[j].At })
	var press func(i int, prev time.Duration)
	press = func(i int, prev time.Duration) {
		if i == len(digits) {
			return
		}
		s.after(c, digits[i].At-prev, func() {
			s.pressDigit(c, digits[i])
			press(i+1, digits[i].At)
		})
	}
	press(0, 0)
	if d := cl.script.HangupAfter; d > 0 {
		s.after(c, d, func() { s.hangup(c, hangup{kind: byRemote, cause: 16}) })
	}
}

func (s *Server) pressDigit(c *channel, d Digit) {
	if c.dead || !c.sdpSent {
		return // no media path: RFC 4733 digits cannot reach Asterisk
	}
	dur := d.Duration
	if dur <= 0 {
		dur = defaultDigitDuration
	}
	s.chanEvent(c, "ChannelDtmfReceived", func(o obj) obj {
		return o.str("digit", d.Digit).num("duration_ms", int(dur/time.Millisecond))
	})
	if r := c.rec; r != nil && r.state == "recording" {
		switch t := r.terminateOn; {
		case t == "any", t == d.Digit && (t == "#" || t == "*"):
			s.finishRecording(r, "done")
		}
	}
}

func (cl *Caller) signal(sig string) {
	cl.signals = append(cl.signals, sig)
	cl.notify()
}

// notify wakes the waiters. Called with mu held.
func (cl *Caller) notify() {
	close(cl.changed)
	cl.changed = make(chan struct{})
}

// finish records the end of the call. Called with mu held.
func (cl *Caller) finish(cause int, by, final string) {
	if cl.ended {
		return
	}
	cl.ended = true
	cl.cause = cause
	cl.by = by
	cl.final = final
	switch {
	case by == "caller" && final == "CANCEL":
		cl.signals = append(cl.signals, "487 Request Terminated")
	case by == "caller":
	case final == "BYE":
		cl.signals = append(cl.signals, fmt.Sprintf("BYE (Q.850;cause=%d)", cause))
	case final != "" && cl.signals[len(cl.signals)-1] != final:
		cl.signals = append(cl.signals, final)
	}
	close(cl.done)
	cl.notify()
}

// ChannelID is the caller's channel id ("" if Stasis() failed).
func (cl *Caller) ChannelID() string {
	if cl.ch == nil {
		return ""
	}
	return cl.ch.id
}

// Answered reports whether Asterisk answered the call.
func (cl *Caller) Answered() bool {
	cl.s.mu.Lock()
	defer cl.s.mu.Unlock()
	return cl.answered
}

// Heard returns the media played to the caller, in order: its own
// playbacks, its bridges' playbacks and whispers of snoops on it.
func (cl *Caller) Heard() []Prompt {
	cl.s.mu.Lock()
	defer cl.s.mu.Unlock()
	if cl.ch == nil {
		return nil
	}
	out := make([]Prompt, 0, len(cl.ch.prompts))
	for _, p := range cl.ch.prompts {
		out = append(out, *p)
	}
	return out
}

// Signals lists the SIP messages the caller received, in order: "100
// Trying", "180 Ringing", "183 Session Progress", "200 OK", a final error
// such as "603 Decline", or "BYE (Q.850;cause=16)".
func (cl *Caller) Signals() []string {
	cl.s.mu.Lock()
	defer cl.s.mu.Unlock()
	return append([]string(nil), cl.signals...)
}

// DTMF returns the digits the app sent to the caller (POST /dtmf).
func (cl *Caller) DTMF() string {
	cl.s.mu.Lock()
	defer cl.s.mu.Unlock()
	if cl.ch == nil {
		return ""
	}
	return cl.ch.dtmfSent
}

// Ended reports whether the call is over, the hang-up cause (Q.850: 16
// for a BYE either way, the DELETE reason's cause, 127 for a CANCEL, 0
// after Restart or Close) and who ended it ("caller" or "asterisk").
func (cl *Caller) Ended() (ended bool, cause int, by string) {
	cl.s.mu.Lock()
	defer cl.s.mu.Unlock()
	return cl.ended, cl.cause, cl.by
}

// HangupCause is the cause once the call ended (see Ended).
func (cl *Caller) HangupCause() int {
	_, cause, _ := cl.Ended()
	return cause
}

// Done is closed when the call ends.
func (cl *Caller) Done() <-chan struct{} { return cl.done }

// Press sends DTMF digits now, one ChannelDtmfReceived each; ignored
// before the call has media or after it ended.
func (cl *Caller) Press(digits string) {
	s := cl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if cl.ch == nil {
		return
	}
	for _, r := range digits {
		s.pressDigit(cl.ch, Digit{Digit: string(r)})
	}
}

// Hangup ends the call from the caller's side: BYE once answered, CANCEL
// before.
func (cl *Caller) Hangup() {
	s := cl.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if cl.ch == nil || cl.ch.dead {
		return
	}
	s.remoteHangup(cl.ch)
}

// WaitAnswered waits until the call is answered; it fails if the call
// ends first or ctx is done.
func (cl *Caller) WaitAnswered(ctx context.Context) error {
	return cl.waitFor(ctx, func() (bool, error) {
		if cl.answered {
			return true, nil
		}
		if cl.ended {
			return false, fmt.Errorf("aritest: call ended unanswered (%s)", cl.final)
		}
		return false, nil
	})
}

// WaitHeard waits until at least n media have started playing to the
// caller and returns them.
func (cl *Caller) WaitHeard(ctx context.Context, n int) ([]Prompt, error) {
	err := cl.waitFor(ctx, func() (bool, error) {
		if cl.ch != nil && len(cl.ch.prompts) >= n {
			return true, nil
		}
		if cl.ended {
			return false, fmt.Errorf("aritest: call ended after %d prompts", cl.promptCount())
		}
		return false, nil
	})
	return cl.Heard(), err
}

func (cl *Caller) promptCount() int {
	if cl.ch == nil {
		return 0
	}
	return len(cl.ch.prompts)
}

// Wait waits until the call ends.
func (cl *Caller) Wait(ctx context.Context) error {
	select {
	case <-cl.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("aritest: waiting for the call to end: %w", ctx.Err())
	}
}

func (cl *Caller) waitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		cl.s.mu.Lock()
		ok, err := cond()
		ch := cl.changed
		cl.s.mu.Unlock()
		if ok || err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("aritest: waiting on the caller: %w", ctx.Err())
		}
	}
}
