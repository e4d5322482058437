package esl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Limits on what is read from the socket, so that a broken or hostile peer
// cannot make the reader allocate without bound. FreeSWITCH's largest
// frames are a CHANNEL_HANGUP_COMPLETE (about 12 KB) and `show channels`
// answers (about 1 KB a channel).
const (
	maxHeaderLine = 64 << 10
	maxHeaders    = 1024
	maxBody       = 64 << 20
)

// errFrame is a frame that does not follow ESL's framing.
var errFrame = errors.New("esl: malformed frame")

// frame is one message from FreeSWITCH: a header block (Name: value lines
// ending with an empty line) and, when it has a Content-Length, exactly
// that many body bytes.
type frame struct {
	header map[string]string // first value of each name
	body   []byte
}

func (f *frame) get(name string) string { return f.header[name] }

func (f *frame) contentType() string { return f.header["Content-Type"] }

// readFrame reads one frame. Lines end with LF (a CR before it is
// tolerated); header values of the outer block are taken as they are.
func readFrame(r *bufio.Reader) (*frame, error) {
	f := &frame{header: make(map[string]string, 4)}
	for n := 0; ; n++ {
		line, err := readLine(r)
		if err != nil {
			if n > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			if n == 0 {
				continue // stray blank line between frames
			}
			break
		}
		if n >= maxHeaders {
			return nil, fmt.Errorf("%w: more than %d header lines", errFrame, maxHeaders)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: header line %q", errFrame, clip(line))
		}
		value = strings.TrimPrefix(value, " ")
		if _, dup := f.header[name]; !dup {
			f.header[name] = value
		}
	}
	if cl, ok := f.header["Content-Length"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		if err != nil || n < 0 || n > maxBody {
			return nil, fmt.Errorf("%w: Content-Length %q", errFrame, clip(cl))
		}
		f.body = make([]byte, n)
		if _, err := io.ReadFull(r, f.body); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return f, nil
}

// readLine reads a line without its LF (or CRLF), refusing lines longer
// than maxHeaderLine.
func readLine(r *bufio.Reader) (string, error) {
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			if len(long) > maxHeaderLine {
				return "", fmt.Errorf("%w: header line longer than %d bytes", errFrame, maxHeaderLine)
			}
			continue
		}
		if err != nil {
			if err == io.EOF && len(chunk)+len(long) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		if long != nil {
			chunk = append(long, chunk...)
			if len(chunk) > maxHeaderLine {
				return "", fmt.Errorf("%w: header line longer than %d bytes", errFrame, maxHeaderLine)
			}
		}
		chunk = chunk[:len(chunk)-1]
		chunk = bytes.TrimSuffix(chunk, []byte{'\r'})
		return string(chunk), nil
	}
}

// Event is one FreeSWITCH event, read from a text/event-plain body. Values
// stay percent-encoded as they came and are decoded when read, so that the
// hundred-odd headers of a channel event nobody reads cost nothing.
type Event struct {
	headers []header // in wire order, still encoded
	Body    string   // the event's own body (BACKGROUND_JOB's result)
}

type header struct{ name, value string }

// raw is the first value of the header called name, still encoded.
func (e *Event) raw(name string) (string, bool) {
	for _, h := range e.headers {
		if h.name == name {
			return h.value, true
		}
	}
	return "", false
}

// Get returns the decoded value of the header called name ("" when absent;
// the first one when repeated, as CHANNEL_HANGUP_COMPLETE's Hangup-Cause
// is, with the same value). Event headers are case-sensitive, as
// FreeSWITCH sends them.
func (e *Event) Get(name string) string {
	v, _ := e.raw(name)
	if !strings.Contains(v, "%") {
		return v
	}
	d, err := url.PathUnescape(v)
	if err != nil {
		return v // a lone % that is not an escape is kept as sent
	}
	return d
}

// Has says whether the event carries a header called name.
func (e *Event) Has(name string) bool {
	_, ok := e.raw(name)
	return ok
}

// Name is the event's Event-Name.
func (e *Event) Name() string { return e.Get("Event-Name") }

// UUID is the channel the event is about (Unique-ID), "" for others.
func (e *Event) UUID() string { return e.Get("Unique-ID") }

// parsePlainEvent reads a text/event-plain body: "Name: value" lines with
// percent-encoded values, an empty line, then, when the event has its own
// Content-Length (the last header of the block), that many body bytes.
func parsePlainEvent(body []byte) (*Event, error) {
	rest := string(body) // one copy; headers are slices of it
	e := &Event{headers: make([]header, 0, 128)}
	for len(rest) > 0 {
		var line string
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: event header %q", errFrame, clip(line))
		}
		e.headers = append(e.headers, header{name, strings.TrimPrefix(value, " ")})
	}
	if cl, ok := e.raw("Content-Length"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		if err != nil || n < 0 || n > len(rest) {
			return nil, fmt.Errorf("%w: event Content-Length %q for %d bytes", errFrame, clip(cl), len(rest))
		}
		e.Body = rest[:n]
	}
	if name, _ := e.raw("Event-Name"); name == "" {
		return nil, fmt.Errorf("%w: event without Event-Name", errFrame)
	}
	return e, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
