package aritest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// reply is what a handler answers; it is written after the lock is
// released. after holds work that must follow the response on the wire:
// events every capture showed after it (the first Dial of an originate,
// a snoop's StasisStart, RecordingStarted/Failed/Finished, ...).
type reply struct {
	status int
	text   string // reason phrase, when Asterisk's is not net/http's
	body   []byte
	ctype  string
	hdr    [][2]string
	after  []func()
}

func jsonReply(status int, body []byte) reply { return reply{status: status, body: body} }
func noContent() reply                        { return reply{status: http.StatusNoContent} }
func errReply(status int, text, msg string) reply {
	return reply{status: status, text: text, body: messageBody(msg)}
}

var (
	errChannelNotFound = errReply(404, "", "Channel not found")
	errBridgeNotFound  = errReply(404, "Not found", "Bridge not found")
	errAllocFailed     = reply{status: 500, body: []byte(`{"error":"Allocation failed"}`)}
)

// call is one REST request being handled.
type call struct {
	r    *http.Request
	q    url.Values  // query parameters, overridden by JSON body fields
	vars [][2]string // the body's "variables" object, in order
	p    []string    // path parameters, in order
}

func (c *call) get(name string) string { return c.q.Get(name) }

func (c *call) intParam(name string, def int) (int, bool) {
	v := c.q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

type handler func(s *Server, c *call) reply

type route struct {
	segs    []string
	methods map[string]handler
}

// Asterisk lists allowed methods in this order (enum ast_http_method).
var methodOrder = []string{"GET", "POST", "HEAD", "PUT", "DELETE"}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		// Stopped: the request finds nobody (the client sees the
		// connection end, as a refused one).
		if hj, ok := w.(http.Hijacker); ok {
			if nc, _, err := hj.Hijack(); err == nil {
				nc.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	path := r.URL.EscapedPath()
	if path != "/ari" && !strings.HasPrefix(path, "/ari/") {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	s.mu.Lock()
	s.logRequest(Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(), Body: string(body)})
	s.mu.Unlock()

	if !s.authorized(r) {
		writeReply(w, reply{status: 401, body: messageBody("Authentication required"),
			hdr: [][2]string{{"WWW-Authenticate", `Basic realm="Asterisk REST Interface"`}}})
		return
	}
	rest := strings.Trim(strings.TrimPrefix(path, "/ari"), "/")
	if rest == "events" && r.Method == http.MethodGet {
		s.serveEvents(w, r)
		return
	}
	segs := strings.Split(rest, "/")
	for i, sg := range segs {
		if u, err := url.PathUnescape(sg); err == nil {
			segs[i] = u
		}
	}
	rt, params := matchRoute(segs)
	if rt == nil {
		writeReply(w, errReply(404, "", "Resource not found"))
		return
	}
	h := rt.methods[r.Method]
	if h == nil {
		allow := "OPTIONS"
		for _, m := range methodOrder {
			if rt.methods[m] != nil {
				allow += "," + m
			}
		}
		if r.Method == http.MethodOptions {
			writeReply(w, reply{status: 200, hdr: [][2]string{{"Allow", allow}}})
			return
		}
		rep := errReply(405, "", "Invalid method")
		rep.hdr = [][2]string{{"Allow", allow}}
		writeReply(w, rep)
		return
	}
	c := &call{r: r, q: r.URL.Query(), p: params}
	if rep, ok := c.parseBody(r, body); !ok {
		writeReply(w, rep)
		return
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeReply(w, errReply(503, "", "Service Unavailable"))
		return
	}
	rep := h(s, c)
	s.mu.Unlock()
	writeReply(w, rep)
	if len(rep.after) > 0 {
		s.mu.Lock()
		for _, f := range rep.after {
			if !s.closed {
				f()
			}
		}
		s.mu.Unlock()
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return u == s.opts.User && p == s.opts.Password
	}
	if k := r.URL.Query().Get("api_key"); k != "" {
		u, p, _ := strings.Cut(k, ":")
		return u == s.opts.User && p == s.opts.Password
	}
	return false
}

// parseBody merges a JSON body into the parameters, as ARI does: body
// fields win over the query string; "variables" is an object.
func (c *call) parseBody(r *http.Request, body []byte) (reply, bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return reply{}, true
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return errReply(400, "", "Failed to decode request body"), false
	}
	for k, raw := range m {
		if k == "variables" {
			vars, err := orderedObject(raw)
			if err != nil {
				return errReply(400, "", "Failed to decode request body"), false
			}
			c.vars = vars
			continue
		}
		c.q.Set(k, scalar(raw))
	}
	return reply{}, true
}

func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// orderedObject reads a flat JSON object keeping its key order, so that
// variables are set (and their ChannelVarset events sent) in body order.
func orderedObject(raw json.RawMessage) ([][2]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("variables: not an object")
	}
	var out [][2]string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, [2]string{fmt.Sprint(kt), scalar(v)})
	}
	return out, nil
}

