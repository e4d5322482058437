package aritest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// The transcripts recorded on a real Asterisk 22.10.1 are the reference:
// these helpers read them and compare what the emulator sends with what
// Asterisk sent, event by event, per channel (or playback, recording,
// bridge), after masking what legitimately differs between two runs
// (timestamps, Call-IDs, name counters, RTP statistics).

const transcriptDir = "../../../shared/asterisk/transcripts"

type tline struct {
	TMs         float64           `json:"t_ms"`
	Kind        string            `json:"kind"`
	ReqID       int               `json:"req_id"`
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Status      int               `json:"status"`
	StatusText  string            `json:"status_text"`
	RespHeaders map[string]string `json:"resp_headers"`
	RespBody    json.RawMessage   `json:"resp_body"`
	WSConn      int               `json:"ws_conn"`
	Event       json.RawMessage   `json:"event"`
}

type transcript struct {
	name   string
	lines  []tline
	resp   map[int]tline
	events []tline
}

func loadTranscript(t *testing.T, name string) *transcript {
	t.Helper()
	if _, err := os.Stat(transcriptDir); err != nil {
		t.Skipf("transcripts not found at %s (shared/ is absent): %v", transcriptDir, err)
	}
	data, err := os.ReadFile(filepath.Join(transcriptDir, name+".jsonl"))
	require.NoError(t, err)
	tr := &transcript{name: name, resp: map[int]tline{}}
	for i, ln := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if i == 0 {
			continue // header
		}
		var l tline
		require.NoError(t, json.Unmarshal(ln, &l), "line %d", i+1)
		tr.lines = append(tr.lines, l)
		switch l.Kind {
		case "rest_response":
			tr.resp[l.ReqID] = l
		case "event":
			tr.events = append(tr.events, l)
		}
	}
	return tr
}

// eventKey groups an event: by channel (or Dial peer), playback,
// recording, bridge; ApplicationReplaced under "app".
func eventKey(m map[string]any) string {
	for _, k := range []string{"channel", "peer"} {
		if c, ok := m[k].(map[string]any); ok {
			return c["id"].(string)
		}
	}
	if p, ok := m["playback"].(map[string]any); ok {
		return "playback:" + p["id"].(string)
	}
	if r, ok := m["recording"].(map[string]any); ok {
		return "recording:" + r["name"].(string)
	}
	if b, ok := m["bridge"].(map[string]any); ok {
		return "bridge:" + b["id"].(string)
	}
	if e, ok := m["endpoint"].(map[string]any); ok {
		return "endpoint:" + e["resource"].(string)
	}
	return "app"
}

var (
	hexSuffix = regexp.MustCompile(`-[0-9a-f]{8}(;2)?\b`)
	uuidRe    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	chanIDRe  = regexp.MustCompile(`^[0-9]{10}\.[0-9]+$`)
	tsRe      = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)
)

// mask replaces what differs between two runs of the same scenario.
func mask(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = mask(e, k)
		}
		if vn, _ := x["variable"].(string); strings.HasPrefix(vn, "RTPAUDIOQOS") || (vn == "BRIDGEPVTCALLID" && x["value"] != "") {
			out["value"] = "*"
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mask(e, key)
		}
		return out
	case string:
		switch key {
		case "timestamp", "creationtime":
			return "*"
		case "protocol_id":
			if x != "" {
				return "*"
			}
		}
		return hexSuffix.ReplaceAllString(x, "-N$1")
	}
	return v
}

// normalize decodes an event, maps ids with the replacer and masks it.
func normalize(t *testing.T, raw []byte, ids *strings.Replacer) map[string]any {
	t.Helper()
	if ids != nil {
		raw = []byte(ids.Replace(string(raw)))
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return mask(m, "").(map[string]any)
}

func groupEvents(t *testing.T, raws [][]byte, ids *strings.Replacer) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, r := range raws {
		m := normalize(t, r, ids)
		k := eventKey(m)
		out[k] = append(out[k], m)
	}
	return out
}

