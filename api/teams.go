package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
)

// teamJSON is a team with its members, each the whole user object as
// GET /v1/users/:id shows it (Aircall's team members).
type teamJSON struct {
	dialplan.Team
	DirectLink string     `json:"direct_link"`
	CreatedAt  stamp      `json:"created_at"`
	Users      []userJSON `json:"users"`
}

// memberRef accepts a member as an id or as the object a team shows, so
// that a team read with GET can be sent back with PUT.
type memberRef dialplan.UserID

func (m *memberRef) UnmarshalJSON(b []byte) error {
	var id int64
	if err := json.Unmarshal(b, &id); err == nil {
		*m = memberRef(id)
		return nil
	}
	var obj struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil || obj.ID == 0 {
		return &dialplan.FieldError{Field: "users", Problem: "each member is a user id (or an object with an id)"}
	}
	*m = memberRef(obj.ID)
	return nil
}

type teamInput struct {
	*dialplan.Team
	readOnly
	Users *[]memberRef `json:"users"`
}

// apply copies the member list, when one was sent, into the team.
func (in teamInput) apply() {
	if in.Users == nil {
		return
	}
	in.Team.Users = make([]dialplan.UserID, len(*in.Users))
	for i, m := range *in.Users {
		in.Team.Users[i] = dialplan.UserID(m)
	}
}

// teamsJSON shows teams with their members, read in one query.
func (s *server) teamsJSON(c *gin.Context, teams []dialplan.Team) ([]teamJSON, error) {
	var ids []dialplan.UserID
	for _, t := range teams {
		ids = append(ids, t.Users...)
	}
	users, err := s.Store.UsersByID(c.Request.Context(), principal(c).Company, ids)
	if err != nil {
		return nil, err
	}
	shown, err := s.usersJSON(c.Request.Context(), principal(c).Company, users)
	if err != nil {
		return nil, err
	}
	byID := make(map[dialplan.UserID]userJSON, len(shown))
	for _, u := range shown {
		byID[u.ID] = u
	}
	out := make([]teamJSON, len(teams))
	for i, t := range teams {
		members := make([]userJSON, 0, len(t.Users))
		for _, id := range t.Users {
			if u, ok := byID[id]; ok { // else deleted since the team was read
				members = append(members, u)
			}
		}
		out[i] = teamJSON{Team: t, DirectLink: s.site().link("/v1/teams/%d", t.ID), CreatedAt: stamp(t.CreatedAt), Users: members}
	}
	return out, nil
}

// respondTeam writes one team with its members.
func (s *server) respondTeam(c *gin.Context, status int, t dialplan.Team) {
	out, err := s.teamsJSON(c, []dialplan.Team{t})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(status, gin.H{"team": out[0]})
}

func (s *server) listTeams(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	teams, total, err := s.Store.Teams(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.teamsJSON(c, teams)
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, s.site(), "teams", out, total, p)
}

func (s *server) createTeam(c *gin.Context) {
	var t dialplan.Team
	in := teamInput{Team: &t}
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	in.apply()
	t.ID = 0
	if err := t.Normalize(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.CreateTeam(c.Request.Context(), principal(c).Company, &t); err != nil {
		s.fail(c, err)
		return
	}
	s.respondTeam(c, http.StatusCreated, t)
}

func (s *server) team(c *gin.Context) (dialplan.Team, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return dialplan.Team{}, err
	}
	return s.Store.Team(c.Request.Context(), principal(c).Company, dialplan.TeamID(id))
}

func (s *server) getTeam(c *gin.Context) {
	t, err := s.team(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondTeam(c, http.StatusOK, t)
}

func (s *server) updateTeam(c *gin.Context) {
	t, err := s.team(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	orig := t
	in := teamInput{Team: &t}
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	in.apply()
	t.ID, t.CreatedAt = orig.ID, orig.CreatedAt
	if err := t.Normalize(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.UpdateTeam(c.Request.Context(), principal(c).Company, &t); err != nil {
		s.fail(c, err)
		return
	}
	s.respondTeam(c, http.StatusOK, t)
}

func (s *server) deleteTeam(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteTeam(c.Request.Context(), principal(c).Company, dialplan.TeamID(id)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) addTeamMember(c *gin.Context)    { s.changeMember(c, true) }
func (s *server) removeTeamMember(c *gin.Context) { s.changeMember(c, false) }

func (s *server) changeMember(c *gin.Context, add bool) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	user, err := pathID(c, "user_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	change := s.Store.RemoveTeamMember
	if add {
		change = s.Store.AddTeamMember
	}
	t, err := change(c.Request.Context(), principal(c).Company, dialplan.TeamID(id), dialplan.UserID(user))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondTeam(c, http.StatusOK, t)
}