// writeReply writes Asterisk's headers and body. A reason phrase net/http
// cannot produce ("404 Not found", "500 Internal Error", "400 Invalid
// Reason", "404 Variable Not Found") is written on the hijacked connection,
// which is then closed.
func writeReply(w http.ResponseWriter, rep reply) {
	ctype := rep.ctype
	if ctype == "" && rep.body != nil {
		ctype = "application/json"
	}
	if rep.text != "" && rep.text != http.StatusText(rep.status) {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, rw, err := hj.Hijack(); err == nil {
				writeRaw(rw, rep, ctype)
				_ = conn.Close()
				return
			}
		}
	}
	h := w.Header()
	h.Set("Server", "Asterisk/22.10.1")
	h.Set("Cache-Control", "no-cache, no-store")
	for _, kv := range rep.hdr {
		h.Set(kv[0], kv[1])
	}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	if len(rep.body) > 0 {
		_, _ = w.Write(rep.body)
	}
	// Push the response out before the events that must follow it.
	_ = http.NewResponseController(w).Flush()
}

func writeRaw(rw *bufio.ReadWriter, rep reply, ctype string) {
	fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\n", rep.status, rep.text)
	fmt.Fprintf(rw, "Server: Asterisk/22.10.1\r\nDate: %s\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\n",
		time.Now().UTC().Format(http.TimeFormat))
	for _, kv := range rep.hdr {
		fmt.Fprintf(rw, "%s: %s\r\n", kv[0], kv[1])
	}
	if ctype != "" {
		fmt.Fprintf(rw, "Content-Type: %s\r\n", ctype)
	}
	fmt.Fprintf(rw, "Content-Length: %d\r\n\r\n", len(rep.body))
	_, _ = rw.Write(rep.body)
	_ = rw.Flush()
}

func writeJSON(w http.ResponseWriter, status int, text string, hdr [][2]string, body []byte) {
	writeReply(w, reply{status: status, text: text, hdr: hdr, body: body})
}

// matchRoute finds the route whose pattern matches, preferring literal
// segments over {parameters} (channels/create over channels/{channelId}).
func matchRoute(segs []string) (*route, []string) {
	var best *route
	bestScore := -1
	for i := range routes {
		rt := &routes[i]
		if len(rt.segs) != len(segs) {
			continue
		}
		score := 0
		ok := true
		for j, p := range rt.segs {
			if strings.HasPrefix(p, "{") {
				if segs[j] == "" {
					ok = false
					break
				}
				continue
			}
			if p != segs[j] {
				ok = false
				break
			}
			score++
		}
		if ok && score > bestScore {
			best, bestScore = rt, score
		}
	}
	if best == nil {
		return nil, nil
	}
	var params []string
	for j, p := range best.segs {
		if strings.HasPrefix(p, "{") {
			params = append(params, segs[j])
		}
	}
	return best, params
}
