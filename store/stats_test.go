package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/stats"
	"github.com/switchboard/switchboard/store"
)

// statsWorld is a callWorld with random calls over March and April 2026
// (Paris and New York change to summer time then), written the way the
// engine and the API write them: saved while ringing, then ended; tagged,
// assigned and archived afterwards.
type statsWorld struct {
	*callWorld
	users   []dialplan.UserID
	numbers []dialplan.NumberID
	teams   []dialplan.TeamID
	tags    []dialplan.TagID
}

func newStatsWorld(t *testing.T, seed uint64, calls int) *statsWorld {
	t.Helper()
	ctx := context.Background()
	w := &statsWorld{callWorld: newCallWorld(t)}
	// The second number has a service level of its own.
	w.second.SLASeconds = 30
	require.NoError(t, w.st.UpdateNumber(ctx, w.acme.ID, &w.second))
	w.users = []dialplan.UserID{w.alice.ID, w.bob.ID, w.owner.ID}
	w.numbers = []dialplan.NumberID{w.main.ID, w.second.ID}
	w.teams = []dialplan.TeamID{w.support.ID, w.sales.ID}
	w.tags = []dialplan.TagID{w.vip.ID, w.callback.ID}

	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	span := int64(61 * 24 * time.Hour)
	for range calls {
		t0 := start.Add(time.Duration(r.Int64N(span)))
		c := dialplan.Call{Company: w.acme.ID, Direction: dialplan.Inbound, Status: dialplan.CallInitial,
			RawDigits: fmt.Sprintf("+336%08d", r.IntN(1e8)), StartedAt: t0, IVROptions: []string{}}
		if r.IntN(10) > 0 {
			c.Number = w.numbers[r.IntN(2)]
		}
		for _, tm := range w.teams {
			if r.IntN(3) == 0 {
				c.Teams = append(c.Teams, tm)
			}
		}
		if r.IntN(4) == 0 {
			c.Direction = dialplan.Outbound
			c.User = w.users[r.IntN(3)]
		}
		evs := []dialplan.TimelineEvent{{Event: events.CallCreated, At: t0, Data: events.Created{To: "+33176390861"}}}
		if r.IntN(3) == 0 {
			evs = append(evs, dialplan.TimelineEvent{Event: events.CallAgentNoAnswer, At: t0.Add(time.Second),
				User: w.users[r.IntN(3)], Data: events.AgentOutcome{Cause: 19}})
		}
		require.NoError(t, w.st.SaveCall(ctx, &c, evs, nil))
		if r.IntN(20) == 0 {
			continue // still going: not counted
		}
		end := t0.Add(time.Duration(r.IntN(900_000)) * time.Millisecond)
		c.EndedAt, c.Status = &end, dialplan.CallDone
		var tasks []dialplan.TaskKind
		if r.IntN(3) > 0 {
			answered := t0.Add(time.Duration(r.Int64N(int64(end.Sub(t0)) + 1)))
			c.AnsweredAt = &answered
			if c.User == 0 {
				c.User = w.users[r.IntN(3)]
			}
		} else if c.Direction == dialplan.Inbound {
			c.MissedReason = stats.Reasons[r.IntN(len(stats.Reasons))]
			if r.IntN(3) == 0 {
				c.Voicemail = "vm-" + fmt.Sprint(r.Int())
			}
			if c.MissedReason != dialplan.BlockedCaller {
				tasks = append(tasks, dialplan.TaskMissedCall)
			}
		}
		var ended []dialplan.TimelineEvent
		if r.IntN(8) == 0 {
			ended = append(ended, dialplan.TimelineEvent{Event: events.CallCalledBack, At: end.Add(-time.Second), User: w.alice.ID})
		}
		ended = append(ended, dialplan.TimelineEvent{Event: events.CallEnded, At: end})
		require.NoError(t, w.st.SaveCall(ctx, &c, ended, tasks))
		if r.IntN(3) == 0 {
			require.NoError(t, w.st.TagCall(ctx, w.acme.ID, c.ID, w.owner.ID, []dialplan.TagID{w.tags[r.IntN(2)]}))
		}
		if r.IntN(5) == 0 {
			require.NoError(t, w.st.AssignCall(ctx, w.acme.ID, c.ID, w.owner.ID, w.users[r.IntN(3)]))
		}
		if r.IntN(5) == 0 {
			require.NoError(t, w.st.ArchiveCall(ctx, w.acme.ID, c.ID, w.owner.ID, true))
		}
		if r.IntN(10) == 0 { // tagged, then not any more
			require.NoError(t, w.st.TagCall(ctx, w.acme.ID, c.ID, w.owner.ID, []dialplan.TagID{w.vip.ID}))
			require.NoError(t, w.st.UntagCall(ctx, w.acme.ID, c.ID, w.owner.ID, w.vip.ID))
		}
	}
	// Another company's calls never count.
	for range 20 {
		c := w.newOther(nil)
		end := c.StartedAt.Add(time.Minute)
		c.EndedAt, c.Status = &end, dialplan.CallDone
		require.NoError(t, w.st.SaveCall(ctx, &c, nil, nil))
	}
	return w
}

