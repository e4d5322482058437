package esltest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// forever is the length of a stream that plays until it is stopped.
const forever = time.Duration(-1)

// mediaRun is a playback in progress on a channel.
type mediaRun struct {
	path     string
	fileType string // Playback-File-Type (tone_stream, local_stream, or none)
	started  time.Time
	playing  bool // PLAYBACK_START sent
	ctx      context.Context
	cancel   context.CancelFunc
}

// startPlaybackLocked opens what run.arg names. A stream or a file on disk
// starts at once; an http_cache:// URL is fetched first, outside the lock,
// as mod_http_cache does in the channel's thread. A file that cannot be
// opened completes the app at once with FILE NOT FOUND.
func (s *Server) startPlaybackLocked(c *channel, run *appRun) {
	arg := run.arg
	_, bare, _ := parseVars(arg)
	m := &mediaRun{path: arg}
	m.ctx, m.cancel = context.WithCancel(s.ctx)
	run.media = m
	if !c.answered && c.direction == "inbound" {
		// switch_ivr_play_file pre-answers a channel without media.
		s.preAnswerLocked(c)
	}
	switch {
	case strings.HasPrefix(bare, "http://"), strings.HasPrefix(bare, "https://"):
		// Plain http:// needs mod_http_cache's enable-file-formats (off by
		// default) or mod_httapi; neither is loaded.
		s.mediaFailedLocked(c, run)
		return
	case strings.HasPrefix(bare, "http_cache://"):
		url := strings.TrimPrefix(bare, "http_cache://")
		refresh := strings.Contains(arg[:len(arg)-len(bare)], "refresh=true")
		if !wavURL(url) {
			s.mediaFailedLocked(c, run)
			return
		}
		if s.http.cached(url) && !refresh {
			s.mediaOpenLocked(c, run, s.opts.PlayDuration)
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := s.http.fetch(m.ctx, url, refresh)
			s.mu.Lock()
			defer s.mu.Unlock()
			if c.cur != run && c.top != run || c.cause != "" || m.ctx.Err() != nil {
				return
			}
			if err != nil {
				s.log.Debug("http_cache fetch failed", "url", url, "err", err)
				s.mediaFailedLocked(c, run)
				return
			}
			s.mediaOpenLocked(c, run, s.opts.PlayDuration)
		}()
		return
	}
	d, typ, ok := s.mediaLength(bare)
	if !ok {
		s.mediaFailedLocked(c, run)
		return
	}
	m.fileType = typ
	if run.app == "endless_playback" {
		d = forever
	}
	s.mediaOpenLocked(c, run, d)
	return
}

// mediaLength says how long bare plays, and whether it can be opened.
func (s *Server) mediaLength(bare string) (time.Duration, string, bool) {
	switch {
	case strings.HasPrefix(bare, "tone_stream://"):
		return toneLength(strings.TrimPrefix(bare, "tone_stream://")), "tone_stream", true
	case strings.HasPrefix(bare, "silence_stream://"):
		ms, _, _ := strings.Cut(strings.TrimPrefix(bare, "silence_stream://"), ",")
		n, err := strconv.Atoi(strings.TrimSpace(ms))
		if err != nil || n < 0 {
			return forever, "", true
		}
		return time.Duration(n) * time.Millisecond, "", true
	case strings.HasPrefix(bare, "local_stream://"):
		return forever, "local_stream", true
	case strings.HasPrefix(bare, "file_string://"):
		parts := strings.Split(strings.TrimPrefix(bare, "file_string://"), "!")
		for _, p := range parts {
			if _, _, ok := s.mediaLength(p); !ok {
				return 0, "", false
			}
		}
		return time.Duration(len(parts)) * s.opts.PlayDuration, "", true
	case strings.HasPrefix(bare, "say:"), strings.HasPrefix(bare, "phrase:"):
		return s.opts.PlayDuration, "", true
	case strings.HasPrefix(bare, "/"):
		st, err := os.Stat(bare)
		if err != nil || !st.Mode().IsRegular() {
			return 0, "", false
		}
		return s.opts.PlayDuration, "", true
	}
	// Relative paths are FreeSWITCH's own sounds, which it ships.
	return s.opts.PlayDuration, "", true
}

var toneSeg = regexp.MustCompile(`%\(([^)]*)\)`)

