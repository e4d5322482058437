// Package aircall checks Switchboard's API answers against Aircall's
// public API v1: JSON Schemas of Aircall's objects, written from its
// reference (schemas/), and the table of Aircall's routes with the object
// each answers. The API and end-to-end tests pass every answer they get
// through a Checker, so that an integration written for Aircall can read
// whatever Switchboard answers.
//
// The schemas hold Aircall's fields only, with Aircall's types and enums,
// and allow more (Switchboard's additions). Where Switchboard extends one
// of Aircall's enums, the schema names the extra values under
// "x-switchboard-extension", as the OpenAPI document does.
package aircall

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schemas/*.json
var files embed.FS

// base is where the schemas say they live, so that they refer to each
// other by file name.
const base = "https://switchboard.invalid/aircall/"

// Route is one of Aircall's routes as Switchboard serves it, and what a
// success answers: Key is the envelope's key ("user", "users"), Object
// the schema of what it holds; both empty for an answer with no content.
type Route struct {
	Method, Path string // Path with :id for an id
	Status       int
	Key, Object  string
}

// List says whether the route answers a page of objects (with meta):
// Aircall names a list by the plural.
func (r Route) List() bool { return strings.HasSuffix(r.Key, "s") }

// Routes is every Aircall v1 route Switchboard serves, with the status
// Aircall answers on success.
var Routes = []Route{
	{"GET", "/v1/ping", 200, "ping", "pong"},
	{"GET", "/v1/company", 200, "company", "company"},

	{"GET", "/v1/users", 200, "users", "user"},
	{"POST", "/v1/users", 201, "user", "user"},
	{"GET", "/v1/users/:id", 200, "user", "user"},
	{"PUT", "/v1/users/:id", 200, "user", "user"},
	{"DELETE", "/v1/users/:id", 204, "", ""},
	{"GET", "/v1/users/availabilities", 200, "users", "availability"},
	{"GET", "/v1/users/:id/availability", 200, "availability", "live_status"},
	{"POST", "/v1/users/:id/calls", 204, "", ""},
	{"POST", "/v1/users/:id/dial", 204, "", ""},

	{"GET", "/v1/teams", 200, "teams", "team"},
	{"POST", "/v1/teams", 201, "team", "team"},
	{"GET", "/v1/teams/:id", 200, "team", "team"},
	{"DELETE", "/v1/teams/:id", 204, "", ""},
	{"POST", "/v1/teams/:id/users/:id", 200, "team", "team"},
	{"DELETE", "/v1/teams/:id/users/:id", 200, "team", "team"},

	{"GET", "/v1/numbers", 200, "numbers", "number"},
	{"GET", "/v1/numbers/:id", 200, "number", "number"},
	{"PUT", "/v1/numbers/:id", 200, "number", "number"},

	{"GET", "/v1/calls", 200, "calls", "call"},
	{"GET", "/v1/calls/search", 200, "calls", "call"},
	{"GET", "/v1/calls/:id", 200, "call", "call"},
	{"POST", "/v1/calls/:id/transfers", 204, "", ""},
	{"POST", "/v1/calls/:id/comments", 201, "call", "call"},
	{"POST", "/v1/calls/:id/tags", 201, "call", "call"},
	{"PUT", "/v1/calls/:id/archive", 200, "call", "call"},
	{"PUT", "/v1/calls/:id/unarchive", 200, "call", "call"},
	{"POST", "/v1/calls/:id/pause_recording", 204, "", ""},
	{"POST", "/v1/calls/:id/resume_recording", 204, "", ""},
	{"DELETE", "/v1/calls/:id/recording", 204, "", ""},
	{"DELETE", "/v1/calls/:id/voicemail", 204, "", ""},

	{"GET", "/v1/contacts", 200, "contacts", "contact"},
	{"GET", "/v1/contacts/search", 200, "contacts", "contact"},
	{"POST", "/v1/contacts", 201, "contact", "contact"},
	{"GET", "/v1/contacts/:id", 200, "contact", "contact"},
	{"POST", "/v1/contacts/:id", 200, "contact", "contact"},
	{"DELETE", "/v1/contacts/:id", 204, "", ""},
	{"POST", "/v1/contacts/:id/phone_details", 201, "contact", "contact"},
	{"PUT", "/v1/contacts/:id/phone_details/:id", 200, "contact", "contact"},
	{"DELETE", "/v1/contacts/:id/phone_details/:id", 204, "", ""},
	{"POST", "/v1/contacts/:id/email_details", 201, "contact", "contact"},
	{"PUT", "/v1/contacts/:id/email_details/:id", 200, "contact", "contact"},
	{"DELETE", "/v1/contacts/:id/email_details/:id", 204, "", ""},

	{"GET", "/v1/tags", 200, "tags", "tag"},
	{"POST", "/v1/tags", 201, "tag", "tag"},
	{"GET", "/v1/tags/:id", 200, "tag", "tag"},
	{"PUT", "/v1/tags/:id", 200, "tag", "tag"},
	{"DELETE", "/v1/tags/:id", 204, "", ""},

	{"GET", "/v1/webhooks", 200, "webhooks", "webhook"},
	{"POST", "/v1/webhooks", 201, "webhook", "webhook"},
	{"GET", "/v1/webhooks/:id", 200, "webhook", "webhook"},
	{"PUT", "/v1/webhooks/:id", 200, "webhook", "webhook"},
	{"DELETE", "/v1/webhooks/:id", 204, "", ""},
}

// Checker validates answers; it remembers which routes it saw answer
// successfully, so that a suite can tell which it never tried.
type Checker struct {
	schemas map[string]*jsonschema.Schema
	mu      sync.Mutex
	seen    map[Route]bool
}

// Load compiles the schemas.
func Load() (*Checker, error) {
	c := jsonschema.NewCompiler()
	names, err := fs.Glob(files, "schemas/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		raw, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := c.AddResource(base+path.Base(name), doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	out := &Checker{schemas: map[string]*jsonschema.Schema{}, seen: map[Route]bool{}}
	for _, name := range names {
		object := strings.TrimSuffix(path.Base(name), ".json")
		if out.schemas[object], err = c.Compile(base + path.Base(name)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// Schema is the raw schema of an object, for the tests that compare it
// with the OpenAPI document.
func Schema(object string) (map[string]any, error) {
	raw, err := files.ReadFile("schemas/" + object + ".json")
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// Fields are the names of the fields of an object's schema (those of the
// schemas it is made of too).
func Fields(object string) ([]string, error) {
	s, err := Schema(object)
	if err != nil {
		return nil, err
	}
	var out []string
	parts := []any{s}
	if all, ok := s["allOf"].([]any); ok {
		parts = all
	}
	for _, part := range parts {
		p, _ := part.(map[string]any)
		if ref, ok := p["$ref"].(string); ok {
			inner, err := Fields(strings.TrimSuffix(ref, ".json"))
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		props, _ := p["properties"].(map[string]any)
		for name := range props {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Objects is the name of every schema.
func Objects() []string {
	names, _ := fs.Glob(files, "schemas/*.json")
	for i, n := range names {
		names[i] = strings.TrimSuffix(path.Base(n), ".json")
	}
	return names
}

// Find is the Aircall route a request went to, if it is one.
func Find(method, rawURL string) (Route, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Route{}, false
	}
	parts := strings.Split(u.Path, "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = ":id"
		}
	}
	p := strings.Join(parts, "/")
	for _, r := range Routes {
		if r.Method == method && r.Path == p {
			return r, true
		}
	}
	return Route{}, false
}

// Check validates the answer to a request: a success of an Aircall
// route must have Aircall's status and hold its object as Aircall shows
// it, an error must have Aircall's error body. Other routes pass.
func (c *Checker) Check(method, rawURL string, status int, body []byte) error {
	r, ok := Find(method, rawURL)
	if !ok {
		return nil
	}
	where := method + " " + rawURL
	if status >= 400 {
		if err := c.validate("error", body); err != nil {
			return fmt.Errorf("%s: the error body (%d): %w", where, status, err)
		}
		return nil
	}
	if status != r.Status {
		return fmt.Errorf("%s: answered %d where Aircall answers %d", where, status, r.Status)
	}
	c.mu.Lock()
	c.seen[r] = true
	c.mu.Unlock()
	switch {
	case r.Object == "":
		if len(bytes.TrimSpace(body)) != 0 && status == http.StatusNoContent {
			return fmt.Errorf("%s: a body with 204", where)
		}
		return nil
	case r.Key == "":
		if err := c.validate(r.Object, body); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		return nil
	}
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("%s: not a JSON object: %w", where, err)
	}
	inside, ok := envelope[r.Key]
	if !ok {
		return fmt.Errorf("%s: no %q in the answer", where, r.Key)
	}
	if !r.List() {
		if err := c.validate(r.Object, inside); err != nil {
			return fmt.Errorf("%s: %s: %w", where, r.Key, err)
		}
		return nil
	}
	if err := c.validate("meta", envelope["meta"]); err != nil {
		return fmt.Errorf("%s: meta: %w", where, err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(inside, &items); err != nil {
		return fmt.Errorf("%s: %s is not a list: %w", where, r.Key, err)
	}
	for i, item := range items {
		if err := c.validate(r.Object, item); err != nil {
			return fmt.Errorf("%s: %s[%d]: %w", where, r.Key, i, err)
		}
	}
	return nil
}

// eventData are the objects webhook events carry, by resource.
var eventData = map[string]string{"call": "call", "user": "user", "number": "number", "contact": "contact"}

// CheckEvent validates the body of a webhook delivery: Aircall's envelope,
// and in it the object as Aircall shows it.
func (c *Checker) CheckEvent(body []byte) error {
	if err := c.validate("webhook_event", body); err != nil {
		return err
	}
	var e struct {
		Resource string          `json:"resource"`
		Data     json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return err
	}
	object, ok := eventData[e.Resource]
	if !ok {
		return fmt.Errorf("an event of resource %q, not one of Aircall's", e.Resource)
	}
	if err := c.validate(object, e.Data); err != nil {
		return fmt.Errorf("%s event's data: %w", e.Resource, err)
	}
	return nil
}

func (c *Checker) validate(object string, raw []byte) error {
	s, ok := c.schemas[object]
	if !ok {
		return fmt.Errorf("no schema %q", object)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("not Aircall's %s: %w", object, err)
	}
	return nil
}

// Unseen is the routes no successful answer was checked for.
func (c *Checker) Unseen() []Route {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Route
	for _, r := range Routes {
		if !c.seen[r] {
			out = append(out, r)
		}
	}
	return slices.Clip(out)
}
