package esltest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// api runs one API command (api or bgapi) and returns its output. emit is
// set for bgapi so that originate can fire BACKGROUND_JOB at the right
// point; other commands leave that to the caller.
func (s *Server) api(ctx context.Context, name, arg string, from *conn, emit func(string)) string {
	switch name {
	case "originate":
		return s.originate(ctx, arg, emit)
	case "http_prefetch":
		url := strings.TrimSpace(arg)
		if url == "" {
			return "USAGE: <url>\n"
		}
		s.mu.Lock()
		if !s.closed {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = s.http.fetch(s.ctx, url, false)
			}()
		}
		s.mu.Unlock()
		return "+OK\n"
	case "http_remove_cache":
		url := strings.TrimSpace(arg)
		if url == "" {
			return "USAGE: <url>\n"
		}
		s.http.remove(url)
		return "+OK\n"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	argv := strings.Fields(arg)
	switch name {
	case "status":
		return s.statusLocked()
	case "version":
		return "FreeSWITCH Version 1.10.12-release~64bit (-release 64bit)\n"
	case "hostname":
		return s.opts.Hostname
	case "global_setvar":
		// "name=value" (mod_commands); the replies of these four commands
		// are FreeSWITCH's source, not a transcript.
		name, value, _ := strings.Cut(strings.TrimSpace(arg), "=")
		if name == "" {
			return "-ERR Invalid syntax\n"
		}
		s.globals[strings.TrimSpace(name)] = strings.TrimSpace(value)
		return "+OK"
	case "global_getvar":
		return s.globals[strings.TrimSpace(arg)]
	case "sched_api":
		return s.schedAPILocked(arg)
	case "sched_del":
		if strings.TrimSpace(arg) == "" {
			return "-ERR Invalid syntax\n"
		}
		return fmt.Sprintf("+OK Deleted: %d\n", s.schedDelLocked(strings.TrimSpace(arg)))
	case "show":
		return s.showLocked(argv)
	case "sofia":
		return s.sofiaLocked(argv)
	case "hupall":
		return s.hupallLocked(argv)
	case "uuid_recv_dtmf":
		// The digits as if the leg's phone had sent them; an eavesdropper
		// changes what it does with 0 (listen), 1, 2 and 3 (talk to the
		// other side, to the leg eavesdropped on, to both), kept as
		// eavesdrop_talk for tests.
		if len(argv) < 2 {
			return "-USAGE: <uuid> <dtmf_data>\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR Cannot locate session\n"
		}
		for _, d := range argv[1] {
			s.dtmfLocked(c, string(d))
			if talk, ok := eavesdropTalk[d]; ok && c.snooping != nil {
				c.vars.set("eavesdrop_talk", talk)
			}
		}
		return "+OK\n"
	case "uuid_exists":
		if len(argv) > 0 && s.live(argv[0]) != nil {
			return "true"
		}
		return "false"
	case "uuid_answer":
		if len(argv) < 1 {
			return "-USAGE: <uuid>\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERROR\n"
		}
		if c.origin == nil { // a ringing originated leg is answered by its phone
			s.answerLocked(c)
		}
		return "+OK\n"
	case "uuid_pre_answer":
		c := s.live(first(argv))
		if c == nil {
			return "-ERROR\n"
		}
		if c.origin == nil {
			s.preAnswerLocked(c)
		}
		return "+OK\n"
	case "uuid_kill":
		if len(argv) < 1 {
			return "-USAGE: <uuid> [cause]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR No such channel!\n"
		}
		cause := "NORMAL_CLEARING"
		if len(argv) > 1 && knownCause(argv[1]) {
			cause = strings.ToUpper(argv[1])
		}
		disp := "send_bye"
		switch {
		case c.origin != nil:
			disp = "send_cancel"
		case !c.answered:
			disp = "send_refuse"
		}
		s.hangupLocked(c, cause, disp)
		return "+OK\n"
	case "uuid_break":
		if len(argv) < 1 {
			return "-USAGE: <uuid> [all]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR No such channel!\n"
		}
		s.breakLocked(c, len(argv) > 1 && argv[1] == "all")
		return "+OK\n"
	case "uuid_broadcast":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <path> [aleg|bleg|both]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR invalid uuid\n"
		}
		legs := "aleg"
		path := strings.Join(argv[1:], " ")
		if n := len(argv); n > 2 {
			switch argv[n-1] {
			case "aleg", "bleg", "both", "holdb":
				legs = argv[n-1]
				path = strings.Join(argv[1:n-1], " ")
			}
		}
		app, appArg := "playback", path
		if a, b, ok := strings.Cut(path, "::"); ok {
			app, appArg = a, b
		}
		var targets []*channel
		if legs == "aleg" || legs == "both" || legs == "holdb" {
			targets = append(targets, c)
		}
		if (legs == "bleg" || legs == "both") && c.bridge != nil {
			targets = append(targets, c.bridge)
		}
		for _, t := range targets {
			t.queue = append(t.queue, appCall{app: app, arg: appArg})
			s.pumpLocked(t)
		}
		return "+OK Message sent\n"
	case "uuid_bridge":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <other_uuid>\n"
		}
		a, b := s.live(argv[0]), s.live(argv[1])
		if a == nil || b == nil || a == b {
			return "-ERR Invalid uuid\n"
		}
		s.uuidBridgeLocked(a, b)
		return "+OK " + b.uuid + "\n"
	case "uuid_setvar":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <var> [value]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR No such channel!\n"
		}
		val := ""
		if parts := strings.SplitN(arg, " ", 3); len(parts) == 3 {
			val = parts[2]
		}
		c.vars.set(argv[1], val)
		return "+OK\n"
	case "uuid_setvar_multi":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <var>=<value>;<var>=<value>...\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR No such channel!\n"
		}
		_, rest, _ := strings.Cut(arg, " ")
		for _, kv := range strings.Split(rest, ";") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "" {
				c.vars.set(k, v)
			}
		}
		return "+OK\n"
	case "uuid_getvar":
		if len(argv) < 2 {
			return "-USAGE: <uuid> <var>\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR No such channel!\n"
		}
		if v, ok := s.getVarLocked(c, argv[1]); ok {
			return v
		}
		return "_undef_"
	case "uuid_hold":
		if len(argv) < 1 {
			return "-USAGE: [off|toggle] <uuid> [<display>]\n"
		}
		mode, uuid := "on", argv[0]
		if (argv[0] == "off" || argv[0] == "toggle") && len(argv) > 1 {
			mode, uuid = argv[0], argv[1]
		}
		if c := s.live(uuid); c != nil {
			switch mode {
			case "off":
				s.holdLocked(c, false)
			case "toggle":
				s.holdLocked(c, !c.held)
			default:
				s.holdLocked(c, true)
			}
		}
		return "+OK Success\n"
	case "uuid_record":
		if len(argv) < 3 {
			return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR Cannot locate session!\n"
		}
		switch argv[1] {
		case "start":
			limit := time.Duration(0)
			if len(argv) > 3 {
				if n, err := strconv.Atoi(argv[3]); err == nil && n > 0 {
					limit = time.Duration(n) * time.Second
				}
			}
			s.startRecordLocked(c, argv[2], limit)
		case "stop":
			s.stopRecordLocked(c, argv[2])
		case "mask", "unmask":
		default:
			return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n"
		}
		return "+OK Success\n"
	case "uuid_transfer":
		if len(argv) < 2 {
			return "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR No such channel!\n"
		}
		rest := argv[1:]
		leg := ""
		if rest[0] == "-bleg" || rest[0] == "-both" {
			leg, rest = rest[0], rest[1:]
		}
		if len(rest) == 0 {
			return "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"
		}
		dest := strings.Join(rest, " ")
		if leg != "" && c.bridge != nil {
			other := c.bridge
			if leg == "-both" {
				s.transferLocked(c, dest, true)
			}
			s.transferLocked(other, dest, true)
			return "+OK\n"
		}
		s.transferLocked(c, dest, true)
		return "+OK\n"
	case "uuid_dump":
		if len(argv) < 1 {
			return "-USAGE: <uuid> [format]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR No such channel!\n"
		}
		return s.dumpLocked(c, second(argv))
	case "uuid_displace":
		// What the channel hears is replaced by a file (a media bug in
		// FreeSWITCH), kept as the variable displaced for tests.
		if len(argv) < 3 || argv[1] != "start" && argv[1] != "stop" {
			return "-USAGE: <uuid> [start|stop] <path> [<limit>] [mux]\n"
		}
		c := s.live(argv[0])
		if c == nil {
			return "-ERR Cannot locate session!\n"
		}
		if argv[1] == "start" {
			c.vars.set("displaced", argv[2])
			return "+OK Success\n"
		}
		if v, _ := c.vars.get("displaced"); v != argv[2] {
			return "-ERR Cannot stop displace session!\n"
		}
		c.vars.unset("displaced")
		return "+OK Success\n"
	case "uuid_audio":
		if len(argv) < 1 {
			return "-USAGE: <uuid> [start [read|write] [mute|level <level>]|stop]\n"
		}
		if s.live(argv[0]) == nil {
			return "-ERR No such channel!\n"
		}
		if len(argv) > 1 && argv[1] == "stop" {
			return "+OK\n"
		}
		if len(argv) >= 5 && argv[1] == "start" && (argv[2] == "read" || argv[2] == "write") && (argv[3] == "mute" || argv[3] == "level") {
			return "+OK\n"
		}
		return "-USAGE: <uuid> [start [read|write] [mute|level <level>]|stop]\n"
	case "uuid_buglist":
		c := s.live(first(argv))
		if c == nil {
			return ""
		}
		var b strings.Builder
		b.WriteString("<media-bugs>\n")
		for _, r := range c.records {
			b.WriteString(" <media-bug>\n  <function>session_record</function>\n  <target>" + r.path + "</target>\n  <thread-locked>0</thread-locked>\n </media-bug>\n")
		}
		for range c.snoopers {
			b.WriteString(" <media-bug>\n  <function>eavesdrop</function>\n  <target>" + c.uuid + "</target>\n  <thread-locked>0</thread-locked>\n </media-bug>\n")
		}
		b.WriteString("</media-bugs>\n")
		return b.String()
	}
	return "-ERR " + name + " Command not found!\n"
}

