package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
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
			require.Equal(t, c.bob, got.User.ID)
			require.ElementsMatch(t, []int64{c.alice, c.bob}, rung(got))
			require.Subset(t, got.events(), []string{"call.created", "call.ringing_on_agent", "call.answered", "call.hungup", "call.ended"})
			var av struct {
				Users []struct {
					ID           int64  `json:"id"`
					Availability string `json:"availability"`
				} `json:"users"`
			}
			a.do("GET", "/v1/users/availabilities", nil, &av)
			for _, u := range av.Users {
				if u.ID == c.bob {
					require.Equal(t, "available", u.Availability, "Bob is free again after the call")
				}
			}
		}},
		{"an IVR choice rings the chosen agent", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "carol", phone{answerAfter: 200 * ms, hangupAfter: 300 * ms})
			b.call(t, caller1, ivrLine, script{digits: map[time.Duration]string{500 * ms: "1"}}).ended(t)
			got := a.calls(1)[0]
			require.Equal(t, []string{"1"}, got.IVROptions, "%v", got.events())
			require.Equal(t, c.carol, got.User.ID)
			require.Contains(t, got.events(), "call.ivr_option_selected")
		}},
		{"nobody answers: the caller leaves a voicemail", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{ring: true})
			b.phone(t, "bob", phone{ring: true})
			b.call(t, caller1, classicLine, script{hangupAfter: 8 * time.Second}).ended(t)
			got := a.calls(1)[0]
			require.NotNil(t, got.MissedCallReason, "%v", got.events())
			require.Equal(t, "agents_did_not_answer", *got.MissedCallReason)
			require.NotNil(t, got.Voicemail)
			require.Subset(t, got.events(), []string{"call.agent_no_answer", "call.voicemail_left"})
		}},
		{"a busy agent declines and the other answers", func(t *testing.T, a *app, b backend, c company) {
			b.phone(t, "alice", phone{busy: true})
			b.phone(t, "bob", phone{answerAfter: 500 * ms, hangupAfter: 300 * ms})
			b.call(t, caller1, classicLine, script{}).ended(t)
			got := a.calls(1)[0]
			require.Equal(t, c.bob, got.User.ID, "%v", got.events())
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
		{"a TTS welcome and an uploaded IVR prompt play, in order", func(t *testing.T, a *app, b backend, c company) {
			file := filepath.Join(t.TempDir(), "menu.wav")
			out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
				"-ar", "22050", "-ac", "2", file).CombinedOutput()
			require.NoError(t, err, "ffmpeg makes the test's IVR prompt (CI installs it): %s", out)
			tone, err := os.ReadFile(file)
			require.NoError(t, err)
			media := a.upload("menu.wav", tone)
			a.create("/v1/numbers", "number", map[string]any{"name": "Voice", "digits": "+33176390890", "type": "ivr",
				"messages": map[string]any{
					"welcome": map[string]any{"type": "tts", "text": "Bienvenue chez Acme", "language": "fr"},
					"ivr":     map[string]any{"type": "media", "media_id": media["id"]}},
				"ivr_options": []any{map[string]any{"key": "1", "target": map[string]any{"type": "user", "id": c.carol}}}})
			b.phone(t, "carol", phone{answerAfter: 100 * ms, hangupAfter: 200 * ms})
			call := b.call(t, caller1, "+33176390890", script{digits: map[time.Duration]string{1500 * ms: "1"}})
			call.ended(t)
			heard := call.heard()
			require.GreaterOrEqual(t, len(heard), 2, "%v", heard)
			require.Contains(t, heard[0], "/media/prompts/", "the welcome is our rendered speech: %v", heard)
			require.Contains(t, heard[1], "/media/prompts/"+media["sha256"].(string)+".wav", "then the uploaded menu: %v", heard)
			require.NotEqual(t, heard[0], heard[1])
			got := a.calls(1)[0]
			var played []string
			for _, e := range got.Timeline {
				if e.Event == "call.message_played" {
					played = append(played, e.Data["message"].(string))
				}
			}
			require.Equal(t, []string{"welcome", "ivr"}, played, "%v", got.events())
			require.NotContains(t, got.events(), "call.message_failed")
			require.Equal(t, c.carol, got.User.ID)
		}},
		{"a recorded conversation is downloaded from the media server", func(t *testing.T, a *app, b backend, c company) {
			a.create("/v1/numbers", "number", map[string]any{"name": "Recorded", "digits": "+33176390891",
				"recording":    map[string]any{"inbound": map[string]any{"auto": true}},
				"distribution": []any{map[string]any{"type": "user", "id": c.carol, "ring_seconds": 5}}})
			b.phone(t, "carol", phone{answerAfter: 100 * ms, hangupAfter: 500 * ms})
			b.call(t, caller1, "+33176390891", script{}).ended(t)
			got := a.calls(1)[0]
			require.Contains(t, got.events(), "call.recording_started")
			require.NotNil(t, got.Recording, "%v", got.events())
			require.Equal(t, fmt.Sprintf("/v1/calls/%d/recording", got.ID), *got.Recording)
			var res *http.Response
			var wav []byte
			require.Eventually(t, func() bool { // stored once the recording stops
				res, wav = a.download(*got.Recording)
				return res.StatusCode == 200
			}, 10*time.Second, 100*ms, "the recording never became readable")
			require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
			require.Equal(t, "RIFF", string(wav[:4]), "a wav file")
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
