package api

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/store"
)

type userJSON struct {
	dialplan.User
	DirectLink   string              `json:"direct_link"`
	Name         string              `json:"name"`
	Availability dialplan.LiveStatus `json:"availability"`
	// Available is Aircall's boolean: the user can take a call now.
	Available bool            `json:"available"`
	Substatus string          `json:"substatus"`
	CreatedAt stamp           `json:"created_at"`
	Numbers   []numberRefJSON `json:"numbers"` // the numbers that ring them or they call out with
}

// userInput is a user as a client sends it: name, availability and
// available are output-only.
type userInput struct {
	*dialplan.User
	readOnly
	Name         any `json:"name,omitempty"`
	Availability any `json:"availability,omitempty"`
	Available    any `json:"available,omitempty"`
	Substatus    any `json:"substatus,omitempty"`
	Numbers      any `json:"numbers,omitempty"`
}

// respondUser answers with the user as GET /v1/users/:id shows them.
func (s *server) respondUser(c *gin.Context, status int, u dialplan.User) {
	out, err := s.userJSON(c.Request.Context(), principal(c).Company, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(status, gin.H{"user": out})
}

func (s *server) listUsers(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	users, total, err := s.Store.Users(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.usersJSON(c.Request.Context(), principal(c).Company, users)
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, s.site(), "users", out, total, p)
}

func (s *server) createUser(c *gin.Context) {
	me := principal(c)
	company, err := s.Store.Company(c.Request.Context(), me.Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	var u dialplan.User
	if err := decode(c, &userInput{User: &u}); err != nil {
		s.fail(c, err)
		return
	}
	if u.Owner && !me.Owner {
		s.fail(c, forbidden("only an owner can make another user an owner"))
		return
	}
	u.ID = 0
	if err := u.Normalize(company); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.CreateUser(c.Request.Context(), me.Company, &u); err != nil {
		s.fail(c, err)
		return
	}
	s.respondUser(c, http.StatusCreated, u)
}

// user reads the user named in the path, if the caller may see them.
func (s *server) user(c *gin.Context) (dialplan.User, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return dialplan.User{}, err
	}
	u, err := s.Store.User(c.Request.Context(), principal(c).Company, dialplan.UserID(id))
	if err != nil {
		return u, err
	}
	return u, selfOrReader(principal(c), u.ID)
}

func (s *server) getUser(c *gin.Context) {
	u, err := s.user(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondUser(c, http.StatusOK, u)
}

func (s *server) updateUser(c *gin.Context) {
	me := principal(c)
	u, err := s.user(c)
	if err == nil {
		err = selfOrAdmin(me, u.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	company, err := s.Store.Company(c.Request.Context(), me.Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	orig := u
	orig.Devices = slices.Clone(u.Devices)
	if err := decode(c, &userInput{User: &u}); err != nil {
		s.fail(c, err)
		return
	}
	u.ID, u.CreatedAt = orig.ID, orig.CreatedAt
	if err := mayChange(me, orig, u); err != nil {
		s.fail(c, err)
		return
	}
	if err := u.Normalize(company); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.UpdateUser(c.Request.Context(), me.Company, &u); err != nil {
		s.fail(c, err)
		return
	}
	s.ACD.UserChanged(u)
	s.respondUser(c, http.StatusOK, u)
}

// mayChange refuses changes to fields the caller's role does not control.
// Unchanged values are fine, so a user can PUT back what they read.
func mayChange(me store.Principal, before, after dialplan.User) error {
	if before.Owner != after.Owner && !me.Owner {
		return forbidden("only an owner can change the owner permission")
	}
	if me.Role == dialplan.RoleAdmin {
		if me.User == before.ID && after.Role != dialplan.RoleAdmin {
			return forbidden("admins cannot take away their own admin role")
		}
		return nil
	}
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"role", before.Role != after.Role},
		{"email", before.Email != after.Email},
		{"extension", before.Extension != after.Extension},
		{"wrap_up_time", before.WrapUpTime != after.WrapUpTime},
		{"devices", !slices.Equal(before.Devices, after.Devices)},
	} {
		if f.changed {
			return forbidden("only admins can change " + f.name)
		}
	}
	return nil
}

func (s *server) deleteUser(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if dialplan.UserID(id) == principal(c).User {
		s.fail(c, &store.ConflictError{Reason: "you cannot delete your own user"})
		return
	}
	// user.deleted carries the user as they were shown just before.
	company := principal(c).Company
	snapshot, err := s.render.Render(c.Request.Context(), company, events.ResourceUser, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteUser(c.Request.Context(), company, dialplan.UserID(id), snapshot); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// availabilityJSON is a user's availability as Aircall shows it, with the
// setting it comes from.
type availabilityJSON struct {
	ID                 dialplan.UserID       `json:"id"`
	Availability       dialplan.LiveStatus   `json:"availability"`
	AvailabilityStatus dialplan.Availability `json:"availability_status"`
	UnavailableReason  string                `json:"unavailable_reason"`
}

func (s *server) availabilityJSON(u dialplan.User) availabilityJSON {
	return availabilityJSON{ID: u.ID, Availability: s.ACD.Status(u),
		AvailabilityStatus: u.AvailabilityStatus, UnavailableReason: u.UnavailableReason}
}

func (s *server) listAvailabilities(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	users, total, err := s.Store.Users(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]availabilityJSON, len(users))
	for i, u := range users {
		out[i] = s.availabilityJSON(u)
	}
	list(c, s.site(), "users", out, total, p)
}

func (s *server) getAvailability(c *gin.Context) {
	u, err := s.user(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, s.availabilityJSON(u)) // Aircall's {"availability": "…"}, with the setting beside it
}

func (s *server) updateAvailability(c *gin.Context) {
	me := principal(c)
	u, err := s.user(c)
	if err == nil {
		err = selfOrAdmin(me, u.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	in := struct {
		AvailabilityStatus *dialplan.Availability `json:"availability_status"`
		UnavailableReason  *string                `json:"unavailable_reason"`
		ID                 any                    `json:"id,omitempty"`
		Availability       any                    `json:"availability,omitempty"`
	}{}
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.AvailabilityStatus == nil {
		s.fail(c, &dialplan.FieldError{Field: "availability_status", Problem: "is required (available, custom, unavailable)"})
		return
	}
	u.AvailabilityStatus = *in.AvailabilityStatus
	u.UnavailableReason = ""
	if in.UnavailableReason != nil && u.AvailabilityStatus == dialplan.Unavailable {
		u.UnavailableReason = *in.UnavailableReason
	}
	if err := dialplan.CheckAvailability(u.AvailabilityStatus, u.UnavailableReason); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.SetAvailability(c.Request.Context(), me.Company, u.ID, u.AvailabilityStatus, u.UnavailableReason); err != nil {
		s.fail(c, err)
		return
	}
	s.ACD.UserChanged(u)
	c.PureJSON(http.StatusOK, s.availabilityJSON(u)) // Aircall's {"availability": "…"}, with the setting beside it
}