// live returns a channel that still exists and is not hanging up.
func (s *Server) live(uuid string) *channel {
	c := s.channels[uuid]
	if c == nil || c.cause != "" || c.gone {
		return nil
	}
	return c
}

func first(a []string) string {
	if len(a) > 0 {
		return a[0]
	}
	return ""
}

func second(a []string) string {
	if len(a) > 1 {
		return a[1]
	}
	return ""
}

func (s *Server) statusLocked() string {
	up := time.Since(s.started)
	var b strings.Builder
	fmt.Fprintf(&b, "UP %s\n", uptime(up))
	b.WriteString("FreeSWITCH (Version 1.10.12-release  64bit) is ready\n")
	fmt.Fprintf(&b, "%d session(s) since startup\n", s.sessions)
	fmt.Fprintf(&b, "%d session(s) - peak %d, last 5min %d \n", len(s.channels), s.peak, s.peak)
	b.WriteString("0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n")
	b.WriteString("1000 session(s) max\n")
	b.WriteString("min idle cpu 0.00/95.00\n")
	b.WriteString("Current Stack Size/Max 240K/8192K\n")
	return b.String()
}

// hupallLocked hangs up every channel (or those whose var equals val).
func (s *Server) hupallLocked(argv []string) string {
	cause := "MANAGER_REQUEST"
	if len(argv) > 0 && knownCause(argv[0]) {
		cause = strings.ToUpper(argv[0])
	}
	var name, val string
	if len(argv) > 2 {
		name, val = argv[1], argv[2]
	}
	for _, c := range s.liveSorted() {
		if c.cause != "" {
			continue
		}
		if name != "" {
			if v, _ := c.vars.get(name); v != val {
				continue
			}
		}
		disp := "send_bye"
		if c.origin != nil {
			disp = "send_cancel"
		}
		s.hangupLocked(c, cause, disp)
	}
	if name != "" {
		return fmt.Sprintf("+OK hangup all channels matching [%s]=[%s] with cause: %s\n", name, val, cause)
	}
	return "+OK hangup all channels with cause " + cause + "\n"
}

