package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
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
	require.Regexp(t, "^"+e.url+recorded+`/recording\?expires=\d+&signature=[A-Za-z0-9_-]{43}$`, got.Call["recording"],
		"the call links its file, signed")

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

// TestSignedLinks: the links GET /v1/calls/:id gives to a call's files
// download without credentials for 10 minutes, and only as given: expired,
// altered, or outliving the file they were given for, they are a 403
// saying to get a fresh one.
func TestSignedLinks(t *testing.T) {
	media := fakeRecordings{"rec-1": "RIFF-recording", "vm-1": "RIFF-voicemail", "rec-2": "RIFF-other", "rec-3": "RIFF-third"}
	var clock atomic.Pointer[time.Time]
	at := func(d time.Duration) { t := now.Add(d); clock.Store(&t) }
	at(0)
	e := newEnvWith(t, func(d *api.Deps) {
		d.Recordings = media
		d.Now = func() time.Time { return *clock.Load() }
	})
	f := newFixtures(e)
	save := func(recording, voicemail string) string {
		c := f.call(now.Add(-2*time.Minute), func(c *dialplan.Call) {
			c.Status, c.EndedAt = dialplan.CallDone, timePtr(now.Add(-time.Minute))
			c.Recording, c.Voicemail, c.User = recording, voicemail, f.agent.user
		})
		return fmt.Sprintf("/v1/calls/%d", e.saveCall(&c))
	}
	both, other, third := save("rec-1", "vm-1"), save("rec-2", ""), save("rec-3", "")
	links := func(k key, call string) (recording, voicemail string) {
		var got struct{ Call map[string]any }
		e.ok(k, "GET", call, nil, &got)
		recording, _ = got.Call["recording"].(string)
		voicemail, _ = got.Call["voicemail"].(string)
		return recording, voicemail
	}
	recording, voicemail := links(f.a, both)
	expires := strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10)
	require.Regexp(t, "^"+e.url+both+`/recording\?expires=`+expires+`&signature=[A-Za-z0-9_-]{43}$`, recording)
	require.Regexp(t, "^"+e.url+both+`/voicemail\?expires=`+expires+`&signature=[A-Za-z0-9_-]{43}$`, voicemail)
	agents, _ := links(f.agent, both)
	require.Equal(t, recording, agents, "the same link for whoever asks at the same second")

	var list callsPage
	e.ok(f.a, "GET", "/v1/calls", nil, &list)
	require.Len(t, list.Calls, 3)
	require.Equal(t, recording, list.Calls[0]["recording"], "lists sign too")

	// with changes one query value of link, or its path.
	with := func(link, name, value string) string {
		path, query, _ := strings.Cut(link, "?")
		q, err := url.ParseQuery(query)
		require.NoError(t, err)
		if name == "path" {
			path = value
		} else if value == "" {
			q.Del(name)
		} else {
			q.Set(name, value)
		}
		return path + "?" + q.Encode()
	}
	sig := func(link string) string { _, q, _ := strings.Cut(link, "signature="); return q }
	otherRecording, _ := links(f.a, other)
	flipped := []byte(sig(recording)) // one character changed into another
	flipped[5] = map[bool]byte{true: 'B', false: 'A'}[flipped[5] == 'A']

	t.Run("good", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			k    key
			link string
			want string
		}{
			{"the recording, without credentials", key{}, recording, "RIFF-recording"},
			{"the voicemail, without credentials", key{}, voicemail, "RIFF-voicemail"},
			{"with wrong credentials: the link alone counts", key{id: "nobody", token: "wrong"}, recording, "RIFF-recording"},
			{"with another company's key", f.b, recording, "RIFF-recording"},
			{"credentials without a link, as before", f.a, both + "/recording", "RIFF-recording"},
			{"an agent's credentials on their call", f.agent, both + "/voicemail", "RIFF-voicemail"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, body := e.get(tc.k, "GET", tc.link, nil)
				require.Equal(t, 200, res.StatusCode, "%s", body)
				require.Equal(t, tc.want, string(body))
				require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
				require.Equal(t, "private, no-store", res.Header.Get("Cache-Control"))
			})
		}
	})

	t.Run("refused", func(t *testing.T) {
		fresh := "get a fresh one from GET " + both
		for _, tc := range []struct {
			name   string
			link   string
			status int
			want   []string // words of the error and the troubleshoot
		}{
			{"no link, no credentials", both + "/recording", 401, []string{"unauthorized"}},
			{"another call", with(recording, "path", other+"/recording"), 403,
				[]string{"invalid link", "altered", "get a fresh one from GET " + other}},
			{"another call's link", with(otherRecording, "path", both+"/recording"), 403, []string{"invalid link", fresh}},
			{"a call that does not exist: not told apart", with(recording, "path", "/v1/calls/999999/recording"), 403,
				[]string{"invalid link", "GET /v1/calls/999999"}},
			{"the other file", with(recording, "path", both+"/voicemail"), 403, []string{"invalid link", "voicemail"}},
			{"a later expiry", with(recording, "expires", strconv.FormatInt(now.Add(time.Hour).Unix(), 10)), 403,
				[]string{"invalid link", fresh}},
			{"an earlier expiry", with(recording, "expires", strconv.FormatInt(now.Add(time.Minute).Unix(), 10)), 403,
				[]string{"invalid link", fresh}},
			{"a past expiry", with(recording, "expires", strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)), 403,
				[]string{"link expired", "2026-11-23T10:14:00Z", fresh}},
			{"the signature altered", with(recording, "signature", string(flipped)), 403, []string{"invalid link", fresh}},
			{"the signature cut", with(recording, "signature", sig(recording)[:40]), 403, []string{"invalid link", "base64url"}},
			{"no signature", with(recording, "signature", ""), 403, []string{"invalid link", "signature"}},
			{"no expires", with(recording, "expires", ""), 403, []string{"invalid link", "expires"}},
			{"expires not a number", with(recording, "expires", "soon"), 403, []string{"invalid link", "UNIX seconds"}},
			{"a path that is not an id", with(recording, "path", "/v1/calls/x/recording"), 404, []string{"not an id"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, body := e.get(key{}, "GET", tc.link, nil)
				require.Equal(t, tc.status, res.StatusCode, "%s", body)
				require.Equal(t, "application/json; charset=utf-8", res.Header.Get("Content-Type"))
				for _, w := range tc.want {
					require.Contains(t, string(body), w)
				}
			})
		}
	})

	t.Run("expired", func(t *testing.T) {
		defer at(0)
		at(10*time.Minute - time.Second)
		res, body := e.get(key{}, "GET", recording, nil)
		require.Equal(t, 200, res.StatusCode, "good for 10 minutes: %s", body)
		at(10 * time.Minute)
		for _, k := range []key{{}, f.a} {
			res, body = e.get(k, "GET", recording, nil)
			require.Equal(t, 403, res.StatusCode, "%s", body)
			require.JSONEq(t, `{"error": "link expired", "troubleshoot": "the link expired at 2026-11-23T10:25:00Z; `+
				`get a fresh one from GET `+both+`"}`, string(body), "even with credentials: the link is judged alone")
		}
		res, body = e.get(f.a, "GET", both+"/recording", nil)
		require.Equal(t, 200, res.StatusCode, "credentials still download: %s", body)
		fresh, _ := links(f.a, both)
		require.NotEqual(t, recording, fresh)
		res, body = e.get(key{}, "GET", fresh, nil)
		require.Equal(t, 200, res.StatusCode, "a fresh link: %s", body)
	})

	// A link outlives neither the deletion nor the replacement of its file:
	// 403, as an altered link. The signature covers the name the file had;
	// the server can check it only against the name the call has now, so
	// it cannot tell a link to a deleted file from a forged one, and a 404
	// would tell whoever guesses ids that the call once had a recording.
	t.Run("the file deleted or replaced", func(t *testing.T) {
		replaced, _ := links(f.a, third)
		_, err := e.db.Exec("UPDATE calls SET recording = 'rec-2' WHERE id = $1", strings.TrimPrefix(third, "/v1/calls/"))
		require.NoError(t, err)
		res, body := e.get(key{}, "GET", replaced, nil)
		require.Equal(t, 403, res.StatusCode, "replaced: %s", body)
		require.Contains(t, string(body), "deleted or replaced")

		res, body = e.get(f.a, "DELETE", both+"/recording", nil)
		require.Equal(t, 204, res.StatusCode, "%s", body)
		res, body = e.get(key{}, "GET", recording, nil)
		require.Equal(t, 403, res.StatusCode, "deleted: %s", body)
		require.Contains(t, string(body), "the call's recording was deleted or replaced")
		res, body = e.get(key{}, "GET", voicemail, nil)
		require.Equal(t, 200, res.StatusCode, "the voicemail's link lives on: %s", body)
	})

	// The key is in the database: another process on it (a restart, a
	// standby) opens the links this one gave.
	t.Run("another process", func(t *testing.T) {
		deps := e.deps
		deps.Store = store.New(e.db)
		srv := httptest.NewServer(api.NewServer(deps))
		defer srv.Close()
		res, err := srv.Client().Get(srv.URL + strings.TrimPrefix(voicemail, e.url))
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		require.Equal(t, 200, res.StatusCode, "%s", body)
		require.Equal(t, "RIFF-voicemail", string(body))
	})
}

