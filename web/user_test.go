package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

// TestUserPage: an admin sets a user's devices, working hours, wrap-up
// time, availability, external number and teams on the user's page; what
// the API refuses is shown next to its field and nothing is saved; the
// user changes their own hours and availability but not their role;
// another agent's page is refused; a supervisor reads it (and a number's
// settings) without changing them; a delete asks first.
func TestUserPage(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	admin := s.signInOwner()
	admin.get("/team")
	admin.post("/team/users", url.Values{"first_name": {"Al"}, "last_name": {"Martin"}, "email": {"al@acme.test"}, "role": {"agent"}}).see(http.StatusOK)
	link := s.mail.Wait(t, "al@acme.test", 10*time.Second).Links()[0]
	var al dialplan.User
	require.NoError(t, s.db.Get(&al.ID, "SELECT id FROM users WHERE email = 'al@acme.test'"))
	path := "/team/users/" + itoa(al.ID)
	admin.get("/team").see(http.StatusOK, `<a href="`+path+`">Al Martin</a>`)
	admin.get(path).see(http.StatusOK, "Al Martin", "Rôle et appareils", `name="devices"`, "Horaires de travail", `name="slot_0_days"`)

	form := func(extra url.Values) url.Values {
		f := url.Values{"first_name": {"Al"}, "last_name": {"Martin"}, "language": {"fr-FR"}, "time_zone": {"Europe/Paris"},
			"email": {"al@acme.test"}, "role": {"agent"}, "extension": {"201"}, "wrap_up_time": {"45"},
			"devices": {"PJSIP/al\r\nPJSIP/al-mobile\r\n"}, "availability_status": {"custom"}, "external_number": {"06 12 34 56 78"},
			"slots": {"2"}, "slot_0_days": {"mon", "tue"}, "slot_0_from": {"09:00"}, "slot_0_to": {"17:00"}}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	// Refused: a slot ending before it starts, shown on its row; nothing saved.
	admin.post(path, form(url.Values{"slot_0_to": {"08:00"}})).see(http.StatusUnprocessableEntity, `class="row invalid"`, "PJSIP/al-mobile</textarea>")
	got, err := s.store.User(ctx, s.co.ID, al.ID)
	require.NoError(t, err)
	require.Empty(t, got.Devices)
	require.Zero(t, got.WrapUpTime)
	// A device the PBX cannot dial, next to the devices.
	admin.post(path, form(url.Values{"devices": {"not a device"}})).see(http.StatusUnprocessableEntity, `id="f-devices-error"`)
	admin.post(path, form(nil)).see(http.StatusOK, "Al Martin est enregistré.")
	got, err = s.store.User(ctx, s.co.ID, al.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"PJSIP/al", "PJSIP/al-mobile"}, got.Devices)
	require.Equal(t, 45, got.WrapUpTime)
	require.Equal(t, "201", got.Extension)
	require.Equal(t, dialplan.Custom, got.AvailabilityStatus)
	require.Equal(t, dialplan.WeeklyHours{{Days: []string{"mon", "tue"}, From: "09:00", To: "17:00"}}, got.WorkingHours)
	require.Equal(t, "+33612345678", *got.ExternalNumber)

	// Teams: added, then taken out.
	admin.get("/teams")
	admin.post("/teams", url.Values{"name": {"Support"}}).see(http.StatusOK)
	var team int64
	require.NoError(t, s.db.Get(&team, "SELECT id FROM teams WHERE name = 'Support'"))
	admin.get(path).see(http.StatusOK, "Dans aucune équipe.", `<option value="`+itoa(dialplan.UserID(team))+`">Support</option>`)
	admin.post(path+"/teams", url.Values{"team_id": {itoa(dialplan.UserID(team))}}).see(http.StatusOK, "Ajouté à l&#39;équipe.", `<a href="/teams/`+itoa(dialplan.UserID(team))+`">Support</a>`)
	admin.post(path+"/teams/"+itoa(dialplan.UserID(team))+"/delete", url.Values{"team_name": {"Support"}}).see(http.StatusOK, "Retiré de Support.", "Dans aucune équipe.")

	// Al, signed in: their own page, hours and availability theirs to
	// change; role, devices and wrap-up only shown.
	alb := s.browser()
	alb.get(link)
	alb.post(link, url.Values{"password": {"al-password-1"}, "confirm": {"al-password-1"}}).see(http.StatusOK, "Bonjour Al")
	alb.get("/account").see(http.StatusOK, `href="`+path+`"`)
	alb.get(path).see(http.StatusOK, "Seuls les administrateurs changent le rôle", "<code>PJSIP/al</code>")
	require.NotContains(t, alb.body, `name="devices"`)
	require.NotContains(t, alb.body, `id="teams-title"`)
	alb.post(path, url.Values{"first_name": {"Al"}, "last_name": {"Martin"}, "language": {"en-US"}, "time_zone": {"Europe/Paris"},
		"availability_status": {"unavailable"}, "unavailable_reason": {"Training"}, "external_number": {""}, "role": {"admin"},
		"slots": {"1"}, "slot_0_days": {"wed"}, "slot_0_from": {"10:00"}, "slot_0_to": {"12:00"}}).see(http.StatusOK, "Al Martin is saved.")
	got, err = s.store.User(ctx, s.co.ID, al.ID)
	require.NoError(t, err)
	require.Equal(t, dialplan.RoleAgent, got.Role, "an agent's form has no role")
	require.Equal(t, dialplan.Unavailable, got.AvailabilityStatus)
	require.Equal(t, "Training", got.UnavailableReason)
	require.Equal(t, dialplan.WeeklyHours{{Days: []string{"wed"}, From: "10:00", To: "12:00"}}, got.WorkingHours)
	require.Nil(t, got.ExternalNumber)
	require.Equal(t, []string{"PJSIP/al", "PJSIP/al-mobile"}, got.Devices, "untouched")
	alb.get("/team/users/" + itoa(s.owner.ID)).see(http.StatusForbidden)

	// A supervisor reads Al's page; the form is closed to them.
	admin.get("/team")
	admin.post("/team/users", url.Values{"first_name": {"Sue"}, "email": {"sue@acme.test"}, "role": {"supervisor"}}).see(http.StatusOK)
	sueLink := s.mail.Wait(t, "sue@acme.test", 10*time.Second).Links()[0]
	sue := s.browser()
	sue.get(sueLink)
	sue.post(sueLink, url.Values{"password": {"sue-password-1"}, "confirm": {"sue-password-1"}}).see(http.StatusOK)
	sue.get(path).see(http.StatusOK, "Seuls les administrateurs et l&#39;utilisateur modifient ces réglages.", `<fieldset class="bare" disabled>`)
	sue.post(path, url.Values{"first_name": {"Alfred"}, "availability_status": {"available"}}).see(http.StatusForbidden)
	// And a number's settings, its flow drawn: read, not changed.
	admin.get("/numbers")
	admin.post("/numbers", url.Values{"name": {"Paris"}, "digits": {"01 82 88 71 34"}, "country": {"FR"}, "type": {"classic"}}).see(http.StatusOK)
	var number int64
	require.NoError(t, s.db.Get(&number, "SELECT id FROM numbers WHERE name = 'Paris'"))
	sue.get("/numbers/"+itoa(dialplan.UserID(number))).see(http.StatusOK, "Seuls les admins modifient ces réglages.",
		`<fieldset class="bare" disabled>`, `class="flow"`)
	require.NotContains(t, sue.body, `action="/numbers/`+itoa(dialplan.UserID(number))+`/delete"`)
	sue.post("/numbers/"+itoa(dialplan.UserID(number)), url.Values{"name": {"Lyon"}}).see(http.StatusForbidden)

	// Deleted, once confirmed.
	admin.get(path)
	admin.post(path+"/delete", url.Values{"name": {"Al Martin"}}).see(http.StatusOK, "Supprimer l&#39;utilisateur Al Martin ?")
	_, err = s.store.User(ctx, s.co.ID, al.ID)
	require.NoError(t, err)
	admin.post(path+"/delete", url.Values{"name": {"Al Martin"}, "confirm": {"yes"}}).see(http.StatusOK, "Al Martin est supprimé.")
	_, err = s.store.User(ctx, s.co.ID, al.ID)
	require.Error(t, err)
}
