// Package prompts turns a number's messages into audio the media servers
// play: it converts uploaded mp3 and wav files once to 8 kHz mono 16-bit
// PCM wav, renders text-to-speech with espeak-ng, keeps every file under
// one directory named by the SHA-256 of its content, and hands drivers the
// path or the URL of the file to play (it is a dialplan.AudioSource).
//
// Files are immutable: a changed prompt is another file with another name.
// That is what lets the media servers cache them for good (see
// media-over-http.md): Asterisk's res_http_media_cache and FreeSWITCH's
// mod_http_cache key their caches by URL.
package prompts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// Directory is what the library reads from the database; *store.Store
// satisfies it.
type Directory interface {
	// CompanyOfNumber is the company a number belongs to (for the
	// language of built-in prompts).
	CompanyOfNumber(ctx context.Context, id dialplan.NumberID) (dialplan.Company, error)
	// MediaForNumber is a media of the number's company: the SHA-256 (hex)
	// of its converted wav, and the wav.
	MediaForNumber(ctx context.Context, number dialplan.NumberID, id dialplan.MediaID) (string, []byte, error)
}

// Options configure a Library.
type Options struct {
	// Dir keeps the prompt files (<sha256>.wav) and the speech index
	// (tts/). Created when missing. When BaseURL is empty the media server
	// reads the files there, by path: it must be able to.
	Dir string
	// BaseURL, when set, is where the media server reaches switchboard's
	// HTTP server (http://10.0.0.2:8080): prompts are then played by URL,
	// BaseURL + "/media/prompts/<sha256>.wav".
	BaseURL string
	// Directory looks numbers' companies and media up; without it media
	// messages fail and built-in greetings are in English.
	Directory Directory
	Logger    *slog.Logger
	// Concurrency bounds the ffmpeg and espeak-ng processes running at
	// once (default 2); Timeout bounds each (default 1 minute).
	Concurrency int
	Timeout     time.Duration
	// FFmpeg and Espeak name the tools (default: found in PATH).
	FFmpeg, Espeak string
}

// URLPrefix is the path under which switchboard's HTTP server serves
// prompt files, without credentials: the content hash in the name is the
// secret.
const URLPrefix = "/media/prompts/"

// ErrNotFound is returned by Open for a name that is not a prompt file.
var ErrNotFound = errors.New("no such prompt file")

// Library converts, renders, keeps and delivers prompts.
type Library struct {
	dir       string
	baseURL   string
	directory Directory
	logger    *slog.Logger
	ffmpeg    string
	espeak    string
	timeout   time.Duration
	sem       chan struct{}
	flight    flight

	voicesMu sync.Mutex
	voices   *Voices

	mu     sync.Mutex
	speech map[string]string           // speech key → wav hash
	media  map[dialplan.MediaID]string // media id → wav hash (media never change)

	converted, rendered, runs atomic.Int64
}

var _ dialplan.AudioSource = (*Library)(nil)

// New makes a library keeping its files in o.Dir.
func New(o Options) (*Library, error) {
	if o.Dir == "" {
		return nil, errors.New("prompts: no directory")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tts"), 0o755); err != nil {
		return nil, fmt.Errorf("prompts directory: %w", err)
	}
	base := strings.TrimSuffix(o.BaseURL, "/")
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("prompts: base URL %q: want http(s)://host[:port][/path]", o.BaseURL)
		}
	}
	l := &Library{dir: dir, baseURL: base, directory: o.Directory, logger: o.Logger,
		ffmpeg: o.FFmpeg, espeak: o.Espeak, timeout: o.Timeout,
		speech: map[string]string{}, media: map[dialplan.MediaID]string{}}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.ffmpeg == "" {
		l.ffmpeg = "ffmpeg"
	}
	if l.espeak == "" {
		l.espeak = "espeak-ng"
	}
	if l.timeout <= 0 {
		l.timeout = time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	l.sem = make(chan struct{}, o.Concurrency)
	return l, nil
}

// Dir is the absolute directory of the files.
func (l *Library) Dir() string { return l.dir }

// CheckTools says which of ffmpeg and espeak-ng are missing, if any.
func (l *Library) CheckTools() error {
	var missing []string
	for _, tool := range []string{l.ffmpeg, l.espeak} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not installed (Debian: apt-get install espeak-ng ffmpeg)", ErrUnavailable, strings.Join(missing, " and "))
	}
	return nil
}

// Stats count the work done since New.
type Stats struct {
	Converted int64 // uploads converted
	Rendered  int64 // speeches rendered (cache misses)
	Runs      int64 // ffmpeg and espeak-ng processes run
}

func (l *Library) Stats() Stats {
	return Stats{Converted: l.converted.Load(), Rendered: l.rendered.Load(), Runs: l.runs.Load()}
}

