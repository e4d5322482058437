// Package store keeps Switchboard's configuration, call records and
// statistics in PostgreSQL, with hand-written SQL over sqlx. Every query is
// scoped by company: a row of another company is simply not found.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNotFound is returned when a row does not exist in the caller's company.
var ErrNotFound = errors.New("not found")

// ErrConflict is wrapped by every ConflictError.
var ErrConflict = errors.New("conflict")

// ConflictError says what clashes (a duplicate, or a row still in use), in
// words meant for the admin who made the request.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string        { return e.Reason }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

func conflict(format string, args ...any) error {
	return &ConflictError{Reason: fmt.Sprintf(format, args...)}
}

// Unavailable says whether err is PostgreSQL not answering (down,
// restarting, unreachable), not a fault of the request: the caller may try
// again shortly.
func Unavailable(err error) bool {
	var (
		pqErr *pq.Error
		opErr *net.OpError // dialling, reading or writing the connection failed
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &opErr):
		// Not any net.Error: context.DeadlineExceeded is one, and a
		// request that ran out of time is no outage.
		return true
	case errors.As(err, &pqErr):
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down or starting.
		return pqErr.Code.Class() == "08" || pqErr.Code == "57P01" || pqErr.Code == "57P02" || pqErr.Code == "57P03"
	}
	return false
}

// Store is the PostgreSQL store.
type Store struct {
	db *sqlx.DB

	// SaveCall's statements, prepared on first use (calls.go).
	stmtMu                 sync.Mutex
	saveInsert, saveUpdate *sql.Stmt
}

// New wraps an open database.
func New(db *sqlx.DB) *Store { return &Store{db: db} }

// Open connects to url (a libpq URL) and checks that the server answers.
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	// Every connection is a PostgreSQL process: one closed after a burst
	// and opened again at the next costs a fork and a login. Busy hours
	// keep their connections; a quiet one gives them back.
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{db: db}, nil
}

// DB gives the underlying handle (for migrations).
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the connection pool.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, stmt := range []*sql.Stmt{s.saveInsert, s.saveUpdate} {
		if stmt != nil {
			stmt.Close()
		}
	}
	s.saveInsert, s.saveUpdate = nil, nil
	s.stmtMu.Unlock()
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// inTx runs fn in one transaction: every write of a request lands whole or
// not at all.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return uniqueViolation(err)
	}
	if err := tx.Commit(); err != nil {
		return uniqueViolation(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// The unique constraints whose violation is the client's doing, and what to
// tell them. Any other violation is a bug and stays a 500.
var uniqueMessages = map[string]string{
	"users_email_key":             "email is already used by another user",
	"users_extension_key":         "extension is already used by another user",
	"user_devices_endpoint_key":   "a device is already used by another user",
	"teams_name_key":              "team name is already used",
	"numbers_digits_key":          "digits are already used by another number",
	"numbers_outbound_prefix_key": "outbound_prefix is already used by another number",
	"tags_name_key":               "tag name is already used",
	"blocked_numbers_digits_key":  "this number is already blocked",
}

func uniqueViolation(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		if msg, ok := uniqueMessages[pqErr.Constraint]; ok {
			return conflict("%s", msg)
		}
	}
	return err
}

// notFound turns sql.ErrNoRows into ErrNotFound naming what was missing.
func notFound(err error, what string, id int64) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sqlNoRows) {
		return fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("%s %d: %w", what, id, err)
}

// oneRow checks that an UPDATE or DELETE hit its row.
func oneRow(res sql.Result, err error, what string, id int64) error {
	if err != nil {
		return fmt.Errorf("%s %d: %w", what, id, uniqueViolation(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
	}
	return nil
}

// utcTime is a nullable column's time in UTC, or nil for NULL.
func utcTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}
