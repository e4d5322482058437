package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/prompts"
)

// audioFile makes a test file with ffmpeg (lavfi sources) and returns it.
func audioFile(t *testing.T, ext string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "f."+ext)
	msg, err := exec.Command("ffmpeg", append(append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, args...),
		"-y", out)...).CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", msg)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	return data
}

func sine(t *testing.T, ext string, rate, channels int, seconds float64) []byte {
	t.Helper()
	return audioFile(t, ext, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=%d:duration=%g", rate, seconds),
		"-ac", fmt.Sprint(channels))
}

// part is one field of a multipart upload.
type part struct {
	name, filename string
	data           []byte
}

// upload posts a multipart body to /v1/media.
func (e *env) upload(k key, parts ...part) (int, map[string]any) {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, p := range parts {
		var (
			fw  io.Writer
			err error
		)
		if p.filename != "" {
			fw, err = w.CreateFormFile(p.name, p.filename)
		} else {
			fw, err = w.CreateFormField(p.name)
		}
		require.NoError(e.t, err)
		_, err = fw.Write(p.data)
		require.NoError(e.t, err)
	}
	require.NoError(e.t, w.Close())
	return e.raw(k, "POST", "/v1/media", w.FormDataContentType(), body.Bytes())
}

// raw sends a body with a content type and decodes a JSON answer.
func (e *env) raw(k key, method, path, contentType string, body []byte) (int, map[string]any) {
	e.t.Helper()
	res, raw := e.send(k, method, path, body, map[string]string{"Content-Type": contentType})
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(e.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return res.StatusCode, out
}

// get fetches a path and returns the whole answer, body read.
func (e *env) get(k key, method, path string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	return e.send(k, method, path, nil, header)
}

// send sends a request and returns the whole answer, body read; every
// answer must be what Aircall answers, for its routes.
func (e *env) send(k key, method, path string, body []byte, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.at(path), bytes.NewReader(body))
	require.NoError(e.t, err)
	if k.id != "" {
		req.SetBasicAuth(k.id, k.token)
	}
	for name, v := range header {
		req.Header.Set(name, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	e.checkAircall(method, req.URL.String(), res.StatusCode, answer)
	return res, answer
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// promptFiles lists the wav files in the prompt directory.
func (e *env) promptFiles() []string {
	e.t.Helper()
	files, err := filepath.Glob(filepath.Join(e.prompts.Dir(), "*.wav"))
	require.NoError(e.t, err)
	return files
}

func (e *env) mediaCount() int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.db.Get(&n, "SELECT count(*) FROM media"))
	return n
}

// requireTelephonyWAV checks a canonical 8 kHz mono 16-bit wav of about
// ms milliseconds that is not silent (RMS computed here).
func requireTelephonyWAV(t *testing.T, wav []byte, ms int) {
	t.Helper()
	require.Greater(t, len(wav), 44)
	le := binary.LittleEndian
	require.Equal(t, "RIFF", string(wav[:4]))
	require.Equal(t, "data", string(wav[36:40]))
	require.EqualValues(t, 1, le.Uint16(wav[20:22]), "PCM")
	require.EqualValues(t, 1, le.Uint16(wav[22:24]), "mono")
	require.EqualValues(t, 8000, le.Uint32(wav[24:28]), "8 kHz")
	require.EqualValues(t, 16, le.Uint16(wav[34:36]), "16-bit")
	pcm := wav[44:]
	require.InDelta(t, ms, len(pcm)/16, 50, "duration in ms")
	var sum float64
	for i := 0; i+1 < len(pcm); i += 2 {
		s := float64(int16(le.Uint16(pcm[i:])))
		sum += s * s
	}
	require.Greater(t, sum/float64(len(pcm)/2), 300.0*300.0, "not silent")
}

func TestMediaLibrary(t *testing.T) {
	e := newEnv(t)
	admin := e.company("Acme", "owner@acme.test")
	supervisor := e.userKey(admin, "sup@acme.test", dialplan.RoleSupervisor, false)
	agent := e.userKey(admin, "agent@acme.test", dialplan.RoleAgent, false)
	other := e.company("Globex", "owner@globex.test")

	mp3 := sine(t, "mp3", 44100, 2, 2)
	status, out := e.upload(admin, part{name: "file", filename: "welcome.mp3", data: mp3}, part{name: "name", data: []byte("Accueil été")})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	m := out["media"].(map[string]any)
	id := int64(m["id"].(float64))
	require.Equal(t, "Accueil été", m["name"])
	require.Equal(t, "audio/mpeg", m["content_type"])
	require.InDelta(t, 2000, m["duration_ms"], 50)
	require.Equal(t, e.url+fmt.Sprintf("/v1/media/%d", id), m["direct_link"])
	require.Equal(t, e.url+fmt.Sprintf("/v1/media/%d/file", id), m["file_url"])
	hash := m["sha256"].(string)
	require.Len(t, e.promptFiles(), 1, "the converted file is ready for the media server")
	require.Equal(t, filepath.Join(e.prompts.Dir(), hash+".wav"), e.promptFiles()[0])

	// A wav, named after its file.
	status, out = e.upload(admin, part{name: "file", filename: "Menu principal.wav", data: sine(t, "wav", 48000, 1, 1.5)})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, "Menu principal", out["media"].(map[string]any)["name"])
	require.Equal(t, "audio/wav", out["media"].(map[string]any)["content_type"])
	second := int64(out["media"].(map[string]any)["id"].(float64))

	// Read: admins and supervisors; agents and other companies cannot.
	var got map[string]map[string]any
	e.ok(supervisor, "GET", fmt.Sprintf("/v1/media/%d", id), nil, &got)
	require.Equal(t, m, got["media"])
	var page struct {
		Media []map[string]any
		Meta  struct {
			Total        int     `json:"total"`
			NextPageLink *string `json:"next_page_link"`
		}
	}
	e.ok(supervisor, "GET", "/v1/media?per_page=1&order=desc", nil, &page)
	require.Len(t, page.Media, 1)
	require.EqualValues(t, second, page.Media[0]["id"])
	require.Equal(t, 2, page.Meta.Total)
	require.NotNil(t, page.Meta.NextPageLink)
	status, _ = e.do(agent, "GET", "/v1/media", nil)
	require.Equal(t, http.StatusForbidden, status)
	status, _ = e.do(other, "GET", fmt.Sprintf("/v1/media/%d", id), nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = e.upload(supervisor, part{name: "file", filename: "x.mp3", data: mp3})
	require.Equal(t, http.StatusForbidden, status)

	// The converted file.
	res, wav := e.get(supervisor, "GET", fmt.Sprintf("/v1/media/%d/file", id), nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
	require.Equal(t, `"`+hash+`"`, res.Header.Get("ETag"))
	require.Contains(t, res.Header.Get("Content-Disposition"), "attachment")
	require.Equal(t, hash, sha(wav))
	require.EqualValues(t, len(wav), m["size_bytes"])
	requireTelephonyWAV(t, wav, 2000)
	res, _ = e.get(supervisor, "GET", fmt.Sprintf("/v1/media/%d/file", id), map[string]string{"If-None-Match": `"` + hash + `"`})
	require.Equal(t, http.StatusNotModified, res.StatusCode)
	res, _ = e.get(other, "GET", fmt.Sprintf("/v1/media/%d/file", id), nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = e.get(agent, "GET", fmt.Sprintf("/v1/media/%d/file", id), nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)

	// Played by a number: the media cannot be deleted until the number
	// stops using it. Another company cannot use it.
	ivr := map[string]any{"name": "Standard", "digits": "01 76 39 08 70", "type": "ivr",
		"ivr_options":      []any{map[string]any{"key": "0", "target": map[string]any{"type": "voicemail"}}},
		"message_settings": map[string]any{"ivr": map[string]any{"type": "media", "media_id": id}}}
	number := e.id(admin, "/v1/numbers", "number", ivr)
	path := fmt.Sprintf("/v1/numbers/%d", number)

	// Its messages are Aircall's: links to the audio, here the media's own
	// wav; null for the default.
	var shown map[string]map[string]any
	e.ok(supervisor, "GET", path, nil, &shown)
	links := shown["number"]["messages"].(map[string]any)
	require.Nil(t, links["welcome"], "the default: no link")
	link := links["ivr"].(string)
	require.Equal(t, e.url+path+"/messages/ivr", link)
	res, played := e.get(supervisor, "GET", link, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
	require.Equal(t, hash, sha(played), "what the media servers play")
	res, _ = e.get(supervisor, "GET", path+"/messages/welcome", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "a message left to the default")
	res, _ = e.get(other, "GET", link, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "another company's number")
	// Sent back as read, the links change nothing; settings sent in their
	// place are refused, not ignored.
	e.ok(admin, "PUT", path, shown["number"], nil)
	status, out = e.do(admin, "PUT", path, map[string]any{"messages": map[string]any{"welcome": map[string]any{"type": "tts", "text": "Hi"}}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, out["error"], "messages.welcome")
	require.Contains(t, out["troubleshoot"], "message_settings")
	status, out = e.do(other, "POST", "/v1/numbers", map[string]any{"name": "Theirs", "digits": "01 76 39 08 71",
		"message_settings": map[string]any{"welcome": map[string]any{"type": "media", "media_id": id}}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, out["error"], "message_settings.welcome.media_id")

	status, out = e.do(admin, "DELETE", fmt.Sprintf("/v1/media/%d", id), nil)
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, out["troubleshoot"], `ivr message of number "Standard"`)
	require.Contains(t, out["troubleshoot"], fmt.Sprintf("id %d", number))
	status, _ = e.do(supervisor, "DELETE", fmt.Sprintf("/v1/media/%d", id), nil)
	require.Equal(t, http.StatusForbidden, status)

	e.ok(admin, "PUT", path, map[string]any{"message_settings": map[string]any{"ivr": nil}}, nil)
	status, _ = e.do(admin, "DELETE", fmt.Sprintf("/v1/media/%d", id), nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = e.do(admin, "GET", fmt.Sprintf("/v1/media/%d", id), nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = e.do(admin, "DELETE", fmt.Sprintf("/v1/media/%d", id), nil)
	require.Equal(t, http.StatusNotFound, status)
}

func TestMediaUploadRefusesBadFiles(t *testing.T) {
	e := newEnv(t)
	admin := e.company("Acme", "owner@acme.test")
	good := sine(t, "mp3", 44100, 1, 2)
	corrupt := append(append(append([]byte{}, good[:len(good)/3]...), bytes.Repeat([]byte{0x5a, 0x00, 0x13}, 3000)...), good[len(good)/3:]...)
	before := e.snapshot()

	for _, tc := range []struct {
		name    string
		parts   []part
		status  int
		says    string
		problem string
	}{
		{"wrong type", []part{{"file", "logo.mp3", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")}}, 415, "unsupported media type", "image/png"},
		{"ogg", []part{{"file", "a.ogg", audioFile(t, "ogg", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis")}}, 415,
			"unsupported media type", "Ogg"},
		{"corrupt", []part{{"file", "broken.mp3", corrupt}}, 422, "invalid file", "could not be decoded as mp3"},
		{"unreadable", []part{{"file", "broken.mp3", bytes.Repeat([]byte{0x12, 0x34, 0x56, 0x78, 0x9a}, 2000)}}, 422, "invalid file",
			"cannot be read as an mp3 or a wav"},
		{"empty", []part{{"file", "empty.wav", nil}}, 422, "invalid file", "empty"},
		{"silent", []part{{"file", "silence.wav", audioFile(t, "wav", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "2")}},
			422, "invalid file", "silent"},
		{"too big", []part{{"file", "big.mp3", append(append([]byte{}, good...), make([]byte, prompts.MaxUploadBytes)...)}}, 413,
			"file too large", "10 MB"},
		{"too long", []part{{"file", "long.wav", sine(t, "wav", 8000, 1, 605)}}, 422, "invalid file", "over 10 minutes"},
		{"no file", []part{{"name", "", []byte("Welcome")}}, 422, "invalid file", "required"},
		{"two files", []part{{"file", "a.mp3", good}, {"file", "b.mp3", good}}, 422, "invalid file", "one file"},
		{"unknown field", []part{{"file", "a.mp3", good}, {"colour", "", []byte("red")}}, 422, "invalid colour", "unknown field"},
		{"name too long", []part{{"file", "a.mp3", good}, {"name", "", []byte(strings.Repeat("é", 65))}}, 422, "invalid name", "64"},
		{"blank name", []part{{"file", "a.mp3", good}, {"name", "", []byte("  ")}}, 422, "invalid name", "blank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := e.upload(admin, tc.parts...)
			require.Equal(t, tc.status, status, "%v", out)
			require.Equal(t, tc.says, out["error"], "%v", out)
			require.Contains(t, out["troubleshoot"], tc.problem)
		})
	}
	status, out := e.do(admin, "POST", "/v1/media", map[string]any{"file": "welcome.mp3"})
	require.Equal(t, http.StatusUnsupportedMediaType, status, "JSON is not an upload")
	require.Contains(t, out["troubleshoot"], "multipart/form-data")
	status, out = e.raw(admin, "POST", "/v1/media", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nnot a part"))
	require.Equal(t, http.StatusBadRequest, status, "%v", out)

	require.Zero(t, e.mediaCount(), "nothing stored")
	require.Empty(t, e.promptFiles(), "no file kept")
	require.Equal(t, before, e.snapshot())
}

func TestVoices(t *testing.T) {
	e := newEnv(t)
	admin := e.company("Acme", "owner@acme.test")
	agent := e.userKey(admin, "agent@acme.test", dialplan.RoleAgent, false)
	var v struct {
		Languages []struct{ Language, Name string }
		Voices    []struct{ Name, Gender string }
	}
	e.ok(admin, "GET", "/v1/voices", nil, &v)
	langs := map[string]string{}
	for _, l := range v.Languages {
		langs[l.Language] = l.Name
	}
	for _, want := range []string{"en", "en-US", "fr", "fr-FR", "es", "de", "it", "nl"} {
		require.Contains(t, langs, want)
	}
	require.Equal(t, "French (France)", langs["fr-FR"])
	require.Equal(t, "male", v.Voices[0].Name)
	require.Equal(t, "female", v.Voices[1].Name)
	status, _ := e.do(agent, "GET", "/v1/voices", nil)
	require.Equal(t, http.StatusForbidden, status)
}

func TestNumberSaveRendersSpeech(t *testing.T) {
	e := newEnv(t)
	admin := e.company("Acme", "owner@acme.test")
	before := e.snapshot()
	welcome := func(m map[string]any) map[string]any {
		return map[string]any{"name": "Main", "digits": "01 76 39 08 61", "message_settings": map[string]any{"welcome": m}}
	}
	for _, tc := range []struct {
		msg   map[string]any
		field string
	}{
		{map[string]any{"type": "tts", "text": "Hallo", "language": "xx-YY"}, "message_settings.welcome.language"},
		{map[string]any{"type": "tts", "text": "Bonjour", "voice": "Léa"}, "message_settings.welcome.voice"},
	} {
		status, out := e.do(admin, "POST", "/v1/numbers", welcome(tc.msg))
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
		require.Equal(t, "invalid "+tc.field, out["error"])
		require.Contains(t, out["troubleshoot"], "GET /v1/voices")
	}
	require.Equal(t, before, e.snapshot(), "nothing saved")
	require.Zero(t, e.prompts.Stats().Rendered)

	var n struct{ Number map[string]any }
	e.ok(admin, "POST", "/v1/numbers", welcome(map[string]any{"type": "tts", "text": "Bienvenue chez Acme", "voice": "female"}), &n)
	require.EqualValues(t, 1, e.prompts.Stats().Rendered, "rendered at save time")
	path := fmt.Sprintf("/v1/numbers/%v", n.Number["id"])

	// Saving it again as read, or changing something else, renders
	// nothing; a changed message renders once.
	e.ok(admin, "PUT", path, n.Number, nil)
	e.ok(admin, "PUT", path, map[string]any{"name": "Main line"}, nil)
	require.EqualValues(t, 1, e.prompts.Stats().Rendered)
	e.ok(admin, "PUT", path, map[string]any{"message_settings": map[string]any{
		"welcome":     map[string]any{"type": "tts", "text": "Bienvenue chez Acme", "voice": "female"},
		"after_hours": map[string]any{"type": "tts", "text": "We are closed", "language": "en-US"}}}, nil)
	require.EqualValues(t, 2, e.prompts.Stats().Rendered)
	status, out := e.do(admin, "PUT", path, map[string]any{"message_settings": map[string]any{
		"after_hours": map[string]any{"type": "tts", "text": "Wir sind geschlossen", "language": "de-DE", "voice": "nobody"}}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "invalid message_settings.after_hours.voice", out["error"])

	// The speech is what a call plays.
	var saved struct{ Number dialplan.Number }
	e.ok(admin, "GET", path, nil, &saved)
	a, err := e.prompts.Audio(context.Background(), dialplan.Prompt{Number: saved.Number.ID, Kind: dialplan.MsgWelcome,
		Message: saved.Number.Messages[dialplan.MsgWelcome]})
	require.NoError(t, err)
	require.EqualValues(t, 2, e.prompts.Stats().Rendered, "played from the cache")
	wav, err := os.ReadFile(a.Path)
	require.NoError(t, err)
	require.Equal(t, 1, int(binary.LittleEndian.Uint16(wav[22:24])))
}

// TestPromptFiles serves prompts as the media servers fetch them: long,
// content-addressed URLs, no credentials, cached for good.
func TestPromptFiles(t *testing.T) {
	e := newEnv(t)
	admin := e.company("Acme", "owner@acme.test")
	status, out := e.upload(admin, part{name: "file", filename: "menu.mp3", data: sine(t, "mp3", 22050, 2, 1.5)})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	mediaID := dialplan.MediaID(out["media"].(map[string]any)["id"].(float64))
	number := e.id(admin, "/v1/numbers", "number", map[string]any{"name": "Main", "digits": "01 76 39 08 61",
		"message_settings": map[string]any{"welcome": map[string]any{"type": "media", "media_id": mediaID}}})

	// A library that hands out URLs of this server, as with
	// SWITCHBOARD_PROMPTS_URL; it shares the server's directory.
	byURL, err := prompts.New(prompts.Options{Dir: e.prompts.Dir(), BaseURL: e.url, Directory: e.store})
	require.NoError(t, err)
	ctx := context.Background()
	for _, p := range []dialplan.Prompt{
		{Number: dialplan.NumberID(number), Kind: dialplan.MsgWelcome, Message: &dialplan.Message{Type: dialplan.MessageMedia, MediaID: mediaID}},
		{Number: dialplan.NumberID(number), Kind: dialplan.MsgWelcome, Message: &dialplan.Message{Type: dialplan.MessageTTS,
			Text: "Bonjour", Language: "fr-FR"}},
		{Number: dialplan.NumberID(number), Sound: "beep"},
		{Number: dialplan.NumberID(number), Kind: dialplan.MsgAfterHours, Sound: "after_hours"},
	} {
		a, err := byURL.Audio(ctx, p)
		require.NoError(t, err)
		require.Greater(t, len(a.URL), 60, "Asterisk fails on short URLs (asterisk#444)")
		path, ok := strings.CutPrefix(a.URL, e.url)
		require.True(t, ok, a.URL)
		require.Regexp(t, `^/media/prompts/[0-9a-f]{64}\.wav$`, path)

		res, body := e.get(key{}, "GET", path, nil) // no credentials
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "audio/wav", res.Header.Get("Content-Type"))
		require.Equal(t, "max-age=31536000, immutable", res.Header.Get("Cache-Control"))
		etag := res.Header.Get("ETag")
		require.Equal(t, `"`+sha(body)+`"`, etag, "the ETag is the content's hash")
		require.Equal(t, strings.TrimSuffix(filepath.Base(path), ".wav"), sha(body), "the name is the content's hash")
		require.Equal(t, 1, int(binary.LittleEndian.Uint16(body[22:24])), "mono")

		res, body = e.get(key{}, "HEAD", path, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "HEAD, as Asterisk revalidates")
		require.Empty(t, body)
		require.Equal(t, etag, res.Header.Get("ETag"))
		require.NotEmpty(t, res.Header.Get("Content-Length"))
		res, _ = e.get(key{}, "HEAD", path, map[string]string{"If-None-Match": etag})
		require.Equal(t, http.StatusNotModified, res.StatusCode)
		res, _ = e.get(key{}, "GET", path, map[string]string{"If-None-Match": etag})
		require.Equal(t, http.StatusNotModified, res.StatusCode)
	}
	for _, bad := range []string{strings.Repeat("ab", 32) + ".wav", "beep.wav", strings.Repeat("ab", 32), "..%2Fx.wav", "tts"} {
		res, body := e.get(key{}, "GET", "/media/prompts/"+bad, nil)
		require.Equal(t, http.StatusNotFound, res.StatusCode, bad)
		require.Contains(t, string(body), "troubleshoot")
	}
}
