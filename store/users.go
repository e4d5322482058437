package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

const userColumns = `users.id, first_name, last_name, email, role, owner, language, time_zone, extension,
	availability_status, unavailable_reason, working_hours, wrap_up_time, external_number, users.created_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(row rowScanner) (dialplan.User, error) {
	var (
		u     dialplan.User
		hours []byte
	)
	err := row.Scan(&u.ID, &u.FirstName, &u.LastName, &u.Email, &u.Role, &u.Owner, &u.Language, &u.TimeZone,
		&u.Extension, &u.AvailabilityStatus, &u.UnavailableReason, &hours, &u.WrapUpTime, &u.ExternalNumber, &u.CreatedAt)
	if err != nil {
		return u, err
	}
	if err := json.Unmarshal(hours, &u.WorkingHours); err != nil {
		return u, fmt.Errorf("user %d working hours: %w", u.ID, err)
	}
	u.Devices = []string{}
	return u, nil
}

// queryUsers runs a query returning userColumns and fills in devices.
func queryUsers(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]dialplan.User, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	users := []dialplan.User{}
	index := map[dialplan.UserID]int{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		index[u.ID] = len(users)
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	if len(users) == 0 {
		return users, nil
	}
	ids := make([]int64, 0, len(users))
	for id := range index {
		ids = append(ids, int64(id))
	}
	var devices []struct {
		UserID   dialplan.UserID `db:"user_id"`
		Endpoint string          `db:"endpoint"`
	}
	if err := sqlx.SelectContext(ctx, q, &devices, `SELECT user_id, endpoint FROM user_devices
		WHERE user_id = ANY($1) ORDER BY user_id, position`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("user devices: %w", err)
	}
	for _, d := range devices {
		u := &users[index[d.UserID]]
		u.Devices = append(u.Devices, d.Endpoint)
	}
	return users, nil
}

// User reads one user of the company.
func (s *Store) User(ctx context.Context, company dialplan.CompanyID, id dialplan.UserID) (dialplan.User, error) {
	users, err := queryUsers(ctx, s.db, "SELECT "+userColumns+" FROM users WHERE company_id = $1 AND id = $2", company, id)
	if err != nil {
		return dialplan.User{}, err
	}
	if len(users) == 0 {
		return dialplan.User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return users[0], nil
}

// Users lists a page of the company's users.
func (s *Store) Users(ctx context.Context, company dialplan.CompanyID, p Page) ([]dialplan.User, int, error) {
	where, args := p.where("users", []any{company})
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT count(*) FROM users WHERE "+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	users, err := queryUsers(ctx, s.db, "SELECT "+userColumns+" FROM users WHERE "+where+p.tail("users"), args...)
	return users, total, err
}

// UsersByID reads the listed users of the company, in the order given;
// unknown ids are left out.
func (s *Store) UsersByID(ctx context.Context, company dialplan.CompanyID, ids []dialplan.UserID) ([]dialplan.User, error) {
	found, err := queryUsers(ctx, s.db, "SELECT "+userColumns+" FROM users WHERE company_id = $1 AND id = ANY($2)", company, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	byID := make(map[dialplan.UserID]dialplan.User, len(found))
	for _, u := range found {
		byID[u.ID] = u
	}
	ordered := make([]dialplan.User, 0, len(ids))
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			ordered = append(ordered, u)
		}
	}
	return ordered, nil
}

// CreateUser adds a user, assigning the next free extension when none is
// given, and writes user.created.
func (s *Store) CreateUser(ctx context.Context, company dialplan.CompanyID, u *dialplan.User) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := insertUser(ctx, tx, company, u); err != nil {
			return err
		}
		return publish(ctx, tx, company, Event{Kind: events.UserCreated, User: u.ID})
	})
}

// firstExtension is where auto-assigned extensions start: 3 digits, as
// desk phones expect.
const firstExtension = 100

func insertUser(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, u *dialplan.User) error {
	if u.Extension == "" {
		// Serialise extension assignment per company so two concurrent
		// creations never pick the same one.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(1, $1::int)", company); err != nil {
			return fmt.Errorf("lock extensions: %w", err)
		}
		var next int
		if err := tx.GetContext(ctx, &next, `SELECT coalesce(max(extension::int) + 1, $2) FROM users
			WHERE company_id = $1 AND length(extension) <= 6`, company, firstExtension); err != nil {
			return fmt.Errorf("next extension: %w", err)
		}
		u.Extension = strconv.Itoa(max(next, firstExtension))
	}
	hours, err := json.Marshal(u.WorkingHours)
	if err != nil {
		return fmt.Errorf("working hours: %w", err)
	}
	err = tx.QueryRowxContext(ctx, `INSERT INTO users (company_id, first_name, last_name, email, role, owner,
		language, time_zone, extension, availability_status, unavailable_reason, working_hours, wrap_up_time, external_number)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id, created_at`,
		company, u.FirstName, u.LastName, u.Email, u.Role, u.Owner, u.Language, u.TimeZone, u.Extension,
		u.AvailabilityStatus, u.UnavailableReason, hours, u.WrapUpTime, u.ExternalNumber).Scan(&u.ID, &u.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return writeDevices(ctx, tx, company, u)
}

func writeDevices(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, u *dialplan.User) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM user_devices WHERE user_id = $1", u.ID); err != nil {
		return fmt.Errorf("clear devices: %w", err)
	}
	for i, d := range u.Devices {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_devices (company_id, user_id, position, endpoint)
			VALUES ($1, $2, $3, $4)`, company, u.ID, i, d); err != nil {
			return fmt.Errorf("insert device: %w", err)
		}
	}
	return nil
}

