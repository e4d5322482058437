package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scenario is one of TestScenarios: it runs on every backend.
type scenario = struct {
	name string
	run  func(t *testing.T, a *app, b backend, c company)
}

// action posts an action on a call in progress and returns the status.
func (a *app) action(id int64, what string, body any) int {
	a.t.Helper()
	var out map[string]any
	status := a.do("POST", fmt.Sprintf("/v1/calls/%d/%s", id, what), body, &out)
	if status >= 300 {
		a.t.Logf("POST /v1/calls/%d/%s: %d %v", id, what, status, out)
	}
	return status
}

// firstHeard is when the caller heard their first packet, which its
// audio windows count from; now where no audio flows (an emulator).
func firstHeard(call caller) time.Time {
	if c, ok := call.(interface{ firstPacket() time.Time }); ok && !c.firstPacket().IsZero() {
		return c.firstPacket()
	}
	return time.Now()
}

// count says how many times kind is in events.
func count(events []string, kind string) int {
	n := 0
	for _, e := range events {
		if e == kind {
			n++
		}
	}
	return n
}

// actionScenarios are the calls in the agents' hands: hold, transfers,
// recording controls, supervision, hanging up, click to call.
var actionScenarios = []scenario{
	{"an agent puts the caller on hold: the caller hears music, not the agent, then the agent again", func(t *testing.T, a *app, b backend, c company) {
		rcv := newReceiver(t)
		rcv.subscribe(a)
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 11 * time.Second, say: 1000})
		call := b.call(t, caller1, aliceLine, script{listen: true})
		id := a.waitCall("answered")
		time.Sleep(2 * time.Second)
		first := firstHeard(call)
		held := time.Since(first)
		require.Equal(t, 200, a.action(id, "hold", nil))
		require.Equal(t, 200, a.action(id, "hold", nil), "holding a held call does nothing")
		time.Sleep(5 * time.Second)
		unheld := time.Since(first)
		require.Equal(t, 200, a.action(id, "unhold", nil))
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.Subset(t, got.events(), []string{"call.answered", "call.hold", "call.unhold", "call.ended"})
		require.Equal(t, 1, count(got.events(), "call.hold"), "%v", got.events())
		rcv.waitFor("call.hold", "call.unhold") // Aircall's webhooks
		rcv.check()
		if b.audio() {
			// What the caller heard, half a second at a time, for the
			// failure message.
			var profile []string
			for at := time.Duration(0); at < unheld+3*time.Second; at += 500 * time.Millisecond {
				pcm := call.audioBetween(at, at+500*time.Millisecond)
				profile = append(profile, fmt.Sprintf("%.1fs:%v/%.2f", at.Seconds(), loud(pcm), power(pcm, 1000)))
			}
			before := call.audioBetween(300*time.Millisecond, held-300*time.Millisecond)
			during := call.audioBetween(held+1500*time.Millisecond, unheld-300*time.Millisecond)
			after := call.audioBetween(unheld+700*time.Millisecond, unheld+2500*time.Millisecond)
			require.Greater(t, power(before, 1000), 0.5, "the caller hears the agent before the hold; held at %v, unheld at %v: %v", held, unheld, profile)
			require.Greater(t, loud(during), time.Second, "music on hold; held at %v, unheld at %v: %v", held, unheld, profile)
			require.Less(t, power(during, 1000), 0.2, "the caller does not hear the agent on hold: %v", profile)
			require.Greater(t, power(after, 1000), 0.5, "the caller hears the agent again: %v", profile)
		}
	}},
	{"a cold transfer: Bob answers and takes the call, Alice is free", func(t *testing.T, a *app, b backend, c company) {
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 30 * time.Second})
		b.phone(t, "bob", phone{answerAfter: 500 * time.Millisecond, hangupAfter: 1500 * time.Millisecond})
		call := b.call(t, caller1, aliceLine, script{})
		id := a.waitCall("answered")
		require.Equal(t, 204, a.action(id, "transfers", map[string]any{"user_id": c.bob}))
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.bob, got.answeredBy(), "%v", got.events())
		require.Subset(t, got.events(), []string{"call.transferred", "call.ringing_on_agent", "call.answered", "call.ended"})
		require.Equal(t, 2, count(got.events(), "call.answered"), "%v", got.events())
		require.NotNil(t, got.TransferTarget, "%v", got.events())
		a.waitAvailability(c.alice, "available")
	}},
	{"a warm transfer: Alice talks to Bob while the caller waits, then hands the caller over", func(t *testing.T, a *app, b backend, c company) {
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 30 * time.Second, listen: true})
		b.phone(t, "bob", phone{answerAfter: 300 * time.Millisecond, hangupAfter: 6 * time.Second, say: 1200})
		call := b.call(t, caller1, aliceLine, script{listen: true})
		id := a.waitCall("answered")
		require.Equal(t, 204, a.action(id, "transfers", map[string]any{"user_id": c.bob, "mode": "warm"}))
		require.Equal(t, 409, a.action(id, "hold", nil), "the caller is held for the transfer already")
		// Alice and Bob talk for a while, then she completes the transfer
		// (409 while Bob's phone rings).
		time.Sleep(2 * time.Second)
		first := firstHeard(call)
		var completed time.Duration
		require.Eventually(t, func() bool {
			if a.action(id, "transfers/complete", nil) != 200 {
				return false
			}
			completed = time.Since(first)
			return true
		}, 10*time.Second, 100*time.Millisecond, "the transfer never completed")
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.bob, got.answeredBy(), "%v", got.events())
		events := got.events()
		require.Less(t, slices.Index(events, "call.warm_transfer_started"), slices.Index(events, "call.transferred"), "%v", events)
		require.Equal(t, 2, count(events, "call.answered"), "%v", events)
		a.waitAvailability(c.alice, "available")
		if b.audio() {
			require.Greater(t, power(b.heard("alice", 30*time.Second), 1200), 0.3, "Alice talked with Bob")
			before := call.audioBetween(completed-1500*time.Millisecond, completed-200*time.Millisecond)
			after := call.audioBetween(completed+700*time.Millisecond, completed+2500*time.Millisecond)
			require.Less(t, power(before, 1200), 0.2, "the caller, on hold, does not hear Bob and Alice")
			require.Greater(t, loud(before), 500*time.Millisecond, "but music")
			require.Greater(t, power(after, 1200), 0.5, "then talks with Bob")
		}
	}},
	{"a warm transfer cancelled: the caller is back with Alice", func(t *testing.T, a *app, b backend, c company) {
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 8 * time.Second})
		b.phone(t, "bob", phone{answerAfter: 300 * time.Millisecond, hangupAfter: 30 * time.Second})
		call := b.call(t, caller1, aliceLine, script{})
		id := a.waitCall("answered")
		require.Equal(t, 204, a.action(id, "transfers", map[string]any{"user_id": c.bob, "mode": "warm"}))
		require.Equal(t, 200, a.action(id, "transfers/cancel", nil))
		require.Equal(t, 409, a.action(id, "transfers/cancel", nil), "nothing left to cancel")
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.Subset(t, got.events(), []string{"call.warm_transfer_started", "call.unsuccessful_transfer"})
		a.waitAvailability(c.bob, "available")
	}},
	{"Alice's phone transfers the call to Bob's extension (a blind REFER)", func(t *testing.T, a *app, b backend, c company) {
		var bob struct{ User struct{ Extension string } }
		require.Equal(t, 200, a.do("GET", fmt.Sprintf("/v1/users/%d", c.bob), nil, &bob))
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: time.Second, refer: bob.User.Extension})
		b.phone(t, "bob", phone{answerAfter: 500 * time.Millisecond, hangupAfter: 1500 * time.Millisecond})
		b.call(t, caller1, aliceLine, script{}).ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.bob, got.answeredBy(), "%v", got.events())
		require.Subset(t, got.events(), []string{"call.transferred", "call.ringing_on_agent", "call.answered", "call.ended"})
		require.Equal(t, 2, count(got.events(), "call.answered"), "%v", got.events())
		a.waitAvailability(c.alice, "available")
	}},
	{"a transfer Bob refuses comes back to Alice", func(t *testing.T, a *app, b backend, c company) {
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 4 * time.Second})
		b.phone(t, "bob", phone{busy: true})
		call := b.call(t, caller1, aliceLine, script{})
		id := a.waitCall("answered")
		require.Equal(t, 204, a.action(id, "transfers", map[string]any{"user_id": c.bob}))
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		events := got.events()
		require.Less(t, slices.Index(events, "call.transferred"), slices.Index(events, "call.unsuccessful_transfer"), "%v", events)
		require.Nil(t, got.TransferTarget, "%v", events)
	}},
	{"a transfer to an external number", func(t *testing.T, a *app, b backend, c company) {
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 30 * time.Second})
		b.external(t, "+33145678901", phone{answerAfter: 300 * time.Millisecond, hangupAfter: time.Second})
		call := b.call(t, caller1, aliceLine, script{})
		id := a.waitCall("answered")
		require.Equal(t, 204, a.action(id, "transfers", map[string]any{"to": "01 45 67 89 01"}))
		call.ended(t)
		got := a.calls(1)[0]
		require.Subset(t, got.events(), []string{"call.transferred", "call.answered", "call.ended"})
		require.Equal(t, 2, count(got.events(), "call.answered"), "%v", got.events())
		a.waitAvailability(c.alice, "available")
	}},
	{"a supervisor listens, then whispers: only the agent hears them", func(t *testing.T, a *app, b backend, c company) {
		require.Equal(t, 200, a.do("PUT", fmt.Sprintf("/v1/users/%d", c.carol), map[string]any{"role": "supervisor"}, nil))
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 9 * time.Second, listen: true})
		b.phone(t, "carol", phone{answerAfter: 200 * time.Millisecond, say: 1500})
		call := b.call(t, caller1, aliceLine, script{listen: true})
		id := a.waitCall("answered")
		require.Equal(t, 200, a.action(id, "supervise", map[string]any{"mode": "listen", "user_id": c.carol}))
		// Once Carol's phone is connected, she whispers to Alice.
		require.Eventually(t, func() bool {
			return a.action(id, "supervise", map[string]any{"mode": "whisper", "user_id": c.carol}) == 200
		}, 10*time.Second, 100*time.Millisecond, "Carol never joined")
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.Equal(t, 2, count(got.events(), "call.supervised"), "%v", got.events())
		require.Contains(t, got.events(), "call.supervision_ended")
		if b.audio() {
			// Nobody else says anything: what Alice and the caller hear
			// of the whole call is Carol, or nothing.
			alice := b.heard("alice", 20*time.Second)
			require.Greater(t, loud(alice), time.Second, "Alice hears Carol's whisper")
			require.Greater(t, power(alice, 1500), 0.3, "Alice hears Carol's whisper")
			require.Less(t, loud(call.audio(20*time.Second)), 200*time.Millisecond, "the caller does not")
		}
	}},
	{"an admin hangs up a call in progress; pausing a recording the number does not allow is refused", func(t *testing.T, a *app, b backend, c company) {
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 30 * time.Second})
		call := b.call(t, caller1, aliceLine, script{})
		id := a.waitCall("answered")
		require.Equal(t, 409, a.action(id, "pause_recording", nil), "the call is not recorded")
		require.Equal(t, 200, a.action(id, "hangup", nil))
		call.ended(t)
		got := a.calls(1)[0]
		require.Subset(t, got.events(), []string{"call.answered", "call.hangup_requested", "call.hungup", "call.ended"})
		require.Equal(t, 409, a.action(id, "hold", nil), "an ended call takes no action")
		require.Equal(t, 409, a.action(id, "transfers", map[string]any{"user_id": c.bob}))
		a.waitAvailability(c.alice, "available")
	}},
	{"a recording paused and resumed where the number allows it", func(t *testing.T, a *app, b backend, c company) {
		a.create("/v1/numbers", "number", map[string]any{"name": "Recorded", "digits": "+33176390891",
			"recording":    map[string]any{"inbound": map[string]any{"auto": true, "allow_pause": true}},
			"distribution": []any{map[string]any{"type": "user", "id": c.carol, "ring_seconds": 5}}})
		b.phone(t, "carol", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 4 * time.Second, say: 1000})
		call := b.call(t, caller1, "+33176390891", script{say: 440})
		id := a.waitCall("answered")
		time.Sleep(500 * time.Millisecond)
		require.Equal(t, 204, a.action(id, "pause_recording", nil), "as Aircall's")
		time.Sleep(time.Second)
		require.Equal(t, 204, a.action(id, "resume_recording", nil))
		call.ended(t)
		got := a.calls(1)[0]
		require.Subset(t, got.events(), []string{"call.recording_started", "call.recording_paused", "call.recording_resumed"})
		require.NotNil(t, got.Recording, "%v", got.events())
		downloadWAV(t, a, *got.Recording)
	}},
	{"a user dials out from a desk phone: the call goes out from their line", func(t *testing.T, a *app, b backend, c company) {
		dave := a.create("/v1/users", "user", map[string]any{"first_name": "Dave", "email": "dave@acme.test",
			"devices": []string{b.deskDevice("alice")}})
		line := a.create("/v1/numbers", "number", map[string]any{"name": "Dave's line", "digits": "+33176390896",
			"outbound_users": []int64{dave}})
		// A second line, chosen by dialling *81 first.
		sales := a.create("/v1/numbers", "number", map[string]any{"name": "Sales", "digits": "+33176390898",
			"outbound_users": []int64{dave}, "outbound_prefix": "81"})
		b.external(t, "+33612121212", phone{answerAfter: 300 * time.Millisecond, hangupAfter: 1500 * time.Millisecond})
		b.deskCall(t, "alice", "0612121212", script{}).ended(t)
		b.deskCall(t, "alice", "*810612121212", script{}).ended(t)
		calls := a.calls(2)
		for i, want := range []int64{line, sales} {
			got := calls[i]
			require.Equal(t, "outbound", got.Direction)
			require.Equal(t, dave, got.answeredBy(), "%v", got.events())
			require.NotNil(t, got.AnsweredAt, "%v", got.events())
			require.Equal(t, []string{"call.created", "call.answered", "call.hungup", "call.ended"}, got.events())
			var full struct {
				Call struct {
					RawDigits string `json:"raw_digits"`
					Number    struct {
						ID int64 `json:"id"`
					} `json:"number"`
				} `json:"call"`
			}
			require.Equal(t, 200, a.do("GET", fmt.Sprintf("/v1/calls/%d", got.ID), nil, &full))
			require.Equal(t, "+33612121212", full.Call.RawDigits)
			require.Equal(t, want, full.Call.Number.ID, "call %d: Dave's default number, then the one of prefix 81", i)
		}
	}},
	{"a desk phone dials a premium-rate number: refused, with a message, and recorded", func(t *testing.T, a *app, b backend, c company) {
		dave := a.create("/v1/users", "user", map[string]any{"first_name": "Dave", "email": "dave@acme.test",
			"devices": []string{b.deskDevice("alice")}})
		a.create("/v1/numbers", "number", map[string]any{"name": "Dave's line", "digits": "+33176390896",
			"outbound_users": []int64{dave}})
		call := b.deskCall(t, "alice", "0899123456", script{})
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, "outbound", got.Direction)
		require.Nil(t, got.AnsweredAt, "%v", got.events())
		require.Equal(t, []string{"call.created", "call.outbound_refused", "call.hungup", "call.ended"}, got.events())
		require.Equal(t, "premium_rate", got.Timeline[1].Data["reason"])
		// The suite's own event connection may tell of the playback a
		// moment after the call ended, later on a machine busy with the
		// whole suite (once seen beyond 5 s in CI).
		require.Eventually(t, func() bool { return len(call.heard()) > 0 }, 20*time.Second, 20*time.Millisecond,
			"the user heard why")
	}},
	{"a transfer to the team rings its members, and one takes the call", func(t *testing.T, a *app, b backend, c company) {
		// The team is Alice and Bob: Alice, on the call, is not rung.
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 30 * time.Second})
		b.phone(t, "bob", phone{answerAfter: 500 * time.Millisecond, hangupAfter: 1500 * time.Millisecond})
		call := b.call(t, caller1, aliceLine, script{})
		id := a.waitCall("answered")
		require.Equal(t, 204, a.action(id, "transfers", map[string]any{"team_id": c.team}))
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.bob, got.answeredBy(), "%v", got.events())
		require.Equal(t, []int64{c.alice, c.bob}, rung(got), "%v", got.events())
		a.waitAvailability(c.alice, "available")
	}},
	{"a transfer to a number: the caller enters its flow", func(t *testing.T, a *app, b backend, c company) {
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 30 * time.Second})
		b.phone(t, "carol", phone{answerAfter: 500 * time.Millisecond, hangupAfter: 1500 * time.Millisecond})
		line := a.create("/v1/numbers", "number", map[string]any{"name": "Carol direct", "digits": "+33176390897",
			"distribution": []any{map[string]any{"type": "user", "id": c.carol, "ring_seconds": 5}}})
		call := b.call(t, caller1, aliceLine, script{})
		id := a.waitCall("answered")
		require.Equal(t, 204, a.action(id, "transfers", map[string]any{"number_id": line}))
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, c.carol, got.answeredBy(), "%v", got.events())
		require.Equal(t, "number", got.TransferTarget["type"], "%v", got.TransferTarget)
		a.waitAvailability(c.alice, "available")
	}},
	{"a supervisor barges in: the caller hears them too", func(t *testing.T, a *app, b backend, c company) {
		require.Equal(t, 200, a.do("PUT", fmt.Sprintf("/v1/users/%d", c.carol), map[string]any{"role": "supervisor"}, nil))
		b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 7 * time.Second, listen: true})
		b.phone(t, "carol", phone{answerAfter: 200 * time.Millisecond, say: 1500})
		call := b.call(t, caller1, aliceLine, script{listen: true})
		id := a.waitCall("answered")
		require.Equal(t, 200, a.action(id, "supervise", map[string]any{"mode": "barge", "user_id": c.carol}))
		call.ended(t)
		got := a.calls(1)[0]
		require.Equal(t, 1, count(got.events(), "call.supervised"), "%v", got.events())
		if b.audio() {
			require.Greater(t, power(b.heard("alice", 20*time.Second), 1500), 0.3, "Alice hears Carol")
			require.Greater(t, power(call.audio(20*time.Second), 1500), 0.3, "and so does the caller")
		}
	}},
	{"a desk phone dials a colleague's extension: an internal call, not in the call log", func(t *testing.T, a *app, b backend, c company) {
		a.create("/v1/users", "user", map[string]any{"first_name": "Dave", "email": "dave@acme.test",
			"devices": []string{b.deskDevice("alice")}})
		var bob struct{ User struct{ Extension string } }
		require.Equal(t, 200, a.do("GET", fmt.Sprintf("/v1/users/%d", c.bob), nil, &bob))
		b.phone(t, "bob", phone{answerAfter: 300 * time.Millisecond, hangupAfter: time.Second})
		// The desk phone's call ends well only if Bob answered (a
		// refusal fails the caller).
		b.deskCall(t, "alice", bob.User.Extension, script{}).ended(t)
		var list struct{ Calls []any }
		require.Equal(t, 200, a.do("GET", "/v1/calls", nil, &list))
		require.Empty(t, list.Calls)
		a.waitAvailability(c.bob, "available")
	}},
	{"click to call: Alice's phone rings, then the destination, and they talk", func(t *testing.T, a *app, b backend, c company) {
		line := a.create("/v1/numbers", "number", map[string]any{"name": "Outbound", "digits": "+33176390895",
			"outbound_users": []int64{c.alice}})
		b.phone(t, "alice", phone{answerAfter: 200 * time.Millisecond, hangupAfter: 30 * time.Second})
		b.external(t, "+33612121212", phone{answerAfter: 500 * time.Millisecond, hangupAfter: 1500 * time.Millisecond})
		body, err := json.Marshal(map[string]any{"number_id": line, "to": "06 12 12 12 12"})
		require.NoError(t, err)
		req, err := http.NewRequest("POST", a.url+fmt.Sprintf("/v1/users/%d/calls", c.alice), bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		res, answer := a.send(req)
		require.Equal(t, 204, res.StatusCode, "as Aircall's: %s", answer)
		placed := res.Header.Get("Location")
		require.True(t, strings.HasPrefix(placed, a.url+"/v1/calls/"), "Location links the call: %q", placed)
		var out struct{ Call callRecord }
		require.Equal(t, 200, a.do("GET", strings.TrimPrefix(placed, a.url), nil, &out))
		got := a.calls(1)[0]
		require.Equal(t, out.Call.ID, got.ID)
		require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
		require.NotNil(t, got.AnsweredAt, "%v", got.events())
		require.Nil(t, got.MissedCallReason)
		require.Equal(t, []string{"call.created", "call.answered", "call.hungup", "call.ended"}, got.events())
		a.waitAvailability(c.alice, "available")
	}},
}
