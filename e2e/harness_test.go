package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/aircall"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) {
	// The scenarios mostly wait on scripted phones and callers, and a real
	// server's suite runs its scenarios one after the other for minutes:
	// with one test a core, the emulators' scenarios would wait for the
	// real servers' suites to end.
	flag.Parse()
	if p := flag.Lookup("test.parallel"); p != nil && p.Value.String() == fmt.Sprint(runtime.GOMAXPROCS(0)) {
		p.Value.Set("8")
	}
	code := storetest.Run(m)
	stopServers(code != 0)
	os.Exit(code)
}

// backend is a media server the suite can drive: an emulator, or a real
// server with SIPp playing the phones.
type backend interface {
	// env configures the switchboard binary to use it.
	env() []string
	// device is the dial string of a user's phone called name.
	device(name string) string
	// phone scripts a phone: what it does when rung.
	phone(t testing.TB, name string, p phone)
	// external scripts what the number digits, dialled over the trunk,
	// does when rung, as phone does a user's.
	external(t testing.TB, digits string, p phone)
	// call places an inbound call; the caller follows the script.
	call(t *testing.T, from, to string, s script) caller
	// audio says whether calls carry sound (a real server), or only
	// signalling (an emulator: recordings are silence).
	audio() bool
	// heard is what the phone called name (with phone.listen; pstn for
	// the phone external numbers reach) heard of the last call it
	// answered, in the first d from that call's first packet on, as 8 kHz
	// samples; nil before it answered, and where no audio flows (an
	// emulator). Read during the call, it is what came so far.
	heard(name string, d time.Duration) []int16
	// heardBetween is what the phone heard of that call from `from` to
	// `to` after its first packet (by arrival: while nothing plays to the
	// phone, Asterisk sends nothing, and the pause takes no samples).
	heardBetween(name string, from, to time.Duration) []int16
	// rings lists how long the phone called name rang each time it was
	// rung and not answered, as the phone saw it (SIP INVITE to CANCEL);
	// nil where no phone sees SIP (an emulator).
	rings(name string) []time.Duration
	// restart stops the media server, runs whileDown, and starts it
	// again; it returns once the server serves.
	restart(t *testing.T, whileDown func())
	// deskDevice is the device of the shipped desk phone called name
	// (alice, bob): one whose registration is its presence.
	deskDevice(name string) string
	// register registers the desk phone (or unregisters it).
	register(t *testing.T, name string, registered bool)
	// deskCall is the desk phone called name (deskDevice) dialling
	// digits; it follows the script as a caller does.
	deskCall(t *testing.T, name, digits string, s script) caller
}

// phone is what a scripted phone does when rung.
type phone struct {
	answerAfter time.Duration // 0 with ring false: answers at once
	hangupAfter time.Duration // after answering; 0: the caller ends the call
	ring        bool          // rings until the call stops
	busy        bool
	decline     bool
	say         float64 // once answered, a tone of this frequency (Hz) is what it says
	// listen: what the phone hears is kept (backend.heard), call after
	// call. A phone that listens says nothing, as a caller who listens.
	listen bool
	// refer: once answered, after hangupAfter, the phone transfers the
	// call there (a blind transfer: REFER to this user part, such as an
	// extension), then hangs up.
	refer string
}

// script is what a caller does.
type script struct {
	digits      map[time.Duration]string // pressed this long after the answer
	hangupAfter time.Duration            // after the answer; 0: waits for switchboard
	// say: from the answer on, the caller says a tone of this frequency
	// (Hz). Only a real server carries it.
	say float64
	// listen: what the caller hears is kept (caller.audio). A caller
	// who listens says nothing (the server would then send its audio
	// where the caller's comes from).
	listen bool
}

// caller is a call in progress on the backend.
type caller interface {
	// ended waits until the call is over.
	ended(t *testing.T)
	// heard lists what was played to the caller, in order: each file or
	// sound as the media server was asked to play it.
	heard() []string
	// audio is what the caller heard (with script.listen) in the first d
	// from the first packet on, as 8 kHz samples; nil where no audio
	// flows (an emulator).
	audio(d time.Duration) []int16
	// audioBetween is what the caller heard from `from` to `to` after its
	// first packet (by arrival, as backend.heardBetween).
	audioBetween(from, to time.Duration) []int16
}

var (
	buildMu  sync.Mutex
	binaries = map[bool]string{}
)