// UpdateUser saves every field of an existing user.
func (s *Store) UpdateUser(ctx context.Context, company dialplan.CompanyID, u *dialplan.User) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		hours, err := json.Marshal(u.WorkingHours)
		if err != nil {
			return fmt.Errorf("working hours: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET first_name = $3, last_name = $4, email = $5, role = $6,
			owner = $7, language = $8, time_zone = $9, extension = $10, availability_status = $11,
			unavailable_reason = $12, working_hours = $13, wrap_up_time = $14, external_number = $15
			WHERE company_id = $1 AND id = $2`, company, u.ID, u.FirstName, u.LastName, u.Email, u.Role, u.Owner,
			u.Language, u.TimeZone, u.Extension, u.AvailabilityStatus, u.UnavailableReason, hours, u.WrapUpTime, u.ExternalNumber)
		if err := oneRow(res, err, "user", int64(u.ID)); err != nil {
			return err
		}
		return writeDevices(ctx, tx, company, u)
	})
}

// DeleteUser removes a user, their devices, team memberships and API keys,
// and writes user.deleted carrying snapshot: the user as the API showed
// them just before (the user is gone when the event is delivered).
// A user that a number's distribution or IVR rings cannot be deleted: the
// admin changes those numbers first, so no line silently loses a step.
func (s *Store) DeleteUser(ctx context.Context, company dialplan.CompanyID, id dialplan.UserID, snapshot json.RawMessage) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := refusedWhileRung(ctx, tx, company, "user", int64(id)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE company_id = $1 AND id = $2", company, id)
		if err := oneRow(res, err, "user", int64(id)); err != nil {
			return err
		}
		return publish(ctx, tx, company, Event{Kind: events.UserDeleted, User: id, Data: events.Snapshot{Object: snapshot}})
	})
}

// refusedWhileRung returns a ConflictError naming the first number whose
// distribution or IVR options point at the user, team or number id.
func refusedWhileRung(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, what string, id int64) error {
	query := fmt.Sprintf(`
		SELECT n.id, n.name, 'distribution' AS via FROM numbers n JOIN number_steps s ON s.number_id = n.id WHERE n.company_id = $2 AND s.%[1]s_id = $1
		UNION ALL
		SELECT n.id, n.name, 'IVR options' FROM numbers n JOIN number_ivr_options o ON o.number_id = n.id WHERE n.company_id = $2 AND o.%[1]s_id = $1
		ORDER BY 1 LIMIT 1`, what)
	if what == "number" { // only an IVR option can point at a number
		query = `SELECT n.id, n.name, 'IVR options' AS via FROM numbers n JOIN number_ivr_options o ON o.number_id = n.id
			WHERE n.company_id = $2 AND o.target_number_id = $1 ORDER BY 1 LIMIT 1`
	}
	var uses []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
		Via  string `db:"via"`
	}
	if err := tx.SelectContext(ctx, &uses, query, id, company); err != nil {
		return fmt.Errorf("%s %d in use: %w", what, id, err)
	}
	if len(uses) > 0 {
		u := uses[0]
		return conflict("%s %d is used in the %s of number %q (id %d): change that number first", what, id, u.Via, u.Name, u.ID)
	}
	return nil
}

// userExists checks that id is a user of the company; field names the
// request field for the error.
func userExists(ctx context.Context, q sqlx.QueryerContext, company dialplan.CompanyID, id dialplan.UserID, field string) error {
	return exists(ctx, q, "users", "user", company, int64(id), field)
}

// exists checks that row id of table belongs to the company, and says so as
// a FieldError when it does not.
func exists(ctx context.Context, q sqlx.QueryerContext, table, what string, company dialplan.CompanyID, id int64, field string) error {
	var found bool
	if err := sqlx.GetContext(ctx, q, &found, "SELECT EXISTS (SELECT 1 FROM "+table+" WHERE company_id = $1 AND id = $2)", company, id); err != nil {
		return fmt.Errorf("check %s %d: %w", what, id, err)
	}
	if !found {
		return &dialplan.FieldError{Field: field, Problem: fmt.Sprintf("no %s %d in this company", what, id)}
	}
	return nil
}

// SetAvailability changes only a user's availability setting.
func (s *Store) SetAvailability(ctx context.Context, company dialplan.CompanyID, id dialplan.UserID, status dialplan.Availability, reason string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET availability_status = $3, unavailable_reason = $4
		WHERE company_id = $1 AND id = $2`, company, id, status, reason)
	return oneRow(res, err, "user", int64(id))
}

// Devices lists every device of every user of every company, once each
// (one media server serves them all): the endpoints whose presence the
// media driver follows.
func (s *Store) Devices(ctx context.Context) ([]string, error) {
	devices := []string{}
	if err := s.db.SelectContext(ctx, &devices, "SELECT DISTINCT endpoint FROM user_devices ORDER BY endpoint"); err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	return devices, nil
}
