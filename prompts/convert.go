package prompts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/wav"
)

// Limits of an uploaded file.
const (
	MaxUploadBytes = 10 << 20 // 10 MB (MiB)
	MaxDuration    = 10 * time.Minute
)

// silencePeak is the loudest sample (fraction of full scale, -60 dBFS) of
// audio we call silent.
const silencePeak = 0.001

// Problem says what is wrong with an uploaded (or rendered) audio.
type Problem string

const (
	Empty     Problem = "empty"
	WrongType Problem = "wrong_type"
	Corrupt   Problem = "corrupt"
	Silent    Problem = "silent"
	TooLarge  Problem = "too_large"
	TooLong   Problem = "too_long"
)

// InputError is audio refused for what it is, not for a failure of ours:
// the API answers it with a 4xx and the message.
type InputError struct {
	Problem Problem
	Detail  string
}

func (e *InputError) Error() string { return e.Detail }

func inputError(p Problem, format string, args ...any) *InputError {
	return &InputError{Problem: p, Detail: fmt.Sprintf(format, args...)}
}

// ErrUnavailable is wrapped by errors that come from a missing or broken
// tool (ffmpeg, espeak-ng) rather than from the input.
var ErrUnavailable = errors.New("audio tools unavailable")

// Converted is an upload made ready to play: 8 kHz mono 16-bit PCM wav.
type Converted struct {
	// Format is what was uploaded.
	Format   Format
	WAV      []byte
	SHA256   string // hex, of WAV
	Duration time.Duration
}

// Convert decodes an uploaded mp3 or wav, checks it and converts it to
// 8 kHz mono 16-bit PCM wav. Bad input is an *InputError naming the problem:
// wrong type, corrupt, empty, silent, over MaxUploadBytes or MaxDuration.
func (l *Library) Convert(ctx context.Context, data []byte) (Converted, error) {
	if len(data) > MaxUploadBytes {
		return Converted{}, inputError(TooLarge, "the file is %d bytes; at most %d (10 MB)", len(data), MaxUploadBytes)
	}
	format, err := Sniff(data)
	if err != nil {
		return Converted{}, err
	}
	wav, err := l.toTelephony(ctx, data, format)
	if err != nil {
		return Converted{}, err
	}
	info, err := checkAudio(wav)
	if err != nil {
		return Converted{}, err
	}
	l.converted.Add(1)
	return Converted{Format: format, WAV: wav, SHA256: sum(wav), Duration: info.Duration()}, nil
}

// checkAudio checks what ffmpeg made: the format, some sound, not too long.
func checkAudio(data []byte) (wav.Info, error) {
	info, err := wav.Parse(data)
	if err != nil {
		return info, fmt.Errorf("converted file: %w", err)
	}
	if !info.IsTelephony() {
		return info, fmt.Errorf("converted file is not 8 kHz mono 16-bit PCM: %+v", info)
	}
	if info.DataLength < info.BlockAlign {
		return info, inputError(Empty, "the file holds no audio")
	}
	if info.Duration() > MaxDuration {
		return info, inputError(TooLong, "the audio lasts over 10 minutes, the longest a message may be")
	}
	if _, peak := wav.Level(data[info.DataOffset : info.DataOffset+info.DataLength]); peak < silencePeak {
		return info, inputError(Silent, "the audio is silent (%v of silence)", info.Duration().Round(time.Millisecond))
	}
	return info, nil
}

// toTelephony runs ffmpeg on data (of the given format, forced: ffmpeg
// never guesses) and returns its 8 kHz mono 16-bit wav. The input goes
// through a temporary file; the output is cut just past MaxDuration, so that
// a long file costs little before it is refused.
func (l *Library) toTelephony(ctx context.Context, data []byte, format Format) ([]byte, error) {
	dir, err := os.MkdirTemp("", "switchboard-audio-")
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in."+string(format)), filepath.Join(dir, "out.wav")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	limit := fmt.Sprintf("%.3f", (MaxDuration + time.Second).Seconds())
	_, stderr, err := l.run(ctx, l.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-xerror",
		"-f", string(format), "-i", in,
		"-t", limit, "-vn", "-sn", "-dn", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
		"-ac", "1", "-ar", "8000", "-c:a", "pcm_s16le", "-f", "wav", "-y", out)
	if errors.Is(err, errToolFailed) {
		return nil, inputError(Corrupt, "the file could not be decoded as %s: %s", format, ffmpegReason(stderr, dir))
	}
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	wav, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return wav, nil
}

var ffmpegPrefix = regexp.MustCompile(`^\[[^\]]* @ 0x[0-9a-f]+\] `)

// ffmpegReason is the gist of ffmpeg's complaint: its first line, without
// its internal prefix or our temporary paths.
func ffmpegReason(stderr, dir string) string {
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(ffmpegPrefix.ReplaceAllString(strings.TrimSpace(line), ""))
		line = strings.ReplaceAll(line, dir+string(filepath.Separator), "")
		if line != "" {
			if len(line) > 200 {
				line = line[:200]
			}
			return line
		}
	}
	return "invalid data"
}

var errToolFailed = errors.New("the tool exited with an error")

// run runs a tool under the concurrency bound and the timeout, with no
// shell and no standard input, and returns its stdout and stderr. A
// non-zero exit is errToolFailed; a missing tool or a timeout wraps
// ErrUnavailable; a cancellation is the context's error.
func (l *Library) run(ctx context.Context, tool string, args ...string) ([]byte, string, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s is not installed (Debian: apt-get install %s)", ErrUnavailable, tool, debianPackage(tool))
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	defer func() { <-l.sem }()
	l.runs.Add(1)
	runCtx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(runCtx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	var exit *exec.ExitError
	name := filepath.Base(tool)
	switch {
	case ctx.Err() != nil:
		return nil, stderr.String(), ctx.Err()
	case runCtx.Err() != nil:
		return nil, stderr.String(), fmt.Errorf("%w: %s took over %v", ErrUnavailable, name, l.timeout)
	case errors.As(err, &exit):
		return nil, stderr.String(), fmt.Errorf("%w: %s: %s", errToolFailed, name, strings.TrimSpace(stderr.String()))
	case err != nil:
		return nil, stderr.String(), fmt.Errorf("%w: %s: %v", ErrUnavailable, name, err)
	}
	return stdout.Bytes(), stderr.String(), nil
}

func debianPackage(tool string) string {
	switch filepath.Base(tool) {
	case "espeak-ng":
		return "espeak-ng"
	default:
		return "ffmpeg"
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
