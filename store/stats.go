package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/stats"
)

// Statistics read two tables (migration 00008), both written by the
// statements that write the calls, in their transactions:
//   - call_stats, one narrow row per ended call, scanned for a query with
//     filters on numbers, users, teams or tags;
//   - call_stats_hourly, the sums of call_stats by company, UTC hour and
//     direction (in a few shards, so that calls ending at once do not wait
//     on one row), read for the queries without those filters: a year of a
//     busy company is millions of calls but 8,760 hours.
// statsSums says once what a call adds to each sum, for both.

// statsSums are the sums of statistics: the column of call_stats_hourly,
// and what a call's call_stats row r adds to it.
var statsSums = []struct{ column, call string }{
	{"calls", "1"},
	{"answered", "r.answered::int"},
	{"voicemails", "r.voicemail::int"},
	{"duration", "r.duration"},
	{"talk", "r.talk"},
	{"wait", "CASE WHEN r.answered THEN r.wait ELSE 0 END"},
	{"m1", "(r.missed_reason = 1)::int"},
	{"m2", "(r.missed_reason = 2)::int"},
	{"m3", "(r.missed_reason = 3)::int"},
	{"m4", "(r.missed_reason = 4)::int"},
	{"m5", "(r.missed_reason = 5)::int"},
	{"m6", "(r.missed_reason = 6)::int"},
	{"m7", "(r.missed_reason = 7)::int"},
	{"offered", "(" + offered + ")::int"},
	{"within_sla", "(" + offered + " AND r.sla_met)::int"},
	{"handled", "(r.handling IS NOT NULL)::int"},
	{"handling", "coalesce(r.handling, 0)"},
}

// offered: an inbound call that reached the agents' queue (not out of
// opening hours, not a short abandon, not a blocked caller).
const offered = "r.inbound AND r.missed_reason NOT IN (1, 2, 7)"

// longestWait is the one sum that is a maximum: a call's wait, when it
// was offered.
const longestWait = "CASE WHEN " + offered + " THEN r.wait ELSE 0 END"

// scanSums reads the sums in statsSums' order, then the longest wait.
func scanSums(dst *stats.Sums) []any {
	m := &dst.Missed
	return []any{&dst.Calls, &dst.Answered, &dst.Voicemails, &dst.Duration, &dst.Talk, &dst.Wait,
		&m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &m[6], &dst.Offered, &dst.WithinSLA, &dst.Handled, &dst.Handling,
		&dst.LongestWait}
}

// sumsOf is the select list of the sums: each as sum(expr(sum)), then the
// longest wait as max(longest).
func sumsOf(expr func(column, call string) string, longest string) string {
	parts := make([]string, 0, len(statsSums)+1)
	for _, x := range statsSums {
		parts = append(parts, "coalesce(sum("+expr(x.column, x.call)+"), 0)")
	}
	return strings.Join(append(parts, "coalesce(max("+longest+"), 0)"), ", ")
}

// hourlyDelta adds to call_stats_hourly what a statement changed of a
// call's stats row: new (its row now, from the statement's RETURNING) less
// old (its row before, if any). A call's start and direction never change,
// so its hour and shard do not.
func hourlyDelta(newRows, oldRows string) string {
	cols, deltas, sets := []string{}, []string{}, []string{}
	for _, x := range statsSums {
		cols = append(cols, x.column)
		oldValue := strings.ReplaceAll(x.call, "r.", "o.")
		deltas = append(deltas, "("+x.call+") - CASE WHEN o.call_id IS NULL THEN 0 ELSE ("+oldValue+") END")
		sets = append(sets, x.column+" = call_stats_hourly."+x.column+" + excluded."+x.column)
	}
	return `INSERT INTO call_stats_hourly (company_id, hour, inbound, shard, ` + strings.Join(cols, ", ") + `, longest_wait)
	SELECT r.company_id, ` + hourOf + `, r.inbound, r.call_id % 4,
		` + strings.Join(deltas, ",\n\t\t") + `, ` + longestWait + `
	FROM ` + newRows + ` r LEFT JOIN ` + oldRows + ` o ON o.call_id = r.call_id
	ON CONFLICT (company_id, hour, inbound, shard) DO UPDATE SET ` + strings.Join(sets, ", ") + `,
		longest_wait = greatest(call_stats_hourly.longest_wait, excluded.longest_wait)`
}

