package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
)

type tagJSON struct {
	dialplan.Tag
	DirectLink string `json:"direct_link"`
	CreatedAt  stamp  `json:"created_at"`
}

func newTagJSON(s site, t dialplan.Tag) tagJSON {
	return tagJSON{Tag: t, DirectLink: s.link("/v1/tags/%d", t.ID), CreatedAt: stamp(t.CreatedAt)}
}

func (s *server) listTags(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	tags, total, err := s.Store.Tags(c.Request.Context(), principal(c).Company, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]tagJSON, len(tags))
	for i, t := range tags {
		out[i] = newTagJSON(s.site(), t)
	}
	list(c, s.site(), "tags", out, total, p)
}

func (s *server) createTag(c *gin.Context) {
	var t dialplan.Tag
	if err := decode(c, &struct {
		*dialplan.Tag
		readOnly
	}{Tag: &t}); err != nil {
		s.fail(c, err)
		return
	}
	t.ID, t.System = 0, false
	if err := t.Normalize(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.CreateTag(c.Request.Context(), principal(c).Company, &t); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusCreated, gin.H{"tag": newTagJSON(s.site(), t)})
}

func (s *server) tag(c *gin.Context) (dialplan.Tag, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return dialplan.Tag{}, err
	}
	return s.Store.Tag(c.Request.Context(), principal(c).Company, dialplan.TagID(id))
}

func (s *server) getTag(c *gin.Context) {
	t, err := s.tag(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"tag": newTagJSON(s.site(), t)})
}

func (s *server) updateTag(c *gin.Context) {
	t, err := s.tag(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	orig := t
	if err := decode(c, &struct {
		*dialplan.Tag
		readOnly
	}{Tag: &t}); err != nil {
		s.fail(c, err)
		return
	}
	t.ID, t.CreatedAt, t.System = orig.ID, orig.CreatedAt, orig.System
	if err := t.Normalize(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.UpdateTag(c.Request.Context(), principal(c).Company, &t); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"tag": newTagJSON(s.site(), t)})
}

func (s *server) deleteTag(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteTag(c.Request.Context(), principal(c).Company, dialplan.TagID(id)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
