package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// fakeCalls is the call engine as the API sees it: it records what it is
// asked and answers err. dial, when set, makes the call a click-to-call
// places (the real engine writes it before it answers).
type fakeCalls struct {
	mu    sync.Mutex
	err   error
	dial  func(dialplan.Company, dialplan.OutboundCall) (dialplan.CallID, error)
	acts  []acted
	dials []dialed
}

type acted struct {
	company dialplan.CompanyID
	call    dialplan.CallID
	action  dialplan.Action
}

type dialed struct {
	company dialplan.CompanyID
	call    dialplan.OutboundCall
}

func (f *fakeCalls) Act(_ context.Context, company dialplan.CompanyID, call dialplan.CallID, a dialplan.Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts = append(f.acts, acted{company, call, a})
	return f.err
}

func (f *fakeCalls) Dial(_ context.Context, company dialplan.Company, o dialplan.OutboundCall) (dialplan.CallID, error) {
	f.mu.Lock()
	f.dials = append(f.dials, dialed{company.ID, o})
	err, dial := f.err, f.dial
	f.mu.Unlock()
	if err != nil || dial == nil {
		return 0, err
	}
	return dial(company, o)
}

// reset forgets what was asked; the next answers are err.
func (f *fakeCalls) reset(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err, f.acts, f.dials = err, nil, nil
}

// asked is what was asked since the last reset.
func (f *fakeCalls) asked() ([]acted, []dialed) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acts, f.dials
}

// control is a company with calls in progress and the people who act on
// them, on a server whose engine is a fakeCalls.
type control struct {
	fixtures
	e      *env
	engine *fakeCalls
	sup    key             // a supervisor with a phone
	carol  dialplan.UserID // an agent with a phone and no number to call out with
	xavier dialplan.UserID // a supervisor reached on an external number only
	out    int64           // a number Alice and the supervisor call out with
	// live is the agent's call in progress, others Alice's, ended the
	// agent's call that is over, globex a call of the other company.
	live, others, ended, globex dialplan.CallID
}

func newControl(t *testing.T) *control {
	t.Helper()
	engine := &fakeCalls{}
	e := newEnvWith(t, func(d *api.Deps) { d.Calls = engine })
	f := newFixtures(e)
	c := &control{fixtures: f, e: e, engine: engine}
	c.sup = e.phoneKey(f.a, map[string]any{"first_name": "Sam", "email": "sam@acme.test", "role": "supervisor",
		"devices": []string{"PJSIP/sam"}})
	c.carol = dialplan.UserID(e.id(f.a, "/v1/users", "user", map[string]any{"first_name": "Carol",
		"email": "carol@acme.test", "devices": []string{"PJSIP/carol"}}))
	c.xavier = dialplan.UserID(e.id(f.a, "/v1/users", "user", map[string]any{"first_name": "Xavier",
		"email": "xavier@acme.test", "role": "supervisor", "external_number": "06 12 34 56 70"}))
	// Created after Main (no outbound users): the default number is the
	// first that lets the user call out, not the first of the company.
	c.out = e.id(f.a, "/v1/numbers", "number", map[string]any{"name": "Sales line", "digits": "+33176390870",
		"outbound_users": []int64{f.userA, int64(c.sup.user)}})

	inProgress := func(user dialplan.UserID) dialplan.CallID {
		call := f.call(now.Add(-2*time.Minute), func(c *dialplan.Call) {
			c.Status, c.User, c.AnsweredAt = dialplan.CallAnswered, user, timePtr(now.Add(-time.Minute))
		})
		return e.saveCall(&call,
			dialplan.TimelineEvent{Event: events.CallCreated, At: call.StartedAt},
			dialplan.TimelineEvent{Event: events.CallAnswered, At: *call.AnsweredAt, User: user})
	}
	c.live = inProgress(f.agent.user)
	c.others = inProgress(dialplan.UserID(f.userA))
	ended := f.call(now.Add(-time.Hour), func(c *dialplan.Call) {
		c.Status, c.User = dialplan.CallDone, f.agent.user
		c.AnsweredAt, c.EndedAt = timePtr(now.Add(-59*time.Minute)), timePtr(now.Add(-50*time.Minute))
	})
	c.ended = e.saveCall(&ended, dialplan.TimelineEvent{Event: events.CallCreated, At: ended.StartedAt},
		dialplan.TimelineEvent{Event: events.CallEnded, At: *ended.EndedAt})
	globex := dialplan.Call{Company: f.b.company, Number: dialplan.NumberID(f.numberB), Direction: dialplan.Inbound,
		Status: dialplan.CallAnswered, RawDigits: "+33612345678", StartedAt: now.Add(-time.Minute), User: f.b.user}
	c.globex = e.saveCall(&globex)
	return c
}

