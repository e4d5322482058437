package esl

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/esl/esltest"
)

// TestCommandName: a command is named without its arguments, so that
// the metrics' command names are few.
func TestCommandName(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"api uuid_bridge 1b4c-aa 7f3e-bb\n\n", "uuid_bridge"},
		{"api status\n\n", "status"},
		{"bgapi originate {origination_uuid=1b4c}user/alice &park()\nJob-UUID: 7f3e\n\n", "bgapi originate"},
		{"sendmsg 1b4c-aa\ncall-command: execute\n\n", "sendmsg"},
		{"event plain CHANNEL_PARK CUSTOM sofia::register\n\n", "event"},
		// Anything but a command's name is "other".
		{"api +33612345678\n\n", "other"},
		{"bgapi {x}\n\n", "bgapi other"},
		{"\n\n", "other"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, commandName(c.raw), c.raw)
	}
}

// TestObserveErrors: observe is told of each command with FreeSWITCH's
// refusal as a *ReplyError (the API's -ERR output, a command's -ERR
// reply), while the caller gets what it always did.
func TestObserveErrors(t *testing.T) {
	fs := esltest.New(esltest.Options{})
	require.NoError(t, fs.Start())
	t.Cleanup(fs.Close)
	c, err := Dial(context.Background(), fs.Addr(), "ClueCon", time.Second, nil)
	require.NoError(t, err)
	defer c.Close()
	type seen struct {
		name    string
		refused bool
	}
	var got []seen
	c.observe = func(command string, d time.Duration, err error) {
		_, refused := errors.AsType[*ReplyError](err)
		require.True(t, err == nil || refused, "%v", err)
		got = append(got, seen{command, refused})
	}
	ctx := context.Background()
	out, err := c.API(ctx, "status")
	require.NoError(t, err)
	require.Contains(t, out, "FreeSWITCH")
	out, err = c.API(ctx, "nosuch")
	require.ErrorAs(t, err, new(*ReplyError))
	require.Equal(t, "-ERR nosuch Command not found!\n", out, "the output as before")
	require.NoError(t, c.BgAPI(ctx, "status", "00000000-0000-4000-8000-000000000001"))
	err = c.SendMsg(ctx, "00000000-0000-4000-8000-00000000dead", Header{"call-command", "execute"})
	require.ErrorAs(t, err, new(*ReplyError))
	require.Equal(t, []seen{{"status", false}, {"nosuch", true}, {"bgapi status", false}, {"sendmsg", true}}, got)
}