// reasonsArray is stats.Reasons as a SQL array: a missed-call reason's
// place in it is its code in call_stats.
var reasonsArray = func() string {
	a := make([]string, len(stats.Reasons))
	for i, r := range stats.Reasons {
		a[i] = string(r)
	}
	return "'{" + strings.Join(a, ",") + "}'::text[]"
}()

// inboxLateral computes, for a call c (calls' columns), when it entered
// the inbox and when it was first handled: a missed call (not a blocked
// caller's) enters when it ends and is handled when called back, assigned
// or archived; any other call enters when first assigned and is handled
// when called back or archived.
const inboxLateral = `LATERAL (
	SELECT i.at AS inbox_at, (SELECT min(e.at) FROM events e WHERE e.call_id = c.id AND e.at >= i.at
		AND e.event = ANY (CASE WHEN i.missed THEN '{call.called_back,call.assigned,call.archived}'
			ELSE '{call.called_back,call.archived}' END::text[])) AS handled_at
	FROM (SELECT m.missed, CASE WHEN m.missed THEN c.ended_at
			ELSE (SELECT min(e.at) FROM events e WHERE e.call_id = c.id AND e.event = 'call.assigned') END AS at
		FROM (SELECT c.direction = 'inbound' AND c.answered_at IS NULL
			AND coalesce(c.missed_call_reason, '') <> 'blocked' AS missed) m) i) h`

// saveCallStats is SaveCall's part that writes the stats row of a call
// that has ended (c: the call as written; $20 its teams; $23 the system
// tags the statement puts on it, which it cannot read back yet), and adds
// what changed to the hourly sums. Whether it was answered within the
// service level is judged now, against its number's threshold (else the
// company's): changing a threshold changes the calls to come.
var saveCallStats = `,
old_stats AS (SELECT s.* FROM call_stats s, c WHERE s.call_id = c.id),
stats AS (
	INSERT INTO call_stats (call_id, company_id, started_at, number_id, user_id, duration, wait, talk, handling,
		missed_reason, inbound, answered, voicemail, sla_met, teams, tags)
	SELECT c.id, c.company_id, c.started_at, c.number_id, c.user_id,
		greatest(floor(extract(epoch FROM c.ended_at)) - floor(extract(epoch FROM c.started_at)), 0),
		coalesce(c.waiting_time, 0), coalesce(c.talk_time, 0), ` + handlingSeconds + `,
		coalesce(array_position(` + reasonsArray + `, c.missed_call_reason), 0),
		c.direction = 'inbound', c.answered_at IS NOT NULL, c.voicemail IS NOT NULL,
		c.answered_at IS NOT NULL AND coalesce(c.waiting_time, 0) <= coalesce(
			(SELECT n.sla_seconds FROM numbers n WHERE n.id = c.number_id),
			(SELECT co.sla_seconds FROM companies co WHERE co.id = c.company_id)),
		nullif($20::bigint[], '{}'),
		nullif(ARRAY(SELECT t.tag_id FROM call_tags t WHERE t.call_id = c.id
			UNION SELECT t.id FROM tags t WHERE t.company_id = c.company_id AND t.system AND t.name = ANY ($23::text[])
			ORDER BY 1), '{}')
	FROM c, ` + inboxLateral + `
	WHERE c.status = 'done'
	ON CONFLICT (call_id) DO UPDATE SET number_id = excluded.number_id, user_id = excluded.user_id,
		duration = excluded.duration, wait = excluded.wait, talk = excluded.talk, handling = excluded.handling,
		missed_reason = excluded.missed_reason, answered = excluded.answered, voicemail = excluded.voicemail,
		sla_met = excluded.sla_met, teams = excluded.teams, tags = excluded.tags
	RETURNING *),
hourly AS (` + hourlyDelta("stats", "old_stats") + `)`

// handlingSeconds is a call's time in the inbox (inboxLateral h), whole
// seconds.
const handlingSeconds = `round(extract(epoch FROM h.handled_at - h.inbox_at))::integer`

