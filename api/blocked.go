package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
)

type blockedJSON struct {
	dialplan.BlockedNumber
	DirectLink string `json:"direct_link"`
	CreatedAt  stamp  `json:"created_at"`
}

func newBlockedJSON(s site, b dialplan.BlockedNumber) blockedJSON {
	return blockedJSON{BlockedNumber: b, DirectLink: s.link("/v1/blocked_numbers/%d", b.ID), CreatedAt: stamp(b.CreatedAt)}
}

func (s *server) listBlockedNumbers(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	blocked, total, err := s.Store.BlockedNumbers(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]blockedJSON, len(blocked))
	for i, b := range blocked {
		out[i] = newBlockedJSON(s.site(), b)
	}
	list(c, s.site(), "blocked_numbers", out, total, p)
}

func (s *server) blockNumber(c *gin.Context) {
	me := principal(c)
	company, err := s.Store.Company(c.Request.Context(), me.Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	var b dialplan.BlockedNumber
	if err := decode(c, &struct {
		*dialplan.BlockedNumber
		readOnly
	}{BlockedNumber: &b}); err != nil {
		s.fail(c, err)
		return
	}
	b.ID = 0
	if err := b.Normalize(company); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.BlockNumber(c.Request.Context(), me.Company, &b); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusCreated, gin.H{"blocked_number": newBlockedJSON(s.site(), b)})
}

func (s *server) unblockNumber(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.UnblockNumber(c.Request.Context(), principal(c).Company, dialplan.BlockedNumberID(id)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
