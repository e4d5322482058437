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
	DirectLink   string `json:"direct_link"`
	CreatedAt    stamp  `json:"created_at"`
	UsersCount   int    `json:"users_count"`
	NumbersCount int    `json:"numbers_count"`
}

// companyInput is what PUT /v1/company decodes: a company as GET gives
// it may come back, its counts ignored.
type companyInput struct {
	*dialplan.Company
	readOnly
	UsersCount   json.RawMessage `json:"users_count,omitempty"`
	NumbersCount json.RawMessage `json:"numbers_count,omitempty"`
}

// writeCompany answers with the company as GET shows it.
func (s *server) writeCompany(c *gin.Context, company dialplan.Company) {
	users, numbers, err := s.Store.CompanyCounts(c.Request.Context(), company.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"company": companyJSON{Company: company, DirectLink: s.site().link("/v1/company"),
		CreatedAt:  stamp(company.CreatedAt),
		UsersCount: users, NumbersCount: numbers}})
}

func (s *server) getCompany(c *gin.Context) {
	company, err := s.Store.Company(c.Request.Context(), principal(c).Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeCompany(c, company)
}

func (s *server) updateCompany(c *gin.Context) {
	company, err := s.Store.Company(c.Request.Context(), principal(c).Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	orig := company
	in := companyInput{Company: &company}
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
	s.writeCompany(c, company)
}
