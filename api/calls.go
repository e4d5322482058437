package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/phone"
	"github.com/switchboard/switchboard/store"
)

// callJSON is a call as Aircall shows it, plus waiting_time, talk_time,
// where a transfer went (transfer_target) and (on GET /v1/calls/:id only)
// the timeline. Its users and number are filled in by Deps.embed.
type callJSON struct {
	ID                 dialplan.CallID          `json:"id"`
	SID                *string                  `json:"sid"` // the media server's id of the caller's leg
	DirectLink         string                   `json:"direct_link"`
	Direction          dialplan.Direction       `json:"direction"`
	Status             dialplan.CallStatus      `json:"status"`
	StartedAt          int64                    `json:"started_at"`
	AnsweredAt         *int64                   `json:"answered_at"`
	EndedAt            *int64                   `json:"ended_at"`
	Duration           int64                    `json:"duration"` // 0 until it ends
	RawDigits          string                   `json:"raw_digits"`
	MissedCallReason   *dialplan.MissedReason   `json:"missed_call_reason"`
	Number             *numberRefJSON           `json:"number"`
	User               *userRefJSON             `json:"user"`
	Teams              []callTeamJSON           `json:"teams"`
	Tags               []callTagJSON            `json:"tags"`
	Comments           []callCommentJSON        `json:"comments"`
	AssignedTo         *userRefJSON             `json:"assigned_to"`
	Archived           bool                     `json:"archived"`
	Recording          *string                  `json:"recording"`
	Voicemail          *string                  `json:"voicemail"`
	Asset              *string                  `json:"asset"`
	Cost               string                   `json:"cost"`
	CountryCode        *string                  `json:"country_code_a2"`
	PricingType        *string                  `json:"pricing_type"`
	TransferredBy      *userRefJSON             `json:"transferred_by"`
	TransferredTo      *userRefJSON             `json:"transferred_to"`
	TransferTarget     *transferJSON            `json:"transfer_target"`
	Contact            *contactJSON             `json:"contact"`
	HangupCause        *string                  `json:"hangup_cause"`
	IVROptionsSelected *[]ivrOptionSelectedJSON `json:"ivr_options_selected,omitempty"`
	WaitingTime        *int                     `json:"waiting_time"`
	TalkTime           *int                     `json:"talk_time"`
	Timeline           *[]timelineEventJSON     `json:"timeline,omitempty"`
}

type callTeamJSON struct {
	ID         dialplan.TeamID `json:"id"`
	DirectLink string          `json:"direct_link"`
	Name       string          `json:"name"`
	CreatedAt  stamp           `json:"created_at"`
}

type callTagJSON struct {
	ID       dialplan.TagID `json:"id"`
	Name     string         `json:"name"`
	TaggedBy *userRefJSON   `json:"tagged_by"` // null: a system tag, or its user since deleted
	TaggedAt int64          `json:"tagged_at"`
}

type callCommentJSON struct {
	ID       dialplan.CommentID `json:"id"`
	Content  string             `json:"content"`
	PostedAt int64              `json:"posted_at"`
	PostedBy *userRefJSON       `json:"posted_by"` // as Aircall's: the author, null once deleted
}

type transferJSON struct {
	Type   dialplan.TargetType `json:"type"`
	ID     *int64              `json:"id"`
	Digits *string             `json:"digits"`
}

// ivrOptionSelectedJSON is a key the caller pressed in an IVR, as Aircall
// shows it with fetch_call_timeline=true: its id is the key's place in
// the call (1 for the first key pressed), its title and branch where the
// key led, the transition from the press to the next step's start.
type ivrOptionSelectedJSON struct {
	ID                  int     `json:"id"`
	Title               string  `json:"title"`
	Key                 string  `json:"key"`
	Branch              *string `json:"branch"`
	CreatedAt           stamp   `json:"created_at"`
	TransitionStartedAt stamp   `json:"transition_started_at"`
	TransitionEndedAt   *stamp  `json:"transition_ended_at"`
}

type timelineEventJSON struct {
	Event  events.Kind      `json:"event"`
	At     int64            `json:"at"`
	UserID *dialplan.UserID `json:"user_id"`
	Data   any              `json:"data"` // the kind's payload; {} for none
}

// unix is a time in UNIX seconds, null when unknown.
func unix(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	s := t.Unix()
	return &s
}

