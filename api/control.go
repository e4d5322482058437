package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// CallControl is what the API asks of the calls in progress: the call
// engine (dialplan.Engine) implements it.
type CallControl interface {
	// Act carries out an action on a call of the company in progress.
	Act(ctx context.Context, company dialplan.CompanyID, call dialplan.CallID, a dialplan.Action) error
	// Dial places a click-to-call and returns the new call's id.
	Dial(ctx context.Context, company dialplan.Company, o dialplan.OutboundCall) (dialplan.CallID, error)
}

// errNoEngine: switchboard runs the API without a media server.
var errNoEngine = &apiError{http.StatusServiceUnavailable, "no media server",
	"switchboard runs without a media server (SWITCHBOARD_MEDIA): no call is in progress here"}

// actionError turns the engine's refusal into its HTTP answer.
func actionError(id dialplan.CallID, err error) error {
	conflict := func(what string) error { return &apiError{http.StatusConflict, "conflict", what} }
	switch {
	case errors.Is(err, dialplan.ErrNotLive):
		return conflict(fmt.Sprintf("call %d is not in progress", id))
	case errors.Is(err, dialplan.ErrNotConnected), errors.Is(err, dialplan.ErrTransferring),
		errors.Is(err, dialplan.ErrPauseNotAllowed), errors.Is(err, dialplan.ErrNotRecorded),
		errors.Is(err, dialplan.ErrStillRinging), errors.Is(err, dialplan.ErrSameAgent),
		errors.Is(err, dialplan.ErrAgentBusy), errors.Is(err, dialplan.ErrNoWarmTransfer),
		errors.Is(err, dialplan.ErrTargetRinging):
		return conflict(fmt.Sprintf("call %d: %v", id, err))
	case errors.Is(err, dialplan.ErrNoTarget):
		return &apiError{http.StatusNotFound, "not found", err.Error()}
	case errors.Is(err, dialplan.ErrUnreachable):
		return &dialplan.FieldError{Field: "user_id", Problem: err.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{http.StatusGatewayTimeout, "timeout", fmt.Sprintf("call %d did not act in time: %v", id, err)}
	}
	var field *dialplan.FieldError
	if errors.As(err, &field) {
		return err
	}
	return &apiError{http.StatusBadGateway, "media server error", fmt.Sprintf("call %d: %v", id, err)}
}

// liveCall reads who may act on the call of the request and checks that
// it is in progress (an ended call takes no action: 409). It reads only
// that: the whole call is read once the call has acted, to answer.
func (s *server) liveCall(c *gin.Context) (store.CallAccess, error) {
	if s.Calls == nil {
		return store.CallAccess{}, errNoEngine
	}
	id, err := pathID(c, "id")
	if err != nil {
		return store.CallAccess{}, err
	}
	me := principal(c)
	r, err := s.Store.CallAccess(c.Request.Context(), me.Company, dialplan.CallID(id))
	if err != nil {
		return r, err
	}
	if err := reach(me, r.User, r.AssignedTo); err != nil {
		return r, err
	}
	if r.Status == dialplan.CallDone {
		return r, &apiError{http.StatusConflict, "conflict", fmt.Sprintf("call %d has ended", r.ID)}
	}
	return r, nil
}

// act carries out one action on the call of the request and answers as
// Aircall does for its actions (transfers, pause and resume recording:
// no content), with the call as it is now for Switchboard's own.
func (s *server) act(c *gin.Context, r store.CallAccess, a dialplan.Action) {
	me := principal(c)
	a.By = me.User
	if err := s.Calls.Act(c.Request.Context(), me.Company, r.ID, a); err != nil {
		s.fail(c, actionError(r.ID, err))
		return
	}
	if aircallActions[a.Kind] {
		c.Status(http.StatusNoContent)
		return
	}
	s.writeCall(c, http.StatusOK, r.ID)
}

// aircallActions are the actions on a call in progress that Aircall has.
var aircallActions = map[dialplan.ActionKind]bool{dialplan.ActTransfer: true, dialplan.ActPauseRecording: true,
	dialplan.ActResumeRecording: true}

// simpleAction is a route for an action with no body.
func (s *server) simpleAction(kind dialplan.ActionKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, err := s.liveCall(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.act(c, r, dialplan.Action{Kind: kind})
	}
}

type transferInput struct {
	UserID   *dialplan.UserID   `json:"user_id"`
	TeamID   *dialplan.TeamID   `json:"team_id"`
	NumberID *dialplan.NumberID `json:"number_id"`
	To       *string            `json:"to"`
	Mode     string             `json:"mode"`
}

// transferCall sends the caller elsewhere: POST /v1/calls/:id/transfers.
func (s *server) transferCall(c *gin.Context) {
	r, err := s.liveCall(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in transferInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	to, err := s.transferTarget(c, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.act(c, r, dialplan.Action{Kind: dialplan.ActTransfer, To: to, Warm: in.Mode == "warm"})
}

// transferTarget checks a transfer's target in the company.
func (s *server) transferTarget(c *gin.Context, in transferInput) (dialplan.Transfer, error) {
	switch in.Mode {
	case "", "cold":
	case "warm":
		if in.TeamID != nil || in.NumberID != nil {
			return dialplan.Transfer{}, &dialplan.FieldError{Field: "mode",
				Problem: "a warm transfer goes to a user (user_id) or an external number (to): use cold for a team or a number"}
		}
	default:
		return dialplan.Transfer{}, &dialplan.FieldError{Field: "mode", Problem: fmt.Sprintf("%q is not a transfer mode (cold, warm)", in.Mode)}
	}
	given := 0
	for _, set := range []bool{in.UserID != nil, in.TeamID != nil, in.NumberID != nil, in.To != nil} {
		if set {
			given++
		}
	}
	if given != 1 {
		return dialplan.Transfer{}, &dialplan.FieldError{Field: "user_id", Problem: "give exactly one target: user_id, team_id, number_id or to"}
	}
	ctx, me := c.Request.Context(), principal(c)
	switch {
	case in.UserID != nil:
		if _, err := s.Store.User(ctx, me.Company, *in.UserID); err != nil {
			return dialplan.Transfer{}, err
		}
		return dialplan.Transfer{Type: dialplan.TargetUser, ID: int64(*in.UserID)}, nil
	case in.TeamID != nil:
		if _, err := s.Store.Team(ctx, me.Company, *in.TeamID); err != nil {
			return dialplan.Transfer{}, err
		}
		return dialplan.Transfer{Type: dialplan.TargetTeam, ID: int64(*in.TeamID)}, nil
	case in.NumberID != nil:
		if _, err := s.Store.Number(ctx, me.Company, *in.NumberID); err != nil {
			return dialplan.Transfer{}, err
		}
		return dialplan.Transfer{Type: dialplan.TargetNumber, ID: int64(*in.NumberID)}, nil
	}
	co, err := s.Store.Company(ctx, me.Company)
	if err != nil {
		return dialplan.Transfer{}, err
	}
	digits, err := s.destination(ctx, co, *in.To)
	if err != nil {
		return dialplan.Transfer{}, err
	}
	return dialplan.Transfer{Type: dialplan.TargetExternal, Digits: digits}, nil
}

// destination checks an external number the company's users would call:
// its outbound policy (countries, premium rate) and its blocked numbers.
// A refusal is a 422 naming `to`.
func (s *server) destination(ctx context.Context, co dialplan.Company, raw string) (string, error) {
	digits, err := co.Destination(raw)
	if err != nil {
		return "", &dialplan.FieldError{Field: "to", Problem: err.Error()}
	}
	blocked, err := s.Store.IsBlocked(ctx, co.ID, digits)
	if err != nil {
		return "", err
	}
	if blocked {
		return "", &dialplan.FieldError{Field: "to", Problem: digits + " is a blocked number"}
	}
	return digits, nil
}

type superviseInput struct {
	Mode   dialplan.SnoopMode `json:"mode"`
	UserID dialplan.UserID    `json:"user_id"`
}

// superviseCall rings a supervisor into the call, or switches what they
// do: POST /v1/calls/:id/supervise. The supervisor is the caller of the
// API unless user_id names another supervisor or admin.
func (s *server) superviseCall(c *gin.Context) {
	r, err := s.liveCall(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in superviseInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if !slices.Contains([]dialplan.SnoopMode{dialplan.Listen, dialplan.Whisper, dialplan.Barge}, in.Mode) {
		s.fail(c, &dialplan.FieldError{Field: "mode", Problem: fmt.Sprintf("%q is not a mode (listen, whisper, barge)", in.Mode)})
		return
	}
	me := principal(c)
	if in.UserID == 0 {
		in.UserID = me.User
	}
	sup, err := s.Store.User(c.Request.Context(), me.Company, in.UserID)
	if err != nil {
		s.fail(c, err)
		return
	}
	if sup.Role == dialplan.RoleAgent {
		s.fail(c, &dialplan.FieldError{Field: "user_id", Problem: fmt.Sprintf("user %d is an agent: only supervisors and admins supervise", sup.ID)})
		return
	}
	if len(sup.Devices) == 0 && sup.ExternalNumber == nil {
		s.fail(c, &dialplan.FieldError{Field: "user_id", Problem: fmt.Sprintf("user %d has no phone to ring (devices, external_number)", sup.ID)})
		return
	}
	s.act(c, r, dialplan.Action{Kind: dialplan.ActSupervise, Supervisor: sup.ID, Mode: in.Mode})
}

type clickToCallInput struct {
	NumberID dialplan.NumberID `json:"number_id"`
	To       string            `json:"to"`
}

// dial is POST /v1/users/:id/calls and /dial, Aircall's two names of
// click to call: it places the call and answers as Aircall does, with no
// content; Location links the call made.
func (s *server) dial(c *gin.Context) {
	if call, ok := s.placeCall(c); ok {
		c.Header("Location", s.site().link("/v1/calls/%d", call))
		c.Status(http.StatusNoContent)
	}
}

// placeCall rings a user's phones, then dials to with a number of the
// company as caller id. Agents and supervisors call for themselves,
// admins for anyone. false: the answer is sent.
func (s *server) placeCall(c *gin.Context) (dialplan.CallID, bool) {
	if s.Calls == nil {
		s.fail(c, errNoEngine)
		return 0, false
	}
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	me := principal(c)
	if me.Role != dialplan.RoleAdmin && dialplan.UserID(id) != me.User {
		s.fail(c, forbidden("only admins place calls for other users"))
		return 0, false
	}
	var in clickToCallInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return 0, false
	}
	ctx := c.Request.Context()
	u, err := s.Store.User(ctx, me.Company, dialplan.UserID(id))
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	if len(u.Devices) == 0 {
		s.fail(c, &apiError{http.StatusUnprocessableEntity, "invalid user",
			fmt.Sprintf("user %d has no device to ring: give them one (devices) first", u.ID)})
		return 0, false
	}
	n, err := s.outboundNumber(ctx, me.Company, u, in.NumberID)
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	if strings.TrimSpace(in.To) == "" {
		s.fail(c, &dialplan.FieldError{Field: "to", Problem: "the number to call is required"})
		return 0, false
	}
	co, err := s.Store.Company(ctx, me.Company)
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	to, err := s.destination(ctx, co, in.To)
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	call, err := s.Calls.Dial(ctx, co, dialplan.OutboundCall{User: u, Number: n, To: to})
	switch {
	case errors.Is(err, dialplan.ErrAgentBusy):
		s.fail(c, &apiError{http.StatusConflict, "conflict", fmt.Sprintf("user %d is already in a call", u.ID)})
		return 0, false
	case errors.Is(err, dialplan.ErrUnreachable):
		s.fail(c, &apiError{http.StatusBadGateway, "media server error", err.Error()})
		return 0, false
	case err != nil:
		s.fail(c, actionError(0, err))
		return 0, false
	}
	return call, true
}

// outboundNumber is the number a user calls out with: the one asked for,
// or their default, the oldest whose outbound users they are (as on their
// desk phone). A number whose outbound users do not include them is
// refused (422 naming number_id).
func (s *server) outboundNumber(ctx context.Context, company dialplan.CompanyID, u dialplan.User, id dialplan.NumberID) (dialplan.Number, error) {
	if id != 0 {
		n, err := s.Store.Number(ctx, company, id)
		if err != nil {
			return n, err
		}
		if !slices.Contains(n.OutboundUsers, u.ID) {
			return n, &dialplan.FieldError{Field: "number_id",
				Problem: fmt.Sprintf("user %d may not call out with number %d: add them to its outbound_users", u.ID, n.ID)}
		}
		return n, nil
	}
	numbers, err := s.Store.OutboundNumbers(ctx, company, u.ID)
	if err != nil {
		return dialplan.Number{}, err
	}
	if len(numbers) == 0 {
		return dialplan.Number{}, &dialplan.FieldError{Field: "number_id",
			Problem: fmt.Sprintf("no number lets user %d call out (outbound_users): name one", u.ID)}
	}
	return numbers[0], nil
}
