package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func newCompany(t testing.TB, st *store.Store, name, email string) (dialplan.Company, dialplan.User) {
	t.Helper()
	c := dialplan.Company{Name: name, TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20}
	u := dialplan.User{FirstName: "Owner", Email: email, Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(t, c.Normalize())
	require.NoError(t, u.Normalize(c))
	_, err := st.Bootstrap(context.Background(), &c, &u)
	require.NoError(t, err)
	return c, u
}

// TestLookupsOfACall covers what the controller reads when a call comes in:
// the number by its digits (in any company) and whether the caller is
// blocked.
func TestLookupsOfACall(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	acme, owner := newCompany(t, st, "Acme", "owner@acme.test")
	globex, _ := newCompany(t, st, "Globex", "owner@globex.test")

	n := dialplan.NewNumber()
	n.Name, n.Digits = "Main", "01 76 39 08 61"
	n.Distribution = []dialplan.Step{{Type: dialplan.StepUser, ID: int64(owner.ID), RingSeconds: 20}}
	require.NoError(t, n.Normalize(acme))
	require.NoError(t, st.CreateNumber(ctx, acme.ID, &n))

	company, got, err := st.NumberByDigits(ctx, "+33176390861")
	require.NoError(t, err)
	require.Equal(t, acme.ID, company)
	require.Equal(t, n.ID, got.ID)
	require.Equal(t, n.Distribution, got.Distribution)

	_, _, err = st.NumberByDigits(ctx, "+33176390862")
	require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)

	b := dialplan.BlockedNumber{Digits: "06 66 66 66 66"}
	require.NoError(t, b.Normalize(acme))
	require.NoError(t, st.BlockNumber(ctx, acme.ID, &b))
	blocked, err := st.IsBlocked(ctx, acme.ID, "+33666666666")
	require.NoError(t, err)
	require.True(t, blocked)
	blocked, err = st.IsBlocked(ctx, globex.ID, "+33666666666")
	require.NoError(t, err)
	require.False(t, blocked, "a blacklist is one company's")
}

func TestBootstrapRefusesATakenEmail(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	st := store.New(db)
	newCompany(t, st, "Acme", "owner@acme.test")
	c := dialplan.Company{Name: "Again", TimeZone: "UTC", Language: "en", Country: "US", SLASeconds: 20}
	u := dialplan.User{FirstName: "X", Email: "owner@acme.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(t, u.Normalize(c))
	_, err := st.Bootstrap(ctx, &c, &u)
	require.ErrorIs(t, err, store.ErrConflict)
	var companies, tags int
	require.NoError(t, db.Get(&companies, "SELECT count(*) FROM companies"))
	require.NoError(t, db.Get(&tags, "SELECT count(*) FROM tags"))
	require.Equal(t, 1, companies, "nothing of the second company was kept")
	require.Equal(t, len(dialplan.SystemTags), tags)
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	st := store.New(db)
	c, u := newCompany(t, st, "Acme", "owner@acme.test")
	creds, err := st.CreateAPIKey(ctx, c.ID, u.ID, "ci")
	require.NoError(t, err)

	p, err := st.Authenticate(ctx, creds.APIID, creds.APIToken)
	require.NoError(t, err)
	require.Equal(t, store.Principal{KeyID: creds.KeyID, Company: c.ID, User: u.ID, Role: dialplan.RoleAdmin, Owner: true}, p)

	_, err = st.Authenticate(ctx, creds.APIID, creds.APIToken+"x")
	require.ErrorIs(t, err, store.ErrBadCredentials)

	var stored int
	require.NoError(t, db.Get(&stored, "SELECT count(*) FROM api_keys k WHERE k::text LIKE '%' || $1 || '%'", creds.APIToken))
	require.Zero(t, stored, "the token is never stored in clear")
}

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", fmt.Errorf("user 3: %w", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{"a dropped connection", fmt.Errorf("calls: %w", driver.ErrBadConn), true},
		{"cut in the middle", fmt.Errorf("calls: %w", io.ErrUnexpectedEOF), true},
		{"shutting down", fmt.Errorf("save: %w", &pq.Error{Code: "57P01"}), true},
		{"starting up", &pq.Error{Code: "57P03"}, true},
		{"a connection exception", &pq.Error{Code: "08006"}, true},
		{"a duplicate", &pq.Error{Code: "23505"}, false},
		{"not found", fmt.Errorf("call 9: %w", store.ErrNotFound), false},
		{"a request out of time", fmt.Errorf("calls: %w", context.DeadlineExceeded), false},
		{"anything else", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, store.Unavailable(tc.err)) })
	}
}
