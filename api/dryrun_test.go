package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

// dryRunResult is the answer of POST /v1/numbers/:id/dry_run, as a client
// reads it.
type dryRunResult struct {
	Outcome          string  `json:"outcome"`
	MissedCallReason *string `json:"missed_call_reason"`
	Open             bool    `json:"open"`
	IVROption        *string `json:"ivr_option"`
	Rung             []struct {
		UserID     int64 `json:"user_id"`
		AtSeconds  int   `json:"at_seconds"`
		ForSeconds int   `json:"for_seconds"`
	} `json:"rung"`
	AnsweredBy     *int64         `json:"answered_by"`
	ForwardedTo    map[string]any `json:"forwarded_to"`
	MessagesPlayed []string       `json:"messages_played"`
	Timeline       []struct {
		Event     string         `json:"event"`
		AtSeconds int            `json:"at_seconds"`
		UserID    int64          `json:"user_id"`
		Data      map[string]any `json:"data"`
	} `json:"timeline"`
}

func (r dryRunResult) rung() []int64 {
	var ids []int64
	for _, ring := range r.Rung {
		ids = append(ids, ring.UserID)
	}
	return ids
}

func (r dryRunResult) events() []string {
	var names []string
	for _, ev := range r.Timeline {
		names = append(names, ev.Event)
	}
	return names
}

// flowJSON is the answer of GET /v1/numbers/:id/flow.
type flowJSON struct {
	Flow struct {
		NumberID int64  `json:"number_id"`
		Start    string `json:"start"`
		Nodes    []struct {
			ID      string            `json:"id"`
			Kind    string            `json:"kind"`
			Message string            `json:"message"`
			Step    map[string]any    `json:"step"`
			Target  map[string]any    `json:"target"`
			Next    map[string]string `json:"next"`
		} `json:"nodes"`
	} `json:"flow"`
}

// dryRunLines is what an admin sets up on day one before trying calls:
// three agents with phones, a team, a classic line and an IVR standard
// that is closed at night.
type dryRunLines struct {
	fixtures
	alice, bob, carol int64
	team              int64
	sales, standard   int64
}

func newDryRunLines(e *env) dryRunLines {
	l := dryRunLines{fixtures: newFixtures(e)}
	l.alice = l.userA // PJSIP/alice
	l.bob = e.id(l.a, "/v1/users", "user", map[string]any{"first_name": "Bob", "email": "bob@acme.test", "devices": []string{"PJSIP/bob"}})
	l.carol = e.id(l.a, "/v1/users", "user", map[string]any{"first_name": "Carol", "email": "carol@acme.test",
		"devices": []string{"PJSIP/carol", "PJSIP/carol-desk"}})
	l.team = e.id(l.a, "/v1/teams", "team", map[string]any{"name": "Front desk", "users": []int64{l.alice, l.bob, l.carol}})
	l.sales = e.id(l.a, "/v1/numbers", "number", map[string]any{"name": "Sales", "digits": "+33 1 76 39 08 70",
		"respect_queuing_time": true, "callback_request": true,
		"distribution": []any{
			map[string]any{"type": "user", "id": l.bob, "ring_seconds": 15},
			map[string]any{"type": "team", "id": l.team, "ring_seconds": 20}}})
	l.standard = e.id(l.a, "/v1/numbers", "number", map[string]any{"name": "Standard", "digits": "01 76 39 08 71", "type": "ivr",
		"time_zone": "Europe/Paris", "availability_status": "custom",
		"business_hours": map[string]any{"slots": []any{
			map[string]any{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "from": "09:00", "to": "18:00"}}},
		"message_settings": map[string]any{
			"welcome": map[string]any{"type": "tts", "text": "Bienvenue chez Acme"},
			"ivr":     map[string]any{"type": "tts", "text": "Tapez 1 pour les ventes, 2 pour l'accueil, 3 pour Londres, 0 pour un message"}},
		"ivr_options": []any{
			map[string]any{"key": "1", "target": map[string]any{"type": "number", "id": l.sales}},
			map[string]any{"key": "2", "target": map[string]any{"type": "team", "id": l.team}},
			map[string]any{"key": "3", "target": map[string]any{"type": "external", "digits": "+44 20 7946 0958"}},
			map[string]any{"key": "0", "target": map[string]any{"type": "voicemail"}}}})
	return l
}

