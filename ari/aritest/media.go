package aritest

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Prompt is one media URI played to a party, in the order it started.
type Prompt struct {
	PlaybackID string
	MediaURI   string
	Target     string // "channel:<id>" or "bridge:<id>"
	State      string // "playing", then "done" or "failed"; an unknown scheme stays "playing"
	Started    time.Time
}

type playback struct {
	id       string
	media    []string
	idx      int
	target   string
	language string
	state    string
	pl       *player
	ch       *channel
	br       *bridge
	timer    *time.Timer
	gen      int
	heard    []*Prompt
}

// json is the Playback model. next_media_uri follows media_uri while a
// list of media has more to play (playback_to_json).
func (p *playback) json(state string) []byte {
	o := newObj(256).str("id", p.id).str("media_uri", p.media[p.idx])
	if p.idx+1 < len(p.media) {
		o = o.str("next_media_uri", p.media[p.idx+1])
	}
	return o.str("target_uri", p.target).str("language", p.language).str("state", state).done()
}

func (p *playback) stop() {
	p.gen++
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

func (s *Server) playbackEvent(p *playback, typ string) {
	var apps []*app
	if p.ch != nil {
		apps = p.ch.subs
	} else if p.br != nil {
		apps = p.br.subs
	}
	s.deliver(typ, event(typ).raw("playback", p.json(p.state)), apps)
}

func (s *Server) removePlayback(p *playback) {
	q := s.playbacks[p.id]
	for i, x := range q {
		if x == p {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	if len(q) == 0 {
		delete(s.playbacks, p.id)
	} else {
		s.playbacks[p.id] = q
	}
}

// pump starts the next queued playback of a target if none is playing.
func (s *Server) pump(pl *player) {
	for pl.playing == nil && len(pl.queue) > 0 {
		p := pl.queue[0]
		pl.queue = pl.queue[1:]
		pl.playing = p
		p.state = "playing"
		s.playbackEvent(p, "PlaybackStarted")
		s.playMedia(p)
	}
}

// playMedia plays p.media[p.idx]: a timer for sounds, an HTTP GET first
// for sound:http(s)://, failure for missing files. An unknown scheme is
// what res_stasis_playback does with it: PlaybackStarted was sent, the
// playback is dropped without PlaybackFinished and the queue moves on.
func (s *Server) playMedia(p *playback) {
	p.gen++
	uri := p.media[p.idx]
	s.heard(p, uri)
	scheme, rest, _ := strings.Cut(uri, ":")
	switch scheme {
	case "sound":
		switch {
		case strings.HasPrefix(rest, "http://") || strings.HasPrefix(rest, "https://"):
			s.fetchThenPlay(p, uri, rest)
		case rest == "" || !s.opts.SoundExists(rest):
			s.endPlayback(p, "failed")
		default:
			s.playFor(p, s.duration(uri))
		}
	case "recording":
		if st := s.stored[rest]; st != nil {
			s.playFor(p, st.dur)
		} else {
			s.endPlayback(p, "failed")
		}
	case "tone", "digits", "number", "characters":
		s.playFor(p, s.duration(uri))
	default:
		p.stop()
		s.removePlayback(p)
		if p.pl.playing == p {
			p.pl.playing = nil
		}
	}
}

func (s *Server) duration(uri string) time.Duration {
	if d, ok := s.opts.SoundDurations[uri]; ok {
		return d
	}
	return s.opts.SoundDuration
}

func (s *Server) playFor(p *playback, d time.Duration) {
	gen := p.gen
	p.timer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if p.gen == gen && p.pl.playing == p && !s.closed {
			s.advance(p)
		}
	})
}

func (s *Server) advance(p *playback) {
	s.markHeard(p, "done")
	if p.idx+1 < len(p.media) {
		p.idx++
		p.state = "continuing"
		s.playbackEvent(p, "PlaybackContinuing")
		s.playMedia(p)
		return
	}
	s.endPlayback(p, "done")
}

// endPlayback finishes the playing playback and starts the next one.
func (s *Server) endPlayback(p *playback, state string) {
	p.stop()
	p.state = state
	s.markHeard(p, state)
	s.playbackEvent(p, "PlaybackFinished")
	s.removePlayback(p)
	if p.pl.playing == p {
		p.pl.playing = nil
		s.pump(p.pl)
	}
}

// dropPlaybacks ends a target's playbacks when it goes away: the playing
// one finishes "done" (a hang-up during playback completes it), queued
// ones vanish without events.
func (s *Server) dropPlaybacks(pl *player) {
	for _, q := range pl.queue {
		q.stop()
		s.removePlayback(q)
	}
	pl.queue = nil
	if p := pl.playing; p != nil {
		s.endPlayback(p, "done")
	}
}

// heard notes the media on every party that hears it: the target
// channel, the spied channel of a whispering snoop, a bridge's members.
func (s *Server) heard(p *playback, uri string) {
	p.heard = p.heard[:0]
	now := time.Now()
	add := func(c *channel) {
		pr := &Prompt{PlaybackID: p.id, MediaURI: uri, Target: p.target, State: "playing", Started: now}
		c.prompts = append(c.prompts, pr)
		p.heard = append(p.heard, pr)
		if c.caller != nil {
			c.caller.notify()
		}
	}
	switch {
	case p.ch != nil:
		add(p.ch)
		if p.ch.kind == kindSnoop && p.ch.whisper != "none" && p.ch.spied != nil && !p.ch.spied.dead {
			add(p.ch.spied)
		}
	case p.br != nil:
		for _, m := range p.br.members {
			if m.ch != nil {
				add(m.ch)
			}
		}
	}
}

func (s *Server) markHeard(p *playback, state string) {
	for _, pr := range p.heard {
		if pr.State == "playing" {
			pr.State = state
		}
	}
	if p.ch != nil && p.ch.caller != nil {
		p.ch.caller.notify()
	}
	if p.br != nil {
		for _, m := range p.br.members {
			if m.ch != nil && m.ch.caller != nil {
				m.ch.caller.notify()
			}
		}
	}
}

// --- media over HTTP (res_http_media_cache) --------------------------------

type cacheEntry struct {
	expires time.Time
	etag    string
}

// fetchThenPlay downloads the URL (outside the lock) after PlaybackStarted,
// as res_http_media_cache does, and fails the playback on an error, a
// non-2xx status or a URL shorter than MinMediaURLLength (issue #444).
func (s *Server) fetchThenPlay(p *playback, uri, url string) {
	gen := p.gen
	go func() {
		ok := s.fetchMedia(url)
		s.mu.Lock()
		defer s.mu.Unlock()
		if p.gen != gen || p.pl.playing != p || s.closed {
			return
		}
		if !ok || (s.opts.MinMediaURLLength > 0 && len(url) < s.opts.MinMediaURLLength) {
			s.endPlayback(p, "failed")
			return
		}
		s.playFor(p, s.duration(uri))
	}()
}

// fetchMedia keeps the cache rules of media-over-http.md: fresh per
// Cache-Control max-age or Expires, revalidated with HEAD + If-None-Match
// when there is an ETag, fetched again otherwise; failures are not cached.
func (s *Server) fetchMedia(url string) bool {
	s.mu.Lock()
	e := s.mediaCache[url]
	var entry cacheEntry
	if e != nil {
		entry = *e
	}
	s.mu.Unlock()
	now := time.Now()
	if e != nil && now.Before(entry.expires) {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.MediaTimeout)
	defer cancel()
	if e != nil && entry.etag != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
		if err == nil {
			req.Header.Set("If-None-Match", entry.etag)
			if resp, err := s.media.Do(req); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusNotModified {
					s.storeCache(url, resp, entry.etag)
					return true
				}
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := s.media.Do(req)
	if err != nil {
		s.log.Debug("aritest: media fetch", "url", url, "err", err)
		return false
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<20)); err != nil {
		return false
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		s.mu.Lock()
		delete(s.mediaCache, url)
		s.mu.Unlock()
		return false
	}
	s.storeCache(url, resp, resp.Header.Get("ETag"))
	return true
}

func (s *Server) storeCache(url string, resp *http.Response, etag string) {
	exp := time.Now()
	if cc := resp.Header.Get("Cache-Control"); cc != "" {
		for _, d := range strings.Split(cc, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
				if n, err := strconv.Atoi(v); err == nil {
					exp = time.Now().Add(time.Duration(n) * time.Second)
				}
			}
		}
	} else if ex := resp.Header.Get("Expires"); ex != "" {
		if t, err := http.ParseTime(ex); err == nil {
			exp = t
		}
	}
	s.mu.Lock()
	s.mediaCache[url] = &cacheEntry{expires: exp, etag: etag}
	s.mu.Unlock()
}

