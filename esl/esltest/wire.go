package esltest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Limits on what a client may send. FreeSWITCH reads up to 10 MB of header
// block; the emulator is for tests, so it keeps the same ceiling for bodies
// and a smaller one for the header block, which is never large in practice.
const (
	maxHeaderBlock = 1 << 20
	maxBody        = 10 << 20
)

// errFrameTooLarge reports a command whose header block or body exceeds the
// limits above.
var errFrameTooLarge = errors.New("esltest: frame too large")

// Header is one "Name: value" line of a command or event.
type Header struct {
	Name  string
	Value string
}

// Command is one command a client sent: its first line, the header lines
// that followed it (sendmsg arguments, Job-UUID, ...) and an optional body
// (Content-Length bytes after the blank line).
type Command struct {
	Line    string
	Headers []Header
	Body    string
	Time    time.Time // when it arrived
}

// Header returns the value of the first header called name, compared
// without case as FreeSWITCH does, or "" when there is none.
func (c Command) Header(name string) string {
	for _, h := range c.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// readCommand reads one command the way mod_event_socket's read_packet does:
// leading blank lines are skipped, the header block ends at an empty line
// (CR is ignored), the first line is the command, "name: value" lines are
// headers (lines without a colon are dropped), and a content-length header
// makes the reader take exactly that many body bytes after the block.
func readCommand(r *bufio.Reader) (Command, error) {
	var cmd Command
	var lines []string
	size := 0
	for {
		line, err := r.ReadString('\n')
		size += len(line)
		if size > maxHeaderBlock {
			return Command{}, errFrameTooLarge
		}
		if err != nil {
			if errors.Is(err, io.EOF) && (len(lines) > 0 || line != "") {
				return Command{}, io.ErrUnexpectedEOF
			}
			return Command{}, err
		}
		line = strings.TrimRight(line, "\r\n")
		// A line that is only CRs counts as empty too, as in FreeSWITCH.
		if strings.Trim(line, "\r") == "" {
			if len(lines) == 0 {
				continue // the "bah" case: stray newlines between commands
			}
			break
		}
		lines = append(lines, line)
	}
	cmd.Line = strings.TrimRight(lines[0], "\r")
	clen := -1
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" {
			continue
		}
		value = strings.TrimLeft(value, " ")
		value = strings.TrimRight(value, "\r")
		cmd.Headers = append(cmd.Headers, Header{Name: name, Value: value})
		if strings.EqualFold(name, "content-length") && clen < 0 {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err == nil && n > 0 {
				clen = n
			}
		}
	}
	if clen > 0 {
		if clen > maxBody {
			return Command{}, errFrameTooLarge
		}
		body := make([]byte, clen)
		if _, err := io.ReadFull(r, body); err != nil {
			return Command{}, fmt.Errorf("esltest: read body: %w", err)
		}
		cmd.Body = string(body)
	}
	return cmd, nil
}

// urlUnsafe lists the characters switch_url_encode escapes besides bytes
// outside 0x20-0x7E (see the transcripts' README, "Framing" 6).
const urlUnsafe = "\r\n \"#%&+:;<=>?@[\\]^`{|}"

// urlEncode percent-encodes a header value the way FreeSWITCH does in
// text/event-plain frames: uppercase hex, "/(),!*'-._~$" left alone.
func urlEncode(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func needsEscape(c byte) bool { return escaped[c] }

// escaped is needsEscape as a table: every event header goes through it.
var escaped = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c > 0x7e || strings.IndexByte(urlUnsafe, byte(c)) >= 0
	}
	return t
}()

// appendJSONString appends s as a JSON string the way cJSON prints it:
// quote, backslash and the short control escapes, other control bytes as
// \u00XX, and everything else (UTF-8 included) as it is. Go's encoding/json
// would also escape <, > and &, which FreeSWITCH does not.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
				continue
			}
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Frames the emulator writes that never vary.
const (
	authRequestFrame = "Content-Type: auth/request\n\n"
	goodbyeText      = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
)

// replyFrame is a command/reply; an empty reply becomes "-ERR command not
// found", as in parse_command (getvar of a missing variable shows it).
func replyFrame(text string) []byte {
	if text == "" {
		text = "-ERR command not found"
	}
	return []byte("Content-Type: command/reply\nReply-Text: " + text + "\n\n")
}

func apiResponseFrame(body string) []byte {
	return []byte("Content-Type: api/response\nContent-Length: " + strconv.Itoa(len(body)) + "\n\n" + body)
}

func disconnectFrame(sessionUUID string) []byte {
	if sessionUUID == "" {
		return []byte("Content-Type: text/disconnect-notice\nContent-Length: " +
			strconv.Itoa(len(goodbyeText)) + "\n\n" + goodbyeText)
	}
	return []byte("Content-Type: text/disconnect-notice\nControlled-Session-UUID: " + sessionUUID +
		"\nContent-Disposition: disconnect\nContent-Length: " + strconv.Itoa(len(goodbyeText)) + "\n\n" + goodbyeText)
}

func lingerFrame(sessionUUID, channelName string, lingerTime int) []byte {
	return []byte("Content-Type: text/disconnect-notice\nControlled-Session-UUID: " + sessionUUID +
		"\nContent-Disposition: linger\nChannel-Name: " + channelName +
		"\nLinger-Time: " + strconv.Itoa(lingerTime) + "\nContent-Length: 0\n\n")
}
