package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// saveCall writes a call as the engine does (there is no engine yet).
func (e *env) saveCall(c *dialplan.Call, names ...dialplan.TimelineEvent) dialplan.CallID {
	e.t.Helper()
	require.NoError(e.t, e.store.SaveCall(context.Background(), c, names, nil))
	return c.ID
}

// call is a call of company A on its number, started at.
func (f fixtures) call(at time.Time, mod func(*dialplan.Call)) dialplan.Call {
	c := dialplan.Call{Company: f.a.company, Number: dialplan.NumberID(f.numberA), Direction: dialplan.Inbound,
		Status: dialplan.CallInitial, RawDigits: "+33612345678", StartedAt: at}
	if mod != nil {
		mod(&c)
	}
	return c
}

func timePtr(t time.Time) *time.Time { return &t }

// callsPage is what the call lists answer.
type callsPage struct {
	Calls []map[string]any `json:"calls"`
	Meta  struct {
		Count            int     `json:"count"`
		Total            int     `json:"total"`
		CurrentPage      int     `json:"current_page"`
		PerPage          int     `json:"per_page"`
		NextPageLink     *string `json:"next_page_link"`
		PreviousPageLink *string `json:"previous_page_link"`
	} `json:"meta"`
}

func (p callsPage) ids() []float64 {
	out := []float64{}
	for _, c := range p.Calls {
		out = append(out, c["id"].(float64))
	}
	return out
}

