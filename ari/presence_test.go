package ari

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDeviceEndpoint(t *testing.T) {
	cases := []struct {
		device, endpoint string
	}{
		{"PJSIP/alice", "PJSIP/alice"},
		{"PJSIP/alice.smith-2", "PJSIP/alice.smith-2"},
		{"IAX2/bob", "IAX2/bob"},
		// A URI or a number dialled through an endpoint: that endpoint's
		// state is not the phone's.
		{"PJSIP/sipp/sip:alice@127.0.0.1:5070", ""},
		{"PJSIP/0612345678@trunk", ""},
		// Not a dial string, or one a list of event sources would split.
		{"alice", ""},
		{"PJSIP/", ""},
		{"/alice", ""},
		{"PJSIP/a,b", ""},
		{"endpoint:PJSIP/alice", ""},
	}
	for _, tc := range cases {
		ep, ok := deviceEndpoint(tc.device)
		require.Equal(t, tc.endpoint, ep, tc.device)
		require.Equal(t, tc.endpoint != "", ok, tc.device)
	}
}

func TestTrunkEndpoint(t *testing.T) {
	cases := []struct {
		format, endpoint string
	}{
		{"PJSIP/%s@trunk", "PJSIP/trunk"},
		{"PJSIP/trunk/sip:%s@sip.operator.example", "PJSIP/trunk"},
		{"PJSIP/%s@operator-1", "PJSIP/operator-1"},
		{"PJSIP/%s", ""}, // the number is the endpoint: none to name
		{"%s", ""},
	}
	for _, tc := range cases {
		require.Equal(t, tc.endpoint, trunkEndpoint(tc.format), tc.format)
	}
}
