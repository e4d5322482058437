package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/events"
)

// contactBook is a company A with an agent, a company B, and a contact of
// A made by the agent: any role writes the shared book.
type contactBook struct {
	a, agent, b key
	john        int64
	doc         *openapi3.T
}

func newContactBook(e *env) contactBook {
	k := contactBook{a: e.company("Acme", "owner@acme.test"), b: e.company("Globex", "owner@globex.test")}
	k.agent = e.userKey(k.a, "agent@acme.test", dialplan.RoleAgent, false)
	k.doc = e.openAPI()
	status, out := e.do(k.agent, "POST", "/v1/contacts", map[string]any{
		"first_name": "John", "last_name": "Doe", "company_name": "Doe Inc", "information": "VIP",
		"phone_numbers": []any{map[string]any{"label": "Work", "value": "01 76 39 08 61"}},
		"emails":        []any{map[string]any{"label": "Office", "value": " John.Doe@Example.COM "}},
	})
	require.Equal(e.t, http.StatusCreated, status, "answer: %v", out)
	k.documented(e, "POST", "/v1/contacts", status, out)
	k.john = int64(out["contact"].(map[string]any)["id"].(float64))
	return k
}

// documented checks an answer against the served OpenAPI document.
func (k contactBook) documented(e *env, method, path string, status int, body map[string]any) {
	e.t.Helper()
	op := k.doc.Paths.Find(path).GetOperation(method)
	require.NotNil(e.t, op, "%s %s is documented", method, path)
	resp := op.Responses.Status(status)
	require.NotNil(e.t, resp, "%s %s %d is documented", method, path, status)
	schema := resp.Value.Content.Get("application/json").Schema.Value
	require.NoError(e.t, schema.VisitJSON(any(body), openapi3.MultiErrors(), openapi3.VisitAsResponse()),
		"%s %s %d: the answer does not match the document", method, path, status)
}

// contact is the contact in an answer.
func contact(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	c, ok := out["contact"].(map[string]any)
	require.True(t, ok, "answer: %v", out)
	return c
}

// values lists the values of a contact's phone_numbers or emails.
func values(c map[string]any, list string) []string {
	var out []string
	for _, d := range c[list].([]any) {
		out = append(out, d.(map[string]any)["value"].(string))
	}
	return out
}

func detailID(c map[string]any, list string, i int) int64 {
	return int64(c[list].([]any)[i].(map[string]any)["id"].(float64))
}

