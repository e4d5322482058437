// Package stats is what the statistics of the "Calls & stats" section
// mean: the filters a manager sets, the buckets of time the figures fall
// in, and each measure, computed from sums the store reads (store/stats.go).
//
// Nothing here reads a database: the store turns a Query into one scan of
// the narrow call_stats table, grouped by bucket, direction and user; this
// package decides the buckets beforehand (Plan) and turns the sums into
// measures afterwards (Sums.Measures). Keeping the arithmetic here keeps
// the SQL to additions, which PostgreSQL does fast on millions of rows.
package stats

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// Grouping is the size of a bucket: an hour, a day, an ISO week (Monday
// first) or a month, on the clock of the query's time zone.
type Grouping string

const (
	Hour  Grouping = "hour"
	Day   Grouping = "day"
	Week  Grouping = "week"
	Month Grouping = "month"
)

// Direction limits the calls to one direction ("" for both).
type Direction string

const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Query is what a manager asks: a period cut into buckets, and filters.
type Query struct {
	From, To time.Time // the period, [From, To)
	Location *time.Location
	Group    Grouping
	// TimeOfDay, when set, keeps only the calls that started within it on
	// the local clock (9:00–18:00 every day of the period).
	TimeOfDay *Window
	Numbers   []dialplan.NumberID
	Users     []dialplan.UserID // who answered or made the call
	Teams     []dialplan.TeamID // a team the call rang
	Tags      []dialplan.TagID  // a tag the call has
	Direction Direction
}

// Window is a time of day, in minutes after midnight: [From, To). A window
// whose From is after its To spans midnight (22:00–06:00).
type Window struct {
	From, To int
}

// Contains says whether a local clock time (minutes after midnight) is in
// the window.
func (w Window) Contains(minute int) bool {
	if w.From <= w.To {
		return minute >= w.From && minute < w.To
	}
	return minute >= w.From || minute < w.To
}

// MaxPeriod bounds a query's period.
const MaxPeriod = 10 * 366 * 24 * time.Hour

// MaxBuckets bounds a query's buckets: a longer series is a grouping too
// fine for its period (three years by hour is 26,000 bars).
const MaxBuckets = 10000

// Check says what is wrong with a query, naming the parameter.
func (q Query) Check() error {
	switch {
	case q.From.IsZero():
		return &dialplan.FieldError{Field: "from", Problem: "is required"}
	case q.To.IsZero():
		return &dialplan.FieldError{Field: "to", Problem: "is required"}
	case !q.To.After(q.From):
		return &dialplan.FieldError{Field: "to", Problem: "must be after from"}
	case q.To.Sub(q.From) > MaxPeriod:
		return &dialplan.FieldError{Field: "to", Problem: "the period is at most 10 years"}
	case q.Location == nil:
		return &dialplan.FieldError{Field: "time_zone", Problem: "is required"}
	}
	if !slices.Contains([]Grouping{Hour, Day, Week, Month}, q.Group) {
		return &dialplan.FieldError{Field: "group_by", Problem: fmt.Sprintf("%q is not one of hour, day, week, month", q.Group)}
	}
	if !slices.Contains([]Direction{"", Inbound, Outbound}, q.Direction) {
		return &dialplan.FieldError{Field: "direction", Problem: fmt.Sprintf("%q is not one of inbound, outbound", q.Direction)}
	}
	if w := q.TimeOfDay; w != nil {
		if w.From < 0 || w.From >= 24*60 || w.To < 0 || w.To > 24*60 || w.From == w.To {
			return &dialplan.FieldError{Field: "time_from", Problem: "the time of day must be two different times between 00:00 and 24:00"}
		}
	}
	return nil
}

// Bucket is one bar of the series: [Start, End) (the first and the last
// are cut to the period).
type Bucket struct {
	Start, End time.Time
}

// Plan is a query's buckets, and how the store assigns a call to one: the
// call that started in [Bounds[i], Bounds[i+1]) counts in bucket
// Groups[i]-1, or in none when Groups[i] is 0 (outside the time of day).
// The store does that with PostgreSQL's width_bucket over Bounds, so that
// no time zone arithmetic runs per call.
type Plan struct {
	Buckets []Bucket
	Bounds  []time.Time
	Groups  []int32
}

// ErrTooManyBuckets is a grouping too fine for the period.
var ErrTooManyBuckets = errors.New("too many buckets")

