package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

var _ dialplan.CallLog = (*Store)(nil)

// CallRecord is a call as the API shows it: the engine's record and what
// users added to it, with the names of what it points at.
type CallRecord struct {
	dialplan.Call
	TeamRefs   []CallTeam // Call.Teams, in the same order
	AssignedTo dialplan.UserID
	Archived   bool
	// WaitingSeconds and TalkSeconds are as saved: nil while not known.
	WaitingSeconds, TalkSeconds *int
	Tags                        []CallTag
	Comments                    []CallComment // oldest first
	// Timeline is read by Call only (oldest first); lists leave it nil.
	Timeline []dialplan.TimelineEvent
}

// CallTeam is a team a call went through.
type CallTeam struct {
	ID        dialplan.TeamID
	Name      string
	CreatedAt time.Time
}

// CallTag is a tag put on a call, by a user (0: by the call itself, a
// system tag, or by a user since deleted) at a time.
type CallTag struct {
	ID   dialplan.TagID
	Name string
	By   dialplan.UserID
	At   time.Time
}

// CallComment is a user's note on a call.
type CallComment struct {
	ID       dialplan.CommentID
	User     dialplan.UserID // 0 once the user is deleted
	Content  string
	PostedAt time.Time
}

// CallFilter selects calls. Page's From and To apply to started_at, and
// calls come in started_at order.
type CallFilter struct {
	Page         Page
	Direction    dialplan.Direction    // "" for any
	Status       dialplan.CallStatus   // "" for any
	NumberID     dialplan.NumberID     // 0 for any
	UserID       dialplan.UserID       // who answered; 0 for any
	MissedReason dialplan.MissedReason // "" for any
	TagID        dialplan.TagID        // a tag the call carries; 0 for any
	Phone        string                // the other party's number (raw_digits), E.164; "" for any
	// ContactEmail keeps the calls with a phone number of the company's
	// contacts that have this email (lower-cased); "" for any.
	ContactEmail string
	// VisibleTo, when set, keeps only the calls this user answered or is
	// assigned: what an agent may see.
	VisibleTo dialplan.UserID
}

// where is the filter's condition on calls c, company $1; args continue
// from there.
func (f CallFilter) where(args []any) (string, []any) {
	clause := "c.company_id = $1"
	add := func(cond string, v any) {
		args = append(args, v)
		clause += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Page.From != nil {
		add("c.started_at >= $%d", *f.Page.From)
	}
	if f.Page.To != nil {
		add("c.started_at <= $%d", *f.Page.To)
	}
	if f.Direction != "" {
		add("c.direction = $%d", f.Direction)
	}
	if f.Status != "" {
		add("c.status = $%d", f.Status)
	}
	if f.NumberID != 0 {
		add("c.number_id = $%d", f.NumberID)
	}
	if f.UserID != 0 {
		add("c.user_id = $%d", f.UserID)
	}
	if f.MissedReason != "" {
		add("c.missed_call_reason = $%d", f.MissedReason)
	}
	if f.Phone != "" {
		add("c.raw_digits = $%d", f.Phone)
	}
	if f.TagID != 0 {
		add("EXISTS (SELECT 1 FROM call_tags t WHERE t.call_id = c.id AND t.tag_id = $%d)", f.TagID)
	}
	if f.ContactEmail != "" {
		add(`c.raw_digits IN (SELECT p.e164 FROM contact_emails e
			JOIN contact_phone_numbers p ON p.company_id = e.company_id AND p.contact_id = e.contact_id
			WHERE e.company_id = c.company_id AND e.email = $%d)`, f.ContactEmail)
	}
	if f.VisibleTo != 0 {
		args = append(args, f.VisibleTo)
		clause += fmt.Sprintf(" AND (c.user_id = $%[1]d OR c.assigned_to = $%[1]d)", len(args))
	}
	return clause, args
}

// SaveCall writes a call's current state, its new timeline events (in
// order) and its new inbox tasks, all or nothing. A call whose ID is 0 is
// created and gets its ID; any other is updated whole, and its teams
// replaced.
//
// It runs several times in every call's life, so it is one SQL statement
// (data-modifying CTEs, one implicit transaction): a single round trip of
// a statement prepared once per connection.
func (s *Store) SaveCall(ctx context.Context, c *dialplan.Call, events []dialplan.TimelineEvent, tasks []dialplan.TaskKind) error {
	return s.saveCall(ctx, nil, c.ID == 0, c, events, tasks)
}

// InsertCall writes a call's first save under the id it already has (one
// ReserveCallIDs gave).
func (s *Store) InsertCall(ctx context.Context, c *dialplan.Call, events []dialplan.TimelineEvent, tasks []dialplan.TaskKind) error {
	return s.saveCall(ctx, nil, true, c, events, tasks)
}

// ReserveCallIDs takes n call ids from the sequence, for calls to save
// later (InsertCall): a call begun while PostgreSQL is down needs its id
// at once. Ids reserved and never used are gaps, as a rolled-back insert
// leaves.
func (s *Store) ReserveCallIDs(ctx context.Context, n int) ([]dialplan.CallID, error) {
	var ids []dialplan.CallID
	if err := s.db.SelectContext(ctx, &ids, "SELECT nextval('calls_id_seq') FROM generate_series(1, $1)", n); err != nil {
		return nil, fmt.Errorf("reserve call ids: %w", err)
	}
	return ids, nil
}

// saveCall runs SaveCall's statement, in tx when one is given.
func (s *Store) saveCall(ctx context.Context, tx *sqlx.Tx, insert bool, c *dialplan.Call, events []dialplan.TimelineEvent, tasks []dialplan.TaskKind) error {
	stmt, err := s.saveCallStmt(ctx, insert)
	if err != nil {
		return fmt.Errorf("save call %d: %w", c.ID, err)
	}
	if tx != nil {
		stmt = tx.StmtContext(ctx, stmt)
	}
	args, err := saveCallArgs(c, events, tasks)
	if err != nil {
		return fmt.Errorf("save call %d: %w", c.ID, err)
	}
	var id dialplan.CallID
	if err := stmt.QueryRowContext(ctx, args...).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("save call %d: %w", c.ID, ErrNotFound)
		}
		return fmt.Errorf("save call %d: %w", c.ID, err)
	}
	c.ID = id
	return nil
}