// dryRun posts a dry run that must succeed, and checks the answer against
// the served OpenAPI document.
func (e *env) dryRun(k key, number int64, body map[string]any) dryRunResult {
	e.t.Helper()
	status, out := e.do(k, "POST", fmt.Sprintf("/v1/numbers/%d/dry_run", number), body)
	require.Equal(e.t, http.StatusOK, status, "answer: %v", out)
	e.documented("POST", "/v1/numbers/{id}/dry_run", out)
	var r dryRunResult
	raw, err := json.Marshal(out)
	require.NoError(e.t, err)
	require.NoError(e.t, json.Unmarshal(raw, &r))
	return r
}

// openAPI reads the served OpenAPI document.
func (e *env) openAPI() *openapi3.T {
	e.t.Helper()
	res, err := http.Get(e.url + "/v1/openapi.json")
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	require.NoError(e.t, err)
	return doc
}

// documented checks a 200 answer against the served OpenAPI document.
func (e *env) documented(method, path string, body map[string]any) {
	e.t.Helper()
	doc := e.openAPI()
	op := doc.Paths.Find(path).GetOperation(method)
	require.NotNil(e.t, op, "%s %s is documented", method, path)
	schema := op.Responses.Status(http.StatusOK).Value.Content.Get("application/json").Schema.Value
	require.NoError(e.t, schema.VisitJSON(any(body), openapi3.MultiErrors(), openapi3.VisitAsResponse()),
		"%s %s: the answer does not match the document", method, path)
}

const (
	night   = "2026-11-23T03:00:00+01:00" // Monday, before the standard opens
	morning = "2026-11-23T10:00:00+01:00" // Monday, open
)