// randomQuery is a query over the world's period with random filters.
func (w *statsWorld) randomQuery(r *rand.Rand) stats.Query {
	zones := []string{"Europe/Paris", "UTC", "America/New_York", "Asia/Kolkata"}
	loc, _ := time.LoadLocation(zones[r.IntN(len(zones))])
	groups := []stats.Grouping{stats.Hour, stats.Day, stats.Week, stats.Month}
	from := time.Date(2026, 3, 1+r.IntN(20), r.IntN(24), 0, 0, 0, loc)
	q := stats.Query{From: from, To: from.Add(time.Duration(1+r.IntN(40*24)) * time.Hour), Location: loc,
		Group: groups[r.IntN(len(groups))]}
	pick := func(n int) []int {
		var out []int
		for i := range n {
			if r.IntN(2) == 0 {
				out = append(out, i)
			}
		}
		return out
	}
	if r.IntN(3) == 0 {
		for _, i := range pick(2) {
			q.Numbers = append(q.Numbers, w.numbers[i])
		}
	}
	if r.IntN(3) == 0 {
		for _, i := range pick(3) {
			q.Users = append(q.Users, w.users[i])
		}
	}
	if r.IntN(3) == 0 {
		for _, i := range pick(2) {
			q.Teams = append(q.Teams, w.teams[i])
		}
	}
	if r.IntN(3) == 0 {
		for _, i := range pick(2) {
			q.Tags = append(q.Tags, w.tags[i])
		}
	}
	if r.IntN(3) == 0 {
		q.Direction = []stats.Direction{stats.Inbound, stats.Outbound}[r.IntN(2)]
	}
	if r.IntN(3) == 0 {
		q.TimeOfDay = &stats.Window{From: r.IntN(24) * 60, To: r.IntN(24)*60 + 30*r.IntN(2)}
		if q.TimeOfDay.From == q.TimeOfDay.To {
			q.TimeOfDay.To = (q.TimeOfDay.To + 60) % (24 * 60)
		}
	}
	return q
}

