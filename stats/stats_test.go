package stats_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/stats"
)

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	return loc
}

func TestPlanBuckets(t *testing.T) {
	loc := paris(t)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name     string
		from, to string
		group    stats.Grouping
		starts   []string // local starts of the buckets
		hours    []float64
	}{
		{"a spring-forward day is 23 hours", "2026-03-28 00:00", "2026-03-31 00:00", stats.Day,
			[]string{"2026-03-28 00:00", "2026-03-29 00:00", "2026-03-30 00:00"}, []float64{24, 23, 24}},
		{"a fall-back day is 25 hours", "2026-10-24 00:00", "2026-10-26 00:00", stats.Day,
			[]string{"2026-10-24 00:00", "2026-10-25 00:00"}, []float64{24, 25}},
		{"weeks start on Monday, the first cut to the period", "2026-03-26 12:00", "2026-04-07 00:00", stats.Week,
			[]string{"2026-03-26 12:00", "2026-03-30 00:00", "2026-04-06 00:00"}, []float64{83, 168, 24}},
		{"months", "2026-01-15 00:00", "2026-04-01 00:00", stats.Month,
			[]string{"2026-01-15 00:00", "2026-02-01 00:00", "2026-03-01 00:00"}, []float64{17 * 24, 28 * 24, 31*24 - 1}},
		{"hours across spring forward: 02:00 never happens", "2026-03-29 01:00", "2026-03-29 04:00", stats.Hour,
			[]string{"2026-03-29 01:00", "2026-03-29 03:00"}, []float64{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := stats.Query{From: at(tt.from), To: at(tt.to), Location: loc, Group: tt.group}
			p, err := q.Plan()
			require.NoError(t, err)
			require.Len(t, p.Buckets, len(tt.starts))
			for i, b := range p.Buckets {
				assert.Equal(t, tt.starts[i], b.Start.In(loc).Format("2006-01-02 15:04"), "bucket %d", i)
				assert.Equal(t, tt.hours[i], b.End.Sub(b.Start).Hours(), "bucket %d", i)
			}
			assert.Equal(t, len(p.Buckets)+1, len(p.Bounds))
			for i, g := range p.Groups {
				assert.Equal(t, int32(i+1), g)
			}
		})
	}
}

func TestPlanFallBackHourIsTwoBuckets(t *testing.T) {
	loc := paris(t)
	from := time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC) // 02:00 CEST
	p, err := stats.Query{From: from, To: from.Add(3 * time.Hour), Location: loc, Group: stats.Hour}.Plan()
	require.NoError(t, err)
	var clocks []string
	for _, b := range p.Buckets {
		clocks = append(clocks, b.Start.In(loc).Format("15:04 MST"))
	}
	assert.Equal(t, []string{"02:00 CEST", "02:00 CET", "03:00 CET"}, clocks)
}

func TestPlanTimeOfDay(t *testing.T) {
	loc := paris(t)
	from := time.Date(2026, 3, 28, 0, 0, 0, 0, loc)
	to := time.Date(2026, 3, 30, 0, 0, 0, 0, loc)
	tests := []struct {
		name   string
		window stats.Window
		inside []string // local [from, to) of each counted interval, in order
	}{
		{"office hours", stats.Window{From: 9 * 60, To: 18 * 60},
			[]string{"28 09:00-28 18:00", "29 09:00-29 18:00"}},
		{"across midnight", stats.Window{From: 22 * 60, To: 6 * 60},
			[]string{"28 00:00-28 06:00", "28 22:00-29 00:00", "29 00:00-29 06:00", "29 22:00-30 00:00"}},
		{"until midnight", stats.Window{From: 20 * 60, To: 24 * 60},
			[]string{"28 20:00-29 00:00", "29 20:00-30 00:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.window
			p, err := stats.Query{From: from, To: to, Location: loc, Group: stats.Day, TimeOfDay: &w}.Plan()
			require.NoError(t, err)
			var inside []string
			for i, g := range p.Groups {
				if g == 0 {
					continue
				}
				assert.Equal(t, int32(p.Bounds[i].In(loc).Day()-27), g, "the interval's day is its bucket")
				inside = append(inside, p.Bounds[i].In(loc).Format("02 15:04")+"-"+p.Bounds[i+1].In(loc).Format("02 15:04"))
			}
			assert.Equal(t, tt.inside, inside)
		})
	}
}

