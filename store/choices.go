package store

import (
	"context"
	"fmt"

	"github.com/switchboard/switchboard/dialplan"
)

// Choice is one entry of a filter's select: an id and the name shown.
type Choice struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// Choices are the names a company's filters offer, each list sorted by
// name.
type Choices struct {
	Numbers, Users, Teams, Tags []Choice
}

// Choices reads the names of the company's numbers, users, teams and
// tags in one query: the dashboard's filters need nothing else of them,
// and paging four lists through the API cost more than the rest of the
// statistics page.
func (s *Store) Choices(ctx context.Context, company dialplan.CompanyID) (Choices, error) {
	var rows []struct {
		Kind string `db:"kind"`
		Choice
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT kind, id, name FROM (
		SELECT 'number' AS kind, id, name FROM numbers WHERE company_id = $1
		UNION ALL SELECT 'user', id, trim(first_name || ' ' || last_name) FROM users WHERE company_id = $1
		UNION ALL SELECT 'team', id, name FROM teams WHERE company_id = $1
		UNION ALL SELECT 'tag', id, name FROM tags WHERE company_id = $1) c
		ORDER BY kind, lower(name), id`, company)
	if err != nil {
		return Choices{}, fmt.Errorf("choices: %w", err)
	}
	var out Choices
	for _, r := range rows {
		dst := map[string]*[]Choice{"number": &out.Numbers, "user": &out.Users, "team": &out.Teams, "tag": &out.Tags}[r.Kind]
		*dst = append(*dst, r.Choice)
	}
	return out, nil
}