func TestContactCRUD(t *testing.T) {
	e := newEnv(t)
	k := newContactBook(e)
	john := fmt.Sprintf("/v1/contacts/%d", k.john)

	status, out := e.do(k.agent, "GET", john, nil)
	require.Equal(t, http.StatusOK, status)
	k.documented(e, "GET", "/v1/contacts/{id}", status, out)
	c := contact(t, out)
	require.Equal(t, "John", c["first_name"])
	require.True(t, strings.HasSuffix(c["direct_link"].(string), john), "direct_link %v", c["direct_link"])
	require.Equal(t, true, c["is_shared"])
	require.Equal(t, "VIP", c["description"], "Aircall's older name of information")
	require.Equal(t, []string{"+33176390861"}, values(c, "phone_numbers"), "national input, E.164 out")
	require.Equal(t, []string{"john.doe@example.com"}, values(c, "emails"), "lower-cased")
	require.Equal(t, c["created_at"], c["updated_at"], "UNIX seconds, as Aircall's contacts")
	require.Greater(t, c["created_at"].(float64), 1.7e9)

	// Updated with POST (Aircall) or PUT (ours); the contact as read may be
	// sent back, details included, and the document says so too.
	for _, method := range []string{"POST", "PUT"} {
		schema := k.doc.Paths.Find("/v1/contacts/{id}").GetOperation(method).RequestBody.Value.Content.Get("application/json").Schema.Value
		require.NoError(t, schema.VisitJSON(any(c), openapi3.VisitAsRequest(), openapi3.DisableReadOnlyValidation()), method)
		require.Error(t, schema.VisitJSON(map[string]any{"nickname": "J"}, openapi3.VisitAsRequest()), "closed, as decode is")
		c["first_name"] = "Johnny " + method
		status, out = e.do(k.agent, method, john, c)
		require.Equal(t, http.StatusOK, status, "%s: %v", method, out)
		k.documented(e, method, "/v1/contacts/{id}", status, out)
		require.Equal(t, "Johnny "+method, contact(t, out)["first_name"])
		require.Equal(t, []string{"+33176390861"}, values(contact(t, out), "phone_numbers"))
	}
	status, out = e.do(k.a, "PUT", john, map[string]any{"description": "Old style"})
	require.Equal(t, http.StatusOK, status, "answer: %v", out)
	require.Equal(t, "Old style", contact(t, out)["information"], "description alone sets information")

	// Phone numbers and emails, through their own routes.
	for _, tc := range []struct {
		path, list, add, change, want string
	}{
		{"phone_details", "phone_numbers", "+44 20 7946 0958", "06.12.34.56.78", "+33612345678"},
		{"email_details", "emails", "jd@doe.test", "JD@Doe.Test", "jd@doe.test"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			path := john + "/" + tc.path
			status, out := e.do(k.agent, "POST", path, map[string]any{"label": "Other", "value": tc.add})
			require.Equal(t, http.StatusCreated, status, "answer: %v", out)
			k.documented(e, "POST", "/v1/contacts/{id}/"+tc.path, status, out)
			c := contact(t, out)
			require.Len(t, c[tc.list], 2, "added last")
			id := detailID(c, tc.list, 1)

			param := map[string]string{"phone_details": "phone_id", "email_details": "email_id"}[tc.path]
			status, out = e.do(k.agent, "PUT", fmt.Sprintf("%s/%d", path, id), map[string]any{"label": "Mobile", "value": tc.change})
			require.Equal(t, http.StatusOK, status, "answer: %v", out)
			k.documented(e, "PUT", "/v1/contacts/{id}/"+tc.path+"/{"+param+"}", status, out)
			require.Equal(t, tc.want, values(contact(t, out), tc.list)[1])
			require.Equal(t, "Mobile", contact(t, out)[tc.list].([]any)[1].(map[string]any)["label"])

			status, _ = e.do(k.agent, "DELETE", fmt.Sprintf("%s/%d", path, id), nil)
			require.Equal(t, http.StatusNoContent, status)
			status, _ = e.do(k.agent, "DELETE", fmt.Sprintf("%s/%d", path, id), nil)
			require.Equal(t, http.StatusNotFound, status, "gone")
		})
	}

	status, _ = e.do(k.agent, "DELETE", john, nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = e.do(k.agent, "GET", john, nil)
	require.Equal(t, http.StatusNotFound, status)
	var details int
	require.NoError(t, e.db.Get(&details, "SELECT (SELECT count(*) FROM contact_phone_numbers) + (SELECT count(*) FROM contact_emails)"))
	require.Zero(t, details, "the contact's numbers and emails went with it")
}

