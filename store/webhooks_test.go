package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestWebhookCRUD(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	st := store.New(db)
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	globex, _ := newCompany(t, st, "Globex", "owner@globex.test")

	w := store.Webhook{URL: "https://crm.example/hook", CustomName: "CRM", Active: true, Token: "ignored",
		Events: []events.Kind{events.CallCreated, events.UserCreated}}
	require.NoError(t, st.CreateWebhook(ctx, acme.ID, &w))
	require.NotZero(t, w.ID)
	require.Regexp(t, `^[0-9a-f]{64}$`, w.Token, "a new random token")
	require.False(t, w.CreatedAt.IsZero())
	other := store.Webhook{URL: "https://crm.example/other", Active: false, Events: []events.Kind{events.NumberDeleted}}
	require.NoError(t, st.CreateWebhook(ctx, acme.ID, &other))
	require.NotEqual(t, w.Token, other.Token)

	got, err := st.Webhook(ctx, acme.ID, w.ID)
	require.NoError(t, err)
	require.Equal(t, w, got)
	_, err = st.Webhook(ctx, globex.ID, w.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "another company's")

	list, total, err := st.Webhooks(ctx, acme.ID, store.Page{Page: 1, PerPage: 20})
	require.NoError(t, err)
	require.Equal(t, 2, total)
	require.Equal(t, []store.Webhook{w, other}, list)
	list, total, err = st.Webhooks(ctx, globex.ID, store.Page{Page: 1, PerPage: 20})
	require.NoError(t, err)
	require.Zero(t, total)
	require.Empty(t, list)

	// The dispatcher's state survives a change of settings, and is
	// cleared by a reset.
	since := time.Now().Add(-25 * time.Hour).UTC().Truncate(time.Microsecond)
	_, err = db.Exec(`UPDATE webhooks SET active = false, failures = 7, failing_since = $2, retry_at = now() + interval '1 hour',
		deactivated_reason = 'gone', deactivated_at = now() WHERE id = $1`, w.ID, since)
	require.NoError(t, err)
	w.Active, w.CustomName, w.Events = false, "CRM 2", []events.Kind{events.CallEnded}
	require.NoError(t, st.UpdateWebhook(ctx, acme.ID, &w, false))
	require.Equal(t, "CRM 2", w.CustomName)
	require.Equal(t, []events.Kind{events.CallEnded}, w.Events)
	require.Equal(t, since, w.FailingSince.UTC())
	require.Equal(t, "gone", *w.DeactivatedReason)
	require.NotNil(t, w.DeactivatedAt)

	w.Active = true
	require.NoError(t, st.UpdateWebhook(ctx, acme.ID, &w, true))
	require.True(t, w.Active)
	require.Nil(t, w.FailingSince)
	require.Nil(t, w.DeactivatedReason)
	require.Nil(t, w.DeactivatedAt)
	var backoff struct {
		Failures int        `db:"failures"`
		RetryAt  *time.Time `db:"retry_at"`
	}
	require.NoError(t, db.Get(&backoff, "SELECT failures, retry_at FROM webhooks WHERE id = $1", w.ID))
	require.Zero(t, backoff.Failures)
	require.Nil(t, backoff.RetryAt)

	theirs := w
	theirs.URL = "https://evil.example/"
	require.ErrorIs(t, st.UpdateWebhook(ctx, globex.ID, &theirs, true), store.ErrNotFound)
	require.ErrorIs(t, st.DeleteWebhook(ctx, globex.ID, w.ID), store.ErrNotFound)
	got, err = st.Webhook(ctx, acme.ID, w.ID)
	require.NoError(t, err)
	require.Equal(t, "https://crm.example/hook", got.URL, "left as it was")

	require.NoError(t, st.DeleteWebhook(ctx, acme.ID, w.ID))
	_, err = st.Webhook(ctx, acme.ID, w.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, st.DeleteWebhook(ctx, acme.ID, w.ID), store.ErrNotFound)
}

// streamEvent is a row of the events table.
type streamEvent struct {
	Kind   events.Kind     `db:"event"`
	User   *int64          `db:"user_id"`
	Number *int64          `db:"number_id"`
	Call   *int64          `db:"call_id"`
	Data   json.RawMessage `db:"data"`
}

func companyEvents(t *testing.T, db *sqlx.DB, company dialplan.CompanyID) []streamEvent {
	t.Helper()
	out := []streamEvent{}
	require.NoError(t, db.Select(&out, `SELECT event, user_id, number_id, call_id, data FROM events
		WHERE company_id = $1 ORDER BY id`, company))
	return out
}

