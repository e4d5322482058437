package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
)

const teamColumns = "teams.id, name, ringing_rule, ring_slice_seconds, teams.created_at"

// queryTeams runs a query returning teamColumns and fills in the members in
// their order.
func queryTeams(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]dialplan.Team, error) {
	rows, err := q.QueryxContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	defer rows.Close()
	teams := []dialplan.Team{}
	index := map[dialplan.TeamID]int{}
	var ids []int64
	for rows.Next() {
		var t dialplan.Team
		if err := rows.Scan(&t.ID, &t.Name, &t.RingingRule, &t.RingSliceSeconds, &t.CreatedAt); err != nil {
			return nil, fmt.Errorf("teams: %w", err)
		}
		t.Users = []dialplan.UserID{}
		index[t.ID] = len(teams)
		ids = append(ids, int64(t.ID))
		teams = append(teams, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	var members []struct {
		TeamID dialplan.TeamID `db:"team_id"`
		UserID dialplan.UserID `db:"user_id"`
	}
	if err := sqlx.SelectContext(ctx, q, &members, `SELECT team_id, user_id FROM team_members
		WHERE team_id = ANY($1) ORDER BY team_id, position`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	for _, m := range members {
		t := &teams[index[m.TeamID]]
		t.Users = append(t.Users, m.UserID)
	}
	return teams, nil
}

// Team reads one team of the company.
func (s *Store) Team(ctx context.Context, company dialplan.CompanyID, id dialplan.TeamID) (dialplan.Team, error) {
	return team(ctx, s.db, company, id)
}

func team(ctx context.Context, q sqlx.QueryerContext, company dialplan.CompanyID, id dialplan.TeamID) (dialplan.Team, error) {
	teams, err := queryTeams(ctx, q, "SELECT "+teamColumns+" FROM teams WHERE company_id = $1 AND id = $2", company, id)
	if err != nil {
		return dialplan.Team{}, err
	}
	if len(teams) == 0 {
		return dialplan.Team{}, fmt.Errorf("team %d: %w", id, ErrNotFound)
	}
	return teams[0], nil
}

// Teams lists a page of the company's teams.
func (s *Store) Teams(ctx context.Context, company dialplan.CompanyID, p Page) ([]dialplan.Team, int, error) {
	where, args := p.where("teams", []any{company})
	var total int
	if err := s.db.GetContext(ctx, &total, "SELECT count(*) FROM teams WHERE "+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count teams: %w", err)
	}
	teams, err := queryTeams(ctx, s.db, "SELECT "+teamColumns+" FROM teams WHERE "+where+p.tail("teams"), args...)
	return teams, total, err
}

// CreateTeam adds a team with its members.
func (s *Store) CreateTeam(ctx context.Context, company dialplan.CompanyID, t *dialplan.Team) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.QueryRowxContext(ctx, `INSERT INTO teams (company_id, name, ringing_rule, ring_slice_seconds)
			VALUES ($1, $2, $3, $4) RETURNING id, created_at`, company, t.Name, t.RingingRule, t.RingSliceSeconds).
			Scan(&t.ID, &t.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert team: %w", err)
		}
		return writeMembers(ctx, tx, company, t)
	})
}

// UpdateTeam saves a team's fields and its member list.
func (s *Store) UpdateTeam(ctx context.Context, company dialplan.CompanyID, t *dialplan.Team) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE teams SET name = $3, ringing_rule = $4, ring_slice_seconds = $5
			WHERE company_id = $1 AND id = $2`, company, t.ID, t.Name, t.RingingRule, t.RingSliceSeconds)
		if err := oneRow(res, err, "team", int64(t.ID)); err != nil {
			return err
		}
		return writeMembers(ctx, tx, company, t)
	})
}

func writeMembers(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, t *dialplan.Team) error {
	for i, id := range t.Users {
		if err := userExists(ctx, tx, company, id, fmt.Sprintf("users[%d]", i)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM team_members WHERE team_id = $1", t.ID); err != nil {
		return fmt.Errorf("clear members: %w", err)
	}
	for i, id := range t.Users {
		if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (company_id, team_id, user_id, position)
			VALUES ($1, $2, $3, $4)`, company, t.ID, id, i); err != nil {
			return fmt.Errorf("insert member: %w", err)
		}
	}
	return nil
}

// AddTeamMember appends a user to the end of a team's order; a member
// already there keeps their place.
func (s *Store) AddTeamMember(ctx context.Context, company dialplan.CompanyID, id dialplan.TeamID, user dialplan.UserID) (dialplan.Team, error) {
	var t dialplan.Team
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if t, err = lockedTeam(ctx, tx, company, id); err != nil {
			return err
		}
		if slices.Contains(t.Users, user) {
			return nil
		}
		if err := exists(ctx, tx, "users", "user", company, int64(user), "user_id"); err != nil {
			return fmt.Errorf("user %d: %w", user, ErrNotFound)
		}
		t.Users = append(t.Users, user)
		return writeMembers(ctx, tx, company, &t)
	})
	return t, err
}

// RemoveTeamMember takes a user out of a team.
func (s *Store) RemoveTeamMember(ctx context.Context, company dialplan.CompanyID, id dialplan.TeamID, user dialplan.UserID) (dialplan.Team, error) {
	var t dialplan.Team
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if t, err = lockedTeam(ctx, tx, company, id); err != nil {
			return err
		}
		i := slices.Index(t.Users, user)
		if i < 0 {
			return fmt.Errorf("user %d in team %d: %w", user, id, ErrNotFound)
		}
		t.Users = slices.Delete(t.Users, i, i+1)
		return writeMembers(ctx, tx, company, &t)
	})
	return t, err
}

// lockedTeam reads a team and holds its row until the transaction ends, so
// concurrent member changes apply one after the other.
func lockedTeam(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, id dialplan.TeamID) (dialplan.Team, error) {
	if _, err := tx.ExecContext(ctx, "SELECT 1 FROM teams WHERE company_id = $1 AND id = $2 FOR UPDATE", company, id); err != nil {
		return dialplan.Team{}, fmt.Errorf("lock team %d: %w", id, err)
	}
	return team(ctx, tx, company, id)
}

// DeleteTeam removes a team that no number rings.
func (s *Store) DeleteTeam(ctx context.Context, company dialplan.CompanyID, id dialplan.TeamID) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := refusedWhileRung(ctx, tx, company, "team", int64(id)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM teams WHERE company_id = $1 AND id = $2", company, id)
		if err := oneRow(res, err, "team", int64(id)); err != nil {
			return err
		}
		return forgetInStats(ctx, tx, company, "teams", int64(id))
	})
}
