package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/internal/aircall"
)

// openAPI serves the OpenAPI 3.0.3 document of the API. It needs no
// credentials: the document says nothing about any company.
func (s *server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", openAPIJSON())
}

// openAPIJSON is the served document, built and encoded once.
var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.Marshal(openAPIDoc())
	if err != nil {
		panic(fmt.Sprintf("api: encode the OpenAPI document: %v", err)) // a bug in openAPIDoc; its test catches it
	}
	return b
})

// Who may call an operation, as auth.go and the middleware in routes.go
// decide; each operation's description starts with one of these.
const (
	openAPIPublic   = "**Access:** public, no credentials."
	openAPIAnyRole  = "**Roles:** any key (admin, supervisor or agent; owner or not)."
	openAPIReaders  = "**Roles:** admin, supervisor. Agents get 403."
	openAPIAdmins   = "**Roles:** admin only. Supervisors and agents get 403."
	openAPIOwners   = "**Roles:** owner permission, with any role (admin, supervisor or agent). Keys of non-owners get 403."
	openAPISelfRead = "**Roles:** admin and supervisor for any user; an agent only for their own user (403 otherwise)."
	openAPISelfEdit = "**Roles:** admin for any user; a supervisor or an agent only for their own user (403 otherwise)."
	openAPICalls    = "**Roles:** any key. Admins and supervisors reach every call of the company; an agent only the calls " +
		"they answered (`user`) or that are assigned to them (`assigned_to`): other calls are left out of their lists, " +
		"and are a 403 when named."
)

// openAPIDoc builds the document describing every route in routes.go (a
// test checks both directions).
//
// Resources are component schemas shared by requests and responses. The
// fields the server computes are readOnly, and required: in OpenAPI 3.0
// that binds responses only. A client may send them back unchanged, as
// read (the handlers accept and ignore them). Every object is closed
// (additionalProperties: false), as the handlers refuse unknown fields.
func openAPIDoc() *openapi3.T {
	b := &openAPIBuilder{schemas: openapi3.Schemas{}}
	b.defineSchemas()
	b.markExtensions()

	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:   "Switchboard API",
			Version: "1.0.0",
			Description: "Switchboard is a self-hosted business phone system; its API is shaped like the public Aircall API v1.\n\n" +
				"**Authentication:** HTTP Basic with an API key: user name `api_id`, password `api_token`. A key acts as the user it " +
				"belongs to, with that user's role (`admin`, `supervisor`, `agent`) and `owner` permission, inside that user's company. " +
				"Missing or wrong credentials get 401, a role that may not act 403, another company's resource 404.\n\n" +
				"**Errors:** `{\"error\": \"<short>\", \"troubleshoot\": \"<what to fix>\"}`: 400 for malformed JSON, 422 for a field " +
				"that fails validation (the message names the field; unknown fields included), 409 for a conflict, 413 for a body over 1 MiB.\n\n" +
				"**Lists:** `page`, `per_page` (1 to 50), `order` (`asc|desc`, by creation), `from`/`to` (UNIX seconds, on creation time); " +
				"a bad one is a 400 naming it, as Aircall's. The body is `{\"<resources>\": [...], \"meta\": {...}}`.\n\n" +
				"**Objects:** single objects come wrapped (`{\"user\": {...}}`). PUT changes only the fields sent. Output-only " +
				"(readOnly) fields may be sent back unchanged, as read; they are ignored.\n\n" +
				"**Limits:** each API key may make so many requests a minute (3000 by default), as Aircall's rate limit: every " +
				"answer says where the key stands in Aircall's headers `X-AircallApi-Limit`, `X-AircallApi-Remaining` and " +
				"`X-AircallApi-Reset` (UNIX seconds), and past it the answer is a 429 with `Retry-After`. Each client address is " +
				"limited too, and refused for the rest of the minute after too many requests with wrong credentials.\n\n" +
				"**Aircall compatibility:** Aircall's objects have all of Aircall's fields, with Aircall's types and enums. A field " +
				"marked `x-switchboard-extension: true` is Switchboard's addition; an enum whose `x-switchboard-extension` lists " +
				"values takes those beyond Aircall's. A missing object's 404 says `Check ID of the resource`, as Aircall's.",
		},
		Tags: openapi3.Tags{
			{Name: "health", Description: "Liveness and readiness probes."},
			{Name: "meta", Description: "This document."},
			{Name: "company", Description: "The caller's company."},
			{Name: "users", Description: "Users (agents, supervisors, admins) and their availability."},
			{Name: "teams", Description: "Teams and their ordered members."},
			{Name: "numbers", Description: "Phone numbers and their call flow."},
			{Name: "calls", Description: "Call records, with their tags, comments and timeline."},
			{Name: "tags", Description: "Call tags."},
			{Name: "contacts", Description: "The company's shared address book: contacts with their phone numbers and emails."},
			{Name: "media", Description: "The media library (audio files for messages), text-to-speech voices, and the prompt files the media servers fetch."},
			{Name: "blocked_numbers", Description: "Callers whose calls are refused."},
			{Name: "api_keys", Description: "API keys (owner only)."},
			{Name: "webhooks", Description: "Webhooks: where the company's events are posted, and their deliveries (admin only)."},
			{Name: "live", Description: "The live view: calls waiting and in progress, agents' statuses, the day's figures."},
		},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:   b.schemas,
			Responses: b.errorResponses(),
			SecuritySchemes: openapi3.SecuritySchemes{
				"basicAuth": {Value: openapi3.NewSecurityScheme().WithType("http").WithScheme("basic").
					WithDescription("HTTP Basic: user name `api_id`, password `api_token` of an API key.")},
			},
		},
	}
	for _, o := range b.operations() {
		doc.AddOperation(o.path, o.method, b.operation(o))
	}
	return doc
}

// aircallObjects are the component schemas that show Aircall's objects,
// by the name of the object's schema in internal/aircall.
var aircallObjects = map[string]string{
	"company": "Company", "user": "User", "user_ref": "UserRef", "availability": "Availability",
	"team": "Team", "number": "Number", "number_ref": "NumberRef", "tag": "Tag", "contact": "Contact",
	"call": "Call", "webhook": "Webhook", "meta": "Meta", "error": "Error",
}

// markExtensions marks the fields of Aircall's objects that are ours with
// x-switchboard-extension: true (a $ref wrapped to carry the mark), so
// that an integrator sees what Aircall's API does not have. What is
// Aircall's is read from the schemas the tests check every answer with.
func (b *openAPIBuilder) markExtensions() {
	for object, component := range aircallObjects {
		theirs, err := aircall.Fields(object)
		if err != nil {
			panic("api: " + err.Error())
		}
		for name, prop := range b.schemas[component].Value.Properties {
			if slices.Contains(theirs, name) {
				continue
			}
			mark := map[string]any{"x-switchboard-extension": true}
			if prop.Ref != "" {
				b.schemas[component].Value.Properties[name] = &openapi3.SchemaRef{Value: &openapi3.Schema{
					AllOf: openapi3.SchemaRefs{prop}, ReadOnly: prop.Value.ReadOnly, Extensions: mark}}
				continue
			}
			if prop.Value.Extensions == nil {
				prop.Value.Extensions = map[string]any{}
			}
			prop.Value.Extensions["x-switchboard-extension"] = true
		}
	}
}

// openAPIBuilder holds the component schemas while the document is built;
// its small constructors (methods, so as not to take common names in the
// package) make the schemas below read like the Go types.
type openAPIBuilder struct {
	schemas openapi3.Schemas
}

// ref names a component schema, which must be defined already.
func (b *openAPIBuilder) ref(name string) *openapi3.SchemaRef {
	s, ok := b.schemas[name]
	if !ok {
		panic("api: OpenAPI schema " + name + " used before it is defined")
	}
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name, Value: s.Value}
}

func (b *openAPIBuilder) define(name string, s *openapi3.Schema) { b.schemas[name] = s.NewRef() }

// openAPIProp is one property of an object schema.
type openAPIProp struct {
	name   string
	schema *openapi3.SchemaRef
}

func (b *openAPIBuilder) p(name string, s *openapi3.Schema) openAPIProp {
	return openAPIProp{name, s.NewRef()}
}

func (b *openAPIBuilder) pRef(name string, ref *openapi3.SchemaRef) openAPIProp {
	return openAPIProp{name, ref}
}

// object is a closed object whose readOnly properties are required.
func (b *openAPIBuilder) object(desc string, props ...openAPIProp) *openapi3.Schema {
	s := openapi3.NewObjectSchema().WithoutAdditionalProperties()
	s.Description = desc
	for _, x := range props {
		s.Properties[x.name] = x.schema
		if x.schema.Value.ReadOnly { // a component too: MessageLinks
			s.Required = append(s.Required, x.name)
		}
	}
	return s
}

// ro marks an output-only field.
func (b *openAPIBuilder) ro(s *openapi3.Schema) *openapi3.Schema { s.ReadOnly = true; return s }

func (b *openAPIBuilder) described(s *openapi3.Schema, desc string) *openapi3.Schema {
	s.Description = desc
	return s
}

func (b *openAPIBuilder) str(desc string) *openapi3.Schema {
	return b.described(openapi3.NewStringSchema(), desc)
}

func (b *openAPIBuilder) strMax(desc string, max int64) *openapi3.Schema {
	return b.str(desc).WithMaxLength(max)
}

func (b *openAPIBuilder) nonEmpty(desc string, max int64) *openapi3.Schema {
	return b.str(desc).WithMinLength(1).WithMaxLength(max)
}

func (b *openAPIBuilder) enum(desc string, values ...string) *openapi3.Schema {
	s := b.str(desc)
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	return s
}

func (b *openAPIBuilder) boolean(desc string) *openapi3.Schema {
	return b.described(openapi3.NewBoolSchema(), desc)
}

func (b *openAPIBuilder) integer(desc string, min, max float64) *openapi3.Schema {
	return b.described(openapi3.NewIntegerSchema(), desc).WithMin(min).WithMax(max)
}

func (b *openAPIBuilder) id(desc string) *openapi3.Schema {
	return b.described(openapi3.NewInt64Schema(), desc).WithMin(1)
}

func (b *openAPIBuilder) dateTime(desc string) *openapi3.Schema {
	return b.described(openapi3.NewDateTimeSchema(), desc)
}

func (b *openAPIBuilder) array(desc string, items *openapi3.SchemaRef) *openapi3.Schema {
	s := b.described(openapi3.NewArraySchema(), desc)
	s.Items = items
	return s
}

// nullableRef is a component schema or null (in OpenAPI 3.0 a $ref cannot
// carry nullable itself).
func (b *openAPIBuilder) nullableRef(desc, name string) *openapi3.Schema {
	return &openapi3.Schema{Description: desc, Nullable: true, AllOf: openapi3.SchemaRefs{b.ref(name)}}
}

