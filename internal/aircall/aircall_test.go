package aircall_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/aircall"
)

const tag = `{"id": 1, "direct_link": "https://pbx.example.com/v1/tags/1", "name": "VIP", "color": "#FF0000", "description": null}`

const meta = `{"count": 1, "total": 3, "current_page": 2, "per_page": 1,
	"next_page_link": "https://pbx.example.com/v1/tags?page=3&per_page=1",
	"previous_page_link": "https://pbx.example.com/v1/tags?page=1&per_page=1"}`

func TestCheck(t *testing.T) {
	c, err := aircall.Load()
	require.NoError(t, err)
	tests := []struct {
		name, method, url string
		status            int
		body              string
		problem           string // "" for valid
	}{
		{"an object", "GET", "/v1/tags/1", 200, `{"tag": ` + tag + `}`, ""},
		{"a list", "GET", "/v1/tags?page=2", 200, `{"tags": [` + tag + `], "meta": ` + meta + `}`, ""},
		{"our own route", "GET", "/v1/stats", 200, `{"anything": 1}`, ""},
		{"an error", "GET", "/v1/tags/9", 404, `{"error": "not found", "troubleshoot": "no tag 9"}`, ""},
		{"no content", "DELETE", "/v1/tags/1", 204, ``, ""},
		{"a field missing", "GET", "/v1/tags/1", 200, `{"tag": {"id": 1, "name": "VIP"}}`, "direct_link"},
		{"a relative link", "GET", "/v1/tags/1", 200,
			`{"tag": {"id": 1, "direct_link": "/v1/tags/1", "name": "VIP", "color": "#FF0000", "description": null}}`, "direct_link"},
		{"a wrong type", "GET", "/v1/tags/1", 200,
			`{"tag": {"id": "1", "direct_link": "https://x/v1/tags/1", "name": "VIP", "color": "#FF0000", "description": ""}}`, "/id"},
		{"no envelope", "GET", "/v1/tags/1", 200, tag, `no "tag"`},
		{"a list without meta", "GET", "/v1/tags", 200, `{"tags": []}`, "meta"},
		{"another status", "POST", "/v1/tags", 200, `{"tag": ` + tag + `}`, "Aircall answers 201"},
		{"a body with no content", "DELETE", "/v1/tags/1", 204, `{}`, "204"},
		{"an error of another shape", "GET", "/v1/tags/9", 404, `{"message": "not found"}`, "error body"},
		{"a created_at of another format", "GET", "/v1/teams/1", 200, `{"team": {"id": 1, "direct_link": "https://x/v1/teams/1",
			"name": "Support", "created_at": "2026-11-23T10:15:00Z", "users": []}}`, "created_at"},
		{"a missed call reason outside the enum", "GET", "/v1/calls/search", 200, `{"calls": [{"missed_call_reason": "busy"}],
			"meta": ` + meta + `}`, "missed_call_reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Check(tt.method, tt.url, tt.status, []byte(tt.body))
			if tt.problem == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.problem)
		})
	}
}

func TestUnseenAreTheRoutesNotAnswered(t *testing.T) {
	c, err := aircall.Load()
	require.NoError(t, err)
	require.Len(t, c.Unseen(), len(aircall.Routes))
	require.NoError(t, c.Check("GET", "/v1/tags/1", 200, []byte(`{"tag": `+tag+`}`)))
	require.Len(t, c.Unseen(), len(aircall.Routes)-1)
	require.NotContains(t, c.Unseen(), aircall.Route{Method: "GET", Path: "/v1/tags/:id", Status: 200, Key: "tag", Object: "tag"})
}

func TestEveryObjectHasASchema(t *testing.T) {
	objects := aircall.Objects()
	for _, r := range aircall.Routes {
		if r.Object != "" {
			require.Contains(t, objects, r.Object, "%s %s", r.Method, r.Path)
		}
	}
}

func TestCheckEvent(t *testing.T) {
	c, err := aircall.Load()
	require.NoError(t, err)
	contact := `{"id": 3, "direct_link": "https://pbx.example.com/v1/contacts/3", "first_name": "John", "last_name": null,
		"company_name": null, "description": null, "information": null, "is_shared": true, "created_at": 1796655513,
		"updated_at": 1796655513, "phone_numbers": [{"id": 1, "label": "Mobile", "value": "+33612345678"}], "emails": []}`
	event := func(resource, data string) []byte {
		return []byte(`{"resource": "` + resource + `", "event": "` + resource + `.created", "timestamp": 1796655513,
			"token": "abc", "data": ` + data + `}`)
	}
	require.NoError(t, c.CheckEvent(event("contact", contact)))
	require.ErrorContains(t, c.CheckEvent(event("number", contact)), "number event's data")
	require.ErrorContains(t, c.CheckEvent(event("invoice", `{}`)), `resource "invoice"`)
	require.ErrorContains(t, c.CheckEvent([]byte(`{"resource": "contact", "data": `+contact+`}`)), "timestamp")
}
