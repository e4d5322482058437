package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/phone"
)

func (s *server) getFlow(c *gin.Context) {
	n, err := s.number(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"flow": dialplan.Compile(n)})
}

// checkTransfers refuses a number whose IVR transfers loop back to it.
func (s *server) checkTransfers(ctx context.Context, company dialplan.CompanyID, n dialplan.Number) error {
	return dialplan.CheckTransfers(ctx, n, func(ctx context.Context, id dialplan.NumberID) (dialplan.Number, error) {
		return s.Store.Number(ctx, company, id)
	})
}

type dryRunInput struct {
	From   string            `json:"from"`
	At     string            `json:"at"`
	Digits string            `json:"digits"`
	Agents map[string]string `json:"agents"`
	// Answer names one phone that answers when rung: a user's, or an
	// external number (a forward's).
	Answer *struct {
		UserID         dialplan.UserID `json:"user_id"`
		ExternalNumber string          `json:"external_number"`
		AfterSeconds   int             `json:"after_seconds"`
	} `json:"answer"`
	PressStarAfterSeconds *int `json:"press_star_after_seconds"`
	HangupAfterSeconds    *int `json:"hangup_after_seconds"`
}

type dryRunRing struct {
	UserID     dialplan.UserID `json:"user_id"`
	AtSeconds  int             `json:"at_seconds"`
	ForSeconds int             `json:"for_seconds"`
}

type dryRunEvent struct {
	Event     events.Kind     `json:"event"`
	AtSeconds int             `json:"at_seconds"`
	UserID    dialplan.UserID `json:"user_id,omitempty"`
	Data      any             `json:"data,omitempty"`
}

type dryRunJSON struct {
	Outcome          dialplan.Outcome       `json:"outcome"`
	MissedCallReason *dialplan.MissedReason `json:"missed_call_reason"`
	Open             bool                   `json:"open"`
	IVROption        *string                `json:"ivr_option"`
	Rung             []dryRunRing           `json:"rung"`
	AnsweredBy       *dialplan.UserID       `json:"answered_by"`
	ForwardedTo      *dialplan.Transfer     `json:"forwarded_to"`
	MessagesPlayed   []dialplan.MessageKind `json:"messages_played"`
	Timeline         []dryRunEvent          `json:"timeline"`
}

// maxScript bounds the seconds of a dry run's script.
const maxScript = 4 * 3600