// toneLength computes a tone_stream's length: every %(on,off,freqs) adds
// on+off ms, L=n repeats, loops=n repeats the whole (-1 is endless).
func toneLength(spec string) time.Duration {
	loops := 1
	total := 0
	repeat := 1
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "loops="):
			n, err := strconv.Atoi(strings.TrimPrefix(part, "loops="))
			if err == nil {
				loops = n
			}
			continue
		case strings.HasPrefix(part, "L="):
			n, err := strconv.Atoi(strings.TrimPrefix(part, "L="))
			if err == nil && n > 0 {
				repeat = n
			}
			continue
		}
		for _, m := range toneSeg.FindAllStringSubmatch(part, -1) {
			f := strings.Split(m[1], ",")
			on, _ := strconv.Atoi(strings.TrimSpace(f[0]))
			off := 0
			if len(f) > 1 {
				off, _ = strconv.Atoi(strings.TrimSpace(f[1]))
			}
			total += (on + off) * repeat
		}
	}
	if loops < 0 {
		return forever
	}
	if loops == 0 {
		loops = 1
	}
	return time.Duration(total*loops) * time.Millisecond
}

// wavURL applies mod_http_cache's extension rule: without a .wav at the end
// of the URL path there is no file format to open it with.
func wavURL(url string) bool {
	p, _, _ := strings.Cut(url, "?")
	p, _, _ = strings.Cut(p, "#")
	return strings.HasSuffix(strings.ToLower(p), ".wav")
}

// mediaOpenLocked starts playing: PLAYBACK_START, then a timer to the end
// unless it is a stream that plays until stopped.
func (s *Server) mediaOpenLocked(c *channel, run *appRun, d time.Duration) {
	m := run.media
	m.playing = true
	m.started = time.Now()
	c.played = append(c.played, m.path)
	if c.caller != nil {
		c.caller.heardLocked(m.path)
	}
	e := s.chanEventLocked("PLAYBACK_START", c)
	if m.fileType != "" {
		e.add("Playback-File-Type", m.fileType)
	}
	e.add("Playback-File-Path", m.path)
	s.emitLocked(e)
	if d >= 0 {
		run.timer = s.addTimerLocked(c, d, func() {
			if c.cur == run || c.top == run {
				s.stopMediaLocked(c, run, "done")
			}
		})
	}
}

// mediaFailedLocked is a file that could not be opened: no PLAYBACK_*,
// only CHANNEL_EXECUTE_COMPLETE with FILE NOT FOUND.
func (s *Server) mediaFailedLocked(c *channel, run *appRun) {
	run.media.cancel()
	run.media = nil
	s.appDoneLocked(c, run, "FILE NOT FOUND")
}

// stopMediaLocked ends a playback: PLAYBACK_STOP (done, or break when
// stopped; a hang-up shows done and the app answers PLAYBACK ERROR, as
// transcript 04 records), then the app's completion.
func (s *Server) stopMediaLocked(c *channel, run *appRun, why string) {
	m := run.media
	if m == nil {
		return
	}
	run.media = nil
	m.cancel()
	if run.timer != nil {
		run.timer.Stop()
	}
	resp := "FILE PLAYED"
	if m.playing {
		ms := time.Since(m.started).Milliseconds()
		samples := ms * 8
		c.vars.set("playback_last_offset_pos", strconv.FormatInt(samples, 10))
		c.vars.set("playback_seconds", strconv.FormatInt(ms/1000, 10))
		c.vars.set("playback_ms", strconv.FormatInt(ms, 10))
		c.vars.set("playback_samples", strconv.FormatInt(samples, 10))
		status := why
		if why == "hangup" {
			status = "done"
		}
		e := s.chanEventLocked("PLAYBACK_STOP", c)
		if m.fileType != "" {
			e.add("Playback-File-Type", m.fileType)
		}
		e.add("Playback-File-Path", m.path)
		e.add("Playback-Status", status)
		s.emitLocked(e)
	}
	if why == "hangup" {
		resp = "PLAYBACK ERROR"
		c.lastResp = resp
		c.vars.set("current_application_response", resp)
		if c.cur == run {
			c.cur = nil
		} else if c.top == run {
			c.top = nil
		}
		s.fireCompleteLocked(c, run, resp)
		c.vars.set("last_app", run.app)
		return
	}
	s.appDoneLocked(c, run, resp)
}

// httpCache is mod_http_cache: one GET per URL (the exact string), cached
// until its max-age ends or http_remove_cache; failures are not cached.
type httpCache struct {
	client *http.Client
	mu     sync.Mutex
	items  map[string]time.Time // url -> expiry
	gets   map[string]int
	flight map[string]chan struct{}
}

func newHTTPCache(timeout time.Duration) *httpCache {
	return &httpCache{
		client: &http.Client{Timeout: timeout},
		items:  map[string]time.Time{},
		gets:   map[string]int{},
		flight: map[string]chan struct{}{},
	}
}

func (h *httpCache) cached(url string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	exp, ok := h.items[url]
	if ok && time.Now().After(exp) {
		delete(h.items, url)
		return false
	}
	return ok
}

func (h *httpCache) fetches(url string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gets[url]
}