func TestContactListAndSearch(t *testing.T) {
	e := newEnv(t)
	k := newContactBook(e)
	for _, c := range []struct{ name, number, email string }{
		{"Ann", "+33 6 12 34 56 78", "ann@x.test"},
		{"Ben", "06 12 34 56 78", "BEN@x.test"},
		{"Cat", "+1 415 555 0100", "ann@x.test"},
	} {
		body := map[string]any{"first_name": c.name, "phone_numbers": []any{map[string]any{"value": c.number}},
			"emails": []any{map[string]any{"value": c.email}}}
		status, out := e.do(k.a, "POST", "/v1/contacts", body)
		require.Equal(t, http.StatusCreated, status, "answer: %v", out)
	}
	// Globex has Ann's number too: it never shows in Acme's book.
	e.ok(k.b, "POST", "/v1/contacts", map[string]any{"first_name": "Gus", "phone_numbers": []any{map[string]any{"value": "+33612345678"}}}, nil)

	for _, tc := range []struct {
		name  string
		path  string
		names []string
		total int
		next  bool
	}{
		{"first page", "/v1/contacts?per_page=2", []string{"John", "Ann"}, 4, true},
		{"last page", "/v1/contacts?per_page=2&page=2", []string{"Ben", "Cat"}, 4, false},
		{"newest first", "/v1/contacts?per_page=1&order=desc", []string{"Cat"}, 4, true},
		{"by E.164", "/v1/contacts/search?phone_number=" + url.QueryEscape("+33612345678"), []string{"Ann", "Ben"}, 2, false},
		{"by national number", "/v1/contacts/search?phone_number=" + url.QueryEscape("06 12 34 56 78"), []string{"Ann", "Ben"}, 2, false},
		{"by email, any case", "/v1/contacts/search?email=ANN@X.test", []string{"Ann", "Cat"}, 2, false},
		{"by both", "/v1/contacts/search?email=ben@x.test&phone_number=0612345678", []string{"Ben"}, 1, false},
		{"paged search", "/v1/contacts/search?phone_number=%2B33612345678&per_page=1", []string{"Ann"}, 2, true},
		{"nobody", "/v1/contacts/search?email=nobody@x.test", nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := e.do(k.agent, "GET", tc.path, nil)
			require.Equal(t, http.StatusOK, status, "answer: %v", out)
			route := "/v1/contacts"
			if strings.HasPrefix(tc.path, "/v1/contacts/search") {
				route = "/v1/contacts/search"
			}
			k.documented(e, "GET", route, status, out)
			var names []string
			for _, c := range out["contacts"].([]any) {
				names = append(names, c.(map[string]any)["first_name"].(string))
			}
			require.Equal(t, tc.names, names)
			meta := out["meta"].(map[string]any)
			require.EqualValues(t, tc.total, meta["total"])
			require.EqualValues(t, len(tc.names), meta["count"])
			require.Equal(t, tc.next, meta["next_page_link"] != nil, "meta: %v", meta)
		})
	}
}

// TestContactIsolation: a key of company B neither sees nor touches A's
// contacts, and gets the 404 of a contact that does not exist.
func TestContactIsolation(t *testing.T) {
	e := newEnv(t)
	k := newContactBook(e)
	var c struct{ Contact map[string]any }
	e.ok(k.a, "GET", fmt.Sprintf("/v1/contacts/%d", k.john), nil, &c)
	phoneID, emailID := detailID(c.Contact, "phone_numbers", 0), detailID(c.Contact, "emails", 0)
	john := fmt.Sprintf("/v1/contacts/%d", k.john)
	detail := map[string]any{"value": "+33612345678"}
	before := e.contactRows()
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", john, nil},
		{"POST", john, map[string]any{"first_name": "Mallory"}},
		{"PUT", john, map[string]any{"first_name": "Mallory"}},
		{"DELETE", john, nil},
		{"POST", john + "/phone_details", detail},
		{"PUT", fmt.Sprintf("%s/phone_details/%d", john, phoneID), detail},
		{"DELETE", fmt.Sprintf("%s/phone_details/%d", john, phoneID), nil},
		{"POST", john + "/email_details", map[string]any{"value": "m@evil.test"}},
		{"PUT", fmt.Sprintf("%s/email_details/%d", john, emailID), map[string]any{"value": "m@evil.test"}},
		{"DELETE", fmt.Sprintf("%s/email_details/%d", john, emailID), nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			status, out := e.do(k.b, tc.method, tc.path, tc.body)
			require.Equal(t, http.StatusNotFound, status, "answer: %v", out)
		})
	}
	require.Equal(t, before, e.contactRows(), "nothing changed")
	for _, path := range []string{"/v1/contacts", "/v1/contacts/search?phone_number=%2B33176390861"} {
		var out struct{ Contacts []any }
		e.ok(k.b, "GET", path, nil, &out)
		require.Empty(t, out.Contacts, path)
	}
	// Nor may A reach A's details through another contact of A.
	other := e.id(k.a, "/v1/contacts", "contact", map[string]any{"phone_numbers": []any{detail}})
	status, _ := e.do(k.a, "DELETE", fmt.Sprintf("/v1/contacts/%d/email_details/%d", other, emailID), nil)
	require.Equal(t, http.StatusNotFound, status)
}