// The fields every resource has.

func (b *openAPIBuilder) idField(what string) openAPIProp {
	return b.p("id", b.ro(b.id("The "+what+"'s id.")))
}

func (b *openAPIBuilder) linkField(path string) openAPIProp {
	return b.p("direct_link", b.ro(b.str("URL of the object: the public URL (`SWITCHBOARD_PUBLIC_URL`) and `"+path+"`.")))
}

func (b *openAPIBuilder) createdField() openAPIProp {
	return b.p("created_at", b.ro(b.stamp("When it was created.")))
}

// openAPIStamp is how Aircall writes created_at: UTC, with milliseconds.
const openAPIStamp = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$`

// stamp is a time as Aircall writes created_at.
func (b *openAPIBuilder) stamp(desc string) *openapi3.Schema {
	return b.dateTime(desc + " ISO 8601 in UTC with milliseconds, as Aircall's: `2026-11-23T10:15:00.000Z`.").
		WithPattern(openAPIStamp)
}

// Formats checked by dialplan's Normalize methods.
const (
	openAPIClock     = `^([01][0-9]|2[0-4]):[0-5][0-9]$`
	openAPIDate      = `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	openAPILanguage  = `^[a-z]{2,3}(-[A-Z]{2})?$`
	openAPICountry   = `^[A-Za-z]{2}$`
	openAPIExtension = `^([0-9]{3,6})?$`
	openAPIDevice    = `^[A-Za-z][A-Za-z0-9_]*/[^\s/][^\s]{0,126}$`
	openAPIColor     = `^#[0-9A-Fa-f]{6}$`
)

func (b *openAPIBuilder) timeZone(desc string) *openapi3.Schema {
	return b.str(desc + " IANA time zone name, such as `Europe/Paris`.")
}

func (b *openAPIBuilder) language(desc string) *openapi3.Schema {
	return b.str(desc + " Language tag, such as `fr-FR` or `en`.").WithPattern(openAPILanguage)
}

func (b *openAPIBuilder) country(desc string) *openapi3.Schema {
	return b.str(desc + " ISO 3166 alpha-2 code such as `FR` (upper-cased by the server).").WithPattern(openAPICountry)
}

func (b *openAPIBuilder) phone(desc string) *openapi3.Schema {
	return b.str(desc + " Accepted with spaces, dashes or dots, or in national form; returned in E.164 (`+33176390861`).")
}