func (tr *transcript) rawEvents(ws int) [][]byte {
	var out [][]byte
	for _, e := range tr.events {
		if ws == 0 || e.WSConn == ws {
			out = append(out, e.Event)
		}
	}
	return out
}

// summary is a one-line form of an event for readable failures.
func summary(m map[string]any) string {
	s := fmt.Sprint(m["type"])
	for _, k := range []string{"variable", "dialstatus", "cause", "tech_cause", "soft", "digit"} {
		if v, ok := m[k]; ok {
			s += fmt.Sprintf(" %s=%v", k, v)
		}
	}
	for _, k := range []string{"channel", "peer"} {
		if c, ok := m[k].(map[string]any); ok {
			s += " state=" + fmt.Sprint(c["state"])
		}
	}
	if p, ok := m["playback"].(map[string]any); ok {
		s += " " + fmt.Sprint(p["state"])
	}
	return s
}

func summaries(ms []map[string]any) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = summary(m)
	}
	return out
}

// compareKeys checks, for each transcript key (channel id, "playback:x",
// ...), that the emulator sent the same events, masked, in the same order.
// ids maps emulator ids to the transcript's.
func compareKeys(t *testing.T, tr *transcript, trWS int, got [][]byte, ids map[string]string, keys ...string) {
	t.Helper()
	var pairs []string
	emuIDs := make([]string, 0, len(ids))
	for e := range ids {
		emuIDs = append(emuIDs, e)
	}
	// Longer ids first, so that no id is replaced inside another.
	sort.Slice(emuIDs, func(i, j int) bool { return len(emuIDs[i]) > len(emuIDs[j]) })
	for _, e := range emuIDs {
		pairs = append(pairs, e, ids[e])
	}
	want := groupEvents(t, tr.rawEvents(trWS), nil)
	for k := range want {
		want[k] = ringingFirst(want[k])
	}
	have := groupEvents(t, got, strings.NewReplacer(pairs...))
	for k := range have {
		require.Contains(t, want, k, "%s: the emulator sent events for %s, Asterisk did not", tr.name, k)
	}
	for _, k := range keys {
		require.Equal(t, summaries(want[k]), summaries(have[k]), "%s: event sequence of %s", tr.name, k)
		for i := range want[k] {
			require.Equal(t, want[k][i], have[k][i], "%s: event %d of %s (%s)", tr.name, i, k, summary(want[k][i]))
		}
	}
}

// ringingFirst puts the order the emulator picked where Asterisk showed
// two: Dial(RINGING) and ChannelStateChange(Ringing) of one leg came in
// either order (README); the emulator sends the state change first, so a
// Dial(RINGING) recorded first is moved after it, its peer then Ringing.
func ringingFirst(evs []map[string]any) []map[string]any {
	for i := 0; i+1 < len(evs); i++ {
		d, sc := evs[i], evs[i+1]
		if d["type"] == "Dial" && d["dialstatus"] == "RINGING" && sc["type"] == "ChannelStateChange" {
			if st, _ := sc["channel"].(map[string]any)["state"].(string); st == "Ringing" {
				d["peer"] = sc["channel"]
				evs[i], evs[i+1] = sc, d
			}
		}
	}
	return evs
}

// --- key order ----------------------------------------------------------------

// keysOf lists the top-level keys of a JSON object, in order.
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

func subObject(t *testing.T, raw []byte, key string) []byte {
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	return m[key]
}

var (
	keyOrderOnce sync.Once
	keyOrders    map[string]map[string]bool // event type (or "object:channel") → recorded key orders
)