func (s *Server) liveSorted() []*channel {
	out := make([]*channel, 0, len(s.channels))
	for _, c := range s.channels {
		if !c.gone {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].serial < out[j].serial })
	return out
}

var channelColumns = []string{"uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
	"ip_addr", "dest", "application", "application_data", "dialplan", "context", "read_codec", "read_rate",
	"read_bit_rate", "write_codec", "write_rate", "write_bit_rate", "secure", "hostname", "presence_id",
	"presence_data", "accountcode", "callstate", "callee_name", "callee_num", "callee_direction", "call_uuid",
	"sent_callee_name", "sent_callee_num", "initial_cid_name", "initial_cid_num", "initial_ip_addr",
	"initial_dest", "initial_dialplan", "initial_context"}

var callColumns = []string{"uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
	"ip_addr", "dest", "presence_id", "presence_data", "accountcode", "callstate", "callee_name", "callee_num",
	"callee_direction", "call_uuid", "hostname", "sent_callee_name", "sent_callee_num", "b_uuid", "b_direction",
	"b_created", "b_created_epoch", "b_name", "b_state", "b_cid_name", "b_cid_num", "b_ip_addr", "b_dest",
	"b_presence_id", "b_presence_data", "b_accountcode", "b_callstate", "b_callee_name", "b_callee_num",
	"b_callee_direction", "b_sent_callee_name", "b_sent_callee_num", "call_created_epoch"}

