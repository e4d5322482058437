package aritest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/pbxlocal"
)

// Each scenario test replays what the recorder did in one transcript,
// against the emulator, with the recorded app name (pbx-test), extensions
// and caller ids, and shorter waits. The checks come from the recording:
// per channel (and per playback, recording, bridge) the same events with
// the same fields once timestamps, Call-IDs, name counters and RTP
// statistics are masked; the same status line, error bodies and key order
// for every REST response the scenario repeats; the recorded key order
// for every event.

type harness struct {
	t    *testing.T
	srv  *Server
	base string
	tr   *transcript
	hc   *http.Client
}

func newHarness(t *testing.T, transcriptName string, opts Options) *harness {
	t.Helper()
	t.Parallel()
	var tr *transcript
	if transcriptName != "" {
		tr = loadTranscript(t, transcriptName)
	}
	if opts.App == "" {
		opts.App = "pbx-test"
	}
	srv := New(opts)
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, base: srv.URL(), tr: tr, hc: &http.Client{Timeout: 5 * time.Second}}
}

func (h *harness) ws() *wsClient { return dialEvents(h.t, h.base, h.srv.opts.App) }

// rest sends a request as the recorder did (Basic auth; a map body as
// JSON). With reqID > 0 the response is checked against the transcript's.
func (h *harness) rest(reqID int, method, path string, body any) (int, []byte, http.Header) {
	t := h.t
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	require.NoError(t, err)
	req.SetBasicAuth("asterisk", "asterisk")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if reqID > 0 {
		h.checkResponse(reqID, resp, got)
	}
	return resp.StatusCode, got, resp.Header
}

func (h *harness) checkResponse(reqID int, resp *http.Response, got []byte) {
	t := h.t
	t.Helper()
	want, ok := h.tr.resp[reqID]
	require.True(t, ok, "%s has no response #%d", h.tr.name, reqID)
	require.Equal(t, want.StatusText, resp.Status, "%s #%d %s %s", h.tr.name, reqID, want.Method, want.Path)
	require.Equal(t, want.RespHeaders["Content-Type"], resp.Header.Get("Content-Type"), "#%d Content-Type", reqID)
	if want.Status >= 400 {
		// Success bodies hold run-specific ids, Call-IDs and times, so only
		// errors have a fixed length. (net/http never sends Content-Length
		// with a 204; Asterisk sends "0".)
		require.Equal(t, want.RespHeaders["Content-Length"], resp.Header.Get("Content-Length"), "#%d Content-Length", reqID)
	}
	if loc := want.RespHeaders["Location"]; loc != "" {
		require.Equal(t, loc[:strings.LastIndexByte(loc, '/')], resp.Header.Get("Location")[:strings.LastIndexByte(resp.Header.Get("Location"), '/')])
	}
	if want.RespHeaders["Allow"] != "" {
		require.Equal(t, want.RespHeaders["Allow"], resp.Header.Get("Allow"))
	}
	if want.RespHeaders["Www-Authenticate"] != "" {
		require.Equal(t, want.RespHeaders["Www-Authenticate"], resp.Header.Get("Www-Authenticate"))
	}
	if len(want.RespBody) == 0 || want.RespHeaders["Content-Type"] != "application/json" {
		return
	}
	if want.Status >= 400 {
		require.JSONEq(t, string(want.RespBody), string(got), "#%d error body", reqID)
		require.Equal(t, compact(t, want.RespBody), string(got), "#%d error body bytes", reqID)
		return
	}
	w, g := want.RespBody, json.RawMessage(got)
	if w[0] == '[' {
		var wa, ga []json.RawMessage
		require.NoError(t, json.Unmarshal(w, &wa))
		require.NoError(t, json.Unmarshal(g, &ga))
		if len(wa) == 0 || len(ga) == 0 {
			return
		}
		w, g = wa[0], ga[0]
	}
	require.Equal(t, keysOf(t, w), keysOf(t, g), "#%d key order", reqID)
}

// compact gives the bytes Asterisk sent: the recorder stored bodies
// compacted, with <, > and & escaped as Go's encoder does (jansson does not).
func compact(t *testing.T, raw []byte) string {
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, raw))
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(b.String())
}

