package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/dialplan/dialplantest"
	"github.com/switchboard/switchboard/events"
	"github.com/switchboard/switchboard/prompts"
	"github.com/switchboard/switchboard/store"
)

// web is where the objects these tests check are served: their links are
// absolute URLs under it.
const web = site("https://switchboard.example.com")

// These tests need no database: they check the document against the
// router and the Go types.

// loadOpenAPI loads the served bytes as a client would, refs resolved.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIJSON())
	require.NoError(t, err)
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	require.NoError(t, doc.Validate(context.Background()))
	require.Equal(t, "3.0.3", doc.OpenAPI)

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			require.NotEmpty(t, op.Summary, where)
			require.NotEmpty(t, op.Tags, where)
			require.NotEmpty(t, op.OperationID, where)
			require.NotNil(t, op.Security, "%s: security must be explicit", where)
			public := !strings.HasPrefix(path, "/v1/") || path == "/v1/openapi.json"
			if public {
				require.Empty(t, *op.Security, "%s is public", where)
				require.True(t, strings.HasPrefix(op.Description, "**Access:** public"), where)
				require.Nil(t, op.Responses.Status(http.StatusUnauthorized), where)
			} else {
				require.Equal(t, openapi3.SecurityRequirements{{"basicAuth": {}}}, *op.Security, where)
				require.True(t, strings.HasPrefix(op.Description, "**Roles:**"), "%s: description must say who may call it", where)
				require.NotNil(t, op.Responses.Status(http.StatusUnauthorized), where)
			}
			if strings.Contains(path, "{") {
				require.NotNil(t, op.Responses.Status(http.StatusNotFound), where)
			}
			if op.RequestBody != nil {
				for _, status := range []int{http.StatusBadRequest, http.StatusUnprocessableEntity} {
					require.NotNil(t, op.Responses.Status(status), "%s: %d", where, status)
				}
			}
			if method == http.MethodGet && op.Parameters.GetByInAndName("query", "page") != nil { // a list
				for _, name := range []string{"page", "per_page", "order", "from", "to"} {
					require.NotNil(t, op.Parameters.GetByInAndName("query", name), "%s: %s", where, name)
				}
				perPage := op.Parameters.GetByInAndName("query", "per_page").Schema.Value
				require.Equal(t, 1.0, *perPage.Min)
				require.Equal(t, float64(maxPerPage), *perPage.Max)
			}
		}
	}
	scheme := doc.Components.SecuritySchemes["basicAuth"].Value
	require.Equal(t, "http", scheme.Type)
	require.Equal(t, "basic", scheme.Scheme)
}

// ginPath turns gin's :id and *rest into OpenAPI's {id}.
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func TestOpenAPICoversEveryRoute(t *testing.T) {
	engine, ok := NewServer(Deps{}).(*gin.Engine)
	require.True(t, ok, "NewServer must return a *gin.Engine")

	registered := map[string]bool{}
	for _, r := range engine.Routes() {
		registered[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, item := range loadOpenAPI(t).Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}

	var undocumented, unregistered []string
	for route := range registered {
		if !documented[route] {
			undocumented = append(undocumented, route)
		}
	}
	for route := range documented {
		if !registered[route] {
			unregistered = append(unregistered, route)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unregistered)
	require.True(t, len(undocumented)+len(unregistered) == 0,
		"routes.go and openapi.go disagree:\n  registered but not documented: %v\n  documented but not registered: %v",
		undocumented, unregistered)
}

// TestOpenAPIServed reads the document and a few answers through the real
// router, none of which reaches the store.
func TestOpenAPIServed(t *testing.T) {
	doc := loadOpenAPI(t)
	handler := NewServer(Deps{})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}

	w := get("/v1/openapi.json")
	require.Equal(t, http.StatusOK, w.Code, "the document is public")
	require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	require.Equal(t, openAPIJSON(), w.Body.Bytes())

	w = get("/healthz")
	require.Equal(t, http.StatusOK, w.Code)
	requireMatches(t, openAPIResponse(t, doc, "GET", "/healthz", http.StatusOK), w.Body.Bytes())

	w = get("/v1/users")
	require.Equal(t, http.StatusUnauthorized, w.Code)
	requireMatches(t, openAPIResponse(t, doc, "GET", "/v1/users", http.StatusUnauthorized), w.Body.Bytes())
}

// openAPIResponse is the JSON schema of one documented answer.
func openAPIResponse(t *testing.T, doc *openapi3.T, method, path string, status int) *openapi3.Schema {
	t.Helper()
	item := doc.Paths.Find(path)
	require.NotNil(t, item, path)
	op := item.GetOperation(method)
	require.NotNil(t, op, method+" "+path)
	resp := op.Responses.Status(status)
	require.NotNil(t, resp, "%s %s %d", method, path, status)
	media := resp.Value.Content.Get("application/json")
	require.NotNil(t, media, "%s %s %d has no JSON body", method, path, status)
	return media.Schema.Value
}

// openAPIRequest is the JSON schema of one documented request body.
func openAPIRequest(t *testing.T, doc *openapi3.T, method, path string) *openapi3.Schema {
	t.Helper()
	op := doc.Paths.Find(path).GetOperation(method)
	require.NotNil(t, op.RequestBody, method+" "+path)
	return op.RequestBody.Value.Content.Get("application/json").Schema.Value
}

// toJSON round-trips a value through encoding/json, as a client sees it.
func toJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func requireMatches(t *testing.T, schema *openapi3.Schema, body []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(body, &v))
	require.NoError(t, schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()), string(body))
}

