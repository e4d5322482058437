package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// Tags & blocked numbers (the admin guide's "Tags" and "Blacklist"):
// supervisors read them, admins change them, through /v1/tags and
// /v1/blocked_numbers.

type tagRow struct {
	ID          dialplan.TagID `json:"id"`
	Name        string         `json:"name"`
	Color       string         `json:"color"`
	Description string         `json:"description"`
	System      bool           `json:"system"`
	CreatedAt   time.Time      `json:"created_at"`
}

type blockedRow struct {
	ID        dialplan.BlockedNumberID `json:"id"`
	Digits    string                   `json:"digits"`
	Note      string                   `json:"note"`
	CreatedAt time.Time                `json:"created_at"`
}

// tagForm is a tag's form as typed, and the API's words on it.
type tagForm struct {
	ID                       dialplan.TagID
	Name, Color, Description string
	Error                    string
	Errors                   map[string]string
}

type blockedForm struct {
	Digits, Note string
	Error        string
	Errors       map[string]string
}

type tagsPage struct {
	Tags, System                   []tagRow
	MoreTags                       bool // more than maxTagPages pages of them
	Blocked                        []blockedRow
	Total, Page, Pages, Prev, Next int // of the blocked numbers
	NewTag                         tagForm
	Block                          blockedForm
}

func (tagsPage) title() string { return "tags.title" }

type tagPage struct{ Form tagForm }

func (tagPage) title() string { return "tags.edit.title" }

// newTagColor is the colour the create form starts with: the API's
// default.
const newTagColor = "#9b9b9b"

// maxTagPages bounds the pages of tags read for one list (50 a page): a
// company has tens of tags; a list that long is said rather than cut
// silently (tags.more).
const maxTagPages = 20

func (s *server) tags(w http.ResponseWriter, r *http.Request) {
	s.showTags(w, r, http.StatusOK, tagForm{Color: newTagColor}, blockedForm{})
}