// phoneKey creates a user from body (devices and all) and a key acting as
// them.
func (e *env) phoneKey(admin key, body map[string]any) key {
	e.t.Helper()
	id := dialplan.UserID(e.id(admin, "/v1/users", "user", body))
	creds, err := e.store.CreateAPIKey(context.Background(), admin.company, id, "test")
	require.NoError(e.t, err)
	return key{creds.APIID, creds.APIToken, id, admin.company}
}

// written fingerprints all a refused request must leave alone: the
// configuration, the event stream (every call's timeline), the outbox and
// the calls.
func (e *env) written() map[string]string {
	e.t.Helper()
	snap := e.snapshot()
	for _, table := range []string{"calls", "call_teams", "call_tags", "call_comments", "inbox_tasks"} {
		var sum string
		err := e.db.Get(&sum, "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM "+table+" t")
		require.NoError(e.t, err)
		snap[table] = sum
	}
	return snap
}

func callPath(id dialplan.CallID, action string) string {
	return fmt.Sprintf("/v1/calls/%d/%s", id, action)
}

func dialPath(id dialplan.UserID) string { return fmt.Sprintf("/v1/users/%d/calls", id) }

// TestControlRefusals: every request the API or the engine refuses gets
// its status and an error that names the field or the problem, writes
// nothing, and reaches the engine only when the engine is the one to
// refuse.
func TestControlRefusals(t *testing.T) {
	c := newControl(t)
	e, f := c.e, c.fixtures
	keys := map[string]key{"admin": f.a, "supervisor": c.sup, "agent": f.agent, "globex": f.b}
	live := func(action string) string { return callPath(c.live, action) }
	alice := dialplan.UserID(f.userA)
	boom := errors.New("ari: 500 Internal Server Error")
	for _, tc := range []struct {
		name   string
		as     string // a key of keys
		path   string
		body   any
		engine error // what the engine answers, if asked
		status int
		error  string // the error's short form: "invalid <field>" names the field
		says   string // in the troubleshoot
		asked  bool   // the engine was asked (and refused)
	}{
		// Transfers.
		{name: "transfer of an ended call", as: "admin", path: callPath(c.ended, "transfers"),
			body: map[string]any{"user_id": f.userA}, status: 409, error: "conflict", says: "ended"},
		{name: "transfer to a user of another company", as: "admin", path: live("transfers"),
			body: map[string]any{"user_id": f.userB}, status: 404, error: "not found", says: "user"},
		{name: "transfer to a team of another company", as: "admin", path: live("transfers"),
			body: map[string]any{"team_id": f.teamB}, status: 404, error: "not found", says: "team"},
		{name: "transfer to a number of another company", as: "admin", path: live("transfers"),
			body: map[string]any{"number_id": f.numberB}, status: 404, error: "not found", says: "number"},
		{name: "transfer to no such user", as: "admin", path: live("transfers"),
			body: map[string]any{"user_id": 999999}, status: 404, error: "not found"},
		{name: "transfer of another company's call", as: "globex", path: live("transfers"),
			body: map[string]any{"user_id": f.userB}, status: 404, error: "not found"},
		{name: "transfer with two targets", as: "admin", path: live("transfers"),
			body: map[string]any{"user_id": f.userA, "to": "+33145678901"}, status: 422, error: "invalid user_id", says: "exactly one"},
		{name: "transfer with no target", as: "admin", path: live("transfers"),
			body: map[string]any{}, status: 422, error: "invalid user_id", says: "exactly one"},
		{name: "transfer with a mode but no target", as: "admin", path: live("transfers"),
			body: map[string]any{"mode": "cold"}, status: 422, error: "invalid user_id"},
		{name: "transfer in an unknown mode", as: "admin", path: live("transfers"),
			body: map[string]any{"user_id": f.userA, "mode": "hot"}, status: 422, error: "invalid mode", says: "hot"},
		{name: "warm transfer to a team", as: "admin", path: live("transfers"),
			body: map[string]any{"team_id": 1, "mode": "warm"}, status: 422, error: "invalid mode", says: "warm"},
		{name: "transfer to a country the company does not call", as: "admin", path: live("transfers"),
			body: map[string]any{"to": "+44 20 7946 0000"}, status: 422, error: "invalid to", says: "+442079460000"},
		{name: "transfer to a premium-rate number", as: "admin", path: live("transfers"),
			body: map[string]any{"to": "+33899123456"}, status: 422, error: "invalid to", says: "premium"},
		{name: "transfer to a blocked number", as: "admin", path: live("transfers"),
			body: map[string]any{"to": "06 66 66 66 66"}, status: 422, error: "invalid to", says: "blocked"},
		{name: "transfer to an empty number", as: "admin", path: live("transfers"),
			body: map[string]any{"to": ""}, status: 422, error: "invalid to"},
		{name: "transfer to words", as: "admin", path: live("transfers"),
			body: map[string]any{"to": "reception"}, status: 422, error: "invalid to"},
		{name: "transfer with an unknown field", as: "admin", path: live("transfers"),
			body: map[string]any{"user": f.userA}, status: 422, error: "invalid user"},
		{name: "transfer with a user id as text", as: "admin", path: live("transfers"),
			body: map[string]any{"user_id": "alice"}, status: 422, error: "invalid user_id"},
		{name: "transfer with malformed JSON", as: "admin", path: live("transfers"),
			body: `{"user_id":`, status: 400, error: "malformed JSON"},
		{name: "transfer by an agent of another's call", as: "agent", path: callPath(c.others, "transfers"),
			body: map[string]any{"user_id": f.userA}, status: 403, error: "forbidden"},
		{name: "transfer the engine finds no target for", as: "admin", path: live("transfers"),
			body: map[string]any{"user_id": f.userA}, engine: dialplan.ErrNoTarget, status: 404, error: "not found", asked: true},
		{name: "transfer to the agent on the call", as: "agent", path: live("transfers"),
			body: map[string]any{"user_id": f.agent.user}, engine: dialplan.ErrSameAgent, status: 409, error: "conflict", asked: true},
		{name: "transfer during a transfer", as: "admin", path: live("transfers"),
			body: map[string]any{"team_id": f.teamA}, engine: dialplan.ErrTransferring, status: 409, error: "conflict", asked: true},

		// Supervision.
		{name: "supervise by an agent", as: "agent", path: live("supervise"),
			body: map[string]any{"mode": "listen", "user_id": c.sup.user}, status: 403, error: "forbidden"},
		{name: "supervise naming an agent", as: "admin", path: live("supervise"),
			body: map[string]any{"mode": "listen", "user_id": f.userA}, status: 422, error: "invalid user_id", says: "agent"},
		{name: "supervise naming a user of another company", as: "admin", path: live("supervise"),
			body: map[string]any{"mode": "listen", "user_id": f.userB}, status: 404, error: "not found"},
		{name: "supervise in an unknown mode", as: "supervisor", path: live("supervise"),
			body: map[string]any{"mode": "spy"}, status: 422, error: "invalid mode", says: "spy"},
		{name: "supervise with no mode", as: "supervisor", path: live("supervise"),
			body: map[string]any{}, status: 422, error: "invalid mode"},
		{name: "supervise by an admin with no phone", as: "admin", path: live("supervise"),
			body: map[string]any{"mode": "listen"}, status: 422, error: "invalid user_id", says: "no phone"},
		{name: "supervise an ended call", as: "supervisor", path: callPath(c.ended, "supervise"),
			body: map[string]any{"mode": "listen"}, status: 409, error: "conflict"},
		{name: "supervise while the supervisor's phone rings", as: "supervisor", path: live("supervise"),
			body: map[string]any{"mode": "barge"}, engine: dialplan.ErrStillRinging, status: 409, error: "conflict", asked: true},
		{name: "supervise a call with no agent", as: "supervisor", path: live("supervise"),
			body: map[string]any{"mode": "listen"}, engine: dialplan.ErrNotConnected, status: 409, error: "conflict", asked: true},
		// dialplan/control.go documents ErrUnreachable as a 422 (the
		// supervisor's phone cannot be rung: the user is wrong, not the
		// media server).
		{name: "supervise by a supervisor the engine cannot ring", as: "supervisor", path: live("supervise"),
			body: map[string]any{"mode": "listen"}, engine: dialplan.ErrUnreachable, status: 422, says: "no phone", asked: true},

		// Hanging up: admins only.
		{name: "hangup by a supervisor", as: "supervisor", path: live("hangup"), status: 403, error: "forbidden"},
		{name: "hangup by the call's agent", as: "agent", path: live("hangup"), status: 403, error: "forbidden"},
		{name: "hangup of an ended call", as: "admin", path: callPath(c.ended, "hangup"), status: 409, error: "conflict", says: "ended"},
		{name: "hangup of a call the engine does not run", as: "admin", path: live("hangup"),
			engine: dialplan.ErrNotLive, status: 409, error: "conflict", says: "not in progress", asked: true},

		// Hold and recording.
		{name: "hold of another's call by an agent", as: "agent", path: callPath(c.others, "hold"), status: 403, error: "forbidden"},
		{name: "hold of an ended call", as: "agent", path: callPath(c.ended, "hold"), status: 409, error: "conflict", says: "ended"},
		{name: "hold of another company's call", as: "globex", path: live("hold"), status: 404, error: "not found"},
		{name: "hold of no such call", as: "admin", path: callPath(c.globex+100, "hold"), status: 404, error: "not found"},
		{name: "hold of a call that is not an id", as: "admin", path: "/v1/calls/abc/hold", status: 404, error: "not found"},
		{name: "pause where the policy does not allow it", as: "agent", path: live("pause_recording"),
			engine: dialplan.ErrPauseNotAllowed, status: 409, error: "conflict", says: "allow", asked: true},
		{name: "resume a call not recorded", as: "supervisor", path: live("resume_recording"),
			engine: dialplan.ErrNotRecorded, status: 409, error: "conflict", asked: true},
		{name: "hold of a call the engine does not run", as: "agent", path: live("hold"),
			engine: dialplan.ErrNotLive, status: 409, error: "conflict", says: "not in progress", asked: true},
		{name: "unhold of a call not connected", as: "agent", path: live("unhold"),
			engine: dialplan.ErrNotConnected, status: 409, error: "conflict", says: "not connected", asked: true},
		{name: "hold the media server fails", as: "admin", path: live("hold"),
			engine: boom, status: 502, error: "media server error", says: "ari: 500", asked: true},
		{name: "hold the engine does not answer in time", as: "admin", path: live("hold"),
			engine: context.DeadlineExceeded, status: 504, error: "timeout", asked: true},
		{name: "an engine's field error", as: "admin", path: live("hold"),
			engine: &dialplan.FieldError{Field: "mode", Problem: "no"}, status: 422, error: "invalid mode", asked: true},

		// Click to call.
		{name: "click-to-call to a premium-rate number", as: "admin", path: dialPath(alice),
			body: map[string]any{"number_id": c.out, "to": "+33899123456"}, status: 422, error: "invalid to", says: "premium"},
		{name: "click-to-call to a country the company does not call", as: "admin", path: dialPath(alice),
			body: map[string]any{"to": "+44 20 7946 0000"}, status: 422, error: "invalid to", says: "+442079460000"},
		{name: "click-to-call to a blocked number", as: "admin", path: dialPath(alice),
			body: map[string]any{"to": "+33666666666"}, status: 422, error: "invalid to", says: "blocked"},
		{name: "click-to-call to nobody", as: "admin", path: dialPath(alice),
			body: map[string]any{"number_id": c.out}, status: 422, error: "invalid to"},
		{name: "click-to-call to words", as: "admin", path: dialPath(alice),
			body: map[string]any{"to": "the boss"}, status: 422, error: "invalid to"},
		{name: "click-to-call with a number not theirs", as: "admin", path: dialPath(alice),
			body: map[string]any{"number_id": f.numberA, "to": "+33145678901"}, status: 422, error: "invalid number_id", says: "outbound_users"},
		{name: "click-to-call with no number at all", as: "admin", path: dialPath(c.carol),
			body: map[string]any{"to": "+33145678901"}, status: 422, error: "invalid number_id", says: "outbound_users"},
		{name: "click-to-call with a number of another company", as: "admin", path: dialPath(alice),
			body: map[string]any{"number_id": f.numberB, "to": "+33145678901"}, status: 404, error: "not found"},
		{name: "click-to-call for a user of another company", as: "admin", path: dialPath(dialplan.UserID(f.userB)),
			body: map[string]any{"to": "+33145678901"}, status: 404, error: "not found"},
		{name: "click-to-call by an agent for another user", as: "agent", path: dialPath(alice),
			body: map[string]any{"to": "+33145678901"}, status: 403, error: "forbidden"},
		{name: "click-to-call by a supervisor for another user", as: "supervisor", path: dialPath(alice),
			body: map[string]any{"to": "+33145678901"}, status: 403, error: "forbidden"},
		{name: "click-to-call for a user with no device", as: "agent", path: dialPath(f.agent.user),
			body: map[string]any{"to": "+33145678901"}, status: 422, error: "invalid user", says: "device"},
		{name: "click-to-call with an unknown field", as: "admin", path: dialPath(alice),
			body: map[string]any{"to": "+33145678901", "from": "+33176390870"}, status: 422, error: "invalid from"},
		{name: "click-to-call for a user in a call", as: "admin", path: dialPath(alice),
			body: map[string]any{"to": "+33145678901"}, engine: dialplan.ErrAgentBusy, status: 409, error: "conflict",
			says: "already in a call", asked: true},
		{name: "click-to-call none of whose phones rang", as: "supervisor", path: dialPath(c.sup.user),
			body: map[string]any{"to": "+33145678901"}, engine: fmt.Errorf("%w: the media server rang none", dialplan.ErrUnreachable),
			status: 502, error: "media server error", asked: true},
		{name: "click-to-call the media server fails", as: "admin", path: dialPath(alice),
			body: map[string]any{"to": "+33145678901"}, engine: boom, status: 502, error: "media server error", asked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.engine.reset(tc.engine)
			before := e.written()
			var liveBefore map[string]any
			e.ok(f.a, "GET", fmt.Sprintf("/v1/calls/%d", c.live), nil, &liveBefore)

			status, out := e.do(keys[tc.as], "POST", tc.path, tc.body)
			require.Equal(t, tc.status, status, "%v", out)
			if tc.error != "" {
				require.Equal(t, tc.error, out["error"], "%v", out)
			}
			require.NotEmpty(t, out["troubleshoot"], "%v", out)
			require.Contains(t, fmt.Sprint(out["troubleshoot"], " ", out["detail"]), tc.says)

			acts, dials := c.engine.asked()
			if tc.asked {
				require.Equal(t, 1, len(acts)+len(dials), "the engine was asked once: %v %v", acts, dials)
			} else {
				require.Empty(t, acts, "the API refused before asking the engine")
				require.Empty(t, dials, "the API refused before asking the engine")
			}
			require.Equal(t, before, e.written(), "nothing was written")
			var liveAfter map[string]any
			e.ok(f.a, "GET", fmt.Sprintf("/v1/calls/%d", c.live), nil, &liveAfter)
			require.Equal(t, liveBefore, liveAfter, "the call in progress and its timeline are as they were")
		})
	}
}

