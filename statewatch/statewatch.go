// Package statewatch writes to the event stream the changes of state that
// no request makes: numbers opening and closing as their business hours
// turn, agents becoming able to take calls or not (their availability,
// their working hours), starting and ending after-call work, their phones
// registering or not.
//
// It compares what it sees now with what the stream last told of each
// user and number (read at start, so that a restart tells only what
// changed meanwhile), every second and at once when the ACD says an
// agent's state may have changed.
package statewatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// Store is what the watcher reads and writes.
type Store interface {
	AllUsers(ctx context.Context) (map[dialplan.CompanyID][]dialplan.User, error)
	AllNumbers(ctx context.Context) (map[dialplan.CompanyID][]dialplan.Number, error)
	LastStates(ctx context.Context, pairs [][2]events.Kind) ([]store.LastState, error)
	Publish(ctx context.Context, company dialplan.CompanyID, evs ...store.Event) error
}

// The pairs of kinds that tell a state: (true, false).
var (
	userOpen      = [2]events.Kind{events.UserOpened, events.UserClosed}
	userWrapUp    = [2]events.Kind{events.UserWutStart, events.UserWutEnd}
	userConnected = [2]events.Kind{events.UserConnected, events.UserDisconnected}
	numberOpen    = [2]events.Kind{events.NumberOpened, events.NumberClosed}
	pairs         = [][2]events.Kind{userOpen, userWrapUp, userConnected, numberOpen}
)

// Config are the watcher's parts.
type Config struct {
	Store  Store
	ACD    *dialplan.ACD
	Clock  dialplan.Clock // WallClock when nil
	Logger *slog.Logger
	// Tick is how often hours are looked at (a second when zero); Reload
	// how often the users' and numbers' settings are read again (2 s).
	Tick, Reload time.Duration
}

// Watcher compares states with the stream.
type Watcher struct {
	cfg Config
	log *slog.Logger

	users   map[dialplan.CompanyID][]dialplan.User
	numbers map[dialplan.CompanyID][]dialplan.Number
	// told is what the stream last said of a subject's state, by the pair
	// of kinds: true for the pair's first (opened, wut_start, connected).
	told     map[subject]bool
	toldRead bool
}

type subject struct {
	user   dialplan.UserID
	number dialplan.NumberID
	pair   [2]events.Kind
}

// New makes a watcher.
func New(cfg Config) *Watcher {
	if cfg.Clock == nil {
		cfg.Clock = dialplan.WallClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tick == 0 {
		cfg.Tick = time.Second
	}
	if cfg.Reload == 0 {
		cfg.Reload = 2 * time.Second
	}
	return &Watcher{cfg: cfg, log: cfg.Logger.With("part", "statewatch"), told: map[subject]bool{}}
}

// Run watches until ctx ends. What the stream says and the settings are
// read first; a failure there (the database away) is tried again.
func (w *Watcher) Run(ctx context.Context) {
	tick := time.NewTicker(w.cfg.Tick)
	defer tick.Stop()
	var loaded time.Time
	for {
		if now := w.cfg.Clock.Now(); now.Sub(loaded) >= w.cfg.Reload {
			if err := w.Load(ctx); err != nil {
				w.log.Warn("states or settings unreadable; trying again", "err", err)
			} else {
				loaded = now
			}
		}
		if !loaded.IsZero() {
			w.Check(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.cfg.ACD.Changed():
		}
	}
}

// Load reads the users' and numbers' settings, and, the first time, what
// the stream last said of each.
func (w *Watcher) Load(ctx context.Context) error {
	if !w.toldRead {
		last, err := w.cfg.Store.LastStates(ctx, pairs)
		if err != nil {
			return err
		}
		for _, l := range last {
			for _, p := range pairs {
				if l.Kind == p[0] || l.Kind == p[1] {
					w.told[subject{l.User, l.Number, p}] = l.Kind == p[0]
				}
			}
		}
		w.toldRead = true
	}
	users, err := w.cfg.Store.AllUsers(ctx)
	if err != nil {
		return err
	}
	numbers, err := w.cfg.Store.AllNumbers(ctx)
	if err != nil {
		return err
	}
	w.users, w.numbers = users, numbers
	return nil
}

// Check compares every user's and number's state now with what the
// stream last said, and writes the differences. A subject the stream
// has said nothing of gets its state told.
func (w *Watcher) Check(ctx context.Context) {
	now := w.cfg.Clock.Now()
	for company, numbers := range w.numbers {
		for _, n := range numbers {
			w.tell(ctx, company, subject{number: n.ID, pair: numberOpen}, n.OpenAt(now), nil)
		}
	}
	for company, users := range w.users {
		for _, u := range users {
			w.tell(ctx, company, subject{user: u.ID, pair: userOpen}, w.cfg.ACD.Available(u, now), nil)
			wrapUp := w.cfg.ACD.Status(u) == dialplan.StatusAfterCallWork
			w.tell(ctx, company, subject{user: u.ID, pair: userWrapUp}, wrapUp, events.WrapUp{Seconds: u.WrapUpTime})
			w.tell(ctx, company, subject{user: u.ID, pair: userConnected}, w.cfg.ACD.Connected(u), nil)
		}
	}
}

// tell writes the subject's state if the stream last said otherwise (or
// nothing; but an agent never in after-call work is not told to have left
// it). data goes with the pair's first kind. A write that fails is tried
// again at the next check.
func (w *Watcher) tell(ctx context.Context, company dialplan.CompanyID, s subject, state bool, data any) {
	told, known := w.told[s]
	if known && told == state {
		return
	}
	if !known && !state && s.pair == userWrapUp {
		w.told[s] = false
		return
	}
	ev := store.Event{Kind: s.pair[1], User: s.user, Number: s.number}
	if state {
		ev.Kind, ev.Data = s.pair[0], data
	}
	if err := w.cfg.Store.Publish(ctx, company, ev); err != nil {
		w.log.Warn("state change not written; trying again", "event", ev.Kind, "user", s.user, "number", s.number, "err", err)
		return
	}
	w.told[s] = state
}