// rawSums computes a query's figures the straightforward way: from the
// call records, their tags, teams and timelines, grouped by PostgreSQL's
// own date_trunc in the time zone, without call_stats.
func (w *statsWorld) rawSums(t *testing.T, q stats.Query) (map[string][2]stats.Sums, map[dialplan.UserID][2]stats.Sums) {
	t.Helper()
	tod, tdFrom, tdTo := false, "00:00", "00:00"
	if q.TimeOfDay != nil {
		tod = true
		tdFrom = fmt.Sprintf("%02d:%02d", q.TimeOfDay.From/60, q.TimeOfDay.From%60)
		tdTo = fmt.Sprintf("%02d:%02d", q.TimeOfDay.To/60, q.TimeOfDay.To%60)
	}
	ids := func(a any) any {
		switch v := a.(type) {
		case []dialplan.NumberID:
			if len(v) > 0 {
				return pq.Array(v)
			}
		case []dialplan.UserID:
			if len(v) > 0 {
				return pq.Array(v)
			}
		case []dialplan.TeamID:
			if len(v) > 0 {
				return pq.Array(v)
			}
		case []dialplan.TagID:
			if len(v) > 0 {
				return pq.Array(v)
			}
		}
		return nil
	}
	const query = `WITH x AS (
	SELECT c.id, c.user_id, c.direction = 'inbound' AS inb, c.answered_at IS NOT NULL AS ans, c.voicemail, c.missed_call_reason,
		c.waiting_time, c.talk_time, date_trunc($2, c.started_at AT TIME ZONE $3)::text AS k,
		floor(extract(epoch FROM c.ended_at)) - floor(extract(epoch FROM c.started_at)) AS dur,
		coalesce(n.sla_seconds, co.sla_seconds) AS sla,
		c.direction = 'inbound' AND coalesce(c.missed_call_reason, '') NOT IN ('out_of_opening_hours', 'short_abandoned', 'blocked') AS offered,
		c.direction = 'inbound' AND c.answered_at IS NULL AND coalesce(c.missed_call_reason, '') <> 'blocked' AS missed,
		c.ended_at
	FROM calls c JOIN companies co ON co.id = c.company_id LEFT JOIN numbers n ON n.id = c.number_id
	WHERE c.company_id = $1 AND c.status = 'done' AND c.started_at >= $4 AND c.started_at < $5
		AND ($6::bigint[] IS NULL OR c.number_id = ANY ($6))
		AND ($7::bigint[] IS NULL OR c.user_id = ANY ($7))
		AND ($8::bigint[] IS NULL OR EXISTS (SELECT 1 FROM call_teams ct WHERE ct.call_id = c.id AND ct.team_id = ANY ($8)))
		AND ($9::bigint[] IS NULL OR EXISTS (SELECT 1 FROM call_tags ct WHERE ct.call_id = c.id AND ct.tag_id = ANY ($9)))
		AND ($10 = '' OR c.direction = $10)
		AND (NOT $11 OR CASE WHEN $12::time < $13::time
			THEN (c.started_at AT TIME ZONE $3)::time >= $12::time AND (c.started_at AT TIME ZONE $3)::time < $13::time
			ELSE (c.started_at AT TIME ZONE $3)::time >= $12::time OR (c.started_at AT TIME ZONE $3)::time < $13::time END)),
inbox AS (
	SELECT x.*, CASE WHEN x.missed THEN x.ended_at
		ELSE (SELECT min(e.at) FROM events e WHERE e.call_id = x.id AND e.event = 'call.assigned') END AS inbox_at
	FROM x),
y AS (
	SELECT inbox.*, (SELECT min(e.at) FROM events e WHERE e.call_id = inbox.id AND e.at >= inbox.inbox_at
		AND (e.event IN ('call.called_back', 'call.archived') OR (inbox.missed AND e.event = 'call.assigned'))) AS handled_at
	FROM inbox)
SELECT grouping(k) = 1 AS per_user, coalesce(k, ''), coalesce(user_id, 0), inb, count(*), count(*) FILTER (WHERE ans),
	count(*) FILTER (WHERE voicemail IS NOT NULL), coalesce(sum(dur), 0), coalesce(sum(talk_time), 0),
	coalesce(sum(waiting_time) FILTER (WHERE ans), 0), coalesce(max(waiting_time) FILTER (WHERE offered), 0),
	count(*) FILTER (WHERE missed_call_reason = 'out_of_opening_hours'), count(*) FILTER (WHERE missed_call_reason = 'short_abandoned'),
	count(*) FILTER (WHERE missed_call_reason = 'abandoned_in_ivr'), count(*) FILTER (WHERE missed_call_reason = 'abandoned_in_classic'),
	count(*) FILTER (WHERE missed_call_reason = 'no_available_agent'), count(*) FILTER (WHERE missed_call_reason = 'agents_did_not_answer'),
	count(*) FILTER (WHERE missed_call_reason = 'blocked'),
	count(*) FILTER (WHERE offered), count(*) FILTER (WHERE offered AND ans AND waiting_time <= sla),
	count(*) FILTER (WHERE handled_at IS NOT NULL),
	coalesce(sum(round(extract(epoch FROM handled_at - inbox_at))) FILTER (WHERE handled_at IS NOT NULL), 0)
FROM y GROUP BY GROUPING SETS ((k, inb), (user_id, inb))`
	rows, err := w.db.Query(query, w.acme.ID, string(q.Group), q.Location.String(), q.From, q.To, ids(q.Numbers),
		ids(q.Users), ids(q.Teams), ids(q.Tags), string(q.Direction), tod, tdFrom, tdTo)
	require.NoError(t, err)
	defer rows.Close()
	buckets, users := map[string][2]stats.Sums{}, map[dialplan.UserID][2]stats.Sums{}
	for rows.Next() {
		var (
			perUser, inbound bool
			key              string
			user             dialplan.UserID
			s                stats.Sums
			m                = &s.Missed
		)
		require.NoError(t, rows.Scan(&perUser, &key, &user, &inbound, &s.Calls, &s.Answered, &s.Voicemails, &s.Duration,
			&s.Talk, &s.Wait, &s.LongestWait, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &m[6], &s.Offered, &s.WithinSLA,
			&s.Handled, &s.Handling))
		dir := 1
		if inbound {
			dir = 0
		}
		if perUser {
			if user == 0 {
				continue
			}
			u := users[user]
			u[dir] = s
			users[user] = u
			continue
		}
		b := buckets[key]
		b[dir] = s
		buckets[key] = b
	}
	require.NoError(t, rows.Err())
	return buckets, users
}

