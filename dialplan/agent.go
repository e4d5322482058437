package dialplan

import "time"

// LiveStatus is what an agent is doing now, as supervisors and the API see it.
type LiveStatus string

const (
	StatusAvailable     LiveStatus = "available"
	StatusOffline       LiveStatus = "offline"
	StatusDoNotDisturb  LiveStatus = "do_not_disturb"
	StatusInCall        LiveStatus = "in_call"
	StatusAfterCallWork LiveStatus = "after_call_work"
	StatusPendingTag    LiveStatus = "pending_tag"
)

// ConfiguredStatus is the status a user's own settings give at instant now,
// before calls and devices are taken into account: unavailable users do
// not want calls, and custom users take them only within their working
// hours (in their time zone).
func ConfiguredStatus(u User, now time.Time) LiveStatus {
	switch u.AvailabilityStatus {
	case Unavailable:
		return StatusDoNotDisturb
	case Custom:
		loc, err := time.LoadLocation(u.TimeZone)
		if err != nil || !u.WorkingHours.OpenAt(now.In(loc)) {
			return StatusOffline
		}
	}
	return StatusAvailable
}

// NewNumber is a number with the defaults a new line gets: open, classic,
// with voicemail and music on hold.
func NewNumber() Number {
	return Number{Type: Classic, AvailabilityStatus: AlwaysOpen, Voicemail: true, MusicOnHold: true,
		MaxCallSeconds: int(MaxCallDuration / time.Second)}
}
