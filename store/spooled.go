package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/internal/spool"
)

// SpooledLog is the engine's call log (dialplan.CallLog) that rides out a
// PostgreSQL outage. A save the database cannot take (Unavailable) is kept
// in the spool on local disk, and so is every save after it while the
// spool is not empty, so that a call's saves are written in the order they
// were made; Run writes them back, each once, when the database answers.
// A call begun during the outage takes its id from a block reserved
// beforehand (ReserveCallIDs).
type SpooledLog struct {
	st   *Store
	sp   *spool.Spool
	node string // the spool's name in spool_applied
	log  *slog.Logger

	mu        sync.Mutex
	ids       []dialplan.CallID
	refilling bool
}

// reserveBlock is how many call ids are kept in reserve: the calls that
// can begin during an outage; a refill starts under reserveLow.
const (
	reserveBlock = 200
	reserveLow   = 50
)

// NewSpooledLog writes the engine's saves to st, or to sp while st does
// not answer. node names the spool for exactly-once replays: one per
// spool directory (two processes never share one).
func NewSpooledLog(st *Store, sp *spool.Spool, node string, log *slog.Logger) *SpooledLog {
	return &SpooledLog{st: st, sp: sp, node: node, log: log}
}

// spooledSave is one save as the spool keeps it.
type spooledSave struct {
	Insert bool                `json:"insert"`
	Call   dialplan.Call       `json:"call"`
	Events []spooledEvent      `json:"events"`
	Tasks  []dialplan.TaskKind `json:"tasks"`
}

type spooledEvent struct {
	Event events.Kind     `json:"event"`
	At    time.Time       `json:"at"`
	User  dialplan.UserID `json:"user"`
	Data  json.RawMessage `json:"data"`
}

// SaveCall writes the save, or keeps it in the spool while the database
// does not answer (or saves wait there already).
func (l *SpooledLog) SaveCall(ctx context.Context, c *dialplan.Call, evs []dialplan.TimelineEvent, tasks []dialplan.TaskKind) error {
	insert := c.ID == 0
	if insert {
		id, err := l.reserve(ctx)
		if err != nil {
			return err
		}
		c.ID = id
	}
	if l.sp.Len() == 0 {
		err := l.st.saveCall(ctx, nil, insert, c, evs, tasks)
		if err == nil || !Unavailable(err) {
			return err
		}
		l.log.Warn("PostgreSQL does not answer: the call's saves are kept in the spool", "call", c.ID, "err", err)
	}
	rec, err := json.Marshal(spooledSave{Insert: insert, Call: *c, Events: spoolEvents(evs), Tasks: tasks})
	if err != nil {
		return fmt.Errorf("spool call %d: %w", c.ID, err)
	}
	if _, err := l.sp.Append(rec); err != nil {
		return fmt.Errorf("spool call %d: %w", c.ID, err)
	}
	return nil
}

func spoolEvents(evs []dialplan.TimelineEvent) []spooledEvent {
	out := make([]spooledEvent, len(evs))
	for i, e := range evs {
		data, _ := json.Marshal(e.Data) // the kinds' payloads are plain structs
		out[i] = spooledEvent{Event: e.Event, At: e.At, User: e.User, Data: data}
	}
	return out
}

// reserve gives the next reserved call id, starting a refill when the
// reserve runs low; it waits for the database only when none is left.
func (l *SpooledLog) reserve(ctx context.Context) (dialplan.CallID, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ids) == 0 {
		ids, err := l.st.ReserveCallIDs(ctx, reserveBlock)
		if err != nil {
			return 0, err
		}
		l.ids = ids
	} else if len(l.ids) < reserveLow && !l.refilling {
		l.refilling = true
		go l.refill()
	}
	id := l.ids[0]
	l.ids = l.ids[1:]
	return id, nil
}

func (l *SpooledLog) refill() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids, err := l.st.ReserveCallIDs(ctx, reserveBlock)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refilling = false
	if err == nil {
		l.ids = append(l.ids, ids...)
	}
}

// Pending is what the spool holds: saves, and their bytes on disk.
func (l *SpooledLog) Pending() (int, int64) { return l.sp.Len(), l.sp.Size() }

// Run writes the spool back to PostgreSQL as soon as it answers, checking
// every interval, until ctx ends.
func (l *SpooledLog) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		l.Flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Flush writes back what the spool holds, if PostgreSQL takes it.
func (l *SpooledLog) Flush(ctx context.Context) {
	n := l.sp.Len()
	if n == 0 {
		return
	}
	if err := l.sp.Drain(ctx, l.replay); err != nil {
		if !Unavailable(err) && ctx.Err() == nil {
			l.log.Error("spooled call saves not written back; trying again", "waiting", l.sp.Len(), "err", err)
		}
		return
	}
	l.log.Info("spooled call saves written back to PostgreSQL", "saves", n)
}

// replay writes one spooled save and notes its sequence number in the
// same transaction: a save replayed twice (a crash before the spool
// forgot it) is written once.
func (l *SpooledLog) replay(ctx context.Context, r spool.Record) error {
	var s spooledSave
	if err := json.Unmarshal(r.Payload, &s); err != nil {
		return fmt.Errorf("spooled save %d: %w", r.Seq, err)
	}
	evs := make([]dialplan.TimelineEvent, len(s.Events))
	for i, e := range s.Events {
		data, err := events.Decode(e.Event, e.Data)
		if err != nil {
			return fmt.Errorf("spooled save %d: %w", r.Seq, err)
		}
		evs[i] = dialplan.TimelineEvent{Event: e.Event, At: e.At, User: e.User, Data: data}
	}
	tx, err := l.st.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var applied int64
	if err := tx.GetContext(ctx, &applied, `INSERT INTO spool_applied (node, seq) VALUES ($1, 0)
		ON CONFLICT (node) DO UPDATE SET node = excluded.node RETURNING seq`, l.node); err != nil {
		return err
	}
	if uint64(applied) >= r.Seq {
		return nil // written before a crash
	}
	if err := l.st.saveCall(ctx, tx, s.Insert, &s.Call, evs, s.Tasks); err != nil {
		var pqErr *pq.Error
		if s.Insert && errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == "calls_pkey" {
			// The first save reached PostgreSQL after all (it answered
			// the commit, and the connection broke before the reply).
			l.log.Warn("a spooled first save was written already", "call", s.Call.ID)
			return nil
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE spool_applied SET seq = $2 WHERE node = $1", l.node, int64(r.Seq)); err != nil {
		return err
	}
	return tx.Commit()
}