// contactRows fingerprints the address book's tables.
func (e *env) contactRows() map[string]string {
	e.t.Helper()
	snap := map[string]string{}
	for _, table := range []string{"contacts", "contact_phone_numbers", "contact_emails"} {
		var sum string
		require.NoError(e.t, e.db.Get(&sum, "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM "+table+" t"))
		snap[table] = sum
	}
	return snap
}

// TestContactBadInput sends bad contacts: the status, the error naming the
// field, and nothing written, not even half a contact.
func TestContactBadInput(t *testing.T) {
	e := newEnv(t)
	k := newContactBook(e)
	john := fmt.Sprintf("/v1/contacts/%d", k.john)
	var c struct{ Contact map[string]any }
	e.ok(k.a, "GET", john, nil, &c)
	phoneID := detailID(c.Contact, "phone_numbers", 0)
	number := func(v string) map[string]any { return map[string]any{"label": "Work", "value": v} }
	contactWith := func(fields map[string]any) map[string]any {
		body := map[string]any{"first_name": "Eve", "phone_numbers": []any{number("+33612345678")}}
		for k, v := range fields {
			body[k] = v
		}
		return body
	}
	many := make([]any, 21)
	for i := range many {
		many[i] = number(fmt.Sprintf("+336123456%02d", i))
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"malformed JSON", "POST", "/v1/contacts", `{"first_name":`, 400, "JSON"},
		{"no phone number", "POST", "/v1/contacts", map[string]any{"first_name": "Eve"}, 422, "phone_numbers"},
		{"empty phone numbers", "POST", "/v1/contacts", contactWith(map[string]any{"phone_numbers": []any{}}), 422, "phone_numbers"},
		{"words for a number", "POST", "/v1/contacts", contactWith(map[string]any{"phone_numbers": []any{number("+33612345678"), number("call me")}}), 422, "phone_numbers[1].value"},
		{"not E.164 after normalising", "POST", "/v1/contacts", contactWith(map[string]any{"phone_numbers": []any{number("+289123456")}}), 422, "phone_numbers[0].value"},
		{"too short", "POST", "/v1/contacts", contactWith(map[string]any{"phone_numbers": []any{number("12")}}), 422, "phone_numbers[0].value"},
		{"21 numbers", "POST", "/v1/contacts", contactWith(map[string]any{"phone_numbers": many}), 422, "phone_numbers"},
		{"bad email, after good numbers", "POST", "/v1/contacts", contactWith(map[string]any{"emails": []any{number("eve@")}}), 422, "emails[0].value"},
		{"long label", "POST", "/v1/contacts", contactWith(map[string]any{"emails": []any{map[string]any{"label": strings.Repeat("l", 65), "value": "e@x.test"}}}), 422, "emails[0].label"},
		{"long first name", "POST", "/v1/contacts", contactWith(map[string]any{"first_name": strings.Repeat("é", 256)}), 422, "first_name"},
		{"first name not a string", "POST", "/v1/contacts", contactWith(map[string]any{"first_name": 5}), 422, "first_name"},
		{"unknown field", "POST", "/v1/contacts", contactWith(map[string]any{"nickname": "E"}), 422, "nickname"},
		{"numbers changed on update", "PUT", john, map[string]any{"phone_numbers": []any{number("+33612345678")}}, 422, "phone_numbers"},
		{"emails changed on update", "POST", john, map[string]any{"emails": []any{}}, 422, "emails"},
		{"long information on update", "POST", john, map[string]any{"information": strings.Repeat("i", 4097)}, 422, "information"},
		{"bad number added", "POST", john + "/phone_details", number("123abc"), 422, "value"},
		{"no email added", "POST", john + "/email_details", map[string]any{"label": "Work"}, 422, "value"},
		{"bad number on a detail", "PUT", fmt.Sprintf("%s/phone_details/%d", john, phoneID), number("+1 415"), 422, "value"},
		{"the last number", "DELETE", fmt.Sprintf("%s/phone_details/%d", john, phoneID), nil, 409, "phone number"},
		{"a number of no contact", "PUT", fmt.Sprintf("/v1/contacts/987654/phone_details/%d", phoneID), number("+33612345678"), 404, "contact"},
		{"not an id", "GET", "/v1/contacts/abc", nil, 404, "abc"},
		{"bad search number", "GET", "/v1/contacts/search?phone_number=hello", nil, 422, "phone_number"},
		{"bad page size", "GET", "/v1/contacts/search?email=a@b.test&per_page=51", nil, 400, "per_page"},
		{"bad order", "GET", "/v1/contacts?order=up", nil, 400, "order"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.contactRows()
			status, out := e.do(k.agent, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, status, "answer: %v", out)
			require.NotEmpty(t, out["error"], "answer: %v", out)
			require.Contains(t, fmt.Sprint(out["error"], " ", out["troubleshoot"], " ", out["detail"]), tc.field, "the error names what is wrong")
			require.Equal(t, before, e.contactRows(), "a failed request wrote nothing")
		})
	}

	// A 21st number on an existing contact is a conflict.
	for i := 1; i < 20; i++ {
		e.ok(k.a, "POST", john+"/phone_details", number(fmt.Sprintf("+336123456%02d", i)), nil)
	}
	status, out := e.do(k.a, "POST", john+"/phone_details", number("+33700000000"))
	require.Equal(t, http.StatusConflict, status, "answer: %v", out)
	require.Contains(t, out["troubleshoot"], "at most 20")
}

