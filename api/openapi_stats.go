package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchboard/switchboard/stats"
)

// defineStatsSchemas writes the answers of the statistics (stats.go).
func (b *openAPIBuilder) defineStatsSchemas() {
	count := func(desc string) *openapi3.Schema { return b.ro(b.integer(desc, 0, 1<<53)) }
	avg := func(desc string) *openapi3.Schema {
		return b.ro(b.described(openapi3.NewFloat64Schema().WithMin(0).WithNullable(), desc+" Null when there is nothing to average."))
	}
	reasons := openapi3.NewObjectSchema().WithoutAdditionalProperties()
	reasons.Description = "Missed calls by `missed_call_reason`: every reason, 0 included."
	reasons.ReadOnly = true
	for _, r := range stats.Reasons {
		reasons.Properties[string(r)] = count("").NewRef()
		reasons.Required = append(reasons.Required, string(r))
	}
	measures := []openAPIProp{
		b.p("inbound_calls", count("Inbound calls.")),
		b.p("inbound_duration_avg", avg("Average inbound call duration, start to end, seconds.")),
		b.p("outbound_calls", count("Outbound calls.")),
		b.p("outbound_duration_avg", avg("Average outbound call duration, seconds.")),
		b.p("answered_calls", count("Inbound calls answered.")),
		b.p("missed_calls", count("Inbound calls not answered.")),
		b.p("missed_rate", avg("Missed calls, % of inbound calls.")),
		b.p("missed_by_reason", reasons),
		b.p("voicemail_calls", count("Inbound calls where the caller left a voicemail.")),
		b.p("voicemail_rate", avg("Voicemails, % of inbound calls.")),
		b.p("waiting_time_avg", avg("Average wait of the answered inbound calls until an agent answered, seconds.")),
		b.p("longest_wait", count("The longest wait of an inbound call offered to agents, seconds.")),
		b.p("handled_calls", count("Missed and assigned calls handled from the inbox: called back, assigned (a missed "+
			"call) or archived.")),
		b.p("handling_time_avg", avg("Average time they stayed in the inbox until handled, seconds (a missed call "+
			"enters it when it ends, an answered call when first assigned).")),
		b.p("inbound_minutes_per_call", avg("Minutes of talk per answered inbound call.")),
		b.p("outbound_minutes_per_call", avg("Minutes of talk per answered outbound call.")),
		b.p("inbound_calls_per_user", avg("Inbound calls per user of the query: those of `user_id`, else the members "+
			"of `team_id`'s teams, else every user of the company.")),
		b.p("outbound_calls_per_user", avg("Outbound calls per user of the query.")),
		b.p("offered_calls", count("Inbound calls offered to agents: all but blocked callers, calls out of opening "+
			"hours and short abandons (under 10 s).")),
		b.p("answered_within_sla", count("Offered calls answered within the service level: the number's "+
			"`sla_seconds`, else the company's, in force when the call ended.")),
		b.p("service_level", avg("Answered within the service level, % of offered calls.")),
		b.p("abandoned_calls", count("Offered calls whose caller hung up waiting (`abandoned`, `abandoned_in_ivr`).")),
		b.p("abandon_rate", avg("Abandoned, % of offered calls.")),
	}
	b.define("StatsMeasures", b.object("The measures of a set of calls.", measures...))
	b.define("StatsBucket", b.object("The measures of the calls that started in one bucket of the period.",
		append([]openAPIProp{
			b.p("start", b.ro(b.dateTime("The bucket's start, in the query's time zone (the first is cut to `from`)."))),
			b.p("end", b.ro(b.dateTime("Its end (the last is cut to `to`)."))),
		}, measures...)...))
	seconds := func(desc string) *openapi3.Schema {
		return count(desc + " Seconds, within the period and time of day.")
	}
	b.define("UserStats", b.object("A user's productivity over the period.",
		b.p("user_id", b.ro(b.id("The user."))),
		b.p("name", b.ro(b.str("Their name."))),
		b.p("inbound_answered", count("Inbound calls they answered.")),
		b.p("missed", count("Calls that rang them and that they did not answer (no answer, declined).")),
		b.p("outbound_calls", count("Outbound calls they made.")),
		b.p("talk_time", count("Seconds they talked, both directions: their time in a call (`time_in_call`), "+
			"taken from their available time.")),
		b.p("time_available", seconds("Available: a phone registered, open, not in a call or after-call work.")),
		b.p("time_in_call", count("In a call: their talk time, each call counted whole in the period it started in.")),
		b.p("time_after_call_work", seconds("In after-call work.")),
		b.p("time_do_not_disturb", seconds("Do not disturb (closed).")),
		b.p("time_offline", seconds("No phone registered."))))
	ids := func(desc string) *openapi3.Schema { return b.ro(b.array(desc, b.id("An id.").NewRef())) }
	b.define("Stats", b.object("The figures of a period.",
		b.p("from", b.ro(b.dateTime("The period's start."))),
		b.p("to", b.ro(b.dateTime("Its end, excluded."))),
		b.p("time_zone", b.ro(b.str("The time zone of the buckets and the time of day."))),
		b.p("group_by", b.ro(b.enum("The buckets' size.", "hour", "day", "week", "month"))),
		b.pRef("totals", b.ref("StatsMeasures")),
		b.p("series", b.ro(b.array("One entry per bucket, in order, empty ones included.", b.ref("StatsBucket")))),
		b.p("filters", b.ro(b.object("The filters applied.",
			b.p("time_from", b.str("The time of day's start, HH:MM.")),
			b.p("time_to", b.str("Its end.")),
			b.p("number_ids", ids("Numbers.")),
			b.p("user_ids", ids("Users (an agent's own).")),
			b.p("team_ids", ids("Teams.")),
			b.p("tag_ids", ids("Tags.")),
			b.p("direction", b.enum("A direction.", "inbound", "outbound")))))))
}