func (h *httpCache) remove(url string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.items, url)
}

func (h *httpCache) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.items = map[string]time.Time{}
}

var errHTTPStatus = errors.New("esltest: http status")

// fetch downloads url into the cache (concurrent fetches of one URL share
// a single GET).
func (h *httpCache) fetch(ctx context.Context, url string, refresh bool) error {
	for {
		h.mu.Lock()
		if exp, ok := h.items[url]; ok && !refresh && time.Now().Before(exp) {
			h.mu.Unlock()
			return nil
		}
		wait, busy := h.flight[url]
		if !busy {
			done := make(chan struct{})
			h.flight[url] = done
			h.gets[url]++
			h.mu.Unlock()
			maxAge, err := h.get(ctx, url)
			h.mu.Lock()
			delete(h.flight, url)
			if err == nil {
				h.items[url] = time.Now().Add(maxAge)
			}
			h.mu.Unlock()
			close(done)
			return err
		}
		h.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		h.mu.Lock()
		_, ok := h.items[url]
		h.mu.Unlock()
		if ok {
			return nil
		}
		refresh = false
	}
}

func (h *httpCache) get(ctx context.Context, url string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("esltest: http_cache request: %w", err)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("esltest: http_cache get: %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("esltest: http_cache read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%w %d", errHTTPStatus, resp.StatusCode)
	}
	maxAge := 24 * time.Hour // mod_http_cache's default-max-age
	for _, d := range strings.Split(resp.Header.Get("Cache-Control"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				maxAge = time.Duration(n) * time.Second
			}
		}
	}
	return maxAge, nil
}

// recording is a uuid_record or record_session in progress.
type recording struct {
	path    string
	started time.Time
	timer   *time.Timer
}

// startRecordLocked starts recording c to path: RECORD_START. limit, when
// positive, stops it after that long.
func (s *Server) startRecordLocked(c *channel, path string, limit time.Duration) {
	for _, r := range c.records {
		if r.path == path {
			return
		}
	}
	r := &recording{path: path, started: time.Now()}
	c.records = append(c.records, r)
	if limit > 0 {
		r.timer = s.addTimerLocked(c, limit, func() { s.stopRecordLocked(c, path) })
	}
	e := s.chanEventLocked("RECORD_START", c)
	e.add("Record-File-Path", path)
	s.emitLocked(e)
}

// stopRecordLocked stops the recording of path ("all" stops every one):
// the file is written (silence, 8 kHz 16-bit mono, as long as it ran) and
// RECORD_STOP fires.
func (s *Server) stopRecordLocked(c *channel, path string) {
	for i := 0; i < len(c.records); i++ {
		r := c.records[i]
		if path != "all" && path != "" && r.path != path {
			continue
		}
		c.records = append(c.records[:i], c.records[i+1:]...)
		i--
		if r.timer != nil {
			r.timer.Stop()
		}
		ms := time.Since(r.started).Milliseconds()
		size := int64(44) + ms*16
		if err := writeRecording(r.path, ms, speaks(c) || speaks(c.bridge)); err != nil {
			s.log.Warn("esltest: cannot write recording", "path", r.path, "err", err)
		}
		c.vars.set("record_samples", strconv.FormatInt(ms*8, 10))
		c.vars.set("record_seconds", strconv.FormatInt(ms/1000, 10))
		c.vars.set("record_ms", strconv.FormatInt(ms, 10))
		c.vars.set("record_file_size", strconv.FormatInt(size, 10))
		c.vars.set("record_completion_cause", "success-maxtime")
		e := s.chanEventLocked("RECORD_STOP", c)
		e.add("Record-File-Path", r.path)
		e.add("Record-Completion-Cause", "success-maxtime")
		s.emitLocked(e)
	}
}

// speaks says whether c is a caller who speaks.
func speaks(c *channel) bool { return c != nil && c.caller != nil && c.caller.script.Voice }

// writeRecording writes a WAV file of ms milliseconds of silence, or of a
// voice (a 440 Hz tone), creating its directory as FreeSWITCH does for
// recordings.
func writeRecording(path string, ms int64, voiced bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("esltest: recording dir: %w", err)
	}
	data := uint32(ms * 16)
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], 36+data)
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], 8000)
	binary.LittleEndian.PutUint32(hdr[28:], 16000)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], data)
	buf := append(hdr, make([]byte, data)...)
	if voiced {
		for i := 0; 44+2*i+1 < len(buf); i++ {
			binary.LittleEndian.PutUint16(buf[44+2*i:], uint16(int16(8000*math.Sin(2*math.Pi*440*float64(i)/8000))))
		}
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return fmt.Errorf("esltest: write recording: %w", err)
	}
	return nil
}
