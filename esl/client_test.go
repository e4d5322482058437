package esl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/esl"
	"github.com/switchboard/switchboard/esl/esltest"
)

func startFS(t *testing.T) *esltest.Server {
	t.Helper()
	fs := esltest.New(esltest.Options{})
	require.NoError(t, fs.Start())
	t.Cleanup(fs.Close)
	return fs
}

func TestClientAuth(t *testing.T) {
	fs := startFS(t)
	_, err := esl.Dial(context.Background(), fs.Addr(), "WrongPassword", time.Second, nil)
	require.ErrorIs(t, err, esl.ErrAuth)
	c, err := esl.Dial(context.Background(), fs.Addr(), "ClueCon", time.Second, nil)
	require.NoError(t, err)
	defer c.Close()
	out, err := c.API(context.Background(), "status")
	require.NoError(t, err)
	require.Contains(t, out, "FreeSWITCH (Version 1.10.12")
}

// TestClientPipelined: commands from many goroutines at once each get
// their own reply, api/response and command/reply alike.
func TestClientPipelined(t *testing.T) {
	fs := startFS(t)
	jobs := make(chan *esl.Event, 100)
	c, err := esl.Dial(context.Background(), fs.Addr(), "ClueCon", time.Second, func(e *esl.Event) {
		if e.Name() == "BACKGROUND_JOB" {
			jobs <- e
		}
	})
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	require.NoError(t, c.Subscribe(ctx, "BACKGROUND_JOB"))
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("nosuch%d", i)
			_, err := c.API(ctx, name)
			var re *esl.ReplyError
			if !errors.As(err, &re) || re.Text != "-ERR "+name+" Command not found!" {
				t.Errorf("%s: got %v", name, err)
			}
			if i%5 == 0 {
				if err := c.BgAPI(ctx, "status", fmt.Sprintf("00000000-0000-4000-8000-%012d", i)); err != nil {
					t.Errorf("bgapi: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for range 10 {
		select {
		case e := <-jobs:
			seen[e.Get("Job-UUID")] = true
			require.Contains(t, e.Body, "FreeSWITCH (Version")
		case <-time.After(5 * time.Second):
			t.Fatal("a BACKGROUND_JOB is missing")
		}
	}
	require.Len(t, seen, 10, "every job under the Job-UUID we chose")
}

// TestClientTimeout: a command whose reply comes too late fails without
// taking the next command's reply, and its deadline does not outlive it
// (eslgo v1.4.1 left write deadlines set).
func TestClientTimeout(t *testing.T) {
	fs := startFS(t)
	fs.SetPeer("user/slow", esltest.Peer{Action: esltest.PeerBusy, Delay: 500 * time.Millisecond})
	c, err := esl.Dial(context.Background(), fs.Addr(), "ClueCon", time.Second, nil)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	// A synchronous originate holds the connection until the phone says
	// busy (transcript 03).
	_, err = c.API(ctx, "originate user/slow &park()")
	require.ErrorIs(t, err, esl.ErrNoReply)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	time.Sleep(200 * time.Millisecond) // past the first command's deadline
	out, err := c.API(context.Background(), "uuid_exists 2d74a4e9-cb75-4149-b375-6721be5407fe")
	require.NoError(t, err)
	require.Equal(t, "false", out, "its own reply, not the late -ERR USER_BUSY")
	_, err = c.API(ctx, "status")
	require.ErrorIs(t, err, context.DeadlineExceeded, "an expired context sends nothing")
	require.NotErrorIs(t, err, esl.ErrNoReply)
	out, err = c.API(context.Background(), "hostname")
	require.NoError(t, err)
	require.Equal(t, "vm", strings.TrimSpace(out))
}

// TestClientSendMsg: a sendmsg's Event-UUID comes back as the
// Application-UUID of the application's events; an unknown uuid is
// -ERR invalid session id.
func TestClientSendMsg(t *testing.T) {
	fs := startFS(t)
	events := make(chan *esl.Event, 100)
	c, err := esl.Dial(context.Background(), fs.Addr(), "ClueCon", time.Second, func(e *esl.Event) { events <- e })
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	require.NoError(t, c.Subscribe(ctx, "CHANNEL_PARK", "CHANNEL_EXECUTE_COMPLETE"))
	caller := fs.Call("15551230001", "1000", esltest.CallScript{})
	e := <-events
	require.Equal(t, "CHANNEL_PARK", e.Name())
	require.Equal(t, caller.UUID(), e.UUID())
	require.Equal(t, "1000", e.Get("Caller-Destination-Number"))
	const id = "c5a6fa1f-274a-456d-b798-2c3b90e4e899"
	require.NoError(t, c.SendMsg(ctx, caller.UUID(), esl.Header{Name: "call-command", Value: "execute"},
		esl.Header{Name: "execute-app-name", Value: "playback"}, esl.Header{Name: "execute-app-arg", Value: "tone_stream://%(100,0,440)"},
		esl.Header{Name: "Event-UUID", Value: id}))
	for e = range events {
		if e.Name() == "CHANNEL_EXECUTE_COMPLETE" && e.Get("Application") == "playback" {
			break
		}
	}
	require.Equal(t, id, e.Get("Application-UUID"))
	require.Equal(t, "FILE PLAYED", e.Get("Application-Response"))
	require.Equal(t, "tone_stream://%(100,0,440)", e.Get("Application-Data"), "percent-decoded")
	err = c.SendMsg(ctx, "2d74a4e9-cb75-4149-b375-6721be5407fe", esl.Header{Name: "call-command", Value: "hangup"})
	var re *esl.ReplyError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "-ERR invalid session id [2d74a4e9-cb75-4149-b375-6721be5407fe]", re.Text)
	require.Error(t, c.SendMsg(ctx, caller.UUID(), esl.Header{Name: "x", Value: "a\nb"}), "no header injection")
}

// TestClientClosed: when FreeSWITCH goes, waiting and later commands fail
// and Done is closed.
func TestClientClosed(t *testing.T) {
	fs := startFS(t)
	c, err := esl.Dial(context.Background(), fs.Addr(), "ClueCon", time.Second, nil)
	require.NoError(t, err)
	fs.DropConnections()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the end of the connection was not seen")
	}
	require.Error(t, c.Err())
	_, err = c.API(context.Background(), "status")
	require.ErrorIs(t, err, esl.ErrClosed)
	require.NoError(t, c.Close())
}