// refreshInbox updates a call's time in the inbox after an event that
// may handle it (assigned, archived), in the event's transaction.
func refreshInbox(ctx context.Context, tx sqlx.ExecerContext, company dialplan.CompanyID, call dialplan.CallID) error {
	_, err := tx.ExecContext(ctx, `WITH old_stats AS (SELECT * FROM call_stats WHERE call_id = $2),
	stats AS (UPDATE call_stats s SET handling = `+handlingSeconds+`
		FROM calls c, `+inboxLateral+`
		WHERE c.company_id = $1 AND c.id = $2 AND s.call_id = c.id
			AND s.handling IS DISTINCT FROM `+handlingSeconds+`
		RETURNING s.*)
	`+hourlyDelta("stats", "old_stats"), company, call)
	if err != nil {
		return fmt.Errorf("inbox of call %d: %w", call, err)
	}
	return nil
}

// refreshTags updates a call's tags in its stats row, in the transaction
// that changed them.
func refreshTags(ctx context.Context, tx sqlx.ExecerContext, call dialplan.CallID) error {
	_, err := tx.ExecContext(ctx, `UPDATE call_stats SET tags = nullif(ARRAY(SELECT tag_id FROM call_tags WHERE call_id = $1 ORDER BY 1), '{}')
		WHERE call_id = $1`, call)
	if err != nil {
		return fmt.Errorf("tags of call %d: %w", call, err)
	}
	return nil
}

// forgetInStats takes a deleted tag or team out of the stats rows (column
// tags or teams), as its deletion takes it out of the calls.
func forgetInStats(ctx context.Context, tx sqlx.ExecerContext, company dialplan.CompanyID, column string, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE call_stats SET `+column+` = nullif(array_remove(`+column+`, $2), '{}')
		WHERE company_id = $1 AND `+column+` @> ARRAY[$2::bigint]`, company, id)
	if err != nil {
		return fmt.Errorf("forget %s %d in statistics: %w", column, id, err)
	}
	return nil
}

// statsFilter is the WHERE of a query on call_stats s, from $2 on ($1 is
// the company): $2 from, $3 to, $4 bounds, $5 groups, $6 numbers, $7
// users, $8 teams, $9 tags, $10 direction (” both). g is the call's
// bucket (0: outside the time of day).
const statsFilter = `s.company_id = $1 AND s.started_at >= $2 AND s.started_at < $3
	AND ($6::bigint[] IS NULL OR s.number_id = ANY ($6))
	AND ($7::bigint[] IS NULL OR s.user_id = ANY ($7))
	AND ($8::bigint[] IS NULL OR s.teams && $8)
	AND ($9::bigint[] IS NULL OR s.tags && $9)
	AND ($10 = '' OR s.inbound = ($10 = 'inbound'))`

const statsBucket = `($5::int[])[width_bucket(s.started_at, $4::timestamptz[])]`

func statsArgs(company dialplan.CompanyID, q stats.Query, p stats.Plan) []any {
	groups := make([]int64, len(p.Groups))
	for i, g := range p.Groups {
		groups[i] = int64(g)
	}
	bounds := make([]string, len(p.Bounds))
	for i, b := range p.Bounds {
		bounds[i] = b.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
	}
	return []any{company, q.From, q.To, pq.Array(bounds), pq.Array(groups), idArray(q.Numbers), idArray(q.Users),
		idArray(q.Teams), idArray(q.Tags), string(q.Direction)}
}

// idArray is a filter's ids as a SQL array, NULL when it has none (no
// filter).
func idArray[T ~int64](ids []T) any {
	if len(ids) == 0 {
		return nil
	}
	a := make([]int64, len(ids))
	for i, id := range ids {
		a[i] = int64(id)
	}
	return pq.Array(a)
}

// Stats sums a query's calls by bucket and direction (see stats.Row),
// planned by p: from the hourly sums when the query has no filter they
// cannot answer and its buckets and time of day fall on whole hours,
// otherwise from the calls' rows.
func (s *Store) Stats(ctx context.Context, company dialplan.CompanyID, q stats.Query, p stats.Plan) ([]stats.Row, error) {
	query := `SELECT g, r.inbound, ` + sumsOf(func(_, call string) string { return call }, longestWait) + `
		FROM (SELECT ` + statsBucket + ` AS g, s.* FROM call_stats s WHERE ` + statsFilter + `) r
		WHERE g > 0 GROUP BY g, r.inbound`
	if hourly(q, p) {
		query = `SELECT g, r.inbound, ` + sumsOf(func(column, _ string) string { return "r." + column }, "r.longest_wait") + `
		FROM (SELECT ($5::int[])[width_bucket(h.hour, $4::timestamptz[])] AS g, h.*
			FROM call_stats_hourly h
			WHERE h.company_id = $1 AND h.hour >= $2 AND h.hour < $3 AND ($10 = '' OR h.inbound = ($10 = 'inbound'))
				AND cardinality($6::bigint[]) IS NULL AND cardinality($7::bigint[]) IS NULL
				AND cardinality($8::bigint[]) IS NULL AND cardinality($9::bigint[]) IS NULL) r
		WHERE g > 0 GROUP BY g, r.inbound`
	}
	var out []stats.Row
	err := s.readSums(ctx, query, statsArgs(company, q, p), func(bucket int64, inbound bool, sums stats.Sums) {
		out = append(out, stats.Row{Bucket: int(bucket), Inbound: inbound, Sums: sums})
	})
	if err != nil {
		return nil, fmt.Errorf("statistics: %w", err)
	}
	return out, nil
}

// readSums runs a query whose rows are a key (a bucket, a user), a
// direction and the sums (sumsOf), and gives add each.
func (s *Store) readSums(ctx context.Context, query string, args []any, add func(key int64, inbound bool, sums stats.Sums)) error {
	return s.readOnly(ctx, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				key     int64
				inbound bool
				sums    stats.Sums
			)
			if err := rows.Scan(append([]any{&key, &inbound}, scanSums(&sums)...)...); err != nil {
				return err
			}
			add(key, inbound, sums)
		}
		return rows.Err()
	})
}

// RebuildHourly sums a company's stats rows by hour anew: a repair, and
// how a bulk load (the benchmark's) gets its hourly sums.
func (s *Store) RebuildHourly(ctx context.Context, company dialplan.CompanyID) error {
	cols := make([]string, len(statsSums))
	for i, x := range statsSums {
		cols[i] = x.column
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM call_stats_hourly WHERE company_id = $1", company); err != nil {
			return fmt.Errorf("rebuild hourly statistics: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO call_stats_hourly (company_id, hour, inbound, shard, `+strings.Join(cols, ", ")+`, longest_wait)
			SELECT r.company_id, `+hourOf+`, r.inbound, r.call_id % 4, `+sumsOf(func(_, call string) string { return call }, longestWait)+`
			FROM call_stats r WHERE r.company_id = $1 GROUP BY 1, 2, 3, 4`, company)
		if err != nil {
			return fmt.Errorf("rebuild hourly statistics: %w", err)
		}
		return nil
	})
}

