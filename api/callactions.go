package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// untagCall takes a tag off a call: DELETE /v1/calls/:id/tags/:tag_id.
func (s *server) untagCall(c *gin.Context) {
	r, err := s.call(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	tag, err := pathID(c, "tag_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	me := principal(c)
	if err := s.Store.UntagCall(c.Request.Context(), me.Company, r.ID, me.User, dialplan.TagID(tag)); err != nil {
		s.fail(c, err)
		return
	}
	s.writeCall(c, http.StatusOK, r.ID)
}

type callAssignInput struct {
	UserID dialplan.UserID `json:"user_id"`
}

// assignCall assigns a call to a user of the company, who then has it in
// their inbox and may read it: POST /v1/calls/:id/assign.
func (s *server) assignCall(c *gin.Context) {
	r, err := s.call(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in callAssignInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if in.UserID <= 0 {
		s.fail(c, &dialplan.FieldError{Field: "user_id", Problem: "give the id of the user the call is assigned to"})
		return
	}
	me := principal(c)
	if err := s.Store.AssignCall(c.Request.Context(), me.Company, r.ID, me.User, in.UserID); err != nil {
		s.fail(c, err)
		return
	}
	s.writeCall(c, http.StatusOK, r.ID)
}

func (s *server) deleteRecording(c *gin.Context) { s.deleteCallFile(c, false) }
func (s *server) deleteVoicemail(c *gin.Context) { s.deleteCallFile(c, true) }

// deleteCallFile deletes a call's recording (or voicemail) from the media
// server, then notes it on the call: DELETE /v1/calls/:id/recording and
// /voicemail. The media server first: a file the call no longer names
// must not be left behind; one the media server had lost already is fine.
func (s *server) deleteCallFile(c *gin.Context, voicemail bool) {
	r, err := s.call(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	kind, name := "recording", r.Recording
	if voicemail {
		kind, name = "voicemail", r.Voicemail
	}
	if name == "" {
		s.fail(c, &apiError{http.StatusNotFound, "not found", fmt.Sprintf("call %d has no %s", r.ID, kind)})
		return
	}
	if s.Recordings == nil {
		s.fail(c, &apiError{http.StatusServiceUnavailable, "no media server",
			"switchboard runs without a media server (SWITCHBOARD_MEDIA): recordings cannot be deleted"})
		return
	}
	if err := s.Recordings.DeleteRecording(c.Request.Context(), name); err != nil && !errors.Is(err, dialplan.ErrNoRecording) {
		s.fail(c, &apiError{http.StatusBadGateway, "media server error",
			fmt.Sprintf("the media server did not delete the %s of call %d: %v", kind, r.ID, err)})
		return
	}
	me := principal(c)
	if err := s.Store.ForgetRecording(c.Request.Context(), me.Company, r.ID, me.User, voicemail); err != nil {
		if errors.Is(err, store.ErrNotFound) { // deleted meanwhile by another request
			c.Status(http.StatusNoContent)
			return
		}
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
