package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/switchboard/switchboard/dialplan"
)

// The home page (the admin guide's "Page d'accueil"): today's figures,
// the quick search, the latest calls, the numbers and users.

type homePage struct {
	Now                      time.Time
	Calls, Inbound, Outbound int64
	Missed                   int64
	MissedRate, ServiceLevel *float64
	SLASeconds               int
	// Live: the role watches the live view; LiveOK: it answered.
	Live, LiveOK               bool
	Available, Agents, Waiting int
	Recent                     []callRow
	Numbers                    []numberRow
	NumbersTotal, UsersTotal   int
	Query                      string
}

func (homePage) title() string { return "home.title" }

// callRow is a call as the API lists it, what the pages show of it.
type callRow struct {
	ID         int64              `json:"id"`
	StartedAt  int64              `json:"started_at"`
	AnsweredAt *int64             `json:"answered_at"`
	Direction  dialplan.Direction `json:"direction"`
	Status     string             `json:"status"`
	RawDigits  string             `json:"raw_digits"`
	Duration   int                `json:"duration"`
	Number     *numberRow         `json:"number"`
}

// Missed: an inbound call that ended unanswered.
func (c callRow) Missed() bool {
	return c.Direction == dialplan.Inbound && c.AnsweredAt == nil && c.Status == "done"
}

type numberRow struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Digits string `json:"digits"`
	Open   bool   `json:"open"`
}

type userRow struct {
	ID        dialplan.UserID `json:"id"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Email     string          `json:"email"`
	Extension string          `json:"extension"`
	Role      dialplan.Role   `json:"role"`
	Owner     bool            `json:"owner"`
}

type pageMeta struct {
	Total int `json:"total"`
}

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	ctx := r.Context()
	now := s.Now().In(v.loc)
	page := homePage{Now: now, Live: watchesLive(v.sess.Principal)}
	today := now.Format("2006-01-02")

	// The API's answers are independent: asked side by side.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	ask := func(path string, out any, optional func(error) bool) {
		wg.Go(func() {
			if err := s.callAPI(ctx, r, http.MethodGet, path, nil, out); err != nil && (optional == nil || !optional(err)) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	var figures struct {
		Stats struct {
			Totals struct {
				InboundCalls  int64    `json:"inbound_calls"`
				OutboundCalls int64    `json:"outbound_calls"`
				MissedCalls   int64    `json:"missed_calls"`
				MissedRate    *float64 `json:"missed_rate"`
				ServiceLevel  *float64 `json:"service_level"`
			} `json:"totals"`
		} `json:"stats"`
	}
	ask("/v1/stats?"+url.Values{"from": {today}, "to": {today}, "group_by": {"day"}, "time_zone": {v.loc.String()}}.Encode(), &figures, nil)
	var company struct {
		Company struct {
			SLASeconds int `json:"sla_seconds"`
		} `json:"company"`
	}
	ask("/v1/company", &company, nil)
	var recent struct {
		Calls []callRow `json:"calls"`
	}
	ask("/v1/calls?order=desc&per_page=8", &recent, nil)
	var live struct {
		Snapshot struct {
			Summary struct {
				Company struct {
					Waiting int            `json:"waiting"`
					Agents  map[string]int `json:"agents"`
				} `json:"company"`
			} `json:"summary"`
		} `json:"snapshot"`
	}
	liveErr := errors.New("not asked")
	if page.Live {
		wg.Go(func() { liveErr = s.callAPI(ctx, r, http.MethodGet, "/v1/live/snapshot", nil, &live) })
	}
	var numbers struct {
		Numbers []numberRow `json:"numbers"`
		Meta    pageMeta    `json:"meta"`
	}
	var users struct {
		Meta pageMeta `json:"meta"`
	}
	if readsConfig(v.sess.Principal) {
		ask("/v1/numbers?per_page=6", &numbers, nil)
		ask("/v1/users?per_page=1", &users, nil)
	}
	wg.Wait()
	if len(errs) > 0 {
		s.fail(w, r, errs[0])
		return
	}
	t := figures.Stats.Totals
	page.Calls, page.Inbound, page.Outbound = t.InboundCalls+t.OutboundCalls, t.InboundCalls, t.OutboundCalls
	page.Missed, page.MissedRate, page.ServiceLevel = t.MissedCalls, t.MissedRate, t.ServiceLevel
	page.SLASeconds = company.Company.SLASeconds
	page.Recent = recent.Calls
	page.Numbers, page.NumbersTotal, page.UsersTotal = numbers.Numbers, numbers.Meta.Total, users.Meta.Total
	var apiErr *apiError
	switch {
	case liveErr == nil:
		page.LiveOK = true
		page.Waiting = live.Snapshot.Summary.Company.Waiting
		page.Available = live.Snapshot.Summary.Company.Agents["available"]
		for _, n := range live.Snapshot.Summary.Company.Agents {
			page.Agents += n
		}
	case page.Live && !(errors.As(liveErr, &apiErr) && apiErr.Status == http.StatusServiceUnavailable):
		s.fail(w, r, liveErr)
		return
	}
	s.render(w, r, http.StatusOK, "home", page)
}

// searchPage is the quick search's answer: the numbers, users and calls
// that match.
type searchPage struct {
	Query           string
	TooShort, Empty bool
	Numbers         []numberRow
	Users           []userRow
	Recent          []callRow
}

func (searchPage) title() string { return "search.label" }

func (s *server) search(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page := searchPage{Query: q}
	if len([]rune(q)) < 2 {
		page.TooShort = true
		s.render(w, r, http.StatusOK, "search", page)
		return
	}
	var err error
	if looksLikePhone(q) {
		var calls struct {
			Calls []callRow `json:"calls"`
		}
		err = s.callAPI(ctx, r, http.MethodGet, "/v1/calls/search?"+url.Values{"phone_number": {q}, "order": {"desc"}, "per_page": {"10"}}.Encode(), nil, &calls)
		var apiErr *apiError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity {
			err = nil // not a phone number after all: no call matches
		}
		page.Recent = calls.Calls
	}
	if err == nil && readsConfig(v.sess.Principal) {
		needle := strings.ToLower(q)
		digits := digitsOf(q)
		page.Numbers, err = listAll[numberRow](s, r, "numbers")
		page.Numbers = slices.DeleteFunc(page.Numbers, func(n numberRow) bool {
			return !strings.Contains(strings.ToLower(n.Name), needle) && (len(digits) < 3 || !strings.Contains(digitsOf(n.Digits), digits))
		})
		if err == nil {
			page.Users, err = listAll[userRow](s, r, "users")
			page.Users = slices.DeleteFunc(page.Users, func(u userRow) bool {
				return !strings.Contains(strings.ToLower(u.FirstName+" "+u.LastName), needle) &&
					!strings.Contains(strings.ToLower(u.Email), needle) && u.Extension != q
			})
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page.Empty = len(page.Numbers)+len(page.Users)+len(page.Recent) == 0
	s.render(w, r, http.StatusOK, "search", page)
}

// looksLikePhone: digits with the usual separators, three digits at least.
func looksLikePhone(q string) bool {
	for _, r := range q {
		if !unicode.IsDigit(r) && !strings.ContainsRune("+ -.()", r) {
			return false
		}
	}
	return len(digitsOf(q)) >= 3
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
