package esltest

import (
	"bufio"
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// conn is one event-socket connection: a controller that connected to the
// inbound socket, or an outbound socket the emulator opened for a call. Its
// subscription state is guarded by Server.mu (events are offered under it);
// its output queue by qmu.
type conn struct {
	s        *Server
	nc       net.Conn
	outbound bool

	// Guarded by Server.mu.
	authed     bool
	events     bool
	format     string // plain json xml
	all        bool
	types      map[string]bool
	subclasses map[string]bool
	filters    []Header
	myEvents   bool
	anyUUID    bool // myevents on an unknown uuid without a format: no uuid check
	session    *channel
	linger     bool
	lingerTime int  // -1 = forever
	down       bool // the session's channel went down (notice sent)
	gone       bool
	logging    bool
	lost       int // events dropped because the client does not read

	qmu        sync.Mutex
	cond       *sync.Cond
	queue      [][]byte
	holding    bool
	held       []pending
	closeAfter bool // close once the running command's output is out
	closing    bool // drain the queue, then close
	dropped    bool // close at once
}

// pending is an event offered while a command runs: FreeSWITCH delivers
// events only between commands, so they wait until the reply is written.
type pending struct {
	ev     *event
	format string
	raw    []byte
}

func newConn(s *Server, nc net.Conn, outbound bool) *conn {
	c := &conn{s: s, nc: nc, outbound: outbound, format: "plain", types: map[string]bool{}, subclasses: map[string]bool{}}
	c.cond = sync.NewCond(&c.qmu)
	if outbound {
		c.authed = true
	}
	return c
}

// serve runs the connection: writer goroutine, then the command loop.
func (c *conn) serve() {
	defer c.s.wg.Done()
	done := make(chan struct{})
	go func() {
		c.writeLoop()
		close(done)
	}()
	if !c.outbound {
		c.send([]byte(authRequestFrame))
	}
	r := bufio.NewReaderSize(c.nc, 16<<10)
	for {
		cmd, err := readCommand(r)
		if err != nil {
			break
		}
		c.s.logCommand(cmd)
		if !c.handle(cmd) {
			break
		}
	}
	c.finish()
	<-done
}

// finish is the end of a connection however it ended: it leaves the
// listener list, lets go of its session (which may hang the call up, as in
// transcript 09) and closes the socket once the queue is written.
func (c *conn) finish() {
	s := c.s
	s.mu.Lock()
	if !c.gone {
		c.gone = true
		delete(s.conns, c)
		if ch := c.session; ch != nil {
			c.session = nil
			s.releaseSessionLocked(ch, c)
		}
	}
	s.mu.Unlock()
	c.shutdown()
}

// closeLocked is Server.Close's cut: no goodbye.
func (c *conn) closeLocked() { c.drop() }

// drop closes the socket at once, as a network cut would.
func (c *conn) drop() {
	c.qmu.Lock()
	c.dropped = true
	c.closing = true
	c.queue = nil
	c.cond.Broadcast()
	c.qmu.Unlock()
	c.nc.Close()
}

// shutdown closes the connection once what is queued has been written; if a
// command is still running, after its reply and held events.
func (c *conn) shutdown() {
	c.qmu.Lock()
	if c.holding {
		c.closeAfter = true
	} else {
		c.closing = true
	}
	c.cond.Broadcast()
	c.qmu.Unlock()
}

func (c *conn) writeLoop() {
	bw := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		c.qmu.Lock()
		for len(c.queue) == 0 && !c.closing {
			c.cond.Wait()
		}
		items := c.queue
		c.queue = nil
		closing, dropped := c.closing, c.dropped
		c.qmu.Unlock()
		if dropped {
			break
		}
		failed := false
		for _, b := range items {
			if _, err := bw.Write(b); err != nil {
				failed = true
				break
			}
		}
		if failed || bw.Flush() != nil {
			break
		}
		if closing && len(items) == 0 {
			break
		}
	}
	c.nc.Close()
}

// send queues a frame (replies bypass the hold: they are what ends it).
func (c *conn) send(b []byte) {
	c.qmu.Lock()
	if !c.closing {
		c.queue = append(c.queue, b)
		c.cond.Signal()
	}
	c.qmu.Unlock()
}

