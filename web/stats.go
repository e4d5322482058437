package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/stats"
)

// Statistics (the admin guide's "Statistiques"): the period's figures with
// the guide's filters, a chart of the calls by bucket drawn on the server
// as inline SVG (no chart library, no script), the users' productivity,
// and the CSV exports, all from GET /v1/stats, /v1/stats/users and
// /v1/stats.csv as the signed-in person: an agent's are their own calls.

// statsParams are the API's query parameters the form sends as they are.
// from and to are days (the API reads a date as midnight in time_zone,
// and to as included whole), time_from and time_to HH:MM; time_zone
// the person's unless they choose another (the admin guide's "timezone").
var statsParams = []string{"from", "to", "time_from", "time_to", "time_zone", "group_by", "direction", "number_id", "user_id", "team_id", "tag_id"}

// statsQuery is the API's query of the page: the form's filters, the
// person's time zone, and the last 7 days by default.
func (s *server) statsQuery(r *http.Request) url.Values {
	v := visitOf(r)
	in := r.URL.Query()
	q := url.Values{}
	for _, k := range statsParams {
		for _, val := range in[k] {
			if val = strings.TrimSpace(val); val != "" {
				q.Add(k, val)
			}
		}
	}
	if q.Get("time_zone") == "" {
		q.Set("time_zone", v.loc.String())
	}
	loc, err := time.LoadLocation(q.Get("time_zone"))
	if err != nil {
		loc = v.loc // the API says what is wrong with it
	}
	today := s.Now().In(loc)
	if q.Get("to") == "" {
		q.Set("to", today.Format("2006-01-02"))
	}
	if q.Get("from") == "" {
		to, err := time.ParseInLocation("2006-01-02", q.Get("to"), loc)
		if err != nil {
			to = today
		}
		q.Set("from", to.AddDate(0, 0, -6).Format("2006-01-02"))
	}
	if q.Get("group_by") == "" {
		q.Set("group_by", "day")
	}
	return q
}

// bucket is a bucket of the API's series: its figures are the API's own
// type (stats.Measures), read back from its JSON.
type bucket struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Label string    `json:"-"` // its start, as the page says it
	stats.Measures
}

type userStats struct {
	UserID          int64  `json:"user_id"`
	Name            string `json:"name"`
	InboundAnswered int64  `json:"inbound_answered"`
	Missed          int64  `json:"missed"`
	OutboundCalls   int64  `json:"outbound_calls"`
	TalkTime        int    `json:"talk_time"`
	Available       int    `json:"time_available"`
	AfterCallWork   int    `json:"time_after_call_work"`
	DoNotDisturb    int    `json:"time_do_not_disturb"`
	Offline         int    `json:"time_offline"`
}

type statsPage struct {
	Form    url.Values // the filters as applied (defaults included)
	GroupBy string
	Totals  stats.Measures
	Series  []bucket
	Users   []userStats
	Chart   chart
	Reasons []dialplan.MissedReason
	// Exports are the CSV links, by table.
	Exports map[string]string
	Errors  map[string]string
	Error   string
	// The filters' choices (value, label).
	NumberChoices, UserChoices, TeamChoices, TagChoices []selectOption
	Groupings, Directions                               []string
	NumberID, UserID, TeamID                            string
	TagID, Direction                                    string
	TimeFrom, TimeTo, From, To, TimeZone                string
}

func (statsPage) title() string { return "stats.title" }

