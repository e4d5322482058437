package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

type apiKeyJSON struct {
	store.APIKey
	DirectLink string `json:"direct_link"`
	CreatedAt  stamp  `json:"created_at"`
	// APIToken is shown once, in the answer to the creation.
	APIToken string `json:"api_token,omitempty"`
}

func newAPIKeyJSON(s site, k store.APIKey) apiKeyJSON {
	return apiKeyJSON{APIKey: k, DirectLink: s.link("/v1/api_keys/%d", k.ID), CreatedAt: stamp(k.CreatedAt)}
}

func (s *server) listAPIKeys(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	keys, total, err := s.Store.APIKeys(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = newAPIKeyJSON(s.site(), k)
	}
	list(c, s.site(), "api_keys", out, total, p)
}

// createAPIKey makes a key acting as user_id (the caller when left out).
func (s *server) createAPIKey(c *gin.Context) {
	me := principal(c)
	in := struct {
		Name   string           `json:"name"`
		UserID *dialplan.UserID `json:"user_id"`
	}{}
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(in.Name) > 64 {
		s.fail(c, &dialplan.FieldError{Field: "name", Problem: "longer than 64 characters"})
		return
	}
	user := me.User
	if in.UserID != nil {
		user = *in.UserID
	}
	// A key acts with its user's rights: only an admin owner may make one
	// for someone else, so no owner can hand themselves more rights.
	if user != me.User && me.Role != dialplan.RoleAdmin {
		s.fail(c, forbidden("only an admin owner can create a key for another user"))
		return
	}
	creds, err := s.Store.CreateAPIKey(c.Request.Context(), me.Company, user, in.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	key := newAPIKeyJSON(s.site(), store.APIKey{ID: creds.KeyID, APIID: creds.APIID, UserID: int64(user), Name: in.Name, CreatedAt: s.Now().UTC()})
	key.APIToken = creds.APIToken
	c.PureJSON(http.StatusCreated, gin.H{"api_key": key})
}

func (s *server) deleteAPIKey(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteAPIKey(c.Request.Context(), principal(c).Company, id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
