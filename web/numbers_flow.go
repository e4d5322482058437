package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dialplan"
)

// The number's settings form read into the API's body, its call flow laid
// out for drawing, and "Try a call".

// settingsFromForm reads the settings form into the body of PUT
// /v1/numbers/:id and the draft the form shows again if the API refuses
// it. Rows left empty are no entry; a ring step's order is its "position"
// input, so steps are reordered without script.
func settingsFromForm(r *http.Request, saved numberView) (map[string]any, numberView) {
	f := r.PostForm
	d := saved
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	on := func(k string) bool { return f.Get(k) == "on" }
	d.Name = get("name")
	d.Type = dialplan.NumberType(get("type"))
	d.AvailabilityStatus = dialplan.LineStatus(get("availability_status"))
	d.TimeZone = get("time_zone")
	d.Voicemail, d.MusicOnHold, d.CallbackRequest = on("voicemail"), on("music_on_hold"), on("callback_request")
	d.MandatoryTagging, d.RespectQueuingTime = on("mandatory_tagging"), on("respect_queuing_time")
	d.Recording = dialplan.Recording{
		Inbound:  dialplan.RecordingPolicy{Auto: on("recording_inbound_auto"), AllowPause: on("recording_inbound_pause")},
		Outbound: dialplan.RecordingPolicy{Auto: on("recording_outbound_auto"), AllowPause: on("recording_outbound_pause")},
	}
	body := map[string]any{}
	// A number the browser let through that is not one goes to the API
	// as typed, so that the refusal is the API's.
	for name, dst := range map[string]*int{"priority": &d.Priority, "max_call_seconds": &d.MaxCallSeconds, "sla_seconds": &d.SLASeconds} {
		raw := get(name)
		if n, err := strconv.Atoi(raw); err == nil {
			*dst, body[name] = n, n
		} else {
			body[name] = raw
		}
	}
	count := func(k string) int { n, _ := strconv.Atoi(f.Get(k)); return min(max(n, 0), 100) }

	d.BusinessHours = dialplan.BusinessHours{Slots: slotsFromForm(f), SpecialDates: []dialplan.SpecialDate{}}
	for i := range count("special_dates") {
		p := fmt.Sprintf("sd_%d_", i)
		sd := dialplan.SpecialDate{FromDate: get(p + "from_date"), ToDate: get(p + "to_date"), Open: f.Get(p+"open") == "open",
			From: get(p + "from"), To: get(p + "to")}
		if sd.FromDate == "" && sd.ToDate == "" {
			continue
		}
		if sd.ToDate == "" {
			sd.ToDate = sd.FromDate // one day
		}
		d.BusinessHours.SpecialDates = append(d.BusinessHours.SpecialDates, sd)
	}

	if f.Has("steps") {
		type ordered struct {
			step  dialplan.Step
			order int
		}
		var steps []ordered
		for i := range count("steps") {
			p := fmt.Sprintf("step_%d_", i)
			kind, id, ok := strings.Cut(get(p+"target"), ":")
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(id, 10, 64)
			secs, _ := strconv.Atoi(get(p + "ring"))
			order, err := strconv.Atoi(get(p + "order"))
			if err != nil {
				order = i + 1
			}
			steps = append(steps, ordered{dialplan.Step{Type: dialplan.StepType(kind), ID: n, RingSeconds: secs}, order})
		}
		slices.SortStableFunc(steps, func(a, b ordered) int { return a.order - b.order })
		d.Distribution = []dialplan.Step{}
		for _, s := range steps {
			d.Distribution = append(d.Distribution, s.step)
		}
	}
	if d.Type == dialplan.IVR && f.Has("options") {
		d.IVROptions = []dialplan.IVROption{}
		for i := range count("options") {
			p := fmt.Sprintf("ivr_%d_", i)
			key, target := get(p+"key"), get(p+"target")
			if key == "" && target == "" {
				continue
			}
			o := dialplan.IVROption{Key: key}
			kind, id, _ := strings.Cut(target, ":")
			o.Target.Type = dialplan.TargetType(kind)
			o.Target.ID, _ = strconv.ParseInt(id, 10, 64)
			if o.Target.Type == dialplan.TargetExternal {
				o.Target.Digits = get(p + "digits")
			}
			d.IVROptions = append(d.IVROptions, o)
		}
	} else if d.Type != dialplan.IVR {
		d.IVROptions = []dialplan.IVROption{} // only an IVR has a menu
	}

	if f.Has("outbound") {
		d.OutboundUsers = []dialplan.UserID{}
		for _, raw := range f["outbound_user"] {
			if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
				d.OutboundUsers = append(d.OutboundUsers, dialplan.UserID(id))
			}
		}
		d.OutboundPrefix = get("outbound_prefix")
	}

	d.Messages = dialplan.Messages{}
	for _, kind := range dialplan.MessageKinds {
		p := "msg_" + string(kind) + "_"
		switch dialplan.MessageType(f.Get(p + "type")) {
		case dialplan.MessageTTS:
			d.Messages[kind] = &dialplan.Message{Type: dialplan.MessageTTS, Text: get(p + "text"), Language: get(p + "language"),
				Voice: saved.MessageVoice(kind)}
		case dialplan.MessageMedia:
			id, _ := strconv.ParseInt(get(p+"media"), 10, 64)
			d.Messages[kind] = &dialplan.Message{Type: dialplan.MessageMedia, MediaID: dialplan.MediaID(id)}
		}
	}

	for k, v := range map[string]any{"name": d.Name, "type": d.Type, "availability_status": d.AvailabilityStatus, "time_zone": d.TimeZone,
		"business_hours": d.BusinessHours, "distribution": d.Distribution, "ivr_options": d.IVROptions,
		// Every kind is written, those left out as null: the API then
		// removes them (a message set back to the default).
		"message_settings": d.Messages,
		"voicemail":        d.Voicemail, "music_on_hold": d.MusicOnHold, "callback_request": d.CallbackRequest,
		"mandatory_tagging": d.MandatoryTagging, "respect_queuing_time": d.RespectQueuingTime, "recording": d.Recording,
		"outbound_users": d.OutboundUsers, "outbound_prefix": d.OutboundPrefix} {
		body[k] = v
	}
	return body, d
}