// Audio makes a prompt ready to play and says where the media server finds
// it. The file exists when Audio returns: missing files are rendered or
// copied from the database first. A built-in sound (beep, voicemail
// greeting, after hours, callback later) is ours too, in the company's
// language; one we do not know, or cannot render, is left to the media
// server's own sounds (Audio.Sound).
func (l *Library) Audio(ctx context.Context, p dialplan.Prompt) (dialplan.Audio, error) {
	var (
		s   string
		err error
	)
	switch {
	case p.Message != nil && p.Message.Type == dialplan.MessageMedia:
		s, err = l.mediaFile(ctx, p.Number, p.Message.MediaID)
	case p.Message != nil && p.Message.Type == dialplan.MessageTTS:
		s, err = l.speak(ctx, p.Message.Text, p.Message.Language, p.Message.Voice)
	case p.Message == nil && p.Sound != "":
		s, err = l.builtin(ctx, p.Number, p.Sound)
		if err != nil {
			l.logger.Warn("built-in prompt: playing the media server's own sound", "sound", p.Sound, "number", p.Number, "err", err)
			return dialplan.Audio{Sound: p.Sound}, nil
		}
	default:
		return dialplan.Audio{}, fmt.Errorf("no audio for the %s message of number %d", p.Kind, p.Number)
	}
	if err != nil {
		return dialplan.Audio{}, fmt.Errorf("the %s message of number %d: %w", p.Kind, p.Number, err)
	}
	return l.deliver(s), nil
}

func (l *Library) deliver(s string) dialplan.Audio {
	if l.baseURL != "" {
		return dialplan.Audio{URL: l.baseURL + URLPrefix + s + ".wav"}
	}
	return dialplan.Audio{Path: l.path(s)}
}

// mediaFile makes sure a media library file is in the directory.
func (l *Library) mediaFile(ctx context.Context, number dialplan.NumberID, id dialplan.MediaID) (string, error) {
	l.mu.Lock()
	s, ok := l.media[id]
	l.mu.Unlock()
	if ok && l.has(s) {
		return s, nil
	}
	if l.directory == nil {
		return "", fmt.Errorf("media %d: no database to read it from", id)
	}
	return l.flight.do(ctx, fmt.Sprintf("media:%d", id), func() (string, error) {
		_, wav, err := l.directory.MediaForNumber(ctx, number, id)
		if err != nil {
			return "", fmt.Errorf("media %d: %w", id, err)
		}
		s, err := l.Keep(wav)
		if err != nil {
			return "", err
		}
		l.mu.Lock()
		l.media[id] = s
		l.mu.Unlock()
		return s, nil
	})
}

// builtin makes a built-in prompt: a beep, or a short default message in
// the language of the number's company.
func (l *Library) builtin(ctx context.Context, number dialplan.NumberID, sound string) (string, error) {
	if sound == "beep" {
		return l.Keep(beep())
	}
	language := "en"
	if l.directory != nil && number != 0 {
		c, err := l.directory.CompanyOfNumber(ctx, number)
		if err != nil {
			l.logger.Warn("built-in prompt: company of the number unknown, speaking English", "number", number, "err", err)
		} else {
			language = c.Language
		}
	}
	text, lang, ok := DefaultText(sound, language)
	if !ok {
		return "", fmt.Errorf("no built-in prompt %q", sound)
	}
	s, err := l.speak(ctx, text, lang, "")
	var bad *voiceError
	if errors.As(err, &bad) && lang != "en" { // the company's language is not installed
		text, _, _ = DefaultText(sound, "en")
		return l.speak(ctx, text, "en", "")
	}
	return s, err
}

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (l *Library) path(s string) string { return filepath.Join(l.dir, s+".wav") }

func (l *Library) has(s string) bool {
	_, err := os.Stat(l.path(s))
	return err == nil
}

// Keep writes a wav into the directory under its hash (unless it is there)
// and returns the hash.
func (l *Library) Keep(wav []byte) (string, error) {
	s := sum(wav)
	if l.has(s) {
		return s, nil
	}
	if err := l.writeAtomic(l.path(s), wav); err != nil {
		return "", err
	}
	return s, nil
}

// writeAtomic writes a file whole or not at all (a media server never
// reads half of one), readable by the media server's user.
func (l *Library) writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("prompts: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("prompts: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("prompts: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("prompts: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("prompts: %w", err)
	}
	return nil
}

// Open opens a prompt file by its name in URLs, "<sha256>.wav"; any other
// name, or a file that is not there, is ErrNotFound. The caller closes it.
func (l *Library) Open(name string) (*os.File, string, error) {
	s, ok := strings.CutSuffix(name, ".wav")
	if !ok || !hashPattern.MatchString(s) {
		return nil, "", ErrNotFound
	}
	f, err := os.Open(l.path(s))
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("prompts: %w", err)
	}
	return f, s, nil
}

// flight runs one function per key at a time; callers of a key already
// running wait for its result (two calls need the same speech: one render).
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	val  string
	err  error
}

func (f *flight) do(ctx context.Context, key string, fn func() (string, error)) (string, error) {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.val, c.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if f.calls == nil {
		f.calls = map[string]*flightCall{}
	}
	c := &flightCall{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn()
	return c.val, c.err
}
