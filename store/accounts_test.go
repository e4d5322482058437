package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// TestPasswordTokens: a link sets a password once, until it expires; a
// newer link of the same purpose replaces the older; the states the
// dashboard lists follow.
func TestPasswordTokens(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	st := store.New(db)
	c, owner := newCompany(t, st, "Acme", "owner@acme.test")

	a, err := st.AccountByEmail(ctx, "OWNER@acme.test")
	require.NoError(t, err, "emails are found whatever their case")
	require.Equal(t, owner.ID, a.User)
	require.Equal(t, c.ID, a.Company)
	require.Equal(t, dialplan.RoleAdmin, a.Role)
	require.True(t, a.Owner)
	require.Empty(t, a.PasswordHash, "no password before the invitation is accepted")
	_, err = st.AccountByEmail(ctx, "nobody@acme.test")
	require.ErrorIs(t, err, store.ErrNotFound)

	states, err := st.AccountStates(ctx, c.ID, []dialplan.UserID{owner.ID})
	require.NoError(t, err)
	require.Equal(t, store.AccountState{}, states[owner.ID])

	first, _, err := st.CreatePasswordToken(ctx, c.ID, owner.ID, store.Invitation, 7*24*time.Hour)
	require.NoError(t, err)
	second, expires, err := st.CreatePasswordToken(ctx, c.ID, owner.ID, store.Invitation, 7*24*time.Hour)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(7*24*time.Hour), expires, time.Minute)
	reset, _, err := st.CreatePasswordToken(ctx, c.ID, owner.ID, store.Reset, time.Hour)
	require.NoError(t, err)

	states, err = st.AccountStates(ctx, c.ID, []dialplan.UserID{owner.ID})
	require.NoError(t, err)
	require.False(t, states[owner.ID].HasPassword)
	require.NotNil(t, states[owner.ID].InvitedAt)
	require.WithinDuration(t, expires, *states[owner.ID].InvitationExpires, time.Second)

	for _, tc := range []struct {
		name  string
		token string
		err   error
	}{
		{"replaced by a newer invitation", first, store.ErrTokenUnknown},
		{"never made", "bm90IGEgdG9rZW4", store.ErrTokenUnknown},
		{"the newer invitation", second, nil},
		{"a reset beside it", reset, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := st.PasswordToken(ctx, tc.token)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, owner.ID, info.User)
			require.Equal(t, "owner@acme.test", info.Email)
		})
	}

	// A session opened before the invitation is used ends with it.
	token, _, err := st.CreateSession(ctx, c.ID, owner.ID, time.Hour, 24*time.Hour)
	require.NoError(t, err)
	info, err := st.UsePasswordToken(ctx, second, "$argon2id$first")
	require.NoError(t, err)
	require.Equal(t, store.Invitation, info.Purpose)
	require.Equal(t, "$argon2id$first", info.PasswordHash)
	_, err = st.Session(ctx, token, time.Hour)
	require.ErrorIs(t, err, store.ErrNoSession, "setting a password signs the user out everywhere")

	_, err = st.UsePasswordToken(ctx, second, "$argon2id$again")
	require.ErrorIs(t, err, store.ErrTokenUsed)
	_, err = st.PasswordToken(ctx, second)
	require.ErrorIs(t, err, store.ErrTokenUsed)
	a, err = st.AccountByEmail(ctx, "owner@acme.test")
	require.NoError(t, err)
	require.Equal(t, "$argon2id$first", a.PasswordHash, "a used link sets nothing")

	states, err = st.AccountStates(ctx, c.ID, []dialplan.UserID{owner.ID})
	require.NoError(t, err)
	require.Equal(t, store.AccountState{HasPassword: true}, states[owner.ID], "no invitation pending once accepted")

	// An expired link is told apart from an unknown one, and sets nothing.
	_, err = db.Exec("UPDATE password_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'reset'")
	require.NoError(t, err)
	_, err = st.PasswordToken(ctx, reset)
	require.ErrorIs(t, err, store.ErrTokenExpired)
	_, err = st.UsePasswordToken(ctx, reset, "$argon2id$late")
	require.ErrorIs(t, err, store.ErrTokenExpired)
	a, err = st.AccountByEmail(ctx, "owner@acme.test")
	require.NoError(t, err)
	require.Equal(t, "$argon2id$first", a.PasswordHash)

	// Another company's user gets no link from this company.
	other, stranger := newCompany(t, st, "Globex", "owner@globex.test")
	_, _, err = st.CreatePasswordToken(ctx, c.ID, stranger.ID, store.Invitation, time.Hour)
	require.Error(t, err)
	require.NoError(t, st.SetPassword(ctx, other.ID, stranger.ID, "$argon2id$globex"))
	require.Error(t, st.SetPassword(ctx, c.ID, stranger.ID, "$argon2id$theft"))
}