// localKey is how date_trunc names the bucket that starts at start.
func localKey(start time.Time, g stats.Grouping, loc *time.Location) string {
	l := start.In(loc)
	y, m, d := l.Date()
	switch g {
	case stats.Hour:
		l = time.Date(y, m, d, l.Hour(), 0, 0, 0, time.UTC)
	case stats.Week:
		l = time.Date(y, m, d-(int(l.Weekday())+6)%7, 0, 0, 0, 0, time.UTC)
	case stats.Month:
		l = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	default:
		l = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return l.Format("2006-01-02 15:04:05")
}

func TestStatsEqualStraightforwardSQL(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("STATS_SEED"); s != "" { // to replay a failure
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "STATS_SEED")
	}
	t.Logf("seed %d (replay with STATS_SEED=%[1]d)", seed)
	w := newStatsWorld(t, seed, 400)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 2))
	counted := 0
	for i := range 60 {
		q := w.randomQuery(r)
		if i == 0 {
			q = stats.Query{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC),
				Location: time.UTC, Group: stats.Month} // everything
		}
		p, err := q.Plan()
		require.NoError(t, err)
		rows, err := w.st.Stats(ctx, w.acme.ID, q, p)
		require.NoError(t, err)
		got := p.Combine(rows, 0)
		wantBuckets, wantUsers := w.rawSums(t, q)
		desc := fmt.Sprintf("query %d: %+v", i, q)
		if w := q.TimeOfDay; w != nil {
			desc += fmt.Sprintf(", time of day %+v", *w)
		}
		for b, bucket := range p.Buckets {
			key := localKey(bucket.Start, q.Group, q.Location)
			require.Equal(t, wantBuckets[key], got.Buckets[b], "%s, bucket %s", desc, key)
			delete(wantBuckets, key)
		}
		require.Empty(t, wantBuckets, "%s: calls outside every bucket", desc)
		userRows, err := w.st.StatsUsers(ctx, w.acme.ID, q, p)
		require.NoError(t, err)
		gotUsers := map[dialplan.UserID][2]stats.Sums{}
		for u, s := range stats.ByUser(userRows) {
			gotUsers[u] = *s
		}
		require.Equal(t, wantUsers, gotUsers, desc)
		counted += int(got.Total[0].Calls + got.Total[1].Calls)
		if i == 0 {
			require.Greater(t, got.Total[0].Calls, int64(200), "the whole period has most calls")
			require.Greater(t, got.Total[0].Handled, int64(0))
			require.Greater(t, got.Total[0].WithinSLA, int64(0))
		}
	}
	require.Greater(t, counted, 1000, "the random queries counted calls")

	// The hourly sums the saves kept up are those of the rows, summed anew.
	hourly := func() []map[string]any {
		var rows []map[string]any
		r, err := w.db.Queryx("SELECT * FROM call_stats_hourly WHERE company_id = $1 ORDER BY hour, inbound, shard", w.acme.ID)
		require.NoError(t, err)
		defer r.Close()
		for r.Next() {
			m := map[string]any{}
			require.NoError(t, r.MapScan(m))
			rows = append(rows, m)
		}
		return rows
	}
	kept := hourly()
	require.NotEmpty(t, kept)
	require.NoError(t, w.st.RebuildHourly(ctx, w.acme.ID))
	require.Equal(t, hourly(), kept)
}

func TestScopeUsers(t *testing.T) {
	ctx := context.Background()
	w := newStatsWorld(t, 3, 0)
	for _, tt := range []struct {
		name string
		q    stats.Query
		want int64
	}{
		{"the company", stats.Query{}, 3},
		{"users named", stats.Query{Users: []dialplan.UserID{w.alice.ID, w.globexUser.ID}}, 1},
		{"a team's members", stats.Query{Teams: []dialplan.TeamID{w.support.ID}}, 1},
		{"users named win over teams", stats.Query{Users: []dialplan.UserID{w.alice.ID, w.bob.ID}, Teams: []dialplan.TeamID{w.support.ID}}, 2},
	} {
		n, err := w.st.ScopeUsers(ctx, w.acme.ID, tt.q)
		require.NoError(t, err)
		require.Equal(t, tt.want, n, tt.name)
	}
}

