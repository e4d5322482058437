package events

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKinds: every kind has its resource; the webhook kinds are those of
// Aircall's webhooks that Switchboard sends; a payload written is read
// back as the same value.
func TestKinds(t *testing.T) {
	for k, m := range kinds {
		require.NotEmpty(t, m.resource, "%s has a resource", k)
		require.True(t, k.Known())
		if m.payload == nil {
			continue
		}
		raw, err := json.Marshal(m.payload)
		require.NoError(t, err)
		got, err := Decode(k, raw)
		require.NoError(t, err)
		if _, snapshot := m.payload.(Snapshot); string(raw) != "{}" && !snapshot {
			require.Equal(t, m.payload, got, "%s round trip", k)
		}
	}
	require.Equal(t, []Kind{CallAgentDeclined, CallAnswered, CallArchived, CallAssigned, CallCommented, CallCreated,
		CallEnded, CallHold, CallHungup, CallIVROptionSelected, CallRecordingDeleted, CallRingingOnAgent, CallTagged,
		CallTransferred, CallUnarchived, CallUnhold, CallUnsuccessfulTransfer, CallUntagged, CallVoicemailLeft,
		ContactCreated, ContactDeleted, ContactUpdated,
		NumberClosed, NumberCreated, NumberDeleted, NumberOpened,
		UserClosed, UserConnected, UserCreated, UserDeleted, UserDisconnected, UserOpened, UserWutEnd, UserWutStart},
		WebhookKinds())
	require.False(t, Kind("call.nothing").Known())
}

func TestCheck(t *testing.T) {
	require.NoError(t, Check(CallCreated, Created{To: "+33176390861"}))
	require.NoError(t, Check(CallCreated, nil), "a payload may be left out")
	require.NoError(t, Check(CallEnded, nil))
	require.ErrorContains(t, Check(CallCreated, Hungup{}), "call.created carries events.Created, not events.Hungup")
	require.ErrorContains(t, Check(CallEnded, Hungup{}), "call.ended carries <nil>")
	require.ErrorContains(t, Check("call.x", nil), `unknown kind "call.x"`)
}

func TestDecode(t *testing.T) {
	got, err := Decode(CallVoicemailLeft, []byte(`{"name":"voicemail-1","seconds":7}`))
	require.NoError(t, err)
	require.Equal(t, VoicemailLeft{Name: "voicemail-1", Seconds: 7}, got)
	got, err = Decode(CallCreated, []byte(`{}`))
	require.NoError(t, err)
	require.Nil(t, got, "none written")
	got, err = Decode("call.from_another_version", []byte(`{"a":1}`))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": float64(1)}, got)
	_, err = Decode(CallVoicemailLeft, []byte(`{"seconds":"seven"}`))
	require.Error(t, err)
}

// FuzzDecode: what the database holds is read back whatever it is,
// without a panic.
func FuzzDecode(f *testing.F) {
	f.Add(string(CallCreated), []byte(`{"to":"+33176390861"}`))
	f.Add(string(CallTagged), []byte(`{"tags":[1,2]}`))
	f.Add("x", []byte(`{"a":[}`))
	f.Fuzz(func(t *testing.T, kind string, raw []byte) {
		Decode(Kind(kind), raw)
	})
}
