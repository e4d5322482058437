package api_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

// TestCompanyOutbound: the outbound policy is shown by GET /v1/company and
// changed by an owner's PUT, one request after the other on one company.
func TestCompanyOutbound(t *testing.T) {
	e := newEnv(t)
	owner := e.company("Acme", "owner@acme.test")
	admin := e.userKey(owner, "admin@acme.test", dialplan.RoleAdmin, false)

	type policy struct {
		Countries []string `json:"allowed_countries"`
		Premium   bool     `json:"allow_premium_rate"`
	}
	read := func() policy {
		t.Helper()
		var out struct{ Company struct{ Outbound policy } }
		e.ok(owner, "GET", "/v1/company", nil, &out)
		return out.Company.Outbound
	}
	require.Equal(t, policy{Countries: []string{"FR"}}, read(), "by default, the company's own country")

	for _, tc := range []struct {
		name   string
		k      key
		body   any
		status int
		want   policy // the policy afterwards, saved or left as it was
		field  string // named by a 422
	}{
		{name: "set", k: owner, body: map[string]any{"outbound": map[string]any{"allowed_countries": []string{"fr", "be"}, "allow_premium_rate": true}},
			status: 200, want: policy{[]string{"FR", "BE"}, true}},
		{name: "other fields leave it alone", k: owner, body: map[string]any{"sla_seconds": 30},
			status: 200, want: policy{[]string{"FR", "BE"}, true}},
		{name: "only the flag", k: owner, body: map[string]any{"outbound": map[string]any{"allow_premium_rate": false}},
			status: 200, want: policy{[]string{"FR", "BE"}, false}},
		{name: "only the countries", k: owner, body: map[string]any{"outbound": map[string]any{"allowed_countries": []string{"US", "CA"}}},
			status: 200, want: policy{[]string{"US", "CA"}, false}},
		{name: "unknown code", k: owner, body: map[string]any{"outbound": map[string]any{"allowed_countries": []string{"ZZ"}}},
			status: 422, want: policy{[]string{"US", "CA"}, false}, field: "outbound.allowed_countries[0]"},
		{name: "alpha-3 code", k: owner, body: map[string]any{"outbound": map[string]any{"allowed_countries": []string{"FR", "BEL"}}},
			status: 422, want: policy{[]string{"US", "CA"}, false}, field: "outbound.allowed_countries[1]"},
		{name: "listed twice", k: owner, body: map[string]any{"outbound": map[string]any{"allowed_countries": []string{"FR", "fr"}}},
			status: 422, want: policy{[]string{"US", "CA"}, false}, field: "outbound.allowed_countries[1]"},
		{name: "not a list", k: owner, body: map[string]any{"outbound": map[string]any{"allowed_countries": "FR"}},
			status: 422, want: policy{[]string{"US", "CA"}, false}, field: "outbound.allowed_countries"},
		{name: "unknown field", k: owner, body: `{"outbound": {"allow_satellite": true}}`,
			status: 422, want: policy{[]string{"US", "CA"}, false}},
		{name: "an admin is not an owner", k: admin, body: map[string]any{"outbound": map[string]any{"allow_premium_rate": true}},
			status: 403, want: policy{[]string{"US", "CA"}, false}},
		{name: "empty is the company's country", k: owner, body: map[string]any{"outbound": map[string]any{"allowed_countries": []string{}}},
			status: 200, want: policy{[]string{"FR"}, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := e.do(tc.k, "PUT", "/v1/company", tc.body)
			require.Equal(t, tc.status, status, "%v", out)
			if status == 200 {
				raw, err := json.Marshal(out["company"].(map[string]any)["outbound"])
				require.NoError(t, err)
				var answered policy
				require.NoError(t, json.Unmarshal(raw, &answered))
				require.Equal(t, tc.want, answered, "the answer is the policy saved")
			}
			if tc.field != "" {
				require.Equal(t, "invalid "+tc.field, out["error"], "%v", out)
			}
			require.Equal(t, tc.want, read())
		})
	}

	t.Run("a body as read is taken back", func(t *testing.T) {
		var out map[string]map[string]any
		e.ok(owner, "GET", "/v1/company", nil, &out)
		e.ok(owner, "PUT", "/v1/company", out["company"], nil)
		require.Equal(t, policy{Countries: []string{"FR"}}, read())
	})
}

// TestCompanyCounts: the company shows how many users and numbers it has,
// as Aircall's, its own only; a company read and sent back is taken.
func TestCompanyCounts(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e) // Acme: owner, agent, Alice; a number. Globex: owner, Bob; a number.
	e.id(f.a, "/v1/numbers", "number", map[string]any{"name": "Sales", "digits": "+33176390869"})
	var out struct{ Company map[string]any }
	e.ok(f.a, "GET", "/v1/company", nil, &out)
	require.Equal(t, 3.0, out.Company["users_count"])
	require.Equal(t, 2.0, out.Company["numbers_count"])
	e.ok(f.b, "GET", "/v1/company", nil, &out)
	require.Equal(t, 2.0, out.Company["users_count"])
	require.Equal(t, 1.0, out.Company["numbers_count"])
	e.ok(f.b, "PUT", "/v1/company", out.Company, &out)
	require.Equal(t, 1.0, out.Company["numbers_count"])
}
