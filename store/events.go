package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// Event is an event of the stream (package events) as the store writes
// it: what happened, when, to which call, user or number.
type Event struct {
	Kind   events.Kind
	At     time.Time // now when zero
	Call   dialplan.CallID
	User   dialplan.UserID // the user it is about (user.*), or who did it
	Number dialplan.NumberID
	Data   any // the kind's payload (events.Check)
}

// eventJSON is how events reach PostgreSQL: a JSON array of these.
type eventJSON struct {
	Kind   events.Kind       `json:"event"`
	At     *time.Time        `json:"at,omitempty"`
	Call   dialplan.CallID   `json:"call_id,omitempty"`
	User   dialplan.UserID   `json:"user_id,omitempty"`
	Number dialplan.NumberID `json:"number_id,omitempty"`
	Data   any               `json:"data"`
}

// eventsArg is the events as the JSON array eventsCTE reads. Each is
// checked against its kind: a producer cannot write a payload of another
// shape.
func eventsArg(evs []Event) (string, error) {
	out := make([]eventJSON, len(evs))
	for i, e := range evs {
		if err := events.Check(e.Kind, e.Data); err != nil {
			return "", err
		}
		out[i] = eventJSON{Kind: e.Kind, Call: e.Call, User: e.User, Number: e.Number, Data: e.Data}
		if !e.At.IsZero() {
			at := e.At
			out[i].At = &at
		}
		if e.Data == nil {
			out[i].Data = struct{}{}
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// eventsCTE is the one way events are written: the part of a statement
// (two WITH queries) that inserts them into the stream, in order, and
// queues each for every active webhook of its company subscribed to its
// kind. param is the JSON array of eventJSON; company and call are SQL
// expressions for their columns when the statement knows them better
// than the array (SaveCall's new call), and from what they need.
func eventsCTE(param, company, call, from string) string {
	return fmt.Sprintf(`ev AS (
	INSERT INTO events (company_id, call_id, user_id, number_id, event, at, data)
	SELECT %[2]s, %[3]s, nullif((e.v->>'user_id')::bigint, 0), nullif((e.v->>'number_id')::bigint, 0),
		e.v->>'event', coalesce((e.v->>'at')::timestamptz, now()), e.v->'data'
	FROM %[4]s jsonb_array_elements(%[1]s::jsonb) WITH ORDINALITY AS e (v, ord)
	ORDER BY e.ord
	RETURNING id, company_id, call_id, user_id, number_id, event),
queued AS (
	INSERT INTO webhook_deliveries (company_id, webhook_id, event_id, order_key)
	SELECT ev.company_id, w.id, ev.id,
		coalesce('call:' || ev.call_id, 'number:' || ev.number_id, 'user:' || ev.user_id, 'company:' || ev.company_id)
	FROM ev JOIN webhooks w ON w.company_id = ev.company_id AND w.active AND ev.event = ANY (w.events)
	ORDER BY ev.id)`, param, company, call, from)
}

// publishSQL writes a company's events that are not a call's own write
// (SaveCall's are part of it).
var publishSQL = "WITH " + eventsCTE("$2", "$1", "nullif((e.v->>'call_id')::bigint, 0)", "") + " SELECT count(*) FROM ev"

// publish writes events of the company in the transaction of the state
// they describe.
func publish(ctx context.Context, tx sqlx.ExecerContext, company dialplan.CompanyID, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	arg, err := eventsArg(evs)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, publishSQL, company, arg); err != nil {
		return fmt.Errorf("events %s…: %w", evs[0].Kind, err)
	}
	return nil
}

// Publish writes events of the company on their own: what happens to an
// agent (the ACD's transitions), or to a number (its hours turning).
func (s *Store) Publish(ctx context.Context, company dialplan.CompanyID, evs ...Event) error {
	return publish(ctx, s.db, company, evs...)
}