// defineSchemas writes the component schemas, each after those it uses.
// They follow the JSON tags of the dialplan and store types as the
// handlers encode and decode them.
func (b *openAPIBuilder) defineSchemas() {
	b.define("Error", b.object("An error answer.",
		b.p("error", b.str("Short description, such as `not found` or `invalid email`.")),
		b.p("troubleshoot", b.str("What to fix; `Check ID of the resource` (Aircall's words) for an id that is not one of "+
			"the company's objects.")),
		b.p("detail", b.str("Which object is missing, beside Aircall's words (404 of a missing object only)."))).
		WithRequired([]string{"error", "troubleshoot"}))

	b.define("Meta", b.object("Aircall's paging block.",
		b.p("count", b.integer("Items on this page.", 0, maxPerPage)),
		b.p("total", b.described(openapi3.NewIntegerSchema().WithMin(0), "Items matching the filters, on all pages.")),
		b.p("current_page", b.described(openapi3.NewIntegerSchema().WithMin(1), "This page's number.")),
		b.p("per_page", b.integer("Page size.", 1, maxPerPage)),
		b.p("next_page_link", b.str("URL of the next page, to follow as it is; null on the last page.").WithNullable()),
		b.p("previous_page_link", b.str("URL of the previous page; null on the first page.").WithNullable())).
		WithRequired([]string{"count", "total", "current_page", "per_page", "next_page_link", "previous_page_link"}))

	b.define("Slot", b.object("Opening hours on some days of the week.",
		b.p("days", b.array("Days the slot applies to.",
			b.enum("A day.", "mon", "tue", "wed", "thu", "fri", "sat", "sun").NewRef()).WithMinItems(1)),
		b.p("from", b.str("Start, HH:MM (00:00 to 24:00).").WithPattern(openAPIClock)),
		b.p("to", b.str("End, HH:MM, after `from`.").WithPattern(openAPIClock))))

	b.define("SpecialDate", b.object("Dates that override the weekly slots (holidays, exceptional openings).",
		b.p("from_date", b.str("First day, YYYY-MM-DD.").WithFormat("date").WithPattern(openAPIDate)),
		b.p("to_date", b.str("Last day (included), YYYY-MM-DD, not before `from_date`.").WithFormat("date").WithPattern(openAPIDate)),
		b.p("open", b.boolean("Whether the line is open on those dates: during `from`-`to` when given, else all day.")),
		b.p("from", b.str("Optional start hour, HH:MM; left out of answers when empty.").WithPattern(openAPIClock)),
		b.p("to", b.str("Optional end hour, HH:MM; left out of answers when empty.").WithPattern(openAPIClock))))

	b.define("BusinessHours", b.object("When a number whose `availability_status` is `custom` is open.",
		b.p("slots", b.array("Weekly slots; slots of one day may not overlap.", b.ref("Slot"))),
		b.p("special_dates", b.array("Exceptions, applied in order over the weekly slots.", b.ref("SpecialDate")))))

	b.define("OutboundPolicy", b.object("Where the company's agents may call, against toll fraud: checked before any call is dialled out.",
		b.p("allowed_countries", b.array("Countries agents may call. Empty on a request means the company's `country`; "+
			"answers always list them, and changing `country` does not change them. A +1 number is allowed with any of "+
			"`US`, `CA`, `PR` (the Caribbean and Bermuda area codes aside, which are their own countries); the global "+
			"services (+800, +881, ...) belong to no country and only `allow_premium_rate` applies to them. "+
			"A bad code is a 422 naming it (`outbound.allowed_countries[0]`).",
			b.country("A country, listed once.").NewRef()).WithMaxItems(250).WithUniqueItems(true)),
		b.p("allow_premium_rate", b.boolean("Whether agents may call premium-rate and shared-cost numbers (such as "+
			"French 089, British 09, US 900) and the satellite and international-network codes (+870, +881, +882, "+
			"+883, +979). Default false."))))

	b.define("Company", b.object("The caller's company.",
		b.idField("company"),
		b.p("name", b.nonEmpty("Company name.", 128)),
		b.p("time_zone", b.timeZone("Default time zone of users and numbers.")),
		b.p("language", b.language("Default language of users and messages.")),
		b.p("country", b.country("Default country of phone numbers.")),
		b.p("sla_seconds", b.integer("Service level: seconds within which a call should be answered.", 1, 3600)),
		b.pRef("outbound", b.ref("OutboundPolicy")),
		b.createdField(),
		b.p("direct_link", b.ro(b.str("The company's URL: the public URL and `/v1/company`."))),
		b.p("users_count", b.ro(b.integer("How many users the company has.", 0, math.MaxInt32))),
		b.p("numbers_count", b.ro(b.integer("How many numbers the company has.", 0, math.MaxInt32)))))

	liveStatus := func(desc string) *openapi3.Schema {
		return extendsAircall(b.ro(b.enum(desc+" `pending_tag` is Switchboard's (listed in `x-switchboard-extension`): "+
			"after a call on a number with mandatory tagging, until the call is tagged.",
			"available", "offline", "do_not_disturb", "in_call", "after_call_work", "pending_tag")), "pending_tag")
	}
	availabilityStatus := func() *openapi3.Schema {
		return b.enum("The user's setting: `available`, `custom` (follows `working_hours`) or `unavailable`. Default `available`.",
			"available", "custom", "unavailable")
	}

	links := b.object("The number's messages as Aircall shows them: the link to each one's audio (a wav, " +
		"`GET /v1/numbers/{id}/messages/{kind}`), null when the number plays the default. `voicemail` is always null (the " +
		"greeting is built in), `closed` is `after_hours`. Ignored on input: the settings are `message_settings`.")
	for _, kind := range []string{"welcome", "waiting", "ringing_tone", "unanswered_call", "after_hours", "ivr", "voicemail",
		"closed", "callback_later"} {
		links.Properties[kind] = b.ro(b.str("Link to the `" + kind + "` message's audio, or null.").WithNullable()).NewRef()
		links.Required = append(links.Required, kind)
	}
	b.define("MessageLinks", b.ro(links))

	b.define("NumberRef", b.object("A number inside another object (a call's number, a user's numbers), as Aircall shows it.",
		b.p("id", b.ro(b.id("The number's id."))),
		b.linkField("/v1/numbers/1"),
		b.p("name", b.ro(b.str("The number's name."))),
		b.p("digits", b.ro(b.str("The number's digits, E.164."))),
		b.createdField(),
		b.p("country", b.ro(b.country("Country."))),
		b.p("time_zone", b.ro(b.timeZone("Time zone of its business hours."))),
		b.p("open", b.ro(b.boolean("Whether the line is open now."))),
		b.p("availability_status", b.ro(b.enum("`open`, `closed` or `custom` (follows its business hours).", "open", "closed", "custom"))),
		b.p("is_ivr", b.ro(b.boolean("Whether it is an IVR (`type` is `ivr`)."))),
		b.p("live_recording_activated", b.ro(b.boolean("Whether its calls are recorded (inbound or outbound)."))),
		b.p("priority", b.ro(b.priority())),
		b.pRef("messages", b.ref("MessageLinks"))))

	b.define("UserRef", b.object("A user inside another object (a call's user, assignee and transfer ends, a comment's "+
		"author, a tag's tagger, a number's users), as Aircall shows them.",
		b.p("id", b.ro(b.id("The user's id."))),
		b.linkField("/v1/users/1"),
		b.p("name", b.ro(b.str("First and last name."))),
		b.p("email", b.ro(b.str("Email address."))),
		b.p("available", b.ro(b.boolean("Whether the user can take a call now."))),
		b.p("availability_status", b.ro(availabilityStatus())),
		b.createdField(),
		b.p("time_zone", b.ro(b.timeZone("The user's time zone."))),
		b.p("language", b.ro(b.language("The user's language.")))))

	b.define("User", b.object("A user of the company.",
		b.idField("user"),
		b.p("first_name", b.nonEmpty("First name; required on creation.", 64)),
		b.p("last_name", b.strMax("Last name.", 64)),
		b.p("email", b.str("Email address, unique across Switchboard; required on creation, stored lower-case.").WithFormat("email")),
		b.p("role", b.enum("Role; default `agent`. Only admins change it, and not on themselves.", "admin", "supervisor", "agent")),
		b.p("owner", b.boolean("Owner permission (API keys, company settings). Only an owner grants or removes it.")),
		b.p("language", b.language("Language; default the company's.")),
		b.p("time_zone", b.timeZone("Time zone of `working_hours`; default the company's.")),
		b.p("extension", b.str("Internal extension, 3 to 6 digits, unique in the company; empty for none. Only admins change it.").
			WithPattern(openAPIExtension)),
		b.p("availability_status", availabilityStatus()),
		b.p("unavailable_reason", b.strMax("Why the user is unavailable.", 128)),
		b.p("working_hours", b.array("Working hours, followed when `availability_status` is `custom`.", b.ref("Slot"))),
		b.p("wrap_up_time", b.integer("Seconds of after-call work before the next call. Only admins change it.", 0, 3600)),
		b.p("external_number", b.phone("Number to ring outside the PBX; null (or empty, on input) for none.").WithNullable()),
		b.p("devices", b.array("Dial strings of the user's phones on the PBX, such as `PJSIP/alice` or `user/1001`, each unique. "+
			"Only admins change them.", b.str("A dial string, TECH/resource.").WithPattern(openAPIDevice).NewRef()).WithUniqueItems(true)),
		b.createdField(),
		b.linkField("/v1/users/1"),
		b.p("name", b.ro(b.str("First and last name."))),
		b.p("availability", liveStatus("Status the configuration gives now: `available`, `offline` (outside working hours) "+
			"or `do_not_disturb` (unavailable).")),
		b.p("available", b.ro(b.boolean("Whether the user can take a call now (`availability` is `available`), as Aircall's."))),
		b.p("substatus", b.ro(b.str("Why the user is available or not, as Aircall's: `always_opened` (available), "+
			"`always_closed` or `unavailable_reason` (unavailable), `custom` (`working_hours` decide)."))),
		b.p("numbers", b.ro(b.array("The numbers the user is on, as Aircall's: those that ring them (in a ring step, "+
			"alone or in a team) or that they call out with.", b.ref("NumberRef"))))))

	b.define("Availability", b.object("A user's availability.",
		b.p("id", b.ro(b.id("The user's id."))),
		b.p("availability", liveStatus("Status now, as Aircall shows it.")),
		b.p("availability_status", availabilityStatus()),
		b.p("unavailable_reason", b.strMax("Why the user is unavailable; empty unless `availability_status` is `unavailable`.", 128))))

	b.define("AvailabilityInput", b.object("A new availability setting. `id` and `availability` may be sent back as read; they are ignored.",
		b.p("availability_status", availabilityStatus()),
		b.p("unavailable_reason", b.strMax("Why the user is unavailable; kept only with `unavailable`.", 128)),
		b.p("id", b.ro(b.id("Ignored."))),
		b.p("availability", b.ro(b.str("Ignored.")))).WithRequired([]string{"availability_status"}))

	ringingRule := func() *openapi3.Schema {
		return b.enum("How members are rung: all at once, in random order, longest idle first, or in turn. Default `simultaneous`.",
			"simultaneous", "random", "longest_idle", "round_robin")
	}
	ringSlice := func() *openapi3.Schema {
		return b.integer("Seconds each member rings before the next, for rules other than `simultaneous`. Default 20.", 5, 3600)
	}

	b.define("Team", b.object("A team.",
		b.idField("team"),
		b.p("name", b.nonEmpty("Team name, unique in the company.", 64)),
		b.p("users", b.array("Members, in ringing order: each the user as `GET /v1/users/{id}` shows them.", b.ref("User"))),
		b.p("ringing_rule", ringingRule()),
		b.p("ring_slice_seconds", ringSlice()),
		b.createdField(),
		b.linkField("/v1/teams/1")))

	member := &openapi3.Schema{Description: "A user id, or an object with the user's `id` (a member as a team shows them).",
		OneOf: openapi3.SchemaRefs{
			b.id("A user id.").NewRef(),
			openapi3.NewObjectSchema().WithProperty("id", b.id("A user id.")).WithRequired([]string{"id"}).NewRef(),
		}}
	b.define("TeamInput", b.object("A team as a client sends it: members are ids, or the member objects a team shows.",
		b.p("id", b.ro(b.id("Ignored."))),
		b.p("name", b.nonEmpty("Team name, unique in the company; required on creation.", 64)),
		b.p("users", b.array("Members, in ringing order, each once; when sent, replaces the list.", member.NewRef())),
		b.p("ringing_rule", ringingRule()),
		b.p("ring_slice_seconds", ringSlice()),
		b.p("created_at", b.ro(b.dateTime("Ignored."))),
		b.p("direct_link", b.ro(b.str("Ignored.")))))

	b.define("Step", b.object("A step of a number's distribution: ring a user or a team.",
		b.p("type", b.enum("What to ring.", "user", "team")),
		b.p("id", b.id("The user's or team's id.")),
		b.p("ring_seconds", b.integer("How long this step rings.", 5, 3600))))

	b.define("Target", b.object("Where an IVR option sends the call.",
		b.p("type", b.enum("Kind of target.", "team", "user", "number", "external", "voicemail")),
		b.p("id", b.id("Team, user or number id, for those types; left out of answers otherwise.")),
		b.p("digits", b.phone("External number, for type `external`; left out of answers otherwise."))))

	b.define("IVROption", b.object("A key of an IVR menu.",
		b.p("key", b.str("The key, 0 to 9.").WithPattern(`^[0-9]$`)),
		b.pRef("target", b.ref("Target"))))

	b.define("RecordingPolicy", b.object("Recording of calls in one direction.",
		b.p("auto", b.boolean("Record every call.")),
		b.p("allow_pause", b.boolean("Agents may pause the recording."))))

	b.define("Recording", b.object("Recording policy.",
		b.pRef("inbound", b.ref("RecordingPolicy")),
		b.pRef("outbound", b.ref("RecordingPolicy"))))

	b.define("Message", b.object("A message played to callers: text to speech, or an uploaded media.",
		b.p("type", b.enum("`tts` (needs `text`) or `media` (needs `media_id`).", "tts", "media")),
		b.p("text", b.nonEmpty("Text to speak (tts); left out otherwise.", 1000)),
		b.p("language", b.language("Language of the text (tts), default the company's; left out otherwise.")),
		b.p("voice", b.strMax("Voice name (tts); left out when empty.", 64)),
		b.p("media_id", b.id("Media id (media); left out otherwise."))))

	messages := b.object("The settings of the number's messages. Answers show every kind, null when not set; send null for the default.")
	for _, kind := range []string{"welcome", "ivr", "waiting", "ringing_tone", "unanswered_call", "after_hours", "callback_later", "blocked"} {
		messages.Properties[kind] = b.nullableRef("The `"+kind+"` message, or null.", "Message").NewRef()
	}
	b.define("Messages", messages)

	b.define("Number", b.object("A phone number and its call flow.",
		b.idField("number"),
		b.p("name", b.nonEmpty("Name; required on creation.", 64)),
		b.p("digits", b.phone("The number, unique across Switchboard; required on creation.")),
		b.p("country", b.country("Country; default the company's.")),
		b.p("time_zone", b.timeZone("Time zone of `business_hours`; default the company's.")),
		b.p("type", b.enum("`classic` or `ivr` (only ivr numbers have `ivr_options`). Default `classic`.", "classic", "ivr")),
		b.p("availability_status", b.enum("`open` (always open), `closed` (always closed) or `custom` (follows `business_hours`). "+
			"Default `open`.", "open", "closed", "custom")),
		b.pRef("business_hours", b.ref("BusinessHours")),
		b.p("open", b.ro(b.boolean("Whether the line is open now."))),
		b.p("priority", b.priority()),
		b.p("sla_seconds", b.integer("The number's own service level: seconds within which a call should be answered "+
			"(statistics). 0, the default, is the company's.", 0, 3600)),
		b.p("max_call_seconds", b.integer("Every call of the number ends at the latest this long after it began, whatever "+
			"it waits for (a menu, a queue, a conversation nobody ends): the timeline says `call.max_duration_reached`. "+
			"Default 14400 (four hours).", 60, 86400)),
		b.p("distribution", b.array("Who rings, step after step.", b.ref("Step")).WithMaxItems(20)),
		b.p("outbound_users", b.array("Users who may call out with this number, each once.", b.id("A user id.").NewRef())),
		b.p("outbound_prefix", b.str("1 to 4 digits, unique in the company, or empty (the default): a user of "+
			"`outbound_users` who dials a star, these digits and a number on their desk phone calls out with this "+
			"number (`*81 0612345678`) rather than their default one, the oldest number whose `outbound_users` "+
			"hold them.").WithPattern(`^[0-9]{0,4}$`)),
		b.p("respect_queuing_time", b.boolean("Keep the caller's place in the queue across steps.")),
		b.p("callback_request", b.boolean("Callers may ask to be called back.")),
		b.p("mandatory_tagging", b.boolean("Agents must tag calls.")),
		b.p("voicemail", b.boolean("Unanswered callers may leave a voicemail. Default true.")),
		b.p("music_on_hold", b.boolean("Play music while the caller waits. Default true.")),
		b.pRef("recording", b.ref("Recording")),
		b.p("ivr_options", b.array("IVR menu (type `ivr` only); each key once.", b.ref("IVROption"))),
		b.pRef("message_settings", b.ref("Messages")),
		b.pRef("messages", b.ref("MessageLinks")),
		b.p("is_ivr", b.ro(b.boolean("Whether it is an IVR (`type` is `ivr`), as Aircall's."))),
		b.p("live_recording_activated", b.ro(b.boolean("Whether its calls are recorded (inbound or outbound), as Aircall's."))),
		b.p("users", b.ro(b.array("The users on the number, as Aircall's: those it rings (in a ring step, alone or in a "+
			"team) and those who call out with it.", b.ref("UserRef")))),
		b.createdField(),
		b.linkField("/v1/numbers/1")))

	b.defineFlowSchemas()

	b.define("Tag", b.object("A call tag.",
		b.idField("tag"),
		b.p("name", b.nonEmpty("Name, unique in the company; required on creation.", 64)),
		b.p("color", b.str("Colour, #RRGGBB. Default `#9B9B9B`.").WithPattern(openAPIColor)),
		b.p("description", b.strMax("Description.", 255)),
		b.p("system", b.ro(b.boolean("A built-in tag, which cannot be changed or deleted."))),
		b.createdField(),
		b.linkField("/v1/tags/1")))

	b.define("BlockedNumber", b.object("A blocked caller.",
		b.idField("blocked number"),
		b.p("digits", b.phone("The blocked number, in the company's country unless international; required.")),
		b.p("note", b.strMax("Why it is blocked.", 255)),
		b.createdField(),
		b.linkField("/v1/blocked_numbers/1")))

	b.defineMediaSchemas()

	b.defineContactSchemas() // before calls: a call links its contact
	b.defineCallSchemas()

	b.defineWebhookSchemas()
	b.defineControlSchemas()
	b.defineLiveSchemas()
	b.defineStatsSchemas()

	apiKey := b.object("An API key. Its secret `api_token` is in the answer to its creation, and nowhere else.",
		b.idField("key"),
		b.p("api_id", b.ro(b.str("User name for HTTP Basic."))),
		b.p("user_id", b.ro(b.id("The user the key acts as."))),
		b.p("name", b.ro(b.strMax("Label.", 64))),
		b.createdField(),
		b.p("last_used_at", b.ro(b.dateTime("When the key was last used; null if never.").WithNullable())),
		b.linkField("/v1/api_keys/1"),
		b.p("api_token", b.ro(b.str("Password for HTTP Basic; only in the answer to the creation."))))
	apiKey.Required = slices.DeleteFunc(apiKey.Required, func(s string) bool { return s == "api_token" })
	b.define("APIKey", apiKey)

	b.define("APIKeyInput", b.object("A new API key.",
		b.p("name", b.strMax("Label.", 64)),
		b.p("user_id", b.id("The user of the company the key acts as; default the caller."))))

	b.define("Ping", b.object("Aircall's answer to a ping.", b.p("ping", b.enum("Always `pong`.", "pong"))).
		WithRequired([]string{"ping"}))

	b.define("Health", b.object("The process is up.", b.p("status", b.enum("Always `ok`.", "ok"))).WithRequired([]string{"status"}))

	b.define("Readiness", b.object("Whether the server's dependencies answer.",
		b.p("ready", b.boolean("True when every check passed.")),
		b.p("checks", b.object("Each dependency: `ok` or the error.",
			b.p("database", b.str("PostgreSQL: `ok` or the error.")),
			b.p("media_server", b.str("Media server: `ok` or the error; left out while no media server is configured."))).
			WithRequired([]string{"database"}))).
		WithRequired([]string{"ready", "checks"}))
}