// coverage records, per object schema, which of its properties some test
// value had: a documented property no Go value produces is drift too.
type coverage struct {
	seen  map[*openapi3.Schema]map[string]bool
	where map[*openapi3.Schema]string
}

func (cv *coverage) walk(s *openapi3.Schema, v any, path string) {
	if s == nil || v == nil {
		return
	}
	for _, sub := range s.AllOf {
		cv.walk(sub.Value, v, path)
	}
	switch v := v.(type) {
	case map[string]any:
		if len(s.Properties) == 0 {
			return
		}
		if cv.seen[s] == nil {
			cv.seen[s], cv.where[s] = map[string]bool{}, path
		}
		for name, prop := range s.Properties {
			if pv, ok := v[name]; ok {
				cv.seen[s][name] = true
				cv.walk(prop.Value, pv, path+"."+name)
			}
		}
	case []any:
		if s.Items != nil {
			for i, item := range v {
				cv.walk(s.Items.Value, item, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
}

func (cv *coverage) missing() []string {
	var out []string
	for s, seen := range cv.seen {
		for name := range s.Properties {
			if !seen[name] {
				out = append(out, cv.where[s]+"."+name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// jsonFields lists the top-level JSON names a Go type decodes, following
// embedded structs as encoding/json does.
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// decodeAsHandler decodes body the way the handlers do (decode, unknown
// fields refused).
func decodeAsHandler(t *testing.T, body any, dst any) error {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPut, "/", bytes.NewReader(b))
	return decode(c, dst)
}

// listBody is what list() writes for items, as the handlers call it.
func listBody(t *testing.T, key string, items any, total int) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/v1/"+key+"?page=2&per_page=1", nil)
	p := store.Page{Page: 2, PerPage: 1}
	switch items := items.(type) {
	case []userJSON:
		list(c, web, key, items, total, p)
	case []availabilityJSON:
		list(c, web, key, items, total, p)
	case []teamJSON:
		list(c, web, key, items, total, p)
	case []numberJSON:
		list(c, web, key, items, total, p)
	case []tagJSON:
		list(c, web, key, items, total, p)
	case []blockedJSON:
		list(c, web, key, items, total, p)
	case []apiKeyJSON:
		list(c, web, key, items, total, p)
	case []callJSON:
		list(c, web, key, items, total, p)
	case []mediaJSON:
		list(c, web, key, items, total, p)
	case []webhookJSON:
		list(c, web, key, items, total, p)
	default:
		t.Fatalf("listBody: %T", items)
	}
	return w.Body.Bytes()
}

// TestOpenAPISchemasMatchGoTypes encodes real values of the handlers' JSON
// types and checks them against the documented answers, in both
// directions: every field is documented (objects are closed) and every
// documented field comes out of some value. It also checks that what a
// client reads it may PUT back: the answer is a valid request body, and
// the handler's decoder accepts it.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	now := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	s := &server{Deps: Deps{Now: func() time.Time { return now }, ACD: dialplan.NewACD(dialplan.WallClock{}), PublicURL: string(web)}}
	company := dialplan.Company{ID: 1, Name: "Acme", TimeZone: "Europe/Paris", Language: "fr-FR", Country: "FR", SLASeconds: 20, CreatedAt: now}
	normalized := func(err error) { t.Helper(); require.NoError(t, err) }

	external := "06 12 34 56 78"
	fullUser := dialplan.User{ID: 7, FirstName: "Alice", LastName: "Martin", Email: "alice@acme.test", Role: dialplan.RoleAdmin,
		Owner: true, Language: "fr-FR", TimeZone: "Europe/Paris", Extension: "1001", AvailabilityStatus: dialplan.Custom,
		WorkingHours: dialplan.WeeklyHours{{Days: []string{"mon", "tue"}, From: "09:00", To: "18:00"}},
		WrapUpTime:   30, ExternalNumber: &external, Devices: []string{"PJSIP/alice", "user/1001"}, CreatedAt: now}
	normalized(fullUser.Normalize(company))
	awayUser := dialplan.User{ID: 8, FirstName: "Bob", Email: "bob@acme.test", AvailabilityStatus: dialplan.Unavailable,
		UnavailableReason: "holidays", CreatedAt: now}
	normalized(awayUser.Normalize(company))
	availabilities := []availabilityJSON{s.availabilityJSON(fullUser), s.availabilityJSON(awayUser)}

	team := dialplan.Team{ID: 3, Name: "Support", Users: []dialplan.UserID{7, 8}, RingingRule: dialplan.RoundRobin, CreatedAt: now}
	normalized(team.Normalize())

	ivr := dialplan.NewNumber()
	ivr.ID, ivr.Name, ivr.Digits, ivr.Type, ivr.CreatedAt = 5, "Main", "01 76 39 08 61", dialplan.IVR, now
	ivr.AvailabilityStatus = dialplan.CustomHours
	ivr.BusinessHours = dialplan.BusinessHours{
		Slots: dialplan.WeeklyHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "18:00"}},
		SpecialDates: []dialplan.SpecialDate{
			{FromDate: "2026-12-24", ToDate: "2026-12-26", Open: false},
			{FromDate: "2026-12-31", ToDate: "2026-12-31", Open: true, From: "10:00", To: "12:00"},
		}}
	ivr.Priority = 1
	ivr.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: 3, RingSeconds: 20}, {Type: dialplan.StepUser, ID: 7, RingSeconds: 15}}
	ivr.OutboundUsers = []dialplan.UserID{7}
	ivr.RespectQueuingTime, ivr.CallbackRequest, ivr.MandatoryTagging = true, true, true
	ivr.Recording = dialplan.Recording{Inbound: dialplan.RecordingPolicy{Auto: true, AllowPause: true}}
	ivr.IVROptions = []dialplan.IVROption{
		{Key: "1", Target: dialplan.Target{Type: dialplan.TargetTeam, ID: 3}},
		{Key: "2", Target: dialplan.Target{Type: dialplan.TargetExternal, Digits: "+44 20 7946 0000"}},
		{Key: "9", Target: dialplan.Target{Type: dialplan.TargetVoicemail}},
	}
	ivr.Messages = dialplan.Messages{
		dialplan.MsgWelcome: {Type: dialplan.MessageTTS, Text: "Bonjour", Voice: "Léa"},
		dialplan.MsgIVR:     {Type: dialplan.MessageMedia, MediaID: 12},
	}
	normalized(ivr.Normalize(company))
	plain := dialplan.NewNumber()
	plain.ID, plain.Name, plain.Digits, plain.CreatedAt = 6, "Sales", "+33176390862", now
	normalized(plain.Normalize(company))
	// The IVR rings the team (Alice and Bob) and Alice, who calls out
	// with it too.
	r := refs{lines: []store.Line{{Number: 5, User: 7}, {Number: 5, User: 8}},
		users:   map[dialplan.UserID]dialplan.User{7: fullUser, 8: awayUser},
		numbers: map[dialplan.NumberID]dialplan.Number{5: ivr, 6: plain}}
	users := s.showUsers([]dialplan.User{fullUser, awayUser}, r)
	numbers := s.showNumbers([]dialplan.Number{ivr, plain}, r)
	teams := []teamJSON{{Team: team, DirectLink: web.link("/v1/teams/3"), CreatedAt: stamp(now), Users: users}}

	tag := dialplan.Tag{ID: 2, Name: "VIP", Description: "Important", CreatedAt: now}
	normalized(tag.Normalize())
	system := dialplan.SystemTags[0]
	system.ID, system.CreatedAt = 1, now
	tags := []tagJSON{newTagJSON(web, system), newTagJSON(web, tag)}

	block := dialplan.BlockedNumber{ID: 4, Digits: "06 66 66 66 66", Note: "spam", CreatedAt: now}
	normalized(block.Normalize(company))
	blocked := []blockedJSON{newBlockedJSON(web, block)}

	used := now.Add(-time.Hour)
	keys := []apiKeyJSON{
		newAPIKeyJSON(web, store.APIKey{ID: 1, APIID: "abc", UserID: 7, Name: "bootstrap", CreatedAt: now, LastUsed: &used}),
		newAPIKeyJSON(web, store.APIKey{ID: 2, APIID: "def", UserID: 8, CreatedAt: now}),
	}
	newKey := keys[1]
	newKey.APIToken = "secret"

	// A call that went through everything, and one still ringing.
	answered, ended := now.Add(8*time.Second), now.Add(75*time.Second)
	fullCall := store.CallRecord{
		Call: dialplan.Call{ID: 9, Company: 1, Number: 5, Direction: dialplan.Inbound, Status: dialplan.CallDone,
			RawDigits: "+33612345678", StartedAt: now, AnsweredAt: &answered, EndedAt: &ended, User: 7,
			Teams: []dialplan.TeamID{3}, HangupCause: "normal_clearing", IVROptions: []string{"1"},
			TransferredTo: &dialplan.Transfer{Type: dialplan.TargetUser, ID: 8}, Recording: "rec-9.wav", Voicemail: "vm-9.wav"},
		TeamRefs: []store.CallTeam{{ID: 3, Name: "Support", CreatedAt: now}}, AssignedTo: 8, Archived: true,
		WaitingSeconds: ptr(8), TalkSeconds: ptr(67),
		Tags:     []store.CallTag{{ID: 2, Name: "VIP", By: 7, At: ended}, {ID: 1, Name: "Missed", At: now}},
		Comments: []store.CallComment{{ID: 1, User: 7, Content: "Wants a quote", PostedAt: ended}, {ID: 2, Content: "From a deleted user", PostedAt: ended}},
		Timeline: []dialplan.TimelineEvent{
			{Event: events.CallCreated, At: now},
			{Event: events.CallRingingOnAgent, At: now.Add(2 * time.Second), User: 7},
			{Event: events.CallTransferred, At: ended, User: 7, Data: events.Transferred{Type: "external", Digits: "+442079460958"}},
		},
	}
	ringing := store.CallRecord{Call: dialplan.Call{ID: 10, Company: 1, Direction: dialplan.Outbound, Status: dialplan.CallInitial,
		RawDigits: dialplan.Anonymous, StartedAt: now}, Timeline: []dialplan.TimelineEvent{{Event: events.CallCreated, At: now}}}
	missed := store.CallRecord{Call: dialplan.Call{ID: 11, Company: 1, Number: 5, Direction: dialplan.Inbound, Status: dialplan.CallDone,
		RawDigits: "+33612345678", StartedAt: now, EndedAt: &ended, MissedReason: dialplan.NoAvailableAgent,
		TransferredTo: &dialplan.Transfer{Type: dialplan.TargetExternal, Digits: "+442079460000"}},
		WaitingSeconds: ptr(75), TalkSeconds: ptr(0)}
	fullCall.Timeline = append(fullCall.Timeline[:1], append([]dialplan.TimelineEvent{
		{Event: events.CallIVROptionSelected, At: now.Add(time.Second), Data: events.IVROption{Key: "1", Target: "team"}}},
		fullCall.Timeline[1:]...)...)
	recs := []store.CallRecord{fullCall, ringing, missed}
	calls := []callJSON{newCallJSON(web, fullCall, true), newCallJSON(web, ringing, false), newCallJSON(web, missed, false)}
	s.embedRefs(recs, calls, r)

	// Flows as the engine compiles them: the IVR, and a classic line that
	// keeps the caller's place in the queue and offers a callback.
	queued := dialplan.NewNumber()
	queued.ID, queued.Name, queued.Digits, queued.CreatedAt = 13, "Support", "+33176390863", now
	queued.Distribution = []dialplan.Step{{Type: dialplan.StepTeam, ID: 3, RingSeconds: 20}, {Type: dialplan.StepUser, ID: 7, RingSeconds: 15}}
	queued.RespectQueuingTime, queued.CallbackRequest = true, true
	normalized(queued.Normalize(company))
	flows := []dialplan.Flow{dialplan.Compile(ivr), dialplan.Compile(queued)}
	kinds := map[string]bool{}
	for _, f := range flows {
		for _, n := range f.Nodes {
			kinds[n.Kind] = true
		}
	}
	for _, kind := range []string{"menu", "ring_team", "forward", "voicemail", "queue", "callback_request"} {
		require.True(t, kinds[kind], "the sample flows have a %s node", kind)
	}

	// Dry runs of those numbers, by the real engine on an in-memory
	// directory: answered on a menu key, forwarded (nobody answers), closed,
	// and a queued caller who asks to be called back.
	world := dialplantest.NewWorld(now)
	t.Cleanup(world.Engine.Stop)
	world.AddUser(7, "alice")
	world.AddUser(8, "bob")
	world.AddTeam(team)
	ivrLine, queuedLine := world.AddNumber(ivr), world.AddNumber(queued)
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	night := time.Date(2026, 11, 24, 3, 0, 0, 0, paris)
	dryRuns := map[dialplan.Outcome]dryRunJSON{}
	for _, run := range []struct {
		number dialplan.Number
		run    dialplan.DryRun
		want   dialplan.Outcome
	}{
		{ivrLine, dialplan.DryRun{At: now, From: "+33612345678", Digits: "1", AnswerBy: 7, AnswerAfter: 8 * time.Second}, dialplan.OutcomeAnswered},
		{ivrLine, dialplan.DryRun{At: now, Digits: "2"}, dialplan.OutcomeVoicemail},
		{ivrLine, dialplan.DryRun{At: night, HangupAfter: 5 * time.Second}, dialplan.OutcomeMissed},
		{queuedLine, dialplan.DryRun{At: now, Agents: map[dialplan.UserID]dialplan.LiveStatus{7: dialplan.StatusInCall, 8: dialplan.StatusInCall},
			PressStarAfter: 30 * time.Second}, dialplan.OutcomeCallback},
	} {
		r, err := dialplan.Simulate(context.Background(), world.Directory, nil, world.Company, run.number, run.run)
		require.NoError(t, err)
		require.Equal(t, run.want, r.Outcome, "%+v", r)
		dryRuns[r.Outcome] = newDryRunJSON(r, run.run.At)
	}
	require.NotNil(t, dryRuns[dialplan.OutcomeAnswered].AnsweredBy)
	require.NotNil(t, dryRuns[dialplan.OutcomeVoicemail].ForwardedTo)
	require.NotNil(t, dryRuns[dialplan.OutcomeMissed].MissedCallReason)

	// A webhook failing for two hours, one the dispatcher turned off, and
	// deliveries done and retried.
	failing, reason := now.Add(-2*time.Hour), "every attempt failed for 24 hours"
	hooks := []webhookJSON{
		newWebhookJSON(web, store.Webhook{ID: 1, URL: "https://crm.example/hooks/switchboard", CustomName: "CRM",
			Events: []events.Kind{events.CallCreated, events.CallEnded, events.UserCreated}, Token: strings.Repeat("ab", 32),
			Active: true, CreatedAt: now, FailingSince: &failing}),
		newWebhookJSON(web, store.Webhook{ID: 2, URL: "https://93.184.216.34/hook", Events: []events.Kind{events.NumberDeleted},
			Token: strings.Repeat("0f", 32), CreatedAt: now, FailingSince: &failing, DeactivatedReason: &reason, DeactivatedAt: &now}),
	}
	failCode, refused, attempted := 503, "connection refused", now.Add(time.Minute)
	deliveries := []deliveryJSON{
		newDeliveryJSON(store.Delivery{DeliveryID: "0b4fd1d4-5c52-4a4e-9d0a-2f1e6c1b7a55", Event: events.CallCreated,
			Status: store.DeliveryDelivered, Attempts: 2, LastStatusCode: 200, LastAttemptAt: &attempted, CreatedAt: now,
			DeliveredAt: &attempted}),
		newDeliveryJSON(store.Delivery{DeliveryID: "8c1d9f5e-2b7a-4f0e-a1c3-5d6e7f809a1b", Event: events.CallEnded,
			Status: store.DeliveryPending, Attempts: 3, LastStatusCode: failCode, LastError: refused, LastAttemptAt: &attempted,
			CreatedAt: now}),
		newDeliveryJSON(store.Delivery{DeliveryID: "f47ac10b-58cc-4372-a567-0e02b2c3d479", Event: events.UserCreated,
			Status: store.DeliveryFailed, Attempts: 9, LastError: refused, LastAttemptAt: &attempted, CreatedAt: now}),
		newDeliveryJSON(store.Delivery{DeliveryID: "9a0e7c52-1f4b-4d8e-b6a3-0c2d4e6f8a1b", Event: events.UserCreated,
			Status: store.DeliveryPending, CreatedAt: now}),
	}

	cv := &coverage{seen: map[*openapi3.Schema]map[string]bool{}, where: map[*openapi3.Schema]string{}}
	check := func(method, path string, status int, body any) {
		t.Helper()
		var v any
		if raw, ok := body.([]byte); ok {
			require.NoError(t, json.Unmarshal(raw, &v))
		} else {
			v = toJSON(t, body)
		}
		schema := openAPIResponse(t, doc, method, path, status)
		require.NoError(t, schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()),
			"%s %s %d: the answer does not match the document", method, path, status)
		cv.walk(schema, v, method+" "+path)
	}

	check("GET", "/v1/company", 200, gin.H{"company": companyJSON{company, web.link("/v1/company"), stamp(now), 3, 2}})
	check("GET", "/v1/users", 200, listBody(t, "users", users, 3))
	check("POST", "/v1/users", 201, gin.H{"user": users[0]})
	check("GET", "/v1/users/{id}", 200, gin.H{"user": users[1]})
	check("GET", "/v1/users/availabilities", 200, listBody(t, "users", availabilities, 2))
	check("PUT", "/v1/users/{id}/availability", 200, availabilities[1])
	check("GET", "/v1/teams", 200, listBody(t, "teams", teams, 1))
	check("POST", "/v1/teams/{id}/users/{user_id}", 200, gin.H{"team": teams[0]})
	check("GET", "/v1/numbers", 200, listBody(t, "numbers", numbers, 2))
	check("PUT", "/v1/numbers/{id}", 200, gin.H{"number": numbers[0]})
	check("GET", "/v1/tags", 200, listBody(t, "tags", tags, 5))
	check("POST", "/v1/blocked_numbers", 201, gin.H{"blocked_number": blocked[0]})
	check("GET", "/v1/blocked_numbers", 200, listBody(t, "blocked_numbers", blocked, 1))
	check("GET", "/v1/api_keys", 200, listBody(t, "api_keys", keys, 2))
	check("POST", "/v1/api_keys", 201, gin.H{"api_key": newKey})
	check("GET", "/v1/calls", 200, listBody(t, "calls", calls, 3))
	check("GET", "/v1/calls/search", 200, listBody(t, "calls", calls[1:], 2))
	shown := func(rec store.CallRecord) callJSON { // as GET /v1/calls/{id} shows it
		out := []callJSON{newCallJSON(web, rec, true)}
		s.embedRefs([]store.CallRecord{rec}, out, r)
		return out[0]
	}
	check("GET", "/v1/calls/{id}", 200, gin.H{"call": shown(fullCall)})
	check("GET", "/v1/calls/{id}", 200, gin.H{"call": shown(ringing)})
	check("POST", "/v1/calls/{id}/tags", 201, gin.H{"call": shown(missed)})
	check("POST", "/v1/calls/{id}/comments", 201, gin.H{"call": shown(fullCall)})
	check("PUT", "/v1/calls/{id}/archive", 200, gin.H{"call": shown(fullCall)})
	for _, f := range flows {
		check("GET", "/v1/numbers/{id}/flow", 200, gin.H{"flow": f})
	}
	for _, outcome := range []dialplan.Outcome{dialplan.OutcomeAnswered, dialplan.OutcomeVoicemail, dialplan.OutcomeMissed, dialplan.OutcomeCallback} {
		check("POST", "/v1/numbers/{id}/dry_run", 200, dryRuns[outcome])
	}
	media := []mediaJSON{
		newMediaJSON(web, store.Media{ID: 3, Name: "Welcome", ContentType: "audio/mpeg", SHA256: strings.Repeat("ab", 32),
			SizeBytes: 32044, DurationMS: 2000, CreatedAt: now}),
		newMediaJSON(web, store.Media{ID: 4, Name: "Menu", ContentType: "audio/wav", SHA256: strings.Repeat("0f", 32),
			SizeBytes: 16044, DurationMS: 1000, CreatedAt: now}),
	}
	check("GET", "/v1/media", 200, listBody(t, "media", media, 2))
	check("POST", "/v1/media", 201, gin.H{"media": media[0]})
	check("GET", "/v1/media/{id}", 200, gin.H{"media": media[1]})
	check("GET", "/v1/voices", 200, prompts.Voices{
		Languages: []prompts.Language{{Language: "fr-FR", Name: "French (France)"}, {Language: "de", Name: "German"}},
		Voices:    []prompts.Voice{{Name: "male", Gender: "male"}, {Name: "female", Gender: "female"}, {Name: "klatt", Gender: "male"}}})
	check("GET", "/v1/webhooks", 200, listBody(t, "webhooks", hooks, 2))
	check("POST", "/v1/webhooks", 201, gin.H{"webhook": hooks[0]})
	check("GET", "/v1/webhooks/{id}", 200, gin.H{"webhook": hooks[1]})
	check("PUT", "/v1/webhooks/{id}", 200, gin.H{"webhook": hooks[0]})
	check("GET", "/v1/webhooks/{id}/deliveries", 200, gin.H{"deliveries": deliveries})
	check("GET", "/healthz", 200, gin.H{"status": "ok"})
	check("GET", "/readyz", 200, gin.H{"ready": true, "checks": gin.H{"database": "ok", "media_server": "ok"}})

	// The error body, as fail writes it.
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodPut, "/v1/users/7", nil)
	s.fail(c, &dialplan.FieldError{Field: "email", Problem: "is required"})
	require.Equal(t, http.StatusUnprocessableEntity, w.Code)
	check("PUT", "/v1/users/{id}", http.StatusUnprocessableEntity, w.Body.Bytes())
	w = httptest.NewRecorder()
	c, _ = gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/v1/users/9", nil)
	s.fail(c, fmt.Errorf("user 9: %w", store.ErrNotFound))
	require.Equal(t, http.StatusNotFound, w.Code)
	check("GET", "/v1/users/{id}", http.StatusNotFound, w.Body.Bytes())
	require.JSONEq(t, `{"error": "not found", "troubleshoot": "Check ID of the resource", "detail": "user 9 does not exist"}`,
		w.Body.String(), "Aircall's words, which integrations compare")

	require.Empty(t, cv.missing(), "documented fields that no Go value produces")

	// What a client reads, it may send back: the answer is a valid request
	// body (readOnly fields aside), and the handler's decoder takes it.
	sendBack := []struct {
		method, path string
		read         any
		input        any // what the handler decodes into
	}{
		{"PUT", "/v1/company", companyJSON{company, web.link("/v1/company"), stamp(now), 3, 2}, &companyInput{Company: new(dialplan.Company)}},
		{"PUT", "/v1/users/{id}", users[0], &userInput{User: new(dialplan.User)}},
		{"POST", "/v1/users", users[1], &userInput{User: new(dialplan.User)}},
		{"PUT", "/v1/users/{id}/availability", availabilities[1], nil},
		{"PUT", "/v1/teams/{id}", teams[0], &teamInput{Team: new(dialplan.Team)}},
		{"PUT", "/v1/numbers/{id}", numbers[0], &numberInput{Number: new(dialplan.Number)}},
		{"POST", "/v1/numbers", numbers[1], &numberInput{Number: new(dialplan.Number)}},
		{"PUT", "/v1/tags/{id}", tags[1], &struct {
			*dialplan.Tag
			readOnly
		}{Tag: new(dialplan.Tag)}},
		{"POST", "/v1/blocked_numbers", blocked[0], &struct {
			*dialplan.BlockedNumber
			readOnly
		}{BlockedNumber: new(dialplan.BlockedNumber)}},
		{"PUT", "/v1/webhooks/{id}", hooks[1], &webhookInput{}},
		{"POST", "/v1/webhooks", hooks[0], &webhookInput{}},
		// Not resources read back, but the bodies the call actions take.
		{"POST", "/v1/calls/{id}/tags", map[string]any{"tags": []int{1, 2}}, &callTagsInput{}},
		{"POST", "/v1/calls/{id}/comments", map[string]any{"content": "Called back"}, &callCommentInput{}},
		{"POST", "/v1/calls/{id}/transfers", map[string]any{"user_id": 2, "mode": "cold"}, &transferInput{}},
		{"POST", "/v1/calls/{id}/transfers", map[string]any{"to": "+33612345678"}, &transferInput{}},
		{"POST", "/v1/calls/{id}/supervise", map[string]any{"mode": "whisper", "user_id": 3}, &superviseInput{}},
		{"POST", "/v1/users/{id}/calls", map[string]any{"number_id": 1, "to": "+33612345678"}, &clickToCallInput{}},
		{"POST", "/v1/numbers/{id}/dry_run", dryRunExample, &dryRunInput{}},
		{"POST", "/v1/numbers/{id}/dry_run", map[string]any{"at": "2026-11-23T03:00:00+01:00"}, &dryRunInput{}},
	}
	for _, sb := range sendBack {
		where := sb.method + " " + sb.path
		schema := openAPIRequest(t, doc, sb.method, sb.path)
		require.NoError(t, schema.VisitJSON(toJSON(t, sb.read), openapi3.MultiErrors(), openapi3.VisitAsRequest(),
			openapi3.DisableReadOnlyValidation()), "%s: a body as read is not a valid request", where)
		if sb.input == nil {
			continue // the handler decodes into an anonymous struct
		}
		require.NoError(t, decodeAsHandler(t, sb.read, sb.input), "%s: the handler refuses a body as read", where)

		// And every field the handler decodes is documented.
		var undocumented []string
		for _, name := range jsonFields(reflect.TypeOf(sb.input)) {
			if _, ok := schema.Properties[name]; !ok {
				undocumented = append(undocumented, name)
			}
		}
		require.Empty(t, undocumented, "%s: the handler accepts fields the document lacks", where)
	}

	// The dry run's example (API.md) is a valid request, the handler takes
	// it, and so does its parser.
	var in dryRunInput
	require.NoError(t, decodeAsHandler(t, dryRunExample, &in))
	run, err := in.parse(ivr)
	require.NoError(t, err)
	require.Equal(t, dialplan.UserID(12), run.AnswerBy)
	require.Equal(t, dialplan.StatusDoNotDisturb, run.Agents[14])
	require.Zero(t, run.HangupAfter)
	// And what the parser refuses, the document refuses too.
	for _, bad := range []map[string]any{
		{},
		{"at": "2026-11-23T10:15:00+01:00", "digits": "12a"},
		{"at": "2026-11-23T10:15:00+01:00", "agents": map[string]any{"5": "sleeping"}},
		{"at": "2026-11-23T10:15:00+01:00", "answer": map[string]any{"after_seconds": 3}},
		{"at": "2026-11-23T10:15:00+01:00", "answer": map[string]any{"user_id": 12, "after_seconds": -1}},
		{"at": "2026-11-23T10:15:00+01:00", "hangup_after_seconds": 0},
		{"at": "2026-11-23T10:15:00+01:00", "press_star_after_seconds": maxScript + 1},
		{"at": "2026-11-23T10:15:00+01:00", "caller": "+33612345678"},
	} {
		require.Error(t, openAPIRequest(t, doc, "POST", "/v1/numbers/{id}/dry_run").VisitJSON(toJSON(t, bad), openapi3.VisitAsRequest()), "%v", bad)
		var in dryRunInput
		if decodeAsHandler(t, bad, &in) == nil {
			_, err := in.parse(ivr)
			require.Error(t, err, "%v", bad)
		}
	}

	// The team members may also be plain ids; the member list is otherwise
	// checked as the objects a team shows.
	require.NoError(t, openAPIRequest(t, doc, "POST", "/v1/teams").VisitJSON(
		map[string]any{"name": "Sales", "users": []any{7.0, map[string]any{"id": 8.0}}}, openapi3.VisitAsRequest()))
	require.Error(t, openAPIRequest(t, doc, "POST", "/v1/teams").VisitJSON(
		map[string]any{"name": "Sales", "colour": "red"}, openapi3.VisitAsRequest()), "unknown fields are refused, as decode does")

	// Output-only fields are marked so.
	for _, f := range []struct{ schema, prop string }{
		{"User", "id"}, {"User", "direct_link"}, {"User", "created_at"}, {"User", "name"}, {"User", "availability"},
		{"Number", "open"}, {"Tag", "system"}, {"APIKey", "api_token"}, {"Company", "direct_link"},
		{"Call", "id"}, {"Call", "timeline"}, {"Call", "user"}, {"Call", "tags"},
		{"Flow", "nodes"}, {"FlowNode", "next"}, {"DryRunResult", "outcome"}, {"DryRunResult", "timeline"},
		{"Webhook", "token"}, {"Webhook", "failing_since"}, {"Webhook", "deactivated_reason"}, {"Webhook", "deactivated_at"},
		{"WebhookDelivery", "status"}, {"WebhookDelivery", "delivery_id"},
	} {
		require.True(t, doc.Components.Schemas[f.schema].Value.Properties[f.prop].Value.ReadOnly, "%s.%s", f.schema, f.prop)
	}
	for _, f := range []string{"first_name", "email", "role", "devices", "working_hours"} {
		require.False(t, doc.Components.Schemas["User"].Value.Properties[f].Value.ReadOnly, "User.%s", f)
	}
	require.True(t, slices.Contains(doc.Components.Schemas["User"].Value.Required, "id"))
	require.False(t, slices.Contains(doc.Components.Schemas["Call"].Value.Required, "timeline"), "lists leave it out")

	// The call actions' bodies are checked as the handlers check them.
	for _, bad := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/calls/{id}/tags", map[string]any{"tags": []any{}}},
		{"/v1/calls/{id}/tags", map[string]any{"tags": []any{0}}},
		{"/v1/calls/{id}/tags", map[string]any{}},
		{"/v1/calls/{id}/comments", map[string]any{"content": ""}},
		{"/v1/calls/{id}/comments", map[string]any{"content": strings.Repeat("é", maxCommentLength+1)}},
	} {
		require.Error(t, openAPIRequest(t, doc, "POST", bad.path).VisitJSON(bad.body, openapi3.VisitAsRequest()), "%s %v", bad.path, bad.body)
	}
	require.NoError(t, openAPIRequest(t, doc, "POST", "/v1/calls/{id}/comments").VisitJSON(
		map[string]any{"content": strings.Repeat("é", maxCommentLength)}, openapi3.VisitAsRequest()), "lengths in characters")

	// A webhook's events are the kinds a webhook may subscribe to, each
	// once, at least one; the document says so as checkWebhook does.
	hookSchema := openAPIRequest(t, doc, "POST", "/v1/webhooks")
	for _, k := range events.WebhookKinds() {
		require.NoError(t, hookSchema.VisitJSON(map[string]any{"url": "https://crm.example/", "events": []any{string(k)}},
			openapi3.VisitAsRequest()), k)
	}
	for _, bad := range [][]any{{}, {"call.queued"}, {"call.teleported"}, {"call.created", "call.created"}} {
		require.Error(t, hookSchema.VisitJSON(map[string]any{"url": "https://crm.example/", "events": bad},
			openapi3.VisitAsRequest()), "%v", bad)
		s := &server{}
		w := store.Webhook{URL: "https://crm.example/", Events: make([]events.Kind, len(bad))}
		for i, k := range bad {
			w.Events[i] = events.Kind(k.(string))
		}
		require.Error(t, s.checkWebhook(context.Background(), &w, false), "%v", bad)
	}
	redeliver := doc.Paths.Find("/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver").Post
	require.NoError(t, redeliver.Parameters.GetByInAndName("path", "delivery_id").Schema.Value.VisitJSON(string(deliveries[0].DeliveryID)))
	require.NotNil(t, redeliver.Responses.Status(http.StatusAccepted))
	perPage := doc.Paths.Find("/v1/webhooks/{id}/deliveries").Get.Parameters.GetByInAndName("query", "per_page").Schema.Value
	require.Equal(t, float64(maxPerPage), *perPage.Max)
}