// TestSignedLinksWithoutKey: when the database does not give the signing
// key, a call with a file is a 500, never a link that would not open; a
// call without is served as ever.
func TestSignedLinksWithoutKey(t *testing.T) {
	e := newEnvWith(t, func(d *api.Deps) { d.Recordings = fakeRecordings{"rec-1": "RIFF"} })
	f := newFixtures(e)
	with := f.call(now.Add(-time.Minute), func(c *dialplan.Call) { c.Recording = "rec-1" })
	without := f.call(now.Add(-time.Minute), nil)
	withID, withoutID := e.saveCall(&with), e.saveCall(&without)
	_, err := e.db.Exec("DROP TABLE secrets")
	require.NoError(t, err)

	status, body := e.do(f.a, "GET", fmt.Sprintf("/v1/calls/%d", withID), nil)
	require.Equal(t, 500, status, "%v", body)
	require.Equal(t, "internal error", body["error"])
	status, body = e.do(f.a, "GET", "/v1/calls", nil)
	require.Equal(t, 500, status, "%v", body)
	e.ok(f.a, "GET", fmt.Sprintf("/v1/calls/%d", withoutID), nil, nil)
	res, raw := e.get(key{}, "GET", fmt.Sprintf("/v1/calls/%d/recording?expires=%d&signature=%s", withID,
		now.Add(time.Minute).Unix(), strings.Repeat("A", 43)), nil)
	require.Equal(t, 500, res.StatusCode, "%s", raw)
	res, raw = e.get(f.a, "GET", fmt.Sprintf("/v1/calls/%d/recording", withID), nil)
	require.Equal(t, 200, res.StatusCode, "credentials need no key: %s", raw)
}