// priority is a number's queue priority, Aircall's 0 or 1.
func (b *openAPIBuilder) priority() *openapi3.Schema {
	s := b.integer("Queue priority: 1 is served before 0.", 0, 1)
	s.Enum = []any{0, 1}
	return s
}

// missedReasonNames are the values of missed_call_reason: Aircall's, and
// ours after them (missedReasonsNote says which).
func missedReasonNames() []string {
	out := make([]string, len(dialplan.MissedReasons))
	for i, r := range dialplan.MissedReasons {
		out[i] = string(r)
	}
	return out
}

const missedReasonsNote = "Aircall's values, and one of Switchboard's: `blocked` (a caller of the blocked numbers, " +
	"refused before any agent rang; listed in `x-switchboard-extension`)."

// extendsAircall marks a schema whose enum extends Aircall's with values:
// a client that follows Aircall's enum meets them only in the cases the
// description gives.
func extendsAircall(s *openapi3.Schema, values ...string) *openapi3.Schema {
	if s.Extensions == nil {
		s.Extensions = map[string]any{}
	}
	s.Extensions["x-switchboard-extension"] = values
	return s
}

// openAPIErrors are the shared error answers, by status.
var openAPIErrors = map[int]string{
	http.StatusBadRequest:            "Malformed JSON, or a bad list parameter (`page`, `per_page`, `order`, `from`, `to`): `error` names it.",
	http.StatusUnauthorized:          "Missing or wrong credentials (HTTP Basic, api_id:api_token).",
	http.StatusForbidden:             "The key's role or permission may not do this.",
	http.StatusNotFound:              "No such resource in the caller's company (an id that is not a positive integer included).",
	http.StatusConflict:              "Conflict with the current state: a duplicate (email, extension, device, team or tag name, digits) or a resource in use.",
	http.StatusRequestEntityTooLarge: "The body is too large: over 1 MiB, or a media file over 10 MB (10,485,760 bytes).",
	http.StatusUnsupportedMediaType:  "An upload that is not multipart/form-data, or a file that is not an mp3 or a wav; `troubleshoot` says what it looks like.",
	http.StatusServiceUnavailable: "A part switchboard needs is missing: PostgreSQL does not answer (nothing was done; " +
		"`Retry-After` says when to try again), or the audio tools (ffmpeg, espeak-ng), or a media server; `troubleshoot` " +
		"says which.",
	http.StatusBadGateway:          "The media server failed to give what was asked; `troubleshoot` says what, the log why.",
	http.StatusUnprocessableEntity: "A field of the body or the query fails validation; `error` names it.",
	http.StatusGatewayTimeout:      "A call in progress did not act within the request's time.",
	http.StatusTooManyRequests: "Past a limit of the minute: the key's requests, the address's, or the address's requests with " +
		"wrong credentials; `Retry-After` says in how many seconds the minute ends.",
}

func (b *openAPIBuilder) errorResponses() openapi3.ResponseBodies {
	out := openapi3.ResponseBodies{}
	for status, desc := range openAPIErrors {
		out[openAPIErrorName(status)] = &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription(desc).WithJSONSchemaRef(b.ref("Error"))}
	}
	return out
}

// openAPIErrorName names a shared error answer: "NotFound".
func openAPIErrorName(status int) string {
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// openAPIRendered says what saving a number does to its tts messages.
const openAPIRendered = "Text-to-speech messages are rendered before the number is saved (and cached: an unchanged message " +
	"renders nothing): a `language` or `voice` that `GET /v1/voices` does not list is a 422 on " +
	"`message_settings.<kind>.language` or `message_settings.<kind>.voice`, and a text that speaks nothing a 422 on " +
	"`message_settings.<kind>.text`."

// openAPIOperation is one route as the document shows it.
type openAPIOperation struct {
	method, path string
	id           string // operationId: the handler's name
	tag, summary string
	roles        string                // one of the openAPI… role constants
	details      string                // more description, after the roles
	list         bool                  // takes the list parameters
	query        []*openapi3.Parameter // more query parameters
	body         *openapi3.SchemaRef
	status       int                 // on success
	result       *openapi3.SchemaRef // nil: no body
	resultDesc   string
	errors       []int // beyond those the operation's shape implies
	public       bool
	upload       *openapi3.SchemaRef // a multipart/form-data body, instead of JSON
	binary       string              // the success body's media type, when not JSON
	headers      map[string]string   // headers of the success answer: name → description
}

var openAPIPathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// operation builds an operation; its shape implies some errors: 401 unless
// public, 404 with path parameters, 422 for lists, 400/413/422 for bodies.
func (b *openAPIBuilder) operation(o openAPIOperation) *openapi3.Operation {
	op := &openapi3.Operation{
		OperationID: o.id,
		Summary:     o.summary,
		Tags:        []string{o.tag},
		Description: strings.TrimSpace(o.roles + "\n\n" + o.details),
		Responses:   openapi3.NewResponses(),
	}
	errs := slices.Clone(o.errors)
	if o.public {
		op.Security = &openapi3.SecurityRequirements{}
	} else {
		op.Security = openapi3.NewSecurityRequirements().With(openapi3.SecurityRequirement{"basicAuth": {}})
		errs = append(errs, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	}
	for _, m := range openAPIPathParam.FindAllStringSubmatch(o.path, -1) {
		what := "the resource"
		if m[1] == "file" {
			op.AddParameter(openapi3.NewPathParameter("file").
				WithDescription("`<sha256>.wav`: the SHA-256 (64 lower-case hex digits) of the file's content, then `.wav`; " +
					"anything else, or a file the server does not have, is a 404.").
				WithSchema(openapi3.NewStringSchema().WithPattern(`^[0-9a-f]{64}\.wav$`)))
			errs = append(errs, http.StatusNotFound)
			continue
		}
		if m[1] == "delivery_id" {
			op.AddParameter(openapi3.NewPathParameter("delivery_id").
				WithDescription("The delivery's `delivery_id` (a UUID); anything else is a 404.").
				WithSchema(openapi3.NewUUIDSchema()))
			errs = append(errs, http.StatusNotFound)
			continue
		}
		switch m[1] {
		case "user_id":
			what = "the user"
		case "tag_id":
			what = "the tag"
		}
		op.AddParameter(openapi3.NewPathParameter(m[1]).
			WithDescription("Id of " + what + "; anything but a positive integer is a 404.").
			WithSchema(openapi3.NewInt64Schema().WithMin(1)))
		errs = append(errs, http.StatusNotFound)
	}
	if o.list {
		for _, q := range b.listParameters() {
			op.AddParameter(q)
		}
		errs = append(errs, http.StatusBadRequest)
		if len(o.query) > 0 {
			errs = append(errs, http.StatusUnprocessableEntity) // a search's filter with a value it cannot take
		}
	}
	for _, q := range o.query {
		op.AddParameter(q)
	}
	if o.body != nil {
		op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithDescription("A JSON object; unknown fields are a 422.").WithJSONSchemaRef(o.body)}
		errs = append(errs, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	}
	if o.upload != nil {
		op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithDescription("A multipart/form-data body; other fields are a 422.").
			WithContent(openapi3.NewContentWithFormDataSchemaRef(o.upload))}
		errs = append(errs, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
			http.StatusUnprocessableEntity, http.StatusServiceUnavailable)
	}
	success := openapi3.NewResponse().WithDescription(o.resultDesc)
	switch {
	case o.binary != "":
		success.WithContent(openapi3.NewContentWithSchema(openapi3.NewStringSchema().WithFormat("binary"), []string{o.binary}))
	case o.result != nil:
		success.WithJSONSchemaRef(o.result)
	}
	if len(o.headers) > 0 {
		success.Headers = openapi3.Headers{}
		for name, desc := range o.headers {
			success.Headers[name] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
				Description: desc, Schema: openapi3.NewStringSchema().NewRef()}}}
		}
	}
	op.Responses.Set(fmt.Sprint(o.status), &openapi3.ResponseRef{Value: success})
	if o.path == "/readyz" {
		op.Responses.Set(fmt.Sprint(http.StatusServiceUnavailable), &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription("A dependency does not answer; `checks` says which.").WithJSONSchemaRef(o.result)})
	}
	for _, status := range errs {
		op.Responses.Set(fmt.Sprint(status), &openapi3.ResponseRef{Ref: "#/components/responses/" + openAPIErrorName(status)})
	}
	return op
}

