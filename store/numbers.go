package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

const numberColumns = `numbers.id, name, digits, country, time_zone, type, availability_status, business_hours,
	priority, respect_queuing_time, callback_request, mandatory_tagging, voicemail, music_on_hold,
	record_inbound, record_inbound_pause, record_outbound, record_outbound_pause, outbound_prefix, coalesce(sla_seconds, 0),
	max_call_seconds, numbers.created_at`

// queryNumbers runs a query returning numberColumns and reads each number's
// steps, IVR options, messages and outbound users.
func queryNumbers(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]dialplan.Number, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("numbers: %w", err)
	}
	defer rows.Close()
	numbers := []dialplan.Number{}
	index := map[dialplan.NumberID]int{}
	var ids []int64
	for rows.Next() {
		var (
			n     dialplan.Number
			hours []byte
			rec   = &n.Recording
		)
		if err := rows.Scan(&n.ID, &n.Name, &n.Digits, &n.Country, &n.TimeZone, &n.Type, &n.AvailabilityStatus, &hours,
			&n.Priority, &n.RespectQueuingTime, &n.CallbackRequest, &n.MandatoryTagging, &n.Voicemail, &n.MusicOnHold,
			&rec.Inbound.Auto, &rec.Inbound.AllowPause, &rec.Outbound.Auto, &rec.Outbound.AllowPause, &n.OutboundPrefix,
			&n.SLASeconds, &n.MaxCallSeconds, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("numbers: %w", err)
		}
		if err := json.Unmarshal(hours, &n.BusinessHours); err != nil {
			return nil, fmt.Errorf("number %d business hours: %w", n.ID, err)
		}
		n.Distribution, n.OutboundUsers, n.IVROptions, n.Messages =
			[]dialplan.Step{}, []dialplan.UserID{}, []dialplan.IVROption{}, dialplan.Messages{}
		index[n.ID] = len(numbers)
		ids = append(ids, int64(n.ID))
		numbers = append(numbers, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("numbers: %w", err)
	}
	if len(numbers) == 0 {
		return numbers, nil
	}
	at := func(id dialplan.NumberID) *dialplan.Number { return &numbers[index[id]] }

	var steps []struct {
		NumberID    dialplan.NumberID `db:"number_id"`
		UserID      sql.NullInt64     `db:"user_id"`
		TeamID      sql.NullInt64     `db:"team_id"`
		RingSeconds int               `db:"ring_seconds"`
	}
	if err := sqlx.SelectContext(ctx, q, &steps, `SELECT number_id, user_id, team_id, ring_seconds
		FROM number_steps WHERE number_id = ANY($1) ORDER BY number_id, position`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("number steps: %w", err)
	}
	for _, s := range steps {
		step := dialplan.Step{Type: dialplan.StepUser, ID: s.UserID.Int64, RingSeconds: s.RingSeconds}
		if s.TeamID.Valid {
			step = dialplan.Step{Type: dialplan.StepTeam, ID: s.TeamID.Int64, RingSeconds: s.RingSeconds}
		}
		n := at(s.NumberID)
		n.Distribution = append(n.Distribution, step)
	}

	var options []struct {
		NumberID dialplan.NumberID   `db:"number_id"`
		Key      string              `db:"key"`
		Type     dialplan.TargetType `db:"target_type"`
		ID       sql.NullInt64       `db:"id"`
		Digits   sql.NullString      `db:"digits"`
	}
	if err := sqlx.SelectContext(ctx, q, &options, `SELECT number_id, key, target_type,
		coalesce(user_id, team_id, target_number_id) AS id, digits
		FROM number_ivr_options WHERE number_id = ANY($1) ORDER BY number_id, key`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("number ivr options: %w", err)
	}
	for _, o := range options {
		n := at(o.NumberID)
		n.IVROptions = append(n.IVROptions, dialplan.IVROption{Key: o.Key,
			Target: dialplan.Target{Type: o.Type, ID: o.ID.Int64, Digits: o.Digits.String}})
	}

	var messages []struct {
		NumberID dialplan.NumberID    `db:"number_id"`
		Kind     dialplan.MessageKind `db:"kind"`
		Type     dialplan.MessageType `db:"type"`
		Text     sql.NullString       `db:"text"`
		Language sql.NullString       `db:"language"`
		Voice    sql.NullString       `db:"voice"`
		MediaID  sql.NullInt64        `db:"media_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &messages, `SELECT number_id, kind, type, text, language, voice, media_id
		FROM number_messages WHERE number_id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("number messages: %w", err)
	}
	for _, m := range messages {
		at(m.NumberID).Messages[m.Kind] = &dialplan.Message{Type: m.Type, Text: m.Text.String,
			Language: m.Language.String, Voice: m.Voice.String, MediaID: dialplan.MediaID(m.MediaID.Int64)}
	}

	var outbound []struct {
		NumberID dialplan.NumberID `db:"number_id"`
		UserID   dialplan.UserID   `db:"user_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &outbound, `SELECT number_id, user_id FROM number_outbound_users
		WHERE number_id = ANY($1) ORDER BY number_id, user_id`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("number outbound users: %w", err)
	}
	for _, o := range outbound {
		n := at(o.NumberID)
		n.OutboundUsers = append(n.OutboundUsers, o.UserID)
	}
	return numbers, nil
}

// Number reads one number of the company with all its configuration.
func (s *Store) Number(ctx context.Context, company dialplan.CompanyID, id dialplan.NumberID) (dialplan.Number, error) {
	numbers, err := queryNumbers(ctx, s.db, "SELECT "+numberColumns+" FROM numbers WHERE company_id = $1 AND id = $2", company, id)
	if err != nil {
		return dialplan.Number{}, err
	}
	if len(numbers) == 0 {
		return dialplan.Number{}, fmt.Errorf("number %d: %w", id, ErrNotFound)
	}
	return numbers[0], nil
}

// NumbersByID reads the listed numbers of the company, by id; unknown ids
// are left out.
func (s *Store) NumbersByID(ctx context.Context, company dialplan.CompanyID, ids []dialplan.NumberID) (map[dialplan.NumberID]dialplan.Number, error) {
	numbers, err := queryNumbers(ctx, s.db, "SELECT "+numberColumns+" FROM numbers WHERE company_id = $1 AND id = ANY($2)",
		company, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	out := make(map[dialplan.NumberID]dialplan.Number, len(numbers))
	for _, n := range numbers {
		out[n.ID] = n
	}
	return out, nil
}

// Line is a user's place on a number: the number rings them (in a ring
// step, alone or in a team) or lets them call out with it. These are a
// number's users, and a user's numbers, as Aircall shows them.
type Line struct {
	Number dialplan.NumberID `db:"number_id"`
	User   dialplan.UserID   `db:"user_id"`
}

// Lines reads the company's lines of the listed users, or of the listed
// numbers (nil for none of that side), ordered by number then user.
func (s *Store) Lines(ctx context.Context, company dialplan.CompanyID, users []dialplan.UserID, numbers []dialplan.NumberID) ([]Line, error) {
	var out []Line
	err := sqlx.SelectContext(ctx, s.db, &out, `WITH line AS (
		SELECT number_id, user_id FROM number_steps WHERE company_id = $1 AND user_id IS NOT NULL
		UNION SELECT s.number_id, m.user_id FROM number_steps s JOIN team_members m ON m.team_id = s.team_id WHERE s.company_id = $1
		UNION SELECT number_id, user_id FROM number_outbound_users WHERE company_id = $1)
	SELECT number_id, user_id FROM line WHERE user_id = ANY($2) OR number_id = ANY($3) ORDER BY number_id, user_id`,
		company, pq.Array(users), pq.Array(numbers))
	if err != nil {
		return nil, fmt.Errorf("lines: %w", err)
	}
	return out, nil
}

// NumberByDigits finds the number a call is made to, in any company: the
// media server knows only the dialled digits. This is the lookup of every
// inbound call (unique index on digits).
func (s *Store) NumberByDigits(ctx context.Context, digits string) (dialplan.CompanyID, dialplan.Number, error) {
	var company dialplan.CompanyID
	if err := s.db.GetContext(ctx, &company, "SELECT company_id FROM numbers WHERE digits = $1", digits); err != nil {
		if err == sql.ErrNoRows {
			return 0, dialplan.Number{}, fmt.Errorf("number %s: %w", digits, ErrNotFound)
		}
		return 0, dialplan.Number{}, fmt.Errorf("number %s: %w", digits, err)
	}
	numbers, err := queryNumbers(ctx, s.db, "SELECT "+numberColumns+" FROM numbers WHERE company_id = $1 AND digits = $2", company, digits)
	if err != nil || len(numbers) == 0 {
		return 0, dialplan.Number{}, fmt.Errorf("number %s: %w", digits, ErrNotFound)
	}
	return company, numbers[0], nil
}

// Numbers lists a page of the company's numbers.
func (s *Store) Numbers(ctx context.Context, company dialplan.CompanyID, p Page) ([]dialplan.Number, int, error) {
	where, args := p.where("numbers", []any{company})
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT count(*) FROM numbers WHERE "+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count numbers: %w", err)
	}
	numbers, err := queryNumbers(ctx, s.db, "SELECT "+numberColumns+" FROM numbers WHERE "+where+p.tail("numbers"), args...)
	return numbers, total, err
}

// CreateNumber adds a number with its whole configuration, and writes
// number.created.
func (s *Store) CreateNumber(ctx context.Context, company dialplan.CompanyID, n *dialplan.Number) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		hours, err := json.Marshal(n.BusinessHours)
		if err != nil {
			return fmt.Errorf("business hours: %w", err)
		}
		rec := n.Recording
		err = tx.QueryRowxContext(ctx, `INSERT INTO numbers (company_id, name, digits, country, time_zone, type,
			availability_status, business_hours, priority, respect_queuing_time, callback_request, mandatory_tagging,
			voicemail, music_on_hold, record_inbound, record_inbound_pause, record_outbound, record_outbound_pause,
			outbound_prefix, sla_seconds, max_call_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, nullif($20, 0), $21)
			RETURNING id, created_at`,
			company, n.Name, n.Digits, n.Country, n.TimeZone, n.Type, n.AvailabilityStatus, hours, n.Priority,
			n.RespectQueuingTime, n.CallbackRequest, n.MandatoryTagging, n.Voicemail, n.MusicOnHold,
			rec.Inbound.Auto, rec.Inbound.AllowPause, rec.Outbound.Auto, rec.Outbound.AllowPause, n.OutboundPrefix, n.SLASeconds,
			n.MaxCallSeconds).Scan(&n.ID, &n.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert number: %w", uniqueViolation(err))
		}
		if err := writeNumberParts(ctx, tx, company, n); err != nil {
			return err
		}
		return publish(ctx, tx, company, Event{Kind: events.NumberCreated, Number: n.ID})
	})
}

// UpdateNumber saves every field of an existing number.
func (s *Store) UpdateNumber(ctx context.Context, company dialplan.CompanyID, n *dialplan.Number) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		hours, err := json.Marshal(n.BusinessHours)
		if err != nil {
			return fmt.Errorf("business hours: %w", err)
		}
		rec := n.Recording
		res, err := tx.ExecContext(ctx, `UPDATE numbers SET name = $3, digits = $4, country = $5, time_zone = $6,
			type = $7, availability_status = $8, business_hours = $9, priority = $10, respect_queuing_time = $11,
			callback_request = $12, mandatory_tagging = $13, voicemail = $14, music_on_hold = $15,
			record_inbound = $16, record_inbound_pause = $17, record_outbound = $18, record_outbound_pause = $19,
			outbound_prefix = $20, sla_seconds = nullif($21, 0), max_call_seconds = $22
			WHERE company_id = $1 AND id = $2`,
			company, n.ID, n.Name, n.Digits, n.Country, n.TimeZone, n.Type, n.AvailabilityStatus, hours, n.Priority,
			n.RespectQueuingTime, n.CallbackRequest, n.MandatoryTagging, n.Voicemail, n.MusicOnHold,
			rec.Inbound.Auto, rec.Inbound.AllowPause, rec.Outbound.Auto, rec.Outbound.AllowPause, n.OutboundPrefix, n.SLASeconds,
			n.MaxCallSeconds)
		if err := oneRow(res, err, "number", int64(n.ID)); err != nil {
			return err
		}
		for _, table := range []string{"number_steps", "number_ivr_options", "number_messages", "number_outbound_users"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE number_id = $1", n.ID); err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		return writeNumberParts(ctx, tx, company, n)
	})
}

// writeNumberParts checks that every target is a row of the company, then
// writes steps, IVR options, messages and outbound users.
func writeNumberParts(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, n *dialplan.Number) error {
	for i, s := range n.Distribution {
		field := fmt.Sprintf("distribution[%d].id", i)
		var user, team *int64
		if s.Type == dialplan.StepTeam {
			if err := exists(ctx, tx, "teams", "team", company, s.ID, field); err != nil {
				return err
			}
			team = &s.ID
		} else {
			if err := exists(ctx, tx, "users", "user", company, s.ID, field); err != nil {
				return err
			}
			user = &s.ID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO number_steps (company_id, number_id, position, user_id, team_id, ring_seconds)
			VALUES ($1, $2, $3, $4, $5, $6)`, company, n.ID, i, user, team, s.RingSeconds); err != nil {
			return fmt.Errorf("insert step: %w", err)
		}
	}
	for i, o := range n.IVROptions {
		field := fmt.Sprintf("ivr_options[%d].target.id", i)
		var user, team, number *int64
		var digits *string
		t := o.Target
		switch t.Type {
		case dialplan.TargetUser:
			user = &t.ID
			if err := exists(ctx, tx, "users", "user", company, t.ID, field); err != nil {
				return err
			}
		case dialplan.TargetTeam:
			team = &t.ID
			if err := exists(ctx, tx, "teams", "team", company, t.ID, field); err != nil {
				return err
			}
		case dialplan.TargetNumber:
			number = &t.ID
			if err := exists(ctx, tx, "numbers", "number", company, t.ID, field); err != nil {
				return err
			}
		case dialplan.TargetExternal:
			digits = &t.Digits
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO number_ivr_options (company_id, number_id, key, target_type,
			user_id, team_id, target_number_id, digits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			company, n.ID, o.Key, t.Type, user, team, number, digits); err != nil {
			return fmt.Errorf("insert ivr option: %w", err)
		}
	}
	for _, kind := range dialplan.MessageKinds {
		m, ok := n.Messages[kind]
		if !ok {
			continue
		}
		var media *int64
		if m.Type == dialplan.MessageMedia {
			id := int64(m.MediaID)
			if err := exists(ctx, tx, "media", "media", company, id, "message_settings."+string(kind)+".media_id"); err != nil {
				return err
			}
			media = &id
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO number_messages (company_id, number_id, kind, type, text,
			language, voice, media_id) VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), $8)`,
			company, n.ID, kind, m.Type, m.Text, m.Language, m.Voice, media); err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
	}
	for i, id := range n.OutboundUsers {
		if err := userExists(ctx, tx, company, id, fmt.Sprintf("outbound_users[%d]", i)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO number_outbound_users (company_id, number_id, user_id)
			VALUES ($1, $2, $3)`, company, n.ID, id); err != nil {
			return fmt.Errorf("insert outbound user: %w", err)
		}
	}
	return nil
}

// DeleteNumber removes a number that no other number's IVR transfers to,
// and writes number.deleted carrying snapshot: the number as the API
// showed it just before. Its past calls stay, without their number.
func (s *Store) DeleteNumber(ctx context.Context, company dialplan.CompanyID, id dialplan.NumberID, snapshot json.RawMessage) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := refusedWhileRung(ctx, tx, company, "number", int64(id)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM numbers WHERE company_id = $1 AND id = $2", company, id)
		if err := oneRow(res, err, "number", int64(id)); err != nil {
			return err
		}
		return publish(ctx, tx, company, Event{Kind: events.NumberDeleted, Number: id, Data: events.Snapshot{Object: snapshot}})
	})
}

var _ dialplan.Directory = (*Store)(nil)
