package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/dialplan"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	wrong := a.token[:63] + "0"
	if wrong == a.token { // one token in 16 ends with 0
		wrong = a.token[:63] + "1"
	}
	for name, k := range map[string]key{
		"no credentials": {},
		"wrong token":    {id: a.id, token: wrong},
		"unknown api_id": {id: "0123456789abcdef0123456789abcdef", token: a.token},
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/v1/company", "/v1/ping"} { // ping: how integrations check a key
				status, out := e.do(k, "GET", path, nil)
				require.Equal(t, 401, status, "%s: %v", path, out)
				require.Equal(t, "unauthorized", out["error"])
			}
		})
	}
	t.Run("revoked key", func(t *testing.T) {
		var created struct {
			APIKey struct {
				ID       int64  `json:"id"`
				APIID    string `json:"api_id"`
				APIToken string `json:"api_token"`
			} `json:"api_key"`
		}
		e.ok(a, "POST", "/v1/api_keys", map[string]any{"name": "ci"}, &created)
		k := key{id: created.APIKey.APIID, token: created.APIKey.APIToken}
		e.ok(k, "GET", "/v1/company", nil, nil)
		var listed struct {
			APIKeys []map[string]any `json:"api_keys"`
		}
		e.ok(a, "GET", "/v1/api_keys", nil, &listed)
		require.Len(t, listed.APIKeys, 2)
		for _, key := range listed.APIKeys {
			require.NotContains(t, key, "api_token", "a token is shown once, at creation")
		}
		e.ok(a, "DELETE", fmt.Sprintf("/v1/api_keys/%d", created.APIKey.ID), nil, nil)
		status, _ := e.do(k, "GET", "/v1/company", nil)
		require.Equal(t, 401, status)
	})
	t.Run("health needs no key", func(t *testing.T) {
		status, _ := e.do(key{}, "GET", "/healthz", nil)
		require.Equal(t, 200, status)
		status, out := e.do(key{}, "GET", "/readyz", nil)
		require.Equal(t, 200, status, "%v", out)
	})
}

