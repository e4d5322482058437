package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/switchboard/switchboard/dialplan"
)

const tagColumns = "id, name, color, description, system, created_at"

type tagRow struct {
	ID          dialplan.TagID `db:"id"`
	Name        string         `db:"name"`
	Color       string         `db:"color"`
	Description string         `db:"description"`
	System      bool           `db:"system"`
	CreatedAt   time.Time      `db:"created_at"`
}

func (r tagRow) tag() dialplan.Tag {
	return dialplan.Tag{ID: r.ID, Name: r.Name, Color: r.Color, Description: r.Description, System: r.System, CreatedAt: r.CreatedAt}
}

// ErrSystemTag is returned when a change to a system tag is attempted.
var ErrSystemTag = conflict("system tags (Callback Request, Called Back, Conference, Follow Up) cannot be changed or deleted")

// Tag reads one tag.
func (s *Store) Tag(ctx context.Context, company dialplan.CompanyID, id dialplan.TagID) (dialplan.Tag, error) {
	var r tagRow
	err := s.db.GetContext(ctx, &r, "SELECT "+tagColumns+" FROM tags WHERE company_id = $1 AND id = $2", company, id)
	return r.tag(), notFound(err, "tag", int64(id))
}

// Tags lists a page of the company's tags, system tags included.
func (s *Store) Tags(ctx context.Context, company dialplan.CompanyID, p Page) ([]dialplan.Tag, int, error) {
	rows, total, err := listRows[tagRow](ctx, s.db, "tags", tagColumns, company, p)
	tags := make([]dialplan.Tag, len(rows))
	for i, r := range rows {
		tags[i] = r.tag()
	}
	return tags, total, err
}

// CreateTag adds a tag.
func (s *Store) CreateTag(ctx context.Context, company dialplan.CompanyID, t *dialplan.Tag) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return tx.QueryRowxContext(ctx, `INSERT INTO tags (company_id, name, color, description)
			VALUES ($1, $2, $3, $4) RETURNING id, created_at`, company, t.Name, t.Color, t.Description).Scan(&t.ID, &t.CreatedAt)
	})
}

// UpdateTag saves a tag that is not a system tag.
func (s *Store) UpdateTag(ctx context.Context, company dialplan.CompanyID, t *dialplan.Tag) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := notSystemTag(ctx, tx, company, t.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE tags SET name = $3, color = $4, description = $5
			WHERE company_id = $1 AND id = $2`, company, t.ID, t.Name, t.Color, t.Description)
		return oneRow(res, err, "tag", int64(t.ID))
	})
}

// DeleteTag removes a tag that is not a system tag (and its uses on calls).
func (s *Store) DeleteTag(ctx context.Context, company dialplan.CompanyID, id dialplan.TagID) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := notSystemTag(ctx, tx, company, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM tags WHERE company_id = $1 AND id = $2", company, id)
		if err := oneRow(res, err, "tag", int64(id)); err != nil {
			return err
		}
		return forgetInStats(ctx, tx, company, "tags", int64(id))
	})
}

func notSystemTag(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, id dialplan.TagID) error {
	var system bool
	err := tx.GetContext(ctx, &system, "SELECT system FROM tags WHERE company_id = $1 AND id = $2 FOR UPDATE", company, id)
	if err != nil {
		return notFound(err, "tag", int64(id))
	}
	if system {
		return ErrSystemTag
	}
	return nil
}
