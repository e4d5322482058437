package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
)

// Media is an audio file of the company's media library. Its data, kept
// beside it, is the upload converted to 8 kHz mono 16-bit PCM wav.
type Media struct {
	ID   dialplan.MediaID `db:"id"`
	Name string           `db:"name"`
	// ContentType is what was uploaded: audio/mpeg or audio/wav.
	ContentType string `db:"content_type"`
	// SHA256 (hex) and SizeBytes are the converted wav's.
	SHA256     string    `db:"sha256"`
	SizeBytes  int64     `db:"size_bytes"`
	DurationMS int       `db:"duration_ms"`
	CreatedAt  time.Time `db:"created_at"`
}

const mediaColumns = "id, name, content_type, sha256, size_bytes, duration_ms, created_at"

// CreateMedia adds a file to the media library; m gets its id and
// creation time. SizeBytes is set from wav.
func (s *Store) CreateMedia(ctx context.Context, company dialplan.CompanyID, m *Media, wav []byte) error {
	m.SizeBytes = int64(len(wav))
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return tx.QueryRowxContext(ctx, `INSERT INTO media (company_id, name, content_type, sha256, size_bytes, duration_ms, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
			company, m.Name, m.ContentType, m.SHA256, m.SizeBytes, m.DurationMS, wav).Scan(&m.ID, &m.CreatedAt)
	})
}

// Media reads a media library entry, without its data.
func (s *Store) Media(ctx context.Context, company dialplan.CompanyID, id dialplan.MediaID) (Media, error) {
	var m Media
	err := s.db.GetContext(ctx, &m, "SELECT "+mediaColumns+" FROM media WHERE company_id = $1 AND id = $2", company, id)
	return m, notFound(err, "media", int64(id))
}

// MediaList lists a page of the company's media library, without data.
func (s *Store) MediaList(ctx context.Context, company dialplan.CompanyID, p Page) ([]Media, int, error) {
	return listRows[Media](ctx, s.db, "media", mediaColumns, company, p)
}

// MediaData reads a media library entry with its converted wav.
func (s *Store) MediaData(ctx context.Context, company dialplan.CompanyID, id dialplan.MediaID) (Media, []byte, error) {
	var row struct {
		Media
		Data []byte `db:"data"`
	}
	err := s.db.GetContext(ctx, &row, "SELECT "+mediaColumns+", data FROM media WHERE company_id = $1 AND id = $2", company, id)
	return row.Media, row.Data, notFound(err, "media", int64(id))
}

// DeleteMedia removes a media that no number's message plays; one still
// used is a ConflictError naming the number.
func (s *Store) DeleteMedia(ctx context.Context, company dialplan.CompanyID, id dialplan.MediaID) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var uses []struct {
			ID   int64  `db:"id"`
			Name string `db:"name"`
			Kind string `db:"kind"`
		}
		if err := tx.SelectContext(ctx, &uses, `SELECT n.id, n.name, m.kind FROM number_messages m
			JOIN numbers n ON n.id = m.number_id WHERE m.company_id = $1 AND m.media_id = $2
			ORDER BY n.id, m.kind LIMIT 1`, company, id); err != nil {
			return fmt.Errorf("media %d in use: %w", id, err)
		}
		if len(uses) > 0 {
			u := uses[0]
			return conflict("media %d is the %s message of number %q (id %d): change that number first", id, u.Kind, u.Name, u.ID)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM media WHERE company_id = $1 AND id = $2", company, id)
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23503" { // a number took it meanwhile
			return conflict("media %d is used by a number's message: change that number first", id)
		}
		return oneRow(res, err, "media", int64(id))
	})
}

// CompanyOfNumber reads the company a number belongs to.
func (s *Store) CompanyOfNumber(ctx context.Context, id dialplan.NumberID) (dialplan.Company, error) {
	c, err := scanCompany(s.db.QueryRowxContext(ctx, "SELECT "+companyColumns+
		" FROM companies WHERE id = (SELECT company_id FROM numbers WHERE id = $1)", id))
	return c, notFound(err, "number", int64(id))
}

// MediaForNumber reads a media of the number's company: the SHA-256 of its
// wav, and the wav. A media of another company is not found.
func (s *Store) MediaForNumber(ctx context.Context, number dialplan.NumberID, id dialplan.MediaID) (string, []byte, error) {
	var row struct {
		SHA256 string `db:"sha256"`
		Data   []byte `db:"data"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT m.sha256, m.data FROM media m
		JOIN numbers n ON n.company_id = m.company_id WHERE n.id = $1 AND m.id = $2`, number, id)
	return row.SHA256, row.Data, notFound(err, "media", int64(id))
}
