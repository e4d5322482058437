package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/switchboard/switchboard/dialplan"
)

// The dashboard's accounts (migration 00020): passwords, the links of
// invitation and reset mails, and signed-in browsers' sessions. Only
// hashes of the secrets are stored; the secrets are returned once, to be
// mailed or set in a cookie.

// Purpose says what a password link is for.
type Purpose string

const (
	// Invitation: an admin invited the user, who sets a first password.
	Invitation Purpose = "invitation"
	// Reset: the user forgot their password.
	Reset Purpose = "reset"
)

// Why a password link or a session token is refused: each has its own
// words for the person holding it.
var (
	ErrTokenUnknown = errors.New("unknown link")
	ErrTokenExpired = errors.New("expired link")
	ErrTokenUsed    = errors.New("link already used")
	ErrNoSession    = errors.New("no session")
)

// Account is a user as the dashboard signs them in.
type Account struct {
	Principal
	Email     string
	FirstName string
	LastName  string
	Language  string
	TimeZone  string
	// PasswordHash is empty while the user has set no password.
	PasswordHash string
}

const accountColumns = `u.id, u.company_id, u.role, u.owner, u.email, u.first_name, u.last_name,
	u.language, u.time_zone, coalesce(p.hash, '')`

func scanAccount(row rowScanner) (Account, error) {
	var a Account
	err := row.Scan(&a.User, &a.Company, &a.Role, &a.Owner, &a.Email, &a.FirstName, &a.LastName,
		&a.Language, &a.TimeZone, &a.PasswordHash)
	return a, err
}

// AccountByEmail finds the user who signs in with email (emails are
// unique across companies, whatever their case).
func (s *Store) AccountByEmail(ctx context.Context, email string) (Account, error) {
	a, err := scanAccount(s.db.QueryRowxContext(ctx, `SELECT `+accountColumns+`
		FROM users u LEFT JOIN user_passwords p ON p.user_id = u.id WHERE lower(u.email) = lower($1)`, email))
	if errors.Is(err, sqlNoRows) {
		return a, fmt.Errorf("account %q: %w", email, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("account %q: %w", email, err)
	}
	return a, nil
}

// SetPassword saves a user's password hash, replacing any.
func (s *Store) SetPassword(ctx context.Context, company dialplan.CompanyID, user dialplan.UserID, hash string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error { return setPassword(ctx, tx, company, user, hash) })
}

func setPassword(ctx context.Context, tx *sqlx.Tx, company dialplan.CompanyID, user dialplan.UserID, hash string) error {
	if err := userExists(ctx, tx, company, user, "user_id"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO user_passwords (user_id, company_id, hash) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = now()`, user, company, hash)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", user, err)
	}
	return nil
}

// newSecret is 32 random bytes, as the URL-safe text given out, and the
// SHA-256 of that text, as stored.
func newSecret() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	text := base64.RawURLEncoding.EncodeToString(b)
	return text, digest(text)
}

func digest(text string) []byte {
	sum := sha256.Sum256([]byte(text))
	return sum[:]
}

// CreatePasswordToken makes the link of an invitation or reset mail for
// user, valid for ttl; the user's earlier unused links of the same
// purpose stop working (only the last mail sent counts). It returns the
// token, which is stored nowhere, and when it expires.
func (s *Store) CreatePasswordToken(ctx context.Context, company dialplan.CompanyID, user dialplan.UserID,
	purpose Purpose, ttl time.Duration) (string, time.Time, error) {
	token, hash := newSecret()
	var expires time.Time
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := userExists(ctx, tx, company, user, "user_id"); err != nil {
			return err
		}
		// Links long used or expired are dropped with them: the table
		// keeps what can still be told apart (used, expired) for a week.
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_tokens WHERE user_id = $1
			AND ((purpose = $2 AND used_at IS NULL) OR expires_at < now() - interval '7 days')`, user, purpose); err != nil {
			return fmt.Errorf("drop earlier links: %w", err)
		}
		return tx.QueryRowxContext(ctx, `INSERT INTO password_tokens (token_sha256, company_id, user_id, purpose, expires_at)
			VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING expires_at`,
			hash, company, user, purpose, ttl.Seconds()).Scan(&expires)
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("password link for user %d: %w", user, err)
	}
	return token, expires.UTC(), nil
}

// TokenInfo is what a password link is for, and whose it is.
type TokenInfo struct {
	Account
	Purpose   Purpose
	ExpiresAt time.Time
}

// PasswordToken checks a link without using it (to show its form):
// ErrTokenUnknown, ErrTokenExpired or ErrTokenUsed when it cannot be used.
func (s *Store) PasswordToken(ctx context.Context, token string) (TokenInfo, error) {
	return passwordToken(ctx, s.db, token, "")
}

func passwordToken(ctx context.Context, q sqlx.QueryerContext, token, lock string) (TokenInfo, error) {
	var (
		info TokenInfo
		used sql.NullTime
		live bool
	)
	err := q.QueryRowxContext(ctx, `SELECT `+accountColumns+`, t.purpose, t.expires_at, t.used_at, t.expires_at > now()
		FROM password_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN user_passwords p ON p.user_id = u.id
		WHERE t.token_sha256 = $1`+lock, digest(token)).
		Scan(&info.User, &info.Company, &info.Role, &info.Owner, &info.Email, &info.FirstName, &info.LastName,
			&info.Language, &info.TimeZone, &info.PasswordHash, &info.Purpose, &info.ExpiresAt, &used, &live)
	switch {
	case errors.Is(err, sqlNoRows):
		return info, ErrTokenUnknown
	case err != nil:
		return info, fmt.Errorf("password link: %w", err)
	case used.Valid:
		return info, ErrTokenUsed
	case !live:
		return info, ErrTokenExpired
	}
	return info, nil
}

