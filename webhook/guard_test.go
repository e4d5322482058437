package webhook

import (
	"context"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckURL(t *testing.T) {
	strict := Policy{}
	loose := Policy{AllowHTTP: true, AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	tests := []struct {
		url    string
		policy Policy
		err    string // "" when allowed
	}{
		{"https://203.0.113.7/hook", strict, ""},
		{"https://[2001:db8::1]/hook", strict, ""},
		{"http://203.0.113.7/hook", strict, "http is not allowed, use https"},
		{"ftp://203.0.113.7/hook", strict, "the scheme must be https"},
		{"https:///hook", strict, "no host"},
		{"https://user:pw@203.0.113.7/hook", strict, "credentials in the URL"},
		{"https://127.0.0.1/hook", strict, "127.0.0.1 is a loopback address"},
		{"https://localhost:8443/hook", strict, "is a loopback address"},
		{"https://[::1]/hook", strict, "::1 is a loopback address"},
		{"https://10.1.2.3/hook", strict, "10.1.2.3 is a private address"},
		{"https://192.168.0.10/hook", strict, "is a private address"},
		{"https://172.16.5.4/hook", strict, "is a private address"},
		{"https://100.64.1.1/hook", strict, "is a private address"},
		{"https://[fd00::1]/hook", strict, "is a private address"},
		{"https://169.254.169.254/latest/meta-data", strict, "link-local address (cloud metadata among them)"},
		{"https://[::ffff:127.0.0.1]/hook", strict, "127.0.0.1 is a loopback address"},
		{"https://0.0.0.0/hook", strict, "is not a unicast address"},
		{"https://224.0.0.1/hook", strict, "is not a unicast address"},
		{"http://127.0.0.1:9000/hook", loose, ""},
		{"http://10.0.0.1/hook", loose, "10.0.0.1 is a private address"},
		{"https://nowhere.invalid/hook", strict, "does not resolve"},
		{"::not a url", strict, "not a URL webhooks may post to"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := tt.policy.CheckURL(context.Background(), tt.url)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrForbidden)
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestControl(t *testing.T) {
	require.ErrorIs(t, Policy{}.Control("tcp4", "127.0.0.1:80", nil), ErrForbidden)
	require.ErrorIs(t, Policy{}.Control("tcp4", "169.254.169.254:80", nil), ErrForbidden)
	require.NoError(t, Policy{}.Control("tcp4", "203.0.113.7:443", nil))
	require.NoError(t, Policy{AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.Control("tcp4", "127.0.0.1:80", nil))
}

func TestParseNets(t *testing.T) {
	nets, err := ParseNets(" 127.0.0.0/8, 10.1.2.3/8 ,")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}, nets)
	_, err = ParseNets("10.0.0.0")
	require.ErrorContains(t, err, `"10.0.0.0"`)
}

// FuzzCheckURL: whatever an admin types as a webhook's URL, CheckURL
// answers without panicking, and what it accepts is an https URL without
// credentials whose host is a public address. (Its context is done, so
// that names are not looked up: only address literals can pass.)
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://93.184.216.34/hook", "https://[2606:2800:220:1::]/x", "http://127.0.0.1/",
		"https://[::ffff:10.0.0.1]/", "https://me:pw@93.184.216.34/", "https://example.com/", "ftp://x", "%zz", "https://169.254.169.254/"} {
		f.Add(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, raw string) {
		err := Policy{}.CheckURL(ctx, raw)
		if err != nil {
			require.ErrorIs(t, err, ErrForbidden)
			return
		}
		u, perr := url.Parse(raw)
		require.NoError(t, perr)
		require.Equal(t, "https", u.Scheme)
		require.Nil(t, u.User)
		a, perr := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
		require.NoError(t, perr, "only an address literal resolves here")
		a = a.Unmap()
		require.False(t, a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast(), "%s", a)
	})
}

// FuzzParseNets: the operator's list of ranges is read or refused with
// an error, never half.
func FuzzParseNets(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "127.0.0.0/8, ::1/128", "", "10.0.0.1", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nets, err := ParseNets(s)
		if err != nil {
			require.Nil(t, nets)
			return
		}
		for _, n := range nets {
			require.True(t, n.IsValid())
			require.Equal(t, n, n.Masked())
		}
	})
}