func decode(t *testing.T, b []byte) map[string]any {
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// settle waits for stray events (there must be none) and checks the key
// order of every event received.
func settle(t *testing.T, clients ...*wsClient) {
	time.Sleep(120 * time.Millisecond)
	for _, c := range clients {
		for _, r := range c.events() {
			checkKeyOrder(t, r)
		}
	}
}

var inbound = CallScript{Name: "Caller One"}

// TestStaticInfo replays 00: info, applications before and after the
// websocket, endpoints, ping, empty lists, sounds, a global variable.
func TestStaticInfo(t *testing.T) {
	h := newHarness(t, "00-static-info", Options{})
	for _, a := range []string{"agent1", "agent2", "agent3"} {
		require.NoError(t, h.srv.SetPeer("PJSIP/"+a, Peer{}))
	}
	_, body, hdr := h.rest(1, "GET", "/ari/asterisk/info", nil)
	require.Equal(t, "Asterisk/22.10.1", hdr.Get("Server"))
	require.Equal(t, "no-cache, no-store", hdr.Get("Cache-Control"))
	for _, k := range []string{"build", "system", "config", "status"} {
		require.Equal(t, keysOf(t, subObject(t, h.tr.resp[1].RespBody, k)), keysOf(t, subObject(t, body, k)), k)
	}
	_, body, _ = h.rest(2, "GET", "/ari/applications", nil)
	require.Equal(t, "[]", string(body))
	ws := h.ws()
	exact := []struct {
		id   int
		path string
	}{{3, "/ari/applications"}, {4, "/ari/applications/pbx-test"}, {5, "/ari/endpoints"},
		{6, "/ari/endpoints/PJSIP/agent1"}, {8, "/ari/channels"}, {9, "/ari/bridges"},
		{10, "/ari/sounds/hello-world"}, {11, "/ari/asterisk/variable?variable=ASTERISK_VERSION_NUM"}}
	for _, e := range exact {
		_, body, _ := h.rest(e.id, "GET", e.path, nil)
		require.Equal(t, compact(t, h.tr.resp[e.id].RespBody), string(body), e.path)
	}
	_, body, _ = h.rest(7, "GET", "/ari/asterisk/ping", nil)
	require.Equal(t, "02:fc:00:00:00:01", decode(t, body)["asterisk_id"])
	require.Regexp(t, tsRe, decode(t, body)["timestamp"])
	settle(t, ws)
	require.Empty(t, ws.events())
}

// TestInboundAnswerPlayDTMFBridge replays 01.
func TestInboundAnswerPlayDTMFBridge(t *testing.T) {
	h := newHarness(t, "01-inbound-answer-play-dtmf-bridge", Options{SoundDuration: 5 * time.Second})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent1", Peer{Action: PeerAnswer, After: 100 * time.Millisecond}))
	ws := h.ws()
	cl := h.srv.Call("5551001", "1001", inbound)
	caller := cl.ChannelID()
	require.Regexp(t, chanIDRe, caller)
	ws.wait(t, 1, "StasisStart", onChannel(caller))

	h.rest(1, "POST", "/ari/channels/"+caller+"/answer", nil)
	h.rest(2, "POST", "/ari/channels/"+caller+"/play/pb-hello-1", map[string]any{"media": "sound:hello-world"})
	ws.wait(t, 1, "PlaybackStarted", onPlayback("pb-hello-1"))
	cl.Press("2")
	ws.wait(t, 1, "ChannelDtmfReceived", onChannel(caller))
	h.rest(3, "DELETE", "/ari/playbacks/pb-hello-1", nil)
	ws.wait(t, 1, "PlaybackFinished", onPlayback("pb-hello-1"))
	_, body, _ := h.rest(4, "POST", "/ari/bridges?name=s1-bridge&type=mixing", nil)
	bridge := decode(t, body)["id"].(string)
	require.Regexp(t, uuidRe, bridge)
	h.rest(5, "POST", "/ari/bridges/"+bridge+"/addChannel?channel="+caller, nil)
	_, body, _ = h.rest(6, "POST", "/ari/channels", map[string]any{"app": "pbx-test", "appArgs": "agent,1001",
		"callerId": `"Caller One" <5551001>`, "endpoint": "PJSIP/agent1", "timeout": 20})
	agent := decode(t, body)["id"].(string)
	require.Regexp(t, chanIDRe, agent)
	ws.wait(t, 1, "StasisStart", onChannel(agent))
	h.rest(7, "POST", "/ari/bridges/"+bridge+"/addChannel?channel="+agent, nil)
	ws.wait(t, 1, "ChannelConnectedLine", onChannel(caller))
	cl.Hangup() // the caller's BYE
	ws.wait(t, 1, "StasisEnd", onChannel(caller))
	h.rest(8, "DELETE", "/ari/channels/"+agent, nil)
	ws.wait(t, 1, "ChannelDestroyed", onChannel(agent))
	h.rest(9, "DELETE", "/ari/bridges/"+bridge, nil)
	ws.wait(t, 1, "BridgeDestroyed", nil)
	settle(t, ws)

	ids := map[string]string{caller: "1795358700.103", agent: "1795358700.104", bridge: "6e1ad696-0457-410e-b7d1-9856385d5493"}
	compareKeys(t, h.tr, 0, ws.events(), ids, "1795358700.103", "1795358700.104", "playback:pb-hello-1",
		"bridge:6e1ad696-0457-410e-b7d1-9856385d5493")
	heard := cl.Heard()
	require.Len(t, heard, 1)
	require.Equal(t, "sound:hello-world", heard[0].MediaURI)
	require.Equal(t, "done", heard[0].State)
	require.True(t, cl.Answered())
	ended, cause, by := cl.Ended()
	require.True(t, ended)
	require.Equal(t, 16, cause)
	require.Equal(t, "caller", by)
}

// outboundFailure replays 02, 03a, 03b and 03c: the caller is answered, an
// agent leg fails by itself, the app hangs the caller up.
func outboundFailure(t *testing.T, name, exten, endpoint string, timeout int, peer Peer, callerID, agentID string) {
	h := newHarness(t, name, Options{TimeoutUnit: 40 * time.Millisecond})
	require.NoError(t, h.srv.SetPeer(endpoint, peer))
	ws := h.ws()
	cl := h.srv.Call("5551001", exten, inbound)
	caller := cl.ChannelID()
	ws.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(1, "POST", "/ari/channels/"+caller+"/answer", nil)
	q := fmt.Sprintf("app=pbx-test&appArgs=agent%%2C%s&callerId=%%22Caller+One%%22+%%3C5551001%%3E&endpoint=%s&timeout=%d",
		exten, strings.ReplaceAll(endpoint, "/", "%2F"), timeout)
	_, body, _ := h.rest(2, "POST", "/ari/channels?"+q, nil)
	agent := decode(t, body)["id"].(string)
	ws.wait(t, 1, "ChannelDestroyed", onChannel(agent))
	next := 3
	if _, ok := h.tr.resp[4]; ok {
		h.rest(3, "GET", "/ari/channels/"+agent, nil)
		next = 4
	}
	h.rest(next, "DELETE", "/ari/channels/"+caller, nil)
	ws.wait(t, 1, "StasisEnd", onChannel(caller))
	settle(t, ws)
	compareKeys(t, h.tr, 0, ws.events(), map[string]string{caller: callerID, agent: agentID}, callerID, agentID)
	require.Equal(t, []string{"100 Trying", "200 OK", "BYE (Q.850;cause=16)"}, cl.Signals())
}

func TestRingNoAnswer(t *testing.T) {
	outboundFailure(t, "02-ring-no-answer", "1002", "PJSIP/agent1", 5, Peer{Action: PeerRing}, "1795358708.105", "1795358708.106")
}

func TestAgentBusy(t *testing.T) {
	outboundFailure(t, "03a-agent-busy", "1031", "PJSIP/agent1", 20, Peer{Action: PeerBusy}, "1795358716.107", "1795358716.108")
}

func TestAgentDecline(t *testing.T) {
	outboundFailure(t, "03b-agent-decline", "1032", "PJSIP/agent1", 20,
		Peer{Action: PeerDecline, After: 50 * time.Millisecond}, "1795358718.109", "1795358718.110")
}

func TestAgentUnreachable(t *testing.T) {
	outboundFailure(t, "03c-agent-unreachable", "1033", "PJSIP/agent3", 10, Peer{Action: PeerUnreachable}, "1795358721.111", "1795358721.112")
}

// TestCallerCancelWhileRinging replays 04a: the unanswered caller hears
// ringing, then CANCELs while the agent rings.
func TestCallerCancelWhileRinging(t *testing.T) {
	h := newHarness(t, "04a-caller-cancel-while-ringing", Options{})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent1", Peer{Action: PeerRing}))
	ws := h.ws()
	cl := h.srv.Call("5551001", "1041", CallScript{Name: "Caller One", CancelAfter: 150 * time.Millisecond})
	caller := cl.ChannelID()
	ws.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(1, "POST", "/ari/channels/"+caller+"/ring", nil)
	h.rest(2, "POST", "/ari/channels/s4a-agent1-leg", map[string]any{"app": "pbx-test", "appArgs": "agent,1041",
		"callerId": `"Caller One" <5551001>`, "endpoint": "PJSIP/agent1", "timeout": 30})
	ws.wait(t, 1, "StasisEnd", onChannel(caller))
	h.rest(3, "GET", "/ari/channels/s4a-agent1-leg", nil)
	h.rest(4, "DELETE", "/ari/channels/s4a-agent1-leg", nil)
	ws.wait(t, 1, "ChannelDestroyed", onChannel("s4a-agent1-leg"))
	settle(t, ws)
	compareKeys(t, h.tr, 0, ws.events(), map[string]string{caller: "1795358734.113"}, "1795358734.113", "s4a-agent1-leg")
	require.Equal(t, []string{"100 Trying", "180 Ringing", "487 Request Terminated"}, cl.Signals())
	require.Equal(t, 127, cl.HangupCause())
	require.False(t, cl.Answered())
}

// TestCallerByeWhileRinging replays 04b.
func TestCallerByeWhileRinging(t *testing.T) {
	h := newHarness(t, "04b-caller-bye-while-ringing", Options{})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent1", Peer{Action: PeerRing}))
	ws := h.ws()
	cl := h.srv.Call("5551001", "1042", CallScript{Name: "Caller One", HangupAfter: 150 * time.Millisecond})
	caller := cl.ChannelID()
	ws.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(1, "POST", "/ari/channels/"+caller+"/answer", nil)
	h.rest(2, "POST", "/ari/channels/s4b-agent1-leg", map[string]any{"app": "pbx-test", "appArgs": "agent,1042",
		"callerId": `"Caller One" <5551001>`, "endpoint": "PJSIP/agent1", "timeout": 30})
	ws.wait(t, 1, "StasisEnd", onChannel(caller))
	h.rest(3, "DELETE", "/ari/channels/s4b-agent1-leg?reason=normal", nil)
	ws.wait(t, 1, "ChannelDestroyed", onChannel("s4b-agent1-leg"))
	settle(t, ws)
	compareKeys(t, h.tr, 0, ws.events(), map[string]string{caller: "1795358739.115"}, "1795358739.115", "s4b-agent1-leg")
}

// TestSimultaneousRing replays 05: two agents ring, the second answers,
// the first is cancelled as answered elsewhere, the second hangs up.
func TestSimultaneousRing(t *testing.T) {
	h := newHarness(t, "05-simultaneous-ring", Options{})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent1", Peer{Action: PeerRing}))
	require.NoError(t, h.srv.SetPeer("PJSIP/agent2", Peer{Action: PeerAnswer, After: 100 * time.Millisecond, HangupAfter: 300 * time.Millisecond}))
	ws := h.ws()
	cl := h.srv.Call("5551001", "1005", inbound)
	caller := cl.ChannelID()
	ws.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(1, "POST", "/ari/channels/"+caller+"/answer", nil)
	h.rest(2, "POST", "/ari/bridges/s5-bridge?name=sales-queue&type=mixing", nil)
	h.rest(3, "POST", "/ari/bridges/s5-bridge/addChannel?channel="+caller, nil)
	h.rest(4, "POST", "/ari/channels?app=pbx-test&appArgs=agent%2C1005&callerId=%22Caller+One%22+%3C5551001%3E&channelId=s5-agent1-leg&endpoint=PJSIP%2Fagent1&timeout=30", nil)
	h.rest(5, "POST", "/ari/channels/s5-agent2-leg?app=pbx-test&appArgs=agent%2C1005&callerId=%22Caller+One%22+%3C5551001%3E&endpoint=PJSIP%2Fagent2&timeout=30", nil)
	ws.wait(t, 1, "StasisStart", onChannel("s5-agent2-leg"))
	h.rest(6, "DELETE", "/ari/channels/s5-agent1-leg?reason=answered_elsewhere", nil)
	h.rest(7, "POST", "/ari/bridges/s5-bridge/addChannel?channel=s5-agent2-leg", nil)
	ws.wait(t, 1, "ChannelDestroyed", onChannel("s5-agent2-leg"))
	h.rest(8, "GET", "/ari/bridges/s5-bridge", nil)
	h.rest(9, "DELETE", "/ari/channels/"+caller+"?reason=normal", nil)
	ws.wait(t, 1, "StasisEnd", onChannel(caller))
	h.rest(10, "DELETE", "/ari/bridges/s5-bridge", nil)
	ws.wait(t, 1, "BridgeDestroyed", nil)
	settle(t, ws)
	compareKeys(t, h.tr, 0, ws.events(), map[string]string{caller: "1795358745.117"},
		"1795358745.117", "s5-agent1-leg", "s5-agent2-leg", "bridge:s5-bridge")
	info, ok := h.srv.Channel("s5-agent1-leg")
	require.True(t, ok)
	require.True(t, info.Ended)
	require.Equal(t, 26, info.Cause)
}

// TestMOHAndRing replays 06 and checks the SIP the caller got: 180 for the
// first ring, 183 (early media) for MOH and for the ring after it.
func TestMOHAndRing(t *testing.T) {
	h := newHarness(t, "06-moh-and-ring", Options{})
	ws := h.ws()
	cl := h.srv.Call("5551001", "1006", inbound)
	c := "/ari/channels/" + cl.ChannelID()
	ws.wait(t, 1, "StasisStart", onChannel(cl.ChannelID()))
	steps := []struct {
		id           int
		method, path string
	}{
		{1, "POST", c + "/ring"}, {2, "DELETE", c + "/ring"}, {3, "GET", c}, {4, "POST", c + "/moh"},
		{5, "DELETE", c + "/moh"}, {6, "GET", c}, {7, "POST", c + "/ring"}, {8, "POST", c + "/answer"},
		{9, "DELETE", c + "/ring"}, {10, "POST", c + "/moh?mohClass=default"}, {11, "DELETE", c + "/moh"},
		{12, "POST", c + "/ring"}, {13, "DELETE", c + "/ring"}, {14, "DELETE", c + "/moh"}, {15, "DELETE", c + "/ring"},
	}
	for _, s := range steps {
		_, body, _ := h.rest(s.id, s.method, s.path, nil)
		if s.method == "GET" {
			require.Equal(t, "Ring", decode(t, body)["state"])
		}
	}
	_, body, _ := h.rest(16, "POST", "/ari/bridges?type=mixing", nil)
	bridge := decode(t, body)["id"].(string)
	h.rest(17, "POST", "/ari/bridges/"+bridge+"/addChannel?channel="+cl.ChannelID(), nil)
	h.rest(18, "POST", "/ari/bridges/"+bridge+"/moh?mohClass=default", nil)
	h.rest(19, "DELETE", "/ari/bridges/"+bridge+"/moh", nil)
	h.rest(20, "DELETE", c, nil)
	h.rest(21, "DELETE", "/ari/bridges/"+bridge, nil)
	ws.wait(t, 1, "BridgeDestroyed", nil)
	settle(t, ws)
	compareKeys(t, h.tr, 0, ws.events(), map[string]string{cl.ChannelID(): "1795358751.120", bridge: "b4881f1b-32e7-4768-942b-d2d229735691"},
		"1795358751.120", "bridge:b4881f1b-32e7-4768-942b-d2d229735691")
	require.Equal(t, []string{"100 Trying", "180 Ringing", "183 Session Progress", "183 Session Progress", "200 OK",
		"BYE (Q.850;cause=16)"}, cl.Signals())
}

// TestRecordBridgeAndSnoopWhisper replays 07.
func TestRecordBridgeAndSnoopWhisper(t *testing.T) {
	h := newHarness(t, "07-record-bridge-and-snoop-whisper", Options{})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent1", Peer{After: 50 * time.Millisecond}))
	ws := h.ws()
	cl := h.srv.Call("5551001", "1007", inbound)
	caller := cl.ChannelID()
	ws.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(1, "POST", "/ari/channels/"+caller+"/answer", nil)
	h.rest(2, "POST", "/ari/bridges?bridgeId=s7-bridge&name=s7&type=mixing", nil)
	h.rest(3, "POST", "/ari/bridges/s7-bridge/addChannel?channel="+caller, nil)
	h.rest(4, "POST", "/ari/channels", map[string]any{"app": "pbx-test", "appArgs": "agent", "callerId": `"Caller One" <5551001>`,
		"channelId": "s7-agent1-leg", "endpoint": "PJSIP/agent1", "timeout": 20})
	ws.wait(t, 1, "StasisStart", onChannel("s7-agent1-leg"))
	h.rest(5, "POST", "/ari/bridges/s7-bridge/addChannel?channel=s7-agent1-leg", nil)
	h.rest(6, "POST", "/ari/bridges/s7-bridge/record?format=wav&ifExists=overwrite&name=s7-bridge-rec", nil)
	ws.wait(t, 1, "RecordingStarted", nil)
	_, body, _ := h.rest(7, "GET", "/ari/recordings/live/s7-bridge-rec", nil)
	require.Equal(t, compact(t, h.tr.resp[7].RespBody), string(body))
	time.Sleep(250 * time.Millisecond)
	h.rest(8, "POST", "/ari/recordings/live/s7-bridge-rec/stop", nil)
	h.rest(9, "GET", "/ari/recordings/live/s7-bridge-rec", nil)
	_, body, _ = h.rest(10, "GET", "/ari/recordings/stored/s7-bridge-rec", nil)
	require.Equal(t, compact(t, h.tr.resp[10].RespBody), string(body))
	_, file, hdr := h.rest(11, "GET", "/ari/recordings/stored/s7-bridge-rec/file", nil)
	require.Equal(t, "audio/wav", hdr.Get("Content-Type"))
	require.Equal(t, "RIFF", string(file[:4]))
	require.InDelta(t, 44+250*16, len(file), 60*16, "250 ms of 8 kHz 16-bit mono")
	h.rest(12, "DELETE", "/ari/recordings/stored/s7-bridge-rec", nil)
	h.rest(13, "GET", "/ari/recordings/stored/s7-bridge-rec", nil)
	_, body, _ = h.rest(14, "POST", "/ari/channels/s7-agent1-leg/snoop?app=pbx-test&appArgs=snoop&snoopId=s7-snoop&spy=both&whisper=out", nil)
	require.Equal(t, "Snoop/s7-agent1-leg-00000001", decode(t, body)["name"])
	ws.wait(t, 1, "StasisStart", onChannel("s7-snoop"))
	h.rest(15, "POST", "/ari/channels/s7-snoop/play?media=sound%3Abeep&playbackId=s7-whisper-pb", nil)
	ws.wait(t, 1, "PlaybackFinished", onPlayback("s7-whisper-pb"))
	h.rest(16, "DELETE", "/ari/channels/s7-snoop", nil)
	ws.wait(t, 1, "StasisEnd", onChannel("s7-snoop"))
	h.rest(17, "DELETE", "/ari/channels/s7-agent1-leg", nil)
	ws.wait(t, 1, "ChannelDestroyed", onChannel("s7-agent1-leg"))
	h.rest(18, "DELETE", "/ari/channels/"+caller, nil)
	ws.wait(t, 1, "StasisEnd", onChannel(caller))
	h.rest(19, "DELETE", "/ari/bridges/s7-bridge", nil)
	ws.wait(t, 1, "BridgeDestroyed", nil)
	settle(t, ws)
	// The recorded RecordingFinished says 3 s; this run recorded 250 ms.
	fin := ws.wait(t, 1, "RecordingFinished", nil)
	require.LessOrEqual(t, fin["recording"].(map[string]any)["duration"], 1.0, "whole seconds")
	evs := ws.events()
	for i, e := range evs {
		if bytes.Contains(e, []byte(`"RecordingFinished"`)) {
			evs[i] = regexp.MustCompile(`"duration":\d+`).ReplaceAll(e, []byte(`"duration":3`))
		}
	}
	compareKeys(t, h.tr, 0, evs, map[string]string{caller: "1795358763.123"}, "1795358763.123", "s7-agent1-leg", "s7-snoop",
		"playback:s7-whisper-pb", "recording:s7-bridge-rec", "bridge:s7-bridge")
	agent, _ := h.srv.Channel("s7-agent1-leg")
	require.Len(t, agent.Prompts, 1, "the whisper reaches the spied agent")
	require.Equal(t, "sound:beep", agent.Prompts[0].MediaURI)
	require.Empty(t, cl.Heard(), "whisper=out is not heard by the caller")
}

// TestErrors replays 08 request by request: statuses, reason phrases and
// bodies, and the events of the error cases that produce some.
func TestErrors(t *testing.T) {
	h := newHarness(t, "08-errors", Options{SoundDuration: 10 * time.Second})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent1", Peer{After: 50 * time.Millisecond}))
	ws := h.ws()

	req, _ := http.NewRequest("GET", h.base+"/ari/asterisk/info", nil)
	resp, err := h.hc.Do(req)
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h.checkResponse(1, resp, got)
	req, _ = http.NewRequest("GET", h.base+"/ari/asterisk/info", nil)
	req.SetBasicAuth("asterisk", "wrong")
	resp, err = h.hc.Do(req)
	require.NoError(t, err)
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	h.checkResponse(2, resp, got)

	plain := []struct {
		id           int
		method, path string
	}{
		{3, "GET", "/ari/no-such-resource"}, {4, "PUT", "/ari/channels"},
		{5, "GET", "/ari/channels/does-not-exist"}, {6, "POST", "/ari/channels/does-not-exist/answer"},
		{7, "POST", "/ari/channels/does-not-exist/play?media=sound%3Ahello-world"}, {8, "DELETE", "/ari/channels/does-not-exist"},
		{9, "DELETE", "/ari/playbacks/does-not-exist"}, {10, "GET", "/ari/recordings/stored/does-not-exist"},
		{11, "POST", "/ari/recordings/live/does-not-exist/stop"}, {12, "POST", "/ari/bridges/does-not-exist/addChannel?channel=does-not-exist"},
		{13, "DELETE", "/ari/bridges/does-not-exist"}, {14, "POST", "/ari/channels?app=pbx-test"},
		{15, "POST", "/ari/channels?app=pbx-test&endpoint=PJSIP%2Fnobody"}, {16, "POST", "/ari/channels?app=pbx-test&endpoint=FOO%2Fbar"},
		{17, "POST", "/ari/channels?endpoint=PJSIP%2Fagent1"}, {18, "POST", "/ari/bridges?type=bogus"},
	}
	for _, p := range plain {
		h.rest(p.id, p.method, p.path, nil)
	}

	cl := h.srv.Call("5551001", "1008", inbound)
	caller := cl.ChannelID()
	c := "/ari/channels/" + caller
	ws.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(19, "POST", c+"/answer", nil)
	h.rest(20, "POST", c+"/answer", nil)
	// The emulator queues these two events before it sends the 201, as
	// recorded; they travel on another connection, so only their content
	// is checked here.
	h.rest(21, "POST", c+"/play?media=sound%3Adoes-not-exist&playbackId=s8-missing-sound", nil)
	ws.wait(t, 1, "PlaybackFinished", onPlayback("s8-missing-sound"))
	h.rest(22, "POST", c+"/play?media=foo%3Abar&playbackId=s8-bad-scheme", nil)
	ws.wait(t, 1, "PlaybackStarted", onPlayback("s8-bad-scheme"))
	h.rest(23, "POST", c+"/play", nil)
	h.rest(24, "POST", c+"/play?media=sound%3Ahello-world&playbackId=s8-dup", nil)
	h.rest(25, "POST", c+"/play?media=sound%3Ahello-world&playbackId=s8-dup", nil)
	h.rest(26, "GET", "/ari/playbacks/s8-dup", nil)
	h.rest(27, "DELETE", "/ari/playbacks/s8-dup", nil)
	ws.wait(t, 2, "PlaybackStarted", onPlayback("s8-dup"))
	h.rest(28, "DELETE", "/ari/playbacks/s8-dup", nil)
	ws.wait(t, 2, "PlaybackFinished", onPlayback("s8-dup"))
	h.rest(29, "POST", c+"/dtmf", nil)
	h.rest(30, "GET", c+"/variable", nil)
	h.rest(31, "DELETE", c+"?reason=bogus", nil)
	_, body, _ := h.rest(32, "POST", "/ari/bridges?type=mixing", nil)
	bridge := decode(t, body)["id"].(string)
	b := "/ari/bridges/" + bridge
	h.rest(33, "POST", b+"/addChannel?channel=does-not-exist", nil)
	h.rest(34, "POST", b+"/addChannel", nil)
	h.rest(35, "POST", b+"/addChannel?channel="+caller, nil)
	h.rest(36, "POST", b+"/addChannel?channel="+caller, nil)
	h.rest(37, "POST", b+"/removeChannel?channel=does-not-exist", nil)
	h.rest(38, "POST", c+"/record?format=wav&ifExists=overwrite&name=s8-chan-rec", nil)
	ws.wait(t, 1, "RecordingFailed", nil)
	h.rest(39, "POST", "/ari/channels", map[string]any{"app": "pbx-test", "appArgs": "agent", "channelId": "s8-agent1-leg", "endpoint": "PJSIP/agent1", "timeout": 20})
	ws.wait(t, 1, "StasisStart", onChannel("s8-agent1-leg"))
	h.rest(40, "POST", "/ari/channels", map[string]any{"app": "pbx-test", "channelId": "s8-agent1-leg", "endpoint": "PJSIP/agent1"})
	a := "/ari/channels/s8-agent1-leg"
	h.rest(41, "DELETE", a, nil)
	h.rest(42, "POST", a+"/answer", nil)
	h.rest(43, "POST", a+"/play?media=sound%3Abeep", nil)
	h.rest(44, "DELETE", a, nil)
	ws.wait(t, 1, "ChannelDestroyed", onChannel("s8-agent1-leg"))
	h.rest(45, "GET", a, nil)
	h.rest(46, "POST", a+"/answer", nil)
	h.rest(47, "POST", a+"/play?media=sound%3Abeep", nil)
	h.rest(48, "DELETE", a, nil)
	h.rest(49, "POST", b+"/addChannel?channel=s8-agent1-leg", nil)
	h.rest(50, "DELETE", c, nil)
	h.rest(51, "DELETE", b, nil)
	h.rest(52, "DELETE", b, nil)
	ws.wait(t, 1, "BridgeDestroyed", nil)
	settle(t, ws)
	compareKeys(t, h.tr, 0, ws.events(), map[string]string{caller: "1795358770.128", bridge: "7a2d2a34-4f27-4250-812e-306044ef4272"},
		"1795358770.128", "s8-agent1-leg", "playback:s8-missing-sound", "playback:s8-bad-scheme", "playback:s8-dup",
		"recording:s8-chan-rec", "bridge:7a2d2a34-4f27-4250-812e-306044ef4272")
	// The unknown scheme never finishes and is no longer a playback.
	code, _, _ := h.rest(0, "GET", "/ari/playbacks/s8-bad-scheme", nil)
	require.Equal(t, 404, code)
}

// TestVariablesAndDial replays 09.
func TestVariablesAndDial(t *testing.T) {
	h := newHarness(t, "09-variables-and-dial", Options{})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent1", Peer{After: 50 * time.Millisecond}))
	require.NoError(t, h.srv.SetPeer("PJSIP/agent2", Peer{After: 50 * time.Millisecond}))
	ws := h.ws()
	cl := h.srv.Call("5551001", "1009", inbound)
	caller := cl.ChannelID()
	c := "/ari/channels/" + caller
	ws.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(1, "POST", c+"/answer", nil)
	for id, v := range map[int]string{2: "CALLERID%28num%29", 3: "CALLERID%28name%29", 4: "CALLERID%28all%29", 6: "CHANNEL%28state%29", 7: "EXTEN", 8: "UNSET_VAR"} {
		_, body, _ := h.rest(id, "GET", c+"/variable?variable="+v, nil)
		require.Equal(t, compact(t, h.tr.resp[id].RespBody), string(body), v)
	}
	_, body, _ := h.rest(5, "GET", c+"/variable?variable=CHANNEL%28name%29", nil)
	require.Equal(t, decode(t, body)["value"], h.srv.Channels()[0].Name)
	h.rest(9, "POST", c+"/variable?value=hello+world&variable=MY_VAR", nil)
	_, body, _ = h.rest(10, "GET", c+"/variable?variable=MY_VAR", nil)
	require.Equal(t, `{"value":"hello world"}`, string(body))
	h.rest(11, "POST", c+"/variable", map[string]any{"value": "Renamed Caller", "variable": "CALLERID(name)"})
	_, body, _ = h.rest(12, "GET", c+"/variable?variable=CALLERID%28name%29", nil)
	require.Equal(t, `{"value":"Renamed Caller"}`, string(body))
	h.rest(13, "POST", c+"/variable?variable=MY_VAR", nil)
	h.rest(14, "GET", c+"/variable?variable=MY_VAR", nil)
	h.rest(15, "GET", c, nil)
	h.rest(16, "POST", c+"/dtmf?between=100&dtmf=12%23&duration=120", nil)
	require.Equal(t, "12#", cl.DTMF())
	_, body, _ = h.rest(17, "POST", "/ari/channels", map[string]any{"app": "pbx-test", "appArgs": "agent", "callerId": `"Caller One" <5551001>`,
		"channelId": "s9-agent1-leg", "endpoint": "PJSIP/agent1", "originator": caller, "timeout": 20,
		"variables": map[string]string{"AGENT_VAR": "a1", "CALLERID(name)": "Queue Sales"}})
	require.Equal(t, "Queue Sales", decode(t, body)["caller"].(map[string]any)["name"])
	ws.wait(t, 1, "StasisStart", onChannel("s9-agent1-leg"))
	_, body, _ = h.rest(18, "GET", "/ari/channels/s9-agent1-leg/variable?variable=AGENT_VAR", nil)
	require.Equal(t, `{"value":"a1"}`, string(body))
	h.rest(19, "GET", "/ari/channels/s9-agent1-leg", nil)
	_, body, _ = h.rest(20, "POST", "/ari/channels/create", map[string]any{"app": "pbx-test", "appArgs": "agent2", "channelId": "s9-agent2-leg",
		"endpoint": "PJSIP/agent2", "originator": caller, "variables": map[string]string{"AGENT_VAR": "a2"}})
	require.Equal(t, "", decode(t, body)["dialplan"].(map[string]any)["app_name"])
	_, body, _ = h.rest(21, "GET", "/ari/channels/s9-agent2-leg", nil)
	require.Equal(t, "Stasis", decode(t, body)["dialplan"].(map[string]any)["app_name"])
	h.rest(22, "POST", "/ari/channels/s9-agent2-leg/dial?caller="+caller+"&timeout=10", nil)
	ws.wait(t, 1, "Dial", func(m map[string]any) bool {
		return onChannel("s9-agent2-leg")(m) && m["dialstatus"] == "ANSWER"
	})
	h.rest(23, "DELETE", "/ari/channels/s9-agent1-leg", nil)
	h.rest(24, "DELETE", "/ari/channels/s9-agent2-leg", nil)
	h.rest(25, "DELETE", c, nil)
	ws.wait(t, 1, "ChannelDestroyed", onChannel(caller))
	settle(t, ws)
	compareKeys(t, h.tr, 0, ws.events(), map[string]string{caller: "1795358775.131"}, "1795358775.131", "s9-agent1-leg", "s9-agent2-leg")
}

// TestWebsocketReconnect replays 10: events per websocket, the app kept
// while it has channels, then gone, and the 603 for a call without app.
func TestWebsocketReconnect(t *testing.T) {
	h := newHarness(t, "10-websocket-reconnect", Options{})
	ws1 := h.ws()
	cl := h.srv.Call("5551001", "1010", inbound)
	caller := cl.ChannelID()
	c := "/ari/channels/" + caller
	ws1.wait(t, 1, "StasisStart", onChannel(caller))
	h.rest(1, "POST", c+"/answer", nil)
	ws1.wait(t, 1, "ChannelStateChange", nil)
	appBody := func(id int) {
		_, body, _ := h.rest(id, "GET", "/ari/applications/pbx-test", nil)
		require.Equal(t, strings.ReplaceAll(compact(t, h.tr.resp[id].RespBody), "1795358779.134", caller), string(body))
	}
	appBody(2)
	ws1.close(t)
	time.Sleep(50 * time.Millisecond)
	_, body, _ := h.rest(3, "GET", "/ari/applications", nil)
	require.Contains(t, string(body), caller)
	appBody(4)
	h.rest(5, "GET", c, nil)
	h.rest(6, "POST", c+"/play?media=sound%3Abeep&playbackId=s10-pb-no-ws", nil)
	for { // it plays and finishes unseen
		if code, _, _ := h.rest(0, "GET", "/ari/playbacks/s10-pb-no-ws", nil); code == 404 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	ws2 := h.ws()
	appBody(7)
	h.rest(8, "POST", c+"/play?media=sound%3Abeep&playbackId=s10-pb-ws2", nil)
	ws2.wait(t, 1, "PlaybackFinished", nil)
	ws3 := h.ws()
	ws2.wait(t, 1, "ApplicationReplaced", nil)
	appBody(9)
	h.rest(10, "POST", c+"/play?media=sound%3Abeep&playbackId=s10-pb-ws3", nil)
	ws3.wait(t, 1, "PlaybackFinished", nil)
	ws3.close(t)
	ws2.close(t)
	time.Sleep(50 * time.Millisecond)
	appBody(11)
	cl.Hangup() // while no websocket is connected
	<-cl.Done()
	_, body, _ = h.rest(12, "GET", "/ari/channels", nil)
	require.Equal(t, "[]", string(body))
	ws4 := h.ws()
	appBody(13)
	h.rest(14, "GET", "/ari/channels", nil)
	ws4.close(t)
	time.Sleep(50 * time.Millisecond)
	_, body, _ = h.rest(15, "GET", "/ari/applications", nil)
	require.Equal(t, "[]", string(body))
	cl2 := h.srv.Call("5551002", "1011", CallScript{Name: "Caller Two"})
	<-cl2.Done()
	require.Equal(t, []string{"100 Trying", "603 Decline"}, cl2.Signals())
	require.Equal(t, "", cl2.ChannelID())
	_, body, _ = h.rest(16, "GET", "/ari/channels", nil)
	require.Equal(t, "[]", string(body))
	settle(t, ws1, ws2, ws3, ws4)

	for i, ws := range []*wsClient{ws1, ws2, ws3, ws4} {
		want := groupEvents(t, h.tr.rawEvents(i+1), nil)
		have := groupEvents(t, ws.events(), strings.NewReplacer(caller, "1795358779.134"))
		require.Equal(t, len(want), len(have), "websocket #%d: event groups", i+1)
		for k := range want {
			require.Equal(t, want[k], have[k], "websocket #%d: %s", i+1, k)
		}
	}
}

// --- behaviour beyond the transcripts ----------------------------------------

// TestCallerScript: digits at offsets after the answer, then a BYE.
func TestCallerScript(t *testing.T) {
	h := newHarness(t, "", Options{})
	ws := h.ws()
	cl := h.srv.Call("0612345678", "100", CallScript{
		Digits:      []Digit{{At: 20 * time.Millisecond, Digit: "1"}, {At: 40 * time.Millisecond, Digit: "#", Duration: 100 * time.Millisecond}},
		HangupAfter: 100 * time.Millisecond,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws.wait(t, 1, "StasisStart", onChannel(cl.ChannelID()))
	h.rest(0, "POST", "/ari/channels/"+cl.ChannelID()+"/answer", nil)
	require.NoError(t, cl.WaitAnswered(ctx))
	d1 := ws.wait(t, 1, "ChannelDtmfReceived", nil)
	d2 := ws.wait(t, 2, "ChannelDtmfReceived", nil)
	require.Equal(t, "1", d1["digit"])
	require.EqualValues(t, 280, d1["duration_ms"])
	require.Equal(t, "#", d2["digit"])
	require.EqualValues(t, 100, d2["duration_ms"])
	require.NoError(t, cl.Wait(ctx))
	ws.wait(t, 1, "StasisEnd", nil)
	end := ws.wait(t, 1, "ChannelHangupRequest", nil)
	require.NotContains(t, end, "cause", "a remote BYE carries no cause")
	ended, cause, by := cl.Ended()
	require.True(t, ended)
	require.Equal(t, 16, cause)
	require.Equal(t, "caller", by)
}

// TestTrunkAndRegistration: per-number trunk peers, offline endpoints and
// EndpointStateChange for a subscribed app.
func TestTrunkAndRegistration(t *testing.T) {
	h := newHarness(t, "", Options{})
	require.NoError(t, h.srv.SetPeer("PJSIP/trunk", Peer{Action: PeerAnswer}))
	require.NoError(t, h.srv.SetPeer("PJSIP/+33612345678@trunk", Peer{Action: PeerBusy}))
	require.NoError(t, h.srv.SetPeer("PJSIP/alice", Peer{}))
	ws := h.ws()

	code, body, _ := h.rest(0, "POST", "/ari/channels?app=pbx-test&endpoint=PJSIP%2F%2B33612345678%40trunk", nil)
	require.Equal(t, 200, code)
	busy := decode(t, body)
	require.Equal(t, "PJSIP/trunk-", busy["name"].(string)[:12])
	dial := ws.wait(t, 1, "Dial", onChannel(busy["id"].(string)))
	require.Equal(t, "+33612345678@trunk", dial["dialstring"])
	ws.wait(t, 1, "Dial", func(m map[string]any) bool { return m["dialstatus"] == "BUSY" })
	_, body, _ = h.rest(0, "POST", "/ari/channels?app=pbx-test&endpoint=PJSIP%2F%2B33700000000%40trunk", nil)
	ws.wait(t, 1, "StasisStart", onChannel(decode(t, body)["id"].(string)))

	code, _, _ = h.rest(0, "POST", "/ari/applications/pbx-test/subscription?eventSource=endpoint:PJSIP/alice", nil)
	require.Equal(t, 200, code)
	require.NoError(t, h.srv.SetRegistered("PJSIP/alice", false))
	ev := ws.wait(t, 1, "EndpointStateChange", nil)
	require.Equal(t, "offline", ev["endpoint"].(map[string]any)["state"])
	code, body, _ = h.rest(0, "POST", "/ari/channels?app=pbx-test&endpoint=PJSIP%2Falice", nil)
	require.Equal(t, 500, code)
	require.Equal(t, `{"error":"Allocation failed"}`, string(body))
	_, body, _ = h.rest(0, "GET", "/ari/endpoints/PJSIP/alice", nil)
	require.Equal(t, "offline", decode(t, body)["state"])
	require.NoError(t, h.srv.SetRegistered("alice", true))
	ws.wait(t, 2, "EndpointStateChange", nil)
}

// TestMediaOverHTTP: a real GET per play, failure on 404 and on a short
// URL (asterisk/asterisk#444), caching by max-age.
func TestMediaOverHTTP(t *testing.T) {
	h := newHarness(t, "", Options{SoundDuration: 20 * time.Millisecond})
	var gets atomic.Int32
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		if strings.Contains(r.URL.Path, "missing") {
			http.NotFound(w, r)
			return
		}
		if strings.Contains(r.URL.RawQuery, "cached") {
			w.Header().Set("Cache-Control", "max-age=3600")
		}
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(wav(10*time.Millisecond, false))
	}))
	defer media.Close()
	ws := h.ws()
	cl := h.srv.Call("100", "1", inbound)
	c := "/ari/channels/" + cl.ChannelID()
	ws.wait(t, 1, "StasisStart", nil)
	h.rest(0, "POST", c+"/answer", nil)
	long := media.URL + "/media/prompts/0123456789abcdef0123456789abcdef.wav"
	short := media.URL + "/a.wav"
	require.Less(t, len(short), 41)
	cases := []struct {
		id, url, state string
	}{
		{"ok", long, "done"}, {"missing", media.URL + "/media/prompts/missing-0123456789abcdef.wav", "failed"},
		{"short", short, "failed"}, {"cached1", long + "?cached=1", "done"}, {"cached2", long + "?cached=1", "done"},
	}
	for _, tc := range cases {
		before := gets.Load()
		code, _, _ := h.rest(0, "POST", c+"/play/"+tc.id+"?media=sound:"+tc.url, nil)
		require.Equal(t, 201, code)
		fin := ws.wait(t, 1, "PlaybackFinished", onPlayback(tc.id))
		require.Equal(t, tc.state, fin["playback"].(map[string]any)["state"], tc.id)
		if tc.id == "cached2" {
			require.Equal(t, before, gets.Load(), "a fresh cached entry is not fetched again")
		} else {
			require.Equal(t, before+1, gets.Load(), "%s: one GET", tc.id)
		}
	}
	// Several media in one playback: Started, Continuing, Finished.
	h.rest(0, "POST", c+"/play/list?media=sound:one,sound:two", nil)
	fin := ws.wait(t, 1, "PlaybackFinished", onPlayback("list"))
	require.Equal(t, "sound:two", fin["playback"].(map[string]any)["media_uri"])
	cont := ws.wait(t, 1, "PlaybackContinuing", onPlayback("list"))
	require.Equal(t, "sound:two", cont["playback"].(map[string]any)["media_uri"])
	started := ws.wait(t, 1, "PlaybackStarted", onPlayback("list"))
	require.Equal(t, "sound:two", started["playback"].(map[string]any)["next_media_uri"])
	require.Len(t, cl.Heard(), 7)
}

// TestRestartAndDrop: a network cut closes the sockets but keeps the
// calls; a restart ends everything and ids go on.
func TestRestartAndDrop(t *testing.T) {
	h := newHarness(t, "", Options{})
	ws := h.ws()
	cl := h.srv.Call("100", "1", inbound)
	ws.wait(t, 1, "StasisStart", nil)
	h.srv.DropWebsockets()
	<-ws.done
	require.Len(t, h.srv.Channels(), 1)
	ws = h.ws()
	h.srv.Restart()
	<-ws.done
	<-cl.Done()
	require.Empty(t, h.srv.Channels())
	_, body, _ := h.rest(0, "GET", "/ari/applications", nil)
	require.Equal(t, "[]", string(body))
	h.ws()
	cl2 := h.srv.Call("100", "1", inbound)
	var a, b int
	_, err := fmt.Sscanf(cl.ChannelID()[strings.IndexByte(cl.ChannelID(), '.'):], ".%d", &a)
	require.NoError(t, err)
	_, err = fmt.Sscanf(cl2.ChannelID()[strings.IndexByte(cl2.ChannelID(), '.'):], ".%d", &b)
	require.NoError(t, err)
	require.Greater(t, b, a)
	require.NotEmpty(t, h.srv.Requests())
}

// TestManyCalls drives call set-ups concurrently, as a full-stack
// benchmark will: every call is answered, bridged to an agent that
// answers at once, and hung up.
func TestManyCalls(t *testing.T) {
	h := newHarness(t, "", Options{})
	require.NoError(t, h.srv.SetPeer("PJSIP/agent", Peer{}))
	ws := h.ws()
	const calls = 300
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cl := h.srv.Call(fmt.Sprint(i), "1", inbound)
			c := cl.ChannelID()
			h.rest(0, "POST", "/ari/channels/"+c+"/answer", nil)
			_, body, _ := h.rest(0, "POST", "/ari/bridges", nil)
			br := decode(t, body)["id"].(string)
			h.rest(0, "POST", "/ari/bridges/"+br+"/addChannel?channel="+c, nil)
			_, body, _ = h.rest(0, "POST", "/ari/channels?app=pbx-test&endpoint=PJSIP%2Fagent", nil)
			ag := decode(t, body)["id"].(string)
			h.rest(0, "POST", "/ari/bridges/"+br+"/addChannel?channel="+ag, nil)
			h.rest(0, "DELETE", "/ari/channels/"+ag, nil)
			h.rest(0, "DELETE", "/ari/channels/"+c, nil)
			h.rest(0, "DELETE", "/ari/bridges/"+br, nil)
		}(i)
	}
	wg.Wait()
	t.Logf("%d calls in %v", calls, time.Since(start))
	ws.wait(t, calls, "BridgeDestroyed", nil)
	require.Empty(t, h.srv.Channels())
	require.Empty(t, h.srv.Bridges())
}

