package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// Calls (the admin guide's "Historique des appels"): the history with
// its filters and pages, and a call's detail: timeline, recording and
// voicemail players, tags, comments, assignment, archive. Everything is
// read and done through the API as the signed-in person, so that an
// agent sees and acts on their own calls only, as the API decides.

const callsPerPage = 25

// callFilters are the history's filters as the form sends them. The
// names are the API's query parameters (but from and to, which the form
// takes as days in the person's time zone), so that the API's refusal
// names the field it is about.
type callFilters struct {
	From, To, Direction, Status, NumberID, UserID, MissedReason, Phone, TagID string
}

func readCallFilters(q url.Values) callFilters {
	g := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return callFilters{From: g("from"), To: g("to"), Direction: g("direction"), Status: g("status"),
		NumberID: g("number_id"), UserID: g("user_id"), MissedReason: g("missed_call_reason"), Phone: g("phone_number"),
		TagID: g("tag_id")}
}

// values are the filters as the page's links carry them.
func (f callFilters) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "direction": f.Direction, "status": f.Status,
		"number_id": f.NumberID, "user_id": f.UserID, "missed_call_reason": f.MissedReason, "phone_number": f.Phone,
		"tag_id": f.TagID} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// searched: a filter only GET /v1/calls/search reads.
func (f callFilters) searched() bool {
	return f.Direction != "" || f.Status != "" || f.NumberID != "" || f.UserID != "" || f.MissedReason != "" || f.Phone != "" || f.TagID != ""
}

// Any: some filter is set (the page offers to clear them).
func (f callFilters) Any() bool { return f.searched() || f.From != "" || f.To != "" }

// callDetail is a call as GET /v1/calls/:id gives it: what the list and
// the detail show.
type callDetail struct {
	ID           int64              `json:"id"`
	Direction    dialplan.Direction `json:"direction"`
	Status       string             `json:"status"`
	StartedAt    int64              `json:"started_at"`
	AnsweredAt   *int64             `json:"answered_at"`
	EndedAt      *int64             `json:"ended_at"`
	Duration     int                `json:"duration"`
	RawDigits    string             `json:"raw_digits"`
	MissedReason *string            `json:"missed_call_reason"`
	Number       *numberRow         `json:"number"`
	User         *refRow            `json:"user"`
	AssignedTo   *refRow            `json:"assigned_to"`
	Teams        []struct {
		Name string `json:"name"`
	} `json:"teams"`
	Tags     []refRow `json:"tags"`
	Comments []struct {
		Content  string  `json:"content"`
		PostedAt int64   `json:"posted_at"`
		PostedBy *refRow `json:"posted_by"`
	} `json:"comments"`
	Archived    bool    `json:"archived"`
	Recording   *string `json:"recording"`
	Voicemail   *string `json:"voicemail"`
	WaitingTime *int    `json:"waiting_time"`
	TalkTime    *int    `json:"talk_time"`
	HangupCause *string `json:"hangup_cause"`
	Timeline    []struct {
		Event  string `json:"event"`
		At     int64  `json:"at"`
		UserID *int64 `json:"user_id"`
	} `json:"timeline"`
}

type refRow struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Missed: an inbound call that ended unanswered.
func (c callDetail) Missed() bool {
	return c.Direction == dialplan.Inbound && c.AnsweredAt == nil && c.Status == "done"
}

// Anonymous: the caller hid their number.
func (c callDetail) Anonymous() bool { return c.RawDigits == dialplan.Anonymous }

// RecordingPath and VoicemailPath are the API's signed links without
// their origin: the dashboard is served beside the API, and the page's
// Content-Security-Policy lets media come from this origin only.
func (c callDetail) RecordingPath() string { return localLink(c.Recording) }
func (c callDetail) VoicemailPath() string { return localLink(c.Voicemail) }

