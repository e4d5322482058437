package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

// fixtures is a company A with a user, a team, a number and a tag, and a
// company B with the same, to prove that nothing crosses companies.
type fixtures struct {
	a, b                       key
	agent                      key
	userA, teamA, numberA      int64
	userB, teamB, numberB, tag int64
}

func newFixtures(e *env) fixtures {
	f := fixtures{a: e.company("Acme", "owner@acme.test"), b: e.company("Globex", "owner@globex.test")}
	f.agent = e.userKey(f.a, "agent@acme.test", dialplan.RoleAgent, false)
	f.userA = e.id(f.a, "/v1/users", "user", map[string]any{"first_name": "Alice", "email": "alice@acme.test", "devices": []string{"PJSIP/alice"}})
	f.teamA = e.id(f.a, "/v1/teams", "team", map[string]any{"name": "Support", "users": []int64{f.userA}})
	f.numberA = e.id(f.a, "/v1/numbers", "number", map[string]any{"name": "Main", "digits": "+33 1 76 39 08 61",
		"distribution": []map[string]any{{"type": "team", "id": f.teamA, "ring_seconds": 20}}})
	f.tag = e.id(f.a, "/v1/tags", "tag", map[string]any{"name": "VIP"})
	e.ok(f.a, "POST", "/v1/blocked_numbers", map[string]any{"digits": "06 66 66 66 66"}, nil)
	f.userB = e.id(f.b, "/v1/users", "user", map[string]any{"first_name": "Bob", "email": "bob@globex.test"})
	f.teamB = e.id(f.b, "/v1/teams", "team", map[string]any{"name": "Sales"})
	f.numberB = e.id(f.b, "/v1/numbers", "number", map[string]any{"name": "Globex", "digits": "+33176390862"})
	return f
}