// hourOf is the UTC hour of a stats row r's start.
const hourOf = "to_timestamp(floor(extract(epoch FROM r.started_at) / 3600) * 3600)"

// hourly says whether the hourly sums answer a query: no filter on
// numbers, users, teams or tags (the sums are by hour and direction
// only), and every bound of its plan on a whole hour (a time zone half
// an hour off UTC, or a time of day at 9:30, needs the calls' rows).
func hourly(q stats.Query, p stats.Plan) bool {
	if len(q.Numbers)+len(q.Users)+len(q.Teams)+len(q.Tags) > 0 {
		return false
	}
	for _, b := range p.Bounds {
		if b.Unix()%3600 != 0 || b.Nanosecond() != 0 {
			return false
		}
	}
	return true
}

// StatsUsers sums a query's calls by the user who answered or made them
// and direction: the users' rows of productivity.
func (s *Store) StatsUsers(ctx context.Context, company dialplan.CompanyID, q stats.Query, p stats.Plan) ([]stats.UserRow, error) {
	query := `SELECT r.user_id, r.inbound, ` + sumsOf(func(_, call string) string { return call }, longestWait) + `
		FROM (SELECT ` + statsBucket + ` AS g, s.* FROM call_stats s WHERE ` + statsFilter + ` AND s.user_id IS NOT NULL) r
		WHERE g > 0 GROUP BY r.user_id, r.inbound`
	var out []stats.UserRow
	err := s.readSums(ctx, query, statsArgs(company, q, p), func(user int64, inbound bool, sums stats.Sums) {
		out = append(out, stats.UserRow{User: dialplan.UserID(user), Inbound: inbound, Sums: sums})
	})
	if err != nil {
		return nil, fmt.Errorf("users' statistics: %w", err)
	}
	return out, nil
}

