package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchboard/switchboard/dialplan"
)

type blockedRow struct {
	ID        dialplan.BlockedNumberID `db:"id"`
	Digits    string                   `db:"digits"`
	Note      string                   `db:"note"`
	CreatedAt time.Time                `db:"created_at"`
}

// BlockedNumbers lists a page of the company's blocked callers.
func (s *Store) BlockedNumbers(ctx context.Context, company dialplan.CompanyID, p Page) ([]dialplan.BlockedNumber, int, error) {
	rows, total, err := listRows[blockedRow](ctx, s.db, "blocked_numbers", "id, digits, note, created_at", company, p)
	out := make([]dialplan.BlockedNumber, len(rows))
	for i, r := range rows {
		out[i] = dialplan.BlockedNumber{ID: r.ID, Digits: r.Digits, Note: r.Note, CreatedAt: r.CreatedAt}
	}
	return out, total, err
}

// BlockNumber adds a caller to the company's blacklist.
func (s *Store) BlockNumber(ctx context.Context, company dialplan.CompanyID, b *dialplan.BlockedNumber) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return tx.QueryRowxContext(ctx, `INSERT INTO blocked_numbers (company_id, digits, note) VALUES ($1, $2, $3)
			RETURNING id, created_at`, company, b.Digits, b.Note).Scan(&b.ID, &b.CreatedAt)
	})
}

// UnblockNumber removes a caller from the blacklist.
func (s *Store) UnblockNumber(ctx context.Context, company dialplan.CompanyID, id dialplan.BlockedNumberID) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM blocked_numbers WHERE company_id = $1 AND id = $2", company, id)
	return oneRow(res, err, "blocked number", int64(id))
}

// IsBlocked says whether calls from digits (E.164) are refused in the company.
func (s *Store) IsBlocked(ctx context.Context, company dialplan.CompanyID, digits string) (bool, error) {
	var blocked bool
	err := s.db.GetContext(ctx, &blocked, "SELECT EXISTS (SELECT 1 FROM blocked_numbers WHERE company_id = $1 AND digits = $2)", company, digits)
	return blocked, err
}