// --- recordings -----------------------------------------------------------

type recording struct {
	name, format, target string
	state                string
	started              time.Time
	ch                   *channel
	br                   *bridge
	internal             *member
	timer                *time.Timer
	terminateOn          string
}

type storedRecording struct {
	name, format string
	dur          time.Duration
	voiced       bool // a speaking caller was recorded
}

// voiced says whether a recording takes a speaking caller's audio.
func (r *recording) voiced() bool {
	speaks := func(ch *channel) bool { return ch != nil && ch.caller != nil && ch.caller.script.Voice }
	if r.br != nil {
		for _, m := range r.br.members {
			if speaks(m.ch) {
				return true
			}
		}
	}
	return speaks(r.ch)
}

func (r *recording) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

func (r *recording) json() []byte {
	return newObj(160).str("name", r.name).str("format", r.format).str("state", r.state).str("target_uri", r.target).done()
}

func (s *Server) recordingEvent(r *recording, typ string, extra func(obj) obj) {
	var apps []*app
	if r.ch != nil {
		apps = r.ch.subs
	} else if r.br != nil {
		apps = r.br.subs
	}
	o := newObj(160).str("name", r.name).str("format", r.format).str("state", r.state).str("target_uri", r.target)
	if extra != nil {
		o = extra(o)
	}
	s.deliver(typ, event(typ).raw("recording", o.done()), apps)
}

