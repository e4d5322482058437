package live

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// Store is what the hub reads (package store meets it).
type Store interface {
	LiveStart(ctx context.Context, now time.Time, pairs [][2]events.Kind) (store.LiveStart, error)
	LiveDirectory(ctx context.Context) (store.LiveDirectory, error)
	StreamAfter(ctx context.Context, after events.Cursor, limit int) ([]store.LiveEvent, error)
	StreamHeld(ctx context.Context) (time.Time, error)
	StreamTouched(ctx context.Context, company dialplan.CompanyID, after, upto events.Cursor, limit int) (store.StreamTouched, error)
	CallsByID(ctx context.Context, ids []dialplan.CallID) (map[dialplan.CallID]store.CallRecord, error)
}

// HubConfig are a hub's parts and settings; zero settings take the
// defaults said.
type HubConfig struct {
	Store  Store
	Logger *slog.Logger
	Now    func() time.Time // time.Now when nil
	// Poll is how often the stream is read (200 ms): a change shows
	// within about that, plus the time a transaction older than it takes
	// to end.
	Poll time.Duration
	// Reload is how often the configuration (names, teams' members, who
	// numbers ring) is read again (10 s); a user or number created or
	// deleted reads it at once.
	Reload time.Duration
	// Keep is how many batches of changes are kept for the clients that
	// reconnect (10,000); one coming back from further gets the calls
	// that ended since and a snapshot.
	Keep int
	// Buffer is how many batches a subscriber may fall behind before it
	// is dropped (1,000): it reconnects with its Last-Event-ID.
	Buffer int
	// Read is how many events one read of the stream takes at most (1,000).
	Read int
	// CatchUp bounds the events a client coming back from beyond memory
	// is told about one by one (100,000); further, it gets a snapshot.
	CatchUp int
	// Observer hears the calls that end; nil for none.
	Observer Observer
}

// Hub keeps the board up to date from the stream and serves it to
// subscribers.
type Hub struct {
	cfg   HubConfig
	log   *slog.Logger
	ready chan struct{} // closed once the board is built

	mu       sync.Mutex
	board    *Board
	built    bool
	stopped  bool
	cursor   events.Cursor      // every event up to it is applied (or in snap)
	snap     store.XactSnapshot // the transactions the starting state saw
	base     events.Cursor      // every batch after it is in ring
	ring     []Batch
	subs     map[*Subscription]struct{}
	began    time.Time
	caughtUp time.Time // the last read that reached the settled end of the stream
	held     time.Time // the oldest event held back by a running transaction
}

// NewHub makes a hub; Run builds its board and keeps it.
func NewHub(cfg HubConfig) *Hub {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Keep, 10_000)
	def(&cfg.Buffer, 1_000)
	def(&cfg.Read, 1_000)
	def(&cfg.CatchUp, 100_000)
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Reload <= 0 {
		cfg.Reload = 10 * time.Second
	}
	return &Hub{cfg: cfg, log: cfg.Logger.With("part", "live"), ready: make(chan struct{}),
		board: NewBoard(), subs: map[*Subscription]struct{}{}, began: cfg.Now()}
}

