package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/stats"
)

// A scripted week of calls through the real engine and store, on the
// simulated media server and clock: Monday 19 to Sunday 25 October 2026
// in Paris, whose Sunday has 25 hours (the clocks go back at 03:00). The
// figures the API gives must be those the script implies, call by call,
// for every measure, grouping and filter.

// weekCall is one call of the script and what it must be.
type weekCall struct {
	at     time.Time // when the caller calls
	line   string    // "sales" or "hotline"
	alice  dialplan.Peer
	bob    dialplan.Peer
	hangup time.Duration // the caller hangs up after this (0: never first)

	// outbound: Bob dials this number from his desk phone (it answers
	// as alice does above)
	outbound string

	answeredBy string // "alice", "bob" or ""
	wait, talk int64  // seconds
	duration   int64
	missed     dialplan.MissedReason
	voicemail  bool
	tag        bool // the test tags it "VIP" afterwards
}

func TestStatsScriptedWeek(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	local := func(day, hour, minute int) time.Time { return time.Date(2026, 10, 19+day, hour, minute, 0, 0, paris) }

	e := newEnv(t)
	owner := e.company("Acme", "owner@acme.test")
	alice := e.id(owner, "/v1/users", "user", map[string]any{"first_name": "Alice", "email": "alice@acme.test",
		"devices": []string{"PJSIP/alice"}})
	bob := e.id(owner, "/v1/users", "user", map[string]any{"first_name": "Bob", "email": "bob@acme.test",
		"devices": []string{"PJSIP/bob"}})
	support := e.id(owner, "/v1/teams", "team", map[string]any{"name": "Support", "users": []int64{alice, bob}})
	vip := e.id(owner, "/v1/tags", "tag", map[string]any{"name": "VIP", "color": "#ff0000"})
	// Sales: always open, rings the team 20 s. Hotline: weekdays 9–18, a
	// welcome message, rings Alice 15 s then takes a voicemail; a service
	// level of 10 s. Every prompt plays 4 s.
	sales := e.id(owner, "/v1/numbers", "number", map[string]any{"name": "Sales", "digits": "+33176390861",
		"distribution": []map[string]any{{"type": "team", "id": support, "ring_seconds": 20}}, "outbound_users": []int64{bob}})
	hotline := e.id(owner, "/v1/numbers", "number", map[string]any{"name": "Hotline", "digits": "+33176390862",
		"sla_seconds": 10, "availability_status": "custom", "message_settings": map[string]any{"welcome": map[string]any{"type": "tts", "text": "Bienvenue"}},
		"business_hours": map[string]any{"slots": []map[string]any{{"days": []string{"mon", "tue", "wed", "thu", "fri"},
			"from": "09:00", "to": "18:00"}}},
		"distribution": []map[string]any{{"type": "user", "id": alice, "ring_seconds": 15}}})
	lines := map[string]string{"sales": "+33176390861", "hotline": "+33176390862"}

	answers := func(after, talk int) dialplan.Peer {
		return dialplan.Peer{AnswerAfter: time.Duration(after) * time.Second, HangupAfter: time.Duration(talk) * time.Second}
	}
	rings := dialplan.Peer{} // rings until the caller gives up
	var script []weekCall
	for day := range 5 { // the working days
		script = append(script,
			// Alice answers Sales after 5 s, talks 60 s.
			weekCall{at: local(day, 9, 10), line: "sales", alice: answers(5, 60), bob: rings,
				answeredBy: "alice", wait: 5, talk: 60, duration: 65, tag: day%2 == 0},
			// Bob answers after 15 s: within the company's 20 s.
			weekCall{at: local(day, 11, 0), line: "sales", alice: rings, bob: answers(15, 120),
				answeredBy: "bob", wait: 15, talk: 120, duration: 135},
			// Alice answers the Hotline after its 4 s welcome and 12 s of
			// ringing: over its 10 s level.
			weekCall{at: local(day, 14, 30), line: "hotline", alice: answers(12, 30),
				answeredBy: "alice", wait: 16, talk: 30, duration: 46},
			// The caller gives up after 8 s of ringing: a short abandon.
			weekCall{at: local(day, 15, 0), line: "sales", alice: rings, bob: rings, hangup: 8 * time.Second,
				wait: 8, duration: 8, missed: dialplan.ShortAbandoned},
		)
		if day >= 3 { // Thursday and Friday, callers give up during the Hotline's welcome
			script = append(script, weekCall{at: local(day, 16, 0), line: "hotline", hangup: 3 * time.Second,
				wait: 3, duration: 3, missed: dialplan.AbandonedInClassic})
		}
		if day == 1 { // Tuesday, nobody answers for 18 s and the caller hangs up
			script = append(script, weekCall{at: local(day, 16, 30), line: "sales", alice: rings, bob: rings,
				hangup: 18 * time.Second, wait: 18, duration: 18, missed: dialplan.AgentsDidNotAnswer})
		}
		if day == 2 { // Wednesday, Bob calls a customer back: 6 s of ringing, 90 s of talk
			script = append(script, weekCall{at: local(day, 17, 0), outbound: "+33612349999", alice: answers(6, 90),
				answeredBy: "bob", wait: 6, talk: 90, duration: 96})
		}
	}
	script = append(script,
		// Saturday, the Hotline is closed.
		weekCall{at: local(5, 10, 0), line: "hotline", hangup: 5 * time.Second, wait: 5, duration: 5,
			missed: dialplan.OutOfOpeningHours},
		// Sunday 02:30 summer time, then 02:30 winter time an hour later:
		// nobody answers Sales within its 20 s, and the caller leaves a
		// voicemail (the unanswered-call message, then 10 s of voice).
		weekCall{at: time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), line: "sales", alice: rings, bob: rings,
			hangup: 40 * time.Second, wait: 40, duration: 40, missed: dialplan.AgentsDidNotAnswer, voicemail: true},
		weekCall{at: time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), line: "sales", alice: answers(3, 200), bob: rings,
			answeredBy: "alice", wait: 3, talk: 200, duration: 203},
	)

	// The engine on the store, with simulated phones and clock.
	clock := dialplan.NewSimClock(local(0, 0, 0))
	media := dialplan.NewSimMedia(clock)
	media.PromptLength = func(dialplan.Prompt) time.Duration { return 4 * time.Second }
	engine := dialplan.NewEngine(dialplan.Config{Directory: e.store, CallLog: e.store, Media: media,
		Recordings: &dialplantest.Recordings{}, Clock: clock})
	t.Cleanup(engine.Stop)
	for i, c := range script {
		clock.Advance(c.at.Sub(clock.Now()))
		media.SetPeer("PJSIP/alice", c.alice)
		media.SetPeer("PJSIP/bob", c.bob)
		leg := media.NewCaller()
		call := dialplan.InboundCall{Leg: leg, To: lines[c.line], From: fmt.Sprintf("+3361234%04d", i)}
		if c.outbound != "" {
			media.SetPeer(c.outbound, c.alice)
			call = dialplan.InboundCall{Leg: leg, To: c.outbound, Device: "PJSIP/bob"}
		}
		sink := engine.Handle(call)
		media.Attach(leg, sink)
		if c.hangup > 0 {
			media.CallerHangsUp(leg, c.hangup)
		}
		clock.Advance(10 * time.Minute)
	}
	require.Empty(t, media.Violations)

	// Each call as scripted, and the handling the script does after.
	type record struct {
		ID               int64
		User             *struct{ ID int64 }
		StartedAt        int64 `json:"started_at"`
		Duration         int64
		WaitingTime      int64  `json:"waiting_time"`
		TalkTime         int64  `json:"talk_time"`
		MissedCallReason string `json:"missed_call_reason"`
		Voicemail        *string
	}
	var list struct{ Calls []record }
	e.ok(owner, "GET", "/v1/calls?per_page=50&order=asc", nil, &list)
	require.Len(t, list.Calls, len(script))
	users := map[string]int64{"alice": alice, "bob": bob}
	for i, c := range script {
		got := list.Calls[i]
		desc := fmt.Sprintf("call %d at %s", i, c.at.In(paris))
		require.Equal(t, c.at.Unix(), got.StartedAt, desc)
		if c.answeredBy != "" {
			require.NotNil(t, got.User, desc)
			require.Equal(t, users[c.answeredBy], got.User.ID, desc)
		} else {
			require.Nil(t, got.User, desc)
		}
		require.Equal(t, c.wait, got.WaitingTime, desc)
		require.Equal(t, c.talk, got.TalkTime, desc)
		require.Equal(t, c.duration, got.Duration, desc)
		require.Equal(t, string(c.missed), got.MissedCallReason, desc)
		require.Equal(t, c.voicemail, got.Voicemail != nil, desc)
		id := fmt.Sprint(got.ID)
		if c.tag {
			e.ok(owner, "POST", "/v1/calls/"+id+"/tags", map[string]any{"tags": []int64{vip}}, nil)
		}
	}

	// The figures.
	get := func(query url.Values) statsAnswer {
		t.Helper()
		var out struct{ Stats statsAnswer }
		res, body := e.get(owner, "GET", "/v1/stats?"+query.Encode(), nil)
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		require.NoError(t, json.Unmarshal(body, &out))
		return out.Stats
	}
	week := url.Values{"from": {"2026-10-19"}, "to": {"2026-10-25"}}
	byDay := get(merge(week, url.Values{"group_by": {"day"}}))
	require.Len(t, byDay.Series, 7)
	for d, b := range byDay.Series {
		start, end := local(d, 0, 0), local(d+1, 0, 0)
		require.Equal(t, start.Format(time.RFC3339), b.Start, "day %d", d)
		require.Equal(t, end.Format(time.RFC3339), b.End, "day %d", d)
		want := expect(script, func(c weekCall) bool { return !c.at.Before(start) && c.at.Before(end) }, slaOf, 3)
		assert.Equal(t, want, b.Measures, "day %s", start.Format("Mon 2"))
	}
	assert.Equal(t, 25.0, parseTime(t, byDay.Series[6].End).Sub(parseTime(t, byDay.Series[6].Start)).Hours(), "Sunday has 25 hours")
	all := expect(script, func(weekCall) bool { return true }, slaOf, 3) // the owner, Alice and Bob
	assert.Equal(t, all, byDay.Totals)

	// A week is one bucket, and so is the month (cut to the week).
	for _, g := range []string{"week", "month"} {
		s := get(merge(week, url.Values{"group_by": {g}}))
		require.Len(t, s.Series, 1, g)
		assert.Equal(t, all, s.Series[0].Measures, g)
	}

	// Sunday by hour: 25 of them, 02:00 twice, one call in each.
	sunday := get(url.Values{"from": {"2026-10-25"}, "to": {"2026-10-25"}, "group_by": {"hour"}})
	require.Len(t, sunday.Series, 25)
	assert.Equal(t, "2026-10-25T02:00:00+02:00", sunday.Series[2].Start)
	assert.Equal(t, "2026-10-25T02:00:00+01:00", sunday.Series[3].Start)
	assert.EqualValues(t, 1, sunday.Series[2].Measures.InboundCalls)
	assert.EqualValues(t, 1, sunday.Series[3].Measures.InboundCalls)

	// Filters.
	filters := []struct {
		name  string
		query url.Values
		keep  func(weekCall) bool
		users int64
	}{
		{"a number", url.Values{"number_id": {fmt.Sprint(hotline)}}, func(c weekCall) bool { return c.line == "hotline" }, 3},
		{"a user", url.Values{"user_id": {fmt.Sprint(bob)}}, func(c weekCall) bool { return c.answeredBy == "bob" }, 1},
		{"a team", url.Values{"team_id": {fmt.Sprint(support)}}, func(c weekCall) bool { return c.line == "sales" && c.outbound == "" }, 2},
		{"a tag", url.Values{"tag_id": {fmt.Sprint(vip)}}, func(c weekCall) bool { return c.tag }, 3},
		{"outbound only", url.Values{"direction": {"outbound"}}, func(c weekCall) bool { return c.outbound != "" }, 3},
		{"inbound only", url.Values{"direction": {"inbound"}}, func(c weekCall) bool { return c.outbound == "" }, 3},
		{"mornings", url.Values{"time_from": {"09:00"}, "time_to": {"12:00"}}, func(c weekCall) bool {
			h := c.at.In(paris).Hour()
			return h >= 9 && h < 12
		}, 3},
		{"nights, across midnight", url.Values{"time_from": {"22:00"}, "time_to": {"03:00"}}, func(c weekCall) bool {
			h := c.at.In(paris).Hour()
			return h >= 22 || h < 3
		}, 3},
		{"Sales and Hotline", url.Values{"number_id": {fmt.Sprintf("%d,%d", sales, hotline)}}, func(weekCall) bool { return true }, 3},
	}
	for _, f := range filters {
		s := get(merge(week, f.query))
		assert.Equal(t, expect(script, f.keep, slaOf, f.users), s.Totals, f.name)
	}
}