// statsParameters are the query parameters of the statistics.
func (b *openAPIBuilder) statsParameters() []*openapi3.Parameter {
	str := func(name, desc string) *openapi3.Parameter {
		return openapi3.NewQueryParameter(name).WithDescription(desc).WithSchema(openapi3.NewStringSchema())
	}
	ids := func(name, desc string) *openapi3.Parameter {
		return str(name, desc+" Repeated, or ids separated by commas (at most 500).")
	}
	enum := func(name, desc string, values ...string) *openapi3.Parameter {
		s := openapi3.NewStringSchema()
		for _, v := range values {
			s.Enum = append(s.Enum, v)
		}
		return openapi3.NewQueryParameter(name).WithDescription(desc).WithSchema(s)
	}
	return []*openapi3.Parameter{
		str("from", "The period's start: a date (2026-03-01, midnight in `time_zone`), an RFC 3339 time or Unix seconds. "+
			"Default: 7 days before `to`."),
		str("to", "Its end, excluded: a date is included whole (2026-03-31: up to midnight ending it). Default: the end of today. "+
			"A period is at most 10 years."),
		str("time_zone", "An IANA time zone (Europe/Paris): the buckets, dates and time of day are on its clock, across "+
			"daylight saving changes (a 23-hour day is one day). Default: the company's."),
		enum("group_by", "The buckets: hours, days, ISO weeks (Monday first) or months. Default: day. At most 10,000 "+
			"buckets.", "hour", "day", "week", "month"),
		str("time_from", "Only calls that started from this time of day (HH:MM), with `time_to`."),
		str("time_to", "…until this one, excluded (24:00 for midnight). Before `time_from`: the window spans midnight."),
		ids("number_id", "Only calls of these numbers."),
		ids("user_id", "Only calls these users answered or made (an agent: only their own)."),
		ids("team_id", "Only calls that rang these teams."),
		ids("tag_id", "Only calls with one of these tags."),
		enum("direction", "Only calls in this direction.", "inbound", "outbound"),
	}
}

// statsOperations are the routes of stats.go.
func (b *openAPIBuilder) statsOperations() []openAPIOperation {
	const roles = "**Roles:** any key. Admins and supervisors see the whole company; an agent sees the figures of " +
		"their own calls (another `user_id` is a 403)."
	const counted = " Calls count once ended, in the bucket they started in; archived calls count. A parameter it " +
		"cannot read is a 422 naming it."
	table := openapi3.NewQueryParameter("table").WithDescription("What to export: `series` (a row per bucket, then " +
		"a `total` row), `users` (productivity) or `calls` (a row per call, Aircall's call fields with names for ids).").
		WithSchema(openapi3.NewStringSchema().WithEnum("series", "users", "calls").WithDefault("series"))
	return []openAPIOperation{
		{method: http.MethodGet, path: "/v1/stats", id: "getStats", tag: "stats", summary: "Statistics of a period",
			roles: roles, details: "The measures of the calls of the period and filters: totals and a series by bucket. " +
				"Without a filter on numbers, users, teams or tags, and with buckets and time of day on whole hours, " +
				"they are read from hourly sums; otherwise from each call." + counted, query: b.statsParameters(),
			errors: []int{http.StatusForbidden, http.StatusUnprocessableEntity}, status: http.StatusOK,
			result: b.wrapped("stats", "Stats"), resultDesc: "The figures."},
		{method: http.MethodGet, path: "/v1/stats/users", id: "getStatsUsers", tag: "stats",
			summary: "Users' productivity over a period", roles: roles, details: "A row per user of `user_id` (every " +
				"user of the company without it; an agent's own only), with the calls of the period and filters they " +
				"answered, missed and made, and the time they spent in each status. `group_by` is read and ignored." + counted,
			query: b.statsParameters(), errors: []int{http.StatusForbidden, http.StatusUnprocessableEntity},
			status: http.StatusOK, result: openapi3.NewObjectSchema().WithoutAdditionalProperties().
				WithProperty("users", b.array("The users, by id.", b.ref("UserStats"))).WithRequired([]string{"users"}).NewRef(),
			resultDesc: "The users' rows."},
		{method: http.MethodGet, path: "/v1/stats.csv", id: "getStatsCSV", tag: "stats", summary: "Export statistics as CSV",
			roles: roles, details: "The same query as `GET /v1/stats`, as CSV (RFC 4180, a header row; a cell that a " +
				"spreadsheet would take for a formula starts with an apostrophe). The calls are streamed as they are " +
				"read." + counted, query: append(b.statsParameters(), table),
			errors: []int{http.StatusForbidden, http.StatusUnprocessableEntity}, status: http.StatusOK,
			binary: "text/csv", resultDesc: "The CSV file."},
	}
}