// TestControlWithoutEngine: switchboard runs without a media server; the
// routes of calls in progress answer 503 and write nothing.
func TestControlWithoutEngine(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	call := f.call(now, func(c *dialplan.Call) { c.Status, c.User = dialplan.CallAnswered, dialplan.UserID(f.userA) })
	id := e.saveCall(&call, dialplan.TimelineEvent{Event: events.CallCreated, At: now})
	for _, tc := range []struct {
		path string
		body any
	}{
		{callPath(id, "hangup"), nil},
		{callPath(id, "hold"), nil},
		{callPath(id, "unhold"), nil},
		{callPath(id, "pause_recording"), nil},
		{callPath(id, "resume_recording"), nil},
		{callPath(id, "transfers"), map[string]any{"user_id": f.userA}},
		{callPath(id, "supervise"), map[string]any{"mode": "listen"}},
		{dialPath(dialplan.UserID(f.userA)), map[string]any{"to": "+33145678901"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			before := e.written()
			status, out := e.do(f.a, "POST", tc.path, tc.body)
			require.Equal(t, 503, status, "%v", out)
			require.Equal(t, "no media server", out["error"])
			require.Contains(t, out["troubleshoot"], "SWITCHBOARD_MEDIA")
			require.Equal(t, before, e.written())
		})
	}
}