// The two forms of SaveCall's statement share their arguments: $1 company,
// $2 id (on insert, 0 for the next of the sequence), $3.. the call's columns, $20 teams, $21 events (a
// JSON array, eventsArg), $22 task kinds, $23 the names of the system tags
// the events put on the call (dialplan.EventTags).
const (
	saveCallInsert = `WITH c AS (
	INSERT INTO calls (id, company_id, number_id, user_id, direction, status, raw_digits, started_at, answered_at,
		ended_at, waiting_time, talk_time, missed_call_reason, hangup_cause, ivr_options_selected, transferred_to,
		recording, voicemail, media_ref)
	SELECT coalesce(nullif($2::bigint, 0), nextval('calls_id_seq')), $1, nullif($3::bigint, 0), nullif($4::bigint, 0),
		$5, $6, $7, $8, $9, $10, $11, $12, nullif($13::text, ''), nullif($14::text, ''), $15, $16, nullif($17::text, ''),
		nullif($18::text, ''), nullif($19::text, '')
	RETURNING ` + savedColumns + `)`
	saveCallUpdate = `WITH c AS (
	UPDATE calls SET number_id = nullif($3::bigint, 0), user_id = nullif($4::bigint, 0), direction = $5, status = $6,
		raw_digits = $7, started_at = $8, answered_at = $9, ended_at = $10, waiting_time = $11, talk_time = $12,
		missed_call_reason = nullif($13::text, ''), hangup_cause = nullif($14::text, ''), ivr_options_selected = $15,
		transferred_to = $16, recording = nullif($17::text, ''), voicemail = nullif($18::text, ''),
		media_ref = nullif($19::text, '')
	WHERE company_id = $1 AND id = $2
	RETURNING ` + savedColumns + `)`
	// On update, the teams no longer listed go and the others are
	// inserted or moved: the two touch different rows, as they must within
	// one statement.
	saveCallTeamsUpdate = `,
gone AS (
	DELETE FROM call_teams t USING c WHERE t.call_id = c.id AND t.team_id <> ALL ($20::bigint[])),
teams AS (
	INSERT INTO call_teams (company_id, call_id, team_id, position)
	SELECT c.company_id, c.id, t.team, t.ord FROM c, unnest($20::bigint[]) WITH ORDINALITY AS t (team, ord)
	ON CONFLICT (call_id, team_id) DO UPDATE SET position = excluded.position
		WHERE call_teams.position <> excluded.position)`
	saveCallTeamsInsert = `,
teams AS (
	INSERT INTO call_teams (company_id, call_id, team_id, position)
	SELECT c.company_id, c.id, t.team, t.ord FROM c, unnest($20::bigint[]) WITH ORDINALITY AS t (team, ord))`
	saveCallTasks = `,
tasks AS (
	INSERT INTO inbox_tasks (company_id, call_id, kind, number_id)
	SELECT c.company_id, c.id, k.kind, c.number_id FROM c, unnest($22::text[]) WITH ORDINALITY AS k (kind, ord)
	ORDER BY k.ord),
system_tags AS (
	INSERT INTO call_tags (company_id, call_id, tag_id)
	SELECT c.company_id, c.id, t.id FROM c JOIN tags t ON t.company_id = c.company_id AND t.system AND t.name = ANY ($23::text[])
	ON CONFLICT DO NOTHING)
SELECT id FROM c`
)

