package dialplan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseClock(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"00:00", 0, true}, {"09:30", 570, true}, {"23:59", 1439, true}, {"24:00", 1440, true},
		{"24:01", 0, false}, {"25:00", 0, false}, {"09:60", 0, false}, {"9:00", 0, false}, {"09:0", 0, false},
		{"0900", 0, false}, {"", 0, false}, {"+9:00", 0, false}, {"09:+1", 0, false}, {"-1:00", 0, false},
		{"ab:cd", 0, false}, {"09-00", 0, false}, {"09:00 ", 0, false},
	} {
		got, err := ParseClock(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			require.Contains(t, err.Error(), "HH:MM")
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestWeeklyHoursValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hours WeeklyHours
		field string // "" when valid
	}{
		{"empty", WeeklyHours{}, ""},
		{"two slots a day", WeeklyHours{{Days: []string{"mon"}, From: "09:00", To: "12:00"}, {Days: []string{"mon"}, From: "14:00", To: "18:00"}}, ""},
		{"touching slots", WeeklyHours{{Days: []string{"mon"}, From: "09:00", To: "12:00"}, {Days: []string{"mon"}, From: "12:00", To: "18:00"}}, ""},
		{"same hours other days", WeeklyHours{{Days: []string{"mon"}, From: "09:00", To: "12:00"}, {Days: []string{"tue"}, From: "09:00", To: "12:00"}}, ""},
		{"until midnight", WeeklyHours{{Days: []string{"sun"}, From: "18:00", To: "24:00"}}, ""},
		{"overlap", WeeklyHours{{Days: []string{"mon", "wed"}, From: "09:00", To: "12:00"}, {Days: []string{"wed"}, From: "11:59", To: "13:00"}}, "[1]"},
		{"contained", WeeklyHours{{Days: []string{"fri"}, From: "09:00", To: "18:00"}, {Days: []string{"fri"}, From: "10:00", To: "11:00"}}, "[1]"},
		{"day twice in a slot", WeeklyHours{{Days: []string{"mon", "mon"}, From: "09:00", To: "12:00"}}, "[0]"},
		{"bad day", WeeklyHours{{Days: []string{"Monday"}, From: "09:00", To: "12:00"}}, "[0].days[0]"},
		{"no days", WeeklyHours{{From: "09:00", To: "12:00"}}, "[0].days"},
		{"backwards", WeeklyHours{{Days: []string{"mon"}, From: "18:00", To: "09:00"}}, "[0].to"},
		{"bad from", WeeklyHours{{Days: []string{"mon"}, From: "noon", To: "18:00"}}, "[0].from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.hours.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.field, err.(*FieldError).Field)
		})
	}
}

func TestNumberOpenAt(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	n := Number{AvailabilityStatus: CustomHours, TimeZone: "Europe/Paris", BusinessHours: BusinessHours{
		Slots: WeeklyHours{
			{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "12:00"},
			{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "14:00", To: "18:00"},
			{Days: []string{"sun"}, From: "02:00", To: "04:00"},
		},
		SpecialDates: []SpecialDate{
			{FromDate: "2026-12-24", ToDate: "2026-12-26", Open: false},
			{FromDate: "2026-12-27", ToDate: "2026-12-27", Open: true, From: "10:00", To: "12:00"}, // a Sunday
			{FromDate: "2026-12-31", ToDate: "2026-12-31", Open: false, From: "16:00", To: "18:00"},
		},
	}}
	at := func(s string) time.Time {
		local, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		require.NoError(t, err)
		return local.UTC() // OpenAt converts to the number's zone itself
	}
	for _, tc := range []struct {
		at   string
		open bool
	}{
		{"2026-11-23 08:59", false}, {"2026-11-23 09:00", true}, {"2026-11-23 11:59", true},
		{"2026-11-23 12:00", false}, {"2026-11-23 14:30", true}, {"2026-11-23 18:00", false},
		{"2026-11-28 10:00", false},                              // Saturday
		{"2026-12-24 10:00", false}, {"2026-12-26 23:00", false}, // holiday
		{"2026-12-27 10:30", true}, {"2026-12-27 13:00", false}, // a Sunday opened for two hours
		{"2026-12-31 15:00", true}, {"2026-12-31 16:30", false}, // closing early
		// DST: on 2026-03-29 Paris jumps from 02:00 to 03:00; 03:30 local is
		// 01:30 UTC and is within the Sunday slot.
		{"2026-03-29 03:30", true},
		// Summer time: 09:30 local is 07:30 UTC.
		{"2026-07-01 09:30", true},
	} {
		require.Equal(t, tc.open, n.OpenAt(at(tc.at)), tc.at)
	}
	require.True(t, n.OpenAt(time.Date(2026, 7, 1, 7, 30, 0, 0, time.UTC)), "07:30 UTC is 09:30 in Paris in summer")
	require.False(t, n.OpenAt(time.Date(2026, 1, 5, 7, 30, 0, 0, time.UTC)), "07:30 UTC is 08:30 in Paris in winter")
	require.True(t, Number{AvailabilityStatus: AlwaysOpen}.OpenAt(time.Time{}))
	require.False(t, Number{AvailabilityStatus: AlwaysClosed}.OpenAt(time.Time{}))
}

func TestConfiguredStatus(t *testing.T) {
	u := User{AvailabilityStatus: Custom, TimeZone: "America/New_York",
		WorkingHours: WeeklyHours{{Days: []string{"mon"}, From: "09:00", To: "17:00"}}}
	monday := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) // 10:00 in New York
	require.Equal(t, StatusAvailable, ConfiguredStatus(u, monday))
	require.Equal(t, StatusOffline, ConfiguredStatus(u, monday.Add(-2*time.Hour)))
	u.AvailabilityStatus = Unavailable
	require.Equal(t, StatusDoNotDisturb, ConfiguredStatus(u, monday))
	u.AvailabilityStatus = Available
	require.Equal(t, StatusAvailable, ConfiguredStatus(u, monday.Add(-12*time.Hour)))
}

// FuzzParseClock: any input either fails or gives minutes that format back
// to the same text.
func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"09:00", "24:00", "23:59", "9:00", "+1:00", "", "25:61"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseClock(s)
		if err != nil {
			return
		}
		if m < 0 || m > 1440 {
			t.Fatalf("%q gave %d minutes", s, m)
		}
		if back := time.Date(0, 1, 1, m/60, m%60, 0, 0, time.UTC).Format("15:04"); back != s && !(m == 1440 && s == "24:00") {
			t.Fatalf("%q parsed as %d, which is %s", s, m, back)
		}
	})
}

// FuzzWeeklyHours: the slot validator never panics, and hours it accepts
// never overlap (checked minute by minute on each day).
func FuzzWeeklyHours(f *testing.F) {
	f.Add("mon", "09:00", "12:00", "mon", "11:00", "13:00")
	f.Add("tue", "00:00", "24:00", "wed", "00:00", "24:00")
	f.Add("sun", "12:00", "09:00", "xyz", "1", "")
	f.Fuzz(func(t *testing.T, d1, from1, to1, d2, from2, to2 string) {
		w := WeeklyHours{{Days: []string{d1}, From: from1, To: to1}, {Days: []string{d2}, From: from2, To: to2}}
		if w.Validate() != nil || d1 != d2 {
			return
		}
		a, _ := w[0].span()
		b, _ := w[1].span()
		if a.from < b.to && b.from < a.to {
			t.Fatalf("accepted overlapping slots %v", w)
		}
	})
}
