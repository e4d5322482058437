package api

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/internal/aircall"
)

// TestOpenAPIAgreesWithAircallSchemas: every field of Aircall's objects
// (internal/aircall's schemas) is in the OpenAPI document's, down into the
// objects they hold, with the same type; null or one of an enum's values
// only where Aircall's may be (the values we add to Aircall's enums listed
// in x-switchboard-extension on both sides); required where Aircall's is,
// when the field is output-only (a field a client may send is optional
// in a request body: that it is in every answer, the suites check on the
// answers themselves).
func TestOpenAPIAgreesWithAircallSchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, object := range aircall.Objects() {
		component, ok := aircallObjects[object]
		if !ok {
			continue // not an object of ours: live_status (a string), webhook_event (the delivery's body)
		}
		t.Run(object, func(t *testing.T) {
			ref := doc.Components.Schemas[component]
			require.NotNil(t, ref, "no component %s", component)
			ours := flattenOpenAPI(ref.Value)
			theirs := flattenAircall(t, map[string]any{"$ref": object + ".json"})
			for _, problem := range compareShapes(object, theirs, ours) {
				t.Error(problem)
			}
			// Our fields are marked as ours, Aircall's are not.
			for name, p := range ref.Value.Properties {
				_, aircalls := theirs.props[name]
				require.Equal(t, !aircalls, p.Value.Extensions["x-switchboard-extension"] == true, "%s.%s", object, name)
			}
		})
	}
	require.Contains(t, aircall.Objects(), "live_status")
	live := flattenAircall(t, map[string]any{"$ref": "live_status.json"})
	ours := flattenOpenAPI(doc.Components.Schemas["Availability"].Value).props["availability"]
	require.Empty(t, compareShapes("live_status", live, ours))
}

// shape is a schema reduced to what a client relies on.
type shape struct {
	types     []string // JSON types, null left out
	nullable  bool
	readOnly  bool
	props     map[string]*shape
	required  []string
	items     *shape
	enum      []string // null left out
	extension []string // x-switchboard-extension
}

func compareShapes(at string, theirs, ours *shape) []string {
	if ours == nil {
		return []string{at + ": missing from the OpenAPI document"}
	}
	var out []string
	if !slices.Equal(theirs.types, ours.types) && len(theirs.types) > 0 {
		// Aircall's "string or integer" ids: ours must be one of them.
		if len(theirs.types) < 2 || len(ours.types) != 1 || !slices.Contains(theirs.types, ours.types[0]) {
			out = append(out, fmt.Sprintf("%s: type %v, Aircall's is %v", at, ours.types, theirs.types))
		}
	}
	if ours.nullable && !theirs.nullable {
		out = append(out, fmt.Sprintf("%s: may be null, Aircall's may not", at))
	}
	if len(theirs.enum) > 0 {
		if len(ours.enum) == 0 || slices.ContainsFunc(ours.enum, func(v string) bool { return !slices.Contains(theirs.enum, v) }) {
			out = append(out, fmt.Sprintf("%s: enum %v, Aircall's (with ours) is %v", at, ours.enum, theirs.enum))
		}
		if !slices.Equal(theirs.extension, ours.extension) {
			out = append(out, fmt.Sprintf("%s: x-switchboard-extension %v, the schema's is %v", at, ours.extension, theirs.extension))
		}
	}
	for _, name := range theirs.required {
		if p := ours.props[name]; p != nil && p.readOnly && !slices.Contains(ours.required, name) {
			out = append(out, fmt.Sprintf("%s.%s: required by Aircall, not in the document", at, name))
		}
	}
	for name, p := range theirs.props {
		out = append(out, compareShapes(at+"."+name, p, ours.props[name])...)
	}
	if theirs.items != nil {
		out = append(out, compareShapes(at+"[]", theirs.items, ours.items)...)
	}
	return out
}

func flattenOpenAPI(s *openapi3.Schema) *shape {
	if s == nil {
		return nil
	}
	out := &shape{nullable: s.Nullable, readOnly: s.ReadOnly, props: map[string]*shape{}}
	for _, sub := range s.AllOf { // nullableRef: a $ref made nullable
		inner := flattenOpenAPI(sub.Value)
		inner.nullable = inner.nullable || s.Nullable
		inner.readOnly = inner.readOnly || s.ReadOnly
		return inner
	}
	if s.Type != nil {
		out.types = sortedTypes(*s.Type)
	}
	for name, p := range s.Properties {
		out.props[name] = flattenOpenAPI(p.Value)
	}
	out.required = s.Required
	if s.Items != nil {
		out.items = flattenOpenAPI(s.Items.Value)
	}
	for _, v := range s.Enum {
		if v != nil {
			out.enum = append(out.enum, fmt.Sprint(v))
		}
	}
	sort.Strings(out.enum)
	if ext, ok := s.Extensions["x-switchboard-extension"]; ok {
		out.extension = strings.Fields(strings.Trim(fmt.Sprint(ext), "[]"))
	}
	return out
}

func flattenAircall(t *testing.T, node map[string]any) *shape {
	t.Helper()
	if ref, ok := node["$ref"].(string); ok {
		schema, err := aircall.Schema(strings.TrimSuffix(ref, ".json"))
		require.NoError(t, err)
		return flattenAircall(t, schema)
	}
	out := &shape{props: map[string]*shape{}}
	if alts, ok := node["oneOf"].([]any); ok { // null, or something
		for _, alt := range alts {
			a := alt.(map[string]any)
			if a["type"] == "null" {
				out.nullable = true
				continue
			}
			inner := flattenAircall(t, a)
			inner.nullable = inner.nullable || out.nullable
			out = inner
		}
		out.nullable = true
		return out
	}
	if parts, ok := node["allOf"].([]any); ok {
		for _, part := range parts {
			p := flattenAircall(t, part.(map[string]any))
			out.types = p.types
			for name, s := range p.props {
				out.props[name] = s
			}
			out.required = append(out.required, p.required...)
		}
		return out
	}
	switch ty := node["type"].(type) {
	case string:
		out.types = []string{ty}
	case []any:
		var types []string
		for _, x := range ty {
			if x == "null" {
				out.nullable = true
				continue
			}
			types = append(types, x.(string))
		}
		out.types = sortedTypes(types)
	}
	if props, ok := node["properties"].(map[string]any); ok {
		for name, p := range props {
			out.props[name] = flattenAircall(t, p.(map[string]any))
		}
	}
	for _, r := range asSlice(node["required"]) {
		out.required = append(out.required, r.(string))
	}
	if items, ok := node["items"].(map[string]any); ok {
		out.items = flattenAircall(t, items)
	}
	for _, v := range asSlice(node["enum"]) {
		if v != nil {
			out.enum = append(out.enum, fmt.Sprint(v))
		}
	}
	sort.Strings(out.enum)
	for _, v := range asSlice(node["x-switchboard-extension"]) {
		out.extension = append(out.extension, v.(string))
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func sortedTypes(types []string) []string {
	out := slices.Clone(types)
	sort.Strings(out)
	return out
}