// listParameters are those page() reads.
func (b *openAPIBuilder) listParameters() []*openapi3.Parameter {
	unix := func(name, desc string) *openapi3.Parameter {
		return openapi3.NewQueryParameter(name).WithDescription(desc).
			WithSchema(openapi3.NewInt64Schema().WithMin(0).WithMax(1 << 40))
	}
	return []*openapi3.Parameter{
		openapi3.NewQueryParameter("page").WithDescription("Page number, from 1.").
			WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(1_000_000).WithDefault(1)),
		openapi3.NewQueryParameter("per_page").WithDescription("Items per page.").
			WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(maxPerPage).WithDefault(20)),
		openapi3.NewQueryParameter("order").WithDescription("By creation: `asc` oldest first, `desc` newest first.").
			WithSchema(openapi3.NewStringSchema().WithEnum("asc", "desc").WithDefault("asc")),
		unix("from", "Only items created at or after this time, in UNIX seconds."),
		unix("to", "Only items created at or before this time, in UNIX seconds."),
	}
}

// wrapped is one object under its key: {"user": {...}}.
func (b *openAPIBuilder) wrapped(key, schema string) *openapi3.SchemaRef {
	return openapi3.NewObjectSchema().WithoutAdditionalProperties().
		WithPropertyRef(key, b.ref(schema)).WithRequired([]string{key}).NewRef()
}

// listed is a page of objects under key, with meta.
func (b *openAPIBuilder) listed(key, schema string) *openapi3.SchemaRef {
	return openapi3.NewObjectSchema().WithoutAdditionalProperties().
		WithProperty(key, b.array("", b.ref(schema))).
		WithPropertyRef("meta", b.ref("Meta")).
		WithRequired([]string{key, "meta"}).NewRef()
}

