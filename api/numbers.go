package api

import (
	"fmt"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// numberJSON is a number as Aircall shows it, with its whole
// configuration: its messages' settings are message_settings, as Aircall's
// messages are the URLs of their audio.
type numberJSON struct {
	dialplan.Number
	DirectLink             string         `json:"direct_link"`
	CreatedAt              stamp          `json:"created_at"`
	Open                   bool           `json:"open"`
	IsIVR                  bool           `json:"is_ivr"`
	LiveRecordingActivated bool           `json:"live_recording_activated"`
	Messages               messageLinks   `json:"messages"`
	Users                  []*userRefJSON `json:"users"`
}

type numberInput struct {
	*dialplan.Number
	readOnly
	Open                   any `json:"open,omitempty"`
	CreatedAt              any `json:"created_at,omitempty"`
	IsIVR                  any `json:"is_ivr,omitempty"`
	LiveRecordingActivated any `json:"live_recording_activated,omitempty"`
	Users                  any `json:"users,omitempty"`
	// Messages are Aircall's links, which may be sent back as read: the
	// settings are message_settings.
	Messages map[string]any `json:"messages,omitempty"`
}

// decodeNumber reads a number's body into n, refusing settings sent in
// messages, where a client following our older documents would put them:
// they would be ignored without a word.
func decodeNumber(c *gin.Context, n *dialplan.Number) error {
	in := numberInput{Number: n}
	if err := decode(c, &in); err != nil {
		return err
	}
	for kind, v := range in.Messages {
		if _, ok := v.(map[string]any); ok {
			return &dialplan.FieldError{Field: "messages." + kind,
				Problem: "messages are the links to the audio, which cannot be set: set the message in message_settings"}
		}
	}
	return nil
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
	out, err := s.numbersJSON(c.Request.Context(), principal(c).Company, numbers)
	if err != nil {
		s.fail(c, err)
		return
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
	if err := decodeNumber(c, &n); err != nil {
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
	s.respondNumber(c, http.StatusCreated, n)
}

// respondNumber answers with the number as GET /v1/numbers/:id shows it.
func (s *server) respondNumber(c *gin.Context, status int, n dialplan.Number) {
	out, err := s.numberJSON(c.Request.Context(), principal(c).Company, n)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(status, gin.H{"number": out})
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
	s.respondNumber(c, http.StatusOK, n)
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
	if err := decodeNumber(c, &n); err != nil {
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
	s.respondNumber(c, http.StatusOK, n)
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

// getNumberMessage serves the audio of one of the number's messages, the
// link its messages show (Aircall's): the wav the media servers play.
func (s *server) getNumberMessage(c *gin.Context) {
	n, err := s.number(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	kind := dialplan.MessageKind(c.Param("kind"))
	m := n.Messages[kind]
	if m == nil {
		abort(c, http.StatusNotFound, "not found", fmt.Sprintf("number %d has no %s message of its own: it plays the default", n.ID, kind))
		return
	}
	if s.Prompts == nil {
		s.fail(c, errNoLibrary)
		return
	}
	audio, err := s.Prompts.Audio(c.Request.Context(), dialplan.Prompt{Number: n.ID, Kind: kind, Message: m})
	if err != nil {
		s.fail(c, err)
		return
	}
	where := audio.Path // the file, or the URL the media servers fetch it at
	if audio.URL != "" {
		where = audio.URL
	}
	// The link stays when the message changes: not immutable.
	s.servePrompt(c, path.Base(where), false)
}