// build compiles the switchboard binary once for the whole suite: with
// the race detector for tests, without it for benchmarks (it would
// measure the detector).
func build(t testing.TB) string {
	t.Helper()
	race := !testing.Testing() || !isBenchmark(t)
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := binaries[race]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "switchboard-e2e-")
	require.NoError(t, err)
	bin := filepath.Join(dir, "switchboard")
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, "../cmd/switchboard")...).CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	binaries[race] = bin
	return bin
}

func isBenchmark(t testing.TB) bool {
	_, ok := t.(*testing.B)
	return ok
}

// app is a running switchboard with its own database.
type app struct {
	t    testing.TB
	url  string
	key  string // api_id:api_token
	pid  int    // of switchboard serve
	cpu0 time.Duration
	logs *bytes.Buffer
	// timelines are the event names of the calls last read by calls(), so
	// that backends can be compared.
	timelines [][]string

	bin     string
	env     []string
	logMu   sync.Mutex
	serve   *exec.Cmd    // the running switchboard serve
	killed  func()       // kills it and waits for its end
	stopped func() error // stops it gracefully and says how it ended
}

// start migrates a fresh database, bootstraps a company and serves with
// the backend; it returns once /readyz says the media link is up.
func start(t testing.TB, b backend) *app {
	t.Helper()
	return startOn(t, b, storetest.URL(t))
}

// startOn is start on the database at url.
func startOn(t testing.TB, b backend, url string) *app {
	t.Helper()
	bin := build(t)
	port, err := freePort("tcp4")
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// Tests log everything (shown when one fails); benchmarks measure
	// switchboard as deployed, at the info level.
	level := "debug"
	if isBenchmark(t) {
		level = "info"
	}
	env := append(os.Environ(), "SWITCHBOARD_DATABASE_URL="+url, "SWITCHBOARD_HTTP_ADDR="+addr,
		"SWITCHBOARD_LOG_LEVEL="+level, "SWITCHBOARD_COUNTRY=FR",
		// The suite's webhook receivers listen on the loopback, over http.
		"SWITCHBOARD_WEBHOOK_ALLOW_HTTP=true", "SWITCHBOARD_WEBHOOK_ALLOW_NETS=127.0.0.0/8",
		// Desk phones registered by a scenario get presence within a second.
		"SWITCHBOARD_ARI_DEVICE_REFRESH=1s",
		// A stopped switchboard hands calls over at once (a scenario
		// that drains says so).
		"SWITCHBOARD_DRAIN_TIMEOUT=0s",
		// The test's own: the same for this switchboard started again.
		"SWITCHBOARD_SPOOL_DIR="+t.TempDir())
	env = append(env, b.env()...)
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "switchboard %v: %s", args, out)
		return string(out)
	}
	out := run("bootstrap", "--company", "Acme", "--admin-email", "owner@acme.test", "--time-zone", "Europe/Paris", "--country", "FR")
	m := regexp.MustCompile(`api_id=(\w+) api_token=(\w+)`).FindStringSubmatch(out)
	require.Len(t, m, 3, out)
	a := &app{t: t, url: "http://" + addr, key: m[1] + ":" + m[2], logs: &bytes.Buffer{}, bin: bin, env: env}
	t.Cleanup(func() {
		if t.Failed() {
			a.logMu.Lock()
			t.Logf("switchboard log:\n%s", a.logs.String())
			a.logMu.Unlock()
		}
	})
	a.start()
	return a
}

// start runs switchboard serve and waits until /readyz says the media
// link is up.
func (a *app) start() {
	a.t.Helper()
	a.launch()
	a.waitReady()
}

// twin runs a second switchboard serve on the same database and media
// server, at another address: a warm standby while a runs. It returns
// once the twin answers HTTP (ready or not).
func (a *app) twin() *app {
	t := a.t
	t.Helper()
	port, err := freePort("tcp4")
	require.NoError(t, err)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// One public URL for both, as behind a load balancer: what either
	// renders (webhook bodies, links) is the same.
	tw := &app{t: t, url: "http://" + addr, key: a.key, logs: &bytes.Buffer{}, bin: a.bin,
		env: append(slices.Clone(a.env), "SWITCHBOARD_HTTP_ADDR="+addr, "SWITCHBOARD_PUBLIC_URL="+a.url,
			"SWITCHBOARD_SPOOL_DIR="+t.TempDir())}
	t.Cleanup(func() {
		if t.Failed() {
			tw.logMu.Lock()
			t.Logf("the twin's log:\n%s", tw.logs.String())
			tw.logMu.Unlock()
		}
	})
	tw.launch()
	require.Eventually(t, func() bool { return tw.ready() != 0 }, 30*time.Second, 50*time.Millisecond, "the twin never answered")
	return tw
}