// hold starts holding events back while a command runs.
func (c *conn) hold() {
	c.qmu.Lock()
	c.holding = true
	c.qmu.Unlock()
}

// release sends reply, then the events held back while the command ran.
func (c *conn) release(reply []byte) {
	c.qmu.Lock()
	if !c.closing {
		if reply != nil {
			c.queue = append(c.queue, reply)
		}
		for _, p := range c.held {
			c.queue = append(c.queue, p.frame())
		}
		c.cond.Signal()
	}
	c.held = nil
	c.holding = false
	if c.closeAfter {
		c.closing = true
		c.cond.Broadcast()
	}
	c.qmu.Unlock()
}

// sendOrdered queues a frame behind the events already offered, held ones
// included (disconnect notices follow CHANNEL_HANGUP_COMPLETE).
func (c *conn) sendOrdered(b []byte) {
	c.qmu.Lock()
	if !c.closing {
		if c.holding {
			c.held = append(c.held, pending{raw: b})
		} else {
			c.queue = append(c.queue, b)
			c.cond.Signal()
		}
	}
	c.qmu.Unlock()
}

func (p pending) frame() []byte {
	if p.raw != nil {
		return p.raw
	}
	switch p.format {
	case "json":
		return p.ev.jsonFrame()
	case "xml":
		return p.ev.xmlFrame()
	}
	return p.ev.plainFrame()
}

// offerLocked delivers e if this connection listens for it: its event list
// (or ALL), CUSTOM subclasses, filters, and the myevents uuid check, in the
// order event_handler applies them.
func (c *conn) offerLocked(e *event) {
	if !c.authed || !c.events || c.gone {
		return
	}
	send := c.all
	if !send && c.types[e.name] {
		send = e.name != "CUSTOM" || e.subclass == "" || c.subclasses[e.subclass]
	}
	if !send {
		return
	}
	if len(c.filters) > 0 && !c.passFilters(e) {
		return
	}
	if c.myEvents && !c.anyUUID {
		if e.uniqueID == "" || c.session == nil || e.uniqueID != c.session.uuid {
			return
		}
	}
	p := pending{ev: e, format: c.format}
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closing {
		return
	}
	// FreeSWITCH queues up to 100000 events per listener and kills a
	// listener that lost more than 500.
	if len(c.queue)+len(c.held) >= maxQueue {
		c.lost++
		if c.lost > maxMissed {
			c.dropped, c.closing = true, true
			c.queue = nil
			c.cond.Broadcast()
			go c.nc.Close()
		}
		return
	}
	if c.holding {
		c.held = append(c.held, p)
	} else {
		c.queue = append(c.queue, p.frame())
		c.cond.Signal()
	}
}

const (
	maxQueue  = 100000
	maxMissed = 500
)

// passFilters applies `filter` the way event_handler does: a header that
// matches a positive filter lets the event through, one that matches a
// "-" filter stops it; values starting with / are regular expressions.
func (c *conn) passFilters(e *event) bool {
	send := false
	for _, f := range c.filters {
		hval, ok := e.get(f.Name)
		if !ok {
			continue
		}
		comp := f.Value
		pos := true
		for len(comp) > 0 {
			switch comp[0] {
			case '+':
				pos = true
			case '-':
				pos = false
			case ' ':
			default:
				goto parsed
			}
			comp = comp[1:]
		}
	parsed:
		if send && pos {
			continue
		}
		if comp == "" {
			continue
		}
		var match bool
		if strings.HasPrefix(f.Value, "/") {
			match = regexMatch(comp, hval)
		} else {
			match = strings.EqualFold(hval, comp)
		}
		if match {
			if !pos {
				return false
			}
			send = true
		}
	}
	return send
}

var regexCache sync.Map