func (s *server) statsPage(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	q := s.statsQuery(r)
	page := statsPage{Form: q, GroupBy: q.Get("group_by"), Errors: map[string]string{}, Reasons: stats.Reasons,
		Groupings: []string{"hour", "day", "week", "month"}, Directions: callDirectionValues,
		From: q.Get("from"), To: q.Get("to"), TimeZone: q.Get("time_zone"), TimeFrom: q.Get("time_from"), TimeTo: q.Get("time_to"),
		NumberID: q.Get("number_id"), UserID: q.Get("user_id"), TeamID: q.Get("team_id"), TagID: q.Get("tag_id"), Direction: q.Get("direction")}
	var (
		figures struct {
			Stats struct {
				Totals stats.Measures `json:"totals"`
				Series []bucket       `json:"series"`
			} `json:"stats"`
		}
		users struct {
			Users []userStats `json:"users"`
		}
		wg         sync.WaitGroup
		statsErr   error
		usersErr   error
		choicesErr error
	)
	wg.Go(func() { statsErr = s.callAPI(r.Context(), r, http.MethodGet, "/v1/stats?"+q.Encode(), nil, &figures) })
	wg.Go(func() {
		usersErr = s.callAPI(r.Context(), r, http.MethodGet, "/v1/stats/users?"+q.Encode(), nil, &users)
	})
	var options choices
	wg.Go(func() { options, choicesErr = s.choices(r) })
	wg.Wait()
	status := http.StatusOK
	for _, err := range []error{statsErr, usersErr, choicesErr} {
		var apiErr *apiError
		switch {
		case err == nil:
		case errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnprocessableEntity || apiErr.Status == http.StatusBadRequest || apiErr.Status == http.StatusForbidden):
			// A filter the API refuses (an agent's other user is a 403):
			// said next to it, in its words; no figure shown.
			status = apiErr.Status
			if f := apiErr.Field(); slices.Contains(statsParams, f) {
				page.Errors[f] = apiErr.Message()
			} else if page.Error == "" {
				page.Error = apiErr.Message()
			}
		default:
			s.fail(w, r, err)
			return
		}
	}
	page.NumberChoices, page.UserChoices, page.TeamChoices, page.TagChoices = options.Numbers, options.Users, options.Teams, options.Tags
	if status == http.StatusOK {
		page.Totals, page.Series, page.Users = figures.Stats.Totals, figures.Stats.Series, users.Users
		for i := range page.Series {
			page.Series[i].Label = bucketLabel(v, page.GroupBy, page.Series[i].Start)
		}
		page.Chart = drawChart(v, page.GroupBy, page.Series)
		page.Exports = map[string]string{}
		for _, table := range []string{"series", "users", "calls"} {
			e := url.Values{}
			for k, vs := range q {
				e[k] = vs
			}
			e.Set("table", table)
			page.Exports[table] = "/stats/export?" + e.Encode()
		}
	}
	s.render(w, r, status, "stats", page)
}

// chart is the series as stacked bars: answered and missed inbound calls,
// and outbound calls, one bar per bucket.
type chart struct {
	Width, Height, Top, Bottom, Left int
	Max                              int64
	Bars                             []bar
	Ticks                            []tick
	Empty                            bool
}

// bar is a bucket's bar, its coordinates written: a week by hour is 168
// bars, and formatting them in the template took a third of the page.
type bar struct {
	X, W                       string
	Answered, Missed, Outbound rect
	Label, Title               string
}

type rect struct{ Y, H string }

type tick struct {
	X     string
	Label string
}