// TestDryRun tries calls to a new IVR as an admin would before going live,
// reading each path the call takes, and checks that nothing was written.
func TestDryRun(t *testing.T) {
	e := newEnv(t)
	l := newDryRunLines(e)
	supervisor := e.userKey(l.a, "supervisor@acme.test", dialplan.RoleSupervisor, false)
	before := e.snapshot()
	agentsBefore := availabilities(e, l.a)
	require.Equal(t, "available", agentsBefore[l.alice])
	at := func(when string, fields map[string]any) map[string]any {
		body := map[string]any{"at": when}
		for k, v := range fields {
			body[k] = v
		}
		return body
	}

	t.Run("at night the line is closed", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(night, map[string]any{"digits": "2", "from": "06 12 34 56 78"}))
		require.Contains(t, []string{"voicemail", "missed"}, r.Outcome)
		require.False(t, r.Open)
		require.NotNil(t, r.MissedCallReason)
		require.Equal(t, "out_of_opening_hours", *r.MissedCallReason)
		require.Empty(t, r.Rung, "nobody rings at night")
		require.Nil(t, r.IVROption, "no menu at night")
		require.Nil(t, r.AnsweredBy)
		require.NotContains(t, r.MessagesPlayed, "ivr")
		require.Contains(t, r.events(), "call.out_of_opening_hours")
	})

	t.Run("2 rings the team and Alice answers after 8 s", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"from": "+33612345678", "digits": "2",
			"answer": map[string]any{"user_id": l.alice, "after_seconds": 8}}))
		require.Equal(t, "answered", r.Outcome)
		require.True(t, r.Open)
		require.Nil(t, r.MissedCallReason)
		require.NotNil(t, r.IVROption)
		require.Equal(t, "2", *r.IVROption)
		require.NotNil(t, r.AnsweredBy)
		require.Equal(t, l.alice, *r.AnsweredBy)
		require.ElementsMatch(t, []int64{l.alice, l.bob, l.carol}, r.rung(), "the team rings all at once")
		for _, ring := range r.Rung {
			if ring.UserID == l.alice {
				require.Equal(t, 8, ring.ForSeconds, "Alice's phone rang 8 s before she answered")
			}
			require.Positive(t, ring.AtSeconds, "phones ring after the menu")
		}
		require.Equal(t, []string{"welcome", "ivr"}, r.MessagesPlayed)
		require.Nil(t, r.ForwardedTo)
		events := r.events()
		require.Contains(t, events, "call.ivr_option_selected")
		require.Contains(t, events, "call.answered")
		require.Less(t, slices.Index(events, "call.ivr_option_selected"), slices.Index(events, "call.answered"))
		answered := r.Timeline[slices.Index(events, "call.answered")]
		require.Equal(t, l.alice, answered.UserID)
		// She talks one minute: the call ends 60 s after she answers.
		require.Equal(t, answered.AtSeconds+60, r.Timeline[len(r.Timeline)-1].AtSeconds, "timeline: %v", events)
		for i := 1; i < len(r.Timeline); i++ {
			require.GreaterOrEqual(t, r.Timeline[i].AtSeconds, r.Timeline[i-1].AtSeconds, "oldest first")
		}
	})

	t.Run("1 transfers to the Sales line, whose flow runs", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"digits": "1",
			"answer": map[string]any{"user_id": l.bob, "after_seconds": 3}}))
		require.Equal(t, "1", *r.IVROption)
		require.Contains(t, r.events(), "call.transferred")
		require.Equal(t, map[string]any{"type": "number", "id": float64(l.sales)}, r.ForwardedTo)
		require.Equal(t, "answered", r.Outcome, "Sales' first step rings Bob, who answers")
		require.Equal(t, l.bob, *r.AnsweredBy)
		require.Equal(t, []int64{l.bob}, r.rung())
	})

	// 3 forwards to London, which answers only when the run names it.
	london := map[string]any{"type": "external", "digits": "+442079460958"}
	for _, tc := range []struct {
		name    string
		answer  map[string]any
		outcome string
		events  []string // in this order, others between
		never   string
		rang    int // seconds from call.transferred to the next of events
	}{
		{"3, London named: it answers", map[string]any{"external_number": "+44 20 7946 0958", "after_seconds": 5},
			"forwarded", []string{"call.transferred", "call.answered", "call.ended"}, "call.unsuccessful_transfer", 5},
		{"3, London named in 00 form", map[string]any{"external_number": "0044 20 7946 0958"},
			"forwarded", []string{"call.transferred", "call.answered"}, "call.unsuccessful_transfer", 0},
		{"3, nobody named: London rings out, then voicemail", nil,
			"voicemail", []string{"call.transferred", "call.unsuccessful_transfer", "call.voicemail_left"}, "call.answered", 60},
		{"3, another number named: London rings out", map[string]any{"external_number": "06 12 34 56 78", "after_seconds": 1},
			"voicemail", []string{"call.transferred", "call.unsuccessful_transfer", "call.voicemail_left"}, "call.answered", 60},
		{"3, London answers too late", map[string]any{"external_number": "+442079460958", "after_seconds": 90},
			"voicemail", []string{"call.transferred", "call.unsuccessful_transfer", "call.voicemail_left"}, "call.answered", 60},
		{"3, a user named: London rings out", map[string]any{"user_id": l.alice, "after_seconds": 1},
			"voicemail", []string{"call.transferred", "call.unsuccessful_transfer", "call.voicemail_left"}, "call.answered", 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"digits": "3"}
			if tc.answer != nil {
				body["answer"] = tc.answer
			}
			r := e.dryRun(l.a, l.standard, at(morning, body))
			require.Equal(t, "3", *r.IVROption)
			require.Equal(t, tc.outcome, r.Outcome, "timeline: %v", r.events())
			require.Equal(t, london, r.ForwardedTo, "forwarded, answered or not")
			require.Empty(t, r.Rung, "no agent rings")
			require.Nil(t, r.AnsweredBy, "no user answered")
			require.NotContains(t, r.events(), tc.never)
			var seen []int // timeline indexes of tc.events
			for i, ev := range r.Timeline {
				if len(seen) < len(tc.events) && ev.Event == tc.events[len(seen)] {
					seen = append(seen, i)
				}
			}
			require.Len(t, seen, len(tc.events), "%v in this order in %v", tc.events, r.events())
			transferred, next := r.Timeline[seen[0]], r.Timeline[seen[1]]
			require.Equal(t, tc.rang, next.AtSeconds-transferred.AtSeconds, "London rang")
			require.Equal(t, london, transferred.Data, "the timeline says where to")
			if tc.outcome == "forwarded" {
				require.Nil(t, r.MissedCallReason)
				require.Equal(t, "+442079460958", next.Data["digits"], "call.answered says by whom")
			} else {
				require.Equal(t, london, next.Data, "call.unsuccessful_transfer says where to")
			}
		})
	}

	t.Run("0 goes to voicemail", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"digits": "0"}))
		require.Equal(t, "0", *r.IVROption)
		require.Equal(t, "voicemail", r.Outcome)
		require.Empty(t, r.Rung)
		require.Nil(t, r.AnsweredBy)
		require.Contains(t, r.events(), "call.voicemail_left")
	})

	t.Run("a key with no option is no choice", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"digits": "7"}))
		require.Nil(t, r.IVROption, "7 selects nothing")
		require.Empty(t, r.Rung)
		require.NotEqual(t, "answered", r.Outcome)
		require.Equal(t, "ivr", r.MessagesPlayed[len(r.MessagesPlayed)-1], "the menu is played again: %v", r.MessagesPlayed)
		require.GreaterOrEqual(t, len(r.MessagesPlayed), 3, "welcome, the menu, the menu again: %v", r.MessagesPlayed)
	})

	t.Run("an agent said to be in a call is not rung", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"digits": "2",
			"agents": map[string]any{fmt.Sprint(l.bob): "in_call", fmt.Sprint(l.carol): "unavailable"}}))
		require.Equal(t, []int64{l.alice}, r.rung(), "only Alice is free")
		require.NotEqual(t, "answered", r.Outcome, "nobody answers unless told")
		require.Nil(t, r.AnsweredBy)
	})

	t.Run("the caller hangs up while it rings", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"digits": "2", "hangup_after_seconds": 5}))
		require.Equal(t, "missed", r.Outcome)
		require.NotNil(t, r.MissedCallReason)
		require.Equal(t, "short_abandoned", *r.MissedCallReason)
		require.NotEmpty(t, r.Rung, "phones were ringing")
		require.Equal(t, 5, r.Timeline[len(r.Timeline)-1].AtSeconds)
	})

	t.Run("nothing pressed: the menu twice", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, nil))
		require.Equal(t, []string{"welcome", "ivr", "ivr"}, r.MessagesPlayed)
		require.Nil(t, r.IVROption)
		require.Empty(t, r.Rung)
	})

	t.Run("a queued caller asks to be called back", func(t *testing.T) {
		r := e.dryRun(l.a, l.sales, at(morning, map[string]any{"press_star_after_seconds": 25,
			"agents": map[string]any{fmt.Sprint(l.alice): "in_call", fmt.Sprint(l.bob): "in_call", fmt.Sprint(l.carol): "after_call_work"}}))
		require.Equal(t, "callback_requested", r.Outcome)
		require.Empty(t, r.Rung, "every agent is busy")
		require.Contains(t, r.events(), "call.callback_requested")
	})

	t.Run("a blocked caller", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"from": "+33 6 66 66 66 66", "digits": "2"}))
		require.Equal(t, "blocked", r.Outcome)
		require.Equal(t, "blocked", *r.MissedCallReason)
		require.Empty(t, r.Rung)
		require.Nil(t, r.IVROption)
	})

	t.Run("null is left out", func(t *testing.T) {
		r := e.dryRun(l.a, l.standard, at(morning, map[string]any{"from": nil, "digits": nil, "agents": nil, "answer": nil,
			"press_star_after_seconds": nil, "hangup_after_seconds": nil}))
		require.Equal(t, []string{"welcome", "ivr", "ivr"}, r.MessagesPlayed)
	})

	t.Run("a supervisor may dry-run", func(t *testing.T) {
		r := e.dryRun(supervisor, l.standard, at(morning, map[string]any{"digits": "0"}))
		require.Equal(t, "voicemail", r.Outcome)
	})

	// Nothing of those calls was written, and the live agents are as they were.
	require.Equal(t, before, e.snapshot(), "a dry run writes no configuration")
	for _, table := range []string{"calls", "call_teams", "inbox_tasks"} {
		var n int
		require.NoError(t, e.db.Get(&n, "SELECT count(*) FROM "+table))
		require.Zero(t, n, "a dry run writes no row in %s", table)
	}
	// (The snapshot covers the event stream and the outbox: the setup's
	// user.created and number.created are there, and nothing more.)
	var callEvents int
	require.NoError(t, e.db.Get(&callEvents, "SELECT count(*) FROM events WHERE call_id IS NOT NULL"))
	require.Zero(t, callEvents, "a dry run writes no call event")
	require.Equal(t, agentsBefore, availabilities(e, l.a), "a dry run leaves live agents alone")
}