// TestSessions: a session is found by its token until it expires, is idle
// too long, or is deleted; signing out everywhere ends every one of the
// user's sessions and no one else's.
func TestSessions(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	st := store.New(db)
	c, owner := newCompany(t, st, "Acme", "owner@acme.test")
	agent := dialplan.User{FirstName: "Agnes", Email: "agnes@acme.test", Role: dialplan.RoleAgent}
	require.NoError(t, agent.Normalize(c))
	require.NoError(t, st.CreateUser(ctx, c.ID, &agent))

	const idle, absolute = time.Hour, 24 * time.Hour
	laptop, sess, err := st.CreateSession(ctx, c.ID, owner.ID, idle, absolute)
	require.NoError(t, err)
	require.Equal(t, owner.ID, sess.User)
	require.NotEmpty(t, sess.CSRF)
	require.WithinDuration(t, time.Now().Add(absolute), sess.ExpiresAt, time.Minute)
	phone, phoneSess, err := st.CreateSession(ctx, c.ID, owner.ID, idle, absolute)
	require.NoError(t, err)
	require.NotEqual(t, laptop, phone)
	require.NotEqual(t, sess.CSRF, phoneSess.CSRF, "each session has its own CSRF token")
	agentTok, _, err := st.CreateSession(ctx, c.ID, agent.ID, idle, absolute)
	require.NoError(t, err)

	var stored []byte
	require.NoError(t, db.Get(&stored, "SELECT token_sha256 FROM web_sessions LIMIT 1"))
	require.Len(t, stored, 32, "a hash is stored, not the token")

	got, err := st.Session(ctx, laptop, idle)
	require.NoError(t, err)
	require.Equal(t, sess.CSRF, got.CSRF)
	require.Equal(t, "fr-FR", got.Language)
	require.Equal(t, "Europe/Paris", got.TimeZone)
	_, err = st.Session(ctx, "bm90IGEgdG9rZW4", idle)
	require.ErrorIs(t, err, store.ErrNoSession)

	for _, tc := range []struct {
		name, update string
	}{
		{"idle too long", "UPDATE web_sessions SET last_seen_at = now() - interval '61 minutes'"},
		{"past its absolute expiry", "UPDATE web_sessions SET last_seen_at = now(), expires_at = now() - interval '1 second'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, err := st.CreateSession(ctx, c.ID, agent.ID, idle, absolute)
			require.NoError(t, err)
			_, err = db.Exec(tc.update+" WHERE user_id = $1", agent.ID)
			require.NoError(t, err)
			_, err = st.Session(ctx, tok, idle)
			require.ErrorIs(t, err, store.ErrNoSession)
		})
	}
	agentTok, _, err = st.CreateSession(ctx, c.ID, agent.ID, idle, absolute)
	require.NoError(t, err)
	var agentRows int
	require.NoError(t, db.Get(&agentRows, "SELECT count(*) FROM web_sessions WHERE user_id = $1", agent.ID))
	require.Equal(t, 1, agentRows, "a new session sweeps the user's expired ones")

	require.NoError(t, st.DeleteSession(ctx, phone))
	_, err = st.Session(ctx, phone, idle)
	require.ErrorIs(t, err, store.ErrNoSession)
	_, err = st.Session(ctx, laptop, idle)
	require.NoError(t, err, "signing one browser out leaves the others")

	n, err := st.DeleteUserSessions(ctx, c.ID, owner.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = st.Session(ctx, laptop, idle)
	require.ErrorIs(t, err, store.ErrNoSession)
	_, err = st.Session(ctx, agentTok, idle)
	require.NoError(t, err, "another user's session is untouched")

	// Deleting the user ends their sessions with them.
	require.NoError(t, st.DeleteUser(ctx, c.ID, agent.ID, []byte(`{}`)))
	_, err = st.Session(ctx, agentTok, idle)
	require.ErrorIs(t, err, store.ErrNoSession)
}