// saveCallEvents writes the call's events into the stream, the one way
// events are written.
var saveCallEvents = ",\n" + eventsCTE("$21", "c.company_id", "c.id", "c,")

// savedColumns are what SaveCall's statement reads back of the call it
// wrote, for the rows that go with it.
const savedColumns = `id, company_id, number_id, user_id, direction, status, started_at, answered_at, ended_at,
	waiting_time, talk_time, missed_call_reason, voicemail`

// saveCallStmt prepares SaveCall's statement once; database/sql prepares
// it again on each connection that runs it.
func (s *Store) saveCallStmt(ctx context.Context, insert bool) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	slot, query := &s.saveUpdate, saveCallUpdate+saveCallTeamsUpdate+saveCallEvents+saveCallStats+saveCallTasks
	if insert {
		slot, query = &s.saveInsert, saveCallInsert+saveCallTeamsInsert+saveCallEvents+saveCallStats+saveCallTasks
	}
	if *slot == nil {
		stmt, err := s.db.PrepareContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*slot = stmt
	}
	return *slot, nil
}

func saveCallArgs(c *dialplan.Call, evs []dialplan.TimelineEvent, tasks []dialplan.TaskKind) ([]any, error) {
	if c.Company == 0 {
		return nil, errors.New("the call has no company")
	}
	var transfer any // NULL
	if c.TransferredTo != nil {
		b, err := json.Marshal(c.TransferredTo)
		if err != nil {
			return nil, fmt.Errorf("transferred to: %w", err)
		}
		transfer = string(b)
	}
	timeline := make([]Event, len(evs))
	for i, e := range evs {
		timeline[i] = Event{Kind: e.Event, At: e.At, User: e.User, Data: e.Data}
	}
	eventsJSON, err := eventsArg(timeline)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	teams := make([]int64, 0, len(c.Teams))
	for _, t := range c.Teams {
		if !slices.Contains(teams, int64(t)) {
			teams = append(teams, int64(t))
		}
	}
	var tags []string // the system tags the events put on the call
	for _, e := range evs {
		if tag, ok := dialplan.EventTags[e.Event]; ok && !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	kinds := make([]string, len(tasks))
	for i, k := range tasks {
		kinds[i] = string(k)
	}
	ivr := c.IVROptions
	if ivr == nil {
		ivr = []string{}
	}
	waiting, talk := callSeconds(*c)
	return []any{c.Company, c.ID, c.Number, c.User, c.Direction, c.Status, c.RawDigits, c.StartedAt, c.AnsweredAt,
		c.EndedAt, waiting, talk, c.MissedReason, c.HangupCause, pq.Array(ivr), transfer, c.Recording, c.Voicemail,
		c.MediaRef, pq.Array(teams), string(eventsJSON), pq.Array(kinds), pq.Array(tags)}, nil
}

// callSeconds gives the waiting and talk times in whole seconds, nil while
// not known: the wait is known once the call is answered or over; the talk
// time once it is over (0 when nobody answered).
func callSeconds(c dialplan.Call) (waiting, talk *int64) {
	if c.AnsweredAt != nil || c.EndedAt != nil {
		w := int64(c.WaitingTime() / time.Second)
		waiting = &w
	}
	if c.EndedAt != nil {
		t := int64(c.TalkTime() / time.Second)
		talk = &t
	}
	return waiting, talk
}

// callSelect reads calls c with their teams, tags and comments (as JSON
// arrays: one query however many calls, one round trip); scanCall reads
// its rows. The users and number a call names are the API's to read.
const callSelect = `SELECT c.id, c.company_id, coalesce(c.number_id, 0), c.direction, c.status, c.raw_digits,
	c.started_at, c.answered_at, c.ended_at, coalesce(c.user_id, 0), coalesce(c.missed_call_reason, ''),
	coalesce(c.hangup_cause, ''), c.ivr_options_selected, c.transferred_to, coalesce(c.recording, ''),
	coalesce(c.voicemail, ''), coalesce(c.media_ref, ''), c.waiting_time, c.talk_time, c.archived,
	coalesce(c.assigned_to, 0),
	(SELECT coalesce(json_agg(json_build_object('id', ct.team_id, 'name', t.name, 'created_at', t.created_at)
		ORDER BY ct.position), '[]')
		FROM call_teams ct JOIN teams t ON t.id = ct.team_id WHERE ct.call_id = c.id),
	(SELECT coalesce(json_agg(json_build_object('id', ct.tag_id, 'name', t.name, 'tagged_by', coalesce(ct.tagged_by, 0),
		'tagged_at', ct.created_at) ORDER BY ct.created_at, ct.tag_id), '[]')
		FROM call_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.call_id = c.id),
	(SELECT coalesce(json_agg(json_build_object('id', cm.id, 'user_id', coalesce(cm.user_id, 0), 'content', cm.content,
		'created_at', cm.created_at) ORDER BY cm.id), '[]')
		FROM call_comments cm WHERE cm.call_id = c.id)
	FROM calls c`

func scanCall(row rowScanner) (CallRecord, error) {
	var (
		r             CallRecord
		c             = &r.Call
		answered, end sql.NullTime
		ivr           pq.StringArray
		transfer      []byte
		waiting, talk sql.NullInt64

		teams, tags, comments []byte
	)
	err := row.Scan(&c.ID, &c.Company, &c.Number, &c.Direction, &c.Status, &c.RawDigits, &c.StartedAt, &answered, &end,
		&c.User, &c.MissedReason, &c.HangupCause, &ivr, &transfer, &c.Recording, &c.Voicemail, &c.MediaRef,
		&waiting, &talk, &r.Archived, &r.AssignedTo, &teams, &tags, &comments)
	if err != nil {
		return r, err
	}
	c.StartedAt = c.StartedAt.UTC()
	c.AnsweredAt, c.EndedAt = utcTime(answered), utcTime(end)
	c.IVROptions = []string(ivr)
	if transfer != nil {
		c.TransferredTo = new(dialplan.Transfer)
		if err := json.Unmarshal(transfer, c.TransferredTo); err != nil {
			return r, fmt.Errorf("call %d transferred to: %w", c.ID, err)
		}
	}
	if waiting.Valid {
		w := int(waiting.Int64)
		r.WaitingSeconds = &w
	}
	if talk.Valid {
		t := int(talk.Int64)
		r.TalkSeconds = &t
	}
	c.Teams, r.TeamRefs, r.Tags, r.Comments = []dialplan.TeamID{}, []CallTeam{}, []CallTag{}, []CallComment{}
	var (
		teamRows []struct {
			ID        dialplan.TeamID `json:"id"`
			Name      string          `json:"name"`
			CreatedAt time.Time       `json:"created_at"`
		}
		tagRows []struct {
			ID       dialplan.TagID  `json:"id"`
			Name     string          `json:"name"`
			TaggedBy dialplan.UserID `json:"tagged_by"`
			TaggedAt time.Time       `json:"tagged_at"`
		}
		commentRows []struct {
			ID        dialplan.CommentID `json:"id"`
			User      dialplan.UserID    `json:"user_id"`
			Content   string             `json:"content"`
			CreatedAt time.Time          `json:"created_at"`
		}
	)
	if err := errors.Join(json.Unmarshal(teams, &teamRows), json.Unmarshal(tags, &tagRows),
		json.Unmarshal(comments, &commentRows)); err != nil {
		return r, fmt.Errorf("call %d: %w", c.ID, err)
	}
	for _, t := range teamRows {
		c.Teams = append(c.Teams, t.ID)
		r.TeamRefs = append(r.TeamRefs, CallTeam{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt.UTC()})
	}
	for _, t := range tagRows {
		r.Tags = append(r.Tags, CallTag{ID: t.ID, Name: t.Name, By: t.TaggedBy, At: t.TaggedAt.UTC()})
	}
	for _, cm := range commentRows {
		r.Comments = append(r.Comments, CallComment{ID: cm.ID, User: cm.User, Content: cm.Content, PostedAt: cm.CreatedAt.UTC()})
	}
	return r, nil
}

// queryCalls runs a callSelect query.
func queryCalls(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]CallRecord, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	defer rows.Close()
	calls := []CallRecord{}
	for rows.Next() {
		r, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("calls: %w", err)
		}
		calls = append(calls, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	return calls, nil
}

// Calls lists a page of the company's calls that match the filter, and
// how many match in all.
func (s *Store) Calls(ctx context.Context, company dialplan.CompanyID, f CallFilter) ([]CallRecord, int, error) {
	where, args := f.where([]any{company})
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT count(*) FROM calls c WHERE "+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count calls: %w", err)
	}
	order := "ASC"
	if f.Page.Desc {
		order = "DESC"
	}
	tail := fmt.Sprintf(" ORDER BY c.started_at %[1]s, c.id %[1]s LIMIT %[2]d OFFSET %[3]d",
		order, f.Page.PerPage, (f.Page.Page-1)*f.Page.PerPage)
	calls, err := queryCalls(ctx, s.db, callSelect+" WHERE "+where+tail, args...)
	return calls, total, err
}