// ScopeUsers counts the users a query is about, the denominator of calls
// per user: those it names, else the members of the teams it names, else
// every user of the company.
func (s *Store) ScopeUsers(ctx context.Context, company dialplan.CompanyID, q stats.Query) (int64, error) {
	var n int64
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users u WHERE u.company_id = $1
		AND ($2::bigint[] IS NULL OR u.id = ANY ($2))
		AND ($2::bigint[] IS NOT NULL OR $3::bigint[] IS NULL
			OR EXISTS (SELECT 1 FROM team_members m WHERE m.user_id = u.id AND m.team_id = ANY ($3)))`,
		company, idArray(q.Users), idArray(q.Teams))
	if err != nil {
		return 0, fmt.Errorf("users of the statistics: %w", err)
	}
	return n, nil
}

// readOnly runs fn in a read-only transaction with room to group in
// memory: a month by hour is some hundred thousand groups, which the
// default work_mem would spill to disk.
func (s *Store) readOnly(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// And no JIT: compiling the aggregates takes longer than running them.
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// AgentActivity is what statistics need of an agent over a period: their
// state when it starts, what changed it during it (their user.* events),
// and the calls they were rung for and did not answer (within the
// query's filters).
type AgentActivity struct {
	Start   stats.Agent
	Changes []stats.Change
	Missed  int64
}

// AgentActivities reads the activity of users over a query's period.
func (s *Store) AgentActivities(ctx context.Context, company dialplan.CompanyID, users []dialplan.UserID, q stats.Query, p stats.Plan) (map[dialplan.UserID]*AgentActivity, error) {
	out := make(map[dialplan.UserID]*AgentActivity, len(users))
	for _, u := range users {
		out[u] = &AgentActivity{}
	}
	ids := idArray(users)
	if ids == nil {
		return out, nil
	}
	// What the stream said last before the period, per pair of kinds.
	var last []struct {
		User dialplan.UserID `db:"user_id"`
		Kind events.Kind     `db:"event"`
	}
	err := s.db.SelectContext(ctx, &last, `SELECT u.id AS user_id, l.event
		FROM unnest($2::bigint[]) AS u (id),
			unnest('{user.opened,user.wut_start,user.connected}'::text[], '{user.closed,user.wut_end,user.disconnected}'::text[]) AS k (a, b),
			LATERAL (SELECT e.event FROM events e WHERE e.user_id = u.id AND e.call_id IS NULL AND e.company_id = $1
				AND e.event IN (k.a, k.b) AND e.at < $3 ORDER BY e.at DESC, e.id DESC LIMIT 1) l`, company, ids, q.From)
	if err != nil {
		return nil, fmt.Errorf("agents' states: %w", err)
	}
	for _, l := range last {
		out[l.User].Start.Apply(l.Kind)
	}
	// Their changes during it.
	var changes []struct {
		User dialplan.UserID `db:"user_id"`
		At   time.Time       `db:"at"`
		Kind events.Kind     `db:"event"`
	}
	err = s.db.SelectContext(ctx, &changes, `SELECT e.user_id, e.at, e.event FROM unnest($2::bigint[]) AS u (id)
		JOIN events e ON e.user_id = u.id AND e.call_id IS NULL AND e.at >= $3 AND e.at < $4
		WHERE e.company_id = $1 AND e.event = ANY ($5)
		ORDER BY e.at, e.id`, company, ids, q.From, q.To, pq.Array(stats.AgentKinds))
	if err != nil {
		return nil, fmt.Errorf("agents' changes: %w", err)
	}
	for _, c := range changes {
		a := out[c.User]
		a.Changes = append(a.Changes, stats.Change{At: c.At, Kind: c.Kind})
	}
	// Rung and not answered, on the calls of the query (whoever answered
	// them: the users filter is on the agents here).
	var missed []struct {
		User  dialplan.UserID `db:"user_id"`
		Count int64           `db:"count"`
	}
	f := q
	f.Users = nil
	args := append(statsArgs(company, f, p), ids)
	err = s.db.SelectContext(ctx, &missed, `SELECT e.user_id, count(*) AS count
		FROM events e JOIN call_stats s ON s.call_id = e.call_id
		WHERE e.company_id = $1 AND e.event IN ('call.agent_no_answer', 'call.agent_declined')
			AND e.at >= $2 AND e.at < $3::timestamptz + interval '1 day' AND e.user_id = ANY ($11)
			AND `+statsFilter+` AND `+statsBucket+` > 0
		GROUP BY e.user_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("agents' missed calls: %w", err)
	}
	for _, m := range missed {
		out[m.User].Missed = m.Count
	}
	return out, nil
}