// Plan cuts the query's period into buckets on its time zone's clock,
// across daylight saving changes (a 23-hour and a 25-hour day are one day
// each), and then by its time of day.
func (q Query) Plan() (Plan, error) {
	if err := q.Check(); err != nil {
		return Plan{}, err
	}
	var p Plan
	for start := q.From; start.Before(q.To); {
		end := next(floor(start, q.Group, q.Location), q.Group, q.Location)
		if end.After(q.To) {
			end = q.To
		}
		if !end.After(start) { // a clock that cannot be read in this zone
			return Plan{}, &dialplan.FieldError{Field: "time_zone", Problem: fmt.Sprintf("no %s after %s in %s", q.Group, start, q.Location)}
		}
		p.Buckets = append(p.Buckets, Bucket{start, end})
		if len(p.Buckets) > MaxBuckets {
			return Plan{}, &dialplan.FieldError{Field: "group_by", Problem: fmt.Sprintf("%v: more than %d %ss in the period", ErrTooManyBuckets, MaxBuckets, q.Group)}
		}
		start = end
	}
	cuts := make([]time.Time, 0, len(p.Buckets)+1)
	for _, b := range p.Buckets {
		cuts = append(cuts, b.Start)
	}
	cuts = append(cuts, q.To)
	if w := q.TimeOfDay; w != nil {
		// The window is read on the local clock, as a person reads it: a
		// minute the clocks skip is never reached (the window changes at
		// the clocks' change instead), and one they repeat is reached
		// twice. So the cuts are every instant the clock shows one of the
		// window's ends, and every change of the clocks.
		in := func(t time.Time) bool { return t.After(q.From) && t.Before(q.To) }
		for day := floor(q.From, Day, q.Location); day.Before(q.To); day = next(day, Day, q.Location) {
			for _, minute := range []int{w.From, w.To} {
				for _, t := range showing(day, minute, q.Location) {
					if in(t) {
						cuts = append(cuts, t)
					}
				}
			}
		}
		for t := q.From.In(q.Location); ; {
			_, end := t.ZoneBounds()
			if end.IsZero() || !in(end) {
				break
			}
			cuts = append(cuts, end)
			t = end
		}
		slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
		cuts = slices.CompactFunc(cuts, func(a, b time.Time) bool { return a.Equal(b) })
	}
	p.Bounds = cuts
	p.Groups = make([]int32, len(cuts)-1)
	b := 0
	for i, t := range cuts[:len(cuts)-1] {
		for !t.Before(p.Buckets[b].End) {
			b++
		}
		if w := q.TimeOfDay; w == nil || w.Contains(t.In(q.Location).Hour()*60+t.In(q.Location).Minute()) {
			p.Groups[i] = int32(b + 1)
		}
	}
	// Neighbours in the same group are one interval (a change of clocks
	// inside the window cuts nothing).
	for i := len(p.Groups) - 1; i > 0; i-- {
		if p.Groups[i] == p.Groups[i-1] {
			p.Groups = slices.Delete(p.Groups, i, i+1)
			p.Bounds = slices.Delete(p.Bounds, i, i+1)
		}
	}
	return p, nil
}

// showing is the instants at which the clock of loc shows minute (after
// midnight) on day: none in a gap of the clocks going forward, two in the
// hour they repeat going back.
func showing(day time.Time, minute int, loc *time.Location) []time.Time {
	y, m, d := day.In(loc).Date()
	wall := time.Date(y, m, d, 0, minute, 0, 0, time.UTC)
	shows := func(t time.Time) bool {
		l := t.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC).Equal(wall)
	}
	t := time.Date(y, m, d, 0, minute, 0, 0, loc)
	var out []time.Time
	if shows(t) {
		out = append(out, t)
	}
	// The same clock time under the offset in force before or after the
	// change of clocks nearest to t, if there is one.
	start, end := t.ZoneBounds()
	var edges []time.Time
	if !start.IsZero() {
		edges = append(edges, start.Add(-time.Nanosecond))
	}
	if !end.IsZero() {
		edges = append(edges, end)
	}
	_, offset := t.Zone()
	for _, edge := range edges {
		_, other := edge.Zone()
		if u := t.Add(time.Duration(offset-other) * time.Second); !u.Equal(t) && shows(u) {
			out = append(out, u)
		}
	}
	return out
}

// floor is the start of the bucket of grouping g that holds t.
func floor(t time.Time, g Grouping, loc *time.Location) time.Time {
	l := t.In(loc)
	y, m, d := l.Date()
	switch g {
	case Hour:
		// An hour of the local clock: whole hours back from t, so that an
		// hour repeated when the clocks go back is two buckets.
		return t.Truncate(time.Second).Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second)
	case Week:
		back := (int(l.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	default:
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
}

// next is the start of the bucket after the one that starts at start.
func next(start time.Time, g Grouping, loc *time.Location) time.Time {
	l := start.In(loc)
	y, m, d := l.Date()
	switch g {
	case Hour:
		return start.Add(time.Hour)
	case Week:
		return time.Date(y, m, d+7, 0, 0, 0, 0, loc)
	case Month:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	default:
		return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	}
}