// TestControlActions: what the API asks of the engine for each action, and
// that it answers with the call as it is now.
func TestControlActions(t *testing.T) {
	c := newControl(t)
	e, f := c.e, c.fixtures
	keys := map[string]key{"admin": f.a, "supervisor": c.sup, "agent": f.agent}
	alice := dialplan.UserID(f.userA)
	for _, tc := range []struct {
		name string
		as   string
		call dialplan.CallID
		verb string
		body any
		want dialplan.Action // By is set to the key's user
	}{
		{"hold by the call's agent", "agent", c.live, "hold", nil, dialplan.Action{Kind: dialplan.ActHold}},
		{"unhold by a supervisor", "supervisor", c.live, "unhold", nil, dialplan.Action{Kind: dialplan.ActUnhold}},
		{"pause by an admin", "admin", c.others, "pause_recording", nil, dialplan.Action{Kind: dialplan.ActPauseRecording}},
		{"resume by the call's agent", "agent", c.live, "resume_recording", nil, dialplan.Action{Kind: dialplan.ActResumeRecording}},
		{"hangup by an admin", "admin", c.live, "hangup", nil, dialplan.Action{Kind: dialplan.ActHangup}},
		{"transfer to a user", "agent", c.live, "transfers", map[string]any{"user_id": alice},
			dialplan.Action{Kind: dialplan.ActTransfer, To: dialplan.Transfer{Type: dialplan.TargetUser, ID: int64(alice)}}},
		{"cold transfer to a team", "supervisor", c.live, "transfers", map[string]any{"team_id": f.teamA, "mode": "cold"},
			dialplan.Action{Kind: dialplan.ActTransfer, To: dialplan.Transfer{Type: dialplan.TargetTeam, ID: f.teamA}}},
		{"transfer to a number", "admin", c.others, "transfers", map[string]any{"number_id": c.out},
			dialplan.Action{Kind: dialplan.ActTransfer, To: dialplan.Transfer{Type: dialplan.TargetNumber, ID: c.out}}},
		{"transfer to a national number", "agent", c.live, "transfers", map[string]any{"to": "01 45 67 89 01"},
			dialplan.Action{Kind: dialplan.ActTransfer, To: dialplan.Transfer{Type: dialplan.TargetExternal, Digits: "+33145678901"}}},
		{"transfer with null targets left out", "agent", c.live, "transfers", `{"user_id": null, "to": "+33 6 12 34 56 79"}`,
			dialplan.Action{Kind: dialplan.ActTransfer, To: dialplan.Transfer{Type: dialplan.TargetExternal, Digits: "+33612345679"}}},
		{"supervise as oneself", "supervisor", c.live, "supervise", map[string]any{"mode": "listen"},
			dialplan.Action{Kind: dialplan.ActSupervise, Supervisor: c.sup.user, Mode: dialplan.Listen}},
		{"supervise for a supervisor", "admin", c.live, "supervise", map[string]any{"mode": "whisper", "user_id": c.sup.user},
			dialplan.Action{Kind: dialplan.ActSupervise, Supervisor: c.sup.user, Mode: dialplan.Whisper}},
		{"supervise on an external number", "admin", c.others, "supervise", map[string]any{"mode": "barge", "user_id": c.xavier},
			dialplan.Action{Kind: dialplan.ActSupervise, Supervisor: c.xavier, Mode: dialplan.Barge}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.engine.reset(nil)
			k := keys[tc.as]
			status, out := e.do(k, "POST", callPath(tc.call, tc.verb), tc.body)
			if aircall := tc.verb == "transfers" || strings.HasSuffix(tc.verb, "_recording"); aircall {
				require.Equal(t, 204, status, "Aircall's actions answer as Aircall's: %v", out)
			} else {
				require.Equal(t, 200, status, "%v", out)
				var current map[string]any
				e.ok(f.a, "GET", fmt.Sprintf("/v1/calls/%d", tc.call), nil, &current)
				require.Equal(t, current["call"], out["call"], "the answer is the call as it is now")
				require.Equal(t, float64(tc.call), out["call"].(map[string]any)["id"])
			}

			want := tc.want
			want.By = k.user
			acts, dials := c.engine.asked()
			require.Equal(t, []acted{{f.a.company, tc.call, want}}, acts)
			require.Empty(t, dials)
		})
	}
}