// channelRow is a row of FreeSWITCH's channels table.
func (s *Server) channelRow(c *channel) map[string]string {
	app, data := "", ""
	if c.cur != nil {
		app, data = c.cur.app, c.cur.arg
	} else if c.top != nil {
		app, data = c.top.app, c.top.arg
	}
	codec, rate, bits := "", "", ""
	if c.hasCodec {
		codec, rate, bits = "PCMU", "8000", "64000"
	}
	callUUID := ""
	if c.bridge != nil {
		callUUID = c.callUUID
		if c.bridgeA {
			callUUID = c.uuid
		}
	}
	dialplan := c.prof.dialplan
	if c.direction == "outbound" && dialplan == "" {
		dialplan = "XML"
	}
	return map[string]string{
		"uuid": c.uuid, "direction": c.direction,
		"created":       c.createdAt.In(s.opts.Location).Format(dateLocal),
		"created_epoch": strconv.FormatInt(c.createdAt.Unix(), 10),
		"name":          c.name, "state": c.state, "cid_name": c.prof.cidName, "cid_num": c.prof.cidNum,
		"ip_addr": c.prof.networkAddr, "dest": c.prof.dest, "application": app, "application_data": data,
		"dialplan": dialplan, "context": c.prof.context, "read_codec": codec, "read_rate": rate,
		"read_bit_rate": bits, "write_codec": codec, "write_rate": rate, "write_bit_rate": bits,
		"hostname": s.opts.Hostname, "callstate": c.callState,
		"callee_name": c.prof.calleeName, "callee_num": c.prof.calleeNum, "call_uuid": callUUID,
		"initial_cid_name": c.prof.origCidName, "initial_cid_num": c.prof.origCidNum,
		"initial_ip_addr": c.prof.networkAddr, "initial_dest": c.prof.dest,
		"initial_dialplan": dialplan, "initial_context": c.prof.context,
	}
}

