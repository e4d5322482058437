package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/mail"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
	"github.com/switchboard/switchboard/web"
)

// BenchmarkPages measures the server's time for Home and Team → Users in
// a company of 500 users and 100 numbers, signed in as its owner: each
// page's reads through the API in-process, the session's check and the
// rendering (p50 and p95 reported).
//
//	go test -run='^$' -bench=Pages -benchtime=300x ./web
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	st := store.New(storetest.New(b))
	c := dialplan.Company{Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	owner := dialplan.User{FirstName: "Olga", Email: "owner@acme.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(b, c.Normalize())
	require.NoError(b, owner.Normalize(c))
	_, err := st.Bootstrap(ctx, &c, &owner)
	require.NoError(b, err)
	for i := range 499 {
		u := dialplan.User{FirstName: fmt.Sprintf("User%03d", i), LastName: "Bench", Email: fmt.Sprintf("user%03d@acme.test", i), Role: dialplan.RoleAgent}
		require.NoError(b, u.Normalize(c))
		require.NoError(b, st.CreateUser(ctx, c.ID, &u))
		if i%3 == 0 { // a third invited, not yet accepted
			_, _, err := st.CreatePasswordToken(ctx, c.ID, u.ID, store.Invitation, web.InvitationTTL)
			require.NoError(b, err)
		}
	}
	for i := range 100 {
		n := dialplan.NewNumber()
		n.Name, n.Digits = fmt.Sprintf("Line %03d", i), fmt.Sprintf("+3317639%04d", i)
		require.NoError(b, n.Normalize(c))
		require.NoError(b, st.CreateNumber(ctx, c.ID, &n))
	}
	token, _, err := st.CreateSession(ctx, c.ID, owner.ID, time.Hour, time.Hour)
	require.NoError(b, err)
	apiHandler := api.NewServer(api.Deps{Store: st})
	h := web.New(web.Deps{Store: st, API: apiHandler, Mail: mail.Log{Logger: slog.New(slog.DiscardHandler)}, PublicURL: "http://127.0.0.1"})

	for _, page := range []string{"/", "/team", "/team?page=10"} {
		b.Run(page, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page, nil)
				req.AddCookie(&http.Cookie{Name: "sb_session", Value: token})
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", page, rec.Code, rec.Body.String())
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