// Ready is closed once the board is built.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run builds the board (trying again while the database is away), then
// reads the stream every Poll until ctx ends; then every subscription
// ends (ErrStopped).
func (h *Hub) Run(ctx context.Context) {
	defer h.stop()
	wait := h.cfg.Poll
	for {
		err := h.start(ctx)
		if err == nil {
			break
		}
		h.log.Warn("live view not built; trying again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
	tick := time.NewTicker(h.cfg.Poll)
	defer tick.Stop()
	nextReload := h.cfg.Now().Add(h.cfg.Reload)
	failing := false
	for {
		full, reload, err := h.poll(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			h.log.Warn("stream unreadable; trying again", "err", err)
			failing = true
		case err == nil && failing:
			h.log.Info("stream readable again")
			failing = false
		}
		if now := h.cfg.Now(); reload || !now.Before(nextReload) {
			if err := h.reload(ctx); err != nil && ctx.Err() == nil {
				h.log.Warn("configuration unreadable; trying again", "err", err)
			}
			nextReload = now.Add(h.cfg.Reload)
		}
		if full && err == nil {
			continue // more to read at once
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// start builds the board from one snapshot of the database.
func (h *Hub) start(ctx context.Context) error {
	dir, err := h.cfg.Store.LiveDirectory(ctx)
	if err != nil {
		return err
	}
	now := h.cfg.Now()
	st, err := h.cfg.Store.LiveStart(ctx, now, StatePairs)
	if err != nil {
		return err
	}
	b := NewBoard()
	b.SetDirectory(dir, now)
	b.Load(st, now)
	b.Summaries(now)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.board, h.cursor, h.snap = b, st.Cursor(), st.Snapshot
	// A client's cursor from before the snapshot's last transaction may
	// miss events the snapshot saw (they make no batch): from the first
	// transaction it did not see on, every event makes its batch here.
	h.base = events.Cursor{XID: st.Snapshot.Xmax}
	h.built, h.caughtUp = true, now
	close(h.ready)
	h.log.Info("live view built", "cursor", h.cursor.String(), "unfinished_call_events", len(st.Unfinished))
	return nil
}

// poll reads the settled stream after the cursor and applies it. full:
// it read as many events as it may (there may be more).
func (h *Hub) poll(ctx context.Context) (full, reload bool, err error) {
	evs, err := h.cfg.Store.StreamAfter(ctx, h.cursor, h.cfg.Read)
	if err != nil {
		return false, false, err
	}
	full = len(evs) == h.cfg.Read
	var held time.Time
	if !full {
		if held, err = h.cfg.Store.StreamHeld(ctx); err != nil {
			return false, false, err
		}
	}
	// A user or number created among these events: its name must be on
	// the rows of its first calls, so the configuration is read before
	// they apply (it commits with its event).
	var dir *store.LiveDirectory
	if slices.ContainsFunc(evs, reconfigures) {
		d, err := h.cfg.Store.LiveDirectory(ctx)
		if err != nil {
			return false, false, err
		}
		dir = &d
	}
	now := h.cfg.Now()
	var ended []Ended
	h.mu.Lock()
	h.board.Tick(now)
	var batches []Batch
	if dir != nil {
		if msgs := h.board.SetDirectory(*dir, now); len(msgs) > 0 {
			batches = append(batches, Batch{Cursor: h.cursor, Messages: msgs})
		}
	}
	for _, ev := range evs {
		h.cursor = ev.Cursor
		if h.snap.Sees(ev.Cursor.XID) {
			continue // in the starting state already
		}
		msgs, e := h.board.Apply(ev, now)
		if e != nil {
			ended = append(ended, *e)
		}
		if len(msgs) > 0 {
			batches = append(batches, Batch{Cursor: ev.Cursor, Messages: msgs})
		}
	}
	batches = h.withSummaries(batches, now)
	h.publish(batches)
	if !full {
		h.caughtUp, h.held = now, held
	}
	reload = h.board.TakeReload() && dir == nil
	h.mu.Unlock()
	if h.cfg.Observer != nil {
		for _, e := range ended {
			h.cfg.Observer.CallEnded(e)
		}
	}
	return full, reload, nil
}

// withSummaries adds the summaries that changed to the batch of the
// cursor (they show the board there).
func (h *Hub) withSummaries(batches []Batch, now time.Time) []Batch {
	sums := h.board.Summaries(now)
	if len(sums) == 0 {
		return batches
	}
	if n := len(batches); n > 0 && batches[n-1].Cursor == h.cursor {
		batches[n-1].Messages = append(batches[n-1].Messages, sums...)
		return batches
	}
	return append(batches, Batch{Cursor: h.cursor, Messages: sums})
}

// reload reads the configuration again.
func (h *Hub) reload(ctx context.Context) error {
	dir, err := h.cfg.Store.LiveDirectory(ctx)
	if err != nil {
		return err
	}
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	var batches []Batch
	if msgs := h.board.SetDirectory(dir, now); len(msgs) > 0 {
		batches = append(batches, Batch{Cursor: h.cursor, Messages: msgs})
	}
	h.publish(h.withSummaries(batches, now))
	return nil
}

// publish keeps the batches and sends each subscriber what its filter
// shows of them; one that cannot take them is dropped.
func (h *Hub) publish(batches []Batch) {
	if len(batches) == 0 {
		return
	}
	h.ring = append(h.ring, batches...)
	if over := len(h.ring) - h.cfg.Keep; over > 0 {
		h.base = h.ring[over-1].Cursor
		h.ring = h.ring[over:]
	}
	for sub := range h.subs {
		for _, b := range batches {
			mine := h.filter(sub, b)
			if len(mine.Messages) > 0 {
				select {
				case sub.c <- mine:
				default:
					h.drop(sub, ErrSlow)
				}
			}
			if sub.err != nil {
				break
			}
			sub.seen = b.Cursor
		}
	}
}

// filter is what a subscriber's company and filter show of a batch.
func (h *Hub) filter(sub *Subscription, b Batch) Batch {
	out := Batch{Cursor: b.Cursor}
	for _, m := range b.Messages {
		if m.Company != sub.company {
			continue
		}
		if m, ok := h.board.Keep(sub.filter, m); ok {
			out.Messages = append(out.Messages, m)
		}
	}
	return out
}

// drop ends a subscription; the hub's lock is held.
func (h *Hub) drop(sub *Subscription, why error) {
	if sub.err != nil {
		return
	}
	sub.err = why
	delete(h.subs, sub)
	close(sub.done)
}

func (h *Hub) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	for sub := range h.subs {
		h.drop(sub, ErrStopped)
	}
}

// Subscription is a client's feed of one company's board.
type Subscription struct {
	// Backlog is what to send first: a snapshot, or the changes since the
	// client's cursor.
	Backlog []Batch
	c       chan Batch
	done    chan struct{}
	hub     *Hub
	company dialplan.CompanyID
	filter  Filter
	// Under the hub's lock: why it ended; the last batch sent or filtered
	// out.
	err  error
	seen events.Cursor
}

// C delivers the changes after the Backlog, in order.
func (s *Subscription) C() <-chan Batch { return s.c }

// Done is closed when the subscription ends: closed, dropped for falling
// behind (ErrSlow), or the hub stopping (ErrStopped).
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err says why the subscription ended; nil while it goes on.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.drop(s, context.Canceled)
}

// Idle says, when every batch given to the subscriber was taken, the
// place in the stream it has seen all of (what its filter shows of it):
// an id a client may come back with, though nothing was sent.
func (s *Subscription) Idle() (events.Cursor, bool) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.seen, len(s.c) == 0
}

// Subscribe starts a feed of the company's board as the filter shows it.
// Without a cursor (after nil), the Backlog is a snapshot. With one (a
// client's Last-Event-ID), it is every change after it when the hub
// remembers that far; from further back, the calls that ended since (read
// from the stream) then a snapshot. ErrNotReady while the board is not
// built.
func (h *Hub) Subscribe(ctx context.Context, company dialplan.CompanyID, f Filter, after *events.Cursor) (*Subscription, error) {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil, ErrStopped
	}
	if !h.built {
		h.mu.Unlock()
		return nil, ErrNotReady
	}
	sub := &Subscription{c: make(chan Batch, h.cfg.Buffer), done: make(chan struct{}), hub: h, company: company,
		filter: f, seen: h.cursor}
	h.subs[sub] = struct{}{}
	now := h.cfg.Now()
	upto := h.cursor
	snapshot := h.snapshotBatch(company, f, now)
	switch {
	case after == nil || upto.Less(*after):
		// New, or a place this stream never reached (another database).
		sub.Backlog = []Batch{snapshot}
		h.mu.Unlock()
		return sub, nil
	case !after.Less(h.base):
		i := sort.Search(len(h.ring), func(i int) bool { return after.Less(h.ring[i].Cursor) })
		for _, b := range h.ring[i:] {
			if mine := h.filter(sub, b); len(mine.Messages) > 0 {
				sub.Backlog = append(sub.Backlog, mine)
			}
		}
		h.mu.Unlock()
		return sub, nil
	}
	h.mu.Unlock()
	ended, err := h.endedSince(ctx, company, f, *after, upto, now)
	if err != nil {
		h.log.Warn("a client back from far in the stream gets a snapshot only", "after", after.String(), "err", err)
	}
	snapshot.Messages = append(ended, snapshot.Messages...)
	sub.Backlog = []Batch{snapshot}
	return sub, nil
}

func (h *Hub) snapshotBatch(company dialplan.CompanyID, f Filter, now time.Time) Batch {
	snap := h.board.Snapshot(company, f, now)
	snap.Cursor = h.cursor.String()
	return Batch{Cursor: h.cursor, Messages: []Message{{Kind: KindSnapshot, Company: company, Data: snap}}}
}

// endedSince reads from the stream the company's calls that ended in
// (after, upto] and are no longer on the board, as ended rows.
func (h *Hub) endedSince(ctx context.Context, company dialplan.CompanyID, f Filter, after, upto events.Cursor, now time.Time) ([]Message, error) {
	touched, err := h.cfg.Store.StreamTouched(ctx, company, after, upto, h.cfg.CatchUp)
	if err != nil {
		return nil, err
	}
	var ids []dialplan.CallID
	h.mu.Lock()
	for id, ended := range touched.Calls {
		if _, on := h.board.CallRow(company, id, now); ended && !on {
			ids = append(ids, id)
		}
	}
	h.mu.Unlock()
	if len(ids) == 0 {
		return nil, nil
	}
	recs, err := h.cfg.Store.CallsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var msgs []Message
	for _, id := range ids {
		rec, ok := recs[id]
		if !ok || rec.Company != company || rec.EndedAt == nil || rec.MissedReason == dialplan.BlockedCaller {
			continue
		}
		m := Message{Kind: KindCall, Company: company, Data: h.board.EndedRow(rec.Call)}
		if m, ok := h.board.Keep(f, m); ok {
			msgs = append(msgs, m)
		}
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].Data.(Call).ID < msgs[j].Data.(Call).ID })
	return msgs, nil
}

// Snapshot is the company's board as the filter shows it now.
func (h *Hub) Snapshot(company dialplan.CompanyID, f Filter) (Snapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.built {
		return Snapshot{}, ErrNotReady
	}
	return h.snapshotBatch(company, f, h.cfg.Now()).Messages[0].Data.(Snapshot), nil
}

// Figures is the board in numbers (empty until it is built).
func (h *Hub) Figures() Figures {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.board.Figures(h.cfg.Now())
}

// Lag is how far behind the stream the board may be: since the last read
// that reached the settled end of the stream, or, when a running
// transaction holds back events committed after it, since the oldest of
// those; since the hub began, until the board is built.
func (h *Hub) Lag() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.Now()
	if !h.built {
		return now.Sub(h.began)
	}
	lag := now.Sub(h.caughtUp)
	if !h.held.IsZero() {
		lag = max(lag, now.Sub(h.held))
	}
	return max(lag, 0)
}

// Cursor is the place in the stream the board shows.
func (h *Hub) Cursor() events.Cursor {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cursor
}