// dryRun runs the real engine for one imagined call and writes nothing.
func (s *server) dryRun(c *gin.Context) {
	n, err := s.number(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in dryRunInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	run, err := in.parse(n)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	company, err := s.Store.Company(ctx, principal(c).Company)
	if err == nil {
		err = s.checkDryRunUsers(ctx, company.ID, run)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := dialplan.Simulate(ctx, s.Store, s.ACD, company, n, run)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, newDryRunJSON(r, run.At))
}

// checkDryRunUsers refuses imagined agents who are not users of the company.
func (s *server) checkDryRunUsers(ctx context.Context, company dialplan.CompanyID, run dialplan.DryRun) error {
	ids := []dialplan.UserID{}
	for id := range run.Agents {
		ids = append(ids, id)
	}
	if run.AnswerBy != 0 {
		ids = append(ids, run.AnswerBy)
	}
	users, err := s.Store.UsersByID(ctx, company, ids)
	if err != nil {
		return err
	}
	known := map[dialplan.UserID]bool{}
	for _, u := range users {
		known[u.ID] = true
	}
	if run.AnswerBy != 0 && !known[run.AnswerBy] {
		return &dialplan.FieldError{Field: "answer.user_id", Problem: fmt.Sprintf("no user %d in this company", run.AnswerBy)}
	}
	for id := range run.Agents {
		if !known[id] {
			return &dialplan.FieldError{Field: fmt.Sprintf("agents.%d", id), Problem: fmt.Sprintf("no user %d in this company", id)}
		}
	}
	return nil
}

func (in dryRunInput) parse(n dialplan.Number) (dialplan.DryRun, error) {
	var run dialplan.DryRun
	bad := func(field, format string, args ...any) (dialplan.DryRun, error) {
		return run, &dialplan.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	at, err := time.Parse(time.RFC3339, in.At)
	if err != nil {
		return bad("at", "%q is not a time (RFC 3339, such as 2026-11-23T10:15:00+01:00)", in.At)
	}
	run.At = at
	if in.From != "" {
		from, err := phone.Normalize(in.From, n.Country)
		if err != nil {
			return bad("from", "%v", err)
		}
		run.From = from
	}
	if strings.Trim(in.Digits, "0123456789*#") != "" || len(in.Digits) > 20 {
		return bad("digits", "%q: only 0-9, * and #, at most 20", in.Digits)
	}
	run.Digits = in.Digits
	run.Agents = map[dialplan.UserID]dialplan.LiveStatus{}
	for key, status := range in.Agents {
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil || id <= 0 {
			return bad("agents", "%q is not a user id", key)
		}
		switch st := dialplan.LiveStatus(status); st {
		case dialplan.StatusAvailable, dialplan.StatusOffline, dialplan.StatusDoNotDisturb, dialplan.StatusInCall,
			dialplan.StatusAfterCallWork, dialplan.StatusPendingTag:
			run.Agents[dialplan.UserID(id)] = st
		case "unavailable":
			run.Agents[dialplan.UserID(id)] = dialplan.StatusDoNotDisturb
		default:
			return bad("agents."+key, "%q is not a status (available, unavailable, offline, do_not_disturb, in_call, after_call_work, pending_tag)", status)
		}
	}
	if a := in.Answer; a != nil {
		switch {
		case a.ExternalNumber == "" && a.UserID <= 0:
			return bad("answer.user_id", "a user id (or an external_number) is required")
		case a.ExternalNumber != "" && a.UserID != 0:
			return bad("answer.external_number", "give a user_id or an external_number, not both")
		case a.ExternalNumber != "":
			// As the engine dials it: a forward's digits are saved in E.164.
			ext, err := phone.Normalize(a.ExternalNumber, n.Country)
			if err != nil {
				return bad("answer.external_number", "%v", err)
			}
			run.AnswerNumber = ext
		default:
			run.AnswerBy = a.UserID
		}
		if a.AfterSeconds < 0 || a.AfterSeconds > maxScript {
			return bad("answer.after_seconds", "%d is out of range (0 to %d)", a.AfterSeconds, maxScript)
		}
		run.AnswerAfter = time.Duration(a.AfterSeconds) * time.Second
	}
	for _, p := range []struct {
		field string
		v     *int
		dst   *time.Duration
	}{{"press_star_after_seconds", in.PressStarAfterSeconds, &run.PressStarAfter}, {"hangup_after_seconds", in.HangupAfterSeconds, &run.HangupAfter}} {
		if p.v == nil {
			continue
		}
		if *p.v < 1 || *p.v > maxScript {
			return bad(p.field, "%d is out of range (1 to %d)", *p.v, maxScript)
		}
		*p.dst = time.Duration(*p.v) * time.Second
	}
	return run, nil
}

func seconds(d time.Duration) int { return int(math.Round(d.Seconds())) }

func newDryRunJSON(r dialplan.Result, at time.Time) dryRunJSON {
	out := dryRunJSON{Outcome: r.Outcome, Open: r.Open, ForwardedTo: r.ForwardedTo,
		Rung: []dryRunRing{}, MessagesPlayed: []dialplan.MessageKind{}, Timeline: []dryRunEvent{}}
	if r.Call.MissedReason != "" {
		out.MissedCallReason = &r.Call.MissedReason
	}
	if r.IVROption != "" {
		out.IVROption = &r.IVROption
	}
	if r.Call.User != 0 {
		out.AnsweredBy = &r.Call.User
	}
	for _, ring := range r.Rung {
		out.Rung = append(out.Rung, dryRunRing{UserID: ring.User, AtSeconds: seconds(ring.At.Sub(at)), ForSeconds: seconds(ring.For)})
	}
	out.MessagesPlayed = append(out.MessagesPlayed, r.Messages...)
	for _, e := range r.Timeline {
		out.Timeline = append(out.Timeline, dryRunEvent{Event: e.Event, AtSeconds: seconds(e.At.Sub(at)), UserID: e.User, Data: e.Data})
	}
	return out
}
