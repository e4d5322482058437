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

// DeleteRecording forgets the recording, or fails as reading it does.
func (f fakeRecordings) DeleteRecording(_ context.Context, name string) error {
	switch v := f[name].(type) {
	case string:
		delete(f, name)
		return nil
	case error:
		return v
	}
	return fmt.Errorf("%s: %w", name, dialplan.ErrNoRecording)
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

	t.Run("deleted", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			k      key
			path   string
			status int
		}{
			{"by an agent", f.agent, recorded + "/recording", 403},
			{"another company's call", f.b, recorded + "/recording", 404},
			{"a call without one", f.a, voicemail + "/recording", 404},
			{"the media server fails: nothing changes", f.a, broken + "/recording", 502},
		} {
			res, body := e.get(tc.k, "DELETE", tc.path, nil)
			require.Equal(t, tc.status, res.StatusCode, "%s: %s", tc.name, body)
		}
		var got struct{ Call map[string]any }
		e.ok(f.a, "GET", broken, nil, &got)
		require.NotNil(t, got.Call["recording"], "a failed deletion leaves the call as it was")

		for _, what := range []string{"/recording", "/voicemail"} {
			call := recorded
			if what == "/voicemail" {
				call = voicemail
			}
			res, body := e.get(f.a, "DELETE", call+what, nil)
			require.Equal(t, 204, res.StatusCode, "%s", body)
			e.ok(f.a, "GET", call, nil, &got)
			require.Nil(t, got.Call[what[1:]], "the call has no %s any more", what)
			timeline := got.Call["timeline"].([]any)
			require.Equal(t, map[string]any{"recording": "call.recording_deleted", "voicemail": "call.voicemail_deleted"}[what[1:]],
				timeline[len(timeline)-1].(map[string]any)["event"])
			res, _ = e.get(f.a, "DELETE", call+what, nil)
			require.Equal(t, 404, res.StatusCode, "deleted once")
		}
		require.NotContains(t, media, "rec-1", "gone from the media server")
		require.NotContains(t, media, "vm-1")
		res, body := e.get(f.a, "DELETE", gone+"/recording", nil)
		require.Equal(t, 204, res.StatusCode, "one the media server lost already is forgotten all the same: %s", body)
	})

	t.Run("without a media server", func(t *testing.T) {
		e := newEnv(t)
		f := newFixtures(e)
		c := f.call(now.Add(-time.Minute), func(c *dialplan.Call) { c.Recording = "rec-1" })
		res, body := e.get(f.a, "GET", fmt.Sprintf("/v1/calls/%d/recording", e.saveCall(&c)), nil)
		require.Equal(t, 503, res.StatusCode)
		require.Contains(t, string(body), "SWITCHBOARD_MEDIA")
	})
}