// showLocked is `show channels|calls [as json|count]`.
func (s *Server) showLocked(argv []string) string {
	if len(argv) == 0 {
		return "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n"
	}
	what := argv[0]
	asJSON := len(argv) >= 3 && argv[1] == "as" && argv[2] == "json"
	count := len(argv) >= 2 && argv[1] == "count"
	var cols []string
	var rows []map[string]string
	switch what {
	case "channels":
		cols = channelColumns
		for _, c := range s.liveSorted() {
			rows = append(rows, s.channelRow(c))
		}
	case "calls":
		cols = callColumns
		for _, c := range s.liveSorted() {
			if c.bridge != nil && !c.bridgeA {
				continue
			}
			r := s.channelRow(c)
			row := map[string]string{}
			for _, k := range callColumns {
				row[k] = r[k]
			}
			if b := c.bridge; b != nil {
				br := s.channelRow(b)
				for _, k := range callColumns {
					if bk, ok := strings.CutPrefix(k, "b_"); ok {
						row[k] = br[bk]
					}
				}
				row["call_created_epoch"] = strconv.FormatInt(time.UnixMicro(c.prof.bridged).Unix(), 10)
			}
			rows = append(rows, row)
		}
	default:
		return "-ERR Cannot find table " + what + "\n"
	}
	if count {
		return fmt.Sprintf("\n%d total.\n", len(rows))
	}
	if asJSON {
		if len(rows) == 0 {
			return "{\"row_count\": 0}\n"
		}
		b := []byte(`{"row_count":` + strconv.Itoa(len(rows)) + `,"rows":[`)
		for i, r := range rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			for j, k := range cols {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, k)
				b = append(b, ':')
				b = appendJSONString(b, r[k])
			}
			b = append(b, '}')
		}
		return string(append(b, "]}"...))
	}
	if len(rows) == 0 {
		return "\n0 total.\n"
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, ",") + "\n")
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, k := range cols {
			vals[i] = r[k]
		}
		b.WriteString(strings.Join(vals, ",") + "\n")
	}
	fmt.Fprintf(&b, "\n%d total.\n", len(rows))
	return b.String()
}

const sofiaLine = "================================================================================================="

func (s *Server) profileURL(name string) string {
	port := 5060
	for i, p := range s.opts.Profiles {
		if p == name {
			port = 5060 + 20*i
		}
	}
	return "sip:mod_sofia@" + s.opts.IPv4 + ":" + strconv.Itoa(port)
}

func (s *Server) gatewayProfile() string {
	for _, p := range s.opts.Profiles {
		if p == "external" {
			return p
		}
	}
	return s.opts.Profiles[0]
}

