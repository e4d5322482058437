package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	classicLine = "+33176390861"
	ivrLine     = "+33176390870"
	aliceLine   = "+33176390880"
	caller1     = "+33612345678"
	caller2     = "+33698765432"
)

// company is what the suite configures through the API.
type company struct {
	alice, bob, carol, team int64
}

func configure(t *testing.T, a *app, b backend) company {
	var c company
	user := func(name string) int64 {
		return a.create("/v1/users", "user", map[string]any{"first_name": name, "email": name + "@acme.test",
			"devices": []string{b.device(name)}})
	}
	c.alice, c.bob, c.carol = user("alice"), user("bob"), user("carol")
	c.team = a.create("/v1/teams", "team", map[string]any{"name": "Support", "users": []int64{c.alice, c.bob}})
	a.create("/v1/numbers", "number", map[string]any{"name": "Support line", "digits": classicLine,
		"distribution": []any{map[string]any{"type": "team", "id": c.team, "ring_seconds": 5}}})
	a.create("/v1/numbers", "number", map[string]any{"name": "Standard", "digits": ivrLine, "type": "ivr",
		"ivr_options": []any{
			map[string]any{"key": "1", "target": map[string]any{"type": "user", "id": c.carol}},
			map[string]any{"key": "2", "target": map[string]any{"type": "team", "id": c.team}}}})
	a.create("/v1/numbers", "number", map[string]any{"name": "Alice direct", "digits": aliceLine, "voicemail": false,
		"distribution": []any{map[string]any{"type": "user", "id": c.alice, "ring_seconds": 5}}})
	return c
}

func rung(c callRecord) []int64 {
	var ids []int64
	for _, e := range c.Timeline {
		if e.Event == "call.ringing_on_agent" && e.UserID != nil {
			ids = append(ids, *e.UserID)
		}
	}
	return ids
}