// CallsByID reads calls by id, of any company, without their timelines:
// the caller checks each one's Company. Ids not found are left out.
func (s *Store) CallsByID(ctx context.Context, ids []dialplan.CallID) (map[dialplan.CallID]CallRecord, error) {
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	calls, err := queryCalls(ctx, s.db, callSelect+" WHERE c.id = ANY($1)", pq.Array(raw))
	if err != nil {
		return nil, err
	}
	out := make(map[dialplan.CallID]CallRecord, len(calls))
	for _, r := range calls {
		out[r.ID] = r
	}
	return out, nil
}

// Call reads one call of the company with its timeline.
// CallAccess is what decides who may act on a call and whether it is in
// progress: its status, who answered it and whom it is assigned to.
type CallAccess struct {
	ID         dialplan.CallID
	Status     dialplan.CallStatus
	User       dialplan.UserID
	AssignedTo dialplan.UserID
}

// CallAccess reads a call of the company's access in one short query: an
// action on a call in progress reads no more before the media server acts.
func (s *Store) CallAccess(ctx context.Context, company dialplan.CompanyID, id dialplan.CallID) (CallAccess, error) {
	a := CallAccess{ID: id}
	err := s.db.QueryRowContext(ctx, `SELECT status, coalesce(user_id, 0), coalesce(assigned_to, 0) FROM calls
		WHERE company_id = $1 AND id = $2`, company, id).Scan(&a.Status, &a.User, &a.AssignedTo)
	return a, notFound(err, "call", int64(id))
}