// availabilities maps each user of the company to their live status.
func availabilities(e *env, k key) map[int64]string {
	e.t.Helper()
	var out struct {
		Users []struct {
			ID           int64
			Availability string
		}
	}
	e.ok(k, "GET", "/v1/users/availabilities?per_page=50", nil, &out)
	m := map[int64]string{}
	for _, u := range out.Users {
		m[u.ID] = u.Availability
	}
	return m
}

// TestDryRunBadInput: every kind of bad request, each a 4xx naming what is
// wrong, and none writing anything.
func TestDryRunBadInput(t *testing.T) {
	e := newEnv(t)
	l := newDryRunLines(e)
	path := fmt.Sprintf("/v1/numbers/%d/dry_run", l.standard)
	body := func(fields map[string]any) map[string]any {
		b := map[string]any{"at": morning}
		for k, v := range fields {
			b[k] = v
		}
		return b
	}
	cases := []struct {
		name   string
		k      key
		path   string
		body   any
		status int
		field  string
	}{
		{"no at", l.a, path, map[string]any{"digits": "1"}, 422, "at"},
		{"empty body", l.a, path, map[string]any{}, 422, "at"},
		{"garbage at", l.a, path, map[string]any{"at": "tomorrow at ten"}, 422, "at"},
		{"at without offset", l.a, path, map[string]any{"at": "2026-11-23T10:00:00"}, 422, "at"},
		{"at not a string", l.a, path, map[string]any{"at": 1763888400}, 422, "at"},
		{"garbage from", l.a, path, body(map[string]any{"from": "call me"}), 422, "from"},
		{"letters in digits", l.a, path, body(map[string]any{"digits": "12a"}), 422, "digits"},
		{"21 digits", l.a, path, body(map[string]any{"digits": strings.Repeat("1", 21)}), 422, "digits"},
		{"agent not an id", l.a, path, body(map[string]any{"agents": map[string]any{"x": "available"}}), 422, "agents"},
		{"agent id 0", l.a, path, body(map[string]any{"agents": map[string]any{"0": "available"}}), 422, "agents"},
		{"unknown status", l.a, path, body(map[string]any{"agents": map[string]any{"5": "sleeping"}}), 422, "agents.5"},
		{"answer without user", l.a, path, body(map[string]any{"answer": map[string]any{"after_seconds": 3}}), 422, "answer.user_id"},
		{"answer after -1 s", l.a, path, body(map[string]any{"answer": map[string]any{"user_id": l.alice, "after_seconds": -1}}), 422, "answer.after_seconds"},
		{"answer after 5 h", l.a, path, body(map[string]any{"answer": map[string]any{"user_id": l.alice, "after_seconds": 5 * 3600}}), 422, "answer.after_seconds"},
		{"unknown field in answer", l.a, path, body(map[string]any{"answer": map[string]any{"user_id": l.alice, "after": 3}}), 422, "after"},
		{"answer by a number that is not one", l.a, path, body(map[string]any{"answer": map[string]any{"external_number": "call me"}}), 422, "answer.external_number"},
		{"answer by a number too short", l.a, path, body(map[string]any{"answer": map[string]any{"external_number": "+44"}}), 422, "answer.external_number"},
		{"answer by a number not a string", l.a, path, body(map[string]any{"answer": map[string]any{"external_number": 442079460958}}), 422, "answer.external_number"},
		{"answer by an empty number", l.a, path, body(map[string]any{"answer": map[string]any{"external_number": ""}}), 422, "answer.user_id"},
		{"answer by a user and a number", l.a, path, body(map[string]any{"answer": map[string]any{"user_id": l.alice, "external_number": "+442079460958"}}), 422, "answer.external_number"},
		{"answer by no such user", l.a, path, body(map[string]any{"answer": map[string]any{"user_id": 987654, "after_seconds": 3}}), 422, "answer.user_id"},
		{"agent of no such user", l.a, path, body(map[string]any{"agents": map[string]any{"987654": "in_call"}}), 422, "agents.987654"},
		{"hang up at 0 s", l.a, path, body(map[string]any{"hangup_after_seconds": 0}), 422, "hangup_after_seconds"},
		{"hang up at -3 s", l.a, path, body(map[string]any{"hangup_after_seconds": -3}), 422, "hangup_after_seconds"},
		{"press * at 0 s", l.a, path, body(map[string]any{"press_star_after_seconds": 0}), 422, "press_star_after_seconds"},
		{"hang up not a number", l.a, path, body(map[string]any{"hangup_after_seconds": "5"}), 422, "hangup_after_seconds"},
		{"unknown field", l.a, path, body(map[string]any{"caller": "+33612345678"}), 422, "caller"},
		{"malformed JSON", l.a, path, `{"at":`, 400, "JSON"},
		{"not an object", l.a, path, `["at"]`, 400, "JSON"},
		{"an agent's key", l.agent, path, body(nil), 403, "forbidden"},
		{"another company's number", l.a, fmt.Sprintf("/v1/numbers/%d/dry_run", l.numberB), body(nil), 404, "not found"},
		{"no such number", l.a, "/v1/numbers/987654/dry_run", body(nil), 404, "not found"},
		{"number id not a number", l.a, "/v1/numbers/abc/dry_run", body(nil), 404, "abc"},
		{"flow of another company's number", l.a, fmt.Sprintf("/v1/numbers/%d/flow", l.numberB), nil, 404, "not found"},
		{"flow for an agent", l.agent, fmt.Sprintf("/v1/numbers/%d/flow", l.standard), nil, 403, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			method := "POST"
			if strings.HasSuffix(tc.path, "/flow") {
				method = "GET"
			}
			status, out := e.do(tc.k, method, tc.path, tc.body)
			require.Equal(t, tc.status, status, "answer: %v", out)
			require.NotEmpty(t, out["error"], "answer: %v", out)
			require.Contains(t, fmt.Sprint(out["error"], " ", out["troubleshoot"]), tc.field, "the error names what is wrong")
			require.Equal(t, before, e.snapshot(), "a failed request wrote nothing")
		})
	}
	var n int
	require.NoError(t, e.db.Get(&n, "SELECT count(*) FROM calls"))
	require.Zero(t, n)

	// The document says as much of `answer` as a schema can: a user or an
	// external number, not both, not neither (a number's digits are
	// checked by the handler only).
	schema := e.openAPI().Paths.Find("/v1/numbers/{id}/dry_run").Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	for _, tc := range []struct {
		answer any
		ok     bool
	}{
		{nil, true},
		{map[string]any{"user_id": l.alice, "after_seconds": 3}, true},
		{map[string]any{"external_number": "+44 20 7946 0958", "after_seconds": 3}, true},
		{map[string]any{"external_number": "+442079460958"}, true},
		{map[string]any{"after_seconds": 3}, false},
		{map[string]any{"external_number": ""}, false},
		{map[string]any{"user_id": l.alice, "external_number": "+442079460958"}, false},
		{map[string]any{"external_number": "+442079460958", "after_seconds": -1}, false},
		{map[string]any{"external_number": "+442079460958", "after": 3}, false},
	} {
		var req any
		raw, err := json.Marshal(body(map[string]any{"answer": tc.answer}))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &req))
		err = schema.VisitJSON(req, openapi3.VisitAsRequest())
		if tc.ok {
			require.NoError(t, err, "answer %v", tc.answer)
		} else {
			require.Error(t, err, "answer %v", tc.answer)
		}
	}
}