// UsePasswordToken sets the password of the link's user to hash and
// spends the link, in one transaction: a link sets one password, once.
// Every session of the user ends (whoever knew the old password is out).
func (s *Store) UsePasswordToken(ctx context.Context, token, hash string) (TokenInfo, error) {
	var info TokenInfo
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		// FOR UPDATE: two forms posted at once with one link set one
		// password; the second finds the link used.
		if info, err = passwordToken(ctx, tx, token, " FOR UPDATE OF t"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE password_tokens SET used_at = now() WHERE token_sha256 = $1", digest(token)); err != nil {
			return fmt.Errorf("spend password link: %w", err)
		}
		if err := setPassword(ctx, tx, info.Company, info.User, hash); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM web_sessions WHERE user_id = $1", info.User)
		return err
	})
	if err != nil {
		return info, err
	}
	info.PasswordHash = hash
	return info, nil
}

// AccountState is where a user stands with the dashboard.
type AccountState struct {
	// HasPassword: the user has set a password (accepted the invitation).
	HasPassword bool
	// InvitedAt and InvitationExpires are those of the last invitation
	// not yet accepted; nil when none is pending.
	InvitedAt         *time.Time
	InvitationExpires *time.Time
}

// AccountStates says, for each of the listed users of the company, whether
// they set a password and when their pending invitation was sent.
func (s *Store) AccountStates(ctx context.Context, company dialplan.CompanyID, users []dialplan.UserID) (map[dialplan.UserID]AccountState, error) {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = int64(u)
	}
	var rows []struct {
		User        dialplan.UserID `db:"id"`
		HasPassword bool            `db:"has_password"`
		InvitedAt   sql.NullTime    `db:"invited_at"`
		Expires     sql.NullTime    `db:"expires_at"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT u.id, p.user_id IS NOT NULL AS has_password, t.created_at AS invited_at, t.expires_at
		FROM users u LEFT JOIN user_passwords p ON p.user_id = u.id
		LEFT JOIN LATERAL (SELECT created_at, expires_at FROM password_tokens
			WHERE user_id = u.id AND purpose = 'invitation' AND used_at IS NULL ORDER BY created_at DESC LIMIT 1) t ON true
		WHERE u.company_id = $1 AND u.id = ANY($2)`, company, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("account states: %w", err)
	}
	out := make(map[dialplan.UserID]AccountState, len(rows))
	for _, r := range rows {
		st := AccountState{HasPassword: r.HasPassword}
		if r.InvitedAt.Valid {
			st.InvitedAt, st.InvitationExpires = utcTime(r.InvitedAt), utcTime(r.Expires)
		}
		out[r.User] = st
	}
	return out, nil
}

// Session is a signed-in browser.
type Session struct {
	Account
	// CSRF is the token every form and htmx request of the session sends.
	CSRF      string
	ExpiresAt time.Time
}

// CreateSession signs user in: it returns the cookie's token (stored
// nowhere) and the session, which ends after absolute at the latest. The
// user's sessions that expired are swept on the way.
func (s *Store) CreateSession(ctx context.Context, company dialplan.CompanyID, user dialplan.UserID,
	idle, absolute time.Duration) (string, Session, error) {
	token, hash := newSecret()
	csrf, _ := newSecret()
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = $1
			AND (expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $2))`, user, idle.Seconds()); err != nil {
			return fmt.Errorf("sweep sessions: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO web_sessions (token_sha256, company_id, user_id, csrf_token, expires_at)
			VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`, hash, company, user, csrf, absolute.Seconds())
		return err
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("create session for user %d: %w", user, err)
	}
	sess, err := s.Session(ctx, token, idle)
	return token, sess, err
}

// Session finds the live session of token: ErrNoSession when there is
// none, it expired, or it was idle longer than idle. Its last use is
// recorded at most once a minute (a write per page would be waste).
func (s *Store) Session(ctx context.Context, token string, idle time.Duration) (Session, error) {
	var (
		sess     Session
		lastSeen time.Time
		now      time.Time
	)
	hash := digest(token)
	err := s.db.QueryRowxContext(ctx, `SELECT `+accountColumns+`, w.csrf_token, w.expires_at, w.last_seen_at, now()
		FROM web_sessions w JOIN users u ON u.id = w.user_id LEFT JOIN user_passwords p ON p.user_id = u.id
		WHERE w.token_sha256 = $1 AND w.expires_at > now() AND w.last_seen_at > now() - make_interval(secs => $2)`,
		hash, idle.Seconds()).
		Scan(&sess.User, &sess.Company, &sess.Role, &sess.Owner, &sess.Email, &sess.FirstName, &sess.LastName,
			&sess.Language, &sess.TimeZone, &sess.PasswordHash, &sess.CSRF, &sess.ExpiresAt, &lastSeen, &now)
	if errors.Is(err, sqlNoRows) {
		return sess, ErrNoSession
	}
	if err != nil {
		return sess, fmt.Errorf("session: %w", err)
	}
	if now.Sub(lastSeen) > time.Minute {
		if _, err := s.db.ExecContext(ctx, "UPDATE web_sessions SET last_seen_at = now() WHERE token_sha256 = $1", hash); err != nil {
			return sess, fmt.Errorf("session: %w", err)
		}
	}
	sess.ExpiresAt = sess.ExpiresAt.UTC()
	return sess, nil
}

// DeleteSession signs one browser out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM web_sessions WHERE token_sha256 = $1", digest(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions signs the user out everywhere, and says how many
// sessions ended.
func (s *Store) DeleteUserSessions(ctx context.Context, company dialplan.CompanyID, user dialplan.UserID) (int, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM web_sessions WHERE company_id = $1 AND user_id = $2", company, user)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", user, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