// launch runs switchboard serve. When the test ends it is stopped
// gracefully, as an operator's Ctrl-C, and must stop cleanly (unless the
// test killed it).
func (a *app) launch() {
	t := a.t
	t.Helper()
	cmd := tied(exec.Command(a.bin, "serve"))
	cmd.Env = a.env
	cmd.WaitDelay = 10 * time.Second
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	a.pid, a.serve = cmd.Process.Pid, cmd
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		s := bufio.NewScanner(pipe)
		s.Buffer(nil, 1<<20) // a long line (a big request logged) must not end the log
		for s.Scan() {
			a.logMu.Lock()
			a.logs.WriteString(s.Text() + "\n")
			a.logMu.Unlock()
		}
	}()
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		<-copied
		exited <- err
	}()
	t.Cleanup(func() {
		if a.serve != cmd {
			return // killed by the test
		}
		cmd.Process.Signal(os.Interrupt)
		timer := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
		err := <-exited
		timer.Stop()
		require.NoError(t, err, "switchboard stops cleanly")
	})
	a.killed = func() {
		cmd.Process.Kill()
		<-exited
	}
	a.stopped = func() error {
		cmd.Process.Signal(os.Interrupt)
		timer := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
		defer timer.Stop()
		return <-exited
	}
}

// stop stops switchboard serve as an operator does (SIGINT, as SIGTERM),
// and requires it to stop cleanly; start runs it again.
func (a *app) stop() {
	a.t.Helper()
	a.serve = nil
	require.NoError(a.t, a.stopped(), "switchboard stops cleanly")
}

// waitReady waits until /readyz says 200.
func (a *app) waitReady() {
	a.t.Helper()
	require.Eventually(a.t, func() bool { return a.ready() == http.StatusOK }, 30*time.Second, 50*time.Millisecond,
		"switchboard never became ready")
}