func BenchmarkCallSetup(b *testing.B) {
	srv := New(Options{App: "bench"})
	require.NoError(b, srv.Start())
	defer srv.Close()
	require.NoError(b, srv.SetPeer("PJSIP/agent", Peer{}))
	dialEvents(b, srv.URL(), "bench")
	hc := &http.Client{}
	post := func(method, path string) []byte {
		req, _ := http.NewRequest(method, srv.URL()+path, nil)
		req.SetBasicAuth("asterisk", "asterisk")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return body
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cl := srv.Call("1", "1", inbound)
			c := cl.ChannelID()
			post("POST", "/ari/channels/"+c+"/answer")
			var ag struct{ ID string }
			_ = json.Unmarshal(post("POST", "/ari/channels?app=bench&endpoint=PJSIP%2Fagent"), &ag)
			post("DELETE", "/ari/channels/"+ag.ID)
			post("DELETE", "/ari/channels/"+c)
		}
	})
}

// TestEventFilter: PUT /applications/{app}/eventFilter as the ARI
// documents describe it (no transcript shows it): only allowed types are
// sent, disallowed wins, a list left out is unchanged, an empty body
// clears both, and bad filters are refused.
func TestEventFilter(t *testing.T) {
	h := newHarness(t, "", Options{})
	ws := h.ws()
	path := "/ari/applications/pbx-test/eventFilter"
	status, body, _ := h.rest(0, "PUT", path, map[string]any{
		"allowed": []map[string]string{{"type": "StasisStart"}, {"type": "ChannelVarset"}, {"type": "StasisEnd"}}})
	require.Equal(t, 200, status, "%s", body)
	require.Equal(t, []any{map[string]any{"type": "StasisStart"}, map[string]any{"type": "ChannelVarset"}, map[string]any{"type": "StasisEnd"}},
		decode(t, body)["events_allowed"])
	status, body, _ = h.rest(0, "PUT", path, map[string]any{"disallowed": []map[string]string{{"type": "ChannelVarset"}}})
	require.Equal(t, 200, status, "%s", body)
	app := decode(t, body)
	require.Len(t, app["events_allowed"], 3, "a list left out is unchanged")
	require.Len(t, app["events_disallowed"], 1)

	cl := h.srv.Call("0612345678", "100", CallScript{HangupAfter: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws.wait(t, 1, "StasisStart", onChannel(cl.ChannelID()))
	h.rest(0, "POST", "/ari/channels/"+cl.ChannelID()+"/answer", nil)
	require.NoError(t, cl.Wait(ctx))
	ws.wait(t, 1, "StasisEnd", nil)
	time.Sleep(50 * time.Millisecond)
	for _, e := range ws.events() {
		typ := decode(t, e)["type"]
		require.Contains(t, []any{"StasisStart", "StasisEnd"}, typ, "only allowed types, and ChannelVarset is disallowed")
	}

	status, body, _ = h.rest(0, "PUT", path, nil)
	require.Equal(t, 200, status)
	require.Empty(t, decode(t, body)["events_allowed"], "an empty body clears the filter")
	require.Empty(t, decode(t, body)["events_disallowed"])
	for _, bad := range []any{map[string]any{"allowed": "StasisStart"}, map[string]any{"allowed": []map[string]string{{"name": "x"}}}} {
		status, body, _ = h.rest(0, "PUT", path, bad)
		require.Equal(t, 400, status, "%v: %s", bad, body)
	}
	status, _, _ = h.rest(0, "PUT", "/ari/applications/nobody/eventFilter", nil)
	require.Equal(t, 404, status)
}

// TestSubscriptions: POST and DELETE /applications/{app}/subscription
// answer what a real 22.10.1 answers (TestSubscriptionsOnRealAsterisk
// runs the same steps there).
func TestSubscriptions(t *testing.T) {
	h := newHarness(t, "", Options{})
	for _, ep := range []string{"alice", "bob", "trunk"} {
		require.NoError(t, h.srv.SetPeer("PJSIP/"+ep, Peer{}))
	}
	h.ws()
	runSubscriptionSteps(t, func(method, path string) (int, []byte, http.Header) { return h.rest(0, method, path, nil) })
}

// TestSubscriptionsOnRealAsterisk runs TestSubscriptions' steps on a real
// Asterisk 22 with the shipped configuration (whose pjsip.conf has
// alice, bob and the trunk), so that the emulator's answers stay its.
// Skipped when Asterisk is not installed, unless CI is set.
func TestSubscriptionsOnRealAsterisk(t *testing.T) {
	if err := pbxlocal.Installed("asterisk"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("no real Asterisk to compare the emulator with: %v", err)
	}
	t.Parallel()
	a, err := pbxlocal.StartAsterisk(t.Context(), pbxlocal.Options{Dir: t.TempDir(), Config: "../../docker/asterisk"})
	require.NoError(t, err)
	t.Cleanup(func() { a.Stop() })
	hdr := http.Header{}
	hdr.Set("Authorization", basicAuth(a.ARIUser, a.ARIPassword))
	ws, res, err := websocket.DefaultDialer.Dial(strings.Replace(a.ARIURL, "http", "ws", 1)+"/ari/events?app=pbx-test&subscribeAll=false", hdr)
	require.NoError(t, err)
	res.Body.Close()
	defer ws.Close()
	hc := &http.Client{Timeout: 10 * time.Second}
	runSubscriptionSteps(t, func(method, path string) (int, []byte, http.Header) {
		req, err := http.NewRequest(method, a.ARIURL+path, nil)
		require.NoError(t, err)
		req.SetBasicAuth(a.ARIUser, a.ARIPassword)
		res, err := hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, body, res.Header
	})
}

// runSubscriptionSteps sends subscription requests for the app pbx-test
// (registered, with no subscription yet) and checks each answer: status,
// error body, endpoint_ids. Each step sees the state the previous ones
// left. Recorded with curl on 22.10.1.
func runSubscriptionSteps(t *testing.T, send func(method, path string) (int, []byte, http.Header)) {
	const (
		sub       = "/ari/applications/pbx-test/subscription?eventSource="
		nope      = "/ari/applications/nope/subscription?eventSource="
		missing   = `{"message":"Missing parameter eventSource"}`
		noApp     = `{"message":"Application not found"}`
		scheme    = `{"message":"Invalid event source URI scheme"}`
		noSource  = `{"message":"Event source does not exist"}`
		notSubbed = `{"message":"Event source was not subscribed to"}`
	)
	steps := []struct {
		method, path string
		status       int
		body         string   // the whole body of an error
		endpoints    []string // endpoint_ids of a 200
	}{
		{"POST", "/ari/applications/pbx-test/subscription", 400, missing, nil},
		{"DELETE", "/ari/applications/pbx-test/subscription", 400, missing, nil},
		{"POST", "/ari/applications/nope/subscription", 400, missing, nil},
		{"POST", nope + "bogus:x", 404, noApp, nil},
		{"DELETE", nope + "endpoint:PJSIP/alice", 404, noApp, nil},
		{"GET", "/ari/applications/nope", 404, noApp, nil},
		{"POST", sub + "bogus:x", 400, scheme, nil},
		{"DELETE", sub + "bogus:x", 400, scheme, nil},
		{"POST", sub, 400, scheme, nil},
		{"POST", sub + "endpoint", 400, scheme, nil},
		{"POST", sub + "endpoint:PJSIP/nobody", 422, noSource, nil},
		{"POST", sub + "endpoint:pjsip/alice", 422, noSource, nil},
		{"POST", sub + "endpoint:Foo", 422, noSource, nil},
		{"POST", sub + "endpoint:PJSIP/", 422, noSource, nil},
		{"POST", sub + "channel:nope", 422, noSource, nil},
		{"DELETE", sub + "channel:nope", 422, notSubbed, nil},
		// A list is taken in order, and the first bad source answers:
		// those before it stay done, those after it are not.
		{"POST", sub + "endpoint:PJSIP/nobody,endpoint:PJSIP/bob", 422, noSource, nil},
		{"POST", sub + "bogus:x,endpoint:PJSIP/bob", 400, scheme, nil},
		{"POST", sub + "channel:nope,endpoint:PJSIP/bob", 422, noSource, nil},
		{"POST", sub + ",endpoint:PJSIP/bob", 400, scheme, nil},
		{"GET", "/ari/applications/pbx-test", 200, "", []string{}},
		{"POST", sub + "endpoint:PJSIP/alice,endpoint:PJSIP/nobody", 422, noSource, nil},
		{"GET", "/ari/applications/pbx-test", 200, "", []string{"PJSIP/alice"}},
		{"POST", sub + "endpoint:PJSIP/bob,bogus:x", 400, scheme, nil},
		{"GET", "/ari/applications/pbx-test", 200, "", []string{"PJSIP/alice", "PJSIP/bob"}},
		{"DELETE", sub + "endpoint:PJSIP/alice,endpoint:PJSIP/nobody", 422, notSubbed, nil},
		{"DELETE", sub + "endpoint:PJSIP/nobody,endpoint:PJSIP/bob", 422, notSubbed, nil},
		{"DELETE", sub + "endpoint:PJSIP/bob", 200, "", []string{}},
		// Of a repeated parameter, the last counts.
		{"POST", sub + "endpoint:PJSIP/trunk&eventSource=endpoint:PJSIP/bob", 200, "", []string{"PJSIP/bob"}},
		{"DELETE", sub + "endpoint:PJSIP/bob", 200, "", []string{}},
		{"DELETE", sub + "endpoint:PJSIP/trunk", 422, notSubbed, nil},
		{"POST", sub + "endpoint:PJSIP/alice", 200, "", []string{"PJSIP/alice"}},
		{"POST", sub + "endpoint%3APJSIP%2Falice", 200, "", []string{"PJSIP/alice"}}, // counted twice
		{"POST", sub + "endpoint:PJSIP/bob,endpoint:PJSIP/trunk,endpoint:PJSIP/trunk", 200, "", []string{"PJSIP/alice", "PJSIP/bob", "PJSIP/trunk"}},
		{"DELETE", sub + "endpoint:PJSIP/trunk", 200, "", []string{"PJSIP/alice", "PJSIP/bob", "PJSIP/trunk"}}, // one of two
		{"DELETE", sub + "endpoint:PJSIP/trunk,endpoint:PJSIP/nobody", 422, notSubbed, nil},                    // the trunk's removed
		{"DELETE", sub + "endpoint:PJSIP/alice", 200, "", []string{"PJSIP/alice", "PJSIP/bob"}},
		{"DELETE", sub + "endpoint:PJSIP/alice", 200, "", []string{"PJSIP/bob"}},
		{"DELETE", sub + "endpoint:PJSIP/alice", 422, notSubbed, nil},
		{"DELETE", sub + "endpoint:PJSIP/bob", 200, "", []string{}},
		{"POST", sub + "endpoint:PJSIP", 200, "", []string{"PJSIP"}},
		{"DELETE", sub + "endpoint:PJSIP", 200, "", []string{}},
		{"DELETE", sub + "endpoint:", 422, notSubbed, nil},
		{"POST", sub + "endpoint:PJSIP/bob", 200, "", []string{"PJSIP/bob"}},
		{"POST", sub + "endpoint:", 200, "", []string{"PJSIP/bob", "__AST_ENDPOINT_ALL_TOPIC"}},
		{"POST", sub + "endpoint:PJSIP/alice", 200, "", []string{"PJSIP/bob", "__AST_ENDPOINT_ALL_TOPIC"}}, // adds nothing
		{"DELETE", sub + "endpoint:PJSIP/alice", 422, notSubbed, nil},
		{"DELETE", sub + "endpoint:PJSIP/bob", 200, "", []string{"__AST_ENDPOINT_ALL_TOPIC"}},
		{"DELETE", sub + "endpoint:", 501, `{"message":"Method not implemented"}`, nil},
	}
	for i, st := range steps {
		status, body, hdr := send(st.method, st.path)
		require.Equal(t, st.status, status, "step %d: %s %s: %s", i, st.method, st.path, body)
		require.Equal(t, "application/json", hdr.Get("Content-Type"))
		if st.status != 200 {
			require.Equal(t, st.body, string(body), "step %d: %s %s", i, st.method, st.path)
			continue
		}
		app := decode(t, body)
		require.Equal(t, "pbx-test", app["name"])
		got := []string{}
		for _, e := range app["endpoint_ids"].([]any) {
			got = append(got, e.(string))
		}
		require.Equal(t, st.endpoints, got, "step %d: %s %s", i, st.method, st.path)
		require.Equal(t, []string{"name", "channel_ids", "bridge_ids", "endpoint_ids", "device_names", "events_allowed", "events_disallowed"},
			keysOf(t, body), "key order as on 22.10.1")
	}
}

// TestEndpointSubscriptionEvents: an endpoint's events reach only the
// apps subscribed to it; the subscription brings every event of the
// endpoint's channels (twice for a channel in the app's Stasis, as on
// 22.10.1) and an EndpointStateChange when a channel comes and goes; it
// keeps the app, and itself, across websockets.
func TestEndpointSubscriptionEvents(t *testing.T) {
	h := newHarness(t, "", Options{})
	for _, ep := range []string{"alice", "bob"} {
		require.NoError(t, h.srv.SetPeer("PJSIP/"+ep, Peer{Action: PeerAnswer}))
	}
	ws := h.ws()
	other := dialEvents(t, h.base, "other")
	status, _, _ := h.rest(0, "POST", "/ari/applications/pbx-test/subscription?eventSource=endpoint:PJSIP/alice", nil)
	require.Equal(t, 200, status)

	// alice's state reaches pbx-test only; other's first endpoint event
	// is bob's, so alice's never reached it.
	require.NoError(t, h.srv.SetRegistered("PJSIP/alice", false))
	ev := ws.wait(t, 1, "EndpointStateChange", nil)
	require.Equal(t, map[string]any{"technology": "PJSIP", "resource": "alice", "state": "offline", "channel_ids": []any{}}, ev["endpoint"])
	status, _, _ = h.rest(0, "POST", "/ari/applications/other/subscription?eventSource=endpoint:PJSIP/bob", nil)
	require.Equal(t, 200, status)
	require.NoError(t, h.srv.SetRegistered("PJSIP/bob", false))
	require.NoError(t, h.srv.SetRegistered("PJSIP/alice", true))
	ev = other.wait(t, 1, "EndpointStateChange", nil)
	require.Equal(t, "bob", ev["endpoint"].(map[string]any)["resource"])
	ws.wait(t, 2, "EndpointStateChange", nil)
	require.NoError(t, h.srv.SetRegistered("PJSIP/bob", true))

	// A leg to alice in pbx-test's Stasis: its channel events come twice
	// (the channel's subscription and the endpoint's), Stasis events once.
	_, body, _ := h.rest(0, "POST", "/ari/channels?app=pbx-test&endpoint=PJSIP%2Falice", nil)
	leg := decode(t, body)["id"].(string)
	ws.wait(t, 1, "StasisStart", onChannel(leg))
	ws.wait(t, 2, "Dial", func(m map[string]any) bool { return onChannel(leg)(m) && m["dialstatus"] == "ANSWER" })
	status, _, _ = h.rest(0, "DELETE", "/ari/channels/"+leg, nil)
	require.Equal(t, 204, status)
	ws.wait(t, 2, "ChannelDestroyed", onChannel(leg))
	last := ws.wait(t, 4, "EndpointStateChange", nil) // offline, online, +leg, -leg
	require.Equal(t, []any{}, last["endpoint"].(map[string]any)["channel_ids"])
	count := map[string]int{}
	var sawLeg bool
	for _, raw := range ws.events() {
		m := decode(t, raw)
		if m["type"] == "EndpointStateChange" {
			sawLeg = sawLeg || len(m["endpoint"].(map[string]any)["channel_ids"].([]any)) == 1
		}
		if onChannel(leg)(m) {
			count[m["type"].(string)]++
		}
	}
	require.True(t, sawLeg, "an EndpointStateChange listed the leg when it was created")
	require.Equal(t, 1, count["StasisStart"])
	require.Equal(t, 1, count["StasisEnd"])
	require.Equal(t, 4, count["ChannelStateChange"], "Ringing and Up, twice each")
	require.Equal(t, 2, count["ChannelDestroyed"])
	for _, raw := range other.events() {
		require.NotContains(t, string(raw), leg, "other is not subscribed to alice")
	}

	// The subscription outlives the websocket and keeps the app; one to
	// every endpoint does not.
	ws.close(t)
	require.Eventually(t, func() bool {
		_, body, _ := h.rest(0, "GET", "/ari/applications", nil)
		return strings.Contains(string(body), `"name":"pbx-test","channel_ids":[],"bridge_ids":[],"endpoint_ids":["PJSIP/alice"]`)
	}, 5*time.Second, 10*time.Millisecond)
	ws = h.ws()
	_, body, _ = h.rest(0, "GET", "/ari/applications/pbx-test", nil)
	require.Contains(t, string(body), `"endpoint_ids":["PJSIP/alice"]`)
	// Without its websocket, the app stays when its last subscription
	// goes (only a websocket's close drops apps).
	ws.close(t)
	require.Eventually(t, func() bool { return !h.srv.AppConnected("pbx-test") }, 5*time.Second, time.Millisecond)
	// Registered but without a websocket, the app takes no call: Stasis()
	// fails ("not active").
	cl := h.srv.Call("0612345678", "100", inbound)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, cl.Wait(ctx))
	ended, _, by := cl.Ended()
	require.True(t, ended)
	require.Equal(t, "asterisk", by)
	require.Contains(t, cl.Signals(), "603 Decline")
	status, _, _ = h.rest(0, "DELETE", "/ari/applications/pbx-test/subscription?eventSource=endpoint:PJSIP/alice", nil)
	require.Equal(t, 200, status)
	status, body, _ = h.rest(0, "GET", "/ari/applications/pbx-test", nil)
	require.Equal(t, 200, status)
	require.Contains(t, string(body), `"endpoint_ids":[]`)
	status, _, _ = h.rest(0, "DELETE", "/ari/applications/other/subscription?eventSource=endpoint:PJSIP/bob", nil)
	require.Equal(t, 200, status)
	status, _, _ = h.rest(0, "POST", "/ari/applications/other/subscription?eventSource=endpoint:", nil)
	require.Equal(t, 200, status)
	other.close(t)
	require.Eventually(t, func() bool {
		status, _, _ := h.rest(0, "GET", "/ari/applications/other", nil)
		return status == 404
	}, 5*time.Second, 10*time.Millisecond)
}

// TestDownAndUp: a stopped Asterisk answers nothing (the connection
// ends unanswered), its calls are gone; started again, it serves.
func TestDownAndUp(t *testing.T) {
	h := newHarness(t, "", Options{})
	ws := h.ws()
	cl := h.srv.Call("100", "1", inbound)
	ws.wait(t, 1, "StasisStart", nil)
	h.srv.Down()
	<-ws.done
	<-cl.Done()
	req, err := http.NewRequest("GET", h.base+"/ari/asterisk/info", nil)
	require.NoError(t, err)
	req.SetBasicAuth("asterisk", "asterisk")
	_, err = h.hc.Do(req)
	require.Error(t, err, "nobody answers while Asterisk is down")
	h.srv.Up()
	status, _, _ := h.rest(0, "GET", "/ari/asterisk/info", nil)
	require.Equal(t, 200, status)
	require.Empty(t, h.srv.Channels())
}

// TestVoicedRecording: the recording of a caller who speaks holds a
// voice; that of one who does not, silence.
func TestVoicedRecording(t *testing.T) {
	h := newHarness(t, "", Options{})
	ws := h.ws()
	for _, voice := range []bool{true, false} {
		cl := h.srv.Call("100", "1", CallScript{Voice: voice})
		ws.wait(t, 1, "StasisStart", nil)
		id := cl.ChannelID()
		name := fmt.Sprintf("vm-%v", voice)
		status, _, _ := h.rest(0, "POST", "/ari/channels/"+id+"/answer", nil)
		require.Equal(t, 204, status)
		status, _, _ = h.rest(0, "POST", "/ari/channels/"+id+"/record?format=wav&name="+name, nil)
		require.Equal(t, 201, status)
		time.Sleep(100 * time.Millisecond)
		status, _, _ = h.rest(0, "DELETE", "/ari/channels/"+id, nil)
		require.Equal(t, 204, status)
		<-cl.Done()
		require.Eventually(t, func() bool {
			status, _, _ := h.rest(0, "GET", "/ari/recordings/stored/"+name, nil)
			return status == 200
		}, 5*time.Second, 10*time.Millisecond)
		_, file, _ := h.rest(0, "GET", "/ari/recordings/stored/"+name+"/file", nil)
		_, peak := peakOf(file[44:])
		if voice {
			require.Greater(t, peak, 0.1, "a voice")
		} else {
			require.Zero(t, peak, "silence")
		}
	}
}

// peakOf is the peak of 16-bit PCM, as a fraction of full scale.
func peakOf(pcm []byte) (int, float64) {
	peak := 0
	for i := 0; i+1 < len(pcm); i += 2 {
		v := int(int16(binary.LittleEndian.Uint16(pcm[i:])))
		peak = max(peak, v, -v)
	}
	return len(pcm) / 2, float64(peak) / 32768
}
