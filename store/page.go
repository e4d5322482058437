package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchboard/switchboard/dialplan"
)

var sqlNoRows = sql.ErrNoRows

// Page selects one page of a list, as the API's list parameters say.
type Page struct {
	Page    int        // from 1
	PerPage int        // 1..50
	Desc    bool       // newest first
	From    *time.Time // created at or after
	To      *time.Time // created at or before
}

// where adds the creation-time filters of p to a query whose company is $1;
// args continue from there.
func (p Page) where(table string, args []any) (string, []any) {
	clause := fmt.Sprintf("%s.company_id = $1", table)
	if p.From != nil {
		args = append(args, *p.From)
		clause += fmt.Sprintf(" AND %s.created_at >= $%d", table, len(args))
	}
	if p.To != nil {
		args = append(args, *p.To)
		clause += fmt.Sprintf(" AND %s.created_at <= $%d", table, len(args))
	}
	return clause, args
}

// tail orders by id (creation order) and limits to the page.
func (p Page) tail(table string) string {
	order := "ASC"
	if p.Desc {
		order = "DESC"
	}
	return fmt.Sprintf(" ORDER BY %s.id %s LIMIT %d OFFSET %d", table, order, p.PerPage, (p.Page-1)*p.PerPage)
}

// listRows reads one page of a company's rows of table, and how many rows
// the filters match in all.
func listRows[R any](ctx context.Context, q sqlx.QueryerContext, table, columns string, company dialplan.CompanyID, p Page) ([]R, int, error) {
	where, args := p.where(table, []any{company})
	var total int
	if err := sqlx.GetContext(ctx, q, &total, "SELECT count(*) FROM "+table+" WHERE "+where, args...); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, err)
	}
	rows := []R{}
	if err := sqlx.SelectContext(ctx, q, &rows, "SELECT "+columns+" FROM "+table+" WHERE "+where+p.tail(table), args...); err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", table, err)
	}
	return rows, total, nil
}