func localLink(l *string) string {
	if l == nil {
		return ""
	}
	u, err := url.Parse(*l)
	if err != nil {
		return ""
	}
	return (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String()
}

type callsPage struct {
	Filters                       callFilters
	Errors                        map[string]string
	Error                         string
	Calls                         []callDetail
	Total, Page, Pages            int
	PrevLink, NextLink            string
	Self                          string // this page's address, where a call's page leads back
	Tags, Numbers, Users          []selectOption
	Directions, Statuses, Reasons []string
}

func (callsPage) title() string { return "calls.title" }

var (
	callDirectionValues = []string{"inbound", "outbound"}
	callStatusValues    = []string{"initial", "answered", "done"}
)

func missedReasonValues() []string {
	out := make([]string, len(dialplan.MissedReasons))
	for i, r := range dialplan.MissedReasons {
		out[i] = string(r)
	}
	return out
}

// calls is the history: GET /v1/calls, or /v1/calls/search when a filter
// only the search reads is set; the newest first.
func (s *server) calls(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("page"))
	page := callsPage{Filters: readCallFilters(q), Page: max(n, 1), Errors: map[string]string{},
		Directions: callDirectionValues, Statuses: callStatusValues, Reasons: missedReasonValues()}
	f := page.Filters
	params := url.Values{"order": {"desc"}, "per_page": {strconv.Itoa(callsPerPage)}, "page": {strconv.Itoa(page.Page)}}
	// The form's days are the person's: from the start of from to the end
	// of to, in their time zone (the API's to is included: the last
	// second of the day).
	for _, b := range []struct {
		name, value string
		days, secs  int
	}{{"from", f.From, 0, 0}, {"to", f.To, 1, -1}} {
		if b.value == "" {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", b.value, v.loc)
		if err != nil {
			page.Errors[b.name] = translate(v.lang, "calls.date.invalid")
			continue
		}
		params.Set(b.name, strconv.FormatInt(day.AddDate(0, 0, b.days).Unix()+int64(b.secs), 10))
	}
	for k, vs := range f.values() {
		if k != "from" && k != "to" {
			params[k] = vs
		}
	}
	path := "/v1/calls?"
	if f.searched() {
		path = "/v1/calls/search?"
	}
	var list struct {
		Calls []callDetail `json:"calls"`
		Meta  pageMeta     `json:"meta"`
	}
	status := http.StatusOK
	if len(page.Errors) == 0 {
		err := s.callAPI(r.Context(), r, http.MethodGet, path+params.Encode(), nil, &list)
		var apiErr *apiError
		switch {
		case errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnprocessableEntity || apiErr.Status == http.StatusBadRequest):
			// A filter the API refuses: said next to it, in its words.
			status = apiErr.Status
			if field := apiErr.Field(); slices.Contains([]string{"direction", "status", "number_id", "user_id", "missed_call_reason", "phone_number", "tag_id", "from", "to"}, field) {
				page.Errors[field] = apiErr.Message()
			} else {
				page.Error = apiErr.Message()
			}
		case err != nil:
			s.fail(w, r, err)
			return
		}
	} else {
		status = http.StatusUnprocessableEntity
	}
	page.Calls, page.Total = list.Calls, list.Meta.Total
	page.Pages = max((page.Total+callsPerPage-1)/callsPerPage, 1)
	link := func(p int) string {
		vals := f.values()
		vals.Set("page", strconv.Itoa(p))
		return "/calls?" + vals.Encode()
	}
	page.Self = link(page.Page)
	if page.Page > 1 {
		page.PrevLink = link(page.Page - 1)
	}
	if page.Page < page.Pages {
		page.NextLink = link(page.Page + 1)
	}
	// The filters' choices: the company's numbers, users and tags, which
	// only the roles that read the configuration may list.
	options, err := s.choices(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page.Numbers, page.Users, page.Tags = options.Numbers, options.Users, options.Tags
	s.render(w, r, status, "calls", page)
}

// callPage is a call's detail, with the forms that act on it.
type callPage struct {
	Call callDetail
	// Names of the users of the timeline, by id.
	Names map[int64]string
	// The tags to add and the users to assign to (the one assigned
	// selected).
	Tags, Users []selectOption
	// Errors are the API's refusals, by the form's field; Error one
	// about no field.
	Errors  map[string]string
	Comment string
	Back    string
}

func (callPage) title() string { return "call.title" }

// Who names the user of a timeline event ("" for none, or one this
// role cannot list).
func (c callPage) Who(id *int64) string {
	if id == nil {
		return ""
	}
	return c.Names[*id]
}

// callPath reads the path's call id.
func (s *server) callDetailPage(w http.ResponseWriter, r *http.Request) {
	s.showCall(w, r, http.StatusOK, nil, "")
}

// showCall renders a call's page with the API's words on a form that
// failed (errs), and what was typed in the comment.
func (s *server) showCall(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, comment string) {
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	var got struct{ Call callDetail }
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/calls/%d", id), nil, &got); err != nil {
		s.fail(w, r, err)
		return
	}
	page := callPage{Call: got.Call, Names: map[int64]string{}, Errors: errs, Comment: comment, Back: "/calls"}
	if b := r.FormValue("back"); strings.HasPrefix(b, "/calls?") {
		page.Back = b
	}
	// The names the call itself gives (a role that cannot list users
	// still reads who did what on its calls).
	refs := []*refRow{got.Call.User, got.Call.AssignedTo}
	for _, c := range got.Call.Comments {
		refs = append(refs, c.PostedBy)
	}
	for _, u := range refs {
		if u != nil {
			page.Names[u.ID] = u.Name
		}
	}
	// The tags to add and the users to assign: lists only the roles that
	// read the configuration may read (choices).
	options, err := s.choices(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page.Tags = slices.DeleteFunc(options.Tags, func(t selectOption) bool { // those on the call already
		return slices.ContainsFunc(got.Call.Tags, func(c refRow) bool { return strconv.FormatInt(c.ID, 10) == t.Value })
	})
	page.Users = options.Users
	for i, u := range page.Users {
		id, _ := strconv.ParseInt(u.Value, 10, 64)
		page.Names[id] = u.Label
		page.Users[i].Selected = got.Call.AssignedTo != nil && got.Call.AssignedTo.ID == id
	}
	s.render(w, r, status, "calls_call", page)
}

// callAction does one of the call's forms through the API (method on the
// call's path + sub, with body): done, back to the call's page with a
// word of it (ok); refused, the page again with the API's words next to
// field (or above the forms).
func (s *server) callAction(w http.ResponseWriter, r *http.Request, method, sub string, body any, field, ok string) {
	v := visitOf(r)
	id, found := pathID[int64](r, "id")
	if !found {
		s.notFound(w, r)
		return
	}
	err := s.callAPI(r.Context(), r, method, fmt.Sprintf("/v1/calls/%d%s", id, sub), body, nil)
	var apiErr *apiError
	if errors.As(err, &apiErr) && apiErr.Status != http.StatusNotFound && apiErr.Status != http.StatusForbidden {
		// Refused, or the media server failed or is missing (a
		// recording): the API's words next to what they are about.
		key := "action"
		if apiErr.Field() != "" || apiErr.Status == http.StatusUnprocessableEntity || apiErr.Status >= 500 {
			key = field
		}
		s.showCall(w, r, apiErr.Status, map[string]string{key: apiErr.Message()}, r.PostFormValue("content"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, ok)})
	back := fmt.Sprintf("/calls/%d", id)
	if b := r.PostFormValue("back"); strings.HasPrefix(b, "/calls?") {
		back += "?" + url.Values{"back": {b}}.Encode()
	}
	s.redirect(w, r, back)
}

// formID reads a positive id from the form (0: none, which the API
// refuses in its words).
func formID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.PostFormValue(name), 10, 64)
	return max(id, 0)
}