// TestConfigurationEvents: users and numbers created and deleted are
// events written with the change; a refused change writes none; a
// subscribed webhook gets a delivery in the same statement.
func TestConfigurationEvents(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	st := store.New(db)
	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	require.Empty(t, companyEvents(t, db, acme.ID), "bootstrapping writes none")
	hook := store.Webhook{URL: "https://crm.example/hook", Active: true,
		Events: []events.Kind{events.UserCreated, events.UserDeleted, events.NumberCreated, events.NumberDeleted}}
	require.NoError(t, st.CreateWebhook(ctx, acme.ID, &hook))

	alice := dialplan.User{FirstName: "Alice", Email: "alice@acme.test"}
	require.NoError(t, alice.Normalize(acme))
	require.NoError(t, st.CreateUser(ctx, acme.ID, &alice))
	n := dialplan.NewNumber()
	n.Name, n.Digits = "Main", "+33176390861"
	require.NoError(t, n.Normalize(acme))
	require.NoError(t, st.CreateNumber(ctx, acme.ID, &n))

	id := func(v int64) *int64 { return &v }
	evs := companyEvents(t, db, acme.ID)
	require.Len(t, evs, 2)
	require.Equal(t, events.UserCreated, evs[0].Kind)
	require.Equal(t, id(int64(alice.ID)), evs[0].User)
	require.Nil(t, evs[0].Number)
	require.Nil(t, evs[0].Call)
	require.Equal(t, events.NumberCreated, evs[1].Kind)
	require.Equal(t, id(int64(n.ID)), evs[1].Number)
	require.Nil(t, evs[1].User)

	// Refused writes: a duplicate email, duplicate digits, a user that a
	// number rings, and unknown rows.
	dup := dialplan.User{FirstName: "Al", Email: "alice@acme.test"}
	require.NoError(t, dup.Normalize(acme))
	require.True(t, errors.Is(st.CreateUser(ctx, acme.ID, &dup), store.ErrConflict))
	again := dialplan.NewNumber()
	again.Name, again.Digits = "Again", "+33176390861"
	require.NoError(t, again.Normalize(acme))
	require.True(t, errors.Is(st.CreateNumber(ctx, acme.ID, &again), store.ErrConflict))
	rung := dialplan.NewNumber()
	rung.Name, rung.Digits = "Rings Alice", "+33176390862"
	rung.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: int64(alice.ID), RingSeconds: 20}}
	require.NoError(t, rung.Normalize(acme))
	require.NoError(t, st.CreateNumber(ctx, acme.ID, &rung))
	require.Len(t, companyEvents(t, db, acme.ID), 3)
	require.True(t, errors.Is(st.DeleteUser(ctx, acme.ID, alice.ID, json.RawMessage(`{}`)), store.ErrConflict))
	require.ErrorIs(t, st.DeleteUser(ctx, acme.ID, 987654, nil), store.ErrNotFound)
	require.ErrorIs(t, st.DeleteNumber(ctx, acme.ID, 987654, nil), store.ErrNotFound)
	require.Len(t, companyEvents(t, db, acme.ID), 3, "a refused write writes no event")

	// Deleted: the event carries the object as the API showed it.
	require.NoError(t, st.DeleteNumber(ctx, acme.ID, rung.ID, json.RawMessage(`{"id":3,"name":"Rings Alice"}`)))
	require.NoError(t, st.DeleteUser(ctx, acme.ID, alice.ID, json.RawMessage(`{"id":2,"first_name":"Alice"}`)))
	evs = companyEvents(t, db, acme.ID)
	require.Len(t, evs, 5)
	require.Equal(t, events.NumberDeleted, evs[3].Kind)
	require.Equal(t, id(int64(rung.ID)), evs[3].Number)
	require.JSONEq(t, `{"object": {"id": 3, "name": "Rings Alice"}}`, string(evs[3].Data))
	require.Equal(t, events.UserDeleted, evs[4].Kind)
	require.Equal(t, id(int64(alice.ID)), evs[4].User)
	require.JSONEq(t, `{"object": {"id": 2, "first_name": "Alice"}}`, string(evs[4].Data))
	snap, err := events.Decode(evs[4].Kind, evs[4].Data)
	require.NoError(t, err)
	require.JSONEq(t, `{"id": 2, "first_name": "Alice"}`, string(snap.(events.Snapshot).Object))

	var queued []events.Kind
	require.NoError(t, db.Select(&queued, `SELECT e.event FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.webhook_id = $1 ORDER BY e.id`, hook.ID))
	require.Equal(t, []events.Kind{events.UserCreated, events.NumberCreated, events.NumberCreated,
		events.NumberDeleted, events.UserDeleted}, queued, "each event queued for the webhook subscribed to it")
}
