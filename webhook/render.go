package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

// Renderer renders the object an event is about as the API shows it (a
// call as GET /v1/calls/:id does, a user, a number): the data of a
// webhook's request. The API implements it.
//
// An error wrapping store.ErrNotFound says the object no longer exists:
// the delivery then fails for good and its queue moves on. Any other
// error fails the attempt, which is retried with the webhook's backoff.
type Renderer interface {
	Render(ctx context.Context, company dialplan.CompanyID, resource events.Resource, id int64) (json.RawMessage, error)
}

// RendererFunc is a function that is a Renderer.
type RendererFunc func(ctx context.Context, company dialplan.CompanyID, resource events.Resource, id int64) (json.RawMessage, error)

// Render calls f.
func (f RendererFunc) Render(ctx context.Context, company dialplan.CompanyID, resource events.Resource, id int64) (json.RawMessage, error) {
	return f(ctx, company, resource, id)
}

// errDrop marks an event that cannot be delivered: its delivery fails
// for good.
var errDrop = errors.New("cannot be delivered")

// envelope is a request's body, Aircall's shape.
type envelope struct {
	Resource  events.Resource `json:"resource"`
	Event     events.Kind     `json:"event"`
	Timestamp int64           `json:"timestamp"` // the event's, in UNIX seconds
	Token     string          `json:"token"`
	Data      json.RawMessage `json:"data"`
}

// renderCache keeps the data of the last events rendered: an event goes
// to every webhook subscribed to it, about at once, and is rendered once
// for all (the body differs by webhook, by its token).
type renderCache struct {
	mu    sync.Mutex
	data  map[store.EventID]json.RawMessage
	order []store.EventID // oldest first, for eviction
	size  int
}

func newRenderCache(size int) *renderCache {
	return &renderCache{data: make(map[store.EventID]json.RawMessage, size), size: size}
}

func (c *renderCache) get(id store.EventID) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.data[id]
	return d, ok
}

func (c *renderCache) put(id store.EventID, d json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.data[id]; ok {
		return
	}
	if len(c.order) >= c.size {
		delete(c.data, c.order[0])
		c.order = c.order[1:]
	}
	c.data[id] = d
	c.order = append(c.order, id)
}

// data renders what an event is about: the object through the Renderer,
// or, for an object that is gone (user.deleted, number.deleted), the
// snapshot the event carries.
func (d *Dispatcher) data(ctx context.Context, e store.StreamEvent) (json.RawMessage, error) {
	if snap, ok := e.Data.(events.Snapshot); ok {
		if len(snap.Object) == 0 {
			return json.RawMessage("null"), nil
		}
		return snap.Object, nil
	}
	if data, ok := d.cache.get(e.ID); ok {
		return data, nil
	}
	resource := e.Kind.Resource()
	var id int64
	switch resource {
	case events.ResourceCall:
		id = int64(e.Call)
	case events.ResourceUser:
		id = int64(e.User)
	case events.ResourceNumber:
		id = int64(e.Number)
	default:
		return nil, fmt.Errorf("%w: %s is no kind this version knows", errDrop, e.Kind)
	}
	if id == 0 {
		return nil, fmt.Errorf("%w: the event names no %s", errDrop, resource)
	}
	data, err := d.cfg.Renderer.Render(ctx, e.Company, resource, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s %d no longer exists", errDrop, resource, id)
	}
	if err != nil {
		return nil, fmt.Errorf("render %s %d: %w", resource, id, err)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("render %s %d: not JSON", resource, id)
	}
	d.cache.put(e.ID, data)
	return data, nil
}

// body is a delivery's request body: the one saved at its first attempt,
// or a new one.
func (d *Dispatcher) body(ctx context.Context, p store.PendingDelivery) ([]byte, error) {
	if p.Body != nil {
		return p.Body, nil
	}
	data, err := d.data(ctx, p.Event)
	if err != nil {
		return nil, err
	}
	return json.Marshal(envelope{Resource: p.Event.Kind.Resource(), Event: p.Event.Kind, Timestamp: p.Event.At.Unix(),
		Token: p.Token, Data: data})
}
