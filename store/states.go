package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// AllUsers reads every user of every company, by company: what the state
// watcher follows (availability, after-call work, phones).
func (s *Store) AllUsers(ctx context.Context) (map[dialplan.CompanyID][]dialplan.User, error) {
	return everyByCompany(ctx, s, "users", func(u dialplan.User) int64 { return int64(u.ID) },
		func() ([]dialplan.User, error) {
			return queryUsers(ctx, s.db, "SELECT "+userColumns+" FROM users ORDER BY id")
		})
}

// AllNumbers reads every number of every company, by company: what the
// state watcher follows (business hours).
func (s *Store) AllNumbers(ctx context.Context) (map[dialplan.CompanyID][]dialplan.Number, error) {
	return everyByCompany(ctx, s, "numbers", func(n dialplan.Number) int64 { return int64(n.ID) },
		func() ([]dialplan.Number, error) {
			return queryNumbers(ctx, s.db, "SELECT "+numberColumns+" FROM numbers ORDER BY id")
		})
}

// AllTeams reads every team of every company, with its members, by
// company: kept for a PostgreSQL outage.
func (s *Store) AllTeams(ctx context.Context) (map[dialplan.CompanyID][]dialplan.Team, error) {
	return everyByCompany(ctx, s, "teams", func(t dialplan.Team) int64 { return int64(t.ID) },
		func() ([]dialplan.Team, error) {
			return queryTeams(ctx, s.db, "SELECT "+teamColumns+" FROM teams ORDER BY id")
		})
}

// everyByCompany reads every row of table (read) and sorts them by their
// company.
func everyByCompany[T any](ctx context.Context, s *Store, table string, id func(T) int64, read func() ([]T, error)) (map[dialplan.CompanyID][]T, error) {
	owners, err := s.owners(ctx, table)
	if err != nil {
		return nil, err
	}
	rows, err := read()
	if err != nil {
		return nil, err
	}
	out := map[dialplan.CompanyID][]T{}
	for _, r := range rows {
		if c, ok := owners[id(r)]; ok {
			out[c] = append(out[c], r)
		}
	}
	return out, nil
}

// owners maps the rows of table (users, numbers, teams) to their company.
func (s *Store) owners(ctx context.Context, table string) (map[int64]dialplan.CompanyID, error) {
	var rows []struct {
		ID      int64              `db:"id"`
		Company dialplan.CompanyID `db:"company_id"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT id, company_id FROM "+table); err != nil {
		return nil, fmt.Errorf("%s: %w", table, err)
	}
	out := make(map[int64]dialplan.CompanyID, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Company
	}
	return out, nil
}

// LastState is the last event of one of the pairs of kinds that say a
// state (user.opened or user.closed…) for a user or a number.
type LastState struct {
	User   dialplan.UserID
	Number dialplan.NumberID
	Kind   events.Kind
	At     time.Time // when the event says it happened
}

// LastStates reads, for every user and number, the last event of each of
// the pairs of kinds given (the same pair twice: user.opened,
// user.closed, …): the state the stream last told.
func (s *Store) LastStates(ctx context.Context, pairs [][2]events.Kind) ([]LastState, error) {
	return lastStates(ctx, s.db, pairs)
}

func lastStates(ctx context.Context, q sqlx.QueryerContext, pairs [][2]events.Kind) ([]LastState, error) {
	var kinds, families []string
	for i, p := range pairs {
		for _, k := range p {
			kinds = append(kinds, string(k))
			families = append(families, fmt.Sprint(i))
		}
	}
	var rows []struct {
		User   *int64      `db:"user_id"`
		Number *int64      `db:"number_id"`
		Kind   events.Kind `db:"event"`
		At     time.Time   `db:"at"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT DISTINCT ON (coalesce(e.number_id, -e.user_id), f.family)
			e.user_id, e.number_id, e.event, e.at
		FROM events e JOIN unnest($1::text[], $2::text[]) AS f (kind, family) ON f.kind = e.event
		WHERE e.call_id IS NULL
		ORDER BY coalesce(e.number_id, -e.user_id), f.family, e.id DESC`, pq.Array(kinds), pq.Array(families))
	if err != nil {
		return nil, fmt.Errorf("last states: %w", err)
	}
	out := make([]LastState, len(rows))
	for i, r := range rows {
		if r.User != nil && r.Number == nil {
			out[i].User = dialplan.UserID(*r.User)
		}
		if r.Number != nil {
			out[i].Number = dialplan.NumberID(*r.Number)
		}
		out[i].Kind, out[i].At = r.Kind, r.At.UTC()
	}
	return out, nil
}

// LastCalls reads each user's last call (answered or placed, ended), with
// whether it still waits for the tags its number asks for: the agents'
// after-call work and pending tags, for a restart (ACD.Restore).
func (s *Store) LastCalls(ctx context.Context) ([]dialplan.LastCall, error) {
	byCompany, err := s.AllUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("last calls: %w", err)
	}
	users := map[dialplan.UserID]dialplan.User{}
	for _, list := range byCompany {
		for _, u := range list {
			users[u.ID] = u
		}
	}
	var rows []struct {
		User     dialplan.UserID `db:"user_id"`
		Call     dialplan.CallID `db:"call_id"`
		EndedAt  time.Time       `db:"ended_at"`
		Untagged bool            `db:"untagged"`
	}
	// One index probe per user (calls_company_user_started).
	err = s.db.SelectContext(ctx, &rows, `SELECT u.id AS user_id, c.id AS call_id, c.ended_at,
			coalesce(n.mandatory_tagging, false) AND NOT EXISTS (SELECT 1 FROM call_tags ct
				JOIN tags t ON t.id = ct.tag_id AND NOT t.system WHERE ct.call_id = c.id) AS untagged
		FROM users u
		CROSS JOIN LATERAL (SELECT id, number_id, ended_at FROM calls
			WHERE company_id = u.company_id AND user_id = u.id AND status = 'done' AND answered_at IS NOT NULL
			ORDER BY started_at DESC LIMIT 1) c
		LEFT JOIN numbers n ON n.id = c.number_id
		ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("last calls: %w", err)
	}
	out := make([]dialplan.LastCall, 0, len(rows))
	for _, r := range rows {
		if u, ok := users[r.User]; ok {
			out = append(out, dialplan.LastCall{User: u, Call: r.Call, EndedAt: r.EndedAt.UTC(), Untagged: r.Untagged})
		}
	}
	return out, nil
}