// The call's forms, each one request to the API.
func (s *server) tagCall(w http.ResponseWriter, r *http.Request) {
	s.callAction(w, r, http.MethodPost, "/tags", map[string]any{"tags": []int64{formID(r, "tag_id")}}, "tags", "call.tagged.ok")
}

func (s *server) untagCall(w http.ResponseWriter, r *http.Request) {
	s.callAction(w, r, http.MethodDelete, "/tags/"+url.PathEscape(r.PathValue("tag")), nil, "tags", "call.untagged.ok")
}

func (s *server) commentCall(w http.ResponseWriter, r *http.Request) {
	s.callAction(w, r, http.MethodPost, "/comments", map[string]any{"content": r.PostFormValue("content")}, "content", "call.commented.ok")
}

func (s *server) assignCall(w http.ResponseWriter, r *http.Request) {
	s.callAction(w, r, http.MethodPost, "/assign", map[string]any{"user_id": formID(r, "user_id")}, "user_id", "call.assigned.ok")
}

func (s *server) archiveCall(w http.ResponseWriter, r *http.Request) {
	s.callAction(w, r, http.MethodPut, "/archive", nil, "action", "call.archived.ok")
}

func (s *server) unarchiveCall(w http.ResponseWriter, r *http.Request) {
	s.callAction(w, r, http.MethodPut, "/unarchive", nil, "action", "call.unarchived.ok")
}

