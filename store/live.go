package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// Reading the stream in order (the live view, package live).
//
// A reader keeps its place as an events.Cursor, (xid, id). It reads only
// the events of transactions older than every transaction still running
// (xid < pg_snapshot_xmin): those are all committed or rolled back, so no
// row can join that part of the stream any more, and reading it in
// (xid, id) order never skips a row that commits later with a lower id.
// The price: a transaction that stays open holds every reader back until
// it ends (StreamHeld says since when).

// XactSnapshot is which transactions a PostgreSQL snapshot sees
// (pg_current_snapshot): those before Xmin that committed; none from Xmax
// on; and between the two, those committed and not listed in Running.
type XactSnapshot struct {
	Xmin, Xmax uint64
	Running    []uint64
}

// ParseXactSnapshot reads the text form "xmin:xmax:xip,xip,…".
func ParseXactSnapshot(s string) (XactSnapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return XactSnapshot{}, fmt.Errorf("snapshot %q: not xmin:xmax:xip", s)
	}
	var (
		snap XactSnapshot
		err  error
	)
	if snap.Xmin, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return XactSnapshot{}, fmt.Errorf("snapshot %q: %w", s, err)
	}
	if snap.Xmax, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return XactSnapshot{}, fmt.Errorf("snapshot %q: %w", s, err)
	}
	if parts[2] != "" {
		for _, x := range strings.Split(parts[2], ",") {
			v, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				return XactSnapshot{}, fmt.Errorf("snapshot %q: %w", s, err)
			}
			snap.Running = append(snap.Running, v)
		}
	}
	return snap, nil
}

// Sees says whether the snapshot saw what transaction xid wrote (xid
// having committed: the rows of one rolled back are seen by nobody).
func (s XactSnapshot) Sees(xid uint64) bool {
	switch {
	case xid < s.Xmin:
		return true
	case xid >= s.Xmax:
		return false
	}
	return !slices.Contains(s.Running, xid)
}

// LiveCall is a call as the live view needs it beside its events: what
// its record says when the event is read (the record may be a little
// ahead of the event; these fields hardly change).
type LiveCall struct {
	Number       dialplan.NumberID
	Direction    dialplan.Direction
	RawDigits    string
	StartedAt    time.Time
	Teams        []dialplan.TeamID // the teams its ring steps reached, in order
	MissedReason dialplan.MissedReason
}

// LiveEvent is an event of the stream with its place, and, for an event
// of a call, the call.
type LiveEvent struct {
	Cursor  events.Cursor
	Company dialplan.CompanyID
	Kind    events.Kind
	At      time.Time
	CallID  dialplan.CallID
	User    dialplan.UserID
	Number  dialplan.NumberID // the number an event is about (number.*)
	Data    any               // the kind's payload (events.Decode)
	Call    *LiveCall         // nil unless CallID (and the call still exists)
}

// streamSelect reads StreamEvents (scanStream), e the event, c its call.
const streamSelect = `SELECT e.xid::text, e.id, e.company_id, e.event, e.at, coalesce(e.call_id, 0),
	coalesce(e.user_id, 0), coalesce(e.number_id, 0), e.data,
	c.id IS NOT NULL, coalesce(c.number_id, 0), coalesce(c.direction, ''), coalesce(c.raw_digits, ''),
	coalesce(c.started_at, e.at), coalesce(c.missed_call_reason, ''),
	coalesce((SELECT array_agg(t.team_id ORDER BY t.position) FROM call_teams t WHERE t.call_id = c.id), '{}')
	FROM events e LEFT JOIN calls c ON c.id = e.call_id`