// regexMatch matches a FreeSWITCH-style /pattern/ against v.
func regexMatch(pattern, v string) bool {
	p := strings.TrimPrefix(pattern, "/")
	if i := strings.LastIndex(p, "/"); i >= 0 {
		p = p[:i]
	}
	re, ok := regexCache.Load(p)
	if !ok {
		compiled, err := regexp.Compile(p)
		if err != nil {
			return false
		}
		re, _ = regexCache.LoadOrStore(p, compiled)
	}
	return re.(*regexp.Regexp).MatchString(v)
}

// handle runs one command; false ends the connection.
func (c *conn) handle(cmd Command) bool {
	c.hold()
	reply, keep := c.dispatch(cmd)
	if reply == nil && keep {
		c.release(nil)
		return true
	}
	c.release(reply)
	if !keep {
		c.goodbye()
	}
	return keep
}

// goodbye sends the disconnect notice FreeSWITCH sends when a listener
// ends (after exit, a failed auth, or its session going down), then closes.
func (c *conn) goodbye() {
	c.s.mu.Lock()
	uuid := ""
	if c.session != nil {
		uuid = c.session.uuid
	}
	c.s.mu.Unlock()
	c.sendOrdered(disconnectFrame(uuid))
	c.shutdown()
}

// dispatch mirrors parse_command: the checks run in FreeSWITCH's order and
// commands match by case-insensitive prefix.
func (c *conn) dispatch(cmd Command) (reply []byte, keep bool) {
	s := c.s
	line := cmd.Line
	low := strings.ToLower(line)
	if strings.HasPrefix(low, "exit") || strings.HasPrefix(low, "...") {
		return replyFrame("+OK bye"), false
	}
	s.mu.Lock()
	authed := c.authed
	s.mu.Unlock()
	if !authed {
		if strings.HasPrefix(low, "auth ") {
			if line[5:] == s.opts.Password {
				s.mu.Lock()
				c.authed = true
				s.mu.Unlock()
				return replyFrame("+OK accepted"), true
			}
			return replyFrame("-ERR invalid"), false
		}
		if strings.HasPrefix(low, "userauth ") {
			return replyFrame("-ERR invalid"), false
		}
		return replyFrame("-ERR command not found"), true
	}
	switch {
	case strings.HasPrefix(low, "filter "):
		return replyFrame(c.filter(line[7:])), true
	}
	s.mu.Lock()
	hasSession := c.session != nil
	s.mu.Unlock()
	if hasSession && strings.HasPrefix(low, "resume") {
		return replyFrame("+OK"), true
	}
	if hasSession || c.outbound || strings.HasPrefix(low, "myevents ") {
		switch {
		case strings.HasPrefix(low, "connect"):
			return c.connect(), true
		case strings.HasPrefix(low, "getvar"):
			return replyFrame(c.getvar(line)), true
		case strings.HasPrefix(low, "myevents"):
			return replyFrame(c.myevents(line)), true
		}
	}
	switch {
	case strings.HasPrefix(low, "divert_events"):
		if !hasSession {
			return replyFrame("-ERR not controlling a session."), true
		}
		v := strings.TrimSpace(line[13:])
		switch {
		case v == "":
			return replyFrame("-ERR missing value."), true
		case strings.EqualFold(v, "on"):
			return replyFrame("+OK events diverted"), true
		default:
			return replyFrame("+OK events not diverted"), true
		}
	case strings.HasPrefix(low, "sendmsg"):
		return replyFrame(c.sendmsg(cmd)), true
	case strings.HasPrefix(low, "sendevent"):
		return replyFrame(c.sendevent(cmd)), true
	case strings.HasPrefix(low, "api "):
		name, arg, _ := strings.Cut(line[4:], " ")
		out := s.api(context.Background(), name, arg, c, nil)
		if out == "" {
			out = "-ERR no reply\n"
		}
		return apiResponseFrame(out), true
	case strings.HasPrefix(low, "bgapi "):
		return c.bgapi(cmd), true
	case strings.HasPrefix(low, "log"):
		reply := c.logLevel(line)
		if strings.HasPrefix(reply, "+OK") {
			s.mu.Lock()
			c.logging = true
			s.mu.Unlock()
		}
		return replyFrame(reply), true
	case strings.HasPrefix(low, "linger"):
		if !hasSession {
			return replyFrame("-ERR not controlling a session"), true
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c.linger = true
		c.lingerTime = -1
		if len(line) > 7 && line[6] == ' ' {
			n, _ := strconv.Atoi(line[7:])
			c.lingerTime = n
			return replyFrame("+OK will linger " + strconv.Itoa(n) + " seconds"), true
		}
		return replyFrame("+OK will linger"), true
	case strings.HasPrefix(low, "nolinger"):
		if !hasSession {
			return replyFrame("-ERR not controlling a session"), true
		}
		s.mu.Lock()
		c.linger = false
		s.mu.Unlock()
		return replyFrame("+OK will not linger"), true
	case strings.HasPrefix(low, "nolog"):
		s.mu.Lock()
		defer s.mu.Unlock()
		if !c.logging {
			return replyFrame("-ERR not loging"), true
		}
		c.logging = false
		return replyFrame("+OK no longer logging"), true
	case strings.HasPrefix(low, "event"):
		return replyFrame(c.event(line)), true
	case strings.HasPrefix(low, "nixevent"):
		return replyFrame(c.nixevent(line)), true
	case strings.HasPrefix(low, "noevents"):
		s.mu.Lock()
		defer s.mu.Unlock()
		c.qmu.Lock()
		c.held = nil
		c.qmu.Unlock()
		if !c.events {
			return replyFrame("-ERR not listening for events"), true
		}
		c.events = false
		c.all = false
		c.types = map[string]bool{}
		c.subclasses = map[string]bool{}
		return replyFrame("+OK no longer listening for events"), true
	}
	return replyFrame("-ERR command not found"), true
}

func (c *conn) filter(arg string) string {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	arg = strings.TrimLeft(arg, " ")
	name, val, hasVal := strings.Cut(arg, " ")
	if strings.EqualFold(name, "delete") && hasVal {
		name, val, hasVal = strings.Cut(val, " ")
		if strings.EqualFold(name, "all") {
			c.filters = nil
		} else {
			for i, f := range c.filters {
				if strings.EqualFold(f.Name, name) && (!hasVal || f.Value == val) {
					c.filters = append(c.filters[:i], c.filters[i+1:]...)
					break
				}
			}
		}
		return "+OK filter deleted. [" + name + "][" + val + "]"
	}
	if !hasVal {
		return "-ERR invalid syntax"
	}
	if strings.EqualFold(name, "add") {
		name, val, _ = strings.Cut(val, " ")
	}
	c.filters = append(c.filters, Header{name, val})
	return "+OK filter added. [" + name + "]=[" + val + "]"
}

// event handles `event [plain|json|xml] <names...>`.
func (c *conn) event(line string) string {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	rest := ""
	if i := strings.IndexByte(line, ' '); i >= 0 {
		rest = line[i+1:]
	} else {
		return "-ERR no keywords supplied"
	}
	keys := 0
	custom := false
	for i, tok := range strings.Split(rest, " ") {
		if i == 0 {
			switch strings.ToLower(tok) {
			case "plain", "json", "xml":
				c.format = strings.ToLower(tok)
				continue
			}
		}
		if custom {
			c.subclasses[tok] = true
			continue
		}
		name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(tok), "SWITCH_EVENT_"))
		if !eventTypes[name] {
			continue
		}
		keys++
		if name == "ALL" {
			c.all = true
		}
		c.types[name] = true
		if name == "CUSTOM" {
			custom = true
		}
	}
	if keys == 0 {
		return "-ERR no keywords supplied"
	}
	c.events = true
	return "+OK event listener enabled " + c.format
}

