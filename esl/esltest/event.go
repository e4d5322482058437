package esltest

import (
	"strconv"
	"strings"
	"sync"
)

// event is one FreeSWITCH event: an ordered header list (duplicates allowed,
// CHANNEL_HANGUP_COMPLETE carries Hangup-Cause twice) and an optional body.
// Its headers are fixed once it is emitted; the wire forms are built lazily,
// once per format, and shared by every connection that receives it.
type event struct {
	dead     bool // nobody listens: built for its sequence number only
	name     string
	subclass string
	uniqueID string // Unique-ID, for myevents filtering
	headers  []Header
	body     string
	hasBody  bool

	plainOnce sync.Once
	plain     []byte
	jsonOnce  sync.Once
	json      []byte
	xmlOnce   sync.Once
	xml       []byte
}

func (e *event) add(name, value string) {
	if !e.dead {
		e.headers = append(e.headers, Header{name, value})
	}
}

// get returns the first header called name (without case, like
// switch_event_get_header).
func (e *event) get(name string) (string, bool) {
	for _, h := range e.headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// plainFrame is the text/event-plain frame: the outer Content-Length comes
// first, values are percent-encoded, names are not, and a body is announced
// by a Content-Length header at the end of the event block.
func (e *event) plainFrame() []byte {
	e.plainOnce.Do(func() {
		var b strings.Builder
		b.Grow(64 * len(e.headers))
		for _, h := range e.headers {
			b.WriteString(h.Name)
			b.WriteString(": ")
			b.WriteString(urlEncode(h.Value))
			b.WriteByte('\n')
		}
		if e.hasBody {
			b.WriteString("Content-Length: ")
			b.WriteString(strconv.Itoa(len(e.body)))
			b.WriteString("\n\n")
			b.WriteString(e.body)
		} else {
			b.WriteByte('\n')
		}
		e.plain = wrapEvent("plain", b.String())
	})
	return e.plain
}

// jsonFrame is the text/event-json frame: one line of compact JSON, values
// as strings except ARRAY:: variables, duplicate keys kept, body as
// "Content-Length" and "_body".
func (e *event) jsonFrame() []byte {
	e.jsonOnce.Do(func() {
		b := make([]byte, 0, 80*len(e.headers))
		b = append(b, '{')
		for i, h := range e.headers {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, h.Name)
			b = append(b, ':')
			if items, ok := strings.CutPrefix(h.Value, "ARRAY::"); ok {
				b = append(b, '[')
				for j, it := range strings.Split(items, "|:") {
					if j > 0 {
						b = append(b, ',')
					}
					b = appendJSONString(b, it)
				}
				b = append(b, ']')
				continue
			}
			b = appendJSONString(b, h.Value)
		}
		if e.hasBody {
			b = append(b, `,"Content-Length":`...)
			b = appendJSONString(b, strconv.Itoa(len(e.body)))
			b = append(b, `,"_body":`...)
			b = appendJSONString(b, e.body)
		}
		b = append(b, '}')
		e.json = wrapEvent("json", string(b))
	})
	return e.json
}

