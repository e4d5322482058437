package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// statsEnv is a company with a number, an agent whose name a spreadsheet
// would take for a formula, and calls on Monday 23 November 2026 (Paris).
type statsEnv struct {
	*env
	owner, agent, supervisor key
	number                   dialplan.NumberID
}

func newStatsEnv(t *testing.T) *statsEnv {
	e := &statsEnv{env: newEnv(t)}
	e.owner = e.company("Acme", "owner@acme.test")
	e.agent = e.userKey(e.owner, "agent@acme.test", dialplan.RoleAgent, false)
	e.ok(e.owner, "PUT", "/v1/users/"+strconv.FormatInt(int64(e.agent.user), 10), map[string]any{"first_name": "=HYPERLINK(\"x\")"}, nil)
	e.supervisor = e.userKey(e.owner, "sup@acme.test", dialplan.RoleSupervisor, false)
	e.number = dialplan.NumberID(e.id(e.owner, "/v1/numbers", "number", map[string]any{"name": "Main", "digits": "+33176390861"}))
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	at := func(h, m, s int) time.Time { return time.Date(2026, 11, 23, h, m, s, 0, paris) }
	ptr := func(t time.Time) *time.Time { return &t }
	for _, c := range []dialplan.Call{
		// answered by the agent after 12 s, 100 s of talk
		{Direction: dialplan.Inbound, User: e.agent.user, StartedAt: at(9, 0, 0), AnsweredAt: ptr(at(9, 0, 12)), EndedAt: ptr(at(9, 1, 52))},
		// answered by the owner after 30 s: outside the service level
		{Direction: dialplan.Inbound, User: e.owner.user, StartedAt: at(9, 30, 0), AnsweredAt: ptr(at(9, 30, 30)), EndedAt: ptr(at(9, 31, 0))},
		// abandoned after 40 s
		{Direction: dialplan.Inbound, StartedAt: at(10, 5, 0), EndedAt: ptr(at(10, 5, 40)), MissedReason: dialplan.AbandonedInClassic},
		// out of opening hours, with a voicemail
		{Direction: dialplan.Inbound, StartedAt: at(20, 0, 0), EndedAt: ptr(at(20, 1, 0)), MissedReason: dialplan.OutOfOpeningHours, Voicemail: "vm1"},
		// the agent calls out
		{Direction: dialplan.Outbound, User: e.agent.user, StartedAt: at(11, 0, 0), AnsweredAt: ptr(at(11, 0, 5)), EndedAt: ptr(at(11, 3, 5))},
	} {
		c.Company, c.Number, c.Status, c.RawDigits, c.IVROptions = e.owner.company, e.number, dialplan.CallDone, "+33612345678", []string{}
		require.NoError(t, e.store.SaveCall(context.Background(), &c, []dialplan.TimelineEvent{
			{Event: events.CallCreated, At: c.StartedAt, Data: events.Created{To: "+33176390861"}}}, nil))
	}
	return e
}

// requireDocumented checks an answer of GET path against the OpenAPI
// document the server serves.
func (e *env) requireDocumented(path string, body []byte) {
	e.t.Helper()
	res, raw := e.get(key{}, "GET", "/v1/openapi.json", nil)
	require.Equal(e.t, http.StatusOK, res.StatusCode)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	require.NoError(e.t, err)
	schema := doc.Paths.Find(path).Get.Responses.Status(http.StatusOK).Value.Content["application/json"].Schema.Value
	var v any
	require.NoError(e.t, json.Unmarshal(body, &v))
	require.NoError(e.t, schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()), string(body))
}