func (c *conn) nixevent(line string) string {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	_, rest, ok := strings.Cut(line, " ")
	if !ok {
		return "-ERR no keywords supplied"
	}
	keys := 0
	custom := false
	for _, tok := range strings.Split(rest, " ") {
		if custom {
			delete(c.subclasses, tok)
			continue
		}
		name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(tok), "SWITCH_EVENT_"))
		if !eventTypes[name] {
			continue
		}
		keys++
		switch name {
		case "CUSTOM":
			custom = true
		case "ALL":
			c.all = false
			c.types = map[string]bool{}
		default:
			if c.all {
				c.all = false
				for n := range eventTypes {
					if n != "ALL" {
						c.types[n] = true
					}
				}
			}
			delete(c.types, name)
		}
	}
	if keys == 0 {
		return "-ERR no keywords supplied"
	}
	c.events = true
	return "+OK events nixed"
}

func (c *conn) logLevel(line string) string {
	level := ""
	if len(line) > 4 {
		level = line[4:]
	}
	n := 7
	if level != "" {
		levels := map[string]int{"console": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
		if v, ok := levels[strings.ToLower(level)]; ok {
			n = v
		} else if v, err := strconv.Atoi(level); err == nil && v >= 0 && v <= 7 {
			n = v
		} else {
			return "-ERR invalid log level"
		}
	}
	return "+OK log level " + level + " [" + strconv.Itoa(n) + "]"
}

// myevents binds the connection to one session's events (and, inbound, to
// the session itself: dropping it later hangs the call up).
func (c *conn) myevents(line string) string {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.myEvents {
		return "-ERR aready enabled."
	}
	if c.session == nil && !c.outbound {
		arg := strings.TrimSpace(line[9:])
		uuid, fmtArg, hasFmt := strings.Cut(arg, " ")
		ch := s.channels[uuid]
		if ch == nil || ch.cause != "" {
			if hasFmt {
				return "-ERR invalid uuid"
			}
			c.anyUUID = true
		} else {
			c.session = ch
			s.takeSessionLocked(ch, c)
		}
		switch strings.ToLower(fmtArg) {
		case "plain", "json", "xml":
			c.format = strings.ToLower(fmtArg)
		}
	}
	for _, t := range myEventsTypes {
		c.types[t] = true
	}
	c.myEvents = true
	c.events = true
	if strings.Contains(line, "xml") || strings.Contains(line, "XML") {
		c.format = "xml"
	}
	if strings.Contains(line, "json") || strings.Contains(line, "JSON") {
		c.format = "json"
	}
	return "+OK Events Enabled"
}

func (c *conn) getvar(line string) string {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	_, name, ok := strings.Cut(line, " ")
	if !ok || c.session == nil {
		return ""
	}
	v, _ := s.getVarLocked(c.session, name)
	return v
}

// connect answers an outbound socket's `connect` with the channel data, a
// command/reply whose Content-Type is not the first header, then parks the
// call as the socket app does once connected.
func (c *conn) connect() []byte {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := c.session
	if ch == nil {
		return replyFrame("-ERR command not found")
	}
	e := s.fullEventLocked("CHANNEL_DATA")
	ch.prof.add(e, "Channel-", ch.uuid, true, false)
	s.addChannelData(e, ch)
	e.add("Content-Type", "command/reply")
	e.add("Reply-Text", "+OK\n")
	e.add("Socket-Mode", "async")
	e.add("Control", "full")
	var b strings.Builder
	for _, h := range e.headers {
		b.WriteString(h.Name + ": " + urlEncode(h.Value) + "\n")
	}
	b.WriteByte('\n')
	if !ch.socketConnOK {
		ch.socketConnOK = true
		s.socketConnectedLocked(ch)
	}
	return []byte(b.String())
}

func (c *conn) sendmsg(cmd Command) string {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	uuid := strings.TrimSpace(strings.TrimPrefix(cmd.Line[7:], " "))
	if uuid == "" {
		uuid = cmd.Header("session-id")
	}
	if uuid != "" && c.session != nil && uuid == c.session.uuid {
		uuid = ""
	}
	var ch *channel
	if uuid == "" {
		ch = c.session
	} else {
		ch = s.channels[uuid]
	}
	if ch == nil || ch.gone {
		return "-ERR invalid session id [" + uuid + "]"
	}
	s.sendmsgLocked(ch, cmd)
	return "+OK"
}

func (c *conn) sendevent(cmd Command) string {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.ToUpper(strings.TrimSpace(cmd.Line[9:]))
	if !eventTypes[name] || name == "ALL" {
		name = "CUSTOM"
	}
	id := newUUID()
	e := s.newEventLocked(name)
	for _, h := range cmd.Headers {
		if strings.EqualFold(h.Name, "content-length") {
			continue
		}
		e.add(h.Name, h.Value)
		if strings.EqualFold(h.Name, "Event-Subclass") {
			e.subclass = h.Value
		}
	}
	e.add("Event-UUID", id)
	if cmd.Body != "" {
		e.body, e.hasBody = cmd.Body, true
	}
	s.emitLocked(e)
	return "+OK " + id
}

// bgapi replies with the job uuid at once and runs the command in the
// background; BACKGROUND_JOB carries the result (for originate, at the
// point of the call flow the recordings show).
func (c *conn) bgapi(cmd Command) []byte {
	s := c.s
	name, arg, hasArg := strings.Cut(cmd.Line[6:], " ")
	job := cmd.Header("job-uuid")
	if job == "" {
		job = newUUID()
	}
	reply := []byte("Content-Type: command/reply\nReply-Text: +OK Job-UUID: " + job + "\nJob-UUID: " + job + "\n\n")
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closed {
		return reply
	}
	go func() {
		defer s.wg.Done()
		var once sync.Once
		emit := func(out string) { // called with s.mu held
			once.Do(func() { s.emitJobLocked(job, name, arg, hasArg, out) })
		}
		out := s.api(context.Background(), name, arg, c, emit)
		s.mu.Lock()
		emit(out)
		s.mu.Unlock()
	}()
	return reply
}

func (s *Server) emitJobLocked(job, name, arg string, hasArg bool, out string) {
	e := s.newEventLocked("BACKGROUND_JOB")
	e.add("Job-UUID", job)
	e.add("Job-Command", name)
	if hasArg {
		e.add("Job-Command-Arg", arg)
	}
	if out == "" {
		out = "Command returned no output!"
	}
	e.body, e.hasBody = out, true
	s.emitLocked(e)
}

// takeSessionLocked makes c the controller of ch (CF_CONTROLLED).
func (s *Server) takeSessionLocked(ch *channel, c *conn) {
	ch.controller = c
	ch.controlled = true
}

// releaseSessionLocked is the end of a controlling connection: the channel
// is no longer controlled, so a parked call stops being parked and, with
// nothing left in its dialplan, hangs up (09, call 2); a channel that was
// waiting for the listener to let go is destroyed.
func (s *Server) releaseSessionLocked(ch *channel, c *conn) {
	if ch.controller != c {
		return
	}
	ch.controller = nil
	ch.controlled = false
	if ch.destroyWait {
		s.destroyLocked(ch)
		return
	}
	ch.released = true
	s.releasedLocked(ch)
}

// releasedLocked returns a parked channel whose controller went away from
// park once it is idle (a running playback finishes first, as the park
// loop only looks between applications).
func (s *Server) releasedLocked(ch *channel) {
	if ch.released && ch.cause == "" && ch.cur == nil && ch.top != nil && (ch.top.app == "park" || ch.top.app == "socket") {
		s.unparkLocked(ch)
	}
}

// sessionDownLocked tells the controlling connection its channel went down:
// with linger it gets the linger notice and stays open, otherwise the
// disconnect notice and a close; either way the channel waits for it
// before CHANNEL_DESTROY.
func (s *Server) sessionDownLocked(ch *channel) bool {
	c := ch.controller
	if c == nil || c.gone {
		return false
	}
	if c.down {
		return true
	}
	c.down = true
	ch.destroyWait = true
	if c.linger {
		c.sendOrdered(lingerFrame(ch.uuid, ch.name, c.lingerTime))
		if c.lingerTime > 0 {
			time.AfterFunc(time.Duration(c.lingerTime)*time.Second, func() {
				c.sendOrdered(disconnectFrame(ch.uuid))
				c.shutdown()
				_ = c.nc.SetReadDeadline(time.Now())
			})
		}
		return true
	}
	c.sendOrdered(disconnectFrame(ch.uuid))
	c.shutdown()
	// Unblock the reader so the connection finishes and releases the
	// session, which lets the channel be destroyed.
	_ = c.nc.SetReadDeadline(time.Now())
	return true
}
