package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

// TestCompanyOutboundPolicy: the outbound policy is saved and read back,
// and a company without one (NULL, as before the policy existed) calls
// its own country only.
func TestCompanyOutboundPolicy(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	st := store.New(db)
	c, _ := newCompany(t, st, "Acme", "owner@acme.test")

	got, err := st.Company(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, dialplan.OutboundPolicy{AllowedCountries: []string{"FR"}}, got.Outbound, "Normalize's default, saved")
	require.Equal(t, c, got)

	for _, p := range []dialplan.OutboundPolicy{
		{AllowedCountries: []string{"FR", "BE", "US"}, AllowPremiumRate: true},
		{AllowedCountries: []string{"DE"}},
	} {
		c.Outbound = p
		require.NoError(t, c.Normalize())
		require.NoError(t, st.UpdateCompany(ctx, c))
		got, err := st.Company(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, p, got.Outbound)
	}

	_, err = db.Exec("UPDATE companies SET outbound_countries = NULL, allow_premium_rate = DEFAULT WHERE id = $1", c.ID)
	require.NoError(t, err)
	got, err = st.Company(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, dialplan.OutboundPolicy{AllowedCountries: []string{"FR"}}, got.Outbound, "NULL is the company's country")

	// A company bootstrapped without a policy gets NULL, read as its country.
	other := dialplan.Company{Name: "Globex", TimeZone: "America/New_York", Language: "en", Country: "US", SLASeconds: 20}
	owner := dialplan.User{FirstName: "Owner", Email: "owner@globex.test", Role: dialplan.RoleAdmin, Owner: true}
	require.NoError(t, owner.Normalize(other))
	_, err = st.Bootstrap(ctx, &other, &owner)
	require.NoError(t, err)
	var null bool
	require.NoError(t, db.Get(&null, "SELECT outbound_countries IS NULL FROM companies WHERE id = $1", other.ID))
	require.True(t, null)
	got, err = st.Company(ctx, other.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"US"}, got.Outbound.AllowedCountries)
	require.False(t, got.Outbound.AllowPremiumRate)
}
