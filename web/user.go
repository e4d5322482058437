package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/dialplan"
)

// One user's page (the admin guide's user settings): who they are, their
// role, devices, working hours, availability, wrap-up time, external
// number and teams. Admins change all of it; each person changes their
// own profile, availability and hours (the API refuses them the rest);
// supervisors read others'.

// userView is a user as the API shows them. created_at is shadowed: the
// API writes Aircall's stamp, which the page does not show.
type userView struct {
	dialplan.User
	CreatedAt    any                 `json:"created_at"`
	Availability dialplan.LiveStatus `json:"availability"`
}

type userPage struct {
	User     userView
	Saved    string     // the saved user's name (User may be a refused draft)
	Teams    []teamView // theirs
	Others   []teamView // the teams to add them to
	Roles    []dialplan.Role
	Statuses []dialplan.Availability
	// Languages offered: the dashboard's, and the user's own if another.
	Languages []string
	Errors    map[string]string
	Error     string
	// Admin changes every field; Editable: the admin or the person.
	Admin, Editable bool
}

func (userPage) title() string { return "user.title" }

// Devices are the user's devices, one per line, as the textarea shows them.
func (p userPage) Devices() string { return strings.Join(p.User.Devices, "\n") }

// External is the external number as typed ("" for none).
func (p userPage) External() string {
	if p.User.ExternalNumber == nil {
		return ""
	}
	return *p.User.ExternalNumber
}

