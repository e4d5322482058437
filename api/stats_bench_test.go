package api_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// The statistics on years of calls: SWITCHBOARD_STATS_BENCH_CALLS calls
// (10,000,000 for the figures in the README) over three years, 100
// numbers, 500 users, 20 teams and 10 tags, in one company. Loading ten
// million calls takes minutes; with SWITCHBOARD_STATS_BENCH_URL (a
// database migrated by `switchboard migrate`) they are loaded once and
// kept for the next runs.
//
//	SWITCHBOARD_STATS_BENCH_CALLS=10000000 go test ./api -run '^$' -bench BenchmarkStats -benchtime 40x -timeout 2h
func benchStatsEnv(b *testing.B) (*env, key) {
	b.Helper()
	n, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_STATS_BENCH_CALLS"))
	if n <= 0 {
		b.Skip("set SWITCHBOARD_STATS_BENCH_CALLS (10000000 for the README's figures) to run the statistics benchmark")
	}
	var db *sqlx.DB
	if url := os.Getenv("SWITCHBOARD_STATS_BENCH_URL"); url != "" {
		var err error
		db, err = sqlx.Open("postgres", url)
		require.NoError(b, err)
		b.Cleanup(func() { db.Close() })
	} else {
		db = storetest.New(b)
	}
	st := store.New(db)
	ctx := context.Background()
	var company dialplan.CompanyID
	err := db.Get(&company, "SELECT id FROM companies WHERE name = 'Statistics benchmark'")
	if err != nil {
		c := dialplan.Company{Name: "Statistics benchmark", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
		u := dialplan.User{FirstName: "Owner", Email: "owner@bench.test", Role: dialplan.RoleAdmin, Owner: true}
		require.NoError(b, c.Normalize())
		require.NoError(b, u.Normalize(c))
		_, err := st.Bootstrap(ctx, &c, &u)
		require.NoError(b, err)
		company = c.ID
		start := time.Now()
		loadBenchCalls(b, db, company, n)
		b.Logf("loaded %d calls in %s", n, time.Since(start).Round(time.Second))
	}
	creds, err := st.CreateAPIKey(ctx, company, benchOwner(b, db, company), "bench")
	require.NoError(b, err)
	srv := httptest.NewServer(api.NewServer(api.Deps{Store: st}))
	b.Cleanup(srv.Close)
	return &env{db: db, store: st, url: srv.URL}, key{id: creds.APIID, token: creds.APIToken, company: company}
}

func benchOwner(b *testing.B, db *sqlx.DB, company dialplan.CompanyID) dialplan.UserID {
	var id dialplan.UserID
	require.NoError(b, db.Get(&id, "SELECT id FROM users WHERE company_id = $1 AND owner ORDER BY id LIMIT 1", company))
	return id
}

// loadBenchCalls writes n calls and their stats rows as SaveCall would
// have, in SQL (a million SaveCalls would take an hour).
func loadBenchCalls(b *testing.B, db *sqlx.DB, company dialplan.CompanyID, n int) {
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
		require.NoError(b, err)
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
		require.NoError(b, err, "batch from %d", from)
		_, err = db.Exec(`INSERT INTO call_teams (company_id, call_id, team_id) SELECT company_id, call_id, teams[1]
			FROM call_stats WHERE company_id = $1 AND call_id > coalesce((SELECT max(call_id) FROM call_teams), 0)`, company)
		require.NoError(b, err)
		_, err = db.Exec(`INSERT INTO call_tags (company_id, call_id, tag_id) SELECT company_id, call_id, tags[1]
			FROM call_stats WHERE company_id = $1 AND tags IS NOT NULL AND call_id > coalesce((SELECT max(call_id) FROM call_tags), 0)`, company)
		require.NoError(b, err)
		b.Logf("loaded %d calls", to)
	}
	// The hourly sums, as the calls' saves would have added them up.
	require.NoError(b, store.New(db).RebuildHourly(context.Background(), company))
	_, err := db.Exec("VACUUM ANALYZE")
	require.NoError(b, err)
}

