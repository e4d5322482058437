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
		storetest.SeedCompany(b, db, company, n)
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
