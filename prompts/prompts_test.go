package prompts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/prompts"
)

// RequireTools fails (never skips) a test that needs the audio tools when
// they are missing: CI installs them.
func requireTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "espeak-ng"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: these tests need it, and CI installs it (scripts/ensure-audio-tools.sh, run by "+
				"`make test` and .ci/run); install it with `apt-get install espeak-ng ffmpeg`", tool)
		}
	}
}

func newLibrary(t testing.TB, o prompts.Options) *prompts.Library {
	t.Helper()
	requireTools(t)
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	l, err := prompts.New(o)
	require.NoError(t, err)
	return l
}

// ffmpeg runs ffmpeg to make a test file and returns its bytes.
func ffmpeg(t testing.TB, ext string, args ...string) []byte {
	t.Helper()
	requireTools(t)
	out := filepath.Join(t.TempDir(), "input."+ext)
	cmd := exec.Command("ffmpeg", append(append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, args...), "-y", out)...)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "ffmpeg %v: %s", args, msg)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	return data
}

// tone is a sine of seconds at rate with channels, in an mp3 or a wav
// (codec names the wav's sample format).
func tone(t testing.TB, ext string, rate, channels int, seconds float64, codec ...string) []byte {
	t.Helper()
	args := []string{"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=%d:duration=%g", rate, seconds),
		"-ac", fmt.Sprint(channels)}
	if ext == "mp3" {
		args = append(args, "-c:a", "libmp3lame", "-b:a", "64k")
	} else {
		args = append(args, "-c:a", append(codec, "pcm_s16le")[0])
	}
	return ffmpeg(t, ext, args...)
}

// header reads a canonical 44-byte wav header by hand (not with the code
// under test): format, channels, rate, bits, and the PCM after it.
type header struct {
	format, channels, bits int
	rate                   int
	pcm                    []byte
}

func readHeader(t testing.TB, wav []byte) header {
	t.Helper()
	require.Greater(t, len(wav), 44)
	require.Equal(t, "RIFF", string(wav[0:4]))
	require.Equal(t, "WAVE", string(wav[8:12]))
	require.Equal(t, "fmt ", string(wav[12:16]))
	require.Equal(t, "data", string(wav[36:40]))
	le := binary.LittleEndian
	size := int(le.Uint32(wav[40:44]))
	require.Equal(t, len(wav)-44, size, "the data chunk fills the file")
	require.Equal(t, len(wav)-8, int(le.Uint32(wav[4:8])), "RIFF size")
	return header{format: int(le.Uint16(wav[20:22])), channels: int(le.Uint16(wav[22:24])), rate: int(le.Uint32(wav[24:28])),
		bits: int(le.Uint16(wav[34:36])), pcm: wav[44:]}
}

// rms of 16-bit PCM as a fraction of full scale, computed here.
func rms(pcm []byte) float64 {
	var sum float64
	n := len(pcm) / 2
	for i := 0; i < n; i++ {
		s := float64(int16(binary.LittleEndian.Uint16(pcm[2*i:])))
		sum += s * s
	}
	return math.Sqrt(sum/float64(max(n, 1))) / 32768
}

