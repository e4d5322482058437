package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
)

// companyColumns is the one list a company is read with, in the order
// scanCompany takes.
const companyColumns = "id, name, time_zone, language, country, sla_seconds, outbound_countries, allow_premium_rate, created_at"

// scanCompany reads a row of companyColumns.
func scanCompany(row interface{ Scan(...any) error }) (dialplan.Company, error) {
	var (
		c         dialplan.Company
		countries pq.StringArray
	)
	err := row.Scan(&c.ID, &c.Name, &c.TimeZone, &c.Language, &c.Country, &c.SLASeconds,
		&countries, &c.Outbound.AllowPremiumRate, &c.CreatedAt)
	if err != nil {
		return dialplan.Company{}, err
	}
	c.Outbound.AllowedCountries = countries
	if countries == nil { // NULL: the company's own country, shown as such
		c.Outbound.AllowedCountries = []string{c.Country}
	}
	return c, nil
}

// Company reads a company.
func (s *Store) Company(ctx context.Context, id dialplan.CompanyID) (dialplan.Company, error) {
	c, err := scanCompany(s.db.QueryRowxContext(ctx, "SELECT "+companyColumns+" FROM companies WHERE id = $1", id))
	return c, notFound(err, "company", int64(id))
}

// CompanyCounts counts a company's users and numbers (Aircall's
// users_count and numbers_count).
func (s *Store) CompanyCounts(ctx context.Context, id dialplan.CompanyID) (users, numbers int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users WHERE company_id = $1),
		(SELECT count(*) FROM numbers WHERE company_id = $1)`, id).Scan(&users, &numbers)
	if err != nil {
		return 0, 0, fmt.Errorf("company %d counts: %w", id, err)
	}
	return users, numbers, nil
}

// UpdateCompany saves a company's settings.
func (s *Store) UpdateCompany(ctx context.Context, c dialplan.Company) error {
	res, err := s.db.ExecContext(ctx, `UPDATE companies SET name = $2, time_zone = $3, language = $4,
		country = $5, sla_seconds = $6, outbound_countries = $7, allow_premium_rate = $8 WHERE id = $1`,
		c.ID, c.Name, c.TimeZone, c.Language, c.Country, c.SLASeconds,
		pq.Array(c.Outbound.AllowedCountries), c.Outbound.AllowPremiumRate)
	return oneRow(res, err, "company", int64(c.ID))
}

// Credentials are an API key as its owner sees it once, at creation.
type Credentials struct {
	KeyID    int64
	APIID    string
	APIToken string
}

// Bootstrap creates a company with its system tags, its first admin (an
// owner) and an API key for them, in one transaction. An email already in
// use is a ConflictError and nothing is created.
func (s *Store) Bootstrap(ctx context.Context, c *dialplan.Company, admin *dialplan.User) (Credentials, error) {
	var creds Credentials
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.QueryRowxContext(ctx, `INSERT INTO companies (name, time_zone, language, country, sla_seconds,
			outbound_countries, allow_premium_rate) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`,
			c.Name, c.TimeZone, c.Language, c.Country, c.SLASeconds,
			pq.Array(c.Outbound.AllowedCountries), c.Outbound.AllowPremiumRate).Scan(&c.ID, &c.CreatedAt)
		if err != nil {
			return fmt.Errorf("insert company: %w", err)
		}
		for _, t := range dialplan.SystemTags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tags (company_id, name, color, description, system)
				VALUES ($1, $2, $3, $4, true)`, c.ID, t.Name, t.Color, t.Description); err != nil {
				return fmt.Errorf("insert system tag: %w", err)
			}
		}
		if err := insertUser(ctx, tx, c.ID, admin); err != nil {
			return err
		}
		creds, err = insertAPIKey(ctx, tx, c.ID, admin.ID, "bootstrap")
		return err
	})
	return creds, err
}

// APIKey is a key as listed: never its token.
type APIKey struct {
	ID        int64      `db:"id" json:"id"`
	APIID     string     `db:"api_id" json:"api_id"`
	UserID    int64      `db:"user_id" json:"user_id"`
	Name      string     `db:"name" json:"name"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	LastUsed  *time.Time `db:"last_used_at" json:"last_used_at"`
}

// CreateAPIKey makes a new key acting as user; the token is in the result
// and nowhere else.
func (s *Store) CreateAPIKey(ctx context.Context, company dialplan.CompanyID, user dialplan.UserID, name string) (Credentials, error) {
	var creds Credentials
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := userExists(ctx, tx, company, user, "user_id"); err != nil {
			return err
		}
		var err error
		creds, err = insertAPIKey(ctx, tx, company, user, name)
		return err
	})
	return creds, err
}

func insertAPIKey(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, user dialplan.UserID, name string) (Credentials, error) {
	id, token := make([]byte, 16), make([]byte, 32)
	rand.Read(id) // never fails (crypto/rand panics rather than return an error)
	rand.Read(token)
	creds := Credentials{APIID: hex.EncodeToString(id), APIToken: hex.EncodeToString(token)}
	hash := sha256.Sum256([]byte(creds.APIToken))
	err := tx.QueryRowxContext(ctx, `INSERT INTO api_keys (company_id, user_id, api_id, token_sha256, name)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, company, user, creds.APIID, hash[:], name).Scan(&creds.KeyID)
	if err != nil {
		return Credentials{}, fmt.Errorf("insert api key: %w", err)
	}
	return creds, nil
}

// APIKeys lists a company's keys.
func (s *Store) APIKeys(ctx context.Context, company dialplan.CompanyID, p Page) ([]APIKey, int, error) {
	return listRows[APIKey](ctx, s.db, "api_keys", "id, api_id, user_id, name, created_at, last_used_at", company, p)
}

// DeleteAPIKey revokes a key at once.
func (s *Store) DeleteAPIKey(ctx context.Context, company dialplan.CompanyID, id int64) error {
	res, err := s.db.ExecContext(ctx, "DELETE FROM api_keys WHERE company_id = $1 AND id = $2", company, id)
	return oneRow(res, err, "api key", id)
}

// Principal is who a request acts as.
type Principal struct {
	KeyID   int64
	Company dialplan.CompanyID
	User    dialplan.UserID
	Role    dialplan.Role
	Owner   bool
}

// ErrBadCredentials means the api_id is unknown or the token does not match.
var ErrBadCredentials = errors.New("bad credentials")

// Authenticate finds the key and its user, and checks the token.
func (s *Store) Authenticate(ctx context.Context, apiID, token string) (Principal, error) {
	var (
		p    Principal
		hash []byte
		used *time.Time
	)
	err := s.db.QueryRowxContext(ctx, `SELECT k.id, k.company_id, k.user_id, u.role, u.owner, k.token_sha256, k.last_used_at
		FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.api_id = $1`, apiID).
		Scan(&p.KeyID, &p.Company, &p.User, &p.Role, &p.Owner, &hash, &used)
	if errors.Is(err, sqlNoRows) {
		return Principal{}, ErrBadCredentials
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], hash) != 1 {
		return Principal{}, ErrBadCredentials
	}
	// Record use at most once a minute: a write per request would be waste.
	if used == nil || time.Since(*used) > time.Minute {
		if _, err := s.db.ExecContext(ctx, "UPDATE api_keys SET last_used_at = now() WHERE id = $1", p.KeyID); err != nil {
			return Principal{}, fmt.Errorf("authenticate: %w", err)
		}
	}
	return p, nil
}