// TestBadInput sends every kind of bad input and checks the status, that
// the error names the field, and that nothing was written.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	ivr := func(options ...map[string]any) map[string]any {
		return map[string]any{"name": "IVR", "digits": "+33176390899", "type": "ivr", "ivr_options": options}
	}
	step := func(kind string, id int64, secs any) map[string]any {
		return map[string]any{"name": "Line", "digits": "+33176390899",
			"distribution": []map[string]any{{"type": kind, "id": id, "ring_seconds": secs}}}
	}
	hours := func(slots ...map[string]any) map[string]any {
		return map[string]any{"first_name": "Eve", "email": "eve@acme.test", "working_hours": slots}
	}
	slot := func(from, to string, days ...string) map[string]any {
		return map[string]any{"days": days, "from": from, "to": to}
	}
	number := func(fields map[string]any) map[string]any {
		body := map[string]any{"name": "Line", "digits": "+33176390899"}
		for k, v := range fields {
			body[k] = v
		}
		return body
	}
	numberA := fmt.Sprintf("/v1/numbers/%d", f.numberA)
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string // the error names it
	}{
		{"malformed JSON", "POST", "/v1/users", `{"first_name":`, 400, "JSON"},
		{"not an object", "POST", "/v1/users", `[1]`, 400, "JSON"},
		{"trailing data", "POST", "/v1/users", `{"first_name":"A","email":"a@acme.test"} {}`, 400, "JSON"},
		{"unknown field", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "nickname": "x"}, 422, "nickname"},
		{"no email", "POST", "/v1/users", map[string]any{"first_name": "A"}, 422, "email"},
		{"bad email", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "bob@"}, 422, "email"},
		{"duplicate email", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "ALICE@acme.test"}, 409, "email"},
		{"email of another company", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "bob@globex.test"}, 409, "email"},
		{"no first name", "POST", "/v1/users", map[string]any{"email": "a@acme.test"}, 422, "first_name"},
		{"long first name", "POST", "/v1/users", map[string]any{"first_name": strings.Repeat("a", 65), "email": "a@acme.test"}, 422, "first_name"},
		{"bad role", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "role": "boss"}, 422, "role"},
		{"bad time zone", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "time_zone": "Mars/Olympus"}, 422, "time_zone"},
		{"Local is no IANA zone", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "time_zone": "Local"}, 422, "time_zone"},
		{"bad language", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "language": "french"}, 422, "language"},
		{"bad day", "POST", "/v1/users", hours(slot("09:00", "12:00", "mon", "lun")), 422, "working_hours[0].days[1]"},
		{"no day", "POST", "/v1/users", hours(slot("09:00", "12:00")), 422, "working_hours[0].days"},
		{"bad from", "POST", "/v1/users", hours(slot("9:00", "12:00", "mon")), 422, "working_hours[0].from"},
		{"hour 25", "POST", "/v1/users", hours(slot("09:00", "25:00", "mon")), 422, "working_hours[0].to"},
		{"minute 60", "POST", "/v1/users", hours(slot("09:60", "12:00", "mon")), 422, "working_hours[0].from"},
		{"from after to", "POST", "/v1/users", hours(slot("12:00", "09:00", "mon")), 422, "working_hours[0].to"},
		{"from equals to", "POST", "/v1/users", hours(slot("12:00", "12:00", "mon")), 422, "working_hours[0].to"},
		{"overlap", "POST", "/v1/users", hours(slot("09:00", "12:00", "mon", "tue"), slot("11:30", "14:00", "tue")), 422, "working_hours[1]"},
		{"wrap-up too long", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "wrap_up_time": 3601}, 422, "wrap_up_time"},
		{"wrap-up not a number", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "wrap_up_time": "x"}, 422, "wrap_up_time"},
		{"bad external number", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "external_number": "call me"}, 422, "external_number"},
		{"bad device", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "devices": []string{"alice"}}, 422, "devices[0]"},
		{"device of another user", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "devices": []string{"PJSIP/alice"}}, 409, "device"},
		{"short extension", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "extension": "12"}, 422, "extension"},
		{"bad availability", "POST", "/v1/users", map[string]any{"first_name": "A", "email": "a@acme.test", "availability_status": "busy"}, 422, "availability_status"},
		{"change to a taken email", "PUT", fmt.Sprintf("/v1/users/%d", f.userA), map[string]any{"email": "owner@acme.test"}, 409, "email"},

		{"team without name", "POST", "/v1/teams", map[string]any{"name": " "}, 422, "name"},
		{"team name of 65", "POST", "/v1/teams", map[string]any{"name": strings.Repeat("t", 65)}, 422, "name"},
		{"duplicate team name", "POST", "/v1/teams", map[string]any{"name": "SUPPORT"}, 409, "team name"},
		{"bad ringing rule", "POST", "/v1/teams", map[string]any{"name": "T", "ringing_rule": "sequential"}, 422, "ringing_rule"},
		{"short ring slice", "POST", "/v1/teams", map[string]any{"name": "T", "ring_slice_seconds": 4}, 422, "ring_slice_seconds"},
		{"member of another company", "POST", "/v1/teams", map[string]any{"name": "T", "users": []int64{f.userB}}, 422, "users[0]"},
		{"unknown member", "POST", "/v1/teams", map[string]any{"name": "T", "users": []int64{f.userA, 987654}}, 422, "users[1]"},
		{"member twice", "POST", "/v1/teams", map[string]any{"name": "T", "users": []int64{f.userA, f.userA}}, 422, "users[1]"},
		{"add a member of another company", "POST", fmt.Sprintf("/v1/teams/%d/users/%d", f.teamA, f.userB), nil, 404, "user"},

		{"number without digits", "POST", "/v1/numbers", map[string]any{"name": "Line"}, 422, "digits"},
		{"number without name", "POST", "/v1/numbers", map[string]any{"digits": "+33176390899"}, 422, "name"},
		{"letters in digits", "POST", "/v1/numbers", number(map[string]any{"digits": "+33 1 AB"}), 422, "digits"},
		{"unknown calling code", "POST", "/v1/numbers", number(map[string]any{"digits": "+289123456"}), 422, "digits"},
		{"digits of another company", "POST", "/v1/numbers", number(map[string]any{"digits": "01.76.39.08.62"}), 409, "digits"},
		{"bad country", "POST", "/v1/numbers", number(map[string]any{"country": "XX"}), 422, "country"},
		{"bad number type", "POST", "/v1/numbers", number(map[string]any{"type": "fancy"}), 422, "type"},
		{"bad line status", "POST", "/v1/numbers", number(map[string]any{"availability_status": "sometimes"}), 422, "availability_status"},
		{"bad number time zone", "POST", "/v1/numbers", number(map[string]any{"time_zone": "Europe/Atlantis"}), 422, "time_zone"},
		{"overlapping hours", "POST", "/v1/numbers", number(map[string]any{"business_hours": map[string]any{
			"slots": []any{slot("09:00", "12:00", "mon"), slot("10:00", "11:00", "mon")}}}), 422, "business_hours.slots[1]"},
		{"bad special date", "POST", "/v1/numbers", number(map[string]any{"business_hours": map[string]any{
			"special_dates": []any{map[string]any{"from_date": "2026-13-01", "to_date": "2026-12-26"}}}}), 422, "business_hours.special_dates[0].from_date"},
		{"special date backwards", "POST", "/v1/numbers", number(map[string]any{"business_hours": map[string]any{
			"special_dates": []any{map[string]any{"from_date": "2026-12-26", "to_date": "2026-12-24"}}}}), 422, "business_hours.special_dates[0].to_date"},
		{"bad priority", "POST", "/v1/numbers", number(map[string]any{"priority": 5}), 422, "priority"},
		{"ring 4 s", "POST", "/v1/numbers", step("team", f.teamA, 4), 422, "distribution[0].ring_seconds"},
		{"ring 3601 s", "POST", "/v1/numbers", step("team", f.teamA, 3601), 422, "distribution[0].ring_seconds"},
		{"ring seconds not a number", "POST", "/v1/numbers", step("team", f.teamA, "20"), 422, "ring_seconds"},
		{"bad step type", "POST", "/v1/numbers", step("group", f.teamA, 20), 422, "distribution[0].type"},
		{"step to a team of another company", "POST", "/v1/numbers", step("team", f.teamB, 20), 422, "distribution[0].id"},
		{"step to a user of another company", "POST", "/v1/numbers", step("user", f.userB, 20), 422, "distribution[0].id"},
		{"step to no user", "POST", "/v1/numbers", step("user", 987654, 20), 422, "distribution[0].id"},
		{"options on a classic number", "POST", "/v1/numbers", number(map[string]any{"ivr_options": []any{
			map[string]any{"key": "1", "target": map[string]any{"type": "voicemail"}}}}), 422, "ivr_options"},
		{"key 10", "POST", "/v1/numbers", ivr(map[string]any{"key": "10", "target": map[string]any{"type": "voicemail"}}), 422, "ivr_options[0].key"},
		{"key *", "POST", "/v1/numbers", ivr(map[string]any{"key": "*", "target": map[string]any{"type": "voicemail"}}), 422, "ivr_options[0].key"},
		{"key twice", "POST", "/v1/numbers", ivr(map[string]any{"key": "1", "target": map[string]any{"type": "voicemail"}},
			map[string]any{"key": "1", "target": map[string]any{"type": "team", "id": f.teamA}}), 422, "ivr_options[1].key"},
		{"key to a team of another company", "POST", "/v1/numbers", ivr(map[string]any{"key": "1", "target": map[string]any{"type": "team", "id": f.teamB}}), 422, "ivr_options[0].target.id"},
		{"key to a number of another company", "POST", "/v1/numbers", ivr(map[string]any{"key": "1", "target": map[string]any{"type": "number", "id": f.numberB}}), 422, "ivr_options[0].target.id"},
		{"key to bad digits", "POST", "/v1/numbers", ivr(map[string]any{"key": "1", "target": map[string]any{"type": "external", "digits": "nope"}}), 422, "ivr_options[0].target.digits"},
		{"key to a queue", "POST", "/v1/numbers", ivr(map[string]any{"key": "1", "target": map[string]any{"type": "queue"}}), 422, "ivr_options[0].target.type"},
		{"key to no team id", "POST", "/v1/numbers", ivr(map[string]any{"key": "1", "target": map[string]any{"type": "team"}}), 422, "ivr_options[0].target.id"},
		{"calls bounded below a minute", "POST", "/v1/numbers", number(map[string]any{"max_call_seconds": 10}), 422, "max_call_seconds"},
		{"calls bounded beyond a day", "POST", "/v1/numbers", number(map[string]any{"max_call_seconds": 90000}), 422, "max_call_seconds"},
		{"unknown message", "POST", "/v1/numbers", number(map[string]any{"message_settings": map[string]any{"goodbye": map[string]any{"type": "tts", "text": "Bye"}}}), 422, "message_settings.goodbye"},
		{"tts without text", "POST", "/v1/numbers", number(map[string]any{"message_settings": map[string]any{"welcome": map[string]any{"type": "tts"}}}), 422, "message_settings.welcome.text"},
		{"unknown media", "POST", "/v1/numbers", number(map[string]any{"message_settings": map[string]any{"ivr": map[string]any{"type": "media", "media_id": 42}}}), 422, "message_settings.ivr.media_id"},
		{"bad message type", "POST", "/v1/numbers", number(map[string]any{"message_settings": map[string]any{"ivr": map[string]any{"type": "song"}}}), 422, "message_settings.ivr.type"},
		{"outbound user of another company", "POST", "/v1/numbers", number(map[string]any{"outbound_users": []int64{f.userB}}), 422, "outbound_users[0]"},
		{"number takes another company's digits", "PUT", numberA, map[string]any{"digits": "+33176390862"}, 409, "digits"},
		{"number transfers to itself", "PUT", numberA, map[string]any{"type": "ivr", "ivr_options": []any{
			map[string]any{"key": "1", "target": map[string]any{"type": "number", "id": f.numberA}}}}, 422, "ivr_options[0].target.id"},
		{"update with a bad step", "PUT", numberA, map[string]any{"distribution": []any{map[string]any{"type": "team", "id": f.teamA, "ring_seconds": 2}}}, 422, "distribution[0].ring_seconds"},

		{"tag without name", "POST", "/v1/tags", map[string]any{"color": "#FF0000"}, 422, "name"},
		{"bad colour", "POST", "/v1/tags", map[string]any{"name": "Hot", "color": "red"}, 422, "color"},
		{"duplicate tag", "POST", "/v1/tags", map[string]any{"name": "vip"}, 409, "tag name"},
		{"rename a system tag", "PUT", "/v1/tags/1", map[string]any{"name": "Call me"}, 409, "system tags"},
		{"delete a system tag", "DELETE", "/v1/tags/1", nil, 409, "system tags"},

		{"block bad digits", "POST", "/v1/blocked_numbers", map[string]any{"digits": "0x1234"}, 422, "digits"},
		{"block twice", "POST", "/v1/blocked_numbers", map[string]any{"digits": "+33666666666"}, 409, "already blocked"},

		{"company time zone", "PUT", "/v1/company", map[string]any{"time_zone": "Paris"}, 422, "time_zone"},
		{"company SLA", "PUT", "/v1/company", map[string]any{"sla_seconds": 0}, 422, "sla_seconds"},
		{"company country", "PUT", "/v1/company", map[string]any{"country": "ZZ"}, 422, "country"},
		{"company name", "PUT", "/v1/company", map[string]any{"name": ""}, 422, "name"},

		{"bad availability", "PUT", fmt.Sprintf("/v1/users/%d/availability", f.userA), map[string]any{"availability_status": "busy"}, 422, "availability_status"},
		{"no availability", "PUT", fmt.Sprintf("/v1/users/%d/availability", f.userA), map[string]any{}, 422, "availability_status"},
		{"key for a user of another company", "POST", "/v1/api_keys", map[string]any{"user_id": f.userB}, 422, "user_id"},

		{"per_page 51", "GET", "/v1/users?per_page=51", nil, 400, "per_page"},
		{"per_page 0", "GET", "/v1/users?per_page=0", nil, 400, "per_page"},
		{"page 0", "GET", "/v1/users?page=0", nil, 400, "page"},
		{"bad order", "GET", "/v1/users?order=up", nil, 400, "order"},
		{"bad from", "GET", "/v1/users?from=yesterday", nil, 400, "from"},
		{"id not a number", "GET", "/v1/users/abc", nil, 404, "abc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			status, out := e.do(f.a, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, status, "answer: %v", out)
			require.NotEmpty(t, out["error"], "answer: %v", out)
			require.Contains(t, fmt.Sprint(out["error"], " ", out["troubleshoot"], " ", out["detail"]), tc.field, "the error names what is wrong")
			require.Equal(t, before, e.snapshot(), "a failed request wrote nothing")
		})
	}
	require.Equal(t, http.StatusOK, func() int { s, _ := e.do(f.a, "GET", "/healthz", nil); return s }())
}