func (s *server) loadUser(r *http.Request, id dialplan.UserID) (userPage, error) {
	me := visitOf(r).sess.Principal
	page := userPage{Roles: roles, Statuses: []dialplan.Availability{dialplan.Available, dialplan.Custom, dialplan.Unavailable},
		Errors: map[string]string{}, Admin: isAdmin(me), Editable: isAdmin(me) || me.User == id}
	var got struct {
		User userView `json:"user"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/users/%d", id), nil, &got); err != nil {
		return page, err
	}
	page.User, page.Saved = got.User, got.User.Name()
	page.Languages = []string{tagOf(french), tagOf(english)}
	if !slices.Contains(page.Languages, got.User.Language) {
		page.Languages = append(page.Languages, got.User.Language)
	}
	if !readsConfig(me) {
		return page, nil // an agent's own page: the teams list is not theirs to read
	}
	teams, err := listAll[teamView](s, r, "teams")
	if err != nil {
		return page, err
	}
	slices.SortFunc(teams, func(a, b teamView) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	for _, t := range teams {
		if slices.ContainsFunc(t.Users, func(u userRow) bool { return u.ID == id }) {
			page.Teams = append(page.Teams, t)
		} else {
			page.Others = append(page.Others, t)
		}
	}
	return page, nil
}

func (s *server) user1(w http.ResponseWriter, r *http.Request) {
	if _, page, ok := loaded(s, w, r, s.loadUser); ok {
		s.render(w, r, http.StatusOK, "team_user", page)
	}
}

// updateUser sends the form in one PUT: the API saves all of it or
// nothing. Only an admin's form has the fields only admins change.
func (s *server) updateUser(w http.ResponseWriter, r *http.Request) {
	id, page, ok := loaded(s, w, r, s.loadUser)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	d := page.User
	d.FirstName, d.LastName, d.Language, d.TimeZone = get("first_name"), get("last_name"), get("language"), get("time_zone")
	d.AvailabilityStatus, d.UnavailableReason = dialplan.Availability(get("availability_status")), get("unavailable_reason")
	if d.AvailabilityStatus != dialplan.Unavailable {
		d.UnavailableReason = ""
	}
	d.WorkingHours = slotsFromForm(f)
	ext := get("external_number")
	d.ExternalNumber = &ext
	body := map[string]any{"first_name": d.FirstName, "last_name": d.LastName, "language": d.Language, "time_zone": d.TimeZone,
		"availability_status": d.AvailabilityStatus, "unavailable_reason": d.UnavailableReason,
		"working_hours": d.WorkingHours, "external_number": ext}
	if page.Admin {
		d.Email, d.Role, d.Extension = get("email"), dialplan.Role(get("role")), get("extension")
		d.Devices = []string{}
		for line := range strings.Lines(f.Get("devices")) {
			if dev := strings.TrimSpace(line); dev != "" {
				d.Devices = append(d.Devices, dev)
			}
		}
		body["email"], body["role"], body["extension"], body["devices"] = d.Email, d.Role, d.Extension, d.Devices
		// A number the browser let through that is not one goes to the
		// API as typed, so that the refusal is the API's.
		if n, err := strconv.Atoi(get("wrap_up_time")); err == nil {
			d.WrapUpTime, body["wrap_up_time"] = n, n
		} else {
			body["wrap_up_time"] = get("wrap_up_time")
		}
	}
	var got struct {
		User userView `json:"user"`
	}
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/users/%d", id), body, &got)
	if apiErr := refused(err); apiErr != nil {
		page.User = d
		page.Error = apiErr.Message()
		f := apiErr.Field()
		if strings.HasPrefix(f, "devices[") {
			f = "devices" // one textarea holds them all
		}
		if f != "" {
			page.Errors[f] = apiErr.Message()
		}
		s.render(w, r, apiErr.Status, "team_user", page)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := visitOf(r).lang
	if id == visitOf(r).sess.User {
		l = langFromHeader(got.User.Language) // the next page speaks it
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(l, "user.saved", got.User.Name())})
	s.redirect(w, r, fmt.Sprintf("/team/users/%d", id))
}

// joinTeam and leaveTeam add the user to a team (last) or take them out.
func (s *server) joinTeam(w http.ResponseWriter, r *http.Request) {
	s.membership(w, r, http.MethodPost, formID(r, "team_id"), "user.joined")
}

func (s *server) leaveTeam(w http.ResponseWriter, r *http.Request) {
	team, _ := strconv.ParseInt(r.PathValue("team"), 10, 64)
	s.membership(w, r, http.MethodDelete, team, "user.left")
}

func (s *server) membership(w http.ResponseWriter, r *http.Request, method string, team int64, ok string) {
	id, found := pathID[dialplan.UserID](r, "id")
	if !found {
		s.notFound(w, r)
		return
	}
	err := s.callAPI(r.Context(), r, method, fmt.Sprintf("/v1/teams/%d/users/%d", team, id), nil, nil)
	if _, msg, _, refusedHere := refusal(err); refusedHere {
		s.setFlash(w, flash{Kind: "error", Text: msg})
	} else if err != nil {
		s.fail(w, r, err)
		return
	} else {
		s.setFlash(w, flash{Kind: "ok", Text: translate(visitOf(r).lang, ok, r.PostFormValue("team_name"))})
	}
	s.redirect(w, r, fmt.Sprintf("/team/users/%d#teams-title", id))
}

// deleteUser removes the user, once confirmed; the API refuses it while a
// number rings them, in its words.
func (s *server) deleteUser(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[dialplan.UserID](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	back := fmt.Sprintf("/team/users/%d", id)
	if !s.confirmed(w, r, translate(v.lang, "confirm.user", r.PostFormValue("name")), "user.delete", back) {
		return
	}
	err := s.callAPI(r.Context(), r, http.MethodDelete, fmt.Sprintf("/v1/users/%d", id), nil, nil)
	if _, msg, _, refusedHere := refusal(err); refusedHere {
		s.setFlash(w, flash{Kind: "error", Text: msg})
		s.redirect(w, r, back)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "user.deleted", r.PostFormValue("name"))})
	s.redirect(w, r, "/team")
}

// LanguageName names a language tag in the page's language ("fr-FR":
// Français); a tag the dashboard does not speak shows as is.
func (p view) LanguageName(tag string) string {
	switch tag {
	case tagOf(french):
		return p.T("lang.fr")
	case tagOf(english):
		return p.T("lang.en")
	}
	return tag
}