// sofiaLocked is `sofia status ...`: profiles and gateways, one profile's
// registrations (device presence), one gateway.
func (s *Server) sofiaLocked(argv []string) string {
	if len(argv) == 0 || argv[0] != "status" {
		return "-ERR Usage: sofia status|xmlstatus ...\n"
	}
	argv = argv[1:]
	var b strings.Builder
	if len(argv) == 0 {
		fmt.Fprintf(&b, "%25s\t%s\t  %40s\t%s\n", "Name", "   Type", "Data", "State")
		b.WriteString(sofiaLine + "\n")
		for _, p := range s.opts.Profiles {
			fmt.Fprintf(&b, "%25s\t%s\t  %40s\t%s (%d)\n", p, "profile", s.profileURL(p), "RUNNING", 0)
			if p == s.gatewayProfile() {
				for _, g := range s.opts.Gateways {
					fmt.Fprintf(&b, "%25s\t%s\t  %40s\t%s\n", p+"::"+g, "gateway", "sip:"+g, "NOREG")
				}
			}
		}
		b.WriteString(sofiaLine + "\n")
		n := len(s.opts.Profiles)
		plural := "s"
		if n == 1 {
			plural = ""
		}
		fmt.Fprintf(&b, "%d profile%s 0 aliases\n", n, plural)
		return b.String()
	}
	switch argv[0] {
	case "gateway":
		if len(argv) < 2 || !s.gatewayKnown(argv[1]) {
			return "Invalid Gateway!\n"
		}
		g := argv[1]
		b.WriteString(sofiaLine + "\n")
		for _, kv := range [][2]string{{"Name    ", g}, {"Profile ", s.gatewayProfile()}, {"Scheme  ", "Digest"},
			{"Realm   ", g}, {"Username", g}, {"Password", "no"}, {"From    ", "<sip:" + g + "@" + g + ">"},
			{"Contact ", "<sip:gw+" + g + "@" + s.opts.IPv4 + ":5080>"}, {"Exten   ", g}, {"To      ", "sip:" + g},
			{"Proxy   ", "sip:" + g}, {"Context ", "public"}, {"Expires ", "3600"}, {"Freq    ", "3600"},
			{"Ping    ", "0"}, {"PingFreq", "0"}, {"PingTime", "0.00"}, {"PingState", "0/0/0"},
			{"State   ", "NOREG"}, {"Status  ", "UP"}, {"Uptime  ", "0s"}, {"CallsIN ", "0"}, {"CallsOUT", "0"},
			{"FailedCallsIN", "0"}, {"FailedCallsOUT", "0"}} {
			b.WriteString(kv[0] + "\t" + kv[1] + "\n")
		}
		b.WriteString(sofiaLine + "\n")
		return b.String()
	case "profile":
		if len(argv) < 2 || !s.profileKnown(argv[1]) {
			return "Invalid Profile!\n"
		}
		p := argv[1]
		sub := second(argv[1:])
		if sub != "reg" && sub != "user" {
			b.WriteString(sofiaLine + "\n")
			for _, kv := range [][2]string{{"Name             ", p}, {"Domain Name      ", "N/A"},
				{"Auto-NAT         ", "false"}, {"DBName           ", "sofia_reg_" + p}, {"Pres Hosts       ", s.opts.Domain},
				{"Dialplan         ", "XML"}, {"Context          ", "public"}, {"Challenge Realm  ", "auto_from"},
				{"RTP-IP           ", s.opts.IPv4}, {"SIP-IP           ", s.opts.IPv4}, {"URL              ", s.profileURL(p)},
				{"BIND-URL         ", s.profileURL(p) + ";maddr=" + s.opts.IPv4}, {"HOLD-MUSIC       ", "local_stream://moh"},
				{"OUTBOUND-PROXY   ", "N/A"}, {"CODECS IN        ", "PCMU,PCMA"}, {"CODECS OUT       ", "PCMU,PCMA"},
				{"TEL-EVENT        ", "101"}, {"DTMF-MODE        ", "rfc2833"}, {"CNG              ", "13"},
				{"SESSION-TO       ", "0"}, {"MAX-DIALOG       ", "1000"}, {"NOMEDIA          ", "false"},
				{"LATE-NEG         ", "true"}, {"PROXY-MEDIA      ", "false"}, {"ZRTP-PASSTHRU    ", "false"},
				{"AGGRESSIVENAT    ", "false"}, {"CALLS-IN         ", "0"}, {"FAILED-CALLS-IN  ", "0"},
				{"CALLS-OUT        ", "0"}, {"FAILED-CALLS-OUT ", "0"},
				{"REGISTRATIONS    ", strconv.Itoa(len(s.registeredOn(p, "")))}} {
				b.WriteString(kv[0] + "\t" + kv[1] + "\n")
			}
			b.WriteString(sofiaLine + "\n")
			return b.String()
		}
		filter := ""
		if len(argv) > 3 {
			filter = argv[3]
		}
		users := s.registeredOn(p, "")
		b.WriteString("\nRegistrations:\n" + sofiaLine + "\n")
		n := 0
		exp := time.Now().Add(time.Hour).In(s.opts.Location).Format(dateLocal)
		for _, u := range users {
			contact := fmt.Sprintf(`"%s" <sip:%s@%s>`, u, u, s.userContact(u))
			if sub == "reg" && filter != "" && !strings.Contains(contact, filter) {
				continue
			}
			if sub == "user" && filter != "" && userPart(filter) != u {
				continue
			}
			n++
			fmt.Fprintf(&b, "Call-ID:    \t%s\nUser:       \t%s@%s\nContact:    \t%s\nAgent:      \t%s\n"+
				"Status:     \t%s(%s) EXP(%s) EXPSECS(%d)\nPing-Status:\t%s\nHost:       \t%s\nIP:         \t%s\n"+
				"Port:       \t%s\nAuth-User:  \t%s\nAuth-Realm: \t%s\nMWI-Account:\t%s@%s\n\n",
				"reg-"+u+"@"+s.opts.Domain, u, s.opts.Domain, contact, "esltest", "Registered(UDP)", "unknown", exp, 3599,
				"Reachable", s.opts.Hostname, "127.0.0.1", "5060", u, s.opts.Domain, u, s.opts.Domain)
		}
		fmt.Fprintf(&b, "Total items returned: %d\n%s\n", n, sofiaLine)
		return b.String()
	}
	return "Invalid Syntax!\n"
}

