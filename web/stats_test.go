package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

// TestStats: the period's figures, chart and users from the API, its
// refusals next to their field, the CSV export downloaded through the
// dashboard as the signed-in person, and an agent's figures their own.
func TestStats(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	al, alID := s.agent(admin, "Al", "al@acme.test")

	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	ended := start.Add(90 * time.Second)
	answered := start.Add(20 * time.Second)
	s.saveCall(dialplan.Call{Direction: dialplan.Inbound, Status: dialplan.CallDone, RawDigits: "+33612345678",
		StartedAt: start, EndedAt: &ended, MissedReason: dialplan.NoAvailableAgent})
	s.saveCall(dialplan.Call{Direction: dialplan.Inbound, Status: dialplan.CallDone, RawDigits: "+33798765432",
		StartedAt: start, AnsweredAt: &answered, EndedAt: &ended, User: alID})

	admin.get("/stats").see(http.StatusOK, "Statistiques", `id="fig-inbound">2<`, `id="fig-missed">50 %<`, "appels manqués : 1",
		"<svg", `class="s-missed"`, "1 répondus, 1 manqués, 0 sortants", "Aucun agent disponible")
	// The export's link carries the filters; the file is the API's CSV.
	admin.get("/stats?direction=inbound&group_by=hour").see(http.StatusOK, `id="fig-inbound">2<`)
	resp, err := admin.client.Get(s.url + "/stats/export?table=calls&direction=inbound")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, resp.Header.Get("Content-Type"), "text/csv")
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	lines := strings.Split(strings.TrimSpace(string(body)), "\r\n")
	require.Len(t, lines, 3, "a header and the two calls: %s", body)
	require.Contains(t, string(body), "+33612345678")
	require.Contains(t, string(body), "no_available_agent")
	// Refusals: a time of day the API cannot read, next to its field; an
	// export it refuses is a page, not a file.
	// Another time zone: the buckets on its clock; one the API does not
	// know, said next to the field.
	admin.get("/stats?time_zone=UTC&group_by=hour").see(http.StatusOK, `id="fig-inbound">2<`,
		fmt.Sprintf(` %s</th>`, start.UTC().Truncate(time.Hour).Format("15:04")))
	admin.get("/stats?time_zone=Mars/Olympus").see(http.StatusUnprocessableEntity, `id="f-time_zone-error"`)
	admin.get("/stats?time_from=25:99").see(http.StatusUnprocessableEntity, `id="f-time_from-error"`)
	admin.get("/stats/export?table=nothing").see(http.StatusUnprocessableEntity, "nothing")
	require.NotContains(t, admin.body, "attachment")

	// The agent: their own figures only (the call they answered), no
	// filter of other users, and asking for another's is refused.
	al.get("/stats").see(http.StatusOK, `id="fig-inbound">1<`, `id="fig-missed">0 %<`)
	require.NotContains(t, al.body, `id="f-user_id"`)
	al.get("/stats?" + url.Values{"user_id": {itoa(s.owner.ID)}}.Encode()).see(http.StatusForbidden)
	require.NotContains(t, al.body, `id="fig-inbound"`)
}

// TestLive: the live view needs a live board (none here: it says so),
// and is for supervisors, admins and owners only.
func TestLive(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	al, _ := s.agent(admin, "Al", "al@acme.test")
	admin.get("/live").see(http.StatusOK, "Activité en direct", `id="live-off"`)
	require.Contains(t, admin.body, `href="/live"`)
	al.get("/live").see(http.StatusForbidden)
	require.NotContains(t, al.body, `href="/live"`)
	al.get("/live/events").see(http.StatusForbidden)
	admin.get("/live/events").see(http.StatusServiceUnavailable)
}