func ptr[T any](v T) *T { return &v }

// dryRunExample is the dry-run request of API.md.
var dryRunExample = map[string]any{
	"from":                     "+33612345678",
	"at":                       "2026-11-23T10:15:00+01:00",
	"digits":                   "2",
	"agents":                   map[string]any{"12": "available", "13": "in_call", "14": "unavailable"},
	"answer":                   map[string]any{"user_id": 12, "after_seconds": 8},
	"press_star_after_seconds": nil,
	"hangup_after_seconds":     nil,
}

// TestOpenAPIMedia checks the parts of the media routes that are not JSON:
// the multipart upload, the wav answers and their headers.
func TestOpenAPIMedia(t *testing.T) {
	doc := loadOpenAPI(t)
	upload := doc.Paths.Find("/v1/media").Post
	form := upload.RequestBody.Value.Content.Get("multipart/form-data")
	require.NotNil(t, form, "the upload is multipart/form-data")
	require.ElementsMatch(t, []string{"file", "name"}, slices.Collect(maps.Keys(form.Schema.Value.Properties)),
		"readUpload takes file and name, nothing else")
	require.Equal(t, []string{"file"}, form.Schema.Value.Required)
	for _, status := range []int{400, 401, 403, 413, 415, 422, 503} {
		require.NotNil(t, upload.Responses.Status(status), "POST /v1/media %d", status)
	}
	for _, method := range []string{"GET", "HEAD"} {
		op := doc.Paths.Find("/media/prompts/{file}").GetOperation(method)
		require.NotNil(t, op, method)
		ok := op.Responses.Status(200).Value
		for _, h := range []string{"Cache-Control", "ETag", "Content-Type"} {
			require.Contains(t, ok.Headers, h, "%s: header %s", method, h)
		}
		require.Nil(t, op.Responses.Status(401), "public")
		require.NotNil(t, op.Responses.Status(404))
		param := op.Parameters.GetByInAndName("path", "file").Schema.Value
		require.NoError(t, param.VisitJSON(strings.Repeat("ab", 32)+".wav"))
		require.Error(t, param.VisitJSON("1"))
	}
	require.NotNil(t, doc.Paths.Find("/media/prompts/{file}").Get.Responses.Status(200).Value.Content.Get("audio/wav"))
	require.NotNil(t, doc.Paths.Find("/v1/media/{id}/file").Get.Responses.Status(200).Value.Content.Get("audio/wav"))
	for _, path := range []string{"/v1/numbers", "/v1/numbers/{id}"} {
		item := doc.Paths.Find(path)
		op := item.Post
		if op == nil {
			op = item.Put
		}
		require.NotNil(t, op.Responses.Status(503), "%s: the audio tools may be missing when speech is rendered", path)
	}
}
