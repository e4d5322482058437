package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// Team → Users (the admin guide's "Équipe"): the list, invitations, roles.

// invitation is the invite form, as typed, and the API's words on it.
type invitation struct {
	FirstName, LastName, Email, Role string
	Error                            string
	Errors                           map[string]string
}

type teamPage struct {
	Users                          []teamRow
	Total, Page, Pages, Prev, Next int
	Roles                          []dialplan.Role
	Invite                         invitation
}

func (teamPage) title() string { return "team.title" }

type teamRow struct {
	userRow
	Status             string // active, invited, expired, none
	InvitedAt, Expires time.Time
}

const usersPerPage = 50

var roles = []dialplan.Role{dialplan.RoleAgent, dialplan.RoleSupervisor, dialplan.RoleAdmin}

func (s *server) team(w http.ResponseWriter, r *http.Request) {
	s.showTeam(w, r, http.StatusOK, invitation{Role: string(dialplan.RoleAgent)})
}

// showTeam renders the list's page (?page=) with the invite form as given.
func (s *server) showTeam(w http.ResponseWriter, r *http.Request, status int, inv invitation) {
	v := visitOf(r)
	n, _ := strconv.Atoi(r.FormValue("page"))
	page := teamPage{Page: max(n, 1), Roles: roles, Invite: inv}
	var list struct {
		Users []userRow `json:"users"`
		Meta  pageMeta  `json:"meta"`
	}
	err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/users?per_page=%d&page=%d", usersPerPage, page.Page), nil, &list)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := make([]dialplan.UserID, len(list.Users))
	for i, u := range list.Users {
		ids[i] = u.ID
	}
	states, err := s.Store.AccountStates(r.Context(), v.sess.Company, ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.Now()
	for _, u := range list.Users {
		row := teamRow{userRow: u, Status: "none"}
		switch st := states[u.ID]; {
		case st.HasPassword:
			row.Status = "active"
		case st.InvitedAt != nil:
			row.Status, row.InvitedAt, row.Expires = "invited", *st.InvitedAt, *st.InvitationExpires
			if !now.Before(row.Expires) {
				row.Status = "expired"
			}
		}
		page.Users = append(page.Users, row)
	}
	page.Total = list.Meta.Total
	page.Pages = max((page.Total+usersPerPage-1)/usersPerPage, 1)
	page.Prev, page.Next = page.Page-1, page.Page+1
	s.render(w, r, status, "team", page)
}

// invite creates the user through the API, then mails them a link. The
// user exists once the API says so; a mail that fails is said to the
// admin, who sends it again with "Resend invitation".
func (s *server) invite(w http.ResponseWriter, r *http.Request) {
	inv := invitation{FirstName: strings.TrimSpace(r.PostFormValue("first_name")), LastName: strings.TrimSpace(r.PostFormValue("last_name")),
		Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	var created struct{ User userRow }
	err := s.callAPI(r.Context(), r, http.MethodPost, "/v1/users",
		map[string]any{"first_name": inv.FirstName, "last_name": inv.LastName, "email": inv.Email, "role": inv.Role}, &created)
	if errs, msg, status, ok := refusal(err, "first_name", "last_name", "email", "role"); ok {
		inv.Errors, inv.Error = errs, msg
		s.showTeam(w, r, status, inv)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendInvitation(w, r, created.User, "team.invited.ok")
	s.redirect(w, r, "/team")
}

// sendInvitation mails u a new invitation link and says how it went, in
// a flash message: ok names the success message.
func (s *server) sendInvitation(w http.ResponseWriter, r *http.Request, u userRow, ok string) {
	v := visitOf(r)
	var company struct{ Company dialplan.Company }
	err := s.callAPI(r.Context(), r, http.MethodGet, "/v1/company", nil, &company)
	var full struct{ User dialplan.User }
	if err == nil {
		err = s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/users/%d", u.ID), nil, &full)
	}
	if err == nil {
		a := store.Account{Principal: store.Principal{Company: v.sess.Company, User: u.ID, Role: full.User.Role, Owner: full.User.Owner},
			Email: full.User.Email, FirstName: full.User.FirstName, LastName: full.User.LastName, Language: full.User.Language}
		err = s.mailPasswordLink(r.Context(), a, store.Invitation, strings.TrimSpace(v.sess.FirstName+" "+v.sess.LastName), company.Company.Name)
	}
	if err != nil {
		s.Logger.Error("invitation mail", "user", u.ID, "err", err)
		s.setFlash(w, flash{Kind: "error", Text: translate(v.lang, "team.mail.failed", u.Email, err.Error())})
		return
	}
	s.Logger.Info("invitation sent", "user", u.ID, "by", v.sess.User)
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, ok, u.Email)})
}

// backToTeam is the list's page the form came from, at the user's row.
func backToTeam(r *http.Request, id dialplan.UserID) string {
	n, _ := strconv.Atoi(r.PostFormValue("page"))
	return "/team?" + url.Values{"page": {strconv.Itoa(max(n, 1))}}.Encode() + fmt.Sprintf("#user-%d", id)
}

func (s *server) resendInvitation(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[dialplan.UserID](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	// Invitations are the dashboard's: only admins send them, as only
	// admins create users in the API.
	if !isAdmin(v.sess.Principal) {
		s.render(w, r, http.StatusForbidden, "message", messagePage{Title: "forbidden.title", Detail: "only admins invite users", Link: "/team", LinkText: "team.title"})
		return
	}
	var got struct{ User userRow }
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/users/%d", id), nil, &got); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendInvitation(w, r, got.User, "team.resent.ok")
	s.redirect(w, r, backToTeam(r, id))
}

func (s *server) changeRole(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[dialplan.UserID](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var got struct{ User userRow }
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/users/%d", id), map[string]any{"role": r.PostFormValue("role")}, &got)
	var apiErr *apiError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status < 500:
		s.setFlash(w, flash{Kind: "error", Text: apiErr.Message()})
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "team.role.ok",
			strings.TrimSpace(got.User.FirstName+" "+got.User.LastName), translate(v.lang, "role."+string(got.User.Role)))})
	}
	s.redirect(w, r, backToTeam(r, id))
}