// TestFlow reads the compiled flows of both lines.
func TestFlow(t *testing.T) {
	e := newEnv(t)
	l := newDryRunLines(e)
	nodes := func(number int64) (flowJSON, map[string]int) {
		t.Helper()
		status, out := e.do(l.a, "GET", fmt.Sprintf("/v1/numbers/%d/flow", number), nil)
		require.Equal(t, http.StatusOK, status, "answer: %v", out)
		e.documented("GET", "/v1/numbers/{id}/flow", out)
		var f flowJSON
		raw, err := json.Marshal(out)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &f))
		require.Equal(t, number, f.Flow.NumberID)
		byID := map[string]int{}
		for i, n := range f.Flow.Nodes {
			_, twice := byID[n.ID]
			require.False(t, twice, "node %s twice", n.ID)
			byID[n.ID] = i
		}
		require.Contains(t, byID, f.Flow.Start)
		for _, n := range f.Flow.Nodes {
			require.NotNil(t, n.Next, "%s has next", n.ID)
			for outcome, next := range n.Next {
				if next != "" {
					require.Contains(t, byID, next, "%s --%s--> %s: no such node", n.ID, outcome, next)
				}
			}
		}
		return f, byID
	}

	f, byID := nodes(l.standard)
	node := func(id string) int { t.Helper(); require.Contains(t, byID, id); return byID[id] }
	menu := f.Flow.Nodes[node("menu")]
	require.Equal(t, "menu", menu.Kind)
	require.Equal(t, "ivr", menu.Message)
	require.Equal(t, "option_1", menu.Next["1"])
	require.Equal(t, "option_0", menu.Next["0"])
	require.Equal(t, "voicemail", menu.Next["no_choice"])
	option1 := f.Flow.Nodes[node("option_1")]
	require.Equal(t, "transfer", option1.Kind)
	require.Equal(t, map[string]any{"type": "number", "id": float64(l.sales)}, option1.Target)
	require.Equal(t, "ring_team", f.Flow.Nodes[node("option_2")].Kind)
	require.Equal(t, "forward", f.Flow.Nodes[node("option_3")].Kind)
	require.Equal(t, map[string]any{"type": "external", "digits": "+442079460958"}, f.Flow.Nodes[node("option_3")].Target)
	require.Equal(t, "voicemail", f.Flow.Nodes[node("option_0")].Kind)
	require.Equal(t, "menu", f.Flow.Nodes[node("welcome")].Next["done"])
	require.Equal(t, "after_hours", f.Flow.Nodes[node("hours")].Next["closed"])
	require.NotContains(t, byID, "step_1", "an IVR has no ring steps")

	f, byID = nodes(l.sales)
	step1 := f.Flow.Nodes[node("step_1")]
	require.Equal(t, "ring_user", step1.Kind)
	require.Equal(t, map[string]any{"type": "user", "id": float64(l.bob), "ring_seconds": float64(15)}, step1.Step)
	require.Equal(t, "step_2", step1.Next["no_answer"])
	require.Equal(t, "queue_1", step1.Next["nobody_free"], "respect_queuing_time queues the caller")
	require.Equal(t, "callback", f.Flow.Nodes[node("queue_1")].Next["*"], "callback_request: * asks for a callback")
	require.Equal(t, "voicemail", f.Flow.Nodes[node("step_2")].Next["no_answer"])
	require.Equal(t, "step_1", f.Flow.Nodes[node("welcome")].Next["done"])
	require.NotContains(t, byID, "menu")

	// The flow follows the configuration as saved now.
	e.ok(l.a, "PUT", fmt.Sprintf("/v1/numbers/%d", l.sales), map[string]any{"voicemail": false}, nil)
	f, byID = nodes(l.sales)
	require.NotContains(t, byID, "voicemail")
	require.Equal(t, "", f.Flow.Nodes[node("step_2")].Next["no_answer"], "without voicemail the call ends")
}