// finishRecording ends a live recording ("done" keeps the file,
// "canceled" drops it): RecordingFinished with the duration in whole
// seconds, then a bridge's Recorder channel leaves.
func (s *Server) finishRecording(r *recording, state string) {
	if r.state != "recording" && r.state != "paused" {
		return
	}
	if s.live[r.name] == r {
		delete(s.live, r.name)
	}
	r.stopTimer()
	dur := time.Since(r.started)
	r.state = state
	secs := int((dur + time.Second/2) / time.Second)
	s.recordingEvent(r, "RecordingFinished", func(o obj) obj { return o.num("duration", secs) })
	if state == "done" {
		s.stored[r.name] = &storedRecording{name: r.name, format: r.format, dur: dur, voiced: r.voiced()}
	}
	if r.ch != nil && r.ch.rec == r {
		r.ch.rec = nil
	}
	if r.br != nil && r.br.rec == r {
		r.br.rec = nil
		if r.internal != nil {
			s.removeInternal(r.br, r.internal)
		}
	}
}

// wav is a valid RIFF/WAVE file, 8 kHz, mono, 16-bit: silence, or a
// voice (a 440 Hz tone).
func wav(d time.Duration, voiced bool) []byte {
	samples := int(d.Milliseconds() * 8)
	data := samples * 2
	b := make([]byte, 44+data)
	if voiced {
		for i := range samples {
			binary.LittleEndian.PutUint16(b[44+2*i:], uint16(int16(8000*math.Sin(2*math.Pi*440*float64(i)/8000))))
		}
	}
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	return b
}

// --- snoop ----------------------------------------------------------------

// snoopGone detaches an ended Snoop channel. Removing its audiohook
// reconfigures the spied channel's bridge twice, which re-sets the peer
// variables twice (07).
func (s *Server) snoopGone(sn *channel) {
	sp := sn.spied
	for i, x := range sp.snoops {
		if x == sn {
			sp.snoops = append(sp.snoops[:i], sp.snoops[i+1:]...)
			break
		}
	}
	if !sp.dead && sp.bridge != nil {
		s.reconfigure(sp.bridge)
		s.reconfigure(sp.bridge)
	}
}
