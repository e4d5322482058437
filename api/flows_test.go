package api_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConfigureACompany walks what an admin does on day one: users, a team,
// a classic line and an IVR line, then reads them back.
func TestConfigureACompany(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	alice := e.id(a, "/v1/users", "user", map[string]any{"first_name": "Alice", "last_name": "Martin", "email": "Alice@Acme.test",
		"devices": []string{"PJSIP/alice", "PJSIP/alice-mobile"}, "external_number": "06 12 34 56 78",
		"availability_status": "custom", "working_hours": []any{map[string]any{"days": []string{"mon", "tue"}, "from": "09:00", "to": "12:00"}}})
	bob := e.id(a, "/v1/users", "user", map[string]any{"first_name": "Bob", "email": "bob@acme.test", "wrap_up_time": 30})
	carol := e.id(a, "/v1/users", "user", map[string]any{"first_name": "Carol", "email": "carol@acme.test", "extension": "555"})

	var u struct{ User map[string]any }
	e.ok(a, "GET", fmt.Sprintf("/v1/users/%d", alice), nil, &u)
	require.Equal(t, "alice@acme.test", u.User["email"], "emails are kept in lower case")
	require.Equal(t, "+33612345678", u.User["external_number"], "a national number is read in the company's country")
	require.Equal(t, "101", u.User["extension"], "extensions are given in turn after the owner's 100")
	require.Equal(t, "Europe/Paris", u.User["time_zone"], "the company's zone by default")
	require.Equal(t, "available", u.User["availability"], "custom, and Monday 11:15 in Paris is within her hours")
	require.Equal(t, true, u.User["available"], "Aircall's boolean says the same")
	require.Equal(t, e.url+fmt.Sprintf("/v1/users/%d", alice), u.User["direct_link"])

	team := e.id(a, "/v1/teams", "team", map[string]any{"name": "Support", "users": []int64{bob, alice}, "ringing_rule": "longest_idle"})
	e.ok(a, "POST", fmt.Sprintf("/v1/teams/%d/users/%d", team, carol), nil, nil)
	e.ok(a, "POST", fmt.Sprintf("/v1/teams/%d/users/%d", team, bob), nil, nil) // already in: keeps the place
	var tm struct{ Team map[string]any }
	e.ok(a, "GET", fmt.Sprintf("/v1/teams/%d", team), nil, &tm)
	require.Equal(t, []any{float64(bob), float64(alice), float64(carol)}, ids(tm.Team["users"]), "members keep their order")
	e.ok(a, "DELETE", fmt.Sprintf("/v1/teams/%d/users/%d", team, alice), nil, nil)
	status, _ := e.do(a, "DELETE", fmt.Sprintf("/v1/teams/%d/users/%d", team, alice), nil)
	require.Equal(t, 404, status, "not a member any more")
	// A team read with GET can be sent back with PUT, members as objects.
	e.ok(a, "GET", fmt.Sprintf("/v1/teams/%d", team), nil, &tm)
	e.ok(a, "PUT", fmt.Sprintf("/v1/teams/%d", team), tm.Team, nil)

	classic := e.id(a, "/v1/numbers", "number", map[string]any{"name": "Sales", "digits": "01-76-39-08-61",
		"availability_status": "custom", "priority": 1, "respect_queuing_time": true,
		"business_hours": map[string]any{
			"slots":         []any{map[string]any{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "from": "09:00", "to": "18:00"}},
			"special_dates": []any{map[string]any{"from_date": "2026-12-24", "to_date": "2026-12-26", "open": false}}},
		"distribution": []any{map[string]any{"type": "user", "id": alice, "ring_seconds": 15},
			map[string]any{"type": "team", "id": team, "ring_seconds": 30}},
		"recording":        map[string]any{"inbound": map[string]any{"auto": true, "allow_pause": true}},
		"message_settings": map[string]any{"welcome": map[string]any{"type": "tts", "text": "Bienvenue chez Acme"}}})
	ivr := e.id(a, "/v1/numbers", "number", map[string]any{"name": "Standard", "digits": "+33 1 76 39 08 70", "type": "ivr",
		"ivr_options": []any{
			map[string]any{"key": "1", "target": map[string]any{"type": "number", "id": classic}},
			map[string]any{"key": "2", "target": map[string]any{"type": "team", "id": team}},
			map[string]any{"key": "3", "target": map[string]any{"type": "external", "digits": "+44 20 7946 0958"}},
			map[string]any{"key": "0", "target": map[string]any{"type": "voicemail"}}},
		"message_settings": map[string]any{"ivr": map[string]any{"type": "tts", "text": "Tapez 1 pour les ventes", "voice": "female"}}})

	var n struct{ Number map[string]any }
	e.ok(a, "GET", fmt.Sprintf("/v1/numbers/%d", classic), nil, &n)
	require.Equal(t, "+33176390861", n.Number["digits"])
	require.Equal(t, true, n.Number["open"], "Monday 11:15 in Paris")
	require.Equal(t, true, n.Number["voicemail"], "voicemail is on by default")
	require.Len(t, n.Number["distribution"], 2)
	msgs := n.Number["message_settings"].(map[string]any)
	require.Len(t, msgs, 8, "every message kind is shown")
	require.Nil(t, msgs["after_hours"])
	require.Equal(t, "fr-FR", msgs["welcome"].(map[string]any)["language"], "the company's language by default")

	// What GET gives, PUT takes back unchanged.
	before := e.snapshot()
	e.ok(a, "PUT", fmt.Sprintf("/v1/numbers/%d", classic), n.Number, nil)
	require.Equal(t, before, e.snapshot())

	e.ok(a, "GET", fmt.Sprintf("/v1/numbers/%d", ivr), nil, &n)
	options := n.Number["ivr_options"].([]any)
	require.Len(t, options, 4)
	require.Equal(t, map[string]any{"key": "0", "target": map[string]any{"type": "voicemail"}}, options[0], "options in key order")
	require.Equal(t, "+442079460958", options[3].(map[string]any)["target"].(map[string]any)["digits"])

	// A partial PUT changes what it names and keeps the rest.
	e.ok(a, "PUT", fmt.Sprintf("/v1/numbers/%d", ivr), map[string]any{"message_settings": map[string]any{"ivr": nil,
		"after_hours": map[string]any{"type": "tts", "text": "Nous sommes fermés"}}, "availability_status": "closed"}, &n)
	msgs = n.Number["message_settings"].(map[string]any)
	require.Nil(t, msgs["ivr"])
	require.NotNil(t, msgs["after_hours"])
	require.Equal(t, false, n.Number["open"])
	require.Len(t, n.Number["ivr_options"], 4)

	// What a line uses cannot be deleted from under it.
	for _, path := range []string{fmt.Sprintf("/v1/users/%d", alice), fmt.Sprintf("/v1/teams/%d", team), fmt.Sprintf("/v1/numbers/%d", classic)} {
		status, out := e.do(a, "DELETE", path, nil)
		require.Equal(t, 409, status, "%s: %v", path, out)
		require.Contains(t, out["troubleshoot"], "change that number first")
	}
	e.ok(a, "DELETE", fmt.Sprintf("/v1/numbers/%d", ivr), nil, nil)
	e.ok(a, "DELETE", fmt.Sprintf("/v1/numbers/%d", classic), nil, nil)
	e.ok(a, "DELETE", fmt.Sprintf("/v1/teams/%d", team), nil, nil)
	e.ok(a, "DELETE", fmt.Sprintf("/v1/users/%d", alice), nil, nil)
	status, _ = e.do(a, "GET", fmt.Sprintf("/v1/users/%d", alice), nil)
	require.Equal(t, 404, status)
	var devices int
	require.NoError(t, e.db.Get(&devices, "SELECT count(*) FROM user_devices"))
	require.Zero(t, devices, "a deleted user's devices go with them")
}