func TestStats(t *testing.T) {
	e := newStatsEnv(t)
	var out struct {
		Stats struct {
			Totals map[string]any
			Series []map[string]any
		}
	}
	res, body := e.get(e.supervisor, "GET", "/v1/stats?from=2026-11-23&to=2026-11-23&group_by=hour", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	e.requireDocumented("/v1/stats", body)
	require.NoError(t, json.Unmarshal(body, &out))
	tot := out.Stats.Totals
	assert.EqualValues(t, 4, tot["inbound_calls"])
	assert.EqualValues(t, 1, tot["outbound_calls"])
	assert.EqualValues(t, 2, tot["missed_calls"])
	assert.EqualValues(t, 50, tot["missed_rate"])
	assert.EqualValues(t, 25, tot["voicemail_rate"])
	assert.EqualValues(t, 21, tot["waiting_time_avg"], "(12 + 30) / 2")
	assert.EqualValues(t, 3, tot["offered_calls"], "out of opening hours is not offered")
	assert.EqualValues(t, 33.33, tot["service_level"], "one of three within 20 s")
	assert.EqualValues(t, 33.33, tot["abandon_rate"])
	assert.EqualValues(t, 40, tot["longest_wait"])
	assert.EqualValues(t, 1.33, tot["inbound_calls_per_user"], "4 calls, 3 users")
	assert.EqualValues(t, 3, tot["outbound_minutes_per_call"])
	assert.Equal(t, map[string]any{"out_of_opening_hours": 1.0, "short_abandoned": 0.0, "abandoned_in_ivr": 0.0,
		"abandoned_in_classic": 1.0, "no_available_agent": 0.0, "agents_did_not_answer": 0.0, "blocked": 0.0}, tot["missed_by_reason"])
	require.Len(t, out.Stats.Series, 24, "a day by hour")
	assert.Equal(t, "2026-11-23T09:00:00+01:00", out.Stats.Series[9]["start"])
	assert.EqualValues(t, 2, out.Stats.Series[9]["inbound_calls"])
	assert.Nil(t, out.Stats.Series[3]["missed_rate"], "no call, no rate")
	var users struct{ Users []map[string]any }
	res, body = e.get(e.supervisor, "GET", "/v1/stats/users?from=2026-11-23&to=2026-11-23", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	e.requireDocumented("/v1/stats/users", body)
	require.NoError(t, json.Unmarshal(body, &users))
	require.Len(t, users.Users, 3, "every user of the company")
	agentRow := users.Users[1]
	assert.EqualValues(t, e.agent.user, agentRow["user_id"])
	assert.EqualValues(t, 1, agentRow["inbound_answered"])
	assert.EqualValues(t, 1, agentRow["outbound_calls"])
	assert.EqualValues(t, 100+180, agentRow["talk_time"])
	assert.EqualValues(t, 280, agentRow["time_in_call"])
	// The day is counted up to now (11:15 in Paris): the hours to come
	// are no one's time yet.
	midnight := time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	assert.EqualValues(t, now.Sub(midnight).Seconds()-280, agentRow["time_offline"], "no phone registered all day so far")

	// The same in New York's time: the calls fall on other hours.
	res, body = e.get(e.supervisor, "GET", "/v1/stats?from=2026-11-23T00:00:00Z&to=2026-11-24T00:00:00Z&group_by=hour&time_zone=America/New_York", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	require.NoError(t, json.Unmarshal(body, &out))
	assert.Equal(t, "2026-11-22T19:00:00-05:00", out.Stats.Series[0]["start"])
	assert.EqualValues(t, 2, out.Stats.Series[8]["inbound_calls"], "09:00 Paris is 03:00 New York, the 9th hour from 19:00")

	// Filters: a time of day, a direction.
	e.ok(e.supervisor, "GET", "/v1/stats?from=2026-11-23&to=2026-11-23&time_from=09:15&time_to=10:30", nil, &out)
	assert.EqualValues(t, 2, out.Stats.Totals["inbound_calls"], "09:30 and 10:05")
	e.ok(e.supervisor, "GET", "/v1/stats?from=2026-11-23&to=2026-11-23&direction=outbound", nil, &out)
	assert.EqualValues(t, 0, out.Stats.Totals["inbound_calls"])
	assert.EqualValues(t, 1, out.Stats.Totals["outbound_calls"])

	// An agent sees their own calls only.
	e.ok(e.agent, "GET", "/v1/stats?from=2026-11-23&to=2026-11-23", nil, &out)
	assert.EqualValues(t, 1, out.Stats.Totals["inbound_calls"])
	assert.EqualValues(t, 1, out.Stats.Totals["outbound_calls"])
	assert.EqualValues(t, 1, out.Stats.Totals["inbound_calls_per_user"], "their one call, them alone")
	e.ok(e.agent, "GET", "/v1/stats/users?from=2026-11-23&to=2026-11-23", nil, &users)
	require.Len(t, users.Users, 1)
	status, _ := e.do(e.agent, "GET", "/v1/stats?user_id="+strconv.FormatInt(int64(e.owner.user), 10), nil)
	assert.Equal(t, http.StatusForbidden, status)
}

func TestStatsRefusesBadParameters(t *testing.T) {
	e := newStatsEnv(t)
	for _, tt := range []struct{ query, field string }{
		{"group_by=year", "group_by"},
		{"time_zone=Mars/Olympus", "time_zone"},
		{"from=yesterday", "from"},
		{"from=2026-11-23&to=2026-11-01", "to"},
		{"time_from=09:00", "time_to"},
		{"time_from=25:00&time_to=26:00", "time_from"},
		{"number_id=1,x", "number_id"},
		{"direction=up", "direction"},
		{"from=2020-01-01&to=2026-01-01&group_by=hour", "group_by"},
	} {
		status, body := e.do(e.owner, "GET", "/v1/stats?"+tt.query, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, status, tt.query)
		assert.Equal(t, "invalid "+tt.field, body["error"], tt.query)
	}
	status, body := e.do(e.owner, "GET", "/v1/stats.csv?table=pivot", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, "invalid table", body["error"])
}

func TestStatsCSV(t *testing.T) {
	e := newStatsEnv(t)
	read := func(query string) [][]string {
		t.Helper()
		res, body := e.get(e.owner, "GET", "/v1/stats.csv?from=2026-11-23&to=2026-11-23&"+query, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		require.Contains(t, res.Header.Get("Content-Disposition"), "attachment")
		require.True(t, strings.HasSuffix(string(body), "\r\n"), "RFC 4180 lines end with CRLF")
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		require.NoError(t, err, string(body))
		return rows
	}
	series := read("group_by=hour")
	require.Len(t, series, 1+24+1, "header, a row per hour, totals")
	assert.Equal(t, []string{"start", "end", "inbound_calls"}, series[0][:3])
	assert.Equal(t, "total", series[25][0])
	assert.Equal(t, "4", series[25][2])

	calls := read("table=calls")
	require.Len(t, calls, 1+5)
	col := map[string]int{}
	for i, name := range calls[0] {
		col[name] = i
	}
	assert.Equal(t, "2026-11-23T09:00:00+01:00", calls[1][col["started_at"]], "in the company's time zone, in order")
	assert.Equal(t, `'=HYPERLINK("x")`, calls[1][col["user_name"]], "a formula is neutralised")
	assert.Equal(t, "+33612345678", calls[1][col["raw_digits"]], "a phone number is not")
	assert.Equal(t, "Main", calls[1][col["number_name"]])
	assert.Equal(t, "100", calls[1][col["talk_time"]])

	users := read("table=users")
	require.Len(t, users, 1+3)
	assert.Equal(t, "user_id", users[0][0])
}