// operations lists every route of routes.go, in its order (those of
// media.go, prompt files included, in mediaOperations).
func (b *openAPIBuilder) operations() []openAPIOperation {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
		ok, created, noBody = http.StatusOK, http.StatusCreated, http.StatusNoContent
	)
	deny := []int{http.StatusForbidden}
	denyOrConflict := []int{http.StatusForbidden, http.StatusConflict}
	denyRenderOrConflict := []int{http.StatusForbidden, http.StatusConflict, http.StatusServiceUnavailable}
	ops := []openAPIOperation{
		{method: get, path: "/healthz", id: "healthz", tag: "health", summary: "Liveness probe", public: true,
			roles: openAPIPublic, details: "200 whenever the process is up.",
			status: ok, result: b.ref("Health"), resultDesc: "The process is up."},
		{method: get, path: "/readyz", id: "readyz", tag: "health", summary: "Readiness probe", public: true,
			roles: openAPIPublic, details: "200 only when PostgreSQL (and the media server, once one is configured) answer; 503 otherwise.",
			status: ok, result: b.ref("Readiness"), resultDesc: "Every dependency answers."},
		{method: get, path: "/v1/openapi.json", id: "openAPI", tag: "meta", summary: "This OpenAPI document", public: true,
			roles: openAPIPublic, status: ok, result: openapi3.NewObjectSchema().NewRef(), resultDesc: "The OpenAPI 3.0.3 document."},

		{method: get, path: "/v1/ping", id: "ping", tag: "meta", summary: "Check the credentials",
			roles: openAPIAnyRole, details: "Aircall's ping: what an integration calls to check its key.",
			status: ok, result: b.ref("Ping"), resultDesc: "The key works."},

		{method: get, path: "/v1/company", id: "getCompany", tag: "company", summary: "Get the company",
			roles: openAPIAnyRole, status: ok, result: b.wrapped("company", "Company"), resultDesc: "The caller's company."},
		{method: put, path: "/v1/company", id: "updateCompany", tag: "company", summary: "Update the company",
			roles: openAPIOwners, body: b.ref("Company"), errors: deny,
			status: ok, result: b.wrapped("company", "Company"), resultDesc: "The company as saved."},

		{method: get, path: "/v1/users", id: "listUsers", tag: "users", summary: "List users",
			roles: openAPIReaders, list: true, errors: deny,
			status: ok, result: b.listed("users", "User"), resultDesc: "A page of users."},
		{method: post, path: "/v1/users", id: "createUser", tag: "users", summary: "Create a user",
			roles: openAPIAdmins, details: "`first_name` and `email` are required. Only an owner may create an owner.",
			body: b.ref("User"), errors: denyOrConflict,
			status: created, result: b.wrapped("user", "User"), resultDesc: "The new user."},
		{method: get, path: "/v1/users/availabilities", id: "listAvailabilities", tag: "users", summary: "List users' availabilities",
			roles: openAPIReaders, list: true, errors: deny,
			status: ok, result: b.listed("users", "Availability"), resultDesc: "A page of availabilities, under `users` as in Aircall."},
		{method: get, path: "/v1/users/{id}", id: "getUser", tag: "users", summary: "Get a user",
			roles: openAPISelfRead, errors: deny, status: ok, result: b.wrapped("user", "User"), resultDesc: "The user."},
		{method: put, path: "/v1/users/{id}", id: "updateUser", tag: "users", summary: "Update a user",
			roles: openAPISelfEdit, details: "Only admins change `role`, `email`, `extension`, `wrap_up_time` and `devices` " +
				"(others may send them unchanged); only an owner changes `owner`; admins cannot take away their own admin role.",
			body: b.ref("User"), errors: denyOrConflict,
			status: ok, result: b.wrapped("user", "User"), resultDesc: "The user as saved."},
		{method: del, path: "/v1/users/{id}", id: "deleteUser", tag: "users", summary: "Delete a user",
			roles: openAPIAdmins, details: "409 for the caller's own user, and for a user that a number's distribution or IVR rings.",
			errors: denyOrConflict, status: noBody, resultDesc: "Deleted."},
		{method: get, path: "/v1/users/{id}/availability", id: "getAvailability", tag: "users", summary: "Get a user's availability",
			roles: openAPISelfRead, errors: deny,
			status: ok, result: b.ref("Availability"), resultDesc: "The availability: Aircall's `{\"availability\": \"…\"}`, with the setting beside it."},
		{method: put, path: "/v1/users/{id}/availability", id: "updateAvailability", tag: "users", summary: "Set a user's availability",
			roles: openAPISelfEdit, body: b.ref("AvailabilityInput"), errors: deny,
			status: ok, result: b.ref("Availability"), resultDesc: "The availability as saved."},

		{method: get, path: "/v1/teams", id: "listTeams", tag: "teams", summary: "List teams",
			roles: openAPIReaders, list: true, errors: deny,
			status: ok, result: b.listed("teams", "Team"), resultDesc: "A page of teams."},
		{method: post, path: "/v1/teams", id: "createTeam", tag: "teams", summary: "Create a team",
			roles: openAPIAdmins, details: "`name` is required.", body: b.ref("TeamInput"), errors: denyOrConflict,
			status: created, result: b.wrapped("team", "Team"), resultDesc: "The new team."},
		{method: get, path: "/v1/teams/{id}", id: "getTeam", tag: "teams", summary: "Get a team",
			roles: openAPIReaders, errors: deny, status: ok, result: b.wrapped("team", "Team"), resultDesc: "The team."},
		{method: put, path: "/v1/teams/{id}", id: "updateTeam", tag: "teams", summary: "Update a team",
			roles: openAPIAdmins, details: "`users`, when sent, replaces the members and their order.",
			body: b.ref("TeamInput"), errors: denyOrConflict,
			status: ok, result: b.wrapped("team", "Team"), resultDesc: "The team as saved."},
		{method: del, path: "/v1/teams/{id}", id: "deleteTeam", tag: "teams", summary: "Delete a team",
			roles: openAPIAdmins, details: "409 while a number's distribution or IVR rings the team.",
			errors: denyOrConflict, status: noBody, resultDesc: "Deleted."},
		{method: post, path: "/v1/teams/{id}/users/{user_id}", id: "addTeamMember", tag: "teams", summary: "Add a member to a team",
			roles: openAPIAdmins, details: "Appends the user to the ringing order; a member already there keeps their place. " +
				"404 for a team or a user not in the company.",
			errors: deny, status: ok, result: b.wrapped("team", "Team"), resultDesc: "The team with its members."},
		{method: del, path: "/v1/teams/{id}/users/{user_id}", id: "removeTeamMember", tag: "teams", summary: "Remove a member from a team",
			roles: openAPIAdmins, details: "404 when the user is not a member.",
			errors: deny, status: ok, result: b.wrapped("team", "Team"), resultDesc: "The team with its remaining members."},

		{method: get, path: "/v1/numbers", id: "listNumbers", tag: "numbers", summary: "List numbers",
			roles: openAPIReaders, list: true, errors: deny,
			status: ok, result: b.listed("numbers", "Number"), resultDesc: "A page of numbers."},
		{method: post, path: "/v1/numbers", id: "createNumber", tag: "numbers", summary: "Create a number",
			roles: openAPIAdmins, details: "`name` and `digits` are required. IVR options whose number-to-number transfers lead " +
				"back to this number are a 422 on `ivr_options[i].target.id`, whose message shows the path. " + openAPIRendered,
			body: b.ref("Number"), errors: denyRenderOrConflict,
			status: created, result: b.wrapped("number", "Number"), resultDesc: "The new number."},
		{method: get, path: "/v1/numbers/{id}", id: "getNumber", tag: "numbers", summary: "Get a number",
			roles: openAPIReaders, errors: deny, status: ok, result: b.wrapped("number", "Number"), resultDesc: "The number."},
		{method: put, path: "/v1/numbers/{id}", id: "updateNumber", tag: "numbers", summary: "Update a number",
			roles: openAPIAdmins, details: "IVR options whose number-to-number transfers lead back to this number are a 422 on " +
				"`ivr_options[i].target.id`, whose message shows the path (`Standard → Sales → Standard`); nothing is saved. " +
				openAPIRendered,
			body: b.ref("Number"), errors: denyRenderOrConflict,
			status: ok, result: b.wrapped("number", "Number"), resultDesc: "The number as saved."},
		{method: del, path: "/v1/numbers/{id}", id: "deleteNumber", tag: "numbers", summary: "Delete a number",
			roles: openAPIAdmins, details: "409 while another number's IVR transfers to it. Its past calls stay.",
			errors: denyOrConflict, status: noBody, resultDesc: "Deleted."},
		{method: get, path: "/v1/numbers/{id}/flow", id: "getFlow", tag: "numbers", summary: "Get a number's call flow",
			roles: openAPIReaders, details: "The number's configuration compiled into the graph the call engine runs: nodes in the " +
				"order a call meets them (blocked callers, opening hours, welcome, menu or ring steps, voicemail), each with the " +
				"node that follows each of its outcomes. Computed, never stored: it always shows the number as saved now.",
			errors: deny, status: ok, result: b.wrapped("flow", "Flow"), resultDesc: "The flow."},
		{method: get, path: "/v1/numbers/{id}/messages/{kind}", id: "getNumberMessage", tag: "numbers",
			summary: "Download a number's message", roles: openAPIReaders,
			details: "The audio of one of the number's messages (`welcome`, `ivr`, `waiting`, `ringing_tone`, `unanswered_call`, " +
				"`after_hours`, `callback_later`, `blocked`): the link its `messages` show, as Aircall's. 404 for a message the " +
				"number does not set (it plays the default).",
			errors: []int{http.StatusForbidden, http.StatusServiceUnavailable},
			status: ok, binary: "audio/wav", resultDesc: "The message as the media servers play it: 8 kHz mono 16-bit wav."},
		{method: post, path: "/v1/numbers/{id}/dry_run", id: "dryRun", tag: "numbers", summary: "Dry-run a call to a number",
			roles: openAPIReaders, details: "Runs the real call-flow engine for one imagined call to the number, on a simulated media " +
				"server and a virtual clock that starts at `at`, and **writes nothing**: no call record, no timeline, no webhook, no " +
				"change to any agent's live status.\n\n" +
				"Every field but `at` may be left out, and then: an anonymous caller (`from`), no digits pressed (`digits`; a menu " +
				"then plays twice before the call goes on as when nobody chooses), agents as they are now (`agents`), nobody answers (`answer`), " +
				"the caller never hangs up (`hangup_after_seconds`) nor presses * (`press_star_after_seconds`). `digits` are " +
				"pressed one by one, each while a menu plays. `agents` overrides the live status of some users, by id " +
				"(`unavailable` is `do_not_disturb`); the others are as the live agents and their settings make them now. `answer` " +
				"names the one phone that picks up, `answer.after_seconds` after it starts ringing, and then talks one minute " +
				"before hanging up: a user's (`answer.user_id`: their devices and external number) or an external number " +
				"(`answer.external_number`: an IVR key forwarding to it, or a user whose external number it is). Every other " +
				"phone rings out: a forward to an external number not named is an unsuccessful transfer " +
				"(`call.unsuccessful_transfer` in the timeline), and the caller goes to voicemail.\n\n" +
				"In the answer, times are whole seconds after `at`. A field that fails validation is a 422 naming it (`at`, " +
				"`from`, `digits`, `agents`, `agents.<id>`, `answer.user_id`, `answer.external_number`, `answer.after_seconds`, " +
				"`press_star_after_seconds`, `hangup_after_seconds`).",
			body: b.ref("DryRunRequest"), errors: deny,
			status: ok, result: b.ref("DryRunResult"), resultDesc: "How the imagined call went."},
	}
	ops = append(ops, b.mediaOperations()...)
	ops = append(ops, []openAPIOperation{
		{method: get, path: "/v1/calls", id: "listCalls", tag: "calls", summary: "List calls",
			roles: openAPICalls, details: "`order`, `from` and `to` apply to `started_at`. Calls come without their `timeline` " +
				"unless `fetch_call_timeline=true`.",
			list: true, query: []*openapi3.Parameter{b.fetchTimelineParameter()}, status: ok, result: b.listed("calls", "Call"), resultDesc: "A page of calls."},
		{method: get, path: "/v1/calls/search", id: "searchCalls", tag: "calls", summary: "Search calls",
			roles: openAPICalls, details: "The list parameters, and filters that must all match; a filter with a value it cannot " +
				"take is a 422 naming it. `order`, `from` and `to` apply to `started_at`. Calls come without their `timeline` " +
				"unless `fetch_call_timeline=true`.",
			list: true, query: b.callSearchParameters(), status: ok, result: b.listed("calls", "Call"), resultDesc: "A page of the calls found."},
		{method: get, path: "/v1/calls/{id}", id: "getCall", tag: "calls", summary: "Get a call",
			roles: openAPICalls, details: "With its `timeline`.", errors: deny,
			status: ok, result: b.wrapped("call", "Call"), resultDesc: "The call."},
		{method: get, path: "/v1/calls/{id}/recording", id: "getCallRecording", tag: "calls", summary: "Download a call's recording",
			roles: openAPICalls, details: openAPISignedLink + "\n\nRead from the media server as it streams (Asterisk: its stored " +
				"recordings; FreeSWITCH: its recordings directory, which must be shared with switchboard). 404 when the call has " +
				"none or the media server no longer has it, 503 without a media server, 502 when it fails.",
			query:  b.signedLinkParameters(),
			errors: []int{http.StatusForbidden, http.StatusBadGateway, http.StatusServiceUnavailable},
			status: ok, binary: "audio/wav", resultDesc: "The conversation, both sides.",
			headers: map[string]string{"Content-Disposition": "`attachment`, as `call-<id>-recording.wav`."}},
		{method: get, path: "/v1/calls/{id}/voicemail", id: "getCallVoicemail", tag: "calls", summary: "Download a call's voicemail",
			roles: openAPICalls, details: openAPISignedLink + "\n\nAs the recording: 404 when the caller left none.",
			query:  b.signedLinkParameters(),
			errors: []int{http.StatusForbidden, http.StatusBadGateway, http.StatusServiceUnavailable},
			status: ok, binary: "audio/wav", resultDesc: "The caller's message.",
			headers: map[string]string{"Content-Disposition": "`attachment`, as `call-<id>-voicemail.wav`."}},
		{method: post, path: "/v1/calls/{id}/tags", id: "tagCall", tag: "calls", summary: "Tag a call",
			roles: openAPICalls, details: "Adds the tags (those already on the call stay) and a `call.tagged` event; " +
				"an id that is not one of the company's tags is a 422 naming it (`tags[1]`). This lifts the tagging user's " +
				"pending tag state (numbers with mandatory tagging).",
			body: b.ref("CallTagsInput"), errors: deny,
			status: created, result: b.wrapped("call", "Call"), resultDesc: "The call, with its timeline."},
		{method: del, path: "/v1/calls/{id}/tags/{tag_id}", id: "untagCall", tag: "calls", summary: "Take a tag off a call",
			roles: openAPICalls, details: "Adds a `call.untagged` event; a tag the call does not carry is a 404.",
			errors: deny, status: ok, result: b.wrapped("call", "Call"), resultDesc: "The call, with its timeline."},
		{method: post, path: "/v1/calls/{id}/assign", id: "assignCall", tag: "calls", summary: "Assign a call",
			roles: openAPICalls, details: "Assigns the call to a user of the company (`user_id`, a 422 naming it otherwise), who then " +
				"has it among their calls; adds a `call.assigned` event.",
			body: b.ref("CallAssignInput"), errors: deny,
			status: ok, result: b.wrapped("call", "Call"), resultDesc: "The call, with its timeline."},
		{method: del, path: "/v1/calls/{id}/recording", id: "deleteCallRecording", tag: "calls", summary: "Delete a call's recording",
			roles: openAPIAdmins, details: "Deletes the file from the media server (Asterisk's stored recordings, FreeSWITCH's " +
				"recordings directory), then the call has no recording and its timeline a `call.recording_deleted` event. " +
				"404 when the call has none, 503 without a media server, 502 when it fails (then nothing changes).",
			errors: []int{http.StatusForbidden, http.StatusBadGateway, http.StatusServiceUnavailable},
			status: noBody, resultDesc: "Deleted."},
		{method: del, path: "/v1/calls/{id}/voicemail", id: "deleteCallVoicemail", tag: "calls", summary: "Delete a call's voicemail",
			roles: openAPIAdmins, details: "As the recording; the timeline gets a `call.voicemail_deleted` event.",
			errors: []int{http.StatusForbidden, http.StatusBadGateway, http.StatusServiceUnavailable},
			status: noBody, resultDesc: "Deleted."},
		{method: post, path: "/v1/calls/{id}/comments", id: "commentCall", tag: "calls", summary: "Comment a call",
			roles: openAPICalls, details: "Adds a comment by the caller's user and a `call.commented` event.",
			body: b.ref("CallCommentInput"), errors: deny,
			status: created, result: b.wrapped("call", "Call"), resultDesc: "The call, with its timeline."},
		{method: put, path: "/v1/calls/{id}/archive", id: "archiveCall", tag: "calls", summary: "Archive a call",
			roles: openAPICalls, details: "No body. Adds a `call.archived` event unless the call was archived already.",
			errors: deny, status: ok, result: b.wrapped("call", "Call"), resultDesc: "The call, with its timeline."},
		{method: put, path: "/v1/calls/{id}/unarchive", id: "unarchiveCall", tag: "calls", summary: "Unarchive a call",
			roles: openAPICalls, details: "No body. Adds a `call.unarchived` event unless the call was not archived.",
			errors: deny, status: ok, result: b.wrapped("call", "Call"), resultDesc: "The call, with its timeline."},

		{method: get, path: "/v1/tags", id: "listTags", tag: "tags", summary: "List tags",
			roles: openAPIReaders, list: true, errors: deny,
			status: ok, result: b.listed("tags", "Tag"), resultDesc: "A page of tags, system tags included."},
		{method: post, path: "/v1/tags", id: "createTag", tag: "tags", summary: "Create a tag",
			roles: openAPIAdmins, details: "`name` is required.", body: b.ref("Tag"), errors: denyOrConflict,
			status: created, result: b.wrapped("tag", "Tag"), resultDesc: "The new tag."},
		{method: get, path: "/v1/tags/{id}", id: "getTag", tag: "tags", summary: "Get a tag",
			roles: openAPIReaders, errors: deny, status: ok, result: b.wrapped("tag", "Tag"), resultDesc: "The tag."},
		{method: put, path: "/v1/tags/{id}", id: "updateTag", tag: "tags", summary: "Update a tag",
			roles: openAPIAdmins, details: "System tags cannot be changed (409).", body: b.ref("Tag"), errors: denyOrConflict,
			status: ok, result: b.wrapped("tag", "Tag"), resultDesc: "The tag as saved."},
		{method: del, path: "/v1/tags/{id}", id: "deleteTag", tag: "tags", summary: "Delete a tag",
			roles: openAPIAdmins, details: "System tags cannot be deleted (409). The tag is taken off calls.",
			errors: denyOrConflict, status: noBody, resultDesc: "Deleted."},

		{method: get, path: "/v1/blocked_numbers", id: "listBlockedNumbers", tag: "blocked_numbers", summary: "List blocked numbers",
			roles: openAPIReaders, list: true, errors: deny,
			status: ok, result: b.listed("blocked_numbers", "BlockedNumber"), resultDesc: "A page of blocked numbers."},
		{method: post, path: "/v1/blocked_numbers", id: "blockNumber", tag: "blocked_numbers", summary: "Block a number",
			roles: openAPIAdmins, details: "`digits` is required.", body: b.ref("BlockedNumber"), errors: denyOrConflict,
			status: created, result: b.wrapped("blocked_number", "BlockedNumber"), resultDesc: "The new blocked number."},
		{method: del, path: "/v1/blocked_numbers/{id}", id: "unblockNumber", tag: "blocked_numbers", summary: "Unblock a number",
			roles: openAPIAdmins, errors: deny, status: noBody, resultDesc: "Unblocked."},

		{method: get, path: "/v1/api_keys", id: "listAPIKeys", tag: "api_keys", summary: "List API keys",
			roles: openAPIOwners, details: "Tokens are never listed.", list: true, errors: deny,
			status: ok, result: b.listed("api_keys", "APIKey"), resultDesc: "A page of keys, without tokens."},
		{method: post, path: "/v1/api_keys", id: "createAPIKey", tag: "api_keys", summary: "Create an API key",
			roles: openAPIOwners, details: "The key acts as `user_id` (default: the caller). The answer holds `api_token`, shown this once.",
			body: b.ref("APIKeyInput"), errors: deny,
			status: created, result: b.wrapped("api_key", "APIKey"), resultDesc: "The new key, with its token."},
		{method: del, path: "/v1/api_keys/{id}", id: "deleteAPIKey", tag: "api_keys", summary: "Revoke an API key",
			roles: openAPIOwners, details: "The key stops working at once.", errors: deny, status: noBody, resultDesc: "Revoked."},
	}...)
	ops = append(ops, b.controlOperations()...)
	ops = append(ops, b.liveOperations()...)
	ops = append(ops, b.statsOperations()...)
	ops = append(ops, b.contactOperations()...)
	return append(ops, b.webhookOperations()...)
}

