package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/switchboard/switchboard/dialplan"
)

// DeskPhone finds the user whose device places a call. A device is unique
// in a company; one that two companies name (a PBX shared by tenants that
// reuse endpoint names) is nobody's: calling out from it is refused.
func (s *Store) DeskPhone(ctx context.Context, device string) (dialplan.CompanyID, dialplan.User, error) {
	var owners []struct {
		Company dialplan.CompanyID `db:"company_id"`
		User    dialplan.UserID    `db:"user_id"`
	}
	if err := sqlx.SelectContext(ctx, s.db, &owners, `SELECT company_id, user_id FROM user_devices WHERE endpoint = $1 LIMIT 2`,
		device); err != nil {
		return 0, dialplan.User{}, fmt.Errorf("device %s: %w", device, err)
	}
	if len(owners) != 1 {
		return 0, dialplan.User{}, fmt.Errorf("device %s (%d owners): %w", device, len(owners), dialplan.ErrNoDeskPhone)
	}
	u, err := s.User(ctx, owners[0].Company, owners[0].User)
	return owners[0].Company, u, err
}

// Extension finds the user of the company with that extension.
func (s *Store) Extension(ctx context.Context, company dialplan.CompanyID, extension string) (dialplan.User, error) {
	users, err := queryUsers(ctx, s.db, "SELECT "+userColumns+" FROM users WHERE company_id = $1 AND extension = $2",
		company, extension)
	if err != nil {
		return dialplan.User{}, err
	}
	if len(users) == 0 {
		return dialplan.User{}, fmt.Errorf("extension %s: %w", extension, ErrNotFound)
	}
	return users[0], nil
}

// OutboundNumbers lists the numbers whose outbound_users hold the user,
// oldest first.
func (s *Store) OutboundNumbers(ctx context.Context, company dialplan.CompanyID, user dialplan.UserID) ([]dialplan.Number, error) {
	return queryNumbers(ctx, s.db, "SELECT "+numberColumns+` FROM numbers WHERE company_id = $1
		AND id IN (SELECT number_id FROM number_outbound_users WHERE user_id = $2) ORDER BY id`, company, user)
}
