package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/internal/batch"
	"github.com/switchboard/switchboard/store"
)

// How the API shows its objects: the one code path of the GET handlers,
// the Renderer (a webhook's data) and the snapshots of deleted objects.

// callsJSON shows calls as GET /v1/calls does, with their timelines (read
// by the caller) when asked: the records, the users and numbers they name,
// their contacts. Links to files are the server's to sign.
func (d *Deps) callsJSON(ctx context.Context, company dialplan.CompanyID, recs []store.CallRecord, timeline bool) ([]callJSON, error) {
	out := make([]callJSON, len(recs))
	for i, r := range recs {
		out[i] = newCallJSON(d.site(), r, timeline)
	}
	if err := d.embed(ctx, company, recs, out); err != nil {
		return nil, err
	}
	if err := d.withContacts(ctx, company, out); err != nil {
		return nil, err
	}
	return out, nil
}

// withContacts links each call to its contact, as Aircall does: the
// company's contact with the call's other party's number (raw_digits),
// the oldest when several have it; null for none (an anonymous caller).
func (d *Deps) withContacts(ctx context.Context, company dialplan.CompanyID, calls []callJSON) error {
	var numbers []string
	for _, c := range calls {
		if strings.HasPrefix(c.RawDigits, "+") {
			numbers = append(numbers, c.RawDigits)
		}
	}
	if len(numbers) == 0 {
		return nil
	}
	found, err := d.Store.ContactsByPhone(ctx, company, numbers)
	if err != nil {
		return err
	}
	for i, c := range calls {
		if ct, ok := found[c.RawDigits]; ok {
			j := newContactJSON(d.site(), ct)
			calls[i].Contact = &j
		}
	}
	return nil
}

// Renderer shows the object an event is about (a call, a user, a number)
// as the API's GET of it does: the data of a webhook's delivery. It reads
// the object as it is now, and needs the same Deps as the server (its
// ACD above all: a user's live availability).
type Renderer struct {
	deps  Deps
	calls *batch.Batcher[callKey, loadedCall]
}

// NewRenderer makes a Renderer; give it the Deps the server has.
func NewRenderer(deps Deps) *Renderer {
	deps = deps.withDefaults()
	return &Renderer{deps: deps, calls: newCallLoader(deps)}
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
		loaded, err := r.calls.Do(ctx, callKey{company: company, id: dialplan.CallID(id)})
		if err == nil {
			err = loaded.err
		}
		if err != nil {
			return nil, err
		}
		obj = loaded.call
	case events.ResourceUser:
		u, err := r.deps.Store.User(ctx, company, dialplan.UserID(id))
		if err != nil {
			return nil, err
		}
		if obj, err = r.deps.userJSON(ctx, company, u); err != nil {
			return nil, err
		}
	case events.ResourceNumber:
		n, err := r.deps.Store.Number(ctx, company, dialplan.NumberID(id))
		if err != nil {
			return nil, err
		}
		if obj, err = r.deps.numberJSON(ctx, company, n); err != nil {
			return nil, err
		}
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

// callKey is a call asked for, of a company.
type callKey struct {
	company dialplan.CompanyID
	id      dialplan.CallID
}

// loadedCall is a call shown, or why not.
type loadedCall struct {
	call callJSON
	err  error
}

// newCallLoader shows the calls that deliveries in parallel ask for with
// one read of the store, and one of the users, numbers and contacts they
// name per company (a call shown alone costs seven queries; the webhook
// dispatcher renders one for each of its deliveries, dozens at once).
func newCallLoader(d Deps) *batch.Batcher[callKey, loadedCall] {
	return batch.New(200, 30*time.Second, func(ctx context.Context, keys []callKey) ([]loadedCall, error) {
		ids := make([]dialplan.CallID, len(keys))
		for i, k := range keys {
			ids[i] = k.id
		}
		recs, err := d.Store.CallsByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]loadedCall, len(keys))
		byCompany := map[dialplan.CompanyID][]int{} // the keys found, by company
		for i, k := range keys {
			rec, ok := recs[k.id]
			if !ok || rec.Company != k.company {
				out[i].err = fmt.Errorf("call %d: %w", k.id, store.ErrNotFound)
				continue
			}
			byCompany[k.company] = append(byCompany[k.company], i)
		}
		for company, at := range byCompany {
			batch := make([]store.CallRecord, len(at))
			for j, i := range at {
				batch[j] = recs[keys[i].id]
			}
			shown, err := d.callsJSON(ctx, company, batch, false)
			if err != nil {
				return nil, err
			}
			for j, i := range at {
				out[i].call = shown[j]
			}
		}
		return out, nil
	})
}