// defineCallSchemas writes the schemas of calls (calls.go): output only,
// so every field is readOnly, and required but `timeline`.
func (b *openAPIBuilder) defineCallSchemas() {
	unixTime := func(desc string) *openapi3.Schema {
		return b.ro(b.described(openapi3.NewInt64Schema().WithMin(0), desc+" UNIX seconds."))
	}
	seconds := func(desc string) *openapi3.Schema {
		return b.ro(b.described(openapi3.NewIntegerSchema().WithMin(0), desc))
	}
	nullableID := func(desc string) *openapi3.Schema { return b.ro(b.id(desc).WithNullable()) }
	enumOrNull := func(desc string, values ...string) *openapi3.Schema {
		s := b.ro(b.enum(desc, values...).WithNullable())
		s.Enum = append(s.Enum, nil)
		return s
	}

	b.define("CallTeam", b.object("A team a call went through.",
		b.p("id", b.ro(b.id("The team's id."))),
		b.linkField("/v1/teams/1"),
		b.p("name", b.ro(b.str("The team's name."))),
		b.createdField()))

	b.define("CallTag", b.object("A tag on a call.",
		b.p("id", b.ro(b.id("The tag's id."))),
		b.p("name", b.ro(b.str("The tag's name."))),
		b.p("tagged_by", b.ro(b.nullableRef("Who put it on the call; null for a tag the call got by itself (a system "+
			"tag) or whose user is deleted.", "UserRef"))),
		b.p("tagged_at", unixTime("When it was put on the call,"))))

	b.define("CallComment", b.object("A comment on a call.",
		b.p("id", b.ro(b.id("The comment's id."))),
		b.p("content", b.ro(b.str("The text."))),
		b.p("posted_at", unixTime("When it was written,")),
		b.p("posted_by", b.ro(b.nullableRef("Who wrote it, as Aircall shows them; null once that user is deleted.", "UserRef")))))

	b.define("CallTransfer", b.object("Where a call was transferred.",
		b.p("type", b.ro(b.enum("Kind of target.", "team", "user", "number", "external", "voicemail"))),
		b.p("id", nullableID("Team, user or number id; null for other types.")),
		b.p("digits", b.ro(b.str("External number (E.164); null for other types.").WithNullable()))))

	b.define("TimelineEvent", b.object("One event of a call.",
		b.p("event", b.ro(b.str("What happened: `call.created`, `call.ringing_on_agent`, `call.answered`, `call.tagged`, …"))),
		b.p("at", unixTime("When,")),
		b.p("user_id", nullableID("The user concerned (rung, answering, tagging…); null for none.")),
		b.p("data", b.ro(b.described(openapi3.NewObjectSchema(), "Details of the event, which depend on it (free-form).")))))

	b.define("IVROptionSelected", b.object("An IVR key the caller pressed, as Aircall shows it.",
		b.p("id", b.ro(b.integer("The key's place in the call: 1 for the first pressed.", 1, math.MaxInt32))),
		b.p("title", b.ro(b.str("`Key ` and the key."))),
		b.p("key", b.ro(b.str("The key pressed."))),
		b.p("branch", b.ro(b.str("Where the key led: `team`, `user`, `number`, `external` or `voicemail`.").WithNullable())),
		b.p("created_at", b.ro(b.stamp("When the key was pressed."))),
		b.p("transition_started_at", b.ro(b.stamp("When the call left the menu (the key was pressed)."))),
		b.p("transition_ended_at", b.ro(b.stamp("When the call's next step began; null if the call ended first.").WithNullable()))))

	call := b.object("A call, as Aircall shows it, with `waiting_time`, `talk_time` and `timeline`.",
		b.idField("call"),
		b.p("sid", b.ro(b.str("Aircall's call sid: here the media server's id of the caller's leg (Asterisk's channel "+
			"uniqueid, FreeSWITCH's uuid), to find the call in the PBX's own records; null before the call has one.").WithNullable())),
		b.linkField("/v1/calls/1"),
		b.p("direction", b.ro(b.enum("Direction.", "inbound", "outbound"))),
		b.p("status", b.ro(b.enum("`initial` (ringing, in the IVR, queued), `answered` or `done`.", "initial", "answered", "done"))),
		b.p("started_at", unixTime("When the call began,")),
		b.p("answered_at", unixTime("When it was answered; null if not (yet),").WithNullable()),
		b.p("ended_at", unixTime("When it ended; null while it runs,").WithNullable()),
		b.p("duration", seconds("Seconds from `started_at` to `ended_at`; 0 while the call runs.")),
		b.p("raw_digits", b.ro(b.str("The other party's number, E.164, or `anonymous`."))),
		b.p("missed_call_reason", extendsAircall(enumOrNull("Why an unanswered call was missed; null when answered or not "+
			"missed. "+missedReasonsNote, missedReasonNames()...), string(dialplan.BlockedCaller))),
		b.p("number", b.ro(b.nullableRef("The number, as Aircall embeds it; null when none (or deleted).", "NumberRef"))),
		b.p("user", b.ro(b.nullableRef("Who answered; null when nobody did (or the user is deleted).", "UserRef"))),
		b.p("teams", b.ro(b.array("Teams the call went through, in order.", b.ref("CallTeam")))),
		b.p("tags", b.ro(b.array("Tags on the call.", b.ref("CallTag")))),
		b.p("comments", b.ro(b.array("Comments, oldest first.", b.ref("CallComment")))),
		b.p("assigned_to", b.ro(b.nullableRef("Who must follow the call up; null for nobody.", "UserRef"))),
		b.p("archived", b.ro(b.boolean("Whether the call is archived (done with, in the inbox)."))),
		b.p("recording", b.ro(b.str("Link to the call's recording: in the API's answers signed and good for 10 "+
			"minutes without credentials (`/v1/calls/1/recording?expires=1795429500&signature=…`); in webhooks' data the unsigned "+
			"link, which needs credentials. Null for none.").WithNullable())),
		b.p("voicemail", b.ro(b.str("Link to the voicemail left, as `recording` (`/v1/calls/1/voicemail?expires=…&signature=…`); "+
			"null for none.").WithNullable())),
		b.p("asset", b.ro(b.str("Link to the call's file to listen to, as Aircall's: the voicemail, else the recording "+
			"(`/v1/calls/1/voicemail`, with credentials); null for none.").WithNullable())),
		b.p("cost", b.ro(b.str("Aircall's cost, in cents: always `0.0`, as calls go through the company's own PBX and trunks.").
			WithPattern(`^[0-9]+\.[0-9]+$`))),
		b.p("country_code_a2", b.ro(b.str("The country of the other party's number (`raw_digits`), when its calling code "+
			"names one country only; null otherwise (anonymous, +1).").WithPattern(`^[A-Z]{2}$`).WithNullable())),
		b.p("pricing_type", b.ro(b.str("Aircall's pricing type: always null, Switchboard prices no call.").WithNullable())),
		b.p("transferred_by", b.ro(b.nullableRef("Who transferred the call, as Aircall's: the user who had answered it; "+
			"null when it was not transferred, or by the number's configuration (an IVR key, a forward).", "UserRef"))),
		b.p("transferred_to", b.ro(b.nullableRef("The user the call was transferred to, as Aircall's; null when it was not "+
			"transferred to a user (`transfer_target` says where it went).", "UserRef"))),
		b.p("transfer_target", b.ro(b.nullableRef("Where the call was transferred (a team, a user, a number, an external "+
			"number, voicemail); null if it was not.", "CallTransfer"))),
		b.p("contact", b.ro(b.nullableRef("The contact of the company's address book whose phone number is the other party's "+
			"(`raw_digits`), the oldest when several have it; null for none.", "Contact"))),
		b.p("hangup_cause", b.ro(b.str("The media server's hang-up cause; null while unknown.").WithNullable())),
		b.p("ivr_options_selected", b.ro(b.array("IVR keys the caller pressed, in order, as Aircall's: only with "+
			"`fetch_call_timeline=true`, and on `GET /v1/calls/{id}` and the call actions.", b.ref("IVROptionSelected")))),
		b.p("waiting_time", seconds("Seconds the caller waited before an answer (or the end); null while unknown.").WithNullable()),
		b.p("talk_time", seconds("Seconds of conversation (0 when nobody answered); null until the call ends.").WithNullable()),
		b.p("timeline", b.ro(b.array("Every event of the call, oldest first; only on `GET /v1/calls/{id}`, the call actions "+
			"and with `fetch_call_timeline=true`.",
			b.ref("TimelineEvent")))))
	call.Required = slices.DeleteFunc(call.Required, func(s string) bool { return s == "timeline" || s == "ivr_options_selected" })
	b.define("Call", call)

	b.define("CallTagsInput", b.object("Tags to put on a call.",
		b.p("tags", b.array("Ids of the company's tags.", b.id("A tag id.").NewRef()).WithMinItems(1).WithMaxItems(maxCallTags))).
		WithRequired([]string{"tags"}))

	b.define("CallAssignInput", b.object("Whom a call is assigned to.",
		b.p("user_id", b.id("A user of the company."))).WithRequired([]string{"user_id"}))

	b.define("CallCommentInput", b.object("A comment on a call.",
		b.p("content", b.nonEmpty("The text, not blank.", maxCommentLength))).WithRequired([]string{"content"}))
}

