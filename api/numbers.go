package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

type numberJSON struct {
	dialplan.Number
	DirectLink string `json:"direct_link"`
	Open       bool   `json:"open"`
}

type numberInput struct {
	*dialplan.Number
	readOnly
	Open any `json:"open,omitempty"`
}

func (s *server) listNumbers(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	numbers, total, err := s.Store.Numbers(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]numberJSON, len(numbers))
	for i, n := range numbers {
		out[i] = s.numberJSON(n)
	}
	list(c, s.site(), "numbers", out, total, p)
}

func (s *server) createNumber(c *gin.Context) {
	me := principal(c)
	company, err := s.Store.Company(c.Request.Context(), me.Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	n := dialplan.NewNumber()
	if err := decode(c, &numberInput{Number: &n}); err != nil {
		s.fail(c, err)
		return
	}
	n.ID = 0
	if err := s.checkNumber(c, company, &n); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.CreateNumber(c.Request.Context(), me.Company, &n); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusCreated, gin.H{"number": s.numberJSON(n)})
}

// checkNumber readies a number to save: its own fields normalised, no
// transfer loop through other numbers, its speech rendered (so a bad
// language fails now, not during a call).
func (s *server) checkNumber(c *gin.Context, company dialplan.Company, n *dialplan.Number) error {
	if err := n.Normalize(company); err != nil {
		return err
	}
	if err := s.checkTransfers(c.Request.Context(), company.ID, *n); err != nil {
		return err
	}
	return s.renderMessages(c, *n)
}

func (s *server) number(c *gin.Context) (dialplan.Number, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return dialplan.Number{}, err
	}
	return s.Store.Number(c.Request.Context(), principal(c).Company, dialplan.NumberID(id))
}

func (s *server) getNumber(c *gin.Context) {
	n, err := s.number(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"number": s.numberJSON(n)})
}

func (s *server) updateNumber(c *gin.Context) {
	me := principal(c)
	n, err := s.number(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	company, err := s.Store.Company(c.Request.Context(), me.Company)
	if err != nil {
		s.fail(c, err)
		return
	}
	orig := n
	if err := decode(c, &numberInput{Number: &n}); err != nil {
		s.fail(c, err)
		return
	}
	n.ID, n.CreatedAt = orig.ID, orig.CreatedAt
	if err := s.checkNumber(c, company, &n); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.UpdateNumber(c.Request.Context(), me.Company, &n); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"number": s.numberJSON(n)})
}

func (s *server) deleteNumber(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	// number.deleted carries the number as it was shown just before.
	company := principal(c).Company
	snapshot, err := s.render.Render(c.Request.Context(), company, events.ResourceNumber, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteNumber(c.Request.Context(), company, dialplan.NumberID(id), snapshot); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// renderMessages renders the number's text-to-speech messages before it
// is saved: a language or voice that is not installed is a 422 naming the
// field now, not silence during a call. Unchanged messages are cached and
// cost nothing.
func (s *server) renderMessages(c *gin.Context, n dialplan.Number) error {
	if s.Prompts == nil {
		return nil
	}
	return s.Prompts.Prepare(c.Request.Context(), n.Messages)
}