// The window is read on the wall clock: a minute the clocks skip is never
// reached, one they repeat is reached twice.
func TestPlanTimeOfDayAcrossClockChanges(t *testing.T) {
	loc := paris(t)
	tests := []struct {
		name   string
		day    time.Time
		window stats.Window
		inside []string
	}{
		{"until a skipped minute", time.Date(2026, 3, 29, 0, 0, 0, 0, loc), stats.Window{From: 22 * 60, To: 2*60 + 30},
			[]string{"00:00 CET-03:00 CEST", "22:00 CEST-00:00 CEST"}},
		{"from a skipped minute", time.Date(2026, 3, 29, 0, 0, 0, 0, loc), stats.Window{From: 2*60 + 30, To: 4 * 60},
			[]string{"03:00 CEST-04:00 CEST"}},
		{"until a repeated minute", time.Date(2026, 10, 25, 0, 0, 0, 0, loc), stats.Window{From: 22 * 60, To: 2*60 + 30},
			[]string{"00:00 CEST-02:30 CEST", "02:00 CET-02:30 CET", "22:00 CET-00:00 CET"}},
		{"from a repeated minute", time.Date(2026, 10, 25, 0, 0, 0, 0, loc), stats.Window{From: 2*60 + 30, To: 4 * 60},
			[]string{"02:30 CEST-02:00 CET", "02:30 CET-04:00 CET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.window
			p, err := stats.Query{From: tt.day, To: tt.day.AddDate(0, 0, 1), Location: loc, Group: stats.Day, TimeOfDay: &w}.Plan()
			require.NoError(t, err)
			var inside []string
			for i, g := range p.Groups {
				if g != 0 {
					inside = append(inside, p.Bounds[i].In(loc).Format("15:04 MST")+"-"+p.Bounds[i+1].In(loc).Format("15:04 MST"))
				}
			}
			assert.Equal(t, tt.inside, inside)
		})
	}
}

func TestQueryErrorsNameTheParameter(t *testing.T) {
	loc := paris(t)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	ok := stats.Query{From: from, To: from.AddDate(0, 1, 0), Location: loc, Group: stats.Day}
	tests := []struct {
		name  string
		mod   func(*stats.Query)
		field string
	}{
		{"to before from", func(q *stats.Query) { q.To = q.From.Add(-time.Hour) }, "to"},
		{"no from", func(q *stats.Query) { q.From = time.Time{} }, "from"},
		{"grouping", func(q *stats.Query) { q.Group = "year" }, "group_by"},
		{"direction", func(q *stats.Query) { q.Direction = "sideways" }, "direction"},
		{"empty time of day", func(q *stats.Query) { q.TimeOfDay = &stats.Window{From: 60, To: 60} }, "time_from"},
		{"three years by hour", func(q *stats.Query) { q.To = q.From.AddDate(3, 0, 0); q.Group = stats.Hour }, "group_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ok
			tt.mod(&q)
			_, err := q.Plan()
			var field *dialplan.FieldError
			require.True(t, errors.As(err, &field), "%v", err)
			assert.Equal(t, tt.field, field.Field)
		})
	}
	_, err := ok.Plan()
	require.NoError(t, err)
}

