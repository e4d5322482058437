package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/live"
	"github.com/switchboard/switchboard/mail"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
	"github.com/switchboard/switchboard/web"
)

// BenchmarkPages measures the server's time of every page in a company of
// 500 users, 100 numbers, 20 teams and 100,000 calls
// (storetest.SeedCompany), signed in as its owner: each page's reads
// through the API in-process, the session's check and the rendering (p50
// and p95 reported). The live view is the hub switchboard runs, built
// from the same database: its board has the 500 agents.
//
//	go test -run='^$' -bench=Pages -benchtime=200x ./web
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	db := storetest.New(b)
	st := store.New(db)
	c := dialplan.Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	owner := dialplan.User{FirstName: "Olga", Email: "owner@acme.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(b, c.Normalize())
	require.NoError(b, owner.Normalize(c))
	_, err := st.Bootstrap(ctx, &c, &owner)
	require.NoError(b, err)
	storetest.SeedCompany(b, db, c.ID, 100_000)
	var agents []dialplan.UserID
	require.NoError(b, db.Select(&agents, "SELECT id FROM users WHERE company_id = $1 AND NOT owner ORDER BY id", c.ID))
	for i, id := range agents {
		if i%3 == 0 { // a third invited, not yet accepted
			_, _, err := st.CreatePasswordToken(ctx, c.ID, id, store.Invitation, web.InvitationTTL)
			require.NoError(b, err)
		}
	}
	var number, team, call int64
	require.NoError(b, db.Get(&number, "SELECT min(id) FROM numbers WHERE company_id = $1", c.ID))
	require.NoError(b, db.Get(&team, "SELECT min(id) FROM teams WHERE company_id = $1", c.ID))
	require.NoError(b, db.Get(&call, "SELECT max(id) FROM calls WHERE company_id = $1", c.ID))
	token, _, err := st.CreateSession(ctx, c.ID, owner.ID, time.Hour, time.Hour)
	require.NoError(b, err)
	hub := live.NewHub(live.HubConfig{Store: st})
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(hubCtx) }()
	b.Cleanup(func() { stopHub(); <-hubDone })
	<-hub.Ready()
	apiHandler := api.NewServer(api.Deps{Store: st, Live: hub})
	h := web.New(web.Deps{Store: st, API: apiHandler, Mail: mail.Log{Logger: slog.New(slog.DiscardHandler)}, PublicURL: "http://127.0.0.1"})

	pages := []string{"/", "/team", "/team?page=10", "/teams", fmt.Sprintf("/teams/%d", team), "/numbers",
		fmt.Sprintf("/numbers/%d", number), "/calls", "/calls?direction=inbound&page=20", fmt.Sprintf("/calls/%d", call),
		"/stats", "/stats?group_by=hour", "/live", fmt.Sprintf("/team/users/%d", agents[0]), "/tags", "/integrations", "/account", "/account/company", "/account/api-keys"}
	for _, page := range pages {
		b.Run(page, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page, nil)
				req.AddCookie(&http.Cookie{Name: "sb_session", Value: token})
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `id="live-off"`) {
					b.Fatalf("%s: %d %s", page, rec.Code, rec.Body.String())
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
