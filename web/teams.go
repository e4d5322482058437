package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/dialplan"
)

// Teams: the list, creating a team, and one team's members in order and
// ringing rule, through the teams API.

var ringingRules = []dialplan.RingingRule{dialplan.Simultaneous, dialplan.RoundRobin, dialplan.LongestIdle, dialplan.Random}

type teamsPage struct {
	Teams  []teamView
	Name   string
	Errors map[string]string
	Error  string
}

func (teamsPage) title() string { return "teams.title" }

func (s *server) teams(w http.ResponseWriter, r *http.Request) {
	s.showTeams(w, r, http.StatusOK, teamsPage{})
}

func (s *server) showTeams(w http.ResponseWriter, r *http.Request, status int, page teamsPage) {
	var err error
	if page.Teams, err = listAll[teamView](s, r, "teams"); err != nil {
		s.fail(w, r, err)
		return
	}
	slices.SortFunc(page.Teams, func(a, b teamView) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	s.render(w, r, status, "teams", page)
}

func (s *server) createTeam(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	var got struct {
		Team teamView `json:"team"`
	}
	err := s.callAPI(r.Context(), r, http.MethodPost, "/v1/teams", map[string]any{"name": name}, &got)
	if errs, msg, status, ok := refusal(err, "name"); ok {
		s.showTeams(w, r, status, teamsPage{Name: name, Errors: errs, Error: msg})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(visitOf(r).lang, "teams.created", got.Team.Name)})
	s.redirect(w, r, fmt.Sprintf("/teams/%d", got.Team.ID))
}

// teamEditPage is one team: the saved team, or the draft the API refused.
type teamEditPage struct {
	Team     teamView
	Saved    string    // the saved team's name (Team may be a refused draft)
	Others   []userRow // users not in the team, to add
	Rules    []dialplan.RingingRule
	Errors   map[string]string
	Error    string
	Editable bool
}

func (p teamEditPage) title() string { return "teams.edit.title" }

func (s *server) loadTeam(r *http.Request, id dialplan.TeamID) (teamEditPage, error) {
	page := teamEditPage{Rules: ringingRules, Errors: map[string]string{}, Editable: isAdmin(visitOf(r).sess.Principal)}
	var got struct {
		Team teamView `json:"team"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/teams/%d", id), nil, &got); err != nil {
		return page, err
	}
	page.Team, page.Saved = got.Team, got.Team.Name
	users, err := listAll[userRow](s, r, "users")
	if err != nil {
		return page, err
	}
	page.Others = othersThan(users, page.Team.Users)
	return page, nil
}

func othersThan(users, members []userRow) []userRow {
	var out []userRow
	for _, u := range users {
		if !slices.ContainsFunc(members, func(m userRow) bool { return m.ID == u.ID }) {
			out = append(out, u)
		}
	}
	return out
}

func (s *server) team1(w http.ResponseWriter, r *http.Request) {
	if _, page, ok := loaded(s, w, r, s.loadTeam); ok {
		s.render(w, r, http.StatusOK, "teams_one", page)
	}
}

// updateTeam sends the team as the form has it, in one PUT: the members
// in the order of their "position" inputs, less those removed, plus the
// one added (last). A move button sends which member goes up or down.
func (s *server) updateTeam(w http.ResponseWriter, r *http.Request) {
	id, page, ok := loaded(s, w, r, s.loadTeam)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	all := append(slices.Clone(page.Team.Users), page.Others...)
	byID := map[dialplan.UserID]userRow{}
	for _, u := range all {
		byID[u.ID] = u
	}
	type ordered struct {
		id    dialplan.UserID
		order int
	}
	var members []ordered
	for i, raw := range f["member"] {
		uid, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || f.Get("remove_"+raw) == "on" {
			continue
		}
		order, err := strconv.Atoi(f.Get("order_" + raw))
		if err != nil {
			order = i + 1
		}
		members = append(members, ordered{dialplan.UserID(uid), order * 2})
	}
	slices.SortStableFunc(members, func(a, b ordered) int { return a.order - b.order })
	// Up and down swap a member with its neighbour.
	if mv, dir, ok := strings.Cut(f.Get("move"), ":"); ok {
		at := slices.IndexFunc(members, func(m ordered) bool { return strconv.FormatInt(int64(m.id), 10) == mv })
		to := at - 1
		if dir == "down" {
			to = at + 1
		}
		if at >= 0 && to >= 0 && to < len(members) {
			members[at], members[to] = members[to], members[at]
		}
	}
	ids := []dialplan.UserID{}
	for _, m := range members {
		ids = append(ids, m.id)
	}
	if add, err := strconv.ParseInt(f.Get("add"), 10, 64); err == nil && add > 0 {
		ids = append(ids, dialplan.UserID(add))
	}
	slice := strings.TrimSpace(f.Get("ring_slice_seconds"))
	body := map[string]any{"name": strings.TrimSpace(f.Get("name")), "ringing_rule": f.Get("ringing_rule"), "users": ids}
	if n, err := strconv.Atoi(slice); err == nil {
		body["ring_slice_seconds"] = n
	} else {
		body["ring_slice_seconds"] = slice // the API's words on it
	}
	var got struct {
		Team teamView `json:"team"`
	}
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/teams/%d", id), body, &got)
	if apiErr := refused(err); apiErr != nil {
		// The form as typed, with the API's words.
		page.Team.Name, page.Team.RingingRule = body["name"].(string), dialplan.RingingRule(f.Get("ringing_rule"))
		page.Team.RingSliceSeconds, _ = strconv.Atoi(slice)
		page.Team.Users = nil
		for _, uid := range ids {
			if u, ok := byID[uid]; ok {
				page.Team.Users = append(page.Team.Users, u)
			}
		}
		page.Others = othersThan(all, page.Team.Users)
		page.Error = apiErr.Message()
		field := apiErr.Field()
		if strings.HasPrefix(field, "users") {
			field = "users"
		}
		page.Errors[field] = apiErr.Message()
		s.render(w, r, apiErr.Status, "teams_one", page)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(visitOf(r).lang, "teams.saved", got.Team.Name)})
	s.redirect(w, r, fmt.Sprintf("/teams/%d", id))
}

func (s *server) deleteTeam(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID[dialplan.TeamID](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if !s.confirmed(w, r, translate(visitOf(r).lang, "confirm.team", r.PostFormValue("name")), "teams.delete", fmt.Sprintf("/teams/%d", id)) {
		return
	}
	if err := s.callAPI(r.Context(), r, http.MethodDelete, fmt.Sprintf("/v1/teams/%d", id), nil, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(visitOf(r).lang, "teams.deleted")})
	s.redirect(w, r, "/teams")
}

// Inc is i+1: positions are counted from one for people.
func (teamEditPage) Inc(i int) int { return i + 1 }