// recordedKeyOrders collects every key order the transcripts show, per
// event type and for the nested channel, bridge and playback objects.
func recordedKeyOrders(t *testing.T) map[string]map[string]bool {
	keyOrderOnce.Do(func() {
		keyOrders = map[string]map[string]bool{}
		add := func(k string, keys []string) {
			if keyOrders[k] == nil {
				keyOrders[k] = map[string]bool{}
			}
			keyOrders[k][strings.Join(keys, ",")] = true
		}
		files, _ := filepath.Glob(filepath.Join(transcriptDir, "*.jsonl"))
		for _, f := range files {
			tr := loadTranscript(t, strings.TrimSuffix(filepath.Base(f), ".jsonl"))
			for _, e := range tr.events {
				var m map[string]any
				require.NoError(t, json.Unmarshal(e.Event, &m))
				add(m["type"].(string), keysOf(t, e.Event))
				for _, sub := range []string{"channel", "peer", "bridge", "playback", "recording"} {
					if raw := subObject(t, e.Event, sub); raw != nil {
						if sub == "peer" {
							sub = "channel"
						}
						add("object:"+sub, keysOf(t, raw))
					}
				}
			}
		}
	})
	return keyOrders
}

// checkKeyOrder requires an emulator event to have a recorded key order.
func checkKeyOrder(t *testing.T, raw []byte) {
	t.Helper()
	orders := recordedKeyOrders(t)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	typ := m["type"].(string)
	if rec, ok := orders[typ]; ok {
		require.True(t, rec[strings.Join(keysOf(t, raw), ",")], "key order of %s: %s", typ, raw)
	}
	require.Regexp(t, tsRe, m["timestamp"], "timestamp format")
	for _, sub := range []string{"channel", "peer", "bridge", "playback", "recording"} {
		if sr := subObject(t, raw, sub); sr != nil {
			k := sub
			if k == "peer" {
				k = "channel"
			}
			keys := strings.Join(keysOf(t, sr), ",")
			if k == "playback" || k == "recording" {
				// next_media_uri (lists), duration and cause are optional.
				continue
			}
			require.True(t, orders["object:"+k][keys], "key order of %s in %s: %s", k, typ, keys)
		}
	}
}

// --- a client -------------------------------------------------------------------

// wsClient is an events websocket as a driver would open it.
type wsClient struct {
	conn *websocket.Conn
	mu   sync.Mutex
	raws [][]byte
	wake chan struct{}
	done chan struct{}
}

func dialEvents(t testing.TB, base, app string) *wsClient {
	t.Helper()
	u := strings.Replace(base, "http", "ws", 1) + "/ari/events?app=" + app + "&subscribeAll=false"
	hdr := http.Header{"Origin": {"http://127.0.0.1"}}
	hdr.Set("Authorization", basicAuth("asterisk", "asterisk"))
	conn, resp, err := websocket.DefaultDialer.Dial(u, hdr)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	w := &wsClient{conn: conn, wake: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			w.mu.Lock()
			w.raws = append(w.raws, msg)
			close(w.wake)
			w.wake = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = conn.Close() })
	return w
}

func (w *wsClient) close(t *testing.T) {
	t.Helper()
	_ = w.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	_ = w.conn.Close()
	<-w.done
}

func (w *wsClient) events() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.raws...)
}

// wait returns the n-th (1-based) event matching typ and the predicate on
// its decoded form, waiting up to 5 s.
func (w *wsClient) wait(t *testing.T, n int, typ string, pred func(m map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(5 * time.Second)
	seen, from := 0, 0
	for {
		w.mu.Lock()
		raws := w.raws[from:]
		wake := w.wake
		w.mu.Unlock()
		for _, r := range raws {
			from++
			if !bytes.Contains(r, []byte(`"type":"`+typ+`"`)) {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal(r, &m))
			if m["type"] == typ && (pred == nil || pred(m)) {
				seen++
				if seen == n {
					return m
				}
			}
		}
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("no %d× %s event within 5 s (saw %d); got %d events", n, typ, seen, len(w.events()))
		}
	}
}

func onChannel(id string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		for _, k := range []string{"channel", "peer"} {
			if c, ok := m[k].(map[string]any); ok && c["id"] == id {
				return true
			}
		}
		return false
	}
}

func onPlayback(id string) func(map[string]any) bool {
	return func(m map[string]any) bool {
		p, ok := m["playback"].(map[string]any)
		return ok && p["id"] == id
	}
}

func basicAuth(u, p string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(u, p)
	return req.Header.Get("Authorization")
}