func (s *Store) Call(ctx context.Context, company dialplan.CompanyID, id dialplan.CallID) (CallRecord, error) {
	calls, err := queryCalls(ctx, s.db, callSelect+" WHERE c.company_id = $1 AND c.id = $2", company, id)
	if err != nil {
		return CallRecord{}, err
	}
	if len(calls) == 0 {
		return CallRecord{}, fmt.Errorf("call %d: %w", id, ErrNotFound)
	}
	r := calls[0]
	timelines, err := s.Timelines(ctx, company, []dialplan.CallID{id})
	r.Timeline = timelines[id]
	return r, err
}

// Timelines reads the timelines of the company's listed calls, oldest
// event first: every call listed has one, empty when it has no event.
func (s *Store) Timelines(ctx context.Context, company dialplan.CompanyID, ids []dialplan.CallID) (map[dialplan.CallID][]dialplan.TimelineEvent, error) {
	return s.timelines(ctx, ids, "company_id = $2", company)
}

// timelines reads the events of the calls ids (and where, on $2 on), in
// order, each call's list empty rather than missing.
func (s *Store) timelines(ctx context.Context, ids []dialplan.CallID, where string, args ...any) (map[dialplan.CallID][]dialplan.TimelineEvent, error) {
	out := make(map[dialplan.CallID][]dialplan.TimelineEvent, len(ids))
	for _, id := range ids {
		out[id] = []dialplan.TimelineEvent{}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT call_id, event, at, coalesce(user_id, 0), data FROM events
		WHERE call_id = ANY($1) AND `+where+` ORDER BY call_id, id`, append([]any{pq.Array(ids)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("call timelines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   dialplan.CallID
			e    dialplan.TimelineEvent
			data []byte
		)
		if err := rows.Scan(&id, &e.Event, &e.At, &e.User, &data); err != nil {
			return nil, fmt.Errorf("call timelines: %w", err)
		}
		e.At = e.At.UTC()
		if e.Data, err = events.Decode(e.Event, data); err != nil {
			return nil, fmt.Errorf("call %d timeline: %w", id, err)
		}
		out[id] = append(out[id], e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("call timelines: %w", err)
	}
	return out, nil
}

// CallsToSettle lists the calls of every company that are not done, for the
// media drivers to settle after a restart.
func (s *Store) CallsToSettle(ctx context.Context) ([]dialplan.Unfinished, error) {
	records, err := queryCalls(ctx, s.db, callSelect+" WHERE c.status <> 'done' ORDER BY c.id")
	if err != nil {
		return nil, fmt.Errorf("calls to settle: %w", err)
	}
	ids := make([]dialplan.CallID, len(records))
	for i, r := range records {
		ids[i] = r.ID
	}
	timelines, err := s.timelines(ctx, ids, "true")
	if err != nil {
		return nil, fmt.Errorf("calls to settle: %w", err)
	}
	calls := make([]dialplan.Unfinished, len(records))
	for i, r := range records {
		calls[i] = dialplan.Unfinished{Call: r.Call, Timeline: timelines[r.ID]}
	}
	return calls, nil
}

// lockCall checks that the call is the company's and locks it until the
// transaction ends.
func lockCall(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, id dialplan.CallID) error {
	var found int64
	err := tx.GetContext(ctx, &found, "SELECT id FROM calls WHERE company_id = $1 AND id = $2 FOR UPDATE", company, id)
	return notFound(err, "call", int64(id))
}

// addEvent writes one event of the call, stamped now, done by a user, and
// brings the call's stats row up to date with what the event changed.
func addEvent(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, call dialplan.CallID, kind events.Kind, by dialplan.UserID, data any) error {
	if err := publish(ctx, tx, company, Event{Kind: kind, Call: call, User: by, Data: data}); err != nil {
		return err
	}
	switch kind {
	case events.CallTagged, events.CallUntagged:
		return refreshTags(ctx, tx, call)
	case events.CallAssigned, events.CallArchived:
		return refreshInbox(ctx, tx, company, call)
	}
	return nil
}

// TagCall puts tags on a call (those it has already stay) and notes it in
// the timeline. Every tag must be the company's: a FieldError naming
// tags[i] otherwise.
func (s *Store) TagCall(ctx context.Context, company dialplan.CompanyID, call dialplan.CallID, by dialplan.UserID, tags []dialplan.TagID) error {
	ids := make([]int64, 0, len(tags))
	for _, t := range tags {
		if !slices.Contains(ids, int64(t)) {
			ids = append(ids, int64(t))
		}
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockCall(ctx, tx, company, call); err != nil {
			return err
		}
		var known []int64
		if err := tx.SelectContext(ctx, &known, "SELECT id FROM tags WHERE company_id = $1 AND id = ANY($2)", company, pq.Array(ids)); err != nil {
			return fmt.Errorf("check tags: %w", err)
		}
		for i, t := range tags {
			if !slices.Contains(known, int64(t)) {
				return &dialplan.FieldError{Field: fmt.Sprintf("tags[%d]", i), Problem: fmt.Sprintf("no tag %d in this company", t)}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO call_tags (company_id, call_id, tag_id, tagged_by)
			SELECT $1, $2, t, nullif($4::bigint, 0) FROM unnest($3::bigint[]) AS t
			ON CONFLICT (call_id, tag_id) DO NOTHING`, company, call, pq.Array(ids), by); err != nil {
			return fmt.Errorf("tag call %d: %w", call, err)
		}
		return addEvent(ctx, tx, company, call, events.CallTagged, by, events.Tagged{Tags: ids})
	})
}