func ids(members any) []any {
	var out []any
	for _, m := range members.([]any) {
		out = append(out, m.(map[string]any)["id"])
	}
	return out
}

// TestConcurrentUsersGetDistinctExtensions creates users in parallel: each
// gets its own extension.
func TestConcurrentUsersGetDistinctExtensions(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	var wg sync.WaitGroup
	extensions := make([]string, 12)
	for i := range extensions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var u struct{ User struct{ Extension string } }
			e.ok(a, "POST", "/v1/users", map[string]any{"first_name": "U", "email": fmt.Sprintf("u%d@acme.test", i)}, &u)
			extensions[i] = u.User.Extension
		}()
	}
	wg.Wait()
	seen := map[string]bool{"100": true}
	for _, ext := range extensions {
		require.False(t, seen[ext], "extension %s given twice", ext)
		seen[ext] = true
	}
	require.Len(t, seen, 13)
}

func TestTagsAndBlockedNumbers(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	tag := e.id(a, "/v1/tags", "tag", map[string]any{"name": "Hot lead", "color": "#ff0000", "description": "call back today"})
	var out struct{ Tag map[string]any }
	e.ok(a, "PUT", fmt.Sprintf("/v1/tags/%d", tag), map[string]any{"name": "Warm lead", "system": true}, &out)
	require.Equal(t, "Warm lead", out.Tag["name"])
	require.Equal(t, false, out.Tag["system"], "system is not the client's to set")
	e.ok(a, "DELETE", fmt.Sprintf("/v1/tags/%d", tag), nil, nil)

	var b struct {
		BlockedNumber map[string]any `json:"blocked_number"`
	}
	e.ok(a, "POST", "/v1/blocked_numbers", map[string]any{"digits": "06.66.66.66.66", "note": "spam"}, &b)
	require.Equal(t, "+33666666666", b.BlockedNumber["digits"])
	e.ok(a, "DELETE", fmt.Sprintf("/v1/blocked_numbers/%v", b.BlockedNumber["id"]), nil, nil)
	status, _ := e.do(a, "DELETE", fmt.Sprintf("/v1/blocked_numbers/%v", b.BlockedNumber["id"]), nil)
	require.Equal(t, 404, status)
}
