package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/stats"
	"github.com/switchboard/switchboard/store"
)

// The statistics of the "Calls & stats" section: GET /v1/stats (the
// measures by bucket), GET /v1/stats/users (each user's productivity) and
// GET /v1/stats.csv (the series, the users or the raw calls). Every role
// may ask; an agent's figures are their own calls'.

// statsJSON is a query's figures: the period's totals and one entry per
// bucket. Each user's productivity is GET /v1/stats/users.
type statsJSON struct {
	From     time.Time        `json:"from"`
	To       time.Time        `json:"to"`
	TimeZone string           `json:"time_zone"`
	GroupBy  stats.Grouping   `json:"group_by"`
	Totals   stats.Measures   `json:"totals"`
	Series   []bucketJSON     `json:"series"`
	Filters  statsFiltersJSON `json:"filters"`
}

type bucketJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	stats.Measures
}

type statsFiltersJSON struct {
	TimeFrom  string              `json:"time_from,omitempty"`
	TimeTo    string              `json:"time_to,omitempty"`
	Numbers   []dialplan.NumberID `json:"number_ids"`
	Users     []dialplan.UserID   `json:"user_ids"`
	Teams     []dialplan.TeamID   `json:"team_ids"`
	Tags      []dialplan.TagID    `json:"tag_ids"`
	Direction stats.Direction     `json:"direction,omitempty"`
}

// userStatsJSON is a user's productivity over the period: their calls,
// and how long they spent in each status (seconds, within the period and
// time of day).
type userStatsJSON struct {
	UserID          dialplan.UserID `json:"user_id"`
	Name            string          `json:"name"`
	InboundAnswered int64           `json:"inbound_answered"`
	Missed          int64           `json:"missed"`
	OutboundCalls   int64           `json:"outbound_calls"`
	TalkTime        int64           `json:"talk_time"`
	Available       int64           `json:"time_available"`
	InCall          int64           `json:"time_in_call"`
	AfterCallWork   int64           `json:"time_after_call_work"`
	DoNotDisturb    int64           `json:"time_do_not_disturb"`
	Offline         int64           `json:"time_offline"`
}

func (s *server) getStats(c *gin.Context) {
	q, p, err := s.statsQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.figures(c.Request.Context(), principal(c).Company, q, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"stats": out})
}

// figures reads and computes a query's statsJSON.
func (s *server) figures(ctx context.Context, company dialplan.CompanyID, q stats.Query, p stats.Plan) (statsJSON, error) {
	rows, err := s.Store.Stats(ctx, company, q, p)
	if err != nil {
		return statsJSON{}, err
	}
	users, err := s.Store.ScopeUsers(ctx, company, q)
	if err != nil {
		return statsJSON{}, err
	}
	f := p.Combine(rows, users)
	out := statsJSON{From: q.From, To: q.To, TimeZone: q.Location.String(), GroupBy: q.Group,
		Totals: stats.Measure(f.Total[0], f.Total[1]), Series: make([]bucketJSON, len(p.Buckets)),
		Filters: statsFiltersJSON{Numbers: orEmpty(q.Numbers), Users: orEmpty(q.Users), Teams: orEmpty(q.Teams),
			Tags: orEmpty(q.Tags), Direction: q.Direction}}
	if w := q.TimeOfDay; w != nil {
		out.Filters.TimeFrom, out.Filters.TimeTo = hhmm(w.From), hhmm(w.To)
	}
	for i, b := range p.Buckets {
		out.Series[i] = bucketJSON{Start: b.Start.In(q.Location), End: b.End.In(q.Location), Measures: stats.Measure(f.Buckets[i][0], f.Buckets[i][1])}
	}
	return out, nil
}