// UntagCall takes a tag off a call and notes it in the timeline; a tag
// the call does not carry is ErrNotFound.
func (s *Store) UntagCall(ctx context.Context, company dialplan.CompanyID, call dialplan.CallID, by dialplan.UserID, tag dialplan.TagID) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockCall(ctx, tx, company, call); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM call_tags WHERE company_id = $1 AND call_id = $2 AND tag_id = $3", company, call, tag)
		if err != nil {
			return fmt.Errorf("untag call %d: %w", call, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("tag %d on call %d: %w", tag, call, ErrNotFound)
		}
		return addEvent(ctx, tx, company, call, events.CallUntagged, by, events.Tagged{Tags: []int64{int64(tag)}})
	})
}

// AssignCall assigns a call to a user of the company and notes it in the
// timeline: a FieldError naming user_id for another company's user.
func (s *Store) AssignCall(ctx context.Context, company dialplan.CompanyID, call dialplan.CallID, by, to dialplan.UserID) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockCall(ctx, tx, company, call); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE calls SET assigned_to = $3 WHERE company_id = $1 AND id = $2
			AND EXISTS (SELECT 1 FROM users WHERE company_id = $1 AND id = $3)`, company, call, to)
		if err != nil {
			return fmt.Errorf("assign call %d: %w", call, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &dialplan.FieldError{Field: "user_id", Problem: fmt.Sprintf("no user %d in this company", to)}
		}
		return addEvent(ctx, tx, company, call, events.CallAssigned, by, events.Assigned{UserID: int64(to)})
	})
}

// ForgetRecording notes that the call's recording (or, with voicemail,
// its voicemail) was deleted from the media server: the call has none any
// more, and its timeline says so (with the name it had). A call without
// one is ErrNotFound.
func (s *Store) ForgetRecording(ctx context.Context, company dialplan.CompanyID, call dialplan.CallID, by dialplan.UserID, voicemail bool) error {
	column, kind := "recording", events.CallRecordingDeleted
	if voicemail {
		column, kind = "voicemail", events.CallVoicemailDeleted
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var name sql.NullString
		err := tx.GetContext(ctx, &name, "SELECT "+column+" FROM calls WHERE company_id = $1 AND id = $2 FOR UPDATE", company, call)
		if err != nil {
			return notFound(err, "call", int64(call))
		}
		if !name.Valid {
			return fmt.Errorf("the %s of call %d: %w", column, call, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE calls SET "+column+" = NULL WHERE company_id = $1 AND id = $2", company, call); err != nil {
			return fmt.Errorf("forget the %s of call %d: %w", column, call, err)
		}
		return addEvent(ctx, tx, company, call, kind, by, events.Recording{Name: name.String})
	})
}

// CommentCall adds a user's comment to a call and notes it in the timeline.
func (s *Store) CommentCall(ctx context.Context, company dialplan.CompanyID, call dialplan.CallID, by dialplan.UserID, content string) (dialplan.CommentID, error) {
	var id dialplan.CommentID
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockCall(ctx, tx, company, call); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &id, `INSERT INTO call_comments (company_id, call_id, user_id, content)
			VALUES ($1, $2, nullif($3::bigint, 0), $4) RETURNING id`, company, call, by, content); err != nil {
			return fmt.Errorf("comment call %d: %w", call, err)
		}
		return addEvent(ctx, tx, company, call, events.CallCommented, by, events.Commented{CommentID: int64(id)})
	})
	return id, err
}

// ArchiveCall archives or unarchives a call; a change is noted in the
// timeline, a call already so is left as it is.
func (s *Store) ArchiveCall(ctx context.Context, company dialplan.CompanyID, call dialplan.CallID, by dialplan.UserID, archived bool) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var was bool
		err := tx.GetContext(ctx, &was, "SELECT archived FROM calls WHERE company_id = $1 AND id = $2 FOR UPDATE", company, call)
		if err != nil {
			return notFound(err, "call", int64(call))
		}
		if was == archived {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE calls SET archived = $3 WHERE company_id = $1 AND id = $2", company, call, archived); err != nil {
			return fmt.Errorf("archive call %d: %w", call, err)
		}
		event := events.CallArchived
		if !archived {
			event = events.CallUnarchived
		}
		return addEvent(ctx, tx, company, call, event, by, nil)
	})
}
