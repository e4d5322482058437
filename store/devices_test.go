package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// TestDevices: every device of every company's users, once each, and no
// more once its user is gone.
func TestDevices(t *testing.T) {
	ctx := context.Background()
	st := store.New(storetest.New(t))
	devices, err := st.Devices(ctx)
	require.NoError(t, err)
	require.Empty(t, devices)

	acme, _ := newCompany(t, st, "Acme", "owner@acme.test")
	globex, _ := newCompany(t, st, "Globex", "owner@globex.test")
	add := func(c dialplan.Company, email string, devices ...string) dialplan.User {
		u := dialplan.User{FirstName: "A", Email: email, Role: dialplan.RoleAgent, Devices: devices}
		require.NoError(t, u.Normalize(c))
		require.NoError(t, st.CreateUser(ctx, c.ID, &u))
		return u
	}
	alice := add(acme, "alice@acme.test", "PJSIP/alice", "PJSIP/sipp/sip:alice@127.0.0.1:5070")
	add(acme, "bob@acme.test", "PJSIP/bob")
	add(acme, "carol@acme.test")
	// The same dial string in two companies (one PBX's endpoint shared
	// by mistake, or two PBXs): listed once.
	add(globex, "alice@globex.test", "PJSIP/alice", "PJSIP/dave")

	devices, err = st.Devices(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"PJSIP/alice", "PJSIP/bob", "PJSIP/dave", "PJSIP/sipp/sip:alice@127.0.0.1:5070"}, devices)

	require.NoError(t, st.DeleteUser(ctx, acme.ID, alice.ID, nil))
	devices, err = st.Devices(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"PJSIP/alice", "PJSIP/bob", "PJSIP/dave"}, devices)
}