// TestRoles checks what each role may do, request by request.
func TestRoles(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	keys := map[string]key{
		"owner":       f.a,
		"admin":       e.userKey(f.a, "admin@acme.test", dialplan.RoleAdmin, false),
		"supervisor":  e.userKey(f.a, "sup@acme.test", dialplan.RoleSupervisor, false),
		"agent":       f.agent,
		"agent-owner": e.userKey(f.a, "boss@acme.test", dialplan.RoleAgent, true),
	}
	user := func(k string) string { return fmt.Sprintf("/v1/users/%d", keys[k].user) }
	alice := fmt.Sprintf("/v1/users/%d", f.userA)
	team := fmt.Sprintf("/v1/teams/%d", f.teamA)
	number := fmt.Sprintf("/v1/numbers/%d", f.numberA)
	tag := fmt.Sprintf("/v1/tags/%d", f.tag)
	// want: the status per role, in the order owner, admin, supervisor, agent, agent-owner.
	cases := []struct {
		method, path string
		body         func(role string) any
		want         [5]int
	}{
		{"GET", "/v1/ping", nil, [5]int{200, 200, 200, 200, 200}},
		{"GET", "/v1/company", nil, [5]int{200, 200, 200, 200, 200}},
		{"PUT", "/v1/company", func(string) any { return map[string]any{"sla_seconds": 30} }, [5]int{200, 403, 403, 403, 200}},
		{"GET", "/v1/users", nil, [5]int{200, 200, 200, 403, 403}},
		{"GET", "/v1/users/availabilities", nil, [5]int{200, 200, 200, 403, 403}},
		{"POST", "/v1/users", func(role string) any { return map[string]any{"first_name": "N", "email": role + "-new@acme.test"} }, [5]int{201, 201, 403, 403, 403}},
		{"GET", alice, nil, [5]int{200, 200, 200, 403, 403}},
		{"PUT", alice, func(string) any { return map[string]any{"last_name": "Martin"} }, [5]int{200, 200, 403, 403, 403}},
		{"GET", alice + "/availability", nil, [5]int{200, 200, 200, 403, 403}},
		{"PUT", alice + "/availability", func(string) any { return map[string]any{"availability_status": "available"} }, [5]int{200, 200, 403, 403, 403}},
		{"GET", "/v1/teams", nil, [5]int{200, 200, 200, 403, 403}},
		{"GET", team, nil, [5]int{200, 200, 200, 403, 403}},
		{"POST", "/v1/teams", func(role string) any { return map[string]any{"name": "Team " + role} }, [5]int{201, 201, 403, 403, 403}},
		{"PUT", team, func(string) any { return map[string]any{"ring_slice_seconds": 15} }, [5]int{200, 200, 403, 403, 403}},
		{"GET", "/v1/numbers", nil, [5]int{200, 200, 200, 403, 403}},
		{"GET", number, nil, [5]int{200, 200, 200, 403, 403}},
		{"PUT", number, func(string) any { return map[string]any{"voicemail": false} }, [5]int{200, 200, 403, 403, 403}},
		{"GET", "/v1/tags", nil, [5]int{200, 200, 200, 403, 403}},
		{"GET", tag, nil, [5]int{200, 200, 200, 403, 403}},
		{"PUT", tag, func(string) any { return map[string]any{"color": "#00FF00"} }, [5]int{200, 200, 403, 403, 403}},
		{"GET", "/v1/blocked_numbers", nil, [5]int{200, 200, 200, 403, 403}},
		{"GET", "/v1/api_keys", nil, [5]int{200, 403, 403, 403, 200}},
		{"POST", "/v1/api_keys", func(string) any { return map[string]any{} }, [5]int{201, 403, 403, 403, 201}},
	}
	roles := []string{"owner", "admin", "supervisor", "agent", "agent-owner"}
	for _, tc := range cases {
		for i, role := range roles {
			t.Run(fmt.Sprintf("%s %s as %s", tc.method, tc.path, role), func(t *testing.T) {
				var body any
				if tc.body != nil {
					body = tc.body(role)
				}
				status, out := e.do(keys[role], tc.method, tc.path, body)
				require.Equal(t, tc.want[i], status, "%v", out)
				if status == 403 {
					require.Equal(t, "forbidden", out["error"])
					require.NotEmpty(t, out["troubleshoot"])
				}
			})
		}
	}

	t.Run("everyone reads and sets their own availability and user", func(t *testing.T) {
		for _, role := range roles {
			e.ok(keys[role], "GET", user(role), nil, nil)
			e.ok(keys[role], "PUT", user(role)+"/availability", map[string]any{"availability_status": "unavailable", "unavailable_reason": "lunch"}, nil)
			var out map[string]any
			e.ok(keys[role], "GET", user(role)+"/availability", nil, &out)
			require.Equal(t, "do_not_disturb", out["availability"], "Aircall's: the live status")
			require.Equal(t, "lunch", out["unavailable_reason"])
			e.ok(keys[role], "PUT", user(role), map[string]any{"last_name": "Renamed", "time_zone": "America/New_York"}, nil)
		}
	})
	t.Run("an agent cannot raise their own rights", func(t *testing.T) {
		for field, value := range map[string]any{"role": "admin", "owner": true, "email": "x@acme.test",
			"wrap_up_time": 60, "devices": []string{"PJSIP/mine"}, "extension": "999"} {
			status, out := e.do(f.agent, "PUT", user("agent"), map[string]any{field: value})
			require.Equal(t, 403, status, "%s: %v", field, out)
			require.Contains(t, out["troubleshoot"], field)
		}
		// What they read, sent back unchanged, is accepted.
		var got map[string]map[string]any
		e.ok(f.agent, "GET", user("agent"), nil, &got)
		e.ok(f.agent, "PUT", user("agent"), got["user"], nil)
	})
	t.Run("an admin who is not an owner cannot grant owner", func(t *testing.T) {
		status, out := e.do(keys["admin"], "PUT", alice, map[string]any{"owner": true})
		require.Equal(t, 403, status, "%v", out)
		status, _ = e.do(keys["admin"], "POST", "/v1/users", map[string]any{"first_name": "O", "email": "o@acme.test", "owner": true})
		require.Equal(t, 403, status)
	})
	t.Run("an admin cannot delete themselves", func(t *testing.T) {
		status, out := e.do(keys["admin"], "DELETE", user("admin"), nil)
		require.Equal(t, 409, status, "%v", out)
	})
}

