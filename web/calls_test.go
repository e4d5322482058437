package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// saveCall writes a call as the engine does, with its timeline.
func (s *site) saveCall(c dialplan.Call, timeline ...dialplan.TimelineEvent) dialplan.CallID {
	s.t.Helper()
	c.Company = s.co.ID
	require.NoError(s.t, s.store.SaveCall(context.Background(), &c, timeline, nil))
	return c.ID
}

// agent invites an agent through the team page and signs them in.
func (s *site) agent(admin *browser, first, email string) (*browser, dialplan.UserID) {
	s.t.Helper()
	admin.get("/team")
	admin.post("/team/users", url.Values{"first_name": {first}, "email": {email}, "role": {"agent"}}).see(http.StatusOK)
	link := s.mail.Wait(s.t, email, 10*time.Second).Links()[0]
	b := s.browser()
	b.get(link)
	b.post(link, url.Values{"password": {"agent-password-1"}, "confirm": {"agent-password-1"}}).see(http.StatusOK)
	var id dialplan.UserID
	require.NoError(s.t, s.db.Get(&id, "SELECT id FROM users WHERE email = $1", email))
	return b, id
}

// TestCalls: the history with its filters, a call's detail and what is
// done on it, all through the API: its refusals next to their field, and
// an agent sees their own calls only.
func TestCalls(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	al, alID := s.agent(admin, "Al", "al@acme.test")

	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	ended := start.Add(90 * time.Second)
	answered := start.Add(70 * time.Second)
	missed := s.saveCall(dialplan.Call{Direction: dialplan.Inbound, Status: dialplan.CallDone, RawDigits: "+33612345678",
		StartedAt: start, EndedAt: &ended, MissedReason: dialplan.NoAvailableAgent},
		dialplan.TimelineEvent{Event: events.CallCreated, At: start}, dialplan.TimelineEvent{Event: events.CallEnded, At: ended})
	out := s.saveCall(dialplan.Call{Direction: dialplan.Outbound, Status: dialplan.CallDone, RawDigits: "+33798765432",
		StartedAt: start.Add(time.Minute), AnsweredAt: &answered, EndedAt: &ended, User: alID},
		dialplan.TimelineEvent{Event: events.CallCreated, At: start.Add(time.Minute)},
		dialplan.TimelineEvent{Event: events.CallAnswered, At: start.Add(70 * time.Second), User: alID})
	tag := dialplan.Tag{Name: "Urgent"}
	require.NoError(t, s.store.CreateTag(context.Background(), s.co.ID, &tag))

	// The owner (French) sees both, newest first; the filters narrow.
	admin.get("/calls").see(http.StatusOK, "Appels", "33612345678", "33798765432", "manqué")
	require.Less(t, strings.Index(admin.body, "33798765432"), strings.Index(admin.body, "33612345678"), "newest first")
	admin.get("/calls?direction=outbound").see(http.StatusOK, "33798765432")
	require.NotContains(t, admin.body, "33612345678")
	admin.get("/calls?missed_call_reason=no_available_agent").see(http.StatusOK, "33612345678")
	require.NotContains(t, admin.body, "33798765432")
	admin.get("/calls?phone_number=0612345678").see(http.StatusOK, "33612345678")
	require.NotContains(t, admin.body, "33798765432")
	// A day with no call; a bad date; a value the API refuses, in its words.
	admin.get("/calls?to=2020-01-01").see(http.StatusOK, "Aucun appel ne correspond")
	// Days are the owner's (Paris), whole.
	day := start.In(mustZone(t, "Europe/Paris"))
	admin.get("/calls?from="+day.Format("2006-01-02")+"&to="+day.Format("2006-01-02")).see(http.StatusOK, "33612345678")
	admin.get("/calls?to="+day.AddDate(0, 0, -1).Format("2006-01-02")).see(http.StatusOK, "Aucun appel ne correspond")
	admin.get("/calls?from="+day.AddDate(0, 0, 1).Format("2006-01-02")).see(http.StatusOK, "Aucun appel ne correspond")
	admin.get("/calls?from=yesterday").see(http.StatusUnprocessableEntity, `id="f-from-error"`, "AAAA-MM-JJ")
	admin.get("/calls?direction=sideways").see(http.StatusUnprocessableEntity, `id="f-direction-error"`, "sideways")

	// The detail: its timeline, in the owner's time zone.
	admin.get(fmt.Sprintf("/calls/%d", out)).see(http.StatusOK, "Appel vers", "33798765432", "Décroché · Al",
		start.Add(70*time.Second).In(mustZone(t, "Europe/Paris")).Format("15:04:05"), "&#43;10 s")
	// Back to the list as it was filtered; nowhere else.
	admin.get("/calls?direction=outbound").see(http.StatusOK, fmt.Sprintf(`href="/calls/%d?back=`, out))
	admin.get(fmt.Sprintf("/calls/%d?back=%s", out, url.QueryEscape("/calls?direction=outbound&page=1")))
	admin.see(http.StatusOK, `href="/calls?direction=outbound&amp;page=1"`, `name="back" value="/calls?direction=outbound&amp;page=1"`)
	admin.get(fmt.Sprintf("/calls/%d?back=%s", out, url.QueryEscape("https://example.com/"))).see(http.StatusOK, `<a href="/calls">`)
	// Tag, comment (an empty one is refused next to its field), assign, archive.
	admin.post(fmt.Sprintf("/calls/%d/tags", out), url.Values{"tag_id": {fmt.Sprint(tag.ID)}})
	admin.see(http.StatusOK, "Tag ajouté.", `<span class="tag">Urgent</span>`)
	admin.get(fmt.Sprintf("/calls?tag_id=%d", tag.ID)).see(http.StatusOK, "33798765432")
	require.NotContains(t, admin.body, "33612345678")
	admin.post(fmt.Sprintf("/calls/%d/comments", out), url.Values{"content": {"  "}})
	admin.see(http.StatusUnprocessableEntity, `id="f-content-error"`, "content: is required")
	admin.post(fmt.Sprintf("/calls/%d/comments", out), url.Values{"content": {"Rappeler demain"}}).see(http.StatusOK, "Commentaire ajouté.", "Rappeler demain")
	admin.post(fmt.Sprintf("/calls/%d/assign", missed), url.Values{"user_id": {itoa(alID)}}).see(http.StatusOK, "Appel assigné.")
	admin.post(fmt.Sprintf("/calls/%d/archive", out), url.Values{}).see(http.StatusOK, "Appel archivé.", "Désarchiver")
	admin.post(fmt.Sprintf("/calls/%d/tags/%d/delete", out, tag.ID), url.Values{}).see(http.StatusOK, "Tag retiré.")
	require.NotContains(t, admin.body, `<span class="tag">Urgent</span>`)
	// Listening needs a call in progress and a media server: the API's
	// words, on the live view.
	admin.post(fmt.Sprintf("/live/calls/%d/supervise", out), url.Values{"mode": {"listen"}}).see(http.StatusOK, "without a media server")
	// No recording: deleting one is the API's 404, shown.
	admin.post(fmt.Sprintf("/calls/%d/recording/delete", out), url.Values{"confirm": {"yes"}}).see(http.StatusNotFound, "has no recording")

	// A voicemail: its player plays the API's signed link, on this
	// origin; without a media server, deleting it is refused in the API's
	// words, next to it, and nothing changes.
	vm := s.saveCall(dialplan.Call{Direction: dialplan.Inbound, Status: dialplan.CallDone, RawDigits: "+33655555555",
		StartedAt: start, EndedAt: &ended, MissedReason: dialplan.AgentsDidNotAnswer, Voicemail: "vm-1"})
	admin.get(fmt.Sprintf("/calls/%d", vm)).see(http.StatusOK, `id="voicemail"`,
		fmt.Sprintf(`<audio controls preload="none" src="/v1/calls/%d/voicemail?`, vm), "Supprimer le message vocal")
	admin.post(fmt.Sprintf("/calls/%d/voicemail/delete", vm), url.Values{"confirm": {"yes"}}).see(http.StatusServiceUnavailable,
		"recordings cannot be deleted", `id="voicemail"`)

	var archived bool
	require.NoError(t, s.db.Get(&archived, "SELECT archived FROM calls WHERE id = $1", out))
	require.True(t, archived)

	// The agent: the call they made and the one assigned to them; another
	// user's filter is not theirs to ask.
	other := s.saveCall(dialplan.Call{Direction: dialplan.Inbound, Status: dialplan.CallDone, RawDigits: "+33100000000",
		StartedAt: start, EndedAt: &ended, User: s.owner.ID, AnsweredAt: &answered})
	al.get("/calls").see(http.StatusOK, "33798765432", "33612345678")
	require.NotContains(t, al.body, "33100000000")
	require.NotContains(t, al.body, `id="f-user_id"`, "agents cannot list the users")
	al.get(fmt.Sprintf("/calls/%d", other)).see(http.StatusForbidden, "agents can only see")
	al.post(fmt.Sprintf("/calls/%d/comments", other), url.Values{"content": {"x"}}).see(http.StatusForbidden)
	al.get("/calls")
	al.post(fmt.Sprintf("/live/calls/%d/supervise", out), url.Values{"mode": {"whisper"}}).see(http.StatusForbidden)
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// TestCallsPages: the history's pages keep its filters.
func TestCallsPages(t *testing.T) {
	s := newSite(t)
	admin := s.signInOwner()
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	for i := range 27 {
		end := start.Add(time.Duration(i)*time.Minute + 30*time.Second)
		s.saveCall(dialplan.Call{Direction: dialplan.Inbound, Status: dialplan.CallDone, RawDigits: fmt.Sprintf("+336123450%02d", i),
			StartedAt: start.Add(time.Duration(i) * time.Minute), EndedAt: &end, MissedReason: dialplan.AgentsDidNotAnswer})
	}
	s.saveCall(dialplan.Call{Direction: dialplan.Outbound, Status: dialplan.CallDone, RawDigits: "+33799999999", StartedAt: start})
	admin.get("/calls?direction=inbound").see(http.StatusOK, `rel="next"`, "33612345026")
	require.Equal(t, 25, strings.Count(admin.body, `<tr id="call-`))
	require.NotContains(t, admin.body, "33612345001")
	admin.get("/calls?direction=inbound&page=2").see(http.StatusOK, "33612345001", "33612345000", `rel="prev"`,
		`href="/calls?direction=inbound&amp;page=1"`)
	require.Equal(t, 2, strings.Count(admin.body, `<tr id="call-`))
	require.NotContains(t, admin.body, "33799999999")
}