// orNull gives nil for a zero value, for the fields that are null when unset.
func orNull[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// newCallJSON shapes a call record; its timeline (and the IVR options
// selected, read from it) only when asked. Deps.embed fills in its users
// and number.
func newCallJSON(s site, r store.CallRecord, timeline bool) callJSON {
	c := r.Call
	out := callJSON{
		ID:               c.ID,
		SID:              orNull(c.MediaRef),
		DirectLink:       s.link("/v1/calls/%d", c.ID),
		Direction:        c.Direction,
		Status:           c.Status,
		StartedAt:        c.StartedAt.Unix(),
		AnsweredAt:       unix(c.AnsweredAt),
		EndedAt:          unix(c.EndedAt),
		RawDigits:        c.RawDigits,
		MissedCallReason: orNull(c.MissedReason),
		Teams:            make([]callTeamJSON, len(r.TeamRefs)),
		Tags:             make([]callTagJSON, len(r.Tags)),
		Comments:         make([]callCommentJSON, len(r.Comments)),
		Archived:         r.Archived,
		Recording:        fileLink(s, c.ID, "recording", c.Recording),
		Voicemail:        fileLink(s, c.ID, "voicemail", c.Voicemail),
		Cost:             "0.0", // calls go through the company's own PBX and trunks: Switchboard bills nothing
		CountryCode:      countryOf(c.RawDigits),
		HangupCause:      orNull(c.HangupCause),
		WaitingTime:      r.WaitingSeconds,
		TalkTime:         r.TalkSeconds,
	}
	if c.AnsweredAt != nil {
		out.MissedCallReason = nil
	}
	if c.EndedAt != nil {
		out.Duration = c.EndedAt.Unix() - c.StartedAt.Unix()
	}
	// The asset is the call's file to listen to (Aircall's page of it):
	// the voicemail, else the recording.
	switch {
	case c.Voicemail != "":
		out.Asset = orNull(s.link("/v1/calls/%d/voicemail", c.ID))
	case c.Recording != "":
		out.Asset = orNull(s.link("/v1/calls/%d/recording", c.ID))
	}
	for i, t := range r.TeamRefs {
		out.Teams[i] = callTeamJSON{ID: t.ID, DirectLink: s.link("/v1/teams/%d", t.ID), Name: t.Name, CreatedAt: stamp(t.CreatedAt)}
	}
	for i, t := range r.Tags {
		out.Tags[i] = callTagJSON{ID: t.ID, Name: t.Name, TaggedAt: t.At.Unix()}
	}
	for i, cm := range r.Comments {
		out.Comments[i] = callCommentJSON{ID: cm.ID, Content: cm.Content, PostedAt: cm.PostedAt.Unix()}
	}
	if t := c.TransferredTo; t != nil {
		out.TransferTarget = &transferJSON{Type: t.Type, ID: orNull(t.ID), Digits: orNull(t.Digits)}
	}
	if timeline && r.Timeline != nil {
		lines := make([]timelineEventJSON, len(r.Timeline))
		for i, e := range r.Timeline {
			lines[i] = timelineEventJSON{Event: e.Event, At: e.At.Unix(), UserID: orNull(e.User), Data: e.Data}
			if e.Data == nil {
				lines[i].Data = struct{}{}
			}
		}
		out.Timeline = &lines
		ivr := ivrOptionsSelected(r.Timeline)
		out.IVROptionsSelected = &ivr
	}
	return out
}

// countryOf is the country of the other party's number, when its calling
// code names one country only (+1 is many: null).
func countryOf(raw string) *string {
	if !strings.HasPrefix(raw, "+") {
		return nil
	}
	if c := phone.Countries(raw); len(c) == 1 {
		return &c[0]
	}
	return nil
}

// ivrOptionsSelected reads the keys the caller pressed from a timeline:
// each key's transition ends when the call's next step starts.
func ivrOptionsSelected(timeline []dialplan.TimelineEvent) []ivrOptionSelectedJSON {
	out := []ivrOptionSelectedJSON{}
	for i, e := range timeline {
		o, ok := e.Data.(events.IVROption)
		if e.Event != events.CallIVROptionSelected || !ok {
			continue
		}
		selected := ivrOptionSelectedJSON{ID: len(out) + 1, Title: "Key " + o.Key, Key: o.Key, Branch: orNull(o.Target),
			CreatedAt: stamp(e.At), TransitionStartedAt: stamp(e.At)}
		if i+1 < len(timeline) {
			end := stamp(timeline[i+1].At)
			selected.TransitionEndedAt = &end
		}
		out = append(out, selected)
	}
	return out
}

// agentsCallsOnly is why an agent may not see a call.
const agentsCallsOnly = "agents can only see and act on the calls they answered or that are assigned to them"

// callFilter starts a filter with the page and, for agents, only their calls.
func callFilter(me store.Principal, p store.Page) store.CallFilter {
	f := store.CallFilter{Page: p}
	if me.Role == dialplan.RoleAgent {
		f.VisibleTo = me.User
	}
	return f
}

func (s *server) listCalls(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeCalls(c, callFilter(principal(c), p))
}

// The values the search filters take.
var (
	callDirections = []dialplan.Direction{dialplan.Inbound, dialplan.Outbound}
	callStatuses   = []dialplan.CallStatus{dialplan.CallInitial, dialplan.CallAnswered, dialplan.CallDone}
)

// oneOf reads query parameter name, which must be one of values when set.
func oneOf[T ~string](c *gin.Context, name string, values []T, dst *T) error {
	raw := c.Query(name)
	if raw == "" {
		return nil
	}
	words := make([]string, len(values))
	for i, v := range values {
		if string(v) == raw {
			*dst = v
			return nil
		}
		words[i] = string(v)
	}
	return &dialplan.FieldError{Field: name, Problem: fmt.Sprintf("%q must be one of %s", raw, strings.Join(words, ", "))}
}

// queryID reads query parameter name, a positive id when set.
func queryID[T ~int64](c *gin.Context, name string, dst *T) error {
	raw := c.Query(name)
	if raw == "" {
		return nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return &dialplan.FieldError{Field: name, Problem: fmt.Sprintf("%q must be a positive integer id", raw)}
	}
	*dst = T(id)
	return nil
}

func (s *server) searchCalls(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := callFilter(principal(c), p)
	for _, read := range []func() error{
		func() error { return oneOf(c, "direction", callDirections, &f.Direction) },
		func() error { return oneOf(c, "status", callStatuses, &f.Status) },
		func() error { return queryID(c, "number_id", &f.NumberID) },
		func() error { return queryID(c, "user_id", &f.UserID) },
		func() error { return oneOf(c, "missed_call_reason", dialplan.MissedReasons, &f.MissedReason) },
		func() error { return queryID(c, "tag_id", &f.TagID) },
		func() error { return s.queryPhone(c, &f.Phone) },
		func() error {
			f.ContactEmail = strings.ToLower(strings.TrimSpace(c.Query("email")))
			return nil
		},
	} {
		if err := read(); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.writeCalls(c, f)
}

func (s *server) writeCalls(c *gin.Context, f store.CallFilter) {
	timeline, err := queryBool(c, "fetch_call_timeline")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx, company := c.Request.Context(), principal(c).Company
	calls, total, err := s.Store.Calls(ctx, company, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	if timeline {
		ids := make([]dialplan.CallID, len(calls))
		for i, r := range calls {
			ids[i] = r.ID
		}
		timelines, err := s.Store.Timelines(ctx, company, ids)
		if err != nil {
			s.fail(c, err)
			return
		}
		for i := range calls {
			calls[i].Timeline = timelines[calls[i].ID]
		}
	}
	out, err := s.callsJSON(ctx, company, calls, timeline)
	if err == nil {
		for i, r := range calls {
			if err = s.signLinks(ctx, &out[i], r); err != nil {
				break
			}
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, s.site(), "calls", out, total, f.Page)
}

// queryBool reads a boolean query parameter: true or false, false when
// absent.
func queryBool(c *gin.Context, name string) (bool, error) {
	switch raw := c.Query(name); raw {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, &dialplan.FieldError{Field: name, Problem: fmt.Sprintf("%q must be true or false", raw)}
	}
}

// call reads the call named in the path, if the caller may see it.
func (s *server) call(c *gin.Context) (store.CallRecord, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return store.CallRecord{}, err
	}
	me := principal(c)
	r, err := s.Store.Call(c.Request.Context(), me.Company, dialplan.CallID(id))
	if err != nil {
		return r, err
	}
	return r, reach(me, r.User, r.AssignedTo)
}

// reach says whether the key's user may see and act on a call answered by
// user and assigned to assigned: agents only their own.
func reach(me store.Principal, user, assigned dialplan.UserID) error {
	if me.Role == dialplan.RoleAgent && user != me.User && assigned != me.User {
		return forbidden(agentsCallsOnly)
	}
	return nil
}

func (s *server) getCall(c *gin.Context) {
	r, err := s.call(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeCallJSON(c, http.StatusOK, r)
}

// writeCall answers with the call as it is now.
func (s *server) writeCall(c *gin.Context, status int, id dialplan.CallID) {
	r, err := s.Store.Call(c.Request.Context(), principal(c).Company, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeCallJSON(c, status, r)
}

// writeCallJSON answers with the call, its timeline and signed links to
// its files.
func (s *server) writeCallJSON(c *gin.Context, status int, r store.CallRecord) {
	out, err := s.callsJSON(c.Request.Context(), r.Company, []store.CallRecord{r}, true)
	if err == nil {
		err = s.signLinks(c.Request.Context(), &out[0], r)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(status, gin.H{"call": out[0]})
}

// maxCallTags bounds one tagging request.
const maxCallTags = 50

type callTagsInput struct {
	Tags []dialplan.TagID `json:"tags"`
}

func (s *server) tagCall(c *gin.Context) {
	r, err := s.call(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in callTagsInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	switch {
	case len(in.Tags) == 0:
		err = &dialplan.FieldError{Field: "tags", Problem: "give at least one tag id"}
	case len(in.Tags) > maxCallTags:
		err = &dialplan.FieldError{Field: "tags", Problem: fmt.Sprintf("at most %d tags at a time", maxCallTags)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	me := principal(c)
	if err := s.Store.TagCall(c.Request.Context(), me.Company, r.ID, me.User, in.Tags); err != nil {
		s.fail(c, err)
		return
	}
	if r.User != 0 { // the agent who took the call may now take others
		if agent, err := s.Store.User(c.Request.Context(), me.Company, r.User); err == nil {
			s.ACD.Tagged(agent, r.ID)
		}
	}
	s.writeCall(c, http.StatusCreated, r.ID) // as Aircall, and as a comment
}

// maxCommentLength is Aircall's, in characters.
const maxCommentLength = 5000

type callCommentInput struct {
	Content string `json:"content"`
}

func (s *server) commentCall(c *gin.Context) {
	r, err := s.call(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in callCommentInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	switch {
	case strings.TrimSpace(in.Content) == "":
		err = &dialplan.FieldError{Field: "content", Problem: "is required"}
	case utf8.RuneCountInString(in.Content) > maxCommentLength:
		err = &dialplan.FieldError{Field: "content", Problem: fmt.Sprintf("at most %d characters", maxCommentLength)}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	me := principal(c)
	if _, err := s.Store.CommentCall(c.Request.Context(), me.Company, r.ID, me.User, in.Content); err != nil {
		s.fail(c, err)
		return
	}
	s.writeCall(c, http.StatusCreated, r.ID)
}

func (s *server) archiveCall(c *gin.Context)   { s.setArchived(c, true) }
func (s *server) unarchiveCall(c *gin.Context) { s.setArchived(c, false) }

func (s *server) setArchived(c *gin.Context, archived bool) {
	r, err := s.call(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	me := principal(c)
	if err := s.Store.ArchiveCall(c.Request.Context(), me.Company, r.ID, me.User, archived); err != nil {
		s.fail(c, err)
		return
	}
	s.writeCall(c, http.StatusOK, r.ID)
}

// fileLink is where a call's recording or voicemail is downloaded, as
// Aircall gives a link rather than the media server's name; null for none.
// This unsigned link needs credentials: the API's answers sign it
// (signLinks), webhooks' data keeps it.
func fileLink(s site, id dialplan.CallID, kind, name string) *string {
	if name == "" {
		return nil
	}
	link := s.link("/v1/calls/%d/%s", id, kind)
	return &link
}

func (s *server) getRecording(c *gin.Context) {
	s.callFile(c, "recording", func(r store.CallRecord) string { return r.Recording })
}

func (s *server) getVoicemail(c *gin.Context) {
	s.callFile(c, "voicemail", func(r store.CallRecord) string { return r.Voicemail })
}

// callFile streams a call's recording or voicemail from the media
// server, to whoever may read the call or holds a signed link to the file.
func (s *server) callFile(c *gin.Context, kind string, name func(store.CallRecord) string) {
	r, err := s.fileCall(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if name(r) == "" {
		s.fail(c, &apiError{http.StatusNotFound, "not found", fmt.Sprintf("call %d has no %s", r.ID, kind)})
		return
	}
	if s.Recordings == nil {
		s.fail(c, &apiError{http.StatusServiceUnavailable, "no media server",
			"switchboard runs without a media server (SWITCHBOARD_MEDIA): recordings cannot be read"})
		return
	}
	f, err := s.Recordings.OpenRecording(c.Request.Context(), name(r))
	if err != nil {
		if errors.Is(err, dialplan.ErrNoRecording) {
			s.fail(c, &apiError{http.StatusNotFound, "not found",
				fmt.Sprintf("the media server no longer has the %s of call %d", kind, r.ID)})
			return
		}
		s.Logger.Error("reading a recording from the media server", "call", r.ID, "kind", kind, "err", err)
		s.fail(c, &apiError{http.StatusBadGateway, "media server error",
			fmt.Sprintf("the media server did not give the %s of call %d; see the log", kind, r.ID)})
		return
	}
	defer f.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": fmt.Sprintf("call-%d-%s.wav", r.ID, kind)}))
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, f); err != nil {
		s.Logger.Warn("recording download cut short", "call", r.ID, "kind", kind, "err", err)
	}
}