// registeredOn lists the registered users of profile p, sorted.
func (s *Server) registeredOn(p, _ string) []string {
	if p != s.opts.Profile {
		return nil
	}
	var out []string
	for u, reg := range s.users {
		if reg {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

// dumpLocked is uuid_dump: the channel data, plain (not url-encoded) or
// json.
func (s *Server) dumpLocked(c *channel, format string) string {
	e := s.fullEventLocked("CHANNEL_DATA")
	s.seq-- // built for the dump, never fired
	s.addChannelData(e, c)
	if format == "json" {
		return string(e.jsonFrame()[len(wrapEvent("json", "")):])
	}
	var b strings.Builder
	for _, h := range e.headers {
		b.WriteString(h.Name + ": " + h.Value + "\n")
	}
	b.WriteByte('\n')
	return b.String()
}

// schedAPILocked runs `sched_api +<seconds> <group> <command> [args]`:
// the command runs as an api command after that many seconds, unless
// sched_del removes its group first. (Absolute @times are not emulated.)
func (s *Server) schedAPILocked(arg string) string {
	parts := strings.SplitN(strings.TrimSpace(arg), " ", 3)
	if len(parts) < 3 || !strings.HasPrefix(parts[0], "+") {
		return "-ERR Invalid syntax\n"
	}
	secs, err := strconv.Atoi(parts[0][1:])
	if err != nil || secs < 0 {
		return "-ERR Invalid syntax\n"
	}
	group, cmd := parts[1], parts[2]
	name, rest, _ := strings.Cut(cmd, " ")
	s.schedID++
	id := s.schedID
	s.sched[group] = append(s.sched[group], time.AfterFunc(time.Duration(secs)*time.Second, func() {
		s.api(s.ctx, name, rest, nil, nil)
	}))
	return fmt.Sprintf("+OK Added: %d\n", id)
}

// schedDelLocked cancels a group's scheduled tasks, or every task for "",
// and says how many.
func (s *Server) schedDelLocked(group string) int {
	n := 0
	for g, timers := range s.sched {
		if group != "" && g != group {
			continue
		}
		for _, t := range timers {
			if t.Stop() {
				n++
			}
		}
		delete(s.sched, g)
	}
	return n
}

// eavesdropTalk is who an eavesdropper talks to after each key.
var eavesdropTalk = map[rune]string{'0': "none", '1': "other", '2': "target", '3': "both"}