func (s *server) deleteRecording(w http.ResponseWriter, r *http.Request) {
	if !s.confirmed(w, r, translate(visitOf(r).lang, "confirm.recording"), "call.recording.delete", "/calls/"+r.PathValue("id")) {
		return
	}
	s.callAction(w, r, http.MethodDelete, "/recording", nil, "recording", "call.recording.deleted")
}

func (s *server) deleteVoicemail(w http.ResponseWriter, r *http.Request) {
	if !s.confirmed(w, r, translate(visitOf(r).lang, "confirm.voicemail"), "call.voicemail.delete", "/calls/"+r.PathValue("id")) {
		return
	}
	s.callAction(w, r, http.MethodDelete, "/voicemail", nil, "voicemail", "call.voicemail.deleted")
}

// Event says a timeline event in words; one the catalogue does not know
// shows its name.
func (p view) Event(kind string) string {
	key := "event." + strings.TrimPrefix(kind, "call.")
	if msg := p.T(key); msg != key {
		return msg
	}
	return kind
}

// Reason says a missed call's reason in words.
func (p view) Reason(reason string) string { return p.T("reason." + reason) }

// Since is how long after start at was, as "+1 min 05 s".
func (p view) Since(start, at int64) string { return "+" + formatDuration(int(max(at-start, 0))) }

// Clock is the time of day of UNIX seconds, with the seconds: a
// timeline's events are seconds apart.
func (p view) Clock(secs int64) string {
	t := time.Unix(secs, 0).In(p.v.loc)
	if p.v.lang == french {
		return t.Format("15:04:05")
	}
	return t.Format("3:04:05 PM")
}

// Seconds writes a duration the API may not know (null: a dash).
func (p view) Seconds(secs *int) string {
	if secs == nil {
		return p.T("home.none")
	}
	return formatDuration(*secs)
}

// selectField is a choice among the API's values, as "calls-select"
// draws it.
type selectField struct {
	ID, Name, Label, All, Error string
	Options                     []selectOption
}

// Select describes a select of values (each said by the catalogue key
// prefix+value) with "all" first, and the API's word on it in errs.
func (p view) Select(name, label, value string, values []string, prefix string, errs map[string]string) selectField {
	f := selectField{ID: "f-" + name, Name: name, Label: p.T(label), All: p.T("calls.all"), Error: errs[name]}
	for _, v := range values {
		f.Options = append(f.Options, selectOption{Value: v, Label: p.T(prefix + v), Selected: v == value})
	}
	return f
}
