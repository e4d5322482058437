package api

import (
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/live"
	"github.com/switchboard/switchboard/store"
)

// TestOpenAPILive checks the live view's messages, as a board makes
// them, against the documented schemas, both ways (every field
// documented, every documented field produced).
func TestOpenAPILive(t *testing.T) {
	doc := loadOpenAPI(t)
	now := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	b := live.NewBoard()
	b.SetDirectory(store.LiveDirectory{
		Companies: []store.LiveCompany{{ID: 1, TimeZone: "Europe/Paris", SLASeconds: 20}},
		Users: map[dialplan.CompanyID][]dialplan.User{1: {{ID: 7, FirstName: "Alice"}, {ID: 8, FirstName: "Bob"},
			{ID: 9, FirstName: "Carol"}}},
		Teams:   map[dialplan.CompanyID][]dialplan.Team{1: {{ID: 3, Name: "Support", Users: []dialplan.UserID{7, 8}}}},
		Numbers: map[dialplan.CompanyID][]dialplan.Number{1: {{ID: 5, Name: "Main"}}},
	}, now)
	b.Load(store.LiveStart{}, now)
	var (
		msgs []live.Message
		seq  int64
	)
	apply := func(kind events.Kind, call dialplan.CallID, user dialplan.UserID, data any) {
		seq++
		at := now.Add(time.Duration(seq) * time.Second)
		ev := store.LiveEvent{Cursor: events.Cursor{XID: uint64(seq), ID: seq}, Company: 1, Kind: kind, At: at,
			CallID: call, User: user, Data: data}
		if call != 0 {
			ev.Call = &store.LiveCall{Number: 5, Direction: dialplan.Inbound, RawDigits: "+33612345678", StartedAt: now,
				Teams: []dialplan.TeamID{3}}
		}
		m, _ := b.Apply(ev, at)
		msgs = append(msgs, m...)
	}
	apply(events.UserConnected, 0, 7, nil)
	apply(events.UserConnected, 0, 8, nil)
	apply(events.CallCreated, 1, 0, events.Created{To: "+33176390861"})
	apply(events.CallQueued, 1, 0, nil)
	apply(events.CallRingingOnAgent, 1, 8, nil)
	apply(events.CallCreated, 2, 0, nil)
	apply(events.CallAnswered, 2, 7, nil)
	apply(events.CallHold, 2, 7, nil)
	apply(events.CallCreated, 4, 0, nil)
	apply(events.CallAnswered, 4, 0, events.Answered{Digits: "+33699999999"})
	apply(events.CallCreated, 3, 0, nil)
	apply(events.CallAnswered, 3, 8, nil)
	apply(events.CallEnded, 3, 0, nil)
	apply(events.UserWutStart, 0, 8, events.WrapUp{Seconds: 30})
	apply(events.UserDeleted, 0, 9, events.Snapshot{})
	msgs = append(msgs, b.Summaries(now)...)
	snap := b.Snapshot(1, live.Filter{}, now.Add(time.Minute))
	snap.Cursor = "15-15"

	cv := &coverage{seen: map[*openapi3.Schema]map[string]bool{}, where: map[*openapi3.Schema]string{}}
	schemas := map[string]string{live.KindCall: "LiveCall", live.KindAgent: "LiveAgent", live.KindSummary: "LiveSummary"}
	check := func(schema string, v any) {
		t.Helper()
		s := doc.Components.Schemas[schema].Value
		j := toJSON(t, v)
		require.NoError(t, s.VisitJSON(j, openapi3.MultiErrors(), openapi3.VisitAsResponse()), "%s: %v", schema, j)
		cv.walk(s, j, schema)
	}
	for _, m := range msgs {
		check(schemas[m.Kind], m.Data)
	}
	check("LiveSnapshot", snap)
	require.Empty(t, cv.missing(), "documented fields that no message has")

	w := toJSON(t, map[string]any{"snapshot": snap})
	require.NoError(t, openAPIResponse(t, doc, "GET", "/v1/live/snapshot", 200).VisitJSON(w, openapi3.VisitAsResponse()))
	stream := doc.Paths.Find("/v1/live").Get
	require.NotNil(t, stream.Responses.Status(200).Value.Content.Get("text/event-stream"))
	require.NotNil(t, stream.Parameters.GetByInAndName("header", "Last-Event-ID"))
	for _, status := range []int{400, 401, 403, 422, 503} {
		require.NotNil(t, stream.Responses.Status(status), "%d", status)
	}
}