// ready is what /readyz answers (0 when switchboard does not).
func (a *app) ready() int {
	res, err := http.Get(a.url + "/readyz")
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// kill kills switchboard serve (SIGKILL), as a crash: nothing it was
// doing is finished; start runs it again on the same database.
func (a *app) kill() {
	a.t.Helper()
	a.serve = nil
	a.killed()
}

// send sends an API request with the company's key and reads the answer.
func (a *app) send(req *http.Request) (*http.Response, []byte) {
	a.t.Helper()
	id, token, _ := strings.Cut(a.key, ":")
	req.SetBasicAuth(id, token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	require.NoError(a.t, aircallSchemas.Check(req.Method, req.URL.String(), res.StatusCode, body),
		"every answer is what Aircall would answer")
	return res, body
}

// aircallSchemas checks every answer the scenarios get against Aircall's
// objects (internal/aircall).
var aircallSchemas = func() *aircall.Checker {
	c, err := aircall.Load()
	if err != nil {
		panic(err)
	}
	return c
}()

// do sends an API request; out receives the JSON.
func (a *app) do(method, path string, body, out any) int {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(a.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.url+path, r)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	res, raw := a.send(req)
	if out != nil && len(raw) > 0 {
		require.NoError(a.t, json.Unmarshal(raw, out), "%s", raw)
	}
	return res.StatusCode
}

// download GETs a file the API links (a recording, a voicemail): the
// link is an absolute URL, followed as it is, as a client would.
func (a *app) download(link string) (*http.Response, []byte) {
	a.t.Helper()
	require.True(a.t, strings.HasPrefix(link, a.url+"/"), "a link at switchboard's public URL (%s): %s", a.url, link)
	req, err := http.NewRequest("GET", link, nil)
	require.NoError(a.t, err)
	return a.send(req)
}

// upload posts a file to the media library and returns the media.
func (a *app) upload(name string, content []byte) map[string]any {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", name)
	require.NoError(a.t, err)
	part.Write(content)
	require.NoError(a.t, w.Close())
	req, err := http.NewRequest("POST", a.url+"/v1/media", &body)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, raw := a.send(req)
	var out map[string]any
	require.NoError(a.t, json.Unmarshal(raw, &out), "%s", raw)
	require.Equal(a.t, 201, res.StatusCode, "%v", out)
	return out["media"].(map[string]any)
}

// create posts a resource and returns its id.
func (a *app) create(path, wrapper string, body any) int64 {
	a.t.Helper()
	var out map[string]map[string]any
	status := a.do("POST", path, body, &out)
	require.Equal(a.t, 201, status, "POST %s: %v", path, out)
	return int64(out[wrapper]["id"].(float64))
}

// callRecord is the part of GET /v1/calls/:id the suite checks.
type callRecord struct {
	ID               int64   `json:"id"`
	Direction        string  `json:"direction"`
	Status           string  `json:"status"`
	MissedCallReason *string `json:"missed_call_reason"`
	User             *struct {
		ID int64 `json:"id"`
	} `json:"user"`
	AnsweredAt *int64 `json:"answered_at"`
	EndedAt    *int64 `json:"ended_at"`
	IVROptions []struct {
		Key string `json:"key"`
	} `json:"ivr_options_selected"`
	Voicemail *string `json:"voicemail"`
	Recording *string `json:"recording"`
	// TransferTarget is where a transfer took the caller (null: nowhere).
	TransferTarget map[string]any  `json:"transfer_target"`
	Timeline       []timelineEvent `json:"timeline"`
}

// keys are the IVR keys the caller pressed.
func (c callRecord) keys() []string {
	var out []string
	for _, o := range c.IVROptions {
		out = append(out, o.Key)
	}
	return out
}

type timelineEvent struct {
	Event  string         `json:"event"`
	UserID *int64         `json:"user_id"`
	Data   map[string]any `json:"data"`
}

// answeredBy is the id of the user who answered, or 0.
func (c callRecord) answeredBy() int64 {
	if c.User == nil {
		return 0
	}
	return c.User.ID
}

func (c callRecord) events() []string {
	var names []string
	for _, e := range c.Timeline {
		names = append(names, e.Event)
	}
	return names
}

// calls waits until n calls are done and returns them, oldest first, with
// their timelines.
func (a *app) calls(n int) []callRecord {
	a.t.Helper()
	var ids []int64
	require.Eventually(a.t, func() bool {
		var list struct {
			Calls []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"calls"`
		}
		a.do("GET", "/v1/calls?per_page=50", nil, &list)
		ids = ids[:0]
		for _, c := range list.Calls {
			if c.Status == "done" {
				ids = append(ids, c.ID)
			}
		}
		return len(ids) >= n
	}, 60*time.Second, 100*time.Millisecond, "%d calls never ended", n)
	var out []callRecord
	for _, id := range ids {
		var c struct{ Call callRecord }
		require.Equal(a.t, 200, a.do("GET", fmt.Sprintf("/v1/calls/%d", id), nil, &c))
		out = append(out, c.Call)
	}
	a.timelines = a.timelines[:0]
	for _, c := range out {
		a.timelines = append(a.timelines, c.events())
	}
	return out
}

// availability is the user's live status.
func (a *app) availability(user int64) string {
	a.t.Helper()
	var av struct {
		Users []struct {
			ID           int64  `json:"id"`
			Availability string `json:"availability"`
		} `json:"users"`
	}
	a.do("GET", "/v1/users/availabilities", nil, &av)
	for _, u := range av.Users {
		if u.ID == user {
			return u.Availability
		}
	}
	return ""
}

// waitAvailability waits until the user's live status is status.
func (a *app) waitAvailability(user int64, status string) {
	a.t.Helper()
	var last string
	require.Eventually(a.t, func() bool {
		last = a.availability(user)
		return last == status
	}, 30*time.Second, 50*time.Millisecond, "user %d never became %s (last %s)", user, status, last)
}

// waitEvent waits until the timeline of the last call has an event of
// kind, and returns the call's id.
func (a *app) waitEvent(kind string) int64 {
	a.t.Helper()
	return a.waitLast(func(c callRecord) bool { return slices.Contains(c.events(), kind) }, "had "+kind)
}

// waitCall waits until the last call placed has the status (initial,
// answered, done) in its record, and returns its id.
func (a *app) waitCall(status string) int64 {
	a.t.Helper()
	return a.waitLast(func(c callRecord) bool { return c.Status == status }, "became "+status)
}

// waitLast waits until the last call placed is as ok says, and returns
// its id.
func (a *app) waitLast(ok func(callRecord) bool, what string) int64 {
	a.t.Helper()
	var id int64
	require.Eventually(a.t, func() bool {
		var list struct {
			Calls []struct {
				ID int64 `json:"id"`
			} `json:"calls"`
		}
		a.do("GET", "/v1/calls?per_page=1&order=desc", nil, &list)
		if len(list.Calls) == 0 {
			return false
		}
		var c struct{ Call callRecord }
		a.do("GET", fmt.Sprintf("/v1/calls/%d", list.Calls[0].ID), nil, &c)
		id = c.Call.ID
		return ok(c.Call)
	}, 30*time.Second, 20*time.Millisecond, "the last call never %s", what)
	return id
}