// MessageVoice keeps a message's voice, which the form does not show.
func (n numberView) MessageVoice(kind dialplan.MessageKind) string {
	if m := n.Messages[kind]; m != nil {
		return m.Voice
	}
	return ""
}

// --- Try a call ----------------------------------------------------------

// tryForm is the dry run's form: when (the person's time zone), from whom,
// which keys, who answers.
type tryForm struct {
	At, From, Digits, Answer string
	Errors                   map[string]string
	Error                    string
}

type tryJSON struct {
	Outcome          dialplan.Outcome       `json:"outcome"`
	MissedCallReason *string                `json:"missed_call_reason"`
	Open             bool                   `json:"open"`
	IVROption        *string                `json:"ivr_option"`
	AnsweredBy       *dialplan.UserID       `json:"answered_by"`
	MessagesPlayed   []dialplan.MessageKind `json:"messages_played"`
	Rung             []struct {
		UserID     dialplan.UserID `json:"user_id"`
		AtSeconds  int             `json:"at_seconds"`
		ForSeconds int             `json:"for_seconds"`
	} `json:"rung"`
}

// tryResult is the dry run's answer in the page's words.
type tryResult struct {
	tryJSON
	AnsweredName string
	Rings        []ringRow
}

type ringRow struct {
	Name            string
	AtSecs, ForSecs int
}

// tryLayout is how the dry run's time is typed: the day and the time of
// day, as a text (a browser's date-time picker is many stops for Tab).
const tryLayout = "2006-01-02 15:04"

func defaultTry(s *server, r *http.Request) tryForm {
	return tryForm{At: s.Now().In(visitOf(r).loc).Format(tryLayout), Errors: map[string]string{}}
}