func TestCallShape(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	t0 := now.Add(-time.Hour)
	answered, ended := t0.Add(12*time.Second+400*time.Millisecond), t0.Add(95*time.Second)
	full := f.call(t0, func(c *dialplan.Call) {
		c.Status, c.AnsweredAt, c.EndedAt, c.User = dialplan.CallDone, &answered, &ended, dialplan.UserID(f.userA)
		c.Teams, c.HangupCause, c.IVROptions = []dialplan.TeamID{dialplan.TeamID(f.teamA)}, "normal_clearing", []string{"2"}
		c.TransferredTo = &dialplan.Transfer{Type: dialplan.TargetExternal, Digits: "+442079460000"}
		c.Recording, c.MediaRef = "rec-1.wav", "1795425300.42"
	})
	id := e.saveCall(&full,
		dialplan.TimelineEvent{Event: events.CallCreated, At: t0},
		dialplan.TimelineEvent{Event: events.CallIVROptionSelected, At: t0.Add(time.Second), Data: events.IVROption{Key: "2", Target: "external"}},
		dialplan.TimelineEvent{Event: events.CallRingingOnAgent, At: t0.Add(2 * time.Second), User: dialplan.UserID(f.userA)},
		dialplan.TimelineEvent{Event: events.CallAnswered, At: answered, User: dialplan.UserID(f.userA)},
		dialplan.TimelineEvent{Event: events.CallEnded, At: ended})
	ringing := f.call(now, func(c *dialplan.Call) { c.Number, c.RawDigits = 0, dialplan.Anonymous })
	ringingID := e.saveCall(&ringing, dialplan.TimelineEvent{Event: events.CallCreated, At: now})

	link := func(kind string, id int64) string { return e.url + fmt.Sprintf("/v1/%s/%d", kind, id) }
	// A call embeds its number and users as Aircall does: the fields of
	// GET /v1/numbers/:id and /v1/users/:id that Aircall embeds.
	embedded := func(kind string, id int64, fields ...string) map[string]any {
		var out map[string]map[string]any
		e.ok(f.a, "GET", link(kind+"s", id), nil, &out)
		picked := map[string]any{}
		for _, field := range fields {
			v, ok := out[kind][field]
			require.True(t, ok, "%s has %s", kind, field)
			picked[field] = v
		}
		return picked
	}
	alice := embedded("user", f.userA, "id", "direct_link", "name", "email", "available", "availability_status",
		"created_at", "time_zone", "language")
	stamp := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	wantFull := map[string]any{
		"id":                 float64(id),
		"sid":                "1795425300.42", // the caller's leg on the media server
		"direct_link":        link("calls", int64(id)),
		"direction":          "inbound",
		"status":             "done",
		"started_at":         float64(t0.Unix()),
		"answered_at":        float64(answered.Unix()),
		"ended_at":           float64(ended.Unix()),
		"duration":           95.0,
		"raw_digits":         "+33612345678",
		"missed_call_reason": nil,
		"number": embedded("number", f.numberA, "id", "direct_link", "name", "digits", "created_at", "country", "time_zone",
			"open", "availability_status", "is_ivr", "live_recording_activated", "priority", "messages"),
		"user": alice,
		"teams": []any{map[string]any{"id": float64(f.teamA), "direct_link": link("teams", f.teamA), "name": "Support",
			"created_at": embedded("team", f.teamA, "created_at")["created_at"]}},
		"tags":            []any{},
		"comments":        []any{},
		"assigned_to":     nil,
		"archived":        false,
		"recording":       "/v1/calls/1/recording?expires=…&signature=…", // signed: checked, then set below
		"voicemail":       nil,
		"asset":           link("calls", int64(id)) + "/recording",
		"cost":            "0.0",
		"country_code_a2": "FR",
		"pricing_type":    nil,
		"transferred_by":  alice,
		"transferred_to":  nil, // not to a user
		"transfer_target": map[string]any{"type": "external", "id": nil, "digits": "+442079460000"},
		"contact":         nil,
		"hangup_cause":    "normal_clearing",
		"ivr_options_selected": []any{map[string]any{"id": 1.0, "title": "Key 2", "key": "2", "branch": "external",
			"created_at": stamp(t0.Add(time.Second)), "transition_started_at": stamp(t0.Add(time.Second)),
			"transition_ended_at": stamp(t0.Add(2 * time.Second))}},
		"waiting_time": 12.0,
		"talk_time":    82.0,
		"timeline": []any{
			map[string]any{"event": "call.created", "at": float64(t0.Unix()), "user_id": nil, "data": map[string]any{}},
			map[string]any{"event": "call.ivr_option_selected", "at": float64(t0.Unix() + 1), "user_id": nil,
				"data": map[string]any{"key": "2", "target": "external"}},
			map[string]any{"event": "call.ringing_on_agent", "at": float64(t0.Unix() + 2), "user_id": float64(f.userA),
				"data": map[string]any{}},
			map[string]any{"event": "call.answered", "at": float64(answered.Unix()), "user_id": float64(f.userA), "data": map[string]any{}},
			map[string]any{"event": "call.ended", "at": float64(ended.Unix()), "user_id": nil, "data": map[string]any{}},
		},
	}
	wantRinging := map[string]any{
		"id": float64(ringingID), "sid": nil, "direct_link": link("calls", int64(ringingID)), "direction": "inbound", "status": "initial",
		"started_at": float64(now.Unix()), "answered_at": nil, "ended_at": nil, "duration": 0.0, "raw_digits": "anonymous",
		"missed_call_reason": nil, "number": nil, "user": nil, "teams": []any{}, "tags": []any{}, "comments": []any{},
		"assigned_to": nil, "archived": false, "recording": nil, "voicemail": nil, "asset": nil, "cost": "0.0",
		"country_code_a2": nil, "pricing_type": nil, "transferred_by": nil, "transferred_to": nil, "transfer_target": nil,
		"contact": nil, "hangup_cause": nil,
		"ivr_options_selected": []any{}, "waiting_time": nil, "talk_time": nil,
		"timeline": []any{map[string]any{"event": "call.created", "at": float64(now.Unix()), "user_id": nil, "data": map[string]any{}}},
	}

	var got struct{ Call map[string]any }
	e.ok(f.a, "GET", link("calls", int64(id)), nil, &got)
	require.Regexp(t, "^"+e.url+`/v1/calls/1/recording\?expires=\d+&signature=[A-Za-z0-9_-]{43}$`, got.Call["recording"])
	wantFull["recording"] = got.Call["recording"] // signed links: TestSignedLinks
	require.Equal(t, wantFull, got.Call)
	e.ok(f.a, "GET", link("calls", int64(ringingID)), nil, &got)
	require.Equal(t, wantRinging, got.Call)

	var list callsPage
	e.ok(f.a, "GET", "/v1/calls?fetch_call_timeline=true", nil, &list)
	require.Equal(t, []map[string]any{wantFull, wantRinging}, list.Calls, "oldest first, with their timelines as asked")
	list = callsPage{}
	e.ok(f.a, "GET", "/v1/calls", nil, &list)
	require.Equal(t, 2, list.Meta.Total)
	for _, want := range []map[string]any{wantFull, wantRinging} {
		delete(want, "timeline")
		delete(want, "ivr_options_selected")
	}
	require.Equal(t, []map[string]any{wantFull, wantRinging}, list.Calls, "oldest first, without timeline")
	status, out := e.do(f.a, "GET", "/v1/calls?fetch_call_timeline=yes", nil)
	require.Equal(t, 422, status, "%v", out)
	require.Contains(t, out["error"], "fetch_call_timeline")

	t.Run("a missed call", func(t *testing.T) {
		missed := f.call(t0, func(c *dialplan.Call) {
			c.Status, c.EndedAt, c.MissedReason, c.Voicemail = dialplan.CallDone, timePtr(t0.Add(30*time.Second)), dialplan.AgentsDidNotAnswer, "vm-1.wav"
		})
		e.saveCall(&missed)
		e.ok(f.a, "GET", link("calls", int64(missed.ID)), nil, &got)
		require.Equal(t, "agents_did_not_answer", got.Call["missed_call_reason"])
		require.Regexp(t, "^"+e.url+fmt.Sprintf(`/v1/calls/%d/voicemail\?expires=\d+&signature=[A-Za-z0-9_-]{43}$`, missed.ID), got.Call["voicemail"])
		require.Equal(t, 30.0, got.Call["waiting_time"])
		require.Equal(t, 0.0, got.Call["talk_time"])
		require.Equal(t, 30.0, got.Call["duration"])
	})
}