// StatsCall is a call of a query as the raw export gives it: its record's
// columns, with ids for the names the caller looks up once.
type StatsCall struct {
	ID                     dialplan.CallID
	Number, User, Assigned int64
	Direction, Status      string
	RawDigits              string
	StartedAt              time.Time
	AnsweredAt, EndedAt    *time.Time
	Duration, Wait, Talk   int64
	MissedReason, Hangup   string
	Recording, Voicemail   bool
	Archived               bool
	Teams, Tags            []int64
}

// StatsCalls calls fn with each call of a query, in the order they
// started, as PostgreSQL sends them: an export of a million calls is never
// in memory whole.
func (s *Store) StatsCalls(ctx context.Context, company dialplan.CompanyID, q stats.Query, p stats.Plan, fn func(StatsCall) error) error {
	return s.readOnly(ctx, func(tx *sqlx.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.id, coalesce(c.number_id, 0), coalesce(c.user_id, 0),
			coalesce(c.assigned_to, 0), c.direction, c.status, c.raw_digits, c.started_at, c.answered_at, c.ended_at,
			s.duration, s.wait, s.talk, coalesce(c.missed_call_reason, ''), coalesce(c.hangup_cause, ''),
			c.recording IS NOT NULL, c.voicemail IS NOT NULL, c.archived, s.teams, s.tags
			FROM call_stats s JOIN calls c ON c.id = s.call_id
			WHERE `+statsFilter+` AND `+statsBucket+` > 0
			ORDER BY s.started_at, s.call_id`, statsArgs(company, q, p)...)
		if err != nil {
			return fmt.Errorf("export calls: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r           StatsCall
				teams, tags pq.Int64Array
			)
			if err := rows.Scan(&r.ID, &r.Number, &r.User, &r.Assigned, &r.Direction, &r.Status, &r.RawDigits,
				&r.StartedAt, &r.AnsweredAt, &r.EndedAt, &r.Duration, &r.Wait, &r.Talk, &r.MissedReason, &r.Hangup,
				&r.Recording, &r.Voicemail, &r.Archived, &teams, &tags); err != nil {
				return fmt.Errorf("export calls: %w", err)
			}
			r.Teams, r.Tags = teams, tags
			if err := fn(r); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("export calls: %w", err)
		}
		return nil
	})
}

// Names are what a company's ids stand for, for exports: users' names and
// emails, numbers' names and digits, teams' and tags' names.
type Names struct {
	Users   map[int64][2]string // name, email
	Numbers map[int64][2]string // name, digits
	Teams   map[int64]string
	Tags    map[int64]string
}

// CompanyNames reads a company's Names.
func (s *Store) CompanyNames(ctx context.Context, company dialplan.CompanyID) (Names, error) {
	n := Names{Users: map[int64][2]string{}, Numbers: map[int64][2]string{}, Teams: map[int64]string{}, Tags: map[int64]string{}}
	var rows []struct {
		Table string `db:"t"`
		ID    int64  `db:"id"`
		Name  string `db:"name"`
		Extra string `db:"extra"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		SELECT 'user' AS t, id, trim(first_name || ' ' || last_name) AS name, email AS extra FROM users WHERE company_id = $1
		UNION ALL SELECT 'number', id, name, digits FROM numbers WHERE company_id = $1
		UNION ALL SELECT 'team', id, name, '' FROM teams WHERE company_id = $1
		UNION ALL SELECT 'tag', id, name, '' FROM tags WHERE company_id = $1`, company)
	if err != nil {
		return n, fmt.Errorf("names: %w", err)
	}
	for _, r := range rows {
		switch r.Table {
		case "user":
			n.Users[r.ID] = [2]string{r.Name, r.Extra}
		case "number":
			n.Numbers[r.ID] = [2]string{r.Name, r.Extra}
		case "team":
			n.Teams[r.ID] = r.Name
		case "tag":
			n.Tags[r.ID] = r.Name
		}
	}
	return n, nil
}