func TestMeasures(t *testing.T) {
	in := stats.Sums{Calls: 10, Answered: 6, Voicemails: 2, Duration: 1000, Talk: 720, Wait: 60, LongestWait: 45,
		Offered: 8, WithinSLA: 5, Handled: 2, Handling: 300, Users: 3}
	in.Missed[stats.ReasonCode(dialplan.AbandonedInClassic)-1] = 1
	in.Missed[stats.ReasonCode(dialplan.OutOfOpeningHours)-1] = 2
	in.Missed[stats.ReasonCode(dialplan.AgentsDidNotAnswer)-1] = 1
	out := stats.Sums{Calls: 4, Answered: 3, Duration: 400, Talk: 360, Users: 2}
	m := stats.Measure(in, out)
	f := func(v float64) *float64 { return &v }
	assert.Equal(t, int64(4), m.MissedCalls)
	assert.Equal(t, f(40), m.MissedRate)
	assert.Equal(t, f(20), m.VoicemailRate)
	assert.Equal(t, f(100), m.InboundDurationAvg)
	assert.Equal(t, f(10), m.WaitingTimeAvg)
	assert.Equal(t, f(2), m.InboundMinutesPerCall)
	assert.Equal(t, f(2), m.OutboundMinutesPerCall)
	assert.Equal(t, f(3.33), m.InboundCallsPerUser)
	assert.Equal(t, f(2), m.OutboundCallsPerUser)
	assert.Equal(t, f(62.5), m.ServiceLevel)
	assert.Equal(t, f(12.5), m.AbandonRate)
	assert.Equal(t, f(150), m.HandlingTimeAvg)
	assert.Equal(t, int64(2), m.MissedByReason[dialplan.OutOfOpeningHours])
	assert.Len(t, m.MissedByReason, len(stats.Reasons))

	empty := stats.Measure(stats.Sums{}, stats.Sums{})
	assert.Nil(t, empty.MissedRate, "no inbound call, no missed rate")
	assert.Nil(t, empty.ServiceLevel)
}

func TestCell(t *testing.T) {
	tests := map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"@SUM(A1)":                 "'@SUM(A1)",
		"+33 1 76 39 08 61":        "+33 1 76 39 08 61",
		"+1+cmd|' /C calc'!A0":     "'+1+cmd|' /C calc'!A0",
		"-12.5":                    "-12.5",
		"-2+3":                     "'-2+3",
		"\tx":                      "'\tx",
		"Alice":                    "Alice",
		"":                         "",
	}
	for in, want := range tests {
		assert.Equal(t, want, stats.Cell(in), "%q", in)
	}
}

func TestTimeIn(t *testing.T) {
	loc := paris(t)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, loc)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	w := stats.Window{From: 9 * 60, To: 17 * 60}
	p, err := stats.Query{From: day, To: day.AddDate(0, 0, 1), Location: loc, Group: stats.Day, TimeOfDay: &w}.Plan()
	require.NoError(t, err)
	start := stats.Agent{} // offline
	changes := []stats.Change{
		{at(8, 0), events.UserConnected},  // available from 8:00 (counted from 9:00)
		{at(10, 0), events.CallAnswered},  // in call 10:00–10:30
		{at(10, 30), events.CallEnded},    //
		{at(10, 30), events.UserWutStart}, // after-call work 10:30–10:45
		{at(10, 45), events.UserWutEnd},   //
		{at(12, 0), events.UserClosed},    // do not disturb 12:00–13:00
		{at(13, 0), events.UserOpened},    //
		{at(16, 0), events.UserDisconnected},
	}
	later := day.AddDate(0, 0, 2)
	got := p.TimeIn(start, changes, later)
	assert.Equal(t, got, p.Presence(start, changes, 0, later), "no talk, no change")
	presence := p.Presence(start, changes, 45*time.Minute, later)
	assert.Equal(t, 45*time.Minute, presence[stats.InCall]-got[stats.InCall])
	assert.Equal(t, 45*time.Minute, got[stats.Available]-presence[stats.Available])
	assert.Equal(t, map[stats.Status]time.Duration{
		stats.Available:     time.Hour + 75*time.Minute + 3*time.Hour,
		stats.InCall:        30 * time.Minute,
		stats.AfterCallWork: 15 * time.Minute,
		stats.DoNotDisturb:  time.Hour,
		stats.Offline:       time.Hour,
	}, got)

	// Asked at 11:00 of that day: the hours yet to come count nothing.
	assert.Equal(t, map[stats.Status]time.Duration{
		stats.Available:     time.Hour + 15*time.Minute,
		stats.InCall:        30 * time.Minute,
		stats.AfterCallWork: 15 * time.Minute,
	}, p.TimeIn(start, changes, at(11, 0)))
}