func (s *server) tryCall(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, page, ok := loaded(s, w, r, s.loadNumberPage)
	if !ok {
		return
	}
	t := tryForm{At: strings.TrimSpace(r.PostFormValue("at")), From: strings.TrimSpace(r.PostFormValue("from")),
		Digits: strings.TrimSpace(r.PostFormValue("digits")), Answer: r.PostFormValue("answer"), Errors: map[string]string{}}
	page.Try = t
	in := map[string]any{"from": t.From, "digits": t.Digits}
	// The time is read in the person's zone; one the API cannot read goes
	// as typed, for the API's words.
	if at, err := time.ParseInLocation(tryLayout, strings.Replace(t.At, "T", " ", 1), v.loc); err == nil {
		in["at"] = at.Format(time.RFC3339)
	} else {
		in["at"] = t.At
	}
	if uid, err := strconv.ParseInt(t.Answer, 10, 64); err == nil && uid > 0 {
		// The one who answers is available, and picks up after 5 seconds.
		in["agents"] = map[string]string{t.Answer: "available"}
		in["answer"] = map[string]any{"user_id": uid, "after_seconds": 5}
	}
	var got tryJSON
	err := s.callAPI(r.Context(), r, http.MethodPost, fmt.Sprintf("/v1/numbers/%d/dry_run", id), in, &got)
	status := http.StatusOK
	switch apiErr := refused(err); {
	case apiErr != nil:
		status = apiErr.Status
		page.Try.Error = apiErr.Message()
		if f := apiErr.Field(); f != "" {
			if strings.HasPrefix(f, "answer") || strings.HasPrefix(f, "agents") {
				f = "answer"
			}
			page.Try.Errors[f] = apiErr.Message()
		}
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		res := &tryResult{tryJSON: got}
		names := userNames(page.Users)
		if got.AnsweredBy != nil {
			res.AnsweredName = names[*got.AnsweredBy]
		}
		for _, ring := range got.Rung {
			res.Rings = append(res.Rings, ringRow{Name: names[ring.UserID], AtSecs: ring.AtSeconds, ForSecs: ring.ForSeconds})
		}
		page.Result = res
	}
	if err := s.drawFlow(r, &page); err != nil {
		s.fail(w, r, err)
		return
	}
	if page.Result != nil {
		markPath(page.Flow, page.Number.Number, got, page.Teams)
	}
	s.render(w, r, status, "numbers_one", page)
}