// TestTransferLoopRefused: an IVR key may not lead back to its own number.
func TestTransferLoopRefused(t *testing.T) {
	e := newEnv(t)
	l := newDryRunLines(e) // Standard's 1 → Sales
	before := e.snapshot()
	var saved struct{ Number map[string]any }
	e.ok(l.a, "GET", fmt.Sprintf("/v1/numbers/%d", l.sales), nil, &saved)

	status, out := e.do(l.a, "PUT", fmt.Sprintf("/v1/numbers/%d", l.sales), map[string]any{"type": "ivr", "ivr_options": []any{
		map[string]any{"key": "9", "target": map[string]any{"type": "number", "id": l.standard}}}})
	require.Equal(t, http.StatusUnprocessableEntity, status, "answer: %v", out)
	require.Contains(t, out["error"], "ivr_options[0].target.id")
	require.Contains(t, out["troubleshoot"], "Sales → Standard → Sales", "the message shows the path")
	require.Equal(t, before, e.snapshot(), "nothing changed")
	var reread struct{ Number map[string]any }
	e.ok(l.a, "GET", fmt.Sprintf("/v1/numbers/%d", l.sales), nil, &reread)
	require.Equal(t, saved, reread)

	// Two steps away is a loop too: a new IVR → Standard, then Sales → the new IVR.
	lobby := e.id(l.a, "/v1/numbers", "number", map[string]any{"name": "Lobby", "digits": "+33176390872", "type": "ivr",
		"ivr_options": []any{map[string]any{"key": "1", "target": map[string]any{"type": "number", "id": l.standard}}}})
	before = e.snapshot()
	status, out = e.do(l.a, "PUT", fmt.Sprintf("/v1/numbers/%d", l.sales), map[string]any{"type": "ivr", "ivr_options": []any{
		map[string]any{"key": "2", "target": map[string]any{"type": "team", "id": l.team}},
		map[string]any{"key": "5", "target": map[string]any{"type": "number", "id": lobby}}}})
	require.Equal(t, http.StatusUnprocessableEntity, status, "answer: %v", out)
	require.Contains(t, out["error"], "ivr_options[1].target.id")
	require.Contains(t, out["troubleshoot"], "Sales → Lobby → Standard → Sales")
	require.Equal(t, before, e.snapshot())

	// A number may be reached twice without a loop.
	e.ok(l.a, "PUT", fmt.Sprintf("/v1/numbers/%d", lobby), map[string]any{"ivr_options": []any{
		map[string]any{"key": "1", "target": map[string]any{"type": "number", "id": l.standard}},
		map[string]any{"key": "2", "target": map[string]any{"type": "number", "id": l.sales}}}}, nil)
}
