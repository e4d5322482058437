package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchboard/switchboard/live"
)

// defineLiveSchemas writes the rows and figures of the live view
// (live.go, package live): output only.
func (b *openAPIBuilder) defineLiveSchemas() {
	count := func(desc string) *openapi3.Schema { return b.ro(b.integer(desc, 0, 1<<53)) }
	at := func(desc string) *openapi3.Schema { return b.ro(b.dateTime(desc + " RFC 3339.")) }
	atOrNull := func(desc string) *openapi3.Schema { return at(desc).WithNullable() }
	id := func(desc string) *openapi3.Schema { return b.ro(b.integer(desc, 0, 1<<53)) }
	ids := func(desc string) *openapi3.Schema {
		return b.ro(b.array(desc, b.integer("", 1, 1<<53).NewRef()))
	}
	statuses := func(desc string) *openapi3.Schema {
		s := openapi3.NewObjectSchema().WithoutAdditionalProperties()
		s.Description, s.ReadOnly = desc+" Every status, 0 included.", true
		for _, st := range live.Statuses {
			s.Properties[string(st)] = count("").NewRef()
			s.Required = append(s.Required, string(st))
		}
		return s
	}
	status := func(desc string) *openapi3.Schema {
		values := make([]string, len(live.Statuses))
		for i, s := range live.Statuses {
			values[i] = string(s)
		}
		return b.ro(b.enum(desc, values...))
	}

	b.define("LiveCall", b.object("A call on the live board: the data of a `call` message.",
		b.p("id", b.ro(b.id("The call's id (`GET /v1/calls/{id}`)."))),
		b.p("state", b.ro(b.enum("`waiting` for an agent (from its start, or from a transfer to a number, until "+
			"answered), `in_progress` (answered by an agent, or an external number it was forwarded to), or `ended`: it "+
			"left the board. With `ended_at` it ended; without, the caller no longer waits for an agent (`outcome`: "+
			"`blocked`, `closed` (the line is closed), `callback` (asked to be called back and hung up: the call comes "+
			"back `in_progress` when called back), `voicemail` (left a message), `refused`). An outbound call shows "+
			"once answered.", "waiting", "in_progress", "ended"))),
		b.p("direction", b.ro(b.enum("", "inbound", "outbound"))),
		b.p("number_id", id("Its number (0: none).")),
		b.p("number_name", b.ro(b.str("The number's name."))),
		b.p("team_id", id("The last team its ring steps reached (0: none yet).")),
		b.p("team_name", b.ro(b.str("That team's name."))),
		b.p("teams", ids("Every team its ring steps reached, in order.")),
		b.p("raw_digits", b.ro(b.str("The caller's number (E.164, or `anonymous`); an outbound call's destination."))),
		b.p("started_at", at("When the call started.")),
		b.p("waiting_since", atOrNull("While waiting: since when (the start, or the transfer to a number); else null.")),
		b.p("wait_seconds", count("Waiting: how long so far, when the message was sent; else how long the caller "+
			"waited for the answer (or before leaving the board).")),
		b.p("queued", b.ro(b.boolean("It went through a queue (all the agents of a step were busy)."))),
		b.p("ringing", ids("The agents whose phones ring for it now.")),
		b.p("held", b.ro(b.boolean("The caller is on hold."))),
		b.p("user_id", id("In progress: the agent talking (0 for an external number); ended: the last who answered.")),
		b.p("user_name", b.ro(b.str("That agent's name."))),
		b.p("forwarded_to", b.ro(b.str("In progress with an external number: its digits."))),
		b.p("answered_at", atOrNull("When first answered; null before.")),
		b.p("duration_seconds", count("In progress: since the answer, when the message was sent; ended: talk time.")),
		b.p("ended_at", atOrNull("When it ended; null before, and when it left the board without ending.")),
		b.p("outcome", b.ro(b.enum("Ended: `answered`, `missed`, `voicemail` (inbound), `answered`, `not_answered`, "+
			"`refused` (outbound); left without ending: why (see `state`). Empty before.", "", "answered", "missed",
			"voicemail", "not_answered", "refused", "blocked", "closed", "callback")))))
	b.define("LiveAgent", b.object("An agent on the live board: the data of an `agent` message. Their status is the "+
		"first that applies: `in_call` (a call they answered is in progress, with or without a phone registered), "+
		"`after_call_work` (`user.wut_start` until `user.wut_end`), `offline` (no phone registered: "+
		"`user.disconnected`), `do_not_disturb` (`user.closed`: unavailable, or outside their working hours), else "+
		"`available`.",
		b.p("user_id", b.ro(b.id("The user's id."))),
		b.p("name", b.ro(b.str("Their name."))),
		b.p("status", status("Their status.")),
		b.p("since", atOrNull("When they entered it, as far as the event stream tells; null when it never said.")),
		b.p("status_seconds", count("How long they have been in it, when the message was sent.")),
		b.p("call_id", id("In a call: which (0 otherwise).")),
		b.p("wrap_up_until", atOrNull("In after-call work: when it ends; null otherwise.")),
		b.p("teams", ids("The teams they are a member of.")),
		b.p("removed", b.ro(b.boolean("The user was deleted: the row goes."))),
	))
	b.define("LiveToday", b.object("The day's inbound calls (in the company's time zone), counted once decided: "+
		"answered, or ended unanswered. Blocked callers are left out.",
		b.p("date", b.ro(b.str("The day, YYYY-MM-DD.").WithPattern(openAPIDate))),
		b.p("inbound", count("Inbound calls decided.")),
		b.p("offered", count("Of them, offered to agents: neither out of opening hours nor short abandons (under 10 s), "+
			"as statistics count them.")),
		b.p("answered", count("Answered.")),
		b.p("answered_within_sla", count("Offered and answered within the service level (the number's `sla_seconds`, "+
			"else the company's).")),
		b.p("missed", count("Ended unanswered.")),
		b.p("voicemail", count("Of the missed, those with a voicemail.")),
		b.p("service_level", b.ro(b.described(openapi3.NewFloat64Schema().WithMin(0).WithMax(100).WithNullable(),
			"Answered within the service level, % of offered calls (one decimal); null when none was offered."))),
	))
	totals := func(more ...openAPIProp) []openAPIProp {
		return append(more,
			b.p("waiting", count("Calls waiting now.")),
			b.p("longest_wait_seconds", count("How long the caller waiting longest has waited, when the message was sent.")),
			b.p("oldest_waiting_since", atOrNull("Since when they wait (null: nobody waits): a wallboard counts the "+
				"longest wait on from it.")),
			b.p("in_progress", count("Calls in progress.")),
			b.pRef("today", b.ref("LiveToday")))
	}
	b.define("LiveCompanyTotals", b.object("The whole company's figures, whatever the filter.", totals(
		b.p("time_zone", b.ro(b.timeZone("The company's time zone: its day."))),
		b.p("sla_seconds", count("The company's service level, seconds.")),
		b.p("agents", statuses("Agents by status.")))...))
	b.define("LiveNumberTotals", b.object("A number's figures: its calls (number 0: calls without one).", totals(
		b.p("number_id", id("The number.")),
		b.p("name", b.ro(b.str("Its name."))),
		b.p("sla_seconds", count("Its service level (its own, else the company's), seconds.")))...))
	b.define("LiveTeamTotals", b.object("A team's figures: the calls whose last team it is (waiting, in progress), "+
		"those its ring steps reached (the day's), and its members by status.", totals(
		b.p("team_id", b.ro(b.id("The team."))),
		b.p("name", b.ro(b.str("Its name."))),
		b.p("agents", statuses("Its members by status.")))...))
	b.define("LiveSummary", b.object("The figures of the board: the data of a `summary` message.",
		b.pRef("company", b.ref("LiveCompanyTotals")),
		b.p("numbers", b.ro(b.array("The company's numbers (those of `number_id`, when given).", b.ref("LiveNumberTotals")))),
		b.p("teams", b.ro(b.array("The company's teams (those of `team_id`, when given).", b.ref("LiveTeamTotals"))))))
	b.define("LiveSnapshot", b.object("The whole board as the filter shows it: the data of a `snapshot` message.",
		b.p("cursor", b.ro(b.str("The place in the event stream it shows; as `Last-Event-ID` (or `last_event_id`), "+
			"a stream goes on from there."))),
		b.p("at", at("When it was taken.")),
		b.p("calls", b.ro(b.array("Calls waiting and in progress, oldest first.", b.ref("LiveCall")))),
		b.p("agents", b.ro(b.array("Agents, by id.", b.ref("LiveAgent")))),
		b.pRef("summary", b.ref("LiveSummary"))))
}