func userNames(users []userRow) map[dialplan.UserID]string {
	out := map[dialplan.UserID]string{}
	for _, u := range users {
		out[u.ID] = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	return out
}

// markPath marks the nodes the dry run's call went through, read from its
// result: the check of blocked callers and of the hours, then the open
// branch (welcome, the menu and the key pressed, or the ring steps until
// the one that answered) or the closed one, then voicemail if it was
// reached.
func markPath(lanes []flowLane, n dialplan.Number, res tryJSON, teams []teamView) {
	on := map[string]bool{"blocked": true}
	played := func(k dialplan.MessageKind) bool { return slices.Contains(res.MessagesPlayed, k) }
	switch {
	case res.Outcome == dialplan.OutcomeBlocked:
		on["blocked_message"] = true
	case !res.Open:
		on["hours"], on["after_hours"] = true, true
	default:
		on["hours"], on["welcome"] = true, true
		if n.Type == dialplan.IVR {
			on["menu"] = true
			if res.IVROption != nil {
				on["option_"+*res.IVROption] = true
			}
			break
		}
		for i, step := range n.Distribution {
			id := strconv.Itoa(i + 1)
			on["step_"+id] = true
			if played(dialplan.MsgWaiting) {
				on["queue_"+id] = true
			}
			if res.AnsweredBy != nil && stepHas(step, *res.AnsweredBy, teams) {
				break
			}
		}
		if res.Outcome == dialplan.OutcomeCallback {
			on["callback"] = true
		}
	}
	if res.Outcome == dialplan.OutcomeVoicemail || played(dialplan.MsgUnansweredCall) {
		on["voicemail"] = true
	}
	for li := range lanes {
		for i := range lanes[li].Items {
			lanes[li].Items[i].Visited = on[lanes[li].Items[i].ID]
		}
	}
}

func stepHas(s dialplan.Step, u dialplan.UserID, teams []teamView) bool {
	if s.Type == dialplan.StepUser {
		return dialplan.UserID(s.ID) == u
	}
	for _, t := range teams {
		if int64(t.ID) == s.ID {
			return slices.ContainsFunc(t.Users, func(m userRow) bool { return m.ID == u })
		}
	}
	return false
}

// --- The flow drawn ------------------------------------------------------

// flowLane is a column of the drawing: the checks every call meets, the
// open branch, the closed branch, the end.
type flowLane struct {
	Key   string // its heading, a catalog key
	Items []flowItem
}

// flowItem is one node of the flow as a card: what it does in words,
// and where each of its outcomes leads.
type flowItem struct {
	ID, Kind, Title, Detail string
	Listen                  dialplan.MessageKind // its message, when it has one of its own
	Outcomes                []flowEdge
	Option                  bool // a menu's branch: drawn under the menu
	Visited                 bool
}

type flowEdge struct {
	Label, To, ToTitle string
}

func layoutFlow(l lang, f dialplan.Flow, page *numberPage) []flowLane {
	t := func(key string, args ...any) string { return translate(l, key, args...) }
	n := page.Number.Number
	names := userNames(page.Users)
	teamName := map[int64]string{}
	for _, tm := range page.Teams {
		teamName[int64(tm.ID)] = tm.Name
	}
	numberName := map[int64]string{}
	for _, o := range page.Numbers {
		numberName[int64(o.ID)] = o.Name + " (" + o.Digits + ")"
	}
	mediaName := map[dialplan.MediaID]string{}
	for _, m := range page.Media {
		mediaName[m.ID] = m.Name
	}
	message := func(kind dialplan.MessageKind) string {
		m := n.Messages[kind]
		switch {
		case m == nil:
			return t("flow.msg.default")
		case m.Type == dialplan.MessageMedia:
			return t("flow.msg.media", cmpOr(mediaName[m.MediaID], strconv.FormatInt(int64(m.MediaID), 10)))
		}
		text := m.Text
		if r := []rune(text); len(r) > 90 {
			text = string(r[:90]) + "…"
		}
		return "« " + text + " »"
	}
	target := func(tg dialplan.Target) string {
		switch tg.Type {
		case dialplan.TargetTeam:
			return t("flow.target.team", cmpOr(teamName[tg.ID], strconv.FormatInt(tg.ID, 10)))
		case dialplan.TargetUser:
			return t("flow.target.user", cmpOr(names[dialplan.UserID(tg.ID)], strconv.FormatInt(tg.ID, 10)))
		case dialplan.TargetNumber:
			return t("flow.target.number", cmpOr(numberName[tg.ID], strconv.FormatInt(tg.ID, 10)))
		case dialplan.TargetExternal:
			return t("flow.target.external", tg.Digits)
		}
		return t("flow.target.voicemail")
	}
	items := map[string]*flowItem{}
	var order []*flowItem
	for _, node := range f.Nodes {
		it := &flowItem{ID: node.ID, Kind: node.Kind}
		switch node.Kind {
		case "check_blocked":
			it.Title = t("flow.blocked")
		case "business_hours":
			it.Title = t("flow.hours")
			it.Detail = hoursSummary(l, n)
		case "message":
			it.Title = t("flow.msg." + string(node.Message))
			it.Detail = message(node.Message)
		case "menu":
			it.Title = t("flow.menu")
			it.Detail = message(dialplan.MsgIVR)
		case "queue":
			it.Title = t("flow.queue")
			it.Detail = message(dialplan.MsgWaiting)
		case "callback_request":
			it.Title = t("flow.callback")
			it.Detail = message(dialplan.MsgCallbackLater)
		case "voicemail":
			it.Title = t("flow.voicemail")
			it.Detail = message(dialplan.MsgUnansweredCall)
		case "hangup":
			it.Title = t("flow.hangup")
		case "forward", "transfer":
			it.Title = target(*node.Target)
		case "ring_user", "ring_team":
			if node.Step != nil {
				who := names[dialplan.UserID(node.Step.ID)]
				if node.Step.Type == dialplan.StepTeam {
					who = teamName[node.Step.ID]
				}
				it.Title = t("flow.rings", cmpOr(who, strconv.FormatInt(node.Step.ID, 10)))
				it.Detail = t("flow.seconds", node.Step.RingSeconds)
			} else if node.Target != nil {
				it.Title = target(*node.Target)
			}
		default:
			it.Title = node.Kind
		}
		if node.Message != "" && n.Messages[node.Message] != nil {
			it.Listen = node.Message
		}
		if key, ok := strings.CutPrefix(node.ID, "option_"); ok {
			it.Option = true
			it.Title = t("flow.key", key) + " — " + it.Title
		}
		items[node.ID] = it
		order = append(order, it)
	}
	for _, node := range f.Nodes {
		it := items[node.ID]
		outs := make([]string, 0, len(node.Next))
		for o := range node.Next {
			outs = append(outs, o)
		}
		slices.SortFunc(outs, outcomeOrder)
		for _, o := range outs {
			e := flowEdge{Label: outcomeLabel(l, o), To: node.Next[o]}
			if e.To == "" {
				e.ToTitle = t("flow.end")
			} else if to := items[e.To]; to != nil {
				e.ToTitle = to.Title
			}
			it.Outcomes = append(it.Outcomes, e)
		}
	}
	lanes := []flowLane{{Key: "flow.lane.entry"}, {Key: "flow.lane.open"}, {Key: "flow.lane.closed"}, {Key: "flow.lane.end"}}
	for _, it := range order {
		lane := 1
		switch it.ID {
		case "blocked", "blocked_message", "hours":
			lane = 0
		case "after_hours":
			lane = 2
		case "voicemail":
			lane = 3
		}
		lanes[lane].Items = append(lanes[lane].Items, *it)
	}
	return slices.DeleteFunc(lanes, func(l flowLane) bool { return len(l.Items) == 0 })
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// outcomeOrder lists a node's outcomes as a call meets them: the good
// one first, then keys in order.
func outcomeOrder(a, b string) int {
	rank := func(o string) string {
		for i, first := range []string{"allowed", "open", "answered", "done", "no_answer", "nobody_free", "timeout", "*", "no_choice", "closed", "blocked"} {
			if o == first {
				return fmt.Sprintf("%02d", i)
			}
		}
		return "50" + o // keys
	}
	return strings.Compare(rank(a), rank(b))
}

func outcomeLabel(l lang, o string) string {
	switch {
	case len(o) == 1 && o >= "0" && o <= "9":
		return translate(l, "flow.out.key", o)
	case o == "*":
		return translate(l, "flow.out.star")
	}
	return translate(l, "flow.out."+o)
}

// hoursSummary says a number's opening in words: always open or closed,
// or its slots ("mon, tue 09:00–18:00") and how many special dates.
func hoursSummary(l lang, n dialplan.Number) string {
	switch n.AvailabilityStatus {
	case dialplan.AlwaysOpen:
		return translate(l, "hours.open")
	case dialplan.AlwaysClosed:
		return translate(l, "hours.closed")
	}
	var parts []string
	for _, s := range n.BusinessHours.Slots {
		days := make([]string, len(s.Days))
		for i, d := range s.Days {
			days[i] = translate(l, "day."+d)
		}
		parts = append(parts, strings.Join(days, ", ")+" "+s.From+"–"+s.To)
	}
	if len(parts) == 0 {
		parts = append(parts, translate(l, "hours.none"))
	}
	out := strings.Join(parts, "; ")
	if k := len(n.BusinessHours.SpecialDates); k > 0 {
		out += " · " + translate(l, "hours.special.count", k)
	}
	return out + " (" + n.TimeZone + ")"
}
