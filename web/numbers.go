package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
)

// Numbers (the admin guide's "Numéros"): the list grouped by country,
// creating a classic or IVR number, and one number's page — its call flow
// drawn, its settings, and "Try a call" (the API's dry run). Every read
// and write is a request to the API as the signed-in person.

// numberView is a number as the API shows it. created_at is shadowed:
// the API writes Aircall's stamp, which the dashboard does not show.
type numberView struct {
	dialplan.Number
	CreatedAt any  `json:"created_at"`
	Open      bool `json:"open"`
}

// teamView is a team as the API shows it, members in order.
type teamView struct {
	ID               dialplan.TeamID      `json:"id"`
	Name             string               `json:"name"`
	RingingRule      dialplan.RingingRule `json:"ringing_rule"`
	RingSliceSeconds int                  `json:"ring_slice_seconds"`
	Users            []userRow            `json:"users"`
}

type mediaView struct {
	ID         dialplan.MediaID `json:"id"`
	Name       string           `json:"name"`
	DurationMS int              `json:"duration_ms"`
}

// callAPIRaw serves an API request whose body or answer is not JSON (an
// upload, a prompt's audio), as the signed-in person.
func (s *server) callAPIRaw(ctx context.Context, r *http.Request, method, path, contentType string, body io.Reader) (*recorder, error) {
	v := visitOf(r)
	if v.sess == nil {
		return nil, fmt.Errorf("api %s %s: no session", method, path)
	}
	req, err := http.NewRequestWithContext(api.WithPrincipal(ctx, v.sess.Principal), method, path, body)
	if err != nil {
		return nil, fmt.Errorf("api %s %s: %w", method, path, err)
	}
	req.RemoteAddr = r.RemoteAddr
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := &recorder{header: http.Header{}, Code: http.StatusOK}
	s.API.ServeHTTP(rec, req)
	if rec.Code >= 400 {
		e := &apiError{Status: rec.Code}
		if err := json.Unmarshal(rec.Body.Bytes(), e); err != nil {
			e.Short = http.StatusText(rec.Code)
		}
		return nil, e
	}
	return rec, nil
}

// --- The list -------------------------------------------------------------

type countryGroup struct {
	Country string
	Numbers []numberView
}

// newNumber is the create form as typed, with the API's words on it.
type newNumber struct {
	Name, Digits, Country, Type string
	Error                       string
	Errors                      map[string]string
}

type numbersPage struct {
	Groups []countryGroup
	Total  int
	New    newNumber
}

func (numbersPage) title() string { return "numbers.title" }