// TestCallContact: a call links the contact of its other party's
// number, as Aircall's `contact`, in lists, in the call and in webhooks'
// data; the oldest contact when several have the number; another
// company's contact never; none for an unknown or anonymous caller.
func TestCallContact(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	contact := func(k key, first, number string) int64 {
		return e.id(k, "/v1/contacts", "contact", map[string]any{"first_name": first,
			"phone_numbers": []any{map[string]any{"label": "Mobile", "value": number}}})
	}
	john := contact(f.a, "John", "06 12 34 56 78")
	contact(f.a, "Johnny", "+33612345678") // the same number, later: not the call's
	contact(f.b, "Mallory", "+33698765432")
	save := func(digits string) dialplan.CallID {
		c := f.call(now.Add(-time.Minute), func(c *dialplan.Call) { c.RawDigits = digits })
		return e.saveCall(&c)
	}
	known, unknown, theirs, anonymous := save("+33612345678"), save("+33611111111"), save("+33698765432"), save("anonymous")

	contactOf := func(call map[string]any) any {
		if ct, _ := call["contact"].(map[string]any); ct != nil {
			return int64(ct["id"].(float64))
		}
		return call["contact"]
	}
	var one struct{ Call map[string]any }
	e.ok(f.a, "GET", fmt.Sprintf("/v1/calls/%d", known), nil, &one)
	require.Equal(t, john, contactOf(one.Call))
	require.Equal(t, "John", one.Call["contact"].(map[string]any)["first_name"])
	require.Equal(t, e.url+fmt.Sprintf("/v1/contacts/%d", john), one.Call["contact"].(map[string]any)["direct_link"])
	_, raw := e.get(f.a, "GET", fmt.Sprintf("/v1/calls/%d", known), nil)
	e.requireDocumented("/v1/calls/{id}", raw)

	var page callsPage
	e.ok(f.a, "GET", "/v1/calls", nil, &page)
	got := map[float64]any{}
	for _, c := range page.Calls {
		got[c["id"].(float64)] = contactOf(c)
	}
	require.Equal(t, map[float64]any{float64(known): john, float64(unknown): nil, float64(theirs): nil, float64(anonymous): nil}, got)

	r := api.NewRenderer(e.deps)
	data, err := r.Render(context.Background(), f.a.company, events.ResourceCall, int64(known))
	require.NoError(t, err)
	var hooked map[string]any
	require.NoError(t, json.Unmarshal(data, &hooked))
	require.Equal(t, john, contactOf(hooked), "webhooks' data too")
}
