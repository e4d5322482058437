package dialplan

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Days are written as the product writes them: mon..sun.
var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseDay turns "mon".."sun" into a time.Weekday.
func ParseDay(s string) (time.Weekday, error) {
	for i, name := range dayNames {
		if s == name {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun)", s)
}

// ParseClock reads "HH:MM" (24-hour) as minutes since midnight. "24:00" is
// accepted so that a slot can run to the end of the day.
func ParseClock(s string) (int, error) {
	bad := fmt.Errorf("%q is not a time of day (HH:MM, 00:00 to 24:00)", s)
	if len(s) != 5 || s[2] != ':' {
		return 0, bad
	}
	h, errH := strconv.Atoi(s[:2])
	m, errM := strconv.Atoi(s[3:])
	if errH != nil || errM != nil || s[0] == '+' || s[0] == '-' || s[3] == '+' || s[3] == '-' ||
		h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, bad
	}
	return h*60 + m, nil
}

// Slot is a weekly opening: the same hours on each of its days.
type Slot struct {
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// span is a slot's hours parsed: [from, to) in minutes since midnight.
type span struct{ from, to int }

func (s Slot) span() (span, error) {
	from, err := ParseClock(s.From)
	if err != nil {
		return span{}, invalid("from", "%v", err)
	}
	to, err := ParseClock(s.To)
	if err != nil {
		return span{}, invalid("to", "%v", err)
	}
	if from >= to {
		return span{}, invalid("to", "%s is not after from %s", s.To, s.From)
	}
	return span{from, to}, nil
}

// WeeklyHours is a set of slots, several per day allowed but never
// overlapping: an overlap is almost always a typing mistake.
type WeeklyHours []Slot

// Validate checks every slot and that no two slots of one day overlap.
func (w WeeklyHours) Validate() error {
	var perDay [7][]span
	for i, slot := range w {
		field := fmt.Sprintf("[%d]", i)
		sp, err := slot.span()
		if err != nil {
			fe := err.(*FieldError)
			return invalid(field+"."+fe.Field, "%s", fe.Problem)
		}
		if len(slot.Days) == 0 {
			return invalid(field+".days", "at least one day is needed")
		}
		for j, name := range slot.Days {
			day, err := ParseDay(name)
			if err != nil {
				return invalid(fmt.Sprintf("%s.days[%d]", field, j), "%v", err)
			}
			for _, other := range perDay[day] {
				if sp.from < other.to && other.from < sp.to {
					return invalid(field, "%s-%s overlaps another slot on %s", slot.From, slot.To, name)
				}
			}
			perDay[day] = append(perDay[day], sp)
		}
	}
	return nil
}

// OpenAt says whether local wall-clock time t falls in a slot. The caller
// converts t to the right time zone first.
func (w WeeklyHours) OpenAt(t time.Time) bool {
	day := dayNames[t.Weekday()]
	minute := t.Hour()*60 + t.Minute()
	for _, slot := range w {
		sp, err := slot.span()
		if err == nil && slices.Contains(slot.Days, day) && sp.from <= minute && minute < sp.to {
			return true
		}
	}
	return false
}

// SpecialDate overrides the weekly hours for a range of days (holidays,
// exceptional openings). Without hours it covers whole days; with From/To it
// opens (Open) or closes (!Open) only those hours, the weekly hours holding
// for the rest of the day.
type SpecialDate struct {
	FromDate string `json:"from_date"`
	ToDate   string `json:"to_date"`
	Open     bool   `json:"open"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
}

const dateLayout = "2006-01-02"

func (d SpecialDate) validate() error {
	from, err := time.Parse(dateLayout, d.FromDate)
	if err != nil {
		return invalid("from_date", "%q is not a date (YYYY-MM-DD)", d.FromDate)
	}
	to, err := time.Parse(dateLayout, d.ToDate)
	if err != nil {
		return invalid("to_date", "%q is not a date (YYYY-MM-DD)", d.ToDate)
	}
	if to.Before(from) {
		return invalid("to_date", "%s is before from_date %s", d.ToDate, d.FromDate)
	}
	if d.From != "" || d.To != "" {
		if _, err := (Slot{From: d.From, To: d.To}).span(); err != nil {
			return err
		}
	}
	return nil
}

// covers says whether the local date of t is within the special date.
func (d SpecialDate) covers(t time.Time) bool {
	date := t.Format(dateLayout)
	return d.FromDate <= date && date <= d.ToDate
}

// BusinessHours are a number's opening hours in its own time zone.
type BusinessHours struct {
	Slots        WeeklyHours   `json:"slots"`
	SpecialDates []SpecialDate `json:"special_dates"`
}

// Validate checks slots and special dates.
func (b BusinessHours) Validate() error {
	if err := b.Slots.Validate(); err != nil {
		return prefixed("slots", err)
	}
	for i, d := range b.SpecialDates {
		if err := d.validate(); err != nil {
			return prefixed(fmt.Sprintf("special_dates[%d]", i), err)
		}
	}
	return nil
}

// OpenAt says whether the line is open at local time t. The last special
// date that covers t wins, so a later, more precise entry can refine an
// earlier one.
func (b BusinessHours) OpenAt(t time.Time) bool {
	open := b.Slots.OpenAt(t)
	for _, d := range b.SpecialDates {
		if !d.covers(t) {
			continue
		}
		if d.From == "" && d.To == "" {
			open = d.Open
			continue
		}
		if (WeeklyHours{{Days: []string{dayNames[t.Weekday()]}, From: d.From, To: d.To}}).OpenAt(t) {
			open = d.Open
		}
	}
	return open
}