// benchGet times GET paths and reports their p50 and p95.
func benchGet(b *testing.B, e *env, k key, path func(i int) string) {
	var took []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req, err := http.NewRequest("GET", e.url+path(i), nil)
		require.NoError(b, err)
		req.SetBasicAuth(k.id, k.token)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		took = append(took, time.Since(start))
		require.NoError(b, err)
		require.Equal(b, http.StatusOK, res.StatusCode, path(i))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
}

func BenchmarkStats(b *testing.B) {
	e, k := benchStatsEnv(b)
	ids := map[string][]int64{}
	for _, table := range []string{"users", "numbers", "teams", "tags"} {
		var all []int64
		require.NoError(b, e.db.Select(&all, "SELECT id FROM "+table+" WHERE company_id = $1 ORDER BY id", k.company))
		ids[table] = all
	}
	benchFilter := func(r *rand.Rand) string {
		pick := func(table string) int64 { return ids[table][r.IntN(len(ids[table]))] }
		switch r.IntN(7) {
		case 0:
			return ""
		case 1:
			return fmt.Sprintf("&number_id=%d", pick("numbers"))
		case 2:
			return fmt.Sprintf("&user_id=%d", pick("users"))
		case 3:
			return fmt.Sprintf("&team_id=%d", pick("teams"))
		case 4:
			return fmt.Sprintf("&tag_id=%d", pick("tags"))
		case 5:
			return "&direction=inbound&time_from=09:00&time_to=18:00"
		default:
			return fmt.Sprintf("&number_id=%d,%d&team_id=%d", pick("numbers"), pick("numbers"), pick("teams"))
		}
	}
	b.Run("month-by-day-any-filter", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		benchGet(b, e, k, func(i int) string {
			m := time.Date(2024, time.Month(1+r.IntN(36)), 1, 0, 0, 0, 0, time.UTC)
			return fmt.Sprintf("/v1/stats?from=%s&to=%s&group_by=day%s", m.Format("2006-01-02"),
				m.AddDate(0, 1, -1).Format("2006-01-02"), benchFilter(r))
		})
	})
	b.Run("year-by-month", func(b *testing.B) {
		r := rand.New(rand.NewPCG(3, 4))
		benchGet(b, e, k, func(i int) string {
			y := 2024 + r.IntN(3)
			return fmt.Sprintf("/v1/stats?from=%d-01-01&to=%d-12-31&group_by=month", y, y)
		})
	})
	b.Run("year-by-month-any-filter", func(b *testing.B) {
		r := rand.New(rand.NewPCG(5, 6))
		benchGet(b, e, k, func(i int) string {
			y := 2024 + r.IntN(3)
			return fmt.Sprintf("/v1/stats?from=%d-01-01&to=%d-12-31&group_by=month%s", y, y, benchFilter(r))
		})
	})
	b.Run("month-users", func(b *testing.B) {
		r := rand.New(rand.NewPCG(7, 8))
		benchGet(b, e, k, func(i int) string {
			m := time.Date(2024, time.Month(1+r.IntN(36)), 1, 0, 0, 0, 0, time.UTC)
			return fmt.Sprintf("/v1/stats/users?from=%s&to=%s", m.Format("2006-01-02"), m.AddDate(0, 1, -1).Format("2006-01-02"))
		})
	})
	b.Run("csv-1M-calls", func(b *testing.B) {
		// about a million calls: 110 days of 9,100 a day
		var rows int64
		for b.Loop() {
			req, err := http.NewRequest("GET", e.url+"/v1/stats.csv?table=calls&from=2025-01-01&to=2025-04-20", nil)
			require.NoError(b, err)
			req.SetBasicAuth(k.id, k.token)
			start := time.Now()
			res, err := http.DefaultClient.Do(req)
			require.NoError(b, err)
			lines, err := countLines(res.Body)
			res.Body.Close()
			require.NoError(b, err)
			rows = lines - 1
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
		}
		b.ReportMetric(float64(rows), "rows")
	})
}

func countLines(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<16)
	var n int64
	for {
		m, err := r.Read(buf)
		for _, c := range buf[:m] {
			if c == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