func (s *server) numbers(w http.ResponseWriter, r *http.Request) {
	var company struct {
		Company dialplan.Company `json:"company"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, "/v1/company", nil, &company); err != nil {
		s.fail(w, r, err)
		return
	}
	s.showNumbers(w, r, http.StatusOK, newNumber{Country: company.Company.Country, Type: string(dialplan.Classic)})
}

// showNumbers renders the list, grouped by country and sorted by name as
// the guide shows it, with the create form as given.
func (s *server) showNumbers(w http.ResponseWriter, r *http.Request, status int, nn newNumber) {
	all, err := listAll[numberView](s, r, "numbers")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.SortFunc(all, func(a, b numberView) int {
		return cmp.Or(cmp.Compare(a.Country, b.Country), cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	page := numbersPage{Total: len(all), New: nn}
	for _, n := range all {
		if len(page.Groups) == 0 || page.Groups[len(page.Groups)-1].Country != n.Country {
			page.Groups = append(page.Groups, countryGroup{Country: n.Country})
		}
		g := &page.Groups[len(page.Groups)-1]
		g.Numbers = append(g.Numbers, n)
	}
	s.render(w, r, status, "numbers", page)
}

func (s *server) createNumber(w http.ResponseWriter, r *http.Request) {
	nn := newNumber{Name: strings.TrimSpace(r.PostFormValue("name")), Digits: strings.TrimSpace(r.PostFormValue("digits")),
		Country: strings.TrimSpace(r.PostFormValue("country")), Type: r.PostFormValue("type")}
	var created struct {
		Number numberView `json:"number"`
	}
	err := s.callAPI(r.Context(), r, http.MethodPost, "/v1/numbers",
		map[string]any{"name": nn.Name, "digits": nn.Digits, "country": nn.Country, "type": nn.Type}, &created)
	if errs, msg, status, ok := refusal(err, "name", "digits", "country", "type"); ok {
		nn.Errors, nn.Error = errs, msg
		s.showNumbers(w, r, status, nn)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := visitOf(r)
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "numbers.created", created.Number.Name)})
	s.redirect(w, r, fmt.Sprintf("/numbers/%d", created.Number.ID))
}

// --- One number -----------------------------------------------------------

// numberPage is a number's page: the flow drawn, the settings form (the
// saved number, or the draft the API refused with its words), the dry run.
type numberPage struct {
	Number   numberView
	Saved    dialplan.Messages // the saved number's messages: only they can be heard
	Flow     []flowLane
	Users    []userRow
	Teams    []teamView
	Numbers  []numberView
	Media    []mediaView
	Kinds    []dialplan.MessageKind
	Rules    []dialplan.RingingRule
	Error    string            // the API's refusal, whatever field it names
	Errors   map[string]string // by the API's field name
	Try      tryForm
	Result   *tryResult
	Editable bool
}

func (p numberPage) title() string { return "number.title" }

// Err is the API's words on field, or on anything inside it (a slot's
// "to" is inside the slot's row).
func (p numberPage) Err(field string) string {
	for k, msg := range p.Errors {
		if k == field || strings.HasPrefix(k, field+".") || strings.HasPrefix(k, field+"[") {
			return msg
		}
	}
	return ""
}

// Rows pads a list's length with one empty row, where a new entry is typed.
func (numberPage) Rows(n int) []int {
	out := make([]int, n+1)
	for i := range out {
		out[i] = i
	}
	return out
}

// SpecialAt, StepAt and OptionAt are row i of the settings, or an
// empty one (the row for a new entry).
func (p numberPage) SpecialAt(i int) dialplan.SpecialDate {
	if s := p.Number.BusinessHours.SpecialDates; i < len(s) {
		return s[i]
	}
	return dialplan.SpecialDate{}
}

func (p numberPage) StepAt(i int) dialplan.Step {
	if s := p.Number.Distribution; i < len(s) {
		return s[i]
	}
	return dialplan.Step{RingSeconds: 20}
}

func (p numberPage) OptionAt(i int) dialplan.IVROption {
	if s := p.Number.IVROptions; i < len(s) {
		return s[i]
	}
	return dialplan.IVROption{}
}

// MessageAt is the number's own message of a kind (an empty one when it
// plays the default).
func (p numberPage) MessageAt(kind dialplan.MessageKind) dialplan.Message {
	if m := p.Number.Messages[kind]; m != nil {
		return *m
	}
	return dialplan.Message{}
}

// Saved says whether the saved number has its own message of kind: only
// those have audio to listen to.
func (p numberPage) HasMessage(kind dialplan.MessageKind) bool { return p.Saved[kind] != nil }

// CallsOut says whether the user may call out with the number.
func (p numberPage) CallsOut(id dialplan.UserID) bool {
	return slices.Contains(p.Number.OutboundUsers, id)
}

// StepValue and TargetValue write a ring step's or an option's target as
// its select's value ("team:3").
func (numberPage) StepValue(s dialplan.Step) string {
	if s.ID == 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d", s.Type, s.ID)
}

func (numberPage) TargetValue(t dialplan.Target) string {
	switch t.Type {
	case dialplan.TargetVoicemail, dialplan.TargetExternal, "":
		return string(t.Type)
	}
	return fmt.Sprintf("%s:%d", t.Type, t.ID)
}

// loadNumberPage reads the number and what its selects offer.
func (s *server) loadNumberPage(r *http.Request, id dialplan.NumberID) (numberPage, error) {
	v := visitOf(r)
	page := numberPage{Kinds: dialplan.MessageKinds, Editable: isAdmin(v.sess.Principal), Errors: map[string]string{}}
	var got struct {
		Number numberView `json:"number"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/numbers/%d", id), nil, &got); err != nil {
		return page, err
	}
	page.Number, page.Saved = got.Number, got.Number.Messages
	var err error
	if page.Users, err = listAll[userRow](s, r, "users"); err != nil {
		return page, err
	}
	if page.Teams, err = listAll[teamView](s, r, "teams"); err != nil {
		return page, err
	}
	if page.Numbers, err = listAll[numberView](s, r, "numbers"); err != nil {
		return page, err
	}
	if page.Media, err = listAll[mediaView](s, r, "media"); err != nil {
		return page, err
	}
	page.Try = defaultTry(s, r)
	return page, nil
}

