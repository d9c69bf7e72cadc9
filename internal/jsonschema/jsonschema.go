// Package jsonschema owns the small JSON Schema subset vroot's documented
// formats are written in (docs/report.md), and the checks that keep a
// document, its Go types and real output in step: extracting a schema or
// an example from a Markdown file, validating a decoded JSON value against
// a schema, and comparing a schema with a Go struct's json tags.
//
// The subset: type (one name), properties, required,
// additionalProperties: false, items, enum, minimum, description, and
// $ref to "#/$defs/NAME". Anything else in a schema is an error, so that a
// document cannot promise a constraint nobody checks.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Schema is a decoded JSON Schema document.
type Schema map[string]any

// known are the keywords this package understands.
var known = []string{"$schema", "$id", "$defs", "$ref", "title", "description", "type", "properties",
	"required", "additionalProperties", "items", "enum", "minimum", "examples"}

// FromMarkdown returns the fenced code block that follows the line
// "<!-- NAME -->" in md.
func FromMarkdown(md []byte, name string) ([]byte, error) {
	marker := []byte("<!-- " + name + " -->")
	i := bytes.Index(md, marker)
	if i < 0 {
		return nil, fmt.Errorf("no %s marker", marker)
	}
	rest := md[i+len(marker):]
	start := bytes.Index(rest, []byte("```"))
	if start < 0 {
		return nil, fmt.Errorf("no code block after %s", marker)
	}
	rest = rest[start+3:]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, fmt.Errorf("unterminated code block after %s", marker)
	}
	rest = rest[nl+1:]
	end := bytes.Index(rest, []byte("\n```"))
	if end < 0 {
		return nil, fmt.Errorf("unterminated code block after %s", marker)
	}
	return rest[:end+1], nil
}

// Parse decodes a schema and checks it uses only the subset.
func Parse(b []byte) (Schema, error) {
	var s Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if err := s.check(s, "#"); err != nil {
		return nil, err
	}
	return s, nil
}

func (root Schema) check(s map[string]any, at string) error {
	for k, v := range s {
		if !slices.Contains(known, k) {
			return fmt.Errorf("%s: keyword %q is not in the subset", at, k)
		}
		switch k {
		case "$defs", "properties":
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s/%s: not an object", at, k)
			}
			for name, sub := range m {
				sm, ok := sub.(map[string]any)
				if !ok {
					return fmt.Errorf("%s/%s/%s: not a schema", at, k, name)
				}
				if err := root.check(sm, at+"/"+k+"/"+name); err != nil {
					return err
				}
			}
		case "items":
			sm, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s/items: not a schema", at)
			}
			if err := root.check(sm, at+"/items"); err != nil {
				return err
			}
		case "additionalProperties":
			if v != false {
				return fmt.Errorf("%s: additionalProperties must be false", at)
			}
		case "$ref":
			if _, err := root.resolve(s); err != nil {
				return fmt.Errorf("%s: %v", at, err)
			}
		}
	}
	return nil
}

// resolve follows a $ref.
func (root Schema) resolve(s map[string]any) (map[string]any, error) {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s, nil
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only #/$defs/NAME", ref)
	}
	defs, _ := root["$defs"].(map[string]any)
	d, ok := defs[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q: no such definition", ref)
	}
	return d, nil
}

// Validate checks a value decoded by encoding/json (into any) against the
// schema, and returns every mismatch.
func (root Schema) Validate(v any) error {
	var errs []string
	root.validate(root, v, "$", &errs)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// ValidateJSON decodes b and validates it.
func (root Schema) ValidateJSON(b []byte) error {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	return root.Validate(v)
}

func (root Schema) validate(s map[string]any, v any, at string, errs *[]string) {
	s, err := root.resolve(s)
	if err != nil {
		*errs = append(*errs, at+": "+err.Error())
		return
	}
	fail := func(f string, a ...any) { *errs = append(*errs, at+": "+fmt.Sprintf(f, a...)) }
	if t, ok := s["type"].(string); ok && !hasType(v, t) {
		fail("want %s, have %s", t, typeOf(v))
		return
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			fail("%v is not one of %v", v, enum)
		}
	}
	if min, ok := s["minimum"].(float64); ok {
		if f, ok := number(v); ok && f < min {
			fail("%v is below the minimum %v", v, min)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := x[r.(string)]; !ok {
				fail("missing required %q", r)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if s["additionalProperties"] == false {
					fail("unexpected property %q", k)
				}
				continue
			}
			root.validate(ps, x[k], at+"."+k, errs)
		}
	case []any:
		if is, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				root.validate(is, e, fmt.Sprintf("%s[%d]", at, i), errs)
			}
		}
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func hasType(v any, t string) bool {
	switch t {
	case "integer":
		switch n := v.(type) {
		case json.Number:
			_, err := n.Int64()
			return err == nil
		case float64:
			return n == float64(int64(n))
		}
		return false
	case "number":
		_, ok := number(v)
		return ok
	}
	return typeOf(v) == t
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// CompareType checks that the schema describes the Go type t exactly: for
// every struct, the same json names as properties, "required" listing
// exactly the fields without omitempty, matching types, and a description
// for every property. It returns every difference.
func (root Schema) CompareType(t reflect.Type) error {
	var errs []string
	root.compare(root, t, "$", &errs)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func (root Schema) compare(s map[string]any, t reflect.Type, at string, errs *[]string) {
	s, err := root.resolve(s)
	if err != nil {
		*errs = append(*errs, at+": "+err.Error())
		return
	}
	fail := func(f string, a ...any) { *errs = append(*errs, at+": "+fmt.Sprintf(f, a...)) }
	want := ""
	switch t.Kind() {
	case reflect.String:
		want = "string"
	case reflect.Bool:
		want = "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want = "integer"
	case reflect.Float32, reflect.Float64:
		want = "number"
	case reflect.Slice, reflect.Array:
		want = "array"
	case reflect.Struct:
		want = "object"
	default:
		fail("Go type %s has no JSON Schema counterpart here", t)
		return
	}
	if got, _ := s["type"].(string); got != want {
		fail("schema type %q, Go type %s (%s)", got, t, want)
		return
	}
	switch want {
	case "array":
		is, ok := s["items"].(map[string]any)
		if !ok {
			fail("array without items")
			return
		}
		root.compare(is, t.Elem(), at+"[]", errs)
	case "object":
		props, _ := s["properties"].(map[string]any)
		if s["additionalProperties"] != false {
			fail("object without additionalProperties: false")
		}
		req := asList(s["required"])
		seen := map[string]bool{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" {
				name = f.Name
			}
			seen[name] = true
			ps, ok := props[name].(map[string]any)
			if !ok {
				fail("field %s (json %q) is not in the schema", f.Name, name)
				continue
			}
			omit := strings.Contains(","+opts+",", ",omitempty,")
			if omit == slices.Contains(req, name) {
				if omit {
					fail("%q is omitempty but required", name)
				} else {
					fail("%q is always written but not required", name)
				}
			}
			if d, _ := ps["description"].(string); strings.TrimSpace(d) == "" {
				if r, err := root.resolve(ps); err != nil || r["description"] == nil {
					fail("%q has no description", name)
				}
			}
			root.compare(ps, f.Type, at+"."+name, errs)
		}
		for name := range props {
			if !seen[name] {
				fail("schema property %q has no Go field", name)
			}
		}
	}
}

func asList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