// TestScenarios runs every scenario on every backend; each scenario has
// its own switchboard and database, and on an emulator its own media
// server, where scenarios run in parallel. A real server is shared: there
// they run one after the other.
func TestScenarios(t *testing.T) {
	ms := time.Millisecond
	scenarios := []struct {
		name string
		run  func(t *testing.T, a *app, b backend, c company)
	}{
		{"a classic number rings the team and an agent answers", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{ring: true})
			b.phone(t, "bob", phone{answerAfter: 300 * ms, hangupAfter: 500 * ms})
			b.call(t, caller1, classicLine, script{}).ended(t)
			calls := a.calls(1)
			got := calls[0]
			require.Nil(t, got.MissedCallReason, "%v", got.events())
			require.Equal(t, c.bob, got.answeredBy(), "%v", got.events())
			require.ElementsMatch(t, []int64{c.alice, c.bob}, rung(got))
			require.Subset(t, got.events(), []string{"call.created", "call.ringing_on_agent", "call.answered", "call.hungup", "call.ended"})
			require.Equal(t, "available", a.availability(c.bob), "Bob is free again after the call")
		}},
		{"an IVR choice rings the chosen agent", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "carol", phone{answerAfter: 200 * ms, hangupAfter: 300 * ms})
			b.call(t, caller1, ivrLine, script{digits: map[time.Duration]string{500 * ms: "1"}}).ended(t)
			got := a.calls(1)[0]
			require.Equal(t, []string{"1"}, got.keys(), "%v", got.events())
			require.Equal(t, c.carol, got.answeredBy(), "%v", got.events())
			require.Contains(t, got.events(), "call.ivr_option_selected")
		}},
		{"nobody answers: the caller leaves a voicemail", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{ring: true})
			b.phone(t, "bob", phone{ring: true})
			// The caller speaks all along, through the greeting and the
			// beep (5 s of ringing, then a few seconds of greeting on a
			// real server), then hangs up.
			b.call(t, caller1, classicLine, script{say: 440, hangupAfter: 16 * time.Second}).ended(t)
			got := a.calls(1)[0]
			require.NotNil(t, got.MissedCallReason, "%v", got.events())
			require.Equal(t, "agents_did_not_answer", *got.MissedCallReason)
			require.Subset(t, got.events(), []string{"call.agent_no_answer", "call.voicemail_left"})
			require.NotNil(t, got.Voicemail, "%v", got.events())
			wav := downloadWAV(t, a, *got.Voicemail)
			if b.audio() {
				pcm, err := wavSamples(wav)
				require.NoError(t, err)
				require.Greater(t, loud(pcm), 2*time.Second, "the message is the caller speaking, not silence")
				require.Greater(t, power(pcm, 440), 0.5, "in the caller's voice")
			}
		}},
		{"a caller who says nothing leaves no voicemail", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{ring: true})
			b.phone(t, "bob", phone{ring: true})
			b.call(t, caller1, classicLine, script{hangupAfter: 16 * time.Second}).ended(t)
			got := a.calls(1)[0]
			require.Equal(t, "agents_did_not_answer", *got.MissedCallReason, "%v", got.events())
			require.Nil(t, got.Voicemail, "%v", got.events())
			discarded := slices.IndexFunc(got.Timeline, func(e timelineEvent) bool { return e.Event == "call.voicemail_discarded" })
			require.GreaterOrEqual(t, discarded, 0, "the timeline says why there is no voicemail: %v", got.events())
			require.Equal(t, "silent", got.Timeline[discarded].Data["reason"])
		}},
		{"a busy agent declines and the other answers", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{busy: true})
			b.phone(t, "bob", phone{answerAfter: 500 * ms, hangupAfter: 300 * ms})
			b.call(t, caller1, classicLine, script{}).ended(t)
			got := a.calls(1)[0]
			require.Equal(t, c.bob, got.answeredBy(), "%v", got.events())
			require.Contains(t, got.events(), "call.agent_declined")
		}},
		{"the caller hangs up while agents ring", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{ring: true})
			b.phone(t, "bob", phone{ring: true})
			b.call(t, caller1, classicLine, script{hangupAfter: 1500 * ms}).ended(t)
			got := a.calls(1)[0]
			require.NotNil(t, got.MissedCallReason, "%v", got.events())
			require.Equal(t, "short_abandoned", *got.MissedCallReason)
		}},
		{"a TTS welcome and an uploaded IVR prompt play, in order, and the caller hears them", func(t *testing.T, a *app, b backend, c company) {
			file := filepath.Join(t.TempDir(), "menu.wav")
			out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=700:duration=1",
				"-ar", "22050", "-ac", "2", file).CombinedOutput()
			require.NoError(t, err, "ffmpeg makes the test's IVR prompt (CI installs it): %s", out)
			tone, err := os.ReadFile(file)
			require.NoError(t, err)
			media := a.upload("menu.wav", tone)
			a.create("/v1/numbers", "number", map[string]any{"name": "Voice", "digits": "+33176390890", "type": "ivr",
				"message_settings": map[string]any{
					"welcome": map[string]any{"type": "tts", "text": "Bienvenue chez Acme", "language": "fr"},
					"ivr":     map[string]any{"type": "media", "media_id": media["id"]}},
				"ivr_options": []any{map[string]any{"key": "1", "target": map[string]any{"type": "user", "id": c.carol}}}})
			b.phone(t, "carol", phone{answerAfter: 100 * ms, hangupAfter: 200 * ms})
			// The welcome lasts 1.2 s and the menu 1 s: the caller presses
			// 1 once both are over, within the 3 s the menu waits.
			call := b.call(t, caller1, "+33176390890", script{digits: map[time.Duration]string{2800 * ms: "1"}, listen: true})
			call.ended(t)
			heard := call.heard()
			require.GreaterOrEqual(t, len(heard), 2, "%v", heard)
			require.Contains(t, heard[0], "/media/prompts/", "the welcome is our rendered speech: %v", heard)
			require.Contains(t, heard[1], "/media/prompts/"+media["sha256"].(string)+".wav", "then the uploaded menu: %v", heard)
			require.NotEqual(t, heard[0], heard[1])
			if b.audio() {
				// Fetched over HTTP by the media server and played: the
				// caller heard both, the menu's 700 Hz among them.
				pcm := call.audio(2500 * ms)
				require.Greater(t, loud(pcm), 1800*ms, "the caller heard the welcome and the menu")
				require.Greater(t, power(pcm, 700), 0.15, "the uploaded menu among what the caller heard")
			}
			got := a.calls(1)[0]
			var played []string
			for _, e := range got.Timeline {
				if e.Event == "call.message_played" {
					played = append(played, e.Data["message"].(string))
				}
			}
			require.Equal(t, []string{"welcome", "ivr"}, played, "%v", got.events())
			require.NotContains(t, got.events(), "call.message_failed")
			require.Equal(t, c.carol, got.answeredBy(), "%v", got.events())
		}},
		{"a recorded conversation is downloaded with both parties' voices", func(t *testing.T, a *app, b backend, c company) {
			a.create("/v1/numbers", "number", map[string]any{"name": "Recorded", "digits": "+33176390891",
				"recording":    map[string]any{"inbound": map[string]any{"auto": true}},
				"distribution": []any{map[string]any{"type": "user", "id": c.carol, "ring_seconds": 5}}})
			b.phone(t, "carol", phone{answerAfter: 100 * ms, hangupAfter: 3 * time.Second, say: 1000})
			b.call(t, caller1, "+33176390891", script{say: 440}).ended(t)
			got := a.calls(1)[0]
			require.Contains(t, got.events(), "call.recording_started")
			require.NotNil(t, got.Recording, "%v", got.events())
			require.Regexp(t, "^"+a.url+fmt.Sprintf(`/v1/calls/%d/recording\?expires=\d+&signature=[A-Za-z0-9_-]{43}$`, got.ID), *got.Recording)
			wav := downloadWAV(t, a, *got.Recording)
			if b.audio() {
				pcm, err := wavSamples(wav)
				require.NoError(t, err)
				require.Greater(t, loud(pcm), 2*time.Second, "the conversation, not silence")
				require.Greater(t, power(pcm, 440), 0.1, "the caller's voice")
				require.Greater(t, power(pcm, 1000), 0.1, "the agent's voice")
			}
		}},
		{"a queued caller is served when the busy agent frees up", func(t *testing.T, a *app, b backend, c company) {
			const queueLine = "+33176390892"
			a.create("/v1/numbers", "number", map[string]any{"name": "Queue", "digits": queueLine, "respect_queuing_time": true,
				"voicemail": false, "distribution": []any{map[string]any{"type": "user", "id": c.alice, "ring_seconds": 60}}})
			b.phone(t, "alice", phone{answerAfter: 200 * ms, hangupAfter: 3 * time.Second})
			first := b.call(t, caller1, queueLine, script{})
			a.waitAvailability(c.alice, "in_call")
			second := b.call(t, caller2, queueLine, script{})
			first.ended(t)
			second.ended(t)
			calls := a.calls(2)
			for _, got := range calls {
				require.Nil(t, got.MissedCallReason, "%v", got.events())
				require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
			}
			queued := calls[1].events()
			require.Less(t, slices.Index(queued, "call.queued"), slices.Index(queued, "call.answered"),
				"the second call waited in the queue, then Alice took it: %v", queued)
			require.NotContains(t, calls[0].events(), "call.queued")
		}},
		{"an agent's phone rings for the step's time", func(t *testing.T, a *app, b backend, c company) {
			a.create("/v1/numbers", "number", map[string]any{"name": "Six seconds", "digits": "+33176390893", "voicemail": false,
				"distribution": []any{map[string]any{"type": "user", "id": c.alice, "ring_seconds": 6}}})
			b.phone(t, "alice", phone{ring: true})
			b.call(t, caller1, "+33176390893", script{}).ended(t)
			got := a.calls(1)[0]
			require.Equal(t, "agents_did_not_answer", *got.MissedCallReason, "%v", got.events())
			if rings := b.rings("alice"); rings != nil {
				require.Len(t, rings, 1)
				t.Logf("Alice's phone rang %v for a step of 6 s", rings[0].Round(time.Millisecond))
				// Never short (FreeSWITCH's own timeout, in whole clock
				// seconds, cut rings up to a second short); a busy
				// machine can only make it longer, never up to the
				// server's backstop, 2 s later.
				require.GreaterOrEqual(t, rings[0], 5800*ms, "Alice's phone rang %v, the step says 6 s", rings[0])
				require.Less(t, rings[0], 7*time.Second, "Alice's phone rang %v, the step says 6 s", rings[0])
			}
		}},
		{"switchboard killed during a conversation: the call goes on and is recorded when it ends", func(t *testing.T, a *app, b backend, c company) {
			conversationOutlives(t, b, c, a, "SIGKILL during a conversation", func() *app { a.kill(); a.start(); return a })
		}},
		{"switchboard stopped during a conversation: the call goes on, and the next switchboard records its end", func(t *testing.T, a *app, b backend, c company) {
			conversationOutlives(t, b, c, a, "SIGTERM during a conversation (drain timeout 0)", func() *app { a.stop(); a.start(); return a })
		}},
		{"two switchboards on one media server: the standby drives nothing, then takes the calls over when the active one dies", func(t *testing.T, a *app, b backend, c company) {
			standby := a.twin()
			require.Equal(t, http.StatusServiceUnavailable, standby.ready(), "a standby is not ready")
			require.NotContains(t, standby.metrics(), "switchboard_media_link_up", "nor does it report a media link, whose alert would fire")
			conversationOutlives(t, b, c, a, "standby takeover (active SIGKILLed)", func() *app {
				died := time.Now()
				a.kill()
				standby.waitReady()
				t.Logf("the standby took over %v after the active switchboard died", time.Since(died).Round(time.Millisecond))
				require.Regexp(t, `switchboard_media_link_up\{driver="\w+"\} 1`, standby.metrics())
				return standby
			})
			// The next call is the standby's from the start.
			b.phone(t, "alice", phone{answerAfter: 100 * ms, hangupAfter: time.Second})
			b.call(t, caller1, aliceLine, script{}).ended(t)
			next := standby.calls(2)[1]
			require.Equal(t, c.alice, next.answeredBy(), "%v", next.events())
		}},
		{"the media server restarts: switchboard says so, links again, and the next call works", func(t *testing.T, a *app, b backend, c company) {
			b.restart(t, func() {
				require.Eventually(t, func() bool { return a.ready() == http.StatusServiceUnavailable }, 10*time.Second, 20*ms,
					"/readyz says the media server is gone")
			})
			back := time.Now()
			a.waitReady()
			// The reconnect backoff tops out at a second.
			took := time.Since(back)
			// Reported, not asserted: a busy machine may take longer.
			t.Logf("ready again %v after the media server was back", took.Round(time.Millisecond))
			b.phone(t, "alice", phone{ring: true})
			b.phone(t, "bob", phone{answerAfter: 300 * ms, hangupAfter: 500 * ms})
			b.call(t, caller1, classicLine, script{}).ended(t)
			got := a.calls(1)[0]
			require.Nil(t, got.MissedCallReason, "%v", got.events())
			require.Equal(t, c.bob, got.answeredBy(), "%v", got.events())
		}},
		{"webhooks get every event of a day, signed, each call's in order", func(t *testing.T, a *app, b backend, c company) {
			rcv := newReceiver(t)
			rcv.subscribe(a)
			// The configuration: a user with a desk phone, a line closed,
			// then open, then deleted.
			dave := a.create("/v1/users", "user", map[string]any{"first_name": "Dave", "email": "dave@acme.test",
				"devices": []string{b.deskDevice("alice")}})
			temp := a.create("/v1/numbers", "number", map[string]any{"name": "Temp", "digits": "+33176390899",
				"availability_status": "closed"})
			rcv.waitFor("user.created", "number.created", "number.closed", "user.opened")
			require.Equal(t, 200, a.do("PUT", fmt.Sprintf("/v1/numbers/%d", temp), map[string]any{"availability_status": "open"}, nil))
			b.register(t, "alice", true)
			rcv.waitFor("number.opened", "user.connected")
			b.register(t, "alice", false)
			availability := func(status string) {
				require.Equal(t, 200, a.do("PUT", fmt.Sprintf("/v1/users/%d/availability", dave), map[string]any{"availability_status": status}, nil))
			}
			availability("unavailable")
			rcv.waitFor("user.disconnected", "user.closed")
			availability("available")

			// The calls: through an IVR to a recorded line, where Carol
			// answers, then takes a second of after-call work; Alice busy
			// and Bob away, a caller leaves a voicemail.
			require.Equal(t, 200, a.do("PUT", fmt.Sprintf("/v1/users/%d", c.carol), map[string]any{"wrap_up_time": 1}, nil))
			recorded := a.create("/v1/numbers", "number", map[string]any{"name": "Recorded", "digits": "+33176390891",
				"recording":    map[string]any{"inbound": map[string]any{"auto": true}},
				"distribution": []any{map[string]any{"type": "user", "id": c.carol, "ring_seconds": 5}}})
			a.create("/v1/numbers", "number", map[string]any{"name": "Front", "digits": "+33176390894", "type": "ivr",
				"ivr_options": []any{
					map[string]any{"key": "1", "target": map[string]any{"type": "number", "id": recorded}},
					map[string]any{"key": "2", "target": map[string]any{"type": "external", "digits": "+442079460958"}}}})
			b.phone(t, "carol", phone{answerAfter: 100 * ms, hangupAfter: time.Second, say: 1000})
			b.call(t, caller1, "+33176390894", script{digits: map[time.Duration]string{500 * ms: "1"}, say: 440}).ended(t)
			b.phone(t, "alice", phone{busy: true})
			b.phone(t, "bob", phone{ring: true})
			b.call(t, caller2, classicLine, script{say: 440, hangupAfter: 16 * time.Second}).ended(t)
			// Forwarded out, the far end refuses: an unsuccessful
			// transfer, then voicemail.
			b.external(t, "+442079460958", phone{decline: true, answerAfter: time.Second})
			b.call(t, caller1, "+33176390894", script{digits: map[time.Duration]string{500 * ms: "2"}, say: 440,
				hangupAfter: 20 * time.Second}).ended(t)
			calls := a.calls(3)

			// What users do with a call.
			first := fmt.Sprintf("/v1/calls/%d", calls[0].ID)
			vip := a.create("/v1/tags", "tag", map[string]any{"name": "VIP"})
			require.Equal(t, 201, a.do("POST", first+"/tags", map[string]any{"tags": []int64{vip}}, nil))
			require.Equal(t, 200, a.do("DELETE", fmt.Sprintf("%s/tags/%d", first, vip), nil, nil))
			require.Equal(t, 201, a.do("POST", first+"/comments", map[string]any{"content": "Wants a quote"}, nil))
			require.Equal(t, 200, a.do("POST", first+"/assign", map[string]any{"user_id": c.bob}, nil))
			require.Equal(t, 200, a.do("PUT", first+"/archive", nil, nil))
			require.Equal(t, 200, a.do("PUT", first+"/unarchive", nil, nil))
			downloadWAV(t, a, a.url+first+"/recording")
			require.Equal(t, 204, a.do("DELETE", first+"/recording", nil, nil))
			require.Equal(t, 204, a.do("DELETE", fmt.Sprintf("/v1/numbers/%d", temp), nil, nil))
			require.Equal(t, 204, a.do("DELETE", fmt.Sprintf("/v1/users/%d", dave), nil, nil))
			// The address book.
			contact := a.create("/v1/contacts", "contact", map[string]any{"first_name": "Jane",
				"phone_numbers": []any{map[string]any{"label": "Mobile", "value": "06 12 34 56 78"}}})
			require.Equal(t, 200, a.do("POST", fmt.Sprintf("/v1/contacts/%d", contact), map[string]any{"last_name": "Doe"}, nil))
			require.Equal(t, 204, a.do("DELETE", fmt.Sprintf("/v1/contacts/%d", contact), nil, nil))

			// Every kind but holds, which the hold scenario sees.
			every := slices.DeleteFunc(webhookKinds(), func(k string) bool { return k == "call.hold" || k == "call.unhold" })
			rcv.waitFor(every...)
			rcv.check()
			// Each call's deliveries, in the order of its timeline.
			for _, got := range calls {
				rcv.inOrder(a, got.ID, every)
			}
		}},
		{"webhooks: a receiver failing, dropping connections and slow, switchboard killed with deliveries pending: every event arrives, once, each call's in order", func(t *testing.T, a *app, b backend, c company) {
			rcv := newReceiver(t)
			hook := rcv.subscribe(a)
			rcv.answering(func() int { return http.StatusInternalServerError }, 0)
			b.phone(t, "alice", phone{answerAfter: 100 * ms, hangupAfter: time.Second})
			b.call(t, caller1, aliceLine, script{}).ended(t)

			// Switchboard dies with the call's deliveries failed and
			// waiting for their retry.
			var list struct {
				Deliveries []struct {
					Status    string  `json:"status"`
					Attempts  int     `json:"attempts"`
					LastError *string `json:"last_error"`
				} `json:"deliveries"`
			}
			require.Eventually(t, func() bool {
				require.Equal(t, 200, a.do("GET", fmt.Sprintf("/v1/webhooks/%d/deliveries", hook), nil, &list))
				for _, d := range list.Deliveries {
					if d.Status == "pending" && d.Attempts > 0 && d.LastError != nil && strings.Contains(*d.LastError, "500") {
						return true
					}
				}
				return false
			}, time.Minute, 50*ms, "a delivery failed with the receiver's 500 and waits: %+v", &list)
			a.kill()
			a.start()

			// The receiver drops the next connection, then answers slowly
			// (within the 10 s a request may take), then well.
			var answered atomic.Int64
			rcv.answering(func() int {
				if answered.Add(1) == 1 {
					return 0
				}
				return http.StatusOK
			}, 300*ms)
			b.call(t, caller2, aliceLine, script{}).ended(t)
			calls := a.calls(2)
			rcv.waitFor("call.created", "call.answered", "call.hungup", "call.ended")
			rcv.check()
			for _, got := range calls {
				rcv.inOrder(a, got.ID, webhookKinds())
			}
		}},
		{"two calls race for one agent", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{answerAfter: time.Second, hangupAfter: 2 * time.Second})
			first := b.call(t, caller1, aliceLine, script{})
			second := b.call(t, caller2, aliceLine, script{})
			first.ended(t)
			second.ended(t)
			calls := a.calls(2)
			var answered, missed []callRecord
			for _, got := range calls {
				if got.MissedCallReason == nil {
					answered = append(answered, got)
				} else {
					missed = append(missed, got)
				}
			}
			require.Len(t, answered, 1, "one call gets Alice")
			require.Len(t, missed, 1)
			require.Equal(t, "no_available_agent", *missed[0].MissedCallReason, "%v", missed[0].events())
			require.False(t, slices.Contains(rung(missed[0]), c.alice), "Alice is never rung twice at once")
		}},
	}
	scenarios = append(scenarios, actionScenarios...)
	scenarios = append(scenarios, liveScenarios...)
	scenarios = append(scenarios, faultScenarios...)
	// The same scenario must give the same call records, whatever the
	// media server: the timelines of every backend are compared at the end.
	var (
		mu        sync.Mutex
		timelines = map[string]map[string][][]string{} // scenario → backend → calls' events
	)
	// The backends run side by side; on each, its scenarios run in
	// parallel, or one after the other on a real server.
	for name, on := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					if !on.serial {
						t.Parallel()
					}
					b := on.start(t)
					a := start(t, b)
					c := configure(t, a, b)
					sc.run(t, a, b, c)
					mu.Lock()
					if timelines[sc.name] == nil {
						timelines[sc.name] = map[string][][]string{}
					}
					// Which of two racing calls wins is chance: compare
					// the calls as a set.
					sorted := slices.Clone(a.timelines)
					slices.SortFunc(sorted, func(x, y []string) int { return slices.Compare(x, y) })
					timelines[sc.name][name] = sorted
					mu.Unlock()
				})
			}
		})
	}
	// Once every backend is done: the same timelines everywhere.
	t.Cleanup(func() {
		faults.print(t)
		mu.Lock()
		defer mu.Unlock()
		for scenario, byBackend := range timelines {
			var first string
			for name := range byBackend {
				if first == "" || name < first {
					first = name
				}
			}
			for name, got := range byBackend {
				assert.Equal(t, byBackend[first], got, "%s: %s and %s give other timelines", scenario, first, name)
			}
		}
	})
}