// TestCompanyIsolation: another company's rows answer 404, whatever the
// verb, and are left as they were.
func TestCompanyIsolation(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	paths := []string{
		fmt.Sprintf("/v1/users/%d", f.userA), fmt.Sprintf("/v1/users/%d/availability", f.userA),
		fmt.Sprintf("/v1/teams/%d", f.teamA), fmt.Sprintf("/v1/numbers/%d", f.numberA), fmt.Sprintf("/v1/tags/%d", f.tag),
	}
	before := e.snapshot()
	for _, path := range paths {
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			if method == "DELETE" && path == paths[1] {
				continue // no such route
			}
			status, out := e.do(f.b, method, path, map[string]any{})
			require.Equal(t, 404, status, "%s %s: %v", method, path, out)
		}
	}
	for _, path := range []string{
		fmt.Sprintf("/v1/teams/%d/users/%d", f.teamA, f.userB),
		fmt.Sprintf("/v1/teams/%d/users/%d", f.teamB, f.userA),
	} {
		status, out := e.do(f.b, "POST", path, nil)
		require.Equal(t, 404, status, "POST %s: %v", path, out)
	}
	var blocked struct {
		BlockedNumbers []map[string]any `json:"blocked_numbers"`
	}
	e.ok(f.a, "GET", "/v1/blocked_numbers", nil, &blocked)
	require.Len(t, blocked.BlockedNumbers, 1)
	status, _ := e.do(f.b, "DELETE", fmt.Sprintf("/v1/blocked_numbers/%v", blocked.BlockedNumbers[0]["id"]), nil)
	require.Equal(t, 404, status)
	require.Equal(t, before, e.snapshot())

	var users struct {
		Users []map[string]any
		Meta  map[string]any
	}
	e.ok(f.b, "GET", "/v1/users", nil, &users)
	require.Len(t, users.Users, 2, "company B sees its own owner and Bob only")
	require.EqualValues(t, 2, users.Meta["total"])
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	for i := range 7 {
		e.ok(a, "POST", "/v1/tags", map[string]any{"name": fmt.Sprintf("tag %d", i)}, nil)
	}
	type page struct {
		Tags []struct {
			ID   int64
			Name string
		}
		Meta struct {
			Count            int     `json:"count"`
			Total            int     `json:"total"`
			CurrentPage      int     `json:"current_page"`
			PerPage          int     `json:"per_page"`
			NextPageLink     *string `json:"next_page_link"`
			PreviousPageLink *string `json:"previous_page_link"`
		}
	}
	get := func(query string) page {
		var p page
		e.ok(a, "GET", "/v1/tags"+query, nil, &p)
		return p
	}
	// 4 system tags + 7.
	first := get("?per_page=5")
	require.Equal(t, 5, first.Meta.Count)
	require.Equal(t, 11, first.Meta.Total)
	require.Equal(t, 1, first.Meta.CurrentPage)
	require.Nil(t, first.Meta.PreviousPageLink)
	require.NotNil(t, first.Meta.NextPageLink)
	require.Equal(t, e.url+"/v1/tags?page=2&per_page=5", *first.Meta.NextPageLink)
	require.Equal(t, "Callback Request", first.Tags[0].Name, "oldest first by default")

	last := get("?per_page=5&page=3")
	require.Equal(t, 1, last.Meta.Count)
	require.Nil(t, last.Meta.NextPageLink)
	require.Equal(t, e.url+"/v1/tags?page=2&per_page=5", *last.Meta.PreviousPageLink)

	exact := get("?per_page=11")
	require.Equal(t, 11, exact.Meta.Count)
	require.Nil(t, exact.Meta.NextPageLink, "no next page when the last one is full")

	beyond := get("?per_page=5&page=9")
	require.Equal(t, 0, beyond.Meta.Count)
	require.Empty(t, beyond.Tags)
	require.Equal(t, e.url+"/v1/tags?page=3&per_page=5", *beyond.Meta.PreviousPageLink, "back to the last page")

	desc := get("?order=desc&per_page=50")
	require.Equal(t, "tag 6", desc.Tags[0].Name)
	require.Equal(t, 50, desc.Meta.PerPage)

	require.Equal(t, 20, get("").Meta.PerPage, "Aircall's default page size")
	require.Equal(t, 0, get("?from=4102444800").Meta.Total, "nothing created after 2100")
	require.Equal(t, 11, get("?from=0&to=4102444800").Meta.Total)
	require.Equal(t, 0, get("?to=0").Meta.Total)
}

