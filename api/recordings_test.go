package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
)

// fakeRecordings is a media server's store of recordings: by name, the
// file's content or the error reading it gives.
type fakeRecordings map[string]any

func (f fakeRecordings) OpenRecording(_ context.Context, name string) (io.ReadCloser, error) {
	switch v := f[name].(type) {
	case string:
		return io.NopCloser(strings.NewReader(v)), nil
	case error:
		return nil, v
	}
	return nil, fmt.Errorf("%s: %w", name, dialplan.ErrNoRecording)
}

// TestCallFiles: a call's recording and voicemail download from the media
// server, to whoever may read the call; each failure says what is missing.
func TestCallFiles(t *testing.T) {
	media := fakeRecordings{"rec-1": "RIFF-recording", "vm-1": "RIFF-voicemail", "rec-broken": errors.New("connection refused")}
	e := newEnvWith(t, func(d *api.Deps) { d.Recordings = media })
	f := newFixtures(e)
	ended := timePtr(now.Add(-time.Minute))
	save := func(mod func(*dialplan.Call)) string {
		c := f.call(now.Add(-2*time.Minute), func(c *dialplan.Call) { c.Status, c.EndedAt = dialplan.CallDone, ended; mod(c) })
		return fmt.Sprintf("/v1/calls/%d", e.saveCall(&c))
	}
	recorded := save(func(c *dialplan.Call) { c.Recording, c.User = "rec-1", f.agent.user })
	voicemail := save(func(c *dialplan.Call) { c.Voicemail = "vm-1" })
	gone := save(func(c *dialplan.Call) { c.Recording = "rec-deleted" })
	broken := save(func(c *dialplan.Call) { c.Recording = "rec-broken" })

	for _, tc := range []struct {
		name   string
		k      key
		path   string
		status int
		want   string // the file, or a word of the troubleshoot
	}{
		{"the recording", f.a, recorded + "/recording", 200, "RIFF-recording"},
		{"the agent who took the call", f.agent, recorded + "/recording", 200, "RIFF-recording"},
		{"the voicemail", f.a, voicemail + "/voicemail", 200, "RIFF-voicemail"},
		{"a call without voicemail", f.a, recorded + "/voicemail", 404, "has no voicemail"},
		{"a call without recording", f.a, voicemail + "/recording", 404, "has no recording"},
		{"an agent on another's call", f.agent, voicemail + "/voicemail", 403, "calls"},
		{"another company's call", f.b, recorded + "/recording", 404, "does not exist"},
		{"deleted on the media server", f.a, gone + "/recording", 404, "no longer has"},
		{"the media server fails", f.a, broken + "/recording", 502, "did not give"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := e.get(tc.k, "GET", tc.path, nil)
			require.Equal(t, tc.status, res.StatusCode, "%s", body)
			require.Contains(t, string(body), tc.want)
			if tc.status == 200 {
				require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
				require.Contains(t, res.Header.Get("Content-Disposition"), "attachment")
			}
		})
	}
	var got struct{ Call map[string]any }
	e.ok(f.a, "GET", recorded, nil, &got)
	require.Equal(t, recorded+"/recording", got.Call["recording"], "the call links its file")

	t.Run("without a media server", func(t *testing.T) {
		e := newEnv(t)
		f := newFixtures(e)
		c := f.call(now.Add(-time.Minute), func(c *dialplan.Call) { c.Recording = "rec-1" })
		res, body := e.get(f.a, "GET", fmt.Sprintf("/v1/calls/%d/recording", e.saveCall(&c)), nil)
		require.Equal(t, 503, res.StatusCode)
		require.Contains(t, string(body), "SWITCHBOARD_MEDIA")
	})
}