// slaOf is each line's service level: the Hotline's own, else the
// company's 20 s.
func slaOf(c weekCall) int64 {
	if c.line == "hotline" {
		return 10
	}
	return 20
}

type statsAnswer struct {
	Totals stats.Measures
	Series []struct {
		Start, End string
		stats.Measures
	}
}

func (s *statsAnswer) UnmarshalJSON(b []byte) error {
	var raw struct {
		Totals stats.Measures
		Series []json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	s.Totals = raw.Totals
	for _, r := range raw.Series {
		var b struct{ Start, End string }
		var m stats.Measures
		if err := json.Unmarshal(r, &b); err != nil {
			return err
		}
		if err := json.Unmarshal(r, &m); err != nil {
			return err
		}
		s.Series = append(s.Series, struct {
			Start, End string
			stats.Measures
		}{b.Start, b.End, m})
	}
	return nil
}

// expect computes, by hand, the measures of the script's calls that keep
// keeps: the arithmetic the statistics promise, written out.
func expect(script []weekCall, keep func(weekCall) bool, sla func(weekCall) int64, users int64) stats.Measures {
	in, out := stats.Sums{Users: users}, stats.Sums{Users: users}
	for _, c := range script {
		if !keep(c) {
			continue
		}
		if c.outbound != "" {
			out.Calls++
			out.Duration += c.duration
			out.Talk += c.talk
			if c.answeredBy != "" {
				out.Answered++
			}
			continue
		}
		in.Calls++
		in.Duration += c.duration
		in.Talk += c.talk
		offered := c.missed != dialplan.OutOfOpeningHours && c.missed != dialplan.ShortAbandoned && c.missed != dialplan.BlockedCaller
		if offered {
			in.Offered++
			in.LongestWait = max(in.LongestWait, c.wait)
		}
		if c.answeredBy != "" {
			in.Answered++
			in.Wait += c.wait
			if c.wait <= sla(c) {
				in.WithinSLA++
			}
		} else {
			in.Missed[stats.ReasonCode(c.missed)-1]++
		}
		if c.voicemail {
			in.Voicemails++
		}
	}
	return stats.Measure(in, out)
}

func merge(a, b url.Values) url.Values {
	out := url.Values{}
	for _, v := range []url.Values{a, b} {
		for k, vs := range v {
			out[k] = vs
		}
	}
	return out
}

func parseTime(t *testing.T, s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}