// defineFlowSchemas writes the schemas of a number's flow and of its dry
// run (dryrun.go, dialplan/flow.go): dialplan.Flow, dryRunInput and
// dryRunJSON.
func (b *openAPIBuilder) defineFlowSchemas() {
	messageKind := func(desc string) *openapi3.Schema {
		return b.enum(desc, "welcome", "ivr", "waiting", "ringing_tone", "unanswered_call", "after_hours", "callback_later", "blocked")
	}
	next := b.described(openapi3.NewObjectSchema().WithAdditionalProperties(b.str("A node id, or empty: the call ends.")),
		"The node that follows each outcome of this one, such as `answered`, `no_answer`, `nobody_free`, `timeout`, `done`, "+
			"`open`, `closed`, `blocked`, `allowed`, `no_choice`, a menu key (`0`-`9`) or `*` (a queued caller asks to be "+
			"called back); an empty id ends the call. Every id named is a node of the flow.")
	node := b.object("One step of a flow. `message`, `step` and `target` are left out when the node has none.",
		b.p("id", b.ro(b.str("Unique in the flow: `blocked`, `blocked_message`, `hours`, `after_hours`, `welcome`, `menu`, "+
			"`option_<key>`, `step_<n>`, `queue_<n>`, `callback`, `voicemail`."))),
		b.p("kind", b.ro(b.enum("What the node does.", "check_blocked", "message", "business_hours", "menu",
			"ring_user", "ring_team", "queue", "callback_request", "transfer", "forward", "voicemail", "hangup"))),
		b.p("message", b.ro(messageKind("The message the node plays, if any."))),
		b.pRef("step", b.ref("Step")),
		b.pRef("target", b.ref("Target")),
		b.p("next", b.ro(next)))
	node.Required = slices.DeleteFunc(node.Required, func(s string) bool { return s == "message" })
	b.define("FlowNode", node)

	b.define("Flow", b.object("A number's configuration compiled into the graph the call engine runs.",
		b.p("number_id", b.ro(b.id("The number's id."))),
		b.p("start", b.ro(b.str("The id of the first node (`blocked`)."))),
		b.p("nodes", b.ro(b.array("The nodes, in the order a call meets them.", b.ref("FlowNode"))))))

	seconds := func(desc string) *openapi3.Schema { return b.integer(desc, 1, maxScript).WithNullable() }
	agents := b.described(openapi3.NewObjectSchema().WithAdditionalProperties(
		b.enum("A live status; `unavailable` is `do_not_disturb`.", "available", "unavailable", "offline", "do_not_disturb",
			"in_call", "after_call_work", "pending_tag")),
		"Live status of some users, keyed by user id (`{\"12\": \"in_call\"}`); the others are as they are now.")
	// One of user_id and external_number, as dryRunInput.parse wants.
	answer := b.object("The one phone that answers when rung: a user's or an external number; null or left out: nobody. "+
		"It talks one minute, then hangs up; every other phone rings out.",
		b.p("user_id", b.id("The user who answers, on any of their phones; not with `external_number`.")),
		b.p("external_number", b.phone("The external number that answers: an IVR key's forward, or a user's external "+
			"number; not with `user_id`. Any other external number rings out.").WithMinLength(1)),
		b.p("after_seconds", b.integer("Seconds the phone rings before it answers. Default 0. A phone that "+
			"stops ringing first (a forward rings 60 seconds, a step its `ring_seconds`) does not answer.", 0, maxScript))).WithNullable()
	answer.OneOf = openapi3.SchemaRefs{
		openapi3.NewSchema().WithRequired([]string{"user_id"}).NewRef(),
		openapi3.NewSchema().WithRequired([]string{"external_number"}).NewRef(),
	}
	b.define("DryRunRequest", b.object("An imagined call. Every field but `at` is optional.",
		b.p("from", b.phone("The caller; left out or empty for an anonymous caller.")),
		b.p("at", b.dateTime("When the call comes in (RFC 3339, with its offset: `2026-11-23T10:15:00+01:00`); required.")),
		b.p("digits", b.str("Keys the caller presses, one each time a menu asks: 0-9, * and #, at most 20.").
			WithPattern(`^[0-9*#]{0,20}$`)),
		b.p("agents", agents),
		b.p("answer", answer),
		b.p("press_star_after_seconds", seconds("Seconds after the call starts at which the caller presses * (asks to be "+
			"called back, where the number allows it); null or left out: never.")),
		b.p("hangup_after_seconds", seconds("Seconds after the call starts at which the caller hangs up; null or left out: never."))).
		WithRequired([]string{"at"}))

	at := func(desc string) *openapi3.Schema {
		return b.ro(b.described(openapi3.NewIntegerSchema().WithMin(0), desc+", in seconds after `at`."))
	}
	b.define("DryRunRing", b.object("An agent rung during a dry run.",
		b.p("user_id", b.ro(b.id("The user rung."))),
		b.p("at_seconds", at("When their phones started ringing")),
		b.p("for_seconds", b.ro(b.described(openapi3.NewIntegerSchema().WithMin(0), "How long they rang.")))))
	event := b.object("One event of a dry run's call, as a call's timeline would hold it.",
		b.p("event", b.ro(b.str("What happened: `call.created`, `call.ivr_option_selected`, `call.ringing_on_agent`, "+
			"`call.answered`, `call.transferred`, `call.unsuccessful_transfer` (a forward not answered), `call.voicemail_left`, …"))),
		b.p("at_seconds", at("When")),
		b.p("user_id", b.ro(b.id("The user concerned; left out for none."))),
		b.p("data", b.ro(b.described(openapi3.NewObjectSchema(), "Details of the event, which depend on it (free-form); "+
			"left out when none."))))
	event.Required = []string{"event", "at_seconds"}
	b.define("DryRunEvent", event)

	enumOrNull := func(desc string, values ...string) *openapi3.Schema {
		s := b.ro(b.enum(desc, values...).WithNullable())
		s.Enum = append(s.Enum, nil)
		return s
	}
	b.define("DryRunResult", b.object("How an imagined call went. Nothing of it was saved.",
		b.p("outcome", b.ro(b.enum("How the call ended: answered by an agent, a voicemail left, missed, forwarded to (and "+
			"answered by) an external number, a blocked caller, a callback asked.",
			"answered", "voicemail", "missed", "forwarded", "blocked", "callback_requested"))),
		b.p("missed_call_reason", enumOrNull("Why the call counts as missed (as a real call's `missed_call_reason`); "+
			"null when it does not. A call may leave a voicemail and be missed. "+missedReasonsNote, missedReasonNames()...)),
		b.p("open", b.ro(b.boolean("Whether the line was open at `at`."))),
		b.p("ivr_option", b.ro(b.str("The menu key the caller chose; null for none.").WithNullable())),
		b.p("rung", b.ro(b.array("The agents rung, in the order they started ringing.", b.ref("DryRunRing")))),
		b.p("answered_by", b.ro(b.id("The user who answered; null for nobody.").WithNullable())),
		b.p("forwarded_to", b.ro(b.nullableRef("Where an IVR key sent the call on: another number of the company (`type` "+
			"`number`, `id`; that number's flow then runs) or an external number (`type` `external`, `digits`, whether or not "+
			"it answered: `outcome` `forwarded` if it did, a `call.unsuccessful_transfer` event if not); null if it was not.", "Target"))),
		b.p("messages_played", b.ro(b.array("The messages played to the caller, in order (a menu played twice is there twice).",
			messageKind("A message.").NewRef()))),
		b.p("timeline", b.ro(b.array("Every event of the call, oldest first.", b.ref("DryRunEvent"))))))
}

// openAPISignedLink says how a download route takes a signed link.
const openAPISignedLink = "**Signed link:** the link `GET /v1/calls/{id}` gives (`recording`, `voicemail`) is this path with " +
	"`expires` and `signature`, and downloads **without credentials** for 10 minutes, by anyone who holds it. A request " +
	"with either parameter is judged by them alone (credentials, if sent, are not read): 403 `link expired` once it has " +
	"expired, 403 `invalid link` when a part was altered or is missing, or the file was deleted or replaced since the " +
	"link was given (so is a link to a call that does not exist); `troubleshoot` says to get a fresh link from " +
	"`GET /v1/calls/{id}`. Without them, credentials are needed as everywhere, with the role rules above."

// signedLinkParameters are those of a signed link (signed.go).
func (b *openAPIBuilder) signedLinkParameters() []*openapi3.Parameter {
	return []*openapi3.Parameter{
		openapi3.NewQueryParameter("expires").WithDescription("Of a signed link: when it expires, in UNIX seconds.").
			WithSchema(openapi3.NewInt64Schema().WithMin(1)),
		openapi3.NewQueryParameter("signature").WithDescription("Of a signed link: its HMAC-SHA256, 43 base64url characters.").
			WithSchema(openapi3.NewStringSchema().WithPattern(`^[A-Za-z0-9_-]{43}$`)),
	}
}

// callSearchParameters are the filters searchCalls reads.
// fetchTimelineParameter is Aircall's fetch_call_timeline.
func (b *openAPIBuilder) fetchTimelineParameter() *openapi3.Parameter {
	s := openapi3.NewStringSchema()
	s.Enum = []any{"true", "false"}
	return openapi3.NewQueryParameter("fetch_call_timeline").WithSchema(s).
		WithDescription("`true`: each call comes with its `timeline` and `ivr_options_selected`, as Aircall's. Default `false`.")
}

func (b *openAPIBuilder) callSearchParameters() []*openapi3.Parameter {
	enum := func(name, desc string, values ...string) *openapi3.Parameter {
		s := openapi3.NewStringSchema()
		for _, v := range values {
			s.Enum = append(s.Enum, v)
		}
		return openapi3.NewQueryParameter(name).WithDescription(desc).WithSchema(s)
	}
	id := func(name, desc string) *openapi3.Parameter {
		return openapi3.NewQueryParameter(name).WithDescription(desc).WithSchema(openapi3.NewInt64Schema().WithMin(1))
	}
	return []*openapi3.Parameter{
		b.fetchTimelineParameter(),
		enum("direction", "Only calls in this direction.", "inbound", "outbound"),
		enum("status", "Only calls in this status.", "initial", "answered", "done"),
		id("number_id", "Only calls of this number."),
		id("user_id", "Only calls this user answered."),
		enum("missed_call_reason", "Only calls missed for this reason. "+missedReasonsNote, missedReasonNames()...),
		id("tag_id", "Only calls with this tag (the dashboard's history filters on it, as the admin guide's)."),
		openapi3.NewQueryParameter("phone_number").WithSchema(openapi3.NewStringSchema().WithMaxLength(64)).
			WithDescription("Only calls with this number (`raw_digits`); national numbers are read in the company's country."),
		openapi3.NewQueryParameter("email").WithSchema(openapi3.NewStringSchema().WithMaxLength(maxEmail)).
			WithDescription("Only calls with a phone number of the contacts that have this email (case-insensitive)."),
	}
}