func TestStatsFollowTagsAndDeletions(t *testing.T) {
	ctx := context.Background()
	w := newStatsWorld(t, 7, 0)
	c := w.newCall(func(c *dialplan.Call) { c.Teams = []dialplan.TeamID{w.sales.ID} })
	end := c.StartedAt.Add(time.Minute)
	c.EndedAt, c.Status = &end, dialplan.CallDone
	require.NoError(t, w.st.SaveCall(ctx, &c, nil, []dialplan.TaskKind{dialplan.TaskMissedCall}))
	row := func() (tags, teams []int64, handled bool) {
		var r struct {
			Tags    pq.Int64Array `db:"tags"`
			Teams   pq.Int64Array `db:"teams"`
			Handled bool          `db:"handled"`
		}
		require.NoError(t, w.db.Get(&r, "SELECT tags, teams, handling IS NOT NULL AS handled FROM call_stats WHERE call_id = $1", c.ID))
		return r.Tags, r.Teams, r.Handled
	}
	tags, teams, handled := row()
	require.Empty(t, tags)
	require.Equal(t, []int64{int64(w.sales.ID)}, teams)
	require.False(t, handled)

	require.NoError(t, w.st.TagCall(ctx, w.acme.ID, c.ID, w.owner.ID, []dialplan.TagID{w.vip.ID}))
	require.NoError(t, w.st.AssignCall(ctx, w.acme.ID, c.ID, w.owner.ID, w.bob.ID))
	tags, _, handled = row()
	require.Equal(t, []int64{int64(w.vip.ID)}, tags)
	require.True(t, handled, "assigning a missed call handles it")

	require.NoError(t, w.st.DeleteTag(ctx, w.acme.ID, w.vip.ID))
	require.NoError(t, w.st.DeleteTeam(ctx, w.acme.ID, w.sales.ID))
	tags, teams, _ = row()
	require.Empty(t, tags, "a deleted tag leaves the statistics")
	require.Empty(t, teams, "a deleted team too")
	require.True(t, slices.Equal(tags, []int64{}) || tags == nil)
}

func TestAgentActivities(t *testing.T) {
	ctx := context.Background()
	w := newStatsWorld(t, 9, 0)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, paris) }
	publish := func(when time.Time, kind events.Kind, data any) {
		require.NoError(t, w.st.Publish(ctx, w.acme.ID, store.Event{Kind: kind, At: when, User: w.alice.ID, Data: data}))
	}
	publish(at(8, 0).AddDate(0, 0, -1), events.UserConnected, nil) // the day before: connected since
	publish(at(12, 0), events.UserClosed, nil)
	publish(at(13, 0), events.UserOpened, nil)
	publish(at(15, 0), events.UserWutStart, events.WrapUp{Seconds: 600})
	publish(at(15, 10), events.UserWutEnd, nil)
	publish(at(17, 0), events.UserDisconnected, nil)
	// Alice answers a call 10:00–10:30; Bob's phone rang for it unanswered.
	answered, end := at(10, 0), at(10, 30)
	c := w.newCall(func(c *dialplan.Call) {
		c.StartedAt, c.AnsweredAt, c.EndedAt, c.User, c.Status = at(9, 59), &answered, &end, w.alice.ID, dialplan.CallDone
	})
	require.NoError(t, w.st.SaveCall(ctx, &c, []dialplan.TimelineEvent{{Event: events.CallAgentNoAnswer, At: at(9, 59),
		User: w.bob.ID, Data: events.AgentOutcome{Cause: 19}}}, nil))

	window := stats.Window{From: 9 * 60, To: 18 * 60}
	q := stats.Query{From: at(0, 0), To: at(0, 0).AddDate(0, 0, 1), Location: paris, Group: stats.Day, TimeOfDay: &window}
	p, err := q.Plan()
	require.NoError(t, err)
	got, err := w.st.AgentActivities(ctx, w.acme.ID, []dialplan.UserID{w.alice.ID, w.bob.ID}, q, p)
	require.NoError(t, err)
	alice := got[w.alice.ID]
	require.True(t, alice.Start.Connected, "connected the day before")
	assert := require.New(t)
	assert.Equal(map[stats.Status]time.Duration{
		stats.Available:     time.Hour + 90*time.Minute + 2*time.Hour + 110*time.Minute, // 9–10, 10:30–12, 13–15, 15:10–17
		stats.InCall:        30 * time.Minute,
		stats.DoNotDisturb:  time.Hour,
		stats.AfterCallWork: 10 * time.Minute,
		stats.Offline:       time.Hour, // 17–18
	}, p.Presence(alice.Start, alice.Changes, 30*time.Minute, q.To), "the call's talk time is taken from the available time")
	assert.Zero(alice.Missed)
	assert.EqualValues(1, got[w.bob.ID].Missed)
	assert.Equal(map[stats.Status]time.Duration{stats.Offline: 9 * time.Hour}, p.Presence(got[w.bob.ID].Start, got[w.bob.ID].Changes, 0, q.To))
}