func (s *server) getStatsUsers(c *gin.Context) {
	q, p, err := s.statsQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	users, err := s.productivity(c.Request.Context(), principal(c).Company, q, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
}

// productivity is each user's row: those of the filter, or every user of
// the company (an agent who took no call has a row too).
func (s *server) productivity(ctx context.Context, company dialplan.CompanyID, q stats.Query, p stats.Plan) ([]userStatsJSON, error) {
	rows, err := s.Store.StatsUsers(ctx, company, q, p)
	if err != nil {
		return nil, err
	}
	perUser := stats.ByUser(rows)
	names, err := s.Store.CompanyNames(ctx, company)
	if err != nil {
		return nil, err
	}
	ids := q.Users
	if len(ids) == 0 {
		for id := range names.Users {
			ids = append(ids, dialplan.UserID(id))
		}
	}
	slices.Sort(ids)
	activity, err := s.Store.AgentActivities(ctx, company, ids, q, p)
	if err != nil {
		return nil, err
	}
	out := make([]userStatsJSON, 0, len(ids))
	for _, id := range ids {
		name, ok := names.Users[int64(id)]
		if !ok {
			continue
		}
		row := userStatsJSON{UserID: id, Name: name[0]}
		if u := perUser[id]; u != nil {
			row.InboundAnswered, row.OutboundCalls, row.TalkTime = u[0].Answered, u[1].Calls, u[0].Talk+u[1].Talk
		}
		if a := activity[id]; a != nil {
			row.Missed = a.Missed
			in := p.Presence(a.Start, a.Changes, time.Duration(row.TalkTime)*time.Second, s.Now())
			row.Available, row.InCall = wholeSeconds(in[stats.Available]), wholeSeconds(in[stats.InCall])
			row.AfterCallWork, row.DoNotDisturb = wholeSeconds(in[stats.AfterCallWork]), wholeSeconds(in[stats.DoNotDisturb])
			row.Offline = wholeSeconds(in[stats.Offline])
		}
		out = append(out, row)
	}
	return out, nil
}

func orEmpty[T any](a []T) []T {
	if a == nil {
		return []T{}
	}
	return a
}

func hhmm(minute int) string { return fmt.Sprintf("%02d:%02d", minute/60, minute%60) }

func wholeSeconds(d time.Duration) int64 { return int64(d / time.Second) }

// statsQuery reads a query from the request's parameters: from and to
// (dates, RFC 3339 times or Unix seconds; a date `to` is included whole;
// the last 7 days by default), time_zone (the company's by default),
// group_by (day), time_from and time_to (HH:MM), number_id, user_id,
// team_id, tag_id (repeated or comma-separated) and direction.
func (s *server) statsQuery(c *gin.Context) (stats.Query, stats.Plan, error) {
	me := principal(c)
	co, err := s.Store.Company(c.Request.Context(), me.Company)
	if err != nil {
		return stats.Query{}, stats.Plan{}, err
	}
	q, err := readStatsQuery(c, co.TimeZone, s.Now())
	if err != nil {
		return q, stats.Plan{}, err
	}
	if me.Role == dialplan.RoleAgent {
		if len(q.Users) > 0 && (len(q.Users) > 1 || q.Users[0] != me.User) {
			return q, stats.Plan{}, forbidden("agents see the statistics of their own calls only: user_id may only be theirs")
		}
		q.Users = []dialplan.UserID{me.User}
	}
	p, err := q.Plan()
	return q, p, err
}

// readStatsQuery reads the query's parameters (statsQuery), now being
// the time the default period ends with.
func readStatsQuery(c *gin.Context, companyZone string, now time.Time) (stats.Query, error) {
	q := stats.Query{Group: stats.Day}
	zone := c.DefaultQuery("time_zone", companyZone)
	var err error
	if q.Location, err = time.LoadLocation(zone); err != nil || zone == "" || strings.EqualFold(zone, "local") {
		return q, &dialplan.FieldError{Field: "time_zone", Problem: fmt.Sprintf("%q is not an IANA time zone such as Europe/Paris", zone)}
	}
	today := now.In(q.Location)
	q.To = time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, q.Location)
	q.From = q.To.AddDate(0, 0, -7)
	for _, read := range []func() error{
		func() error { return instant(c, "from", q.Location, false, &q.From) },
		func() error { return instant(c, "to", q.Location, true, &q.To) },
		func() error {
			return oneOf(c, "group_by", []stats.Grouping{stats.Hour, stats.Day, stats.Week, stats.Month}, &q.Group)
		},
		func() error {
			return oneOf(c, "direction", []stats.Direction{stats.Inbound, stats.Outbound}, &q.Direction)
		},
		func() error { return timeOfDay(c, &q.TimeOfDay) },
		func() error { return queryIDs(c, "number_id", &q.Numbers) },
		func() error { return queryIDs(c, "user_id", &q.Users) },
		func() error { return queryIDs(c, "team_id", &q.Teams) },
		func() error { return queryIDs(c, "tag_id", &q.Tags) },
	} {
		if err := read(); err != nil {
			return q, err
		}
	}
	return q, nil
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// instant reads query parameter name: a date (midnight starting it, or
// with end the midnight ending it, in loc), an RFC 3339 time or Unix
// seconds.
func instant(c *gin.Context, name string, loc *time.Location, end bool, dst *time.Time) error {
	raw := c.Query(name)
	switch {
	case raw == "":
		return nil
	case datePattern.MatchString(raw):
		d, err := time.ParseInLocation(time.DateOnly, raw, loc)
		if err != nil {
			break
		}
		if end {
			d = d.AddDate(0, 0, 1)
		}
		*dst = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
		return nil
	default:
		if t, err := time.Parse(time.RFC3339, raw); err == nil {
			*dst = t
			return nil
		}
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil && n >= 0 && n < 1<<36 {
			*dst = time.Unix(n, 0)
			return nil
		}
	}
	return &dialplan.FieldError{Field: name, Problem: fmt.Sprintf("%q is not a date (2026-03-29), an RFC 3339 time or Unix seconds", raw)}
}

// timeOfDay reads time_from and time_to (HH:MM, 24:00 for the end of the
// day): both or neither.
func timeOfDay(c *gin.Context, dst **stats.Window) error {
	from, to := c.Query("time_from"), c.Query("time_to")
	if from == "" && to == "" {
		return nil
	}
	var w stats.Window
	for _, f := range []struct {
		name, raw string
		dst       *int
	}{{"time_from", from, &w.From}, {"time_to", to, &w.To}} {
		m, ok := parseClock(f.raw)
		if !ok {
			return &dialplan.FieldError{Field: f.name, Problem: fmt.Sprintf("%q is not a time of day HH:MM (00:00 to 24:00); give time_from and time_to together", f.raw)}
		}
		*f.dst = m
	}
	if w.From == w.To || w.From == 24*60 {
		return &dialplan.FieldError{Field: "time_to", Problem: "the time of day must not be empty: time_from and time_to differ, time_from before 24:00"}
	}
	*dst = &w
	return nil
}

var clockPattern = regexp.MustCompile(`^([01]\d|2[0-4]):([0-5]\d)$`)

func parseClock(raw string) (int, bool) {
	m := clockPattern.FindStringSubmatch(raw)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	min, _ := strconv.Atoi(m[2])
	if h == 24 && min != 0 {
		return 0, false
	}
	return h*60 + min, true
}

// queryIDs reads query parameter name, repeated or a comma-separated list
// of positive ids (at most 500).
func queryIDs[T ~int64](c *gin.Context, name string, dst *[]T) error {
	for _, raw := range c.QueryArray(name) {
		for _, part := range strings.Split(raw, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return &dialplan.FieldError{Field: name, Problem: fmt.Sprintf("%q must be positive integer ids, comma-separated or repeated", raw)}
			}
			if !slices.Contains(*dst, T(id)) {
				*dst = append(*dst, T(id))
			}
		}
	}
	if len(*dst) > 500 {
		return &dialplan.FieldError{Field: name, Problem: "at most 500 ids"}
	}
	return nil
}

