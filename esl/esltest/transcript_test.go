package esltest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// record is one line of a transcript .jsonl (see transcripts/README.md).
type record struct {
	TMs         float64 `json:"t_ms"`
	Conn        string  `json:"conn"`
	Dir         string  `json:"dir"`
	ContentType string  `json:"content_type"`
	Command     string  `json:"command"`
	Raw         string  `json:"raw"`
	EventName   string  `json:"event_name"`
	Note        string  `json:"note"`
}

// transcriptDir finds the recordings: $ESLTEST_TRANSCRIPTS, then the
// repository layout (…/shared/freeswitch/transcripts beside main/).
func transcriptDir() string {
	if d := os.Getenv("ESLTEST_TRANSCRIPTS"); d != "" {
		return d
	}
	for _, d := range []string{"../../../shared/freeswitch/transcripts", "/work/shared/freeswitch/transcripts"} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}

// loadTranscript reads a scenario; the test is skipped when the
// recordings are not there.
func loadTranscript(t *testing.T, name string) []record {
	t.Helper()
	dir := transcriptDir()
	if dir == "" {
		t.Skip("FreeSWITCH transcripts not found: set ESLTEST_TRANSCRIPTS to shared/freeswitch/transcripts")
	}
	f, err := os.Open(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		t.Skipf("transcript %s not found in %s", name, dir)
	}
	require.NoError(t, err)
	defer f.Close()
	var out []record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	first := true
	for sc.Scan() {
		if first { // the header line
			first = false
			continue
		}
		var r record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

// sends are the bytes a connection sent, in order.
func sends(recs []record, conn string) []string {
	var out []string
	for _, r := range recs {
		if r.Conn == conn && r.Dir == "send" {
			out = append(out, r.Raw)
		}
	}
	return out
}

// recvFrames are the frames a connection received, parsed the way the
// test client parses the emulator's.
func recvFrames(t *testing.T, recs []record, conn string) []frame {
	t.Helper()
	var out []frame
	for _, r := range recs {
		if r.Conn != conn || r.Dir != "recv" {
			continue
		}
		f, err := readFrame(bufio.NewReader(strings.NewReader(r.Raw)))
		require.NoError(t, err, r.Raw)
		out = append(out, f)
	}
	return out
}

// recordedEvents returns the events of a connection that match pred.
func recordedEvents(t *testing.T, recs []record, conn string, pred func(*parsedEvent) bool) []*parsedEvent {
	var out []*parsedEvent
	for _, f := range recvFrames(t, recs, conn) {
		if f.ev != nil && pred(f.ev) {
			out = append(out, f.ev)
		}
	}
	return out
}

func received(entries []logEntry) []frame {
	var out []frame
	for _, e := range entries {
		if !e.send {
			out = append(out, e.f)
		}
	}
	return out
}

var (
	jobRe    = regexp.MustCompile(`Job-UUID: ([0-9a-f-]{36})`)
	statusRe = regexp.MustCompile(`(?s)Content-Length: \d+\n\nUP .*`)
	dateRe   = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	epochRe  = regexp.MustCompile(`\b1\d{9}\b`)
	clenRe   = regexp.MustCompile(`Content-Length: \d+`)
)

// normalizeReplies turns the non-event frames of a connection into
// comparable strings: FreeSWITCH-drawn job uuids become J0, J1, ... in
// order, status bodies and dates (which depend on when they were taken)
// become placeholders. Everything else must match byte for byte.
func normalizeReplies(frames []frame, replace map[string]string) []string {
	jobs := map[string]string{}
	var out []string
	for _, f := range frames {
		if f.ev != nil {
			continue
		}
		s := f.raw
		for from, to := range replace {
			if strings.Contains(s, from) {
				s = strings.ReplaceAll(s, from, to)
				head, body, _ := strings.Cut(s, "\n\n")
				s = clenRe.ReplaceAllString(head, "Content-Length: "+strconv.Itoa(len(body))) + "\n\n" + body
			}
		}
		for _, m := range jobRe.FindAllStringSubmatch(s, -1) {
			if _, ok := jobs[m[1]]; !ok {
				jobs[m[1]] = "J" + strconv.Itoa(len(jobs))
			}
		}
		for u, j := range jobs {
			s = strings.ReplaceAll(s, u, j)
		}
		s = statusRe.ReplaceAllString(s, "STATUS")
		n := dateRe.ReplaceAllString(s, "DATE")
		n = epochRe.ReplaceAllString(n, "EPOCH")
		if n != s {
			n = clenRe.ReplaceAllString(n, "Content-Length: N")
		}
		out = append(out, n)
	}
	return out
}

// step is one event of a channel reduced to what the recordings pin down:
// its name and the headers a controller acts on.
func step(e *parsedEvent) string {
	var b strings.Builder
	b.WriteString(e.name())
	for _, h := range []string{"Application", "Application-Response", "Hangup-Cause", "Answer-State",
		"Channel-Call-State", "Playback-Status", "DTMF-Digit", "Record-Completion-Cause"} {
		if v := e.get(h); v != "" {
			b.WriteString(" " + h + "=" + v)
		}
	}
	if e.get("Other-Leg-Unique-ID") != "" {
		b.WriteString(" +other-leg")
	}
	return b.String()
}

// layout is the header layout of an event: names in wire order, with the
// variable_*, Caller-* and Other-Leg-* blocks each folded into one token
// (their contents depend on the SIP peers, their presence and place do
// not).
func layout(e *parsedEvent) string {
	var names []string
	for _, h := range e.headers {
		n := h.Name
		switch {
		case strings.HasPrefix(n, "variable_"):
			n = "variable_*"
		case strings.HasPrefix(n, "Caller-"):
			n = "Caller-*"
		case strings.HasPrefix(n, "Other-Leg-"):
			n = "Other-Leg-*"
		}
		if len(names) > 0 && names[len(names)-1] == n && strings.HasSuffix(n, "*") {
			continue
		}
		names = append(names, n)
	}
	return strings.Join(names, " ")
}

// perChannel groups a connection's events by Unique-ID, the channels named
// C0, C1, ... in order of first appearance, each with its steps and
// layouts. Events without a Unique-ID (BACKGROUND_JOB) are left out.
func perChannel(frames []frame) (steps, layouts map[string][]string) {
	steps, layouts = map[string][]string{}, map[string][]string{}
	roles := map[string]string{}
	for _, f := range frames {
		if f.ev == nil {
			continue
		}
		id := f.ev.get("Unique-ID")
		if id == "" {
			continue
		}
		role, ok := roles[id]
		if !ok {
			role = "C" + strconv.Itoa(len(roles))
			roles[id] = role
		}
		steps[role] = append(steps[role], step(f.ev))
		layouts[role] = append(layouts[role], f.contentType()+" "+layout(f.ev))
	}
	return steps, layouts
}

// jobs lists the BACKGROUND_JOB events: command and body.
func jobs(frames []frame) []string {
	var out []string
	for _, f := range frames {
		if f.ev != nil && f.ev.name() == "BACKGROUND_JOB" {
			body := f.ev.body
			if strings.HasPrefix(body, "UP ") {
				body = "STATUS"
			}
			out = append(out, f.ev.get("Job-Command")+" -> "+body)
		}
	}
	return out
}

// checkAgainst compares what a connection received from the emulator with
// what the same connection received from FreeSWITCH: replies byte for
// byte (normalized), each channel's event steps and header layouts, and
// the background jobs.
func checkAgainst(t *testing.T, recs []record, conn string, c *client, replace map[string]string) {
	t.Helper()
	want := recvFrames(t, recs, conn)
	got := received(c.entries())
	require.Equal(t, normalizeReplies(want, nil), normalizeReplies(got, replace), "%s: replies", conn)
	wantSteps, wantLayouts := perChannel(want)
	gotSteps, gotLayouts := perChannel(got)
	require.Equal(t, len(wantSteps), len(gotSteps), "%s: channels", conn)
	for role, steps := range wantSteps {
		require.Equal(t, steps, gotSteps[role], "%s: events of %s", conn, role)
		for i, l := range wantLayouts[role] {
			require.Equal(t, l, gotLayouts[role][i], "%s: header layout of %s event %d (%s)", conn, role, i, steps[i])
		}
	}
	require.Equal(t, jobs(want), jobs(got), "%s: background jobs", conn)
	n := 0
	for _, st := range wantSteps {
		n += len(st)
	}
	t.Logf("%s: %d replies, %d channel events on %d channels, %d jobs match the recording",
		conn, len(normalizeReplies(want, nil)), n, len(wantSteps), len(jobs(want)))
}

// replay sends a connection's recorded commands one at a time.
type replay struct {
	t     *testing.T
	c     *client
	sends []string
	i     int
	edit  func(string) string
}

func newReplay(t *testing.T, recs []record, conn string, c *client) *replay {
	return &replay{t: t, c: c, sends: sends(recs, conn)}
}

// next sends the next recorded command and returns its reply.
func (r *replay) next() frame {
	r.t.Helper()
	require.Less(r.t, r.i, len(r.sends), "no more recorded commands")
	raw := r.sends[r.i]
	r.i++
	if r.edit != nil {
		raw = r.edit(raw)
	}
	r.c.sendRaw(raw)
	return r.c.reply()
}

// skip sends the next n commands, each waiting for its reply.
func (r *replay) run(n int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		r.next()
	}
}

// done checks every recorded command was replayed.
func (r *replay) done() {
	r.t.Helper()
	require.Equal(r.t, len(r.sends), r.i, "recorded commands left unsent")
}

// inboundCalls returns the inbound channels a connection saw created, in
// order, as the scripts that recreate them.
func inboundCalls(t *testing.T, recs []record, conn string) []recordedCall {
	var out []recordedCall
	for _, e := range recordedEvents(t, recs, conn, named("CHANNEL_CREATE", "")) {
		if e.get("Call-Direction") != "inbound" {
			continue
		}
		out = append(out, callFrom(e))
	}
	return out
}

type recordedCall struct {
	from, dest string
	script     CallScript
}

func callFrom(e *parsedEvent) recordedCall {
	name := e.get("Channel-Name") // sofia/<profile>/<user>@<host:port>
	_, contact, _ := strings.Cut(name, "@")
	if contact == "" {
		contact = e.get("Channel-Channel-Name")
		_, contact, _ = strings.Cut(contact, "@")
	}
	uuid := e.get("Unique-ID")
	num := e.get("Caller-Caller-ID-Number")
	dest := e.get("Caller-Destination-Number")
	cname := e.get("Caller-Caller-ID-Name")
	if num == "" {
		num = e.get("Channel-Caller-ID-Number")
		dest = e.get("Channel-Destination-Number")
		cname = e.get("Channel-Caller-ID-Name")
	}
	return recordedCall{from: num, dest: dest, script: CallScript{Name: cname, UUID: uuid, Contact: contact}}
}

func (rc recordedCall) place(s *Server) *Caller { return s.Call(rc.from, rc.dest, rc.script) }
