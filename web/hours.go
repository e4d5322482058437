package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/dialplan"
)

// A week's time slots as form rows, for a number's business hours and a
// user's working hours: one drawing ("slots" in _parts.html), one reader.

var weekDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// slotRow is a slot's row: a saved slot, or the empty row for a new one.
type slotRow struct {
	I    int
	Slot dialplan.Slot
	New  bool
	Err  string // the API's words on this slot
}

func (r slotRow) Has(day string) bool { return slices.Contains(r.Slot.Days, day) }

// Number is the row's place, counted from one for people.
func (r slotRow) Number() int { return r.I + 1 }

// slotRows is what the "slots" template draws; view gives it the words.
type slotRows struct {
	view
	Rows []slotRow
	Days []string
}

// Slots lays out slots as rows, the API's words on field[i] (field is the
// slots' name in the API's errors) on row i.
func (p view) Slots(slots dialplan.WeeklyHours, field string, errs map[string]string) slotRows {
	out := slotRows{view: p, Days: weekDays}
	for i := range len(slots) + 1 {
		row := slotRow{I: i, New: i == len(slots)}
		if !row.New {
			row.Slot = slots[i]
		}
		prefix := fmt.Sprintf("%s[%d]", field, i)
		for k, msg := range errs {
			if k == prefix || strings.HasPrefix(k, prefix+".") {
				row.Err = msg
			}
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// slotsFromForm reads the rows back; a row left empty is no slot.
func slotsFromForm(f url.Values) dialplan.WeeklyHours {
	n, _ := strconv.Atoi(f.Get("slots"))
	out := dialplan.WeeklyHours{}
	for i := range min(max(n, 0), 100) {
		p := fmt.Sprintf("slot_%d_", i)
		s := dialplan.Slot{Days: f[p+"days"], From: strings.TrimSpace(f.Get(p + "from")), To: strings.TrimSpace(f.Get(p + "to"))}
		if len(s.Days) == 0 && s.From == "" && s.To == "" {
			continue
		}
		if s.Days == nil {
			s.Days = []string{}
		}
		out = append(out, s)
	}
	return out
}