// requireTelephony checks an 8 kHz mono 16-bit PCM wav of about want
// (within 50 ms) that is not silent.
func requireTelephony(t testing.TB, wav []byte, want time.Duration) {
	t.Helper()
	h := readHeader(t, wav)
	require.Equal(t, 1, h.format, "PCM")
	require.Equal(t, 1, h.channels, "mono")
	require.Equal(t, 8000, h.rate, "8 kHz")
	require.Equal(t, 16, h.bits, "16-bit")
	got := time.Duration(len(h.pcm)/2) * time.Second / 8000
	if want > 0 {
		require.InDelta(t, want.Seconds(), got.Seconds(), 0.050, "duration %v, want %v", got, want)
	}
	require.Greater(t, rms(h.pcm), 0.01, "not silent")
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestConvertFormats(t *testing.T) {
	l := newLibrary(t, prompts.Options{})
	speech := func() []byte {
		dir := t.TempDir()
		out := filepath.Join(dir, "speech.wav")
		msg, err := exec.Command("espeak-ng", "-v", "en", "-w", out, "Welcome to Switchboard. Please hold.").CombinedOutput()
		require.NoError(t, err, "%s", msg)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		return data
	}()
	// espeak-ng writes 22050 Hz mono; its length, from its own header.
	speechLength := time.Duration(binary.LittleEndian.Uint32(speech[40:44])/2) * time.Second / 22050

	for _, tc := range []struct {
		name   string
		data   []byte
		format prompts.Format
		length time.Duration
	}{
		{"mp3 44.1 kHz stereo", tone(t, "mp3", 44100, 2, 2.5), prompts.MP3, 2500 * time.Millisecond},
		{"mp3 48 kHz mono", tone(t, "mp3", 48000, 1, 1.2), prompts.MP3, 1200 * time.Millisecond},
		{"mp3 22.05 kHz stereo (MPEG-2)", tone(t, "mp3", 22050, 2, 3), prompts.MP3, 3 * time.Second},
		{"mp3 8 kHz mono (MPEG-2.5)", tone(t, "mp3", 8000, 1, 2), prompts.MP3, 2 * time.Second},
		{"mp3 with an ID3 tag", ffmpeg(t, "mp3", "-f", "lavfi", "-i", "sine=frequency=600:sample_rate=44100:duration=1.5",
			"-metadata", "title=Welcome", "-id3v2_version", "3", "-c:a", "libmp3lame"), prompts.MP3, 1500 * time.Millisecond},
		{"wav 44.1 kHz stereo 16-bit", tone(t, "wav", 44100, 2, 2), prompts.WAV, 2 * time.Second},
		{"wav 16 kHz mono 16-bit", tone(t, "wav", 16000, 1, 1.25), prompts.WAV, 1250 * time.Millisecond},
		{"wav 96 kHz stereo 24-bit", tone(t, "wav", 96000, 2, 1, "pcm_s24le"), prompts.WAV, time.Second},
		{"wav 48 kHz 6 channels float", tone(t, "wav", 48000, 6, 1.5, "pcm_f32le"), prompts.WAV, 1500 * time.Millisecond},
		{"wav 8 kHz mono µ-law", tone(t, "wav", 8000, 1, 2, "pcm_mulaw"), prompts.WAV, 2 * time.Second},
		{"wav 8 kHz mono 16-bit (already right)", tone(t, "wav", 8000, 1, 0.5), prompts.WAV, 500 * time.Millisecond},
		{"wav from espeak-ng, 22.05 kHz", speech, prompts.WAV, speechLength},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := l.Convert(context.Background(), tc.data)
			require.NoError(t, err)
			require.Equal(t, tc.format, c.Format)
			requireTelephony(t, c.WAV, tc.length)
			require.InDelta(t, tc.length.Seconds(), c.Duration.Seconds(), 0.050)
			require.Equal(t, hash(c.WAV), c.SHA256)
			entries, err := os.ReadDir(l.Dir())
			require.NoError(t, err)
			require.Len(t, entries, 1, "converting keeps nothing (only tts/ is there)")
		})
	}
	require.EqualValues(t, 12, l.Stats().Converted)
}

func TestConvertRefusesBadInput(t *testing.T) {
	l := newLibrary(t, prompts.Options{})
	good := tone(t, "mp3", 44100, 1, 3)
	corruptMP3 := append(append(append([]byte{}, good[:len(good)/3]...), bytes.Repeat([]byte{0x5a, 0x00, 0x13}, 3000)...),
		good[len(good)/3:]...)
	emptyWAV := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00" +
		"\x02\x00\x10\x00data\x00\x00\x00\x00")
	truncatedFmt := []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

	for _, tc := range []struct {
		name    string
		data    []byte
		problem prompts.Problem
		says    string
	}{
		{"nothing", nil, prompts.Empty, "empty"},
		{"text", []byte("Bonjour, ceci n'est pas un son."), prompts.WrongType, "text/plain"},
		{"png image", png, prompts.WrongType, "image/png"},
		{"ogg vorbis", ffmpeg(t, "ogg", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis"), prompts.WrongType, "Ogg Vorbis"},
		{"flac", ffmpeg(t, "flac", "-f", "lavfi", "-i", "sine=duration=1"), prompts.WrongType, "FLAC"},
		{"random bytes", bytes.Repeat([]byte{0x12, 0x34, 0x56, 0x78, 0x9a}, 2000), prompts.Corrupt, "cannot be read as an mp3 or a wav"},
		{"ID3 tag, no audio", append([]byte("ID3\x03\x00\x00\x00\x00\x00\x10"), bytes.Repeat([]byte{0x42}, 500)...), prompts.Corrupt, "ID3"},
		{"mp3 with garbage inside", corruptMP3, prompts.Corrupt, "could not be decoded as mp3"},
		{"wav with a truncated header", truncatedFmt, prompts.Corrupt, "could not be decoded as wav"},
		{"wav header with no data", emptyWAV, prompts.Empty, "no audio"},
		{"silent wav", ffmpeg(t, "wav", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "3"), prompts.Silent, "silent"},
		{"silent mp3", ffmpeg(t, "mp3", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "2", "-c:a", "libmp3lame"),
			prompts.Silent, "silent"},
		{"over 10 MB", append(append([]byte{}, good...), make([]byte, prompts.MaxUploadBytes)...), prompts.TooLarge, "10 MB"},
		{"over 10 minutes", tone(t, "wav", 8000, 1, 601), prompts.TooLong, "over 10 minutes"},
		{"long mp3 under 10 MB", ffmpeg(t, "mp3", "-f", "lavfi", "-i", "sine=sample_rate=8000:duration=700", "-c:a", "libmp3lame",
			"-b:a", "8k"), prompts.TooLong, "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Convert(context.Background(), tc.data)
			var input *prompts.InputError
			require.True(t, errors.As(err, &input), "want an InputError, got %v", err)
			t.Log(input.Error())
			require.Equal(t, tc.problem, input.Problem, input.Detail)
			require.Contains(t, input.Error(), tc.says)
			require.NotContains(t, input.Error(), os.TempDir(), "no temporary paths in messages")
		})
	}
	entries, err := os.ReadDir(l.Dir())
	require.NoError(t, err)
	require.Len(t, entries, 1, "nothing was kept (only tts/ is there)")
	require.Zero(t, l.Stats().Converted)
}

