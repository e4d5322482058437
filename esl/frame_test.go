package esl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

// transcriptFrames returns every frame FreeSWITCH sent in the recorded
// transcripts, exact bytes.
func transcriptFrames(tb testing.TB) [][]byte {
	files, _ := filepath.Glob("../../shared/freeswitch/transcripts/*.jsonl")
	var out [][]byte
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(raw, []byte("\n")) {
			var rec struct {
				Dir string `json:"dir"`
				Raw string `json:"raw"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Dir == "recv" {
				out = append(out, []byte(rec.Raw))
			}
		}
	}
	return out
}

// TestTranscriptFrames: every frame of the recordings reads, and every
// event in them parses, percent-decoded.
func TestTranscriptFrames(t *testing.T) {
	frames := transcriptFrames(t)
	if len(frames) == 0 {
		t.Skip("no transcripts in ../../shared/freeswitch/transcripts")
	}
	events := 0
	for _, raw := range frames {
		r := bufio.NewReader(bytes.NewReader(raw))
		f, err := readFrame(r)
		require.NoError(t, err, "%q", raw)
		_, err = r.ReadByte()
		require.ErrorIs(t, err, io.EOF, "one frame, read to its last byte: %q", raw)
		if f.contentType() == "text/event-plain" {
			e, err := parsePlainEvent(f.body)
			require.NoError(t, err)
			require.NotEmpty(t, e.Name())
			events++
		}
	}
	require.Greater(t, events, 100)
}

func TestParsePlainEvent(t *testing.T) {
	body := "Event-Name: BACKGROUND_JOB\nCore-UUID: ac33c886\nEvent-Date-GMT: Sun,%2022%20Nov%202026%2014%3A47%3A42%20GMT\n" +
		"Application-Data: tone_stream%3A//%25(1000,500,440)%3Bloops%3D-1\nBad: 100%\nJob-UUID: 66fe151d\n" +
		"Job-Command: originate\nContent-Length: 41\n\n+OK 3d1c2cfa-e5c5-45a4-8862-d870452c8f2a\n"
	e, err := parsePlainEvent([]byte(body))
	require.NoError(t, err)
	require.Equal(t, "BACKGROUND_JOB", e.Name())
	require.Equal(t, "Sun, 22 Nov 2026 14:47:42 GMT", e.Get("Event-Date-GMT"))
	require.Equal(t, "tone_stream://%(1000,500,440);loops=-1", e.Get("Application-Data"))
	require.Equal(t, "100%", e.Get("Bad"), "a lone % is kept")
	require.Equal(t, "+OK 3d1c2cfa-e5c5-45a4-8862-d870452c8f2a\n", e.Body)
	require.False(t, e.Has("Unique-ID"))

	_, err = parsePlainEvent([]byte("Event-Name: X\nContent-Length: 99\n\nshort"))
	require.Error(t, err, "a body shorter than its Content-Length")
	_, err = parsePlainEvent([]byte("Core-UUID: x\n\n"))
	require.Error(t, err, "no Event-Name")
}

func TestReadFrameLimits(t *testing.T) {
	_, err := readFrame(bufio.NewReader(strings.NewReader("Content-Length: -1\n\n")))
	require.Error(t, err)
	_, err = readFrame(bufio.NewReader(strings.NewReader("Content-Length: 999999999999\n\n")))
	require.Error(t, err)
	_, err = readFrame(bufio.NewReader(strings.NewReader("X: " + strings.Repeat("a", maxHeaderLine+10) + "\n\n")))
	require.Error(t, err)
	_, err = readFrame(bufio.NewReader(strings.NewReader("Content-Type: api/response\nContent-Length: 10\n\nshort")))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	f, err := readFrame(bufio.NewReader(strings.NewReader("\nContent-Type: command/reply\r\nReply-Text: +OK\r\n\r\n")))
	require.NoError(t, err)
	require.Equal(t, "+OK", f.get("Reply-Text"))
}

// FuzzReadFrame: whatever FreeSWITCH (or anything on its port) sends, the
// reader neither panics nor reads past a frame's Content-Length, and an
// event that parses has a name.
func FuzzReadFrame(f *testing.F) {
	for _, raw := range transcriptFrames(f) {
		f.Add(raw)
	}
	f.Add([]byte("Content-Type: auth/request\n\n"))
	f.Add([]byte("Content-Length: 20\nContent-Type: text/event-plain\n\nEvent-Name: DTMF\n\n"))
	f.Add([]byte("Content-Type: text/event-plain\nContent-Length: 3\n\nX:%"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for range 64 {
			fr, err := readFrame(r)
			if err != nil {
				return
			}
			if cl := fr.get("Content-Length"); cl != "" && len(fr.body) > len(data) {
				t.Fatalf("a %d-byte body from %d bytes", len(fr.body), len(data))
			}
			if fr.contentType() == "text/event-plain" {
				if e, err := parsePlainEvent(fr.body); err == nil {
					if name, _ := e.raw("Event-Name"); name == "" {
						t.Fatalf("an event without a name: %q", fr.body)
					}
					e.Get("Unique-ID")
					e.Get("Hangup-Cause")
				}
			}
		}
	})
}

// FuzzDispatch: whatever event arrives, the driver does not fall over.
func FuzzDispatch(f *testing.F) {
	for _, raw := range transcriptFrames(f) {
		fr, err := readFrame(bufio.NewReader(bytes.NewReader(raw)))
		if err == nil && fr.contentType() == "text/event-plain" {
			f.Add(fr.body)
		}
	}
	for _, seed := range []string{
		"Event-Name: CHANNEL_PARK\nUnique-ID: a\nCall-Direction: inbound\nCaller-Destination-Number: 0176390861\nCaller-Caller-ID-Number: 0612345678\n\n",
		"Event-Name: CHANNEL_PARK\nUnique-ID: b\nCall-Direction: outbound\n\n",
		"Event-Name: CHANNEL_HANGUP\nUnique-ID: a\nHangup-Cause: USER_BUSY\n\n",
		"Event-Name: BACKGROUND_JOB\nJob-UUID: j\nContent-Length: 14\n\n-ERR NO_ANSWER",
		"Event-Name: CHANNEL_EXECUTE\nUnique-ID: c\nApplication: socket\nApplication-Data: 127.0.0.1%3A8084\n\n",
		"Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\nfrom-user: alice\n\n",
		"Event-Name: DTMF\nUnique-ID: a\nDTMF-Digit: %23\n\n",
		"Event-Name: RECORD_STOP\nUnique-ID: a\nRecord-File-Path: /x.wav\nvariable_record_ms: x\n\n",
		"Event-Name: CHANNEL_EXECUTE_COMPLETE\nUnique-ID: a\nApplication-UUID: p\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := parsePlainEvent(body)
		if err != nil {
			return
		}
		d := New(Config{Addr: "127.0.0.1:1", Country: "FR", RequestTimeout: time.Millisecond})
		// A few legs the events may name.
		d.legs["a"] = &leg{inbound: true, sink: nopSink{}, played: map[string]bool{"p": true}}
		d.legs["b"] = &leg{sink: nopSink{}, pending: true}
		d.jobs["j"] = "b"
		d.playbacks["p"] = "a"
		d.recordings["/x.wav"] = &recording{leg: "a", name: "x", sink: nopSink{}, voicemail: true}
		d.dispatch(e, nopHandler{}, nopPresence{})
	})
}

type nopHandler struct{}

func (nopHandler) Handle(dialplan.InboundCall) dialplan.Sink { return nopSink{} }

type nopSink struct{}

func (nopSink) Post(dialplan.Event) {}

type nopPresence struct{}

func (nopPresence) SetPresence(string, bool) {}

// TestParseBugs: uuid_buglist's answer, as FreeSWITCH 1.10 writes it
// (switch_core_media_bug_enumerate), and for a channel it does not have.
func TestParseBugs(t *testing.T) {
	out := "<media-bugs>\n <media-bug>\n  <function>session_record</function>\n  <target>/rec/voicemail-7.wav</target>\n" +
		"  <thread-locked>0</thread-locked>\n </media-bug>\n</media-bugs>\n"
	bugs, err := parseBugs(out)
	require.NoError(t, err)
	require.Equal(t, []mediaBug{{Function: "session_record", Target: "/rec/voicemail-7.wav"}}, bugs)
	bugs, err = parseBugs("<media-bugs>\n</media-bugs>\n")
	require.NoError(t, err)
	require.Equal(t, []mediaBug{}, bugs, "a channel without bugs")
	bugs, err = parseBugs("")
	require.NoError(t, err)
	require.Nil(t, bugs, "no such channel")
	_, err = parseBugs("<media-bugs><media-bug><function>x")
	require.Error(t, err)
}

func FuzzParseBugs(f *testing.F) {
	f.Add("<media-bugs>\n <media-bug>\n  <function>session_record</function>\n  <target>/rec/a.wav</target>\n </media-bug>\n</media-bugs>\n")
	f.Add("")
	f.Add("-ERR no such channel\n")
	f.Fuzz(func(t *testing.T, out string) {
		bugs, err := parseBugs(out)
		if err == nil && bugs == nil && strings.Contains(out, "<media-bugs>") {
			t.Fatalf("a list read as no channel: %q", out)
		}
	})
}
