package dialplan

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// DryRun is one imagined call to a number.
type DryRun struct {
	From   string // E.164; "" for an anonymous caller
	At     time.Time
	Digits string // pressed one by one, each time a menu asks
	// Agents overrides the live status of some users; the others are as
	// they are now.
	Agents map[UserID]LiveStatus
	// AnswerBy answers after AnswerAfter; nobody answers when zero.
	AnswerBy UserID
	// AnswerNumber, an external number in E.164, answers after AnswerAfter
	// when the call rings it (an IVR forward, a user's external number);
	// every other external number rings out, so a forward to it is an
	// unsuccessful transfer. Empty: no external number answers.
	AnswerNumber string
	AnswerAfter  time.Duration
	// PressStarAfter and HangupAfter script the caller (zero: never).
	PressStarAfter time.Duration
	HangupAfter    time.Duration
}

// dryRunTalk is how long an imagined conversation lasts.
const dryRunTalk = time.Minute

// Simulate runs the real engine for one imagined call on a simulated media
// server and clock. It writes nothing: the call log is in memory, and the
// live agents are only read (live may be nil).
func Simulate(ctx context.Context, dir Directory, live *ACD, company Company, n Number, run DryRun) (Result, error) {
	clock := NewSimClock(run.At)
	media := NewSimMedia(clock)
	acd := NewACD(clock)
	view := &dryRunDirectory{Directory: dir, run: run, live: live, acd: acd, seen: map[UserID]bool{}}
	var (
		result Result
		ended  bool
	)
	engine := NewEngine(Config{Directory: view, CallLog: &memoryLog{}, Media: media, Clock: clock, ACD: acd,
		Rand:  func(n int) int { return 0 },
		Ended: func(r Result) { result, ended = r, true }})
	defer engine.Stop()
	view.media = media
	if run.AnswerNumber != "" {
		// Set before the call rings anything: a forward reads no user.
		media.SetPeer(run.AnswerNumber, run.answering())
	}

	digits := strings.Split(run.Digits, "")
	if run.Digits == "" {
		digits = nil
	}
	// A menu without a message has nothing to press during: its key is
	// pressed right after the welcome; the others during the menus' messages.
	pressNow := len(digits) > 0 && n.Type == IVR && n.Messages[MsgIVR] == nil
	if pressNow {
		digits = digits[1:]
	}
	media.PressDuring(MsgIVR, digits...)
	leg := media.NewCaller()
	sink := engine.Handle(InboundCall{Leg: leg, To: n.Digits, From: run.From})
	media.Attach(leg, sink)
	if pressNow {
		wait := time.Second
		if m := n.Messages[MsgWelcome]; m != nil {
			wait += media.PromptLength(Prompt{Kind: MsgWelcome, Message: m})
		}
		media.CallerPresses(leg, wait, run.Digits[:1])
	}
	if run.PressStarAfter > 0 {
		media.CallerPresses(leg, run.PressStarAfter, "*")
	}
	if run.HangupAfter > 0 {
		media.CallerHangsUp(leg, run.HangupAfter)
	}
	clock.Run(run.At.Add(24 * time.Hour))
	engine.Stop()
	if err := view.err(); err != nil {
		return Result{}, err
	}
	if !ended {
		return Result{}, fmt.Errorf("dry run: the call to %s did not run", n.Digits)
	}
	sort.SliceStable(result.Rung, func(i, j int) bool { return result.Rung[i].At.Before(result.Rung[j].At) })
	return result, nil
}

// answering is the phone that answers: after AnswerAfter (a peer answering
// at zero would ring forever), then talks dryRunTalk.
func (run DryRun) answering() Peer {
	return Peer{AnswerAfter: max(run.AnswerAfter, time.Millisecond), HangupAfter: dryRunTalk}
}

// dryRunDirectory shows the real configuration with the dry run's agents:
// each user is put, the first time the engine reads them, in the state the
// request (or the live ACD) gives, and their phones scripted.
type dryRunDirectory struct {
	Directory
	run   DryRun
	live  *ACD
	acd   *ACD
	media *SimMedia

	mu       sync.Mutex
	seen     map[UserID]bool
	firstErr error
}

func (d *dryRunDirectory) UsersByID(ctx context.Context, company CompanyID, ids []UserID) ([]User, error) {
	users, err := d.Directory.UsersByID(ctx, company, ids)
	if err != nil {
		d.mu.Lock()
		if d.firstErr == nil {
			d.firstErr = err
		}
		d.mu.Unlock()
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range users {
		u := &users[i]
		status, forced := d.run.Agents[u.ID]
		if !forced {
			status = StatusAvailable
			if d.live != nil {
				status = d.live.Status(*u)
			}
		}
		// The imagined status replaces the user's own settings.
		switch status {
		case StatusDoNotDisturb:
			u.AvailabilityStatus = Unavailable
		case StatusOffline:
			u.AvailabilityStatus, u.ExternalNumber = Available, nil
		default:
			u.AvailabilityStatus = Available
		}
		if d.seen[u.ID] {
			continue
		}
		d.seen[u.ID] = true
		d.acd.Force(*u, status)
		peer := Peer{}
		if u.ID == d.run.AnswerBy {
			peer = d.run.answering()
		}
		for _, dev := range u.Devices {
			d.media.SetPeer(dev, peer)
		}
		if u.ExternalNumber != nil {
			ext := peer
			if *u.ExternalNumber == d.run.AnswerNumber {
				ext = d.run.answering() // the same phone, reached as this user's
			}
			d.media.SetPeer(*u.ExternalNumber, ext)
		}
	}
	return users, nil
}

func (d *dryRunDirectory) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.firstErr
}

// memoryLog keeps the dry run's one call in memory.
type memoryLog struct {
	mu     sync.Mutex
	call   Call
	events []TimelineEvent
}

func (l *memoryLog) SaveCall(ctx context.Context, c *Call, events []TimelineEvent, tasks []TaskKind) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.ID == 0 {
		c.ID = 1
	}
	l.call = *c
	l.events = append(l.events, events...)
	return nil
}
