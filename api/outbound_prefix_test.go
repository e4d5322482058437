package api_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOutboundPrefix: a number's outbound prefix is 1 to 4 digits, or
// none, and no two numbers of a company share one; other companies may.
func TestOutboundPrefix(t *testing.T) {
	e := newEnv(t)
	acme := e.company("Acme", "owner@acme.test")
	globex := e.company("Globex", "owner@globex.test")
	create := func(k key, digits, prefix string) (int, map[string]any) {
		return e.do(k, "POST", "/v1/numbers", map[string]any{"name": "Line " + digits, "digits": digits, "outbound_prefix": prefix})
	}
	status, out := create(acme, "+33176390801", "81")
	require.Equal(t, 201, status, "%v", out)
	require.Equal(t, "81", out["number"].(map[string]any)["outbound_prefix"])
	for i, tc := range []struct {
		prefix string
		status int
	}{{"", 201}, {"", 201}, {"7", 201}, {"81", 409}, {"12345", 422}, {"8a", 422}, {"*81", 422}} {
		status, out := create(acme, fmt.Sprintf("+331763909%02d", i), tc.prefix)
		require.Equal(t, tc.status, status, "prefix %q: %v", tc.prefix, out)
		if tc.status == 422 {
			require.Equal(t, "invalid outbound_prefix", out["error"])
		}
	}
	status, out = create(globex, "+33176390809", "81")
	require.Equal(t, 201, status, "another company's prefix: %v", out)
}