// downloadWAV downloads a recording or a voicemail of the API, once the
// media server has stored it.
func downloadWAV(t *testing.T, a *app, path string) []byte {
	t.Helper()
	var (
		res *http.Response
		wav []byte
	)
	require.Eventually(t, func() bool {
		res, wav = a.download(path)
		return res.StatusCode == 200
	}, 10*time.Second, 100*time.Millisecond, "%s never became readable", path)
	require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
	require.Equal(t, "RIFF", string(wav[:4]), "a wav file")
	return wav
}

// conversationOutlives: switchboard a ends while Alice talks with a
// caller (end: killed, or stopped, and what takes over: a started again,
// or a standby); the conversation goes on, and what took over records it
// as it was: answered by Alice, ended when she hung up.
func conversationOutlives(t *testing.T, b backend, c company, a *app, fault string, end func() *app) {
	f := watchFaults(t, a)
	b.phone(t, "alice", phone{answerAfter: 100 * time.Millisecond, hangupAfter: 6 * time.Second})
	call := b.call(t, caller1, aliceLine, script{})
	a.waitCall("answered")
	a = end()
	call.ended(t)
	got := a.calls(1)[0]
	require.Nil(t, got.MissedCallReason, "%v", got.events())
	require.Equal(t, c.alice, got.answeredBy(), "%v", got.events())
	require.Subset(t, got.events(), []string{"call.answered", "call.hungup", "call.ended"})
	require.GreaterOrEqual(t, *got.EndedAt-*got.AnsweredAt, int64(6), "the conversation went on until Alice hung up")
	a.waitAvailability(c.alice, "available")
	f.a = a // what took over serves the calls now
	f.report(t, fault, 0, got)
}