func TestToolTimeoutAndMissingTool(t *testing.T) {
	requireTools(t)
	slow := filepath.Join(t.TempDir(), "slow-ffmpeg")
	require.NoError(t, os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 10\n"), 0o755))
	l := newLibrary(t, prompts.Options{FFmpeg: slow, Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := l.Convert(context.Background(), tone(t, "wav", 8000, 1, 1))
	require.ErrorIs(t, err, prompts.ErrUnavailable)
	require.Contains(t, err.Error(), "took over 200ms")
	require.Less(t, time.Since(start), 5*time.Second)

	l = newLibrary(t, prompts.Options{FFmpeg: "no-such-ffmpeg"})
	_, err = l.Convert(context.Background(), tone(t, "wav", 8000, 1, 1))
	require.ErrorIs(t, err, prompts.ErrUnavailable)
	require.Contains(t, err.Error(), "apt-get install ffmpeg")
	require.ErrorIs(t, l.CheckTools(), prompts.ErrUnavailable)
}

func TestVoices(t *testing.T) {
	l := newLibrary(t, prompts.Options{})
	v, err := l.Voices(context.Background())
	require.NoError(t, err)
	tags := map[string]string{}
	for _, lang := range v.Languages {
		tags[lang.Language] = lang.Name
	}
	for _, want := range []string{"en", "en-GB", "en-US", "fr", "fr-FR", "fr-BE", "es", "de", "it", "nl", "pt-BR"} {
		require.Contains(t, tags, want)
	}
	require.Equal(t, "French (France)", tags["fr-FR"])
	names := map[string]string{}
	for _, voice := range v.Voices {
		names[voice.Name] = voice.Gender
	}
	require.Equal(t, "male", names["male"])
	require.Equal(t, "female", names["female"])
	require.Equal(t, "female", names["female2"])
	require.Equal(t, "male", names["klatt"])
}

func tts(text, language, voice string) *dialplan.Message {
	return &dialplan.Message{Type: dialplan.MessageTTS, Text: text, Language: language, Voice: voice}
}

func TestPrepareRendersOnceAndRefusesWhatIsNotInstalled(t *testing.T) {
	dir := t.TempDir()
	l := newLibrary(t, prompts.Options{Dir: dir})
	ctx := context.Background()
	msgs := dialplan.Messages{
		dialplan.MsgWelcome: tts("Bienvenue chez Acme", "fr-FR", ""),
		dialplan.MsgIVR:     tts("Tapez 1 pour les ventes", "fr-FR", "female"),
		dialplan.MsgBlocked: {Type: dialplan.MessageMedia, MediaID: 3},
	}
	require.NoError(t, l.Prepare(ctx, msgs))
	require.EqualValues(t, 2, l.Stats().Rendered)

	runs := l.Stats().Runs
	require.NoError(t, l.Prepare(ctx, msgs), "the same messages again")
	require.EqualValues(t, 2, l.Stats().Rendered, "nothing rendered again")
	require.Equal(t, runs, l.Stats().Runs, "no process run")

	// Another process on the same directory finds them too.
	again := newLibrary(t, prompts.Options{Dir: dir})
	require.NoError(t, again.Prepare(ctx, msgs))
	require.EqualValues(t, 2, again.Stats().Runs, "only the voice lists are read")

	// One message changed: one render.
	msgs[dialplan.MsgWelcome] = tts("Bienvenue chez Acme, bonjour", "fr-FR", "")
	require.NoError(t, l.Prepare(ctx, msgs))
	require.EqualValues(t, 3, l.Stats().Rendered)

	// The same speech asked for by two names renders once: fr-FR and fr
	// are the same voice, "male" is the language's own.
	require.NoError(t, l.Prepare(ctx, dialplan.Messages{dialplan.MsgWelcome: tts("Bienvenue chez Acme", "fr", "male")}))
	require.EqualValues(t, 3, l.Stats().Rendered)

	for _, tc := range []struct {
		msg   *dialplan.Message
		field string
	}{
		{tts("Hello", "xx-YY", ""), "message_settings.after_hours.language"},
		{tts("Hello", "tlh", ""), "message_settings.after_hours.language"},
		{tts("Hello", "en-US", "Léa"), "message_settings.after_hours.voice"},
		{tts("Hello", "en", "Mr serious"), "message_settings.after_hours.voice"},
	} {
		err := l.Prepare(ctx, dialplan.Messages{dialplan.MsgWelcome: tts("Bonjour", "fr-FR", ""), dialplan.MsgAfterHours: tc.msg})
		var field *dialplan.FieldError
		require.True(t, errors.As(err, &field), "%v", err)
		require.Equal(t, tc.field, field.Field)
		require.Contains(t, field.Problem, "GET /v1/voices")
	}
	require.EqualValues(t, 4, l.Stats().Rendered, "Bonjour, and nothing of the refused ones")
}

func TestConcurrentRequestsForOneSpeechRenderOnce(t *testing.T) {
	l := newLibrary(t, prompts.Options{})
	var wg sync.WaitGroup
	paths := make([]string, 8)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := l.Audio(context.Background(), dialplan.Prompt{Number: 1, Kind: dialplan.MsgWelcome,
				Message: tts("Un instant, nous vous mettons en relation", "fr-FR", "")})
			require.NoError(t, err)
			paths[i] = a.Path
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, l.Stats().Rendered)
	for _, p := range paths {
		require.Equal(t, paths[0], p)
	}
}

// directory is an in-memory prompts.Directory.
type directory struct {
	companies map[dialplan.NumberID]dialplan.Company
	media     map[dialplan.MediaID][]byte
	reads     int
}

func (d *directory) CompanyOfNumber(_ context.Context, id dialplan.NumberID) (dialplan.Company, error) {
	c, ok := d.companies[id]
	if !ok {
		return c, errors.New("not found")
	}
	return c, nil
}

func (d *directory) MediaForNumber(_ context.Context, _ dialplan.NumberID, id dialplan.MediaID) (string, []byte, error) {
	d.reads++
	wav, ok := d.media[id]
	if !ok {
		return "", nil, errors.New("not found")
	}
	return hash(wav), wav, nil
}

func TestAudioByPath(t *testing.T) {
	l := newLibrary(t, prompts.Options{})
	upload, err := l.Convert(context.Background(), tone(t, "mp3", 44100, 2, 1.5))
	require.NoError(t, err)
	dir := &directory{
		companies: map[dialplan.NumberID]dialplan.Company{1: {ID: 1, Language: "fr-FR"}, 2: {ID: 2, Language: "de-DE"},
			3: {ID: 3, Language: "tlh"}, 4: {ID: 4, Language: "pt-BR"}},
		media: map[dialplan.MediaID][]byte{7: upload.WAV},
	}
	l = newLibrary(t, prompts.Options{Directory: dir})
	ctx := context.Background()
	play := func(p dialplan.Prompt) []byte {
		t.Helper()
		a, err := l.Audio(ctx, p)
		require.NoError(t, err)
		require.Empty(t, a.URL)
		require.Empty(t, a.Sound)
		require.True(t, filepath.IsAbs(a.Path), a.Path)
		require.True(t, strings.HasPrefix(a.Path, l.Dir()+"/"), a.Path)
		data, err := os.ReadFile(a.Path)
		require.NoError(t, err, "the file exists when Audio returns")
		require.Equal(t, filepath.Base(a.Path), hash(data)+".wav", "named by its content")
		return data
	}

	// A media message: copied from the database on first play, then read
	// from the directory; copied again if the file went away.
	media := dialplan.Prompt{Number: 1, Kind: dialplan.MsgIVR, Message: &dialplan.Message{Type: dialplan.MessageMedia, MediaID: 7}}
	require.Equal(t, upload.WAV, play(media))
	require.Equal(t, upload.WAV, play(media))
	require.Equal(t, 1, dir.reads)
	require.NoError(t, os.Remove(filepath.Join(l.Dir(), upload.SHA256+".wav")))
	require.Equal(t, upload.WAV, play(media))
	require.Equal(t, 2, dir.reads)
	_, err = l.Audio(ctx, dialplan.Prompt{Number: 1, Kind: dialplan.MsgIVR, Message: &dialplan.Message{Type: dialplan.MessageMedia, MediaID: 8}})
	require.ErrorContains(t, err, "media 8")

	// A tts message.
	requireTelephony(t, play(dialplan.Prompt{Number: 1, Kind: dialplan.MsgWelcome, Message: tts("Bonjour et bienvenue", "fr-FR", "")}), 0)

	// The beep: 300 ms of tone.
	beep := play(dialplan.Prompt{Number: 1, Sound: "beep"})
	requireTelephony(t, beep, 300*time.Millisecond)

	// Default greetings in the company's language (English when we have
	// no translation or no voice for it), the same speech as a message
	// with that text.
	for _, tc := range []struct {
		number   dialplan.NumberID
		sound    string
		language string
	}{
		{1, "voicemail_greeting", "fr-FR"},
		{1, "after_hours", "fr-FR"},
		{1, "callback_later", "fr-FR"},
		{2, "voicemail_greeting", "de-DE"},
		{3, "after_hours", "en"},
		{4, "voicemail_greeting", "en"},
		{99, "voicemail_greeting", "en"}, // number unknown
	} {
		got := play(dialplan.Prompt{Number: tc.number, Kind: dialplan.MsgUnansweredCall, Sound: tc.sound})
		requireTelephony(t, got, 0)
		text, lang, ok := prompts.DefaultText(tc.sound, tc.language)
		require.True(t, ok)
		require.Equal(t, tc.language, lang)
		require.Equal(t, got, play(dialplan.Prompt{Number: tc.number, Kind: dialplan.MsgWelcome, Message: tts(text, lang, "")}),
			"%s for company %d", tc.sound, tc.number)
	}
	fr, _, _ := prompts.DefaultText("after_hours", "fr-FR")
	require.Contains(t, fr, "fermés")

	// A sound we do not make is the media server's own; no prompt at all
	// is an error.
	a, err := l.Audio(ctx, dialplan.Prompt{Number: 1, Sound: "ring"})
	require.NoError(t, err)
	require.Equal(t, dialplan.Audio{Sound: "ring"}, a)
	_, err = l.Audio(ctx, dialplan.Prompt{Number: 1, Kind: dialplan.MsgWaiting})
	require.Error(t, err)
}

func TestAudioByURL(t *testing.T) {
	l := newLibrary(t, prompts.Options{BaseURL: "http://10.0.0.2:8080/"})
	a, err := l.Audio(context.Background(), dialplan.Prompt{Number: 1, Sound: "beep"})
	require.NoError(t, err)
	require.Empty(t, a.Path)
	name, ok := strings.CutPrefix(a.URL, "http://10.0.0.2:8080/media/prompts/")
	require.True(t, ok, a.URL)
	require.Regexp(t, `^[0-9a-f]{64}\.wav$`, name)
	require.Greater(t, len(a.URL), 60, "long URLs: Asterisk fails on short ones (asterisk#444)")

	f, s, err := l.Open(name)
	require.NoError(t, err, "the file is there before the URL is handed out")
	defer f.Close()
	require.Equal(t, strings.TrimSuffix(name, ".wav"), s)
	for _, bad := range []string{"", "beep.wav", strings.TrimSuffix(name, ".wav"), strings.ToUpper(name),
		"../" + name, strings.Repeat("0", 64) + ".wav", "tts"} {
		_, _, err := l.Open(bad)
		require.ErrorIs(t, err, prompts.ErrNotFound, bad)
	}

	for _, bad := range []string{"ftp://host/", "http://", "http://host/?v=1", "not a url"} {
		_, err := prompts.New(prompts.Options{Dir: t.TempDir(), BaseURL: bad})
		require.Error(t, err, bad)
	}
}
