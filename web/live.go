package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Live (the admin guide's "Activité en direct"): the calls waiting and in
// progress, the agents' statuses and today's service level, from GET
// /v1/live/snapshot; Listen and Whisper for supervisors and admins.
//
// How it updates by itself: the board is HTML the server renders (so
// both languages, the time zone and the role rules stay here); live.js
// opens the API's stream (GET /v1/live, through /live/events as the
// signed-in person) and, on each message, has htmx fetch the board
// again; between messages it only counts the seconds on. The board is
// replaced when something changed and not every few seconds (a screen
// reader is not interrupted for nothing), and htmx gives the focus back to
// the same button in the new board by its id.
// Without JavaScript the page is the board at load, with a link to
// refresh it.

// liveCall is a call's row of the board.
type liveCall struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	Direction   string    `json:"direction"`
	NumberName  string    `json:"number_name"`
	TeamName    string    `json:"team_name"`
	RawDigits   string    `json:"raw_digits"`
	StartedAt   time.Time `json:"started_at"`
	WaitSeconds int       `json:"wait_seconds"`
	Ringing     []int64   `json:"ringing"`
	Held        bool      `json:"held"`
	UserName    string    `json:"user_name"`
	ForwardedTo string    `json:"forwarded_to"`
	Duration    int       `json:"duration_seconds"`
}

type liveAgent struct {
	UserID        int64  `json:"user_id"`
	Name          string `json:"name"`
	Status        string `json:"status"`
	StatusSeconds int    `json:"status_seconds"`
	Since         *time.Time
}

type liveTotals struct {
	Waiting            int `json:"waiting"`
	LongestWaitSeconds int `json:"longest_wait_seconds"`
	InProgress         int `json:"in_progress"`
	Today              struct {
		Inbound           int      `json:"inbound"`
		Offered           int      `json:"offered"`
		Answered          int      `json:"answered"`
		AnsweredWithinSLA int      `json:"answered_within_sla"`
		Missed            int      `json:"missed"`
		ServiceLevel      *float64 `json:"service_level"`
	} `json:"today"`
	SLASeconds int            `json:"sla_seconds"`
	Agents     map[string]int `json:"agents"`
}

type livePage struct {
	Running bool
	At      time.Time
	// Stream is where live.js reads what changes after the board: the
	// stream from the snapshot's place.
	Stream              string
	Waiting, InProgress []liveCall
	Agents              []liveAgent
	Totals              liveTotals
	AgentsTotal         int
	// Supervise: the role may listen and whisper (the API decides).
	Supervise bool
	// The filter (a line, a team), its choices, the API's word on it, and
	// the board's address with it.
	NumberID, TeamID           string
	NumberChoices, TeamChoices []selectOption
	Error                      string
	Self                       string
}

func (livePage) title() string { return "live.title" }

// liveStatuses are the agents' statuses in the order the board counts them.
var liveStatuses = []string{"available", "in_call", "after_call_work", "do_not_disturb", "offline"}

func (p livePage) Statuses() []string { return liveStatuses }

func (s *server) livePage(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	var snap struct {
		Snapshot struct {
			Cursor  string      `json:"cursor"`
			At      time.Time   `json:"at"`
			Calls   []liveCall  `json:"calls"`
			Agents  []liveAgent `json:"agents"`
			Summary struct {
				Company liveTotals `json:"company"`
				Numbers []struct {
					NumberID int64 `json:"number_id"`
					liveTotals
				} `json:"numbers"`
				Teams []struct {
					TeamID int64 `json:"team_id"`
					liveTotals
				} `json:"teams"`
			} `json:"summary"`
		} `json:"snapshot"`
	}
	filter := liveFilter(r.URL.Query())
	page := livePage{Supervise: readsConfig(v.sess.Principal), NumberID: filter.Get("number_id"), TeamID: filter.Get("team_id"),
		Self: "/live?" + filter.Encode()}
	status := http.StatusOK
	err := s.callAPI(r.Context(), r, http.MethodGet, "/v1/live/snapshot?"+filter.Encode(), nil, &snap)
	var apiErr *apiError
	switch {
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusServiceUnavailable:
		// Not running on this server, or starting: said on the page.
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity:
		status, page.Error = apiErr.Status, apiErr.Message()
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		page.Running = true
		page.At = snap.Snapshot.At
		stream := url.Values{"last_event_id": {snap.Snapshot.Cursor}}
		for k, vs := range filter {
			stream[k] = vs
		}
		page.Stream = "/live/events?" + stream.Encode()
		for _, c := range snap.Snapshot.Calls {
			switch c.State {
			case "waiting":
				page.Waiting = append(page.Waiting, c)
			case "in_progress":
				page.InProgress = append(page.InProgress, c)
			}
		}
		page.Agents = snap.Snapshot.Agents
		sum := snap.Snapshot.Summary
		page.Totals = sum.Company
		// A line's or a team's own figures when the view is filtered on
		// one (the agents stay the company's, or the team's).
		for _, n := range sum.Numbers {
			if filter.Get("number_id") == fmt.Sprint(n.NumberID) {
				agents := page.Totals.Agents
				page.Totals = n.liveTotals
				page.Totals.Agents = agents
			}
		}
		for _, t := range sum.Teams {
			if filter.Get("team_id") == fmt.Sprint(t.TeamID) && filter.Get("number_id") == "" {
				page.Totals = t.liveTotals
				page.Totals.SLASeconds = sum.Company.SLASeconds
			}
		}
		for _, n := range page.Totals.Agents {
			page.AgentsTotal += n
		}
	}
	// The filters' choices: lists only supervisors and admins may read.
	options, err := s.choices(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page.NumberChoices, page.TeamChoices = options.Numbers, options.Teams
	s.render(w, r, status, "live", page)
}

// liveFilter is the view's filter, the API's parameters: a line, a team.
func liveFilter(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"number_id", "team_id"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// liveEvents is the API's stream of the board, as the signed-in person,
// from where the board was drawn (last_event_id; EventSource's
// Last-Event-ID header when it reconnects).
func (s *server) liveEvents(w http.ResponseWriter, r *http.Request) {
	q := liveFilter(r.URL.Query())
	if id := r.URL.Query().Get("last_event_id"); id != "" {
		q.Set("last_event_id", id)
	}
	s.proxyAPI(w, r, "/v1/live?"+q.Encode())
}

// supervise rings the supervisor's phone into a call in progress, to
// listen or whisper (POST /v1/calls/:id/supervise).
func (s *server) supervise(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	mode := r.PostFormValue("mode")
	err := s.callAPI(r.Context(), r, http.MethodPost, fmt.Sprintf("/v1/calls/%d/supervise", id), map[string]any{"mode": mode}, nil)
	var apiErr *apiError
	switch {
	case errors.As(err, &apiErr):
		// Refused (the call ended, no phone to ring, the role) or not
		// possible here (no media server): the API's words, on the board.
		s.setFlash(w, flash{Kind: "error", Text: apiErr.Message()})
	case err != nil:
		s.fail(w, r, err)
		return
	case mode == "whisper":
		s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "live.whisper.ok")})
	default:
		s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "live.listen.ok")})
	}
	s.redirect(w, r, "/live?"+liveFilter(r.PostForm).Encode())
}

// Counter writes a live counter as the page loads; live.js counts on.
func (p view) Counter(secs int) string { return formatDuration(secs) }