// liveParameters are the filters liveFilter reads.
func (b *openAPIBuilder) liveParameters() []*openapi3.Parameter {
	ids := func(name, desc string) *openapi3.Parameter {
		return openapi3.NewQueryParameter(name).WithDescription(desc + " Repeated, or ids separated by commas (at most 500); " +
			"anything else is a 422 naming it.").WithSchema(openapi3.NewStringSchema())
	}
	return []*openapi3.Parameter{
		ids("number_id", "Only the calls of these numbers, the agents they ring (users and teams of their ring steps "+
			"and IVR options), and these numbers' figures."),
		ids("team_id", "Only the calls these teams were rung for, their members, and these teams' figures. With "+
			"`number_id`, both must match."),
	}
}

// liveOperations are the routes of live.go.
func (b *openAPIBuilder) liveOperations() []openAPIOperation {
	const roles = "**Roles:** admin, supervisor, and any owner. Agents get 403."
	stream := append(b.liveParameters(),
		&openapi3.Parameter{In: openapi3.ParameterInHeader, Name: "Last-Event-ID",
			Description: "The last `id` received (EventSource sends it when it reconnects): the stream goes on after it. " +
				"Not an id this stream sends: 400 naming it.", Schema: openapi3.NewStringSchema().WithPattern(`^[0-9]+-[0-9]+$`).NewRef()},
		openapi3.NewQueryParameter("last_event_id").WithDescription("The same, for a client that keeps it itself; "+
			"the header wins.").WithSchema(openapi3.NewStringSchema().WithPattern(`^[0-9]+-[0-9]+$`)))
	errs := []int{http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusServiceUnavailable}
	return []openAPIOperation{
		{method: http.MethodGet, path: "/v1/live", id: "streamLive", tag: "live", summary: "Stream the live view",
			roles: roles, query: stream, errors: append(errs, http.StatusBadRequest), status: http.StatusOK,
			binary: "text/event-stream", resultDesc: "Server-sent events, until the client leaves.",
			details: "What a wallboard shows, as server-sent events: calls waiting and in progress, every agent's " +
				"status, and the day's figures, updated within about a second of each event (the board is a projection " +
				"of the event stream, the webhooks' events).\n\n" +
				"Messages (`event:` is the kind, `data:` one line of JSON):\n" +
				"- `snapshot` (`LiveSnapshot`): the whole board, first on a new connection;\n" +
				"- `call` (`LiveCall`): a call's row changed; `state` `ended` removes it;\n" +
				"- `agent` (`LiveAgent`): an agent's row changed; `removed` removes it;\n" +
				"- `summary` (`LiveSummary`): the figures changed.\n\n" +
				"Each group of messages of one place in the stream ends with an `id:`; a comment (`: heartbeat`) comes " +
				"every 15 s, with an `id:` when the stream moved on with nothing the filter shows. Reconnecting with " +
				"the last id (`Last-Event-ID`) gets every change after it, from the server's memory of recent changes; " +
				"from further back (or after a restart), the calls that ended since (`call`, `ended`) and a `snapshot`. " +
				"A client that falls behind is disconnected, and reconnects the same way. 503 while the view is being " +
				"built (`Retry-After`)."},
		{method: http.MethodGet, path: "/v1/live/snapshot", id: "getLiveSnapshot", tag: "live",
			summary: "The live view, once", roles: roles, query: b.liveParameters(), errors: errs, status: http.StatusOK,
			result: b.wrapped("snapshot", "LiveSnapshot"), resultDesc: "The board now; `cursor` lets a stream go on from it.",
			details: "The `snapshot` message of `GET /v1/live`, as one answer."},
	}
}