// getStatsCSV exports a query as CSV: table=series (default: a row per
// bucket, then the totals), users (productivity) or calls (a row per call,
// streamed).
func (s *server) getStatsCSV(c *gin.Context) {
	q, p, err := s.statsQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	table := "series"
	if err := oneOf(c, "table", []string{"series", "users", "calls"}, &table); err != nil {
		s.fail(c, err)
		return
	}
	ctx, company := c.Request.Context(), principal(c).Company
	var (
		out   statsJSON
		users []userStatsJSON
	)
	switch table {
	case "series":
		out, err = s.figures(ctx, company, q, p)
	case "users":
		users, err = s.productivity(ctx, company, q, p)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	names, err := s.Store.CompanyNames(ctx, company)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="switchboard-%s-%s-%s.csv"`, table,
		q.From.In(q.Location).Format("20060102"), q.To.In(q.Location).Format("20060102")))
	c.Status(http.StatusOK)
	// An export of years of calls takes longer than the server's write
	// timeout, which is for ordinary answers.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true // RFC 4180
	write := func(cells []string) error {
		for i, v := range cells {
			cells[i] = stats.Cell(v)
		}
		return w.Write(cells)
	}
	switch table {
	case "series":
		err = writeSeries(write, out)
	case "users":
		err = writeUsers(write, users)
	default:
		err = writeCalls(ctx, s.Store, company, q, p, names, w, write)
	}
	if err == nil {
		w.Flush()
		err = w.Error()
	}
	if err != nil {
		// The status is sent: cut the answer short rather than let a
		// truncated file look whole.
		s.Logger.Error("statistics export cut", "table", table, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// measureColumns are the series' columns after start and end.
func measureColumns() []string {
	cols := []string{"inbound_calls", "inbound_duration_avg", "outbound_calls", "outbound_duration_avg", "answered_calls",
		"missed_calls", "missed_rate"}
	for _, r := range stats.Reasons {
		cols = append(cols, "missed_"+string(r))
	}
	return append(cols, "voicemail_calls", "voicemail_rate", "waiting_time_avg", "longest_wait", "handled_calls",
		"handling_time_avg", "inbound_minutes_per_call", "outbound_minutes_per_call", "inbound_calls_per_user",
		"outbound_calls_per_user", "offered_calls", "answered_within_sla", "service_level", "abandoned_calls", "abandon_rate")
}

func measureCells(m stats.Measures) []string {
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	cells := []string{i(m.InboundCalls), f(m.InboundDurationAvg), i(m.OutboundCalls), f(m.OutboundDurationAvg),
		i(m.AnsweredCalls), i(m.MissedCalls), f(m.MissedRate)}
	for _, r := range stats.Reasons {
		cells = append(cells, i(m.MissedByReason[r]))
	}
	return append(cells, i(m.VoicemailCalls), f(m.VoicemailRate), f(m.WaitingTimeAvg), i(m.LongestWait),
		i(m.HandledCalls), f(m.HandlingTimeAvg), f(m.InboundMinutesPerCall), f(m.OutboundMinutesPerCall),
		f(m.InboundCallsPerUser), f(m.OutboundCallsPerUser), i(m.OfferedCalls), i(m.AnsweredWithinSLA),
		f(m.ServiceLevel), i(m.AbandonedCalls), f(m.AbandonRate))
}

func writeSeries(write func([]string) error, out statsJSON) error {
	if err := write(append([]string{"start", "end"}, measureColumns()...)); err != nil {
		return err
	}
	for _, b := range out.Series {
		if err := write(append([]string{b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339)}, measureCells(b.Measures)...)); err != nil {
			return err
		}
	}
	return write(append([]string{"total", ""}, measureCells(out.Totals)...))
}

func writeUsers(write func([]string) error, users []userStatsJSON) error {
	if err := write([]string{"user_id", "name", "inbound_answered", "missed", "outbound_calls", "talk_time",
		"time_available", "time_in_call", "time_after_call_work", "time_do_not_disturb", "time_offline"}); err != nil {
		return err
	}
	for _, u := range users {
		i := func(v int64) string { return strconv.FormatInt(v, 10) }
		if err := write([]string{i(int64(u.UserID)), u.Name, i(u.InboundAnswered), i(u.Missed), i(u.OutboundCalls),
			i(u.TalkTime), i(u.Available), i(u.InCall), i(u.AfterCallWork), i(u.DoNotDisturb), i(u.Offline)}); err != nil {
			return err
		}
	}
	return nil
}

// callColumns are the raw export's columns: Aircall's call fields, with
// names for ids.
var callColumns = []string{"id", "direction", "status", "started_at", "answered_at", "ended_at", "duration",
	"raw_digits", "number_id", "number_name", "number_digits", "user_id", "user_name", "user_email",
	"missed_call_reason", "waiting_time", "talk_time", "voicemail", "recording", "archived", "assigned_to",
	"teams", "tags", "hangup_cause"}

func writeCalls(ctx context.Context, st *store.Store, company dialplan.CompanyID, q stats.Query, p stats.Plan,
	names store.Names, w *csv.Writer, write func([]string) error) error {
	if err := write(slices.Clone(callColumns)); err != nil {
		return err
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(q.Location).Format(time.RFC3339)
	}
	id := func(v int64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatInt(v, 10)
	}
	joined := func(ids []int64, m map[int64]string) string {
		out := make([]string, 0, len(ids))
		for _, i := range ids {
			if n, ok := m[i]; ok {
				out = append(out, n)
			}
		}
		return strings.Join(out, "; ")
	}
	row := make([]string, len(callColumns))
	n := 0
	return st.StatsCalls(ctx, company, q, p, func(r store.StatsCall) error {
		num, user := names.Numbers[r.Number], names.Users[r.User]
		copy(row, []string{strconv.FormatInt(int64(r.ID), 10), r.Direction, r.Status, stamp(&r.StartedAt),
			stamp(r.AnsweredAt), stamp(r.EndedAt), strconv.FormatInt(r.Duration, 10), r.RawDigits, id(r.Number),
			num[0], num[1], id(r.User), user[0], user[1], r.MissedReason, strconv.FormatInt(r.Wait, 10),
			strconv.FormatInt(r.Talk, 10), strconv.FormatBool(r.Voicemail), strconv.FormatBool(r.Recording),
			strconv.FormatBool(r.Archived), id(r.Assigned), joined(r.Teams, names.Teams), joined(r.Tags, names.Tags),
			r.Hangup})
		if err := write(row); err != nil {
			return err
		}
		if n++; n%10000 == 0 {
			w.Flush() // the client sees the file come
			return w.Error()
		}
		return nil
	})
}
