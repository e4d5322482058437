package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
)

// readOnly holds the output-only fields a client may send back unchanged
// (a GET body PUT back as it came): they are accepted and ignored. The
// resource's own id and created_at are decoded with it, so handlers put
// them back after decoding.
type readOnly struct {
	DirectLink json.RawMessage `json:"direct_link,omitempty"`
}

type companyJSON struct {
	dialplan.Company
	DirectLink string `json:"direct_link"`
}

func (s *server) getCompany(c *gin.Context) {
	company, err := s.Store.Company(c.Request.Context(), principal(c).Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"company": companyJSON{company, s.site().link("/v1/company")}})
}

func (s *server) updateCompany(c *gin.Context) {
	company, err := s.Store.Company(c.Request.Context(), principal(c).Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	orig := company
	in := struct {
		*dialplan.Company
		readOnly
	}{Company: &company}
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	company.ID, company.CreatedAt = orig.ID, orig.CreatedAt
	if err := company.Normalize(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.UpdateCompany(c.Request.Context(), company); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"company": companyJSON{company, s.site().link("/v1/company")}})
}