// coord writes a chart coordinate.
func coord(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

const (
	chartWidth, chartHeight = 720, 240
	chartTop, chartBottom   = 16, 32
	chartLeft               = 40
	// chartLabels is about how many bucket labels fit under the bars.
	chartLabels = 12
)

func drawChart(v *visit, group string, series []bucket) chart {
	c := chart{Width: chartWidth, Height: chartHeight, Top: chartTop, Bottom: chartHeight - chartBottom, Left: chartLeft}
	for _, b := range series {
		c.Max = max(c.Max, b.InboundCalls+b.OutboundCalls)
	}
	if len(series) == 0 || c.Max == 0 {
		c.Empty = true
		return c
	}
	plotH := float64(c.Bottom - c.Top)
	step := float64(chartWidth-chartLeft) / float64(len(series))
	scale := plotH / float64(c.Max)
	every := max(1, (len(series)+chartLabels-1)/chartLabels)
	// Hours over several days: the axis names the days (at midnight),
	// the hours alone would repeat; the bars' titles say both.
	days := group == "hour" && len(series) > 24
	if days {
		every = max(1, (len(series)/24+chartLabels-1)/chartLabels)
	}
	day := 0
	for i, b := range series {
		x := float64(chartLeft) + float64(i)*step
		// The missed calls counted are inbound unanswered; the rest of
		// the inbound (not yet decided) shows with the answered.
		answered := b.InboundCalls - b.MissedCalls
		y := float64(c.Bottom)
		stack := func(n int64) rect {
			h := float64(n) * scale
			y -= h
			return rect{Y: coord(y), H: coord(h)}
		}
		br := bar{X: coord(x + step*0.15), W: coord(step * 0.7), Label: bucketLabel(v, group, b.Start)}
		br.Title = br.Label + ": " + translate(v.lang, "stats.bar", b.AnsweredCalls, b.MissedCalls, b.OutboundCalls)
		br.Answered = stack(answered)
		br.Missed = stack(b.MissedCalls)
		br.Outbound = stack(b.OutboundCalls)
		c.Bars = append(c.Bars, br)
		switch {
		case days && b.Start.Hour() == 0:
			if day%every == 0 {
				c.Ticks = append(c.Ticks, tick{X: coord(x), Label: bucketLabel(v, "day", b.Start)})
			}
			day++
		case !days && i%every == 0:
			c.Ticks = append(c.Ticks, tick{X: coord(x + step/2), Label: br.Label})
		}
	}
	return c
}

// bucketLabel names a bucket by its start, in the person's language.
// The API gives the start on the query's clock (its time zone's
// offset): it is written as it is.
func bucketLabel(v *visit, group string, t time.Time) string {
	switch group {
	case "hour":
		return bucketLabel(v, "day", t) + " " + formatTime(v.lang, t)
	case "month":
		return fmt.Sprintf("%s %d", monthNames[v.lang][t.Month()-1], t.Year())
	}
	if v.lang == french {
		return fmt.Sprintf("%d %s", t.Day(), monthNames[v.lang][t.Month()-1])
	}
	return fmt.Sprintf("%s %d", monthNames[v.lang][t.Month()-1], t.Day())
}

// Choice is a select of the company's numbers, users, teams or tags,
// with the one chosen.
func (p view) Choice(name, label, value string, choices []selectOption, errs map[string]string) selectField {
	f := selectField{ID: "f-" + name, Name: name, Label: p.T(label), All: p.T("calls.all"), Error: errs[name]}
	for _, c := range choices {
		c.Selected = c.Value == value
		f.Options = append(f.Options, c)
	}
	return f
}

// Avg writes an average of seconds (null: a dash).
func (p view) Avg(secs *float64) string {
	if secs == nil {
		return p.T("home.none")
	}
	return formatDuration(int(*secs + 0.5))
}

// Decimal writes a ratio with one decimal, in the page's language (null:
// a dash).
func (p view) Decimal(f *float64) string {
	if f == nil {
		return p.T("home.none")
	}
	out := fmt.Sprintf("%.1f", *f)
	if p.v.lang == french {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

// exportStats is a CSV export: GET /v1/stats.csv as the signed-in
// person, streamed to the browser as the API writes it (an export of
// years of calls is large), with the API's file name. A refusal is shown
// as a page, in the API's words, rather than saved as a file.
func (s *server) exportStats(w http.ResponseWriter, r *http.Request) {
	q := s.statsQuery(r)
	table := r.URL.Query().Get("table")
	if table != "" {
		q.Set("table", table)
	}
	s.proxyAPI(w, r, "/v1/stats.csv?"+q.Encode())
}

// proxyAPI serves a GET of the API as the signed-in person straight to
// the browser: a stream (an export, the live view) is not held in
// memory. Only the API's own headers of a successful answer go through;
// a refusal is the dashboard's error page.
func (s *server) proxyAPI(w http.ResponseWriter, r *http.Request, path string) {
	v := visitOf(r)
	req, err := http.NewRequestWithContext(api.WithPrincipal(r.Context(), v.sess.Principal), http.MethodGet, path, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req.RemoteAddr = r.RemoteAddr
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		req.Header.Set("Last-Event-ID", id)
	}
	pw := &proxyWriter{w: w}
	s.API.ServeHTTP(pw, req)
	if pw.failed != nil {
		e := &apiError{Status: pw.failed.Code}
		if jsonErr := decodeAPIError(pw.failed.Body.Bytes(), e); jsonErr != nil {
			e.Short = http.StatusText(pw.failed.Code)
		}
		if e.Status >= 500 && e.Message() != "" {
			// The API says why (the live view not running, a media
			// server down): its words and its status, not a failure of ours.
			s.render(w, r, e.Status, "message", messagePage{Title: "error.title", Detail: e.Message(), Link: "/", LinkText: "back.home"})
			return
		}
		s.fail(w, r, e)
	}
}

// proxyWriter passes a successful answer through and keeps a failed one
// for the dashboard to show. Unwrap lets the API's ResponseController
// flush and set deadlines on the real connection.
type proxyWriter struct {
	w       http.ResponseWriter
	header  http.Header
	started bool
	failed  *recorder
}

func (p *proxyWriter) Header() http.Header {
	if p.header == nil {
		p.header = http.Header{}
	}
	return p.header
}

func (p *proxyWriter) WriteHeader(code int) {
	if p.started || p.failed != nil {
		return
	}
	if code >= 400 {
		p.failed = &recorder{header: http.Header{}, Code: code, wroteHeader: true}
		return
	}
	p.started = true
	h := p.w.Header()
	for _, k := range []string{"Content-Type", "Content-Disposition", "Cache-Control", "X-Accel-Buffering"} {
		if v := p.Header().Get(k); v != "" {
			h.Set(k, v)
		}
	}
	p.w.WriteHeader(code)
}

func (p *proxyWriter) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	if p.failed != nil {
		return p.failed.Body.Write(b)
	}
	return p.w.Write(b)
}

func (p *proxyWriter) Unwrap() http.ResponseWriter { return p.w }

func (p *proxyWriter) Flush() {
	if p.started {
		http.NewResponseController(p.w).Flush()
	}
}

func decodeAPIError(b []byte, e *apiError) error {
	return json.Unmarshal(b, e)
}