func TestCallActions(t *testing.T) {
	acd := dialplan.NewACD(dialplan.WallClock{})
	e := newEnvWith(t, func(d *api.Deps) { d.ACD = acd })
	f := newFixtures(e)
	mine := f.call(now, func(c *dialplan.Call) { c.User = f.agent.user })
	e.saveCall(&mine)
	// The agent took the call on a line with mandatory tagging.
	agent, err := e.store.User(context.Background(), f.a.company, f.agent.user)
	require.NoError(t, err)
	acd.Talk(agent.ID, mine.ID)
	acd.Hangup(agent, mine.ID, 0, true)
	liveStatus := func() string {
		var out struct{ Availability string }
		e.ok(f.a, "GET", fmt.Sprintf("/v1/users/%d/availability", agent.ID), nil, &out)
		return out.Availability
	}
	require.Equal(t, "pending_tag", liveStatus())
	path := fmt.Sprintf("/v1/calls/%d", mine.ID)
	bTag := e.id(f.b, "/v1/tags", "tag", map[string]any{"name": "Globex tag"})

	var got struct{ Call map[string]any }
	e.ok(f.agent, "POST", path+"/tags", map[string]any{"tags": []int64{f.tag}}, &got)
	tags := got.Call["tags"].([]any)
	require.Len(t, tags, 1)
	tag := tags[0].(map[string]any)
	require.Equal(t, float64(f.tag), tag["id"])
	require.Equal(t, "VIP", tag["name"])
	require.Equal(t, float64(f.agent.user), tag["tagged_by"].(map[string]any)["id"], "Aircall's tagged_by: who tagged it")
	timeline := got.Call["timeline"].([]any)
	require.Equal(t, timeline[len(timeline)-1].(map[string]any)["at"], tag["tagged_at"], "tagged when call.tagged says")
	require.Equal(t, "offline", liveStatus(), "tagging the call lifts the pending tag (the agent has no phone, so: offline)")
	last := func() map[string]any {
		timeline := got.Call["timeline"].([]any)
		return timeline[len(timeline)-1].(map[string]any)
	}
	require.Equal(t, "call.tagged", last()["event"])
	require.Equal(t, float64(f.agent.user), last()["user_id"])
	require.Equal(t, map[string]any{"tags": []any{float64(f.tag)}}, last()["data"])

	status, out := e.do(f.agent, "POST", path+"/comments", map[string]any{"content": "Wants a quote"})
	require.Equal(t, 201, status, "%v", out)
	comments := out["call"].(map[string]any)["comments"].([]any)
	require.Len(t, comments, 1)
	comment := comments[0].(map[string]any)
	require.Equal(t, "Wants a quote", comment["content"])
	by := comment["posted_by"].(map[string]any)
	require.Equal(t, float64(f.agent.user), by["id"])
	require.Equal(t, "agent@acme.test", by["email"])
	require.Equal(t, e.url+fmt.Sprintf("/v1/users/%d", f.agent.user), by["direct_link"])
	require.InDelta(t, float64(time.Now().Unix()), comment["posted_at"], 60)
	require.ElementsMatch(t, []string{"id", "content", "posted_by", "posted_at"}, keys(comment))

	e.ok(f.agent, "PUT", path+"/archive", nil, &got)
	require.Equal(t, true, got.Call["archived"])
	require.Equal(t, "call.archived", last()["event"])
	e.ok(f.agent, "PUT", path+"/unarchive", nil, &got)
	require.Equal(t, false, got.Call["archived"])
	require.Equal(t, "call.unarchived", last()["event"])

	e.ok(f.agent, "DELETE", fmt.Sprintf("%s/tags/%d", path, f.tag), nil, &got)
	require.Empty(t, got.Call["tags"])
	require.Equal(t, "call.untagged", last()["event"])
	require.Equal(t, map[string]any{"tags": []any{float64(f.tag)}}, last()["data"])
	e.ok(f.a, "POST", path+"/assign", map[string]any{"user_id": f.agent.user}, &got)
	require.Equal(t, float64(f.agent.user), got.Call["assigned_to"].(map[string]any)["id"])
	require.Equal(t, "call.assigned", last()["event"])
	require.Equal(t, map[string]any{"assigned_to": float64(f.agent.user)}, last()["data"])
	e.ok(f.a, "POST", path+"/tags", map[string]any{"tags": []int64{f.tag}}, &got)

	t.Run("bad input", func(t *testing.T) {
		before := len(got.Call["timeline"].([]any))
		bUser := f.b.user
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			field        string
		}{
			{"DELETE", fmt.Sprintf("/tags/%d", bTag), nil, 404, ""},
			{"DELETE", "/tags/999999", nil, 404, ""},
			{"DELETE", "/tags/x", nil, 404, ""},
			{"POST", "/assign", map[string]any{}, 422, "user_id"},
			{"POST", "/assign", map[string]any{"user_id": bUser}, 422, "user_id"},
			{"POST", "/assign", map[string]any{"user_id": 999999}, 422, "user_id"},
			{"POST", "/assign", map[string]any{"user_id": "me"}, 422, "user_id"},
		} {
			status, out := e.do(f.a, tc.method, path+tc.path, tc.body)
			require.Equal(t, tc.status, status, "%s %s %v: %v", tc.method, tc.path, tc.body, out)
			if tc.field != "" {
				require.Equal(t, "invalid "+tc.field, out["error"], "%s %v", tc.path, tc.body)
			}
		}
		for _, tc := range []struct {
			path   string
			body   any
			status int
			field  string
		}{
			{"/tags", map[string]any{"tags": []int64{}}, 422, "tags"},
			{"/tags", map[string]any{}, 422, "tags"},
			{"/tags", map[string]any{"tags": "VIP"}, 422, "tags"},
			{"/tags", map[string]any{"tags": []int64{f.tag, bTag}}, 422, "tags[1]"},
			{"/tags", map[string]any{"tags": []int64{f.tag, 999999}}, 422, "tags[1]"},
			{"/tags", map[string]any{"tag_ids": []int64{f.tag}}, 422, "tag_ids"},
			{"/tags", `{"tags": [`, 400, ""},
			{"/comments", map[string]any{"content": "  "}, 422, "content"},
			{"/comments", map[string]any{}, 422, "content"},
			{"/comments", map[string]any{"content": strings.Repeat("é", 5001)}, 422, "content"},
			{"/comments", map[string]any{"content": "x", "user_id": 1}, 422, "user_id"},
		} {
			status, out := e.do(f.agent, "POST", path+tc.path, tc.body)
			require.Equal(t, tc.status, status, "%s %v: %v", tc.path, tc.body, out)
			if tc.field != "" {
				require.Equal(t, "invalid "+tc.field, out["error"], "%s %v", tc.path, tc.body)
			}
		}
		e.ok(f.agent, "POST", path+"/comments", map[string]any{"content": strings.Repeat("é", 5000)}, &got)
		require.Len(t, got.Call["timeline"].([]any), before+1, "only the good comment left a trace")
		require.Len(t, got.Call["tags"].([]any), 1)
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCallSearch(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	second := e.id(f.a, "/v1/numbers", "number", map[string]any{"name": "Second", "digits": "+33176390863"})
	t0 := now.Add(-24 * time.Hour)
	var ids []float64
	for i, mod := range []func(*dialplan.Call){
		func(c *dialplan.Call) { // 0: answered by Alice
			c.Status, c.User, c.AnsweredAt, c.EndedAt = dialplan.CallDone, dialplan.UserID(f.userA), timePtr(c.StartedAt.Add(time.Second)), timePtr(c.StartedAt.Add(time.Minute))
		},
		func(c *dialplan.Call) { // 1: missed
			c.Status, c.MissedReason, c.EndedAt = dialplan.CallDone, dialplan.ShortAbandoned, timePtr(c.StartedAt.Add(5*time.Second))
		},
		func(c *dialplan.Call) { // 2: outbound, to Jane
			c.Direction, c.Number, c.RawDigits = dialplan.Outbound, dialplan.NumberID(second), "+33145678901"
		},
		func(c *dialplan.Call) { c.Status = dialplan.CallAnswered; c.User = dialplan.UserID(f.userA) }, // 3: in progress
		func(c *dialplan.Call) {}, // 4: ringing
	} {
		c := f.call(t0.Add(time.Duration(i)*time.Hour), mod)
		ids = append(ids, float64(e.saveCall(&c)))
	}
	other := dialplan.Call{Company: f.b.company, Direction: dialplan.Inbound, Status: dialplan.CallInitial, RawDigits: "+33612345678", StartedAt: t0}
	e.saveCall(&other)
	e.id(f.a, "/v1/contacts", "contact", map[string]any{"first_name": "Jane",
		"phone_numbers": []any{map[string]any{"value": "01 45 67 89 01"}}, "emails": []any{map[string]any{"value": "jane@acme.test"}}})
	hot := e.id(f.a, "/v1/tags", "tag", map[string]any{"name": "Hot lead"})
	cold := e.id(f.a, "/v1/tags", "tag", map[string]any{"name": "Cold"})
	e.ok(f.a, "POST", fmt.Sprintf("/v1/calls/%d/tags", int64(ids[1])), map[string]any{"tags": []int64{hot, cold}}, nil)
	e.ok(f.a, "POST", fmt.Sprintf("/v1/calls/%d/tags", int64(ids[3])), map[string]any{"tags": []int64{hot}}, nil)

	search := func(query string) callsPage {
		t.Helper()
		var p callsPage
		e.ok(f.a, "GET", "/v1/calls/search"+query, nil, &p)
		return p
	}
	from := func(h int) int64 { return t0.Add(time.Duration(h) * time.Hour).Unix() }
	for _, tc := range []struct {
		query string
		want  []float64
	}{
		{"", ids},
		{"?direction=outbound", ids[2:3]},
		{"?direction=inbound", []float64{ids[0], ids[1], ids[3], ids[4]}},
		{"?status=done", ids[0:2]},
		{"?status=answered", ids[3:4]},
		{fmt.Sprintf("?number_id=%d", second), ids[2:3]},
		{fmt.Sprintf("?number_id=%d", f.numberB), []float64{}},
		{fmt.Sprintf("?user_id=%d", f.userA), []float64{ids[0], ids[3]}},
		{fmt.Sprintf("?user_id=%d&status=done", f.userA), ids[0:1]},
		{"?missed_call_reason=short_abandoned", ids[1:2]},
		{"?missed_call_reason=abandoned_in_classic", []float64{}},
		{fmt.Sprintf("?tag_id=%d", hot), []float64{ids[1], ids[3]}},
		{fmt.Sprintf("?tag_id=%d", cold), ids[1:2]},
		{fmt.Sprintf("?tag_id=%d&status=done", hot), ids[1:2]},
		{fmt.Sprintf("?from=%d", from(3)), ids[3:5]},
		{fmt.Sprintf("?from=%d&to=%d", from(1), from(2)), ids[1:3]},
		{"?order=desc&direction=inbound", []float64{ids[4], ids[3], ids[1], ids[0]}},
		{"?phone_number=01%2045%2067%2089%2001", ids[2:3]}, // as a CRM asks: national, with spaces
		{"?phone_number=%2B33612345678", []float64{ids[0], ids[1], ids[3], ids[4]}},
		{"?email=Jane@acme.test", ids[2:3]}, // the calls of the contact's numbers
		{"?email=nobody@acme.test", []float64{}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			p := search(tc.query)
			require.Equal(t, tc.want, p.ids())
			require.Equal(t, len(tc.want), p.Meta.Total)
		})
	}

	t.Run("the list takes from and to on started_at", func(t *testing.T) {
		var p callsPage
		e.ok(f.a, "GET", fmt.Sprintf("/v1/calls?from=%d&order=desc", from(2)), nil, &p)
		require.Equal(t, []float64{ids[4], ids[3], ids[2]}, p.ids())
	})

	t.Run("paging", func(t *testing.T) {
		p := search("?per_page=2&page=2&direction=inbound")
		require.Equal(t, []float64{ids[3], ids[4]}, p.ids())
		require.Equal(t, 4, p.Meta.Total)
		require.Equal(t, 2, p.Meta.Count)
		require.Nil(t, p.Meta.NextPageLink)
		require.Equal(t, e.url+"/v1/calls/search?direction=inbound&page=1&per_page=2", *p.Meta.PreviousPageLink)
		var l callsPage
		e.ok(f.a, "GET", "/v1/calls?per_page=2", nil, &l)
		require.Equal(t, ids[0:2], l.ids())
		require.Equal(t, e.url+"/v1/calls?page=2&per_page=2", *l.Meta.NextPageLink)
		require.Equal(t, 5, l.Meta.Total)
	})

	t.Run("bad values are a 422 naming the filter, or a 400 naming the list parameter", func(t *testing.T) {
		for query, field := range map[string]string{
			"direction=sideways":         "direction",
			"status=ringing":             "status",
			"number_id=main":             "number_id",
			"number_id=0":                "number_id",
			"user_id=-3":                 "user_id",
			"missed_call_reason=lost":    "missed_call_reason",
			"per_page=51":                "per_page",
			"from=yesterday":             "from",
			"order=random&status=done":   "order",
			"status=done&direction=east": "direction",
			"phone_number=hello":         "phone_number",
			"tag_id=vip":                 "tag_id",
		} {
			status, out := e.do(f.a, "GET", "/v1/calls/search?"+query, nil)
			want := 422
			if slices.Contains([]string{"page", "per_page", "order", "from", "to"}, field) {
				want = 400 // as Aircall
			}
			require.Equal(t, want, status, "%s: %v", query, out)
			require.Equal(t, "invalid "+field, out["error"], query)
			require.NotEmpty(t, out["troubleshoot"])
		}
	})
}

func TestCallAccess(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	supervisor := e.userKey(f.a, "sup@acme.test", dialplan.RoleSupervisor, false)
	answered := f.call(now.Add(-3*time.Hour), func(c *dialplan.Call) { c.User = f.agent.user; c.Status = dialplan.CallAnswered })
	assigned := f.call(now.Add(-2*time.Hour), nil)
	others := f.call(now.Add(-time.Hour), func(c *dialplan.Call) { c.User = dialplan.UserID(f.userA) })
	for _, c := range []*dialplan.Call{&answered, &assigned, &others} {
		e.saveCall(c)
	}
	_, err := e.db.Exec("UPDATE calls SET assigned_to = $1 WHERE id = $2", f.agent.user, assigned.ID)
	require.NoError(t, err)
	path := func(c dialplan.Call) string { return fmt.Sprintf("/v1/calls/%d", c.ID) }

	t.Run("lists", func(t *testing.T) {
		for _, tc := range []struct {
			who  string
			k    key
			want []float64
		}{
			{"admin", f.a, []float64{float64(answered.ID), float64(assigned.ID), float64(others.ID)}},
			{"supervisor", supervisor, []float64{float64(answered.ID), float64(assigned.ID), float64(others.ID)}},
			{"agent", f.agent, []float64{float64(answered.ID), float64(assigned.ID)}},
		} {
			for _, route := range []string{"/v1/calls", "/v1/calls/search", "/v1/calls/search?direction=inbound"} {
				var p callsPage
				e.ok(tc.k, "GET", route, nil, &p)
				require.Equal(t, tc.want, p.ids(), "%s %s", tc.who, route)
				require.Equal(t, len(tc.want), p.Meta.Total, "%s %s: the total counts only what they see", tc.who, route)
			}
		}
		var p callsPage
		e.ok(f.agent, "GET", fmt.Sprintf("/v1/calls/search?user_id=%d", f.userA), nil, &p)
		require.Empty(t, p.Calls, "a filter does not widen what an agent sees")
	})

	t.Run("one call", func(t *testing.T) {
		// want: admin, supervisor, agent.
		actions := []struct {
			method, suffix string
			body           any
			ok             int
		}{
			{"GET", "", nil, 200},
			{"POST", "/tags", map[string]any{"tags": []int64{f.tag}}, 201},
			{"POST", "/comments", map[string]any{"content": "seen"}, 201},
			{"PUT", "/archive", nil, 200},
			{"PUT", "/unarchive", nil, 200},
		}
		for _, a := range actions {
			for _, tc := range []struct {
				who  string
				k    key
				call dialplan.Call
				want int
			}{
				{"admin", f.a, others, a.ok},
				{"supervisor", supervisor, others, a.ok},
				{"agent on the call they answered", f.agent, answered, a.ok},
				{"agent on the call assigned to them", f.agent, assigned, a.ok},
				{"agent on another's call", f.agent, others, 403},
			} {
				status, out := e.do(tc.k, a.method, path(tc.call)+a.suffix, a.body)
				require.Equal(t, tc.want, status, "%s %s as %s: %v", a.method, a.suffix, tc.who, out)
				if status == 403 {
					require.Equal(t, "forbidden", out["error"])
				}
			}
		}
		var got struct{ Call map[string]any }
		e.ok(f.a, "GET", path(others), nil, &got)
		require.Len(t, got.Call["comments"].([]any), 2, "the agent's refused comment was not written")
	})
}

func TestCallIsolation(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	c := f.call(now, nil)
	e.saveCall(&c)
	path := fmt.Sprintf("/v1/calls/%d", c.ID)
	bTag := e.id(f.b, "/v1/tags", "tag", map[string]any{"name": "Globex tag"})
	var before struct{ Call map[string]any }
	e.ok(f.a, "GET", path, nil, &before)

	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", path, nil},
		{"POST", path + "/tags", map[string]any{"tags": []int64{bTag}}},
		{"POST", path + "/comments", map[string]any{"content": "hello"}},
		{"PUT", path + "/archive", nil},
		{"PUT", path + "/unarchive", nil},
		{"GET", "/v1/calls/0", nil},
		{"GET", "/v1/calls/abc", nil},
		{"GET", fmt.Sprintf("/v1/calls/%d", c.ID+100), nil},
	} {
		status, out := e.do(f.b, r.method, r.path, r.body)
		require.Equal(t, 404, status, "%s %s: %v", r.method, r.path, out)
		require.Equal(t, "not found", out["error"])
	}
	var p callsPage
	e.ok(f.b, "GET", "/v1/calls", nil, &p)
	require.Empty(t, p.Calls)
	require.Zero(t, p.Meta.Total)

	status, out := e.do(f.a, "POST", path+"/tags", map[string]any{"tags": []int64{bTag}})
	require.Equal(t, 422, status, "another company's tag: %v", out)
	require.Equal(t, "invalid tags[0]", out["error"])

	var after struct{ Call map[string]any }
	e.ok(f.a, "GET", path, nil, &after)
	require.Equal(t, before, after, "nothing was written")
}