// TestClickToCall: the engine gets the user, the number and the
// destination in E.164; the answer is the call it made.
func TestClickToCall(t *testing.T) {
	c := newControl(t)
	e, f := c.e, c.fixtures
	// The engine writes the call before it answers, as the real one does.
	c.engine.dial = func(co dialplan.Company, o dialplan.OutboundCall) (dialplan.CallID, error) {
		call := dialplan.Call{Company: co.ID, Number: o.Number.ID, Direction: dialplan.Outbound, Status: dialplan.CallInitial,
			RawDigits: o.To, User: o.User.ID, StartedAt: now}
		return e.saveCall(&call, dialplan.TimelineEvent{Event: events.CallCreated, At: now, User: o.User.ID,
			Data: events.Created{To: o.To}}), nil
	}
	alice := dialplan.UserID(f.userA)
	for _, tc := range []struct {
		name   string
		k      key
		user   dialplan.UserID
		body   map[string]any
		number int64
		to     string
	}{
		{"an admin for a user, with a national number", f.a, alice,
			map[string]any{"number_id": c.out, "to": "01 45 67 89 01"}, c.out, "+33145678901"},
		{"the default number", f.a, alice, map[string]any{"to": "+33 6 12 34 56 78"}, c.out, "+33612345678"},
		{"a supervisor for themselves", c.sup, c.sup.user, map[string]any{"to": "01.45.67.89.02"}, c.out, "+33145678902"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.engine.reset(nil)
			raw, err := json.Marshal(tc.body)
			require.NoError(t, err)
			res, body := e.send(tc.k, "POST", dialPath(tc.user), raw, map[string]string{"Content-Type": "application/json"})
			require.Equal(t, 204, res.StatusCode, "as Aircall's: %s", body)
			require.Empty(t, body)

			acts, dials := c.engine.asked()
			require.Empty(t, acts)
			require.Len(t, dials, 1)
			d := dials[0]
			require.Equal(t, f.a.company, d.company)
			require.Equal(t, tc.user, d.call.User.ID)
			require.NotEmpty(t, d.call.User.Devices, "the user as stored, with their phones")
			require.Equal(t, dialplan.NumberID(tc.number), d.call.Number.ID)
			require.Equal(t, tc.to, d.call.To)

			var stored map[string]map[string]any
			e.ok(f.a, "GET", res.Header.Get("Location"), nil, &stored)
			call := stored["call"]
			require.Equal(t, res.Header.Get("Location"), call["direct_link"], "Location links the call the engine made")
			require.Equal(t, "outbound", call["direction"])
			require.Equal(t, "initial", call["status"])
			require.Equal(t, tc.to, call["raw_digits"])
			require.Equal(t, float64(tc.number), call["number"].(map[string]any)["id"])
			require.Equal(t, float64(tc.user), call["user"].(map[string]any)["id"])
		})
	}

	// Aircall's name for it: the same call, no content.
	c.engine.reset(nil)
	res, body := e.get(f.a, "POST", fmt.Sprintf("/v1/users/%d/dial", alice), nil)
	require.Equal(t, 400, res.StatusCode, "no body: %s", body)
	status, out := e.do(f.a, "POST", fmt.Sprintf("/v1/users/%d/dial", alice), map[string]any{"to": "+33 6 12 34 56 79"})
	require.Equal(t, 204, status, "%v", out)
	require.Nil(t, out)
	_, dials := c.engine.asked()
	require.Len(t, dials, 1)
	require.Equal(t, "+33612345679", dials[0].call.To)
	status, out = e.do(c.sup, "POST", fmt.Sprintf("/v1/users/%d/dial", alice), map[string]any{"to": "+33612345679"})
	require.Equal(t, 403, status, "the same roles: %v", out)
}
