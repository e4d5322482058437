package storetest

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// SeedCompany fills a company for the benchmarks: 499 agents, 100
// numbers, 20 teams, 10 tags, and n calls over three years with their
// stats rows, teams and tags, as SaveCall would have written them, in
// SQL (a million SaveCalls would take an hour): each user answers for 5
// numbers, as ring steps would have it; 70 % answered, a quarter
// outbound.
func SeedCompany(tb testing.TB, db *sqlx.DB, company dialplan.CompanyID, n int) {
	tb.Helper()
	for _, q := range []string{
		`INSERT INTO users (company_id, first_name, email, role, language, time_zone, extension)
			SELECT $1, 'Agent ' || g, 'agent' || g || '@bench.test', 'agent', 'fr-FR', 'Europe/Paris', (2000 + g)::text
			FROM generate_series(1, 499) g`,
		`INSERT INTO numbers (company_id, name, digits, country, time_zone)
			SELECT $1, 'Line ' || g, '+3317639' || lpad(g::text, 4, '0'), 'FR', 'Europe/Paris' FROM generate_series(1, 100) g`,
		`UPDATE numbers SET sla_seconds = 30 WHERE company_id = $1 AND id % 10 = 0`,
		`INSERT INTO teams (company_id, name) SELECT $1, 'Team ' || g FROM generate_series(1, 20) g`,
		`INSERT INTO tags (company_id, name, color) SELECT $1, 'Tag ' || g, '#00aa00' FROM generate_series(1, 10) g`,
	} {
		_, err := db.Exec(q, company)
		if err != nil {
			tb.Fatal(err)
		}
	}
	// Calls in batches of a million: each user answers for 5 numbers, as
	// ring steps would have it; 70 % answered, a quarter outbound.
	const batch = 1_000_000
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		_, err := db.Exec(`
WITH ids AS (
	SELECT (SELECT array_agg(id ORDER BY id) FROM users WHERE company_id = $1) AS users,
		(SELECT array_agg(id ORDER BY id) FROM numbers WHERE company_id = $1) AS numbers,
		(SELECT array_agg(id ORDER BY id) FROM teams WHERE company_id = $1) AS teams,
		(SELECT array_agg(id ORDER BY id) FROM tags WHERE company_id = $1) AS tags),
g AS (
	SELECT g, random() AS r, random() AS r2, timestamptz '2024-01-01 00:00+01' + (g::float8 / $4) * interval '1096 days' AS t0
	FROM generate_series($2::bigint, $3::bigint - 1) g),
c AS (
	SELECT g.*, ids.numbers[1 + g % 100] AS number_id, ids.users[1 + (g % 100) * 5 % 500 + (g / 100) % 5] AS user_id,
		g % 4 = 0 AS outbound, r < 0.7 AS answered, (g % 40)::int AS wait, (30 + g % 600)::int AS dur,
		ARRAY[ids.teams[1 + g % 20]] AS teams, CASE WHEN g % 3 = 0 THEN ARRAY[ids.tags[1 + g % 10]] END AS tags
	FROM g, ids),
calls AS (
	INSERT INTO calls (company_id, number_id, user_id, direction, status, raw_digits, started_at, answered_at, ended_at,
		waiting_time, talk_time, missed_call_reason, voicemail, archived)
	SELECT $1, number_id, CASE WHEN answered OR outbound THEN user_id END, CASE WHEN outbound THEN 'outbound' ELSE 'inbound' END,
		'done', '+336' || lpad((g % 100000000)::text, 8, '0'), t0,
		CASE WHEN answered THEN t0 + wait * interval '1 s' END, t0 + (wait + dur) * interval '1 s',
		wait, CASE WHEN answered THEN dur ELSE 0 END,
		CASE WHEN NOT answered AND NOT outbound THEN (ARRAY['out_of_opening_hours', 'short_abandoned', 'abandoned_in_ivr',
			'abandoned_in_classic', 'no_available_agent', 'agents_did_not_answer'])[1 + g % 6] END,
		CASE WHEN NOT answered AND NOT outbound AND r2 < 0.3 THEN 'vm' || g END, r2 < 0.5
	FROM c ORDER BY g
	RETURNING id, started_at, number_id, user_id, direction, answered_at, ended_at, waiting_time, talk_time,
		missed_call_reason, voicemail),
numbered AS (SELECT calls.*, row_number() OVER (ORDER BY id) AS k FROM calls),
src AS (SELECT c.*, row_number() OVER (ORDER BY g) AS k FROM c)
INSERT INTO call_stats (call_id, company_id, started_at, number_id, user_id, inbound, answered, voicemail, missed_reason,
	duration, wait, talk, handling, sla_met, teams, tags)
SELECT n.id, $1, n.started_at, n.number_id, n.user_id, n.direction = 'inbound', n.answered_at IS NOT NULL,
	n.voicemail IS NOT NULL, coalesce(array_position(ARRAY['out_of_opening_hours', 'short_abandoned', 'abandoned_in_ivr',
		'abandoned_in_classic', 'no_available_agent', 'agents_did_not_answer', 'blocked'], n.missed_call_reason), 0),
	extract(epoch FROM n.ended_at - n.started_at)::int, n.waiting_time, n.talk_time,
	CASE WHEN n.direction = 'inbound' AND n.answered_at IS NULL AND s.r2 < 0.6 THEN s.g % 7200 END,
	n.answered_at IS NOT NULL AND n.waiting_time <= 20, s.teams, s.tags
FROM numbered n JOIN src s USING (k)`, company, from, to, n)
		if err != nil {
			tb.Fatalf("seed calls from %d: %v", from, err)
		}
		_, err = db.Exec(`INSERT INTO call_teams (company_id, call_id, team_id) SELECT company_id, call_id, teams[1]
			FROM call_stats WHERE company_id = $1 AND call_id > coalesce((SELECT max(call_id) FROM call_teams), 0)`, company)
		if err != nil {
			tb.Fatal(err)
		}
		_, err = db.Exec(`INSERT INTO call_tags (company_id, call_id, tag_id) SELECT company_id, call_id, tags[1]
			FROM call_stats WHERE company_id = $1 AND tags IS NOT NULL AND call_id > coalesce((SELECT max(call_id) FROM call_tags), 0)`, company)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Logf("loaded %d calls", to)
	}
	// The hourly sums, as the calls' saves would have added them up.
	if err := store.New(db).RebuildHourly(context.Background(), company); err != nil {
		tb.Fatal(err)
	}
	_, err := db.Exec("VACUUM ANALYZE")
	if err != nil {
		tb.Fatal(err)
	}
}