// showTags renders the page with the forms as given: all the tags (the
// system ones apart, as the admin guide shows them), and one page
// (?page=) of the blocked numbers.
func (s *server) showTags(w http.ResponseWriter, r *http.Request, status int, tf tagForm, bf blockedForm) {
	n, _ := strconv.Atoi(r.FormValue("page"))
	page := tagsPage{Page: max(n, 1), NewTag: tf, Block: bf}
	for p := 1; p <= maxTagPages; p++ {
		var list struct {
			Tags []tagRow `json:"tags"`
			Meta pageMeta `json:"meta"`
		}
		if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/tags?per_page=50&page=%d", p), nil, &list); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, t := range list.Tags {
			if t.System {
				page.System = append(page.System, t)
			} else {
				page.Tags = append(page.Tags, t)
			}
		}
		if len(list.Tags) == 0 || len(page.Tags)+len(page.System) >= list.Meta.Total {
			break
		}
		page.MoreTags = p == maxTagPages
	}
	var blocked struct {
		Blocked []blockedRow `json:"blocked_numbers"`
		Meta    pageMeta     `json:"meta"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/blocked_numbers?per_page=%d&page=%d", usersPerPage, page.Page), nil, &blocked); err != nil {
		s.fail(w, r, err)
		return
	}
	page.Blocked, page.Total = blocked.Blocked, blocked.Meta.Total
	page.Pages = max((page.Total+usersPerPage-1)/usersPerPage, 1)
	page.Prev, page.Next = page.Page-1, page.Page+1
	s.render(w, r, status, "tags", page)
}

func tagFormOf(r *http.Request) tagForm {
	return tagForm{Name: strings.TrimSpace(r.PostFormValue("name")), Color: r.PostFormValue("color"),
		Description: strings.TrimSpace(r.PostFormValue("description"))}
}

func (f tagForm) body() map[string]any {
	return map[string]any{"name": f.Name, "color": f.Color, "description": f.Description}
}

func (s *server) createTag(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	f := tagFormOf(r)
	var created struct{ Tag tagRow }
	err := s.callAPI(r.Context(), r, http.MethodPost, "/v1/tags", f.body(), &created)
	if errs, msg, status, ok := refusal(err, "name", "color", "description"); ok {
		f.Errors, f.Error = errs, msg
		s.showTags(w, r, status, f, blockedForm{})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "tags.created", created.Tag.Name)})
	s.redirect(w, r, fmt.Sprintf("/tags#tag-%d", created.Tag.ID))
}

// editTag shows a tag's form; a system tag is shown, not editable (the
// API refuses to change it).
func (s *server) editTag(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var got struct{ Tag tagRow }
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/tags/%d", id), nil, &got); err != nil {
		s.fail(w, r, err)
		return
	}
	t := got.Tag
	if t.System {
		s.redirect(w, r, "/tags")
		return
	}
	s.render(w, r, http.StatusOK, "tags_edit", tagPage{Form: tagForm{ID: t.ID, Name: t.Name, Color: strings.ToLower(t.Color), Description: t.Description}})
}

func (s *server) updateTag(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	f := tagFormOf(r)
	f.ID = dialplan.TagID(id)
	var got struct{ Tag tagRow }
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/tags/%d", id), f.body(), &got)
	if errs, msg, status, ok := refusal(err, "name", "color", "description"); ok && status != http.StatusNotFound {
		f.Errors, f.Error = errs, msg
		s.render(w, r, status, "tags_edit", tagPage{Form: f})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "tags.saved", got.Tag.Name)})
	s.redirect(w, r, fmt.Sprintf("/tags#tag-%d", id))
}

// deleteTag removes a tag; the API refuses a system tag, in its words.
func (s *server) deleteTag(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if !s.confirmed(w, r, translate(v.lang, "confirm.tag", r.PostFormValue("name")), "tags.delete", "/tags") {
		return
	}
	err := s.callAPI(r.Context(), r, http.MethodDelete, fmt.Sprintf("/v1/tags/%d", id), nil, nil)
	if _, msg, _, ok := refusal(err); ok {
		s.setFlash(w, flash{Kind: "error", Text: msg})
	} else if err != nil {
		s.fail(w, r, err)
		return
	} else {
		s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "tags.deleted", r.PostFormValue("name"))})
	}
	s.redirect(w, r, "/tags")
}

func (s *server) blockNumber(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	f := blockedForm{Digits: strings.TrimSpace(r.PostFormValue("digits")), Note: strings.TrimSpace(r.PostFormValue("note"))}
	var created struct {
		Blocked blockedRow `json:"blocked_number"`
	}
	err := s.callAPI(r.Context(), r, http.MethodPost, "/v1/blocked_numbers", map[string]any{"digits": f.Digits, "note": f.Note}, &created)
	if errs, msg, status, ok := refusal(err, "digits", "note"); ok {
		f.Errors, f.Error = errs, msg
		s.showTags(w, r, status, tagForm{Color: newTagColor}, f)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "blocked.added", created.Blocked.Digits)})
	s.redirect(w, r, "/tags#blocked-title")
}

func (s *server) unblockNumber(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	n, _ := strconv.Atoi(r.PostFormValue("page"))
	back := "/tags?" + url.Values{"page": {strconv.Itoa(max(n, 1))}}.Encode() + "#blocked-title"
	if !s.confirmed(w, r, translate(v.lang, "confirm.blocked", r.PostFormValue("digits")), "blocked.remove", back) {
		return
	}
	err := s.callAPI(r.Context(), r, http.MethodDelete, fmt.Sprintf("/v1/blocked_numbers/%d", id), nil, nil)
	if _, msg, _, ok := refusal(err); ok {
		s.setFlash(w, flash{Kind: "error", Text: msg})
	} else if err != nil {
		s.fail(w, r, err)
		return
	} else {
		s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "blocked.removed", r.PostFormValue("digits"))})
	}
	s.redirect(w, r, back)
}
