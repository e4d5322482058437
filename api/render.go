package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// How the API shows its objects: the one code path of the GET handlers,
// the Renderer (a webhook's data) and the snapshots of deleted objects.

// userJSON is a user as GET /v1/users/:id shows them, with their live
// availability from the ACD.
func (d *Deps) userJSON(u dialplan.User) userJSON {
	return userJSON{User: u, DirectLink: fmt.Sprintf("/v1/users/%d", u.ID), Name: u.Name(),
		Availability: d.ACD.Status(u)}
}

// numberJSON is a number as GET /v1/numbers/:id shows it, open or not now.
func (d *Deps) numberJSON(n dialplan.Number) numberJSON {
	return numberJSON{Number: n, DirectLink: fmt.Sprintf("/v1/numbers/%d", n.ID), Open: n.OpenAt(d.Now())}
}

// Renderer shows the object an event is about (a call, a user, a number)
// as the API's GET of it does: the data of a webhook's delivery. It reads
// the object as it is now, and needs the same Deps as the server (its
// ACD above all: a user's live availability).
type Renderer struct {
	deps  Deps
	calls *callLoader
}

// NewRenderer makes a Renderer; give it the Deps the server has.
func NewRenderer(deps Deps) *Renderer {
	deps = deps.withDefaults()
	return &Renderer{deps: deps, calls: &callLoader{read: deps.Store.CallsByID}}
}

// Render encodes the object resource id of the company: a call as
// GET /v1/calls/:id shows it but without its timeline (as Aircall's
// webhooks), a user as GET /v1/users/:id, a number as GET
// /v1/numbers/:id; the object itself, not wrapped. An object that is
// gone (or another company's) is an error wrapping store.ErrNotFound.
func (r *Renderer) Render(ctx context.Context, company dialplan.CompanyID, resource events.Resource, id int64) (json.RawMessage, error) {
	var obj any
	switch resource {
	case events.ResourceCall:
		rec, err := r.calls.load(ctx, company, dialplan.CallID(id))
		if err != nil {
			return nil, err
		}
		obj = newCallJSON(rec, false)
	case events.ResourceUser:
		u, err := r.deps.Store.User(ctx, company, dialplan.UserID(id))
		if err != nil {
			return nil, err
		}
		obj = r.deps.userJSON(u)
	case events.ResourceNumber:
		n, err := r.deps.Store.Number(ctx, company, dialplan.NumberID(id))
		if err != nil {
			return nil, err
		}
		obj = r.deps.numberJSON(n)
	default:
		return nil, fmt.Errorf("render: no object for resource %q", resource)
	}
	return encodeObject(obj)
}

// encodeObject encodes v as the handlers answer it (gin's PureJSON: no
// HTML escaping), without the trailing newline.
func encodeObject(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// callLoader reads the calls that deliveries in parallel ask for in one
// read of the store: while a read is under way, the calls asked for
// meanwhile wait for the next one, which reads them all. A call read
// alone costs four queries; the webhook dispatcher renders one for
// each of its deliveries, dozens at once.
type callLoader struct {
	read func(ctx context.Context, ids []dialplan.CallID) (map[dialplan.CallID]store.CallRecord, error)

	mu      sync.Mutex
	waiting map[dialplan.CallID][]chan<- loadedCall
	reading bool
}

type loadedCall struct {
	rec store.CallRecord
	err error
}

// maxCallBatch bounds the calls of one read.
const maxCallBatch = 200

// load reads call id of the company, with the calls others ask for now.
func (l *callLoader) load(ctx context.Context, company dialplan.CompanyID, id dialplan.CallID) (store.CallRecord, error) {
	got := make(chan loadedCall, 1)
	l.mu.Lock()
	if l.waiting == nil {
		l.waiting = map[dialplan.CallID][]chan<- loadedCall{}
	}
	l.waiting[id] = append(l.waiting[id], got)
	if !l.reading {
		l.reading = true
		go l.run()
	}
	l.mu.Unlock()
	select {
	case r := <-got:
		if r.err == nil && r.rec.Company != company {
			r.err = fmt.Errorf("call %d: %w", id, store.ErrNotFound)
		}
		return r.rec, r.err
	case <-ctx.Done():
		return store.CallRecord{}, ctx.Err()
	}
}

// run reads the calls waited for until none are.
func (l *callLoader) run() {
	for {
		l.mu.Lock()
		batch := map[dialplan.CallID][]chan<- loadedCall{}
		for id, chans := range l.waiting {
			if len(batch) == maxCallBatch {
				break
			}
			batch[id] = chans
			delete(l.waiting, id)
		}
		if len(batch) == 0 {
			l.reading = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		ids := make([]dialplan.CallID, 0, len(batch))
		for id := range batch {
			ids = append(ids, id)
		}
		// The read serves many callers: none of their contexts may cut
		// it short for the others, who each wait only as long as theirs
		// allows.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		recs, err := l.read(ctx, ids)
		cancel()
		for id, chans := range batch {
			r := loadedCall{err: err}
			if err == nil {
				var ok bool
				if r.rec, ok = recs[id]; !ok {
					r.err = fmt.Errorf("call %d: %w", id, store.ErrNotFound)
				}
			}
			for _, ch := range chans {
				ch <- r
			}
		}
	}
}