// xmlFrame is text/event-xml as switch_event_xmlize writes it. No recording
// shows it; it is here so a client asking for xml gets well-formed events.
func (e *event) xmlFrame() []byte {
	e.xmlOnce.Do(func() {
		var b strings.Builder
		b.WriteString("<event>\n  <headers>\n")
		for _, h := range e.headers {
			b.WriteString("    <" + h.Name + ">" + urlEncode(h.Value) + "</" + h.Name + ">\n")
		}
		b.WriteString("  </headers>\n")
		if e.hasBody {
			b.WriteString("  <Content-Length>" + strconv.Itoa(len(e.body)) + "</Content-Length>\n")
			b.WriteString("  <body>" + xmlEscape(e.body) + "</body>\n")
		}
		b.WriteString("</event>")
		e.xml = wrapEvent("xml", b.String())
	})
	return e.xml
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func wrapEvent(kind, body string) []byte {
	return []byte("Content-Length: " + strconv.Itoa(len(body)) + "\nContent-Type: text/event-" + kind + "\n\n" + body)
}

// callSite is the Event-Calling-* triple FreeSWITCH stamps on an event; the
// values are the ones recorded on 1.10.12.
type callSite struct {
	file, fn string
	line     int
}

var callSites = map[string]callSite{
	"BACKGROUND_JOB":           {"mod_event_socket.c", "api_exec", 1572},
	"CHANNEL_ANSWER":           {"switch_channel.c", "switch_channel_perform_mark_answered", 3846},
	"CHANNEL_BRIDGE":           {"switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689},
	"CHANNEL_CREATE":           {"switch_core_state_machine.c", "switch_core_session_run", 626},
	"CHANNEL_DESTROY":          {"switch_core_session.c", "switch_core_session_perform_destroy", 1584},
	"CHANNEL_EXECUTE":          {"switch_core_session.c", "switch_core_session_exec", 2944},
	"CHANNEL_EXECUTE_COMPLETE": {"switch_core_session.c", "switch_core_session_exec", 2967},
	"CHANNEL_HANGUP":           {"switch_channel.c", "switch_channel_perform_hangup", 3445},
	"CHANNEL_HANGUP_COMPLETE":  {"switch_core_state_machine.c", "switch_core_session_reporting_state", 943},
	"CHANNEL_HOLD":             {"switch_ivr.c", "switch_ivr_hold", 1558},
	"CHANNEL_UNHOLD":           {"switch_ivr.c", "switch_ivr_unhold", 1638},
	"CHANNEL_ORIGINATE":        {"switch_core_state_machine.c", "switch_core_session_run", 632},
	"CHANNEL_OUTGOING":         {"switch_core_session.c", "switch_core_session_outgoing_channel", 768},
	"CHANNEL_PARK":             {"switch_ivr.c", "switch_ivr_park", 1002},
	"CHANNEL_UNPARK":           {"switch_ivr.c", "switch_ivr_park", 1213},
	"CHANNEL_PROGRESS":         {"switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3505},
	"CHANNEL_PROGRESS_MEDIA":   {"switch_channel.c", "switch_channel_perform_mark_pre_answered", 3640},
	"CHANNEL_STATE":            {"switch_channel.c", "switch_channel_perform_set_running_state", 2408},
	"CHANNEL_CALLSTATE":        {"switch_channel.c", "switch_channel_perform_set_callstate", 311},
	"CHANNEL_UNBRIDGE":         {"switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879},
	"CHANNEL_DATA":             {"mod_event_socket.c", "parse_command", 2021},
	"DTMF":                     {"switch_channel.c", "switch_channel_dequeue_dtmf", 677},
	"PLAYBACK_START":           {"switch_ivr_play_say.c", "switch_ivr_play_file", 1646},
	"PLAYBACK_STOP":            {"switch_ivr_play_say.c", "switch_ivr_play_file", 2020},
	"RECORD_START":             {"switch_ivr_async.c", "record_callback", 1481},
	"RECORD_STOP":              {"switch_ivr_async.c", "send_record_stop_event", 1240},
	"HEARTBEAT":                {"switch_core.c", "send_heartbeat", 93},
	"CUSTOM":                   {"sofia_reg.c", "sofia_reg_handle_register_token", 2054},
}

// eventTypes are the names `event` accepts (switch_event_name's table, the
// ones a controller may plausibly ask for). Unknown names are ignored, as
// FreeSWITCH does.
var eventTypes = map[string]bool{
	"CUSTOM": true, "CLONE": true, "CHANNEL_CREATE": true, "CHANNEL_DESTROY": true, "CHANNEL_STATE": true,
	"CHANNEL_CALLSTATE": true, "CHANNEL_ANSWER": true, "CHANNEL_HANGUP": true, "CHANNEL_HANGUP_COMPLETE": true,
	"CHANNEL_EXECUTE": true, "CHANNEL_EXECUTE_COMPLETE": true, "CHANNEL_HOLD": true, "CHANNEL_UNHOLD": true,
	"CHANNEL_BRIDGE": true, "CHANNEL_UNBRIDGE": true, "CHANNEL_PROGRESS": true, "CHANNEL_PROGRESS_MEDIA": true,
	"CHANNEL_OUTGOING": true, "CHANNEL_PARK": true, "CHANNEL_UNPARK": true, "CHANNEL_APPLICATION": true,
	"CHANNEL_ORIGINATE": true, "CHANNEL_UUID": true, "API": true, "LOG": true, "INBOUND_CHAN": true,
	"OUTBOUND_CHAN": true, "STARTUP": true, "SHUTDOWN": true, "PUBLISH": true, "UNPUBLISH": true, "TALK": true,
	"NOTALK": true, "SESSION_CRASH": true, "MODULE_LOAD": true, "MODULE_UNLOAD": true, "DTMF": true,
	"MESSAGE": true, "PRESENCE_IN": true, "NOTIFY_IN": true, "PRESENCE_OUT": true, "PRESENCE_PROBE": true,
	"MESSAGE_WAITING": true, "MESSAGE_QUERY": true, "ROSTER": true, "CODEC": true, "BACKGROUND_JOB": true,
	"DETECTED_SPEECH": true, "DETECTED_TONE": true, "PRIVATE_COMMAND": true, "HEARTBEAT": true, "TRAP": true,
	"ADD_SCHEDULE": true, "DEL_SCHEDULE": true, "EXE_SCHEDULE": true, "RE_SCHEDULE": true, "RELOADXML": true,
	"NOTIFY": true, "PHONE_FEATURE": true, "PHONE_FEATURE_SUBSCRIBE": true, "SEND_MESSAGE": true,
	"RECV_MESSAGE": true, "REQUEST_PARAMS": true, "CHANNEL_DATA": true, "GENERAL": true, "COMMAND": true,
	"SESSION_HEARTBEAT": true, "CLIENT_DISCONNECTED": true, "SERVER_DISCONNECTED": true, "SEND_INFO": true,
	"RECV_INFO": true, "RECV_RTCP_MESSAGE": true, "SEND_RTCP_MESSAGE": true, "CALL_SECURE": true, "NAT": true,
	"RECORD_START": true, "RECORD_STOP": true, "PLAYBACK_START": true, "PLAYBACK_STOP": true,
	"CALL_UPDATE": true, "FAILURE": true, "SOCKET_DATA": true, "MEDIA_BUG_START": true, "MEDIA_BUG_STOP": true,
	"CONFERENCE_DATA_QUERY": true, "CONFERENCE_DATA": true, "CALL_SETUP_REQ": true, "CALL_SETUP_RESULT": true,
	"CALL_DETAIL": true, "DEVICE_STATE": true, "TEXT": true, "SHUTDOWN_REQUESTED": true, "ALL": true,
}

// myEventsTypes is the fixed set `myevents` subscribes to (parse_command in
// mod_event_socket.c). PLAYBACK_* and RECORD_* are not in it, as 07 and 09
// show.
var myEventsTypes = []string{
	"CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE", "CHANNEL_DATA",
	"CHANNEL_DESTROY", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP",
	"CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_OUTGOING", "CHANNEL_PARK",
	"CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_STATE", "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK",
	"DETECTED_SPEECH", "DTMF", "NOTALK", "TALK",
}

// dateLocal and dateGMT are the layouts of Event-Date-Local and
// Event-Date-GMT.
const (
	dateLocal = "2006-01-02 15:04:05"
	dateGMT   = "Mon, 02 Jan 2006 15:04:05 GMT"
)
