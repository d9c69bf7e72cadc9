package jsonschema

import (
	"reflect"
	"strings"
	"testing"
)

const testSchema = `{
  "type": "object", "additionalProperties": false, "required": ["n", "xs"],
  "properties": {
    "n": {"type": "integer", "minimum": 0, "description": "a count"},
    "s": {"type": "string", "enum": ["a", "b"], "description": "a choice"},
    "xs": {"type": "array", "items": {"$ref": "#/$defs/x"}, "description": "things"}
  },
  "$defs": {"x": {"type": "object", "additionalProperties": false, "required": ["k"],
    "properties": {"k": {"type": "boolean", "description": "a flag"}}}}
}`

func TestValidate(t *testing.T) {
	s, err := Parse([]byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateJSON([]byte(`{"n": 3, "s": "a", "xs": [{"k": true}]}`)); err != nil {
		t.Errorf("valid document refused: %v", err)
	}
	for doc, want := range map[string]string{
		`{"xs": []}`:                            `missing required "n"`,
		`{"n": 1.5, "xs": []}`:                  "$.n: want integer",
		`{"n": -1, "xs": []}`:                   "below the minimum",
		`{"n": 1, "s": "c", "xs": []}`:          "not one of",
		`{"n": 1, "xs": [{"k": 1}]}`:            "$.xs[0].k: want boolean",
		`{"n": 1, "xs": [{}]}`:                  `$.xs[0]: missing required "k"`,
		`{"n": 1, "xs": [], "extra": 0}`:        `unexpected property "extra"`,
		`{"n": 1, "xs": [{"k": true, "j": 1}]}`: `unexpected property "j"`,
	} {
		err := s.ValidateJSON([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
	if _, err := Parse([]byte(`{"type": "object", "pattern": "x"}`)); err == nil {
		t.Error("a keyword outside the subset was accepted")
	}
	if _, err := Parse([]byte(`{"$ref": "#/$defs/nope"}`)); err == nil {
		t.Error("a dangling $ref was accepted")
	}
}

func TestCompareType(t *testing.T) {
	s, err := Parse([]byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	type x struct {
		K bool `json:"k"`
	}
	type good struct {
		N  int    `json:"n"`
		S  string `json:"s,omitempty"`
		Xs []x    `json:"xs"`
	}
	if err := s.CompareType(reflect.TypeOf(good{})); err != nil {
		t.Errorf("matching type: %v", err)
	}
	type bad struct {
		N     string `json:"n"`
		S     string `json:"s"`
		Extra int    `json:"extra"`
	}
	err = s.CompareType(reflect.TypeOf(bad{}))
	for _, want := range []string{`$.n: schema type "integer"`, `"s" is always written but not required`,
		`"extra") is not in the schema`, `schema property "xs" has no Go field`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
}

func TestFromMarkdown(t *testing.T) {
	md := "# T\n\n<!-- a -->\n```json\n{\"x\": 1}\n```\n\n<!-- b -->\n```\ny\n```\n"
	if b, err := FromMarkdown([]byte(md), "a"); err != nil || string(b) != "{\"x\": 1}\n" {
		t.Errorf("a: %q %v", b, err)
	}
	if b, err := FromMarkdown([]byte(md), "b"); err != nil || string(b) != "y\n" {
		t.Errorf("b: %q %v", b, err)
	}
	if _, err := FromMarkdown([]byte(md), "c"); err == nil {
		t.Error("c: found")
	}
}