func TestKeysForOthers(t *testing.T) {
	e := newEnv(t)
	f := newFixtures(e)
	agentOwner := e.userKey(f.a, "boss@acme.test", dialplan.RoleAgent, true)
	status, out := e.do(agentOwner, "POST", "/v1/api_keys", map[string]any{"user_id": f.a.user})
	require.Equal(t, 403, status, "an agent owner cannot mint an admin's key: %v", out)
	e.ok(agentOwner, "POST", "/v1/api_keys", map[string]any{"name": "mine"}, nil)
	e.ok(f.a, "POST", "/v1/api_keys", map[string]any{"user_id": f.userA, "name": "for Alice"}, nil)
}

// TestFollowLinks: a generic client, knowing nothing of the API's paths,
// walks a list by following next_page_link as an opaque URL with its
// HTTP library, then back by previous_page_link, and opens each object
// at its direct_link: the links are absolute URLs at the public URL.
func TestFollowLinks(t *testing.T) {
	e := newEnv(t)
	a := e.company("Acme", "owner@acme.test")
	for i := range 5 {
		e.ok(a, "POST", "/v1/tags", map[string]any{"name": fmt.Sprintf("tag %d", i)}, nil)
	}
	type page struct {
		Tags []struct {
			ID         int64  `json:"id"`
			Name       string `json:"name"`
			DirectLink string `json:"direct_link"`
		} `json:"tags"`
		Meta struct {
			NextPageLink     *string `json:"next_page_link"`
			PreviousPageLink *string `json:"previous_page_link"`
		} `json:"meta"`
	}
	fetch := func(link string, out any) {
		t.Helper()
		req, err := http.NewRequest("GET", link, nil)
		require.NoError(t, err)
		req.SetBasicAuth(a.id, a.token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, link)
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
	var (
		names []string
		links []string
		pages []string
		last  page
	)
	for link := e.url + "/v1/tags?per_page=3"; ; {
		pages = append(pages, link)
		var p page
		fetch(link, &p)
		for _, tag := range p.Tags {
			names = append(names, tag.Name)
			links = append(links, tag.DirectLink)
		}
		last = p
		if p.Meta.NextPageLink == nil {
			break
		}
		require.True(t, strings.HasPrefix(*p.Meta.NextPageLink, e.url+"/"), "absolute: %s", *p.Meta.NextPageLink)
		link = *p.Meta.NextPageLink
	}
	require.Len(t, pages, 3, "4 system tags and 5 more, 3 a page")
	require.Len(t, names, 9)
	require.Equal(t, []string{"tag 0", "tag 1", "tag 2", "tag 3", "tag 4"}, names[4:])

	require.NotNil(t, last.Meta.PreviousPageLink)
	var back page
	fetch(*last.Meta.PreviousPageLink, &back)
	require.Equal(t, names[3:6], []string{back.Tags[0].Name, back.Tags[1].Name, back.Tags[2].Name}, "the page before")

	for i, link := range links {
		var one struct {
			Tag struct {
				Name string `json:"name"`
			} `json:"tag"`
		}
		fetch(link, &one)
		require.Equal(t, names[i], one.Tag.Name, link)
	}
}