// drawFlow asks the API for the number's compiled flow and lays it out.
// The saved number's, always: a refused draft has no flow.
func (s *server) drawFlow(r *http.Request, page *numberPage) error {
	var got struct {
		Flow dialplan.Flow `json:"flow"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/numbers/%d/flow", page.Number.ID), nil, &got); err != nil {
		return err
	}
	page.Flow = layoutFlow(visitOf(r).lang, got.Flow, page)
	return nil
}

func (s *server) number(w http.ResponseWriter, r *http.Request) {
	_, page, ok := loaded(s, w, r, s.loadNumberPage)
	if !ok {
		return
	}
	if err := s.drawFlow(r, &page); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "numbers_one", page)
}

// updateNumber sends the whole settings form in one PUT: the API saves
// all of it or nothing, and its refusal is shown next to the field it
// names, the form kept as typed.
func (s *server) updateNumber(w http.ResponseWriter, r *http.Request) {
	id, page, ok := loaded(s, w, r, s.loadNumberPage)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	saved := page.Number
	body, draft := settingsFromForm(r, saved)
	var got struct {
		Number numberView `json:"number"`
	}
	err := s.callAPI(r.Context(), r, http.MethodPut, fmt.Sprintf("/v1/numbers/%d", id), body, &got)
	if apiErr := refused(err); apiErr != nil {
		page.Number = draft
		page.Error = apiErr.Message()
		if f := apiErr.Field(); f != "" {
			page.Errors[f] = apiErr.Message()
		}
		// The flow drawn is the saved number's.
		page.Number.ID = saved.ID
		if err := s.drawFlow(r, &page); err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, apiErr.Status, "numbers_one", page)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(visitOf(r).lang, "number.saved", got.Number.Name)})
	s.redirect(w, r, fmt.Sprintf("/numbers/%d", id))
}

// deleteNumber removes the number through the API.
func (s *server) deleteNumber(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID[dialplan.NumberID](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if !s.confirmed(w, r, translate(visitOf(r).lang, "confirm.number", r.PostFormValue("name")), "number.delete", fmt.Sprintf("/numbers/%d", id)) {
		return
	}
	if err := s.callAPI(r.Context(), r, http.MethodDelete, fmt.Sprintf("/v1/numbers/%d", id), nil, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(visitOf(r).lang, "number.deleted")})
	s.redirect(w, r, "/numbers")
}

// listen serves the audio of one of the number's messages, as the media
// servers play it (the API renders text-to-speech).
func (s *server) listen(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID[dialplan.NumberID](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	rec, err := s.callAPIRaw(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/numbers/%d/messages/%s", id, r.PathValue("kind")), "", nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	for _, k := range []string{"Content-Type", "Content-Length", "ETag", "Last-Modified"} {
		if v := rec.header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	h.Set("Cache-Control", "private, no-cache")
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// uploadMedia sends an mp3 (or wav) to the media library; the admin then
// chooses it for a message.
func (s *server) uploadMedia(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID[dialplan.NumberID](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	v := visitOf(r)
	back := fmt.Sprintf("/numbers/%d#messages", id)
	file, header, err := r.FormFile("file")
	if err != nil {
		s.setFlash(w, flash{Kind: "error", Text: translate(v.lang, "media.nofile")})
		s.redirect(w, r, back)
		return
	}
	defer file.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = header.Filename
	}
	mw.WriteField("name", name)
	part, err := mw.CreateFormFile("file", header.Filename)
	if err == nil {
		_, err = io.Copy(part, file)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.callAPIRaw(r.Context(), r, http.MethodPost, "/v1/media", mw.FormDataContentType(), &body)
	var apiErr *apiError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status < 500:
		s.setFlash(w, flash{Kind: "error", Text: apiErr.Message()})
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		var got struct {
			Media mediaView `json:"media"`
		}
		json.Unmarshal(rec.Body.Bytes(), &got)
		s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "media.uploaded", got.Media.Name)})
	}
	s.redirect(w, r, back)
}

// Inc is i+1: rows are counted from one for people.
func (numberPage) Inc(i int) int { return i + 1 }

// Statuses are the ways a line's opening is decided.
func (numberPage) Statuses() []string {
	return []string{string(dialplan.AlwaysOpen), string(dialplan.AlwaysClosed), string(dialplan.CustomHours)}
}

// Country is a country's name in the page's language, or its code when
// the catalogue does not name it.
func (p view) Country(code string) string {
	if name := p.T("country." + code); name != "country."+code {
		return name
	}
	return code
}

// Initials are a number's badge in the list, as the guide draws it.
func (view) Initials(name string) string {
	r := []rune(strings.ToUpper(strings.TrimSpace(name)))
	return string(r[:min(2, len(r))])
}