func scanStream(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]LiveEvent, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LiveEvent
	for rows.Next() {
		var (
			e       LiveEvent
			c       LiveCall
			xid     string
			data    []byte
			hasCall bool
			teams   pq.Int64Array
		)
		if err := rows.Scan(&xid, &e.Cursor.ID, &e.Company, &e.Kind, &e.At, &e.CallID, &e.User, &e.Number, &data,
			&hasCall, &c.Number, &c.Direction, &c.RawDigits, &c.StartedAt, &c.MissedReason, &teams); err != nil {
			return nil, err
		}
		if e.Cursor.XID, err = strconv.ParseUint(xid, 10, 64); err != nil {
			return nil, fmt.Errorf("event %d: xid %q: %w", e.Cursor.ID, xid, err)
		}
		e.At = e.At.UTC()
		if e.Data, err = events.Decode(e.Kind, data); err != nil {
			// A payload this version cannot read: the event still counts.
			e.Data = nil
		}
		if hasCall {
			c.StartedAt = c.StartedAt.UTC()
			c.Teams = make([]dialplan.TeamID, len(teams))
			for i, t := range teams {
				c.Teams[i] = dialplan.TeamID(t)
			}
			e.Call = &c
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// StreamAfter reads at most limit events after the cursor, in stream
// order, of the part of the stream that is settled: the events of
// transactions older than every one still running.
func (s *Store) StreamAfter(ctx context.Context, after events.Cursor, limit int) ([]LiveEvent, error) {
	evs, err := scanStream(ctx, s.db, streamSelect+`
		WHERE (e.xid, e.id) > ($1::text::xid8, $2::bigint)
			AND e.xid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))
		ORDER BY e.xid, e.id LIMIT $3`, strconv.FormatUint(after.XID, 10), after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("stream after %s: %w", after, err)
	}
	return evs, nil
}

// StreamHeld says since when readers are held back: the time of the
// oldest event committed but not yet settled (a transaction older than
// its own still runs); zero when there is none.
func (s *Store) StreamHeld(ctx context.Context) (time.Time, error) {
	var at sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT min(at) FROM events
		WHERE xid >= (SELECT pg_snapshot_xmin(pg_current_snapshot()))`).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("stream held: %w", err)
	}
	return at.Time, nil
}

// DayCount is what a company's inbound calls of the day came to, by
// number or by team: those decided (answered, or ended without an
// answer), blocked callers left out.
type DayCount struct {
	Company dialplan.CompanyID
	Number  dialplan.NumberID // by number (0: calls without one); 0 in counts by team
	Team    dialplan.TeamID   // by team; 0 in counts by number
	Inbound int               // decided
	// Offered reached the agents: neither out of opening hours nor a short
	// abandon (as statistics count them).
	Offered   int
	Answered  int
	WithinSLA int // answered within the number's service level (else the company's)
	Missed    int // ended unanswered
	Voicemail int // of the missed, those with a voicemail
}

// LiveStart is the state of the live view at one instant: every call
// not done with its timeline, what the stream last said of every user,
// and the day's counts, all as one snapshot saw them, with which
// transactions that snapshot saw, so that a reader goes on from there
// applying each later event once.
type LiveStart struct {
	Snapshot XactSnapshot
	// Unfinished holds the events of the calls not done, in stream order
	// (so that a board loading them sees what one following the stream
	// saw, down to which of an agent's two calls came last).
	Unfinished []LiveEvent
	States     []LastState
	// ByNumber and ByTeam count the inbound calls started since the
	// start of the day (in each company's time zone) of now.
	ByNumber, ByTeam []DayCount
}

// Cursor is where a reader of the stream goes on from: every event before
// it is in the snapshot; after it, those of transactions the snapshot saw
// (Snapshot.Sees) are in it too.
func (l LiveStart) Cursor() events.Cursor { return events.Cursor{XID: l.Snapshot.Xmin} }

// LiveStart reads the live view's starting state in one read-only
// snapshot. pairs are the pairs of kinds that tell users' states (as for
// LastStates).
func (s *Store) LiveStart(ctx context.Context, now time.Time, pairs [][2]events.Kind) (LiveStart, error) {
	var out LiveStart
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return out, fmt.Errorf("live start: %w", err)
	}
	defer tx.Rollback()
	// The first statement takes the transaction's snapshot: every read
	// below sees the same transactions as this one.
	var snap string
	if err := tx.QueryRowContext(ctx, "SELECT pg_current_snapshot()::text").Scan(&snap); err != nil {
		return out, fmt.Errorf("live start: snapshot: %w", err)
	}
	if out.Snapshot, err = ParseXactSnapshot(snap); err != nil {
		return out, fmt.Errorf("live start: %w", err)
	}
	out.Unfinished, err = scanStream(ctx, tx, streamSelect+`
		WHERE e.call_id IN (SELECT id FROM calls WHERE status <> 'done')
		ORDER BY e.xid, e.id`)
	if err != nil {
		return out, fmt.Errorf("live start: unfinished calls: %w", err)
	}
	if out.States, err = lastStates(ctx, tx, pairs); err != nil {
		return out, fmt.Errorf("live start: %w", err)
	}
	if out.ByNumber, err = dayCounts(ctx, tx, now, false); err != nil {
		return out, fmt.Errorf("live start: %w", err)
	}
	if out.ByTeam, err = dayCounts(ctx, tx, now, true); err != nil {
		return out, fmt.Errorf("live start: %w", err)
	}
	return out, nil
}

// dayCounts counts the decided inbound calls started since the start of
// now's day in their company's time zone, by number or by team.
func dayCounts(ctx context.Context, q sqlx.QueryerContext, now time.Time, byTeam bool) ([]DayCount, error) {
	key, from := "coalesce(c.number_id, 0) AS number_id, 0::bigint AS team_id", ""
	if byTeam {
		key, from = "0::bigint AS number_id, ct.team_id", " JOIN call_teams ct ON ct.call_id = c.id"
	}
	query := `WITH day AS (
		SELECT id, sla_seconds, (date_trunc('day', $1::timestamptz AT TIME ZONE time_zone) AT TIME ZONE time_zone) AS start
		FROM companies),
	decided AS (
		SELECT c.id, c.company_id, c.number_id, c.answered_at IS NOT NULL AS answered,
			coalesce(c.missed_call_reason, '') NOT IN ('out_of_opening_hours', 'short_abandoned') AS offered,
			c.answered_at IS NOT NULL AND c.answered_at - c.started_at
				<= make_interval(secs => coalesce(n.sla_seconds, d.sla_seconds)) AS within,
			c.answered_at IS NULL AND EXISTS (
				SELECT 1 FROM events v WHERE v.call_id = c.id AND v.event = 'call.voicemail_left') AS voicemail
		FROM calls c JOIN day d ON d.id = c.company_id LEFT JOIN numbers n ON n.id = c.number_id
		WHERE c.direction = 'inbound' AND c.started_at >= d.start AND c.started_at <= $1
			AND (c.answered_at IS NOT NULL OR c.status = 'done')
			AND c.missed_call_reason IS DISTINCT FROM 'blocked')
	SELECT c.company_id, ` + key + `, count(*), count(*) FILTER (WHERE offered), count(*) FILTER (WHERE answered),
		count(*) FILTER (WHERE offered AND within), count(*) FILTER (WHERE NOT answered),
		count(*) FILTER (WHERE voicemail)
	FROM decided c` + from + ` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`
	rows, err := q.QueryContext(ctx, query, now)
	if err != nil {
		return nil, fmt.Errorf("day counts: %w", err)
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var d DayCount
		if err := rows.Scan(&d.Company, &d.Number, &d.Team, &d.Inbound, &d.Offered, &d.Answered, &d.WithinSLA,
			&d.Missed, &d.Voicemail); err != nil {
			return nil, fmt.Errorf("day counts: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// LiveCompany is what the live view needs of a company: its day (time
// zone) and its service level.
type LiveCompany struct {
	ID         dialplan.CompanyID
	TimeZone   string
	SLASeconds int
}

// LiveDirectory is every company's configuration as the live view shows
// it: users' names, teams and their members, numbers and who they ring.
type LiveDirectory struct {
	Companies []LiveCompany
	Users     map[dialplan.CompanyID][]dialplan.User
	Teams     map[dialplan.CompanyID][]dialplan.Team
	Numbers   map[dialplan.CompanyID][]dialplan.Number
}

// LiveDirectory reads every company's LiveDirectory.
func (s *Store) LiveDirectory(ctx context.Context) (LiveDirectory, error) {
	var (
		d   LiveDirectory
		err error
	)
	var companies []struct {
		ID       dialplan.CompanyID `db:"id"`
		TimeZone string             `db:"time_zone"`
		SLA      int                `db:"sla_seconds"`
	}
	if err := s.db.SelectContext(ctx, &companies, "SELECT id, time_zone, sla_seconds FROM companies ORDER BY id"); err != nil {
		return d, fmt.Errorf("live directory: companies: %w", err)
	}
	for _, c := range companies {
		d.Companies = append(d.Companies, LiveCompany{ID: c.ID, TimeZone: c.TimeZone, SLASeconds: c.SLA})
	}
	if d.Users, err = s.AllUsers(ctx); err != nil {
		return d, fmt.Errorf("live directory: %w", err)
	}
	if d.Numbers, err = s.AllNumbers(ctx); err != nil {
		return d, fmt.Errorf("live directory: %w", err)
	}
	owners, err := s.owners(ctx, "teams")
	if err != nil {
		return d, fmt.Errorf("live directory: %w", err)
	}
	teams, err := queryTeams(ctx, s.db, "SELECT "+teamColumns+" FROM teams ORDER BY id")
	if err != nil {
		return d, fmt.Errorf("live directory: %w", err)
	}
	d.Teams = map[dialplan.CompanyID][]dialplan.Team{}
	for _, t := range teams {
		if c, ok := owners[int64(t.ID)]; ok {
			d.Teams[c] = append(d.Teams[c], t)
		}
	}
	return d, nil
}

// StreamTouched is what a part of one company's stream is about: a
// reader that comes back from further than it remembers gets the current
// state of these calls rather than every event.
type StreamTouched struct {
	Events int                      // events in the part
	Calls  map[dialplan.CallID]bool // the calls, and whether they ended in it
}

// ErrTooFar is returned by StreamTouched when the part holds more than
// its limit of events.
var ErrTooFar = errors.New("too far back in the stream")

// StreamTouched reads what the company's events in (after, upto] are
// about; more than limit events is ErrTooFar.
func (s *Store) StreamTouched(ctx context.Context, company dialplan.CompanyID, after, upto events.Cursor, limit int) (StreamTouched, error) {
	out := StreamTouched{Calls: map[dialplan.CallID]bool{}}
	rows, err := s.db.QueryContext(ctx, `SELECT coalesce(call_id, 0), event FROM events
		WHERE (xid, id) > ($2::text::xid8, $3::bigint) AND (xid, id) <= ($4::text::xid8, $5::bigint) AND company_id = $1
		ORDER BY xid, id LIMIT $6`, company, strconv.FormatUint(after.XID, 10), after.ID,
		strconv.FormatUint(upto.XID, 10), upto.ID, limit+1)
	if err != nil {
		return out, fmt.Errorf("stream touched: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			call dialplan.CallID
			kind events.Kind
		)
		if err := rows.Scan(&call, &kind); err != nil {
			return out, fmt.Errorf("stream touched: %w", err)
		}
		out.Events++
		if out.Events > limit {
			return out, fmt.Errorf("stream touched: %w", ErrTooFar)
		}
		if call != 0 {
			out.Calls[call] = out.Calls[call] || kind == events.CallEnded
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("stream touched: %w", err)
	}
	return out, nil
}
